#!/bin/sh
#
# verify.sh - runs every command block of docs/verify.md as written (the blocks marked
# "<!-- verify: run NAME -->", in order; each one in a fresh sh, as pasted into a shell: no -e,
# radclient exits 1 on an Access-Challenge or Reject; after the settings block with this test's
# values) and checks each one's output.
#
# The server is the real FreeRADIUS on a private copy of Debian's raddb with its *default* site
# and the merge of docs/install.md (its enabling block, raddb path and dictionary path replaced
# for the copy), on 127.0.0.1:1812/1813 as the page's commands expect (SKIP if those ports are
# busy), with a local HTTPS MUD server. The documented set-up (mods-available/mud, the files
# entry, the eap CA) is done here as the page describes it.
#
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
it_require
for p in radtest eapol_test; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "SKIP: $p not installed"
		exit 77
	fi
done
if ! python3 - <<'EOF'
import socket, sys
for port in (1812, 1813):
    for kind in (socket.SOCK_DGRAM,):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            sys.exit(1)
        finally:
            s.close()
EOF
then
	echo "SKIP: 127.0.0.1:1812 or 1813 is in use (docs/verify.md's commands use them)"
	exit 77
fi
DOC="$top_srcdir/docs/verify.md"
INSTALL_DOC="$top_srcdir/docs/install.md"

it_setup
it_start_web
# A large file, so that the dACL download of the page is paged (as core.sh's "big").
python3 - "$top_srcdir/tests/integration/mud/device.json.in" "$IT_WORK/big.json.in" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().replace("@URL@", "X"))
aces = d["ietf-access-control-list:acls"]["acl"][0]["aces"]["ace"]
for i in range(150):
    aces.append({"name": "p%d" % i,
                 "matches": {"ipv4": {"protocol": 17,
                                      "destination-ipv4-network": "198.51.100.%d/32" % (i % 250)},
                             "udp": {"destination-port": {"operator": "eq", "port": 10000 + i}}},
                 "actions": {"forwarding": "accept"}})
d["ietf-mud:mud"]["mud-url"] = "@URL@"
open(sys.argv[2], "w").write(json.dumps(d, indent=1))
EOF
it_publish verify signer "$IT_WORK/big.json.in"
MUD_URL="$BASE/it/verify.json"

# ---- the server: Debian's raddb, default site, docs/install.md merge -----------------------
RADDB="$IT_WORK/raddb"
INNER_PORT=$(it_free_port)
it_copy_sys_raddb "$RADDB"
mkdir -p "$RADDB.tlscache" "$RADDB.cache"
chmod 700 "$RADDB.tlscache" "$RADDB.cache"
it_py_edit "$RADDB/radiusd.conf" "
s = re.sub(r'(?m)^raddbdir = .*$', 'raddbdir = $RADDB', s)
s = re.sub(r'(?m)^logdir = .*$', 'logdir = $IT_WORK/log', s)
s = re.sub(r'(?m)^run_dir = .*$', 'run_dir = $IT_WORK/run', s)
s = re.sub(r'(?m)^libdir = .*$', 'libdir = $MODDIR:/usr/lib/freeradius', s)
s = re.sub(r'(?m)^(\s*)(user|group) = ', r'\1#\2 = ', s)
s = re.sub(r'(?m)^proxy_requests\s*=.*$', 'proxy_requests = no', s)
s = re.sub(r'(?m)^(\s*)reject_delay = .*$', r'\1reject_delay = 0', s)
"
# default: 127.0.0.1 only (IPv6 listeners removed), its own ports 1812/1813 (port = 0).
it_py_edit "$RADDB/sites-available/default" "
blocks = re.split(r'(?m)^(?=listen \{$)', s)
out = []
for b in blocks:
    if b.startswith('listen {'):
        end = b.index('\n}\n') + 3
        head, tail = b[:end], b[end:]
        if re.search(r'(?m)^\s*ipv6addr = ::', head):
            head = ''
        head = re.sub(r'(?m)^(\s*)ipaddr = \*', r'\g<1>ipaddr = 127.0.0.1', head)
        b = head + tail
    out.append(b)
s = ''.join(out)
"
it_py_edit "$RADDB/sites-available/inner-tunnel" "s = s.replace('port = 18120', 'port = $INNER_PORT')"
it_py_edit "$RADDB/mods-available/eap" "
s = s.replace('/etc/ssl/private/ssl-cert-snakeoil.key', '$IT_WORK/pki/server.key')
s = s.replace('/etc/ssl/certs/ssl-cert-snakeoil.pem', '$IT_WORK/pki/server.pem')
s = s.replace('/etc/ssl/certs/ca-certificates.crt', '$IT_WORK/pki/ca.pem')
"
# The package's files, as a package install would put them (dictionary: in the raddb copy).
cp "$top_srcdir/dictionary/dictionary.mud" "$RADDB/dictionary.mud"
cp "$top_srcdir/policy/policy.d/mud" "$RADDB/policy.d/mud"
cp "$top_srcdir/policy/mods-available/mud" "$RADDB/mods-available/mud"
cp "$top_srcdir/tests/integration/mud/context.json" "$RADDB/mud-context.json"
# Set-up of the page: mods-available/mud options, then the files entry.
it_py_edit "$RADDB/mods-available/mud" "
s = s.replace('#\tca_file = \"\${certdir}/mud-server-cas.pem\"', '\tca_file = \"$IT_WORK/pki/ca.pem\"', 1)
s = s.replace('#\ttrust_file = \"\${certdir}/mud-signers.pem\"', '\ttrust_file = \"$IT_WORK/sig/signer-ca.pem\"', 1)
s = s.replace('#\tcontext = \"\${raddbdir}/mud-context.json\"', '\tcontext = \"$RADDB/mud-context.json\"', 1)
s = s.replace('#\tcache_dir = \"/var/lib/freeradius/mud\"', '\tcache_dir = \"$RADDB.cache\"', 1)
s = re.sub(r'(?m)^\tallow_private_urls = no$', '\tallow_private_urls = yes', s, 1)
s = re.sub(r'(?m)^\tquarantine_vlan = 0$', '\tquarantine_vlan = 999', s, 1)
"
sed -n 's/^  \(001122334455\t.*\)$/\1/p' "$DOC" | sed "s|https://mud.example.com/lightbulb2000.json|$MUD_URL|" \
	> "$IT_WORK/files.entry"
[ -s "$IT_WORK/files.entry" ] || { echo "FAIL: no files entry in docs/verify.md"; exit 1; }
cat "$IT_WORK/files.entry" "$RADDB/mods-config/files/authorize" > "$IT_WORK/authorize"
cat "$IT_WORK/authorize" > "$RADDB/mods-config/files/authorize"

# docs/install.md's enabling block, on the copy. In a sanitizer build freeradius (only it)
# runs with the ASan runtime preloaded, as it_start_radiusd does.
FR_PRE=
if [ -n "$IT_PRELOAD" ]; then
	FR_PRE="LD_PRELOAD=$IT_PRELOAD ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0"
fi
sed -n '/^<!-- verify: enable -->$/,/^```$/p' "$INSTALL_DOC" | sed '1,2d;$d' | sed \
	-e "s|^cd /etc/freeradius/3.0\$|cd $RADDB|" \
	-e "s|/usr/share/freeradius/dictionary.mud|$RADDB/dictionary.mud|" \
	-e "s|^freeradius -XC|$FR_PRE freeradius -XC -d $RADDB|" > "$IT_WORK/enable.sh"
(sh -e "$IT_WORK/enable.sh") > "$IT_WORK/enable.out" 2>&1
r=$?
grep -q "Configuration appears to be OK" "$IT_WORK/enable.out" || r=1
it_result "docs/install.md enabling block on Debian's raddb (copy)" $r "$(cat "$IT_WORK/enable.out")"
[ "$r" -eq 0 ] || exit 1
# The page's last set-up step: mud_onboard after mud_authorize.
sed -i 's/^\tmud_authorize$/&\n\tmud_onboard/' "$RADDB/sites-available/default"
chmod -R o-w "$RADDB"
it_start_radiusd

# ---- the page's blocks ---------------------------------------------------------------------
D="$IT_WORK/doc"
mkdir -p "$D/run" "$D/pki"
P="$IT_WORK/pki"
printf '%s\n' "basicConstraints = CA:FALSE" "keyUsage = digitalSignature" \
	"extendedKeyUsage = clientAuth" "1.3.6.1.5.5.7.1.25 = ASN1:IA5STRING:$MUD_URL" > "$D/pki/dev.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=idevid" \
	-keyout "$D/pki/idevid.key" -out "$D/pki/idevid.csr" 2>/dev/null &&
openssl x509 -req -in "$D/pki/idevid.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
	-days 2 -extfile "$D/pki/dev.ext" -out "$D/pki/idevid.pem" 2>/dev/null || exit 1
cat > "$D/settings.sh" <<EOF
MUD_URL=$MUD_URL
DEVICE_CERT=$D/pki/idevid.pem
DEVICE_KEY=$D/pki/idevid.key
CA_CERT=$P/ca.pem
EOF
# The page's settings block must define exactly these names.
got=$(sed -n '/^<!-- verify: settings -->$/,/^```$/p' "$DOC" | sed -n 's/^\([A-Z_]*\)=.*/\1/p' | tr '\n' ' ')
it_result "settings block names: $got" "$([ "$got" = "MUD_URL DEVICE_CERT DEVICE_KEY CA_CERT " ]; echo $?)"

# Split the page into its run blocks: $D/NN-NAME.sh
python3 - "$DOC" "$D" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^<!-- verify: run ([a-z0-9-]+) -->\n```sh\n(.*?)^```$", text, re.S | re.M)
for i, (name, body) in enumerate(blocks):
    open("%s/%02d-%s.sh" % (sys.argv[2], i, name), "w").write(body)
print(" ".join(n for n, _ in blocks))
EOF
export PATH="$top_builddir/rlm_mud:$PATH"
run_block() {
	_f=$(ls "$D"/[0-9][0-9]-"$1".sh)
	(cd "$D/run" && cat "$D/settings.sh" "$_f" | sh) > "$D/$1.out" 2>&1
}
reply_of() { sed -n '/^Received/,$p' "$1"; }
accepts() { grep -c "Received Access-Accept" "$1"; }

# Every block of the page must have a check below.
names=$(ls "$D" | sed -n 's/^[0-9][0-9]-\(.*\)\.sh$/\1/p' | tr '\n' ' ')
it_result "blocks of docs/verify.md: $names" \
	"$([ "$names" = "radtest mab-lldp mab-dhcp dacl accounting eap-tls " ]; echo $?)"

run_block radtest
r=$?
O="$D/radtest.out"
# two answers: pending (quarantine VLAN 999, Session-Timeout, RADIUS-Request), then the policy
[ "$(accepts "$O")" -eq 2 ] || r=1
awk '/^Received/ { n++ } n == 1' "$O" > "$D/radtest.1"
awk '/^Received/ { n++ } n == 2' "$O" > "$D/radtest.2"
grep -q 'Tunnel-Private-Group-Id:0 = "999"' "$D/radtest.1" &&
	grep -q "Session-Timeout = 30" "$D/radtest.1" &&
	grep -q "Termination-Action = RADIUS-Request" "$D/radtest.1" || r=1
grep -q "Tunnel-Private-Group-Id" "$D/radtest.2" && ! grep -q '"999"' "$D/radtest.2" &&
	! grep -q "Session-Timeout" "$D/radtest.2" &&
	grep -q "ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-" "$D/radtest.2" || r=1
grep -q "pending (policy being fetched in the background), quarantine VLAN 999" "$RAD_LOG" || r=1
it_result "1. radtest: registered device, URL set by policy" $r "$(cat "$O")"

run_block mab-lldp
r=$?
O="$D/mab-lldp.out"
[ "$(accepts "$O")" -eq 1 ] && grep -q "ACS:CiscoSecure-Defined-ACL=#ACSACL#-IPV6-" "$O" || r=1
it_result "2. MAB with the LLDP AV-pair" $r "$(cat "$O")"

run_block mab-dhcp
r=$?
O="$D/mab-dhcp.out"
[ "$(accepts "$O")" -eq 2 ] && [ "$(grep -c "ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-" "$O")" -eq 2 ] \
	|| r=1
grep -q 'dhcp-option=\\000\\241' "$O" && grep -q 'dhcp-option=\\000p' "$O" || r=1
it_result "3. MAB with DHCPv4 option 161 and DHCPv6 option 112" $r "$(cat "$O")"

run_block dacl
r=$?
O="$D/dacl.out"
ch=$(grep -c "Received Access-Challenge" "$O")
n=$(grep -c 'Cisco-AVPair = "ip:inacl#[0-9]*=' "$O")
last=$(grep 'Cisco-AVPair = "ip:inacl#' "$O" | tail -n 1)
[ "$ch" -ge 1 ] && [ "$(accepts "$O")" -eq 1 ] && [ "$n" -gt 150 ] || r=1
case "$last" in *"=deny "*) ;; *) r=1 ;; esac
it_result "4. dACL download: $ch challenge page(s) then Accept, $n lines" $r "$(tail -n 30 "$O")"

run_block accounting
r=$?
O="$D/accounting.out"
# The five replies in order: onboarding Accept, Response, MUD Accept, Response, onboarding Accept.
sed -n 's/^Received \(Access-Accept\|Accounting-Response\).*/\1/p; s/^[[:space:]]*Tunnel-Private-Group-Id\(:0\)\{0,1\} = "\(.*\)"/vlan \2/p; s/.*ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-.*/dacl/p' \
	"$O" | tr '\n' ' ' > "$D/accounting.seq"
want="Access-Accept vlan onboarding Accounting-Response Access-Accept dacl vlan 100 Accounting-Response Access-Accept vlan onboarding "
[ "$(cat "$D/accounting.seq")" = "$want" ] || r=1
it_result "5. onboarding VLAN; Start teaches the URL; MUD policy; Stop; onboarding again" $r \
	"got: $(cat "$D/accounting.seq")"

run_block eap-tls
r=$?
O="$D/eap-tls.out"
grep -q "^SUCCESS" "$O" && grep -q "Attribute 81 (Tunnel-Private-Group-Id)" "$O" || r=1
it_result "6. eapol_test EAP-TLS with the IDevID's MUD URL" $r "$(cat "$O")"

it_finish
