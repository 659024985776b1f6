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

/** Static description of a code. */
char const *mud_strerror(mud_rcode_t code)
{
	switch (code) {
	case MUD_OK: return "success";
	case MUD_ERR_NOMEM: return "out of memory";
	case MUD_ERR_ARG: return "invalid argument";
	case MUD_ERR_IO: return "file access failed";
	case MUD_ERR_URL: return "MUD URL invalid or not acceptable";
	case MUD_ERR_TLV: return "malformed TLV or certificate extension";
	case MUD_ERR_FETCH: return "MUD file could not be retrieved";
	case MUD_ERR_TIMEOUT: return "MUD server timed out";
	case MUD_ERR_TLS: return "MUD server TLS certificate or handshake invalid";
	case MUD_ERR_HTTP: return "MUD server returned an HTTP error";
	case MUD_ERR_TOOBIG: return "input larger than allowed";
	case MUD_ERR_SIG: return "MUD signature invalid";
	case MUD_ERR_SIG_MISSING: return "MUD signature missing";
	case MUD_ERR_SIG_DIGEST: return "MUD file does not match its signature";
	case MUD_ERR_SIG_UNTRUSTED: return "MUD signer not trusted";
	case MUD_ERR_SIG_EXPIRED: return "MUD signer certificate expired or not yet valid";
	case MUD_ERR_SIG_SIGNER: return "MUD signer differs from the device's mud-signer";
	case MUD_ERR_JSON: return "MUD file is not well-formed JSON";
	case MUD_ERR_SCHEMA: return "MUD file violates the YANG model";
	case MUD_ERR_SEMANTIC: return "MUD file is inconsistent";
	case MUD_ERR_MISMATCH: return "mud-url differs from the URL fetched";
	case MUD_ERR_LIMIT: return "limit exceeded";
	case MUD_ERR_UNSUPPORTED: return "unsupported feature";
	case MUD_ERR_RENDER: return "rules cannot be rendered for the target";
	case MUD_ERR_CONTEXT: return "site context invalid";
	case MUD_ERR_CONFLICT: return "dACL name already bound to other lines";
	case MUD_RCODE_MAX: break;
	}
	return "unknown error";
}

/** Enum name of a code. */
char const *mud_rcode_name(mud_rcode_t code)
{
	switch (code) {
	case MUD_OK: return "MUD_OK";
	case MUD_ERR_NOMEM: return "MUD_ERR_NOMEM";
	case MUD_ERR_ARG: return "MUD_ERR_ARG";
	case MUD_ERR_IO: return "MUD_ERR_IO";
	case MUD_ERR_URL: return "MUD_ERR_URL";
	case MUD_ERR_TLV: return "MUD_ERR_TLV";
	case MUD_ERR_FETCH: return "MUD_ERR_FETCH";
	case MUD_ERR_TIMEOUT: return "MUD_ERR_TIMEOUT";
	case MUD_ERR_TLS: return "MUD_ERR_TLS";
	case MUD_ERR_HTTP: return "MUD_ERR_HTTP";
	case MUD_ERR_TOOBIG: return "MUD_ERR_TOOBIG";
	case MUD_ERR_SIG: return "MUD_ERR_SIG";
	case MUD_ERR_SIG_MISSING: return "MUD_ERR_SIG_MISSING";
	case MUD_ERR_SIG_DIGEST: return "MUD_ERR_SIG_DIGEST";
	case MUD_ERR_SIG_UNTRUSTED: return "MUD_ERR_SIG_UNTRUSTED";
	case MUD_ERR_SIG_EXPIRED: return "MUD_ERR_SIG_EXPIRED";
	case MUD_ERR_SIG_SIGNER: return "MUD_ERR_SIG_SIGNER";
	case MUD_ERR_JSON: return "MUD_ERR_JSON";
	case MUD_ERR_SCHEMA: return "MUD_ERR_SCHEMA";
	case MUD_ERR_SEMANTIC: return "MUD_ERR_SEMANTIC";
	case MUD_ERR_MISMATCH: return "MUD_ERR_MISMATCH";
	case MUD_ERR_LIMIT: return "MUD_ERR_LIMIT";
	case MUD_ERR_UNSUPPORTED: return "MUD_ERR_UNSUPPORTED";
	case MUD_ERR_RENDER: return "MUD_ERR_RENDER";
	case MUD_ERR_CONTEXT: return "MUD_ERR_CONTEXT";
	case MUD_ERR_CONFLICT: return "MUD_ERR_CONFLICT";
	case MUD_RCODE_MAX: break;
	}
	return "MUD_ERR_UNKNOWN";
}

/** Short status token (MUD-Status values). */
char const *mud_rcode_status(mud_rcode_t code)
{
	switch (code) {
	case MUD_OK: return "ok";
	case MUD_ERR_NOMEM: return "internal-error";
	case MUD_ERR_ARG: return "internal-error";
	case MUD_ERR_IO: return "internal-error";
	case MUD_ERR_URL: return "url-invalid";
	case MUD_ERR_TLV: return "url-invalid";
	case MUD_ERR_FETCH: return "fetch-failed";
	case MUD_ERR_TIMEOUT: return "fetch-failed";
	case MUD_ERR_TLS: return "tls-failed";
	case MUD_ERR_HTTP: return "fetch-failed";
	case MUD_ERR_TOOBIG: return "invalid-file";
	case MUD_ERR_SIG: return "signature-invalid";
	case MUD_ERR_SIG_MISSING: return "signature-invalid";
	case MUD_ERR_SIG_DIGEST: return "signature-invalid";
	case MUD_ERR_SIG_UNTRUSTED: return "signature-invalid";
	case MUD_ERR_SIG_EXPIRED: return "signature-invalid";
	case MUD_ERR_SIG_SIGNER: return "signature-invalid";
	case MUD_ERR_JSON: return "invalid-file";
	case MUD_ERR_SCHEMA: return "invalid-file";
	case MUD_ERR_SEMANTIC: return "invalid-file";
	case MUD_ERR_MISMATCH: return "url-mismatch";
	case MUD_ERR_LIMIT: return "invalid-file";
	case MUD_ERR_UNSUPPORTED: return "invalid-file";
	case MUD_ERR_RENDER: return "invalid-file";
	case MUD_ERR_CONTEXT: return "internal-error";
	case MUD_ERR_CONFLICT: return "acl-conflict";
	case MUD_RCODE_MAX: break;
	}
	return "internal-error";
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
