#!/bin/sh
#
# mud-dhcp-hook.sh - dnsmasq --dhcp-script that hands a device's MUD URL (DHCPv4 option
# 161, DHCPv6 option 112; dnsmasq passes it as DNSMASQ_MUD_URL) to FreeRADIUS as the
# Cisco-AVPair a switch's device sensor sends, in a MAB-style Access-Request: rlm_mud
# fetches the policy and, with enforce = nftables, installs the device's rules on the
# Access-Accept (docs/enforce.md). Tested by tests/netns/enforce.sh (dhcp-hook).
#
#   dnsmasq: dhcp-script=/usr/local/sbin/mud-dhcp-hook.sh
#   arguments: add|old|del MAC IP [HOSTNAME]
#
# Environment: MUD_HOOK_SERVER (default 127.0.0.1:1812), MUD_HOOK_SECRET_FILE (default
# /etc/freeradius/mud-hook.secret: the shared secret of a client entry for 127.0.0.1),
# MUD_HOOK_DHCP6=1 for the DHCPv6 option 112 form, MUDCTL (default: mudctl in PATH).
#
set -u
[ "${1:-}" = add ] || [ "${1:-}" = old ] || exit 0
[ -n "${DNSMASQ_MUD_URL:-}" ] || exit 0
mac=${2:-}
case $mac in
[0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F]:*) ;;
*) exit 0 ;;
esac
opt=--dhcp
[ "${MUD_HOOK_DHCP6:-0}" = 1 ] && opt=--dhcp6
# the AV-pair line, the URL checked as the module checks it: a refused URL is not sent
avpair=$("${MUDCTL:-mudctl}" avpair "$opt" "$DNSMASQ_MUD_URL") || exit 0
secret=$(cat "${MUD_HOOK_SECRET_FILE:-/etc/freeradius/mud-hook.secret}") || exit 1
printf '%s\n' "User-Name = \"$mac\"" "User-Password = \"$mac\"" \
	"Calling-Station-Id = \"$mac\"" "Service-Type = Call-Check" "$avpair" |
	radclient -r 2 -t 5 "${MUD_HOOK_SERVER:-127.0.0.1:1812}" auth "$secret" >/dev/null
