"""Entry point of the studio window (``zoetrope``, ``python -m studio``).

The window itself is the studio issue's work and does not exist yet; until it lands, this says
so plainly instead of faking a window, and points at what works today.
"""

from __future__ import annotations

import sys

MESSAGE = """\
Zoetrope Studio — the window is not built yet (it is the studio issue, still open).

What works today is the engine, headless:
  python -m engine.train --synthetic moving-mnist --mnist ../shared/data/mnist \\
      --steps 200 --out runs/demo
  python -m engine.train --data my_clips/ --out runs/mine
See README.md and docs/TRAINING.md.
"""


def main(argv: list[str] | None = None) -> int:
    print(MESSAGE, end="", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
