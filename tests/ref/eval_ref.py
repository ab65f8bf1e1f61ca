#!/usr/bin/python3
"""eval_ref.py - the perplexity of `memwall eval`, computed apart from it.

    /usr/bin/python3 tests/ref/eval_ref.py MODEL.gguf --ids IDS.json --ctx N [--chunks N] [--stride S]
                                           [--emulate] [--emulate-kv f16|q8_0]

IDS.json is the text's token ids as `memwall tokenize --json MODEL TEXT`
prints them (BOS first where the vocabulary asks for one), so that only the
model's arithmetic is compared, not the tokenizer. The method is llama.cpp's
perplexity tool's (docs/EVAL.md): consecutive chunks of N ids (the remainder
dropped); in each, the first id becomes BOS when the vocabulary adds one
(tokenizer.ggml.add_bos_token, default true, as llama.cpp's llama vocab);
the chunk runs from position 0; with first = N // 2 the logits at positions
first .. N-2 score the ids at first+1 .. N-1. The forward pass is
llama_ref.py's (float64, the weights dequantized as stored); log-softmax in
float64. Prints one JSON object: perplexity, nll_mean, tokens, chunks,
per_chunk (each chunk's mean NLL).
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="JSON array of token ids (memwall tokenize --json)")
    ap.add_argument("--ctx", type=int, required=True)
    ap.add_argument("--chunks", type=int, default=0, help="at most this many chunks (0: all)")
    ap.add_argument("--stride", type=int, default=0,
                    help="sliding windows of --ctx every STRIDE ids, each scoring its last STRIDE "
                         "(llama.cpp's --ppl-stride; no BOS replacement)")
    ap.add_argument("--emulate", action="store_true",
                    help="round activations as memwall's kernels do (llama_ref.py --emulate)")
    ap.add_argument("--emulate-kv", choices=["f16", "q8_0"], help="round the K/V cache as this type")
    a = ap.parse_args(argv)
    with open(a.ids) as f:
        ids = json.load(f)
    if a.ctx < 3:
        sys.exit("eval_ref.py: --ctx must be at least 3")
    m = llama_ref.Llama(a.model, emulate=a.emulate, emulate_kv=a.emulate_kv)
    kv = m.r.kv
    add_bos = bool(kv.get("tokenizer.ggml.add_bos_token", True))
    bos = int(kv.get("tokenizer.ggml.bos_token_id", 1))
    if a.stride and not 0 < a.stride < a.ctx:
        sys.exit("eval_ref.py: --stride must be from 1 to ctx - 1")
    step = a.stride or a.ctx
    n_chunks = (len(ids) - a.ctx + a.stride - 1) // a.stride if a.stride else len(ids) // a.ctx
    if a.chunks:
        n_chunks = min(n_chunks, a.chunks)
    if n_chunks == 0:
        sys.exit("eval_ref.py: %d ids, fewer than one chunk of %d" % (len(ids), a.ctx))
    first = a.ctx - a.stride - 1 if a.stride else a.ctx // 2   # the first scored logits' position
    nll, count, per_chunk = 0.0, 0, []
    for c in range(n_chunks):
        chunk = list(ids[c * step:c * step + a.ctx])
        if add_bos and not a.stride:
            chunk[0] = bos
        logits = m.forward(chunk)                                  # [ctx, vocab] float64
        lp = torch.log_softmax(logits[first:a.ctx - 1], dim=-1)    # predicts first+1 .. ctx-1
        want = torch.tensor(chunk[first + 1:], dtype=torch.long)
        v = -lp[torch.arange(len(want)), want]
        nll += float(v.sum())
        count += len(want)
        per_chunk.append(float(v.mean()))
    out = {"perplexity": math.exp(nll / count), "nll_mean": nll / count, "tokens": count,
           "chunks": n_chunks, "add_bos": add_bos, "per_chunk": per_chunk}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
