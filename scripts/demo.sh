#!/bin/sh
# The demo (README "Set up, build and run the demo"):
#   1. installs the Debian packages (scripts/install-deps.sh) unless SKIP_DEPS=1,
#   2. builds rlm_mud and mudctl in _build/demo (FreeRADIUS headers fetched at build time),
#   3. starts, on 127.0.0.1 only, a local HTTPS MUD server (certificates and a MUD signer made
#      now, in a temporary directory) and the real FreeRADIUS (unprivileged options, private
#      raddb) with rlm_mud,
#   4. sends a Cisco MAB Access-Request carrying the device's LLDP MUD TLV with radclient and
#      shows the VLAN and the dACL names, then the switch's dACL download and the ACL lines,
#   5. stops everything it started (by PID) and removes the temporary directory.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	./scripts/install-deps.sh
fi

echo "== building rlm_mud (log: _build/demo/build.log)"
./autogen.sh >/dev/null 2>&1
FRINC="$TOP/_build/fr-include"
./scripts/fetch-freeradius-headers.sh "$FRINC"
mkdir -p _build/demo
(
	cd _build/demo
	{ [ -f Makefile ] || "$TOP/configure" -q --with-freeradius-include="$FRINC"; } >build.log 2>&1
	make -j"$JOBS" >>build.log 2>&1
) || { tail -30 _build/demo/build.log; exit 1; }

top_srcdir=$TOP
top_builddir=$TOP/_build/demo
export top_srcdir top_builddir
set +e
# shellcheck source=../tests/integration/lib.sh
. "$TOP/tests/integration/lib.sh"
it_require
it_setup
it_start_web
it_publish demo-device signer
it_make_raddb
it_start_radiusd

URL="$BASE/it/demo-device.json"
echo
echo "== MUD server: $BASE (HTTPS, certificate from a test CA made just now)"
echo "== FreeRADIUS with rlm_mud: 127.0.0.1:$AUTH_PORT (pid $RAD_PID)"
echo "== The device's MUD file ($URL), signed; what mudctl says of it:"
"$top_builddir/rlm_mud/mudctl" fetch "$URL" --ca "$IT_WORK/pki/ca.pem" --trust "$IT_WORK/sig/signer-ca.pem" \
	--context "$RADDB/mud-context.json" --allow-private | sed 's/^/   /'

REQ="$IT_WORK/demo-mab.txt"
MUDCTL="$top_builddir/rlm_mud/mudctl"
# The request as docs/verify.md writes it: radclient input, the LLDP AV-pair from mudctl avpair.
cat > "$REQ" <<'EOF'
User-Name = "001122334455"
User-Password = "001122334455"
Service-Type = Call-Check
Calling-Station-Id = "00-11-22-33-44-55"
NAS-IP-Address = 127.0.0.1
NAS-Port-Id = "GigabitEthernet1/0/7"
EOF
"$MUDCTL" avpair --lldp "$URL" >> "$REQ"
echo
echo "== 1. The switch authenticates the device (MAB) and forwards its LLDP MUD TLV:"
sed 's/^/   /' "$REQ"
echo
echo "== radclient -x -f mab.txt 127.0.0.1:$AUTH_PORT auth $SECRET  (mab.txt: the lines above; the"
echo "   last one is from: mudctl avpair --lldp $URL)"
IT_SETTLE=0 it_send auth "$REQ" > "$IT_WORK/demo-mab0.out"
sed -n '/^Received/,$p' "$IT_WORK/demo-mab0.out" | sed 's/^/   /'
echo
echo "== The MUD file is not cached yet: FreeRADIUS answered at once (MUD-Status = pending: the"
echo "   quarantine VLAN and filter, a short Session-Timeout, Termination-Action = RADIUS-Request)"
echo "   and fetches the file in the background. The switch comes back at the Session-Timeout, or"
echo "   at once on CoA (coa = yes); the same request a moment later:"
it_send auth "$REQ" > "$IT_WORK/demo-mab.out"
sed -n '/^Received/,$p' "$IT_WORK/demo-mab.out" | sed 's/^/   /'
NAMES=$(sed -n 's/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-[^"]*\)".*/\1/p' "$IT_WORK/demo-mab.out")
if [ -z "$NAMES" ]; then
	echo "demo: no dACL name in the reply" >&2
	IT_FAILED=1
	exit 1
fi
k=0
for n in $NAMES; do
	DL="$IT_WORK/demo-dl.txt"
	{
		echo "User-Name = \"$n\""
		echo 'Cisco-AVPair = "aaa:service=ip_admission"'
		echo 'Cisco-AVPair = "aaa:event=acl-download"'
		echo 'Message-Authenticator = 0x00'
	} > "$DL"
	echo
	echo "== 2. The switch downloads the dACL $n (radclient, as in docs/verify.md section 4):"
	k=$((k + 1))
	it_send auth "$DL" > "$IT_WORK/demo-dl-$k.out"
	sed -n '/^Received/,$p' "$IT_WORK/demo-dl-$k.out" | sed 's/^/   /'
done
# What the switch now enforces, decided by mudctl's independent evaluator from the downloaded lines.
sed -n 's/^[[:space:]]*Cisco-AVPair = "\(ipv*6*:inacl#[^"]*\)"$/\1/p' "$IT_WORK"/demo-dl-*.out \
	> "$IT_WORK/demo-acl.txt"
echo
echo "== 3. Why is a flow allowed or blocked? (mudctl explain on the lines the switch downloaded)"
"$top_builddir/rlm_mud/mudctl" explain --acl "$IT_WORK/demo-acl.txt" --device 10.1.100.7 \
	--device 2001:db8:100::7 --flow "tcp device->192.0.2.10:443" --flow "tcp device->198.51.100.7:22" \
	--flow "tcp device->[2001:db8::a]:443" | sed 's/^/   /'
echo
echo "== fetches seen by the MUD server: $(it_fetches /it/demo-device.json) of the file, $(it_fetches /it/demo-device.p7s) of the signature (one each by mudctl, one each by FreeRADIUS; the dACL downloads were served from the cache)"
echo "== stopping FreeRADIUS and the MUD server"
