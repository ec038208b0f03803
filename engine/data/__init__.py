"""Clip reading, frame cache, pair sampling and synthetic generators."""
