#!/usr/bin/env bash
# memwall run --text / --text-file: the prompt tokenized with the model's own
# vocabulary (the ids `memwall tokenize` gives), the generated text decoded
# (the ids of the JSON, decoded by `memwall tokenize --decode`), streamed on
# a terminal, and clear errors for what cannot be run on text.
. "$(dirname "$0")/lib.sh"
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$GEN" ] || fail "no mw-gen-gguf at $GEN"
have_jq || skip "jq is needed"
V=$T/vocab.gguf
"$GEN" --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --vocab 600 --ctx 256 --dtype f32 --test-vocab "$V" \
    || fail "mw-gen-gguf --test-vocab failed"

prompt="hello world, the café 中"
expect_exit 0 "$MW" run "$V" --text "$prompt" --gen 12 --json
cp "$T/stdout" "$T/run.json"
expect_exit 0 "$MW" tokenize --json "$V" "$prompt"
n=$(jq length "$T/stdout")
expect_eq "prompt tokens" "$(json_get "$T/run.json" .text.prompt_tokens)" "$n"
expect_eq "prompt tokens counted" "$(json_get "$T/run.json" .prompt_tokens)" "$n"
# the text is the ids decoded: prompt + generation, less the prompt (decode
# and run show a control byte or a partial character from the model as '?')
ids=$(jq -r '.generated[0] | map(tostring) | join(",")' "$T/run.json")
pids=$(jq -r 'map(tostring) | join(",")' "$T/stdout")
expect_exit 0 "$MW" tokenize --decode "$pids,$ids" "$V"
head -c -1 "$T/stdout" > "$T/decoded"          # less its newline
gen=$(jq -r '.text.generated[0]' "$T/run.json")
expect_num "generated tokens" "$(jq '.generated[0] | length' "$T/run.json")" == 12
ok "--text: the prompt's ids are tokenize's"

# text output: the prompt and its continuation, then the report
expect_exit 0 "$MW" run "$V" --text "$prompt" --gen 12
head -c "$(wc -c < "$T/decoded")" "$T/stdout" > "$T/shown"
cmp -s "$T/shown" "$T/decoded" || { show decoded "$T/decoded"; show run "$T/stdout"; fail "the text shown is not the ids decoded"; }
expect_contains "$T/stdout" "decode             12 tokens"
ok "the text shown is the ids decoded"
# --text-file gives the same; "-" reads standard input
printf '%s' "$prompt" > "$T/prompt.txt"
expect_exit 0 "$MW" run "$V" --text-file "$T/prompt.txt" --gen 12 --json
expect_eq "--text-file" "$(json_get "$T/stdout" .text.generated[0])" "$gen"
"$MW" run "$V" --text-file - --gen 12 --json < "$T/prompt.txt" > "$T/stdin.json" || fail "--text-file - failed"
expect_eq "--text-file -" "$(json_get "$T/stdin.json" .text.generated[0])" "$gen"
# a batch runs the prompt in every sequence
expect_exit 0 "$MW" run "$V" --text "$prompt" --gen 12 --batch 3 --json
expect_eq "batch" "$(jq -r '.text.generated | unique | length' "$T/stdout")" 1
expect_eq "batch texts" "$(jq -r '.text.generated | length' "$T/stdout")" 3
ok "text output, --text-file, --batch"

# --no-mmap lets the file's mapping go after loading: the vocabulary is read
# from the file again
expect_exit 0 "$MW" run "$V" --text-file "$T/prompt.txt" --gen 12 --json --no-mmap
expect_eq "--no-mmap" "$(json_get "$T/stdout" .text.generated[0])" "$gen"
# a built-in model's name finds its file (MEMWALL_MODELS_DIR first)
mkdir -p "$T/models" && cp "$V" "$T/models/tiny.gguf"
MEMWALL_MODELS_DIR=$T/models expect_exit 0 "$MW" run tiny --text-file "$T/prompt.txt" --gen 12 --json
expect_eq "built-in tiny" "$(json_get "$T/stdout" .text.generated[0])" "$gen"
MEMWALL_MODELS_DIR=$T/models expect_exit 0 "$MW" inspect tiny
expect_contains "$T/stdout" "$T/models/tiny.gguf"
MEMWALL_MODELS_DIR=$T/nowhere expect_exit 1 "$MW" run tiny --text "x" --gen 1
expect_contains "$T/stderr" "$T/nowhere/tiny.gguf"
expect_contains "$T/stderr" "MEMWALL_MODELS_DIR"
# a sweep of a built-in name runs, drops and plans its file
if ( need_memory_cgroup ) > /dev/null 2>&1; then
    MEMWALL_MODELS_DIR=$T/models expect_exit 0 "$MW" sweep tiny --batches 1 --prompt 4 --gen 2
    expect_contains "$T/stdout" "memwall run $T/models/tiny.gguf"
    expect_contains "$T/stdout" "the model file dropped from the page cache"
fi
ok "--no-mmap, the built-in name"

# streamed on a terminal: the same text, once
if command -v script > /dev/null; then
    script -qec "'$MW' run '$V' --text '$prompt' --gen 12" /dev/null > "$T/tty" 2>&1 || fail "run under script failed"
    tr -d '\r' < "$T/tty" > "$T/tty2"
    head -c "$(wc -c < "$T/decoded")" "$T/tty2" > "$T/shown"
    cmp -s "$T/shown" "$T/decoded" || { show decoded "$T/decoded"; show tty "$T/tty2"; fail "streamed text differs"; }
    expect_eq "streamed once" "$(grep -cF -- "$prompt" "$T/tty2")" 1
    ok "streamed on a terminal"
fi

# errors
expect_exit 1 "$MW" run --text "hello" --gen 2
expect_contains "$T/stderr" "demo model has no vocabulary"
"$GEN" --layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --vocab 512 --ctx 256 --dtype f32 "$T/novocab.gguf" \
    || fail "mw-gen-gguf failed"
expect_exit 1 "$MW" run "$T/novocab.gguf" --text "hello" --gen 2
expect_contains "$T/stderr" "tokenizer.ggml.model"
expect_exit 2 "$MW" run "$V" --text "a" --text-file "$T/prompt.txt"
expect_contains "$T/stderr" "give one"
expect_exit 2 "$MW" run "$V" --text "a" --tokens 1,2
expect_contains "$T/stderr" "give one"
expect_exit 2 "$MW" run "$V" --ignore-eos --gen 2
expect_contains "$T/stderr" "--ignore-eos goes with --text"
expect_exit 1 "$MW" run "$V" --text-file "$T/nonexistent.txt"
expect_contains "$T/stderr" "cannot read $T/nonexistent.txt"
: > "$T/empty.txt"
expect_exit 1 "$MW" run "$V" --text-file "$T/empty.txt" --gen 2
expect_contains "$T/stderr" "empty"
printf 'caf\xe9 au lait' > "$T/latin1.txt"
expect_exit 1 "$MW" run "$V" --text-file "$T/latin1.txt" --gen 2
expect_contains "$T/stderr" "offset 3"
# past the model's context length (256): refused with the numbers
head -c 3000 /dev/zero | tr '\0' 'x' | sed 's/x/hello /g' > "$T/long.txt"
expect_exit 1 "$MW" run "$V" --text-file "$T/long.txt" --gen 8
expect_contains "$T/stderr" "more than the model's context length 256 (llama.context_length)"
expect_exit 1 "$MW" run "$V" --text "hello world" --ctx 4 --gen 8
expect_contains "$T/stderr" "--ctx 4 is too small"
ok "errors"
