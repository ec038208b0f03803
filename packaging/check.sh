#!/bin/sh
# `make bundle-check`: start the bundle as a user would, with no Python around it, and check
# (1) it opens the demo and renders a frame (--screenshot; the time is its cold start),
# (2) Model → Train on Clips… runs its child process (the bundle itself) to the end,
# (3) the beat analysis child and a headless render work, (4) install.sh puts the .desktop
# entry and the icon in place. Exits non-zero at the first failure. Needs `make bundle` first.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
app=$(cd "${1:-dist/zoetrope}" 2>/dev/null && pwd)/zoetrope
[ -x "$app" ] || { echo "check.sh: no bundle at ${1:-dist/zoetrope} (run make bundle)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ZOETROPE_DATA_DIR="$tmp/data" ZOETROPE_CONFIG_DIR="$tmp/config" ZOETROPE_CACHE_DIR="$tmp/cache"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} PATH=/usr/bin:/bin  # no venv, no python of ours
cd "$tmp"  # not the source tree: the bundle must find its own assets
t0=$(date +%s.%N)
"$app" --screenshot "$tmp/shot.png" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
t1=$(date +%s.%N)
size=$(stat -c %s "$tmp/shot.png")
[ "$size" -gt 20000 ] || { echo "screenshot too small ($size bytes)"; exit 1; }
echo "1. demo opened, frame rendered, screenshot $size bytes: cold start to screenshot $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
"$app" --check-training 2>"$tmp/err" >/dev/null || { tail -5 "$tmp/err"; exit 1; }
echo "2. Model → Train on Clips…: $(tail -1 "$tmp/err" | cut -c1-110)…"
sound=$(ls "$src"/assets/demo/Demo.zoetrope/media/*.ogg | head -1)
"$app" -m engine.beats "$sound" | grep -q '"tempo"' || { echo "beats child failed"; exit 1; }
"$app" -m engine.render "$src/assets/demo/Demo.zoetrope" --out "$tmp/film.mp4" --range 0:23 \
    --progress none 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
"$app" -m engine.capture --list 2>/dev/null >/dev/null || { echo "capture child failed"; exit 1; }
echo "3. engine.beats, engine.render and engine.capture from the bundle: $(tail -1 "$tmp/err" | cut -c1-70)…"
XDG_DATA_HOME="$tmp/share" HOME="$tmp" sh "$(dirname "$app")/install.sh" >/dev/null
grep -q "^Exec=\"$(cd "$(dirname "$app")" && pwd)/zoetrope\" %f" "$tmp/share/applications/zoetrope-studio.desktop"
[ -s "$tmp/share/icons/hicolor/256x256/apps/zoetrope-studio.png" ]
echo "4. install.sh: .desktop entry and icon installed"
echo "bundle OK: $(du -sh "$(dirname "$app")" | cut -f1) unpacked"
