# watch_prometheus.sh - a real Prometheus server scrapes memwall watch
# --metrics-port (issue #16; docs/CLUSTER.md, "Prometheus metrics"): Debian's
# prometheus runs on a private port and storage directory in $T (stopped on
# every exit path), scrapes memwall every second while a command grows to
# 64 MiB, and its HTTP API must then give the series with their labels and
# a peak that agrees with the watch's JSON. Ports: MW_METRICS_PORT + 2
# (memwall) and + 3 (Prometheus), 18092 and 18093 by default.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v prometheus > /dev/null || skip "no prometheus server (Debian's prometheus package)"
command -v python3 > /dev/null || skip "no python3 to query Prometheus with"
P=${MW_METRICS_PORT:-18090}
PM=$((P + 2))
PP=$((P + 3))
HTTP=(python3 "$MW_SOURCE_DIR/tests/cli/metrics_http.py")
MIB=1048576
unset RANK OMPI_COMM_WORLD_RANK PMIX_RANK PMI_RANK SLURM_PROCID

"$MW" watch --metrics-port "127.0.0.1:$PM" -- true > /dev/null 2> "$T/probe.err"
if grep -q "built without libmicrohttpd" "$T/probe.err"; then
    skip "memwall was built without libmicrohttpd (libmicrohttpd-dev)"
fi

cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: memwall
    static_configs:
      - targets: ['127.0.0.1:$PM']
EOF
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PP" --log.level=warn > "$T/prometheus.log" 2>&1 &
ppid_=$!
track_pid "$ppid_"
stop_prometheus() { kill -TERM "$ppid_" 2>/dev/null; wait_gone "$ppid_" 10 || kill -KILL "$ppid_" 2>/dev/null; }
# stopped on every exit path; the test's own status kept for mw_cleanup
trap 'rc=$?; stop_prometheus; (exit $rc); mw_cleanup' EXIT
API="http://127.0.0.1:$PP"
ready=""
for _ in $(seq 1 300); do
    alive "$ppid_" || { show prometheus "$T/prometheus.log"; fail "prometheus exited"; }
    if "${HTTP[@]}" "$API/-/ready" 2> /dev/null | head -1 | grep -q 200; then ready=1; break; fi
    sleep 0.1
done
[ -n "$ready" ] || { show prometheus "$T/prometheus.log"; fail "prometheus not ready in 30 s"; }
# Its discovery hands targets to the scrapers up to 5 s after the start:
# wait until it scrapes ours (down, memwall is not there yet) so that it
# sees the whole run.
scraping=""
for _ in $(seq 1 150); do
    if "${HTTP[@]}" "$API/api/v1/targets" 2> /dev/null | sed 1,2d |
        python3 -c 'import json, sys; t = json.load(sys.stdin)["data"]["activeTargets"]; sys.exit(0 if any(x["lastScrape"][:4] != "0001" for x in t) else 1)'; then
        scraping=1
        break
    fi
    sleep 0.1
done
[ -n "$scraping" ] || { show prometheus "$T/prometheus.log"; fail "prometheus did not scrape its target in 15 s"; }
ok "prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }') up on 127.0.0.1:$PP, scraping 127.0.0.1:$PM"

# q EXPR [range args]: the API's JSON answer (body only) into $T/q.json
q() {
    local url="$API/api/v1/$1"
    "${HTTP[@]}" "$url" > "$T/q.raw" || fail "no answer from $url"
    [ "$(sed -n 1p "$T/q.raw")" = 200 ] || { show answer "$T/q.raw"; fail "$url: not 200"; }
    sed 1,2d "$T/q.raw" > "$T/q.json"
}
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
# the first result's value, or its label NAME (jsonpath-less: python)
res() { # WHAT: value | label NAME | count | points
    python3 - "$T/q.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["data"]["result"]
what = sys.argv[2]
if what == "count": print(len(r)); sys.exit(0)
if not r: sys.exit(1)
if what == "value": print(int(float(r[0]["value"][1])))
elif what == "label": print(r[0]["metric"].get(sys.argv[3], ""))
elif what == "points": print(len(r[0]["values"]))
elif what == "rising":
    v = [float(x[1]) for x in r[0]["values"]]
    print(1 if max(v) > v[0] else 0)
PY
}

# ---- memwall watch, scraped every second for ~9 s --------------------------------
start=$(date +%s)
"$MW" watch -q --json -o "$T/w.json" --metrics-port "127.0.0.1:$PM" -- \
    "$MW_TOUCH" 32M 32M --step-delay 3s --hold 3s > "$T/run.out" 2> "$T/run.err" &
wpid=$!
track_pid "$wpid"
# while it runs: the live series, with its labels
seen=""
for _ in $(seq 1 80); do
    sleep 0.1
    q "query?query=$(enc 'memwall_rss_peak_bytes{job="memwall"}')"
    [ "$(res count)" = 1 ] && { seen=1; break; }
done
[ -n "$seen" ] || { show prometheus "$T/prometheus.log"; show answer "$T/q.json"; fail "memwall_rss_peak_bytes never arrived"; }
expect_eq "label command" "$(res label command)" "mw-touch"
expect_eq "label host" "$(res label host)" "$(hostname)"
expect_eq "label instance" "$(res label instance)" "127.0.0.1:$PM"
expect_eq "label rank" "$(res label rank)" ""   # rank="": no label to Prometheus
q "query?query=$(enc 'memwall_up{job="memwall"}')"
expect_eq "memwall_up" "$(res value)" 1
ok "the live series arrive in Prometheus with command, host (and no rank)"

wait "$wpid"
code=$?
[ "$code" = 0 ] || { show stderr "$T/run.err"; fail "memwall watch exited $code"; }
end=$(date +%s)
peak=$(json_get "$T/w.json" peak_rss_bytes) || exit
sleep 1.2 # the last scrape that saw it is in the head block

# the run's peak over its whole life: within the watch's own figure
q "query?query=$(enc 'max_over_time(memwall_rss_peak_bytes{job="memwall",command="mw-touch"}[5m])')"
mpeak=$(res value) || { show answer "$T/q.json"; fail "no max_over_time of memwall_rss_peak_bytes"; }
expect_num "Prometheus' max_over_time(memwall_rss_peak_bytes)" "$mpeak" ">=" $((64 * MIB))
expect_num "Prometheus' max_over_time(memwall_rss_peak_bytes)" "$mpeak" "<=" "$peak"
# the figure memwall reported last is its final peak up to the kernel's
# ru_maxrss at the reap: at least 99% of the JSON's
expect_num "Prometheus' peak against the JSON's" "$((mpeak * 100))" ">=" "$((peak * 99))"
ok "max_over_time(memwall_rss_peak_bytes) = $mpeak, the watch's JSON: $peak"

# the RSS over the run through query_range: a point a second, rising
q "query_range?query=$(enc 'memwall_rss_bytes{job="memwall"}')&start=$start&end=$((end + 1))&step=1"
pts=$(res points) || { show answer "$T/q.json"; fail "no range of memwall_rss_bytes"; }
expect_num "points of memwall_rss_bytes over the run" "$pts" ">=" 5
[ "$(res rising)" = 1 ] || { show answer "$T/q.json"; fail "memwall_rss_bytes does not rise (32 then 64 MiB)"; }
q "query?query=$(enc 'max_over_time(memwall_process_rss_bytes{job="memwall",comm="mw-touch"}[5m])')"
expect_num "max_over_time(memwall_process_rss_bytes)" "$(res value)" ">=" $((64 * MIB))
q "query?query=$(enc 'max_over_time(memwall_minor_faults_total{job="memwall"}[5m])')"
expect_num "max_over_time(memwall_minor_faults_total)" "$(res value)" ">=" $((64 * MIB / 4096))
ok "query_range and the per-process series agree"
