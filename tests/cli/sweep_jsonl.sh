#!/usr/bin/env bash
# No point is lost silently in the --jsonl file: a full disk stops the sweep
# with exit 1 and a message after the report, leaving only whole lines, and
# --resume completes it once there is room; --resume removes a last line cut
# at any byte, refuses a bad line in the middle with its number, and never
# runs two points together on one line.
. "$(dirname "$0")/lib.sh"
have_jq || skip "needs jq (scripts/deps.sh --test installs it)"
need_memory_cgroup

batches=$(seq -s, 1 20)
sweep() { # JSONL [ARGS...]: the 20-point sweep of a command that ends at once
    local jl=$1
    shift
    "$MW" sweep -q --json --batches "$batches" --mem-limit 256M --jsonl "$jl" "$@" -- true
}

# Fails unless FILE is whole JSON lines only (each ends in '\n'), N of them.
expect_whole_lines() { # FILE N
    [ ! -s "$1" ] || [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] ||
        { show jsonl "$1"; fail "$(basename "$1") does not end with a whole line"; }
    jq -e -s 'all(type == "object" and has("batch") and has("status"))' "$1" > /dev/null 2>&1 ||
        { show jsonl "$1"; fail "$(basename "$1") holds something that is not a point"; }
    expect_eq "lines of $(basename "$1")" "$(wc -l < "$1")" "$2"
    expect_eq "objects of $(basename "$1")" "$(jq -s length "$1")" "$2"
}

# ---- a full disk ----------------------------------------------------------
mnt=$T/small
mkdir -p "$mnt"
mount -t tmpfs -o size=64k tmpfs "$mnt" 2> "$T/mount.err" || skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
# unmounted before lib.sh removes $T, keeping the script's exit status
trap 'mw_rc=$?; umount "$mnt" 2> /dev/null; (exit $mw_rc); mw_cleanup' EXIT
# fill it, then free one page: room for about 10 of the 20 lines
dd if=/dev/zero of="$mnt/fill" bs=4096 > /dev/null 2>&1
truncate -s -4096 "$mnt/fill" || fail "cannot shrink the filler"
jl=$mnt/s.jsonl
sweep "$jl" > "$T/stdout" 2> "$T/stderr" < /dev/null
rc=$?
[ "$rc" = 1 ] || { show stderr "$T/stderr"; fail "full disk: expected exit 1, got $rc"; }
expect_contains "$T/stderr" "cannot write batch"
expect_contains "$T/stderr" "$jl: No space left on device"
expect_contains "$T/stderr" "free some space, then run the same command with --resume"
# the report of what was measured came first, and says why it stopped
expect_valid_json "$T/stdout"
saved=$(wc -l < "$jl")
expect_num "lines written" "$saved" ">=" 2
expect_num "lines written" "$saved" "<" 20
expect_eq "points in the report" "$(jq '.points | length' "$T/stdout")" "$((saved + 1))"
expect_contains "$T/stdout" "No space left on device"
expect_whole_lines "$jl" "$saved"
ok "full disk: exit 1 after the report, $saved whole lines, the cut one removed"

rm -f "$mnt/fill"
expect_exit 0 sweep "$jl" --resume
expect_json "$T/stdout" resumed_points "$saved"
expect_json "$T/stdout" error null
expect_whole_lines "$jl" 20
expect_eq "batches" "$(jq -sc 'map(.batch) | sort' "$jl")" "[$batches]"
ok "--resume after freeing space completes the sweep"
umount "$mnt" || fail "cannot unmount $mnt"
trap mw_cleanup EXIT

# ---- a cut last line, at several bytes ------------------------------------
full=$T/full.jsonl
expect_exit 0 sweep "$full" --batches 1,2,3
expect_whole_lines "$full" 3
size=$(stat -c %s "$full")
last=$(tail -n 1 "$full" | wc -c)   # the last line with its '\n'
for keep in 1 2 17 $((last / 2)) $((last - 2)); do
    jl=$T/cut.jsonl
    head -c $((size - last + keep)) "$full" > "$jl"
    expect_exit 0 sweep "$jl" --batches 1,2,3 --resume
    expect_contains "$T/stderr" "$jl:3: removed a cut last line ($keep bytes"
    expect_json "$T/stdout" resumed_points 2
    expect_whole_lines "$jl" 3
    expect_eq "batches after the repair" "$(jq -sc 'map(.batch)' "$jl")" "[1,2,3]"
done
ok "a last line cut at 1, 2, 17, half and all but its last 2 bytes: removed, its point run again"

# a whole last point without its '\n': kept, and the next point on a line of its own
jl=$T/nonl.jsonl
head -c $((size - 1)) "$full" > "$jl"
expect_exit 0 sweep "$jl" --batches 1,2,3,4 --resume
expect_contains "$T/stderr" "the last point had no line end: added one"
expect_json "$T/stdout" resumed_points 3
expect_whole_lines "$jl" 4
ok "a last point without its newline is kept; the next goes on its own line"

# a bad line in the middle (two points run together, as an older memwall
# appended after a cut line): refused with its number, the file untouched
jl=$T/bad.jsonl
{ head -n 1 "$full"; head -c 40 "$full" | tr -d '\n'; sed -n 2p "$full"; tail -n 1 "$full"; } > "$jl"
cp "$jl" "$T/bad.before"
expect_exit 1 sweep "$jl" --batches 1,2,3 --resume
expect_contains "$T/stderr" "$jl:2: not a sweep point"
cmp -s "$jl" "$T/bad.before" || fail "a refused file was changed"
ok "a bad line in the middle is refused with its line number"
