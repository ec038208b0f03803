"""Three-way merge of project.json: what another writer saved (``theirs``) and what this one
has (``ours``), each against what both started from (``base``).

Data path role: the save of a project whose file changed on disk since it was read — a
time-lapse capture added its take, a second studio or ``engine.render --fit-beats`` saved —
merges instead of overwriting (the last save silently won: an editor's 5 shots became 2).
Clips and shots are matched by id: one added on either side is kept; one changed on one side
only takes that change; one deleted on one side and untouched on the other is deleted. A shot
changed on both sides is merged field by field, as the field table (engine.document.shot.FIELDS)
writes it: one side renames it while the other retimes it, and both changes stay. The same
setting, clip or shot field changed differently on both sides is a conflict — and so is a shot
fitted to beats on one side while the other changed what the fit was made of (its motion, speed,
holds …: the fields the table marks ``unfits``). :class:`MergeConflict` names them, and the
caller asks the user. Works on the JSON of the current schema (engine/
engine/document/files.py writes it), so a field added to a shot needs nothing here. No Qt.
"""

from __future__ import annotations

from typing import Any

from engine.document.rules import ProjectError
from engine.document.shot import FIELDS

SETTINGS = {("name",): "the project's name", ("model",): "the model",
            ("output",): "the output size and render mode", ("soundtrack",): "the soundtrack",
            ("timeline", "fps"): "the frame rate", ("timeline", "range"): "the in/out range"}
"""The project's own settings, each merged whole, and what a user calls them."""


class MergeConflict(ProjectError):
    """Both sides changed the same thing differently; ``conflicts`` says what, in words."""

    def __init__(self, file, conflicts: list[str]) -> None:
        shown = "; ".join(conflicts[:5]) + (f"; and {len(conflicts) - 5} more"
                                            if len(conflicts) > 5 else "")  # fmt: skip
        super().__init__(f"{file}: changed on disk by another program since it was opened, and "
                         f"both changed the same things: {shown}")
        self.conflicts = conflicts


def _get(doc: dict, path: tuple) -> Any:
    for key in path:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _put(doc: dict, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(key, {})
    doc[path[-1]] = value


def _pick(base: Any, ours: Any, theirs: Any) -> tuple[Any, bool]:
    """(the merged value, whether it is a conflict): a change on one side wins."""
    if ours == theirs or theirs == base:
        return ours, False
    if ours == base:
        return theirs, False
    return ours, True


def _records(base: list, ours: list, theirs: list, what: str, conflicts: list[str]) -> list:
    """Clips or shots, matched by id, in our order with theirs' new ones placed after the record
    they follow in theirs (at the end where that one is gone)."""
    b, o, t = ({r["id"]: r for r in side} for side in (base, ours, theirs))
    merged: dict[str, Any] = {}
    for rid, mine in o.items():
        if rid in b and rid not in t:  # deleted by them
            if mine != b[rid]:
                conflicts.append(f"{what} {_label(mine)} was changed here and deleted there")
                merged[rid] = mine
            continue
        if rid not in b and rid not in t:  # added by us
            merged[rid] = mine
            continue
        if what == "shot" and rid in b:
            value, clashes = _shot(b[rid], mine, t[rid])
            if clashes:
                conflicts.append(f"shot {_label(mine)}: {' and '.join(clashes)} changed on both "
                                 "sides")  # fmt: skip
        else:
            value, clash = _pick(b.get(rid), mine, t[rid])
            if clash:
                conflicts.append(f"{what} {_label(mine)} was changed on both sides")
        merged[rid] = value
    for rid in b.keys() - o.keys():  # deleted by us
        if rid in t and t[rid] != b[rid]:
            conflicts.append(f"{what} {_label(t[rid])} was deleted here and changed there")
    out = list(merged.values())
    for i, (rid, record) in enumerate(t.items()):
        if rid in b or rid in merged:
            continue  # (theirs' deletions and changes are merged above)
        before = list(t)[i - 1] if i else None
        at = next((k + 1 for k, r in enumerate(out) if r["id"] == before), None)
        out.insert(len(out) if at is None else at, record)
        merged[rid] = record
    return out


def _words() -> dict[str, str]:
    """A shot's JSON keys (a group's fields under one key) and what a user calls each."""
    words: dict[str, list[str]] = {}
    for f in FIELDS:
        words.setdefault(f.json.split(".")[0], []).append(f.label.lower())
    return {key: "/".join(dict.fromkeys(labels)) for key, labels in words.items()}


def _shot(base: dict, ours: dict, theirs: dict) -> tuple[dict, list[str]]:
    """A shot changed on both sides, merged key by key of its JSON; what clashed, in words."""
    words = _words()
    out, clashes, mine, yours = dict(ours), [], set(), set()
    for key in dict.fromkeys([*base, *ours, *theirs]):
        value, clash = _pick(base.get(key), ours.get(key), theirs.get(key))
        out[key] = value
        if clash:
            clashes.append(words.get(key, key))
        if ours.get(key) != base.get(key):
            mine.add(key)
        if theirs.get(key) != base.get(key):
            yours.add(key)
    unfitting = {f.json.split(".")[0] for f in FIELDS if f.unfits}
    fit = FIT_KEY
    refitted = (fit in mine and yours & unfitting) or (fit in yours and mine & unfitting)
    if refitted and words[fit] not in clashes:
        clashes.append(f"{words[fit]} (a fit to beats, made of what the other changed)")
    return out, clashes


FIT_KEY = next(f.json.split(".")[0] for f in FIELDS if f.name == "beats")
"""The JSON key of a shot's fit to beats."""


def _label(record: dict) -> str:
    return repr(record.get("name") or record.get("id"))


def merge(base: dict, ours: dict, theirs: dict, file=None) -> dict:
    """The merged document (the current schema's JSON, from files.to_json); a
    :class:`MergeConflict` where both sides changed the same thing differently."""
    conflicts: list[str] = []
    out = {**ours, "timeline": dict(ours["timeline"])}
    for path, words in SETTINGS.items():
        value, clash = _pick(_get(base, path), _get(ours, path), _get(theirs, path))
        if clash:
            conflicts.append(f"{words} ({'.'.join(path)})")
        _put(out, path, value)
    out["clips"] = _records(base.get("clips", []), ours["clips"], theirs.get("clips", []),
                            "clip", conflicts)  # fmt: skip
    out["timeline"]["shots"] = _records(_get(base, ("timeline", "shots")) or [],
                                        ours["timeline"]["shots"],
                                        _get(theirs, ("timeline", "shots")) or [], "shot",
                                        conflicts)  # fmt: skip
    used = {s[k]["clip"] for s in out["timeline"]["shots"]
            for k in ("character", "background", "motion")}  # fmt: skip
    kept = {c["id"] for c in out["clips"]}
    for clip in ours["clips"]:  # deleted there, but a shot here still uses it: it stays
        if clip["id"] in used - kept:
            out["clips"].append(clip)
            kept.add(clip["id"])
    if used - kept:
        conflicts.append("a clip one side deleted is used by a shot the other side has")
    if conflicts:
        raise MergeConflict(file, conflicts)
    return out
