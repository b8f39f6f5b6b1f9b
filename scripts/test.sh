#!/usr/bin/env bash
# README command 2: install what is missing, then run every test layer:
#   rust      cargo fmt --check, clippy -D warnings, all Rust tests (nextest)
#   frontend  tsc --noEmit, eslint, vitest (mocked Backend)
#   ui        Playwright in Debian Chromium: the built frontend with IPC mocked, and the
#             bridge build against the real engine + sandbox (capstan-bridge)
#   e2e       the real desktop app under Xvfb, driven through tauri-driver + WebKitWebDriver
#   deb       release .deb bundle: unpacked, checked, installed binary started under Xvfb
# Each layer prints a summary line; a layer that cannot run fails. Exit status is non-zero if
# any layer failed. `CAPSTAN_LAYERS="rust frontend"` runs a subset (for the edit loop).
source "$(dirname "$0")/lib.sh"

LAYERS="${CAPSTAN_LAYERS:-rust frontend ui e2e deb}"
# In CI the official specs sit beside the clone (../shared/specs): contract tests must not skip.
if [ "${CI:-}" = "true" ]; then export CAPSTAN_REQUIRE_SPECS=1; fi
mkdir -p "$ARTIFACTS"
started_all=$(date +%s)

"$REPO_ROOT/scripts/setup.sh"
# Every layer needs the built frontend: the app embeds ui/dist (custom-protocol).
build_ui

declare -a SUMMARY=()
passed=0; failed=0

run_layer() {
  local name="$1"; shift
  local t0=$(date +%s) log="$ARTIFACTS/layer-$name.log" rc=0
  say "layer $name"
  ( set -o pipefail; "$@" 2>&1 | tee "$log" ) || rc=$?
  local secs=$(( $(date +%s) - t0 ))
  local detail; detail=$(layer_detail "$name" "$log")
  if [ $rc -eq 0 ]; then
    passed=$((passed+1)); SUMMARY+=("layer $name: PASS (${secs}s) $detail")
  else
    failed=$((failed+1)); SUMMARY+=("layer $name: FAIL (${secs}s, exit $rc) $detail — log: ${log#$REPO_ROOT/}")
  fi
}

# One line of what a layer counted, read from its own runner's output (never fails).
layer_detail() {
  local name="$1" log="$2" plain
  plain=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" 2>/dev/null || true)
  case "$name" in
    rust) grep -aE '^ *Summary \[' <<<"$plain" | tail -1 | sed -E 's/^ *//' ;;
    frontend) grep -aE '^ *Tests +[0-9]' <<<"$plain" | tail -1 | sed -E 's/^ *//; s/ +/ /g' ;;
    ui) grep -aE '^ *[0-9]+ (passed|failed|flaky|skipped)' <<<"$plain" | sed -E 's/^ *//' | tr '\n' ' ' ;;
    e2e) grep -aE '^# (pass|fail) ' <<<"$plain" | tr '\n' ' ' ;;
    deb) grep -aE '^deb: ' <<<"$plain" | tail -1 ;;
  esac || true
}

layer_rust() {
  cd "$REPO_ROOT"
  cargo fmt --all --check
  cargo clippy --workspace --all-targets --features capstan/custom-protocol --quiet -- -D warnings
  # Tests run inside a private session keyring and an unlocked Secret Service, so the
  # keyring tests exercise real OS stores, not mocks (machine-notes §6).
  local keyring_home; keyring_home=$(mktemp -d)
  XDG_DATA_HOME="$keyring_home" keyctl session - dbus-run-session -- bash -c '
    printf "capstan-ci" | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
    if cargo nextest --version >/dev/null 2>&1; then
      cargo nextest run --workspace --features capstan/custom-protocol --no-fail-fast
    else
      cargo test --workspace --features capstan/custom-protocol --no-fail-fast
    fi' 2> >(grep -v "Failed to set fd limit" >&2)
  local rc=$?
  rm -rf "$keyring_home"
  return $rc
}

layer_frontend() {
  cd "$REPO_ROOT/ui"
  npm run --silent typecheck
  npm run --silent lint
  npm run --silent test
}

layer_ui() {
  # capstan-bridge comes out of the same build as the rust and e2e layers (same package
  # selection and features, so nothing is compiled twice).
  (cd "$REPO_ROOT" && cargo build --workspace --tests --bins --features capstan/custom-protocol)
  cd "$REPO_ROOT/ui"
  npm run --silent build:e2e
  npm run --silent build:bridge
  cd "$REPO_ROOT/tests/ui"
  npx playwright test
}

layer_e2e() {
  # Same package selection and features as the rust layer's test build, so the desktop
  # binary comes out of that build instead of a second one (`-p capstan` alone would unify
  # dependency features differently and recompile much of the tree).
  say "building the desktop app (debug, frontend embedded)"
  (cd "$REPO_ROOT" && cargo build --workspace --tests --bins --features capstan/custom-protocol)
  "$REPO_ROOT/scripts/e2e.sh"
}

layer_deb() {
  "$REPO_ROOT/scripts/test-deb.sh"
}

for layer in $LAYERS; do
  case "$layer" in
    rust|frontend|ui|e2e|deb) run_layer "$layer" "layer_$layer" ;;
    *) die "unknown layer \"$layer\" (known: rust frontend ui e2e deb)" ;;
  esac
done

echo
echo "──────── Capstan test summary ($(( $(date +%s) - started_all ))s) ────────"
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
