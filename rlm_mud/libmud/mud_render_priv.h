/*
 * mud_render_priv.h - interface between the renderer table (mud_render.c) and
 * the per-format renderers (mud_render_cisco.c, mud_render_nfr.c,
 * mud_render_json.c). Private to libmud.
 */
#ifndef MUD_RENDER_PRIV_H
#define MUD_RENDER_PRIV_H

#include "mud_private.h"

/** Room for one line while it is built. Larger than MUD_MAX_ATTR_LEN so that an
 *  over-long line is measured and refused (MUD_ERR_LIMIT), never cut. */
#define MUDP_LINE_SIZE	1024

/** A line under construction: a bounded buffer that remembers overflow. */
typedef struct mudp_line {
	char	buf[MUDP_LINE_SIZE];	//!< NUL-terminated text.
	size_t	len;			//!< bytes written (without the NUL).
	bool	overflow;		//!< text did not fit buf.
} mudp_line_t;

/** One renderer: fill out (lines as talloc children of out) from rs.
 *  Called with out zeroed and out->format set; mud_ruleset_render() computes the
 *  hash afterwards and frees out on error. */
typedef mud_rcode_t (*mudp_render_fn_t)(mud_rendered_t *out, mud_ruleset_t const *rs,
					mud_error_t *err);

/** Start an empty line. */
void		mudp_line_init(mudp_line_t *line);

/** Append printf-style text; on overflow the line is marked and stays NUL-terminated. */
void		mudp_line_printf(mudp_line_t *line, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Location of a rule for error messages: its origin, else "rule <idx>". */
void		mudp_rule_where(char *buf, size_t buflen, mud_rule_t const *rule, size_t idx);

/** Append a finished line to out->v4 (v6 false) or out->v6 (v6 true).
 *
 * Checks the attribute length (MUD_MAX_ATTR_LEN) and the attribute count
 * (MUD_MAX_ATTRS over v4 + v6); both give MUD_ERR_LIMIT with the rule's
 * location in err->where. Nothing is ever truncated.
 *
 * @param[in,out] out	rendered output; the copy is its talloc child.
 * @param[in] v6	which list.
 * @param[in] line	the text.
 * @param[in] rule	rule it came from (for the error location), may be NULL.
 * @param[in] idx	index of the rule.
 * @param[out] err	reason on failure.
 * @return MUD_OK, MUD_ERR_LIMIT or MUD_ERR_NOMEM.
 */
mud_rcode_t	mudp_render_add(mud_rendered_t *out, bool v6, mudp_line_t const *line,
				mud_rule_t const *rule, size_t idx, mud_error_t *err);

/** SHA-256 (hex) of the lines of a, then of b, joined by "\n" (no trailing newline).
 *  @return MUD_OK or MUD_ERR_NOMEM. */
mud_rcode_t	mudp_render_hash(char out[65], char * const *a, size_t num_a,
				 char * const *b, size_t num_b, mud_error_t *err);

/*
 *	dACL names "<prefix><label>-<hash>" (docs/rendering.md, "dACL names").
 */
#define MUDP_ACL_PREFIX_V4	"#ACSACL#-IP-"		//!< IPv4 dACL (Cisco's own prefix)
#define MUDP_ACL_PREFIX_V6	"#ACSACL#-IPV6-"	//!< IPv6 dACL
#define MUDP_ACL_HASH_BITS	130	//!< SHA-256 bits kept: a collision needs ~2^65 work,
					//!< a second preimage ~2^130 (issue 9 asks >= 96).
#define MUDP_ACL_HASH_LEN	26	//!< base32 characters of the hash (26 x 5 = 130 bits).
#define MUDP_ACL_NAME_MAX	64	//!< whole name: the common ACL name limit of switch
					//!< CLIs; Cisco documents none for dACLs, RADIUS caps
					//!< the AV-pair at 253 bytes (docs/rendering.md).
#define MUDP_ACL_LABEL_MAX	(MUDP_ACL_NAME_MAX - ((int)sizeof(MUDP_ACL_PREFIX_V6) - 1) - 1 - \
				 MUDP_ACL_HASH_LEN)	//!< 23: the label room of an IPv6 name
							//!< (prefix, "-", hash), for both families
#define MUDP_ACL_HASH_DOMAIN	"rlm_mud dACL name v2"	//!< domain separation of the hash input

/** The hash part of a dACL name: the first MUDP_ACL_HASH_BITS bits of a SHA-256 over
 *  MUDP_ACL_HASH_DOMAIN, the family ("IP" or "IPV6"), the MUD URL, then the v4 and the
 *  v6 lines, each field preceded by its 32-bit big-endian length (counts for the line
 *  lists), as MUDP_ACL_HASH_LEN base32 characters (RFC 4648, lower case).
 *
 * @param[out] out	hash text, NUL-terminated ("" on failure).
 * @param[in] v6	name of the IPv6 dACL (else IPv4).
 * @param[in] url	MUD URL (NULL is "": the quarantine filter has none).
 * @param[in] v4	IPv4 lines as sent; n4 of them.
 * @param[in] v6l	IPv6 lines as sent; n6 of them.
 * @return false if out of memory or a line is NULL.
 */
bool		mudp_acl_name_hash(char out[MUDP_ACL_HASH_LEN + 1], bool v6, char const *url,
				   char * const *v4, size_t n4, char * const *v6l, size_t n6);

/** Content-addressed ACL name "<prefix><label>-<hash>" for a rendered output.
 *
 * label NULL or "" gives "mud". The label must be [A-Za-z0-9._-] (MUD_ERR_RENDER) and
 * is cut to MUDP_ACL_LABEL_MAX characters, so the name fits MUDP_ACL_NAME_MAX.
 *
 * @param[in] ctx	talloc parent of *out.
 * @param[out] out	the name.
 * @param[in] v6	IPv6 dACL (prefix "#ACSACL#-IPV6-") or IPv4 ("#ACSACL#-IP-").
 * @param[in] label	rule set name.
 * @param[in] url	MUD URL of the rule set ("" or NULL for the quarantine filter).
 * @param[in] r		rendered lines of both families.
 * @param[out] err	reason on failure.
 */
mud_rcode_t	mudp_render_acl_name(TALLOC_CTX *ctx, char **out, bool v6, char const *label,
				     char const *url, mud_rendered_t const *r, mud_error_t *err);

/** Check that name is what mudp_render_acl_name() gives for (url, lines): the family's
 *  prefix, a label of at most MUDP_ACL_LABEL_MAX allowed characters, and the hash.
 *  @return MUD_OK, MUD_ERR_SCHEMA (where = the name, escaped; text = what is wrong),
 *	    MUD_ERR_NOMEM. */
mud_rcode_t	mudp_acl_name_check(char const *name, bool v6, char const *url, char * const *v4,
				    size_t n4, char * const *v6l, size_t n6, mud_error_t *err);

/** Check rendered values against the grammar the renderer of fmt emits (mud_render_check.c):
 *  cisco-dacl "ip:inacl#N=" / "ipv6:inacl#N=" lines numbered 1, 2, ... per family, or
 *  nas-filter-rule rules (no IPv6 list); printable ASCII only, at most MUD_MAX_ATTR_LEN bytes
 *  each and MUD_MAX_ATTRS in all. For values read back from outside the process.
 *  @return MUD_OK, MUD_ERR_SCHEMA (where = "v4 line N" / "v6 line N", text = what is wrong),
 *	    MUD_ERR_ARG (fmt has no line grammar: json). */
mud_rcode_t	mudp_render_check(mud_format_t fmt, char * const *v4, size_t n4, char * const *v6,
				  size_t n6, mud_error_t *err);

/** AV-pair that carries a dACL name in an Access-Accept (with the name: at most 92 bytes, well
 *  within MUD_MAX_ATTR_LEN; checked at compile time in mud_render.c). */
#define MUDP_CISCO_ACL_AVPAIR	"ACS:CiscoSecure-Defined-ACL="

#define MUDP_PROTO_ICMP	1
#define MUDP_PROTO_TCP		6
#define MUDP_PROTO_UDP		17
#define MUDP_PROTO_ICMPV6	58

/** True if the rule's protocol is ICMP of its family (1 for IPv4, 58 for IPv6). */
bool		mudp_rule_is_icmp(mud_rule_t const *rule);

/** Checks every renderer needs: direction, family, action, protocol 0..255 or -1,
 *  peer prefix of the rule's family, ports only with tcp/udp (non-empty ranges,
 *  known operators), established only with tcp, ICMP type/code only with ICMP and
 *  0..255. A constraint is never dropped to make a rule fit.
 *  @return MUD_OK or MUD_ERR_RENDER with the rule's location in where. */
mud_rcode_t	mudp_rule_check(mud_rule_t const *rule, size_t idx, mud_error_t *err);

/** Network address of the peer (host bits cleared) as text, into addr (>= 46 bytes).
 *  @return false if it cannot be printed. */
bool		mudp_peer_addr(char *addr, size_t addrlen, mud_prefix_t const *peer);

/** Renderers (mud_render_cisco.c, mud_render_nfr.c, mud_render_json.c). */
mud_rcode_t	mudp_render_cisco(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err);
mud_rcode_t	mudp_render_nfr(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err);
mud_rcode_t	mudp_render_json(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err);

#endif /* MUD_RENDER_PRIV_H */
