"""Every command's ``--help`` prints its help and exits 0 (issue 27: ``engine.train --help``
ended in ``ValueError: unsupported format character`` — a ``%`` in a help string, which
argparse formats). The engine's and the studio's commands, and the benchmarks'."""

from __future__ import annotations

import runpy
import sys

import pytest
from conftest import ROOT

MODULES = ["engine.train", "engine.render", "engine.evaluate", "engine.evaluate_kit",
           "engine.export_onnx", "engine.capture", "engine.beats", "engine.demo",
           "engine.data.demokit", "engine.data.synthetic", "studio"]  # fmt: skip
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py"))


def _help(run, argv0: str, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", [argv0, "--help"])
    with pytest.raises(SystemExit) as e:
        run()
    out = capsys.readouterr()
    assert e.value.code in (0, None), out.err
    assert "usage:" in out.out and "Traceback" not in out.err, out.err
    return out.out


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize("module", MODULES)
def test_every_command_prints_its_help(module, monkeypatch, capsys):
    text = _help(lambda: runpy.run_module(module, run_name="__main__", alter_sys=False),
                 module, monkeypatch, capsys)  # fmt: skip
    assert "--help" in text


def test_every_command_is_in_the_list():
    """A new command module gets its --help tested: the list above is every module with a
    ``__main__`` block."""
    found = {".".join(p.relative_to(ROOT).with_suffix("").parts)
             for p in (ROOT / "engine").rglob("*.py")
             if 'if __name__ == "__main__"' in p.read_text()}  # fmt: skip
    assert found <= set(MODULES), found - set(MODULES)


@pytest.mark.slow
def test_every_benchmark_prints_its_help():
    """Run as they are run (``python bench/NAME.py``: their folder first on the path), side by
    side."""
    import subprocess

    procs = {name: subprocess.Popen([sys.executable, str(ROOT / "bench" / name), "--help"],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for name in BENCHES}  # fmt: skip
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "usage:" in out, (name, err)
