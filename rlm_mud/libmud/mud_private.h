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

#endif /* MUD_PRIVATE_H */
