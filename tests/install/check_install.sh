#!/usr/bin/env bash
# Installs memwall into a temporary prefix and builds the example at the top
# of include/memwall.h against it through pkg-config, static and shared.
# usage: check_install.sh SOURCE_DIR BUILD_DIR [EXTRA_CFLAGS]
# (EXTRA_CFLAGS: the sanitizer flags of an ASan build, for the link)
set -euo pipefail
src=$1 build=$2 extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/memwall include/memwall.h share/man/man1/memwall.1; do
  [ -e "$tmp/prefix/$f" ] || { echo "install: $f missing"; exit 1; }
done
lib=$(find "$tmp/prefix" -name libmemwall.a -printf '%h\n' | head -1)
[ -n "$lib" ] && [ -e "$lib/libmemwall.so" ] && [ -e "$lib/pkgconfig/memwall.pc" ] ||
  { echo "install: libmemwall.a, libmemwall.so or memwall.pc missing"; exit 1; }
# The installed .pc names the real prefix; point it at the temporary one.
sed -i "s|^prefix=.*|prefix=$tmp/prefix|" "$lib/pkgconfig/memwall.pc"
export PKG_CONFIG_PATH=$lib/pkgconfig

# The example from the header comment, verbatim, inside a main().
{
  echo '#include <memwall.h>'
  echo '#include <stdio.h>'
  echo 'int main(void) {'
  sed -n '/^ \* Example:/,/^ \*\/$/p' "$src/include/memwall.h" | sed -n '/^ \*     /p' | sed 's/^ \*     //' | grep -v '#include'
  echo '    return 0;'
  echo '}'
} > "$tmp/example.c"
grep -q mw_watch_run "$tmp/example.c" || { echo "install: example not found in memwall.h"; exit 1; }
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
man -l "$tmp/prefix/share/man/man1/memwall.1" >/dev/null 2>&1 || groff -man -Tutf8 "$tmp/prefix/share/man/man1/memwall.1" >/dev/null
echo "install: ok (binary, header, static and shared library, pkg-config, man page; header example runs)"
