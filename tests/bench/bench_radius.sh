#!/bin/sh
# bench_radius.sh - RADIUS-level numbers for rlm_mud inside the real FreeRADIUS (127.0.0.1 only):
#  1. warm-cache MAB requests carrying the LLDP MUD TLV: req/s, p50/p99 latency (tests/bench/radload.py,
#     closed loop, CONCURRENCY clients);
#  2. dACL downloads of the issued name: the same figures;
#  3. the same MAB requests against the same server WITHOUT rlm_mud in the request path (the site's
#     MAB accept only), for comparison;
#  4. memory per cached policy: the server's RSS before and after caching POLICIES distinct policies.
# Debug logging is off (RAD_DEBUG=""). Prints numbers; asserts nothing about speed.
#   top_srcdir=... top_builddir=... tests/bench/bench_radius.sh [REQUESTS] [CONCURRENCY] [POLICIES]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-5000}
C=${2:-8}
K=${3:-200}
RAD_DEBUG=""
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish bench signer
i=0
while [ "$i" -lt "$K" ]; do
	it_publish "p$i" signer
	i=$((i + 1))
done
it_make_raddb
it_start_radiusd

LOAD="python3 $top_srcdir/tests/bench/radload.py --server 127.0.0.1:$AUTH_PORT --secret $SECRET"
lldp_hex() {
	python3 - "$1" <<'PY'
import sys
url = sys.argv[1].encode()
print((b"lldp-tlv=" + bytes([0, 127]) + (4 + len(url)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + url).hex())
PY
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$RAD_PID/status"; }

echo "rlm_mud benchmark: $(nproc) CPUs, FreeRADIUS $(freeradius -v 2>/dev/null | sed -n 's/.*Version \([0-9.]*\).*/\1/p' | head -n 1), $N requests, $C concurrent"
HEX=$(lldp_hex "$BASE/it/bench.json")
$LOAD --requests 1 --concurrency 1 --avpair-hex "$HEX" --label "warm-up (one fetch)"
$LOAD --requests "$N" --concurrency "$C" --avpair-hex "$HEX" --label "MAB + LLDP MUD TLV, rlm_mud, warm cache"
it_lldp_mab "$IT_WORK/one" 00:11:22:33:44:55 "$BASE/it/bench.json"
it_send auth "$IT_WORK/one" > "$IT_WORK/one.out"
NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$IT_WORK/one.out" | head -n 1)
if [ -n "$NAME" ]; then
	$LOAD --requests "$N" --concurrency "$C" --dacl --user "$NAME" --label "dACL download ($NAME)"
fi

# Memory per cached policy: K distinct URLs, one request each.
R0=$(rss)
i=0
: > "$IT_WORK/many.txt"
while [ "$i" -lt "$K" ]; do
	H=$(lldp_hex "$BASE/it/p$i.json")
	$LOAD --requests 1 --concurrency 1 --avpair-hex "$H" --user "$(printf '0011223%05d' "$i")" \
		--label "p$i" >> "$IT_WORK/many.txt"
	i=$((i + 1))
done
R1=$(rss)
echo "memory: server RSS ${R0} kB -> ${R1} kB after caching $K policies:" \
	"$(( (R1 - R0) * 1024 / K )) bytes per cached policy (RSS, includes allocator slack)"
echo "fetches by the server: $(grep -c '^GET /it/p[0-9]*\.json ' "$WEB_LOG") files for $K policies"

# The same server without rlm_mud in the request path.
it_stop_radiusd
it_py_edit "$RADDB/sites-available/mud" "
s = s.replace('\tmud_mab\n', '\tif (&Service-Type == Call-Check) {\n\t\tupdate control {\n\t\t\t&Auth-Type := Accept\n\t\t}\n\t}\n', 1)
s = s.replace('\tmud_post_auth\n', '\n', 1)
s = s.replace('\tmud_dacl_download\n', '\n', 1)
"
it_start_radiusd
$LOAD --requests 1 --concurrency 1 --avpair-hex "$HEX" --label "warm-up"
$LOAD --requests "$N" --concurrency "$C" --avpair-hex "$HEX" --label "MAB + LLDP MUD TLV, WITHOUT rlm_mud"
it_stop_radiusd
