#!/usr/bin/env bash
# Compiles a generated cert_chain.c (object only) against one CryptoAuthLib release's headers.
#   compile-cert-chain.sh <dir with cert_chain.c and cert_chain.h> <sdist version>
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$1; VERSION=$2
LIB="$("$HERE/fetch-sdist.sh" "$VERSION")/lib"
gcc -std=gnu99 -Wall -Werror -Wmissing-field-initializers -I"$HERE/include" -I"$GEN" -I"$LIB" -I"$LIB/.." \
  -c "$GEN/cert_chain.c" -o "$GEN/cert_chain-$VERSION.o"
