# -*- text -*-
#
#  dictionary.mud - internal attributes of rlm_mud (RFC 8520 MUD).
#
#  These attributes live only inside the server: their numbers are in the
#  3000-3999 block that FreeRADIUS reserves for local, never-on-the-wire
#  attributes (see raddb/dictionary).  Nothing here is sent to a NAS.
#
#  Install: copy to the raddb directory and add to raddb/dictionary
#
#	$INCLUDE dictionary.mud
#
#  3000-3019 are used below.  3190 and 3191 are taken by rlm_mud at start-up
#  for TLS-Client-Cert-1.3.6.1.5.5.7.1.25 (id-pe-mud-url) and
#  TLS-Client-Cert-1.3.6.1.5.5.7.1.30 (id-pe-mudsigner), as octets, unless a
#  dictionary already defines those names.  Do not reuse these numbers.
#

#  Input (set by policy) and output (set by rlm_mud, control list).
ATTRIBUTE	MUD-URL					3000	string

#  Where the URL came from: attribute, lldp, dhcpv4, dhcpv6, x509,
#  accounting-<source> (learned from an earlier Accounting-Request).
ATTRIBUTE	MUD-URL-Source				3001	string

#  From the MUD file's systeminfo (mfg-name, model-name); untrusted text.
ATTRIBUTE	MUD-Manufacturer			3002	string
ATTRIBUTE	MUD-Model				3003	string

#  Outcome of the last rlm_mud call for this request.
ATTRIBUTE	MUD-Status				3004	integer

VALUE	MUD-Status			ok			1
VALUE	MUD-Status			no-url			2
VALUE	MUD-Status			url-invalid		3
VALUE	MUD-Status			url-refused		4
VALUE	MUD-Status			fetch-failed		5
VALUE	MUD-Status			tls-failed		6
VALUE	MUD-Status			signature-invalid	7
VALUE	MUD-Status			invalid-file		8
VALUE	MUD-Status			url-mismatch		9
VALUE	MUD-Status			internal-error		10
VALUE	MUD-Status			url-conflict		11
VALUE	MUD-Status			acl-unknown		12
VALUE	MUD-Status			acl-served		13
VALUE	MUD-Status			acl-conflict		14
VALUE	MUD-Status			pending			15

#  dACL name(s) issued (IPv4 and IPv6 names are separate values).
ATTRIBUTE	MUD-ACL-Name				3005	string

#  Reason of a failure: "<text> (at <where>)", escaped and bounded.
ATTRIBUTE	MUD-Error				3006	string

#  VLAN applied (from the site context's manufacturer mapping), or the
#  quarantine VLAN on failure.
ATTRIBUTE	MUD-VLAN				3007	integer

#  How the policy was obtained: hit, stale, negative, fetched, waited (for
#  a fetch in progress in another thread), busy (gave up waiting).
ATTRIBUTE	MUD-Cache				3008	string

#  Seconds until the applied policy expires from the cache.
ATTRIBUTE	MUD-Expires-In				3009	integer
