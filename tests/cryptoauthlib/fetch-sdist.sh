#!/usr/bin/env bash
# Downloads the CryptoAuthLib C sources (PyPI sdist cryptoauthlib==20260505, CryptoAuthLib 3.8.0)
# into a cache outside the repository and prints the extracted directory. Sources are never committed.
#   fetch-sdist.sh [VERSION]   (20260505 = CryptoAuthLib 3.8.0, the default; 20201130 = 3.2.5)
set -euo pipefail
VERSION=${1:-20260505}
CACHE=${KEYLINE_CRYPTOAUTHLIB_CACHE:-$HOME/.cache/keyline/cryptoauthlib}
DIR="$CACHE/cryptoauthlib-$VERSION"
mkdir -p "$CACHE"
# tests run in parallel: one download and extraction at a time
exec 9>"$CACHE/.lock-$VERSION"
flock 9
if [ ! -f "$DIR/lib/atcacert/atcacert_def.c" ]; then
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  PIP=${KEYLINE_VENV:-$ROOT/.venv}/bin/pip
  [ -x "$PIP" ] || PIP="python3 -m pip"
  $PIP download --quiet --disable-pip-version-check --no-deps --no-binary :all: "cryptoauthlib==$VERSION" -d "$CACHE" >&2
  tar -xzf "$CACHE/cryptoauthlib-$VERSION.tar.gz" -C "$CACHE"
fi
[ -f "$DIR/lib/atcacert/atcacert_def.c" ] || { echo "CryptoAuthLib sources missing in $DIR" >&2; exit 1; }
echo "$DIR"
