/*
 * mud_private.h - helpers shared inside libmud (mudp_*). Not installed, not
 * included by the FreeRADIUS adapter.
 */
#ifndef MUD_PRIVATE_H
#define MUD_PRIVATE_H

#include <stdarg.h>
#include "mud.h"

/** Number of elements of a fixed array. */
#define MUD_ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/** Append a warning to a talloc array owned by parent.
 *
 * At most MUD_MAX_WARNINGS are stored; further ones increment *dropped (if
 * not NULL). Allocation failure is ignored (a warning is never essential).
 *
 * @param[in] parent	talloc parent of the array and strings.
 * @param[in,out] arr	the array (may start NULL).
 * @param[in,out] num	its length.
 * @param[in,out] dropped	count of warnings not stored, may be NULL.
 * @param[in] where	location, NULL for "".
 * @param[in] fmt	printf format.
 */
void	mudp_warn(TALLOC_CTX *parent, mud_warning_t **arr, size_t *num, size_t *dropped,
		  char const *where, char const *fmt, ...) __attribute__((format(printf, 6, 7)));

/** Copy untrusted bytes into a printable, bounded form for error messages:
 *  non-printable bytes become \xNN, output cut at (outlen - 1) with "..." when cut. */
void	mudp_escape(char *out, size_t outlen, char const *in, size_t inlen);

/** Copy n lines into a NULL-terminated talloc array under ctx (a NULL line becomes "");
 *  *ok becomes false when out of memory (the partial copy is under ctx). */
char	**mudp_lines_dup(TALLOC_CTX *ctx, char * const *src, size_t n, bool *ok);

/** Like snprintf into a fixed buffer, never fails, always NUL-terminates. */
void	mudp_strlcpy(char *dst, char const *src, size_t dstlen);

/** Case-insensitive ASCII compare of two NUL-terminated strings. */
int	mudp_strcasecmp(char const *a, char const *b);

/** Semantic checks of one parsed ACE (mud_validate.c), shared by the parser
 *  (with the file's own JSON pointer) and mud_file_validate().
 *
 * @param[in] acl	the ACL holding the ACE (its type is checked against the matches).
 * @param[in] ace	the entry.
 * @param[in] leniencies	MUD_LENIENT_* bits applied to the file (ETH_IN_IP_ACL admits
 *			an eth match in an ipv4/ipv6-acl-type ACL).
 * @param[in] where	JSON pointer of the ACE's "matches" container.
 * @param[out] err	first error (MUD_ERR_SEMANTIC).
 */
mud_rcode_t	mudp_ace_validate(mud_acl_t const *acl, mud_ace_t const *ace,
				  unsigned int leniencies, char const *where, mud_error_t *err);

/** Drain the thread's OpenSSL error queue (STYLE.md section 4): the first reason is appended
 *  to what in err->text, the rest is discarded. Defined in mud_sig.c.
 *  @return code. */
mud_rcode_t	mudp_ossl_error(mud_error_t *err, mud_rcode_t code, char const *where,
			char const *what);

/** mud_sig_verify(), and on success the DER encoding of the verified signer certificate's
 *  subject Name under ctx (*subject_der, *subject_der_len; both may be NULL: not wanted)
 *  and the signer's chain under ctx (*chain, *chain_len; both may be NULL: not wanted):
 *  the signer certificate, then every other certificate the SignedData carries, each as
 *  DER, concatenated (mud_policy_t.signer_chain; *chain stays NULL when it would pass
 *  MUD_SIGNER_CHAIN_MAX or MUD_SIGNER_CHAIN_CERTS). Defined in mud_sig.c. */
mud_rcode_t	mudp_sig_verify(TALLOC_CTX *ctx, mud_trust_t const *trust,
				uint8_t const *content, size_t content_len,
				uint8_t const *sig, size_t sig_len, time_t at,
				uint8_t const *signer_der, size_t signer_der_len,
				char **signer_subject, uint8_t **subject_der,
				size_t *subject_der_len, uint8_t **chain, size_t *chain_len,
				mud_error_t *err);

/** A new reference (under ctx) to the anchors of trust: the same X509_STORE, counted
 *  (X509_STORE_up_ref), so it outlives trust being freed. NULL if trust is NULL or out of
 *  memory. Thread-safe. Defined in mud_sig.c. */
mud_trust_t	*mudp_trust_ref(TALLOC_CTX *ctx, mud_trust_t const *trust);

/** Does a recorded signer (got: the DER subject of a verified signer certificate, as
 *  mudp_sig_verify() gives it) satisfy an expected signer (want: a device certificate's
 *  mud-signer)? Decided by the very comparison mud_sig_verify() uses for the constraint
 *  (MUD_ERR_SIG_SIGNER), so the cache and the signature check cannot disagree.
 *  Defined in mud_sig.c.
 *  @return MUD_OK when they match; MUD_ERR_SIG_SIGNER otherwise (also when either is not a
 *	    DER Name), err->text saying why. */
mud_rcode_t	mudp_signer_match(uint8_t const *got_der, size_t got_len,
				  uint8_t const *want_der, size_t want_len, mud_error_t *err);

/** Outcome of one DNS query (mudp_dns_query_t.status). */
#define MUDP_DNS_OK		0	//!< answered (possibly with no address of the family)
#define MUDP_DNS_NOTFOUND	1	//!< NXDOMAIN / no data
#define MUDP_DNS_TIMEOUT	2	//!< no answer before the budget ran out
#define MUDP_DNS_FAIL		3	//!< other resolver failure

/** One (name, family) query of a batch. */
typedef struct mudp_dns_query {
	char const	*name;		//!< in: the name (absolute; no search list)
	int		family;		//!< in: 4 (A) or 6 (AAAA)
	bool		done;		//!< out: an answer or a failure arrived
	int		status;		//!< out: MUDP_DNS_*
	size_t		num;		//!< out: addresses (host prefixes, no duplicates)
	uint32_t	ttl;		//!< out: smallest TTL of the answers (s), 0 if none
	mud_prefix_t	addrs[MUD_MAX_ADDRS_PER_NAME];
} mudp_dns_query_t;

/** Resolve a batch of queries in parallel (c-ares, mud_resolve.c): every query in flight
 *  at once, the whole batch bounded by budget_ms; what has not answered by then is
 *  MUDP_DNS_TIMEOUT. Thread-safe (one channel per call).
 *
 * @param[in,out] q	the queries.
 * @param[in] n		their number.
 * @param[in] servers	c-ares server list "ip[:port],[ipv6]:port,..." or NULL (resolv.conf).
 * @param[in] budget_ms	total time, 0 -> MUD_DNS_BUDGET_DEFAULT_MS.
 * @param[out] err	MUD_ERR_ARG (bad server list), MUD_ERR_FETCH, MUD_ERR_NOMEM.
 * @return MUD_OK when the batch ran (each query has its own status). */
mud_rcode_t	mudp_resolve_batch(mudp_dns_query_t *q, size_t n, char const *servers,
				   unsigned int budget_ms, mud_error_t *err);

/** Text of a MUDP_DNS_* status. */
char const	*mudp_dns_status_name(int status);

/** An HMAC key file (the cache's, Redis's): read with mud_safe_read() (owned by us), not
 *  readable by group or others, min..max bytes; what names it in the errors ("cache key
 *  file"). The key is a talloc child of ctx. */
mud_rcode_t	mudp_key_read(TALLOC_CTX *ctx, uint8_t **key, size_t *len, char const *path,
			      size_t min, size_t max, char const *what, mud_error_t *err);

#endif /* MUD_PRIVATE_H */
