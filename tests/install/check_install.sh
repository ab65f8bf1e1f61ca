#!/usr/bin/env bash
# Installs memwall into a temporary prefix and builds the examples at the top
# of include/memwall.h against it through pkg-config: the first (watch),
# static and shared, and runs it; the others shared, running those that
# start no process.
# usage: check_install.sh SOURCE_DIR BUILD_DIR [EXTRA_CFLAGS]
# (EXTRA_CFLAGS: the sanitizer flags of an ASan build, for the link)
set -euo pipefail
src=$1 build=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/memwall include/memwall.h share/man/man1/memwall.1 share/memwall/models/tiny.gguf \
         share/memwall/models/tiny.heldout.txt; do
  [ -e "$tmp/prefix/$f" ] || { echo "install: $f missing"; exit 1; }
done
lib=$(find "$tmp/prefix" -name libmemwall.a -printf '%h\n' | head -1)
[ -n "$lib" ] && [ -e "$lib/libmemwall.so" ] && [ -e "$lib/pkgconfig/memwall.pc" ] ||
  { echo "install: libmemwall.a, libmemwall.so or memwall.pc missing"; exit 1; }
# The installed memwall runs the built-in tiny from the installed folder
# (the build's own is the source tree: MEMWALL_MODELS_DIR points it there)
MEMWALL_MODELS_DIR=$tmp/prefix/share/memwall/models "$tmp/prefix/bin/memwall" run tiny --text "The" --gen 4 \
  > "$tmp/tiny.out" || { echo "install: memwall run tiny failed"; cat "$tmp/tiny.out"; exit 1; }
# The installed .pc names the real prefix; point it at the temporary one.
sed -i "s|^prefix=.*|prefix=$tmp/prefix|" "$lib/pkgconfig/memwall.pc"
export PKG_CONFIG_PATH=$lib/pkgconfig

# The examples of the header comment, each verbatim inside its own main():
# body1.txt, body2.txt, ... (the code lines, indented 5, after "Example:").
awk -v dir="$tmp" '
  /^ \*\/$/ { exit }
  /^ \* Example:/ { n++; next }
  n && /^ \*     / { line = substr($0, 8); if (line !~ /#include/) print line > (dir "/body" n ".txt") }
  END { print n + 0 > (dir "/count") }' "$src/include/memwall.h"
n_examples=$(cat "$tmp/count")
[ "$n_examples" -ge 1 ] || { echo "install: no example found in memwall.h"; exit 1; }
wrap() { # body file -> a C program
  echo '#include <memwall.h>'
  echo '#include <stdio.h>'
  echo 'int main(void) {'
  cat "$1"
  echo '    return 0;'
  echo '}'
}
wrap "$tmp/body1.txt" > "$tmp/example.c"
grep -q mw_watch_run "$tmp/example.c" || { echo "install: the first example (mw_watch_run) not found in memwall.h"; exit 1; }
# The example caps memory: unprivileged machines cannot make a cgroup.
sed -i 's/opts.mem_limit_bytes = 2ull << 30;/if (getenv("MW_EXAMPLE_NO_CAP")) {} else opts.mem_limit_bytes = 2ull << 30;/' "$tmp/example.c"
sed -i '1i #include <stdlib.h>' "$tmp/example.c"
sed -i 's/"python3", "train.py"/"true"/' "$tmp/example.c"

cc -std=c11 -Wall -Wextra -Werror $extra $(pkg-config --cflags memwall) "$tmp/example.c" -o "$tmp/example_shared" \
  $(pkg-config --libs memwall)
cc -std=c11 -Wall -Wextra -Werror $extra $(pkg-config --cflags memwall) "$tmp/example.c" -o "$tmp/example_static" \
  "$lib/libmemwall.a" $(pkg-config --libs-only-l --static memwall | sed 's/-lmemwall//') 
out=$(MW_EXAMPLE_NO_CAP=1 LD_LIBRARY_PATH="$lib" "$tmp/example_shared" 2>/dev/null)
echo "$out" | grep -q "^peak [0-9]* bytes, oom 0" || { echo "install: shared example printed: $out"; exit 1; }
out=$(MW_EXAMPLE_NO_CAP=1 "$tmp/example_static" 2>/dev/null)
echo "$out" | grep -q "^peak [0-9]* bytes, oom 0" || { echo "install: static example printed: $out"; exit 1; }
# The other examples (plan, run, sweep) compile and link against the shared
# library; those that start no process (the sweep's runs a made-up command
# under a cgroup) run and exit 0.
for i in $(seq 2 "$n_examples"); do
  wrap "$tmp/body$i.txt" > "$tmp/example$i.c"
  cc -std=c11 -Wall -Wextra -Werror $extra $(pkg-config --cflags memwall) "$tmp/example$i.c" -o "$tmp/example$i" \
    $(pkg-config --libs memwall) || { echo "install: example $i of memwall.h does not compile"; exit 1; }
  if ! grep -q mw_sweep_run "$tmp/example$i.c"; then
    LD_LIBRARY_PATH="$lib" "$tmp/example$i" >"$tmp/out$i" 2>&1 ||
      { echo "install: example $i of memwall.h failed:"; cat "$tmp/out$i"; exit 1; }
  fi
done
man -l "$tmp/prefix/share/man/man1/memwall.1" >/dev/null 2>&1 || groff -man -Tutf8 "$tmp/prefix/share/man/man1/memwall.1" >/dev/null
echo "install: ok (binary, header, static and shared library, pkg-config, man page; header examples: $n_examples build, the watch, plan and run ones run)"
