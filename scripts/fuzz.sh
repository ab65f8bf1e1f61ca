#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) on its seed corpus; new inputs go to build-fuzz/corpus/<reader>/.
# usage: scripts/fuzz.sh [SECONDS] [READER...]     (readers: gguf safetensors hf_config tokenizer)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
scripts/deps.sh --fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMW_FUZZ=ON -DMW_BUILD_TESTS=OFF >/dev/null
readers=("$@")
if [ ${#readers[@]} -eq 0 ]; then
  readers=()
  shopt -s nullglob
  for f in fuzz/fuzz_*.c; do n=${f#fuzz/fuzz_}; readers+=("${n%.c}"); done
fi
for r in "${readers[@]}"; do
  cmake --build build-fuzz --target "fuzz_$r" -j"$(nproc)" >/dev/null
  mkdir -p "build-fuzz/corpus/$r"
  echo "== fuzz_$r for ${secs}s"
  log=build-fuzz/fuzz_$r.log
  if ! ASAN_OPTIONS=detect_leaks=1 "build-fuzz/fuzz/fuzz_$r" -max_total_time="$secs" \
      -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
      "build-fuzz/corpus/$r" "fuzz/corpus/$r" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz_$r FAILED: the crashing input is saved as crash-* (see $log)"
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$log" | tr '\n' ' '; echo
done
