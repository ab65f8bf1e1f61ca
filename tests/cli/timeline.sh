# timeline.sh - --timeline: CSV with the documented columns (docs/JSON.md,
# the fields of mw_sample in include/memwall.h, in order), JSON Lines, and
# a complete file up to the last sample when memwall is SIGKILLed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576

# The documented columns: mw_sample's fields in include/memwall.h, up to
# those issue #16 added for live metrics (docs/CLUSTER.md), not columns.
columns=$(sed -n '/^typedef struct mw_sample {/,/^} mw_sample;/p' "$MW_SOURCE_DIR/include/memwall.h" |
          sed '/issue #16/,$d' |
          sed -n 's/^ *[a-z0-9_]* *\([a-z_]*\);.*/\1/p' | paste -sd, -)
[ -n "$columns" ] || fail "cannot read mw_sample's fields from include/memwall.h"
ncol=$(echo "$columns" | awk -F, '{ print NF }')
# ... and docs/JSON.md names every one of them
if [ -f "$MW_SOURCE_DIR/docs/JSON.md" ]; then
    for c in $(echo "$columns" | tr , ' '); do
        grep -qF "\`$c\`" "$MW_SOURCE_DIR/docs/JSON.md" || fail "docs/JSON.md does not document the timeline column $c"
    done
fi

# Every line of a CSV file ends with a newline and has NCOL fields.
check_csv_lines() { # FILE
    local bad
    [ -z "$(tail -c 1 "$1")" ] || fail "$(basename "$1"): the last line does not end with a newline"
    bad=$(awk -F, -v n="$ncol" 'NF != n { print NR ": " $0; exit }' "$1")
    [ -z "$bad" ] || fail "$(basename "$1"): line $bad has not $ncol fields"
}

# ---- CSV ------------------------------------------------------------------------------
expect_exit 0 "$MW" watch -q --interval 10ms --timeline "$T/t.csv" -- "$MW_TOUCH" 32M --hold 200ms
expect_eq "CSV header" "$(head -n 1 "$T/t.csv")" "$columns"
rows=$(($(wc -l < "$T/t.csv") - 1))
expect_num "CSV rows" "$rows" ">=" 5
check_csv_lines "$T/t.csv"
rss_col=$(echo "$columns" | tr , '\n' | grep -nx rss_bytes | cut -d: -f1)
max_rss=$(awk -F, -v c="$rss_col" 'NR > 1 && $c > m { m = $c } END { printf "%d", m }' "$T/t.csv")
expect_num "max rss_bytes in the CSV" "$max_rss" ">=" $((32 * MIB))
# time goes forward
awk -F, 'NR > 2 && $1 < prev { exit 1 } NR > 1 { prev = $1 }' "$T/t.csv" || fail "t_seconds goes backwards in t.csv"
ok "CSV: the documented header ($ncol columns), $rows rows, rss up to $max_rss bytes"

# --timeline-format overrides the file name
expect_exit 0 "$MW" watch -q --interval 10ms --timeline "$T/t.jsonl" --timeline-format csv -- "$MW_TOUCH" 1M --hold 50ms
expect_eq "CSV header of t.jsonl with --timeline-format csv" "$(head -n 1 "$T/t.jsonl")" "$columns"

# ---- JSON Lines ---------------------------------------------------------------------------
for name in t.jsonl t.ndjson t.json; do
    expect_exit 0 "$MW" watch -q --interval 10ms --timeline "$T/$name" -- "$MW_TOUCH" 8M --hold 100ms
    lines=$(wc -l < "$T/$name")
    expect_num "lines in $name" "$lines" ">=" 5
    [ -z "$(tail -c 1 "$T/$name")" ] || fail "$name: the last line does not end with a newline"
    if have_jq; then
        n=0
        while IFS= read -r line; do
            n=$((n + 1))
            printf '%s\n' "$line" | jq -e 'type == "object" and has("rss_bytes") and has("t_seconds")' > /dev/null 2>&1 ||
                fail "$name line $n is not a JSON object with rss_bytes: $line"
        done < "$T/$name"
        # the same keys as the CSV columns, in the same order
        keys=$(head -n 1 "$T/$name" | jq -r 'keys_unsorted | join(",")')
        expect_eq "keys of $name" "$keys" "$columns"
        max=$(jq -s 'map(.rss_bytes) | max' "$T/$name")
        expect_num "max rss_bytes in $name" "$max" ">=" $((8 * MIB))
    else
        grep -vq '"rss_bytes":' "$T/$name" && fail "$name: a line without rss_bytes"
    fi
done
expect_exit 0 "$MW" watch -q --interval 10ms --timeline "$T/t2.csv" --timeline-format jsonl -- "$MW_TOUCH" 1M --hold 50ms
expect_contains "$T/t2.csv" '"rss_bytes":'
ok "JSON Lines (.jsonl, .ndjson, .json, --timeline-format jsonl): every line an object with rss_bytes"

expect_exit 125 "$MW" watch --timeline - -- "$MW_TOUCH" 1M
expect_contains "$T/stderr" "--timeline"

# ---- memwall SIGKILLed: the timeline is whole up to the last sample ---------------------
"$MW" watch -q --interval 5ms --timeline "$T/k.csv" -- "$MW_TOUCH" 8M --hold 5s > /dev/null 2> "$T/k.err" < /dev/null &
pid=$!
track_pid "$pid"
child=$(wait_child "$pid" 5) || { show stderr "$T/k.err"; fail "memwall started no child"; }
track_pid "$child"
sleep 0.5
kill -KILL "$pid"
wait "$pid" 2> /dev/null
# memwall cannot pass SIGKILL on: the child is orphaned; end it
kill -KILL "$child" 2> /dev/null
wait_gone "$child" 2 || fail "the orphaned mw-touch (pid $child) does not die"
expect_eq "CSV header after SIGKILL" "$(head -n 1 "$T/k.csv")" "$columns"
check_csv_lines "$T/k.csv"
rows=$(($(wc -l < "$T/k.csv") - 1))
expect_num "rows written in 0.5 s at 5ms before SIGKILL" "$rows" ">=" 20
ok "SIGKILLed memwall left a whole CSV: header and $rows complete rows"
