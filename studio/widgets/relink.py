"""File → Relink Missing Media…: the parts of the project whose files are missing (a clip, the
soundtrack, the model — engine.document.Project.offline), each found again or given up.

A project with a part missing opens all the same (its shots draw as placeholders, its sound is
silent); here the user puts the part back, as in Premiere's and Blender's relink: *Locate…* one
file, *Search Folder…* for every missing file by its name at once, or *Remove* (a clip with its
shots, the soundtrack, the model for the built-in one). A file found is copied into the project,
like an import; each change is one undoable edit.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from engine.document import Offline
from engine.errors import UserError
from studio import settings as prefs

SEARCH_LIMIT = 50_000
"""Entries a folder search looks at, at most (a home folder must not hang it)."""
ROLE = Qt.ItemDataRole.UserRole


def search(folder: Path, names: set[str], limit: int = SEARCH_LIMIT) -> dict[str, Path]:
    """The first file or folder under ``folder`` named each of ``names`` (hidden folders and
    links not followed), looking at ``limit`` entries at most."""
    found: dict[str, Path] = {}
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(dirnames + filenames):
            seen += 1
            if name in names and name not in found:
                found[name] = Path(dirpath, name)
        if seen >= limit or len(found) == len(names):
            break
    return found


class RelinkDialog(QDialog):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w, self.s = window, window.session
        self.setWindowTitle("Relink Missing Media")
        self.note = QLabel(self, wordWrap=True)
        self.list = QTreeWidget(self)
        self.list.setHeaderLabels(["Missing", "Was at", "Why"])
        self.list.setRootIsDecorated(False)
        for column in (0, 1):  # whole names and paths: what the user looks for
            self.list.header().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemSelectionChanged.connect(self._selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.locate = QPushButton("Locate…", self, toolTip="Find the selected part's file")
        self.search = QPushButton("Search Folder…", self,
                                  toolTip="Look in a folder for every missing file by its name")
        self.remove = QPushButton("Remove…", self, toolTip="Give up the selected part: a clip "
                                  "with its shots, the soundtrack, the model (the built-in "
                                  "one renders)")  # fmt: skip
        for b in (self.locate, self.search, self.remove):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
        self.locate.clicked.connect(lambda: self.locate_part(self.current()))
        self.search.clicked.connect(lambda: self.search_folder())
        self.remove.clicked.connect(lambda: self.remove_part(self.current()))
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.s.edited.connect(self.refresh)
        self.resize(760, 320)
        self.refresh()

    # -- the list ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        p = self.s.project
        parts = p.offline() if p is not None else []
        self.list.clear()
        for part in parts:
            item = QTreeWidgetItem([f"{part.what}: {part.name}", part.source, part.why])
            item.setData(0, ROLE, part)
            self.list.addTopLevelItem(item)
        if parts:
            self.list.setCurrentItem(self.list.topLevelItem(0))
            self.note.setText(f"{len(parts)} part{'s are' if len(parts) > 1 else ' is'} missing "
                              "from the project's folder. Its shots show placeholders and the "
                              "film plays without it until it is found again.")  # fmt: skip
        else:
            self.note.setText("Nothing is missing: every clip, the soundtrack and the model are "
                              "in the project's folder.")  # fmt: skip
        self.search.setEnabled(bool(parts))
        self._selected()

    def parts(self) -> list[Offline]:
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [item.data(0, ROLE) for item in items]

    def current(self) -> Offline | None:
        item = self.list.currentItem()
        return item.data(0, ROLE) if item is not None else None

    def _selected(self) -> None:
        some = self.current() is not None
        self.locate.setEnabled(some)
        self.remove.setEnabled(some)

    # -- finding -----------------------------------------------------------------------------------
    def locate_part(self, part: Offline | None, path: str | None = None) -> bool:
        """Find one part's file (``path``, else asked for) and put it back."""
        if part is None:
            return False
        if path is None:
            title = f"Locate {part.name}"
            frames = part.what == "clip" and self.s.project.clip(part.id).kind == "frames"
            near = str(prefs.start_folder("clips", self.s.project.root))
            if frames:
                path = QFileDialog.getExistingDirectory(self, title, near)
            else:
                path, _ = QFileDialog.getOpenFileName(self, title, near, f"{Path(part.source).name}"
                                                      f" (*{Path(part.source).suffix});;All files "
                                                      "(*)")  # fmt: skip
            if not path:
                return False
        return self.relink({part: Path(path)})

    def search_folder(self, folder: str | None = None) -> int:
        """Look in ``folder`` (else asked for) for every missing file by its name; the ones
        found are put back. Returns how many."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(
                self, "Search a Folder for Missing Files",
                str(prefs.start_folder("clips", self.s.project.root)))  # fmt: skip
            if not folder:
                return 0
        parts = self.parts()
        names = {Path(p.source).name for p in parts}
        found = self.w.run_busy(f"Searching {folder}…", lambda: search(Path(folder), names))
        chosen = {p: found[Path(p.source).name] for p in parts if Path(p.source).name in found}
        if not chosen:
            self.w.show_message("Relink Missing Media", f"None of the missing files is in "
                                f"{folder} (looked for {', '.join(sorted(names))}).")
            return 0
        return len(chosen) if self.relink(chosen) else 0

    def relink(self, chosen: dict[Offline, Path]) -> bool:
        """Copy the files found into the project (on a worker) and put them in place: the clips
        in one undoable edit, then the soundtrack and the model."""
        s, p = self.s, self.s.project
        clips = {part: path for part, path in chosen.items() if part.what == "clip"}
        try:
            if clips:
                found = self.w.run_busy(f"Copying {len(clips)} clip(s) into the project…",
                                        lambda: [p.copy_in(path) for path in clips.values()])
                records = [p.relinked(part.id, clip)
                           for part, clip in zip(clips, found, strict=True)]  # fmt: skip
                if not s.update_clips(records, f"Relink {len(records)} clip"
                                      + ("s" if len(records) > 1 else "")):  # fmt: skip
                    return False
            for part, path in chosen.items():
                if part.what == "soundtrack":
                    sound = self.w.run_busy(f"Reading {path.name}…",
                                            lambda path=path: p.copy_in_sound(
                                                path, p.soundtrack.offset))  # fmt: skip
                    s.set_soundtrack(sound)
                elif part.what == "model":
                    s.set_model(str(path))
        except UserError as e:
            self.w.show_message("Relink Missing Media", str(e))
            return False
        return True

    # -- giving up ---------------------------------------------------------------------------------
    def remove_part(self, part: Offline | None) -> bool:
        s = self.s
        if part is None:
            return False
        if part.what == "soundtrack":
            return s.set_soundtrack(None)
        if part.what == "model":
            return s.set_model(None)
        users = s.project.shots_using(part.id)
        text = f"Remove the clip {part.name!r}"
        text += f" and the {len(users)} shot{'s' if len(users) > 1 else ''} that use it?" \
            if users else "?"
        button = QMessageBox.StandardButton
        if self.w.ask("Remove Clip", text + " (Edit → Undo puts them back.)",
                      button.Yes | button.Cancel, button.Cancel) != button.Yes:  # fmt: skip
            return False
        return s.remove_clips_and_shots([part.id])
