#!/usr/bin/env bash
# README command 1: install what is missing, build, and start Capstan in sandbox mode.
# With no display (a server, CI, a container) it starts the app under Xvfb itself, saves a
# screenshot of the window to artifacts/run-window.png, and says how to look at it.
source "$(dirname "$0")/lib.sh"

"$REPO_ROOT/scripts/setup.sh" --run
build_ui
build_app

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  say "starting Capstan (sandbox mode); close the window to stop"
  exec "$APP_BIN"
fi

mkdir -p "$ARTIFACTS"
say "no display found: starting Capstan under Xvfb (virtual display 1280x800)"
say "to use it on a desktop, run this command in a graphical session instead"
export CAPSTAN_RUN_SCREENSHOT="$ARTIFACTS/run-window.png"
exec xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$0" & app=$!
  trap "kill $app 2>/dev/null; wait $app 2>/dev/null" EXIT INT TERM
  for i in $(seq 60); do
    sleep 0.5
    if xwininfo -root -tree 2>/dev/null | grep -q "\"Capstan\""; then break; fi
  done
  sleep 3
  if xwininfo -root -tree | grep -q "\"Capstan\""; then
    import -window root "$CAPSTAN_RUN_SCREENSHOT"
    echo "Capstan is running under Xvfb; its window is visible there. Screenshot: $CAPSTAN_RUN_SCREENSHOT"
  else
    echo "the Capstan window did not appear; see the log above" >&2
  fi
  echo "press Ctrl-C to stop"
  wait $app
' "$APP_BIN"
