#!/usr/bin/env bash
# roofline_rounds.sh - memwall roofline against its peers over several rounds,
# the medians compared (docs/BENCHMARKS.md: "report medians and ratios").
#
# Each round is one bench_roofline run: the STREAM-style loops and OpenBLAS
# sgemm, then `memwall roofline --json --no-tiers`, seconds apart. On a host
# whose memory bandwidth other guests share, one round's best figures swing
# with bursts (the peer's own 2-thread repetitions spread 23-46 GB/s within a
# run), so the figure of merit is the median over rounds of each side's
# figure, and their ratio.
#
# usage: bench/roofline_rounds.sh [ROUNDS] [BUILD_DIR]    (defaults: 5, build-test)
# Needs jq-free bash and awk; OPENBLAS_CORETYPE is unset for the peer.
set -euo pipefail
rounds=${1:-5}
build=${2:-build-test}
bench="$build/bench/bench_roofline"
[ -x "$bench" ] || { echo "roofline_rounds: $bench not built (needs libopenblas-dev)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '| round | memwall DRAM read | peer read best | peer triad best | memwall FP32 peak | sgemm best |\n|---|---|---|---|---|---|\n'
for r in $(seq 1 "$rounds"); do
  env -u OPENBLAS_CORETYPE "$bench" --memwall-arg --no-tiers 2>/dev/null > "$out"
  # | dram_read_bytes_per_second | 33.7 GB/s | read (sum), 2 threads | 43.8 | ...
  awk -F'|' -v r="$r" '
    /^\| dram_read_bytes_per_second \|/ && /read \(sum\)/ { split($3, v, " "); mw = v[1]; rd = $5 + 0 }
    /^\| dram_read_bytes_per_second \|/ && /triad/        { tr = $5 + 0 }
    /^\| peak_flops_f32 \|/                                { split($3, v, " "); fl = v[1]; sg = $5 + 0 }
    END { printf "| %d | %.1f GB/s | %.1f | %.1f | %.1f GFLOP/s | %.1f |\n", r, mw, rd, tr, fl, sg }' "$out"
done | tee "$out.rows"
awk -F'|' '
  function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
                                  return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
  { n++; mw[n] = $3 + 0; rd[n] = $4 + 0; tr[n] = $5 + 0; fl[n] = $6 + 0; sg[n] = $7 + 0 }
  END {
    m = med(mw, n); r = med(rd, n); t = med(tr, n); f = med(fl, n); s = med(sg, n)
    printf "\nMedians over %d rounds: memwall DRAM read %.1f GB/s; peer read (sum) best %.1f, triad best %.1f; memwall FP32 %.1f GFLOP/s; sgemm best %.1f\n", n, m, r, t, f, s
    printf "Ratios of the medians (target 0.90-1.10): DRAM / read %.2f, DRAM / triad %.2f, FP32 / sgemm %.2f\n", m / r, m / t, f / s
  }' "$out.rows"
rm -f "$out.rows"
