"""The open project as the widgets see it: the engine's Project, its undo stack, the playhead,
the selected shot and the frames rendered so far.

Every edit is a method here that calls one of the engine's Project editing methods and pushes a
QUndoCommand holding the matching undo/redo calls. The studio has no animation logic of its own:
what a shot shows, how it is retimed and split, what is valid — all of that is engine.document.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine.document import FPS_RANGE, Clip, Project, Timeline
from engine.errors import UserError
from studio import settings
from studio.engine_client import Analysis, EngineClient
from studio.frame_store import FrameManager
from studio.soundtrack import SoundtrackManager

RECOVERY_INTERVAL_MS = 30_000



class Edit(QUndoCommand):
    """An edit already carried out; undo/redo call the engine. The first redo (QUndoStack.push
    calls it) does nothing: the edit was made, and validated, before the command existed."""

    def __init__(self, session: Session, text: str, undo: Callable, redo: Callable) -> None:
        super().__init__(text)
        self.session, self._undo, self._redo, self._first = session, undo, redo, True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self._redo()
        self.session.edited.emit()

    def undo(self) -> None:
        self._undo()
        self.session.edited.emit()


class Session(QObject):
    project_opened = Signal()  # a different project (or none)
    edited = Signal()  # the project's content changed (an edit, an undo, a redo)
    selection_changed = Signal(object)  # shot id or None
    playhead_changed = Signal(int)
    frame_arrived = Signal(object)  # key
    model_loaded = Signal(dict)
    message = Signal(str, str)  # title, text: something the user must be told
    status = Signal(str)  # a passing note for the status bar
    sound_changed = Signal()  # the soundtrack, its waveform or beats (soundtrack) changed
    accents_changed = Signal()  # a shot's motion accents (soundtrack.shot_accents) arrived
    offline_changed = Signal()  # a shot was found to render as a placeholder, or no longer

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project: Project | None = None
        self.read_only = False
        """Opened read-only (another program holds it): saving goes to a copy."""
        self.undo = QUndoStack(self)
        self.engine = EngineClient(self)
        self.selected: str | None = None
        self.playhead = 0
        self.layer = "composite"
        self.model_info: dict = {}
        self._told: set[str] = set()
        self._timeline: tuple | None = None
        self.frames = FrameManager(self)
        """The frames rendered so far and the wishes for the missing ones."""
        self.engine.loaded.connect(self._on_loaded)
        self.engine.failed.connect(self._on_failed)
        self.engine.shot_offline.connect(self._on_offline)
        self.offline_shots: dict[str, str] = {}
        """Shot id → why it renders as a placeholder (the timeline marks them)."""
        self._recovery = QTimer(self, singleShot=True, interval=RECOVERY_INTERVAL_MS)
        self._recovery.timeout.connect(self.write_recovery)
        self.edited.connect(self._after_edit)
        self.analysis = Analysis(self)
        self.engine.forgotten.connect(self.analysis.start)  # a grown clip analysed again
        self.soundtrack = SoundtrackManager(self)
        """The soundtrack's waveform, player, beats and the shots' accents."""

    # -- project lifecycle -------------------------------------------------------------------------
    def open(self, project: Project | None, read_only: bool = False) -> None:
        """Show ``project`` (None: nothing open); the model loads on the render thread. Unless
        ``read_only``, the project's lock is held (engine.document.lock: a second studio is told
        who has it) until another is opened or the window closes."""
        from engine.document import lock as project_lock

        if self.project is not None and not self.read_only:
            project_lock.release(self.project.root)
        self.project, self.read_only = project, read_only
        if project is not None and not read_only:
            project_lock.acquire(project.root, settings.APP_NAME, take_over=True)
        self.undo.clear()
        self.frames.clear()
        self.selected = None
        self.playhead = 0
        self.model_info = {}
        self._told.clear()
        self.offline_shots.clear()
        if project is not None:
            self.engine.load(project)
        self.project_opened.emit()
        self.selection_changed.emit(None)
        self.playhead_changed.emit(0)

    def reload_model(self) -> None:
        if self.project is not None:
            self.frames.age()  # (shown until the new model's frames arrive)
            self.model_info = {}
            self.engine.load(self.project)

    def save(self, overwrite_changes: bool = False) -> Path:
        """Save the project — merged with what another program saved meanwhile, or over it
        (``overwrite_changes``); the views are told when something came in."""
        assert self.project is not None
        if self.read_only:
            raise UserError(f"{self.project.name} is open read-only: Save As… keeps your changes "
                            "in a copy")  # fmt: skip
        path = self.project.save(overwrite_changes)
        self.mark_saved(self.project.root)
        if self.project.merged:
            self.edited.emit()
            self.status.emit(self.project.merged)
        return path

    def saved_as(self, old_root: Path) -> None:
        """After Save As from ``old_root``: the copy is this session's project, held (no longer
        read-only); the old one let go."""
        from engine.document import lock as project_lock

        if not self.read_only:
            project_lock.release(old_root)
        project_lock.acquire(self.project.root, settings.APP_NAME, take_over=True)
        self.read_only = False
        self.mark_saved(old_root)

    def mark_saved(self, old_root: Path) -> None:
        """After a save (or Save As from ``old_root``): clean, no recovery copy needed."""
        settings.clear_recovery(old_root)
        settings.clear_recovery(self.project.root)
        self.undo.setClean()

    def close(self) -> None:
        self.analysis.cancel(wait=10.0)  # stops between two steps of a clip's analysis
        self.soundtrack.close(wait=10.0)
        self.frames.close()
        if self.project is not None:
            settings.clear_recovery(self.project.root)
        self._recovery.stop()
        self.open(None)

    @property
    def dirty(self) -> bool:
        return self.project is not None and not self.undo.isClean()

    def _after_edit(self) -> None:
        if self.project is None:
            return
        if self.selected is not None:
            try:
                self.project.shot_index(self.selected)
            except UserError:
                self.select(None)
        count = self.project.timeline.frame_count
        if self.playhead >= max(count, 1):
            self.seek(max(count - 1, 0))
        if self.dirty and not self._recovery.isActive():
            self._recovery.start()

    def write_recovery(self) -> None:
        if self.dirty:
            settings.write_recovery(self.project.root, self.project.to_json())

    # -- frames ------------------------------------------------------------------------------------
    @property
    def timeline(self) -> Timeline:
        """The project's timeline, built once per edit (painting asks for it many times)."""
        if self.project is None:
            return Timeline([], 24.0)
        stamp = (id(self.project), self.project.revision)
        if self._timeline is None or self._timeline[0] != stamp:
            self._timeline = (stamp, self.project.timeline)
        return self._timeline[1]

    def _on_failed(self, text: str) -> None:
        self.tell("Rendering failed", text)

    def _on_offline(self, shot_id: str, why: str) -> None:
        fresh = why not in self.offline_shots.values()
        self.offline_shots[shot_id] = why
        self.offline_changed.emit()
        if fresh and self.project is not None:
            try:
                shot = self.project.shot(shot_id)
            except UserError:
                return
            name = shot.name or f"shot {self.project.shot_index(shot_id) + 1}"
            self.tell("A shot cannot be drawn", f"{name} (and any shot using the same clip) "
                      f"shows a placeholder: {why}\n\nFile → Relink Missing Media… puts a "
                      "moved or renamed file back.")  # fmt: skip

    def tell(self, title: str, text: str) -> None:
        """Tell the user once per project: a missing clip fails every frame that needs it."""
        if text not in self._told:
            self._told.add(text)
            self.message.emit(title, text)

    def _on_loaded(self, info: dict) -> None:
        self.model_info = info
        self.frames.store.clear()
        self.model_loaded.emit(info)

    # -- selection and playhead --------------------------------------------------------------------
    def select(self, shot_id: str | None) -> None:
        if shot_id != self.selected:
            self.selected = shot_id
            self.selection_changed.emit(shot_id)

    def seek(self, frame: int) -> None:
        count = self.timeline.frame_count
        frame = min(max(int(frame), 0), max(count - 1, 0))
        if frame != self.playhead:
            self.playhead = frame
            self.playhead_changed.emit(frame)

    # -- edits -------------------------------------------------------------------------------------
    def _edit(self, text: str, action: Callable[[], tuple[Callable, Callable]]) -> bool:
        """Carry out ``action`` (which returns its undo and redo calls) and push it; a refused
        edit (ProjectError) is told to the user and changes nothing."""
        if self.project is None:
            return False
        try:
            undo, redo = action()
        except UserError as e:
            self.message.emit(f"Cannot {text[0].lower()}{text[1:]}", str(e))
            return False
        self.undo.push(Edit(self, text, undo, redo))
        self.edited.emit()
        return True

    def _swap(self, text: str, setter: Callable, value) -> bool:
        """An edit by a setter that returns the value it replaced."""

        def action():
            old = setter(value)
            return lambda: setter(old), lambda: setter(value)

        return self._edit(text, action)

    def set_soundtrack(self, sound) -> bool:
        """The project's soundtrack (engine.document.Soundtrack, already in media/), or None."""
        text = "Set soundtrack" if sound is not None else "Remove soundtrack"
        return self._swap(text, lambda v: self.project.set_soundtrack(v), sound)

    def set_strokes(self, clip_id: str, strokes: tuple, text: str = "Brush stroke") -> bool:
        """A clip's brush strokes (engine.document.Stroke); its cut-out is made again, and every
        frame with it (their keys do not hold the strokes)."""

        def setter(value: tuple) -> tuple:
            old = self.project.set_strokes(clip_id, value)
            self.frames.forget()
            return old

        return self._swap(text, setter, tuple(strokes))

    def set_plates(self, clip_ids: list[str], ref, text: str = "Use as clean plate") -> bool:
        """The clean plate (engine.document.FrameRef, or None: estimated) of several clips, in
        one undoable edit; their cut-outs are made again."""
        p = self.project

        def apply(values: dict) -> None:
            for clip_id, value in values.items():
                p.set_plate(clip_id, value)
            self.frames.forget()

        def action():
            old = {c: p.clip(c).plate for c in clip_ids}
            new = dict.fromkeys(clip_ids, ref)
            apply(new)  # all or none: a refused one raises before any is set (checked first)
            return lambda: apply(old), lambda: apply(new)

        if ref is not None:
            try:
                for clip_id in clip_ids:
                    p.check_plate(p.clip(clip_id), ref)
            except UserError as e:
                self.message.emit(f"Cannot {text[0].lower()}{text[1:]}", str(e))
                return False
        return self._edit(text, action)

    def set_sound_offset(self, seconds: float) -> bool:
        return self._swap("Move soundtrack", lambda v: self.project.set_sound_offset(v), seconds)

    def add_clips(self, clips: list[Clip]) -> bool:
        """Add imported clips (one undoable edit). The first clip of a project with no shots
        sets its frame rate — a 10 fps clip played at 24 fps runs 2.4 times too fast — and the
        status bar says so."""
        p = self.project
        first = p is not None and not p.clips and not p.shots and bool(clips)
        first = first and FPS_RANGE[0] <= clips[0].fps <= FPS_RANGE[1]
        old_fps, new_fps = (p.fps, clips[0].fps) if first else (None, None)

        def action():
            for c in clips:
                p.add_clip(c)
            if first:
                p.set_fps(new_fps)

            def undo():
                for c in reversed(clips):
                    p.remove_clip(c.id)
                if first:
                    p.set_fps(old_fps)

            def redo():
                for c in clips:
                    p.add_clip(c)
                if first:
                    p.set_fps(new_fps)

            return undo, redo

        n = len(clips)
        done = self._edit(f"Import {n} clip{'s' if n != 1 else ''}", action)
        if done and first and new_fps != old_fps:
            self.status.emit(
                f"Frame rate set to {new_fps:g} fps, the rate of {clips[0].name} "
                "(Edit → Frame Rate… to change it)"
            )
        return done

    def remove_clip(self, clip_id: str) -> bool:
        p = self.project

        def action():
            clip = p.remove_clip(clip_id)
            return lambda: p.add_clip(clip), lambda: p.remove_clip(clip_id)

        return self._edit("Remove clip", action)

    def update_clip(self, clip: Clip, text: str = "Update clip") -> bool:
        """Put a clip described again (a capture added frames to it) in place of the record
        with its id, as one undoable edit; frames made from its old frames are forgotten."""
        return self.update_clips([clip], text)

    def update_clips(self, clips: list[Clip], text: str) -> bool:
        """Put clip records in place of those with their ids (grown by a capture, relinked to a
        file found again), as one undoable edit: all or none (a record no shot fits in is
        refused, and those put in before it are put back)."""
        p = self.project

        def swap(records: list[Clip]) -> list[Clip]:
            old = []
            try:
                for record in records:
                    old.append(p.replace_clip(record))
            except UserError:
                for record in reversed(old):
                    p.replace_clip(record)
                raise
            self.frames.forget()
            return old

        def action():
            old = swap(clips)
            return lambda: swap(old), lambda: swap(clips)

        return self._edit(text, action)

    def remove_clips_and_shots(self, clip_ids: list[str]) -> bool:
        """Remove clips and every shot that uses them, as one undoable edit (an offline clip the
        user gives up on)."""
        p = self.project

        def action():
            shots = [(s, p.shot_index(s.id)) for s in p.shots
                     if {s.character.clip, s.background.clip, s.motion.clip} & set(clip_ids)]
            clips = [p.clip(c) for c in clip_ids]

            def redo():
                for shot, _ in shots:
                    p.delete_shot(shot.id)
                for clip in clips:
                    p.remove_clip(clip.id)

            def undo():
                for clip in clips:
                    p.add_clip(clip, offline_ok=True)
                for shot, index in sorted(shots, key=lambda x: x[1]):
                    p.insert_shot(shot, index)

            redo()
            return undo, redo

        n = len(clip_ids)
        return self._edit(f"Remove {n} offline clip{'s' if n != 1 else ''}", action)

    def rename_clip(self, clip_id: str, name: str) -> bool:
        p = self.project

        def action():
            old = p.clip(clip_id).name
            p.rename_clip(clip_id, name)
            return lambda: p.rename_clip(clip_id, old), lambda: p.rename_clip(clip_id, name)

        return self._edit("Rename clip", action)

    def add_shot(self, character, background, motion, **fields) -> str | None:
        p, made = self.project, []

        def action():
            shot = p.add_shot(character, background, motion, **fields)
            made.append(shot)
            index = p.shot_index(shot.id)
            return lambda: p.delete_shot(shot.id), lambda: p.insert_shot(shot, index)

        if self._edit("Add shot", action):  # the new shot selected, the playhead on it (the
            self.select(made[0].id)  # timeline scrolls to follow)
            self.seek(self.timeline.start_of(made[0].id))
            return made[0].id
        return None

    def delete_shot(self, shot_id: str) -> bool:
        p = self.project

        def action():
            shot, index = p.delete_shot(shot_id)
            return lambda: p.insert_shot(shot, index), lambda: p.delete_shot(shot_id)

        return self._edit("Delete shot", action)

    def move_shot(self, shot_id: str, index: int) -> bool:
        return self._swap("Move shot", lambda i: self.project.move_shot(shot_id, i), index)

    def duplicate_shot(self, shot_id: str) -> bool:
        p = self.project

        def action():
            twin = p.duplicate_shot(shot_id)
            index = p.shot_index(twin.id)
            return lambda: p.delete_shot(twin.id), lambda: p.insert_shot(twin, index)

        return self._edit("Duplicate shot", action)

    def split_shot(self, shot_id: str, at: int) -> bool:
        p = self.project

        def action():
            index = p.shot_index(shot_id)
            whole = p.shots[index]
            second = p.split_shot(shot_id, at)
            first = p.shots[index]

            def replace(old: list, new: list) -> None:
                for s in old:
                    p.delete_shot(s.id)
                for k, s in enumerate(new):
                    p.insert_shot(s, index + k)

            return lambda: replace([first, second], [whole]), lambda: replace(
                [whole], [first, second]
            )

        return self._edit("Split shot", action)

    def update_shot(self, shot_id: str, text: str = "Edit shot", **changes) -> bool:
        """Change a shot's fields; a shot fitted to its motion stays fitted (keep_fit)."""
        p = self.project

        def action():
            old = p.update_shot(shot_id, keep_fit=True, **changes)
            new = {**changes, "duration": p.shot(shot_id).duration}
            return lambda: p.update_shot(shot_id, **old), lambda: p.update_shot(shot_id, **new)

        return self._edit(text, action)

    def set_range(self, rng: tuple[int, int] | None) -> bool:
        text = "Set in/out range" if rng else "Clear in/out range"
        return self._swap(text, lambda r: self.project.set_range(r), rng)

    def set_fps(self, fps: float) -> bool:
        return self._swap("Set frame rate", lambda f: self.project.set_fps(f), fps)

    def set_output_size(self, size: tuple[int, int] | None) -> bool:
        """The frames' size (width, height) in the viewer and exports; None: the first clip's."""
        return self._swap("Set output size", lambda v: self.project.set_output_size(v), size)

    def set_render_mode(self, mode: str) -> bool:
        """``pixels`` (the footage's own pixels: sharp) or ``model`` (g: soft, any pose)."""
        if self.project is None or mode == self.project.render_mode:
            return False
        return self._swap("Set render mode", lambda v: self.project.set_render_mode(v), mode)

    def set_model(self, path: str | None) -> bool:
        """Use a model file (copied into the project) or, with None, the built-in model."""
        p = self.project

        def use(rel: str | None) -> None:
            p.restore_model(rel)
            self.reload_model()

        def action():
            old = p.set_model(path)
            new = p.model
            self.reload_model()
            return lambda: use(old), lambda: use(new)

        return self._edit("Use built-in model" if path is None else "Load model", action)
