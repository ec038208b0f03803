"""What each menu action does (Pencil2D's ActionCommands): the edits, dialogs and jobs behind
studio/actions.py's table. The project's life — new, open, save, close, recovery — is
studio/project_life.py's. Commands ask the session for edits and the engine client for
anything the Director does; none holds a Director."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from engine.document import MAX_BRUSH, PREDICTOR_FILE, FrameRef, Stroke
from engine.errors import UserError
from studio import settings as prefs
from studio.settings import APP_NAME
from studio.widgets.dialogs import ChecklistDialog
from studio.widgets.shot_dialogs import AddShotDialog, ExtendDialog

CLIP_FILTER = "Clips (*.mp4 *.mov *.avi *.mkv *.webm *.gif *.m4v *.png *.jpg *.jpeg);;All files (*)"


class Commands(QObject):
    """The window's commands (``window.commands``); ``w``: the window, ``s``: its session."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w, self.s = window, window.session

    # -- small ones, named by the action table ------------------------------------------------
    def duplicate(self) -> None:
        self.s.duplicate_shot(self.s.selected)

    def remove_clip(self) -> None:
        self.w.library.remove_current()

    def remove_soundtrack(self) -> None:
        self.s.set_soundtrack(None)

    def clear_in_out(self) -> None:
        self.s.set_range(None)

    def next_beat(self, step: int) -> None:
        self.s.soundtrack.next_beat(step)

    def builtin_model(self) -> None:
        self.s.set_model(None)

    def undo_history(self) -> None:
        self.w.docks["history"].show()
        self.w.docks["history"].raise_()

    def zoom_timeline(self, factor: float | None) -> None:
        """Zoom the timeline by ``factor``; None: to fit."""
        strip = self.w.timeline.strip
        strip.fit() if factor is None else strip.zoom_by(factor)

    def reset_layout(self) -> None:
        self.w.restoreState(self.w.default_state)

    def message_log(self):
        """View → Message Log…: one window, brought to the front if open."""
        from studio.widgets.dialogs import MessageLog

        w = self.w
        if w.message_log is None:
            log = w.message_log = MessageLog(w.status_log, w)
            w.dialogs.append(log)  # (closed with the window)

            def gone(*_) -> None:
                w.message_log = None
                w.dialogs.remove(log)

            log.finished.connect(gone)
        w.message_log.show()
        w.message_log.raise_()
        return w.message_log

    def welcome(self) -> None:
        self.w.welcome.show()

    def about(self) -> QMessageBox:
        return self.w.show_message(
            f"About {APP_NAME}",
            f"{APP_NAME} — learns backgrounds, characters and motion from your clips, and "
            "remixes them.\nThe model: Resnick et al., equivariant scene synthesis.",
        )

    # -- clips, shots, the soundtrack, the model, exports -------------------------------------
    def folder(self, kind: str) -> str:
        """Where a file dialog for ``kind`` starts (settings.start_folder)."""
        project = self.s.project
        return str(prefs.start_folder(kind, None if project is None else project.root))

    def import_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.w, "Import Clips", self.folder("clips"),
                                                CLIP_FILTER)  # fmt: skip
        if paths:
            prefs.remember_folder("clips", paths[0])
            self.w.library.import_paths(paths)

    def rename_clip(self) -> None:
        item = self.w.library.currentItem()
        if item is not None:
            self.w.library.editItem(item, 0)

    def frame_rate(self) -> None:
        p = self.s.project
        fps, ok = QInputDialog.getDouble(self.w, "Frame Rate", "Frames per second:", p.fps, 1,
                                         120, 2)  # fmt: skip
        if ok:
            self.s.set_fps(fps)

    def output_size(self) -> None:
        from studio.widgets.exporting import OutputSizeDialog

        dialog = OutputSizeDialog(self.s, self.w)
        if dialog.exec():
            self.s.set_output_size(dialog.value())
        dialog.deleteLater()

    def add_shot(self, *_) -> None:
        if self.s.project is None:
            return
        if not self.s.project.clips:
            self.w.show_message("Add Shot", "Import a clip first (File → Import Clips…).")
            return
        dialog = AddShotDialog(self.s, self.w.clip_frames, self.w.library.current_clip(), self.w)
        if dialog.exec():
            v = dialog.values()
            name = v.pop("name")
            self.s.add_shot(**v, **({"name": name} if name else {}))
        dialog.deleteLater()

    def soundtrack_dialog(self, path: str | None = None) -> bool:
        """Edit → Set Soundtrack…: a sound file copied into the project (read on a worker; a
        file that cannot be read is named and changes nothing); undoable."""
        s = self.s
        if s.project is None:
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.w, "Set Soundtrack", self.folder("sound"),
                "Sound (*.wav *.mp3 *.ogg *.oga *.opus *.flac *.m4a *.aac);;All files (*)")
            if not path:
                return False
            prefs.remember_folder("sound", path)
        project = s.project
        try:
            sound = self.w.run_busy(f"Reading {Path(path).name}…",
                                  lambda: project.copy_in_sound(path))  # fmt: skip
        except UserError as e:
            self.w.show_message("Set Soundtrack", str(e))
            return False
        return s.set_soundtrack(sound)

    def sound_offset(self) -> bool:
        s = self.s
        if s.project is None or s.project.soundtrack is None:
            self.w.show_message("Soundtrack Offset", "The project has no soundtrack (Edit → Set "
                              "Soundtrack…).")  # fmt: skip
            return False
        seconds, ok = QInputDialog.getDouble(
            self.w, "Soundtrack Offset", "The sound starts this many seconds after the film's "
            "first frame (negative: the film starts that far into the sound):",
            s.project.soundtrack.offset, -86_400, 86_400, 3)  # fmt: skip
        return ok and s.set_sound_offset(seconds)

    def snap(self, on: bool) -> None:
        self.s.soundtrack.snapping = on

    def scrub_sound(self, on: bool) -> None:
        """Playback → Sound While Scrubbing (kept for the next launch)."""
        self.w.viewer.transport.scrub_sound = on
        prefs.set_value("scrub_sound", on)

    def fit_to_beats(self, holds: bool = False) -> bool:
        """Shot → Fit to Beats: retime the selected shot so that its motion's accents fall on
        the soundtrack's beats (an endless walk also jumps on them); undoable."""
        s, title = self.s, "Fit to Beats"
        if s.project is None or s.selected is None:
            return False
        if s.project.soundtrack is None:
            self.w.show_message(title, "The project has no soundtrack (Edit → Set Soundtrack…).")
            return False
        shot, found = s.project.shot(s.selected), s.soundtrack.beats
        job = s.engine.job(lambda d, _job: d.beat_fit(shot.id, holds, found), "fit to beats")
        if job is None or found is None:
            self.w.show_message(title, "The model is still loading or the soundtrack's beats are "
                              "still being found; try again in a moment.")  # fmt: skip
            return False
        try:
            changes = self.w.run_busy(f"Fitting {shot.name or 'the shot'} to the beats…", job=job)
        except UserError as e:
            self.w.show_message(title, str(e))
            return False
        text = "Fit shot to beats" + (" with holds" if holds else "")
        return s.update_shot(shot.id, text=text, **changes)

    def brush_tool(self, on: bool) -> None:
        """Shot → Brush Tool: the viewer's brush on (the path tool off) or off."""
        self.w.viewer.set_brush(on)

    def brush_removes(self, on: bool) -> None:
        """Shot → Brush Removes: the brush marks the set (on) or the character (off)."""
        self.w.viewer.canvas.brush_add = not on
        self.w.viewer.canvas.update()

    def brush_size(self, factor: float) -> None:
        canvas = self.w.viewer.canvas
        canvas.brush_radius = min(128.0, max(1.0, canvas.brush_radius * factor))
        self.w.statusBar().showMessage(f"Brush: {canvas.brush_radius:.0f} px", 2000)

    def brush_stroke(self, points: list[tuple[float, float]], add: bool) -> bool:
        """A stroke painted on the viewer (output pixels): a brush stroke on the frame of the
        character's clip shown there, undoable; its cut-out is made again."""
        s, title = self.s, "Brush"
        if s.project is None or not points or not s.timeline.frame_count:
            return False
        index, radius = s.playhead, self.w.viewer.canvas.brush_radius
        job = s.engine.job(lambda d, _job: d.clip_point(index, points), "brush")
        if job is None:
            self.w.show_message(title, "The model is still loading; try again in a moment.")
            return False
        try:
            clip_id, frame, mapped, scale = self.w.run_busy("Placing the stroke…", job=job)
        except UserError as e:
            self.w.show_message(title, str(e))
            return False
        clip = s.project.clip(clip_id)
        stroke = Stroke(frame, add, min(MAX_BRUSH, max(0.5, radius * scale)),
                        tuple((float(x), float(y)) for x, y in mapped),
                        (clip.width, clip.height))  # fmt: skip
        text = "Brush: character" if add else "Brush: set"
        return s.set_strokes(clip_id, (*clip.strokes, stroke), text)  # (checked there, said)

    def clear_strokes(self) -> bool:
        """Edit → Clear Brush Strokes: the library's selected clip without its strokes."""
        s, clip_id = self.s, self.w.library.current_clip()
        if s.project is None or clip_id is None:
            return False
        if not s.project.clip(clip_id).strokes:
            self.w.statusBar().showMessage("The clip has no brush strokes.", 4000)
            return False
        return s.set_strokes(clip_id, (), "Clear brush strokes")

    def use_as_plate(self) -> bool:
        """Edit → Use as Clean Plate…: the library's selected clip (its median; a one-frame
        clip, that frame) is the empty set of the clips of its size the user ticks."""
        s, clip_id = self.s, self.w.library.current_clip()
        if s.project is None or clip_id is None:
            return False
        empty = s.project.clip(clip_id)
        same = [c for c in s.project.clips.values()
                if c.id != clip_id and (c.width, c.height) == (empty.width, empty.height)]
        if not same:
            self.w.show_message("Use as Clean Plate", f"No other clip is {empty.width}×"
                                f"{empty.height}, the size of {empty.name!r}: a clean plate is "
                                "shot by the same camera as the clips it is for.")  # fmt: skip
            return False
        dialog = ChecklistDialog(
            "Use as Clean Plate", f"{empty.name!r} is the empty set these clips were shot on: "
            "their cut-outs are made against it instead of a plate estimated from each.",
            [(c.id, c.name) for c in same], self.w)  # fmt: skip
        chosen = dialog.chosen() if dialog.exec() else []
        dialog.deleteLater()
        frame = 0 if empty.frames == 1 else -1
        return bool(chosen) and s.set_plates(chosen, FrameRef(clip_id, frame))

    def use_frame_as_plate(self) -> bool:
        """Shot → Use Frame as Clean Plate: the set as the viewer shows it at the playhead — a
        frame of the shot's background clip — is that clip's clean plate (the first frames of a
        take shot empty)."""
        s = self.s
        if s.project is None or not s.timeline.frame_count:
            return False
        shot, local = s.timeline.shot_at(s.playhead)
        clip = shot.background.clip
        frame = shot.motion_frame(local) if shot.as_shot else shot.background.frame
        return s.set_plates([clip], FrameRef(clip, frame), f"Use frame {frame + 1} as clean plate")

    def clear_plate(self) -> bool:
        s, clip_id = self.s, self.w.library.current_clip()
        if s.project is None or clip_id is None:
            return False
        if s.project.clip(clip_id).plate is None:
            self.w.statusBar().showMessage("The clip's clean plate is estimated already.", 4000)
            return False
        return s.set_plates([clip_id], None, "Clear clean plate")

    def use_subject(self, clip_id: str, sid: int) -> bool:
        """A subject double-clicked in the library: the selected shot's character becomes it
        (its clip, that one subject); with no shot selected, a new shot of it as shot."""
        s = self.s
        if s.project is None:
            return False
        if s.selected is None:
            return s.add_shot((clip_id, 0), (clip_id, 0), clip_id, subjects=(sid,)) is not None
        shot = s.project.shot(s.selected)
        frame = shot.character.frame if shot.character.clip == clip_id else 0
        return s.update_shot(shot.id, text=f"Character: subject {sid}",
                             character=(clip_id, frame), subjects=(sid,))  # fmt: skip

    def pick_subject(self, x: float, y: float, add: bool = False) -> bool:
        """A click in the viewer: the subject under it becomes the shot's character (Shift: is
        added to it, or taken out if it was in); undoable. A click on nothing picks nothing and
        says so in the status bar."""
        s, title = self.s, "Pick Subject"
        if s.project is None or not s.timeline.frame_count:
            return False
        index = s.playhead
        job = s.engine.job(lambda d, _job: d.subject_at(index, x, y), "pick subject")
        if job is None:
            self.w.show_message(title, "The model is still loading; try again in a moment.")
            return False
        try:
            shot_id, sid = self.w.run_busy("Finding the subjects of the character's clip…",
                                           job=job)  # fmt: skip
        except UserError as e:
            self.w.show_message(title, str(e))
            return False
        shot = s.project.shot(shot_id)
        if not sid:
            self.w.statusBar().showMessage(
                "Nothing to pick there: no subject of the character's clip under the click.", 6000)
            return False
        picked = set(shot.subjects)
        if add:
            picked ^= {sid}
        else:
            picked = {sid}
        verb = "Pick" if not add else ("Add" if sid in picked else "Leave out")
        return s.update_shot(shot_id, text=f"{verb} subject {sid}", subjects=tuple(picked))

    def clear_beat_fit(self) -> bool:
        s = self.s
        if s.project is None or s.selected is None or not s.project.shot(s.selected).beats:
            return False
        duration = s.project.shot(s.selected).duration  # as long as it was, not "one pass"
        return s.update_shot(s.selected, text="Clear beat fit", beats=(), timing=(),
                             duration=duration)  # fmt: skip

    def _ask_extension(self, title: str, shot) -> tuple | None:
        """The Extend dialog for ``shot`` (or a clip's whole-clip stand-in); then, when asked
        or when the project has none, the project's motion predictor learned behind a busy
        dialog. Returns the dialog's values, or None."""
        s = self.s
        if not s.engine.ready:
            self.w.show_message(title, "The model is still loading; try again.")
            return None
        has = (s.project.root / PREDICTOR_FILE).is_file()
        dialog = ExtendDialog(shot, has, self.w)
        dialog.setWindowTitle(title)
        try:
            if not dialog.exec():
                return None
            values, learn = dialog.values(), dialog.learn.isChecked()
        finally:
            dialog.deleteLater()
        if learn or not has:
            job = s.engine.job(lambda d, _job: d.train_predictor(), "motion predictor")
            try:
                if job is None:
                    raise UserError("the model is loading again; try again in a moment")
                self.w.run_busy("Learning how the project's clips move…", job=job)
            except UserError as e:
                self.w.show_message(title, str(e))
                return None
            s.frames.forget()  # frames made with the old predictor
        return values

    def extend_dialog(self, *_) -> bool:
        """Shot → Extend Motion…: the selected shot's motion goes on past its clip (undoable)."""
        s = self.s
        if s.project is None or s.selected is None:
            return False
        shot = s.project.shot(s.selected)
        asked = self._ask_extension("Extend Motion", shot)
        return asked is not None and s.update_shot(shot.id, text="Extend motion", **asked)

    def extend_clip(self, *_) -> bool:
        """Edit → Extend Clip…: a new clip, the selected one followed by predicted frames (a
        motion source for any shot; lossless PNG frames in media/; undoable like an import)."""
        s = self.s
        clip_id = self.w.library.current_clip()
        if s.project is None or clip_id is None:
            return False
        clip = s.project.clip(clip_id)
        stand_in = SimpleNamespace(extend=clip.frames, take=0, target=None,
                                   motion=SimpleNamespace(length=clip.frames))  # fmt: skip
        asked = self._ask_extension("Extend Clip", stand_in)
        if asked is None:
            return False
        v, name, project = asked, f"{clip.name} extended", s.project

        def work(director, _job):
            with tempfile.TemporaryDirectory() as tmp:
                folder = director.extend_clip(clip_id, v["extend"], Path(tmp) / "frames",
                                              v["take"], v["target"])  # fmt: skip
                return project.copy_in(folder, name=name)

        job = s.engine.job(work, "extend clip")
        try:
            if job is None:
                raise UserError("the model is loading again; try again in a moment")
            new = self.w.run_busy(f"Extending {clip.name}…", job=job)
        except UserError as e:
            self.w.show_message("Extend Clip", str(e))
            return False
        return s.add_clips([new])

    def split(self) -> None:
        s = self.s
        if s.project is None or s.timeline.frame_count == 0:
            return
        shot, local = s.timeline.shot_at(s.playhead)
        s.select(shot.id)
        if local == 0:
            self.w.statusBar().showMessage(
                "The playhead is on the shot's first frame: nothing to split", 4000
            )
            return
        s.split_shot(shot.id, local)

    def delete(self) -> None:
        if self.w.library.hasFocus():
            self.w.library.remove_current()
        elif self.s.selected is not None:
            self.s.delete_shot(self.s.selected)

    def set_in_out(self, first: bool) -> None:
        s = self.s
        lo, hi = s.project.range or (0, s.timeline.frame_count - 1)
        lo, hi = (s.playhead, max(hi, s.playhead)) if first else (min(lo, s.playhead), s.playhead)
        s.set_range((lo, hi))

    def load_model(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.w, "Load Model", self.folder("model"), "Zoetrope models (*.safetensors)"
            )
            if not path:
                return False
            prefs.remember_folder("model", path)
        return self.s.set_model(path)

    def model_info(self) -> None:
        info = self.s.model_info
        if not info:
            self.w.show_message("Model info", "The model is still loading.")
            return
        seconds = info.get("train_seconds")
        took = f"{float(seconds) / 60:.0f} min" if seconds else "?"
        rows = [
            ("File", info["path"] + (" (built-in)" if info.get("builtin") else "")),
            ("Image size", f"{info['image_size']} × {info['image_size']}"),
            ("Training steps", info.get("steps") or "?"),
            ("Training time", took),
            ("Trained on", info.get("trained_on") or "?"),
            ("Trained", info.get("created") or "?"),
            ("Hardware", info.get("hardware") or "?"),
            ("Renders on", f"{info['device']} · {info['precision']}"),
        ]
        text = "\n".join(f"{k}: {v}" for k, v in rows)
        box = self.w.show_message("Model info", text)
        box.setIcon(QMessageBox.Icon.Information)

    def export_frame(self, path: str | None = None, scale: int = 1) -> bool:
        """File → Export Current Frame…: the frame at the playhead (the viewer's layer) as a PNG
        at the output size (``scale`` times it, with crisp pixels), rendered and written by the
        engine (engine.export.still) on the engine thread."""
        s = self.s
        if s.project is None or not s.timeline.frame_count:
            return False
        if path is None:
            name = f"{s.project.name}_frame{s.playhead + 1:04d}.png"
            path, _ = QFileDialog.getSaveFileName(
                self.w, "Export Current Frame", str(Path(self.folder("frame")) / name),
                "PNG images (*.png)",
            )  # fmt: skip
            if not path:
                return False
            prefs.remember_folder("frame", path)
        from engine import export  # imports torch: never before the window is up

        index, layer = s.playhead, s.layer
        job = s.engine.job(lambda d, _job: export.still(d, index, path, layer, scale),
                           "export frame")  # fmt: skip
        try:
            if job is None:
                raise UserError("the model is still loading; try again in a moment")
            self.w.run_busy(f"Writing {Path(path).name}…", job=job)
        except UserError as e:
            self.w.show_message("Export Current Frame", str(e))
            return False
        self.w.statusBar().showMessage(f"Wrote {path}", 4000)
        return True

    def train_dialog(self):
        from studio.widgets.training import TrainDialog

        return self.keep(TrainDialog(self.s, self.w))

    def keep(self, dialog):
        """Show a non-modal dialog, held in ``self.w.dialogs`` until it closes."""
        self.w.dialogs.append(dialog)
        dialog.finished.connect(lambda _: self.w.dialogs.remove(dialog))
        dialog.show()
        return dialog

    def capture_window(self):
        """File → Capture…: the live view of a camera, onion skin, one key per frame."""
        from studio.widgets.capture import CaptureWindow

        return self.keep(CaptureWindow(self.s, self.w))

    def capture_into_clip(self):
        """Edit → Capture Into Clip…: the capture window, going on after the selected clip."""
        clip_id = self.w.library.current_clip()
        if clip_id is None:
            self.w.show_message("Capture Into Clip", "Select a clip in the library first.")
            return None
        window = self.capture_window()
        window.continue_clip(clip_id)
        return window

    def export_timeline_dialog(self):
        """File → Export Timeline…: the cut as OpenTimelineIO, each shot rendered beside it."""
        return self.export_dialog(timeline=True)

    def export_dialog(self, timeline: bool = False):
        from studio.widgets.exporting import ExportDialog

        title = "Export Timeline" if timeline else "Export"
        if self.s.timeline.frame_count == 0:
            self.w.show_message(title, "The timeline is empty: add a shot first.")
            return None
        if not self.s.engine.ready:
            self.w.show_message(title, "The model is still loading; try again in a moment.")
            return None
        return self.keep(ExportDialog(self.s, self.w, timeline=timeline))

    def shortcuts(self) -> QMessageBox:
        """Help → Keyboard Shortcuts: every menu action that has one, by menu."""
        rows = []
        for menu_action in self.w.menuBar().actions():
            menu = menu_action.menu()
            entries = [
                (a.text().replace("&", ""), a.shortcut().toString(QKeySequence.NativeText))
                for a in menu.actions()
                if not a.shortcut().isEmpty()
            ]
            if entries:
                rows.append(f"<tr><td colspan=2><b>{menu.title().replace('&', '')}</b></td></tr>")
                rows += [f"<tr><td>{t}</td><td>&nbsp;&nbsp;{k}</td></tr>" for t, k in entries]
        box = self.w.show_message("Keyboard Shortcuts", "<table>" + "".join(rows) + "</table>")
        box.setIcon(QMessageBox.Icon.NoIcon)
        return box
