/*
 * test_context.c - site context parser: the documented example, normalisation,
 * every error with its exact code, where and text, bounds and file loading.
 */
#include <fcntl.h>
#include <unistd.h>

#include "test_common.h"

static char const example[] =
	"{\n"
	"  \"manufacturers\": {\n"
	"    \"lighting.example.com\": { \"vlan\": 100,\n"
	"      \"networks\": [\"10.1.100.0/24\", \"2001:db8:100::/64\"] },\n"
	"    \"Sensors.Example.COM.\": { \"networks\": [] }\n"
	"  },\n"
	"  \"local-networks\": [\"10.0.0.0/8\", \"192.168.0.0/16\", \"fd00::/8\"],\n"
	"  \"controllers\": { \"https://controller.example.com/lighting\":\n"
	"                     [\"10.1.1.10\", \"2001:db8::10\"] },\n"
	"  \"my-controllers\": {\n"
	"    \"https://lighting.example.com/lightbulb2000\": [\"10.1.1.20\"] },\n"
	"  \"models\": { \"https://lighting.example.com/lightbulb2000\": [\"10.1.100.0/24\"] },\n"
	"  \"default-vlan\": 10,\n"
	"  \"quarantine-vlan\": 999,\n"
	"  \"dns\": { \"resolve\": true,\n"
	"           \"static\": {\n"
	"             \"Service.Example.com.\": [\"192.0.2.10\", \"2001:db8::a\"] } },\n"
	"  \"acl-prefix\": \"mud\"\n"
	"}\n";

static void assert_prefix(mud_prefix_t const *p, char const *text)
{
	char buf[64];

	mud_prefix_print(buf, sizeof(buf), p, false);
	assert_string_equal(buf, text);
}

static mud_rcode_t parse_str(void *ctx, mud_context_t **out, char const *s, mud_error_t *err)
{
	mud_error_clear(err);
	return mud_context_parse(ctx, out, s, strlen(s), err);
}

static void test_example(void **state)
{
	mud_context_t *c = NULL;
	mud_error_t err;

	assert_int_equal(parse_str(*state, &c, example, &err), MUD_OK);
	assert_int_equal(err.code, MUD_OK);
	assert_non_null(c);

	assert_int_equal(c->num_manufacturers, 2);
	assert_string_equal(c->manufacturers[0].authority, "lighting.example.com");
	assert_int_equal(c->manufacturers[0].vlan, 100);
	assert_int_equal(c->manufacturers[0].nets.num, 2);
	assert_prefix(&c->manufacturers[0].nets.prefixes[0], "10.1.100.0/24");
	assert_prefix(&c->manufacturers[0].nets.prefixes[1], "2001:db8:100::/64");
	/* lowercased, trailing dot removed */
	assert_string_equal(c->manufacturers[1].authority, "sensors.example.com");
	assert_int_equal(c->manufacturers[1].vlan, 0);
	assert_int_equal(c->manufacturers[1].nets.num, 0);

	assert_int_equal(c->local_networks.num, 3);
	assert_prefix(&c->local_networks.prefixes[0], "10.0.0.0/8");
	assert_prefix(&c->local_networks.prefixes[1], "192.168.0.0/16");
	assert_prefix(&c->local_networks.prefixes[2], "fd00::/8");

	assert_int_equal(c->num_controllers, 1);
	assert_string_equal(c->controllers[0].key, "https://controller.example.com/lighting");
	assert_int_equal(c->controllers[0].nets.num, 2);
	assert_prefix(&c->controllers[0].nets.prefixes[0], "10.1.1.10");
	assert_int_equal(c->controllers[0].nets.prefixes[0].len, 32);
	assert_prefix(&c->controllers[0].nets.prefixes[1], "2001:db8::10");
	assert_int_equal(c->controllers[0].nets.prefixes[1].len, 128);

	assert_int_equal(c->num_my_controllers, 1);
	assert_string_equal(c->my_controllers[0].key, "https://lighting.example.com/lightbulb2000");
	assert_prefix(&c->my_controllers[0].nets.prefixes[0], "10.1.1.20");

	assert_int_equal(c->num_models, 1);
	assert_string_equal(c->models[0].key, "https://lighting.example.com/lightbulb2000");
	assert_prefix(&c->models[0].nets.prefixes[0], "10.1.100.0/24");

	assert_int_equal(c->default_vlan, 10);
	assert_int_equal(c->quarantine_vlan, 999);
	assert_true(c->dns_resolve);
	assert_int_equal(c->num_dns, 1);
	assert_string_equal(c->dns[0].name, "service.example.com");
	assert_int_equal(c->dns[0].addrs.num, 2);
	assert_prefix(&c->dns[0].addrs.prefixes[0], "192.0.2.10");
	assert_prefix(&c->dns[0].addrs.prefixes[1], "2001:db8::a");
	assert_string_equal(c->acl_prefix, "mud");

	assert_ptr_equal(talloc_parent(c), *state);
	talloc_free(c);
}

/* The example in docs/context.md must parse. */
static void test_doc_example(void **state)
{
	char *path = test_src_path(*state, "docs/context.md");
	size_t len = 0;
	char *doc = test_read_file(*state, path, &len);
	char *start;
	char *end;
	mud_context_t *c = NULL;
	mud_error_t err;

	assert_non_null(doc);
	start = strstr(doc, "```json\n");
	assert_non_null(start);
	start += 8;
	end = strstr(start, "```");
	assert_non_null(end);
	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, start, (size_t)(end - start), &err), MUD_OK);
	assert_true(c->num_manufacturers > 0);
	talloc_free(c);
	talloc_free(doc);
	talloc_free(path);
}

static void test_alloc_defaults(void **state)
{
	mud_context_t *c = mud_context_alloc(*state);

	assert_non_null(c);
	assert_int_equal(c->num_manufacturers, 0);
	assert_null(c->manufacturers);
	assert_int_equal(c->local_networks.num, 0);
	assert_int_equal(c->num_controllers, 0);
	assert_int_equal(c->num_my_controllers, 0);
	assert_int_equal(c->num_models, 0);
	assert_int_equal(c->num_dns, 0);
	assert_int_equal(c->default_vlan, 0);
	assert_int_equal(c->quarantine_vlan, 0);
	assert_true(c->dns_resolve);
	assert_string_equal(c->acl_prefix, "mud");
	/* SHA-256 of no bytes */
	assert_string_equal(c->digest,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	talloc_free(c);
}

/** dns.servers / timeout / max-names: normalised resolver list and bounds. */
static void test_dns_options(void **state)
{
	mud_context_t *c = NULL;
	mud_error_t err;

	assert_int_equal(parse_str(*state, &c, "{\"dns\": {\"servers\": [\"192.0.2.53\", "
				   "\"192.0.2.54:5353\", \"2001:db8::53\", "
				   "\"[2001:db8::54]:5353\"], \"timeout\": 2, "
				   "\"max-names\": 10}}", &err), MUD_OK);
	assert_string_equal(c->dns_servers, "192.0.2.53:53,192.0.2.54:5353,[2001:db8::53]:53,"
			    "[2001:db8::54]:5353");
	assert_int_equal(c->dns_budget_ms, 2000);
	assert_int_equal(c->dns_max_names, 10);
	talloc_free(c);

	/* defaults: resolv.conf, library budget and name cap */
	assert_int_equal(parse_str(*state, &c, "{}", &err), MUD_OK);
	assert_null(c->dns_servers);
	assert_int_equal(c->dns_budget_ms, 0);
	assert_int_equal(c->dns_max_names, 0);
	talloc_free(c);
}

static void test_minimal_and_defaults(void **state)
{
	mud_context_t *c = NULL;
	mud_error_t err;

	/* empty object: the same as mud_context_alloc() */
	assert_int_equal(parse_str(*state, &c, " {} \r\n\t", &err), MUD_OK);
	assert_true(c->dns_resolve);
	assert_string_equal(c->acl_prefix, "mud");
	assert_int_equal(c->default_vlan, 0);
	talloc_free(c);

	assert_int_equal(parse_str(*state, &c, "{\"dns\": {\"resolve\": false}, "
				   "\"acl-prefix\": \"Site_A-1\", \"default-vlan\": 4094, "
				   "\"quarantine-vlan\": 1}", &err), MUD_OK);
	assert_false(c->dns_resolve);
	assert_string_equal(c->acl_prefix, "Site_A-1");
	assert_int_equal(c->default_vlan, 4094);
	assert_int_equal(c->quarantine_vlan, 1);
	talloc_free(c);

	/* duplicate prefixes are merged, a plain address is a host prefix */
	assert_int_equal(parse_str(*state, &c, "{\"local-networks\": [\"10.0.0.0/8\", "
				   "\"10.0.0.0/8\", \"192.0.2.1\", \"192.0.2.1/32\"]}", &err),
			 MUD_OK);
	assert_int_equal(c->local_networks.num, 2);
	assert_prefix(&c->local_networks.prefixes[1], "192.0.2.1");
	talloc_free(c);

	/* URIs are kept exactly (case and trailing characters) */
	assert_int_equal(parse_str(*state, &c, "{\"controllers\": {\"HTTPS://Ctl.Example/X/\": []},"
				   " \"models\": {}, \"manufacturers\": {}}", &err), MUD_OK);
	assert_string_equal(c->controllers[0].key, "HTTPS://Ctl.Example/X/");
	assert_int_equal(c->controllers[0].nets.num, 0);
	assert_int_equal(c->num_models, 0);
	talloc_free(c);
}

typedef struct {
	char const	*json;
	mud_rcode_t	code;
	char const	*where;
	char const	*text;		//!< NULL: not checked (library text)
} bad_case_t;

static bad_case_t const bad_cases[] = {
	/* JSON syntax */
	{ "{\"default-vlan\": ", MUD_ERR_JSON, "offset 17", "unexpected end of input" },
	{ "{\"default-vlan\": 10} x", MUD_ERR_JSON, "offset 21", "unexpected character 0x78" },
	{ "{\"default-vlan\": 10}{}", MUD_ERR_JSON, "offset 20", "unexpected character" },
	{ "{'default-vlan': 10}", MUD_ERR_JSON, "offset 1", "unexpected character 0x27" },
	{ "{\"default-vlan\": NaN}", MUD_ERR_JSON, "offset 17", "unexpected character 0x4e" },
	{ "{\"default-vlan\": Infinity}", MUD_ERR_JSON, "offset 17", "unexpected character 0x49" },
	{ "{\"default-vlan\": 1.}", MUD_ERR_JSON, "offset 18", "malformed number" },
	{ "{\"acl-prefix\": \"a\tb\"}", MUD_ERR_JSON, "offset 17",
	  "control character 0x09 in a string" },
	{ "{\"acl-prefix\": \"a\\\"b\"}", MUD_ERR_CONTEXT, "/acl-prefix",
	  "acl-prefix \"a\"b\" may only hold A-Z a-z 0-9 _ -" },
	{ "/* c */ {}", MUD_ERR_JSON, "offset 0", "unexpected character 0x2f" },
	{ "{\"a\": 1,}", MUD_ERR_JSON, NULL, NULL },
	{ "{\"acl-prefix\": \"\xff\"}", MUD_ERR_JSON, NULL, NULL },
	{ "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", MUD_ERR_LIMIT, NULL, "nesting deeper than 8" },

	/* root */
	{ "[]", MUD_ERR_CONTEXT, "", "expected an object at the root, got an array" },
	{ "123", MUD_ERR_CONTEXT, "", "expected an object at the root, got an integer" },
	{ "null", MUD_ERR_CONTEXT, "", "expected an object at the root, got null" },

	/* unknown members (typos) */
	{ "{\"defualt-vlan\": 10}", MUD_ERR_CONTEXT, "/defualt-vlan",
	  "unknown member \"defualt-vlan\"" },
	{ "{\"manufacturers\": {\"a.example\": {\"vlam\": 3}}}", MUD_ERR_CONTEXT,
	  "/manufacturers/a.example/vlam", "unknown member \"vlam\"" },
	{ "{\"dns\": {\"resolv\": true}}", MUD_ERR_CONTEXT, "/dns/resolv",
	  "unknown member \"resolv\"" },
	{ "{\"a/b~c\": 1}", MUD_ERR_CONTEXT, "/a~1b~0c", "unknown member \"a/b~c\"" },

	/* VLANs */
	{ "{\"default-vlan\": 0}", MUD_ERR_CONTEXT, "/default-vlan",
	  "VLAN 0 out of range 1..4094" },
	{ "{\"default-vlan\": 4095}", MUD_ERR_CONTEXT, "/default-vlan",
	  "VLAN 4095 out of range 1..4094" },
	{ "{\"quarantine-vlan\": -1}", MUD_ERR_CONTEXT, "/quarantine-vlan",
	  "VLAN -1 out of range 1..4094" },
	{ "{\"default-vlan\": 99999999999999999999}", MUD_ERR_CONTEXT, "/default-vlan", NULL },
	{ "{\"manufacturers\": {\"a.example\": {\"vlan\": 4095}}}", MUD_ERR_CONTEXT,
	  "/manufacturers/a.example/vlan", "VLAN 4095 out of range 1..4094" },
	{ "{\"default-vlan\": \"10\"}", MUD_ERR_CONTEXT, "/default-vlan",
	  "expected an integer VLAN ID, got a string" },
	{ "{\"default-vlan\": 10.0}", MUD_ERR_CONTEXT, "/default-vlan",
	  "expected an integer VLAN ID, got a number" },
	{ "{\"default-vlan\": null}", MUD_ERR_CONTEXT, "/default-vlan",
	  "expected an integer VLAN ID, got null" },

	/* prefixes */
	{ "{\"local-networks\": [\"10.0.0.0/33\"]}", MUD_ERR_CONTEXT, "/local-networks/0",
	  "\"10.0.0.0/33\" has an invalid prefix length" },
	{ "{\"local-networks\": [\"10.0.0.0/8\", \"10.0.0.1/8\"]}", MUD_ERR_CONTEXT,
	  "/local-networks/1", "\"10.0.0.1/8\" has host bits set beyond the prefix length" },
	{ "{\"manufacturers\": {\"a.example\": {\"networks\": [\"2001:db8::1/64\"]}}}",
	  MUD_ERR_CONTEXT, "/manufacturers/a.example/networks/0",
	  "\"2001:db8::1/64\" has host bits set beyond the prefix length" },
	{ "{\"controllers\": {\"https://c.example/x\": [\"ctl.example\"]}}", MUD_ERR_CONTEXT,
	  "/controllers/https:~1~1c.example~1x/0",
	  "\"ctl.example\" is not an IP address or prefix" },
	{ "{\"dns\": {\"static\": {\"a.example\": [\"\"]}}}", MUD_ERR_CONTEXT,
	  "/dns/static/a.example/0", "\"\" is not an IP address or prefix" },
	{ "{\"local-networks\": [\"10.0.0.0/8\\u0000x\"]}", MUD_ERR_CONTEXT, "/local-networks/0",
	  "string contains a NUL byte" },

	/* wrong types */
	{ "{\"manufacturers\": []}", MUD_ERR_CONTEXT, "/manufacturers",
	  "expected an object (authority -> entry), got an array" },
	{ "{\"manufacturers\": {\"a.example\": 100}}", MUD_ERR_CONTEXT, "/manufacturers/a.example",
	  "expected an object with \"vlan\" and/or \"networks\", got an integer" },
	{ "{\"manufacturers\": {\"a.example\": {\"networks\": \"10.0.0.0/8\"}}}", MUD_ERR_CONTEXT,
	  "/manufacturers/a.example/networks",
	  "expected an array of addresses or prefixes, got a string" },
	{ "{\"local-networks\": [10]}", MUD_ERR_CONTEXT, "/local-networks/0",
	  "expected a string, got an integer" },
	{ "{\"controllers\": {\"https://c.example/x\": \"10.0.0.1\"}}", MUD_ERR_CONTEXT,
	  "/controllers/https:~1~1c.example~1x",
	  "expected an array of addresses or prefixes, got a string" },
	{ "{\"models\": [\"x\"]}", MUD_ERR_CONTEXT, "/models",
	  "expected an object (URI -> addresses), got an array" },
	{ "{\"dns\": {\"resolve\": \"yes\"}}", MUD_ERR_CONTEXT, "/dns/resolve",
	  "expected a boolean, got a string" },
	{ "{\"dns\": []}", MUD_ERR_CONTEXT, "/dns",
	  "expected an object with \"resolve\", \"servers\", \"timeout\", \"max-names\" and/or "
	  "\"static\", got an array" },
	{ "{\"dns\": {\"servers\": []}}", MUD_ERR_CONTEXT, "/dns/servers",
	  "0 resolvers: give 1..8" },
	{ "{\"dns\": {\"servers\": [\"ns.example\"]}}", MUD_ERR_CONTEXT, "/dns/servers/0",
	  "\"ns.example\" is not an IP address with an optional port (a.b.c.d[:port], x::y, "
	  "[x::y]:port)" },
	{ "{\"dns\": {\"servers\": [\"192.0.2.1:0\"]}}", MUD_ERR_CONTEXT, "/dns/servers/0",
	  "\"192.0.2.1:0\" is not an IP address with an optional port (a.b.c.d[:port], x::y, "
	  "[x::y]:port)" },
	{ "{\"dns\": {\"servers\": [\"[2001:db8::1]x\"]}}", MUD_ERR_CONTEXT, "/dns/servers/0",
	  "\"[2001:db8::1]x\" is not an IP address with an optional port (a.b.c.d[:port], x::y, "
	  "[x::y]:port)" },
	{ "{\"dns\": {\"timeout\": 0}}", MUD_ERR_CONTEXT, "/dns/timeout",
	  "timeout (seconds) 0 out of range 1..30" },
	{ "{\"dns\": {\"max-names\": 257}}", MUD_ERR_CONTEXT, "/dns/max-names",
	  "max-names 257 out of range 1..256" },
	{ "{\"dns\": {\"static\": {\"a.example\": {}}}}", MUD_ERR_CONTEXT, "/dns/static/a.example",
	  "expected an array of addresses or prefixes, got an object" },
	{ "{\"acl-prefix\": 5}", MUD_ERR_CONTEXT, "/acl-prefix",
	  "expected a string, got an integer" },
	{ "{\"acl-prefix\": \"\"}", MUD_ERR_CONTEXT, "/acl-prefix",
	  "acl-prefix \"\" must be 1..32 characters" },
	{ "{\"acl-prefix\": \"abcdefghijklmnopqrstuvwxyz0123456\"}", MUD_ERR_CONTEXT, "/acl-prefix",
	  "acl-prefix \"abcdefghijklmnopqrstuvwxyz0123456\" must be 1..32 characters" },
	{ "{\"acl-prefix\": \"my acl\"}", MUD_ERR_CONTEXT, "/acl-prefix",
	  "acl-prefix \"my acl\" may only hold A-Z a-z 0-9 _ -" },

	/* names */
	{ "{\"manufacturers\": {\"a..example\": {}}}", MUD_ERR_CONTEXT, "/manufacturers/a..example",
	  "\"a..example\" is not a valid host name" },
	{ "{\"manufacturers\": {\"a example\": {}}}", MUD_ERR_CONTEXT, "/manufacturers/a example",
	  "\"a example\" is not a valid host name" },
	{ "{\"manufacturers\": {\"\": {}}}", MUD_ERR_CONTEXT, "/manufacturers/", "empty key" },
	{ "{\"manufacturers\": {\".\": {}}}", MUD_ERR_CONTEXT, "/manufacturers/.",
	  "\".\" is not a valid host name (length)" },
	{ "{\"manufacturers\": {\"A.example\": {}, \"a.example.\": {}}}", MUD_ERR_CONTEXT,
	  "/manufacturers/a.example.",
	  "duplicate entry \"a.example.\" (names are compared in lowercase)" },
	{ "{\"dns\": {\"static\": {\"X.example\": [], \"x.example\": []}}}", MUD_ERR_CONTEXT,
	  "/dns/static/x.example",
	  "duplicate entry \"x.example\" (names are compared in lowercase)" },
	{ "{\"dns\": {\"static\": {\"x_y.example/\": []}}}", MUD_ERR_CONTEXT,
	  "/dns/static/x_y.example~1", "\"x_y.example/\" is not a valid host name" },
	{ "{\"controllers\": {\"https://c.example/a b\": []}}", MUD_ERR_CONTEXT,
	  "/controllers/https:~1~1c.example~1a b",
	  "\"https://c.example/a b\" is not a URI (printable ASCII without spaces)" },
	{ "{\"my-controllers\": {\"\": []}}", MUD_ERR_CONTEXT, "/my-controllers/", "empty key" },

	/* bounds */
	{ "{\"local-networks\": [\"10.0.0.0/24\", \"10.0.1.0/24\", \"10.0.2.0/24\", "
	  "\"10.0.3.0/24\","
	  "\"10.0.4.0/24\", \"10.0.5.0/24\", \"10.0.6.0/24\", \"10.0.7.0/24\", \"10.0.8.0/24\","
	  "\"10.0.9.0/24\", \"10.0.10.0/24\", \"10.0.11.0/24\", \"10.0.12.0/24\", \"10.0.13.0/24\","
	  "\"10.0.14.0/24\", \"10.0.15.0/24\", \"10.0.16.0/24\"]}", MUD_ERR_LIMIT,
	  "/local-networks",
	  "17 addresses, at most 16 per entry" },
};

static void test_errors(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		bad_case_t const *b = &bad_cases[i];
		mud_context_t *c = (mud_context_t *)(uintptr_t)1;
		mud_error_t err;
		mud_rcode_t rc = parse_str(*state, &c, b->json, &err);

		if (rc != b->code || (b->where && strcmp(err.where, b->where) != 0) ||
		    (b->text && strcmp(err.text, b->text) != 0)) {
			print_error("case %zu %s: got %s where \"%s\" text \"%s\"\n", i, b->json,
				    mud_rcode_name(rc), err.where, err.text);
		}
		assert_int_equal(rc, b->code);
		assert_int_equal(err.code, b->code);
		if (b->where) assert_string_equal(err.where, b->where);
		if (b->text) assert_string_equal(err.text, b->text);
		assert_null(c);
		assert_no_leak(*state);
	}
}

static void test_empty_and_args(void **state)
{
	mud_context_t *c = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, "", 0, &err), MUD_ERR_JSON);
	assert_string_equal(err.where, "offset 0");
	assert_string_equal(err.text, "empty input");
	assert_null(c);

	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, NULL, "{}", 2, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, NULL, 2, &err), MUD_ERR_ARG);
	/* err may be NULL */
	assert_int_equal(mud_context_parse(*state, &c, "[", 1, NULL), MUD_ERR_JSON);
	assert_null(c);

	/* embedded NUL byte in the buffer */
	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, "{}\0{}", 5, &err), MUD_ERR_JSON);
	assert_null(c);
	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, "{\"dns\"\0:{}}", 11, &err), MUD_ERR_JSON);
	assert_null(c);
	assert_no_leak(*state);
}

static void test_string_too_long(void **state)
{
	size_t n = MUD_MAX_STRING_LEN + 1;
	char *s = talloc_array(*state, char, n + 64);
	mud_context_t *c = NULL;
	mud_error_t err;
	size_t o;

	if (!s) {
		fail();
		return;
	}
	memcpy(s, "{\"local-networks\": [\"", 21);
	o = 21;
	memset(s + o, '1', n);
	o += n;
	memcpy(s + o, "\"]}", 4);
	assert_int_equal(parse_str(*state, &c, s, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.where, "/local-networks/0");
	assert_string_equal(err.text, "string of 1025 bytes is longer than 1024");
	assert_null(c);

	/* the same length as a key */
	memcpy(s, "{\"models\": {\"", 13);
	o = 13;
	memset(s + o, 'a', n);
	o += n;
	memcpy(s + o, "\": []}}", 8);
	assert_int_equal(parse_str(*state, &c, s, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.text, "key of 1025 bytes is longer than 1024");
	assert_null(c);
	talloc_free(s);
}

static void test_too_many_entries(void **state)
{
	char *s = talloc_strdup(*state, "{\"models\": {");
	mud_context_t *c = NULL;
	mud_error_t err;
	int i;

	for (i = 0; i < 1025; i++) {
		s = talloc_asprintf_append(s, "%s\"https://m.example/%d\": []", i ? "," : "", i);
		assert_non_null(s);
	}
	s = talloc_strdup_append(s, "}}");
	assert_int_equal(parse_str(*state, &c, s, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.where, "/models");
	assert_string_equal(err.text, "1025 entries, at most 1024");
	assert_null(c);
	talloc_free(s);

	/* exactly 1024 is fine */
	s = talloc_strdup(*state, "{\"dns\": {\"static\": {");
	for (i = 0; i < 1024; i++) {
		s = talloc_asprintf_append(s, "%s\"h%d.example\": [\"192.0.2.%d\"]",
					   i ? "," : "", i, i % 256);
		assert_non_null(s);
	}
	s = talloc_strdup_append(s, "}}}");
	assert_int_equal(parse_str(*state, &c, s, &err), MUD_OK);
	assert_int_equal(c->num_dns, 1024);
	assert_string_equal(c->dns[1023].name, "h1023.example");
	talloc_free(c);
	talloc_free(s);
}

static void test_oversized(void **state)
{
	size_t n = 8 * 1024 * 1024 + 1;
	char *s = talloc_array(*state, char, n);
	mud_context_t *c = NULL;
	mud_error_t err;

	assert_non_null(s);
	memset(s, ' ', n);
	s[0] = '{';
	s[n - 1] = '}';
	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(*state, &c, s, n, &err), MUD_ERR_LIMIT);
	assert_string_equal(err.text, "context of 8388609 bytes is larger than 8388608");
	assert_null(c);
	talloc_free(s);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_context_XXXXXX";
	int fd = mkstemp(path);
	mud_context_t *c = NULL;
	mud_error_t err;
	char *missing;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);

	mud_error_clear(&err);
	assert_int_equal(mud_context_load(*state, &c, path, &err), MUD_OK);
	assert_int_equal(c->num_manufacturers, 2);
	assert_int_equal(c->default_vlan, 10);
	/* the digest is of the file's bytes: the same text gives the same digest, one more
	 * byte (a blank line, same meaning) another */
	{
		char want[65];
		mud_context_t *c2 = NULL;

		mud_sha256_hex(want, example, strlen(example));
		assert_string_equal(c->digest, want);
		assert_int_equal(mud_context_parse(*state, &c2, example, strlen(example), &err),
				 MUD_OK);
		assert_string_equal(c2->digest, want);
		talloc_free(c2);
		fd = open(path, O_WRONLY | O_APPEND);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "\n", 1), 1);
		close(fd);
		assert_int_equal(mud_context_load(*state, &c2, path, &err), MUD_OK);
		assert_string_not_equal(c2->digest, want);
		assert_int_equal(strlen(c2->digest), 64);
		talloc_free(c2);
	}
	talloc_free(c);
	assert_no_leak(*state);

	/* errors in a loaded file carry the JSON pointer */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"default-vlan\": 0}\n", 20), 20);
	close(fd);
	mud_error_clear(&err);
	assert_int_equal(mud_context_load(*state, &c, path, &err), MUD_ERR_CONTEXT);
	assert_string_equal(err.where, "/default-vlan");
	assert_null(c);
	unlink(path);

	missing = talloc_asprintf(*state, "%s.missing", path);
	mud_error_clear(&err);
	assert_int_equal(mud_context_load(*state, &c, missing, &err), MUD_ERR_IO);
	assert_string_equal(err.where, missing);
	assert_string_equal(err.text, "no such file");
	assert_null(c);
	talloc_free(missing);

	mud_error_clear(&err);
	assert_int_equal(mud_context_load(*state, &c, "/tmp", &err), MUD_ERR_IO);
	assert_string_equal(err.text, "not a regular file");
	assert_no_leak(*state);
}

/* Truncations of the example never crash, leak or succeed half-way. */
static void test_truncations(void **state)
{
	size_t len = strlen(example);
	size_t i;

	for (i = 0; i < len - 1; i++) {		/* the last byte is the final newline */
		mud_context_t *c = NULL;
		mud_error_t err;
		mud_rcode_t rc;

		mud_error_clear(&err);
		rc = mud_context_parse(*state, &c, example, i, &err);
		assert_int_not_equal(rc, MUD_OK);
		assert_null(c);
		assert_int_equal(err.code, rc);
		assert_no_leak(*state);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup_ctx, test_teardown_ctx)
	const struct CMUnitTest tests[] = {
		T(test_example),
		T(test_doc_example),
		T(test_alloc_defaults),
		T(test_minimal_and_defaults),
		T(test_dns_options),
		T(test_errors),
		T(test_empty_and_args),
		T(test_string_too_long),
		T(test_too_many_entries),
		T(test_oversized),
		T(test_load),
		T(test_truncations),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
