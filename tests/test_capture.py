"""Capture (engine.capture): a file standing in for a camera, the live view's thread, a take's
frames on disk, and the take becoming a clip of the project."""

import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine.capture import CaptureError, LiveView, Take, continuable, list_cameras, open_source
from engine.data.clips import ClipReader, frame_files, write_video
from engine.document import Project


def frames(n=6, w=64, h=48):
    out = []
    for k in range(n):
        f = np.full((h, w, 3), 30 * k % 255, np.uint8)
        f[4:12, 2 * k : 2 * k + 8] = (250, 200, 40)
        out.append(f)
    return out


@pytest.fixture
def camera_file(tmp_path):
    return write_video(tmp_path / "camera.mp4", frames(), fps=24)


def test_listing_cameras_never_fails_and_a_missing_one_is_named(tmp_path):
    assert all(c.id and c.name for c in list_cameras())  # none on CI: an empty list
    with pytest.raises(CaptureError, match="nosuch.mp4: no such camera or file"):
        open_source(str(tmp_path / "nosuch.mp4"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CaptureError, match="notes.txt"):
        open_source(str(tmp_path / "notes.txt"))


class FakeTime:
    """engine.capture's clock, driven: sleeping moves it on at once (no test times the
    machine: issue 27)."""

    def __init__(self):
        self.now, self.slept, self._lock = 1000.0, 0.0, threading.Lock()

    def monotonic(self):
        with self._lock:
            return self.now

    def sleep(self, seconds):
        with self._lock:
            self.now += max(0.0, seconds)
            self.slept += max(0.0, seconds)


@pytest.fixture
def fake_time(monkeypatch):
    import engine.capture

    clock = FakeTime()
    monkeypatch.setattr(engine.capture, "time", clock)
    return clock


def test_a_file_stands_in_for_a_camera_at_its_rate_looping(camera_file, fake_time):
    source = open_source(str(camera_file))
    assert source.size == (64, 48) and source.fps == pytest.approx(24)
    got = [source.read() for _ in range(13)]  # past the end: it loops
    assert fake_time.slept == pytest.approx(12 / 24)  # paced like a camera: a frame each 1/24 s
    assert np.array_equal(got[0], got[6]) and np.array_equal(got[1], got[7])
    resized = open_source(str(camera_file), size=(32, 24))
    assert resized.read().shape == (24, 32, 3)


def test_the_live_view_reads_on_its_own_thread(camera_file, fake_time):
    calls = []
    live = LiveView(open_source(str(camera_file)), on_frame=lambda: calls.append(1))
    try:
        deadline = time.monotonic() + 60
        while live.latest()[1] < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        frame, count = live.latest()
        assert count >= 8 and frame.shape == (48, 64, 3) and len(calls) >= 8
        assert live.fps == pytest.approx(24)  # the file's rate, by its clock
    finally:
        live.stop()
    assert not live.running and live.error is None


def test_a_take_keeps_every_capture_deletes_and_restores(tmp_path):
    p = Project.create(tmp_path / "Shoot")
    take = Take.start(p.root, "Bo walks")
    shot = frames(10)
    for f in shot:
        take.append(f)
    assert len(take) == 10 and take.files[-1].name == "frame_00010.png"
    path, data = take.delete_last()  # a delete, then its undo
    assert len(take) == 9 and not path.exists()
    take.restore(path, data)
    assert len(take) == 10 and np.array_equal(take.frame(9), shot[9])
    take.delete_last()  # the last frame deleted for good
    assert not list(take.folder.glob(".*"))  # no temporary files left behind
    again = Take.resume(take.folder)  # continuing the take numbers on
    assert again.append(shot[0]).name == "frame_00010.png"
    with pytest.raises(CaptureError, match="camera gives 32×24"):
        again.append(np.zeros((24, 32, 3), np.uint8))
    # the take becomes a clip like an imported one, and the project opens with it
    rel = take.folder.relative_to(p.root).as_posix()
    clip = p.describe_clip(take.folder, rel, "Bo walks", fps=12)
    p.add_clip(clip)
    p.save()
    assert (clip.kind, clip.frames, clip.fps, clip.width) == ("frames", 10, 12, 64)
    reopened = Project.open(p.root)
    got = list(ClipReader(reopened.clip_path(clip.id)).frames())
    assert len(got) == 10 and all(
        np.array_equal(a, b) for a, b in zip(got[:9], shot[:9], strict=True)
    )
    assert np.array_equal(got[9], shot[0])
    # a second take of the same name gets a folder of its own
    assert Take.start(p.root, "Bo walks").folder.name == "Bo walks-2"
    assert Image.open(take.files[0]).size == (64, 48)


def test_a_folder_of_frames_stands_in_for_a_camera_at_the_projects_rate(tmp_path):
    folder = tmp_path / "shot"
    folder.mkdir()
    for k, f in enumerate(frames(4)):
        Image.fromarray(f).save(folder / f"img_{k:03d}.png")
    source = open_source(str(folder), fps=12)
    assert (source.size, source.fps, source.name) == ((64, 48), 12, "shot")
    assert np.array_equal(source.read(), frames(4)[0])


def test_a_frame_clip_from_another_app_is_continued_in_its_own_numbering(tmp_path):
    p = Project.create(tmp_path / "Shoot")
    shot = frames(5)
    folder = p.root / "media" / "Dragon"
    folder.mkdir(parents=True)
    for k in range(3):
        Image.fromarray(shot[k]).save(folder / f"dragon.{k + 8:04d}.jpg", quality=95)
    take = Take.resume(folder)
    assert take.size == (64, 48)
    assert take.append(shot[3]).name == "dragon.0011.png"  # sorts after dragon.0010.jpg
    assert take.append(shot[4]).name == "dragon.0012.png"
    assert [f.name for f in ClipReader(folder).files][-3:] == [
        "dragon.0010.jpg",
        "dragon.0011.png",
        "dragon.0012.png",
    ]
    (p.root / "media" / "Loose").mkdir()
    Image.fromarray(shot[0]).save(p.root / "media" / "Loose" / "cover.png")
    with pytest.raises(CaptureError, match=r"Loose: its frames are not numbered \(cover.png\)"):
        Take.resume(p.root / "media" / "Loose")


def test_what_captures_can_go_on_after_and_a_clip_grown_in_place(tmp_path):
    from engine.document import ProjectError

    p = Project.create(tmp_path / "Shoot")
    a, b = Take.start(p.root, "A"), Take.start(p.root, "B")
    for f in frames(4):
        a.append(f)
    b.append(frames(1)[0])
    Take.start(p.root, "Empty")  # started, nothing captured: not offered
    clip = a.as_clip(p.root, "A", 12)
    described = (clip.source, clip.frames, clip.width, clip.height, clip.fps)
    assert described == ("media/A", 4, 64, 48, 12)
    p.add_clip(clip)
    p.add_shot((clip.id, 0), (clip.id, 3), (clip.id, 1, 3))
    found = continuable(p)
    assert [(c.name, c.frames, c.clip) for c in found] == [("A", 4, clip.id), ("B", 1, None)]
    # the clip grows: the same record id, every shot still on it
    a.append(frames(5)[4])
    old = p.replace_clip(replace(clip, frames=5))
    assert old.frames == 4 and p.clip(clip.id).frames == 5
    # a record too short for a shot's frames is refused, and nothing changes
    with pytest.raises(ProjectError, match="outside clip"):
        p.replace_clip(replace(clip, frames=2))
    assert p.clip(clip.id).frames == 5
    a.close()  # a take with frames keeps its folder; an empty one goes
    empty = Take.start(p.root, "Gone")
    empty.close()
    assert a.folder.is_dir() and not empty.folder.exists()


def test_a_headless_shoot_becomes_a_clip_and_goes_on_after_it(camera_file, tmp_path, capsys):
    from engine.capture import main

    p = Project.create(tmp_path / "Rig")
    p.save()
    assert main([str(p.root), "--camera", str(camera_file), "--frames", "3", "--every", "0.05",
                 "--take", "Sky"]) == 0  # fmt: skip
    clip = next(iter(Project.open(p.root).clips.values()))
    assert (clip.name, clip.frames, clip.kind, clip.width) == ("Sky", 3, "frames", 64)
    assert main([str(p.root), "--camera", str(camera_file), "--frames", "2", "--every", "0.05",
                 "--after", "Sky"]) == 0  # fmt: skip
    grown = Project.open(p.root).clip(clip.id)
    assert grown.frames == 5 and len(frame_files(p.root / grown.source)) == 5
    assert "Sky: 5 frames" in capsys.readouterr().err
    # bad input: said in one line, naming what is wrong, exit code 2
    assert main([str(p.root), "--camera", str(tmp_path / "none.mp4"), "--frames", "1"]) == 2
    assert "none.mp4: no such camera or file" in capsys.readouterr().err
    assert main([str(p.root), "--camera", str(camera_file), "--after", "Moon"]) == 2
    assert "--after 'Moon': no such clip" in capsys.readouterr().err
    assert main([str(p.root), "--camera", str(camera_file), "--size", "big"]) == 2
    assert main(["--list"]) == 0


def test_a_shoot_until_ctrl_c_keeps_what_it_captured(camera_file, tmp_path):
    from engine.capture import shoot

    p = Project.create(tmp_path / "Rig")
    told = []

    def report(text):  # Ctrl+C after the second capture
        told.append(text)
        if len(told) == 2:
            raise KeyboardInterrupt

    clip = shoot(p, open_source(str(camera_file)), Take.start(p.root, "Lapse"), 0, 0.05,
                 report=report)  # fmt: skip
    assert clip.frames == 2 and told[-1] == "interrupted: 2 frames captured, kept"
    assert Project.open(p.root).clip(clip.id).frames == 2
