#!/usr/bin/env bash
# Runs a command with an unlocked gnome-keyring secrets daemon on the current D-Bus session,
# so keyring tests talk to a real Secret Service instead of a mock.
set -euo pipefail
eval "$(printf 'keyline-test' | gnome-keyring-daemon --components=secrets --daemonize --unlock)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
exec "$@"
