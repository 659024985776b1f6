#!/bin/sh
#
# badinput.sh - hostile RADIUS attributes against the real module: every request
# gets a defined answer with a MUD-Status saying what was wrong, the server never
# crashes or hangs, nothing is fetched for refused input, and a good device is
# served correctly afterwards:
#   truncated LLDP MUD TLV, LLDP TLV of another organisation, zero-length TLV,
#   an http:// URL in DHCP option 161, a URL with userinfo, a URL with spaces,
#   binary garbage in lldp-tlv= and dhcp-option=, 40 Cisco-AVPairs of noise,
#   a maximum-length (253-byte) AV-pair, a dACL download for a name never issued,
#   a dACL download with a forged paging State, a non-MUD AV-pair only.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web
it_publish good signer
C=$IT_WORK/cases
it_make_raddb
it_start_radiusd

# raw AV-pair line from a python bytes expression (octal escapes for radclient)
raw() {
	python3 - "$1" <<'PY'
import sys
body = eval(sys.argv[1])
print('Cisco-AVPair = "%s"' % "".join(
    chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else "\\%03o" % b for b in body))
PY
}
status_is() { it_has "$C/$1.out" "\"mud-status=$2\""; }
answered() { it_has "$C/$1.out" "Received Access-"; }

U="$BASE/it/good.json"
case_run() {	# case_run NAME STATION EXPECTED-STATUS AVPAIR-LINE...
	_n=$1
	_s=$2
	_want=$3
	shift 3
	it_mab "$C/$_n" "$_s" "$@"
	it_send auth "$C/$_n" > "$C/$_n.out"
	ok=0
	answered "$_n" || ok=1
	status_is "$_n" "$_want" || ok=1
	it_result "$_n: answered, MUD-Status $_want" $ok "$(grep -o 'mud-status=[a-z-]*' "$C/$_n.out")"
}

case_run lldp-truncated 02:00:00:00:0b:01 url-invalid \
	"$(raw 'b"lldp-tlv=\x00\x7f\x00\x40\x00\x00\x5e\x01https://x"')"
case_run lldp-other-oui 02:00:00:00:0b:02 no-url \
	"$(raw 'b"lldp-tlv=\x00\x7f\x00\x0a\x00\x12\x0f\x01abcdef"')"
case_run lldp-zero-length 02:00:00:00:0b:03 no-url "$(raw 'b"lldp-tlv=\x00\x7f\x00\x00"')"
case_run dhcp-http 02:00:00:00:0b:04 url-invalid "$(it_avpair dhcp4 "http://localhost:$WEB_PORT/it/good.json")"
case_run dhcp-userinfo 02:00:00:00:0b:05 url-invalid \
	"$(it_avpair dhcp4 "https://user:pw@localhost:$WEB_PORT/it/good.json")"
case_run dhcp-space 02:00:00:00:0b:06 url-invalid "$(it_avpair dhcp4 "https://localhost:$WEB_PORT/it/go od.json")"
case_run lldp-garbage 02:00:00:00:0b:07 no-url "$(raw 'b"lldp-tlv=" + bytes(range(256))[:200]')"
case_run dhcp-garbage 02:00:00:00:0b:08 no-url "$(raw 'b"dhcp-option=" + bytes([0xff] * 150)')"
case_run avpair-253 02:00:00:00:0b:09 no-url "$(raw 'b"lldp-tlv=" + b"\x00\x01\x00\xef" + b"A" * 240')"
noise=""
i=0
while [ "$i" -lt 40 ]; do
	noise="$noise
Cisco-AVPair = \"cdp-tlv=noise$i\""
	i=$((i + 1))
done
case_run many-avpairs 02:00:00:00:0b:10 ok "$noise" "$(it_avpair lldp "$U")"
case_run other-avpair-only 02:00:00:00:0b:11 no-url 'Cisco-AVPair = "audit-session-id=0A0000010000"'

# dACL downloads with a name never issued, and with a forged paging State.
it_dacl "$C/dacl-unknown" "#ACSACL#-IP-mud-nothing-00000000"
it_send auth "$C/dacl-unknown" > "$C/dacl-unknown.out"
ok=0
it_has "$C/dacl-unknown.out" "Received Access-Reject" || ok=1
it_has "$C/dacl-unknown.out" "inacl#" && ok=1
it_result "dacl-unknown: rejected, no lines" $ok
V4=$(it_acl_name "$C/many-avpairs.out" IP 2>/dev/null || true)
if [ -z "$V4" ]; then
	V4=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/many-avpairs.out" | head -n 1)
fi
it_dacl "$C/dacl-state" "$V4" 0x6d75642d6461636c2d706167653a393939393939
it_send auth "$C/dacl-state" > "$C/dacl-state.out"
ok=0
answered dacl-state || ok=1
it_result "dacl-forged-state: answered (no crash), page index bounded" $ok "$(grep -o 'Received Access-[A-Za-z]*' "$C/dacl-state.out")"

# Nothing was fetched for the refused or malformed input; the good device was fetched once.
ok=0
[ "$(it_fetches /it/good.json)" = 1 ] || ok=1
[ "$(grep -c '^GET ' "$WEB_LOG")" = 2 ] || ok=1	# good.json + good.p7s
it_result "only the good device's file (and signature) fetched" $ok "$(cat "$WEB_LOG")"

# Still alive and serving.
case_run still-serving 02:00:00:00:0b:12 ok "$(it_avpair lldp "$U")"
kill -0 "$RAD_PID" 2>/dev/null
it_result "freeradius still running" $?

it_finish
