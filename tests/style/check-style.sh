#!/bin/sh
# Formatting limits of STYLE.md section 3 on the C sources: every *.c / *.h under rlm_mud/,
# tests/unit/, tests/fuzz/ and tests/bench/ must have
#   - no line longer than 100 columns (tabs expanded to 8),
#   - no trailing whitespace,
#   - no indentation by spaces where a tab belongs (8 or more spaces in the leading
#     whitespace; continuation lines are tabs, then fewer than 8 spaces to align).
# Prints FILE:LINE: what for each offending line and exits 1; exits 0 when all is clean.
# Reads $top_srcdir (default: two levels above this script).
set -u
: "${top_srcdir:=$(dirname "$0")/../..}"
LC_ALL=C
export LC_ALL

max=100
dirs="rlm_mud tests/unit tests/fuzz tests/bench"

if [ ! -d "$top_srcdir/rlm_mud" ]; then
	echo "ERROR: $top_srcdir/rlm_mud not found (set top_srcdir)" >&2
	exit 99
fi

list=$(mktemp) || exit 99
out=$(mktemp) || { rm -f "$list"; exit 99; }
trap 'rm -f "$list" "$out"' EXIT
trap 'exit 99' HUP INT TERM

(
	cd "$top_srcdir" || exit 99
	for d in $dirs; do
		[ -d "$d" ] || continue
		find "$d" \( -name corpus -o -name .deps -o -name .libs \) -prune -o \
			-type f \( -name '*.c' -o -name '*.h' \) -print
	done
) | sort >"$list" || exit 99

nfiles=0
while IFS= read -r f; do
	nfiles=$((nfiles + 1))
	# Column = display width with tabs to the next multiple of 8; UTF-8 continuation
	# bytes (0x80-0xBF) take no column of their own.
	awk -v f="$f" -v max="$max" '
	BEGIN {
		for (i = 128; i < 192; i++) cont[sprintf("%c", i)] = 1
	}
	{
		line = $0
		cols = 0
		n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1)
			if (c == "\t") cols = (int(cols / 8) + 1) * 8
			else if (!(c in cont)) cols++
		}
		if (cols > max) printf "%s:%d: %d columns (limit %d)\n", f, NR, cols, max
		if (line ~ /[ \t\r\f\v]$/) printf "%s:%d: trailing whitespace\n", f, NR
		if (line ~ /^[\t ]*        /) printf "%s:%d: indented with spaces (use tabs)\n", f, NR
	}' "$top_srcdir/$f" >>"$out" || exit 99
done <"$list"

if [ "$nfiles" -eq 0 ]; then
	echo "ERROR: no C sources found under $top_srcdir ($dirs)" >&2
	exit 99
fi

if [ -s "$out" ]; then
	cat "$out"
	nlines=$(wc -l <"$out")
	noff=$(cut -d: -f1 "$out" | sort -u | wc -l)
	echo "FAIL: $nlines style problem(s) in $noff of $nfiles file(s) (STYLE.md section 3):"
	cut -d: -f1 "$out" | sort | uniq -c | while read -r count file; do
		echo "  $file ($count)"
	done
	exit 1
fi
echo "PASS: $nfiles C files: <= $max columns, no trailing whitespace, tab indentation"
exit 0
