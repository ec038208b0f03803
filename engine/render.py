"""``python -m engine.render PROJECT --out FILE``: render a project's timeline to a file, headless.

The command-line face of the Director (engine/frames/director.py) and the exporter
(engine/export.py): the same code the studio's Export dialog runs. Errors are one line and exit
status 2; Ctrl+C, SIGTERM and SIGHUP stop cleanly — ffmpeg stopped, its temporary file removed,
nothing at the target path (exit 130, 143, 129). An existing file is replaced only with
``--overwrite``; a PNG sequence goes only into a folder that is new, empty or holds frames of an
earlier export. ``--out CUT.otio`` writes an OpenTimelineIO timeline with each shot rendered beside
it (engine.interchange). """

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from engine.document import RENDER_MODES, Project
from engine.document import lock as project_lock
from engine.errors import Cancelled, UserError
from engine.export import (
    FILTERS,
    FORMAT_NAMES,
    FORMATS,
    ExportSettings,
    carries_sound,
    export,
    format_for,
)
from engine.frames.director import LAYERS, MOTION_SOURCES, Director
from engine.interchange import MEDIA_FORMATS, export_timeline, media_folder
from engine.progress import Bar


def build_parser() -> argparse.ArgumentParser:
    d = ExportSettings()
    p = argparse.ArgumentParser(
        prog="python -m engine.render",
        description="Render a Zoetrope project's timeline to MP4, WebM, GIF, APNG or PNG frames.",
    )
    p.add_argument("project", help="a Name.zoetrope folder (or its project.json)")
    p.add_argument(
        "--out", required=True, help="file (.mp4 .webm .gif .apng .png) or a folder for PNG "
        "frames; .otio: an OpenTimelineIO timeline, each shot rendered beside it (--media)"
    )
    p.add_argument("--media", choices=MEDIA_FORMATS, default="mp4",
                   help="with --out CUT.otio: each shot as MP4 (default), WebM or PNG frames")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing file at --out (frames of an earlier PNG sequence "
                   "export are replaced without it)")  # fmt: skip
    p.add_argument("--format", choices=FORMATS, help="override the format the extension implies")
    p.add_argument("--fps", type=float, help="frames per second (default: the project's)")
    p.add_argument("--scale", type=float, default=d.scale,
                   help="file size ÷ the project's output size (default 1)")  # fmt: skip
    p.add_argument(
        "--mode",
        choices=RENDER_MODES,
        help="render every shot in this mode instead of the project's and shots' own: "
        "pixels (the footage's own pixels moved, sharp) or model (decoded by g, soft)",
    )
    p.add_argument(
        "--filter",
        choices=tuple(FILTERS),
        default=d.filter,
        help="scaling: nearest keeps hard pixels (default), lanczos smooths",
    )
    p.add_argument(
        "--range",
        metavar="FIRST:LAST",
        help="frames to render, inclusive, 0-based; 'in-out' uses the project's in/out range",
    )
    p.add_argument("--quality", type=int, default=d.quality, help="1…10, 10 best (default 8)")
    p.add_argument("--no-loop", dest="loop", action="store_false",
                   help="GIF / APNG play once instead of forever")  # fmt: skip
    p.add_argument("--alpha", action="store_true",
                   help="the character cut out on transparency (WebM, APNG, PNG)")  # fmt: skip
    p.add_argument("--layer", choices=[x for x in LAYERS if x != "cutout"], default=d.layer,
                   help="composite (default), background only, or character only")  # fmt: skip
    p.add_argument("--motion", choices=MOTION_SOURCES, default="tracked",
                   help="a transfer that follows its motion's turns (Turns: follow): the "
                   "turn tracked in the motion's clip (default) or the model's T^Z")  # fmt: skip
    p.add_argument("--train-predictor", action="store_true",
                   help="first (re)train the project's motion predictor on its clips, which "
                   "shots with an extended motion need (models/motion-predictor.safetensors)")
    p.add_argument("--fit-beats", metavar="SHOT", action="append", default=[],
                   help="first fit this shot (its number from 1, its id or its name; 'all': every "
                   "shot) to the soundtrack's beats, as Shot → Fit to Beats, and save the "
                   "project (repeatable)")  # fmt: skip
    p.add_argument("--holds", action="store_true",
                   help="with --fit-beats: the fit may hold frames (Fit to Beats with Holds)")
    p.add_argument("--model", help="model file to use instead of the project's")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps (default auto)")
    p.add_argument("--precision", default="auto", help="auto, fp32, bf16 (default auto)")
    p.add_argument("--progress", choices=("bar", "none"), default="bar")
    return p


def parse_range(text: str | None, project: Project) -> tuple[int, int] | None:
    if text is None:
        return None
    if text == "in-out":
        if project.play_range is None:
            raise UserError("--range in-out: the project has no in/out range set on its "
                            "timeline")  # fmt: skip
        return project.play_range
    try:
        first, last = (int(v) for v in text.split(":"))
    except ValueError:
        raise UserError(f"--range {text!r}: expected FIRST:LAST, e.g. 0:47") from None
    return first, last


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl+C (the same clean-up), with its own exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on(signum: int, frame) -> None:
    raise Stopped(signum)


def fit_beats(project: Project, director: Director, wanted: list[str], holds: bool) -> None:
    """--fit-beats: each shot named fitted to the soundtrack's beats; the project saved."""
    shots = project.shots
    chosen = []
    for w in wanted:
        found = (shots if w == "all" else
                 [shots[int(w) - 1]] if w.isdigit() and 0 < int(w) <= len(shots) else
                 [s for s in shots if w in (s.id, s.name)])  # fmt: skip
        if not found:
            raise UserError(f"--fit-beats {w}: no such shot in {project.file} (a number 1…"
                            f"{len(shots)}, an id or a name)")  # fmt: skip
        chosen += [s.id for s in found if s.id not in chosen]
    for shot_id in chosen:
        project.update_shot(shot_id, **director.beat_fit(shot_id, holds))
        shot = project.shot(shot_id)
        print(f"fitted {shot.name or shot_id} to {len(shot.beats)} beats", file=sys.stderr)
    held = project_lock.other_holder(project.root)
    if held is not None:
        print(f"note: the project is open in {held}: this save merges with what it saved, and "
              "its next save merges with this one", file=sys.stderr)  # fmt: skip
    project.save()  # merged with what another program saved since it was opened
    if project.merged:
        print(f"note: {project.merged}", file=sys.stderr)


def _say(notes: list[str]) -> None:
    for note in dict.fromkeys(notes):
        print(f"note: {note}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    progress = Bar(args.progress == "bar")
    out = Path(args.out)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop_on)
    try:
        project = Project.open(args.project)
        for note in project.notes:  # parts offline, names repaired: said, and the render goes on
            print(f"note: {note}", file=sys.stderr)
        notes: list[str] = []
        timeline = out.suffix.lower() == ".otio"
        settings = ExportSettings(
            format=args.media if timeline else format_for(out, args.format),
            range=parse_range(args.range, project),
            fps=args.fps if args.fps is not None else project.fps,
            scale=args.scale,
            filter=args.filter,
            quality=args.quality,
            loop=args.loop,
            alpha=args.alpha,
            layer=args.layer,
        )
        if project.timeline.frame_count == 0:
            raise UserError(f"{project.file}: the timeline is empty; nothing to render")
        director = Director(project, args.model, device=args.device, precision=args.precision,
                            mode=args.mode, progress=progress.layers,
                            motion=args.motion)  # fmt: skip
        if args.train_predictor:
            print(f"trained {director.train_predictor()}", file=sys.stderr)
        if args.fit_beats:
            fit_beats(project, director, args.fit_beats, args.holds)
        start = time.monotonic()
        if timeline:
            export_timeline(director, out, settings, progress, overwrite=args.overwrite,
                            notes=notes)  # fmt: skip
            progress.close()
            _say(notes)
            print(f"wrote {out} ({len(project.shots)} shots, {project.timeline.frame_count} "
                  f"frames at {project.fps:g} fps; their media in {media_folder(out)}) in "
                  f"{time.monotonic() - start:.1f} s", file=sys.stderr)  # fmt: skip
            return 0
        export(director, out, settings, progress=progress, overwrite=args.overwrite, notes=notes)
        progress.close()
        _say(notes)
    except UserError as e:
        progress.close()
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled) as e:
        progress.close()
        signum = e.signum if isinstance(e, Stopped) else signal.SIGINT
        what = (
            "interrupted"
            if signum == signal.SIGINT
            else f"stopped by {signal.Signals(signum).name}"
        )
        print(f"{what}; nothing written to {out}", file=sys.stderr)
        return 128 + signum
    first, stop = settings.span(project.timeline.frame_count)
    w, h = settings.padded_size(director.size)
    sound = ""
    if project.soundtrack is not None and not any("soundtrack" in n for n in notes):
        sound = ", with sound" if carries_sound(settings) else ""
    print(
        f"wrote {out} ({stop - first} frames, {w}×{h} px, {director.mode_summary()}, "
        f"{settings.fps:g} fps{sound}) in {time.monotonic() - start:.1f} s with "
        f"{director.model_path}",
        file=sys.stderr,
    )
    if project.soundtrack is not None and not carries_sound(settings):
        kind = FORMAT_NAMES[settings.format]
        print(f"note: {kind} carries no sound; the soundtrack is not in {out} (export MP4 or "
              "WebM for the film with its sound)", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
