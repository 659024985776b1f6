#!/bin/sh
# Replay every fuzz target's corpus (tests/fuzz/corpus/<target>/) through the
# standalone build of the target. Any crash or sanitizer report fails the test.
set -u
: "${srcdir:=$(dirname "$0")/..}"
bindir=$(dirname "$0")
rc=0
for t in url x509 parse context eval cache; do
	bin="$bindir/fuzz_$t"
	[ -x "$bin" ] || bin="./fuzz/fuzz_$t"
	corpus="$srcdir/fuzz/corpus/$t"
	if [ ! -d "$corpus" ]; then
		echo "FAIL: no corpus for fuzz_$t ($corpus)"
		rc=1
		continue
	fi
	if "$bin" "$corpus"; then
		echo "PASS: fuzz_$t corpus"
	else
		echo "FAIL: fuzz_$t corpus"
		rc=1
	fi
done
exit $rc
