"""Render Timbre's icon files from the QPainter drawing in ``app/ui/icons.py``, with no macOS tools.

Writes, under ``resources/`` (and the Linux launcher icon under ``packaging/linux/``):

- ``Timbre.png``: the 1024x1024 master of the app icon;
- ``Timbre.icns``: every size macOS asks for, each a PNG scaled down from the master, in an ICNS
  container written here (``iconutil`` exists only on a Mac; the format is simple, see :func:`write_icns`);
- ``TimbreMenuTemplate.png`` / ``TimbreMenuTemplate@2x.png``: the menu-bar template, black on
  transparent at 18 and 36 pixels (AppKit picks the ``@2x`` file on a Retina screen by its name);
- ``packaging/linux/timbre.png``: 256x256, for the ``.desktop`` launcher's icon theme.

Run ``QT_QPA_PLATFORM=offscreen python packaging/make_icons.py`` (the script sets that itself when no
platform is chosen). The output is committed; the tests check that this script reproduces it.
"""

from __future__ import annotations

import argparse
import logging
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
MASTER_SIZE = 1024
TEMPLATE_SIZE = 18
"""Points: the tallest image the macOS menu bar shows."""
LINUX_SIZE = 256

ICNS_TYPES: tuple[tuple[bytes, int], ...] = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
    (b"ic11", 32),  # 16@2x
    (b"ic12", 64),  # 32@2x
    (b"ic13", 256),  # 128@2x
    (b"ic14", 512),  # 256@2x
)
"""The ICNS element types that hold PNG data, and the pixel size of each."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def output_files(root: Path = ROOT) -> dict[str, Path]:
    """Every file this script writes, by role."""
    return {
        "master": root / "resources" / "Timbre.png",
        "icns": root / "resources" / "Timbre.icns",
        "template": root / "resources" / "TimbreMenuTemplate.png",
        "template@2x": root / "resources" / "TimbreMenuTemplate@2x.png",
        "linux": root / "packaging" / "linux" / "timbre.png",
    }


def write_icns(images: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An ICNS file: ``b"icns"`` and the big-endian total length, then one element per image, each a
    4-byte type, a big-endian length that counts its own 8-byte header, and the PNG data."""
    body = b"".join(kind + struct.pack(">I", 8 + len(data)) + data for kind, data in images)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def read_icns(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) elements of an ICNS file; raises ``ValueError`` on a malformed one."""
    if data[:4] != b"icns" or len(data) < 8:
        raise ValueError("not an ICNS file")
    (total,) = struct.unpack(">I", data[4:8])
    if total != len(data):
        raise ValueError(f"ICNS header says {total} bytes, the file has {len(data)}")
    elements: list[tuple[bytes, bytes]] = []
    offset = 8
    while offset < total:
        if offset + 8 > total:
            raise ValueError(f"truncated element header at byte {offset}")
        kind = data[offset : offset + 4]
        (length,) = struct.unpack(">I", data[offset + 4 : offset + 8])
        if length < 8 or offset + length > total:
            raise ValueError(f"element {kind!r} at byte {offset} has a bad length {length}")
        elements.append((kind, data[offset + 8 : offset + length]))
        offset += length
    return elements


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which the format requires to come first)."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _png_bytes(image: object) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    buffer = QByteArray()
    device = QBuffer(buffer)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(device, "PNG"):  # type: ignore[attr-defined]
        raise RuntimeError("Qt could not encode a PNG")
    device.close()
    return bytes(buffer.data())


def _scaled(master: object, size: int) -> object:
    from PySide6.QtCore import Qt

    # Qt's smooth scaling averages the covered pixels when shrinking, so the small sizes stay clean.
    return master.scaled(  # type: ignore[attr-defined]
        size, size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def render() -> dict[str, bytes]:
    """The bytes of every output file, keyed like :func:`output_files`. Needs PySide6, no display."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PySide6.QtGui import QGuiApplication, QImage

    # The drawing functions are private to app.ui.icons: this script is their only other reader, and
    # rendering from them keeps one drawing for the running app and the shipped files.
    from app.ui.icons import app_pixmap, tray_pixmap

    _app = QGuiApplication.instance() or QGuiApplication(["make_icons"])
    master = app_pixmap(MASTER_SIZE).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    icns = write_icns((kind, _png_bytes(_scaled(master, size))) for kind, size in ICNS_TYPES)
    return {
        "master": _png_bytes(master),
        "icns": icns,
        "template": _png_bytes(tray_pixmap(TEMPLATE_SIZE).toImage()),
        "template@2x": _png_bytes(tray_pixmap(2 * TEMPLATE_SIZE).toImage()),
        "linux": _png_bytes(_scaled(master, LINUX_SIZE)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="write under this folder (default: the repo)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    targets = output_files(args.root)
    for role, data in render().items():
        path = targets[role]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        logger.info("wrote %s (%d bytes)", path, len(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
