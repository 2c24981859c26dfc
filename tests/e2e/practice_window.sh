#!/usr/bin/env bash
# Runs one practice-mode end-to-end script (tests/e2e/<name>.e2e.mjs) in the real window under Xvfb. Practice mode
# also starts ministack, whose MQTT listener binds every interface, so the run happens inside a loopback-only
# network namespace (`unshare -n` as root, `unshare -rn` otherwise). Expects the UI, keyline-app and keyline to be
# built (tests/e2e/run.sh builds them). Prints "E2E: N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/root/.cache/keyline/target}
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p tests/artifacts/screenshots tests/artifacts/e2e
export TAURI_DRIVER=$(command -v tauri-driver)
unset KEYLINE_CA_PASSPHRASE KEYLINE_PRACTICE AWS_ENDPOINT_URL

if [ "$(id -u)" = 0 ]; then flags=-n; else flags=-rn; fi
exec unshare "$flags" -- sh -c 'ip link set lo up && exec xvfb-run -a -s "-screen 0 1440x900x24" node "$1"' sh "$1"
