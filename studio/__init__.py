"""Zoetrope Studio: the PySide6 application on top of the engine (issue 6, not built yet)."""
