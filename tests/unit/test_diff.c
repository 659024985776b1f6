/*
 * test_diff.c - differential test of the MUD compiler: "never wider than the file".
 *
 * An interpreter written here from the MUD semantics (RFC 8520, RFC 8519) evaluates a
 * parsed MUD file (mud_file_t) directly on a packet, with a synthetic site context that
 * maps every abstraction and DNS name of the file (site_assign() has the address plan).
 * It shares no code with mud_compile.c: it only uses the parser's output,
 * mud_prefix_parse() and mud_url_parse(). For thousands of packets per file (witnesses
 * at the edges of every ACE, then random ones from a fixed-seed PRNG) its verdict is
 * compared with what a switch does with the compiled and rendered rules:
 *
 *   mud_ruleset_compile -> mud_ruleset_render (cisco-dacl, nas-filter-rule)
 *     -> mud_eval_acl_from_rendered -> mud_eval_packet
 *
 * The interpreter returns the SET of possible verdicts: a match the packet model cannot
 * see (MAC addresses, DSCP, an unknown match node) makes an ACE "maybe", and both
 * branches are followed.
 *
 *   compiled permit, set holds deny  -> FAIL-OPEN, a failure; except cisco-dacl to-device
 *                                       packets (an inbound dACL never filters them),
 *                                       counted as "cisco-inbound-only".
 *   compiled deny, set holds permit  -> FAIL-CLOSED, classified by, in this order: the
 *                                       compiler's warning on the accept ACE that decided;
 *                                       "over-approximated unknown match" when deny was
 *                                       possible too; the warning of an earlier drop ACE
 *                                       the compiler enforced broader ("earlier drop ACE:
 *                                       ..."); else "UNEXPLAINED", a failure.
 *
 * Corpus: $SHARED_DIR/mudfiles (*.json, *.json.save), $srcdir/data/valid/<case>/input.json,
 * $srcdir/data/realworld/<*>.json, and the stress files below. A summary (counts per
 * format and class, one line per file, one example per class) is printed at the end.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "test_common.h"

#define DIFF_RANDOM_PACKETS	20000	//!< random packets per file (witnesses come on top)
#define DIFF_MAX_PRINT		2	//!< failures printed per file, format and class
#define DIFF_MAX_ADDRS		MUD_MAX_ADDRS_PER_NAME	//!< addresses of one site entry
#define DIFF_MAX_CAND		128	//!< candidate addresses per witness dimension
#define DIFF_NUM_FMT		2

#define FAM4			0x1u
#define FAM6			0x2u

#define ACE_PTR_FMT		"/ietf-access-control-list:acls/acl/%d/aces/ace/%d"

static mud_format_t const diff_fmts[DIFF_NUM_FMT] = {
	MUD_FMT_CISCO_DACL, MUD_FMT_NAS_FILTER_RULE
};

static uint8_t const diff_flags[] = {
	MUD_TCP_SYN, MUD_TCP_SYN | MUD_TCP_ACK, MUD_TCP_ACK, MUD_TCP_RST,
	MUD_TCP_FIN | MUD_TCP_ACK, 0
};
#define DIFF_NUM_FLAGS	(sizeof(diff_flags) / sizeof(diff_flags[0]))

/*
 *	Synthetic site: what the context says, kept here as well so the interpreter
 *	does not read the compiler's view of it.
 */
typedef enum {
	ENT_MFG = 0,		//!< manufacturers[authority]
	ENT_CTL,		//!< controllers[uri]
	ENT_MODEL,		//!< models[uri]
	ENT_MYCTL,		//!< my-controllers[mud-url]
	ENT_DNS,		//!< dns.static[name]
	ENT_LOCAL,		//!< local-networks
	ENT_MAX
} ent_kind_t;

typedef struct {
	ent_kind_t	kind;
	char		*key;		//!< lowercased for ENT_MFG and ENT_DNS (no trailing dot)
	char		*text[DIFF_MAX_ADDRS];	//!< prefixes as written into the context
	mud_prefix_t	p[DIFF_MAX_ADDRS];
	size_t		num;
	unsigned int	idx;		//!< index among the entries of its kind
} entry_t;

typedef struct {
	entry_t		*e;		//!< talloc array
	size_t		num;
	unsigned int	count[ENT_MAX];	//!< entries per kind (address allocation)
	char		*host;		//!< host of the file's mud-url (lowercase), may be NULL
	bool		multicast;	//!< the file names multicast networks
} site_t;

/** How a name of an ACE resolves. */
typedef struct {
	bool		present;	//!< the ACE has this match
	bool		literal;	//!< the name is an address literal
	mud_prefix_t	addr;		//!< literal: the address
	int		ent;		//!< else: index in site.e, -1 unresolved
} name_t;

/** An ACE prepared for the interpreter. */
typedef struct {
	unsigned int	fams;		//!< families it can match (FAM4 | FAM6)
	int		proto[2];	//!< [IPv4, IPv6]: protocol, -1 any
	bool		has_net[2];	//!< [src, dst]
	bool		bad_net[2];	//!< network text does not parse: never matches
	mud_prefix_t	net[2];
	name_t		dns[2];		//!< [src, dst]
	int		abs[MUD_MAX_ABS_PER_ACE];	//!< site entry per abstraction, -1 unmapped
	char const	*unknown;	//!< what the packet model cannot see, NULL if nothing
} pace_t;

/** A generated packet. */
typedef struct {
	mud_packet_t	pkt;
	mud_dir_t	dir;
	mud_prefix_t	device;		//!< the device's address (src or dst of pkt)
} dpkt_t;

typedef enum {
	M_NO = 0,
	M_YES,
	M_MAYBE,
} match_t;

/** The interpreter's answer: the set of possible verdicts and who decided. */
typedef struct {
	bool		permit;		//!< permit is possible
	bool		deny;		//!< deny is possible
	int		pacl, pace;	//!< ACE of the first permit branch
	int		dacl, dace;	//!< ACE of the first deny branch; -1: no ACE (dwhy)
	char const	*dwhy;
} verdict_t;

/** One file under test. */
typedef struct {
	TALLOC_CTX	*ctx;
	char const	*path;
	mud_file_t	*file;
	site_t		site;
	pace_t		**pace;		//!< [acl][ace]
	mud_ruleset_t	*rs;
	mud_eval_acl_t	*eacl[DIFF_NUM_FMT];
	dpkt_t		*pkts;
	size_t		num_pkts;
	uint64_t	rng;
	mud_prefix_t	*pool;		//!< every prefix of the file and the site (random peers)
	size_t		num_pool;
	mud_prefix_t	*devpool;	//!< device-side networks and names
	size_t		num_devpool;
	uint16_t	*ports;		//!< ports the file mentions, with their neighbours
	size_t		num_ports;
	int		*icmps;		//!< icmp types and codes the file mentions, +-1
	size_t		num_icmps;
} fstate_t;

/*
 *	Statistics across the whole run (outside the per-test talloc roots).
 */
typedef struct {
	int		fmt;
	char		*kind;		//!< "FAIL-OPEN", "FAIL-CLOSED", "cisco-inbound-only"
	char		*cls;
	bool		failure;
	unsigned long	count;
	char		*example;	//!< first reproducer
} dclass_t;

typedef struct {
	TALLOC_CTX	*ctx;
	unsigned int	files_parsed;
	unsigned int	files_refused;
	unsigned int	files_ctx_refused;
	unsigned int	files_compile_refused;
	unsigned int	render_refused[DIFF_NUM_FMT];
	unsigned int	unexpected_refusals;	//!< compile/render refusals not listed below
	unsigned long	packets;
	unsigned long	compared[DIFF_NUM_FMT];
	unsigned long	agree[DIFF_NUM_FMT];
	unsigned long	failures;
	unsigned long	says[3];	//!< interpreter: permit only, deny only, both
	dclass_t	*cls;
	size_t		num_cls;
	char		*files;		//!< one line per file
	char		*refused;	//!< one line per refused file
} stats_t;

static stats_t g_stats;

/* ====================================================================
 *	Small helpers: PRNG, addresses
 * ==================================================================== */

/** xorshift64* with a fixed seed per file. */
static uint64_t rnd(fstate_t *fs)
{
	uint64_t x = fs->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fs->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(fstate_t *fs, unsigned int n)
{
	return n ? (unsigned int)(rnd(fs) % n) : 0;
}

static uint64_t seed_of(char const *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static unsigned int famb(int family)
{
	return family == 4 ? FAM4 : FAM6;
}

static unsigned int alen(int family)
{
	return family == 4 ? 4 : 16;
}

/** a inside prefix p (host bits of p ignored). */
static bool pfx_contains(mud_prefix_t const *p, int family, uint8_t const *a)
{
	unsigned int bits = p->len;
	unsigned int i;

	if (p->family != family) return false;
	for (i = 0; i < bits / 8; i++) {
		if (p->addr[i] != a[i]) return false;
	}
	if (bits % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((p->addr[i] ^ a[i]) & m) return false;
	}
	return true;
}

/** First (last = false) or last address of a prefix. */
static void pfx_edge(mud_prefix_t const *p, bool last, uint8_t *out)
{
	unsigned int n = alen(p->family);
	unsigned int i;

	memset(out, 0, 16);
	for (i = 0; i < n; i++) {
		unsigned int lo = i * 8;
		uint8_t m;

		if (p->len >= lo + 8) {
			m = 0xff;
		} else if (p->len <= lo) {
			m = 0;
		} else {
			m = (uint8_t)(0xff << (8 - (p->len - lo)));
		}
		out[i] = (uint8_t)((p->addr[i] & m) | (last ? (uint8_t)~m : 0));
	}
}

/** Add +1 or -1 to an address; false when it wraps. */
static bool addr_step(uint8_t *a, int family, int delta)
{
	int i;

	for (i = (int)alen(family) - 1; i >= 0; i--) {
		if (delta > 0) {
			if (a[i] != 0xff) {
				a[i]++;
				return true;
			}
			a[i] = 0;
		} else {
			if (a[i] != 0) {
				a[i]--;
				return true;
			}
			a[i] = 0xff;
		}
	}
	return false;
}

/** Random address inside p. */
static void pfx_random(fstate_t *fs, mud_prefix_t const *p, uint8_t *out)
{
	uint8_t first[16];
	uint8_t last[16];
	unsigned int i;

	pfx_edge(p, false, first);
	pfx_edge(p, true, last);
	for (i = 0; i < alen(p->family); i++) {
		uint8_t r = (uint8_t)rnd(fs);

		out[i] = (uint8_t)(first[i] | (r & (first[i] ^ last[i])));
	}
}

static void addr_text(char *buf, size_t len, int family, uint8_t const *a)
{
	mud_prefix_t p;

	memset(&p, 0, sizeof(p));
	p.family = family;
	memcpy(p.addr, a, 16);
	p.len = family == 4 ? 32 : 128;
	mud_prefix_print(buf, len, &p, false);
}

/** Lowercase, one trailing dot removed. */
static char *name_norm(TALLOC_CTX *ctx, char const *s)
{
	char *n = talloc_strdup(ctx, s);
	size_t len;
	char *c;

	if (!n) return NULL;
	for (c = n; *c; c++) {
		if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
	}
	len = strlen(n);
	if (len > 0 && n[len - 1] == '.') n[len - 1] = '\0';
	return n;
}

/** A name the context accepts as a key of dns.static / manufacturers. */
static bool key_ok(char const *s, bool authority)
{
	size_t len = strlen(s);
	size_t i;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.') return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.' && s[i + 1] == '.') return false;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || (authority && c == ':')) continue;
		return false;
	}
	return true;
}

/** A URI the context accepts as a key: printable ASCII without spaces. */
static bool uri_ok(char const *s)
{
	if (!*s) return false;
	for (; *s; s++) {
		if (*s <= ' ' || *s > '~') return false;
	}
	return true;
}

/** The name is an address literal ("192.0.2.1", "2001:db8::1"). */
static bool name_literal(char const *s, mud_prefix_t *out)
{
	mud_error_t err;

	if (strchr(s, '/')) return false;
	mud_error_clear(&err);
	return mud_prefix_parse(out, s, false, &err) == MUD_OK;
}

/** JSON string literal (keys are printable ASCII). */
static char *json_str(TALLOC_CTX *ctx, char const *s)
{
	char *out = talloc_strdup(ctx, "\"");

	for (; *s && out; s++) {
		if (*s == '"' || *s == '\\') {
			out = talloc_asprintf_append(out, "\\%c", *s);
		} else {
			out = talloc_asprintf_append(out, "%c", *s);
		}
	}
	return out ? talloc_strdup_append(out, "\"") : NULL;
}

/* ====================================================================
 *	Site: one deterministic address plan per file
 * ==================================================================== */

static int site_find(site_t const *site, ent_kind_t kind, char const *key)
{
	size_t i;

	for (i = 0; i < site->num; i++) {
		if (site->e[i].kind != kind) continue;
		if (kind == ENT_LOCAL) return (int)i;
		if (strcmp(site->e[i].key, key) == 0) return (int)i;
	}
	return -1;
}

static void entry_addr(entry_t *e, TALLOC_CTX *ctx, char const *text)
{
	mud_error_t err;

	if (e->num >= DIFF_MAX_ADDRS) return;
	mud_error_clear(&err);
	if (mud_prefix_parse(&e->p[e->num], text, false, &err) != MUD_OK) {
		fail_msg("test bug: site address \"%s\": %s", text, err.text);
	}
	e->text[e->num] = talloc_strdup(ctx, text);
	e->num++;
}

/** Register an entry (addresses come later, from site_assign()). */
static void site_add(TALLOC_CTX *ctx, site_t *site, ent_kind_t kind, char const *key)
{
	entry_t *e;
	unsigned int n = site->count[kind];

	if (site_find(site, kind, key) >= 0) return;
	switch (kind) {
	case ENT_MFG:
	case ENT_DNS:
		if (n >= 250) return;
		break;
	case ENT_CTL:
	case ENT_MODEL:
		if (n >= 45) return;
		break;
	case ENT_MYCTL:
	case ENT_LOCAL:
	case ENT_MAX:
		break;
	}
	site->e = talloc_realloc(ctx, site->e, entry_t, site->num + 1);
	assert_non_null(site->e);
	e = &site->e[site->num++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->key = talloc_strdup(ctx, key ? key : "");
	e->idx = n;
	site->count[kind]++;
}

static void entry_addrf(entry_t *e, TALLOC_CTX *ctx, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void entry_addrf(entry_t *e, TALLOC_CTX *ctx, char const *fmt, ...)
{
	char buf[64];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < e->num; i++) {
		if (strcmp(e->text[i], buf) == 0) return;
	}
	entry_addr(e, ctx, buf);
}

/** Deterministic addresses, with overlaps so that intersections are exercised:
 *
 *  manufacturer m	10.20.m.0/24, fd00:20:0:m::/64 (m = 0: the device's own host)
 *  controller c	10.30.0.c+1, fd00:30::c+1, and one address inside each of the
 *			first four manufacturers (10.20.m.100+c)
 *  model u		10.50.0.u+1, fd00:50::u+1, and 10.20.m.200+u likewise
 *  my-controller	10.40.0.1, fd00:40::1, 10.20.0.100 (controller 0's address in mfg 0)
 *  dns name d		198.51.100.d+1, 2001:db8:1::d+1 (outside local-networks); if d is
 *			even 10.60.0.d+1, fd00:60::d+1 (inside); in manufacturer 0 and one
 *			other: 10.20.m.150+d (manufacturer only), a controller's and a
 *			model's address there (10.20.m.100+c, 10.20.m.200+u)
 *  local-networks	10.0.0.0/8, 192.168.0.0/16, fd00::/8 (+ 224.0.0.0/4, ff00::/8)
 */
static void site_assign(TALLOC_CTX *ctx, site_t *site)
{
	unsigned int nm = site->count[ENT_MFG];
	unsigned int nc = site->count[ENT_CTL];
	unsigned int nu = site->count[ENT_MODEL];
	unsigned int m;
	size_t i;

	for (i = 0; i < site->num; i++) {
		entry_t *e = &site->e[i];
		unsigned int n = e->idx;

		switch (e->kind) {
		case ENT_MFG:
			entry_addrf(e, ctx, "10.20.%u.0/24", n);
			entry_addrf(e, ctx, "fd00:20:0:%x::/64", n);
			break;
		case ENT_CTL:
			entry_addrf(e, ctx, "10.30.0.%u", n + 1);
			entry_addrf(e, ctx, "fd00:30::%x", n + 1);
			for (m = 0; m < nm && m < 4; m++) {
				entry_addrf(e, ctx, "10.20.%u.%u", m, n + 100);
				entry_addrf(e, ctx, "fd00:20:0:%x::%x", m, n + 100);
			}
			break;
		case ENT_MODEL:
			entry_addrf(e, ctx, "10.50.0.%u", n + 1);
			entry_addrf(e, ctx, "fd00:50::%x", n + 1);
			for (m = 0; m < nm && m < 4; m++) {
				entry_addrf(e, ctx, "10.20.%u.%u", m, n + 200);
				entry_addrf(e, ctx, "fd00:20:0:%x::%x", m, n + 200);
			}
			break;
		case ENT_MYCTL:
			entry_addrf(e, ctx, "10.40.0.1");
			entry_addrf(e, ctx, "fd00:40::1");
			entry_addrf(e, ctx, "10.20.0.100");	/* = controller 0 in mfg 0 */
			entry_addrf(e, ctx, "fd00:20::64");
			break;
		case ENT_DNS:
			entry_addrf(e, ctx, "198.51.100.%u", n + 1);
			entry_addrf(e, ctx, "2001:db8:1::%x", n + 1);
			if (n % 2 == 0) {
				entry_addrf(e, ctx, "10.60.0.%u", n + 1);
				entry_addrf(e, ctx, "fd00:60::%x", n + 1);
			}
			for (m = 0; m < nm && m < 2; m++) {
				unsigned int mm = m ? 1 + n % (nm - 1) : 0;
				unsigned int c = nc ? n % nc : 0;

				entry_addrf(e, ctx, "10.20.%u.%u", mm, 150 + n % 50);
				entry_addrf(e, ctx, "fd00:20:0:%x::%x", mm, 150 + n % 50);
				entry_addrf(e, ctx, "10.20.%u.%u", mm, 100 + c);
				entry_addrf(e, ctx, "fd00:20:0:%x::%x", mm, 100 + c);
				if (nu) {
					entry_addrf(e, ctx, "10.20.%u.%u", mm, 200 + n % nu);
					entry_addrf(e, ctx, "fd00:20:0:%x::%x", mm, 200 + n % nu);
				}
			}
			break;
		case ENT_LOCAL:
			entry_addrf(e, ctx, "10.0.0.0/8");
			entry_addrf(e, ctx, "192.168.0.0/16");
			entry_addrf(e, ctx, "fd00::/8");
			if (site->multicast) {
				entry_addrf(e, ctx, "224.0.0.0/4");
				entry_addrf(e, ctx, "ff00::/8");
			}
			break;
		case ENT_MAX:
			break;
		}
	}
}

static bool net_multicast(char const *text)
{
	mud_prefix_t p;
	mud_prefix_t m4;
	mud_prefix_t m6;
	mud_error_t err;
	uint8_t first[16];

	mud_error_clear(&err);
	if (!text || mud_prefix_parse(&p, text, true, &err) != MUD_OK) return false;
	memset(&m4, 0, sizeof(m4));
	m4.family = 4;
	m4.addr[0] = 224;
	m4.len = 4;
	memset(&m6, 0, sizeof(m6));
	m6.family = 6;
	m6.addr[0] = 0xff;
	m6.len = 8;
	pfx_edge(&p, false, first);
	return pfx_contains(p.family == 4 ? &m4 : &m6, p.family, first);
}

/** Every abstraction and DNS name the file uses gets addresses. */
static void site_build(fstate_t *fs)
{
	mud_file_t const *f = fs->file;
	site_t *site = &fs->site;
	mud_url_t *url = NULL;
	mud_error_t err;
	size_t a;
	size_t e;
	size_t k;
	int side;

	memset(site, 0, sizeof(*site));
	mud_error_clear(&err);
	if (f->mud_url && mud_url_parse(fs->ctx, &url, f->mud_url, strlen(f->mud_url),
					&err) == MUD_OK && url->host && url->host[0]) {
		site->host = name_norm(fs->ctx, url->host);
	}
	for (a = 0; a < f->num_acls; a++) {
		for (e = 0; e < f->acls[a].num_aces; e++) {
			mud_ace_t const *ace = &f->acls[a].aces[e];

			if (net_multicast(ace->src_network) || net_multicast(ace->dst_network)) {
				site->multicast = true;
			}
		}
	}
	site_add(fs->ctx, site, ENT_LOCAL, "");
	if (site->host && key_ok(site->host, true)) site_add(fs->ctx, site, ENT_MFG, site->host);
	if (f->mud_url && uri_ok(f->mud_url)) site_add(fs->ctx, site, ENT_MYCTL, f->mud_url);

	for (a = 0; a < f->num_acls; a++) {
		for (e = 0; e < f->acls[a].num_aces; e++) {
			mud_ace_t const *ace = &f->acls[a].aces[e];

			for (k = 0; k < ace->num_abs; k++) {
				char const *v = ace->abs[k].value;
				char *n;

				switch (ace->abs[k].kind) {
				case MUD_ABS_MANUFACTURER:
					if (!v) break;
					n = name_norm(fs->ctx, v);
					if (key_ok(n, true)) site_add(fs->ctx, site, ENT_MFG, n);
					break;
				case MUD_ABS_MODEL:
					if (v && uri_ok(v)) site_add(fs->ctx, site, ENT_MODEL, v);
					break;
				case MUD_ABS_CONTROLLER:
					if (v && uri_ok(v)) site_add(fs->ctx, site, ENT_CTL, v);
					break;
				case MUD_ABS_NONE:
				case MUD_ABS_SAME_MANUFACTURER:
				case MUD_ABS_LOCAL_NETWORKS:
				case MUD_ABS_MY_CONTROLLER:
					break;
				}
			}
			for (side = 0; side < 2; side++) {
				char const *d = side ? ace->dst_dnsname : ace->src_dnsname;
				mud_prefix_t lit;
				char *n;

				if (!d || name_literal(d, &lit)) continue;
				n = name_norm(fs->ctx, d);
				if (key_ok(n, false)) site_add(fs->ctx, site, ENT_DNS, n);
			}
		}
	}
	site_assign(fs->ctx, site);
}

/** The site as context JSON (docs/context.md). */
static char *site_json(TALLOC_CTX *ctx, site_t const *site)
{
	static char const *const maps[] = { "manufacturers", "controllers", "models",
					     "my-controllers" };
	static ent_kind_t const kinds[] = { ENT_MFG, ENT_CTL, ENT_MODEL, ENT_MYCTL };
	char *out = talloc_strdup(ctx, "{\n");
	size_t m;
	size_t i;
	size_t j;
	bool first;

	for (i = 0; i < site->num; i++) {
		entry_t const *e = &site->e[i];

		if (e->kind != ENT_LOCAL) continue;
		out = talloc_strdup_append(out, "  \"local-networks\": [");
		for (j = 0; j < e->num; j++) {
			out = talloc_asprintf_append(out, "%s\"%s\"", j ? ", " : "", e->text[j]);
		}
		out = talloc_strdup_append(out, "],\n");
	}
	for (m = 0; m < sizeof(kinds) / sizeof(kinds[0]); m++) {
		out = talloc_asprintf_append(out, "  \"%s\": {", maps[m]);
		first = true;
		for (i = 0; i < site->num; i++) {
			entry_t const *e = &site->e[i];

			if (e->kind != kinds[m]) continue;
			out = talloc_asprintf_append(out, "%s\n    %s: %s[", first ? "" : ",",
						     json_str(ctx, e->key),
						     kinds[m] == ENT_MFG ? "{ \"networks\": " : "");
			for (j = 0; j < e->num; j++) {
				out = talloc_asprintf_append(out, "%s\"%s\"", j ? ", " : "",
							     e->text[j]);
			}
			out = talloc_asprintf_append(out, "]%s", kinds[m] == ENT_MFG ? " }" : "");
			first = false;
		}
		out = talloc_strdup_append(out, "\n  },\n");
	}
	out = talloc_strdup_append(out, "  \"dns\": { \"resolve\": false, \"static\": {");
	first = true;
	for (i = 0; i < site->num; i++) {
		entry_t const *e = &site->e[i];

		if (e->kind != ENT_DNS) continue;
		out = talloc_asprintf_append(out, "%s\n    %s: [", first ? "" : ",",
					     json_str(ctx, e->key));
		for (j = 0; j < e->num; j++) {
			out = talloc_asprintf_append(out, "%s\"%s\"", j ? ", " : "", e->text[j]);
		}
		out = talloc_strdup_append(out, "]");
		first = false;
	}
	out = talloc_strdup_append(out, "\n  } }\n}\n");
	return out;
}

/* ====================================================================
 *	The interpreter
 * ==================================================================== */

static int acl_index(mud_file_t const *f, char const *name)
{
	size_t i;

	if (!name) return -1;
	for (i = 0; i < f->num_acls; i++) {
		if (f->acls[i].name && strcmp(f->acls[i].name, name) == 0) return (int)i;
	}
	return -1;
}

/** Families an ACE can match: ACL type, l3 container, ethertype. */
static unsigned int ace_fams(mud_acl_t const *acl, mud_ace_t const *ace)
{
	unsigned int f = FAM4 | FAM6;

	switch (acl->type) {
	case MUD_ACL_TYPE_IPV4:
	case MUD_ACL_TYPE_MIXED_ETH_IPV4:
		f = FAM4;
		break;
	case MUD_ACL_TYPE_IPV6:
	case MUD_ACL_TYPE_MIXED_ETH_IPV6:
		f = FAM6;
		break;
	case MUD_ACL_TYPE_NONE:
	case MUD_ACL_TYPE_ETH:
	case MUD_ACL_TYPE_MIXED_ALL:
		break;
	}
	if (ace->l3 == MUD_L3_IPV4) f &= FAM4;
	if (ace->l3 == MUD_L3_IPV6) f &= FAM6;
	if (ace->eth && ace->ethertype >= 0) {
		if (ace->ethertype == 0x0800) {
			f &= FAM4;
		} else if (ace->ethertype == 0x86dd) {
			f &= FAM6;
		} else {
			f = 0;
		}
	}
	return f;
}

static int ace_proto(mud_ace_t const *ace, int family)
{
	if (ace->protocol >= 0) return ace->protocol;
	switch (ace->l4) {
	case MUD_L4_TCP:
		return 6;
	case MUD_L4_UDP:
		return 17;
	case MUD_L4_ICMP:
		return family == 4 ? 1 : 58;
	case MUD_L4_NONE:
		break;
	}
	return -1;
}

static void name_prep(fstate_t *fs, char const *name, name_t *out)
{
	char *n;

	memset(out, 0, sizeof(*out));
	out->ent = -1;
	if (!name) return;
	out->present = true;
	if (name_literal(name, &out->addr)) {
		out->literal = true;
		return;
	}
	n = name_norm(fs->ctx, name);
	out->ent = site_find(&fs->site, ENT_DNS, n);
	talloc_free(n);
}

static int abs_prep(fstate_t *fs, mud_ace_abs_t const *a)
{
	site_t const *site = &fs->site;
	int i = -1;
	char *n;

	switch (a->kind) {
	case MUD_ABS_MANUFACTURER:
		if (!a->value) return -1;
		n = name_norm(fs->ctx, a->value);
		i = site_find(site, ENT_MFG, n);
		talloc_free(n);
		return i;
	case MUD_ABS_SAME_MANUFACTURER:
		return site->host ? site_find(site, ENT_MFG, site->host) : -1;
	case MUD_ABS_MODEL:
		return a->value ? site_find(site, ENT_MODEL, a->value) : -1;
	case MUD_ABS_LOCAL_NETWORKS:
		return site_find(site, ENT_LOCAL, "");
	case MUD_ABS_CONTROLLER:
		/* unmapped urn:ietf:params:mud:dns / ntp -> services, empty here */
		return a->value ? site_find(site, ENT_CTL, a->value) : -1;
	case MUD_ABS_MY_CONTROLLER:
		return fs->file->mud_url ? site_find(site, ENT_MYCTL, fs->file->mud_url) : -1;
	case MUD_ABS_NONE:
		break;
	}
	return -1;
}

static void pace_build(fstate_t *fs)
{
	mud_file_t const *f = fs->file;
	size_t a;
	size_t e;
	size_t k;
	int side;

	fs->pace = talloc_zero_array(fs->ctx, pace_t *, f->num_acls ? f->num_acls : 1);
	assert_non_null(fs->pace);
	for (a = 0; a < f->num_acls; a++) {
		mud_acl_t const *acl = &f->acls[a];

		fs->pace[a] = talloc_zero_array(fs->ctx, pace_t, acl->num_aces ? acl->num_aces : 1);
		assert_non_null(fs->pace[a]);
		for (e = 0; e < acl->num_aces; e++) {
			mud_ace_t const *ace = &acl->aces[e];
			pace_t *p = &fs->pace[a][e];

			p->fams = ace_fams(acl, ace);
			p->proto[0] = ace_proto(ace, 4);
			p->proto[1] = ace_proto(ace, 6);
			for (side = 0; side < 2; side++) {
				char const *net = side ? ace->dst_network : ace->src_network;
				mud_error_t err;

				if (net) {
					mud_rcode_t rc;

					p->has_net[side] = true;
					mud_error_clear(&err);
					rc = mud_prefix_parse(&p->net[side], net, true, &err);
					if (rc != MUD_OK) p->bad_net[side] = true;
				}
				name_prep(fs, side ? ace->dst_dnsname : ace->src_dnsname,
					  &p->dns[side]);
			}
			for (k = 0; k < ace->num_abs; k++) p->abs[k] = abs_prep(fs, &ace->abs[k]);
			if (ace->unknown_match) {
				p->unknown = "unknown match node";
			} else if (ace->src_mac || ace->dst_mac) {
				p->unknown = "MAC address";
			} else if (ace->dscp >= 0) {
				p->unknown = "dscp";
			}
		}
	}
}

static bool entry_contains(site_t const *site, int ent, int family, uint8_t const *a)
{
	size_t i;

	if (ent < 0) return false;
	for (i = 0; i < site->e[ent].num; i++) {
		if (pfx_contains(&site->e[ent].p[i], family, a)) return true;
	}
	return false;
}

static bool name_match(site_t const *site, name_t const *n, int family, uint8_t const *a)
{
	if (n->literal) return pfx_contains(&n->addr, family, a);
	return entry_contains(site, n->ent, family, a);
}

static bool port_match(mud_port_t const *p, uint16_t v)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		return true;
	case MUD_PORT_EQ:
		return v == p->lo;
	case MUD_PORT_NEQ:
		return v != p->lo;
	case MUD_PORT_LTE:
		return v <= p->lo;
	case MUD_PORT_GTE:
		return v >= p->lo;
	case MUD_PORT_RANGE:
		return v >= p->lo && v <= p->hi;
	}
	return false;
}

/** Does one ACE match a packet of its policy's direction?
 *  relaxed: what a drop the compiler over-approximated (with a warning) covers: without
 *  the device's side, the matches the packet model cannot see, unresolved names and
 *  abstractions; protocol 0 as any protocol (docs/context.md, "Never wider"). */
static match_t ace_eval(fstate_t const *fs, pace_t const *pa, mud_ace_t const *ace,
			dpkt_t const *d, bool relaxed)
{
	mud_packet_t const *p = &d->pkt;
	int fi = p->family == 4 ? 0 : 1;
	uint8_t const *peer = d->dir == MUD_DIR_FROM_DEVICE ? p->dst : p->src;
	size_t k;
	int side;

	if (!(pa->fams & famb(p->family))) return M_NO;
	if (pa->proto[fi] >= 0 && pa->proto[fi] != p->protocol &&
	    !(relaxed && pa->proto[fi] == 0)) {
		return M_NO;
	}

	/* side 0 = source fields vs the packet's source, 1 = destination fields */
	for (side = 0; side < 2; side++) {
		uint8_t const *a = side ? p->dst : p->src;
		bool device_side = (side == 0) == (d->dir == MUD_DIR_FROM_DEVICE);

		if (relaxed && device_side) continue;
		if (pa->has_net[side]) {
			if (pa->bad_net[side]) return M_NO;
			if (!pfx_contains(&pa->net[side], p->family, a)) return M_NO;
		}
		if (pa->dns[side].present && !(relaxed && !pa->dns[side].literal &&
						pa->dns[side].ent < 0) &&
		    !name_match(&fs->site, &pa->dns[side], p->family, a)) {
			return M_NO;
		}
	}
	for (k = 0; k < ace->num_abs; k++) {
		if (relaxed && pa->abs[k] < 0) continue;
		if (!entry_contains(&fs->site, pa->abs[k], p->family, peer)) return M_NO;
	}
	if (ace->src_port.op != MUD_PORT_ANY || ace->dst_port.op != MUD_PORT_ANY) {
		if (p->protocol != 6 && p->protocol != 17) return M_NO;
		if (!port_match(&ace->src_port, p->src_port)) return M_NO;
		if (!port_match(&ace->dst_port, p->dst_port)) return M_NO;
	}
	if (ace->icmp_type >= 0 || ace->icmp_code >= 0) {
		if (p->protocol != (p->family == 4 ? 1 : 58)) return M_NO;
		if (ace->icmp_type >= 0 && ace->icmp_type != p->icmp_type) return M_NO;
		if (ace->icmp_code >= 0 && ace->icmp_code != p->icmp_code) return M_NO;
	}
	if (ace->direction_initiated != MUD_DIRINIT_NONE) {
		mud_dir_t opener = ace->direction_initiated == MUD_DIRINIT_FROM_DEVICE ?
				   MUD_DIR_FROM_DEVICE : MUD_DIR_TO_DEVICE;

		if (opener != d->dir) {
			if (p->protocol != 6) return M_NO;
			if (!(p->tcp_flags & (MUD_TCP_ACK | MUD_TCP_RST))) return M_NO;
		}
	}
	if (pa->unknown && !relaxed) return M_MAYBE;
	return M_YES;
}

static void verdict_add(verdict_t *v, bool permit, int acl, int ace)
{
	if (permit && !v->permit) {
		v->permit = true;
		v->pacl = acl;
		v->pace = ace;
	}
	if (!permit && !v->deny) {
		v->deny = true;
		v->dacl = acl;
		v->dace = ace;
	}
}

/** The set of verdicts the MUD file allows for a packet. */
static void interpret(fstate_t const *fs, dpkt_t const *d, verdict_t *v)
{
	mud_file_t const *f = fs->file;
	char * const *names;
	size_t num;
	size_t k;

	memset(v, 0, sizeof(*v));
	v->pacl = v->pace = v->dacl = v->dace = -1;
	if (!f->is_supported) {
		v->deny = true;
		v->dwhy = "is-supported is false";
		return;
	}
	if (f->num_from_device == 0 && f->num_to_device == 0) {
		v->deny = true;
		v->dwhy = "no policy at all";
		return;
	}
	names = d->dir == MUD_DIR_FROM_DEVICE ? f->from_device : f->to_device;
	num = d->dir == MUD_DIR_FROM_DEVICE ? f->num_from_device : f->num_to_device;
	for (k = 0; k < num; k++) {
		int ai = acl_index(f, names[k]);
		size_t e;

		if (ai < 0) continue;
		for (e = 0; e < f->acls[ai].num_aces; e++) {
			mud_ace_t const *ace = &f->acls[ai].aces[e];
			match_t m = ace_eval(fs, &fs->pace[ai][e], ace, d, false);

			if (m == M_NO) continue;
			verdict_add(v, ace->action == MUD_ACTION_ACCEPT, ai, (int)e);
			if (m == M_YES) return;
		}
	}
	verdict_add(v, false, -1, -1);
	v->dwhy = num ? "no ACE matched" : "no policy for this direction";
}

/* ====================================================================
 *	Packets
 * ==================================================================== */

static void pkt_push(fstate_t *fs, dpkt_t const *d)
{
	if (fs->num_pkts % 1024 == 0) {
		fs->pkts = talloc_realloc(fs->ctx, fs->pkts, dpkt_t, fs->num_pkts + 1024);
		assert_non_null(fs->pkts);
	}
	fs->pkts[fs->num_pkts++] = *d;
}

/** A packet of policy direction pdir described with the ACE's view: sport/dport are the
 *  packet's source and destination ports in that direction. reply: the packet the other
 *  side sends back (addresses and ports swapped, direction flipped). */
static void pkt_add(fstate_t *fs, mud_dir_t pdir, int family, uint8_t const *dev,
		    uint8_t const *peer, int proto, uint16_t sport, uint16_t dport, uint8_t flags,
		    int itype, int icode, bool reply)
{
	dpkt_t d;
	bool from;

	memset(&d, 0, sizeof(d));
	d.dir = pdir;
	if (reply) d.dir = pdir == MUD_DIR_FROM_DEVICE ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE;
	from = d.dir == MUD_DIR_FROM_DEVICE;
	d.pkt.family = family;
	memcpy(from ? d.pkt.src : d.pkt.dst, dev, 16);
	memcpy(from ? d.pkt.dst : d.pkt.src, peer, 16);
	d.pkt.protocol = proto & 0xff;
	if (proto == 6 || proto == 17) {
		d.pkt.src_port = reply ? dport : sport;
		d.pkt.dst_port = reply ? sport : dport;
	}
	if (proto == 6) d.pkt.tcp_flags = flags;
	if (proto == 1 || proto == 58) {
		d.pkt.icmp_type = itype & 0xff;
		d.pkt.icmp_code = icode & 0xff;
	}
	d.device.family = family;
	d.device.len = family == 4 ? 32 : 128;
	memcpy(d.device.addr, dev, 16);
	pkt_push(fs, &d);
}

static void default_device(int family, uint8_t *out)
{
	memset(out, 0, 16);
	if (family == 4) {
		out[0] = 192;
		out[1] = 168;
		out[2] = 1;
		out[3] = 200;
	} else {
		out[0] = 0xfd;
		out[13] = 0x01;
		out[14] = 0x02;
		out[15] = 0x00;
	}
}

typedef struct {
	uint8_t		a[DIFF_MAX_CAND][16];
	size_t		num;
} cand_t;

static void cand_add(cand_t *c, uint8_t const *a)
{
	size_t i;

	for (i = 0; i < c->num; i++) {
		if (memcmp(c->a[i], a, 16) == 0) return;
	}
	if (c->num < DIFF_MAX_CAND) memcpy(c->a[c->num++], a, 16);
}

/** First, last, and the addresses just outside a prefix. */
static void cand_prefix(cand_t *c, mud_prefix_t const *p)
{
	uint8_t a[16];

	pfx_edge(p, false, a);
	cand_add(c, a);
	if (addr_step(a, p->family, -1)) cand_add(c, a);
	pfx_edge(p, true, a);
	cand_add(c, a);
	if (addr_step(a, p->family, 1)) cand_add(c, a);
}

static void cand_entry(cand_t *c, site_t const *site, int ent, int family)
{
	size_t i;

	if (ent < 0) return;
	for (i = 0; i < site->e[ent].num; i++) {
		if (site->e[ent].p[i].family == family) cand_prefix(c, &site->e[ent].p[i]);
	}
}

static void cand_name(cand_t *c, site_t const *site, name_t const *n, int family)
{
	if (!n->present) return;
	if (n->literal) {
		if (n->addr.family == family) cand_prefix(c, &n->addr);
		return;
	}
	cand_entry(c, site, n->ent, family);
}

/** A port inside the constraint. */
static uint16_t port_in(mud_port_t const *p, uint16_t dflt)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		return dflt;
	case MUD_PORT_EQ:
	case MUD_PORT_LTE:
	case MUD_PORT_GTE:
	case MUD_PORT_RANGE:
		return p->lo;
	case MUD_PORT_NEQ:
		return p->lo == 65535 ? 0 : (uint16_t)(p->lo + 1);
	}
	return dflt;
}

/** lo, hi, lo-1, hi+1 (clamped) of a constraint; 0 values for ANY. */
static size_t port_edges(mud_port_t const *p, uint16_t out[4])
{
	uint16_t hi = p->op == MUD_PORT_RANGE ? p->hi : p->lo;
	size_t n = 0;

	if (p->op == MUD_PORT_ANY) return 0;
	out[n++] = p->lo;
	out[n++] = hi;
	out[n++] = p->lo ? (uint16_t)(p->lo - 1) : 0;
	out[n++] = hi < 65535 ? (uint16_t)(hi + 1) : 65535;
	return n;
}

/** Witness packets of one ACE of a policy of direction pdir. */
static void gen_ace(fstate_t *fs, mud_dir_t pdir, int ai, int ei)
{
	mud_ace_t const *ace = &fs->file->acls[ai].aces[ei];
	pace_t const *pa = &fs->pace[ai][ei];
	int peer_side = pdir == MUD_DIR_FROM_DEVICE ? 1 : 0;
	int dev_side = 1 - peer_side;
	int family;

	for (family = 4; family <= 6; family += 2) {
		cand_t *peers = talloc_zero(fs->ctx, cand_t);
		cand_t *devs = talloc_zero(fs->ctx, cand_t);
		int fi = family == 4 ? 0 : 1;
		int protos[8];
		size_t num_protos = 0;
		int proto = pa->proto[fi];
		int icmp = family == 4 ? 1 : 58;
		uint16_t sp;
		uint16_t dp;
		uint16_t edges[4];
		int itype = ace->icmp_type >= 0 ? ace->icmp_type : (family == 4 ? 8 : 128);
		int icode = ace->icmp_code >= 0 ? ace->icmp_code : 0;
		uint8_t dflt[16];
		size_t i;
		size_t j;
		size_t k;
		int reply;
		int dv;
		int side;

		assert_non_null(peers);
		assert_non_null(devs);
		default_device(family, dflt);
		cand_add(devs, dflt);

		if (pa->has_net[peer_side] && !pa->bad_net[peer_side] &&
		    pa->net[peer_side].family == family) {
			cand_prefix(peers, &pa->net[peer_side]);
		}
		cand_name(peers, &fs->site, &pa->dns[peer_side], family);
		for (k = 0; k < ace->num_abs; k++) cand_entry(peers, &fs->site, pa->abs[k], family);
		if (peers->num == 0) {
			uint8_t a[16];

			memset(a, 0, sizeof(a));
			if (family == 4) {
				a[0] = 203;
				a[2] = 113;
				a[3] = 7;
			} else {
				a[0] = 0x20;
				a[1] = 0x01;
				a[2] = 0x0d;
				a[3] = 0xb8;
				a[4] = 0xff;
				a[15] = 7;
			}
			cand_add(peers, a);
			a[family == 4 ? 3 : 15] = 8;
			cand_add(peers, a);
		}
		if (pa->has_net[dev_side] && !pa->bad_net[dev_side] &&
		    pa->net[dev_side].family == family) {
			cand_prefix(devs, &pa->net[dev_side]);
		}
		cand_name(devs, &fs->site, &pa->dns[dev_side], family);

		if (proto >= 0) {
			protos[num_protos++] = proto;
			protos[num_protos++] = proto == 6 ? 17 : 6;
		} else {
			protos[num_protos++] = 6;
			protos[num_protos++] = 17;
			protos[num_protos++] = icmp;
			protos[num_protos++] = 0;
			protos[num_protos++] = 47;
		}
		if (proto < 0) proto = 6;
		sp = port_in(&ace->src_port, pdir == MUD_DIR_FROM_DEVICE ? 49152 : 443);
		dp = port_in(&ace->dst_port, pdir == MUD_DIR_FROM_DEVICE ? 443 : 49152);

		for (reply = 0; reply < 2; reply++) {
			/* peers, with every flag combination */
			for (i = 0; i < peers->num; i++) {
				for (k = 0; k < (proto == 6 ? DIFF_NUM_FLAGS : 1); k++) {
					pkt_add(fs, pdir, family, dflt, peers->a[i], proto, sp, dp,
						diff_flags[k], itype, icode, reply);
				}
			}
			/* device addresses, with every peer */
			for (i = 0; i < devs->num; i++) {
				for (j = 0; j < peers->num; j++) {
					for (dv = 0; dv < (proto == 6 ? 2 : 1); dv++) {
						pkt_add(fs, pdir, family, devs->a[i], peers->a[j],
							proto, sp, dp,
							dv ? MUD_TCP_ACK : MUD_TCP_SYN, itype,
							icode, reply);
					}
				}
			}
			/* protocols */
			for (i = 0; i < num_protos; i++) {
				pkt_add(fs, pdir, family, dflt, peers->a[0], protos[i], sp, dp,
					MUD_TCP_ACK, itype, icode, reply);
			}
			/* port edges, with every flag combination */
			for (side = 0; side < 2; side++) {
				mud_port_t const *pp = side ? &ace->dst_port : &ace->src_port;
				size_t n = port_edges(pp, edges);

				for (j = 0; j < n; j++) {
					for (k = 0; k < (proto == 6 ? DIFF_NUM_FLAGS : 1); k++) {
						pkt_add(fs, pdir, family, dflt, peers->a[0], proto,
							side ? sp : edges[j], side ? edges[j] : dp,
							diff_flags[k], itype, icode, reply);
					}
				}
			}
			if (proto == 6) {
				for (k = 0; k < DIFF_NUM_FLAGS; k++) {
					pkt_add(fs, pdir, family, dflt, peers->a[0], proto, sp, dp,
						diff_flags[k], itype, icode, reply);
				}
			}
			/* icmp type and code +-1 */
			if (ace->icmp_type >= 0 || ace->icmp_code >= 0 || proto == icmp) {
				uint8_t const *pa0 = peers->a[0];

				for (dv = -1; dv <= 1; dv++) {
					pkt_add(fs, pdir, family, dflt, pa0, icmp, sp, dp, 0,
						itype + dv, icode, reply);
					pkt_add(fs, pdir, family, dflt, pa0, icmp, sp, dp, 0,
						itype, icode + dv, reply);
				}
			}
		}
		talloc_free(peers);
		talloc_free(devs);
	}
}

static void pool_add(mud_prefix_t **pool, size_t *num, TALLOC_CTX *ctx, mud_prefix_t const *p)
{
	*pool = talloc_realloc(ctx, *pool, mud_prefix_t, *num + 1);
	assert_non_null(*pool);
	(*pool)[(*num)++] = *p;
}

static void port_pool_add(fstate_t *fs, mud_port_t const *p)
{
	uint16_t e[4];
	size_t n = port_edges(p, e);
	size_t i;

	for (i = 0; i < n; i++) {
		fs->ports = talloc_realloc(fs->ctx, fs->ports, uint16_t, fs->num_ports + 1);
		assert_non_null(fs->ports);
		fs->ports[fs->num_ports++] = e[i];
	}
}

static void icmp_pool_add(fstate_t *fs, int v)
{
	int d;

	if (v < 0) return;
	for (d = -1; d <= 1; d++) {
		fs->icmps = talloc_realloc(fs->ctx, fs->icmps, int, fs->num_icmps + 1);
		assert_non_null(fs->icmps);
		fs->icmps[fs->num_icmps++] = (v + d) & 0xff;
	}
}

/** Pools for random packets: every prefix, port and icmp value the file and site name. */
static void pools_build(fstate_t *fs)
{
	mud_file_t const *f = fs->file;
	size_t a;
	size_t e;
	size_t i;
	int side;

	for (i = 0; i < fs->site.num; i++) {
		for (e = 0; e < fs->site.e[i].num; e++) {
			pool_add(&fs->pool, &fs->num_pool, fs->ctx, &fs->site.e[i].p[e]);
		}
	}
	for (a = 0; a < f->num_acls; a++) {
		for (e = 0; e < f->acls[a].num_aces; e++) {
			mud_ace_t const *ace = &f->acls[a].aces[e];
			pace_t const *pa = &fs->pace[a][e];

			for (side = 0; side < 2; side++) {
				if (pa->has_net[side] && !pa->bad_net[side]) {
					pool_add(&fs->pool, &fs->num_pool, fs->ctx, &pa->net[side]);
					pool_add(&fs->devpool, &fs->num_devpool, fs->ctx,
						 &pa->net[side]);
				}
				if (pa->dns[side].literal) {
					pool_add(&fs->pool, &fs->num_pool, fs->ctx,
						 &pa->dns[side].addr);
				}
				if (pa->dns[side].ent >= 0) {
					entry_t const *en = &fs->site.e[pa->dns[side].ent];

					for (i = 0; i < en->num; i++) {
						pool_add(&fs->devpool, &fs->num_devpool, fs->ctx,
							 &en->p[i]);
					}
				}
			}
			port_pool_add(fs, &ace->src_port);
			port_pool_add(fs, &ace->dst_port);
			icmp_pool_add(fs, ace->icmp_type);
			icmp_pool_add(fs, ace->icmp_code);
		}
	}
}

/** A random address of the family from a pool (inside, or just outside), else NULL. */
static bool pool_pick(fstate_t *fs, mud_prefix_t const *pool, size_t num, int family,
		      uint8_t *out)
{
	size_t tries;

	if (!num) return false;
	for (tries = 0; tries < 8; tries++) {
		mud_prefix_t const *p = &pool[rnd_below(fs, (unsigned int)num)];
		unsigned int how = rnd_below(fs, 10);

		if (p->family != family) continue;
		if (how < 6) {
			pfx_random(fs, p, out);
		} else if (how < 8) {
			pfx_edge(p, how == 7, out);
		} else {
			pfx_edge(p, how == 9, out);
			(void)addr_step(out, family, how == 9 ? 1 : -1);
		}
		return true;
	}
	return false;
}

static uint16_t rnd_port(fstate_t *fs)
{
	unsigned int how = rnd_below(fs, 10);

	if (how < 5 && fs->num_ports) return fs->ports[rnd_below(fs, (unsigned int)fs->num_ports)];
	if (how < 7) return (uint16_t)(49152 + rnd_below(fs, 16384));
	if (how < 8) return (uint16_t)rnd_below(fs, 1024);
	return (uint16_t)rnd(fs);
}

static void gen_random(fstate_t *fs)
{
	size_t n;

	for (n = 0; n < DIFF_RANDOM_PACKETS; n++) {
		int family = rnd_below(fs, 2) ? 4 : 6;
		mud_dir_t dir = rnd_below(fs, 2) ? MUD_DIR_FROM_DEVICE : MUD_DIR_TO_DEVICE;
		unsigned int how = rnd_below(fs, 100);
		uint8_t dev[16];
		uint8_t peer[16];
		int proto;
		int itype;
		int icode;
		uint8_t flags;
		uint16_t sport;
		uint16_t dport;
		unsigned int i;

		if (how < 35) {
			proto = 6;
		} else if (how < 60) {
			proto = 17;
		} else if (how < 75) {
			proto = family == 4 ? 1 : 58;
		} else if (how < 80) {
			proto = 0;
		} else {
			proto = (int)rnd_below(fs, 256);
		}

		default_device(family, dev);
		if (rnd_below(fs, 100) < 15) {
			(void)pool_pick(fs, fs->devpool, fs->num_devpool, family, dev);
		}
		how = rnd_below(fs, 100);
		if (how >= 60 || !pool_pick(fs, fs->pool, fs->num_pool, family, peer)) {
			for (i = 0; i < 16; i++) peer[i] = (uint8_t)rnd(fs);
			if (family == 6 && how < 80) {
				peer[0] = 0x20;
				peer[1] = 0x01;
				peer[2] = 0x0d;
				peer[3] = 0xb8;
			}
			if (family == 4) memset(peer + 4, 0, 12);
		}

		if (fs->num_icmps && rnd_below(fs, 2)) {
			itype = fs->icmps[rnd_below(fs, (unsigned int)fs->num_icmps)];
			icode = rnd_below(fs, 3) ? 0 :
				fs->icmps[rnd_below(fs, (unsigned int)fs->num_icmps)];
		} else {
			itype = (int)rnd_below(fs, 256);
			icode = rnd_below(fs, 4) ? 0 : (int)rnd_below(fs, 256);
		}
		flags = rnd_below(fs, 10) ? diff_flags[rnd_below(fs, DIFF_NUM_FLAGS)] :
			(uint8_t)rnd(fs);
		/* one call per statement: the same packets whatever the compiler's argument
		 * evaluation order */
		sport = rnd_port(fs);
		dport = rnd_port(fs);
		pkt_add(fs, dir, family, dev, peer, proto, sport, dport, flags, itype, icode,
			false);
	}
}

/** Every packet for one file: witnesses of each ACE of each policy, then random ones. */
static void gen_packets(fstate_t *fs)
{
	mud_file_t const *f = fs->file;
	int d;
	size_t k;

	for (d = 0; d < 2; d++) {
		mud_dir_t pdir = d ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE;
		char * const *names = d ? f->to_device : f->from_device;
		size_t num = d ? f->num_to_device : f->num_from_device;

		for (k = 0; k < num; k++) {
			int ai = acl_index(f, names[k]);
			size_t e;

			if (ai < 0) continue;
			for (e = 0; e < f->acls[ai].num_aces; e++) gen_ace(fs, pdir, ai, (int)e);
		}
	}
	gen_random(fs);
}

/* ====================================================================
 *	Comparison
 * ==================================================================== */

static void pkt_text(char *buf, size_t len, dpkt_t const *d)
{
	mud_packet_t const *p = &d->pkt;
	char s[64];
	char t[64];
	char extra[96];

	addr_text(s, sizeof(s), p->family, p->src);
	addr_text(t, sizeof(t), p->family, p->dst);
	extra[0] = '\0';
	if (p->protocol == 6 || p->protocol == 17) {
		char sp[80];

		snprintf(sp, sizeof(sp), "%s", s);
		snprintf(s, sizeof(s), p->family == 6 ? "[%.45s]:%u" : "%.45s:%u", sp,
			 (unsigned int)p->src_port);
		snprintf(sp, sizeof(sp), "%s", t);
		snprintf(t, sizeof(t), p->family == 6 ? "[%.45s]:%u" : "%.45s:%u", sp,
			 (unsigned int)p->dst_port);
	}
	if (p->protocol == 6) {
		snprintf(extra, sizeof(extra), " flags%s%s%s%s%s (0x%02x)",
			 p->tcp_flags & MUD_TCP_SYN ? " SYN" : "",
			 p->tcp_flags & MUD_TCP_ACK ? " ACK" : "",
			 p->tcp_flags & MUD_TCP_RST ? " RST" : "",
			 p->tcp_flags & MUD_TCP_FIN ? " FIN" : "",
			 p->tcp_flags ? "" : " none", (unsigned int)p->tcp_flags);
	} else if (p->protocol == 1 || p->protocol == 58) {
		snprintf(extra, sizeof(extra), " type %d code %d", p->icmp_type, p->icmp_code);
	}
	snprintf(buf, len, "%s IPv%d proto %d %s -> %s%s",
		 d->dir == MUD_DIR_FROM_DEVICE ? "from-device" : "to-device", p->family,
		 p->protocol, s, t, extra);
}

/** JSON pointer of an ACE: as written in the file (set by the parser), else canonical. */
static void ace_ptr(char *buf, size_t len, mud_file_t const *f, int ai, int ei)
{
	mud_ace_t const *ace = &f->acls[ai].aces[ei];

	if (ace->path) {
		snprintf(buf, len, "%s", ace->path);
	} else {
		snprintf(buf, len, ACE_PTR_FMT, ai, ei);
	}
}

static void ace_text(char *buf, size_t len, mud_file_t const *f, int ai, int ei)
{
	char ptr[160];

	if (ai < 0) {
		snprintf(buf, len, "(none)");
		return;
	}
	ace_ptr(ptr, sizeof(ptr), f, ai, ei);
	snprintf(buf, len, "%s (acl \"%.40s\" ace \"%.40s\")", ptr,
		 f->acls[ai].name ? f->acls[ai].name : "",
		 f->acls[ai].aces[ei].name ? f->acls[ai].aces[ei].name : "");
}

/** The compiler's warning on an ACE (preferring the one that says what it did). */
static char const *ace_warning(mud_file_t const *f, mud_ruleset_t const *rs, int ai, int ei)
{
	char ptr[160];
	char canon[160];
	char const *any = NULL;
	size_t i;

	if (ai < 0) return NULL;
	ace_ptr(ptr, sizeof(ptr), f, ai, ei);
	snprintf(canon, sizeof(canon), ACE_PTR_FMT, ai, ei);
	for (i = 0; i < rs->num_warnings; i++) {
		char const *t = rs->warnings[i].text;
		char const *w = rs->warnings[i].where;

		if (!w || (strcmp(w, ptr) != 0 && strcmp(w, canon) != 0)) continue;
		if (strstr(t, "skipped") || strstr(t, "without it")) return t;
		if (!any) any = t;
	}
	return any;
}

/** A warning shortened to its kind: quoted values replaced by "*". */
static char *warn_kind(TALLOC_CTX *ctx, char const *text)
{
	char *out = talloc_strdup(ctx, "");
	bool in = false;

	for (; *text && out; text++) {
		if (*text == '"') {
			if (!in) out = talloc_strdup_append(out, "\"*\"");
			in = !in;
			continue;
		}
		if (!in) out = talloc_asprintf_append(out, "%c", *text);
	}
	return out;
}

/** FAIL-CLOSED: why the compiled rules deny what the file permits. */
static char *closed_class(fstate_t const *fs, dpkt_t const *d, verdict_t const *v)
{
	mud_file_t const *f = fs->file;
	char const *w = ace_warning(fs->file, fs->rs, v->pacl, v->pace);
	char * const *names;
	size_t num;
	size_t k;

	if (w) return warn_kind(fs->ctx, w);
	if (v->deny) return talloc_strdup(fs->ctx, "over-approximated unknown match");

	/* An earlier drop ACE the compiler enforced without its device-side (or
	 * unenforceable) match, which it said in a warning. */
	names = d->dir == MUD_DIR_FROM_DEVICE ? f->from_device : f->to_device;
	num = d->dir == MUD_DIR_FROM_DEVICE ? f->num_from_device : f->num_to_device;
	for (k = 0; k < num; k++) {
		int ai = acl_index(f, names[k]);
		size_t e;

		if (ai < 0) continue;
		for (e = 0; e < f->acls[ai].num_aces; e++) {
			mud_ace_t const *ace = &f->acls[ai].aces[e];

			if (ai == v->pacl && (int)e == v->pace) return talloc_strdup(fs->ctx,
										   "UNEXPLAINED");
			if (ace->action == MUD_ACTION_ACCEPT) continue;
			w = ace_warning(fs->file, fs->rs, ai, (int)e);
			if (w && ace_eval(fs, &fs->pace[ai][e], ace, d, true) == M_YES) {
				return talloc_asprintf(fs->ctx, "earlier drop ACE: %s",
						       warn_kind(fs->ctx, w));
			}
		}
	}
	return talloc_strdup(fs->ctx, "UNEXPLAINED");
}

/** FAIL-OPEN: a label for what the compiler let through. */
static char *open_class(fstate_t const *fs, verdict_t const *v)
{
	char const *w;

	if (v->permit && v->pacl >= 0 && fs->pace[v->pacl][v->pace].unknown) {
		return talloc_asprintf(fs->ctx, "accept ACE with an unenforceable match (%s) "
				       "compiled without it", fs->pace[v->pacl][v->pace].unknown);
	}
	if (v->dacl >= 0) {
		w = ace_warning(fs->file, fs->rs, v->dacl, v->dace);
		if (w) return talloc_asprintf(fs->ctx, "drop ACE: %s", warn_kind(fs->ctx, w));
		return talloc_strdup(fs->ctx, "drop ACE not enforced (no warning)");
	}
	return talloc_asprintf(fs->ctx, "final deny not enforced (%s)",
			       v->dwhy ? v->dwhy : "?");
}

static dclass_t *class_get(int fmt, char const *kind, char const *cls, bool failure)
{
	stats_t *st = &g_stats;
	dclass_t *c;
	size_t i;

	for (i = 0; i < st->num_cls; i++) {
		c = &st->cls[i];
		if (c->fmt == fmt && strcmp(c->kind, kind) == 0 && strcmp(c->cls, cls) == 0) {
			return c;
		}
	}
	st->cls = talloc_realloc(st->ctx, st->cls, dclass_t, st->num_cls + 1);
	assert_non_null(st->cls);
	c = &st->cls[st->num_cls++];
	memset(c, 0, sizeof(*c));
	c->fmt = fmt;
	c->kind = talloc_strdup(st->ctx, kind);
	c->cls = talloc_strdup(st->ctx, cls);
	c->failure = failure;
	return c;
}

typedef struct {
	char		*cls;		//!< key: "fmt kind class"
	unsigned long	count;
} fclass_t;

/** Compare one packet under one format; returns true for a failure. */
static bool compare(fstate_t *fs, int fi, dpkt_t const *d, verdict_t const *v,
		    fclass_t **fcls, size_t *num_fcls, unsigned long *disagree)
{
	mud_eval_result_t res;
	mud_error_t err;
	char const *kind;
	char *cls;
	bool failure;
	dclass_t *c;
	size_t i;
	char *key;
	fclass_t *fc = NULL;

	mud_error_clear(&err);
	if (mud_eval_packet(fs->eacl[fi], &d->pkt, d->dir, &d->device, &res, &err) != MUD_OK) {
		fail_msg("%s: mud_eval_packet: %s: %s", fs->path, err.where, err.text);
	}
	g_stats.compared[fi]++;
	if (res.permit && v->deny) {
		if (diff_fmts[fi] == MUD_FMT_CISCO_DACL && d->dir == MUD_DIR_TO_DEVICE &&
		    res.reason == MUD_EVAL_NOT_FILTERED) {
			kind = "cisco-inbound-only";
			cls = talloc_strdup(fs->ctx, "inbound dACL does not filter to-device "
					    "packets");
			failure = false;
		} else {
			kind = "FAIL-OPEN";
			cls = open_class(fs, v);
			failure = true;
		}
	} else if (!res.permit && v->permit) {
		kind = "FAIL-CLOSED";
		cls = closed_class(fs, d, v);
		failure = strcmp(cls, "UNEXPLAINED") == 0;
	} else {
		g_stats.agree[fi]++;
		return false;
	}
	(*disagree)++;
	c = class_get(fi, kind, cls, failure);
	c->count++;

	key = talloc_asprintf(fs->ctx, "%d %s %s", fi, kind, cls);
	for (i = 0; i < *num_fcls; i++) {
		if (strcmp((*fcls)[i].cls, key) == 0) {
			fc = &(*fcls)[i];
			break;
		}
	}
	if (!fc) {
		*fcls = talloc_realloc(fs->ctx, *fcls, fclass_t, *num_fcls + 1);
		assert_non_null(*fcls);
		fc = &(*fcls)[(*num_fcls)++];
		fc->cls = talloc_steal(*fcls, key);
		fc->count = 0;
	} else {
		talloc_free(key);
	}
	fc->count++;

	if (!c->example || (failure && fc->count <= DIFF_MAX_PRINT)) {
		char ptxt[256];
		char pace[256];
		char dace[256];
		char const *line = NULL;
		unsigned int lineno = 0;
		char *says;
		char *msg;

		pkt_text(ptxt, sizeof(ptxt), d);
		ace_text(pace, sizeof(pace), fs->file, v->pacl, v->pace);
		ace_text(dace, sizeof(dace), fs->file, v->dacl, v->dace);
		says = talloc_asprintf(fs->ctx, "{%s%s%s}", v->permit ? "permit" : "",
				       v->permit && v->deny ? "," : "", v->deny ? "deny" : "");
		if (v->permit) says = talloc_asprintf_append(says, "; permit by %s", pace);
		if (v->deny) {
			says = talloc_asprintf_append(says, "; deny by %s", v->dacl >= 0 ? dace :
						      v->dwhy ? v->dwhy : "?");
		}
		if (res.reason == MUD_EVAL_MATCHED) {
			line = mud_eval_acl_line(fs->eacl[fi], res.index, &lineno);
		}
		msg = talloc_asprintf(g_stats.ctx,
				      "  file:      %s\n"
				      "  format:    %s\n"
				      "  class:     %s: %s\n"
				      "  packet:    %s\n"
				      "  file says: %s\n"
				      "  compiled:  %s, %s%s%s\n",
				      fs->path, mud_format_name(diff_fmts[fi]), kind, cls, ptxt,
				      says,
				      res.permit ? "permit" : "deny", res.why ? res.why : "",
				      line ? " " : "", line ? line : "");
		if (line) {
			msg = talloc_asprintf_append(msg, "             (line %u, index %zu)\n",
						     lineno, res.index);
		}
		talloc_free(says);
		if (!c->example) c->example = msg;
		if (failure && fc->count <= DIFF_MAX_PRINT) printf("DIFF %s\n%s", kind, msg);
		if (c->example != msg) talloc_free(msg);
	}
	return failure;
}

/** Refusals a renderer is right to make: (file label, format) with the reason. */
static bool refusal_expected(char const *label, mud_format_t fmt)
{
	static struct {
		char const	*label;
		mud_format_t	fmt;
		char const	*why;
	} const expected[] = {
		{ "stress/e-icmp-codes", MUD_FMT_NAS_FILTER_RULE,
		  "RFC 6733 IPFilterRule has icmptypes but no ICMP code" },
	};
	size_t i;

	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		if (expected[i].fmt == fmt && strcmp(expected[i].label, label) == 0) return true;
	}
	return false;
}

/** The whole differential run for one MUD file. Returns the number of failures. */
static unsigned long diff_data(TALLOC_CTX *root, char const *label, char const *data, size_t len)
{
	stats_t *st = &g_stats;
	fstate_t fs;
	char *cjson;
	mud_context_t *site = NULL;
	mud_error_t err;
	unsigned long failures = 0;
	unsigned long disagree[DIFF_NUM_FMT] = { 0, 0 };
	fclass_t *fcls = NULL;
	size_t num_fcls = 0;
	size_t n;
	int fi;
	mud_rendered_t *r[DIFF_NUM_FMT] = { NULL, NULL };

	memset(&fs, 0, sizeof(fs));
	fs.ctx = talloc_new(root);
	assert_non_null(fs.ctx);
	fs.path = label;
	fs.rng = seed_of(label);

	mud_error_clear(&err);
	if (mud_file_parse(fs.ctx, &fs.file, data, len, NULL, MUD_PARSE_LENIENT, &err) != MUD_OK) {
		st->files_refused++;
		st->refused = talloc_asprintf_append(st->refused, "  %s: %s at %s: %s\n", label,
						     mud_rcode_name(err.code), err.where,
						     err.text);
		talloc_free(fs.ctx);
		return 0;
	}
	st->files_parsed++;

	site_build(&fs);
	cjson = site_json(fs.ctx, &fs.site);
	assert_non_null(cjson);
	mud_error_clear(&err);
	if (mud_context_parse(fs.ctx, &site, cjson, strlen(cjson), &err) != MUD_OK) {
		st->files_ctx_refused++;
		printf("DIFF %s: synthetic context refused: %s at %s: %s\n%s", label,
		       mud_rcode_name(err.code), err.where, err.text, cjson);
		st->files = talloc_asprintf_append(st->files, "  %-70s context refused\n", label);
		talloc_free(fs.ctx);
		return 1;
	}

	pace_build(&fs);
	mud_error_clear(&err);
	if (mud_ruleset_compile(fs.ctx, &fs.rs, fs.file, site, NULL, NULL, &err) != MUD_OK) {
		st->files_compile_refused++;
		st->unexpected_refusals++;
		printf("DIFF %s: compile refused: %s at %s: %s\n", label, mud_rcode_name(err.code),
		       err.where, err.text);
		st->files = talloc_asprintf_append(st->files, "  %-70s compile refused: %s at "
						   "%s: %s\n", label, mud_rcode_name(err.code),
						   err.where, err.text);
		talloc_free(fs.ctx);
		return 0;
	}
	for (fi = 0; fi < DIFF_NUM_FMT; fi++) {
		mud_error_clear(&err);
		if (mud_ruleset_render(fs.ctx, &r[fi], fs.rs, diff_fmts[fi], &err) != MUD_OK ||
		    mud_eval_acl_from_rendered(fs.ctx, &fs.eacl[fi], r[fi], &err) != MUD_OK) {
			st->render_refused[fi]++;
			if (!refusal_expected(label, diff_fmts[fi])) {
				st->unexpected_refusals++;
				printf("DIFF %s: %s refused unexpectedly: %s at %s: %s\n", label,
				       mud_format_name(diff_fmts[fi]), mud_rcode_name(err.code),
				       err.where, err.text);
			}
			st->files = talloc_asprintf_append(st->files, "  %-70s %s refused: %s at "
							   "%s: %s\n", label,
							   mud_format_name(diff_fmts[fi]),
							   mud_rcode_name(err.code), err.where,
							   err.text);
			fs.eacl[fi] = NULL;
		}
	}

	pools_build(&fs);
	gen_packets(&fs);
	st->packets += fs.num_pkts;

	for (n = 0; n < fs.num_pkts; n++) {
		verdict_t v;

		interpret(&fs, &fs.pkts[n], &v);
		st->says[v.permit ? (v.deny ? 2 : 0) : 1]++;
		for (fi = 0; fi < DIFF_NUM_FMT; fi++) {
			if (!fs.eacl[fi]) continue;
			if (compare(&fs, fi, &fs.pkts[n], &v, &fcls, &num_fcls, &disagree[fi])) {
				failures++;
			}
		}
	}

	st->files = talloc_asprintf_append(st->files, "  %-70s %6zu packets, disagreements: "
					   "cisco-dacl %lu, nas-filter-rule %lu%s\n", label,
					   fs.num_pkts, disagree[0], disagree[1],
					   failures ? " FAIL" : "");
	for (n = 0; n < num_fcls; n++) {
		char const *sp = strchr(fcls[n].cls, ' ');

		fi = fcls[n].cls[0] - '0';
		st->files = talloc_asprintf_append(st->files, "      %-16s %7lu  %s\n",
						   mud_format_name(diff_fmts[fi]), fcls[n].count,
						   sp ? sp + 1 : fcls[n].cls);
	}
	talloc_free(fs.ctx);
	st->failures += failures;
	return failures;
}

static unsigned long diff_file(TALLOC_CTX *root, char const *path, char const *label)
{
	size_t len = 0;
	char *data = test_read_file(root, path, &len);
	unsigned long failures;

	if (!data) fail_msg("%s: cannot read", path);
	failures = diff_data(root, label, data, len);
	talloc_free(data);
	return failures;
}

/* ====================================================================
 *	Corpus
 * ==================================================================== */

static bool has_suffix(char const *s, char const *suffix)
{
	size_t a = strlen(s);
	size_t b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/** Files under dir: recursive (MUD files), or <dir>/<case>/input.json (cases). */
static void collect(TALLOC_CTX *ctx, char const *dir, bool recurse, bool cases, char ***out,
		    size_t *num)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) return;
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (de->d_name[0] == '.') continue;
		p = talloc_asprintf(ctx, "%s/%s", dir, de->d_name);
		if (stat(p, &sb) != 0) continue;
		if (S_ISDIR(sb.st_mode)) {
			if (cases) {
				char *in = talloc_asprintf(ctx, "%s/input.json", p);

				if (stat(in, &sb) == 0 && S_ISREG(sb.st_mode)) {
					*out = talloc_realloc(ctx, *out, char *, *num + 1);
					(*out)[(*num)++] = in;
				}
			} else if (recurse) {
				collect(ctx, p, recurse, cases, out, num);
			}
			continue;
		}
		if (cases || !S_ISREG(sb.st_mode)) continue;
		if (has_suffix(de->d_name, ".json") || has_suffix(de->d_name, ".json.save")) {
			*out = talloc_realloc(ctx, *out, char *, *num + 1);
			(*out)[(*num)++] = p;
		}
	}
	closedir(d);
}

static char const *tests_dir(TALLOC_CTX *ctx)
{
	char const *s = getenv("srcdir");

	return s ? s : test_src_path(ctx, "tests");
}

/** Run a corpus; base is cut from the labels. */
static void run_corpus(TALLOC_CTX *ctx, char const *dir, bool recurse, bool cases,
		       char const *tag)
{
	TALLOC_CTX *tmp = talloc_new(ctx);
	char **files = NULL;
	size_t num = 0;
	size_t i;
	unsigned long failures = 0;

	assert_non_null(tmp);
	collect(tmp, dir, recurse, cases, &files, &num);
	if (num == 0) {
		printf("DIFF %s: no files under %s, skipped\n", tag, dir);
		talloc_free(tmp);
		return;
	}
	qsort(files, num, sizeof(files[0]), cmp_str);
	for (i = 0; i < num; i++) {
		char const *label = files[i] + strlen(dir);
		char *l = talloc_asprintf(tmp, "%s%s", tag, label);

		failures += diff_file(tmp, files[i], l);
		talloc_free(l);
	}
	talloc_free(tmp);
	if (failures) fail_msg("%s: %lu failing comparisons (see DIFF lines above)", tag, failures);
}

/* ====================================================================
 *	Tests
 * ==================================================================== */

/*
 *	Stress files: the public corpus has no reject, no ICMPv6, no device-side drop and no
 *	unenforceable drop followed by an overlapping accept, so a compiler that got those wrong
 *	would pass it. These files hold such patterns (generated once, kept compact).
 */
/* drops before overlapping accepts (MAC, unknown match, DSCP, device side, reject,
 * protocol 0); ICMP, port operators, abstractions, names */
static char const stress_a[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://stress.example.com"
	"/a\",\"last-update\":\"2024-06-01T00:00:00+00:00\",\"cache-validity\":48,\"is-"
	"supported\":true,\"systeminfo\":\"differential test stress file\",\"extensio"
	"ns\":[\"ietf-mud-tls\"],\"from-device-policy\":{\"access-lists\":{\"access-lis"
	"t\":[{\"name\":\"fa\"},{\"name\":\"fb\"}]}},\"to-device-policy\":{\"access-lists\":"
	"{\"access-list\":[{\"name\":\"ta\"}]}}},\"ietf-access-control-list:acls\":{\"ac"
	"l\":[{\"name\":\"fa\",\"type\":\"mixed-eth-ipv4-ipv6-acl-type\",\"aces\":{\"ace\":["
	"{\"name\":\"mac-drop\",\"matches\":{\"eth\":{\"destination-mac-address\":\"01:00:"
	"5e:00:00:fb\"},\"udp\":{\"destination-port\":{\"operator\":\"eq\",\"port\":5353}}"
	"},\"actions\":{\"forwarding\":\"drop\"}},{\"name\":\"tls-drop\",\"matches\":{\"tcp\""
	":{\"destination-port\":{\"operator\":\"eq\",\"port\":8443}},\"ietf-mud-tls:clie"
	"nt-profile\":{\"tls-dtls-profiles\":[{\"supported-tls-version\":\"tls13\"}]}}"
	",\"actions\":{\"forwarding\":\"drop\"}},{\"name\":\"dscp-drop\",\"matches\":{\"ipv4"
	"\":{\"dscp\":46,\"protocol\":17}},\"actions\":{\"forwarding\":\"drop\"}},{\"name\":"
	"\"dev-drop\",\"matches\":{\"ipv4\":{\"source-ipv4-network\":\"192.168.1.192/26\""
	"},\"tcp\":{\"destination-port\":{\"operator\":\"eq\",\"port\":22}}},\"actions\":{\""
	"forwarding\":\"drop\"}},{\"name\":\"reject-smtp\",\"matches\":{\"ipv6\":{\"protoco"
	"l\":6},\"tcp\":{\"destination-port\":{\"operator\":\"eq\",\"port\":25}}},\"actions"
	"\":{\"forwarding\":\"reject\"}},{\"name\":\"hopopt-drop\",\"matches\":{\"ipv4\":{\"p"
	"rotocol\":0,\"destination-ipv4-network\":\"203.0.113.0/24\"}},\"actions\":{\"f"
	"orwarding\":\"drop\"}},{\"name\":\"ping6\",\"matches\":{\"ipv6\":{\"protocol\":58},"
	"\"icmp\":{\"type\":128}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"ping4"
	"\",\"matches\":{\"ipv4\":{\"protocol\":1},\"icmp\":{\"type\":8}},\"actions\":{\"forw"
	"arding\":\"accept\"}},{\"name\":\"local-not-dns\",\"matches\":{\"ietf-mud:mud\":{"
	"\"local-networks\":[null]},\"udp\":{\"destination-port\":{\"operator\":\"neq\",\""
	"port\":53}}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"mfg-low\",\"matc"
	"hes\":{\"ietf-mud:mud\":{\"same-manufacturer\":[null]},\"tcp\":{\"ietf-mud:dir"
	"ection-initiated\":\"to-device\",\"destination-port\":{\"operator\":\"lte\",\"po"
	"rt\":1024}}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"mfg-and-ctl\",\""
	"matches\":{\"ietf-mud:mud\":{\"manufacturer\":\"other.example.org\",\"controll"
	"er\":\"https://ctl.example.com/x\"},\"tcp\":{\"destination-port\":{\"lower-por"
	"t\":8000,\"upper-port\":8500}}},\"actions\":{\"forwarding\":\"accept\"}},{\"name"
	"\":\"name-and-net\",\"matches\":{\"ipv4\":{\"ietf-acldns:dst-dnsname\":\"api.str"
	"ess.example.com\",\"destination-ipv4-network\":\"198.51.100.0/30\"},\"udp\":{"
	"\"source-port\":{\"operator\":\"gte\",\"port\":40000}}},\"actions\":{\"forwarding"
	"\":\"accept\"}},{\"name\":\"doc-net\",\"matches\":{\"ipv4\":{\"destination-ipv4-ne"
	"twork\":\"203.0.113.0/25\"}},\"actions\":{\"forwarding\":\"accept\"}}]}},{\"name"
	"\":\"fb\",\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"model\",\"matches\""
	":{\"ietf-mud:mud\":{\"model\":\"https://stress.example.com/peer-model\"},\"ip"
	"v4\":{\"protocol\":17}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"myctl"
	"\",\"matches\":{\"ietf-mud:mud\":{\"my-controller\":[null]},\"ipv4\":{\"protocol"
	"\":6},\"tcp\":{\"ietf-mud:direction-initiated\":\"from-device\",\"source-port\""
	":{\"operator\":\"lte\",\"port\":2000}}},\"actions\":{\"forwarding\":\"accept\"}}]}"
	"},{\"name\":\"ta\",\"type\":\"mixed-eth-ipv4-ipv6-acl-type\",\"aces\":{\"ace\":[{\""
	"name\":\"api-in\",\"matches\":{\"ipv6\":{\"ietf-acldns:src-dnsname\":\"api.stres"
	"s.example.com\",\"protocol\":6},\"tcp\":{\"ietf-mud:direction-initiated\":\"fr"
	"om-device\",\"source-port\":{\"operator\":\"eq\",\"port\":443}}},\"actions\":{\"fo"
	"rwarding\":\"accept\"}},{\"name\":\"dev-net-drop\",\"matches\":{\"ipv4\":{\"destin"
	"ation-ipv4-network\":\"192.168.1.128/25\",\"protocol\":17}},\"actions\":{\"for"
	"warding\":\"drop\"}},{\"name\":\"ctl-in\",\"matches\":{\"ietf-mud:mud\":{\"control"
	"ler\":\"https://ctl.example.com/x\"},\"udp\":{\"destination-port\":{\"operator"
	"\":\"gte\",\"port\":1000}}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"ech"
	"o-reply\",\"matches\":{\"icmp\":{\"type\":0}},\"actions\":{\"forwarding\":\"accept"
	"\"}},{\"name\":\"mfg-in\",\"matches\":{\"ietf-mud:mud\":{\"manufacturer\":\"other."
	"example.org\"},\"tcp\":{\"ietf-mud:direction-initiated\":\"to-device\"}},\"act"
	"ions\":{\"forwarding\":\"accept\"}}]}}]}}";

/* eth-only drops, broad accepts, untyped ACL, unknown match and MAC accepts */
static char const stress_b[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://stress.example.com"
	"/b\",\"last-update\":\"2024-06-01T00:00:00+00:00\",\"cache-validity\":48,\"is-"
	"supported\":true,\"systeminfo\":\"differential test stress file\",\"extensio"
	"ns\":[\"ietf-mud-tls\"],\"from-device-policy\":{\"access-lists\":{\"access-lis"
	"t\":[{\"name\":\"fb1\"}]}},\"to-device-policy\":{\"access-lists\":{\"access-list"
	"\":[{\"name\":\"tb1\"}]}}},\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":"
	"\"fb1\",\"type\":\"mixed-eth-ipv4-ipv6-acl-type\",\"aces\":{\"ace\":[{\"name\":\"v6"
	"-off\",\"matches\":{\"eth\":{\"ethertype\":34525}},\"actions\":{\"forwarding\":\"d"
	"rop\"}},{\"name\":\"arp-off\",\"matches\":{\"eth\":{\"ethertype\":2054}},\"actions"
	"\":{\"forwarding\":\"drop\"}},{\"name\":\"all4\",\"matches\":{\"ipv4\":{\"destinatio"
	"n-ipv4-network\":\"0.0.0.0/0\"}},\"actions\":{\"forwarding\":\"accept\"}},{\"nam"
	"e\":\"all6\",\"matches\":{\"ipv6\":{\"destination-ipv6-network\":\"::/0\"}},\"acti"
	"ons\":{\"forwarding\":\"accept\"}}]}},{\"name\":\"tb1\",\"aces\":{\"ace\":[{\"name\":"
	"\"no-telnet\",\"matches\":{\"tcp\":{\"source-port\":{\"operator\":\"eq\",\"port\":23"
	"}}},\"actions\":{\"forwarding\":\"drop\"}},{\"name\":\"low-ports\",\"matches\":{\"t"
	"cp\":{\"source-port\":{\"operator\":\"lte\",\"port\":1000}}},\"actions\":{\"forwar"
	"ding\":\"accept\"}},{\"name\":\"tls-udp\",\"matches\":{\"udp\":{\"destination-port"
	"\":{\"operator\":\"eq\",\"port\":9999}},\"ietf-mud-tls:client-profile\":{\"tls-d"
	"tls-profiles\":[{\"supported-tls-version\":\"tls13\"}]}},\"actions\":{\"forwar"
	"ding\":\"accept\"}},{\"name\":\"mac-udp\",\"matches\":{\"eth\":{\"source-mac-addre"
	"ss\":\"00:11:22:33:44:55\"},\"udp\":{\"destination-port\":{\"operator\":\"eq\",\"p"
	"ort\":9998}}},\"actions\":{\"forwarding\":\"accept\"}}]}}]}}";

/* is-supported false */
static char const stress_c[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://stress.example.com"
	"/c\",\"last-update\":\"2024-06-01T00:00:00+00:00\",\"cache-validity\":48,\"is-"
	"supported\":false,\"systeminfo\":\"differential test stress file\",\"from-de"
	"vice-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"fc\"}]}},\"to-devi"
	"ce-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"fc\"}]}}},\"ietf-acc"
	"ess-control-list:acls\":{\"acl\":[{\"name\":\"fc\",\"type\":\"ipv4-acl-type\",\"ac"
	"es\":{\"ace\":[{\"name\":\"all\",\"matches\":{\"ipv4\":{\"destination-ipv4-network"
	"\":\"0.0.0.0/0\"}},\"actions\":{\"forwarding\":\"accept\"}}]}}]}}";

/* ICMP types, untyped and inferred ACLs */
static char const stress_d[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://stress.example.com"
	"/d\",\"last-update\":\"2024-06-01T00:00:00+00:00\",\"cache-validity\":48,\"is-"
	"supported\":true,\"systeminfo\":\"differential test stress file\",\"from-dev"
	"ice-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"fd\"}]}},\"to-devic"
	"e-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"td\"}]}}},\"ietf-acce"
	"ss-control-list:acls\":{\"acl\":[{\"name\":\"fd\",\"aces\":{\"ace\":[{\"name\":\"unr"
	"each\",\"matches\":{\"icmp\":{\"type\":3}},\"actions\":{\"forwarding\":\"accept\"}}"
	",{\"name\":\"ping\",\"matches\":{\"icmp\":{\"type\":8}},\"actions\":{\"forwarding\":"
	"\"accept\"}}]}},{\"name\":\"td\",\"aces\":{\"ace\":[{\"name\":\"unreach\",\"matches\":"
	"{\"icmp\":{\"type\":3}},\"actions\":{\"forwarding\":\"drop\"}},{\"name\":\"any-icmp"
	"6\",\"matches\":{\"ipv6\":{\"protocol\":58}},\"actions\":{\"forwarding\":\"accept\""
	"}}]}}]}}";

/* ICMP codes (a NAS-Filter-Rule cannot say them: only cisco-dacl is compared) */
static char const stress_e[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://stress.example.com"
	"/e\",\"last-update\":\"2024-06-01T00:00:00+00:00\",\"cache-validity\":48,\"is-"
	"supported\":true,\"systeminfo\":\"differential test stress file\",\"from-dev"
	"ice-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"fe\"}]}},\"to-devic"
	"e-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"te\"}]}}},\"ietf-acce"
	"ss-control-list:acls\":{\"acl\":[{\"name\":\"fe\",\"aces\":{\"ace\":[{\"name\":\"unr"
	"each\",\"matches\":{\"icmp\":{\"type\":3,\"code\":4}},\"actions\":{\"forwarding\":\""
	"accept\"}},{\"name\":\"ping\",\"matches\":{\"icmp\":{\"type\":8,\"code\":0}},\"actio"
	"ns\":{\"forwarding\":\"accept\"}}]}},{\"name\":\"te\",\"type\":\"mixed-eth-ipv4-ip"
	"v6-acl-type\",\"aces\":{\"ace\":[{\"name\":\"reply\",\"matches\":{\"icmp\":{\"type\":"
	"0,\"code\":0}},\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"reply6\",\"matc"
	"hes\":{\"ipv6\":{\"protocol\":58},\"icmp\":{\"type\":129,\"code\":0}},\"actions\":{"
	"\"forwarding\":\"accept\"}}]}}]}}";

static void test_diff_stress(void **state)
{
	static struct {
		char const	*label;
		char const	*json;
	} const files[] = {
		{ "stress/a-drops-before-accepts", stress_a },
		{ "stress/b-eth-and-untyped", stress_b },
		{ "stress/c-not-supported", stress_c },
		{ "stress/d-icmp-types", stress_d },
		{ "stress/e-icmp-codes", stress_e },
	};
	void *ctx = *state;
	unsigned long failures = 0;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		failures += diff_data(ctx, files[i].label, files[i].json, strlen(files[i].json));
	}
	if (failures) fail_msg("stress: %lu failing comparisons (see DIFF lines above)", failures);
}

static void test_diff_shared(void **state)
{
	void *ctx = *state;
	char const *shared = getenv("SHARED_DIR");
	char *dir;
	struct stat sb;

	if (!shared || !shared[0]) {
		printf("DIFF shared: SHARED_DIR unset, skipped\n");
		return;
	}
	dir = talloc_asprintf(ctx, "%s/mudfiles", shared);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		printf("DIFF shared: %s missing, skipped\n", dir);
		talloc_free(dir);
		return;
	}
	run_corpus(ctx, dir, true, false, "mudfiles");
	talloc_free(dir);
}

static void test_diff_valid(void **state)
{
	void *ctx = *state;
	char *dir = talloc_asprintf(ctx, "%s/data/valid", tests_dir(ctx));

	run_corpus(ctx, dir, false, true, "valid");
	talloc_free(dir);
}

static void test_diff_realworld(void **state)
{
	void *ctx = *state;
	char *dir = talloc_asprintf(ctx, "%s/data/realworld", tests_dir(ctx));

	run_corpus(ctx, dir, false, false, "realworld");
	talloc_free(dir);
}

/** The oracle itself, on a hand-written file whose verdicts are known. */
static char const oracle_json[] =
	"{ \"ietf-mud:mud\": { \"mud-version\": 1,\n"
	"  \"mud-url\": \"https://lighting.example.com/bulb\",\n"
	"  \"last-update\": \"2024-01-01T00:00:00+00:00\", \"cache-validity\": 48,\n"
	"  \"is-supported\": true, \"systeminfo\": \"bulb\",\n"
	"  \"from-device-policy\": { \"access-lists\": { \"access-list\": "
	"[ { \"name\": \"fr\" } ] } },\n"
	"  \"to-device-policy\": { \"access-lists\": { \"access-list\": "
	"[ { \"name\": \"to\" } ] } }\n"
	" },\n"
	" \"ietf-access-control-list:acls\": { \"acl\": [\n"
	"  { \"name\": \"fr\", \"type\": \"ipv4-acl-type\", \"aces\": { \"ace\": [\n"
	"   { \"name\": \"no-telnet\", \"matches\": { \"tcp\": { \"destination-port\": "
	"{ \"operator\": \"eq\", \"port\": 23 } } }, \"actions\": { \"forwarding\": \"drop\" } },\n"
	"   { \"name\": \"cloud\", \"matches\": { \"ipv4\": { \"ietf-acldns:dst-dnsname\": "
	"\"cloud.example.com\" }, \"tcp\": { \"ietf-mud:direction-initiated\": \"from-device\", "
	"\"destination-port\": { \"lower-port\": 443, \"upper-port\": 444 } } }, "
	"\"actions\": { \"forwarding\": \"accept\" } },\n"
	"   { \"name\": \"mfg\", \"matches\": { \"ietf-mud:mud\": "
	"{ \"same-manufacturer\": [null] } "
	"}, \"actions\": { \"forwarding\": \"accept\" } }\n"
	"  ] } },\n"
	"  { \"name\": \"to\", \"type\": \"ipv4-acl-type\", \"aces\": { \"ace\": [\n"
	"   { \"name\": \"cloud\", \"matches\": { \"ipv4\": { \"ietf-acldns:src-dnsname\": "
	"\"cloud.example.com\" }, \"tcp\": { \"ietf-mud:direction-initiated\": \"from-device\", "
	"\"source-port\": { \"lower-port\": 443, \"upper-port\": 444 } } }, "
	"\"actions\": { \"forwarding\": \"accept\" } }\n"
	"  ] } }\n"
	" ] } }\n";

static void oracle_pkt(dpkt_t *d, mud_dir_t dir, char const *peer, int proto, uint16_t dev_port,
		       uint16_t peer_port, uint8_t flags)
{
	mud_prefix_t p;
	mud_error_t err;
	uint8_t dev[16];

	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, peer, false, &err), MUD_OK);
	default_device(p.family, dev);
	memset(d, 0, sizeof(*d));
	d->dir = dir;
	d->pkt.family = p.family;
	d->pkt.protocol = proto;
	d->pkt.tcp_flags = flags;
	if (dir == MUD_DIR_FROM_DEVICE) {
		memcpy(d->pkt.src, dev, 16);
		memcpy(d->pkt.dst, p.addr, 16);
		d->pkt.src_port = dev_port;
		d->pkt.dst_port = peer_port;
	} else {
		memcpy(d->pkt.dst, dev, 16);
		memcpy(d->pkt.src, p.addr, 16);
		d->pkt.dst_port = dev_port;
		d->pkt.src_port = peer_port;
	}
	d->device.family = p.family;
	d->device.len = p.family == 4 ? 32 : 128;
	memcpy(d->device.addr, dev, 16);
}

static void oracle_expect(fstate_t const *fs, dpkt_t const *d, bool permit, int acl, int ace)
{
	verdict_t v;
	char buf[256];

	interpret(fs, d, &v);
	pkt_text(buf, sizeof(buf), d);
	if (v.permit != permit || v.deny != !permit ||
	    (acl >= 0 && (permit ? v.pacl != acl || v.pace != ace : v.dacl != acl ||
			  v.dace != ace))) {
		fail_msg("oracle: %s: got {%s%s} by %d/%d", buf, v.permit ? "permit " : "",
			 v.deny ? "deny" : "", permit ? v.pacl : v.dacl, permit ? v.pace : v.dace);
	}
}

static void test_diff_oracle(void **state)
{
	void *ctx = *state;
	fstate_t fs;
	mud_error_t err;
	dpkt_t d;
	char cloud[64];
	char mfg[64];
	int ent;

	memset(&fs, 0, sizeof(fs));
	fs.ctx = talloc_new(ctx);
	fs.path = "oracle";
	mud_error_clear(&err);
	assert_int_equal(mud_file_parse(fs.ctx, &fs.file, oracle_json, strlen(oracle_json), NULL,
					MUD_PARSE_STRICT, &err), MUD_OK);
	site_build(&fs);
	pace_build(&fs);

	ent = site_find(&fs.site, ENT_DNS, "cloud.example.com");
	assert_true(ent >= 0);
	addr_text(cloud, sizeof(cloud), 4, fs.site.e[ent].p[0].addr);
	ent = site_find(&fs.site, ENT_MFG, "lighting.example.com");
	assert_true(ent >= 0);
	addr_text(mfg, sizeof(mfg), 4, fs.site.e[ent].p[0].addr);
	mfg[strlen(mfg) - 1] = '9';	/* x.y.z.0 -> x.y.z.9, inside the /24 */

	/* device opens https to the cloud: permitted, both ways */
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, cloud, 6, 49152, 443, MUD_TCP_SYN);
	oracle_expect(&fs, &d, true, 0, 1);
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, cloud, 6, 49152, 444, MUD_TCP_ACK);
	oracle_expect(&fs, &d, true, 0, 1);
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, cloud, 6, 49152, 445, MUD_TCP_SYN);
	oracle_expect(&fs, &d, false, -1, -1);
	oracle_pkt(&d, MUD_DIR_TO_DEVICE, cloud, 6, 49152, 443, MUD_TCP_SYN | MUD_TCP_ACK);
	oracle_expect(&fs, &d, true, 1, 0);
	/* the cloud must not open a connection to the device */
	oracle_pkt(&d, MUD_DIR_TO_DEVICE, cloud, 6, 49152, 443, MUD_TCP_SYN);
	oracle_expect(&fs, &d, false, -1, -1);
	oracle_pkt(&d, MUD_DIR_TO_DEVICE, cloud, 6, 49152, 443, MUD_TCP_RST);
	oracle_expect(&fs, &d, true, 1, 0);
	/* telnet is dropped before same-manufacturer permits it */
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, mfg, 6, 49152, 23, MUD_TCP_SYN);
	oracle_expect(&fs, &d, false, 0, 0);
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, mfg, 17, 49152, 23, 0);
	oracle_expect(&fs, &d, true, 0, 2);
	/* the ACL is ipv4-acl-type: IPv6 never matches; the to-device ACL has no mfg ACE */
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, "fd00:20::9", 17, 49152, 23, 0);
	oracle_expect(&fs, &d, false, -1, -1);
	oracle_pkt(&d, MUD_DIR_TO_DEVICE, mfg, 17, 49152, 23, 0);
	oracle_expect(&fs, &d, false, -1, -1);
	/* a peer just outside the name's addresses */
	cloud[strlen(cloud) - 1]++;
	oracle_pkt(&d, MUD_DIR_FROM_DEVICE, cloud, 6, 49152, 443, MUD_TCP_SYN);
	oracle_expect(&fs, &d, false, -1, -1);

	talloc_free(fs.ctx);
}

static void test_diff_summary(void **state)
{
	stats_t const *st = &g_stats;
	unsigned long fails = 0;
	size_t i;
	int fi;

	(void)state;
	printf("\n================ test_diff summary ================\n");
	printf("files parsed: %u, refused by the parser: %u, context refused: %u, "
	       "compile refused: %u, render refused: cisco-dacl %u, nas-filter-rule %u\n",
	       st->files_parsed, st->files_refused, st->files_ctx_refused,
	       st->files_compile_refused, st->render_refused[0], st->render_refused[1]);
	if (st->refused && st->refused[0]) printf("refused by the parser:\n%s", st->refused);
	printf("packets generated: %lu; the interpreter says permit %lu, deny %lu, "
	       "either (unknown match) %lu\n", st->packets, st->says[0], st->says[1],
	       st->says[2]);
	for (fi = 0; fi < DIFF_NUM_FMT; fi++) {
		printf("%-16s compared %8lu, agree %8lu, disagree %8lu\n",
		       mud_format_name(diff_fmts[fi]), st->compared[fi], st->agree[fi],
		       st->compared[fi] - st->agree[fi]);
	}
	printf("disagreements by class (F = failure):\n");
	for (fi = 0; fi < DIFF_NUM_FMT; fi++) {
		for (i = 0; i < st->num_cls; i++) {
			dclass_t const *c = &st->cls[i];

			if (c->fmt != fi) continue;
			printf("  %s %-16s %-19s %8lu  %s\n", c->failure ? "F" : " ",
			       mud_format_name(diff_fmts[fi]), c->kind, c->count, c->cls);
			if (c->failure) fails += c->count;
		}
	}
	printf("failing comparisons: %lu; unexpected compile/render refusals: %u\n", fails,
	       st->unexpected_refusals);
	printf("per file:\n%s", st->files ? st->files : "");
	printf("one example per class:\n");
	for (i = 0; i < st->num_cls; i++) {
		printf("[%s%s]\n%s", st->cls[i].failure ? "FAILURE " : "", st->cls[i].kind,
		       st->cls[i].example ? st->cls[i].example : "");
	}
	printf("===================================================\n");
	/* a valid file the compiler or a renderer refuses is a bug, unless listed */
	if (st->unexpected_refusals) {
		fail_msg("%u unexpected compile/render refusals (see DIFF lines above)",
			 st->unexpected_refusals);
	}
}

static int group_setup(void **state)
{
	(void)state;
	memset(&g_stats, 0, sizeof(g_stats));
	g_stats.ctx = talloc_new(NULL);
	if (!g_stats.ctx) return -1;
	g_stats.files = talloc_strdup(g_stats.ctx, "");
	g_stats.refused = talloc_strdup(g_stats.ctx, "");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	talloc_free(g_stats.ctx);
	memset(&g_stats, 0, sizeof(g_stats));
	return 0;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup_ctx, test_teardown_ctx)
	const struct CMUnitTest tests[] = {
		T(test_diff_oracle),
		T(test_diff_shared),
		T(test_diff_valid),
		T(test_diff_realworld),
		T(test_diff_stress),
		T(test_diff_summary),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
