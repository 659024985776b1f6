#!/bin/sh
#
# coa.sh - the CoA sender (rlm_mud/rlm_mud_coa.c) against a second real freeradius that
# plays the switch (listen { type = coa }, lib.sh it_start_switch), driven by the test
# program integration/coa_send (linked like the module against libfreeradius):
#   CoA-ACK over IPv4 and IPv6, with the Cisco attributes as the switch decodes them;
#   CoA-NAK with Error-Cause (from the session name, and from a flag file): final, never
#   retried; a switch that never answers: retransmissions, then timeout; retransmissions
#   byte-identical with growing intervals; a wrong secret on the switch (the switch drops
#   the request); a reply signed with another secret (fails verification, counted);
#   replies with the wrong Id (counted as unmatched); 400 requests from 4 threads (Ids
#   reused); stop with requests in flight; queue full; bad input refused. Every run ends
#   with no talloc block left.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

COA_SEND="$top_builddir/tests/integration/coa_send"
DICTDIR=${FR_DICTDIR:-/usr/share/freeradius}
for p in "$FREERADIUS" python3; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "SKIP: $p not installed"
		exit 77
	fi
done
if [ ! -x "$COA_SEND" ]; then
	echo "SKIP: $COA_SEND not built (configure found no FreeRADIUS headers)"
	exit 77
fi
if [ ! -f "$DICTDIR/dictionary" ] || [ ! -f "$SYS_RADDB/dictionary" ]; then
	echo "SKIP: no FreeRADIUS dictionary in $DICTDIR or $SYS_RADDB"
	exit 77
fi

IT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/rlm_mud-coa.XXXXXX")
trap it_cleanup EXIT
trap 'exit 1' INT TERM
RAD_LOG=

it_start_switch

# cs NAME [coa_send options...] DST: run coa_send, output in $IT_WORK/NAME.out (key=value)
# and its log lines in $IT_WORK/NAME.err. Fails the case on a non-zero exit.
cs() {
	_cn=$1
	shift
	"$COA_SEND" -D "$DICTDIR" "$@" >"$IT_WORK/$_cn.out" 2>"$IT_WORK/$_cn.err"
	_crc=$?
	if [ "$_crc" -ne 0 ]; then
		echo "coa_send $_cn exited $_crc:"
		cat "$IT_WORK/$_cn.out" "$IT_WORK/$_cn.err"
	fi
	return "$_crc"
}
# val NAME KEY: the value of KEY in NAME.out (last occurrence).
val() { tr ' ' '\n' <"$IT_WORK/$1.out" | sed -n "s/^$2=//p" | tail -n 1; }
# expect NAME KEY=VALUE...: every pair matches.
expect() {
	_en=$1
	shift
	for _kv in "$@"; do
		_k=${_kv%%=*}
		_v=${_kv#*=}
		_got=$(val "$_en" "$_k")
		if [ "$_got" != "$_v" ]; then
			echo "  $_en: $_k=$_got, expected $_v"
			return 1
		fi
	done
	return 0
}
clean() { expect "$1" leaked_blocks=0 pending=0; }

S="-s $SECRET -p $SWITCH_PORT"

# 1. CoA-ACK, IPv4: the switch decodes every attribute of the Cisco form.
r=0
cs ack4 $S -a 0A0A0A0B000000123456789A -c 00-11-22-33-44-55 -N 192.0.2.7 127.0.0.1 || r=1
expect ack4 done=1 ack=1 sent=1 retransmits=0 nak=0 timeout=0 bad_replies=0 || r=1
clean ack4 || r=1
line=$(grep '^recv CoA-Request' "$SWITCH_LOG" | grep -F 'audit-session-id=0A0A0A0B000000123456789A')
for a in 'Cisco-AVPair = "subscriber:command=reauthenticate"' \
	'Cisco-AVPair = "subscriber:reauthenticate-type=last"' \
	'Cisco-AVPair = "audit-session-id=0A0A0A0B000000123456789A"' \
	'Calling-Station-Id = "00-11-22-33-44-55"' 'NAS-IP-Address = 192.0.2.7' \
	'Event-Timestamp = "' 'Message-Authenticator = 0x' 'src=127.0.0.1:'; do
	case "$line" in
	*"$a"*) ;;
	*) echo "  switch log lacks: $a"; r=1 ;;
	esac
done
[ "$(it_switch_sent 'send CoA-ACK')" -ge 1 ] || r=1
it_result "CoA-ACK over IPv4, the switch sees the Cisco reauthenticate form" "$r"

# 2. CoA-NAK with Error-Cause chosen by the switch from the session: final, not retried.
r=0
cs nak $S -t 300 -a NAKAUDIT1 -c nak503-0011 127.0.0.1 || r=1
expect nak done=1 nak=1 error_cause=503 sent=1 retransmits=0 ack=0 timeout=0 || r=1
clean nak || r=1
grep -q 'nak after 1 transmission: Error-Cause 503 (Session-Context-Not-Found)' \
	"$IT_WORK/nak.err" || { echo "  NAK not logged with its Error-Cause"; r=1; }
sleep 1		# would be past the first retransmission timer (300 ms)
[ "$(it_switch_recv 'audit-session-id=NAKAUDIT1')" -eq 1 ] || { echo "  NAK retried"; r=1; }
grep -q '^send CoA-NAK .*Error-Cause = Session-Context-Not-Found' "$SWITCH_LOG" || r=1
it_result "CoA-NAK with Error-Cause 503: logged, counted, not retried" "$r"

# 3. CoA-NAK on demand (flag file), another Error-Cause.
r=0
it_switch_nak 404
cs nakflag $S -a NAKAUDIT2 -c 00-11-22-33-44-66 127.0.0.1 || r=1
it_switch_ack
expect nakflag done=1 nak=1 error_cause=404 retransmits=0 || r=1
clean nakflag || r=1
grep -q 'Error-Cause 404 (Invalid-Request)' "$IT_WORK/nakflag.err" || r=1
cs ackagain $S -a ACKAGAIN -c 00-11-22-33-44-66 127.0.0.1 || r=1
expect ackagain ack=1 || r=1
it_result "CoA-NAK on demand (Error-Cause 404), then CoA-ACK again" "$r"

# 4. IPv6 NAS address.
if [ -n "$SWITCH_PORT6" ]; then
	r=0
	cs ack6 -s "$SECRET" -p "$SWITCH_PORT6" -a V6AUDIT -c 00-11-22-33-44-77 ::1 || r=1
	expect ack6 done=1 ack=1 retransmits=0 || r=1
	clean ack6 || r=1
	line=$(grep '^recv CoA-Request' "$SWITCH_LOG" | grep -F 'audit-session-id=V6AUDIT')
	case "$line" in
	*'NAS-IPv6-Address = ::1'*'Message-Authenticator = 0x'*'src=::1:'*) ;;
	*'src=::1:'*'NAS-IPv6-Address = ::1'*) ;;
	*) echo "  switch log: $line"; r=1 ;;
	esac
	it_result "CoA-ACK over IPv6 (NAS-IPv6-Address)" "$r"
else
	echo "SKIP: IPv6 loopback unusable: no IPv6 case"
fi

# 5. The switch takes the request but never answers: retransmissions, then timeout.
r=0
cs silent $S -t 200 -M 1000 -r 3 -a SILENT1 -c silent-0011 127.0.0.1 || r=1
expect silent done=1 timeout=1 sent=1 retransmits=3 ack=0 nak=0 || r=1
clean silent || r=1
[ "$(it_switch_recv 'audit-session-id=SILENT1')" -eq 1 ] || r=1
grep -q 'timeout after 4 transmissions: no reply' "$IT_WORK/silent.err" || r=1
it_result "no answer from the switch: 3 retransmissions, then timeout counted" "$r"

# 6. Retransmissions on the wire: byte-identical (same Id and authenticator), backoff.
r=0
cs backoff -s "$SECRET" -m blackhole -t 200 -M 5000 -r 3 -a BACKOFF -c 00-11-22-33-44-88 \
	127.0.0.1 || r=1
expect backoff peer_received=4 identical=3 timeout=1 retransmits=3 || r=1
clean backoff || r=1
gaps=$(val backoff gaps_ms)
if ! echo "$gaps" | awk -F, '{ exit !(NF == 3 && $1 >= 150 && $2 > 1.5 * $1 && $3 > 1.5 * $2) }'
then
	echo "  gaps between transmissions (ms): $gaps"
	r=1
fi
it_result "retransmissions identical, intervals doubling ($gaps ms)" "$r"

# 7. Wrong secret on the switch: it drops the request (bad Message-Authenticator).
r=0
cs wrongsec -s not-the-secret -p "$SWITCH_PORT" -t 200 -M 400 -r 1 -a WRONGSEC \
	-c 00-11-22-33-44-99 127.0.0.1 || r=1
expect wrongsec done=1 timeout=1 ack=0 retransmits=1 || r=1
clean wrongsec || r=1
grep -q 'invalid Message-Authenticator' "$SWITCH_RADLOG" || r=1
[ "$(it_switch_recv 'audit-session-id=WRONGSEC')" -eq 0 ] || r=1
it_result "wrong secret: the switch drops the request, timeout counted" "$r"

# 8. A reply signed with another secret fails verification (counted, never an ACK).
r=0
cs badreply -s "$SECRET" -m badsecret -W other-secret -t 200 -M 400 -r 2 -a BADREPLY \
	-c 00-11-22-33-44-aa 127.0.0.1 || r=1
expect badreply done=1 invalid=1 ack=0 bad_replies=3 retransmits=2 peer_received=3 || r=1
clean badreply || r=1
grep -q 'invalid Response Authenticator\|invalid Message-Authenticator' \
	"$IT_WORK/badreply.err" || r=1
it_result "reply with the wrong secret: verification fails, counted as invalid" "$r"

# 9. Replies with the wrong Id are not matched.
r=0
cs wrongid -s "$SECRET" -m wrongid -t 200 -M 400 -r 1 -a WRONGID -c 00-11-22-33-44-bb \
	127.0.0.1 || r=1
expect wrongid done=1 timeout=1 ack=0 unmatched=2 bad_replies=0 || r=1
clean wrongid || r=1
it_result "replies with the wrong Id: unmatched, timeout" "$r"

# 10. 400 sessions from 4 threads at once (the 8-bit Id space is reused).
r=0
cs many $S -T 4 -n 100 -a MANY -c many 127.0.0.1 || r=1
expect many done=400 ack=400 accepted=400 nak=0 timeout=0 invalid=0 || r=1
clean many || r=1
# Distinct sessions the switch logged (its linelog may run two records into one line).
n=$(grep -o 'audit-session-id=MANY[0-9A-F]*"' "$SWITCH_LOG" | sort -u | wc -l)
[ "$n" -eq 400 ] || { echo "  switch logged $n distinct sessions"; r=1; }
it_result "400 CoA from 4 threads: 400 ACKs ($(val many retransmits) retransmissions)" "$r"

# 11. Stop with requests in flight: dropped and counted, the thread joins at once.
r=0
cs stop -s "$SECRET" -m stop -n 20 -t 5000 -a STOP -c 00-11-22-33-44-cc 127.0.0.1 || r=1
expect stop accepted=20 all_done=1 dropped=20 leaked_blocks=0 || r=1
[ "$(val stop stop_ms)" -lt 2000 ] || r=1
it_result "stop with 20 in flight: 20 dropped, thread joined" "$r"

# 12. Queue full: beyond one in flight and two queued, requests are dropped and counted.
r=0
cs qfull -s "$SECRET" -m queuefull -n 10 -t 100 -M 100 -r 0 -a QFULL -c qf 127.0.0.1 || r=1
acc=$(val qfull accepted)
ref=$(val qfull refused)
[ $((acc + ref)) -eq 10 ] && [ "$acc" -le 3 ] && [ "$acc" -ge 2 ] || r=1
expect qfull dropped="$ref" timeout="$acc" done=10 || r=1
clean qfull || r=1
it_result "queue full: $acc accepted, $ref dropped and counted" "$r"

# 13. Bad input is refused without being counted or sent.
r=0
cs badin -s "$SECRET" -m badinput -a BADIN -c 00-11-22-33-44-dd 127.0.0.1 || r=1
expect badin counted=0 queued=0 sent=0 leaked_blocks=0 || r=1
[ "$(val badin refused)" = "$(val badin tried)" ] || r=1
cs badin2 -m badinput -a BADIN -c 00-11-22-33-44-dd 127.0.0.1 || r=1	# no secret at all
expect badin2 counted=0 queued=0 sent=0 leaked_blocks=0 || r=1
[ "$(val badin2 refused)" = "$(val badin2 tried)" ] || r=1
it_result "bad input refused ($(val badin tried) + $(val badin2 tried) calls)" "$r"

# 14. Where a request's CoA goes: the client's secret and the packet's source, or the
#     client's CoA home server (client { coa_server = ... }); never a truncated secret.
r=0
cs target -m target 127.0.0.1 || r=1
expect target target_client=192.0.2.10,0,client-secret,198.51.100.1 \
	target_home=2001:db8::5,3799,home-server-secret,2001:db8::1 target_longsecret=-1 \
	target_noclient=-1 target_null=-1 leaked_blocks=0 || r=1
it_result "CoA target from a request (client secret, CoA home server)" "$r"

it_stop_switch
echo "$IT_PASS passed, $IT_FAIL failed"
[ "$IT_FAIL" -eq 0 ]
