# watch_metrics.sh - memwall watch --metrics-port and --metrics-file (issue
# #16; docs/CLUSTER.md, "Prometheus metrics"): /metrics scraped while a
# command of known memory runs (series, labels, values, promtool's check),
# 404 and 405, the textfile collector's file (atomic, memwall_up 0 at the
# end), a port already in use (a clear error, the command not started), a
# bad port, and a metrics file that cannot be written (a warning, the run
# completes). Ports: MW_METRICS_PORT (18090 by default) and the next one.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v promtool > /dev/null || skip "no promtool (Debian's prometheus package)"
command -v python3 > /dev/null || skip "no python3 to scrape with"
P=${MW_METRICS_PORT:-18090}
P2=$((P + 1))
HTTP=(python3 "$MW_SOURCE_DIR/tests/cli/metrics_http.py")
MIB=1048576
# memwall's own rank comes from these: none here
unset RANK OMPI_COMM_WORLD_RANK PMIX_RANK PMI_RANK SLURM_PROCID

"$MW" watch --metrics-port "127.0.0.1:$P" -- true > /dev/null 2> "$T/probe.err"
if grep -q "built without libmicrohttpd" "$T/probe.err"; then
    skip "memwall was built without libmicrohttpd (libmicrohttpd-dev)"
fi

# ---- bad ports: usage errors, nothing run ------------------------------------------
for bad in 0 70000 abc 127.0.0.1: ":$P"; do
    expect_exit 125 "$MW" watch --metrics-port "$bad" -- touch "$T/ran"
    expect_contains "$T/stderr" "--metrics-port needs [ADDR:]PORT"
done
[ -e "$T/ran" ] && fail "a bad --metrics-port still ran the command"
ok "bad --metrics-port values refused"

# ---- a scrape while the command runs --------------------------------------------
host=$(hostname)
mkdir -p "$T/textfile"
"$MW" watch -q --json -o "$T/w.json" --interval 50ms --metrics-port "127.0.0.1:$P" \
    --metrics-file "$T/textfile/memwall.prom" -- "$MW_TOUCH" 64M --hold 4s > "$T/run.out" 2> "$T/run.err" &
wpid=$!
track_pid "$wpid"
got=""
for _ in $(seq 1 60); do
    sleep 0.1
    "${HTTP[@]}" "http://127.0.0.1:$P/metrics" > "$T/scrape" 2> /dev/null || continue
    rss=$(awk '/^memwall_rss_bytes[{ ]/ { print $NF }' "$T/scrape")
    if [ -n "$rss" ] && [ "$rss" -ge $((64 * MIB)) ]; then got=1; break; fi
done
[ -n "$got" ] || { show scrape "$T/scrape"; show stderr "$T/run.err"; fail "no scrape showed the 64 MiB"; }
[ "$(sed -n 1p "$T/scrape")" = 200 ] || fail "GET /metrics: status $(sed -n 1p "$T/scrape")"
[ "$(sed -n 2p "$T/scrape")" = "text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "GET /metrics: Content-Type '$(sed -n 2p "$T/scrape")'"
sed 1,2d "$T/scrape" > "$T/scrape.prom"
promtool check metrics < "$T/scrape.prom" > "$T/promtool.out" 2>&1 ||
    { show promtool "$T/promtool.out"; fail "promtool check metrics refused the scrape"; }
[ -s "$T/promtool.out" ] && { show promtool "$T/promtool.out"; fail "promtool check metrics: lint problems"; }
labels="command=\"mw-touch\",host=\"$host\",rank=\"\""   # memwall has no rank here
expect_contains "$T/scrape.prom" "memwall_up{$labels} 1"
expect_contains "$T/scrape.prom" "# TYPE memwall_major_faults_total counter"
expect_contains "$T/scrape.prom" "# TYPE memwall_rss_bytes gauge"
expect_not_contains "$T/scrape.prom" "memwall_cgroup_limit_bytes"   # no cap: left out
expect_not_contains "$T/scrape.prom" "memwall_gpu_"                 # no NVML: left out
value() { awk -v n="$1" 'index($0, n "{") == 1 || index($0, n " ") == 1 { print $NF; exit }' "$T/scrape.prom"; }
for series in memwall_processes memwall_rss_bytes memwall_rss_peak_bytes memwall_rss_anon_bytes \
    memwall_rss_file_bytes memwall_swap_bytes memwall_minor_faults_total memwall_major_faults_total \
    memwall_elapsed_seconds; do
    [ -n "$(value $series)" ] || fail "no $series in the scrape"
done
expect_num memwall_processes "$(value memwall_processes)" "==" 1
expect_num memwall_rss_anon_bytes "$(value memwall_rss_anon_bytes)" ">=" $((64 * MIB))
expect_num memwall_rss_bytes "$(value memwall_rss_bytes)" "<=" $((80 * MIB))
expect_num memwall_rss_peak_bytes "$(value memwall_rss_peak_bytes)" ">=" "$(value memwall_rss_bytes)"
expect_num memwall_minor_faults_total "$(value memwall_minor_faults_total)" ">=" $((64 * MIB / 4096))
expect_num memwall_elapsed_seconds "$(value memwall_elapsed_seconds)" "<" 5
child=$(wait_child "$wpid" 2) || fail "memwall has no child"
expect_contains "$T/scrape.prom" "memwall_process_rss_bytes{$labels,pid=\"$child\",comm=\"mw-touch\"} "
ok "GET /metrics while the command runs: series, labels, values; promtool check metrics passes"

# other paths and methods
"${HTTP[@]}" "http://127.0.0.1:$P/" > "$T/root" || fail "no answer on /"
[ "$(sed -n 1p "$T/root")" = 404 ] || fail "GET /: status $(sed -n 1p "$T/root"), not 404"
"${HTTP[@]}" "http://127.0.0.1:$P/metrics" POST > "$T/post" || fail "no answer to POST"
[ "$(sed -n 1p "$T/post")" = 405 ] || fail "POST /metrics: status $(sed -n 1p "$T/post"), not 405"
ok "404 for other paths, 405 for other methods"

# the textfile collector's file, written while it runs
[ -s "$T/textfile/memwall.prom" ] || fail "--metrics-file: no file while the command runs"
expect_contains "$T/textfile/memwall.prom" "memwall_up{$labels} 1"
wait "$wpid"
code=$?
[ "$code" = 0 ] || { show stderr "$T/run.err"; fail "memwall watch exited $code"; }
expect_empty "$T/run.err"
# the server stopped with the run
"${HTTP[@]}" "http://127.0.0.1:$P/metrics" > /dev/null 2>&1 && fail "/metrics still answers after the run"
f="$T/textfile/memwall.prom"
promtool check metrics < "$f" > "$T/promtool.out" 2>&1 ||
    { show promtool "$T/promtool.out"; fail "promtool check metrics refused --metrics-file's file"; }
expect_contains "$f" "memwall_up{$labels} 0"
expect_contains "$f" "memwall_processes{$labels} 0"
ls "$T/textfile" | grep -q tmp && fail "a temporary file was left: $(ls "$T/textfile")"
peak=$(json_get "$T/w.json" peak_rss_bytes) || exit
fpeak=$(awk '/^memwall_rss_peak_bytes[{ ]/ { print $NF }' "$f")
expect_num "the file's memwall_rss_peak_bytes" "$fpeak" ">=" $((64 * MIB))
expect_num "the file's memwall_rss_peak_bytes" "$fpeak" "<=" "$peak"
ok "--metrics-file: atomic, promtool-clean, memwall_up 0 and the peak at the end"

# ---- GPUs (the fake NVML, tests/fake_nvml.c): per device and per process --------
cat > "$T/nvml.txt" <<'EOF'
device 0 total=80G
device 1 total=40G
used 0 2G
used 1 1G
proc 0 child 512M
EOF
MEMWALL_NVML_LIBRARY=$MW_FAKE_NVML MEMWALL_FAKE_NVML_SCRIPT=$T/nvml.txt \
    "$MW" watch -q --metrics-port "127.0.0.1:$P" -- "$MW_TOUCH" 1M --hold 3s > /dev/null 2> "$T/gpu.err" &
gpid=$!
track_pid "$gpid"
got=""
for _ in $(seq 1 40); do
    sleep 0.1
    "${HTTP[@]}" "http://127.0.0.1:$P/metrics" > "$T/gscrape" 2> /dev/null || continue
    grep -q '^memwall_process_gpu_bytes' "$T/gscrape" && { got=1; break; }
done
[ -n "$got" ] || { show scrape "$T/gscrape"; show stderr "$T/gpu.err"; fail "no GPU series in the scrape"; }
gchild=$(wait_child "$gpid" 2) || fail "memwall has no child"
sed 1,2d "$T/gscrape" > "$T/gscrape.prom"
promtool check metrics < "$T/gscrape.prom" > "$T/promtool.out" 2>&1 ||
    { show promtool "$T/promtool.out"; fail "promtool check metrics refused the GPU scrape"; }
for want in "memwall_gpu_total_bytes{$labels,gpu=\"0\"} $((80 << 30))" \
    "memwall_gpu_total_bytes{$labels,gpu=\"1\"} $((40 << 30))" \
    "memwall_gpu_used_bytes{$labels,gpu=\"0\"} $((2 << 30))" \
    "memwall_gpu_used_bytes{$labels,gpu=\"1\"} $((1 << 30))" \
    "memwall_gpu_tree_bytes{$labels,gpu=\"0\"} $((512 << 20))" \
    "memwall_gpu_tree_bytes{$labels,gpu=\"1\"} 0" \
    "memwall_process_gpu_bytes{$labels,pid=\"$gchild\",comm=\"mw-touch\"} $((512 << 20))"; do
    expect_contains "$T/gscrape.prom" "$want"
done
wait "$gpid" || { show stderr "$T/gpu.err"; fail "memwall watch with the fake NVML failed"; }
ok "GPUs: total, used and the tree's per device, and per process (fake NVML)"

# ---- memwall's own rank (`srun memwall watch`): every series has it ----------------
RANK=3 expect_exit 0 "$MW" watch -q --metrics-file "$T/r.prom" -- "$MW_TOUCH" 1M --hold 300ms
expect_contains "$T/r.prom" "memwall_up{command=\"mw-touch\",host=\"$host\",rank=\"3\"} 0"
expect_contains "$T/r.prom" "memwall_rss_peak_bytes{command=\"mw-touch\",host=\"$host\",rank=\"3\"} "
ok "RANK=3 in memwall's environment: rank=\"3\" on its series"

# ---- a port already in use: a clear error, the command not started ------------------
"${HTTP[@]}" --listen "$P2" > "$T/listen.out" &
lpid=$!
track_pid "$lpid"
for _ in $(seq 1 50); do grep -q listening "$T/listen.out" && break; sleep 0.1; done
grep -q listening "$T/listen.out" || fail "python could not listen on $P2"
for spec in "127.0.0.1:$P2" "$P2"; do
    expect_exit 125 "$MW" watch --metrics-port "$spec" -- touch "$T/ran"
    expect_contains "$T/stderr" "--metrics-port $spec: address already in use: pick another port"
    [ -e "$T/ran" ] && fail "--metrics-port $spec in use: the command ran anyway"
done
kill "$lpid"
ok "a port in use: a clear error (exit 125), the command not started"

# ---- a metrics file that cannot be written: a warning, the run completes -----------
expect_exit 0 "$MW" watch -q --json -o "$T/nf.json" --metrics-file "$T/no/such/dir/m.prom" -- \
    "$MW_TOUCH" 4M --step-delay 1200ms --hold 1200ms
expect_contains "$T/stderr" "memwall: --metrics-file: cannot create $T/no/such/dir/m.prom.tmp."
expect_contains "$T/stderr" "No such file or directory; no more metrics files, the run goes on"
[ "$(grep -c "metrics-file" "$T/stderr")" = 1 ] || { show stderr "$T/stderr"; fail "the warning came more than once"; }
expect_json "$T/nf.json" exit_code 0
if [ "$(id -u)" != 0 ]; then # root writes through a directory's mode
    mkdir "$T/ro" && chmod 555 "$T/ro"
    expect_exit 0 "$MW" watch -q --metrics-file "$T/ro/m.prom" -- true
    expect_contains "$T/stderr" "Permission denied; no more metrics files, the run goes on"
fi
ok "a metrics file that cannot be written: one warning, the run completes"
