#!/bin/sh
# Every talloc function libmud calls must be either wrapped by unit/fault_talloc.c (listed in
# unit/fault_talloc.wrap) or known not to allocate; otherwise unit/test_fault would silently
# skip its allocation sites. Reads $top_srcdir and $top_builddir (make check sets both).
set -u
: "${top_srcdir:=$(dirname "$0")/../..}"
: "${top_builddir:=.}"
LC_ALL=C
export LC_ALL

lib="$top_builddir/rlm_mud/.libs/libmud.a"
wrap="$top_srcdir/tests/unit/fault_talloc.wrap"
NM=${NM:-nm}

if [ ! -f "$lib" ] || [ ! -f "$wrap" ]; then
	echo "SKIP: $lib or $wrap not found" >&2
	exit 77
fi

# talloc functions that never allocate.
known="_talloc_free _talloc_free_children talloc_free_children _talloc_steal_loc _talloc_move
_talloc_set_destructor talloc_set_name_const talloc_get_name talloc_check_name
_talloc_get_type_abort talloc_parent talloc_parent_name talloc_total_size talloc_total_blocks
talloc_get_size talloc_array_length talloc_is_parent talloc_reparent talloc_find_parent_byname
talloc_report talloc_report_full talloc_report_depth_cb talloc_report_depth_file
talloc_show_parents talloc_enable_leak_report talloc_enable_null_tracking
talloc_disable_null_tracking talloc_set_abort_fn talloc_set_log_fn talloc_set_log_stderr
talloc_set_memlimit talloc_version_major talloc_version_minor talloc_reference_count
talloc_increase_ref_count talloc_test_get_magic"

used=$("$NM" -u "$lib" 2>/dev/null | awk '$1 == "U" && $2 ~ /^_?talloc/ { print $2 }' | sort -u)
if [ -z "$used" ]; then
	echo "ERROR: no talloc symbols found in $lib" >&2
	exit 99
fi

bad=0
for sym in $used; do
	if grep -qx -- "--wrap=$sym" "$wrap"; then
		continue
	fi
	case " $(echo $known) " in
	*" $sym "*) continue ;;
	esac
	echo "libmud calls $sym, which unit/fault_talloc.c does not wrap" >&2
	bad=1
done
n=$(echo "$used" | wc -l)
if [ "$bad" -ne 0 ]; then
	echo "FAIL: add the allocators above to unit/fault_talloc.{c,wrap}" >&2
	exit 1
fi
echo "PASS: all $n talloc functions libmud uses are wrapped or do not allocate"
exit 0
