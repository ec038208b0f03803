"""The soundtrack (issue 16, first part): reading every format through ffmpeg, bad files, the
project's soundtrack and its offset, the format migration, and the sound muxed into MP4 and WebM
exports, cut to the picture and in sync with it."""

from __future__ import annotations

import json
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import torch

from engine import audio, checkpoint
from engine.document import SCHEMA_VERSION, Project, ProjectError
from engine.model import ModelConfig, SceneModel

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _tone(path, seconds=0.5, freq=440):
    """A sine written by ffmpeg itself, in the format of ``path``'s extension."""
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:duration={seconds}:sample_rate=44100", str(path)],
                   check=True)  # fmt: skip
    return path


@pytest.mark.parametrize("ext", [".wav", ".mp3", ".ogg", ".flac", ".m4a", ".opus"])
def test_every_format_decodes_to_the_same_sound(tmp_path, ext):
    samples = audio.decode(_tone(tmp_path / f"tone{ext}"))
    assert samples.dtype == np.float32 and samples.shape[1] == audio.CHANNELS
    assert abs(len(samples) / audio.RATE - 0.5) < 0.06  # encoders pad a little
    spectrum = np.abs(np.fft.rfft(samples[:, 0]))
    assert abs(np.argmax(spectrum) * audio.RATE / len(samples) - 440) < 5


def test_bad_sound_files_are_named_with_the_reason(tmp_path, clip_dir):
    text = tmp_path / "notes.mp3"
    text.write_text("not a sound")
    with pytest.raises(audio.AudioError, match=r"notes\.mp3: cannot read it as sound"):
        audio.decode(text)
    with pytest.raises(audio.AudioError, match=r"clip_0\.mp4: .*(no sound|cannot read)"):
        audio.decode(clip_dir / "clip_0.mp4")  # a video with no sound in it
    with pytest.raises(audio.AudioError, match="no such file"):
        audio.decode(tmp_path / "gone.wav")


def test_excerpt_is_exactly_the_asked_length_with_silence_beyond_the_sound():
    sound = np.ones((100, 2), np.float32)
    part = audio.excerpt(sound, -10 / 50, 1.0, rate=50)  # starts 10 samples before the sound
    assert part.shape == (50, 2)
    assert not part[:10].any() and part[10:50].all()
    tail = audio.excerpt(sound, 1.5, 1.0, rate=50)  # runs 25 samples past its end
    assert tail.shape == (50, 2) and tail[:25].all() and not tail[25:].any()


def test_a_projects_soundtrack_saves_opens_and_refuses_what_it_must(tmp_path, clip_dir):
    p = Project.create(tmp_path / "Film")
    text = tmp_path / "notes.mp3"
    text.write_text("not a sound")
    with pytest.raises(audio.AudioError, match="notes.mp3"):
        p.copy_in_sound(text)
    assert not list((p.root / "media").iterdir())  # nothing copied
    sound = p.copy_in_sound(_tone(tmp_path / "song.flac", seconds=1.0), offset=0.25)
    assert sound.source == "media/song.flac" and abs(sound.seconds - 1.0) < 0.05
    assert p.set_soundtrack(sound) is None
    assert p.set_sound_offset(-0.5) == 0.25
    with pytest.raises(ProjectError, match="offset"):
        p.set_sound_offset(float("nan"))
    p.save()
    again = Project.open(p.root)
    assert again.soundtrack == sound.__class__(sound.source, "song", sound.seconds, -0.5)
    # version 4 had no soundtrack: it opens with none
    doc = json.loads(p.file.read_text())
    doc["schema_version"] = 4
    del doc["soundtrack"]
    p.file.write_text(json.dumps(doc))
    assert Project.open(p.root).soundtrack is None
    doc["schema_version"] = SCHEMA_VERSION
    doc["soundtrack"] = {"source": "media/gone.wav", "name": "x", "seconds": 1.0, "offset": 0}
    p.file.write_text(json.dumps(doc))
    opened = Project.open(p.root)  # issue 27: a sound gone is offline, not a locked project
    assert [(x.what, x.source) for x in opened.offline()] == [("soundtrack", "media/gone.wav")]


@pytest.fixture
def film(tmp_path, clip_dir):
    """A 36-frame, 12 fps timeline (3 s) drawn by a tiny model, and a click track with one
    click 0.5 s into the sound, the sound starting 0.5 s into the timeline: the click sounds at
    1.0 s — timeline frame 12."""
    torch.manual_seed(0)
    model = checkpoint.save(tmp_path / "tiny.safetensors",
                            SceneModel(ModelConfig(image_size=32, widths=(8, 16),
                                                   latent_channels=16, res_blocks=1)),
                            {"steps": 0})  # fmt: skip
    p = Project.create(tmp_path / "Film", fps=12)
    clip = p.import_clip(clip_dir / "clip_0.mp4").id
    p.set_model(model)
    p.set_render_mode("model")
    p.set_output_size((32, 32))
    p.add_shot((clip, 0), (clip, 0), clip, duration=36, loop="loop")
    track, _ = audio.click_track(bpm=30, seconds=1.5, first=0.5)  # one click, at 0.5 s
    wav = audio.write_wav(tmp_path / "click.wav", track)
    p.set_soundtrack(p.copy_in_sound(wav, offset=0.5))
    p.save()
    return p


def _onset(path) -> tuple[float, float]:
    """(time of the first loud sample, length) of a file's sound, in seconds."""
    s = audio.decode(path)
    loud = np.flatnonzero(np.abs(s[:, 0]) > 0.2)
    return loud[0] / audio.RATE, len(s) / audio.RATE


@pytest.mark.parametrize("ext", [".mp4", ".webm"])
def test_export_carries_the_sound_in_sync_and_cut_to_the_picture(film, tmp_path, ext):
    """Frames 6 … 35 exported: the click (timeline frame 12) sounds at the file's frame 6, and
    the sound is as long as the 30 frames (2.5 s)."""
    from conftest import run_module

    out = tmp_path / f"film{ext}"
    r = run_module("engine.render", str(film.root), "--out", str(out), "--range", "6:35",
                   "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "with sound" in r.stderr
    onset, length = _onset(out)
    assert abs(onset - 6 / 12) < 1 / 12  # within a frame
    assert abs(length - 30 / 12) < 1 / 12
    frames = sum(1 for _ in imageio_ffmpeg.read_frames(str(out))) - 1
    assert frames == 30
    # the sound after the film's end is cut; before the sound's start, silence
    film.set_sound_offset(2.9)
    film.save()
    r = run_module("engine.render", str(film.root), "--out", str(out), "--overwrite",
                   "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = audio.decode(out)
    assert abs(len(s) / audio.RATE - 3.0) < 1 / 12 and np.abs(s).max() < 0.05


def test_formats_without_sound_say_so(film, tmp_path):
    from conftest import run_module

    r = run_module("engine.render", str(film.root), "--out", str(tmp_path / "f.gif"),
                   "--device", "cpu")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "note: GIF carries no sound" in r.stderr
