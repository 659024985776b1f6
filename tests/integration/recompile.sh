#!/bin/sh
#
# recompile.sh - with cache_dir, a cached policy is compiled again from the MUD file the cache
# keeps (verified when it was fetched) instead of a fetch, while the file is within its
# cache-validity: a new site context (HUP) needs no MUD server. Real freeradius, production
# logging, a CoA switch:
#   1. a station gets its policy (one GET of the file); the file is kept beside the entry;
#   2. the MUD server stops serving the file (404), the context changes, HUP: the ticker
#      recompiles the kept file (no GET), the station gets a CoA and then the new dACL;
#   3. the kept file is altered on disk and the context changes again: the altered copy is
#      refused (radius.log says so), the file is fetched again (the server serves it again)
#      and the policy follows the new context;
#   4. an operator's refresh (%{mud:refresh URL}) asks the MUD server even though the kept
#      file could be recompiled;
#   5. the recompile and refetch counters in metrics_file; a restart keeps the kept file:
#      another context after the restart is recompiled without a GET.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web
it_publish dev signer
it_start_switch

C=$IT_WORK/cases
ctx() {
	printf '{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": false,
           "static": { "service.example.com": ["%s", "2001:db8::%s"] } },
  "acl-prefix": "mud" }\n' "$1" "$2"
}
ctx 192.0.2.10 a > "$IT_WORK/context.json"
mkdir -m 0700 "$IT_WORK/cache"

MUD_REFRESH_INTERVAL=1
MUD_OPTS="	coa = yes
	coa_port = $SWITCH_PORT
	cache_dir = \"$IT_WORK/cache\"
	metrics_file = \"$IT_WORK/mud.prom\"
	metrics_interval = 1"
RAD_DEBUG=""	# production logging: what an operator sees in radius.log
it_make_raddb
CTX=$RADDB/mud-context.json
it_start_radiusd

URL=$BASE/it/dev.json
AUDIT=0A0000010000000000000RC1
FILE=$IT_WORK/www/it/dev.json

# req NAME: the station's MAB (sent again while pending); reply in $C/NAME.out
req() {
	it_mab "$C/$1" 00:11:22:33:aa:01 "$(it_avpair lldp "$URL")" \
		"Cisco-AVPair = \"audit-session-id=$AUDIT\""
	it_send auth "$C/$1" > "$C/$1.out"
}
# policy NAME ADDR: the answer is ok and its IPv4 dACL names ADDR; sets ACL
policy() {
	it_has "$C/$1.out" '"mud-status=ok"' || return 1
	ACL=$(it_acl_name "$C/$1.out" IP)
	[ -n "$ACL" ] || return 1
	it_dacl "$C/$1.dl" "$ACL"
	it_send auth "$C/$1.dl" > "$C/$1.dl.out"
	it_lines "$C/$1.dl.out" | grep -q "host $2 eq 443"
}
# change ADDR V6: a new context, HUP, the CoA that follows (15 s at most)
change() {
	ctx "$1" "$2" > "$CTX"
	_coa=$(it_switch_recv "$AUDIT")
	it_hup "$CTX" || return 1
	it_wait_coa "$AUDIT" "$_coa"
}
gets() { it_fetches /it/dev.json; }
metric() { sed -n "s/^$1 //p" "$IT_WORK/mud.prom" 2>/dev/null; }

# 1. The policy, fetched once; the file is kept.
ok=0
req a
policy a 192.0.2.10 || ok=1
A=$ACL
[ "$(gets)" = 1 ] || ok=1
[ "$(find "$IT_WORK/cache" -type f | wc -l)" -ge 2 ] || ok=1	# the entry and the file
it_result "recompile: fetched once, the verified file kept in cache_dir" $ok \
	"$A; GETs $(gets); $(ls "$IT_WORK/cache" | tr '\n' ' ')"

# 2. The MUD server no longer serves the file; a new context: recompiled, no GET, CoA.
mv "$FILE" "$FILE.away"
ok=0
change 192.0.2.20 b || ok=1
req b
policy b 192.0.2.20 || ok=1
B=$ACL
[ "$B" != "$A" ] || ok=1
[ "$(gets)" = 1 ] || ok=1
grep -q "rlm_mud (mud): MUD $URL recompiled from the file fetched [0-9]* s ago" "$RAD_LOG" ||
	ok=1
it_result "recompile: new context with the MUD server down -> recompiled, CoA, new dACL" $ok \
	"$A -> $B; GETs $(gets); CoA $(it_switch_recv "$AUDIT")"

# 3. The kept copy altered: refused, fetched again (the server serves the file again).
mv "$FILE.away" "$FILE"
ok=0
src=$(find "$IT_WORK/cache" -type f -name '*.src' | head -n 1)
if [ -n "$src" ]; then
	python3 - "$src" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"ietf-mud:mud")	# in the MUD file's bytes, not the header or signature
assert i >= 0
b[i + 9] = ord("M")
open(p, "r+b").write(bytes(b))
EOF
else
	ok=1
fi
change 192.0.2.30 c || ok=1
req c
policy c 192.0.2.30 || ok=1
[ "$(gets)" = 2 ] || ok=1
grep -q "Warning: rlm_mud (mud): MUD $URL: kept MUD file refused: SHA-256 .*; fetching it again" \
	"$RAD_LOG" || ok=1
it_result "recompile: an altered kept file is refused (logged) and the file fetched again" \
	$ok "GETs $(gets); $(grep "kept MUD file refused" "$RAD_LOG" | tail -n 1 | cut -c1-300)"

# 4. An operator's refresh asks the server.
ok=0
r=$(it_xlat "$C/refresh" "refresh $URL")
[ "$r" = "refresh-queued" ] || ok=1
_w=0
while [ "$(gets)" -lt 3 ] && [ $_w -lt 100 ]; do sleep 0.1; _w=$((_w + 1)); done
[ "$(gets)" = 3 ] || ok=1
it_result "recompile: an operator's refresh fetches from the MUD server" $ok "$r; GETs $(gets)"

# 5. Counters; a restart keeps the file: another context, recompiled without a GET.
ok=0
sleep 1.5	# metrics_interval
rok=$(metric 'rlm_mud_recompiles_total{result="ok"}')
rfail=$(metric 'rlm_mud_recompiles_total{result="failed"}')
[ "${rok:-0}" -ge 1 ] || ok=1
it_stop_radiusd
ctx 192.0.2.40 d > "$CTX"
mv "$FILE" "$FILE.away"
it_start_radiusd
# the entry loaded from cache_dir was compiled with the old context: served while it is
# recompiled in the background, then the new one
req d
_w=0
while ! grep -q "recompiled from the file" "$RAD_LOG" && [ $_w -lt 100 ]; do
	sleep 0.1
	_w=$((_w + 1))
done
req e
policy e 192.0.2.40 || ok=1
[ "$(gets)" = 3 ] || ok=1
it_result "recompile: counted (ok ${rok:-?}, failed ${rfail:-?}); after a restart too, no GET" \
	$ok "GETs $(gets); $(grep -c "recompiled from the file" "$RAD_LOG") recompile(s) logged"

it_stop_radiusd
it_stop_switch
it_finish
