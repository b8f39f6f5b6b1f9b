#!/usr/bin/env bash
# Regenerates every icon size from icons/icon.svg (needs rsvg-convert and ImageMagick).
source "$(dirname "$0")/lib.sh"
ensure_apt librsvg2-bin imagemagick
cd "$REPO_ROOT/icons"
for s in 32 64 128; do rsvg-convert -w $s -h $s icon.svg -o "${s}x${s}.png"; done
rsvg-convert -w 256 -h 256 icon.svg -o 128x128@2x.png
rsvg-convert -w 512 -h 512 icon.svg -o icon.png
convert icon.png -define icon:auto-resize=256,128,64,48,32,16 icon.ico
say "icons regenerated in icons/"
