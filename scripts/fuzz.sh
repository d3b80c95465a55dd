#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60):
#
#   bash scripts/fuzz.sh [SECONDS]      with nightly: cargo fuzz (installs cargo-fuzz if missing)
#   bash scripts/fuzz.sh --ci           CI form: 5 s per target if nightly and cargo-fuzz are both
#                                       installed already, else the replay below (never installs)
#   bash scripts/fuzz.sh --replay       the seed corpus through the same checks, on stable
#
# Without a nightly toolchain, it replays the seed corpus (fuzz/corpus/<target>/*) through the
# checks of src/fuzzing.rs with `cargo test`, which `cargo test` always does anyway.
#
# What a run finds that is new is kept in fuzz/corpus-run/<target>/ (not committed); a failing
# input is written to fuzz/artifacts/<target>/ and the script stops with cargo fuzz's status.
# To replay one: cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
mode=fuzz
install=yes
for arg in "$@"; do
  case "$arg" in
    --ci) seconds=5 install=no ;;
    --replay) mode=replay ;;
    ''|*[!0-9]*) echo "usage: bash scripts/fuzz.sh [SECONDS] [--ci] [--replay]" >&2; exit 2 ;;
    *) seconds="$arg" ;;
  esac
done

if [ "$mode" = fuzz ] && ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz.sh: no nightly toolchain: replaying the seed corpus on stable instead"
  mode=replay
fi
if [ "$mode" = fuzz ] && ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  if [ "$install" = yes ]; then
    echo "fuzz.sh: installing cargo-fuzz (about 1.5 min on 2 cores)"
    cargo install cargo-fuzz --locked
  else
    echo "fuzz.sh: cargo-fuzz is not installed: replaying the seed corpus on stable instead"
    mode=replay
  fi
fi

if [ "$mode" = replay ]; then
  cargo test --quiet --lib fuzzing::
  exit 0
fi

# The targets: the fuzz crate's [[bin]] entries.
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $targets; do
  mkdir -p "fuzz/corpus-run/$target"
  echo "fuzz.sh: $target for ${seconds} s"
  # The first directory receives what the run finds; the seeds are read, never written.
  status=0
  cargo +nightly fuzz run "$target" "fuzz/corpus-run/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $target failed (status $status); the input is in fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
done
echo "fuzz.sh: every target ran ${seconds} s without a failure"
