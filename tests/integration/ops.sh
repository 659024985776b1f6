#!/bin/sh
#
# ops.sh - operating the module (docs/operations.md), against the real server:
#   1. pending (fetch_mode = background): the shipped policy quarantines (VLAN, filter,
#      short Session-Timeout, Termination-Action = RADIUS-Request) with its own
#      Reply-Message, not as a failure; without a quarantine VLAN it rejects;
#   2. cache control through the shipped sites-available/mud-control with radclient:
#      list, show, flush, flush-all, refresh (a changed policy -> CoA to the station);
#      a request without Message-Authenticator, with a wrong secret, or from a NAS
#      client is refused; mudctl cache list|show read cache_dir offline and report a
#      tampered entry (HMAC);
#   3. metrics: the Prometheus textfile (metrics_file) checked by a strict parser of the
#      text exposition format, counters moving with the requests sent; %{mud:stats};
#   4. proxy: fetches through a real CONNECT proxy (tests/tools/connect_proxy.py, CONNECTs
#      counted); no_proxy; an https_proxy in the server's environment is ignored; with
#      allow_private_urls = no an internal MUD server is refused by the module and the
#      proxy never hears of it;
#   5. the shipped linelog audit file (mods-available/mud_audit) enabled as documented:
#      one line per decision (accept with the policy, quarantine, dACL download, reject);
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

MUDCTL=${MUDCTL:-$top_builddir/rlm_mud/mudctl}
it_require
IT_SETTLE=0	# each request of this suite is sent once (it counts them, and waits itself)
it_setup
it_start_web
it_publish opsa signer
it_publish opsb signer
it_publish opsc signer
C=$IT_WORK/cases
CTL_SECRET=ops-control-$$

# it_enable_control: the shipped control site on a free port, its secret file.
it_enable_control() {
	CTL_PORT=$(it_free_port)
	cp "$top_srcdir/policy/sites-available/mud-control" "$RADDB/sites-available/mud-control"
	ln -s ../sites-available/mud-control "$RADDB/sites-enabled/mud-control"
	it_py_edit "$RADDB/sites-available/mud-control" "s = s.replace('port = 18122', 'port = $CTL_PORT', 1)"
	( umask 077; printf 'secret = "%s"\n' "$CTL_SECRET" > "$RADDB/mud-control.secret" )
	chmod -R o-w "$RADDB"
}

# ctl COMMAND [SECRET] [NOMA]: one command to the control site; prints radclient's output.
ctl() {
	{
		printf 'User-Name = "%s"\n' "$1"
		[ -n "${3:-}" ] || echo 'Message-Authenticator = 0x00'
	} > "$C/ctl.req"
	radclient -x -r 1 -t 5 -f "$C/ctl.req" "127.0.0.1:$CTL_PORT" auth "${2:-$CTL_SECRET}" \
		2>>"$IT_WORK/radclient.err"
}
ctl_msgs() { it_reply_values "$1" Reply-Message; }

# 1b. pending without a quarantine VLAN: rejected (no filter to admit the device with).
MUD_OPTS="	fetch_mode = background
	pending_session_timeout = 20"
it_make_raddb raddb-noq
it_py_edit "$RADDB/mods-enabled/mud" "s = s.replace('quarantine_vlan = 999', 'quarantine_vlan = 0')"
it_start_radiusd
it_lldp_mab "$C/noq" 00:11:22:33:f0:01 "$BASE/it/opsa.json"
it_send auth "$C/noq" > "$C/noq.out"
ok=0
it_has "$C/noq.out" "Received Access-Reject" || ok=1
it_has "$C/noq.out" '"mud-status=pending"' || ok=1
[ -z "$(it_vlan "$C/noq.out")" ] || ok=1
it_result "pending without a quarantine VLAN: rejected (fail closed)" $ok \
	"$(it_reply "$C/noq.out" | tr '\n' '|')"
it_stop_radiusd

# The main server: background fetches, CoA to a switch, a persisted cache with an HMAC key,
# the control site.
it_start_switch
mkdir -p "$IT_WORK/cachedir"
chmod 700 "$IT_WORK/cachedir"
head -c 48 /dev/urandom > "$IT_WORK/cache.key"
chmod 600 "$IT_WORK/cache.key"
MUD_OPTS="	fetch_mode = background
	pending_session_timeout = 20
	coa = yes
	coa_port = $SWITCH_PORT
	cache_dir = \"$IT_WORK/cachedir\"
	cache_key_file = \"$IT_WORK/cache.key\"
	metrics_file = \"$IT_WORK/metrics/rlm_mud.prom\"
	metrics_interval = 1"
mkdir -p "$IT_WORK/metrics"
it_make_raddb raddb-ops
it_enable_control
it_start_radiusd

# prom FILE: parse a Prometheus textfile strictly (exposition format 0.0.4); prints
# "series value" lines (series = name{labels} as written); exit 1 with the reason if bad.
prom() {
	python3 - "$1" <<'PYEOF'
import re, sys
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LNAME = r'[a-zA-Z_][a-zA-Z0-9_]*'
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'^(' + NAME + r')(\{(' + LNAME + r'=' + LVAL + r'(?:,' + LNAME + r'=' +
                    LVAL + r')*)?\})? (\S+)( -?[0-9]+)?$')
def bad(n, why):
    print("line %d: %s" % (n, why)); sys.exit(1)
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
except UnicodeDecodeError:
    bad(0, "not UTF-8")
if not text.endswith("\n"):
    bad(0, "no final newline")
help_, type_, done, series = {}, {}, set(), set()
current = None
out = []
for n, line in enumerate(text[:-1].split("\n"), 1):
    if line.startswith("#"):
        m = re.match(r'^# (HELP|TYPE) (' + NAME + r') (.*)$', line)
        if not m:
            if line.startswith("# HELP") or line.startswith("# TYPE"): bad(n, "malformed " + line)
            continue
        kind, name, rest = m.groups()
        d = help_ if kind == "HELP" else type_
        if name in d: bad(n, "second %s for %s" % (kind, name))
        if name in done or (current and current != name and name in series): bad(n, kind + " after samples")
        if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
            bad(n, "unknown type " + rest)
        d[name] = rest
        if current and current != name: done.add(current)
        current = name
        continue
    if not line.strip(): bad(n, "empty line")
    m = SAMPLE.match(line)
    if not m: bad(n, "not a sample: " + line)
    name, _, labels, value = m.group(1), m.group(2), m.group(3), m.group(4)
    if name not in type_: bad(n, "sample before its TYPE: " + name)
    if name != current: bad(n, "samples of %s not together" % name)
    try:
        v = float(value)
    except ValueError:
        bad(n, "bad value " + value)
    if type_[name] == "counter":
        if not name.endswith("_total"): bad(n, "counter not named *_total: " + name)
        if v < 0: bad(n, "negative counter")
    if labels:
        keys = [kv.split("=", 1)[0] for kv in re.findall(LNAME + '=' + LVAL, labels)]
        if len(keys) != len(set(keys)): bad(n, "repeated label")
    key = name + (m.group(2) or "")
    if key in series: bad(n, "duplicate series " + key)
    series.add(key)
    out.append("%s %s" % (key, value))
for name in type_:
    if name not in help_: bad(0, "no HELP for " + name)
print("\n".join(out))
PYEOF
}
# metric FILE SERIES: its value ("" if absent)
metric() { prom "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
# wait_metrics: until the writer has written again (interval 1 s)
wait_metrics() {
	_m0=$(stat -c %Y.%N "$IT_WORK/metrics/rlm_mud.prom" 2>/dev/null)
	_mi=0
	sleep 1.1
	while [ $_mi -lt 30 ] && [ "$(stat -c %Y.%N "$IT_WORK/metrics/rlm_mud.prom")" = "$_m0" ]; do
		sleep 0.1
		_mi=$((_mi + 1))
	done
}

# 3a. metrics at start: a valid file, every series at zero.
ok=0
cp "$IT_WORK/metrics/rlm_mud.prom" "$C/m0.prom" || ok=1
prom "$C/m0.prom" > "$C/m0.txt" || ok=1
[ "$(metric "$C/m0.prom" rlm_mud_requests_total)" = 0 ] || ok=1
[ "$(metric "$C/m0.prom" 'rlm_mud_outcomes_total{status="pending"}')" = 0 ] || ok=1
[ "$(metric "$C/m0.prom" 'rlm_mud_coa_outcomes_total{outcome="ack"}')" = 0 ] || ok=1
[ "$(stat -c %a "$IT_WORK/metrics/rlm_mud.prom")" = 644 ] || ok=1
it_result "metrics: textfile written at start, strict format check, all zero, mode 644" $ok \
	"$(head -c 300 "$C/m0.txt" | tr '\n' '|')"

# 1. pending: quarantined with the shipped policy's message, not a failure.
it_mab "$C/cold" 00:11:22:33:f0:02 "$(it_avpair lldp "$BASE/it/opsa.json")" \
	'Cisco-AVPair = "audit-session-id=0A0000010000000000F00002"'
it_send auth "$C/cold" > "$C/cold.out"
ok=0
it_has "$C/cold.out" "Received Access-Accept" || ok=1
it_has "$C/cold.out" '"mud-status=pending"' || ok=1
it_has "$C/cold.out" '"MUD policy being fetched: quarantined until it is applied"' || ok=1
it_has "$C/cold.out" 'MUD policy unavailable' && ok=1
[ "$(it_vlan "$C/cold.out")" = 999 ] || ok=1
[ -n "$(it_acl_name "$C/cold.out" IP)" ] || ok=1
[ "$(it_reply_values "$C/cold.out" Session-Timeout)" = 20 ] || ok=1
[ "$(it_reply_values "$C/cold.out" Termination-Action)" = RADIUS-Request ] || ok=1
it_result "pending: quarantine VLAN + filter, Session-Timeout, RADIUS-Request, own message" \
	$ok "$(it_reply "$C/cold.out" | tr '\n' '|')"

# wait for the background fetch (the CoA to the station says it settled)
i=0
while [ $i -lt 100 ] && [ "$(it_switch_recv 0A0000010000000000F00002)" = 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
it_send auth "$C/cold" > "$C/warm.out"
ok=0
it_has "$C/warm.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/warm.out")" = 100 ] || ok=1
it_result "after the fetch: the policy (VLAN 100)" $ok "$(it_reply "$C/warm.out" | tr '\n' '|')"

# 2. control site: list, show.
ACL4=$(it_acl_name "$C/warm.out" IP)
ctl list > "$C/list.out"
ok=0
it_has "$C/list.out" "Received Access-Accept" || ok=1
[ "$(ctl_msgs "$C/list.out" | head -n 1)" = "entries=1" ] || ok=1
ctl_msgs "$C/list.out" | grep -q "^$BASE/it/opsa.json fresh expires-in=[0-9]* vlan=100 v4=$ACL4 v6=#ACSACL#-IPV6-" || ok=1
it_result "control: list (one Reply-Message per entry)" $ok "$(ctl_msgs "$C/list.out" | tr '\n' '|')"

ctl "show $BASE/it/opsa.json" > "$C/show.out"
ok=0
ctl_msgs "$C/show.out" > "$C/show.msgs"
grep -qx "url=$BASE/it/opsa.json" "$C/show.msgs" || ok=1
grep -qx "state=fresh" "$C/show.msgs" || ok=1
grep -qx "vlan=100" "$C/show.msgs" || ok=1
grep -qx "acl-v4=$ACL4" "$C/show.msgs" || ok=1
grep -q "^file-sha256=[0-9a-f]\{64\}$" "$C/show.msgs" || ok=1
ctl "show $BASE/it/nothere.json" > "$C/show2.out"
[ "$(ctl_msgs "$C/show2.out")" = "not-cached" ] || ok=1
it_result "control: show (fields; not-cached for an unknown URL)" $ok "$(tr '\n' '|' < "$C/show.msgs")"

# access control: no Message-Authenticator, a wrong secret, the NAS's client and port.
ok=0
ctl list "" noma > "$C/noma.out"
it_has "$C/noma.out" "Received Access-Accept" && ok=1
ctl list wrong-secret > "$C/wrong.out"
it_has "$C/wrong.out" "Received Access-Accept" && ok=1
printf 'User-Name = "flush-all"\nMessage-Authenticator = 0x00\n' > "$C/nas.req"
radclient -x -r 1 -t 3 -f "$C/nas.req" "127.0.0.1:$CTL_PORT" auth "$SECRET" > "$C/nas.out" 2>&1
it_has "$C/nas.out" "Received Access-Accept" && ok=1
it_send auth "$C/nas.req" > "$C/nas2.out"
it_has "$C/nas2.out" "flushed=" && ok=1
ctl "flush-all; rm -rf /" > "$C/bad.out"
it_has "$C/bad.out" "Received Access-Reject" || ok=1
ctl list > "$C/list2.out"
[ "$(ctl_msgs "$C/list2.out" | head -n 1)" = "entries=1" ] || ok=1
# the wrong secret and the NAS's secret: dropped for their Message-Authenticator
[ "$(grep -c "Received packet from 127.0.0.1 with invalid Message-Authenticator.*(from client mud-control)" "$RAD_LOG")" -ge 2 ] || ok=1
it_result "control: refused without Message-Authenticator, with a wrong secret, from the NAS's secret or port" $ok

# mudctl cache list|show, offline, with the key; then a tampered entry.
ok=0
"$MUDCTL" cache list --key "$IT_WORK/cache.key" "$IT_WORK/cachedir" > "$C/mc-list.out" 2>&1 || ok=1
grep -q "^ok  *$BASE/it/opsa.json .*vlan=100" "$C/mc-list.out" || ok=1
"$MUDCTL" cache show --key "$IT_WORK/cache.key" "$IT_WORK/cachedir" "$BASE/it/opsa.json" > "$C/mc-show.out" 2>&1 || ok=1
grep -q "^v4: ip:inacl#1=" "$C/mc-show.out" || ok=1
grep -q "^hmac: ok" "$C/mc-show.out" || ok=1
grep -q "^signer: CN=mud-signer.example.com,O=rlm_mud test$" "$C/mc-show.out" || ok=1
grep -q "^compile-tag: " "$C/mc-show.out" || ok=1
grep -q "^kept-file: [0-9a-f]\{64\}\.src, [1-9][0-9]* bytes$" "$C/mc-show.out" || ok=1
f=$(ls "$IT_WORK/cachedir" | grep -v '\.src$' | head -n 1)
cp "$IT_WORK/cachedir/$f" "$C/saved-entry"
sed -i 's/^vlan: 100$/vlan: 101/' "$IT_WORK/cachedir/$f"
rc=0
"$MUDCTL" cache list --key "$IT_WORK/cache.key" "$IT_WORK/cachedir" > "$C/mc-tamp.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || ok=1
grep -q "^TAMPERED  *$BASE/it/opsa.json .*hmac does not match" "$C/mc-tamp.out" || ok=1
cp "$C/saved-entry" "$IT_WORK/cachedir/$f"
it_result "mudctl cache list|show: offline, HMAC checked, tampered entry reported" $ok \
	"$(cat "$C/mc-list.out" "$C/mc-tamp.out" | tr '\n' '|')"

# refresh: the file changes (VLAN 100 -> other policy), a background refetch, CoA to the
# station that holds the old policy; then flush and flush-all.
n0=$(it_switch_recv 0A0000010000000000F00002)
f0=$(it_fetches /it/opsa.json)
sed -i 's/"port": 443 }/"port": 8443 }/' "$IT_WORK/www/it/opsa.json"
"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" signer "$IT_WORK/www/it/opsa.json" >/dev/null
ctl "refresh $BASE/it/opsa.json" > "$C/refresh.out"
ok=0
[ "$(ctl_msgs "$C/refresh.out")" = "refresh-queued" ] || ok=1
i=0
while [ $i -lt 100 ] && [ "$(it_switch_recv 0A0000010000000000F00002)" = "$n0" ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(it_switch_recv 0A0000010000000000F00002)" -gt "$n0" ] || ok=1
[ "$(it_fetches /it/opsa.json)" -gt "$f0" ] || ok=1
it_send auth "$C/cold" > "$C/after.out"
ACL4B=$(it_acl_name "$C/after.out" IP)
[ -n "$ACL4B" ] && [ "$ACL4B" != "$ACL4" ] || ok=1
grep -q "refresh requested by an operator" "$RAD_LOG" || ok=1
it_result "control: refresh refetches in the background; changed policy -> CoA, new dACL" $ok \
	"acl $ACL4 -> $ACL4B fetches $f0 -> $(it_fetches /it/opsa.json)"

# a second refresh of an unchanged file: fetched again, no CoA
n1=$(it_switch_recv 0A0000010000000000F00002)
f1=$(it_fetches /it/opsa.json)
ctl "refresh $BASE/it/opsa.json" > "$C/refresh2.out"
i=0
while [ $i -lt 50 ] && [ "$(it_fetches /it/opsa.json)" = "$f1" ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
ok=0
[ "$(it_fetches /it/opsa.json)" -gt "$f1" ] || ok=1
[ "$(it_switch_recv 0A0000010000000000F00002)" = "$n1" ] || ok=1
it_result "control: refresh of an unchanged policy: no CoA" $ok

ok=0
ctl "flush $BASE/it/opsa.json" > "$C/flush.out"
[ "$(ctl_msgs "$C/flush.out")" = "flushed=1" ] || ok=1
ctl "show $BASE/it/opsa.json" > "$C/show3.out"
[ "$(ctl_msgs "$C/show3.out")" = "not-cached" ] || ok=1
[ -z "$(ls "$IT_WORK/cachedir")" ] || ok=1
grep -q "MUD $BASE/it/opsa.json: flushed by an operator" "$RAD_LOG" || ok=1
it_result "control: flush drops the URL from memory and cache_dir" $ok "$(ls "$IT_WORK/cachedir")"

# two URLs cached, then flush-all
it_lldp_mab "$C/b" 00:11:22:33:f0:03 "$BASE/it/opsb.json"
it_lldp_mab "$C/c" 00:11:22:33:f0:04 "$BASE/it/opsc.json"
it_send auth "$C/b" >/dev/null
it_send auth "$C/c" >/dev/null
i=0
while [ $i -lt 100 ] && [ "$(ls "$IT_WORK/cachedir" | wc -l)" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok=0
ctl list > "$C/list3.out"
[ "$(ctl_msgs "$C/list3.out" | head -n 1)" = "entries=2" ] || ok=1
ctl flush-all > "$C/flushall.out"
[ "$(ctl_msgs "$C/flushall.out")" = "flushed=2" ] || ok=1
ctl list > "$C/list4.out"
[ "$(ctl_msgs "$C/list4.out")" = "entries=0" ] || ok=1
[ -z "$(ls "$IT_WORK/cachedir")" ] || ok=1
it_result "control: flush-all" $ok "$(ctl_msgs "$C/list3.out" | tr '\n' '|') $(ctl_msgs "$C/flushall.out")"

# 3b. metrics move with the requests: 3 MABs of a cached policy, 2 dACL downloads, a URL
# that does not exist (pending, then a background fetch failing with HTTP 404).
it_send auth "$C/b" > /dev/null		# pending: opsb fetched again after flush-all
i=0
while [ $i -lt 100 ] && [ -z "$(ls "$IT_WORK/cachedir")" ]; do sleep 0.1; i=$((i + 1)); done
wait_metrics
cp "$IT_WORK/metrics/rlm_mud.prom" "$C/m1.prom"
for k in 1 2 3; do it_send auth "$C/b" > "$C/mb$k.out"; done
it_dacl "$C/dl" "$(it_acl_name "$C/mb1.out" IP)"
it_send auth "$C/dl" > "$C/dl1.out"
it_send auth "$C/dl" > "$C/dl2.out"
it_lldp_mab "$C/missing" 00:11:22:33:f0:05 "$BASE/it/missing.json"
it_send auth "$C/missing" > "$C/missing.out"
i=0
while [ $i -lt 100 ] && ! grep -q "MUD $BASE/it/missing.json: .*stations stay in quarantine" "$RAD_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
wait_metrics
cp "$IT_WORK/metrics/rlm_mud.prom" "$C/m2.prom"
delta() { echo $(( $(metric "$C/m2.prom" "$1") - $(metric "$C/m1.prom" "$1") )); }
ok=0
prom "$C/m2.prom" > /dev/null || ok=1
[ "$(delta rlm_mud_requests_total)" = 4 ] || ok=1
[ "$(delta 'rlm_mud_outcomes_total{status="ok"}')" = 3 ] || ok=1
[ "$(delta 'rlm_mud_outcomes_total{status="pending"}')" = 1 ] || ok=1
[ "$(delta 'rlm_mud_outcomes_total{status="acl-served"}')" = 2 ] || ok=1
[ "$(delta 'rlm_mud_dacl_downloads_total{result="served"}')" = 2 ] || ok=1
[ "$(delta 'rlm_mud_cache_lookups_total{result="hit"}')" -ge 3 ] || ok=1
[ "$(delta rlm_mud_fetches_total)" = 1 ] || ok=1
[ "$(delta 'rlm_mud_fetch_failures_total{cause="http"}')" = 1 ] || ok=1
[ "$(metric "$C/m2.prom" 'rlm_mud_coa_requests_total')" -ge 2 ] || ok=1
[ "$(metric "$C/m2.prom" 'rlm_mud_coa_outcomes_total{outcome="ack"}')" -ge 2 ] || ok=1
[ "$(metric "$C/m2.prom" rlm_mud_cache_entries)" -ge 1 ] || ok=1
it_result "metrics: counters move with the requests (requests, outcomes, dACL, cache, fetch failure by cause, CoA)" $ok \
	"$(diff "$C/m1.prom" "$C/m2.prom" | grep '^[<>] rlm' | tr '\n' '|')"

ctl stats > "$C/stats.out"
ok=0
st=$(ctl_msgs "$C/stats.out" | tr '\n' ' ')
for want in "entries=2" "requests_total=$(metric "$C/m2.prom" rlm_mud_requests_total)" \
	"fetch_failures_total_http=1" "dacl_downloads_total_served=2" "coa_outcomes_total_ack="; do
	ctl_msgs "$C/stats.out" | grep -q "^$want" || ok=1
done
it_result "metrics: %{mud:stats} carries the counters" $ok "$st"

it_stop_radiusd

# 4. proxy
PROXY_LOG=$IT_WORK/proxy.log
: > "$PROXY_LOG"
python3 "$top_srcdir/tests/tools/connect_proxy.py" --portfile "$IT_WORK/proxy.port" \
	--log "$PROXY_LOG" 2>"$IT_WORK/proxy.err" &
PROXY_PID=$!
IT_PIDS="$IT_PIDS $PROXY_PID"
i=0
while [ ! -s "$IT_WORK/proxy.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PROXY_PORT=$(cat "$IT_WORK/proxy.port")
it_publish px1 signer
it_publish px2 signer
it_publish px3 signer
it_publish px4 signer

# 4a. proxy configured: both GETs (file, signature) through CONNECT; the environment's
# https_proxy (pointing at the same proxy) changes nothing for a server without proxy.
MUD_OPTS="	fetch_mode = inline
	proxy = \"http://127.0.0.1:$PROXY_PORT\""
it_make_raddb raddb-proxy
it_start_radiusd
it_lldp_mab "$C/px1" 00:11:22:33:f1:01 "$BASE/it/px1.json"
it_send auth "$C/px1" > "$C/px1.out"
ok=0
it_has "$C/px1.out" '"mud-status=ok"' || ok=1
[ "$(grep -c "^CONNECT localhost:$WEB_PORT 200$" "$PROXY_LOG")" = 2 ] || ok=1
[ "$(it_fetches /it/px1.json)" = 1 ] || ok=1
it_result "proxy: the file and its signature fetched through the CONNECT proxy" $ok \
	"$(tr '\n' '|' < "$PROXY_LOG")"
it_stop_radiusd

MUD_OPTS="	fetch_mode = inline
	proxy = \"http://127.0.0.1:$PROXY_PORT\"
	no_proxy = \"example.com, localhost\""
it_make_raddb raddb-noproxy
it_start_radiusd
n0=$(grep -c CONNECT "$PROXY_LOG")
it_lldp_mab "$C/px2" 00:11:22:33:f1:02 "$BASE/it/px2.json"
it_send auth "$C/px2" > "$C/px2.out"
ok=0
it_has "$C/px2.out" '"mud-status=ok"' || ok=1
[ "$(grep -c CONNECT "$PROXY_LOG")" = "$n0" ] || ok=1
[ "$(it_fetches /it/px2.json)" = 1 ] || ok=1
it_result "proxy: no_proxy hosts fetched directly" $ok
it_stop_radiusd

MUD_OPTS="	fetch_mode = inline"
it_make_raddb raddb-envproxy
https_proxy="http://127.0.0.1:$PROXY_PORT" HTTPS_PROXY="http://127.0.0.1:$PROXY_PORT" \
ALL_PROXY="http://127.0.0.1:$PROXY_PORT"
export https_proxy HTTPS_PROXY ALL_PROXY
it_start_radiusd
unset https_proxy HTTPS_PROXY ALL_PROXY
n0=$(grep -c CONNECT "$PROXY_LOG")
it_lldp_mab "$C/px3" 00:11:22:33:f1:03 "$BASE/it/px3.json"
it_send auth "$C/px3" > "$C/px3.out"
ok=0
it_has "$C/px3.out" '"mud-status=ok"' || ok=1
[ "$(grep -c CONNECT "$PROXY_LOG")" = "$n0" ] || ok=1
[ "$(it_fetches /it/px3.json)" = 1 ] || ok=1
tr '\0' '\n' < "/proc/$RAD_PID/environ" | grep -q "^https_proxy=http://127.0.0.1:$PROXY_PORT$" || ok=1
it_result "proxy: https_proxy in the server's environment ignored (direct fetch)" $ok
it_stop_radiusd

# 4b. allow_private_urls = no through the proxy: localhost resolves to loopback, refused by
# the module before the proxy is asked; the proxy never sees a CONNECT.
MUD_PRIVATE=no
MUD_OPTS="	fetch_mode = inline
	proxy = \"http://127.0.0.1:$PROXY_PORT\""
it_make_raddb raddb-proxy-private
it_start_radiusd
unset MUD_PRIVATE
n0=$(grep -c CONNECT "$PROXY_LOG")
it_lldp_mab "$C/px4" 00:11:22:33:f1:04 "$BASE/it/px4.json"
it_send auth "$C/px4" > "$C/px4.out"
ok=0
it_has "$C/px4.out" '"mud-status=url-refused"' || ok=1
[ "$(grep -c CONNECT "$PROXY_LOG")" = "$n0" ] || ok=1
[ "$(it_fetches /it/px4.json)" = 0 ] || ok=1
grep -q "host resolves to \(127\.0\.0\.1, in 127\.0\.0\.0/8\|::1, in ::1/128\) loopback" "$RAD_LOG" || ok=1
it_result "proxy: allow_private_urls = no: an internal MUD server is refused before the proxy is asked" \
	$ok "$(it_reply_values "$C/px4.out" Reply-Message | tr '\n' ' ')"

it_stop_radiusd

# 5. audit log (linelog): enabled as mods-available/mud_audit says.
it_publish au1 signer
MUD_OPTS="	fetch_mode = inline"
it_make_raddb raddb-audit
cp "$top_srcdir/policy/mods-available/mud_audit" "$RADDB/mods-available/mud_audit"
ln -s ../mods-available/mud_audit "$RADDB/mods-enabled/mud_audit"
it_py_edit "$RADDB/sites-available/mud" "
snip = '\n\tif (&control:MUD-Status) {\n\t\tmud_audit\n\t}\n'
s = s.replace('post-auth {\n\tmud_post_auth\n', 'post-auth {\n\tmud_post_auth\n' + snip, 1)
s = s.replace('Post-Auth-Type REJECT {', 'Post-Auth-Type REJECT {' + snip, 1)
"
chmod -R o-w "$RADDB"
it_start_radiusd
AUDIT=$IT_WORK/log/mud-audit.log
it_lldp_mab "$C/au1" 00:11:22:33:f2:01 "$BASE/it/au1.json"
it_send auth "$C/au1" > "$C/au1.out"
it_lldp_mab "$C/au2" 00:11:22:33:f2:02 "$BASE/it/au-missing.json"
it_send auth "$C/au2" > "$C/au2.out"
AU_ACL=$(it_acl_name "$C/au1.out" IP)
it_dacl "$C/au3" "$AU_ACL"
it_send auth "$C/au3" > "$C/au3.out"
it_dacl "$C/au4" "#ACSACL#-IP-unknown-0123"
it_send auth "$C/au4" > "$C/au4.out"
ok=0
[ "$(wc -l < "$AUDIT")" = 4 ] || ok=1
grep -q "^[0-9-]* [0-9:]* Access-Accept station=00:11:22:33:f2:01 nas=127.0.0.1 status=ok url=$BASE/it/au1.json source=lldp vlan=100 acl=$AU_ACL,#ACSACL#-IPV6-[^ ]* cache=fetched error=\"\"$" "$AUDIT" || ok=1
grep -q " Access-Accept station=00:11:22:33:f2:02 .* status=fetch-failed url=$BASE/it/au-missing.json source=lldp vlan=999 .*error=\"GET .*returned HTTP 404" "$AUDIT" || ok=1
grep -q " Access-Accept station= .* status=acl-served " "$AUDIT" || ok=1
grep -q " Access-Reject station= .* status=acl-unknown " "$AUDIT" || ok=1
[ "$(stat -c %a "$AUDIT")" = 640 ] || ok=1
it_result "audit log: mods-available/mud_audit, one line per decision (policy, quarantine, dACL, reject)" \
	$ok "$(tr '\n' '|' < "$AUDIT" 2>/dev/null)"

it_finish
