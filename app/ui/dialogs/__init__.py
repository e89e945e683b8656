"""Dialogs: preferences, errors and model downloads."""
