#!/usr/bin/env bash
# memwall's sparse tensor types (issue #14, docs/SPARSE.md), end to end:
# tiny llama models pruned by mw-gen-gguf (--prune 0.5 / 2:4), stored dense
# with the zeros and in the sparse types (--sparse), for F32, F16 and Q8_0:
# inspect and plan count the sparse tensors' real bytes; memwall run on the
# sparse file gives the dense file's logits (to rounding; Q8: each 64-block
# has one scale instead of Q8_0's two, so a looser bound). Then hostile
# files: a truncated sparse tensor, no keep key, a bad key, a mask that
# keeps the wrong count: each a clear error, exit 1.
. "$(dirname "$0")/lib.sh"
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$MW_GEN_GGUF" ] || fail "no mw-gen-gguf at $MW_GEN_GGUF (build the tests)"
SHAPE="--layers 2 --embd 128 --heads 4 --kv-heads 2 --ff 256 --vocab 384 --ctx 64"

# max |a - b| of two files of f32 logits, and max |a|
maxdiff() {
  paste <(od -An -v -f -w4 "$1") <(od -An -v -f -w4 "$2") |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; a = $1 < 0 ? -$1 : $1; if (a > s) s = a; n++ }
         END { if (n == 0) print "none"; else printf "%.9g %.9g %d\n", m, s, n }'
}

for d in f32 f16 q8_0; do
  for p in 0.5 2:4; do
    n=$d-${p/:/x}
    expect_exit 0 "$MW_GEN_GGUF" $SHAPE --dtype $d --prune $p "$T/$n-dense.gguf"
    expect_exit 0 "$MW_GEN_GGUF" $SHAPE --dtype $d --prune $p --sparse "$T/$n-sparse.gguf"
    for v in dense sparse; do
      expect_exit 0 "$MW" run "$T/$n-$v.gguf" --tokens 1,5,9,77,300,12 --gen 4 --threads 2 \
        --logits "$T/$n-$v.logits"
    done
    read -r diff amax count < <(maxdiff "$T/$n-dense.logits" "$T/$n-sparse.logits")
    [ "$count" = 384 ] || fail "$n: $count logits, expected 384"
    tol=0.0001; [ $d = q8_0 ] && tol=0.02
    awk -v d="$diff" -v t="$tol" -v a="$amax" 'BEGIN { exit !(d <= t && a > 0.1) }' ||
      fail "$n: sparse logits differ from dense by $diff (tolerance $tol, largest logit $amax)"
    echo "  $n: max |dense - sparse| logit $diff (largest $amax)"
  done
done
ok "memwall run: sparse files give their dense twins' logits (F32/F16/Q8, 0.5 and 2:4)"

# real bytes: F16_SU at 0.5, k=128: rows of 2*8 + 64*2 = 144 bytes; k=256 (ffn_down): 4*8 + 128*2 = 288.
# token_embd F16 98304 + 5 norms 2560 + 2 layers x (q 128x144 + k,v 64x144 + o 128x144 + gate,up 256x144
# + down 128x288 = 165888) = 432640
expect_exit 0 "$MW" inspect "$T/f16-0.5-sparse.gguf" --json
cp "$T/stdout" "$T/inspect.json"
expect_json "$T/inspect.json" weights_bytes 432640
expect_exit 0 "$MW" inspect "$T/f16-0.5-sparse.gguf"
expect_contains "$T/stdout" "F16_SU"
expect_exit 0 "$MW" plan "$T/f16-0.5-sparse.gguf" --json
cp "$T/stdout" "$T/plan.json"
expect_json "$T/plan.json" weights_bytes 432640
# Q8_S24: blocks of 64 inputs in 42 bytes: k=128 rows 84 B, k=256 rows 168 B
# token_embd Q8_0 384x128: 384*4*34 = 52224; 2 x (128*84*2 + 64*84*2 + 256*84*2 + 128*168) = 193536
expect_exit 0 "$MW" inspect "$T/q8_0-2x4-sparse.gguf" --json
cp "$T/stdout" "$T/inspect24.json"
expect_json "$T/inspect24.json" weights_bytes $((52224 + 2560 + 193536))
ok "inspect and plan count the sparse tensors' real bytes"

# ---- hostile files ------------------------------------------------------------
S=$T/f16-0.5-sparse.gguf
expect_exit 0 "$MW" inspect "$S"
off=$(awk '$1 == "blk.0.attn_q.weight" { print $NF }' "$T/stdout") # the table's file offset
case $off in ''|*[!0-9]*) fail "no offset for blk.0.attn_q.weight in inspect's table: '$off'" ;; esac

# truncated in the last sparse tensor
size=$(stat -c %s "$S")
head -c $((size - 1000)) "$S" > "$T/trunc.gguf"
expect_exit 1 "$MW" inspect "$T/trunc.gguf"
expect_contains "$T/stderr" "runs past the end of the file"
# no keep key (renamed), and a key of the wrong type / out of range
LC_ALL=C sed 's/memwall\.sparse\.keep_q16/memwall.sparse.keep_x16/' "$S" > "$T/nokey.gguf"
expect_exit 1 "$MW" inspect "$T/nokey.gguf"
expect_contains "$T/stderr" "no memwall.sparse.keep_q16 key"
expect_contains "$T/stderr" "F16_SU"
expect_exit 1 "$MW" run "$T/nokey.gguf" --tokens 1,2 --gen 1
expect_contains "$T/stderr" "memwall.sparse.keep_q16"
koff=$(grep -abo 'memwall\.sparse\.keep_q16' "$S" | head -n 1 | cut -d: -f1)
[ -n "$koff" ] || fail "no keep key in $S"
cp "$S" "$T/zerokey.gguf"
# the value follows the key (23 bytes) and its u32 type: 4 bytes of 0
printf '\0\0\0\0' | dd of="$T/zerokey.gguf" bs=1 seek=$((koff + 23 + 4)) conv=notrunc 2> /dev/null
expect_exit 1 "$MW" inspect "$T/zerokey.gguf"
expect_contains "$T/stderr" "must be a u32 in 1..65536"
# a mask that keeps 64 values in the first block of attn_q's row 0: the sums no longer match
cp "$S" "$T/badmask.gguf"
printf '\377\377\377\377\377\377\377\377' | dd of="$T/badmask.gguf" bs=1 seek="$off" conv=notrunc 2> /dev/null
expect_exit 0 "$MW" inspect "$T/badmask.gguf" # sizes are still right
expect_exit 1 "$MW" run "$T/badmask.gguf" --tokens 1,2 --gen 1
expect_contains "$T/stderr" "blk.0.attn_q.weight"
expect_contains "$T/stderr" "row 0"
ok "hostile sparse files: truncated, no key, bad key, bad mask: clear errors, exit 1"
