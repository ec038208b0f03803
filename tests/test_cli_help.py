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
    """Run as they are run (``python bench/NAME.py``: their folder first on the path, as
    ``__main__``), one after another in one child process (torch imported once, not 23 times:
    the suite's time)."""
    import json
    import subprocess

    driver = """
import contextlib, io, json, runpy, sys, traceback
bench, found = sys.argv[1], {}
sys.path.insert(0, bench)
for name in sys.argv[2:]:
    out, err, code = io.StringIO(), io.StringIO(), None
    sys.argv = [f"{bench}/{name}", "--help"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(f"{bench}/{name}", run_name="__main__")
        except SystemExit as e:
            code = e.code
        except BaseException:
            traceback.print_exc()
            code = "raised"
    found[name] = (code, out.getvalue(), err.getvalue())
print(json.dumps(found))
"""
    done = subprocess.run([sys.executable, "-c", driver, str(ROOT / "bench"), *BENCHES],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert sorted(found) == BENCHES
    for name, (code, out, err) in found.items():
        assert code in (0, None) and "usage:" in out and "Traceback" not in err, (name, err)
