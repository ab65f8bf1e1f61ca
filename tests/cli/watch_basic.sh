# watch_basic.sh - memwall watch on a workload of known size: the JSON
# summary's figures, where the summary goes, and that CMD's own output is
# left alone.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576

# What mw-touch maps besides what it touches (libc, stack): about 1.4 MiB,
# so 4 MiB of slack; more when the build instruments it (ASan's runtime
# alone is ~6 MiB). Measured from an mw-touch of 1 MiB.
expect_exit 0 "$MW" watch --json -o "$T/base.json" --interval 10ms -- "$MW_TOUCH" 1M --hold 100ms
base=$(json_get "$T/base.json" peak_rss_bytes) || exit
slack=$(awk -v b="$base" -v m=$MIB 'BEGIN { s = b - m + 2 * m; if (s < 4 * m) s = 4 * m; printf "%d", s }')

# ---- JSON summary to a file ------------------------------------------------------
expect_exit 0 "$MW" watch --json -o "$T/out.json" -- "$MW_TOUCH" 64M --hold 100ms
expect_empty "$T/stdout"
expect_valid_json "$T/out.json"
expect_json "$T/out.json" schema "memwall.watch/1"
expect_json "$T/out.json" exit_code 0
expect_json "$T/out.json" status_code 0
expect_json "$T/out.json" signal null
expect_json "$T/out.json" oom_killed false
expect_json "$T/out.json" cgroup null
expect_json "$T/out.json" gpu null          # MEMWALL_NVML_LIBRARY=/nonexistent (lib.sh)
expect_json "$T/out.json" peak_gpu_bytes null
peak=$(json_get "$T/out.json" peak_rss_bytes) || exit
expect_num "peak_rss_bytes" "$peak" ">=" $((64 * MIB))
expect_num "peak_rss_bytes" "$peak" "<=" "$(awk -v m=$MIB -v s="$slack" 'BEGIN { printf "%d", 64 * m * 1.02 + s }')"
# (no lower bound on peak_rss_anon_bytes: unlike the total, which has the
# kernel's high-water mark, the split is sampled and may miss the top)
anon=$(json_get "$T/out.json" peak_rss_anon_bytes) || exit
expect_num "peak_rss_anon_bytes" "$anon" "<=" "$peak"
wall=$(json_get "$T/out.json" wall_seconds) || exit
expect_num "wall_seconds" "$wall" ">" 0
expect_num "wall_seconds" "$wall" ">=" 0.1      # it held for 100ms
expect_num "wall_seconds" "$wall" "<" 10
samples=$(json_get "$T/out.json" samples) || exit
expect_num "samples" "$samples" ">=" 1
if have_jq; then
    expect_json "$T/out.json" '.command[0]' "$MW_TOUCH"
    expect_json "$T/out.json" '.command | length' 4
    expect_json "$T/out.json" '.processes | length' 1
    expect_json "$T/out.json" '.processes[0].command' mw-touch
    p0=$(json_get "$T/out.json" '.processes[0].peak_rss_bytes') || exit
    expect_num "processes[0].peak_rss_bytes" "$p0" ">=" $((64 * MIB))
fi
ok "--json -o FILE: exit_code 0, peak_rss $peak bytes for 64 MiB (slack $slack), wall $wall s, gpu null"

# ---- the text summary goes to stderr; stdout is CMD's ----------------------------
expect_exit 0 "$MW" watch -- echo hello
expect_file_is "$T/stdout" "hello"
expect_contains "$T/stderr" "peak rss (tree)"
expect_contains "$T/stderr" "memwall watch: echo hello"
expect_not_contains "$T/stderr" $'\033['     # NO_COLOR, and not a terminal
ok "text summary on stderr, stdout exactly the command's"

# --json without -o: also stderr
expect_exit 0 "$MW" watch --json -- echo hello
expect_file_is "$T/stdout" "hello"
expect_valid_json "$T/stderr"
expect_json "$T/stderr" exit_code 0
ok "--json without -o goes to stderr"

# ---- -o - sends the summary to stdout, after CMD's output ------------------------
expect_exit 0 "$MW" watch -o - -- echo hello
expect_empty "$T/stderr"
expect_eq "first stdout line" "$(head -n 1 "$T/stdout")" "hello"
expect_contains "$T/stdout" "peak rss (tree)"
expect_exit 0 "$MW" watch --json -o - -- "$MW_TOUCH" 1M
expect_empty "$T/stderr"
expect_valid_json "$T/stdout"
expect_json "$T/stdout" schema "memwall.watch/1"
ok "-o - writes the summary (text or JSON) to stdout, nothing on stderr"

# ---- -o FILE with text; an unwritable -o fails before running CMD --------------------
expect_exit 0 "$MW" watch -o "$T/sum.txt" -- echo hello
expect_file_is "$T/stdout" "hello"
expect_empty "$T/stderr"
expect_contains "$T/sum.txt" "peak rss (tree)"
expect_exit 125 "$MW" watch -o "$T/no/such/dir/x.txt" -- "$MW_TOUCH" --exit 9 1M
expect_contains "$T/stderr" "cannot create $T/no/such/dir/x.txt"
ok "-o FILE writes the text summary there; an -o that cannot be created: 125"
