#!/bin/sh
#
# iodef.sh - IODEF v2 incident reports from the real module (iodef { } in
# mods-enabled/mud), then the sender (mudctl iodef send).
#
# Run A (unsigned reports, allow_private_urls = yes, cache_fail_ttl = 1,
# cache_max_validity = 2): through MAB requests, each device (MAC) triggers one
# event: bad signatures (tampered file, rogue signer, expired signer, no
# signature), MUD server TLS (expired, wrong host, untrusted CA), mud-url
# mismatch, file not JSON, URL in url_deny (twice: one document, count 2), a
# URL conflict (LLDP and DHCP AV-pairs disagree), a URL change (same
# Calling-Station-Id, new URL), the same fetch failure twice after the negative
# cache expired (one document, count 2, evidence kept), a refresh that fails
# with a bad signature while the stale policy is served ("last good policy
# kept"), and a server that is down (not a security event: no document).
# Run B (signed reports, allow_private_urls = no): a host resolving to
# 127.0.0.1 (refused at fetch time; a second request hits the negative cache
# and is not reported again) and an IP-literal host.
# Bad iodef settings (no reporter, key not matching the certificate) stop
# the server at start-up.
#
# Every document is validated with xmllint against shared/schemas/iodef-2.0.xsd
# (FAIL if xmllint is missing) and its content checked (IDs unique, time
# zones, device, MUD server, History/actions, evidence hashes, event text,
# counts); signatures verify with "mudctl iodef verify" and fail after a byte
# changes; "mudctl iodef send" keeps the files while the receiver is down and
# delivers and removes them to tests/tools/csirt_receiver.py.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

: "${SHARED_DIR:=$top_srcdir/../shared}"
: "${MUDCTL:=$top_builddir/rlm_mud/mudctl}"

it_require
if [ ! -x "$MUDCTL" ]; then
	echo "SKIP: $MUDCTL not built"
	exit 77
fi
it_setup
C=$IT_WORK/cases
T0=$(date +%s)

XMLLINT_OK=1
if ! command -v xmllint >/dev/null 2>&1; then
	XMLLINT_OK=0
fi

it_start_web
it_start_https EXPIRED expired
it_start_https WRONGHOST wronghost
it_start_https UNTRUSTED untrusted
DOWN_PORT=$(it_free_port)	# nothing listens there

W=$IT_WORK/www/it
for n in good conflict-lldp conflict-dhcp change1 change2 stale; do
	it_publish "$n" signer
done
it_publish tamper signer
it_publish again signer
for n in tamper again; do
	sed 's/Luminaire 150/Luminaire 151/' "$W/$n.json" > "$W/$n.tmp" && mv "$W/$n.tmp" "$W/$n.json"
done
it_publish rogue rogue-signer
it_publish expsig expired-signer
it_publish nosig none
it_publish elsewhere signer
cp "$W/elsewhere.json" "$W/mismatch.json"
cp "$W/elsewhere.p7s" "$W/mismatch.p7s"
printf '{"ietf-mud:mud": {"mud-version": 1, "mud-url": ' > "$W/notjson.json"
"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" signer "$W/notjson.json" >/dev/null || exit 1

# iodef_opts SPOOL [sign]: the iodef { } subsection.
iodef_opts() {
	printf '\tiodef {\n\t\tspool_dir = "%s"\n\t\treporter = "csirt.example.com"\n' "$1"
	printf '\t\tcontact_name = "Example CSIRT"\n\t\tcontact_email = "csirt@example.com"\n'
	printf '\t\tcontact_phone = "+1 555 0100"\n\t\ttlp = %s\n' "${IODEF_TLP:-green}"
	if [ "${2:-}" = sign ]; then
		printf '\t\tsign_key = "%s"\n\t\tsign_cert = "%s"\n' \
			"$IT_WORK/sig/signer.key" "$IT_WORK/sig/signer.pem"
	fi
	printf '%s\n' "${3:-}" '	}'
}

# mab NAME MAC [lines...]: MAB request with a NAS port and id, sent; output in $C/NAME.out.
mab() {
	_n=$1
	_m=$2
	shift 2
	it_mab "$C/$_n" "$_m" "NAS-Port = 7" "NAS-Identifier = \"sw1\"" \
		"Framed-IP-Address = 192.0.2.10" "$@"
	it_send auth "$C/$_n" > "$C/$_n.out"
}
lldp_mab() { mab "$1" "$2" "$(it_avpair lldp "$3")"; }

# ---------------------------------------------------------------- run A
SPOOL_A=$IT_WORK/spoolA
MUD_FAIL_TTL=1 MUD_OPTS="	cache_max_validity = 2
$(iodef_opts "$SPOOL_A")" it_make_raddb raddbA
it_start_radiusd

# Started first: these two need a second request after some seconds.
lldp_mab stale1 02:00:00:00:01:15 "$BASE/it/stale.json"
lldp_mab again1 02:00:00:00:01:14 "$BASE/it/again.json"
TSTART=$(date +%s)

lldp_mab tamper 02:00:00:00:01:01 "$BASE/it/tamper.json"
lldp_mab rogue 02:00:00:00:01:02 "$BASE/it/rogue.json"
lldp_mab expsig 02:00:00:00:01:03 "$BASE/it/expsig.json"
lldp_mab nosig 02:00:00:00:01:04 "$BASE/it/nosig.json"
lldp_mab tls-expired 02:00:00:00:01:05 "https://localhost:$EXPIRED_PORT/it/good.json"
lldp_mab tls-host 02:00:00:00:01:06 "https://localhost:$WRONGHOST_PORT/it/good.json"
lldp_mab tls-ca 02:00:00:00:01:07 "https://localhost:$UNTRUSTED_PORT/it/good.json"
lldp_mab mismatch 02:00:00:00:01:08 "$BASE/it/mismatch.json"
lldp_mab deny1 02:00:00:00:01:09 "https://denied.example/x.json"
lldp_mab deny2 02:00:00:00:01:09 "https://denied.example/x.json"
lldp_mab notjson 02:00:00:00:01:10 "$BASE/it/notjson.json"
lldp_mab down 02:00:00:00:01:11 "https://localhost:$DOWN_PORT/it/down.json"
mab conflict 02:00:00:00:01:12 "$(it_avpair lldp "$BASE/it/conflict-lldp.json")" \
	"$(it_avpair dhcp4 "$BASE/it/conflict-dhcp.json")"
lldp_mab change1 02:00:00:00:01:13 "$BASE/it/change1.json"
lldp_mab change2 02:00-00-00-01-13 "$BASE/it/change2.json"

# The stale file's policy is past its validity (2 s) and the failure of "again"
# past cache_fail_ttl (1 s) once 3 s have gone by.
while [ $(($(date +%s) - TSTART)) -lt 3 ]; do sleep 0.2; done
sed 's/Luminaire 150/Luminaire 152/' "$W/stale.json" > "$W/stale.tmp" && mv "$W/stale.tmp" "$W/stale.json"
lldp_mab stale2 02:00:00:00:01:15 "$BASE/it/stale.json"
lldp_mab again2 02:00:00:00:01:14 "$BASE/it/again.json"

ok=0
for n in tamper rogue expsig nosig tls-expired tls-host tls-ca mismatch deny1 deny2 notjson down \
	again1 again2; do
	it_has "$C/$n.out" '"mud-status=' || ok=1
	[ "$(it_vlan "$C/$n.out")" = 999 ] || { ok=1; echo "  $n: no quarantine"; }
done
for n in conflict change1 change2 stale1 stale2; do
	[ "$(it_vlan "$C/$n.out")" = 100 ] || { ok=1; echo "  $n: policy not applied"; }
done
it_has "$C/conflict.out" '"mud-status=url-conflict"' || ok=1
it_has "$C/stale2.out" '"mud-cache=stale"' || ok=1
it_result "run A: requests answered (quarantine / policy / stale)" $ok

ok=0
grep -q "MUD URL of 020000000113 changed from $BASE/it/change1.json to $BASE/it/change2.json" \
	"$RAD_LOG" || ok=1
it_result "URL change logged (\"MUD URL of <station> changed from A to B\")" $ok
ok=0
[ "$(grep -c "rlm_mud incident [0-9TZ]*-[0-9a-f]*: " "$RAD_LOG")" -ge 14 ] || ok=1
grep -q "rlm_mud incident .*: sig-untrusted device .*url $BASE/it/rogue.json" "$RAD_LOG" || ok=1
grep -q "rlm_mud incident .*: url-refused .*(repeat: 2 occurrences)" "$RAD_LOG" || ok=1
it_result "one INFO log line per incident (mud_iodef_syslog_line)" $ok \
	"$(grep -c "rlm_mud incident" "$RAD_LOG") lines"
it_stop_radiusd

# ---------------------------------------------------------------- run B
SPOOL_B=$IT_WORK/spoolB
MUD_FAIL_TTL=60 MUD_PRIVATE=no MUD_OPTS="$(iodef_opts "$SPOOL_B" sign)" it_make_raddb raddbB
it_start_radiusd
lldp_mab private1 02:00:00:00:02:01 "$BASE/it/good.json"
lldp_mab private2 02:00:00:00:02:01 "$BASE/it/good.json"
lldp_mab literal 02:00:00:00:02:02 "https://127.0.0.1:$WEB_PORT/it/good.json"
ok=0
for n in private1 private2 literal; do
	it_has "$C/$n.out" '"mud-status=url-refused"' || ok=1
done
it_has "$C/private2.out" '"mud-cache=negative"' || ok=1
[ "$(it_fetches /it/good.json)" = 0 ] || ok=1
it_result "run B: private and IP-literal URLs refused, never fetched" $ok
it_stop_radiusd

# ---------------------------------------------------------------- start-up checks
# startup_fails NAME EXPECTED-TEXT OPTS: radiusd -C must fail with the text.
startup_fails() {
	MUD_OPTS="$3" it_make_raddb "raddb-$1"
	if [ -n "$IT_PRELOAD" ]; then
		LD_PRELOAD="$IT_PRELOAD" ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0" \
			"$FREERADIUS" -C -l stdout -d "$RADDB" > "$C/$1.cfg" 2>&1
	else
		"$FREERADIUS" -C -l stdout -d "$RADDB" > "$C/$1.cfg" 2>&1
	fi
	_rc=$?
	ok=0
	[ "$_rc" -ne 0 ] || ok=1
	grep -q "$2" "$C/$1.cfg" || ok=1
	it_result "bad iodef config stops start-up: $1" $ok "rc=$_rc $(grep -m1 iodef "$C/$1.cfg")"
}
startup_fails no-reporter "iodef: reporter, contact_name and contact_email are required" \
	"	iodef {
		spool_dir = \"$IT_WORK/spoolX\"
		contact_name = \"x\"
		contact_email = \"x@example.com\"
	}"
startup_fails key-mismatch "iodef: cannot sign with sign_key/sign_cert" \
	"$(iodef_opts "$IT_WORK/spoolX" "" | sed '$d')
		sign_key = \"$IT_WORK/sig/signer.key\"
		sign_cert = \"$IT_WORK/sig/rogue-signer.pem\"
	}"
startup_fails bad-tlp "iodef: .*purple" "$(IODEF_TLP=purple iodef_opts "$IT_WORK/spoolX")"

# ---------------------------------------------------------------- documents
ok=0
if [ "$XMLLINT_OK" -eq 1 ]; then
	XML_CATALOG_FILES=$SHARED_DIR/schemas/catalog.xml xmllint --nonet --noout \
		--schema "$SHARED_DIR/schemas/iodef-2.0.xsd" "$SPOOL_A"/*.xml "$SPOOL_B"/*.xml \
		> "$C/xmllint.out" 2>&1 || ok=1
	[ "$(grep -c ' validates$' "$C/xmllint.out")" = \
		"$(ls "$SPOOL_A"/*.xml "$SPOOL_B"/*.xml | grep -c .)" ] || ok=1
	[ "$ok" -eq 0 ] || cat "$C/xmllint.out"
	it_result "every document valid against iodef-2.0.xsd (xmllint)" $ok
else
	it_result "every document valid against iodef-2.0.xsd (xmllint)" 1 "xmllint not installed"
fi

# Expected documents: MAC|event|count|action|text|file hash|other-url
cat > "$C/expect" <<EOF
02:00:00:00:01:01|sig-invalid|1|quarantine VLAN 999 applied|ignature|yes|
02:00:00:00:01:02|sig-untrusted|1|quarantine VLAN 999 applied|unable to get local issuer|yes|
02:00:00:00:01:03|sig-expired|1|quarantine VLAN 999 applied|expired|yes|
02:00:00:00:01:04|sig-missing|1|quarantine VLAN 999 applied|signature not retrievable|yes|
02:00:00:00:01:05|tls-invalid|1|quarantine VLAN 999 applied|certificate has expired|no|
02:00:00:00:01:06|tls-invalid|1|quarantine VLAN 999 applied|no alternative certificate subject name|no|
02:00:00:00:01:07|tls-invalid|1|quarantine VLAN 999 applied|unable to get local issuer|no|
02:00:00:00:01:08|url-mismatch|1|quarantine VLAN 999 applied|elsewhere.json|yes|$BASE/it/elsewhere.json
02:00:00:00:01:09|url-refused|2|MUD URL refused; not fetched|url_deny|no|
02:00:00:00:01:10|file-invalid|1|quarantine VLAN 999 applied||yes|
02:00:00:00:01:12|url-conflict|1|MUD policy of $BASE/it/conflict-dhcp.json applied|dhcpv4 gives|no|$BASE/it/conflict-lldp.json
02:00:00:00:01:13|url-changed|1|policy of the new MUD URL applied|changed from $BASE/it/change1.json|no|$BASE/it/change1.json
02:00:00:00:01:14|sig-invalid|2|quarantine VLAN 999 applied|ignature|yes|
02:00:00:00:01:15|sig-invalid|1|last good policy kept|ignature|yes|
02:00:00:00:02:01|url-refused|1|MUD URL refused; not fetched|loopback (RFC|no|
02:00:00:00:02:02|url-refused|1|MUD URL refused; not fetched|IP address literal|no|
EOF
python3 - "$C/expect" "$W" "$SPOOL_A" "$SPOOL_B" > "$C/check.out" 2>&1 <<'PYEOF'
import base64, glob, hashlib, os, re, sys
import xml.etree.ElementTree as ET

NS = "{urn:ietf:params:xml:ns:iodef-2.0}"
TZ = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TIMES = ("DetectTime", "StartTime", "EndTime", "ReportTime", "GenerationTime", "DateTime",
         "RecoveryTime")

def out(ok, name, detail=""):
    print("%s\t%s\t%s" % ("PASS" if ok else "FAIL", name, detail))

docs = []
WWW = sys.argv[2]
for d in sys.argv[3:]:
    for f in sorted(glob.glob(os.path.join(d, "*.xml"))):
        docs.append((f, ET.parse(f).getroot()))

ids = [r.find(NS + "Incident/" + NS + "IncidentID").text for _, r in docs]
out(len(ids) == len(set(ids)) and len(ids) > 0, "IncidentIDs unique", "%d documents" % len(ids))
for (f, r), i in zip(docs, ids):
    if not os.path.basename(f).startswith(i):
        out(False, "file named after its IncidentID", f)

bad = []
for f, r in docs:
    for e in r.iter():
        tag = e.tag.replace(NS, "")
        if tag in TIMES or (tag == "AdditionalData" and e.get("dtype") == "date-time"):
            if not TZ.match((e.text or "").strip()):
                bad.append("%s %s=%r" % (os.path.basename(f), tag, e.text))
out(not bad, "every date-time has Z or an offset", "; ".join(bad[:3]))

def items(r, meaning):
    return [e.text or "" for e in r.iter(NS + "RecordItem") if e.get("meaning") == meaning]

def macs(r):
    return [e.text for e in r.iter(NS + "Address") if e.get("category") == "mac"]

used = set()
for line in open(sys.argv[1]):
    mac, event, count, action, text, hashed, other = line.rstrip("\n").split("|")
    name = "%s %s" % (event, mac)
    hits = [(f, r) for f, r in docs if mac in macs(r) and items(r, "mud-event") == [event]]
    if len(hits) != 1:
        out(False, name, "%d documents" % len(hits))
        continue
    f, r = hits[0]
    used.add(f)
    why = []
    inc = r.find(NS + "Incident")
    cnt = inc.find(NS + "Assessment/" + NS + "Counter")
    if cnt is None or cnt.text != count:
        why.append("count %s" % (cnt.text if cnt is not None else None))
    www = [s for s in r.iter(NS + "System")
           if any(n.get("category") == "www" for n in s.iter(NS + "NodeRole"))]
    if not www or not (list(www[0].iter(NS + "URL")) or list(www[0].iter(NS + "Address"))):
        why.append("MUD server not identified")
    dev = [s for s in r.iter(NS + "System")
           if any(n.get("category") == "client" for n in s.iter(NS + "NodeRole"))]
    if not dev:
        why.append("no device System")
    else:
        d = dev[0]
        if d.get("interface") != "7":
            why.append("NAS port %r" % d.get("interface"))
        if "192.0.2.10" not in [a.text for a in d.iter(NS + "Address")]:
            why.append("no Framed-IP-Address")
        if not any(a.get("meaning") == "nas-identifier" and a.text == "sw1"
                   for a in d.iter(NS + "AdditionalData")):
            why.append("no NAS-Identifier")
    hist = inc.findall(NS + "History/" + NS + "HistoryItem")
    acts = [(h.get("action"), h.find(NS + "Description").text or "") for h in hist]
    match = [a for a in acts if action in a[1]]
    if len(hist) < 2 or not match:
        why.append("History %r" % acts)
    elif "quarantine" in action and match[0][0] != "block-host":
        why.append("quarantine not block-host")
    desc = " ".join(items(r, "error-text")) + " " + (inc.find(NS + "Description").text or "")
    if text and text not in desc:
        why.append("text %r" % desc[:200])
    files = [x for x in r.iter(NS + "File")
             if (x.find(NS + "FileType").text or "") == "application/mud+json"]
    has_hash = any(list(x.iter(NS + "HashData")) for x in files)
    if (hashed == "yes") != has_hash:
        why.append("file hash %s" % has_hash)
    if has_hash:
        # The hash is of the bytes served (the files are not changed after the fetch).
        path = os.path.join(WWW, items(r, "mud-url")[0].rsplit("/", 1)[1])
        want = base64.b64encode(hashlib.sha256(open(path, "rb").read()).digest()).decode()
        got = [v.text for x in files for v in x.iter("{http://www.w3.org/2000/09/xmldsig#}DigestValue")]
        if got != [want]:
            why.append("file hash %r, want %r" % (got, want))
        if "127.0.0.1" not in [a.text for a in www[0].iter(NS + "Address")]:
            why.append("MUD server address not reported")
        if not items(r, "mud-server-certificate"):
            why.append("MUD server certificate not reported")
    if event == "tls-invalid":
        # the server that failed TLS verification: its address and the certificate it presented
        if not www or "127.0.0.1" not in [a.text for a in www[0].iter(NS + "Address")]:
            why.append("TLS: MUD server address not reported")
        if not any("BEGIN CERTIFICATE" in c for c in items(r, "mud-server-certificate")):
            why.append("TLS: the certificate presented is not reported")
    if other and items(r, "other-url") != [other]:
        why.append("other-url %r" % items(r, "other-url"))
    out(not why, name, "; ".join(why))
extra = [os.path.basename(f) + ":" + ",".join(items(r, "mud-event")) for f, r in docs if f not in used]
out(not extra, "no unexpected documents (server down: none)", " ".join(extra))
PYEOF
if ! grep -q . "$C/check.out" || grep -qv "^PASS	\|^FAIL	" "$C/check.out"; then
	cat "$C/check.out"
	it_result "document checker ran" 1
fi
while IFS='	' read -r res name detail; do
	case "$res" in
	PASS) it_result "document: $name" 0 ;;
	FAIL) it_result "document: $name" 1 "$detail" ;;
	esac
done < "$C/check.out"

# ---------------------------------------------------------------- signatures
ok=0
nsig=0
for d in "$SPOOL_B"/*.xml; do
	nsig=$((nsig + 1))
	"$MUDCTL" iodef verify "$d" "$d.p7s" --ca "$IT_WORK/sig/signer-ca.pem" \
		> "$C/verify.out" 2>&1 || { ok=1; cat "$C/verify.out"; }
	python3 - "$d" "$C/changed.xml" <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"<Description>") + len(b"<Description>")
b[i] ^= 0x01
open(sys.argv[2], "wb").write(b)
PYEOF
	if "$MUDCTL" iodef verify "$C/changed.xml" "$d.p7s" --ca "$IT_WORK/sig/signer-ca.pem" \
		> "$C/verify-bad.out" 2>&1; then
		ok=1
	fi
done
[ "$nsig" -eq 2 ] || ok=1
ls "$SPOOL_A"/*.p7s >/dev/null 2>&1 && ok=1	# run A was unsigned
it_result "signed run: mudctl iodef verify succeeds; a changed byte fails" $ok "$nsig documents"

# ---------------------------------------------------------------- sender
na=$(ls "$SPOOL_A"/*.xml | grep -c .)
RECV_PORT=$(it_free_port)
"$MUDCTL" iodef send "$SPOOL_A" --url "https://127.0.0.1:$RECV_PORT/iodef" \
	--ca "$IT_WORK/pki/ca.pem" --timeout 5 > "$C/send-down.out" 2>&1
rc=$?
ok=0
[ "$rc" -ne 0 ] || ok=1
[ "$(ls "$SPOOL_A"/*.xml | grep -c .)" = "$na" ] || ok=1
it_has "$C/send-down.out" "0 sent, $na kept" || ok=1
it_result "send: receiver down -> every file kept" $ok "rc=$rc $(head -n 2 "$C/send-down.out" | tr '\n' ' ')"

mkdir -p "$IT_WORK/recv"
python3 "$top_srcdir/tests/tools/csirt_receiver.py" --cert "$IT_WORK/pki/server.pem" \
	--key "$IT_WORK/pki/server.key" --dir "$IT_WORK/recv" --port "$RECV_PORT" \
	--portfile "$IT_WORK/recv.port" 2>"$IT_WORK/recv.err" &
RECV_PID=$!
IT_PIDS="$IT_PIDS $RECV_PID"
_i=0
while [ ! -s "$IT_WORK/recv.port" ]; do
	_i=$((_i + 1))
	if [ "$_i" -gt 100 ] || ! kill -0 "$RECV_PID" 2>/dev/null; then
		cat "$IT_WORK/recv.err"
		it_result "CSIRT receiver started" 1
		exit 1
	fi
	sleep 0.1
done

"$MUDCTL" iodef send "$SPOOL_A" --url "https://127.0.0.1:$RECV_PORT/iodef" \
	--ca "$IT_WORK/pki/ca.pem" > "$C/send-a.out" 2>&1
rc=$?
ok=0
[ "$rc" -eq 0 ] || ok=1
it_has "$C/send-a.out" "$na sent, 0 kept" || ok=1
[ "$(ls "$SPOOL_A" | grep -c .)" = 0 ] || ok=1
[ "$(ls "$IT_WORK/recv"/*.body | grep -c .)" = "$na" ] || ok=1
grep -l "application/xml" "$IT_WORK/recv"/*.ctype | grep -c . | grep -qx "$na" || ok=1
it_result "send: unsigned documents delivered and removed from the spool" $ok \
	"rc=$rc $(cat "$C/send-a.out" | tr '\n' ' ')"

"$MUDCTL" iodef send "$SPOOL_B" --url "https://127.0.0.1:$RECV_PORT/iodef" \
	--ca "$IT_WORK/pki/ca.pem" > "$C/send-b.out" 2>&1
rc=$?
ok=0
[ "$rc" -eq 0 ] || ok=1
it_has "$C/send-b.out" "2 sent, 0 kept" || ok=1
[ "$(ls "$SPOOL_B" | grep -c .)" = 0 ] || ok=1
nv=0
for d in "$IT_WORK/recv"/*.document.xml; do
	[ -f "$d" ] || continue
	"$MUDCTL" iodef verify "$d" "${d%.document.xml}.signature.p7s" \
		--ca "$IT_WORK/sig/signer-ca.pem" >/dev/null 2>&1 && nv=$((nv + 1))
done
[ "$nv" = 2 ] || ok=1
it_result "send: signed documents delivered with their signatures (verified)" $ok \
	"rc=$rc verified=$nv $(cat "$C/send-b.out" | tr '\n' ' ')"
it_stop_pid "$RECV_PID"

echo "iodef.sh: $(($(date +%s) - T0)) s"
it_finish
