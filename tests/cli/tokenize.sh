#!/usr/bin/env bash
# memwall tokenize: ids of texts by a vocabulary of known merges
# (mw-gen-gguf --test-vocab), --json, --no-bos, --decode and its round trip,
# and clear errors for models without a vocabulary, bad text and bad ids.
. "$(dirname "$0")/lib.sh"
GEN=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$GEN" ] || fail "no mw-gen-gguf at $GEN"
V=$T/vocab.gguf
"$GEN" --layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --vocab 512 --ctx 256 --dtype f32 --test-vocab "$V" \
    || fail "mw-gen-gguf --test-vocab failed"

# ids: "▁hello" 272, "▁world" 277, "▁the" 279, "llo" 270, "▁" 259, BOS 1,
# the byte tokens 3 + byte
expect_exit 0 "$MW" tokenize "$V" "hello world"
expect_empty "$T/stderr"
expect_file_is "$T/stdout" "1 272 277"
expect_exit 0 "$MW" tokenize --no-bos "$V" "the world"
expect_file_is "$T/stdout" "279 277"
expect_exit 0 "$MW" tokenize "$V" "héllo  中"
expect_file_is "$T/stdout" "1 259 260 198 172 270 259 259 231 187 176"
expect_exit 0 "$MW" tokenize "$V" ""
expect_file_is "$T/stdout" "1"
# options after the operands, and --json
expect_exit 0 "$MW" tokenize "$V" "hello world" --json --no-bos
expect_file_is "$T/stdout" "[272, 277]"
expect_exit 0 "$MW" tokenize --json --no-bos "$V" ""
expect_file_is "$T/stdout" "[]"
ok "ids, --no-bos and --json"

# --decode, and round trips through the command line
expect_exit 0 "$MW" tokenize --decode 1,272,277,2 "$V"
expect_file_is "$T/stdout" "hello world"
for text in "hello world" "  two leading spaces" "café 中文 😀" "x = f(1, 2); // the end" "tabs	and	more"; do
    expect_exit 0 "$MW" tokenize "$V" "$text"
    ids=$(tr ' ' ',' < "$T/stdout")
    expect_exit 0 "$MW" tokenize --decode "$ids" "$V"
    expect_file_is "$T/stdout" "$text"
done
# a control byte from the file is shown as '?', not sent to the terminal
expect_exit 0 "$MW" tokenize --decode 272,30,277 "$V"   # 30 = <0x1B> (ESC)
expect_file_is "$T/stdout" "hello? world"
ok "--decode and round trips"

# errors: no vocabulary, not a GGUF, bad text, bad ids, usage
"$GEN" --layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --vocab 512 --ctx 256 --dtype f32 "$T/novocab.gguf" \
    || fail "mw-gen-gguf failed"
expect_exit 1 "$MW" tokenize "$T/novocab.gguf" "hello"
expect_contains "$T/stderr" "no tokenizer.ggml.model"
expect_exit 1 "$MW" tokenize "$T/nonexistent.gguf" "hello"
expect_contains "$T/stderr" "nonexistent.gguf"
printf 'not a gguf file at all' > "$T/junk.gguf"
expect_exit 1 "$MW" tokenize "$T/junk.gguf" "hello"
expect_contains "$T/stderr" "junk.gguf"
expect_exit 1 "$MW" tokenize "$V" "$(printf 'ab\377cd')"
expect_contains "$T/stderr" "not valid UTF-8 at byte offset 2"
expect_exit 1 "$MW" tokenize --decode 1,512 "$V"
expect_contains "$T/stderr" "id 512 (at position 1) is past the vocabulary's 512 tokens"
expect_exit 2 "$MW" tokenize --decode 1,x "$V"
expect_exit 2 "$MW" tokenize "$V"
expect_contains "$T/stderr" "no TEXT given"
expect_exit 2 "$MW" tokenize
expect_contains "$T/stderr" "no MODEL given"
expect_exit 2 "$MW" tokenize "$V" a b
expect_contains "$T/stderr" "unexpected operand 'b'"
expect_exit 2 "$MW" tokenize --decode 1 "$V" text
expect_contains "$T/stderr" "--decode takes no TEXT"
expect_exit 2 "$MW" tokenize --decode 1 --json "$V"
expect_exit 2 "$MW" tokenize --bogus "$V" x
ok "errors: no vocabulary, bad files, bad UTF-8, ids out of range, usage"

# output that cannot be written: exit 1 and why
if [ -w /dev/full ]; then
    for args in "$V hello" "--json $V hello" "--decode 272,277 $V"; do
        # shellcheck disable=SC2086
        "$MW" tokenize $args > /dev/full 2> "$T/stderr" < /dev/null
        rc=$?
        [ "$rc" = 1 ] || { show stderr "$T/stderr"; fail "tokenize $args > /dev/full exited $rc, not 1"; }
        expect_contains "$T/stderr" "No space left on device"
    done
    ok "a full device: exit 1 with the reason"
fi

# every allocation failing in turn (MEMWALL_FAIL_ALLOC=n): exit 1 with one
# message, or 0 with the same ids; never a crash
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}exitcode=99
"$MW" tokenize "$V" "héllo wörld 中 😀" > "$T/want" 2> /dev/null || fail "tokenize fails without injection"
n=0 streak=0 failures=0
while [ "$streak" -lt 5 ]; do
    n=$((n + 1))
    [ "$n" -le 2000 ] || fail "still failing after 2000 allocations"
    MEMWALL_FAIL_ALLOC=$n "$MW" tokenize "$V" "héllo wörld 中 😀" > "$T/got" 2> "$T/stderr" < /dev/null
    rc=$?
    case $rc in
        0) cmp -s "$T/got" "$T/want" || fail "MEMWALL_FAIL_ALLOC=$n: exit 0 with other ids"; streak=$((streak + 1)) ;;
        1) expect_contains "$T/stderr" "memwall: "; failures=$((failures + 1)); streak=0 ;;
        *) show stderr "$T/stderr"; fail "MEMWALL_FAIL_ALLOC=$n: exit $rc" ;;
    esac
done
[ "$failures" -gt 0 ] || fail "no allocation failed (is MEMWALL_FAIL_ALLOC read?)"
ok "allocation failures: $failures clean errors"
