#!/usr/bin/env python3
"""remedies.py - what each remedy of `memwall convert` buys and costs, measured.

For one model (the trained `tiny`, or the demo), it converts the F32 reference
to each variant (dtypes, llama.cpp's mixed presets, pruning: unstructured and
2:4, magnitude and Wanda, sparse + Q8_0), then measures every variant with
memwall's own commands, on 2 threads:

  file          the GGUF's size (stat)
  weights       resident weights of a run (`memwall run --json`:
                measured.weights_bytes)
  peak RSS      the run's peak resident set, cold cache, in a memory cgroup
                (`memwall sweep --batches 1`: points[0].peak_rss_bytes)
  prefill/decode tokens per second: median over --runs rounds of
                `memwall run --json` (prompt_/decode_tokens_per_second); a
                round runs every variant once, in turn, so that the
                machine's swings in memory bandwidth (minutes long on a
                shared host) fall on all variants alike; "x F32" is the
                median over rounds of the ratio to F32 in the same round
  ppl, KL, top-1  `memwall eval VARIANT --ref F32 --text-file TEXT --json`
  max batch     `memwall sweep VARIANT -m CAP`: the largest batch that fits
  max ctx       `memwall sweep VARIANT --contexts auto -m CTX_CAP`: the
                largest context that fits at batch 1

and prints a markdown table (docs/REMEDIES.md holds the figures). Each
command's JSON is kept in --out. Standard library only.

usage: bench/remedies.py [--model tiny|demo] [--build DIR] [--out DIR]
                         [--runs N] [--only LABEL,...] [--quick]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# label, convert arguments (after IN OUT). The F32 reference is first.
VARIANTS = [
    ("f32", ["--dtype", "f32"]),
    ("f16", ["--dtype", "f16"]),
    ("bf16", ["--dtype", "bf16"]),
    ("q8_0", ["--dtype", "q8_0"]),
    ("q6_k", ["--dtype", "q6_k"]),
    ("q5_k_m", ["--dtype", "q5_k_m"]),
    ("q4_k_m", ["--dtype", "q4_k_m"]),
    ("q4_0", ["--dtype", "q4_0"]),
    ("q4_0, q8_0 embedding", ["--dtype", "q4_0", "--keep", "q8_0:token_embd.weight"]),
    ("prune 0.5 (f32)", ["--dtype", "f32", "--prune", "0.5"]),
    ("prune 2:4 (f32)", ["--dtype", "f32", "--prune", "2:4"]),
    ("wanda 0.5 (f32)", ["--dtype", "f32", "--prune", "0.5", "--prune-score", "wanda",
                         "--calib", "{calib}"]),
    ("wanda 2:4 (f32)", ["--dtype", "f32", "--prune", "2:4", "--prune-score", "wanda",
                         "--calib", "{calib}"]),
    ("prune 0.5 + f16", ["--dtype", "f16", "--prune", "0.5"]),
    ("prune 2:4 + f16", ["--dtype", "f16", "--prune", "2:4"]),
    ("prune 0.5 + q8_0", ["--dtype", "q8_0", "--prune", "0.5"]),
    ("prune 2:4 + q8_0", ["--dtype", "q8_0", "--prune", "2:4"]),
    ("wanda 0.5 + q8_0", ["--dtype", "q8_0", "--prune", "0.5", "--prune-score", "wanda",
                          "--calib", "{calib}"]),
    ("wanda 2:4 + q8_0", ["--dtype", "q8_0", "--prune", "2:4", "--prune-score", "wanda",
                          "--calib", "{calib}"]),
    ("wanda 0.5 + f16", ["--dtype", "f16", "--prune", "0.5", "--prune-score", "wanda",
                         "--calib", "{calib}"]),
]

# Per model: the workload and the caps that make the wall visible. The caps
# sit between the F32 reference's needs and the smallest variant's, so the
# largest batch and context move with the bytes each remedy saves.
MODELS = {
    "tiny": dict(prompt=128, gen=120, eval_args=["--text-file", "models/tiny.heldout.txt"],
                 cap="24M", ctx_cap="24M", max_ctx=65536, sweep_prompt=16, sweep_gen=4),
    "demo": dict(prompt=64, gen=64, eval_args=["--text-file", "models/tiny.heldout.txt",
                                               "--ctx", "256", "--chunks", "16"],
                 cap="560M", ctx_cap="480M", max_ctx=65536, sweep_prompt=16, sweep_gen=4,
                 sweep_ctx=1024),
}

CALIB = "/usr/share/common-licenses/Apache-2.0"  # base-files: on every Debian machine


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_json(cmd, out_path):
    """Runs cmd (a list), keeps its JSON in out_path, returns it parsed."""
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(out_path, "w") as f:
        f.write(p.stdout)
    if p.returncode != 0:
        raise SystemExit("remedies: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode,
                                                                p.stderr.strip()[-400:]))
    log("  %.1fs  %s" % (time.monotonic() - t0, " ".join(cmd)))
    return json.loads(p.stdout)


def mib(b):
    return "%.2f" % (b / 1048576.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="tiny")
    ap.add_argument("--build", default="build-test", help="folder holding the memwall to measure")
    ap.add_argument("--out", default=None, help="folder for the variants and JSON (default /tmp/memwall-remedies-MODEL)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default=None, help="comma-separated labels to measure (the F32 reference always)")
    ap.add_argument("--quick", action="store_true", help="1 run, no sweeps")
    a = ap.parse_args()
    cfg = MODELS[a.model]
    mw = os.path.join(ROOT, a.build, "memwall")
    if not os.access(mw, os.X_OK):
        raise SystemExit("remedies: %s not built (cmake --build %s)" % (mw, a.build))
    out = a.out or "/tmp/memwall-remedies-" + a.model
    os.makedirs(out, exist_ok=True)
    runs = 1 if a.quick else a.runs
    env_threads = ["-t", "2"]

    # The F32 reference every variant is made from and compared with.
    if a.model == "tiny":
        src = os.path.join(ROOT, "models/tiny.gguf")
    else:
        src = os.path.join(out, "demo-src-f32.gguf")
        if not os.path.exists(src):
            subprocess.run([mw, "convert", "--demo", "--dtype", "f32", src], check=True)
    wanted = None if not a.only else set(x.strip() for x in a.only.split(","))
    rows = []
    ref_path = None
    for label, conv in VARIANTS:
        if wanted is not None and label != "f32" and label not in wanted:
            continue
        slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
        path = os.path.join(out, "%s-%s.gguf" % (a.model, slug))
        log("%s:" % label)
        args = [x.replace("{calib}", CALIB) for x in conv]
        conv_json = run_json([mw, "convert", src, path, "--quiet", "--json"] + args,
                             os.path.join(out, slug + ".convert.json"))
        if ref_path is None:
            ref_path = path
        r = {"label": label, "path": path, "file": os.path.getsize(path),
             "convert": " ".join(["memwall", "convert", "IN", "OUT"] + args),
             "convert_seconds": conv_json.get("seconds")}
        r["slug"] = slug
        e = run_json([mw, "eval", path, "--ref", ref_path] + cfg["eval_args"] + env_threads + ["--json"],
                     os.path.join(out, slug + ".eval.json"))
        r["ppl"], r["kl"], r["top1"] = e["perplexity"], e["kl_mean"], e["top1_agreement"]
        if not a.quick:
            s = run_json([mw, "sweep", path, "--batches", "1", "-m", "4G", "-p", str(cfg["prompt"]),
                          "-n", str(cfg["gen"])] + env_threads + ["--json"],
                         os.path.join(out, slug + ".rss.json"))
            r["peak_rss"] = s["points"][0]["peak_rss_bytes"]
            # the batch sweep's context: the model's trained one unless the
            # model says (each item then holds that much KV cache)
            ctx = ["-c", str(cfg["sweep_ctx"])] if "sweep_ctx" in cfg else []
            s = run_json([mw, "sweep", path, "-m", cfg["cap"], "-p", str(cfg["sweep_prompt"]),
                          "-n", str(cfg["sweep_gen"])] + ctx + env_threads + ["--json"],
                         os.path.join(out, slug + ".sweep.json"))
            r["max_batch"] = s.get("max_fit_batch")
            s = run_json([mw, "sweep", path, "--contexts", "auto", "--max-ctx", str(cfg["max_ctx"]),
                          "-m", cfg["ctx_cap"], "-p", str(cfg["sweep_prompt"]), "-n", str(cfg["sweep_gen"])]
                         + env_threads + ["--json"], os.path.join(out, slug + ".ctx.json"))
            r["max_ctx"] = s.get("max_fit_ctx")
        rows.append(r)

    # speed: rounds, every variant once per round
    for r in rows:
        r["pre"], r["dec"] = [], []
    for i in range(runs):
        log("speed round %d of %d" % (i + 1, runs))
        for r in rows:
            j = run_json([mw, "run", r["path"], "-p", str(cfg["prompt"]), "-n", str(cfg["gen"])] + env_threads
                         + ["--json"], os.path.join(out, "%s.run%d.json" % (r["slug"], i)))
            r["pre"].append(j["prompt_tokens_per_second"])
            r["dec"].append(j["decode_tokens_per_second"])
            r["weights"] = j["measured"]["weights_bytes"]
    for r in rows:
        r["prefill"] = statistics.median(r["pre"])
        r["decode"] = statistics.median(r["dec"])
        r["decode_ratio"] = statistics.median(d / f for d, f in zip(r["dec"], rows[0]["dec"]))

    ref = rows[0]
    print("Model: %s (F32 reference %s); %d round(s) of runs, 2 threads; prompt %d, generate %d; "
          "eval %s; caps: batch sweep %s%s, context sweep %s." %
          (a.model, os.path.basename(src), runs, cfg["prompt"], cfg["gen"], " ".join(cfg["eval_args"]),
           cfg["cap"], " at ctx %d" % cfg["sweep_ctx"] if "sweep_ctx" in cfg else "", cfg["ctx_cap"]))
    print()
    print("| variant | file MiB | weights MiB | peak RSS MiB | prefill tok/s | decode tok/s | decode x F32 "
          "| ppl | KL mean | top-1 | max batch @%s | max ctx @%s |" % (cfg["cap"], cfg["ctx_cap"]))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %s | %s | %s | %.0f | %.0f | %.2f | %.3f | %.4f | %.3f | %s | %s |" % (
            r["label"], mib(r["file"]), mib(r["weights"]),
            mib(r["peak_rss"]) if "peak_rss" in r else "-",
            r["prefill"], r["decode"], r["decode_ratio"],
            r["ppl"], r["kl"], r["top1"],
            r.get("max_batch", "-") if r.get("max_batch") is not None else ("-" if a.quick else "none"),
            r.get("max_ctx", "-") if r.get("max_ctx") is not None else ("-" if a.quick else "none")))
    print()
    print("Commands (IN = the F32 reference):")
    for r in rows:
        print("- %s: `%s`" % (r["label"], r["convert"]))
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
