#!/usr/bin/env bash
# sweep.sh - does `memwall sweep` measure llama.cpp (through the npm package
# node-llama-cpp 3.21.1, a real client, with its mmap) as it measures its own
# engine? One model, a SmolLM-135M-shaped F16 GGUF with a vocabulary
# (mw-gen-gguf --vocab-meta --ctx 4096, 270 MB), swept by sweep_point.mjs:
#
#   1. along the context (512 to 4096 at batch 1), 2 GiB cap, the model
#      named with --evict (dropped from the page cache before each run);
#   2. along the batch (sequences 1, 2, 4, 8, 16 of 512 tokens), the same way;
#   3. the context sweep again WITHOUT --evict, the page cache warm (the
#      weights charged to this shell's cgroup, not to the points');
#   4. one point under a cap of the weights + 20 MiB (ctx 2048 needs ~100 MiB
#      more): it must page or run out of memory, not "fit".
#
# Checks: every point of 1-3 ok; 1-2: each point's cgroup was charged for at
# least the weights, and the fit's slope is within MW_SLOPE_TOL percent of
# what llama.cpp adds: along the context its f16 KV cache (the plan's
# kv_bytes_per_token); along the batch a sequence's KV cache of 512 tokens
# plus what its 16-token prompt and its logits row touch in llama.cpp's
# buffers (the plan's growth from batch 1 to 16 with --prompt 16: KV +4.4%).
# 10%: a point's peak varies by about +-3 MB from run to run (node's heap,
# and how node-llama-cpp batches the prompts), up to 11 MB at batch 8; over
# 512-4096 tokens and 1-16 sequences that moves the slope by about 3%
# (over 512-2048 or 1-8 by about 8%, too close to 10%, hence the longer
# ranges); no point judged paging; 3: each point's memory is
# still at least the weights. Every check runs; all failures are listed.
#
#   tests/llamacpp/sweep.sh
#
# Not registered with ctest: it downloads node-llama-cpp (about 730 MB, once,
# into $MW_LLAMACPP_DIR as check.sh does). Exit status: 0 all checks passed,
# 1 a check failed, 77 skipped (no node/npm/jq, no node-llama-cpp, no
# memwall build, no writable memory cgroup). Settings (environment):
# MW_BUILD_DIR (default build-test, then build), MW_MEMWALL, MW_GEN_GGUF,
# MW_LLAMACPP_DIR, MW_SLOPE_TOL (default 10), MW_THREADS (default 1),
# MW_WORK (default: a temporary directory), MW_KEEP=1 keeps it.
# See README.md ("sweep.sh") for what it measured.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

skip() { echo "sweep.sh: SKIP: $*" >&2; exit 77; }
say() { echo "sweep.sh: $*"; }
failures=()
check_fail() { echo "FAIL: $*" >&2; failures+=("$*"); }

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
command -v jq >/dev/null 2>&1 || skip "jq is not installed"

if [ -z "${MW_BUILD_DIR:-}" ]; then
    MW_BUILD_DIR=$root/build-test
    [ -x "$MW_BUILD_DIR/tests/mw-gen-gguf" ] || MW_BUILD_DIR=$root/build
fi
MW=${MW_MEMWALL:-$MW_BUILD_DIR/memwall}
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
TOL=${MW_SLOPE_TOL:-10}
THREADS=${MW_THREADS:-1}
[ -x "$MW" ] || skip "no memwall at $MW (build it, or set MW_MEMWALL)"
[ -x "$GEN" ] || skip "no mw-gen-gguf at $GEN (build with -DMW_BUILD_TESTS=ON, or set MW_GEN_GGUF)"

# ---- node-llama-cpp, installed outside the repository (install.sh) ----
. "$here/install.sh"

# ---- the model -------------------------------------------------------------
if [ -n "${MW_WORK:-}" ]; then
    W=$MW_WORK; mkdir -p "$W" || exit 1
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/mw-llamacpp-sweep.XXXXXX") || exit 1
    [ "${MW_KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT
fi
M=$W/smol.gguf
"$GEN" --vocab-meta --ctx 4096 "$M" || { echo "FAIL: mw-gen-gguf --vocab-meta failed" >&2; exit 1; }
weights=$("$MW" inspect --json "$M" | jq .weights_bytes)
kv_tok=$("$MW" plan "$M" --ctx 512 --json | jq .kv_bytes_per_token)
kv_seq=$((kv_tok * 512))
p1=$("$MW" plan "$M" --ctx 512 --batch 1 --prompt 16 --json | jq .total_bytes)
p16=$("$MW" plan "$M" --ctx 512 --batch 16 --prompt 16 --json | jq .total_bytes)
plan_seq=$(((p16 - p1) / 15))
say "model $M: weights $weights bytes; the plan's KV cache (f16) $kv_tok bytes a token, $kv_seq a sequence of 512; a sequence of 512 with a 16-token prompt $plan_seq"

# Fails early, and skips, when llama.cpp cannot run at all here.
node "$here/sweep_point.mjs" "$M" --ctx 256 --gen 2 --threads "$THREADS" > "$W/probe.out" 2> "$W/probe.err"
rc=$?
[ "$rc" = 77 ] && skip "$(tail -n 1 "$W/probe.err")"
[ "$rc" = 0 ] || { cat "$W/probe.err" >&2; echo "FAIL: sweep_point.mjs failed alone (exit $rc)" >&2; exit 1; }

point=(node "$here/sweep_point.mjs" "$M" --threads "$THREADS")

# sweep NAME ARGS... : memwall sweep --json -q ARGS into $W/NAME.json
sweep() {
    local name=$1; shift
    local t0=$SECONDS
    "$MW" sweep --json -q "$@" > "$W/$name.json" 2> "$W/$name.err" < /dev/null
    local rc=$?
    if [ "$rc" = 1 ] && grep -q "systemd-run\|cannot create memory cgroup" "$W/$name.err"; then
        skip "$(head -n 1 "$W/$name.err")"
    fi
    [ "$rc" = 0 ] || { cat "$W/$name.err" >&2; check_fail "$name: memwall sweep exited $rc"; return 1; }
    say "$name: $((SECONDS - t0)) s"
    jq -r --arg w "$weights" '.axis as $a | .points[] |
        "  \($a) \(.[$a]): \(.status) \(.verdict) memory \(.memory_bytes) (\(.memory_source)), cgroup peak \(.cgroup_peak_bytes), rss \(.peak_rss_bytes) (anon \(.peak_rss_anon_bytes), file \(.peak_rss_file_bytes)), processes \(.max_processes), refaults \(.refaults), major faults \(.major_faults), swap-in \(.swap_in_bytes), \(.throughput) tok/s"' \
        "$W/$name.json"
    jq -r '"  fit: \(.fit.fixed_bytes | floor) + \(.fit.per_item_bytes | floor) per \(.axis) (R² \(.fit.r2)); verdict \(.verdict): \(.reason)"' \
        "$W/$name.json"
}

# The checks of a sweep with --evict: all points ok, each cgroup charged for
# the weights, the slope within TOL% of WANT, no point paging.
check_evicted() { # NAME WANT_SLOPE
    local f=$W/$1.json n bad slope
    n=$(jq '.points | length' "$f")
    bad=$(jq '[.points[] | select(.status != "ok")] | length' "$f")
    [ "$n" -ge 2 ] && [ "$bad" = 0 ] || check_fail "$1: $bad of $n points not ok"
    bad=$(jq --argjson w "$weights" '[.points[] | select((.cgroup_peak_bytes // 0) < $w)] | length' "$f")
    [ "$bad" = 0 ] || check_fail "$1: $bad points' cgroup peak below the weights ($weights): the mmapped weights were not charged to the point"
    slope=$(jq '.fit.per_item_bytes' "$f")
    if [ "$(jq .fit.valid "$f")" != true ]; then
        # memwall left points out of its fit (judged paging, see below): the
        # slope of memory_bytes over every ok point, least squares, so that
        # the two findings stay apart
        slope=$(jq '.axis as $a | [.points[] | select(.status == "ok") | [.[$a], .memory_bytes]] |
            (map(.[0]) | add / length) as $x | (map(.[1]) | add / length) as $y |
            (map((.[0] - $x) * (.[1] - $y)) | add) / (map((.[0] - $x) * (.[0] - $x)) | add)' "$f")
        say "$1: memwall's fit is not valid; the slope over all ok points instead"
    fi
    awk -v s="$slope" -v w="$2" -v t="$TOL" 'BEGIN { d = s - w; if (d < 0) d = -d; exit !(d <= w * t / 100) }' ||
        check_fail "$1: the fit's slope $slope is not within $TOL% of what llama.cpp adds, $2"
    say "$1: slope $(awk -v s="$slope" -v w="$2" 'BEGIN { printf "%.0f, %+.1f%% against %d", s, 100 * (s - w) / w, w }')"
    bad=$(jq '[.points[] | select(.verdict == "paging")] | length' "$f")
    [ "$bad" = 0 ] || check_fail "$1: $bad points judged paging under a 2 GiB cap ($(jq -r .reason "$f")); memwall counts swap-in and refaults system-wide (/proc/vmstat): another process paging at the same time is enough"
}

# ---- 1. along the context, evicted -------------------------------------------
sweep ctx --contexts 512,1024,2048,4096 --batch 1 --mem-limit 2G --evict "$M" -- "${point[@]}" --ctx '{ctx}' &&
    check_evicted ctx "$kv_tok"

# ---- 2. along the batch (sequences of 512 tokens), evicted --------------------
sweep batch --batches 1,2,4,8,16 --mem-limit 2G --evict "$M" -- "${point[@]}" --ctx 512 --batch '{batch}' &&
    check_evicted batch "$plan_seq" &&
    say "batch: slope against the KV cache alone ($kv_seq): $(jq --argjson k "$kv_seq" '(.fit.per_item_bytes - $k) / $k * 1000 | round / 10' "$W/batch.json")%"

# ---- 3. along the context, no --evict, the page cache warm --------------------
cat "$M" > /dev/null
if sweep warm --contexts 512,1024,2048,4096 --batch 1 --mem-limit 2G -- "${point[@]}" --ctx '{ctx}'; then
    f=$W/warm.json
    bad=$(jq '[.points[] | select(.status != "ok")] | length' "$f")
    [ "$bad" = 0 ] || check_fail "warm: $bad points not ok"
    bad=$(jq --argjson w "$weights" '[.points[] | select((.memory_bytes // 0) < $w)] | length' "$f")
    [ "$bad" = 0 ] ||
        check_fail "warm, no --evict: $bad points' memory below the weights ($weights): sources $(jq -c '[.points[].memory_source] | unique' "$f"), processes $(jq -c '[.points[].max_processes] | unique' "$f") (memwall takes the RSS only for a one-process tree)"
fi

# ---- 4. a cap too small for the weights and the cache -------------------------
cap=$((weights + 20 * 1048576))
if sweep small --contexts 2048 --batch 1 --mem-limit "$cap" --timeout 300 --evict "$M" -- "${point[@]}" --ctx '{ctx}'; then
    v=$(jq -r '.points[0].verdict' "$W/small.json")
    case $v in
        paging | "memory capacity") say "small: under $cap bytes (weights + 20 MiB): $v" ;;
        *) check_fail "small: under $cap bytes (weights + 20 MiB) the point's verdict is $v, not paging or memory capacity" ;;
    esac
fi

if [ "${#failures[@]}" -gt 0 ]; then
    echo "RESULT: ${#failures[@]} checks failed:" >&2
    printf '  %s\n' "${failures[@]}" >&2
    [ "${MW_KEEP:-0}" = 1 ] && echo "kept $W" >&2
    exit 1
fi
say "RESULT: all checks passed"
[ "${MW_KEEP:-0}" = 1 ] && say "kept $W"
exit 0
