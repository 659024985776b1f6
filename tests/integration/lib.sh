#!/bin/sh
#
# lib.sh - helpers for the rlm_mud integration tests (sourced by run.sh and the
# suites it runs, and by scripts/demo.sh).
#
# Builds a private raddb from the system's /etc/freeradius/3.0, installs the
# module's dictionary, policy and virtual server into it, starts local HTTPS
# MUD servers and the real FreeRADIUS server on 127.0.0.1 at free ports, and
# stops every process it started by PID on exit. Nothing outside $IT_WORK is
# touched.
#
# A module built with --enable-sanitizers (gcc ASan/UBSan) is loaded by starting
# freeradius with the sanitizer runtimes in LD_PRELOAD; the server's output is
# then checked for sanitizer reports when it stops (a report fails the suite).
#
# Inputs (environment): top_srcdir, top_builddir (default: two levels up),
# IT_KEEP=1 keeps the work directory.
#

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SYS_RADDB=${SYS_RADDB:-/etc/freeradius/3.0}
FREERADIUS=${FREERADIUS:-freeradius}
SECRET=testing123

IT_WORK=
RAD_PID=
WEB_PID=
IT_PIDS=
IT_FAILED=0
IT_PRELOAD=
IT_SHIM_DIR=
IT_SERVERS=

it_cleanup() {
	rc=$?
	for _srv in $IT_SERVERS; do
		it_server_use "$_srv"
		it_stop_radiusd
	done
	if [ -n "$RAD_PID" ]; then
		it_stop_radiusd
	fi
	if [ -n "$WEB_PID" ]; then
		kill "$WEB_PID" 2>/dev/null
		wait "$WEB_PID" 2>/dev/null
	fi
	for p in $IT_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] || [ "$IT_FAILED" -ne 0 ]; then
		if [ -n "$IT_WORK" ] && [ -n "${RAD_LOG:-}" ] && [ -f "$RAD_LOG" ]; then
			echo "---- last 100 lines of the FreeRADIUS log ($RAD_LOG) ----"
			tail -n 100 "$RAD_LOG"
			echo "----------------------------------------------"
		fi
	fi
	[ -n "${IT_SHIM_DIR:-}" ] && rm -rf "$IT_SHIM_DIR"
	if [ -n "$IT_WORK" ] && [ -z "${IT_KEEP:-}" ]; then
		rm -rf "$IT_WORK"
	elif [ -n "$IT_WORK" ]; then
		echo "kept $IT_WORK"
	fi
	if [ "$rc" -eq 0 ] && [ "$IT_FAILED" -ne 0 ]; then
		exit 1
	fi
}

# Exit 77 (automake SKIP) when something the test needs is missing.
it_require() {
	for p in "$FREERADIUS" radclient openssl python3; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "SKIP: $p not installed"
			exit 77
		fi
	done
	if [ ! -d "$SYS_RADDB" ]; then
		echo "SKIP: no $SYS_RADDB"
		exit 77
	fi
	MODDIR="$top_builddir/rlm_mud/.libs"
	if [ ! -f "$MODDIR/rlm_mud.so" ]; then
		echo "SKIP: $MODDIR/rlm_mud.so not built"
		exit 77
	fi
	it_sanitizer_preload
}

# A sanitizer build of the module needs the runtimes loaded first: LD_PRELOAD
# them into freeradius (only). Sets IT_PRELOAD; SKIP if they cannot be found.
it_sanitizer_preload() {
	syms=$(nm -D --undefined-only "$MODDIR/rlm_mud.so" 2>/dev/null)
	if printf '%s\n' "$syms" | grep -q "__tsan_"; then
		echo "SKIP: rlm_mud.so is built with ThreadSanitizer; not supported inside radiusd"
		exit 77
	fi
	libs=
	for s in asan ubsan; do
		printf '%s\n' "$syms" | grep -q "__${s}_" || continue
		lib=$(ldd "$MODDIR/rlm_mud.so" 2>/dev/null | sed -n "s/^[[:space:]]*lib$s\.so[^ ]* => \([^ ]*\) .*/\1/p" | head -n 1)
		if [ -z "$lib" ] || [ ! -f "$lib" ]; then
			lib=$(${CC:-gcc} -print-file-name="lib$s.so" 2>/dev/null)
		fi
		case "$lib" in
		/*) [ -f "$lib" ] || lib= ;;
		*) lib= ;;
		esac
		if [ -z "$lib" ]; then
			echo "SKIP: rlm_mud.so needs the $s runtime as a shared library (lib$s.so not found;" \
				"clang: build with -shared-libsan)"
			exit 77
		fi
		libs="$libs${libs:+:}$lib"
	done
	[ -n "$libs" ] || return 0
	# FreeRADIUS dlopen()s modules with RTLD_DEEPBIND, which ASan refuses: a
	# shim (first in LD_PRELOAD) clears that flag (see nodeepbind.c).
	IT_SHIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rlm_mud-shim.XXXXXX")
	if ! ${CC:-cc} -shared -fPIC -o "$IT_SHIM_DIR/nodeepbind.so" \
		"$top_srcdir/tests/integration/nodeepbind.c" -ldl >"$IT_SHIM_DIR/cc.log" 2>&1; then
		cat "$IT_SHIM_DIR/cc.log"
		rm -rf "$IT_SHIM_DIR"
		echo "SKIP: cannot build the dlopen shim the sanitizer run needs"
		exit 77
	fi
	# libgnutls (pulled in by libcurl via librtmp) deadlocks in its constructor
	# (bindtextdomain) when first loaded by dlopen under ASan: load it up front.
	for l in $(ldd "$MODDIR/rlm_mud.so" 2>/dev/null | sed -n 's/^[[:space:]]*libgnutls\.so[^ ]* => \(\/[^ ]*\) .*/\1/p'); do
		libs="$libs:$l"
	done
	IT_PRELOAD="$IT_SHIM_DIR/nodeepbind.so:$libs"
}

# A free TCP/UDP port on 127.0.0.1 (both protocols, so radiusd can bind it).
it_free_port() {
	python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
EOF
}

it_setup() {
	IT_WORK=$(mktemp -d "${TMPDIR:-/tmp}/rlm_mud-it.XXXXXX")
	trap it_cleanup EXIT
	trap 'exit 1' INT TERM
	mkdir -p "$IT_WORK/log" "$IT_WORK/run" "$IT_WORK/www/it" "$IT_WORK/cases"

	"$top_srcdir/tests/tools/mkcerts.sh" "$IT_WORK/pki" || exit 1
	"$top_srcdir/tests/tools/mksig.sh" init "$IT_WORK/sig" >/dev/null || exit 1
}

# it_start_https NAME CERT: an HTTPS server on 127.0.0.1 with $IT_WORK/pki/CERT.{pem,key},
# serving $IT_WORK/www. Sets NAME_PID, NAME_PORT, NAME_LOG.
it_start_https() {
	_hn=$1
	_hc=$2
	_hlog="$IT_WORK/$_hn.log"
	: > "$_hlog"
	rm -f "$IT_WORK/$_hn.port"
	python3 "$top_srcdir/tests/tools/https_server.py" --cert "$IT_WORK/pki/$_hc.pem" \
		--key "$IT_WORK/pki/$_hc.key" --port 0 --root "$IT_WORK/www" \
		--portfile "$IT_WORK/$_hn.port" --log "$_hlog" 2>"$IT_WORK/$_hn.err" &
	_hpid=$!
	IT_PIDS="$IT_PIDS $_hpid"
	_i=0
	while [ ! -s "$IT_WORK/$_hn.port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$_hpid" 2>/dev/null; then
			echo "FAIL: HTTPS server $_hn did not start"
			cat "$IT_WORK/$_hn.err"
			exit 1
		fi
		sleep 0.1
	done
	eval "${_hn}_PID=$_hpid ${_hn}_PORT=$(cat "$IT_WORK/$_hn.port") ${_hn}_LOG=$_hlog"
}

# Start the HTTPS MUD server; sets WEB_PID, WEB_PORT, WEB_LOG, BASE (https://localhost:PORT).
it_start_web() {
	it_start_https WEB server
	BASE="https://localhost:$WEB_PORT"
}

# it_stop_pid PID: stop a process this script started (SIGTERM, then wait for it).
it_stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	np=
	for p in $IT_PIDS; do
		[ "$p" = "$1" ] || np="$np $p"
	done
	IT_PIDS=$np
	return 0
}

# Stop the main HTTPS MUD server (its port then refuses connections).
it_stop_web() {
	it_stop_pid "$WEB_PID"
	WEB_PID=
}

# Publish a MUD file: it_publish NAME SIGNER [TEMPLATE] (SIGNER "none": no .p7s).
# The template's @URL@ becomes the file's own URL, $BASE/it/NAME.json.
it_publish() {
	_pn=$1
	_ps=$2
	_pt=${3:-$top_srcdir/tests/integration/mud/device.json.in}
	sed "s|@URL@|$BASE/it/$_pn.json|" "$_pt" > "$IT_WORK/www/it/$_pn.json"
	if [ "$_ps" != none ]; then
		"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" "$_ps" \
			"$IT_WORK/www/it/$_pn.json" >/dev/null || exit 1
	fi
}

# Edit a config file in place with python statements that rewrite its text `s`.
it_py_edit() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
path, expr = sys.argv[1], sys.argv[2]
env = {"re": re, "s": open(path).read()}
exec(expr, env)
open(path, "w").write(env["s"])
EOF
}

# The system raddb may hold a half-installed rlm_mud while tests/package/deb.sh installs the
# Debian package into it: that suite holds an exclusive flock on IT_SYSLOCK for as long as it
# changes /etc/freeradius/3.0, and copies take a shared one. The lock is machine-wide (the
# raddb is), not per build. After copying, everything rlm_mud-related the package or its
# documented enabling steps may have put there is removed, so a suite only ever sees its own.
IT_SYSLOCK=${IT_SYSLOCK:-${TMPDIR:-/tmp}/rlm_mud-system-raddb.lock}

# it_copy_sys_raddb DEST: copy $SYS_RADDB to DEST (under the shared lock), then scrub it.
it_copy_sys_raddb() {
	[ -e "$IT_SYSLOCK" ] || { : >>"$IT_SYSLOCK" && chmod 0644 "$IT_SYSLOCK"; } 2>/dev/null
	if command -v flock >/dev/null 2>&1 && [ -r "$IT_SYSLOCK" ]; then
		# shellcheck disable=SC2094
		( flock -s -w 600 9 || exit 1; cp -a "$SYS_RADDB" "$1" ) 9<"$IT_SYSLOCK" || {
			echo "FAIL: cannot copy $SYS_RADDB (lock $IT_SYSLOCK)"; exit 1; }
	else
		cp -a "$SYS_RADDB" "$1" || exit 1
	fi
	it_scrub_raddb "$1"
}

# it_scrub_raddb DIR: remove what freeradius-mud and docs/install.md add to a raddb.
it_scrub_raddb() {
	rm -f "$1/mods-enabled/mud" "$1/mods-available/mud" "$1/policy.d/mud" \
		"$1/mods-enabled/mud_audit" "$1/mods-available/mud_audit" "$1/mud-control.secret" \
		"$1"/sites-available/mud* "$1"/sites-enabled/mud* "$1/mud-context.json"
	[ -f "$1/dictionary" ] && sed -i '/dictionary\.mud/d' "$1/dictionary"
	for _sf in "$1/sites-available/default" "$1/sites-available/inner-tunnel"; do
		[ -f "$_sf" ] || continue
		sed -i '/^[[:space:]]*mud_\(authorize\|accounting\|post_auth\)[[:space:]]*\(#.*\)\{0,1\}$/d' \
			"$_sf"
	done
}

# Build a private raddb: it_make_raddb [NAME] (default "raddb", under $IT_WORK).
# MUD_OPTS (extra module config lines; a setting below is not overridden there: FreeRADIUS
# takes the first), MUD_TIMEOUT, MUD_CONNECT_TIMEOUT, MUD_REFRESH_INTERVAL (default 0: the
# suites that check a stale answer and its refresh must not race the ticker) may be set. New free ports each time.
it_make_raddb() {
	RADDB="$IT_WORK/${1:-raddb}"
	rm -rf "$RADDB"
	AUTH_PORT=$(it_free_port)
	ACCT_PORT=$(it_free_port)
	while [ "$ACCT_PORT" = "$AUTH_PORT" ]; do ACCT_PORT=$(it_free_port); done
	INNER_PORT=$(it_free_port)
	it_copy_sys_raddb "$RADDB"
	mkdir -p "$RADDB.tlscache"
	chmod 700 "$RADDB.tlscache"

	it_py_edit "$RADDB/radiusd.conf" "
s = re.sub(r'(?m)^raddbdir = .*$', 'raddbdir = $RADDB', s)
s = re.sub(r'(?m)^logdir = .*$', 'logdir = $IT_WORK/log', s)
s = re.sub(r'(?m)^run_dir = .*$', 'run_dir = $IT_WORK/run', s)
s = re.sub(r'(?m)^libdir = .*$', 'libdir = $MODDIR:/usr/lib/freeradius', s)
s = re.sub(r'(?m)^(\s*)(user|group) = ', r'\1#\2 = ', s)
s = re.sub(r'(?m)^proxy_requests\s*=.*$', 'proxy_requests = no', s)
s = re.sub(r'(?m)^(\s*)reject_delay = .*$', r'\1reject_delay = 0', s)
"
	# Only our virtual server (and inner-tunnel, which eap needs, off 18120).
	rm -f "$RADDB/sites-enabled/default"
	it_py_edit "$RADDB/sites-available/inner-tunnel" "s = s.replace('port = 18120', 'port = $INNER_PORT')"

	# EAP: the test PKI instead of the snakeoil key; TLS session cache persisted
	# (resumption brings the certificate attributes back in the reply list).
	it_py_edit "$RADDB/mods-available/eap" "
s = s.replace('/etc/ssl/private/ssl-cert-snakeoil.key', '$IT_WORK/pki/server.key')
s = s.replace('/etc/ssl/certs/ssl-cert-snakeoil.pem', '$IT_WORK/pki/server.pem')
s = s.replace('/etc/ssl/certs/ca-certificates.crt', '$IT_WORK/pki/ca.pem')
i = s.index('cache {')
t = s[i:]
t = re.sub(r'(?m)^(\\s*)enable = no\$', r'\\1enable = yes', t, 1)
t = t.replace('#\tname = \"EAP module\"', 'name = \"EAP module\"', 1)
t = t.replace('#\tpersist_dir = \"\${logdir}/tlscache\"', 'persist_dir = \"$RADDB.tlscache\"', 1)
s = s[:i] + t
"

	# The module's files.
	cp "$top_srcdir/dictionary/dictionary.mud" "$RADDB/dictionary.mud"
	printf '\n$INCLUDE dictionary.mud\n' >> "$RADDB/dictionary"
	cp "$top_srcdir/policy/policy.d/mud" "$RADDB/policy.d/mud"
	cp "$top_srcdir/policy/sites-available/mud" "$RADDB/sites-available/mud"
	ln -s ../sites-available/mud "$RADDB/sites-enabled/mud"
	cp "$IT_WORK/context.json" "$RADDB/mud-context.json" 2>/dev/null || \
		cp "$top_srcdir/tests/integration/mud/context.json" "$RADDB/mud-context.json"

	# Listeners on 127.0.0.1 at the free ports; test hooks (see below).
	it_py_edit "$RADDB/sites-available/mud" "
s = s.replace('ipaddr = *', 'ipaddr = 127.0.0.1')
s = s.replace('port = 11812', 'port = $AUTH_PORT', 1).replace('port = 11813', 'port = $ACCT_PORT', 1)
s = s.replace('max_connections = 16', 'max_connections = 64', 1)
hook_in = '''
	#  TEST HOOK: a policy-set MUD-URL, from Connect-Info = \"mud-url=...\".
	if (&Connect-Info && &Connect-Info =~ /^mud-url=(.+)\$/) {
		update control {
			&MUD-URL := \"%{1}\"
		}
	}
	#  TEST HOOK: the module's xlat, from Connect-Info = \"mud-xlat=...\".
	if (&Connect-Info && &Connect-Info =~ /^mud-xlat=(.+)\$/) {
		update reply {
			&Reply-Message += \"xlat=%{mud:%{1}}\"
		}
		reject
	}
	mud_dacl_download
'''
s = s.replace('\n\tmud_dacl_download\n', hook_in, 1)
echo = '''
	update reply {
		&Reply-Message += \"mud-status=%{control:MUD-Status}\"
		&Reply-Message += \"mud-cache=%{control:MUD-Cache}\"
	}
'''
s = s.replace('post-auth {\n\tmud_post_auth\n', 'post-auth {\n\tmud_post_auth\n' + echo, 1)
s = s.replace('Post-Auth-Type REJECT {\n', 'Post-Auth-Type REJECT {' + echo, 1)
s = s.replace('Post-Auth-Type Challenge {\n', 'Post-Auth-Type Challenge {' + echo, 1)
"

	mkdir -p "$RADDB.cache"
	sed -e "s|@CA@|$IT_WORK/pki/ca.pem|" -e "s|@TRUST@|$IT_WORK/sig/signer-ca.pem|" \
	    -e "s|@CONTEXT@|$RADDB/mud-context.json|" -e "s|@CACHE@|$RADDB.cache|" <<EOF > "$RADDB/mods-enabled/mud"
mud {
	ca_file = "@CA@"
	trust_file = "@TRUST@"
	require_signature = yes
	connect_timeout = ${MUD_CONNECT_TIMEOUT:-3}
	timeout = ${MUD_TIMEOUT:-5}
	refresh_interval = ${MUD_REFRESH_INTERVAL:-0}
	context = "@CONTEXT@"
	output_format = ${MUD_FORMAT:-cisco-dacl}
	quarantine_vlan = 999
	allow_private_urls = ${MUD_PRIVATE:-yes}
	url_deny = "denied.example"
	cache_fail_ttl = ${MUD_FAIL_TTL:-60}
${MUD_OPTS:-}
}
EOF
	chmod -R o-w "$RADDB"
}

# Start radiusd (RAD_LOG, RAD_PID) and wait for "Ready to process requests".
it_start_radiusd() {
	RAD_LOG="$RADDB.log"
	: > "$RAD_LOG"
	if [ -n "$IT_PRELOAD" ]; then
		LD_PRELOAD="$IT_PRELOAD" \
		ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:verify_asan_link_order=0" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
			"$FREERADIUS" -f ${RAD_DEBUG--xx} -l "$RAD_LOG" -d "$RADDB" >"$RADDB.out" 2>&1 &
	else
		"$FREERADIUS" -f ${RAD_DEBUG--xx} -l "$RAD_LOG" -d "$RADDB" >"$RADDB.out" 2>&1 &
	fi
	RAD_PID=$!
	RAD_START=$(date +%s)
	_i=0
	while ! grep -q "Ready to process requests" "$RAD_LOG" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -gt 600 ] || ! kill -0 "$RAD_PID" 2>/dev/null; then
			echo "FAIL: FreeRADIUS did not start"
			kill -9 "$RAD_PID" 2>/dev/null
			wait "$RAD_PID" 2>/dev/null
			RAD_PID=
			tail -n 30 "$RADDB.out"
			IT_FAILED=1
			exit 1
		fi
		sleep 0.1
	done
}

# Stop radiusd by PID; a sanitizer report in its output fails the suite.
it_stop_radiusd() {
	[ -n "$RAD_PID" ] || return 0
	kill "$RAD_PID" 2>/dev/null
	wait "$RAD_PID" 2>/dev/null
	RAD_PID=
	if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
		"$RADDB.out" "$RAD_LOG" >/dev/null 2>&1; then
		echo "FAIL: sanitizer report from FreeRADIUS ($RADDB.out):"
		grep -A 30 "ERROR: AddressSanitizer\|runtime error:" "$RADDB.out" "$RAD_LOG" | head -n 60
		IT_FAIL=$((IT_FAIL + 1))
		IT_FAILED=1
	fi
	return 0
}

# radclient reads the raddb's dictionary. The system one (/etc/freeradius/3.0/dictionary) is
# edited by tests/package/deb.sh while other suites run ($INCLUDE of the package's
# dictionary.mud, which comes and goes with the package): a radclient started then fails
# before sending anything (seen as a netns/enforce.sh case with no answer). Every radclient of
# a suite with its own raddb reads that raddb's copy instead.
radclient() {
	if [ -n "${RADDB:-}" ] && [ -f "$RADDB/dictionary" ]; then
		command radclient -d "$RADDB" "$@"
	else
		command radclient "$@"
	fi
}

# Send one request: it_send auth|acct FILE -> radclient -x output on stdout.
#
# fetch_mode = background (the default) answers a request whose MUD file is not cached yet
# at once with MUD-Status = pending while the file is fetched: as a switch re-authenticates
# such a device (Session-Timeout, or CoA), it_send sends an auth request again every 0.1 s
# until the answer is not pending any more (at most IT_SETTLE_MAX tenths of a second) and
# prints that answer. IT_SETTLE=0 (or it_send_once) prints the first answer as it is.
it_send_once() {
	if [ "$1" = acct ]; then _sp=$ACCT_PORT; else _sp=$AUTH_PORT; fi
	radclient -x -r 1 -t 15 -f "$2" "127.0.0.1:$_sp" "$1" "$SECRET" 2>>"$IT_WORK/radclient.err"
}
it_send() {
	if [ "$1" != auth ] || [ "${IT_SETTLE:-1}" = 0 ]; then
		it_send_once "$@"
		return
	fi
	_so=$(it_send_once "$@")
	_sn=0
	# pending: the test sites echo MUD-Status; Debian's default site (deb.sh, verify.sh) does
	# not, and only a pending answer carries Termination-Action = RADIUS-Request
	while printf '%s\n' "$_so" |
		grep -q '"mud-status=pending"\|Termination-Action = RADIUS-Request' &&
		[ "$_sn" -lt "${IT_SETTLE_MAX:-300}" ]; do
		_sn=$((_sn + 1))
		sleep 0.1
		_so=$(it_send_once "$@")
	done
	printf '%s\n' "$_so"
}

# Count GETs of a path in an HTTPS server's log (default: the main one).
it_fetches() {
	grep -c "^GET $1 " "${2:-$WEB_LOG}" || true
}

# radclient line for a Cisco-AVPair carrying a MUD URL (lldp, dhcp4, dhcp6),
# binary parts as octal escapes.
it_avpair() {
	python3 - "$1" "$2" <<'EOF'
import sys
kind, url = sys.argv[1], sys.argv[2].encode()
if kind == "lldp":
    body = b"lldp-tlv=" + bytes([0, 127]) + (4 + len(url)).to_bytes(2, "big") + b"\x00\x00\x5e\x01" + url
elif kind == "dhcp4":
    body = b"dhcp-option=" + bytes([0, 161]) + len(url).to_bytes(2, "big") + url
else:
    body = b"dhcp-option=" + bytes([0, 112]) + len(url).to_bytes(2, "big") + url
out = ""
for b in body:
    c = chr(b)
    out += c if 32 <= b < 127 and c not in '"\\' else "\\%03o" % b
print('Cisco-AVPair = "%s"' % out)
EOF
}

# it_mab FILE STATION [extra lines...]: a Cisco MAB Access-Request.
it_mab() {
	_mf=$1
	_ms=$2
	shift 2
	{
		echo "User-Name = \"$_ms\""
		echo "User-Password = \"$_ms\""
		echo "Service-Type = Call-Check"
		echo "Calling-Station-Id = \"$_ms\""
		echo "NAS-IP-Address = 127.0.0.1"
		for _ml in "$@"; do printf '%s\n' "$_ml"; done
	} > "$_mf"
}

# it_lldp_mab FILE STATION URL: MAB with the URL in an LLDP TLV.
it_lldp_mab() {
	it_mab "$1" "$2" "$(it_avpair lldp "$3")"
}

# it_dacl FILE NAME [State]: a Cisco dACL download request.
it_dacl() {
	{
		echo "User-Name = \"$2\""
		echo 'Cisco-AVPair = "aaa:service=ip_admission"'
		echo 'Cisco-AVPair = "aaa:event=acl-download"'
		echo "Message-Authenticator = 0x00"
		if [ -n "${3:-}" ]; then echo "State = $3"; fi
	} > "$1"
}

# Reply inspection (radclient -x prints the request first, then "Received ...").
it_has() { grep -F -q -- "$2" "$1"; }
it_code() { grep -o "Received Access-[A-Za-z]*\|Received Accounting-Response" "$1" | head -n 1; }
# The reply's attributes, one "Name = value" per line, without indentation.
it_reply() { sed -n '/^Received/,$ s/^[[:space:]]\{1,\}\([A-Za-z].* = .*\)$/\1/p' "$1"; }
# Values of one reply attribute (quotes removed).
it_reply_values() { it_reply "$1" | sed -n "s/^$2 = //p" | sed 's/^"\(.*\)"$/\1/'; }
# The Cisco ACL lines of a reply.
it_lines() {
	sed -n '/^Received/,$ s/^[[:space:]]*Cisco-AVPair = "\(ipv*6*:inacl#[^"]*\)"$/\1/p' "$1"
}
it_acl_name() {
	sed -n "s/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-$2-[^\"]*\)\".*/\1/p" "$1"
}
it_state() {
	sed -n '/^Received/,$ s/^[[:space:]]*State = \(0x[0-9a-fA-F]*\)$/\1/p' "$1" | head -n 1
}
# The VLAN of a reply ("" if none).
it_vlan() { it_reply_values "$1" 'Tunnel-Private-Group-Id\(:0\)\{0,1\}'; }

# Result bookkeeping.
IT_PASS=0
IT_FAIL=0
it_result() {
	_itn=$1
	shift
	if [ "$1" -eq 0 ]; then
		echo "PASS: $_itn"
		IT_PASS=$((IT_PASS + 1))
	else
		shift
		echo "FAIL: $_itn${1:+ ($*)}"
		IT_FAIL=$((IT_FAIL + 1))
		IT_FAILED=1
	fi
}

# End of a suite: stop the server (sanitizer check), print the totals.
it_finish() {
	it_stop_radiusd
	echo "$IT_PASS passed, $IT_FAIL failed"
	[ "$IT_FAIL" -eq 0 ]
}

# ---- CoA: a second real freeradius as the "switch" (tests/integration/coa.sh) ----------------

# A free UDP port on ::1 (empty if IPv6 loopback is unusable).
it_free_port6() {
	python3 - <<'PYEOF' 2>/dev/null
import socket
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::1", 0))
print(u.getsockname()[1])
u.close()
PYEOF
}

# it_start_switch [NAME]: start a second real freeradius that plays the NAS receiving CoA
# (RFC 5176), from a private raddb $IT_WORK/NAME (default "switch") written from scratch:
# listen { type = coa } on 127.0.0.1 (and ::1 when usable) at free ports, clients
# 127.0.0.1 and ::1 with secret $SWITCH_SECRET (default $SECRET). recv-coa logs every
# CoA-Request it accepts with linelog (source, Id, all attributes: one line) and answers:
#   Calling-Station-Id "nak<N>-..."          CoA-NAK with Error-Cause = N
#   Calling-Station-Id "silent-..."          no answer at all (handled)
#   file $IT_WORK/NAME.nak holding a number  CoA-NAK with that Error-Cause
#   otherwise                                CoA-ACK
# send-coa logs each answer. Sets SWITCH_PID, SWITCH_PORT, SWITCH_PORT6 (empty without ::1),
# SWITCH_LOG (the linelog file), SWITCH_RADLOG (the server's log), SWITCH_DIR.
it_start_switch() {
	_sn=${1:-switch}
	SWITCH_DIR="$IT_WORK/$_sn"
	rm -rf "$SWITCH_DIR"
	mkdir -p "$SWITCH_DIR/log" "$SWITCH_DIR/run"
	SWITCH_PORT=$(it_free_port)
	SWITCH_PORT6=$(it_free_port6)
	SWITCH_LOG="$SWITCH_DIR/log/coa.log"
	SWITCH_RADLOG="$SWITCH_DIR/radiusd.log"
	_ssec=${SWITCH_SECRET:-$SECRET}
	: > "$SWITCH_LOG"
	: > "$SWITCH_RADLOG"
	# FreeRADIUS's own dictionaries come from its dictdir; the local one is empty (not an
	# $INCLUDE of the system raddb's, which tests/package/deb.sh edits while suites run)
	printf '# the test switch: no local attributes\n' > "$SWITCH_DIR/dictionary"
	_s6=
	if [ -n "$SWITCH_PORT6" ]; then
		_s6="
listen {
	type = coa
	ipv6addr = ::1
	port = $SWITCH_PORT6
	virtual_server = switch
}
client lo6 {
	ipv6addr = ::1
	secret = \"$_ssec\"
}"
	fi
	cat > "$SWITCH_DIR/radiusd.conf" <<SWEOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $SWITCH_DIR/log
raddbdir = $SWITCH_DIR
radacctdir = $SWITCH_DIR/log
name = freeradius
confdir = $SWITCH_DIR
modconfdir = $SWITCH_DIR
run_dir = $SWITCH_DIR/run
db_dir = $SWITCH_DIR
libdir = /usr/lib/freeradius
pidfile = $SWITCH_DIR/run/switch.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
proxy_requests = no
log {
	destination = files
	file = $SWITCH_RADLOG
	colourise = no
	auth = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
}
modules {
	expr {
	}
	linelog coa_recv {
		filename = $SWITCH_LOG
		permissions = 0600
		format = "recv %{Packet-Type} src=%{Packet-Src-IP-Address}%{Packet-Src-IPv6-Address}:%{Packet-Src-Port} %{pairs:request:}"
	}
	linelog coa_send {
		filename = $SWITCH_LOG
		permissions = 0600
		format = "send %{reply:Packet-Type} to=%{Packet-Src-IP-Address}%{Packet-Src-IPv6-Address}:%{Packet-Src-Port} %{pairs:reply:}"
	}
	always ok {
		rcode = ok
	}
	always reject {
		rcode = reject
	}
	always handled {
		rcode = handled
	}
	exec {
		wait = yes
		input_pairs = request
		shell_escape = yes
		timeout = 5
	}
}
client lo4 {
	ipaddr = 127.0.0.1
	secret = "$_ssec"
}
listen {
	type = coa
	ipaddr = 127.0.0.1
	port = $SWITCH_PORT
	virtual_server = switch
}
$_s6
server switch {
	recv-coa {
		coa_recv
		if (&Calling-Station-Id && &Calling-Station-Id =~ /^silent-/) {
			handled
		}
		if (&Calling-Station-Id && &Calling-Station-Id =~ /^nak([0-9]+)-/) {
			update reply {
				&Error-Cause := "%{1}"
			}
			reject
		}
		if ("%{exec:/bin/sh -c 'cat $SWITCH_DIR.nak 2>/dev/null || true'}" =~ /^([0-9]+)/) {
			update reply {
				&Error-Cause := "%{1}"
			}
			reject
		}
		ok
	}
	send-coa {
		coa_send
		ok
	}
}
SWEOF
	chmod -R go-w "$SWITCH_DIR"
	"$FREERADIUS" -f -xx -l "$SWITCH_RADLOG" -d "$SWITCH_DIR" >"$SWITCH_DIR/out" 2>&1 &
	SWITCH_PID=$!
	IT_PIDS="$IT_PIDS $SWITCH_PID"
	_i=0
	while ! grep -q "Ready to process requests" "$SWITCH_RADLOG" 2>/dev/null; do
		_i=$((_i + 1))
		if [ "$_i" -gt 300 ] || ! kill -0 "$SWITCH_PID" 2>/dev/null; then
			echo "FAIL: the switch (freeradius, listen { type = coa }) did not start"
			tail -n 30 "$SWITCH_DIR/out" "$SWITCH_RADLOG"
			it_stop_pid "$SWITCH_PID"
			SWITCH_PID=
			IT_FAILED=1
			exit 1
		fi
		sleep 0.1
	done
}

# Stop the switch by PID.
it_stop_switch() {
	it_stop_pid "$SWITCH_PID"
	SWITCH_PID=
}

# it_switch_nak [CAUSE]: from now on the switch answers every CoA-Request with CoA-NAK,
# Error-Cause CAUSE (default 503, Session-Context-Not-Found); it_switch_ack undoes it.
it_switch_nak() { echo "${1:-503}" > "$SWITCH_DIR.nak"; }
it_switch_ack() { rm -f "$SWITCH_DIR.nak"; }

# Lines of the switch's CoA log: it_switch_recv PATTERN -> count of received CoA-Requests
# whose line contains PATTERN (fixed string).
it_switch_recv() { grep '^recv ' "$SWITCH_LOG" | grep -c -F -- "$1" || true; }

# it_xlat FILE CMD: %{mud:CMD} through the test site's hook (Connect-Info = "mud-xlat=CMD");
# its text on stdout (request in FILE, reply in FILE.out).
it_xlat() {
	printf 'User-Name = "op"\nUser-Password = "op"\nConnect-Info = "mud-xlat=%s"\n' "$2" \
		> "$1"
	IT_SETTLE=0 it_send auth "$1" > "$1.out"
	it_reply_values "$1.out" Reply-Message | sed -n 's/^xlat=//p'
}

# it_wait_coa AUDIT BEFORE: wait (15 s at most) for more than BEFORE CoAs to the session
# AUDIT (audit-session-id) at the test switch.
it_wait_coa() {
	_w=0
	while [ $_w -lt 150 ] && [ "$(it_switch_recv "$1")" -le "$2" ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	[ "$(it_switch_recv "$1")" -gt "$2" ]
}

# it_hup conf | FILE...: touch the changed files into the future (FreeRADIUS compares mtimes
# to the second), send SIGHUP to the server, wait (10 s at most) for one more "reloaded" or
# "HUP failed" line. "conf" touches mods-enabled/mud instead: FreeRADIUS then re-reads its
# whole configuration (the documented way after a failed reload, when it no longer watches
# the module's files, and for a changed setting: a module file changed in the same HUP would
# reload the module first, from the section it already has).
# FreeRADIUS ignores a HUP less than 5 s after the previous one (and a module's within 2 s of
# its instantiation): this waits for that (RAD_START, HUP_LAST).
it_hup() {
	while [ $(( $(date +%s) - ${HUP_LAST:-$RAD_START} )) -lt 6 ]; do sleep 0.2; done
	HUP_N=$(( ${HUP_N:-0} + 1 ))
	_t=$(( $(date +%s) + HUP_N * 7 + 60 ))
	if [ "${1:-}" = conf ]; then
		touch -d "@$_t" "$RADDB/mods-enabled/mud"
	else
		touch -d "@$_t" "$@"
	fi
	_before=$(grep -c "reloaded (\|HUP failed for module" "$RAD_LOG")
	HUP_LAST=$(date +%s)
	kill -HUP "$RAD_PID"
	_w=0
	while [ $_w -lt 100 ]; do
		[ "$(grep -c "reloaded (\|HUP failed for module" "$RAD_LOG")" -gt "$_before" ] &&
			return 0
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}
it_switch_sent() { grep '^send ' "$SWITCH_LOG" | grep -c -F -- "$1" || true; }

# ---- A pool of servers (tests/integration/pool.sh): several raddbs and radiusd at once -------

# it_server_save NAME: remember the current server (RADDB, AUTH_PORT, ACCT_PORT, RAD_LOG,
# RAD_PID) as NAME_*, and clear RAD_PID (it_cleanup stops every saved server).
it_server_save() {
	eval "${1}_RADDB=\$RADDB ${1}_AUTH=\$AUTH_PORT ${1}_ACCT=\$ACCT_PORT"
	eval "${1}_LOG=\${RAD_LOG:-} ${1}_PID=\${RAD_PID:-}"
	case " $IT_SERVERS " in
	*" $1 "*) ;;
	*) IT_SERVERS="$IT_SERVERS $1" ;;
	esac
	RAD_PID=
}

# it_server_use NAME: make NAME the current server (it_send, it_stop_radiusd use it).
it_server_use() {
	eval "RADDB=\$${1}_RADDB AUTH_PORT=\$${1}_AUTH ACCT_PORT=\$${1}_ACCT"
	eval "RAD_LOG=\$${1}_LOG RAD_PID=\$${1}_PID"
}

# it_server_start NAME / it_server_stop NAME: start or stop a saved server by its PID.
it_server_start() {
	it_server_use "$1"
	it_start_radiusd
	it_server_save "$1"
}
it_server_stop() {
	it_server_use "$1"
	it_stop_radiusd
	it_server_save "$1"
}

# it_send_to NAME auth|acct FILE: it_send to a saved server.
it_send_to() {
	eval "_stp=\$${1}_AUTH _sta=\$${1}_ACCT"
	if [ "$2" = acct ]; then _stp=$_sta; fi
	radclient -x -r 1 -t 15 -f "$3" "127.0.0.1:$_stp" "$2" "$SECRET" 2>>"$IT_WORK/radclient.err"
}
