"""The only part of the document that decodes: importing clips and sounds (read whole to
describe them, then copied into the folder), a model file checked before it is used, and which
parts' files cannot be used now (offline). A mixin of ``Project`` (engine.document.files); the
methods run on a worker thread where they are slow (the studio's import)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from engine.data.clips import ClipReader, frame_files
from engine.document import folder
from engine.document.rules import MAX_TEXT, ProjectError, check_text
from engine.document.shot import Clip, Offline, Soundtrack, check_sound, new_id
from engine.text import readable


class Media:
    """Importing and checking a project's media (mixed into ``Project``)."""

    root: Path

    # -- editing: clips ----------------------------------------------------------------------------
    def import_clip(self, source: str | os.PathLike, name: str | None = None) -> Clip:
        """Copy a video, frame folder or still image into media/ and add it as a clip.

        Decodes the clip once to count its frames: on a bad file it raises ClipError naming the
        file, and nothing is copied."""
        clip = self.copy_in(source, name)
        self.add_clip(clip)
        return clip

    def copy_in(
        self, source: str | os.PathLike, name: str | None = None, notes: list | None = None
    ) -> Clip:
        """The slow half of :meth:`import_clip`: check and copy the clip into media/ and describe
        it, without adding it. Touches only the file system, so a worker thread may run it while
        the GUI thread adds the result (:meth:`add_clip`). What the user should know about a clip
        read anyway (gaps in a frame folder's numbering, a guessed frame rate) is appended to
        ``notes``."""
        src = Path(source)
        clip = self.describe_clip(src, "", name, notes)  # read whole before anything is copied
        files = frame_files(src) if src.is_dir() else None
        rel = folder.copy_in(self.root, src, "media", ProjectError, files)
        return dataclasses.replace(clip, source=rel)

    def describe_clip(self, path: Path, source: str, name: str | None = None,
                      notes: list | None = None, fps: float = 24.0) -> Clip:  # fmt: skip
        """A new Clip (not added) for the clip at ``path``, read whole to count its frames;
        ``source``: where it is, relative to the folder. ``fps``: a frame folder's rate."""
        reader = ClipReader(path, fps)
        count = sum(1 for _ in reader.frames())
        if notes is not None:
            notes.extend(reader.notes)
        info = reader.info
        if count == 0 or info is None:
            raise ProjectError(f"{path}: holds no frames")
        return Clip(
            id=new_id("c"),
            name=check_text(name or readable(path.stem if path.is_file() else path.name)[:MAX_TEXT],
                            "a clip's name"),
            source=source,
            kind=reader.kind,
            frames=count,
            fps=float(info.fps),
            width=int(info.width),
            height=int(info.height),
        )

    # -- the soundtrack ----------------------------------------------------------------------------
    def copy_in_sound(self, source: str | os.PathLike, offset: float = 0.0,
                      notes: list | None = None) -> Soundtrack:  # fmt: skip
        """The slow half of setting a soundtrack: read the sound file (any format ffmpeg reads,
        in blocks, whatever its length; an unreadable one raises AudioError naming it, and
        nothing is copied), copy it into media/ and describe it. A file that reads much shorter
        than its header claims (cut off, damaged) is used, and said in ``notes``. Touches only
        files (a worker may run it); then :meth:`set_soundtrack`."""
        from engine import audio

        src = Path(source)
        found = audio.measure(src)
        seconds = found.seconds
        if notes is not None and found.note(src):
            notes.append(found.note(src))
        rel = folder.copy_in(self.root, src, "media", ProjectError)
        name = readable(src.stem)[:MAX_TEXT]
        return check_sound(Soundtrack(rel, name, round(seconds, 6), float(offset)))

    def set_model(self, path: str | os.PathLike | None, copy_in: bool = True) -> str | None:
        """Use a model file for this project: copied into models/ (``copy_in``), or a file
        already in the folder. None goes back to the built-in model. Returns the old value."""
        from engine import checkpoint

        old = self.model
        if path is None:
            self.model = None
        else:
            src = Path(path)
            checkpoint.verify(src)  # a clear error for a missing, damaged or mismatched model
            if src.resolve().is_relative_to(self.root.resolve()):
                rel = src.resolve().relative_to(self.root.resolve()).as_posix()
            elif copy_in:
                rel = folder.copy_in(self.root, src, "models", ProjectError)
            else:
                raise ProjectError(f"{src}: a project's model must be inside its folder")
            self.model = rel
        self._touch()
        return old

    # -- parts that are offline -------------------------------------------------------------------
    def offline(self) -> list[Offline]:
        """The parts whose files are missing now (deleted, renamed, on a drive not plugged in,
        or named outside the folder): clips, the soundtrack, the model. The project opens and
        renders without them — a missing clip's shots as placeholders, a missing sound silent
        — until they are relinked (:meth:`relinked`) or removed."""
        found = []
        for clip in self.clips.values():
            why = self.why_missing(clip.source, "clip source", clip.kind == "frames")
            if why:
                found.append(Offline("clip", clip.id, clip.name, clip.source, why))
        if self.soundtrack is not None:
            why = self.why_missing(self.soundtrack.source, "soundtrack", False)
            if why:
                s = self.soundtrack
                found.append(Offline("soundtrack", None, s.name or s.source, s.source, why))
        if self.model is not None:
            why = self.why_missing(self.model, "model", False)
            if why:
                found.append(Offline("model", None, Path(self.model).name, self.model, why))
        return found

    def clip_offline(self, clip_id: str) -> str | None:
        """Why clip ``clip_id``'s file cannot be used now, or None."""
        clip = self.clip(clip_id)
        return self.why_missing(clip.source, "clip source", clip.kind == "frames")

    def sound_offline(self) -> str | None:
        """Why the soundtrack's file cannot be used now, or None (also with no soundtrack)."""
        s = self.soundtrack
        return None if s is None else self.why_missing(s.source, "soundtrack", False)

    def why_missing(self, rel: str, what: str, folder_: bool) -> str | None:
        """Why the file ``rel`` cannot be used now, or None."""
        try:
            path = self.resolve(rel, what)
        except ProjectError as e:
            return str(e).rsplit(": ", 1)[-1]
        if folder_ and not path.is_dir():
            return "folder is missing" if not path.exists() else "is not a folder"
        if not folder_ and not path.is_file():
            return "file is missing" if not path.exists() else "is not a file"
        return None

    def relinked(self, clip_id: str, found: Clip) -> Clip:
        """The record of clip ``clip_id`` pointing at ``found`` (a clip copied in by
        :meth:`copy_in`: the file the user located for it), its id and name kept — to put in
        place with :meth:`replace_clip`, which checks that every shot still fits it."""
        old = self.clip(clip_id)
        return dataclasses.replace(found, id=old.id, name=old.name)
