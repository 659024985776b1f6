#!/bin/sh
# mudctl iodef send / verify / decrypt on files that are not what they are named:
# a FIFO is refused at once (never opened, so nothing blocks: each command runs
# under a 20 s timeout), a symbolic link is refused, a spool directory others can
# write to is refused, and a planted link named like a report is skipped with a
# warning and its target never read. No network: the receiver URL is never
# reached because there is nothing to send.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MUDCTL:=$top_srcdir/rlm_mud/mudctl}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

# expect NAME STATUS PATTERN -- CMD...: run CMD (20 s at most), check exit status and that
# stdout+stderr contains PATTERN (grep -F; "" = anything).
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	timeout 20 "$@" >"$TMP/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ] && { [ -z "$pat" ] || grep -qF -- "$pat" "$TMP/out"; }; then
		pass=$((pass + 1))
		echo "PASS: $name"
	else
		fail=$((fail + 1))
		echo "FAIL: $name (exit $got, want $want, pattern '$pat')"
		sed 's/^/    | /' "$TMP/out" | head -20
	fi
}

# A report to work with (unsigned), a root-only secret, and the planted files.
mkdir -m 0700 "$TMP/spool"
"$MUDCTL" iodef render --event url-refused --mac 00:11:22:33:44:55 --text x > "$TMP/doc.xml" ||
	{ echo "FAIL: cannot render a report"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test-ca \
	-days 1 -keyout "$TMP/ca.key" -out "$TMP/ca.pem" >/dev/null 2>&1 ||
	{ echo "FAIL: openssl cannot make a test CA"; exit 1; }
printf 'ROOT-ONLY-SECRET\n' > "$TMP/secret"
chmod 0600 "$TMP/secret"
mkfifo "$TMP/fifo"
ln -s "$TMP/doc.xml" "$TMP/link.xml"
ID=20990101T000000Z-000000000000000000000000000000
mkfifo "$TMP/spool/${ID}0a.xml"
ln -s "$TMP/secret" "$TMP/spool/${ID}0b.xml"

# verify and decrypt: a FIFO or a link is refused without being opened.
expect "verify: FIFO as the document" 2 "a FIFO, not a regular file" -- \
	"$MUDCTL" iodef verify "$TMP/fifo" "$TMP/doc.xml" --ca "$TMP/ca.pem"
expect "verify: FIFO as the signature" 2 "a FIFO, not a regular file" -- \
	"$MUDCTL" iodef verify "$TMP/doc.xml" "$TMP/fifo" --ca "$TMP/ca.pem"
expect "verify: symbolic link" 2 "a symbolic link, not a regular file" -- \
	"$MUDCTL" iodef verify "$TMP/link.xml" "$TMP/doc.xml" --ca "$TMP/ca.pem"
expect "decrypt: FIFO" 2 "a FIFO, not a regular file" -- \
	"$MUDCTL" iodef decrypt "$TMP/fifo" --key "$TMP/doc.xml" --cert "$TMP/doc.xml"
expect "decrypt: directory" 2 "a directory, not a regular file" -- \
	"$MUDCTL" iodef decrypt "$TMP/spool" --key "$TMP/doc.xml" --cert "$TMP/doc.xml"

# send: planted FIFO and link are skipped with a warning; nothing is sent.
expect "send: FIFO and link skipped" 0 \
	"b.xml skipped: a symbolic link" -- \
	"$MUDCTL" iodef send "$TMP/spool" --url https://127.0.0.1:9/never --timeout 1
if grep -qF "a.xml skipped: a FIFO" "$TMP/out" && grep -qF "0 sent, 0 kept" "$TMP/out" &&
   ! grep -qF "ROOT-ONLY-SECRET" "$TMP/out" && [ -L "$TMP/spool/${ID}0b.xml" ]; then
	pass=$((pass + 1))
	echo "PASS: send: FIFO warned, nothing sent, the link left in place"
else
	fail=$((fail + 1))
	echo "FAIL: send: FIFO warned, nothing sent, the link left in place"
	sed 's/^/    | /' "$TMP/out" | head -20
fi

# send: a spool directory others can write to, or a link to one, is refused.
chmod 0777 "$TMP/spool"
expect "send: world-writable spool" 2 \
	"spool directory is writable by others (mode 0777): chmod go-w" -- \
	"$MUDCTL" iodef send "$TMP/spool" --url https://127.0.0.1:9/never
chmod 0700 "$TMP/spool"
ln -s "$TMP/spool" "$TMP/spool-link"
expect "send: spool directory given as a link" 2 "spool directory is a symbolic link" -- \
	"$MUDCTL" iodef send "$TMP/spool-link" --url https://127.0.0.1:9/never

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
