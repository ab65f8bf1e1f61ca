#!/usr/bin/env bash
# doc_examples.sh - every example command of the documentation runs, as it
# is written, and exits 0:
#   README.md         the lines of its ```sh blocks that call memwall
#   cli/doc/*.txt     the "== EXAMPLES" sections (`memwall help CMD`, --help,
#                     the man page)
#   docs/*.md         the lines of shell blocks (```sh, bash, shell, console)
#                     that call memwall
# The examples are read from those files at every run: a new example is
# tested, a removed one is not. Each runs with `bash -c` in one working
# directory holding the fixtures the examples name (model.gguf, train.py,
# ./infer, a Makefile, ./Mistral-7B/, ...), with `memwall` and
# `./build/memwall` being the memwall under test. The fixtures are small so
# that the examples finish in seconds (the demo model is built in: its two
# sweeps take most of this test's minute or two).
#
# An example is skipped, with the reason, when this machine cannot run it:
# no writable memory cgroup or no swap limit, no PID to give --pid, and
# under ASan the demo model's runs and sweeps and the batch sweep of
# model.gguf (minutes each; sweep_demo.sh checks their path).
# ./scripts/test.sh is not run: it is what runs this test.
#
# MW_DOC_EXAMPLES=REGEX runs only the examples whose line matches REGEX;
# MW_DOC_EXAMPLES_SHOW=1 prints what each one printed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

LIMIT=${MW_DOC_EXAMPLE_TIMEOUT:-150}   # seconds an example may take
SRC=$MW_SOURCE_DIR
W=$T/work
mkdir -p "$W" "$T/bin" "$W/build" "$W/scripts" || fail "cannot make $W"

# ---- the examples ----------------------------------------------------------------

# Prints "FILE:LINE<TAB>CODE<TAB>LINE AS WRITTEN" for every example (CODE:
# without its comment, blanks squeezed). Lines joined by a
# trailing backslash count as one (at the first line's number); a "$ " prompt
# of a console block is dropped.
extract_examples() {
    (cd "$SRC" && awk '
        # s without an unquoted " #" comment, its blanks squeezed
        function code_of(s,   i, c, q) {
            q = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (q != "") { if (c == q) q = ""; continue }
                if (c == "\047" || c == "\"") { q = c; continue }
                if (c == "#" && (i == 1 || substr(s, i - 1, 1) ~ /[ \t]/)) { s = substr(s, 1, i - 1); break }
            }
            gsub(/[ \t]+/, " ", s)
            sub(/^ /, "", s)
            sub(/ $/, "", s)
            return s
        }
        function emit(where, s,   code) {
            sub(/^[ \t]+/, "", s)
            code = code_of(s)
            if (code == "") return
            if (FILENAME ~ /\.txt$/ || code ~ /(^|[ ;&|(])(\.\/build\/)?memwall( |$)/) print where "\t" code "\t" s
            else print where ": " s "  (it does not call memwall)" > "/dev/stderr"
        }
        FNR == 1 { fence = ""; inblock = 0; examples = 0; pending = "" }
        FILENAME ~ /\.md$/ {
            if ($0 ~ /^[ \t]*```/) {
                if (fence == "") {
                    fence = $0
                    lang = $0; sub(/^[ \t]*```[ \t]*/, "", lang); sub(/[ \t{].*/, "", lang)
                    inblock = lang ~ /^(sh|bash|shell|console|shell-session)$/
                } else { fence = ""; inblock = 0 }
                next
            }
            if (!inblock) next
            line = $0
            if (lang ~ /^(console|shell-session)$/) { if (line !~ /^[ \t]*\$ /) next; sub(/^[ \t]*\$ /, "", line) }
        }
        FILENAME ~ /\.txt$/ {
            if ($0 ~ /^== /) { examples = ($0 ~ /^== EXAMPLES/); next }
            if (!examples || $0 !~ /^[ \t]/) next
            line = $0
        }
        {
            if (pending == "") where = FILENAME ":" FNR
            if (line ~ /\\$/) { pending = pending substr(line, 1, length(line) - 1) " "; next }
            emit(where, pending line)
            pending = ""
        }
    ' README.md cli/doc/*.txt docs/*.md)
}

extract_examples > "$T/examples.txt" 2> "$T/not-run.txt" || fail "cannot read the examples"
if [ -n "${MW_DOC_EXAMPLES:-}" ]; then
    grep -E -- "$MW_DOC_EXAMPLES" "$T/examples.txt" > "$T/only.txt"
    mv "$T/only.txt" "$T/examples.txt"
else
    # the extraction itself: each source still yields its examples
    for src in README.md cli/doc/sweep.txt cli/doc/watch.txt cli/doc/plan.txt cli/doc/run.txt \
               cli/doc/inspect.txt cli/doc/convert.txt; do
        grep -q "^$src:" "$T/examples.txt" || { show examples "$T/examples.txt"; fail "no examples found in $src"; }
    done
fi
n_examples=$(wc -l < "$T/examples.txt")
[ "$n_examples" -gt 0 ] || fail "no examples to run"
# (./scripts/test.sh: it is what runs this test)
while IFS= read -r l; do echo "not run: $l"; done < "$T/not-run.txt"

# ---- fixtures ----------------------------------------------------------------------

# memwall and ./build/memwall are the memwall under test
ln -s "$MW" "$T/bin/memwall"
ln -s "$MW" "$W/build/memwall"
# the README builds before its first example; ctest has built memwall already
cat > "$W/scripts/build.sh" <<'EOF'
#!/bin/sh
# doc_examples.sh fixture: ctest has built memwall (./build/memwall).
echo "build.sh: (fixture) memwall is already built"
EOF
chmod +x "$W/scripts/build.sh"

# python3: the one on PATH (its interpreter directly: a pyenv shim costs
# 0.3 s a start), else Debian's; the scripts below need only its stdlib
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
[ -n "$PY" ] && [ -x "$PY" ] || PY=/usr/bin/python3
have_python=0
[ -x "$PY" ] && { ln -s "$PY" "$T/bin/python3"; have_python=1; }

# train.py: a training step's memory grows with the batch (256 KiB a sample)
cat > "$W/train.py" <<'EOF'
#!/usr/bin/env python3
"""doc_examples.sh fixture: a stand-in training script (stdlib only)."""
import argparse
import time

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=1)
a = p.parse_args()
step = bytearray(b"\1") * (a.batch * 256 * 1024)   # written: resident
time.sleep(0.02)
print("batch %d: loss %.3f" % (a.batch, 1.0 / (1 + len(step) % 7)))
EOF
# serve.py: a server's KV cache grows with the context (512 bytes a token)
cat > "$W/serve.py" <<'EOF'
#!/usr/bin/env python3
"""doc_examples.sh fixture: a stand-in server holding --len tokens (stdlib only)."""
import argparse
import time

p = argparse.ArgumentParser()
p.add_argument("--len", type=int, default=256)
a = p.parse_args()
kv = bytearray(b"\1") * (a.len * 512)
time.sleep(0.02)
print("served %d tokens of context (%d bytes)" % (a.len, len(kv)))
EOF
# ./bench --bs=N prints its throughput
cat > "$W/bench" <<'EOF'
#!/bin/sh
# doc_examples.sh fixture: a benchmark that prints "N samples/s".
bs=1
for a in "$@"; do case $a in --bs=*) bs=${a#--bs=} ;; esac; done
echo "batch $bs: $((bs * 90)).5 samples/s"
EOF
# ./infer MODEL reads the model; ./app touches 64 MiB
cat > "$W/infer" <<'EOF'
#!/bin/sh
# doc_examples.sh fixture: an inference program that reads its model
# (and takes --batch N, reporting a rate as llama.cpp's tools do).
cat "$1" > /dev/null && echo "infer: read $1; 42.0 t/s"
EOF
cat > "$W/app" <<EOF
#!/bin/sh
# doc_examples.sh fixture: an application that uses 64 MiB.
exec "$MW_TOUCH" 64M
EOF
chmod +x "$W/bench" "$W/infer" "$W/app"
# make -j2: two jobs at once
printf 'all: a.out b.out\n%%.out:\n\t@sleep 0.2; echo $@ > $@\n' > "$W/Makefile"

# Hugging Face folders: Mistral-7B and Llama-3-8B (config.json only)
mkdir -p "$W/Mistral-7B" "$W/Llama-3-8B"
cat > "$W/Mistral-7B/config.json" <<'EOF'
{"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
 "intermediate_size": 14336, "vocab_size": 32000, "max_position_embeddings": 32768,
 "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "torch_dtype": "bfloat16"}
EOF
cat > "$W/Llama-3-8B/config.json" <<'EOF'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
 "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
 "intermediate_size": 14336, "vocab_size": 128256, "max_position_embeddings": 8192,
 "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": false,
 "torch_dtype": "bfloat16"}
EOF

# model.gguf: a small llama with what the examples ask of a model - a
# vocabulary past token 15043 (run --tokens 1,15043,3186), a head dimension
# of 32 (plan --kv-dtype q8_0), a 4096-token context (sweep --ctx 4096) - and
# so little else that a batch of 4096 holds 2.5 GiB and runs in seconds.
# It needs numpy (tests/ref/gguf_min.py); without it, the demo model, and
# the batch sweep at --ctx 4096 then takes minutes: skipped.
model_is_demo=0
REFPY=${MW_REF_PYTHON:-/usr/bin/python3}
# model-q8.gguf (memwall eval --ref): the same weights in Q8_0
cat > "$T/make_model.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
import numpy as np
import gguf_min as g

n_layer, n_embd, n_head, n_ff, n_vocab, n_ctx = 1, 32, 1, 64, 15360, 4096
rng = np.random.default_rng(42)
w = g.GGUFWriter()
w.add("general.architecture", "llama")
w.add("general.name", "memwall doc_examples.sh fixture")
for k, v in [("vocab_size", n_vocab), ("context_length", n_ctx), ("embedding_length", n_embd),
             ("block_count", n_layer), ("feed_forward_length", n_ff),
             ("rope.dimension_count", n_embd // n_head), ("attention.head_count", n_head),
             ("attention.head_count_kv", n_head)]:
    w.add("llama." + k, v, g.T_U32)
w.add("llama.attention.layer_norm_rms_epsilon", 1e-5, g.T_F32)

# a SentencePiece-style vocabulary (memwall tokenize): <unk> <s> </s>, the
# 256 byte tokens, the pieces that build "▁Hello" and "▁world" at llama's
# ids for them (15043, 3186), and fillers
SP = "\u2581"
toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
types = [2, 3, 3] + [6] * 256
toks += [SP + "t%d" % i for i in range(len(toks), n_vocab)]
types += [1] * (n_vocab - len(types))
scores = [0.0] * 259 + [-float(i) for i in range(259, n_vocab)]
nxt = 259
for word, at in ((SP + "Hello", 15043), (SP + "world", 3186), (",", 1919)):
    for k in range(2, len(word)):
        toks[nxt], scores[nxt] = word[:k], float(k)
        nxt += 1
    toks[at], scores[at] = word, float(len(word))
w.add("tokenizer.ggml.model", "llama")
w.add("tokenizer.ggml.tokens", toks, g.T_ARRAY, g.T_STRING)
w.add("tokenizer.ggml.scores", scores, g.T_ARRAY, g.T_F32)
w.add("tokenizer.ggml.token_type", types, g.T_ARRAY, g.T_I32)
for k, v in (("unknown_token_id", 0), ("bos_token_id", 1), ("eos_token_id", 2)):
    w.add("tokenizer.ggml." + k, v, g.T_U32)


WT = g.TYPE_BY_NAME[sys.argv[3]] if len(sys.argv) > 3 else g.F32


def tensor(name, *shape, std=0.1):
    a = rng.normal(0.0, std, shape) if len(shape) > 1 else np.ones(shape)
    w.add_tensor(name, a.astype(np.float32), WT if len(shape) > 1 else g.F32)


tensor("token_embd.weight", n_vocab, n_embd, std=0.02)   # tied: no output.weight
for i in range(n_layer):
    p = "blk.%d." % i
    tensor(p + "attn_norm.weight", n_embd)
    for m in ("q", "k", "v", "output"):
        tensor(p + "attn_%s.weight" % m, n_embd, n_embd)
    tensor(p + "ffn_norm.weight", n_embd)
    tensor(p + "ffn_gate.weight", n_ff, n_embd)
    tensor(p + "ffn_up.weight", n_ff, n_embd)
    tensor(p + "ffn_down.weight", n_embd, n_ff)
tensor("output_norm.weight", n_embd)
w.write(sys.argv[1])
EOF
if ! { "$REFPY" "$T/make_model.py" "$W/model.gguf" "$SRC/tests/ref" &&
       "$REFPY" "$T/make_model.py" "$W/model-q8.gguf" "$SRC/tests/ref" q8_0; } > "$T/model.txt" 2>&1
then
    echo "note: no small model.gguf ($REFPY with numpy: $(tail -n 1 "$T/model.txt")); using the demo model"
    "$MW" convert --demo "$W/model.gguf" || fail "memwall convert --demo model.gguf failed"
    "$MW" convert --demo --dtype q8_0 "$W/model-q8.gguf" || fail "memwall convert --demo model-q8.gguf failed"
    model_is_demo=1
fi

# heldout.txt (memwall eval --text-file): a short text, ~5 chunks of 128
# tokens with model.gguf's vocabulary (bytes, mostly), so that the demo
# model's fallback stays quick too
cat > "$W/heldout.txt" <<'EOF'
Hello world, the memory wall is where a model stops fitting: the weights,
the KV cache and the activations together pass what the machine holds.
memwall measures each of them, predicts them from the model's shape, and
sweeps the batch until the wall. A smaller type for the weights moves the
wall, and costs some quality; memwall eval puts a number on that cost.
Hello world, again: the perplexity of a text, and the divergence of two
models' next-token distributions, chunk after chunk.
EOF

# The process for `watch --pid N`: the next PID the kernel gives is
# ns_last_pid + 1 (root, and N free). Prints nothing and returns 1 when N
# cannot be had.
start_pid() { # N
    local want=$1 tries
    [ -e "/proc/$want" ] && return 1
    for tries in 1 2 3; do
        { echo $((want - 1)) > /proc/sys/kernel/ns_last_pid; } 2>/dev/null || return 1
        sleep 1 &
        if [ "$!" = "$want" ]; then
            track_pid "$!"
            return 0
        fi
        kill "$!" 2>/dev/null
        wait "$!" 2>/dev/null
    done
    return 1
}

# ---- running them --------------------------------------------------------------------

n_ok=0 n_skip=0
declare -A done_at=()
total_start=$(date +%s.%N)
while IFS=$'\t' read -r where code cmd; do
    # the same command in two places runs once
    if [ -n "${done_at[$code]:-}" ]; then
        echo "same $where: $cmd  (as ${done_at[$code]})"
        continue
    fi
    done_at[$code]=$where
    skip_why=
    case $cmd in
        *"--pid "*)
            pid=$(printf '%s\n' "$cmd" | sed -n 's/.*--pid[ =]\([0-9][0-9]*\).*/\1/p')
            [ -n "$pid" ] && start_pid "$pid" || skip_why="no process can be given PID $pid here (needs root and a free PID)"
            ;;
    esac
    case $cmd in
        *python3*) [ "$have_python" = 1 ] || skip_why="no python3" ;;
    esac
    # what the engine will run: the demo model (run or sweep with no MODEL
    # file and no command), or a batch sweep of model.gguf (to batch 4096)
    engine=
    if printf '%s\n' "$code" | grep -qE 'memwall (run|sweep)( |$)' &&
       ! printf '%s\n' "$code" | grep -qE '( |^)--( |$)'; then
        if ! printf '%s\n' "$code" | grep -q '\.gguf'; then
            engine=demo
        elif printf '%s\n' "$code" | grep -q 'memwall sweep' && ! printf '%s\n' "$code" | grep -q -- '--contexts'; then
            engine=batch-sweep
        fi
    fi
    # under ASan the engine is many times slower: those take minutes there
    if [ "${MW_SANITIZED:-0}" = 1 ]; then
        case $engine in
            demo) skip_why="the demo model takes minutes under ASan (sweep_demo.sh and the engine tests check its path)" ;;
            batch-sweep) skip_why="a batch sweep of the engine to batch 4096 takes minutes under ASan" ;;
        esac
    fi
    if [ "$model_is_demo" = 1 ] && [ "$engine" = batch-sweep ]; then
        skip_why="model.gguf is the demo model here (no numpy for the small one): this batch sweep would take many minutes"
    fi
    if [ -n "$skip_why" ]; then
        echo "SKIP $where: $cmd  ($skip_why)"
        n_skip=$((n_skip + 1))
        continue
    fi
    start=$(date +%s.%N)
    (cd "$W" && PATH="$T/bin:$PATH" timeout -k 10 "$LIMIT" bash -c "$cmd") \
        > "$T/example.out" 2> "$T/example.err" < /dev/null
    rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" != 0 ] && grep -q "systemd-run\|cannot create memory cgroup\|cannot limit swap" "$T/example.err"; then
        echo "SKIP $where: $cmd  ($(head -n 1 "$T/example.err"))"
        n_skip=$((n_skip + 1))
        continue
    fi
    if [ "$rc" != 0 ]; then
        show stdout "$T/example.out"
        show stderr "$T/example.err"
        if { [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && awk -v s="$secs" -v l="$LIMIT" 'BEGIN { exit !(s >= l) }'; then
            fail "$where: '$cmd' ran past ${LIMIT}s (MW_DOC_EXAMPLE_TIMEOUT)"
        fi
        fail "$where: '$cmd' exited $rc (in $W, fixtures and all; MW_KEEP_TMP=1 keeps it)"
    fi
    echo "ok   $where: $cmd  (${secs}s)"
    [ "${MW_DOC_EXAMPLES_SHOW:-0}" = 1 ] && cat "$T/example.out" "$T/example.err"
    n_ok=$((n_ok + 1))
done < "$T/examples.txt"

# what the examples wrote is what they say
if [ -e "$W/run.json" ]; then expect_valid_json "$W/run.json"; fi
if [ -e "$W/tensors.json" ]; then expect_json "$W/tensors.json" schema memwall.inspect/1; fi
if [ -e "$W/mem.csv" ]; then expect_num "samples in mem.csv" "$(($(wc -l < "$W/mem.csv") - 1))" ">=" 1; fi

# "man memwall": the page is generated (help.sh renders it)
if grep -q "man memwall" "$SRC/README.md"; then
    [ -s "$MW_BUILD_DIR/gen/memwall.1" ] || fail "README names 'man memwall', but $MW_BUILD_DIR/gen/memwall.1 was not generated"
fi

total=$(awk -v a="$total_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
ok "$n_ok of $n_examples examples ran and exited 0, $n_skip skipped, in ${total}s"
