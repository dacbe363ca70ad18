"""The Settings dialog, one page per file (gui/settings/dialog.py puts them together)."""
