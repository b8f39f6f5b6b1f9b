#!/usr/bin/env bash
# End-to-end tests of the real desktop app: starts Xvfb, then for each tests/e2e/*.e2e.mjs
# its own tauri-driver (which drives WebKitWebDriver) with a fresh CAPSTAN_HOME, and runs the
# file with node's test runner. Within a file every session (the app started again) shares
# that home. Screenshots land in artifacts/e2e/.
# Arguments, if any, pick files by substring: `scripts/e2e.sh workflow`.
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
# The app inherits tauri-driver's environment: a throwaway home per file and a fast sandbox clock.
export CAPSTAN_SANDBOX_TIME_SCALE="${CAPSTAN_SANDBOX_TIME_SCALE:-0.05}"
export CAPSTAN_E2E_HOMES; CAPSTAN_E2E_HOMES=$(mktemp -d -t capstan-e2e-XXXXXX)
trap 'rm -rf "$CAPSTAN_E2E_HOMES"' EXIT

files=()
for path in "$REPO_ROOT"/tests/e2e/*.e2e.mjs; do
  name=$(basename "$path")
  if [ $# -eq 0 ]; then files+=("$name"); continue; fi
  for want in "$@"; do [[ "$name" == *"$want"* ]] && { files+=("$name"); break; }; done
done
[ ${#files[@]} -gt 0 ] || die "no tests/e2e/*.e2e.mjs matches: $*"

xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  cd "$0/tests/e2e"
  failed=0
  for file in "${@}"; do
    export CAPSTAN_HOME="$CAPSTAN_E2E_HOMES/${file%.e2e.mjs}"; mkdir -p "$CAPSTAN_HOME"
    # Downloaded kubeconfigs stay in the throwaway home, not in the user'"'"'s ~/.kube.
    export CAPSTAN_KUBECONFIG_DIR="$CAPSTAN_HOME/kube"
    tauri-driver --port "$CAPSTAN_E2E_DRIVER_PORT" > "$CAPSTAN_E2E_ARTIFACTS/tauri-driver-${file%.e2e.mjs}.log" 2>&1 & td=$!
    trap "kill $td 2>/dev/null; wait $td 2>/dev/null" EXIT
    for i in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$CAPSTAN_E2E_DRIVER_PORT) 2>/dev/null && break; sleep 0.1; done
    node --test --test-reporter=tap "$file" || failed=1
    kill $td 2>/dev/null; wait $td 2>/dev/null || true
    trap - EXIT
  done
  exit $failed
' "$REPO_ROOT" "${files[@]}"
