/*
 * mud_error.c - error recording (first error wins) and code names.
 */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "config.h"
#include "mud_private.h"

/** Reset an error to MUD_OK. */
void mud_error_clear(mud_error_t *err)
{
	if (!err) return;
	err->code = MUD_OK;
	err->where[0] = '\0';
	err->text[0] = '\0';
}

/** Record the first error (see mud.h). */
mud_rcode_t mud_error_set(mud_error_t *err, mud_rcode_t code, char const *where, char const *fmt,
			  ...)
{
	va_list ap;

	if (!err) return code;
	if (err->code != MUD_OK) return code;

	err->code = code;
	mudp_strlcpy(err->where, where ? where : "", sizeof(err->where));
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);

	return code;
}

/*
 *	The outcome table: one row per mud_rcode_t, in enum order (checked by test_error).
 */
#define ROW(_c, _status, _text, _level, _act, _event) \
	[_c] = { .code = _c, .name = #_c, .status = _status, .text = _text, .level = _level, \
		 .act = _act, .event = _event }

static mud_outcome_t const outcomes[MUD_RCODE_MAX] = {
	ROW(MUD_OK, "ok", "success", MUD_LOG_INFO, MUD_ACT_APPLY, -1),
	ROW(MUD_ERR_NOMEM, "internal-error", "out of memory", MUD_LOG_ERROR, MUD_ACT_FAIL, -1),
	ROW(MUD_ERR_ARG, "internal-error", "invalid argument", MUD_LOG_ERROR, MUD_ACT_FAIL, -1),
	ROW(MUD_ERR_IO, "internal-error", "file access failed", MUD_LOG_ERROR, MUD_ACT_FAIL, -1),
	ROW(MUD_ERR_URL, "url-invalid", "MUD URL invalid or not acceptable", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_URL_REFUSED),
	ROW(MUD_ERR_TLV, "url-invalid", "malformed TLV or certificate extension", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_URL_REFUSED),
	ROW(MUD_ERR_FETCH, "fetch-failed", "MUD file could not be retrieved", MUD_LOG_WARN,
	    MUD_ACT_FAIL, -1),
	ROW(MUD_ERR_TIMEOUT, "fetch-failed", "MUD server timed out", MUD_LOG_WARN, MUD_ACT_FAIL,
	    -1),
	ROW(MUD_ERR_TLS, "tls-failed", "MUD server TLS certificate or handshake invalid",
	    MUD_LOG_WARN, MUD_ACT_INVALID, MUD_EVENT_TLS_INVALID),
	ROW(MUD_ERR_HTTP, "fetch-failed", "MUD server returned an HTTP error", MUD_LOG_WARN,
	    MUD_ACT_FAIL, -1),
	ROW(MUD_ERR_TOOBIG, "invalid-file", "input larger than allowed", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_FILE_INVALID),
	ROW(MUD_ERR_SIG, "signature-invalid", "MUD signature invalid", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_SIG_INVALID),
	ROW(MUD_ERR_SIG_MISSING, "signature-invalid", "MUD signature missing", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_SIG_MISSING),
	ROW(MUD_ERR_SIG_DIGEST, "signature-invalid", "MUD file does not match its signature",
	    MUD_LOG_WARN, MUD_ACT_INVALID, MUD_EVENT_SIG_INVALID),
	ROW(MUD_ERR_SIG_UNTRUSTED, "signature-invalid", "MUD signer not trusted", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_SIG_UNTRUSTED),
	ROW(MUD_ERR_SIG_EXPIRED, "signature-invalid",
	    "MUD signer certificate expired or not yet valid", MUD_LOG_WARN, MUD_ACT_INVALID,
	    MUD_EVENT_SIG_EXPIRED),
	ROW(MUD_ERR_SIG_SIGNER, "signature-invalid",
	    "MUD signer differs from the device's mud-signer", MUD_LOG_WARN, MUD_ACT_INVALID,
	    MUD_EVENT_SIG_SIGNER),
	ROW(MUD_ERR_JSON, "invalid-file", "MUD file is not well-formed JSON", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_FILE_INVALID),
	ROW(MUD_ERR_SCHEMA, "invalid-file", "MUD file violates the YANG model", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_FILE_INVALID),
	ROW(MUD_ERR_SEMANTIC, "invalid-file", "MUD file is inconsistent", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_FILE_INVALID),
	ROW(MUD_ERR_MISMATCH, "url-mismatch", "mud-url differs from the URL fetched", MUD_LOG_WARN,
	    MUD_ACT_INVALID, MUD_EVENT_URL_MISMATCH),
	ROW(MUD_ERR_LIMIT, "invalid-file", "limit exceeded", MUD_LOG_WARN, MUD_ACT_INVALID, -1),
	ROW(MUD_ERR_UNSUPPORTED, "invalid-file", "unsupported feature", MUD_LOG_WARN,
	    MUD_ACT_INVALID, -1),
	ROW(MUD_ERR_RENDER, "invalid-file", "rules cannot be rendered for the target",
	    MUD_LOG_WARN, MUD_ACT_INVALID, -1),
	ROW(MUD_ERR_CONTEXT, "internal-error", "site context invalid", MUD_LOG_ERROR,
	    MUD_ACT_INVALID, -1),
	ROW(MUD_ERR_CONFLICT, "acl-conflict", "dACL name already bound to other lines",
	    MUD_LOG_ERROR, MUD_ACT_INVALID, MUD_EVENT_ACL_CONFLICT),
	ROW(MUD_ERR_REFUSED, "url-refused", "MUD URL refused by the site's URL policy",
	    MUD_LOG_WARN, MUD_ACT_INVALID, MUD_EVENT_URL_REFUSED),
	ROW(MUD_ERR_NOT_MUD, "no-url", "no MUD URL here", MUD_LOG_DEBUG, MUD_ACT_NOOP, -1),
	ROW(MUD_PENDING, "pending", "policy being fetched in the background", MUD_LOG_INFO,
	    MUD_ACT_INTERIM, -1),
};

#undef ROW

/** The row of a code (see mud.h). */
mud_outcome_t const *mud_outcome(mud_rcode_t code)
{
	if ((unsigned int)code >= MUD_RCODE_MAX) return &outcomes[MUD_ERR_ARG];
	return &outcomes[code];
}

/** Static description of a code. */
char const *mud_strerror(mud_rcode_t code)
{
	if ((unsigned int)code >= MUD_RCODE_MAX) return "unknown error";
	return outcomes[code].text;
}

/** Enum name of a code. */
char const *mud_rcode_name(mud_rcode_t code)
{
	if ((unsigned int)code >= MUD_RCODE_MAX) return "MUD_ERR_UNKNOWN";
	return outcomes[code].name;
}

/** Short status token (MUD-Status values). */
char const *mud_rcode_status(mud_rcode_t code)
{
	return mud_outcome(code)->status;
}

/** Name of a URL source. */
char const *mud_url_src_name(mud_url_src_t src)
{
	switch (src) {
	case MUD_SRC_NONE: return "none";
	case MUD_SRC_ATTRIBUTE: return "attribute";
	case MUD_SRC_LLDP: return "lldp";
	case MUD_SRC_DHCPV4: return "dhcpv4";
	case MUD_SRC_DHCPV6: return "dhcpv6";
	case MUD_SRC_X509: return "x509";
	}
	return "none";
}

/** Version string. */
char const *mud_version(void)
{
	return PACKAGE_VERSION;
}

void mudp_warn(TALLOC_CTX *parent, mud_warning_t **arr, size_t *num, size_t *dropped,
	       char const *where, char const *fmt, ...)
{
	va_list ap;
	mud_warning_t *n;
	char *text;

	if (*num >= MUD_MAX_WARNINGS) {
		if (dropped) (*dropped)++;
		return;
	}
	va_start(ap, fmt);
	text = talloc_vasprintf(parent, fmt, ap);
	va_end(ap);
	if (!text) return;

	n = talloc_realloc(parent, *arr, mud_warning_t, *num + 1);
	if (!n) {
		talloc_free(text);
		return;
	}
	*arr = n;
	n[*num].text = text;
	n[*num].where = talloc_strdup(parent, where ? where : "");
	if (!n[*num].where) {
		talloc_free(text);
		return;
	}
	(*num)++;
}

void mudp_escape(char *out, size_t outlen, char const *in, size_t inlen)
{
	size_t o = 0;
	size_t i;

	if (outlen == 0) return;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;

		if (o + need + 4 > outlen) {	/* room for "..." + NUL */
			if (outlen >= 4) {
				memcpy(out + (o < outlen - 4 ? o : outlen - 4), "...", 3);
				o = (o < outlen - 4 ? o : outlen - 4) + 3;
			}
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
}

void mudp_strlcpy(char *dst, char const *src, size_t dstlen)
{
	size_t n;

	if (dstlen == 0) return;
	n = strlen(src);
	if (n >= dstlen) n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int mudp_strcasecmp(char const *a, char const *b)
{
	while (*a && *b) {
		int ca = tolower((unsigned char)*a);
		int cb = tolower((unsigned char)*b);

		if (ca != cb) return ca - cb;
		a++;
		b++;
	}
	return tolower((unsigned char)*a) - tolower((unsigned char)*b);
}
