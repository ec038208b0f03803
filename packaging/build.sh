#!/bin/sh
# `make bundle`: the PyInstaller one-folder bundle in dist/zoetrope/ (from a fresh clone: make
# creates .venv first), then its size, largest parts first. packaging/README.md says more.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bundle]' >/dev/null
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/zoetrope.spec
cp packaging/install.sh dist/zoetrope/install.sh
# Symbols out of the largest libraries and Python's (~120 MB); not out of all (PyInstaller's
# strip=True): a stripped OpenBLAS of numpy's ("ELF load command … not page-aligned") won't load.
if [ "$(uname)" = Linux ] && command -v strip >/dev/null; then
    python=$(cd dist/zoetrope/_internal && ls libpython3*.so* 2>/dev/null || true)
    for lib in torch/lib/libtorch_cpu.so torch/lib/libtorch_python.so llvmlite/binding/libllvmlite.so \
               $python; do
        [ -f "dist/zoetrope/_internal/$lib" ] && strip --strip-unneeded "dist/zoetrope/_internal/$lib"
    done
fi
echo "bundle: dist/zoetrope ($(du -sh dist/zoetrope | cut -f1) unpacked); largest parts:"
du -sm dist/zoetrope/_internal/* | sort -rn | head -8
