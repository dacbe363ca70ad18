"""Where the Settings dialog used to live: it is now the package gui/settings/ (one page per file)."""
from gui.settings.dialog import SettingsDialog

__all__ = ["SettingsDialog"]
