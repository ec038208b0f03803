"""What the set has in front of the subject (engine.frames.front, issue 29): a road sign the
walkers pass behind is found from the clip alone, kept beside the cut-out and laid over the
character on another set (a shot's *In front*: keep or leave out), an undoable edit saved in the
project; a clip with nothing in front finds nothing. On footage made like real footage: the
street of tests/test_cutout.py, through ffmpeg."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.data.clips import write_video
from engine.document import Project, ProjectError
from engine.frames.director import Director
from tests.test_cutout import SIZE, street
from tests.test_studio_subjects import _opened

SIGN = (56, 34, 104, 46)
"""x0, y0, x1, y1: across the middle of the first walker (rows 22–58), over its path."""
BLUE = (30, 70, 160)


def signed() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The street with a blue sign (a white border) in front of its walkers, and sensor noise
    on it; the walkers' masks less what it hides; the sign's mask."""
    frames, masks, _, _ = street()
    x0, y0, x1, y1 = SIGN
    out = frames.astype(np.float32)
    out[:, y0:y1, x0:x1] = (235, 235, 235)
    out[:, y0 + 1 : y1 - 1, x0 + 1 : x1 - 1] = BLUE
    out[:, y0:y1, x0:x1] += np.random.default_rng(1).normal(0, 2.0, out[:, y0:y1, x0:x1].shape)
    sign = np.zeros(SIZE[::-1], bool)
    sign[y0:y1, x0:x1] = True
    return np.clip(out, 0, 255).astype(np.uint8), masks & ~sign, sign


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    """A project of the street with the sign, the street without it and a grey set; a shot of
    the signed street's walkers on the grey set; its Director."""
    root = tmp_path_factory.mktemp("front")
    frames, _, sign = signed()
    project = Project.create(root / "Film")
    grey = np.full((12, SIZE[1], SIZE[0], 3), 180, np.uint8)
    ids = [project.import_clip(write_video(root / f"{name}.mp4", f, fps=12, quality=9)).id
           for name, f in (("sign", frames), ("street", street()[0]), ("grey", grey))]
    project.set_output_size(SIZE)
    shot = project.add_shot((ids[0], 0), (ids[2], 0), ids[0])
    return project, ids, shot, Director(project, device="cpu", precision="fp32"), sign, frames


def test_a_sign_the_walkers_pass_behind_is_found_and_nothing_on_a_street_without(film):
    project, (clip, street_clip, _), _, d, sign, _ = film
    front = d.layers(clip).front()
    assert front is not None
    rgba, x0, y0 = front
    found = np.zeros(sign.shape, bool)
    found[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]] = rgba[..., 3] > 127
    assert (found & sign).sum() / (found | sign).sum() > 0.7
    assert np.abs(rgba[..., :3][rgba[..., 3] > 127].astype(int) - BLUE).mean() < 40  # its look
    assert d.layers(clip).front_hides and d.in_front(clip)
    # the same street, no sign: the gaps between the walkers' parts are not things in front
    assert d.layers(street_clip).front() is None and d.in_front(street_clip) is False


def test_the_sign_stays_in_front_of_the_walker_on_another_set_or_is_left_out(film):
    project, (clip, _, _), shot, d, sign, frames = film
    k = 17  # the first walker behind the sign (x = 17 · 6 − 20)
    kept = d.frame(k).astype(int)
    shown = frames[k][sign].astype(int)
    assert np.abs(kept[sign] - shown).mean() < 12  # the sign, over the walker's middle
    layer = d.frame(k, "cutout")
    assert (layer[..., 3][sign] > 200).mean() > 0.9  # it is part of the character's layer
    project.update_shot(shot.id, front="drop")
    dropped = d.frame(k).astype(int)
    assert np.abs(dropped[sign] - 180).mean() < 20  # the new set through the walker's hole
    # only the subjects it hid bring it along
    hides = d.layers(clip).front_hides
    others = [s["id"] for s in d.layers(clip).subjects if s["id"] not in hides]
    assert others  # (the walkers the sign is above: their tops only touch it)
    project.update_shot(shot.id, front="keep", subjects=others[:1])
    assert np.abs(d.frame(k).astype(int)[sign] - 180).mean() < 20
    project.update_shot(shot.id, subjects=hides[:1])
    assert np.abs(d.frame(k).astype(int)[sign] - shown).mean() < 12
    # as shot, the set holds the sign already: nothing laid twice
    as_shot = project.add_shot((clip, 0), (clip, 0), clip)
    assert project.shot(as_shot.id).as_shot
    with pytest.raises(ProjectError, match="front"):
        project.update_shot(shot.id, front="maybe")
    project.delete_shot(as_shot.id)


def test_a_schema_7_project_keeps_what_is_in_front(film, tmp_path):
    project, (clip, _, grey), _, _, _, _ = film
    p = Project.create(tmp_path / "Old")
    a = p.import_clip(project.clip_path(clip)).id
    b = p.import_clip(project.clip_path(grey)).id
    p.add_shot((a, 0), (b, 0), a, front="drop")
    p.save()
    assert Project.open(p.root).shots[0].front == "drop"
    doc = json.loads(p.file.read_text())
    doc["schema_version"] = 7
    del doc["timeline"]["shots"][0]["front"]
    p.file.write_text(json.dumps(doc))
    assert Project.open(p.root).shots[0].front == "keep"
    doc["timeline"]["shots"][0]["front"] = "behind"
    p.file.write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match="front"):
        Project.open(p.root)


def test_the_inspector_sets_what_stays_in_front(qtbot, make_window, tmp_path):
    grey = np.full((12, SIZE[1], SIZE[0], 3), 180, np.uint8)
    w, clip, _ = _opened(qtbot, make_window, tmp_path, ((0, 1), (0, 0)), sign=signed()[0],
                         grey=grey)  # fmt: skip
    s, insp = w.session, w.inspector
    away, home = (shot.id for shot in s.project.shots)
    s.select(away)
    s.seek(17)
    # the row waits for the analysis, and shows what it found once it is done
    qtbot.waitUntil(insp.front.isEnabled, timeout=60_000)
    assert s.engine.in_front(clip) and insp.front.currentData() == "keep"
    assert "passed behind" in insp.front.toolTip()
    insp.front.setCurrentIndex(insp.front.findData("drop"))
    insp.front.activated.emit(insp.front.currentIndex())
    assert s.project.shot(away).front == "drop" and s.undo.undoText() == "Set what stays in front"
    s.undo.undo()
    assert s.project.shot(away).front == "keep"
    s.select(home)  # as shot: its own set holds the sign
    assert not insp.front.isEnabled()
