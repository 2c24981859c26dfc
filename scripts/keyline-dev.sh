#!/usr/bin/env bash
# Keyline developer entry point for a fresh Debian/Ubuntu machine.
#   keyline-dev.sh setup   install system packages, the Python tools, npm packages and build everything
#   keyline-dev.sh start   setup, then open the desktop app in practice mode
#   keyline-dev.sh test    setup, then run the whole test suite (what CI runs), with a 5 s smoke run of each fuzz target
#   keyline-dev.sh fuzz [SECONDS]   run every fuzz target for SECONDS each (default 60) on stable (scripts/fuzz.sh)
# Run as root (or with sudo): it installs apt packages, and the AWS emulator tests need `unshare -n`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/keyline/target}
export KEYLINE_VENV=${KEYLINE_VENV:-$ROOT/.venv}
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned tools that tests use as real peers.
PIP_PINS=(ministack==1.5.33 boto3==1.43.106 cryptography==50.0.2 esptool==4.8.1 pkilint==0.13.3 policy-sentry==0.15.2 atheris==2.3.0)
APT_PACKAGES=(
  # Tauri on Debian
  libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libudev-dev pkg-config
  # the real window under test, keyring, MQTT peer, certificates, PKCS#11 token (SoftHSM2) for CA keys
  webkit2gtk-driver xvfb xauth xdotool gnome-keyring dbus dbus-x11 openssl mosquitto socat softhsm2
  python3-venv iproute2 util-linux
)

log() { printf '\n== %s\n' "$*"; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_rust() {
  if ! command -v cargo >/dev/null; then
    log "rust: installing the stable toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  fi
  if ! command -v tauri-driver >/dev/null; then
    log "cargo: installing tauri-driver 2"
    cargo install tauri-driver --version '^2' --locked
  fi
}

install_node() {
  command -v npm >/dev/null || { log "node: installing nodejs and npm"; sudo_if_needed apt-get install -y -qq nodejs npm; }
  log "npm: installing packages"
  npm ci --no-audit --no-fund --prefix "$ROOT" 2>/dev/null || npm install --no-audit --no-fund --prefix "$ROOT"
}

install_python() {
  [ -x "$KEYLINE_VENV/bin/python" ] || python3 -m venv "$KEYLINE_VENV"
  log "python: ${PIP_PINS[*]} into $KEYLINE_VENV"
  "$KEYLINE_VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PINS[@]}"
}

build_all() {
  log "build: web UI"
  npm run --prefix "$ROOT" build:ui
  log "build: keyline CLI and desktop app ($CARGO_TARGET_DIR)"
  cargo build -p keyline-station -p keyline-app
}

setup() { install_apt; install_rust; install_python; install_node; build_all; }

start() {
  setup
  log "start: Keyline in practice mode"
  exec "$CARGO_TARGET_DIR/debug/keyline-app" --practice
}

run_tests() {
  setup
  local started=$SECONDS
  log "test: Rust workspace (inside a D-Bus session with an unlocked gnome-keyring)"
  dbus-run-session -- bash "$ROOT/scripts/with-keyring.sh" cargo test --workspace --no-fail-fast
  log "test: UI unit tests"
  npm run --prefix "$ROOT" test:ui
  log "test: the real window (tauri-driver under Xvfb)"
  bash "$ROOT/tests/e2e/run.sh"
  log "test: the Cloud connecting wizard in the real window against ministack"
  bash "$ROOT/tests/e2e/cloud.sh"
  log "test: a Factory line shift on simulated boards and the Devices screen in the real window"
  bash "$ROOT/tests/e2e/line.sh"
  log "test: an image signed and pushed from the OTA screen to a simulated device in the real window"
  bash "$ROOT/tests/e2e/ota.sh"
  log "test: images flashed from the Flash tool into a simulated board in the real window"
  bash "$ROOT/tests/e2e/flash.sh"
  log "test: a 5 s smoke run of every fuzz target (stable, coverage-guided)"
  bash "$ROOT/scripts/fuzz.sh" 5
  log "all tests passed in $((SECONDS - started)) s"
}

case "${1:-}" in
  setup) setup ;;
  start) start ;;
  test) run_tests ;;
  fuzz) install_rust; bash "$ROOT/scripts/fuzz.sh" "${2:-60}" ;;
  *) echo "usage: $0 setup|start|test|fuzz [SECONDS]" >&2; exit 2 ;;
esac
