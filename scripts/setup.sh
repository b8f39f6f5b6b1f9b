#!/usr/bin/env bash
# Installs whatever is missing to build, run and test Capstan. Idempotent: when everything is
# there it only checks, in about a second.
#   scripts/setup.sh            everything (build + display + test tools)
#   scripts/setup.sh --run      only what running the app needs
source "$(dirname "$0")/lib.sh"

mode="${1:---all}"
ensure_toolchain
ensure_apt "${APT_BUILD[@]}" "${APT_DISPLAY[@]}"
ensure_npm "$REPO_ROOT/ui"
if [ "$mode" != "--run" ]; then
  ensure_apt "${APT_TEST[@]}"
  ensure_npm "$REPO_ROOT/tests/ui"
  ensure_npm "$REPO_ROOT/tests/e2e"
  ensure_tauri_driver
fi
say "setup complete"
