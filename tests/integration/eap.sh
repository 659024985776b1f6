#!/bin/sh
#
# eap.sh - EAP-TLS (eapol_test) with IDevID-like client certificates:
#   the id-pe-mud-url extension gives the policy (post-auth);
#   a certificate without it: the module does nothing (MUD-Status no-url) and
#   the site policy decides (here: EAP-TLS success without a MUD policy);
#   TLS session resumption (eapol_test -r 1, eap cache with persist_dir): the
#   extension comes back in the reply list and the second authentication also
#   gets the policy;
#   id-pe-mudsigner naming the file's signer -> policy; naming another signer
#   -> signature-invalid (quarantine), and a MAB of that URL still gets its policy (the
#   constraint is checked per device, never cached as a failure of the URL);
#   a policy cached for a device without a constraint (MAB) is not served to a
#   device whose certificate names another signer (signature-invalid, incident
#   spooled, nothing fetched again); one naming its signer gets it from the cache.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

it_require
if ! command -v eapol_test >/dev/null 2>&1; then
	echo "SKIP: eapol_test not installed"
	exit 77
fi
it_setup
it_start_web
for n in x509 resume signer-ok signer-bad signer-cached; do
	it_publish "$n" signer
done
SPOOL=$IT_WORK/spool
MUD_OPTS="	iodef {
		spool_dir = \"$SPOOL\"
		reporter = \"csirt.example.com\"
		contact_name = \"Example CSIRT\"
		contact_email = \"csirt@example.com\"
	}" it_make_raddb
it_start_radiusd
C=$IT_WORK/cases
P=$IT_WORK/pki

# DER of a certificate's subject Name, as hex (for the id-pe-mudsigner extension).
subject_der_hex() {
	openssl x509 -in "$1" -outform DER | python3 -c '
import sys
d = sys.stdin.buffer.read()
def tlv(b, i):
    t = b[i]; l = b[i + 1]; h = 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i + 2:i + 2 + n], "big"); h += n
    return t, i + h, i + h + l
_, s, _ = tlv(d, 0)              # Certificate
_, i, _ = tlv(d, s)              # TBSCertificate contents start
t, _, e = tlv(d, i)
if t == 0xa0: i = e              # [0] version
for _ in range(4):               # serial, signature, issuer, validity
    _, _, i = tlv(d, i)
_, _, e = tlv(d, i)              # subject
print(d[i:e].hex())
'
}

# device NAME [extension lines...]: a client certificate from the test CA.
device() {
	dn=$1
	shift
	printf '%s\n' "basicConstraints = CA:FALSE" "keyUsage = digitalSignature" \
		"extendedKeyUsage = clientAuth" "$@" > "$P/$dn.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$dn" \
		-keyout "$P/$dn.key" -out "$P/$dn.csr" 2>/dev/null &&
	openssl x509 -req -in "$P/$dn.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
		-days 2 -extfile "$P/$dn.ext" -out "$P/$dn.pem" 2>/dev/null || exit 1
	printf '%s\n' "network={" "	key_mgmt=WPA-EAP" "	eap=TLS" "	identity=\"$dn\"" \
		"	ca_cert=\"$P/ca.pem\"" "	client_cert=\"$P/$dn.pem\"" \
		"	private_key=\"$P/$dn.key\"" "	eapol_flags=0" "}" > "$C/$dn.conf"
}

# eap NAME [eapol_test options]: run it, output in $C/NAME.out
eap() {
	en=$1
	shift
	timeout 60 eapol_test -c "$C/$en.conf" -a 127.0.0.1 -p "$AUTH_PORT" -s "$SECRET" "$@" \
		> "$C/$en.out" 2>&1
}

# eap_settled NAME [options]: eap, again every 0.1 s while the answer is pending (the policy
# is fetched in the background; a switch re-authenticates at Session-Timeout or on CoA).
eap_settled() {
	eap "$@"
	_en=0
	while accept_msgs "$C/$1.out" | grep -qx "mud-status=pending" && [ $_en -lt 100 ]; do
		sleep 0.1
		eap "$@"
		_en=$((_en + 1))
	done
}

# Reply-Messages of the Access-Accepts eapol_test received, one per line.
accept_msgs() {
	python3 - "$1" <<'PYEOF'
import re, sys
text = open(sys.argv[1], errors="replace").read()
for m in re.finditer(r"Attribute 18 \(Reply-Message\) length=\d+\n\s+Value: '([^']*)'", text):
    print(m.group(1))
PYEOF
}
vlans() { grep -o "Attribute 81 (Tunnel-Private-Group-Id) length=[0-9]*" "$1" | grep -c .; }
MUD_EXT() { echo "1.3.6.1.5.5.7.1.25 = ASN1:IA5STRING:$BASE/it/$1.json"; }

# 1. The MUD URL extension.
device dev-url "$(MUD_EXT x509)"
eap_settled dev-url
ok=0
grep -q "^SUCCESS" "$C/dev-url.out" || ok=1
[ "$(it_fetches /it/x509.json)" = 1 ] || ok=1
grep -q "MUD URL .*x509.json (from x509)" "$RAD_LOG" || ok=1
accept_msgs "$C/dev-url.out" | grep -qx "mud-status=ok" || ok=1
it_result "eap-tls: MUD URL from the certificate" $ok "$(accept_msgs "$C/dev-url.out" | tr '\n' ' ')"

# 2. No extension: noop, no-url; EAP-TLS itself succeeds (site policy), no VLAN.
device dev-plain
eap dev-plain
ok=0
grep -q "^SUCCESS" "$C/dev-plain.out" || ok=1
accept_msgs "$C/dev-plain.out" | grep -qx "mud-status=no-url" || ok=1
[ "$(vlans "$C/dev-plain.out")" = 0 ] || ok=1
it_result "eap-tls: certificate without the extension -> no-url, site policy" $ok \
	"$(accept_msgs "$C/dev-plain.out" | tr '\n' ' ')"

# 3. Resumption: two authentications, the second resumed; both get the policy.
# (the policy fetched first: a full authentication until it is no longer pending)
device dev-resume "$(MUD_EXT resume)"
eap_settled dev-resume
mark=$(wc -l < "$RAD_LOG")
eap dev-resume -r 1
ok=0
grep -q "^SUCCESS" "$C/dev-resume.out" || ok=1
[ "$(grep -c "EAP-Session-Resumed := 1" "$RAD_LOG")" = 1 ] || ok=1
[ "$(accept_msgs "$C/dev-resume.out" | grep -cx "mud-status=ok")" = 2 ] || ok=1
[ "$(tail -n +"$((mark + 1))" "$RAD_LOG" | grep -c "MUD URL .*resume.json (from x509)")" = 2 ] ||
	ok=1
[ "$(it_fetches /it/resume.json)" = 1 ] || ok=1
it_result "eap-tls: session resumption keeps the policy" $ok \
	"$(accept_msgs "$C/dev-resume.out" | tr '\n' ' ')"

# 4. id-pe-mudsigner naming the test signer -> policy.
device dev-signer-ok "$(MUD_EXT signer-ok)" \
	"1.3.6.1.5.5.7.1.30 = DER:$(subject_der_hex "$IT_WORK/sig/signer.pem")"
eap_settled dev-signer-ok
ok=0
grep -q "^SUCCESS" "$C/dev-signer-ok.out" || ok=1
accept_msgs "$C/dev-signer-ok.out" | grep -qx "mud-status=ok" || ok=1
it_result "eap-tls: mud-signer names the file's signer -> ok" $ok \
	"$(accept_msgs "$C/dev-signer-ok.out" | tr '\n' ' ')"

# 5. id-pe-mudsigner naming another signer -> signature-invalid, quarantine.
device dev-signer-bad "$(MUD_EXT signer-bad)" \
	"1.3.6.1.5.5.7.1.30 = DER:$(subject_der_hex "$IT_WORK/sig/rogue-signer.pem")"
eap_settled dev-signer-bad
ok=0
grep -q "^SUCCESS" "$C/dev-signer-bad.out" || ok=1
accept_msgs "$C/dev-signer-bad.out" | grep -qx "mud-status=signature-invalid" || ok=1
[ "$(vlans "$C/dev-signer-bad.out")" = 1 ] || ok=1
grep -q "URL $BASE/it/signer-bad.json: signature-invalid: .*rogue" "$RAD_LOG" || ok=1
it_result "eap-tls: mud-signer names another signer -> signature-invalid" $ok \
	"$(accept_msgs "$C/dev-signer-bad.out" | tr '\n' ' ')"

# 5b. That device's constraint is its own: the URL's policy is not a failure for a device
#     without one (the fetch is the URL's; the mud-signer is checked per device).
it_lldp_mab "$C/mab-signer-bad" 02:00:00:00:05:01 "$BASE/it/signer-bad.json"
it_send auth "$C/mab-signer-bad" > "$C/mab-signer-bad.out"
ok=0
it_has "$C/mab-signer-bad.out" '"mud-status=ok"' || ok=1
it_result "mab: the same URL without a mud-signer -> ok (one device's constraint is not cached)" \
	$ok "$(it_reply_values "$C/mab-signer-bad.out" Reply-Message | tr '\n' ' ')"

# 6. The cache is keyed by URL: a policy fetched for a MAB device (no certificate, no
#    constraint) must not reach a device whose certificate names another signer
#    (RFC 8520 section 11); a device naming the file's signer gets it from the cache.
it_lldp_mab "$C/mab-cached" 02:00:00:00:06:01 "$BASE/it/signer-cached.json"
it_send auth "$C/mab-cached" > "$C/mab-cached.out"
ok=0
it_has "$C/mab-cached.out" '"mud-status=ok"' || ok=1
[ "$(it_fetches /it/signer-cached.json)" = 1 ] || ok=1
it_result "mab: policy of signer-cached.json fetched and cached (no constraint)" $ok \
	"$(it_reply_values "$C/mab-cached.out" Reply-Message | tr '\n' ' ')"

mark=$(wc -l < "$RAD_LOG")
device dev-cached-bad "$(MUD_EXT signer-cached)" \
	"1.3.6.1.5.5.7.1.30 = DER:$(subject_der_hex "$IT_WORK/sig/rogue-signer.pem")"
eap_settled dev-cached-bad
tail -n +"$((mark + 1))" "$RAD_LOG" > "$C/cached-bad.log"
ok=0
grep -q "^SUCCESS" "$C/dev-cached-bad.out" || ok=1
accept_msgs "$C/dev-cached-bad.out" | grep -qx "mud-status=signature-invalid" || ok=1
accept_msgs "$C/dev-cached-bad.out" | grep -qx "mud-cache=hit" || ok=1
[ "$(vlans "$C/dev-cached-bad.out")" = 1 ] || ok=1
grep -q "MUD station .* URL $BASE/it/signer-cached.json: signature-invalid: cached policy signed by \"[^\"]*CN=mud-signer[^\"]*\", the certificate requires \"[^\"]*rogue" \
	"$C/cached-bad.log" || ok=1
grep -q "rlm_mud incident .*signer-cached.json" "$C/cached-bad.log" || ok=1
[ "$(it_fetches /it/signer-cached.json)" = 1 ] || ok=1	# decided from the cache
_i=0
while ! grep -l "signer-cached.json" "$SPOOL"/*.xml >/dev/null 2>&1 && [ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
grep -l "signer-cached.json" "$SPOOL"/*.xml 2>/dev/null | xargs grep -l "cached policy signed by" \
	>/dev/null 2>&1 || ok=1
it_result "eap-tls: cached policy (fetched for MAB) of another signer than the certificate's mud-signer -> signature-invalid, IODEF incident" \
	$ok "$(accept_msgs "$C/dev-cached-bad.out" | tr '\n' ' ')"

device dev-cached-ok "$(MUD_EXT signer-cached)" \
	"1.3.6.1.5.5.7.1.30 = DER:$(subject_der_hex "$IT_WORK/sig/signer.pem")"
eap_settled dev-cached-ok
ok=0
grep -q "^SUCCESS" "$C/dev-cached-ok.out" || ok=1
accept_msgs "$C/dev-cached-ok.out" | grep -qx "mud-status=ok" || ok=1
accept_msgs "$C/dev-cached-ok.out" | grep -qx "mud-cache=hit" || ok=1
[ "$(it_fetches /it/signer-cached.json)" = 1 ] || ok=1
it_result "eap-tls: cached policy whose signer the certificate names -> ok (from the cache)" \
	$ok "$(accept_msgs "$C/dev-cached-ok.out" | tr '\n' ' ')"

it_finish
