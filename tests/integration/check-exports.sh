#!/bin/sh
#
# check-exports.sh - the module must export exactly one dynamic symbol,
# rlm_mud (STYLE.md section 2); libmud stays private. Exit 77 if not built.
#
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
so="$top_builddir/rlm_mud/.libs/rlm_mud.so"
if [ ! -f "$so" ]; then
	echo "SKIP: $so not built"
	exit 77
fi
syms=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort)
if [ "$syms" = "rlm_mud" ]; then
	echo "PASS: $so exports only rlm_mud"
	exit 0
fi
echo "FAIL: $so exports:"
echo "$syms"
exit 1
