import numpy as np
import pytest
from PIL import Image

from engine.data.cache import FrameCache
from engine.data.clips import ClipReader, find_clips, fit_frame, write_video
from engine.errors import ClipError, UserError


def _frames(n, w=40, h=30):
    rng = np.random.default_rng(n)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, k, axis=1) for k in range(n)]


@pytest.mark.parametrize("ext", [".mp4", ".mov", ".avi", ".mkv", ".webm", ".gif"])
def test_every_video_format_reads_back(tmp_path, ext):
    path = write_video(tmp_path / f"clip{ext}", _frames(7), fps=12)
    reader = ClipReader(path)
    frames = list(reader.frames())
    assert len(frames) == 7
    assert frames[0].shape == (30, 40, 3) and frames[0].dtype == np.uint8
    # GIF stores frame delays in whole centiseconds: 1/12 s becomes 8 cs, i.e. 12.5 fps.
    assert reader.info.fps == pytest.approx(12, rel=0.05 if ext == ".gif" else 0.001)


def test_numbered_frame_folder_reads_in_numeric_order(tmp_path):
    for k in (1, 2, 10):  # natural order: 2 before 10
        Image.fromarray(np.full((20, 24, 3), k, np.uint8)).save(tmp_path / f"frame{k}.png")
    Image.fromarray(np.full((20, 24, 3), 3, np.uint8)).save(tmp_path / "frame3.jpg", quality=100)
    values = [int(f[0, 0, 0]) for f in ClipReader(tmp_path).frames()]
    assert values == [1, 2, 3, 10]


def test_fit_stretch_crop_and_letterbox():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :50] = 255  # left quarter white: cut away by the crop, kept by the others
    crop = fit_frame(frame, 32, "crop")
    box = fit_frame(frame, 32, "letterbox")
    whole = fit_frame(frame, 32)  # stretch, the default: all of the frame, no bars
    assert crop.shape == box.shape == whole.shape == (32, 32, 3)
    assert crop.max() == 0
    assert box[16, 2].min() > 200 and box[0, 16].max() == 0 and box[31, 16].max() == 0
    assert whole[:, :7].min() > 200 and whole[:, 9:].max() == 0
    with pytest.raises(UserError):
        fit_frame(frame, 32, "squash")


def test_cache_decodes_once_and_keys_by_content(tmp_path, monkeypatch):
    path = write_video(tmp_path / "a.mp4", _frames(6), fps=8)
    calls = []
    real = ClipReader.frames
    monkeypatch.setattr(ClipReader, "frames", lambda self: calls.append(1) or real(self))
    cache = FrameCache(tmp_path / "cache")
    first = cache.load(path, 32)
    assert first.frames.shape == (6, 32, 32, 3) and len(calls) == 1
    copy = tmp_path / "renamed.mp4"
    copy.write_bytes(path.read_bytes())
    again = cache.load(copy, 32)
    assert len(calls) == 1  # same content: no decode
    np.testing.assert_array_equal(first.frames, again.frames)
    cache.load(path, 48)
    cache.load(path, 32, "letterbox")
    assert len(calls) == 3  # other settings: decoded again
    write_video(copy, _frames(5), fps=8)
    assert len(cache.load(copy, 32)) == 5 and len(calls) == 4


def test_decoding_a_clip_says_how_far_it_got(tmp_path):
    """A first decode reports its frames as it goes, against how many the clip should hold
    (a video's duration × rate; a folder's files): the training's "Preparing clips" stage."""
    video = write_video(tmp_path / "a.mp4", _frames(20), fps=10)
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, f in enumerate(_frames(17)):
        Image.fromarray(f).save(folder / f"f{k}.png")
    for clip, count in ((video, 20), (folder, 17)):
        seen: list = []
        cache = FrameCache(tmp_path / "cache")
        cache.load(clip, 32, progress=lambda n, of, s=seen: s.append((n, of)))
        assert seen == [(8, count), (16, count)], clip


def test_long_clip_is_streamed_not_held(tmp_path):
    """A 1080p clip passes through the cache with only model-resolution frames kept."""
    import tracemalloc

    frames = [np.full((1080, 1920, 3), k * 20, np.uint8) for k in range(12)]
    path = write_video(tmp_path / "big.mp4", frames, fps=24)
    del frames
    tracemalloc.start()
    clip = FrameCache(tmp_path / "cache").load(path, 64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(clip) == 12
    assert peak < 4 * 1920 * 1080 * 3  # a few frames at most, never the whole clip (75 MB)


def test_find_clips_expands_folders(tmp_path):
    write_video(tmp_path / "a.mp4", _frames(3))
    sub = tmp_path / "shots" / "take1"
    sub.mkdir(parents=True)
    for k in range(3):
        Image.fromarray(_frames(1)[0]).save(sub / f"{k:04d}.png")
    (tmp_path / "notes.txt").write_text("hi")
    clips, warnings = find_clips([tmp_path, tmp_path / "notes.txt"])
    assert clips == [tmp_path / "a.mp4", sub]
    assert warnings and "notes.txt" in warnings[0]
    with pytest.raises(UserError, match="no such file"):
        find_clips([tmp_path / "missing.mp4"])


def test_bad_clips_name_the_file_and_the_reason(tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(ClipError, match=r"fake\.mp4: not a readable video"):
        list(ClipReader(fake).frames())
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ClipError, match=r"empty\.mp4: file is empty"):
        list(ClipReader(empty).frames())
    tiny = write_tiny_video(tmp_path / "tiny.mkv")
    with pytest.raises(ClipError, match=r"tiny\.mkv: frame size 1x1 is too small"):
        list(ClipReader(tiny).frames())
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(mixed / "1.png")
    Image.fromarray(np.zeros((30, 20, 3), np.uint8)).save(mixed / "2.png")
    with pytest.raises(ClipError, match=r"2\.png: frame size 20x30 differs"):
        list(ClipReader(mixed).frames())
    (mixed / "2.png").write_bytes(b"broken")
    with pytest.raises(ClipError, match=r"2\.png: cannot read image"):
        list(ClipReader(mixed).frames())
    with pytest.raises(ClipError, match="not a supported clip type"):
        ClipReader(_touch(tmp_path / "a.doc"))


def write_tiny_video(path):
    """A real 1x1-pixel video (lossless PNG codec in Matroska; H.264 cannot hold 1x1)."""
    import imageio_ffmpeg

    w = imageio_ffmpeg.write_frames(
        str(path), (1, 1), codec="png", pix_fmt_out="rgb24", macro_block_size=1, fps=8
    )
    w.send(None)
    for _ in range(3):
        w.send(np.zeros((1, 1, 3), np.uint8))
    w.close()
    return path


def _touch(path):
    path.write_text("x")
    return path


def test_unchanged_clip_is_not_hashed_again(tmp_path, monkeypatch):
    import engine.disk_cache as cache_mod

    path = write_video(tmp_path / "a.mp4", _frames(4), fps=8)
    cache = FrameCache(tmp_path / "cache")
    cache.load(path, 32)
    calls = []
    real = cache_mod.content_hash
    monkeypatch.setattr(cache_mod, "content_hash", lambda p: calls.append(p) or real(p))
    cache.load(path, 32)
    assert calls == []  # same path, size and mtime: remembered
    write_video(path, _frames(5), fps=8)  # edited in place
    assert len(cache.load(path, 32)) == 5 and len(calls) == 1


def _ffmpeg(*args: str) -> None:
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def _numbered_frames(folder, n=24, w=48, h=32):
    """Frames whose top-left block says which frame they are (k × 10), to count repeats."""
    folder.mkdir()
    for k in range(n):
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:16, :16] = k * 10
        Image.fromarray(frame).save(folder / f"{k:03d}.png")
    return folder


def _block_values(path) -> list[int]:
    return [int(round(f[:16, :16].mean() / 10)) for f in ClipReader(path).frames()]


def test_sixteen_bit_grey_png_reads_as_its_own_greys(tmp_path):
    """Issue 13.6: a 16-bit grey PNG imported as 99.6 % white (Pillow's convert clips at 255)."""
    ramp = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as im:
        assert im.mode.startswith("I")  # what Pillow makes of it
    frame = next(ClipReader(tmp_path / "grey16.png").frames())
    expected = np.round(ramp / 257).astype(np.uint8)
    assert np.abs(frame[..., 0].astype(int) - expected).max() <= 1
    assert (frame[..., 0] == frame[..., 2]).all() and 120 < frame.mean() < 135


def test_a_variable_frame_rate_video_gives_each_frame_once(tmp_path):
    """Issue 13.6: a VFR MP4 of 24 distinct frames imported as 577 frames (a constant-rate
    output repeats frames to fill the gaps)."""
    frames = _numbered_frames(tmp_path / "f")
    durations = [0.04, 0.5, 0.1, 1.2] * 6  # seconds each frame is shown
    listing = "".join(
        f"file '{frames}/{k:03d}.png'\nduration {d}\n" for k, d in enumerate(durations)
    )
    (tmp_path / "list.txt").write_text(listing + f"file '{frames}/023.png'\n")
    vfr = tmp_path / "vfr.mp4"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(tmp_path / "list.txt"), "-fps_mode", "vfr",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(vfr))  # fmt: skip
    values = _block_values(vfr)
    assert values[:24] == list(range(24)) and len(values) <= 25  # concat repeats the last
    reader = ClipReader(vfr)
    list(reader.frames())
    assert 0.5 < reader.info.fps < 3  # the average rate: 24 frames over 11 s


def test_a_raw_h264_stream_gives_each_frame_once_and_says_its_rate_is_a_guess(tmp_path):
    """Issue 13.6: a raw H.264 stream with no timing imported with every frame doubled."""
    frames = _numbered_frames(tmp_path / "f")
    raw = tmp_path / "stream.mp4"  # named like a container; holds a bare stream
    _ffmpeg("-framerate", "12", "-i", str(frames / "%03d.png"), "-c:v", "libx264",
            "-pix_fmt", "yuv420p", "-f", "h264", str(raw))  # fmt: skip
    assert _block_values(raw) == list(range(24))
    reader = ClipReader(raw)
    list(reader.frames())
    assert reader.notes == [
        f"{raw}: the file holds no timing (a raw video stream); its frame rate is a guess "
        f"({reader.info.fps:g} fps)"
    ]


def test_a_sound_only_file_pipe_and_bomb_are_named_with_the_reason(tmp_path):
    import os

    from conftest import png_claiming

    sound = tmp_path / "sound.mp4"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=0.3", "-c:a", "aac", str(sound))
    with pytest.raises(ClipError, match="sound.mp4: not a readable video .it holds no video"):
        list(ClipReader(sound).frames())
    pipe = tmp_path / "live.mp4"
    os.mkfifo(pipe)
    with pytest.raises(ClipError, match="live.mp4: not a regular file"):
        ClipReader(pipe)
    assert find_clips([pipe]) == ([], [f"{pipe}: not a regular file (a pipe, device or socket)"])

    png_claiming(tmp_path / "big.png", 9000, 9000)  # 81 Mpx: below Pillow's own limit
    with pytest.raises(ClipError, match=r"big.png: frame size 9000x9000 \(77 Mpx\) is too large"):
        list(ClipReader(tmp_path / "big.png").frames())
