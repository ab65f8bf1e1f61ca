#!/usr/bin/python3
"""compare.py - memwall's engine (`memwall run`) against the reference.

    /usr/bin/python3 tests/ref/compare.py MODELS_DIR [--memwall PATH] [--gen 32]
        [--threads 2] [--only NAME,...] [--logits-at auto|fed|sampled]
        [--fake-engine exact|emulated] [--sweep N]

MODELS_DIR holds the models of make_models.py (models.json). memwall is
--memwall, else $MW_MEMWALL, else build/memwall of the source tree.

For every model, a batch of 3 sequences with different prompts (lengths 6,
17 and 11: <s> then random ids, from a seed fixed per model) is run as

    memwall run MODEL --tokens "P0;P1;P2" --gen G --logits F --json
                --threads 2 --kv-dtype KV

with KV = f32 for every model, and f16 and q8_0 in addition for the F32
models. The reference (llama_ref.py, float64) is then run on the same file:

  exact     the weights as stored, activations unrounded;
  emulated  activations rounded as memwall's kernels round them (Q8_0 blocks
            before Q8_0/Q4_0 weights, F16/BF16 before F16/BF16 weights; with
            an F16 cache, K and V rounded to f16; with a Q8_0 cache, each
            token's K and V rows in Q8_0 blocks of 32): the same arithmetic as
            the engine up to float32-vs-float64 summation.

Error measure: for each sequence, max_i |a_i - b_i| / max_i |b_i| over the
vocabulary, a = memwall's logits, b = the reference's; the table shows the
largest over the 3 sequences. The reference logits are taken teacher-forced
on memwall's own tokens (prompt + memwall's generated tokens), so logits are
compared at the same context even where greedy paths would part.

Which position --logits writes: "fed" = after feeding every generated token
(one more forward than the generation needs), "sampled" = the position whose
logits chose the last generated token. --logits-at auto (the default) takes
whichever matches better and shows it; the two differ by far more than any
tolerance, so the choice is unambiguous.

Checks (a row fails on any):
  * exit status 0, JSON with "generated": 3 lists of G token ids, a logits
    file of 3 x vocab f32;
  * error vs exact <= TOL[type].exact, vs emulated <= TOL[type].emulated;
  * F32 weights with an F32 cache: the generated tokens are identical to the
    reference's own greedy continuation (G tokens, each sequence);
  * every other row: each generated token is a near-argmax of the reference
    (teacher-forced): its logit is within tol * max|logit| of the largest.

Tolerances and how they were measured: tests/ref/README.md.
--fake-engine runs the reference itself (exact, or emulated) in memwall's
place: a dry run of the harness, and with --sweep N over N seeds of models
and prompts, the measurement of what errors to expect.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gguf_min as g  # noqa: E402
import llama_ref as L  # noqa: E402

PROMPT_LENGTHS = (6, 17, 11)

# Tolerances on max|a-b|/max|b| against the exact reference, by (weight
# type, cache type): README.md tells how they were measured (--sweep).
TOL = {
    ("f32", "f32"): 1e-4,      # measured max 3.0e-6
    ("f16", "f32"): 6e-3,      # 3.7e-3
    ("bf16", "f32"): 3e-2,     # 1.9e-2
    ("q8_0", "f32"): 1e-1,     # 6.1e-2
    ("q4_0", "f32"): 1e-1,     # 6.1e-2
    # K-quants, on mw-gen-gguf's models (tests/cli/engine_ref.sh), not swept:
    # the activations go to Q8_K (blocks of 256, as llama.cpp), a coarser
    # rounding than Q8_0's blocks of 32 (with Q8_0 x: 8.2e-3 to 9.2e-3)
    ("q4_k", "f32"): 1e-1,     # 1.7e-2 (one model)
    ("q5_k", "f32"): 1e-1,     # 1.8e-2
    ("q6_k", "f32"): 1e-1,     # 1.6e-2
    ("mixed", "f32"): 1e-1,    # 2.2e-2 (Q4_K_M-like: Q4_K, Q6_K, Q8_0)
    ("f32", "f16"): 2.5e-3,    # 1.3e-3
    ("f32", "q8_0"): 5e-2,     # 3.3e-2
}

# The K-quants are also judged against the emulated reference (the same
# rounding as the engine): that is what catches a misread bit layout, which
# moves the exact error only to about the tolerance above (a wrong top-2-bit
# source for sub-blocks 4-7 gave 0.11 exact / 0.11 emulated on q4_k, 0.034 on
# the mix). Measured with Q8_K activations: 1e-7 to 2e-7 for q5_k, q6_k and
# the mix, 4.3e-3 for q4_k, where an activation rounding flip moved the
# result (the mix's Q8_0 matrices: a value at a Q8_0 half step; the
# reference quantizes Q8_0 as ggml's reference, 1/d and half away from zero,
# the engine as llama.cpp's CPU path, 127/amax and half to even; Q8_K is
# emulated exactly, so a flip there is float32 vs float64 in the products
# that make the activation).
EMUL_TOL = {
    ("q4_k", "f32"): 2e-2,
    ("q5_k", "f32"): 2e-2,
    ("q6_k", "f32"): 2e-2,
    ("mixed", "f32"): 2e-2,
}


def model_list(d):
    mj = os.path.join(d, "models.json")
    if os.path.exists(mj):
        with open(mj) as f:
            return json.load(f)
    out = []
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".gguf"):
            r = g.GGUFReader(os.path.join(d, fn))
            types = {ti.type for ti in r.tensors.values() if len(ti.dims) == 2}
            t = g.type_name(types.pop()).lower() if len(types) == 1 else "mixed"
            out.append(dict(name=fn[:-5], file=fn, type=t))
    return out


def prompts_for(name, n_vocab):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [[1] + rng.integers(3, n_vocab, n - 1).tolist() for n in PROMPT_LENGTHS]


def q8_cache_ok(path):
    """memwall's Q8_0 cache takes heads of a multiple of 32 values."""
    kv = g.GGUFReader(path).kv
    return (kv["llama.embedding_length"] // kv["llama.attention.head_count"]) % 32 == 0


def max_rel(a, b):
    return L.max_rel(a, b)


class RunError(Exception):
    pass


def run_memwall(mw, path, prompts, gen, threads, kv, tmp, timeout=120):
    lf = os.path.join(tmp, "logits.bin")
    if os.path.exists(lf):
        os.remove(lf)
    toks = ";".join(",".join(str(t) for t in p) for p in prompts)
    cmd = [mw, "run", path, "--tokens", toks, "--gen", str(gen), "--logits", lf,
           "--json", "--threads", str(threads), "--kv-dtype", kv]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunError("timed out after %d s: %s" % (timeout, " ".join(cmd)))
    if p.returncode != 0:
        raise RunError("exit %d: %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.decode(errors="replace")[-2000:]))
    try:
        js = json.loads(p.stdout)
    except ValueError as e:
        raise RunError("stdout is not JSON (%s): %s" % (e, p.stdout[:400]))
    if js.get("schema") != "memwall.run/1":
        raise RunError("schema is %r, not memwall.run/1" % js.get("schema"))
    gen_ids = js.get("generated")
    if (not isinstance(gen_ids, list) or len(gen_ids) != len(prompts) or
            any(not isinstance(x, list) or len(x) != gen for x in gen_ids)):
        raise RunError("JSON \"generated\" is not %d lists of %d token ids: %r"
                       % (len(prompts), gen, gen_ids if gen_ids is None else str(gen_ids)[:300]))
    if not os.path.exists(lf):
        raise RunError("no logits file written")
    raw = np.fromfile(lf, dtype="<f4")
    return [[int(t) for t in x] for x in gen_ids], raw


def run_fake(path, prompts, gen, kv, mode):
    """The reference in the engine's place (float32 logits, like a file)."""
    m = L.Llama(path, emulate=(mode == "emulated"), emulate_kv=(kv if kv != "f32" and mode == "emulated" else None))
    gens, rows = [], []
    for p in prompts:
        gg = m.greedy(p, gen)
        gens.append(gg)
        rows.append(m.last_logits(p + gg).numpy().astype("<f4"))
    return gens, np.concatenate(rows)


def compare_one(info, path, args, kv, tmp, refs):
    t = info["type"]
    tol_exact = TOL.get((t, kv))
    ex = refs.setdefault("exact", L.Llama(path))
    V = ex.cfg.n_vocab
    prompts = prompts_for(info["name"], V)
    G = args.gen
    row = dict(model=info["name"], type=t, kv=kv, ok=True, notes=[])

    def bad(msg):
        row["ok"] = False
        row["notes"].append(msg)

    try:
        if args.fake_engine:
            gens, raw = run_fake(path, prompts, G, kv, args.fake_engine)
        else:
            gens, raw = run_memwall(args.memwall, path, prompts, G, args.threads, kv, tmp)
    except RunError as e:
        bad(str(e))
        return row
    if raw.size != len(prompts) * V:
        bad("logits file holds %d floats, expected %d x %d" % (raw.size, len(prompts), V))
        return row
    mwl = raw.reshape(len(prompts), V).astype(np.float64)
    if not np.all(np.isfinite(mwl)):
        bad("non-finite logits")
        return row
    emul = None
    if t != "f32" or kv != "f32":
        key = "emul-" + kv
        if key not in refs:
            refs[key] = L.Llama(path, emulate=True, emulate_kv=(kv if kv != "f32" else None))
        emul = refs[key]

    e_ex = {"fed": 0.0, "sampled": 0.0}
    e_em = {"fed": 0.0, "sampled": 0.0}
    ex_full, em_full = [], []
    for i, p in enumerate(prompts):
        full = ex.forward(p + gens[i]).numpy()
        ex_full.append(full)
        cand = {"fed": full[-1], "sampled": full[-2] if G > 0 else full[-1]}
        for k in cand:
            e_ex[k] = max(e_ex[k], max_rel(mwl[i], cand[k]))
        if emul is not None:
            fe = emul.forward(p + gens[i]).numpy()
            em_full.append(fe)
            ce = {"fed": fe[-1], "sampled": fe[-2] if G > 0 else fe[-1]}
            for k in ce:
                e_em[k] = max(e_em[k], max_rel(mwl[i], ce[k]))
    at = args.logits_at
    if at == "auto":
        at = min(("fed", "sampled"), key=lambda k: e_ex[k])
    row["logits_at"] = at
    row["err_exact"] = e_ex[at]
    row["err_emul"] = e_em[at] if emul is not None else None
    row["tol_exact"] = tol_exact
    if tol_exact is None:
        row["notes"].append("no tolerance for %s weights with a %s cache: not judged" % (t, kv))
    elif e_ex[at] > tol_exact:
        bad("logits vs exact reference: %.3e > %.1e (at the position after every generated token: %.2e;"
            " at the one that chose the last token: %.2e)" % (e_ex[at], tol_exact, e_ex["fed"], e_ex["sampled"]))

    tol_emul = EMUL_TOL.get((t, kv))
    if tol_emul is not None and emul is not None and e_em[at] > tol_emul:
        bad("logits vs emulated reference: %.3e > %.1e (a K-quant layout misread?)" % (e_em[at], tol_emul))

    # greedy tokens
    P = [len(p) for p in prompts]
    if t == "f32" and kv == "f32":
        same = 0
        margins = []
        for i, p in enumerate(prompts):
            rg = ex.greedy(p, G)
            same += sum(1 for a, b in zip(rg, gens[i]) if a == b)
            # smallest top-2 gap along the path, relative to max|logit|
            for j in range(G):
                lg = ex_full[i][P[i] - 1 + j]
                s = np.sort(lg)[::-1]
                margins.append((s[0] - s[1]) / np.max(np.abs(lg)))
            if rg != gens[i]:
                k = next(j for j in range(G) if rg[j] != gens[i][j])
                bad("sequence %d: greedy differs from the reference at token %d (memwall %d, reference %d)"
                    % (i, k, gens[i][k], rg[k]))
        row["greedy"] = "%d/%d same" % (same, G * len(prompts))
        row["min_margin"] = min(margins) if margins else None
    else:
        refset, tol = ex_full, tol_exact
        near = 0
        worst = 0.0
        for i in range(len(prompts)):
            for j in range(G):
                lg = refset[i][P[i] - 1 + j]
                gap = (np.max(lg) - lg[gens[i][j]]) / np.max(np.abs(lg))
                worst = max(worst, gap)
                near += gap <= (tol if tol is not None else np.inf)
        row["greedy"] = "%d/%d near-argmax" % (near, G * len(prompts))
        row["worst_gap"] = worst
        if near != G * len(prompts) and tol is not None:
            bad("a generated token is not a near-argmax of the reference (worst gap %.2e > %.1e)" % (worst, tol))
    return row


def fmt(x):
    return "-" if x is None else "%.2e" % x


def print_table(rows):
    hdr = "%-24s %-5s %-4s %-8s %-20s %-10s %-22s %s" % (
        "model", "type", "kv", "logits", "err (tolerance)", "err emul.", "greedy", "result")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ee = "%s (%s)" % (fmt(r.get("err_exact")), fmt(r.get("tol_exact"))) if "err_exact" in r else "-"
        em = fmt(r.get("err_emul"))
        print("%-24s %-5s %-4s %-8s %-20s %-10s %-22s %s" % (
            r["model"], r["type"], r["kv"], r.get("logits_at", "-"), ee, em, r.get("greedy", "-"),
            "ok" if r["ok"] else "FAIL"))
    for r in rows:
        extra = []
        if r.get("min_margin") is not None:
            extra.append("smallest reference top-2 gap on the path %.2e" % r["min_margin"])
        if r.get("worst_gap") is not None:
            extra.append("worst gap of a generated token below the reference max %.2e" % r["worst_gap"])
        for n in r["notes"] + extra:
            print("  %s %s: %s" % (r["model"], r["kv"], n))


def sweep(args):
    """Measures, over N seeds of models and prompts, at every position from
    the prompt's last token through the G greedy steps after it:
      engine  the engine's arithmetic (the emulated reference computed in
              float32) against the exact float64 reference: what the
              tolerances must cover;
      f32     the same emulated arithmetic in float32 against float64: how
              far float32 summation alone moves it (rounding decisions of
              activations flip), i.e. how far memwall can sit from the
              emulated column without any error of its own."""
    import torch
    import make_models as mm
    worst_q, worst_f = {}, {}
    with tempfile.TemporaryDirectory() as d:
        for seed in range(args.sweep):
            for shape, t in mm.MODELS:
                name = mm.model_name(shape, t)
                path = os.path.join(d, name + ".gguf")
                mm.write_model(path, shape, t, 1000 + seed)
                ex = L.Llama(path)
                for kv in (["f32", "f16", "q8_0"] if t == "f32" else ["f32"]):
                    if kv == "q8_0" and not q8_cache_ok(path):
                        continue
                    ekv = kv if kv != "f32" else None
                    em = L.Llama(path, emulate=True, emulate_kv=ekv)
                    em32 = L.Llama(path, dtype=torch.float32, emulate=True, emulate_kv=ekv)
                    rng = np.random.default_rng(seed * 7919 + zlib.crc32(name.encode()))
                    key = (t, kv)
                    for n in PROMPT_LENGTHS:
                        p = [1] + rng.integers(3, ex.cfg.n_vocab, n - 1).tolist()
                        gen = em32.greedy(p, args.gen)
                        a = ex.forward(p + gen).numpy()
                        b = em.forward(p + gen).numpy()
                        c = em32.forward(p + gen).numpy()
                        pos = range(len(p) - 1, len(p) + args.gen)
                        worst_q[key] = max([worst_q.get(key, 0.0)] + [max_rel(c[k], a[k]) for k in pos])
                        worst_f[key] = max([worst_f.get(key, 0.0)] + [max_rel(c[k], b[k]) for k in pos])
            print("seed %d: %s" % (seed, ", ".join("%s/%s %.2e %.2e" % (k[0], k[1], worst_q[k], worst_f[k])
                                                   for k in sorted(worst_q))), flush=True)
    print("largest errors over %d seeds x %d models x 3 prompts x %d positions:"
          % (args.sweep, len(mm.MODELS), args.gen + 1))
    print("  %-5s %-5s %-26s %s" % ("type", "cache", "engine vs exact (tol)", "emulated: float32 vs float64"))
    for k in sorted(worst_q):
        print("  %-5s %-5s %.3e (%-8s)        %.3e" % (k[0], k[1], worst_q[k], fmt(TOL.get(k)), worst_f[k]))
    return 0


def main():
    ap = argparse.ArgumentParser(description="memwall run against the llama reference")
    ap.add_argument("models", nargs="?", help="folder of make_models.py's models")
    ap.add_argument("--memwall", default=os.environ.get("MW_MEMWALL") or
                    os.path.join(HERE, "..", "..", "build", "memwall"))
    ap.add_argument("--gen", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--kv", default="", help="comma-separated cache types to run (default: f32 for all, f16,q8_0 too for F32 models)")
    ap.add_argument("--logits-at", choices=["auto", "fed", "sampled"], default="fed")
    ap.add_argument("--fake-engine", choices=["exact", "emulated"])
    ap.add_argument("--sweep", type=int, default=0, help="measure the emulated arithmetic's error over N seeds")
    args = ap.parse_args()
    if args.sweep:
        return sweep(args)
    if not args.models:
        ap.error("MODELS folder needed")
    if not args.fake_engine and not os.access(args.memwall, os.X_OK):
        print("compare: memwall not found at %s (--memwall or MW_MEMWALL)" % args.memwall, file=sys.stderr)
        return 2
    only = set(x for x in args.only.split(",") if x)
    kv_only = set(x for x in args.kv.split(",") if x)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for info in model_list(args.models):
            if only and info["name"] not in only:
                continue
            path = os.path.join(args.models, info["file"])
            refs = {}
            kvs = ["f32", "f16", "q8_0"] if info["type"] == "f32" else ["f32"]
            for kv in kvs:
                if kv_only and kv not in kv_only:
                    continue
                if kv == "q8_0" and not q8_cache_ok(path):
                    continue
                rows.append(compare_one(info, path, args, kv, tmp, refs))
    if not rows:
        print("compare: no model to run", file=sys.stderr)
        return 2
    print_table(rows)
    nbad = sum(1 for r in rows if not r["ok"])
    print("compare.py: %d of %d runs within tolerance%s" % (len(rows) - nbad, len(rows), "" if not nbad else ", %d FAILED" % nbad))
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
