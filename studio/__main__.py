"""``zoetrope [PROJECT]`` / ``python -m studio [PROJECT]``: the studio window.

With no project it reopens the last one; on first launch (no recent project) the demo project,
playing, with a welcome note. ``--screenshot PATH`` opens the project, waits until the viewer
shows a rendered frame, saves the whole window as a PNG and exits (README figures, tests).
torch is not imported here: the render thread loads it after the window is up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zoetrope", description="Zoetrope Studio: the window.")
    p.add_argument("project", nargs="?", help="a .zoetrope project folder to open")
    p.add_argument(
        "--screenshot",
        metavar="PNG",
        help="save the window as PNG once a rendered frame shows, then exit",
    )
    p.add_argument(
        "--size",
        default="1280x800",
        metavar="WxH",
        help="window size for --screenshot (default 1280x800)",
    )
    p.add_argument(
        "--frame",
        type=int,
        default=0,
        help="with --screenshot: the timeline frame to show (default 0)",
    )
    p.add_argument("--path-tool", action="store_true",
                   help="with --screenshot: the viewer's path tool on (the shot's path drawn)")
    p.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    # packaging/check.sh: Model → Train on Clips… in a bundle, a tiny run from the menu's dialog
    p.add_argument("--check-training", action="store_true", help=argparse.SUPPRESS)
    return p


def _timing(event: str) -> None:
    """With ZOETROPE_TIMINGS=1: when things happened (wall clock), for bench/studio.py."""
    if os.environ.get("ZOETROPE_TIMINGS"):
        print(
            json.dumps({"event": event, "time": time.time(), "torch": "torch" in sys.modules}),
            file=sys.stderr,
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check_display_libraries()
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Zoetrope Studio")
    app.setOrganizationName("Zoetrope")
    app.setApplicationDisplayName("Zoetrope Studio")
    _style(app)
    from studio import settings
    from studio.window import MainWindow

    window = MainWindow()
    if args.screenshot:
        w, _, h = args.size.partition("x")
        window.resize(int(w), int(h))
    window.show()
    app.processEvents()
    _timing("window_shown")
    window.viewer.first_frame.connect(lambda: _timing("first_frame"))
    rendered = window.session.engine.frame_ready  # (the first frame the engine rendered)
    rendered.connect(lambda *_: _timing("first_render"), Qt.ConnectionType.SingleShotConnection)
    if args.project:
        if not window.life.open_project(args.project) and args.screenshot:
            print(f"zoetrope: {window.life.open_error}", file=sys.stderr)
            return 2
    elif args.screenshot or args.check_training:
        window.life.open_demo()  # what a first launch shows
    elif not window.life.offer_recovery():
        recent = settings.recent_projects()
        if recent:
            window.life.open_project(recent[0])
        else:
            window.life.open_demo()
            window.autoplay = True
    if args.screenshot:
        window.viewer.path_button.setChecked(args.path_tool)
        return _screenshot(app, window, Path(args.screenshot), args.frame, args.timeout)
    if args.check_training:
        return _check_training(app, window, args.timeout)
    _close_on_ctrl_c(app, window)
    return app.exec()


# Debian/Ubuntu package names of the libraries whose names do not follow the soname rule
# (libNAME.so.N → libNAMEN, or libNAME-N when NAME ends in a digit).
DEBIAN_PACKAGES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgcc_s.so.1": "libgcc-s1",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libz.so.1": "zlib1g",
}


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a shared library, by Debian's naming rule."""
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    name, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    return (name + ("-" if name[-1:].isdigit() else "") + version).lower().replace("_", "-")


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries a Qt plugin needs that the system lacks (``ldd``'s "not found"),
    or [] when they are all there or ldd cannot tell."""
    import shutil
    import subprocess

    ldd = shutil.which("ldd")
    if ldd is None or not plugin.is_file():
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_ldd(out.stdout)


def parse_ldd(text: str) -> list[str]:
    found = [ln.split("=>")[0].strip() for ln in text.splitlines() if "=> not found" in ln]
    return sorted(set(found))


def display_hint(missing: list[str]) -> str:
    packages = " ".join(dict.fromkeys(debian_package(m) for m in missing))
    return (
        f"zoetrope: Qt cannot open a window on X11: the system lacks {', '.join(missing)} "
        f"(Debian/Ubuntu: sudo apt install {packages}; the README lists every package Qt needs)"
    )


def _check_display_libraries() -> None:
    """Qt 6's X11 plugin needs libraries many Linux installs lack (libxcb-cursor0,
    libxcb-icccm4, libxcb-keysyms1 …); without them Qt aborts with a cryptic message. Ask the
    dynamic linker which ones are missing and name exactly those packages first."""
    if (
        sys.platform != "linux"
        or os.environ.get("QT_QPA_PLATFORM")
        or not os.environ.get("DISPLAY")
    ):
        return
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    missing = missing_libraries(plugin)
    if missing:
        print(display_hint(missing), file=sys.stderr)


def _close_on_ctrl_c(app, window) -> None:
    """Ctrl+C in the terminal closes the window (asking about unsaved changes) instead of
    being swallowed by Qt's event loop."""
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: window.close())
    timer = QTimer(app, interval=250)  # lets Python run its signal handlers
    timer.timeout.connect(lambda: None)
    timer.start()


def _style(app) -> None:
    from PySide6.QtGui import QColor, QIcon, QPalette

    resources = Path(__file__).resolve().parents[1] / "resources"
    app.setStyle("Fusion")
    pal, role = QPalette(), QPalette.ColorRole
    for r, rgb in (
        (role.Window, (45, 47, 53)),
        (role.WindowText, (225, 227, 231)),
        (role.Base, (33, 35, 40)),
        (role.AlternateBase, (45, 47, 53)),
        (role.Text, (225, 227, 231)),
        (role.Button, (54, 57, 64)),
        (role.ButtonText, (225, 227, 231)),
        (role.Highlight, (74, 128, 190)),
        (role.HighlightedText, (255, 255, 255)),
        (role.ToolTipBase, (33, 35, 40)),
        (role.ToolTipText, (225, 227, 231)),
        (role.PlaceholderText, (130, 134, 142)),
        (role.Link, (120, 170, 230)),
    ):
        pal.setColor(r, QColor(*rgb))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor(120, 123, 130))
    app.setPalette(pal)
    sheet = resources / "studio.qss"
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text())
    icon = resources / "zoetrope.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


THUMBS_WAIT_S = 10.0


def _screenshot(app, window, out: Path, frame: int, timeout: float) -> int:
    from PySide6.QtCore import QTimer

    start = time.monotonic()
    result = {"rc": 1, "shown": None}

    def poll() -> None:
        v = window.viewer
        if window.session.timeline.frame_count > frame and window.session.playhead != frame:
            window.session.seek(frame)
            window.session.select(window.session.timeline.shot_at(frame)[0].id)
        shown = v.frame_shown and window.session.playhead == frame
        if shown and result["shown"] is None:
            result["shown"] = time.monotonic()
        # the timeline's filmstrip too, unless it takes long (a project of many shots)
        thumbs = window.timeline.strip.thumbnails_ready()
        s = window.session  # and the soundtrack's lane: its waveform and beats
        thumbs &= s.project is None or s.project.soundtrack is None or (
            s.soundtrack.peaks is not None and s.soundtrack.beats is not None)  # fmt: skip
        if shown and (thumbs or time.monotonic() - result["shown"] > THUMBS_WAIT_S):
            app.processEvents()
            out.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(out))
            result["rc"] = 0 if ok else 1
            if not ok:
                print(f"zoetrope: cannot write {out}", file=sys.stderr)
            window.session.undo.setClean()
            window.close()
            app.quit()
        elif time.monotonic() - start > timeout:
            print("zoetrope: no rendered frame to capture in time", file=sys.stderr)
            window.session.undo.setClean()
            window.close()
            app.quit()
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)
    app.exec()
    return result["rc"]


TINY_RUN = "--widths 8,16 --latent-channels 16 --res-blocks 1 --batch-size 4 --log-every 1"


def _check_training(app, window, timeout: float) -> int:
    """Model → Train on Clips… as a user runs it, on the demo's clips: a 3-step run of a tiny
    model from scratch through the dialog (its child process is ``sys.executable -m
    engine.train``: in a bundle, the bundle itself). Prints the dialog's last event; 0 when the
    run finished and wrote its model."""
    from PySide6.QtCore import QTimer

    start = time.monotonic()
    state = {"dialog": None, "rc": 1}

    def done(rc: int, text: str) -> None:
        print(text, file=sys.stderr)
        state["rc"] = rc
        window.session.undo.setClean()
        if state["dialog"] is not None:
            state["dialog"].close()
        window.close()
        app.quit()

    def poll() -> None:
        d, s = state["dialog"], window.session
        if time.monotonic() - start > timeout:
            return done(1, "zoetrope: training did not finish in time")
        if d is None and s.engine.ready and s.model_info:
            d = state["dialog"] = window.commands.train_dialog()
            d.steps.setValue(3)
            d.start_from.setChecked(False)
            d.image_size.setCurrentIndex(d.image_size.findData(32))
            d.device.setCurrentIndex(d.device.findData("cpu"))
            d.extra.setText(TINY_RUN)
            d.start_button.click()
        elif d is not None and not d.running:
            final = d.final or {}
            ok = final.get("reason") == "finished" and Path(d.model_path or "").is_file()
            return done(0 if ok else 1, json.dumps({"final": final, "status": d.status.text()}))
        QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    app.exec()
    return state["rc"]


if __name__ == "__main__":
    raise SystemExit(main())
