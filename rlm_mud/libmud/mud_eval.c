/*
 * mud_eval.c - an independent evaluator of the ACLs a NAS receives.
 *
 * It parses the text of Cisco dACL lines (IOS extended ACL syntax) and of
 * NAS-Filter-Rules (RFC 6733 IPFilterRule, RFC 4849) and decides packets and
 * flows the way the NAS would. It deliberately shares no code with the
 * renderers (mud_render*.c): the conformance suite uses it to check that what
 * they print means what the MUD file says.
 *
 * Semantics modelled (docs/rendering.md):
 *  - cisco: one list per family, first match wins, implicit deny. The dACL is
 *    applied inbound, so it sees only packets from the device; `any` as the
 *    source stands for the device's address. A family without lines has no
 *    dACL and is not filtered.
 *  - nfr: `in` rules filter packets from the device, `out` rules packets to it;
 *    first match among the rules of that direction wins. If none matches, RFC
 *    6733 section 4.3 drops the packet when the last rule evaluated was a
 *    permit and passes it when it was a deny. A direction without rules is not
 *    filtered.
 *  - `established` matches TCP packets with ACK or RST; nfr `setup` matches
 *    SYN without ACK.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mud_private.h"

#define EV_MAX_TOKENS	128	//!< a 253-byte line holds at most 127 tokens
#define EV_EPHEMERAL	49152	//!< initiator's default port (RFC 6335 dynamic range)

/** Address match. */
typedef struct {
	bool		any;		//!< every address (nfr: of both families)
	bool		device;		//!< the device (cisco source any, nfr assigned)
	bool		negate;		//!< nfr "!"
	int		family;		//!< 4 or 6 unless any/device
	uint8_t		addr[16];
	uint8_t		mask[16];	//!< bits that must equal addr
} ev_addr_t;

typedef struct {
	uint16_t	lo;
	uint16_t	hi;
} ev_range_t;

/** Port (or ICMP type) match: a list of ranges, possibly negated. */
typedef struct {
	bool		set;		//!< absent: every value
	bool		negate;		//!< cisco neq
	ev_range_t	*r;		//!< talloc array (may be empty: nothing matches)
	size_t		num;
} ev_ports_t;

typedef enum {
	EV_TCP_ANY = 0,
	EV_TCP_ESTABLISHED,		//!< ACK or RST
	EV_TCP_SETUP,			//!< SYN without ACK
} ev_tcp_t;

/** One line. */
typedef struct {
	char		*text;		//!< as given
	unsigned int	lineno;		//!< input line number
	bool		noop;		//!< cisco remark: matches nothing
	int		family;		//!< cisco: list it belongs to (4/6); nfr: 0
	bool		out;		//!< nfr: "out" (to the device)
	bool		permit;
	int		proto;		//!< -1 any
	ev_addr_t	src;
	ev_addr_t	dst;
	ev_ports_t	sport;
	ev_ports_t	dport;
	ev_ports_t	icmp_types;	//!< ranges of types
	int		icmp_code;	//!< -1 any
	ev_tcp_t	tcp;
} ev_ace_t;

struct mud_eval_acl {
	mud_format_t	fmt;
	ev_ace_t	*aces;
	size_t		num;
	long		last_seq[2];	//!< cisco: last #N seen for v4, v6 (0 none)
};

/** A token of a line. */
typedef struct {
	char const	*p;
	size_t		len;
} ev_tok_t;

/** Parser state of one line. */
typedef struct {
	TALLOC_CTX	*ctx;		//!< parent of the ACE's arrays
	ev_tok_t	t[EV_MAX_TOKENS];
	size_t		n;
	size_t		i;		//!< next token
	char		where[32];
	mud_error_t	*err;
} ev_line_t;

/*
 *	Tokens and numbers
 */
static bool tok_is(ev_tok_t const *t, char const *word)
{
	size_t n = strlen(word);
	size_t i;

	if (t->len != n) return false;
	for (i = 0; i < n; i++) {
		char c = t->p[i];

		if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
		if (c != word[i]) return false;
	}
	return true;
}

static bool tok_in(ev_tok_t const *t, char const * const *words)
{
	size_t i;

	for (i = 0; words[i]; i++) {
		if (tok_is(t, words[i])) return true;
	}
	return false;
}

/** Decimal 0..max from p[0..len); false if not. */
static bool num_parse(char const *p, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10) return false;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > max) return false;
	*out = v;
	return true;
}

static bool tok_num(ev_tok_t const *t, unsigned long max, unsigned long *out)
{
	return num_parse(t->p, t->len, max, out);
}

static bool tok_alpha(ev_tok_t const *t)
{
	char c;

	if (t->len == 0) return false;
	c = t->p[0];
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/** Copy a token into buf (NUL-terminated); false if it does not fit. */
static bool tok_copy(char *buf, size_t buflen, ev_tok_t const *t)
{
	if (t->len >= buflen) return false;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	return true;
}

/** Error naming a token. */
static mud_rcode_t tok_error(ev_line_t *l, mud_rcode_t code, char const *what, ev_tok_t const *t)
{
	char esc[72];

	mudp_escape(esc, sizeof(esc), t->p, t->len);
	return mud_error_set(l->err, code, l->where, "%s \"%s\"", what, esc);
}

/** Error at the end of the line (a token is missing). */
static mud_rcode_t end_error(ev_line_t *l, char const *what)
{
	return mud_error_set(l->err, MUD_ERR_SCHEMA, l->where, "line ends where %s is expected",
			     what);
}

static ev_tok_t const *next_tok(ev_line_t *l)
{
	if (l->i >= l->n) return NULL;
	return &l->t[l->i++];
}

static ev_tok_t const *peek_tok(ev_line_t *l)
{
	if (l->i >= l->n) return NULL;
	return &l->t[l->i];
}

/** Split p[0..len) into tokens at spaces and tabs. */
static mud_rcode_t tokenize(ev_line_t *l, char const *p, size_t len)
{
	size_t i = 0;

	l->n = 0;
	l->i = 0;
	while (i < len) {
		size_t start;

		if (p[i] == ' ' || p[i] == '\t') {
			i++;
			continue;
		}
		start = i;
		while (i < len && p[i] != ' ' && p[i] != '\t') {
			unsigned char c = (unsigned char)p[i];

			if (c < 0x20 || c >= 0x7f) {
				char esc[8];

				mudp_escape(esc, sizeof(esc), p + i, 1);
				return mud_error_set(l->err, MUD_ERR_SCHEMA, l->where,
						     "invalid byte \"%s\" at column %zu", esc,
						     i + 1);
			}
			i++;
		}
		if (l->n >= EV_MAX_TOKENS) {
			return mud_error_set(l->err, MUD_ERR_LIMIT, l->where, "more than %d tokens",
					     EV_MAX_TOKENS);
		}
		l->t[l->n].p = p + start;
		l->t[l->n].len = i - start;
		l->n++;
	}
	return MUD_OK;
}

/*
 *	Port lists
 */
static mud_rcode_t ports_add(ev_line_t *l, ev_ports_t *ps, unsigned long lo, unsigned long hi)
{
	ev_range_t *n;

	n = talloc_realloc(l->ctx, ps->r, ev_range_t, ps->num + 1);
	if (!n) return mud_error_set(l->err, MUD_ERR_NOMEM, l->where, "out of memory");
	ps->r = n;
	ps->r[ps->num].lo = (uint16_t)lo;
	ps->r[ps->num].hi = (uint16_t)hi;
	ps->num++;
	return MUD_OK;
}

static bool ports_match(ev_ports_t const *ps, unsigned int v)
{
	size_t i;
	bool in = false;

	if (!ps->set) return true;
	for (i = 0; i < ps->num; i++) {
		if (v >= ps->r[i].lo && v <= ps->r[i].hi) {
			in = true;
			break;
		}
	}
	return ps->negate ? !in : in;
}

/** Mask of the first len bits into mask[0..16). */
static void mask_from_len(uint8_t mask[16], unsigned int len)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			mask[i] = 0xff;
			len -= 8;
		} else {
			mask[i] = (uint8_t)(0xff << (8 - len));
			len = 0;
		}
	}
}

static bool addr_match(ev_addr_t const *a, int family, uint8_t const *addr,
		       mud_prefix_t const *device)
{
	bool m;

	if (a->any) {
		m = true;
	} else if (a->device) {
		m = device->family == family && memcmp(device->addr, addr,
						       family == 4 ? 4 : 16) == 0;
	} else if (a->family != family) {
		m = false;
	} else {
		size_t i;

		m = true;
		for (i = 0; i < (family == 4 ? 4u : 16u); i++) {
			if ((addr[i] & a->mask[i]) != (a->addr[i] & a->mask[i])) {
				m = false;
				break;
			}
		}
	}
	return a->negate ? !m : m;
}

/*
 *	Cisco IOS extended ACE
 */
static char const * const ios_unmodelled_protos[] = {
	"ahp", "eigrp", "esp", "gre", "igmp", "ipinip", "nos", "ospf", "pcp", "pim", "sctp", "hbh",
	NULL
};

static char const * const ios_unmodelled_opts[] = {
	"dscp", "precedence", "tos", "fragments", "time-range", "option", "ttl", "ack", "fin",
	"psh", "rst", "syn", "urg", "match-all", "match-any", "reflect", "flow-label", "routing",
	"routing-type", "sequence", "undetermined-transport", "dest-option", "mobility",
	"mobility-type", "hbh", "auth", "log", "log-input", "evaluate", "dynamic", "timeout", NULL
};

static char const * const ios_port_ops[] = { "eq", "neq", "lt", "gt", "range", NULL };

/** `any` | `host A` | `A WILDCARD` (v4) | `X::/len` (v6). */
static mud_rcode_t cisco_addr(ev_line_t *l, ev_addr_t *a, int family, bool is_src)
{
	char buf[INET6_ADDRSTRLEN + 8];
	ev_tok_t const *t = next_tok(l);
	size_t i;

	memset(a, 0, sizeof(*a));
	if (!t) return end_error(l, is_src ? "the source address" : "the destination address");
	if (tok_is(t, "any")) {
		/* in a dACL the switch puts the host's address in place of a source "any" */
		if (is_src) {
			a->device = true;
		} else {
			a->any = true;
		}
		return MUD_OK;
	}
	a->family = family;
	if (tok_is(t, "host")) {
		t = next_tok(l);
		if (!t) return end_error(l, "the host address");
		if (!tok_copy(buf, sizeof(buf), t) ||
		    inet_pton(family == 4 ? AF_INET : AF_INET6, buf, a->addr) != 1) {
			return tok_error(l, MUD_ERR_SCHEMA,
					 family == 4 ? "not an IPv4 host address:" :
					 "not an IPv6 host address:", t);
		}
		memset(a->mask, 0xff, sizeof(a->mask));
		return MUD_OK;
	}
	if (!tok_copy(buf, sizeof(buf), t)) {
		return tok_error(l, MUD_ERR_SCHEMA,
				 is_src ? "bad source address" : "bad destination address",
				 t);
	}
	if (family == 4) {
		uint8_t wild[4];
		ev_tok_t const *w;

		if (inet_pton(AF_INET, buf, a->addr) != 1) {
			if (tok_in(t, ios_port_ops)) {
				return tok_error(l, MUD_ERR_SCHEMA, "port match needs tcp or udp:",
						 t);
			}
			return tok_error(l, MUD_ERR_SCHEMA, is_src ? "bad source address" :
					 "bad destination address", t);
		}
		w = next_tok(l);
		if (!w) return end_error(l, "a wildcard mask");
		if (!tok_copy(buf, sizeof(buf), w) || inet_pton(AF_INET, buf, wild) != 1) {
			return tok_error(l, MUD_ERR_SCHEMA, "bad wildcard mask", w);
		}
		for (i = 0; i < 4; i++) a->mask[i] = (uint8_t)~wild[i];
		return MUD_OK;
	} else {
		char *slash = strchr(buf, '/');
		unsigned long len;

		if (!slash) {
			if (tok_in(t, ios_port_ops)) {
				return tok_error(l, MUD_ERR_SCHEMA, "port match needs tcp or udp:",
						 t);
			}
			return tok_error(l, MUD_ERR_SCHEMA, is_src ?
					 "bad source (expected any, host X or X::/len)" :
					 "bad destination (expected any, host X or X::/len)", t);
		}
		*slash = '\0';
		if (inet_pton(AF_INET6, buf, a->addr) != 1 ||
		    !num_parse(slash + 1, strlen(slash + 1), 128, &len)) {
			return tok_error(l, MUD_ERR_SCHEMA, is_src ? "bad source prefix" :
					 "bad destination prefix", t);
		}
		mask_from_len(a->mask, (unsigned int)len);
		return MUD_OK;
	}
}

/** Optional `eq P` | `neq P` | `lt P` | `gt P` | `range A B`. */
static mud_rcode_t cisco_ports(ev_line_t *l, ev_ports_t *ps)
{
	ev_tok_t const *op = peek_tok(l);
	ev_tok_t const *t;
	unsigned long a, b;

	if (!op || !tok_in(op, ios_port_ops)) return MUD_OK;
	l->i++;
	t = next_tok(l);
	if (!t) return end_error(l, "a port");
	if (!tok_num(t, 65535, &a)) {
		if (tok_alpha(t)) {
			return tok_error(l, MUD_ERR_UNSUPPORTED, "port names are not modelled:", t);
		}
		return tok_error(l, MUD_ERR_SCHEMA, "bad port", t);
	}
	ps->set = true;
	if (tok_is(op, "eq")) return ports_add(l, ps, a, a);
	if (tok_is(op, "neq")) {
		ps->negate = true;
		return ports_add(l, ps, a, a);
	}
	if (tok_is(op, "lt")) return a == 0 ? MUD_OK : ports_add(l, ps, 0, a - 1);
	if (tok_is(op, "gt")) return a == 65535 ? MUD_OK : ports_add(l, ps, a + 1, 65535);

	t = next_tok(l);
	if (!t) return end_error(l, "the end of the port range");
	if (!tok_num(t, 65535, &b)) {
		if (tok_alpha(t)) {
			return tok_error(l, MUD_ERR_UNSUPPORTED, "port names are not modelled:", t);
		}
		return tok_error(l, MUD_ERR_SCHEMA, "bad port", t);
	}
	if (b < a) return tok_error(l, MUD_ERR_SCHEMA, "empty port range ending in", t);
	return ports_add(l, ps, a, b);
}

/** Parse one IOS ACE body (tokens already split). */
static mud_rcode_t cisco_ace(ev_line_t *l, ev_ace_t *ace)
{
	ev_tok_t const *t;
	unsigned long v;
	bool ports_ok;
	bool icmp;
	bool tcp;
	mud_rcode_t rc;

	t = next_tok(l);
	if (!t) return end_error(l, "permit or deny");
	if (tok_is(t, "remark")) {
		ace->noop = true;
		return MUD_OK;
	}
	if (tok_is(t, "permit")) {
		ace->permit = true;
	} else if (!tok_is(t, "deny")) {
		if (tok_in(t, ios_unmodelled_opts)) {
			return tok_error(l, MUD_ERR_UNSUPPORTED, "not modelled:", t);
		}
		return tok_error(l, MUD_ERR_SCHEMA, "expected permit or deny, got", t);
	}

	t = next_tok(l);
	if (!t) return end_error(l, "a protocol");
	ace->proto = -1;
	if (tok_is(t, ace->family == 4 ? "ip" : "ipv6")) {
		ace->proto = -1;
	} else if (tok_is(t, "ip") || tok_is(t, "ipv6")) {
		return tok_error(l, MUD_ERR_SCHEMA, ace->family == 4 ? "not an IPv4 ACL protocol:" :
				 "not an IPv6 ACL protocol:", t);
	} else if (tok_is(t, "tcp")) {
		ace->proto = 6;
	} else if (tok_is(t, "udp")) {
		ace->proto = 17;
	} else if (tok_is(t, "icmp")) {
		ace->proto = ace->family == 4 ? 1 : 58;
	} else if (tok_num(t, 255, &v)) {
		ace->proto = (int)v;
	} else if (tok_in(t, ios_unmodelled_protos)) {
		return tok_error(l, MUD_ERR_UNSUPPORTED, "protocol not modelled:", t);
	} else {
		return tok_error(l, MUD_ERR_SCHEMA, "unknown protocol", t);
	}
	tcp = tok_is(t, "tcp");
	ports_ok = tcp || tok_is(t, "udp");
	icmp = tok_is(t, "icmp");

	rc = cisco_addr(l, &ace->src, ace->family, true);
	if (rc != MUD_OK) return rc;
	if (ports_ok) {
		rc = cisco_ports(l, &ace->sport);
		if (rc != MUD_OK) return rc;
	}
	rc = cisco_addr(l, &ace->dst, ace->family, false);
	if (rc != MUD_OK) return rc;
	if (ports_ok) {
		rc = cisco_ports(l, &ace->dport);
		if (rc != MUD_OK) return rc;
	}

	/* options: established (tcp) | TYPE [CODE] (icmp) */
	t = next_tok(l);
	if (!t) return MUD_OK;
	if (tok_is(t, "established")) {
		if (!tcp) return tok_error(l, MUD_ERR_SCHEMA, "only tcp may be", t);
		ace->tcp = EV_TCP_ESTABLISHED;
	} else if (icmp && tok_num(t, 255, &v)) {
		rc = ports_add(l, &ace->icmp_types, v, v);
		if (rc != MUD_OK) return rc;
		ace->icmp_types.set = true;
		t = peek_tok(l);
		if (t && tok_num(t, 255, &v)) {
			ace->icmp_code = (int)v;
			l->i++;
		}
	} else if (icmp && tok_alpha(t) && !tok_in(t, ios_unmodelled_opts)) {
		return tok_error(l, MUD_ERR_UNSUPPORTED, "ICMP message names are not modelled:", t);
	} else if (tok_num(t, 255, &v)) {
		return tok_error(l, MUD_ERR_SCHEMA, "an ICMP type needs protocol icmp:", t);
	} else if (tok_in(t, ios_port_ops)) {
		return tok_error(l, MUD_ERR_SCHEMA, "port match needs tcp or udp:", t);
	} else if (tok_in(t, ios_unmodelled_opts)) {
		return tok_error(l, MUD_ERR_UNSUPPORTED, "option not modelled:", t);
	} else {
		return tok_error(l, MUD_ERR_SCHEMA, "unexpected", t);
	}

	t = next_tok(l);
	if (!t) return MUD_OK;
	if (tok_in(t, ios_unmodelled_opts)) {
		return tok_error(l, MUD_ERR_UNSUPPORTED, "option not modelled:", t);
	}
	return tok_error(l, MUD_ERR_SCHEMA, "unexpected", t);
}

/** Split "ip:inacl#N=" / "ipv6:inacl#N=" off a line; bare ACEs get their family guessed. */
static mud_rcode_t cisco_line(ev_line_t *l, mud_eval_acl_t *acl, ev_ace_t *ace, char const *p,
			      size_t len)
{
	char const *eq = memchr(p, '=', len);
	char const *colon = memchr(p, ':', len);
	char const *body = p;
	size_t blen = len;
	long seq = 0;
	mud_rcode_t rc;

	if (eq && colon && colon < eq && !memchr(p, ' ', (size_t)(colon - p))) {
		char const *hash;
		size_t plen = (size_t)(colon - p);
		unsigned long n;
		ev_tok_t pt = { .p = p, .len = (size_t)(eq - p) };

		if (plen == 2 && !memcmp(p, "ip", 2)) {
			ace->family = 4;
		} else if (plen == 4 && !memcmp(p, "ipv6", 4)) {
			ace->family = 6;
		} else {
			return tok_error(l, MUD_ERR_SCHEMA, "not a dACL attribute:", &pt);
		}
		if ((size_t)(eq - colon) > 7 && !memcmp(colon + 1, "outacl#", 7)) {
			return tok_error(l, MUD_ERR_UNSUPPORTED, "outbound ACLs are not modelled:",
					 &pt);
		}
		hash = colon + 1;
		if ((size_t)(eq - hash) < 7 || memcmp(hash, "inacl#", 6) != 0 ||
		    !num_parse(hash + 6, (size_t)(eq - hash - 6), 999999999, &n) || n == 0) {
			return tok_error(l, MUD_ERR_SCHEMA,
					 "expected ip:inacl#N= or ipv6:inacl#N= (N >= 1), got",
					 &pt);
		}
		seq = (long)n;
		body = eq + 1;
		blen = len - (size_t)(body - p);
	}

	rc = tokenize(l, body, blen);
	if (rc != MUD_OK) return rc;
	if (!ace->family) {
		size_t i;

		ace->family = 4;
		for (i = 0; i < l->n; i++) {
			bool v6 = tok_is(&l->t[i], "ipv6") || memchr(l->t[i].p, ':', l->t[i].len);

			if (v6) ace->family = 6;
		}
	}
	if (seq) {
		long *last = &acl->last_seq[ace->family == 4 ? 0 : 1];

		if (seq <= *last) {
			return mud_error_set(l->err, MUD_ERR_SCHEMA, l->where,
					     "%s:inacl#%ld follows #%ld: numbers must increase",
					     ace->family == 4 ? "ip" : "ipv6", seq, *last);
		}
		*last = seq;
	}
	return cisco_ace(l, ace);
}

/*
 *	NAS-Filter-Rule (RFC 6733 IPFilterRule)
 */
static char const * const nfr_unmodelled_opts[] = {
	"frag", "ipoptions", "tcpoptions", "tcpflags", NULL
};

/** `[!]any` | `[!]assigned` | `[!]A` | `[!]A/len`. */
static mud_rcode_t nfr_addr(ev_line_t *l, ev_addr_t *a, bool is_src)
{
	char buf[INET6_ADDRSTRLEN + 8];
	ev_tok_t const *t = next_tok(l);
	ev_tok_t s;
	char *slash;
	unsigned long len;

	memset(a, 0, sizeof(*a));
	if (!t) return end_error(l, is_src ? "the source address" : "the destination address");
	s = *t;
	if (s.len == 1 && s.p[0] == '!') {
		a->negate = true;
		t = next_tok(l);
		if (!t) return end_error(l, "an address after \"!\"");
		s = *t;
	} else if (s.len > 1 && s.p[0] == '!') {
		a->negate = true;
		s.p++;
		s.len--;
	}
	if (tok_is(&s, "any")) {
		a->any = true;
		return MUD_OK;
	}
	if (tok_is(&s, "assigned")) {
		a->device = true;
		return MUD_OK;
	}
	if (!tok_copy(buf, sizeof(buf), &s)) {
		return tok_error(l, MUD_ERR_SCHEMA,
				 is_src ? "bad source address" : "bad destination address",
				 t);
	}
	slash = strchr(buf, '/');
	if (slash) *slash = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->family = 4;
	} else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->family = 6;
	} else {
		return tok_error(l, MUD_ERR_SCHEMA,
				 is_src ? "bad source address" : "bad destination address",
				 t);
	}
	len = a->family == 4 ? 32 : 128;
	if (slash && !num_parse(slash + 1, strlen(slash + 1), len, &len)) {
		return tok_error(l, MUD_ERR_SCHEMA, "bad prefix length in", t);
	}
	mask_from_len(a->mask, (unsigned int)len);
	return MUD_OK;
}

/** Comma list of P or A-B (max 65535 ports, 255 for ICMP types). */
static mud_rcode_t nfr_list(ev_line_t *l, ev_ports_t *ps, ev_tok_t const *t, unsigned long max,
			    char const *what)
{
	size_t i = 0;

	ps->set = true;
	while (i <= t->len) {
		size_t start = i;
		size_t dash = 0;
		bool has_dash = false;
		unsigned long a, b;

		while (i < t->len && t->p[i] != ',') {
			if (t->p[i] == '-' && !has_dash) {
				dash = i;
				has_dash = true;
			}
			i++;
		}
		if (has_dash) {
			if (!num_parse(t->p + start, dash - start, max, &a) ||
			    !num_parse(t->p + dash + 1, i - dash - 1, max, &b) || b < a) {
				return tok_error(l, MUD_ERR_SCHEMA, what, t);
			}
		} else {
			if (!num_parse(t->p + start, i - start, max, &a)) {
				ev_tok_t item = { .p = t->p + start, .len = i - start };

				if (tok_alpha(&item)) {
					return tok_error(l, MUD_ERR_UNSUPPORTED,
							 "names are not modelled:", t);
				}
				return tok_error(l, MUD_ERR_SCHEMA, what, t);
			}
			b = a;
		}
		if (ports_add(l, ps, a, b) != MUD_OK) return MUD_ERR_NOMEM;
		i++;	/* past the comma (or the end) */
	}
	return MUD_OK;
}

static bool tok_digit(ev_tok_t const *t)
{
	return t && t->len > 0 && t->p[0] >= '0' && t->p[0] <= '9';
}

static mud_rcode_t nfr_ace(ev_line_t *l, ev_ace_t *ace)
{
	ev_tok_t const *t;
	ev_tok_t const *proto_tok;
	unsigned long v;
	bool ports_ok;
	mud_rcode_t rc;

	t = next_tok(l);
	if (!t) return end_error(l, "permit or deny");
	if (tok_is(t, "permit")) {
		ace->permit = true;
	} else if (!tok_is(t, "deny")) {
		return tok_error(l, MUD_ERR_SCHEMA, "expected permit or deny, got", t);
	}
	t = next_tok(l);
	if (!t) return end_error(l, "in or out");
	if (tok_is(t, "out")) {
		ace->out = true;
	} else if (!tok_is(t, "in")) {
		return tok_error(l, MUD_ERR_SCHEMA, "expected in or out, got", t);
	}
	proto_tok = next_tok(l);
	if (!proto_tok) return end_error(l, "a protocol");
	if (tok_is(proto_tok, "ip")) {
		ace->proto = -1;
	} else if (tok_num(proto_tok, 255, &v)) {
		ace->proto = (int)v;
	} else if (tok_alpha(proto_tok)) {
		return tok_error(l, MUD_ERR_UNSUPPORTED,
				 "protocol names are not modelled (use the number):",
				 proto_tok);
	} else {
		return tok_error(l, MUD_ERR_SCHEMA, "bad protocol", proto_tok);
	}
	ports_ok = ace->proto == 6 || ace->proto == 17;

	t = next_tok(l);
	if (!t) return end_error(l, "\"from\"");
	if (!tok_is(t, "from")) return tok_error(l, MUD_ERR_SCHEMA, "expected \"from\", got", t);
	rc = nfr_addr(l, &ace->src, true);
	if (rc != MUD_OK) return rc;
	t = peek_tok(l);
	if (tok_digit(t)) {
		if (!ports_ok) {
			return tok_error(l, MUD_ERR_SCHEMA, "ports need protocol 6 or 17:", t);
		}
		l->i++;
		rc = nfr_list(l, &ace->sport, t, 65535, "bad port list");
		if (rc != MUD_OK) return rc;
	}
	t = next_tok(l);
	if (!t) return end_error(l, "\"to\"");
	if (!tok_is(t, "to")) return tok_error(l, MUD_ERR_SCHEMA, "expected \"to\", got", t);
	rc = nfr_addr(l, &ace->dst, false);
	if (rc != MUD_OK) return rc;
	t = peek_tok(l);
	if (tok_digit(t)) {
		if (!ports_ok) {
			return tok_error(l, MUD_ERR_SCHEMA, "ports need protocol 6 or 17:", t);
		}
		l->i++;
		rc = nfr_list(l, &ace->dport, t, 65535, "bad port list");
		if (rc != MUD_OK) return rc;
	}

	while ((t = next_tok(l)) != NULL) {
		if (tok_is(t, "established") || tok_is(t, "setup")) {
			if (ace->proto != 6) {
				return tok_error(l, MUD_ERR_SCHEMA, "only protocol 6 may be", t);
			}
			if (ace->tcp != EV_TCP_ANY) {
				return tok_error(l, MUD_ERR_SCHEMA, "repeated TCP option", t);
			}
			ace->tcp = tok_is(t, "setup") ? EV_TCP_SETUP : EV_TCP_ESTABLISHED;
		} else if (tok_is(t, "icmptypes")) {
			ev_tok_t const *list;

			if (ace->proto != 1 && ace->proto != 58) {
				return tok_error(l, MUD_ERR_SCHEMA,
						 "only protocol 1 or 58 may have", t);
			}
			if (ace->icmp_types.set) {
				return tok_error(l, MUD_ERR_SCHEMA, "repeated option", t);
			}
			list = next_tok(l);
			if (!list) return end_error(l, "a list of ICMP types");
			rc = nfr_list(l, &ace->icmp_types, list, 255, "bad ICMP type list");
			if (rc != MUD_OK) return rc;
		} else if (tok_in(t, nfr_unmodelled_opts)) {
			return tok_error(l, MUD_ERR_UNSUPPORTED, "option not modelled:", t);
		} else if (tok_digit(t)) {
			return tok_error(l, MUD_ERR_SCHEMA,
					 "unexpected (ports need protocol 6 or 17)", t);
		} else {
			return tok_error(l, MUD_ERR_SCHEMA, "unexpected", t);
		}
	}
	return MUD_OK;
}

/*
 *	Parsing a whole ACL
 */
static mud_rcode_t acl_add_line(mud_eval_acl_t *acl, ev_line_t *l, char const *p, size_t len,
				unsigned int lineno)
{
	ev_ace_t *ace;
	ev_ace_t *n;
	mud_rcode_t rc;
	size_t i;

	snprintf(l->where, sizeof(l->where), "line %u", lineno);
	if (len > MUD_MAX_ATTR_LEN) {
		return mud_error_set(l->err, MUD_ERR_LIMIT, l->where,
				     "line is %zu bytes, more than %d",
				     len, MUD_MAX_ATTR_LEN);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			char esc[8];

			mudp_escape(esc, sizeof(esc), p + i, 1);
			return mud_error_set(l->err, MUD_ERR_SCHEMA, l->where,
					     "invalid byte \"%s\" at column %zu", esc, i + 1);
		}
	}
	if (acl->num >= MUD_MAX_ATTRS) {
		return mud_error_set(l->err, MUD_ERR_LIMIT, l->where, "more than %d ACL lines",
				     MUD_MAX_ATTRS);
	}
	n = talloc_realloc(acl, acl->aces, ev_ace_t, acl->num + 1);
	if (!n) return mud_error_set(l->err, MUD_ERR_NOMEM, l->where, "out of memory");
	acl->aces = n;
	ace = &acl->aces[acl->num];
	memset(ace, 0, sizeof(*ace));
	ace->icmp_code = -1;
	ace->lineno = lineno;
	ace->text = talloc_strndup(acl->aces, p, len);
	if (!ace->text) return mud_error_set(l->err, MUD_ERR_NOMEM, l->where, "out of memory");
	acl->num++;
	l->ctx = acl->aces;

	if (acl->fmt == MUD_FMT_CISCO_DACL) return cisco_line(l, acl, ace, p, len);
	rc = tokenize(l, p, len);
	if (rc != MUD_OK) return rc;
	return nfr_ace(l, ace);
}

/** A comment or blank line? */
static bool skip_line(char const *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == ' ' || p[i] == '\t') continue;
		return p[i] == '#';
	}
	return true;
}

static mud_rcode_t acl_new(TALLOC_CTX *ctx, mud_eval_acl_t **out, ev_line_t **line,
			   mud_format_t fmt,
			   mud_error_t *err)
{
	mud_eval_acl_t *acl;

	if (fmt != MUD_FMT_CISCO_DACL && fmt != MUD_FMT_NAS_FILTER_RULE) {
		return mud_error_set(err, MUD_ERR_ARG, "format", "format %d cannot be evaluated",
				     (int)fmt);
	}
	acl = talloc_zero(ctx, mud_eval_acl_t);
	if (!acl) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	acl->fmt = fmt;
	*line = talloc_zero(acl, ev_line_t);
	if (!*line) {
		talloc_free(acl);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}
	(*line)->err = err;
	*out = acl;
	return MUD_OK;
}

/** Parse ACL text (see mud.h). */
mud_rcode_t mud_eval_acl_parse(TALLOC_CTX *ctx, mud_eval_acl_t **out, mud_format_t fmt,
			       char const *text, size_t len, mud_error_t *err)
{
	mud_eval_acl_t *acl;
	ev_line_t *l;
	size_t pos = 0;
	unsigned int lineno = 0;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output given");
	*out = NULL;
	if (!text && len) return mud_error_set(err, MUD_ERR_ARG, "", "no ACL given");
	rc = acl_new(ctx, &acl, &l, fmt, err);
	if (rc != MUD_OK) return rc;

	while (pos < len) {
		char const *p = text + pos;
		char const *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && p[n - 1] == '\r') n--;
		if (skip_line(p, n)) continue;
		rc = acl_add_line(acl, l, p, n, lineno);
		if (rc != MUD_OK) {
			talloc_free(acl);
			return rc;
		}
	}
	talloc_free(l);
	*out = acl;
	return MUD_OK;
}

/** Parse an array of values (see mud.h). */
mud_rcode_t mud_eval_acl_from_lines(TALLOC_CTX *ctx, mud_eval_acl_t **out, mud_format_t fmt,
				    char const * const *lines, size_t num, mud_error_t *err)
{
	mud_eval_acl_t *acl;
	ev_line_t *l;
	size_t i;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output given");
	*out = NULL;
	if (!lines && num) return mud_error_set(err, MUD_ERR_ARG, "", "no ACL given");
	rc = acl_new(ctx, &acl, &l, fmt, err);
	if (rc != MUD_OK) return rc;
	for (i = 0; i < num; i++) {
		char const *p = lines[i];
		size_t n;

		if (!p) {
			talloc_free(acl);
			return mud_error_set(err, MUD_ERR_ARG, "", "line %zu is NULL", i + 1);
		}
		n = strlen(p);
		if (skip_line(p, n)) continue;
		rc = acl_add_line(acl, l, p, n,
				  i + 1 > 0xffffffffu ? 0xffffffffu : (unsigned int)(i + 1));
		if (rc != MUD_OK) {
			talloc_free(acl);
			return rc;
		}
	}
	talloc_free(l);
	*out = acl;
	return MUD_OK;
}

/** Parse a renderer's output (see mud.h). */
mud_rcode_t mud_eval_acl_from_rendered(TALLOC_CTX *ctx, mud_eval_acl_t **out,
				       mud_rendered_t const *r,
				       mud_error_t *err)
{
	char const **all;
	size_t i;
	mud_rcode_t rc;

	if (!out || !r) return mud_error_set(err, MUD_ERR_ARG, "", "no rendered output given");
	*out = NULL;
	if (r->num_v4 > MUD_MAX_ATTRS * 2 || r->num_v6 > MUD_MAX_ATTRS * 2) {
		return mud_error_set(err, MUD_ERR_LIMIT, "", "more than %d lines", MUD_MAX_ATTRS);
	}
	all = talloc_array(NULL, char const *, r->num_v4 + r->num_v6 + 1);
	if (!all) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	for (i = 0; i < r->num_v4; i++) all[i] = r->v4[i];
	for (i = 0; i < r->num_v6; i++) all[r->num_v4 + i] = r->v6[i];
	rc = mud_eval_acl_from_lines(ctx, out, r->format, all, r->num_v4 + r->num_v6, err);
	talloc_free(all);
	return rc;
}

/** Guess the format (see mud.h). */
int mud_eval_detect(char const *text, size_t len)
{
	size_t pos = 0;

	if (!text) return -1;
	while (pos < len) {
		char const *p = text + pos;
		char const *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		ev_line_t l;

		pos += n + (nl ? 1 : 0);
		if (skip_line(p, n)) continue;
		memset(&l, 0, sizeof(l));
		if (tokenize(&l, p, n) != MUD_OK || l.n < 2) return MUD_FMT_CISCO_DACL;
		if ((tok_is(&l.t[0], "permit") || tok_is(&l.t[0], "deny")) &&
		    (tok_is(&l.t[1], "in") || tok_is(&l.t[1], "out"))) {
			return MUD_FMT_NAS_FILTER_RULE;
		}
		return MUD_FMT_CISCO_DACL;
	}
	return -1;
}

size_t mud_eval_acl_count(mud_eval_acl_t const *acl)
{
	return acl ? acl->num : 0;
}

char const *mud_eval_acl_line(mud_eval_acl_t const *acl, size_t idx, unsigned int *lineno)
{
	if (!acl || idx >= acl->num) return NULL;
	if (lineno) *lineno = acl->aces[idx].lineno;
	return acl->aces[idx].text;
}

/*
 *	Evaluation
 */
static bool ace_match(ev_ace_t const *ace, mud_packet_t const *pkt, mud_prefix_t const *device)
{
	if (ace->noop) return false;
	if (ace->proto >= 0 && ace->proto != pkt->protocol) return false;
	if (!addr_match(&ace->src, pkt->family, pkt->src, device)) return false;
	if (!addr_match(&ace->dst, pkt->family, pkt->dst, device)) return false;
	if (ace->sport.set || ace->dport.set) {
		if (pkt->protocol != 6 && pkt->protocol != 17) return false;
		if (!ports_match(&ace->sport, pkt->src_port)) return false;
		if (!ports_match(&ace->dport, pkt->dst_port)) return false;
	}
	switch (ace->tcp) {
	case EV_TCP_ANY:
		break;
	case EV_TCP_ESTABLISHED:
		if (pkt->protocol != 6 || !(pkt->tcp_flags & (MUD_TCP_ACK | MUD_TCP_RST))) {
			return false;
		}
		break;
	case EV_TCP_SETUP:
		if (pkt->protocol != 6) return false;
		if (!(pkt->tcp_flags & MUD_TCP_SYN) || (pkt->tcp_flags & MUD_TCP_ACK)) return false;
		break;
	}
	if (ace->icmp_types.set || ace->icmp_code >= 0) {
		if (pkt->protocol != 1 && pkt->protocol != 58) return false;
		if (pkt->icmp_type < 0 || !ports_match(&ace->icmp_types,
						       (unsigned int)pkt->icmp_type)) {
			return false;
		}
		if (ace->icmp_code >= 0 && ace->icmp_code != pkt->icmp_code) return false;
	}
	return true;
}

static void set_match(mud_eval_result_t *res, mud_eval_acl_t const *acl, size_t i)
{
	res->permit = acl->aces[i].permit;
	res->reason = MUD_EVAL_MATCHED;
	res->index = i;
	res->lineno = acl->aces[i].lineno;
	res->line = acl->aces[i].text;
	res->why = res->permit ? "permitted by" : "denied by";
}

/** Decide one packet (see mud.h). */
mud_rcode_t mud_eval_packet(mud_eval_acl_t const *acl, mud_packet_t const *pkt, mud_dir_t dir,
			    mud_prefix_t const *device, mud_eval_result_t *res, mud_error_t *err)
{
	size_t i;
	size_t seen = 0;
	ev_ace_t const *last = NULL;

	if (!acl || !pkt || !device || !res) {
		return mud_error_set(err, MUD_ERR_ARG, "", "missing argument");
	}
	memset(res, 0, sizeof(*res));
	if (pkt->family != 4 && pkt->family != 6) {
		return mud_error_set(err, MUD_ERR_ARG, "packet", "family %d is neither 4 nor 6",
				     pkt->family);
	}
	if (device->family != pkt->family) {
		return mud_error_set(err, MUD_ERR_ARG, "device",
				     "device address is IPv%d, packet IPv%d",
				     device->family, pkt->family);
	}
	if (pkt->protocol < 0 || pkt->protocol > 255) {
		return mud_error_set(err, MUD_ERR_ARG, "packet", "protocol %d out of range",
				     pkt->protocol);
	}
	if (dir != MUD_DIR_FROM_DEVICE && dir != MUD_DIR_TO_DEVICE) {
		return mud_error_set(err, MUD_ERR_ARG, "dir", "unknown direction %d", (int)dir);
	}

	if (acl->fmt == MUD_FMT_CISCO_DACL) {
		if (dir == MUD_DIR_TO_DEVICE) {
			res->permit = true;
			res->reason = MUD_EVAL_NOT_FILTERED;
			res->why = "not filtered: inbound dACL";
			return MUD_OK;
		}
		for (i = 0; i < acl->num; i++) {
			if (acl->aces[i].family != pkt->family) continue;
			seen++;
			if (ace_match(&acl->aces[i], pkt, device)) {
				set_match(res, acl, i);
				return MUD_OK;
			}
		}
		if (!seen) {
			res->permit = true;
			res->reason = MUD_EVAL_NO_ACL;
			res->why = pkt->family == 4 ? "not filtered: no IPv4 dACL" :
				   "not filtered: no IPv6 dACL";
			return MUD_OK;
		}
		res->permit = false;
		res->reason = MUD_EVAL_DEFAULT;
		res->why = "implicit deny";
		return MUD_OK;
	}

	for (i = 0; i < acl->num; i++) {
		ev_ace_t const *ace = &acl->aces[i];

		if (ace->out != (dir == MUD_DIR_TO_DEVICE)) continue;
		last = ace;
		if (ace_match(ace, pkt, device)) {
			set_match(res, acl, i);
			return MUD_OK;
		}
	}
	res->reason = last ? MUD_EVAL_DEFAULT : MUD_EVAL_NO_ACL;
	if (!last) {
		res->permit = true;
		res->why = dir == MUD_DIR_TO_DEVICE ? "not filtered: no \"out\" rule" :
			   "not filtered: no \"in\" rule";
	} else if (last->permit) {
		res->permit = false;
		res->why = "no rule matched: implicit deny (the last rule of this direction "
			   "is a permit, RFC 6733 4.3)";
	} else {
		res->permit = true;
		res->why = "no rule matched: passed, because the last rule of this direction "
			   "is a deny (RFC 6733 4.3)";
	}
	return MUD_OK;
}

/*
 *	Flows
 */
static mud_rcode_t flow_error(mud_error_t *err, char const *before, char const *tok, size_t len,
			      char const *after)
{
	char esc[72];

	mudp_escape(esc, sizeof(esc), tok, len);
	return mud_error_set(err, MUD_ERR_ARG, "flow", "%s\"%s\"%s", before, esc, after);
}

/** One end: "device[:port]" | "a.b.c.d[:port]" | "x::y" | "[x::y][:port]". */
static mud_rcode_t flow_end(char const *s, size_t len, bool *is_device, int *family,
			    uint8_t addr[16],
			    long *port, mud_error_t *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char const *host = s;
	size_t hlen = len;
	char const *ps = NULL;
	size_t plen = 0;
	unsigned long v;

	*port = -1;
	*is_device = false;
	if (len && s[0] == '[') {
		char const *close = memchr(s, ']', len);

		if (!close) return flow_error(err, "", s, len, ": missing ]");
		host = s + 1;
		hlen = (size_t)(close - host);
		if ((size_t)(close - s) + 1 < len) {
			if (close[1] != ':') {
				return flow_error(err, "", s, len, ": expected :port after ]");
			}
			ps = close + 2;
			plen = len - (size_t)(ps - s);
		}
	} else {
		char const *c1 = memchr(s, ':', len);

		if (c1 && !memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - s))) {
			hlen = (size_t)(c1 - s);
			ps = c1 + 1;
			plen = len - hlen - 1;
		}
	}
	if (ps) {
		if (!num_parse(ps, plen, 65535, &v)) {
			return flow_error(err, "", s, len, ": bad port");
		}
		*port = (long)v;
	}
	if (hlen == 6 && !memcmp(host, "device", 6)) {
		*is_device = true;
		return MUD_OK;
	}
	if (hlen == 0 || hlen >= sizeof(buf)) return flow_error(err, "", s, len, ": bad address");
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = 6;
	} else {
		return flow_error(err, "", s, len, ": not \"device\" or an IP address");
	}
	return MUD_OK;
}

/** Parse a flow description (see mud.h). */
mud_rcode_t mud_flow_parse(mud_flow_t *out, char const *str, mud_error_t *err)
{
	ev_line_t l;
	char const *arrow;
	ev_tok_t const *t;
	bool dev_a, dev_b;
	int fam_a = 0;
	int fam_b = 0;
	uint8_t addr_a[16], addr_b[16];
	long port_a, port_b;
	unsigned long v;
	size_t len;
	size_t i;
	bool icmp_word = false;
	char const *a_start;
	size_t a_len;

	if (!out || !str) return mud_error_set(err, MUD_ERR_ARG, "flow", "no flow given");
	memset(out, 0, sizeof(*out));
	len = strlen(str);
	if (len > 256) return mud_error_set(err, MUD_ERR_ARG, "flow", "longer than 256 bytes");

	memset(&l, 0, sizeof(l));
	l.err = err;
	mudp_strlcpy(l.where, "flow", sizeof(l.where));
	for (i = 0; i < len; i++) {
		if ((unsigned char)str[i] < 0x20 || (unsigned char)str[i] >= 0x7f) {
			return flow_error(err, "", str, len, ": control or non-ASCII byte");
		}
	}
	arrow = strstr(str, "->");
	if (!arrow) return flow_error(err, "", str, len, ": expected PROTO A->B");

	/* protocol: first token */
	if (tokenize(&l, str, (size_t)(arrow - str)) != MUD_OK) return MUD_ERR_ARG;
	if (l.n != 2) return flow_error(err, "", str, len, ": expected PROTO A->B");
	t = &l.t[0];
	if (tok_is(t, "tcp")) {
		out->protocol = 6;
	} else if (tok_is(t, "udp")) {
		out->protocol = 17;
	} else if (tok_is(t, "icmp") || tok_is(t, "icmpv6")) {
		icmp_word = true;
		out->protocol = tok_is(t, "icmpv6") ? 58 : 1;
	} else if (tok_num(t, 255, &v)) {
		out->protocol = (int)v;
	} else {
		return flow_error(err, "unknown protocol ", t->p, t->len,
				  " (tcp, udp, icmp or a number)");
	}
	a_start = l.t[1].p;
	a_len = l.t[1].len;

	if (tokenize(&l, arrow + 2, len - (size_t)(arrow + 2 - str)) != MUD_OK) return MUD_ERR_ARG;
	if (l.n < 1) return flow_error(err, "", str, len, ": nothing after ->");

	if (flow_end(a_start, a_len, &dev_a, &fam_a, addr_a, &port_a, err) != MUD_OK) {
		return MUD_ERR_ARG;
	}
	if (flow_end(l.t[0].p, l.t[0].len, &dev_b, &fam_b, addr_b, &port_b, err) != MUD_OK) {
		return MUD_ERR_ARG;
	}
	if (dev_a == dev_b) {
		return flow_error(err, "", str, len, ": exactly one side must be \"device\"");
	}
	out->device_initiates = dev_a;
	out->family = dev_a ? fam_b : fam_a;
	memcpy(out->peer, dev_a ? addr_b : addr_a, 16);
	if (icmp_word) out->protocol = out->family == 4 ? 1 : 58;

	/* ports */
	if (out->protocol == 6 || out->protocol == 17) {
		long init = port_a;
		long resp = port_b;

		if (resp < 0) {
			return flow_error(err, "", str, len, ": the responder's port is required");
		}
		if (init < 0) init = EV_EPHEMERAL;
		out->device_port = (uint16_t)(dev_a ? init : resp);
		out->peer_port = (uint16_t)(dev_a ? resp : init);
	} else if (port_a >= 0 || port_b >= 0) {
		return flow_error(err, "", str, len, ": ports need tcp or udp");
	}

	/* options */
	out->icmp_type = -1;
	out->icmp_code = -1;
	i = 1;
	while (i < l.n) {
		bool is_type = tok_is(&l.t[i], "type");

		if (!is_type && !tok_is(&l.t[i], "code")) {
			return flow_error(err, "unexpected ", l.t[i].p, l.t[i].len,
					  " (expected type T [code C])");
		}
		if (out->protocol != 1 && out->protocol != 58) {
			return flow_error(err, "", l.t[i].p, l.t[i].len, " needs icmp");
		}
		if (i + 1 >= l.n || !tok_num(&l.t[i + 1], 255, &v)) {
			return flow_error(err, "", l.t[i].p, l.t[i].len, " needs a number 0..255");
		}
		if ((is_type ? out->icmp_type : out->icmp_code) >= 0) {
			return flow_error(err, "repeated ", l.t[i].p, l.t[i].len, "");
		}
		if (is_type) {
			out->icmp_type = (int)v;
		} else {
			out->icmp_code = (int)v;
		}
		i += 2;
	}
	if (out->protocol == 1 || out->protocol == 58) {
		if (out->icmp_type < 0) out->icmp_type = out->protocol == 1 ? 8 : 128;
		if (out->icmp_code < 0) out->icmp_code = 0;
	} else {
		out->icmp_type = 0;
		out->icmp_code = 0;
	}
	return MUD_OK;
}

/** Build step s: `from_init` says whether the initiator sends it. */
static void flow_step(mud_flow_result_t *res, mud_flow_t const *flow, mud_prefix_t const *device,
		      char const *what, bool from_init, uint8_t flags, int icmp_type)
{
	mud_flow_step_t *s = &res->steps[res->num_steps++];
	bool from_device = from_init == flow->device_initiates;
	size_t alen = flow->family == 4 ? 4 : 16;

	memset(s, 0, sizeof(*s));
	s->what = what;
	s->dir = from_device ? MUD_DIR_FROM_DEVICE : MUD_DIR_TO_DEVICE;
	s->pkt.family = flow->family;
	s->pkt.protocol = flow->protocol;
	memcpy(s->pkt.src, from_device ? device->addr : flow->peer, alen);
	memcpy(s->pkt.dst, from_device ? flow->peer : device->addr, alen);
	if (flow->protocol == 6 || flow->protocol == 17) {
		s->pkt.src_port = from_device ? flow->device_port : flow->peer_port;
		s->pkt.dst_port = from_device ? flow->peer_port : flow->device_port;
	}
	s->pkt.tcp_flags = flags;
	s->pkt.icmp_type = icmp_type;
	s->pkt.icmp_code = flow->icmp_code;
}

/** Decide a flow (see mud.h). */
mud_rcode_t mud_eval_flow(mud_eval_acl_t const *acl, mud_flow_t const *flow,
			  mud_prefix_t const *device,
			  mud_flow_result_t *res, mud_error_t *err)
{
	size_t i;

	if (!acl || !flow || !device || !res) {
		return mud_error_set(err, MUD_ERR_ARG, "", "missing argument");
	}
	memset(res, 0, sizeof(*res));
	if (flow->family != 4 && flow->family != 6) {
		return mud_error_set(err, MUD_ERR_ARG, "flow", "family %d is neither 4 nor 6",
				     flow->family);
	}
	if (device->family != flow->family) {
		return mud_error_set(err, MUD_ERR_ARG, "device",
				     "device address is IPv%d, flow IPv%d",
				     device->family, flow->family);
	}
	if (flow->protocol < 0 || flow->protocol > 255) {
		return mud_error_set(err, MUD_ERR_ARG, "flow", "protocol %d out of range",
				     flow->protocol);
	}

	switch (flow->protocol) {
	case 6:
		flow_step(res, flow, device, "SYN", true, MUD_TCP_SYN, 0);
		flow_step(res, flow, device, "SYN-ACK", false, MUD_TCP_SYN | MUD_TCP_ACK, 0);
		flow_step(res, flow, device, "ACK", true, MUD_TCP_ACK, 0);
		flow_step(res, flow, device, "ACK", false, MUD_TCP_ACK, 0);
		break;

	case 17:
		flow_step(res, flow, device, "request", true, 0, 0);
		flow_step(res, flow, device, "reply", false, 0, 0);
		break;

	case 1:
	case 58:
		if (flow->icmp_type < 0 || flow->icmp_type > 255 ||
		    flow->icmp_code < 0 || flow->icmp_code > 255) {
			return mud_error_set(err, MUD_ERR_ARG, "flow",
					     "ICMP type/code out of range");
		}
		if ((flow->protocol == 1 && flow->family == 4 && flow->icmp_type == 8) ||
		    (flow->protocol == 58 && flow->family == 6 && flow->icmp_type == 128)) {
			flow_step(res, flow, device, "echo request", true, 0, flow->icmp_type);
			flow_step(res, flow, device, "echo reply", false, 0,
				  flow->protocol == 1 ? 0 : 129);
		} else {
			flow_step(res, flow, device, "message", true, 0, flow->icmp_type);
		}
		break;

	default:
		flow_step(res, flow, device, "packet", true, 0, 0);
		break;
	}

	res->permit = true;
	for (i = 0; i < res->num_steps; i++) {
		mud_rcode_t rc = mud_eval_packet(acl, &res->steps[i].pkt, res->steps[i].dir, device,
						 &res->steps[i].res, err);

		if (rc != MUD_OK) return rc;
		if (!res->steps[i].res.permit) res->permit = false;
	}
	return MUD_OK;
}
