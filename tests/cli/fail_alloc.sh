#!/usr/bin/env bash
# Fault injection from the command line, as curl's torture tests do:
# MEMWALL_FAIL_ALLOC=n fails the n-th allocation (src/common/alloc.c), for
# n = 1, 2, ... until the command has succeeded several times in a row (an
# allocation whose failure is tolerated - a figure left unknown - may come
# before the last one). Every run must exit 0 or 1, never die of a signal or
# print a sanitizer report, and an exit 1 must say why on stderr, in one
# "memwall: ..." message. An exit 0 must print the whole report: the same
# as without injection (for run, whose figures vary: the same JSON keys),
# since a report that quietly lost a key to a failed allocation is wrong.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"
GGUF=fuzz/corpus/gguf/tiny_llama.gguf
ST=fuzz/corpus/safetensors/llama_like

# Under ASan + UBSan every run is slower: try every n up to the bound all
# the same (these commands make a few hundred allocations at most), but let
# a sanitizer report fail the run rather than exit 1 quietly.
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}exitcode=99
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}halt_on_error=1:exitcode=98

MAX_N=3000     # no command here makes more allocations than this
OK_STREAK=5    # consecutive successes that end the loop

# The JSON keys of FILE, one path a line (for outputs whose values vary).
json_keys() { # FILE
    jq -c 'paths | map(tostring) | join(".")' "$1"
}

torture() { # WHAT same|keys|none CMD...
    local what=$1 check=$2 n=0 rc streak=0 failures=0
    shift 2
    "$@" > "$T/want" 2> "$T/stderr" < /dev/null || { show stderr "$T/stderr"; fail "$what: fails without injection"; }
    if [ "$check" = keys ]; then
        have_jq || check=none
        [ "$check" = keys ] && json_keys "$T/want" > "$T/want.keys"
    fi
    while [ "$streak" -lt "$OK_STREAK" ]; do
        n=$((n + 1))
        [ "$n" -le "$MAX_N" ] || fail "$what: still failing after $MAX_N allocations"
        MEMWALL_FAIL_ALLOC=$n "$@" > "$T/stdout" 2> "$T/stderr" < /dev/null
        rc=$?
        if { [ "$rc" != 0 ] && [ "$rc" != 1 ]; } ||
            grep -qE "Sanitizer|runtime error:|Segmentation|Aborted|double free|malloc\(\)" "$T/stderr"; then
            show stderr "$T/stderr"
            fail "$what: MEMWALL_FAIL_ALLOC=$n: exit $rc (a crash, a signal or a sanitizer report)"
        fi
        if [ "$rc" = 0 ]; then
            streak=$((streak + 1))
            case $check in
                same) cmp -s "$T/want" "$T/stdout" ||
                    { diff "$T/want" "$T/stdout" | head -n 20 >&2
                      fail "$what: MEMWALL_FAIL_ALLOC=$n: exit 0 with a different report"; } ;;
                keys) json_keys "$T/stdout" > "$T/got.keys" 2>&1 && cmp -s "$T/want.keys" "$T/got.keys" ||
                    { diff "$T/want.keys" "$T/got.keys" | head -n 20 >&2
                      fail "$what: MEMWALL_FAIL_ALLOC=$n: exit 0 with other JSON keys"; } ;;
            esac
            continue
        fi
        streak=0
        failures=$((failures + 1))
        if [ ! -s "$T/stderr" ]; then
            show stdout "$T/stdout"
            fail "$what: MEMWALL_FAIL_ALLOC=$n: exit 1 with nothing on stderr"
        fi
        case $(head -n 1 "$T/stderr") in
            "memwall: "?*) ;;
            *) show stderr "$T/stderr"
               fail "$what: MEMWALL_FAIL_ALLOC=$n: the error does not start with \"memwall: \"" ;;
        esac
    done
    [ "$failures" -gt 0 ] || fail "$what: no allocation failed (is MEMWALL_FAIL_ALLOC read?)"
    ok "$what: $((n - OK_STREAK)) allocations failed in turn, $failures clean errors"
}

torture "inspect GGUF" same "$MW" inspect "$GGUF"
torture "inspect --json GGUF" same "$MW" inspect --json "$GGUF"
torture "inspect safetensors" same "$MW" inspect "$ST"
torture "inspect --json safetensors" same "$MW" inspect --json "$ST"
torture "plan preset" same "$MW" plan llama-3-8b --ctx 4096 --mem 24G
torture "plan GGUF --json" same "$MW" plan "$GGUF" --json --mem 24G
torture "run GGUF" none "$MW" run "$GGUF" --batch 1 --prompt 2 --gen 1 --threads 1
torture "run GGUF --json" keys "$MW" run "$GGUF" --batch 2 --prompt 2 --gen 2 --threads 2 --json
