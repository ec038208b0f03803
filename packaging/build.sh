#!/bin/sh
# `make bundle`: the PyInstaller one-folder bundle in dist/zoetrope/ (from a fresh clone: make
# creates .venv first), then its size, largest parts first. packaging/README.md says more.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt '.[bundle]' >/dev/null
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/zoetrope.spec
cp packaging/install.sh dist/zoetrope/install.sh
echo "bundle: dist/zoetrope ($(du -sh dist/zoetrope | cut -f1) unpacked); largest parts:"
du -sm dist/zoetrope/_internal/* | sort -rn | head -8
