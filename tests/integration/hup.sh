#!/bin/sh
#
# hup.sh - a HUP reloads the site context and the trust anchors of the running server
# (docs/operations.md "HUP"), FreeRADIUS-style: the new instance is built beside the running
# one, swapped in only when valid; the cache, the station index, the fetch service and the
# CoA sender are kept:
#   1. a station gets the policy compiled with context A (service.example.com = 192.0.2.10);
#   2. the context file changes (B: 192.0.2.20), kill -HUP: "reloaded" in radius.log; without
#      a request, the ticker recompiles the cached policy with B (the cached one was compiled
#      for A), the station learned before the HUP gets a CoA, its re-authentication the new
#      dACL whose lines name 192.0.2.20; the dACL of the old quarantine names still downloads;
#   3. a broken context file and HUP: the error says which file and where, FreeRADIUS keeps
#      the running instance, answers are unchanged;
#   4. trust anchors: trust_file replaced by an unrelated CA and HUP: the cached policy signed
#      under the removed CA is dropped at once (no network), its station gets a CoA and its
#      next request is refused (untrusted signer), as is a flushed URL fetched again; the
#      right CA back and HUP: served again;
#   5. quarantine_vlan changed in mods-enabled/mud and HUP: applied; so is log_decisions =
#      changes (a station's unchanged policy no longer logged at Info, a new station is);
#   6. fetch_threads changed: the reload is refused as a whole, with the reason;
#   7. 60 s after the first reload, a HUP (only the context changed) frees the replaced
#      instances (their detach): the fetch threads, the CoA sender and the cache keep working
#      (a new URL is fetched, its station gets CoA), the settings of the newest section stay,
#      and the last stop of the server is clean (sanitizers in the ASan build).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
it_setup
it_start_web
it_publish dev signer
it_publish dev2 signer
it_start_switch

C=$IT_WORK/cases
CTX_A='{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": false,
           "static": { "service.example.com": ["192.0.2.10", "2001:db8::a"] } },
  "acl-prefix": "mud" }'
CTX_B='{ "manufacturers": { "localhost": { "vlan": 100 } },
  "dns": { "resolve": false,
           "static": { "service.example.com": ["192.0.2.20", "2001:db8::b"] } },
  "acl-prefix": "mud" }'
printf '%s\n' "$CTX_A" > "$IT_WORK/context.json"

MUD_REFRESH_INTERVAL=1
MUD_OPTS="	coa = yes
	coa_port = $SWITCH_PORT
	metrics_file = \"$IT_WORK/mud.prom\"
	metrics_interval = 1"
RAD_DEBUG=""	# production logging: what an operator sees in radius.log
it_make_raddb
CTX=$RADDB/mud-context.json
TRUST=$IT_WORK/sig/signer-ca.pem
cp "$TRUST" "$IT_WORK/signer-ca.orig.pem"
it_start_radiusd
RAD_START=$(date +%s)

# req NAME STATION URL [AUDIT]: a MAB (sent again while pending); reply in $C/NAME.out
req() {
	it_mab "$C/$1" "$2" "$(it_avpair lldp "$3")" \
		"Cisco-AVPair = \"audit-session-id=${4:-0A00000100000000000000HU}\""
	it_send auth "$C/$1" > "$C/$1.out"
}
# download NAME ACL: the dACL's lines on stdout
download() {
	it_dacl "$C/$1" "$2"
	it_send auth "$C/$1" > "$C/$1.out"
	it_has "$C/$1.out" "Received Access-Accept" || return 1
	it_lines "$C/$1.out"
}
# xlat NAME CMD: %{mud:CMD} through the test hook; its text on stdout
xlat() { it_xlat "$C/$1" "$2"; }
# hup [conf]: it_hup of the context and the trust file (or "conf": mods-enabled/mud)
hup() {
	if [ "${1:-}" = conf ]; then it_hup conf; else it_hup "$CTX" "$TRUST"; fi
}
wait_coa() { it_wait_coa "$@"; }

URL=$BASE/it/dev.json
URL2=$BASE/it/dev2.json

# 1. Context A.
req a1 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
N4=$(it_acl_name "$C/a1.out" IP)
lines=$(download dl-a1 "$N4")
ok=0
it_has "$C/a1.out" '"mud-status=ok"' || ok=1
echo "$lines" | grep -q "host 192.0.2.10 eq 443" || ok=1
it_result "hup: context A compiled into the station's dACL" $ok "$N4: $(echo "$lines" | head -n 1)"

# the quarantine dACL of context A (a URL the policy refuses: denied.example)
req q1 00:11:22:33:99:02 "https://denied.example/x.json" 0A0000010000000000000HU2
QN4=$(it_acl_name "$C/q1.out" IP)

# 2. Context B, HUP: reloaded; the ticker recompiles, CoA to the station of step 1.
printf '%s\n' "$CTX_B" > "$CTX"
ok=0
coa_before=$(it_switch_recv 0A0000010000000000000HU1)
hup || ok=1
HUP_START=$HUP_LAST
grep -q "rlm_mud (mud): reloaded (1): site context $CTX" "$RAD_LOG" || ok=1
wait_coa 0A0000010000000000000HU1 "$coa_before" || ok=1
req b1 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
M4=$(it_acl_name "$C/b1.out" IP)
lines=$(download dl-b1 "$M4")
it_has "$C/b1.out" '"mud-status=ok"' || ok=1
[ -n "$M4" ] && [ "$M4" != "$N4" ] || ok=1
echo "$lines" | grep -q "host 192.0.2.20 eq 443" || ok=1
qlines=$(download dl-q1 "$QN4")
[ -n "$qlines" ] || ok=1
it_result "hup: new context -> reloaded, recompiled, CoA to a station known before the HUP" \
	$ok "$N4 -> $M4; CoA $(it_switch_recv 0A0000010000000000000HU1); $(echo "$lines" | head -n 1)"

# 3. A broken context: the reload fails, the running instance stays.
printf '{ "manufacturers": { "localhost": { "vlan": "one hundred" } } }\n' > "$CTX"
ok=0
hup || ok=1
grep -q "HUP failed for module \"mud\"" "$RAD_LOG" || ok=1
grep -q "Invalid context file $CTX: " "$RAD_LOG" || ok=1
req c1 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
[ "$(it_acl_name "$C/c1.out" IP)" = "$M4" ] || ok=1
it_has "$C/c1.out" '"mud-status=ok"' || ok=1
it_result "hup: broken context -> reload refused, the running context kept" $ok \
	"$(grep "Invalid context file" "$RAD_LOG" | tail -n 1 | cut -c1-160)"
printf '%s\n' "$CTX_B" > "$CTX"

# 4. Trust anchors: an unrelated CA -> a refetched file is refused; the right CA back.
# (After the failed reload FreeRADIUS re-read its configuration without the module: "hup conf"
# as docs/operations.md says; the second HUP then notices a change of the trust file alone.)
cp "$IT_WORK/pki/ca.pem" "$TRUST"
ok=0
coa_before=$(it_switch_recv 0A0000010000000000000HU1)
hup conf || ok=1
# the cached policy of dev.json (signed under the removed CA) is dropped at once, its
# station re-authenticated, and its next request refused
wait_coa 0A0000010000000000000HU1 "$coa_before" || ok=1
grep -q "cached policy $URL dropped: its signer no longer chains to a trust anchor" \
	"$RAD_LOG" || ok=1
IT_SETTLE=0 req t0 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
req t0b 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
it_has "$C/t0b.out" '"mud-status=signature-invalid"' || ok=1
[ "$(xlat flush1 "flush $URL2")" != "" ] || ok=1
req t1 00:11:22:33:99:03 "$URL2" 0A0000010000000000000HU3
it_has "$C/t1.out" '"mud-status=signature-invalid"' || ok=1
grep -q "dev2.json: signature-invalid: .*unable to get local issuer certificate" "$RAD_LOG" || ok=1
cp "$IT_WORK/signer-ca.orig.pem" "$TRUST"
hup || ok=1
xlat flush2 "flush $URL2" >/dev/null
xlat flush2b "flush $URL" >/dev/null
req t2 00:11:22:33:99:03 "$URL2" 0A0000010000000000000HU3
it_has "$C/t2.out" '"mud-status=ok"' || ok=1
req t3 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
it_has "$C/t3.out" '"mud-status=ok"' || ok=1
it_result "hup: trust anchors reloaded (a cached policy of a removed signer CA dropped at once, unrelated CA refused, the right one accepted)" $ok \
	"$(it_reply_values "$C/t0b.out" Reply-Message | tr '\n' ' ')"

# 5. A setting in the module's configuration: quarantine_vlan 999 -> 998 (the whole
# configuration is re-read; the module parses its new section).
# log_decisions = changes too: a station given the policy it already had is no longer
# logged at Info (radius.log), a new station still is.
MODCONF=$RADDB/mods-enabled/mud
sed -i 's/quarantine_vlan = 999/quarantine_vlan = 998\n\tlog_decisions = changes/' "$MODCONF"
ok=0
hup conf || ok=1
req q2 00:11:22:33:99:05 "https://denied.example/y.json" 0A0000010000000000000HU5
[ "$(it_vlan "$C/q2.out")" = 998 ] || ok=1
it_result "hup: a changed quarantine_vlan in mods-enabled/mud applies" $ok \
	"VLAN $(it_vlan "$C/q2.out")"
ok=0
req r1 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1	# whatever it had before
n0=$(grep -c "MUD station 00:11:22:33:99:01 URL" "$RAD_LOG")
req r2 00:11:22:33:99:01 "$URL" 0A0000010000000000000HU1
it_has "$C/r2.out" '"mud-status=ok"' || ok=1
[ "$(grep -c "MUD station 00:11:22:33:99:01 URL" "$RAD_LOG")" = "$n0" ] || ok=1
req r3 00:11:22:33:99:06 "$URL" 0A0000010000000000000HU6
grep -q "Info: (.*) mud: MUD station 00:11:22:33:99:06 URL $URL (lldp): ok" "$RAD_LOG" || ok=1
it_result "hup: log_decisions = changes: an unchanged policy is not logged, a new station is" \
	$ok "$(grep -c "MUD station 00:11:22:33:99:01 URL" "$RAD_LOG") lines for 99:01 (were $n0)"

# 6. A setting that needs a restart: the reload is refused as a whole, and says why.
sed -i 's/quarantine_vlan = 998/quarantine_vlan = 997\n\tfetch_threads = 7/' "$MODCONF"
ok=0
hup conf || ok=1
grep -q "reload: fetch_threads=4 changed to fetch_threads=7, which needs a restart" \
	"$RAD_LOG" || ok=1
req q3 00:11:22:33:99:05 "https://denied.example/y.json" 0A0000010000000000000HU5
[ "$(it_vlan "$C/q3.out")" = 998 ] || ok=1
it_result "hup: a restart-only setting (fetch_threads) refuses the reload, nothing applied" \
	$ok "VLAN $(it_vlan "$C/q3.out")"
sed -i -e 's/quarantine_vlan = 997/quarantine_vlan = 998/' -e '/fetch_threads = 7/d' "$MODCONF"
ok=0
hup conf || ok=1
grep -q "rlm_mud (mud): reloaded (5)" "$RAD_LOG" || ok=1
it_result "hup: the setting put back -> reloaded" $ok "$(grep -c "reloaded (" "$RAD_LOG") reloads"

# 7. 60 s after the first reload a HUP frees the replaced instances; the shared state lives.
# Only the context changes (a module file): the newest section's settings stay (VLAN 998).
now=$(date +%s)
[ $((now - HUP_START)) -lt 62 ] && sleep $((62 - (now - HUP_START)))
printf '%s\n' "$CTX_A" > "$CTX"
ok=0
coa_before=$(it_switch_recv 0A0000010000000000000HU1)
hup || ok=1
wait_coa 0A0000010000000000000HU1 "$coa_before" || ok=1
grep -q "rlm_mud (mud): configuration 0 freed (replaced by a reload)" "$RAD_LOG" || ok=1
xlat flush3 "flush $URL2" >/dev/null
req d1 00:11:22:33:99:04 "$URL2" 0A0000010000000000000HU4
it_has "$C/d1.out" '"mud-status=ok"' || ok=1
lines=$(download dl-d1 "$(it_acl_name "$C/d1.out" IP)")
echo "$lines" | grep -q "host 192.0.2.10 eq 443" || ok=1
req q4 00:11:22:33:99:05 "https://denied.example/y.json" 0A0000010000000000000HU5
[ "$(it_vlan "$C/q4.out")" = 998 ] || ok=1
# the metrics (metrics_file) count them: 6 applied, 2 refused (the broken context,
# fetch_threads), 1 policy revoked
sleep 1.5
stats=$(grep '^rlm_mud_reloads_total\|^rlm_mud_policies_revoked_total' "$IT_WORK/mud.prom" |
	tr '\n' ' ')
grep -qx 'rlm_mud_reloads_total{result="ok"} 6' "$IT_WORK/mud.prom" || ok=1
grep -qx 'rlm_mud_reloads_total{result="failed"} 2' "$IT_WORK/mud.prom" || ok=1
grep -qx 'rlm_mud_policies_revoked_total 1' "$IT_WORK/mud.prom" || ok=1
kill -0 "$RAD_PID" || ok=1
it_stop_radiusd
grep -q "rlm_mud (mud): reloaded (6)" "$RAD_LOG" || ok=1
it_result "hup: replaced instances freed after 60 s; fetches, CoA and cache still work; metrics" \
	$ok "$(grep -c "reloaded (" "$RAD_LOG") reloads; stats:$stats"

it_finish
