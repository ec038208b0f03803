"""The pixels renderer's pieces: T^Z in pixel coordinates, the demo kit at any size with its
truth, clip layers (plate, mattes, motion) and the compositor."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine import checkpoint
from engine.data import demokit as kit
from engine.data.cache import FrameCache
from engine.data.clips import write_video
from engine.errors import Cancelled
from engine.frames.compositor import composite, fit_image, fit_matrix, place
from engine.frames.layers import LayerCache, LayerSettings
from engine.geometry import pixels_to_theta, theta_to_pixels


def _grid_sample(image: np.ndarray, theta: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(image).permute(2, 0, 1)[None].double()
    grid = F.affine_grid(torch.from_numpy(theta)[None], list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("size", [(96, 64), (64, 64), (50, 120)])
def test_theta_in_pixels_moves_the_image_as_opencv_does(size):
    w, h = size
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.random((h, w, 3)), (7, 7), 2)
    a = np.radians(12)
    # turn 12° about a point off the centre, then move 5 px right and 3 px up
    c = np.array([w * 0.4, h * 0.6])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    forward = np.hstack([rot, (c - rot @ c + [5, -3])[:, None]])
    theta = pixels_to_theta(forward, w, h)
    ours = _grid_sample(image, theta)
    cv = cv2.warpAffine(image, forward, (w, h), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT)  # fmt: skip
    inside = (slice(12, h - 12), slice(12, w - 12))
    # OpenCV samples at 1/32 px, so they agree to its rounding, ten times closer than a map
    # that is a mere quarter of a pixel off
    err = np.abs(ours[inside] - cv[inside]).mean()
    assert err < 1e-3
    off = _grid_sample(image, pixels_to_theta(forward + [[0, 0, 0.25], [0, 0, 0]], w, h))
    assert np.abs(off[inside] - cv[inside]).mean() > 10 * err
    np.testing.assert_allclose(theta_to_pixels(theta, w, h), forward, atol=1e-9)


def test_a_shift_in_pixels_is_the_model_convention_shift():
    # the model's docstring: content moved by +t (normalised) shows as theta's last column ≈ -t
    theta = pixels_to_theta(np.array([[1.0, 0, 8], [0, 1, 0]]), 64, 32)
    np.testing.assert_allclose(theta, [[1, 0, -0.25], [0, 1, 0]], atol=1e-12)


def test_fit_matrix_keeps_the_whole_frame_and_centres_it():
    m = fit_matrix((320, 240), (1280, 720))  # 4:3 into 16:9: bars left and right
    corners = m @ np.array([[-0.5, 319.5], [-0.5, 239.5], [1, 1]])
    np.testing.assert_allclose(corners[:2].T, [[160 - 0.5, -0.5], [1120 - 0.5, 719.5]])
    fitted = fit_image(np.full((240, 320, 3), 200, np.uint8), (1280, 720))
    assert fitted.shape == (720, 1280, 3)
    assert fitted[:, :158].max() == 0 and fitted[:, 162:1118].min() == 200


def test_compositor_matches_a_known_composite():
    rng = np.random.default_rng(1)
    plate = rng.integers(0, 256, (60, 80, 3), np.uint8)
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., :3] = (250, 20, 30)
    rgba[..., 3] = 255
    rgba[:, :3, 3] = 128  # a soft left edge
    placed = place(rgba, 30, 20, np.array([[1.0, 0, 5], [0, 1, -4]]), (80, 60))
    out = composite(plate, placed)
    expected = plate.astype(np.float32)
    a = rgba[..., 3:].astype(np.float32) / 255
    region = expected[16:26, 35:47]
    expected[16:26, 35:47] = a * rgba[..., :3] + (1 - a) * region
    assert np.abs(out.astype(np.float32) - expected).max() <= 1
    cut = composite(plate, placed, "cutout")
    assert cut.shape == (60, 80, 4) and cut[16:26, 38:47, 3].min() == 255
    assert cut[..., 3].sum() == pytest.approx(rgba[..., 3].sum(dtype=np.int64), rel=1e-3)
    assert (composite(plate, None, "matte") == 0).all()
    assert (composite(plate, placed, "background") == plate).all()


def test_demo_kit_draws_any_size_with_true_mattes_and_motion():
    spec = next(s for s in kit.clip_specs("test", 12) if s.character.kind == "ball")
    frames = kit.render_clip(spec, (96, 48))
    mattes = kit.true_mattes(spec, (96, 48))
    assert frames.shape == (kit.FRAMES, 48, 96, 3) and mattes.shape == (kit.FRAMES, 48, 96)
    poses = spec.poses()
    # a ball is round, so its true motion moves the matte's centroid exactly
    for k in (5, 17):
        m = kit.true_motion(spec.character, poses[0], poses[k], (96, 48))
        centroid = [np.average(np.indices(mattes[i].shape)[::-1][j], weights=mattes[i])
                    for i in (0, k) for j in (0, 1)]  # fmt: skip
        moved = m[:, :2] @ centroid[:2] + m[:, 2]
        assert np.abs(moved - centroid[2:]).max() < 0.3


def _ious(layers, truth: np.ndarray) -> list[float]:
    """Each frame's matte IoU against the true masks (bool, N×H×W)."""
    out = []
    for k in range(len(layers)):
        m = layers.matte(k) > 127
        out.append((m & truth[k]).sum() / (m | truth[k]).sum())
    return out


@pytest.fixture(scope="module")
def kit_clip(tmp_path_factory):
    """A held-out rigid character hopping across a 4:3 set, written as H.264, and its layers."""
    root = tmp_path_factory.mktemp("layers")
    spec = next(s for s in kit.clip_specs("test", 40) if s.character.kind != "puppet"
                and s.motion in ("hop", "walk"))  # fmt: skip
    size = (160, 120)
    path = write_video(root / "clip.mp4", kit.render_clip(spec, size), fps=12, quality=9)
    torch.set_num_threads(2)
    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    cache = LayerCache(root / "layers", FrameCache(root / "frames"))
    return spec, size, path, model, cache, cache.load(path, model)


def test_layers_of_a_clip_are_at_its_own_size_and_match_the_truth(kit_clip):
    spec, size, path, model, cache, layers = kit_clip
    assert layers.size == size and len(layers) == kit.FRAMES
    assert layers.plate.shape == (120, 160, 3)
    truth = kit.true_mattes(spec, size) > 0.5
    ious = _ious(layers, truth)
    assert np.mean(ious) > 0.75
    # where the character never stood, the plate is the set
    bg = kit.render_background(spec.background, size).astype(int)
    never = ~truth.any(axis=0)
    assert np.median(np.abs(layers.plate.astype(int) - bg).max(axis=2)[never]) <= 4
    # the cut-out holds the character's own colours (no halo of the set at its edge)
    rgba, x0, y0 = layers.cutout(10)
    frame = kit.render_clip(spec, size)[10]
    solid = rgba[..., 3] == 255
    crop = frame[y0 : y0 + rgba.shape[0], x0 : x0 + rgba.shape[1]]
    assert np.median(np.abs(rgba[..., :3][solid].astype(int) - crop[solid]).max(axis=1)) <= 6
    # a second load reads the cache: same folder, no recomputation
    assert cache.load(path, model).folder == layers.folder


def test_tracked_motion_follows_the_true_motion_from_frame_to_frame(kit_clip):
    spec, size, _, _, _, layers = kit_clip
    poses = spec.poses()
    errors = []
    for k in range(1, len(poses)):
        c = kit.pose_matrix(spec.character, poses[k - 1], size)[:2, 2]
        true = kit.true_motion(spec.character, poses[k - 1], poses[k], size)
        est = layers.tracked_motion(k - 1, k)
        errors.append(np.linalg.norm((est[:, :2] @ c + est[:, 2]) - (true[:, :2] @ c + true[:, 2])))
    # one step is good to a fraction of a pixel (chained over a clip it drifts: docs/LAYERS.md)
    assert np.median(errors) < 0.5


def test_computing_layers_can_be_cancelled_and_leaves_nothing(kit_clip, tmp_path):
    _, _, path, model, cache, _ = kit_clip
    other = LayerCache(tmp_path / "layers", cache.frames)
    seen = []

    def progress(done, total):
        seen.append((done, total))

    with pytest.raises(Cancelled):
        other.load(path, model, LayerSettings(edge="hard"), progress=progress,
                   cancel=lambda: len(seen) > 2)  # fmt: skip
    assert not [p for p in (tmp_path / "layers").iterdir()]
    assert seen and all(0 <= d <= t for d, t in seen)


def test_director_in_pixels_mode_composites_the_layers(kit_clip, tmp_path):
    """A background swap in pixels mode: the character clip's own cut-outs over the other clip's
    plate, at the output size (non-square, another aspect: fitted whole, never cropped)."""
    from engine.document import Project
    from engine.frames.director import Director

    spec, size, path, model, cache, layers = kit_clip
    other = next(s for s in kit.clip_specs("test", 40) if s.background != spec.background)
    set_path = write_video(tmp_path / "set.mp4", kit.render_clip(other, size), fps=12, quality=9)
    p = Project.create(tmp_path / "Swap")
    a, b = p.import_clip(path).id, p.import_clip(set_path).id
    p.add_shot((a, 0), (b, 0), (a, 0, kit.FRAMES - 1), duration=kit.FRAMES)
    assert p.frame_size == size and p.render_mode == "pixels"
    d = Director(p, model, device="cpu", layer_cache=cache)
    frame = d.frame(7)
    plate = cache.load(p.clip_path(b), model).plate
    rgba, x0, y0 = layers.cutout(7)
    assert frame.shape == (120, 160, 3)
    np.testing.assert_array_equal(frame, composite(plate, place(rgba, x0, y0, np.eye(3), size)))
    p.set_output_size((320, 180))  # 16:9 output of a 4:3 clip: bars left and right
    d.clear()
    wide = d.frame(7)
    assert wide.shape == (180, 320, 3) and wide[:, :30].max() == 0
    matte = d.frame(7, "matte")
    assert matte[..., 0].max() == 255 and (matte[..., 0] > 127).sum() > 100
    assert d.frame(7, "cutout").shape == (180, 320, 4)


def test_a_transfer_stays_upright_unless_it_follows_the_motions_turns(kit_clip, tmp_path):
    """Pixels mode, a character moved by another clip's spinning motion (issue 30): upright by
    default — that clip's turns mean nothing on another set — and, with turns "follow", turned
    as the motion clip's tracked motion (the default) or T^Z (``motion="model"``) turns it."""
    from engine.document import Project
    from engine.frames.director import Director
    from engine.frames.transfer import turn_of

    spec, size, path, model, cache, layers = kit_clip
    p = Project.create(tmp_path / "Transfer")
    ch = p.import_clip(path).id
    mover = next(s for s in kit.clip_specs("test", 40) if s.motion == "spin")
    mo_path = write_video(tmp_path / "mover.mp4", kit.render_clip(mover, size), fps=12, quality=9)
    mo = p.import_clip(mo_path).id
    shot = p.add_shot((ch, 3), (ch, 0), (mo, 2, 20), duration=19, pose="rigid")
    moving = cache.load(mo_path, model)
    tracked = Director(p, model, device="cpu", layer_cache=cache)
    upright = tracked.pixels.placement(shot, tracked.drive(shot, 9))[0]
    np.testing.assert_allclose(upright[:2, :2], np.eye(2), atol=1e-9)  # upright, as shot
    shot = p.update_shot(shot.id, turns="follow") and p.shots[0]
    turned = tracked.pixels.placement(shot, tracked.drive(shot, 9))[0]  # motion frame 11
    want = turn_of(moving.tracked_motion(2, 11))
    assert abs(want) > 10 and turn_of(turned) == pytest.approx(want, abs=1e-6)
    assert np.linalg.det(turned[:2, :2]) == pytest.approx(1.0)  # turned, not grown
    by_model = Director(p, model, device="cpu", layer_cache=cache, motion="model")
    frames = by_model.clip_frames(mo)
    with torch.inference_mode():
        z = model.f_c(torch.from_numpy(np.array(frames[[2, 11]])).permute(0, 3, 1, 2).float() / 255)
        theta = model.transform(z[:1], z[1:]).numpy()[0]
    got = by_model.pixels.placement(shot, by_model.drive(shot, 9))[0]
    assert turn_of(got) == pytest.approx(turn_of(theta_to_pixels(theta, *size)), abs=0.01)
    assert shot.motion_frame(9) == 11


def test_render_cli_exports_the_cut_out_character_at_the_clips_own_size(kit_clip, tmp_path):
    from PIL import Image

    from engine.document import Project
    from tests.conftest import run_module

    spec, size, path, model, cache, layers = kit_clip
    p = Project.create(tmp_path / "Alpha")
    a = p.import_clip(path).id
    p.add_shot((a, 0), (a, 0), (a, 0, kit.FRAMES - 1), duration=kit.FRAMES)
    p.save()
    out = tmp_path / "frames"
    r = run_module("engine.render", str(p.root), "--out", str(out), "--alpha", "--range", "4:6",
                   "--device", "cpu", "--progress", "none")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "160×120 px" in r.stderr and "pixels mode" in r.stderr
    with Image.open(out / "frame_00005.png") as im:
        assert im.mode == "RGBA" and im.size == size
        alpha = np.asarray(im)[..., 3]
    truth = kit.true_mattes(spec, size)[5] > 0.5
    got = alpha > 127
    assert (got & truth).sum() / (got | truth).sum() > 0.75  # the character, not the frame


def test_a_transfer_plays_the_characters_own_steps_in_time(kit_clip, tmp_path):
    """The same puppet doing the same motion on two sets (issue 30): moved by the other's
    motion, its own frames play in step with it — its walk cycle at the pace of the path, or
    the closest poses in time order — and the shot looks more like the truth than the
    character frame moved as a whole."""
    from engine.document import Project
    from engine.frames.director import Director

    _, size, _, model, cache, _ = kit_clip
    spec = next(s for s in kit.clip_specs("test", 40) if s.motion == "hop"
                and s.character.kind == "puppet")  # fmt: skip
    other = next(s for s in kit.clip_specs("test", 40) if s.background != spec.background)
    twin = kit.ClipSpec(spec.character, other.background, spec.motion, spec.motion_seed)
    p = Project.create(tmp_path / "Pose")
    ids = []
    for name, s in (("mover", spec), ("twin", twin)):
        path = write_video(tmp_path / f"{name}.mp4", kit.render_clip(s, size), fps=12, quality=9)
        ids.append(p.import_clip(path).id)
    mover, twin_id = ids
    shot = p.add_shot((twin_id, 0), (twin_id, 0), (mover, 0, kit.FRAMES - 1), duration=kit.FRAMES,
                      pose="rigid")  # fmt: skip
    d = Director(p, model, device="cpu", layer_cache=cache)
    truth = kit.true_mattes(twin, size) > 0.5
    ts = range(2, kit.FRAMES, 3)

    def iou() -> float:  # where the shot's character is against where the truth's is
        mattes = [d.frame(t, "matte")[..., 0] > 127 for t in ts]
        return np.mean([(m & truth[t]).sum() / (m | truth[t]).sum()
                        for m, t in zip(mattes, ts, strict=True)])  # fmt: skip

    rigid = iou()
    shown = {}
    for steps in ("match", "cycle"):
        p.update_shot(shot.id, pose=steps)
        shown[steps] = [d.place(p.shots[0], t).frame for t in range(kit.FRAMES)]
        assert iou() > rigid + 0.05, steps  # measured: rigid 0.62, match 0.92, cycle 0.78
    # in time order: the matched frame never jumps back, the cycle plays on
    assert sum(b < a for a, b in zip(shown["match"], shown["match"][1:], strict=False)) <= 2
    assert sum(abs(a - t) <= 2 for t, a in enumerate(shown["cycle"])) >= 0.8 * kit.FRAMES


VARIANTS = [LayerSettings(edge="guided"), LayerSettings(cue="difference", edge="hard")]


@pytest.mark.parametrize("settings", VARIANTS)
def test_the_measured_matte_variants_work_too(kit_clip, settings):
    spec, size, path, model, cache, _ = kit_clip
    layers = cache.load(path, model, settings)
    truth = kit.true_mattes(spec, size) > 0.5
    ious = _ious(layers, truth)
    assert np.mean(ious) > 0.7


def test_a_killed_computations_leftovers_go_after_a_day(kit_clip, tmp_path):
    import os
    import time

    _, _, path, model, cache, _ = kit_clip
    other = LayerCache(tmp_path / "layers", cache.frames)
    old, young = tmp_path / "layers" / ".abc.x1.tmp", tmp_path / "layers" / ".abc.x2.tmp"
    for leftover in (old, young):
        leftover.mkdir(parents=True)
        (leftover / "cutouts.bin").write_bytes(b"x")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    other.load(path, model, LayerSettings(edge="hard"))
    assert not old.exists() and young.exists()


def test_a_character_that_never_leaves_its_spot_is_cut_out_whole(kit_clip, tmp_path):
    """A ball spinning on the spot: its white body never changes, only its stripe does. The
    clip's mean matte says the body is character too, so it is neither in the plate nor left
    out of the cut-out; and the layers are the same each time they are made (GrabCut's random
    start is seeded)."""
    _, _, _, model, cache, _ = kit_clip
    # a size users work at; at 160×120 GrabCut drops half the ball in half the frames (0.73)
    size = (320, 240)
    spec = next(s for s in kit.clip_specs("test", 12) if s.character.kind == "ball"
                and s.motion == "spin")  # fmt: skip
    path = write_video(tmp_path / "ball.mp4", kit.render_clip(spec, size), fps=12, quality=9)
    truth = kit.true_mattes(spec, size) > 0.5
    layers = cache.load(path, model)
    ious = _ious(layers, truth)
    assert np.mean(ious) > 0.85  # 0.31 when only each frame's own matte counted
    body = truth.all(axis=0)  # where the ball always is
    bg = kit.render_background(spec.background, size).astype(int)
    ball = kit.render_clip(spec, size)[0].astype(int)
    plate = layers.plate.astype(int)
    assert (np.abs(plate - bg).sum(axis=2)[body].mean()
            < np.abs(plate - ball).sum(axis=2)[body].mean())  # fmt: skip
    again = LayerCache(tmp_path / "again", cache.frames).load(path, model)
    assert all(np.array_equal(again.matte(k), layers.matte(k)) for k in range(len(layers)))


@pytest.mark.slow
def test_a_thin_leg_the_models_matte_stops_short_of_is_cut_out_to_its_foot(kit_clip, tmp_path):
    """A puppet walking on a pavement: the model's matte, made at its own small size, stops
    5–15 px short of its thin legs' ends; what differs from the plate goes on from it down to
    the feet (the cut-out's lowest row was 11 px high in half the frames)."""
    _, _, _, model, cache, _ = kit_clip
    size = (320, 240)
    spec = next(s for s in kit.clip_specs("test", 24)
                if s.name == "test-puppet-15_walk_test-town-28")  # fmt: skip
    path = write_video(tmp_path / "walk.mp4", kit.render_clip(spec, size), fps=12, quality=9)
    layers = cache.load(path, model)
    assert layers.cue == "both"  # (the model's matte leads on the kit)
    high = []
    for k, truth in enumerate(kit.true_mattes(spec, size) > 0.5):
        rgba, _, y0 = layers.cutout(k)
        high.append(np.flatnonzero(truth.any(axis=1))[-1]
                    - (y0 + np.flatnonzero((rgba[..., 3] > 127).any(axis=1))[-1]))  # fmt: skip
    assert np.median(np.abs(high)) <= 1 and np.max(np.abs(high)) <= 3, high


def test_layers_made_across_a_clear_are_returned_but_not_kept(kit_clip, tmp_path):
    """A clip's frames changed while its layers were being made (the capture window grew it and
    the Director was cleared): those layers are not kept for the clip, its next use redoes them."""
    from engine.document import Project
    from engine.frames.director import Director
    from engine.frames.layers import LayerCache

    spec, size, path, model, cache, layers = kit_clip
    p = Project.create(tmp_path / "Grown")
    clip = p.import_clip(path).id
    d = Director(p, model, device="cpu", layer_cache=LayerCache(tmp_path / "layers"))
    cleared = []

    def step(name, done, total):
        if not cleared:
            d.clear()
            cleared.append(done)

    assert len(d.layers(clip, progress=step)) == kit.FRAMES and cleared
    assert not d.analysed(clip)
    d.layers(clip)
    assert d.analysed(clip)


def test_an_analysis_decodes_its_clip_once_and_keeps_no_spool(kit_clip, tmp_path, monkeypatch):
    """The analysis reads its clip three or four times; the frames decoded once (for the frame
    cache) are spooled to disk and read back — the same layers as decoding every time, the spooled
    file kept as the live frames where they are kept and gone where they are not."""
    from engine.data import clips
    from engine.frames import layers as layers_mod

    _, _, path, model, _, spooled = kit_clip
    decoded = []
    real = clips.ClipReader.frames
    monkeypatch.setattr(clips.ClipReader, "frames",
                        lambda self: (decoded.append(1), (yield from real(self)))[1])
    fresh = LayerCache(tmp_path / "a", FrameCache(tmp_path / "fa")).load(path, model)
    assert len(decoded) == 1  # the frame cache's pass; the others read the spool
    assert (fresh.folder / "frames.bin").is_file() and fresh._frames is not None
    monkeypatch.setattr(layers_mod, "SPOOL_BYTES", 0)  # every pass decodes
    plain = LayerCache(tmp_path / "b", FrameCache(tmp_path / "fb")).load(path, model)
    assert len(decoded) - 1 in (3, 4)  # frame cache, samples, (the clip's own plate,) cut
    for name in ("cutouts.bin", "labels.bin", "frames.bin", "plate.npy", "boxes.npy"):
        assert (fresh.folder / name).read_bytes() == (plain.folder / name).read_bytes(), name
    monkeypatch.setattr(layers_mod, "SPOOL_BYTES", 1 << 30)
    monkeypatch.setattr(layers_mod, "LIVE_BYTES", 0)  # not kept: the spool goes
    gone = LayerCache(tmp_path / "c", FrameCache(tmp_path / "fc")).load(path, model)
    assert not (gone.folder / "frames.bin").exists() and gone._frames is None
    assert (gone.folder / "cutouts.bin").read_bytes() == (plain.folder / "cutouts.bin").read_bytes()
    assert sorted(p.name for p in gone.folder.iterdir()) == sorted(
        p.name for p in plain.folder.iterdir() if p.name != "frames.bin")
