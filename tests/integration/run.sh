#!/bin/sh
#
# run.sh - the rlm_mud integration suites against the real FreeRADIUS 3.2
# server, local HTTPS MUD servers, radclient and eapol_test. Each suite starts
# and stops its own servers (by PID) in its own temporary directory:
#
#   core.sh         URL sources, dACL download + paging, cache hit, bad/missing
#                   signature, url_deny, conflict, accounting, xlat
#   failures.sh     server down, TLS (expired, wrong host, untrusted CA), invalid
#                   file, URL mismatch: quarantine + MUD-Status; server still serves
#   cache.sh        expiry + refresh, stale on failed refresh, restart from
#                   cache_dir with the MUD server down, changed file -> new dACL
#   concurrency.sh  parallel first requests for one URL: one fetch, all answered
#   eap.sh          EAP-TLS with / without the MUD URL extension, resumption,
#                   id-pe-mudsigner (right / wrong signer)
#   policy.sh       allow_private_urls = no, url_allow, cisco-inline,
#                   nas-filter-rule, session_timeout
#
# Exit status: 0 all passed, 1 a suite failed, 77 all skipped.
# IT_SUITES="core cache" runs a subset; IT_KEEP=1 keeps the work directories.
#
set -u
here=$(cd "$(dirname "$0")" && pwd)
suites=${IT_SUITES:-"core failures cache concurrency eap policy"}
failed=0
skipped=0
ran=0
for s in $suites; do
	if [ ! -f "$here/$s.sh" ]; then
		echo "==== $s: no such suite"
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s)
	echo "==== $s"
	sh "$here/$s.sh"
	rc=$?
	echo "==== $s: exit $rc, $(($(date +%s) - start)) s"
	case $rc in
	0) ran=$((ran + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
echo "suites: $ran passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || exit 1
[ "$ran" -gt 0 ] || exit 77
exit 0
