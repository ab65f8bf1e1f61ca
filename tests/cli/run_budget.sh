#!/bin/bash
# run_budget.sh - `memwall run --mem-budget` (issue #15, docs/PAGING.md,
# "Streaming in the engine"): logits bit-identical to the all-resident run
# with 1, several and all-but-one layers resident, prefetch 1, 2, 3, reads
# buffered and O_DIRECT (which falls back to buffered where $TMPDIR's file
# system refuses it: said in the report); the weights measured equal to the
# split's resident bytes; the JSON "paging" object; a budget too small, the
# demo, --no-mmap; a read failing (MEMWALL_FAIL_STREAM_READ); the model file
# truncated while it streams: exit 1 with the message, no crash, no hang.
. "$(dirname "$0")/lib.sh"
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
T=$(mktemp -d "${TMPDIR:-/tmp}/mw-run-budget-XXXXXX") || fail "no temp dir"
trap 'rm -rf "$T"' EXIT
SAN=${MW_SANITIZED:-0}

# the generated model: 8 F16 layers (smaller under the sanitizers)
if [ "$SAN" = 1 ]; then
    "$MW_GEN_GGUF" --layers 6 --embd 128 --heads 4 --kv-heads 2 --ff 384 --dtype f16 --vocab 1000 "$T/g.gguf" \
        > /dev/null || fail "mw-gen-gguf failed"
else
    "$MW_GEN_GGUF" --layers 8 --embd 256 --heads 4 --kv-heads 2 --ff 768 --dtype f16 --vocab 2000 "$T/g.gguf" \
        > /dev/null || fail "mw-gen-gguf failed"
fi

# identical logits for every split, prefetch and kind of read
check_model() { # MODEL
    local model=$1 base=$T/$(basename "$1" .gguf)
    expect_exit 0 "$MW" run "$model" --prompt 6 --gen 5 --threads 2 --logits "$base.ref"
    expect_exit 0 "$MW" run "$model" --prompt 6 --gen 5 --threads 2 --mem-budget 1T --json
    cp "$T/stdout" "$base.all.json"
    local L always all layer
    L=$(json_get "$base.all.json" .paging.n_layers) || exit
    always=$(json_get "$base.all.json" .paging.always_bytes) || exit
    all=$(json_get "$base.all.json" .paging.resident_bytes) || exit
    expect_json "$base.all.json" .paging.streamed_layers 0
    expect_json "$base.all.json" .measured.weights_bytes "$all"
    layer=$(( (all - always) / L ))
    [ $(( always + L * layer )) = "$all" ] || fail "$model: layers of different sizes"
    local p r io slots budget n=0
    for p in 1 2 3; do
        # resident layers 0, 1, half, the most: with layers alike, a split
        # streams only when it keeps fewer buffers than layers streamed
        # (r + p + 1 < L); otherwise all resident costs the same
        for r in $(printf '%s\n' 0 1 $((L / 2)) $((L - p - 2)) | sort -nu); do
            [ "$r" -ge 0 ] && [ $((r + p + 1)) -lt "$L" ] || continue
            slots=$((p + 1))
            budget=$(( always + (r + slots) * layer ))
            for io in buffered direct; do
                rm -f "$base.got"
                expect_exit 0 "$MW" run "$model" --prompt 6 --gen 5 --threads 2 --mem-budget "$budget" \
                    --prefetch "$p" --stream-io "$io" --logits "$base.got" --json
                cmp -s "$base.ref" "$base.got" ||
                    fail "$model, budget $budget, prefetch $p, $io: logits differ from the all-resident run"
                expect_json "$T/stdout" .paging.resident_layers "$r"
                expect_json "$T/stdout" .paging.streamed_layers "$((L - r))"
                expect_json "$T/stdout" .paging.slots "$slots"
                expect_json "$T/stdout" .paging.resident_bytes "$budget"
                expect_json "$T/stdout" .measured.weights_bytes "$budget"
                expect_json "$T/stdout" .paging.streamed_bytes_per_step "$(( (L - r) * layer ))"
                local used
                used=$(json_get "$T/stdout" .paging.stream_io) || exit
                [ "$io" = buffered ] && [ "$used" != buffered ] && fail "--stream-io buffered used $used"
                [ "$used" = buffered ] || [ "$used" = direct ] || fail "stream_io $used"
                n=$((n + 1))
            done
        done
    done
    ok "$(basename "$model"): logits identical in $n split runs"
}
check_model "$MW_SOURCE_DIR/models/tiny.gguf"
check_model "$T/g.gguf"

# the text report
expect_exit 0 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --prompt 4 --gen 2 --mem-budget 7083264 \
    --stream-io buffered
expect_contains "$T/stdout" "paging: 4 of 4 layers streamed, 6.0 MiB per step, read at"
expect_contains "$T/stdout" "(buffered, dropped from the page cache); resident weights 6.76 MiB of budget 6.76 MiB"
ok "text report"

# bad input: too small (the smallest that works named), the demo, --no-mmap,
# --prefetch alone, a bad --stream-io
expect_exit 1 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --mem-budget 7083263 --gen 1
expect_contains "$T/stderr" "below the smallest that works, 7083264 bytes (6.8 MiB)"
expect_contains "$T/stderr" "give --mem-budget 7083264 or more"
expect_exit 1 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --mem-budget 7083264 --prefetch 3 --gen 1
expect_contains "$T/stderr" "give --mem-budget 8657664 or more"
expect_exit 1 "$MW" run demo --mem-budget 100M --gen 1
expect_contains "$T/stderr" "the demo model has none"
expect_exit 1 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --mem-budget 100M --no-mmap --gen 1
expect_contains "$T/stderr" "drop --no-mmap and --mlock"
expect_exit 2 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --prefetch 2 --gen 1
expect_contains "$T/stderr" "go with --mem-budget"
expect_exit 2 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --mem-budget 100M --stream-io mmap --gen 1
expect_contains "$T/stderr" "--stream-io must be auto, buffered or direct"
expect_exit 2 "$MW" run "$MW_SOURCE_DIR/models/tiny.gguf" --mem-budget 100M --prefetch 0 --gen 1
ok "bad input"

# a read failing mid-run: the run stops with the error, nothing hangs
for io in buffered auto; do
    expect_exit 1 env MEMWALL_FAIL_STREAM_READ=30 timeout 60 "$MW" run "$T/g.gguf" --prompt 4 --gen 50 \
        --mem-budget "$(json_get "$T/g.all.json" .paging.min_budget_bytes)" --stream-io "$io"
    expect_contains "$T/stderr" "while streaming"
    expect_contains "$T/stderr" "Input/output error"
done
ok "a failing read stops the run"

# the model truncated while streaming: the run is told, exits 1
cp "$T/g.gguf" "$T/cut.gguf"
min=$(json_get "$T/g.all.json" .paging.min_budget_bytes) || exit
size=$(stat -c %s "$T/cut.gguf")
timeout 120 "$MW" run "$T/cut.gguf" --prompt 4 --gen 20000 --ctx 20010 --threads 1 --mem-budget "$min" \
    > "$T/cut.out" 2> "$T/cut.err" &
pid=$!
sleep 1
kill -0 "$pid" 2> /dev/null || { show stderr "$T/cut.err"; fail "the run ended before the file was truncated"; }
truncate -s $((size / 2)) "$T/cut.gguf"
wait "$pid"
rc=$?
[ "$rc" = 1 ] || { show stderr "$T/cut.err"; fail "truncated while streaming: exit $rc, expected 1"; }
expect_contains "$T/cut.err" "cut.gguf changed while streaming"
ok "truncated while streaming: $(head -c 160 "$T/cut.err")"
