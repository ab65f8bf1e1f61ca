#!/usr/bin/env bash
# Installs what is missing, then builds memwall into build/ (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
scripts/deps.sh
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMW_BUILD_TESTS=OFF "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
