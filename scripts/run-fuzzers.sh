#!/usr/bin/env bash
# Builds the libFuzzer targets (conformance/fuzz) with the `fuzz` preset
# (clang++-14, ASan + UBSan) and runs each for a bounded time.
#   scripts/run-fuzzers.sh [SECONDS]      (default 60 per target)
#   KEYREQ_FUZZ_TARGETS="fuzz_response fuzz_request" scripts/run-fuzzers.sh 30
# Fails on any finding: a crash, a sanitizer report, a timeout, or a
# resolver/oracle disagreement (the targets abort on those); the reproducer's
# path and the command to replay it are printed.
set -euo pipefail
seconds=${1:-60}
case $seconds in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/fuzz
jobs=${JOBS:-$(nproc)}

cmake --preset fuzz >/dev/null
if [ -n "${KEYREQ_FUZZ_TARGETS:-}" ]; then  # e.g. KEYREQ_FUZZ_TARGETS="fuzz_response" to run one
  read -r -a targets <<<"$KEYREQ_FUZZ_TARGETS"
else
  targets=(fuzz_response fuzz_request fuzz_keystore)
  if ninja -C "$build" -t targets all 2>/dev/null | grep -q '^fuzz_config:'; then
    targets+=(fuzz_config)
  else
    echo "run-fuzzers: no fuzz_config target (keyreq_daemon missing): configuration parsing not fuzzed" >&2
  fi
fi
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

work=$build/fuzz-work
# The keystore target writes a client.keys per input and KeyStore fsyncs:
# on tmpfs that costs nothing. Scratch files stay in a directory of our own.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm/keyreq-fuzz-$$
else
  export TMPDIR=$work/tmp
fi
mkdir -p "$TMPDIR"
# UBSan reports abort (the preset does not make them fatal by itself).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

failed=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  corpus=$work/corpus/$name        # grows across runs; seeds are read-only inputs
  artifacts=$work/artifacts/$name
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  seeds=("$root/conformance/fuzz/corpus/$name")
  [ "$name" = response ] && seeds+=("$root/fixtures/outputs")
  log=$work/$name.log
  echo "=== $t: ${seconds}s (log: $log)"
  set +e
  "$build/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" | tr '\n' ' ' || true
  echo
  found=$(find "$artifacts" -type f | head -n 5)
  if [ $rc -ne 0 ] || [ -n "$found" ]; then
    failed=1
    echo "!!! $t: finding (exit $rc)"
    grep -E 'ERROR|runtime error|disagree|abort|SUMMARY' "$log" | head -n 20 || true
    tail -n 30 "$log"
    for f in $found; do
      echo "reproducer: $f"
      echo "  replay:   $build/bin/$t $f"
    done
  fi
done
rm -rf "$TMPDIR"
if [ $failed -ne 0 ]; then
  echo "run-fuzzers: FAILED" >&2
  exit 1
fi
echo "run-fuzzers: all targets ran ${seconds}s without a finding"
