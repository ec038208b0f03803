"""Where what ships with the app lives (``assets/``): the built-in model and the demo project.
Plain paths, no imports: the studio reads them before torch is loaded."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_MODEL = ROOT / "assets" / "models" / "default.safetensors"
DEMO_PROJECT = ROOT / "assets" / "demo" / "Demo.zoetrope"
DEMO_LAYERS = ROOT / "assets" / "demo" / "layers"
"""The demo clips' layers for the built-in model, one zip per LayerCache key (engine.demo
--layers): a first launch opens them instead of analysing the clips."""
