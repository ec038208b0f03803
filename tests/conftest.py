"""Shared fixtures: an isolated cache dir, the MNIST folder, tiny real clips and models."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("ZOETROPE_MNIST_DIR", ROOT.parent / "shared" / "data" / "mnist"))

# A model small enough that a few dozen steps take seconds on two CPU cores.
TINY = [
    "--image-size",
    "32",
    "--widths",
    "8,16",
    "--latent-channels",
    "16",
    "--res-blocks",
    "1",
    "--batch-size",
    "8",
    "--device",
    "cpu",
    "--precision",
    "fp32",
]


_TORCH_THREADS: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _torch_threads():
    """Each test starts with torch's own thread count: the studio's render thread lowers it for
    the whole process, and a training run's float sums depend on it (resume == straight run)."""
    import torch

    _TORCH_THREADS.setdefault("default", torch.get_num_threads())
    yield
    if torch.get_num_threads() != _TORCH_THREADS["default"]:
        torch.set_num_threads(_TORCH_THREADS["default"])


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ZOETROPE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    # sound plays on miniaudio's null device: silent, with a real clock, on any machine
    monkeypatch.setenv("ZOETROPE_AUDIO", "null")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.fail(f"MNIST test files not found in {MNIST_DIR} (set ZOETROPE_MNIST_DIR)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def test_digits(mnist_dir):
    from engine.data.mnist import load_mnist

    return load_mnist(mnist_dir, "test")[0][:500]


def moving_frames(digits: np.ndarray, count: int, length: int = 5, size: int = 64, seed: int = 0):
    """``count`` Moving MNIST sequences (uint8 frames) on training backgrounds."""
    from engine.data.synthetic import MovingMNIST, make_backgrounds

    gen = MovingMNIST(digits, make_backgrounds(8, "train", size), length)
    rng = np.random.default_rng(seed)
    return [gen.sequence(rng).frames for _ in range(count)]


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory, test_digits) -> Path:
    """Four real mp4 clips of moving digits (6 frames each)."""
    from engine.data.clips import write_video

    out = tmp_path_factory.mktemp("clips")
    for i, frames in enumerate(moving_frames(test_digits, 4, length=6)):
        write_video(out / f"clip_{i}.mp4", frames, fps=8)
    return out


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Path:
    """A tiny untrained model file (32², two stages): real weights through the real loader."""
    import torch

    from engine import checkpoint
    from engine.model import ModelConfig, SceneModel

    torch.manual_seed(0)
    config = ModelConfig(image_size=32, widths=(8, 16), latent_channels=16, res_blocks=1)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    return checkpoint.save(path, SceneModel(config), {"steps": 0, "note": "untrained, for tests"})


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file whose header says it is ``width`` × ``height`` (a decompression bomb, or
    a frame too large to decode, without the bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def run_module(module: str, *args: str, timeout: float = 300, cwd=ROOT, **kw):
    """Run ``python -m module`` and return its output as text, carriage returns kept (text mode
    would turn them into newlines, and so hide what a terminal shows)."""
    import subprocess

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
        **kw,
    )
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


# -- what a malformed input may do (tests/test_corpus.py, tests/test_safety.py) ------------------
def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` and what it holds (pipes by kind, not read)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = str(p.relative_to(root))
            if p.is_symlink() or not (p.is_file() or p.is_dir()):
                found[rel] = "special"
            elif p.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def run_main(main, argv: list[str], capsys) -> tuple[int, str]:
    """A command's main() in this process (torch is loaded once for the whole corpus): its exit
    status and what it printed on stderr. A traceback would be an exception raised here."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors (exit status 2)
        code = e.code
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    return code, capsys.readouterr().err


def assert_one_clear_line(err: str, names: Path | str) -> None:
    lines = [ln.rsplit("\r", 1)[-1] for ln in err.splitlines()]
    lines = [ln for ln in lines if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert str(names if isinstance(names, str) else names.name) in errors[0], errors[0]



# -- the studio --------------------------------------------------------------------------------
LOAD_S = 60_000  # ms: the first model load imports torch


@pytest.fixture
def studio_dirs(tmp_path, monkeypatch):
    """The studio's settings, recovery copies and runs in this test's own folders."""
    monkeypatch.setenv("ZOETROPE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ZOETROPE_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def make_window(qtbot, studio_dirs):
    """Real main windows; questions answered with ``answer``; closed without asking at the end."""
    from PySide6.QtWidgets import QMessageBox

    from studio.window import MainWindow

    made = []

    def make(answer=QMessageBox.StandardButton.Discard):
        w = MainWindow()
        w.ask = lambda *a, **k: answer
        w.choose = lambda title, text, choices, default: default
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        for box in list(w.messages):
            box.close()
        w.session.undo.setClean()
        w.close()
    left_behind(qtbot, made)


def left_behind(qtbot, windows) -> None:
    """Fail the test that leaves a window open, a dialog showing or a studio thread running
    once its windows closed (napari's ``make_napari_viewer`` does the same): a leak here is a
    window that will not close, or work that outlives the project it was for."""
    import threading

    import shiboken6
    from PySide6.QtWidgets import QApplication, QDockWidget

    windows = [w for w in windows if shiboken6.isValid(w)]  # (a test may have deleted one)
    open_ = [w.windowTitle() for w in windows if w.isVisible()]
    assert not open_, f"windows still open after close(): {open_}"
    engines = [w.session.engine for w in windows]
    try:
        qtbot.waitUntil(lambda: not any(e.alive for e in engines), timeout=15_000)
    except qtbot.TimeoutError:
        raise AssertionError("the engine thread still runs after its window closed") from None
    # (a floating dock is its main window's: it goes with it when the application quits)
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()
             and not isinstance(w, QDockWidget)]  # fmt: skip
    for w in shown:
        w.close()
    names = [w.windowTitle() or type(w).__name__ for w in shown]
    assert not shown, f"windows left showing: {names}"

    def studio_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("zoetrope-")]

    try:
        qtbot.waitUntil(lambda: not studio_threads(), timeout=15_000)
    except qtbot.TimeoutError:
        raise AssertionError(f"studio threads still running: {studio_threads()}") from None


def opened(qtbot, make_window, project, size=(1200, 800)):
    """A window, shown at ``size``, on ``project`` (saved first), its model loaded."""
    project.save()
    w = make_window()
    w.resize(*size)
    w.show()
    w.life.open_project(project.root)
    loaded(qtbot, w)
    return w


def loaded(qtbot, window):
    qtbot.waitUntil(
        lambda: bool(window.session.engine.ready and window.session.model_info), timeout=LOAD_S
    )


def demo(tmp_path) -> Path:
    """A copy of the demo project to change."""
    import shutil

    from engine.assets import DEMO_PROJECT

    dest = tmp_path / "Demo.zoetrope"
    shutil.copytree(DEMO_PROJECT, dest)
    return dest


def messages(window) -> str:
    return "\n".join(box.text() for box in window.messages)


def ask(qtbot, client, question, timeout: int = 60_000):
    """``question(director)`` asked on the studio's engine thread (studio.engine_client: the
    only holder of the Director) as a queued job; its answer, once it came."""
    job = client.job(lambda d, _job: question(d), "test")
    assert job is not None, "no model loaded"
    job.start()
    qtbot.waitUntil(lambda: job.outcome is not None, timeout=timeout)
    assert job.outcome == "succeeded", job.error
    return job.result
