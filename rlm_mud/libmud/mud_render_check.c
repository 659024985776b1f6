/*
 * mud_render_check.c - a strict check of rendered attribute values against the
 * grammar the renderers emit (mud_render_cisco.c, mud_render_nfr.c), for values
 * that come back from outside the process (the persisted cache).
 *
 * It accepts exactly what a renderer can produce and nothing else: printable
 * ASCII, single spaces, canonical addresses with host bits clear, contiguous
 * IPv4 wildcards, ports and ICMP only where the protocol has them, consecutive
 * line numbers, and no other AV-pair ("url-redirect=", "ip:outacl#", ...).
 * See docs/rendering.md for both grammars.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mud_render_priv.h"

#define CHECK_MAX_TOKENS	32	//!< the longest rendered rule has 14 words

/** A line split at single spaces. */
typedef struct {
	char	buf[MUD_MAX_ATTR_LEN + 1];
	char	*tok[CHECK_MAX_TOKENS];
	size_t	num;
	size_t	pos;		//!< next token to read
} toks_t;

/** Record why a value is refused; always returns MUD_ERR_SCHEMA. */
static mud_rcode_t refuse(mud_error_t *err, char const *where, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static mud_rcode_t refuse(mud_error_t *err, char const *where, char const *fmt, ...)
{
	char text[sizeof(((mud_error_t *)NULL)->text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return mud_error_set(err, MUD_ERR_SCHEMA, where, "%s", text);
}

/** Split s (printable ASCII, single spaces, no space at either end) into t. */
static mud_rcode_t split(toks_t *t, char const *s, char const *where, mud_error_t *err)
{
	size_t len = strlen(s);
	size_t i;
	char *p;

	t->num = 0;
	t->pos = 0;
	if (len == 0) return refuse(err, where, "empty rule");
	if (len >= sizeof(t->buf)) return refuse(err, where, "rule too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) return refuse(err, where, "control byte 0x%02x", c);
		if (c > 0x7f) return refuse(err, where, "byte 0x%02x is not ASCII", c);
	}
	if (s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  ")) {
		return refuse(err, where, "spaces other than one between words");
	}
	memcpy(t->buf, s, len + 1);
	for (p = t->buf; p; ) {
		char *sp = strchr(p, ' ');

		if (t->num == CHECK_MAX_TOKENS) return refuse(err, where, "too many words");
		t->tok[t->num++] = p;
		if (sp) *sp++ = '\0';
		p = sp;
	}
	return MUD_OK;
}

static char const *peek(toks_t const *t)
{
	return t->pos < t->num ? t->tok[t->pos] : NULL;
}

static char const *next(toks_t *t)
{
	return t->pos < t->num ? t->tok[t->pos++] : NULL;
}

static bool is(toks_t const *t, char const *word)
{
	char const *w = peek(t);

	return w && strcmp(w, word) == 0;
}

/** A decimal number lo..hi without sign or leading zeros. */
static bool number(char const *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!s || !s[0] || (s[0] == '0' && s[1])) return false;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i > 6) return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < lo || v > hi) return false;
	if (out) *out = v;
	return true;
}

/** An address of the family, in the form inet_ntop() prints it. */
static bool address(char const *s, int family, uint8_t addr[16])
{
	char back[INET6_ADDRSTRLEN];
	int af = family == 4 ? AF_INET : AF_INET6;

	memset(addr, 0, 16);
	if (!s || strlen(s) >= sizeof(back)) return false;
	if (inet_pton(af, s, addr) != 1) return false;
	if (!inet_ntop(af, addr, back, sizeof(back))) return false;
	return strcmp(back, s) == 0;
}

/** No bit of addr beyond the first len is set. */
static bool host_bits_clear(uint8_t const addr[16], unsigned int len, unsigned int bits)
{
	unsigned int i;

	for (i = len; i < bits; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8))) return false;
	}
	return true;
}

/** "addr/len" (len 1..bits-1, host bits clear); *family 0 means either, else fixed. */
static bool prefix(char const *s, int *family)
{
	char a[INET6_ADDRSTRLEN + 4];
	uint8_t addr[16];
	char const *slash = strchr(s, '/');
	unsigned long len;
	int fam;

	if (!slash || (size_t)(slash - s) >= sizeof(a)) return false;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	fam = strchr(a, ':') ? 6 : 4;
	if (*family && *family != fam) return false;
	if (!address(a, fam, addr)) return false;
	if (!number(slash + 1, 1, fam == 4 ? 31 : 127, &len)) return false;
	if (!host_bits_clear(addr, (unsigned int)len, fam == 4 ? 32 : 128)) return false;
	*family = fam;
	return true;
}

/*
 *	Cisco dACL: "ip:inacl#N=" / "ipv6:inacl#N=" then
 *	permit|deny PROTO any [PORT] PEER [PORT] [established] [TYPE [CODE]]
 */

/** Optional Cisco port clause; *seen says whether there was one. */
static mud_rcode_t cisco_port(toks_t *t, bool *seen, char const *where, mud_error_t *err)
{
	char const *op = peek(t);
	unsigned long a;
	unsigned long b;

	*seen = false;
	if (!op) return MUD_OK;
	if (strcmp(op, "eq") && strcmp(op, "neq") && strcmp(op, "lt") && strcmp(op, "gt") &&
	    strcmp(op, "range")) return MUD_OK;
	next(t);
	*seen = true;
	if (strcmp(op, "range") == 0) {
		if (!number(next(t), 0, 65535, &a) || !number(next(t), 0, 65535, &b) || a > b) {
			return refuse(err, where,
				      "\"range\" needs two ports, the first not larger");
		}
		return MUD_OK;
	}
	if (!number(next(t), strcmp(op, "lt") == 0 ? 1 : 0, strcmp(op, "gt") == 0 ? 65534 : 65535,
		    NULL)) {
		return refuse(err, where, "\"%s\" needs a port in range", op);
	}
	return MUD_OK;
}

/** Cisco peer: any | host A | A W (IPv4 contiguous wildcard) | X/len (IPv6). */
static mud_rcode_t cisco_peer(toks_t *t, int family, char const *where, mud_error_t *err)
{
	char const *w = next(t);
	uint8_t addr[16];
	uint8_t wild[16];
	unsigned int len;

	if (!w) return refuse(err, where, "no destination");
	if (strcmp(w, "any") == 0) return MUD_OK;
	if (strcmp(w, "host") == 0) {
		if (!address(next(t), family, addr)) {
			return refuse(err, where,
				      "\"host\" needs an IPv%d address in canonical form", family);
		}
		return MUD_OK;
	}
	if (family == 6) {
		int fam = 6;

		if (!prefix(w, &fam)) {
			return refuse(err, where, "destination \"%.64s\" is not any, host or a "
				      "canonical IPv6 prefix", w);
		}
		return MUD_OK;
	}
	if (!address(w, 4, addr) || !address(next(t), 4, wild)) {
		return refuse(err, where, "destination is not any, host or address and wildcard");
	}
	/* wildcard = 0xffffffff >> len, len 1..31; the address has those bits clear */
	for (len = 1; len < 32; len++) {
		uint32_t m = 0xffffffffu >> len;

		if (wild[0] == ((m >> 24) & 0xff) && wild[1] == ((m >> 16) & 0xff) &&
		    wild[2] == ((m >> 8) & 0xff) && wild[3] == (m & 0xff)) break;
	}
	if (len == 32) return refuse(err, where, "wildcard is not a contiguous host mask");
	if (!host_bits_clear(addr, len, 32)) {
		return refuse(err, where, "address has bits set under its wildcard");
	}
	return MUD_OK;
}

/** One Cisco value of family (4/6) that must be line number n. */
static mud_rcode_t check_cisco(char const *line, int family, size_t n, char const *where,
			       mud_error_t *err)
{
	char pfx[32];
	char const *proto;
	unsigned long num;
	bool tcp;
	bool udp;
	bool icmp;
	bool port1;
	bool port2;
	toks_t t;
	mud_rcode_t rc;

	snprintf(pfx, sizeof(pfx), "%s:inacl#%zu=", family == 6 ? "ipv6" : "ip", n);
	if (strncmp(line, pfx, strlen(pfx)) != 0) {
		return refuse(err, where, "does not start with \"%s\"", pfx);
	}
	rc = split(&t, line + strlen(pfx), where, err);
	if (rc != MUD_OK) return rc;

	if (!is(&t, "permit") && !is(&t, "deny")) {
		return refuse(err, where, "action is not permit or deny");
	}
	next(&t);
	proto = next(&t);
	if (!proto) return refuse(err, where, "no protocol");
	tcp = strcmp(proto, "tcp") == 0;
	udp = strcmp(proto, "udp") == 0;
	icmp = strcmp(proto, "icmp") == 0;
	if (!tcp && !udp && !icmp && strcmp(proto, family == 6 ? "ipv6" : "ip") != 0) {
		if (!number(proto, 0, 255, &num) || num == MUDP_PROTO_TCP ||
		    num == MUDP_PROTO_UDP ||
		    num == (family == 6 ? MUDP_PROTO_ICMPV6 : MUDP_PROTO_ICMP)) {
			return refuse(err, where,
				      "protocol \"%.32s\" is not one the renderer writes", proto);
		}
	}
	if (!is(&t, "any")) return refuse(err, where, "source is not \"any\" (the device)");
	next(&t);
	rc = cisco_port(&t, &port1, where, err);
	if (rc != MUD_OK) return rc;
	rc = cisco_peer(&t, family, where, err);
	if (rc != MUD_OK) return rc;
	rc = cisco_port(&t, &port2, where, err);
	if (rc != MUD_OK) return rc;
	if ((port1 || port2) && !tcp && !udp) {
		return refuse(err, where, "port match on a protocol without ports");
	}
	if (is(&t, "established")) {
		if (!tcp) return refuse(err, where, "\"established\" without tcp");
		next(&t);
	}
	if (icmp && peek(&t)) {
		if (!number(next(&t), 0, 255, NULL)) return refuse(err, where, "bad ICMP type");
		if (peek(&t) && !number(next(&t), 0, 255, NULL)) {
			return refuse(err, where, "bad ICMP code");
		}
	}
	if (peek(&t)) return refuse(err, where, "unexpected \"%.32s\"", peek(&t));
	return MUD_OK;
}

/*
 *	NAS-Filter-Rule: permit|deny in|out PROTO from SRC [PORTS] to DST [PORTS]
 *	[established] [icmptypes T], "assigned" on the device's side; or the closing
 *	"deny in|out ip from any to any".
 */

/** One or two ascending, disjoint ranges "a" / "a-b" (a < b), comma separated. */
static bool nfr_ports(char const *s)
{
	char buf[64];
	char *p;
	char *save = NULL;
	long prev = -1;
	int n = 0;

	if (strlen(s) >= sizeof(buf)) return false;
	memcpy(buf, s, strlen(s) + 1);
	if (buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,")) return false;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(p, '-');
		unsigned long a;
		unsigned long b;

		if (++n > 2) return false;
		if (dash) {
			*dash = '\0';
			if (!number(p, 0, 65535, &a) || !number(dash + 1, 0, 65535, &b) || a >= b) {
				return false;
			}
		} else {
			if (!number(p, 0, 65535, &a)) return false;
			b = a;
		}
		if ((long)a <= prev) return false;
		prev = (long)b;
	}
	return n > 0;
}

/** NFR peer: 0.0.0.0/0, ::/0, an address or a prefix; sets *family. */
static bool nfr_peer(char const *s, int *family)
{
	uint8_t addr[16];

	if (!s) return false;
	if (strcmp(s, "0.0.0.0/0") == 0 || strcmp(s, "::/0") == 0) {
		*family = s[0] == ':' ? 6 : 4;
		return true;
	}
	if (strchr(s, '/')) {
		*family = 0;
		return prefix(s, family);
	}
	*family = strchr(s, ':') ? 6 : 4;
	return address(s, *family, addr);
}

static mud_rcode_t check_nfr(char const *line, char const *where, mud_error_t *err)
{
	unsigned long proto = 256;	/* "ip" */
	bool in;
	bool ports = false;
	int family = 0;
	toks_t t;
	int side;
	mud_rcode_t rc;

	if (strcmp(line, "deny in ip from any to any") == 0 ||
	    strcmp(line, "deny out ip from any to any") == 0) return MUD_OK;
	rc = split(&t, line, where, err);
	if (rc != MUD_OK) return rc;

	if (!is(&t, "permit") && !is(&t, "deny")) {
		return refuse(err, where, "action is not permit or deny");
	}
	next(&t);
	if (!is(&t, "in") && !is(&t, "out")) {
		return refuse(err, where, "direction is not in or out");
	}
	in = is(&t, "in");
	next(&t);
	if (is(&t, "ip")) {
		next(&t);
	} else if (!number(next(&t), 0, 255, &proto)) {
		return refuse(err, where, "protocol is not ip or a number 0..255");
	}
	for (side = 0; side < 2; side++) {
		bool device = (side == 0) == in;

		if (!is(&t, side == 0 ? "from" : "to")) {
			return refuse(err, where, "\"%s\" expected", side == 0 ? "from" : "to");
		}
		next(&t);
		if (device) {
			if (!is(&t, "assigned")) {
				return refuse(err, where, "the device's side is not \"assigned\"");
			}
			next(&t);
		} else if (!nfr_peer(next(&t), &family)) {
			return refuse(err, where, "peer is not 0.0.0.0/0, ::/0 or a canonical "
				      "address or prefix");
		}
		if (peek(&t) && peek(&t)[0] >= '0' && peek(&t)[0] <= '9') {
			if (!nfr_ports(next(&t))) return refuse(err, where, "bad port list");
			ports = true;
		}
	}
	if (ports && proto != MUDP_PROTO_TCP && proto != MUDP_PROTO_UDP) {
		return refuse(err, where, "port match on a protocol without ports");
	}
	if (is(&t, "established")) {
		if (proto != MUDP_PROTO_TCP) {
			return refuse(err, where, "\"established\" without tcp");
		}
		next(&t);
	}
	if (is(&t, "icmptypes")) {
		if (proto != (family == 6 ? MUDP_PROTO_ICMPV6 : MUDP_PROTO_ICMP)) {
			return refuse(err, where,
				      "\"icmptypes\" without ICMP of the peer's family");
		}
		next(&t);
		if (!number(next(&t), 0, 255, NULL)) return refuse(err, where, "bad ICMP type");
	}
	if (peek(&t)) return refuse(err, where, "unexpected \"%.32s\"", peek(&t));
	return MUD_OK;
}

mud_rcode_t mudp_render_check(mud_format_t fmt, char * const *v4, size_t n4, char * const *v6,
			      size_t n6, mud_error_t *err)
{
	char where[32];
	size_t i;
	mud_rcode_t rc;

	if ((n4 && !v4) || (n6 && !v6)) {
		return mud_error_set(err, MUD_ERR_ARG, "mudp_render_check", "no lines");
	}
	if (n4 + n6 > MUD_MAX_ATTRS) {
		return refuse(err, "lines", "%zu values, more than %d", n4 + n6, MUD_MAX_ATTRS);
	}
	if (fmt != MUD_FMT_CISCO_DACL && fmt != MUD_FMT_NAS_FILTER_RULE) {
		return mud_error_set(err, MUD_ERR_ARG, "mudp_render_check",
				     "format %s has no line grammar", mud_format_name(fmt));
	}
	if (fmt == MUD_FMT_NAS_FILTER_RULE && n6) {
		return refuse(err, "v6 line 1", "nas-filter-rule output has no IPv6 list");
	}
	for (i = 0; i < n4 + n6; i++) {
		bool six = i >= n4;
		char const *line = six ? v6[i - n4] : v4[i];
		size_t n = six ? i - n4 + 1 : i + 1;

		snprintf(where, sizeof(where), "%s line %zu", six ? "v6" : "v4", n);
		if (!line) return refuse(err, where, "missing");
		if (strlen(line) > MUD_MAX_ATTR_LEN) {
			return refuse(err, where, "%zu bytes, more than an attribute holds (%d)",
				      strlen(line), MUD_MAX_ATTR_LEN);
		}
		if (fmt == MUD_FMT_CISCO_DACL) {
			rc = check_cisco(line, six ? 6 : 4, n, where, err);
		} else {
			rc = check_nfr(line, where, err);
		}
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}
