#!/bin/sh
# Install the Debian 12 packages rlm_mud needs to build, test and run its demo.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -eu

PKGS="build-essential autoconf automake libtool pkg-config clang
freeradius freeradius-utils libfreeradius-dev libtalloc-dev libssl-dev
libcurl4-openssl-dev libjson-c-dev libc-ares-dev libnl-3-dev libnl-route-3-dev libpcre3-dev
libcmocka-dev libxml2-dev libxml2-utils libyang2-tools eapoltest
python3 openssl ca-certificates dpkg-dev xz-utils cppcheck graphviz
debhelper devscripts lintian fakeroot
libnftables-dev iperf3 iputils-ping hostapd wpasupplicant
libhiredis-dev redis-server"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
	echo "install-deps: all packages present"
fi
