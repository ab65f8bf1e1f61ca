#!/usr/bin/env bash
# Enforces the layering of docs/ARCHITECTURE.md: a lower layer never
# includes a higher one, and the CLI sees only the public header.
#   common <- probe          (observes processes)
#   common <- format <- plan <- engine (reads, predicts, runs models)
#   all of them <- report <- cli
set -u
root=${1:-.}
fail=0
check() { # layer, forbidden include prefixes...
  local layer=$1; shift
  for dir in "$@"; do
    if grep -rnE "#include \"($dir)/" "$root/src/$layer" 2>/dev/null; then
      echo "layers: src/$layer must not include $dir/ (see docs/ARCHITECTURE.md)"; fail=1
    fi
  done
}
check common probe format plan engine sweep report
check probe format plan engine sweep report
check format probe plan engine sweep report
check plan probe engine sweep report
check engine probe sweep report
check sweep report
# the CLI uses only include/memwall.h and its own cli.h
if grep -nE '#include "(common|probe|format|plan|engine|sweep|report)/' "$root"/cli/*.c "$root"/cli/*.h; then
  echo "layers: cli/ must use only the public header memwall.h"; fail=1
fi
[ $fail -eq 0 ] && echo "layers: ok"
exit $fail
