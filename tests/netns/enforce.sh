#!/bin/sh
#
# enforce.sh - the NIST SP 1800-15 scenarios decided by REAL packets on a Linux gateway:
# rlm_mud with enforce = nftables (docs/enforce.md), in network namespaces this script
# creates and deletes (nothing outside them is touched).
#
#   gateway   bridge br0 (192.0.2.1/24, 2001:db8:1::1/64) with the device and the local
#             hosts as ports, a routed uplink to "internet"; the real FreeRADIUS + rlm_mud,
#             the HTTPS MUD server, radclient, eapol_test (all on its 127.0.0.1)
#   device    the device under test (lab.tsv addresses, its own MAC)
#   local     the local hosts of lab.tsv (same bridge, on-link)
#   internet  the internet hosts of lab.tsv (routed through the gateway)
#
# Each scenario admits the device as the switch would (MAB with the URL in a DHCP or LLDP
# AV-pair, EAP-TLS with the URL in the IDevID), then every flow of its group in
# tests/conformance/flows.tsv (rows for "any" and "nas-filter-rule": nftables enforces both
# directions) is tried with a real TCP/UDP connection or ping, in IPv4 and IPv6, and the
# Accounting Stop must leave no rule behind. Output: PASS|FAIL: ID v4|v6 (nftables; ...).
#
# A slow suite: runs only with MUD_SLOW_SUITES=1 (scripts/test.sh sets it in one build);
# exits 77 without it, without root, ip, nftables kernel support, br_netfilter, FreeRADIUS
# or a module built with the nftables backend.
#   --write-results FILE   the per-scenario results (TSV) for docs/conformance.md
#   --only ID[,ID]         some scenarios
# IT_KEEP=1 keeps the work directory.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
MUDCTL=${MUDCTL:-$top_builddir/rlm_mud/mudctl}
export MUDCTL

skip() {
	echo "SKIP: $*"
	exit 77
}

INSIDE=0
RESULTS_OUT=${RESULTS_OUT:-}
ONLY=${ONLY:-}
while [ $# -gt 0 ]; do
	case $1 in
	--inside) INSIDE=1 ;;
	--write-results) RESULTS_OUT=${2:-}; shift ;;
	--only) ONLY="$ONLY $(printf '%s' "${2:-}" | tr ',' ' ')"; shift ;;
	*) echo "enforce.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
export RESULTS_OUT ONLY

# ---------------------------------------------------------------- outside: the namespaces

if [ "$INSIDE" = 0 ]; then
	[ "${MUD_SLOW_SUITES:-0}" = 1 ] || skip "slow suite (set MUD_SLOW_SUITES=1 to run it)"
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	for p in ip python3 ping; do
		command -v "$p" >/dev/null 2>&1 || skip "$p not installed"
	done
	[ -x "$MUDCTL" ] || skip "$MUDCTL not built"
	if "$MUDCTL" enforce show 2>&1 | grep -q "built without"; then
		skip "rlm_mud built without the nftables backend"
	fi
	case $RESULTS_OUT in ""|/*) ;; *) RESULTS_OUT=$(pwd)/$RESULTS_OUT ;; esac

	P="mudt$$"
	GW=$P-gw
	DEV=$P-dev
	LOC=$P-loc
	NET=$P-net
	NSS="$GW $DEV $LOC $NET"
	cleanup_ns() {
		for ns in $NSS; do
			[ -e "/run/netns/$ns" ] || continue
			# processes this suite started inside its namespaces, by PID
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill "$pid" 2>/dev/null
			done
		done
		sleep 0.2
		for ns in $NSS; do
			[ -e "/run/netns/$ns" ] || continue
			for pid in $(ip netns pids "$ns" 2>/dev/null); do
				kill -9 "$pid" 2>/dev/null
			done
			ip netns del "$ns" 2>/dev/null
		done
	}
	trap cleanup_ns EXIT
	trap 'exit 1' INT TERM
	for ns in $NSS; do
		ip netns add "$ns" 2>/dev/null || skip "cannot create network namespaces"
		ip -n "$ns" link set lo up
	done
	gw() { ip netns exec "$GW" "$@"; }

	# nftables with conntrack, and br_netfilter, in the gateway namespace
	gw sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables &&
		echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables' 2>/dev/null ||
		skip "no br_netfilter (net.bridge.bridge-nf-call-iptables)"
	if ! gw "$MUDCTL" enforce apply 02:00:00:00:00:fe --quarantine >/dev/null 2>"/tmp/$P.err"; then
		msg=$(cat "/tmp/$P.err")
		rm -f "/tmp/$P.err"
		skip "no nftables support in this kernel ($msg)"
	fi
	rm -f "/tmp/$P.err"
	gw "$MUDCTL" enforce flush --all >/dev/null 2>&1

	addr() { awk -v n="$1" -v f="$2" '!/^#/ && $1 == n { print (f == 4 ? $3 : $4) }' \
		"$top_srcdir/tests/conformance/lab.tsv"; }
	DEVMAC=02:cf:00:00:00:01

	gw ip link add br0 type bridge
	gw ip link set br0 up
	gw ip addr add 192.0.2.1/24 dev br0
	gw ip addr add 2001:db8:1::1/64 dev br0 nodad
	gw sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# device and local hosts: bridge ports
	for pair in "$DEV:vdev" "$LOC:vloc"; do
		ns=${pair%%:*}
		port=${pair#*:}
		ip link add "$port" netns "$GW" type veth peer name eth0 netns "$ns"
		gw ip link set "$port" master br0 up
		ip -n "$ns" link set eth0 up
	done
	ip -n "$DEV" link set eth0 address "$DEVMAC"
	ip -n "$DEV" addr add "$(addr device 4)/24" dev eth0
	ip -n "$DEV" addr add "$(addr device 6)/64" dev eth0 nodad
	ip -n "$DEV" route add default via 192.0.2.1
	ip -n "$DEV" -6 route add default via 2001:db8:1::1
	ip -n "$DEV" route add 198.51.100.0/24 dev eth0
	ip -n "$DEV" -6 route add fd00:10::/64 dev eth0
	for h in $(awk '!/^#/ && $2 == "local" { print $1 }' "$top_srcdir/tests/conformance/lab.tsv"); do
		ip -n "$LOC" addr add "$(addr "$h" 4)/24" dev eth0
		ip -n "$LOC" addr add "$(addr "$h" 6)/64" dev eth0 nodad
	done
	ip -n "$LOC" route add 192.0.2.0/24 dev eth0
	ip -n "$LOC" -6 route add 2001:db8:1::/64 dev eth0
	# internet: routed
	ip link add up0 netns "$GW" type veth peer name eth0 netns "$NET"
	gw ip link set up0 up
	gw ip addr add 203.0.113.1/24 dev up0
	gw ip addr add 2001:db8:99::1/64 dev up0 nodad
	ip -n "$NET" link set eth0 up
	for h in $(awk '!/^#/ && $2 == "internet" { print $1 }' "$top_srcdir/tests/conformance/lab.tsv"); do
		ip -n "$NET" addr add "$(addr "$h" 4)/24" dev eth0
		ip -n "$NET" addr add "$(addr "$h" 6)/64" dev eth0 nodad
	done
	ip -n "$NET" route add default via 203.0.113.1
	ip -n "$NET" -6 route add default via 2001:db8:99::1
	sleep 1	# bridge ports forwarding

	NS_DEV=$DEV NS_LOC=$LOC NS_NET=$NET NS_GW=$GW DEVMAC=$DEVMAC \
		ip netns exec "$GW" sh "$0" --inside
	rc=$?
	exit $rc
fi

# ---------------------------------------------------------------- inside the gateway

. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/conformance/cflib.sh"
it_require
FLOWS=$top_srcdir/tests/conformance/flows.tsv
LAB=$top_srcdir/tests/conformance/lab.tsv

wanted() {
	[ -z "$ONLY" ] && return 0
	for w in $ONLY; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

START=$(date +%s)
it_setup
CF_RESULTS=$IT_WORK/results.tsv
: > "$CF_RESULTS"
it_start_web
B4=$(cf_base 4 "$WEB_PORT")
cf_context "$IT_WORK/context.json.tmp" "$B4/cf/abs-my-controller.json" \
	"$B4/cf/abs-my-controller.json" || exit 1
# + the site services a bridged device needs (DHCP, IPv6 neighbour discovery)
python3 - "$IT_WORK/context.json.tmp" "$IT_WORK/context.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["services"] = {"dhcp": True, "ipv6-nd": True}
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF

MUD_OPTS="	enforce = nftables
	enforce_bridge = br0
	enforce_table = rlm_mud
	cache_max_validity = 2"
it_make_raddb raddb-enforce
it_start_radiusd

# How long a flow may take to be answered: packets between namespaces take microseconds,
# and the gateway knows the device's addresses before the flows (prime).
WAIT=${ENFORCE_WAIT:-0.5}
DEV4=$(cf_addr device 4)
DEV6=$(cf_addr device 6)

# ns_of NAME: the namespace of a lab name (device, local or internet host)
ns_of() {
	if [ "$1" = device ]; then echo "$NS_DEV"; return; fi
	case $(awk -v n="$1" '!/^#/ && $1 == n { print $2 }' "$LAB") in
	local) echo "$NS_LOC" ;;
	internet) echo "$NS_NET" ;;
	esac
}
# addr_of NAME FAMILY: the address (the device's current one)
addr_of() {
	if [ "$1" = device ]; then
		if [ "$2" = 6 ]; then echo "$DEV6"; else echo "$DEV4"; fi
		return
	fi
	cf_addr "$1" "$2"
}

# flow FAMILY "PROTO A[:P]->B[:P]" -> permit|deny (real packets; A initiates)
flow() {
	fam=$1
	set -- $2
	proto=$1
	left=${2%%->*}
	right=${2#*->}
	a=${left%%:*}
	ap=
	case $left in *:*) ap=${left#*:} ;; esac
	b=${right%%:*}
	bp=
	case $right in *:*) bp=${right#*:} ;; esac
	ans=$(ns_of "$a")
	bns=$(ns_of "$b")
	aaddr=$(addr_of "$a" "$fam")
	baddr=$(addr_of "$b" "$fam")
	if [ "$proto" = icmp ]; then
		if ip netns exec "$ans" ping -c 1 -W "$WAIT" -I "$aaddr" "$baddr" >/dev/null 2>&1; then
			echo permit
		else
			echo deny
		fi
		return
	fi
	rdy=$IT_WORK/ready.$$
	rm -f "$rdy"
	ip netns exec "$bns" python3 "$here/probe.py" listen "$proto" "$baddr" "$bp" \
		--ready "$rdy" --life 10 2>/dev/null &
	lpid=$!
	i=0
	while [ ! -s "$rdy" ] && [ $i -lt 50 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if ip netns exec "$ans" python3 "$here/probe.py" connect "$proto" "$baddr" "$bp" \
		--src "$aaddr" ${ap:+--sport "$ap"} --timeout "$WAIT"; then
		v=permit
	else
		v=deny
	fi
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	echo "$v"
}

# flows GROUP FAMILY: every row of the group for nftables, into the current case
flows() {
	grp=$1
	fam=$2
	awk -F'\t+' -v g="$grp" '!/^#/ && NF >= 4 && $1 == g &&
		($2 == "any" || $2 == "nas-filter-rule") { print $3 "|" $4 }' "$FLOWS" > "$CF_T/flows"
	while IFS='|' read -r f exp; do
		got=$(flow "$fam" "$f")
		CF_NFLOWS=$((CF_NFLOWS + 1))
		echo "$f: expect $exp, got $got" >> "$CF_T/flows.out"
		if [ "$got" = "$exp" ]; then cf_ok "$f"; else cf_bad "$f: $got, expected $exp"; fi
	done < "$CF_T/flows"
}

# prime: the gateway learns the device's addresses (as any traffic of the device does)
prime() {
	ip netns exec "$NS_DEV" ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
	ip netns exec "$NS_DEV" ping -c 1 -W 1 2001:db8:1::1 >/dev/null 2>&1
	ping -c 1 -W 1 "$DEV4" >/dev/null 2>&1
	ping -c 1 -W 1 "$DEV6" >/dev/null 2>&1
}

# cf_diag: printed after a failed case (cflib.sh): the replies, radclient's errors, the load,
# the module's table and the end of radius.log, to tell a server that did not answer from
# rules installed or removed at the wrong time.
cf_diag() {
	echo "---- $CF_ID $CF_FAM: diagnostics at $(date +%T) (load: $(cut -d' ' -f1-3 /proc/loadavg))"
	for _df in "$CF_T"/rep "$CF_T"/*.rep; do
		[ -f "$_df" ] && { echo "-- $_df"; tail -n 12 "$_df"; }
	done
	echo "-- radclient errors"
	tail -n 8 "$IT_WORK/radclient.err" 2>/dev/null
	echo "-- mudctl enforce show"
	"$MUDCTL" enforce show 2>&1 | head -n 5
	echo "-- radius.log: the last lines"
	tail -n 80 "$RAD_LOG" | cut -c1-240
	echo "----"
}

# installed: is the device in the module's nftables table (mudctl enforce show)?
installed() {
	"$MUDCTL" enforce show 2>/dev/null | grep -q "^$DEVMAC"
}

# admit KIND URL -> reply in $CF_T/rep (kind: dhcp4, dhcp6, lldp, none)
admit() {
	if [ "$1" = none ]; then
		it_mab "$CF_T/req" "$DEVMAC"
	else
		it_mab "$CF_T/req" "$DEVMAC" "$(it_avpair "$1" "$2")"
	fi
	it_send auth "$CF_T/req" > "$CF_T/rep"
	if it_has "$CF_T/rep" "Received Access-Accept"; then cf_ok accept; else
		cf_bad "not accepted ($(it_code "$CF_T/rep"))"; fi
}

# stop: Accounting Stop; the device's rules must be gone
stop() {
	{
		echo "Acct-Status-Type = Stop"
		echo "Calling-Station-Id = \"$DEVMAC\""
		echo "User-Name = \"$DEVMAC\""
		echo "Acct-Session-Id = \"enf-$$\""
		echo "NAS-IP-Address = 127.0.0.1"
	} > "$CF_T/stop"
	it_send acct "$CF_T/stop" > "$CF_T/stop.rep"
	if installed; then cf_bad "rules left after Accounting Stop"; else cf_ok "removed at Stop"; fi
}

# status: the MUD-Status of the last reply must be $1, and rules must be installed
expect_status() {
	mst=$(cf_status "$CF_T/rep")
	[ "$mst" = "$1" ] && cf_ok status || cf_bad "MUD-Status '$mst', not $1"
	if installed; then cf_ok installed; else cf_bad "no rules installed for $DEVMAC"; fi
}

# ---------------------------------------------------------------- scenarios

sc_policy() {	# ID FAMILY KIND TEMPLATE GROUP
	cf_begin "$1" "v$2" nftables
	url=$(cf_publish "$B4" "$1-v$2" signer "$4")
	admit "$3" "$url"
	expect_status ok
	prime
	flows "$5" "$2"
	stop
	cf_end
}

sc_quarantine() {	# ID FAMILY STATUS SIGNER|tls:CERT
	cf_begin "$1" "v$2" nftables
	case $4 in
	tls:*)
		cert=${4#tls:}
		sv=$(echo "TLS_$cert" | tr 'a-z-' 'A-Z_')
		if [ -z "$(eval echo "\${${sv}_PORT:-}")" ]; then it_start_https "$sv" "$cert"; fi
		url=$(cf_publish "https://localhost:$(eval echo "\$${sv}_PORT")" "$1-v$2" signer device)
		;;
	*)
		url=$(cf_publish "$B4" "$1-v$2" "$4" device)
		if [ "$1" = sig-modified ]; then
			sed -i 's/"port": 443/"port": 444/' "$IT_WORK/www/cf/$1-v$2.json"
		fi
		;;
	esac
	admit lldp "$url"
	expect_status "$3"
	prime
	flows quarantine "$2"
	stop
	cf_end
}

# idevid URL: the device certificate $CF_T/dev.{pem,key} with id-pe-mud-url = URL
idevid() {
	printf '%s\n' "basicConstraints = critical, CA:FALSE" "keyUsage = critical, digitalSignature" \
		"extendedKeyUsage = clientAuth" "1.3.6.1.5.5.7.1.25 = ASN1:IA5STRING:$1" \
		> "$CF_T/ext.cnf"
	{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CF_T/dev.key" &&
		openssl req -new -key "$CF_T/dev.key" -subj "/CN=enf-device" -out "$CF_T/dev.csr" &&
		openssl x509 -req -in "$CF_T/dev.csr" -CA "$IT_WORK/pki/ca.pem" \
			-CAkey "$IT_WORK/pki/ca.key" -set_serial "0x$(openssl rand -hex 8)" -days 2 \
			-extfile "$CF_T/ext.cnf" -out "$CF_T/dev.pem"; } >"$CF_T/openssl.log" 2>&1
}

# wait_for COND SECONDS: poll a shell condition until it holds
wait_for() {
	_w=0
	while ! eval "$1"; do
		_w=$((_w + 1))
		[ "$_w" -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# enforced URL N: fetch_mode = background answers a new URL pending (quarantine rules) and
# installs the policy's rules when the fetch settles; wait (15 s at most) until that was done
# N times for url (default once)
enforced() {
	wait_for "[ \"\$(grep -F 'MUD enforce: rules of $1 installed for' \"\$RAD_LOG\" |
		grep -c 'by its background fetch')\" -ge ${2:-1} ]" 15
}

# hostapd as the NAS: its wired driver on the device's bridge port, wpa_supplicant (wired)
# in the device doing EAP-TLS with the IDevID; the logoff makes hostapd send the Stop
sc_hostapd() {
	cf_begin hostapd-wired "v$1" nftables
	if ! command -v hostapd >/dev/null 2>&1 || ! command -v wpa_supplicant >/dev/null 2>&1; then
		cf_bad "hostapd or wpa_supplicant not installed"
		cf_end
		return
	fi
	url=$(cf_publish "$B4" "hostapd-v$1" signer device)
	if ! idevid "$url"; then
		cf_bad "cannot make the device certificate"
		cf_end
		return
	fi
	printf '%s\n' interface=vdev driver=wired logger_stdout=-1 logger_stdout_level=1 \
		ieee8021x=1 eap_reauth_period=0 use_pae_group_addr=1 own_ip_addr=127.0.0.1 \
		nas_identifier=enf-gateway auth_server_addr=127.0.0.1 \
		"auth_server_port=$AUTH_PORT" "auth_server_shared_secret=$SECRET" \
		acct_server_addr=127.0.0.1 "acct_server_port=$ACCT_PORT" \
		"acct_server_shared_secret=$SECRET" > "$CF_T/hostapd.conf"
	printf '%s\n' "ap_scan=0" "ctrl_interface=$CF_T/wpa" "network={" "	key_mgmt=IEEE8021X" \
		"	eap=TLS" \
		"	identity=\"enf-device\"" "	ca_cert=\"$IT_WORK/pki/ca.pem\"" \
		"	client_cert=\"$CF_T/dev.pem\"" "	private_key=\"$CF_T/dev.key\"" \
		"	eapol_flags=0" "}" > "$CF_T/supplicant.conf"
	hostapd "$CF_T/hostapd.conf" > "$CF_T/hostapd.log" 2>&1 &
	hpid=$!
	IT_PIDS="$IT_PIDS $hpid"
	sleep 0.5
	ip netns exec "$NS_DEV" wpa_supplicant -D wired -i eth0 -c "$CF_T/supplicant.conf" \
		> "$CF_T/supplicant.log" 2>&1 &
	spid=$!
	IT_PIDS="$IT_PIDS $spid"
	if wait_for installed 15; then cf_ok "installed after EAP-TLS through hostapd"; else
		cf_bad "no rules installed (hostapd: $(tail -n 1 "$CF_T/hostapd.log"))"; fi
	if enforced "$url"; then cf_ok "policy rules when the fetch settled"; else
		cf_bad "the policy's rules were not installed when its fetch settled"; fi
	prime
	flows url "$1"
	# EAPOL-Logoff: hostapd ends the session and sends the Accounting Stop
	ip netns exec "$NS_DEV" wpa_cli -p "$CF_T/wpa" -i eth0 logoff > "$CF_T/wpa_cli.log" 2>&1
	if wait_for '! installed' 10; then cf_ok "removed at hostapd's Stop"; else
		cf_bad "rules left after the supplicant logged off"; fi
	it_stop_pid "$spid"
	it_stop_pid "$hpid"
	cf_end
}

# EAP-TLS with the URL in the device certificate (id-pe-mud-url), eapol_test as the NAS
sc_idevid() {
	cf_begin url-idevid "v$1" nftables
	if ! command -v eapol_test >/dev/null 2>&1; then
		cf_bad "eapol_test not installed"
		cf_end
		return
	fi
	url=$(cf_publish "$B4" "url-idevid-v$1" signer device)
	if ! idevid "$url"; then
		cf_bad "cannot make the device certificate"
		cf_end
		return
	fi
	cat > "$CF_T/eapol.conf" <<EOF
network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="enf-device"
	ca_cert="$IT_WORK/pki/ca.pem"
	client_cert="$CF_T/dev.pem"
	private_key="$CF_T/dev.key"
	eapol_flags=0
}
EOF
	if eapol_test -c "$CF_T/eapol.conf" -a 127.0.0.1 -p "$AUTH_PORT" -s "$SECRET" -t 20 \
		-M "$DEVMAC" > "$CF_T/eapol.out" 2>&1; then cf_ok eapol_test; else cf_bad "eapol_test failed"; fi
	if installed; then cf_ok installed; else cf_bad "no rules installed for $DEVMAC"; fi
	if enforced "$url"; then cf_ok "policy rules when the fetch settled"; else
		cf_bad "the policy's rules were not installed when its fetch settled"; fi
	prime
	flows url "$1"
	stop
	cf_end
}

# the device renumbers (IPv6: a new SLAAC/privacy address; IPv4: a new DHCP lease): the
# gateway learns the new address from its neighbour table and the rules follow
sc_renumber() {
	fam=$1
	cf_begin renumber "v$fam" nftables
	url=$(cf_publish "$B4" "renumber-v$fam" signer device)
	admit dhcp4 "$url"
	expect_status ok
	prime
	if [ "$fam" = 6 ]; then
		old=$DEV6
		DEV6=2001:db8:1::2:100
		ip -n "$NS_DEV" addr add "$DEV6/64" dev eth0 nodad
		ip -n "$NS_DEV" addr del "$old/64" dev eth0
		ip -n "$NS_DEV" -6 route replace default via 2001:db8:1::1
	else
		# a new lease: the old address goes first (a primary's secondaries go with it)
		old=$DEV4
		DEV4=192.0.2.101
		ip -n "$NS_DEV" addr del "$old/24" dev eth0
		ip -n "$NS_DEV" addr add "$DEV4/24" dev eth0
		ip -n "$NS_DEV" route replace default via 192.0.2.1
		ip -n "$NS_DEV" route replace 198.51.100.0/24 dev eth0
	fi
	# the device talks first (as it does after renumbering): its traffic makes the gateway
	# resolve the new address, the neighbour notification adds it to the device's rules
	ip netns exec "$NS_DEV" python3 "$here/probe.py" connect tcp \
		"$(cf_addr yes-permit-to.com "$fam")" 443 --timeout 2 >/dev/null 2>&1
	sleep 0.5
	if "$MUDCTL" enforce show | grep "^$DEVMAC" | grep -q " $(if [ "$fam" = 6 ]; then echo "$DEV6"; else echo "$DEV4"; fi)\( \|\$\)"; then
		cf_ok "new address learned"
	else
		cf_bad "new address not in the rules: $("$MUDCTL" enforce show | grep "^$DEVMAC")"
	fi
	flows internet "$fam"
	stop
	if [ "$fam" = 6 ]; then
		ip -n "$NS_DEV" addr add "$old/64" dev eth0 nodad
		ip -n "$NS_DEV" addr del "$DEV6/64" dev eth0
		ip -n "$NS_DEV" -6 route replace default via 2001:db8:1::1
		DEV6=$old
	else
		ip -n "$NS_DEV" addr del "$DEV4/24" dev eth0
		ip -n "$NS_DEV" addr add "$old/24" dev eth0
		ip -n "$NS_DEV" route replace default via 192.0.2.1
		ip -n "$NS_DEV" route replace 198.51.100.0/24 dev eth0
		DEV4=$old
	fi
	cf_end
}

# the policy changes while the device is admitted: one transaction replaces its rules
sc_replace() {	# ID FAMILY
	cf_begin "$1" "v$2" nftables
	if [ "$1" = cache-validity ]; then
		# the same URL; the file changes after its validity (cache_max_validity = 2)
		url=$(cf_publish "$B4" "$1-v$2" signer device)
		admit lldp "$url"
		expect_status ok
		prime
		flows v1 "$2"
		url=$(cf_publish "$B4" "$1-v$2" signer device-v2)
		sleep 3
	else
		# leave-rejoin: Stop, re-join, then a new URL
		url=$(cf_publish "$B4" "$1-v$2" signer device)
		admit lldp "$url"
		expect_status ok
		prime
		flows v1 "$2"
		stop
		if installed; then cf_bad "still installed after Stop"; fi
		url=$(cf_publish "$B4" "$1-new-v$2" signer device-v2)
	fi
	admit lldp "$url"
	expect_status ok
	if [ "$1" = cache-validity ]; then
		# the expired policy was served (old rules) and refreshed in the background: the
		# new rules are installed when that refresh settles (the second time for url)
		if enforced "$url" 2; then cf_ok "new rules when the refresh settled"; else
			cf_bad "the refreshed policy's rules were not installed"; fi
	fi
	flows v2 "$2"
	stop
	cf_end
}

# the DHCP server's hook (docs/examples/mud-dhcp-hook.sh, as dnsmasq runs it for a lease
# whose request carried option 161 / 112) admits the device
sc_dhcphook() {
	cf_begin dhcp-hook "v$1" nftables
	url=$(cf_publish "$B4" "dhcp-hook-v$1" signer device)
	echo "$SECRET" > "$CF_T/secret"
	if [ "$1" = 6 ]; then d6=1; else d6=0; fi
	if DNSMASQ_MUD_URL=$url MUD_HOOK_SERVER=127.0.0.1:$AUTH_PORT MUD_HOOK_DHCP6=$d6 \
		MUD_HOOK_SECRET_FILE=$CF_T/secret MUDCTL=$MUDCTL \
		sh "$top_srcdir/docs/examples/mud-dhcp-hook.sh" add "$DEVMAC" "$(addr_of device "$1")"
	then cf_ok hook; else cf_bad "the hook failed"; fi
	if installed; then cf_ok installed; else cf_bad "no rules installed for $DEVMAC"; fi
	if enforced "$url"; then cf_ok "policy rules when the fetch settled"; else
		cf_bad "the policy's rules were not installed when its fetch settled"; fi
	prime
	flows url "$1"
	stop
	cf_end
}

sc_nourl() {
	cf_begin no-url "v$1" nftables
	# the site's policy decides about a device without a MUD URL (this one rejects MAB):
	# whatever it says, the module installs nothing
	it_mab "$CF_T/req" "$DEVMAC"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	mst=$(cf_status "$CF_T/rep")
	[ "$mst" = no-url ] && cf_ok status || cf_bad "MUD-Status '$mst', not no-url"
	if installed; then cf_bad "rules installed for a device without a MUD URL"; else
		cf_ok "nothing installed"; fi
	prime
	# not affected by MUD: what a MUD policy would deny passes
	got=$(flow "$1" "tcp device->unnamed.com:443")
	CF_NFLOWS=$((CF_NFLOWS + 1))
	[ "$got" = permit ] && cf_ok unaffected || cf_bad "traffic of a device without MUD URL: $got"
	cf_end
}

for fv in 4 6; do
	if [ "$fv" = 6 ]; then dk=dhcp6; else dk=dhcp4; fi
	wanted url-dhcp && sc_policy url-dhcp "$fv" "$dk" device url
	wanted url-lldp && sc_policy url-lldp "$fv" lldp device url
	wanted url-idevid && sc_idevid "$fv"
	wanted hostapd-wired && sc_hostapd "$fv"
	wanted dhcp-hook && sc_dhcphook "$fv"
	wanted tls-expired && sc_quarantine tls-expired "$fv" tls-failed tls:expired
	wanted tls-wronghost && sc_quarantine tls-wronghost "$fv" tls-failed tls:wronghost
	wanted tls-untrusted && sc_quarantine tls-untrusted "$fv" tls-failed tls:untrusted
	wanted sig-modified && sc_quarantine sig-modified "$fv" signature-invalid signer
	wanted sig-untrusted && sc_quarantine sig-untrusted "$fv" signature-invalid rogue-signer
	wanted sig-expired && sc_quarantine sig-expired "$fv" signature-invalid expired-signer
	wanted sig-missing && sc_quarantine sig-missing "$fv" signature-invalid none
	wanted internet && sc_policy internet "$fv" lldp device internet
	for a in same-manufacturer manufacturer model local-networks controller; do
		wanted "abs-$a" && sc_policy "abs-$a" "$fv" lldp "$a" "abs-$a"
	done
	if wanted abs-my-controller; then
		cf_begin abs-my-controller "v$fv" nftables
		url=$(cf_publish "$B4" abs-my-controller signer my-controller)
		admit lldp "$url"
		expect_status ok
		prime
		flows abs-my-controller "$fv"
		stop
		cf_end
	fi
	wanted cache-validity && sc_replace cache-validity "$fv"
	wanted leave-rejoin && sc_replace leave-rejoin "$fv"
	wanted renumber && sc_renumber "$fv"
	wanted no-url && sc_nourl "$fv"
done

# detach: stopping the server leaves nothing behind
it_stop_radiusd

# without CAP_NET_ADMIN the server refuses to start, saying why
if command -v setpriv >/dev/null 2>&1; then
	if setpriv --bounding-set -net_admin "$FREERADIUS" -XC -d "$RADDB" \
		> "$IT_WORK/nocap.out" 2>&1; then
		echo "FAIL: startup without CAP_NET_ADMIN: the server started"
		CF_NFAIL=$((CF_NFAIL + 1))
		IT_FAILED=1
	elif grep -q "lacks CAP_NET_ADMIN" "$IT_WORK/nocap.out"; then
		why=$(grep -m 1 -o 'enforce = nftables: .*' "$IT_WORK/nocap.out")
		echo "PASS: startup without CAP_NET_ADMIN refused: $why"
		CF_NPASS=$((CF_NPASS + 1))
	else
		echo "FAIL: startup without CAP_NET_ADMIN: no clear error ($(tail -n 1 "$IT_WORK/nocap.out"))"
		CF_NFAIL=$((CF_NFAIL + 1))
		IT_FAILED=1
	fi
fi
if "$MUDCTL" enforce show >/dev/null 2>&1; then
	echo "FAIL: detach: the rlm_mud table is still there after the server stopped"
	CF_NFAIL=$((CF_NFAIL + 1))
	IT_FAILED=1
else
	echo "PASS: detach: no rlm_mud table left"
	CF_NPASS=$((CF_NPASS + 1))
fi

if [ -n "$RESULTS_OUT" ]; then
	cp "$CF_RESULTS" "$RESULTS_OUT" && echo "wrote $RESULTS_OUT"
fi
echo "$CF_NPASS passed, $CF_NFAIL failed ($(($(date +%s) - START)) s)"
[ "$CF_NFAIL" -eq 0 ] && [ "$IT_FAILED" -eq 0 ]
