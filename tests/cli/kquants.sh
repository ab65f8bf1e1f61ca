#!/usr/bin/env bash
# K-quant weights (Q4_K, Q5_K, Q6_K) through the engine: tiny llama models
# written by mw-gen-gguf in each type and in a Q4_K_M-like mix (token_embd
# and ffn_down Q6_K, attn_v Q8_0, the rest Q4_K, norms F32) are inspected
# and run; the weight and scratch bytes memwall measures while running equal
# the plan's, and bad shapes or truncated data are refused with clear errors.
# The numbers themselves are checked in tests/unit/test_kquants.c.
. "$(dirname "$0")/lib.sh"
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$MW_GEN_GGUF" ] || fail "no mw-gen-gguf at $MW_GEN_GGUF (build the tests)"
SHAPE="--layers 2 --embd 256 --heads 4 --kv-heads 2 --ff 512 --vocab 300 --ctx 64"

for t in q4_k q5_k q6_k q4_k_m; do
  # shellcheck disable=SC2086
  "$MW_GEN_GGUF" $SHAPE --dtype "$t" "$T/$t.gguf" || fail "mw-gen-gguf --dtype $t failed"
  expect_exit 0 "$MW" inspect --json "$T/$t.gguf"
  cp "$T/stdout" "$T/$t.inspect.json"
  expect_exit 0 "$MW" run "$T/$t.gguf" --tokens 1,2,3 --gen 4 --json
  cp "$T/stdout" "$T/$t.run.json"
  expect_json "$T/$t.run.json" .gen_tokens 4
  for k in weights_bytes scratch_bytes kv_cache_bytes; do
    got=$(json_get "$T/$t.run.json" ".measured.$k") || exit
    want=$(json_get "$T/$t.run.json" ".predicted.$k") || exit
    expect_eq "$t: measured $k against the plan's" "$got" "$want"
  done
  n=$(json_get "$T/$t.run.json" '.generated[0] | length') || exit
  expect_eq "$t: generated tokens" "$n" 4
done
ok "q4_k, q5_k, q6_k and the q4_k_m mix run; measured weights and scratch equal the plan's"

# the weight bytes are the format's: 4.5, 5.5, 6.5625 bits a weight. The
# matrices: token_embd 300x256, per layer q, o 256x256, k, v 128x256, gate,
# up 512x256, down 256x512: 76800 + 2 * 589824 = 1256448 weights (the norms:
# 5 x 256 F32 = 5120 bytes)
expect_json "$T/q4_k.run.json" .predicted.weights_bytes $((1256448 * 9 / 16 + 5120))
expect_json "$T/q5_k.run.json" .predicted.weights_bytes $((1256448 * 11 / 16 + 5120))
expect_json "$T/q6_k.run.json" .predicted.weights_bytes $((1256448 * 105 / 128 + 5120))
# the mix: embd and down in Q6_K (76800 + 2*131072), v in Q8_0 (2*32768),
# the rest Q4_K
expect_json "$T/q4_k_m.run.json" .predicted.weights_bytes \
  $(((76800 + 262144) * 105 / 128 + 65536 * 34 / 32 + (1256448 - 76800 - 262144 - 65536) * 9 / 16 + 5120))
if have_jq; then
  expect_eq "mix: token_embd type" "$(jq -r '.tensors[] | select(.name == "token_embd.weight") | .type' "$T/q4_k_m.inspect.json")" Q6_K
  expect_eq "mix: types" "$(jq -r '[.tensors[].type] | unique | join(",")' "$T/q4_k_m.inspect.json")" "F32,Q4_K,Q6_K,Q8_0"
fi
ok "weight bytes: Q4_K 4.5, Q5_K 5.5, Q6_K 6.5625 bits a weight; the mix's types"

# a K-quant needs rows of whole 256-weight blocks
expect_exit 2 "$MW_GEN_GGUF" --embd 288 --heads 4 --kv-heads 2 --ff 512 --dtype q4_k "$T/bad.gguf"
expect_contains "$T/stderr" "must be multiples of 256 for --dtype q4_k"
# truncated tensor data: refused before anything runs
size=$(stat -c %s "$T/q4_k.gguf")
head -c $((size - 100)) "$T/q4_k.gguf" > "$T/cut.gguf"
expect_exit 1 "$MW" run "$T/cut.gguf" --tokens 1,2,3 --gen 4
expect_contains "$T/stderr" "runs past the end of the file"
ok "bad shapes and truncated K-quant data refused"

# the demo model converted to a K-quant (memwall convert) runs too
expect_exit 0 "$MW" convert --demo --dtype q4_k "$T/demo-q4k.gguf"
expect_exit 0 "$MW" run "$T/demo-q4k.gguf" --tokens 1,2,3 --gen 2 --json
cp "$T/stdout" "$T/demo.run.json"
got=$(json_get "$T/demo.run.json" .measured.weights_bytes) || exit
want=$(json_get "$T/demo.run.json" .predicted.weights_bytes) || exit
expect_eq "demo q4_k: measured weights against the plan's" "$got" "$want"
ok "memwall convert --demo --dtype q4_k, then run"

# issue #14: ggml's Q4_1, Q5_0 and Q5_1 (what llama-quantize falls back to
# where rows are not a multiple of 256): the demo model converted to each
# runs, its weights and scratch as the plan says; the prepared rows of x are
# Q8_1 (36 bytes per 32) for Q4_1 / Q5_1 and Q8_0 (34) for Q5_0
for t in q4_1 q5_0 q5_1; do
  expect_exit 0 "$MW" convert --demo --dtype "$t" "$T/demo-$t.gguf"
  expect_exit 0 "$MW" run "$T/demo-$t.gguf" --tokens 1,2,3 --gen 2 --json
  cp "$T/stdout" "$T/demo-$t.run.json"
  for k in weights_bytes scratch_bytes; do
    got=$(json_get "$T/demo-$t.run.json" ".measured.$k") || exit
    want=$(json_get "$T/demo-$t.run.json" ".predicted.$k") || exit
    expect_eq "demo $t: measured $k against the plan's" "$got" "$want"
  done
  expect_json "$T/demo-$t.run.json" .gen_tokens 2
done
s41=$(json_get "$T/demo-q4_1.run.json" .measured.scratch_bytes) || exit
s50=$(json_get "$T/demo-q5_0.run.json" .measured.scratch_bytes) || exit
expect_eq "scratch: Q8_1 rows (Q4_1) against Q8_0 rows (Q5_0), 36:34" $((s41 * 34)) $((s50 * 36))
w41=$(json_get "$T/demo-q4_1.run.json" .measured.weights_bytes) || exit
w51=$(json_get "$T/demo-q5_1.run.json" .measured.weights_bytes) || exit
w50=$(json_get "$T/demo-q5_0.run.json" .measured.weights_bytes) || exit
# 20, 22, 24 bytes per 32 weights (the F32 norms the same in all three)
expect_eq "weights: Q5_0 - Q4_1 = Q5_1 - Q5_0" $((w50 - w41)) $((w51 - w50))
ok "memwall convert --demo --dtype q4_1|q5_0|q5_1, then run: weights and scratch as planned"
