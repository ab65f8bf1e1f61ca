#!/usr/bin/env bash
# memwall run against an independent reference: small llama GGUF models in
# F32/F16/BF16/Q8_0/Q4_0 made by tests/ref/make_models.py, run by memwall and
# by tests/ref/llama_ref.py (PyTorch, float64); logits within the tolerances
# of tests/ref/README.md and identical greedy tokens for the F32 models.
# Needs Debian's python3-numpy and python3-torch for /usr/bin/python3
# (apt-get install -y python3-numpy python3-torch); skips without them.
. "$(dirname "$0")/lib.sh"
REF=$MW_SOURCE_DIR/tests/ref
need_ref_python   # sets PY

# the reference's own checks (a naive numpy forward pass, the GGUF writer and reader)
"$PY" "$REF/llama_ref.py" --self-test > "$T/selftest.txt" 2>&1 ||
  { cat "$T/selftest.txt" >&2; fail "the reference's self-test failed"; }
ok "reference self-test"

"$PY" "$REF/make_models.py" "$T/models" > "$T/make.txt" 2>&1 ||
  { cat "$T/make.txt" >&2; fail "make_models.py failed"; }
for f in "$T"/models/*.gguf; do
  expect_exit 0 "$MW" inspect "$f"
done
ok "test models written and read back by memwall inspect"

"$PY" "$REF/compare.py" "$T/models" --memwall "$MW" --gen 32 --threads 2 > "$T/compare.txt" 2>&1
rc=$?
cat "$T/compare.txt"
[ "$rc" = 0 ] || fail "memwall run differs from the reference (exit $rc; table above, tolerances in tests/ref/README.md)"
ok "memwall run matches the reference"

# K-quants: tiny models in Q4_K, Q5_K, Q6_K and a Q4_K_M-like mix written by
# mw-gen-gguf (the reference dequantizes them with its own numpy code)
MW_GEN_GGUF=${MW_GEN_GGUF:-$MW_BUILD_DIR/tests/mw-gen-gguf}
[ -x "$MW_GEN_GGUF" ] || fail "no mw-gen-gguf at $MW_GEN_GGUF (build the tests)"
mkdir -p "$T/kmodels"
for t in q4_k q5_k q6_k q4_k_m; do
  "$MW_GEN_GGUF" --layers 2 --embd 256 --heads 4 --kv-heads 2 --ff 512 --vocab 384 --ctx 128 --dtype "$t" \
    "$T/kmodels/$t.gguf" || fail "mw-gen-gguf --dtype $t failed"
done
"$PY" "$REF/compare.py" "$T/kmodels" --memwall "$MW" --gen 16 --threads 2 > "$T/kcompare.txt" 2>&1
rc=$?
cat "$T/kcompare.txt"
[ "$rc" = 0 ] || fail "memwall run on K-quant models differs from the reference (exit $rc)"
grep -q "no tolerance" "$T/kcompare.txt" && fail "a K-quant model was not judged (no tolerance)"
ok "memwall run on K-quant models matches the reference"
