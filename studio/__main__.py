"""Entry point of the studio window (``zoetrope``, ``python -m studio``).

The window itself is the studio issue's work and does not exist yet; until it lands, this says
so plainly instead of faking a window, and points at what works today.
"""

from __future__ import annotations

import sys

MESSAGE = """\
Zoetrope Studio — the window is not built yet (it is the studio issue, still open).

What works today is the engine, headless — the demo, with no training (make demo):
  python -m engine.render assets/demo/Demo.zoetrope --out demo.mp4 --scale 4
  python -m engine.train --data my_clips/ --init builtin --steps 500 --out runs/mine
See README.md, docs/DEMO_KIT.md and docs/TRAINING.md.
"""


def main(argv: list[str] | None = None) -> int:
    print(MESSAGE, end="", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
