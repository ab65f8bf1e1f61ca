#!/usr/bin/env node
// greedy.mjs - greedy continuations of token-id prompts by llama.cpp (the
// build that the npm package node-llama-cpp ships), CPU only, for
// tests/llamacpp/check.sh.
//
//   node greedy.mjs MODEL.gguf --tokens "1,2,3;4,5" [--gen 16] [--threads 1]
//                   [--kv f16|f32|q8_0] [--flash-attn auto|on|off]
//                   [--no-margins] [--logprobs] [--verbose]
//
// The prompts are token ids, evaluated as given: no tokenizer is involved and
// nothing is added (no BOS). Each prompt runs alone in a fresh context. For
// each prompt one JSON line is printed on stdout:
//   {"prompt": [...], "generated": [...], "margins": [...], ...}
// where generated holds --gen tokens chosen greedily (llama.cpp's greedy
// sampler: the first largest logit; no repeat penalty, no top-k/top-p, and
// generation does not stop at an end-of-generation token), and margins[i]
// is the logit gap between the best and the second-best token at step i
// (ln p1 - ln p2), so that a divergence can be told from a near-tie. With
// --logprobs the line also holds "logprobs": the natural log of every token's
// probability after the prompt (index = token id; null where it is 0).
//
// node-llama-cpp is imported from $MW_LLAMACPP_DIR (default
// ~/.cache/memwall-llamacpp), where check.sh installs it. Exit status: 0 done,
// 2 wrong command line, 77 node-llama-cpp unavailable, 1 anything else.

import { existsSync } from "node:fs";
import { Args, importNodeLlamaCpp, loadLlamaCpu } from "./nlc.mjs";

function usage(msg) {
    if (msg) process.stderr.write(`greedy.mjs: ${msg}\n`);
    process.stderr.write(
        "usage: node greedy.mjs MODEL.gguf --tokens \"1,2,3;4,5\" [--gen N] [--threads N]\n" +
        "                       [--kv f16|f32|q8_0] [--flash-attn auto|on|off] [--no-margins] [--logprobs]\n" +
        "                       [--verbose]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const o = { model: null, prompts: null, gen: 16, threads: 1, kv: "f16", fa: "auto",
                margins: true, logprobs: false, verbose: false };
    for (const args = new Args(argv, usage); args.next() !== null;) {
        const a = args.a;
        const val = () => args.val();
        const int = (s, min) => args.int(s, min);
        if (a === "--tokens") {
            o.prompts = val().split(";").map((p) => {
                const ids = p.split(",").map((t) => t.trim()).filter((t) => t !== "");
                if (ids.length === 0) usage("--tokens: an empty prompt");
                return ids.map((t) => int(t, 0));
            });
        } else if (a === "--gen") o.gen = int(val(), 1);
        else if (a === "--threads") o.threads = int(val(), 1);
        else if (a === "--kv") {
            o.kv = val();
            if (!["f16", "f32", "q8_0"].includes(o.kv)) usage(`--kv: f16, f32 or q8_0, not ${o.kv}`);
        } else if (a === "--flash-attn") {
            o.fa = val();
            if (!["auto", "on", "off"].includes(o.fa)) usage(`--flash-attn: auto, on or off, not ${o.fa}`);
        } else if (a === "--no-margins") o.margins = false;
        else if (a === "--logprobs") o.logprobs = true;
        else if (a === "--verbose") o.verbose = true;
        else if (a === "-h" || a === "--help") usage();
        else if (a.startsWith("-")) usage(`unknown option ${a}`);
        else if (o.model === null) o.model = a;
        else usage(`unexpected argument ${a}`);
    }
    if (o.model === null) usage("no model");
    if (o.prompts === null) usage("no --tokens");
    return o;
}

const opts = parseArgs(process.argv.slice(2));
if (!existsSync(opts.model)) usage(`no such file: ${opts.model}`);
const nlc = await importNodeLlamaCpp("greedy.mjs", "check.sh");

const { llama, lastError } = await loadLlamaCpu(nlc, "greedy.mjs", opts.verbose);

process.on("uncaughtException", (e) => {
    process.stderr.write(`greedy.mjs: ${e.message}${lastError() ? ` (llama.cpp: ${lastError()})` : ""}\n`);
    process.exit(1);
});
process.on("unhandledRejection", (e) => {
    process.stderr.write(`greedy.mjs: ${e?.message ?? e}${lastError() ? ` (llama.cpp: ${lastError()})` : ""}\n`);
    process.exit(1);
});

const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0 });
const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? null;
const kvType = { f16: "F16", f32: "F32", q8_0: "Q8_0" }[opts.kv];
const fa = { auto: "auto", on: true, off: false }[opts.fa];

for (const prompt of opts.prompts) {
    if (vocab !== null) {
        const bad = prompt.find((t) => t >= vocab);
        if (bad !== undefined) usage(`token ${bad} is outside the vocabulary (${vocab})`);
    }
    const need = prompt.length + opts.gen + 1;
    // A fresh context per prompt, big enough that no context shift happens
    // (llama.cpp may round the size up to a multiple of 256).
    const context = await model.createContext({
        contextSize: Math.max(256, need),
        batchSize: Math.max(1, Math.min(512, prompt.length)),
        threads: { ideal: opts.threads, min: opts.threads },
        flashAttention: fa,
        experimentalKvCacheKeyType: kvType,
        experimentalKvCacheValueType: kvType,
        sequences: 1,
    });
    if (context.contextSize < need) throw new Error(`context of ${context.contextSize} < ${need}`);
    const sequence = context.getSequence();
    const sampling = {
        temperature: 0,        // the addon then uses llama_sampler_init_greedy (argmax) alone
        topK: 1,
        yieldEogToken: true,   // keep EOS in the output and go on generating after it
    };
    const generated = [];
    const margins = [];
    let logprobs = null;
    const withMeta = opts.margins || opts.logprobs;
    const it = withMeta
        ? sequence.evaluateWithMetadata(prompt, { probabilities: true }, sampling)
        : sequence.evaluate(prompt, sampling);
    for await (const out of it) {
        if (withMeta) {
            generated.push(out.token);
            // probabilities: a Map token -> probability, best first
            const ps = [...out.probabilities.values()].slice(0, 2);
            margins.push(ps.length === 2 && ps[1] > 0 ? Number(Math.log(ps[0] / ps[1]).toPrecision(4)) : null);
            if (opts.logprobs && logprobs === null) {
                logprobs = new Array(out.probabilities.size).fill(null);
                for (const [tok, p] of out.probabilities)
                    if (p > 0) logprobs[tok] = Math.log(p);
            }
        } else {
            generated.push(out);
        }
        if (generated.length >= opts.gen) break;
    }
    const line = {
        prompt,
        generated,
        ...(opts.margins ? { margins } : {}),
        ...(opts.logprobs ? { logprobs } : {}),
        model: opts.model,
        kv: opts.kv,
        flash_attention: context.flashAttention,
        threads: opts.threads,
        context_size: context.contextSize,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
    await context.dispose();
}
await model.dispose();
await llama.dispose();
