"""The bundle's entry point: the studio, or ``zoetrope -m MODULE ARGS`` for the child processes
the studio starts with ``sys.executable`` (training, beat analysis), which in a bundle is this
program rather than ``python``. A power user gets the headless tools the same way:
``./zoetrope -m engine.render Film.zoetrope --out film.mp4``."""

import multiprocessing
import runpy
import sys


def main() -> int:
    multiprocessing.freeze_support()
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [module, *sys.argv[3:]]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        return 0
    from studio.__main__ import main as studio

    return studio()


if __name__ == "__main__":
    sys.exit(main())
