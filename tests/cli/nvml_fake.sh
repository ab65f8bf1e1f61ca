# nvml_fake.sh - GPU memory through NVML, with the scripted fake library
# (tests/fake_nvml.c): the device's and the tree's peaks reach the JSON and
# the text summary; no NVML, or NVML failing, is never an error.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

[ -f "$MW_FAKE_NVML" ] || fail "the fake NVML library is not built: $MW_FAKE_NVML"
GIB=1073741824
MIB=1048576

cat > "$T/nvml.txt" <<'EOF'
# one device; its used memory over successive calls; the watched command
# ("child": memwall's first child) on it
device 0 name="Fake H100" total=80G
used 0 1G 3G 2G
proc 0 child 512M 1536M 1G
EOF

fake() { # memwall ARGS... with the fake NVML and script $T/nvml.txt
    MEMWALL_NVML_LIBRARY=$MW_FAKE_NVML MEMWALL_FAKE_NVML_SCRIPT=$T/nvml.txt "$@"
}

# ---- JSON ---------------------------------------------------------------------------
expect_exit 0 fake "$MW" watch --json -o "$T/gpu.json" --interval 20ms -- "$MW_TOUCH" 1M --hold 300ms
expect_valid_json "$T/gpu.json"
expect_json "$T/gpu.json" peak_gpu_bytes $((1536 * MIB))
if have_jq; then
    expect_json "$T/gpu.json" '.gpu.devices | length' 1
    expect_json "$T/gpu.json" '.gpu.devices[0].index' 0
    expect_json "$T/gpu.json" '.gpu.devices[0].name' "Fake H100"
    expect_json "$T/gpu.json" '.gpu.devices[0].total_bytes' $((80 * GIB))
    expect_json "$T/gpu.json" '.gpu.devices[0].peak_used_bytes' $((3 * GIB))
    expect_json "$T/gpu.json" '.gpu.devices[0].peak_tree_bytes' $((1536 * MIB))
    expect_json "$T/gpu.json" '.processes[0].command' mw-touch
    expect_json "$T/gpu.json" '.processes[0].peak_gpu_bytes' $((1536 * MIB))
else
    ok "SKIPPED the nested gpu.* checks: jq is not installed"
fi
ok "fake H100: device total 80 GiB, device peak 3 GiB, tree peak 1536 MiB (JSON)"

# ---- text summary --------------------------------------------------------------------
expect_exit 0 fake "$MW" watch --interval 20ms -- "$MW_TOUCH" 1M --hold 300ms
grep -qx gpu "$T/stderr" || { show stderr "$T/stderr"; fail "the text summary has no 'gpu' section"; }
expect_contains "$T/stderr" "Fake H100"
expect_contains "$T/stderr" "1.50 GiB"
expect_contains "$T/stderr" "3.00 GiB"
expect_contains "$T/stderr" "80.0 GiB"
ok "the text summary has a gpu section with Fake H100, 1.50 GiB of 80.0 GiB"

# ---- the timeline carries the GPU columns ------------------------------------------------
expect_exit 0 fake "$MW" watch -q --interval 20ms --timeline "$T/gpu.csv" -- "$MW_TOUCH" 1M --hold 200ms
gcol=$(head -n 1 "$T/gpu.csv" | tr , '\n' | grep -nx gpu_bytes | cut -d: -f1)
[ -n "$gcol" ] || fail "no gpu_bytes column in the timeline"
max=$(awk -F, -v c="$gcol" 'NR > 1 && $c != "" && $c + 0 > m { m = $c + 0 } END { printf "%d", m }' "$T/gpu.csv")
expect_eq "max gpu_bytes in the timeline" "$max" $((1536 * MIB))

# ---- --no-gpu: NVML is not loaded --------------------------------------------------------
expect_exit 0 fake "$MW" watch --no-gpu --json -o "$T/nogpu.json" -- "$MW_TOUCH" 1M
expect_json "$T/nogpu.json" gpu null
expect_json "$T/nogpu.json" peak_gpu_bytes null
ok "--no-gpu: gpu null"

# ---- NVML absent or failing: gpu null, exit 0 ----------------------------------------------
echo "fail init" > "$T/nvml.txt"
expect_exit 0 fake "$MW" watch --json -o "$T/fail.json" -- "$MW_TOUCH" 1M
expect_json "$T/fail.json" gpu null
expect_json "$T/fail.json" peak_gpu_bytes null
expect_json "$T/fail.json" exit_code 0
expect_exit 3 fake "$MW" watch --json -o "$T/fail.json" -- "$MW_TOUCH" --exit 3 1M
expect_json "$T/fail.json" gpu null
expect_exit 0 "$MW" watch --json -o "$T/none.json" -- "$MW_TOUCH" 1M    # /nonexistent (lib.sh)
expect_json "$T/none.json" gpu null
ok "NVML failing to init, or missing: gpu null, CMD's exit status"
