"""The project's life in the studio: new, open (checked first; a project another studio holds
opens read-only or is taken over), save (merged with another writer's changes; a conflict asks),
save as, close (unsaved changes asked about), the crash recovery offered at launch, Open Recent,
relinking missing media and the demo. ``window.life``; the questions are the window's
(``ask``, ``choose``: tests answer them)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.document import SUFFIX, Project
from engine.document import lock as project_lock
from engine.document.merge import MergeConflict
from engine.errors import UserError
from studio import settings
from studio.jobs import describe_error

Button = QMessageBox.StandardButton


class ProjectLife(QObject):
    """``w``: the window (its messages and questions), ``s``: its session."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w, self.s = window, window.session
        self.open_error: str | None = None
        """Why the last :meth:`open_project` failed."""

    def open_project(self, path: str | os.PathLike) -> bool:
        """Open a project folder. It is checked first: a bad one gets a message (``open_error``
        keeps it) and nothing changes — the open project and its unsaved edits stay, and no
        question about saving them is asked. Then the unsaved-changes question."""
        self.open_error = None
        try:
            project = Project.open(path)
        except UserError as e:
            self.open_error = str(e)
            self.w.show_message("Cannot open project", str(e))
            return False
        current = self.s.project
        same = current is not None and project.root.resolve() == current.root.resolve()
        dirty = self.s.dirty
        if not self.maybe_save():
            return False
        if same and dirty:  # saved (or discarded) just now: read what is on disk now
            try:
                project = Project.open(path)
            except UserError as e:
                self.w.show_message("Cannot open project", str(e))
                return False
        read_only = False
        holder = project_lock.other_holder(project.root)
        if holder is not None and not same:
            choice = self.w.choose(
                "Project in use", f"{project.name} is open in {holder}.\n\nOpen it read-only "
                "(your changes go to a copy, with Save As…), or take it over (each of you "
                "then saves merged with the other's changes)?",
                ["Open Read-Only", "Take Over", "Cancel"], "Open Read-Only")  # fmt: skip
            if choice == "Cancel":
                return False
            read_only = choice == "Open Read-Only"
        self._set_project(project, read_only=read_only)
        return True

    def _set_project(self, project: Project | None, dirty: bool = False,
                     read_only: bool = False) -> None:  # fmt: skip
        if self.s.project is not None:
            settings.clear_recovery(self.s.project.root)
        self.w.welcome.hide()  # it is about the demo (open_demo shows it again)
        self.s.open(project, read_only)
        if project is not None:
            settings.add_recent(project.root)
            if dirty:
                self.s.undo.resetClean()
            if project.shots:
                self.s.select(project.shots[0].id)
            if project.notes:
                self._tell_notes(project)
        self.w.update_title()

    def _tell_notes(self, project: Project) -> None:
        """What opening the project found: parts offline, names repaired, records corrected."""
        shown = [n.removeprefix(f"{project.root}: ").removeprefix(f"{project.file}: ")
                 for n in project.notes[:12]]  # fmt: skip
        more = len(project.notes) - len(shown)
        offline = project.offline()
        text = (f"{project.name} is open, but:\n• " + "\n• ".join(shown)
                + (f"\n… and {more} more" if more > 0 else ""))
        if offline:
            text += ("\n\nShots that use a missing clip show a placeholder and a missing "
                     "soundtrack is silent until File → Relink Missing Media… finds them.")
        self.w.show_message("Opened with problems", text)

    def relink_dialog(self):
        """File → Relink Missing Media…: the offline parts, found again or given up."""
        from studio.widgets.relink import RelinkDialog

        return self.w.commands.keep(RelinkDialog(self.w))

    def open_demo(self) -> None:
        if self.maybe_save():
            self.s.undo.setClean()  # already asked
            self.open_project(settings.demo_copy())
            self.w.welcome.show()

    def _root(self) -> Path | None:
        return None if self.s.project is None else self.s.project.root

    def new_project(self) -> None:
        if not self.maybe_save():
            return
        start = settings.start_folder("project", self._root())
        path, _ = QFileDialog.getSaveFileName(
            self.w, "New Project", str(start / "Untitled"), f"Zoetrope projects (*{SUFFIX})"
        )
        if path:
            settings.remember_folder("project", path)
            self.create_project(path)

    def create_project(self, path: str | os.PathLike) -> bool:
        try:
            project = Project.create(path)
        except (UserError, OSError) as e:
            self.w.show_message("Cannot create project", str(e))
            return False
        self.s.undo.setClean()
        self._set_project(project)
        return True

    def open_dialog(self) -> None:
        start = settings.start_folder("project", self._root())
        path = QFileDialog.getExistingDirectory(self.w, "Open Project (a .zoetrope folder)",
                                                str(start))  # fmt: skip
        if path:
            settings.remember_folder("project", path)
            self.open_project(path)

    def fill_recent(self) -> None:
        self.w.recent_menu.clear()
        recent = settings.recent_projects()
        for n, path in enumerate(recent, 1):
            a = self.w.recent_menu.addAction(f"&{n % 10} {Path(path).stem}")
            a.setToolTip(path)
            a.setStatusTip(path)
            a.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if recent:
            self.w.recent_menu.addSeparator()
            self.w.recent_menu.addAction("Clear Recent Projects", settings.clear_recent)
        else:
            self.w.recent_menu.addAction("No recent projects").setEnabled(False)

    def save(self) -> bool:
        """File → Save: merged with what another program saved meanwhile (a capture's take, a
        second studio); where both changed the same thing, the user chooses."""
        s = self.s
        if s.project is None:
            return False
        if s.read_only:
            return self.save_as()
        try:
            s.save()
        except MergeConflict as e:
            keep = "Keep Mine"
            choice = self.w.choose("Changed on disk", f"{e}.\n\nKeep your version of these (the "
                                 "other program's save stays as project.json.bak), save yours "
                                 "as a copy, or cancel?", [keep, "Save As…", "Cancel"],
                                 "Cancel")  # fmt: skip
            if choice == "Save As…":
                return self.save_as()
            if choice != keep:
                return False
            try:
                s.save(overwrite_changes=True)
            except Exception as e:
                self.w.show_message("Cannot save", describe_error(e))
                return False
        except Exception as e:
            self.w.show_message("Cannot save", describe_error(e))
            return False
        if not s.project.merged:
            self.w.statusBar().showMessage(f"Saved {s.project.file}", 4000)
        self.w.update_title()
        return True

    def save_as(self, path: str | None = None) -> bool:
        if self.s.project is None:
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.w,
                "Save Project As",
                str(settings.start_folder("project", self.s.project.root) / "Copy"),
                f"Zoetrope projects (*{SUFFIX})",
            )
            if not path:
                return False
        project, old_root = self.s.project, self.s.project.root
        try:  # copies the media: on a worker
            self.w.run_busy(f"Saving a copy as {Path(path).name}…", lambda: project.save_as(path))
        except UserError as e:  # (run_busy: every failure of the job is a UserError)
            self.w.show_message("Cannot save", str(e))
            return False
        self.s.saved_as(old_root)
        settings.add_recent(self.s.project.root)
        self.w.update_title()
        return True

    def maybe_save(self) -> bool:
        """True when it is fine to drop the open project (saved, or the user said so)."""
        if not self.s.dirty:
            return True
        answer = self.w.ask(
            "Unsaved changes",
            f"Save the changes to {self.s.project.name}?",
            Button.Save | Button.Discard | Button.Cancel,
            Button.Save,
        )
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    def close_project(self) -> None:
        if self.maybe_save():
            self.s.close()
            self.w.update_title()

    def offer_recovery(self) -> bool:
        """After a crash: offer the newest recovery copy. True when one was opened."""
        for record in settings.pending_recoveries():
            root = record["root"]
            answer = self.w.ask(
                "Recover unsaved changes?",
                f"Zoetrope Studio did not close normally. Recover the unsaved changes to "
                f"{Path(root).stem} ({root})?",
                Button.Yes | Button.No,
                Button.Yes,
            )
            if answer != Button.Yes:
                Path(record["file"]).unlink(missing_ok=True)
                continue
            try:
                project = Project.from_json(record["project"], Path(root))
            except Exception as e:
                self.w.show_message("Cannot recover", describe_error(e))
                settings.set_aside(record["file"])  # kept, but not offered at every launch
                continue
            self._set_project(project, dirty=True)
            return True
        return False
