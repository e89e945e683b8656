"""The Qt (PySide6) desktop app: the only layer that imports Qt. The main window arrives with the app issue."""
