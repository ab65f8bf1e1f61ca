#!/usr/bin/env bash
# tokenize.sh - does `memwall tokenize` give llama.cpp's token ids?
#
#   tests/llamacpp/tokenize.sh
#
# Writes a GGUF file with the test vocabulary of mw-gen-gguf --test-vocab
# (byte tokens, merges of known scores) and, when given, the vocabularies
# of the GGUF files in MW_TOKENIZE_MODELS (space-separated), tokenizes a
# corpus of 100+ texts (ASCII, accents, CJK, emoji, digits, code, runs of
# whitespace) with llama.cpp (tokenize.mjs, node-llama-cpp 3.21.1, no BOS,
# special tokens not parsed) and with `memwall tokenize --no-bos --json`,
# and compares the ids text by text.
#
# Exit status: 0 all identical; 1 a difference or a failure; 77 node/npm,
# node-llama-cpp or the build unavailable. MW_MEMWALL, MW_GEN_GGUF,
# MW_LLAMACPP_DIR as for check.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
skip() { echo "tokenize.sh: SKIP: $*" >&2; exit 77; }
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
MW=${MW_MEMWALL:-$root/build/memwall}
GEN=${MW_GEN_GGUF:-$root/build/tests/mw-gen-gguf}
[ -x "$MW" ] || skip "no memwall at $MW (build first)"
[ -x "$GEN" ] || skip "no mw-gen-gguf at $GEN (build with -DMW_BUILD_TESTS=ON)"
. "$here/install.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/mw-tokenize.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
"$GEN" --layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --vocab 512 --ctx 256 --dtype f32 --test-vocab \
    "$W/test-vocab.gguf" || { echo "tokenize.sh: mw-gen-gguf failed" >&2; exit 1; }

python3 - "$W/texts.json" <<'PY'
import json, sys
base = ["hello world", "Hello, World!", "the quick brown fox jumps over the lazy dog", "  leading spaces",
        "trailing spaces   ", "a\tb\tc", "line one\nline two\n", "\n\n\n", " ", "  ", "x", "hellohello",
        "held the world", "café", "naïve résumé", "Ångström", "中文", "日本語のテキ", "한국어",
        "😀😁 grin", "👍🏽", "0123456789", "3.14159 2.71828", "int main(void) { return 0; }",
        "for (i = 0; i < n; i++) x[i] += y[i];", "def f(x):\n    return x * 2\n", '{"a": [1, 2, 3]}',
        "<s> is not parsed", "</s>", "<0x41>", "Γεια", "При", "مرحبا", "tab\tand  two  spaces",
        "end with newline\n", "\u00a0nbsp", "mixed 中 ascii 😀 text", "o", "ll", "lllll", "worldworld",
        "the the the", "   ", "a  b   c    d", "the\u3000ideographic space"]
texts = list(base)
for i, a in enumerate(base):
    texts.append(a + base[(i * 7 + 3) % len(base)])
    texts.append(base[(i * 5 + 1) % len(base)] + " " + a)
json.dump(texts, open(sys.argv[1], "w"))
print("tokenize.sh: %d texts" % len(texts), file=sys.stderr)
PY

fail=0
for model in "$W/test-vocab.gguf" ${MW_TOKENIZE_MODELS:-}; do
    node "$here/tokenize.mjs" "$model" "$W/texts.json" > "$W/llama.json"
    rc=$?
    [ "$rc" = 77 ] && skip "node-llama-cpp unavailable"
    [ "$rc" = 0 ] || { echo "tokenize.sh: tokenize.mjs failed on $model (exit $rc)" >&2; exit 1; }
    python3 - "$MW" "$model" "$W/texts.json" "$W/llama.json" <<'PY' || fail=1
import json, subprocess, sys
mw, model, texts, ref = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
same = 0
for text, want in zip(texts, ref):
    p = subprocess.run([mw, "tokenize", "--no-bos", "--json", model, text], capture_output=True, text=True)
    got = json.loads(p.stdout) if p.returncode == 0 else "exit %d: %s" % (p.returncode, p.stderr.strip())
    if got == want:
        same += 1
    else:
        print("DIFF %r: llama.cpp %s, memwall %s" % (text, want, got))
print("%s: %d of %d texts tokenized identically" % (model.rsplit("/", 1)[-1], same, len(texts)))
sys.exit(0 if same == len(texts) else 1)
PY
done
exit $fail
