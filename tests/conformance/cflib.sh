#!/bin/sh
#
# cflib.sh - helpers of the NIST SP 1800-15 conformance suite (sourced by run.sh
# after tests/integration/lib.sh, whose it_* helpers, servers and cleanup it uses).
#
# Result bookkeeping: cf_begin ID FAMILY FORMAT, then cf_ok / cf_bad / cf_flows
# record what was checked; cf_end prints "PASS|FAIL: ID FAMILY (...)" and appends
# a row to $CF_RESULTS (id, family, result, format, checks, reason).
#

CF_DIR=$top_srcdir/tests/conformance
MUDCTL=${MUDCTL:-$top_builddir/rlm_mud/mudctl}
CF_RESULTS=
CF_NPASS=0
CF_NFAIL=0

# The address of a lab peer: cf_addr NAME 4|6.
cf_addr() {
	awk -v n="$1" -v f="$2" '!/^#/ && $1 == n { print (f == 4 ? $3 : $4) }' "$CF_DIR/lab.tsv"
}

# The site context, from context.json.in: @peer.4@ / @peer.6@ from lab.tsv, and the
# my-controller device URLs. cf_context OUT URL4 URL6
cf_context() {
	python3 - "$CF_DIR/lab.tsv" "$CF_DIR/context.json.in" "$1" "$2" "$3" <<'EOF'
import json, sys
lab, tmpl, out, u4, u6 = sys.argv[1:]
s = open(tmpl).read()
for line in open(lab):
    f = line.split()
    if not f or f[0].startswith("#"):
        continue
    s = s.replace("@%s.4@" % f[0], f[2]).replace("@%s.6@" % f[0], f[3])
s = s.replace("@MY_CONTROLLER_URL4@", u4).replace("@MY_CONTROLLER_URL6@", u6)
json.loads(s)
open(out, "w").write(s)
EOF
}

# cf_start_https6 NAME CERT: an HTTPS server on ::1 (https_server.py --bind6) serving
# $IT_WORK/www. Sets NAME_PID, NAME_PORT, NAME_LOG (as it_start_https does for 127.0.0.1).
cf_start_https6() {
	hn=$1
	hc=$2
	hlog="$IT_WORK/$hn.log"
	: > "$hlog"
	rm -f "$IT_WORK/$hn.port"
	python3 "$top_srcdir/tests/tools/https_server.py" --bind6 --cert "$IT_WORK/pki/$hc.pem" \
		--key "$IT_WORK/pki/$hc.key" --port 0 --root "$IT_WORK/www" \
		--portfile "$IT_WORK/$hn.port" --log "$hlog" 2>"$IT_WORK/$hn.err" &
	hpid=$!
	IT_PIDS="$IT_PIDS $hpid"
	i=0
	while [ ! -s "$IT_WORK/$hn.port" ]; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$hpid" 2>/dev/null; then
			echo "FAIL: HTTPS server $hn (::1) did not start"
			cat "$IT_WORK/$hn.err"
			exit 1
		fi
		sleep 0.1
	done
	eval "${hn}_PID=$hpid ${hn}_PORT=$(cat "$IT_WORK/$hn.port") ${hn}_LOG=$hlog"
}

# cf_publish BASE NAME SIGNER [TEMPLATE]: publish $CF_DIR/mud/TEMPLATE.json.in (default
# NAME) as $IT_WORK/www/cf/NAME.json with its own URL BASE/cf/NAME.json; SIGNER as in
# mksig.sh (signer, expired-signer, rogue-signer) or "none". Prints the URL.
cf_publish() {
	mkdir -p "$IT_WORK/www/cf"
	sed "s|@URL@|$1/cf/$2.json|" "$CF_DIR/mud/${4:-$2}.json.in" > "$IT_WORK/www/cf/$2.json"
	rm -f "$IT_WORK/www/cf/$2.p7s"
	if [ "$3" != none ]; then
		"$top_srcdir/tests/tools/mksig.sh" sign "$IT_WORK/sig" "$3" \
			"$IT_WORK/www/cf/$2.json" >/dev/null || exit 1
	fi
	echo "$1/cf/$2.json"
}

# The base URL of a server: cf_base 4|6 PORT.
cf_base() {
	if [ "$1" = 6 ]; then echo "https://[::1]:$2"; else echo "https://localhost:$2"; fi
}

# Count the GETs of a path in an HTTPS server log.
cf_fetches() {
	grep -c "^GET $1 " "$2" 2>/dev/null || true
}

# radiusd log slices: cf_mark prints the current line count, cf_since MARK the lines after.
cf_mark() {
	wc -l < "$RAD_LOG" | tr -d ' '
}
cf_since() {
	sleep 0.2
	tail -n "+$(($1 + 1))" "$RAD_LOG"
}

# ---------------------------------------------------------------- results

cf_begin() {
	CF_ID=$1
	CF_FAM=$2
	CF_FMT=$3
	CF_WHY=
	CF_CHECKS=0
	CF_NFLOWS=0
	CF_T=$IT_WORK/cases/$1-$2
	mkdir -p "$CF_T"
}

# cf_ok "what": one check passed. cf_bad "what": one check failed (the reason is kept).
cf_ok() {
	CF_CHECKS=$((CF_CHECKS + 1))
}
cf_bad() {
	CF_CHECKS=$((CF_CHECKS + 1))
	CF_WHY="${CF_WHY:+$CF_WHY; }$1"
}
# cf_check "what" COMMAND...: run a test command, record the result.
cf_check() {
	what=$1
	shift
	if "$@"; then cf_ok "$what"; else cf_bad "$what"; fi
}

cf_end() {
	if [ -z "$CF_WHY" ]; then
		res=PASS
		CF_NPASS=$((CF_NPASS + 1))
	else
		res=FAIL
		CF_NFAIL=$((CF_NFAIL + 1))
		IT_FAILED=1
		# a suite may define cf_diag: what to print about a failed case (the work
		# directory is gone after the run)
		if command -v cf_diag >/dev/null 2>&1; then cf_diag; fi
	fi
	echo "$res: $CF_ID $CF_FAM ($CF_FMT; $CF_CHECKS checks, $CF_NFLOWS flows)${CF_WHY:+: $CF_WHY}"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$CF_ID" "$CF_FAM" "$res" "$CF_FMT" "$CF_CHECKS" \
		"$CF_NFLOWS" "$(printf '%s' "$CF_WHY" | tr '\t\n' '  ')" >> "$CF_RESULTS"
}

# ---------------------------------------------------------------- replies

# The reply attribute lines of a radclient -x output ("Name = value").
cf_reply() { it_reply "$1"; }
cf_status() { it_reply_values "$1" Reply-Message | sed -n 's/^mud-status=//p' | head -n 1; }
cf_cache() { it_reply_values "$1" Reply-Message | sed -n 's/^mud-cache=//p' | head -n 1; }
# The dACL name of a family (IP or IPV6) in a reply, "" if none.
cf_acl_name() {
	sed -n "s/.*ACS:CiscoSecure-Defined-ACL=\(#ACSACL#-$2-[^\"]*\)\".*/\1/p" "$1" | head -n 1
}

# cf_download NAME OUT: the switch's dACL download (paged with State), lines to OUT.
# Returns 1 unless the last answer is an Access-Accept with at least one line.
cf_download() {
	dn=$1
	dout=$2
	: > "$dout"
	dstate=
	dpage=0
	while [ "$dpage" -lt 20 ]; do
		dpage=$((dpage + 1))
		it_dacl "$dout.req$dpage" "$dn" "$dstate"
		it_send auth "$dout.req$dpage" > "$dout.rep$dpage"
		it_lines "$dout.rep$dpage" >> "$dout"
		if it_has "$dout.rep$dpage" "Received Access-Accept"; then
			[ -s "$dout" ]
			return
		fi
		dstate=$(it_state "$dout.rep$dpage")
		[ -n "$dstate" ] || return 1
	done
	return 1
}

# The NAS-Filter-Rule values of a reply, one per line.
cf_nfr() {
	it_reply_values "$1" NAS-Filter-Rule
}

# ---------------------------------------------------------------- flows

# cf_flows GROUP FAMILY FORMAT ACLFILE: evaluate every flows.tsv row of GROUP (for
# FORMAT or "any") with mudctl explain on ACLFILE, the peers' FAMILY addresses.
cf_flows() {
	fg=$1
	ff=$2
	ffmt=$3
	facl=$4
	python3 - "$CF_DIR/lab.tsv" "$CF_DIR/flows.tsv" "$fg" "$ff" "$ffmt" > "$CF_T/flows.$fg" <<'EOF'
import re, sys
lab, flows, group, fam, fmt = sys.argv[1:]
addr = {}
for line in open(lab):
    f = line.split()
    if f and not f[0].startswith("#"):
        addr[f[0]] = f[2] if fam == "4" else f[3]
names = sorted(addr, key=len, reverse=True)
for line in open(flows):
    if not line.strip() or line.startswith("#"):
        continue
    f = [x for x in line.rstrip("\n").split("\t") if x != ""]
    g, rfmt, flow, expect = f[0], f[1], f[2], f[3]
    if g != group or rfmt not in ("any", fmt):
        continue
    def sub(m):
        n, port = m.group(1), m.group(2)
        if n == "device":
            return m.group(0)
        a = addr[n]
        if port and fam == "6":
            return "[%s]%s" % (a, port)
        return a + (port or "")
    pat = r"(%s)(:\d+)?" % "|".join(re.escape(n) for n in names)
    print("%s\t%s" % (re.sub(pat, sub, flow), expect))
EOF
	if [ ! -s "$CF_T/flows.$fg" ]; then
		cf_bad "no flows for group $fg"
		return
	fi
	d4=$(cf_addr device 4)
	d6=$(cf_addr device 6)
	tab=$(printf '\t')
	while IFS="$tab" read -r fl fe; do
		CF_NFLOWS=$((CF_NFLOWS + 1))
		"$MUDCTL" explain --acl "$facl" --format "$ffmt" --device "$d4" --device "$d6" \
			--flow "$fl" --expect "$fe" >> "$CF_T/explain.$fg" 2>&1 < /dev/null
		frc=$?
		case $frc in
		0) cf_ok "$fl" ;;
		3) cf_bad "flow '$fl' $(sed -n 's/^verdict: //p' "$CF_T/explain.$fg" | tail -n 1 |
			tr 'A-Z' 'a-z'), not $fe" ;;
		*) cf_bad "flow '$fl': mudctl explain exit $frc ($(tail -n 1 "$CF_T/explain.$fg"))" ;;
		esac
	done < "$CF_T/flows.$fg"
}

# The VLAN of a reply ("" if none).
cf_vlan() {
	it_reply "$1" | sed -n 's/^Tunnel-Private-Group-Id\(:0\)\{0,1\} = "\{0,1\}\([^"]*\)"\{0,1\}$/\2/p' | head -n 1
}
