/*
 * mudctl_show.c - `mudctl show`: an operator's view of a MUD policy, as a table or
 * as a Graphviz picture.
 *
 * Everything shown comes from the rules mud_ruleset_compile() gives the switch (the
 * same call `mudctl compile` and the module make); the MUD JSON is never read again
 * here. The parsed file is used only to name the ACE a rule came from (its JSON
 * pointer) and to tell a DNS name from an abstraction.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mudctl.h"

#define SHOW_MAX_CELL		64	//!< widest untrusted cell (names, origins), escaped; longer
					//!< is cut with "...": keeps a row on a wide terminal
#define SHOW_MAX_NODE_ADDRS	4	//!< prefixes listed in a peer node of the picture
#define SHOW_NCOLS		9	//!< columns of the table

/** JSON pointer of an ACE, as mud_compile.c writes it in warnings. */
#define SHOW_ACE_WHERE_FMT	"/ietf-access-control-list:acls/acl/%zu/aces/ace/%zu"

char const mudctl_show_synopsis[] =
	"show FILE [--context FILE] [--lenient] [--url URL] [--format table|dot]";

char const mudctl_show_help[] =
	"Show what a MUD file allows, from the rules compiled for the switch (the same\n"
	"rules 'mudctl compile' renders), with the site context applied.\n"
	"  --context FILE    site context (abstractions, DNS, site services; docs/context.md)\n"
	"  --lenient         accept legacy MUD encodings\n"
	"  --url URL         the URL the MUD file came from: mud-url must equal it\n"
	"  --format FMT      table (default) or dot\n"
	"table: header (MUD URL, rule set name, device, VLAN, rule counts), then one row per\n"
	"compiled rule in evaluation order, site services and final denies included:\n"
	"  #           position in the rule set (first match wins)\n"
	"  PEER        remote prefix, or 'any (IPv4)' / 'any (IPv6)'\n"
	"  NAME        the abstraction or DNS name the peer came from, '-' for a literal\n"
	"  DIRECTION   device->peer (sent by the device) or peer->device\n"
	"  PROTOCOL    'tcp peer 443', 'udp peer 67, device 68', 'icmp 8/0', 'ip', ...;\n"
	"              ports: N, 'not N', '<= N', '>= N', 'N-M'\n"
	"  INITIATES   tcp: who may open the connection: device, peer, either, or\n"
	"              'established only (... opens)'; 'n/a' for other protocols, '-' for denies\n"
	"  ACTION      permit or deny\n"
	"  SOURCE      the MUD ACE (acl/ace), 'site service (site/...)' or 'final deny'\n"
	"  JSON PATH   the ACE's JSON pointer in the MUD file\n"
	"then the parse warnings (if any) and the compile warnings with their JSON paths.\n"
	"Untrusted text is escaped (\\xHH) and long cells are cut with '...'.\n"
	"dot: a Graphviz digraph of the MUD rules (the device, one node per peer, one edge\n"
	"per direction and action; denies dashed red); site services and final denies are\n"
	"summarised in a legend. Render it with: mudctl show --format dot FILE | dot -Tpng\n"
	"Exit status: 0 shown, 1 bad input (MUD file, context: stderr says where),\n"
	"2 usage or system error.\n";

/** What a compiled rule stands for. */
typedef enum {
	SHOW_KIND_MUD = 0,	//!< an ACE of the MUD file
	SHOW_KIND_SITE,		//!< a site service of the context (origin "site/...")
	SHOW_KIND_DENY,		//!< a final deny (origin "implicit-deny")
} show_kind_t;

/** How a peer was named. */
typedef enum {
	SHOW_PEER_ANY = 0,	//!< any address of the family
	SHOW_PEER_NET,		//!< a literal network
	SHOW_PEER_DNS,		//!< a DNS name
	SHOW_PEER_ABS,		//!< one or more abstractions
} show_peer_t;

/** Who may open a TCP connection a rule is part of. */
typedef enum {
	SHOW_INIT_NA = 0,	//!< not tcp
	SHOW_INIT_NONE,		//!< a deny
	SHOW_INIT_SENDER,	//!< this rule's sender opens; the replies are established only
	SHOW_INIT_EITHER,	//!< both sides may open
	SHOW_INIT_ESTABLISHED,	//!< this rule passes established packets only: the other side opens
	SHOW_INIT_NO_REPLY,	//!< this rule's sender may open, but the replies are denied
	SHOW_INIT_PARTIAL,	//!< this rule's sender may open, the replies pass only in part
} show_init_t;

/** A rule and what is known about it. */
typedef struct {
	mud_rule_t const	*rule;
	show_kind_t		kind;
	mud_ace_t const		*ace;		//!< the ACE it came from, NULL if not known
	size_t			acl_idx;	//!< index of its ACL in file->acls (ace != NULL)
	size_t			ace_idx;	//!< index of the ACE in the ACL (ace != NULL)
	show_peer_t		peer_kind;
	show_init_t		init;
	size_t			shadow;		//!< 1-based number of an earlier rule that takes
						//!< every packet of this one; 0 if none
	char			*peer;		//!< "10.0.0.0/8", "any (IPv4)"
	char			*proto;		//!< "tcp peer 443"
	int			node;		//!< dot: peer node index, -1 if not drawn
} show_rule_t;

/** A peer node of the picture. */
typedef struct {
	show_peer_t	kind;
	char const	*key;		//!< peer_name, prefix text or "any"
	char const	**addrs;	//!< distinct prefixes seen (named peers)
	size_t		num_addrs;
} show_node_t;

/** An edge of the picture: one peer, one direction, one action. */
typedef struct {
	int		node;
	mud_dir_t	dir;
	bool		permit;
	char		**lines;	//!< distinct label lines, in order
	size_t		num_lines;
} show_edge_t;

/*
 *	Escaping
 */

/** Escape untrusted text for display: printable ASCII is kept, anything else becomes \xHH
 *  (a backslash too, unless keep_bs: text libmud already escaped); cut to max bytes, the
 *  last three being "...", never inside an escape. */
static char *show_escape(TALLOC_CTX *ctx, char const *in, size_t max, bool keep_bs)
{
	size_t len = in ? strlen(in) : 0;
	size_t full = 0;
	size_t o = 0;
	size_t i;
	char *out;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		full += (c >= 0x20 && c < 0x7f && (c != '\\' || keep_bs)) ? 1 : 4;
	}
	out = talloc_array(ctx, char, full + 4);
	if (!out) return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		size_t need = (c >= 0x20 && c < 0x7f && (c != '\\' || keep_bs)) ? 1 : 4;

		if (full > max && o + need > max - 3) {
			memcpy(out + o, "...", 3);
			o += 3;
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
	return out;
}

/** Write text (already display-escaped: printable ASCII) inside a DOT quoted string. */
static void dot_puts(char const *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') putchar('\\');
		putchar(*s);
	}
}

/*
 *	Rule analysis
 */

/** Display name of an IP protocol (a fixed table: /etc/protocols varies between hosts). */
static char const *proto_name(int protocol, char *buf, size_t len)
{
	switch (protocol) {
	case -1: return "ip";
	case 1: return "icmp";
	case 2: return "igmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default:
		break;
	}
	snprintf(buf, len, "proto %d", protocol);
	return buf;
}

/** Append a port match ("443", "not 23", "<= 1023", ">= 1024", "5000-5010"). */
static char *port_append(char *s, char const *label, mud_port_t const *p)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		return s;
	case MUD_PORT_EQ:
		return talloc_asprintf_append(s, " %s %u", label, p->lo);
	case MUD_PORT_NEQ:
		return talloc_asprintf_append(s, " %s not %u", label, p->lo);
	case MUD_PORT_LTE:
		return talloc_asprintf_append(s, " %s <= %u", label, p->lo);
	case MUD_PORT_GTE:
		return talloc_asprintf_append(s, " %s >= %u", label, p->lo);
	case MUD_PORT_RANGE:
		return talloc_asprintf_append(s, " %s %u-%u", label, p->lo, p->hi);
	}
	return talloc_asprintf_append(s, " %s ?", label);
}

/** "tcp peer 443", "udp peer 67, device 68", "icmp 8/0", "icmpv6 135", "ip". */
static char *proto_text(TALLOC_CTX *ctx, mud_rule_t const *r)
{
	char buf[32];
	char *s = talloc_strdup(ctx, proto_name(r->protocol, buf, sizeof(buf)));

	if (!s) return NULL;
	if (r->icmp_type >= 0 && r->icmp_code >= 0) {
		return talloc_asprintf_append(s, " %d/%d", r->icmp_type, r->icmp_code);
	}
	if (r->icmp_type >= 0) return talloc_asprintf_append(s, " %d", r->icmp_type);
	if (r->icmp_code >= 0) return talloc_asprintf_append(s, " code %d", r->icmp_code);
	s = port_append(s, "peer", &r->peer_port);
	if (s && r->peer_port.op != MUD_PORT_ANY && r->device_port.op != MUD_PORT_ANY) {
		s = talloc_strdup_append(s, ",");
	}
	if (s) s = port_append(s, "device", &r->device_port);
	return s;
}

/** "10.1.100.0/24", "192.0.2.10", "any (IPv4)". */
static char *peer_text(TALLOC_CTX *ctx, mud_rule_t const *r)
{
	char buf[64];

	if (r->peer.len == 0) {
		return talloc_strdup(ctx, r->family == 6 ? "any (IPv6)" : "any (IPv4)");
	}
	mud_prefix_print(buf, sizeof(buf), &r->peer, false);
	return talloc_strdup(ctx, buf);
}

/** Up to two intervals holding the ports a match accepts; returns their number. */
static size_t port_intervals(mud_port_t const *p, unsigned int lo[2], unsigned int hi[2])
{
	size_t n = 0;

	switch (p->op) {
	case MUD_PORT_ANY:
		lo[0] = 0;
		hi[0] = 65535;
		return 1;
	case MUD_PORT_EQ:
		lo[0] = p->lo;
		hi[0] = p->lo;
		return 1;
	case MUD_PORT_NEQ:
		if (p->lo > 0) {
			lo[n] = 0;
			hi[n] = p->lo - 1u;
			n++;
		}
		if (p->lo < 65535) {
			lo[n] = p->lo + 1u;
			hi[n] = 65535;
			n++;
		}
		return n;
	case MUD_PORT_LTE:
		lo[0] = 0;
		hi[0] = p->lo;
		return 1;
	case MUD_PORT_GTE:
		lo[0] = p->lo;
		hi[0] = 65535;
		return 1;
	case MUD_PORT_RANGE:
		lo[0] = p->lo;
		hi[0] = p->hi;
		return lo[0] <= hi[0] ? 1 : 0;
	}
	return 0;
}

/** Do port matches a and b share a port? (*covers: every port of b is in a) */
static bool ports_meet(mud_port_t const *a, mud_port_t const *b, bool *covers)
{
	unsigned int alo[2], ahi[2], blo[2], bhi[2];
	size_t na = port_intervals(a, alo, ahi);
	size_t nb = port_intervals(b, blo, bhi);
	bool meet = false;
	size_t i, j;

	*covers = true;
	for (j = 0; j < nb; j++) {
		bool inside = false;

		for (i = 0; i < na; i++) {
			if (alo[i] <= bhi[j] && blo[j] <= ahi[i]) meet = true;
			if (alo[i] <= blo[j] && bhi[j] <= ahi[i]) inside = true;
		}
		if (!inside) *covers = false;
	}
	return meet;
}

/** Does prefix a contain prefix b (same family)? */
static bool prefix_contains(mud_prefix_t const *a, mud_prefix_t const *b)
{
	unsigned int bits = a->len;
	unsigned int k;

	if (a->len == 0) return true;	/* any address (callers compare the rules' families) */
	if (a->family != b->family || a->len > b->len || bits > 128) return false;
	for (k = 0; k < bits / 8; k++) {
		if (a->addr[k] != b->addr[k]) return false;
	}
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((a->addr[k] & mask) != (b->addr[k] & mask)) return false;
	}
	return true;
}

/** Does rule a match every packet rule b matches? */
static bool rule_covers(mud_rule_t const *a, mud_rule_t const *b)
{
	bool cover;

	if (a->dir != b->dir || a->family != b->family) return false;
	if (a->protocol != -1 && a->protocol != b->protocol) return false;
	if (!prefix_contains(&a->peer, &b->peer)) return false;
	(void)ports_meet(&a->device_port, &b->device_port, &cover);
	if (!cover) return false;
	(void)ports_meet(&a->peer_port, &b->peer_port, &cover);
	if (!cover) return false;
	if (a->icmp_type >= 0 && a->icmp_type != b->icmp_type) return false;
	if (a->icmp_code >= 0 && a->icmp_code != b->icmp_code) return false;
	return !a->established || b->established;
}

/** Who may open the TCP connections a rule permits: the first rule of the other
 *  direction that meets the replies (same family, tcp, peer and ports) decides them. */
static show_init_t rule_init(mud_ruleset_t const *rs, mud_rule_t const *r)
{
	size_t i;

	if (r->protocol != 6) return SHOW_INIT_NA;
	if (r->action != MUD_ACTION_ACCEPT) return SHOW_INIT_NONE;
	if (r->established) return SHOW_INIT_ESTABLISHED;

	for (i = 0; i < rs->num_rules; i++) {
		mud_rule_t const *c = &rs->rules[i];
		bool cover_peer, cover_dp, cover_pp;

		if (c->dir == r->dir || c->family != r->family) continue;
		if (c->protocol != -1 && c->protocol != 6) continue;
		if (!prefix_contains(&c->peer, &r->peer) && !prefix_contains(&r->peer, &c->peer)) {
			continue;
		}
		cover_peer = prefix_contains(&c->peer, &r->peer);
		if (!ports_meet(&c->device_port, &r->device_port, &cover_dp)) continue;
		if (!ports_meet(&c->peer_port, &r->peer_port, &cover_pp)) continue;
		if (!cover_peer || !cover_dp || !cover_pp) return SHOW_INIT_PARTIAL;
		if (c->action != MUD_ACTION_ACCEPT) return SHOW_INIT_NO_REPLY;
		return c->established ? SHOW_INIT_SENDER : SHOW_INIT_EITHER;
	}
	return SHOW_INIT_NO_REPLY;
}

/** Table text of an initiator. */
static char const *init_table(show_init_t init, mud_dir_t dir)
{
	bool from = dir == MUD_DIR_FROM_DEVICE;

	switch (init) {
	case SHOW_INIT_NA: return "n/a";
	case SHOW_INIT_NONE: return "-";
	case SHOW_INIT_SENDER: return from ? "device" : "peer";
	case SHOW_INIT_EITHER: return "either";
	case SHOW_INIT_ESTABLISHED:
		return from ? "established only (peer opens)" : "established only (device opens)";
	case SHOW_INIT_NO_REPLY: return from ? "device (replies denied)" : "peer (replies denied)";
	case SHOW_INIT_PARTIAL:
		return from ? "device (replies partly permitted)" :
			      "peer (replies partly permitted)";
	}
	return "?";
}

/** Picture text of an initiator (NULL: nothing to say). */
static char const *init_dot(show_init_t init, mud_dir_t dir)
{
	bool from = dir == MUD_DIR_FROM_DEVICE;

	switch (init) {
	case SHOW_INIT_NA:
	case SHOW_INIT_NONE:
		return NULL;
	case SHOW_INIT_SENDER: return from ? "device initiates" : "peer initiates";
	case SHOW_INIT_EITHER: return "either side initiates";
	case SHOW_INIT_ESTABLISHED: return "established only";
	case SHOW_INIT_NO_REPLY: return "replies denied";
	case SHOW_INIT_PARTIAL: return "replies partly permitted";
	}
	return NULL;
}

/** Origin of a rule ("" if it has none). */
static char const *rule_origin(mud_rule_t const *r)
{
	return r->origin ? r->origin : "";
}

/** The ACE a MUD rule came from (the compiler records its indexes). */
static void map_ace(mud_file_t const *file, show_rule_t *sr)
{
	mud_rule_t const *r = sr->rule;
	mud_acl_t const *acl;

	if (r->acl_index < 0 || (size_t)r->acl_index >= file->num_acls) return;
	acl = &file->acls[r->acl_index];
	if (r->ace_index < 0 || (size_t)r->ace_index >= acl->num_aces) return;
	sr->ace = &acl->aces[r->ace_index];
	sr->acl_idx = (size_t)r->acl_index;
	sr->ace_idx = (size_t)r->ace_index;
}

/** Is a peer_name an abstraction label of mud_compile.c ("manufacturer:x", "local-networks",
 *  "a+b")? Used only when the ACE is not known. */
static bool looks_abstraction(char const *name)
{
	static char const *labels[] = { "manufacturer:", "same-manufacturer", "model:",
					 "local-networks", "controller:", "my-controller" };
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if (strncmp(name, labels[i], strlen(labels[i])) == 0) return true;
	}
	return false;
}

/** How the peer of a rule was named. */
static show_peer_t peer_kind(show_rule_t const *sr)
{
	mud_rule_t const *r = sr->rule;
	char const *dns;

	if (!r->peer_name) return r->peer.len == 0 ? SHOW_PEER_ANY : SHOW_PEER_NET;
	if (!sr->ace) return looks_abstraction(r->peer_name) ? SHOW_PEER_ABS : SHOW_PEER_DNS;
	dns = r->dir == MUD_DIR_FROM_DEVICE ? sr->ace->dst_dnsname : sr->ace->src_dnsname;
	if (dns && strcmp(dns, r->peer_name) == 0) return SHOW_PEER_DNS;
	return sr->ace->num_abs > 0 ? SHOW_PEER_ABS : SHOW_PEER_DNS;
}

/** Classify every rule, map MUD rules to their ACEs, and work out peers and initiators. */
static show_rule_t *analyse(TALLOC_CTX *ctx, mud_file_t const *file, mud_context_t const *site,
			    mud_ruleset_t const *rs)
{
	show_rule_t *out = talloc_zero_array(ctx, show_rule_t, rs->num_rules ? rs->num_rules : 1);
	size_t i, k;

	(void)site;
	if (!out) return NULL;

	for (i = 0; i < rs->num_rules; i++) {
		show_rule_t *sr = &out[i];
		mud_rule_t const *r = &rs->rules[i];

		sr->rule = r;
		sr->node = -1;
		switch (r->kind) {
		case MUD_RULE_SITE:
			sr->kind = SHOW_KIND_SITE;
			break;
		case MUD_RULE_FINAL:
			sr->kind = SHOW_KIND_DENY;
			break;
		case MUD_RULE_ACE:
			sr->kind = SHOW_KIND_MUD;
			map_ace(file, sr);
			break;
		}
		sr->peer_kind = peer_kind(sr);
		sr->init = rule_init(rs, r);
		for (k = 0; sr->kind != SHOW_KIND_DENY && k < i; k++) {
			if (rule_covers(&rs->rules[k], r)) {
				sr->shadow = k + 1;
				break;
			}
		}
		sr->peer = peer_text(out, r);
		sr->proto = proto_text(out, r);
		if (!sr->peer || !sr->proto) return NULL;
	}
	return out;
}

/*
 *	Table
 */

/** Print one row: cells padded to the column widths, the last one not. */
static void print_row(char const * const *cells, size_t const *width, bool const *right)
{
	size_t c;

	for (c = 0; c < SHOW_NCOLS; c++) {
		size_t len = strlen(cells[c]);
		size_t pad = width[c] > len ? width[c] - len : 0;

		if (c) fputs("  ", stdout);
		if (right[c]) printf("%*s", (int)pad, "");
		fputs(cells[c], stdout);
		if (!right[c] && c + 1 < SHOW_NCOLS) printf("%*s", (int)pad, "");
	}
	putchar('\n');
}

/** Print warnings, escaped. */
static int print_warnings(TALLOC_CTX *ctx, char const *label, mud_warning_t const *w, size_t n,
			  size_t dropped)
{
	size_t i;

	printf("%s: %zu\n", label, n + dropped);
	for (i = 0; i < n; i++) {
		char *where = show_escape(ctx, w[i].where && w[i].where[0] ? w[i].where : "-",
					  SIZE_MAX, true);
		char *text = show_escape(ctx, w[i].text, SIZE_MAX, true);

		if (!where || !text) return EXIT_SYS;
		printf("  %s: %s\n", where, text);
	}
	if (dropped) printf("  (%zu more not kept)\n", dropped);
	return 0;
}

/** mudctl show --format table. */
static int show_table(TALLOC_CTX *ctx, mud_file_t const *file, mud_ruleset_t const *rs,
		      show_rule_t const *sr)
{
	static char const *head[SHOW_NCOLS] = { "#", "PEER", "NAME", "DIRECTION", "PROTOCOL",
						"INITIATES", "ACTION", "SOURCE", "JSON PATH" };
	static bool const right[SHOW_NCOLS] = { true, false, false, false, false, false, false,
						false, false };
	size_t width[SHOW_NCOLS];
	char const ***rows;
	char const *dashes[SHOW_NCOLS];
	size_t count[3] = { 0, 0, 0 };
	size_t from = 0;
	size_t shadowed = 0;
	char const *mfg;
	char const *model;
	size_t i, c;
	char *s;

	rows = talloc_array(ctx, char const **, rs->num_rules + 1);
	if (!rows) return EXIT_SYS;
	for (c = 0; c < SHOW_NCOLS; c++) width[c] = strlen(head[c]);

	for (i = 0; i < rs->num_rules; i++) {
		mud_rule_t const *r = sr[i].rule;
		char const **row = talloc_array(rows, char const *, SHOW_NCOLS);

		if (!row) return EXIT_SYS;
		rows[i] = row;
		count[sr[i].kind]++;
		if (r->dir == MUD_DIR_FROM_DEVICE) from++;

		row[0] = talloc_asprintf(row, "%zu", i + 1);
		row[1] = sr[i].peer;
		row[2] = r->peer_name ? show_escape(row, r->peer_name, SHOW_MAX_CELL, true) :
					talloc_strdup(row, "-");
		row[3] = talloc_strdup(row, r->dir == MUD_DIR_FROM_DEVICE ? "device->peer" :
									    "peer->device");
		row[4] = sr[i].proto;
		if (sr[i].shadow) {
			row[5] = talloc_asprintf(row, "- (shadowed by #%zu)", sr[i].shadow);
		} else {
			row[5] = talloc_strdup(row, init_table(sr[i].init, r->dir));
		}
		row[6] = talloc_strdup(row, r->action == MUD_ACTION_ACCEPT ? "permit" : "deny");
		switch (sr[i].kind) {
		case SHOW_KIND_MUD:
			row[7] = show_escape(row, r->origin, SHOW_MAX_CELL, false);
			row[8] = sr[i].ace ? talloc_asprintf(row, SHOW_ACE_WHERE_FMT, sr[i].acl_idx,
							     sr[i].ace_idx) :
					     talloc_strdup(row, "-");
			break;
		case SHOW_KIND_SITE:
			s = show_escape(row, r->origin, SHOW_MAX_CELL, false);
			row[7] = s ? talloc_asprintf(row, "site service (%s)", s) : NULL;
			row[8] = talloc_strdup(row, "-");
			break;
		case SHOW_KIND_DENY:
			row[7] = talloc_strdup(row, "final deny");
			row[8] = talloc_strdup(row, "-");
			break;
		}
		for (c = 0; c < SHOW_NCOLS; c++) {
			if (!row[c]) return EXIT_SYS;
			if (strlen(row[c]) > width[c]) width[c] = strlen(row[c]);
		}
	}

	s = show_escape(ctx, rs->mud_url, SIZE_MAX, false);
	if (!s) return EXIT_SYS;
	printf("%-12s%s\n", "MUD URL:", s);
	s = show_escape(ctx, rs->name, SIZE_MAX, false);
	if (!s) return EXIT_SYS;
	printf("%-12s%s\n", "Rule set:", s);
	mfg = rs->mfg_name ? show_escape(ctx, rs->mfg_name, SHOW_MAX_CELL, false) : "-";
	model = rs->model_name ? show_escape(ctx, rs->model_name, SHOW_MAX_CELL, false) : "-";
	if (!mfg || !model) return EXIT_SYS;
	printf("%-12s%s / %s\n", "Device:", mfg, model);
	if (rs->vlan > 0) {
		printf("%-12s%d\n", "VLAN:", rs->vlan);
	} else {
		printf("%-12s%s\n", "VLAN:", "none");
	}
	printf("%-12s%zu (%zu from the MUD file, %zu site services, %zu final denies; "
	       "%zu device->peer, %zu peer->device)\n", "Rules:", rs->num_rules,
	       count[SHOW_KIND_MUD], count[SHOW_KIND_SITE], count[SHOW_KIND_DENY], from,
	       rs->num_rules - from);
	printf("\n");

	for (c = 0; c < SHOW_NCOLS; c++) {
		char *d = talloc_array(ctx, char, width[c] + 1);

		if (!d) return EXIT_SYS;
		memset(d, '-', width[c]);
		d[width[c]] = '\0';
		dashes[c] = d;
	}
	print_row(head, width, right);
	print_row(dashes, width, right);
	for (i = 0; i < rs->num_rules; i++) print_row(rows[i], width, right);
	printf("\n");

	for (i = 0; i < rs->num_rules; i++) {
		size_t j = sr[i].shadow;

		if (!j) continue;
		printf("Never matches: #%zu (%s): #%zu (%s, %s) takes all its packets first\n",
		       i + 1, rows[i][7], j, rows[j - 1][7], rows[j - 1][6]);
		shadowed++;
	}
	if (shadowed) printf("\n");

	if (file->num_warnings || file->num_warnings_dropped) {
		int ret = print_warnings(ctx, "Parse warnings", file->warnings, file->num_warnings,
					 file->num_warnings_dropped);
		if (ret != 0) return ret;
	}
	return print_warnings(ctx, "Compile warnings", rs->warnings, rs->num_warnings, 0);
}

/*
 *	Picture
 */

/** Find or add the peer node of a MUD rule. */
static int node_of(TALLOC_CTX *ctx, show_node_t **nodes, size_t *num, show_rule_t const *sr)
{
	mud_rule_t const *r = sr->rule;
	char const *key = r->peer_name ? r->peer_name : r->peer.len == 0 ? "any" : sr->peer;
	show_node_t *n = NULL;
	size_t i;

	for (i = 0; i < *num; i++) {
		if ((*nodes)[i].kind == sr->peer_kind && strcmp((*nodes)[i].key, key) == 0) {
			n = &(*nodes)[i];
			break;
		}
	}
	if (!n) {
		show_node_t *nn = talloc_realloc(ctx, *nodes, show_node_t, *num + 1);

		if (!nn) return -1;
		*nodes = nn;
		n = &nn[*num];
		memset(n, 0, sizeof(*n));
		n->kind = sr->peer_kind;
		n->key = key;
		i = (*num)++;
	}
	if (r->peer_name) {
		size_t k;
		char const **na;

		for (k = 0; k < n->num_addrs; k++) {
			if (strcmp(n->addrs[k], sr->peer) == 0) return (int)i;
		}
		na = talloc_realloc(ctx, n->addrs, char const *, n->num_addrs + 1);
		if (!na) return -1;
		n->addrs = na;
		na[n->num_addrs++] = sr->peer;
	}
	return (int)i;
}

/** Add a label line to the edge of a MUD rule (distinct lines only). */
static int edge_add(TALLOC_CTX *ctx, show_edge_t **edges, size_t *num, show_rule_t const *sr)
{
	mud_rule_t const *r = sr->rule;
	bool permit = r->action == MUD_ACTION_ACCEPT;
	char const *init = init_dot(sr->init, r->dir);
	show_edge_t *e = NULL;
	char *line;
	char **nl;
	size_t i;

	for (i = 0; i < *num; i++) {
		show_edge_t *x = &(*edges)[i];

		if (x->node == sr->node && x->dir == r->dir && x->permit == permit) {
			e = x;
			break;
		}
	}
	if (!e) {
		show_edge_t *ne = talloc_realloc(ctx, *edges, show_edge_t, *num + 1);

		if (!ne) return -1;
		*edges = ne;
		e = &ne[(*num)++];
		memset(e, 0, sizeof(*e));
		e->node = sr->node;
		e->dir = r->dir;
		e->permit = permit;
	}
	if (sr->shadow) {
		line = talloc_asprintf(ctx, "%s%s, never matches (#%zu first)",
				       permit ? "" : "deny ", sr->proto, sr->shadow);
	} else {
		line = talloc_asprintf(ctx, "%s%s%s%s", permit ? "" : "deny ", sr->proto,
				       init ? ", " : "", init ? init : "");
	}
	if (!line) return -1;
	for (i = 0; i < e->num_lines; i++) {
		if (strcmp(e->lines[i], line) == 0) return 0;
	}
	nl = talloc_realloc(ctx, e->lines, char *, e->num_lines + 1);
	if (!nl) return -1;
	e->lines = nl;
	nl[e->num_lines++] = line;
	return 0;
}

/** Print an escaped, cut string inside a DOT quoted string. */
static int dot_text(TALLOC_CTX *ctx, char const *s, size_t max, bool keep_bs)
{
	char *e = show_escape(ctx, s, max, keep_bs);

	if (!e) return -1;
	dot_puts(e);
	talloc_free(e);
	return 0;
}

/** DOT attributes of a peer node. */
static char const *node_style(show_peer_t kind)
{
	switch (kind) {
	case SHOW_PEER_ANY:
		return "shape=octagon, style=filled, fillcolor=\"#eeeeee\"";
	case SHOW_PEER_NET:
		return "shape=box";
	case SHOW_PEER_DNS:
		return "shape=ellipse, style=filled, fillcolor=\"#d9ead3\"";
	case SHOW_PEER_ABS:
		return "shape=hexagon, style=filled, fillcolor=\"#fff2cc\"";
	}
	return "shape=box";
}

/** Is item one of the "; "-separated entries of list? */
static bool list_has(char const *list, char const *item)
{
	size_t len = strlen(item);
	char const *p = list;

	while (p) {
		if (strncmp(p, item, len) == 0 && (p[len] == '\0' || p[len] == ';')) return true;
		p = strstr(p, "; ");
		if (p) p += 2;
	}
	return false;
}

/** A legend line: the site service rules of one origin and peer. */
typedef struct {
	char		*key;		//!< "site/dns with 10.0.0.53"
	char		*protos;	//!< "udp peer 53; tcp peer 53"
	unsigned int	dirs;		//!< 1 device->peer, 2 peer->device
} show_legend_t;

/** The legend: site services (one line per service and peer), final denies, styles. */
static int dot_legend(TALLOC_CTX *ctx, mud_ruleset_t const *rs, show_rule_t const *sr)
{
	show_legend_t *lines = NULL;
	size_t num = 0;
	size_t denies = 0;
	size_t i, k;

	for (i = 0; i < rs->num_rules; i++) {
		char *key;

		if (sr[i].kind == SHOW_KIND_DENY) denies++;
		if (sr[i].kind != SHOW_KIND_SITE) continue;
		key = talloc_asprintf(ctx, "%s with %s", rule_origin(sr[i].rule), sr[i].peer);
		if (!key) return -1;
		for (k = 0; k < num; k++) {
			if (strcmp(lines[k].key, key) == 0) break;
		}
		if (k == num) {
			show_legend_t *nl = talloc_realloc(ctx, lines, show_legend_t, num + 1);

			if (!nl) return -1;
			lines = nl;
			lines[num].key = key;
			lines[num].protos = talloc_strdup(ctx, sr[i].proto);
			lines[num].dirs = 0;
			if (!lines[num].protos) return -1;
			num++;
		} else if (!list_has(lines[k].protos, sr[i].proto)) {
			lines[k].protos = talloc_asprintf_append(lines[k].protos, "; %s",
								 sr[i].proto);
			if (!lines[k].protos) return -1;
		}
		lines[k].dirs |= sr[i].rule->dir == MUD_DIR_FROM_DEVICE ? 1u : 2u;
	}

	printf("\tsubgraph cluster_legend {\n"
	       "\t\tlabel=\"Legend\";\n\t\tstyle=dashed;\n\t\tcolor=\"#999999\";\n"
	       "\t\tlegend [shape=plaintext, label=\"");
	if (num) {
		dot_puts("Site services (site context, before the MUD rules):");
		fputs("\\l", stdout);
	}
	for (k = 0; k < num; k++) {
		fputs("  ", stdout);
		if (dot_text(ctx, lines[k].key, SIZE_MAX, false) < 0) return -1;
		dot_puts(": ");
		dot_puts(lines[k].protos);
		dot_puts(lines[k].dirs == 3 ? " (both directions)" :
			 lines[k].dirs == 1 ? " (device->peer)" : " (peer->device)");
		fputs("\\l", stdout);
	}
	printf("Final denies: all other traffic is dropped (%zu rules)\\l", denies);
	dot_puts("Edges: device->peer = sent by the device; solid = permit; dashed red = deny");
	fputs("\\l", stdout);
	dot_puts("Peers: hexagon = abstraction, ellipse = DNS name, box = network, "
		 "octagon = any address");
	fputs("\\l\"];\n\t}\n", stdout);
	return 0;
}

/** mudctl show --format dot. */
static int show_dot(TALLOC_CTX *ctx, mud_ruleset_t const *rs, show_rule_t *sr)
{
	show_node_t *nodes = NULL;
	show_edge_t *edges = NULL;
	size_t num_nodes = 0;
	size_t num_edges = 0;
	size_t i, k;

	for (i = 0; i < rs->num_rules; i++) {
		if (sr[i].kind != SHOW_KIND_MUD) continue;
		sr[i].node = node_of(ctx, &nodes, &num_nodes, &sr[i]);
		if (sr[i].node < 0) return EXIT_SYS;
		if (edge_add(ctx, &edges, &num_edges, &sr[i]) < 0) return EXIT_SYS;
	}

	printf("digraph \"mud\" {\n");
	printf("\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, "
	       "label=\"");
	if (dot_text(ctx, rs->name, SHOW_MAX_CELL, false) < 0) return EXIT_SYS;
	if (rs->vlan > 0) printf(" (VLAN %d)", rs->vlan);
	printf("\"];\n");
	printf("\tnode [fontname=\"Helvetica\", fontsize=10];\n");
	printf("\tedge [fontname=\"Helvetica\", fontsize=9];\n");

	printf("\tdevice [shape=box, style=\"rounded,filled,bold\", fillcolor=\"#cfe2f3\", "
	       "label=\"");
	if (rs->model_name && dot_text(ctx, rs->model_name, SHOW_MAX_CELL, false) < 0) {
		return EXIT_SYS;
	}
	if (!rs->model_name) dot_puts("device");
	if (rs->mfg_name) {
		fputs("\\n", stdout);
		if (dot_text(ctx, rs->mfg_name, SHOW_MAX_CELL, false) < 0) return EXIT_SYS;
	}
	fputs("\\n", stdout);
	if (dot_text(ctx, rs->mud_url, SIZE_MAX, false) < 0) return EXIT_SYS;
	printf("\"];\n");

	for (i = 0; i < num_nodes; i++) {
		show_node_t const *n = &nodes[i];

		printf("\tp%zu [%s, label=\"", i + 1, node_style(n->kind));
		if (n->kind == SHOW_PEER_ANY) {
			dot_puts("any address");
		} else if (dot_text(ctx, n->key, SHOW_MAX_CELL, n->kind != SHOW_PEER_NET) < 0) {
			return EXIT_SYS;
		}
		for (k = 0; k < n->num_addrs && k < SHOW_MAX_NODE_ADDRS; k++) {
			fputs("\\n", stdout);
			dot_puts(n->addrs[k]);
		}
		if (n->num_addrs > SHOW_MAX_NODE_ADDRS) {
			printf("\\n+%zu more", n->num_addrs - SHOW_MAX_NODE_ADDRS);
		}
		printf("\"];\n");
	}

	for (i = 0; i < num_edges; i++) {
		show_edge_t const *e = &edges[i];

		if (e->dir == MUD_DIR_FROM_DEVICE) {
			printf("\tdevice -> p%d [", e->node + 1);
		} else {
			printf("\tp%d -> device [", e->node + 1);
		}
		if (!e->permit) printf("style=dashed, color=red, fontcolor=red, ");
		printf("label=\"");
		for (k = 0; k < e->num_lines; k++) {
			if (k) fputs("\\n", stdout);
			dot_puts(e->lines[k]);
		}
		printf("\"];\n");
	}

	if (dot_legend(ctx, rs, sr) < 0) return EXIT_SYS;
	printf("}\n");
	return 0;
}

/** mudctl show. */
int mudctl_cmd_show(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "lenient", no_argument, NULL, 'l' },
		{ "url", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	char const *context = NULL;
	char const *url = NULL;
	unsigned int flags = MUD_PARSE_STRICT;
	bool dot = false;
	mud_context_t *site;
	mud_file_t *file;
	mud_ruleset_t *rs;
	show_rule_t *sr;
	mud_error_t err;
	mud_rcode_t rc;
	int c;
	int ret;

	mud_error_clear(&err);
	while ((c = getopt_long(argc, argv, "c:lu:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': context = optarg; break;
		case 'l': flags |= MUD_PARSE_LENIENT; break;
		case 'u': url = optarg; break;
		case 'f':
			if (strcmp(optarg, "table") == 0) {
				dot = false;
			} else if (strcmp(optarg, "dot") == 0) {
				dot = true;
			} else {
				return usage_error("show", "--format \"%s\": table or dot", optarg);
			}
			break;
		default: return usage_error("show", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("show", "expected one MUD file%s", NULL);

	ret = load_context(ctx, context, &site);
	if (ret != 0) return ret;
	ret = load_mud(ctx, argv[optind], url, flags, &file);
	if (ret != 0) return ret;
	rc = mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);

	sr = analyse(ctx, file, site, rs);
	if (!sr) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_SYS;
	}
	ret = dot ? show_dot(ctx, rs, sr) : show_table(ctx, file, rs, sr);
	if (ret != 0) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return ret;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", progname);
		return EXIT_SYS;
	}
	return 0;
}
