"""The code's shape, checked (docs/ARCHITECTURE.md): no import circle between our modules (imports
inside functions count: they only hide one); no module in engine/ or studio/ over 600 lines
without its reason; the Director reached from one studio module only; the studio's GUI modules
import no torch; the shot field table declared once and read everywhere."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "studio")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``name`` imports, anywhere in it but under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))  # fmt: skip
            # a name that is a module of ours is that module; else the module it comes from
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []
    # the checker sees a circle where there is one
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_never_imports_the_studio_nor_qt():
    modules = _modules()
    for name, path in modules.items():
        if name.startswith("engine"):
            assert not any(m.startswith("studio") for m in _imports(name, path, modules)), name
            assert "PySide6" not in path.read_text(encoding="utf-8"), name


def test_no_module_over_600_lines_without_its_reason():
    """A module over MAX_LINES says why in its docstring, in a line starting "Length:"."""
    long = []
    for name, path in _modules().items():
        lines = path.read_text(encoding="utf-8").count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > MAX_LINES and "Length:" not in doc:
            long.append(f"{name} ({lines} lines)")
    assert long == []


def test_the_director_is_reached_from_one_studio_module():
    """Only studio/engine_client.py holds the Director (its thread owns it); every other module
    asks it (a queued job, a lookup that never waits)."""
    holders = []
    for path in sorted((ROOT / "studio").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\.(_?director)\b|\bDirector\(", text):
            holders.append(path.relative_to(ROOT).as_posix())
    assert holders == ["studio/engine_client.py"]


# -- the shot field table ---------------------------------------------------------------------
def test_the_field_table_declares_every_field_of_a_shot_once():
    from engine.document import FIELDS, Shot
    from engine.document.shot import FRAMES_ROLES

    names = [f.name for f in FIELDS]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(Shot))
    assert len(set(names)) == len(names) and len({f.json for f in FIELDS}) == len(FIELDS)
    assert all(f.frames in FRAMES_ROLES and f.label for f in FIELDS)


def _changed(shot, f):
    """``shot`` with field ``f`` set to another valid value than its own."""
    from engine.document import FrameRef, Key, MotionRef

    other = {"id": "s-other", "name": "Walk", "character": FrameRef("c1", 1),
             "background": FrameRef("c2", 2), "motion": MotionRef("c1", 1, 5), "duration": 9,
             "speed": 2.0, "hold": 2, "loop": "pingpong", "offset": 3, "seed": 7, "jumps": 0.25,
             "edge": "wrap", "extend": 4, "take": 1, "target": (0.5, 0.25),
             "path": (Key(0, 0.1), Key(5, -0.1, angle=30.0, ease="ease")), "beats": (2, 4),
             "timing": (0, 1, 1, 2), "render": "model", "pose": "match", "subjects": (2, 5),
             "driver": 3, "shadows": "soft", "front": "drop", "size": "fixed",
             "turns": "follow"}  # fmt: skip
    assert getattr(shot, f.name) != other[f.name]
    return dataclasses.replace(shot, **{f.name: other[f.name]})


@pytest.fixture
def one_shot(tmp_path):
    from engine.document import Clip, FrameRef, MotionRef, Project, Shot

    p = Project(root=tmp_path / "P.zoetrope", name="P")
    p.clips["c1"] = Clip("c1", "clip", "media/c.mp4", "video", 12, 24.0, 64, 48)
    p.clips["c2"] = Clip("c2", "other", "media/d.mp4", "video", 12, 24.0, 64, 48)
    return p, Shot("s1", FrameRef("c2"), FrameRef("c1"), MotionRef("c1", 0, 11), 12)


def test_every_field_reaches_project_json_and_back(one_shot):
    """The writer and the reader are the table's: each field, changed alone, is written and read
    back as it was (a field the writer forgot, or the reader, fails here)."""
    from engine.document import FIELDS
    from engine.document.files import from_json, to_json

    p, shot = one_shot
    for f in FIELDS:
        changed = _changed(shot, f)
        if f.name == "timing":
            changed = dataclasses.replace(changed, beats=(2, 4))  # a fit holds its beats
        if f.name in ("take", "target"):
            changed = dataclasses.replace(changed, extend=4)  # written with an extension only
        p.shots = [changed]
        doc = json.loads(json.dumps(to_json(p)))
        assert from_json(doc, p.root).shots == [changed], f.name
        assert f.json.split(".")[0] in doc["timeline"]["shots"][0], f.name


def test_every_field_that_times_a_frame_is_in_its_key(one_shot):
    """The frame key is made from the table: changing any field whose ``frames`` role is
    ``time`` changes a generated frame's key; a ``none`` field (a name) never does."""
    from engine.document import FIELDS, Key
    from engine.frames.key import frame_key

    _, shot = one_shot
    shot = dataclasses.replace(shot, path=(Key(0, 0.2),))  # generated: every time field counts
    for f in FIELDS:
        if f.frames == "mode":
            continue  # the render mode is frame_key's own argument
        changed = _changed(shot, f)
        same = frame_key(changed, 3, "composite", "pixels") == frame_key(shot, 3, "composite",
                                                                          "pixels")  # fmt: skip
        assert same == (f.frames == "none"), f.name


def test_a_field_added_to_the_table_is_read_written_checked_and_keyed(monkeypatch, one_shot):
    """A scratch field declared in the table alone: the writer writes it, the reader reads it,
    an edit checks its range, and a generated frame's key holds it."""
    from engine.document import shot as shot_module
    from engine.document.files import from_json, to_json
    from engine.frames import key as key_module

    @dataclasses.dataclass
    class Wider(shot_module.Shot):
        wobble: int = 0

    field = shot_module.Field("wobble", "endless.wobble", shot_module.Int(0, 9), "Wobble", "time",
                              0, "wobble must be 0…9")  # fmt: skip
    fields = (*shot_module.FIELDS, field)
    for module in (shot_module, key_module):
        monkeypatch.setattr(module, "FIELDS", fields)
    monkeypatch.setattr(shot_module, "FIELD", {f.name: f for f in fields})
    monkeypatch.setattr(shot_module, "Shot", Wider)
    p, plain = one_shot
    shot = Wider(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(plain)}, wobble=3)
    p.shots = [shot]
    doc = to_json(p)
    assert doc["timeline"]["shots"][0]["endless"]["wobble"] == 3
    assert from_json(json.loads(json.dumps(doc)), p.root).shots[0].wobble == 3
    with pytest.raises(Exception, match="wobble must be 0…9"):
        p.update_shot("s1", wobble=12)
    moved = dataclasses.replace(shot, loop="endless")
    assert key_module.frame_key(moved, 2, "composite") != key_module.frame_key(
        dataclasses.replace(moved, wobble=4), 2, "composite")
