#!/bin/sh
# bench_radclient.sh - throughput with radclient (a C client: the load generator does not
# hide the server the way a Python one sharing 2 CPUs does), the real FreeRADIUS on
# 127.0.0.1, debug logging off. Prints numbers; asserts nothing about speed.
#  1./2. two servers run side by side: (a) the same server answering the same reply
#     attributes (VLAN + two dACL names) from unlang, rlm_mud out of the path, and (b) rlm_mud,
#     warm cache, one station. ROUNDS runs of each, interleaved (a, b, a, b, ...: the machine
#     is shared, its load varies), each printing req/s and the server's CPU time per request
#     (/proc/PID/stat utime + stime: what the server spends, whoever else shares the CPUs);
#     then the medians and b/a. Latency at concurrency 1 (tests/bench/radload.py), LROUNDS
#     interleaved runs: warm MAB on (a) and (b), dACL download on (b): p50/p99, medians;
#  3. rlm_mud, STATIONS distinct stations: new, then known: req/s; server RSS and bytes per
#     station;
#  3c. POLICIES distinct MUD URLs (tests/bench/mkpolicies.py: one template, content of its
#     own per URL, signed), announced by POLICIES of those stations (fetched inline, in the
#     workers: fine for a bench): server RSS and VmHWM (/proc/PID/status) at STATIONS
#     stations and POLICIES + 1 cached policies, and bytes per policy;
#  4. fetch_mode = background with 40 fetches stalled on a tarpit: warm req/s, and p50/p99
#     latency at concurrency 1 (tests/bench/radload.py) with and without the stalled fetches.
#   top_srcdir=... top_builddir=... tests/bench/bench_radclient.sh [REQUESTS] [STATIONS] [PAR] \
#	[POLICIES]
#   environment: ROUNDS (default 5), LROUNDS (default 3), LREQUESTS (default 2000),
#	BENCH_MUD_OPTS (module settings for (b), e.g. "log_decisions = changes")
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-20000}
S=${2:-100000}
P=${3:-64}
K=${4:-10000}
ROUNDS=${ROUNDS:-5}
LROUNDS=${LROUNDS:-3}
LN=${LREQUESTS:-2000}
RAD_DEBUG=""
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish bench signer
if [ "$K" -gt 0 ]; then
	python3 "$top_srcdir/tests/bench/mkpolicies.py" --template \
		"$top_srcdir/tests/integration/mud/device.json.in" --dir "$IT_WORK/www/it" \
		--base "$BASE/it" --count "$K" --cert "$IT_WORK/sig/signer.pem" \
		--key "$IT_WORK/sig/signer.key" || exit 1
fi

# Request files: N copies of one station's MAB, and S distinct stations, radclient format,
# in chunks of CHUNK requests (radclient walks its whole request list on every send: one
# file of 100,000 requests would measure radclient, not the server). A URL holding "{i}"
# gets the request's number there (one URL per station).
CHUNK=5000
mkreqs() {
	# mkreqs FILE COUNT DISTINCT(0|1) URL
	python3 - "$@" <<'PY'
import sys
path, count, distinct, url = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
def avpair(url):
    u = url.encode()
    body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(u)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + u
    return "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body)
esc = avpair(url)
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
        if "{i}" in url:
            esc = avpair(url.replace("{i}", str(i)))
        f.write('User-Name = "%s"\nUser-Password = "%s"\nService-Type = Call-Check\n'
                'Calling-Station-Id = "%s"\nNAS-IP-Address = 127.0.0.1\n'
                'Cisco-AVPair = "%s"\n\n' % (mac, mac, mac, esc))
if f:
    f.close()
PY
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$RAD_PID/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$RAD_PID/status"; }
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The shipped site, not the test one: lib.sh adds an echo of MUD-Status and MUD-Cache to
# every reply (post-auth); it is removed from both servers (the Connect-Info test hooks in
# authorize stay: they cost a test of an absent attribute, and 3c reads the cache stats).
no_echo() {
	it_py_edit "$RADDB/sites-available/mud" "
echo = '''
	update reply {
		&Reply-Message += \"mud-status=%{control:MUD-Status}\"
		&Reply-Message += \"mud-cache=%{control:MUD-Cache}\"
	}
'''
assert echo in s
s = s.replace(echo, '\\n')
"
}
HZ=$(getconf CLK_TCK)
# run LABEL FILE COUNT [PID PORT]: wall time of radclient over the file -> req/s, and the
# server's CPU time per request; "LABEL REQ/S US/REQ" appended to $IT_WORK/results.
run() {
	_pid=${4:-$RAD_PID}
	_port=${5:-$AUTH_PORT}
	: > "$IT_WORK/run.out"
	_c0=$(cputicks "$_pid")
	_t0=$(date +%s.%N)
	for _f in "$2".*; do
		radclient -q -s -r 1 -t "${RTIMEOUT:-10}" -p "$P" -f "$_f" "127.0.0.1:$_port" auth \
			"$SECRET" >> "$IT_WORK/run.out" 2>&1
	done
	_t1=$(date +%s.%N)
	_c1=$(cputicks "$_pid")
	_lost=$(sed -n 's/.*Total lost auths: *\([0-9]*\).*/\1/p' "$IT_WORK/run.out" |
		awk '{ n += $1 } END { print n + 0 }')
	python3 - "$1" "$3" "$_t0" "$_t1" "${_lost:-0}" "$_c0" "$_c1" "$HZ" "$IT_WORK/results" <<'PY'
import sys
label, n, t0, t1, lost, c0, c1, hz, res = sys.argv[1:]
n = int(n)
d = float(t1) - float(t0)
us = (int(c1) - int(c0)) * 1e6 / int(hz) / n
print("%-58s %7.0f req/s %6.1f us CPU/req (%d requests in %.2f s, %s lost)"
      % (label, n / d, us, n, d, lost))
with open(res, "a") as f:
    f.write("%s\t%f\t%f\n" % (label, n / d, us))
PY
}
# lat LABEL radload-args...: p50/p99 at concurrency 1; "LABEL P50 P99" to $IT_WORK/latency.
lat() {
	_ll=$1
	shift
	$LOAD --requests "$LN" --concurrency 1 --label "$_ll" "$@" | tee "$IT_WORK/lat.out"
	sed -n 's/.*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2/p' "$IT_WORK/lat.out" |
		awk -v l="$_ll" '{ printf "%s\t%s\t%s\n", l, $1, $2 }' >> "$IT_WORK/latency"
}
# medians: the median of each label's runs, and b/a of the throughput medians.
medians() {
	python3 - "$IT_WORK/results" "$IT_WORK/latency" <<'PY'
import statistics, sys
def load(path):
    d = {}
    try:
        for line in open(path):
            k, x, y = line.rstrip("\n").split("\t")
            d.setdefault(k, []).append((float(x), float(y)))
    except FileNotFoundError:
        pass
    return d
res, lat = load(sys.argv[1]), load(sys.argv[2])
med = {}
for k, v in res.items():
    med[k] = (statistics.median(x for x, _ in v), statistics.median(y for _, y in v))
    print("median of %d: %-46s %7.0f req/s %6.1f us CPU/req" % (len(v), k, med[k][0], med[k][1]))
a = [k for k in med if k.startswith("1.")]
b = [k for k in med if k.startswith("2.")]
if a and b:
    print("rlm_mud / unlang: throughput %.2fx, server CPU per request %.2fx"
          % (med[b[0]][0] / med[a[0]][0], med[b[0]][1] / med[a[0]][1]))
for k, v in lat.items():
    print("median of %d: %-46s p50 %.3f ms, p99 %.3f ms"
          % (len(v), k, statistics.median(x for x, _ in v), statistics.median(y for _, y in v)))
PY
}

mkreqs "$IT_WORK/one.txt" "$N" 0 "$BASE/it/bench.json"
mkreqs "$IT_WORK/many.txt" "$S" 1 "$BASE/it/bench.json"
echo "rlm_mud radclient benchmark: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
	"radclient -p $P, $N requests x $ROUNDS rounds, $S stations, $K policies"

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
no_echo
it_start_radiusd
A_PID=$RAD_PID
A_PORT=$AUTH_PORT
IT_PIDS="$IT_PIDS $A_PID"	# stopped by it_cleanup, or below
RAD_PID=

# 2./3. rlm_mud (fetch_mode inline for 3c: the policies are fetched by the requests).
MUD_OPTS="	accounting_max_entries = $((S + 1000))
	cache_max_entries = $((K + 1000))
	fetch_mode = inline
${BENCH_MUD_OPTS:-}"
it_make_raddb raddb-mud
no_echo
it_start_radiusd
LOAD="python3 $top_srcdir/tests/bench/radload.py --secret $SECRET"
HEX=$(python3 -c "import sys; u=sys.argv[1].encode(); print((b'lldp-tlv=' + bytes([0, 127]) + (4 + len(u)).to_bytes(2, 'big') + b'\x00\x00\x5e\x01' + u).hex())" "$BASE/it/bench.json")
run "warm-up (one fetch)" "$IT_WORK/one.txt" 1000 > /dev/null
run "warm-up" "$IT_WORK/one.txt" 1000 "$A_PID" "$A_PORT" > /dev/null
# fair comparison: both answer the same attributes (Reply-Message: the test hook's echo)
radclient -x -r 1 -t 15 -f "$IT_WORK/w" "127.0.0.1:$A_PORT" auth "$SECRET" > "$IT_WORK/wa.out" 2>&1
it_send auth "$IT_WORK/w" > "$IT_WORK/wb.out"
it_reply "$IT_WORK/wa.out" | grep -v '^Reply-Message' | sort > "$IT_WORK/wa.r"
it_reply "$IT_WORK/wb.out" | grep -v '^Reply-Message' | sort > "$IT_WORK/wb.r"
if cmp -s "$IT_WORK/wa.r" "$IT_WORK/wb.r"; then
	echo "replies: (a) and (b) answer the same $(wc -l < "$IT_WORK/wa.r") attributes"
else
	echo "replies DIFFER ((a) <, (b) >):"
	diff "$IT_WORK/wa.r" "$IT_WORK/wb.r"
fi
: > "$IT_WORK/results"
: > "$IT_WORK/latency"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	run "1. same reply from unlang, rlm_mud out of the path" "$IT_WORK/one.txt" "$N" \
		"$A_PID" "$A_PORT"
	run "2. rlm_mud, warm cache, one station" "$IT_WORK/one.txt" "$N"
	r=$((r + 1))
done
NAME=$(it_acl_name "$IT_WORK/wb.out" IP)
r=0
while [ "$r" -lt "$LROUNDS" ]; do
	lat "1. latency, warm MAB, unlang" --server "127.0.0.1:$A_PORT" --avpair-hex "$HEX"
	lat "2. latency, warm MAB, rlm_mud" --server "127.0.0.1:$AUTH_PORT" --avpair-hex "$HEX"
	lat "2. latency, dACL download, rlm_mud" --server "127.0.0.1:$AUTH_PORT" --dacl \
		--user "$NAME"
	r=$((r + 1))
done
medians
echo "memory after the same load: (a) RSS $(awk '/VmRSS/ {print $2}' "/proc/$A_PID/status") kB," \
	"(b) RSS $(rss) kB (FreeRADIUS keeps each answered request for cleanup_delay: RSS" \
	"grows with the request rate)"
it_stop_pid "$A_PID"

R0=$(rss)
run "3a. rlm_mud, warm cache, $S new stations" "$IT_WORK/many.txt" "$S"
R1=$(rss)
run "3b. rlm_mud, warm cache, the same $S stations again" "$IT_WORK/many.txt" "$S"
echo "memory: server RSS $R0 kB -> $R1 kB with $S stations:" \
	"$(( (R1 - R0) * 1024 / S )) bytes per station (RSS, includes allocator slack)"

# 3c. K distinct policies, announced by K of those stations (fetched inline).
if [ "$K" -gt 0 ]; then
	mkreqs "$IT_WORK/pol.txt" "$K" 1 "$BASE/it/p{i}.json"
	R2=$(rss)
	P0=$P
	P=16
	RTIMEOUT=30 run "3c. rlm_mud, $K new policies (fetched inline)" "$IT_WORK/pol.txt" "$K"
	P=$P0
	R3=$(rss)
	printf 'Connect-Info = "mud-xlat=stats"\n' > "$IT_WORK/stats"
	echo "cache: $(it_send auth "$IT_WORK/stats" | sed -n 's/.*Reply-Message = "xlat=\(.*\)"/\1/p')"
	echo "fetches by the server: $(grep -c '^GET /it/p[0-9]*\.json ' "$WEB_LOG") files," \
		"$(grep -c '^GET /it/p[0-9]*\.p7s ' "$WEB_LOG") signatures for $K policies"
	echo "memory: server RSS $R3 kB (VmHWM $(hwm) kB) with $S stations and $((K + 1))" \
		"cached policies; $(( (R3 - R2) * 1024 / K )) bytes per policy (RSS $R2 kB ->" \
		"$R3 kB; includes the fetches' transient heap and allocator slack)"
fi
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
