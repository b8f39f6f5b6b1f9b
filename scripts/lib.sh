#!/usr/bin/env bash
# Shared helpers for Capstan's scripts. Sourced, not run.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARTIFACTS="${CAPSTAN_ARTIFACTS:-$REPO_ROOT/artifacts}"
export PATH="$HOME/.cargo/bin:$PATH"

say()  { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (no sudo found). Run this script as root."
  fi
}

# Debian packages each purpose needs. Kept in one place so the README can point here.
APT_BUILD=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev patchelf
  file xdg-utils)
APT_DISPLAY=(xvfb xauth x11-utils imagemagick)
APT_TEST=(webkit2gtk-driver chromium chromium-driver dbus dbus-x11 gnome-keyring libsecret-1-dev
  libsecret-tools keyutils python3)

# Installs the listed Debian packages that are missing; does nothing (and needs no root, no
# network) when all are present.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_toolchain() {
  command -v cargo >/dev/null || die "cargo is not installed. Install Rust with rustup (https://rustup.rs), then rerun."
  command -v node >/dev/null && command -v npm >/dev/null || ensure_apt nodejs npm
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $major is too old; Capstan's frontend tooling needs Node.js 20 or newer."
}

# `npm ci` in a folder, only when its lockfile changed since the last install.
ensure_npm() {
  local dir="$1" stamp lock
  lock="$dir/package-lock.json"
  [ -f "$lock" ] || die "$lock is missing"
  stamp="$dir/node_modules/.capstan-lock.sha256"
  if [ -f "$stamp" ] && sha256sum -c --status "$stamp" 2>/dev/null; then return 0; fi
  say "installing npm packages in ${dir#$REPO_ROOT/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  (cd "$dir" && sha256sum package-lock.json > node_modules/.capstan-lock.sha256)
}

ensure_tauri_driver() {
  command -v tauri-driver >/dev/null && return 0
  say "installing tauri-driver (cargo install, about 30 s)"
  cargo install tauri-driver --locked --version 2.1.0 --quiet 2>/dev/null \
    || cargo install tauri-driver --locked --quiet
}

build_ui() {
  say "building the frontend (ui/dist)"
  (cd "$REPO_ROOT/ui" && npm run --silent build)
}

# The desktop binary with the frontend embedded (custom-protocol), debug profile.
build_app() {
  say "building the desktop app (debug, frontend embedded)"
  (cd "$REPO_ROOT" && cargo build -p capstan --features capstan/custom-protocol)
}
# Cargo's output folder; CARGO_TARGET_DIR moves it (Playwright's config reads the same).
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
APP_BIN="$TARGET_DIR/debug/capstan"
