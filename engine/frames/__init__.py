"""How a shot's frame is made, read top down (docs/ARCHITECTURE.md): cache → inputs → drive →
pixels and model_render → director. Importing this package imports nothing heavy: the studio's
window reads :mod:`engine.frames.key` without torch; ``from engine.frames.director import
Director`` brings the renderers."""
