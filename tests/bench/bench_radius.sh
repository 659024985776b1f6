#!/bin/sh
# bench_radius.sh - RADIUS-level numbers for rlm_mud inside the real FreeRADIUS:
# warm-cache MAB requests (LLDP MUD TLV) and dACL downloads per second, latency,
# and the server's resident memory before and after. Prints numbers; asserts
# nothing about speed. Uses the integration harness (127.0.0.1 only).
#   top_srcdir=... top_builddir=... tests/bench/bench_radius.sh [REQUESTS] [PARALLEL]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-2000}
P=${2:-20}
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish bench signer
it_make_raddb
it_start_radiusd

URL="$BASE/it/bench.json"
REQ="$IT_WORK/bench.txt"
python3 - "$URL" > "$REQ" <<'PY'
import sys
url = sys.argv[1].encode()
body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(url)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + url
esc = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body)
print('User-Name = "001122334455"\nUser-Password = "001122334455"\nService-Type = Call-Check')
print('Calling-Station-Id = "00-11-22-33-44-55"\nNAS-IP-Address = 127.0.0.1')
print('Cisco-AVPair = "%s"' % esc)
PY
rss() { awk '/VmRSS/ {print $2}' "/proc/$RAD_PID/status"; }

it_send auth "$REQ" > "$IT_WORK/warm.out"	# warm the cache (one fetch)
NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$IT_WORK/warm.out")
RSS0=$(rss)

run() {	# run LABEL FILE
	t0=$(date +%s.%N)
	radclient -q -c "$N" -p "$P" -r 1 -t 5 -f "$2" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
		2>"$IT_WORK/bench.err"
	rc=$?
	t1=$(date +%s.%N)
	fails=$(grep -c "no response\|Expected" "$IT_WORK/bench.err" 2>/dev/null || true)
	python3 -c "import sys; n=int(sys.argv[1]); d=float(sys.argv[3])-float(sys.argv[2]); \
print('%s: %d requests, %d in flight: %.0f req/s, %.2f ms mean latency (radclient rc %s, %s errors)' \
% (sys.argv[4], n, int(sys.argv[5]), n/d, d*1000.0*int(sys.argv[5])/n, sys.argv[6], sys.argv[7]))" \
		"$N" "$t0" "$t1" "$1" "$P" "$rc" "$fails"
}
run "MAB with LLDP MUD TLV, warm cache" "$REQ"
if [ -n "$NAME" ]; then
	DL="$IT_WORK/dl.txt"
	printf 'User-Name = "%s"\nCisco-AVPair = "aaa:service=ip_admission"\nCisco-AVPair = "aaa:event=acl-download"\nMessage-Authenticator = 0x00\n' "$NAME" > "$DL"
	run "dACL download" "$DL"
fi
RSS1=$(rss)
echo "freeradius RSS: ${RSS0} kB after warm-up, ${RSS1} kB after $((2 * N)) requests"
echo "MUD server fetches during the run: $(it_fetches /it/bench.json) (1 expected: the warm-up)"
