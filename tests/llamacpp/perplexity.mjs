#!/usr/bin/env node
// perplexity.mjs - llama.cpp's perplexity over token ids, chunk by chunk as
// its perplexity tool (tools/perplexity/perplexity.cpp) computes it, driven
// through the npm package node-llama-cpp (3.21.1), CPU only, for
// tests/llamacpp/perplexity.sh.
//
//   node perplexity.mjs MODEL.gguf --ids IDS.json --ctx N [--chunks N] [--stride S]
//   node perplexity.mjs MODEL.gguf --text FILE [--ids-out IDS.json] --ctx N ...
//                       [--threads N] [--kv f16|f32|q8_0] [--flash-attn auto|on|off]
//
// IDS.json holds the text's token ids (memwall tokenize --json: BOS first
// when the vocabulary asks for one), so that both engines see the same ids.
// The ids are cut into consecutive chunks of N (the remainder dropped); in
// each, the first id becomes BOS when the vocabulary adds one; the chunk is
// evaluated from position 0 in a cleared sequence, and with first = N/2 the
// distributions after positions first .. N-2 give the probabilities of the
// ids at first+1 .. N-1 (controlledEvaluate with generateNext.probabilities:
// llama.cpp's softmax of the logits at that position, float32, under the
// greedy sampler, which leaves the candidates as they are).
//
// --text FILE tokenizes FILE with llama.cpp's tokenizer instead (BOS first
// when the vocabulary adds one: common_tokenize(..., true)), for a text too
// long for `memwall tokenize`'s argument; --ids-out writes those ids.
//
// Prints one JSON object: perplexity, nll_mean, tokens, chunks, per_chunk.
// Exit status: 0 done, 2 wrong command line, 77 node-llama-cpp unavailable,
// 1 anything else.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Args, importNodeLlamaCpp, loadLlamaCpu } from "./nlc.mjs";

function usage(msg) {
    if (msg) process.stderr.write(`perplexity.mjs: ${msg}\n`);
    process.stderr.write(
        "usage: node perplexity.mjs MODEL.gguf --ids IDS.json --ctx N [--chunks N] [--threads N]\n" +
        "                           [--kv f16|f32|q8_0] [--flash-attn auto|on|off]\n");
    process.exit(2);
}

const o = { model: null, ids: null, text: null, idsOut: null, ctx: 0, chunks: 0, stride: 0, threads: 1, kv: "f16", fa: "off" };
for (const args = new Args(process.argv.slice(2), usage); args.next() !== null;) {
    const a = args.a;
    if (a === "--ids") o.ids = args.val();
    else if (a === "--text") o.text = args.val();
    else if (a === "--ids-out") o.idsOut = args.val();
    else if (a === "--ctx") o.ctx = args.int(args.val(), 3);
    else if (a === "--chunks") o.chunks = args.int(args.val(), 0);
    else if (a === "--stride") o.stride = args.int(args.val(), 0);
    else if (a === "--threads") o.threads = args.int(args.val(), 1);
    else if (a === "--kv") {
        o.kv = args.val();
        if (!["f16", "f32", "q8_0"].includes(o.kv)) usage(`--kv: f16, f32 or q8_0, not ${o.kv}`);
    } else if (a === "--flash-attn") {
        o.fa = args.val();
        if (!["auto", "on", "off"].includes(o.fa)) usage(`--flash-attn: auto, on or off, not ${o.fa}`);
    } else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else if (o.model === null) o.model = a;
    else usage(`unexpected argument ${a}`);
}
if (o.model === null) usage("no model");
if ((o.ids === null) === (o.text === null)) usage("give --ids or --text");
if (!o.ctx) usage("no --ctx");
if (!existsSync(o.model)) usage(`no such file: ${o.model}`);
const nlc = await importNodeLlamaCpp("perplexity.mjs", "perplexity.sh");
const { llama, lastError } = await loadLlamaCpu(nlc, "perplexity.mjs", false);
process.on("uncaughtException", (e) => {
    process.stderr.write(`perplexity.mjs: ${e.message}${lastError() ? ` (llama.cpp: ${lastError()})` : ""}\n`);
    process.exit(1);
});
process.on("unhandledRejection", (e) => {
    process.stderr.write(`perplexity.mjs: ${e?.message ?? e}${lastError() ? ` (llama.cpp: ${lastError()})` : ""}\n`);
    process.exit(1);
});

const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0 });
const tk = model.fileInfo.metadata?.tokenizer?.ggml ?? {};
const addBos = tk.add_bos_token ?? true;          // llama.cpp's default for a "llama" vocabulary
const bos = tk.bos_token_id ?? 1;
const ids = o.ids !== null ? JSON.parse(readFileSync(o.ids, "utf8"))
    : [...(addBos ? [bos] : []), ...Array.from(model.tokenize(readFileSync(o.text, "utf8")))];
if (o.idsOut !== null) writeFileSync(o.idsOut, JSON.stringify(ids) + "\n");
if (o.stride >= o.ctx) usage("--stride must be below --ctx");
// --stride: llama.cpp's perplexity_v2 (--ppl-stride): windows every stride
// ids, the last stride scored, no BOS replacement
let nChunks = o.stride ? Math.floor((ids.length - o.ctx + o.stride - 1) / o.stride) : Math.floor(ids.length / o.ctx);
if (o.chunks) nChunks = Math.min(nChunks, o.chunks);
if (nChunks === 0) usage(`${ids.length} ids, fewer than one chunk of ${o.ctx}`);

const kvType = { f16: "F16", f32: "F32", q8_0: "Q8_0" }[o.kv];
const context = await model.createContext({
    contextSize: Math.max(256, o.ctx),
    batchSize: Math.min(512, o.ctx),
    threads: { ideal: o.threads, min: o.threads },
    flashAttention: { auto: "auto", on: true, off: false }[o.fa],
    experimentalKvCacheKeyType: kvType,
    experimentalKvCacheValueType: kvType,
    sequences: 1,
});
const sequence = context.getSequence();
const first = o.stride ? o.ctx - o.stride - 1 : Math.floor(o.ctx / 2);
const want = { probabilities: true, options: { temperature: 0 } };
let nll = 0, count = 0;
const perChunk = [];
const t0 = Date.now();
for (let c = 0; c < nChunks; c++) {
    const step = o.stride || o.ctx;
    const chunk = ids.slice(c * step, c * step + o.ctx);
    if (addBos && !o.stride) chunk[0] = bos;
    await sequence.clearHistory();
    // the last id predicts nothing scored: not fed (as memwall eval)
    const input = chunk.slice(0, o.ctx - 1).map((t, i) => (i >= first ? [t, { generateNext: want }] : t));
    const out = await sequence.controlledEvaluate(input);
    let s = 0;
    for (let i = first; i < o.ctx - 1; i++) {
        const p = out[i]?.next?.probabilities?.get(chunk[i + 1]) ?? 0;
        if (!(p > 0)) throw new Error(`chunk ${c}, position ${i}: no probability for token ${chunk[i + 1]}`);
        s += -Math.log(p);
    }
    nll += s;
    count += o.ctx - 1 - first;
    perChunk.push(s / (o.ctx - 1 - first));
}
process.stdout.write(JSON.stringify({
    perplexity: Math.exp(nll / count), nll_mean: nll / count, tokens: count, chunks: nChunks, file_tokens: ids.length,
    add_bos: addBos, kv: o.kv, flash_attention: context.flashAttention, threads: o.threads,
    seconds: (Date.now() - t0) / 1000, per_chunk: perChunk,
}) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
