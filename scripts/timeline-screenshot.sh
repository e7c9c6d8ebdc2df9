#!/bin/sh
# Renders a `nacos-sim run ... --timeline FILE.html` page with headless Chromium into a PNG, to
# look at the picture without a desktop: scripts/timeline-screenshot.sh FILE.html OUT.png [WxH]
# Needs /usr/bin/chromium (Debian: apt-get install chromium); nothing in CI depends on it.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 FILE.html OUT.png [WIDTHxHEIGHT (default 1600x1000)]" >&2
    exit 2
fi
in=$1
out=$2
size=${3:-1600x1000}
[ -f "$in" ] || { echo "error: no such file: $in" >&2; exit 2; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "error: $chromium not found (apt-get install chromium, or set CHROMIUM)" >&2; exit 2; }
abs_in=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
case $out in /*) abs_out=$out ;; *) abs_out=$(pwd)/$out ;; esac
mkdir -p "$(dirname "$abs_out")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --screenshot="$abs_out" \
    --window-size="$(echo "$size" | tr x ,)" "file://$abs_in" >/dev/null 2>&1
[ -s "$abs_out" ] || { echo "error: chromium wrote no screenshot" >&2; exit 1; }
echo "$abs_out"
