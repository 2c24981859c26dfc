#!/usr/bin/env bash
# Decrypt a Keyline key file (PKCS#8 PBES2, scrypt, AES-256-CBC) with the OpenSSL CLI alone and
# print the plain PKCS#8 PEM on stdout. `openssl pkey` reads the keys Keyline writes (scrypt N=2^14,
# r=8, p=8: 16 MiB), but OpenSSL 3.0 caps PBES2 scrypt at 32 MiB, so a key encrypted elsewhere with
# a higher cost (up to Keyline's 256 MiB import limit) needs `openssl kdf`, which takes a higher cap.
#
#   KEYLINE_KEY_PASSPHRASE=... scripts/openssl-decrypt-key.sh keys/root.key | openssl pkey -noout -text
#
# The passphrase is read from KEYLINE_KEY_PASSPHRASE (it reaches `openssl kdf` as an argument, so
# run this only on a machine you trust). Pipe the output straight into openssl; never store it.
set -euo pipefail

key=${1:?usage: KEYLINE_KEY_PASSPHRASE=... $0 KEY_FILE}
pass=${KEYLINE_KEY_PASSPHRASE:?set KEYLINE_KEY_PASSPHRASE to the key passphrase}
command -v openssl >/dev/null || { echo "openssl is needed: apt-get install openssl" >&2; exit 2; }

asn1=$(openssl asn1parse -in "$key")
if ! grep -Eq 'OBJECT +:(id-)?scrypt' <<<"$asn1"; then
  # Not scrypt (e.g. PBKDF2 from `openssl genpkey -aes-256-cbc`): openssl pkey reads it directly.
  exec openssl pkey -in "$key" -passin env:KEYLINE_KEY_PASSPHRASE
fi
grep -q ':aes-256-cbc' <<<"$asn1" || { echo "$key is not AES-256-CBC encrypted" >&2; exit 2; }

# In order: salt (first OCTET STRING), N r p (INTEGERs after id-scrypt), IV (OCTET STRING after
# aes-256-cbc) and the ciphertext (the last OCTET STRING, at depth 1).
read -r salt n r p iv data_start < <(awk '
  /OBJECT *:(id-)?scrypt/ { in_kdf = 1; next }
  in_kdf && /OCTET STRING/ && salt == "" { sub(/.*\[HEX DUMP\]:/, ""); salt = $0; next }
  in_kdf && /INTEGER/ && ints < 3 { sub(/.*INTEGER *:/, ""); v[++ints] = $0; next }
  /:aes-256-cbc/ { in_kdf = 0; want_iv = 1; next }
  want_iv && /OCTET STRING/ { sub(/.*\[HEX DUMP\]:/, ""); iv = $0; want_iv = 0; next }
  /d=1 / && /OCTET STRING/ { split($1, a, ":"); hl = $0; sub(/.*hl= */, "", hl); sub(/ .*/, "", hl); start = a[1] + hl }
  END { print salt, v[1], v[2], v[3], iv, start }' <<<"$asn1")

aes_key=$(openssl kdf -keylen 32 -kdfopt "pass:$pass" -kdfopt "hexsalt:$salt" \
  -kdfopt "n:$((16#$n))" -kdfopt "r:$((16#$r))" -kdfopt "p:$((16#$p))" \
  -kdfopt maxmem_bytes:268435456 SCRYPT | tr -d ':\n')
openssl asn1parse -in "$key" -noout -out /dev/stdout | tail -c "+$((data_start + 1))" \
  | openssl enc -d -aes-256-cbc -K "$aes_key" -iv "$iv" \
  | openssl pkey -inform DER
