#!/bin/sh
#
# deb.sh - the Debian package, end to end, on this machine (a "slow suite": only when
# MUD_SLOW_SUITES=1, which scripts/test.sh sets for its gcc build alone).
#
#   1. builds freeradius-mud and mudctl with dpkg-buildpackage -us -uc -b from a copy of the
#      source tree (FreeRADIUS headers from this build's fetch, scripts/fetch-freeradius-headers.sh),
#      and runs lintian on them (tags are printed, not judged),
#   2. under an exclusive flock (tests/integration/lib.sh IT_SYSLOCK: suites copying the system
#      raddb wait) installs them with dpkg -i into Debian's own /etc/freeradius/3.0, checks the
#      Depends pin, the conffiles and the postinst's directories,
#   3. sets the site options (test CA, signer, context, cache_dir) in mods-available/mud and runs
#      the enabling block of docs/install.md as written, then freeradius -XC on that raddb,
#   4. starts that server with its listen sections moved to 127.0.0.1 and free ports,
#      sends a MAB request with the LLDP MUD AV-pair (mudctl avpair) and the dACL download,
#   5. stops it by PID, dpkg --purge both packages, undoes the enabling steps and checks that
#      /etc/freeradius/3.0 is exactly as before (paths, modes, owners, link targets, checksums)
#      and that the cache and spool directories are gone. Any difference fails the test, after
#      the whole directory is put back from the copy taken at the start.
# Exit 77 when not root, not asked for, or the packaging tools are missing.
#
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

if [ "${MUD_SLOW_SUITES:-0}" != 1 ]; then
	echo "SKIP: slow suite (set MUD_SLOW_SUITES=1; scripts/test.sh does for the gcc build)"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (installs into /etc/freeradius/3.0)"
	exit 77
fi
for p in dpkg-buildpackage dh dpkg-checkbuilddeps flock; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "SKIP: $p not installed (scripts/install-deps.sh installs debhelper, devscripts)"
		exit 77
	fi
done
for p in freeradius-mud mudctl; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
		echo "SKIP: $p is already installed on this machine; not touching it"
		exit 77
	fi
done

# shellcheck source=../integration/lib.sh
. "$top_srcdir/tests/integration/lib.sh"
it_require
it_setup

ETC=$SYS_RADDB
DONE_INSTALL=0
LOCKED=0

deb_restore() {
	if [ -n "$RAD_PID" ]; then
		it_stop_radiusd
	fi
	if [ "$DONE_INSTALL" -eq 1 ]; then
		dpkg --purge freeradius-mud mudctl >"$IT_WORK/purge.log" 2>&1 || cat "$IT_WORK/purge.log"
		DONE_INSTALL=0
	fi
	if [ -d "$IT_WORK/etc-before" ] && ! deb_same; then
		echo "deb.sh: $ETC differs from before: restoring it from the copy"
		rm -rf "$ETC" && cp -a "$IT_WORK/etc-before" "$ETC"
	fi
	if [ "$LOCKED" -eq 1 ]; then
		flock -u 8
		LOCKED=0
	fi
}

deb_cleanup() {
	rc=$?
	deb_restore
	(exit "$rc")
	it_cleanup
}
trap deb_cleanup EXIT

# A listing of a tree: path, type, mode, owner, group, link target, checksum.
deb_listing() {
	(cd "$1" && find . -printf '%p %y %m %u %g %l\n' | sort) > "$2.meta"
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum) > "$2.sum"
	cat "$2.meta" "$2.sum" > "$2"
}
deb_same() {
	deb_listing "$ETC" "$IT_WORK/etc-after.list"
	cmp -s "$IT_WORK/etc-before.list" "$IT_WORK/etc-after.list"
}

# ---- 1. build ---------------------------------------------------------------------------
SRC="$IT_WORK/pkg/src"
mkdir -p "$SRC"
(cd "$top_srcdir" && tar -cf - --exclude=./_build --exclude=./.git --exclude='./rlm_mud-*' \
	--exclude=autom4te.cache --exclude=.libs --exclude=.deps --exclude='*.o' --exclude='*.lo' \
	--exclude='*.la' .) | tar -C "$SRC" -xf -
chmod -R u+w "$SRC"
# A source tree configured in place (or packaged before) leaves results dh must not see.
(
	cd "$SRC" || exit 1
	rm -f config.status config.log config.h libtool stamp-h1
	find . -name Makefile.am | sed 's/\.am$//' | xargs rm -f
	rm -rf debian/tmp debian/.debhelper debian/files debian/*.substvars debian/freeradius-mud \
		debian/mudctl debian/debhelper-build-stamp debian/fr-include debian/*.debhelper.log
)
if ! (cd "$SRC" && dpkg-checkbuilddeps) >"$IT_WORK/builddeps.log" 2>&1; then
	cat "$IT_WORK/builddeps.log"
	echo "SKIP: build dependencies of debian/control missing"
	exit 77
fi
FR_INC=$(sed -n 's/^FR_INCLUDE = //p' "$top_builddir/rlm_mud/Makefile" 2>/dev/null)
if [ -n "$FR_INC" ] && [ -f "$FR_INC/freeradius/automask.h" ]; then
	export FR_INCLUDE="$FR_INC"
fi
if ! (cd "$SRC" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
	>"$IT_WORK/build.log" 2>&1; then
	tail -n 40 "$IT_WORK/build.log"
	it_result "dpkg-buildpackage -us -uc -b" 1
	exit 1
fi
it_result "dpkg-buildpackage -us -uc -b" 0
DEB="$IT_WORK/pkg/freeradius-mud_"*.deb
DEB=$(echo $DEB)
CTL=$(echo "$IT_WORK/pkg/mudctl_"*.deb)

if command -v lintian >/dev/null 2>&1; then
	# lintian refuses to run as root in future releases: as nobody when possible.
	chmod 755 "$IT_WORK" "$IT_WORK/pkg"
	chmod 644 "$DEB" "$CTL"
	if command -v runuser >/dev/null 2>&1; then
		runuser -u nobody -- env HOME=/tmp lintian -EvIL +pedantic "$DEB" "$CTL" \
			>"$IT_WORK/lintian.log" 2>&1
	else
		lintian -EvIL +pedantic "$DEB" "$CTL" >"$IT_WORK/lintian.log" 2>&1
	fi
	echo "lintian tags ($(grep -c '^[EWIPX]:' "$IT_WORK/lintian.log") ):"
	grep '^[EWIPX]:' "$IT_WORK/lintian.log"
	grep -q '^E:' "$IT_WORK/lintian.log"
	it_result "lintian: no errors" $(( ! $? ))
fi

DEP=$(dpkg-deb -f "$DEB" Depends)
FRV=$(sed -n 's/^#define RADIUSD_VERSION_STRING "\([0-9.]*\)"/\1/p' /usr/include/freeradius/features.h)
echo "Depends: $DEP"
case "$DEP" in
*"freeradius (>= $FRV), freeradius (<< "*) r=0 ;;
*) r=1 ;;
esac
it_result "Depends pins freeradius $FRV" $r
dpkg-deb -e "$DEB" "$IT_WORK/ctl"
r=0
for f in mods-available/mud policy.d/mud sites-available/mud; do
	grep -qx "/etc/freeradius/3.0/$f" "$IT_WORK/ctl/conffiles" || r=1
done
it_result "conffiles: mods-available, policy.d, sites-available" $r

# ---- 2. install under the lock ----------------------------------------------------------
[ -e "$IT_SYSLOCK" ] || { : >>"$IT_SYSLOCK"; chmod 0644 "$IT_SYSLOCK"; }
exec 8<"$IT_SYSLOCK"
if ! flock -x -w 900 8; then
	echo "FAIL: lock $IT_SYSLOCK"
	exit 1
fi
LOCKED=1
deb_listing "$ETC" "$IT_WORK/etc-before.list"
cp -a "$ETC" "$IT_WORK/etc-before"
for d in /var/lib/freeradius/mud /var/spool/freeradius/mud-iodef; do
	if [ -e "$d" ]; then
		echo "SKIP: $d exists before the install"
		exit 77
	fi
done

DONE_INSTALL=1
if ! dpkg -i "$DEB" "$CTL" >"$IT_WORK/install.log" 2>&1; then
	cat "$IT_WORK/install.log"
	it_result "dpkg -i" 1
	exit 1
fi
it_result "dpkg -i freeradius-mud mudctl" 0
r=0
[ -f /usr/lib/freeradius/rlm_mud.so ] && [ -f /usr/share/freeradius/dictionary.mud ] && \
	[ -f "$ETC/mods-available/mud" ] && [ -x /usr/bin/mudctl ] || r=1
it_result "files in Debian's places" $r
r=0
[ "$(stat -c '%U:%G %a' /var/lib/freeradius/mud)" = "freerad:freerad 750" ] || r=1
[ "$(stat -c '%U:%G %a' /var/spool/freeradius/mud-iodef)" = "freerad:freerad 700" ] || r=1
it_result "postinst: cache 0750 and spool 0700, owned by freerad" $r
freeradius -XC -d "$ETC" >"$IT_WORK/xc0.log" 2>&1
it_result "installed, not enabled: freeradius -XC unchanged" $? "$(tail -n 3 "$IT_WORK/xc0.log")"

# ---- 3. configure and enable (docs/install.md, as written) --------------------------------
it_start_web
it_publish pkg-device signer
PUB="$IT_WORK/pub"
mkdir -p "$PUB"
cp "$IT_WORK/pki/ca.pem" "$IT_WORK/sig/signer-ca.pem" "$PUB/"
cp "$top_srcdir/tests/integration/mud/context.json" "$PUB/mud-context.json"
chmod 755 "$IT_WORK" "$PUB"
chmod 644 "$PUB"/*
it_py_edit "$ETC/mods-available/mud" "
s = s.replace('#\tca_file = \"\${certdir}/mud-server-cas.pem\"', '\tca_file = \"$PUB/ca.pem\"', 1)
s = s.replace('#\ttrust_file = \"\${certdir}/mud-signers.pem\"', '\ttrust_file = \"$PUB/signer-ca.pem\"', 1)
s = s.replace('#\tcontext = \"\${raddbdir}/mud-context.json\"', '\tcontext = \"$PUB/mud-context.json\"', 1)
s = s.replace('#\tcache_dir = \"/var/lib/freeradius/mud\"', '\tcache_dir = \"/var/lib/freeradius/mud\"', 1)
s = re.sub(r'(?m)^\tallow_private_urls = no$', '\tallow_private_urls = yes', s, 1)
s = re.sub(r'(?m)^\tquarantine_vlan = 0$', '\tquarantine_vlan = 999', s, 1)
"
sed -n '/^<!-- verify: enable -->$/,/^```$/p' "$top_srcdir/docs/install.md" | sed '1,2d;$d' \
	> "$IT_WORK/enable.sh"
(sh -e "$IT_WORK/enable.sh") >"$IT_WORK/enable.log" 2>&1
r=$?
cat "$IT_WORK/enable.log"
grep -q "Configuration appears to be OK" "$IT_WORK/enable.log" || r=1
it_result "docs/install.md enabling block, as written" $r
r=0
[ "$(grep -c '^	mud_authorize$\|^	mud_accounting$\|^	mud_post_auth$' \
	"$ETC/sites-available/default")" -eq 3 ] || r=1
it_result "sites-available/default: three lines merged" $r
freeradius -XC -d "$ETC" >"$IT_WORK/xc.log" 2>&1
r=$?
grep -q "Loaded module rlm_mud\|# Loaded module rlm_mud\|rlm_mud" "$IT_WORK/xc.log" || r=1
it_result "freeradius -XC on the real raddb loads rlm_mud" $r "$(tail -n 5 "$IT_WORK/xc.log")"

# ---- 4. the server on a test port ---------------------------------------------------------
# -i/-p would bypass the virtual servers: instead the listen sections of this raddb move to
# 127.0.0.1 and free ports (IPv6 ones removed, inner-tunnel off 18120, no proxy socket) for the
# run; these edits are undone with everything else.
AUTH_PORT=$(it_free_port)
ACCT_PORT=$(it_free_port)
while [ "$ACCT_PORT" = "$AUTH_PORT" ]; do ACCT_PORT=$(it_free_port); done
INNER_PORT=$(it_free_port)
it_py_edit "$ETC/sites-available/default" "
blocks = re.split(r'(?m)^(?=listen \{$)', s)
out = []
for b in blocks:
    if b.startswith('listen {'):
        end = b.index('\n}\n') + 3
        head, tail = b[:end], b[end:]
        if re.search(r'(?m)^\s*ipv6addr = ::', head):
            head = ''
        head = re.sub(r'(?m)^(\s*)ipaddr = \*', r'\g<1>ipaddr = 127.0.0.1', head)
        b = head + tail
    out.append(b)
s = ''.join(out)
s = re.sub(r'(?m)^(\s*)port = 0$', r'\g<1>port = $AUTH_PORT', s, 1)
s = re.sub(r'(?m)^(\s*)port = 0$', r'\g<1>port = $ACCT_PORT', s, 1)
"
it_py_edit "$ETC/sites-available/inner-tunnel" "s = s.replace('port = 18120', 'port = $INNER_PORT')"
it_py_edit "$ETC/radiusd.conf" "
s = re.sub(r'(?m)^proxy_requests\s*=.*$', 'proxy_requests = no', s)
s = re.sub(r'(?m)^(\s*)reject_delay = .*$', r'\1reject_delay = 0', s)
"
RADDB="$IT_WORK/sys"
mkdir -p "$RADDB.d"
chown freerad "$RADDB.d"
RAD_LOG="$RADDB.d/radius.log"
freeradius -f -xx -d "$ETC" -l "$RAD_LOG" >"$RADDB.out" 2>&1 &
RAD_PID=$!
i=0
while ! grep -q "Ready to process requests" "$RAD_LOG" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 300 ] || ! kill -0 "$RAD_PID" 2>/dev/null; then
		tail -n 30 "$RADDB.out" "$RAD_LOG" 2>/dev/null
		RAD_PID=
		it_result "freeradius starts on 127.0.0.1:$AUTH_PORT" 1
		exit 1
	fi
	sleep 0.1
done
it_result "freeradius starts on 127.0.0.1:$AUTH_PORT" 0

URL="$BASE/it/pkg-device.json"
{
	echo 'User-Name = "00-11-22-33-44-55"'
	echo 'User-Password = "00-11-22-33-44-55"'
	echo 'Service-Type = Call-Check'
	echo 'Calling-Station-Id = "00-11-22-33-44-55"'
	echo 'NAS-IP-Address = 127.0.0.1'
	/usr/bin/mudctl avpair --lldp "$URL"
} > "$IT_WORK/mab.txt"
it_send auth "$IT_WORK/mab.txt" > "$IT_WORK/mab.out"
V4=$(it_acl_name "$IT_WORK/mab.out" IP)
r=0
[ "$(it_code "$IT_WORK/mab.out")" = "Received Access-Accept" ] && [ -n "$V4" ] || r=1
it_result "MAB with the LLDP AV-pair: Access-Accept, VLAN $(it_vlan "$IT_WORK/mab.out"), $V4" $r \
	"$(sed -n '/^Received/,$p' "$IT_WORK/mab.out")"
if [ -n "$V4" ]; then
	it_dacl "$IT_WORK/dl.txt" "$V4"
	it_send auth "$IT_WORK/dl.txt" > "$IT_WORK/dl.out"
	n=$(it_lines "$IT_WORK/dl.out" | wc -l)
	r=0
	[ "$(it_code "$IT_WORK/dl.out")" = "Received Access-Accept" ] && [ "$n" -gt 0 ] || r=1
	it_result "dACL download: $n lines" $r "$(sed -n '/^Received/,$p' "$IT_WORK/dl.out")"
fi
n=$(find /var/lib/freeradius/mud -type f | wc -l)
r=0
[ "$n" -gt 0 ] || r=1
it_result "cache persisted in /var/lib/freeradius/mud ($n files)" $r
it_stop_radiusd

# ---- 5. remove and compare --------------------------------------------------------------
dpkg --purge freeradius-mud mudctl >"$IT_WORK/purge.log" 2>&1
it_result "dpkg --purge freeradius-mud mudctl" $? "$(cat "$IT_WORK/purge.log")"
DONE_INSTALL=0
# Undo the enabling steps and the test ports (edits of freeradius-config's files; the purge
# removed mods-enabled/mud's target and the package's conffiles).
rm -f "$ETC/mods-enabled/mud"
for f in dictionary radiusd.conf sites-available/default sites-available/inner-tunnel; do
	cp -a "$IT_WORK/etc-before/$f" "$ETC/$f"
done
r=0
if ! deb_same; then
	diff "$IT_WORK/etc-before.list" "$IT_WORK/etc-after.list" | head -n 20
	r=1
fi
it_result "/etc/freeradius/3.0 exactly as before" $r
r=0
for p in /var/lib/freeradius /var/spool/freeradius /usr/lib/freeradius/rlm_mud.so \
	/usr/share/freeradius/dictionary.mud /usr/bin/mudctl; do
	if [ -e "$p" ]; then
		echo "left behind: $p"
		r=1
	fi
done
it_result "purge leaves no file or directory" $r
deb_restore
it_finish
