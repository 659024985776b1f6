/*
 * test_nft.c - the nftables enforcement backend: the JSON transactions it builds from
 * compiled rules (no kernel), bad input refused with what and where, and, when the test
 * may create its own network namespace (root, nftables in the kernel), the whole life of
 * the table in that namespace: install, atomic replace, addresses, remove, flush, nothing
 * left after free. Packets are tested by tests/netns/enforce.sh.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "test_common.h"

static bool have_netns;		//!< this process moved to a private network namespace

static mud_rule_t *add_rule(mud_ruleset_t *rs, mud_dir_t dir, int family, int proto)
{
	mud_rule_t *r;

	rs->rules = talloc_realloc(rs, rs->rules, mud_rule_t, rs->num_rules + 1);
	assert_non_null(rs->rules);
	r = &rs->rules[rs->num_rules++];
	memset(r, 0, sizeof(*r));
	r->kind = MUD_RULE_ACE;
	r->acl_index = r->ace_index = -1;
	r->dir = dir;
	r->family = family;
	r->protocol = proto;
	r->icmp_type = r->icmp_code = -1;
	r->action = MUD_ACTION_ACCEPT;
	return r;
}

static void set_peer(mud_rule_t *r, char const *s)
{
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&r->peer, s, true, &err), MUD_OK);
}

static mud_ruleset_t *sample(void *ctx)
{
	mud_ruleset_t *rs = talloc_zero(ctx, mud_ruleset_t);
	mud_rule_t *r;

	assert_non_null(rs);
	r = add_rule(rs, MUD_DIR_FROM_DEVICE, 4, 6);
	set_peer(r, "203.0.113.10/32");
	r->peer_port.op = MUD_PORT_EQ;
	r->peer_port.lo = 443;
	r = add_rule(rs, MUD_DIR_TO_DEVICE, 4, 6);
	set_peer(r, "203.0.113.10/32");
	r->peer_port.op = MUD_PORT_EQ;
	r->peer_port.lo = 443;
	r->established = true;
	r = add_rule(rs, MUD_DIR_FROM_DEVICE, 6, 17);
	set_peer(r, "2001:db8::1:2:3/48");	/* host bits: cleared */
	r->peer_port.op = MUD_PORT_RANGE;
	r->peer_port.lo = 5000;
	r->peer_port.hi = 5010;
	r->device_port.op = MUD_PORT_GTE;
	r->device_port.lo = 1024;
	r = add_rule(rs, MUD_DIR_TO_DEVICE, 6, 58);
	r->icmp_type = 128;
	r->icmp_code = 0;
	r = add_rule(rs, MUD_DIR_FROM_DEVICE, 4, 17);
	r->peer_port.op = MUD_PORT_NEQ;
	r->peer_port.lo = 53;
	r->action = MUD_ACTION_DROP;
	r = add_rule(rs, MUD_DIR_FROM_DEVICE, 4, -1);
	r->kind = MUD_RULE_FINAL;
	r->action = MUD_ACTION_DROP;
	r = add_rule(rs, MUD_DIR_TO_DEVICE, 6, -1);
	r->kind = MUD_RULE_FINAL;
	r->action = MUD_ACTION_DROP;
	return rs;
}

static void test_json_mapping(void **state)
{
	void *ctx = *state;
	mud_ruleset_t *rs = sample(ctx);
	mud_prefix_t a[2];
	char *json = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&a[0], "192.0.2.100", false, &err), MUD_OK);
	assert_int_equal(mud_prefix_parse(&a[1], "2001:db8:1::100", false, &err), MUD_OK);
	assert_int_equal(mud_nft_device_json(ctx, &json, "rlm_mud", "02:CF:00:00:00:01", rs, a, 2,
					     &err), MUD_OK);
	assert_non_null(json);
	/* the device: chains named by its MAC, map entries by MAC and addresses */
	assert_non_null(strstr(json, "\"name\":\"out_02cf00000001\""));
	assert_non_null(strstr(json, "[\"02:cf:00:00:00:01\",{\"jump\":{\"target\":"
				     "\"out_02cf00000001\"}}]"));
	assert_non_null(strstr(json, "\"name\":\"in4\",\"elem\":[[\"192.0.2.100\""));
	assert_non_null(strstr(json, "\"name\":\"in6\",\"elem\":[[\"2001:db8:1::100\""));
	/* from-device: the peer is the destination; a permit returns */
	assert_non_null(strstr(json, "{\"payload\":{\"protocol\":\"ip\",\"field\":"
				     "\"daddr\"}},\"right\":\"203.0.113.10\"}},{\"match\":"
				     "{\"op\":\"==\",\"left\":{\"meta\":{\"key\":\"l4proto\"}},"
				     "\"right\":6}},{\"match\":{\"op\":\"==\",\"left\":"
				     "{\"payload\":{\"protocol\":\"tcp\",\"field\":\"dport\"}},"
				     "\"right\":443}},{\"return\":null}"));
	/* established: only the reply direction of a connection the other side opened */
	assert_non_null(strstr(json, "\"field\":\"sport\"}},\"right\":443}},{\"match\":"
				     "{\"op\":\"==\",\"left\":{\"ct\":{\"key\":\"direction\"}},"
				     "\"right\":\"reply\"}},{\"match\":{\"op\":\"in\",\"left\":"
				     "{\"ct\":{\"key\":\"state\"}},\"right\":\"established\"}}"));
	/* host bits cleared, ranges and operators */
	assert_non_null(strstr(json, "{\"prefix\":{\"addr\":\"2001:db8::\",\"len\":48}}"));
	assert_non_null(strstr(json, "\"right\":{\"range\":[5000,5010]}"));
	assert_non_null(strstr(json, "{\"op\":\">=\",\"left\":{\"payload\":{\"protocol\":\"udp\","
				     "\"field\":\"sport\"}},\"right\":1024}"));
	assert_non_null(strstr(json, "{\"op\":\"!=\",\"left\":{\"payload\":{\"protocol\":\"udp\","
				     "\"field\":\"dport\"}},\"right\":53}},{\"drop\":null}"));
	assert_non_null(strstr(json, "\"protocol\":\"icmpv6\",\"field\":\"type\"}},\"right\":128"));
	assert_non_null(strstr(json, "\"protocol\":\"icmpv6\",\"field\":\"code\"}},\"right\":0"));
	/* default deny closes both chains */
	assert_non_null(strstr(json, "\"chain\":\"out_02cf00000001\",\"expr\":[{\"counter\":null},"
				     "{\"drop\":null}]"));
	assert_non_null(strstr(json, "\"chain\":\"in_02cf00000001\",\"expr\":[{\"counter\":null},"
				     "{\"drop\":null}]"));
	talloc_free(json);
	talloc_free(rs);
}

static void expect_refused(void *ctx, mud_ruleset_t *rs, mud_rcode_t code, char const *where,
			   char const *text)
{
	char *json = (char *)1;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_nft_device_json(ctx, &json, "rlm_mud", "02:00:00:00:00:01", rs, NULL,
					     0, &err), code);
	assert_null(json);
	assert_string_equal(err.where, where);
	assert_non_null(strstr(err.text, text));
}

static void test_json_bad_rules(void **state)
{
	void *ctx = *state;
	mud_ruleset_t *rs = talloc_zero(ctx, mud_ruleset_t);
	mud_rule_t *r;

	r = add_rule(rs, MUD_DIR_FROM_DEVICE, 4, 1);
	r->peer_port.op = MUD_PORT_EQ;
	r->peer_port.lo = 80;
	r->origin = talloc_strdup(rs, "acl-a/ace-1");
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "ports without tcp or udp");

	r->protocol = 17;
	r->established = true;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "established without tcp");

	r->established = false;
	r->peer_port.op = MUD_PORT_RANGE;
	r->peer_port.lo = 90;
	r->peer_port.hi = 80;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "bad port match");

	r->peer_port.op = (mud_port_op_t)42;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "bad port match");

	r->peer_port.op = MUD_PORT_ANY;
	set_peer(r, "2001:db8::/32");
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "peer of the wrong family");

	r->peer.len = 0;
	r->protocol = 6;
	r->icmp_type = 3;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "ICMP type or code without ICMP");

	r->protocol = 1;
	r->icmp_type = -1;
	r->icmp_code = 1;	/* a permit cannot drop the type: it would be wider */
	expect_refused(ctx, rs, MUD_ERR_RENDER, "acl-a/ace-1", "ICMP code without a type");

	r->icmp_code = -1;
	r->protocol = 300;
	r->origin = NULL;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "rule 0", "protocol out of range");

	r->protocol = 6;
	r->family = 5;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "rule 0", "family");

	r->family = 4;
	r->dir = (mud_dir_t)7;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "rule 0", "bad direction");
	r->dir = MUD_DIR_FROM_DEVICE;
	r->action = (mud_action_t)9;
	expect_refused(ctx, rs, MUD_ERR_RENDER, "rule 0", "bad action");
	talloc_free(rs);
}

static void test_json_bad_args(void **state)
{
	void *ctx = *state;
	mud_ruleset_t *rs = talloc_zero(ctx, mud_ruleset_t);
	static char const *macs[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:0g", "01:00:5e:00:00:01",	/* multicast */
		"02:00:00:00:00:01:02", "02000000000001", "02:00:00:00:00:1",
	};
	static char const *tables[] = {
		"", "a b", "t\"x", "x;delete", "0123456789012345678901234567890123"
	};
	mud_prefix_t many[MUD_ENFORCE_MAX_ADDRS + 1];
	char *json = NULL;
	mud_error_t err;
	size_t i;

	for (i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		mud_error_clear(&err);
		assert_int_equal(mud_nft_device_json(ctx, &json, "t", macs[i], rs, NULL, 0, &err),
				 MUD_ERR_ARG);
		assert_string_equal(err.where, "mac");
		assert_null(json);
	}
	mud_error_clear(&err);
	assert_int_equal(mud_nft_device_json(ctx, &json, "t", NULL, rs, NULL, 0, &err),
			 MUD_ERR_ARG);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		mud_error_clear(&err);
		assert_int_equal(mud_nft_device_json(ctx, &json, tables[i], "02:00:00:00:00:01", rs,
						     NULL, 0, &err), MUD_ERR_ARG);
		assert_string_equal(err.where, "table");
	}
	mud_error_clear(&err);
	assert_int_equal(mud_nft_device_json(ctx, &json, "t", "02:00:00:00:00:01", NULL, NULL, 0,
					     &err), MUD_ERR_ARG);
	memset(many, 0, sizeof(many));
	mud_error_clear(&err);
	assert_int_equal(mud_nft_device_json(ctx, &json, "t", "02:00:00:00:00:01", rs, many,
					     MUD_ENFORCE_MAX_ADDRS + 1, &err), MUD_ERR_LIMIT);
	/* an empty rule set is a device that may send nothing: still default deny */
	mud_error_clear(&err);
	assert_int_equal(mud_nft_device_json(ctx, &json, "t", "02-00-00-00-00-01", rs, NULL, 0,
					     &err), MUD_OK);
	assert_non_null(strstr(json, "{\"counter\":null},{\"drop\":null}"));
	talloc_free(json);
	talloc_free(rs);
}

/** A random rule: mostly well-formed, sometimes not (every field may be out of range). */
static void random_rule(mud_ruleset_t *rs, unsigned int *seed)
{
	static int const protos[] = { -1, 1, 6, 17, 58, 47, 300, -5 };
	mud_rule_t *r = add_rule(rs, rand_r(seed) % 2 ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE,
				 rand_r(seed) % 2 ? 6 : 4, protos[rand_r(seed) % 8]);
	mud_port_t *ports[2] = { &r->device_port, &r->peer_port };
	size_t i;

	if (rand_r(seed) % 50 == 0) r->family = rand_r(seed) % 9;
	if (rand_r(seed) % 50 == 0) r->dir = (mud_dir_t)(rand_r(seed) % 4);
	r->action = rand_r(seed) % 3 ? MUD_ACTION_ACCEPT : MUD_ACTION_DROP;
	if (rand_r(seed) % 50 == 0) r->action = (mud_action_t)(rand_r(seed) % 5);
	if (rand_r(seed) % 2) {
		r->peer.family = rand_r(seed) % 20 ? r->family : 10 - r->family;
		r->peer.len = (uint8_t)(rand_r(seed) % 140);
		for (i = 0; i < 16; i++) r->peer.addr[i] = (uint8_t)rand_r(seed);
	}
	for (i = 0; i < 2; i++) {
		if (rand_r(seed) % 2) continue;
		ports[i]->op = (mud_port_op_t)(rand_r(seed) % 7);
		ports[i]->lo = (uint16_t)rand_r(seed);
		ports[i]->hi = (uint16_t)(ports[i]->lo + rand_r(seed) % 100);
	}
	if (rand_r(seed) % 4 == 0) r->icmp_type = rand_r(seed) % 300;
	if (rand_r(seed) % 4 == 0) r->icmp_code = rand_r(seed) % 300;
	r->established = rand_r(seed) % 4 == 0;
	if (rand_r(seed) % 8 == 0) return;	/* left as drawn: often malformed */

	/* made consistent, as the compiler makes them */
	if (r->family != 4 && r->family != 6) r->family = 4;
	r->dir = r->dir == MUD_DIR_TO_DEVICE ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE;
	if (r->action != MUD_ACTION_ACCEPT) r->action = MUD_ACTION_DROP;
	if (r->protocol == 1 || r->protocol == 58) r->protocol = r->family == 6 ? 58 : 1;
	if (r->protocol > 255 || r->protocol < -1) r->protocol = 6;
	r->peer.family = r->family;
	if (r->peer.len > (r->family == 6 ? 128 : 32)) r->peer.len = r->family == 6 ? 64 : 24;
	for (i = 0; i < 2; i++) {
		if (ports[i]->op > MUD_PORT_RANGE) ports[i]->op = MUD_PORT_EQ;
		if (ports[i]->hi < ports[i]->lo) ports[i]->hi = ports[i]->lo;
		if (r->protocol != 6 && r->protocol != 17) ports[i]->op = MUD_PORT_ANY;
	}
	if (r->protocol != 1 && r->protocol != 58) r->icmp_type = r->icmp_code = -1;
	if (r->icmp_type > 255) r->icmp_type = 8;
	if (r->icmp_code > 255 || r->icmp_type < 0) r->icmp_code = -1;
	if (r->protocol != 6) r->established = false;
}

/* Random rule sets: refused with MUD_ERR_RENDER or accepted, never a crash or a leak; every
 * accepted one is also accepted by the kernel when the test has its own namespace. */
static void test_json_random(void **state)
{
	void *ctx = *state;
	mud_enforce_t *e = NULL;
	mud_enforce_opts_t o;
	unsigned int seed = 8520;
	size_t n;
	size_t ok = 0;
	size_t refused = 0;

	memset(&o, 0, sizeof(o));
	if (have_netns) {
		mud_error_t err;

		mud_error_clear(&err);
		assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_OK);
	}
	for (n = 0; n < 400; n++) {
		mud_ruleset_t *rs = talloc_zero(ctx, mud_ruleset_t);
		char *json = NULL;
		mud_error_t err;
		mud_rcode_t rc;
		size_t k = 1 + (size_t)rand_r(&seed) % 6;

		while (k--) random_rule(rs, &seed);
		mud_error_clear(&err);
		rc = mud_nft_device_json(ctx, &json, "rlm_mud", "02:00:00:00:00:01", rs, NULL, 0,
					 &err);
		if (rc == MUD_OK) {
			ok++;
			assert_non_null(json);
			if (e) {
				mud_error_clear(&err);
				rc = mud_enforce_apply(e, "02:00:00:00:00:01", rs, NULL, 0, &err);
				if (rc != MUD_OK) {
					fprintf(stderr, "kernel refused: %s (%s)\n%s\n", err.text,
						err.where, json);
				}
				assert_int_equal(rc, MUD_OK);
			}
		} else {
			refused++;
			assert_int_equal(rc, MUD_ERR_RENDER);
			assert_null(json);
			assert_true(err.where[0] != '\0');
		}
		talloc_free(json);
		talloc_free(rs);
	}
	printf("test_json_random: %zu accepted%s, %zu refused\n", ok,
	       e ? " (and installed)" : "", refused);
	assert_true(ok > 50 && refused > 20);
	talloc_free(e);
}

/* ---------------------------------------------------------------- in the kernel */

static bool table_exists(void *ctx)
{
	mud_enforce_opts_t o;
	mud_enforce_t *e = NULL;
	mud_error_t err;
	bool ok;

	memset(&o, 0, sizeof(o));
	o.keep = o.readonly = true;
	mud_error_clear(&err);
	ok = mud_enforce_open(ctx, &e, &o, &err) == MUD_OK;
	talloc_free(e);
	return ok;
}

static void test_kernel_lifecycle(void **state)
{
	void *ctx = *state;
	mud_enforce_opts_t o;
	mud_enforce_t *e = NULL;
	mud_enforce_dev_t *devs;
	mud_ruleset_t *q;
	mud_ruleset_t *rs;
	mud_prefix_t a;
	mud_error_t err;
	char *listing;
	bool found;

	if (!have_netns) skip();
	memset(&o, 0, sizeof(o));
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_OK);
	assert_true(table_exists(ctx));

	assert_int_equal(mud_ruleset_quarantine(ctx, &q, NULL, &err), MUD_OK);
	assert_int_equal(mud_enforce_apply(e, "02:00:00:00:00:01", q, NULL, 0, &err), MUD_OK);
	listing = mud_enforce_listing(e, ctx);
	assert_non_null(listing);
	assert_non_null(strstr(listing, "chain out_020000000001"));
	assert_non_null(strstr(listing, "udp dport 53"));
	talloc_free(listing);

	/* replaced in one transaction: the quarantine rules are gone, the sample's are there */
	rs = sample(ctx);
	assert_int_equal(mud_enforce_remember(e, "https://x.example/a.json", rs, &err), MUD_OK);
	talloc_free(rs);
	assert_int_equal(mud_enforce_apply_url(e, "02:00:00:00:00:01", "https://x.example/a.json",
					       0, &err), MUD_OK);
	listing = mud_enforce_listing(e, ctx);
	assert_null(strstr(listing, "udp dport 53 return"));
	assert_non_null(strstr(listing, "ip daddr 203.0.113.10 tcp dport 443 return"));
	assert_non_null(strstr(listing, "ct direction reply ct state established"));
	talloc_free(listing);

	mud_error_clear(&err);
	assert_int_equal(mud_enforce_apply_url(e, "02:00:00:00:00:01", "https://other/", 0, &err),
			 MUD_ERR_ARG);
	assert_string_equal(err.where, "https://other/");

	/* addresses: added, moved to another device, removed */
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&a, "2001:db8:1::7", false, &err), MUD_OK);
	assert_int_equal(mud_enforce_addr(e, "02:00:00:00:00:01", &a, true, &err), MUD_OK);
	assert_int_equal(mud_enforce_apply(e, "02:00:00:00:00:02", q, NULL, 100, &err), MUD_OK);
	assert_int_equal(mud_enforce_addr(e, "02:00:00:00:00:02", &a, true, &err), MUD_OK);
	assert_int_equal(mud_enforce_devices(e, ctx, &devs), 2);
	assert_string_equal(devs[0].mac, "02:00:00:00:00:01");
	assert_int_equal(devs[0].num_addrs, 0);
	assert_int_equal(devs[1].num_addrs, 1);
	assert_string_equal(devs[0].url, "https://x.example/a.json");
	talloc_free(devs);
	listing = mud_enforce_listing(e, ctx);
	assert_non_null(strstr(listing, "2001:db8:1::7 : jump in_020000000002"));
	talloc_free(listing);

	/* a readonly view (mudctl show) rebuilds the devices from the table */
	{
		mud_enforce_t *ro = NULL;

		memset(&o, 0, sizeof(o));
		o.keep = o.readonly = true;
		assert_int_equal(mud_enforce_open(ctx, &ro, &o, &err), MUD_OK);
		assert_int_equal(mud_enforce_devices(ro, ctx, &devs), 2);
		assert_string_equal(devs[1].mac, "02:00:00:00:00:02");
		assert_int_equal(devs[1].num_addrs, 1);
		talloc_free(devs);
		talloc_free(ro);
		memset(&o, 0, sizeof(o));
	}

	/* expiry removes the second device only */
	assert_int_equal(mud_enforce_expire(e, 99), 0);
	assert_int_equal(mud_enforce_expire(e, 100), 1);
	assert_int_equal(mud_enforce_devices(e, ctx, &devs), 1);
	talloc_free(devs);

	assert_int_equal(mud_enforce_remove(e, "02:00:00:00:00:01", &found, &err), MUD_OK);
	assert_true(found);
	assert_int_equal(mud_enforce_remove(e, "02:00:00:00:00:01", &found, &err), MUD_OK);
	assert_false(found);
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_remove(e, "nonsense", &found, &err), MUD_ERR_ARG);

	assert_int_equal(mud_enforce_apply(e, "02:00:00:00:00:03", q, NULL, 0, &err), MUD_OK);
	assert_int_equal(mud_enforce_flush(e, &err), MUD_OK);
	assert_int_equal(mud_enforce_devices(e, ctx, &devs), 0);
	talloc_free(q);

	/* nothing left behind */
	talloc_free(e);
	assert_false(table_exists(ctx));
}

static void test_kernel_bad_open(void **state)
{
	void *ctx = *state;
	mud_enforce_opts_t o;
	mud_enforce_t *e = (mud_enforce_t *)1;
	mud_error_t err;

	if (!have_netns) skip();
	memset(&o, 0, sizeof(o));
	o.table = "bad name";
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_ERR_ARG);
	assert_null(e);
	assert_string_equal(err.where, "table");

	o.table = NULL;
	o.bridge = "nosuchbr0";
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "nosuchbr0");
	assert_non_null(strstr(err.text, "no such interface"));

	o.bridge = "a\"b";
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_ERR_ARG);

	o.bridge = NULL;
	o.keep = o.readonly = true;
	mud_error_clear(&err);
	assert_int_equal(mud_enforce_open(ctx, &e, &o, &err), MUD_ERR_ARG);
	assert_non_null(strstr(err.text, "no nftables table"));
	assert_false(table_exists(ctx));
}

/* Without CAP_NET_ADMIN: a clear error at open, in a child that dropped the capability. */
static void test_kernel_no_cap(void **state)
{
	pid_t pid;
	int status = 0;

	(void)state;
	if (!have_netns) skip();
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		mud_enforce_t *e = NULL;
		mud_error_t err;

		memset(d, 0, sizeof(d));
		if (syscall(SYS_capget, &h, d) != 0) _exit(3);
		d[0].effective &= ~(1u << CAP_NET_ADMIN);
		if (syscall(SYS_capset, &h, d) != 0) _exit(3);
		mud_error_clear(&err);
		if (mud_enforce_open(NULL, &e, NULL, &err) != MUD_ERR_UNSUPPORTED) _exit(1);
		if (strcmp(err.where, "CAP_NET_ADMIN") != 0 || !strstr(err.text, "CAP_NET_ADMIN")) {
			_exit(2);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define TEST(_f) cmocka_unit_test_setup_teardown(_f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_json_mapping),
		TEST(test_json_bad_rules),
		TEST(test_json_bad_args),
		TEST(test_json_random),
		TEST(test_kernel_lifecycle),
		TEST(test_kernel_bad_open),
		TEST(test_kernel_no_cap),
	};

	/* the kernel cases run in a network namespace of their own, or not at all */
	if (getuid() == 0 && unshare(CLONE_NEWNET) == 0) {
		mud_enforce_t *e = NULL;
		mud_enforce_opts_t o;
		mud_error_t err;

		memset(&o, 0, sizeof(o));
		mud_error_clear(&err);
		if (mud_enforce_open(NULL, &e, &o, &err) == MUD_OK) {
			have_netns = true;
			talloc_free(e);
		} else {
			fprintf(stderr, "# kernel cases skipped: %s (%s)\n", err.text, err.where);
		}
	} else {
		fprintf(stderr, "# kernel cases skipped: not root or no network namespaces\n");
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
