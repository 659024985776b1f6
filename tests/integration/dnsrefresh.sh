#!/bin/sh
#
# dnsrefresh.sh - DNS answers age, policies follow (background mode with CoA). The MUD file
# names service.example.com; a real DNS server the test runs (tests/tools/dns_server.py)
# answers it with a 2-second TTL, first 192.0.2.10 and then 192.0.2.20. The policy lives
# only as long as the answer (dns_refresh_min = 1): the next request after the TTL is served
# the stale policy and triggers a background refresh (re-resolve, recompile), whose new dACL
# names reach the switch through a CoA; the re-authentication gets the new addresses.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup

# The DNS server: service.example.com, TTL 2, moves from 192.0.2.10 to 192.0.2.20.
cat > "$IT_WORK/zone.json" <<'EOF'
{ "service.example.com": { "A": ["192.0.2.10"], "AAAA": ["2001:db8::a"], "ttl": 2,
                           "rebind": ["192.0.2.20"] } }
EOF
python3 "$top_srcdir/tests/tools/dns_server.py" --zone "$IT_WORK/zone.json" \
	--port-file "$IT_WORK/dns.port" > "$IT_WORK/dns.log" 2>&1 &
IT_PIDS="$IT_PIDS $!"
i=0
while [ ! -s "$IT_WORK/dns.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
DNS_PORT=$(cat "$IT_WORK/dns.port")
cat > "$IT_WORK/context.json" <<EOF
{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": true, "servers": ["127.0.0.1:$DNS_PORT"], "timeout": 5 },
  "acl-prefix": "mud" }
EOF

it_start_web
it_publish dns signer
it_start_switch
MUD_OPTS="	fetch_mode = background
	coa = yes
	coa_port = $SWITCH_PORT
	dns_refresh_min = 1
	dns_refresh_max = 3600"
it_make_raddb raddb-dns
it_start_radiusd
C=$IT_WORK/cases
AUDIT=0A0000010000DD5500000001
it_mab "$C/mab" 00:11:22:33:55:01 "$(it_avpair lldp "$BASE/it/dns.json")" \
	"Cisco-AVPair = \"audit-session-id=$AUDIT\""

wait_coa() {
	_w=0
	while [ $_w -lt 100 ]; do
		[ "$(it_switch_recv "$AUDIT")" -ge "$1" ] && return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}
dacl_lines() {
	it_dacl "$C/dl" "$(it_acl_name "$1" IP)"
	it_send auth "$C/dl" > "$C/dl.out"
	it_lines "$C/dl.out"
}

# First policy: pending, CoA, then the policy with 192.0.2.10.
it_send auth "$C/mab" > "$C/first.out"
ok=0
it_has "$C/first.out" '"mud-status=pending"' || ok=1
wait_coa 1 || ok=1
it_send auth "$C/mab" > "$C/policy1.out"
it_has "$C/policy1.out" '"mud-status=ok"' || ok=1
N1=$(it_acl_name "$C/policy1.out" IP)
L1=$(dacl_lines "$C/policy1.out")
case "$L1" in *"host 192.0.2.10 "*) ;; *) ok=1 ;; esac
it_result "first policy: pending, CoA, then the resolved address 192.0.2.10" $ok \
	"$N1 $(echo "$L1" | tr '\n' '|')"

# After the TTL: stale served, refreshed in the background, CoA with the new policy.
sleep 3
it_send auth "$C/mab" > "$C/stale.out"
ok=0
it_has "$C/stale.out" '"mud-cache=stale"' || ok=1
wait_coa 2 || ok=1
it_send auth "$C/mab" > "$C/policy2.out"
N2=$(it_acl_name "$C/policy2.out" IP)
L2=$(dacl_lines "$C/policy2.out")
[ -n "$N2" ] && [ "$N2" != "$N1" ] || ok=1
case "$L2" in *"host 192.0.2.20 "*) ;; *) ok=1 ;; esac
[ "$(it_fetches /it/dns.json)" = 2 ] || ok=1
it_result "after the DNS TTL: refreshed, new dACL names, CoA, new address 192.0.2.20" $ok \
	"$N1 -> $N2 $(echo "$L2" | tr '\n' '|') fetches=$(it_fetches /it/dns.json) coa=$(it_switch_recv "$AUDIT")"

it_stop_radiusd
it_stop_switch
it_finish
