/*
 * mud_urlpolicy.c - the URL policy: which servers the fetcher may connect to.
 *
 * Three checks, all in this file, all used by mud_fetch() for the MUD URL, the
 * signature URL and every redirect hop, and by the module before its cache
 * lookup:
 *
 *  1. the authority, normalised (mud_authority_parse()), against url_deny and
 *     url_allow (normalised the same way when the policy is built);
 *  2. an IP-literal host against the special-purpose address registries;
 *  3. the address a connection is about to be opened to (mud_fetch()'s libcurl
 *     open-socket callback calls mud_urlpolicy_check_addr()), so that a name
 *     that resolves differently the second time (DNS rebinding) cannot reach an
 *     internal address.
 *
 * Address ranges (mud_addr_special()): the IANA "IPv4 Special-Purpose Address
 * Registry" and "IPv6 Special-Purpose Address Registry" (every entry, whatever
 * its "globally reachable" column says: a MUD server is never there), plus
 * IPv4 multicast (224.0.0.0/4), IPv6 site-local (fec0::/10) and, for IPv6,
 * everything outside the global unicast space 2000::/3 (IANA "IPv6 Address
 * Space"). Addresses that carry an IPv4 address (IPv4-mapped, NAT64 well-known
 * prefix, 6to4, Teredo) are judged by the IPv4 addresses inside.
 *
 * Nothing here allocates per check, does I/O, or keeps mutable state: a
 * policy is built once and then only read (thread-safe).
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mud_private.h"

#define URLPOLICY_DEFAULT_PORT	443	//!< RFC 2818 section 2.3: https without a port.
#define URLPOLICY_WHY		200	//!< bytes of a reason kept in err->text.
#define URLPOLICY_ESC		96	//!< bytes of an escaped excerpt in a message.

/** What to do with an address in a special range. */
typedef enum {
	SPECIAL_REFUSE = 0,	//!< always special
	SPECIAL_V4_LAST32,	//!< judge the IPv4 address in the last 32 bits
	SPECIAL_V4_6TO4,	//!< judge the IPv4 address in bits 16..47 (RFC 3056)
	SPECIAL_V4_TEREDO,	//!< judge the server (bits 32..63) and the client
				//!< (bits 96..127, inverted) IPv4 addresses (RFC 4380)
} special_kind_t;

/** One range of a special-purpose registry. */
typedef struct {
	uint8_t		prefix[16];	//!< network order (IPv4: first 4 bytes)
	unsigned int	len;		//!< prefix length in bits
	char const	*text;		//!< the range as written in the registry
	char const	*name;		//!< what it is
	char const	*ref;		//!< where it is defined
	special_kind_t	kind;
} special_t;

/*
 *	IANA IPv4 Special-Purpose Address Registry, plus multicast. More specific
 *	ranges first where they overlap (the first match names the address).
 */
static special_t const special4[] = {
	{ { 0, 0, 0, 0 }, 8, "0.0.0.0/8", "\"this network\"", "RFC 791", SPECIAL_REFUSE },
	{ { 10, 0, 0, 0 }, 8, "10.0.0.0/8", "private-use", "RFC 1918", SPECIAL_REFUSE },
	{ { 100, 64, 0, 0 }, 10, "100.64.0.0/10", "shared address space (CGNAT)", "RFC 6598",
	  SPECIAL_REFUSE },
	{ { 127, 0, 0, 0 }, 8, "127.0.0.0/8", "loopback", "RFC 1122", SPECIAL_REFUSE },
	{ { 169, 254, 0, 0 }, 16, "169.254.0.0/16", "link-local", "RFC 3927", SPECIAL_REFUSE },
	{ { 172, 16, 0, 0 }, 12, "172.16.0.0/12", "private-use", "RFC 1918", SPECIAL_REFUSE },
	{ { 192, 0, 0, 0 }, 24, "192.0.0.0/24", "IETF protocol assignments", "RFC 6890",
	  SPECIAL_REFUSE },
	{ { 192, 0, 2, 0 }, 24, "192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737",
	  SPECIAL_REFUSE },
	{ { 192, 31, 196, 0 }, 24, "192.31.196.0/24", "AS112-v4", "RFC 7535", SPECIAL_REFUSE },
	{ { 192, 52, 193, 0 }, 24, "192.52.193.0/24", "AMT", "RFC 7450", SPECIAL_REFUSE },
	{ { 192, 88, 99, 0 }, 24, "192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526",
	  SPECIAL_REFUSE },
	{ { 192, 168, 0, 0 }, 16, "192.168.0.0/16", "private-use", "RFC 1918", SPECIAL_REFUSE },
	{ { 192, 175, 48, 0 }, 24, "192.175.48.0/24", "direct delegation AS112 service",
	  "RFC 7534", SPECIAL_REFUSE },
	{ { 198, 18, 0, 0 }, 15, "198.18.0.0/15", "benchmarking", "RFC 2544", SPECIAL_REFUSE },
	{ { 198, 51, 100, 0 }, 24, "198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737",
	  SPECIAL_REFUSE },
	{ { 203, 0, 113, 0 }, 24, "203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737",
	  SPECIAL_REFUSE },
	{ { 224, 0, 0, 0 }, 4, "224.0.0.0/4", "multicast", "RFC 5771", SPECIAL_REFUSE },
	{ { 255, 255, 255, 255 }, 32, "255.255.255.255/32", "limited broadcast", "RFC 919",
	  SPECIAL_REFUSE },
	{ { 240, 0, 0, 0 }, 4, "240.0.0.0/4", "reserved", "RFC 1112", SPECIAL_REFUSE },
};

/*
 *	IANA IPv6 Special-Purpose Address Registry, plus site-local and multicast;
 *	everything outside 2000::/3 is refused after this table (global_unicast()).
 */
static special_t const special6[] = {
	{ { 0 }, 128, "::/128", "unspecified", "RFC 4291", SPECIAL_REFUSE },
	{ { [15] = 1 }, 128, "::1/128", "loopback", "RFC 4291", SPECIAL_REFUSE },
	{ { [10] = 0xff, [11] = 0xff }, 96, "::ffff:0:0/96", "IPv4-mapped", "RFC 4291",
	  SPECIAL_V4_LAST32 },
	{ { 0 }, 96, "::/96", "IPv4-compatible (deprecated)", "RFC 4291", SPECIAL_REFUSE },
	{ { 0x00, 0x64, 0xff, 0x9b }, 96, "64:ff9b::/96", "IPv4/IPv6 translation (NAT64)",
	  "RFC 6052", SPECIAL_V4_LAST32 },
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, "64:ff9b:1::/48",
	  "local-use IPv4/IPv6 translation", "RFC 8215", SPECIAL_REFUSE },
	{ { 0x01, 0x00 }, 64, "100::/64", "discard-only", "RFC 6666", SPECIAL_REFUSE },
	{ { 0x01, 0x00, 0, 0, 0, 0, 0, 0x01 }, 64, "100:0:0:1::/64", "dummy prefix", "RFC 9780",
	  SPECIAL_REFUSE },
	{ { 0x20, 0x01 }, 32, "2001::/32", "Teredo", "RFC 4380", SPECIAL_V4_TEREDO },
	{ { 0x20, 0x01 }, 23, "2001::/23", "IETF protocol assignments", "RFC 2928",
	  SPECIAL_REFUSE },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, "2001:db8::/32", "documentation", "RFC 3849",
	  SPECIAL_REFUSE },
	{ { 0x20, 0x02 }, 16, "2002::/16", "6to4", "RFC 3056", SPECIAL_V4_6TO4 },
	{ { 0x26, 0x20, 0x00, 0x4f, 0x80, 0x00 }, 48, "2620:4f:8000::/48",
	  "direct delegation AS112 service", "RFC 7534", SPECIAL_REFUSE },
	{ { 0x3f, 0xff }, 20, "3fff::/20", "documentation", "RFC 9637", SPECIAL_REFUSE },
	{ { 0x5f, 0x00 }, 16, "5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602",
	  SPECIAL_REFUSE },
	{ { 0xfc }, 7, "fc00::/7", "unique-local", "RFC 4193", SPECIAL_REFUSE },
	{ { 0xfe, 0x80 }, 10, "fe80::/10", "link-local", "RFC 4291", SPECIAL_REFUSE },
	{ { 0xfe, 0xc0 }, 10, "fec0::/10", "site-local (deprecated)", "RFC 3879",
	  SPECIAL_REFUSE },
	{ { 0xff }, 8, "ff00::/8", "multicast", "RFC 4291", SPECIAL_REFUSE },
};

/** One url_allow / url_deny entry. */
typedef struct {
	mud_authority_t	a;		//!< normalised
	char		written[URLPOLICY_ESC];	//!< as configured (escaped), for messages
} urlpolicy_entry_t;

/** An address and port the test hook treats as public. */
typedef struct {
	int		family;
	uint8_t		addr[16];
	uint16_t	port;
} urlpolicy_public_t;

struct mud_urlpolicy {
	urlpolicy_entry_t	*allow;		//!< talloc array
	size_t			num_allow;
	urlpolicy_entry_t	*deny;		//!< talloc array
	size_t			num_deny;
	bool			allow_private;
	urlpolicy_public_t	pub[MUD_URLPOLICY_MAX_PUBLIC];	//!< test hook
	size_t			num_pub;
};

/*
 *	Address classification
 */

/** Do the first len bits of a and prefix agree? */
static bool prefix_match(uint8_t const *a, uint8_t const *prefix, unsigned int len)
{
	unsigned int full = len / 8;
	unsigned int rest = len % 8;
	uint8_t mask;

	if (memcmp(a, prefix, full) != 0) return false;
	if (rest == 0) return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (prefix[full] & mask);
}

static bool special4_why(uint8_t const *a, char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < MUD_ARRAY_LEN(special4); i++) {
		if (!prefix_match(a, special4[i].prefix, special4[i].len)) continue;
		if (why) {
			snprintf(why, whylen, "%s %s (%s)", special4[i].text, special4[i].name,
				 special4[i].ref);
		}
		return true;
	}
	return false;
}

/** Judge the IPv4 address v4 carried by an IPv6 range r; writes why if special. */
static bool embedded_why(special_t const *r, uint8_t const *v4, char const *role, char *why,
			 size_t whylen)
{
	char inner[URLPOLICY_WHY];
	char text[INET_ADDRSTRLEN];

	if (!special4_why(v4, inner, sizeof(inner))) return false;
	if (!why) return true;
	if (!inet_ntop(AF_INET, v4, text, sizeof(text))) mudp_strlcpy(text, "?", sizeof(text));
	snprintf(why, whylen, "%s %s (%s) carrying %s%s in %s", r->text, r->name, r->ref, role,
		 text, inner);
	return true;
}

static bool special6_why(uint8_t const *a, char *why, size_t whylen)
{
	size_t i;
	uint8_t v4[4];

	for (i = 0; i < MUD_ARRAY_LEN(special6); i++) {
		special_t const *r = &special6[i];

		if (!prefix_match(a, r->prefix, r->len)) continue;
		switch (r->kind) {
		case SPECIAL_REFUSE:
			if (why) snprintf(why, whylen, "%s %s (%s)", r->text, r->name, r->ref);
			return true;

		case SPECIAL_V4_LAST32:
			return embedded_why(r, a + 12, "", why, whylen);

		case SPECIAL_V4_6TO4:
			return embedded_why(r, a + 2, "", why, whylen);

		case SPECIAL_V4_TEREDO:
			if (embedded_why(r, a + 4, "server ", why, whylen)) return true;
			v4[0] = (uint8_t)~a[12];
			v4[1] = (uint8_t)~a[13];
			v4[2] = (uint8_t)~a[14];
			v4[3] = (uint8_t)~a[15];
			return embedded_why(r, v4, "client ", why, whylen);
		}
		return true;	/* not reached: every kind returns */
	}

	/* IANA IPv6 Address Space: only 2000::/3 is allocated global unicast. */
	if ((a[0] & 0xe0) != 0x20) {
		if (why) {
			snprintf(why, whylen, "outside 2000::/3, the global unicast space "
				 "(IANA IPv6 address space, RFC 4291)");
		}
		return true;
	}
	return false;
}

/** Special-purpose address? (see mud.h) */
bool mud_addr_special(int family, uint8_t const *addr, char *why, size_t whylen)
{
	if (why && whylen) why[0] = '\0';
	if (!addr) {
		if (why) mudp_strlcpy(why, "no address", whylen);
		return true;
	}
	if (family == 4) return special4_why(addr, why, whylen);
	if (family == 6) return special6_why(addr, why, whylen);
	if (why) snprintf(why, whylen, "address family %d is neither IPv4 nor IPv6", family);
	return true;
}

/*
 *	Authorities
 */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

/** Does a lower-case label read as a number to URL parsers (decimal, 0x hex)? */
static bool label_is_number(char const *l, size_t n)
{
	size_t i;

	if (n == 0) return false;
	if (n >= 2 && l[0] == '0' && l[1] == 'x') {
		for (i = 2; i < n; i++) {
			if (!is_hex((unsigned char)l[i])) return false;
		}
		return true;
	}
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)l[i])) return false;
	}
	return true;
}

/** Check a lower-case host name (no trailing dot) of n bytes. */
static mud_rcode_t check_name(char const *h, size_t n, mud_error_t *err)
{
	size_t i;
	size_t start = 0;
	char esc[URLPOLICY_ESC];

	mudp_escape(esc, sizeof(esc), h, n);

	if (n == 0) {
		return mud_error_set(err, MUD_ERR_URL, "authority", "empty host in \"%s\"", esc);
	}
	if (n > MUD_HOST_MAX - 1) {
		return mud_error_set(err, MUD_ERR_URL, "authority",
				     "host longer than %d bytes in \"%s\"", MUD_HOST_MAX - 1, esc);
	}
	for (i = 0; i <= n; i++) {
		size_t l;

		if (i < n && h[i] != '.') {
			if (!is_name_char((unsigned char)h[i])) {
				return mud_error_set(err, MUD_ERR_URL, "authority",
						     "invalid character in host \"%s\"", esc);
			}
			continue;
		}
		l = i - start;
		if (l == 0) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "empty label in host \"%s\"", esc);
		}
		if (l > 63) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "label longer than 63 bytes in host \"%s\"", esc);
		}
		if (h[start] == '-' || h[i - 1] == '-') {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "label starts or ends with '-' in host \"%s\"", esc);
		}
		if (i == n && label_is_number(h + start, l)) {
			return mud_error_set(err, MUD_ERR_URL, "authority", "host \"%s\" ends in a "
					     "number but is not a dotted-quad IPv4 address (URL "
					     "parsers read it as one)", esc);
		}
		start = i + 1;
	}
	return MUD_OK;
}

/** Parse a port (digits only, leading zeros allowed) into 1..65535. */
static mud_rcode_t parse_port(char const *p, size_t n, uint16_t *port, char const *esc,
			      mud_error_t *err)
{
	size_t i;
	unsigned long v = 0;

	if (n == 0) {
		return mud_error_set(err, MUD_ERR_URL, "authority", "empty port in \"%s\"", esc);
	}
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i])) goto bad;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > 65535) goto bad;
	}
	if (v == 0) goto bad;
	*port = (uint16_t)v;
	return MUD_OK;

bad:
	return mud_error_set(err, MUD_ERR_URL, "authority", "invalid port in \"%s\" "
			     "(must be 1..65535)", esc);
}

/** Fill out->text from the other fields. */
static void authority_text(mud_authority_t *out)
{
	char port[8] = "";

	if (out->port) snprintf(port, sizeof(port), ":%u", (unsigned int)out->port);
	if (out->wildcard) {
		snprintf(out->text, sizeof(out->text), "*.%s%s", out->host, port);
	} else if (out->family == 6) {
		snprintf(out->text, sizeof(out->text), "[%s]%s", out->host, port);
	} else {
		snprintf(out->text, sizeof(out->text), "%s%s", out->host, port);
	}
}

/** Normalise an authority (see mud.h). */
mud_rcode_t mud_authority_parse(mud_authority_t *out, char const *str, size_t len,
				unsigned int flags, mud_error_t *err)
{
	bool entry = (flags & MUD_AUTHORITY_ENTRY) != 0;
	char esc[URLPOLICY_ESC];
	char host[MUD_HOST_MAX + 8];
	char const *h;
	char const *p = NULL;
	size_t hlen;
	size_t plen = 0;
	size_t colons = 0;
	size_t i;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "authority", "out is NULL");
	memset(out, 0, sizeof(*out));
	if (!str) return mud_error_set(err, MUD_ERR_ARG, "authority", "NULL authority");
	mudp_escape(esc, sizeof(esc), str, len);
	if (len == 0) return mud_error_set(err, MUD_ERR_URL, "authority", "empty authority");

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c >= 0x80) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "non-ASCII host \"%s\": an internationalised name "
					     "must be written as A-labels (xn--...)", esc);
		}
		if (c <= 0x20 || c == 0x7f) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "space or control character in \"%s\"", esc);
		}
		if (c == '@') {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "userinfo ('@') in \"%s\"", esc);
		}
		if (c == ':') colons++;
	}

	if (str[0] == '[') {
		char const *close = memchr(str, ']', len);
		struct in6_addr a6;

		if (!close) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "unterminated IPv6 literal in \"%s\"", esc);
		}
		h = str + 1;
		hlen = (size_t)(close - h);
		if (close + 1 < str + len) {
			if (close[1] != ':') {
				return mud_error_set(err, MUD_ERR_URL, "authority",
						     "unexpected text after the IPv6 literal in "
						     "\"%s\"", esc);
			}
			p = close + 2;
			plen = len - (size_t)(p - str);
		}
		if (hlen == 0 || hlen >= INET6_ADDRSTRLEN || memchr(h, '%', hlen)) goto bad_ip6;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) goto bad_ip6;
		out->family = 6;
		memcpy(out->addr, &a6, 16);
		if (!inet_ntop(AF_INET6, &a6, out->host, sizeof(out->host))) goto bad_ip6;
		goto port;
	}

	if (entry && colons >= 2) {
		struct in6_addr a6;

		/* a bare IPv6 address in a list ("::1"): no port */
		if (len >= INET6_ADDRSTRLEN || memchr(str, '%', len)) goto bad_ip6;
		memcpy(host, str, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) goto bad_ip6;
		out->family = 6;
		memcpy(out->addr, &a6, 16);
		if (!inet_ntop(AF_INET6, &a6, out->host, sizeof(out->host))) goto bad_ip6;
		authority_text(out);
		return MUD_OK;
	}
	if (colons > 1) {
		return mud_error_set(err, MUD_ERR_URL, "authority",
				     "more than one ':' in \"%s\" (IPv6 literals need brackets)",
				     esc);
	}

	h = str;
	hlen = len;
	if (colons == 1) {
		char const *c = memchr(str, ':', len);

		hlen = (size_t)(c - str);
		p = c + 1;
		plen = len - hlen - 1;
	}

	if (entry && hlen >= 2 && h[0] == '*' && h[1] == '.') {
		out->wildcard = true;
		h += 2;
		hlen -= 2;
	} else if (entry && hlen >= 1 && h[0] == '.') {
		out->wildcard = true;
		h += 1;
		hlen -= 1;
	}
	if (hlen > 1 && h[hlen - 1] == '.') hlen--;	/* one trailing dot: the root */
	if (hlen == 0) {
		return mud_error_set(err, MUD_ERR_URL, "authority", "empty host in \"%s\"", esc);
	}
	if (hlen > MUD_HOST_MAX - 1) {
		return mud_error_set(err, MUD_ERR_URL, "authority",
				     "host longer than %d bytes in \"%s\"", MUD_HOST_MAX - 1, esc);
	}
	for (i = 0; i < hlen; i++) {
		char c = h[i];

		host[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	host[hlen] = '\0';

	if (strspn(host, "0123456789.") == hlen && strpbrk(host, "0123456789")) {
		struct in_addr a4;

		if (out->wildcard) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "a wildcard needs a name, not \"%s\"", esc);
		}
		if (inet_pton(AF_INET, host, &a4) != 1) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "invalid IPv4 address in \"%s\" (a dotted quad of "
					     "0..255 without leading zeros is required)", esc);
		}
		out->family = 4;
		memcpy(out->addr, &a4, 4);
		if (!inet_ntop(AF_INET, &a4, out->host, sizeof(out->host))) {
			return mud_error_set(err, MUD_ERR_URL, "authority",
					     "invalid IPv4 address in \"%s\"", esc);
		}
	} else {
		rc = check_name(host, hlen, err);
		if (rc != MUD_OK) return rc;
		memcpy(out->host, host, hlen + 1);
	}

port:
	if (p) {
		rc = parse_port(p, plen, &out->port, esc, err);
		if (rc != MUD_OK) {
			memset(out, 0, sizeof(*out));
			return rc;
		}
	} else if (!entry) {
		out->port = URLPOLICY_DEFAULT_PORT;
	}
	authority_text(out);
	return MUD_OK;

bad_ip6:
	memset(out, 0, sizeof(*out));
	return mud_error_set(err, MUD_ERR_URL, "authority",
			     "invalid IPv6 literal in \"%s\" (zone identifiers are not allowed)",
			     esc);
}

/*
 *	Policy
 */

/** The address a literal stands for: IPv4-mapped IPv6 compares as its IPv4. */
static void literal_key(mud_authority_t const *a, int *family, uint8_t const **addr)
{
	static uint8_t const mapped[12] = { [10] = 0xff, [11] = 0xff };

	*family = a->family;
	*addr = a->addr;
	if (a->family == 6 && memcmp(a->addr, mapped, sizeof(mapped)) == 0) {
		*family = 4;
		*addr = a->addr + 12;
	}
}

/** Does list entry e match authority a? deny: an entry without a port matches every
 *  port; allow: it matches the default port only. */
static bool entry_match(mud_authority_t const *e, mud_authority_t const *a, bool deny)
{
	if (e->port) {
		if (e->port != a->port) return false;
	} else if (!deny && a->port != URLPOLICY_DEFAULT_PORT) {
		return false;
	}

	if (e->wildcard) {
		size_t hl = strlen(a->host);
		size_t sl = strlen(e->host);

		if (a->family != 0) return false;
		return hl > sl + 1 && a->host[hl - sl - 1] == '.' &&
		       strcmp(a->host + hl - sl, e->host) == 0;
	}
	if (e->family != 0 || a->family != 0) {
		int fe, fa;
		uint8_t const *ae;
		uint8_t const *aa;

		if (e->family == 0 || a->family == 0) return false;
		literal_key(e, &fe, &ae);
		literal_key(a, &fa, &aa);
		return fe == fa && memcmp(ae, aa, fe == 4 ? 4 : 16) == 0;
	}
	return strcmp(e->host, a->host) == 0;
}

/** Split a list and normalise each entry. */
static mud_rcode_t list_parse(TALLOC_CTX *ctx, urlpolicy_entry_t **out, size_t *num,
			      char const *in, char const *name, mud_error_t *err)
{
	char const *p = in;
	urlpolicy_entry_t *arr = NULL;
	size_t n = 0;

	*out = NULL;
	*num = 0;
	if (!in) return MUD_OK;
	while (*p) {
		char const *s;
		size_t len;
		urlpolicy_entry_t *na;
		mud_error_t perr;
		char where[64];

		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n' || *p == '\r') p++;
		if (!*p) break;
		s = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != '\n' && *p != '\r') p++;
		len = (size_t)(p - s);

		snprintf(where, sizeof(where), "%s entry %zu", name, n + 1);
		if (n >= MUD_URLPOLICY_MAX_ENTRIES) {
			talloc_free(arr);
			return mud_error_set(err, MUD_ERR_LIMIT, where, "more than %d entries",
					     MUD_URLPOLICY_MAX_ENTRIES);
		}
		na = talloc_realloc(ctx, arr, urlpolicy_entry_t, n + 1);
		if (!na) {
			talloc_free(arr);
			return mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
		}
		arr = na;
		mud_error_clear(&perr);
		if (mud_authority_parse(&arr[n].a, s, len, MUD_AUTHORITY_ENTRY, &perr) != MUD_OK) {
			talloc_free(arr);
			return mud_error_set(err, perr.code, where, "%s", perr.text);
		}
		mudp_escape(arr[n].written, sizeof(arr[n].written), s, len);
		n++;
	}
	*out = arr;
	*num = n;
	return MUD_OK;
}

/** Build a policy (see mud.h). */
mud_rcode_t mud_urlpolicy_create(TALLOC_CTX *ctx, mud_urlpolicy_t **out, char const *allow,
				 char const *deny, bool allow_private, mud_error_t *err)
{
	mud_urlpolicy_t *pol;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "url-policy", "out is NULL");
	*out = NULL;
	pol = talloc_zero(ctx, mud_urlpolicy_t);
	if (!pol) return mud_error_set(err, MUD_ERR_NOMEM, "url-policy", "out of memory");
	pol->allow_private = allow_private;

	rc = list_parse(pol, &pol->allow, &pol->num_allow, allow, "url_allow", err);
	if (rc != MUD_OK) goto error;
	rc = list_parse(pol, &pol->deny, &pol->num_deny, deny, "url_deny", err);
	if (rc != MUD_OK) goto error;

	*out = pol;
	return MUD_OK;

error:
	talloc_free(pol);
	return rc;
}

/** Test hook (see mud.h). */
mud_rcode_t mud_urlpolicy_test_public(mud_urlpolicy_t *pol, char const *addr, uint16_t port,
				      mud_error_t *err)
{
	urlpolicy_public_t *p;

	if (!pol || !addr || !port) {
		return mud_error_set(err, MUD_ERR_ARG, "url-policy", "missing argument");
	}
	if (pol->num_pub >= MUD_URLPOLICY_MAX_PUBLIC) {
		return mud_error_set(err, MUD_ERR_LIMIT, "url-policy",
				     "more than %d test addresses", MUD_URLPOLICY_MAX_PUBLIC);
	}
	p = &pol->pub[pol->num_pub];
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = 4;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = 6;
	} else {
		return mud_error_set(err, MUD_ERR_ARG, "url-policy", "not an IP address");
	}
	p->port = port;
	pol->num_pub++;
	return MUD_OK;
}

/** Is family/addr/port marked public by the test hook? port 0: any port. */
static bool test_public(mud_urlpolicy_t const *pol, int family, uint8_t const *addr,
			uint16_t port)
{
	size_t i;

	for (i = 0; i < pol->num_pub; i++) {
		urlpolicy_public_t const *p = &pol->pub[i];

		if (p->family != family) continue;
		if (memcmp(p->addr, addr, family == 4 ? 4 : 16) != 0) continue;
		if (port && p->port != port) continue;
		return true;
	}
	return false;
}

/** Check a normalised authority (see mud.h). */
mud_rcode_t mud_urlpolicy_check_authority(mud_urlpolicy_t const *pol, mud_authority_t const *a,
					  char *why, size_t whylen)
{
	char inner[URLPOLICY_WHY];
	size_t i;

	if (why && whylen) why[0] = '\0';
	if (!pol) return MUD_OK;
	if (!a || a->wildcard || a->port == 0) {
		if (why) mudp_strlcpy(why, "not the authority of a URL", whylen);
		return MUD_ERR_REFUSED;
	}

	for (i = 0; i < pol->num_deny; i++) {
		if (!entry_match(&pol->deny[i].a, a, true)) continue;
		if (why) {
			snprintf(why, whylen, "authority %s is in url_deny (entry \"%s\")", a->text,
				 pol->deny[i].written);
		}
		return MUD_ERR_REFUSED;
	}
	if (pol->num_allow > 0) {
		for (i = 0; i < pol->num_allow; i++) {
			if (entry_match(&pol->allow[i].a, a, false)) break;
		}
		if (i == pol->num_allow) {
			if (why) snprintf(why, whylen, "authority %s is not in url_allow", a->text);
			return MUD_ERR_REFUSED;
		}
	}

	if (pol->allow_private || a->family == 0) return MUD_OK;
	if (test_public(pol, a->family, a->addr, a->port)) return MUD_OK;
	if (!mud_addr_special(a->family, a->addr, inner, sizeof(inner))) return MUD_OK;
	if (why) snprintf(why, whylen, "host is an IP address literal in %s", inner);
	return MUD_ERR_REFUSED;
}

/** Check an address about to be connected to (see mud.h). */
mud_rcode_t mud_urlpolicy_check_addr(mud_urlpolicy_t const *pol, int family,
				     uint8_t const *addr, uint16_t port, char *why, size_t whylen)
{
	char inner[URLPOLICY_WHY];

	if (why && whylen) why[0] = '\0';
	if (!pol || pol->allow_private) return MUD_OK;
	if ((family == 4 || family == 6) && addr && test_public(pol, family, addr, port)) {
		return MUD_OK;
	}
	if (!mud_addr_special(family, addr, inner, sizeof(inner))) return MUD_OK;
	if (why) {
		int af = family == 4 ? AF_INET : AF_INET6;
		char text[INET6_ADDRSTRLEN];

		/* addr holds 4 or 16 bytes only for families 4 and 6 */
		if (!addr || (family != 4 && family != 6) ||
		    !inet_ntop(af, addr, text, sizeof(text))) {
			mudp_strlcpy(text, "?", sizeof(text));
		}
		snprintf(why, whylen, "host resolves to %s, in %s; not connected", text, inner);
	}
	return MUD_ERR_REFUSED;
}

/** A refused MUD URL: MUD_ERR_URL at "url-policy: MUD URL <escaped URL>" (formatted only
 *  then: the check runs on every request). */
static mud_rcode_t url_refused(mud_error_t *err, mud_url_t const *url, char const *why)
{
	char esc[URLPOLICY_ESC];
	char where[sizeof(((mud_error_t *)NULL)->where)];

	mudp_escape(esc, sizeof(esc), url->url, strlen(url->url));
	snprintf(where, sizeof(where), MUD_WHERE_URL_POLICY ": MUD URL %s", esc);
	return mud_error_set(err, MUD_ERR_REFUSED, where, "%s", why);
}

/** Check a parsed MUD URL (see mud.h). */
mud_rcode_t mud_urlpolicy_check_url(mud_urlpolicy_t const *pol, mud_url_t const *url,
				    mud_error_t *err)
{
	mud_authority_t a;
	mud_error_t aerr;
	char buf[MUD_AUTHORITY_MAX];
	char why[URLPOLICY_WHY];

	if (!pol) return MUD_OK;
	if (!url || !url->host || !url->url) {
		return mud_error_set(err, MUD_ERR_ARG, MUD_WHERE_URL_POLICY, "missing URL");
	}
	if (strchr(url->host, ':')) {
		snprintf(buf, sizeof(buf), "[%s]:%u", url->host, (unsigned int)url->port);
	} else {
		snprintf(buf, sizeof(buf), "%s:%u", url->host, (unsigned int)url->port);
	}
	mud_error_clear(&aerr);
	if (mud_authority_parse(&a, buf, strlen(buf), 0, &aerr) != MUD_OK) {
		return url_refused(err, url, aerr.text);
	}
	if (mud_urlpolicy_check_authority(pol, &a, why, sizeof(why)) != MUD_OK) {
		return url_refused(err, url, why);
	}
	return MUD_OK;
}

/** Is where a URL-policy refusal's location? (see mud.h) */
bool mud_where_refused(char const *where)
{
	size_t n = sizeof(MUD_WHERE_URL_POLICY) - 1;

	return where && strncmp(where, MUD_WHERE_URL_POLICY, n) == 0 &&
	       (where[n] == '\0' || where[n] == ':');
}

/** Does pol refuse special addresses (see mud.h)? */
bool mud_urlpolicy_checks_addresses(mud_urlpolicy_t const *pol)
{
	return pol && !pol->allow_private;
}
