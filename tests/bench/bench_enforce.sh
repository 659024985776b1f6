#!/bin/sh
#
# bench_enforce.sh - benchmarks of the nftables enforcement backend (docs/enforce.md).
# Prints numbers; asserts nothing about speed.
#   1. bench_nft: install and replace one device's rules, p50/p99, with 1, 100, 1000 devices
#      present; memory of the rule state (its own network namespace).
#   2. iperf3 between two namespaces through a bridge (br_netfilter on), the sender being a
#      MUD device whose rules permit the flow: no rlm_mud table vs 1000 devices' rules.
# Needs root, ip, iperf3; exits 77 without them. Namespaces are deleted at the end.
#
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BENCH=$top_builddir/tests/bench/bench_nft
MUDCTL=$top_builddir/rlm_mud/mudctl
SECS=${IPERF_SECONDS:-5}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for p in ip iperf3 python3; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
[ -x "$BENCH" ] && [ -x "$MUDCTL" ] || { echo "SKIP: build bench/bench_nft and mudctl"; exit 77; }

echo "== install / replace (bench_nft)"
"$BENCH" -n 1,100,1000 -r 200 || exit $?

P="mudb$$"
GW=$P-gw
A=$P-a
B=$P-b
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rlm_mud-bench.XXXXXX")
SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	for ns in $GW $A $B; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for ns in $GW $A $B; do
	ip netns add "$ns" || exit 1
	ip -n "$ns" link set lo up
done
ip netns exec "$GW" sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables &&
	echo 1 > /proc/sys/net/bridge/bridge-nf-call-ip6tables' ||
	{ echo "SKIP: no br_netfilter"; exit 77; }
ip -n "$GW" link add br0 type bridge
ip -n "$GW" link set br0 up
for pair in "$A:va:10.77.0.2" "$B:vb:10.77.0.3"; do
	ns=${pair%%:*}
	rest=${pair#*:}
	port=${rest%%:*}
	a=${rest#*:}
	ip link add "$port" netns "$GW" type veth peer name eth0 netns "$ns"
	ip -n "$GW" link set "$port" master br0 up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "$a/24" dev eth0
done
MAC=02:be:ff:00:00:01
ip -n "$A" link set eth0 address "$MAC"
sleep 1

# the sender's MUD policy: iperf3 (tcp 5201) to the receiver, replies back
cat > "$WORK/iperf.json" <<'EOF'
{"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://bench.example/iperf.json",
  "last-update": "2026-01-01T00:00:00+00:00", "cache-validity": 48, "is-supported": true,
  "systeminfo": "iperf3 sender",
  "from-device-policy": {"access-lists": {"access-list": [{"name": "fr"}]}},
  "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}}},
 "ietf-access-control-list:acls": {"acl": [
  {"name": "fr", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "iperf",
    "matches": {"ipv4": {"protocol": 6, "destination-ipv4-network": "10.77.0.3/32"},
      "tcp": {"destination-port": {"operator": "eq", "port": 5201},
        "ietf-mud:direction-initiated": "from-device"}},
    "actions": {"forwarding": "accept"}}]}},
  {"name": "to", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "iperf",
    "matches": {"ipv4": {"protocol": 6, "source-ipv4-network": "10.77.0.3/32"},
      "tcp": {"source-port": {"operator": "eq", "port": 5201},
        "ietf-mud:direction-initiated": "from-device"}},
    "actions": {"forwarding": "accept"}}]}}]}}
EOF

iperf() {
	ip netns exec "$B" iperf3 -s -1 -B 10.77.0.3 -p 5201 >/dev/null 2>&1 &
	SPID=$!
	sleep 0.5
	ip netns exec "$A" iperf3 -c 10.77.0.3 -p 5201 -t "$SECS" -J > "$WORK/iperf.out" 2>&1
	wait "$SPID" 2>/dev/null
	SPID=
	python3 - "$WORK/iperf.out" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print("%.2f Gbit/s" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception as e:
    print("failed (%s)" % e)
EOF
}

echo "== iperf3 through the bridge, ${SECS}s, br_netfilter on"
echo "no rlm_mud table:             $(iperf)"
ip netns exec "$GW" "$BENCH" -i 999 || exit 1
ip netns exec "$GW" "$MUDCTL" enforce apply "$MAC" "$WORK/iperf.json" >/dev/null || exit 1
n=$(ip netns exec "$GW" "$MUDCTL" enforce show | sed -n 's/^devices: //p')
echo "$n devices' rules (sender's): $(iperf)"
ip netns exec "$GW" "$MUDCTL" enforce flush --all >/dev/null
