#!/usr/bin/env bash
# Builds the release .deb, checks what is inside (binary, desktop entry, every icon size),
# installs it with dpkg, starts the installed `capstan` under Xvfb, checks its window appears,
# saves a screenshot to artifacts/deb/, and removes the package again.
#   scripts/test-deb.sh              build + check + install + start
#   CAPSTAN_DEB_SKIP_BUILD=1 ...     reuse the last bundle
source "$(dirname "$0")/lib.sh"

out="$ARTIFACTS/deb"; rm -rf "$out"; mkdir -p "$out"
if [ -z "${CAPSTAN_DEB_SKIP_BUILD:-}" ]; then
  say "building the release .deb (the first build takes a few minutes)"
  (cd "$REPO_ROOT/ui" && npm run --silent tauri -- build --bundles deb --ci)
fi
deb=$(ls -t "$TARGET_DIR"/release/bundle/deb/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "no .deb was produced under target/release/bundle/deb"
cp "$deb" "$out/"
echo "deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

fail=0
check() { if eval "$2"; then echo "  ok   $1"; else echo "  FAIL $1"; fail=1; fi; }

x="$out/unpacked"; mkdir -p "$x"
dpkg-deb -x "$deb" "$x"
dpkg-deb -f "$deb" > "$out/control.txt"
dpkg-deb -c "$deb" > "$out/contents.txt"
desktop=$(ls "$x"/usr/share/applications/*.desktop 2>/dev/null | head -1)
say "checking the package contents"
check "package name is capstan" 'grep -qx "Package: capstan" "$out/control.txt"'
check "depends on WebKitGTK 4.1" 'grep -q "libwebkit2gtk-4.1-0" "$out/control.txt"'
check "binary /usr/bin/capstan is an executable ELF" '[ -x "$x/usr/bin/capstan" ] && file "$x/usr/bin/capstan" | grep -q ELF'
check "a desktop entry exists" '[ -n "$desktop" ]'
if [ -n "$desktop" ]; then
  cp "$desktop" "$out/"
  check "desktop entry: Name=Capstan" 'grep -qx "Name=Capstan" "$desktop"'
  check "desktop entry: Exec=capstan" 'grep -qE "^Exec=capstan( |$)" "$desktop"'
  check "desktop entry: Icon=capstan" 'grep -qx "Icon=capstan" "$desktop"'
  check "desktop entry: Type=Application" 'grep -qx "Type=Application" "$desktop"'
  check "desktop entry: a Categories= value" 'grep -qE "^Categories=.+" "$desktop"'
  if command -v desktop-file-validate >/dev/null; then
    check "desktop-file-validate accepts it" 'desktop-file-validate "$desktop"'
  fi
fi
# Every size from icons/ must be installed, at its real pixel size.
for spec in "32x32:32 x 32" "64x64:64 x 64" "128x128:128 x 128" "256x256@2:256 x 256" "512x512:512 x 512"; do
  dir="${spec%%:*}"; dims="${spec#*:}"
  icon="$x/usr/share/icons/hicolor/$dir/apps/capstan.png"
  check "icon $dir is a ${dims} PNG" '[ -f "$icon" ] && file "$icon" | grep -q "PNG image data, $dims"'
done
[ $fail -eq 0 ] || die "the .deb contents are not right (see above; contents in ${out#$REPO_ROOT/}/contents.txt)"

say "installing the .deb and starting the installed capstan under Xvfb"
as_root dpkg -i "$deb" >/dev/null || { as_root apt-get install -f -y -qq >/dev/null; as_root dpkg -i "$deb" >/dev/null; }
trap 'as_root dpkg -r capstan >/dev/null 2>&1 || true' EXIT
check "dpkg reports capstan installed" 'dpkg-query -W -f="\${Status}" capstan | grep -q "ok installed"'
check "capstan is on PATH at /usr/bin/capstan" '[ "$(command -v capstan)" = /usr/bin/capstan ]'
home=$(mktemp -d)
CAPSTAN_HOME="$home" xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  capstan > "$0/installed-app.log" 2>&1 & app=$!
  ok=1
  for i in $(seq 80); do
    sleep 0.5
    kill -0 $app 2>/dev/null || { echo "capstan exited early"; break; }
    if xwininfo -root -tree 2>/dev/null | grep -q "\"Capstan\""; then ok=0; break; fi
  done
  sleep 3
  import -window root "$0/installed-window.png" 2>/dev/null || true
  xwininfo -root -tree | grep "\"Capstan\"" > "$0/window.txt" || true
  kill $app 2>/dev/null; wait $app 2>/dev/null
  exit $ok
' "$out" && win=0 || win=1
rm -rf "$home"
check "the installed binary opened a window titled Capstan" '[ $win -eq 0 ]'
[ $fail -eq 0 ] || die "the installed app did not start (log: ${out#$REPO_ROOT/}/installed-app.log)"
echo "deb: $(basename "$deb") installs, has its desktop entry and 5 icon sizes, and the installed capstan shows its window"
