/*
 * test_compile.c - the compiler from a MUD file + site context to rules.
 *
 * Files are built by hand (mud_file_t) so each semantic rule is tested on its
 * own: directions and ports, ACL lookup by own name, families, every
 * abstraction mapped and unmapped, DNS names through the static map and a
 * resolver, direction-initiated, actions, eth matches, final denies, VLAN and
 * name selection, the rule limit. A few tests at the end go through
 * mud_file_parse() with the RFC 8520 example.
 */
#include "test_common.h"

#define DEV_URL		"https://lighting.example.com/lightbulb2000"
#define ACE_PTR(i, j)	"/ietf-access-control-list:acls/acl/" #i "/aces/ace/" #j

/* ------------------------------------------------------------------ */
/* Building files by hand                                              */
/* ------------------------------------------------------------------ */

static mud_file_t *file_new(void *ctx, char const *url, char const *model)
{
	mud_file_t *f = talloc_zero(ctx, mud_file_t);

	assert_non_null(f);
	f->mud_version = 1;
	f->mud_url = url ? talloc_strdup(f, url) : NULL;
	f->model_name = model ? talloc_strdup(f, model) : NULL;
	f->cache_validity = 48;
	f->cache_validity_set = true;
	f->is_supported = true;
	return f;
}

/** Add an ACL; returns its index (pointers move when the array grows). */
static size_t acl_add(mud_file_t *f, char const *name, mud_acl_type_t type)
{
	f->acls = talloc_realloc(f, f->acls, mud_acl_t, f->num_acls + 1);
	assert_non_null(f->acls);
	memset(&f->acls[f->num_acls], 0, sizeof(mud_acl_t));
	f->acls[f->num_acls].name = talloc_strdup(f, name);
	f->acls[f->num_acls].type = type;
	return f->num_acls++;
}

/** Add an ACE with every optional field "not given"; valid until the next ace_add. */
static mud_ace_t *ace_add(mud_file_t *f, size_t acl, char const *name, mud_action_t action)
{
	mud_acl_t *a = &f->acls[acl];
	mud_ace_t *e;

	a->aces = talloc_realloc(f, a->aces, mud_ace_t, a->num_aces + 1);
	assert_non_null(a->aces);
	e = &a->aces[a->num_aces++];
	memset(e, 0, sizeof(*e));
	e->name = talloc_strdup(f, name);
	e->action = action;
	e->protocol = -1;
	e->dscp = -1;
	e->icmp_type = -1;
	e->icmp_code = -1;
	e->ethertype = -1;
	return e;
}

static void policy_add(mud_file_t *f, mud_dir_t dir, char const *acl)
{
	char ***arr = dir == MUD_DIR_FROM_DEVICE ? &f->from_device : &f->to_device;
	size_t *num = dir == MUD_DIR_FROM_DEVICE ? &f->num_from_device : &f->num_to_device;

	*arr = talloc_realloc(f, *arr, char *, *num + 1);
	assert_non_null(*arr);
	(*arr)[(*num)++] = talloc_strdup(f, acl);
}

static mud_context_t *ctx_parse(void *ctx, char const *json)
{
	mud_context_t *c = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_context_parse(ctx, &c, json, strlen(json), &err) != MUD_OK) {
		print_error("context: %s at %s\n", err.text, err.where);
	}
	assert_non_null(c);
	return c;
}

static char const site_json[] =
	"{\"manufacturers\": {"
	"   \"lighting.example.com\": {\"vlan\": 100,"
	"      \"networks\": [\"10.1.100.0/24\", \"2001:db8:100::/64\"]},"
	"   \"sensors.example.net\": {\"networks\": [\"10.1.101.0/24\"]},"
	"   \"vlanonly.example.net\": {\"vlan\": 7}},"
	" \"local-networks\": [\"fd00::/8\", \"10.0.0.0/8\", \"192.168.0.0/16\"],"
	" \"controllers\": {\"https://controller.example.com/lighting\":"
	"   [\"10.1.1.10\", \"2001:db8::10\"]},"
	" \"my-controllers\": {\"" DEV_URL "\": [\"10.1.1.20\"]},"
	" \"models\": {\"https://sensors.example.net/s1\": [\"10.1.102.0/24\"]},"
	" \"default-vlan\": 10,"
	" \"dns\": {\"resolve\": true, \"static\": {"
	"   \"service.example.com\": [\"192.0.2.10\", \"2001:db8::a\", \"192.0.2.11\"],"
	"   \"v4only.example.com\": [\"192.0.2.20\"]}},"
	" \"acl-prefix\": \"site\"}";

/* ------------------------------------------------------------------ */
/* Checking rules                                                      */
/* ------------------------------------------------------------------ */

static mud_ruleset_t *compile_ok(void *ctx, mud_file_t const *f, mud_context_t const *site,
				 mud_resolve_t resolve, void *uctx)
{
	mud_ruleset_t *rs = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_ruleset_compile(ctx, &rs, f, site, resolve, uctx, &err) != MUD_OK) {
		print_error("compile: %s at %s\n", err.text, err.where);
	}
	assert_int_equal(err.code, MUD_OK);
	assert_non_null(rs);
	return rs;
}

static void assert_peer(mud_rule_t const *r, char const *text)
{
	char buf[64];

	if (r->peer.len == 0) {
		snprintf(buf, sizeof(buf), "any%d", r->peer.family);
	} else {
		mud_prefix_print(buf, sizeof(buf), &r->peer, true);
	}
	assert_string_equal(buf, text);
}

static void assert_port(mud_port_t const *p, mud_port_op_t op, unsigned int lo, unsigned int hi)
{
	assert_int_equal(p->op, op);
	assert_int_equal(p->lo, lo);
	assert_int_equal(p->hi, hi);
}

/** The common shape of a rule. */
static void assert_rule(mud_rule_t const *r, mud_dir_t dir, int family, mud_action_t action,
			int protocol, char const *peer, char const *origin, char const *peer_name)
{
	assert_int_equal(r->dir, dir);
	assert_int_equal(r->family, family);
	assert_int_equal(r->peer.family, family);
	assert_int_equal(r->action, action);
	assert_int_equal(r->protocol, protocol);
	assert_peer(r, peer);
	assert_string_equal(r->origin, origin);
	if (peer_name) {
		assert_non_null(r->peer_name);
		assert_string_equal(r->peer_name, peer_name);
	} else {
		assert_null(r->peer_name);
	}
}

static void assert_deny(mud_rule_t const *r, mud_dir_t dir, int family)
{
	assert_rule(r, dir, family, MUD_ACTION_DROP, -1, family == 4 ? "any4" : "any6",
		    "implicit-deny", NULL);
	assert_int_equal(r->device_port.op, MUD_PORT_ANY);
	assert_int_equal(r->peer_port.op, MUD_PORT_ANY);
	assert_int_equal(r->icmp_type, -1);
	assert_int_equal(r->icmp_code, -1);
	assert_false(r->established);
}

/** The last rules are the final denies of the given directions. */
static void assert_denies(mud_ruleset_t const *rs, bool from, bool to)
{
	size_t n = (from ? 2u : 0u) + (to ? 2u : 0u);
	size_t i;

	assert_true(rs->num_rules >= n);
	i = rs->num_rules - n;
	if (from) {
		assert_deny(&rs->rules[i++], MUD_DIR_FROM_DEVICE, 4);
		assert_deny(&rs->rules[i++], MUD_DIR_FROM_DEVICE, 6);
	}
	if (to) {
		assert_deny(&rs->rules[i++], MUD_DIR_TO_DEVICE, 4);
		assert_deny(&rs->rules[i++], MUD_DIR_TO_DEVICE, 6);
	}
}

static void assert_warning(mud_ruleset_t const *rs, size_t i, char const *where, char const *text)
{
	assert_true(rs->num_warnings > i);
	assert_string_equal(rs->warnings[i].where, where);
	assert_string_equal(rs->warnings[i].text, text);
}

/* ------------------------------------------------------------------ */
/* Directions, ports, order                                            */
/* ------------------------------------------------------------------ */

static void test_directions_and_ports(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, "lightbulb2000");
	size_t fr = acl_add(f, "fr", MUD_ACL_TYPE_IPV4);
	size_t to = acl_add(f, "to", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;
	mud_rule_t const *r;

	e = ace_add(f, fr, "web", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "192.0.2.0/24");
	e->l4 = MUD_L4_TCP;
	e->src_port = (mud_port_t){ MUD_PORT_EQ, 1234, 0 };
	e->dst_port = (mud_port_t){ MUD_PORT_EQ, 443, 0 };

	e = ace_add(f, to, "cmd", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->src_network = talloc_strdup(f, "198.51.100.7/32");
	e->l4 = MUD_L4_UDP;
	e->src_port = (mud_port_t){ MUD_PORT_EQ, 5683, 0 };
	e->dst_port = (mud_port_t){ MUD_PORT_RANGE, 1000, 2000 };

	policy_add(f, MUD_DIR_FROM_DEVICE, "fr");
	policy_add(f, MUD_DIR_TO_DEVICE, "to");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 2 + 4);
	assert_int_equal(rs->num_warnings, 0);

	r = &rs->rules[0];
	assert_rule(r, MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, "192.0.2.0/24", "fr/web",
		    NULL);
	assert_port(&r->device_port, MUD_PORT_EQ, 1234, 0);	/* source port: the device's */
	assert_port(&r->peer_port, MUD_PORT_EQ, 443, 0);
	assert_false(r->established);
	assert_int_equal(r->icmp_type, -1);

	r = &rs->rules[1];
	assert_rule(r, MUD_DIR_TO_DEVICE, 4, MUD_ACTION_ACCEPT, 17, "198.51.100.7/32", "to/cmd",
		    NULL);
	assert_port(&r->device_port, MUD_PORT_RANGE, 1000, 2000);	/* destination: device */
	assert_port(&r->peer_port, MUD_PORT_EQ, 5683, 0);
	assert_denies(rs, true, true);

	assert_string_equal(rs->mud_url, DEV_URL);
	assert_string_equal(rs->name, "mud-lightbulb2000");
	assert_string_equal(rs->model_name, "lightbulb2000");
	assert_null(rs->mfg_name);
	assert_int_equal(rs->cache_validity, 48);
	assert_int_equal(rs->vlan, 0);
	assert_ptr_equal(talloc_parent(rs), *state);
	talloc_free(rs);
	talloc_free(f);
}

/* Each policy ACL is found by its own name; policy order, then ACE order. */
static void test_acl_lookup_and_order(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t a = acl_add(f, "acl-a", MUD_ACL_TYPE_IPV4);
	size_t b = acl_add(f, "acl-b", MUD_ACL_TYPE_IPV4);
	size_t c = acl_add(f, "acl-c", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;
	mud_error_t err;

	e = ace_add(f, a, "a0", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.0.0.1");
	e = ace_add(f, b, "b0", MUD_ACTION_DROP);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.0.0.2");
	e = ace_add(f, b, "b1", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.0.0.0/24");
	e = ace_add(f, c, "c0", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->src_network = talloc_strdup(f, "10.0.0.3");

	policy_add(f, MUD_DIR_FROM_DEVICE, "acl-b");
	policy_add(f, MUD_DIR_FROM_DEVICE, "acl-a");
	policy_add(f, MUD_DIR_TO_DEVICE, "acl-c");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 4 + 4);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_DROP, -1, "10.0.0.2/32",
		    "acl-b/b0", NULL);
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.0/24",
		    "acl-b/b1", NULL);
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.1/32",
		    "acl-a/a0", NULL);
	assert_rule(&rs->rules[3], MUD_DIR_TO_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.3/32",
		    "acl-c/c0", NULL);
	assert_denies(rs, true, true);
	talloc_free(rs);

	/* a reference to an ACL that does not exist */
	policy_add(f, MUD_DIR_TO_DEVICE, "acl-missing");
	rs = (mud_ruleset_t *)(uintptr_t)1;
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(*state, &rs, f, NULL, NULL, NULL, &err),
			 MUD_ERR_SEMANTIC);
	assert_null(rs);
	assert_string_equal(err.where,
			    "/ietf-mud:mud/to-device-policy/access-lists/access-list/1/name");
	assert_string_equal(err.text, "access-list \"acl-missing\" is not defined");
	talloc_free(f);
}

static void test_port_operators(void **state)
{
	static mud_port_t const ports[] = {
		{ MUD_PORT_EQ, 80, 0 },
		{ MUD_PORT_NEQ, 23, 0 },
		{ MUD_PORT_LTE, 1023, 0 },
		{ MUD_PORT_GTE, 49152, 0 },
		{ MUD_PORT_RANGE, 8000, 8080 },
		{ MUD_PORT_ANY, 0, 0 },
	};
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t fr = acl_add(f, "fr", MUD_ACL_TYPE_IPV6);
	size_t to = acl_add(f, "to", MUD_ACL_TYPE_IPV6);
	mud_ruleset_t *rs;
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		mud_ace_t *e = ace_add(f, fr, "p", MUD_ACTION_ACCEPT);

		e->l3 = MUD_L3_IPV6;
		e->l4 = MUD_L4_TCP;
		e->dst_port = ports[i];
		e->src_port = ports[sizeof(ports) / sizeof(ports[0]) - 1 - i];

		e = ace_add(f, to, "p", MUD_ACTION_ACCEPT);
		e->l3 = MUD_L3_IPV6;
		e->l4 = MUD_L4_UDP;
		e->src_port = ports[i];
		e->dst_port = ports[sizeof(ports) / sizeof(ports[0]) - 1 - i];
	}
	policy_add(f, MUD_DIR_FROM_DEVICE, "fr");
	policy_add(f, MUD_DIR_TO_DEVICE, "to");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 12 + 4);
	for (i = 0; i < 6; i++) {
		mud_port_t const *peer = &ports[i];
		mud_port_t const *dev = &ports[5 - i];
		mud_rule_t const *r = &rs->rules[i];

		assert_rule(r, MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6, "any6", "fr/p", NULL);
		assert_port(&r->peer_port, peer->op, peer->lo, peer->hi);
		assert_port(&r->device_port, dev->op, dev->lo, dev->hi);

		r = &rs->rules[6 + i];
		assert_rule(r, MUD_DIR_TO_DEVICE, 6, MUD_ACTION_ACCEPT, 17, "any6", "to/p", NULL);
		assert_port(&r->peer_port, peer->op, peer->lo, peer->hi);
		assert_port(&r->device_port, dev->op, dev->lo, dev->hi);
	}
	talloc_free(rs);
	talloc_free(f);
}

static void test_icmp_and_protocol(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t v4 = acl_add(f, "v4", MUD_ACL_TYPE_IPV4);
	size_t v6 = acl_add(f, "v6", MUD_ACL_TYPE_IPV6);
	size_t mx = acl_add(f, "mx", MUD_ACL_TYPE_MIXED_ALL);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, v4, "ping", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->l4 = MUD_L4_ICMP;
	e->icmp_type = 8;
	e->icmp_code = 0;
	e = ace_add(f, v4, "gre", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->protocol = 47;
	e = ace_add(f, v6, "ping6", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV6;
	e->l4 = MUD_L4_ICMP;
	e->icmp_type = 128;
	e = ace_add(f, mx, "any-icmp", MUD_ACTION_ACCEPT);
	e->l4 = MUD_L4_ICMP;
	e->icmp_type = 3;
	e->icmp_code = 4;
	policy_add(f, MUD_DIR_FROM_DEVICE, "v4");
	policy_add(f, MUD_DIR_FROM_DEVICE, "v6");
	policy_add(f, MUD_DIR_FROM_DEVICE, "mx");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 5 + 2 + 2);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 1, "any4", "v4/ping",
		    NULL);
	assert_int_equal(rs->rules[0].icmp_type, 8);
	assert_int_equal(rs->rules[0].icmp_code, 0);
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 47, "any4", "v4/gre",
		    NULL);
	assert_int_equal(rs->rules[1].icmp_type, -1);
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 58, "any6",
		    "v6/ping6", NULL);
	assert_int_equal(rs->rules[2].icmp_type, 128);
	assert_int_equal(rs->rules[2].icmp_code, -1);
	/* mixed ACL, no L3 container: one rule per family */
	assert_rule(&rs->rules[3], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 1, "any4",
		    "mx/any-icmp", NULL);
	assert_rule(&rs->rules[4], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 58, "any6",
		    "mx/any-icmp", NULL);
	assert_int_equal(rs->rules[4].icmp_type, 3);
	assert_int_equal(rs->rules[4].icmp_code, 4);
	assert_denies(rs, true, true);
	talloc_free(rs);
	talloc_free(f);
}

/* direction-initiated: established exactly when it names the other side. */
static void test_direction_initiated(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t fr = acl_add(f, "fr", MUD_ACL_TYPE_IPV4);
	size_t to = acl_add(f, "to", MUD_ACL_TYPE_IPV4);
	static mud_dirinit_t const d[] = {
		MUD_DIRINIT_FROM_DEVICE, MUD_DIRINIT_TO_DEVICE, MUD_DIRINIT_NONE
	};
	mud_ruleset_t *rs;
	size_t i;

	for (i = 0; i < 3; i++) {
		mud_ace_t *e = ace_add(f, fr, "f", MUD_ACTION_ACCEPT);

		e->l3 = MUD_L3_IPV4;
		e->l4 = MUD_L4_TCP;
		e->dst_port = (mud_port_t){ MUD_PORT_EQ, 443, 0 };
		e->direction_initiated = d[i];
		e = ace_add(f, to, "t", MUD_ACTION_ACCEPT);
		e->l3 = MUD_L3_IPV4;
		e->l4 = MUD_L4_TCP;
		e->src_port = (mud_port_t){ MUD_PORT_EQ, 443, 0 };
		e->direction_initiated = d[i];
	}
	policy_add(f, MUD_DIR_FROM_DEVICE, "fr");
	policy_add(f, MUD_DIR_TO_DEVICE, "to");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 6 + 4);
	/* from-device ACE, "from-device": the device opens -> not established */
	assert_int_equal(rs->rules[0].dir, MUD_DIR_FROM_DEVICE);
	assert_false(rs->rules[0].established);
	/* from-device ACE, "to-device": the device must not open -> established */
	assert_true(rs->rules[1].established);
	assert_false(rs->rules[2].established);
	/* to-device ACE, "from-device": the remote must not open -> established */
	assert_int_equal(rs->rules[3].dir, MUD_DIR_TO_DEVICE);
	assert_true(rs->rules[3].established);
	/* to-device ACE, "to-device": the remote opens -> not established */
	assert_false(rs->rules[4].established);
	assert_false(rs->rules[5].established);
	talloc_free(rs);
	talloc_free(f);
}

static void test_actions(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, a, "acc", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e = ace_add(f, a, "drp", MUD_ACTION_DROP);
	e->l3 = MUD_L3_IPV4;
	e = ace_add(f, a, "rej", MUD_ACTION_REJECT);
	e->l3 = MUD_L3_IPV4;
	policy_add(f, MUD_DIR_TO_DEVICE, "a");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 3 + 2 + 2);
	assert_int_equal(rs->rules[0].action, MUD_ACTION_ACCEPT);
	assert_int_equal(rs->rules[1].action, MUD_ACTION_DROP);
	assert_int_equal(rs->rules[2].action, MUD_ACTION_DROP);
	assert_string_equal(rs->rules[2].origin, "a/rej");
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, ACE_PTR(0, 2), "reject is enforced as drop");
	assert_denies(rs, true, true);
	talloc_free(rs);
	talloc_free(f);
}

/* ------------------------------------------------------------------ */
/* What L3 cannot enforce                                              */
/* ------------------------------------------------------------------ */

static void test_eth(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t eth = acl_add(f, "eth", MUD_ACL_TYPE_ETH);
	size_t mx = acl_add(f, "mx", MUD_ACL_TYPE_MIXED_ALL);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, eth, "arp", MUD_ACTION_ACCEPT);
	e->eth = true;
	e->ethertype = 0x0806;
	e = ace_add(f, eth, "v6-drop", MUD_ACTION_DROP);		/* eth/1 */
	e->eth = true;
	e->ethertype = 0x86dd;
	e = ace_add(f, mx, "eth-only", MUD_ACTION_ACCEPT);		/* 0 */
	e->eth = true;
	e->dst_mac = talloc_strdup(f, "01:00:5e:00:00:fb");
	e = ace_add(f, mx, "mac-accept", MUD_ACTION_ACCEPT);		/* 1 */
	e->eth = true;
	e->src_mac = talloc_strdup(f, "00:11:22:33:44:55");
	e->l3 = MUD_L3_IPV4;
	e = ace_add(f, mx, "mac-drop", MUD_ACTION_DROP);		/* 2 */
	e->eth = true;
	e->src_mac = talloc_strdup(f, "00:11:22:33:44:55");
	e->l3 = MUD_L3_IPV4;
	e = ace_add(f, mx, "arp-tcp", MUD_ACTION_DROP);			/* 3 */
	e->eth = true;
	e->ethertype = 0x0806;
	e->l4 = MUD_L4_TCP;
	e = ace_add(f, mx, "v4-by-ethertype", MUD_ACTION_ACCEPT);	/* 4 */
	e->eth = true;
	e->ethertype = 0x0800;
	e->l4 = MUD_L4_UDP;
	e = ace_add(f, mx, "v6-ethertype-v4-l3", MUD_ACTION_ACCEPT);	/* 5 */
	e->eth = true;
	e->ethertype = 0x86dd;
	e->l3 = MUD_L3_IPV4;
	e = ace_add(f, mx, "dscp", MUD_ACTION_ACCEPT);			/* 6 */
	e->l3 = MUD_L3_IPV6;
	e->dscp = 46;
	policy_add(f, MUD_DIR_FROM_DEVICE, "eth");
	policy_add(f, MUD_DIR_FROM_DEVICE, "mx");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 3 + 2 + 2);
	/* an eth-only drop of IPv6 frames is a drop of all IPv6, never skipped */
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_DROP, -1, "any6",
		    "eth/v6-drop", NULL);
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_DROP, -1, "any4",
		    "mx/mac-drop", NULL);
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 17, "any4",
		    "mx/v4-by-ethertype", NULL);
	assert_denies(rs, true, true);

	assert_int_equal(rs->num_warnings, 7);
	assert_warning(rs, 0, ACE_PTR(0, 0),
		       "ethertype 0x0806 cannot match IP traffic; ACE skipped");
	assert_warning(rs, 1, ACE_PTR(1, 0),
		       "MAC address match not enforceable at L3; ACE skipped");
	assert_warning(rs, 2, ACE_PTR(1, 1),
		       "MAC address match not enforceable at L3; ACE skipped");
	assert_warning(rs, 3, ACE_PTR(1, 2),
		       "MAC address match not enforceable at L3; dropping without it");
	assert_warning(rs, 4, ACE_PTR(1, 3),
		       "ethertype 0x0806 cannot match IP traffic; ACE skipped");
	assert_warning(rs, 5, ACE_PTR(1, 5),
		       "ethertype 0x86dd cannot match IPv4 traffic; ACE skipped");
	assert_warning(rs, 6, ACE_PTR(1, 6), "dscp match not enforceable; ACE skipped");
	talloc_free(rs);
	talloc_free(f);
}

/* A match on the device's own address: accept skipped, drop kept (broader drop). */
static void test_device_side_match(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_IPV4);
	size_t b = acl_add(f, "b", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, a, "src-acc", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->src_network = talloc_strdup(f, "10.9.9.9");
	e->dst_network = talloc_strdup(f, "10.1.1.1");
	e = ace_add(f, a, "src-drop", MUD_ACTION_DROP);
	e->l3 = MUD_L3_IPV4;
	e->src_dnsname = talloc_strdup(f, "me.example");
	e->dst_network = talloc_strdup(f, "10.1.1.2");
	e = ace_add(f, b, "dst-acc", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.9.9.9");
	policy_add(f, MUD_DIR_FROM_DEVICE, "a");
	policy_add(f, MUD_DIR_TO_DEVICE, "b");

	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 1 + 4);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_DROP, -1, "10.1.1.2/32",
		    "a/src-drop", NULL);
	assert_int_equal(rs->num_warnings, 3);
	assert_warning(rs, 0, ACE_PTR(0, 0),
		       "match on the device's own address not enforceable; ACE skipped");
	assert_warning(rs, 1, ACE_PTR(0, 1),
		       "match on the device's own address not enforceable; dropping without it");
	assert_warning(rs, 2, ACE_PTR(1, 0),
		       "match on the device's own address not enforceable; ACE skipped");
	talloc_free(rs);
	talloc_free(f);
}

/* ------------------------------------------------------------------ */
/* Final denies                                                        */
/* ------------------------------------------------------------------ */

static void test_final_denies(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, a, "x", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;

	/* no policy at all: only the denies, both directions */
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 4);
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, "/ietf-mud:mud",
		       "no from-device-policy or to-device-policy; all traffic denied");
	talloc_free(rs);

	/* from-device only: denies for from-device only */
	policy_add(f, MUD_DIR_FROM_DEVICE, "a");
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 1 + 2 + 2);
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 0);
	talloc_free(rs);

	/* a policy whose ACL yields nothing still closes its direction */
	e = ace_add(f, a, "eth", MUD_ACTION_ACCEPT);
	e->eth = true;
	e->ethertype = 0x0806;
	f->acls[a].aces[0].eth = true;
	f->acls[a].aces[0].ethertype = 0x0806;
	f->acls[a].aces[0].l3 = MUD_L3_NONE;
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 2 + 2);
	assert_denies(rs, true, true);
	talloc_free(rs);

	/* is-supported false: everything denied whatever the policies say */
	f->acls[a].aces[0].eth = false;
	f->acls[a].aces[0].l3 = MUD_L3_IPV4;
	f->is_supported = false;
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, 4);
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, "/ietf-mud:mud/is-supported",
		       "is-supported is false: the device is not supported; all traffic denied");
	talloc_free(rs);
	talloc_free(f);
}

/* ------------------------------------------------------------------ */
/* Abstractions                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
	mud_abs_t	abs;
	char const	*value;
	char const	*peer_name;
	char const	*v4[4];		//!< expected peers of the IPv4 ACL
	char const	*v6[4];		//!< expected peers of the IPv6 ACL
	char const	*unmapped;	//!< warning with an empty context
} abs_case_t;

static abs_case_t const abs_cases[] = {
	{ MUD_ABS_MANUFACTURER, "Sensors.Example.NET.", "manufacturer:Sensors.Example.NET.",
	  { "10.1.101.0/24" }, { NULL },
	  "manufacturer \"Sensors.Example.NET.\" has no entry in the site context (add "
	  "\"manufacturers\": {\"Sensors.Example.NET.\": {\"networks\": [...]}}); ACE skipped" },
	{ MUD_ABS_SAME_MANUFACTURER, NULL, "same-manufacturer",
	  { "10.1.100.0/24" }, { "2001:db8:100::/64" },
	  "same-manufacturer: the device's authority \"lighting.example.com\" has no entry in the "
	  "site context (add \"manufacturers\": {\"lighting.example.com\": {\"networks\": "
	  "[...]}}); ACE skipped" },
	{ MUD_ABS_MODEL, "https://sensors.example.net/s1", "model:https://sensors.example.net/s1",
	  { "10.1.102.0/24" }, { NULL },
	  "model \"https://sensors.example.net/s1\" has no entry in the site context (add "
	  "\"models\": {\"https://sensors.example.net/s1\": [...]}); ACE skipped" },
	{ MUD_ABS_LOCAL_NETWORKS, NULL, "local-networks",
	  { "10.0.0.0/8", "192.168.0.0/16" }, { "fd00::/8" },
	  "local-networks is not defined in the site context (add \"local-networks\": [...]); "
	  "ACE skipped" },
	{ MUD_ABS_CONTROLLER, "https://controller.example.com/lighting",
	  "controller:https://controller.example.com/lighting",
	  { "10.1.1.10/32" }, { "2001:db8::10/128" },
	  "controller \"https://controller.example.com/lighting\" has no entry in the site "
	  "context (add \"controllers\": {\"https://controller.example.com/lighting\": [...]}); "
	  "ACE skipped" },
	{ MUD_ABS_MY_CONTROLLER, NULL, "my-controller",
	  { "10.1.1.20/32" }, { NULL },
	  "my-controller has no entry for \"" DEV_URL "\" in the site context (add "
	  "\"my-controllers\": {\"" DEV_URL "\": [...]}); ACE skipped" },
};

static void abs_file(mud_file_t *f, abs_case_t const *c)
{
	size_t v4 = acl_add(f, "v4", MUD_ACL_TYPE_IPV4);
	size_t v6 = acl_add(f, "v6", MUD_ACL_TYPE_IPV6);
	mud_ace_t *e;

	e = ace_add(f, v4, "a4", MUD_ACTION_ACCEPT);
	e->abs[0].kind = c->abs;
	e->abs[0].value = c->value ? talloc_strdup(f, c->value) : NULL;
	e->num_abs = 1;
	e->l4 = MUD_L4_TCP;
	e->dst_port = (mud_port_t){ MUD_PORT_EQ, 8080, 0 };
	e = ace_add(f, v6, "a6", MUD_ACTION_ACCEPT);
	e->abs[0].kind = c->abs;
	e->abs[0].value = c->value ? talloc_strdup(f, c->value) : NULL;
	e->num_abs = 1;
	policy_add(f, MUD_DIR_TO_DEVICE, "v4");
	policy_add(f, MUD_DIR_TO_DEVICE, "v6");
}

static void test_abstractions_mapped(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	size_t i;

	for (i = 0; i < sizeof(abs_cases) / sizeof(abs_cases[0]); i++) {
		abs_case_t const *c = &abs_cases[i];
		mud_file_t *f = file_new(*state, DEV_URL, NULL);
		mud_ruleset_t *rs;
		size_t n = 0;
		size_t k;

		abs_file(f, c);
		rs = compile_ok(*state, f, site, NULL, NULL);
		for (k = 0; k < 4 && c->v4[k]; k++) {
			mud_rule_t const *r = &rs->rules[n++];

			assert_rule(r, MUD_DIR_TO_DEVICE, 4, MUD_ACTION_ACCEPT, 6, c->v4[k],
				    "v4/a4", c->peer_name);
			assert_port(&r->device_port, MUD_PORT_EQ, 8080, 0);
		}
		for (k = 0; k < 4 && c->v6[k]; k++) {
			assert_rule(&rs->rules[n++], MUD_DIR_TO_DEVICE, 6, MUD_ACTION_ACCEPT, -1,
				    c->v6[k], "v6/a6", c->peer_name);
		}
		assert_int_equal(rs->num_rules, n + 2 + 2);
		assert_denies(rs, true, true);
		if (c->v6[0]) {
			assert_int_equal(rs->num_warnings, 0);
		} else {
			char *w = talloc_asprintf(rs, "%s has no IPv6 addresses in the site "
						  "context; ACE skipped", c->peer_name);

			assert_int_equal(rs->num_warnings, 1);
			assert_warning(rs, 0, ACE_PTR(1, 0), w);
		}
		assert_int_equal(rs->vlan, 100);
		assert_string_equal(rs->name, "site-lighting_example_com");
		talloc_free(rs);
		talloc_free(f);
	}
	talloc_free(site);
}

static void test_abstractions_unmapped(void **state)
{
	mud_context_t *empty = mud_context_alloc(*state);
	size_t i;

	for (i = 0; i < sizeof(abs_cases) / sizeof(abs_cases[0]); i++) {
		abs_case_t const *c = &abs_cases[i];
		mud_file_t *f = file_new(*state, DEV_URL, NULL);
		mud_ruleset_t *rs;
		int pass;

		abs_file(f, c);
		/* an empty context and no context at all behave the same */
		for (pass = 0; pass < 2; pass++) {
			rs = compile_ok(*state, f, pass ? NULL : empty, NULL, NULL);
			assert_int_equal(rs->num_rules, 2 + 2);
			assert_denies(rs, true, true);
			assert_int_equal(rs->num_warnings, 2);
			assert_warning(rs, 0, ACE_PTR(0, 0), c->unmapped);
			assert_warning(rs, 1, ACE_PTR(1, 0), c->unmapped);
			assert_int_equal(rs->vlan, 0);
			talloc_free(rs);
		}
		talloc_free(f);
	}
	talloc_free(empty);
}

/* A manufacturer entry with a VLAN but no networks: the L3 rule cannot be built. */
static void test_abstraction_without_networks(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *f = file_new(*state, "https://vlanonly.example.net/x", "x");
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, a, "same", MUD_ACTION_ACCEPT);
	e->abs[0].kind = MUD_ABS_SAME_MANUFACTURER;
	e->num_abs = 1;
	policy_add(f, MUD_DIR_FROM_DEVICE, "a");
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->num_rules, 2 + 2);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, ACE_PTR(0, 0),
		       "same-manufacturer has no IPv4 addresses in the site context; ACE skipped");
	assert_int_equal(rs->vlan, 7);
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

/* Mixed ACL, no L3: both families, one rule per address in context order. */
static void test_mixed_families(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t mx = acl_add(f, "mx", MUD_ACL_TYPE_MIXED_ALL);
	size_t no = acl_add(f, "no", MUD_ACL_TYPE_NONE);
	size_t m4 = acl_add(f, "m4", MUD_ACL_TYPE_MIXED_ETH_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, mx, "local", MUD_ACTION_ACCEPT);
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, mx, "any", MUD_ACTION_DROP);
	e = ace_add(f, no, "v6", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV6;
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, m4, "local4", MUD_ACTION_ACCEPT);
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, m4, "bad6", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV6;
	policy_add(f, MUD_DIR_FROM_DEVICE, "mx");
	policy_add(f, MUD_DIR_FROM_DEVICE, "no");
	policy_add(f, MUD_DIR_FROM_DEVICE, "m4");

	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->num_rules, 3 + 2 + 1 + 2 + 2 + 2);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, -1, "fd00::/8",
		    "mx/local", "local-networks");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.0/8",
		    "mx/local", "local-networks");
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1,
		    "192.168.0.0/16", "mx/local", "local-networks");
	assert_rule(&rs->rules[3], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_DROP, -1, "any4", "mx/any",
		    NULL);
	assert_rule(&rs->rules[4], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_DROP, -1, "any6", "mx/any",
		    NULL);
	assert_rule(&rs->rules[5], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, -1, "fd00::/8",
		    "no/v6", "local-networks");
	assert_rule(&rs->rules[6], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.0/8",
		    "m4/local4", "local-networks");
	assert_rule(&rs->rules[7], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1,
		    "192.168.0.0/16", "m4/local4", "local-networks");
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, ACE_PTR(2, 1),
		       "ACE matches IPv6 in an ACL of another type; ACE skipped");
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

/* Network + abstraction: the intersection, never the union. */
static void test_network_and_abstraction(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_IPV4);
	mud_ace_t *e;
	mud_ruleset_t *rs;

	e = ace_add(f, a, "narrow", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.1.0.0/16");
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, a, "wide", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "0.0.0.0/0");
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, a, "disjoint", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "172.16.0.0/12");
	e->abs[0].kind = MUD_ABS_LOCAL_NETWORKS;
	e->num_abs = 1;
	e = ace_add(f, a, "wrongfamily", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "2001:db8::/32");
	e = ace_add(f, a, "hostbits", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.1.2.3/24");
	policy_add(f, MUD_DIR_FROM_DEVICE, "a");

	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->num_rules, 1 + 2 + 1 + 2 + 2);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.1.0.0/16",
		    "a/narrow", "local-networks");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.0.0.0/8",
		    "a/wide", "local-networks");
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1,
		    "192.168.0.0/16", "a/wide", "local-networks");
	assert_rule(&rs->rules[3], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, -1, "10.1.2.0/24",
		    "a/hostbits", NULL);
	assert_int_equal(rs->num_warnings, 2);
	assert_warning(rs, 0, ACE_PTR(0, 2), "the ACE's peer matches do not overlap; ACE skipped");
	assert_warning(rs, 1, ACE_PTR(0, 3), "dst network \"2001:db8::/32\" is not IPv4; "
		       "ACE skipped");
	talloc_free(rs);

	/* a malformed network in a (supposedly validated) file is an error */
	e = ace_add(f, a, "bad", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV4;
	e->dst_network = talloc_strdup(f, "10.1.2.3/40");
	rs = (mud_ruleset_t *)(uintptr_t)1;
	{
		mud_error_t err;

		mud_error_clear(&err);
		assert_int_equal(mud_ruleset_compile(*state, &rs, f, site, NULL, NULL, &err),
				 MUD_ERR_SEMANTIC);
		assert_string_equal(err.where, ACE_PTR(0, 5));
		assert_string_equal(err.text, "\"10.1.2.3/40\" has an invalid prefix length");
	}
	assert_null(rs);
	talloc_free(f);
	talloc_free(site);
}

/* ------------------------------------------------------------------ */
/* DNS names                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
	int	calls;
	int	calls4;
	int	calls6;
	char	last[64];
} resolver_state_t;

static void pfx(mud_prefix_t *p, char const *s)
{
	assert_int_equal(mud_prefix_parse(p, s, true, NULL), MUD_OK);
}

static int test_resolver(void *uctx, char const *name, int family, mud_prefix_t *out, size_t max)
{
	resolver_state_t *st = uctx;
	size_t i;

	st->calls++;
	if (family == 4) st->calls4++;
	if (family == 6) st->calls6++;
	snprintf(st->last, sizeof(st->last), "%s", name);
	assert_int_equal(max, MUD_MAX_ADDRS_PER_NAME);

	if (strcmp(name, "multi.example") == 0) {
		if (family == 4) {
			pfx(&out[0], "203.0.113.1");
			pfx(&out[1], "203.0.113.2");
			pfx(&out[2], "203.0.113.1");	/* duplicate: dropped */
			return 3;
		}
		pfx(&out[0], "2001:db8:1::1");
		pfx(&out[1], "2001:db8:1::2");
		return 2;
	}
	if (strcmp(name, "wide.example") == 0) {
		/* a resolver that returns a prefix or a wrong family must not widen a rule */
		pfx(&out[0], family == 4 ? "203.0.113.9/8" : "2001:db8::9/16");
		pfx(&out[1], family == 4 ? "2001:db8::1" : "203.0.113.1");
		return 2;
	}
	if (strcmp(name, "many.example") == 0) {
		for (i = 0; i < max; i++) {
			char buf[32];

			snprintf(buf, sizeof(buf), "198.51.100.%zu", i + 1);
			pfx(&out[i], buf);
		}
		return 1000;	/* more than max: clamped */
	}
	if (strcmp(name, "fail.example") == 0) return -1;
	return 0;
}

static size_t dns_acl(mud_file_t *f, char const *acl, mud_acl_type_t type, mud_l3_t l3,
		      char const *name)
{
	size_t a = acl_add(f, acl, type);
	mud_ace_t *e = ace_add(f, a, "n", MUD_ACTION_ACCEPT);

	e->l3 = l3;
	e->dst_dnsname = talloc_strdup(f, name);
	e->l4 = MUD_L4_TCP;
	e->dst_port = (mud_port_t){ MUD_PORT_EQ, 443, 0 };
	policy_add(f, MUD_DIR_FROM_DEVICE, acl);
	return a;
}

static void test_dnsname_static(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	resolver_state_t st;
	mud_ruleset_t *rs;

	memset(&st, 0, sizeof(st));
	dns_acl(f, "a4", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "SERVICE.example.com.");
	dns_acl(f, "a6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "service.example.com");
	dns_acl(f, "b6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "v4only.example.com");

	rs = compile_ok(*state, f, site, test_resolver, &st);
	assert_int_equal(st.calls, 0);		/* names in the static map never reach it */
	assert_int_equal(rs->num_rules, 3 + 2 + 2);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, "192.0.2.10/32",
		    "a4/n", "SERVICE.example.com.");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, "192.0.2.11/32",
		    "a4/n", "SERVICE.example.com.");
	assert_port(&rs->rules[1].peer_port, MUD_PORT_EQ, 443, 0);
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8::a/128", "a6/n", "service.example.com");
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, ACE_PTR(2, 0),
		       "dst-dnsname \"v4only.example.com\" did not resolve (IPv6); ACE skipped");
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

static void test_dnsname_resolver(void **state)
{
	mud_context_t *site = mud_context_alloc(*state);
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	resolver_state_t st;
	mud_ruleset_t *rs;
	size_t to;
	mud_ace_t *e;
	size_t i;

	memset(&st, 0, sizeof(st));
	dns_acl(f, "m4", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "multi.example");		/* 0 */
	dns_acl(f, "m6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "multi.example");		/* 1 */
	dns_acl(f, "m4again", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "MULTI.example");	/* 2 */
	dns_acl(f, "w4", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "wide.example");		/* 3 */
	dns_acl(f, "w6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "wide.example");		/* 4 */
	dns_acl(f, "none", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "none.example");		/* 5 */
	dns_acl(f, "fail", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "fail.example");		/* 6 */
	dns_acl(f, "many", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "many.example");		/* 7 */
	dns_acl(f, "junk", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "bad name\x01.example");	/* 8 */
	to = acl_add(f, "to", MUD_ACL_TYPE_IPV6);					/* 9 */
	e = ace_add(f, to, "src", MUD_ACTION_ACCEPT);
	e->l3 = MUD_L3_IPV6;
	e->src_dnsname = talloc_strdup(f, "none.example");
	policy_add(f, MUD_DIR_TO_DEVICE, "to");

	rs = compile_ok(*state, f, site, test_resolver, &st);
	/* each (name, family) is resolved once per compile; "bad name" never */
	assert_int_equal(st.calls4, 4);
	assert_int_equal(st.calls6, 4);
	assert_int_equal(rs->num_rules, 2 + 2 + 2 + 1 + 1 + 16 + 4);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6,
		    "203.0.113.1/32", "m4/n", "multi.example");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6,
		    "203.0.113.2/32", "m4/n", "multi.example");
	assert_rule(&rs->rules[2], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8:1::1/128", "m6/n", "multi.example");
	assert_rule(&rs->rules[3], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8:1::2/128", "m6/n", "multi.example");
	assert_rule(&rs->rules[4], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6,
		    "203.0.113.1/32", "m4again/n", "MULTI.example");
	assert_rule(&rs->rules[5], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6,
		    "203.0.113.2/32", "m4again/n", "MULTI.example");
	assert_rule(&rs->rules[6], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6,
		    "203.0.0.0/32", "w4/n", "wide.example");
	assert_rule(&rs->rules[7], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001::/128", "w6/n", "wide.example");
	for (i = 0; i < 16; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "198.51.100.%zu/32", i + 1);
		assert_rule(&rs->rules[8 + i], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, buf,
			    "many/n", "many.example");
	}
	assert_denies(rs, true, true);
	assert_int_equal(rs->num_warnings, 4);
	assert_warning(rs, 0, ACE_PTR(5, 0),
		       "dst-dnsname \"none.example\" did not resolve (IPv4); ACE skipped");
	assert_warning(rs, 1, ACE_PTR(6, 0),
		       "dst-dnsname \"fail.example\" did not resolve (IPv6); ACE skipped");
	assert_warning(rs, 2, ACE_PTR(8, 0),
		       "dst-dnsname \"bad name\\x01.example\" did not resolve (IPv4); ACE skipped");
	assert_warning(rs, 3, ACE_PTR(9, 0),
		       "src-dnsname \"none.example\" did not resolve (IPv6); ACE skipped");
	talloc_free(rs);

	/* resolution turned off: the resolver is not consulted */
	site->dns_resolve = false;
	memset(&st, 0, sizeof(st));
	rs = compile_ok(*state, f, site, test_resolver, &st);
	assert_int_equal(st.calls, 0);
	assert_int_equal(rs->num_rules, 4);
	assert_int_equal(rs->num_warnings, 10);
	assert_warning(rs, 0, ACE_PTR(0, 0),
		       "dst-dnsname \"multi.example\" did not resolve (IPv4); ACE skipped");
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

/* The default resolver (getaddrinfo), with literals only: unit tests send no DNS queries. */
static void test_dnsname_getaddrinfo(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	mud_ruleset_t *rs;

	dns_acl(f, "lit", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "127.0.0.1");
	dns_acl(f, "lit6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "::1");
	dns_acl(f, "v4in6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "127.0.0.1");
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, "127.0.0.1/32",
		    "lit/n", "127.0.0.1");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6, "::1/128",
		    "lit6/n", "::1");
	assert_int_equal(rs->num_rules, 2 + 2 + 2);
	assert_int_equal(rs->num_warnings, 1);
	assert_warning(rs, 0, ACE_PTR(2, 0),
		       "dst-dnsname \"127.0.0.1\" did not resolve (IPv6); ACE skipped");
	talloc_free(rs);
	talloc_free(f);
}

/* Address literals are used as they are, never sent to the resolver. */
static void test_dnsname_literal(void **state)
{
	mud_context_t *site = mud_context_alloc(*state);
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	resolver_state_t st;
	mud_ruleset_t *rs;

	site->dns_resolve = false;
	memset(&st, 0, sizeof(st));
	dns_acl(f, "lit", MUD_ACL_TYPE_IPV4, MUD_L3_IPV4, "192.0.2.77");
	dns_acl(f, "lit6", MUD_ACL_TYPE_IPV6, MUD_L3_IPV6, "2001:DB8::77");
	rs = compile_ok(*state, f, site, test_resolver, &st);
	assert_int_equal(st.calls, 0);
	assert_int_equal(rs->num_rules, 2 + 2 + 2);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 4, MUD_ACTION_ACCEPT, 6, "192.0.2.77/32",
		    "lit/n", "192.0.2.77");
	assert_rule(&rs->rules[1], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8::77/128", "lit6/n", "2001:DB8::77");
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

/* ------------------------------------------------------------------ */
/* Rule set fields                                                     */
/* ------------------------------------------------------------------ */

static void test_vlan(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *f;
	mud_ruleset_t *rs;

	/* the device's own manufacturer entry has a VLAN (host compared in lowercase) */
	f = file_new(*state, "https://LIGHTING.example.com/lightbulb2000", NULL);
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->vlan, 100);
	talloc_free(rs);
	talloc_free(f);

	/* an entry without a VLAN: default-vlan */
	f = file_new(*state, "https://sensors.example.net/s1", NULL);
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->vlan, 10);
	talloc_free(rs);
	talloc_free(f);

	/* no entry: default-vlan */
	f = file_new(*state, "https://other.example.org/x", NULL);
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->vlan, 10);
	talloc_free(rs);

	/* no default either: none */
	site->default_vlan = 0;
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_int_equal(rs->vlan, 0);
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

static void test_name_and_fields(void **state)
{
	mud_context_t *site = mud_context_alloc(*state);
	mud_file_t *f;
	mud_ruleset_t *rs;

	f = file_new(*state, DEV_URL, "Light Bulb/2000 \xc3\xa4-x_y");
	f->mfg_name = talloc_strdup(f, "Example Lighting");
	f->cache_validity = 168;
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_string_equal(rs->name, "mud-Light_Bulb_2000___-x_y");
	assert_string_equal(rs->mfg_name, "Example Lighting");
	assert_string_equal(rs->model_name, "Light Bulb/2000 \xc3\xa4-x_y");
	assert_int_equal(rs->cache_validity, 168);
	talloc_free(rs);
	talloc_free(f);

	/* cut at 32 characters, prefix from the context */
	f = file_new(*state, DEV_URL, "abcdefghijklmnopqrstuvwxyz0123456789");
	f->cache_validity = 0;
	talloc_free(site->acl_prefix);
	site->acl_prefix = talloc_strdup(site, "lab-2");
	rs = compile_ok(*state, f, site, NULL, NULL);
	assert_string_equal(rs->name, "lab-2-abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(rs->cache_validity, MUD_CACHE_VALIDITY_DEFAULT);
	talloc_free(rs);
	talloc_free(f);

	/* no model-name (or an empty one): the URL host */
	f = file_new(*state, "https://Thermo.Example.org:8443/t", "");
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_string_equal(rs->name, "mud-thermo_example_org");
	assert_null(rs->mfg_name);
	talloc_free(rs);
	talloc_free(f);

	/* neither */
	f = file_new(*state, NULL, NULL);
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_string_equal(rs->name, "mud-device");
	assert_string_equal(rs->mud_url, "");
	talloc_free(rs);
	talloc_free(f);
	talloc_free(site);
}

/* ------------------------------------------------------------------ */
/* Limits, arguments, determinism                                      */
/* ------------------------------------------------------------------ */

static void limit_file(mud_file_t *f, size_t aces_in_second)
{
	size_t a = acl_add(f, "a", MUD_ACL_TYPE_MIXED_ALL);
	size_t b = acl_add(f, "b", MUD_ACL_TYPE_MIXED_ALL);
	size_t i;

	for (i = 0; i < MUD_MAX_ACES; i++) ace_add(f, a, "x", MUD_ACTION_ACCEPT);
	for (i = 0; i < aces_in_second; i++) ace_add(f, b, "y", MUD_ACTION_ACCEPT);
	policy_add(f, MUD_DIR_FROM_DEVICE, "a");
	policy_add(f, MUD_DIR_FROM_DEVICE, "b");
}

static void test_limit(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	mud_ruleset_t *rs = NULL;
	mud_error_t err;

	/* 2046 ACEs x 2 families + 4 denies = MUD_MAX_RULES exactly */
	limit_file(f, 1022);
	rs = compile_ok(*state, f, NULL, NULL, NULL);
	assert_int_equal(rs->num_rules, MUD_MAX_RULES);
	assert_denies(rs, true, true);
	talloc_free(rs);
	talloc_free(f);

	/* one ACE more: MUD_ERR_LIMIT at that ACE, nothing left behind */
	f = file_new(*state, DEV_URL, NULL);
	limit_file(f, 1023);
	rs = (mud_ruleset_t *)(uintptr_t)1;
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(*state, &rs, f, NULL, NULL, NULL, &err),
			 MUD_ERR_LIMIT);
	assert_null(rs);
	assert_string_equal(err.where, ACE_PTR(1, 1022));
	assert_string_equal(err.text, "more than 4096 compiled rules");
	talloc_free(f);
	assert_no_leak(*state);
}

static void test_args(void **state)
{
	mud_file_t *f = file_new(*state, DEV_URL, NULL);
	mud_ruleset_t *rs = (mud_ruleset_t *)(uintptr_t)1;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(*state, NULL, f, NULL, NULL, NULL, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(*state, &rs, NULL, NULL, NULL, NULL, &err),
			 MUD_ERR_ARG);
	assert_null(rs);
	assert_int_equal(mud_ruleset_compile(*state, &rs, NULL, NULL, NULL, NULL, NULL),
			 MUD_ERR_ARG);
	talloc_free(f);
}

static void test_deterministic(void **state)
{
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_ruleset_t *rs[2];
	size_t i;
	int k;

	for (k = 0; k < 2; k++) {
		mud_file_t *f = file_new(*state, DEV_URL, "m");

		abs_file(f, &abs_cases[1]);
		abs_file(f, &abs_cases[3]);
		dns_acl(f, "d", MUD_ACL_TYPE_MIXED_ALL, MUD_L3_IPV6, "service.example.com");
		rs[k] = compile_ok(*state, f, site, NULL, NULL);
		talloc_free(f);
	}
	assert_int_equal(rs[0]->num_rules, rs[1]->num_rules);
	for (i = 0; i < rs[0]->num_rules; i++) {
		mud_rule_t const *a = &rs[0]->rules[i];
		mud_rule_t const *b = &rs[1]->rules[i];

		assert_int_equal(a->dir, b->dir);
		assert_int_equal(a->family, b->family);
		assert_int_equal(a->action, b->action);
		assert_int_equal(a->protocol, b->protocol);
		assert_memory_equal(&a->peer, &b->peer, sizeof(a->peer));
		assert_memory_equal(&a->device_port, &b->device_port, sizeof(a->device_port));
		assert_memory_equal(&a->peer_port, &b->peer_port, sizeof(a->peer_port));
		assert_int_equal(a->established, b->established);
		assert_string_equal(a->origin, b->origin);
	}
	talloc_free(rs[0]);
	talloc_free(rs[1]);
	talloc_free(site);
}

/* ------------------------------------------------------------------ */
/* Through the parser: the RFC 8520 example                            */
/* ------------------------------------------------------------------ */

static void test_rfc8520_example(void **state)
{
	char *path = test_shared_path(*state, "mudfiles/rfc8520/lightbulb2000.json");
	size_t len = 0;
	char *data = test_read_file(*state, path, &len);
	mud_context_t *site = ctx_parse(*state, site_json);
	mud_file_t *file = NULL;
	mud_ruleset_t *rs;
	resolver_state_t st;
	mud_error_t err;

	if (!data) {
		talloc_free(path);
		talloc_free(site);
		skip();
	}
	mud_error_clear(&err);
	if (mud_file_parse(*state, &file, data, len, DEV_URL, MUD_PARSE_STRICT, &err) != MUD_OK) {
		print_error("parse: %s at %s\n", err.text, err.where);
	}
	assert_non_null(file);

	/* test.example.com is not in the static map: the resolver answers */
	memset(&st, 0, sizeof(st));
	rs = compile_ok(*state, file, site, test_resolver, &st);
	assert_int_equal(st.calls6, 1);
	assert_string_equal(st.last, "test.example.com");
	assert_int_equal(rs->num_rules, 4);
	assert_int_equal(rs->num_warnings, 2);
	/* from-device-policy names the second ACL: looked up by its own name */
	assert_warning(rs, 0, ACE_PTR(1, 0),
		       "dst-dnsname \"test.example.com\" did not resolve (IPv6); ACE skipped");
	assert_warning(rs, 1, ACE_PTR(0, 0),
		       "src-dnsname \"test.example.com\" did not resolve (IPv6); ACE skipped");
	talloc_free(rs);

	/* now with an answer */
	talloc_free(site);
	site = ctx_parse(*state, "{\"dns\": {\"static\": {\"test.example.com\": "
			 "[\"2001:db8::443\"]}}}");
	rs = compile_ok(*state, file, site, NULL, NULL);
	assert_int_equal(rs->num_rules, 2 + 4);
	assert_rule(&rs->rules[0], MUD_DIR_FROM_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8::443/128", "mud-76100-v6fr/cl0-frdev", "test.example.com");
	assert_port(&rs->rules[0].peer_port, MUD_PORT_EQ, 443, 0);
	assert_port(&rs->rules[0].device_port, MUD_PORT_ANY, 0, 0);
	assert_false(rs->rules[0].established);		/* the device opens */
	assert_rule(&rs->rules[1], MUD_DIR_TO_DEVICE, 6, MUD_ACTION_ACCEPT, 6,
		    "2001:db8::443/128", "mud-76100-v6to/cl0-todev", "test.example.com");
	assert_port(&rs->rules[1].peer_port, MUD_PORT_EQ, 443, 0);
	assert_true(rs->rules[1].established);		/* the server must not open */
	assert_denies(rs, true, true);
	assert_int_equal(rs->vlan, 0);
	assert_string_equal(rs->name, "mud-lighting_example_com");
	talloc_free(rs);
	talloc_free(file);
	talloc_free(site);
	talloc_free(data);
	talloc_free(path);
}

/* ------------------------------------------------------------------ */
/* Quarantine rule set                                                 */
/* ------------------------------------------------------------------ */

/** One quarantine rule: accept, proto, ports on both sides, icmp type, established. */
static void assert_qrule(mud_rule_t const *r, mud_dir_t dir, int family, int protocol,
			 char const *peer, char const *origin, mud_port_op_t dop,
			 unsigned int dport, mud_port_op_t pop, unsigned int pport, int icmp_type,
			 bool established)
{
	assert_rule(r, dir, family, MUD_ACTION_ACCEPT, protocol, peer, origin, NULL);
	assert_port(&r->device_port, dop, dport, 0);
	assert_port(&r->peer_port, pop, pport, 0);
	assert_int_equal(r->icmp_type, icmp_type);
	assert_int_equal(r->icmp_code, -1);
	assert_int_equal(r->established, established);
}

/** DHCP (4 rules) and ND (8 rules) at the start of every quarantine set; next index. */
static size_t assert_q_dhcp_nd(mud_ruleset_t const *rs)
{
	mud_rule_t const *r = rs->rules;
	size_t i = 0;
	int t;

	assert_true(rs->num_rules >= 12);
	assert_qrule(&r[i++], MUD_DIR_FROM_DEVICE, 4, 17, "any4", "quarantine/dhcp",
		     MUD_PORT_EQ, 68, MUD_PORT_EQ, 67, -1, false);
	assert_qrule(&r[i++], MUD_DIR_TO_DEVICE, 4, 17, "any4", "quarantine/dhcp",
		     MUD_PORT_EQ, 68, MUD_PORT_EQ, 67, -1, false);
	assert_qrule(&r[i++], MUD_DIR_FROM_DEVICE, 6, 17, "any6", "quarantine/dhcpv6",
		     MUD_PORT_EQ, 546, MUD_PORT_EQ, 547, -1, false);
	assert_qrule(&r[i++], MUD_DIR_TO_DEVICE, 6, 17, "any6", "quarantine/dhcpv6",
		     MUD_PORT_EQ, 546, MUD_PORT_EQ, 547, -1, false);
	for (t = 133; t <= 136; t++) {
		assert_qrule(&r[i++], MUD_DIR_FROM_DEVICE, 6, 58, "any6", "quarantine/ipv6-nd",
			     MUD_PORT_ANY, 0, MUD_PORT_ANY, 0, t, false);
		assert_qrule(&r[i++], MUD_DIR_TO_DEVICE, 6, 58, "any6", "quarantine/ipv6-nd",
			     MUD_PORT_ANY, 0, MUD_PORT_ANY, 0, t, false);
	}
	return i;
}

/** The four DNS rules (udp, tcp out; udp, tcp established back) of one peer. */
static size_t assert_q_dns(mud_ruleset_t const *rs, size_t i, int family, char const *peer)
{
	mud_rule_t const *r = rs->rules;

	assert_true(rs->num_rules >= i + 4);
	assert_qrule(&r[i++], MUD_DIR_FROM_DEVICE, family, 17, peer, "quarantine/dns",
		     MUD_PORT_ANY, 0, MUD_PORT_EQ, 53, -1, false);
	assert_qrule(&r[i++], MUD_DIR_FROM_DEVICE, family, 6, peer, "quarantine/dns",
		     MUD_PORT_ANY, 0, MUD_PORT_EQ, 53, -1, false);
	assert_qrule(&r[i++], MUD_DIR_TO_DEVICE, family, 17, peer, "quarantine/dns",
		     MUD_PORT_ANY, 0, MUD_PORT_EQ, 53, -1, false);
	assert_qrule(&r[i++], MUD_DIR_TO_DEVICE, family, 6, peer, "quarantine/dns",
		     MUD_PORT_ANY, 0, MUD_PORT_EQ, 53, -1, true);
	return i;
}

/** No resolvers in the context (or no context): DNS to any address, both families. */
static void test_quarantine_fallback(void **state)
{
	void *ctx = *state;
	mud_ruleset_t *rs = NULL;
	mud_context_t *site;
	mud_error_t err;
	size_t i;

	/* No context at all: default prefix. */
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_quarantine(ctx, &rs, NULL, &err), MUD_OK);
	assert_int_equal(err.code, MUD_OK);
	assert_non_null(rs);
	assert_string_equal(rs->name, "mud-quarantine");
	assert_int_equal(rs->vlan, 0);
	assert_int_equal(rs->num_warnings, 0);
	assert_int_equal(rs->num_rules, 12 + 8 + 4);
	i = assert_q_dhcp_nd(rs);
	i = assert_q_dns(rs, i, 4, "any4");
	i = assert_q_dns(rs, i, 6, "any6");
	assert_int_equal(i, rs->num_rules - 4);
	assert_denies(rs, true, true);
	talloc_free(rs);

	/* A context whose services say nothing: the quarantine set ignores svc_dhcp/svc_nd
	 * being off (always present) and keeps the fallback; the prefix and VLAN apply. */
	site = ctx_parse(ctx, "{\"acl-prefix\": \"site\", \"quarantine-vlan\": 999,"
			 " \"services\": {\"ntp\": [\"192.0.2.123\"]}}");
	rs = NULL;
	assert_int_equal(mud_ruleset_quarantine(ctx, &rs, site, &err), MUD_OK);
	assert_string_equal(rs->name, "site-quarantine");
	assert_int_equal(rs->vlan, 999);
	assert_int_equal(rs->num_rules, 12 + 8 + 4);
	i = assert_q_dhcp_nd(rs);
	i = assert_q_dns(rs, i, 4, "any4");
	i = assert_q_dns(rs, i, 6, "any6");
	assert_int_equal(i, rs->num_rules - 4);
	assert_denies(rs, true, true);
	talloc_free(rs);
	talloc_free(site);

	/* Arguments. */
	assert_int_equal(mud_ruleset_quarantine(ctx, NULL, NULL, &err), MUD_ERR_ARG);
	assert_int_equal(mud_ruleset_quarantine(ctx, NULL, NULL, NULL), MUD_ERR_ARG);
}

/** Resolvers in the context: DNS only to them (each in its own family), nothing to any. */
static void test_quarantine_resolvers(void **state)
{
	void *ctx = *state;
	mud_ruleset_t *rs = NULL;
	mud_context_t *site;
	mud_error_t err;
	size_t i;
	size_t k;

	site = ctx_parse(ctx, "{\"services\": {\"dns\": [\"192.0.2.53\", \"2001:db8::53\","
			 " \"198.51.100.0/24\"]}}");
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_quarantine(ctx, &rs, site, &err), MUD_OK);
	assert_int_equal(err.code, MUD_OK);
	assert_string_equal(rs->name, "mud-quarantine");
	assert_int_equal(rs->num_rules, 12 + 12 + 4);
	i = assert_q_dhcp_nd(rs);
	i = assert_q_dns(rs, i, 4, "192.0.2.53/32");
	i = assert_q_dns(rs, i, 6, "2001:db8::53/128");
	i = assert_q_dns(rs, i, 4, "198.51.100.0/24");
	assert_int_equal(i, rs->num_rules - 4);
	assert_denies(rs, true, true);

	/* No DNS rule anywhere reaches an unrestricted peer. */
	for (k = 0; k < rs->num_rules; k++) {
		mud_rule_t const *r = &rs->rules[k];

		if (r->peer_port.op == MUD_PORT_EQ && r->peer_port.lo == 53) {
			assert_int_not_equal(r->peer.len, 0);
		}
	}
	talloc_free(rs);
	talloc_free(site);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup_ctx, test_teardown_ctx)
	const struct CMUnitTest tests[] = {
		T(test_directions_and_ports),
		T(test_acl_lookup_and_order),
		T(test_port_operators),
		T(test_icmp_and_protocol),
		T(test_direction_initiated),
		T(test_actions),
		T(test_eth),
		T(test_device_side_match),
		T(test_final_denies),
		T(test_abstractions_mapped),
		T(test_abstractions_unmapped),
		T(test_abstraction_without_networks),
		T(test_mixed_families),
		T(test_network_and_abstraction),
		T(test_dnsname_static),
		T(test_dnsname_resolver),
		T(test_dnsname_getaddrinfo),
		T(test_dnsname_literal),
		T(test_vlan),
		T(test_name_and_fields),
		T(test_limit),
		T(test_args),
		T(test_deterministic),
		T(test_rfc8520_example),
		T(test_quarantine_fallback),
		T(test_quarantine_resolvers),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
