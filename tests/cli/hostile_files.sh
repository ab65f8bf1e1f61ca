#!/usr/bin/env bash
# Files planted by someone else (issue #10): links at convert's output and
# its temporary, named pipes where a model or config.json is read, terminal
# escape codes in tensor names and dtypes, and an empty .gguf file. Each
# must end promptly with a clear error and leave other files alone.
. "$(dirname "$0")/lib.sh"
cd "$MW_SOURCE_DIR" || fail "no source dir"
GGUF=fuzz/corpus/gguf/tiny_llama.gguf
ST=fuzz/corpus/safetensors/llama_like

# ---- convert: links at OUT.gguf.tmp and at OUT.gguf are never followed ------
printf 'victim\n' > "$T/victim"
ln -s "$T/victim" "$T/out.gguf.tmp"
expect_exit 0 "$MW" convert --demo --dtype q4_0 "$T/out.gguf"
expect_file_is "$T/victim" victim
[ -L "$T/out.gguf.tmp" ] || fail "convert removed or replaced the planted out.gguf.tmp link"
[ -f "$T/out.gguf" ] && [ ! -L "$T/out.gguf" ] || fail "out.gguf is not a regular file"
expect_exit 0 "$MW" inspect "$T/out.gguf"
rm -f "$T/out.gguf" "$T/out.gguf.tmp"
ln -s "$T/victim" "$T/out.gguf"
expect_exit 0 "$MW" convert --demo --dtype q4_0 "$T/out.gguf"
expect_file_is "$T/victim" victim
[ ! -L "$T/out.gguf" ] || fail "out.gguf is still a link"
# a failed write leaves no temporary behind: OUT is a folder
mkdir "$T/outdir.gguf"
expect_exit 1 "$MW" convert --demo --dtype q4_0 "$T/outdir.gguf"
expect_contains "$T/stderr" "outdir.gguf"
left=$(find "$T" -maxdepth 1 -name 'outdir.gguf?*' | head -n 1)
[ -z "$left" ] || fail "convert left $left behind"
ok "convert: planted links are not followed, no temporary is left"

# ---- named pipes: refused before they are opened for reading ---------------
# (each command would block forever in open(2) or read(2) on a pipe with no
# writer; timeout turns that into exit 124)
fifo_refused() { # WHAT FIFO-PATH CMD...
    local what=$1 path=$2 got
    shift 2
    timeout 10 "$@" > "$T/stdout" 2> "$T/stderr" < /dev/null
    got=$?
    [ "$got" != 124 ] || fail "$what: blocked on the FIFO $path (killed after 10 s)"
    [ "$got" = 1 ] || { show stderr "$T/stderr"; fail "$what: expected exit 1, got $got"; }
    expect_contains "$T/stderr" "$path is a FIFO (named pipe), not a regular file"
}
mkfifo "$T/fifo.gguf"
fifo_refused "inspect FIFO" "$T/fifo.gguf" "$MW" inspect "$T/fifo.gguf"
fifo_refused "plan FIFO" "$T/fifo.gguf" "$MW" plan "$T/fifo.gguf"
fifo_refused "run FIFO" "$T/fifo.gguf" "$MW" run "$T/fifo.gguf" --prompt 2 --gen 1
# an index whose shard is a FIFO
mkdir "$T/sharded"
cp "$ST" "$T/sharded/model-00001-of-00002.safetensors"
mkfifo "$T/sharded/model-00002-of-00002.safetensors"
names=$("$MW" inspect --json "$ST" | sed -n 's/^[[:space:]]*"name":[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$names" ] || fail "no tensor names in $ST"
{
    printf '{"metadata": {}, "weight_map": {'
    sep=
    for n in $names; do
        printf '%s"%s": "model-00001-of-00002.safetensors"' "$sep" "$n"
        sep=', '
    done
    printf '%s"extra.weight": "model-00002-of-00002.safetensors"}}\n' "$sep"
} > "$T/sharded/model.safetensors.index.json"
fifo_refused "shard FIFO" "$T/sharded/model-00002-of-00002.safetensors" \
    "$MW" inspect "$T/sharded/model.safetensors.index.json"
mkfifo "$T/fifo.index.json"
fifo_refused "index FIFO" "$T/fifo.index.json" "$MW" inspect "$T/fifo.index.json"
# config.json as a FIFO: given by name, and beside a safetensors file
mkdir "$T/cfg"
mkfifo "$T/cfg/config.json"
fifo_refused "config.json FIFO" "$T/cfg/config.json" "$MW" plan "$T/cfg/config.json"
cp "$ST" "$T/cfg/model.safetensors"
fifo_refused "config.json FIFO beside the weights" "$T/cfg/config.json" "$MW" inspect "$T/cfg"
# a FIFO in a folder of models is named, not skipped
mkdir "$T/fdir"
mkfifo "$T/fdir/model.safetensors"
fifo_refused "model.safetensors FIFO in a folder" "$T/fdir/model.safetensors" "$MW" inspect "$T/fdir"
# other kinds: a character device
expect_exit 1 timeout 10 "$MW" inspect /dev/null
expect_contains "$T/stderr" "/dev/null is a character device, not a regular file"
ok "named pipes and devices: refused at once, with the path"

# ---- escape codes from files never reach the terminal ----------------------
# Fails when FILE holds a byte below 0x20 other than newline (and tab in
# JSON, as cJSON indents with tabs), or 0x7f.
expect_clean() { # FILE [json]
    local bad='[\001-\011\013-\037\177]'
    [ "${2:-}" = json ] && bad='[\001-\010\013-\037\177]'
    if LC_ALL=C grep -q "$(printf "$bad")" "$1"; then
        show "$(basename "$1")" "$1"
        fail "$(basename "$1") holds control characters: $(LC_ALL=C tr -d '\n' < "$1" | od -c | head -n 3)"
    fi
}
esc=$(printf '\033')
bel=$(printf '\007')
# GGUF: a tensor name (same length as the one it replaces) and the
# architecture (every "llama" in keys and value, so the hparams still read)
evil=$(printf 'blk.0.\033[31m\007fn_up.w')   # 19 bytes, as blk.0.ffn_up.weight
[ "${#evil}" = 19 ] || fail "test bug: replacement name is ${#evil} bytes"
LC_ALL=C sed "s/blk\.0\.ffn_up\.weight/$evil/; s/llama/${esc}[31$bel/g" "$GGUF" > "$T/evil.gguf"
cmp -s "$GGUF" "$T/evil.gguf" && fail "test bug: evil.gguf is unchanged"
expect_exit 0 "$MW" inspect "$T/evil.gguf"
expect_contains "$T/stdout" "blk.0.?[31m?fn_up.w"
expect_contains "$T/stdout" "architecture"
expect_clean "$T/stdout"
expect_exit 0 "$MW" inspect --json "$T/evil.gguf"
expect_clean "$T/stdout" json
expect_contains "$T/stdout" '"blk.0.\u001b[31m\u0007fn_up.w"'
expect_exit 0 "$MW" plan "$T/evil.gguf"
expect_clean "$T/stdout"
# run: the architecture is no llama; the message shows it escaped
expect_exit 1 "$MW" run "$T/evil.gguf" --prompt 2 --gen 1
expect_clean "$T/stderr"
expect_contains "$T/stderr" "?[31?"
# safetensors: a tensor name, and an unknown dtype
st_file() { # OUT HEADER-JSON (then one data byte)
    local n=${#2}
    {
        printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' \
            $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))"
        printf '%s' "$2"
        printf 'x'
    } > "$1"
}
st_file "$T/evil_name.safetensors" \
    '{"a\u001b[31m\u0007b\u009b2J":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
expect_exit 0 "$MW" inspect "$T/evil_name.safetensors"
expect_clean "$T/stdout"
expect_contains "$T/stdout" "a?[31m?b"
expect_exit 0 "$MW" inspect --json "$T/evil_name.safetensors"
expect_clean "$T/stdout" json
st_file "$T/evil_dtype.safetensors" \
    '{"w\u001b]0;pwned\u0007":{"dtype":"F\u001b[2J\u0007","shape":[1],"data_offsets":[0,1]}}'
expect_exit 1 "$MW" inspect "$T/evil_dtype.safetensors"
expect_clean "$T/stderr"
expect_contains "$T/stderr" "unknown dtype"
expect_exit 1 "$MW" plan "$T/evil_dtype.safetensors"
expect_clean "$T/stderr"
ok "escape codes in names, architectures and dtypes are shown escaped"

# ---- an empty file is named by its extension ---------------------------------
: > "$T/empty.gguf"
expect_exit 1 "$MW" inspect "$T/empty.gguf"
expect_contains "$T/stderr" "empty.gguf"
expect_contains "$T/stderr" "not a GGUF file"
expect_not_contains "$T/stderr" "safetensors"
: > "$T/empty.safetensors"
expect_exit 1 "$MW" inspect "$T/empty.safetensors"
expect_contains "$T/stderr" "safetensors"
# and a short file with the GGUF magic, whatever its name, is a GGUF file
printf 'GGUF\003\000' > "$T/short.bin"
expect_exit 1 "$MW" inspect "$T/short.bin"
expect_not_contains "$T/stderr" "safetensors"
ok "empty files: the format named by the extension or the magic"
