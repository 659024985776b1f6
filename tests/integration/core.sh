#!/bin/sh
#
# core.sh - rlm_mud against the real FreeRADIUS 3.2 server and a local HTTPS MUD
# server: URL sources, dACL download and paging, cache hit, signature failures,
# url_deny, conflicts, accounting memory, the %{mud:...} xlat. One PASS/FAIL
# line per case; exit status 1 if any case failed, 77 (skip) if FreeRADIUS or
# the built module is missing. Run by run.sh with the other suites.
#
#   IT_KEEP=1 tests/integration/core.sh    keep the work directory
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

C=$IT_WORK/cases

# The expected lines, exactly (context: service.example.com = 192.0.2.10 / 2001:db8::a).
V4_LINES='ip:inacl#1=permit tcp any host 192.0.2.10 eq 443
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=deny ip any any'
V6_LINES='ipv6:inacl#1=permit tcp any host 2001:db8::a eq 443
ipv6:inacl#2=deny ipv6 any any'

# 1. LLDP MAB -> VLAN + dACL names.
it_mab "$C/lldp" 00:11:22:33:44:01 "$(it_avpair lldp "$BASE/it/device.json")"
it_send auth "$C/lldp" > "$C/lldp.out"
ok=0
it_has "$C/lldp.out" "Received Access-Accept" || ok=1
it_has "$C/lldp.out" "Tunnel-Type:0 = VLAN" || it_has "$C/lldp.out" "Tunnel-Type = VLAN" || ok=1
it_has "$C/lldp.out" "IEEE-802" || ok=1
it_has "$C/lldp.out" 'Tunnel-Private-Group-Id:0 = "100"' || \
	it_has "$C/lldp.out" 'Tunnel-Private-Group-Id = "100"' || ok=1
it_has "$C/lldp.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-' || ok=1
it_has "$C/lldp.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IPV6-mud-' || ok=1
it_has "$C/lldp.out" 'mud-status=ok' || ok=1
it_result "lldp-mab: VLAN 100 + dACL names" $ok "$(it_code "$C/lldp.out")"

V4_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/lldp.out")
V6_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IPV6-[^"]*\)".*/\1/p' "$C/lldp.out")

# 2. dACL download of both names -> exactly the lines.
it_dacl "$C/dl4" "$V4_NAME"
it_send auth "$C/dl4" > "$C/dl4.out"
ok=0
it_has "$C/dl4.out" "Received Access-Accept" || ok=1
[ "$(it_lines "$C/dl4.out")" = "$V4_LINES" ] || ok=1
it_result "dacl-download-v4: exact lines" $ok "got: $(it_lines "$C/dl4.out" | tr '\n' '|')"
it_dacl "$C/dl6" "$V6_NAME"
it_send auth "$C/dl6" > "$C/dl6.out"
ok=0
it_has "$C/dl6.out" "Received Access-Accept" || ok=1
[ "$(it_lines "$C/dl6.out")" = "$V6_LINES" ] || ok=1
it_result "dacl-download-v6: exact lines" $ok "got: $(it_lines "$C/dl6.out" | tr '\n' '|')"

# 3. Unknown dACL name -> reject.
it_dacl "$C/dlx" "#ACSACL#-IP-mud-nosuch-00000000"
it_send auth "$C/dlx" > "$C/dlx.out"
ok=0
it_has "$C/dlx.out" "Received Access-Reject" || ok=1
it_result "dacl-download-unknown: reject" $ok "$(it_code "$C/dlx.out")"

# 4. Second request for the same URL: served from the cache, no new fetch.
before=$(it_fetches /it/device.json)
it_mab "$C/lldp2" 00:11:22:33:44:02 "$(it_avpair lldp "$BASE/it/device.json")"
it_send auth "$C/lldp2" > "$C/lldp2.out"
after=$(it_fetches /it/device.json)
ok=0
it_has "$C/lldp2.out" "Received Access-Accept" || ok=1
[ "$before" = 1 ] && [ "$after" = 1 ] || ok=1
it_result "cache: second request not fetched" $ok "fetches before=$before after=$after"

# 5/6. DHCPv4 option 161 and DHCPv6 option 112 AV-pairs.
for k in dhcp4 dhcp6; do
	it_mab "$C/$k" 00:11:22:33:44:1$(test $k = dhcp4 && echo 1 || echo 2) \
		"$(it_avpair $k "$BASE/it/$k.json")"
	it_send auth "$C/$k" > "$C/$k.out"
	ok=0
	it_has "$C/$k.out" "Received Access-Accept" || ok=1
	it_has "$C/$k.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-' || ok=1
	it_has "$C/$k.out" 'mud-status=ok' || ok=1
	[ "$(it_fetches /it/$k.json)" = 1 ] || ok=1
	it_result "$k-mab: policy applied" $ok "$(it_code "$C/$k.out")"
done

# 7. MUD-URL set by policy (test hook: Connect-Info = "mud-url=...").
it_mab "$C/attr" 00:11:22:33:44:21 "Connect-Info = \"mud-url=$BASE/it/attr.json\""
it_send auth "$C/attr" > "$C/attr.out"
ok=0
it_has "$C/attr.out" "Received Access-Accept" || ok=1
it_has "$C/attr.out" 'mud-status=ok' || ok=1
[ "$(it_fetches /it/attr.json)" = 1 ] || ok=1
it_result "policy-attribute: MUD-URL applied" $ok "$(it_code "$C/attr.out")"

# 8. Signature by an untrusted signer -> quarantine VLAN 999 + quarantine dACL.
it_mab "$C/badsig" 00:11:22:33:44:31 "$(it_avpair lldp "$BASE/it/badsig.json")"
it_send auth "$C/badsig" > "$C/badsig.out"
ok=0
it_has "$C/badsig.out" "Received Access-Accept" || ok=1
it_has "$C/badsig.out" '"999"' || ok=1
it_has "$C/badsig.out" 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-mud-quarantine-' || ok=1
it_has "$C/badsig.out" 'mud-status=signature-invalid' || ok=1
it_result "bad-signature: quarantine" $ok "$(it_code "$C/badsig.out")"

# 9. Unsigned file (require_signature = yes) -> quarantine.
it_mab "$C/unsigned" 00:11:22:33:44:32 "$(it_avpair lldp "$BASE/it/unsigned.json")"
it_send auth "$C/unsigned" > "$C/unsigned.out"
ok=0
it_has "$C/unsigned.out" '"999"' || ok=1
it_has "$C/unsigned.out" 'mud-status=signature-invalid' || ok=1
it_result "missing-signature: quarantine" $ok "$(it_code "$C/unsigned.out")"

# 10. Denied authority -> url-refused, never fetched.
it_mab "$C/deny" 00:11:22:33:44:41 "$(it_avpair lldp "https://denied.example/x.json")"
it_send auth "$C/deny" > "$C/deny.out"
ok=0
it_has "$C/deny.out" 'mud-status=url-refused' || ok=1
it_has "$C/deny.out" '"999"' || ok=1
it_result "url-deny: refused + quarantine" $ok "$(it_code "$C/deny.out")"

# 11. No MUD URL -> module noop, MAB not accepted by MUD (reject by default config).
it_mab "$C/nourl" 00:11:22:33:44:51
it_send auth "$C/nourl" > "$C/nourl.out"
ok=0
it_has "$C/nourl.out" "Received Access-Reject" || ok=1
it_has "$C/nourl.out" 'mud-status=no-url' || ok=1
it_result "no-url: noop (reject)" $ok "$(it_code "$C/nourl.out")"

# 12. LLDP and DHCP disagree -> DHCP wins, MUD-Status url-conflict.
it_mab "$C/conflict" 00:11:22:33:44:61 "$(it_avpair lldp "$BASE/it/conflict-lldp.json")" \
	"$(it_avpair dhcp4 "$BASE/it/conflict-dhcp.json")"
it_send auth "$C/conflict" > "$C/conflict.out"
ok=0
it_has "$C/conflict.out" "Received Access-Accept" || ok=1
it_has "$C/conflict.out" 'mud-status=url-conflict' || ok=1
[ "$(it_fetches /it/conflict-dhcp.json)" = 1 ] || ok=1
[ "$(it_fetches /it/conflict-lldp.json)" = 0 ] || ok=1
it_result "url-conflict: dhcp wins over lldp" $ok "$(it_code "$C/conflict.out")"

# 13. Accounting relays the URL; a later MAB without it finds it; Stop forgets it.
{
	echo 'Acct-Status-Type = Interim-Update'
	echo 'Acct-Session-Id = "it-1"'
	echo 'Calling-Station-Id = "00-11-22-33-44-71"'
	echo 'NAS-IP-Address = 127.0.0.1'
	it_avpair lldp "$BASE/it/acct.json"
} > "$C/acct"
it_send acct "$C/acct" > "$C/acct.out"
it_mab "$C/acct-mab" 00:11:22:33:44:71
it_send auth "$C/acct-mab" > "$C/acct-mab.out"
ok=0
it_has "$C/acct.out" "Received Accounting-Response" || ok=1
it_has "$C/acct-mab.out" "Received Access-Accept" || ok=1
it_has "$C/acct-mab.out" 'mud-status=ok' || ok=1
it_result "accounting: URL remembered per station" $ok "$(it_code "$C/acct-mab.out")"
sed 's/Interim-Update/Stop/' "$C/acct" | grep -v Cisco-AVPair > "$C/acct-stop"
it_send acct "$C/acct-stop" > "$C/acct-stop.out"
it_send auth "$C/acct-mab" > "$C/acct-mab2.out"
ok=0
it_has "$C/acct-mab2.out" 'mud-status=no-url' || ok=1
it_result "accounting: Stop forgets the URL" $ok "$(it_code "$C/acct-mab2.out")"

# 14. A large dACL is paged: Access-Challenge + State, then the rest.
it_mab "$C/big" 00:11:22:33:44:81 "$(it_avpair lldp "$BASE/it/big.json")"
it_send auth "$C/big" > "$C/big.out"
BIG_NAME=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-IP-[^"]*\)".*/\1/p' "$C/big.out")
it_dacl "$C/bigdl1" "$BIG_NAME"
it_send auth "$C/bigdl1" > "$C/bigdl1.out"
state=$(it_state "$C/bigdl1.out")
n1=$(it_lines "$C/bigdl1.out" | grep -c .)
total=$n1
pages=1
while [ -n "$state" ] && [ "$pages" -lt 20 ]; do
	it_dacl "$C/bigdl$((pages + 1))" "$BIG_NAME" "$state"
	it_send auth "$C/bigdl$((pages + 1))" > "$C/bigdl$((pages + 1)).out"
	pages=$((pages + 1))
	total=$((total + $(it_lines "$C/bigdl$pages.out" | grep -c .)))
	if it_has "$C/bigdl$pages.out" "Received Access-Accept"; then break; fi
	state=$(it_state "$C/bigdl$pages.out")
done
ok=0
[ -n "$BIG_NAME" ] || ok=1
it_has "$C/bigdl1.out" "Received Access-Challenge" || ok=1
[ "$pages" -ge 2 ] || ok=1
it_has "$C/bigdl$pages.out" "Received Access-Accept" || ok=1
[ "$total" -eq 153 ] || ok=1
last=$(it_lines "$C/bigdl$pages.out" | tail -n 1)
[ "$last" = "ip:inacl#153=deny ip any any" ] || ok=1
it_result "dacl-paging: Access-Challenge pages" $ok "pages=$pages lines=$total last=$last"

# 15. %{mud:stats} and %{mud:status <url>} (test hook: Connect-Info = "mud-xlat=...").
it_mab "$C/xs" 00:11:22:33:44:91 'Connect-Info = "mud-xlat=stats"'
it_send auth "$C/xs" > "$C/xs.out"
it_mab "$C/xh" 00:11:22:33:44:92 "Connect-Info = \"mud-xlat=status $BASE/it/device.json\""
it_send auth "$C/xh" > "$C/xh.out"
it_mab "$C/xn" 00:11:22:33:44:93 "Connect-Info = \"mud-xlat=status $BASE/it/badsig.json\""
it_send auth "$C/xn" > "$C/xn.out"
it_mab "$C/xm" 00:11:22:33:44:94 "Connect-Info = \"mud-xlat=status $BASE/it/never.json\""
it_send auth "$C/xm" > "$C/xm.out"
ok=0
# (hits, negative hits and misses count lookups: a request re-sent while its fetch was
# pending is one more miss, and one more hit or negative hit once it settled; so at least the
# 9 first lookups, and the one hit of case 3's warm MAB); then the metrics counters
stats=$(it_reply_values "$C/xs.out" Reply-Message | sed -n 's/^xlat=//p')
echo "$stats" | grep -q '^entries=9 hits=[1-9][0-9]* stale=0 negative=[0-9]* misses=[0-9]* stores=7 failures=2 evictions=0 requests_total=[0-9]' || ok=1
misses=$(echo "$stats" | sed -n 's/.* misses=\([0-9]*\) .*/\1/p')
[ "${misses:-0}" -ge 9 ] || ok=1
it_reply_values "$C/xh.out" Reply-Message | grep -q '^xlat=hit 17[0-9]*$' || ok=1
it_has "$C/xn.out" '"xlat=negative signature-invalid"' || ok=1
it_has "$C/xm.out" '"xlat=miss"' || ok=1
[ "$(it_fetches /it/never.json)" = 0 ] || ok=1
it_result "xlat: %{mud:stats} and %{mud:status <url>}" $ok \
	"$(it_reply_values "$C/xs.out" Reply-Message | head -n 1) / $(it_reply_values "$C/xh.out" Reply-Message | head -n 1)"

it_finish
