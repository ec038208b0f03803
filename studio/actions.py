"""Every menu action as data (Pencil2D's and napari's habit): its id, its words, its keys, its
menu, what it does (a method of the window's ``commands`` or ``life``, with its arguments) and
when it is enabled. :class:`Actions` makes the QActions once and hands them to whoever shows
them — the menus, the library's and the timeline's context menus (by group) — so that no widget
looks a window's attribute up by name. What each does: studio/commands.py and
studio/project_life.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

Std = QKeySequence.StandardKey


@dataclass(frozen=True)
class Spec:
    """``does``: "commands.NAME" or "life.NAME" (or "window.NAME"), called with ``args``;
    ``enabled``: one of :data:`RULES`; ``groups``: the context menus that show it too."""

    id: str
    text: str
    does: str
    args: tuple = ()
    keys: str | Std | None = None
    tip: str = ""
    enabled: str = "always"
    groups: tuple[str, ...] = ()
    checkable: bool = False


SEPARATOR = "-"
"""In a menu's list: a separator. Other markers: ``@recent`` (File → Open Recent), ``@undo``
(the undo stack's Undo and Redo), ``@playback`` (the viewer's transport), ``@docks`` (the
docks' show/hide toggles)."""

MENUS: dict[str, tuple] = {
    "&File": (
        Spec("new", "&New Project…", "life.new_project", keys=Std.New),
        Spec("open", "&Open Project…", "life.open_dialog", keys=Std.Open),
        "@recent",
        Spec("save", "&Save", "life.save", keys=Std.Save, enabled="project"),
        Spec("save_as", "Save &As…", "life.save_as", keys="Ctrl+Shift+S", enabled="project"),
        Spec("close", "&Close Project", "life.close_project", keys="Ctrl+W", enabled="project"),
        SEPARATOR,
        Spec("import", "&Import Clips…", "commands.import_dialog", keys="Ctrl+I",
             enabled="project", groups=("clip",)),
        Spec("relink", "&Relink Missing Media…", "life.relink_dialog", enabled="project",
             tip="Find the project's clips, soundtrack or model that were moved or renamed, or "
             "give them up"),
        Spec("capture", "&Capture…", "commands.capture_window", keys="Ctrl+Shift+C",
             tip="Shoot frame by frame from a camera, with onion skin", enabled="project"),
        Spec("export", "&Export…", "commands.export_dialog", keys="Ctrl+E", enabled="timeline"),
        Spec("export_frame", "Export Current &Frame…", "commands.export_frame",
             keys="Ctrl+Shift+E", enabled="timeline"),
        Spec("export_timeline", "Export &Timeline (OpenTimelineIO)…",
             "commands.export_timeline_dialog", keys="Ctrl+Alt+E", enabled="timeline"),
        SEPARATOR,
        Spec("quit", "&Quit", "window.close", keys="Ctrl+Q"),
    ),
    "&Edit": (
        "@undo",
        Spec("history", "Undo &History", "commands.undo_history"),
        SEPARATOR,
        Spec("rename", "Re&name Clip", "commands.rename_clip", keys="F2", groups=("clip",)),
        Spec("remove_clip", "Re&move Clip", "commands.remove_clip", groups=("clip",)),
        Spec("capture_into", "&Capture Into Clip…", "commands.capture_into_clip",
             groups=("clip",), tip="The capture window, its captures going on after the "
             "selected frame clip's last frame"),
        SEPARATOR,
        Spec("sound", "Set Sound&track…", "commands.soundtrack_dialog", enabled="project",
             tip="A sound file (WAV, MP3, Ogg, FLAC, M4A …) for the film: exported with MP4 and "
             "WebM"),
        Spec("sound_offset", "Soundtrack O&ffset…", "commands.sound_offset", enabled="sound"),
        Spec("no_sound", "Remove Soundtrack", "commands.remove_soundtrack", enabled="sound"),
        SEPARATOR,
        Spec("extend_clip", "E&xtend Clip…", "commands.extend_clip", groups=("clip",),
             tip="A new clip: this one, then predicted frames of how its motion goes on"),
        Spec("use_plate", "Use as Clean &Plate…", "commands.use_as_plate", groups=("clip",),
             tip="The selected clip is the empty set other clips of its size were shot on: "
             "their cut-outs are made against it"),
        Spec("clear_plate", "Clear Clean Plate", "commands.clear_plate", groups=("clip",),
             tip="The selected clip's plate estimated from it again"),
        Spec("fps", "Frame &Rate…", "commands.frame_rate", enabled="project"),
        Spec("size", "Output &Size…", "commands.output_size", enabled="project",
             tip="The frames' size in the viewer and exports"),
    ),
    "&Shot": (
        Spec("add", "&Add Shot…", "commands.add_shot", keys="Ctrl+K", enabled="project",
             groups=("clip",)),
        Spec("dup", "&Duplicate", "commands.duplicate", keys="Ctrl+D", enabled="shot",
             groups=("shot",)),
        Spec("split", "&Split at Playhead", "commands.split", keys="S", enabled="shot",
             groups=("shot",)),
        Spec("delete", "De&lete", "commands.delete", keys=Std.Delete, groups=("shot",)),
        Spec("extend", "&Extend Motion…", "commands.extend_dialog", enabled="shot",
             groups=("shot",), tip="Predict how the shot's motion goes on past its clip's end"),
        Spec("fit_beats", "Fit to &Beats", "commands.fit_to_beats", (False,), "Ctrl+B",
             "Retime the shot so that its motion's accents fall on the soundtrack's beats (no "
             "frame shown twice)", enabled="sound_shot", groups=("shot",)),
        Spec("fit_holds", "Fit to Beats with &Holds", "commands.fit_to_beats", (True,),
             "Ctrl+Shift+B", "As Fit to Beats, holding frames where that puts more accents on "
             "beats", enabled="sound_shot"),
        Spec("unfit", "Clear Beat Fit", "commands.clear_beat_fit", enabled="fitted"),
        SEPARATOR,
        Spec("brush", "&Brush Tool", "commands.brush_tool", keys="B", checkable=True,
             enabled="timeline", tip="Paint on the viewer's frame what is the character (with "
             "Brush Removes: what is the set); the correction carries to the clip's other "
             "frames. A click is a dab: one on a character that never moves cuts it out"),
        Spec("brush_removes", "Brush &Removes", "commands.brush_removes", keys="X",
             checkable=True, enabled="timeline", tip="The brush marks the set, not the "
             "character (X toggles)"),
        Spec("brush_bigger", "Bigger Brush", "commands.brush_size", (1.25,), "]",
             enabled="timeline"),
        Spec("brush_smaller", "Smaller Brush", "commands.brush_size", (0.8,), "[",
             enabled="timeline"),
        Spec("frame_plate", "Use Frame as Clean &Plate", "commands.use_frame_as_plate",
             enabled="timeline", tip="The set as the viewer shows it now (shot empty) is its "
             "clip's clean plate"),
        Spec("clear_strokes", "Clear Brush Strokes", "commands.clear_strokes", groups=("clip",),
             tip="Take every brush stroke off the selected clip (undoable)"),
        SEPARATOR,
        Spec("in", "Set &In", "commands.set_in_out", (True,), "I", enabled="timeline",
             groups=("shot",)),
        Spec("out", "Set &Out", "commands.set_in_out", (False,), "O", enabled="timeline",
             groups=("shot",)),
        Spec("clear", "&Clear In/Out", "commands.clear_in_out", keys="Alt+X",
             enabled="timeline", groups=("shot",)),
    ),
    "&Playback": (
        "@playback",
        SEPARATOR,
        Spec("prev_beat", "Previous Beat", "commands.next_beat", (-1,), "Alt+Left",
             enabled="sound"),
        Spec("next_beat", "Next Beat", "commands.next_beat", (1,), "Alt+Right", enabled="sound"),
        SEPARATOR,
        Spec("scrub_sound", "Sound While &Scrubbing", "commands.scrub_sound", checkable=True,
             tip="Dragging the playhead or stepping a frame plays that frame's slice of the "
             "soundtrack (timing lip sync and accents by ear)"),
    ),
    "&Model": (
        Spec("train", "&Train on Clips…", "commands.train_dialog", keys="Ctrl+T",
             enabled="project"),
        Spec("load_model", "&Load Model…", "commands.load_model", enabled="project"),
        Spec("builtin", "Use &Built-in Model", "commands.builtin_model", enabled="own_model"),
        Spec("info", "Model &Info", "commands.model_info", enabled="project"),
    ),
    "&View": (
        "@docks",
        SEPARATOR,
        Spec("zoom_fit", "Zoom Timeline to &Fit", "commands.zoom_timeline", (None,), "Ctrl+0"),
        Spec("zoom_in", "Zoom Timeline &In", "commands.zoom_timeline", (1.25,), "Ctrl+="),
        Spec("zoom_out", "Zoom Timeline &Out", "commands.zoom_timeline", (0.8,), "Ctrl+-"),
        Spec("snap", "&Snap to Beats", "commands.snap", keys="Shift+S", checkable=True,
             tip="The playhead and shot edges dragged on the timeline stop on the soundtrack's "
             "beats"),
        SEPARATOR,
        Spec("messages", "&Message Log…", "commands.message_log", keys="Ctrl+Shift+M",
             tip="Every status-bar message of this session, whole"),
        Spec("reset_layout", "&Reset Layout", "commands.reset_layout"),
    ),
    "&Help": (
        Spec("demo", "Open &Demo Project", "life.open_demo"),
        Spec("welcome", "&Welcome Note", "commands.welcome"),
        Spec("shortcuts", "&Keyboard Shortcuts", "commands.shortcuts", keys="F1"),
        Spec("about", "&About", "commands.about"),
    ),
}  # fmt: skip

RULES: dict[str, Callable] = {
    "always": lambda s: True,
    "project": lambda s: s.project is not None,
    "timeline": lambda s: s.project is not None and s.timeline.frame_count > 0,
    "shot": lambda s: s.project is not None and s.selected is not None,
    "sound": lambda s: s.project is not None and s.project.soundtrack is not None,
    "sound_shot": lambda s: RULES["sound"](s) and s.selected is not None,
    "fitted": lambda s: RULES["shot"](s) and bool(s.project.shot(s.selected).beats),
    "own_model": lambda s: s.project is not None and s.project.model is not None,
}
"""When an action is enabled, given the session."""


def specs() -> list[Spec]:
    return [e for entries in MENUS.values() for e in entries if isinstance(e, Spec)]


class Actions:
    """The QActions of :data:`MENUS`, made once: ``actions["save"]``; ``group("clip")`` for a
    context menu; :meth:`update` after anything that changes what is enabled. ``resolve(does)``
    gives the callable a spec names (the window's)."""

    def __init__(self, parent, resolve: Callable[[str], Callable]) -> None:
        self._actions: dict[str, QAction] = {}
        self._specs: dict[str, Spec] = {}
        for spec in specs():
            a = QAction(spec.text, parent, checkable=spec.checkable)
            if spec.keys:
                a.setShortcut(QKeySequence(spec.keys))
            if spec.tip:
                a.setStatusTip(spec.tip)
            slot = resolve(spec.does)
            if spec.checkable:  # its slot gets whether it is now on
                a.toggled.connect(slot)
            else:  # no argument: ``triggered`` sends ``checked``, which a method whose first
                # parameter is a path would take for one
                a.triggered.connect(lambda _checked=False, f=slot, args=spec.args: f(*args))
            self._actions[spec.id] = a
            self._specs[spec.id] = spec

    def __getitem__(self, id: str) -> QAction:
        return self._actions[id]

    def group(self, name: str) -> list[QAction]:
        return [self._actions[i] for i, spec in self._specs.items() if name in spec.groups]

    def update(self, session) -> None:
        for i, spec in self._specs.items():
            self._actions[i].setEnabled(bool(RULES[spec.enabled](session)))


def context_menu(parent, actions: list[QAction], at) -> None:
    """A widget's context menu: the window's own actions of its group (one object each: what
    the menu bar enables, the context menu enables)."""
    if actions:
        menu = QMenu(parent)
        menu.addActions(actions)
        menu.exec(at)
