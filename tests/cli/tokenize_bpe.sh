#!/usr/bin/env bash
# memwall tokenize on byte-level BPE vocabularies (mw-gen-gguf
# --test-vocab-bpe PRE: merges learned from a fixed text, so the ids below
# are fixed too): each pre-tokenizer's ids, --special, --decode round trips,
# and the errors of a bad BPE vocabulary.
. "$(dirname "$0")/lib.sh"
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$GEN" ] || fail "no mw-gen-gguf at $GEN"
shape="--layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --vocab 1024 --ctx 256 --dtype f32"
for pre in default llama3 qwen2; do
    # shellcheck disable=SC2086
    "$GEN" $shape --test-vocab-bpe $pre "$T/$pre.gguf" || fail "mw-gen-gguf --test-vocab-bpe $pre failed"
done

# "Hello world": H (72), "ello" and " world" merged; the ids differ by
# pre-tokenizer because the merges were learned from differently cut words
expect_exit 0 "$MW" tokenize "$T/llama3.gguf" "Hello world"
expect_empty "$T/stderr"
expect_file_is "$T/stdout" "72 322 306"
expect_exit 0 "$MW" tokenize --json "$T/default.gguf" "Hello world"
expect_file_is "$T/stdout" "[72, 315, 303]"
# digits: llama3 cuts them in threes, qwen2 one by one; contractions
expect_exit 0 "$MW" tokenize "$T/llama3.gguf" "It's 1234567!"
expect_file_is "$T/stdout" "73 116 317 32 49 50 51 52 53 54 55 33"
expect_exit 0 "$MW" tokenize "$T/qwen2.gguf" "It's 1234567!"
expect_file_is "$T/stdout" "73 116 316 32 49 50 51 52 53 54 55 33"
ok "ids by pre-tokenizer"

# special tokens: <|im_start|> (351, control) only with --special; <|im
# (353, user-defined) always, so without --special it is split off
expect_exit 0 "$MW" tokenize "$T/llama3.gguf" "x<|im_start|>y"
expect_file_is "$T/stdout" "120 353 95 295 97 114 116 124 62 121"
expect_exit 0 "$MW" tokenize --special --json "$T/llama3.gguf" "x<|im_start|>y"
expect_file_is "$T/stdout" "[120, 351, 121]"
expect_exit 0 "$MW" tokenize --special "$T/llama3.gguf" "<|endoftext|><|im_start|><|im_end|><|im<mw_user>"
expect_file_is "$T/stdout" "350 351 352 353 354"
expect_exit 0 "$MW" tokenize --decode 350,120,351,354 "$T/llama3.gguf"
expect_file_is "$T/stdout" "x<mw_user>"
expect_exit 2 "$MW" tokenize --decode 1 --special "$T/llama3.gguf"
expect_contains "$T/stderr" "--special does not apply"
ok "--special: control tokens parsed on request, user-defined always"

# round trips: byte-level BPE gives back every UTF-8 text exactly
for pre in default llama3 qwen2; do
    for text in "hello world" "  two leading spaces  " "café 中文 😀 👨‍👩‍👧" "x = f(1, 2); // the end" \
                "tabs	and	more" "it's 1234567890 DON'T"; do
        expect_exit 0 "$MW" tokenize "$T/$pre.gguf" "$text"
        ids=$(tr ' ' ',' < "$T/stdout")
        expect_exit 0 "$MW" tokenize --decode "$ids" "$T/$pre.gguf"
        expect_file_is "$T/stdout" "$text"
    done
done
ok "--decode round trips"

# errors: bad UTF-8, ids out of range
expect_exit 1 "$MW" tokenize "$T/qwen2.gguf" "$(printf 'ab\377cd')"
expect_contains "$T/stderr" "not valid UTF-8 at byte offset 2"
expect_exit 1 "$MW" tokenize --decode 1,1024 "$T/qwen2.gguf"
expect_contains "$T/stderr" "id 1024 (at position 1) is past the vocabulary's 1024 tokens"
ok "errors"
