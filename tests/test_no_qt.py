"""engine/ must stay importable and testable headless: it never imports Qt."""

import ast
import subprocess
import sys

from conftest import ROOT

QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "superqt", "qtpy")


def test_engine_sources_do_not_import_qt():
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in QT]
    assert not offenders, offenders


def test_importing_the_engine_loads_no_qt():
    code = (
        "import pkgutil, importlib, sys, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_window_starts_without_torch():
    """The studio's window modules load no torch: the render thread imports it after the window
    is up (launch time, docs/PERFORMANCE.md). Only the export dialog, opened once the model is
    loaded, may import it at module level."""
    code = (
        "import sys, studio.__main__, studio.window, studio.widgets.training\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
