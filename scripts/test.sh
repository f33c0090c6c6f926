#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): set up, then build and run every test:
#  1. release build: unit tests, fuzz corpora replayed, interop and end-to-end tests with real peers
#     (JsSIP, coturn, Kamailio, Chromium), README check;
#  2. AddressSanitizer + UndefinedBehaviorSanitizer build: the same tests;
#  3. libFuzzer build (clang): each fuzz target for FUZZ_SECONDS (default 60) from its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
start=$(date +%s)
step() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }

step setup
bash scripts/setup.sh

run_ctest() {  # unit tests in parallel, then the tests that start servers (and browsers), one at a time
  (cd "$1" && ctest --output-on-failure -j"$(nproc)" -L 'unit|fuzz-replay|docs' && ctest --output-on-failure -L 'interop|e2e')
}

step "release build"
bash scripts/build.sh release
step "release tests"
run_ctest build

step "asan+ubsan build"
bash scripts/build.sh asan
step "asan+ubsan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_ctest build-asan

step "fuzz build"
bash scripts/build.sh fuzz
step "fuzzing ${FUZZ_SECONDS}s per target, $(nproc) at a time"
# Each libFuzzer target runs on one core: as many at once as there are cores, each writing its own
# log; the tails are printed in order once all have run.
mkdir -p build-fuzz/artifacts
fuzz_one() {  # name binary: runs one target, leaves its exit code in build-fuzz/artifacts/NAME.rc
  local name=$1 bin=$2 scratch rc=0
  scratch=$(mktemp -d)
  # New inputs go to the scratch dir; the committed corpus is only read. A crash leaves an
  # artifact and a non-zero exit: commit the artifact to fuzz/corpus/$name/ once fixed.
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix=build-fuzz/artifacts/"$name"- "$scratch" "fuzz/corpus/$name" \
         > build-fuzz/artifacts/"$name".log 2>&1 || rc=$?
  rm -rf "$scratch"
  echo "$rc" > build-fuzz/artifacts/"$name".rc
}
names=()
for f in build-fuzz/fuzz/fuzz_*; do
  name=${f##*/fuzz_}
  names+=("$name")
  rm -f build-fuzz/artifacts/"$name".rc
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
  fuzz_one "$name" "$f" &
done
wait
failed=()
for name in "${names[@]}"; do
  rc=$(cat build-fuzz/artifacts/"$name".rc 2>/dev/null || echo missing)
  echo "--- fuzz_$name: exit $rc"
  tail -12 build-fuzz/artifacts/"$name".log
  [ "$rc" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed for: ${failed[*]} (logs and crash artifacts in build-fuzz/artifacts/)" >&2
  exit 1
fi

step "all tests passed"
