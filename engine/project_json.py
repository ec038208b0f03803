"""The project file's JSON (docs/PROJECT_FORMAT.md): writing it, reading it back with every
field checked and named in the error, and migrating older schema versions forward.

Data path role: the document on disk. :class:`~engine.document.Project` calls in here to open
and save; its folder and its edits live there. Nothing here touches media or models: a clip's
or a model's file is only checked to be in the folder.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from engine.document import (
    MAX_CLIP_FRAMES,
    MAX_CLIP_SIDE,
    MAX_CLIPS,
    MAX_PATH_KEYS,
    MAX_SHOT_FRAMES,
    MAX_SHOTS,
    MAX_TEXT,
    PROJECT_FILE,
    SCHEMA_VERSION,
    Clip,
    FrameRef,
    Key,
    MotionRef,
    Project,
    ProjectError,
    Shot,
    Soundtrack,
    _check_fps,
    _check_mode,
    _check_size,
    _check_sound,
)
from engine.fileio import parse_json
from engine.text import readable, repair_text

MAX_FILE_BYTES = 256 * 2**20
"""project.json: 50,000 shots take about 20 MB."""


def _json_kind(value: Any) -> str:
    kinds = {list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else "an object")


def _clip_to_json(c: Clip) -> dict:
    return dataclasses.asdict(c)


def _shot_to_json(s: Shot) -> dict:
    return {
        "id": s.id,
        "name": s.name,
        "character": {"clip": s.character.clip, "frame": s.character.frame},
        "background": {"clip": s.background.clip, "frame": s.background.frame},
        "motion": {"clip": s.motion.clip, "in": s.motion.start, "out": s.motion.end},
        "duration": s.duration,
        "retime": {"speed": s.speed, "hold": s.hold},
        "loop": s.loop,
        "offset": s.offset,
        "endless": {"seed": s.seed, "jumps": s.jumps, "edge": s.edge},
        "extend": None if not s.extend else {
            "frames": s.extend, "take": s.take,
            "target": None if s.target is None else list(s.target)},
        "path": [dataclasses.asdict(k) for k in s.path] or None,
        "beat_fit": None if not s.beats else {
            "beats": list(s.beats), "steps": list(s.timing) or None},
        "render": s.render,
        "pose": s.pose,
    }  # fmt: skip


_ABSENT = object()


class _Reader:
    """Typed access to parsed JSON that names the field when something is wrong."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.notes: list[str] = []
        """What was repaired on reading (a name cut to length, a character that is not text):
        the project opens, and says so."""

    def fail(self, where: str, why: str) -> ProjectError:
        return ProjectError(f"{self.file}: {where}: {why}" if where else f"{self.file}: {why}")

    def get(self, obj: Any, key: str, where: str, kind: type | tuple, default: Any = ...) -> Any:
        # the common case first, cheaply (a project of 50,000 shots makes a million calls):
        # exactly the type asked for (so no bool posing as an int), a short text or an int
        value = obj.get(key, _ABSENT) if type(obj) is dict else _ABSENT
        if type(value) is kind and (
            kind is int or (kind is str and len(value) <= MAX_TEXT and value.isascii())
        ):
            return value
        if not isinstance(obj, dict):
            got = _json_kind(obj)
            if not where:
                raise self.fail("", f"not a project: expected a JSON object, got {got}")
            raise self.fail(where, f"expected an object, got {got}")
        if key not in obj:
            if default is not ...:
                return default
            raise self.fail(f"{where}.{key}" if where else key, "missing")
        value = obj[key]
        name = f"{where}.{key}" if where else key
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {kinds[0].__name__}, got {json.dumps(value)}")
        if float in kinds and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {kinds[0].__name__}, got {json.dumps(value)[:40]}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(name, "not a finite number")
        if isinstance(value, str):
            return self._text(value, key, name)
        return value

    def _text(self, value: str, key: str, name: str) -> str:
        """Text by the edits' rules (engine.document.check_text): a name too long is cut, a
        character that is not text (a lone surrogate) replaced — said in ``notes``; an id or a
        setting too long is a damaged file."""
        if len(value) > MAX_TEXT and key not in ("source", "name"):
            raise self.fail(name, f"longer than {MAX_TEXT} characters")
        fixed = repair_text(value, MAX_TEXT if key == "name" else None)
        if fixed != value:
            why = "cut to" if len(value) > MAX_TEXT and key == "name" else "repaired:"
            what = f"{MAX_TEXT:,} characters" if why == "cut to" else "a character that is not text"
            self.notes.append(f"{self.file}: {name}: {why} {what}")
        return fixed

    def count(self, items: list, where: str, most: int) -> list:
        if len(items) > most:
            raise self.fail(where, f"{len(items)} entries; a project holds at most {most:,}")
        return items


def _migrate_1_to_2(doc: dict) -> dict:
    """Schema 1 (the first draft): clips and shots at the top level, clips named rather than
    identified, shots as lists, ``hold`` and a boolean ``loop`` on the shot, no ids."""
    shots = doc.get("shots", [])
    if "timeline" in doc or any(
        isinstance(s, dict) and isinstance(s.get("character"), dict) for s in shots
    ):
        # read as version 1 it would open as an empty timeline: the label is wrong, not the body
        raise ValueError(
            "the document says schema_version 1 but is laid out like a later version (a "
            "'timeline', shot references as objects); its schema_version is wrong"
        )
    clips, ids = [], {}
    for i, c in enumerate(doc.get("clips", [])):
        cid = f"c{i + 1}"
        ids[c.get("name")] = cid
        clips.append({"id": cid, **c})
    shots = []
    for i, s in enumerate(doc.get("shots", [])):
        (cc, cf), (bc, bf), (mc, mi, mo) = s["character"], s["background"], s["motion"]
        shots.append(
            {
                "id": f"s{i + 1}",
                "name": s.get("name", ""),
                "character": {"clip": ids.get(cc, cc), "frame": cf},
                "background": {"clip": ids.get(bc, bc), "frame": bf},
                "motion": {"clip": ids.get(mc, mc), "in": mi, "out": mo},
                "duration": s["duration"],
                "retime": {"speed": 1.0, "hold": s.get("hold", 1)},
                "loop": "loop" if s.get("loop") else "once",
            }
        )
    return {
        "schema_version": 2,
        "name": doc.get("name", ""),
        "model": doc.get("model"),
        "clips": clips,
        "timeline": {"fps": doc.get("fps", 24), "shots": shots, "range": None},
    }


def _migrate_2_to_3(doc: dict) -> dict:
    """Schema 3 adds the output settings (size, render mode) and a shot's render mode. A project
    made before the pixels renderer opens in it: the sharp one, which is what the footage is."""
    return {**doc, "schema_version": 3, "output": {"size": None, "mode": "pixels"}}


def _migrate_3_to_4(doc: dict) -> dict:
    """Schema 4 adds endless loops, extended motion and motion paths to a shot; a version-3
    shot has none of them (its ``path`` was always null)."""
    return {**doc, "schema_version": 4}


def _migrate_4_to_5(doc: dict) -> dict:
    """Schema 5 adds the project's soundtrack: a version-4 project has none."""
    return {**doc, "schema_version": 5, "soundtrack": None}


def _migrate_5_to_6(doc: dict) -> dict:
    """Schema 6 adds a shot's fit to the soundtrack's beats (``beat_fit``): none was fitted."""
    return {**doc, "schema_version": 6}


MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
              5: _migrate_5_to_6}  # fmt: skip
"""schema_version n → the function that turns a version-n document into version n + 1."""


def read(file: Path, root: Path) -> Any:
    """The parsed JSON of a project file; a file too large, unreadable, not UTF-8 or not JSON
    (cut off, damaged) is a ProjectError naming it and why."""
    return parse(read_bytes(file, root), file)


def read_bytes(file: Path, root: Path) -> bytes:
    """A project file's bytes (a file too large or unreadable: a ProjectError)."""
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ProjectError(
                f"{file}: {file.stat().st_size / 2**20:.0f} MB is too large for a project "
                f"file (at most {MAX_FILE_BYTES >> 20} MB)"
            )
        return file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{root}: not a Zoetrope project (no {PROJECT_FILE})") from None
    except OSError as e:
        raise ProjectError(f"{file}: cannot read ({e.strerror})") from None


def parse(raw: bytes, file: Path) -> Any:
    """The JSON of a project file's bytes; not UTF-8, not JSON: a ProjectError naming it."""
    try:
        doc = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProjectError(f"{file}: damaged (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        # cut off at the end, or inside a string that the end cuts off
        truncated = e.pos >= len(raw.rstrip()) or e.msg.startswith("Unterminated string")
        why = "truncated" if truncated else f"not valid JSON at line {e.lineno}"
        raise ProjectError(f"{file}: damaged ({why}: {e.msg})") from None
    except ValueError as e:
        raise ProjectError(f"{file}: damaged ({e})") from None
    return doc


def from_json(doc: Any, root: Path) -> Project:
    r = _Reader(root / PROJECT_FILE)
    version = r.get(doc, "schema_version", "", int)
    if version > SCHEMA_VERSION:
        raise r.fail(
            "schema_version",
            f"{version} is from a newer Zoetrope (this one reads up to {SCHEMA_VERSION}); "
            "please update",
        )
    if version < 1:
        raise r.fail("schema_version", f"{version} is not a valid version")
    try:
        while version < SCHEMA_VERSION:
            doc = MIGRATIONS[version](doc)
            version += 1
    except ValueError as e:
        raise r.fail("schema_version", str(e)) from None
    except (KeyError, TypeError, AttributeError) as e:
        why = f"cannot upgrade from version {version} ({e!r})"
        raise r.fail("schema_version", why) from None
    project = Project(root=root, name=r.get(doc, "name", "", str, "") or readable(root.stem))
    model = r.get(doc, "model", "", (str, type(None)), None)
    timeline = r.get(doc, "timeline", "", dict)
    project.fps = r.get(timeline, "fps", "timeline", float)
    for i, c in enumerate(r.count(r.get(doc, "clips", "", list), "clips", MAX_CLIPS)):
        clip = _read_clip(project, r, c, f"clips[{i}]")
        if clip.id in project.clips:
            raise r.fail(f"clips[{i}].id", f"{clip.id!r} is used twice")
        project.clips[clip.id] = clip
    shots = r.count(r.get(timeline, "shots", "timeline", list), "timeline.shots", MAX_SHOTS)
    for i, s in enumerate(shots):
        project.shots.append(_read_shot(r, s, f"timeline.shots[{i}]"))
    if len({s.id for s in project.shots}) != len(project.shots):
        raise r.fail("timeline.shots", "two shots share an id")
    rng = r.get(timeline, "range", "timeline", (list, type(None)), None)
    output = r.get(doc, "output", "", dict, {})
    size = r.get(output, "size", "output", (list, type(None)), None)
    mode = r.get(output, "mode", "output", str, "pixels")
    sound = r.get(doc, "soundtrack", "", (dict, type(None)), None)
    if sound is not None:
        sound = Soundtrack(
            source=r.get(sound, "source", "soundtrack", str),
            name=r.get(sound, "name", "soundtrack", str, ""),
            seconds=r.get(sound, "seconds", "soundtrack", float),
            offset=r.get(sound, "offset", "soundtrack", float, 0.0),
        )
    try:
        project.fps = _check_fps(project.fps)
        for shot in project.shots:
            project._check_shot(shot)
        project._check_length(0)
        project.range = None if rng is None else project._check_range(rng)
        project.output_size = None if size is None else _check_size(size)
        project.render_mode = _check_mode(mode)
        project.soundtrack = None if sound is None else _check_sound(sound)
    except ProjectError as e:
        raise ProjectError(f"{r.file}: {e}") from None
    project.model = model
    if rng is not None and project.play_range != project.range:
        cut = project.play_range
        r.notes.append(f"{r.file}: timeline.range {list(rng)} lies beyond the timeline's "
                       f"{sum(s.duration for s in project.shots)} frames: "
                       + ("cleared" if cut is None else f"cut to {list(cut)}"))  # fmt: skip
        project.range = cut
    r.notes += _verify_clips(project)
    project.notes = r.notes + [f"{project.root}: {part}: offline" for part in project.offline()]
    return project


def _verify_clips(project: Project) -> list[str]:
    """Clip records checked where it is cheap against the files they describe — a frame
    folder's frames counted, an image's size read from its header, the size of the video that
    sets the output size — and corrected, said in a note (a video's length is checked when it
    is first decoded: engine.synthesis)."""
    from PIL import Image

    from engine.data.clips import ClipReader, frame_files
    from engine.errors import UserError

    notes = []
    first = next(iter(project.clips), None)
    for clip in project.clips.values():
        # a video is checked only where it sets the output size (its first frame decoded):
        # the others when they are first decoded
        if clip.kind == "video" and not (clip.id == first and project.output_size is None):
            continue
        try:
            path = project.resolve(clip.source, "clip source")
            if clip.kind == "video":
                reader = ClipReader(path)
                next(reader.frames())
                frames, (width, height) = clip.frames, (reader.info.width, reader.info.height)
            else:
                files = frame_files(path) if clip.kind == "frames" else [path]
                if not files:
                    continue
                with Image.open(files[0]) as im:
                    width, height = im.size
                frames = len(files) if clip.kind == "frames" else 1
        except (UserError, OSError, ValueError, StopIteration):
            continue  # offline or unreadable: told as such, when it is used
        if (clip.frames, clip.width, clip.height) != (frames, width, height):
            notes.append(f"{project.file}: clip {clip.name!r}: project.json says {clip.frames} "
                         f"frames of {clip.width}×{clip.height}, its files hold {frames} of "
                         f"{width}×{height}: corrected")  # fmt: skip
            clip.frames, clip.width, clip.height = frames, width, height
    return notes


def _read_clip(project: Project, r: _Reader, c: Any, where: str) -> Clip:
    clip = Clip(
        id=r.get(c, "id", where, str),
        name=r.get(c, "name", where, str),
        source=r.get(c, "source", where, str),
        kind=r.get(c, "kind", where, str),
        frames=r.get(c, "frames", where, int),
        fps=r.get(c, "fps", where, float),
        width=r.get(c, "width", where, int),
        height=r.get(c, "height", where, int),
    )
    if clip.kind not in ("video", "frames", "image"):
        raise r.fail(f"{where}.kind", f"unknown kind {clip.kind!r}")
    if not (
        1 <= clip.frames <= MAX_CLIP_FRAMES
        and 1 <= clip.width <= MAX_CLIP_SIDE
        and 1 <= clip.height <= MAX_CLIP_SIDE
        and 0 < clip.fps <= 1000
    ):
        raise r.fail(
            where,
            f"frames (1…{MAX_CLIP_FRAMES:,}), width and height (1…{MAX_CLIP_SIDE:,}) and fps "
            "(above 0, at most 1000) are out of range",
        )
    return clip  # its file need not be there: a missing one is offline (Project.offline)


def _read_shot(r: _Reader, s: Any, where: str) -> Shot:
    def ref(key: str) -> dict:
        return r.get(s, key, where, dict)

    ch, bg, mo = ref("character"), ref("background"), ref("motion")
    retime = r.get(s, "retime", where, dict, {})
    endless = r.get(s, "endless", where, dict, {})
    extend = r.get(s, "extend", where, (dict, type(None)), None) or {}
    target = r.get(extend, "target", f"{where}.extend", (list, type(None)), None)
    if target is not None and (
        len(target) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in target)
    ):
        raise r.fail(f"{where}.extend.target", "expected two numbers or null")
    path = r.count(
        r.get(s, "path", where, (list, type(None)), None) or [], f"{where}.path", MAX_PATH_KEYS
    )
    fit = r.get(s, "beat_fit", where, (dict, type(None)), None) or {}
    fitted = {}
    for name, key in (("beats", "beats"), ("timing", "steps")):
        values = r.count(r.get(fit, key, f"{where}.beat_fit", (list, type(None)), None) or [],
                         f"{where}.beat_fit.{key}", MAX_SHOT_FRAMES)  # fmt: skip
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise r.fail(f"{where}.beat_fit.{key}", "expected a list of whole numbers")
        fitted[name] = tuple(values)
    keys = []
    for i, k in enumerate(path):
        at = f"{where}.path[{i}]"
        keys.append(
            Key(
                r.get(k, "frame", at, int),
                r.get(k, "x", at, float, 0.0),
                r.get(k, "y", at, float, 0.0),
                r.get(k, "angle", at, float, 0.0),
                r.get(k, "scale", at, float, 1.0),
                r.get(k, "ease", at, str, "linear"),
            )
        )
    return Shot(
        id=r.get(s, "id", where, str),
        name=r.get(s, "name", where, str, ""),
        character=FrameRef(
            r.get(ch, "clip", f"{where}.character", str),
            r.get(ch, "frame", f"{where}.character", int),
        ),
        background=FrameRef(
            r.get(bg, "clip", f"{where}.background", str),
            r.get(bg, "frame", f"{where}.background", int),
        ),
        motion=MotionRef(
            r.get(mo, "clip", f"{where}.motion", str),
            r.get(mo, "in", f"{where}.motion", int),
            r.get(mo, "out", f"{where}.motion", int),
        ),
        duration=r.get(s, "duration", where, int),
        speed=r.get(retime, "speed", f"{where}.retime", float, 1.0),
        hold=r.get(retime, "hold", f"{where}.retime", int, 1),
        loop=r.get(s, "loop", where, str, "once"),
        offset=r.get(s, "offset", where, int, 0),
        render=r.get(s, "render", where, (str, type(None)), None),
        pose=r.get(s, "pose", where, str, "rigid"),
        seed=r.get(endless, "seed", f"{where}.endless", int, 0),
        jumps=r.get(endless, "jumps", f"{where}.endless", float, 0.5),
        edge=r.get(endless, "edge", f"{where}.endless", str, "turn"),
        extend=r.get(extend, "frames", f"{where}.extend", int, 0),
        take=r.get(extend, "take", f"{where}.extend", int, 0),
        target=None if target is None else (float(target[0]), float(target[1])),
        path=tuple(keys),
        **fitted,
    )  # fmt: skip


def to_json(project: Project) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": project.name,
        "model": project.model,
        "clips": [_clip_to_json(c) for c in project.clips.values()],
        "timeline": {
            "fps": project.fps,
            "shots": [_shot_to_json(s) for s in project.shots],
            "range": None if project.range is None else list(project.range),
        },
        "output": {
            "size": None if project.output_size is None else list(project.output_size),
            "mode": project.render_mode,
        },
        "soundtrack": None if (s := project.soundtrack) is None else dataclasses.asdict(s),
    }
