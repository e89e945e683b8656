"""The icon files: packaging/make_icons.py reproduces the committed ones, the ICNS holds every size macOS
asks for as valid PNGs, and the menu-bar template is black on transparent at 18 and 36 pixels."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _load_make_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_icons = _load_make_icons()
COMMITTED = make_icons.output_files(ROOT)


def rgba(png: bytes) -> np.ndarray:
    """Straight (not premultiplied) RGBA pixels, height x width x 4."""
    image = QImage.fromData(png, "PNG")
    assert not image.isNull()
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = raw.reshape(image.height(), image.bytesPerLine())[:, : 4 * image.width()]
    return rows.reshape(image.height(), image.width(), 4).copy()  # the QImage owns that memory


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh run of the script, in its own process (it makes a QGuiApplication, which must not be the
    one the Qt widget tests get)."""
    root = tmp_path_factory.mktemp("icons")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "make_icons.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return make_icons.output_files(root)


def _assert_same_pixels(a: bytes, b: bytes) -> None:
    left, right = rgba(a), rgba(b)
    assert left.shape == right.shape
    # Byte-identical on one machine; another CPU's antialiasing may differ by a rounding step.
    assert int(np.abs(left.astype(np.int16) - right.astype(np.int16)).max()) <= 2


@pytest.mark.parametrize("role", ["master", "template", "template@2x", "linux"])
def test_the_script_reproduces_the_committed_pngs(regenerated: dict[str, Path], role: str) -> None:
    _assert_same_pixels(COMMITTED[role].read_bytes(), regenerated[role].read_bytes())


def test_the_script_reproduces_the_committed_icns(regenerated: dict[str, Path]) -> None:
    committed = make_icons.read_icns(COMMITTED["icns"].read_bytes())
    fresh = make_icons.read_icns(regenerated["icns"].read_bytes())
    assert [kind for kind, _ in committed] == [kind for kind, _ in fresh]
    for (_, old), (_, new) in zip(committed, fresh, strict=True):
        _assert_same_pixels(old, new)


def test_the_icns_holds_every_size_as_a_png() -> None:
    data = COMMITTED["icns"].read_bytes()
    assert data[:4] == b"icns" and int.from_bytes(data[4:8], "big") == len(data)
    elements = make_icons.read_icns(data)
    expected = {
        b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512,
        b"ic10": 1024, b"ic11": 32, b"ic12": 64, b"ic13": 256, b"ic14": 512,
    }  # fmt: skip
    assert {kind: make_icons.png_size(png) for kind, png in elements} == {
        k: (s, s) for k, s in expected.items()
    }
    for _, png in elements:
        pixels = rgba(png)
        assert pixels[0, 0, 3] == 0  # the corners of the rounded square are transparent
        middle = pixels.shape[0] // 2
        assert pixels[middle, :, 3].max() == 255


def test_the_master_is_1024_with_transparent_margins_and_an_opaque_square() -> None:
    pixels = rgba(COMMITTED["master"].read_bytes())
    assert pixels.shape == (1024, 1024, 4)
    alpha = pixels[:, :, 3]
    assert alpha[:40, :].max() == 0 and alpha[:, :40].max() == 0  # the margin of Apple's icon grid
    assert alpha[300:700, 300:700].min() == 255
    assert len({tuple(p) for p in pixels[512, 100:900:50, :3]}) > 3  # a gradient and a wave, not a flat fill


@pytest.mark.parametrize(("role", "size"), [("template", 18), ("template@2x", 36)])
def test_the_menu_bar_template_is_black_on_transparent(role: str, size: int) -> None:
    pixels = rgba(COMMITTED[role].read_bytes())
    assert pixels.shape == (size, size, 4)
    visible = pixels[:, :, 3] > 0
    assert 0.1 < visible.mean() < 0.6  # the bars, not an empty or a filled square
    assert pixels[visible][:, :3].max() == 0  # macOS reads a template for its alpha alone
    assert not visible[0, :].any() and not visible[:, 0].any()


def test_the_template_names_let_appkit_pick_the_retina_one() -> None:
    assert COMMITTED["template"].name == "TimbreMenuTemplate.png"
    assert COMMITTED["template@2x"].name == "TimbreMenuTemplate@2x.png"
    assert COMMITTED["template"].parent == COMMITTED["template@2x"].parent


def test_the_linux_icon_is_256() -> None:
    assert make_icons.png_size(COMMITTED["linux"].read_bytes()) == (256, 256)


def test_icns_round_trip_and_malformed_files() -> None:
    png = COMMITTED["template"].read_bytes()
    data = make_icons.write_icns([(b"icp4", png), (b"ic11", png)])
    assert len(data) == 8 + 2 * (8 + len(png))
    assert make_icons.read_icns(data) == [(b"icp4", png), (b"ic11", png)]
    with pytest.raises(ValueError, match="not an ICNS"):
        make_icons.read_icns(b"PNG!" + data[4:])
    with pytest.raises(ValueError, match="says"):
        make_icons.read_icns(data[:-1])
    broken = bytearray(data)
    broken[12:16] = (4).to_bytes(4, "big")  # an element shorter than its own header
    with pytest.raises(ValueError, match="bad length"):
        make_icons.read_icns(bytes(broken))
    with pytest.raises(ValueError, match="not a PNG"):
        make_icons.png_size(b"GIF89a" + png[6:])
