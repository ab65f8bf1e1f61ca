#!/usr/bin/env bash
# perplexity.sh - is `memwall eval`'s perplexity llama.cpp's?
#
#   tests/llamacpp/perplexity.sh                      # the test models of tests/ref/make_models.py
#   tests/llamacpp/perplexity.sh MODEL.gguf TEXT CTX  # a model and its text (repeatable: M T C M T C)
#
# For each model, the text is tokenized once by `memwall tokenize --json`;
# the same ids then go through llama.cpp (perplexity.mjs: node-llama-cpp
# 3.21.1, the chunks of llama.cpp's perplexity tool, flash attention off)
# and, when /usr/bin/python3 has torch, through tests/ref/eval_ref.py
# (float64); memwall eval runs the same text. The perplexities are printed
# side by side, for each KV cache type in MW_KV (default "f32 f16"), and the
# script fails when memwall's differs from llama.cpp's by more than MW_TOL
# (relative, default 0.001).
#
# Exit status: 0 within the tolerance; 1 a difference or a failure; 77
# node/npm, node-llama-cpp or the build unavailable. MW_MEMWALL,
# MW_LLAMACPP_DIR as for check.sh; MW_CHUNKS limits the chunks (0: all);
# MW_STRIDE=S compares sliding windows (memwall eval --stride, llama.cpp's
# --ppl-stride) instead of the default chunks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
skip() { echo "perplexity.sh: SKIP: $*" >&2; exit 77; }
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
MW=${MW_MEMWALL:-$root/build/memwall}
[ -x "$MW" ] || skip "no memwall at $MW (build first)"
PY=/usr/bin/python3
KVS=${MW_KV:-f32 f16}
TOL=${MW_TOL:-0.001}
CHUNKS=${MW_CHUNKS:-0}
STRIDE=${MW_STRIDE:-0}
. "$here/install.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/mw-perplexity.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

have_torch=0
"$PY" -c 'import torch, numpy' > /dev/null 2>&1 && have_torch=1

jobs=()   # MODEL TEXT CTX triples
if [ $# -gt 0 ]; then
  [ $(($# % 3)) = 0 ] || { echo "usage: perplexity.sh [MODEL.gguf TEXT CTX]..." >&2; exit 2; }
  jobs=("$@")
else
  "$PY" "$root/tests/ref/make_models.py" "$W/models" > /dev/null ||
    skip "tests/ref/make_models.py failed (it needs numpy for $PY)"
  words="memory wall model the of tree hello world eval perplexity chunk token"
  awk -v w="$words" 'BEGIN { n = split(w, a, " "); s = 1; for (i = 0; i < 300; i++) {
      s = (s * 1103515245 + 12345) % 2147483648; printf "%s%s", (i ? " " : ""), a[1 + int(s / 65536) % n] } }' \
    > "$W/text.txt"
  for f in "$W"/models/*.gguf; do jobs+=("$f" "$W/text.txt" 128); done
fi

get() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
fails=0
printf '%-34s %-4s %6s %6s  %-14s %-14s %-14s %s\n' model kv ctx tokens memwall llama.cpp pytorch "rel. diff (llama.cpp)"
for ((i = 0; i < ${#jobs[@]}; i += 3)); do
  model=${jobs[i]} text=${jobs[i + 1]} ctx=${jobs[i + 2]}
  # the text as memwall tokenizes it, read byte for byte (no shell
  # substitution, which drops trailing newlines); a text too long for one
  # argument (128 KiB) is tokenized by llama.cpp instead (perplexity.mjs
  # --text), and memwall's count of the text's tokens must then be its
  if [ "$(wc -c < "$text")" -gt 100000 ]; then
    node "$here/perplexity.mjs" "$model" --text "$text" --ids-out "$W/ids.json" --ctx "$ctx" --chunks 1 \
      > /dev/null 2> "$W/lc.err" || { cat "$W/lc.err" >&2; fails=$((fails + 1)); continue; }
    echo "($(basename "$text"): $(wc -c < "$text") bytes, tokenized by llama.cpp)"
  else
    "$PY" -c 'import subprocess,sys; t=open(sys.argv[3],"rb").read().decode("utf-8")
r=subprocess.run([sys.argv[1],"tokenize","--json",sys.argv[2],t],capture_output=True,text=True)
sys.stderr.write(r.stderr); sys.stdout.write(r.stdout); sys.exit(r.returncode)' "$MW" "$model" "$text" \
      > "$W/ids.json" || { echo "perplexity.sh: memwall tokenize failed on $model" >&2; fails=$((fails + 1)); continue; }
  fi
  n_ids=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$W/ids.json")
  ref=-
  if [ "$have_torch" = 1 ]; then
    "$PY" "$root/tests/ref/eval_ref.py" "$model" --ids "$W/ids.json" --ctx "$ctx" --chunks "$CHUNKS" --stride "$STRIDE" \
      > "$W/ref.json" 2> "$W/ref.err" && ref=$(get "$W/ref.json" perplexity)
  fi
  for kv in $KVS; do
    "$MW" eval "$model" --text-file "$text" --ctx "$ctx" --kv-dtype "$kv" --threads 1 --json \
      $( [ "$CHUNKS" != 0 ] && echo --chunks "$CHUNKS" ) $( [ "$STRIDE" != 0 ] && echo --stride "$STRIDE" ) \
      > "$W/mw.json" 2> "$W/mw.err" ||
      { cat "$W/mw.err" >&2; fails=$((fails + 1)); continue; }
    node "$here/perplexity.mjs" "$model" --ids "$W/ids.json" --ctx "$ctx" --chunks "$CHUNKS" --stride "$STRIDE" --kv "$kv" \
      --threads 1 > "$W/lc.json" 2> "$W/lc.err"
    rc=$?
    [ "$rc" = 77 ] && skip "$(cat "$W/lc.err")"
    [ "$rc" = 0 ] || { cat "$W/lc.err" >&2; fails=$((fails + 1)); continue; }
    [ "$(get "$W/mw.json" file_tokens)" = "$n_ids" ] ||
      { echo "perplexity.sh: $model: memwall makes $(get "$W/mw.json" file_tokens) tokens of the text, the ids hold $n_ids" >&2
        fails=$((fails + 1)); }
    a=$(get "$W/mw.json" perplexity) b=$(get "$W/lc.json" perplexity)
    n=$(get "$W/mw.json" tokens) nb=$(get "$W/lc.json" tokens)
    [ "$n" = "$nb" ] || { echo "perplexity.sh: $model: $n scored tokens in memwall, $nb in llama.cpp" >&2; fails=$((fails + 1)); }
    rel=$(awk -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; printf "%.3g", d }')
    bad=$(awk -v r="$rel" -v t="$TOL" 'BEGIN { print (r > t) ? 1 : 0 }')
    printf '%-34s %-4s %6s %6s  %-14.6f %-14.6f %-14s %s%s\n' "$(basename "$model")" "$kv" "$ctx" "$n" "$a" "$b" \
      "$( [ "$ref" = - ] && echo - || printf '%.6f' "$ref")" "$rel" "$( [ "$bad" = 1 ] && echo "  > $TOL")"
    fails=$((fails + bad))
  done
done
[ "$fails" = 0 ] || { echo "perplexity.sh: $fails difference(s) or failure(s)" >&2; exit 1; }
echo "perplexity.sh: memwall eval's perplexity is llama.cpp's within $TOL on every model"
