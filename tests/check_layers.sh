#!/usr/bin/env bash
# Enforces the layering of docs/ARCHITECTURE.md and CONTRIBUTING.md ("Layers"):
#   common <- probe          (observes processes)
#   common <- format <- plan <- engine (reads, predicts, runs models)
#   common <- probe <- roofline (measures this machine's ceilings)
#   sweep over those; report over all of them; cli over report
# by what the object files link against, not only by what they include:
# everything goes through memwall.h, so an include check cannot see a call
# upward. For every object of the library (src/LAYER/*.c) each undefined
# symbol defined by another object of the library must come from a layer it
# may use; the CLI's objects may use only what include/memwall.h declares
# MW_API. No two objects may call each other (a circle between files). The
# include rules are checked too, for the headers' types and macros.
# usage: check_layers.sh SOURCE_DIR BUILD_DIR
set -u
root=${1:-.}
build=${2:-}
fail=0

# ---- includes ----------------------------------------------------------------
check() { # layer, forbidden include prefixes...
  local layer=$1; shift
  for dir in "$@"; do
    if grep -rnE "#include \"($dir)/" "$root/src/$layer" 2>/dev/null; then
      echo "layers: src/$layer must not include $dir/ (see docs/ARCHITECTURE.md)"; fail=1
    fi
  done
}
check common probe format plan engine roofline sweep report
check probe format plan engine roofline sweep report
check format probe plan engine roofline sweep report
check plan probe engine roofline sweep report
check engine probe roofline sweep report
check roofline format plan engine sweep report
check sweep report
check convert probe roofline sweep report   # convert (issue #14): over engine
# format/model_build.h is how readers build a model: internal to format/
if grep -rn '#include "format/model_build.h"' "$root/src" | grep -v "^$root/src/format/"; then
  echo "layers: format/model_build.h is internal to src/format (others use format/model.h)"; fail=1
fi
# the CLI uses only include/memwall.h and its own cli.h
if grep -nE '#include "(common|probe|format|plan|engine|roofline|sweep|report)/' "$root"/cli/*.c "$root"/cli/*.h; then
  echo "layers: cli/ must use only the public header memwall.h"; fail=1
fi

# ---- symbols -----------------------------------------------------------------
if [ -z "$build" ]; then
  echo "layers: no build directory given: symbols not checked"; exit 1
fi
command -v nm >/dev/null || { echo "layers: no nm (binutils)"; exit 1; }
objs=$(find "$build/CMakeFiles/mw_objs.dir/src" -name '*.o' | sort)
cli_objs=$(find "$build/CMakeFiles/mw_cli_objs.dir/cli" "$build/CMakeFiles/memwall.dir/cli" -name '*.o' 2>/dev/null | sort)
[ -n "$objs" ] && [ -n "$cli_objs" ] || { echo "layers: no object files under $build/CMakeFiles (build first)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# one line per symbol: "D|U layer file symbol", file as src/LAYER/NAME.c
for o in $objs; do
  rel=${o#"$build/CMakeFiles/mw_objs.dir/"}; rel=${rel%.o}       # src/sweep/sweep.c
  layer=${rel#src/}; layer=${layer%%/*}
  nm -g --defined-only "$o" | awk -v l="$layer" -v f="$rel" 'NF == 3 { print "D", l, f, $3 }'
  nm -u "$o" | awk -v l="$layer" -v f="$rel" '{ print "U", l, f, $NF }'
done > "$tmp/syms"
for o in $cli_objs; do
  rel=cli/$(basename "${o%.o}")
  nm -u "$o" | awk -v f="$rel" '{ print "U", "cli", f, $NF }'
done >> "$tmp/syms"
grep -E '^MW_API ' "$root/include/memwall.h" |
  sed -E 's/^MW_API [^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*) *\(.*/\1/' | sort -u > "$tmp/public"

# the layers each layer may use (itself included)
cat > "$tmp/allowed" <<'ALLOWED'
common common
probe common probe
format common format
plan common format plan
engine common format plan engine
roofline common probe roofline
sweep common probe format plan engine roofline sweep
report common probe format plan engine roofline sweep report
convert common format plan engine convert
ALLOWED

awk -v pubfile="$tmp/public" -v allowfile="$tmp/allowed" '
  BEGIN {
    while ((getline line < pubfile) > 0) pub[line] = 1
    while ((getline line < allowfile) > 0) {
      n = split(line, a, " ")
      for (i = 2; i <= n; i++) ok[a[1] "," a[i]] = 1
    }
  }
  $1 == "D" { deflayer[$4] = $2; deffile[$4] = $3; next }
  { use[++nu] = $0 }
  END {
    bad = 0
    for (i = 1; i <= nu; i++) {
      split(use[i], u, " "); layer = u[2]; file = u[3]; sym = u[4]
      if (!(sym in deflayer)) continue            # libc, cJSON, ...
      d = deflayer[sym]
      if (layer == "cli") {
        if (!(sym in pub)) {
          printf "layers: %s (cli) uses %s, defined in %s (%s), which include/memwall.h does not declare MW_API\n", file, sym, deffile[sym], d
          bad = 1
        }
        continue
      }
      if (!((layer "," d) in ok)) {
        printf "layers: %s (%s) uses %s, defined in %s (%s): %s may not use %s\n", file, layer, sym, deffile[sym], d, layer, d
        bad = 1
      }
      if (deffile[sym] != file) calls[file "|" deffile[sym]] = sym
    }
    for (k in calls) {
      split(k, p, "|")
      if ((p[2] "|" p[1]) in calls && p[1] < p[2]) {
        printf "layers: %s and %s call each other (%s, %s): move what both use into a file of its own\n", p[1], p[2], calls[k], calls[p[2] "|" p[1]]
        bad = 1
      }
    }
    exit bad
  }' "$tmp/syms" || fail=1

[ $fail -eq 0 ] && echo "layers: ok ($(echo "$objs" | wc -l) library objects and $(echo "$cli_objs" | wc -l) CLI objects: includes, symbols by layer, no two files calling each other)"
exit $fail
