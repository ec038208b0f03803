"""Zoetrope Studio: the PySide6 application on top of the engine (docs/STUDIO.md). It does no
tensor or pixel math of its own: every edit, render and export calls engine/."""
