#!/usr/bin/env bash
# End-to-end test of the Flash tool in the real window, in practice mode: a partition table and an app, chosen in the
# native open dialog (answered with xdotool), are checked, flashed into simulated board 1 with byte progress, and
# found in the simulated flash. See practice_window.sh for the namespace and display.
exec bash "$(dirname "${BASH_SOURCE[0]}")/practice_window.sh" tests/e2e/flash.e2e.mjs
