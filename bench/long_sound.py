"""Peak memory of a long soundtrack: read whole (how the studio read one before issue 27: decoded
to float samples, its beats from librosa over the whole array) against read in blocks (what it
does now: engine.audio.measure, playback_file, engine.beats.analyse_file), each in a child
process whose peak resident memory (VmHWM, Linux) is read back, side by side in one run.

    python bench/long_sound.py --minutes 10 60

The sound: a click every half second (FLAC, 16 kHz mono, made by ffmpeg), decoded to 48 kHz
stereo as every soundtrack is. "whole" is measured up to --whole-max minutes (past that it needs
more memory than a small machine has).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WHOLE = """
import numpy as np, librosa
from engine import audio
y = audio.decode({path!r})
peaks = audio.peaks(y)
env = librosa.onset.onset_strength(y=y.mean(axis=1), sr=audio.RATE, hop_length=512)
tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=audio.RATE, hop_length=512)
print([ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1])
"""

BLOCKS = """
from pathlib import Path
from engine import audio, beats
audio.measure({path!r})
audio.playback_file({path!r}, Path({cache!r}))
beats.analyse_file({path!r})
print([ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0].split()[1])
"""


def peak_gb(script: str, **names) -> float | None:
    done = subprocess.run([sys.executable, "-c", script.format(**names)], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        print(done.stderr.strip().splitlines()[-1], file=sys.stderr)
        return None
    return int(done.stdout.split()[-1]) / 2**20


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    p.add_argument("--whole-max", type=float, default=10.0,
                   help="measure the whole read only up to this many minutes")
    args = p.parse_args()
    import imageio_ffmpeg

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = str(Path(tmp) / f"{minutes:g}min.flac")
            click = "aevalsrc='0.8*sin(2*PI*1000*t)*lt(mod(t\\,0.5)\\,0.02)'"
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                            f"{click}:s=16000:d={minutes * 60:g}", path], check=True)
            whole = peak_gb(WHOLE, path=path) if minutes <= args.whole_max else None
            blocks = peak_gb(BLOCKS, path=path, cache=str(Path(tmp) / "cache"))
            rows.append({"minutes": minutes, "whole_gb": whole, "blocks_gb": blocks})
            print(json.dumps(rows[-1]), flush=True)
    print("\n| sound | read whole | in blocks |\n| --- | --- | --- |")
    for r in rows:
        whole = f"{r['whole_gb']:.2f} GB" if r["whole_gb"] is not None else "not run"
        print(f"| {r['minutes']:g} min | {whole} | {r['blocks_gb']:.2f} GB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
