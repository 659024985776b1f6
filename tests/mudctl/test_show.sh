#!/bin/sh
# mudctl show: one table row per compiled rule (checked against `mudctl compile --format json`
# on every valid data case), known rules with their peer, ports, direction and ACE, escaping of
# hostile names, Graphviz output accepted by dot, exit statuses, and byte-identical reruns.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${srcdir:=$top_srcdir/tests}"
: "${MUDCTL:=$top_srcdir/rlm_mud/mudctl}"
DATA="$srcdir/data"
EXAMPLE="$top_srcdir/docs/examples/mud-show-example.json"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

if [ ! -x "$MUDCTL" ]; then
	echo "SKIP: $MUDCTL not built"
	exit 77
fi

ok() {
	pass=$((pass + 1))
	echo "PASS: $1"
}

ko() {
	fail=$((fail + 1))
	echo "FAIL: $1"
	[ -f "$TMP/out" ] && sed 's/^/    | /' "$TMP/out" | head -20
}

# expect NAME STATUS PATTERN -- CMD...: run CMD, check exit status and that
# stdout+stderr contains PATTERN (grep -F; "" = anything).
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	"$@" >"$TMP/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ] && { [ -z "$pat" ] || grep -qF -- "$pat" "$TMP/out"; }; then
		ok "$name"
	else
		ko "$name (exit $got, want $want, pattern '$pat')"
	fi
}

# Table rows start with the rule number, right-aligned, then two spaces.
rows() {
	grep -c '^ *[0-9][0-9]*  ' "$1"
}

# The site contexts used: the data cases' own, or no DNS at all (never the network).
printf '{ "dns": { "resolve": false } }\n' >"$TMP/nodns.json"
cat >"$TMP/abs.json" <<'JSON'
{
  "manufacturers": {
    "lighting.example.com": { "vlan": 100, "networks": ["10.1.100.0/24", "2001:db8:100::/64"] }
  },
  "local-networks": ["10.0.0.0/8", "fd00::/8"],
  "controllers": { "https://controller.example.com/lighting": ["10.1.1.10", "2001:db8::10"] },
  "my-controllers": { "https://lighting.example.com/lightbulb2000": ["2001:db8::20"] },
  "models": { "https://lighting.example.com/lightswitch2000": ["2001:db8:200::/64"] },
  "dns": { "resolve": false, "static": { "test.example.com": ["192.0.2.10", "2001:db8::10"] } },
  "services": { "dhcp": true, "ipv6-nd": true, "dns": ["10.0.0.53", "fd00::53"],
                "ntp": ["10.0.0.123"] }
}
JSON
sed 's/"resolve": true/"resolve": false/' "$top_srcdir/policy/mud-context.json" >"$TMP/shipped.json"

# --- usage ----------------------------------------------------------------
expect "help" 0 "Usage: mudctl show FILE" -- "$MUDCTL" show --help
expect "listed in mudctl --help" 0 "mudctl show FILE" -- "$MUDCTL" --help
expect "unknown option" 2 "Try 'mudctl show --help'" -- "$MUDCTL" show --bogus "$EXAMPLE"
expect "unknown format" 2 "table or dot" -- "$MUDCTL" show --format svg "$EXAMPLE"
expect "no file" 2 "expected one MUD file" -- "$MUDCTL" show
expect "two files" 2 "expected one MUD file" -- "$MUDCTL" show "$EXAMPLE" "$EXAMPLE"

# --- bad input: exit 1, what and where --------------------------------------
expect "bad file names the JSON path" 1 \
	"/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/source-port" -- \
	"$MUDCTL" show "$DATA/invalid/match-port-range-reversed/input.json"
expect "bad file has the code" 1 "MUD_ERR_SEMANTIC" -- \
	"$MUDCTL" show "$DATA/invalid/match-port-range-reversed/input.json"
expect "bad file --format dot" 1 "MUD_ERR_SEMANTIC" -- \
	"$MUDCTL" show --format dot "$DATA/invalid/match-port-range-reversed/input.json"
printf '{ "bogus": 1 }' >"$TMP/badctx.json"
expect "bad context" 1 "MUD_ERR_CONTEXT" -- "$MUDCTL" show --context "$TMP/badctx.json" "$EXAMPLE"
expect "url mismatch" 1 "MUD_ERR_MISMATCH" -- \
	"$MUDCTL" show --url https://evil.example.com/x --context "$TMP/nodns.json" "$EXAMPLE"
expect "missing file" 2 "MUD_ERR_IO" -- "$MUDCTL" show "$TMP/none.json"

# --- one row per compiled rule, on every valid data case -------------------
# (with the case's context.json, else one that maps every abstraction and test.example.com
# without DNS; args: lenient, url)
for dir in "$DATA"/valid/*/; do
	case=$(basename "$dir")
	ctx="$TMP/abs.json"
	[ -f "$dir/context.json" ] && ctx="$dir/context.json"
	set -- --context "$ctx"
	if [ -f "$dir/args" ]; then
		grep -qx lenient "$dir/args" && set -- "$@" --lenient
		url=$(sed -n 's/^url //p' "$dir/args")
		[ -n "$url" ] && set -- "$@" --url "$url"
	fi
	if ! "$MUDCTL" compile --format json "$@" "$dir/input.json" >"$TMP/json" 2>"$TMP/out"; then
		ko "compile $case"
		continue
	fi
	want=$(grep -c '"origin":' "$TMP/json")
	if ! "$MUDCTL" show "$@" "$dir/input.json" >"$TMP/table" 2>"$TMP/out"; then
		ko "show $case"
		continue
	fi
	got=$(rows "$TMP/table")
	if [ "$got" -eq "$want" ] && grep -q "^Rules: *$want " "$TMP/table"; then
		ok "$case: $got rows = $want compiled rules"
	else
		cp "$TMP/table" "$TMP/out"
		ko "$case: $got rows, $want compiled rules"
	fi
	if ! "$MUDCTL" show --format dot "$@" "$dir/input.json" >"$TMP/dot" 2>"$TMP/out" ||
	   ! grep -q '^digraph "mud" {$' "$TMP/dot" || [ "$(tail -n 1 "$TMP/dot")" != "}" ]; then
		ko "dot $case"
	fi
done

# --- known rules -----------------------------------------------------------
A="$DATA/valid/abstraction-manufacturer/input.json"
"$MUDCTL" show --context "$TMP/abs.json" "$A" >"$TMP/abs.txt" 2>&1
row() {
	# row NAME PATTERN: one table row matches the extended regex PATTERN
	if grep -Eq -- "$2" "$TMP/abs.txt"; then ok "$1"; else cp "$TMP/abs.txt" "$TMP/out"; ko "$1"; fi
}
row "manufacturer rule: peer, name, direction, port, initiator, action, ACE path" \
	'^ *[0-9]+  2001:db8:100::/64 +manufacturer:lighting\.example\.com +device->peer +tcp peer 443 +device +permit +mud-76100-v6fr/cl0-frdev +/ietf-access-control-list:acls/acl/1/aces/ace/0$'
row "manufacturer return rule is established only" \
	'^ *[0-9]+  2001:db8:100::/64 +manufacturer:lighting\.example\.com +peer->device +tcp peer 443 +established only \(device opens\) +permit +mud-76100-v6to/cl0-todev +/ietf-access-control-list:acls/acl/0/aces/ace/0$'
row "site service marked" \
	'^ *1  any \(IPv4\) +- +device->peer +udp peer 67, device 68 +n/a +permit +site service \(site/dhcp\) +-$'
row "site ntp" '^ *[0-9]+  10\.0\.0\.123 +- +peer->device +udp peer 123 +n/a +permit +site service \(site/ntp\)'
row "final denies marked" '^ *[0-9]+  any \(IPv6\) +- +peer->device +ip +n/a +deny +final deny +-$'
row "header: URL" '^MUD URL: +https://lighting\.example\.com/lightbulb2000$'
row "header: VLAN of the manufacturer" '^VLAN: +100$'
row "compile warnings listed" '^Compile warnings: 0$'
n=$(grep -c 'final deny' "$TMP/abs.txt")
expect "four final denies" 0 "" -- test "$n" -eq 4

P="$DATA/valid/ports-ranges-operators-icmp/input.json"
"$MUDCTL" show --context "$TMP/abs.json" "$P" >"$TMP/abs.txt" 2>&1
row "device-side match skipped, with its JSON path" \
	"^  /ietf-access-control-list:acls/acl/0/aces/ace/1: match on the device's own address not enforceable; ACE skipped\$"
row "operator gte and deny" 'peer->device +tcp peer >= 1024, device 80 +- +deny +mud-76100-v6to/gte'
row "icmp type/code, reject is a deny" 'peer->device +icmpv6 128/0 +n/a +deny +mud-76100-v6to/icmp'
row "reject warning listed with its JSON path" \
	'^  /ietf-access-control-list:acls/acl/0/aces/ace/3: reject is enforced as drop$'

"$MUDCTL" show --context "$TMP/nodns.json" "$A" >"$TMP/abs.txt" 2>&1
row "unmapped abstraction: warning with its JSON path" \
	'^  /ietf-access-control-list:acls/acl/[01]/aces/ace/0: manufacturer "lighting\.example\.com" has no entry'

# The shipped example: device-initiated and peer-initiated TCP.
"$MUDCTL" show --context "$TMP/shipped.json" "$EXAMPLE" >"$TMP/abs.txt" 2>&1
row "example: peer opens (to-device initiated)" \
	'10\.1\.1\.20 +my-controller +peer->device +tcp device 8080 +peer +permit +to-lightbulb/admin'
row "example: its reply is established only" \
	'10\.1\.1\.20 +my-controller +device->peer +tcp device 8080 +established only \(peer opens\) +permit'
row "example: explicit deny" 'any \(IPv4\) +- +device->peer +tcp peer 23 +- +deny +from-lightbulb/no-telnet'

# Port operators: range, neq, lte.
sed -e 's/"udp": { "destination-port": { "operator": "eq", "port": 5683 } }/"udp": { "destination-port": { "lower-port": 5683, "upper-port": 5690 } }/' \
    -e 's/"operator": "eq", "port": 23/"operator": "neq", "port": 23/' \
    -e 's/"udp": { "source-port": { "operator": "eq", "port": 5683 } }/"udp": { "source-port": { "operator": "lte", "port": 1023 } }/' \
    "$EXAMPLE" >"$TMP/ports.json"
"$MUDCTL" show --context "$TMP/shipped.json" "$TMP/ports.json" >"$TMP/abs.txt" 2>&1
row "port range" '10\.0\.0\.0/8 +local-networks +device->peer +udp peer 5683-5690 +n/a +permit +from-lightbulb/coap'
row "port neq" 'any \(IPv4\) +- +device->peer +tcp peer not 23 +- +deny +from-lightbulb/no-telnet'
row "port lte" '192\.168\.0\.0/16 +local-networks +peer->device +udp peer <= 1023 +n/a +permit +to-lightbulb/coap'

# --- hostile strings: no control characters, quotes escaped in DOT ---------
# (model-name with a quote, backslash, BEL, UTF-8 and 100 more bytes; an ACE name with ESC)
sed -e 's/"model-name": "lightbulb2000"/"model-name": "bulb\\"\\\\\\u0007\\u00e9LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"/' \
    -e 's/"name": "cloud"/"name": "cl\\u001b[31mred\\"}"/' "$EXAMPLE" >"$TMP/hostile.json"
expect "hostile file is valid" 0 "" -- "$MUDCTL" check "$TMP/hostile.json"
"$MUDCTL" show --context "$TMP/shipped.json" "$TMP/hostile.json" >"$TMP/h.txt" 2>&1
if LC_ALL=C grep -q '[[:cntrl:]]' "$TMP/h.txt"; then
	cp "$TMP/h.txt" "$TMP/out"
	ko "table has no control characters"
else
	ok "table has no control characters"
fi
expect "table escapes and cuts" 0 'bulb"\x5c\x07\xc3\xa9LLL' -- cat "$TMP/h.txt"
expect "table cuts long cells" 0 'LLL...' -- cat "$TMP/h.txt"
expect "table escapes ESC in an ACE name" 0 'from-lightbulb/cl\x1b[31mred"}' -- cat "$TMP/h.txt"
"$MUDCTL" show --format dot --context "$TMP/shipped.json" "$TMP/hostile.json" >"$TMP/h.dot" 2>&1
if LC_ALL=C tr -d '\t\n' <"$TMP/h.dot" | LC_ALL=C grep -q '[[:cntrl:]]'; then
	ko "dot has no control characters"
else
	ok "dot has no control characters"
fi
expect "dot escapes quotes and backslashes" 0 'label="bulb\"\\x5c\\x07\\xc3\\xa9LLL' -- cat "$TMP/h.dot"

# --- Graphviz --------------------------------------------------------------
"$MUDCTL" show --format dot --context "$TMP/shipped.json" "$EXAMPLE" >"$TMP/ex.dot" 2>"$TMP/out"
expect "dot: device node" 0 'device [shape=box' -- cat "$TMP/ex.dot"
expect "dot: abstraction node" 0 'shape=hexagon, style=filled, fillcolor="#fff2cc", label="my-controller\n10.1.1.20"' -- cat "$TMP/ex.dot"
expect "dot: any node" 0 'label="any address"' -- cat "$TMP/ex.dot"
expect "dot: from-device permit" 0 'device -> p1 [label="tcp peer 443, device initiates"];' -- cat "$TMP/ex.dot"
expect "dot: to-device permit" 0 '-> device [label="tcp device 8080, peer initiates\nicmp 8/0"];' -- cat "$TMP/ex.dot"
expect "dot: deny dashed red" 0 '[style=dashed, color=red, fontcolor=red, label="deny tcp peer 23"];' -- cat "$TMP/ex.dot"
expect "dot: site services in the legend" 0 'site/dns with 10.0.0.53: udp peer 53; tcp peer 53 (both directions)' -- cat "$TMP/ex.dot"
if command -v dot >/dev/null 2>&1; then
	for f in "$TMP/ex.dot" "$TMP/h.dot"; do
		expect "dot -Tsvg accepts $(basename "$f")" 0 "" -- dot -Tsvg -o "$TMP/out.svg" "$f"
	done
	# every data case too (written above only when show succeeded)
	for dir in "$DATA"/valid/*/; do
		ctx="$TMP/abs.json"
		[ -f "$dir/context.json" ] && ctx="$dir/context.json"
		set -- --context "$ctx"
		[ -f "$dir/args" ] && grep -qx lenient "$dir/args" && set -- "$@" --lenient
		"$MUDCTL" show --format dot "$@" "$dir/input.json" >"$TMP/case.dot" 2>/dev/null ||
			continue
		expect "dot -Tsvg accepts $(basename "$dir")" 0 "" -- \
			dot -Tsvg -o "$TMP/out.svg" "$TMP/case.dot"
	done
else
	echo "SKIP: graphviz 'dot' not installed: DOT syntax not checked"
fi

# --- deterministic ---------------------------------------------------------
for fmt in table dot; do
	"$MUDCTL" show --format "$fmt" --context "$TMP/abs.json" "$P" >"$TMP/run1" 2>&1
	"$MUDCTL" show --format "$fmt" --context "$TMP/abs.json" "$P" >"$TMP/run2" 2>&1
	expect "identical output on two runs ($fmt)" 0 "" -- cmp "$TMP/run1" "$TMP/run2"
done

echo "mudctl show: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
