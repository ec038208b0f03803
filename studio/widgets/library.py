"""The clip library: import (menu or drag-and-drop, on a worker with progress), thumbnails,
rename, remove; and the decoded frames every frame picker shows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QProgressDialog,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from engine.data.cache import FrameCache
from engine.data.clips import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, find_clips
from engine.document import Clip, Project
from engine.errors import UserError
from studio.actions import context_menu
from studio.engine_client import to_qimage
from studio.jobs import Job, describe_error
from studio.session import Session

THUMB = 160  # side of the cached square (whole-frame) images: tiles, previews
ICON = 72  # width of a clip's icon in the library and of a frame tile in the pickers
NARROW = 380
"""A library narrower than this shows only its clips' names (frames, fps, size: tooltip)."""
ROLE = Qt.ItemDataRole.UserRole


class ClipFrames(QObject):
    """Every clip's frames as small square images (decoded once into the engine's frame cache,
    one clip at a time, by jobs queued on one worker) for thumbnails and frame pickers."""

    ready = Signal(str)  # clip id: its frames arrived (or it cannot show any: then it is told)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.s = session
        self.cache = FrameCache()
        self._frames: dict = {}
        self._asked: set[str] = set()
        self._generation = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoetrope-thumbs")
        session.project_opened.connect(self._reset)

    def close(self) -> None:
        """Stop the thumbnails' worker (its thread ends after the clip it is reading)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _reset(self) -> None:
        self._generation += 1
        self._frames.clear()
        self._asked.clear()

    def frames(self, clip_id: str):
        """The clip's frames, (N, 64, 64, 3) uint8 (a memory map of the engine's frame cache),
        or None: then they are on their way, and ``ready`` will say."""
        if clip_id in self._frames:
            return self._frames[clip_id]
        if clip_id not in self._asked and self.s.project is not None:
            self._asked.add(clip_id)
            project, cache = self.s.project, self.cache
            if project.clip_offline(clip_id):
                self._frames[clip_id] = []  # offline: the library says so, no frames to show
                return self._frames[clip_id]
            job = Job(lambda _job: cache.load(project.clip_path(clip_id), THUMB).frames,
                      name="thumbnails")  # fmt: skip
            job.succeeded.connect(partial(self._got, self._generation, clip_id))
            job.failed.connect(partial(self._failed, self._generation, clip_id))
            job.start(self._pool)
        return None

    def image(self, clip_id: str, frame: int) -> QImage | None:
        frames = self.frames(clip_id)
        if frames is None or len(frames) == 0:
            return None
        return to_qimage(frames[min(max(frame, 0), len(frames) - 1)])

    def _got(self, generation: int, clip_id: str, frames) -> None:
        if generation == self._generation:
            self._frames[clip_id] = frames
            self.ready.emit(clip_id)

    def _failed(self, generation: int, clip_id: str, message: str) -> None:
        if generation == self._generation:
            p, clip = self.s.project, self.s.project.clips.get(clip_id)
            if clip is not None and not p.clip_offline(clip_id):
                self.s.tell("Cannot show a clip's frames", message)  # (offline: said once,
            self._got(generation, clip_id, [])  # by its shots' placeholders and the library)

    def pixmap(self, clip_id: str, frame: int, width: int) -> QPixmap | None:
        """Frame ``frame`` ``width`` pixels wide at the clip's own aspect (the cached images
        are whole frames squeezed square), or None while the frames are on their way."""
        image = self.image(clip_id, frame)
        if image is None:
            return None
        clip = self.s.project.clip(clip_id)
        height = max(1, round(width * clip.height / max(clip.width, 1)))
        return QPixmap.fromImage(image).scaled(
            width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )  # fmt: skip

    def icon(self, clip_id: str, frame: int = 0, width: int = ICON) -> QIcon:
        pixmap = self.pixmap(clip_id, frame, width)
        return QIcon() if pixmap is None else QIcon(pixmap)


def import_sources(paths: list[str]) -> tuple[list[Path], list[str]]:
    """What the user dropped or chose → clip sources (videos, frame folders, still images) and
    problems with paths that hold none."""
    sources, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
            sources.append(path)
            continue
        try:
            found, warnings = find_clips([path])
        except UserError as e:
            problems.append(str(e))
            continue
        sources += found
        problems += [
            w.replace(
                "not a supported clip type",
                "not a supported clip type (videos: "
                + ", ".join(sorted(VIDEO_EXTENSIONS))
                + "; images: "
                + ", ".join(sorted(IMAGE_EXTENSIONS))
                + ")",
            )
            for w in warnings
        ]
    return sources, problems


def import_work(project: Project, paths: list[str]) -> Callable[[Job], tuple]:
    """A job's work: copy the clips at ``paths`` into ``project`` (Project.copy_in) and return
    (clips, problems, notes); the GUI thread then adds the clips in one undoable edit. A file that
    fails is a problem, not the end of the import; a cancel keeps the clips copied so far."""

    def work(job: Job) -> tuple[list[Clip], list[str], list[str]]:
        sources, problems = import_sources(paths)
        clips: list[Clip] = []
        notes: list[str] = []
        for n, src in enumerate(sources):
            if job.is_cancelled():
                break
            job.report(n, len(sources), src.name)
            try:
                clips.append(project.copy_in(src, notes=notes))
            except OSError as e:
                problems.append(f"{src}: cannot copy ({e.strerror or e})")
            except Exception as e:
                problems.append(describe_error(e))
        job.report(len(sources), len(sources), "")
        return clips, problems, notes

    return work


SUBJECT = Qt.ItemDataRole.UserRole + 1
SUBJECTS_SHOWN = 24
NOTHING_MOVES = ("Nothing moves in this clip: mark the character with the brush "
                 "(Shot → Brush Tool, B)")  # fmt: skip
"""A clip's subjects listed under it, at most (the longest seen first)."""


class Library(QTreeWidget):
    """The clip list: thumbnail and name, frames, fps, size. Drop files or folders here. Under
    an analysed clip, its subjects (the separate things that move in it, as its analysis found
    them: engine.frames.cutout), each in the frame it is biggest in; double-click one to make it
    the selected shot's character."""

    clip_activated = Signal(str)
    subject_activated = Signal(str, int)  # clip id, subject

    def __init__(self, session: Session, frames: ClipFrames, parent: QWidget | None = None):
        super().__init__(parent)
        self.s, self.clip_frames = session, frames
        self.context_actions: list = []  # the clip actions (studio.actions, group "clip")
        self.setHeaderLabels(["Clip", "Frames", "fps", "Size"])
        self.setRootIsDecorated(True)
        self.setIconSize(QSize(ICON, ICON))
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            self.header().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.subjects: dict[str, list[tuple[dict, QIcon]]] = {}  # clip id → its subjects shown
        session.project_opened.connect(self.subjects.clear)  # (before the refresh below)
        session.engine.forgotten.connect(self.subjects.clear)  # clips analysed again
        self.itemChanged.connect(self._renamed)
        self.itemDoubleClicked.connect(self._activated)
        self._fetching: Job | None = None
        session.analysis.changed.connect(lambda text, *_: text or self._fetch_subjects())
        session.edited.connect(self.refresh)
        session.project_opened.connect(self.refresh)
        session.offline_changed.connect(self.refresh)  # a clip's file gone while open
        frames.ready.connect(self._thumb_ready)
        self.jobs: list[Job] = []
        self.refresh()

    def resizeEvent(self, event) -> None:
        # the name first: a narrow library drops the columns its tooltip also says
        narrow = event.size().width() < NARROW
        for col in (1, 2, 3):
            self.setColumnHidden(col, narrow)
        super().resizeEvent(event)

    def refresh(self) -> None:
        self.blockSignals(True)
        current = self.current_clip()
        self.clear()
        project = self.s.project
        offline = {o.id: o.why for o in project.offline() if o.what == "clip"} if project else {}
        for clip in project.clips.values() if project else []:
            item = QTreeWidgetItem(
                [clip.name, str(clip.frames), f"{clip.fps:g}", f"{clip.width}×{clip.height}"]
            )
            item.setIcon(0, self.clip_frames.icon(clip.id))
            item.setData(0, ROLE, clip.id)
            item.setToolTip(0, describe(clip))
            if clip.id in offline:  # shown, named and findable: never a silent gap
                item.setText(1, "offline")
                item.setForeground(0, QColor(230, 90, 90))
                item.setForeground(1, QColor(230, 90, 90))
                item.setToolTip(0, f"Offline: {clip.source}: {offline[clip.id]}. File → Relink "
                                "Missing Media… finds it.")  # fmt: skip
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            for col in (1, 2, 3):
                item.setTextAlignment(
                    col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
            self.addTopLevelItem(item)
            if clip.id in self.subjects and not self.subjects[clip.id]:
                child = QTreeWidgetItem([NOTHING_MOVES])
                child.setData(0, ROLE, clip.id)
                child.setToolTip(0, NOTHING_MOVES)
                item.addChild(child)
            for subject, icon in self.subjects.get(clip.id, []):
                child = QTreeWidgetItem([f"Subject {subject['id']}",
                                         f"{subject['first'] + 1}–{subject['last'] + 1}"])
                child.setIcon(0, icon)
                child.setData(0, ROLE, clip.id)
                child.setData(0, SUBJECT, subject["id"])
                child.setToolTip(0, f"Subject {subject['id']} of {clip.name}: seen in "
                                 f"{subject['frames']} frames. Double-click: the selected "
                                 "shot's character (or click it in the viewer).")  # fmt: skip
                item.addChild(child)
            if clip.id == current:
                self.setCurrentItem(item)
        self.blockSignals(False)
        self._fetch_subjects()

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        sid = item.data(0, SUBJECT)
        if sid:
            self.subject_activated.emit(item.data(0, ROLE), int(sid))
        else:
            self.clip_activated.emit(item.data(0, ROLE))

    def _fetch_subjects(self) -> None:
        """The subjects of clips analysed since last time, with their pictures, from a queued
        engine job (a lookup of what the analysis made, never an analysis)."""
        engine, project = self.s.engine, self.s.project
        if self._fetching is not None or project is None or not engine.serves(project):
            return
        want = [c for c in project.clips if c not in self.subjects and engine.analysed(c)]
        if not want:
            return

        def work(director, job) -> dict:
            found = {}
            for clip_id in want:
                job.check()
                layers = director.layers(clip_id)
                shown = sorted((s for s in layers.subjects if not s["minor"]),
                               key=lambda s: -s["frames"])[:SUBJECTS_SHOWN]  # fmt: skip
                found[clip_id] = [(s, to_qimage(layers.thumbnail(s["id"], ICON))) for s in shown]
            return found

        def got(found: dict) -> None:
            for clip_id, listed in found.items():
                self.subjects[clip_id] = [(s, QIcon(QPixmap.fromImage(im))) for s, im in listed]
            self.refresh()

        def ended() -> None:
            self._fetching = None

        job = engine.job(work, "subjects")
        if job is None:
            return
        self._fetching = job
        job.succeeded.connect(got)
        job.finished.connect(ended)
        job.start()

    def items(self) -> list[QTreeWidgetItem]:
        return [self.topLevelItem(i) for i in range(self.topLevelItemCount())]

    def current_clip(self) -> str | None:
        item = self.currentItem()
        return item.data(0, ROLE) if item else None

    def _thumb_ready(self, clip_id: str) -> None:
        for item in self.items():
            if item.data(0, ROLE) == clip_id:
                self.blockSignals(True)
                item.setIcon(0, self.clip_frames.icon(clip_id))
                self.blockSignals(False)

    def _renamed(self, item: QTreeWidgetItem, column: int) -> None:
        clip_id = item.data(0, ROLE)
        name = item.text(0)
        project = self.s.project
        if (
            project is not None
            and name != project.clip(clip_id).name
            and not self.s.rename_clip(clip_id, name)
        ):
            self.refresh()

    def contextMenuEvent(self, e) -> None:
        context_menu(self, self.context_actions, e.globalPos())

    def remove_current(self) -> None:
        clip_id = self.current_clip()
        if clip_id is not None:
            self.s.remove_clip(clip_id)

    # -- import ------------------------------------------------------------------------------------
    def import_paths(self, paths: list[str]) -> Job | None:
        """Import files and folders on a worker, with a progress dialog; returns the job."""
        if self.s.project is None or not paths:
            return None
        job = Job(import_work(self.s.project, paths), name="import")
        dialog = QProgressDialog("Importing clips…", "Cancel", 0, 0, self.window())
        dialog.setWindowTitle("Import clips")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(job.cancel)

        def progress(done: int, total: int, name: str) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)
            if name:
                dialog.setLabelText(f"Importing {name} ({done + 1} of {total})…")

        def succeeded(result: tuple) -> None:
            clips, problems, notes = result
            if clips:
                self.s.add_clips(clips)
            if problems:
                self.s.message.emit("Some clips could not be imported", _listed(problems))
            if notes:
                self.s.message.emit("Imported, with notes", _listed(notes))

        def ended() -> None:
            dialog.reset()
            dialog.deleteLater()
            self.jobs.remove(job)

        job.progress.connect(progress)
        job.succeeded.connect(succeeded)
        job.failed.connect(lambda text: self.s.message.emit("Import failed", text))
        job.finished.connect(ended)
        self.jobs.append(job)
        return job.start()

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragEnterEvent(e)

    def dragMoveEvent(self, e) -> None:
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
        else:
            super().dragMoveEvent(e)

    def dropEvent(self, e) -> None:
        urls = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if urls:
            e.acceptProposedAction()
            self.import_paths(urls)
        else:
            super().dropEvent(e)


def _listed(lines: list[str], most: int = 12) -> str:
    more = f"\n… and {len(lines) - most} more" if len(lines) > most else ""
    return "\n".join(lines[:most]) + more


def describe(clip: Clip) -> str:
    return (
        f"{clip.name}\n{clip.frames} frames · {clip.fps:g} fps · {clip.width}×{clip.height} · "
        f"{clip.kind}"
    )
