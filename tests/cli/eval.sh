#!/usr/bin/env bash
# memwall eval: the text and JSON reports, --ref against the model itself
# (KL 0, top-1 1, ratio 1) and against a Q8_0 copy, every refused input
# with its exit code (1 failure, 2 usage), and Ctrl-C between chunks.
# Models by mw-gen-gguf --test-vocab ("hello world" is 1 272 277).
. "$(dirname "$0")/lib.sh"
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$GEN" ] || fail "no mw-gen-gguf at $GEN (build the tests)"
shape="--layers 2 --embd 64 --heads 2 --kv-heads 1 --ff 128 --ctx 256"
"$GEN" $shape --vocab 512 --test-vocab "$T/m.gguf" || fail "mw-gen-gguf failed"
"$GEN" $shape --vocab 512 --test-vocab --dtype q8_0 "$T/mq.gguf" || fail "mw-gen-gguf q8_0 failed"
"$GEN" $shape --vocab 600 --test-vocab "$T/m600.gguf" || fail "mw-gen-gguf --vocab 600 failed"
# 100 x "hello world": BOS + 200 tokens
awk 'BEGIN { for (i = 0; i < 100; i++) printf "%shello world", (i ? " " : "") }' > "$T/text.txt"

# ---- the text report
expect_exit 0 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 32 --threads 2
expect_contains "$T/stdout" "memwall eval:"
expect_contains "$T/stdout" "201 in the text; 6 chunks of 32, each starting with BOS (6 evaluated), 15 scored each"
expect_contains "$T/stdout" "over 90 tokens"
expect_contains "$T/stdout" "+/-"
expect_contains "$T/stdout" "tokens/s"
expect_not_contains "$T/stdout" "against"
ok "text report"

# ---- JSON
expect_exit 0 "$MW" eval --json "$T/m.gguf" --text-file "$T/text.txt" --ctx 32 --chunks 4
cp "$T/stdout" "$T/plain.json"
expect_valid_json "$T/plain.json"
expect_json "$T/plain.json" schema "memwall.eval/1"
expect_json "$T/plain.json" tokens 60
expect_json "$T/plain.json" file_tokens 201
expect_json "$T/plain.json" chunks 4
expect_json "$T/plain.json" chunks_available 6
expect_json "$T/plain.json" scored_per_chunk 15
expect_json "$T/plain.json" kl_mean null
expect_json "$T/plain.json" interrupted false
ppl=$(json_get "$T/plain.json" perplexity) || exit
expect_num "perplexity" "$ppl" ">" 1
expect_num "perplexity" "$ppl" "<" 100000
ok "JSON report"

# ---- --stride: windows of 32 every 8 tokens, the last 8 scored:
# (201 - 32 + 7) / 8 = 22 windows, 176 tokens
expect_exit 0 "$MW" eval --json "$T/m.gguf" --text-file "$T/text.txt" --ctx 32 --stride 8
cp "$T/stdout" "$T/stride.json"
expect_json "$T/stride.json" method "llama.cpp-perplexity-stride"
expect_json "$T/stride.json" stride 8
expect_json "$T/stride.json" chunks 22
expect_json "$T/stride.json" tokens 176
expect_json "$T/stride.json" bos_first false
expect_exit 0 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 32 --stride 8
expect_contains "$T/stdout" "22 windows of 32, one every 8 tokens"
ok "--stride: sliding windows"

# ---- --ref: the model against itself, then its Q8_0 copy against it
expect_exit 0 "$MW" eval --json "$T/m.gguf" --ref "$T/m.gguf" --text-file "$T/text.txt" --ctx 32
cp "$T/stdout" "$T/self.json"
expect_json "$T/self.json" kl_mean 0
expect_json "$T/self.json" kl_max 0
expect_json "$T/self.json" kl_p99 0
expect_json "$T/self.json" top1_agreement 1
expect_json "$T/self.json" perplexity_ratio 1
expect_exit 0 "$MW" eval "$T/mq.gguf" --ref "$T/m.gguf" --text-file "$T/text.txt" --ctx 32
expect_contains "$T/stdout" "KL(ref||model)"
expect_contains "$T/stdout" "top-1 agreement"
expect_contains "$T/stdout" "ppl ratio"
expect_exit 0 "$MW" eval --json "$T/mq.gguf" --ref "$T/m.gguf" --text-file "$T/text.txt" --ctx 32
cp "$T/stdout" "$T/q8.json"
kl=$(json_get "$T/q8.json" kl_mean) || exit
expect_num "Q8_0 against F16: kl_mean" "$kl" ">" 0
expect_num "Q8_0 against F16: kl_mean" "$kl" "<" 0.001
ok "--ref: KL 0 against itself, small and positive against the Q8_0 copy"

# ---- failures: exit 1, the message says what
: > "$T/empty.txt"
expect_exit 1 "$MW" eval "$T/m.gguf" --text-file "$T/empty.txt" --ctx 32
expect_contains "$T/stderr" "is empty"
printf 'hello world \377 hello' > "$T/bad.txt"
expect_exit 1 "$MW" eval "$T/m.gguf" --text-file "$T/bad.txt" --ctx 4
expect_contains "$T/stderr" "byte offset 12"
expect_exit 1 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 300
expect_contains "$T/stderr" "context length"
expect_contains "$T/stderr" "256"
expect_exit 1 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 250
expect_contains "$T/stderr" "holds 201 tokens, fewer than the 250 of one chunk"
expect_exit 1 "$MW" eval "$T/m.gguf" --ref "$T/m600.gguf" --text-file "$T/text.txt" --ctx 32
expect_contains "$T/stderr" "vocabularies differ"
expect_exit 1 "$MW" eval "$T/m.gguf" --text-file "$T/missing.txt" --ctx 32
expect_contains "$T/stderr" "missing.txt"
expect_exit 1 "$MW" eval demo --text-file "$T/text.txt" --ctx 32
expect_contains "$T/stderr" "convert --demo"
ok "bad input: exit 1 with the reason"

# ---- usage: exit 2
expect_exit 2 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 2
expect_contains "$T/stderr" "--ctx"
expect_exit 2 "$MW" eval "$T/m.gguf"
expect_contains "$T/stderr" "--text-file"
# no MODEL: the built-in "tiny", on its held-out text when none is given
MEMWALL_MODELS_DIR=$T/nowhere expect_exit 1 "$MW" eval --text-file "$T/text.txt"
expect_contains "$T/stderr" "built-in model \"tiny\""
mkdir -p "$T/models" && cp "$T/m.gguf" "$T/models/tiny.gguf"
MEMWALL_MODELS_DIR=$T/models expect_exit 1 "$MW" eval
expect_contains "$T/stderr" "held-out text of \"tiny\""
cp "$T/text.txt" "$T/models/tiny.heldout.txt"
MEMWALL_MODELS_DIR=$T/models expect_exit 0 "$MW" eval --json --ctx 32
expect_eq "default text" "$(json_get "$T/stdout" text_file)" "$T/models/tiny.heldout.txt"
expect_exit 2 "$MW" eval "$T/m.gguf" --ctx 32
expect_contains "$T/stderr" "held-out text"
expect_exit 2 "$MW" eval "$T/m.gguf" "$T/mq.gguf" --text-file "$T/text.txt"
expect_exit 2 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --kv-dtype q4_0
expect_exit 2 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --chunks 0
expect_exit 2 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --ctx 32 --stride 32
expect_contains "$T/stderr" "--stride 32 must be below --ctx 32"
expect_exit 2 "$MW" eval "$T/m.gguf" --text-file "$T/text.txt" --bogus
expect_exit 0 "$MW" eval --help
expect_contains "$T/stdout" "--text-file"
ok "wrong command lines: exit 2"

# ---- Ctrl-C between chunks: what was measured is printed, exit 130
"$GEN" --layers 4 --embd 256 --heads 4 --kv-heads 2 --ff 768 --ctx 2048 --vocab 512 --test-vocab "$T/big.gguf" ||
  fail "mw-gen-gguf big failed"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "%shello world", (i ? " " : "") }' > "$T/long.txt"
"$MW" eval "$T/big.gguf" --text-file "$T/long.txt" --ctx 2048 --threads 1 > "$T/stop.out" 2> "$T/stop.err" &
pid=$!
track_pid "$pid"
# 19 chunks of about a second each (more under ASan): the signal lands
# during one of them
sleep 2
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || { show stderr "$T/stop.err"; fail "expected exit 130 after SIGINT, got $rc"; }
expect_contains "$T/stop.err" "stopped by SIGINT"
expect_contains "$T/stop.out" "perplexity"
expect_contains "$T/stop.out" "stopped after"
ok "SIGINT stops between chunks and prints the figures so far"
