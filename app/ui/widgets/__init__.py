"""Reusable widgets of the main window: each one a panel with one job, driven by services passed in."""
