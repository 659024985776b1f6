#!/bin/sh
# bench_radclient.sh - throughput with radclient (a C client: the load generator does not
# hide the server the way a Python one sharing 2 CPUs does), the real FreeRADIUS on
# 127.0.0.1, debug logging off. Prints numbers; asserts nothing about speed.
#  1. the same server answering the same reply attributes (VLAN + two dACL names) from unlang,
#     rlm_mud out of the path: warm MAB req/s;
#  2. rlm_mud, warm cache, one station: req/s;
#  3. rlm_mud, STATIONS distinct stations: new, then known: req/s; server RSS and bytes per
#     station;
#  4. fetch_mode = background with 40 fetches stalled on a tarpit: warm req/s, and p50/p99
#     latency at concurrency 1 (tests/bench/radload.py) with and without the stalled fetches.
#   top_srcdir=... top_builddir=... tests/bench/bench_radclient.sh [REQUESTS] [STATIONS] [PAR]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-20000}
S=${2:-100000}
P=${3:-64}
RAD_DEBUG=""
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish bench signer

# Request files: N copies of one station's MAB, and S distinct stations, radclient format,
# in chunks of CHUNK requests (radclient walks its whole request list on every send: one
# file of 100,000 requests would measure radclient, not the server).
CHUNK=5000
mkreqs() {
	# mkreqs FILE COUNT DISTINCT(0|1) URL
	python3 - "$@" <<'PY'
import sys
path, count, distinct, url = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
u = url.encode()
body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(u)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + u
esc = "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body)
f = None
for i in range(count):
    if i % 5000 == 0:
        if f:
            f.close()
        f = open("%s.%06d" % (path, i // 5000), "w")
    if True:
        mac = "02-%02x-%02x-%02x-%02x-%02x" % ((i >> 32) & 255, (i >> 24) & 255,
                                               (i >> 16) & 255, (i >> 8) & 255, i & 255) \
            if distinct else "02-00-00-00-00-01"
        f.write('User-Name = "%s"\nUser-Password = "%s"\nService-Type = Call-Check\n'
                'Calling-Station-Id = "%s"\nNAS-IP-Address = 127.0.0.1\n'
                'Cisco-AVPair = "%s"\n\n' % (mac, mac, mac, esc))
if f:
    f.close()
PY
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$RAD_PID/status"; }
# run LABEL FILE COUNT: wall time of radclient over the file -> req/s
run() {
	: > "$IT_WORK/run.out"
	_t0=$(date +%s.%N)
	for _f in "$2".*; do
		radclient -q -s -r 1 -t 10 -p "$P" -f "$_f" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
			>> "$IT_WORK/run.out" 2>&1
	done
	_t1=$(date +%s.%N)
	_lost=$(sed -n 's/.*Total lost auths: *\([0-9]*\).*/\1/p' "$IT_WORK/run.out" |
		awk '{ n += $1 } END { print n + 0 }')
	python3 -c "import sys; n=int(sys.argv[2]); d=float(sys.argv[4])-float(sys.argv[3]); \
print('%-62s %8.0f req/s  (%d requests in %.2f s, %s lost)' % (sys.argv[1], n/d, n, d, sys.argv[5]))" \
		"$1" "$3" "$_t0" "$_t1" "${_lost:-0}"
}

mkreqs "$IT_WORK/one.txt" "$N" 0 "$BASE/it/bench.json"
mkreqs "$IT_WORK/many.txt" "$S" 1 "$BASE/it/bench.json"
echo "rlm_mud radclient benchmark: $(nproc) CPUs, radclient -p $P, $N requests, $S stations"

# 1. rlm_mud out of the path; the same reply from unlang.
it_make_raddb raddb-bypass
it_start_radiusd
it_lldp_mab "$IT_WORK/w" 00:11:22:33:44:55 "$BASE/it/bench.json"
it_send auth "$IT_WORK/w" > "$IT_WORK/w.out"
V4=$(it_acl_name "$IT_WORK/w.out" IP)
V6=$(it_acl_name "$IT_WORK/w.out" IPV6)
it_stop_radiusd
it_py_edit "$RADDB/sites-available/mud" "
s = s.replace('\tmud_mab\n', '''\tif (&Service-Type == Call-Check) {
\t\tupdate control {
\t\t\t&Auth-Type := Accept
\t\t}
\t\tupdate reply {
\t\t\t&Tunnel-Type := VLAN
\t\t\t&Tunnel-Medium-Type := IEEE-802
\t\t\t&Tunnel-Private-Group-Id := \"100\"
\t\t\t&Cisco-AVPair += \"ACS:CiscoSecure-Defined-ACL=$V4\"
\t\t\t&Cisco-AVPair += \"ACS:CiscoSecure-Defined-ACL=$V6\"
\t\t}
\t}
''', 1)
s = s.replace('\tmud_post_auth\n', '\n', 1)
"
it_start_radiusd
run "warm-up" "$IT_WORK/one.txt" "$N" > /dev/null
run "1. same reply from unlang, rlm_mud out of the path" "$IT_WORK/one.txt" "$N"
it_stop_radiusd

# 2./3. rlm_mud.
MUD_OPTS="	accounting_max_entries = $((S + 1000))"
it_make_raddb raddb-mud
it_start_radiusd
run "warm-up (one fetch)" "$IT_WORK/one.txt" 1000 > /dev/null
run "2. rlm_mud, warm cache, one station" "$IT_WORK/one.txt" "$N"
R0=$(rss)
run "3a. rlm_mud, warm cache, $S new stations" "$IT_WORK/many.txt" "$S"
R1=$(rss)
run "3b. rlm_mud, warm cache, the same $S stations again" "$IT_WORK/many.txt" "$S"
echo "memory: server RSS $R0 kB -> $R1 kB with $S stations:" \
	"$(( (R1 - R0) * 1024 / S )) bytes per station (RSS, includes allocator slack)"
it_stop_radiusd

# 4. background mode, 40 fetches stalled on a server that accepts and never answers.
TARPIT_PORT=$(it_free_port)
python3 - "$TARPIT_PORT" > "$IT_WORK/tarpit.log" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", len(held), flush=True)
EOF
IT_PIDS="$IT_PIDS $!"
MUD_OPTS="	fetch_mode = background
	fetch_threads = 64
	fetch_per_authority = 64"
MUD_TIMEOUT=120 MUD_CONNECT_TIMEOUT=60 it_make_raddb raddb-bg
it_start_radiusd
run "warm-up (one fetch)" "$IT_WORK/one.txt" 1000 > /dev/null
sleep 1
run "warm-up" "$IT_WORK/one.txt" 1000 > /dev/null
LOAD="python3 $top_srcdir/tests/bench/radload.py --server 127.0.0.1:$AUTH_PORT --secret $SECRET"
HEX=$(python3 -c "import sys; u=sys.argv[1].encode(); print((b'lldp-tlv=' + bytes([0, 127]) + (4 + len(u)).to_bytes(2, 'big') + b'\x00\x00\x5e\x01' + u).hex())" "$BASE/it/bench.json")
$LOAD --requests 2000 --concurrency 1 --avpair-hex "$HEX" --label "4a. latency, background, no stalled fetch"
run "4a. rlm_mud background, warm, no stalled fetch" "$IT_WORK/one.txt" "$N"
i=1
: > "$IT_WORK/tar.txt"
while [ $i -le 40 ]; do
	mkreqs "$IT_WORK/t$i.txt" 1 0 "https://localhost:$TARPIT_PORT/dev$i.json"
	sed "s/02-00-00-00-00-01/02-00-00-00-01-$(printf %02x $i)/g" "$IT_WORK/t$i.txt".* \
		>> "$IT_WORK/tar.txt"
	i=$((i + 1))
done
radclient -q -r 1 -t 5 -p 40 -f "$IT_WORK/tar.txt" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> /dev/null 2>&1
sleep 1
echo "fetches stalled on the tarpit (connections held open): $(grep -c accepted "$IT_WORK/tarpit.log")"
$LOAD --requests 2000 --concurrency 1 --avpair-hex "$HEX" --label "4b. latency, background, 40 stalled fetches"
run "4b. rlm_mud background, warm, 40 fetches stalled" "$IT_WORK/one.txt" "$N"
it_stop_radiusd
it_finish >/dev/null 2>&1 || true
