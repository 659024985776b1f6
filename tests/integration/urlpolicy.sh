#!/bin/sh
#
# urlpolicy.sh - the URL policy against a hostile device (issue 9), end to end,
# in a network and mount namespace this test creates (unshare --net --mount).
#
# Inside the namespace (only "lo" exists, so no packet can leave it):
#   - a "public" MUD server on 93.184.216.34:443, an address in no IANA
#     special-purpose registry (so the policy must treat it as public); it
#     exists only on this namespace's lo;
#   - "internal" HTTPS servers on 127.0.0.1, ::1, 10.20.30.40,
#     64:ff9b::7f00:1 (a NAT64 form of 127.0.0.1) and 2002:7f00:1::1 (6to4 of
#     127.0.0.1), port 443, serving the very same files with a certificate
#     valid for every name used: if the policy let a connection through, the
#     fetch would succeed. Each logs every accepted TCP connection;
#   - tests/tools/dns_server.py on 127.0.0.53:53, the only resolver (a private
#     /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are bind-mounted in
#     the mount namespace): rebind.public.test answers 93.184.216.34 first and
#     127.0.0.1 from the second A query on;
#   - the real freeradius with the module, allow_private_urls = no,
#     url_deny = "DENIED.example. also-denied.example:0443", incident reports
#     in an IODEF spool.
#
# Each case is one MAB request announcing a MUD URL over LLDP: direct IP
# literals (IPv4, IPv6, IPv4-mapped, NAT64, 6to4), names resolving to
# loopback / RFC 1918 / NAT64 / IPv4-mapped / 6to4 addresses, a file whose
# mud-signature points inside, redirects to an internal name, a literal and a
# deny-listed spelling, DNS rebinding between the file and its signature, and
# every spelling of the deny list. Each must end in MUD-Status url-refused,
# the quarantine VLAN and one IODEF document (event url-refused, the URL or
# hop refused, the reason; the refused address when it was refused at
# connect time). Two controls must succeed (a public name; a name whose
# answer lists 127.0.0.1 before the public address). mudctl fetch, with the
# same policy, is run on the signature, rebinding, redirect, NAT64 and list
# cases (its --iodef reports too). The internal servers
# must log ZERO connections; afterwards the test itself connects to each
# (they were reachable all along).
#
# Needs root, unshare and ip (else exit 77: SKIP).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${URLPOLICY_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (it creates a network namespace)"
		exit 77
	fi
	for p in unshare ip mount curl; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "SKIP: $p not installed"
			exit 77
		fi
	done
	if ! unshare --net --mount true 2>/dev/null; then
		echo "SKIP: unshare --net --mount is not permitted here"
		exit 77
	fi
	URLPOLICY_IN_NS=1
	export URLPOLICY_IN_NS
	exec unshare --net --mount --propagation private -- /bin/sh "$0" "$@"
fi

. "$here/lib.sh"

T_START=$(date +%s)
it_require
it_setup
C=$IT_WORK/cases
W=$IT_WORK/www/it
PUB=93.184.216.34

# ---------------------------------------------------------------- the namespace
ok=0
ip link set lo up || ok=1
[ "$(ip -o link show | wc -l)" -eq 1 ] || ok=1		# lo only: nothing leaves
if [ "$ok" -ne 0 ]; then
	echo "FAIL: the namespace is not isolated (interfaces: $(ip -o link show | cut -d: -f2))"
	exit 1
fi
if ! ip -6 addr show dev lo 2>/dev/null | grep -q "inet6 ::1/128"; then
	echo "SKIP: no IPv6 on lo in the namespace"
	exit 77
fi
for a in "$PUB/32" 10.20.30.40/32; do
	ip addr add "$a" dev lo || exit 1
done
for a in 64:ff9b::7f00:1/128 2002:7f00:1::1/128; do
	ip -6 addr add "$a" dev lo nodad || exit 1
done

# Private resolver configuration (the mount namespace's copies only).
printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:2\n' > "$IT_WORK/resolv.conf"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$IT_WORK/hosts"
sed 's/^hosts:.*/hosts: files dns/' /etc/nsswitch.conf > "$IT_WORK/nsswitch.conf" 2>/dev/null ||
	printf 'hosts: files dns\n' > "$IT_WORK/nsswitch.conf"
for f in resolv.conf hosts nsswitch.conf; do
	if ! mount --bind "$IT_WORK/$f" "/etc/$f"; then
		echo "FAIL: cannot bind-mount a private /etc/$f in the mount namespace"
		exit 1
	fi
done

cat > "$IT_WORK/zone.json" <<EOF
{
  "mud.public.test": { "A": ["$PUB"], "ttl": 0 },
  "denied.example": { "A": ["$PUB"], "ttl": 0 },
  "also-denied.example": { "A": ["$PUB"], "ttl": 0 },
  "internal.test": { "A": ["127.0.0.1"], "AAAA": ["::1"], "ttl": 0 },
  "private.test": { "A": ["10.20.30.40"], "ttl": 0 },
  "nat64.public.test": { "AAAA": ["64:ff9b::7f00:1"], "ttl": 0 },
  "mapped.public.test": { "AAAA": ["::ffff:127.0.0.1"], "ttl": 0 },
  "sixtofour.public.test": { "AAAA": ["2002:7f00:1::1"], "ttl": 0 },
  "rebind.public.test": { "A": ["$PUB"], "rebind": ["127.0.0.1"], "ttl": 0 },
  "rebind2.public.test": { "A": ["$PUB"], "rebind": ["127.0.0.1"], "ttl": 0 },
  "mixed.public.test": { "A": ["127.0.0.1", "$PUB"], "ttl": 0 }
}
EOF
python3 "$top_srcdir/tests/tools/dns_server.py" --zone "$IT_WORK/zone.json" --bind 127.0.0.53 \
	--port 53 --port-file "$IT_WORK/dns.port" > "$IT_WORK/dns.log" 2>&1 &
IT_PIDS="$IT_PIDS $!"

# One certificate (by the test CA) for every name and address: a connection the policy
# let through would verify and the fetch would succeed.
cat > "$IT_WORK/ns.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = mud.public.test
[san]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @alt
[alt]
DNS.1 = *.public.test
DNS.2 = internal.test
DNS.3 = private.test
DNS.4 = denied.example
DNS.5 = also-denied.example
DNS.6 = localhost
IP.1 = $PUB
IP.2 = 127.0.0.1
IP.3 = ::1
IP.4 = 10.20.30.40
IP.5 = 64:ff9b::7f00:1
IP.6 = 2002:7f00:1::1
IP.7 = ::ffff:127.0.0.1
EOF
P=$IT_WORK/pki
if ! { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ns.key" \
	-config "$IT_WORK/ns.cnf" -out "$P/ns.csr" &&
	openssl x509 -req -in "$P/ns.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
	-days 2 -extfile "$IT_WORK/ns.cnf" -extensions san -out "$P/ns.pem"; } \
	> "$IT_WORK/ns-cert.log" 2>&1; then
	cat "$IT_WORK/ns-cert.log"
	echo "FAIL: cannot make the namespace certificate"
	exit 1
fi

# ns_https NAME ADDR: an HTTPS server on ADDR:443 serving $IT_WORK/www; NAME.log holds
# its requests, NAME.conn its accepted TCP connections.
ns_https() {
	rm -f "$IT_WORK/$1.port"
	python3 "$top_srcdir/tests/tools/https_server.py" --cert "$P/ns.pem" --key "$P/ns.key" \
		--bind "$2" --port 443 --root "$IT_WORK/www" --portfile "$IT_WORK/$1.port" \
		--log "$IT_WORK/$1.log" --connlog "$IT_WORK/$1.conn" 2>"$IT_WORK/$1.err" &
	IT_PIDS="$IT_PIDS $!"
}
INTERNAL="int4 int6 int10 intnat64 int6to4"
ns_https pub "$PUB"
ns_https int4 127.0.0.1
ns_https int6 ::1
ns_https int10 10.20.30.40
ns_https intnat64 64:ff9b::7f00:1
ns_https int6to4 2002:7f00:1::1
_i=0
for f in dns pub $INTERNAL; do
	while [ ! -s "$IT_WORK/$f.port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ]; then
			echo "FAIL: server $f did not start"
			cat "$IT_WORK/$f.err" "$IT_WORK/$f.log" 2>/dev/null
			exit 1
		fi
		sleep 0.1
	done
done

# ---------------------------------------------------------------- MUD files
# publish NAME URL [mud-signature]: $W/NAME.json for URL (signed: NAME.p7s).
publish() {
	python3 - "$top_srcdir/tests/integration/mud/device.json.in" "$W/$1.json" "$2" \
		"${3:-}" <<'EOF'
import json, sys
tmpl, out, url, sig = sys.argv[1:5]
doc = json.loads(open(tmpl).read().replace("@URL@", url))
if sig:
    doc["ietf-mud:mud"]["mud-signature"] = sig
open(out, "w").write(json.dumps(doc, indent=1))
EOF
	"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" signer "$W/$1.json" >/dev/null || exit 1
}
publish ok https://mud.public.test/it/ok.json
publish sigint https://mud.public.test/it/sigint.json https://internal.test/it/sigint.p7s
publish rebind https://rebind.public.test/it/rebind.json
publish mixed https://mixed.public.test/it/mixed.json
publish rebind2 https://rebind2.public.test/it/rebind2.json
for n in lit4 lit6 litmapped litnat64 lit6to4 name-lo name-10 name-nat64 name-mapped \
	name-6to4 deny1 deny2 deny3 deny4 redir-lit redir-name redir-deny; do
	cp "$W/ok.json" "$W/$n.json"
	cp "$W/ok.p7s" "$W/$n.p7s"
done

# ---------------------------------------------------------------- the server
# the test context, with the public MUD servers' VLAN (it_make_raddb installs it)
V='{ "vlan": 100 }'
sed "s/\"localhost\": $V/\"mud.public.test\": $V, \"mixed.public.test\": $V/" \
	"$top_srcdir/tests/integration/mud/context.json" > "$IT_WORK/context.json"
SPOOL=$IT_WORK/spool
mkdir -p "$SPOOL"
chmod 700 "$SPOOL"
MUD_PRIVATE=no MUD_OPTS="	max_redirects = 3
	iodef {
		spool_dir = \"$SPOOL\"
		reporter = \"csirt.example.com\"
		contact_name = \"Example CSIRT\"
		contact_email = \"csirt@example.com\"
	}" it_make_raddb
DENY='DENIED.example. also-denied.example:0443'
it_py_edit "$RADDB/mods-enabled/mud" \
	"s = s.replace('url_deny = \"denied.example\"', 'url_deny = \"$DENY\"')"
grep -q "url_deny = \"$DENY\"" "$RADDB/mods-enabled/mud" ||
	{ echo "FAIL: url_deny not set"; exit 1; }
it_start_radiusd

# ---------------------------------------------------------------- cases
# NAME|MAC|URL|status|reason (substring of the error text)|where (prefix)|server-ip|other-url
R='/redirect-to?url='
cat > "$C/cases" <<EOF
ok|02:00:00:00:09:01|https://mud.public.test/it/ok.json|ok||||
mixed|02:00:00:00:09:02|https://mixed.public.test/it/mixed.json|ok||||
lit4|02:00:00:00:09:10|https://127.0.0.1/it/lit4.json|url-refused|host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)|url-policy: MUD URL https://127.0.0.1/it/lit4.json||
lit6|02:00:00:00:09:11|https://[::1]/it/lit6.json|url-refused|host is an IP address literal in ::1/128 loopback (RFC 4291)|url-policy: MUD URL||
litmapped|02:00:00:00:09:12|https://[::ffff:127.0.0.1]/it/litmapped.json|url-refused|::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying 127.0.0.1 in 127.0.0.0/8 loopback|url-policy: MUD URL||
litnat64|02:00:00:00:09:13|https://[64:ff9b::7f00:1]/it/litnat64.json|url-refused|64:ff9b::/96 IPv4/IPv6 translation (NAT64) (RFC 6052) carrying 127.0.0.1|url-policy: MUD URL||
lit6to4|02:00:00:00:09:14|https://[2002:7f00:1::1]/it/lit6to4.json|url-refused|2002::/16 6to4 (RFC 3056) carrying 127.0.0.1|url-policy: MUD URL||
name-lo|02:00:00:00:09:20|https://internal.test/it/name-lo.json|url-refused|loopback|url-policy: MUD URL https://internal.test/it/name-lo.json|127.0.0.1 ::1|
name-10|02:00:00:00:09:21|https://private.test/it/name-10.json|url-refused|host resolves to 10.20.30.40, in 10.0.0.0/8 private-use (RFC 1918); not connected|url-policy: MUD URL|10.20.30.40|
name-nat64|02:00:00:00:09:22|https://nat64.public.test/it/name-nat64.json|url-refused|host resolves to 64:ff9b::7f00:1, in 64:ff9b::/96|url-policy: MUD URL|64:ff9b::7f00:1|
name-mapped|02:00:00:00:09:23|https://mapped.public.test/it/name-mapped.json|url-refused|host resolves to ::ffff:127.0.0.1, in ::ffff:0:0/96 IPv4-mapped|url-policy: MUD URL|::ffff:127.0.0.1|
name-6to4|02:00:00:00:09:24|https://sixtofour.public.test/it/name-6to4.json|url-refused|host resolves to 2002:7f00:1::1, in 2002::/16 6to4|url-policy: MUD URL|2002:7f00:1::1|
sigint|02:00:00:00:09:30|https://mud.public.test/it/sigint.json|url-refused|loopback|url-policy: signature URL https://internal.test/it/sigint.p7s|127.0.0.1 ::1|https://internal.test/it/sigint.p7s
rebind|02:00:00:00:09:31|https://rebind.public.test/it/rebind.json|url-refused|host resolves to 127.0.0.1, in 127.0.0.0/8 loopback (RFC 1122); not connected|url-policy: signature URL https://rebind.public.test/it/rebind.p7s|127.0.0.1|https://rebind.public.test/it/rebind.p7s
redir-name|02:00:00:00:09:40|https://mud.public.test${R}https://internal.test/it/redir-name.json|url-refused|loopback|url-policy: MUD URL redirect 1 https://internal.test/it/redir-name.json|127.0.0.1 ::1|https://internal.test/it/redir-name.json
redir-lit|02:00:00:00:09:41|https://mud.public.test${R}https://127.0.0.1/it/redir-lit.json|url-refused|host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)|url-policy: MUD URL redirect 1 https://127.0.0.1/it/redir-lit.json|$PUB|https://127.0.0.1/it/redir-lit.json
redir-deny|02:00:00:00:09:42|https://mud.public.test${R}https://Denied.Example.:0443/it/redir-deny.json|url-refused|authority denied.example:443 is in url_deny (entry "DENIED.example.")|url-policy: MUD URL redirect 1 https://Denied.Example.:443/it/redir-deny.json|$PUB|https://Denied.Example.:443/it/redir-deny.json
deny1|02:00:00:00:09:50|https://denied.example/it/deny1.json|url-refused|authority denied.example:443 is in url_deny (entry "DENIED.example.")|url-policy: MUD URL||
deny2|02:00:00:00:09:51|https://DENIED.EXAMPLE:0443/it/deny2.json|url-refused|authority denied.example:443 is in url_deny (entry "DENIED.example.")|url-policy: MUD URL||
deny3|02:00:00:00:09:52|https://denied.example:8443/it/deny3.json|url-refused|authority denied.example:8443 is in url_deny (entry "DENIED.example.")|url-policy: MUD URL||
deny4|02:00:00:00:09:53|https://Also-Denied.example:443/it/deny4.json|url-refused|authority also-denied.example:443 is in url_deny (entry "also-denied.example:0443")|url-policy: MUD URL||
EOF

while IFS='|' read -r name mac url status why where sip other; do
	it_lldp_mab "$C/$name" "$mac" "$url"
	it_send auth "$C/$name" > "$C/$name.out" < /dev/null
	ok=0
	it_has "$C/$name.out" "\"mud-status=$status\"" || ok=1
	if [ "$status" = ok ]; then
		it_has "$C/$name.out" "Received Access-Accept" || ok=1
		[ "$(it_vlan "$C/$name.out")" = 100 ] || ok=1
	else
		[ "$(it_vlan "$C/$name.out")" = 999 ] || ok=1
		grep -F -q "MUD $url: " "$RAD_LOG" || ok=1
		grep -F "MUD $url: " "$RAD_LOG" | grep -F -q "$why" || ok=1
	fi
	it_result "$name: $url -> $status" $ok \
		"$(it_reply_values "$C/$name.out" Reply-Message | tr '\n' ' ')" \
		"$(grep -F "MUD $url: " "$RAD_LOG" | tail -n 1)"
done < "$C/cases"

# ---------------------------------------------------------------- mudctl fetch: the same policy
MUDCTL=$top_builddir/rlm_mud/mudctl
# mudctl_case NAME EXIT TEXT URL [options]: mudctl fetch exits EXIT, stderr/stdout has TEXT.
mudctl_case() {
	_mn=$1
	_mx=$2
	_mt=$3
	shift 3
	# the module's context (static DNS names, as the server compiles them)
	"$MUDCTL" fetch "$@" --ca "$P/ca.pem" --trust "$IT_WORK/sig/signer-ca.pem" \
		--context "$RADDB/mud-context.json" --iodef "$IT_WORK/mudctl-spool" \
		> "$C/mudctl-$_mn.out" 2>&1 < /dev/null
	_mr=$?
	ok=0
	[ "$_mr" -eq "$_mx" ] || ok=1
	grep -F -q -- "$_mt" "$C/mudctl-$_mn.out" || ok=1
	it_result "mudctl fetch $_mn: exit $_mx, \"$_mt\"" $ok \
		"exit $_mr: $(tail -n 3 "$C/mudctl-$_mn.out" | tr '\n' ' ')"
}
mudctl_case ok 0 "Signed by:" https://mud.public.test/it/ok.json
mudctl_case sigint 1 "url-policy: signature URL https://internal.test/it/sigint.p7s" \
	https://mud.public.test/it/sigint.json
mudctl_case rebind 1 \
	"url-policy: signature URL https://rebind2.public.test/it/rebind2.p7s: host resolves to 127.0.0.1" \
	https://rebind2.public.test/it/rebind2.json
mudctl_case redirect 1 "url-policy: MUD URL redirect 1 https://internal.test/it/ok.json" \
	"https://mud.public.test${R}https://internal.test/it/ok.json"
mudctl_case nat64 1 "host is an IP address literal in 64:ff9b::/96" \
	"https://[64:ff9b::7f00:1]/it/ok.json"
mudctl_case deny 1 "authority denied.example:443 is in url_deny (entry \"denied.example:0443\")" \
	https://Denied.Example/it/ok.json --url-deny denied.example:0443
mudctl_case allow 1 "authority mud.public.test:443 is not in url_allow" \
	https://mud.public.test/it/ok.json --url-allow "other.example mud.public.test:8443"
ok=0
[ "$(ls "$IT_WORK/mudctl-spool"/*.xml 2>/dev/null | wc -l)" -eq 6 ] || ok=1
grep -l "url-refused" "$IT_WORK/mudctl-spool"/*.xml > /dev/null 2>&1 || ok=1
it_result "mudctl fetch --iodef: one url-refused document per refusal" $ok \
	"$(ls "$IT_WORK/mudctl-spool" 2>/dev/null | tr '\n' ' ')"

# ---------------------------------------------------------------- what the servers saw
ok=0
for s in $INTERNAL; do
	n=$(wc -l < "$IT_WORK/$s.conn")
	if [ "$n" -ne 0 ]; then
		echo "internal server $s accepted $n connection(s):"
		cat "$IT_WORK/$s.conn"
		ok=1
	fi
done
it_result "the internal servers accepted ZERO connections (127.0.0.1, ::1, 10.20.30.40, \
64:ff9b::7f00:1, 2002:7f00:1::1)" $ok

ok=0
for p in /it/ok.json /it/ok.p7s /it/mixed.json /it/mixed.p7s /it/sigint.json /it/rebind.json \
	/it/rebind2.json; do
	[ "$(it_fetches "$p" "$IT_WORK/pub.log")" -ge 1 ] || ok=1
done
# refused before any request: the deny-listed names resolve to the public server
[ "$(grep -c "^GET /it/deny\|^GET /it/redir-" "$IT_WORK/pub.log")" = 0 ] || ok=1
[ "$(it_fetches /it/rebind.p7s "$IT_WORK/pub.log")" = 0 ] || ok=1
[ "$(it_fetches /it/rebind2.p7s "$IT_WORK/pub.log")" = 0 ] || ok=1
it_result "the public server: controls, sigint and rebind files fetched; deny-listed and \
redirect targets never" \
	$ok "$(cut -d' ' -f2 "$IT_WORK/pub.log" | sort | uniq -c | tr '\n' ' ')"

# the rebinding happened: the name was asked for twice and the second answer was 127.0.0.1
ok=0
[ "$(grep -c "^query rebind.public.test A" "$IT_WORK/dns.log")" -ge 2 ] || ok=1
[ "$(grep -c "^query rebind2.public.test A" "$IT_WORK/dns.log")" -ge 2 ] || ok=1
it_result "DNS rebinding: rebind.public.test resolved twice (public, then 127.0.0.1)" $ok \
	"$(grep -c "^query rebind" "$IT_WORK/dns.log") queries"

# ---------------------------------------------------------------- incident reports
# One document per refused case (spooled when the request was answered).
python3 - "$C/cases" "$SPOOL" > "$C/iodef.out" 2>&1 <<'PYEOF'
import glob, sys
import xml.etree.ElementTree as ET

NS = "{urn:ietf:params:xml:ns:iodef-2.0}"
cases = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
docs = {}
for path in glob.glob(sys.argv[2] + "/*.xml"):
    root = ET.parse(path).getroot()
    items = {}
    for el in root.iter():
        m = el.get("meaning")
        if m and el.text:
            items.setdefault(m, el.text)
    addrs = [a.text for a in root.iter(NS + "Address") if a.text]
    mac = items.get("mac-address") or ""
    url = items.get("mud-url") or ""
    docs.setdefault(url, []).append((path, items, addrs, root))
bad = 0
refused = 0
for name, mac, url, status, why, where, sip, other in cases:
    got = docs.get(url, [])
    if status == "ok":
        if got:
            print("FAIL %s: unexpected report %s" % (name, got[0][0]))
            bad += 1
        continue
    refused += 1
    if len(got) != 1:
        print("FAIL %s: %d documents for %s" % (name, len(got), url))
        bad += 1
        continue
    path, items, addrs, root = got[0]
    problems = []
    if items.get("mud-event") != "url-refused":
        problems.append("event %r" % items.get("mud-event"))
    if items.get("error-code") != "MUD_ERR_REFUSED":
        problems.append("code %r" % items.get("error-code"))
    if not (items.get("error-where") or "").startswith(where):
        problems.append("where %r" % items.get("error-where"))
    if why not in (items.get("error-text") or ""):
        problems.append("text %r" % items.get("error-text"))
    if sip and not any(a in sip.split() for a in addrs):
        problems.append("server address %r not in %r" % (sip, addrs))
    if other and items.get("other-url") != other:
        problems.append("other-url %r" % items.get("other-url"))
    if problems:
        print("FAIL %s: %s (%s)" % (name, "; ".join(problems), path))
        bad += 1
    else:
        print("ok %s: %s | %s" % (name, items.get("error-where"), items.get("error-text")))
total = sum(len(v) for v in docs.values())
if total != refused:
    print("FAIL: %d documents for %d refused cases" % (total, refused))
    bad += 1
sys.exit(1 if bad else 0)
PYEOF
ok=$?
it_result "one IODEF document per refusal: url-refused, the URL or hop, the reason, the \
refused address" \
	$ok "$(grep FAIL "$C/iodef.out" | head -n 5 | tr '\n' ' ')"
[ "$ok" -eq 0 ] || cat "$C/iodef.out"

# ---------------------------------------------------------------- controls
# The internal servers were reachable all along: the zero above is the policy's doing.
ok=0
for t in "int4 https://127.0.0.1/it/ok.json" "int6 https://[::1]/it/ok.json" \
	"int10 https://private.test/it/ok.json" "intnat64 https://nat64.public.test/it/ok.json" \
	"int6to4 https://[2002:7f00:1::1]/it/ok.json"; do
	s=${t%% *}
	u=${t#* }
	curl -s -o /dev/null --max-time 5 --noproxy '*' --cacert "$P/ca.pem" "$u" || ok=1
	[ "$(wc -l < "$IT_WORK/$s.conn")" -eq 1 ] || ok=1
done
it_result "control: each internal server answers a direct client (one connection each)" $ok

it_stop_radiusd
T_END=$(date +%s)
echo "runtime $((T_END - T_START)) s"
echo "$IT_PASS passed, $IT_FAIL failed"
[ "$IT_FAIL" -eq 0 ]
