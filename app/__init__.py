"""Timbre: a local voice studio for text-to-speech and voice cloning."""

__version__ = "0.1.0"
