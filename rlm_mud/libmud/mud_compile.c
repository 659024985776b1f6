/*
 * mud_compile.c - MUD file + site context -> rule set (the IR the renderers
 * and the evaluator consume).
 *
 * Semantics (docs/context.md, "How a MUD file is compiled"):
 *  - from-device-policy ACLs give MUD_DIR_FROM_DEVICE rules: the ACE's
 *    destination describes the peer, its source port is the device's port;
 *    to-device-policy ACLs give MUD_DIR_TO_DEVICE rules: the ACE's source
 *    describes the peer, its destination port is the device's port;
 *  - policies, ACLs and ACEs keep their order (first match wins), each ACL
 *    is looked up by its own name;
 *  - abstractions and DNS names become one rule per peer prefix; what cannot
 *    be resolved or enforced at L3 yields no rule and a warning, never a
 *    broader permission;
 *  - explicit final denies close every direction that has a policy.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mud_private.h"

/** JSON pointer of an ACE in the MUD file (indexes into file->acls / acl->aces). */
#define ACE_WHERE_FMT		"/ietf-access-control-list:acls/acl/%zu/aces/ace/%zu"

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd

/** RFC 8520 section 8 well-known controller classes. */
#define MUD_URN_DNS		"urn:ietf:params:mud:dns"
#define MUD_URN_NTP		"urn:ietf:params:mud:ntp"

/** Family set bits. */
#define FAM4			0x1
#define FAM6			0x2

/** ACL name label: NAS dACL names are short; 32 leaves room for prefix and hash. */
#define NAME_LABEL_MAX		32

/** RFC 1035 section 2.3.4: a domain name is at most 253 characters as text. */
#define DNS_NAME_MAX		253

/** Peer prefixes of one ACE: the intersection of its peer constraints
 *  (network, DNS name, abstraction), each at most MUD_MAX_ADDRS_PER_NAME. */
#define PEERSET_MAX		(MUD_MAX_ADDRS_PER_NAME * MUD_MAX_ADDRS_PER_NAME)

typedef struct {
	bool		any;		//!< no constraint yet (any peer)
	bool		overflow;	//!< more than PEERSET_MAX prefixes (an error)
	size_t		num;
	mud_prefix_t	p[PEERSET_MAX];
} peerset_t;

/** Resolved DNS names, so each name is resolved once per compile. */
typedef struct {
	char		*name;
	int		family;
	size_t		num;
	uint32_t	ttl;		//!< resolver answers: smallest TTL (s); 0: static/literal
	mud_prefix_t	addrs[MUD_MAX_ADDRS_PER_NAME];
} dns_entry_t;

typedef struct {
	TALLOC_CTX		*tmp;
	mud_ruleset_t		*rs;
	mud_file_t const	*file;
	mud_context_t const	*site;		//!< may be NULL (empty context)
	mud_resolve_t		resolve;
	void			*uctx;
	char const		*host;		//!< device's MUD URL host, NULL if unknown
	size_t			reserve;	//!< rules kept free for the final denies
	size_t			cap;		//!< allocated length of rs->rules
	dns_entry_t		*dns;
	size_t			num_dns;
	mud_error_t		*err;
} cstate_t;

static char const *fam_label(unsigned int fams)
{
	if (fams == (FAM4 | FAM6)) return "IPv4/IPv6";
	if (fams == FAM6) return "IPv6";
	return "IPv4";
}

static unsigned int fam_bit(int family)
{
	return family == 6 ? FAM6 : FAM4;
}

static void warn(cstate_t *s, char const *where, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn(cstate_t *s, char const *where, char const *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mudp_warn(s->rs, &s->rs->warnings, &s->rs->num_warnings, NULL, where, "%s", buf);
}

/** Escape an untrusted string for a warning, bounded. */
static void esc(char *out, size_t outlen, char const *in)
{
	mudp_escape(out, outlen, in ? in : "", in ? strlen(in) : 0);
}

/** Host names equal, ignoring case and one trailing dot on either. */
static bool host_eq(char const *a, char const *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t i;

	if (la && a[la - 1] == '.') la--;
	if (lb && b[lb - 1] == '.') lb--;
	if (la != lb || la == 0) return false;
	for (i = 0; i < la; i++) {
		char ca = a[i];
		char cb = b[i];

		if (ca >= 'A' && ca <= 'Z') ca = (char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z') cb = (char)(cb - 'A' + 'a');
		if (ca != cb) return false;
	}
	return true;
}

static bool prefix_equal(mud_prefix_t const *a, mud_prefix_t const *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/** Does prefix a contain prefix b (same family, a->len <= b->len, b inside a)? */
static bool prefix_contains(mud_prefix_t const *a, mud_prefix_t const *b)
{
	unsigned int full;
	unsigned int rem;

	if (a->family != b->family || a->len > b->len) return false;
	full = a->len / 8u;
	rem = a->len % 8u;
	if (memcmp(a->addr, b->addr, full) != 0) return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8u - rem));

		if ((a->addr[full] & mask) != (b->addr[full] & mask)) return false;
	}
	return true;
}

/** Add a prefix to a set unless present. */
static void peerset_add(peerset_t *ps, mud_prefix_t const *p)
{
	size_t i;

	for (i = 0; i < ps->num; i++) {
		if (prefix_equal(&ps->p[i], p)) return;
	}
	if (ps->num < PEERSET_MAX) {
		ps->p[ps->num++] = *p;
	} else {
		ps->overflow = true;
	}
}

/** Narrow ps to its intersection with list (only families in fams). The
 *  intersection of two prefixes is the longer one when one holds the other. */
static void peerset_narrow(peerset_t *ps, mud_prefix_t const *list, size_t num, unsigned int fams)
{
	peerset_t out;
	size_t i;
	size_t j;

	out.any = false;
	out.overflow = ps->overflow;
	out.num = 0;
	for (j = 0; j < num; j++) {
		if (!(fam_bit(list[j].family) & fams)) continue;
		if (ps->any) {
			peerset_add(&out, &list[j]);
			continue;
		}
		for (i = 0; i < ps->num; i++) {
			if (prefix_contains(&ps->p[i], &list[j])) {
				peerset_add(&out, &list[j]);
			} else if (prefix_contains(&list[j], &ps->p[i])) {
				peerset_add(&out, &ps->p[i]);
			}
		}
	}
	*ps = out;
}

/** A DNS name we are willing to hand to a resolver. */
static bool dns_name_ok(char const *name)
{
	size_t n = strlen(name);
	size_t i;

	if (n == 0 || n > DNS_NAME_MAX + 1 || name[0] == '.') return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
		if (c >= '0' && c <= '9') continue;
		if (c == '-' || c == '_') continue;
		if (c == '.' && name[i + 1] != '.') continue;
		return false;
	}
	return true;
}

/** Addresses of one family for a DNS name: static map first, then (when the
 *  context allows resolution and the name is not in the map) the caller's resolver
 *  hook; without a hook, dns_prefetch() has already resolved every name.
 *  Returns the cached entry, or NULL on allocation failure. */
static dns_entry_t const *dns_lookup(cstate_t *s, char const *name, int family)
{
	mud_prefix_t got[MUD_MAX_ADDRS_PER_NAME];
	dns_entry_t *e;
	dns_entry_t *n;
	size_t i;
	int cnt = 0;
	bool in_map = false;

	memset(got, 0, sizeof(got));
	for (i = 0; i < s->num_dns; i++) {
		if (s->dns[i].family == family && host_eq(s->dns[i].name, name)) return &s->dns[i];
	}
	n = talloc_realloc(s->tmp, s->dns, dns_entry_t, s->num_dns + 1);
	if (!n) return NULL;
	s->dns = n;
	e = &s->dns[s->num_dns];
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->name = talloc_strdup(s->dns, name);
	if (!e->name) return NULL;
	s->num_dns++;

	if (s->site) {
		for (i = 0; i < s->site->num_dns; i++) {
			mud_ctx_dns_t const *d = &s->site->dns[i];
			size_t j;

			if (!host_eq(d->name, name)) continue;
			in_map = true;
			for (j = 0; j < d->addrs.num; j++) {
				if (d->addrs.prefixes[j].family != family) continue;
				if (e->num >= MUD_MAX_ADDRS_PER_NAME) break;
				e->addrs[e->num++] = d->addrs.prefixes[j];
			}
			break;
		}
	}
	if (in_map) return e;

	/* ietf-acldns names are inet:host, which includes address literals. */
	if (inet_pton(AF_INET, name, got[0].addr) == 1) {
		if (family == 4) {
			got[0].family = 4;
			got[0].len = 32;
			e->addrs[e->num++] = got[0];
		}
		return e;
	}
	if (inet_pton(AF_INET6, name, got[0].addr) == 1) {
		if (family == 6) {
			got[0].family = 6;
			got[0].len = 128;
			e->addrs[e->num++] = got[0];
		}
		return e;
	}

	if (s->site && !s->site->dns_resolve) return e;
	if (!dns_name_ok(name)) return e;

	if (!s->resolve) return e;	/* the batch (dns_prefetch) resolved every name */
	cnt = s->resolve(s->uctx, name, family, got, MUD_ARRAY_LEN(got));
	if (cnt < 0) cnt = 0;
	if ((size_t)cnt > MUD_ARRAY_LEN(got)) cnt = (int)MUD_ARRAY_LEN(got);

	for (i = 0; i < (size_t)cnt; i++) {
		mud_prefix_t p = got[i];
		size_t j;
		bool dup = false;

		/* A resolver gives addresses: never let it widen a rule to a prefix. */
		if (p.family != family) continue;
		p.len = family == 4 ? 32 : 128;
		if (family == 4) memset(p.addr + 4, 0, 12);
		for (j = 0; j < e->num; j++) {
			if (prefix_equal(&e->addrs[j], &p)) dup = true;
		}
		if (!dup) e->addrs[e->num++] = p;
	}
	return e;
}

/** Find an ACL by its own name; index in *idx. */
static mud_acl_t const *acl_find(mud_file_t const *file, char const *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < file->num_acls; i++) {
		if (file->acls[i].name && strcmp(file->acls[i].name, name) == 0) {
			*idx = i;
			return &file->acls[i];
		}
	}
	return NULL;
}

/** Append a rule (strings copied under the rule set). */
static mud_rcode_t rule_add(cstate_t *s, mud_rule_t const *r, char const *origin,
			    char const *peer_name, char const *where)
{
	mud_ruleset_t *rs = s->rs;
	mud_rule_t *dst;

	if (rs->num_rules + s->reserve >= MUD_MAX_RULES) {
		return mud_error_set(s->err, MUD_ERR_LIMIT, where,
				     "more than %d compiled rules", MUD_MAX_RULES);
	}
	if (rs->num_rules == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		mud_rule_t *n;

		if (ncap > MUD_MAX_RULES) ncap = MUD_MAX_RULES;
		n = talloc_realloc(rs, rs->rules, mud_rule_t, ncap);
		if (!n) return mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
		rs->rules = n;
		s->cap = ncap;
	}
	dst = &rs->rules[rs->num_rules];
	*dst = *r;
	dst->origin = talloc_strdup(rs, origin);
	dst->peer_name = peer_name ? talloc_strdup(rs, peer_name) : NULL;
	if (!dst->origin || (peer_name && !dst->peer_name)) {
		talloc_free(dst->origin);
		talloc_free(dst->peer_name);
		return mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
	}
	rs->num_rules++;
	return MUD_OK;
}

/** IP families an ACE applies to, from the ACL type and the ACE's L3 container.
 *  0 when the ACE cannot match IP at all; *conflict when the two disagree. */
static unsigned int ace_families(mud_acl_type_t type, mud_l3_t l3, bool *conflict)
{
	unsigned int allowed = 0;

	*conflict = false;
	switch (type) {
	case MUD_ACL_TYPE_IPV4:
	case MUD_ACL_TYPE_MIXED_ETH_IPV4:
		allowed = FAM4;
		break;
	case MUD_ACL_TYPE_IPV6:
	case MUD_ACL_TYPE_MIXED_ETH_IPV6:
		allowed = FAM6;
		break;
	case MUD_ACL_TYPE_NONE:
	case MUD_ACL_TYPE_MIXED_ALL:
		allowed = FAM4 | FAM6;
		break;
	case MUD_ACL_TYPE_ETH:
		/* IP packets are Ethernet frames too: the ACE's ethertype narrows (ace_eth) */
		allowed = FAM4 | FAM6;
		break;
	}
	switch (l3) {
	case MUD_L3_IPV4:
		if (!(allowed & FAM4)) *conflict = true;
		return allowed & FAM4;
	case MUD_L3_IPV6:
		if (!(allowed & FAM6)) *conflict = true;
		return allowed & FAM6;
	case MUD_L3_NONE:
		break;
	}
	return allowed;
}

/** Peer addresses of an abstraction (NULL + *label if not mapped). */
static mud_ctx_prefixes_t const *abs_lookup(cstate_t *s, mud_ace_abs_t const *ace, char *label,
					    size_t labellen, char const *where, bool accept)
{
	char const *tail = accept ? "ACE skipped" : "drop enforced for any peer (broader)";
	mud_context_t const *site = s->site;
	char v[128];
	size_t i;

	esc(v, sizeof(v), ace->value);
	switch (ace->kind) {
	case MUD_ABS_NONE:
		break;

	case MUD_ABS_MANUFACTURER:
		snprintf(label, labellen, "manufacturer:%s", v);
		for (i = 0; site && ace->value && i < site->num_manufacturers; i++) {
			if (host_eq(site->manufacturers[i].authority, ace->value)) {
				return &site->manufacturers[i].nets;
			}
		}
		warn(s, where, "manufacturer \"%s\" has no entry in the site context "
		     "(add \"manufacturers\": {\"%s\": {\"networks\": [...]}}); %s", v, v, tail);
		return NULL;

	case MUD_ABS_SAME_MANUFACTURER:
		mudp_strlcpy(label, "same-manufacturer", labellen);
		if (!s->host) {
			warn(s, where, "same-manufacturer: the device's MUD URL has no host; "
			     "%s", tail);
			return NULL;
		}
		for (i = 0; site && i < site->num_manufacturers; i++) {
			if (host_eq(site->manufacturers[i].authority, s->host)) {
				return &site->manufacturers[i].nets;
			}
		}
		esc(v, sizeof(v), s->host);
		warn(s, where, "same-manufacturer: the device's authority \"%s\" has no entry "
		     "in the site context (add \"manufacturers\": {\"%s\": "
		     "{\"networks\": [...]}}); %s", v, v, tail);
		return NULL;

	case MUD_ABS_MODEL:
		snprintf(label, labellen, "model:%s", v);
		for (i = 0; site && ace->value && i < site->num_models; i++) {
			if (strcmp(site->models[i].key, ace->value) == 0) {
				return &site->models[i].nets;
			}
		}
		warn(s, where, "model \"%s\" has no entry in the site context "
		     "(add \"models\": {\"%s\": [...]}); %s", v, v, tail);
		return NULL;

	case MUD_ABS_LOCAL_NETWORKS:
		mudp_strlcpy(label, "local-networks", labellen);
		if (site && site->local_networks.num > 0) return &site->local_networks;
		warn(s, where, "local-networks is not defined in the site context "
		     "(add \"local-networks\": [...]); %s", tail);
		return NULL;

	case MUD_ABS_CONTROLLER:
		snprintf(label, labellen, "controller:%s", v);
		for (i = 0; site && ace->value && i < site->num_controllers; i++) {
			if (strcmp(site->controllers[i].key, ace->value) == 0) {
				return &site->controllers[i].nets;
			}
		}
		/*
		 *	RFC 8520 section 8: the well-known classes urn:ietf:params:mud:dns and
		 *	urn:ietf:params:mud:ntp are the site's own DNS and NTP servers.
		 */
		if (site && ace->value && strcmp(ace->value, MUD_URN_DNS) == 0 &&
		    site->svc_dns.num > 0) {
			return &site->svc_dns;
		}
		if (site && ace->value && strcmp(ace->value, MUD_URN_NTP) == 0 &&
		    site->svc_ntp.num > 0) {
			return &site->svc_ntp;
		}
		warn(s, where, "controller \"%s\" has no entry in the site context "
		     "(add \"controllers\": {\"%s\": [...]}); %s", v, v, tail);
		return NULL;

	case MUD_ABS_MY_CONTROLLER:
		mudp_strlcpy(label, "my-controller", labellen);
		for (i = 0; site && s->file->mud_url && i < site->num_my_controllers; i++) {
			if (strcmp(site->my_controllers[i].key, s->file->mud_url) == 0) {
				return &site->my_controllers[i].nets;
			}
		}
		esc(v, sizeof(v), s->file->mud_url);
		warn(s, where, "my-controller has no entry for \"%s\" in the site context "
		     "(add \"my-controllers\": {\"%s\": [...]}); %s", v, v, tail);
		return NULL;
	}
	return NULL;
}

/** IP protocol of a rule. */
static int rule_protocol(mud_ace_t const *ace, int family)
{
	if (ace->protocol >= 0) return ace->protocol;
	switch (ace->l4) {
	case MUD_L4_TCP:
		return 6;
	case MUD_L4_UDP:
		return 17;
	case MUD_L4_ICMP:
		return family == 6 ? 58 : 1;
	case MUD_L4_NONE:
		break;
	}
	return -1;
}

/** Narrow fams by an eth match; false (with a warning) if the ACE must be skipped. */
static bool ace_eth(cstate_t *s, mud_ace_t const *ace, unsigned int *fams, char const *where)
{
	bool accept = ace->action == MUD_ACTION_ACCEPT;
	unsigned int before = *fams;

	if (!ace->eth) return true;
	if (ace->ethertype >= 0) {
		if (ace->ethertype == ETHERTYPE_IPV4) {
			*fams &= FAM4;
		} else if (ace->ethertype == ETHERTYPE_IPV6) {
			*fams &= FAM6;
		} else {
			*fams = 0;
		}
		if (!*fams) {
			warn(s, where, "ethertype 0x%04x cannot match %s traffic; ACE skipped",
			     (unsigned int)ace->ethertype,
			     before == (FAM4 | FAM6) ? "IP" : fam_label(before));
			return false;
		}
	}
	if (ace->src_mac || ace->dst_mac) {
		if (accept) {
			warn(s, where, "MAC address match not enforceable at L3; ACE skipped");
			return false;
		}
		warn(s, where, "MAC address match not enforceable at L3; dropping without it");
	}
	return true;
}

/** JSON pointer of an ACE: as the parser recorded it, else the canonical form. */
static void ace_where(char *buf, size_t buflen, mud_ace_t const *ace, size_t ai, size_t ei)
{
	if (ace->path) {
		mudp_strlcpy(buf, ace->path, buflen);
	} else {
		snprintf(buf, buflen, ACE_WHERE_FMT, ai, ei);
	}
}

/** Compile one ACE of one policy direction.
 *
 *  Never wider than the file: a match that cannot be enforced exactly makes an accept ACE
 *  be skipped (narrower) and a drop ACE be enforced on its other matches (broader); a drop
 *  ACE never disappears because a name or abstraction gave no address. Each such decision
 *  is a warning at the ACE's JSON pointer. */
static mud_rcode_t compile_ace(cstate_t *s, mud_dir_t dir, mud_acl_t const *acl, size_t ai,
			       mud_ace_t const *ace, size_t ei)
{
	char where[160];
	char label[200];
	char v[128];
	char const *peer_name = NULL;
	char const *net;
	char const *dns;
	char const *dev_net;
	char const *dev_dns;
	char const *side;
	char *origin;
	unsigned int fams;
	bool conflict;
	bool accept = ace->action == MUD_ACTION_ACCEPT;
	int protocol_override = -2;	/* -2: none */
	peerset_t *ps;
	mud_rule_t r;
	size_t i;
	size_t k;
	mud_rcode_t rc = MUD_OK;

	ace_where(where, sizeof(where), ace, ai, ei);
	label[0] = '\0';

	if (dir == MUD_DIR_FROM_DEVICE) {
		net = ace->dst_network;
		dns = ace->dst_dnsname;
		dev_net = ace->src_network;
		dev_dns = ace->src_dnsname;
		side = "dst";
	} else {
		net = ace->src_network;
		dns = ace->src_dnsname;
		dev_net = ace->dst_network;
		dev_dns = ace->dst_dnsname;
		side = "src";
	}

	fams = ace_families(acl->type, ace->l3, &conflict);
	if (conflict) {
		warn(s, where, "ACE matches %s in an ACL of another type; ACE skipped",
		     ace->l3 == MUD_L3_IPV6 ? "IPv6" : "IPv4");
		return MUD_OK;
	}
	if (!fams) {
		warn(s, where, "ACE cannot match IP traffic; ACE skipped");
		return MUD_OK;
	}
	if (!ace_eth(s, ace, &fams, where)) return MUD_OK;

	/* A match node the compiler does not know (an unknown module's augmentation). */
	if (ace->unknown_match) {
		esc(v, sizeof(v), ace->unknown_match);
		if (accept) {
			warn(s, where, "match \"%s\" cannot be enforced; accept ACE skipped", v);
			return MUD_OK;
		}
		warn(s, where, "match \"%s\" cannot be enforced; drop enforced without it "
		     "(broader)", v);
	}

	/*
	 *	IP protocol 0 (HOPOPT): some IOS versions read "permit 0" as every protocol, and
	 *	IPFilterRule has no unambiguous spelling either.
	 */
	if (ace->protocol == 0) {
		if (accept) {
			warn(s, where, "protocol 0 (HOPOPT) cannot be rendered unambiguously; "
			     "accept ACE skipped");
			return MUD_OK;
		}
		warn(s, where, "protocol 0 (HOPOPT) cannot be rendered unambiguously; drop "
		     "enforced for every protocol (broader)");
		protocol_override = -1;
	}

	/* Matches on the device's own side, or on DSCP, cannot be expressed in the IR. */
	if (dev_net || dev_dns || ace->dscp >= 0) {
		char const *what = "match on the device's own address";

		if (ace->dscp >= 0 && !dev_net && !dev_dns) what = "dscp match";

		if (accept) {
			warn(s, where, "%s not enforceable; ACE skipped", what);
			return MUD_OK;
		}
		warn(s, where, "%s not enforceable; dropping without it", what);
	}

	ps = talloc(s->tmp, peerset_t);
	if (!ps) return mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
	ps->any = true;
	ps->num = 0;
	ps->overflow = false;

	if (net) {
		mud_prefix_t np;
		mud_error_t perr;

		mud_error_clear(&perr);
		if (mud_prefix_parse(&np, net, true, &perr) != MUD_OK) {
			rc = mud_error_set(s->err, MUD_ERR_SEMANTIC, where, "%s", perr.text);
			goto done;
		}
		if (!(fam_bit(np.family) & fams)) {
			esc(v, sizeof(v), net);
			warn(s, where, "%s network \"%s\" is not %s; ACE skipped", side, v,
			     fam_label(fams));
			goto done;
		}
		peerset_narrow(ps, &np, 1, fams);
	}

	if (dns) {
		mud_prefix_t all[2 * MUD_MAX_ADDRS_PER_NAME];
		size_t num = 0;
		int f;

		for (f = 4; f <= 6; f += 2) {
			dns_entry_t const *e;

			if (!(fam_bit(f) & fams)) continue;
			e = dns_lookup(s, dns, f);
			if (!e) {
				rc = mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
				goto done;
			}
			for (i = 0; i < e->num; i++) all[num++] = e->addrs[i];
			/* the policy holds these addresses only as long as the answer lives */
			if (e->ttl && (s->rs->dns_ttl == 0 || e->ttl < s->rs->dns_ttl)) {
				s->rs->dns_ttl = e->ttl;
			}
		}
		esc(v, sizeof(v), dns);
		if (num == 0 && accept) {
			warn(s, where, "%s-dnsname \"%s\" did not resolve (%s); ACE skipped",
			     side, v, fam_label(fams));
			goto done;
		}
		if (num == 0) {
			warn(s, where, "%s-dnsname \"%s\" did not resolve (%s); drop enforced for "
			     "any peer (broader)", side, v, fam_label(fams));
		} else {
			peerset_narrow(ps, all, num, fams);
			peer_name = dns;
		}
	}

	for (k = 0; k < ace->num_abs; k++) {
		char one[200];
		mud_ctx_prefixes_t const *nets = abs_lookup(s, &ace->abs[k], one, sizeof(one),
							    where, accept);
		size_t have = 0;

		for (i = 0; nets && i < nets->num; i++) {
			if (fam_bit(nets->prefixes[i].family) & fams) have++;
		}
		if (nets && !have && accept) {
			warn(s, where, "%s has no %s addresses in the site context; ACE skipped",
			     one, fam_label(fams));
			goto done;
		}
		if (!nets && accept) goto done;
		if (!have) {
			if (nets) {
				warn(s, where, "%s has no %s addresses in the site context; drop "
				     "enforced for any peer (broader)", one, fam_label(fams));
			}
			continue;
		}
		peerset_narrow(ps, nets->prefixes, nets->num, fams);
		if (label[0]) mudp_strlcpy(label + strlen(label), "+",
					   sizeof(label) - strlen(label));
		mudp_strlcpy(label + strlen(label), one, sizeof(label) - strlen(label));
	}
	if (label[0] && !peer_name) {
		peer_name = label;
	} else if (label[0]) {
		/* a name narrowed by abstractions: show both (mudctl show, json) */
		peer_name = talloc_asprintf(ps, "%s+%s", peer_name, label);
		if (!peer_name) {
			rc = mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
			goto done;
		}
	}

	if (ps->overflow) {
		rc = mud_error_set(s->err, MUD_ERR_LIMIT, where,
				   "more than %d peer prefixes in one ACE", (int)PEERSET_MAX);
		goto done;
	}
	if (!ps->any && ps->num == 0) {
		warn(s, where, "the ACE's peer matches do not overlap; ACE skipped");
		goto done;
	}

	if (ace->action == MUD_ACTION_REJECT) warn(s, where, "reject is enforced as drop");

	origin = talloc_asprintf(s->tmp, "%s/%s", acl->name ? acl->name : "",
				 ace->name ? ace->name : "");
	if (!origin) {
		rc = mud_error_set(s->err, MUD_ERR_NOMEM, where, "out of memory");
		goto done;
	}

	memset(&r, 0, sizeof(r));
	r.kind = MUD_RULE_ACE;
	r.acl_index = (int)ai;
	r.ace_index = (int)ei;
	r.dir = dir;
	r.action = accept ? MUD_ACTION_ACCEPT : MUD_ACTION_DROP;
	if (dir == MUD_DIR_FROM_DEVICE) {
		r.device_port = ace->src_port;
		r.peer_port = ace->dst_port;
	} else {
		r.device_port = ace->dst_port;
		r.peer_port = ace->src_port;
	}
	r.icmp_type = ace->icmp_type;
	r.icmp_code = ace->icmp_code;
	/* RFC 8520 section 2.1: direction-initiated names the side that opens the
	 * TCP connection; in the other direction only established packets pass. */
	r.established = ace->direction_initiated != MUD_DIRINIT_NONE &&
			!((ace->direction_initiated == MUD_DIRINIT_FROM_DEVICE &&
			   dir == MUD_DIR_FROM_DEVICE) ||
			  (ace->direction_initiated == MUD_DIRINIT_TO_DEVICE &&
			   dir == MUD_DIR_TO_DEVICE));

	if (ps->any) {
		int f;

		for (f = 4; f <= 6 && rc == MUD_OK; f += 2) {
			if (!(fam_bit(f) & fams)) continue;
			r.family = f;
			r.protocol = protocol_override != -2 ? protocol_override :
				     rule_protocol(ace, f);
			memset(&r.peer, 0, sizeof(r.peer));
			r.peer.family = f;
			rc = rule_add(s, &r, origin, peer_name, where);
		}
	} else {
		for (i = 0; i < ps->num && rc == MUD_OK; i++) {
			r.family = ps->p[i].family;
			r.protocol = protocol_override != -2 ? protocol_override :
				     rule_protocol(ace, r.family);
			r.peer = ps->p[i];
			rc = rule_add(s, &r, origin, peer_name, where);
		}
	}
	talloc_free(origin);

done:
	talloc_free(ps);
	return rc;
}

/** Whether a peer-side DNS name needs the resolver (not in the static map, not a literal). */
static bool needs_resolver(cstate_t const *s, char const *name)
{
	uint8_t a[16];
	size_t i;

	if (!name || !dns_name_ok(name)) return false;
	if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1) return false;
	for (i = 0; s->site && i < s->site->num_dns; i++) {
		if (host_eq(s->site->dns[i].name, name)) return false;
	}
	for (i = 0; i < s->num_dns; i++) {
		if (host_eq(s->dns[i].name, name)) return false;
	}
	return true;
}

/** Add one resolved (name, family) to the per-compile DNS table. */
static mud_rcode_t dns_store(cstate_t *s, mudp_dns_query_t const *q)
{
	dns_entry_t *n = talloc_realloc(s->tmp, s->dns, dns_entry_t, s->num_dns + 1);
	dns_entry_t *e;

	if (!n) return mud_error_set(s->err, MUD_ERR_NOMEM, "dns", "out of memory");
	s->dns = n;
	e = &s->dns[s->num_dns];
	memset(e, 0, sizeof(*e));
	e->family = q->family;
	e->name = talloc_strdup(s->dns, q->name);
	if (!e->name) return mud_error_set(s->err, MUD_ERR_NOMEM, "dns", "out of memory");
	e->num = q->num;
	e->ttl = q->ttl;
	memcpy(e->addrs, q->addrs, q->num * sizeof(q->addrs[0]));
	s->num_dns++;
	return MUD_OK;
}

/** Resolve every DNS name the policies use, all at once within the context's budget
 *  (no blocking lookup per name), before any ACE is compiled. */
static mud_rcode_t dns_prefetch(cstate_t *s)
{
	mud_file_t const *f = s->file;
	unsigned int max = s->site && s->site->dns_max_names ? s->site->dns_max_names :
			   MUD_DNS_NAMES_DEFAULT;
	unsigned int budget = s->site && s->site->dns_budget_ms ? s->site->dns_budget_ms :
			      MUD_DNS_BUDGET_DEFAULT_MS;
	char const **names;
	mudp_dns_query_t *q;
	size_t num = 0;
	size_t late = 0;
	size_t d;
	size_t k;
	size_t i;
	size_t j;
	mud_rcode_t rc;

	if (s->resolve || (s->site && !s->site->dns_resolve)) return MUD_OK;
	names = talloc_array(s->tmp, char const *, max);
	if (!names) return mud_error_set(s->err, MUD_ERR_NOMEM, "dns", "out of memory");

	for (d = 0; d < 2; d++) {
		char * const *refs = d == 0 ? f->from_device : f->to_device;
		size_t nrefs = d == 0 ? f->num_from_device : f->num_to_device;

		for (k = 0; k < nrefs; k++) {
			size_t ai = 0;
			mud_acl_t const *acl = refs[k] ? acl_find(f, refs[k], &ai) : NULL;

			for (i = 0; acl && i < acl->num_aces; i++) {
				mud_ace_t const *ace = &acl->aces[i];
				char const *name = d == 0 ? ace->dst_dnsname : ace->src_dnsname;
				bool dup = false;

				if (!needs_resolver(s, name)) continue;
				for (j = 0; j < num; j++) {
					if (host_eq(names[j], name)) dup = true;
				}
				if (dup) continue;
				if (num == max) {
					char where[160];

					ace_where(where, sizeof(where), ace, ai, i);
					return mud_error_set(s->err, MUD_ERR_LIMIT, where,
							     "more than %u distinct DNS names "
							     "to resolve (context "
							     "dns.max-names)", max);
				}
				names[num++] = name;
			}
		}
	}
	if (num == 0) return MUD_OK;

	q = talloc_zero_array(s->tmp, mudp_dns_query_t, 2 * num);
	if (!q) return mud_error_set(s->err, MUD_ERR_NOMEM, "dns", "out of memory");
	for (i = 0; i < num; i++) {
		q[2 * i].name = names[i];
		q[2 * i].family = 4;
		q[2 * i + 1].name = names[i];
		q[2 * i + 1].family = 6;
	}
	rc = mudp_resolve_batch(q, 2 * num, s->site ? s->site->dns_servers : NULL, budget,
				s->err);
	if (rc != MUD_OK) return rc;
	for (i = 0; i < 2 * num; i++) {
		if (q[i].status == MUDP_DNS_TIMEOUT) late++;
		rc = dns_store(s, &q[i]);
		if (rc != MUD_OK) return rc;
	}
	if (late) {
		warn(s, "/ietf-mud:mud", "%zu of %zu DNS queries (%zu names) had no answer within "
		     "the %u ms budget (context dns.timeout); treated as not resolved", late,
		     2 * num, num, budget);
	}
	talloc_free(q);
	talloc_free(names);
	return MUD_OK;
}

/** Compile the ACLs of one policy, in order. */
static mud_rcode_t compile_policy(cstate_t *s, mud_dir_t dir, char * const *names, size_t num)
{
	size_t k;

	for (k = 0; k < num; k++) {
		mud_acl_t const *acl;
		size_t ai = 0;
		size_t ei;

		acl = names[k] ? acl_find(s->file, names[k], &ai) : NULL;
		if (!acl) {
			char where[160];
			char v[96];

			snprintf(where, sizeof(where),
				 "/ietf-mud:mud/%s-device-policy/access-lists/access-list/%zu/name",
				 dir == MUD_DIR_FROM_DEVICE ? "from" : "to", k);
			esc(v, sizeof(v), names[k]);
			return mud_error_set(s->err, MUD_ERR_SEMANTIC, where,
					     "access-list \"%s\" is not defined", v);
		}
		for (ei = 0; ei < acl->num_aces; ei++) {
			mud_rcode_t rc = compile_ace(s, dir, acl, ai, &acl->aces[ei], ei);

			if (rc != MUD_OK) return rc;
		}
	}
	return MUD_OK;
}

/** Final deny for one direction: IPv4 then IPv6. */
static mud_rcode_t add_denies(cstate_t *s, mud_dir_t dir)
{
	int f;

	for (f = 4; f <= 6; f += 2) {
		mud_rule_t r;
		mud_rcode_t rc;

		memset(&r, 0, sizeof(r));
		r.kind = MUD_RULE_FINAL;
		r.acl_index = -1;
		r.ace_index = -1;
		r.dir = dir;
		r.family = f;
		r.action = MUD_ACTION_DROP;
		r.protocol = -1;
		r.peer.family = f;
		r.icmp_type = -1;
		r.icmp_code = -1;
		s->reserve--;
		rc = rule_add(s, &r, "implicit-deny", NULL, "implicit-deny");
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}

/** One site-service rule pair element: proto/ports per direction. */
static mud_rcode_t svc_rule(cstate_t *s, mud_dir_t dir, int family, int proto,
			    mud_prefix_t const *peer, mud_port_op_t dop, uint16_t dport,
			    mud_port_op_t pop, uint16_t pport, int icmp_type, bool established,
			    char const *origin)
{
	mud_rule_t r;

	memset(&r, 0, sizeof(r));
	r.kind = MUD_RULE_SITE;
	r.acl_index = -1;
	r.ace_index = -1;
	r.dir = dir;
	r.family = family;
	r.action = MUD_ACTION_ACCEPT;
	r.protocol = proto;
	if (peer) {
		r.peer = *peer;
	} else {
		r.peer.family = family;
	}
	r.device_port.op = dop;
	r.device_port.lo = dport;
	r.peer_port.op = pop;
	r.peer_port.lo = pport;
	r.icmp_type = icmp_type;
	r.icmp_code = -1;
	r.established = established;
	return rule_add(s, &r, origin, NULL, "/services");
}

/** DHCPv4 and DHCPv6 client traffic, both directions: client port on the device, server
 *  port on the peer (any: broadcast/relay). origin "<who>/dhcp", "<who>/dhcpv6". */
static mud_rcode_t add_dhcp(cstate_t *s, char const *who)
{
	char o4[64];
	char o6[64];
	mud_rcode_t rc;

	snprintf(o4, sizeof(o4), "%s/dhcp", who);
	snprintf(o6, sizeof(o6), "%s/dhcpv6", who);
	rc = svc_rule(s, MUD_DIR_FROM_DEVICE, 4, 17, NULL, MUD_PORT_EQ, 68, MUD_PORT_EQ, 67, -1,
		      false, o4);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_TO_DEVICE, 4, 17, NULL, MUD_PORT_EQ, 68,
					MUD_PORT_EQ, 67, -1, false, o4);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_FROM_DEVICE, 6, 17, NULL, MUD_PORT_EQ, 546,
					MUD_PORT_EQ, 547, -1, false, o6);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_TO_DEVICE, 6, 17, NULL, MUD_PORT_EQ, 546,
					MUD_PORT_EQ, 547, -1, false, o6);
	return rc;
}

/** IPv6 neighbour discovery (ICMPv6 133..136), both directions; origin "<who>/ipv6-nd". */
static mud_rcode_t add_nd(cstate_t *s, char const *who)
{
	char origin[64];
	mud_rcode_t rc = MUD_OK;
	int t;

	snprintf(origin, sizeof(origin), "%s/ipv6-nd", who);
	for (t = 133; rc == MUD_OK && t <= 136; t++) {
		rc = svc_rule(s, MUD_DIR_FROM_DEVICE, 6, 58, NULL, MUD_PORT_ANY, 0,
			      MUD_PORT_ANY, 0, t, false, origin);
		if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_TO_DEVICE, 6, 58, NULL, MUD_PORT_ANY, 0,
						MUD_PORT_ANY, 0, t, false, origin);
	}
	return rc;
}

/** DNS (udp and tcp 53) with one resolver, both directions; peer NULL: any address
 *  of the family. origin "<who>/dns". */
static mud_rcode_t add_dns(cstate_t *s, int family, mud_prefix_t const *peer, char const *who)
{
	char origin[64];
	mud_rcode_t rc;

	snprintf(origin, sizeof(origin), "%s/dns", who);
	rc = svc_rule(s, MUD_DIR_FROM_DEVICE, family, 17, peer, MUD_PORT_ANY, 0,
		      MUD_PORT_EQ, 53, -1, false, origin);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_FROM_DEVICE, family, 6, peer, MUD_PORT_ANY, 0,
					MUD_PORT_EQ, 53, -1, false, origin);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_TO_DEVICE, family, 17, peer, MUD_PORT_ANY, 0,
					MUD_PORT_EQ, 53, -1, false, origin);
	if (rc == MUD_OK) rc = svc_rule(s, MUD_DIR_TO_DEVICE, family, 6, peer, MUD_PORT_ANY, 0,
					MUD_PORT_EQ, 53, -1, true, origin);
	return rc;
}

/** Site services (context "services"), before the MUD rules: both directions. */
static mud_rcode_t add_services(cstate_t *s)
{
	mud_context_t const *c = s->site;
	mud_rcode_t rc = MUD_OK;
	size_t i;

	if (!c) return MUD_OK;
	if (c->svc_dhcp) {
		rc = add_dhcp(s, "site");
		if (rc != MUD_OK) return rc;
	}
	if (c->svc_nd) {
		rc = add_nd(s, "site");
		if (rc != MUD_OK) return rc;
	}
	for (i = 0; i < c->svc_dns.num; i++) {
		mud_prefix_t const *p = &c->svc_dns.prefixes[i];

		rc = add_dns(s, p->family, p, "site");
		if (rc != MUD_OK) return rc;
	}
	for (i = 0; i < c->svc_ntp.num; i++) {
		mud_prefix_t const *p = &c->svc_ntp.prefixes[i];

		rc = svc_rule(s, MUD_DIR_FROM_DEVICE, p->family, 17, p, MUD_PORT_ANY, 0,
			      MUD_PORT_EQ, 123, -1, false, "site/ntp");
		if (rc == MUD_OK)
			rc = svc_rule(s, MUD_DIR_TO_DEVICE, p->family, 17, p, MUD_PORT_ANY, 0,
				      MUD_PORT_EQ, 123, -1, false, "site/ntp");
		if (rc != MUD_OK) return rc;
	}
	return rc;
}

/** "<prefix>-<label>": label from model-name, else the URL host; [A-Za-z0-9_-]. */
static char *ruleset_name(TALLOC_CTX *ctx, mud_file_t const *file, char const *host,
			  char const *prefix)
{
	char label[NAME_LABEL_MAX + 1];
	char const *src = NULL;
	size_t n = 0;
	char const *c;

	if (file->model_name && file->model_name[0]) {
		src = file->model_name;
	} else if (host && host[0]) {
		src = host;
	} else {
		src = "device";
	}
	for (c = src; *c && n < NAME_LABEL_MAX; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';

		label[n++] = ok ? *c : '_';
	}
	label[n] = '\0';
	return talloc_asprintf(ctx, "%s-%s", prefix, label);
}

/** Compile a validated file with a site context into rules (see mud.h). */
mud_rcode_t mud_ruleset_compile(TALLOC_CTX *ctx, mud_ruleset_t **out, mud_file_t const *file,
				mud_context_t const *site, mud_resolve_t resolve, void *uctx,
				mud_error_t *err)
{
	cstate_t s;
	mud_ruleset_t *rs;
	mud_url_t *url = NULL;
	mud_error_t uerr;
	char const *prefix;
	bool from;
	bool to;
	bool all;
	size_t i;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output pointer");
	*out = NULL;
	if (!file) return mud_error_set(err, MUD_ERR_ARG, "", "no MUD file");

	memset(&s, 0, sizeof(s));
	s.tmp = talloc_new(ctx);
	if (!s.tmp) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	s.file = file;
	s.site = site;
	s.resolve = resolve;
	s.uctx = uctx;
	s.err = err;

	rs = talloc_zero(s.tmp, mud_ruleset_t);
	if (!rs) goto nomem;
	s.rs = rs;

	mud_error_clear(&uerr);
	if (file->mud_url) {
		rc = mud_url_parse(s.tmp, &url, file->mud_url, strlen(file->mud_url), &uerr);
		/* Without the host, the name and the abstractions tied to it would differ. */
		if (rc == MUD_ERR_NOMEM) goto nomem;
		if (rc == MUD_OK && url->host && url->host[0]) s.host = url->host;
	}

	rs->mud_url = talloc_strdup(rs, file->mud_url ? file->mud_url : "");
	prefix = site && site->acl_prefix && site->acl_prefix[0] ? site->acl_prefix : "mud";
	rs->name = ruleset_name(rs, file, s.host, prefix);
	if (!rs->mud_url || !rs->name) goto nomem;
	if (file->mfg_name) {
		rs->mfg_name = talloc_strdup(rs, file->mfg_name);
		if (!rs->mfg_name) goto nomem;
	}
	if (file->model_name) {
		rs->model_name = talloc_strdup(rs, file->model_name);
		if (!rs->model_name) goto nomem;
	}
	rs->cache_validity = file->cache_validity ? file->cache_validity :
			     MUD_CACHE_VALIDITY_DEFAULT;
	if (rs->cache_validity < MUD_CACHE_VALIDITY_MIN) {
		rs->cache_validity = MUD_CACHE_VALIDITY_MIN;
	}
	if (rs->cache_validity > MUD_CACHE_VALIDITY_MAX) {
		rs->cache_validity = MUD_CACHE_VALIDITY_MAX;
	}

	rs->vlan = site ? site->default_vlan : 0;
	for (i = 0; site && s.host && i < site->num_manufacturers; i++) {
		if (host_eq(site->manufacturers[i].authority, s.host)) {
			if (site->manufacturers[i].vlan > 0) rs->vlan = site->manufacturers[i].vlan;
			break;
		}
	}

	/*
	 *	Both directions always end in an explicit deny: a direction the file has no
	 *	policy for is closed, never left open (a NAS given no lines would filter nothing).
	 */
	from = true;
	to = true;
	all = false;
	if (!file->is_supported) {
		warn(&s, "/ietf-mud:mud/is-supported",
		     "is-supported is false: the device is not supported; all traffic denied");
		all = true;
	} else if (file->num_from_device == 0 && file->num_to_device == 0) {
		warn(&s, "/ietf-mud:mud", "no from-device-policy or to-device-policy; "
		     "all traffic denied");
		all = true;
	}
	s.reserve = (from ? 2u : 0u) + (to ? 2u : 0u);

	rc = add_services(&s);
	if (rc != MUD_OK) goto error;
	if (!all) {
		rc = dns_prefetch(&s);
		if (rc != MUD_OK) goto error;
		rc = compile_policy(&s, MUD_DIR_FROM_DEVICE, file->from_device,
				    file->num_from_device);
		if (rc != MUD_OK) goto error;
		rc = compile_policy(&s, MUD_DIR_TO_DEVICE, file->to_device, file->num_to_device);
		if (rc != MUD_OK) goto error;
	}
	if (from) {
		rc = add_denies(&s, MUD_DIR_FROM_DEVICE);
		if (rc != MUD_OK) goto error;
	}
	if (to) {
		rc = add_denies(&s, MUD_DIR_TO_DEVICE);
		if (rc != MUD_OK) goto error;
	}

	*out = talloc_steal(ctx, rs);
	talloc_free(s.tmp);
	return MUD_OK;

nomem:
	rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
error:
	talloc_free(s.tmp);
	return rc;
}

/** Rule set applied when a device's MUD policy cannot be (see mud.h). */
mud_rcode_t mud_ruleset_quarantine(TALLOC_CTX *ctx, mud_ruleset_t **out, mud_context_t const *site,
				   mud_error_t *err)
{
	cstate_t s;
	mud_ruleset_t *rs;
	char const *prefix;
	size_t i;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output pointer");
	*out = NULL;

	memset(&s, 0, sizeof(s));
	s.tmp = talloc_new(ctx);
	if (!s.tmp) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	s.site = site;
	s.err = err;

	rs = talloc_zero(s.tmp, mud_ruleset_t);
	if (!rs) goto nomem;
	s.rs = rs;
	prefix = site && site->acl_prefix && site->acl_prefix[0] ? site->acl_prefix : "mud";
	rs->mud_url = talloc_strdup(rs, "");
	rs->name = talloc_asprintf(rs, "%s-quarantine", prefix);
	if (!rs->mud_url || !rs->name) goto nomem;
	rs->cache_validity = MUD_CACHE_VALIDITY_MIN;
	rs->vlan = site ? site->quarantine_vlan : 0;
	s.reserve = 4;

	rc = add_dhcp(&s, "quarantine");
	if (rc == MUD_OK) rc = add_nd(&s, "quarantine");
	if (rc != MUD_OK) goto error;
	if (site && site->svc_dns.num > 0) {
		for (i = 0; i < site->svc_dns.num && rc == MUD_OK; i++) {
			mud_prefix_t const *p = &site->svc_dns.prefixes[i];

			rc = add_dns(&s, p->family, p, "quarantine");
		}
	} else {
		/* Weaker fallback: no resolvers known, so DNS to any address (tunnelable). */
		rc = add_dns(&s, 4, NULL, "quarantine");
		if (rc == MUD_OK) rc = add_dns(&s, 6, NULL, "quarantine");
	}
	if (rc == MUD_OK) rc = add_denies(&s, MUD_DIR_FROM_DEVICE);
	if (rc == MUD_OK) rc = add_denies(&s, MUD_DIR_TO_DEVICE);
	if (rc != MUD_OK) goto error;

	*out = talloc_steal(ctx, rs);
	talloc_free(s.tmp);
	return MUD_OK;

nomem:
	rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
error:
	talloc_free(s.tmp);
	return rc;
}
