#!/bin/sh
#
# background.sh - fetch_mode = background with CoA (issue: never block a RADIUS worker).
# The real module, a real HTTPS MUD server, and a second real freeradius as the "switch"
# receiving CoA (lib.sh it_start_switch):
#   1. a cold MAB is answered at once with MUD-Status = pending (quarantine VLAN,
#      Session-Timeout, Termination-Action = RADIUS-Request) while the fetch runs;
#   2. when the fetch settles, the switch receives a CoA-Request (reauthenticate) carrying
#      the session's audit-session-id and NAS-IP-Address;
#   3. the re-authentication gets the VLAN and the dACL; a second station of the same URL
#      is answered from the cache (no CoA for it); a URL learned from accounting for a
#      session admitted without its policy is fetched and the session gets a CoA;
#   4. tarpit: 10 devices announce URLs on a server that accepts TCP and never answers;
#      they get pending, and a warm MAB and a dACL download are still answered (radclient
#      waits at most 3 s and does not retry: a worker stuck on the network fails this).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
IT_SETTLE=0	# this suite checks the pending answers itself
it_setup
it_start_web
it_publish bg signer
it_publish bg2 signer
C=$IT_WORK/cases

# A server that accepts connections and never says a word (the tarpit).
TARPIT_PORT=$(it_free_port)
python3 - "$TARPIT_PORT" > "$IT_WORK/tarpit.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    print("accepted", len(held), flush=True)
EOF
TARPIT_PID=$!
IT_PIDS="$IT_PIDS $TARPIT_PID"

it_start_switch
MUD_OPTS="	fetch_mode = background
	fetch_threads = 4
	fetch_per_authority = 2
	pending_session_timeout = 30
	coa = yes
	coa_port = $SWITCH_PORT"
MUD_TIMEOUT=60 MUD_CONNECT_TIMEOUT=60 it_make_raddb raddb-bg
it_start_radiusd

mab_audit() {
	# it_mab FILE STATION URL AUDIT
	it_mab "$1" "$2" "$(it_avpair lldp "$3")" "Cisco-AVPair = \"audit-session-id=$4\""
}

# 1. cold: pending at once.
mab_audit "$C/cold" 00:11:22:33:dd:01 "$BASE/it/bg.json" 0A000001000000AA11112222
it_send auth "$C/cold" > "$C/cold.out"
ok=0
it_has "$C/cold.out" "Received Access-Accept" || ok=1
it_has "$C/cold.out" '"mud-status=pending"' || ok=1
[ "$(it_vlan "$C/cold.out")" = 999 ] || ok=1
[ "$(it_reply_values "$C/cold.out" Session-Timeout)" = 30 ] || ok=1
[ "$(it_reply_values "$C/cold.out" Termination-Action)" = RADIUS-Request ] || ok=1
it_result "cold MAB: pending at once (quarantine VLAN, Session-Timeout 30, RADIUS-Request)" $ok \
	"$(it_reply "$C/cold.out" | tr '\n' '|')"

# 2. the CoA arrives when the fetch settles.
ok=1
i=0
while [ $i -lt 100 ]; do
	if [ "$(it_switch_recv 0A000001000000AA11112222)" -ge 1 ]; then ok=0; break; fi
	sleep 0.1
	i=$((i + 1))
done
if [ $ok = 0 ]; then
	line=$(grep '^recv ' "$SWITCH_LOG" | grep -F 0A000001000000AA11112222 | head -n 1)
	case "$line" in
	*subscriber:command=reauthenticate*) ;;
	*) ok=1 ;;
	esac
	case "$line" in
	*127.0.0.1*) ;;
	*) ok=1 ;;
	esac
fi
it_result "fetch settled: CoA reauthenticate with the session's audit-session-id" $ok \
	"$(tail -n 3 "$SWITCH_LOG" | tr '\n' '|')"

# 3. the re-authentication gets the policy; another station of the URL: cache, no CoA.
it_send auth "$C/cold" > "$C/reauth.out"
mab_audit "$C/second" 00:11:22:33:dd:02 "$BASE/it/bg.json" 0A000001000000AA33334444
it_send auth "$C/second" > "$C/second.out"
ok=0
it_has "$C/reauth.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/reauth.out")" = 100 ] || ok=1
[ -n "$(it_acl_name "$C/reauth.out" IP)" ] || ok=1
it_has "$C/second.out" '"mud-status=ok"' || ok=1
it_has "$C/second.out" '"mud-cache=hit"' || ok=1
sleep 0.5
[ "$(it_switch_recv 0A000001000000AA33334444)" = 0 ] || ok=1
[ "$(it_fetches /it/bg.json)" = 1 ] || ok=1
it_result "re-authentication: VLAN + dACL; second station from the cache, one fetch" $ok \
	"$(it_reply_values "$C/reauth.out" Reply-Message | tr '\n' ' ') fetches=$(it_fetches /it/bg.json)"

# 3b. a URL learned from accounting (Cisco device-sensor) for a session admitted without its
# policy: the policy is fetched in the background, then the session gets a CoA.
{
	echo 'Acct-Status-Type = Start'
	echo 'Acct-Session-Id = "00000042"'
	echo 'Calling-Station-Id = "00:11:22:33:dd:09"'
	echo 'NAS-IP-Address = 127.0.0.1'
	echo 'Cisco-AVPair = "audit-session-id=0A000001000000AA77778888"'
	it_avpair lldp "$BASE/it/bg2.json"
} > "$C/acct"
it_send acct "$C/acct" > "$C/acct.out"
ok=1
i=0
while [ $i -lt 100 ]; do
	if [ "$(it_switch_recv 0A000001000000AA77778888)" -ge 1 ]; then ok=0; break; fi
	sleep 0.1
	i=$((i + 1))
done
it_has "$C/acct.out" "Received Accounting-Response" || ok=1
[ "$(it_fetches /it/bg2.json)" = 1 ] || ok=1
it_result "URL learned from accounting: fetched in the background, then CoA" $ok \
	"fetches=$(it_fetches /it/bg2.json) $(tail -n 2 "$SWITCH_LOG" | tr '\n' '|')"

# 4. tarpit: stalled fetches never hold a RADIUS worker.
n=1
while [ $n -le 10 ]; do
	mab_audit "$C/tar$n" "00:11:22:33:ee:$(printf %02x $n)" \
		"https://localhost:$TARPIT_PORT/dev$n.json" "0B00000100000000000000$(printf %02x $n)"
	it_send auth "$C/tar$n" > "$C/tar$n.out" &
	TAR_PIDS="${TAR_PIDS:-} $!"
	n=$((n + 1))
done
wait_tar=0
while [ $wait_tar -lt 50 ]; do
	[ "$(grep -c accepted "$IT_WORK/tarpit.log")" -ge 2 ] && break
	sleep 0.1
	wait_tar=$((wait_tar + 1))
done
mab_audit "$C/warm" 00:11:22:33:dd:03 "$BASE/it/bg.json" 0A000001000000AA55556666
radclient -x -r 1 -t 3 -f "$C/warm" "127.0.0.1:$AUTH_PORT" auth "$SECRET" > "$C/warm.out" 2>&1
it_dacl "$C/dl" "$(it_acl_name "$C/reauth.out" IP)"
radclient -x -r 1 -t 3 -f "$C/dl" "127.0.0.1:$AUTH_PORT" auth "$SECRET" > "$C/dl.out" 2>&1
for p in $TAR_PIDS; do wait "$p"; done
ok=0
it_has "$C/warm.out" '"mud-status=ok"' || ok=1
it_has "$C/dl.out" "Received Access-Accept" || ok=1
n=1
while [ $n -le 10 ]; do
	it_has "$C/tar$n.out" '"mud-status=pending"' || ok=1
	n=$((n + 1))
done
it_result "tarpit: 10 stalled URLs pending; warm MAB and dACL download still answered" $ok \
	"tarpit connections=$(grep -c accepted "$IT_WORK/tarpit.log")"

# 5. stop with fetches stalled on the tarpit: they are cancelled, the server exits; the
# stalled authority held at most fetch_per_authority (2) fetch threads, whatever the
# number of devices pointing at it.
it_stop_radiusd
ok=0
n=$(grep -c "localhost:$TARPIT_PORT/dev[0-9]*.json: cancelled (the fetch service stopped)" \
	"$RAD_LOG")
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || ok=1
it_result "stop with stalled fetches: $n cancelled (at most 2 per authority), server stopped" $ok
it_stop_switch
it_finish
