#!/bin/sh
# Put Zoetrope Studio in the desktop's menu: a .desktop entry and the icon, for this user
# (~/.local/share), pointing at this folder's zoetrope. `./install.sh --uninstall` takes them out.
# Run it from the unpacked bundle; move the folder first if you want it elsewhere (then run again).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/zoetrope-studio.desktop"
icon="$data/icons/hicolor/256x256/apps/zoetrope-studio.png"
if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry" "$icon"
    echo "removed $entry and $icon"
    exit 0
fi
[ -x "$here/zoetrope" ] || { echo "install.sh: no zoetrope program beside it in $here" >&2; exit 1; }
mkdir -p "$(dirname "$entry")" "$(dirname "$icon")"
cp "$here/_internal/resources/zoetrope.png" "$icon"
sed -e "s|^Exec=.*|Exec=\"$here/zoetrope\" %f|" -e "s|^Icon=.*|Icon=zoetrope-studio|" \
    "$here/_internal/resources/zoetrope.desktop" > "$entry"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "installed $entry (runs $here/zoetrope) and $icon"
