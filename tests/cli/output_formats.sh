#!/usr/bin/env bash
# Output people can paste (issue #13, docs/OUTPUT.md): plan, sweep and run
# take --format table|json|csv|markdown for standard output and any of
# --export-json, --export-csv, --export-markdown FILE besides it. Each
# command x each format exits 0 and parses (CSV: every record as wide as the
# header, with RFC 4180 quoting; Markdown: a delimiter row under each
# header, every row as wide; JSON: its schema); exports hold what --format
# writes (the plan's byte for byte; a sweep's and a run's by structure);
# a wrong --format exits 2 naming the choices; an export that cannot be
# written exits 1 naming the file after standard output was written whole;
# a link planted at an export path is replaced, not followed.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || PY=

# Checks FILE is CSV whose records all have the header's field count (at
# least MIN records besides the header); prints the field count.
csv_check() { # FILE MIN
    if [ -n "$PY" ]; then
        "$PY" - "$1" "$2" <<'PYEOF' || { show csv "$1"; fail "$(basename "$1") is not a rectangular CSV table"; }
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert len(rows) >= 1 + int(sys.argv[2]), "records: %d" % len(rows)
assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]
print(len(rows[0]))
PYEOF
    else
        # no python: no quoted cell holds a comma in these outputs' numbers
        awk -F, 'NR == 1 { n = NF } NF != n { exit 1 } END { if (NR < 1 + '"$2"') exit 1; print n }' "$1" ||
            { show csv "$1"; fail "$(basename "$1") is not a rectangular CSV table"; }
    fi
}

# Checks FILE's Markdown pipe tables: at least MIN, each header followed by
# a delimiter row, each row with the header's cells (escaped '\|' is text).
md_check() { # FILE MIN
    awk -v min="$2" '
        function cells(s) { gsub(/\\\\/, "", s); gsub(/\\\|/, "", s); return gsub(/\|/, "|", s) - 1 }
        /^\|/ {
            if (!intable) { intable = 1; n = cells($0); header = NR; tables++; next }
            if (NR == header + 1) { if ($0 !~ /^\|( -+:? \|)+$/) { print "no delimiter row at line " NR; bad = 1 } ; next }
            if (cells($0) != n) { print "line " NR ": " cells($0) " cells, not " n; bad = 1 }
            next
        }
        { intable = 0 }
        END { if (tables < min) { print tables " tables, not " min; bad = 1 } exit bad }
    ' "$1" || { show markdown "$1"; fail "$(basename "$1") is not well-formed Markdown tables"; }
}

# ---- plan: every format, and exports identical to --format -------------------
P="plan llama-2-7b --mem 24G --batch 2"
expect_exit 0 $MW $P
cp "$T/stdout" "$T/plan.table"
expect_contains "$T/plan.table" "memwall plan: llama-2-7b"
expect_exit 0 $MW $P --format table
cmp -s "$T/stdout" "$T/plan.table" || fail "plan: --format table is not the default output"
expect_exit 0 $MW $P --format json
cp "$T/stdout" "$T/plan.json"
expect_valid_json "$T/plan.json"
expect_json "$T/plan.json" schema memwall.plan/1
expect_exit 0 $MW $P --json
cmp -s "$T/stdout" "$T/plan.json" || fail "plan: --json is not --format json"
expect_exit 0 $MW $P --format csv
cp "$T/stdout" "$T/plan.csv"
cols=$(csv_check "$T/plan.csv" 1) || exit 1
[ "$cols" = 40 ] || fail "plan CSV: $cols columns, expected 40"
head -n 1 "$T/plan.csv" | grep -q '^model,mode,batch,ctx,' || fail "plan CSV: header $(head -n 1 "$T/plan.csv")"
expect_contains "$T/plan.csv" "llama-2-7b,inference,2,"
expect_contains "$T/plan.csv" ",--mem,25769803776,"
expect_exit 0 $MW $P --format markdown
cp "$T/stdout" "$T/plan.md"
md_check "$T/plan.md" 2
expect_contains "$T/plan.md" "## memwall plan: llama-2-7b"
expect_contains "$T/plan.md" "| --mem | 24.0 GiB |"
# the three exports at once, standard output unchanged
expect_exit 0 $MW $P --export-json "$T/e.json" --export-csv "$T/e.csv" --export-markdown "$T/e.md"
cmp -s "$T/stdout" "$T/plan.table" || fail "plan: exports changed standard output"
for f in json csv md; do
    cmp -s "$T/e.$f" "$T/plan.$f" || { diff "$T/e.$f" "$T/plan.$f" | head; fail "plan: --export of $f differs from --format"; }
done
# a format on standard output and an export of another
expect_exit 0 $MW $P --format csv --export-markdown "$T/e2.md"
cmp -s "$T/stdout" "$T/plan.csv" || fail "plan: --format csv with an export differs"
cmp -s "$T/e2.md" "$T/plan.md" || fail "plan: --export-markdown beside --format csv differs"
# a training plan, whose table has other rows, parses too
expect_exit 0 $MW plan llama-2-7b --train --zero 2 --dp 8 --mem 80G --format csv
csv_check "$T/stdout" 1 > /dev/null || exit 1
expect_exit 0 $MW plan llama-2-7b --train --zero 2 --dp 8 --mem 80G --format markdown
md_check "$T/stdout" 2
ok "plan: table, json, csv and markdown parse; exports are --format's bytes"

# ---- wrong command lines: exit 2 -----------------------------------------------
for cmd in "plan demo" "run" "sweep"; do
    expect_exit 2 $MW $cmd --format xml
    expect_contains "$T/stderr" "--format must be one of table, json, csv, markdown, not 'xml'"
    expect_exit 2 $MW $cmd --json --format csv
    expect_contains "$T/stderr" "both given"
    expect_exit 2 $MW $cmd --export-csv "$T/a.csv" --export-csv "$T/b.csv"
    expect_contains "$T/stderr" "--export-csv given twice"
    expect_exit 2 $MW $cmd --export-csv "$T/same" --export-json "$T/same"
    expect_contains "$T/stderr" "both name"
    expect_exit 2 $MW $cmd --export-markdown ""
    expect_contains "$T/stderr" "--export-markdown needs a file name"
done
# an export may not replace what the command reads or writes itself
cp models/tiny.gguf "$T/m.gguf"
ln -s "$T/m.gguf" "$T/m-link.gguf"
expect_exit 2 $MW plan "$T/m.gguf" --export-json "$T/m.gguf"
expect_contains "$T/stderr" "names the same file as MODEL"
expect_exit 2 $MW plan "$T/m-link.gguf" --export-csv "$T/m.gguf"
expect_contains "$T/stderr" "names the same file as MODEL"
expect_exit 2 $MW run "$T/m.gguf" --export-markdown "$T/m-link.gguf"
expect_contains "$T/stderr" "names the same file as MODEL"
expect_exit 2 $MW sweep --jsonl "$T/s.jsonl" --export-json "$T/s.jsonl" -- true
expect_contains "$T/stderr" "names the same file as --jsonl"
cmp -s "$T/m.gguf" models/tiny.gguf || fail "a refused export touched the model"
[ ! -e "$T/a.csv" ] && [ ! -e "$T/same" ] && [ ! -e "$T/s.jsonl" ] || fail "a refused command line wrote an export"
ok "wrong --format and --export-* command lines: exit 2 with the choices"

# ---- an export that cannot be written: exit 1, after standard output ------------
expect_exit 1 $MW $P --format csv --export-json "$T/no/such/dir/p.json" --export-markdown "$T/p.md"
cmp -s "$T/stdout" "$T/plan.csv" || fail "plan: standard output incomplete when an export failed"
expect_contains "$T/stderr" "$T/no/such/dir/p.json"
cmp -s "$T/p.md" "$T/plan.md" || fail "plan: the other export was not written when one failed"
left=$(find "$T" -maxdepth 1 -name 'p.md.tmp*' | head -n 1)
[ -z "$left" ] || fail "an export left $left behind"
# a folder at the export path
mkdir "$T/adir"
expect_exit 1 $MW $P --export-csv "$T/adir"
expect_contains "$T/stderr" "$T/adir"
expect_contains "$T/stderr" "a folder"
ok "a failed export: exit 1 naming the file, standard output and the other exports whole"

# ---- planted links are replaced, never followed -----------------------------------
printf 'victim\n' > "$T/victim"
ln -s "$T/victim" "$T/link.csv"
ln -s "$T/victim" "$T/link.md.tmp"
expect_exit 0 $MW $P --export-csv "$T/link.csv" --export-markdown "$T/link.md"
expect_file_is "$T/victim" victim
[ -f "$T/link.csv" ] && [ ! -L "$T/link.csv" ] || fail "the export did not replace the link with a file"
cmp -s "$T/link.csv" "$T/plan.csv" || fail "the export through a replaced link differs"
[ -L "$T/link.md.tmp" ] || fail "the planted link.md.tmp was removed or replaced"
cmp -s "$T/link.md" "$T/plan.md" || fail "link.md differs"
# a link to a device (as /dev/stdout is) is refused, and stays a link
ln -s /dev/null "$T/devlink.json"
expect_exit 1 $MW $P --export-json "$T/devlink.json"
expect_contains "$T/stderr" "a link to a device"
[ -L "$T/devlink.json" ] || fail "the link to /dev/null was replaced"
ok "exports: planted links replaced, not followed; a link to a device refused"

# ---- run: every format (the demo model, a few tokens) -----------------------------
R="run --prompt 4 --gen 2 --threads 1"
expect_exit 0 $MW $R --format table
expect_contains "$T/stdout" "memwall run: demo"
expect_exit 0 $MW $R --format json
cp "$T/stdout" "$T/run.json"
expect_json "$T/run.json" schema memwall.run/1
expect_exit 0 $MW $R --format csv
cols=$(csv_check "$T/stdout" 1) || exit 1
[ "$cols" = 22 ] || fail "run CSV: $cols columns, expected 22"
expect_contains "$T/stdout" "demo,1,1,4,2,"
expect_exit 0 $MW $R --format markdown
md_check "$T/stdout" 2
expect_contains "$T/stdout" "| weights | "
# the three exports of one run: the same run in each
expect_exit 0 $MW $R --format csv --export-json "$T/r.json" --export-csv "$T/r.csv" --export-markdown "$T/r.md"
cmp -s "$T/stdout" "$T/r.csv" || fail "run: --export-csv differs from the same run's --format csv"
expect_json "$T/r.json" schema memwall.run/1
expect_json "$T/r.json" gen_tokens 2
md_check "$T/r.md" 2
tps=$(json_get "$T/r.json" decode_tokens_per_second) || exit 1
tps6=$(printf '%.6f' "$tps")
grep -q ",$tps6," "$T/r.csv" || fail "run: the JSON export's decode_tokens_per_second $tps6 is not in the CSV of the same run"
# a text prompt's text is shown with the table only: the CSV still parses
expect_exit 0 $MW run models/tiny.gguf --text "Once upon" --gen 2 --threads 1 --format csv
csv_check "$T/stdout" 1 > /dev/null || exit 1
ok "run: table, json, csv and markdown parse; the exports are the same run"

# ---- sweep: every format (a command sweep: a memory cgroup is needed) -------------
if ! "$MW" sweep -q --batches 1 --mem-limit 1G -- true > /dev/null 2> "$T/probe.err"; then
    echo "note [$MW_TEST_NAME]: sweep not checked: $(head -n 1 "$T/probe.err")"
    exit 0
fi
S="sweep -q --batches 1,2,4 --mem-limit 256M --items-per-run 1"
C="-- true"   # the command swept: the output options go before it
expect_exit 0 $MW $S --format table $C
expect_contains "$T/stdout" "verdict"
expect_exit 0 $MW $S --format json $C
expect_json "$T/stdout" schema memwall.sweep/1
expect_exit 0 $MW $S --format csv $C
csv_check "$T/stdout" 3 > /dev/null || exit 1
expect_exit 0 $MW $S --csv $C
csv_check "$T/stdout" 3 > /dev/null || exit 1
expect_exit 0 $MW $S --format markdown $C
md_check "$T/stdout" 1
[ "$(grep -c '^| [124] | ok |' "$T/stdout")" = 3 ] || { show md "$T/stdout"; fail "sweep Markdown: not one row per point"; }
expect_exit 0 $MW $S --format markdown --export-json "$T/s.json" --export-csv "$T/s.csv" --export-markdown "$T/s.md" $C
cmp -s "$T/stdout" "$T/s.md" || fail "sweep: --export-markdown differs from the same sweep's --format markdown"
expect_json "$T/s.json" schema memwall.sweep/1
[ "$(tail -n +2 "$T/s.csv" | cut -d, -f1 | tr '\n' ' ')" = "1 2 4 " ] || fail "sweep CSV: batches $(cut -d, -f1 "$T/s.csv")"
# the measured points reach standard output and the other exports when one fails
expect_exit 1 $MW $S --format csv --export-json "$T/no/dir/s.json" --export-markdown "$T/s2.md" $C
csv_check "$T/stdout" 3 > /dev/null || exit 1
expect_contains "$T/stderr" "$T/no/dir/s.json"
md_check "$T/s2.md" 1
ok "sweep: table, json, csv and markdown parse; a failed export loses no point"
