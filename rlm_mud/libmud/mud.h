/*
 * mud.h - public API of libmud, the core of rlm_mud.
 *
 * libmud turns untrusted inputs (RADIUS attribute bytes, certificates, HTTPS
 * replies, MUD JSON, CMS signatures) into a validated, compiled rule set and
 * renders it for a NAS. It never includes FreeRADIUS headers and never prints:
 * every failure is reported through a caller-owned mud_error_t.
 *
 * Conventions (docs/design.md):
 *  - mud_rcode_t mud_x(TALLOC_CTX *ctx, T **out, <inputs...>, mud_error_t *err)
 *  - on failure *out is NULL and nothing allocated is left behind;
 *  - every result is a talloc child of ctx;
 *  - the first error set in an mud_error_t wins.
 */
#ifndef MUD_H
#define MUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <talloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 *	Limits.  Each is a hard bound on untrusted input; configuration may lower
 *	the runtime ones (fetch size, timeouts) but never raise these.
 */
#define MUD_MAX_URL_LEN		1024	//!< RFC 8520 sets none; LLDP carries <= 507, DHCPv4 <= 255.
					//!< 1 KiB is ample.
#define MUD_MAX_FILE_SIZE	(1024 * 1024)	//!< Largest MUD file accepted
						//!< (real files are < 64 KiB).
#define MUD_MAX_SIG_SIZE	(64 * 1024)	//!< Largest detached CMS signature
						//!< (a chain of a few certs).
#define MUD_MAX_JSON_DEPTH	32	//!< MUD JSON nests at most ~10 levels
					//!< (acls/acl/aces/ace/matches/tcp/port).
#define MUD_MAX_STRING_LEN	1024	//!< Longest JSON string value accepted (URIs, names,
					//!< systeminfo).
#define MUD_MAX_ACLS		64	//!< ACLs per file; policies reference a handful.
#define MUD_MAX_ACES		1024	//!< ACEs per ACL; Cisco dACLs allow ~1000 lines.
#define MUD_MAX_POLICY_REFS	64	//!< access-list references per direction.
#define MUD_MAX_EXTENSIONS	32	//!< entries in "extensions".
#define MUD_MAX_WARNINGS	64	//!< warnings kept per parse (more are counted, not stored).
#define MUD_MAX_ADDRS_PER_NAME	16	//!< addresses taken from one DNS name or context entry.
#define MUD_DNS_NAMES_DEFAULT	64	//!< distinct DNS names one file may make us resolve
					//!< (context dns.max-names; real files name < 30).
#define MUD_DNS_NAMES_MAX	256	//!< ceiling of dns.max-names.
#define MUD_DNS_BUDGET_DEFAULT_MS	5000	//!< time for all names of one file
						//!< (context dns.timeout).
#define MUD_DNS_BUDGET_MAX_MS	30000	//!< ceiling of dns.timeout.
#define MUD_MAX_RULES		4096	//!< compiled rules per rule set.
#define MUD_MAX_ATTR_LEN	253	//!< RFC 2865 section 5: an attribute value holds at
					//!< most 253 bytes.
#define MUD_MAX_ATTRS		1000	//!< rendered attributes per output (Cisco dACL line limit).
#define MUD_CACHE_VALIDITY_DEFAULT	48	//!< hours, RFC 8520 section 3.7 default.
#define MUD_CACHE_VALIDITY_MIN	1	//!< hours, RFC 8520 YANG range "1..168".
#define MUD_CACHE_VALIDITY_MAX	168	//!< hours, RFC 8520 YANG range "1..168".

/** Result codes. mud_strerror() gives text; mud_rcode_name() the enum name. */
typedef enum {
	MUD_OK = 0,
	MUD_ERR_NOMEM,		//!< allocation failed
	MUD_ERR_ARG,		//!< programmer or usage error (bad argument)
	MUD_ERR_IO,		//!< local file could not be read or written
	MUD_ERR_URL,		//!< MUD URL missing, malformed or not acceptable
	MUD_ERR_TLV,		//!< LLDP/DHCP/X.509 container malformed
	MUD_ERR_FETCH,		//!< transport failure (connect, DNS, protocol)
	MUD_ERR_TIMEOUT,	//!< connect or total timeout reached
	MUD_ERR_TLS,		//!< server certificate or TLS handshake failed
	MUD_ERR_HTTP,		//!< HTTP status not 200
	MUD_ERR_TOOBIG,		//!< body or input larger than its cap
	MUD_ERR_SIG,		//!< signature malformed or verification failed otherwise
	MUD_ERR_SIG_MISSING,	//!< no signature where one is required
	MUD_ERR_SIG_DIGEST,	//!< content does not match the signature (tampered)
	MUD_ERR_SIG_UNTRUSTED,	//!< signer does not chain to a trust anchor
	MUD_ERR_SIG_EXPIRED,	//!< signer or chain not valid at the evaluation time
	MUD_ERR_SIG_SIGNER,	//!< signer is not the device certificate's mud-signer
	MUD_ERR_JSON,		//!< not well-formed JSON (or not UTF-8, or trailing data)
	MUD_ERR_SCHEMA,		//!< JSON violates the YANG models (type, missing leaf,
				//!< unknown node)
	MUD_ERR_SEMANTIC,	//!< well-typed but meaningless (bad reference,
				//!< port without tcp/udp, ...)
	MUD_ERR_MISMATCH,	//!< mud-url in the file differs from the URL it was fetched from
	MUD_ERR_LIMIT,		//!< a bound on counts or sizes was exceeded
	MUD_ERR_UNSUPPORTED,	//!< valid but cannot be expressed by this implementation/target
	MUD_ERR_RENDER,		//!< rule set cannot be rendered for the target
	MUD_ERR_CONTEXT,	//!< site context file invalid
	MUD_ERR_CONFLICT,	//!< a dACL name is already bound to other lines (refused)
	MUD_ERR_REFUSED,	//!< URL (file, signature or redirect hop) refused by the site's
				//!< URL policy (url_allow, url_deny, private addresses)
	MUD_ERR_NOT_MUD,	//!< the input carries no MUD URL (another AV-pair, TLV or option):
				//!< not an error of the device, "no URL here"
	MUD_PENDING,		//!< not an error: the policy is being fetched in the background
				//!< (interim answer)
	MUD_RCODE_MAX		//!< number of codes, not a code
} mud_rcode_t;

/** Error details. Caller-owned (usually on the stack), never allocates. */
typedef struct mud_error {
	mud_rcode_t	code;		//!< first error code set (MUD_OK if none).
	char		where[160];	//!< JSON pointer, URL, byte offset, or library call.
	char		text[256];	//!< human-readable reason.
} mud_error_t;

/** Reset an error to MUD_OK. @param[out] err may be NULL. */
void		mud_error_clear(mud_error_t *err);

/** Record an error; does nothing if err is NULL or already holds one (first wins).
 *
 * @param[out] err	error to fill, may be NULL.
 * @param[in] code	result code.
 * @param[in] where	location (JSON pointer, URL, call); NULL for "".
 * @param[in] fmt	printf-style reason.
 * @return code, so callers can `return mud_error_set(...)`.
 */
mud_rcode_t	mud_error_set(mud_error_t *err, mud_rcode_t code, char const *where,
			      char const *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Static description of a result code. */
char const	*mud_strerror(mud_rcode_t code);

/** Enum name of a result code ("MUD_ERR_SCHEMA"), used in test data. */
char const	*mud_rcode_name(mud_rcode_t code);

/** Short token for a code, e.g. for a MUD-Status attribute ("signature-invalid"). */
char const	*mud_rcode_status(mud_rcode_t code);

/** Optional debug log sink; libmud itself never prints. */
typedef enum { MUD_LOG_DEBUG = 0, MUD_LOG_INFO, MUD_LOG_WARN, MUD_LOG_ERROR } mud_log_level_t;

/** What a caller does with an outcome (the module's rcode). */
typedef enum {
	MUD_ACT_APPLY = 0,	//!< policy applied (module: updated)
	MUD_ACT_NOOP,		//!< nothing to do: no MUD URL, the site's rules decide (noop)
	MUD_ACT_INTERIM,	//!< interim answer: quarantine now, the policy later (updated)
	MUD_ACT_FAIL,		//!< local, transport or server failure (fail)
	MUD_ACT_INVALID		//!< the device's URL or its MUD file is bad or refused (invalid)
} mud_act_t;

/** One row of the outcome table: everything a result code means to its callers (module,
 *  mudctl, incident reports). mud_strerror(), mud_rcode_name(), mud_rcode_status() and
 *  mud_event_from_rcode() read the same table. */
typedef struct mud_outcome {
	mud_rcode_t	code;
	char const	*name;		//!< enum name, "MUD_ERR_SCHEMA"
	char const	*status;	//!< MUD-Status value, "invalid-file"
	char const	*text;		//!< description (mud_strerror)
	mud_log_level_t	level;		//!< radius.log level of a decision with this outcome
	mud_act_t	act;		//!< module rcode class
	int		event;		//!< mud_event_t reported as an incident, -1: none
} mud_outcome_t;

/** The row of a code (an unknown code gets the MUD_ERR_ARG row with code unchanged). */
mud_outcome_t const *mud_outcome(mud_rcode_t code);
typedef void (*mud_log_t)(void *uctx, mud_log_level_t level, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 *	Warnings: non-fatal findings (unknown extension, leniency applied,
 *	unresolved abstraction). Collected in arrays owned by the result.
 */
typedef struct mud_warning {
	char		*where;		//!< JSON pointer or other location.
	char		*text;		//!< what was found and what was done about it.
} mud_warning_t;

/* ====================================================================
 *	MUD URL: extraction and validation (mud_url.c)
 * ==================================================================== */

/** Where a MUD URL came from. */
typedef enum {
	MUD_SRC_NONE = 0,
	MUD_SRC_ATTRIBUTE,	//!< plain attribute set by policy (MUD-URL)
	MUD_SRC_LLDP,		//!< LLDP TLV 127, OUI 00-00-5E, subtype 1
	MUD_SRC_DHCPV4,		//!< DHCPv4 option 161
	MUD_SRC_DHCPV6,		//!< DHCPv6 option 112
	MUD_SRC_X509,		//!< IDevID extension id-pe-mud-url
} mud_url_src_t;

/** Name of a source ("lldp", "dhcpv4", ...). */
char const	*mud_url_src_name(mud_url_src_t src);

/** Parsed, validated MUD URL. */
typedef struct mud_url {
	char		*url;		//!< the URL exactly as received (validated).
	char		*host;		//!< host part, lowercased; IPv6 literals without brackets.
	char		*authority;	//!< host[:port] as in the URL, lowercased host.
	uint16_t	port;		//!< 443 unless given.
	char		*path;		//!< path (+query), "/" if empty.
	bool		host_is_ip;	//!< host is an IPv4 or IPv6 literal.
} mud_url_t;

/** Validate a MUD URL: https only, 1..MUD_MAX_URL_LEN bytes, printable ASCII without
 *  spaces, host required, no userinfo, no fragment, valid port.
 *
 * @param[in] ctx	talloc parent of *out.
 * @param[out] out	parsed URL (may be NULL to only validate).
 * @param[in] str	candidate bytes (not necessarily NUL-terminated).
 * @param[in] len	number of bytes.
 * @param[out] err	reason on failure.
 * @return MUD_OK or MUD_ERR_URL.
 */
mud_rcode_t	mud_url_parse(TALLOC_CTX *ctx, mud_url_t **out, char const *str, size_t len,
			      mud_error_t *err);

/** MUD URL from a raw LLDP PDU fragment: one or more 802.1AB TLVs (7-bit type,
 *  9-bit length), the MUD TLV being type 127 with OUI 00-00-5E subtype 1. */
mud_rcode_t	mud_url_from_lldp(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data, size_t len,
				  mud_error_t *err);

/** MUD URL from the value of a Cisco `lldp-tlv=` AV-pair (after "lldp-tlv="):
 *  2-byte type, 2-byte length, value; one or more such TLVs. */
mud_rcode_t	mud_url_from_cisco_lldp(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data,
					size_t len, mud_error_t *err);

/** MUD URL from raw DHCPv4 options (1-byte code, 1-byte length; pad 0 and end 255
 *  honoured), option 161. */
mud_rcode_t	mud_url_from_dhcpv4(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data,
				    size_t len, mud_error_t *err);

/** MUD URL from raw DHCPv6 options (2-byte code, 2-byte length), option 112. */
mud_rcode_t	mud_url_from_dhcpv6(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data,
				    size_t len, mud_error_t *err);

/** MUD URL from the value of a Cisco `dhcp-option=` AV-pair (after "dhcp-option="):
 *  2-byte code, 2-byte length, value; code 161 (DHCPv4) or 112 (DHCPv6). */
mud_rcode_t	mud_url_from_cisco_dhcp(TALLOC_CTX *ctx, mud_url_t **out, mud_url_src_t *src,
					uint8_t const *data, size_t len, mud_error_t *err);

/** MUD URL from a whole Cisco-AVPair value ("lldp-tlv=..." or "dhcp-option=...").
 *  Returns MUD_ERR_NOT_MUD ("not a MUD AV-pair") if the prefix is neither, or if the
 *  TLV or option is another type: no URL here, not an error of the device.
 *  @param[out] src	which source it was. */
mud_rcode_t	mud_url_from_avpair(TALLOC_CTX *ctx, mud_url_t **out, mud_url_src_t *src,
				    uint8_t const *data, size_t len, mud_error_t *err);

/** MUD URL from the raw id-pe-mud-url extension value: the DER IA5String
 *  (0x16 len url), as FreeRADIUS delivers TLS-Client-Cert-1.3.6.1.5.5.7.1.25. */
mud_rcode_t	mud_url_from_x509_ext(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *der,
				      size_t len, mud_error_t *err);

/** MUD URL from a certificate (PEM or DER, autodetected). MUD_ERR_URL with text
 *  "certificate has no id-pe-mud-url extension" if absent. */
mud_rcode_t	mud_url_from_cert(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *cert, size_t len,
				  mud_error_t *err);

/** The id-pe-mudsigner extension (1.3.6.1.5.5.7.1.30) of a certificate (PEM/DER),
 *  as the DER encoding of the signer's Name.
 *  @return MUD_OK, MUD_ERR_URL if absent, MUD_ERR_TLV if malformed. */
mud_rcode_t	mud_signer_from_cert(TALLOC_CTX *ctx, uint8_t **der, size_t *der_len,
				     uint8_t const *cert, size_t len, mud_error_t *err);

/** The raw id-pe-mudsigner extension value (DER Name) checked and copied. */
mud_rcode_t	mud_signer_from_x509_ext(TALLOC_CTX *ctx, uint8_t **der, size_t *der_len,
					 uint8_t const *ext, size_t len, mud_error_t *err);

/** Text form (RFC 2253) of a DER Name, for logs. */
char		*mud_signer_to_text(TALLOC_CTX *ctx, uint8_t const *der, size_t len);

/** URL of the detached signature: the file's mud-signature if given, else the
 *  MUD URL with a trailing ".json" replaced by ".p7s" (or ".p7s" appended). */
char		*mud_url_signature(TALLOC_CTX *ctx, char const *mud_url, char const *mud_signature);

/* ====================================================================
 *	URL policy (mud_urlpolicy.c): which servers the fetcher may connect
 *	to. Checked for the MUD URL, the signature URL, every redirect hop
 *	(by mud_fetch()) and every address a connection is opened to (libcurl's
 *	open-socket callback, so a second DNS answer cannot bypass it).
 *	See docs/urlpolicy.md.
 * ==================================================================== */

#define MUD_HOST_MAX		254	//!< RFC 1035 section 2.3.4: a name is at most 253 bytes
					//!< as text, + NUL.
#define MUD_AUTHORITY_MAX	272	//!< "*." or "[" + host + "]:" + 5-digit port + NUL.
#define MUD_URLPOLICY_MAX_ENTRIES	256	//!< entries per url_allow / url_deny list (a
						//!< configuration, not untrusted input).
#define MUD_URLPOLICY_MAX_PUBLIC	8	//!< test hook: addresses treated as public.
#define MUD_WHERE_URL_POLICY	"url-policy"	//!< err->where of every URL-policy refusal
						//!< starts with this.

/** A normalised authority (of a URL, or a url_allow / url_deny entry).
 *
 *  Host: lower case, one trailing dot removed; IPv4 as a dotted quad; IPv6 in
 *  RFC 5952 text (inet_ntop) without brackets. Names are ASCII only: an IDN
 *  must be written as A-labels ("xn--..."), U-labels are refused. A name whose
 *  last label is a number ("0x7f.1", "1.2.3.4.5") is refused: URL parsers read
 *  it as an IPv4 address in a non-standard form. The port is a number without
 *  leading zeros, 443 when a URL gives none. */
typedef struct mud_authority {
	char		host[MUD_HOST_MAX];	//!< normalised host (wildcard: the suffix)
	uint16_t	port;		//!< 1..65535; 0 only for a list entry without a port
	int		family;		//!< 0 a name, 4 or 6 an IP literal
	uint8_t		addr[16];	//!< the literal (IPv4: first 4 bytes)
	bool		wildcard;	//!< list entry ".suffix" or "*.suffix": host is the
					//!< suffix without the leading dot
	char		text[MUD_AUTHORITY_MAX];	//!< "host:port", "[v6]:port",
							//!< "*.suffix[:port]", "host"
} mud_authority_t;

#define MUD_AUTHORITY_ENTRY	0x01	//!< a list entry: wildcards allowed, port optional
					//!< (0), bare IPv6 without brackets allowed

/** Normalise an authority ("host", "host:port", "[v6]:port"; with MUD_AUTHORITY_ENTRY also
 *  ".suffix", "*.suffix", "v6").
 *
 * @param[out] out	the normalised form (zeroed on failure).
 * @param[in] str	the text (need not be NUL-terminated).
 * @param[in] len	its length.
 * @param[in] flags	MUD_AUTHORITY_ENTRY or 0.
 * @param[out] err	MUD_ERR_URL (where = "authority", text says what is wrong).
 * @return MUD_OK or MUD_ERR_URL.
 */
mud_rcode_t	mud_authority_parse(mud_authority_t *out, char const *str, size_t len,
				    unsigned int flags, mud_error_t *err);

/** Is an address in the IANA IPv4 / IPv6 special-purpose address registries (or
 *  multicast, or IPv6 outside 2000::/3)? IPv4-mapped (::ffff:0:0/96), NAT64
 *  (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32) addresses are judged by
 *  the IPv4 addresses they carry; IPv4-compatible (::/96) and local-use NAT64
 *  (64:ff9b:1::/48) addresses are always special.
 *
 * @param[in] family	4 or 6 (anything else is special).
 * @param[in] addr	4 or 16 bytes, network order.
 * @param[out] why	if not NULL: the range, its name and RFC ("127.0.0.0/8 loopback
 *			(RFC 1122)"), for a special address; "" otherwise.
 * @param[in] whylen	size of why.
 * @return true if special (never connected to with allow_private_urls = no).
 */
bool		mud_addr_special(int family, uint8_t const *addr, char *why, size_t whylen);

/** The URL policy: allow/deny lists and the special-address rule. Immutable once
 *  created (mud_urlpolicy_test_public() aside); may be shared between threads. */
typedef struct mud_urlpolicy mud_urlpolicy_t;

/** Build a URL policy.
 *
 * @param[in] ctx	talloc parent.
 * @param[out] out	the policy.
 * @param[in] allow	url_allow: entries separated by spaces, tabs or commas (NULL/"": any
 *			authority). An entry without a port admits port 443 only.
 * @param[in] deny	url_deny: same syntax; an entry without a port refuses every port.
 *			Deny wins over allow.
 * @param[in] allow_private	false: refuse IP literals and connections to special
 *			addresses (mud_addr_special()).
 * @param[out] err	MUD_ERR_URL (where = "url_allow entry N" / "url_deny entry N"),
 *			MUD_ERR_LIMIT (more than MUD_URLPOLICY_MAX_ENTRIES), MUD_ERR_NOMEM.
 */
mud_rcode_t	mud_urlpolicy_create(TALLOC_CTX *ctx, mud_urlpolicy_t **out, char const *allow,
				     char const *deny, bool allow_private, mud_error_t *err);

/** Check a parsed MUD URL without any network I/O: lists, and (allow_private_urls = no)
 *  an IP-literal host in a special range. A policy of NULL accepts everything.
 *
 * @param[in] pol	the policy, or NULL.
 * @param[in] url	a URL from mud_url_parse().
 * @param[out] err	MUD_ERR_REFUSED, where = "url-policy: MUD URL <url>", text = the reason
 *			(MUD_ERR_URL if the host is not a valid authority).
 */
mud_rcode_t	mud_urlpolicy_check_url(mud_urlpolicy_t const *pol, mud_url_t const *url,
					mud_error_t *err);

/** Check a normalised authority: lists, then an IP literal in a special range.
 *
 * @param[in] pol	the policy (NULL: accepted).
 * @param[in] a		the authority (mud_authority_parse() without MUD_AUTHORITY_ENTRY).
 * @param[out] why	the reason on refusal (may be NULL).
 * @param[in] whylen	size of why.
 * @return MUD_OK or MUD_ERR_REFUSED.
 */
mud_rcode_t	mud_urlpolicy_check_authority(mud_urlpolicy_t const *pol, mud_authority_t const *a,
					      char *why, size_t whylen);

/** Check an address a connection is about to be opened to (allow_private_urls = no:
 *  special addresses refused, unless marked by mud_urlpolicy_test_public()).
 *
 * @param[in] pol	the policy (NULL: accepted).
 * @param[in] family	4 or 6.
 * @param[in] addr	4 or 16 bytes.
 * @param[in] port	TCP port (host order).
 * @param[out] why	the reason on refusal (may be NULL).
 * @param[in] whylen	size of why.
 * @return MUD_OK or MUD_ERR_REFUSED.
 */
mud_rcode_t	mud_urlpolicy_check_addr(mud_urlpolicy_t const *pol, int family,
					 uint8_t const *addr, uint16_t port, char *why,
					 size_t whylen);

/** TEST HOOK, never used by the module or mudctl: treat one address and port as
 *  public although it is special (lets unprivileged tests use a loopback server as
 *  the "public" MUD server with allow_private_urls = no). Call before sharing pol.
 *  @return MUD_OK, MUD_ERR_ARG (not an address, port 0), MUD_ERR_LIMIT. */
mud_rcode_t	mud_urlpolicy_test_public(mud_urlpolicy_t *pol, char const *addr, uint16_t port,
					  mud_error_t *err);

/** Does pol refuse special addresses (allow_private_urls = no)? Then a fetch through a
 *  proxy resolves the host itself, checks the addresses and pins the one it checked. */
bool		mud_urlpolicy_checks_addresses(mud_urlpolicy_t const *pol);

/** Does an error location come from a URL-policy refusal? (Callers test the code,
 *  MUD_ERR_REFUSED; this checks the location's form, for tests.) */
bool		mud_where_refused(char const *where);

/* ====================================================================
 *	Fetch (mud_fetch.c, libcurl)
 * ==================================================================== */

/** Trust anchors for MUD servers (the HTTPS client's CAs): ca_file and/or ca_path read and
 *  checked once by mud_ca_load(), then immutable, so one object serves every thread and every
 *  fetch (nothing is read from disk at fetch time). Never the system default store. */
typedef struct mud_ca mud_ca_t;

#define MUD_CA_MAX_BYTES	(16 * 1024 * 1024)	//!< a CA file, and all of a CA directory's
							//!< certificate files together (a sanity
							//!< bound: the Mozilla bundle is ~220 KiB)
#define MUD_CA_MAX_DIR_FILES	4096	//!< certificate files (<hash>.<n>) read from a CA
					//!< directory
#define MUD_CA_MAX_CERTS	5000	//!< certificates in one mud_ca_t: a sanity bound (the
					//!< Mozilla bundle has ~150; 5000 load in ~1.5 s, and it
					//!< grows faster than linearly)

/** Load the trust anchors for MUD servers, once (at instantiate, or on HUP before a swap).
 *
 *  ca_file: a PEM file with one or more certificates (other PEM blocks, such as keys or CRLs,
 *  are ignored); a symbolic link is followed; it must be a regular file of at most
 *  MUD_CA_MAX_BYTES. ca_path: an OpenSSL hashed directory (openssl rehash / c_rehash): every
 *  file named <8 hex digits>.<n> (what OpenSSL would look up; other files are ignored) is read
 *  now, each must hold at least one PEM certificate, all together at most MUD_CA_MAX_BYTES.
 *  Certificates need not be self-signed: any certificate given is trusted as an anchor
 *  (X509_V_FLAG_PARTIAL_CHAIN, as libcurl sets for CURLOPT_CAINFO). The object holds an
 *  X509_STORE that is never modified after this returns; the talloc destructor releases it
 *  (fetches still running keep their own reference).
 *
 * @param[in] ctx	talloc parent of the result.
 * @param[out] out	the anchors; NULL on failure (nothing is left under ctx).
 * @param[in] ca_file	PEM file, or NULL/"".
 * @param[in] ca_path	hashed directory, or NULL/"" (at least one of the two).
 * @param[out] err	first error, may be NULL. where = the file or directory (escaped), text =
 *			what is wrong: "CA file: stat: No such file or directory",
 *			"CA file: a directory, not a regular file", "no certificate in the CA
 *			file", "CA directory: opendir: Permission denied", ...
 * @return MUD_OK; MUD_ERR_IO (missing, unreadable, not a regular file / not a directory);
 *	   MUD_ERR_ARG (neither given, no certificate, malformed PEM); MUD_ERR_TOOBIG (over
 *	   MUD_CA_MAX_BYTES); MUD_ERR_LIMIT (over MUD_CA_MAX_DIR_FILES or MUD_CA_MAX_CERTS);
 *	   MUD_ERR_NOMEM. */
mud_rcode_t	mud_ca_load(TALLOC_CTX *ctx, mud_ca_t **out, char const *ca_file,
			    char const *ca_path, mud_error_t *err);

/** Certificates loaded (from ca_file and ca_path together; a certificate given twice counts
 *  twice). 0 for NULL. */
size_t		mud_ca_count(mud_ca_t const *ca);

/** The system's CA bundle, for a configuration that names no CA for the MUD servers:
 *  OpenSSL's default certificate file (Debian: /usr/lib/ssl/cert.pem ->
 *  /etc/ssl/certs/ca-certificates.crt). The SSL_CERT_FILE environment variable is ignored,
 *  like the proxy variables. */
char const	*mud_ca_system_file(void);

typedef struct mud_fetch_opts {
	mud_ca_t const	*ca;			//!< trust anchors for MUD servers, loaded once;
						//!< when set, ca_file and ca_path are not used
						//!< (libcurl reads no CA file). Must stay valid
						//!< until the fetch returns.
	char const	*ca_file;		//!< without ca: PEM bundle of CAs for MUD
						//!< servers, read by libcurl at each connection
						//!< (NULL: ca_path only).
	char const	*ca_path;		//!< without ca: hashed CA directory (NULL:
						//!< ca_file only).
	long		connect_timeout_ms;	//!< 0 -> 5000.
	long		timeout_ms;		//!< total; 0 -> 15000.
	size_t		max_size;		//!< 0 -> MUD_MAX_FILE_SIZE; never above it.
	long		max_redirs;		//!< redirects followed (https only);
						//!< default 3 when < 0.
	char const	*accept;		//!< Accept header; NULL -> "application/mud+json".
	char const	*user_agent;		//!< NULL -> "rlm_mud/<version>".
	mud_urlpolicy_t const *policy;		//!< checked for the URL, every redirect and
						//!< every address connected to; NULL: https
						//!< only, any authority and address.
	int const volatile *abort;		//!< when non-NULL and it becomes non-zero, the
						//!< fetch gives up (MUD_ERR_FETCH, "cancelled")
	char const	*what;			//!< what is fetched, for refusals ("MUD URL",
						//!< "signature URL"); NULL -> "URL".
	char const	*proxy;			//!< "http://host:port": through this HTTP proxy
						//!< (CONNECT tunnel, TLS end to end); NULL or
						//!< "": direct. Environment proxies (http_proxy,
						//!< https_proxy, no_proxy) are never used.
	char const	*no_proxy;		//!< hosts fetched directly despite proxy: names
						//!< (and their subdomains), IP literals, "*";
						//!< separated by spaces or commas.
} mud_fetch_opts_t;

/** Check a proxy setting: "http://host[:port]" (port default 3128), nothing else (no
 *  path, no credentials). @return MUD_OK or MUD_ERR_ARG (text says why). */
mud_rcode_t	mud_fetch_proxy_check(char const *proxy, mud_error_t *err);

/** One-time global init (curl_global_init); call before threads start. */
mud_rcode_t	mud_fetch_global_init(mud_error_t *err);
/** Matching cleanup. */
void		mud_fetch_global_free(void);

/** Result of a fetch. */
typedef struct mud_fetch_result {
	uint8_t		*body;		//!< NUL-terminated for convenience; len excludes the NUL.
	size_t		len;
	long		status;		//!< HTTP status.
	char		*content_type;	//!< may be NULL.
	char		*effective_url;	//!< after redirects.
	char		*primary_ip;	//!< address connected to (for reports).
	char		*server_cert_pem;	//!< leaf certificate the server presented, if seen
						//!< (may be NULL).
	char		*refused_url;	//!< failure info only: the URL (first URL or redirect
					//!< hop) the URL policy refused; NULL otherwise.
} mud_fetch_result_t;

/** Like mud_fetch(); on failure, when failed is not NULL, *failed receives (under ctx) what
 *  was learned before the failure: primary_ip, server_cert_pem (the leaf certificate the
 *  server presented, also when it did not verify), effective_url, status; body is NULL.
 *  For incident reports (the certificate of a MUD server that failed TLS verification).
 *  On a URL-policy refusal, refused_url is the URL refused and primary_ip the address
 *  refused (a connection never opened) or, for a redirect refused before any connection,
 *  the address of the server that sent the redirect. */
mud_rcode_t	mud_fetch_ex(TALLOC_CTX *ctx, mud_fetch_result_t **out, char const *url,
			     mud_fetch_opts_t const *opts, mud_fetch_result_t **failed,
			     mud_error_t *err);

/** GET an https URL with verification always on. Redirects (301, 302, 303, 307, 308) are
 *  followed by mud_fetch() itself, at most opts->max_redirs, each hop checked against
 *  opts->policy before it is requested; every connection's address is checked when the
 *  socket is opened. Proxies from the environment are never used. Errors: MUD_ERR_URL
 *  (not https), MUD_ERR_REFUSED (a URL-policy refusal: where = "url-policy: <what>
 *  [redirect N ]<url>"),
 *  MUD_ERR_TLS, MUD_ERR_TIMEOUT, MUD_ERR_FETCH (also: too many redirects), MUD_ERR_HTTP
 *  (where = "HTTP <status>"), MUD_ERR_TOOBIG, MUD_ERR_UNSUPPORTED (opts->ca with a libcurl
 *  whose TLS library is not OpenSSL, or before mud_fetch_global_init()). Thread-safe (one easy
 *  handle per call; one mud_ca_t may serve every thread). */
mud_rcode_t	mud_fetch(TALLOC_CTX *ctx, mud_fetch_result_t **out, char const *url,
			  mud_fetch_opts_t const *opts, mud_error_t *err);

/* ====================================================================
 *	Signatures (mud_sig.c, OpenSSL CMS)
 * ==================================================================== */

/** A set of trust anchors for MUD signers (never the system store). Immutable
 *  after load; may be shared between threads. */
typedef struct mud_trust mud_trust_t;

/** Load trust anchors from a PEM file and/or a hashed directory (at least one). */
mud_rcode_t	mud_trust_load(TALLOC_CTX *ctx, mud_trust_t **out, char const *file,
			       char const *dir, mud_error_t *err);

/** Verify a detached DER (or PEM) CMS signature over content.
 *
 * @param[in] trust	anchors.
 * @param[in] content	the MUD file bytes exactly as fetched.
 * @param[in] sig	the .p7s bytes (NULL/0 -> MUD_ERR_SIG_MISSING).
 * @param[in] at	evaluation time (0 = now).
 * @param[in] signer_der	expected signer Name (device certificate's mud-signer), or NULL.
 * @param[out] signer_subject	if not NULL, the signer's subject (RFC 2253) under ctx.
 * @return MUD_OK, MUD_ERR_SIG_MISSING, MUD_ERR_SIG_DIGEST, MUD_ERR_SIG_UNTRUSTED,
 *	   MUD_ERR_SIG_EXPIRED, MUD_ERR_SIG_SIGNER, MUD_ERR_SIG (malformed).
 */
mud_rcode_t	mud_sig_verify(TALLOC_CTX *ctx, mud_trust_t const *trust,
			       uint8_t const *content, size_t content_len,
			       uint8_t const *sig, size_t sig_len, time_t at,
			       uint8_t const *signer_der, size_t signer_der_len,
			       char **signer_subject, mud_error_t *err);

#define MUD_SIGNER_CHAIN_MAX	MUD_MAX_SIG_SIZE	//!< bytes of a recorded signer chain
						//!< at most: its certificates come from one
						//!< signature; a longer one is not recorded
#define MUD_SIGNER_CHAIN_CERTS	16	//!< certificates of a recorded chain at most (a
					//!< sanity bound); more: not recorded

/** Re-check a recorded signer chain (mud_policy_t.signer_chain: signer certificate first,
 *  then untrusted intermediates, DER, concatenated) against trust, offline, at time at
 *  (0 = now), by the verifier the signature check uses (same store, flags and purpose).
 *  Thread-safe: trust is only read.
 * @return MUD_OK if the signer chains to an anchor of trust; MUD_ERR_SIG_UNTRUSTED,
 *	   MUD_ERR_SIG_EXPIRED or MUD_ERR_SIG as the signature check gives them;
 *	   MUD_ERR_ARG for no trust, an empty, malformed or too long chain; MUD_ERR_NOMEM. */
mud_rcode_t	mud_trust_check_chain(mud_trust_t const *trust, uint8_t const *chain,
				      size_t chain_len, time_t at, mud_error_t *err);

/** SHA-256 of data as 64 lowercase hex chars + NUL into out[65]. */
void		mud_sha256_hex(char out[65], void const *data, size_t len);

/* ====================================================================
 *	MUD file model (mud_parse.c, mud_validate.c)
 * ==================================================================== */

typedef enum {
	MUD_ACL_TYPE_NONE = 0,		//!< "type" absent
	MUD_ACL_TYPE_IPV4,		//!< ipv4-acl-type
	MUD_ACL_TYPE_IPV6,		//!< ipv6-acl-type
	MUD_ACL_TYPE_ETH,		//!< eth-acl-type
	MUD_ACL_TYPE_MIXED_ETH_IPV4,	//!< mixed-eth-ipv4-acl-type
	MUD_ACL_TYPE_MIXED_ETH_IPV6,	//!< mixed-eth-ipv6-acl-type
	MUD_ACL_TYPE_MIXED_ALL,		//!< mixed-eth-ipv4-ipv6-acl-type
} mud_acl_type_t;

typedef enum {
	MUD_ACTION_ACCEPT = 0,
	MUD_ACTION_DROP,
	MUD_ACTION_REJECT,		//!< drop + ICMP; rendered as deny
} mud_action_t;

/** Port match (RFC 8519 port-range-or-operator), already normalised. */
typedef enum {
	MUD_PORT_ANY = 0,	//!< no match on this port
	MUD_PORT_EQ,		//!< lo
	MUD_PORT_NEQ,		//!< != lo
	MUD_PORT_LTE,		//!< <= lo
	MUD_PORT_GTE,		//!< >= lo
	MUD_PORT_RANGE,		//!< lo..hi inclusive
} mud_port_op_t;

typedef struct mud_port {
	mud_port_op_t	op;
	uint16_t	lo;
	uint16_t	hi;	//!< only for MUD_PORT_RANGE
} mud_port_t;

typedef enum {
	MUD_DIRINIT_NONE = 0,		//!< leaf absent
	MUD_DIRINIT_TO_DEVICE,		//!< remote side sends the first SYN
	MUD_DIRINIT_FROM_DEVICE,	//!< device sends the first SYN
} mud_dirinit_t;

typedef enum {
	MUD_L3_NONE = 0,
	MUD_L3_IPV4,
	MUD_L3_IPV6,
} mud_l3_t;

typedef enum {
	MUD_L4_NONE = 0,
	MUD_L4_TCP,
	MUD_L4_UDP,
	MUD_L4_ICMP,		//!< "icmp" container (ICMPv4 or ICMPv6 by L3/ACL type)
} mud_l4_t;

/** Abstractions (ietf-mud:mud match container). */
typedef enum {
	MUD_ABS_NONE = 0,
	MUD_ABS_MANUFACTURER,		//!< value: domain name
	MUD_ABS_SAME_MANUFACTURER,
	MUD_ABS_MODEL,			//!< value: MUD URL of the model
	MUD_ABS_LOCAL_NETWORKS,
	MUD_ABS_CONTROLLER,		//!< value: controller URI (class)
	MUD_ABS_MY_CONTROLLER,
} mud_abs_t;

/** One abstraction of an ACE (a member of its ietf-mud:mud match container). */
typedef struct mud_ace_abs {
	mud_abs_t	kind;
	char		*value;		//!< manufacturer/model/controller value, else NULL
} mud_ace_abs_t;

#define MUD_MAX_ABS_PER_ACE	6	//!< one of each kind: members of a JSON object are unique

/** One access-control entry, as parsed (no context applied). Every match present must
 *  hold (RFC 8519 section 4: the match containers are ANDed): a network, a DNS name and
 *  abstractions on the same side name the intersection of their addresses. */
typedef struct mud_ace {
	char		*name;
	char		*path;		//!< JSON pointer of the ACE in its file, member names as
					//!< written (set by the parser; NULL: the canonical
					//!< /ietf-access-control-list:acls/acl/I/aces/ace/J)
	mud_action_t	action;

	mud_l3_t	l3;
	int		protocol;	//!< 0..255, -1 if not given
	char		*src_dnsname;	//!< ietf-acldns, may be NULL
	char		*dst_dnsname;
	char		*src_network;	//!< "a.b.c.d/n" or "x::/n" as in the file, may be NULL
	char		*dst_network;
	int		dscp;		//!< -1 if not given (parsed, not rendered: see docs)

	mud_l4_t	l4;
	mud_port_t	src_port;
	mud_port_t	dst_port;
	mud_dirinit_t	direction_initiated;	//!< only with tcp
	int		icmp_type;	//!< -1 if not given
	int		icmp_code;	//!< -1 if not given

	bool		eth;		//!< an "eth" match is present
	int		ethertype;	//!< -1 if not given
	char		*src_mac;	//!< may be NULL
	char		*dst_mac;

	mud_ace_abs_t	abs[MUD_MAX_ABS_PER_ACE];	//!< abstractions of the ietf-mud:mud
							//!< container, in canonical (enum) order;
							//!< all must hold (AND)
	size_t		num_abs;

	char		*unknown_match;	//!< first match node the compiler cannot enforce (an
					//!< augmentation of an unknown module, e.g. RFC 9761's
					//!< TLS profile), as a JSON pointer below the ACE; NULL
					//!< if none. An accept is skipped (narrower), a drop is
					//!< enforced on its other matches (broader).
} mud_ace_t;

typedef struct mud_acl {
	char		*name;
	mud_acl_type_t	type;
	bool		type_inferred;	//!< "type" was absent; inferred from the matches
	mud_ace_t	*aces;		//!< talloc array
	size_t		num_aces;
} mud_acl_t;

/** A parsed MUD file. */
typedef struct mud_file {
	int		mud_version;
	char		*mud_url;
	char		*last_update;
	char		*mud_signature;		//!< may be NULL
	unsigned int	cache_validity;		//!< hours, 1..168 (default 48 when absent)
	bool		cache_validity_set;
	bool		is_supported;
	char		*systeminfo;		//!< may be NULL (all below too)
	char		*mfg_name;
	char		*model_name;
	char		*firmware_rev;
	char		*software_rev;
	char		*documentation;

	char		**extensions;		//!< talloc array of strings
	size_t		num_extensions;

	char		**from_device;		//!< ACL names of from-device-policy
	size_t		num_from_device;
	char		**to_device;
	size_t		num_to_device;

	mud_acl_t	*acls;
	size_t		num_acls;

	mud_warning_t	*warnings;		//!< talloc array
	size_t		num_warnings;
	size_t		num_warnings_dropped;	//!< beyond MUD_MAX_WARNINGS
	unsigned int	leniencies;		//!< MUD_LENIENT_* bits actually applied
	char		sha256[65];		//!< of the input bytes
} mud_file_t;

/** Parse flags. */
#define MUD_PARSE_STRICT	0x00
#define MUD_PARSE_LENIENT	0x01	//!< accept the legacy encodings listed below

/** Leniencies, reported in mud_file_t.leniencies and as warnings. */
#define MUD_LENIENT_ACCESS_LISTS_ROOT	0x0001	//!< "ietf-access-control-list:access-lists" root
#define MUD_LENIENT_ACL_TYPE_NAME	0x0002	//!< legacy type names ("ipv4-acl",
						//!< "ethernet-acl-type", unprefixed)
#define MUD_LENIENT_ETHERTYPE_HEX	0x0004	//!< ethertype as "0x0800" string
#define MUD_LENIENT_BOOL_STRING		0x0008	//!< "true"/"false" strings for booleans
#define MUD_LENIENT_DATE_NO_OFFSET	0x0010	//!< last-update without a UTC offset
#define MUD_LENIENT_NUMBER_STRING	0x0020	//!< numbers as strings ("443")
#define MUD_LENIENT_PORT_OPER		0x0040	//!< draft "port-oper"/"port" style port matches
#define MUD_LENIENT_LEGACY_ACE		0x0080	//!< draft names of match containers ("ipv4-acl",
						//!< "tcp-acl", ...)
#define MUD_LENIENT_EMPTY_AS_TRUE	0x0100	//!< empty leaves given as true/"" instead of [null]
#define MUD_LENIENT_ETH_IN_IP_ACL	0x0200	//!< "eth" match in an ipv4/ipv6-acl-type ACL
						//!< (mudgee): same family redundant, other
						//!< family never matches
#define MUD_LENIENT_CONTROLLER_NAME	0x0400	//!< controller that is not a URI ("bacnet"):
						//!< a site-defined controller class
#define MUD_LENIENT_UNKNOWN_NODE	0x0800	//!< unknown unqualified node of ietf-mud
						//!< (ignored in ietf-mud:mud; an unenforceable
						//!< match in an ACE)

/** Name of one leniency bit ("access-lists-root"). */
char const	*mud_lenient_name(unsigned int bit);

/** Parse and validate a MUD file.
 *
 * Runs the JSON parse (strict, bounded), the schema checks (types, mandatory
 * leaves, unknown nodes in known modules) and the semantic checks
 * (mud_file_validate()). Unknown extension modules are reported as warnings.
 *
 * @param[in] ctx	talloc parent.
 * @param[out] out	the file.
 * @param[in] data	bytes (need not be NUL-terminated).
 * @param[in] len	length.
 * @param[in] expected_url	URL it was fetched from (NULL: not checked).
 * @param[in] flags	MUD_PARSE_*.
 * @param[out] err	first error: code, JSON pointer in where, reason in text.
 */
mud_rcode_t	mud_file_parse(TALLOC_CTX *ctx, mud_file_t **out, char const *data, size_t len,
			       char const *expected_url, unsigned int flags, mud_error_t *err);

/** Semantic validation of a parsed file (called by mud_file_parse()). */
mud_rcode_t	mud_file_validate(mud_file_t *file, char const *expected_url, mud_error_t *err);

/** Find an ACL by name, NULL if none. */
mud_acl_t const	*mud_file_acl(mud_file_t const *file, char const *name);

/* ====================================================================
 *	Site context (mud_context.c)
 * ==================================================================== */

/** An address prefix. */
typedef struct mud_prefix {
	int		family;		//!< 4 or 6
	uint8_t		addr[16];	//!< network byte order; v4 uses the first 4 bytes
	uint8_t		len;		//!< prefix length
} mud_prefix_t;

/** Parse "a.b.c.d", "a.b.c.d/n", "x::y", "x::/n"; host bits must be zero for
 *  prefixes unless allow_host_bits. */
mud_rcode_t	mud_prefix_parse(mud_prefix_t *out, char const *str, bool allow_host_bits,
				 mud_error_t *err);
/** Print a prefix as "a.b.c.d/n" ("/n" omitted for host prefixes when !always_len). */
void		mud_prefix_print(char *buf, size_t buflen, mud_prefix_t const *p, bool always_len);

typedef struct mud_ctx_prefixes {
	mud_prefix_t	*prefixes;	//!< talloc array
	size_t		num;
} mud_ctx_prefixes_t;

typedef struct mud_ctx_manufacturer {
	char		*authority;	//!< e.g. "lighting.example.com" (lowercase)
	int		vlan;		//!< 0 = none
	mud_ctx_prefixes_t	nets;
} mud_ctx_manufacturer_t;

typedef struct mud_ctx_named {
	char		*key;		//!< controller URI, model MUD URL, or device MUD URL
					//!< (my-controller)
	mud_ctx_prefixes_t	nets;
} mud_ctx_named_t;

typedef struct mud_ctx_dns {
	char		*name;		//!< lowercase, no trailing dot
	mud_ctx_prefixes_t	addrs;
} mud_ctx_dns_t;

/** Site context: what the network adds to a MUD file. Immutable once loaded. */
typedef struct mud_context {
	mud_ctx_manufacturer_t	*manufacturers;
	size_t			num_manufacturers;
	mud_ctx_prefixes_t	local_networks;
	mud_ctx_named_t		*controllers;	//!< controller URI -> addresses
	size_t			num_controllers;
	mud_ctx_named_t		*my_controllers;	//!< device MUD URL -> addresses
	size_t			num_my_controllers;
	mud_ctx_named_t		*models;	//!< model MUD URL -> addresses of
						//!< devices of that model
	size_t			num_models;
	int			default_vlan;	//!< 0 = none
	int			quarantine_vlan;	//!< 0 = none
	bool			dns_resolve;	//!< resolve names not in the dns map (c-ares, all
						//!< names of a file in parallel)
	char			*dns_servers;	//!< resolvers "ip[:port],..." (NULL: resolv.conf)
	unsigned int		dns_budget_ms;	//!< time for all names of a file (0: default)
	unsigned int		dns_max_names;	//!< distinct names per file (0: default)
	mud_ctx_dns_t		*dns;		//!< static name map (checked first)
	size_t			num_dns;
	char			*acl_prefix;	//!< dACL name prefix, default "mud"

	/* Site services every device needs whatever its MUD file says (context "services"):
	 * compiled into rules placed before the MUD rules. All off by default. */
	bool			svc_dhcp;	//!< DHCPv4 (udp 68<->67) and DHCPv6
						//!< (udp 546<->547) client
	bool			svc_nd;		//!< IPv6 neighbour discovery (ICMPv6 133..136)
	mud_ctx_prefixes_t	svc_dns;	//!< resolvers: udp and tcp port 53
	mud_ctx_prefixes_t	svc_ntp;	//!< time servers: udp port 123

	char			digest[65];	//!< SHA-256 (hex) of the context text parsed (the
						//!< file's bytes for mud_context_load()); of no
						//!< bytes for mud_context_alloc(): part of a
						//!< compile tag (mud_cache_set_compile_tag())
} mud_context_t;

/** Load a context from JSON text (format in docs/configuration.md); digest is the SHA-256
 *  of data. */
mud_rcode_t	mud_context_parse(TALLOC_CTX *ctx, mud_context_t **out, char const *data,
				  size_t len, mud_error_t *err);
/** Load a context from a file; digest is the SHA-256 of the file's bytes. */
mud_rcode_t	mud_context_load(TALLOC_CTX *ctx, mud_context_t **out, char const *path,
				 mud_error_t *err);
/** An empty context (no abstractions resolvable, DNS resolution on). */
mud_context_t	*mud_context_alloc(TALLOC_CTX *ctx);

/* ====================================================================
 *	Compiled rules (mud_compile.c)
 * ==================================================================== */

typedef enum {
	MUD_DIR_FROM_DEVICE = 0,	//!< device is the source
	MUD_DIR_TO_DEVICE,		//!< device is the destination
} mud_dir_t;

/** Where a compiled rule comes from. */
typedef enum {
	MUD_RULE_ACE = 0,	//!< an ACE of the MUD file (acl_index/ace_index say which)
	MUD_RULE_SITE,		//!< a site service of the context (or of the quarantine set)
	MUD_RULE_FINAL,		//!< a final deny closing a direction
} mud_rule_kind_t;

/** One compiled rule: concrete addresses, one family, one direction. */
typedef struct mud_rule {
	mud_rule_kind_t	kind;		//!< what produced it (origin is free text: an ACL named
					//!< "site" must not pass for a site service)
	int		acl_index;	//!< MUD_RULE_ACE: index in file->acls, else -1
	int		ace_index;	//!< MUD_RULE_ACE: index in that ACL's aces, else -1
	mud_dir_t	dir;
	int		family;		//!< 4 or 6
	mud_action_t	action;		//!< ACCEPT or DROP (REJECT compiled to DROP)
	int		protocol;	//!< -1 any IP, else 0..255 (1 icmp, 6 tcp, 17 udp,
					//!< 58 ipv6-icmp)
	mud_prefix_t	peer;		//!< the remote side; len 0 = any
	mud_port_t	device_port;	//!< port on the device's side
	mud_port_t	peer_port;	//!< port on the remote side
	int		icmp_type;	//!< -1 any
	int		icmp_code;	//!< -1 any
	bool		established;	//!< tcp: the sender of this direction must not
					//!< open connections
					//!< (only packets of established sessions: ACK or RST set)
	char		*origin;	//!< "acl-name/ace-name" it came from
	char		*peer_name;	//!< dns name / abstraction it came from, NULL if literal
} mud_rule_t;

typedef struct mud_ruleset {
	char		*mud_url;
	char		*name;		//!< sanitised label for ACL names (from model-name or host)
	char		*mfg_name;	//!< may be NULL
	char		*model_name;	//!< may be NULL
	unsigned int	cache_validity;	//!< hours
	int		vlan;		//!< 0 = none
	unsigned int	dns_ttl;	//!< smallest TTL (s) of the resolver answers compiled in;
					//!< 0 if none (re-resolve then, issue: DNS answers age)
	mud_rule_t	*rules;		//!< talloc array, in evaluation order;
					//!< last rules are the final denies
	size_t		num_rules;
	mud_warning_t	*warnings;
	size_t		num_warnings;
} mud_ruleset_t;

/** DNS resolver hook (tests may replace the built-in parallel resolver). Fill up to
 *  max addresses of the family (4 or 6); return the count, or -1 on failure. */
typedef int (*mud_resolve_t)(void *uctx, char const *name, int family, mud_prefix_t *out,
			     size_t max);

/** Compile a validated file with a site context into rules. Unresolvable
 *  abstractions and names yield no rules (never a broader permission) and a warning.
 *  @param[in] resolve	NULL: static map, then (if site->dns_resolve) every name of the file
 *			resolved in parallel (c-ares) within site->dns_budget_ms; more than
 *			site->dns_max_names distinct names is MUD_ERR_LIMIT. */
mud_rcode_t	mud_ruleset_compile(TALLOC_CTX *ctx, mud_ruleset_t **out, mud_file_t const *file,
				    mud_context_t const *site, mud_resolve_t resolve, void *uctx,
				    mud_error_t *err);

/** The quarantine rule set, applied when a device's MUD policy cannot be (bad signature,
 *  fetch failure, ...). Named "<acl-prefix>-quarantine"; it permits, in both directions:
 *  DHCPv4 and DHCPv6 client traffic, IPv6 neighbour discovery (ICMPv6 133..136), and DNS
 *  (udp and tcp 53) to the site's resolvers (site->svc_dns) or, when the context lists
 *  none, to any address (the weaker fallback: DNS to any resolver can carry a tunnel);
 *  then the final denies of both directions and both families.
 *  @param[in] site	site context; NULL -> empty (prefix "mud", DNS to any). */
mud_rcode_t	mud_ruleset_quarantine(TALLOC_CTX *ctx, mud_ruleset_t **out,
				       mud_context_t const *site, mud_error_t *err);

/* ====================================================================
 *	Rendering (mud_render.c + mud_render_*.c)
 * ==================================================================== */

typedef enum {
	MUD_FMT_CISCO_DACL = 0,		//!< "cisco-dacl": ip:inacl#N= / ipv6:inacl#N= bodies
	MUD_FMT_NAS_FILTER_RULE,	//!< "nas-filter-rule": RFC 4849
	MUD_FMT_JSON,			//!< "json": rule set dump
	MUD_FMT_MAX
} mud_format_t;

/** Format by name; -1 if unknown. */
int		mud_format_by_name(char const *name);
char const	*mud_format_name(mud_format_t fmt);

/** Rendered output: an ordered list of attribute values. */
typedef struct mud_rendered {
	mud_format_t	format;
	char		**v4;		//!< cisco: "ip:inacl#N=..." lines; nfr: rules; json:
					//!< one element
	size_t		num_v4;
	char		**v6;		//!< cisco: "ipv6:inacl#N=..." lines; nfr/json: unused (0)
	size_t		num_v6;
	char		*acl_name_v4;	//!< cisco: "#ACSACL#-IP-<label>-<hash>" (<= 64 bytes),
					//!< NULL if no v4 lines
	char		*acl_name_v6;	//!< cisco: "#ACSACL#-IPV6-<label>-<hash>"
	char		hash[65];	//!< SHA-256 over all rendered lines
	size_t		num_skipped;	//!< rules the format cannot enforce and left out
					//!< (cisco: TO_DEVICE rules; see docs/rendering.md)
} mud_rendered_t;

/** Render a rule set. Each value fits MUD_MAX_ATTR_LEN bytes (MUD_ERR_LIMIT otherwise). */
/** A deep copy of a rendered rule set under ctx (NULL when out of memory or r is NULL). */
mud_rendered_t	*mud_rendered_copy(TALLOC_CTX *ctx, mud_rendered_t const *r);

mud_rcode_t	mud_ruleset_render(TALLOC_CTX *ctx, mud_rendered_t **out, mud_ruleset_t const *rs,
				   mud_format_t fmt, mud_error_t *err);

/** JSON dump of a rule set (pretty, stable order), also used by MUD_FMT_JSON. */
char		*mud_ruleset_to_json(TALLOC_CTX *ctx, mud_ruleset_t const *rs);

/* ====================================================================
 *	Policy pipeline (mud_policy.c): URL -> fetch -> signature -> parse ->
 *	validate -> compile -> render. Used by mudctl fetch and the module.
 * ==================================================================== */

/** Options of the pipeline. All pointers are borrowed. */
typedef struct mud_policy_opts {
	mud_fetch_opts_t	fetch;		//!< HTTPS options for the MUD server
	mud_trust_t const	*trust;		//!< signer anchors; NULL -> signatures not checked
	bool			require_signature;	//!< missing .p7s is an error
							//!< (else a warning)
	time_t			at;		//!< signature evaluation time, 0 = now
	uint8_t const		*signer_der;	//!< device certificate's mud-signer
						//!< (DER Name) or NULL
	size_t			signer_der_len;
	unsigned int		parse_flags;	//!< MUD_PARSE_*
	mud_context_t const	*site;		//!< site context (NULL -> empty)
	mud_resolve_t		resolve;	//!< DNS hook (NULL -> default)
	void			*resolve_uctx;
	mud_format_t		format;		//!< output format
	char const		*compile_tag;	//!< what the rules are compiled with (site context,
						//!< format...), copied into mud_policy_t and the
						//!< cache entry; NULL = ""
						//!< (mud_cache_set_compile_tag())
} mud_policy_opts_t;

/** What the pipeline produced, and evidence for reports. */
typedef struct mud_policy {
	char			*url;		//!< MUD URL requested
	mud_file_t		*file;		//!< parsed, validated
	mud_ruleset_t		*rules;		//!< compiled
	mud_rendered_t		*rendered;	//!< rendered in opts->format
	char			*sig_url;	//!< URL of the signature fetched
						//!< (NULL if not checked)
	char			*signer;	//!< signer subject (RFC 2253) if verified
	uint8_t			*signer_der;	//!< DER of the verified signer certificate's
						//!< subject Name, NULL if not verified
	size_t			signer_der_len;
	char			*compile_tag;	//!< opts->compile_tag ("" if none)
	uint8_t			*signer_chain;	//!< the verified signer's chain: the signer
						//!< certificate, then the other certificates
						//!< of the SignedData, each DER, concatenated;
						//!< NULL if not verified, or past
						//!< MUD_SIGNER_CHAIN_MAX / _CERTS ("no chain")
	size_t			signer_chain_len;
	char			file_sha256[65];	//!< of the MUD file bytes
	char			sig_sha256[65];	//!< of the signature bytes ("" if none)
	char			*server_ip;	//!< MUD server address connected to
	char			*server_cert_pem;	//!< leaf certificate the MUD
							//!< server presented
	time_t			fetched;	//!< when (wall clock) the file was fetched
	char			*file_mud_url;	//!< the mud-url inside the file (evidence when it
						//!< differs from the URL fetched), NULL if unknown
	char			*refused_url;	//!< the URL (MUD file, signature or a redirect
						//!< hop) the URL policy refused, NULL if none
	uint8_t			*file_bytes;	//!< the MUD file the policy was made from, as
						//!< fetched (or a copy of the bytes given),
						//!< NUL-terminated (not counted); NULL only on
						//!< failure
	size_t			file_len;
	uint8_t			*sig_bytes;	//!< its signature as fetched; NULL: none
	size_t			sig_len;
	bool			recompiled;	//!< made from the cache's copy of the file
						//!< (mud_cache_source()), not fetched: the
						//!< copy is not written again
} mud_policy_t;

/** Run the pipeline for one MUD URL. On failure *out is NULL; err says which stage
 *  failed (the code identifies it: TLS, HTTP, SIG_*, SCHEMA, MISMATCH, ...).
 *  When evidence is not NULL, it receives (under ctx) whatever was learned before the failure
 *  (server ip/cert, sha256 of file/signature), for incident reports. */
mud_rcode_t	mud_policy_fetch(TALLOC_CTX *ctx, mud_policy_t **out, char const *url,
				 mud_policy_opts_t const *opts, mud_policy_t **evidence,
				 mud_error_t *err);

/** Same, from bytes already at hand (file, optional signature); no network. */
mud_rcode_t	mud_policy_from_bytes(TALLOC_CTX *ctx, mud_policy_t **out, char const *url,
				      uint8_t const *file, size_t file_len,
				      uint8_t const *sig, size_t sig_len,
				      mud_policy_opts_t const *opts, mud_error_t *err);

/* ====================================================================
 *	Directories and files the server trusts (mud_safe.c): the policy cache
 *	and the incident spool. Someone who can write next to them must not make
 *	the server follow a link, block on a FIFO or read a device.
 * ==================================================================== */

#define MUD_SAFE_OWNED	0x01	//!< mud_safe_read(): the file must be owned by the effective uid
				//!< and have a single link (files the server wrote itself)
#define MUD_SAFE_FOLLOW	0x02	//!< mud_safe_read(): a symbolic link is followed (files an
				//!< operator points at: CA bundles, /etc/ssl/certs); what it
				//!< names must still be a regular file, checked before opening

/** Check a directory the server keeps state in: not a symbolic link, a directory, owned by the
 *  effective uid, not writable by group or others, writable by us.
 * @param[in] dir	the directory.
 * @param[in] what	its name in messages ("cache_dir"); NULL: "directory".
 * @param[out] err	MUD_ERR_IO, where = the directory, text = what is wrong and the fix
 *			("cache_dir is writable by others (mode 0777): chmod go-w").
 * @return MUD_OK or MUD_ERR_IO (MUD_ERR_ARG without a directory). */
mud_rcode_t	mud_safe_dir_check(char const *dir, char const *what, mud_error_t *err);

/** Read a whole file without following a symbolic link or blocking: lstat() first (a FIFO,
 *  device, socket, directory or link is refused unopened), then
 *  open(O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), fstat() (same inode, regular), size
 *  bound, read; NUL-terminated under ctx. With MUD_SAFE_FOLLOW: stat() and open() without
 *  O_NOFOLLOW instead (the link's target must be a regular file).
 * @param[in] flags	MUD_SAFE_OWNED, MUD_SAFE_FOLLOW, or 0.
 * @return MUD_OK, MUD_ERR_IO (text says why: "a FIFO, not a regular file", ...),
 *	   MUD_ERR_TOOBIG (larger than max), MUD_ERR_NOMEM, MUD_ERR_ARG. */
mud_rcode_t	mud_safe_read(TALLOC_CTX *ctx, uint8_t **out, size_t *len, char const *path,
			      size_t max, unsigned int flags, mud_error_t *err);

/* ====================================================================
 *	Policy cache (mud_cache.c): URL-keyed, thread-safe, single-flight,
 *	stale-on-error, bounded, optionally persisted to a directory.
 * ==================================================================== */

/** What the module needs to answer a switch: immutable once cached. */
typedef struct mud_entry {
	char		*url;		//!< MUD URL (key)
	mud_rcode_t	status;		//!< MUD_OK, or the error of a failed attempt
					//!< (negative entry)
	char		*error_text;	//!< error text of a negative entry ("" if ok)
	char		*error_where;
	int		vlan;		//!< 0 = none
	char		*mfg_name;	//!< may be NULL
	char		*model_name;	//!< may be NULL
	char		*acl_name_v4;	//!< dACL names (cisco), may be NULL
	char		*acl_name_v6;
	char		**lines_v4;	//!< rendered lines: cisco ip:inacl / nfr rules
	size_t		num_v4;
	char		**lines_v6;	//!< cisco ipv6:inacl
	size_t		num_v6;
	unsigned int	cache_validity;	//!< hours, from the file
	time_t		fetched;	//!< when the policy was fetched
	time_t		expires;	//!< fetched + min(cache-validity, ceiling); for failures:
					//!< fail TTL
	char		file_sha256[65];
	uint64_t	policy_hash;	//!< mud_entry_policy_hash(), set by the cache when it
					//!< stores the entry (copies carry it); 0: not computed
	uint8_t		*signer_der;	//!< DER subject Name of the certificate the file's
					//!< signature was verified with; NULL: unknown (not
					//!< verified, or persisted by a version without it)
	size_t		signer_der_len;
	char		*compile_tag;	//!< compile tag the lines were made with ("" none; a
					//!< copy may have NULL for ""); see
					//!< mud_cache_set_compile_tag()
	uint8_t		*signer_chain;	//!< mud_policy_t.signer_chain of the fetch (signer
					//!< certificate first, DER, concatenated); NULL: none
					//!< (not verified, too long, or persisted by a version
					//!< without it); see mud_cache_revalidate()
	size_t		signer_chain_len;
} mud_entry_t;

#define MUD_COMPILE_TAG_MAX	255	//!< bytes of a compile tag kept as given; a longer one,
					//!< or one with a control byte, is kept as
					//!< "sha256:<hex of it>" (persisted entries are text lines)
#define MUD_SIGNER_DER_MAX	(16 * 1024)	//!< bytes of a recorded signer Name at most
						//!< (as an id-pe-mudsigner value, mud_url.c)

/** Whether an entry may be served to a device whose certificate names the signer der
 *  (id-pe-mudsigner, RFC 8520 section 11): true when der is NULL (no constraint); otherwise
 *  true only if the entry's recorded signer equals der by the comparison the signature check
 *  uses for MUD_ERR_SIG_SIGNER. An entry with no recorded signer never satisfies one. */
bool		mud_entry_signer_ok(mud_entry_t const *e, uint8_t const *der, size_t der_len);

typedef struct mud_cache_opts {
	size_t		max_entries;	//!< 0 -> 10000; least recently used evicted
	unsigned int	max_validity;	//!< ceiling on cache-validity, seconds; 0 -> 168 h
	unsigned int	fail_ttl;	//!< how long a failure is remembered, seconds; 0 -> 60
	unsigned int	stale_max;	//!< how long past expiry a good policy is still served
					//!< while refreshes fail, seconds; 0 -> none
	unsigned int	inflight_max;	//!< a fetch token older than this is presumed lost,
					//!< seconds; 0 -> 120
	char const	*dir;		//!< persistence directory, NULL = memory only; must pass
					//!< mud_safe_dir_check() (else mud_cache_create() fails)
	mud_format_t	format;		//!< format of the lines (default cisco-dacl);
					//!< persisted entries are checked against its
					//!< grammar (mudp_render_check)
	mud_log_t	log;		//!< optional: each persisted entry dropped at
					//!< load, with the file and the reason (WARN)
	void		*log_uctx;
	unsigned int	dns_ttl_min;	//!< an entry whose policy holds resolver answers expires
	unsigned int	dns_ttl_max;	//!< at their TTL clamped to [min, max] seconds (then
					//!< refreshed: re-resolved, recompiled); max 0: off
	char const	*key_file;	//!< optional: HMAC-SHA256 key (>= 32 bytes, owned
					//!< by us, mode 0600/0400) over each persisted
					//!< entry; entries without a valid HMAC are
					//!< dropped at load. NULL: no HMAC.
	char const	*compile_tag;	//!< current compile tag (NULL = ""), see
					//!< mud_cache_set_compile_tag()
} mud_cache_opts_t;

typedef struct mud_cache mud_cache_t;

/** Lookup outcome. */
typedef enum {
	MUD_CACHE_HIT = 0,	//!< fresh good entry copied out
	MUD_CACHE_STALE,	//!< expired good entry (or one of another compile tag)
				//!< copied out; if *fetch_token, caller refreshes
	MUD_CACHE_NEGATIVE,	//!< recent failure copied out (status != MUD_OK); do not fetch
	MUD_CACHE_MISS,		//!< nothing; if *fetch_token the caller fetches,
				//!< else one is in flight
} mud_cache_result_t;

/** Create a cache; loads persisted entries from opts->dir if set. The directory must pass
 *  mud_safe_dir_check() (MUD_ERR_IO otherwise: nothing is loaded or written). Each persisted
 *  entry is re-proved before it is used: strict file syntax, the URL (mud_url_parse), the
 *  lines (the renderer's grammar for opts->format), the dACL names re-derived from the URL
 *  and lines, the HMAC if opts->key_file; an entry that fails is dropped (the others load),
 *  counted in *load_errors if not NULL and reported through opts->log with file and reason. */
mud_rcode_t	mud_cache_create(TALLOC_CTX *ctx, mud_cache_t **out, mud_cache_opts_t const *opts,
				 time_t now, size_t *load_errors, mud_error_t *err);

/** Set the cache's current compile tag (a copy; NULL = ""; thread-safe). A good entry
 *  whose compile_tag differs (compiled with another site context, format, ...) is never a
 *  HIT: mud_cache_lookup() gives it as MUD_CACHE_STALE, with the fetch token as for an
 *  expired entry, so that it is fetched and compiled again, and mud_cache_expired() lists
 *  it. It is served no longer than it would have been without the change: until its
 *  expiry plus stale_max (the window counts from its expiry, not from the change).
 *  Out of memory keeps the previous tag. */
void		mud_cache_set_compile_tag(mud_cache_t *cache, char const *tag);

/** Look up url. On HIT/STALE/NEGATIVE *entry is a deep copy under ctx.
 *  *fetch_token is set true when this caller must fetch (MISS or STALE, and no other
 *  fetch in flight for url); it must then call mud_cache_store() or mud_cache_fail(). */
mud_cache_result_t mud_cache_lookup(mud_cache_t *cache, TALLOC_CTX *ctx, mud_entry_t **entry,
				    bool *fetch_token, char const *url, time_t now);

/** Store a good policy for url (takes a deep copy; expiry from policy cache-validity
 *  and the ceiling), clear the in-flight mark, persist if configured.
 *  @return MUD_OK; MUD_ERR_CONFLICT when a dACL name of pol is already bound to other lines
 *	    (err->where = the name, err->text names the URL holding it): nothing is stored, the
 *	    first binding stays, the fetch token is handed back and the caller records the
 *	    failure with mud_cache_fail();
 *	    MUD_ERR_ARG, MUD_ERR_NOMEM; MUD_ERR_IO when cached in memory but not persisted. */
mud_rcode_t	mud_cache_store(mud_cache_t *cache, char const *url, mud_policy_t const *pol,
				time_t now, mud_error_t *err);

/** Record a failed fetch for url: a good entry is kept (stale) while within stale_max;
 *  otherwise a negative entry with fail_ttl. Clears the in-flight mark.
 *  @return true when the last good policy is kept (still served, stale), else false. */
bool		mud_cache_fail(mud_cache_t *cache, char const *url, mud_rcode_t code,
			       char const *where, char const *text, time_t now);

/** Identifies the policy an entry applies (what a station was given): the SHA-256 of its
 *  dACL names (cisco-dacl: content-addressed, 130-bit hashes of URL and lines) or, without
 *  names (inline formats), of its lines; its first 64 bits, never 0 (0 is "no policy" in
 *  mud_station_t.policy_hash; out of memory also gives 1, "some policy"). The cache computes
 *  it once per stored entry (mud_entry_t.policy_hash); this computes it for any entry. */
uint64_t	mud_entry_policy_hash(mud_entry_t const *e);

/** Find the lines of an issued dACL name (cisco): copies under ctx. Returns false if
 *  unknown. *v6 says which family the name is for. */
bool		mud_cache_acl_lookup(mud_cache_t *cache, TALLOC_CTX *ctx, char const *acl_name,
				     char ***lines, size_t *num, bool *v6);

/** URL of the policy an issued dACL name is bound to (a copy under ctx), NULL if none. */
char		*mud_cache_acl_holder(mud_cache_t *cache, TALLOC_CTX *ctx, char const *acl_name);

/** Drop url from the cache (memory and disk). */
void		mud_cache_forget(mud_cache_t *cache, char const *url);

#define MUD_SOURCE_MAX	(8 * 1024 * 1024)	//!< bytes of a kept MUD file plus its signature
						//!< at most (a larger pair is not kept)

/** The MUD file (and signature) a good cached policy was compiled from, as the cache keeps
 *  it in its directory (mud_cache_opts_t.dir): what a recompile needs instead of a fetch
 *  when only the site context, the output or the DNS answers changed. */
typedef struct mud_source {
	uint8_t		*file;		//!< the MUD file bytes (NUL-terminated, not counted)
	size_t		file_len;
	uint8_t		*sig;		//!< its signature (DER CMS); NULL: none was fetched
	size_t		sig_len;
	time_t		fetched;	//!< when it was fetched (its cache-validity counts from
					//!< then: a recompiled policy keeps this time)
	time_t		valid_until;	//!< fetched + the file's cache-validity (clamped to
					//!< max_validity): after it the file must be fetched again
} mud_source_t;

/** The kept MUD file of url's good policy, for a recompile without the network.
 *  mud_cache_store() of a policy with file_bytes writes it, beside the entry
 *  (<sha256 of url>.src: a text header, then the file and signature bytes), before the entry,
 *  when the cache has a directory and file_len + sig_len <= MUD_SOURCE_MAX (never for
 *  pol->recompiled, whose copy is already there; a store that keeps none, a failed write
 *  and mud_cache_import() remove an older one); it is removed with the entry (flush,
 *  forget, eviction, failure past stale_max, revalidation drop), and at start-up when no
 *  entry file of its URL is there. The directory readers do not count it as an entry.
 *  Checked before use: the file must be one the server wrote (mud_safe_read(),
 *  MUD_SAFE_OWNED), well-formed, within MUD_SOURCE_MAX, for this URL, and its SHA-256 must
 *  equal the entry's file_sha256 (the entry is covered by the cache's HMAC when a key is
 *  configured); the caller re-verifies the signature (mud_policy_from_bytes()).
 *  @param[in] now	the file's cache-validity must not have passed at now.
 *  @param[out] out	under ctx on MUD_OK.
 *  @param[out] refused	if not NULL: true when a kept file was there but refused (altered,
 *			malformed, not the server's, unreadable: worth a warning), false when
 *			there is simply nothing to recompile from (no directory, no good
 *			entry, past its cache-validity, none kept, or the policy replaced
 *			while it was read).
 *  @return MUD_OK; MUD_ERR_IO (no directory, no good entry, nothing kept, past its
 *	    cache-validity, altered or unreadable: err says which, where = the file or URL);
 *	    MUD_ERR_NOMEM, MUD_ERR_ARG. Thread-safe; the read runs without the cache's lock. */
mud_rcode_t	mud_cache_source(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, time_t now,
				 mud_source_t **out, bool *refused, mud_error_t *err);

/** The URLs whose good policy is past its expiry (cache-validity, or the DNS TTL bound) or
 *  compiled with another compile tag (mud_cache_set_compile_tag()), but still served
 *  (within stale_max of its expiry), with no fetch in flight and no failure being waited
 *  out: what a refresh without a request should fetch (mud_cache_lookup() then hands the
 *  fetch token to one caller). Most recently used first.
 *  @param[out] urls	talloc array of copies under ctx (NULL when none).
 *  @return how many, at most max (0 also when out of memory). */
size_t		mud_cache_expired(mud_cache_t *cache, TALLOC_CTX *ctx, time_t now, char ***urls,
				  size_t max);

/** Re-check every good policy's signer against the current trust anchors, offline (after
 *  the anchors were reloaded: a signer CA removed). A policy with a recorded chain
 *  (mud_entry_t.signer_chain) is checked with mud_trust_check_chain() at the time it was
 *  fetched (only the set of anchors is re-checked, not the passing of time); one that no
 *  longer chains is dropped from memory, from the persistence directory and from the dACL
 *  name index (a fetch in flight keeps its token), and reported through opts.log (WARN,
 *  with the URL and the reason). A policy without a chain (not verified, or persisted by
 *  an older version) is kept but served as MUD_CACHE_STALE (with the fetch token, and
 *  listed by mud_cache_expired()) until it is stored again, so that it is refetched and
 *  verified on its next use. The X.509 work runs without the cache's lock; a policy
 *  replaced meanwhile (another file_sha256) is left alone. The cache keeps a reference to
 *  trust's anchors (it may be freed after the call): policies shared by other servers
 *  (mud_cache_import(), Redis) are checked against them from then on, the same way
 *  (refused: the check's code; no chain: in, but refetched). Thread-safe.
 *  @param[in] trust	current signer anchors; NULL: signatures are not checked, nothing to
 *			do (returns 0), and imports are no longer checked.
 *  @param[in] now	unused for the check itself (at = each entry's fetch time); kept for
 *			the cache's "no hidden clocks" rule.
 *  @param[out] dropped	if not NULL: talloc array (under ctx) of copies of the dropped URLs,
 *			at most max of them; NULL when none (or out of memory).
 *  @return how many policies were dropped (all are dropped, even past max). */
size_t		mud_cache_revalidate(mud_cache_t *cache, mud_trust_t const *trust, time_t now,
				     TALLOC_CTX *ctx, char ***dropped, size_t max);

/** Counters for stats/xlat. */
typedef struct mud_cache_stats {
	uint64_t	hits, stale_hits, negative_hits, misses, stores, failures, evictions;
	size_t		entries;
} mud_cache_stats_t;
void		mud_cache_stats(mud_cache_t *cache, mud_cache_stats_t *out);

/*
 *	Operator view of the cache (list, show, flush, refresh; docs/operations.md).
 */

/** What an entry is to an operator. */
typedef enum {
	MUD_CSTATE_FRESH = 0,	//!< good policy, not expired: served
	MUD_CSTATE_STALE,	//!< good policy past expiry (or compiled for another compile tag),
				//!< within stale_max of its expiry: served, refreshed
	MUD_CSTATE_EXPIRED,	//!< good policy past stale_max: no longer served
	MUD_CSTATE_NEGATIVE,	//!< a failure remembered for fail_ttl
	MUD_CSTATE_RETRY,	//!< a failure past fail_ttl: the next request fetches again
	MUD_CSTATE_FETCHING,	//!< no entry yet, the first fetch is in flight
	MUD_CSTATE_EMPTY,	//!< no entry and no fetch (looked up, nothing came of it yet)
} mud_cache_state_t;

/** Name of a state ("fresh", "stale", ...). */
char const	*mud_cache_state_name(mud_cache_state_t state);

/** Summary of one cached URL, copied out under the lock. */
typedef struct mud_cache_info {
	char		*url;
	mud_cache_state_t state;
	mud_rcode_t	status;		//!< MUD_OK or the failure of a negative entry
	bool		inflight;	//!< a fetch (first or refresh) is in flight
	time_t		fetched;	//!< 0 without an entry
	time_t		expires;
	int		vlan;
	char		*acl_name_v4;	//!< may be NULL
	char		*acl_name_v6;	//!< may be NULL
	size_t		num_v4;		//!< rendered lines
	size_t		num_v6;
	char		*error_text;	//!< failures only (escaped, cut), else NULL
	char		file_sha256[65];
	bool		other_context;	//!< a good policy compiled with another compile tag
					//!< than the cache's (state STALE or EXPIRED)
	char		*compile_tag;	//!< good policies: its compile tag (escaped), else NULL
	char		*signer;	//!< good policies: the signer (RFC 2253, escaped) the
					//!< file was verified with, NULL if unknown
} mud_cache_info_t;

/** Every URL of the cache, sorted by URL (at most cache_max_entries of them: the cache is
 *  bounded). Neither the counters nor the LRU order change.
 * @param[out] out	array of *num infos under ctx (NULL when empty).
 * @return MUD_OK, MUD_ERR_ARG, MUD_ERR_NOMEM (nothing left under ctx). */
mud_rcode_t	mud_cache_list(mud_cache_t *cache, TALLOC_CTX *ctx, mud_cache_info_t **out,
			       size_t *num, time_t now, mud_error_t *err);

/** One URL, like mud_cache_list(); with lines, *entry (may be NULL) receives a deep copy of
 *  the entry too. *out is NULL (MUD_OK) when the cache does not know url. */
mud_rcode_t	mud_cache_show(mud_cache_t *cache, TALLOC_CTX *ctx, mud_cache_info_t **out,
			       mud_entry_t **entry, char const *url, time_t now, mud_error_t *err);

/** Drop url's entry (memory and disk). A fetch in flight for it keeps its token (single
 *  flight holds) and stores its result when it settles. Returns whether url had an entry. */
bool		mud_cache_flush(mud_cache_t *cache, char const *url);

/** mud_cache_flush() of every URL; returns how many entries were dropped. */
size_t		mud_cache_flush_all(mud_cache_t *cache);

/** Hand out url's fetch token for an operator refresh, even while its policy is fresh or a
 *  failure is remembered; false when a fetch of url is already in flight. The caller must
 *  then mud_cache_store() or mud_cache_fail(). */
bool		mud_cache_refresh_token(mud_cache_t *cache, char const *url, time_t now);

/** One file of a persisted cache directory, read offline (mudctl cache). */
typedef enum {
	MUD_CFILE_OK = 0,	//!< parses and proves (HMAC too when a key is given)
	MUD_CFILE_INVALID,	//!< cannot be used: malformed, or fails a check (why)
	MUD_CFILE_TAMPERED,	//!< parses, but its HMAC is missing or does not match the key
} mud_cache_file_verdict_t;

typedef struct mud_cache_file {
	char		*name;		//!< file name (the SHA-256 of the URL)
	mud_cache_file_verdict_t verdict;
	char		*why;		//!< reason unless MUD_CFILE_OK (escaped)
	char const	*format;	//!< format name written in the file, NULL if unreadable
	bool		has_hmac;	//!< the file carries an hmac line
	mud_entry_t	*entry;		//!< parsed entry (also for TAMPERED), NULL if unreadable
} mud_cache_file_t;

/** Read every persisted entry of dir without a running server: each file is parsed and
 *  re-proved as at start-up (mud_cache_create()), except that the owner is not checked (a
 *  root operator reads the server's files) and each file's own format is used. With
 *  key_file, the HMAC is checked (missing or wrong: MUD_CFILE_TAMPERED). Files are sorted
 *  by URL (unreadable ones last, by name); at most max_files are read (0: 100000).
 * @return MUD_OK; MUD_ERR_IO (dir or key file unusable), MUD_ERR_NOMEM, MUD_ERR_ARG. */
mud_rcode_t	mud_cache_dir_read(TALLOC_CTX *ctx, mud_cache_file_t **out, size_t *num,
				   char const *dir, char const *key_file, size_t max_files,
				   mud_error_t *err);

/* ====================================================================
 *	ACL evaluation (mud_eval.c): an independent model of what a NAS does
 *	with the text it receives. It parses the rendered lines (it shares no
 *	code with the renderers) and decides packets and flows, for the
 *	conformance suite and `mudctl explain`.
 * ==================================================================== */

/** TCP flags of an evaluated packet (RFC 9293 header bits). */
#define MUD_TCP_FIN	0x01
#define MUD_TCP_SYN	0x02
#define MUD_TCP_RST	0x04
#define MUD_TCP_ACK	0x10

/** One packet. */
typedef struct mud_packet {
	int		family;		//!< 4 or 6
	uint8_t		src[16];	//!< network byte order; v4 uses the first 4 bytes
	uint8_t		dst[16];
	int		protocol;	//!< 0..255 (6 tcp, 17 udp, 1 icmp, 58 ipv6-icmp)
	uint16_t	src_port;	//!< tcp/udp only
	uint16_t	dst_port;
	int		icmp_type;	//!< icmp/icmpv6 only, 0..255
	int		icmp_code;	//!< icmp/icmpv6 only, 0..255
	uint8_t		tcp_flags;	//!< MUD_TCP_* (tcp only)
} mud_packet_t;

/** A parsed ACL (Cisco dACL lines or NAS-Filter-Rules). Opaque, immutable. */
typedef struct mud_eval_acl mud_eval_acl_t;

/** Why a packet got its verdict. */
typedef enum {
	MUD_EVAL_MATCHED = 0,	//!< a line matched; its action decided
	MUD_EVAL_DEFAULT,	//!< no line matched (cisco: implicit deny; nfr:
				//!< RFC 6733 4.3 default)
	MUD_EVAL_NOT_FILTERED,	//!< cisco: to-device packet; an inbound dACL never sees it
	MUD_EVAL_NO_ACL,	//!< no line for the packet's family (cisco) or direction (nfr)
} mud_eval_reason_t;

/** Verdict on one packet. */
typedef struct mud_eval_result {
	bool			permit;		//!< the packet passes
	mud_eval_reason_t	reason;
	size_t			index;		//!< MATCHED: index of the line (mud_eval_acl_line)
	unsigned int		lineno;		//!< MATCHED: its input line number
						//!< (1-based), else 0
	char const		*line;		//!< MATCHED: its text (owned by the ACL), else NULL
	char const		*why;		//!< static explanation ("implicit deny", ...)
} mud_eval_result_t;

/** Parse ACL text as a switch would get it, one value per line. Lines that are
 *  blank or start with '#' are ignored.
 *
 * - MUD_FMT_CISCO_DACL: `ip:inacl#N=<ace>`, `ipv6:inacl#N=<ace>` or a bare IOS
 *   extended ACE (IPv6 if its protocol is `ipv6` or it holds an IPv6 address).
 *   N must increase within each family. A dACL is applied inbound: it filters
 *   only packets from the device, and `any` as the source means the device.
 * - MUD_FMT_NAS_FILTER_RULE: RFC 6733 IPFilterRule (RFC 4849), with `assigned`,
 *   `!`, port lists and the options `established`, `setup`, `icmptypes`.
 *
 * @param[in] ctx	talloc parent of *out.
 * @param[out] out	the ACL.
 * @param[in] fmt	MUD_FMT_CISCO_DACL or MUD_FMT_NAS_FILTER_RULE.
 * @param[in] text	bytes (need not be NUL-terminated).
 * @param[in] len	length.
 * @param[out] err	where = "line N"; MUD_ERR_SCHEMA (malformed), MUD_ERR_UNSUPPORTED
 *			(valid syntax not modelled: port names, log options, ...), MUD_ERR_LIMIT
 *			(a line over MUD_MAX_ATTR_LEN bytes, more than MUD_MAX_ATTRS lines).
 */
mud_rcode_t	mud_eval_acl_parse(TALLOC_CTX *ctx, mud_eval_acl_t **out, mud_format_t fmt,
				   char const *text, size_t len, mud_error_t *err);

/** Same from an array of values (line N = lines[N - 1]). */
mud_rcode_t	mud_eval_acl_from_lines(TALLOC_CTX *ctx, mud_eval_acl_t **out, mud_format_t fmt,
					char const * const *lines, size_t num, mud_error_t *err);

/** Same from a renderer's output: v4 values, then v6 values (line numbers count on). */
mud_rcode_t	mud_eval_acl_from_rendered(TALLOC_CTX *ctx, mud_eval_acl_t **out,
					   mud_rendered_t const *r, mud_error_t *err);

/** Guess the format of ACL text from its first line that is not a comment:
 *  `permit|deny in|out ...` is nas-filter-rule, else cisco-dacl; -1 if no line. */
int		mud_eval_detect(char const *text, size_t len);

/** Number of lines (values) of a parsed ACL. */
size_t		mud_eval_acl_count(mud_eval_acl_t const *acl);

/** Text of line idx (NULL if out of range); *lineno gets its input line number. */
char const	*mud_eval_acl_line(mud_eval_acl_t const *acl, size_t idx, unsigned int *lineno);

/** Decide one packet.
 *
 * @param[in] acl	parsed ACL.
 * @param[in] pkt	the packet.
 * @param[in] dir	MUD_DIR_FROM_DEVICE (device sends it) or MUD_DIR_TO_DEVICE.
 * @param[in] device	the device's address, of the packet's family (cisco source `any`,
 *			nfr `assigned`); its len is ignored.
 * @param[out] res	the verdict and the line that decided.
 * @param[out] err	MUD_ERR_ARG for bad arguments.
 */
mud_rcode_t	mud_eval_packet(mud_eval_acl_t const *acl, mud_packet_t const *pkt, mud_dir_t dir,
				mud_prefix_t const *device, mud_eval_result_t *res,
				mud_error_t *err);

/** A connection between the device and a peer. */
typedef struct mud_flow {
	int		family;		//!< 4 or 6 (of peer)
	int		protocol;	//!< 0..255
	bool		device_initiates;	//!< the device sends the first packet
						//!< (else the peer)
	uint8_t		peer[16];	//!< the remote address
	uint16_t	device_port;	//!< tcp/udp
	uint16_t	peer_port;	//!< tcp/udp
	int		icmp_type;	//!< icmp: type of the first packet, 0..255
	int		icmp_code;	//!< icmp: its code, 0..255
} mud_flow_t;

#define MUD_FLOW_MAX_STEPS	4	//!< tcp: SYN, SYN-ACK, ACK, ACK

/** One packet of a flow and its verdict. */
typedef struct mud_flow_step {
	char const		*what;		//!< "SYN", "SYN-ACK", "ACK", "request",
						//!< "reply", ...
	mud_dir_t		dir;		//!< who sends it
	mud_packet_t		pkt;
	mud_eval_result_t	res;
} mud_flow_step_t;

/** Verdict on a flow: it passes iff every step passes. */
typedef struct mud_flow_result {
	bool			permit;
	size_t			num_steps;
	mud_flow_step_t		steps[MUD_FLOW_MAX_STEPS];
} mud_flow_result_t;

/** Parse a flow: "PROTO A->B [type T [code C]]", one side being "device" and the
 *  other an address; "device[:port]", "a.b.c.d[:port]", "x::y", "[x::y]:port". PROTO is
 *  tcp, udp, icmp (ICMPv6 for IPv6), or a number. tcp/udp need the responder's port;
 *  the initiator's defaults to 49152. icmp defaults to echo request (8, or 128).
 *  @return MUD_OK or MUD_ERR_ARG (where = "flow"). */
mud_rcode_t	mud_flow_parse(mud_flow_t *out, char const *str, mud_error_t *err);

/** Decide a flow: tcp = SYN, SYN-ACK, ACK from the initiator, ACK from the responder;
 *  udp = request and reply; icmp echo request = request and echo reply; anything else
 *  = one packet from the initiator.
 *  @param[in] device	the device's address, of the flow's family. */
mud_rcode_t	mud_eval_flow(mud_eval_acl_t const *acl, mud_flow_t const *flow,
			      mud_prefix_t const *device, mud_flow_result_t *res, mud_error_t *err);

/* ====================================================================
 *	Incident reports (mud_iodef.c, mud_spool.c): IODEF v2 (RFC 7970)
 *	documents for MUD security events, a bounded on-disk spool with
 *	aggregation, and an HTTPS sender. See docs/iodef.md.
 * ==================================================================== */

#define MUD_IODEF_MAX_DOC	MUD_MAX_FILE_SIZE	//!< largest document (verify cap).
#define MUD_IODEF_MAX_FIELD	16384	//!< bytes kept of one untrusted string; longer is cut.
#define MUD_IODEF_MAX_PEM	65536	//!< bytes kept of the MUD server's certificate (PEM chain).
#define MUD_IODEF_MAX_ACTIONS	16	//!< HistoryItems per incident; more -> MUD_ERR_LIMIT.
#define MUD_IODEF_ID_SIZE	52	//!< "YYYYMMDDThhmmssZ-" + 32 hex digits + NUL (with room).

/** Security events a MUD manager reports. */
typedef enum {
	MUD_EVENT_SIG_INVALID = 0,	//!< signature malformed or the file does not match it
	MUD_EVENT_SIG_UNTRUSTED,	//!< signer does not chain to a trust anchor
	MUD_EVENT_SIG_EXPIRED,		//!< signer certificate expired or not yet valid
	MUD_EVENT_SIG_MISSING,		//!< no signature where one is required
	MUD_EVENT_SIG_SIGNER,		//!< signer is not the device certificate's mud-signer
	MUD_EVENT_TLS_INVALID,		//!< MUD server certificate or TLS handshake failed
	MUD_EVENT_URL_MISMATCH,		//!< mud-url in the file differs from the URL fetched
	MUD_EVENT_URL_REFUSED,		//!< the device emitted an unacceptable MUD URL
	MUD_EVENT_URL_CONFLICT,		//!< LLDP, DHCP and certificate give different URLs
	MUD_EVENT_URL_CHANGED,		//!< the device's MUD URL differs from the one it had
	MUD_EVENT_ACL_DENIED,		//!< traffic of the device denied by its MUD policy
	MUD_EVENT_FILE_INVALID,		//!< MUD file not JSON, or violates the model
	MUD_EVENT_ACL_CONFLICT,		//!< a policy's dACL name is bound to another policy's lines
	MUD_EVENT_MAX			//!< number of events, not an event
} mud_event_t;

/** Token of an event ("sig-invalid", "url-conflict", ...). */
char const	*mud_event_name(mud_event_t event);

/** Event by token; -1 if unknown. */
int		mud_event_by_name(char const *name);

/** Event a pipeline error stands for (the outcome table's column, see mud_outcome()):
 *  MUD_ERR_SIG and _SIG_DIGEST -> SIG_INVALID, _SIG_* -> the matching SIG_ event,
 *  _TLS -> TLS_INVALID, _MISMATCH -> URL_MISMATCH, _URL, _TLV and _REFUSED -> URL_REFUSED,
 *  _JSON/_SCHEMA/_SEMANTIC/_TOOBIG -> FILE_INVALID, _CONFLICT -> ACL_CONFLICT.
 *  @return false (event untouched) for codes that are not security events
 *  (NOMEM, FETCH, TIMEOUT, HTTP, PENDING, ...). */
bool		mud_event_from_rcode(mud_rcode_t rc, mud_event_t *event);

/** An action taken in response (one IODEF HistoryItem). */
typedef struct mud_incident_action {
	char const	*text;		//!< what was done: "quarantine VLAN 999", ...
	bool		contained;	//!< the device's traffic was restricted:
					//!< action="block-host", else "other"
	time_t		at;		//!< when; 0 -> the incident time
} mud_incident_action_t;

/** Everything one report carries. All strings are borrowed, may be NULL, and are
 *  untrusted: they are bounded, made valid UTF-8 and escaped when rendered. */
typedef struct mud_incident {
	char const	*id;		//!< IncidentID; NULL -> a new one (mud_iodef_id())
	mud_event_t	event;
	time_t		time;		//!< detection time (UTC); 0 -> now
	time_t		first_seen;	//!< first occurrence aggregated; 0 -> time
	time_t		last_seen;	//!< last occurrence aggregated; 0 -> time
	uint64_t	count;		//!< occurrences aggregated; 0 -> 1
	time_t		reported;	//!< ReportTime and GenerationTime; 0 -> now

	/* The device (optional: without mac and ip only the server is reported). */
	char const	*mac;		//!< any of 001122334455, 00:11:.., 00-11-.., 0011.2233.4455
	char const	*ip;		//!< IPv4 or IPv6 literal
	char const	*nas_ip;	//!< NAS-IP-Address / NAS-IPv6-Address
	char const	*nas_port;	//!< NAS-Port or NAS-Port-Id
	char const	*nas_id;	//!< NAS-Identifier
	char const	*user_name;	//!< User-Name

	/* MUD URLs. */
	char const	*mud_url;	//!< the device's MUD URL
	char const	*other_url;	//!< the other URL (conflict, change; mismatch: the file's)

	/* The MUD server. */
	char const	*server_url;	//!< URL fetched (MUD file)
	char const	*sig_url;	//!< URL of the signature fetched
	char const	*server_ip;	//!< address connected to
	char const	*server_cert_pem;	//!< certificate(s) the server presented (PEM)

	/* Evidence. */
	char const	*file_sha256;	//!< hex SHA-256 of the MUD file bytes (NULL/"" unknown)
	char const	*sig_sha256;	//!< hex SHA-256 of the signature bytes
	mud_rcode_t	code;		//!< error code (its name is reported; MUD_OK: none)
	char const	*where;		//!< error location
	char const	*text;		//!< error text

	mud_incident_action_t const *actions;	//!< actions taken (at most MUD_IODEF_MAX_ACTIONS)
	size_t		num_actions;

	uint64_t	dropped;	//!< incidents dropped before this one (set by the spool)
	char const	*ip6;		//!< the device's IPv6 literal when ip holds its IPv4 one
} mud_incident_t;

/** Who reports, and how. Strings are borrowed. */
typedef struct mud_iodef_config {
	char const	*reporter;	//!< IncidentID@name, e.g. "csirt.example.com" (required)
	char const	*contact_name;	//!< ContactName of the creator organization (required)
	char const	*contact_email;	//!< EmailTo (required)
	char const	*contact_phone;	//!< TelephoneNumber (optional)
	char const	*tlp;		//!< "clear" (= "white"), "green", "amber", "amber+strict",
					//!< "red", or an IODEF restriction ("public", "partner",
					//!< "need-to-know", "private", "default"); NULL -> "amber".
					//!< See docs/iodef.md.
	char const	*lang;		//!< xml:lang (RFC 5646 tag); NULL -> "en"
	char const	*sign_key;	//!< PEM key for a detached CMS signature (NULL: unsigned)
	char const	*sign_cert;	//!< PEM signer certificate (+ chain), with sign_key
	char const	*timezone;	//!< date-times: NULL/"local" (the process's zone with its
					//!< UTC offset, RFC 3067 6.13), "UTC", or "+hh:mm"/"-hh:mm"
	char const	*restrictions;	//!< per element class (RFC 3067 4.3): "record=red,
					//!< history=amber"; classes in docs/iodef.md; NULL none
	struct mud_iodef_rcpt const *encrypt;	//!< CSIRT recipients (mud_iodef_rcpt_load());
					//!< NULL: not encrypted
} mud_iodef_config_t;

/** A new IncidentID: the UTC time and 128 random bits, "20261122T152320Z-<32 hex>".
 *  @return MUD_OK, MUD_ERR_ARG (time not representable), MUD_ERR_NOMEM (no randomness). */
mud_rcode_t	mud_iodef_id(char out[MUD_IODEF_ID_SIZE], time_t t, mud_error_t *err);

/** Render an incident as an IODEF v2 document (UTF-8, schema-valid, RFC 7970).
 *
 * @param[in] ctx	talloc parent of *xml.
 * @param[out] xml	NUL-terminated document.
 * @param[out] len	its length (excluding the NUL).
 * @param[in] incident	what happened.
 * @param[in] config	reporter, contact, TLP, language.
 * @param[out] err	MUD_ERR_ARG (no reporter/contact, no device nor server, bad MAC/IP/tlp/...),
 *			MUD_ERR_LIMIT (too many actions), MUD_ERR_TOOBIG, MUD_ERR_NOMEM.
 */
mud_rcode_t	mud_iodef_render(TALLOC_CTX *ctx, char **xml, size_t *len,
				 mud_incident_t const *incident, mud_iodef_config_t const *config,
				 mud_error_t *err);

/** One-line summary for syslog: "rlm_mud incident <id>: <event> device <mac/ip> url <url>:
 *  <text>" (fields escaped and cut to 128 bytes). NULL only when out of memory. */
char		*mud_iodef_syslog_line(TALLOC_CTX *ctx, mud_incident_t const *incident);

/** Detached DER CMS SignedData over the exact document bytes (RFC 3067 6.16-6.18).
 *  @return MUD_OK, MUD_ERR_IO (key/cert unreadable), MUD_ERR_SIG (key and cert do not
 *	    match, signing failed), MUD_ERR_TOOBIG, MUD_ERR_NOMEM. */
mud_rcode_t	mud_iodef_sign(TALLOC_CTX *ctx, uint8_t **sig, size_t *sig_len,
			       char const *xml, size_t len, char const *key_pem_path,
			       char const *cert_pem_path, mud_error_t *err);

/** Verify a report's detached signature against trust anchors (mud_sig_verify(), now).
 *  @return MUD_OK or the mud_sig_verify() codes. */
mud_rcode_t	mud_iodef_verify(char const *xml, size_t len, uint8_t const *sig, size_t sig_len,
				 mud_trust_t const *trust, mud_error_t *err);

/** Recipients of encrypted reports: the CSIRT's certificate(s) (RSA or EC keys) and the
 *  content cipher. Read-only once loaded (shared by threads). */
typedef struct mud_iodef_rcpt mud_iodef_rcpt_t;

#define MUD_IODEF_MAX_RCPT	16	//!< recipient certificates per file (one per CSIRT key)
#define MUD_IODEF_MAX_SEALED	(MUD_IODEF_MAX_DOC + MUD_MAX_SIG_SIZE + 65536)	//!< signed and
					//!< enveloped document: the document, a SignedData and
					//!< one RecipientInfo per recipient (<= 1 KiB each)

/** Load the recipient certificate(s) of encrypted reports (RFC 3067 6.16).
 * @param[in] pem_path	one or more PEM certificates (RSA: key transport with RSA-OAEP;
 *			EC: ECDH key agreement), at most MUD_IODEF_MAX_RCPT.
 * @param[in] cipher	"aes-256-gcm" (AuthEnvelopedData, RFC 5083/5084; NULL -> this) or
 *			"aes-256-cbc" (EnvelopedData, RFC 5652).
 * @return MUD_OK, MUD_ERR_IO (unreadable, no certificate), MUD_ERR_ARG (cipher, key type),
 *	   MUD_ERR_LIMIT (too many), MUD_ERR_NOMEM. */
mud_rcode_t	mud_iodef_rcpt_load(TALLOC_CTX *ctx, mud_iodef_rcpt_t **out, char const *pem_path,
				    char const *cipher, mud_error_t *err);

/** Number of recipients loaded. */
size_t		mud_iodef_rcpt_count(mud_iodef_rcpt_t const *rcpt);

/** Sign, then encrypt: with config->sign_key, a CMS SignedData carrying the document
 *  (attached), else the document itself, enveloped (DER) for config->encrypt.
 *  @return MUD_OK, MUD_ERR_ARG (no recipients), mud_iodef_sign() codes, MUD_ERR_SIG
 *	    (encryption failed), MUD_ERR_TOOBIG, MUD_ERR_NOMEM. */
mud_rcode_t	mud_iodef_seal(TALLOC_CTX *ctx, uint8_t **out, size_t *out_len, char const *xml,
			       size_t len, mud_iodef_config_t const *config, mud_error_t *err);

/** The receiving side: decrypt a sealed report with one recipient's key and certificate.
 *  When it was signed, *doc is the document and *sig a detached signature over it (for
 *  mud_iodef_verify()); else *sig is NULL.
 *  @return MUD_OK, MUD_ERR_IO (key/cert unreadable), MUD_ERR_ARG (key and certificate do
 *	    not match), MUD_ERR_SIG (not a CMS enveloped message, not for this key, damaged:
 *	    where = the OpenSSL call), MUD_ERR_TOOBIG, MUD_ERR_NOMEM. */
mud_rcode_t	mud_iodef_decrypt(TALLOC_CTX *ctx, uint8_t **doc, size_t *doc_len, uint8_t **sig,
				  size_t *sig_len, uint8_t const *in, size_t in_len,
				  char const *key_pem_path, char const *cert_pem_path,
				  mud_error_t *err);

/** Parse a restrictions setting ("class=value,...", RFC 3067 4.3) without rendering.
 *  @return MUD_OK or MUD_ERR_ARG (where "config.restrictions", the class or value named). */
mud_rcode_t	mud_iodef_restrictions_check(char const *restrictions, mud_error_t *err);

/** Spool bounds and aggregation. */
typedef struct mud_spool_opts {
	size_t		max_files;	//!< documents (+ signatures) kept; 0 -> 1000
	size_t		max_bytes;	//!< bytes kept; 0 -> 64 MiB
	unsigned int	window;		//!< aggregation window in seconds; 0 -> 3600
	unsigned int	flush_rate;	//!< background writer: documents written per second at
					//!< most; 0 -> 10 (see mud_spool_writer_start())
	mud_log_t	log;		//!< optional: files named like a report that are not
					//!< regular files of ours, skipped (MUD_LOG_WARN)
	void		*log_uctx;
} mud_spool_opts_t;

/** A directory of pending reports (<id>.xml and <id>.xml.p7s). Thread-safe. */
typedef struct mud_spool mud_spool_t;

/** What mud_spool_write() did. */
typedef struct mud_spool_status {
	char		id[MUD_IODEF_ID_SIZE];	//!< IncidentID of the document written or updated
	bool		aggregated;	//!< an existing document was updated (count, last seen)
	bool		dropped;	//!< bounds reached: nothing written (MUD_ERR_LIMIT)
	uint64_t	count;		//!< occurrences in the document
} mud_spool_status_t;

/** Open a spool on an existing directory; counts the files already there. The directory
 *  must pass mud_safe_dir_check() (not a link, owned by the effective uid, not writable by
 *  group or others). Files are looked at with lstat() and read with mud_safe_read(): a
 *  symbolic link, FIFO, device or directory named like a report is skipped (opts->log),
 *  never opened or sent.
 *  @return MUD_OK, MUD_ERR_IO (text says what is wrong with the directory), MUD_ERR_NOMEM. */
mud_rcode_t	mud_spool_open(TALLOC_CTX *ctx, mud_spool_t **out, char const *dir,
			       mud_spool_opts_t const *opts, mud_error_t *err);

/** Spool one incident. The same (event, device MAC or else IP, MUD URL) within the window
 *  rewrites the pending document (same IncidentID, count + 1, last seen) instead of adding
 *  one. Files are written atomically (temp, fsync, rename). When the bounds are reached the
 *  incident is dropped and counted; the count goes into the next document written.
 *
 * @param[in] spool	the spool.
 * @param[in] incident	the event (incident->id, count, first/last seen, dropped are ignored).
 * @param[in] config	rendering and signing (config->sign_key: also <id>.xml.p7s).
 * @param[in] now	wall clock (aggregation window, file name).
 * @param[out] status	may be NULL.
 * @param[out] err	MUD_ERR_LIMIT (dropped), MUD_ERR_IO, render/sign errors.
 */
mud_rcode_t	mud_spool_write(mud_spool_t *spool, mud_incident_t const *incident,
				mud_iodef_config_t const *config, time_t now,
				mud_spool_status_t *status, mud_error_t *err);

/** Move the writing off the caller's thread: from now on mud_spool_write() only records the
 *  incident in memory (a copy; a repeat bumps its count) and returns; a writer thread,
 *  started on the first write (so a fork after this call is harmless), renders, signs,
 *  encrypts and writes the dirty documents, at most opts.flush_rate per second, each
 *  repeat burst coalesced into one rewrite. Freeing the spool stops the thread and writes
 *  what is still dirty. Files, bounds and aggregation are as documented above; a document
 *  dropped by the byte bound is counted into the next one.
 * @param[in] config	rendering for every document; borrowed, must outlive the spool.
 * @return MUD_OK, MUD_ERR_ARG. */
mud_rcode_t	mud_spool_writer_start(mud_spool_t *spool, mud_iodef_config_t const *config,
				       mud_error_t *err);

/** Write every dirty document now (blocking); for tests and shutdown. @return the first
 *  write error, else MUD_OK. */
mud_rcode_t	mud_spool_flush(mud_spool_t *spool, mud_error_t *err);

/** Writer statistics. */
typedef struct mud_spool_stats {
	uint64_t	recorded;	//!< incidents recorded by mud_spool_write()
	uint64_t	written;	//!< documents written (each rewrite counts)
	uint64_t	coalesced;	//!< repeats that rode on a pending rewrite
	uint64_t	write_errors;	//!< documents the writer could not write
} mud_spool_stats_t;

/** Copy the writer statistics. */
void		mud_spool_stats(mud_spool_t *spool, mud_spool_stats_t *stats);

/** POST every spooled document to an HTTPS CSIRT endpoint (libcurl, verification always
 *  on; mud_fetch_global_init() must have run). Unsigned: body = the document,
 *  Content-Type application/xml. Signed: multipart/form-data, part "document"
 *  (application/xml) and part "signature" (application/pkcs7-signature). A document is
 *  removed only after a 2xx; on any failure it stays for the next run. Each document is
 *  tried at most 3 times (backoff 250 ms, 500 ms) on transport errors and 5xx; the run
 *  stops at the first document that still fails to connect.
 *
 * @param[in] ca_file	CA bundle for the endpoint (NULL: system store).
 * @param[in] client_cert	PEM client certificate for mutual TLS (NULL: none).
 * @param[in] client_key	its PEM key.
 * @param[in] timeout_ms	per request; 0 -> 15000.
 * @param[out] sent	documents delivered (may be NULL).
 * @param[out] kept	documents left in the spool (may be NULL).
 * @return MUD_OK when all were delivered, else the first error (MUD_ERR_HTTP, _TLS, _FETCH,
 *	   _TIMEOUT, _IO).
 */
mud_rcode_t	mud_spool_send(mud_spool_t *spool, char const *url, char const *ca_file,
			       char const *client_cert, char const *client_key, long timeout_ms,
			       size_t *sent, size_t *kept, mud_error_t *err);

/* ====================================================================
 *	Fetch service (mud_fetchsvc.c): a bounded pool of fetch threads, a
 *	bounded queue, one job per URL, fair across authorities. RADIUS worker
 *	threads submit and never wait on the network.
 * ==================================================================== */

#define MUD_FETCHSVC_THREADS_DEFAULT	4	//!< fetch threads
#define MUD_FETCHSVC_THREADS_MAX	64
#define MUD_FETCHSVC_QUEUE_DEFAULT	1024	//!< URLs waiting at most
#define MUD_FETCHSVC_PER_AUTHORITY_DEFAULT	2	//!< fetches of one host:port at once

typedef struct mud_fetchsvc_opts {
	unsigned int	threads;	//!< 0 -> MUD_FETCHSVC_THREADS_DEFAULT
	size_t		queue_max;	//!< 0 -> MUD_FETCHSVC_QUEUE_DEFAULT
	unsigned int	per_authority;	//!< 0 -> MUD_FETCHSVC_PER_AUTHORITY_DEFAULT
	unsigned int	tick_interval;	//!< seconds between tick() calls (0: no ticker)
	void		(*tick)(void *uctx, time_t now);	//!< on the service's own ticker
					//!< thread, never concurrently with itself; may
					//!< submit jobs; stopped (and joined) with the service
} mud_fetchsvc_opts_t;

typedef struct mud_fetchsvc_stats {
	uint64_t	queued;		//!< jobs accepted
	uint64_t	deduplicated;	//!< submits of a URL already waiting or running
	uint64_t	dropped_full;	//!< submits refused: queue full
	uint64_t	dropped_stop;	//!< jobs dropped by mud_fetchsvc_stop()
	uint64_t	done;		//!< jobs finished
	uint64_t	running;	//!< jobs running now
	uint64_t	waiting;	//!< jobs waiting now
} mud_fetchsvc_stats_t;

#define MUD_FETCHSVC_ARG_MAX	4096	//!< bytes a job may carry (a signer Name, a few ids)

/** The work of one job, run on a fetch thread: fetch, verify, compile, store (and
 *  whatever follows, e.g. CoA). arg/arglen are the submitter's bytes (a copy). abort
 *  becomes non-zero when the service stops: long operations poll it. */
typedef void (*mud_fetchsvc_fn_t)(void *uctx, char const *url, uint8_t const *arg,
				  size_t arglen, int const volatile *abort);

typedef struct mud_fetchsvc mud_fetchsvc_t;

/** Start the threads. @return MUD_OK, MUD_ERR_ARG, MUD_ERR_NOMEM (also: a thread could not
 *  be started). Freeing the service stops it. */
mud_rcode_t	mud_fetchsvc_create(TALLOC_CTX *ctx, mud_fetchsvc_t **out,
				    mud_fetchsvc_opts_t const *opts, mud_fetchsvc_fn_t fn,
				    void *uctx, mud_error_t *err);

/** Queue a fetch of url with optional argument bytes (e.g. the device certificate's
 *  mud-signer, which the fetch must check); never blocks on the network. A job with the
 *  same URL and argument already waiting or running is not queued again (*queued false,
 *  MUD_OK).
 *  @return MUD_OK, MUD_ERR_URL (not a MUD URL), MUD_ERR_LIMIT (queue full), MUD_ERR_ARG
 *	    (stopped, argument over MUD_FETCHSVC_ARG_MAX), MUD_ERR_NOMEM. */
mud_rcode_t	mud_fetchsvc_submit(mud_fetchsvc_t *svc, char const *url, void const *arg,
				    size_t arglen, bool *queued, mud_error_t *err);

/** Is url waiting or running (with any argument)? */
bool		mud_fetchsvc_pending(mud_fetchsvc_t *svc, char const *url);

/** Wait until nothing waits or runs, at most timeout_ms; true if the service is idle. */
bool		mud_fetchsvc_drain(mud_fetchsvc_t *svc, unsigned int timeout_ms);

/** Stop: drop the waiting jobs, raise the abort flag, join the threads. Idempotent. */
void		mud_fetchsvc_stop(mud_fetchsvc_t *svc);

/** Counters. */
void		mud_fetchsvc_stats(mud_fetchsvc_t *svc, mud_fetchsvc_stats_t *out);

/** Have the ticker call tick() at once (then every tick_interval again), e.g. after a
 *  reload; a tick in progress is followed by another. Nothing without a ticker. */
void		mud_fetchsvc_tick_now(mud_fetchsvc_t *svc);

/* ====================================================================
 *	Station index (mud_station.c): per-device state for CoA and
 *	accounting, hashed (keyed SipHash), striped locks, LRU-bounded,
 *	memory proportional to the entries in use.
 * ==================================================================== */

#define MUD_STATION_KEY_MAX	64	//!< normalised Calling-Station-Id bytes kept (+ NUL)
#define MUD_STATION_ID_MAX	65	//!< session ids kept (audit-session-id is 24 hex on IOS)
#define MUD_STATION_SECRET_MAX	129	//!< RADIUS shared secret for CoA (FreeRADIUS: 128)
#define MUD_STATIONS_DEFAULT	100000	//!< stations kept when not configured
#define MUD_STATIONS_MAX	10000000	//!< ceiling of max_entries
#define MUD_STATIONS_IDLE_DEFAULT	86400	//!< seconds without news before a station
						//!< is dropped

/** What is known of one station. Copied out; url strings under the caller's ctx. */
typedef struct mud_station {
	char		key[MUD_STATION_KEY_MAX];	//!< normalised Calling-Station-Id
	char		nas_ip[48];		//!< NAS-IP-Address / NAS-IPv6-Address, "" unknown
	char		nas_id[MUD_STATION_ID_MAX];	//!< NAS-Identifier, "" unknown
	char		nas_port[MUD_STATION_ID_MAX];	//!< NAS-Port-Id or NAS-Port, "" unknown
	char		user_name[MUD_STATION_ID_MAX];	//!< User-Name, "" unknown
	char		ip[48];			//!< Framed-IP-Address (else IPv6), "" unknown
	char		ip6[48];		//!< Framed-IPv6-Address when ip holds IPv4
	char		audit_session_id[MUD_STATION_ID_MAX];	//!< Cisco audit-session-id
	char		acct_session_id[MUD_STATION_ID_MAX];	//!< Acct-Session-Id
	char		*url_applied;	//!< MUD URL whose policy was applied, NULL none
	uint64_t	policy_hash;	//!< identifies the policy applied (dACL names), 0 none
	char		*url_seen;	//!< MUD URL accounting taught, NULL none
	char		url_seen_src[24];	//!< its source ("lldp", "dhcpv4", ...)
	bool		in_session;	//!< accounting Start/Interim seen, no Stop since
	char		calling_station_id[MUD_STATION_KEY_MAX];	//!< as the NAS sent it
	char		coa_dst[48];	//!< where CoA goes (NAS or its CoA server), "" none
	uint16_t	coa_port;	//!< 0: the sender's default
	char		coa_secret[MUD_STATION_SECRET_MAX];	//!< "" = the sender's default
	time_t		last;		//!< last update
} mud_station_t;

/** Which fields mud_stations_update() copies. */
#define MUD_STATION_NAS		0x01	//!< nas_ip, nas_id, nas_port, user_name, ip, ip6 (what an
					//!< incident report about the station names)
#define MUD_STATION_AUDIT	0x02	//!< audit_session_id
#define MUD_STATION_ACCT	0x04	//!< acct_session_id
#define MUD_STATION_APPLIED	0x08	//!< url_applied, policy_hash (NULL/"" clears)
#define MUD_STATION_SEEN	0x10	//!< url_seen, url_seen_src (NULL/"" clears)
#define MUD_STATION_SESSION	0x20	//!< in_session
#define MUD_STATION_COA		0x40	//!< calling_station_id, coa_dst, coa_port, coa_secret

typedef struct mud_stations_opts {
	size_t		max_entries;	//!< 0 -> MUD_STATIONS_DEFAULT; least recently used dropped
					//!< (held within max_entries + 64)
	unsigned int	idle_timeout;	//!< seconds; 0 -> MUD_STATIONS_IDLE_DEFAULT
} mud_stations_opts_t;

typedef struct mud_stations_stats {
	size_t		entries;
	size_t		max_entries;
	size_t		buckets;
	uint64_t	evicted;	//!< dropped to make room (LRU)
	uint64_t	expired;	//!< dropped after idle_timeout
} mud_stations_stats_t;

/** The index. Thread-safe. */
typedef struct mud_stations mud_stations_t;

/** Create an index. @return MUD_OK, MUD_ERR_ARG (max above MUD_STATIONS_MAX), MUD_ERR_IO
 *  (no randomness for the hash key), MUD_ERR_NOMEM. */
mud_rcode_t	mud_stations_create(TALLOC_CTX *ctx, mud_stations_t **out,
				    mud_stations_opts_t const *opts, mud_error_t *err);

/** Create or update a station: the fields selected copied from *in, last = now.
 *
 * @param[in] key	normalised Calling-Station-Id (1..MUD_STATION_KEY_MAX-1 bytes).
 * @param[in] in	values (only the selected fields are read).
 * @param[in] fields	MUD_STATION_* bits.
 * @param[in] now	wall clock.
 * @param[in] ctx	parent of before's strings.
 * @param[out] before	if not NULL: the station as it was (all zero if new).
 * @param[out] err	MUD_ERR_ARG, MUD_ERR_NOMEM.
 */
mud_rcode_t	mud_stations_update(mud_stations_t *t, char const *key, mud_station_t const *in,
				    unsigned int fields, time_t now, TALLOC_CTX *ctx,
				    mud_station_t *before, mud_error_t *err);

/** Copy out a station; false if unknown (or out of memory). */
bool		mud_stations_get(mud_stations_t *t, TALLOC_CTX *ctx, char const *key, time_t now,
				 mud_station_t *out);

/** Forget a station; false if unknown. */
bool		mud_stations_remove(mud_stations_t *t, char const *key);

/** Drop every station idle longer than idle_timeout; returns how many. */
size_t		mud_stations_expire(mud_stations_t *t, time_t now);

/** The stations a URL's policy was applied to (for CoA when it changes), at most max,
 *  copied into a talloc array under ctx (one pass over the index).
 *  @param[out] num	how many were copied (on MUD_ERR_NOMEM: those copied before).
 *  @return MUD_OK; MUD_ERR_NOMEM (the list is incomplete); MUD_ERR_ARG. */
mud_rcode_t	mud_stations_by_url(mud_stations_t *t, TALLOC_CTX *ctx, char const *url,
				    mud_station_t **out, size_t max, size_t *num, mud_error_t *err);

/** How many stations use each of urls (sorted by strcmp, no duplicates), in one pass over
 *  the index: counts[i] for urls[i]. Never allocates. */
void		mud_stations_count_urls(mud_stations_t *t, char * const *urls, size_t n,
					size_t *counts);

/** Counters. */
void		mud_stations_stats(mud_stations_t *t, mud_stations_stats_t *out);

/** Version string of libmud. */
char const	*mud_version(void);
/* ====================================================================
 *	Enforcement on a Linux gateway (mud_enforce.c, mud_nft.c, mud_nl.c):
 *	per-device nftables rules from a compiled rule set (libnftables JSON
 *	API), device addresses learned from the neighbour table (libnl).
 *	docs/enforce.md. Without libnftables at configure time every call
 *	returns MUD_ERR_UNSUPPORTED (mud_enforce_stub.c).
 * ==================================================================== */

/** Longest nftables table name accepted (NFT_NAME_MAXLEN is 256; ours are short labels). */
#define MUD_ENFORCE_MAX_TABLE	32
/** Addresses remembered per device (privacy addresses come and go; the neighbour table
 *  of a gateway rarely holds more than a handful per station). */
#define MUD_ENFORCE_MAX_ADDRS	32
/** Devices one enforcement state holds (bounds the table and the memory of the state). */
#define MUD_ENFORCE_MAX_DEVICES	65536

typedef struct mud_enforce mud_enforce_t;

typedef struct mud_enforce_opts {
	char const	*table;		//!< nftables table (inet and bridge families), NULL ->
					//!< "rlm_mud"; letters, digits, '_' only
	char const	*bridge;	//!< bridge the devices sit on (neighbour/FDB lookups,
					//!< br_netfilter check), NULL = any interface
	bool		track;		//!< follow neighbour notifications in a thread
	bool		keep;		//!< open an existing table as is (mudctl) instead of
					//!< replacing it (the module starts from an empty table)
	bool		readonly;	//!< with keep: never create the table (absent:
					//!< MUD_ERR_ARG), never delete it
	mud_log_t	log;		//!< optional debug/info/warn traces
	void		*log_uctx;
} mud_enforce_opts_t;

/** One device as the enforcement state holds it. */
typedef struct mud_enforce_dev {
	char		mac[18];	//!< "02:00:00:00:00:01"
	char		*url;		//!< MUD URL of the policy, may be NULL
	time_t		expires;	//!< 0 = at Stop only
	size_t		num_rules;	//!< nftables rules installed for it
	mud_prefix_t	addrs[MUD_ENFORCE_MAX_ADDRS];	//!< addresses (host prefixes) known
	size_t		num_addrs;
	char		port[16];	//!< bridge port of the MAC (FDB), "" if unknown
} mud_enforce_dev_t;

/** Open the enforcement state: checks CAP_NET_ADMIN and nftables support by creating the
 *  table (the first error names what is missing), then starts neighbour tracking.
 *  Freeing *out (talloc) stops the thread and deletes the table (opts->keep: leaves it). */
mud_rcode_t	mud_enforce_open(TALLOC_CTX *ctx, mud_enforce_t **out,
				 mud_enforce_opts_t const *opts, mud_error_t *err);

/** Install or atomically replace (one nftables transaction) the rules of the device with
 *  this MAC. Its addresses come from the neighbour table now and from notifications later.
 *  @param[in] expires	0 or when mud_enforce_expire() removes it. */
mud_rcode_t	mud_enforce_apply(mud_enforce_t *e, char const *mac, mud_ruleset_t const *rs,
				  char const *url, time_t expires, mud_error_t *err);

/** Compiled policies remembered by URL (FIFO beyond this; a device's installed rules stay). */
#define MUD_ENFORCE_MAX_POLICIES	4096

/** Remember a URL's compiled rules (a copy), for mud_enforce_apply_url(): the module calls
 *  it when it fetches a policy, as its cache keeps only rendered lines. */
mud_rcode_t	mud_enforce_remember(mud_enforce_t *e, char const *url, mud_ruleset_t const *rs,
				     mud_error_t *err);

/** mud_enforce_apply() with the rules remembered for url; MUD_ERR_ARG if there are none
 *  (the caller then applies something narrower, e.g. the quarantine set). */
mud_rcode_t	mud_enforce_apply_url(mud_enforce_t *e, char const *mac, char const *url,
				      time_t expires, mud_error_t *err);

/** Remove the device's rules. MUD_OK also when it had none (*found false). */
mud_rcode_t	mud_enforce_remove(mud_enforce_t *e, char const *mac, bool *found,
				   mud_error_t *err);

/** Remove every device (the table stays, empty). */
mud_rcode_t	mud_enforce_flush(mud_enforce_t *e, mud_error_t *err);

/** Remove the devices whose expiry is before now; returns how many. */
size_t		mud_enforce_expire(mud_enforce_t *e, time_t now);

/** A device learned (or lost) an address: what the neighbour thread does; for tests and
 *  for callers with another source (DHCP leases). A host address of family 4 or 6. */
mud_rcode_t	mud_enforce_addr(mud_enforce_t *e, char const *mac, mud_prefix_t const *addr,
				 bool add, mud_error_t *err);

/** Copy of the state (devices, in MAC order) under ctx. */
size_t		mud_enforce_devices(mud_enforce_t *e, TALLOC_CTX *ctx, mud_enforce_dev_t **out);

/** The installed table as nftables lists it (text), under ctx; NULL if absent. */
char		*mud_enforce_listing(mud_enforce_t *e, TALLOC_CTX *ctx);

/** The nftables JSON transaction that installs or replaces one device (pure: no kernel).
 *  @param[in] table	table name; @param[in] mac "xx:xx:xx:xx:xx:xx";
 *  @param[in] addrs	its known addresses. MUD_ERR_RENDER names a malformed rule,
 *			MUD_ERR_ARG a bad MAC or table name. */
mud_rcode_t	mud_nft_device_json(TALLOC_CTX *ctx, char **out, char const *table,
				    char const *mac, mud_ruleset_t const *rs,
				    mud_prefix_t const *addrs, size_t num_addrs, mud_error_t *err);


#ifdef __cplusplus
}
#endif
/* ====================================================================
 *	Metrics (mud_metrics.c): lock-free counters, the Prometheus text
 *	exposition format, and a writer thread for node_exporter's textfile
 *	collector (docs/operations.md "Metrics").
 * ==================================================================== */

/** The MUD-Status values counted (the dictionary's, in its order). */
#define MUD_METRICS_STATUSES	16	//!< 15 values and "other"

typedef struct mud_metrics mud_metrics_t;

/** CoA counters the adapter's sender keeps (plain numbers, copied in for rendering). */
typedef struct mud_metrics_coa {
	bool		enabled;	//!< coa = yes: the coa series are written
	uint64_t	sent;		//!< first transmissions
	uint64_t	retransmits;
	uint64_t	ack;
	uint64_t	nak;
	uint64_t	timeout;
	uint64_t	dropped;	//!< queue full or stopped
	uint64_t	errors;		//!< invalid request or send error
	uint64_t	pending;	//!< queued + in flight now (gauge)
} mud_metrics_coa_t;

/** New counters, all zero. NULL on allocation failure. */
mud_metrics_t	*mud_metrics_alloc(TALLOC_CTX *ctx);

/** A request the module processed (authorize / post-auth, not a dACL download). Atomic. */
void		mud_metrics_request(mud_metrics_t *m);

/** An outcome, by its MUD-Status name ("ok", "pending", "acl-served", ...; unknown names are
 *  counted as "other"). Atomic. */
void		mud_metrics_outcome(mud_metrics_t *m, char const *status);

/** A fetch that ended with code (MUD_OK or the cause of its failure). Atomic. */
void		mud_metrics_fetch(mud_metrics_t *m, mud_rcode_t code);

/** A Cisco dACL download request, served or not. Atomic. */
void		mud_metrics_dacl(mud_metrics_t *m, bool served);

/** A reload (HUP) of the module: applied, or refused (the running configuration kept).
 *  Atomic. */
void		mud_metrics_reload(mud_metrics_t *m, bool ok);

/** num cached policies dropped because their signer no longer chains to the trust anchors
 *  (mud_cache_revalidate()). Atomic. */
void		mud_metrics_revoked(mud_metrics_t *m, size_t num);

/** A cached policy compiled again from its kept MUD file (mud_cache_source()) instead of a
 *  fetch: done, or failed (then fetched). Atomic. */
void		mud_metrics_recompile(mud_metrics_t *m, bool ok);

/** The counters as Prometheus text exposition format 0.0.4 (families rlm_mud_*, each with
 *  HELP and TYPE, every series present from the start), under ctx; NULL on allocation
 *  failure. cache, fsvc and coa may be NULL (their series are then left out). */
char		*mud_metrics_render(TALLOC_CTX *ctx, mud_metrics_t *m,
				    mud_cache_stats_t const *cache,
				    mud_fetchsvc_stats_t const *fsvc,
				    mud_metrics_coa_t const *coa);

/** Write text to path atomically: a temporary file in the same directory (mode 0644: the
 *  collector runs as another user), then rename(). */
mud_rcode_t	mud_metrics_write(char const *path, char const *text, mud_error_t *err);

/** Produces the text to write (under ctx), on the writer thread; NULL skips this round. */
typedef char *(*mud_metrics_text_fn_t)(void *uctx, TALLOC_CTX *ctx);

typedef struct mud_metrics_writer mud_metrics_writer_t;

/** Start a thread that writes fn's text to path now and every interval seconds (1..3600),
 *  never on a request's thread. A write that fails is reported through log (rate: once
 *  until a write succeeds again). Freeing the writer stops the thread (and writes once
 *  more). @return MUD_OK, MUD_ERR_ARG, MUD_ERR_IO (the first write failed: the path is
 *  unusable), MUD_ERR_NOMEM. */
mud_rcode_t	mud_metrics_writer_start(TALLOC_CTX *ctx, mud_metrics_writer_t **out,
					 char const *path, unsigned int interval,
					 mud_metrics_text_fn_t fn, void *uctx, mud_log_t log,
					 void *log_uctx, mud_error_t *err);

#endif /* MUD_H */
