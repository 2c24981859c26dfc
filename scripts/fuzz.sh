#!/usr/bin/env bash
# Runs every coverage-guided fuzz target for SECONDS each (default 60) on the stable toolchain; no nightly and no
# cargo-fuzz: libfuzzer-sys builds libFuzzer, and rustc's stable SanitizerCoverage flags (-Cpasses=sancov-module)
# give it coverage. No sanitizer (that needs nightly); debug assertions and overflow checks are on, so an arithmetic
# overflow is a crash. Prints one line per target (runs, coverage, corpus size) and fails on any crash.
#   scripts/fuzz.sh [SECONDS]            (scripts/keyline-dev.sh fuzz [SECONDS] calls this)
# The JITR Lambda's certificate reader runs under atheris from the project's venv ($KEYLINE_VENV).
# Corpora grow in $CARGO_TARGET_DIR/fuzz/corpus/<target>; a crash input is kept in .../fuzz/artifacts/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_EACH=${1:-60}
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
OUT=${CARGO_TARGET_DIR:-$HOME/.cache/keyline/target}/fuzz
HOST=$(rustc -vV | sed -n 's/^host: //p')
# The fuzz crates (each its own workspace, outside the main one).
CRATES=(certs/fuzz board/fuzz ota/fuzz)

# --target keeps these flags off build scripts and proc macros (they have no libFuzzer to link against).
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=2 CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_INCREMENTAL=false

targets_of() { sed -n 's/^name = "\(.*\)"$/\1/p' "$ROOT/$1/Cargo.toml" | tail -n +2; }

# run_target NAME SEED_DIR COMMAND...: one libFuzzer run of NAME for SECONDS_EACH, summarised in one line.
run_target() {
  local target=$1 seed_dir=$2
  shift 2
  local corpus="$OUT/corpus/$target" log="$OUT/logs/$target.log" status seeds=()
  mkdir -p "$corpus"
  [ -d "$seed_dir" ] && seeds+=("$seed_dir")
  printf '== fuzz: %s for %s s\n' "$target" "$SECONDS_EACH"
  if "$@" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -rss_limit_mb=1024 \
      -artifact_prefix="$OUT/artifacts/$target-" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed=1
    tail -n 30 "$log"
  fi
  local runs cov ft files
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  files=$(find "$corpus" -type f | wc -l)
  summary+=("$(printf '%-18s %-6s runs %-10s cov %-6s ft %-6s corpus %s' "$target" "$status" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$files")")
}

mkdir -p "$OUT/artifacts" "$OUT/logs"
summary=()
failed=0
for crate in "${CRATES[@]}"; do
  printf '\n== fuzz: building %s (stable, %s)\n' "$crate" "$HOST"
  cargo build --release --quiet --manifest-path "$ROOT/$crate/Cargo.toml" --target "$HOST" --target-dir "$OUT/build" --bins
  for target in $(targets_of "$crate"); do
    run_target "$target" "$ROOT/$crate/seeds/$target" "$OUT/build/$HOST/release/$target"
  done
done

# The JITR Lambda's certificate reader (Python) under atheris, libFuzzer's Python front end.
PYTHON=${KEYLINE_VENV:-$ROOT/.venv}/bin/python
if ! "$PYTHON" -c 'import atheris, boto3' 2>/dev/null; then
  echo "fuzz: atheris (and boto3) are missing from $PYTHON; install them with: scripts/keyline-dev.sh setup" >&2
  failed=1
  summary+=("$(printf '%-18s %-6s atheris is not installed' lambda_cert_reader MISSING)")
else
  run_target lambda_cert_reader "$ROOT/cloud/lambda/fuzz/seeds" "$PYTHON" "$ROOT/cloud/lambda/fuzz/fuzz_cert_reader.py"
fi
printf '\n== fuzz summary (%s s each)\n' "$SECONDS_EACH"
printf '%s\n' "${summary[@]}"
exit "$failed"
