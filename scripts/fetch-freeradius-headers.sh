#!/bin/sh
# Fetch the FreeRADIUS headers that Debian 12's libfreeradius-dev does not ship
# (radiusd.h needs them) from Debian's source package of the *installed* server
# version, and install them into DEST/freeradius/. Nothing is committed: they are
# build inputs, fetched at build time. Uses a private apt configuration so the
# system's sources are untouched.
#   usage: fetch-freeradius-headers.sh DEST
set -eu

DEST=${1:?usage: $0 DEST}
HDRS="automask.h connection.h log.h xlat.h tmpl.h clients.h process.h listen.h"

done_all=1
for h in $HDRS; do
	[ -f "$DEST/freeradius/$h" ] || done_all=0
done
if [ "$done_all" -eq 1 ]; then
	exit 0
fi

VER=$(dpkg-query -W -f='${Version}' freeradius 2>/dev/null || true)
if [ -z "$VER" ]; then
	VER=$(dpkg-query -W -f='${Version}' libfreeradius-dev)
fi
UPVER=${VER%-*}            # 3.2.1+dfsg
UPVER=${UPVER#*:}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM

# The system's deb lines, turned into deb-src lines, in a private list.
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial"
SRCLIST="$WORK/sources.list"
: > "$SRCLIST"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	awk '
	/^URIs:/ { uri=$2 }
	/^Suites:/ { n=split($0, a, " "); suites=""; for (i=2;i<=n;i++) suites=suites" "a[i] }
	/^Components:/ { comps=substr($0, index($0,$2)) ;
		n=split(suites, s, " "); for (i=1;i<=n;i++) print "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " uri " " s[i] " " comps }
	' /etc/apt/sources.list.d/debian.sources >> "$SRCLIST"
fi
if [ -f /etc/apt/sources.list ]; then
	sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >> "$SRCLIST"
fi
if [ ! -s "$SRCLIST" ]; then
	echo "deb-src http://deb.debian.org/debian bookworm main" > "$SRCLIST"
fi

APTOPT="-o Dir::Etc::SourceList=$SRCLIST -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists=$WORK/lists -o Dir::Cache=$WORK/cache -o Debug::NoLocking=1 \
	-o APT::Sandbox::User=root"
# shellcheck disable=SC2086
apt-get $APTOPT update -qq >/dev/null
( cd "$WORK" && apt-get $APTOPT source --download-only -qq "freeradius=$VER" >/dev/null )

TARBALL=$(ls "$WORK"/freeradius_*.orig.tar.* 2>/dev/null | head -n 1)
if [ -z "$TARBALL" ]; then
	echo "fetch-freeradius-headers: no orig tarball for freeradius=$VER" >&2
	exit 1
fi
mkdir -p "$WORK/src" "$DEST/freeradius"
tar -C "$WORK/src" -xf "$TARBALL" --wildcards '*/src/include/*.h'
for h in $HDRS; do
	f=$(find "$WORK/src" -path "*/src/include/$h" | head -n 1)
	if [ -z "$f" ]; then
		echo "fetch-freeradius-headers: $h missing from $TARBALL" >&2
		exit 1
	fi
	sed 's|freeradius-devel/|freeradius/|g' "$f" > "$DEST/freeradius/$h"
done
echo "fetch-freeradius-headers: installed $HDRS from freeradius $UPVER into $DEST/freeradius"
