#!/usr/bin/env bash
# End-to-end test of the real Keyline window: builds the UI, keyline-app and the keyline CLI,
# makes sure tauri-driver is installed, then drives the window under Xvfb.
# Prints "E2E: N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/keyline/target}
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== e2e: %s\n' "$*"; }
fail() { echo "e2e: $*" >&2; echo "E2E: 0 passed, 1 failed"; exit 1; }

for tool in xvfb-run xdotool WebKitWebDriver node npm cargo; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/keyline-dev.sh setup (apt: xvfb xdotool webkit2gtk-driver)"
done

if [ ! -d node_modules ]; then
  step "npm install"
  npm install --no-audit --no-fund >/dev/null
fi

step "build the UI (ui/dist)"
npm run build:ui >/dev/null

step "build keyline-app and keyline (target: $CARGO_TARGET_DIR)"
cargo build -p keyline-app -p keyline-station

if ! command -v tauri-driver >/dev/null; then
  step "install tauri-driver 2"
  cargo install tauri-driver --version '^2' --locked
fi

mkdir -p tests/artifacts/screenshots tests/artifacts/e2e
export TAURI_DRIVER=$(command -v tauri-driver)
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
unset KEYLINE_CA_PASSPHRASE KEYLINE_PRACTICE

step "drive the window under Xvfb"
# A private D-Bus session with its own unlocked gnome-keyring: "remember in keyring" talks to a
# real Secret Service and never touches the desktop's keyring.
runner=(node tests/e2e/window.e2e.mjs)
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  runner=(dbus-run-session -- bash scripts/with-keyring.sh "${runner[@]}")
fi
# The practice session starts ministack, whose MQTT listener binds every interface: run the window in a
# loopback-only network namespace (tauri-driver and WebKitWebDriver only need loopback).
if [ "$(id -u)" = 0 ]; then netns=(unshare -n); else netns=(unshare -rn); fi
exec "${netns[@]}" -- sh -c 'ip link set lo up && exec "$@"' sh xvfb-run -a -s "-screen 0 1440x900x24" "${runner[@]}"
