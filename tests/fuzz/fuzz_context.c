/*
 * fuzz_context.c - fuzz target for the site context parser, and for the
 * compiler with whatever context parses.
 *
 * Besides the sanitizers, the target checks the library's contracts: on
 * failure *out is NULL, err holds the code and nothing is left under the
 * talloc root; on success every value is within its documented bounds, and
 * compiling a fixed MUD file that uses every abstraction with that context
 * succeeds, ends with the final denies and leaves nothing behind when freed.
 * DNS names go to a stub resolver: the fuzzer never sends a query.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <talloc.h>

#include "mud.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

/** A broken contract is a bug: crash so the fuzzer (or replay) reports it. */
#define CHECK(_x) do { if (!(_x)) __builtin_trap(); } while (0)

#define DEV_URL "https://lighting.example.com/lightbulb2000"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int stub_resolve(void *uctx, char const *name, int family, mud_prefix_t *out, size_t max)
{
	(void)uctx;
	CHECK(name != NULL);
	CHECK(max > 0);
	if (strcmp(name, "stub.example") != 0) return 0;
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->len = family == 4 ? 32 : 128;
	out->addr[0] = 0x20;
	return 1;
}

static void check_prefixes(mud_ctx_prefixes_t const *p)
{
	size_t i;

	CHECK(p->num <= MUD_MAX_ADDRS_PER_NAME);
	for (i = 0; i < p->num; i++) {
		CHECK(p->prefixes[i].family == 4 || p->prefixes[i].family == 6);
		CHECK(p->prefixes[i].len <= (p->prefixes[i].family == 4 ? 32 : 128));
	}
}

static void check_named(mud_ctx_named_t const *n, size_t num)
{
	size_t i;

	CHECK(num <= 1024);
	for (i = 0; i < num; i++) {
		CHECK(n[i].key && n[i].key[0]);
		check_prefixes(&n[i].nets);
	}
}

static void check_context(mud_context_t const *c)
{
	size_t i;

	CHECK(c->num_manufacturers <= 1024);
	for (i = 0; i < c->num_manufacturers; i++) {
		CHECK(c->manufacturers[i].authority && c->manufacturers[i].authority[0]);
		CHECK(c->manufacturers[i].vlan >= 0 && c->manufacturers[i].vlan <= 4094);
		check_prefixes(&c->manufacturers[i].nets);
	}
	check_prefixes(&c->local_networks);
	check_named(c->controllers, c->num_controllers);
	check_named(c->my_controllers, c->num_my_controllers);
	check_named(c->models, c->num_models);
	CHECK(c->default_vlan >= 0 && c->default_vlan <= 4094);
	CHECK(c->quarantine_vlan >= 0 && c->quarantine_vlan <= 4094);
	CHECK(c->num_dns <= 1024);
	for (i = 0; i < c->num_dns; i++) {
		CHECK(c->dns[i].name && c->dns[i].name[0]);
		check_prefixes(&c->dns[i].addrs);
	}
	CHECK(c->acl_prefix && strlen(c->acl_prefix) >= 1 && strlen(c->acl_prefix) <= 32);
}

/** A mixed ACL with one ACE per abstraction and two DNS names, both policies. */
static mud_file_t *fixed_file(TALLOC_CTX *ctx)
{
	static struct {
		mud_abs_t	abs;
		char const	*value;
		char const	*dns;
	} const aces[] = {
		{ MUD_ABS_MANUFACTURER, "lighting.example.com", NULL },
		{ MUD_ABS_SAME_MANUFACTURER, NULL, NULL },
		{ MUD_ABS_MODEL, DEV_URL, NULL },
		{ MUD_ABS_LOCAL_NETWORKS, NULL, NULL },
		{ MUD_ABS_CONTROLLER, "https://controller.example.com/lighting", NULL },
		{ MUD_ABS_MY_CONTROLLER, NULL, NULL },
		{ MUD_ABS_NONE, NULL, "service.example.com" },
		{ MUD_ABS_NONE, NULL, "stub.example" },
	};
	mud_file_t *f = talloc_zero(ctx, mud_file_t);
	size_t i;

	CHECK(f != NULL);
	f->mud_url = talloc_strdup(f, DEV_URL);
	f->cache_validity = 48;
	f->is_supported = true;
	f->acls = talloc_zero_array(f, mud_acl_t, 1);
	f->acls[0].name = talloc_strdup(f, "mx");
	f->acls[0].type = MUD_ACL_TYPE_MIXED_ALL;
	f->acls[0].aces = talloc_zero_array(f, mud_ace_t, ARRAY_LEN(aces));
	f->acls[0].num_aces = ARRAY_LEN(aces);
	f->num_acls = 1;
	for (i = 0; i < f->acls[0].num_aces; i++) {
		mud_ace_t *e = &f->acls[0].aces[i];

		e->name = talloc_asprintf(f, "ace%zu", i);
		e->action = MUD_ACTION_ACCEPT;
		e->protocol = -1;
		e->dscp = -1;
		e->icmp_type = -1;
		e->icmp_code = -1;
		e->ethertype = -1;
		e->abs[0].kind = aces[i].abs;
		e->abs[0].value = aces[i].value ? talloc_strdup(f, aces[i].value) : NULL;
		e->num_abs = aces[i].abs != MUD_ABS_NONE ? 1 : 0;
		if (aces[i].dns) {
			e->l3 = i % 2 ? MUD_L3_IPV6 : MUD_L3_IPV4;
			e->dst_dnsname = talloc_strdup(f, aces[i].dns);
			e->src_dnsname = talloc_strdup(f, aces[i].dns);
		}
		e->l4 = MUD_L4_TCP;
		e->direction_initiated = MUD_DIRINIT_FROM_DEVICE;
	}
	f->from_device = talloc_array(f, char *, 1);
	f->from_device[0] = talloc_strdup(f, "mx");
	f->num_from_device = 1;
	f->to_device = talloc_array(f, char *, 1);
	f->to_device[0] = talloc_strdup(f, "mx");
	f->num_to_device = 1;
	return f;
}

static bool prefixes_zero(mud_ctx_prefixes_t const *p)
{
	size_t i;

	for (i = 0; i < p->num; i++) {
		if (p->prefixes[i].len == 0) return true;
	}
	return false;
}

/** Does the context map anything to a zero-length prefix? */
static bool context_has_zero(mud_context_t const *c)
{
	size_t i;

	if (prefixes_zero(&c->local_networks)) return true;
	for (i = 0; i < c->num_manufacturers; i++) {
		if (prefixes_zero(&c->manufacturers[i].nets)) return true;
	}
	for (i = 0; i < c->num_controllers; i++) {
		if (prefixes_zero(&c->controllers[i].nets)) return true;
	}
	for (i = 0; i < c->num_my_controllers; i++) {
		if (prefixes_zero(&c->my_controllers[i].nets)) return true;
	}
	for (i = 0; i < c->num_models; i++) {
		if (prefixes_zero(&c->models[i].nets)) return true;
	}
	for (i = 0; i < c->num_dns; i++) {
		if (prefixes_zero(&c->dns[i].addrs)) return true;
	}
	return false;
}

static void check_compile(TALLOC_CTX *root, mud_context_t const *c)
{
	bool has_zero = context_has_zero(c);
	TALLOC_CTX *ctx = talloc_new(root);
	mud_file_t *f = fixed_file(ctx);
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	mud_rcode_t rc;
	size_t blocks = talloc_total_blocks(ctx);
	size_t i;

	mud_error_clear(&err);
	rc = mud_ruleset_compile(ctx, &rs, f, c, stub_resolve, NULL, &err);
	CHECK(rc == MUD_OK);
	CHECK(rs != NULL);
	CHECK(rs->num_rules >= 4);
	CHECK(rs->rules[rs->num_rules - 1].action == MUD_ACTION_DROP);
	CHECK(rs->rules[rs->num_rules - 1].peer.len == 0);
	CHECK(rs->vlan >= 0 && rs->vlan <= 4094);
	CHECK(rs->name && strncmp(rs->name, c->acl_prefix, strlen(c->acl_prefix)) == 0);
	for (i = 0; i < rs->num_rules; i++) {
		mud_rule_t const *r = &rs->rules[i];

		CHECK(r->family == 4 || r->family == 6);
		CHECK(r->peer.family == r->family);
		CHECK(r->origin != NULL);
		/* every rule but the denies came from a resolved peer: "any" only if the
		 * context itself maps something to a /0 */
		if (strcmp(r->origin, "implicit-deny") != 0 && !has_zero) CHECK(r->peer.len > 0);
	}
	talloc_free(rs);
	CHECK(talloc_total_blocks(ctx) == blocks);
	talloc_free(ctx);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	TALLOC_CTX *root = talloc_new(NULL);
	mud_context_t *c = (mud_context_t *)(uintptr_t)1;
	mud_error_t err;
	mud_rcode_t rc;

	CHECK(root != NULL);
	mud_error_clear(&err);
	rc = mud_context_parse(root, &c, (char const *)data, size, &err);
	CHECK(err.code == rc);
	CHECK(memchr(err.where, '\0', sizeof(err.where)) != NULL);
	CHECK(memchr(err.text, '\0', sizeof(err.text)) != NULL);
	if (rc != MUD_OK) {
		CHECK(c == NULL);
		CHECK(rc == MUD_ERR_JSON || rc == MUD_ERR_CONTEXT || rc == MUD_ERR_LIMIT ||
		      rc == MUD_ERR_NOMEM);
		CHECK(talloc_total_blocks(root) == 1);
	} else {
		CHECK(c != NULL);
		CHECK(talloc_parent(c) == root);
		check_context(c);
		check_compile(root, c);
		talloc_free(c);
		CHECK(talloc_total_blocks(root) == 1);
	}
	talloc_free(root);
	return 0;
}
