#!/usr/bin/python3
"""llama_ref.py - an independent llama forward pass in PyTorch, read from GGUF.

The reference of memwall's engine (tests/ref/README.md). It computes in
float64 (a tight reference: its own rounding is ~1e-15, far below anything
compared) on the weights dequantized exactly as stored (F32/F16/BF16/Q8_0/
Q4_0 -> float32 -> float64). It recomputes the whole sequence for every
token (no KV cache), so it shares no cache logic with the engine.

Conventions (llama.cpp's, for GGUF llama files):
  * x = token_embd[token]                           token_embd [vocab, h]
  * per layer:
      a = rmsnorm(x) * attn_norm                    rmsnorm(x) = x / sqrt(mean(x^2) + eps)
      q = Wq a, k = Wk a, v = Wv a                  W [out, in] (GGUF dims reversed)
      RoPE "normal" mode on q and k per head: the adjacent pairs
        (x[2i], x[2i+1]), 2i < n_rot, rotated by the angle pos * base^(-2i/n_rot)
        (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos)   -- NOT HF's rotate_half;
        GGUF llama Q/K rows are permuted for this mode
      GQA: query head j uses KV head j // (n_head / n_head_kv)
      scores = q k^T / sqrt(head_dim), causal (position t sees 0..t), softmax
      x += Wo (concat of heads)
      m = rmsnorm(x) * ffn_norm
      x += Wdown (silu(Wgate m) * Wup m)
  * logits = Wout (rmsnorm(x) * output_norm); Wout = output.weight, or
    token_embd.weight when output.weight is absent (tied)
  * greedy: the first index of the largest logit
  eps = llama.attention.layer_norm_rms_epsilon, base = llama.rope.freq_base
  (default 10000), n_rot = llama.rope.dimension_count (default head_dim).

Emulation (--emulate, for measuring what error to expect from memwall's
arithmetic, not for the reference itself): before each weight product the
activation is rounded as memwall's kernels (and llama.cpp's CPU backend) do:
to Q8_0 blocks for Q8_0/Q4_0 weights, to Q8_K blocks of 256 for the K-quants
(Q4_K/Q5_K/Q6_K), to F16 / BF16 for F16 / BF16 weights;
--emulate-kv f16 also rounds the cached K (after RoPE) and V to f16, and
--emulate-kv q8_0 rounds each token's K row and V row ([n_head_kv * head_dim],
K after RoPE) to Q8_0 blocks of 32 (attention itself stays in float).

    /usr/bin/python3 tests/ref/llama_ref.py MODEL.gguf --tokens "1,2,3;4,5" --gen 8
    /usr/bin/python3 tests/ref/llama_ref.py --self-test
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_min as g  # noqa: E402


class Config:
    def __init__(self, kv, vocab_rows):
        def need(k):
            if k not in kv:
                raise g.GGUFError("missing metadata key %s" % k)
            return kv[k]
        arch = need("general.architecture")
        if arch != "llama":
            raise g.GGUFError("architecture %r is not llama" % arch)
        self.n_embd = int(need("llama.embedding_length"))
        self.n_layer = int(need("llama.block_count"))
        self.n_ff = int(need("llama.feed_forward_length"))
        self.n_head = int(need("llama.attention.head_count"))
        self.n_head_kv = int(kv.get("llama.attention.head_count_kv", self.n_head))
        self.head_dim = self.n_embd // self.n_head
        self.n_rot = int(kv.get("llama.rope.dimension_count", self.head_dim))
        self.eps = float(need("llama.attention.layer_norm_rms_epsilon"))
        self.rope_base = float(kv.get("llama.rope.freq_base", 10000.0))
        self.n_ctx = int(kv.get("llama.context_length", 0))
        self.n_vocab = vocab_rows

    def __repr__(self):
        return ("layers %d, hidden %d, heads %d/%d (dim %d, rot %d), ffn %d, vocab %d, eps %g, base %g"
                % (self.n_layer, self.n_embd, self.n_head, self.n_head_kv, self.head_dim, self.n_rot,
                   self.n_ff, self.n_vocab, self.eps, self.rope_base))


def round_q8_k(a):
    """float32 rows [m, k] (k a multiple of 256) through Q8_K and back, as
    llama.cpp's quantize_row_q8_K_ref (and memwall's mw_k_quant_row_q8_k) does,
    in float32: per block of 256, max = the first value of largest magnitude
    with its sign, iscale = -127/max, q = min(127, round-half-even(iscale*x)),
    d = 1/iscale; an all-zero block stays zero. Returns d*q (float32)."""
    m, k = a.shape
    b = a.reshape(m, k // 256, 256).astype(np.float32)
    idx = np.argmax(np.abs(b), axis=2)                       # the first of largest |x|
    mx = np.take_along_axis(b, idx[..., None], axis=2)       # [m, nb, 1], signed
    zero = mx == 0
    safe = np.where(zero, np.float32(1), mx).astype(np.float32)
    iscale = (np.float32(-127.0) / safe).astype(np.float32)
    q = np.minimum(np.rint((iscale * b).astype(np.float32)), np.float32(127))
    d = (np.float32(1.0) / iscale).astype(np.float32)
    out = (d * q).astype(np.float32)
    out = np.where(zero, np.float32(0), out)
    return out.reshape(m, k)


def round_activation(x, wtype):
    """x (float tensor [m, k]) as memwall's kernels hand it to a product with
    weights of type wtype: Q8_0 blocks for Q8_0/Q4_0, Q8_K blocks for
    Q4_K/Q5_K/Q6_K, F16/BF16 for F16/BF16."""
    if wtype == g.F32:
        return x
    a = x.detach().cpu().numpy().astype(np.float32)
    if wtype in (g.Q4_K, g.Q5_K, g.Q6_K):
        return torch.from_numpy(round_q8_k(a.reshape(-1, a.shape[-1])).reshape(a.shape)).to(x.dtype)
    t = g.Q8_0 if wtype in (g.Q8_0, g.Q4_0) else wtype
    return torch.from_numpy(g.round_trip(a, t)).to(x.dtype)


class Llama:
    def __init__(self, path, dtype=torch.float64, emulate=False, emulate_kv=None):
        self.r = g.GGUFReader(path)
        self.dtype = dtype
        self.emulate = emulate
        self.emulate_kv = emulate_kv
        emb = self.r.tensors.get("token_embd.weight")
        if emb is None:
            raise g.GGUFError("missing tensor token_embd.weight")
        self.cfg = Config(self.r.kv, emb.shape[0])
        c = self.cfg
        if c.n_embd % c.n_head or c.n_head % c.n_head_kv or c.n_rot > c.head_dim or c.n_rot % 2:
            raise g.GGUFError("inconsistent head sizes: %r" % c)
        self.W, self.T = {}, {}
        for name, ti in self.r.tensors.items():
            self.W[name] = torch.from_numpy(self.r.array(name).copy()).to(dtype)
            self.T[name] = ti.type
        self.tied = "output.weight" not in self.W
        self.out_name = "token_embd.weight" if self.tied else "output.weight"
        hd = c.head_dim
        shapes = {"token_embd.weight": (c.n_vocab, c.n_embd), "output_norm.weight": (c.n_embd,)}
        if not self.tied:
            shapes["output.weight"] = (c.n_vocab, c.n_embd)
        for i in range(c.n_layer):
            p = "blk.%d." % i
            shapes.update({p + "attn_norm.weight": (c.n_embd,), p + "ffn_norm.weight": (c.n_embd,),
                           p + "attn_q.weight": (c.n_head * hd, c.n_embd),
                           p + "attn_k.weight": (c.n_head_kv * hd, c.n_embd),
                           p + "attn_v.weight": (c.n_head_kv * hd, c.n_embd),
                           p + "attn_output.weight": (c.n_embd, c.n_head * hd),
                           p + "ffn_gate.weight": (c.n_ff, c.n_embd), p + "ffn_up.weight": (c.n_ff, c.n_embd),
                           p + "ffn_down.weight": (c.n_embd, c.n_ff)})
        for name, shp in shapes.items():
            if name not in self.W:
                raise g.GGUFError("missing tensor %s" % name)
            if tuple(self.W[name].shape) != shp:
                raise g.GGUFError("tensor %s: shape %s, expected %s" % (name, tuple(self.W[name].shape), shp))

    # -- pieces
    def linear(self, x, name):
        if self.emulate:
            x = round_activation(x, self.T[name])
        return x @ self.W[name].T

    def rmsnorm(self, x, name):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + self.cfg.eps) * self.W[name]

    def rope(self, x, pos):
        """x [T, heads, head_dim]; pos [T]; adjacent pairs, normal mode."""
        c = self.cfg
        half = c.n_rot // 2
        i = torch.arange(half, dtype=torch.float64)
        inv = c.rope_base ** (-2.0 * i / c.n_rot)                          # [half]
        ang = pos.to(torch.float64)[:, None] * inv[None, :]                 # [T, half]
        cos, sin = torch.cos(ang).to(x.dtype)[:, None, :], torch.sin(ang).to(x.dtype)[:, None, :]
        xr = x[..., :c.n_rot]
        x0, x1 = xr[..., 0::2], xr[..., 1::2]
        y = torch.empty_like(xr)
        y[..., 0::2] = x0 * cos - x1 * sin
        y[..., 1::2] = x0 * sin + x1 * cos
        return torch.cat([y, x[..., c.n_rot:]], dim=-1)

    # -- the model
    @torch.no_grad()
    def forward(self, tokens):
        """tokens: list of ids -> logits [len, vocab] at every position (float64)."""
        c = self.cfg
        for t in tokens:
            if not 0 <= t < c.n_vocab:
                raise ValueError("token %d out of range [0, %d)" % (t, c.n_vocab))
        T, hd = len(tokens), c.head_dim
        pos = torch.arange(T)
        x = self.W["token_embd.weight"][torch.tensor(tokens, dtype=torch.long)]
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        rep = c.n_head // c.n_head_kv
        for i in range(c.n_layer):
            p = "blk.%d." % i
            a = self.rmsnorm(x, p + "attn_norm.weight")
            q = self.linear(a, p + "attn_q.weight").view(T, c.n_head, hd)
            k = self.linear(a, p + "attn_k.weight").view(T, c.n_head_kv, hd)
            v = self.linear(a, p + "attn_v.weight").view(T, c.n_head_kv, hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if self.emulate_kv == "f16":
                k, v = k.to(torch.float16).to(x.dtype), v.to(torch.float16).to(x.dtype)
            elif self.emulate_kv == "q8_0":           # blocks of 32 along each token's K / V row
                k = round_activation(k.reshape(T, -1), g.Q8_0).view(T, c.n_head_kv, hd)
                v = round_activation(v.reshape(T, -1), g.Q8_0).view(T, c.n_head_kv, hd)
            k = k.repeat_interleave(rep, dim=1)                            # head j -> kv head j // rep
            v = v.repeat_interleave(rep, dim=1)
            s = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
            s = s.masked_fill(~mask, float("-inf"))
            pr = torch.softmax(s, dim=-1)
            o = torch.einsum("hqk,khd->qhd", pr, v).reshape(T, c.n_head * hd)
            x = x + self.linear(o, p + "attn_output.weight")
            m = self.rmsnorm(x, p + "ffn_norm.weight")
            gt = self.linear(m, p + "ffn_gate.weight")
            up = self.linear(m, p + "ffn_up.weight")
            x = x + self.linear(torch.nn.functional.silu(gt) * up, p + "ffn_down.weight")
        x = self.rmsnorm(x, "output_norm.weight")
        return self.linear(x, self.out_name)

    def last_logits(self, tokens):
        return self.forward(tokens)[-1]

    def greedy(self, prompt, n):
        """n greedy tokens after prompt (full recomputation each step)."""
        seq, out = list(prompt), []
        for _ in range(n):
            tok = int(torch.argmax(self.forward(seq)[-1]))   # first of the largest
            out.append(tok)
            seq.append(tok)
        return out


def parse_tokens(s):
    return [[int(t) for t in part.split(",") if t.strip()] for part in s.split(";")]


# ---- self-test: a second, naive implementation in numpy ------------------------------

def naive_logits(path, tokens):
    """The same model written out loop by loop in numpy float64, from the
    GGUF file read afresh: every position, head, pair and row by hand."""
    r = g.GGUFReader(path)
    kv = r.kv
    h = kv["llama.embedding_length"]
    nl = kv["llama.block_count"]
    nh = kv["llama.attention.head_count"]
    nkv = kv.get("llama.attention.head_count_kv", nh)
    hd = h // nh
    nrot = kv.get("llama.rope.dimension_count", hd)
    eps = kv["llama.attention.layer_norm_rms_epsilon"]
    base = kv.get("llama.rope.freq_base", 10000.0)

    def W(n):
        return r.array(n).astype(np.float64)

    def norm(v, w):
        ss = 0.0
        for e in v:
            ss += e * e
        return np.array([v[j] / math.sqrt(ss / len(v) + eps) * w[j] for j in range(len(v))])

    def rot(vec, p):
        vec = vec.copy()
        for hh in range(len(vec) // hd):
            for i in range(0, nrot, 2):
                th = p * base ** (-i / nrot)
                a, b = vec[hh * hd + i], vec[hh * hd + i + 1]
                vec[hh * hd + i] = a * math.cos(th) - b * math.sin(th)
                vec[hh * hd + i + 1] = a * math.sin(th) + b * math.cos(th)
        return vec

    emb = W("token_embd.weight")
    out = W("output.weight") if "output.weight" in r.tensors else emb
    xs = [emb[t].copy() for t in tokens]
    T = len(tokens)
    for l in range(nl):
        p = "blk.%d." % l
        Wq, Wk, Wv, Wo = W(p + "attn_q.weight"), W(p + "attn_k.weight"), W(p + "attn_v.weight"), W(p + "attn_output.weight")
        Wg, Wu, Wd = W(p + "ffn_gate.weight"), W(p + "ffn_up.weight"), W(p + "ffn_down.weight")
        an, fn = W(p + "attn_norm.weight"), W(p + "ffn_norm.weight")
        K, V, Q = [], [], []
        for t in range(T):
            a = norm(xs[t], an)
            Q.append(rot(Wq.dot(a), t))
            K.append(rot(Wk.dot(a), t))
            V.append(Wv.dot(a))
        new = []
        for t in range(T):
            o = np.zeros(nh * hd)
            for hh in range(nh):
                kh = hh * nkv // nh                  # = hh // (nh / nkv)
                q = Q[t][hh * hd:(hh + 1) * hd]
                sc = [float(np.dot(q, K[u][kh * hd:(kh + 1) * hd])) / math.sqrt(hd) for u in range(t + 1)]
                mx = max(sc)
                e = [math.exp(s - mx) for s in sc]
                z = sum(e)
                for u in range(t + 1):
                    o[hh * hd:(hh + 1) * hd] += e[u] / z * V[u][kh * hd:(kh + 1) * hd]
            x = xs[t] + Wo.dot(o)
            m = norm(x, fn)
            gt, up = Wg.dot(m), Wu.dot(m)
            act = np.array([gv / (1.0 + math.exp(-gv)) * uv for gv, uv in zip(gt, up)])
            new.append(x + Wd.dot(act))
        xs = new
    return out.dot(norm(xs[-1], W("output_norm.weight")))


def max_rel(a, b):
    """max|a - b| / max|b| (b the reference)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# A wrong convention must move the logits by at least this much: 1000 times
# the F32 models' tolerance (1e-4), and as much as the loosest tolerance of
# compare.py (Q8_0/Q4_0, 0.1), so that every model type would see it.
SENSITIVE = 0.1


def self_test():
    import tempfile
    import make_models as mm
    fails = 0

    def check(cond, what):
        nonlocal fails
        print("%s  %s" % ("ok  " if cond else "FAIL", what))
        fails += 0 if cond else 1

    ok = g.self_test(verbose=False)
    check(ok, "gguf_min self-test")
    # Q8_K activations (the C unit test test_kquants q8_k_blocks has the same blocks)
    a = np.zeros((1, 512), np.float32)
    a[0, :256] = np.tile(np.array([2.5, 3.5, -0.5, 126.5, -1.5, 0.49, 127.0, -126.5], np.float32), 32)
    a[0, 5] = -127.0                                  # first of largest size: iscale 1, d 1
    r = round_q8_k(a)
    want = np.tile(np.array([2, 4, 0, 126, -2, 0, 127, -126], np.float32), 32)
    want[5] = -127
    check(np.array_equal(r[0, :256], want) and not r[0, 256:].any(),
          "Q8_K: negative max, halves to even, a zero block")
    b = np.zeros((1, 256), np.float32)
    b[0, 3], b[0, 9], b[0, 10] = 127.0, -127.0, 2.5  # +127 first: iscale -1, d -1
    r = round_q8_k(b)
    check(r[0, 3] == 127 and r[0, 9] == -127 and r[0, 10] == 2, "Q8_K: positive max first, d < 0")
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as d:
        for shape in ("mha-untied", "gqa-tied"):
            for t in ("f32", "q4_0"):
                name = mm.model_name(shape, t)
                path = os.path.join(d, name + ".gguf")
                mm.write_model(path, shape, t, 1234)
                m = Llama(path)
                toks = [1] + rng.integers(3, m.cfg.n_vocab, 12).tolist()
                full = m.forward(toks).numpy()
                ref = naive_logits(path, toks)
                e = max_rel(full[-1], ref)
                check(e < 1e-12, "%s: torch == naive numpy, max rel err %.2e" % (name, e))
                # causality: logits at position t from the prefix alone
                e = max_rel(full[5], m.forward(toks[:6])[-1].numpy())
                check(e < 1e-12, "%s: position 5 does not see later tokens (%.1e)" % (name, e))
                if t != "f32":
                    continue
                # sensitivity: how far wrong conventions move the logits
                # (each must be far above the tolerances of compare.py)
                alt = {}
                saved = Llama.rope

                def rope_half(self, x, pos):        # HF rotate_half on the same angles
                    c = self.cfg
                    half = c.n_rot // 2
                    inv = c.rope_base ** (-2.0 * torch.arange(half, dtype=torch.float64) / c.n_rot)
                    ang = pos.to(torch.float64)[:, None] * inv[None, :]
                    cos = torch.cos(ang).repeat(1, 2)[:, None, :]
                    sin = torch.sin(ang).repeat(1, 2)[:, None, :]
                    xr = x[..., :c.n_rot]
                    rh = torch.cat([-xr[..., half:], xr[..., :half]], dim=-1)
                    return torch.cat([xr * cos + rh * sin, x[..., c.n_rot:]], dim=-1)
                Llama.rope = rope_half
                alt["rotate_half RoPE"] = m.forward(toks).numpy()[-1]
                Llama.rope = lambda self, x, pos: x
                alt["no RoPE"] = m.forward(toks).numpy()[-1]
                Llama.rope = saved
                m2 = Llama(path)
                m2.cfg.eps = m2.cfg.eps * 10
                alt["eps x10"] = m2.forward(toks).numpy()[-1]
                m3 = Llama(path)
                m3.cfg.rope_base = 10000.0 if m3.cfg.rope_base != 10000.0 else 500000.0
                alt["other rope base"] = m3.forward(toks).numpy()[-1]
                m4 = Llama(path)
                for i in range(m4.cfg.n_layer):
                    q = "blk.%d." % i
                    m4.W[q + "ffn_gate.weight"], m4.W[q + "ffn_up.weight"] = m4.W[q + "ffn_up.weight"], m4.W[q + "ffn_gate.weight"]
                alt["ffn_gate and ffn_up swapped"] = m4.forward(toks).numpy()[-1]
                for k, v in alt.items():
                    e = max_rel(v, full[-1])
                    if k == "eps x10":       # a small effect: seen by the f32 models only
                        check(e > 10 * 1e-4, "%s: %s moves the logits by %.2e (detectable at the f32 tolerance)" % (name, k, e))
                    else:
                        check(e > SENSITIVE, "%s: %s moves the logits by %.2e (detectable)" % (name, k, e))
                if m.cfg.n_head_kv != m.cfg.n_head:
                    saved_ri = torch.Tensor.repeat_interleave

                    def tile(self_, rep, dim):      # head j -> kv head j % n_kv (wrong)
                        reps = [1] * self_.dim()
                        reps[dim] = rep
                        return self_.repeat(*reps)
                    torch.Tensor.repeat_interleave = tile
                    try:
                        e = max_rel(m.forward(toks).numpy()[-1], full[-1])
                    finally:
                        torch.Tensor.repeat_interleave = saved_ri
                    check(e > SENSITIVE, "%s: GQA mapping j %% n_kv instead of j // rep moves the logits by %.2e" % (name, e))
                # greedy against argmax of the teacher-forced forward
                gen = m.greedy(toks[:5], 6)
                fl = m.forward(toks[:5] + gen).numpy()
                check(all(int(np.argmax(fl[4 + i])) == gen[i] for i in range(6)),
                      "%s: greedy tokens = argmax of the forward over prompt + generated" % name)
            # emulation: measured error of activation rounding, by type
            for t in ("f16", "bf16", "q8_0", "q4_0"):
                path = os.path.join(d, mm.model_name(shape, t) + ".gguf")
                mm.write_model(path, shape, t, 1234)
                toks = [1] + rng.integers(3, mm.SHAPES[shape]["n_vocab"], 12).tolist()
                e = max_rel(Llama(path, emulate=True).last_logits(toks), Llama(path).last_logits(toks))
                print("info  %s: emulated activation rounding moves the logits by %.2e" % (mm.model_name(shape, t), e))
    print("llama_ref self-test: %d failure(s)" % fails)
    return fails == 0


def main():
    ap = argparse.ArgumentParser(description="llama reference forward pass (float64) over a GGUF file")
    ap.add_argument("model", nargs="?")
    ap.add_argument("--tokens", help='prompts: "1,2,3;4,5" (one list per sequence)')
    ap.add_argument("--gen", type=int, default=0, help="greedy tokens per sequence")
    ap.add_argument("--emulate", action="store_true", help="round activations as memwall's kernels do")
    ap.add_argument("--emulate-kv", choices=["f16", "q8_0"], help="round the K/V cache as this type")
    ap.add_argument("--logits", help="write each sequence's last-position logits (f32 LE) to this file")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return 0 if self_test() else 1
    if not a.model or not a.tokens:
        ap.error("MODEL and --tokens are needed (or --self-test)")
    m = Llama(a.model, emulate=a.emulate, emulate_kv=a.emulate_kv)
    print("model: %r%s" % (m.cfg, ", tied output" if m.tied else ""))
    rows = []
    for i, p in enumerate(parse_tokens(a.tokens)):
        gen = m.greedy(p, a.gen) if a.gen else []
        lg = m.last_logits(p + gen).numpy()
        rows.append(lg.astype("<f4"))
        top = np.argsort(-lg)[:5]
        print("seq %d: prompt %d tokens, generated %s" % (i, len(p), gen))
        print("       top logits %s" % ", ".join("%d:%.5f" % (j, lg[j]) for j in top))
    if a.logits:
        with open(a.logits, "wb") as f:
            f.write(np.concatenate(rows).tobytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
