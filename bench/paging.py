#!/usr/bin/env python3
"""paging.py - a model whose weights do not fit its memory, run three ways
under the same cgroup cap (issue #15, docs/PAGING.md):

  resident   no cap: the weights mapped and resident (the reference)
  mmap       the cap, weights mapped as llama.cpp maps them: the kernel
             evicts and refaults their pages
  stream     the cap, `memwall run --mem-budget B`: the first layers
             resident, the rest read from the file each step into reused
             buffers by a reader running ahead

for each batch of --batches, with the page cache dropped before each run
(echo 3 > /proc/sys/vm/drop_caches; said when not permitted). Reports decode
and prefill tokens/s (`memwall run --json`), the bytes read from the file
per generated token (the system's pgpgin delta over the run, so a quiet
machine is assumed), the cgroup's peak and any OOM kill (`memwall watch
--mem-limit --json`), the streaming rate (the reader's bytes / its read
time) against this machine's cold-read tier (`memwall roofline --json`,
tier disk_cold), and stream / mmap decode throughput.

The model: by default a llama of TinyLlama-1.1B's shape (22 layers, width
2048, 32 heads, 4 KV heads, ffn 5632, vocabulary 32000; TinyLlama/
TinyLlama-1.1B-intermediate-step-1431k-3T config.json) with tied embeddings
(mw-gen-gguf writes them tied), so 1.03 B parameters, random F16 weights
written by the test helper mw-gen-gguf with memwall's GGUF writer: 2.07 GB.

usage: bench/paging.py [--build DIR] [--model FILE] [--budget FRACTION]
                       [--batches 1,4,16] [-p P] [-n N] [--prefetch N]
                       [--stream-io auto|buffered|direct] [--out DIR]

Standard library only; root for the cgroup and for dropping the cache.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN_ARGS = ["--layers", "22", "--embd", "2048", "--heads", "32", "--kv-heads", "4", "--ff", "5632",
            "--vocab", "32000", "--ctx", "2048", "--dtype", "f16"]


def pgpgin():
    with open("/proc/vmstat") as f:
        for line in f:
            k, v = line.split()
            if k == "pgpgin":
                return int(v) * 1024  # kB
    return 0


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run_json(cmd, env):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None, out.returncode, out.stderr.strip().splitlines()[-1:] or [""]
    return json.loads(out.stdout), 0, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default="/var/tmp/memwall-paging-1.1b-f16.gguf")
    ap.add_argument("--budget", type=float, default=0.5, help="weights budget, fraction of the weights")
    ap.add_argument("--batches", default="1,4,16")
    ap.add_argument("-p", type=int, default=32, help="prompt tokens a sequence")
    ap.add_argument("-n", type=int, default=8, help="generated tokens a sequence")
    ap.add_argument("--prefetch", type=int, default=2)
    ap.add_argument("--stream-io", default="auto")
    ap.add_argument("--out", default="/var/tmp/memwall-paging")
    a = ap.parse_args()
    mw = os.path.join(a.build, "memwall")
    if not os.path.exists(mw):
        sys.exit(f"paging.py: {mw} not found (build first, or --build DIR)")
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if not os.path.exists(a.model):
        gen = os.path.join(a.build, "tests", "mw-gen-gguf")
        if not os.path.exists(gen):
            sys.exit(f"paging.py: {a.model} missing and {gen} not built (-DMW_BUILD_TESTS=ON)")
        print(f"writing {a.model} ...", file=sys.stderr)
        subprocess.run([gen] + GEN_ARGS + [a.model], check=True)
    batches = [int(b) for b in a.batches.split(",")]

    # the slow tier: this machine's cold file read
    rl, rc, _ = run_json([mw, "roofline", "--quick", "--json"], env)
    tier = None
    if rl:
        for t in rl.get("tiers", []):
            if t["name"] == "disk_cold":
                tier = t.get("bytes_per_second")
    # the split and the cap: the budget plus the plan's KV cache, activations,
    # scratch and overhead at the largest batch, plus 64 MiB
    plans = {}
    for b in batches:
        pl, rc, err = run_json([mw, "plan", a.model, "-b", str(b), "--prompt", str(a.p), "--gen", str(a.n),
                                "--json"], env)
        if not pl:
            sys.exit(f"paging.py: memwall plan failed: {err}")
        plans[b] = pl
    weights = plans[batches[0]]["weights_bytes"]
    budget = int(weights * a.budget)
    nonweights = max(pl["total_bytes"] - pl["weights_bytes"] for pl in plans.values())
    cap = budget + nonweights + (64 << 20)
    print(f"model {a.model}: weights {weights / 1e9:.2f} GB; budget {budget / 1e9:.2f} GB "
          f"({a.budget:.0%}); cap {cap / 1e9:.2f} GB (budget + KV, activations, overhead at batch "
          f"{max(batches)} + 64 MiB); cold-read tier "
          f"{tier / 1e9 if tier else float('nan'):.2f} GB/s", file=sys.stderr)

    rows = []
    dropped_all = True
    for b in batches:
        base = [mw, "run", a.model, "-b", str(b), "-p", str(a.p), "-n", str(a.n), "-t", "2", "--json"]
        for mode in ("resident", "mmap", "stream"):
            cmd = list(base)
            if mode == "stream":
                cmd += ["--mem-budget", str(budget), "--prefetch", str(a.prefetch),
                        "--stream-io", a.stream_io]
            wfile = os.path.join(a.out, f"watch-{mode}-b{b}.json")
            if mode == "mmap":
                cmd += ["--force"]  # its plan (all weights) exceeds the cap: that is the point
            if mode != "resident":
                cmd = [mw, "watch", "-m", str(cap), "-q", "--json", "-o", wfile, "--"] + cmd
            dropped_all &= drop_caches()
            r0 = pgpgin()
            t0 = time.time()
            j, rc, err = run_json(cmd, env)
            wall = time.time() - t0
            read = pgpgin() - r0
            w = None
            if mode != "resident" and os.path.exists(wfile):
                with open(wfile) as f:
                    w = json.load(f)
            row = dict(batch=b, mode=mode, rc=rc, err=err, wall=wall, read=read, watch=w, run=j)
            rows.append(row)
            print(f"batch {b} {mode}: rc {rc} wall {wall:.1f} s "
                  f"decode {j['decode_tokens_per_second'] if j else float('nan'):.2f} tok/s "
                  f"read {read / 1e9:.2f} GB", file=sys.stderr, flush=True)
            with open(os.path.join(a.out, f"run-{mode}-b{b}.json"), "w") as f:
                json.dump(row, f, indent=1)

    print(f"Model: {os.path.basename(a.model)}, weights {weights / 1e9:.2f} GB; budget "
          f"{budget / 1e9:.2f} GB; cgroup cap {cap / 1e9:.2f} GB; prompt {a.p}, {a.n} generated "
          f"tokens a sequence, 2 threads; page cache dropped before each run: "
          f"{'yes' if dropped_all else 'NO (not permitted)'}; cold-read tier (roofline disk_cold) "
          f"{tier / 1e9 if tier else float('nan'):.2f} GB/s.")
    print()
    print("| batch | mode | decode tok/s | prefill tok/s | read / generated token | "
          "stream GB/s (of tier) | cgroup peak | exit |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    dec = {}
    for r in rows:
        j, w = r["run"], r["watch"]
        d = j["decode_tokens_per_second"] if j else None
        p = j["prompt_tokens_per_second"] if j else None
        dec[(r["batch"], r["mode"])] = d
        gen = j["gen_tokens"] if j else 0
        per_tok = f"{r['read'] / gen / 1e6:.0f} MB" if gen else "-"
        sbw = "-"
        if j and j.get("paging"):
            pg = j["paging"]
            if pg.get("stream_read_seconds"):
                bw = pg["stream_bytes_read"] / pg["stream_read_seconds"]
                sbw = f"{bw / 1e9:.2f}" + (f" ({bw / tier:.2f})" if tier else "")
        peak = "-"
        cg = (w or {}).get("cgroup") or {}
        if cg.get("peak_bytes"):
            peak = f"{cg['peak_bytes'] / 1e9:.2f} GB" + (" OOM" if w.get("oom_killed") else "")
        status = "ok" if r["rc"] == 0 else f"exit {r['rc']}: {r['err'][0][:60] if r['err'] else ''}"
        print(f"| {r['batch']} | {r['mode']} | {d if d is None else f'{d:.2f}'} | "
              f"{p if p is None else f'{p:.1f}'} | {per_tok} | {sbw} | {peak} | {status} |")
    print()
    for b in batches:
        s, m = dec.get((b, "stream")), dec.get((b, "mmap"))
        if s and m:
            print(f"- batch {b}: stream / mmap decode {s / m:.2f}x")


if __name__ == "__main__":
    main()
