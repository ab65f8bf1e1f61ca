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
