#!/bin/sh
#
# policy.sh - operator options, each with its own radiusd instance:
#   allow_private_urls = no: MUD URLs on localhost / 127.0.0.1 / [::1] are
#   refused (url-refused) and never fetched;
#   url_allow: only the listed authority is fetched;
#   output_format = cisco-inline: the ip:inacl#N / ipv6:inacl#N lines in the
#   Access-Accept, line by line (and the quarantine lines on failure);
#   output_format = nas-filter-rule: NAS-Filter-Rule attributes, line by line;
#   session_timeout = yes: Session-Timeout = seconds until the policy expires
#   (the file's cache-validity, 48 h, or the cache_max_validity ceiling).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web
for n in priv-localhost priv-v4 priv-v6 allowed inline nfr; do
	it_publish "$n" signer
done
it_publish nfr-badsig rogue-signer
C=$IT_WORK/cases
OTHER_PORT=$(it_free_port)

refused() {
	it_has "$C/$1.out" "Received Access-Accept" &&
	it_has "$C/$1.out" '"mud-status=url-refused"' &&
	[ "$(it_vlan "$C/$1.out")" = 999 ]
}

# 1. allow_private_urls = no.
MUD_PRIVATE=no
it_make_raddb raddb-private
it_start_radiusd
it_lldp_mab "$C/p-localhost" 00:11:22:33:bb:01 "$BASE/it/priv-localhost.json"
it_lldp_mab "$C/p-v4" 00:11:22:33:bb:02 "https://127.0.0.1:$WEB_PORT/it/priv-v4.json"
it_lldp_mab "$C/p-v6" 00:11:22:33:bb:03 "https://[::1]:$WEB_PORT/it/priv-v6.json"
for c in p-localhost p-v4 p-v6; do
	it_send auth "$C/$c" > "$C/$c.out"
	ok=0
	refused "$c" || ok=1
	it_result "allow_private_urls = no: $c refused" $ok \
		"$(it_reply_values "$C/$c.out" Reply-Message | tr '\n' ' ')"
done
ok=0
[ "$(grep -c "^GET /it/priv-" "$WEB_LOG")" = 0 ] || ok=1
# a name: refused where the connection is made (the address it resolved to); literals: from
# the URL (docs/urlpolicy.md)
grep -q "MUD $BASE/it/priv-localhost.json: host resolves to \(127\.0\.0\.1, in 127\.0\.0\.0/8\|::1, in ::1/128\) loopback" "$RAD_LOG" || ok=1
grep -q "MUD https://127.0.0.1:$WEB_PORT/it/priv-v4.json: host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)" "$RAD_LOG" || ok=1
grep -q "MUD https://\[::1\]:$WEB_PORT/it/priv-v6.json: host is an IP address literal in ::1/128 loopback (RFC 4291)" "$RAD_LOG" || ok=1
it_result "allow_private_urls = no: nothing fetched, reasons logged" $ok
it_stop_radiusd
unset MUD_PRIVATE

# 2. url_allow + cisco-inline + session_timeout.
V4_LINES='ip:inacl#1=permit tcp any host 192.0.2.10 eq 443
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=deny ip any any'
V6_LINES='ipv6:inacl#1=permit tcp any host 2001:db8::a eq 443
ipv6:inacl#2=deny ipv6 any any'
# Quarantine: the context has no services.dns, so DNS goes to any address (fallback).
Q_LINES='ip:inacl#1=permit udp any eq 68 any eq 67
ip:inacl#2=permit udp any any eq 53
ip:inacl#3=permit tcp any any eq 53
ip:inacl#4=deny ip any any
ipv6:inacl#1=permit udp any eq 546 any eq 547
ipv6:inacl#2=permit icmp any any 133
ipv6:inacl#3=permit icmp any any 134
ipv6:inacl#4=permit icmp any any 135
ipv6:inacl#5=permit icmp any any 136
ipv6:inacl#6=permit udp any any eq 53
ipv6:inacl#7=permit tcp any any eq 53
ipv6:inacl#8=deny ipv6 any any'
MUD_FORMAT=cisco-inline
MUD_OPTS="	url_allow = \"localhost:$WEB_PORT\"
	session_timeout = yes"
it_make_raddb raddb-inline
it_start_radiusd
it_lldp_mab "$C/inline" 00:11:22:33:bb:11 "$BASE/it/inline.json"
it_send auth "$C/inline" > "$C/inline.out"
ok=0
it_has "$C/inline.out" "Received Access-Accept" || ok=1
it_has "$C/inline.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/inline.out")" = 100 ] || ok=1
[ "$(it_reply_values "$C/inline.out" Cisco-AVPair)" = "$V4_LINES
$V6_LINES" ] || ok=1
# 48 h from the fetch, which ended a moment before this answer (background fetch)
st=$(it_reply_values "$C/inline.out" Session-Timeout)
[ "${st:-0}" -ge 172790 ] && [ "${st:-0}" -le 172800 ] || ok=1
it_result "cisco-inline: exact ACL lines in the Access-Accept; Session-Timeout = 48 h" $ok \
	"$(it_reply_values "$C/inline.out" Cisco-AVPair | tr '\n' '|') st=$(it_reply_values "$C/inline.out" Session-Timeout)"

it_lldp_mab "$C/notallowed" 00:11:22:33:bb:12 "https://127.0.0.1:$WEB_PORT/it/allowed.json"
it_send auth "$C/notallowed" > "$C/notallowed.out"
it_lldp_mab "$C/otherport" 00:11:22:33:bb:13 "https://localhost:$OTHER_PORT/it/allowed.json"
it_send auth "$C/otherport" > "$C/otherport.out"
ok=0
refused notallowed || ok=1
refused otherport || ok=1
[ "$(it_reply_values "$C/notallowed.out" Cisco-AVPair)" = "$Q_LINES" ] || ok=1
[ "$(it_reply_values "$C/notallowed.out" Session-Timeout)" = "" ] || ok=1
[ "$(it_fetches /it/allowed.json)" = 0 ] || ok=1
grep -q "authority 127.0.0.1:$WEB_PORT is not in url_allow" "$RAD_LOG" || ok=1
grep -q "authority localhost:$OTHER_PORT is not in url_allow" "$RAD_LOG" || ok=1
it_result "url_allow: other authorities refused, quarantine lines inline" $ok \
	"$(it_reply_values "$C/notallowed.out" Cisco-AVPair | tr '\n' '|')"
it_stop_radiusd

# 3. nas-filter-rule, session_timeout bounded by cache_max_validity.
MUD_FORMAT=nas-filter-rule
MUD_OPTS="	session_timeout = yes
	cache_max_validity = 600"
it_make_raddb raddb-nfr
it_start_radiusd
it_lldp_mab "$C/nfr" 00:11:22:33:bb:21 "$BASE/it/nfr.json"
it_send auth "$C/nfr" > "$C/nfr.out"
# RFC 4849 rules: "in" = from the device, "assigned" = its address.
NFR_LINES='permit in 6 from assigned to 192.0.2.10 443
permit in 17 from assigned to 0.0.0.0/0 53
permit in 6 from assigned to 2001:db8::a 443
permit out 6 from 192.0.2.10 443 to assigned
deny in ip from any to any
deny out ip from any to any'
ok=0
it_has "$C/nfr.out" "Received Access-Accept" || ok=1
it_has "$C/nfr.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/nfr.out")" = 100 ] || ok=1
[ "$(it_reply_values "$C/nfr.out" NAS-Filter-Rule)" = "$NFR_LINES" ] || ok=1
[ "$(it_reply_values "$C/nfr.out" Cisco-AVPair)" = "" ] || ok=1
st=$(it_reply_values "$C/nfr.out" Session-Timeout)	# from the end of the background fetch
[ "${st:-0}" -ge 590 ] && [ "${st:-0}" -le 600 ] || ok=1
it_result "nas-filter-rule: exact rules; Session-Timeout = cache_max_validity" $ok \
	"$(it_reply_values "$C/nfr.out" NAS-Filter-Rule | tr '\n' '|') st=$(it_reply_values "$C/nfr.out" Session-Timeout)"

it_lldp_mab "$C/nfrq" 00:11:22:33:bb:22 "$BASE/it/nfr-badsig.json"
it_send auth "$C/nfrq" > "$C/nfrq.out"
NFR_Q='permit in 17 from assigned 68 to 0.0.0.0/0 67
permit out 17 from 0.0.0.0/0 67 to assigned 68
permit in 17 from assigned 546 to ::/0 547
permit out 17 from ::/0 547 to assigned 546
permit in 58 from assigned to ::/0 icmptypes 133
permit out 58 from ::/0 to assigned icmptypes 133
permit in 58 from assigned to ::/0 icmptypes 134
permit out 58 from ::/0 to assigned icmptypes 134
permit in 58 from assigned to ::/0 icmptypes 135
permit out 58 from ::/0 to assigned icmptypes 135
permit in 58 from assigned to ::/0 icmptypes 136
permit out 58 from ::/0 to assigned icmptypes 136
permit in 17 from assigned to 0.0.0.0/0 53
permit in 6 from assigned to 0.0.0.0/0 53
permit out 17 from 0.0.0.0/0 53 to assigned
permit out 6 from 0.0.0.0/0 53 to assigned established
permit in 17 from assigned to ::/0 53
permit in 6 from assigned to ::/0 53
permit out 17 from ::/0 53 to assigned
permit out 6 from ::/0 53 to assigned established
deny in ip from any to any
deny out ip from any to any'
ok=0
it_has "$C/nfrq.out" '"mud-status=signature-invalid"' || ok=1
[ "$(it_vlan "$C/nfrq.out")" = 999 ] || ok=1
[ "$(it_reply_values "$C/nfrq.out" NAS-Filter-Rule)" = "$NFR_Q" ] || ok=1
[ "$(it_reply_values "$C/nfrq.out" Session-Timeout)" = "" ] || ok=1
it_result "nas-filter-rule: quarantine rules on failure" $ok \
	"$(it_reply_values "$C/nfrq.out" NAS-Filter-Rule | tr '\n' '|')"

it_finish
