#!/usr/bin/env bash
# This machine's profile (docs/ROOFLINE.md, "The machine profile"):
# `memwall roofline --quick` writes it under $XDG_CACHE_HOME/memwall with
# this machine's key (a later --quick keeps it); `memwall run` and `plan`
# cite its ceilings; MEMWALL_PROFILE=none and a missing profile give null;
# MEMWALL_PROFILE=FILE is used whatever its key; another machine's file is
# not used; a damaged one is a warning, not a failure; an engine sweep
# with no profile measures it once. No timing is judged: the fractions only
# need to be numbers in a sane range.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"

unset MEMWALL_PROFILE
export XDG_CACHE_HOME=$T/cache

# ---- roofline writes the profile ------------------------------------------
expect_exit 0 "$MW" roofline --quick
profile=$(ls "$T"/cache/memwall/machine-*.json 2> /dev/null | head -n 1)
[ -n "$profile" ] || { show stdout "$T/stdout"; show stderr "$T/stderr"; fail "no profile under $T/cache/memwall"; }
case $(basename "$profile") in
    machine-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].json) ;;
    *) fail "profile name $(basename "$profile"): expected machine-<16 hex digits>.json" ;;
esac
expect_eq "the report's last line" "$(tail -n 1 "$T/stdout")" \
    "This machine's profile: saved to $profile (plan, run and sweep judge against it)"
expect_eq "folder mode" "$(stat -c %a "$T/cache/memwall")" 700
expect_eq "cache folder mode" "$(stat -c %a "$T/cache")" 700
expect_valid_json "$profile"
expect_json "$profile" schema memwall.roofline/1
expect_json "$profile" .key.cpus "$(getconf _NPROCESSORS_ONLN)"
expect_json "$profile" .key.memory_bytes "$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024 ))"
expect_json "$profile" .key.gpu none
model=$(json_get "$profile" .key.cpu_model) || exit
[ -n "$model" ] || fail "key.cpu_model is empty"
case $(json_get "$profile" measured) in
    20[0-9][0-9]-[01][0-9]-[0-3][0-9]\ [0-2][0-9]:[0-5][0-9]\ UTC) ;;
    *) show json "$profile"; fail "measured: expected YYYY-MM-DD HH:MM UTC" ;;
esac
stamp=$(json_get "$profile" measured_unix) || exit
expect_num measured_unix "$stamp" ">" 1.6e9
ls "$T"/cache/memwall | grep -q tmp && fail "a temporary file was left in $T/cache/memwall"

# a second --quick keeps it; --refresh replaces it
sleep 1.1
expect_exit 0 "$MW" roofline --quick
expect_contains "$T/stdout" "kept: a --quick measurement does not replace it"
expect_json "$profile" measured_unix "$stamp"
expect_exit 0 "$MW" roofline --quick --refresh --json
expect_valid_json "$T/stdout"
expect_contains "$T/stderr" "saved to $profile"
new=$(json_get "$profile" measured_unix) || exit
expect_num "measured_unix after --refresh" "$new" ">" "$stamp"

# ---- run and plan cite it -------------------------------------------------
expect_exit 0 "$MW" run --prompt 2 --gen 2 --json
cp "$T/stdout" "$T/run.json"
expect_json "$T/run.json" .ceilings.profile "$profile"
for k in bandwidth_fraction compute_fraction; do
    v=$(json_get "$T/run.json" ".ceilings.$k") || exit
    expect_num "ceilings.$k" "$v" ">" 0
    expect_num "ceilings.$k" "$v" "<" 10
done
binds=$(json_get "$T/run.json" .ceilings.binds) || exit
case $binds in bandwidth|compute|below_both) ;; *) fail "ceilings.binds: '$binds'" ;; esac
dram=$(json_get "$T/run.json" .ceilings.dram_read_bytes_per_second) || exit
expect_eq "DRAM read as in the profile" "$dram" "$(json_get "$profile" dram_read_bytes_per_second)"
expect_exit 0 "$MW" run --prompt 2 --gen 2
expect_contains "$T/stdout" "of this machine's DRAM read bandwidth ("
expect_contains "$T/stdout" "(machine profile $profile, measured "

expect_exit 0 "$MW" plan gpt2 --json
tps=$(json_get "$T/stdout" .on_this_machine.tokens_per_second_max) || exit
expect_num "on_this_machine.tokens_per_second_max" "$tps" ">" 0
expect_json "$T/stdout" .on_this_machine.profile "$profile"
# GPT-2 decode at batch 1 does 2 FLOP a byte: bandwidth binds on any machine
# whose FP32 peak is over twice its DRAM bandwidth - which a --quick peak
# measured by an ASan build on a loaded machine need not be. What must hold
# anywhere: the term named is the larger one (the figures are in the JSON).
bw_s=$(json_get "$T/stdout" .on_this_machine.bandwidth_step_seconds) || exit
fl_s=$(json_get "$T/stdout" .on_this_machine.compute_step_seconds) || exit
want=$(awk -v b="$bw_s" -v c="$fl_s" 'BEGIN { print (b + 0 >= c + 0) ? "bandwidth" : "compute" }')
expect_json "$T/stdout" .on_this_machine.binds "$want"
expect_exit 0 "$MW" plan gpt2
expect_contains "$T/stdout" "on this machine: at most "
# training has no decode step
expect_exit 0 "$MW" plan gpt2 --train --json
expect_eq "training: no on_this_machine" "$(jq 'has("on_this_machine")' "$T/stdout")" false

# ---- no profile ------------------------------------------------------------
MEMWALL_PROFILE=none expect_exit 0 "$MW" run --prompt 2 --gen 2 --json
expect_json "$T/stdout" ceilings null
MEMWALL_PROFILE=none expect_exit 0 "$MW" plan gpt2 --json
expect_json "$T/stdout" on_this_machine null
XDG_CACHE_HOME=$T/empty expect_exit 0 "$MW" run --prompt 2 --gen 2
expect_contains "$T/stdout" "(no machine profile: run memwall roofline to judge against this machine's ceilings)"
expect_empty "$T/stderr"
[ -e "$T/empty" ] && fail "run made a profile folder: it never measures without --refresh"
MEMWALL_PROFILE=none expect_exit 0 "$MW" roofline --quick
expect_not_contains "$T/stdout" "This machine's profile"

# ---- MEMWALL_PROFILE=FILE: used whatever its key -----------------------------
jq '.key.cpus = 99999 | .key.cpu_model = "Another CPU"' "$profile" > "$T/other.json"
MEMWALL_PROFILE=$T/other.json expect_exit 0 "$MW" run --prompt 2 --gen 2 --json
expect_json "$T/stdout" .ceilings.profile "$T/other.json"
expect_contains "$T/stdout" "Another CPU, 99999 CPUs"
# ... but at this machine's path, another machine's file is not used
cp "$profile" "$T/good.json"
cp "$T/other.json" "$profile"
expect_exit 0 "$MW" run --prompt 2 --gen 2 --json
expect_json "$T/stdout" ceilings null
cp "$T/good.json" "$profile"

# ---- a damaged profile: a warning, the run goes on --------------------------
head -c 200 "$T/good.json" > "$T/cut.json"
MEMWALL_PROFILE=$T/cut.json expect_exit 0 "$MW" run --prompt 2 --gen 2 --json
expect_json "$T/stdout" ceilings null
expect_contains "$T/stderr" "warning: $T/cut.json: the machine profile is damaged: not valid JSON"
expect_contains "$T/stderr" "run memwall roofline --refresh"
jq '.dram_read_bytes_per_second = "fast"' "$T/good.json" > "$T/str.json"
MEMWALL_PROFILE=$T/str.json expect_exit 0 "$MW" plan gpt2 --json
expect_json "$T/stdout" on_this_machine null
expect_contains "$T/stderr" "\"dram_read_bytes_per_second\" is a string, not a number"
# roofline replaces a damaged profile even with --quick
MEMWALL_PROFILE=$T/cut.json expect_exit 0 "$MW" roofline --quick
expect_contains "$T/stdout" "saved to $T/cut.json"
expect_json "$T/cut.json" schema memwall.roofline/1

# ---- nowhere to keep it: a warning, exit 0 ----------------------------------
env -u HOME -u XDG_CACHE_HOME "$MW" roofline --quick > "$T/stdout" 2> "$T/stderr" < /dev/null ||
    { show stderr "$T/stderr"; fail "roofline without HOME failed"; }
expect_contains "$T/stderr" "warning: this machine's profile was not saved: no place for this machine's profile"
expect_not_contains "$T/stdout" "This machine's profile"

# ---- an engine sweep measures it once -----------------------------------------
if [ "${MW_SANITIZED:-0}" = 1 ]; then
    # a full roofline under ASan takes most of a minute: the optimised
    # build checks this part
    ok "profile written, kept, cited by run and plan; none, FILE, another machine's, damaged (sweep: optimised build only)"
    exit 0
fi
sweep_args=(sweep --json -q --batches 1 --prompt 4 --gen 4 --ctx 16 --mem-limit 1G)
XDG_CACHE_HOME=$T/sweepcache "$MW" "${sweep_args[@]}" > "$T/stdout" 2> "$T/stderr" < /dev/null
rc=$?
if [ "$rc" = 1 ] && grep -q "systemd-run\|cannot create memory cgroup" "$T/stderr"; then
    ok "profile written, cited by run and plan (sweep not checked: $(head -n 1 "$T/stderr"))"
    exit 0
fi
[ "$rc" = 0 ] || { show stderr "$T/stderr"; fail "sweep exited $rc"; }
expect_contains "$T/stderr" "memwall: measuring this machine's ceilings once"
ls "$T"/sweepcache/memwall/machine-*.json > /dev/null 2>&1 || fail "the sweep saved no profile"
XDG_CACHE_HOME=$T/sweepcache expect_exit 0 "$MW" "${sweep_args[@]}"
expect_not_contains "$T/stderr" "measuring this machine's ceilings"
# the sweep reads the profile; its points' `memwall run` processes do not
# (no profile or NVML work in the measured process); not under ASan, whose
# leak checker traces the process itself and cannot beside strace
if command -v strace > /dev/null 2>&1 && [ "${MW_SANITIZED:-0}" != 1 ]; then
    XDG_CACHE_HOME=$T/sweepcache strace -f -qq -e trace=openat -o "$T/strace" "$MW" "${sweep_args[@]}" \
        > /dev/null 2>&1 < /dev/null || fail "the sweep under strace failed"
    readers=$(grep 'sweepcache/memwall/machine-' "$T/strace" | awk '{print $1}' | sort -u | wc -l)
    expect_eq "processes that opened the profile" "$readers" 1
fi
# a command sweep never measures
XDG_CACHE_HOME=$T/cmdcache expect_exit 0 "$MW" sweep --json -q --batches 1 --mem-limit 1G -- true
expect_not_contains "$T/stderr" "measuring"
[ -e "$T/cmdcache" ] && fail "a command sweep made a profile"
ok "profile written, kept, cited by run and plan; none, FILE, another machine's, damaged; measured once by a sweep"
