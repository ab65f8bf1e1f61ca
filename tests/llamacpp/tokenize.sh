#!/usr/bin/env bash
# tokenize.sh - does `memwall tokenize` give llama.cpp's token ids?
#
#   tests/llamacpp/tokenize.sh
#
# Writes GGUF files with the test vocabularies of mw-gen-gguf: the
# SentencePiece-style --test-vocab and the byte-level BPE --test-vocab-bpe
# PRE for PRE = default, gpt-2, llama3 and qwen2 (merges learned at
# generation time; control and user-defined tokens in both), plus, when
# given, the vocabularies of the GGUF files in MW_TOKENIZE_MODELS
# (space-separated). Then tokenizes every text of corpus.json (250+:
# ASCII, accents, CJK, emoji with ZWJ sequences, digits of many lengths,
# code, runs of spaces, tabs and newlines, contractions, the empty text,
# special tokens written in the text) with llama.cpp (tokenize.mjs,
# node-llama-cpp 3.21.1, no BOS) and with `memwall tokenize --no-bos
# --json`, both without and with special-token parsing (--special), and
# compares the ids text by text. It also decodes llama.cpp's ids with
# `memwall tokenize --decode` and compares the text with llama.cpp's
# detokenization, and counts the texts memwall gives back exactly
# (decode(encode(text)) == text).
#
# Exit status: 0 all identical; 1 a difference or a failure; 77 node/npm,
# node-llama-cpp or the build unavailable. MW_MEMWALL, MW_GEN_GGUF,
# MW_LLAMACPP_DIR as for check.sh; MW_TOKENIZE_CORPUS another JSON array of
# texts instead of corpus.json; MW_TOKENIZE_RANDOM=N instead N random texts
# (fixed seed: letters, digits, marks, emoji, ZWJ, spaces of all kinds,
# apostrophes and contraction letters, punctuation, special tokens).
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
shape="--layers 1 --embd 32 --heads 1 --kv-heads 1 --ff 64 --ctx 256 --dtype f32"
# shellcheck disable=SC2086
"$GEN" $shape --vocab 512 --test-vocab "$W/spm.gguf" || { echo "tokenize.sh: mw-gen-gguf failed" >&2; exit 1; }
models="$W/spm.gguf"
for pre in default gpt-2 llama3 qwen2; do
    # shellcheck disable=SC2086
    "$GEN" $shape --vocab 1024 --test-vocab-bpe "$pre" "$W/bpe-$pre.gguf" ||
        { echo "tokenize.sh: mw-gen-gguf --test-vocab-bpe $pre failed" >&2; exit 1; }
    models="$models $W/bpe-$pre.gguf"
done

corpus=${MW_TOKENIZE_CORPUS:-$here/corpus.json}
if [ -n "${MW_TOKENIZE_RANDOM:-}" ]; then
    corpus=$W/random.json
    python3 - "$MW_TOKENIZE_RANDOM" "$corpus" <<'PY' || exit 1
import json, random, sys
random.seed(7)
pool = list("abcXYZ \u00e9\u00c5\u4e2d\u6587\u65e5\u672c\U0001f600\U0001f44d\U0001f3fd\u200d0123456789\u0663\u00bd"
            " \t\n\r  '\"'sStTrReEvVmMlLdD.,;:!?()[]{}<>$+=^~|`@#%&*-_/\\\u00a0\u3000\u0085\u0301\u00df\u0130"
            "\u01c5\u216b\u2028\x01") + ["<|im", "<|im_start|>", "<mw_user>", "<|endoftext|>", "<|mw_ctl|>", "<s>"]
texts = ["".join(random.choice(pool) for _ in range(random.randint(1, 25))) for _ in range(int(sys.argv[1]))]
json.dump(texts, open(sys.argv[2], "w"))
PY
fi
fail=0
for model in $models ${MW_TOKENIZE_MODELS:-}; do
    node "$here/tokenize.mjs" "$model" "$corpus" > "$W/llama.json"
    rc=$?
    [ "$rc" = 77 ] && skip "node-llama-cpp unavailable"
    [ "$rc" = 0 ] || { echo "tokenize.sh: tokenize.mjs failed on $model (exit $rc)" >&2; exit 1; }
    python3 - "$MW" "$model" "$corpus" "$W/llama.json" <<'PY' || fail=1
import json, subprocess, sys
mw, model, texts, ref = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
name = model.rsplit("/", 1)[-1]

def shown(s):
    # what `memwall tokenize --decode` prints: controls other than \n and \t
    # as '?', one per byte
    return "".join(c if c in "\n\t" or not (ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0)
                   else "?" * len(c.encode()) for c in s)

# llama.cpp's detokenizer "cleans spaces" for most BPE pre-tokenizers (not
# for qwen2, nor for SentencePiece): " ?", " !", " .", " ," lose the space,
# " ' " both, " 's", " 'm", " 're", " 've" the one in front. memwall gives
# the exact bytes back; this applies llama.cpp's rule to memwall's text, to
# show that it is the only difference.
def clean_spaces(t):
    o = t[:1]
    for x in t[1:]:
        if o.endswith(" ") and x in "?!.,":
            o = o[:-1]
        o += x
    t, i = o, 1
    o = t[:1]
    while i < len(t):
        if t[i] == "'" and i + 1 < len(t) and t[i - 1] == " " and t[i + 1] == " ":
            o = o[:-1] + "'"
            i += 2
            continue
        o += t[i]
        i += 1
    t, o = o, o[:1]
    for i in range(1, len(t)):
        if t[i - 1] == " " and t[i] == "'" and i + 1 < len(t):
            if t[i + 1] in "sm" or (i + 2 < len(t) and t[i + 1:i + 3] in ("re", "ve")):
                o = o[:-1]
        o += t[i]
    return o

def encode(text, special):
    args = [mw, "tokenize", "--no-bos", "--json"] + (["--special"] if special else []) + ["--", model, text]
    p = subprocess.run(args, capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else "exit %d: %s" % (p.returncode, p.stderr.strip())

def decode(ids):
    if not ids:
        return ""
    p = subprocess.run([mw, "tokenize", "--decode", ",".join(map(str, ids)), model], capture_output=True)
    return p.stdout.decode("utf-8", "replace")[:-1] if p.returncode == 0 else "exit %d" % p.returncode

ok = True
for mode, key in (("plain", "plain"), ("--special", "special")):
    same = 0
    for text, want in zip(texts, ref[key]):
        got = encode(text, key == "special")
        if got == want:
            same += 1
        else:
            print("DIFF %s %s %r: llama.cpp %s, memwall %s" % (name, mode, text, want, got))
    print("%s %s: %d/%d texts tokenized identically" % (name, mode, same, len(texts)))
    ok = ok and same == len(texts)
same = cleaned = back = 0
for text, ids, want in zip(texts, ref["plain"], ref["decoded"]):
    got = decode(ids)
    if got == shown(want):
        same += 1
    elif not name.startswith("spm") and clean_spaces(got) == shown(want):
        cleaned += 1
    else:
        print("DIFF %s decode %s: llama.cpp %r, memwall %r" % (name, ids, want, got))
    back += got == shown(text)
print("%s decode: %d/%d id lists decoded identically, %d more once llama.cpp's clean_spaces is applied; "
      "%d/%d texts given back exactly" % (name, same, len(texts), cleaned, back, len(texts)))
ok = ok and same + cleaned == len(texts)
sys.exit(0 if ok else 1)
PY
done
exit $fail
