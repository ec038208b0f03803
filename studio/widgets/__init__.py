"""The studio's widgets, docks and dialogs: what the user sees and touches. Each takes the
session (studio/session.py) and asks it for edits, frames and the engine client's work; none
holds a Director or does pixel math of its own."""
