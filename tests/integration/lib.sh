#!/bin/sh
#
# lib.sh - helpers for the rlm_mud integration test (sourced by run.sh).
#
# Builds a private raddb from the system's /etc/freeradius/3.0, installs the
# module's dictionary, policy and virtual server into it, starts a local HTTPS
# MUD server and the real FreeRADIUS server on 127.0.0.1 at free ports, and
# stops both by PID on exit. Nothing outside $IT_WORK is touched.
#
# Inputs (environment): top_srcdir, top_builddir (default: two levels up).
#

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SYS_RADDB=${SYS_RADDB:-/etc/freeradius/3.0}
FREERADIUS=${FREERADIUS:-freeradius}
SECRET=testing123

IT_WORK=
RAD_PID=
WEB_PID=
IT_FAILED=0

it_cleanup() {
	rc=$?
	if [ -n "$RAD_PID" ]; then
		kill "$RAD_PID" 2>/dev/null
		wait "$RAD_PID" 2>/dev/null
	fi
	if [ -n "$WEB_PID" ]; then
		kill "$WEB_PID" 2>/dev/null
		wait "$WEB_PID" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] || [ "$IT_FAILED" -ne 0 ]; then
		if [ -n "$IT_WORK" ] && [ -f "$IT_WORK/radiusd.log" ]; then
			echo "---- last 100 lines of the FreeRADIUS log ----"
			tail -n 100 "$IT_WORK/radiusd.log"
			echo "----------------------------------------------"
		fi
	fi
	if [ -n "$IT_WORK" ] && [ -z "${IT_KEEP:-}" ]; then
		rm -rf "$IT_WORK"
	elif [ -n "$IT_WORK" ]; then
		echo "kept $IT_WORK"
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
	if nm -D "$MODDIR/rlm_mud.so" 2>/dev/null | grep -q "__asan_init\|__tsan_init"; then
		echo "SKIP: rlm_mud.so is built with a sanitizer; radiusd cannot load it"
		exit 77
	fi
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

# Start the HTTPS MUD server; sets WEB_PORT, WEB_LOG, BASE (https://localhost:PORT).
it_start_web() {
	WEB_LOG="$IT_WORK/web.log"
	: > "$WEB_LOG"
	python3 "$top_srcdir/tests/tools/https_server.py" --cert "$IT_WORK/pki/server.pem" \
		--key "$IT_WORK/pki/server.key" --port 0 --root "$IT_WORK/www" \
		--portfile "$IT_WORK/web.port" --log "$WEB_LOG" 2>"$IT_WORK/web.err" &
	WEB_PID=$!
	i=0
	while [ ! -s "$IT_WORK/web.port" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$WEB_PID" 2>/dev/null; then
			echo "FAIL: HTTPS server did not start"
			cat "$IT_WORK/web.err"
			exit 1
		fi
		sleep 0.1
	done
	WEB_PORT=$(cat "$IT_WORK/web.port")
	BASE="https://localhost:$WEB_PORT"
}

# Publish a MUD file: it_publish NAME SIGNER (SIGNER "none": no .p7s).
# The template's @URL@ becomes the file's own URL, $BASE/it/NAME.json.
it_publish() {
	name=$1
	signer=$2
	src=${3:-$top_srcdir/tests/integration/mud/device.json.in}
	sed "s|@URL@|$BASE/it/$name.json|" "$src" > "$IT_WORK/www/it/$name.json"
	if [ "$signer" != none ]; then
		"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" "$signer" \
			"$IT_WORK/www/it/$name.json" >/dev/null || exit 1
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

# Build the private raddb; MUD_OPTS (extra module config lines) may be set.
it_make_raddb() {
	RADDB="$IT_WORK/raddb"
	AUTH_PORT=$(it_free_port)
	ACCT_PORT=$(it_free_port)
	while [ "$ACCT_PORT" = "$AUTH_PORT" ]; do ACCT_PORT=$(it_free_port); done
	INNER_PORT=$(it_free_port)
	cp -a "$SYS_RADDB" "$RADDB"

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

	# EAP: the test PKI instead of the snakeoil key.
	it_py_edit "$RADDB/mods-available/eap" "
s = s.replace('/etc/ssl/private/ssl-cert-snakeoil.key', '$IT_WORK/pki/server.key')
s = s.replace('/etc/ssl/certs/ssl-cert-snakeoil.pem', '$IT_WORK/pki/server.pem')
s = s.replace('/etc/ssl/certs/ca-certificates.crt', '$IT_WORK/pki/ca.pem')
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
s = s.replace('port = 0', 'port = $AUTH_PORT', 1).replace('port = 0', 'port = $ACCT_PORT', 1)
hook_in = '''
	#  TEST HOOK: a policy-set MUD-URL, from Connect-Info = \"mud-url=...\".
	if (&Connect-Info && &Connect-Info =~ /^mud-url=(.+)\$/) {
		update control {
			&MUD-URL := \"%{1}\"
		}
	}
	mud_dacl_download
'''
s = s.replace('\n\tmud_dacl_download\n', hook_in, 1)
echo = '''
	update reply {
		&Reply-Message += \"mud-status=%{control:MUD-Status}\"
	}
'''
s = s.replace('post-auth {\n\tmud_post_auth\n', 'post-auth {\n\tmud_post_auth\n' + echo, 1)
s = s.replace('Post-Auth-Type REJECT {\n', 'Post-Auth-Type REJECT {' + echo, 1)
s = s.replace('Post-Auth-Type Challenge {\n', 'Post-Auth-Type Challenge {' + echo, 1)
"

	sed -e "s|@CA@|$IT_WORK/pki/ca.pem|" -e "s|@TRUST@|$IT_WORK/sig/signer-ca.pem|" \
	    -e "s|@CONTEXT@|$RADDB/mud-context.json|" -e "s|@CACHE@|$IT_WORK/cache|" <<EOF > "$RADDB/mods-enabled/mud"
mud {
	ca_file = "@CA@"
	trust_file = "@TRUST@"
	require_signature = yes
	connect_timeout = 3
	timeout = 5
	context = "@CONTEXT@"
	output_format = cisco-dacl
	quarantine_vlan = 999
	allow_private_urls = yes
	url_deny = "denied.example"
	cache_fail_ttl = 60
${MUD_OPTS:-}
}
EOF
	chmod -R o-w "$RADDB"
}

# Start radiusd and wait for "Ready to process requests".
it_start_radiusd() {
	RAD_LOG="$IT_WORK/radiusd.log"
	: > "$RAD_LOG"
	"$FREERADIUS" -f -xx -l "$RAD_LOG" -d "$RADDB" >"$IT_WORK/radiusd.out" 2>&1 &
	RAD_PID=$!
	i=0
	while ! grep -q "Ready to process requests" "$RAD_LOG" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 200 ] || ! kill -0 "$RAD_PID" 2>/dev/null; then
			echo "FAIL: FreeRADIUS did not start"
			cat "$IT_WORK/radiusd.out"
			IT_FAILED=1
			RAD_PID=
			exit 1
		fi
		sleep 0.1
	done
}

# Send one request: it_send auth|acct FILE -> radclient -x output on stdout.
it_send() {
	if [ "$1" = acct ]; then port=$ACCT_PORT; else port=$AUTH_PORT; fi
	radclient -x -r 1 -t 15 -f "$2" "127.0.0.1:$port" "$1" "$SECRET" 2>>"$IT_WORK/radclient.err"
}

# Count GETs of a path in the HTTPS server's log.
it_fetches() {
	grep -c "^GET $1 " "$WEB_LOG" || true
}

# Result bookkeeping.
IT_PASS=0
IT_FAIL=0
it_result() {
	name=$1
	shift
	if [ "$1" -eq 0 ]; then
		echo "PASS: $name"
		IT_PASS=$((IT_PASS + 1))
	else
		shift
		echo "FAIL: $name${1:+ ($*)}"
		IT_FAIL=$((IT_FAIL + 1))
		IT_FAILED=1
	fi
}
