#!/bin/sh
# The project's test command (README "Run the tests"; .ci/run calls it):
# installs what is needed, then builds and runs the whole suite
#   1. gcc   -Wall -Wextra -Werror, make check (unit, data, fuzz replay, mudctl, integration)
#   2. clang -Wall -Wextra -Werror, make check
#   3. gcc + ASan/UBSan,            make check (with --enable-fault-injection: test_fault)
#   and cppcheck over the library and mudctl,
# and ends with one line "N passed, N failed" (automake test results, all builds).
#
# Environment: SKIP_DEPS=1 skips the package step; BUILDS="gcc clang asan" picks builds;
# JOBS=N parallel make (default: number of CPUs). Slow suites (tests/package/deb.sh: the Debian
# package installed into /etc/freeradius/3.0, as root) run in one build only: MUD_SLOW_BUILD
# (default gcc; "none" for no build).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILDS=${BUILDS:-"gcc clang asan"}
MUD_SLOW_BUILD=${MUD_SLOW_BUILD:-gcc}

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
fi

./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }

# The FreeRADIUS headers Debian's libfreeradius-dev lacks (fetched, never committed).
FRINC="$TOP/_build/fr-include"
./scripts/fetch-freeradius-headers.sh "$FRINC" || echo "warning: FreeRADIUS headers not fetched; module not built"

total_pass=0
total_fail=0
status=0

run_build() {
	name=$1
	shift
	dir="$TOP/_build/$name"
	echo "==== build $name: $*"
	t_start=$(date +%s)
	rm -rf "$dir"
	mkdir -p "$dir"
	(
		cd "$dir" &&
		"$TOP/configure" -q --enable-werror --with-freeradius-include="$FRINC" "$@" &&
		make -j"$JOBS" >make.log 2>&1 || { tail -50 make.log; exit 1; }
		slow=0
		[ "$name" = "$MUD_SLOW_BUILD" ] && slow=1
		MUD_SLOW_SUITES=$slow make -j"$JOBS" check >check.log 2>&1
		rc=$?
		grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log
		exit $rc
	)
	rc=$?
	p=$(cat "$dir"/tests/*.trs "$dir"/tests/*/*.trs 2>/dev/null | grep -c '^:test-result: PASS')
	f=$(cat "$dir"/tests/*.trs "$dir"/tests/*/*.trs 2>/dev/null | grep -cE '^:test-result: (FAIL|ERROR|XPASS)')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# the build itself failed
	fi
	if [ "$rc" -ne 0 ]; then
		status=1
		for log in "$dir"/tests/*.log "$dir"/tests/*/*.log; do
			[ -f "$log" ] || continue
			case "$log" in */test-suite.log) continue ;; esac
			if grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "${log%.log}.trs" 2>/dev/null; then
				echo "---- $log (its FAIL lines, then its last 40 lines)"
				grep -E '^(FAIL|ERROR)' "$log" | head -20
				tail -40 "$log"
			fi
		done
	fi
	echo "==== build $name: $p passed, $f failed ($(( $(date +%s) - t_start )) s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

# Static analysis (STYLE.md section 9): cppcheck over the library and the tools.
if command -v cppcheck >/dev/null 2>&1; then
	echo "==== cppcheck"
	if cppcheck --quiet --enable=warning,portability --inline-suppr --error-exitcode=1 \
		-I rlm_mud/libmud -I "$TOP/_build" --suppress=missingIncludeSystem \
		rlm_mud/libmud/*.c rlm_mud/mudctl*.c; then
		echo "PASS: cppcheck"
		total_pass=$((total_pass + 1))
	else
		echo "FAIL: cppcheck"
		total_fail=$((total_fail + 1))
		status=1
	fi
fi

for b in $BUILDS; do
	case "$b" in
	gcc) run_build gcc CC=gcc ;;
	clang) run_build clang CC=clang ;;
	asan) run_build asan CC=gcc --enable-sanitizers --enable-fault-injection ;;
	*) echo "unknown build $b"; status=1 ;;
	esac
done

echo "$total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]
