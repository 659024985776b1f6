#!/bin/sh
#
# concurrency.sh - a burst of first requests for one NEW MUD URL, sent at once
# (radclient -p, 20 requests in flight): exactly one GET of the .json and one
# of the .p7s, and every reply carries the policy. Requests that arrive while
# the fetch is in flight wait for it (fetch_wait) instead of failing
# (MUD-Cache = waited). Then the same with 20 separate radclient processes for
# another new URL. Those two cases run with fetch_mode = inline (the requests wait);
# the third with the default fetch_mode = background: a burst of 20 first requests is
# answered at once with MUD-Status = pending, one GET of each file, and the burst sent
# again once the fetch settled gets the policy from the cache, 20 times.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

N=20
it_require
it_setup
it_start_web
it_publish burst signer
it_publish burst2 signer
it_publish burst3 signer
MUD_OPTS="	fetch_mode = inline"
it_make_raddb
it_start_radiusd
C=$IT_WORK/cases

# 1. One radclient, N requests in flight.
: > "$C/burst"
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	it_lldp_mab "$C/one" "00:11:22:33:99:$(printf %02d $i)" "$BASE/it/burst.json"
	cat "$C/one" >> "$C/burst"
	echo >> "$C/burst"
done
radclient -x -p "$N" -r 1 -t 20 -f "$C/burst" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> "$C/burst.out" 2>>"$IT_WORK/radclient.err"
accepts=$(grep -c "^Received Access-Accept" "$C/burst.out")
oks=$(grep -c '"mud-status=ok"' "$C/burst.out")
vlans=$(grep -c 'Tunnel-Private-Group-Id:0 = "100"' "$C/burst.out")
names=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/burst.out" | sort -u | grep -c .)
fetched=$(grep -c '"mud-cache=fetched"' "$C/burst.out")
waited=$(grep -c '"mud-cache=waited"' "$C/burst.out")
hits=$(grep -c '"mud-cache=hit"' "$C/burst.out")
ok=0
[ "$accepts" = "$N" ] && [ "$oks" = "$N" ] && [ "$vlans" = "$N" ] && [ "$names" = 1 ] || ok=1
[ "$fetched" = 1 ] && [ $((fetched + waited + hits)) = "$N" ] || ok=1
[ "$waited" -ge 1 ] || ok=1
[ "$(it_fetches /it/burst.json)" = 1 ] && [ "$(it_fetches /it/burst.p7s)" = 1 ] || ok=1
it_result "burst of $N (radclient -p $N): one fetch, all served" $ok \
	"accepts=$accepts ok=$oks fetched=$fetched waited=$waited hits=$hits GETs=$(it_fetches /it/burst.json)/$(it_fetches /it/burst.p7s)"

# 2. N separate radclient processes.
pids=
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	it_lldp_mab "$C/p$i" "00:11:22:33:aa:$(printf %02d $i)" "$BASE/it/burst2.json"
done
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	it_send auth "$C/p$i" > "$C/p$i.out" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
cat "$C"/p*.out > "$C/procs.out"
accepts=$(grep -c "^Received Access-Accept" "$C/procs.out")
oks=$(grep -c '"mud-status=ok"' "$C/procs.out")
fetched=$(grep -c '"mud-cache=fetched"' "$C/procs.out")
ok=0
[ "$accepts" = "$N" ] && [ "$oks" = "$N" ] && [ "$fetched" = 1 ] || ok=1
[ "$(it_fetches /it/burst2.json)" = 1 ] && [ "$(it_fetches /it/burst2.p7s)" = 1 ] || ok=1
it_result "burst of $N radclient processes: one fetch, all served" $ok \
	"accepts=$accepts ok=$oks fetched=$fetched waited=$(grep -c '"mud-cache=waited"' "$C/procs.out") GETs=$(it_fetches /it/burst2.json)/$(it_fetches /it/burst2.p7s)"

# 3. fetch_mode = background: a burst of first requests never waits.
it_stop_radiusd
MUD_OPTS=
it_make_raddb raddb-bg
it_start_radiusd
: > "$C/burst3"
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	it_lldp_mab "$C/one" "00:11:22:33:bb:$(printf %02d $i)" "$BASE/it/burst3.json"
	cat "$C/one" >> "$C/burst3"
	echo >> "$C/burst3"
done
radclient -x -p "$N" -r 1 -t 20 -f "$C/burst3" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> "$C/burst3.out" 2>>"$IT_WORK/radclient.err"
pending=$(grep -c '"mud-status=pending"' "$C/burst3.out")
vlan999=$(grep -c 'Tunnel-Private-Group-Id:0 = "999"' "$C/burst3.out")
# the fetch settles in the background: wait for the cache, then the same burst again
i=0
while [ "$i" -lt 100 ] && ! grep -q "burst3.json fetched in the background" "$RAD_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
radclient -x -p "$N" -r 1 -t 20 -f "$C/burst3" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> "$C/burst3b.out" 2>>"$IT_WORK/radclient.err"
oks=$(grep -c '"mud-status=ok"' "$C/burst3b.out")
hits=$(grep -c '"mud-cache=hit"' "$C/burst3b.out")
ok=0
[ "$pending" = "$N" ] && [ "$vlan999" = "$N" ] && [ "$oks" = "$N" ] && [ "$hits" = "$N" ] || ok=1
[ "$(it_fetches /it/burst3.json)" = 1 ] && [ "$(it_fetches /it/burst3.p7s)" = 1 ] || ok=1
it_result "background: burst of $N pending at once, one fetch, then $N served from the cache" \
	$ok "pending=$pending vlan999=$vlan999 ok=$oks hits=$hits GETs=$(it_fetches /it/burst3.json)/$(it_fetches /it/burst3.p7s)"

it_finish
