#!/usr/bin/env node
// sweep_point.mjs - one point of a `memwall sweep` run by llama.cpp (the
// build that the npm package node-llama-cpp ships), CPU only, for
// tests/llamacpp/sweep.sh:
//
//   node sweep_point.mjs MODEL.gguf --ctx N [--batch N] [--prompt N] [--gen N]
//                        [--threads N] [--flash-attn auto|on|off] [--verbose]
//
// It loads MODEL as llama.cpp does by default (mmap on: the weights stay file
// pages of MODEL, charged to the memory cgroup that reads them first), makes
// one context of --batch sequences of --ctx tokens each (llama.cpp's KV
// cache then holds --batch x --ctx cells, rounded up to a multiple of 256,
// f16 K and V; node-llama-cpp's default batch size, min(512, cells)),
// evaluates a prompt of --prompt token ids (default 16) in every sequence,
// and generates --gen tokens (default 8) in each, greedily, all sequences in
// parallel (node-llama-cpp batches them into one decode per step).
//
// The prompts are token ids: no tokenizer is run, though llama.cpp needs a
// vocabulary in the file to load it (mw-gen-gguf --vocab-meta writes one).
// Throughput is the decode rate in tokens per second over all sequences:
// tokens generated after the slowest sequence's first token, divided by the
// time from then to the last token (the prompt and the first token are
// left out, as `memwall run` leaves them out). It is written as
// "throughput N" to the file descriptor in $MEMWALL_REPORT_FD when that is
// set (memwall sweep reads it), and one JSON line goes to stdout with what
// llama.cpp actually made (context size, sequences, flash attention).
//
// node-llama-cpp is imported from $MW_LLAMACPP_DIR (default
// ~/.cache/memwall-llamacpp), where check.sh and sweep.sh install it.
// Exit status: 0 done, 2 wrong command line, 77 node-llama-cpp unavailable,
// 1 anything else (llama.cpp's last error is in the message, so that memwall
// sweep can tell an out-of-memory failure).

import { existsSync, writeSync } from "node:fs";
import { Args, importNodeLlamaCpp, loadLlamaCpu } from "./nlc.mjs";

function usage(msg) {
    if (msg) process.stderr.write(`sweep_point.mjs: ${msg}\n`);
    process.stderr.write(
        "usage: node sweep_point.mjs MODEL.gguf --ctx N [--batch N] [--prompt N] [--gen N] [--threads N]\n" +
        "                            [--flash-attn auto|on|off] [--verbose]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const o = { model: null, ctx: null, batch: 1, prompt: 16, gen: 8, threads: 1, fa: "auto", verbose: false };
    for (const args = new Args(argv, usage); args.next() !== null;) {
        const a = args.a;
        const val = () => args.val();
        const int = (s, min) => args.int(s, min);
        if (a === "--ctx") o.ctx = int(val(), 1);
        else if (a === "--batch") o.batch = int(val(), 1);
        else if (a === "--prompt") o.prompt = int(val(), 1);
        else if (a === "--gen") o.gen = int(val(), 1);
        else if (a === "--threads") o.threads = int(val(), 0);
        else if (a === "--flash-attn") {
            o.fa = val();
            if (!["auto", "on", "off"].includes(o.fa)) usage(`--flash-attn: auto, on or off, not ${o.fa}`);
        } else if (a === "--verbose") o.verbose = true;
        else if (a === "-h" || a === "--help") usage();
        else if (a.startsWith("-")) usage(`unknown option ${a}`);
        else if (o.model === null) o.model = a;
        else usage(`unexpected argument ${a}`);
    }
    if (o.model === null) usage("no model");
    if (o.ctx === null) usage("no --ctx");
    if (o.prompt + o.gen + 1 > o.ctx) usage(`--ctx ${o.ctx} holds no prompt of ${o.prompt} and ${o.gen} tokens`);
    return o;
}

const opts = parseArgs(process.argv.slice(2));
if (!existsSync(opts.model)) usage(`no such file: ${opts.model}`);
const nlc = await importNodeLlamaCpp("sweep_point.mjs", "sweep.sh");

const { llama, lastError } = await loadLlamaCpu(nlc, "sweep_point.mjs", opts.verbose);

function die(e) {
    // the last line of standard error is what memwall sweep keeps
    process.stderr.write(`sweep_point.mjs: ${e?.message ?? e}${lastError() ? ` (llama.cpp: ${lastError()})` : ""}\n`);
    process.exit(1);
}
process.on("uncaughtException", die);
process.on("unhandledRejection", die);

// mmap as llama.cpp's default (node-llama-cpp's "auto" may turn it off to
// offload more layers to a GPU; there is none here, but say it outright).
// The memory checks are node-llama-cpp's estimates against the host's free
// memory, which knows nothing of the point's cgroup cap: the cap decides.
const model = await llama.loadModel({
    modelPath: opts.model,
    gpuLayers: 0,
    useMmap: true,
    ignoreMemorySafetyChecks: true,
});
const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 32000;
const context = await model.createContext({
    contextSize: opts.ctx,     // per sequence; node-llama-cpp asks llama.cpp for ctx x sequences cells
    sequences: opts.batch,
    threads: opts.threads === 0 ? undefined : { ideal: opts.threads, min: opts.threads },
    flashAttention: { auto: "auto", on: true, off: false }[opts.fa],
    ignoreMemorySafetyChecks: true,
    failedCreationRemedy: false,   // never shrink the context to make it fit: that would be another point
});

// deterministic prompts: ids 3..vocab-1 (no BOS/EOS), a different one per sequence
function promptFor(s) {
    let x = 0x2545f491 ^ (s * 0x9e3779b9);
    const p = [];
    for (let i = 0; i < opts.prompt; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        p.push(3 + (x % (vocab - 3)));
    }
    return p;
}

const sampling = { temperature: 0, topK: 1, yieldEogToken: true };
const times = [];   // per sequence: the time of each generated token
const t0 = performance.now();
await Promise.all(Array.from({ length: opts.batch }, async (_, s) => {
    const seq = context.getSequence();
    const mine = [];
    times.push(mine);
    for await (const _tok of seq.evaluate(promptFor(s), sampling)) {
        mine.push(performance.now());
        if (mine.length >= opts.gen) break;
    }
}));
const tEnd = performance.now();

const start = Math.max(...times.map((t) => t[0]));
const after = times.reduce((n, t) => n + t.filter((x) => x > start).length, 0);
const generated = times.reduce((n, t) => n + t.length, 0);
const throughput = after > 0 && tEnd > start
    ? after / ((tEnd - start) / 1000)
    : generated / ((tEnd - t0) / 1000);   // --gen 1: the whole evaluation

const fd = process.env.MEMWALL_REPORT_FD;
if (fd && /^\d+$/.test(fd)) {
    try {
        writeSync(Number(fd), `throughput ${throughput.toFixed(3)}\n`);
    } catch (e) {
        process.stderr.write(`sweep_point.mjs: cannot write to MEMWALL_REPORT_FD ${fd}: ${e.message}\n`);
    }
}
process.stdout.write(JSON.stringify({
    model: opts.model,
    ctx: opts.ctx,
    batch: opts.batch,
    context_size: context.contextSize,     // per sequence, after llama.cpp's padding
    kv_cells: context.contextSize * opts.batch,
    batch_size: context.batchSize,
    flash_attention: context.flashAttention,
    threads: context.currentThreads,
    generated,
    throughput: Number(throughput.toFixed(3)),
}) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
