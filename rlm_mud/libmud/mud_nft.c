/*
 * mud_nft.c - compiled MUD rules -> nftables JSON transactions, run through libnftables.
 *
 * The only file that includes <nftables/libnftables.h>. Layout of what it installs
 * (docs/enforce.md):
 *
 *   table inet T
 *     map out  ether_addr : verdict	device MAC -> jump out_<id>
 *     map in   ether_addr : verdict	device MAC -> jump in_<id>  (bridged to the device)
 *     map in4  ipv4_addr  : verdict	device address -> jump in_<id>  (routed to it)
 *     map in6  ipv6_addr  : verdict
 *     chain forward (hook forward): mark |= MUD bit; ether saddr vmap @out;
 *                                   ether daddr vmap @in; ip daddr vmap @in4; ip6 ... @in6
 *     chain out_<id>, in_<id>: ct state invalid drop; the device's rules in order
 *                              (permit = return, the to-device ones also clear the bit);
 *                              counter drop (default deny)
 *   table bridge T
 *     set macs ether_addr; chain output (hook output): mark has the bit, ether daddr @macs:
 *     drop. A packet routed to a device address the neighbour table does not know yet was
 *     not seen by the device's chain: it is dropped, never let through unfiltered.
 *
 * A permit that needs the connection opened by the other side (rule->established) matches
 * only `ct direction reply ct state established`: a new connection can only come from the
 * initiator the MUD file permits.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <talloc.h>
#include <nftables/libnftables.h>

#include "mud_private.h"
#include "mud_nft.h"

/** The fwmark bit the forward chain sets and a device's to-device permit clears. */
#define MUDP_NFT_MARK		0x20000000u

struct mudp_nft {
	struct nft_ctx	*nft;
};

/** A string under construction; the first allocation failure sticks. */
typedef struct {
	char	*s;
	bool	oom;
} sbuf_t;

static void sb_add(sbuf_t *b, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf_t *b, char const *fmt, ...)
{
	va_list ap;
	char *n;

	if (b->oom) return;
	va_start(ap, fmt);
	n = talloc_vasprintf_append_buffer(b->s, fmt, ap);
	va_end(ap);
	if (!n) {
		b->oom = true;
		return;
	}
	b->s = n;
}

bool mudp_nft_name_ok(char const *name)
{
	size_t i;

	if (!name || !name[0] || strlen(name) > MUD_ENFORCE_MAX_TABLE) return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_')) return false;
	}
	return true;
}

bool mudp_mac_parse(char const *in, uint8_t mac[6], char canon[18], char id[13])
{
	unsigned int i;
	size_t len;
	static char const hex[] = "0123456789abcdef";

	if (!in) return false;
	len = strlen(in);
	if (len != 17) return false;
	for (i = 0; i < 6; i++) {
		int v = 0;
		unsigned int j;

		for (j = 0; j < 2; j++) {
			char c = in[i * 3 + j];

			v <<= 4;
			if (c >= '0' && c <= '9') v |= c - '0';
			else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
			else return false;
		}
		if (i < 5 && in[i * 3 + 2] != ':' && in[i * 3 + 2] != '-') return false;
		mac[i] = (uint8_t)v;
	}
	if (mac[0] & 1) return false;	/* group address: never a station */
	for (i = 0; i < 6; i++) {
		canon[i * 3] = hex[mac[i] >> 4];
		canon[i * 3 + 1] = hex[mac[i] & 15];
		canon[i * 3 + 2] = i < 5 ? ':' : '\0';
		id[i * 2] = hex[mac[i] >> 4];
		id[i * 2 + 1] = hex[mac[i] & 15];
	}
	id[12] = '\0';
	return true;
}

/* ---------------------------------------------------------------- JSON pieces */

static void addr_str(char *buf, size_t len, mud_prefix_t const *p)
{
	if (!inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, buf, len)) buf[0] = '\0';
}

static void j_port(sbuf_t *b, char const *proto, char const *field, mud_port_t const *p)
{
	char const *op = "==";

	switch (p->op) {
	case MUD_PORT_ANY:
		return;
	case MUD_PORT_EQ:
		break;
	case MUD_PORT_NEQ:
		op = "!=";
		break;
	case MUD_PORT_LTE:
		op = "<=";
		break;
	case MUD_PORT_GTE:
		op = ">=";
		break;
	case MUD_PORT_RANGE:
		sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"%s\","
		       "\"field\":\"%s\"}},\"right\":{\"range\":[%u,%u]}}}", proto, field,
		       (unsigned int)p->lo, (unsigned int)p->hi);
		return;
	}
	sb_add(b, ",{\"match\":{\"op\":\"%s\",\"left\":{\"payload\":{\"protocol\":\"%s\","
	       "\"field\":\"%s\"}},\"right\":%u}}", op, proto, field, (unsigned int)p->lo);
}

static bool port_ok(mud_port_t const *p)
{
	switch (p->op) {
	case MUD_PORT_ANY:
	case MUD_PORT_EQ:
	case MUD_PORT_NEQ:
	case MUD_PORT_LTE:
	case MUD_PORT_GTE:
		return true;
	case MUD_PORT_RANGE:
		return p->lo <= p->hi;
	}
	return false;
}

/** Check a rule before writing it: anything the IR documentation does not allow is refused
 *  (a malformed permit must never become a wider one). */
static mud_rcode_t rule_check(mud_rule_t const *r, size_t idx, mud_error_t *err)
{
	char where[160];
	char const *why = NULL;
	bool ports = r->device_port.op != MUD_PORT_ANY || r->peer_port.op != MUD_PORT_ANY;
	int icmp = r->family == 6 ? 58 : 1;

	if (r->origin) snprintf(where, sizeof(where), "%s", r->origin);
	else snprintf(where, sizeof(where), "rule %zu", idx);

	if (r->family != 4 && r->family != 6) why = "family is neither 4 nor 6";
	else if (r->dir != MUD_DIR_FROM_DEVICE && r->dir != MUD_DIR_TO_DEVICE)
		why = "bad direction";
	else if (r->action != MUD_ACTION_ACCEPT && r->action != MUD_ACTION_DROP &&
		 r->action != MUD_ACTION_REJECT) why = "bad action";
	else if (r->protocol < -1 || r->protocol > 255) why = "protocol out of range";
	else if (r->peer.len > 0 && r->peer.family != r->family) why = "peer of the wrong family";
	else if (r->peer.len > (r->family == 6 ? 128 : 32)) why = "peer prefix too long";
	else if (ports && r->protocol != 6 && r->protocol != 17) why = "ports without tcp or udp";
	else if (!port_ok(&r->device_port) || !port_ok(&r->peer_port)) why = "bad port match";
	else if (r->established && r->protocol != 6) why = "established without tcp";
	else if ((r->icmp_type >= 0 || r->icmp_code >= 0) && r->protocol != icmp)
		why = "ICMP type or code without ICMP of the rule's family";
	else if (r->icmp_type > 255 || r->icmp_code > 255) why = "ICMP type or code out of range";
	else if (r->icmp_code >= 0 && r->icmp_type < 0 && r->action == MUD_ACTION_ACCEPT)
		why = "ICMP code without a type";
	if (why) return mud_error_set(err, MUD_ERR_RENDER, where, "nftables: %s", why);
	return MUD_OK;
}

/** The match expressions of one rule, all but the first preceded by ','. */
static void j_rule_matches(sbuf_t *b, mud_rule_t const *r)
{
	char const *l3 = r->family == 6 ? "ip6" : "ip";
	bool from = r->dir == MUD_DIR_FROM_DEVICE;

	sb_add(b, "{\"match\":{\"op\":\"==\",\"left\":{\"meta\":{\"key\":\"nfproto\"}},"
	       "\"right\":\"%s\"}}", r->family == 6 ? "ipv6" : "ipv4");
	if (r->peer.len > 0) {
		char a[INET6_ADDRSTRLEN];
		mud_prefix_t p = r->peer;
		unsigned int i;
		unsigned int bits = r->family == 6 ? 128 : 32;

		for (i = p.len; i < bits; i++) p.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
		addr_str(a, sizeof(a), &p);
		if (p.len == bits) {
			sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":"
			       "\"%s\",\"field\":\"%s\"}},\"right\":\"%s\"}}", l3,
			       from ? "daddr" : "saddr", a);
		} else {
			sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":"
			       "\"%s\",\"field\":\"%s\"}},\"right\":{\"prefix\":{\"addr\":\"%s\","
			       "\"len\":%u}}}}", l3, from ? "daddr" : "saddr", a,
			       (unsigned int)p.len);
		}
	}
	if (r->protocol >= 0) {
		sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"meta\":{\"key\":\"l4proto\"}},"
		       "\"right\":%d}}", r->protocol);
	}
	if (r->protocol == 6 || r->protocol == 17) {
		char const *pn = r->protocol == 6 ? "tcp" : "udp";

		j_port(b, pn, from ? "sport" : "dport", &r->device_port);
		j_port(b, pn, from ? "dport" : "sport", &r->peer_port);
	}
	if (r->icmp_type >= 0) {
		sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"%s\","
		       "\"field\":\"type\"}},\"right\":%d}}", r->family == 6 ? "icmpv6" : "icmp",
		       r->icmp_type);
		if (r->icmp_code >= 0) {
			sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":"
			       "\"%s\",\"field\":\"code\"}},\"right\":%d}}",
			       r->family == 6 ? "icmpv6" : "icmp", r->icmp_code);
		}
	}
	if (r->established) {
		sb_add(b, ",{\"match\":{\"op\":\"==\",\"left\":{\"ct\":{\"key\":\"direction\"}},"
		       "\"right\":\"reply\"}},{\"match\":{\"op\":\"in\",\"left\":{\"ct\":{\"key\":"
		       "\"state\"}},\"right\":\"established\"}}");
	}
}

static void j_mark(sbuf_t *b, bool set)
{
	sb_add(b, "{\"mangle\":{\"key\":{\"meta\":{\"key\":\"mark\"}},\"value\":{\"%s\":"
	       "[{\"meta\":{\"key\":\"mark\"}},%u]}}}", set ? "|" : "&",
	       set ? MUDP_NFT_MARK : ~MUDP_NFT_MARK);
}

#define J_RULE	"{\"add\":{\"rule\":{\"family\":\"inet\",\"table\":\"%s\"," \
		"\"chain\":\"%s\",\"expr\":["

static void j_device_chain(sbuf_t *b, char const *table, char const *chain,
			   mud_ruleset_t const *rs, mud_dir_t dir)
{
	size_t i;

	sb_add(b, ",{\"add\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\",\"name\":\"%s\"}}}"
	       ",{\"flush\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\",\"name\":\"%s\"}}}",
	       table, chain, table, chain);
	sb_add(b, "," J_RULE "{\"match\":{\"op\":\"in\",\"left\":{\"ct\":{\"key\":\"state\"}},"
	       "\"right\":\"invalid\"}},{\"drop\":null}]}}}", table, chain);
	for (i = 0; i < rs->num_rules; i++) {
		mud_rule_t const *r = &rs->rules[i];

		if (r->dir != dir) continue;
		sb_add(b, "," J_RULE, table, chain);
		j_rule_matches(b, r);
		if (r->action == MUD_ACTION_ACCEPT) {
			if (dir == MUD_DIR_TO_DEVICE) {
				sb_add(b, ",");
				j_mark(b, false);
			}
			sb_add(b, ",{\"return\":null}]}}}");
		} else {
			sb_add(b, ",{\"drop\":null}]}}}");
		}
	}
	sb_add(b, "," J_RULE "{\"counter\":null},{\"drop\":null}]}}}", table, chain);
}

mud_rcode_t mud_nft_device_json(TALLOC_CTX *ctx, char **out, char const *table,
				char const *mac, mud_ruleset_t const *rs,
				mud_prefix_t const *addrs, size_t num_addrs, mud_error_t *err)
{
	sbuf_t b = { NULL, false };
	uint8_t m[6];
	char canon[18];
	char id[13];
	char chain[32];
	size_t i;
	mud_rcode_t rc;

	*out = NULL;
	if (!mudp_nft_name_ok(table)) {
		return mud_error_set(err, MUD_ERR_ARG, "table", "bad nftables table name");
	}
	if (!mudp_mac_parse(mac, m, canon, id)) {
		return mud_error_set(err, MUD_ERR_ARG, "mac", "not a unicast MAC address "
				     "(xx:xx:xx:xx:xx:xx)");
	}
	if (!rs) return mud_error_set(err, MUD_ERR_ARG, "rules", "no rule set");
	if (num_addrs > MUD_ENFORCE_MAX_ADDRS) {
		return mud_error_set(err, MUD_ERR_LIMIT, "addrs", "more than %d addresses",
				     MUD_ENFORCE_MAX_ADDRS);
	}
	for (i = 0; i < rs->num_rules; i++) {
		rc = rule_check(&rs->rules[i], i, err);
		if (rc != MUD_OK) return rc;
	}

	b.s = talloc_strdup(ctx, "{\"nftables\":[{\"metainfo\":{\"json_schema_version\":1}}");
	if (!b.s) return mud_error_set(err, MUD_ERR_NOMEM, "nftables", "out of memory");
	snprintf(chain, sizeof(chain), "out_%s", id);
	j_device_chain(&b, table, chain, rs, MUD_DIR_FROM_DEVICE);
	snprintf(chain, sizeof(chain), "in_%s", id);
	j_device_chain(&b, table, chain, rs, MUD_DIR_TO_DEVICE);
	sb_add(&b, ",{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\",\"name\":\"out\","
	       "\"elem\":[[\"%s\",{\"jump\":{\"target\":\"out_%s\"}}]]}}}", table, canon, id);
	sb_add(&b, ",{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\",\"name\":\"in\","
	       "\"elem\":[[\"%s\",{\"jump\":{\"target\":\"in_%s\"}}]]}}}", table, canon, id);
	sb_add(&b, ",{\"add\":{\"element\":{\"family\":\"bridge\",\"table\":\"%s\","
	       "\"name\":\"macs\",\"elem\":[\"%s\"]}}}", table, canon);
	for (i = 0; i < num_addrs; i++) {
		char a[INET6_ADDRSTRLEN];

		addr_str(a, sizeof(a), &addrs[i]);
		sb_add(&b, ",{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s\",\"elem\":[[\"%s\",{\"jump\":{\"target\":\"in_%s\"}}]]}}}",
		       table, addrs[i].family == 6 ? "in6" : "in4", a, id);
	}
	sb_add(&b, "]}");
	if (b.oom) {
		talloc_free(b.s);
		return mud_error_set(err, MUD_ERR_NOMEM, "nftables", "out of memory");
	}
	*out = b.s;
	return MUD_OK;
}

char *mudp_nft_table_json(TALLOC_CTX *ctx, char const *table, char const *bridge, bool fresh)
{
	sbuf_t b = { NULL, false };
	static char const *maps[][2] = {
		{ "out", "ether_addr" }, { "in", "ether_addr" },
		{ "in4", "ipv4_addr" }, { "in6", "ipv6_addr" },
	};
	static char const *vmaps[][3] = {
		{ "ether", "saddr", "out" }, { "ether", "daddr", "in" },
		{ "ip", "daddr", "in4" }, { "ip6", "daddr", "in6" },
	};
	size_t i;

	b.s = talloc_strdup(ctx, "{\"nftables\":[{\"metainfo\":{\"json_schema_version\":1}}");
	if (!b.s) return NULL;
	if (fresh) {
		/* "add" first so that "delete" never fails on an absent table */
		sb_add(&b, ",{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"%s\"}}}"
		       ",{\"delete\":{\"table\":{\"family\":\"inet\",\"name\":\"%s\"}}}"
		       ",{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"%s\"}}}"
		       ",{\"delete\":{\"table\":{\"family\":\"bridge\",\"name\":\"%s\"}}}",
		       table, table, table, table);
	}
	sb_add(&b, ",{\"add\":{\"table\":{\"family\":\"inet\",\"name\":\"%s\"}}}", table);
	for (i = 0; i < MUD_ARRAY_LEN(maps); i++) {
		sb_add(&b, ",{\"add\":{\"map\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s\","
		       "\"type\":\"%s\",\"map\":\"verdict\"}}}", table, maps[i][0], maps[i][1]);
	}
	sb_add(&b, ",{\"add\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\","
	       "\"name\":\"forward\","
	       "\"type\":\"filter\",\"hook\":\"forward\",\"prio\":0,\"policy\":\"accept\"}}}",
	       table);
	sb_add(&b, ",{\"flush\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\","
	       "\"name\":\"forward\"}}}", table);
	sb_add(&b, "," J_RULE, table, "forward");
	if (bridge) {
		sb_add(&b, "{\"match\":{\"op\":\"==\",\"left\":{\"meta\":{\"key\":\"oifname\"}},"
		       "\"right\":\"%s\"}},", bridge);
	}
	j_mark(&b, true);
	sb_add(&b, "]}}}");
	for (i = 0; i < MUD_ARRAY_LEN(vmaps); i++) {
		sb_add(&b, "," J_RULE "{\"vmap\":{\"key\":{\"payload\":{\"protocol\":\"%s\","
		       "\"field\":\"%s\"}},\"data\":\"@%s\"}}]}}}", table, "forward",
		       vmaps[i][0], vmaps[i][1], vmaps[i][2]);
	}
	sb_add(&b, ",{\"add\":{\"table\":{\"family\":\"bridge\",\"name\":\"%s\"}}}"
	       ",{\"add\":{\"set\":{\"family\":\"bridge\",\"table\":\"%s\",\"name\":\"macs\","
	       "\"type\":\"ether_addr\"}}}"
	       ",{\"add\":{\"chain\":{\"family\":\"bridge\",\"table\":\"%s\",\"name\":\"output\","
	       "\"type\":\"filter\",\"hook\":\"output\",\"prio\":0,\"policy\":\"accept\"}}}"
	       ",{\"flush\":{\"chain\":{\"family\":\"bridge\",\"table\":\"%s\","
	       "\"name\":\"output\"}}}"
	       ",{\"add\":{\"rule\":{\"family\":\"bridge\",\"table\":\"%s\",\"chain\":\"output\","
	       "\"expr\":[{\"match\":{\"op\":\"==\",\"left\":{\"&\":[{\"meta\":{\"key\":\"mark\"}},"
	       "%u]},\"right\":%u}},{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":"
	       "\"ether\",\"field\":\"daddr\"}},\"right\":\"@macs\"}},{\"counter\":null},"
	       "{\"drop\":null}]}}}",
	       table, table, table, table, table, MUDP_NFT_MARK, MUDP_NFT_MARK);
	sb_add(&b, "]}");
	if (b.oom) {
		talloc_free(b.s);
		return NULL;
	}
	return b.s;
}

char *mudp_nft_remove_json(TALLOC_CTX *ctx, char const *table, char const *mac,
			   mud_prefix_t const *addrs, size_t num_addrs)
{
	sbuf_t b = { NULL, false };
	uint8_t m[6];
	char canon[18];
	char id[13];
	size_t i;

	if (!mudp_nft_name_ok(table) || !mudp_mac_parse(mac, m, canon, id)) return NULL;
	b.s = talloc_strdup(ctx, "{\"nftables\":[{\"metainfo\":{\"json_schema_version\":1}}");
	if (!b.s) return NULL;
	for (i = 0; i < num_addrs; i++) {
		char a[INET6_ADDRSTRLEN];

		addr_str(a, sizeof(a), &addrs[i]);
		sb_add(&b, ",{\"delete\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s\",\"elem\":[\"%s\"]}}}", table,
		       addrs[i].family == 6 ? "in6" : "in4", a);
	}
	sb_add(&b, ",{\"delete\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
	       "\"name\":\"out\",\"elem\":[\"%s\"]}}}", table, canon);
	sb_add(&b, ",{\"delete\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
	       "\"name\":\"in\",\"elem\":[\"%s\"]}}}", table, canon);
	sb_add(&b, ",{\"delete\":{\"element\":{\"family\":\"bridge\",\"table\":\"%s\","
	       "\"name\":\"macs\",\"elem\":[\"%s\"]}}}", table, canon);
	for (i = 0; i < 2; i++) {
		char const *c = i ? "in" : "out";

		sb_add(&b, ",{\"flush\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s_%s\"}}}", table, c, id);
		sb_add(&b, ",{\"delete\":{\"chain\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s_%s\"}}}", table, c, id);
	}
	sb_add(&b, "]}");
	if (b.oom) {
		talloc_free(b.s);
		return NULL;
	}
	return b.s;
}

char *mudp_nft_addr_json(TALLOC_CTX *ctx, char const *table, char const *id,
			 mud_prefix_t const *addr, bool add, char const *old_id)
{
	char a[INET6_ADDRSTRLEN];
	char const *map = addr->family == 6 ? "in6" : "in4";
	sbuf_t b = { NULL, false };

	addr_str(a, sizeof(a), addr);
	b.s = talloc_strdup(ctx, "{\"nftables\":[{\"metainfo\":{\"json_schema_version\":1}}");
	if (!b.s) return NULL;
	if (!add || old_id) {
		sb_add(&b, ",{\"delete\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s\",\"elem\":[\"%s\"]}}}", table, map, a);
	}
	if (add) {
		sb_add(&b, ",{\"add\":{\"element\":{\"family\":\"inet\",\"table\":\"%s\","
		       "\"name\":\"%s\",\"elem\":[[\"%s\",{\"jump\":{\"target\":\"in_%s\"}}]]}}}",
		       table, map, a, id);
	}
	sb_add(&b, "]}");
	if (b.oom) {
		talloc_free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---------------------------------------------------------------- libnftables */

static int _nft_free(mudp_nft_t *n)
{
	if (n->nft) nft_ctx_free(n->nft);
	n->nft = NULL;
	return 0;
}

mud_rcode_t mudp_nft_open(TALLOC_CTX *ctx, mudp_nft_t **out, mud_error_t *err)
{
	mudp_nft_t *n;

	*out = NULL;
	n = talloc_zero(ctx, mudp_nft_t);
	if (!n) return mud_error_set(err, MUD_ERR_NOMEM, "nft_ctx_new", "out of memory");
	n->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->nft) {
		talloc_free(n);
		return mud_error_set(err, MUD_ERR_NOMEM, "nft_ctx_new", "cannot create the "
				     "libnftables context");
	}
	talloc_set_destructor(n, _nft_free);
	if (nft_ctx_buffer_output(n->nft) != 0 || nft_ctx_buffer_error(n->nft) != 0) {
		talloc_free(n);
		return mud_error_set(err, MUD_ERR_NOMEM, "nft_ctx_buffer_output", "out of memory");
	}
	*out = n;
	return MUD_OK;
}

/** The first line of libnftables' error buffer, escaped, into err->text. */
static mud_rcode_t nft_failed(mudp_nft_t *n, char const *what, mud_error_t *err)
{
	char const *e = nft_ctx_get_error_buffer(n->nft);
	char line[200];
	size_t len = 0;

	if (!e) e = "";
	while (e[len] && e[len] != '\n') len++;
	mudp_escape(line, sizeof(line), e, len);
	return mud_error_set(err, MUD_ERR_IO, what, "nftables: %s",
			     line[0] ? line : "command failed");
}

mud_rcode_t mudp_nft_run(mudp_nft_t *n, char const *json, char const *what, mud_error_t *err)
{
	unsigned int flags = nft_ctx_output_get_flags(n->nft);

	/* libnftables 1.0.6 reads JSON input only in JSON output mode */
	nft_ctx_output_set_flags(n->nft, flags | NFT_CTX_OUTPUT_JSON);
	if (nft_run_cmd_from_buffer(n->nft, json) != 0) {
		nft_ctx_output_set_flags(n->nft, flags);
		return nft_failed(n, what, err);
	}
	nft_ctx_output_set_flags(n->nft, flags);
	(void)nft_ctx_get_error_buffer(n->nft);	/* reading resets the buffers */
	(void)nft_ctx_get_output_buffer(n->nft);
	return MUD_OK;
}

char *mudp_nft_list(mudp_nft_t *n, TALLOC_CTX *ctx, char const *family, char const *table)
{
	char cmd[96];
	char const *o;

	if (!mudp_nft_name_ok(table)) return NULL;
	snprintf(cmd, sizeof(cmd), "list table %s %s", family, table);
	if (nft_run_cmd_from_buffer(n->nft, cmd) != 0) {
		(void)nft_ctx_get_error_buffer(n->nft);
		return NULL;
	}
	(void)nft_ctx_get_error_buffer(n->nft);
	o = nft_ctx_get_output_buffer(n->nft);
	return talloc_strdup(ctx, o ? o : "");
}
