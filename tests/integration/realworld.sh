#!/bin/sh
#
# realworld.sh - a MUD file as the generators publish it, through the real module
# (docs/mudfiles.md): the mudgee-style profile of tests/data/valid/realworld-mudgee-profile
# (draft access-lists root, hex ethertypes, eth matches in ipv4 ACEs, ethernet-acl-type,
# local-networks + multicast destinations) served signed over HTTPS.
#   lenient = no:  the file is refused (invalid-file), the device is quarantined;
#   lenient = yes: Access-Accept with exactly the lines `mudctl compile --lenient` gives
#                  for that case (tests/data/valid/.../expect.cisco), and the lenient
#                  decisions logged with their JSON paths.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

CASE="$top_srcdir/tests/data/valid/realworld-mudgee-profile"

it_require
it_setup
# The case's own context (local-networks with the multicast groups, the gateway controller,
# static DNS) plus a VLAN, so the reply can be checked.
python3 - "$CASE/context.json" "$IT_WORK/context.json" <<'EOF'
import json, sys
ctx = json.load(open(sys.argv[1]))
ctx["default-vlan"] = 100
ctx["quarantine-vlan"] = 999
json.dump(ctx, open(sys.argv[2], "w"))
EOF
sed 's|"https://tplinkplug.example.com/tplinkplug"|"@URL@"|' "$CASE/input.json" \
	> "$IT_WORK/mudgee.json.in"
it_start_web
it_publish mudgee signer "$IT_WORK/mudgee.json.in"
C=$IT_WORK/cases
URL="$BASE/it/mudgee.json"

# The lines the switch must get: the data case's expectation (dACL names aside).
EXPECT=$(grep -v '^#' "$CASE/expect.cisco")

# 1. strict (the default): refused, quarantined.
it_make_raddb raddb-strict
it_start_radiusd
it_lldp_mab "$C/strict" 00:11:22:33:cc:01 "$URL"
it_send auth "$C/strict" > "$C/strict.out"
ok=0
it_has "$C/strict.out" "Received Access-Accept" || ok=1
it_has "$C/strict.out" '"mud-status=invalid-file"' || ok=1
[ "$(it_vlan "$C/strict.out")" = 999 ] || ok=1
grep -q 'access-lists.*accepted in lenient mode' "$RAD_LOG" || ok=1
it_result "strict: mudgee profile refused (draft root named), device quarantined" $ok \
	"$(it_reply_values "$C/strict.out" Reply-Message | tr '\n' ' ')"
it_stop_radiusd

# 2. lenient = yes, lines inline: exactly the compiled policy.
MUD_FORMAT=cisco-inline
MUD_OPTS="	lenient = yes"
it_make_raddb raddb-lenient
it_start_radiusd
it_lldp_mab "$C/lenient" 00:11:22:33:cc:02 "$URL"
it_send auth "$C/lenient" > "$C/lenient.out"
ok=0
it_has "$C/lenient.out" "Received Access-Accept" || ok=1
it_has "$C/lenient.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/lenient.out")" = 100 ] || ok=1
[ "$(it_reply_values "$C/lenient.out" Cisco-AVPair)" = "$EXPECT" ] || ok=1
it_result "lenient: mudgee profile accepted, lines = mudctl compile --lenient" $ok \
	"$(it_reply_values "$C/lenient.out" Cisco-AVPair | tr '\n' '|')"

ok=0
grep -q 'MUD file: lenient: draft root "ietf-access-control-list:access-lists"' "$RAD_LOG" ||
	ok=1
grep -q 'MUD file: lenient: eth match with ethertype 0x86dd in an ipv4-acl-type ACL: the ACE never matches (at /ietf-access-control-list:access-lists/acl/1/aces/ace/2/matches/eth)' \
	"$RAD_LOG" || ok=1
grep -q 'MUD warning: ethertype 0x0806 cannot match IP traffic; ACE skipped (at /ietf-access-control-list:access-lists/acl/2/aces/ace/0)' \
	"$RAD_LOG" || ok=1
it_result "lenient: each decision logged with its JSON path" $ok
it_stop_radiusd

it_finish
