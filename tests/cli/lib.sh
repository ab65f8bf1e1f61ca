# tests/cli/lib.sh - shared helpers of the CLI tests; each tests/cli/*.sh
# sources it first:   . "$(dirname "$0")/lib.sh"
#
# ctest sets MW_MEMWALL, MW_TOUCH, MW_FAKE_NVML, MW_FAKE_CUDA, MW_SOURCE_DIR and
# MW_BUILD_DIR (tests/CMakeLists.txt). Run by hand, a script finds them
# from MW_BUILD_DIR (default: build/ of the source tree):
#   MW_BUILD_DIR=build bash tests/cli/help.sh
#
# Every script gets a private temporary directory $T, removed on exit along
# with any process registered with track_pid. Exit status: 0 pass, 1 fail,
# 77 skipped (ctest's SKIP_RETURN_CODE).
#
# Environment knobs:
#   MW_UPDATE_GOLDEN=1   golden_check rewrites tests/cli/golden/* instead of
#                        comparing (then review the diff and commit it)
#   MW_KEEP_TMP=1        keep $T for a look after the run

set -u

MW_TEST_NAME=$(basename "$0" .sh)
MW_SOURCE_DIR=${MW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MW_BUILD_DIR=${MW_BUILD_DIR:-$MW_SOURCE_DIR/build}
MW_MEMWALL=${MW_MEMWALL:-$MW_BUILD_DIR/memwall}
MW_TOUCH=${MW_TOUCH:-$MW_BUILD_DIR/tests/mw-touch}
MW_FAKE_NVML=${MW_FAKE_NVML:-$MW_BUILD_DIR/tests/libfake-nvml.so}
MW_FAKE_CUDA=${MW_FAKE_CUDA:-$MW_BUILD_DIR/tests/libfake-cuda.so}
MW_GOLDEN_DIR=$MW_SOURCE_DIR/tests/cli/golden
MW=$MW_MEMWALL

# A fixed environment: no real GPU, no colours, no test hooks from outside.
# Tests that want the fake NVML or a fake cgroup tree set them per command.
export MEMWALL_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1
export MEMWALL_CUDA_LIBRARY=/nonexistent/libcuda.so.1
export NO_COLOR=1
# No machine profile: an engine sweep would otherwise measure this
# machine's ceilings first (seconds each), and the reports would depend on
# the user's cache. Tests that want one unset this or point it at a file
# (tests/cli/profile.sh).
export MEMWALL_PROFILE=none
unset MEMWALL_FAKE_NVML_SCRIPT MEMWALL_CGROUP_FS MEMWALL_FAIL_ALLOC
export LC_ALL=C

# ---- reporting -----------------------------------------------------------

fail() {
    echo "FAIL [$MW_TEST_NAME]: $*" >&2
    exit 1
}

skip() {
    echo "SKIP [$MW_TEST_NAME]: $*"
    exit 77
}

ok() {
    echo "ok   [$MW_TEST_NAME]: $*"
}

# Shows a file's first lines under a title, for failure messages.
show() { # TITLE FILE
    echo "---- $1 ($2):" >&2
    if [ -f "$2" ]; then head -n 40 "$2" >&2; else echo "(no such file)" >&2; fi
    echo "----" >&2
}

# ---- the temporary directory and background processes ---------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/mw-cli-$MW_TEST_NAME.XXXXXX") || {
    echo "FAIL [$MW_TEST_NAME]: cannot create a temporary directory" >&2
    exit 1
}
MW_TRACKED_PIDS=()

# Registers a PID to be SIGKILLed at exit if still alive.
track_pid() {
    MW_TRACKED_PIDS+=("$@")
}

mw_cleanup() {
    local rc=$? pid
    for pid in "${MW_TRACKED_PIDS[@]+"${MW_TRACKED_PIDS[@]}"}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    if [ "${MW_KEEP_TMP:-0}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap mw_cleanup EXIT

# 0 while PID is a live process (a zombie counts as gone).
alive() { # PID
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Waits up to SECONDS for PID to end; 1 if it is still alive then.
wait_gone() { # PID SECONDS
    local pid=$1 n
    n=$(awk -v s="$2" 'BEGIN { printf "%d", s * 50 }')
    while alive "$pid"; do
        [ "$n" -le 0 ] && return 1
        n=$((n - 1))
        sleep 0.02
    done
    return 0
}

# Prints the PIDs of PID's children (one a line).
children_of() { # PID
    local f
    for f in /proc/"$1"/task/*/children; do
        [ -r "$f" ] && tr ' ' '\n' < "$f"
    done | grep -E '^[0-9]+$'
}

# Waits up to SECONDS for PID to have a child, and prints the first one.
wait_child() { # PID SECONDS
    local pid=$1 n c
    n=$(awk -v s="$2" 'BEGIN { printf "%d", s * 50 }')
    while :; do
        c=$(children_of "$pid" | head -n 1)
        [ -n "$c" ] && { echo "$c"; return 0; }
        alive "$pid" || return 1
        [ "$n" -le 0 ] && return 1
        n=$((n - 1))
        sleep 0.02
    done
}

# ---- running commands ----------------------------------------------------

# Runs CMD... with stdout in $T/stdout and stderr in $T/stderr, and fails
# unless it exits with CODE. Stdin is /dev/null.
expect_exit() { # CODE CMD...
    local want=$1 got
    shift
    "$@" > "$T/stdout" 2> "$T/stderr" < /dev/null
    got=$?
    if [ "$got" != "$want" ]; then
        show stdout "$T/stdout"
        show stderr "$T/stderr"
        fail "expected exit $want, got $got from: $*"
    fi
}

# ---- checks ----------------------------------------------------------------

expect_contains() { # FILE TEXT
    [ -f "$1" ] || fail "expected $1 to exist (looking for '$2')"
    if ! grep -qF -- "$2" "$1"; then
        show "$(basename "$1")" "$1"
        fail "expected $(basename "$1") to contain '$2'"
    fi
}

expect_not_contains() { # FILE TEXT
    [ -f "$1" ] || fail "expected $1 to exist"
    if grep -qF -- "$2" "$1"; then
        show "$(basename "$1")" "$1"
        fail "expected $(basename "$1") not to contain '$2'"
    fi
}

expect_eq() { # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}

# Fails unless the file's whole content is exactly TEXT plus a newline.
expect_file_is() { # FILE TEXT
    if ! printf '%s\n' "$2" | cmp -s - "$1"; then
        show "$(basename "$1")" "$1"
        fail "expected $(basename "$1") to be exactly '$2'"
    fi
}

expect_empty() { # FILE
    if [ -s "$1" ]; then
        show "$(basename "$1")" "$1"
        fail "expected $(basename "$1") to be empty"
    fi
}

# Numeric comparison (integers or decimals, through awk): OP is one of
# < <= > >= == !=.
expect_num() { # WHAT VALUE OP BOUND
    case $2 in
        ''|null|*[!0-9.eE+-]*) fail "$1: expected a number, got '$2'" ;;
    esac
    awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN {
        a += 0; b += 0
        r = (op == "<") ? a < b : (op == "<=") ? a <= b : (op == ">") ? a > b : \
            (op == ">=") ? a >= b : (op == "==") ? a == b : (op == "!=") ? a != b : -1
        exit(r == 1 ? 0 : 1) }' || fail "$1: expected $2 $3 $4"
}

# ---- JSON --------------------------------------------------------------------

# MW_NO_JQ=1 pretends jq is missing (to test the fallback).
# Skips the test when memwall cannot make a memory cgroup here (no
# permission: memwall's error then names systemd-run).
# The PyTorch reference's python (tests/ref): $MW_REF_PYTHON, else Debian's
# /usr/bin/python3, with numpy and torch; sets PY, skips without them.
need_ref_python() {
    PY=${MW_REF_PYTHON:-/usr/bin/python3}
    [ -x "$PY" ] || skip "no $PY (the reference needs Debian's python3 with python3-numpy and python3-torch)"
    "$PY" -c 'import numpy' > /dev/null 2>&1 ||
        skip "$PY lacks numpy (apt-get install -y python3-numpy python3-torch)"
    "$PY" -c 'import torch' > /dev/null 2>&1 ||
        skip "$PY lacks torch (apt-get install -y python3-torch)"
}

need_memory_cgroup() {
    "$MW" sweep -q --json --batches 1 --mem-limit 1G -- true > /dev/null 2> "$T/probe.err" ||
        { grep -q "systemd-run" "$T/probe.err" && skip "no writable memory cgroup here: $(head -n 1 "$T/probe.err")"; }
}

# Runs `memwall sweep --json -q ARGS...` into $T/sweep.json (standard input
# /dev/null) and checks its schema; skips where memwall may not make a memory
# cgroup or limit swap here, fails on any other error.
sweep_json() {
    "$MW" sweep --json -q "$@" > "$T/stdout" 2> "$T/stderr" < /dev/null
    local rc=$?
    if [ "$rc" = 1 ] && grep -q "systemd-run\|cannot create memory cgroup\|cannot limit swap" "$T/stderr"; then
        skip "$(head -n 1 "$T/stderr")"
    fi
    if [ "$rc" != 0 ]; then
        show stdout "$T/stdout"; show stderr "$T/stderr"
        fail "memwall sweep exited $rc"
    fi
    cp "$T/stdout" "$T/sweep.json"
    expect_valid_json "$T/sweep.json"
    expect_json "$T/sweep.json" schema memwall.sweep/1
}

have_jq() { [ "${MW_NO_JQ:-0}" != 1 ] && command -v jq > /dev/null 2>&1; }

# Prints the value at KEY: a top-level name ("exit_code") or a jq path
# (".gpu.devices[0].name"). Strings come out raw, null as "null", objects
# and arrays as compact JSON. Without jq only top-level scalars work (as
# memwall writes them, one "key": value a line), and other paths skip.
# It runs in a subshell, so call it as   v=$(json_get F K) || exit
# to pass a failure (1) or a skip (77) on.
json_get() { # FILE KEY
    local file=$1 key=$2 out
    [ -f "$file" ] || fail "json_get: no file $file"
    case $key in .*) ;; *) key=".$key" ;; esac
    if have_jq; then
        out=$(jq -r "if type == \"object\" then ($key) | (if type == \"object\" or type == \"array\" then tojson else . end) else error(\"not a JSON object\") end" "$file" 2>&1) ||
            { show json "$file"; fail "json_get $key: $out"; }
        printf '%s\n' "$out"
        return 0
    fi
    case $key in
        .*[.\[]*) skip "json_get $key needs jq (scripts/deps.sh --test installs it)" ;;
    esac
    out=$(sed -n "s/^[[:space:]]\{1\}\"${key#.}\":[[:space:]]*\(.*\),\{0,1\}\$/\1/p" "$file" | head -n 1)
    out=${out%,}
    case $out in \"*\") out=${out#\"}; out=${out%\"} ;; esac
    [ -n "$out" ] || out=null
    printf '%s\n' "$out"
}

expect_json() { # FILE KEY WANT
    local got
    got=$(json_get "$1" "$2") || exit
    [ "$got" = "$3" ] || { show json "$1"; fail "$2: expected $3, got $got"; }
}

# Fails unless FILE is one valid JSON document.
expect_valid_json() { # FILE
    if have_jq; then
        jq -e . "$1" > /dev/null 2>&1 || { show json "$1"; fail "$(basename "$1") is not valid JSON"; }
    else
        grep -q '"schema"' "$1" || { show json "$1"; fail "$(basename "$1") does not look like memwall JSON"; }
    fi
}

# ---- golden files --------------------------------------------------------------

# Compares FILE with tests/cli/golden/NAME, or with MW_UPDATE_GOLDEN=1 makes
# FILE the new golden file.
golden_check() { # NAME FILE
    local golden=$MW_GOLDEN_DIR/$1
    if [ "${MW_UPDATE_GOLDEN:-0}" = 1 ]; then
        mkdir -p "$MW_GOLDEN_DIR" || fail "cannot create $MW_GOLDEN_DIR"
        cp "$2" "$golden" || fail "cannot write $golden"
        echo "updated $golden"
        return 0
    fi
    [ -f "$golden" ] || fail "no golden file $golden (make it with MW_UPDATE_GOLDEN=1 bash $0)"
    if ! cmp -s "$golden" "$2"; then
        diff -u "$golden" "$2" | head -n 60 >&2
        fail "output differs from tests/cli/golden/$1 (if the change is meant, rerun with MW_UPDATE_GOLDEN=1 and commit the new file)"
    fi
}

# ---- sanity of the environment ---------------------------------------------------

[ -x "$MW" ] || fail "memwall is not built: $MW (set MW_MEMWALL or MW_BUILD_DIR)"
[ -x "$MW_TOUCH" ] || fail "mw-touch is not built: $MW_TOUCH (set MW_TOUCH or MW_BUILD_DIR)"
