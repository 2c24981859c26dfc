#!/usr/bin/env bash
# Compiles CryptoAuthLib's atcacert C code + a generated cert_chain.c/.h + our harness into one binary.
#   build-harness.sh <dir with cert_chain.c and cert_chain.h> <output binary> [asan|plain] [sdist version]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$1; OUT=$2; MODE=${3:-plain}; VERSION=${4:-20260505}
CAL=$("$HERE/fetch-sdist.sh" "$VERSION")
LIB="$CAL/lib"
FLAGS=(-std=gnu99 -O1 -g -Wall -Wno-unused-function -Werror=incompatible-pointer-types -Werror=missing-field-initializers -Werror=int-conversion)
if [ "$MODE" = asan ]; then
  FLAGS+=(-fsanitize=address -fsanitize-recover=address -fno-omit-frame-pointer)
fi
SOURCES=(
  "$LIB/atcacert/atcacert_def.c" "$LIB/atcacert/atcacert_der.c" "$LIB/atcacert/atcacert_date.c"
  "$LIB/atca_helpers.c" "$LIB/atca_debug.c"
  "$LIB/crypto/atca_crypto_sw_sha1.c" "$LIB/crypto/atca_crypto_sw_sha2.c"
  "$LIB/crypto/hashes/sha1_routines.c" "$LIB/crypto/hashes/sha2_routines.c"
)
# cal_buffer.c exists from 3.7.7 on
[ -f "$LIB/cal_buffer.c" ] && SOURCES+=("$LIB/cal_buffer.c")
gcc "${FLAGS[@]}" -I"$HERE/include" -I"$GEN" -I"$LIB" -I"$LIB/.." \
  "${SOURCES[@]}" "$GEN/cert_chain.c" "$HERE/stubs.c" "$HERE/harness.c" -o "$OUT"
