#!/bin/sh
# bench_hup.sh - what a HUP costs the server (docs/operations.md "HUP"): the real FreeRADIUS
# on 127.0.0.1, debug logging off, radclient load. Prints numbers; asserts nothing.
#  1. warm MAB (one station, its policy cached): N requests with no HUP, then N requests
#     while a HUP is sent every 6 s (FreeRADIUS ignores one within 5 s of the last), the site
#     context alternating between two contents: req/s, lost requests (radclient -r 1: one
#     send, no retry), reloads done;
#  2. reload latency: SIGHUP to the module's "reloaded" line in radius.log, polled every
#     10 ms (the whole of FreeRADIUS's HUP: file checks, our instantiate, the swap);
#  3. recompile after a context change: K policies cached and used by K stations; HUP with a
#     context that changes their rules; the time until the ticker (refresh_interval = 1) has
#     refetched and recompiled all K (radius.log), and the CoAs sent. With cache_dir (set
#     unless BENCH_CACHE_DIR=no) the kept files are recompiled without a fetch; without it
#     each file is fetched again.
#   top_srcdir=... top_builddir=... tests/bench/bench_hup.sh [REQUESTS] [POLICIES] [PAR]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
N=${1:-150000}
K=${2:-200}
P=${3:-32}
RAD_DEBUG=""
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish bench signer
python3 "$top_srcdir/tests/bench/mkpolicies.py" --template \
	"$top_srcdir/tests/integration/mud/device.json.in" --dir "$IT_WORK/www/it" \
	--base "$BASE/it" --count "$K" --cert "$IT_WORK/sig/signer.pem" \
	--key "$IT_WORK/sig/signer.key" || exit 1
it_start_switch

CTX_A='{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": false,
           "static": { "service.example.com": ["192.0.2.10", "2001:db8::a"] } } }'
CTX_B='{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": false,
           "static": { "service.example.com": ["192.0.2.20", "2001:db8::b"] } } }'
printf '%s\n' "$CTX_A" > "$IT_WORK/context.json"
MUD_REFRESH_INTERVAL=1
MUD_OPTS="	coa = yes
	coa_port = $SWITCH_PORT
	fetch_queue_max = 4096"
if [ "${BENCH_CACHE_DIR:-yes}" != no ]; then
	mkdir -m 0700 "$IT_WORK/cache"
	MUD_OPTS="$MUD_OPTS
	cache_dir = \"$IT_WORK/cache\""
fi
it_make_raddb
CTX=$RADDB/mud-context.json
it_start_radiusd
RAD_START=$(date +%s)

# mkreqs FILE COUNT DISTINCT(0|1) URL ("{i}" in URL: the request's number)
mkreqs() {
	python3 - "$@" <<'PY'
import sys
path, count, distinct, url = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
def avpair(u):
    u = u.encode()
    body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(u)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + u
    return "".join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body)
with open(path, "w") as f:
    for i in range(count):
        mac = "02-00-00-%02x-%02x-%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255) \
            if distinct else "02-00-00-00-00-01"
        f.write('User-Name = "%s"\nUser-Password = "%s"\nService-Type = Call-Check\n'
                'Calling-Station-Id = "%s"\nNAS-IP-Address = 127.0.0.1\n'
                'Cisco-AVPair = "%s"\nCisco-AVPair = "audit-session-id=0A%022d"\n\n'
                % (mac, mac, mac, avpair(url.replace("{i}", str(i))), i))
PY
}
CHUNK=5000
mkreqs "$IT_WORK/warm1" 1 0 "$BASE/it/bench.json"
it_send auth "$IT_WORK/warm1" > /dev/null
mkreqs "$IT_WORK/warm" "$CHUNK" 0 "$BASE/it/bench.json"

HUP_LAST=$RAD_START
HUP_N=0
# hup: alternate the context, touch it into the future (mtimes compare to the second), HUP
hup() {
	HUP_N=$((HUP_N + 1))
	if [ $((HUP_N % 2)) = 1 ]; then printf '%s\n' "$CTX_B" > "$CTX"; else
		printf '%s\n' "$CTX_A" > "$CTX"; fi
	touch -d "@$(( $(date +%s) + HUP_N * 7 + 60 ))" "$CTX"
	HUP_LAST=$(date +%s)
	kill -HUP "$RAD_PID"
}
# load LABEL: N warm requests in chunks; req/s and lost
load() {
	: > "$IT_WORK/run.out"
	_t0=$(date +%s.%N)
	_i=0
	while [ $_i -lt "$N" ]; do
		radclient -q -s -r 1 -t 10 -p "$P" -f "$IT_WORK/warm" "127.0.0.1:$AUTH_PORT" auth \
			"$SECRET" >> "$IT_WORK/run.out" 2>&1
		_i=$((_i + CHUNK))
		if [ -n "${HUPPING:-}" ] && [ $(( $(date +%s) - HUP_LAST )) -ge 6 ]; then hup; fi
	done
	_t1=$(date +%s.%N)
	_lost=$(sed -n 's/.*Total lost auths: *\([0-9]*\).*/\1/p' "$IT_WORK/run.out" |
		awk '{ n += $1 } END { print n + 0 }')
	python3 -c "import sys; n=int(sys.argv[2]); d=float(sys.argv[4])-float(sys.argv[3]);
print('%-44s %7.0f req/s (%d requests in %.2f s, %s lost)' % (sys.argv[1], n/d, n, d, sys.argv[5]))" \
		"$1" "$_i" "$_t0" "$_t1" "$_lost"
}

echo "== 1. warm MAB, $N requests, $P in flight"
load "no HUP"
before=$(grep -c "reloaded (" "$RAD_LOG")
HUPPING=1 load "a HUP every 6 s (context A <-> B)"
echo "reloads during the run: $(( $(grep -c "reloaded (" "$RAD_LOG") - before ))," \
	"failed: $(grep -c "HUP failed" "$RAD_LOG")"

echo "== 2. reload latency (SIGHUP -> \"reloaded\" in radius.log), 5 reloads"
i=0
while [ $i -lt 5 ]; do
	while [ $(( $(date +%s) - HUP_LAST )) -lt 6 ]; do sleep 0.2; done
	n0=$(grep -c "reloaded (" "$RAD_LOG")
	t0=$(date +%s%N)
	hup
	while [ "$(grep -c "reloaded (" "$RAD_LOG")" = "$n0" ]; do sleep 0.01; done
	echo "reload $((i + 1)): $(( ($(date +%s%N) - t0) / 1000000 )) ms"
	i=$((i + 1))
done

echo "== 3. recompile of $K cached policies used by $K stations after a context change"
mkreqs "$IT_WORK/many" "$K" 1 "$BASE/it/p{i}.json"
radclient -q -s -r 1 -t 10 -p "$P" -f "$IT_WORK/many" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> /dev/null 2>&1
w=0
while [ "$(grep -c "/it/p[0-9]*.json fetched in the background" "$RAD_LOG")" -lt "$K" ] &&
	[ $w -lt 600 ]; do sleep 0.1; w=$((w + 1)); done
f0=$(grep -c "fetched in the background" "$RAD_LOG")
c0=$(it_switch_recv audit-session-id)
echo "cached: $(grep -c "/it/p[0-9]*.json fetched in the background" "$RAD_LOG") of $K"
while [ $(( $(date +%s) - HUP_LAST )) -lt 6 ]; do sleep 0.2; done
r0=$(grep -c "recompiled from the file" "$RAD_LOG")
done_n() {
	echo $(( $(grep -c "fetched in the background" "$RAD_LOG") - f0 +
		$(grep -c "recompiled from the file" "$RAD_LOG") - r0 ))
}
t0=$(date +%s%N)
hup
w=0
while [ "$(done_n)" -lt "$K" ] && [ $w -lt 1200 ]; do sleep 0.1; w=$((w + 1)); done
t1=$(date +%s%N)
sleep 1
echo "recompiled $(( $(grep -c "recompiled from the file" "$RAD_LOG") - r0 )) from the kept" \
	"file (cache_dir ${BENCH_CACHE_DIR:-yes}), refetched and recompiled" \
	"$(( $(grep -c "fetched in the background" "$RAD_LOG") - f0 )): $(done_n) of $K in" \
	"$(( (t1 - t0) / 1000000 )) ms; CoA sent $(( $(it_switch_recv audit-session-id) - c0 ))"
echo "server RSS $(awk '/VmRSS/ {print $2}' "/proc/$RAD_PID/status") kB"
it_stop_radiusd
it_stop_switch
