/*
 * mud_url.c - MUD URL extraction (LLDP, DHCPv4/v6, Cisco device-sensor AV-pairs,
 * X.509 extensions) and validation (RFC 8520 sections 10, 11 and 13.2).
 *
 * Every input here is untrusted: lengths are checked before each read, results
 * are built under a temporary talloc context and stolen only on success, and
 * OpenSSL objects are freed on every path.
 */
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <arpa/inet.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mud_private.h"

#define LLDP_TLV_END		0	//!< 802.1AB End Of LLDPDU TLV.
#define LLDP_TLV_ORG		127	//!< 802.1AB organizationally specific TLV.
#define LLDP_MUD_SUBTYPE	1	//!< RFC 8520 section 11: IANA OUI subtype 1 = MUD URL.
#define DHCPV4_OPT_PAD		0
#define DHCPV4_OPT_END		255
#define DHCPV4_OPT_MUD		161	//!< RFC 8520 section 10.
#define DHCPV6_OPT_MUD		112	//!< RFC 8520 section 10.
#define MUD_OID_URL		"1.3.6.1.5.5.7.1.25"	//!< id-pe-mud-url, RFC 8520 section 10.
#define MUD_OID_SIGNER		"1.3.6.1.5.5.7.1.30"	//!< id-pe-mudsigner, RFC 8520 section 11.
/* An IDevID is a few KiB; bounds the OpenSSL parse. */
#define MUD_MAX_CERT_LEN	(64 * 1024)
/* Extension values (a URL or a Name) are far smaller. */
#define MUD_MAX_EXT_LEN		(16 * 1024)
#define ESC_LEN			96	//!< Escaped excerpt of untrusted bytes in error texts.

/** IANA OUI 00-00-5E (RFC 8520 section 11). */
static uint8_t const iana_oui[3] = { 0x00, 0x00, 0x5e };

/** Sets where to "offset N" (plus an optional prefix) and records the error. */
static mud_rcode_t err_at(mud_error_t *err, mud_rcode_t code, char const *prefix, size_t off,
			  char const *text)
{
	char where[64];

	if (prefix) {
		snprintf(where, sizeof(where), "%s offset %zu", prefix, off);
	} else {
		snprintf(where, sizeof(where), "offset %zu", off);
	}
	return mud_error_set(err, code, where, "%s", text);
}

/*
 *	URL validation
 */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char to_lower(char c)
{
	if (c >= 'A' && c <= 'Z') return (char)(c - 'A' + 'a');
	return c;
}

/** Characters RFC 3986 never allows unescaped in a path or query. */
static bool is_excluded(unsigned char c)
{
	return strchr("\"<>\\^`{|}[]", c) != NULL;
}

/** Check a host name (letters, digits, hyphen, underscore, dot; labels 1..63; total <= 253).
 *  '_' is a valid RFC 3986 reg-name character and real MUD URL generators publish it. */
static mud_rcode_t check_hostname(char const *h, size_t hlen, size_t base, mud_error_t *err)
{
	size_t i;
	size_t label = 0;
	char esc[ESC_LEN];
	char text[160];

	mudp_escape(esc, sizeof(esc), h, hlen);
	if (hlen > 253) {
		snprintf(text, sizeof(text), "host name longer than 253 bytes: \"%s\"", esc);
		return err_at(err, MUD_ERR_URL, NULL, base, text);
	}
	for (i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '.') {
			if (label == 0) {
				snprintf(text, sizeof(text), "empty label in host \"%s\"", esc);
				return err_at(err, MUD_ERR_URL, NULL, base + i, text);
			}
			if (h[i - 1] == '-') {
				snprintf(text, sizeof(text),
					 "label ends with '-' in host \"%s\"", esc);
				return err_at(err, MUD_ERR_URL, NULL, base + i - 1, text);
			}
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') {
			snprintf(text, sizeof(text),
				 "invalid character '%c' in host \"%s\"", c, esc);
			return err_at(err, MUD_ERR_URL, NULL, base + i, text);
		}
		if (c == '-' && label == 0) {
			snprintf(text, sizeof(text), "label starts with '-' in host \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, base + i, text);
		}
		label++;
		if (label > 63) {
			snprintf(text, sizeof(text),
				 "label longer than 63 bytes in host \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, base + i, text);
		}
	}
	if (label == 0) {
		snprintf(text, sizeof(text), "empty label in host \"%s\"", esc);
		return err_at(err, MUD_ERR_URL, NULL, base + hlen, text);
	}
	if (h[hlen - 1] == '-') {
		snprintf(text, sizeof(text), "label ends with '-' in host \"%s\"", esc);
		return err_at(err, MUD_ERR_URL, NULL, base + hlen - 1, text);
	}
	return MUD_OK;
}

/** Check a port (1..5 digits, value 1..65535). */
static mud_rcode_t check_port(char const *p, size_t plen, size_t base, uint16_t *port,
			      mud_error_t *err)
{
	size_t i;
	unsigned long v = 0;
	char esc[ESC_LEN];
	char text[160];

	mudp_escape(esc, sizeof(esc), p, plen);
	if (plen == 0 || plen > 5) goto bad;
	for (i = 0; i < plen; i++) {
		if (!is_digit((unsigned char)p[i])) goto bad;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v < 1 || v > 65535) goto bad;
	*port = (uint16_t)v;
	return MUD_OK;

bad:
	snprintf(text, sizeof(text), "invalid port \"%s\" (must be 1..65535)", esc);
	return err_at(err, MUD_ERR_URL, NULL, base, text);
}

/** Validate a MUD URL (see mud.h). */
mud_rcode_t mud_url_parse(TALLOC_CTX *ctx, mud_url_t **out, char const *str, size_t len,
			  mud_error_t *err)
{
	static char const scheme[] = "https://";
	size_t const slen = sizeof(scheme) - 1;
	char esc[ESC_LEN];
	char text[192];
	size_t i;
	size_t a_start;		/* authority */
	size_t a_end;
	size_t h_start;		/* host (without brackets) */
	size_t h_end;
	size_t colon;
	uint16_t port = 443;
	bool is_ip = false;
	mud_rcode_t rc;
	TALLOC_CTX *tmp;
	mud_url_t *u;

	if (out) *out = NULL;
	if (!str && len > 0) return mud_error_set(err, MUD_ERR_ARG, "url", "NULL URL");
	if (len == 0) return mud_error_set(err, MUD_ERR_URL, "url", "empty MUD URL");
	if (len > MUD_MAX_URL_LEN) {
		mudp_escape(esc, 48, str, len);
		return mud_error_set(err, MUD_ERR_URL, "url",
				     "MUD URL is %zu bytes, longer than %d: \"%s\"",
				     len, MUD_MAX_URL_LEN, esc);
	}
	mudp_escape(esc, sizeof(esc), str, len);

	/*
	 *	Printable ASCII only: no spaces, controls, NUL or 8-bit bytes.
	 */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c < 0x21 || c > 0x7e) {
			snprintf(text, sizeof(text),
				 "invalid byte 0x%02x in MUD URL \"%s\"", c, esc);
			return err_at(err, MUD_ERR_URL, NULL, i, text);
		}
	}

	/*
	 *	Scheme: "https" (case-insensitive), then "//".
	 */
	for (i = 0; i < len && str[i] != ':'; i++) {
		if (str[i] == '/' || str[i] == '?' || str[i] == '#') break;
	}
	if (i != slen - 3 || i >= len || str[i] != ':' ||
	    to_lower(str[0]) != 'h' || to_lower(str[1]) != 't' || to_lower(str[2]) != 't' ||
	    to_lower(str[3]) != 'p' || to_lower(str[4]) != 's') {
		char sch[48];

		if (i < len && str[i] == ':') {
			mudp_escape(sch, sizeof(sch), str, i);
		} else {
			mudp_strlcpy(sch, "(none)", sizeof(sch));
		}
		return mud_error_set(err, MUD_ERR_URL, "url", "scheme must be https, not \"%s\"",
		sch);
	}
	if (len < slen || str[6] != '/' || str[7] != '/') {
		return mud_error_set(err, MUD_ERR_URL, "url",
				     "missing \"//\" after https: in \"%s\"", esc);
	}

	/*
	 *	No fragment anywhere.
	 */
	for (i = 0; i < len; i++) {
		if (str[i] == '#') {
			snprintf(text, sizeof(text), "fragment not allowed in MUD URL \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, i, text);
		}
	}

	/*
	 *	Authority: up to the first '/' or '?'.
	 */
	a_start = slen;
	for (a_end = a_start; a_end < len; a_end++) {
		if (str[a_end] == '/' || str[a_end] == '?') break;
	}
	for (i = a_start; i < a_end; i++) {
		if (str[i] == '@') {
			snprintf(text, sizeof(text), "userinfo not allowed in MUD URL \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, i, text);
		}
	}
	if (a_end == a_start) {
		snprintf(text, sizeof(text), "missing host in MUD URL \"%s\"", esc);
		return err_at(err, MUD_ERR_URL, NULL, a_start, text);
	}

	if (str[a_start] == '[') {
		char addr[INET6_ADDRSTRLEN];
		struct in6_addr a6;

		h_start = a_start + 1;
		h_end = h_start;
		while (h_end < a_end && str[h_end] != ']') h_end++;
		if (h_end >= a_end) {
			snprintf(text, sizeof(text), "unterminated IPv6 literal in \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, a_start, text);
		}
		if (h_end == h_start || (h_end - h_start) >= sizeof(addr)) goto bad_ip6;
		memcpy(addr, str + h_start, h_end - h_start);
		addr[h_end - h_start] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1) goto bad_ip6;
		is_ip = true;
		colon = h_end + 1;
		if (colon < a_end && str[colon] != ':') {
			snprintf(text, sizeof(text), "unexpected '%c' after IPv6 literal in \"%s\"",
				 str[colon], esc);
			return err_at(err, MUD_ERR_URL, NULL, colon, text);
		}
	} else {
		bool numeric = true;

		h_start = a_start;
		for (h_end = h_start; h_end < a_end && str[h_end] != ':'; h_end++) {
			unsigned char c = (unsigned char)str[h_end];

			if (!is_digit(c) && c != '.') numeric = false;
		}
		colon = h_end;
		if (h_end == h_start) {
			snprintf(text, sizeof(text), "missing host in MUD URL \"%s\"", esc);
			return err_at(err, MUD_ERR_URL, NULL, h_start, text);
		}
		if (numeric) {
			char addr[INET_ADDRSTRLEN];
			struct in_addr a4;

			if ((h_end - h_start) >= sizeof(addr)) goto bad_ip4;
			memcpy(addr, str + h_start, h_end - h_start);
			addr[h_end - h_start] = '\0';
			if (inet_pton(AF_INET, addr, &a4) != 1) goto bad_ip4;
			is_ip = true;
		} else {
			rc = check_hostname(str + h_start, h_end - h_start, h_start, err);
			if (rc != MUD_OK) return rc;
		}
	}
	if (colon < a_end) {
		rc = check_port(str + colon + 1, a_end - colon - 1, colon + 1, &port, err);
		if (rc != MUD_OK) return rc;
	}

	/*
	 *	Path and query: RFC 3986 characters, %HH escapes.
	 */
	for (i = a_end; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c == '%') {
			if (i + 2 >= len || !is_hex((unsigned char)str[i + 1]) ||
			    !is_hex((unsigned char)str[i + 2])) {
				snprintf(text, sizeof(text),
					 "bad percent escape in MUD URL \"%s\"", esc);
				return err_at(err, MUD_ERR_URL, NULL, i, text);
			}
			i += 2;
			continue;
		}
		if (is_excluded(c)) {
			snprintf(text, sizeof(text), "character '%c' not allowed in MUD URL \"%s\"",
				 c, esc);
			return err_at(err, MUD_ERR_URL, NULL, i, text);
		}
	}

	if (!out) return MUD_OK;

	tmp = talloc_new(ctx);
	if (!tmp) goto nomem;
	u = talloc_zero(tmp, mud_url_t);
	if (!u) goto nomem;
	u->url = talloc_strndup(u, str, len);
	u->host = talloc_strndup(u, str + h_start, h_end - h_start);
	u->authority = talloc_strndup(u, str + a_start, a_end - a_start);
	if (a_end == len) {
		u->path = talloc_strdup(u, "/");
	} else if (str[a_end] == '?') {
		u->path = talloc_asprintf(u, "/%.*s", (int)(len - a_end), str + a_end);
	} else {
		u->path = talloc_strndup(u, str + a_end, len - a_end);
	}
	if (!u->url || !u->host || !u->authority || !u->path) goto nomem;
	for (i = 0; u->host[i]; i++) u->host[i] = to_lower(u->host[i]);
	for (i = 0; i < h_end - a_start; i++) u->authority[i] = to_lower(u->authority[i]);
	u->port = port;
	u->host_is_ip = is_ip;
	*out = talloc_steal(ctx, u);
	talloc_free(tmp);
	return MUD_OK;

nomem:
	talloc_free(tmp);
	return mud_error_set(err, MUD_ERR_NOMEM, "url", "out of memory");

bad_ip6:
	snprintf(text, sizeof(text), "invalid IPv6 literal in MUD URL \"%s\"", esc);
	return err_at(err, MUD_ERR_URL, NULL, a_start, text);

bad_ip4:
	snprintf(text, sizeof(text), "invalid IPv4 address in MUD URL \"%s\"", esc);
	return err_at(err, MUD_ERR_URL, NULL, h_start, text);
}

/*
 *	Containers: each scanner finds the URL bytes (or reports "not found" by
 *	leaving *val NULL), the public wrappers validate them.
 */

/** Walk 802.1AB TLVs (7-bit type, 9-bit length). */
static mud_rcode_t scan_lldp(uint8_t const **val, size_t *vlen, uint8_t const *data, size_t len,
			     mud_error_t *err)
{
	size_t off = 0;
	char text[128];

	*val = NULL;
	*vlen = 0;
	while (off < len) {
		unsigned int type;
		size_t tlen;

		if (len - off < 2) {
			snprintf(text, sizeof(text), "truncated LLDP TLV header (%zu byte left)",
				 len - off);
			return err_at(err, MUD_ERR_TLV, "lldp", off, text);
		}
		type = (unsigned int)data[off] >> 1;
		tlen = ((size_t)(data[off] & 0x01) << 8) | data[off + 1];
		if (tlen > len - off - 2) {
			snprintf(text, sizeof(text),
				 "LLDP TLV type %u length %zu exceeds the %zu bytes left",
				 type, tlen, len - off - 2);
			return err_at(err, MUD_ERR_TLV, "lldp", off, text);
		}
		if (type == LLDP_TLV_END) return MUD_OK;
		if (type == LLDP_TLV_ORG && tlen >= 4 &&
		    memcmp(data + off + 2, iana_oui, sizeof(iana_oui)) == 0 &&
		    data[off + 5] == LLDP_MUD_SUBTYPE) {
			*val = data + off + 6;
			*vlen = tlen - 4;
			return MUD_OK;
		}
		off += 2 + tlen;
	}
	return MUD_OK;
}

/** True if the bytes at v (avail of them, of a TLV whose length is tlen) may be the
 *  start of a MUD TLV value: IANA OUI and subtype 1, as far as they are present. */
static bool maybe_mud_org(uint8_t const *v, size_t avail)
{
	uint8_t const want[4] = { 0x00, 0x00, 0x5e, LLDP_MUD_SUBTYPE };
	size_t n = avail < sizeof(want) ? avail : sizeof(want);

	return memcmp(v, want, n) == 0;
}

/** Walk Cisco device-sensor TLVs (2-byte type, 2-byte length).
 *
 * The switch cuts an AV-pair at 253 bytes, so a TLV of another type that runs
 * past the end ends the scan (no MUD TLV) instead of failing; a truncated TLV
 * that may be the MUD TLV is an error.
 */
static mud_rcode_t scan_cisco_lldp(uint8_t const **val, size_t *vlen, uint8_t const *data,
				   size_t len, mud_error_t *err)
{
	size_t off = 0;
	char text[128];

	*val = NULL;
	*vlen = 0;
	while (off < len) {
		unsigned int type;
		size_t tlen;
		size_t avail;

		if (len - off < 4) {
			if (data[off] != 0 || (len - off >= 2 && data[off + 1] != LLDP_TLV_ORG)) {
				return MUD_OK;
			}
			snprintf(text, sizeof(text), "truncated lldp-tlv header (%zu bytes left)",
				 len - off);
			return err_at(err, MUD_ERR_TLV, "lldp-tlv", off, text);
		}
		type = ((unsigned int)data[off] << 8) | data[off + 1];
		tlen = ((size_t)data[off + 2] << 8) | data[off + 3];
		avail = len - off - 4;
		if (tlen > avail) {
			if (type != LLDP_TLV_ORG || !maybe_mud_org(data + off + 4, avail)) {
				return MUD_OK;
			}
			snprintf(text, sizeof(text),
				 "lldp-tlv type %u length %zu exceeds the %zu bytes left",
				 type, tlen, avail);
			return err_at(err, MUD_ERR_TLV, "lldp-tlv", off, text);
		}
		if (type == LLDP_TLV_END) return MUD_OK;
		if (type == LLDP_TLV_ORG && tlen >= 4 &&
		    memcmp(data + off + 4, iana_oui, sizeof(iana_oui)) == 0 &&
		    data[off + 7] == LLDP_MUD_SUBTYPE) {
			*val = data + off + 8;
			*vlen = tlen - 4;
			return MUD_OK;
		}
		off += 4 + tlen;
	}
	return MUD_OK;
}

/** Walk 2-byte code / 2-byte length options (DHCPv6, Cisco dhcp-option=). Finds
 *  the first option whose code is code_a or code_b; *found gets its code.
 *  lenient: a truncated option of another code ends the scan (see scan_cisco_lldp). */
static mud_rcode_t scan_opt16(uint8_t const **val, size_t *vlen, unsigned int *found,
			      uint8_t const *data, size_t len, unsigned int code_a,
			      unsigned int code_b, bool lenient, char const *name, mud_error_t *err)
{
	size_t off = 0;
	char text[128];

	*val = NULL;
	*vlen = 0;
	*found = 0;
	while (off < len) {
		unsigned int code;
		size_t olen;

		if (len - off < 4) {
			if (lenient && data[off] != 0) return MUD_OK;
			if (lenient && len - off >= 2 && data[off + 1] != code_a &&
			    data[off + 1] != code_b) {
				return MUD_OK;
			}
			snprintf(text, sizeof(text), "truncated %s option header (%zu bytes left)",
				 name, len - off);
			return err_at(err, MUD_ERR_TLV, name, off, text);
		}
		code = ((unsigned int)data[off] << 8) | data[off + 1];
		olen = ((size_t)data[off + 2] << 8) | data[off + 3];
		if (olen > len - off - 4) {
			if (lenient && code != code_a && code != code_b) return MUD_OK;
			snprintf(text, sizeof(text),
				 "%s option %u length %zu exceeds the %zu bytes left",
				 name, code, olen, len - off - 4);
			return err_at(err, MUD_ERR_TLV, name, off, text);
		}
		if (code == code_a || code == code_b) {
			*val = data + off + 4;
			*vlen = olen;
			*found = code;
			return MUD_OK;
		}
		off += 4 + olen;
	}
	return MUD_OK;
}

/** Parse the URL bytes found in a container; out may be NULL. */
static mud_rcode_t url_from_bytes(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *val,
				  size_t vlen, mud_error_t *err)
{
	return mud_url_parse(ctx, out, (char const *)val, vlen, err);
}

/** MUD URL from a raw LLDP PDU fragment (see mud.h). */
mud_rcode_t mud_url_from_lldp(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data, size_t len,
			      mud_error_t *err)
{
	uint8_t const *val;
	size_t vlen;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "lldp", "NULL data");
	rc = scan_lldp(&val, &vlen, data, len, err);
	if (rc != MUD_OK) return rc;
	if (!val) return mud_error_set(err, MUD_ERR_URL, "lldp", "no MUD URL TLV");
	return url_from_bytes(ctx, out, val, vlen, err);
}

/** MUD URL from a Cisco lldp-tlv= value (see mud.h). */
mud_rcode_t mud_url_from_cisco_lldp(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data,
				    size_t len, mud_error_t *err)
{
	uint8_t const *val;
	size_t vlen;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "lldp-tlv", "NULL data");
	rc = scan_cisco_lldp(&val, &vlen, data, len, err);
	if (rc != MUD_OK) return rc;
	if (!val) return mud_error_set(err, MUD_ERR_URL, "lldp-tlv", "no MUD URL TLV");
	return url_from_bytes(ctx, out, val, vlen, err);
}

/** MUD URL from raw DHCPv4 options (see mud.h). Several instances of option 161
 *  are concatenated in order (RFC 3396). */
mud_rcode_t mud_url_from_dhcpv4(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data, size_t len,
				mud_error_t *err)
{
	uint8_t buf[MUD_MAX_URL_LEN + 1];
	size_t blen = 0;
	bool found = false;
	size_t off = 0;
	char text[128];

	if (out) *out = NULL;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "dhcpv4", "NULL data");
	while (off < len) {
		unsigned int code = data[off];
		size_t olen;

		if (code == DHCPV4_OPT_PAD) {
			off++;
			continue;
		}
		if (code == DHCPV4_OPT_END) break;
		if (len - off < 2) {
			snprintf(text, sizeof(text),
				 "truncated DHCPv4 option %u (no length byte)", code);
			return err_at(err, MUD_ERR_TLV, "dhcpv4", off, text);
		}
		olen = data[off + 1];
		if (olen > len - off - 2) {
			snprintf(text, sizeof(text),
				 "DHCPv4 option %u length %zu exceeds the %zu bytes left",
				 code, olen, len - off - 2);
			return err_at(err, MUD_ERR_TLV, "dhcpv4", off, text);
		}
		if (code == DHCPV4_OPT_MUD) {
			found = true;
			if (olen > sizeof(buf) - blen) {
				return mud_error_set(err, MUD_ERR_URL, "dhcpv4",
						     "MUD URL longer than %d bytes",
						     MUD_MAX_URL_LEN);
			}
			memcpy(buf + blen, data + off + 2, olen);
			blen += olen;
		}
		off += 2 + olen;
	}
	if (!found) return mud_error_set(err, MUD_ERR_URL, "dhcpv4", "no MUD URL option (161)");
	return url_from_bytes(ctx, out, buf, blen, err);
}

/** MUD URL from raw DHCPv6 options (see mud.h). */
mud_rcode_t mud_url_from_dhcpv6(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *data, size_t len,
				mud_error_t *err)
{
	uint8_t const *val;
	size_t vlen;
	unsigned int code;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "dhcpv6", "NULL data");
	rc = scan_opt16(&val, &vlen, &code, data, len, DHCPV6_OPT_MUD, DHCPV6_OPT_MUD, false,
			"dhcpv6", err);
	if (rc != MUD_OK) return rc;
	if (!val) return mud_error_set(err, MUD_ERR_URL, "dhcpv6", "no MUD URL option (112)");
	return url_from_bytes(ctx, out, val, vlen, err);
}

/** Find the MUD option in a Cisco dhcp-option= value. */
static mud_rcode_t scan_cisco_dhcp(uint8_t const **val, size_t *vlen, mud_url_src_t *src,
				   uint8_t const *data, size_t len, mud_error_t *err)
{
	unsigned int code;
	mud_rcode_t rc;

	*src = MUD_SRC_NONE;
	rc = scan_opt16(val, vlen, &code, data, len, DHCPV4_OPT_MUD, DHCPV6_OPT_MUD, true,
			"dhcp-option", err);
	if (rc != MUD_OK) return rc;
	if (*val) *src = (code == DHCPV4_OPT_MUD) ? MUD_SRC_DHCPV4 : MUD_SRC_DHCPV6;
	return MUD_OK;
}

/** MUD URL from a Cisco dhcp-option= value (see mud.h). */
mud_rcode_t mud_url_from_cisco_dhcp(TALLOC_CTX *ctx, mud_url_t **out, mud_url_src_t *src,
				    uint8_t const *data, size_t len, mud_error_t *err)
{
	uint8_t const *val;
	size_t vlen;
	mud_url_src_t s;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (src) *src = MUD_SRC_NONE;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "dhcp-option", "NULL data");
	rc = scan_cisco_dhcp(&val, &vlen, &s, data, len, err);
	if (rc != MUD_OK) return rc;
	if (!val) {
		return mud_error_set(err, MUD_ERR_URL, "dhcp-option",
				     "no MUD URL option (161 or 112)");
	}
	rc = url_from_bytes(ctx, out, val, vlen, err);
	if (rc != MUD_OK) return rc;
	if (src) *src = s;
	return MUD_OK;
}

/** MUD URL from a whole Cisco-AVPair value (see mud.h). */
mud_rcode_t mud_url_from_avpair(TALLOC_CTX *ctx, mud_url_t **out, mud_url_src_t *src,
				uint8_t const *data, size_t len, mud_error_t *err)
{
	static char const p_lldp[] = "lldp-tlv=";
	static char const p_dhcp[] = "dhcp-option=";
	uint8_t const *val = NULL;
	size_t vlen = 0;
	mud_url_src_t s = MUD_SRC_NONE;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (src) *src = MUD_SRC_NONE;
	if (!data && len > 0) return mud_error_set(err, MUD_ERR_ARG, "Cisco-AVPair", "NULL data");

	if (len >= sizeof(p_lldp) - 1 && memcmp(data, p_lldp, sizeof(p_lldp) - 1) == 0) {
		rc = scan_cisco_lldp(&val, &vlen, data + sizeof(p_lldp) - 1,
				     len - (sizeof(p_lldp) - 1), err);
		if (rc != MUD_OK) return rc;
		s = MUD_SRC_LLDP;
	} else if (len >= sizeof(p_dhcp) - 1 && memcmp(data, p_dhcp, sizeof(p_dhcp) - 1) == 0) {
		rc = scan_cisco_dhcp(&val, &vlen, &s, data + sizeof(p_dhcp) - 1,
				     len - (sizeof(p_dhcp) - 1), err);
		if (rc != MUD_OK) return rc;
	}
	if (!val) return mud_error_set(err, MUD_ERR_NOT_MUD, "Cisco-AVPair", "not a MUD AV-pair");
	rc = url_from_bytes(ctx, out, val, vlen, err);
	if (rc != MUD_OK) return rc;
	if (src) *src = s;
	return MUD_OK;
}

/*
 *	X.509
 */

/** Record the first OpenSSL error (or fallback text) and drain the queue. */
static mud_rcode_t ssl_error(mud_error_t *err, mud_rcode_t code, char const *where,
			     char const *fallback)
{
	unsigned long e = ERR_get_error();
	char buf[200];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		mud_error_set(err, code, where, "%s: %s", fallback, buf);
	} else {
		mud_error_set(err, code, where, "%s", fallback);
	}
	ERR_clear_error();
	return code;
}

/** MUD URL from the DER IA5String of id-pe-mud-url (see mud.h). */
mud_rcode_t mud_url_from_x509_ext(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *der, size_t len,
				  mud_error_t *err)
{
	ASN1_IA5STRING *s;
	unsigned char const *p = der;
	mud_rcode_t rc;
	size_t used;

	if (out) *out = NULL;
	if (!der || len == 0) {
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mud-url", "empty extension value");
	}
	if (len > MUD_MAX_EXT_LEN) {
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mud-url",
				     "extension value is %zu bytes, more than %d",
				     len, MUD_MAX_EXT_LEN);
	}
	ERR_clear_error();
	s = d2i_ASN1_IA5STRING(NULL, &p, (long)len);
	if (!s) {
		return ssl_error(err, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
				 "id-pe-mud-url value is not a DER IA5String");
	}
	used = (size_t)(p - der);
	if (used != len) {
		ASN1_IA5STRING_free(s);
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mud-url",
				     "%zu trailing bytes after the IA5String", len - used);
	}
	rc = url_from_bytes(ctx, out, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), err);
	ASN1_IA5STRING_free(s);
	return rc;
}

/** Load a PEM or DER certificate into *out. */
static mud_rcode_t cert_load(X509 **out, uint8_t const *cert, size_t len, mud_error_t *err)
{
	static char const begin[] = "-----BEGIN";
	X509 *x = NULL;
	bool pem = false;
	size_t i;

	*out = NULL;
	if (!cert || len == 0) {
		return mud_error_set(err, MUD_ERR_TLV, "certificate", "empty certificate");
	}
	if (len > MUD_MAX_CERT_LEN) {
		return mud_error_set(err, MUD_ERR_TLV, "certificate",
				     "certificate is %zu bytes, more than %d",
				     len, MUD_MAX_CERT_LEN);
	}
	/*
	 *	DER always starts with a SEQUENCE tag; anything else holding a
	 *	PEM header (possibly after some text) is read as PEM.
	 */
	for (i = 0; cert[0] != 0x30 && i + sizeof(begin) - 1 <= len; i++) {
		if (memcmp(cert + i, begin, sizeof(begin) - 1) == 0) {
			pem = true;
			break;
		}
	}

	ERR_clear_error();
	if (pem) {
		BIO *bio = BIO_new_mem_buf(cert, (int)len);

		if (!bio) return ssl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf", "out of memory");
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (!x) {
			return ssl_error(err, MUD_ERR_TLV, "PEM_read_bio_X509",
					 "not a PEM certificate");
		}
	} else {
		unsigned char const *p = cert;
		size_t used;

		x = d2i_X509(NULL, &p, (long)len);
		if (!x) return ssl_error(err, MUD_ERR_TLV, "d2i_X509", "not a DER certificate");
		used = (size_t)(p - cert);
		if (used != len) {
			X509_free(x);
			return mud_error_set(err, MUD_ERR_TLV, "d2i_X509",
					     "%zu trailing bytes after the certificate",
					     len - used);
		}
	}
	ERR_clear_error();
	*out = x;
	return MUD_OK;
}

/** Find the single extension with the given OID. *data NULL if absent. */
static mud_rcode_t cert_ext(ASN1_OCTET_STRING const **data, X509 *x, char const *oid,
			    char const *name, mud_error_t *err)
{
	ASN1_OBJECT *obj;
	int idx;
	X509_EXTENSION *ext;

	*data = NULL;
	obj = OBJ_txt2obj(oid, 1);
	if (!obj) return ssl_error(err, MUD_ERR_NOMEM, "OBJ_txt2obj", "cannot create OID");
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	if (idx >= 0 && X509_get_ext_by_OBJ(x, obj, idx) >= 0) {
		ASN1_OBJECT_free(obj);
		return mud_error_set(err, MUD_ERR_TLV, name, "certificate has the extension twice");
	}
	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	if (idx < 0) return MUD_OK;
	ext = X509_get_ext(x, idx);
	if (!ext) return MUD_OK;
	*data = X509_EXTENSION_get_data(ext);
	return MUD_OK;
}

/** MUD URL from a certificate (see mud.h). */
mud_rcode_t mud_url_from_cert(TALLOC_CTX *ctx, mud_url_t **out, uint8_t const *cert, size_t len,
			      mud_error_t *err)
{
	X509 *x;
	ASN1_OCTET_STRING const *data;
	mud_rcode_t rc;

	if (out) *out = NULL;
	rc = cert_load(&x, cert, len, err);
	if (rc != MUD_OK) return rc;
	rc = cert_ext(&data, x, MUD_OID_URL, "id-pe-mud-url", err);
	if (rc != MUD_OK) goto done;
	if (!data) {
		rc = mud_error_set(err, MUD_ERR_URL, "id-pe-mud-url",
				   "certificate has no id-pe-mud-url extension");
		goto done;
	}
	rc = mud_url_from_x509_ext(ctx, out, ASN1_STRING_get0_data(data),
				   (size_t)ASN1_STRING_length(data), err);
done:
	X509_free(x);
	return rc;
}

/** The mud-signer Name from the raw extension value (see mud.h). */
mud_rcode_t mud_signer_from_x509_ext(TALLOC_CTX *ctx, uint8_t **der, size_t *der_len,
				     uint8_t const *ext, size_t len, mud_error_t *err)
{
	X509_NAME *name;
	unsigned char const *p = ext;
	unsigned char *enc = NULL;
	int n;
	uint8_t *copy;

	if (der) *der = NULL;
	if (der_len) *der_len = 0;
	if (!ext || len == 0) {
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mudsigner", "empty extension value");
	}
	if (len > MUD_MAX_EXT_LEN) {
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mudsigner",
				     "extension value is %zu bytes, more than %d",
				     len, MUD_MAX_EXT_LEN);
	}
	ERR_clear_error();
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (!name) {
		return ssl_error(err, MUD_ERR_TLV, "d2i_X509_NAME",
				 "id-pe-mudsigner value is not a DER Name");
	}
	if ((size_t)(p - ext) != len) {
		X509_NAME_free(name);
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mudsigner",
				     "%zu trailing bytes after the Name", len - (size_t)(p - ext));
	}
	if (X509_NAME_entry_count(name) == 0) {
		X509_NAME_free(name);
		return mud_error_set(err, MUD_ERR_TLV, "id-pe-mudsigner", "empty signer Name");
	}
	n = i2d_X509_NAME(name, &enc);
	X509_NAME_free(name);
	if (n <= 0 || !enc) {
		OPENSSL_free(enc);
		return ssl_error(err, MUD_ERR_TLV, "i2d_X509_NAME",
		"cannot encode the signer Name");
	}
	if (!der) {
		OPENSSL_free(enc);
		if (der_len) *der_len = (size_t)n;
		return MUD_OK;
	}
	copy = talloc_memdup(ctx, enc, (size_t)n);
	OPENSSL_free(enc);
	if (!copy) return mud_error_set(err, MUD_ERR_NOMEM, "id-pe-mudsigner", "out of memory");
	talloc_set_type(copy, uint8_t);
	*der = copy;
	if (der_len) *der_len = (size_t)n;
	return MUD_OK;
}

/** The mud-signer Name of a certificate (see mud.h). */
mud_rcode_t mud_signer_from_cert(TALLOC_CTX *ctx, uint8_t **der, size_t *der_len,
				 uint8_t const *cert, size_t len, mud_error_t *err)
{
	X509 *x;
	ASN1_OCTET_STRING const *data;
	mud_rcode_t rc;

	if (der) *der = NULL;
	if (der_len) *der_len = 0;
	rc = cert_load(&x, cert, len, err);
	if (rc != MUD_OK) return rc;
	rc = cert_ext(&data, x, MUD_OID_SIGNER, "id-pe-mudsigner", err);
	if (rc != MUD_OK) goto done;
	if (!data) {
		rc = mud_error_set(err, MUD_ERR_URL, "id-pe-mudsigner",
				   "certificate has no id-pe-mudsigner extension");
		goto done;
	}
	rc = mud_signer_from_x509_ext(ctx, der, der_len, ASN1_STRING_get0_data(data),
				      (size_t)ASN1_STRING_length(data), err);
done:
	X509_free(x);
	return rc;
}

/** RFC 2253 text of a DER Name (see mud.h); NULL on failure. */
char *mud_signer_to_text(TALLOC_CTX *ctx, uint8_t const *der, size_t len)
{
	X509_NAME *name;
	unsigned char const *p = der;
	BIO *bio;
	char *mem = NULL;
	long mlen;
	char *out = NULL;

	if (!der || len == 0 || len > MUD_MAX_EXT_LEN) return NULL;
	ERR_clear_error();
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (!name) {
		ERR_clear_error();
		return NULL;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio) goto done;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) goto done;
	mlen = BIO_get_mem_data(bio, &mem);
	if (mlen < 0 || (mlen > 0 && !mem)) goto done;
	out = talloc_strndup(ctx, mlen > 0 ? mem : "", (size_t)mlen);
done:
	BIO_free(bio);
	X509_NAME_free(name);
	ERR_clear_error();
	return out;
}

/** URL of the detached signature (RFC 8520 section 13.2, see mud.h).
 *
 * The suffix is applied to the path, before any query; a URL without a path
 * ("https://host") is treated as "https://host/" so the port or host is never
 * changed.
 */
char *mud_url_signature(TALLOC_CTX *ctx, char const *mud_url, char const *mud_signature)
{
	static char const json[] = ".json";
	size_t const jlen = sizeof(json) - 1;
	char const *q;
	char const *auth;
	char const *slash = "";
	size_t base;

	if (mud_signature) return talloc_strdup(ctx, mud_signature);
	if (!mud_url) return NULL;

	q = strchr(mud_url, '?');
	base = q ? (size_t)(q - mud_url) : strlen(mud_url);
	auth = strstr(mud_url, "://");
	if (auth && (size_t)(auth - mud_url) < base) {
		auth += 3;
		if (auth + strcspn(auth, "/?") >= mud_url + base) slash = "/";
	}
	if (!slash[0] && base >= jlen && memcmp(mud_url + base - jlen, json, jlen) == 0) {
		base -= jlen;
	}
	return talloc_asprintf(ctx, "%.*s%s.p7s%s", (int)base, mud_url, slash, q ? q : "");
}
