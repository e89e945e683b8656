"""The Qt (PySide6) desktop app, the only layer that imports Qt; the main window comes with the app issue."""
