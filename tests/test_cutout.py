"""The cut-out learnt from the clip itself (engine.frames.cutout) on footage made like real
footage: a textured set, sensor noise, subjects of many colours passing, a cast shadow, written
as H.264 through ffmpeg; and "as shot" through the Director."""

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import checkpoint
from engine.data.cache import FrameCache
from engine.data.clips import ClipReader, frame_files, write_video
from engine.document import Project, ProjectError
from engine.frames import cutout
from engine.frames.appearance import Appearance, Shade
from engine.frames.director import Director
from engine.frames.layers import LayerCache, LayerSettings
from engine.frames.regions import REGIONS_LEAST, Regions

SIZE = (160, 120)
N = 36


def psnr(a, b, where=None):
    d = (a.astype(float) - b.astype(float)) ** 2
    return 10 * np.log10(255**2 / max((d[where] if where is not None else d).mean(), 1e-10))


def street(seed: int = 0):
    """Frames, true masks and true shadows of walkers of three colours crossing a textured set,
    each with a cast shadow beside its feet (the set darkened to half, its texture kept)."""
    rng = np.random.default_rng(seed)
    w, h = SIZE
    noise = rng.integers(70, 190, (h // 4, w // 4, 3)).astype(np.uint8)
    the_set = cv2.resize(noise, SIZE, interpolation=cv2.INTER_CUBIC)
    the_set = cv2.GaussianBlur(the_set, (0, 0), 1.0)
    frames, masks, shades = [], [], []
    colours = [(200, 40, 40), (40, 60, 200), (230, 220, 60)]
    for k in range(N):
        f = the_set.astype(np.float32)
        mask, shade = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
        for i in range(len(colours)):
            x = int((k * 6 + i * 55) % (w + 40)) - 20
            y = 40 + 20 * i
            cv2.ellipse(shade, (x + 16, y + 20), (14, 4), 0, 0, 360, 1, -1)
            cv2.ellipse(mask, (x, y), (8, 18), 0, 0, 360, i + 1, -1)
        f[shade > 0] *= 0.5
        for i, c in enumerate(colours):
            body = mask == i + 1
            stripes = (np.indices((h, w))[0] // 4 % 2)[body, None]
            f[body] = np.array(c) * (0.75 + 0.25 * stripes)
        f += rng.normal(0, 2.0, f.shape)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
        masks.append(mask > 0)
        shades.append((shade > 0) & (mask == 0))
    return np.stack(frames), np.stack(masks), np.stack(shades), the_set


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    root = tmp_path_factory.mktemp("cutout")
    frames, masks, shades, the_set = street()
    path = write_video(root / "street.mp4", frames, fps=12, quality=9)
    decoded = np.stack(list(ClipReader(path).frames()))
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    cache = LayerCache(root / "layers", FrameCache(root / "frames"))
    return path, decoded, masks, shades, the_set, model, cache


def test_the_plate_is_the_set_and_never_worse_than_a_median(footage):
    _, frames, masks, _, the_set, _, _ = footage
    plate, support = cutout.set_plate(frames)
    fine = cutout.PlateMean(plate)
    for f in frames:
        fine.add(f)
    ours = psnr(fine.result(), the_set)
    median = psnr(np.median(frames, axis=0).astype(np.uint8), the_set)
    assert ours >= median and ours > 30
    assert support.shape == the_set.shape[:2] and 0 < support.min() <= support.max() <= 1


def test_a_subject_gesturing_on_his_spot_is_not_the_set(footage):
    """A man who keeps to his spot for most of the clip (swaying, waving an arm) and steps
    away now and then: the majority of samples shows him, but he moves and the wall he leaves
    uncovered does not, so the plate is the wall (Stillness), where a vote of all samples (or a
    median) keeps him in it."""
    the_set = footage[4]
    rng = np.random.default_rng(3)
    frames, away = [], []
    for k in range(60):
        f = the_set.astype(np.float32)
        gone = 20 <= k < 38  # (a third of the clip off his spot)
        x, y = (150, 60) if gone else (70 + rng.integers(-3, 4), 60 + rng.integers(-2, 3))
        cv2.ellipse(f, (int(x), int(y)), (14, 30), 0, 0, 360, (90, 50, 40), -1)
        arm = (int(x + 20 * np.cos(k * 0.7)), int(y - 20 + 12 * np.sin(k * 0.7)))
        cv2.line(f, (int(x), int(y) - 15), arm, (220, 180, 150), 5)
        f += rng.normal(0, 2.0, f.shape)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
        away.append(gone)
    frames = np.stack(frames)
    idx = np.linspace(0, len(frames) - 1, 48).round().astype(int)
    spot = np.zeros(the_set.shape[:2], bool)
    cv2.ellipse(spot.view(np.uint8), (70, 60), (10, 24), 0, 0, 360, 1, -1)
    ours, _ = cutout.set_plate(frames[idx], cutout.Stillness.of(frames, idx))
    votes, _ = cutout.set_plate(frames[idx])
    median = np.median(frames[idx], axis=0).astype(np.uint8)
    assert psnr(ours, the_set, spot) > 30
    assert psnr(votes, the_set, spot) < 20 and psnr(median, the_set, spot) < 20
    # and where nothing ever stood the plate is the set as before
    never = ~cv2.dilate(spot.view(np.uint8), np.ones((41, 41))).astype(bool)
    assert psnr(ours, the_set, never) > 30


REALMASK = Path(__file__).resolve().parents[2] / "shared" / "data" / "realmask"


def _real_scene(name: str, pick: range):
    """Frames ``pick`` of a real scene with hand-drawn masks (../shared/data/realmask): the
    frames, their masks, 48 samples' indices, the clip's plate and its Matting."""
    scene = REALMASK / name
    if not (scene / "groundtruth").is_dir():
        pytest.fail(f"real footage with masks not found in {scene} (../shared/data/realmask)")
    frames = np.stack([cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
                       for p in [frame_files(scene / "input")[k] for k in pick]])  # fmt: skip
    truth = np.stack([cv2.imread(str(frame_files(scene / "groundtruth")[k]),
                                 cv2.IMREAD_GRAYSCALE) for k in pick])  # fmt: skip
    idx = np.linspace(0, len(frames) - 1, 48).round().astype(int)
    plate = cutout.set_plate(frames[idx], cutout.Stillness.of(frames, idx))[0]
    square = np.ones((3, 3), np.uint8)
    matting = cutout.Matting(plate, cutout.noise_map(frames[idx], cv2.erode(plate, square),
                                                     cv2.dilate(plate, square)))  # fmt: skip
    return frames, truth, idx, plate, matting


def test_the_cut_out_learnt_from_real_footage_keeps_more_of_the_walkers():
    """On real footage with hand-drawn masks (HallAndMonitor, 120 frames; see
    ../shared/data/realmask) the small network learnt from the clip's own labels
    (Appearance) keeps more of the walkers than the thresholds alone — trousers a shade
    off the carpet — and only ever adds to a frame's mask: next to it (or a hole it closes),
    joined to it, never the cast shadow."""
    frames, truth, idx, plate, matting = _real_scene("HallAndMonitor", range(100, 220))
    look = Appearance.learn(frames[idx], plate, matting)
    score = np.zeros((2, 2))  # (alone, learnt) × (intersection, union)
    for frame, gt in zip(frames, truth, strict=True):
        mask = matting.mask(frame)
        shadow = matting.last_shadow
        out = look.extend(frame, plate, mask, shadow)
        new = (out > 0) & (mask == 0)
        assert not (mask & ~out).any()  # nothing taken away
        assert not (new & shadow).any()  # never the cast shadow
        n, labels = cv2.connectedComponents(out)
        assert set(np.unique(labels[new])) <= set(np.unique(labels[mask > 0]))  # joined to it
        scored, subject = gt != 170, gt == 255
        for i, m in enumerate((mask > 0, out > 0)):
            score[i] += ((m & subject & scored).sum(), ((m | subject) & scored).sum())
    alone, learnt = score[:, 0] / score[:, 1]
    assert learnt > alone + 0.01, (alone, learnt)


def test_walkers_are_cut_without_their_shadows(footage):
    path, _, masks, shades, _, model, cache = footage
    layers = cache.load(path, model, LayerSettings(cue="clip"))
    assert layers.cue == "clip"
    mattes = np.stack([layers.matte(k) > 127 for k in range(len(layers))])
    iou = (mattes & masks).sum() / (mattes | masks).sum()
    assert iou > 0.8
    # the shadows stay on the set: under a tenth of their pixels come with the walkers
    assert (mattes & shades).sum() < 0.1 * shades.sum()
    without = cutout.Matting(layers.plate, shadows=False)
    kept = np.stack([without.mask(f) > 0 for f in ClipReader(path).frames()])
    assert (kept & shades).sum() > 0.5 * shades.sum()  # what taking them out changed


def test_a_van_keeps_its_grey_panel_and_loses_its_shadow():
    """A white van with a big panel of the road's own grey (darker, smooth: to a pixel it looks
    like a shadow) and its cast shadow beside it: the shadow goes, the panel stays (a patch the
    subject surrounds is not a shadow: it does not lie on the set)."""
    rng = np.random.default_rng(5)
    h, w = 120, 160
    road = np.clip(150 + cv2.GaussianBlur(rng.normal(0, 12, (h, w)), (0, 0), 1.0), 0, 255)
    road = np.dstack([road, road * 0.97, road * 0.92]).astype(np.float32)
    frame = road.copy()
    frame[62:90, 20:70] *= 0.5  # its shadow: the road darkened, its texture kept
    frame[40:90, 70:120] = (235, 235, 240)  # the van, white
    panel = (slice(50, 84), slice(76, 112))
    frame[panel] = road[panel].mean(axis=(0, 1)) * 0.6  # smooth grey, the road's hue
    frame = np.clip(frame + rng.normal(0, 1.5, frame.shape), 0, 255).astype(np.uint8)
    mask = cutout.Matting(road.astype(np.uint8)).mask(frame) > 0
    assert mask[40:90, 70:120].mean() > 0.97
    assert mask[62:90, 20:68].mean() < 0.1


def test_a_mask_s_edge_is_where_the_subject_is_not_where_it_starts_to_show():
    """A blurred edge mixes a little of the subject into the set's pixels next to it: "differs
    at all" takes them, a pixel or two outside the subject. trim_rim moves the edge to where
    the frame differs by most of the subject's contrast; a limb two pixels wide (no inside)
    keeps all of its pixels."""
    rng = np.random.default_rng(4)
    h, w = 100, 140
    plate = np.full((h, w, 3), 150, np.float32)
    sharp = np.zeros((h, w), np.float32)
    cv2.circle(sharp, (50, 50), 20, 1.0, -1)
    sharp[20:80, 100:102] = 1.0  # the limb
    soft = cv2.GaussianBlur(sharp, (0, 0), 1.5)
    soft[20:80, 100:102] = 1.0
    frame = plate - 100 * soft[..., None] + rng.normal(0, 1.0, plate.shape)
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    matting = cutout.Matting(plate.astype(np.uint8))
    mask = matting.mask(frame)
    trimmed = matting.trim_rim(mask)
    disc = sharp[:, :90] > 0
    before = (mask[:, :90] > 0) ^ disc
    after = (trimmed[:, :90] > 0) ^ disc
    assert after.sum() < 0.5 * before.sum(), (before.sum(), after.sum())
    assert (trimmed[:, :90] > 0)[disc].mean() > 0.97  # it only takes the rim
    assert trimmed[20:80, 100:102].all()


def _board_scene(rng):
    """A whiteboard written on in red (the set), and a frame of it with a man in a grey shirt
    (his face beside it) and his cast shadow further along: the shirt, a neutral grey, is the
    board darkened — to a pixel, a shadow — where the board is blank."""
    h, w = 120, 200
    board = np.full((h, w, 3), (228, 228, 222), np.float32)
    for y, x in zip(rng.integers(4, h - 4, 40), rng.integers(4, w - 20, 40), strict=True):
        board[y : y + 2, x : x + 14] = (200, 60, 50)  # words
    plate = np.clip(board + rng.normal(0, 1.5, board.shape), 0, 255).astype(np.uint8)
    frame = board.copy()
    frame[30:110, 40:90] = (118, 118, 115)  # the shirt
    frame[8:30, 52:78] = (205, 160, 130)  # the face
    frame[50:110, 120:170] *= 0.55  # the shadow: the board darkened, its writing kept
    frame = np.clip(frame + rng.normal(0, 1.5, frame.shape), 0, 255).astype(np.uint8)
    return plate, frame


def test_a_grey_shirt_over_a_written_board_is_no_shadow(monkeypatch):
    """A patch that hides the set's texture is the subject, not its shadow: the shirt covers
    the board's writing, the shadow keeps it (fails without Matting._keeps_texture: the shirt
    goes with the shadow)."""
    plate, frame = _board_scene(np.random.default_rng(2))
    shirt, shadow = (slice(32, 108), slice(42, 88)), (slice(52, 108), slice(122, 168))
    mask = cutout.Matting(plate).mask(frame) > 0
    assert mask[shirt].mean() > 0.9
    assert mask[shadow].mean() < 0.1
    monkeypatch.setattr(cutout, "SHADOW_KEEPS", -2.0)  # what the test adds
    assert (cutout.Matting(plate).mask(frame) > 0)[shirt].mean() < 0.5


def test_a_clip_without_shadows_learns_no_shadow_test():
    """Nothing to learn from (no sure shadows; a clip of two tiny frames): no network, no
    warning, and the rule alone decides."""
    plate, frame = _board_scene(np.random.default_rng(2))
    frame = frame.copy()
    frame[50:110, 120:170] = plate[50:110, 120:170]  # the shadow gone
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Shade.learn(np.stack([frame] * 4), cutout.Matting(plate)) is None
        assert Shade.learn(np.stack([frame[:6, :8]] * 2), cutout.Matting(plate[:6, :8])) is None


def test_the_shadows_learnt_from_real_footage_leave_the_cars():
    """On real footage with hand-drawn masks (HighwayI, 120 frames; ../shared/data/realmask)
    the shadow test learnt from the clip's own sure shadows (Shade) finds the thin shadows
    the rule misses: the cut-out loses more of them than it loses of the cars."""
    frames, truth, idx, plate, matting = _real_scene("HighwayI", range(200, 320))
    shade = Shade.learn(frames[idx], matting)
    assert shade is not None
    score = np.zeros((2, 3))  # (rule, learnt) × (intersection, union, set taken)
    for i, test in enumerate((None, shade.test)):
        matting.learnt = test
        for frame, gt in zip(frames, truth, strict=True):
            m, subject, the_set = matting.mask(frame) > 0, gt == 255, gt == 0
            score[i] += ((m & subject).sum(), ((m | subject) & (gt != 170)).sum(),
                         (m & the_set).sum())  # fmt: skip
    (rule, learnt) = score[:, 0] / score[:, 1]
    assert learnt > rule + 0.02, (rule, learnt)
    assert score[1, 2] < 0.8 * score[0, 2]  # the set it takes for a car: a fifth less at least


def test_auto_trusts_the_model_only_where_it_sees_what_moves(footage):
    """The built-in model learnt puppets: on these walkers its matte misses what clearly moves,
    so the clip's own cut-out leads."""
    path, _, _, _, _, model, cache = footage
    assert cache.load(path, model).cue == "clip"


def test_nothing_moving_gives_an_empty_cut_out_not_an_error(tmp_path):
    frames = np.repeat(street()[3][None], 8, axis=0)
    matting = cutout.Matting(cutout.set_plate(frames)[0])
    assert not matting.mask(frames[0]).any()


def test_as_shot_is_the_footage_and_another_set_is_its_plate(footage, tmp_path):
    """A shot whose character, set and motion are one clip plays the footage itself (its noise,
    its shadows), at ≥ 40 dB on every frame; on another clip's set the character is laid on
    that set's clean plate."""
    path, frames, _, _, _, _, _ = footage
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(path).id
    other = project.import_clip(write_video(tmp_path / "empty.mp4",
                                            np.repeat(street(1)[3][None], 12, axis=0),
                                            fps=12, quality=9)).id  # fmt: skip
    project.add_shot((clip, 0), (clip, 0), clip)
    project.add_shot((clip, 0), (other, 0), clip)
    project.set_output_size(SIZE)
    project.save()
    d = Director(project, device="cpu", precision="fp32")
    rendered = list(d.frames())
    assert min(psnr(rendered[k], frames[k]) for k in range(N)) >= 40
    # its background layer is the set as shot, frame by frame (each its own, not one cached)
    sets = [d.frame(k, "background") for k in (3, 4)]
    assert psnr(sets[0], frames[3]) > psnr(sets[1], frames[3])
    plate = d.frame(N + 5, "background")
    assert np.array_equal(plate, d.frame(N + 6, "background"))  # a still plate, not a live set
    assert psnr(rendered[N + 5], frames[5]) < 30


def test_only_subjects_worth_picking_are_listed():
    """A walker across a long clip is listed; a leaf that shows in 3 of 200 frames, a speck
    seen all along, and a flicker of 2 frames are kept in the cut-out, not listed."""
    w, h = 160, 120
    tracker = cutout.SubjectTracker(w, h)
    for k in range(200):
        alpha = np.zeros((h, w), np.uint8)
        x = 10 + k * 140 // 200
        alpha[40:90, x : x + 14] = 255  # the walker
        alpha[5:9, 150:154] = 255  # a speck (16 px) in every frame
        if 50 <= k < 53:
            alpha[100:110, 130:140] = 255  # a leaf (100 px) for 3 frames
        if k in (120, 121):
            alpha[10:30, 60:80] = 255  # a flicker, big, for 2 frames
        tracker.label(alpha, 0, 0)
    listed = [s for s in tracker.subjects() if not s["minor"]]
    assert len(listed) == 1 and listed[0]["frames"] == 200 and listed[0]["area"] == 50 * 14
    assert len(tracker.subjects()) == 4


def test_a_subject_whose_edge_trim_cut_its_neck_stays_one_subject():
    """A head a pixel above its body (the edge's trim cut the neck) is one part, seen first:
    one subject, its area and centre the pixels it shows; a ball 3 px away is another."""
    tracker = cutout.SubjectTracker(100, 80)
    alpha = np.zeros((80, 100), np.uint8)
    alpha[10:20, 20:30] = 255  # the head
    alpha[21:60, 15:35] = 255  # the body, a one-pixel gap below it
    alpha[30:40, 38:48] = 255  # a ball, three pixels from the body
    labels = tracker.label(alpha, 0, 0)
    assert labels[15, 25] == labels[40, 25] != labels[35, 42] > 0
    assert labels[20, 25] == 0  # the gap stays out
    body = tracker.subjects()[0]
    assert body["area"] == 10 * 10 + 39 * 20
    cx, cy, _ = tracker.centres[0][int(labels[15, 25])]
    assert abs(cy - (14.5 * 100 + 40 * 780) / 880) < 1e-6 and abs(cx - 24.5) < 1e-6


def test_two_walkers_who_meet_stay_two_subjects():
    """Two walkers meet, stand side by side a while (their mattes one part) and part again:
    each keeps its own subject (its pixels, its centre) all along."""
    w, h = 160, 80
    tracker = cutout.SubjectTracker(w, h)
    touching = 0
    for k in range(45):
        apart = 3 * max(0, k - 30)  # together from k = 17 to 31
        a, b = min(20 + 3 * k, 70) - apart, max(130 - 3 * k, 84) + apart
        alpha = np.zeros((h, w), np.uint8)
        alpha[20:70, a : a + 14] = 255
        alpha[25:70, b : b + 14] = 255
        touching += b <= a + 14
        labels = tracker.label(alpha, 0, 0)
        if k == 0:
            left, right = int(labels[40, 25]), int(labels[40, 135])
            assert left != right and left and right
        # (where they touch, the split may take a pixel's column from one to the other)
        assert (labels[20:70, a : a + 14] == left).mean() > 0.9, k
        assert (labels[25:70, b : b + 14] == right).mean() > 0.9, k
        here = tracker.centres[k]
        assert abs(here[left][0] - (a + 6.5)) < 1 and abs(here[right][0] - (b + 6.5)) < 1, k
    assert touching >= 10 and {s["id"] for s in tracker.subjects()} == {left, right}


def test_each_walker_is_a_subject_to_pick_and_follow(footage):
    """The three walkers are three subjects, numbered as they appear; a click finds the one
    under it (nothing under it: 0); a cut-out of one shows that one only; its move is its own."""
    path, _, masks, _, _, model, cache = footage
    layers = cache.load(path, model, LayerSettings(cue="clip"))
    major = {s["id"] for s in layers.subjects if not s["minor"]}
    # walker i walks on row 40 + 20 i, from x = i·55 − 20, 6 px a frame: at frame 4 all three
    # are in sight, three subjects (none of them a speck)
    at4 = [layers.subject_at(4, i * 55 - 20 + 24, 40 + 20 * i) for i in (1, 2)]
    assert len(set(at4)) == 2 and set(at4) <= major
    k = 10
    x = (k * 6 + 55) % 200 - 20
    picked = layers.subject_at(k, x, 60)
    assert picked in (1, 2, 3)
    assert layers.subject_at(k, x, 5) == 0  # the sky above them all
    rgba, x0, y0 = layers.cutout(k, (picked,))
    ys, xs = np.nonzero(rgba[..., 3] > 127)
    assert abs(xs.mean() + x0 - x) < 3 and abs(ys.mean() + y0 - 60) < 4
    assert layers.cutout(k)[0][..., 3].sum() > 2.5 * rgba[..., 3].sum()
    move = layers.subject_motion(picked, k, k + 4)
    np.testing.assert_allclose(move[:, 2], (24, 0), atol=2)
    assert layers.subject_motion(999, 0, 5) is None
    thumb = layers.thumbnail(picked, 32)
    assert thumb.shape == (32, 32, 4) and thumb[..., 3].any()


def _two_clips(footage, tmp_path):
    """A project of the street and its first 12 frames as another clip, and its Director."""
    path, frames = footage[:2]
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(path).id
    other = project.import_clip(write_video(tmp_path / "other.mp4", frames[:12], fps=12,
                                            quality=9)).id  # fmt: skip
    project.set_output_size(SIZE)
    return project, clip, other, Director(project, device="cpu", precision="fp32")


def test_a_shot_of_one_subject_shows_that_one_and_a_new_clip_drops_the_pick(footage, tmp_path):
    project, clip, other, d = _two_clips(footage, tmp_path)
    frames = footage[1]
    x = [(10 * 6 + i * 55) % 200 - 20 for i in range(3)]  # the walkers at frame 10
    picked = d.layers(clip).subject_at(10, x[1], 60)
    shot = project.add_shot((clip, 0), (clip, 0), clip, subjects=[picked])
    one, without = d.frame(10), d.frame(10, "background")
    # walker 1 (the middle one) is there as shot, walkers 0 and 2 are not (the plate there)
    at = lambda img, i: img[40 + 20 * i - 10 : 40 + 20 * i + 10, x[i] - 5 : x[i] + 5]  # noqa: E731
    differs = lambda a, b: np.abs(a.astype(int) - b.astype(int)).mean()  # noqa: E731
    assert differs(at(one, 1), at(frames[10], 1)) < 4
    assert differs(at(one, 0), at(frames[10], 0)) > 15
    assert differs(at(one, 2), at(frames[10], 2)) > 15
    assert differs(at(without, 1), at(frames[10], 1)) > 15
    old = project.update_shot(shot.id, character=(other, 0))
    assert project.shots[0].subjects == () and old["subjects"] == (picked,)
    with pytest.raises(ProjectError, match="subjects"):
        project.update_shot(shot.id, subjects=[0])


def test_a_schema_6_project_opens_with_all_subjects_moving_together(footage, tmp_path):
    import json

    path = footage[0]
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(path).id
    project.add_shot((clip, 0), (clip, 0), clip, subjects=[3, 1], driver=2)
    project.save()
    again = Project.open(project.root)
    assert again.shots[0].subjects == (1, 3) and again.shots[0].driver == 2
    doc = json.loads(project.file.read_text())
    doc["schema_version"] = 6
    for s in doc["timeline"]["shots"]:
        del s["subjects"], s["driver"]
    project.file.write_text(json.dumps(doc))
    old = Project.open(project.root).shots[0]
    assert old.subjects == () and old.driver == 0
    doc["timeline"]["shots"][0]["subjects"] = [1, "x"]
    doc["schema_version"] = 7
    project.file.write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match="subjects"):
        Project.open(project.root)


def test_one_subjects_move_drives_another_clips_character(footage, tmp_path):
    project, clip, other, d = _two_clips(footage, tmp_path)
    sid = d.layers(clip).subject_at(4, 35 + 24, 60)  # the middle walker at frame 4
    shot = project.add_shot((other, 0), (other, 0), (clip, 4, 20), driver=sid, pose="rigid")
    matrix = d.pixels.placement(shot, d.drive(shot, 5))[0]  # its path over the ground
    np.testing.assert_allclose(matrix[:2, :2], np.eye(2), atol=1e-6)
    np.testing.assert_allclose(matrix[:2, 2], (30, 0), atol=2)  # 6 px a frame, 5 frames
    assert d.subject_at(project.timeline.frame_count - 1, 5, 5)[1] in (0, *range(1, 99))
    assert d.lost_picks(project.shots[0]) is None
    project.update_shot(shot.id, driver=999)  # a subject a re-analysis no longer has: still,
    assert "subject 999 of" in d.lost_picks(project.shots[0])  # and said
    np.testing.assert_allclose(d.pixels.placement(project.shots[0], d.drive(shot, 5))[0],
                               np.eye(3), atol=1e-6)  # fmt: skip


def test_one_dab_cuts_a_subject_that_never_moves_in_every_frame(footage, tmp_path):
    """A puppet that stands still on the set (nothing tells it from the set by moving) is not
    cut; one dab of the brush on it, on one frame, cuts it in every frame. The stroke is saved
    with the clip; one drawn on the clip at another size is refused, saying why."""
    frames, masks, _, _ = street()
    puppet = np.zeros(frames.shape[1:3], bool)
    puppet[8:36, 120:140] = True  # above the walkers' rows, never crossed
    colour = np.array([30, 160, 60]) + (np.indices(puppet.shape)[0] % 6 < 3)[..., None] * 40
    frames = frames.copy()
    frames[:, puppet] = colour[puppet]
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(write_video(tmp_path / "still.mp4", frames, fps=12,
                                           quality=9)).id  # fmt: skip
    project.add_shot((clip, 0), (clip, 0), clip)
    d = Director(project, device="cpu", precision="fp32")
    cut = lambda: np.stack([d.layers(clip).matte(k) > 127 for k in range(N)])  # noqa: E731
    assert cut()[:, puppet].mean() < 0.1  # the difference does not see it
    from engine.document import Stroke

    project.set_strokes(clip, (Stroke(7, True, 3.0, ((130.0, 20.0),), SIZE),))
    assert not d.analysed(clip)  # the layers with the stroke are other layers
    after = cut()
    iou = (after[:, puppet]).sum() / (after[:, :40, 110:150] | puppet[:40, 110:150]).sum()
    assert after[:, puppet].mean() > 0.9 and iou > 0.8
    assert (after & masks).sum() > 0.8 * masks.sum()  # the walkers are still cut
    project.save()
    assert Project.open(project.root).clip(clip).strokes == project.clip(clip).strokes
    with pytest.raises(ProjectError, match="160×120.*refused"):
        project.set_strokes(clip, (*project.clip(clip).strokes,
                                   Stroke(3, False, 3.0, ((5.0, 5.0),), (320, 240))))  # fmt: skip
    with pytest.raises(ProjectError, match="36 frames now"):
        project.set_strokes(clip, (Stroke(99, False, 3.0, ((5.0, 5.0),), SIZE),))
    project.clip(clip).width = 320  # the clip relinked to a bigger file: the stroke no longer fits
    assert "the stroke is ignored" in d.lost_picks(project.shots[0])


def test_a_clean_plate_the_user_shot_replaces_the_estimate(footage, tmp_path):
    """Stop-motion practice: the set shot empty before the puppet comes in. Marked as the
    clip's clean plate (Use as Clean Plate), it is the plate: a walker that stands still half
    the clip is no longer in it, and is cut. Saved; a clip of another size is refused; the
    clip that is someone's clean plate cannot be removed."""
    frames, masks, _, the_set = street()
    frames = frames.copy()
    stay = np.zeros(frames.shape[1:3], bool)
    stay[90:116, 20:36] = True  # a puppet standing in the same place in 2/3 of the frames
    frames[: 2 * N // 3, stay] = (200, 200, 240)
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(write_video(tmp_path / "walk.mp4", frames, fps=12,
                                           quality=9)).id  # fmt: skip
    empty = project.import_clip(write_video(tmp_path / "empty.mp4", np.repeat(the_set[None], 4,
                                                                              axis=0),
                                            fps=12, quality=9)).id  # fmt: skip
    small = project.import_clip(write_video(tmp_path / "small.mp4", frames[:4, :60, :80],
                                            fps=12, quality=9)).id  # fmt: skip
    project.add_shot((clip, 0), (clip, 0), clip)
    d = Director(project, device="cpu", precision="fp32")
    before = d.layers(clip)
    assert psnr(before.plate, the_set, stay) < 20  # the estimate holds the puppet
    assert np.mean([before.matte(k)[stay].mean() > 127 for k in range(10)]) < 0.5
    from engine.document import FrameRef

    project.set_plate(clip, FrameRef(empty, -1))
    after = d.layers(clip)
    # the empty set as its H.264 file holds it (its texture costs some dB to the encoding)
    assert psnr(after.plate, the_set) > 30 and psnr(after.plate, the_set, stay) > 30
    assert np.mean([after.matte(k)[stay].mean() > 127 for k in range(10)]) == 1
    project.save()
    assert Project.open(project.root).clip(clip).plate == FrameRef(empty, -1)
    with pytest.raises(ProjectError, match="same size"):
        project.set_plate(clip, FrameRef(small, 0))
    with pytest.raises(ProjectError, match="clean plate of"):
        project.remove_clip(empty)
    project.clip(clip).width = 320  # relinked to a bigger file: the plate no longer fits
    assert "its plate is estimated again" in d.lost_picks(project.shots[0])
    project.clip(clip).width = SIZE[0]
    assert project.set_plate(clip, None) == FrameRef(empty, -1)
    project.remove_clip(empty)


def test_a_cast_shadow_is_dropped_laid_soft_or_kept(footage, tmp_path):
    """The walkers' shadows are taken out of their cut-outs; on another set a shot drops them
    (the set as it is), lays them soft (the new set darkened as deep as the old one was) or
    keeps them (the old set's shadowed pixels). The character layer holds a soft shadow too,
    as translucent black, for a transparent export."""
    path, frames, masks, shades, _, _, _ = footage
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(path).id
    grey = np.full((12, SIZE[1], SIZE[0], 3), 180, np.uint8)
    other = project.import_clip(write_video(tmp_path / "grey.mp4", grey, fps=12, quality=9)).id
    shot = project.add_shot((clip, 0), (other, 0), clip)
    project.set_output_size(SIZE)
    d = Director(project, device="cpu", precision="fp32")
    k = 10
    shade = shades[k] & ~np.any(masks[max(0, k - 1) : k + 2], axis=0)  # clear of the walkers
    assert shade.sum() > 100
    dropped = d.frame(k).astype(int)
    assert abs(dropped[shade].mean() - 180) < 6
    project.update_shot(shot.id, shadows="soft")
    soft = d.frame(k).astype(int)
    assert 70 < soft[shade].mean() < 120  # darkened to about half, as on its own set
    assert np.abs(soft[~np.any(shades[k - 1 : k + 2], axis=0) & ~masks[k]] - dropped[
        ~np.any(shades[k - 1 : k + 2], axis=0) & ~masks[k]]).mean() < 1  # nothing else
    layer = d.frame(k, "matte")[..., 0].astype(int)
    assert 70 < layer[shade].mean() < 180  # translucent in the character layer
    project.update_shot(shot.id, shadows="keep")
    kept = d.frame(k).astype(int)
    old = frames[k].astype(int)
    assert np.abs(kept[shade] - old[shade]).mean() < 12  # the old set's shade, as it was
    with pytest.raises(ProjectError, match="shadows"):
        project.update_shot(shot.id, shadows="long")


def test_as_shot_decodes_the_clip_when_its_frames_are_too_big_to_keep(footage, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    """A long clip at a big size keeps no frames beside its layers: its set as shot is decoded
    from the clip (forward, as playback and export go; a step back starts again)."""
    from engine.frames import layers as layers_module

    monkeypatch.setattr(layers_module, "LIVE_BYTES", 0)
    path = write_video(tmp_path / "long.mp4", street(2)[0], fps=12, quality=8)  # (not cached)
    frames = np.stack(list(ClipReader(path).frames()))
    project = Project.create(tmp_path / "Film")
    clip = project.import_clip(path).id
    project.add_shot((clip, 0), (clip, 0), clip)
    project.set_output_size(SIZE)
    d = Director(project, device="cpu", precision="fp32")
    assert d.layers(clip).live_set(3) is None  # nothing kept
    for k in (2, 3, 30, 5):  # forward, a jump, back
        assert psnr(d.frame(k), frames[k]) >= 40


@pytest.mark.slow  # trains the network on 120 real frames (about 8 s on 2 cores)
def test_the_regions_learnt_from_real_footage_take_the_cars_whole():
    """On real footage with hand-drawn masks (HighwayI, 120 frames) the U-Net trained on the
    clip's own cut-out of 16 frames (Regions) moves whole regions — the set the cut-out took
    for a car, a car's part it missed — and keeps the cut-out's own edge: the matte's IoU rises
    and every pixel it changes lies in a changed region of REGIONS_LEAST px or more."""
    frames, truth, idx, plate, matting = _real_scene("HighwayI", range(200, 320))
    matting.learnt = (shade := Shade.learn(frames[idx], matting)) and shade.test
    taught = frames[idx[::3]]
    regions = Regions.learn(taught, plate, [matting.trim_rim(matting.mask(f)) for f in taught])
    assert regions is not None
    score = np.zeros((2, 2))
    for frame, gt in zip(frames, truth, strict=True):
        own = matting.trim_rim(matting.mask(frame))
        new = regions.refine(frame, own)
        moved = (new != own).view(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(moved, connectivity=8)
        assert (stats[1:, cv2.CC_STAT_AREA] >= REGIONS_LEAST // 2).all()  # (corners of a region)
        for i, m in enumerate((own > 0, new > 0)):
            score[i] += ((m & (gt == 255)).sum(), ((m | (gt == 255)) & (gt != 170)).sum())
    before, after = score[:, 0] / score[:, 1]
    assert after > before + 0.02, (before, after)
    empty = np.zeros(plate.shape[:2], np.uint8)
    assert regions.refine(frames[0], empty) is empty
    assert Regions.learn(np.stack([plate] * 4), plate, [empty] * 4) is None
