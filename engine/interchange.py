"""The timeline for other editors: OpenTimelineIO (``.otio``) with each shot rendered beside it.

``export_timeline`` renders every shot to its own media file (MP4 or WebM) or PNG sequence in a
folder beside the ``.otio`` (``Cut.otio`` → ``Cut_media/shot_001.mp4`` …), copies the soundtrack
there, and writes a timeline with one video track (a clip per shot: its name, its range at the
project's frame rate, its media) and, with a soundtrack, an audio track placed at its offset. The
soundtrack's beats, where they were analysed, are markers. Resolve, Premiere (through OTIO's
adapters), Kdenlive and OTIO's own ``otioview`` read it, so an editor can take the cut further.

Media URLs are absolute ``file://`` URLs (what editors' importers resolve); the shot's id and what
it shows are in each clip's ``metadata["zoetrope"]``. Like every export, nothing is replaced
unless asked: media is written to a temporary folder and put in place, with the ``.otio``, only
when every shot has rendered; a cancel or an error leaves what was there before.

Command line: ``python -m engine.render PROJECT --out Cut.otio [--media mp4|webm|png]``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import stat
from pathlib import Path

from engine import beats as beat_analysis
from engine.errors import UserError
from engine.export import ExportSettings, clean_stale_parts, export
from engine.fileio import atomic_write_text, parse_json, temporary_path
from engine.frames.director import Director
from engine.progress import Cancel, Progress

MEDIA_FORMATS = ("mp4", "webm", "png")  # what editors import: a file per shot, or frames
SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "png": ""}


def media_folder(out: str | os.PathLike) -> Path:
    """Where the shots of a timeline exported to ``out`` go: ``NAME_media`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_media")


MANIFEST = ".zoetrope-export.json"
"""In the shots' folder: every file an export wrote there, with its size and time — what the
next export may replace (and only while unchanged). A user's own ``shot_list_notes.txt`` or
``soundtrack_MASTER_final.wav`` beside them is never touched."""


def media_names(project, settings: ExportSettings) -> list[str]:
    """The names an export of ``project`` writes into its shots' folder."""
    names = [f"shot_{n + 1:03d}{SUFFIXES.get(settings.format, '')}"
             for n in range(len(project.shots))]  # fmt: skip
    s = project.soundtrack
    if s is not None and not project.sound_offline():
        names.append(f"soundtrack{Path(s.source).suffix.lower()}")
    return names


def _written(media: Path) -> dict[str, tuple[int, int]]:
    """What the manifest says an earlier export wrote: relative path → (size, time); {} for no
    manifest or a damaged one (then nothing is provably ours)."""
    try:
        doc = parse_json((media / MANIFEST).read_bytes())
        files = doc["files"] if isinstance(doc, dict) else None
    except (OSError, ValueError, KeyError):
        return {}
    found = {}
    for rel, stamp in files.items() if isinstance(files, dict) else ():
        parts = Path(rel).parts
        if (isinstance(stamp, list) and len(stamp) == 2 and all(type(v) is int for v in stamp)
                and parts and ".." not in parts and not Path(rel).is_absolute()):  # fmt: skip
            found[rel] = (stamp[0], stamp[1])
    return found


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _files(path: Path) -> list[Path]:
    """``path`` itself, or every file and link under a folder (links not followed)."""
    if path.is_dir() and not path.is_symlink():
        return sorted(p for p in path.rglob("*") if not p.is_dir() or p.is_symlink())
    return [path]


def _foreign(media: Path, name: str, written: dict) -> list[Path]:
    """The files at ``media/name`` that the manifest cannot prove an export wrote: not in it,
    or changed since."""
    return [f for f in _files(media / name)
            if _stamp(f) is None or written.get(f.relative_to(media).as_posix()) != _stamp(f)]


def problems(out: str | os.PathLike, settings: ExportSettings, overwrite: bool,
             names: list[str] | None = None) -> list[str]:  # fmt: skip
    """Why a timeline export to ``out`` cannot go ahead; [] when it can. ``names``: what it
    writes in the shots' folder (:func:`media_names`); each one there already must be an
    earlier export's, unchanged (the manifest proves it), and is replaced only with
    ``overwrite``; anything else in the folder stays as it is."""
    out, found = Path(out), []
    if out.suffix.lower() != ".otio":
        found.append(f"{out.name}: a timeline file ends in .otio")
    if settings.format not in MEDIA_FORMATS:
        found.append(f"shot media {settings.format!r}: choose MP4, WebM or a PNG sequence")
    media = media_folder(out)
    exists = out.exists()
    if media.exists() and not media.is_dir():
        found.append(f"{media}: a file is in the way of the shots' folder")
    elif media.is_dir():
        written = _written(media)
        for name in names or []:
            if not (media / name).exists() and not (media / name).is_symlink():
                continue
            foreign = _foreign(media, name, written)
            if foreign:
                found.append(f"{foreign[0]}: this export would replace it, but did not write it "
                             f"(not in {MANIFEST}, or changed since); choose another name, or "
                             "move it away")  # fmt: skip
            exists = True
    if not overwrite and exists and not found:
        found.append(f"{out.name} already exists; choose another name or allow replacing it")
    return found


def export_timeline(
    director: Director,
    out: str | os.PathLike,
    settings: ExportSettings,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    overwrite: bool = False,
    notes: list[str] | None = None,
) -> Path:
    """Render each shot of the director's timeline beside ``out`` and write ``out`` (.otio).
    ``settings`` gives the media's format, scale, filter, quality, layer and alpha; its range
    and fps are the project's (a cut keeps its timing). Returns the ``.otio`` path."""
    import opentimelineio as otio  # imported here: only this export needs it

    out = Path(out).absolute()
    project = director.project
    names = media_names(project, settings)
    found = problems(out, settings, overwrite, names)
    t = project.timeline
    if not t.frame_count:
        found.append("the timeline is empty: add a shot first")
    if found:
        raise UserError("cannot export the timeline: " + "; ".join(found))
    media = media_folder(out)
    clean_stale_parts(media)
    tmp = temporary_path(media, ".part")
    tmp.mkdir(parents=True)
    rate = float(project.fps)
    total, done = t.frame_count, 0
    video = otio.schema.Track(name="Shots", kind=otio.schema.TrackKind.Video)
    try:
        for n, (shot, start) in enumerate(zip(t.shots, t.starts[: len(t.shots)], strict=True)):
            name = f"shot_{n + 1:03d}{SUFFIXES[settings.format]}"
            each = dataclasses.replace(settings, range=(start, start + shot.duration - 1),
                                       fps=rate)  # fmt: skip
            report = None if progress is None else lambda d, _, base=done: progress(base + d, total)
            export(director, tmp / name, each, report, cancel, overwrite=True, sound=False,
                   notes=notes)  # fmt: skip
            done += shot.duration
            video.append(_clip(otio, shot, n, start, rate, media / name, settings.format))
        tracks = [video]
        why = project.sound_offline()
        if why and notes is not None:
            notes.append(f"the soundtrack {project.soundtrack.source} is offline ({why}): the "
                         "timeline has no sound track")  # fmt: skip
        if project.soundtrack is not None and not why:
            sound = project.sound_path()
            kept = tmp / f"soundtrack{Path(project.soundtrack.source).suffix.lower()}"
            shutil.copyfile(sound, kept)
            tracks.append(_sound_track(otio, project, rate, media / kept.name, total))
        timeline = otio.schema.Timeline(name=project.name, tracks=tracks)
        timeline.global_start_time = otio.opentime.RationalTime(0, rate)
        timeline.metadata["zoetrope"] = {"project": str(project.root.resolve()), "fps": rate}
        text = otio.adapters.write_to_string(timeline, "otio_json")
        found = problems(out, settings, overwrite, names)  # the folder may have changed
        if found:
            raise UserError("cannot export the timeline: " + "; ".join(found))
        _put_in_place(tmp, media, names)
        atomic_write_text(out, text)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _put_in_place(tmp: Path, media: Path, names: list[str]) -> None:
    """Move the new shots from ``tmp`` into ``media``, replacing what an earlier export wrote
    there under those names and removing its files the new export no longer has — each only
    while it is as that export left it. The manifest is written first with old and new, so a
    kill midway leaves nothing that cannot be proven ours."""
    media.mkdir(exist_ok=True)
    old = _written(media)
    new = {f.relative_to(tmp).as_posix(): _stamp(f) for name in names for f in _files(tmp / name)}
    ours = {rel: stamp for rel, stamp in old.items() if _stamp(media / rel) == stamp}
    _write_manifest(media, {**ours, **new})
    for name in names:
        target = media / name
        for f in _files(target) if target.exists() or target.is_symlink() else []:
            if ours.get(f.relative_to(media).as_posix()) == _stamp(f):
                f.unlink()
        if target.is_dir() and not target.is_symlink():
            _remove_empty(target)
        if target.exists():  # (problems() refused anything of the user's; looked at again)
            raise UserError(f"{target}: holds files this export did not write")
        os.replace(tmp / name, target)
    for rel in set(ours) - set(new):  # an earlier export's shots this one no longer has
        f = media / rel
        if _stamp(f) == ours[rel]:
            f.unlink()
            if f.parent != media:
                _remove_empty(f.parent)
    _write_manifest(media, new)
    shutil.rmtree(tmp, ignore_errors=True)


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for sub in sorted(folder.rglob("*"), reverse=True):
            if sub.is_dir() and not sub.is_symlink():
                sub.rmdir()
        folder.rmdir()


def _write_manifest(media: Path, files: dict) -> None:
    doc = {"format": "zoetrope-timeline-media", "version": 1,
           "files": {rel: list(stamp) for rel, stamp in sorted(files.items())}}  # fmt: skip
    atomic_write_text(media / MANIFEST, json.dumps(doc, indent=1))


def _range(otio, start: float, duration: float, rate: float):
    rt = otio.opentime.RationalTime
    return otio.opentime.TimeRange(rt(start, rate), rt(duration, rate))


def _clip(otio, shot, index: int, start: int, rate: float, path: Path, fmt: str):
    """A clip for one shot: its frames as rendered, the whole of them used."""
    if fmt == "png":  # engine.export names frames frame_NNNNN.png by timeline frame
        ref = otio.schema.ImageSequenceReference(
            target_url_base=path.as_uri() + "/", name_prefix="frame_", name_suffix=".png",
            start_frame=start, frame_step=1, rate=rate, frame_zero_padding=5,
            available_range=_range(otio, start, shot.duration, rate))  # fmt: skip
        used = _range(otio, start, shot.duration, rate)
    else:
        ref = otio.schema.ExternalReference(
            target_url=path.as_uri(), available_range=_range(otio, 0, shot.duration, rate)
        )
        used = _range(otio, 0, shot.duration, rate)
    clip = otio.schema.Clip(name=shot.name or f"Shot {index + 1}", media_reference=ref,
                            source_range=used)  # fmt: skip
    clip.metadata["zoetrope"] = {
        "shot": shot.id,
        "timeline_start": start,
        **{k: dataclasses.asdict(getattr(shot, k)) for k in ("character", "background", "motion")},
    }
    return clip


def _sound_track(otio, project, rate: float, path: Path, frames: int):
    """The soundtrack under the shots: after a gap when it starts late, cut where the timeline
    starts into it, never past the last shot; its analysed beats as markers."""
    s = project.soundtrack
    lead = max(0.0, s.offset) * rate  # frames of silence before it
    into = max(0.0, -s.offset) * rate  # frames of the sound before the timeline starts
    length = min(s.seconds * rate - into, frames - lead)
    track = otio.schema.Track(name="Soundtrack", kind=otio.schema.TrackKind.Audio)
    if length <= 0:
        return track
    if lead > 0:
        track.append(otio.schema.Gap(source_range=_range(otio, 0, round(lead), rate)))
    ref = otio.schema.ExternalReference(
        target_url=path.as_uri(), available_range=_range(otio, 0, s.seconds * rate, rate)
    )
    clip = otio.schema.Clip(name=s.name, media_reference=ref,
                            source_range=_range(otio, into, length, rate))  # fmt: skip
    track.append(clip)
    found = beat_analysis.cached(project.sound_path())
    for frame in () if found is None else found.beat_frames(s.offset, rate, frames):
        track.markers.append(otio.schema.Marker(
            name="beat", marked_range=_range(otio, int(frame), 0, rate),
            color=otio.schema.MarkerColor.YELLOW))  # fmt: skip
    return track
