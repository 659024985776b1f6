#!/bin/sh
#
# run.sh - NIST SP 1800-15 MUD functional tests, end to end, IPv4 and IPv6.
#
# The whole path for every scenario: the real FreeRADIUS 3.2 server with rlm_mud
# (private raddb, tests/integration/lib.sh), real HTTPS MUD servers on 127.0.0.1
# and ::1 (tests/tools/https_server.py), files signed by tests/tools/mksig.sh,
# requests as the switch sends them (radclient MAB / accounting / dACL download,
# eapol_test EAP-TLS), then `mudctl explain` on the ACL lines the switch got, for
# every lab peer x direction x protocol/port of the scenario (flows.tsv). The lab
# (lab.tsv), its MUD files (mud/*.json.in) and site context (context.json.in)
# are described in README.md.
#
# Usage: run.sh [--only ID[,ID...]]... [--write-doc PATH] [--list]
#   --only ID       run only these scenarios (ids: --list, scenarios.tsv)
#   --write-doc P   write the results as Markdown to P (docs/conformance.md is
#                   made by a full run: run.sh --write-doc docs/conformance.md)
#   --list          print the scenario ids and exit
# Output: one line per scenario and address family, "PASS|FAIL: ID v4|v6 (...)".
# Exit status: 0 all passed, 1 a scenario failed, 77 FreeRADIUS, the module or
# mudctl is not available. IT_KEEP=1 keeps the work directory.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

ONLY=
DOC=
while [ $# -gt 0 ]; do
	case $1 in
	--only) ONLY="$ONLY $(printf '%s' "${2:-}" | tr ',' ' ')"; shift ;;
	--only=*) ONLY="$ONLY $(printf '%s' "${1#--only=}" | tr ',' ' ')" ;;
	--write-doc) DOC=${2:-}; shift ;;
	--write-doc=*) DOC=${1#--write-doc=} ;;
	--list) sed -n 's/^\([a-z][a-z0-9-]*\)\t.*/\1/p' "$here/scenarios.tsv"; exit 0 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
	shift
done
for id in $ONLY; do
	if ! grep -q "^$id	" "$here/scenarios.tsv"; then
		echo "run.sh: unknown scenario $id (--list)" >&2
		exit 2
	fi
done
if [ -n "$DOC" ]; then
	case $DOC in /*) ;; *) DOC=$(pwd)/$DOC ;; esac
fi

. "$top_srcdir/tests/integration/lib.sh"
. "$here/cflib.sh"

it_require
if [ ! -x "$MUDCTL" ]; then
	echo "SKIP: $MUDCTL not built"
	exit 77
fi
command -v eapol_test >/dev/null 2>&1 || echo "note: eapol_test not installed: url-idevid will FAIL"

# wanted ID: is scenario ID selected?
wanted() {
	[ -z "$ONLY" ] && return 0
	for w in $ONLY; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}
wanted_any() {
	for x in "$@"; do
		wanted "$x" && return 0
	done
	return 1
}

START=$(date +%s)
it_setup
CF_RESULTS=$IT_WORK/results.tsv
: > "$CF_RESULTS"

# The MUD servers: a good one on 127.0.0.1 (URL host localhost) and one on ::1 (URL
# host [::1]); servers with bad certificates are started by the scenarios using them.
it_start_web
WEB4_LOG=$WEB_LOG
cf_start_https6 WEB6 server
B4=$(cf_base 4 "$WEB_PORT")
B6=$(cf_base 6 "$WEB6_PORT")
wlog() { if [ "$1" = 6 ]; then echo "$WEB6_LOG"; else echo "$WEB4_LOG"; fi; }
wbase() { if [ "$1" = 6 ]; then echo "$B6"; else echo "$B4"; fi; }

cf_context "$IT_WORK/context.json" "$B4/cf/abs-my-controller-v4.json" \
	"$B6/cf/abs-my-controller-v6.json" || exit 1

MACN=0
# A new station: sets MAC (not in a subshell: the counter must advance).
newmac() {
	MACN=$((MACN + 1))
	MAC=$(printf '02:cf:00:00:%02x:%02x' $((MACN / 256)) $((MACN % 256)))
}

# mab_url FILE MAC KIND URL: a MAB request with the URL relayed as KIND (lldp, dhcp4,
# dhcp6, none).
mab_url() {
	if [ "$3" = none ]; then
		it_mab "$1" "$2"
	else
		it_mab "$1" "$2" "$(it_avpair "$3" "$4")"
	fi
}

# acl_all REPLY OUT: download every dACL named in REPLY (IPv4 and IPv6) into OUT, as the
# switch applies them together. Records a failed check per download that fails.
acl_all() {
	: > "$2"
	for k in IP IPV6; do
		n=$(cf_acl_name "$1" $k)
		[ -n "$n" ] || continue
		if cf_download "$n" "$2.$k"; then
			cf_ok "download $n"
			cat "$2.$k" >> "$2"
		else
			cf_bad "dACL download of $n failed"
		fi
	done
}

# applied REPLY FAM SERVERLOG PATH: the checks of an applied MUD policy (Access-Accept,
# VLAN 100, MUD-Status ok, both dACL names, file and signature fetched once), then the
# download of both dACLs into $CF_T/acl; the family's lines must be there.
applied() {
	r=$1
	if it_has "$r" "Received Access-Accept"; then cf_ok accept; else cf_bad "not accepted ($(it_code "$r"))"; fi
	mst=$(cf_status "$r")
	if [ "$mst" = ok ]; then cf_ok status; else cf_bad "MUD-Status '$mst', not ok"; fi
	v=$(cf_vlan "$r")
	if [ "$v" = 100 ]; then cf_ok vlan; else cf_bad "VLAN '$v', not 100"; fi
	for k in IP IPV6; do
		case $(cf_acl_name "$r" $k) in
		"#ACSACL#-$k-cf-"*) cf_ok "name $k" ;;
		*) cf_bad "no $k dACL name" ;;
		esac
	done
	if [ -n "${3:-}" ]; then
		n=$(cf_fetches "$4" "$3")
		[ "$n" = 1 ] && cf_ok fetch || cf_bad "GET $4: $n, not 1"
		sigp=$(cf_fetches "${4%.json}.p7s" "$3")
		[ "$sigp" = 1 ] && cf_ok sigfetch || cf_bad "GET ${4%.json}.p7s: $sigp, not 1"
	fi
	acl_all "$r" "$CF_T/acl"
	if [ "$2" = 6 ]; then pfx='^ipv6:inacl#'; else pfx='^ip:inacl#'; fi
	if grep -q "$pfx" "$CF_T/acl"; then cf_ok "lines v$2"; else cf_bad "no v$2 dACL lines"; fi
}

# ---------------------------------------------------------------- 1. URL sources

sc_url() {
	id=$1
	fv=$2
	kind=$3
	cf_begin "$id" "v$fv" cisco-dacl
	url=$(cf_publish "$(wbase "$fv")" "$id-v$fv" signer device)
	m=$(cf_mark)
	newmac
	mab_url "$CF_T/req" "$MAC" "$kind" "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	applied "$CF_T/rep" "$fv" "$(wlog "$fv")" "/cf/$id-v$fv.json"
	case $kind in
	lldp) usrc=lldp ;;
	dhcp4) usrc=dhcpv4 ;;
	dhcp6) usrc=dhcpv6 ;;
	esac
	cf_check "URL source logged" grep -F -q "MUD URL $url (from $usrc)" "$CF_T/radiusd.log"
	cf_check "signature verified (logged)" grep -q "MUD file signed by" "$CF_T/radiusd.log"
	cf_flows url "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

# The device certificate (IDevID) with id-pe-mud-url = URL, by the test CA.
idevid_cert() {
	d=$1
	u=$2
	cat > "$d/ext.cnf" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
1.3.6.1.5.5.7.1.25 = ASN1:IA5STRING:$u
EOF
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/dev.key" \
		>"$d/openssl.log" 2>&1 &&
	openssl req -new -key "$d/dev.key" -subj "/O=rlm_mud conformance/CN=cf-device" \
		-out "$d/dev.csr" >>"$d/openssl.log" 2>&1 &&
	openssl x509 -req -in "$d/dev.csr" -CA "$IT_WORK/pki/ca.pem" -CAkey "$IT_WORK/pki/ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 2 -sha256 -extfile "$d/ext.cnf" \
		-out "$d/dev.pem" >>"$d/openssl.log" 2>&1
}

# The last Access-Accept/Reject the server sent in a log slice, as radclient -x shows a
# reply ("Received Access-Accept", then one indented "Name = value" per attribute).
log_reply() {
	awk '
	/ Sent Access-[A-Za-z]+ Id / {
		match($0, /Sent Access-[A-Za-z]+/)
		code = substr($0, RSTART + 5, RLENGTH - 5)
		n = 0; grab = 1; next
	}
	grab && /^\([0-9]+\) +[A-Za-z][-A-Za-z0-9:.]* [:+=]+ / {
		sub(/^\([0-9]+\) +/, ""); sub(/ [:+]?= /, " = "); a[++n] = $0; next
	}
	grab { grab = 0 }
	END {
		if (code == "") exit
		print "Received " code
		for (i = 1; i <= n; i++) print "\t" a[i]
	}' "$1"
}

sc_idevid() {
	fv=$1
	cf_begin url-idevid "v$fv" cisco-dacl
	url=$(cf_publish "$(wbase "$fv")" "url-idevid-v$fv" signer device)
	if ! command -v eapol_test >/dev/null 2>&1; then
		cf_bad "eapol_test not installed"
		cf_end
		return
	fi
	if ! idevid_cert "$CF_T" "$url"; then
		cat "$CF_T/openssl.log"
		cf_bad "cannot make the device certificate"
		cf_end
		return
	fi
	cat > "$CF_T/eapol.conf" <<EOF
network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity="cf-device-v$fv"
	ca_cert="$IT_WORK/pki/ca.pem"
	client_cert="$CF_T/dev.pem"
	private_key="$CF_T/dev.key"
	eapol_flags=0
}
EOF
	newmac
	m=$(cf_mark)
	# again while the answer is pending (the file fetched in the background)
	_w=0
	while :; do
		eapol_test -c "$CF_T/eapol.conf" -a 127.0.0.1 -p "$AUTH_PORT" -s "$SECRET" -t 20 \
			-M "$MAC" > "$CF_T/eapol.out" 2>&1
		erc=$?
		cf_since "$m" > "$CF_T/radiusd.log"
		log_reply "$CF_T/radiusd.log" > "$CF_T/rep"
		grep -q "mud-status=pending" "$CF_T/rep" && [ $_w -lt 50 ] || break
		sleep 0.1
		_w=$((_w + 1))
	done
	[ "$erc" = 0 ] && cf_ok eapol_test || cf_bad "eapol_test exit $erc"
	applied "$CF_T/rep" "$fv" "$(wlog "$fv")" "/cf/url-idevid-v$fv.json"
	cf_check "URL from the certificate (logged)" grep -F -q "MUD URL $url (from x509)" \
		"$CF_T/radiusd.log"
	cf_check "signature verified (logged)" grep -q "MUD file signed by" "$CF_T/radiusd.log"
	cf_flows url "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

# ---------------------------------------------------------------- 2./3. failures

# quarantined REPLY STATUS URL FAMILY: the failure policy is applied and logged.
quarantined() {
	r=$1
	if it_has "$r" "Received Access-Accept"; then cf_ok accept; else cf_bad "not accepted ($(it_code "$r"))"; fi
	mst=$(cf_status "$r")
	[ "$mst" = "$2" ] && cf_ok status || cf_bad "MUD-Status '$mst', not $2"
	v=$(cf_vlan "$r")
	[ "$v" = 999 ] && cf_ok vlan || cf_bad "VLAN '$v', not the quarantine VLAN 999"
	if it_has "$r" "ACS:CiscoSecure-Defined-ACL=#ACSACL#-IP-cf-quarantine-"; then
		cf_ok qacl
	else
		cf_bad "no quarantine dACL"
	fi
	if grep 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-[A-Z0-9]*-cf-' "$r" |
	   grep -q -v -e '-cf-quarantine-'; then
		cf_bad "MUD rules (a cf- dACL) were applied"
	else
		cf_ok "no MUD dACL"
	fi
	if grep -F "MUD $3: " "$CF_T/radiusd.log" | grep -q -i "error"; then
		cf_ok logged
	else
		cf_bad "no error logged for $3"
	fi
	# The failure policy must filter the variant's family too (a Cisco port without an
	# IPv6 dACL does not filter IPv6 at all).
	if [ "$4" = 6 ]; then
		if grep -q 'ACS:CiscoSecure-Defined-ACL=#ACSACL#-IPV6-' "$r"; then
			cf_ok "v6 quarantine dACL"
		else
			cf_bad "no IPv6 quarantine dACL in the failure policy (IPv6 of the quarantined device is not filtered)"
		fi
	fi
	acl_all "$r" "$CF_T/acl"
}

sc_tls() {
	id=$1
	fv=$2
	cert=$3
	cf_begin "$id" "v$fv" cisco-dacl
	sv=$(echo "TLS_${cert}_$fv" | tr 'a-z-' 'A-Z_')
	if [ -z "$(eval echo "\${${sv}_PORT:-}")" ]; then
		if [ "$fv" = 6 ]; then cf_start_https6 "$sv" "$cert"; else it_start_https "$sv" "$cert"; fi
	fi
	port=$(eval echo "\$${sv}_PORT")
	slog=$(eval echo "\$${sv}_LOG")
	url=$(cf_publish "$(cf_base "$fv" "$port")" "$id-v$fv" signer device)
	m=$(cf_mark)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	quarantined "$CF_T/rep" tls-failed "$url" "$fv"
	n=$(grep -c . "$slog" || true)
	[ "$n" = 0 ] && cf_ok "no request" || cf_bad "$n HTTP request(s) reached the $cert server"
	cf_flows quarantine "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

sc_sig() {
	id=$1
	fv=$2
	signer=$3
	cf_begin "$id" "v$fv" cisco-dacl
	url=$(cf_publish "$(wbase "$fv")" "$id-v$fv" "$signer" device)
	if [ "$id" = sig-modified ]; then
		# Changed after signing: one permitted port more.
		sed -i 's/"port": 443/"port": 444/' "$IT_WORK/www/cf/$id-v$fv.json"
	fi
	m=$(cf_mark)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	quarantined "$CF_T/rep" signature-invalid "$url" "$fv"
	n=$(cf_fetches "/cf/$id-v$fv.json" "$(wlog "$fv")")
	[ "$n" = 1 ] && cf_ok fetched || cf_bad "GET of the file: $n, not 1"
	cf_flows quarantine "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

# ---------------------------------------------------------------- 4. internet

sc_internet_dacl() {
	fv=$1
	cf_begin internet-dacl "v$fv" cisco-dacl
	url=$(cf_publish "$(wbase "$fv")" "internet-dacl-v$fv" signer device)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	applied "$CF_T/rep" "$fv" "$(wlog "$fv")" "/cf/internet-dacl-v$fv.json"
	cf_flows internet "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

sc_internet_nfr() {
	fv=$1
	cf_begin internet-nfr "v$fv" nas-filter-rule
	url=$(cf_publish "$(wbase "$fv")" "internet-nfr-v$fv" signer device)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	r=$CF_T/rep
	if it_has "$r" "Received Access-Accept"; then cf_ok accept; else cf_bad "not accepted ($(it_code "$r"))"; fi
	mst=$(cf_status "$r")
	[ "$mst" = ok ] && cf_ok status || cf_bad "MUD-Status '$mst', not ok"
	v=$(cf_vlan "$r")
	[ "$v" = 100 ] && cf_ok vlan || cf_bad "VLAN '$v', not 100"
	cf_nfr "$r" > "$CF_T/acl"
	if [ "$fv" = 6 ]; then pat=' ::/0\| [0-9a-f]*:[0-9a-f:]*'; else pat=' [0-9]*\.[0-9]*\.[0-9]*\.[0-9]*'; fi
	if grep -q "$pat" "$CF_T/acl"; then cf_ok "v$fv rules"; else cf_bad "no IPv$fv NAS-Filter-Rule"; fi
	cf_flows internet "$fv" nas-filter-rule "$CF_T/acl"
	cf_end
}

# The failure policy with NAS-Filter-Rule output: quarantine VLAN and filter rules.
sc_quarantine_nfr() {
	fv=$1
	cf_begin quarantine-nfr "v$fv" nas-filter-rule
	url=$(cf_publish "$(wbase "$fv")" "quarantine-nfr-v$fv" rogue-signer device)
	m=$(cf_mark)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	r=$CF_T/rep
	if it_has "$r" "Received Access-Accept"; then cf_ok accept; else cf_bad "not accepted ($(it_code "$r"))"; fi
	mst=$(cf_status "$r")
	[ "$mst" = signature-invalid ] && cf_ok status || cf_bad "MUD-Status '$mst', not signature-invalid"
	v=$(cf_vlan "$r")
	[ "$v" = 999 ] && cf_ok vlan || cf_bad "VLAN '$v', not the quarantine VLAN 999"
	cf_check "error logged" grep -F -q "MUD $url: " "$CF_T/radiusd.log"
	cf_nfr "$r" > "$CF_T/acl"
	if [ -s "$CF_T/acl" ]; then cf_ok rules; else
		cf_bad "no NAS-Filter-Rule in the failure policy (the quarantined device is not filtered)"; fi
	cf_flows quarantine "$fv" nas-filter-rule "$CF_T/acl"
	cf_end
}

# ---------------------------------------------------------------- 5. abstractions

sc_abs() {
	a=$1
	fv=$2
	cf_begin "abs-$a" "v$fv" cisco-dacl
	url=$(cf_publish "$(wbase "$fv")" "abs-$a-v$fv" signer "$a")
	m=$(cf_mark)
	newmac
	mab_url "$CF_T/req" "$MAC" lldp "$url"
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	applied "$CF_T/rep" "$fv" "$(wlog "$fv")" "/cf/abs-$a-v$fv.json"
	if grep -q "MUD warning" "$CF_T/radiusd.log"; then
		cf_bad "compile warning: $(grep -m 1 'MUD warning' "$CF_T/radiusd.log" | sed 's/.*MUD warning: //')"
	else
		cf_ok "no warning"
	fi
	cf_flows "abs-$a" "$fv" cisco-dacl "$CF_T/acl"
	cf_end
}

# ---------------------------------------------------------------- 6. cache-validity

# wait_fetches PATH LOG N: until the MUD server saw N GETs of PATH (at most 5 s) and the
# background fetch settled (its result cached).
wait_fetches() {
	_w=0
	while [ $_w -lt 50 ] && [ "$(cf_fetches "$1" "$2")" -lt "$3" ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	sleep 0.3
}

# One MAB for URL: reply in $CF_T/$2.
cache_req() {
	mab_url "$CF_T/$2.req" "$CACHE_MAC" lldp "$1"
	it_send auth "$CF_T/$2.req" > "$CF_T/$2"
}

# sleep_until T D: sleep until D seconds after the time T (date +%s.%N), if not passed yet.
sleep_until() {
	sleep "$(awk -v t="$1" -v d="$2" -v n="$(date +%s.%N)" \
		'BEGIN { w = t + d - n; if (w < 0) w = 0; printf "%.2f", w }')"
}

# settled_req URL NAME: cache_req once the background refresh has stored its result (the
# answer is a cache hit; at most 10 s): the GET in the server's log comes before the
# signature's GET, its verification and the compilation, which a loaded machine (CI, the
# sanitizer build) can stretch beyond any fixed pause.
settled_req() {
	_w=0
	while :; do
		cache_req "$1" "$2"
		[ "$(cf_cache "$CF_T/$2")" = hit ] || [ $_w -ge 100 ] && break
		sleep 0.1
		_w=$((_w + 1))
	done
}

sc_cache() {
	fv=$1
	cf_begin cache-validity "v$fv" cisco-dacl
	if [ "$fv" = 6 ]; then cf_start_https6 CACHE6 server; else it_start_https CACHE4 server; fi
	cpid=$(eval echo "\$CACHE${fv}_PID")
	clog=$(eval echo "\$CACHE${fv}_LOG")
	url=$(cf_publish "$(cf_base "$fv" "$(eval echo "\$CACHE${fv}_PORT")")" "cache-v$fv" signer device)
	path=/cf/cache-v$fv.json
	newmac
	CACHE_MAC=$MAC
	# First request: fetched (pending, then the policy); at once a second one within the
	# cache-validity (3 s here): no fetch.
	cache_req "$url" r1
	cache_req "$url" r2
	applied "$CF_T/r1" "$fv" "$clog" "$path"
	n1=$(cf_acl_name "$CF_T/r1" IP)
	cp "$CF_T/acl" "$CF_T/acl1"
	cf_flows v1 "$fv" cisco-dacl "$CF_T/acl1"
	c=$(cf_cache "$CF_T/r2")
	[ "$c" = hit ] && cf_ok hit || cf_bad "within validity: MUD-Cache '$c', not hit"
	n=$(cf_fetches "$path" "$clog")
	[ "$n" = 1 ] && cf_ok "no refetch" || cf_bad "within validity: $n GETs, not 1"
	# After it: the stale policy at once (fetch_mode = background: stale-while-revalidate),
	# fetched again in the background, same content, same name.
	sleep 3.3
	cache_req "$url" r3
	c=$(cf_cache "$CF_T/r3")
	[ "$c" = stale ] && cf_ok "stale at once" || cf_bad "after validity: MUD-Cache '$c', not stale"
	wait_fetches "$path" "$clog" 2
	n=$(cf_fetches "$path" "$clog")
	[ "$n" = 2 ] && cf_ok refetch || cf_bad "after validity: $n GETs, not 2"
	settled_req "$url" r3b
	[ "$(cf_acl_name "$CF_T/r3b" IP)" = "$n1" ] && cf_ok samename || cf_bad "unchanged file, new name"
	# Changed file at the same URL: new dACL name after the next expiry (and its refresh).
	cf_publish "$(cf_base "$fv" "$(eval echo "\$CACHE${fv}_PORT")")" "cache-v$fv" signer \
		device-v2 >/dev/null
	sleep 3.3
	cache_req "$url" r4s
	wait_fetches "$path" "$clog" 3
	n=$(cf_fetches "$path" "$clog")
	[ "$n" = 3 ] && cf_ok refetch2 || cf_bad "after the change: $n GETs, not 3"
	settled_req "$url" r4
	t4=$(date +%s.%N)	# the policy now cached was stored before this
	n2=$(cf_acl_name "$CF_T/r4" IP)
	if [ -n "$n2" ] && [ "$n2" != "$n1" ]; then cf_ok newname; else
		cf_bad "changed file: dACL name '$n2' (before: '$n1')"; fi
	acl_all "$CF_T/r4" "$CF_T/acl2"
	cf_flows v2 "$fv" cisco-dacl "$CF_T/acl2"
	# Server unreachable: the last good policy is kept within cache_stale_max (5 s). The
	# times count from t4, not from after the checks above (slow under load).
	it_stop_pid "$cpid"
	sleep_until "$t4" 3.3
	m=$(cf_mark)
	cache_req "$url" r5
	_w=0
	while [ $_w -lt 50 ] && ! cf_since "$m" | grep -q "refresh failed"; do
		sleep 0.1
		_w=$((_w + 1))
	done
	cf_since "$m" > "$CF_T/radiusd5.log"
	mst=$(cf_status "$CF_T/r5")
	c=$(cf_cache "$CF_T/r5")
	if [ "$mst" = ok ] && [ "$c" = stale ] && [ "$(cf_acl_name "$CF_T/r5" IP)" = "$n2" ]; then
		cf_ok stale
	else
		cf_bad "server down within cache_stale_max: status '$mst', cache '$c', name '$(cf_acl_name "$CF_T/r5" IP)'"
	fi
	cf_check "failed refresh logged" grep -q "refresh failed: fetch-failed: .*the cached policy is still served" "$CF_T/radiusd5.log"
	# Beyond the bound: the failure policy.
	sleep_until "$t4" 8.3
	cache_req "$url" r6
	mst=$(cf_status "$CF_T/r6")
	v=$(cf_vlan "$CF_T/r6")
	if [ "$mst" = fetch-failed ] && [ "$v" = 999 ]; then cf_ok expired; else
		cf_bad "beyond cache_stale_max: status '$mst', VLAN '$v' (want fetch-failed, 999)"; fi
	cf_end
}

# ---------------------------------------------------------------- 7. leave / re-join

# acct FILE TYPE MAC [KIND URL]
acct() {
	{
		echo "Acct-Status-Type = $2"
		echo "Acct-Session-Id = \"cf-$3\""
		echo "Calling-Station-Id = \"$3\""
		echo 'NAS-IP-Address = 127.0.0.1'
		[ -n "${4:-}" ] && it_avpair "$4" "$5"
	} > "$1"
	it_send acct "$1" > "$1.out"
	it_has "$1.out" "Received Accounting-Response"
}

sc_leave() {
	fv=$1
	cf_begin leave-rejoin "v$fv" cisco-dacl
	if [ "$fv" = 6 ]; then kind=dhcp6; usrc=dhcpv6; else kind=lldp; usrc=lldp; fi
	ua=$(cf_publish "$(wbase "$fv")" "leave-a-v$fv" signer device)
	ub=$(cf_publish "$(wbase "$fv")" "leave-b-v$fv" signer device-v2)
	newmac
	mac=$MAC
	# Joins: the switch relays the URL in accounting (device-sensor), then MAB.
	cf_check "accounting start" acct "$CF_T/a1" Start "$mac" "$kind" "$ua"
	m=$(cf_mark)
	mab_url "$CF_T/m1" "$mac" none
	it_send auth "$CF_T/m1" > "$CF_T/m1.out"
	cf_since "$m" > "$CF_T/radiusd1.log"
	applied "$CF_T/m1.out" "$fv" "$(wlog "$fv")" "/cf/leave-a-v$fv.json"
	cf_check "URL from accounting" grep -F -q "MUD URL $ua (from accounting-$usrc)" "$CF_T/radiusd1.log"
	na=$(cf_acl_name "$CF_T/m1.out" IP)
	cf_flows v1 "$fv" cisco-dacl "$CF_T/acl"
	# Leaves: Stop forgets the station's URL; a MAB without URL gets nothing from MUD.
	cf_check "accounting stop" acct "$CF_T/a2" Stop "$mac"
	it_send auth "$CF_T/m1" > "$CF_T/m2.out"
	mst=$(cf_status "$CF_T/m2.out")
	[ "$mst" = no-url ] && cf_ok gone || cf_bad "after Stop: MUD-Status '$mst', not no-url"
	if grep -q 'ACS:CiscoSecure-Defined-ACL\|Tunnel-Private-Group-Id' "$CF_T/m2.out"; then
		cf_bad "after Stop: MUD attributes still replied"
	else
		cf_ok "no attributes"
	fi
	# Re-joins with the same URL: the same policy, from the cache.
	cf_check "accounting start (re-join)" acct "$CF_T/a3" Start "$mac" "$kind" "$ua"
	it_send auth "$CF_T/m1" > "$CF_T/m3.out"
	[ "$(cf_acl_name "$CF_T/m3.out" IP)" = "$na" ] && cf_ok rejoin || \
		cf_bad "re-join: dACL '$(cf_acl_name "$CF_T/m3.out" IP)', not '$na'"
	n=$(cf_fetches "/cf/leave-a-v$fv.json" "$(wlog "$fv")")
	[ "$n" = 1 ] && cf_ok cached || cf_bad "re-join: $n GETs, not 1 (cached)"
	# The device's URL changes: logged, new policy.
	m=$(cf_mark)
	cf_check "accounting update (new URL)" acct "$CF_T/a4" Interim-Update "$mac" "$kind" "$ub"
	it_send auth "$CF_T/m1" > "$CF_T/m4.out"
	cf_since "$m" > "$CF_T/radiusd4.log"
	cf_check "new URL logged (accounting)" grep -F -q "MUD URL $ub remembered" "$CF_T/radiusd4.log"
	cf_check "new URL used (logged)" grep -F -q "MUD URL $ub (from accounting-$usrc)" "$CF_T/radiusd4.log"
	nb=$(cf_acl_name "$CF_T/m4.out" IP)
	if [ -n "$nb" ] && [ "$nb" != "$na" ]; then cf_ok newpolicy; else
		cf_bad "new URL: dACL '$nb' (before '$na')"; fi
	acl_all "$CF_T/m4.out" "$CF_T/acl2"
	cf_flows v2 "$fv" cisco-dacl "$CF_T/acl2"
	cf_end
}

# ---------------------------------------------------------------- 8. no URL

sc_nourl() {
	fv=$1
	cf_begin no-url "v$fv" cisco-dacl
	newmac
	mac=$MAC
	if [ "$fv" = 6 ]; then
		# An IPv6 device: DHCPv6 relayed, but without option 112 (option 23, DNS servers).
		opt=$(python3 -c '
import sys
d = bytes([0, 23, 0, 16]) + bytes.fromhex("20010db8000000000000000000000053")
print("".join(chr(b) if 32 <= b < 127 and chr(b) not in "\"\\" else "\\%03o" % b for b in d))')
		it_mab "$CF_T/req" "$mac" "Cisco-AVPair = \"dhcp-option=$opt\"" \
			"Framed-IPv6-Address = $(cf_addr device 6)"
	else
		it_mab "$CF_T/req" "$mac" "Framed-IP-Address = $(cf_addr device 4)"
	fi
	g4=$(grep -c . "$WEB4_LOG" || true)
	g6=$(grep -c . "$WEB6_LOG" || true)
	m=$(cf_mark)
	it_send auth "$CF_T/req" > "$CF_T/rep"
	cf_since "$m" > "$CF_T/radiusd.log"
	mst=$(cf_status "$CF_T/rep")
	[ "$mst" = no-url ] && cf_ok status || cf_bad "MUD-Status '$mst', not no-url"
	cf_check "module noop" grep -q '\[mud\] = noop' "$CF_T/radiusd.log"
	if cf_reply "$CF_T/rep" | grep -q '^Tunnel-\|^NAS-Filter-Rule\|^Cisco-AVPair'; then
		cf_bad "MUD attributes replied: $(cf_reply "$CF_T/rep" | grep '^Tunnel-\|^NAS-Filter\|^Cisco' | tr '\n' ' ')"
	else
		cf_ok "no attributes"
	fi
	if grep -q 'MUD-URL\|MUD-ACL-Name\|MUD-VLAN' "$CF_T/radiusd.log"; then
		cf_bad "MUD attributes set: $(grep -m 1 'MUD-URL\|MUD-ACL-Name\|MUD-VLAN' "$CF_T/radiusd.log")"
	else
		cf_ok "no MUD attributes"
	fi
	[ "$(grep -c . "$WEB4_LOG" || true)" = "$g4" ] && [ "$(grep -c . "$WEB6_LOG" || true)" = "$g6" ] \
		&& cf_ok "nothing fetched" || cf_bad "a MUD server was contacted"
	cf_end
}

# ---------------------------------------------------------------- instances

MAIN_IDS="url-dhcp url-lldp url-idevid tls-expired tls-wronghost tls-untrusted sig-modified
sig-untrusted sig-expired sig-missing internet-dacl abs-same-manufacturer abs-manufacturer
abs-model abs-local-networks abs-controller abs-my-controller leave-rejoin no-url"

# shellcheck disable=SC2086
if wanted_any $MAIN_IDS; then
	MUD_FORMAT=cisco-dacl
	MUD_OPTS=
	it_make_raddb raddb-main
	it_start_radiusd
	for fv in 4 6; do
		if [ "$fv" = 6 ]; then dk=dhcp6; else dk=dhcp4; fi
		wanted url-dhcp && sc_url url-dhcp "$fv" "$dk"
		wanted url-lldp && sc_url url-lldp "$fv" lldp
		wanted url-idevid && sc_idevid "$fv"
	done
	for fv in 4 6; do
		wanted tls-expired && sc_tls tls-expired "$fv" expired
		wanted tls-wronghost && sc_tls tls-wronghost "$fv" wronghost
		wanted tls-untrusted && sc_tls tls-untrusted "$fv" untrusted
	done
	for fv in 4 6; do
		wanted sig-modified && sc_sig sig-modified "$fv" signer
		wanted sig-untrusted && sc_sig sig-untrusted "$fv" rogue-signer
		wanted sig-expired && sc_sig sig-expired "$fv" expired-signer
		wanted sig-missing && sc_sig sig-missing "$fv" none
	done
	for fv in 4 6; do
		wanted internet-dacl && sc_internet_dacl "$fv"
	done
	for a in same-manufacturer manufacturer model local-networks controller my-controller; do
		for fv in 4 6; do
			wanted "abs-$a" && sc_abs "$a" "$fv"
		done
	done
	for fv in 4 6; do
		wanted leave-rejoin && sc_leave "$fv"
	done
	for fv in 4 6; do
		wanted no-url && sc_nourl "$fv"
	done
	it_stop_radiusd
fi

if wanted_any internet-nfr quarantine-nfr; then
	MUD_FORMAT=nas-filter-rule
	MUD_OPTS=
	it_make_raddb raddb-nfr
	it_start_radiusd
	for fv in 4 6; do
		wanted internet-nfr && sc_internet_nfr "$fv"
	done
	for fv in 4 6; do
		wanted quarantine-nfr && sc_quarantine_nfr "$fv"
	done
	it_stop_radiusd
fi

if wanted cache-validity; then
	MUD_FORMAT=cisco-dacl
	MUD_OPTS="	cache_max_validity = 3
	cache_stale_max = 5"
	MUD_FAIL_TTL=1
	it_make_raddb raddb-cache
	it_start_radiusd
	for fv in 4 6; do
		sc_cache "$fv"
	done
	it_stop_radiusd
fi

# ---------------------------------------------------------------- report

echo "$CF_NPASS passed, $CF_NFAIL failed ($(($(date +%s) - START)) s)"
if [ -n "$DOC" ]; then
	python3 "$here/mkdoc.py" "$here/scenarios.tsv" "$CF_RESULTS" "$here/flows.tsv" \
		"$here/lab.tsv" > "$DOC.tmp" && mv "$DOC.tmp" "$DOC" && echo "wrote $DOC"
fi
[ "$CF_NFAIL" -eq 0 ] && [ "$IT_FAILED" -eq 0 ]
