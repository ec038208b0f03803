import os

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from engine.errors import UserError
from engine.export import ExportSettings, encode, format_for
from engine.synthesis import Cancelled


def frames(n=9, side=20, alpha=False):
    """Frames with a moving bright square; with alpha, transparent outside a disc."""
    out = []
    yy, xx = np.mgrid[:side, :side]
    for k in range(n):
        f = np.full((side, side, 3), 40, np.uint8)
        f[4:10, k : k + 6] = (250, 200, 30)
        if alpha:
            a = np.where((yy - side / 2) ** 2 + (xx - side / 2) ** 2 < (side / 3) ** 2, 255, 0)
            f = np.dstack([f, a.astype(np.uint8)])
        out.append(f)
    return out


def read_video(path, alpha=False):
    args = {"pix_fmt": "rgba", "bpp": 4, "input_params": ["-c:v", "libvpx-vp9"]} if alpha else {}
    gen = imageio_ffmpeg.read_frames(str(path), **args)
    meta = next(gen)
    w, h = meta["size"]
    data = [np.frombuffer(b, np.uint8).reshape(h, w, -1) for b in gen]
    return meta, data


def read_animation(path):
    with Image.open(path) as im:
        n = im.n_frames
        durations = []
        for k in range(n):
            im.seek(k)
            durations.append(im.info["duration"])
        return n, im.size, durations, im.info.get("loop"), im.mode


@pytest.mark.parametrize(
    "fmt, name, alpha",
    [
        ("mp4", "a.mp4", False),
        ("webm", "a.webm", False),
        ("webm", "a.webm", True),
        ("gif", "a.gif", False),
        ("apng", "a.png", False),
        ("apng", "a.apng", True),
        ("png", "frames", False),
        ("png", "frames", True),
    ],
)
def test_every_format_written_and_read_back(tmp_path, fmt, name, alpha):
    out = tmp_path / name
    assert format_for(out) == fmt
    s = ExportSettings(format=fmt, fps=12, scale=2, alpha=alpha)
    encode(frames(9, 20, alpha), 9, out, s, first_number=5)
    if fmt in ("mp4", "webm"):
        meta, data = read_video(out, alpha)
        assert (len(data), meta["size"], meta["fps"]) == (9, (40, 40), 12)
        if alpha:  # the disc stays opaque, the corners transparent
            assert data[0][20, 20, 3] > 200 and data[0][1, 1, 3] < 50
    elif fmt in ("gif", "apng"):
        n, size, durations, loop, mode = read_animation(out)
        assert (n, size, loop) == (9, (40, 40), 0)
        # GIF stores whole centiseconds: 8.33 cs alternates between 8 and 9
        assert np.mean(durations[:-1]) == pytest.approx(1000 / 12, abs=3)
        if alpha:
            assert mode == "RGBA"
    else:
        names = sorted(os.listdir(out))
        assert names[0] == "frame_00005.png" and len(names) == 9
        with Image.open(out / names[3]) as im:
            assert im.size == (40, 40) and im.mode == ("RGBA" if alpha else "RGB")
            pixels = np.asarray(im)
        # nearest-neighbour 2x: the square's edge stays hard, each pixel a 2x2 block
        src = frames(9, 20, alpha)[3]
        np.testing.assert_array_equal(pixels[::2, ::2], src)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left over


def test_odd_sizes_are_padded_never_stretched(tmp_path):
    src = frames(3, 21)  # 21 px: H.264 4:2:0 needs even sizes
    s = ExportSettings(format="mp4", fps=10, quality=10)
    assert s.padded_size(21) == 22
    encode(src, 3, tmp_path / "odd.mp4", s)
    meta, data = read_video(tmp_path / "odd.mp4")
    assert meta["size"] == (22, 22)
    # the picture is where it was, at its own scale; the extra column and row are black
    assert np.abs(data[1][:21, :21].astype(int) - src[1]).mean() < 6
    assert data[1][:, 21].max() < 40 and data[1][21, :].max() < 40


def test_lanczos_smooths_where_nearest_keeps_hard_edges(tmp_path):
    src = frames(1, 20)
    for f in ("nearest", "lanczos"):
        encode(src, 1, tmp_path / f, ExportSettings(format="png", scale=3, filter=f))
    hard = np.asarray(Image.open(tmp_path / "nearest" / "frame_00000.png"))
    soft = np.asarray(Image.open(tmp_path / "lanczos" / "frame_00000.png"))
    assert len(np.unique(hard.reshape(-1, 3), axis=0)) == 2
    assert len(np.unique(soft.reshape(-1, 3), axis=0)) > 4


@pytest.mark.parametrize("name", ["a.mp4", "seq"])
def test_cancel_leaves_nothing_behind_and_keeps_an_old_file(tmp_path, name):
    out = tmp_path / name
    fmt = format_for(out)
    if fmt == "png":
        out.mkdir()
        (out / "frame_00000.png").write_bytes(b"old")
    else:
        out.write_bytes(b"old")
    before = sorted(p.name for p in tmp_path.iterdir())
    seen = []
    with pytest.raises(Cancelled):
        encode(frames(30), 30, out, ExportSettings(format=fmt),
               progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 4)  # fmt: skip
    assert seen == [1, 2, 3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    kept = out / "frame_00000.png" if fmt == "png" else out
    assert kept.read_bytes() == b"old"


def test_an_error_mid_export_leaves_nothing(tmp_path):
    def broken():
        yield from frames(3)
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        encode(broken(), 10, tmp_path / "a.mp4", ExportSettings())
    assert list(tmp_path.iterdir()) == []


def test_settings_problems_are_explained_before_starting(tmp_path):
    ok = ExportSettings(format="webm", alpha=True, range=(2, 9), scale=4)
    assert ok.problems(10, 64) == [] and ok.frames(10) == (2, 10)
    bad = ExportSettings(format="gif", alpha=True, range=(5, 20), scale=100, fps=0, quality=11)
    text = " | ".join(bad.problems(10, 64))
    for expected in ("GIF cannot store transparency", "range 5…20", "scale", "fps", "quality"):
        assert expected in text
    assert ExportSettings().problems(0, 64) == ["the timeline is empty: add a shot first"]
    background = ExportSettings(format="png", alpha=True, layer="background")
    assert "no transparency" in background.problems(4, 64)[0]
    with pytest.raises(UserError, match="cannot tell the format"):
        format_for(tmp_path / "a.doc")
    with pytest.raises(UserError, match="does not exist"):
        encode(frames(2), 2, tmp_path / "missing" / "a.mp4", ExportSettings())


def test_an_ffmpeg_failure_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import engine.export as export_module

    real = export_module._ffmpeg_args

    def broken(settings, side):
        codec, pix, params = real(settings, side)
        return codec, pix, ["-vf", "no_such_filter"] + params[2:]

    monkeypatch.setattr(export_module, "_ffmpeg_args", broken)
    with pytest.raises(UserError, match="a.mp4: writing failed"):
        encode(frames(40), 40, tmp_path / "a.mp4", ExportSettings())
    assert list(tmp_path.iterdir()) == []
