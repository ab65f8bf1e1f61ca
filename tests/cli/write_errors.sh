# write_errors.sh - a report that cannot be written is a failure with a
# message, never a silent success: each command's report to a full device
# (/dev/full) exits 1 (watch: 125, memwall's own failure beside the
# command's) and says what could not be written and why.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ -w /dev/full ] || skip "no /dev/full here"

# Runs memwall ARGS... with its standard output on /dev/full; stderr in
# $T/stderr. Fails unless it exits with CODE and says why.
expect_full() { # CODE ARGS...
    local want=$1 got
    shift
    "$MW" "$@" > /dev/full 2> "$T/stderr" < /dev/null
    got=$?
    if [ "$got" != "$want" ]; then
        show stderr "$T/stderr"
        fail "expected exit $want, got $got from: memwall $* > /dev/full"
    fi
    expect_contains "$T/stderr" "cannot write the"
    expect_contains "$T/stderr" "No space left on device"
}

expect_full 1 inspect llama-3-8b
expect_full 1 inspect --json llama-3-8b
expect_full 1 plan llama-3-8b
expect_full 1 plan --json llama-3-8b
ok "inspect and plan: text and JSON to a full device exit 1 with the reason"

expect_full 1 run demo --prompt 4 --gen 2
expect_full 1 run --json demo --prompt 4 --gen 2
ok "run: text and JSON to a full device exit 1"

# watch's summary goes to standard error unless -o: -o /dev/full
expect_exit 125 "$MW" watch -o /dev/full -- true
expect_contains "$T/stderr" "cannot write the summary"
expect_exit 125 "$MW" watch --json -o /dev/full -- true
expect_contains "$T/stderr" "cannot write the JSON report"
# the command's own failure keeps its status; the report's is still said
expect_exit 3 "$MW" watch -o /dev/full -- sh -c 'exit 3'
expect_contains "$T/stderr" "cannot write the summary"
ok "watch -o /dev/full: 125 (or the command's status) with the reason"

# The sweep's points need a memory cgroup; without one, only what is above.
if "$MW" sweep -q --batches 1 --mem-limit 1G -- true > /dev/null 2> "$T/probe.err"; then
    expect_full 1 sweep -q --batches 1 --mem-limit 1G -- true
    expect_full 1 sweep -q --json --batches 1 --mem-limit 1G -- true
    expect_full 1 sweep -q --csv --batches 1 --mem-limit 1G -- true
    expect_exit 1 "$MW" sweep -q --svg /dev/full --batches 1 --mem-limit 1G -- true
    expect_contains "$T/stderr" "cannot write the sweep chart"
    ok "sweep: text, JSON, CSV and --svg to a full device exit 1"
else
    echo "note [$MW_TEST_NAME]: sweep not checked: $(head -n 1 "$T/probe.err")"
fi
