#!/bin/sh
#
# run.sh - rlm_mud against the real FreeRADIUS 3.2 server and a local HTTPS MUD
# server. One PASS/FAIL line per case; exit status 1 if any case failed, 77
# (skip) if FreeRADIUS or the built module is missing.
#
#   IT_KEEP=1 tests/integration/run.sh    keep the work directory
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web

# MUD files: a good one per source (distinct URLs so each case really fetches),
# one signed by an untrusted signer, one unsigned, and a large one for paging.
for n in device dhcp4 dhcp6 attr acct conflict-lldp conflict-dhcp; do
	it_publish "$n" signer
done
it_publish badsig rogue-signer
it_publish unsigned none
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

it_make_raddb
it_start_radiusd

# radclient line for a Cisco-AVPair carrying a MUD URL, binary parts as octal escapes.
avpair() {
	python3 - "$1" "$2" <<'EOF'
import sys
kind, url = sys.argv[1], sys.argv[2].encode()
if kind == "lldp":
    body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(url)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + url
elif kind == "dhcp4":
    body = b"dhcp-option=" + bytes([0, 161]) + len(url).to_bytes(2, "big") + url
else:
    body = b"dhcp-option=" + bytes([0, 112]) + len(url).to_bytes(2, "big") + url
out = ""
for b in body:
    c = chr(b)
    out += c if 32 <= b < 127 and c not in '"\\' else "\\%03o" % b
print('Cisco-AVPair = "%s"' % out)
EOF
}

# mab FILE STATION [extra lines...]: a Cisco MAB Access-Request.
mab() {
	f=$1
	st=$2
	shift 2
	{
		echo "User-Name = \"$st\""
		echo "User-Password = \"$st\""
		echo "Service-Type = Call-Check"
		echo "Calling-Station-Id = \"$st\""
		echo "NAS-IP-Address = 127.0.0.1"
		for l in "$@"; do printf '%s\n' "$l"; done
	} > "$f"
}

# dacl FILE NAME [State]: a Cisco dACL download request.
dacl() {
	{
		echo "User-Name = \"$2\""
		echo 'Cisco-AVPair = "aaa:service=ip_admission"'
		echo 'Cisco-AVPair = "aaa:event=acl-download"'
		echo "Message-Authenticator = 0x00"
		if [ -n "${3:-}" ]; then echo "State = $3"; fi
	} > "$1"
}

C=$IT_WORK/cases
has() { grep -F -q -- "$2" "$1"; }
code() { grep -o "Received Access-[A-Za-z]*\|Received Accounting-Response" "$1" | head -n 1; }

# The expected lines, exactly (context: service.example.com = 192.0.2.10 / 2001:db8::a).
V4_LINES='ip:inacl#1=permit tcp any host 192.0.2.10 eq 443
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=deny ip any any'
V6_LINES='ipv6:inacl#1=permit tcp any host 2001:db8::a eq 443
ipv6:inacl#2=deny ipv6 any any'

# 1. LLDP MAB -> VLAN + dACL names.
mab "$C/lldp" 00:11:22:33:44:01 "$(avpair lldp "$BASE/it/device.json")"
it_send auth "$C/lldp" > "$C/lldp.out"
ok=0
has "$C/lldp.out" "Received Access-Accept" || ok=1
has "$C/lldp.out" "Tunnel-Type:0 = VLAN" || has "$C/lldp.out" "Tunnel-Type = VLAN" || ok=1
has "$C/lldp.out" "IEEE-802" || ok=1
has "$C/lldp.out" 'Tunnel-Private-Group-Id:0 = "100"' || \
	has "$C/lldp.out" 'Tunnel-Private-Group-Id = "100"' || ok=1
has "$C/lldp.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-' || ok=1
has "$C/lldp.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IPV6-mud-' || ok=1
has "$C/lldp.out" 'mud-status=ok' || ok=1
it_result "lldp-mab: VLAN 100 + dACL names" $ok "$(code "$C/lldp.out")"

V4_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/lldp.out")
V6_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IPV6-[^"]*\)".*/\1/p' "$C/lldp.out")

# 2. dACL download of both names -> exactly the lines.
lines_of() { sed -n '/^Received/,$ s/^[[:space:]]*Cisco-AVPair = "\(ipv*6*:inacl#[^"]*\)"$/\1/p' "$1"; }
dacl "$C/dl4" "$V4_NAME"
it_send auth "$C/dl4" > "$C/dl4.out"
ok=0
has "$C/dl4.out" "Received Access-Accept" || ok=1
[ "$(lines_of "$C/dl4.out")" = "$V4_LINES" ] || ok=1
it_result "dacl-download-v4: exact lines" $ok "got: $(lines_of "$C/dl4.out" | tr '\n' '|')"
dacl "$C/dl6" "$V6_NAME"
it_send auth "$C/dl6" > "$C/dl6.out"
ok=0
has "$C/dl6.out" "Received Access-Accept" || ok=1
[ "$(lines_of "$C/dl6.out")" = "$V6_LINES" ] || ok=1
it_result "dacl-download-v6: exact lines" $ok "got: $(lines_of "$C/dl6.out" | tr '\n' '|')"

# 3. Unknown dACL name -> reject.
dacl "$C/dlx" "#ACSACL#-IP-mud-nosuch-00000000"
it_send auth "$C/dlx" > "$C/dlx.out"
ok=0
has "$C/dlx.out" "Received Access-Reject" || ok=1
it_result "dacl-download-unknown: reject" $ok "$(code "$C/dlx.out")"

# 4. Second request for the same URL: served from the cache, no new fetch.
before=$(it_fetches /it/device.json)
mab "$C/lldp2" 00:11:22:33:44:02 "$(avpair lldp "$BASE/it/device.json")"
it_send auth "$C/lldp2" > "$C/lldp2.out"
after=$(it_fetches /it/device.json)
ok=0
has "$C/lldp2.out" "Received Access-Accept" || ok=1
[ "$before" = 1 ] && [ "$after" = 1 ] || ok=1
it_result "cache: second request not fetched" $ok "fetches before=$before after=$after"

# 5/6. DHCPv4 option 161 and DHCPv6 option 112 AV-pairs.
for k in dhcp4 dhcp6; do
	mab "$C/$k" 00:11:22:33:44:1$(test $k = dhcp4 && echo 1 || echo 2) \
		"$(avpair $k "$BASE/it/$k.json")"
	it_send auth "$C/$k" > "$C/$k.out"
	ok=0
	has "$C/$k.out" "Received Access-Accept" || ok=1
	has "$C/$k.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-' || ok=1
	has "$C/$k.out" 'mud-status=ok' || ok=1
	[ "$(it_fetches /it/$k.json)" = 1 ] || ok=1
	it_result "$k-mab: policy applied" $ok "$(code "$C/$k.out")"
done

# 7. MUD-URL set by policy (test hook: Connect-Info = "mud-url=...").
mab "$C/attr" 00:11:22:33:44:21 "Connect-Info = \"mud-url=$BASE/it/attr.json\""
it_send auth "$C/attr" > "$C/attr.out"
ok=0
has "$C/attr.out" "Received Access-Accept" || ok=1
has "$C/attr.out" 'mud-status=ok' || ok=1
[ "$(it_fetches /it/attr.json)" = 1 ] || ok=1
it_result "policy-attribute: MUD-URL applied" $ok "$(code "$C/attr.out")"

# 8. Signature by an untrusted signer -> quarantine VLAN 999 + quarantine dACL.
mab "$C/badsig" 00:11:22:33:44:31 "$(avpair lldp "$BASE/it/badsig.json")"
it_send auth "$C/badsig" > "$C/badsig.out"
ok=0
has "$C/badsig.out" "Received Access-Accept" || ok=1
has "$C/badsig.out" '"999"' || ok=1
has "$C/badsig.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-quarantine-1' || ok=1
has "$C/badsig.out" 'mud-status=signature-invalid' || ok=1
it_result "bad-signature: quarantine" $ok "$(code "$C/badsig.out")"

# 9. Unsigned file (require_signature = yes) -> quarantine.
mab "$C/unsigned" 00:11:22:33:44:32 "$(avpair lldp "$BASE/it/unsigned.json")"
it_send auth "$C/unsigned" > "$C/unsigned.out"
ok=0
has "$C/unsigned.out" '"999"' || ok=1
has "$C/unsigned.out" 'mud-status=signature-invalid' || ok=1
it_result "missing-signature: quarantine" $ok "$(code "$C/unsigned.out")"

# 10. Denied authority -> url-refused, never fetched.
mab "$C/deny" 00:11:22:33:44:41 "$(avpair lldp "https://denied.example/x.json")"
it_send auth "$C/deny" > "$C/deny.out"
ok=0
has "$C/deny.out" 'mud-status=url-refused' || ok=1
has "$C/deny.out" '"999"' || ok=1
it_result "url-deny: refused + quarantine" $ok "$(code "$C/deny.out")"

# 11. No MUD URL -> module noop, MAB not accepted by MUD (reject by default config).
mab "$C/nourl" 00:11:22:33:44:51
it_send auth "$C/nourl" > "$C/nourl.out"
ok=0
has "$C/nourl.out" "Received Access-Reject" || ok=1
has "$C/nourl.out" 'mud-status=no-url' || ok=1
it_result "no-url: noop (reject)" $ok "$(code "$C/nourl.out")"

# 12. LLDP and DHCP disagree -> DHCP wins, MUD-Status url-conflict.
mab "$C/conflict" 00:11:22:33:44:61 "$(avpair lldp "$BASE/it/conflict-lldp.json")" \
	"$(avpair dhcp4 "$BASE/it/conflict-dhcp.json")"
it_send auth "$C/conflict" > "$C/conflict.out"
ok=0
has "$C/conflict.out" "Received Access-Accept" || ok=1
has "$C/conflict.out" 'mud-status=url-conflict' || ok=1
[ "$(it_fetches /it/conflict-dhcp.json)" = 1 ] || ok=1
[ "$(it_fetches /it/conflict-lldp.json)" = 0 ] || ok=1
it_result "url-conflict: dhcp wins over lldp" $ok "$(code "$C/conflict.out")"

# 13. Accounting relays the URL; a later MAB without it finds it; Stop forgets it.
{
	echo 'Acct-Status-Type = Interim-Update'
	echo 'Acct-Session-Id = "it-1"'
	echo 'Calling-Station-Id = "00-11-22-33-44-71"'
	echo 'NAS-IP-Address = 127.0.0.1'
	avpair lldp "$BASE/it/acct.json"
} > "$C/acct"
it_send acct "$C/acct" > "$C/acct.out"
mab "$C/acct-mab" 00:11:22:33:44:71
it_send auth "$C/acct-mab" > "$C/acct-mab.out"
ok=0
has "$C/acct.out" "Received Accounting-Response" || ok=1
has "$C/acct-mab.out" "Received Access-Accept" || ok=1
has "$C/acct-mab.out" 'mud-status=ok' || ok=1
it_result "accounting: URL remembered per station" $ok "$(code "$C/acct-mab.out")"
sed 's/Interim-Update/Stop/' "$C/acct" | grep -v Cisco-AVPair > "$C/acct-stop"
it_send acct "$C/acct-stop" > "$C/acct-stop.out"
it_send auth "$C/acct-mab" > "$C/acct-mab2.out"
ok=0
has "$C/acct-mab2.out" 'mud-status=no-url' || ok=1
it_result "accounting: Stop forgets the URL" $ok "$(code "$C/acct-mab2.out")"

# 14. A large dACL is paged: Access-Challenge + State, then the rest.
mab "$C/big" 00:11:22:33:44:81 "$(avpair lldp "$BASE/it/big.json")"
it_send auth "$C/big" > "$C/big.out"
BIG_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/big.out")
# The State of the reply (radclient -x prints the request's attributes first).
reply_state() {
	sed -n '/^Received/,$ s/^[[:space:]]*State = \(0x[0-9a-fA-F]*\)$/\1/p' "$1" | head -n 1
}
dacl "$C/bigdl1" "$BIG_NAME"
it_send auth "$C/bigdl1" > "$C/bigdl1.out"
state=$(reply_state "$C/bigdl1.out")
n1=$(lines_of "$C/bigdl1.out" | grep -c .)
total=$n1
pages=1
while [ -n "$state" ] && [ "$pages" -lt 20 ]; do
	dacl "$C/bigdl$((pages + 1))" "$BIG_NAME" "$state"
	it_send auth "$C/bigdl$((pages + 1))" > "$C/bigdl$((pages + 1)).out"
	pages=$((pages + 1))
	total=$((total + $(lines_of "$C/bigdl$pages.out" | grep -c .)))
	if has "$C/bigdl$pages.out" "Received Access-Accept"; then break; fi
	state=$(reply_state "$C/bigdl$pages.out")
done
ok=0
[ -n "$BIG_NAME" ] || ok=1
has "$C/bigdl1.out" "Received Access-Challenge" || ok=1
[ "$pages" -ge 2 ] || ok=1
has "$C/bigdl$pages.out" "Received Access-Accept" || ok=1
[ "$total" -eq 153 ] || ok=1
last=$(lines_of "$C/bigdl$pages.out" | tail -n 1)
[ "$last" = "ip:inacl#153=deny ip any any" ] || ok=1
it_result "dacl-paging: Access-Challenge pages" $ok "pages=$pages lines=$total last=$last"

# 15. EAP-TLS with an IDevID carrying the MUD URL extension (post-auth path).
if command -v eapol_test >/dev/null 2>&1; then
	it_publish x509 signer
	P=$IT_WORK/pki
	printf '%s\n' "basicConstraints = CA:FALSE" "keyUsage = digitalSignature" \
		"extendedKeyUsage = clientAuth" \
		"1.3.6.1.5.5.7.1.25 = ASN1:IA5STRING:$BASE/it/x509.json" > "$P/dev.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=iot-device" \
		-keyout "$P/dev.key" -out "$P/dev.csr" 2>/dev/null &&
	openssl x509 -req -in "$P/dev.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
		-days 2 -extfile "$P/dev.ext" -out "$P/dev.pem" 2>/dev/null
	printf '%s\n' "network={" "	key_mgmt=WPA-EAP" "	eap=TLS" "	identity=\"iot-device\"" \
		"	ca_cert=\"$P/ca.pem\"" "	client_cert=\"$P/dev.pem\"" \
		"	private_key=\"$P/dev.key\"" "	eapol_flags=0" "}" > "$C/eap.conf"
	timeout 30 eapol_test -c "$C/eap.conf" -a 127.0.0.1 -p "$AUTH_PORT" -s "$SECRET" \
		> "$C/eap.out" 2>&1
	ok=0
	grep -q "^SUCCESS" "$C/eap.out" || ok=1
	[ "$(it_fetches /it/x509.json)" = 1 ] || ok=1
	grep -q 'MUD URL .*x509.json (from x509)' "$RAD_LOG" || ok=1
	it_result "eap-tls: MUD URL from the certificate" $ok "$(tail -n 1 "$C/eap.out")"
else
	echo "SKIP: eap-tls (no eapol_test)"
fi

echo "$IT_PASS passed, $IT_FAIL failed"
[ "$IT_FAIL" -eq 0 ]
