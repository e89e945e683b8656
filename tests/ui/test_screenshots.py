"""The screenshot script still renders every view (run in its own process, as a person would run it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_script_writes_four_real_screenshots(tmp_path):
    out = tmp_path / "shots"
    proc = subprocess.run(
        [sys.executable, "-m", "app.ui.screenshots", "--out", str(out)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    darkness = {}
    for name in ("empty", "generating", "library", "dark"):
        image = QImage(str(out / f"{name}.png"))
        assert image.width() >= 1200 and image.height() >= 760, name
        gray = image.convertToFormat(QImage.Format.Format_Grayscale8)  # kept alive while read
        rows = np.frombuffer(gray.constBits(), np.uint8).reshape(gray.height(), gray.bytesPerLine())
        pixels = rows[:, : gray.width()].copy()
        assert pixels.std() > 8, f"{name}.png is nearly blank"
        darkness[name] = float(pixels.mean())
    assert darkness["dark"] < darkness["library"] - 60, darkness
