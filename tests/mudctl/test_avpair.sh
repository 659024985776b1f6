#!/bin/sh
# mudctl avpair: the exact Cisco-AVPair lines (as the shared FreeRADIUS notes and
# tests/integration/lib.sh it_avpair write them), the round trip through mudctl url, refusals.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MUDCTL:=$top_srcdir/rlm_mud/mudctl}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

# expect NAME STATUS PATTERN -- CMD...: exit status and output (grep -F; "" = anything).
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	"$@" >"$TMP/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ] && { [ -z "$pat" ] || grep -qF -- "$pat" "$TMP/out"; }; then
		pass=$((pass + 1))
		echo "PASS: $name"
	else
		fail=$((fail + 1))
		echo "FAIL: $name (exit $got, want $want, pattern '$pat')"
		sed 's/^/    | /' "$TMP/out" | head -20
	fi
}

U=https://luminaire.example.com/Luminaire_150
expect "lldp: the documented line" 0 \
	'Cisco-AVPair = "lldp-tlv=\000\177\000/\000\000^\001https://luminaire.example.com/Luminaire_150"' \
	-- "$MUDCTL" avpair --lldp "$U"
expect "dhcp: option 161" 0 \
	'Cisco-AVPair = "dhcp-option=\000\241\000+https://luminaire.example.com/Luminaire_150"' \
	-- "$MUDCTL" avpair --dhcp "$U"
expect "dhcp6: option 112" 0 \
	'Cisco-AVPair = "dhcp-option=\000p\000+https://luminaire.example.com/Luminaire_150"' \
	-- "$MUDCTL" avpair --dhcp6 "$U"

# Round trip: what mudctl url (the module's decoder) reads back, and from which source.
for k in lldp dhcp dhcp6; do
	"$MUDCTL" avpair --raw "--$k" "$U/x?y=1" > "$TMP/raw.$k" 2>&1
	case $k in
	lldp) opt=--lldp-avpair src=lldp ;;
	dhcp) opt=--dhcp-avpair src=dhcpv4 ;;
	dhcp6) opt=--dhcp-avpair src=dhcpv6 ;;
	esac
	expect "round trip $k: source $src" 0 "source:    $src" -- "$MUDCTL" url -v "$opt" "$(cat "$TMP/raw.$k")"
	expect "round trip $k: url" 0 "url:       $U/x?y=1" -- "$MUDCTL" url -v "$opt" "$(cat "$TMP/raw.$k")"
done

# The longest URL that fits one attribute (247 bytes), and one byte more.
long() { printf 'https://a.example/%s' "$(head -c "$1" /dev/zero | tr '\0' a)"; }
expect "lldp: 230-byte URL fits (247-byte value)" 0 "Cisco-AVPair" -- "$MUDCTL" avpair --lldp "$(long 212)"
expect "lldp: 231-byte URL refused" 1 "MUD_ERR_LIMIT" -- "$MUDCTL" avpair --lldp "$(long 213)"
expect "dhcp: 231-byte URL fits" 0 "Cisco-AVPair" -- "$MUDCTL" avpair --dhcp "$(long 213)"
expect "dhcp: 232-byte URL refused" 1 "MUD_ERR_LIMIT" -- "$MUDCTL" avpair --dhcp "$(long 214)"

expect "http refused" 1 "MUD_ERR_URL" -- "$MUDCTL" avpair --lldp http://a.example/x
expect "userinfo refused" 1 "MUD_ERR_URL" -- "$MUDCTL" avpair --dhcp https://u@a.example/x
expect "no option" 2 "give exactly one" -- "$MUDCTL" avpair
expect "two options" 2 "give exactly one" -- "$MUDCTL" avpair --lldp "$U" --dhcp "$U"
expect "--help" 0 "radclient" -- "$MUDCTL" avpair --help

echo "mudctl avpair: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
