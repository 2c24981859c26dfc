#!/usr/bin/env bash
# End-to-end test of the Factory line and Devices screens in the real window, in practice mode (simulated boards).
# See practice_window.sh for the namespace and display it runs in.
exec bash "$(dirname "${BASH_SOURCE[0]}")/practice_window.sh" tests/e2e/line.e2e.mjs
