#!/usr/bin/python3
"""requantize.py - a GGUF llama file with its matrices in another type.

    /usr/bin/python3 tests/ref/requantize.py IN.gguf OUT.gguf TYPE

TYPE: f32, f16, bf16, q8_0, q4_0 (gguf_min.py's quantizers, bit-exact with
ggml's reference ones). Every 2-D tensor is dequantized to float32 and
written in TYPE; 1-D tensors (the norms) stay F32; the metadata is copied.
For `memwall eval MODEL-Q.gguf --ref MODEL.gguf` (docs/EVAL.md): what a
lower precision costs. Row lengths must be multiples of the type's block.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_min as g  # noqa: E402


def main(argv):
    if len(argv) != 3 or argv[2].lower() not in g.TYPE_BY_NAME:
        sys.exit("usage: requantize.py IN.gguf OUT.gguf f32|f16|bf16|q8_0|q4_0")
    src, dst, tname = argv
    r = g.GGUFReader(src)
    w = g.GGUFWriter(alignment=r.alignment)
    for k, v in r.kv.items():
        if k == "general.alignment":
            continue
        t = r.kv_types[k]
        if isinstance(t, tuple):
            w.add(k, v, t[0], t[1])
        else:
            w.add(k, v, t)
    T = g.TYPE_BY_NAME[tname.lower()]
    for name in r.tensors:
        a = r.array(name)
        w.add_tensor(name, a, T if a.ndim == 2 else g.F32)
    w.write(dst)


if __name__ == "__main__":
    main(sys.argv[1:])
