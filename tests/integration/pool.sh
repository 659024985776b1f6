#!/bin/sh
#
# pool.sh - a pool of two RADIUS servers sharing MUD state on Redis (issue 11,
# docs/high-availability.md). A real redis-server (127.0.0.1, free port, no persistence),
# two real freeradius servers A and B with rlm_mud pointing at it (redis { }), a real HTTPS
# MUD server, and a third freeradius playing the switch that receives CoA:
#   1. 20 concurrent cold MABs for one new URL, 10 on A and 10 on B: exactly one GET of the
#      file and one of its signature at the MUD server, both servers then serve one policy;
#   2. MAB on A, dACL download (all pages) on B: the same lines, B never fetched;
#   3. a station admitted by B; the file changes; a refresh on A: B serves the new dACL names
#      and the station admitted by B gets a CoA (shared sessions);
#   4. a tampered value written into Redis: refused, logged, never served;
#   5. redis-server killed mid-run: both keep answering from local state (a policy fetched
#      meanwhile is published late, by the ticker, once Redis is back); restarted: they
#      reconnect and share again;
#   6. the same burst as 1 with fetch_mode = inline (request threads race for the lease).
# A slow suite: runs only with MUD_SLOW_SUITES=1 (else 77, like package/deb.sh).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "${MUD_SLOW_SUITES:-0}" != 1 ]; then
	echo "SKIP: slow suite (set MUD_SLOW_SUITES=1)"
	exit 77
fi
for p in redis-server redis-cli; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "SKIP: $p not installed (scripts/install-deps.sh installs redis-server)"
		exit 77
	fi
done
it_require
if ! nm -D --undefined-only "$MODDIR/rlm_mud.so" 2>/dev/null | grep -q redisConnect; then
	echo "SKIP: rlm_mud.so built without the Redis backend (configure: redis no)"
	exit 77
fi

it_setup
it_start_web
C=$IT_WORK/cases
VALIDITY=8
for n in cold cold2 refresh tamper down back; do
	it_publish "$n" signer
done
python3 - "$here/mud/device.json.in" "$IT_WORK/big.json.in" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().replace("@URL@", "X"))
aces = d["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"]
for i in range(150):
    aces.append({"name": "p%d" % i,
                 "matches": {"ipv4": {"protocol": 17,
                                      "destination-ipv4-network": "198.51.100.%d/32" % (i % 250)},
                             "udp": {"destination-port": {"operator": "eq", "port": 10000 + i}}},
                 "actions": {"forwarding": "accept"}})
d["ietf-mud:mud"]["mud-url"] = "@URL@"
open(sys.argv[2], "w").write(json.dumps(d, indent=1))
EOF
it_publish big signer "$IT_WORK/big.json.in"

# The shared HMAC key: the same file on both servers.
head -c 48 /dev/urandom > "$IT_WORK/pool.key"
chmod 600 "$IT_WORK/pool.key"

# redis-server: loopback, free port, no persistence; stopped by PID.
REDIS_PORT=$(it_free_port)
mkdir -p "$IT_WORK/redis"
redis_start() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$IT_WORK/redis" --daemonize no --logfile "$IT_WORK/redis.log" &
	REDIS_PID=$!
	IT_PIDS="$IT_PIDS $REDIS_PID"
	_i=0
	until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ]; then
			echo "FAIL: redis-server did not start"
			exit 1
		fi
		sleep 0.1
	done
}
redis_start

it_start_switch
mud_opts() {
	MUD_OPTS="	fetch_mode = $1
	fetch_threads = 4
	pending_session_timeout = 30
	coa = yes
	coa_port = $SWITCH_PORT
	cache_max_validity = $VALIDITY
	cache_stale_max = 3600
	redis {
		server = 127.0.0.1
		port = $REDIS_PORT
		key_file = \"$IT_WORK/pool.key\"
		timeout = 200
		connect_timeout = 200
		retry_max = 1
	}"
}
mud_opts background
it_make_raddb pool-a
it_start_radiusd
it_server_save A
it_make_raddb pool-b
it_start_radiusd
it_server_save B

# wait_log SERVER PATTERN [N]: until SERVER's log has N (default 1) lines matching PATTERN.
wait_log() {
	eval "_wl=\$${1}_LOG"
	_i=0
	while [ "$(grep -c -- "$2" "$_wl")" -lt "${3:-1}" ]; do
		_i=$((_i + 1))
		[ "$_i" -gt 150 ] && return 1
		sleep 0.1
	done
	return 0
}
# settled SERVER NAME: the background fetch of $BASE/it/NAME.json ended on SERVER.
settled() {
	wait_log "$1" "MUD $BASE/it/$2.json \(fetched in the background\|taken from Redis\)"
}
mab_to() {
	# mab_to SERVER OUT STATION NAME [AUDIT]
	if [ -n "${5:-}" ]; then
		it_mab "$C/$2" "$3" "$(it_avpair lldp "$BASE/it/$4.json")" \
			"Cisco-AVPair = \"audit-session-id=$5\""
	else
		it_mab "$C/$2" "$3" "$(it_avpair lldp "$BASE/it/$4.json")"
	fi
	it_send_to "$1" auth "$C/$2" > "$C/$2.out"
}
# download SERVER OUT NAME: every page of a dACL; prints the lines, sets PAGES and DL_CODE.
download() {
	_dn=0
	_state=
	: > "$C/$2.lines"
	PAGES=0
	DL_CODE=
	while [ "$_dn" -lt 30 ]; do
		_dn=$((_dn + 1))
		it_dacl "$C/$2.$_dn" "$3" "$_state"
		it_send_to "$1" auth "$C/$2.$_dn" > "$C/$2.$_dn.out"
		it_lines "$C/$2.$_dn.out" >> "$C/$2.lines"
		PAGES=$_dn
		DL_CODE=$(it_code "$C/$2.$_dn.out")
		[ "$DL_CODE" = "Received Access-Challenge" ] || break
		_state=$(it_state "$C/$2.$_dn.out")
	done
	cat "$C/$2.lines"
}

# 1. 20 concurrent cold MABs for one new URL, split over A and B.
: > "$C/burst-a"
: > "$C/burst-b"
i=0
while [ "$i" -lt 20 ]; do
	i=$((i + 1))
	it_lldp_mab "$C/one" "00:11:22:33:c0:$(printf %02d $i)" "$BASE/it/cold.json"
	if [ $((i % 2)) -eq 0 ]; then f="$C/burst-a"; else f="$C/burst-b"; fi
	cat "$C/one" >> "$f"
	echo >> "$f"
done
radclient -x -p 10 -r 1 -t 20 -f "$C/burst-a" "127.0.0.1:$A_AUTH" auth "$SECRET" \
	> "$C/burst-a.out" 2>>"$IT_WORK/radclient.err" &
ba=$!
radclient -x -p 10 -r 1 -t 20 -f "$C/burst-b" "127.0.0.1:$B_AUTH" auth "$SECRET" \
	> "$C/burst-b.out" 2>>"$IT_WORK/radclient.err" &
bb=$!
wait $ba
wait $bb
ok=0
settled A cold || ok=1
settled B cold || ok=1
accepts=$(cat "$C/burst-a.out" "$C/burst-b.out" | grep -c "^Received Access-Accept")
[ "$accepts" = 20 ] || ok=1
[ "$(it_fetches /it/cold.json)" = 1 ] && [ "$(it_fetches /it/cold.p7s)" = 1 ] || ok=1
mab_to A cold-a 00:11:22:33:c0:01 cold
mab_to B cold-b 00:11:22:33:c0:02 cold
it_has "$C/cold-a.out" '"mud-status=ok"' || ok=1
it_has "$C/cold-b.out" '"mud-status=ok"' || ok=1
COLD4=$(it_acl_name "$C/cold-a.out" IP)
[ -n "$COLD4" ] && [ "$COLD4" = "$(it_acl_name "$C/cold-b.out" IP)" ] || ok=1
[ "$(it_fetches /it/cold.json)" = 1 ] || ok=1
it_result "20 cold MABs over A and B: one GET of the file and one of the signature" $ok \
	"accepts=$accepts GETs=$(it_fetches /it/cold.json)/$(it_fetches /it/cold.p7s) names=$COLD4"

# 2. MAB on A; dACL download, all pages, on B (which never fetched it): the same lines.
mab_to A big1 00:11:22:33:b1:01 big
ok=0
settled A big || ok=1
mab_to A big2 00:11:22:33:b1:01 big
BIG4=$(it_acl_name "$C/big2.out" IP)
[ -n "$BIG4" ] || ok=1
download A dl-a "$BIG4" > "$C/dl-a.txt"
pa=$PAGES
download B dl-b "$BIG4" > "$C/dl-b.txt"
pb=$PAGES
[ "$DL_CODE" = "Received Access-Accept" ] || ok=1
[ "$pa" -ge 2 ] && [ "$pb" = "$pa" ] || ok=1
[ "$(grep -c . "$C/dl-a.txt")" -gt 100 ] || ok=1
cmp -s "$C/dl-a.txt" "$C/dl-b.txt" || ok=1
grep -q "policy taken from Redis (compiled by another server)" "$B_LOG" || ok=1
[ "$(it_fetches /it/big.json)" = 1 ] || ok=1
it_result "MAB on A, dACL download (all pages) on B: the same lines" $ok \
	"pages A=$pa B=$pb lines A=$(grep -c . "$C/dl-a.txt") B=$(grep -c . "$C/dl-b.txt") $DL_CODE"

# 3. A station admitted by B; the file changes; a refresh on A: B serves the new names and
#    the station admitted by B is re-authenticated (CoA) by A.
AUDIT_B=0A0000B10000000000000001
mab_to B ref1 00:11:22:33:f0:01 refresh "$AUDIT_B"
ok=0
settled B refresh || ok=1
mab_to B ref2 00:11:22:33:f0:01 refresh "$AUDIT_B"
it_has "$C/ref2.out" '"mud-status=ok"' || ok=1
OLD4=$(it_acl_name "$C/ref2.out" IP)
mab_to A ref3 00:11:22:33:f0:02 refresh		# answered from Redis at once
it_has "$C/ref3.out" '"mud-cache=shared"' || ok=1
mab_to A ref4 00:11:22:33:f0:02 refresh
[ "$(it_acl_name "$C/ref4.out" IP)" = "$OLD4" ] || ok=1
[ "$(it_fetches /it/refresh.json)" = 1 ] || ok=1
coa_before=$(it_switch_recv "$AUDIT_B")
sed 's/"port": 443/"port": 8443/' "$here/mud/device.json.in" > "$IT_WORK/refresh2.json.in"
it_publish refresh signer "$IT_WORK/refresh2.json.in"
sleep $((VALIDITY + 1))
mab_to A ref5 00:11:22:33:f0:02 refresh		# stale: served, refreshed on A
wait_log A "MUD $BASE/it/refresh.json fetched in the background" 1 || ok=1
i=0
while [ "$(it_switch_recv "$AUDIT_B")" -le "$coa_before" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
mab_to A ref6 00:11:22:33:f0:02 refresh
NEW4=$(it_acl_name "$C/ref6.out" IP)
[ -n "$NEW4" ] && [ "$NEW4" != "$OLD4" ] || ok=1
download B dl-new "$NEW4" > "$C/dl-new.txt"
[ "$DL_CODE" = "Received Access-Accept" ] && grep -q "eq 8443" "$C/dl-new.txt" || ok=1
mab_to B ref7 00:11:22:33:f0:01 refresh "$AUDIT_B"
[ "$(it_acl_name "$C/ref7.out" IP)" = "$NEW4" ] || ok=1
[ "$(it_fetches /it/refresh.json)" = 2 ] || ok=1
coa_after=$(it_switch_recv "$AUDIT_B")
[ "$coa_after" -gt "$coa_before" ] || ok=1
it_result "refresh on A after the file changed: B serves the new names, CoA for B's station" \
	$ok "old=$OLD4 new=$NEW4 B=$(it_acl_name "$C/ref7.out" IP) GETs=$(it_fetches \
	/it/refresh.json) CoA for B's session: $coa_before -> $coa_after"

# 4. A tampered value in Redis: refused, logged, never served.
mab_to A t1 00:11:22:33:7a:01 tamper
ok=0
settled A tamper || ok=1
mab_to A t2 00:11:22:33:7a:01 tamper
T4=$(it_acl_name "$C/t2.out" IP)
TKEY="mud:p:$(printf '%s' "$BASE/it/tamper.json" | sha256sum | cut -c1-64)"
python3 - "$REDIS_PORT" "$TKEY" <<'EOF' || ok=1
import subprocess, sys
port, key = sys.argv[1], sys.argv[2]
val = subprocess.run(["redis-cli", "-p", port, "GET", key], capture_output=True).stdout
assert val.startswith(b"rlm_mud-redis 1\n"), val[:40]
val = val.rstrip(b"\n")
i = val.index(b"v4: ip:inacl#1=")
val = val[:i] + b"v4: ip:inacl#1=permit ip any any\n" + val[val.index(b"\n", i) + 1:]
subprocess.run(["redis-cli", "-p", port, "-x", "SET", key], input=val, check=True,
               capture_output=True)
EOF
download B t-dl "$T4" > "$C/t-dl.txt"
[ "$DL_CODE" = "Received Access-Reject" ] || ok=1
grep -q "permit ip any any" "$C/t-dl.txt" && ok=1
grep -q "Redis value mud:p:.* refused, not used: hmac does not match" "$B_LOG" || ok=1
mab_to B t3 00:11:22:33:7a:02 tamper
settled B tamper || ok=1
mab_to B t4 00:11:22:33:7a:02 tamper
download B t-dl2 "$(it_acl_name "$C/t4.out" IP)" > "$C/t-dl2.txt"
grep -q "permit ip any any" "$C/t-dl2.txt" "$C"/t3.out "$C"/t4.out && ok=1
[ "$(it_acl_name "$C/t4.out" IP)" = "$T4" ] || ok=1
it_result "tampered value in Redis: refused, logged, never served" $ok \
	"download on B: $DL_CODE; B's own policy $(it_acl_name "$C/t4.out" IP)"

# 5. redis-server killed mid-run: both answer from local state; restarted: they reconnect.
it_stop_pid "$REDIS_PID"
ok=0
mab_to A k1 00:11:22:33:c0:01 cold
mab_to B k2 00:11:22:33:c0:02 cold
it_has "$C/k1.out" '"mud-status=ok"' || ok=1
it_has "$C/k2.out" '"mud-status=ok"' || ok=1
download B k-dl "$COLD4" > /dev/null
[ "$DL_CODE" = "Received Access-Accept" ] || ok=1
mab_to A k3 00:11:22:33:d0:01 down
settled A down || ok=1
mab_to A k4 00:11:22:33:d0:01 down
it_has "$C/k4.out" '"mud-status=ok"' || ok=1
grep -q "Redis 127.0.0.1:$REDIS_PORT \(failed\|unreachable\).*serving from local state" \
	"$A_LOG" || ok=1
it_result "redis-server killed: A and B keep answering from local state" $ok \
	"$(it_code "$C/k1.out") $(it_code "$C/k2.out") new URL on A: $(it_reply_values \
	"$C/k4.out" Reply-Message | tr '\n' ' ')"

redis_start
sleep 1.5
ok=0
mab_to A r1 00:11:22:33:e0:01 back
settled A back || ok=1
mab_to A r2 00:11:22:33:e0:01 back
BACK4=$(it_acl_name "$C/r2.out" IP)
download B r-dl "$BACK4" > "$C/r-dl.txt"
[ "$DL_CODE" = "Received Access-Accept" ] || ok=1
[ "$(grep -c . "$C/r-dl.txt")" -ge 1 ] || ok=1
wait_log A "Redis 127.0.0.1:$REDIS_PORT reachable again" || ok=1
wait_log B "Redis 127.0.0.1:$REDIS_PORT reachable again" || ok=1
# the policy A fetched while Redis was down is published late (A's ticker, every 5 s with
# refresh_interval = 0 as here): B serves it too
wait_log A "published to Redis late" || ok=1
download B k4-dl "$(it_acl_name "$C/k4.out" IP)" > "$C/k4-dl.txt"
K4_DL=$DL_CODE
[ "$K4_DL" = "Received Access-Accept" ] && [ "$(grep -c . "$C/k4-dl.txt")" -ge 1 ] || ok=1
it_result "redis-server restarted: A and B reconnect, B serves A's new policies (also the one fetched while Redis was down)" \
	$ok "download on B: $DL_CODE, while-down policy: $K4_DL"

# 6. The burst again with fetch_mode = inline: request threads race for the pool lease.
it_server_stop A
it_server_stop B
for s in A B; do
	eval "_rd=\$${s}_RADDB"
	sed -i 's/^\tfetch_mode = background$/\tfetch_mode = inline/' "$_rd/mods-enabled/mud"
	grep -q "fetch_mode = inline" "$_rd/mods-enabled/mud" || { echo "FAIL: config"; exit 1; }
done
it_server_start A
it_server_start B
: > "$C/burst2-a"
: > "$C/burst2-b"
i=0
while [ "$i" -lt 20 ]; do
	i=$((i + 1))
	it_lldp_mab "$C/one" "00:11:22:33:c2:$(printf %02d $i)" "$BASE/it/cold2.json"
	if [ $((i % 2)) -eq 0 ]; then f="$C/burst2-a"; else f="$C/burst2-b"; fi
	cat "$C/one" >> "$f"
	echo >> "$f"
done
radclient -x -p 10 -r 1 -t 20 -f "$C/burst2-a" "127.0.0.1:$A_AUTH" auth "$SECRET" \
	> "$C/burst2-a.out" 2>>"$IT_WORK/radclient.err" &
ba=$!
radclient -x -p 10 -r 1 -t 20 -f "$C/burst2-b" "127.0.0.1:$B_AUTH" auth "$SECRET" \
	> "$C/burst2-b.out" 2>>"$IT_WORK/radclient.err" &
bb=$!
wait $ba
wait $bb
ok=0
oks=$(cat "$C/burst2-a.out" "$C/burst2-b.out" | grep -c '"mud-status=ok"')
names=$(cat "$C/burst2-a.out" "$C/burst2-b.out" |
	sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' | sort -u | grep -c .)
shared=$(cat "$C/burst2-a.out" "$C/burst2-b.out" | grep -c '"mud-cache=shared"')
[ "$oks" = 20 ] && [ "$names" = 1 ] || ok=1
[ "$(it_fetches /it/cold2.json)" = 1 ] && [ "$(it_fetches /it/cold2.p7s)" = 1 ] || ok=1
it_result "inline: 20 cold MABs over A and B: one GET of the file and of the signature" $ok \
	"ok=$oks names=$names shared=$shared GETs=$(it_fetches /it/cold2.json)/$(it_fetches \
	/it/cold2.p7s)"

it_server_stop A
it_server_stop B
echo "$IT_PASS passed, $IT_FAIL failed"
[ "$IT_FAIL" -eq 0 ]
