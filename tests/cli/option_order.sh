#!/usr/bin/env bash
# Options before and after the operand (MODEL, OUT.gguf) for every command
# that takes one - inspect, plan, run, convert, sweep - with and without
# POSIXLY_CORRECT (which stops GNU getopt at the first operand); "--" still
# ends the options; a second operand is a usage error (exit 2) naming it;
# watch still takes the first non-option as the start of CMD.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"
GGUF=fuzz/corpus/gguf/tiny_llama.gguf

for posix in unset 1; do
  if [ "$posix" = 1 ]; then export POSIXLY_CORRECT=1; else unset POSIXLY_CORRECT; fi
  what="POSIXLY_CORRECT=$posix"

  # inspect: --json before, after, and on both sides of MODEL
  expect_exit 0 "$MW" inspect --json "$GGUF"
  cp "$T/stdout" "$T/before.json"
  expect_exit 0 "$MW" inspect "$GGUF" --json
  cmp -s "$T/stdout" "$T/before.json" || fail "$what: 'inspect MODEL --json' differs from 'inspect --json MODEL'"
  expect_exit 0 "$MW" inspect -a "$GGUF" -j
  cmp -s "$T/stdout" "$T/before.json" || fail "$what: 'inspect -a MODEL -j' is not the JSON"
  expect_exit 0 "$MW" inspect -- "$GGUF"
  expect_contains "$T/stdout" "(gguf)"
  expect_exit 2 "$MW" inspect "$GGUF" --frobnicate
  expect_contains "$T/stderr" "unknown option '--frobnicate'"
  expect_exit 2 "$MW" inspect "$GGUF" --json second.gguf
  expect_contains "$T/stderr" "unexpected 'second.gguf'"
  expect_exit 2 "$MW" inspect -- "$GGUF" second.gguf
  expect_contains "$T/stderr" "unexpected 'second.gguf'"
  ok "$what: inspect MODEL --json; a second MODEL named"

  # plan: options on both sides give the same answer as all before
  expect_exit 0 "$MW" plan --json --ctx 8192 --batch 4 --mem 24G llama-3-8b
  cp "$T/stdout" "$T/plan-before.json"
  expect_exit 0 "$MW" plan llama-3-8b --ctx 8192 --batch 4 --mem 24G --json
  cmp -s "$T/stdout" "$T/plan-before.json" || fail "$what: 'plan MODEL OPTIONS' differs from 'plan OPTIONS MODEL'"
  expect_exit 0 "$MW" plan --ctx 8192 llama-3-8b --batch 4 --mem=24G -j
  cmp -s "$T/stdout" "$T/plan-before.json" || fail "$what: 'plan OPTS MODEL OPTS' differs"
  expect_json "$T/stdout" kv_cache_bytes 4294967296
  expect_exit 2 "$MW" plan llama-3-8b --ctx 8192 llama-2-7b --batch 4
  expect_contains "$T/stderr" "unexpected 'llama-2-7b'"
  expect_contains "$T/stderr" "memwall plan --help"
  expect_exit 2 "$MW" plan llama-3-8b --batch
  expect_contains "$T/stderr" "option '--batch' needs a value"
  ok "$what: plan MODEL OPTIONS == plan OPTIONS MODEL; a second MODEL named"

  # run: MODEL then options (the operand is optional: the demo model)
  expect_exit 0 "$MW" run "$GGUF" --batch 2 --prompt 3 --gen 2 --threads 1 --json
  cp "$T/stdout" "$T/run.json"
  expect_json "$T/run.json" schema memwall.run/1
  expect_json "$T/run.json" batch 2
  if have_jq; then
    expect_eq "run: prompt tokens (2 x 3)" "$(jq '.prompt_tokens' "$T/run.json")" 6
    expect_eq "run: generated per sequence" "$(jq '.generated[0] | length' "$T/run.json")" 2
  fi
  expect_exit 2 "$MW" run "$GGUF" --gen 2 other.gguf
  expect_contains "$T/stderr" "unexpected 'other.gguf'"
  ok "$what: run MODEL OPTIONS; a second MODEL named"

  # convert: OUT before --demo
  rm -f "$T/demo.gguf"
  expect_exit 0 "$MW" convert "$T/demo.gguf" --demo --dtype q8_0
  expect_exit 0 "$MW" inspect "$T/demo.gguf" --json
  expect_json "$T/stdout" source gguf
  if have_jq; then
    expect_eq "convert --dtype after OUT" "$(jq -r '.tensors[] | select(.name == "token_embd.weight") | .type' "$T/stdout")" Q8_0
  fi
  expect_exit 2 "$MW" convert "$T/a.gguf" --demo "$T/b.gguf"
  expect_contains "$T/stderr" "unexpected '$T/b.gguf'"
  [ -e "$T/a.gguf" ] && fail "$what: convert wrote a file despite the usage error"
  ok "$what: convert OUT --demo --dtype; a second OUT named"

  # sweep: options after MODEL are parsed (the axis checks see them: these
  # are usage errors only when --contexts / --batches were read)
  expect_exit 2 "$MW" sweep "$GGUF" --contexts auto --batches 1,2
  expect_contains "$T/stderr" "--batches is for a batch sweep"
  expect_exit 2 "$MW" sweep "$GGUF" --batch 8
  expect_contains "$T/stderr" "--batch is for a context sweep"
  expect_exit 2 "$MW" sweep "$GGUF" --ctx 4096 --mem-limit 8Q
  expect_contains "$T/stderr" "--mem-limit"
  expect_exit 2 "$MW" sweep "$GGUF" --ctx 64 second.gguf
  expect_contains "$T/stderr" "unexpected 'second.gguf'"
  expect_contains "$T/stderr" "give the command after --"
  expect_exit 2 "$MW" sweep "$GGUF" --ctx 64 -- true
  expect_contains "$T/stderr" "not both"
  expect_exit 2 "$MW" sweep "$GGUF" --ctx 64 --
  expect_contains "$T/stderr" "no command after --"
  # a command without "--" is a usage error that names its second word, and
  # its own options are not read as sweep's
  expect_exit 2 "$MW" sweep python3 train.py --batch '{batch}'
  expect_contains "$T/stderr" "unexpected 'train.py'"
  ok "$what: sweep MODEL OPTIONS parses the options; usage errors name the extra operand"
done
unset POSIXLY_CORRECT

# A real sweep with every option after MODEL: the options took effect.
need_memory_cgroup
for posix in unset 1; do
  if [ "$posix" = 1 ]; then export POSIXLY_CORRECT=1; else unset POSIXLY_CORRECT; fi
  sweep_json "$GGUF" --batches 1,2 --ctx 64 --prompt 4 --gen 2 --mem-limit 256M
  expect_json "$T/sweep.json" mem_limit_bytes 268435456
  expect_json "$T/sweep.json" axis batch
  if have_jq; then
    expect_eq "batches" "$(jq -c '[.points[].batch]' "$T/sweep.json")" "[1,2]"
    expect_eq "statuses" "$(jq -r '[.points[].status] | join(",")' "$T/sweep.json")" "ok,ok"
  fi
  expect_contains "$T/sweep.json" "--ctx 64"
  sweep_json "$GGUF" --contexts 64,128 --batch 2 --prompt 4 --gen 2 --mem-limit 256M
  expect_json "$T/sweep.json" axis ctx
  if have_jq; then
    expect_eq "contexts" "$(jq -c '[.points[].ctx]' "$T/sweep.json")" "[64,128]"
    expect_eq "batch of every point" "$(jq -c '[.points[].batch] | unique' "$T/sweep.json")" "[2]"
  fi
  ok "POSIXLY_CORRECT=$posix: sweep MODEL --batches/--contexts ... runs what the options say"
done
unset POSIXLY_CORRECT

# watch keeps "+": the first non-option starts CMD, and CMD's own options
# are CMD's (here mw-touch's --exit), with or without "--".
for posix in unset 1; do
  if [ "$posix" = 1 ]; then export POSIXLY_CORRECT=1; else unset POSIXLY_CORRECT; fi
  expect_exit 5 "$MW" watch -q "$MW_TOUCH" --exit 5 1M
  expect_exit 5 "$MW" watch -q -- "$MW_TOUCH" --exit 5 1M
  expect_exit 3 "$MW" watch sh -c 'echo "$@"; exit 3' sh --json -q
  expect_file_is "$T/stdout" "--json -q"
  expect_contains "$T/stderr" "peak rss"
  ok "POSIXLY_CORRECT=$posix: watch CMD --opts leaves CMD's options to CMD"
done
