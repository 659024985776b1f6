#!/bin/sh
#
# dnsrefresh.sh - DNS answers age, policies follow (background mode with CoA). The MUD file
# names service.example.com; a real DNS server the test runs (tests/tools/dns_server.py)
# answers it with a 2-second TTL, first 192.0.2.10 and then 192.0.2.20. The policy lives
# only as long as the answer (dns_refresh_min = 1): past the TTL the module's ticker
# (refresh_interval = 1) refreshes it in the background without waiting for a request
# (re-fetch, re-resolve, recompile), and the new dACL names reach the switch through a CoA;
# the re-authentication gets the new addresses. Then the resolver's zone changes (SIGHUP:
# 192.0.2.30): the same again, no request needed.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
IT_SETTLE=0	# this suite checks the pending answers itself
it_setup

# The DNS server: service.example.com, TTL 2, moves from 192.0.2.10 to 192.0.2.20.
cat > "$IT_WORK/zone.json" <<'EOF'
{ "service.example.com": { "A": ["192.0.2.10"], "AAAA": ["2001:db8::a"], "ttl": 2,
                           "rebind": ["192.0.2.20"] } }
EOF
python3 "$top_srcdir/tests/tools/dns_server.py" --zone "$IT_WORK/zone.json" \
	--port-file "$IT_WORK/dns.port" > "$IT_WORK/dns.log" 2>&1 &
DNS_PID=$!
IT_PIDS="$IT_PIDS $DNS_PID"
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
MUD_REFRESH_INTERVAL=1 it_make_raddb raddb-dns
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

# After the TTL (2 s) the policy is refreshed in the background without waiting for a request
# (the ticker, refresh_interval = 1): the new answer gives new dACL names and a CoA.
ok=0
wait_coa 2 || ok=1
it_send auth "$C/mab" > "$C/policy2.out"
N2=$(it_acl_name "$C/policy2.out" IP)
L2=$(dacl_lines "$C/policy2.out")
[ -n "$N2" ] && [ "$N2" != "$N1" ] || ok=1
case "$L2" in *"host 192.0.2.20 "*) ;; *) ok=1 ;; esac
[ "$(it_fetches /it/dns.json)" = 2 ] || ok=1
it_result "after the DNS TTL: refreshed without a request, new dACL names, CoA, 192.0.2.20" $ok \
	"$N1 -> $N2 $(echo "$L2" | tr '\n' '|') fetches=$(it_fetches /it/dns.json) coa=$(it_switch_recv "$AUDIT")"

# The DNS answer changes again (the test's resolver reloads its zone): past the TTL the ticker
# refreshes the policy the station uses, compiles new dACL names, and the CoA
# re-authenticates the station, which then gets 192.0.2.30.
sed 's/"rebind": \["192.0.2.20"\]/"rebind": ["192.0.2.30"]/' "$IT_WORK/zone.json" > "$IT_WORK/zone.new"
mv "$IT_WORK/zone.new" "$IT_WORK/zone.json"
kill -HUP "$DNS_PID"
ok=0
wait_coa 3 || { sleep 3; wait_coa 3; } || ok=1
it_send auth "$C/mab" > "$C/policy3.out"
N3=$(it_acl_name "$C/policy3.out" IP)
L3=$(dacl_lines "$C/policy3.out")
[ -n "$N3" ] && [ "$N3" != "$N2" ] || ok=1
case "$L3" in *"host 192.0.2.30 "*) ;; *) ok=1 ;; esac
grep -q "reloaded" "$IT_WORK/dns.log" || ok=1
it_result "no request: the ticker refreshes past the TTL, new answer 192.0.2.30, CoA, new names" \
	$ok "$N2 -> $N3 $(echo "$L3" | tr '\n' '|') coa=$(it_switch_recv "$AUDIT")"

it_stop_radiusd
it_stop_switch
it_finish
