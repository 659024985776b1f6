/*
 * test_render.c - unit tests for the renderers (mud_render*.c): byte-exact
 * Cisco dACL lines, NAS-Filter-Rules and JSON, limits and errors.
 *
 * Rule sets are built by hand here, independently of the compiler.
 */
#include "test_common.h"
#include "mud_render_priv.h"

#include <openssl/sha.h>

#define ORIGIN	"acl/ace"

/** A rule with defaults: any ports, no ICMP match, not established, origin "acl/ace". */
static mud_rule_t rule(mud_dir_t dir, int family, mud_action_t action, int protocol,
		       char const *peer)
{
	mud_rule_t r;

	memset(&r, 0, sizeof(r));
	r.dir = dir;
	r.family = family;
	r.action = action;
	r.protocol = protocol;
	r.icmp_type = -1;
	r.icmp_code = -1;
	r.origin = (char *)ORIGIN;
	if (peer) {
		mud_error_t err;

		mud_error_clear(&err);
		if (mud_prefix_parse(&r.peer, peer, false, &err) != MUD_OK) {
			fail_msg("bad test prefix %s: %s", peer, err.text);
		}
	}
	return r;
}

static mud_port_t port(mud_port_op_t op, uint16_t lo, uint16_t hi)
{
	mud_port_t p = { .op = op, .lo = lo, .hi = hi };

	return p;
}

static mud_ruleset_t ruleset(mud_rule_t *rules, size_t n)
{
	mud_ruleset_t rs;

	memset(&rs, 0, sizeof(rs));
	rs.mud_url = (char *)"https://lamp.example.com/lamp.json";
	rs.name = (char *)"lamp";
	rs.cache_validity = 48;
	rs.rules = rules;
	rs.num_rules = n;
	return rs;
}

/** Render and compare every line (v4 then v6) byte for byte. */
static mud_rendered_t *render_ok(void *ctx, mud_ruleset_t const *rs, mud_format_t fmt,
				 char const * const *v4, size_t nv4,
				 char const * const *v6, size_t nv6)
{
	mud_rendered_t *r = NULL;
	mud_error_t err;
	size_t i;

	mud_error_clear(&err);
	if (mud_ruleset_render(ctx, &r, rs, fmt, &err) != MUD_OK) {
		fail_msg("render failed: %s at %s: %s", mud_rcode_name(err.code), err.where,
			 err.text);
	}
	assert_non_null(r);
	assert_int_equal(r->format, fmt);
	assert_int_equal(r->num_v4, nv4);
	assert_int_equal(r->num_v6, nv6);
	for (i = 0; i < nv4; i++) assert_string_equal(r->v4[i], v4[i]);
	for (i = 0; i < nv6; i++) assert_string_equal(r->v6[i], v6[i]);
	assert_int_equal(strlen(r->hash), 64);
	return r;
}

/** Render one rule and compare its single output line. */
static void one(void *ctx, mud_rule_t r, mud_format_t fmt, char const *expect)
{
	mud_ruleset_t rs = ruleset(&r, 1);
	mud_rendered_t *out;
	bool v6 = fmt == MUD_FMT_CISCO_DACL && r.family == 6;

	if (v6) {
		out = render_ok(ctx, &rs, fmt, NULL, 0, &expect, 1);
	} else {
		out = render_ok(ctx, &rs, fmt, &expect, 1, NULL, 0);
	}
	talloc_free(out);
}

/** Render and expect an error with exact code, where and text. */
static void render_fail(void *ctx, mud_ruleset_t const *rs, mud_format_t fmt, mud_rcode_t code,
			char const *where, char const *text)
{
	mud_rendered_t *r = (mud_rendered_t *)ctx;	/* must be reset to NULL */
	size_t blocks = talloc_total_blocks(ctx);
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &r, rs, fmt, &err), code);
	assert_null(r);
	assert_int_equal(err.code, code);
	assert_string_equal(err.where, where);
	if (text) assert_string_equal(err.text, text);
	assert_int_equal(talloc_total_blocks(ctx), blocks);	/* nothing left behind */
}

static void fail_one(void *ctx, mud_rule_t r, mud_format_t fmt, mud_rcode_t code, char const *where,
		     char const *text)
{
	mud_ruleset_t rs = ruleset(&r, 1);

	render_fail(ctx, &rs, fmt, code, where, text);
}

#define F4 MUD_DIR_FROM_DEVICE, 4
#define F6 MUD_DIR_FROM_DEVICE, 6
#define T4 MUD_DIR_TO_DEVICE, 4
#define T6 MUD_DIR_TO_DEVICE, 6
#define ACC MUD_ACTION_ACCEPT
#define DRP MUD_ACTION_DROP
#define CISCO MUD_FMT_CISCO_DACL
#define NFR MUD_FMT_NAS_FILTER_RULE

/* ------------------------------------------------------------------ */

static void test_format_names(void **state)
{
	(void)state;
	assert_int_equal(mud_format_by_name("cisco-dacl"), MUD_FMT_CISCO_DACL);
	assert_int_equal(mud_format_by_name("nas-filter-rule"), MUD_FMT_NAS_FILTER_RULE);
	assert_int_equal(mud_format_by_name("json"), MUD_FMT_JSON);
	assert_int_equal(mud_format_by_name("Cisco-DACL"), MUD_FMT_CISCO_DACL);
	assert_int_equal(mud_format_by_name("cisco"), -1);
	assert_int_equal(mud_format_by_name("cisco-dacl "), -1);
	assert_int_equal(mud_format_by_name(""), -1);
	assert_int_equal(mud_format_by_name(NULL), -1);
	assert_int_equal(mud_format_by_name("\xff\x01"), -1);
	assert_string_equal(mud_format_name(MUD_FMT_CISCO_DACL), "cisco-dacl");
	assert_string_equal(mud_format_name(MUD_FMT_NAS_FILTER_RULE), "nas-filter-rule");
	assert_string_equal(mud_format_name(MUD_FMT_JSON), "json");
	assert_string_equal(mud_format_name(MUD_FMT_MAX), "unknown");
	assert_string_equal(mud_format_name((mud_format_t)-7), "unknown");
}

static void test_bad_args(void **state)
{
	void *ctx = *state;
	mud_rule_t r = rule(F4, ACC, -1, NULL);
	mud_ruleset_t rs = ruleset(&r, 1);
	mud_rendered_t *out = (mud_rendered_t *)ctx;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, NULL, &rs, CISCO, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "mud_ruleset_render");
	assert_string_equal(err.text, "no output pointer");

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &out, NULL, CISCO, &err), MUD_ERR_ARG);
	assert_null(out);
	assert_string_equal(err.text, "no rule set");

	out = (mud_rendered_t *)ctx;
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &out, &rs, MUD_FMT_MAX, &err), MUD_ERR_ARG);
	assert_null(out);
	assert_string_equal(err.text, "unknown output format 3");

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &out, &rs, (mud_format_t)-1, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "unknown output format -1");

	rs.rules = NULL;
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &out, &rs, NFR, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "rule set claims 1 rules but has none");

	/* err may be NULL */
	assert_int_equal(mud_ruleset_render(ctx, &out, NULL, NFR, NULL), MUD_ERR_ARG);
	assert_null(mud_ruleset_to_json(ctx, NULL));
	assert_null(mud_ruleset_to_json(ctx, &rs));	/* rules NULL with num_rules 1 */
	assert_no_leak(ctx);
}

/* ------------------------------------------------------------------ */
/* Cisco dACL                                                          */

static void test_cisco_protocols(void **state)
{
	void *ctx = *state;
	mud_rule_t r;

	one(ctx, rule(F4, ACC, -1, "192.0.2.10"), CISCO,
	    "ip:inacl#1=permit ip any host 192.0.2.10");
	one(ctx, rule(F4, ACC, 6, "192.0.2.10"), CISCO,
	    "ip:inacl#1=permit tcp any host 192.0.2.10");
	one(ctx, rule(F4, ACC, 17, "192.0.2.10"), CISCO,
	    "ip:inacl#1=permit udp any host 192.0.2.10");
	one(ctx, rule(F4, ACC, 1, "192.0.2.10"), CISCO,
	    "ip:inacl#1=permit icmp any host 192.0.2.10");
	one(ctx, rule(F4, ACC, 47, NULL), CISCO, "ip:inacl#1=permit 47 any any");
	one(ctx, rule(F4, ACC, 0, NULL), CISCO, "ip:inacl#1=permit 0 any any");
	one(ctx, rule(F4, ACC, 255, NULL), CISCO, "ip:inacl#1=permit 255 any any");
	one(ctx, rule(F4, ACC, 58, NULL), CISCO, "ip:inacl#1=permit 58 any any");
	one(ctx, rule(F6, ACC, -1, NULL), CISCO, "ipv6:inacl#1=permit ipv6 any any");
	one(ctx, rule(F6, ACC, 6, "2001:db8::a"), CISCO,
	    "ipv6:inacl#1=permit tcp any host 2001:db8::a");
	one(ctx, rule(F6, ACC, 17, NULL), CISCO, "ipv6:inacl#1=permit udp any any");
	one(ctx, rule(F6, ACC, 58, NULL), CISCO, "ipv6:inacl#1=permit icmp any any");
	one(ctx, rule(F6, ACC, 1, NULL), CISCO, "ipv6:inacl#1=permit 1 any any");

	r = rule(F4, ACC, 256, NULL);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "protocol 256 is out of range");
	r = rule(F4, ACC, -2, NULL);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "protocol -2 is out of range");
}

/* mud_rendered_copy(): a deep copy, every line and name equal and owned by the copy (the
 * original freed first), NULL for NULL. */
static void test_rendered_copy(void **state)
{
	void *ctx = *state;
	mud_rule_t rules[2];
	mud_ruleset_t rs;
	mud_rendered_t *r = NULL;
	mud_rendered_t *c;
	mud_error_t err;
	char hash[65];
	char *v4_0;

	rules[0] = rule(F4, ACC, -1, "198.51.100.7/32");
	rules[1] = rule(F6, ACC, -1, "2001:db8::1");
	rs = ruleset(rules, 2);
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &r, &rs, CISCO, &err), MUD_OK);
	c = mud_rendered_copy(ctx, r);
	assert_non_null(c);
	assert_int_equal(c->num_v4, r->num_v4);
	assert_int_equal(c->num_v6, r->num_v6);
	assert_ptr_not_equal(c->v4, r->v4);
	v4_0 = talloc_strdup(ctx, r->v4[0]);
	memcpy(hash, r->hash, sizeof(hash));
	assert_string_equal(c->acl_name_v4, r->acl_name_v4);
	assert_string_equal(c->acl_name_v6, r->acl_name_v6);
	assert_string_equal(c->v6[0], r->v6[0]);
	talloc_free(r);
	assert_string_equal(c->v4[0], v4_0);
	assert_string_equal(c->hash, hash);
	assert_null(mud_rendered_copy(ctx, NULL));
	talloc_free_children(ctx);
}

static void test_cisco_peers(void **state)
{
	void *ctx = *state;
	mud_rule_t r;

	one(ctx, rule(F4, ACC, -1, NULL), CISCO, "ip:inacl#1=permit ip any any");
	one(ctx, rule(F4, ACC, -1, "0.0.0.0/0"), CISCO, "ip:inacl#1=permit ip any any");
	one(ctx, rule(F4, ACC, -1, "198.51.100.7/32"), CISCO,
	    "ip:inacl#1=permit ip any host 198.51.100.7");
	one(ctx, rule(F4, ACC, -1, "10.1.1.0/24"), CISCO,
	    "ip:inacl#1=permit ip any 10.1.1.0 0.0.0.255");
	one(ctx, rule(F4, ACC, -1, "10.0.0.0/8"), CISCO,
	    "ip:inacl#1=permit ip any 10.0.0.0 0.255.255.255");
	one(ctx, rule(F4, ACC, -1, "128.0.0.0/1"), CISCO,
	    "ip:inacl#1=permit ip any 128.0.0.0 127.255.255.255");
	one(ctx, rule(F4, ACC, -1, "192.0.2.2/31"), CISCO,
	    "ip:inacl#1=permit ip any 192.0.2.2 0.0.0.1");
	one(ctx, rule(F4, ACC, -1, "172.16.0.0/12"), CISCO,
	    "ip:inacl#1=permit ip any 172.16.0.0 0.15.255.255");

	/* host bits beyond the length are cleared, never widened or kept */
	r = rule(F4, ACC, -1, "10.1.1.0/24");
	r.peer.addr[3] = 77;
	one(ctx, r, CISCO, "ip:inacl#1=permit ip any 10.1.1.0 0.0.0.255");

	one(ctx, rule(F6, ACC, -1, "::/0"), CISCO, "ipv6:inacl#1=permit ipv6 any any");
	one(ctx, rule(F6, ACC, -1, "2001:db8::1"), CISCO,
	    "ipv6:inacl#1=permit ipv6 any host 2001:db8::1");
	one(ctx, rule(F6, ACC, -1, "2001:db8::/32"), CISCO,
	    "ipv6:inacl#1=permit ipv6 any 2001:db8::/32");
	one(ctx, rule(F6, ACC, -1, "fe80::/64"), CISCO, "ipv6:inacl#1=permit ipv6 any fe80::/64");
	one(ctx, rule(F6, ACC, -1, "::ffff:192.0.2.1"), CISCO,
	    "ipv6:inacl#1=permit ipv6 any host ::ffff:192.0.2.1");

	/* family mismatch between rule and peer */
	r = rule(F6, ACC, -1, "192.0.2.1");
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN,
		 "peer prefix (family 4, length 32) does not fit an IPv6 rule");
	r = rule(F4, ACC, -1, "192.0.2.1");
	r.peer.len = 33;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN,
		 "peer prefix (family 4, length 33) does not fit an IPv4 rule");
	r = rule(MUD_DIR_FROM_DEVICE, 5, ACC, -1, NULL);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "address family 5 is not 4 or 6");
}

static void test_cisco_ports(void **state)
{
	void *ctx = *state;
	mud_rule_t r = rule(F4, ACC, 6, "192.0.2.10");

	r.peer_port = port(MUD_PORT_EQ, 443, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 eq 443");
	r.peer_port = port(MUD_PORT_NEQ, 23, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 neq 23");
	r.peer_port = port(MUD_PORT_LTE, 1023, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 lt 1024");
	r.peer_port = port(MUD_PORT_LTE, 0, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 lt 1");
	r.peer_port = port(MUD_PORT_LTE, 65534, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 lt 65535");
	r.peer_port = port(MUD_PORT_LTE, 65535, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10");
	r.peer_port = port(MUD_PORT_GTE, 1024, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 gt 1023");
	r.peer_port = port(MUD_PORT_GTE, 0, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10");
	r.peer_port = port(MUD_PORT_GTE, 1, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 gt 0");
	r.peer_port = port(MUD_PORT_GTE, 65535, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 gt 65534");
	r.peer_port = port(MUD_PORT_RANGE, 8000, 8080);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 range 8000 8080");
	r.peer_port = port(MUD_PORT_RANGE, 0, 65535);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 range 0 65535");
	r.peer_port = port(MUD_PORT_RANGE, 53, 53);
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any host 192.0.2.10 range 53 53");

	/* device port comes after the source "any" */
	r = rule(F4, ACC, 17, "10.1.1.0/24");
	r.peer_port = port(MUD_PORT_EQ, 5683, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit udp any 10.1.1.0 0.0.0.255 eq 5683");
	r.device_port = port(MUD_PORT_RANGE, 49152, 65535);
	one(ctx, r, CISCO,
	    "ip:inacl#1=permit udp any range 49152 65535 10.1.1.0 0.0.0.255 eq 5683");
	r.device_port = port(MUD_PORT_GTE, 0, 0);
	r.peer_port = port(MUD_PORT_LTE, 65535, 0);
	one(ctx, r, CISCO, "ip:inacl#1=permit udp any 10.1.1.0 0.0.0.255");

	r = rule(F6, ACC, 6, "2001:db8::a");
	r.peer_port = port(MUD_PORT_EQ, 443, 0);
	one(ctx, r, CISCO, "ipv6:inacl#1=permit tcp any host 2001:db8::a eq 443");

	/* bad port data */
	r = rule(F4, ACC, 6, NULL);
	r.peer_port = port(MUD_PORT_RANGE, 9, 8);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "peer port range 9-8 is empty");
	r.peer_port = port(MUD_PORT_ANY, 0, 0);
	r.device_port = port((mud_port_op_t)42, 1, 0);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "device port operator 42 is unknown");
	/* ports on a protocol without ports: never dropped from a permit */
	r = rule(F4, ACC, -1, NULL);
	r.peer_port = port(MUD_PORT_EQ, 80, 0);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN,
		 "port match on protocol -1 (only tcp and udp have ports)");
	r = rule(F4, DRP, 1, NULL);
	r.device_port = port(MUD_PORT_EQ, 80, 0);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN,
		 "port match on protocol 1 (only tcp and udp have ports)");
}

static void test_cisco_established_icmp_drop(void **state)
{
	void *ctx = *state;
	mud_rule_t r;

	r = rule(F4, ACC, 6, "10.0.0.0/8");
	r.device_port = port(MUD_PORT_EQ, 8080, 0);
	r.established = true;
	one(ctx, r, CISCO, "ip:inacl#1=permit tcp any eq 8080 10.0.0.0 0.255.255.255 established");
	r = rule(F6, ACC, 6, NULL);
	r.established = true;
	one(ctx, r, CISCO, "ipv6:inacl#1=permit tcp any any established");
	r = rule(F4, ACC, 17, NULL);
	r.established = true;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "established on protocol 17 (only tcp)");

	r = rule(F4, ACC, 1, "192.0.2.1");
	r.icmp_type = 8;
	one(ctx, r, CISCO, "ip:inacl#1=permit icmp any host 192.0.2.1 8");
	r.icmp_code = 0;
	one(ctx, r, CISCO, "ip:inacl#1=permit icmp any host 192.0.2.1 8 0");
	r.icmp_type = 255;
	r.icmp_code = 255;
	one(ctx, r, CISCO, "ip:inacl#1=permit icmp any host 192.0.2.1 255 255");
	r = rule(F6, ACC, 58, NULL);
	r.icmp_type = 128;
	r.icmp_code = 0;
	one(ctx, r, CISCO, "ipv6:inacl#1=permit icmp any any 128 0");

	/* code without type: a permit of every type would widen the rule */
	r = rule(F4, ACC, 1, NULL);
	r.icmp_code = 3;
	fail_one(ctx, r, CISCO, MUD_ERR_UNSUPPORTED, ORIGIN,
		 "ICMP code 3 without a type cannot be written in an IOS ACL; permitting every "
		 "type would widen the rule");
	/* a deny may be broader (fails closed) */
	r.action = DRP;
	one(ctx, r, CISCO, "ip:inacl#1=deny icmp any any");
	r.icmp_type = 256;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "ICMP type 256 / code 3 out of range");
	r = rule(F4, ACC, 6, NULL);
	r.icmp_type = 0;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "ICMP type/code on protocol 6");
	/* ICMPv6 number in an IPv4 rule is not ICMP */
	r = rule(F4, ACC, 58, NULL);
	r.icmp_type = 128;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "ICMP type/code on protocol 58");

	one(ctx, rule(F4, DRP, -1, NULL), CISCO, "ip:inacl#1=deny ip any any");
	one(ctx, rule(F4, MUD_ACTION_REJECT, 6, NULL), CISCO, "ip:inacl#1=deny tcp any any");
	one(ctx, rule(F6, DRP, -1, NULL), CISCO, "ipv6:inacl#1=deny ipv6 any any");
	r = rule(F4, (mud_action_t)9, -1, NULL);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "action 9 is unknown");
	r = rule((mud_dir_t)2, 4, ACC, -1, NULL);
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, ORIGIN, "direction 2 is unknown");
	/* where falls back to the rule index when there is no origin */
	r.origin = NULL;
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, "rule 0", "direction 2 is unknown");
	r.origin = (char *)"";
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, "rule 0", "direction 2 is unknown");
	/* origin is escaped in where */
	r.origin = (char *)"acl\n1/\"x\"";
	fail_one(ctx, r, CISCO, MUD_ERR_RENDER, "acl\\x0a1/\"x\"", "direction 2 is unknown");
}

/** A realistic policy: both directions, both families, final denies. */
static size_t policy(mud_rule_t *r)
{
	size_t n = 0;

	r[n] = rule(F4, ACC, 6, "192.0.2.10");
	r[n].peer_port = port(MUD_PORT_EQ, 443, 0);
	r[n].peer_name = (char *)"service.example.com";
	r[n].origin = (char *)"from-ipv4-lamp/cl0-frdev";
	n++;
	r[n] = rule(T4, ACC, 6, "192.0.2.10");
	r[n].peer_port = port(MUD_PORT_EQ, 443, 0);
	r[n].established = true;
	r[n].origin = (char *)"to-ipv4-lamp/cl0-todev";
	n++;
	r[n] = rule(F6, ACC, 6, "2001:db8::a");
	r[n].peer_port = port(MUD_PORT_EQ, 443, 0);
	r[n].origin = (char *)"from-ipv6-lamp/cl0-frdev";
	n++;
	r[n] = rule(F4, ACC, 17, "10.1.1.0/24");
	r[n].peer_port = port(MUD_PORT_EQ, 5683, 0);
	r[n].origin = (char *)"from-ipv4-lamp/loc0-frdev";
	n++;
	r[n] = rule(T6, ACC, 6, "2001:db8::a");
	r[n].peer_port = port(MUD_PORT_EQ, 443, 0);
	r[n].established = true;
	r[n].origin = (char *)"to-ipv6-lamp/cl0-todev";
	n++;
	r[n] = rule(F4, DRP, -1, NULL);
	r[n].origin = (char *)"final-deny";
	n++;
	r[n] = rule(F6, DRP, -1, NULL);
	r[n].origin = (char *)"final-deny";
	n++;
	r[n] = rule(T4, DRP, -1, NULL);
	r[n].origin = (char *)"final-deny";
	n++;
	r[n] = rule(T6, DRP, -1, NULL);
	r[n].origin = (char *)"final-deny";
	n++;
	return n;
}

static char const *policy_cisco_v4[] = {
	"ip:inacl#1=permit tcp any host 192.0.2.10 eq 443",
	"ip:inacl#2=permit udp any 10.1.1.0 0.0.0.255 eq 5683",
	"ip:inacl#3=deny ip any any",
};
static char const *policy_cisco_v6[] = {
	"ipv6:inacl#1=permit tcp any host 2001:db8::a eq 443",
	"ipv6:inacl#2=deny ipv6 any any",
};

/*
 *	dACL names, computed here from the specification in docs/rendering.md with
 *	OpenSSL directly (not with the library's code): SHA-256 over
 *	len32("rlm_mud dACL name v2") len32(family) len32(url) count32(v4) len32(line)...
 *	count32(v6) len32(line)..., first 130 bits in lower-case RFC 4648 base32.
 */
static void be32(uint8_t *b, size_t *at, size_t v)
{
	b[(*at)++] = (uint8_t)(v >> 24);
	b[(*at)++] = (uint8_t)(v >> 16);
	b[(*at)++] = (uint8_t)(v >> 8);
	b[(*at)++] = (uint8_t)v;
}

static void field(uint8_t *b, size_t *at, char const *s)
{
	be32(b, at, strlen(s));
	memcpy(b + *at, s, strlen(s));
	*at += strlen(s);
}

static char *spec_name(void *ctx, char const *family, char const *label, char const *url,
		       char const * const *v4, size_t n4, char const * const *v6, size_t n6)
{
	static char const b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t buf[4096];
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hash[27];
	size_t at = 0;
	size_t i;
	unsigned int acc = 0;
	int bits = 0;
	size_t o = 0;

	field(buf, &at, "rlm_mud dACL name v2");
	field(buf, &at, family);
	field(buf, &at, url);
	be32(buf, &at, n4);
	for (i = 0; i < n4; i++) field(buf, &at, v4[i]);
	be32(buf, &at, n6);
	for (i = 0; i < n6; i++) field(buf, &at, v6[i]);
	assert_true(at < sizeof(buf));
	SHA256(buf, at, md);
	for (i = 0; o < 26; i++) {		/* 26 x 5 = 130 bits, most significant first */
		acc = (acc << 8) | md[i];
		bits += 8;
		while (bits >= 5 && o < 26) {
			hash[o++] = b32[(acc >> (bits - 5)) & 0x1f];
			bits -= 5;
		}
	}
	hash[26] = '\0';
	return talloc_asprintf(ctx, "#ACSACL#-%s-%s-%s", family, label, hash);
}

static void test_cisco_policy_names(void **state)
{
	void *ctx = talloc_new(*state);
	mud_rule_t rules[16];
	size_t n = policy(rules);
	mud_ruleset_t rs = ruleset(rules, n);
	mud_rendered_t *a;
	mud_rendered_t *b;
	char const *url = "https://lamp.example.com/lamp.json";
	char *want;

	a = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_int_equal(a->num_skipped, 4);	/* TO_DEVICE rules, see docs/rendering.md */
	want = spec_name(ctx, "IP", "lamp", url, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(a->acl_name_v4, want);
	want = spec_name(ctx, "IPV6", "lamp", url, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(a->acl_name_v6, want);
	/* 12 + 4 + 1 + 26 and 14 + 4 + 1 + 26 */
	assert_int_equal(strlen(a->acl_name_v4), 43);
	assert_int_equal(strlen(a->acl_name_v6), 45);
	/* the families are separated: different hashes over the same input */
	assert_string_not_equal(a->acl_name_v4 + 17, a->acl_name_v6 + 19);
	/* sha256 of the v4 and v6 lines joined by "\n" (the content hash, not the names) */
	assert_string_equal(a->hash,
			    "f32efe2c6638ed2a04101ea41a9fbb6356a6b300d58df1facccbef8a6c3c3f03");

	/* the same policy gives the same names */
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(a->acl_name_v4, b->acl_name_v4);
	assert_string_equal(a->acl_name_v6, b->acl_name_v6);
	assert_string_equal(a->hash, b->hash);
	talloc_free(b);

	/* TO_DEVICE rules do not change the dACL */
	rules[1].peer_port.lo = 8443;
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(a->acl_name_v4, b->acl_name_v4);
	assert_string_equal(a->hash, b->hash);
	talloc_free(b);

	/* one v4 rule changed: both names change (each covers both families) */
	rules[3].peer_port.lo = 5684;
	{
		char const *v4[] = {
			"ip:inacl#1=permit tcp any host 192.0.2.10 eq 443",
			"ip:inacl#2=permit udp any 10.1.1.0 0.0.0.255 eq 5684",
			"ip:inacl#3=deny ip any any",
		};

		b = render_ok(ctx, &rs, CISCO, v4, 3, policy_cisco_v6, 2);
		want = spec_name(ctx, "IP", "lamp", url, v4, 3, policy_cisco_v6, 2);
		assert_string_equal(b->acl_name_v4, want);
		want = spec_name(ctx, "IPV6", "lamp", url, v4, 3, policy_cisco_v6, 2);
		assert_string_equal(b->acl_name_v6, want);
	}
	assert_string_not_equal(a->acl_name_v4, b->acl_name_v4);
	assert_string_not_equal(a->acl_name_v6, b->acl_name_v6);
	assert_string_not_equal(a->hash, b->hash);
	talloc_free(b);

	/* the same lines from another URL: other names (a name binds URL and content) */
	rules[3].peer_port.lo = 5683;
	rs.mud_url = (char *)"https://lamp.example.com/lamp2.json";
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	want = spec_name(ctx, "IP", "lamp", rs.mud_url, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(b->acl_name_v4, want);
	assert_string_not_equal(a->acl_name_v4, b->acl_name_v4);
	assert_string_equal(b->hash, a->hash);
	talloc_free(b);
	rs.mud_url = (char *)url;

	/* another label, same rules: names differ only in the label */
	rs.name = (char *)"Other_model.v2";
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(b->acl_name_v4 + 27, a->acl_name_v4 + 17);
	assert_int_equal(strncmp(b->acl_name_v4, "#ACSACL#-IP-Other_model.v2-", 27), 0);
	assert_string_equal(b->hash, a->hash);
	talloc_free(b);

	/* no name: "mud" */
	rs.name = NULL;
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(b->acl_name_v6 + 18, a->acl_name_v6 + 19);
	assert_int_equal(strncmp(b->acl_name_v6, "#ACSACL#-IPV6-mud-", 18), 0);
	talloc_free(b);
	rs.name = (char *)"";
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_int_equal(strncmp(b->acl_name_v4, "#ACSACL#-IP-mud-", 16), 0);
	talloc_free(b);

	/* no URL (the quarantine filter): hashed as "" */
	rs.mud_url = NULL;
	b = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	want = spec_name(ctx, "IP", "mud", "", policy_cisco_v4, 3, policy_cisco_v6, 2);
	assert_string_equal(b->acl_name_v4, want);
	talloc_free(b);
	talloc_free(ctx);
}

/** mudp_acl_name_check(): what the cache uses to re-derive names read from disk. */
static void test_cisco_name_check(void **state)
{
	void *ctx = talloc_new(*state);
	mud_rule_t rules[16];
	size_t n = policy(rules);
	mud_ruleset_t rs = ruleset(rules, n);
	mud_rendered_t *a;
	mud_error_t err;
	char *bad;

	a = render_ok(ctx, &rs, CISCO, policy_cisco_v4, 3, policy_cisco_v6, 2);
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(a->acl_name_v4, false, rs.mud_url, a->v4, 3, a->v6,
					     2, &err), MUD_OK);
	assert_int_equal(mudp_acl_name_check(a->acl_name_v6, true, rs.mud_url, a->v4, 3, a->v6,
					     2, &err), MUD_OK);

	/* the other family's name */
	assert_int_equal(mudp_acl_name_check(a->acl_name_v6, false, rs.mud_url, a->v4, 3, a->v6,
					     2, &err), MUD_ERR_SCHEMA);
	assert_string_equal(err.text, "not an IPv4 dACL name of the form "
			    "#ACSACL#-IP-<label>-<26 base32 characters>");

	/* one line less, another URL: the hash no longer matches */
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(a->acl_name_v4, false, rs.mud_url, a->v4, 2, a->v6,
					     2, &err), MUD_ERR_SCHEMA);
	assert_string_equal(err.where, a->acl_name_v4);
	assert_int_equal(strncmp(err.text, "name does not match the URL and lines", 37), 0);
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(a->acl_name_v4, false, "https://x.example/",
					     a->v4, 3, a->v6, 2, &err), MUD_ERR_SCHEMA);

	/* another label is allowed (a label is not derived from the lines) ... */
	bad = talloc_asprintf(ctx, "#ACSACL#-IP-other-%s", a->acl_name_v4 + 17);
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(bad, false, rs.mud_url, a->v4, 3, a->v6, 2, &err),
			 MUD_OK);
	/* ... but only of allowed characters and length */
	bad = talloc_asprintf(ctx, "#ACSACL#-IP-o er-%s", a->acl_name_v4 + 17);
	assert_int_equal(mudp_acl_name_check(bad, false, rs.mud_url, a->v4, 3, a->v6, 2, &err),
			 MUD_ERR_SCHEMA);
	assert_string_equal(err.text, "label has a character not allowed (only A-Z a-z 0-9 . _ -)");
	bad = talloc_asprintf(ctx, "#ACSACL#-IP-%s-%s", "abcdefghijklmnopqrstuvwx",
			      a->acl_name_v4 + 17);
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(bad, false, rs.mud_url, a->v4, 3, a->v6, 2, &err),
			 MUD_ERR_SCHEMA);
	assert_string_equal(err.text, "label longer than 23 characters");
	/* a cut hash, an upper-case hash */
	bad = talloc_strndup(ctx, a->acl_name_v4, strlen(a->acl_name_v4) - 1);
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(bad, false, rs.mud_url, a->v4, 3, a->v6, 2, &err),
			 MUD_ERR_SCHEMA);
	bad = talloc_strdup(ctx, a->acl_name_v4);
	bad[20] = (char)(bad[20] >= 'a' && bad[20] <= 'z' ? bad[20] - 'a' + 'A' : 'A');
	mud_error_clear(&err);
	assert_int_equal(mudp_acl_name_check(bad, false, rs.mud_url, a->v4, 3, a->v6, 2, &err),
			 MUD_ERR_SCHEMA);
	talloc_free(ctx);
}

static void test_cisco_families(void **state)
{
	void *ctx = *state;
	mud_rule_t rules[3];
	mud_ruleset_t rs;
	mud_rendered_t *r;
	char const *v4_deny[] = { "ip:inacl#1=deny ip any any" };
	char const *v6_lines[] = {
		"ipv6:inacl#1=permit udp any host 2001:db8::53 eq 53",
		"ipv6:inacl#2=deny ipv6 any any",
	};

	/* only the final deny: still a policy, so the family has a name */
	rules[0] = rule(F4, DRP, -1, NULL);
	rs = ruleset(rules, 1);
	r = render_ok(ctx, &rs, CISCO, v4_deny, 1, NULL, 0);
	assert_non_null(r->acl_name_v4);
	assert_null(r->acl_name_v6);
	assert_null(r->v6);
	talloc_free(r);

	/* IPv6 only */
	rules[0] = rule(F6, ACC, 17, "2001:db8::53");
	rules[0].peer_port = port(MUD_PORT_EQ, 53, 0);
	rules[1] = rule(T6, ACC, 17, "2001:db8::53");
	rules[2] = rule(F6, DRP, -1, NULL);
	rs = ruleset(rules, 3);
	r = render_ok(ctx, &rs, CISCO, NULL, 0, v6_lines, 2);
	assert_null(r->acl_name_v4);
	assert_non_null(r->acl_name_v6);
	assert_int_equal(r->num_skipped, 1);
	talloc_free(r);

	/* only TO_DEVICE rules: nothing to send, no names, counted */
	rules[0] = rule(T4, ACC, 6, NULL);
	rules[1] = rule(T4, DRP, -1, NULL);
	rs = ruleset(rules, 2);
	r = render_ok(ctx, &rs, CISCO, NULL, 0, NULL, 0);
	assert_null(r->acl_name_v4);
	assert_null(r->acl_name_v6);
	assert_int_equal(r->num_skipped, 2);
	/* hash of nothing: SHA-256 of the empty string */
	assert_string_equal(r->hash,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	talloc_free(r);

	/* empty rule set */
	rs = ruleset(NULL, 0);
	r = render_ok(ctx, &rs, CISCO, NULL, 0, NULL, 0);
	assert_int_equal(r->num_skipped, 0);
	talloc_free(r);
}

static void test_cisco_name_errors(void **state)
{
	void *ctx = *state;
	mud_rule_t r = rule(F4, DRP, -1, NULL);
	mud_ruleset_t rs = ruleset(&r, 1);
	char name[256];
	mud_rendered_t *out;

	rs.name = (char *)"lamp model";
	render_fail(ctx, &rs, CISCO, MUD_ERR_RENDER, "name",
		    "rule set name \"lamp model\" has characters not allowed in an ACL name "
		    "(only A-Z a-z 0-9 . _ -)");
	rs.name = (char *)"a#b\x01";
	render_fail(ctx, &rs, CISCO, MUD_ERR_RENDER, "name",
		    "rule set name \"a#b\\x01\" has characters not allowed in an ACL name "
		    "(only A-Z a-z 0-9 . _ -)");

	/*
	 * A long label is cut to 23 characters, the hash never: every name fits 64 bytes
	 * (62 for IPv4, 64 for IPv6), so "ACS:CiscoSecure-Defined-ACL=" + name always
	 * fits an attribute.
	 */
	memset(name, 'n', sizeof(name));
	name[250] = '\0';
	rs.name = name;
	out = render_ok(ctx, &rs, CISCO, (char const *[]){ "ip:inacl#1=deny ip any any" }, 1,
			NULL, 0);
	assert_int_equal(strlen(out->acl_name_v4), 12 + 23 + 1 + 26);
	assert_int_equal(strncmp(out->acl_name_v4, "#ACSACL#-IP-nnnnnnnnnnnnnnnnnnnnnnn-", 36), 0);
	{
		char *full = spec_name(ctx, "IP", "nnnnnnnnnnnnnnnnnnnnnnn", rs.mud_url,
				       (char const *[]){ "ip:inacl#1=deny ip any any" }, 1,
				       NULL, 0);

		assert_string_equal(out->acl_name_v4, full);
		talloc_free(full);
	}
	talloc_free(out);
	r = rule(F6, DRP, -1, NULL);
	out = render_ok(ctx, &rs, CISCO, NULL, 0,
			(char const *[]){ "ipv6:inacl#1=deny ipv6 any any" }, 1);
	assert_int_equal(strlen(out->acl_name_v6), 64);
	talloc_free(out);

	/* NFR and JSON have no ACL names: a long name is fine there */
	name[250] = '\0';
	out = render_ok(ctx, &rs, NFR, (char const *[]){ "deny in ip from any to any" }, 1,
			NULL, 0);
	assert_null(out->acl_name_v4);
	talloc_free(out);
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */

static void test_line_guard(void **state)
{
	void *ctx = *state;
	mud_rendered_t *out = talloc_zero(ctx, mud_rendered_t);
	mud_rule_t r = rule(F4, ACC, -1, NULL);
	mudp_line_t line;
	mud_error_t err;
	char big[300];

	memset(big, 'x', sizeof(big));

	/* exactly 253 bytes is fine */
	mudp_line_init(&line);
	mudp_line_printf(&line, "%.*s", 253, big);
	mud_error_clear(&err);
	assert_int_equal(mudp_render_add(out, false, &line, &r, 0, &err), MUD_OK);
	assert_int_equal(out->num_v4, 1);
	assert_int_equal(strlen(out->v4[0]), 253);

	/* 254 is refused, never cut */
	mudp_line_init(&line);
	mudp_line_printf(&line, "%.*s", 254, big);
	mud_error_clear(&err);
	assert_int_equal(mudp_render_add(out, true, &line, &r, 7, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.where, ORIGIN);
	assert_string_equal(err.text,
			    "rendered value is 254 bytes, more than the 253 an attribute holds");
	assert_int_equal(out->num_v6, 0);

	/* a line that overflowed its buffer */
	mudp_line_init(&line);
	for (int i = 0; i < 5; i++) mudp_line_printf(&line, "%.*s", 250, big);
	assert_true(line.overflow);
	assert_int_equal(strlen(line.buf), MUDP_LINE_SIZE - 1);
	r.origin = NULL;
	mud_error_clear(&err);
	assert_int_equal(mudp_render_add(out, false, &line, &r, 7, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.where, "rule 7");
	assert_string_equal(err.text, "rendered value is longer than 1023 bytes, more than the 253 "
			    "an attribute holds");
	assert_int_equal(out->num_v4, 1);
	talloc_free(out);
}

static void count_cap(void *ctx, mud_format_t fmt)
{
	size_t n = MUD_MAX_ATTRS + 1;
	mud_rule_t *rules = talloc_array(ctx, mud_rule_t, n + 1);
	mud_ruleset_t rs;
	mud_rendered_t *out = NULL;
	mud_error_t err;
	size_t i;

	assert_non_null(rules);
	for (i = 0; i < n; i++) {
		rules[i] = rule(MUD_DIR_FROM_DEVICE, i % 2 ? 6 : 4, ACC, 6, NULL);
		rules[i].peer_port = port(MUD_PORT_EQ, (uint16_t)(i + 1), 0);
		rules[i].origin = (char *)(i == MUD_MAX_ATTRS ? "acl-big/ace-1000" : ORIGIN);
	}

	/* exactly MUD_MAX_ATTRS lines over both families is allowed */
	rs = ruleset(rules, MUD_MAX_ATTRS);
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_render(ctx, &out, &rs, fmt, &err), MUD_OK);
	assert_int_equal(out->num_v4 + out->num_v6, MUD_MAX_ATTRS);
	if (fmt == CISCO) {
		assert_string_equal(out->v4[499], "ip:inacl#500=permit tcp any any eq 999");
		assert_string_equal(out->v6[499], "ipv6:inacl#500=permit tcp any any eq 1000");
	} else {
		assert_string_equal(out->v4[999], "permit in 6 from assigned to ::/0 1000");
	}
	talloc_free(out);
	out = NULL;

	/* one more is refused, naming the rule that did not fit */
	rs = ruleset(rules, n);
	render_fail(ctx, &rs, fmt, MUD_ERR_LIMIT, "acl-big/ace-1000",
		    "rule set needs more than 1000 attributes");

	/* TO_DEVICE rules take no dACL line */
	if (fmt == CISCO) {
		rules[n] = rule(T4, DRP, -1, NULL);
		rules[0].dir = MUD_DIR_TO_DEVICE;
		rs = ruleset(rules, n + 1);
		mud_error_clear(&err);
		assert_int_equal(mud_ruleset_render(ctx, &out, &rs, fmt, &err), MUD_OK);
		assert_int_equal(out->num_skipped, 2);
		talloc_free(out);
	}
	talloc_free(rules);
}

static void test_count_cap(void **state)
{
	count_cap(*state, CISCO);
	count_cap(*state, NFR);
	assert_no_leak(*state);
}

/* ------------------------------------------------------------------ */
/* NAS-Filter-Rule                                                     */

static void test_nfr_basic(void **state)
{
	void *ctx = *state;
	mud_rule_t r;

	r = rule(F4, ACC, 6, "192.0.2.10");
	r.peer_port = port(MUD_PORT_EQ, 443, 0);
	one(ctx, r, NFR, "permit in 6 from assigned to 192.0.2.10 443");
	r = rule(T4, ACC, 6, "192.0.2.10");
	r.peer_port = port(MUD_PORT_EQ, 443, 0);
	r.established = true;
	one(ctx, r, NFR, "permit out 6 from 192.0.2.10 443 to assigned established");
	/* a direction's closing deny-all is "from any to any" (RFC 6733 4.3: an unmatched
	 * packet passes when the last rule was a deny) */
	one(ctx, rule(F4, DRP, -1, NULL), NFR, "deny in ip from any to any");
	one(ctx, rule(T4, DRP, -1, NULL), NFR, "deny out ip from any to any");
	one(ctx, rule(T6, DRP, -1, NULL), NFR, "deny out ip from any to any");
	one(ctx, rule(F6, DRP, -1, "::/0"), NFR, "deny in ip from any to any");
	one(ctx, rule(F4, MUD_ACTION_REJECT, 17, NULL), NFR,
	    "deny in 17 from assigned to 0.0.0.0/0");
	/* an unrestricted peer keeps its family: "any" would widen a v4 permit to v6 */
	one(ctx, rule(F4, ACC, 6, NULL), NFR, "permit in 6 from assigned to 0.0.0.0/0");
	one(ctx, rule(F6, ACC, 6, NULL), NFR, "permit in 6 from assigned to ::/0");
	one(ctx, rule(F4, ACC, 47, "10.0.0.0/8"), NFR, "permit in 47 from assigned to 10.0.0.0/8");
	one(ctx, rule(F4, ACC, 17, "10.1.1.0/24"), NFR,
	    "permit in 17 from assigned to 10.1.1.0/24");
	one(ctx, rule(T4, ACC, 17, "198.51.100.1"), NFR,
	    "permit out 17 from 198.51.100.1 to assigned");
	one(ctx, rule(F6, ACC, 6, "2001:db8::a"), NFR, "permit in 6 from assigned to 2001:db8::a");
	one(ctx, rule(T6, ACC, 6, "2001:db8::/32"), NFR,
	    "permit out 6 from 2001:db8::/32 to assigned");
	r = rule(F4, ACC, 6, "10.1.1.0/24");
	r.peer.addr[3] = 9;	/* host bits cleared */
	one(ctx, r, NFR, "permit in 6 from assigned to 10.1.1.0/24");

	/* device port on each side */
	r = rule(F4, ACC, 6, NULL);
	r.device_port = port(MUD_PORT_EQ, 8080, 0);
	r.peer_port = port(MUD_PORT_RANGE, 1024, 2048);
	one(ctx, r, NFR, "permit in 6 from assigned 8080 to 0.0.0.0/0 1024-2048");
	r.dir = MUD_DIR_TO_DEVICE;
	r.established = true;
	one(ctx, r, NFR, "permit out 6 from 0.0.0.0/0 1024-2048 to assigned 8080 established");

	r = rule(T4, ACC, 6, NULL);
	r.action = (mud_action_t)5;
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "action 5 is unknown");
	r = rule((mud_dir_t)7, 4, ACC, -1, NULL);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "direction 7 is unknown");
	r = rule(MUD_DIR_TO_DEVICE, 0, ACC, -1, NULL);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "address family 0 is not 4 or 6");
	r = rule(T4, ACC, 300, NULL);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "protocol 300 is out of range");
	r = rule(T4, ACC, -1, "2001:db8::1");
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN,
		 "peer prefix (family 6, length 128) does not fit an IPv4 rule");
	r = rule(T4, ACC, 17, NULL);
	r.established = true;
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "established on protocol 17 (only tcp)");
	r = rule(T4, ACC, 47, NULL);
	r.peer_port = port(MUD_PORT_EQ, 1, 0);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN,
		 "port match on protocol 47 (only tcp and udp have ports)");
	r = rule(F4, ACC, 17, NULL);
	r.device_port = port(MUD_PORT_RANGE, 2, 1);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "device port range 2-1 is empty");
	r.device_port = port((mud_port_op_t)-1, 2, 1);
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "device port operator -1 is unknown");
}

static void test_nfr_ports(void **state)
{
	void *ctx = *state;
	mud_rule_t r = rule(F4, ACC, 17, "192.0.2.1");
	static struct {
		mud_port_t	p;
		char const	*expect;
	} const cases[] = {
		{ { MUD_PORT_EQ, 0, 0 }, "permit in 17 from assigned to 192.0.2.1 0" },
		{ { MUD_PORT_EQ, 65535, 0 }, "permit in 17 from assigned to 192.0.2.1 65535" },
		{ { MUD_PORT_NEQ, 443, 0 },
		  "permit in 17 from assigned to 192.0.2.1 0-442,444-65535" },
		{ { MUD_PORT_NEQ, 0, 0 }, "permit in 17 from assigned to 192.0.2.1 1-65535" },
		{ { MUD_PORT_NEQ, 1, 0 }, "permit in 17 from assigned to 192.0.2.1 0,2-65535" },
		{ { MUD_PORT_NEQ, 65534, 0 },
		  "permit in 17 from assigned to 192.0.2.1 0-65533,65535" },
		{ { MUD_PORT_NEQ, 65535, 0 }, "permit in 17 from assigned to 192.0.2.1 0-65534" },
		{ { MUD_PORT_LTE, 1023, 0 }, "permit in 17 from assigned to 192.0.2.1 0-1023" },
		{ { MUD_PORT_LTE, 0, 0 }, "permit in 17 from assigned to 192.0.2.1 0" },
		{ { MUD_PORT_LTE, 65535, 0 }, "permit in 17 from assigned to 192.0.2.1 0-65535" },
		{ { MUD_PORT_GTE, 1024, 0 }, "permit in 17 from assigned to 192.0.2.1 1024-65535" },
		{ { MUD_PORT_GTE, 0, 0 }, "permit in 17 from assigned to 192.0.2.1 0-65535" },
		{ { MUD_PORT_GTE, 65535, 0 }, "permit in 17 from assigned to 192.0.2.1 65535" },
		{ { MUD_PORT_RANGE, 5000, 5010 },
		  "permit in 17 from assigned to 192.0.2.1 5000-5010" },
		{ { MUD_PORT_RANGE, 53, 53 }, "permit in 17 from assigned to 192.0.2.1 53" },
	};
	size_t i;

	for (i = 0; i < MUD_ARRAY_LEN(cases); i++) {
		r.peer_port = cases[i].p;
		one(ctx, r, NFR, cases[i].expect);
	}

	/* both sides NEQ, IPv6 peer, out: the longest natural line stays far below 253 */
	r = rule(T6, DRP, 6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124");
	r.peer_port = port(MUD_PORT_NEQ, 65534, 0);
	r.device_port = port(MUD_PORT_NEQ, 1, 0);
	r.established = true;
	one(ctx, r, NFR,
	    "deny out 6 from ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124 0-65533,65535 "
	    "to assigned 0,2-65535 established");
}

static void test_nfr_icmp(void **state)
{
	void *ctx = *state;
	mud_rule_t r;

	r = rule(F4, ACC, 1, NULL);
	one(ctx, r, NFR, "permit in 1 from assigned to 0.0.0.0/0");
	r.icmp_type = 8;
	one(ctx, r, NFR, "permit in 1 from assigned to 0.0.0.0/0 icmptypes 8");
	r = rule(T6, ACC, 58, "2001:db8::1");
	r.icmp_type = 129;
	one(ctx, r, NFR, "permit out 58 from 2001:db8::1 to assigned icmptypes 129");

	/* a code cannot be written: never on a permit... */
	r = rule(F4, ACC, 1, NULL);
	r.icmp_type = 3;
	r.icmp_code = 4;
	r.origin = (char *)"acl-icmp/frag-needed";
	fail_one(ctx, r, NFR, MUD_ERR_UNSUPPORTED, "acl-icmp/frag-needed",
		 "ICMP code 4 cannot be written in a NAS-Filter-Rule; permitting every code would "
		 "widen the rule");
	r.icmp_type = -1;
	fail_one(ctx, r, NFR, MUD_ERR_UNSUPPORTED, "acl-icmp/frag-needed", NULL);
	/* ...a deny keeps the type and denies every code (fails closed) */
	r.action = DRP;
	r.icmp_type = 3;
	one(ctx, r, NFR, "deny in 1 from assigned to 0.0.0.0/0 icmptypes 3");
	r.icmp_type = -1;
	one(ctx, r, NFR, "deny in 1 from assigned to 0.0.0.0/0");

	r = rule(F4, ACC, 17, NULL);
	r.icmp_code = 1;
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "ICMP type/code on protocol 17");
	r = rule(F4, ACC, 1, NULL);
	r.icmp_type = -5;
	fail_one(ctx, r, NFR, MUD_ERR_RENDER, ORIGIN, "ICMP type -5 / code -1 out of range");
}

static void test_nfr_policy(void **state)
{
	void *ctx = *state;
	mud_rule_t rules[16];
	size_t n = policy(rules);
	mud_ruleset_t rs = ruleset(rules, n);
	mud_rendered_t *r;
	char const *expect[] = {
		"permit in 6 from assigned to 192.0.2.10 443",
		"permit out 6 from 192.0.2.10 443 to assigned established",
		"permit in 6 from assigned to 2001:db8::a 443",
		"permit in 17 from assigned to 10.1.1.0/24 5683",
		"permit out 6 from 2001:db8::a 443 to assigned established",
		"deny in ip from any to any",
		"deny out ip from any to any",
	};

	r = render_ok(ctx, &rs, NFR, expect, 7, NULL, 0);
	assert_null(r->v6);
	assert_null(r->acl_name_v4);
	assert_null(r->acl_name_v6);
	assert_int_equal(r->num_skipped, 0);
	assert_string_equal(r->hash,
			    "b7c66fc75f80ee73dccaa58b815ef792fb842c4e5bcb9af8251c5a39b9cadf11");
	talloc_free(r);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static void test_json_document(void **state)
{
	void *ctx = *state;
	mud_rule_t rules[3];
	mud_warning_t warns[2] = {
		{ .where = (char *)"/ietf-mud:mud/extensions/0",
		  .text = (char *)"unknown extension \"x\"" },
		{ .where = (char *)"", .text = (char *)"w2" },
	};
	mud_ruleset_t rs;
	mud_rendered_t *r;
	char *doc;
	char const *expect =
		"{\n"
		"  \"mud-url\": \"https://lamp.example.com/lamp.json\",\n"
		"  \"name\": \"lamp\",\n"
		"  \"manufacturer\": \"Example\",\n"
		"  \"model\": null,\n"
		"  \"cache-validity\": 48,\n"
		"  \"vlan\": 100,\n"
		"  \"rules\": [\n"
		"    {\n"
		"      \"direction\": \"from-device\",\n"
		"      \"family\": 4,\n"
		"      \"action\": \"accept\",\n"
		"      \"protocol\": 6,\n"
		"      \"peer\": \"192.0.2.10/32\",\n"
		"      \"peer-name\": \"service.example.com\",\n"
		"      \"device-port\": {\"op\": \"any\"},\n"
		"      \"peer-port\": {\"op\": \"eq\", \"port\": 443},\n"
		"      \"icmp-type\": null,\n"
		"      \"icmp-code\": null,\n"
		"      \"established\": false,\n"
		"      \"origin\": \"acl/ace\"\n"
		"    },\n"
		"    {\n"
		"      \"direction\": \"to-device\",\n"
		"      \"family\": 6,\n"
		"      \"action\": \"drop\",\n"
		"      \"protocol\": 58,\n"
		"      \"peer\": \"2001:db8::/32\",\n"
		"      \"peer-name\": null,\n"
		"      \"device-port\": {\"op\": \"range\", \"lo\": 1, \"hi\": 2},\n"
		"      \"peer-port\": {\"op\": \"neq\", \"port\": 0},\n"
		"      \"icmp-type\": 128,\n"
		"      \"icmp-code\": 0,\n"
		"      \"established\": true,\n"
		"      \"origin\": null\n"
		"    },\n"
		"    {\n"
		"      \"direction\": \"from-device\",\n"
		"      \"family\": 4,\n"
		"      \"action\": \"reject\",\n"
		"      \"protocol\": null,\n"
		"      \"peer\": \"any\",\n"
		"      \"peer-name\": null,\n"
		"      \"device-port\": {\"op\": \"lte\", \"port\": 65535},\n"
		"      \"peer-port\": {\"op\": \"gte\", \"port\": 1},\n"
		"      \"icmp-type\": null,\n"
		"      \"icmp-code\": null,\n"
		"      \"established\": false,\n"
		"      \"origin\": \"final-deny\"\n"
		"    }\n"
		"  ],\n"
		"  \"warnings\": [\n"
		"    {\"where\": \"/ietf-mud:mud/extensions/0\", "
		"\"text\": \"unknown extension \\\"x\\\"\"},\n"
		"    {\"where\": \"\", \"text\": \"w2\"}\n"
		"  ]\n"
		"}\n";

	rules[0] = rule(F4, ACC, 6, "192.0.2.10");
	rules[0].peer_port = port(MUD_PORT_EQ, 443, 0);
	rules[0].peer_name = (char *)"service.example.com";
	rules[1] = rule(T6, DRP, 58, "2001:db8::/32");
	rules[1].device_port = port(MUD_PORT_RANGE, 1, 2);
	rules[1].peer_port = port(MUD_PORT_NEQ, 0, 0);
	rules[1].icmp_type = 128;
	rules[1].icmp_code = 0;
	rules[1].established = true;
	rules[1].origin = NULL;
	rules[2] = rule(F4, MUD_ACTION_REJECT, -1, NULL);
	rules[2].device_port = port(MUD_PORT_LTE, 65535, 0);
	rules[2].peer_port = port(MUD_PORT_GTE, 1, 0);
	rules[2].origin = (char *)"final-deny";
	rs = ruleset(rules, 3);
	rs.mfg_name = (char *)"Example";
	rs.vlan = 100;
	rs.warnings = warns;
	rs.num_warnings = 2;

	doc = mud_ruleset_to_json(ctx, &rs);
	assert_non_null(doc);
	assert_string_equal(doc, expect);
	talloc_free(doc);

	/* the json format: one value, no length limit, hash over it */
	r = render_ok(ctx, &rs, MUD_FMT_JSON, &expect, 1, NULL, 0);
	assert_true(strlen(r->v4[0]) > MUD_MAX_ATTR_LEN);
	assert_null(r->acl_name_v4);
	talloc_free(r);
}

static void test_json_empty_and_escaping(void **state)
{
	void *ctx = *state;
	mud_ruleset_t rs = ruleset(NULL, 0);
	mud_warning_t warn = { .where = NULL, .text = (char *)"tab\there" };
	char *doc;

	rs.mud_url = NULL;
	rs.name = (char *)"q\"b\\s/n\nr\rt\tb\bf\fc\x01\x1f" "d\x7f" "u\xc3\xa9\xe2\x82\xac";
	rs.model_name = (char *)"";
	rs.cache_validity = 168;
	doc = mud_ruleset_to_json(ctx, &rs);
	assert_non_null(doc);
	assert_string_equal(doc,
		"{\n"
		"  \"mud-url\": null,\n"
		"  \"name\": \"q\\\"b\\\\s/n\\nr\\rt\\tb\\bf\\fc\\u0001\\u001f"
		"d\x7fu\xc3\xa9\xe2\x82\xac\",\n"
		"  \"manufacturer\": null,\n"
		"  \"model\": \"\",\n"
		"  \"cache-validity\": 168,\n"
		"  \"vlan\": null,\n"
		"  \"rules\": [],\n"
		"  \"warnings\": []\n"
		"}\n");
	talloc_free(doc);

	rs.name = (char *)"\"\"";
	rs.warnings = &warn;
	rs.num_warnings = 1;
	doc = mud_ruleset_to_json(ctx, &rs);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "  \"name\": \"\\\"\\\"\",\n"));
	assert_non_null(strstr(doc, "  \"warnings\": [\n"
			       "    {\"where\": null, \"text\": \"tab\\there\"}\n  ]\n}\n"));
	talloc_free(doc);

	rs.warnings = NULL;	/* inconsistent input */
	assert_null(mud_ruleset_to_json(ctx, &rs));
}

/* ------------------------------------------------------------------ */
/* mudp_render_check: the grammar of rendered values (mud_render_check.c) */

/** Check lines, expecting ok (want NULL) or MUD_ERR_SCHEMA with where and text. */
static void check_lines(mud_format_t fmt, char const * const *v4, size_t n4,
			char const * const *v6, size_t n6, char const *where, char const *text)
{
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = mudp_render_check(fmt, (char * const *)(uintptr_t)v4, n4,
			       (char * const *)(uintptr_t)v6, n6, &err);
	if (!where) {
		if (rc != MUD_OK) fail_msg("refused: %s: %s", err.where, err.text);
		return;
	}
	if (rc != MUD_ERR_SCHEMA) fail_msg("accepted: %s", n4 ? v4[n4 - 1] : v6[n6 - 1]);
	assert_string_equal(err.where, where);
	if (text) assert_string_equal(err.text, text);
}

/** One v4 (or v6) Cisco line numbered 1 must be refused with text. */
static void cisco_bad(bool v6, char const *line, char const *text)
{
	check_lines(CISCO, v6 ? NULL : &line, v6 ? 0 : 1, v6 ? &line : NULL, v6 ? 1 : 0,
		    v6 ? "v6 line 1" : "v4 line 1", text);
}

static void nfr_bad(char const *line, char const *text)
{
	check_lines(NFR, &line, 1, NULL, 0, "v4 line 1", text);
}

/** Every value the renderers produced for the data suite passes the check. */
static void test_check_data_suite(void **state)
{
	void *ctx = talloc_new(*state);
	char *dir = test_src_path(ctx, "tests/data/valid");
	char const *cases[] = {
		"site-services", "realworld-mudgee-profile", "realworld-controller-class-names",
		"controller-urn-dns-ntp", "acl-type-inferred-ipv6", "intersection-dnsname-network",
		"realworld-fail-closed",
	};
	size_t checked = 0;
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int f;

		for (f = 0; f < 2; f++) {
			char *path = talloc_asprintf(ctx, "%s/%s/expect.%s", dir, cases[c],
						     f ? "nfr" : "cisco");
			char *text = test_read_file(ctx, path, NULL);
			char *v4[MUD_MAX_ATTRS];
			char *v6[MUD_MAX_ATTRS];
			size_t n4 = 0;
			size_t n6 = 0;
			char *save = NULL;
			char *line;
			mud_error_t err;

			assert_non_null(text);
			for (line = strtok_r(text, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				if (line[0] == '#') continue;
				if (strncmp(line, "ipv6:", 5) == 0) {
					v6[n6++] = line;
				} else {
					v4[n4++] = line;
				}
			}
			mud_error_clear(&err);
			if (mudp_render_check(f ? NFR : CISCO, v4, n4, v6, n6, &err) != MUD_OK) {
				fail_msg("%s: %s: %s", path, err.where, err.text);
			}
			checked += n4 + n6;
		}
	}
	assert_true(checked > 100);
	talloc_free(ctx);
}

/** Random rule sets (seeded): whatever the renderers produce passes the check. */
static void test_check_random_rules(void **state)
{
	void *ctx = *state;
	static int const protos[] = { -1, 0, 1, 2, 6, 6, 17, 17, 47, 58 };
	static mud_port_op_t const ops[] = {
		MUD_PORT_ANY, MUD_PORT_EQ, MUD_PORT_NEQ, MUD_PORT_LTE, MUD_PORT_GTE, MUD_PORT_RANGE
	};
	unsigned int seed = 20240909;
	size_t rendered = 0;
	size_t round;

	for (round = 0; round < 400; round++) {
		mud_rule_t rules[12];
		mud_ruleset_t rs;
		size_t i;
		int f;

		for (i = 0; i < 12; i++) {
			mud_rule_t *r = &rules[i];
			int fam = (rand_r(&seed) & 1) ? 6 : 4;
			unsigned int j;

			*r = rule(rand_r(&seed) & 1 ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE, fam,
				  rand_r(&seed) % 3 ? ACC : DRP,
				  protos[rand_r(&seed) % (sizeof(protos) / sizeof(protos[0]))],
				  NULL);
			r->peer.family = fam;
			for (j = 0; j < 16; j++) r->peer.addr[j] = (uint8_t)rand_r(&seed);
			r->peer.len = (uint8_t)(rand_r(&seed) % ((fam == 4 ? 32 : 128) + 1));
			if (rand_r(&seed) % 4 == 0) r->peer.len = 0;
			if (r->protocol == 6 || r->protocol == 17) {
				mud_port_t *ps[2] = { &r->device_port, &r->peer_port };

				for (j = 0; j < 2; j++) {
					ps[j]->op = ops[rand_r(&seed) % 6];
					ps[j]->lo = (uint16_t)(rand_r(&seed) % 3 ? rand_r(&seed) :
							       (rand_r(&seed) & 1) * 65535);
					ps[j]->hi = (uint16_t)(ps[j]->lo +
							       rand_r(&seed) % (65536 - ps[j]->lo));
				}
				r->established = r->protocol == 6 && rand_r(&seed) % 3 == 0;
			}
			if ((fam == 4 && r->protocol == 1) || (fam == 6 && r->protocol == 58)) {
				r->icmp_type = (int)(rand_r(&seed) % 257) - 1;
				r->icmp_code = rand_r(&seed) % 2 ? -1 : (int)(rand_r(&seed) % 256);
			}
		}
		rs = ruleset(rules, 12);
		for (f = 0; f < 2; f++) {
			mud_rendered_t *out = NULL;
			mud_error_t err;

			mud_error_clear(&err);
			if (mud_ruleset_render(ctx, &out, &rs, f ? NFR : CISCO, &err) != MUD_OK) {
				assert_int_equal(err.code, MUD_ERR_UNSUPPORTED);
				continue;
			}
			mud_error_clear(&err);
			if (mudp_render_check(f ? NFR : CISCO, out->v4, out->num_v4, out->v6,
					      out->num_v6, &err) != MUD_OK) {
				fail_msg("round %zu: %s: %s", round, err.where, err.text);
			}
			rendered += out->num_v4 + out->num_v6;
			talloc_free(out);
		}
	}
	assert_true(rendered > 3000);
}

/** Values a renderer never writes are refused, with where and why. */
static void test_check_refused(void **state)
{
	char const *two[] = { "ip:inacl#1=deny ip any any", "ip:inacl#3=deny ip any any" };
	char const *nfr_v6[] = { "deny in ip from any to any" };
	char const *ok4[] = {
		"ip:inacl#1=permit tcp any eq 80 10.0.0.0 0.255.255.255 range 1 2 established",
		"ip:inacl#2=permit icmp any host 192.0.2.1 3 4",
		"ip:inacl#3=permit 47 any 192.0.2.0 0.0.0.127",
		"ip:inacl#4=deny ip any any",
	};
	char const *ok6[] = {
		"ipv6:inacl#1=permit udp any 2001:db8::/32 neq 53",
		"ipv6:inacl#2=permit icmp any any 133",
		"ipv6:inacl#3=deny ipv6 any any",
	};
	char const *oknfr[] = {
		"permit in 6 from assigned 1024-65535 to 2001:db8::/32 0-79,81-65535 established",
		"permit out 1 from 192.0.2.0/24 to assigned icmptypes 8",
		"deny out ip from any to any",
	};
	char *long_line;

	(void)state;
	check_lines(CISCO, ok4, 4, ok6, 3, NULL, NULL);
	check_lines(NFR, oknfr, 3, NULL, 0, NULL, NULL);

	/* another AV-pair, or a line that is not a dACL line */
	cisco_bad(false, "url-redirect=https://evil.example/", "does not start with "
		  "\"ip:inacl#1=\"");
	cisco_bad(false, "ip:outacl#1=permit ip any any", "does not start with \"ip:inacl#1=\"");
	cisco_bad(true, "ip:inacl#1=permit ip any any", "does not start with \"ipv6:inacl#1=\"");
	/* numbering: consecutive from 1, per family */
	check_lines(CISCO, two, 2, NULL, 0, "v4 line 2", "does not start with \"ip:inacl#2=\"");
	cisco_bad(false, "ip:inacl#01=deny ip any any", NULL);
	/* bytes */
	cisco_bad(false, "ip:inacl#1=deny ip any any\n", "control byte 0x0a");
	cisco_bad(false, "ip:inacl#1=deny\tip any any", "control byte 0x09");
	cisco_bad(false, "ip:inacl#1=deny ip any any\x7f", "control byte 0x7f");
	cisco_bad(false, "ip:inacl#1=deny ip any \xc3\xa9", "byte 0xc3 is not ASCII");
	cisco_bad(false, "ip:inacl#1=deny ip  any any", "spaces other than one between words");
	cisco_bad(false, "ip:inacl#1=deny ip any any ", "spaces other than one between words");
	cisco_bad(false, "ip:inacl#1=", "empty rule");
	/* words */
	cisco_bad(false, "ip:inacl#1=permit ip any any log", "unexpected \"log\"");
	cisco_bad(false, "ip:inacl#1=remark hello", "action is not permit or deny");
	cisco_bad(false, "ip:inacl#1=permit ipv6 any any",
		  "protocol \"ipv6\" is not one the renderer writes");
	cisco_bad(true, "ipv6:inacl#1=permit ip any any",
		  "protocol \"ip\" is not one the renderer writes");
	cisco_bad(false, "ip:inacl#1=permit 6 any any", "protocol \"6\" is not one the "
		  "renderer writes");
	cisco_bad(false, "ip:inacl#1=permit 256 any any", NULL);
	cisco_bad(false, "ip:inacl#1=permit ip host 10.0.0.1 any",
		  "source is not \"any\" (the device)");
	cisco_bad(false, "ip:inacl#1=permit ip any host 010.0.0.1",
		  "\"host\" needs an IPv4 address in canonical form");
	cisco_bad(false, "ip:inacl#1=permit ip any host 2001:db8::1",
		  "\"host\" needs an IPv4 address in canonical form");
	cisco_bad(true, "ipv6:inacl#1=permit ipv6 any host 2001:DB8::1",
		  "\"host\" needs an IPv6 address in canonical form");
	cisco_bad(false, "ip:inacl#1=permit ip any 10.0.0.0 0.255.0.255",
		  "wildcard is not a contiguous host mask");
	cisco_bad(false, "ip:inacl#1=permit ip any 10.0.0.1 0.0.0.255",
		  "address has bits set under its wildcard");
	cisco_bad(true, "ipv6:inacl#1=permit ipv6 any 2001:db8::1/64", NULL);
	cisco_bad(true, "ipv6:inacl#1=permit ipv6 any 2001:db8::/128", NULL);
	cisco_bad(false, "ip:inacl#1=permit ip any any eq 80",
		  "port match on a protocol without ports");
	cisco_bad(false, "ip:inacl#1=permit tcp any any lt 0", "\"lt\" needs a port in range");
	cisco_bad(false, "ip:inacl#1=permit tcp any any gt 65535", "\"gt\" needs a port in range");
	cisco_bad(false, "ip:inacl#1=permit tcp any any range 9 8",
		  "\"range\" needs two ports, the first not larger");
	cisco_bad(false, "ip:inacl#1=permit udp any any established",
		  "\"established\" without tcp");
	cisco_bad(false, "ip:inacl#1=permit icmp any any 256", "bad ICMP type");
	cisco_bad(false, "ip:inacl#1=permit icmp any any 3 4 5", "unexpected \"5\"");
	cisco_bad(false, "ip:inacl#1=permit tcp any any 80", "unexpected \"80\"");
	long_line = talloc_array(NULL, char, 300);
	memset(long_line, 'a', 299);
	long_line[299] = '\0';
	memcpy(long_line, "ip:inacl#1=", 11);
	cisco_bad(false, long_line, "299 bytes, more than an attribute holds (253)");
	talloc_free(long_line);

	/* NAS-Filter-Rule */
	check_lines(NFR, NULL, 0, nfr_v6, 1, "v6 line 1", "nas-filter-rule output has no IPv6 "
		    "list");
	nfr_bad("permit in ip from any to any", "the device's side is not \"assigned\"");
	nfr_bad("permit in ip from assigned to any",
		"peer is not 0.0.0.0/0, ::/0 or a canonical address or prefix");
	nfr_bad("permit out ip from 10.0.0.1/24 to assigned",
		"peer is not 0.0.0.0/0, ::/0 or a canonical address or prefix");
	nfr_bad("permit in tcp from assigned to 10.0.0.1", "protocol is not ip or a number 0..255");
	nfr_bad("permit in 6 from assigned to 10.0.0.1 80,80", "bad port list");
	nfr_bad("permit in 6 from assigned to 10.0.0.1 90-80", "bad port list");
	nfr_bad("permit in 6 from assigned to 10.0.0.1 1,2,3", "bad port list");
	nfr_bad("permit in 17 from assigned to 10.0.0.1 53 established",
		"\"established\" without tcp");
	nfr_bad("permit in 6 from assigned to 10.0.0.1 443 setup", "unexpected \"setup\"");
	nfr_bad("permit in 58 from assigned to 10.0.0.1 icmptypes 8",
		"\"icmptypes\" without ICMP of the peer's family");
	nfr_bad("permit in 47 from assigned to 10.0.0.1 80", "port match on a protocol without "
		"ports");
	nfr_bad("permit sideways ip from assigned to 10.0.0.1", "direction is not in or out");
}

#define TEST(_f) cmocka_unit_test_setup_teardown(_f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_format_names),
		cmocka_unit_test_setup_teardown(test_bad_args, test_setup_ctx, test_teardown_ctx),
		TEST(test_cisco_protocols),
		TEST(test_cisco_peers),
		TEST(test_rendered_copy),
		TEST(test_cisco_ports),
		TEST(test_cisco_established_icmp_drop),
		TEST(test_cisco_policy_names),
		TEST(test_cisco_name_check),
		TEST(test_check_data_suite),
		TEST(test_check_random_rules),
		TEST(test_check_refused),
		TEST(test_cisco_families),
		TEST(test_cisco_name_errors),
		cmocka_unit_test_setup_teardown(test_line_guard, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_count_cap, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_basic, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_ports, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_icmp, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_policy, test_setup_ctx, test_teardown_ctx),
		TEST(test_json_document),
		TEST(test_json_empty_and_escaping),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
