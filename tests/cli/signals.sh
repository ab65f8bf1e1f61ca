# signals.sh - SIGTERM, SIGINT and SIGHUP sent to memwall are passed on to
# CMD: memwall ends promptly with 128+N and leaves no process behind.
#
# Note: bash starts background jobs of a non-interactive shell with SIGINT
# (and SIGQUIT) ignored, and memwall inherits that. memwall reads the signals
# through a signalfd and resets them to the default in CMD, so SIGINT must
# still work here; if it does not, that is a memwall bug.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

check_signal() { # NAME STATUS
    local sig=$1 want=$2 pid child rc comm n
    "$MW" watch -q -- "$MW_TOUCH" 1M --hold 10s > "$T/out" 2> "$T/err" < /dev/null &
    pid=$!
    track_pid "$pid"
    child=$(wait_child "$pid" 5) || { show stderr "$T/err"; fail "SIG$sig: memwall started no child within 5 s"; }
    track_pid "$child"
    # wait until the child is mw-touch (exec done, signal dispositions reset)
    n=250
    while comm=$(cat "/proc/$child/comm" 2>/dev/null) && [ "$comm" != mw-touch ] && [ $n -gt 0 ]; do
        n=$((n - 1))
        sleep 0.02
    done
    expect_eq "SIG$sig: the child's name" "$comm" mw-touch

    kill -s "$sig" "$pid"
    if ! wait_gone "$pid" 2; then
        show stderr "$T/err"
        fail "SIG$sig: memwall (pid $pid) still runs 2 s after the signal"
    fi
    wait "$pid"
    rc=$?
    [ "$rc" = "$want" ] || { show stderr "$T/err"; fail "SIG$sig: expected exit $want, got $rc"; }
    if alive "$child"; then
        fail "SIG$sig: the child (pid $child) outlived memwall"
    fi
    expect_contains "$T/err" "killed by SIG$sig"
    ok "SIG$sig to memwall: exit $want within 2 s, the child is gone"
}

check_signal TERM 143
check_signal INT 130
check_signal HUP 129
