"""The demo project (``assets/demo/Demo.zoetrope``): what a new user sees on first launch.

``python -m engine.demo --out assets/demo/Demo.zoetrope`` rebuilds it from the demo kit: a few
clips of the built-in model's training cast, written as videos and imported like a user's clips,
and shots that show what the model does — a clip as shot, a background swap, an animation
transfer, both at once, a ping-pong loop, a retimed shot, an endless walk, a shot on a motion
path, a motion extended past its clip's end (the project's motion predictor, trained on its
clips at build time, ships in its models/ folder) and a shot fitted to the beats of the
soundtrack — a drum loop synthesised here (engine.audio.drum_loop: ours, no licence to track).
The project has no model of its own, so it uses the built-in one
(``assets/models/default.safetensors``); its clips' layers for that model ship beside it
(``assets/demo/layers``, ``python -m engine.demo --layers``), so a first launch shows a frame at
once instead of analysing the clips.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from engine import assets
from engine.data import demokit as kit
from engine.data.clips import write_video
from engine.document import BACKUP_FILE, Key, Project
from engine.errors import UserError

DEMO_PROJECT = assets.DEMO_PROJECT

# (clip name, cast index in the train split, motion, background index, motion seed)
CLIPS = (
    ("Pip walks", 0, "walk", 1, 11),
    ("Bo jumps", 1, "jump", 4, 5),
    ("Robo bows", 8, "bow", 3, 2),
    ("Mo waves", 3, "wave", 6, 3),
    ("Star hops", 5, "hop", 2, 4),
    ("Zed strolls at night", 4, "walk", 8, 8),  # walks: the set behind is seen, the plate clean
)


def clip_specs() -> list[tuple[str, kit.ClipSpec]]:
    return [(name, kit.ClipSpec(kit.make_character("train", c), kit.make_background("train", b),
                                motion, seed)) for name, c, motion, b, seed in CLIPS]


SIZE = (640, 360)
"""The demo's clips: 16:9, the size a user's footage is more likely to have than the model's."""


def build(out: str | Path, size: kit.Size = SIZE) -> Project:
    """Write the demo project to ``out`` (a ``.zoetrope`` folder that must not exist yet)."""
    out = Path(out)
    if out.exists():
        raise UserError(f"{out}: already exists (remove it first)")
    project = Project.create(out, fps=kit.FPS)
    ids = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in clip_specs():
            path = Path(tmp) / f"{name.lower().replace(' ', '_')}.mp4"
            write_video(path, kit.render_clip(spec, size), fps=kit.FPS, quality=9)
            ids.append(project.import_clip(path, name=name).id)
    walk, jump, bow, wave, hop, night = ids
    last = kit.FRAMES - 1
    project.add_shot((walk, 0), (walk, 0), walk, name="As shot: Pip walks")
    project.add_shot((walk, 0), (night, 0), walk, name="Background swap: Pip walks at night")
    # Mo waves on one spot all clip long: the camera never saw the set behind Mo, so neither
    # Mo's set nor Mo's cut-out is clean (docs/LAYERS.md); Bo jumps clear of both
    project.add_shot((jump, 0), (hop, 0), walk,
                     name="Animation transfer: Bo jumps along Pip's walk, in Star's field")
    project.add_shot((bow, 0), (jump, 0), jump,
                     name="Both: Robo jumps like Bo, on Bo's beach")
    project.add_shot((hop, 0), (hop, 0), (wave, 0, last // 2), loop="pingpong",
                     duration=2 * last, name="Ping-pong: Star rocks like Mo's wave")
    project.add_shot((jump, 0), (night, 0), (bow, 0, last), hold=2,
                     name="On twos: Bo bows at night")
    project.add_shot((walk, 0), (walk, 0), walk, loop="endless", duration=10 * kit.FPS,
                     seed=1, name="Endless: Pip walks on and on, never the same twice")
    project.add_shot((jump, 0), (jump, 0), jump, loop="loop", duration=4 * kit.FPS,
                     path=(Key(0, x=-0.25), Key(2 * kit.FPS, y=-0.1, ease="ease"),
                           Key(4 * kit.FPS - 1, x=0.25)),
                     name="Path: Bo jumps along a path across the beach")
    project.add_shot((night, 0), (night, 0), night, extend=2 * kit.FRAMES, target=(0.2, 0.45),
                     duration=3 * kit.FRAMES,
                     name="Extended: Zed strolls on past the clip's end, then back")
    project.add_shot((hop, 0), (jump, 0), jump, loop="loop", duration=8 * kit.FPS,
                     name="On the beat: Star jumps to the drums on Bo's beach")
    from engine.frames.director import Director  # torch: only when the demo is built

    director = Director(project, device="cpu")
    director.train_predictor()
    add_soundtrack(project)
    last = project.shots[-1].id
    project.update_shot(last, **director.beat_fit(last))
    project.save()
    (project.root / BACKUP_FILE).unlink(missing_ok=True)  # nothing older to keep
    if Path(out).resolve() == DEMO_PROJECT.resolve():
        write_layers(project)
    return project


def write_layers(project: Project, dest: Path = assets.DEMO_LAYERS) -> list[Path]:
    """The layers of the project's clips for the built-in model (engine.frames.layers, the
    default settings) as seeds in ``dest``, the seeds of other keys removed: a first launch
    then opens them instead of analysing the clips (about 12 s on 2 cores). Made again
    whenever LAYERS_VERSION or the built-in model changes (tests/test_demo.py says when)."""
    from engine import checkpoint
    from engine.frames.layers import LayerCache, model_key

    model, _ = checkpoint.load(checkpoint.BUILTIN_MODEL, "cpu")
    mkey = model_key(model)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = LayerCache(tmp, seeds=None)
        for clip_id in project.clips:
            layers = cache.load(project.clip_path(clip_id), model, mkey=mkey)
            written.append(cache.seed(layers.folder, dest))
    for old in set(dest.glob("*.zip")) - set(written):
        old.unlink()
    return written


BPM = 120
"""The demo soundtrack's tempo: a beat every 6 frames at the demo's 12 fps."""


def add_soundtrack(project: Project) -> None:
    """The demo's soundtrack: a drum loop as long as the timeline, its first beat half a second
    in (a beat on the very first sample is one the tracker cannot see), as Ogg Opus."""
    import subprocess

    import imageio_ffmpeg

    from engine import audio

    seconds = project.timeline.seconds + 1.0
    samples, _ = audio.drum_loop(BPM, seconds, first=0.5)
    with tempfile.TemporaryDirectory() as tmp:
        wav = audio.write_wav(Path(tmp) / "drums.wav", samples)
        ogg = Path(tmp) / "drum_loop.ogg"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a",
                        "libopus", "-b:a", "96k", str(ogg)], check=True)  # fmt: skip
        project.set_soundtrack(project.copy_in_sound(ogg))


TRAIN_FLAGS = ("--max-gap", "23", "--clip-grad", "1", "--warmup-steps", "200", "--seed", "0")
"""How the built-in model trains, beside data, steps and output (bench/finetune.py uses it)."""
KIT_FLAGS = ("--count", "1440", "--characters", "96", "--backgrounds", "128")
"""The training kit: 96 characters (64 puppets, 32 rigid) and 128 sets. The first model had 24
and 32, and did worse than the baselines on characters it had never seen (docs/RESULTS.md)."""
RECIPE = (
    f"python -m engine.data.demokit --out kit --split train {' '.join(KIT_FLAGS)}",
    f"python -m engine.train --data kit --steps 5500 {' '.join(TRAIN_FLAGS)} --out run",
    "python -m engine.demo --install-model run/model.safetensors",
)


def install_model(src: str | Path, dest: str | Path = assets.BUILTIN_MODEL,
                  hardware: str = "") -> Path:
    """Copy a trained model to the built-in slot, with what it was trained on in its header
    (only the weights: no optimiser state ships)."""
    from engine import checkpoint  # torch: loaded only here, so the studio reads DEMO_PROJECT fast

    model, info = checkpoint.load(src)
    training = dict(info.training)
    training.pop("engine_version", None)
    training.update(
        trained_on="the demo kit's train split (engine.data.demokit, seed 0): 1440 clips of "
        "96 characters (64 puppets, 32 rigid) performing 6 motions on 128 backgrounds",
        recipe=list(RECIPE),
        hardware=hardware,
    )
    return checkpoint.save(dest, model, training)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.demo",
                                description="Rebuild the demo project from the demo kit.")
    p.add_argument("--out", default=str(DEMO_PROJECT), help=f"default {DEMO_PROJECT}")
    p.add_argument("--replace", action="store_true", help="remove an existing project first")
    p.add_argument("--install-model", metavar="MODEL",
                   help="instead: make MODEL the built-in model (assets/models/)")
    p.add_argument("--hardware", default="", help="with --install-model: where it was trained")
    p.add_argument("--layers", action="store_true",
                   help="instead: make the demo's shipped clip layers again (assets/demo/layers)")
    args = p.parse_args(argv)
    try:
        if args.install_model:
            print(f"wrote {install_model(args.install_model, hardware=args.hardware)}")
            return 0
        if args.layers:
            for seed in write_layers(Project.open(DEMO_PROJECT)):
                print(f"wrote {seed} ({seed.stat().st_size // 1024} KiB)")
            return 0
        if args.replace and Path(args.out).exists():
            shutil.rmtree(args.out)
        project = build(args.out)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {project.root} ({len(project.shots)} shots, "
          f"{project.timeline.frame_count} frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
