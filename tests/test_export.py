import os

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from engine.errors import Cancelled, UserError
from engine.export import ExportSettings, clean_stale_parts, encode, format_for, plan_target


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
    assert s.padded_size(21) == (22, 22)
    assert s.padded_size((21, 10)) == (22, 10)
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
        encode(frames(30), 30, out, ExportSettings(format=fmt), overwrite=True,
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
    assert ok.problems(10, 64) == [] and ok.span(10) == (2, 10)
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


def test_a_png_sequence_never_deletes_what_it_did_not_write(tmp_path):
    """Issue 13.1: exporting to a folder of the user's deleted everything in it."""
    videos = tmp_path / "MyVideos"
    (videos / "holiday").mkdir(parents=True)
    (videos / "holiday" / "wedding.mov").write_bytes(b"precious")
    (videos / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"MyVideos: the folder holds things .*holiday/, notes.txt"):
        encode(frames(3), 3, videos, ExportSettings(format="png"))
    assert (videos / "holiday" / "wedding.mov").read_bytes() == b"precious"
    assert sorted(p.name for p in videos.iterdir()) == ["holiday", "notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["MyVideos"]  # no temporary left over


def test_a_png_sequence_replaces_only_its_own_frames_of_the_same_numbers(tmp_path):
    out = tmp_path / "seq"
    encode(frames(4), 4, out, ExportSettings(format="png"))  # frames 0…3
    old = (out / "frame_00003.png").read_bytes()
    (out / ".DS_Store").write_bytes(b"finder")  # what a desktop adds is neither refused nor lost
    plan = plan_target(out, "png", 2, 4)
    assert [p.name for p in plan.replaces] == ["frame_00002.png", "frame_00003.png"]
    assert plan.refused is None and not plan.needs_overwrite
    encode(frames(5, 24), 5, out, ExportSettings(format="png"), first_number=3)  # frames 3…7
    names = sorted(p.name for p in out.iterdir())
    assert names == [".DS_Store"] + [f"frame_{k:05d}.png" for k in range(8)]
    assert (out / "frame_00003.png").read_bytes() != old  # replaced, in the same folder
    with Image.open(out / "frame_00000.png") as im:
        assert im.size == (20, 20)  # kept from the first export
    assert (out / ".DS_Store").read_bytes() == b"finder"


def test_an_existing_file_is_replaced_only_when_asked(tmp_path):
    out = tmp_path / "film.mp4"
    out.write_bytes(b"the user's own film")
    assert plan_target(out, "mp4").needs_overwrite
    with pytest.raises(UserError, match="film.mp4: already exists"):
        encode(frames(3), 3, out, ExportSettings())
    assert out.read_bytes() == b"the user's own film"
    encode(frames(3), 3, out, ExportSettings(), overwrite=True)
    assert read_video(out)[0]["size"] == (20, 20)
    for target, fmt, why in ((tmp_path, "mp4", "is a folder"), (out, "png", "is a file")):
        assert why in plan_target(target, fmt).refused


def test_stale_temporary_files_of_killed_exports_are_cleaned(tmp_path):
    out = tmp_path / "film.mp4"
    dead = tmp_path / ".film.mp4.999999999-abcdef.part"  # no such process
    legacy = tmp_path / ".film.mp4.abc123.part"  # older name, no process id
    mine = tmp_path / f".film.mp4.{os.getpid()}-000000.part"  # a live process's: kept
    other = tmp_path / ".other.mp4.999999999-abcdef.part"  # another target's: kept
    for p in (dead, legacy, mine, other):
        p.write_bytes(b"half a file")
    (tmp_path / ".seq.999999999-abcdef.part").mkdir()
    assert sorted(clean_stale_parts(out)) == sorted([dead, legacy])
    assert mine.exists() and other.exists()
    encode(frames(2), 2, tmp_path / "seq", ExportSettings(format="png"))
    assert not (tmp_path / ".seq.999999999-abcdef.part").exists()


def test_a_gif_scaled_up_keeps_hard_pixels_and_its_frame_rate(tmp_path):
    """Issue 17: a GIF at 4× with the nearest filter is dithered at the source size, then each
    pixel is scaled up whole (a dither after the upscale speckled every big pixel); at 12 fps its
    delays (centiseconds) alternate 8 and 9 so that they average 1/12 s."""
    from PIL import ImageSequence

    h, w = 24, 32
    y, x = np.mgrid[0:h, 0:w]
    src = [np.stack([(x * 8 + i * 3) % 256, (y * 10) % 256, ((x + y) * 4 + 50) % 256],
                    -1).astype(np.uint8) for i in range(24)]  # fmt: skip
    out = tmp_path / "hard.gif"
    encode(src, 24, out, ExportSettings(format="gif", fps=12, scale=4))
    im = Image.open(out)
    delays = [f.info["duration"] for f in ImageSequence.Iterator(im)]
    assert len(delays) == 24 and abs(np.mean(delays) - 1000 / 12) < 1
    im.seek(5)
    a = np.array(im.convert("RGB")).reshape(h, 4, w, 4, 3)
    assert (a == a[:, :1, :, :1]).all()  # every 4×4 block one colour
    # the smooth filter scales first and dithers the result, as before
    encode(src, 24, tmp_path / "soft.gif", ExportSettings(format="gif", fps=12, scale=4,
                                                          filter="lanczos"))  # fmt: skip
    assert (tmp_path / "soft.gif").stat().st_size > 0
