#!/usr/bin/env bash
# End-to-end tests of the real desktop app: starts Xvfb, tauri-driver (which drives
# WebKitWebDriver), and runs tests/e2e/*.e2e.mjs with node's test runner. Each test file
# starts the app with a fresh CAPSTAN_HOME. Screenshots land in artifacts/e2e/.
# Expects the app to be built already (scripts/test.sh builds it; or `cargo build -p capstan
# --features capstan/custom-protocol` after `npm --prefix ui run build`).
source "$(dirname "$0")/lib.sh"

[ -x "$APP_BIN" ] || die "$APP_BIN is missing; build it first (see the comment at the top of this script)"
command -v tauri-driver >/dev/null || die "tauri-driver is not installed; run scripts/setup.sh"
command -v WebKitWebDriver >/dev/null || die "WebKitWebDriver is not installed (Debian package webkit2gtk-driver); run scripts/setup.sh"
command -v xvfb-run >/dev/null || die "xvfb-run is not installed; run scripts/setup.sh"

export CAPSTAN_APP_BIN="$APP_BIN"
export CAPSTAN_E2E_ARTIFACTS="$ARTIFACTS/e2e"
rm -rf "$CAPSTAN_E2E_ARTIFACTS"; mkdir -p "$CAPSTAN_E2E_ARTIFACTS"
port="${CAPSTAN_E2E_DRIVER_PORT:-4444}"
export CAPSTAN_E2E_DRIVER_PORT="$port"
# The app inherits tauri-driver's environment: a throwaway home and a fast sandbox clock.
export CAPSTAN_HOME; CAPSTAN_HOME=$(mktemp -d -t capstan-e2e-XXXXXX)
export CAPSTAN_SANDBOX_TIME_SCALE="${CAPSTAN_SANDBOX_TIME_SCALE:-0.05}"
trap 'rm -rf "$CAPSTAN_HOME"' EXIT

xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  tauri-driver --port "$CAPSTAN_E2E_DRIVER_PORT" > "$CAPSTAN_E2E_ARTIFACTS/tauri-driver.log" 2>&1 & td=$!
  trap "kill $td 2>/dev/null; wait $td 2>/dev/null" EXIT
  for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$CAPSTAN_E2E_DRIVER_PORT) 2>/dev/null && break; sleep 0.1; done
  cd "$0/tests/e2e" && npm test --silent
' "$REPO_ROOT"
