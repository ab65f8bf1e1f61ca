# help.sh - help texts (golden), --version, command dispatch errors, and the
# man page. MW_UPDATE_GOLDEN=1 rewrites tests/cli/golden/*.txt.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# ---- memwall --help, and its aliases ------------------------------------------
expect_exit 0 "$MW" --help
expect_empty "$T/stderr"
cp "$T/stdout" "$T/help.txt"
golden_check help.txt "$T/help.txt"
expect_contains "$T/help.txt" "Usage: memwall COMMAND"
expect_contains "$T/help.txt" "  watch "
for alias in -h help; do
    expect_exit 0 "$MW" $alias
    cmp -s "$T/stdout" "$T/help.txt" || fail "'memwall $alias' differs from 'memwall --help'"
done
ok "memwall --help matches golden/help.txt; -h and help print the same"

# ---- the watch page, two ways -----------------------------------------------
expect_exit 0 "$MW" help watch
expect_empty "$T/stderr"
cp "$T/stdout" "$T/help-watch.txt"
golden_check watch-help.txt "$T/help-watch.txt"
expect_exit 0 "$MW" watch --help
expect_empty "$T/stderr"
cp "$T/stdout" "$T/watch-help.txt"
cmp -s "$T/help-watch.txt" "$T/watch-help.txt" || {
    diff -u "$T/help-watch.txt" "$T/watch-help.txt" | head -n 40 >&2
    fail "'memwall help watch' and 'memwall watch --help' differ"
}
expect_exit 0 "$MW" watch -h
cmp -s "$T/stdout" "$T/watch-help.txt" || fail "'memwall watch -h' differs from 'memwall watch --help'"
# --help wins over everything else and runs nothing
expect_exit 0 "$MW" watch --json --help -- "$MW_TOUCH" --exit 3 1M
cmp -s "$T/stdout" "$T/watch-help.txt" || fail "'memwall watch --json --help -- CMD' is not the help"
expect_contains "$T/watch-help.txt" "Usage: memwall watch"
expect_contains "$T/watch-help.txt" "--mem-limit SIZE"
ok "memwall help watch == memwall watch --help == golden/watch-help.txt"

# ---- --version: the one version (include/memwall.h's MW_VERSION_*, which
# CMake reads for the library's file name, pkg-config and the man page) -------
ver_part() { sed -n "s/^#define MW_VERSION_$1 \\([0-9][0-9]*\\)\$/\\1/p" "$MW_SOURCE_DIR/include/memwall.h"; }
version="$(ver_part MAJOR).$(ver_part MINOR).$(ver_part PATCH)"
case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) fail "no MW_VERSION_MAJOR/MINOR/PATCH in include/memwall.h (read '$version')" ;;
esac
[ -e "$MW_BUILD_DIR/libmemwall.so.$version" ] ||
    fail "the shared library is not libmemwall.so.$version: $(ls "$MW_BUILD_DIR"/libmemwall.so.* 2>/dev/null)"
grep -q "^\.TH MEMWALL 1 .*\"memwall $version\"" "$MW_BUILD_DIR/gen/memwall.1" ||
    fail "the man page's .TH line does not say memwall $version"
for opt in --version -V; do
    expect_exit 0 "$MW" $opt
    expect_file_is "$T/stdout" "memwall $version"
    expect_empty "$T/stderr"
done
ok "--version and -V print 'memwall $version'"

# ---- usage errors of the top level: exit 2 ----------------------------------
expect_exit 2 "$MW"
expect_empty "$T/stdout"
cmp -s "$T/stderr" "$T/help.txt" || {
    diff -u "$T/help.txt" "$T/stderr" | head -n 20 >&2
    fail "memwall with no arguments should print the help on stderr"
}
ok "no arguments: exit 2, the help on stderr"

expect_exit 2 "$MW" nosuch
expect_empty "$T/stdout"
expect_contains "$T/stderr" "no command 'nosuch'"
expect_exit 2 "$MW" help nosuch
expect_empty "$T/stdout"
expect_contains "$T/stderr" "no command 'nosuch'"
expect_exit 2 "$MW" help watch extra
expect_contains "$T/stderr" "one command name at most"
expect_exit 2 "$MW" --bogus
expect_contains "$T/stderr" "unknown option '--bogus'"
ok "unknown command, unknown help page, unknown global option: exit 2 with a message"

# ---- the man page --------------------------------------------------------------
man1=$MW_BUILD_DIR/gen/memwall.1
[ -s "$man1" ] || fail "the man page $man1 was not generated"
if command -v man > /dev/null 2>&1; then
    renderer='man'; render=(env MANWIDTH=100 MANPAGER=cat PAGER=cat man -l "$man1")
elif command -v groff > /dev/null 2>&1; then
    renderer='groff'; render=(groff -man -Tascii -P-cbou -rLL=100n "$man1")
else
    ok "SKIPPED the man page rendering: neither man nor groff is installed"
    exit 0
fi
"${render[@]}" 2> "$T/man.err" | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' > "$T/man.txt"
[ -s "$T/man.txt" ] || { show stderr "$T/man.err"; fail "${render[*]} printed nothing"; }
for heading in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT; do
    grep -q "^$heading\$" "$T/man.txt" || { show man "$T/man.txt"; fail "the man page has no $heading section"; }
done
# The watch subsection: from its heading "   memwall watch" to the next
# line indented less than its text.
# (mawk has no {m,n} intervals: the heading is the first line that is
# exactly "memwall watch" after less than 7 spaces.)
awk '!on && /^ +memwall watch *$/ && !/^       / { on = 1; print; next }
     on && /^[^ ]/ { exit }
     on && /^ +[^ ]/ && !/^       / { exit }
     on { print }' "$T/man.txt" > "$T/man-watch.txt"
[ -s "$T/man-watch.txt" ] || { show man "$T/man.txt"; fail "the man page has no 'memwall watch' subsection"; }
expect_contains "$T/man-watch.txt" "--mem-limit"
expect_contains "$T/man-watch.txt" "--interval DURATION"
ok "the man page renders (with $renderer) with a watch section documenting --mem-limit"
