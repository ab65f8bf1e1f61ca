# install.sh - sourced by check.sh and sweep.sh: installs node-llama-cpp,
# pinned in package.json, into $MW_LLAMACPP_DIR (default
# ~/.cache/memwall-llamacpp), never into the repository; only when it is
# missing or package.json changed. Needs $here (this folder) and a skip
# function (exit 77 with a reason).
export MW_LLAMACPP_DIR=${MW_LLAMACPP_DIR:-$HOME/.cache/memwall-llamacpp}
want=$(node -p 'require(process.argv[1]).dependencies["node-llama-cpp"]' "$here/package.json") ||
  skip "cannot read $here/package.json"
installed() {
  cmp -s "$here/package.json" "$MW_LLAMACPP_DIR/package.json" &&
    [ "$(node -p 'require(process.argv[1]).version' \
           "$MW_LLAMACPP_DIR/node_modules/node-llama-cpp/package.json" 2>/dev/null)" = "$want" ]
}
if ! installed; then
  echo "$(basename "$0"): installing node-llama-cpp $want into $MW_LLAMACPP_DIR (about 730 MB)" >&2
  mkdir -p "$MW_LLAMACPP_DIR" || skip "cannot create $MW_LLAMACPP_DIR"
  cp "$here/package.json" "$MW_LLAMACPP_DIR/package.json" || skip "cannot write $MW_LLAMACPP_DIR"
  # The postinstall script (which would offer to build llama.cpp) is not
  # needed: the scripts load the prebuilt binaries with build: "never".
  (cd "$MW_LLAMACPP_DIR" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error) >&2 ||
    skip "npm install of node-llama-cpp $want failed"
  installed || skip "node-llama-cpp $want is not in $MW_LLAMACPP_DIR after npm install"
fi
