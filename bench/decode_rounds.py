#!/usr/bin/env python3
"""decode_rounds.py - decode (and prefill) speed of model files, or of two
memwall builds, measured in interleaved rounds.

A shared host's memory bandwidth swings for minutes at a time (docs/
BENCHMARKS.md: dense F16 decode of the demo between 93 and 201 tokens/s in
one session), so runs of one variant after another mislead. Here every
round runs every variant once, in turn (`memwall run FILE -p P -n N -t T
--json`), and a ratio A/B is the median over rounds of A's tokens/s divided
by B's in the same round.

usage: bench/decode_rounds.py --run LABEL=[MEMWALL:]FILE [--run ...]
                              [--ratio A/B ...] [--rounds N] [-p P] [-n N] [-t T]

  --run LABEL=FILE            a variant: FILE run by ./build/memwall
  --run LABEL=MEMWALL:FILE    ... run by that memwall binary (to compare builds)
  --ratio A/B                 print the median same-round ratio of A to B

Example (the sparse kernels before and after a change, docs/BENCHMARKS.md):
  bench/decode_rounds.py --rounds 11 \\
      --run f16=old/memwall:f16.gguf --run f16su_old=old/memwall:f16su.gguf \\
      --run f16su_new=build/memwall:f16su.gguf \\
      --ratio f16su_old/f16 --ratio f16su_new/f16

Standard library only. OPENBLAS_CORETYPE is removed from the runs'
environment (this machine exports it; memwall's kernels do not use it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_run(spec):
    label, sep, rest = spec.partition("=")
    if not sep or not label or not rest:
        sys.exit(f"decode_rounds.py: --run {spec!r}: expected LABEL=[MEMWALL:]FILE")
    mw, sep, path = rest.rpartition(":")
    if not sep:
        mw, path = os.path.join(ROOT, "build", "memwall"), rest
    for what, p in (("memwall", mw), ("model", path)):
        if not os.path.exists(p):
            sys.exit(f"decode_rounds.py: --run {label}: {what} {p} does not exist")
    return label, mw, path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=[MEMWALL:]FILE")
    ap.add_argument("--ratio", action="append", default=[], metavar="A/B")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("-p", type=int, default=64, help="prompt tokens (default 64)")
    ap.add_argument("-n", type=int, default=64, help="generated tokens (default 64)")
    ap.add_argument("-t", type=int, default=2, help="threads (default 2)")
    a = ap.parse_args()
    runs = [parse_run(r) for r in a.run]
    labels = [r[0] for r in runs]
    if len(set(labels)) != len(labels):
        sys.exit("decode_rounds.py: each --run needs its own LABEL")
    ratios = []
    for r in a.ratio:
        x, sep, y = r.partition("/")
        if not sep or x not in labels or y not in labels:
            sys.exit(f"decode_rounds.py: --ratio {r!r}: expected A/B with A and B among {labels}")
        ratios.append((x, y))
    if a.rounds < 1:
        sys.exit("decode_rounds.py: --rounds must be at least 1")
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    dec = {l: [] for l in labels}
    pre = {l: [] for l in labels}
    for i in range(a.rounds):
        for label, mw, path in runs:
            cmd = [mw, "run", path, "-p", str(a.p), "-n", str(a.n), "-t", str(a.t), "--json"]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(f"decode_rounds.py: {' '.join(cmd)} exited {out.returncode}:\n{out.stderr}")
            j = json.loads(out.stdout)
            dec[label].append(j["decode_tokens_per_second"])
            pre[label].append(j["prompt_tokens_per_second"])
        print(f"round {i + 1}/{a.rounds}: " + ", ".join(f"{l} {dec[l][-1]:.1f}" for l in labels),
              file=sys.stderr, flush=True)
    print(f"| variant | decode tok/s, median (min-max) | prefill tok/s |")
    print("|---|---:|---:|")
    for l in labels:
        print(f"| {l} | {statistics.median(dec[l]):.1f} ({min(dec[l]):.1f}-{max(dec[l]):.1f}) "
              f"| {statistics.median(pre[l]):.1f} |")
    if ratios:
        print()
        print("| ratio | decode, median of same-round ratios (min-max) | prefill |")
        print("|---|---:|---:|")
        for x, y in ratios:
            rd = [p / q for p, q in zip(dec[x], dec[y])]
            rp = [p / q for p, q in zip(pre[x], pre[y])]
            print(f"| {x} / {y} | {statistics.median(rd):.3f} ({min(rd):.2f}-{max(rd):.2f}) "
                  f"| {statistics.median(rp):.3f} |")


if __name__ == "__main__":
    main()
