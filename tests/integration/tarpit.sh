#!/bin/sh
#
# tarpit.sh - never block a RADIUS worker (issue 10), end to end, in a network and mount
# namespace this test creates (unshare --net --mount: only "lo" exists, no packet leaves).
#
# Inside it, 93.184.216.34 (an address in no special-purpose registry, present only on this
# namespace's lo) runs a tarpit: 40 TCP ports that accept connections and never send a byte.
# 40 devices announce MUD URLs on them (40 authorities, so every fetch thread can stall), with
# the default fetch_mode = background and long timeouts (connect 60 s, total 120 s: the
# fetches stay stalled for the whole test). Then, while they are in flight:
#   - each of the 40 got MUD-Status = pending (quarantine VLAN) at once;
#   - a warm MAB of another device (policy cached) gets its VLAN and dACL, and the download
#     of that dACL is answered: radclient with one try and a 3 s wait (a Catalyst waits 5 s);
#   - the tarpit holds at most fetch_threads (4) connections: the other URLs wait in the queue
#     without a thread;
#   - stopping the server with the fetches stalled: they are cancelled and it exits.
# The answer times are printed (not asserted; benchmarks: tests/bench/bench_radclient.sh).
#
# Needs root, unshare and ip (else exit 77: SKIP).
#
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${TARPIT_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (it creates a network namespace)"
		exit 77
	fi
	for p in unshare ip mount; do
		if ! command -v "$p" >/dev/null 2>&1; then
			echo "SKIP: $p not installed"
			exit 77
		fi
	done
	if ! unshare --net --mount true 2>/dev/null; then
		echo "SKIP: unshare --net --mount is not permitted here"
		exit 77
	fi
	TARPIT_IN_NS=1
	export TARPIT_IN_NS
	exec unshare --net --mount --propagation private -- /bin/sh "$0" "$@"
fi

. "$here/lib.sh"

N=40
TARPIT=93.184.216.34
it_require
IT_SETTLE=0	# the pending answers are what this test checks
it_setup
C=$IT_WORK/cases

ok=0
ip link set lo up || ok=1
[ "$(ip -o link show | wc -l)" -eq 1 ] || ok=1		# lo only: nothing leaves
ip addr add "$TARPIT/32" dev lo || ok=1
if [ "$ok" -ne 0 ]; then
	echo "FAIL: the namespace is not isolated or $TARPIT cannot be added"
	exit 1
fi

# The tarpit: N listening ports, every connection accepted and held, never a byte sent.
python3 - "$TARPIT" "$N" "$IT_WORK/tarpit.ports" > "$IT_WORK/tarpit.log" 2>&1 <<'EOF' &
import os, selectors, socket, sys
addr, n, portfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sel = selectors.DefaultSelector()
ports = []
for _ in range(n):
    s = socket.socket()
    s.bind((addr, 0))
    s.listen(16)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    ports.append(s.getsockname()[1])
with open(portfile + ".tmp", "w") as f:
    f.write("\n".join(str(p) for p in ports) + "\n")
os.replace(portfile + ".tmp", portfile)
held = []
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        held.append(c)
        print("accepted", len(held), c.getsockname()[1], flush=True)
EOF
IT_PIDS="$IT_PIDS $!"
i=0
while [ ! -s "$IT_WORK/tarpit.ports" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$IT_WORK/tarpit.ports" ] || { echo "FAIL: the tarpit did not start"; exit 1; }

it_start_web
it_publish warm signer
MUD_TIMEOUT=120 MUD_CONNECT_TIMEOUT=60 MUD_OPTS="	fetch_threads = 4
	fetch_per_authority = 2" it_make_raddb raddb-tarpit
it_start_radiusd

# now_ms: wall clock in milliseconds (for the printed answer times only)
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

# The warm device first: its policy cached (pending, then the policy).
it_lldp_mab "$C/warm" 00:11:22:33:fe:01 "$BASE/it/warm.json"
IT_SETTLE=1 it_send auth "$C/warm" > "$C/warm0.out"
it_has "$C/warm0.out" '"mud-status=ok"' || { echo "FAIL: warm device not served"; exit 1; }

# N devices at once (one radclient, N requests in flight), each URL on its own tarpit port.
n=0
: > "$C/tar"
for port in $(cat "$IT_WORK/tarpit.ports"); do
	n=$((n + 1))
	it_lldp_mab "$C/tar$n" "00:11:22:33:ef:$(printf %02x $n)" "https://$TARPIT:$port/dev$n.json"
	cat "$C/tar$n" >> "$C/tar"
	echo >> "$C/tar"
done
t0=$(now_ms)
radclient -x -p "$N" -r 1 -t 3 -f "$C/tar" "127.0.0.1:$AUTH_PORT" auth "$SECRET" \
	> "$C/tar.out" 2>&1
t1=$(now_ms)
pending=$(grep -c '"mud-status=pending"' "$C/tar.out")
q=$(grep -c 'Tunnel-Private-Group-Id:0 = "999"' "$C/tar.out")
[ "$q" = "$N" ] || pending=0
# the fetch threads are stalled on the tarpit now
i=0
while [ "$(grep -c accepted "$IT_WORK/tarpit.log")" -lt 4 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
it_result "$N devices on $N stalled MUD servers: all answered pending at once (quarantine)" \
	"$([ "$pending" = "$N" ]; echo $?)" "pending=$pending"
echo "  ($N requests in flight answered in $((t1 - t0)) ms in all, radclient included)"

ok=0
t2=$(now_ms)
radclient -x -r 1 -t 3 -f "$C/warm" "127.0.0.1:$AUTH_PORT" auth "$SECRET" > "$C/warm.out" 2>&1
t3=$(now_ms)
it_has "$C/warm.out" '"mud-status=ok"' || ok=1
[ "$(it_vlan "$C/warm.out")" = 100 ] || ok=1
it_dacl "$C/dl" "$(it_acl_name "$C/warm.out" IP)"
t4=$(now_ms)
radclient -x -r 1 -t 3 -f "$C/dl" "127.0.0.1:$AUTH_PORT" auth "$SECRET" > "$C/dl.out" 2>&1
t5=$(now_ms)
it_has "$C/dl.out" "Received Access-Accept" || ok=1
[ -n "$(it_lines "$C/dl.out")" ] || ok=1
held=$(grep -c accepted "$IT_WORK/tarpit.log")
it_result "with the fetches stalled: warm MAB and dACL download answered (one try, 3 s)" $ok \
	"warm: $(it_code "$C/warm.out"), download: $(it_code "$C/dl.out")"
echo "  (warm MAB $((t3 - t2)) ms, dACL download $((t5 - t4)) ms, with $held tarpit" \
	"connection(s) held)"
it_result "the tarpit holds at most fetch_threads (4) connections; the other URLs wait" \
	"$([ "$held" -ge 1 ] && [ "$held" -le 4 ]; echo $?)" "connections=$held"

# Stop with the fetches stalled: cancelled, the server exits.
it_stop_radiusd
n=$(grep -c "dev[0-9]*.json: cancelled (the fetch service stopped)" "$RAD_LOG")
it_result "stop with $held stalled fetches: $n cancelled, the server exited" \
	"$([ "$n" -ge 1 ]; echo $?)"
it_finish
