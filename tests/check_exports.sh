#!/usr/bin/env bash
# The shared library's API is exactly the header's: the dynamic symbols
# libmemwall.so defines (nm -D --defined-only) must equal the functions
# include/memwall.h declares with MW_API, no more (an internal function
# leaked: mark it static, or it lacks -fvisibility=hidden) and no fewer
# (a declared function that is missing or not marked MW_API).
# usage: check_exports.sh SOURCE_DIR LIBMEMWALL.so
set -u
src=$1 lib=$2
header=$src/include/memwall.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v nm >/dev/null || { echo "exports: no nm (binutils); skipped"; exit 77; }
[ -e "$lib" ] || { echo "exports: $lib missing"; exit 1; }

# Every declaration starts at the margin with MW_API and names its function
# on that line: "MW_API const char *mw_version(void);".
grep -E '^MW_API ' "$header" | sed -E 's/^MW_API [^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*) *\(.*/\1/' |
    sort -u > "$tmp/declared"
# A function declared at the margin without MW_API is an error of its own.
grep -nE '^[A-Za-z_][A-Za-z0-9_ ]*[ *]mw_[a-z0-9_]+\(' "$header" | grep -v ':MW_API ' > "$tmp/unmarked"
nm -D --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' |
    grep -vxE '_init|_fini|_edata|_end|__bss_start' | sort -u > "$tmp/exported"

fail=0
if [ -s "$tmp/unmarked" ]; then
    echo "exports: include/memwall.h declares functions without MW_API:"; sed 's/^/  /' "$tmp/unmarked"; fail=1
fi
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
if [ -n "$extra" ]; then
    echo "exports: $(basename "$lib") exports symbols include/memwall.h does not declare (make them static, or declare them MW_API if they are API):"
    echo "$extra" | sed 's/^/  /'; fail=1
fi
if [ -n "$missing" ]; then
    echo "exports: include/memwall.h declares MW_API functions $(basename "$lib") does not export:"
    echo "$missing" | sed 's/^/  /'; fail=1
fi
n=$(wc -l < "$tmp/declared")
[ "$n" -gt 0 ] || { echo "exports: no MW_API declaration found in $header"; fail=1; }
[ $fail -eq 0 ] && echo "exports: ok ($n functions, declared = exported)"
exit $fail
