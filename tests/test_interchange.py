"""Timeline → OpenTimelineIO (engine.interchange): read back with opentimelineio itself."""

from pathlib import Path

import imageio_ffmpeg
import opentimelineio as otio
import pytest
from conftest import run_module

from engine import audio, beats
from engine.document import Project
from engine.errors import Cancelled, UserError
from engine.export import ExportSettings
from engine.frames.director import Director
from engine.interchange import export_timeline, media_folder


@pytest.fixture
def project(tmp_path, clip_dir, model_file):
    """Three shots of 6, 10 and 5 frames at 12 fps, a drum loop that starts 0.25 s in."""
    p = Project.create(tmp_path / "Film")
    a, b, c = (p.import_clip(clip_dir / f"clip_{i}.mp4").id for i in range(3))
    p.set_model(model_file)
    p.set_fps(12)
    p.add_shot((a, 1), (b, 0), c, duration=6, name="Walk on")
    p.add_shot((b, 2), (c, 4), (a, 0, 3), duration=10, loop="pingpong", hold=2)
    p.add_shot((c, 0), (a, 0), b, duration=5, name="Bow")
    p.set_output_size((32, 32))
    wav = audio.write_wav(tmp_path / "drums.wav", audio.drum_loop(120, 4.0)[0])
    p.set_soundtrack(p.copy_in_sound(wav, offset=0.25))
    p.save()
    return p


def frame_count(path: Path) -> int:
    return imageio_ffmpeg.count_frames_and_secs(str(path))[0]


@pytest.mark.parametrize("media", ["mp4", "png"])
def test_every_shot_is_a_clip_with_its_range_and_its_own_media(project, tmp_path, media):
    beats.beats_of(project.sound_path())  # analysed, as the studio does: beats become markers
    d = Director(project, device="cpu", precision="fp32")
    seen = []
    out = export_timeline(d, tmp_path / "Cut.otio", ExportSettings(format=media, scale=2),
                          progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[-1] == (21, 21)
    timeline = otio.adapters.read_from_file(str(out))
    assert timeline.name == "Film" and timeline.global_start_time.rate == 12
    assert [tr.kind for tr in timeline.tracks] == ["Video", "Audio"]
    video, sound = timeline.tracks
    clips = list(video.find_clips())
    t = project.timeline
    assert [c.name for c in clips] == ["Walk on", "Shot 2", "Bow"]
    for clip, shot, start in zip(clips, t.shots, t.starts, strict=False):
        where = clip.range_in_parent()
        assert (where.start_time.value, where.duration.value) == (start, shot.duration)
        assert where.start_time.rate == where.duration.rate == 12
        assert clip.metadata["zoetrope"]["shot"] == shot.id
        ref = clip.media_reference
        if media == "mp4":
            path = Path(otio.url_utils.filepath_from_url(ref.target_url))
            assert path.parent == media_folder(out) and frame_count(path) == shot.duration
        else:
            assert isinstance(ref, otio.schema.ImageSequenceReference)
            assert ref.number_of_images_in_sequence() == shot.duration
            for k in (0, shot.duration - 1):  # the first and last frame the clip plays exist
                url = ref.target_url_for_image_number(k)
                assert Path(otio.url_utils.filepath_from_url(url)).is_file()
        assert clip.available_range() == clip.source_range
    assert video.duration().value == t.frame_count
    # the soundtrack 0.25 s (3 frames) in, as long as the picture after it, its beats marked
    gap, music = sound
    assert isinstance(gap, otio.schema.Gap) and gap.duration().value == 3
    assert music.source_range.duration.value == t.frame_count - 3
    assert Path(otio.url_utils.filepath_from_url(music.media_reference.target_url)).is_file()
    marks = [m.marked_range.start_time.value for m in sound.markers]
    assert len(marks) >= 2 and set(marks) <= {3, 9, 15}  # 120 BPM: every 6 frames from 3


def test_nothing_replaced_unasked_and_a_cancel_leaves_nothing(project, tmp_path):
    d = Director(project, device="cpu", precision="fp32")
    settings = ExportSettings(format="mp4")
    out = tmp_path / "Cut.otio"
    with pytest.raises(Cancelled):
        export_timeline(d, out, settings, cancel=lambda: True)
    assert not list(tmp_path.glob("Cut*")) and not list(tmp_path.glob(".Cut*"))  # not a temporary
    export_timeline(d, out, settings)
    with pytest.raises(UserError, match="already exists"):
        export_timeline(d, out, settings)
    project.update_shot(project.shots[0].id, duration=4)
    export_timeline(d, out, settings, overwrite=True)
    first = otio.adapters.read_from_file(str(out)).find_clips()[0]
    assert first.source_range.duration.value == 4
    # issue 27: "replace" deleted the user's own files whose names began with shot_ or
    # soundtrack; now only what the manifest proves an export wrote, unchanged, is replaced
    media = media_folder(out)
    mine = {"soundtrack_MASTER_final.wav": b"RIFF mine", "shot_list_notes.txt": b"notes",
            "shot_reference_photos/a.jpg": b"photo", "notes.txt": b"mine"}  # fmt: skip
    for rel, data in mine.items():
        (media / rel).parent.mkdir(exist_ok=True)
        (media / rel).write_bytes(data)
    project.delete_shot(project.shots[-1].id)  # one shot fewer: its file of before goes
    export_timeline(d, out, settings, overwrite=True)
    assert all((media / rel).read_bytes() == data for rel, data in mine.items())
    assert sorted(p.name for p in media.glob("shot_0*")) == ["shot_001.mp4", "shot_002.mp4"]
    (media / "shot_002.mp4").write_bytes(b"edited by hand")  # no longer what the export wrote
    with pytest.raises(UserError, match="shot_002.mp4: this export would replace it, but did "
                                        "not write it"):  # fmt: skip
        export_timeline(d, out, settings, overwrite=True)
    assert (media / "shot_002.mp4").read_bytes() == b"edited by hand"
    other = tmp_path / "Other.otio"  # a folder of another program's shot_001.mp4: refused
    media_folder(other).mkdir()
    (media_folder(other) / "shot_001.mp4").write_bytes(b"someone else's")
    with pytest.raises(UserError, match="did not write it"):
        export_timeline(d, other, settings, overwrite=True)
    with pytest.raises(UserError, match="ends in .otio"):
        export_timeline(d, tmp_path / "Cut.mp4", settings)
    with pytest.raises(UserError, match="choose MP4, WebM"):
        export_timeline(d, tmp_path / "Other.otio", ExportSettings(format="gif"))


def test_render_cli_writes_a_timeline(project, tmp_path):
    out = tmp_path / "Cut.otio"
    done = run_module("engine.render", str(project.root), "--out", str(out), "--media", "webm",
                      "--device", "cpu", "--progress", "none")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 shots, 21 frames at 12 fps" in done.stderr
    timeline = otio.adapters.read_from_file(str(out))
    assert [c.media_reference.target_url.endswith(".webm") for c in timeline.find_clips()
            if c.parent().kind == "Video"] == [True] * 3  # fmt: skip
