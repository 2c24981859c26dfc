#!/usr/bin/env bash
# End-to-end test of the OTA screen in the real window, in practice mode: a simulated board provisioned by the CLI
# boots a simulated rainbowtype bootloader against the embedded server, and an image is signed and pushed to it from
# the OTA screen until the device reports updatecompleted. See practice_window.sh for the namespace and display.
exec bash "$(dirname "${BASH_SOURCE[0]}")/practice_window.sh" tests/e2e/ota.e2e.mjs
