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
# Run A runs the server with TZ=Europe/Berlin (reports in local time with the
# UTC offset) and per-class restrictions, traced with strace: every spool
# file operation must come from the background writer thread ("mud-iodef"),
# none from the threads handling requests.
# Run B (signed, then encrypted to two CSIRT certificates made here, RSA and
# EC; allow_private_urls = no): a host resolving to 127.0.0.1 (refused at
# fetch time; a second request hits the negative cache and is not reported
# again) and an IP-literal host. Its spool holds only .xml.p7m files, which
# "mudctl iodef decrypt" and "openssl cms -decrypt" open.
# Then mudctl renders under several TZ values (across DST changes), with the
# timezone override, after 2038, and sealed with AES-256-CBC.
# An independent consumer (Python xml.etree with the IODEF namespaces) checks
# one named test per numbered requirement of RFC 3067 ("rfc3067 N.N: ...",
# the names docs/iodef.md cites).
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

# The CSIRT's encryption certificates (RSA and EC P-256), made now, never committed.
mkdir -p "$IT_WORK/csirt"
(
	cd "$IT_WORK/csirt" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=csirt-rsa \
		-days 2 -out rsa.pem 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key \
		-subj /CN=csirt-ec -days 2 -out ec.pem 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout other.key -subj /CN=other -days 2 -out other.pem 2>/dev/null &&
	cat rsa.pem ec.pem > both.pem
) || { it_result "CSIRT certificates made (openssl)" 1; exit 1; }
CSIRT=$IT_WORK/csirt

# iodef_opts SPOOL [sign] [extra lines]: the iodef { } subsection.
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
		"Framed-IP-Address = 192.0.2.10" "Framed-IPv6-Address = 2001:db8::10" "$@"
	it_send auth "$C/$_n" > "$C/$_n.out"
}
lldp_mab() { mab "$1" "$2" "$(it_avpair lldp "$3")"; }

# ---------------------------------------------------------------- run A
SPOOL_A=$IT_WORK/spoolA
MUD_FAIL_TTL=2 MUD_OPTS="	cache_max_validity = 2
$(iodef_opts "$SPOOL_A" "" "		restrictions = \"record = red, history = amber+strict, system = need-to-know\"
		flush_rate = 50")" it_make_raddb raddbA
export TZ=Europe/Berlin
it_start_radiusd
unset TZ
STRACE_PID=
if command -v strace >/dev/null 2>&1; then
	strace -f -y -e trace=openat,open,creat,rename,renameat,renameat2,link,unlink,write,fsync \
		-o "$IT_WORK/strace.out" -p "$RAD_PID" 2>"$IT_WORK/strace.err" &
	STRACE_PID=$!
	IT_PIDS="$IT_PIDS $STRACE_PID"
	_i=0
	while ! grep -q attached "$IT_WORK/strace.err" 2>/dev/null && [ "$_i" -lt 50 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	sleep 0.5
fi

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

# The request path does no report I/O: with a document per incident written in
# the meantime, every spool file operation the trace shows is the writer's.
if [ -n "$STRACE_PID" ]; then
	_i=0
	while [ "$(ls "$SPOOL_A"/*.xml 2>/dev/null | grep -c .)" -lt 14 ] && [ "$_i" -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	WRITER_TID=
	for _t in /proc/"$RAD_PID"/task/*; do
		[ "$(cat "$_t/comm" 2>/dev/null)" = mud-iodef ] && WRITER_TID=${_t##*/}
	done
	kill -INT "$STRACE_PID" 2>/dev/null
	wait "$STRACE_PID" 2>/dev/null
	STRACE_PID=
	ok=0
	grep -F "$SPOOL_A" "$IT_WORK/strace.out" > "$C/strace-spool" || ok=1
	nspool=$(grep -c . "$C/strace-spool")
	nwriter=$(grep -c "^$WRITER_TID " "$C/strace-spool")
	others=$(grep -v "^$WRITER_TID " "$C/strace-spool" | awk '{print $1}' | sort -u | tr '\n' ' ')
	ntids=$(awk '{print $1}' "$IT_WORK/strace.out" | sort -u | grep -c .)
	[ -n "$WRITER_TID" ] && [ "$nspool" -gt 0 ] && [ "$nspool" = "$nwriter" ] || ok=1
	it_result "request path does no report I/O (strace: all $nspool spool file calls from the writer thread $WRITER_TID; $ntids threads traced)" $ok "others: $others"
else
	it_result "request path does no report I/O (strace)" 1 "strace not installed"
fi
ok=0
[ "$(grep -c "rlm_mud incident [0-9TZ]*-[0-9a-f]*: " "$RAD_LOG")" -ge 14 ] || ok=1
grep -q "rlm_mud incident .*: sig-untrusted device .*url $BASE/it/rogue.json" "$RAD_LOG" || ok=1
grep -q "rlm_mud incident .*: url-refused .*(repeat: 2 occurrences)" "$RAD_LOG" || ok=1
it_result "one INFO log line per incident (mud_iodef_syslog_line)" $ok \
	"$(grep -c "rlm_mud incident" "$RAD_LOG") lines"
it_stop_radiusd

# ---------------------------------------------------------------- run B
SPOOL_B=$IT_WORK/spoolB
MUD_FAIL_TTL=60 MUD_PRIVATE=no MUD_OPTS="$(iodef_opts "$SPOOL_B" sign "		encrypt_cert = \"$CSIRT/both.pem\"
		timezone = UTC")" it_make_raddb raddbB
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

# Run B's spool: sealed files only; decrypted with either CSIRT key.
DECB=$IT_WORK/decB
mkdir -p "$DECB"
ok=0
nsealed=$(ls "$SPOOL_B"/*.xml.p7m 2>/dev/null | grep -c .)
[ "$nsealed" = 2 ] || ok=1
[ "$(ls "$SPOOL_B" | grep -vc '\.xml\.p7m$')" = 0 ] || ok=1	# no plaintext, no .p7s
for f in "$SPOOL_B"/*.xml.p7m; do
	[ -f "$f" ] || continue
	[ "$(stat -c %a "$f")" = 600 ] || ok=1
	b=$(basename "$f" .p7m)
	"$MUDCTL" iodef decrypt "$f" --key "$CSIRT/ec.key" --cert "$CSIRT/ec.pem" \
		--out "$DECB/$b" --ca "$IT_WORK/sig/signer-ca.pem" > "$C/decrypt.out" 2>&1 ||
		{ ok=1; cat "$C/decrypt.out"; }
	grep -q "signature OK" "$C/decrypt.out" || ok=1
	[ -s "$DECB/$b.p7s" ] || ok=1
	# the other recipient, with an independent implementation (openssl cms)
	openssl cms -decrypt -inform DER -in "$f" -recip "$CSIRT/rsa.pem" -inkey "$CSIRT/rsa.key" \
		-binary -out "$C/inner.der" 2>>"$C/decrypt.out" &&
	openssl cms -verify -inform DER -in "$C/inner.der" -CAfile "$IT_WORK/sig/signer-ca.pem" \
		-binary -out "$C/openssl.xml" 2>>"$C/decrypt.out" &&
	cmp -s "$C/openssl.xml" "$DECB/$b" || { ok=1; echo "openssl cms: $f"; cat "$C/decrypt.out"; }
	if "$MUDCTL" iodef decrypt "$f" --key "$CSIRT/other.key" --cert "$CSIRT/other.pem" \
		> /dev/null 2>"$C/decrypt-other.out"; then
		ok=1
	fi
	grep -q "CMS_decrypt: not for this key" "$C/decrypt-other.out" || ok=1
done
SPOOL_B_COPY=$IT_WORK/sealed-copy.p7m
cp "$(ls "$SPOOL_B"/*.xml.p7m | head -n 1)" "$SPOOL_B_COPY" 2>/dev/null
it_result "run B: only sealed .xml.p7m (0600) in the spool; mudctl (EC key) and openssl cms (RSA key) decrypt and verify them; another key cannot" $ok "$nsealed sealed"

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
		--schema "$SHARED_DIR/schemas/iodef-2.0.xsd" "$SPOOL_A"/*.xml "$DECB"/*.xml \
		> "$C/xmllint.out" 2>&1 || ok=1
	[ "$(grep -c ' validates$' "$C/xmllint.out")" = \
		"$(ls "$SPOOL_A"/*.xml "$DECB"/*.xml | grep -c .)" ] || ok=1
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
python3 - "$C/expect" "$W" "$SPOOL_A" "$DECB" > "$C/check.out" 2>&1 <<'PYEOF'
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

# ---------------------------------------------------------------- RFC 3067, row by row
# mudctl renders for the rows the module's events cannot show on their own: time
# zones across DST changes, the timezone override, dates after 2038, localisation,
# and the AES-256-CBC envelope.
MC=$C/mudctl
mkdir -p "$MC"
mrender() {
	_o=$1
	shift
	"$MUDCTL" iodef render --mac 02:00:00:00:09:01 --ip 192.0.2.10 --ip6 2001:db8::10 \
		--nas-ip 192.0.2.1 --nas-port 7 --url https://mud.example.com/x.json \
		--server-url https://mud.example.com/x.json "$@" > "$MC/$_o" 2>"$MC/$_o.err" ||
		{ cat "$MC/$_o.err"; it_result "mudctl iodef render $_o" 1; }
}
TZ=Europe/Berlin mrender dst-berlin.xml --event sig-untrusted --time 2026-03-29T01:00:00 \
	--first-seen 2026-03-29T00:59:59 --count 2 \
	--quarantine 'quarantine VLAN 999 applied' --action-time 2026-03-29T01:00:05 \
	--action 'CoA-Request sent to the NAS' --action-time 2026-03-29T01:00:06
TZ=America/New_York mrender dst-newyork.xml --event url-changed --time 2026-11-01T06:00:00 \
	--first-seen 2026-11-01T05:59:59 --count 2
TZ=Asia/Kolkata mrender kolkata.xml --event tls-invalid --time 2026-12-02T07:15:00
TZ=UTC mrender utc.xml --event url-mismatch --time 2026-12-02T07:15:00
TZ=Europe/Berlin mrender forced.xml --event sig-expired --time 2026-12-02T07:15:00 \
	--timezone +05:30
TZ=UTC mrender y2040.xml --event file-invalid --time 2040-01-01T00:00:00 \
	--action 'policy not applied' --action-time 2100-01-01T00:00:00
TZ=UTC mrender i18n.xml --event url-refused --lang de-CH \
	--text 'Zertifikat ungültig – 証明書 ✓ <&>' --user-name 'jürgen@beispiel.example'
"$MUDCTL" iodef render --event sig-invalid --mac 02:00:00:00:09:02 \
	--url https://mud.example.com/x.json --sign-key "$IT_WORK/sig/signer.key" \
	--sign-cert "$IT_WORK/sig/signer.pem" --encrypt-cert "$CSIRT/both.pem" \
	--encrypt-cipher aes-256-cbc --sealed-out "$MC/cbc.p7m" 2>"$MC/cbc.err" || cat "$MC/cbc.err"
openssl cms -decrypt -inform DER -in "$MC/cbc.p7m" -recip "$CSIRT/rsa.pem" \
	-inkey "$CSIRT/rsa.key" -binary -out "$MC/cbc.der" 2>"$MC/cbc.err" &&
openssl cms -verify -inform DER -in "$MC/cbc.der" -CAfile "$IT_WORK/sig/signer-ca.pem" \
	-binary -out "$MC/cbc.xml" 2>>"$MC/cbc.err" || cat "$MC/cbc.err"
openssl cms -cmsout -print -inform DER -in "$MC/cbc.p7m" > "$MC/cbc.print" 2>&1
openssl cms -cmsout -print -inform DER -in "$SPOOL_B_COPY" > "$MC/gcm.print" 2>&1
# verify with the wrong anchors: the signer is not accepted (authenticity)
"$MUDCTL" iodef verify "$(ls "$DECB"/*.xml | head -n 1)" "$(ls "$DECB"/*.xml | head -n 1).p7s" \
	--ca "$IT_WORK/sig/rogue-ca.pem" > "$MC/rogue-verify.out" 2>&1
echo "rc=$?" >> "$MC/rogue-verify.out"
if [ "$XMLLINT_OK" -eq 1 ]; then
	XML_CATALOG_FILES=$SHARED_DIR/schemas/catalog.xml xmllint --nonet --noout \
		--schema "$SHARED_DIR/schemas/iodef-2.0.xsd" "$MC"/*.xml > "$MC/xmllint.out" 2>&1
	echo "rc=$?" >> "$MC/xmllint.out"
fi

python3 - "$SPOOL_A" "$DECB" "$MC" "$top_srcdir/docs/iodef.md" "$W" > "$C/rfc.out" 2>&1 <<'PYEOF'
import base64, datetime, glob, hashlib, os, re, sys
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

N = "{urn:ietf:params:xml:ns:iodef-2.0}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
XL = "{http://www.w3.org/XML/1998/namespace}lang"
A, B, MC, DOC, WWW = sys.argv[1:6]
DT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TIMES = ("DetectTime", "StartTime", "EndTime", "ReportTime", "GenerationTime", "DateTime")

def load(pattern):
    return [(f, ET.parse(f).getroot()) for f in sorted(glob.glob(pattern))]

modA = load(os.path.join(A, "*.xml"))
modB = load(os.path.join(B, "*.xml"))
mod = modA + modB
mc = dict((os.path.basename(f), r) for f, r in load(os.path.join(MC, "*.xml")))

def out(name, ok, why=""):
    print("%s\trfc3067 %s\t%s" % ("PASS" if ok else "FAIL", name, why))

def inc(r):
    return r.find(N + "Incident")

def items(r, meaning):
    return [e.text or "" for e in r.iter(N + "RecordItem") if e.get("meaning") == meaning]

def ad(r, meaning):
    return [e.text or "" for e in inc(r).findall(N + "AdditionalData") if e.get("meaning") == meaning]

def event(r):
    return (ad(r, "mud-event") or [""])[0]

def by_event(docs, ev):
    return [(f, r) for f, r in docs if event(r) == ev]

def systems(r, role):
    return [s for s in r.iter(N + "System")
            if any(n.get("category") == role for n in s.iter(N + "NodeRole"))]

def datetimes(r):
    for e in r.iter():
        tag = e.tag.replace(N, "")
        if tag in TIMES or (tag == "AdditionalData" and e.get("dtype") == "date-time"):
            yield tag, (e.text or "").strip()

def instant(v):
    m = DT.match(v)
    if not m:
        return None
    s = v[:19]
    base = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S")
    tz = m.group(8)
    off = 0 if tz == "Z" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return base.replace(tzinfo=datetime.timezone.utc) - datetime.timedelta(seconds=off), tz, off

def check(name, f):
    try:
        why = f()
    except Exception as e:  # a crash of the check is a failure, with the reason
        why = "check raised %r" % (e,)
    out(name, not why, why or "")

# 3.1 previously published standards
def r31():
    for f, r in mod:
        if r.tag != N + "IODEF-Document" or r.get("version") != "2.00":
            return "%s: not an IODEF 2.00 document" % f
    hashed = [m for f, r in mod for m in r.iter(DS + "DigestMethod")]
    if not hashed or any(m.get("Algorithm") != "http://www.w3.org/2001/04/xmlenc#sha256" for m in hashed):
        return "no XML-DSig SHA-256 DigestMethod"
    for f, r in mod:
        for tag, v in datetimes(r):
            if not instant(v):
                return "%s %s %r is not RFC 3339" % (os.path.basename(f), tag, v)
    return None
check("3.1: published standards (RFC 7970 namespace and version, RFC 3339 times, XML-DSig digests, CMS)", r31)

# 4.1 internationalisation and localisation
def r41():
    r = mc["i18n.xml"]
    if r.get(XL) != "de-CH":
        return "xml:lang %r" % r.get(XL)
    want = "Zertifikat ungültig – 証明書 ✓ <&>"
    if want not in (inc(r).find(N + "Description").text or ""):
        return "UTF-8 text not carried"
    dev = systems(r, "client")[0]
    if not any("jürgen@beispiel.example" == (a.text or "") for a in dev.iter(N + "AdditionalData")):
        return "UTF-8 user name not carried"
    if any(r.get(XL) != "en" for f, r in mod):
        return "module documents without xml:lang en"
    return None
check("4.1: internationalisation (UTF-8, xml:lang from the configuration)", r41)

# 4.2 modularity: aggregation and filtering
def r42():
    for f, r in mod:
        if len(r.findall(N + "Incident")) != 1:
            return "%s: not one Incident" % f
        if not event(r) or not items(r, "mud-event"):
            return "%s: no filterable mud-event" % f
    agg = [r for f, r in by_event(modA, "url-refused")
           if (inc(r).find(N + "Assessment/" + N + "Counter").text or "") == "2"]
    if len(agg) != 1:
        return "the repeated url_deny refusal is not one document with Counter 2"
    fs = instant(ad(agg[0], "first-seen")[0])[0]
    ls = instant(ad(agg[0], "last-seen")[0])[0]
    if fs > ls:
        return "first-seen after last-seen"
    counts = {}
    for f, r in mod:
        counts[event(r)] = counts.get(event(r), 0) + 1
    if counts.get("sig-invalid") != 3 or counts.get("tls-invalid") != 3:
        return "filtering by event: %r" % counts
    return None
check("4.2: modularity (one Incident per document, filter by mud-event, aggregated repeats)", r42)

# 4.3 restriction on every element class
def r43():
    for f, r in modA:
        i = inc(r)
        if i.get("restriction") != "green":
            return "%s Incident restriction %r" % (f, i.get("restriction"))
        rec = i.find(N + "EventData/" + N + "Record")
        if rec is None or rec.get("restriction") != "red":
            return "%s Record restriction" % f
        h = i.find(N + "History")
        if h.get("restriction") != "ext-value" or h.get("ext-restriction") != "amber+strict":
            return "%s History restriction" % f
        if any(s.get("restriction") != "need-to-know" for s in i.iter(N + "System")):
            return "%s System restriction" % f
        if i.find(N + "Contact").get("restriction") is not None:
            return "%s Contact should inherit" % f
    return None
check("4.3: restriction settable per element class (Record red, History amber+strict, System need-to-know, rest inherits the Incident's green)", r43)

# 6.1 root element: unique identifier, purpose, default permission level
def r61():
    ids = [inc(r).find(N + "IncidentID") for f, r in mod]
    if len(set(i.text for i in ids)) != len(ids):
        return "IncidentIDs not unique"
    if any(i.get("name") != "csirt.example.com" for i in ids):
        return "IncidentID@name is not the creator"
    for f, r in mod:
        if inc(r).get("purpose") != "reporting" or not inc(r).get("restriction"):
            return "%s: purpose/restriction missing" % f
    return None
check("6.1: unique IncidentID (named by its creator), purpose, default restriction", r61)

RSIT = set("""abusive-content:spam abusive-content:harmful-speech abusive-content:violence
malicious-code:infected-system malicious-code:c2-server malicious-code:malware-distribution
malicious-code:malware-configuration information-gathering:scanner information-gathering:sniffing
information-gathering:social-engineering intrusion-attempts:ids-alert intrusion-attempts:brute-force
intrusion-attempts:exploit intrusions:privileged-account-compromise
intrusions:unprivileged-account-compromise intrusions:application-compromise
intrusions:system-compromise intrusions:burglary availability:dos availability:ddos
availability:misconfiguration availability:sabotage availability:outage
information-content-security:unauthorised-access-to-information
information-content-security:unauthorised-modification-of-information
information-content-security:data-loss information-content-security:data-leak
fraud:unauthorised-use-of-resources fraud:copyright fraud:masquerade fraud:phishing
vulnerable:weak-crypto vulnerable:ddos-amplifier vulnerable:potentially-unwanted-accessible
vulnerable:information-disclosure vulnerable:vulnerable-system other:other other:undetermined
test:test""".split())

# 6.2 attack type from a standardised list
def r62():
    for f, r in mod:
        cat = inc(r).find(N + "Assessment/" + N + "IncidentCategory").text
        if cat not in RSIT:
            return "%s: %r not an RSIT class:type" % (f, cat)
    r = by_event(modA, "sig-untrusted")[0][1]
    urls = [u.text for u in r.iter(N + "URL")]
    if "https://capec.mitre.org/data/definitions/473.html" not in urls:
        return "sig-untrusted: no CAPEC-473 reference"
    return None
check("6.2: attack type from standard lists (RSIT IncidentCategory, CAPEC Reference)", r62)

# 6.3 advisories referenced
def r63():
    r = by_event(modA, "tls-invalid")[0][1]
    refs = inc(r).findall(N + "Method/" + N + "Reference")
    urls = [x.find(N + "URL").text for x in refs]
    if "https://cwe.mitre.org/data/definitions/295.html" not in urls:
        return "no CWE-295 reference: %r" % urls
    if not any(u.startswith("https://www.rfc-editor.org/rfc/rfc8520#section-") for u in urls):
        return "no RFC 8520 reference"
    if any(not (x.find(N + "Description").text or "") for x in refs):
        return "a Reference without Description"
    return None
check("6.3: advisories referenced (Method/Reference: CWE, CAPEC, RFC 8520 section)", r63)

# 6.4 detailed description
def r64():
    r = by_event(modA, "url-mismatch")[0][1]
    d = inc(r).find(N + "Description").text or ""
    if "mud-url differs from the URL it was fetched from" not in d or "elsewhere.json" not in d:
        return "Incident/Description %r" % d[:120]
    if not (inc(r).find(N + "EventData/" + N + "Description").text or ""):
        return "no EventData/Description"
    return None
check("6.4: description of the attack (Incident and EventData Description with the error text)", r64)

# 6.5 evidence included or referenced
def r65():
    r = by_event(modA, "sig-invalid")
    r = [x for f, x in r if "02:00:00:00:01:01" in [a.text for a in x.iter(N + "Address")]][0]
    if items(r, "error-code") != ["MUD_ERR_SIG_DIGEST"] and items(r, "error-code") != ["MUD_ERR_SIG"]:
        return "error-code %r" % items(r, "error-code")
    files = [x for x in r.iter(N + "File") if x.find(N + "FileType").text == "application/mud+json"]
    want = base64.b64encode(hashlib.sha256(open(os.path.join(WWW, "tamper.json"), "rb").read()).digest()).decode()
    got = [v.text for x in files for v in x.iter(DS + "DigestValue")]
    if got != [want]:
        return "file hash %r want %r" % (got, want)
    if not [u for x in files for u in x.iter(N + "URL")]:
        return "the MUD file is not referenced by URL"
    return None
check("6.5: evidence (RecordItem error code/where/text, the served file's SHA-256 and URL in FileData)", r65)

# 6.6 attacker and victim
def r66():
    r = by_event(modA, "sig-untrusted")[0][1]
    src = [s for s in r.iter(N + "System") if s.get("category") == "source"]
    tgt = [s for s in r.iter(N + "System") if s.get("category") == "target"]
    if not src or not systems(r, "www") or src[0] is not systems(r, "www")[0]:
        return "sig-untrusted: the MUD server is not the source"
    if not tgt or tgt[0] is not systems(r, "client")[0]:
        return "sig-untrusted: the device is not the target"
    r = by_event(modA, "url-conflict")[0][1]
    src = [s for s in r.iter(N + "System") if s.get("category") == "source"]
    if not src or src[0] is not systems(r, "client")[0]:
        return "url-conflict: the device is not the source"
    return None
check("6.6: attacker and victim (System category source / target)", r66)

# 6.7 address types
def r67():
    for f, r in modA:
        dev = systems(r, "client")[0]
        cats = dict(((a.get("category"), a.get("ext-category")), a.text) for a in dev.iter(N + "Address"))
        if not re.match(r"^02:00:00:00:01:\d\d$", cats.get(("mac", None), "")):
            return "%s: MAC %r" % (f, cats)
        if cats.get(("ipv4-addr", None)) != "192.0.2.10" or cats.get(("ipv6-addr", None)) != "2001:db8::10":
            return "%s: IPv4/IPv6 %r" % (f, cats)
        if cats.get(("ext-value", "nas-port")) != "7":
            return "%s: NAS port %r" % (f, cats)
    r = by_event(modA, "tls-invalid")[0][1]
    names = [n.text for n in systems(r, "www")[0].iter(N + "Name")]
    if names != ["localhost"]:
        return "Internet name of the MUD server %r" % names
    return None
check("6.7: typed addresses (mac, ipv4-addr, ipv6-addr, ext-value nas-port; DomainData Name)", r67)

# 6.8 creator identity
def r68():
    for f, r in mod:
        c = inc(r).find(N + "Contact")
        if c is None or c.get("role") != "creator" or c.get("type") != "organization":
            return "%s: no creator Contact" % f
        if c.find(N + "ContactName").text != "Example CSIRT" or \
           c.find(N + "Email/" + N + "EmailTo").text != "csirt@example.com":
            return "%s: creator name/e-mail" % f
    return None
check("6.8: identity of the creator (Contact role=creator, IncidentID@name)", r68)

# 6.9 impact
IMPACT = {"sig-invalid": ("high", "integrity-configuration"), "tls-invalid": ("high", "traffic-redirection"),
          "url-refused": ("low", "policy"), "sig-expired": ("medium", "integrity-configuration")}
def r69():
    for ev, (sev, typ) in IMPACT.items():
        for f, r in by_event(mod, ev):
            si = inc(r).find(N + "Assessment/" + N + "SystemImpact")
            if si.get("severity") != sev or si.get("type") != typ or si.get("completion") != "failed":
                return "%s: %r" % (ev, si.attrib)
            if not (si.find(N + "Description").text or ""):
                return "%s: no impact description" % ev
    return None
check("6.9: impact (SystemImpact severity/type from RFC 7970's lists, completion, Description)", r69)

# 6.10 confidence
CONF = {"sig-invalid": "high", "sig-untrusted": "high", "sig-expired": "medium",
        "sig-missing": "medium", "sig-signer": "high", "tls-invalid": "medium",
        "url-mismatch": "high", "url-refused": "high", "url-conflict": "medium",
        "url-changed": "low", "acl-denied": "low", "file-invalid": "high", "acl-conflict": "medium"}
def r610():
    seen = set()
    for f, r in mod + [(k, v) for k, v in mc.items()]:
        a = inc(r).find(N + "Assessment")
        c = a.find(N + "Confidence")
        if c is None or c.get("rating") != CONF[event(r)]:
            return "%s (%s): rating %r" % (f, event(r), c.get("rating") if c is not None else None)
        basis = [x.text for x in a.findall(N + "AdditionalData") if x.get("meaning") == "confidence-basis"]
        if len(basis) != 1 or len(basis[0]) < 60:
            return "%s: no confidence basis" % f
        seen.add(event(r))
    return None if len(seen) >= 10 else "only %d event types seen" % len(seen)
check("6.10: confidence (Assessment/Confidence rating per event type, with its basis)", r610)

# 6.11 actions taken
def r611():
    for f, r in modA:
        hist = inc(r).findall(N + "History/" + N + "HistoryItem")
        if hist[0].get("action") != "other" or "Detected" not in hist[0].find(N + "Description").text:
            return "%s: first item is not the detection" % f
        last = hist[-1]
        if last.get("action") != "ext-value" or last.get("ext-action") != "report-sent":
            return "%s: no report-sent item" % f
        if last.find(N + "DateTime").text != inc(r).find(N + "ReportTime").text:
            return "%s: report-sent not at ReportTime" % f
        for h in hist:
            if not instant(h.find(N + "DateTime").text or ""):
                return "%s: HistoryItem without time" % f
    q = [h for f, r in by_event(modA, "sig-untrusted") for h in inc(r).iter(N + "HistoryItem")
         if h.get("action") == "block-host" and "quarantine VLAN 999 applied" in h.find(N + "Description").text]
    if len(q) != 1:
        return "quarantine not a block-host HistoryItem"
    stale = [h for f, r in modA for h in inc(r).iter(N + "HistoryItem")
             if "last good policy kept" in (h.find(N + "Description").text or "")]
    if len(stale) != 1:
        return "last good policy kept: %d items" % len(stale)
    r = mc["dst-berlin.xml"]
    acts = [(h.get("action"), h.find(N + "DateTime").text, h.find(N + "Description").text)
            for h in inc(r).iter(N + "HistoryItem")]
    if ("other", "2026-03-29T03:00:06+02:00", "CoA-Request sent to the NAS") not in acts or \
       ("block-host", "2026-03-29T03:00:05+02:00", "quarantine VLAN 999 applied") not in acts:
        return "mudctl actions with times: %r" % acts
    if not any(a[0] == "watch-and-report" for a in acts):
        return "repeats not in History"
    return None
check("6.11: actions taken, with their times (History: detection, quarantine, last good policy kept, CoA, repeats, report sent)", r611)

# 6.12 time of all stages
def r612():
    for f, r in mod:
        i = inc(r)
        for t in ("DetectTime", "StartTime", "ReportTime", "GenerationTime"):
            if i.find(N + t) is None:
                return "%s: no %s" % (f, t)
        st = instant(i.find(N + "StartTime").text)[0]
        dt = instant(i.find(N + "EventData/" + N + "DetectTime").text)[0]
        rt = instant(i.find(N + "ReportTime").text)[0]
        if not (st <= dt <= rt + datetime.timedelta(seconds=1)):
            return "%s: start %s detect %s report %s out of order" % (f, st, dt, rt)
        if i.find(N + "EventData/" + N + "Record/" + N + "RecordData/" + N + "DateTime") is None:
            return "%s: evidence without time" % f
    return None
check("6.12: time of every stage (Start, Detect, Report, Generation, evidence, each HistoryItem)", r612)

# 6.13 local time and its offset from UTC
def r613():
    berlin = ZoneInfo("Europe/Berlin")
    n = 0
    for f, r in modA:
        for tag, v in datetimes(r):
            t, tz, off = instant(v)
            want = int(t.astimezone(berlin).utcoffset().total_seconds())
            if tz == "Z" or off != want:
                return "%s %s=%s: want offset %+d s (Europe/Berlin)" % (os.path.basename(f), tag, v, want)
            n += 1
    for f, r in modB:	# timezone = UTC
        if any(instant(v)[1] != "Z" for tag, v in datetimes(r)):
            return "%s: timezone = UTC not in Z" % f
    expect = {
        "dst-berlin.xml": [("StartTime", "2026-03-29T01:59:59+01:00"), ("ReportTime", None),
                           ("DetectTime", "2026-03-29T01:59:59+01:00")],
        "dst-newyork.xml": [("StartTime", "2026-11-01T01:59:59-04:00")],
        "kolkata.xml": [("DetectTime", "2026-12-02T12:45:00+05:30")],
        "utc.xml": [("DetectTime", "2026-12-02T07:15:00Z")],
        "forced.xml": [("DetectTime", "2026-12-02T12:45:00+05:30")],
    }
    for name, pairs in expect.items():
        i = inc(mc[name])
        for tag, v in pairs:
            if v and i.find(N + tag).text != v:
                return "%s %s=%s want %s" % (name, tag, i.find(N + tag).text, v)
    for name, last in (("dst-berlin.xml", "2026-03-29T03:00:00+02:00"),
                       ("dst-newyork.xml", "2026-11-01T01:00:00-05:00")):
        if ad(mc[name], "last-seen") != [last]:
            return "%s: last-seen %r want %s (after the DST change)" % (name, ad(mc[name], "last-seen"), last)
    return None if n > 50 else "only %d module date-times" % n
check("6.13: local time with its UTC offset (module under TZ=Europe/Berlin, DST changes in Berlin and New York, +05:30, Z only for UTC, timezone override)", r613)

# 6.14 Y2K and 2038
def r614():
    i = inc(mc["y2040.xml"])
    if i.find(N + "DetectTime").text != "2040-01-01T00:00:00Z":
        return "DetectTime %r" % i.find(N + "DetectTime").text
    if "2100-01-01T00:00:00Z" not in [h.find(N + "DateTime").text for h in i.iter(N + "HistoryItem")]:
        return "a 2100 action time not reported"
    if not i.find(N + "IncidentID").text.startswith("20"):
        return "IncidentID without a four-digit year"
    return None
check("6.14: dates past 2038, four-digit years (2040 detection, 2100 action)", r614)

# 6.15 granularity not specified
def r615():
    for f, r in mod + list(mc.items()):
        for tag, v in datetimes(r):
            if not DT.match(v):
                return "%s %s %r" % (f, tag, v)
    return None
check("6.15: granularity left open (xs:dateTime; rlm_mud writes whole seconds, fractions allowed)", r615)

# 6.16 confidentiality (also the shell tests on run B's sealed spool)
def r616():
    g = open(os.path.join(MC, "gcm.print")).read()
    c = open(os.path.join(MC, "cbc.print")).read()
    if "id-smime-ct-authEnvelopedData" not in g or "aes-256-gcm" not in g.lower():
        return "module: not AES-256-GCM AuthEnvelopedData"
    if "pkcs7-envelopedData" not in c or "aes-256-cbc" not in c.lower():
        return "mudctl --encrypt-cipher aes-256-cbc: not EnvelopedData"
    for p in (g, c):
        if "rsaesOaep" not in p or "dhSinglePass-stdDH-sha256kdf-scheme" not in p:
            return "recipients are not RSA-OAEP and ECDH"
    x = ET.parse(os.path.join(MC, "cbc.xml")).getroot()
    if event(x) != "sig-invalid":
        return "decrypted CBC document"
    if len(modB) != 2:
        return "run B: %d decrypted documents" % len(modB)
    return None
check("6.16: confidentiality (CMS AuthEnvelopedData AES-256-GCM / EnvelopedData AES-256-CBC to RSA-OAEP and ECDH recipients; sign, then encrypt)", r616)

# 6.17, 6.18: shell tests (signatures); 6.18 also the wrong-anchor check here
def r618():
    o = open(os.path.join(MC, "rogue-verify.out")).read()
    if "rc=0" in o or "MUD_ERR_SIG_UNTRUSTED" not in o:
        return "a signer is accepted under foreign anchors: %r" % o[-200:]
    return None
check("6.18: authenticity (the signer chains only to the CSIRT-configured anchors)", r618)

# 6.19 extension mechanism, interpretation documented
def r619():
    doc = open(DOC, encoding="utf-8").read()
    used = set()
    for f, r in mod + list(mc.items()):
        for e in r.iter():
            if e.tag in (N + "AdditionalData", N + "RecordItem"):
                if not e.get("dtype") or not e.get("meaning"):
                    return "%s: extension without dtype/meaning" % f
                used.add(e.get("meaning"))
            for k, v in e.attrib.items():
                if k.startswith("ext-"):
                    used.add(v)
    missing = sorted(m for m in used if "`%s`" % m not in doc)
    return "not documented in docs/iodef.md: %s" % ", ".join(missing) if missing else None
check("6.19: extensions (AdditionalData/RecordItem dtype+meaning, ext-* values), each documented", r619)

# 6.20 well-defined semantics: schema-valid, parsed here independently
def r620():
    o = open(os.path.join(MC, "xmllint.out")).read()
    if "rc=0" not in o:
        return o[-300:]
    return None
check("6.20: semantics (documents valid against iodef-2.0.xsd; read by this independent parser)", r620)

# 7.1 extensible
def r71():
    r = by_event(modA, "sig-invalid")[0][1]
    i = inc(r)
    d = i.find(N + "Discovery")
    h = i.findall(N + "History/" + N + "HistoryItem")[-1]
    if d.get("source") != "ext-value" or d.get("ext-source") != "mud-manager":
        return "Discovery ext-source"
    if h.get("ext-action") != "report-sent":
        return "HistoryItem ext-action"
    c = i.find(N + "Assessment/" + N + "Counter")
    if c.get("type") != "ext-value" or c.get("ext-type") != "count":
        return "Counter ext-type"
    return None
check("7.1: extensible (ext-value enumerations: Discovery, Counter, HistoryItem, Address)", r71)
PYEOF
if ! grep -q . "$C/rfc.out" || grep -qv "^PASS	\|^FAIL	" "$C/rfc.out"; then
	cat "$C/rfc.out"
	it_result "RFC 3067 checker ran" 1
fi
while IFS='	' read -r res name detail; do
	case "$res" in
	PASS) it_result "$name" 0 ;;
	FAIL) it_result "$name" 1 "$detail" ;;
	esac
done < "$C/rfc.out"

# ---------------------------------------------------------------- signatures
ok=0
nsig=0
for d in "$DECB"/*.xml; do
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
for t in "$IT_WORK/recv"/*.ctype; do
	grep -q "^application/pkcs7-mime; smime-type=authEnveloped-data" "$t" || continue
	b=${t%.ctype}
	"$MUDCTL" iodef decrypt "$b.body" --key "$CSIRT/rsa.key" --cert "$CSIRT/rsa.pem" \
		--out "$b.xml" --ca "$IT_WORK/sig/signer-ca.pem" >/dev/null 2>&1 &&
		"$MUDCTL" iodef verify "$b.xml" "$b.xml.p7s" --ca "$IT_WORK/sig/signer-ca.pem" \
		>/dev/null 2>&1 && nv=$((nv + 1))
done
[ "$nv" = 2 ] || ok=1
it_result "send: sealed documents delivered as application/pkcs7-mime, decrypted and verified at the receiver" $ok \
	"rc=$rc verified=$nv $(cat "$C/send-b.out" | tr '\n' ' ')"
it_stop_pid "$RECV_PID"

echo "iodef.sh: $(($(date +%s) - T0)) s"
it_finish
