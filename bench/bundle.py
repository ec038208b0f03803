"""The desktop bundle (packaging/, ``make bundle``) against the studio run from the source tree:
launch times side by side, alternating, each launch with fresh settings, data and caches (the
demo's clips analysed again: what a first launch does), and the bundle's size by part. Results go
in docs/PERFORMANCE.md ("The bundle").

    python bench/bundle.py [--bundle dist/zoetrope] [--launches 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from studio import launch  # noqa: E402 — bench/studio.py, beside this file


def size_mb(path: Path) -> float:
    """MiB on disk under ``path`` (a file: itself), links not followed (the bundle links many
    libraries to one copy)."""
    if path.is_symlink():
        return 0.0
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files if not f.is_symlink()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "dist" / "zoetrope"))
    ap.add_argument("--launches", type=int, default=3)
    args = ap.parse_args()
    bundle = Path(args.bundle)
    if not (bundle / "zoetrope").is_file():
        raise SystemExit(f"{bundle}: no bundle (make bundle)")
    from engine.assets import DEMO_PROJECT

    programs = {"bundle": [str(bundle / "zoetrope")], "source": [sys.executable, "-m", "studio"]}
    runs: dict[str, list[dict]] = {k: [] for k in programs}
    for _ in range(args.launches):
        for name, program in programs.items():  # alternating: the machine's noise hits both
            with tempfile.TemporaryDirectory() as tmp:
                runs[name].append(launch(DEMO_PROJECT, Path(tmp), program))
    print(f"{'':8} {'window (s)':>11} {'first frame (s)':>16} {'screenshot (s)':>15}   median of "
          f"{args.launches}")  # fmt: skip
    for name, found in runs.items():
        med = {k: statistics.median(r[k] for r in found)
               for k in ("window_s", "first_frame_s", "total_s")}  # fmt: skip
        print(f"{name:8} {med['window_s']:11.2f} {med['first_frame_s']:16.2f} "
              f"{med['total_s']:15.2f}")  # fmt: skip
    total = size_mb(bundle)
    parts = sorted(((size_mb(p), p.name) for p in (bundle / "_internal").iterdir()), reverse=True)
    print(f"\nbundle: {total:.0f} MiB ({total * 2**20 / 1e9:.2f} GB) unpacked; largest parts:")
    for mb, name in parts[:10]:
        print(f"  {mb:6.0f} MiB  {name}")
    print(f"  {total - size_mb(bundle / 'zoetrope') - sum(mb for mb, _ in parts[:10]):6.0f} MiB  "
          f"the rest; the program itself (Python code in its archive): "
          f"{size_mb(bundle / 'zoetrope'):.0f} MiB")  # fmt: skip
    out = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    print(f"\nmachine: {out}, {len(os.sched_getaffinity(0))} cores")


if __name__ == "__main__":
    main()
