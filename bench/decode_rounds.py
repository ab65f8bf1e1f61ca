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
                              [--profile]

  --run LABEL=FILE            a variant: FILE run by ./build/memwall
  --run LABEL=MEMWALL:FILE    ... run by that memwall binary (to compare builds)
  --ratio A/B                 print the median same-round ratio of A to B

Example (the sparse kernels before and after a change, docs/BENCHMARKS.md):
  bench/decode_rounds.py --rounds 11 \\
      --run f16=old/memwall:f16.gguf --run f16su_old=old/memwall:f16su.gguf \\
      --run f16su_new=build/memwall:f16su.gguf \\
      --ratio f16su_old/f16 --ratio f16su_new/f16

--profile runs each `memwall run` under `perf record -e cpu-clock` (a
software clock: works in a VM without a PMU) and splits the CPU time per
generated token by the function the samples fall in: the weight products
("weights": the dense tiles t*_, the sparse kernels rows_*, q8su*, q8s24*,
and their drivers), attention over the KV cache (dot_f32, axpy,
f16_to_row, softmax), threads waiting for each other (spinner_step,
worker_main, mw_pool_run) and the rest (norms, RoPE, x's quantization,
loading). A ratio then also gets a "weights" column: B's weight-product CPU
time per token over A's, the figure that should follow the bytes where
memory binds, apart from the step's fixed costs. Use a short prompt and a
long generation (-p 8 -n 256) so that decode dominates the samples.

Standard library only (plus perf for --profile). OPENBLAS_CORETYPE is
removed from the runs' environment (this machine exports it; memwall's
kernels do not use it).
"""
import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

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


# perf's function names, by where a decode step spends them (--profile)
CLASSES = [
    ("weights", re.compile(r"^(t\d+_|rows_|q8su|q8s24|kq_|mm_work$|drive$|mw_k_matmul)")),
    ("attention", re.compile(r"^(dot_f32|axpy|f16_to_row|mw_k_dot_f32|mw_k_axpy|mw_k_softmax)")),
    ("waiting", re.compile(r"^(spinner_step|worker_main|mw_pool_run|caller_wait)")),
]
CLASS_NAMES = [c for c, _ in CLASSES] + ["other"]


def classify(sym):
    for name, rx in CLASSES:
        if rx.match(sym):
            return name
    return "other"


def run_profiled(cmd, env, freq=4999):
    """cmd under perf record; returns (its stdout, CPU seconds per class)."""
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "perf.data")
        out = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(freq), "-o", data,
                              "--"] + cmd, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            return out, None
        syms = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True,
                              text=True)
        if syms.returncode != 0:
            sys.exit(f"decode_rounds.py: perf script failed:\n{syms.stderr}")
    sec = collections.Counter()
    for line in syms.stdout.splitlines():
        f = line.split()  # "ADDRESS SYMBOL" ("[unknown]" where perf has no name)
        if f:
            sec[classify(f[1] if len(f) > 1 else "")] += 1.0 / freq
    return out, sec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", action="append", required=True, metavar="LABEL=[MEMWALL:]FILE")
    ap.add_argument("--ratio", action="append", default=[], metavar="A/B")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("-p", type=int, default=64, help="prompt tokens (default 64)")
    ap.add_argument("-n", type=int, default=64, help="generated tokens (default 64)")
    ap.add_argument("-t", type=int, default=2, help="threads (default 2)")
    ap.add_argument("--profile", action="store_true",
                    help="CPU time per token by kind of work, from perf (see the top of the file)")
    a = ap.parse_args()
    if a.profile and not shutil.which("perf"):
        sys.exit("decode_rounds.py: --profile needs perf on PATH (Debian: apt-get install linux-perf)")
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
    prof = {l: [] for l in labels}  # per round: CPU ms per generated token, by class
    for i in range(a.rounds):
        for label, mw, path in runs:
            cmd = [mw, "run", path, "-p", str(a.p), "-n", str(a.n), "-t", str(a.t), "--json"]
            if a.profile:
                out, sec = run_profiled(cmd, env)
            else:
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(f"decode_rounds.py: {' '.join(cmd)} exited {out.returncode}:\n{out.stderr}")
            j = json.loads(out.stdout)
            if a.profile:
                prof[label].append({c: 1e3 * sec[c] / a.n for c in CLASS_NAMES})
            dec[label].append(j["decode_tokens_per_second"])
            pre[label].append(j["prompt_tokens_per_second"])
        print(f"round {i + 1}/{a.rounds}: " + ", ".join(f"{l} {dec[l][-1]:.1f}" for l in labels),
              file=sys.stderr, flush=True)
    print(f"| variant | decode tok/s, median (min-max) | prefill tok/s |")
    print("|---|---:|---:|")
    for l in labels:
        print(f"| {l} | {statistics.median(dec[l]):.1f} ({min(dec[l]):.1f}-{max(dec[l]):.1f}) "
              f"| {statistics.median(pre[l]):.1f} |")
    if a.profile:
        print()
        print("| variant | CPU ms per token: " + " | ".join(CLASS_NAMES) + " | total |")
        print("|---|" + "---:|" * (len(CLASS_NAMES) + 1))
        for l in labels:
            med = [statistics.median(r[c] for r in prof[l]) for c in CLASS_NAMES]
            tot = statistics.median(sum(r.values()) for r in prof[l])
            print(f"| {l} | " + " | ".join(f"{v:.3f}" for v in med) + f" | {tot:.3f} |")
    if ratios:
        print()
        w = " | weights (CPU time B / A)" if a.profile else ""
        print(f"| ratio | decode, median of same-round ratios (min-max) | prefill{w} |")
        print("|---|---:|---:|" + ("---:|" if a.profile else ""))
        for x, y in ratios:
            rd = [p / q for p, q in zip(dec[x], dec[y])]
            rp = [p / q for p, q in zip(pre[x], pre[y])]
            cell = ""
            if a.profile:
                rw = [q["weights"] / p["weights"] for p, q in zip(prof[x], prof[y]) if p["weights"] > 0]
                cell = f" | {statistics.median(rw):.3f} ({min(rw):.2f}-{max(rw):.2f})" if rw else " | -"
            print(f"| {x} / {y} | {statistics.median(rd):.3f} ({min(rd):.2f}-{max(rd):.2f}) "
                  f"| {statistics.median(rp):.3f}{cell} |")


if __name__ == "__main__":
    main()
