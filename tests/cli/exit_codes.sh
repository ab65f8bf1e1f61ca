# exit_codes.sh - memwall watch exits like time(1): CMD's status, 128+N for
# a signal, 126/127 when CMD cannot run, 125 for memwall's own failures
# (each with a message that names what was wrong).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# ---- CMD's own status ----------------------------------------------------------
expect_exit 7 "$MW" watch -- "$MW_TOUCH" --exit 7 1M
expect_contains "$T/stderr" "peak rss (tree)"
expect_exit 7 "$MW" watch --json -o "$T/e7.json" -- "$MW_TOUCH" --exit 7 1M
expect_json "$T/e7.json" exit_code 7
expect_json "$T/e7.json" status_code 7
expect_json "$T/e7.json" signal null
expect_exit 1 "$MW" watch -- false
expect_exit 0 "$MW" watch -- true
ok "CMD's exit status is memwall's (7, 1, 0)"

# ---- killed by a signal: 128+N -----------------------------------------------------
expect_exit 143 "$MW" watch -- "$MW_TOUCH" --raise 15 1M
expect_contains "$T/stderr" "killed by SIGTERM"
expect_exit 143 "$MW" watch --json -o "$T/sig.json" -- "$MW_TOUCH" --raise 15 1M
expect_json "$T/sig.json" status_code 143
expect_json "$T/sig.json" oom_killed false
if have_jq; then
    # a signal is not an exit code: exit_code null, signal 15
    expect_json "$T/sig.json" exit_code null
    expect_json "$T/sig.json" signal 15
fi
expect_exit 137 "$MW" watch -- "$MW_TOUCH" --raise 9 1M
expect_contains "$T/stderr" "killed by SIGKILL"
expect_not_contains "$T/stderr" "out of memory"     # a plain kill is not an OOM kill
ok "killed by SIGTERM: 143, SIGKILL: 137, and the summary says so"

# ---- CMD cannot run ----------------------------------------------------------------
# (a fixed PATH: an unsearchable directory in PATH turns ENOENT into EACCES)
expect_exit 127 env PATH=/usr/bin:/bin "$MW" watch -- mw-no-such-command-here
expect_contains "$T/stderr" "command not found"
expect_contains "$T/stderr" "mw-no-such-command-here"
expect_exit 127 "$MW" watch -- "$T/no-such-file"
expect_contains "$T/stderr" "$T/no-such-file"
printf '#!/bin/sh\necho should not run\n' > "$T/not-executable"
chmod 644 "$T/not-executable"
expect_exit 126 "$MW" watch -- "$T/not-executable"
expect_contains "$T/stderr" "$T/not-executable"
expect_contains "$T/stderr" "cannot execute"
expect_not_contains "$T/stdout" "should not run"
# CMD is looked up in PATH
expect_exit 4 env PATH="$(dirname "$MW_TOUCH"):/usr/bin:/bin" "$MW" watch -- mw-touch --exit 4 1M
mkdir "$T/a-directory"
expect_exit 126 "$MW" watch -- "$T/a-directory"
ok "found in PATH; not found: 127 'command not found'; not executable / a directory: 126"

# ---- memwall's own usage errors: 125, a message naming the bad thing, nothing run -----
# usage_error CODE-TEXT ARGS...: exit 125, stderr names TEXT and points at --help,
# and CMD (an mw-touch exiting 9) never ran.
usage_error() { # TEXT ARGS...
    local text=$1
    shift
    expect_exit 125 "$MW" watch "$@"
    expect_contains "$T/stderr" "$text"
    expect_contains "$T/stderr" "memwall watch --help"
    expect_empty "$T/stdout"
}
usage_error "12Q"                  --mem-limit 12Q -- "$MW_TOUCH" --exit 9 1M
usage_error "--mem-limit"          --mem-limit 12Q -- "$MW_TOUCH" --exit 9 1M
usage_error "--mem-limit"          --mem-limit 100 -- "$MW_TOUCH" --exit 9 1M
usage_error "--swap-limit"         --swap-limit lots --mem-limit 64M -- "$MW_TOUCH" --exit 9 1M
usage_error "0.1ms"                --interval 0.1ms -- "$MW_TOUCH" --exit 9 1M
usage_error "from 1ms to 1h"       --interval 0.1ms -- "$MW_TOUCH" --exit 9 1M
usage_error "abc"                  --interval abc -- "$MW_TOUCH" --exit 9 1M
usage_error "--interval"           --interval abc -- "$MW_TOUCH" --exit 9 1M
usage_error "unknown option '--frobnicate'" --frobnicate -- "$MW_TOUCH" --exit 9 1M
usage_error "unknown option '-Z'"  -Z -- "$MW_TOUCH" --exit 9 1M
usage_error "unknown option '-Z'"  -qZ -- "$MW_TOUCH" --exit 9 1M
usage_error "unknown option '-Z'"  --json -Zq -- "$MW_TOUCH" --exit 9 1M    # not '--json'
usage_error "unknown option '--frobnicate'" --frobnicate=1 -- "$MW_TOUCH" --exit 9 1M
usage_error "option '--json' takes no value" --json=1 -- "$MW_TOUCH" --exit 9 1M
usage_error "option '--interval' needs a value" --interval
usage_error "option '-i' needs a value" -qi
usage_error "nothing to watch"
usage_error "nothing to watch"     --json --
usage_error "not both"             --pid $$ -- "$MW_TOUCH" --exit 9 1M
usage_error "abc"                  --pid abc
usage_error "--pid"                --pid abc
usage_error "--pid"                --pid 0
usage_error "xml"                  --timeline-format xml -- "$MW_TOUCH" --exit 9 1M
usage_error "--timeline-format"    --timeline-format xml -- "$MW_TOUCH" --exit 9 1M
usage_error "cannot cap --pid"     --mem-limit 64M --pid $$
ok "usage errors exit 125 with a message naming the option and value"

# The 'not both' message names the PID given, not the command.
expect_exit 125 "$MW" watch --pid 4242 -- "$MW_TOUCH" 1M
expect_contains "$T/stderr" "4242"

# A timeline that cannot be created is memwall's failure too.
expect_exit 125 "$MW" watch --timeline "$T/no/such/dir/t.csv" -- "$MW_TOUCH" --exit 9 1M
expect_contains "$T/stderr" "$T/no/such/dir/t.csv"
ok "--pid with a command names the PID; an uncreatable --timeline: 125"

# ---- bounded values (issue 10) ---------------------------------------------------
# A huge --interval overflowed ppoll's timespec: memwall spun at a full core on
# EINVAL, never reaped CMD and ignored SIGTERM. Now every interval outside
# 1ms..1h is refused up front with the range (timeout: the old code hung).
usage_error "from 1ms to 1h"       --interval 2h -- "$MW_TOUCH" --exit 9 1M
usage_error "--interval"           --interval 9223372036854775807 -- "$MW_TOUCH" --exit 9 1M
usage_error "1ms to 1h"            --interval 9223372036854775807 -- "$MW_TOUCH" --exit 9 1M
expect_exit 125 timeout 10 "$MW" watch --interval 9223372036854775807 -- true
expect_exit 0 "$MW" watch -q --interval 1h -- true      # the bound itself: runs, ends with CMD
ok "--interval outside 1ms..1h: 125 with the range; 1h itself runs"

# A size without a unit below 4096 is surely meant to have one (--mem-limit 24
# was 24 bytes): refused with a hint; sizes above 1 EiB are refused.
usage_error "did you mean 24G?"    --mem-limit 24 -- "$MW_TOUCH" --exit 9 1M
usage_error "did you mean 100G?"   --swap-limit 100 --mem-limit 64M -- "$MW_TOUCH" --exit 9 1M
usage_error "1 EiB"                --mem-limit 2000000T -- "$MW_TOUCH" --exit 9 1M
usage_error "from 4.00 KiB to 1.00 EiB" --mem-limit 1K -- "$MW_TOUCH" --exit 9 1M
ok "a bare size below 4096: 'did you mean 24G?'; above 1 EiB: refused"
