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

import dataclasses
import os
import shutil
from pathlib import Path

from engine import beats as beat_analysis
from engine.errors import UserError
from engine.export import ExportSettings, clean_stale_parts, export
from engine.fileio import atomic_write_text, temporary_path
from engine.synthesis import Cancel, Director, Progress

MEDIA_FORMATS = ("mp4", "webm", "png")  # what editors import: a file per shot, or frames
SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "png": ""}


def media_folder(out: str | os.PathLike) -> Path:
    """Where the shots of a timeline exported to ``out`` go: ``NAME_media`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_media")


def _ours(name: str) -> bool:
    return name.startswith(("shot_", "soundtrack"))


def problems(out: str | os.PathLike, settings: ExportSettings, overwrite: bool) -> list[str]:
    """Why a timeline export to ``out`` cannot go ahead; [] when it can."""
    out, found = Path(out), []
    if out.suffix.lower() != ".otio":
        found.append(f"{out.name}: a timeline file ends in .otio")
    if settings.format not in MEDIA_FORMATS:
        found.append(f"shot media {settings.format!r}: choose MP4, WebM or a PNG sequence")
    media = media_folder(out)
    if media.exists() and not media.is_dir():
        found.append(f"{media}: a file is in the way of the shots' folder")
    elif media.is_dir() and not all(_ours(f.name) for f in media.iterdir()):
        found.append(f"{media} holds files this export did not write; choose another name")
    elif not overwrite and (out.exists() or media.exists()):
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
    found = problems(out, settings, overwrite)
    project = director.project
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
        why = None if project.soundtrack is None else project._missing(
            project.soundtrack.source, "soundtrack", False)
        if why and notes is not None:
            notes.append(f"the soundtrack {project.soundtrack.source} is offline ({why}): the "
                         "timeline has no sound track")  # fmt: skip
        if project.soundtrack is not None and not why:
            sound = project.sound_path()
            kept = tmp / f"soundtrack{sound.suffix.lower()}"
            shutil.copyfile(sound, kept)
            tracks.append(_sound_track(otio, project, rate, media / kept.name, total))
        timeline = otio.schema.Timeline(name=project.name, tracks=tracks)
        timeline.global_start_time = otio.opentime.RationalTime(0, rate)
        timeline.metadata["zoetrope"] = {"project": str(project.root.resolve()), "fps": rate}
        text = otio.adapters.write_to_string(timeline, "otio_json")
        if media.is_dir():  # the earlier export's shots (problems() checked they are ours)
            shutil.rmtree(media)
        os.replace(tmp, media)
        atomic_write_text(out, text)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


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
