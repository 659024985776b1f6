#!/bin/sh
# mudctl end to end: each command on good and bad input, exit statuses, and the
# Luminaire signature (expired CA: valid at 2019-01-01, expired now, tampered).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MUDCTL:=$top_srcdir/rlm_mud/mudctl}"
: "${SHARED_DIR:=$top_srcdir/../shared}"
LUM="$SHARED_DIR/mudfiles/cisco-mud-manager/luminaire"
RFC="$SHARED_DIR/mudfiles/rfc8520/lightbulb2000.json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

# expect NAME STATUS PATTERN -- CMD...: run CMD, check exit status and that
# stdout+stderr contains PATTERN (grep -F; "" = anything).
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	"$@" >"$TMP/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ] && { [ -z "$pat" ] || grep -qF -- "$pat" "$TMP/out"; }; then
		pass=$((pass + 1))
		echo "PASS: $name"
	else
		fail=$((fail + 1))
		echo "FAIL: $name (exit $got, want $want, pattern '$pat')"
		sed 's/^/    | /' "$TMP/out" | head -20
	fi
}

# --- usage --------------------------------------------------------------
expect "help" 0 "Usage: mudctl COMMAND" -- "$MUDCTL" --help
for c in url check verify compile fetch; do
	expect "help $c" 0 "Usage: mudctl $c" -- "$MUDCTL" "$c" --help
done
expect "no command" 2 "Usage" -- "$MUDCTL"
expect "unknown command" 2 "unknown command" -- "$MUDCTL" frobnicate
expect "url without input" 2 "exactly one input" -- "$MUDCTL" url
expect "url two inputs" 2 "exactly one input" -- "$MUDCTL" url --lldp 00 --dhcp 00
expect "url bad hex" 2 "is not hex" -- "$MUDCTL" url --lldp zz

# --- url ----------------------------------------------------------------
U=https://luminaire.example.com/Luminaire_150
UHEX=$(printf '%s' "$U" | od -An -tx1 | tr -d ' \n')
LEN=$(printf '%s' "$U" | wc -c)
# 802.1AB: type 127 (7 bits) + length (9 bits) = 0xfe00 | (4 + LEN)
LLDP=$(printf 'fe%02x00005e01%s' $((4 + LEN)) "$UHEX")
expect "url lldp raw" 0 "$U" -- "$MUDCTL" url --lldp "$LLDP"
expect "url lldp avpair" 0 "$U" -- "$MUDCTL" url --lldp-avpair 'lldp-tlv=\000\177\000/\000\000^\001https://luminaire.example.com/Luminaire_150'
expect "url lldp avpair -v" 0 "source:    lldp" -- "$MUDCTL" url -v --lldp-avpair 'lldp-tlv=\000\177\000/\000\000^\001https://luminaire.example.com/Luminaire_150'
expect "url dhcpv4" 0 "$U" -- "$MUDCTL" url --dhcp "$(printf '01040a000001a1%02x%sff' "$LEN" "$UHEX")"
expect "url dhcpv6" 0 "$U" -- "$MUDCTL" url --dhcp6 "$(printf '0070%04x%s' "$LEN" "$UHEX")"
expect "url dhcp avpair" 0 "source:    dhcpv4" -- "$MUDCTL" url -v --dhcp-avpair "$(printf 'dhcp-option=\\000\\241\\000\\%03o%s' "$LEN" "$U")"
expect "url x509 ext" 0 "$U" -- "$MUDCTL" url --x509-ext "$(printf '16%02x%s' "$LEN" "$UHEX")"
expect "url http refused" 1 "MUD_ERR_URL" -- "$MUDCTL" url --url http://luminaire.example.com/x
expect "url userinfo refused" 1 "MUD_ERR_URL" -- "$MUDCTL" url --url https://u:p@luminaire.example.com/x
expect "url truncated lldp" 1 "MUD_ERR_TLV" -- "$MUDCTL" url --lldp fe2f00005e0168747470
expect "url server cert without ext" 1 "MUD_ERR_URL" -- "$MUDCTL" url --cert "$LUM/fs/MUD_FS_HTTPS_cert.pem"
expect "url cert missing file" 2 "MUD_ERR_IO" -- "$MUDCTL" url --cert "$TMP/nope.pem"

# --- check --------------------------------------------------------------
expect "check rfc example" 0 "lighting.example.com/lightbulb2000" -- "$MUDCTL" check "$RFC"
expect "check rfc example cache" 0 "48 h" -- "$MUDCTL" check "$RFC"
expect "check url match" 0 "valid" -- "$MUDCTL" check --quiet --url https://lighting.example.com/lightbulb2000 "$RFC"
expect "check url mismatch" 1 "MUD_ERR_MISMATCH" -- "$MUDCTL" check --url https://evil.example.com/lightbulb2000 "$RFC"
printf '{"ietf-mud:mud": ' >"$TMP/trunc.json"
expect "check truncated" 1 "MUD_ERR_JSON" -- "$MUDCTL" check "$TMP/trunc.json"
expect "check missing file" 2 "MUD_ERR_IO" -- "$MUDCTL" check "$TMP/none.json"
expect "check legacy strict" 1 "MUD_ERR_" -- "$MUDCTL" check "$SHARED_DIR/mudfiles/osmud/test/lightbulb2000.json"
expect "check legacy lenient" 0 "Leniencies:" -- "$MUDCTL" check --lenient "$SHARED_DIR/mudfiles/osmud/test/lightbulb2000.json"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TMP/huge.json"
expect "check too big" 1 "MUD_ERR_TOOBIG" -- "$MUDCTL" check "$TMP/huge.json"

# --- verify (Luminaire: signer CA expired 2019-07-12) ----------------------
expect "verify luminaire at 2019-01-01" 0 "signature OK" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/luminaire-cacert.pem" --at 2019-01-01
expect "verify luminaire now expired" 1 "MUD_ERR_SIG_EXPIRED" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/luminaire-cacert.pem"
cp "$LUM/fs/Luminaire_150.json" "$TMP/tampered.json"
# change one byte: the first 'a' becomes 'b'
python3 - "$TMP/tampered.json" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'a')
b[i] = ord('b')
open(p, 'wb').write(bytes(b))
PY
expect "verify luminaire tampered" 1 "MUD_ERR_SIG_DIGEST" -- \
	"$MUDCTL" verify "$TMP/tampered.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/luminaire-cacert.pem" --at 2019-01-01
expect "verify wrong anchor" 1 "MUD_ERR_SIG_UNTRUSTED" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/fs/MUD_FS_HTTPS_cert.pem" --at 2019-01-01
: >"$TMP/empty.p7s"
expect "verify empty signature" 1 "MUD_ERR_SIG_MISSING" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$TMP/empty.p7s" --ca "$LUM/luminaire-cacert.pem" --at 2019-01-01
expect "verify garbage signature" 1 "MUD_ERR_SIG" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.json" --ca "$LUM/luminaire-cacert.pem" --at 2019-01-01
expect "verify --iodef needs --url" 2 "--iodef needs --url" -- \
	"$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/luminaire-cacert.pem" --iodef "$TMP/spool"
expect "verify tampered writes an IODEF report" 1 "incident report $TMP/spool/" -- \
	"$MUDCTL" verify "$TMP/tampered.json" "$LUM/fs/Luminaire_150.p7s" --ca "$LUM/luminaire-cacert.pem" --at 2019-01-01 \
	--url https://luminaire.example.com/Luminaire_150 --iodef "$TMP/spool" --reporter csirt.example.org
n=$(ls "$TMP/spool"/*.xml 2>/dev/null | wc -l)
expect "one report in the spool" 0 "" -- test "$n" -eq 1
expect "report is valid IODEF 2.0" 0 "validates" -- env XML_CATALOG_FILES="$SHARED_DIR/schemas/catalog.xml" \
	xmllint --nonet --noout --schema "$SHARED_DIR/schemas/iodef-2.0.xsd" "$TMP/spool"/*.xml
expect "report names the reporter and the file digest" 0 'IncidentID name="csirt.example.org"' -- cat "$TMP/spool"/*.xml
expect "report carries the tampered file's sha256" 0 "$(sha256sum "$TMP/tampered.json" | cut -c1-64 | xxd -r -p | base64)" -- cat "$TMP/spool"/*.xml
expect "verify without --ca" 2 "--ca" -- "$MUDCTL" verify "$LUM/fs/Luminaire_150.json" "$LUM/fs/Luminaire_150.p7s"
expect "verify bad date" 2 "--at" -- "$MUDCTL" verify a b --ca c --at 2019-13-45

# --- compile --------------------------------------------------------------
cat >"$TMP/site.json" <<'JSON'
{ "dns": { "resolve": false, "static": { "test.example.com": ["192.0.2.10", "2001:db8::10"] } } }
JSON
printf '{ "dns": { "resolve": false } }' >"$TMP/ctx-nodns.json"
expect "compile cisco" 0 "ipv6:inacl#1=permit tcp any host 2001:db8::10 eq 443" -- \
	"$MUDCTL" compile --context "$TMP/site.json" --format cisco-dacl "$RFC"
expect "compile cisco acl name" 0 "# dACL #ACSACL#-IPV6-mud-" -- \
	"$MUDCTL" compile --context "$TMP/site.json" --format cisco-dacl "$RFC"
expect "compile nfr" 0 "permit out 6 from 2001:db8::10 443 to assigned established" -- \
	"$MUDCTL" compile --context "$TMP/site.json" --format nas-filter-rule "$RFC"
expect "compile json" 0 '"peer-name": "test.example.com"' -- \
	"$MUDCTL" compile --context "$TMP/site.json" --format json "$RFC"
expect "compile unresolved name warns" 0 'did not resolve' -- \
	"$MUDCTL" compile --warnings --context "$TMP/ctx-nodns.json" --format cisco-dacl "$RFC"
expect "compile unknown format" 2 "unknown format" -- "$MUDCTL" compile --format pdf "$RFC"
sed 's/"resolve": true/"resolve": false/' "$top_srcdir/policy/mud-context.json" >"$TMP/shipped.json"
expect "compile with the shipped example context" 0 "ipv6:inacl#2=permit icmp any any 133" -- \
	"$MUDCTL" compile --context "$TMP/shipped.json" --format cisco-dacl "$RFC"
printf '{ "bogus": 1 }' >"$TMP/ctx.json"
expect "compile bad context" 1 "MUD_ERR_CONTEXT" -- "$MUDCTL" compile --context "$TMP/ctx.json" "$RFC"

# --- fetch: argument checks (network cases are in test_fetch and integration) --
expect "fetch needs --ca" 2 "--ca" -- "$MUDCTL" fetch https://localhost/x.json --no-signature
expect "fetch needs --trust" 2 "--trust" -- "$MUDCTL" fetch https://localhost/x.json --ca "$LUM/luminaire-cacert.pem"
expect "fetch http refused" 1 "MUD_ERR_URL" -- "$MUDCTL" fetch http://localhost/x.json --ca "$LUM/luminaire-cacert.pem" --no-signature

echo "mudctl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
