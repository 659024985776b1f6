#!/bin/sh
#
# cache.sh - the policy cache inside the real server, with a short validity
# (cache_max_validity = 6 s), a cache_dir and the default fetch_mode = background
# (stale-while-revalidate) with CoA to a second real freeradius acting as the switch:
#   the first request is answered pending, the next ones from the cache (one fetch);
#   after expiry the stale policy is served at once and refreshed in the background
#   (a new GET in the HTTPS log), then served fresh; no CoA when nothing changed;
#   a changed MUD file after expiry: the stale policy at once, the refresh compiles new
#   dACL names, the stations that got the old ones are re-authenticated (CoA with their
#   audit-session-id), and get the new names and lines;
#   a failed refresh (MUD server stopped) keeps serving the stale policy
#   (MUD-Status ok, MUD-Cache stale) and its dACL, logged, no CoA;
#   a restart of radiusd with the MUD server still down serves the persisted
#   policy, the same dACL names, and their download;
#   a tampered persisted entry is dropped at start-up (and logged), not served;
#   a cache_dir writable by others stops start-up.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

VALIDITY=6
it_require
it_setup
it_start_web
it_publish cached signer
it_start_switch

MUD_FAIL_TTL=1
MUD_OPTS="	cache_dir = \"@CACHE@\"
	cache_max_validity = $VALIDITY
	cache_stale_max = 3600
	coa = yes
	coa_port = $SWITCH_PORT"
it_make_raddb
it_start_radiusd

C=$IT_WORK/cases
URL=$BASE/it/cached.json
V4_LINES='ip:inacl#1=permit tcp any host 192.0.2.10 eq 443
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=deny ip any any'
V4_LINES2='ip:inacl#1=permit tcp any host 192.0.2.10 eq 8443
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=deny ip any any'

# req NAME STATION [AUDIT]: a MAB for $URL (it_send: a pending answer is sent again until
# the fetch settled); reply in $C/NAME.out
req() {
	it_mab "$C/$1" "$2" "$(it_avpair lldp "$URL")" \
		"Cisco-AVPair = \"audit-session-id=${3:-0A0000010000000000000000}\""
	it_send auth "$C/$1" > "$C/$1.out"
}
# good NAME CACHE: accept, VLAN 100, MUD-Status ok, MUD-Cache CACHE, one name per family.
good() {
	it_has "$C/$1.out" "Received Access-Accept" &&
	[ "$(it_vlan "$C/$1.out")" = 100 ] &&
	it_has "$C/$1.out" '"mud-status=ok"' &&
	it_has "$C/$1.out" "\"mud-cache=$2\"" &&
	[ "$(it_acl_name "$C/$1.out" IP | grep -c .)" = 1 ] &&
	[ "$(it_acl_name "$C/$1.out" IPV6 | grep -c .)" = 1 ]
}
# download NAME ACL: the dACL's lines in $C/NAME.out
download() {
	it_dacl "$C/$1" "$2"
	it_send auth "$C/$1" > "$C/$1.out"
	it_has "$C/$1.out" "Received Access-Accept" || return 1
	it_lines "$C/$1.out"
}
fetches() { echo "$(it_fetches /it/cached.json)/$(it_fetches /it/cached.p7s)"; }
# settled N: wait (at most 10 s) until the MUD server saw N GETs of the file and the log the
# background fetch's end ("fetched in the background" or a failure line) N times.
settled() {
	_w=0
	while [ $_w -lt 100 ]; do
		[ "$(it_fetches /it/cached.json)" -ge "$1" ] 2>/dev/null &&
		[ "$(grep -c "cached.json fetched in the background\|cached.json: refresh failed" \
			"$RAD_LOG")" -ge "$1" ] && return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}

# 1. First request: pending, then the cache (one fetch); the second station: a hit.
IT_SETTLE=0 req first0 00:11:22:33:88:01 0A000001000000CC00000001
req first 00:11:22:33:88:01 0A000001000000CC00000001
req second 00:11:22:33:88:02 0A000001000000CC00000002
N4=$(it_acl_name "$C/first.out" IP)
N6=$(it_acl_name "$C/first.out" IPV6)
ok=0
it_has "$C/first0.out" '"mud-status=pending"' || ok=1
good first hit || ok=1
good second hit || ok=1
[ "$(it_acl_name "$C/second.out" IP)" = "$N4" ] || ok=1
[ "$(fetches)" = 1/1 ] || ok=1
it_result "cache: pending, then hits within validity, one fetch" $ok "fetches $(fetches)"

# 2. After expiry: the stale policy at once, refreshed in the background (a second GET),
# same content, same name, no CoA.
sleep $((VALIDITY + 1))
coa_before=$(it_switch_recv audit-session-id)
req refresh 00:11:22:33:88:03 0A000001000000CC00000003
ok=0
good refresh stale || ok=1
settled 2 || ok=1
req refreshed 00:11:22:33:88:03 0A000001000000CC00000003
good refreshed hit || ok=1
[ "$(fetches)" = 2/2 ] || ok=1
[ "$(it_acl_name "$C/refreshed.out" IP)" = "$N4" ] || ok=1
sleep 0.5
[ "$(it_switch_recv audit-session-id)" = "$coa_before" ] || ok=1
it_result "cache: after expiry stale at once, refreshed in the background, same policy, no CoA" \
	$ok "fetches $(fetches) CoA $coa_before -> $(it_switch_recv audit-session-id)"

# 3. The file changes; after expiry the stale policy at once, the refresh compiles new dACL
# names, CoA re-authenticates the stations of the old ones, which then get the new lines.
sed 's/"port": 443/"port": 8443/' "$here/mud/device.json.in" > "$IT_WORK/changed.in"
it_publish cached signer "$IT_WORK/changed.in"
sleep $((VALIDITY + 1))
req changed0 00:11:22:33:88:04 0A000001000000CC00000004
ok=0
good changed0 stale || ok=1
[ "$(it_acl_name "$C/changed0.out" IP)" = "$N4" ] || ok=1
settled 3 || ok=1
i=0
while [ $i -lt 50 ] && [ "$(it_switch_recv 0A000001000000CC00000004)" = 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(it_switch_recv 0A000001000000CC00000004)" -ge 1 ] || ok=1
[ "$(it_switch_recv 0A000001000000CC00000001)" -ge 1 ] || ok=1
req changed 00:11:22:33:88:04 0A000001000000CC00000004
M4=$(it_acl_name "$C/changed.out" IP)
M6=$(it_acl_name "$C/changed.out" IPV6)
lines=$(download dl-changed "$M4")
good changed hit || ok=1
[ "$(fetches)" = 3/3 ] || ok=1
[ -n "$M4" ] && [ "$M4" != "$N4" ] || ok=1
[ "$lines" = "$V4_LINES2" ] || ok=1
it_result "cache: changed MUD file -> refreshed, CoA to the stations, new dACL name and lines" \
	$ok "$N4 -> $M4; CoA $(it_switch_recv 0A000001000000CC00000004); $(echo "$lines" | tr '\n' '|')"

# 4. After expiry, with the MUD server stopped: the stale policy is still served, the failed
# refresh is logged, no CoA.
sleep $((VALIDITY + 1))
it_stop_web
coa_before=$(it_switch_recv audit-session-id)
req stale 00:11:22:33:88:05 0A000001000000CC00000005
i=0
while [ $i -lt 100 ] && ! grep -q "cached.json: refresh failed" "$RAD_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
req stale2 00:11:22:33:88:05 0A000001000000CC00000005
lines=$(download dl-stale "$M4")
ok=0
good stale stale || ok=1
good stale2 stale || ok=1
[ "$(it_acl_name "$C/stale.out" IP)" = "$M4" ] || ok=1
[ "$(it_acl_name "$C/stale.out" IPV6)" = "$M6" ] || ok=1
[ "$lines" = "$V4_LINES2" ] || ok=1
grep -q "cached.json: refresh failed: fetch-failed: .*onnect.*the cached policy is still served" \
	"$RAD_LOG" || ok=1
[ "$(it_switch_recv audit-session-id)" = "$coa_before" ] || ok=1
it_result "cache: refresh fails (server down) -> stale policy kept" $ok \
	"$(it_reply_values "$C/stale.out" Reply-Message | tr '\n' ' ')"

# 5. Restart radiusd with the MUD server still down: the persisted policy.
ok=0
[ "$(ls "$RADDB.cache" | grep -c '^[0-9a-f]\{64\}$')" = 1 ] || ok=1
it_stop_radiusd
it_start_radiusd
req restarted 00:11:22:33:88:06
lines=$(download dl-restarted "$M4")
lines6=$(download dl6-restarted "$M6")
good restarted stale || ok=1
[ "$(it_acl_name "$C/restarted.out" IP)" = "$M4" ] || ok=1
[ "$(it_acl_name "$C/restarted.out" IPV6)" = "$M6" ] || ok=1
[ "$lines" = "$V4_LINES2" ] || ok=1
[ "$(echo "$lines6" | grep -c .)" = 2 ] || ok=1
it_result "cache: restart with the MUD server down -> persisted policy and dACLs" $ok \
	"$(it_reply_values "$C/restarted.out" Reply-Message | tr '\n' ' ') v4=$(echo "$lines" | grep -c .)"

# 6. Someone with write access to the cache widens the persisted dACL ("permit ip any any",
#    same name) and plants a url-redirect line: at the restart the entry is re-proved, dropped
#    and logged with the file and the reason; the dACL name is no longer served, and with the
#    MUD server down the device gets the quarantine.
ok=0
CFILE=$(ls "$RADDB.cache"/* | grep '/[0-9a-f]\{64\}$' | head -n 1)
it_stop_radiusd
sed -i 's|^v4: ip:inacl#1=.*$|v4: ip:inacl#1=permit ip any any|' "$CFILE"
grep -q '^v4: ip:inacl#1=permit ip any any$' "$CFILE" || ok=1
it_start_radiusd
grep -q "cache file $CFILE dropped: acl-name-v4: name does not match the URL and lines" \
	"$RAD_LOG" || ok=1
req tampered 00:11:22:33:88:07
it_has "$C/tampered.out" '"mud-status=fetch-failed"' || ok=1
[ "$(it_vlan "$C/tampered.out")" = 999 ] || ok=1
it_dacl "$C/dl-tampered" "$M4"
it_send auth "$C/dl-tampered" > "$C/dl-tampered.out"
it_has "$C/dl-tampered.out" "Received Access-Reject" || ok=1
it_result "cache: a tampered persisted entry is dropped at start-up (logged), not served" $ok \
	"$(grep -m1 'cache file' "$RAD_LOG")"

# 7. A cache directory others can write to: the server does not start.
ok=0
it_stop_radiusd
chmod 0777 "$RADDB.cache"
if [ -n "$IT_PRELOAD" ]; then
	LD_PRELOAD="$IT_PRELOAD" ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0" \
		"$FREERADIUS" -C -l stdout -d "$RADDB" > "$C/badmode.cfg" 2>&1 && ok=1
else
	"$FREERADIUS" -C -l stdout -d "$RADDB" > "$C/badmode.cfg" 2>&1 && ok=1
fi
grep -q "cache directory is writable by others (mode 0777): chmod go-w" "$C/badmode.cfg" || ok=1
chmod 0755 "$RADDB.cache"
it_result "cache: a group/world-writable cache_dir stops start-up" $ok \
	"$(grep -m1 'cache directory' "$C/badmode.cfg")"

it_stop_switch
it_finish
