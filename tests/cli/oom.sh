# oom.sh - --mem-limit: memwall makes a memory cgroup, caps it, reports the
# OOM kill, and removes the cgroup. Fake cgroup trees (MEMWALL_CGROUP_FS)
# run everywhere; the real OOM kill needs a writable memory cgroup (root, or
# a delegated one) and is skipped (exit 77) without one.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576

# Fails if DIR has a memwall-* directory left in it.
expect_no_memwall_dirs() { # DIR
    local left
    left=$(find "$1" -mindepth 1 -name 'memwall-*' 2>/dev/null)
    [ -z "$left" ] || fail "memwall left its cgroup behind: $left"
}

# ---- a fake v2 tree (an empty directory: every control "exists") ----------------------
mkdir "$T/cg"
expect_exit 0 env MEMWALL_CGROUP_FS="v2:$T/cg" \
    "$MW" watch --json -o "$T/v2.json" --mem-limit 100M -- "$MW_TOUCH" 1M
expect_json "$T/v2.json" '.cgroup.version' 2
expect_json "$T/v2.json" '.cgroup.limit_bytes' 104857600
expect_json "$T/v2.json" '.cgroup.swap_limit_bytes' 0        # --swap-limit's default
expect_json "$T/v2.json" oom_killed false
path=$(json_get "$T/v2.json" '.cgroup.path') || exit
case $path in "$T/cg/memwall-"*) ;; *) fail "cgroup.path $path is not a memwall-* directory under $T/cg" ;; esac
[ -e "$path" ] && fail "memwall did not remove its cgroup $path"
expect_no_memwall_dirs "$T/cg"
[ -d "$T/cg" ] || fail "memwall removed the root of the fake tree $T/cg"
[ -z "$(ls -A "$T/cg")" ] || fail "memwall left files in the fake tree's root: $(ls -A "$T/cg" | paste -sd' ' -)"

expect_exit 0 env MEMWALL_CGROUP_FS="v2:$T/cg" \
    "$MW" watch --json -o "$T/v2s.json" --mem-limit 100M --swap-limit 50M -- "$MW_TOUCH" 1M
expect_json "$T/v2s.json" '.cgroup.swap_limit_bytes' 52428800
expect_exit 0 env MEMWALL_CGROUP_FS="v2:$T/cg" \
    "$MW" watch --json -o "$T/v2m.json" --mem-limit 1.5GiB --swap-limit max -- "$MW_TOUCH" 1M
expect_json "$T/v2m.json" '.cgroup.limit_bytes' $((1536 * MIB))
expect_json "$T/v2m.json" '.cgroup.swap_limit_bytes' null
expect_no_memwall_dirs "$T/cg"
ok "fake v2 tree: cgroup.version 2, limit 104857600, swap 0 / 50M / max; the cgroup dir is removed"

# CMD's status passes through the cgroup path too
expect_exit 5 env MEMWALL_CGROUP_FS="v2:$T/cg" "$MW" watch --mem-limit 100M -- "$MW_TOUCH" --exit 5 1M
expect_no_memwall_dirs "$T/cg"

# ---- a fake v1 tree with swap accounting (memory.memsw.* present) ---------------------------
mkdir "$T/cg1"
echo 9223372036854771712 > "$T/cg1/memory.limit_in_bytes"
echo 9223372036854771712 > "$T/cg1/memory.memsw.limit_in_bytes"
expect_exit 0 env MEMWALL_CGROUP_FS="v1:$T/cg1" \
    "$MW" watch --json -o "$T/v1.json" --mem-limit 100M -- "$MW_TOUCH" 1M
expect_json "$T/v1.json" '.cgroup.version' 1
expect_json "$T/v1.json" '.cgroup.limit_bytes' 104857600
expect_json "$T/v1.json" '.cgroup.swap_limit_bytes' 0
expect_no_memwall_dirs "$T/cg1"
expect_eq "files left in the fake v1 root" "$(ls "$T/cg1" | paste -sd' ' -)" "memory.limit_in_bytes memory.memsw.limit_in_bytes"
ok "fake v1 tree: cgroup.version 1, limit 104857600; the cgroup dir is removed"

# ... and without swap accounting: a swap cap cannot be set (125, says why),
# "--swap-limit max" works
mkdir "$T/cg1n"
echo 9223372036854771712 > "$T/cg1n/memory.limit_in_bytes"
expect_exit 125 env MEMWALL_CGROUP_FS="v1:$T/cg1n" "$MW" watch --mem-limit 100M -- "$MW_TOUCH" --exit 9 1M
expect_contains "$T/stderr" "swapaccount=1"
expect_no_memwall_dirs "$T/cg1n"
expect_exit 0 env MEMWALL_CGROUP_FS="v1:$T/cg1n" \
    "$MW" watch --json -o "$T/v1n.json" --mem-limit 100M --swap-limit max -- "$MW_TOUCH" 1M
expect_json "$T/v1n.json" '.cgroup.version' 1
expect_no_memwall_dirs "$T/cg1n"
ok "fake v1 tree without memsw: a swap cap fails with 125 naming swapaccount=1; --swap-limit max runs"

# ---- no permission to make the cgroup: 125 and the systemd-run way out ---------------------
# A read-only fake tree, seen by a user that is not root.
mkdir "$T/ro"
chmod 555 "$T/ro"
as_user=()
if [ "$(id -u)" != 0 ]; then
    as_user=(env)
elif command -v setpriv > /dev/null 2>&1 &&
     setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$MW" 2> /dev/null; then
    chmod 711 "$T"     # let the user reach $T/ro
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env)
fi
if [ ${#as_user[@]} -gt 0 ]; then
    expect_exit 125 "${as_user[@]}" MEMWALL_CGROUP_FS="v2:$T/ro" \
        "$MW" watch --mem-limit 100M -- "$MW_TOUCH" --exit 9 1M
    expect_contains "$T/stderr" "cannot create memory cgroup"
    expect_contains "$T/stderr" "systemd-run"
    expect_contains "$T/stderr" "MemoryMax=104857600"
    ok "no permission for the cgroup: 125 with the systemd-run command to use instead"
else
    ok "SKIPPED the permission check: root without setpriv, or user nobody cannot run $MW"
fi
chmod 700 "$T"

# ---- the real thing: an OOM kill under a 64 MiB cap ----------------------------------------
# Every memwall-made cgroup is checked gone after each run (and removed
# if not, so a failing run leaves nothing behind).
real_cgroup_gone() { # JSON
    local p
    p=$(json_get "$1" '.cgroup.path') || exit
    [ "$p" = null ] && fail "no cgroup in $(basename "$1")"
    if [ -d "$p" ]; then
        rmdir "$p" 2> /dev/null
        fail "memwall left the cgroup $p behind"
    fi
}

"$MW" watch --json -o "$T/oom.json" --mem-limit 64M -- "$MW_TOUCH" 32M 32M 32M 32M > "$T/stdout" 2> "$T/stderr" < /dev/null
rc=$?
if [ "$rc" = 125 ]; then
    # No writable memory cgroup here. memwall must say what to do instead.
    if grep -qF "systemd-run" "$T/stderr"; then
        skip "no writable memory cgroup (not root, or not delegated); memwall said: $(head -n 1 "$T/stderr")"
    elif grep -qF "swapaccount" "$T/stderr"; then
        skip "cgroup v1 without swap accounting, so --mem-limit cannot stop swapping; memwall said: $(head -n 1 "$T/stderr")"
    fi
    show stderr "$T/stderr"
    fail "--mem-limit failed with 125 without naming systemd-run (or swapaccount) as the way out"
fi
if [ "$rc" != 137 ]; then
    show stderr "$T/stderr"
    fail "4 x 32 MiB under --mem-limit 64M: expected exit 137 (OOM kill), got $rc"
fi
expect_json "$T/oom.json" oom_killed true
expect_json "$T/oom.json" status_code 137
expect_json "$T/oom.json" '.cgroup.limit_bytes' 67108864
expect_json "$T/oom.json" '.cgroup.swap_limit_bytes' 0
version=$(json_get "$T/oom.json" '.cgroup.version') || exit
case $version in 1|2) ;; *) fail "cgroup.version is $version" ;; esac
kills=$(json_get "$T/oom.json" '.cgroup.oom_kills') || exit
expect_num "cgroup.oom_kills" "$kills" ">=" 1
real_cgroup_gone "$T/oom.json"

# the same in text, to stderr
expect_exit 137 "$MW" watch --mem-limit 64M -- "$MW_TOUCH" 32M 32M 32M 32M
expect_contains "$T/stderr" "killed: out of memory"
ok "4 x 32 MiB under a 64 MiB cgroup v$version: exit 137, 'killed: out of memory', oom_kills $kills"

# ---- ... and the same workload fits in 512 MiB ------------------------------------------------
expect_exit 0 "$MW" watch --json -o "$T/fits.json" --mem-limit 512M -- "$MW_TOUCH" 32M 32M 32M 32M
expect_json "$T/fits.json" oom_killed false
expect_json "$T/fits.json" exit_code 0
expect_json "$T/fits.json" '.cgroup.limit_bytes' 536870912
expect_json "$T/fits.json" '.cgroup.oom_kills' 0
peak=$(json_get "$T/fits.json" '.cgroup.peak_bytes') || exit
expect_num "cgroup.peak_bytes" "$peak" ">=" $((128 * MIB))
expect_num "cgroup.peak_bytes" "$peak" "<=" $((512 * MIB))
real_cgroup_gone "$T/fits.json"
expect_exit 0 "$MW" watch --mem-limit 512M -- "$MW_TOUCH" 32M 32M 32M 32M
expect_not_contains "$T/stderr" "out of memory"
ok "the same under 512 MiB: exit 0, oom_killed false, cgroup peak $peak bytes"
