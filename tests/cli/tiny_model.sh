#!/usr/bin/env bash
# models/tiny.gguf, the small llama model trained by models/train_tiny.py:
#  * the file is there, a plain file (not a Git LFS pointer), under 10 MB,
#    F32, and memwall inspect reads it;
#  * memwall's tokenizer gives the ids of the training script's own SPM
#    encoder (models/train_tiny.py --encode, plain python3, no numpy/torch)
#    on the whole held-out text (models/tiny.heldout.txt, in pieces below
#    the kernel's limit on one argument) and on a few texts with byte
#    fallback, tabs and runs of spaces;
#  * memwall run's greedy continuation of the script's test prompt is the
#    one PyTorch produced at training time (models/tiny.train.json).
. "$(dirname "$0")/lib.sh"
M=${MW_TINY_DIR:-$MW_SOURCE_DIR/models}   # MW_TINY_DIR: another run of train_tiny.py
MODEL=$M/tiny.gguf
HELD=$M/tiny.heldout.txt
INFO=$M/tiny.train.json
SCRIPT=$MW_SOURCE_DIR/models/train_tiny.py

PY=$(command -v python3 || true)
[ -n "$PY" ] || PY=/usr/bin/python3
[ -x "$PY" ] || skip "no python3 (the tokenizer cross-check runs models/train_tiny.py --encode)"

for f in "$MODEL" "$HELD" "$INFO" "$SCRIPT"; do
  [ -f "$f" ] || fail "missing $f (models/train_tiny.py writes it)"
done
head -c 4 "$MODEL" | grep -q '^GGUF' || fail "$MODEL is not a GGUF file (a Git LFS pointer?)"
size=$(stat -c %s "$MODEL")
expect_num "tiny.gguf bytes" "$size" "<" 10485760
expect_exit 0 "$MW" inspect "$MODEL"
cp "$T/stdout" "$T/inspect.txt"
expect_contains "$T/inspect.txt" "architecture           llama"
expect_contains "$T/inspect.txt" "tied embeddings"
grep -E '^  (F16|BF16|Q)' "$T/inspect.txt" && fail "tiny.gguf holds tensors other than F32"
ok "tiny.gguf: $size bytes, F32, memwall inspect reads it"

# ---- the tokenizer: memwall against the training script's encoder ---------
# pieces of the held-out text cut at blank lines, each under 100000 bytes
# and without a trailing newline (a shell $(...) would drop it)
"$PY" - "$HELD" "$T/chunk" <<'EOF' || fail "cannot split $HELD"
import sys
text = open(sys.argv[1], encoding="utf-8").read()
paras, chunks, cur = text.split("\n\n"), [], ""
for p in paras:
    add = p if not cur else cur + "\n\n" + p
    if len(add.encode("utf-8")) > 100000 and cur:
        chunks.append(cur)
        cur = p
    else:
        cur = add
chunks.append(cur)
extra = ["The licensee may", "  two  spaces,\ttabs\tand\n\nnewlines  ",
         "accents: d\u00e9j\u00e0 vu, \u00fcber, CJK \u65e5\u672c\u8a9e, emoji \U0001F600 -- byte fallback",
         "<s> is text here; so is </s>", "-- a leading dash, \"quotes\" and \\backslash", "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"]
for i, c in enumerate(chunks + extra):
    c = c.rstrip("\n")
    if len(c.encode("utf-8")) > 120000:
        sys.exit("piece %d too long" % i)
    with open("%s.%03d" % (sys.argv[2], i), "w", encoding="utf-8") as f:
        f.write(c)

EOF
n=0
for f in "$T"/chunk.*; do
  "$MW" tokenize -- "$MODEL" "$(cat "$f")" > "$T/mw.ids" 2> "$T/mw.err" ||
    { show "memwall tokenize stderr" "$T/mw.err"; fail "memwall tokenize failed on $f"; }
  "$PY" "$SCRIPT" --model "$MODEL" --encode "$f" > "$T/py.ids" 2> "$T/py.err" ||
    { show "train_tiny.py --encode stderr" "$T/py.err"; fail "train_tiny.py --encode failed on $f"; }
  if ! cmp -s "$T/mw.ids" "$T/py.ids"; then
    show "text" "$f"
    "$PY" -c 'import sys
a, b = open(sys.argv[1]).read().split(), open(sys.argv[2]).read().split()
k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
print("first difference at id %d of %d/%d: memwall %s, script %s" % (k, len(a), len(b), a[k:k+5], b[k:k+5]))' \
      "$T/mw.ids" "$T/py.ids" >&2
    fail "memwall tokenize and train_tiny.py --encode differ on $(basename "$f")"
  fi
  n=$((n + $(wc -w < "$T/mw.ids")))
done
expect_num "held-out ids compared" "$n" ">" 40000
ok "memwall tokenize = the script's SPM encoder on the held-out text and byte-fallback texts ($n ids)"

# ---- greedy continuation: memwall against PyTorch's ids --------------------
"$PY" - "$INFO" > "$T/want.txt" <<'EOF' || fail "cannot read $INFO"
import json, sys
d = json.load(open(sys.argv[1]))
print(",".join(map(str, d["test_prompt_ids"])))
print(" ".join(map(str, d["test_greedy_ids"])))
print(len(d["test_greedy_ids"]))
EOF
prompt=$(sed -n 1p "$T/want.txt")
want=$(sed -n 2p "$T/want.txt")
gen=$(sed -n 3p "$T/want.txt")
"$MW" run "$MODEL" --tokens "$prompt" --gen "$gen" --threads 2 --kv-dtype f32 --json > "$T/run.json" 2> "$T/run.err" ||
  { show "memwall run stderr" "$T/run.err"; fail "memwall run failed on tiny.gguf"; }
got=$("$PY" -c 'import json, sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["generated"][0])))' "$T/run.json") ||
  fail "no generated ids in memwall run's JSON"
[ "$got" = "$want" ] || fail "memwall's greedy ids differ from PyTorch's:
  memwall: $got
  pytorch: $want"
ok "memwall run's greedy continuation of the test prompt = PyTorch's ($gen tokens)"
