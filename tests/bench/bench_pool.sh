#!/bin/sh
# bench_pool.sh - a pool of servers sharing MUD state on Redis (docs/high-availability.md)
# against the in-process default, same load, the real FreeRADIUS on 127.0.0.1, debug logging
# off, a real redis-server (127.0.0.1, free port, no persistence). Prints numbers; asserts
# nothing about speed.
#  1. warm MAB+LLDP, one station (radclient -p PAR): req/s without redis { } and with it,
#     two rounds each, alternating;
#  2. warm dACL download of one name (radclient -p PAR): req/s, the same way;
#  3. K policies compiled on server A, then on server B (which has none of them) one dACL
#     download of each name, concurrency 1 (tests/bench/radload.py): latency p50/p99 of a
#     cold download answered from Redis; then the same names again on B (now local) and on A.
#   top_srcdir=... top_builddir=... tests/bench/bench_pool.sh [REQUESTS] [K] [PAR]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-20000}
K=${2:-200}
P=${3:-64}
RAD_DEBUG=""
. "$top_srcdir/tests/integration/lib.sh"
for p in redis-server redis-cli; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
it_require
if ! nm -D --undefined-only "$MODDIR/rlm_mud.so" 2>/dev/null | grep -q redisConnect; then
	echo "SKIP: rlm_mud.so built without the Redis backend (configure: redis no)"
	exit 77
fi
it_setup
it_start_web
it_publish bench signer
i=0
while [ "$i" -lt "$K" ]; do
	it_publish "k$i" signer
	i=$((i + 1))
done
head -c 48 /dev/urandom > "$IT_WORK/pool.key"
chmod 600 "$IT_WORK/pool.key"
REDIS_PORT=$(it_free_port)
mkdir -p "$IT_WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$IT_WORK/redis" --daemonize no --logfile "$IT_WORK/redis.log" &
IT_PIDS="$IT_PIDS $!"
_i=0
until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
	_i=$((_i + 1))
	[ "$_i" -gt 100 ] && { echo "FAIL: redis-server did not start"; exit 1; }
	sleep 0.1
done

# Request files in chunks of 5000 (radclient walks its whole list on every send).
mkreqs() {
	# mkreqs FILE COUNT KIND(mab|dacl) VALUE (URL or dACL name)
	python3 - "$@" <<'PY'
import sys
path, count, kind, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
u = value.encode()
body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(u)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + u
esc = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body)
f = None
for i in range(count):
    if i % 5000 == 0:
        if f:
            f.close()
        f = open("%s.%06d" % (path, i // 5000), "w")
    if kind == "mab":
        mac = "02-00-00-00-00-01"
        f.write('User-Name = "%s"\nUser-Password = "%s"\nService-Type = Call-Check\n'
                'Calling-Station-Id = "%s"\nNAS-IP-Address = 127.0.0.1\n'
                'Cisco-AVPair = "%s"\n\n' % (mac, mac, mac, esc))
    else:
        f.write('User-Name = "%s"\nCisco-AVPair = "aaa:service=ip_admission"\n'
                'Cisco-AVPair = "aaa:event=acl-download"\nMessage-Authenticator = 0x00\n\n'
                % value)
if f:
    f.close()
PY
}
# run LABEL FILE COUNT PORT: wall time of radclient over the file -> req/s
run() {
	: > "$IT_WORK/run.out"
	_t0=$(date +%s.%N)
	for _f in "$2".*; do
		radclient -q -s -r 1 -t 10 -p "$P" -f "$_f" "127.0.0.1:$4" auth "$SECRET" \
			>> "$IT_WORK/run.out" 2>&1
	done
	_t1=$(date +%s.%N)
	_lost=$(sed -n 's/.*Total lost auths: *\([0-9]*\).*/\1/p' "$IT_WORK/run.out" |
		awk '{ n += $1 } END { print n + 0 }')
	python3 -c "import sys; n=int(sys.argv[2]); d=float(sys.argv[4])-float(sys.argv[3]); \
print('%-62s %8.0f req/s  (%d requests in %.2f s, %s lost)' % (sys.argv[1], n/d, n, d, sys.argv[5]))" \
		"$1" "$3" "$_t0" "$_t1" "${_lost:-0}"
}

OPTS="	fetch_mode = inline
	accounting_max_entries = 10000"
POOL="
	redis {
		server = 127.0.0.1
		port = $REDIS_PORT
		key_file = \"$IT_WORK/pool.key\"
	}"
MUD_OPTS="$OPTS"
it_make_raddb raddb-local
it_start_radiusd
it_server_save L
MUD_OPTS="$OPTS$POOL"
it_make_raddb raddb-a
it_start_radiusd
it_server_save A
MUD_OPTS="$OPTS$POOL"
it_make_raddb raddb-b
it_start_radiusd
it_server_save B
echo "rlm_mud pool benchmark: $(nproc) CPUs, radclient -p $P, $N requests, $K cold downloads," \
	"redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"

# The warm policy on L and A (one fetch each: L alone; A publishes it).
it_lldp_mab "$IT_WORK/w" 00:11:22:33:44:55 "$BASE/it/bench.json"
it_send_to L auth "$IT_WORK/w" > "$IT_WORK/wl.out"
it_send_to A auth "$IT_WORK/w" > "$IT_WORK/wa.out"
V4=$(it_acl_name "$IT_WORK/wa.out" IP)
[ -n "$V4" ] && [ "$V4" = "$(it_acl_name "$IT_WORK/wl.out" IP)" ] ||
	{ echo "FAIL: no policy on L or A"; it_reply "$IT_WORK/wa.out"; exit 1; }
mkreqs "$IT_WORK/mab.txt" "$N" mab "$BASE/it/bench.json"
mkreqs "$IT_WORK/dacl.txt" "$N" dacl "$V4"
run "warm-up" "$IT_WORK/mab.txt" "$N" "$L_AUTH" > /dev/null
run "warm-up" "$IT_WORK/mab.txt" "$N" "$A_AUTH" > /dev/null
for round in 1 2; do
	run "1. warm MAB+LLDP, in-process only (round $round)" "$IT_WORK/mab.txt" "$N" "$L_AUTH"
	run "1. warm MAB+LLDP, redis { } (round $round)" "$IT_WORK/mab.txt" "$N" "$A_AUTH"
done
for round in 1 2; do
	run "2. warm dACL download, in-process only (round $round)" "$IT_WORK/dacl.txt" "$N" \
		"$L_AUTH"
	run "2. warm dACL download, redis { } (round $round)" "$IT_WORK/dacl.txt" "$N" "$A_AUTH"
done

# 3. K policies compiled on A; their names downloaded cold on B.
: > "$IT_WORK/k.txt"
i=0
while [ "$i" -lt "$K" ]; do
	it_lldp_mab "$IT_WORK/one" "02:00:00:01:$(printf '%02x:%02x' $((i / 256)) $((i % 256)))" \
		"$BASE/it/k$i.json"
	cat "$IT_WORK/one" >> "$IT_WORK/k.txt"
	echo >> "$IT_WORK/k.txt"
	i=$((i + 1))
done
radclient -x -p 8 -r 1 -t 20 -f "$IT_WORK/k.txt" "127.0.0.1:$A_AUTH" auth "$SECRET" \
	> "$IT_WORK/k.out" 2>>"$IT_WORK/radclient.err"
sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$IT_WORK/k.out" |
	grep -v quarantine | sort -u > "$IT_WORK/names.txt"
echo "   $(grep -c . "$IT_WORK/names.txt") policies compiled on A ($(it_fetches '/it/k[0-9]*.json') GETs)"
LOAD="python3 $top_srcdir/tests/bench/radload.py --secret $SECRET --dacl --concurrency 1"
KN=$(grep -c . "$IT_WORK/names.txt")
$LOAD --server "127.0.0.1:$B_AUTH" --users-file "$IT_WORK/names.txt" --requests "$KN" \
	--label "3a. cold dACL download on B, answered from Redis"
$LOAD --server "127.0.0.1:$B_AUTH" --users-file "$IT_WORK/names.txt" --requests "$KN" \
	--label "3b. the same names again on B (now local)"
$LOAD --server "127.0.0.1:$A_AUTH" --users-file "$IT_WORK/names.txt" --requests "$KN" \
	--label "3c. the same names on A (compiled there)"
echo "   GETs at the MUD server for the $K files, all servers: $(it_fetches '/it/k[0-9]*.json')"
