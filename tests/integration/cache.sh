#!/bin/sh
#
# cache.sh - the policy cache inside the real server, with a short validity
# (cache_max_validity = 4 s) and a cache_dir:
#   hit without a fetch; refresh after expiry (a new GET in the HTTPS log);
#   a changed MUD file after expiry gives a new dACL name with the new lines;
#   a failed refresh (MUD server stopped) keeps serving the stale policy
#   (MUD-Status ok, MUD-Cache stale) and its dACL;
#   a restart of radiusd with the MUD server still down serves the persisted
#   policy, the same dACL names, and their download;
#   a tampered persisted entry is dropped at start-up (and logged), not served;
#   a cache_dir writable by others stops start-up.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

VALIDITY=4
it_require
it_setup
it_start_web
it_publish cached signer

MUD_FAIL_TTL=1
MUD_OPTS="	cache_dir = \"@CACHE@\"
	cache_max_validity = $VALIDITY
	cache_stale_max = 3600"
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

# req NAME STATION: a MAB for $URL; reply in $C/NAME.out
req() {
	it_lldp_mab "$C/$1" "$2" "$URL"
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

# 1. First request fetches; the second is a cache hit.
req first 00:11:22:33:88:01
req second 00:11:22:33:88:02
N4=$(it_acl_name "$C/first.out" IP)
N6=$(it_acl_name "$C/first.out" IPV6)
ok=0
good first fetched || ok=1
good second hit || ok=1
[ "$(it_acl_name "$C/second.out" IP)" = "$N4" ] || ok=1
[ "$(fetches)" = 1/1 ] || ok=1
it_result "cache: hit within validity, one fetch" $ok "fetches $(fetches)"

# 2. After expiry the next request refreshes (a second GET), same content, same name.
sleep $((VALIDITY + 1))
req refresh 00:11:22:33:88:03
ok=0
good refresh fetched || ok=1
[ "$(fetches)" = 2/2 ] || ok=1
[ "$(it_acl_name "$C/refresh.out" IP)" = "$N4" ] || ok=1
it_result "cache: refresh after expiry (re-fetched)" $ok "fetches $(fetches)"

# 3. The file changes; after expiry a new dACL name with the new lines.
sed 's/"port": 443/"port": 8443/' "$here/mud/device.json.in" > "$IT_WORK/changed.in"
it_publish cached signer "$IT_WORK/changed.in"
sleep $((VALIDITY + 1))
req changed 00:11:22:33:88:04
M4=$(it_acl_name "$C/changed.out" IP)
M6=$(it_acl_name "$C/changed.out" IPV6)
lines=$(download dl-changed "$M4")
ok=0
good changed fetched || ok=1
[ "$(fetches)" = 3/3 ] || ok=1
[ -n "$M4" ] && [ "$M4" != "$N4" ] || ok=1
[ "$lines" = "$V4_LINES2" ] || ok=1
it_result "cache: changed MUD file -> new dACL name and lines" $ok "$N4 -> $M4; $(echo "$lines" | tr '\n' '|')"

# 4. After expiry, with the MUD server stopped: the stale policy is still served.
sleep $((VALIDITY + 1))
it_stop_web
req stale 00:11:22:33:88:05
lines=$(download dl-stale "$M4")
ok=0
good stale stale || ok=1
[ "$(it_acl_name "$C/stale.out" IP)" = "$M4" ] || ok=1
[ "$(it_acl_name "$C/stale.out" IPV6)" = "$M6" ] || ok=1
[ "$lines" = "$V4_LINES2" ] || ok=1
grep -q "Refresh failed (.*onnect.*), serving the stale policy" "$RAD_LOG" || ok=1
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

it_finish
