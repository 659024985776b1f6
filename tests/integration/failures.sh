#!/bin/sh
#
# failures.sh - every way a MUD file can be unobtainable or unusable, against the
# real server: MUD server down (connection refused), HTTP 404, TLS certificate
# expired / for another host / from an untrusted CA (separate HTTPS servers with
# tests/tools/mkcerts.sh's certificates), not JSON, schema violation, mud-url of
# the file differs from the URL. Each must give the quarantine (VLAN 999 + the
# quarantine dACL) and the exact MUD-Status, and the server must then still
# serve a good device correctly.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web
it_start_https EXPIRED expired
it_start_https WRONGHOST wronghost
it_start_https UNTRUSTED untrusted
DOWN_PORT=$(it_free_port)	# nothing listens there: connection refused

for i in 1 2 3 4 5 6 7 8; do
	it_publish "good$i" signer
done
# Not JSON at all (signed, so only the parser can object).
printf '{"ietf-mud:mud": {"mud-version": 1, "mud-url": ' > "$IT_WORK/www/it/notjson.json"
"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" signer "$IT_WORK/www/it/notjson.json" \
	>/dev/null || exit 1
# Well-formed JSON that violates the YANG model (is-supported is a boolean).
sed 's/"is-supported": true/"is-supported": "yes"/' "$here/mud/device.json.in" > "$IT_WORK/schema.in"
it_publish schema signer "$IT_WORK/schema.in"
# A valid, signed file published under another URL than its mud-url.
it_publish elsewhere signer
cp "$IT_WORK/www/it/elsewhere.json" "$IT_WORK/www/it/mismatch.json"
cp "$IT_WORK/www/it/elsewhere.p7s" "$IT_WORK/www/it/mismatch.p7s"

it_make_raddb
it_start_radiusd

C=$IT_WORK/cases
n=0
QNAME4=
QNAME6=

# qnames FILE: the reply carries exactly the two quarantine dACL names (content-addressed:
# "#ACSACL#-IP-mud-quarantine-<26 base32>", "#ACSACL#-IPV6-..."), the same for every failure.
qnames() {
	q4=$(it_acl_name "$1" IP)
	q6=$(it_acl_name "$1" IPV6)
	case "$q4" in '#ACSACL#-IP-mud-quarantine-'??????????????????????????) ;; *) return 1 ;; esac
	case "$q6" in '#ACSACL#-IPV6-mud-quarantine-'??????????????????????????) ;; *) return 1 ;; esac
	[ "$(it_reply_values "$1" Cisco-AVPair)" = "ACS:CiscoSecure-Defined-ACL=$q4
ACS:CiscoSecure-Defined-ACL=$q6" ] || return 1
	[ -n "$QNAME4" ] || QNAME4=$q4
	[ -n "$QNAME6" ] || QNAME6=$q6
	[ "$q4" = "$QNAME4" ] && [ "$q6" = "$QNAME6" ]
}

# fails NAME URL STATUS: quarantine with exactly STATUS, then a good device is served.
fails() {
	name=$1
	url=$2
	want=$3
	n=$((n + 1))
	it_lldp_mab "$C/$name" "00:11:22:33:55:$(printf %02d $n)" "$url"
	it_send auth "$C/$name" > "$C/$name.out"
	ok=0
	it_has "$C/$name.out" "Received Access-Accept" || ok=1
	[ "$(it_vlan "$C/$name.out")" = 999 ] || ok=1
	qnames "$C/$name.out" || ok=1
	it_has "$C/$name.out" "\"mud-status=$want\"" || ok=1
	it_has "$C/$name.out" '"MUD policy unavailable: quarantined"' || ok=1
	it_result "$name: quarantine, MUD-Status $want" $ok \
		"$(it_code "$C/$name.out") vlan=$(it_vlan "$C/$name.out") $(it_reply_values "$C/$name.out" Reply-Message | tr '\n' ' ')"

	it_lldp_mab "$C/$name-after" "00:11:22:33:66:$(printf %02d $n)" "$BASE/it/good$n.json"
	it_send auth "$C/$name-after" > "$C/$name-after.out"
	ok=0
	it_has "$C/$name-after.out" "Received Access-Accept" || ok=1
	[ "$(it_vlan "$C/$name-after.out")" = 100 ] || ok=1
	it_has "$C/$name-after.out" '"mud-status=ok"' || ok=1
	grep -q '"mud-cache=\(fetched\|hit\)"' "$C/$name-after.out" || ok=1
	[ "$(it_acl_name "$C/$name-after.out" IP | grep -c .)" = 1 ] || ok=1
	[ "$(it_fetches "/it/good$n.json")" = 1 ] || ok=1
	it_result "$name: next device still served" $ok "$(it_code "$C/$name-after.out")"
}

fails server-down "https://localhost:$DOWN_PORT/it/down.json" fetch-failed
fails http-404 "$BASE/it/nosuchfile.json" fetch-failed
fails tls-expired "https://localhost:$EXPIRED_PORT/it/good1.json" tls-failed
fails tls-wrong-host "https://localhost:$WRONGHOST_PORT/it/good1.json" tls-failed
fails tls-untrusted-ca "https://localhost:$UNTRUSTED_PORT/it/good1.json" tls-failed
fails not-json "$BASE/it/notjson.json" invalid-file
fails schema-error "$BASE/it/schema.json" invalid-file
fails url-mismatch "$BASE/it/mismatch.json" url-mismatch

# The TLS failures happened in the handshake: no request reached those servers.
ok=0
for s in EXPIRED WRONGHOST UNTRUSTED; do
	eval "l=\$${s}_LOG"
	[ "$(grep -c . "$l")" = 0 ] || ok=1
done
it_result "tls failures: nothing was requested over a bad TLS session" $ok

# The reason is in MUD-Error (logged by the module): a few spot checks.
ok=0
grep -q "MUD https://localhost:$DOWN_PORT/it/down.json: .*onnect" "$RAD_LOG" || ok=1
grep -q "MUD $BASE/it/mismatch.json: .*elsewhere.json" "$RAD_LOG" || ok=1
grep -q "MUD https://localhost:$EXPIRED_PORT/.*certificate has expired" "$RAD_LOG" || ok=1
grep -q "MUD https://localhost:$WRONGHOST_PORT/.*no alternative certificate subject name" "$RAD_LOG" || ok=1
grep -q "MUD https://localhost:$UNTRUSTED_PORT/.*unable to get local issuer" "$RAD_LOG" || ok=1
grep -q "MUD $BASE/it/schema.json: expected boolean, got string \"yes\" (at /ietf-mud:mud/is-supported)" \
	"$RAD_LOG" || ok=1
it_result "failure reasons logged with the URL" $ok

# The quarantine dACLs (names from the replies above) are downloadable like any other.
# The context has no services.dns: DNS to any address (the documented fallback).
Q4_LINES='ip:inacl#1=permit udp any eq 68 any eq 67
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=permit tcp any any eq 53
ip:inacl#4=deny ip any any'
Q6_LINES='ipv6:inacl#1=permit udp any eq 546 any eq 547
ipv6:inacl#2=permit icmp any any 133
ipv6:inacl#3=permit icmp any any 134
ipv6:inacl#4=permit icmp any any 135
ipv6:inacl#5=permit icmp any any 136
ipv6:inacl#6=permit udp any any eq 53
ipv6:inacl#7=permit tcp any any eq 53
ipv6:inacl#8=deny ipv6 any any'
it_dacl "$C/q4" "$QNAME4"
it_send auth "$C/q4" > "$C/q4.out"
it_dacl "$C/q6" "$QNAME6"
it_send auth "$C/q6" > "$C/q6.out"
ok=0
[ -n "$QNAME4" ] && [ -n "$QNAME6" ] || ok=1
[ "$(it_lines "$C/q4.out")" = "$Q4_LINES" ] || ok=1
[ "$(it_lines "$C/q6.out")" = "$Q6_LINES" ] || ok=1
it_result "quarantine dACLs (IPv4, IPv6) downloadable" $ok "$QNAME4 $QNAME6"

# A failure is remembered (cache_fail_ttl): the same URL again is not re-fetched.
before=$(it_fetches /it/schema.json)
it_lldp_mab "$C/schema-again" 00:11:22:33:77:01 "$BASE/it/schema.json"
it_send auth "$C/schema-again" > "$C/schema-again.out"
ok=0
it_has "$C/schema-again.out" '"mud-status=invalid-file"' || ok=1
it_has "$C/schema-again.out" '"mud-cache=negative"' || ok=1
[ "$(it_fetches /it/schema.json)" = "$before" ] || ok=1
it_result "negative cache: failure not re-fetched within cache_fail_ttl" $ok
it_stop_radiusd

# With the site's resolvers in the context (services.dns), the quarantine ACL permits DNS to
# them only: no DNS tunnel to an arbitrary resolver.
python3 - "$top_srcdir/tests/integration/mud/context.json" "$IT_WORK/context.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["services"] = {"dns": ["192.0.2.53"]}
open(sys.argv[2], "w").write(json.dumps(d, indent=1))
EOF
it_make_raddb raddb-dns
rm -f "$IT_WORK/context.json"
it_start_radiusd
it_lldp_mab "$C/qdns" 00:11:22:33:77:02 "https://localhost:$DOWN_PORT/it/down-dns.json"
it_send auth "$C/qdns" > "$C/qdns.out"
QD4=$(it_acl_name "$C/qdns.out" IP)
QD6=$(it_acl_name "$C/qdns.out" IPV6)
it_dacl "$C/qd4" "$QD4"
it_send auth "$C/qd4" > "$C/qd4.out"
it_dacl "$C/qd6" "$QD6"
it_send auth "$C/qd6" > "$C/qd6.out"
ok=0
it_has "$C/qdns.out" '"mud-status=fetch-failed"' || ok=1
[ "$(it_vlan "$C/qdns.out")" = 999 ] || ok=1
case "$QD4" in '#ACSACL#-IP-mud-quarantine-'??????????????????????????) ;; *) ok=1 ;; esac
case "$QD6" in '#ACSACL#-IPV6-mud-quarantine-'??????????????????????????) ;; *) ok=1 ;; esac
# Other lines, so other content-addressed names.
[ "$QD4" != "$QNAME4" ] && [ "$QD6" != "$QNAME6" ] || ok=1
[ "$(it_lines "$C/qd4.out")" = 'ip:inacl#1=permit udp any eq 68 any eq 67
ip:inacl#2=permit udp any host 192.0.2.53 eq 53
ip:inacl#3=permit tcp any host 192.0.2.53 eq 53
ip:inacl#4=deny ip any any' ] || ok=1
[ "$(it_lines "$C/qd6.out")" = 'ipv6:inacl#1=permit udp any eq 546 any eq 547
ipv6:inacl#2=permit icmp any any 133
ipv6:inacl#3=permit icmp any any 134
ipv6:inacl#4=permit icmp any any 135
ipv6:inacl#5=permit icmp any any 136
ipv6:inacl#6=deny ipv6 any any' ] || ok=1
# The fallback quarantine dACL (DNS to any) is not served by this instance.
it_dacl "$C/qold" "$QNAME4"
it_send auth "$C/qold" > "$C/qold.out"
[ -z "$(it_lines "$C/qold.out")" ] || ok=1
it_result "services.dns: quarantine permits DNS only to the site resolver 192.0.2.53" $ok \
	"$QD4 $QD6 $(it_lines "$C/qd4.out" | tr '\n' '|')"

it_finish
