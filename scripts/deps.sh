#!/usr/bin/env bash
# Installs the Debian packages memwall needs to build and test, when missing.
# Usage: scripts/deps.sh [--test|--fuzz]   (what the tests / the fuzzers add)
set -euo pipefail
# libmicrohttpd: the HTTP server of watch --metrics-port (the CLI only)
pkgs=(gcc make cmake pkg-config libcjson-dev libmicrohttpd-dev)
case "${1:-}" in
  --test) pkgs+=(libcmocka-dev jq time groff-base clang libclang-rt-14-dev strace
          python3-numpy python3-torch  # the engine's PyTorch reference (tests/ref)
          openmpi-bin libopenmpi-dev   # issue #16: ranks of real MPI jobs (tests/cli/watch_ranks.sh)
          slurm-wlm munge              # a one-node Slurm cluster (tests/cli/sweep_slurm.sh)
          mariadb-server slurmdbd      # issue #16: its accounting storage, sacct (tests/cli/sweep_slurm_acct.sh)
          prometheus) ;;               # promtool and a server scraping watch (tests/cli/watch_*metrics*)
  --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "deps: need root to install: ${missing[*]} (run: apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
