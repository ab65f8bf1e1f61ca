#!/usr/bin/env python3
"""A small PyTorch (CPU) training run whose memory grows with the batch.

The client of tests/cli/sweep_torch.sh: `memwall sweep` runs it per batch and
compares its own peak with the script's report of itself.

The model is a per-token MLP (a transformer's feed-forward half, without
attention) on inputs of shape [batch, seq, dim]: the activations that
autograd keeps for the backward pass are about seq x (dim + 2 hidden) x 4
bytes per block and sample (1.1 MiB with the defaults; 1.2-1.6 MiB a sample
measured at the peak, with the gradients of the backward pass), while the
weights (and AdamW's two moments) stay under 1 MiB. So memory is fixed (the
interpreter and libtorch, ~250 MiB of RSS, ~120 MiB of it anonymous) plus a
clear per-sample slope. With the defaults and 2 threads it trains ~130
samples/s here: 3 steps at batch 64 take ~2.2 s, import torch included.

It runs --steps training steps (forward, backward, AdamW) on random data,
then reports:
  * "peak_rss_bytes N" on standard output: getrusage(RUSAGE_SELF).ru_maxrss,
    the process's own high-water mark of resident memory (the kernel's
    VmHWM; it starts no children), in bytes;
  * "throughput N" (samples per second, over the steps after the first, which
    warms up the allocator and AdamW's state) on the file descriptor named by
    $MEMWALL_REPORT_FD, when set (memwall sweep's report channel);
  * a line "BATCH PEAK_RSS_BYTES THROUGHPUT" appended to the file named by
    $TRAIN_MLP_REPORT, when set, so that a test can read each point's own
    report after a sweep (whose JSON keeps no command output).
"""
import argparse
import os
import resource
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, required=True, help="samples per step")
    ap.add_argument("--steps", type=int, default=3, help="training steps (default 3)")
    ap.add_argument("--seq", type=int, default=128, help="tokens per sample (default 128)")
    ap.add_argument("--dim", type=int, default=32, help="model width (default 32)")
    ap.add_argument("--hidden", type=int, default=256, help="MLP hidden width (default 256)")
    ap.add_argument("--layers", type=int, default=4, help="MLP blocks (default 4)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = ap.parse_args()
    if args.batch < 1 or args.steps < 1:
        ap.error("--batch and --steps must be at least 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    blocks = []
    for _ in range(args.layers):
        blocks += [torch.nn.Linear(args.dim, args.hidden), torch.nn.GELU(),
                   torch.nn.Linear(args.hidden, args.dim)]
    model = torch.nn.Sequential(*blocks)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    t0 = time.perf_counter()
    for step in range(args.steps):
        if step == 1:
            t0 = time.perf_counter()
        x = torch.randn(args.batch, args.seq, args.dim)
        y = torch.randn(args.batch, args.seq, args.dim)
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        del x, y, loss
    elapsed = time.perf_counter() - t0
    timed = max(args.steps - 1, 1)
    throughput = timed * args.batch / elapsed if elapsed > 0 else 0.0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"peak_rss_bytes {peak}", flush=True)

    fd = os.environ.get("MEMWALL_REPORT_FD")
    if fd:
        try:
            os.write(int(fd), f"throughput {throughput:.3f}\n".encode())
        except (ValueError, OSError) as e:
            print(f"train_mlp: cannot report to fd {fd}: {e}", file=sys.stderr)

    path = os.environ.get("TRAIN_MLP_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(f"{args.batch} {peak} {throughput:.3f}\n")


if __name__ == "__main__":
    main()
