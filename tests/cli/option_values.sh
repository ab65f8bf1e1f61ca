# option_values.sh - a wrong command-line value exits 2 in every command (as
# `memwall --help` says), before anything runs, with a message naming the
# option, the value and what it takes; sizes without a unit below 4096 get
# "did you mean 24G?"; `run` refuses a workload its own plan says does not
# fit (exit 1, the plan's numbers) unless --force (issue 10).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# bad CMD ARGS... -- TEXT...: exit 2, nothing on stdout, stderr has each TEXT.
bad() {
    local args=() a
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    expect_exit 2 timeout 20 "$MW" "${args[@]}"
    expect_empty "$T/stdout"
    for a in "$@"; do expect_contains "$T/stderr" "$a"; done
    expect_contains "$T/stderr" "memwall ${args[0]} --help"
}

# ---- the values issue 10 found exiting 1 -------------------------------------------
bad plan llama-3-8b --zero 7          -- "--zero" "from 0 to 3" "'7'"
bad plan llama-3-8b --kv-dtype q4_1   -- "runtime memwall offers f32, f16, bf16, q8_0" "q4_1"
bad run --threads 10000               -- "--threads" "from 1 to 4096" "10000"
bad run --threads 0                   -- "--threads" "from 1 to 4096"
bad run --batch 100000                -- "--batch" "from 1 to 4096" "100000"
bad sweep --mem-limit 0               -- "--mem-limit" "from 4.00 KiB to 1.00 EiB" "'0'"
bad sweep --metric '('                -- "--metric" "not a valid extended regular expression"
bad sweep --resume                    -- "--resume" "--jsonl"
ok "plan --zero/--kv-dtype, run --threads/--batch, sweep --mem-limit 0/--metric/--resume: exit 2"

# ---- others of the same kind --------------------------------------------------------
bad plan llama-3-8b --pp 1000         -- "--pp 1000 exceeds the model's 32 layers"
bad plan llama-3-8b --batch 99999999  -- "--batch" "99999999"
bad plan llama-3-8b --dp -1           -- "--dp" "'-1'"
bad run --kv-dtype q4_1               -- "--kv-dtype must be f32, f16 or q8_0"
bad run --ctx 10                      -- "--ctx 10 is too small for a prompt of 64 and 32"
bad run --tokens '1,2;3' --batch 3    -- "--batch 3 but 2 prompts"
bad run --seed -1                     -- "--seed" "'-1'"
bad run --prompt 4294967296           -- "--prompt" "4294967296"
bad sweep --runs 100                  -- "--runs" "from 1 to 64"
bad sweep --warmup 65                 -- "--warmup" "from 0 to 64"
bad sweep --threads 5000              -- "--threads" "from 1 to 4096"
bad sweep --timeout 200h              -- "--timeout" "more than a week" "1ms to 168h"
bad sweep --timeout 0                 -- "--timeout" "from 1ms to"
bad sweep --items-per-run inf        -- "--items-per-run" "'inf'"
bad sweep --contexts 16 --prompt 16 --gen 16 -- "context 16 cannot hold"
bad sweep --contexts auto --max-ctx 100      -- "--max-ctx 100" "give a larger --max-ctx"
bad sweep --metric 'no group'         -- "needs a group"
bad sweep --swap-limit 2000000T       -- "--swap-limit" "more than 1 EiB"
ok "plan --pp/--batch/--dp, run --kv-dtype/--ctx/--tokens/--seed/--prompt, sweep --runs/--warmup/--threads/--timeout/--items-per-run/--contexts/--max-ctx/--metric/--swap-limit: exit 2"

# ---- a size without a unit below 4096 -----------------------------------------------
bad plan llama-3-8b --mem 24          -- "--mem 24 has no unit" "did you mean 24G?"
bad plan llama-3-8b --mem 0.5         -- "did you mean 0.5G?"
bad sweep --mem-limit 512             -- "--mem-limit" "did you mean 512G?"
bad sweep --swap-limit 100            -- "--swap-limit" "did you mean 100G?"
bad sweep --what-if 8G,24             -- "--what-if" "did you mean 24G?"
bad sweep --what-if 8G,1K             -- "--what-if" "from 4.00 KiB"
# with a unit, or 4096 and above, or 0 swap: taken as given
expect_exit 0 "$MW" plan llama-3-8b --mem 24G --json
expect_exit 0 "$MW" plan llama-3-8b --mem 4096 --json
expect_exit 2 "$MW" plan llama-3-8b --mem 24B      # bytes said, but below a page
expect_contains "$T/stderr" "from 4.00 KiB"
ok "--mem 24: 'did you mean 24G?' for --mem, --mem-limit, --swap-limit, --what-if; 24G and 4096 taken"

# ---- run checks its plan before allocating ------------------------------------------
# --prompt 2000000000 was OOM-killed at the cap while plan said it needs TiBs.
expect_exit 1 timeout 60 "$MW" run --prompt 2000000000
expect_contains "$T/stderr" "needs"
expect_contains "$T/stderr" "TiB"
expect_contains "$T/stderr" "KV cache"
expect_contains "$T/stderr" "available"
expect_contains "$T/stderr" "--force"
expect_empty "$T/stdout"
# --force is accepted, and a workload that fits runs as before
expect_exit 0 "$MW" run --force --prompt 8 --gen 2 --threads 1 --json
expect_json "$T/stdout" batch 1
expect_exit 0 "$MW" run --prompt 8 --gen 2 --threads 1
ok "run --prompt 2000000000: exit 1 with the plan's numbers and --force; --force accepted"
