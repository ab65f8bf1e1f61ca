// nlc.mjs - what greedy.mjs and sweep_point.mjs share: loading the npm
// package node-llama-cpp from $MW_LLAMACPP_DIR (default
// ~/.cache/memwall-llamacpp), where check.sh and sweep.sh install it
// (install.sh), never from the repository.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { homedir } from "node:os";
import { join } from "node:path";

// The package's module; exits 77 (skipped) when it is not installed or does
// not load. `who` names the script, `installer` the script that installs it.
export async function importNodeLlamaCpp(who, installer) {
    const dir = process.env.MW_LLAMACPP_DIR || join(homedir(), ".cache", "memwall-llamacpp");
    let entry;
    try {
        entry = createRequire(join(dir, "package.json")).resolve("node-llama-cpp");
    } catch {
        process.stderr.write(`${who}: node-llama-cpp is not installed in ${dir} (run ${installer})\n`);
        process.exit(77);
    }
    try {
        return await import(pathToFileURL(entry).href);
    } catch (e) {
        process.stderr.write(`${who}: cannot load node-llama-cpp from ${entry}: ${e.message}\n`);
        process.exit(77);
    }
}

// A command line read option by option: next() moves to the next argument
// (null at the end; the current one is .a), val() takes the value that
// follows it, int() checks a whole number; errors go to usage(message).
export class Args {
    constructor(argv, usage) { this.argv = argv; this.usage = usage; this.i = -1; this.a = null; }
    next() { this.i++; this.a = this.i < this.argv.length ? this.argv[this.i] : null; return this.a; }
    val() {
        if (this.i + 1 >= this.argv.length) this.usage(`${this.a} needs a value`);
        return this.argv[++this.i];
    }
    int(s, min) {
        if (!/^\d+$/.test(s) || Number(s) < min) this.usage(`${this.a}: not an integer >= ${min}: ${s}`);
        return Number(s);
    }
}

// llama.cpp's CPU backend, prebuilt (never compiled), its log on standard
// error; lastError() is its last error line. Exits 77 when unavailable.
export async function loadLlamaCpu(nlc, who, verbose) {
    const { getLlama, LlamaLogLevel } = nlc;
    let last = "";
    try {
        const llama = await getLlama({
            gpu: false,
            build: "never",
            logLevel: verbose ? LlamaLogLevel.debug : LlamaLogLevel.error,
            logger: (level, message) => {
                if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) last = message.trim();
                process.stderr.write(`[llama.cpp ${level}] ${message}${message.endsWith("\n") ? "" : "\n"}`);
            },
        });
        return { llama, lastError: () => last };
    } catch (e) {
        process.stderr.write(`${who}: llama.cpp unavailable: ${e.message}\n`);
        process.exit(77);
    }
}
