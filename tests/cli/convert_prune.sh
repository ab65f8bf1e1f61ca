#!/usr/bin/env bash
# memwall convert --prune / --prune-score / --calib / --densify (issue #14,
# docs/REMEDIES.md, docs/SPARSE.md) on the trained model (models/tiny.gguf):
# - --prune 0.5 and 2:4, values F32, F16 and Q8_0: the blocks' 28 linear
#   weights are stored in the sparse types, embedding and norms are not;
#   inspect and plan count the file's real bytes; the file says it is
#   memwall's own; run gives the logits of the same pruning written dense
#   (--densify), and eval against F32 says the pruning cost something but
#   not everything;
# - Wanda (--calib) keeps other weights than magnitude;
# - --densify alone turns a sparse file back into a dense one (no memwall
#   keys left) that runs the same;
# - bad input: ratios, wanda without text, sparse with a type it cannot
#   hold, rows that are not groups of 64, a sparse input without --densify,
#   calibration of a safetensors folder; IN is never modified.
. "$(dirname "$0")/lib.sh"
TINY="$MW_SOURCE_DIR/models/tiny.gguf"
TEXT="$MW_SOURCE_DIR/models/tiny.heldout.txt"
# calibration text: the start of a license (short: the ASan build runs it too)
CALIB=$T/calib.txt
if [ -r /usr/share/common-licenses/GPL-3 ]; then head -c 6000 /usr/share/common-licenses/GPL-3 > "$CALIB"
else head -c 6000 "$TEXT" > "$CALIB"; fi
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
PY=/usr/bin/python3
sum_before=$(cksum < "$TINY")

# max |a - b| of two files of f32 logits, and max |a|
maxdiff() {
  paste <(od -An -v -f -w4 "$1") <(od -An -v -f -w4 "$2") |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; a = $1 < 0 ? -$1 : $1; if (a > s) s = a; n++ }
         END { if (n == 0) print "none"; else printf "%.9g %.9g %d\n", m, s, n }'
}
run_logits() { # FILE OUT
  expect_exit 0 "$MW" run "$1" --tokens 1,5,9,77,300,12 --gen 4 --threads 2 --logits "$2"
}

# ---- pruned and stored sparse ------------------------------------------------------
for d in f32 f16 q8_0; do
  for p in 0.5 2:4; do
    n=$d-${p/:/x}
    expect_exit 0 "$MW" convert "$TINY" "$T/$n.gguf" --dtype $d --prune $p --json
    cp "$T/stdout" "$T/$n.json"
    expect_json "$T/$n.json" .pruned 28
    expect_json "$T/$n.json" .sparse 28
    case $d$p in
      f320.5) st=F32_SU ;; f322:4) st=F32_S24 ;; f160.5) st=F16_SU ;; f162:4) st=F16_S24 ;;
      q8_00.5) st=Q8_SU ;; q8_02:4) st=Q8_S24 ;;
    esac
    expect_json "$T/$n.json" ".by_type.$st.tensors" 28
    # the real bytes, as the reader and the planner count them
    want=$(json_get "$T/$n.json" .bytes_out) || exit
    expect_exit 0 "$MW" inspect "$T/$n.gguf" --json
    expect_json "$T/stdout" .weights_bytes "$want"
    if [ $p = 0.5 ]; then # the planner reads the same sizes (once a type is enough)
      expect_exit 0 "$MW" plan "$T/$n.gguf" --json
      expect_json "$T/stdout" .weights_bytes "$want"
    fi
    # the same pruning written dense runs the same
    expect_exit 0 "$MW" convert "$TINY" "$T/$n-dense.gguf" --dtype $d --prune $p --densify --json
    expect_json "$T/stdout" .sparse 0
    run_logits "$T/$n.gguf" "$T/$n.logits"
    run_logits "$T/$n-dense.gguf" "$T/$n-dense.logits"
    read -r diff amax count < <(maxdiff "$T/$n.logits" "$T/$n-dense.logits")
    [ "$count" = 3072 ] || fail "$n: $count logits, expected 3072"
    # Q8: the sparse blocks of 64 have one scale, Q8_0's blocks of 32 two
    tol=0.0005; [ $d = f16 ] && tol=0.002; [ $d = q8_0 ] && tol=0.1
    awk -v d="$diff" -v t="$tol" -v a="$amax" 'BEGIN { exit !(d <= t && a > 1) }' ||
      fail "$n: sparse logits differ from the dense pruning's by $diff (tolerance $tol, largest $amax)"
  done
done
# sizes: F32_SU at 0.5 (k = 192: 3 masks + 96 values = 408 B a row) is
# less than the F32 original's 768 B a row; Q8_S24 42 B a block of 64
expect_json "$T/f32-0.5.json" .by_type.F32_SU.bytes $(( 4 * (192 * 408 + 64 * 408 * 2 + 192 * 408 + 512 * 408 * 2 + 192 * (8 * 8 + 256 * 4)) ))
expect_json "$T/q8_0-2x4.json" .by_type.Q8_S24.bytes $(( 4 * 42 * (192 * 3 + 64 * 3 * 2 + 192 * 3 + 512 * 3 * 2 + 192 * 8) ))
ok "--prune 0.5 / 2:4 with F32, F16, Q8_0 values: sparse types, real bytes in inspect and plan, dense twins' logits"

# the file says what it is
grep -a -q "memwall-only GGUF" "$T/f32-0.5.gguf" || fail "no memwall-only description in the pruned file"
grep -a -q "memwall.sparse.keep_q16" "$T/f32-0.5.gguf" || fail "no keep key in the F32_SU file"
grep -a -q "memwall.prune.score" "$T/f32-0.5.gguf" || fail "no memwall.prune.score in the pruned file"
ok "a pruned file carries its description and keys"

# quality: pruning costs something, but the model still mostly agrees
expect_exit 0 "$MW" eval "$T/f32-0.5.gguf" --ref "$TINY" --text-file "$TEXT" --chunks 4 --threads 2 --json
cp "$T/stdout" "$T/eval-mag.json"
kl=$(json_get "$T/eval-mag.json" .kl_mean) || exit
top1=$(json_get "$T/eval-mag.json" .top1_agreement) || exit
awk -v k="$kl" -v t="$top1" 'BEGIN { exit !(k > 0.001 && k < 1 && t > 0.5 && t < 1) }' ||
  fail "pruned 0.5: KL $kl, top-1 $top1 (expected a cost, not a broken model)"
ok "eval: 50% magnitude pruning costs KL $kl, top-1 agreement $top1"

# ---- Wanda ---------------------------------------------------------------------------
expect_exit 0 "$MW" convert "$TINY" "$T/wanda.gguf" --dtype f32 --prune 0.5 --prune-score wanda --calib "$CALIB" --json
expect_json "$T/stdout" .pruned 28
cmp -s "$T/wanda.gguf" "$T/f32-0.5.gguf" && fail "Wanda kept the same weights as magnitude"
grep -a -q wanda "$T/wanda.gguf" || fail "memwall.prune.score is not wanda"
expect_exit 0 "$MW" eval "$T/wanda.gguf" --ref "$TINY" --text-file "$TEXT" --chunks 4 --threads 2 --json
top1=$(json_get "$T/stdout" .top1_agreement) || exit
awk -v t="$top1" 'BEGIN { exit !(t > 0.5) }' || fail "Wanda 0.5: top-1 agreement $top1"
ok "Wanda (--calib) keeps other weights than magnitude; top-1 agreement $top1"

# ---- --densify alone ---------------------------------------------------------------------
expect_exit 0 "$MW" convert "$T/q8_0-0.5.gguf" "$T/back.gguf" --densify --json
expect_json "$T/stdout" .densified 28
expect_json "$T/stdout" .by_type.Q8_0.tensors 29
expect_json "$T/stdout" .dtype "as input"
grep -a -q -e "memwall.sparse" -e "memwall.prune" -e "memwall-only" "$T/back.gguf" &&
  fail "the densified file kept memwall's sparse keys"
grep -a -q "memwall.train.script" "$T/back.gguf" || fail "the densified file lost tiny's own keys"
grep -a -q "general.file_type" "$T/back.gguf" || fail "the densified file lost its general.file_type"
expect_exit 0 "$MW" convert "$T/f32-2x4.gguf" "$T/back24.gguf" --densify
run_logits "$T/back24.gguf" "$T/back24.logits"
read -r diff amax count < <(maxdiff "$T/f32-2x4.logits" "$T/back24.logits")
awk -v d="$diff" 'BEGIN { exit !(d <= 0.0005) }' || fail "densified F32_S24 logits differ by $diff"
# a sparse input converted to another type goes dense too when asked
expect_exit 0 "$MW" convert "$T/f16-0.5.gguf" "$T/back-q8.gguf" --densify --dtype q8_0 --json
expect_json "$T/stdout" .by_type.Q8_0.tensors 29
ok "--densify: a sparse file back to a dense GGUF, memwall's keys gone, same logits"

# ---- Q8_SUK (issue #14): rows of a multiple of 256 inputs ---------------------------
# tiny's rows of 192 kept Q8_SU above, with a warning; a model whose every
# pruned row is a multiple of 256 gets Q8_SUK (a scale per 256, x in Q8_K)
expect_exit 0 "$MW" convert "$TINY" "$T/x8.gguf" --dtype q8_0 --prune 0.5
expect_contains "$T/stderr" "written as Q8_SU, not the faster Q8_SUK"
expect_exit 0 "$MW_GEN_GGUF" --layers 2 --embd 256 --heads 4 --kv-heads 2 --ff 512 --vocab 384 --ctx 64 \
  --dtype f32 "$T/k256.gguf"
expect_exit 0 "$MW" convert "$T/k256.gguf" "$T/suk.gguf" --dtype q8_0 --prune 0.5 --json
cp "$T/stdout" "$T/suk.json"
expect_json "$T/suk.json" .sparse 14
expect_json "$T/suk.json" .by_type.Q8_SUK.tensors 14
# rows: k = 256 keeps 128 (4 masks, 1 f32 scale: 32 + 4 + 128 = 164 B), k = 512
# (ffn_down) keeps 256 (8 masks, 2 scales: 64 + 8 + 256 = 328 B); per layer q, o
# 256 rows, k, v 128, gate, up 512 of k = 256, down 256 rows of k = 512
expect_json "$T/suk.json" .by_type.Q8_SUK.bytes $(( 2 * (164 * (256 * 2 + 128 * 2 + 512 * 2) + 328 * 256) ))
want=$(json_get "$T/suk.json" .bytes_out) || exit
expect_exit 0 "$MW" inspect "$T/suk.gguf" --json
expect_json "$T/stdout" .weights_bytes "$want"
expect_exit 0 "$MW" plan "$T/suk.gguf" --json
expect_json "$T/stdout" .weights_bytes "$want"
expect_exit 0 "$MW" convert "$T/k256.gguf" "$T/suk-dense.gguf" --dtype q8_0 --prune 0.5 --densify
run_logits "$T/suk.gguf" "$T/suk.logits"
run_logits "$T/suk-dense.gguf" "$T/suk-dense.logits"
read -r diff amax count < <(maxdiff "$T/suk.logits" "$T/suk-dense.logits")
[ "$count" = 384 ] || fail "Q8_SUK: $count logits, expected 384"
# one weight scale per 256 (Q8_0: per 32) and x in Q8_K: a looser bound
awk -v d="$diff" -v a="$amax" 'BEGIN { exit !(d <= 0.1 && a > 0.1) }' ||
  fail "Q8_SUK logits differ from the dense pruning's by $diff (largest $amax)"
# both spreads (vpexpandb, vpermb) and the prefill (m > 1) give the same run
MEMWALL_SPARSE_SPREAD=vpermb run_logits "$T/suk.gguf" "$T/suk-vpermb.logits"
read -r diff2 amax count < <(maxdiff "$T/suk.logits" "$T/suk-vpermb.logits")
awk -v d="$diff2" 'BEGIN { exit !(d <= 1e-5) }' || fail "Q8_SUK: vpermb and vpexpandb logits differ by $diff2"
# densified again: Q8_0, the same pruned weights (one scale per 32 now)
expect_exit 0 "$MW" convert "$T/suk.gguf" "$T/suk-back.gguf" --densify --json
expect_json "$T/stdout" .by_type.Q8_0.tensors 15
# hostile: a Q8_SUK tensor with rows of 192 (tiny's Q8_SU ids patched to
# 4102), and a mask keeping the wrong count
"$PY" - "$T/x8.gguf" "$T/bad192.gguf" 4098 4102 <<'PYEOF' || fail "could not patch the type ids"
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
old, new = (struct.pack("<I", int(v)) for v in sys.argv[3:5])
n = 0
i = b.find(b"blk.")
while True:
    i = b.find(b"blk.", i)
    if i < 0 or i > 200000:
        break
    ln = struct.unpack_from("<Q", b, i - 8)[0]
    nd = struct.unpack_from("<I", b, i + ln)[0]
    at = i + ln + 4 + 8 * nd
    if 1 <= nd <= 4 and b[at:at + 4] == old:
        b[at:at + 4] = new
        n += 1
    i += ln
open(sys.argv[2], "wb").write(bytes(b))
sys.exit(0 if n else 1)
PYEOF
expect_exit 1 "$MW" inspect "$T/bad192.gguf"
expect_contains "$T/stderr" "Q8_SUK blocks"
# a keep key of everything: the Q8_SUK tensors no longer fit the file
cp "$T/suk.gguf" "$T/bigkeep-suk.gguf"
koff=$(grep -abo 'memwall\.sparse\.keep_q16' "$T/suk.gguf" | head -n 1 | cut -d: -f1)
[ -n "$koff" ] || fail "no keep key in the Q8_SUK file"
printf '\0\0\1\0' | dd of="$T/bigkeep-suk.gguf" bs=1 seek=$((koff + 23 + 4)) conv=notrunc 2> /dev/null
expect_exit 1 "$MW" inspect "$T/bigkeep-suk.gguf"
expect_contains "$T/stderr" "runs past the end of the file"
cp "$T/suk.gguf" "$T/badmask-suk.gguf"
expect_exit 0 "$MW" inspect "$T/suk.gguf"
off=$(awk '$1 == "blk.1.ffn_down.weight" { print $NF }' "$T/stdout")
case $off in ''|*[!0-9]*) fail "no offset for blk.1.ffn_down.weight: '$off'" ;; esac
printf '\377\377\377\377\377\377\377\377' | dd of="$T/badmask-suk.gguf" bs=1 seek="$off" conv=notrunc 2> /dev/null
expect_exit 1 "$MW" run "$T/badmask-suk.gguf" --tokens 1,2 --gen 1
expect_contains "$T/stderr" "blk.1.ffn_down.weight"
expect_contains "$T/stderr" "row 0: its masks keep 289 values"
ok "Q8_SUK: written when every pruned row is a multiple of 256 (else Q8_SU, said), real bytes, dense twin's logits (diff $diff), refused when hostile (rows of 192, sizes, masks)"

# ---- bad input ---------------------------------------------------------------------------
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 0
expect_contains "$T/stderr" "between 0 and 1"
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 1.5
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 2:3
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 0.5 --prune-score wanda
expect_contains "$T/stderr" "--calib FILE"
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune 0.5 --calib "$CALIB"
expect_contains "$T/stderr" "--prune-score wanda"
expect_exit 2 "$MW" convert "$TINY" "$T/x.gguf" --prune-score magnitude
expect_exit 1 "$MW" convert "$TINY" "$T/x.gguf" --dtype q4_0 --prune 0.5
expect_contains "$T/stderr" "F32, F16 or Q8_0 values"
expect_contains "$T/stderr" "--densify"
expect_exit 1 "$MW" convert "$T/f32-0.5.gguf" "$T/x.gguf" --dtype f16
expect_contains "$T/stderr" "add --densify"
# rows of 96: not whole groups of 64
expect_exit 0 "$MW_GEN_GGUF" --layers 1 --embd 96 --heads 3 --kv-heads 1 --ff 128 --vocab 300 --ctx 32 "$T/w96.gguf"
expect_exit 1 "$MW" convert "$T/w96.gguf" "$T/x.gguf" --dtype f32 --prune 0.5
expect_contains "$T/stderr" "not whole blocks of 64"
expect_exit 0 "$MW" convert "$T/w96.gguf" "$T/w96-p.gguf" --dtype f32 --prune 0.5 --densify
# Wanda needs the engine: a safetensors folder is refused with the way out
if [ -x "$PY" ] && "$PY" "$MW_SOURCE_DIR/tests/cli/convert_export_hf.py" "$TINY" "$T/hf" 1 > /dev/null 2>&1; then
  expect_exit 1 "$MW" convert "$T/hf" "$T/x.gguf" --dtype f32 --prune 0.5 --prune-score wanda --calib "$CALIB"
  expect_contains "$T/stderr" "convert it to GGUF first"
  # magnitude pruning of the folder works
  expect_exit 0 "$MW" convert "$T/hf" "$T/hf-p.gguf" --dtype f32 --prune 0.5 --json
  expect_json "$T/stdout" .pruned 28
fi
[ ! -e "$T/x.gguf" ] || fail "a failed conversion left $T/x.gguf"
ls "$T"/x.gguf.tmp.* > /dev/null 2>&1 && fail "a failed conversion left a temporary file"
[ "$(cksum < "$TINY")" = "$sum_before" ] || fail "tiny.gguf changed"
ok "bad input: ratios, wanda without text, types sparse storage cannot hold, rows of 96, sparse input, HF + wanda; IN unchanged"

# ---- the progress bar: on a terminal only (script(1) lends one) -----------------------
if command -v script > /dev/null 2>&1; then
  MEMWALL_PROGRESS_AFTER=0 script -qec "'$MW' convert '$TINY' '$T/bar.gguf' --dtype q8_0" /dev/null > "$T/tty" 2>&1 ||
    fail "convert under script(1) failed: $(cat "$T/tty")"
  expect_contains "$T/tty" "convert: 38/38 tensors"
  MEMWALL_PROGRESS_AFTER=0 "$MW" convert "$TINY" "$T/bar2.gguf" --dtype q8_0 > /dev/null 2> "$T/notty"
  grep -q "tensors," "$T/notty" && fail "a progress bar was drawn on a file: $(cat "$T/notty")"
  ok "the progress bar is drawn on a terminal, not on a file"
else
  echo "note [convert_prune]: no script(1) here: the progress bar is not checked"
fi
