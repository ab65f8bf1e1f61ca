#!/usr/bin/env node
// tokenize.mjs - llama.cpp's token ids for texts (the build that the npm
// package node-llama-cpp ships), for tests/llamacpp/tokenize.sh.
//
//   node tokenize.mjs MODEL.gguf TEXTS.json
//
// TEXTS.json is a JSON array of strings; printed is one JSON object:
//   plain:   llama.cpp's ids for each text, no BOS, special tokens not
//            parsed (model.tokenize(text, false): user-defined tokens
//            written in the text are still split off, as llama.cpp does)
//   special: the same with special tokens parsed (model.tokenize(text, true))
//   decoded: llama.cpp's text of each plain list (model.detokenize(ids, false))
// Only the vocabulary is loaded. Exit status: 0 done, 2 wrong command line,
// 77 node-llama-cpp unavailable, 1 anything else.

import { readFileSync } from "node:fs";
import { importNodeLlamaCpp, loadLlamaCpu } from "./nlc.mjs";

if (process.argv.length !== 4) {
    process.stderr.write("usage: node tokenize.mjs MODEL.gguf TEXTS.json\n");
    process.exit(2);
}
const texts = JSON.parse(readFileSync(process.argv[3], "utf8"));
const nlc = await importNodeLlamaCpp("tokenize.mjs", "tokenize.sh");
const { llama } = await loadLlamaCpu(nlc, "tokenize.mjs", false);
const model = await llama.loadModel({ modelPath: process.argv[2], gpuLayers: 0, vocabOnly: true });
const plain = texts.map((t) => Array.from(model.tokenize(t, false)));
const special = texts.map((t) => Array.from(model.tokenize(t, true)));
const decoded = plain.map((ids) => model.detokenize(ids, false));
process.stdout.write(JSON.stringify({ plain, special, decoded }) + "\n");
await model.dispose();
await llama.dispose();
