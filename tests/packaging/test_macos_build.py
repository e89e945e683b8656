"""The macOS build's other parts, checked without a Mac: the entitlements, build_macos.sh (its syntax and
what it refuses), and the CI workflow that builds and launches the app."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "build_macos.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "macos-app.yml"


def test_entitlements_allow_what_the_runtimes_and_the_microphone_need() -> None:
    with (ROOT / "packaging" / "entitlements.plist").open("rb") as handle:
        entitlements = plistlib.load(handle)
    assert entitlements == {
        "com.apple.security.cs.allow-jit": True,
        "com.apple.security.cs.allow-unsigned-executable-memory": True,
        "com.apple.security.cs.disable-library-validation": True,
        "com.apple.security.device.audio-input": True,
    }


def test_build_script_parses_and_is_executable() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert SCRIPT.stat().st_mode & 0o111
    code = [line for line in SCRIPT.read_text().splitlines() if line and not line.startswith("#")]
    assert code[0] == "set -euo pipefail"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A copy outside the checkout: were a check to fail, nothing is built here.
    return subprocess.run(
        ["bash", str(cwd / "packaging" / "build_macos.sh"), *args], capture_output=True, text=True
    )


@pytest.fixture
def checkout_copy(tmp_path: Path) -> Path:
    (tmp_path / "packaging").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "packaging" / "build_macos.sh")
    return tmp_path


def test_build_script_refuses_to_run_off_apple_silicon(checkout_copy: Path) -> None:
    result = _run(cwd=checkout_copy)
    assert result.returncode == 1
    assert "Apple Silicon Mac" in result.stderr
    assert sorted(p.name for p in checkout_copy.iterdir()) == ["packaging"]  # no venv, no build


def test_build_script_rejects_an_unknown_engine_set_and_option(checkout_copy: Path) -> None:
    result = _run("--engines", "torch", cwd=checkout_copy)
    assert result.returncode == 2 and "--engines must be mlx or none" in result.stderr
    result = _run("--sign-later", cwd=checkout_copy)
    assert result.returncode == 2 and "unknown option: --sign-later" in result.stderr


def test_build_script_help_names_the_signing_settings(checkout_copy: Path) -> None:
    result = _run("--help", cwd=checkout_copy)
    assert result.returncode == 0
    for name in ("DEVELOPER_ID", "NOTARY_PROFILE", "--engines none"):
        assert name in result.stdout


def test_build_script_signs_inside_out_then_notarises_staples_and_makes_a_dmg() -> None:
    text = SCRIPT.read_text()
    steps = [
        "setup_py2app.py py2app",
        "done <build/macho.txt",  # every binary, deepest first
        'sign "$bundle"',  # then frameworks and nested apps
        'sign "$APP"',  # then the app
        "xcrun notarytool submit build/Timbre.zip",
        'xcrun stapler staple "$APP"',
        "hdiutil create",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "codesign --force --options runtime" in text and '--entitlements "$ENTITLEMENTS"' in text


def test_workflow_builds_on_apple_silicon_launches_the_app_and_uploads_the_dmg() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["app"]
    runner = job["runs-on"]
    assert runner.startswith("macos-") and int(runner.split("-")[1]) >= 14
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "packaging/build_macos.sh" in runs
    assert "Contents/MacOS/Timbre" in runs and "--smoke" in runs
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].endswith(".dmg")
    signing = [step for step in job["steps"] if "security import" in step.get("run", "")]
    assert len(signing) == 1 and "MACOS_CERTIFICATE" in signing[0]["if"]
    assert job["env"]["DEVELOPER_ID"] == "${{ secrets.DEVELOPER_ID }}"
