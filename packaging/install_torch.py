"""Install PyTorch and a torchaudio that imports, before Timbre's torch engines (`make engines`).

Why this exists: qwen-tts imports ``torchaudio.compliance.kaldi`` at import time and coqui-tts needs
``torchaudio`` installed. On most machines the index's torchaudio matches torch and this script only
installs it. Where it does not (Linux with the CPU build of torch 2.13: the newest torchaudio on the
index is a CUDA build for another torch, whose native library fails to load, and no CPU build exists),
the script rebuilds that same official wheel without its native libraries, as
``torchaudio==<version>+pyonly``. torchaudio is made to run without them (``_load_lib`` skips a missing
library), and everything the engines call from it (kaldi fbank, resampling, mel transforms) is pure
Python over torch. ``pip show torchaudio`` names the rebuild, so nothing is hidden.

Usage: python packaging/install_torch.py [--torch VERSION]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

logger = logging.getLogger("install_torch")

TORCH_VERSION = "2.13.0"
PYONLY = "pyonly"


def pip(*args: str) -> None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])


def imports(module: str) -> tuple[bool, str]:
    """Whether ``module`` imports in a fresh interpreter, and the error's last line when it does not."""
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else ""


def installed_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def ensure_torch(version: str) -> None:
    current = installed_version("torch")
    if current is None:
        logger.info("Installing torch==%s", version)
        pip(f"torch=={version}")
    else:
        logger.info("torch %s is installed", current)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def rebuild_pyonly(wheel: Path, out_dir: Path) -> Path:
    """The same wheel without compiled libraries, versioned ``<version>+pyonly``, tagged py3-none-any."""
    with zipfile.ZipFile(wheel) as src:
        names = src.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
        version = dist_info[len("torchaudio-") : -len(".dist-info")]
        new_version = f"{version.split('+')[0]}+{PYONLY}"
        new_info = f"torchaudio-{new_version}.dist-info"
        target = out_dir / f"torchaudio-{new_version}-py3-none-any.whl"
        records: list[str] = []
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
            for name in names:
                if name.endswith((".so", ".dylib", ".pyd", ".dll")) or name.endswith("/RECORD"):
                    continue
                data = src.read(name)
                new_name = name.replace(dist_info, new_info, 1)
                if new_name == f"{new_info}/METADATA":
                    data = data.replace(f"Version: {version}".encode(), f"Version: {new_version}".encode(), 1)
                elif new_name == f"{new_info}/WHEEL":
                    old = data.decode().splitlines()
                    lines = [ln for ln in old if not ln.startswith(("Tag:", "Root-Is"))]
                    lines += ["Root-Is-Purelib: true", "Tag: py3-none-any"]
                    data = ("\n".join(lines) + "\n").encode()
                dst.writestr(new_name, data)
                records.append(_record_line(new_name, data))
            records.append(f"{new_info}/RECORD,,")
            dst.writestr(f"{new_info}/RECORD", "\n".join(records) + "\n")
    return target


def ensure_torchaudio() -> None:
    ok, error = imports("torchaudio")
    if ok:
        logger.info("torchaudio %s imports", installed_version("torchaudio"))
        return
    if installed_version("torchaudio") is None:
        pip("torchaudio", "--no-deps")
        ok, error = imports("torchaudio")
        if ok:
            logger.info("torchaudio %s installed", installed_version("torchaudio"))
            return
    logger.warning(
        "torchaudio %s does not load with this torch (%s); installing it without its native libraries",
        installed_version("torchaudio"),
        error,
    )
    with tempfile.TemporaryDirectory() as tmp:
        version = (installed_version("torchaudio") or "").split("+")[0]
        spec = f"torchaudio=={version}" if version else "torchaudio"
        subprocess.check_call(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, spec]
        )
        wheel = next(Path(tmp).glob("torchaudio-*.whl"))
        rebuilt = rebuild_pyonly(wheel, Path(tmp))
        pip("--no-deps", "--force-reinstall", str(rebuilt))
    ok, error = imports("torchaudio.compliance.kaldi")
    if not ok:
        raise SystemExit(f"torchaudio still does not import: {error}")
    logger.info("Installed torchaudio %s", installed_version("torchaudio"))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", default=TORCH_VERSION, help="the torch version to install if none is")
    args = parser.parse_args()
    ensure_torch(args.torch)
    ensure_torchaudio()


if __name__ == "__main__":
    main()
