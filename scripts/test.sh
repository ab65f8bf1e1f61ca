#!/usr/bin/env bash
# Builds memwall twice - optimised, and with AddressSanitizer + UBSan - and
# runs the whole test suite on each. What CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)
run_suite() { # build dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DMW_BUILD_TESTS=ON -DMW_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure -j"$jobs")
}
echo "== tests: optimised build (build-test)"
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON
echo "== fuzz: each reader's libFuzzer target, briefly (scripts/fuzz.sh SECONDS for longer)"
scripts/fuzz.sh "${MW_FUZZ_SECONDS:-10}"
