/*
 * test_parse.c - mud_file_parse / mud_file_validate / mud_file_acl /
 * mud_lenient_name: model filling, every error path (exact code, where and
 * text), limits, lenient mode, and the verdict on every public MUD file in
 * the shared corpus.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "test_common.h"

#define NUM_OF(a)	(sizeof(a) / sizeof((a)[0]))

#define ACE0	"/ietf-access-control-list:acls/acl/0/aces/ace/0"
#define M0	ACE0 "/matches"

/* ====================================================================
 *	Helpers
 * ==================================================================== */

/** A small MUD file: extra ietf-mud:mud members (replacing the defaults of the
 *  same name), ACL type, ACE matches. */
static char *make_doc(void *ctx, char const *mud_extra, char const *type, char const *matches)
{
	static char const *const defaults[][2] = {
		{ "mud-version", "1" },
		{ "mud-url", "\"https://example.com/dev\"" },
		{ "last-update", "\"2019-01-28T11:20:51+01:00\"" },
		{ "is-supported", "true" },
	};
	char *mud = talloc_strdup(ctx, mud_extra);
	char *doc;
	size_t i;

	for (i = 0; i < NUM_OF(defaults); i++) {
		char *key = talloc_asprintf(ctx, "\"%s\":", defaults[i][0]);

		if (!strstr(mud_extra, key)) {
			mud = talloc_asprintf_append(mud, "%s%s%s", mud[0] ? "," : "", key,
						     defaults[i][1]);
		}
		talloc_free(key);
	}
	doc = talloc_asprintf(ctx,
		"{\"ietf-mud:mud\":{%s,"
		"\"from-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]}}},"
		"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\",\"type\":\"%s\","
		"\"aces\":{\"ace\":[{\"name\":\"e\",\"matches\":{%s},"
		"\"actions\":{\"forwarding\":\"accept\"}}]}}]}}",
		mud, type, matches);
	talloc_free(mud);
	return doc;
}

/** Parse and expect an error: exact code and where, text containing `text`
 *  (or equal to it when exact). Nothing may remain allocated. */
static void expect_err(void *ctx, char const *doc, size_t len, char const *url, unsigned int flags,
		       mud_rcode_t code, char const *where, char const *text, bool exact)
{
	mud_file_t *f = (mud_file_t *)1;
	mud_error_t err;
	mud_rcode_t rc;
	size_t before = talloc_total_blocks(ctx);

	mud_error_clear(&err);
	rc = mud_file_parse(ctx, &f, doc, len, url, flags, &err);
	if (rc != code || err.code != code || strcmp(err.where, where) != 0 ||
	    (exact ? strcmp(err.text, text) != 0 : strstr(err.text, text) == NULL)) {
		fail_msg("got %s at \"%s\": \"%s\"\nwanted %s at \"%s\": \"%s\"",
			 mud_rcode_name(rc), err.where, err.text, mud_rcode_name(code), where,
			 text);
	}
	assert_null(f);
	assert_int_equal(talloc_total_blocks(ctx), before);
}

static mud_file_t *expect_ok(void *ctx, char const *doc, size_t len, char const *url,
			     unsigned int flags)
{
	mud_file_t *f = NULL;
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = mud_file_parse(ctx, &f, doc, len, url, flags, &err);
	if (rc != MUD_OK) {
		fail_msg("rejected: %s at \"%s\": \"%s\"", mud_rcode_name(rc), err.where, err.text);
	}
	assert_non_null(f);
	assert_int_equal(err.code, MUD_OK);
	return f;
}

/** A copy of a public MUD file kept in the source tree (tests/data), so the
 *  model tests do not depend on the shared corpus being present. */
static char *read_src(void *ctx, char const *rel, size_t *len)
{
	char *path = test_src_path(ctx, rel);
	char *buf = test_read_file(ctx, path, len);

	if (!buf) fail_msg("cannot read %s", path);
	talloc_free(path);
	return buf;
}

/* byte copies of mudfiles/rfc8520/lightbulb2000.json and mudfiles/osmud/test/lightbulb2000.json */
#define RFC8520_LIGHTBULB	"tests/data/valid/rfc8520-lightbulb/input.json"
#define OSMUD_LIGHTBULB		"tests/data/valid/osmud-lightbulb-lenient/input.json"

/* ====================================================================
 *	Table of error cases on make_doc() documents
 * ==================================================================== */

typedef struct {
	char const	*name;
	char const	*mud_extra;
	char const	*type;
	char const	*matches;
	unsigned int	flags;
	mud_rcode_t	code;
	char const	*where;
	char const	*text;		//!< exact text
} err_case_t;

#define V6 "ipv6-acl-type"
#define V4 "ipv4-acl-type"

static err_case_t const err_cases[] = {
	/* ietf-mud:mud leaves */
	{ "mud-version string", "\"mud-version\":\"1\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-version", "expected number, got string \"1\"" },
	{ "mud-version 0", "\"mud-version\":0", V6, "", 0, MUD_ERR_UNSUPPORTED,
	  "/ietf-mud:mud/mud-version", "mud-version 0 not supported (only 1)" },
	{ "mud-version 256", "\"mud-version\":256", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-version", "mud-version 256 out of range 0..255" },
	{ "mud-version huge", "\"mud-version\":123456789012345678901234567890", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/mud-version",
	  "mud-version number too large, out of range 0..255" },
	{ "mud-version negative", "\"mud-version\":-1", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-version", "mud-version -1 out of range 0..255" },
	{ "mud-url ftp", "\"mud-url\":\"ftp://example.com/x\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-url",
	  "mud-url \"ftp://example.com/x\" is not a valid MUD URL: scheme must be https, not "
	  "\"ftp\"" },
	{ "mud-url number", "\"mud-url\":5", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-url", "expected string, got number 5" },
	{ "mud-url empty", "\"mud-url\":\"\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/mud-url", "mud-url \"\" length 0 out of range 1..1024" },
	{ "cache-validity 0", "\"cache-validity\":0", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/cache-validity", "cache-validity 0 out of range 1..168" },
	{ "cache-validity 169", "\"cache-validity\":169", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/cache-validity", "cache-validity 169 out of range 1..168" },
	{ "cache-validity float", "\"cache-validity\":48.0", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/cache-validity", "expected integer, got number 48.0" },
	{ "cache-validity string lenient non-digits", "\"cache-validity\":\"4x\"", V6, "",
	  MUD_PARSE_LENIENT, MUD_ERR_SCHEMA, "/ietf-mud:mud/cache-validity",
	  "expected number, got string \"4x\"" },
	{ "is-supported null", "\"is-supported\":null", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/is-supported", "expected boolean, got null" },
	{ "is-supported \"yes\" lenient", "\"is-supported\":\"yes\"", V6, "", MUD_PARSE_LENIENT,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/is-supported", "expected boolean, got string \"yes\"" },
	{ "last-update no T", "\"last-update\":\"2019-01-28 11:20:51Z\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/last-update", "last-update \"2019-01-28 11:20:51Z\" is not a "
	  "date-and-time "
	  "(YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm))" },
	{ "last-update garbage even lenient", "\"last-update\":\"yesterday\"", V6, "",
	  MUD_PARSE_LENIENT, MUD_ERR_SCHEMA, "/ietf-mud:mud/last-update",
	  "last-update \"yesterday\" is not a date-and-time "
	  "(YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm))" },
	{ "last-update bad offset", "\"last-update\":\"2019-01-28T11:20:51+1:00\"", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/last-update", "last-update "
	  "\"2019-01-28T11:20:51+1:00\" is "
	  "not a date-and-time (YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm))" },
	{ "systeminfo object", "\"systeminfo\":{}", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/systeminfo", "expected string, got object" },
	{ "systeminfo with NUL", "\"systeminfo\":\"a\\u0000b\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/systeminfo", "systeminfo contains a NUL character: \"a\\x00b\"" },
	{ "model-name array", "\"model-name\":[\"x\"]", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/model-name", "expected string, got array" },
	{ "documentation no scheme", "\"documentation\":\"example.com/doc\"", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/documentation",
	  "documentation \"example.com/doc\" is not a valid URI" },
	{ "extensions not array", "\"extensions\":\"x\"", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/extensions", "expected array, got string \"x\"" },
	{ "extensions duplicate", "\"extensions\":[\"x\",\"x\"]", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/extensions/1", "duplicate extension \"x\"" },
	{ "extensions empty string", "\"extensions\":[\"\"]", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/extensions/0", "extension \"\" length 0 out of range 1..40" },
	{ "unknown leaf", "\"bogus\":true", V6, "", 0, MUD_ERR_SCHEMA, "/ietf-mud:mud/bogus",
	  "unknown node \"bogus\" in ietf-mud:mud" },
	{ "unknown acldns leaf in mud", "\"ietf-acldns:src-dnsname\":\"x\"", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/ietf-acldns:src-dnsname",
	  "unknown node \"ietf-acldns:src-dnsname\" in ietf-mud:mud" },
	{ "policy not object", "\"to-device-policy\":[]", V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/to-device-policy", "expected object, got array" },
	{ "policy access-list not array",
	  "\"to-device-policy\":{\"access-lists\":{\"access-list\":{\"name\":\"a\"}}}", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/to-device-policy/access-lists/access-list",
	  "expected array, got object" },
	{ "policy entry without name",
	  "\"to-device-policy\":{\"access-lists\":{\"access-list\":[{}]}}", V6, "", 0,
	  MUD_ERR_SCHEMA, "/ietf-mud:mud/to-device-policy/access-lists/access-list/0",
	  "missing mandatory leaf \"name\"" },
	{ "policy duplicate entry",
	  "\"to-device-policy\":{\"access-lists\":{\"access-list\":"
	  "[{\"name\":\"a\"},{\"name\":\"a\"}]}}",
	  V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/to-device-policy/access-lists/access-list/1/name",
	  "duplicate access-list \"a\"" },
	{ "policy unresolved",
	  "\"to-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"zz\"}]}}",
	  V6, "", 0,
	  MUD_ERR_SEMANTIC, "/ietf-mud:mud/to-device-policy/access-lists/access-list/0/name",
	  "access-list \"zz\" not found in ietf-access-control-list:acls" },
	{ "policy unknown member",
	  "\"to-device-policy\":{\"access-lists\":{\"access-list\":"
	  "[{\"name\":\"a\",\"type\":\"x\"}]}}",
	  V6, "", 0, MUD_ERR_SCHEMA,
	  "/ietf-mud:mud/to-device-policy/access-lists/access-list/0/type",
	  "unknown node \"type\" in access-list" },

	/* ACL and matches */
	{ "acl type number", "", "5", "", 0, MUD_ERR_SCHEMA,
	  "/ietf-access-control-list:acls/acl/0/type",
	  "acl type \"5\" is not an ietf-access-control-list acl-type" },
	{ "ipv6 not object", "", V6, "\"ipv6\":1", 0, MUD_ERR_SCHEMA, M0 "/ipv6",
	  "expected object, got number 1" },
	{ "dscp 64", "", V6, "\"ipv6\":{\"dscp\":64}", 0, MUD_ERR_SCHEMA, M0 "/ipv6/dscp",
	  "dscp 64 out of range 0..63" },
	{ "ihl in ipv6", "", V6, "\"ipv6\":{\"ihl\":5}", 0, MUD_ERR_SCHEMA, M0 "/ipv6/ihl",
	  "unknown node \"ihl\" in ipv6" },
	{ "flow-label unsupported", "", V6, "\"ipv6\":{\"flow-label\":5}", 0, MUD_ERR_UNSUPPORTED,
	  M0 "/ipv6/flow-label", "match on \"flow-label\" not supported (ignoring it would "
	  "widen the "
	  "rule)" },
	{ "ipv4 offset range", "", V4, "\"ipv4\":{\"offset\":19}", 0, MUD_ERR_SCHEMA,
	  M0 "/ipv4/offset", "offset 19 out of range 20..65535" },
	{ "ipv4 network host "
	  "bits", "", V4, "\"ipv4\":{\"source-ipv4-network\":\"192.0.2.1/24\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ipv4/source-ipv4-network",
	  "source-ipv4-network \"192.0.2.1/24\" is not an IPv4 prefix: \"192.0.2.1/24\" has "
	  "host bits "
	  "set beyond the prefix length" },
	{ "ipv4 dnsname with space", "", V4, "\"ipv4\":{\"ietf-acldns:dst-dnsname\":\"a "
	  "b.com\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ipv4/ietf-acldns:dst-dnsname",
	  "dst-dnsname \"a b.com\" is not a valid host name" },
	{ "dnsname label too long", "", V4, "\"ipv4\":{\"ietf-acldns:dst-dnsname\":\""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ipv4/ietf-acldns:dst-dnsname",
	  "dst-dnsname \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is "
	  "not a "
	  "valid host name" },
	{ "dnsname label ends with "
	  "dash", "", V4, "\"ipv4\":{\"ietf-acldns:dst-dnsname\":\"a-.com\"}",
	  0, MUD_ERR_SCHEMA, M0 "/ipv4/ietf-acldns:dst-dnsname",
	  "dst-dnsname \"a-.com\" is not a valid host name" },
	{ "dnsname unknown module "
	  "member", "", V4, "\"ipv4\":{\"ietf-acldns:dnsname\":\"a.com\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ipv4/ietf-acldns:dnsname",
	  "unknown node \"ietf-acldns:dnsname\" in ipv4" },
	{ "l4 choice", "", V6, "\"tcp\":{},\"udp\":{}", 0, MUD_ERR_SCHEMA, M0 "/udp",
	  "\"tcp\" and \"udp\" in one ACE (choice l4 allows one)" },
	{ "tcp flags unsupported", "", V6, "\"tcp\":{\"flags\":\"syn\"}", 0, MUD_ERR_UNSUPPORTED,
	  M0 "/tcp/flags", "match on \"flags\" not supported (ignoring it would widen the rule)" },
	{ "tcp data-offset range", "", V6, "\"tcp\":{\"data-offset\":4}", 0, MUD_ERR_SCHEMA,
	  M0 "/tcp/data-offset", "data-offset 4 out of range 5..15" },
	{ "udp length unsupported", "", V6, "\"udp\":{\"length\":8}", 0, MUD_ERR_UNSUPPORTED,
	  M0 "/udp/length", "match on \"length\" not supported (ignoring it would widen the "
	  "rule)" },
	{ "icmp port", "", V6, "\"icmp\":{\"source-port\":{\"port\":1}}", 0, MUD_ERR_SCHEMA,
	  M0 "/icmp/source-port", "unknown node \"source-port\" in icmp" },
	{ "icmp type 256", "", V6, "\"icmp\":{\"type\":256}", 0, MUD_ERR_SCHEMA, M0 "/icmp/type",
	  "type 256 out of range 0..255" },
	{ "icmp v4 protocol 58", "", V4, "\"ipv4\":{\"protocol\":58},\"icmp\":{}", 0,
	  MUD_ERR_SEMANTIC, M0 "/ipv4/protocol", "protocol 58 contradicts the icmp match "
	  "(protocol 1)" },
	{ "udp with protocol 6", "", V4, "\"ipv4\":{\"protocol\":6},\"udp\":{}", 0,
	  MUD_ERR_SEMANTIC, M0 "/ipv4/protocol", "protocol 6 contradicts the udp match "
	  "(protocol 17)" },
	{ "port lower only", "", V6, "\"tcp\":{\"destination-port\":{\"lower-port\":1}}", 0,
	  MUD_ERR_SCHEMA, M0 "/tcp/destination-port", "missing mandatory leaf \"upper-port\"" },
	{ "port upper only", "", V6, "\"tcp\":{\"destination-port\":{\"upper-port\":1}}", 0,
	  MUD_ERR_SCHEMA, M0 "/tcp/destination-port", "missing mandatory leaf \"lower-port\"" },
	{ "port operator number", "", V6,
	  "\"tcp\":{\"destination-port\":{\"operator\":1,\"port\":1}}", 0, MUD_ERR_SCHEMA,
	  M0 "/tcp/destination-port/operator", "expected string, got number 1" },
	{ "port unknown member", "", V6, "\"tcp\":{\"destination-port\":{\"port\":1,\"x\":1}}", 0,
	  MUD_ERR_SCHEMA, M0 "/tcp/destination-port/x", "unknown node \"x\" in port match" },
	{ "port "
	  "negative", "", V6, "\"udp\":{\"destination-port\":{\"port\":-5}}", 0, MUD_ERR_SCHEMA,
	  M0 "/udp/destination-port/port", "port -5 out of range 0..65535" },
	{ "direction-initiated number", "", V6, "\"tcp\":{\"ietf-mud:direction-initiated\":1}", 0,
	  MUD_ERR_SCHEMA, M0 "/tcp/ietf-mud:direction-initiated", "expected string, got number 1" },
	{ "eth mac "
	  "bad", "", "eth-acl-type", "\"eth\":{\"source-mac-address\":\"00:11:22:33:44\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/eth/source-mac-address",
	  "source-mac-address \"00:11:22:33:44\" is not a valid MAC address" },
	{ "eth mask unsupported", "", "eth-acl-type",
	  "\"eth\":{\"source-mac-address-mask\":\"ff:ff:ff:00:00:00\"}", 0, MUD_ERR_UNSUPPORTED,
	  M0 "/eth/source-mac-address-mask",
	  "match on \"source-mac-address-mask\" not supported (ignoring it would widen the rule)" },
	{ "eth ethertype name unknown", "", "eth-acl-type", "\"eth\":{\"ethertype\":\"ipv7\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/eth/ethertype",
	  "ethertype \"ipv7\" is neither a number nor an ietf-ethertypes name" },
	{ "eth ethertype hex bad lenient", "", "eth-acl-type", "\"eth\":{\"ethertype\":\"0xzz\"}",
	  MUD_PARSE_LENIENT, MUD_ERR_SCHEMA, M0 "/eth/ethertype",
	  "ethertype \"0xzz\" is neither a number nor an ietf-ethertypes name" },
	{ "eth ethertype 65536", "", "eth-acl-type", "\"eth\":{\"ethertype\":65536}", 0,
	  MUD_ERR_SCHEMA, M0 "/eth/ethertype", "ethertype 65536 out of range 0..65535" },
	{ "mud match manufacturer bad", "", V6, "\"ietf-mud:mud\":{\"manufacturer\":\"-x-\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ietf-mud:mud/manufacturer",
	  "manufacturer \"-x-\" is not a valid host name" },
	{ "mud match controller not uri", "", V6, "\"ietf-mud:mud\":{\"controller\":\"my ctl\"}", 0,
	  MUD_ERR_SCHEMA, M0 "/ietf-mud:mud/controller", "controller \"my ctl\" is not a valid "
	  "URI (lenient mode accepts a class name)" },
	{ "mud match controller not uri lenient", "", V6,
	  "\"ietf-mud:mud\":{\"controller\":\"my ctl\"}", MUD_PARSE_LENIENT,
	  MUD_ERR_SCHEMA, M0 "/ietf-mud:mud/controller", "controller \"my ctl\" is not a valid "
	  "URI nor a class name" },
	{ "mud match local-networks null", "", V6, "\"ietf-mud:mud\":{\"local-networks\":null}", 0,
	  MUD_ERR_SCHEMA, M0 "/ietf-mud:mud/local-networks",
	  "expected [null] (YANG empty), got null" },
	{ "mud match my-controller [1]", "", V6, "\"ietf-mud:mud\":{\"my-controller\":[1]}",
	  MUD_PARSE_LENIENT, MUD_ERR_SCHEMA, M0 "/ietf-mud:mud/my-controller",
	  "expected [null] (YANG empty), got array" },
	{ "mud match unknown "
	  "leaf", "", V6, "\"ietf-mud:mud\":{\"vendor\":\"x\"}", 0, MUD_ERR_SCHEMA,
	  M0 "/ietf-mud:mud/vendor", "unknown node \"vendor\" in ietf-mud:mud match" },
	{ "ingress-interface", "", V6, "\"ingress-interface\":\"eth0\"", 0, MUD_ERR_UNSUPPORTED,
	  M0 "/ingress-interface", "match on \"ingress-interface\" not supported in a MUD file" },
	{ "unknown module in matches is ignored but then bad tcp", "", V6,
	  "\"x-vendor:foo\":1,\"tcp\":{\"bogus\":1}", 0, MUD_ERR_SCHEMA, M0 "/tcp/bogus",
	  "unknown node \"bogus\" in tcp" },
	{ "legacy tcp-acl strict", "", V6, "\"tcp-acl\":{}", 0, MUD_ERR_SCHEMA, M0 "/tcp-acl",
	  "unknown node \"tcp-acl\" in matches (draft name of \"tcp\"; accepted in lenient "
	  "mode)" },
	{ "legacy ports without tcp/udp", "", V6,
	  "\"ipv6-acl\":{\"destination-port-range-or-operator\":{\"port\":1}}", MUD_PARSE_LENIENT,
	  MUD_ERR_SEMANTIC, M0, "port match without tcp or udp" },
	{ "legacy port container strict in ipv6", "", V6,
	  "\"ipv6\":{\"destination-port-range-or-operator\":{\"port\":1}}", MUD_PARSE_LENIENT,
	  MUD_ERR_SCHEMA, M0 "/ipv6/destination-port-range-or-operator",
	  "unknown node \"destination-port-range-or-operator\" in ipv6" },
};

/** State of a table case: the talloc root and the entry. */
typedef struct {
	void			*root;
	err_case_t const	*c;
} case_state_t;

static int case_setup(void **state)
{
	case_state_t *s = talloc_zero(NULL, case_state_t);

	if (!s) return -1;
	s->c = *state;
	s->root = talloc_new(NULL);
	*state = s;
	return s->root ? 0 : -1;
}

static int case_teardown(void **state)
{
	case_state_t *s = *state;
	size_t blocks = talloc_total_blocks(s->root);

	talloc_free(s->root);
	talloc_free(s);
	if (blocks != 1) {
		fprintf(stderr, "leak: %zu talloc blocks left under the test root\n", blocks - 1);
		return -1;
	}
	return 0;
}

static void test_err_case(void **state)
{
	case_state_t *s = *state;
	err_case_t const *c = s->c;
	char *doc = make_doc(s->root, c->mud_extra, c->type, c->matches);

	expect_err(s->root, doc, strlen(doc), NULL, c->flags, c->code, c->where, c->text, true);
	talloc_free(doc);
}

/* ====================================================================
 *	JSON level
 * ==================================================================== */

static void test_json_errors(void **state)
{
	void *ctx = *state;
	char buf[64];

	expect_err(ctx, "", 0, NULL, 0, MUD_ERR_JSON, "line 1, column 1", "empty input", true);
	expect_err(ctx, " \n ", 3, NULL, 0, MUD_ERR_JSON, "line 2, column 2",
		   "unexpected end of input", true);
	expect_err(ctx, "{\"a\":", 5, NULL, 0, MUD_ERR_JSON, "line 1, column 6",
		   "unexpected end of input", true);
	expect_err(ctx, "{\"a\":1}x", 8, NULL, 0, MUD_ERR_JSON, "line 1, column 8",
		   "trailing data after the JSON object", true);
	expect_err(ctx, "{\"a\":1}\n\n  {}", 13, NULL, 0, MUD_ERR_JSON, "line 3, column 3",
		   "trailing data after the JSON object", true);
	expect_err(ctx, "{\"a\":1}\0", 8, NULL, 0, MUD_ERR_JSON, "line 1, column 8",
		   "NUL byte in input", true);
	expect_err(ctx, "{\"a\":\"\xc3\x28\"}", 10, NULL, 0, MUD_ERR_JSON, "line 1, column 8",
		   "invalid utf-8 string", true);
	expect_err(ctx, "{\"a\":'x'}", 9, NULL, 0, MUD_ERR_JSON, "line 1, column 6",
		   "unexpected character", true);
	expect_err(ctx, "{\"a\":1,}", 8, NULL, 0, MUD_ERR_JSON, "line 1, column 8",
		   "unexpected character", true);
	expect_err(ctx, "{\"a\":01}", 8, NULL, 0, MUD_ERR_JSON, "line 1, column 8",
		   "number expected", true);
	expect_err(ctx, "[1]", 3, NULL, 0, MUD_ERR_JSON, "line 1, column 1",
		   "top level is not a JSON object but array", true);
	expect_err(ctx, "\"x\"", 3, NULL, 0, MUD_ERR_JSON, "line 1, column 1",
		   "top level is not a JSON object but string \"x\"", true);
	expect_err(ctx, "{\"a\":1,\n \"b\":{\"c\":1,\"c\":2}}", 27, NULL, 0, MUD_ERR_JSON, "/b/c",
		   "duplicate member \"c\" (line 2, column 13)", true);
	expect_err(ctx, "{\"a~/\":[{},{\"x\":1,\"x\":1}]}", 26, NULL, 0, MUD_ERR_JSON, "/a~0~1/1/x",
		   "duplicate member \"x\" (line 1, column 19)", true);

	expect_err(ctx, "{\"ab\":1,\"a\\u0062\":2}", 20, NULL, 0, MUD_ERR_JSON, "",
		   "duplicate member names (written with different escapes)", true);

	/* garbage bytes */
	memcpy(buf, "\xff\xfe{}", 4);
	expect_err(ctx, buf, 4, NULL, 0, MUD_ERR_JSON, "line 1, column 1", "", false);

	/* argument errors */
	assert_int_equal(mud_file_parse(ctx, NULL, "{}", 2, NULL, 0, NULL), MUD_ERR_ARG);
	{
		mud_file_t *f = NULL;

		assert_int_equal(mud_file_parse(ctx, &f, NULL, 5, NULL, 0, NULL), MUD_ERR_ARG);
		/* err may be NULL */
		assert_int_equal(mud_file_parse(ctx, &f, "{", 1, NULL, 0, NULL), MUD_ERR_JSON);
		assert_null(f);
	}
}

/** Nesting: 32 levels pass the tokener, 33 do not. */
static void test_json_depth(void **state)
{
	void *ctx = *state;
	char *doc;
	int i;

	/* object + 31 arrays = depth 32: JSON is fine, the MUD container is missing */
	doc = talloc_strdup(ctx, "{\"x-a:b\":");
	for (i = 0; i < 31; i++) doc = talloc_strdup_append(doc, "[");
	for (i = 0; i < 31; i++) doc = talloc_strdup_append(doc, "]");
	doc = talloc_strdup_append(doc, "}");
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_SCHEMA, "",
		   "missing ietf-mud:mud container", true);
	talloc_free(doc);

	doc = talloc_strdup(ctx, "{\"x-a:b\":");
	for (i = 0; i < 32; i++) doc = talloc_strdup_append(doc, "[");
	for (i = 0; i < 32; i++) doc = talloc_strdup_append(doc, "]");
	doc = talloc_strdup_append(doc, "}");
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_JSON, "line 1, column 41",
		   "nesting too deep", true);
	talloc_free(doc);
}

static void test_too_big(void **state)
{
	void *ctx = *state;
	char *buf = talloc_zero_array(ctx, char, MUD_MAX_FILE_SIZE + 1);

	expect_err(ctx, buf, MUD_MAX_FILE_SIZE + 1, NULL, 0, MUD_ERR_TOOBIG, "",
		   "MUD file is 1048577 bytes, more than 1048576", true);
	talloc_free(buf);
}

/* ====================================================================
 *	Top level
 * ==================================================================== */

static void test_top_level(void **state)
{
	void *ctx = *state;
	void *t = talloc_new(ctx);
	char *doc = make_doc(t, "", V6, "");
	char *d2;
	mud_file_t *f;

	if (!doc) {
		fail();
		return;
	}
	expect_err(ctx, "{}", 2, NULL, 0, MUD_ERR_SCHEMA, "", "missing ietf-mud:mud container",
		   true);
	expect_err(ctx, "{\"ietf-access-control-list:acls\":{\"acl\":[]}}", 44, NULL, 0,
		   MUD_ERR_SCHEMA, "", "missing ietf-mud:mud container", true);
	expect_err(ctx, "{\"ietf-mud:mud\":[]}", 19, NULL, 0, MUD_ERR_SCHEMA, "/ietf-mud:mud",
		   "expected object, got array", true);

	/* unqualified / known-module / unknown-module top-level members */
	d2 = talloc_asprintf(t, "%.*s,\"acls\":{}}", (int)strlen(doc) - 1, doc);
	expect_err(ctx, d2, strlen(d2), NULL, 0, MUD_ERR_SCHEMA, "/acls",
		   "top-level member \"acls\" is not module-qualified (RFC 7951)", true);
	d2 = talloc_asprintf(t, "%.*s,\"ietf-mud:extra\":{}}", (int)strlen(doc) - 1, doc);
	expect_err(ctx, d2, strlen(d2), NULL, 0, MUD_ERR_SCHEMA, "/ietf-mud:extra",
		   "unknown node \"ietf-mud:extra\" in the document", true);
	d2 = talloc_asprintf(t, "%.*s,\"ietf-access-control-list:access-lists\":{}}",
			     (int)strlen(doc) - 1, doc);
	expect_err(ctx, d2, strlen(d2), NULL, MUD_PARSE_LENIENT, MUD_ERR_SCHEMA,
		   "/ietf-access-control-list:access-lists",
		   "both \"ietf-access-control-list:acls\" and the draft "
		   "\"ietf-access-control-list:access-lists\"", true);
	d2 = talloc_asprintf(t, "{\"x~y/z:q\":1,%s", doc + 1);
	f = expect_ok(ctx, d2, strlen(d2), NULL, 0);
	assert_int_equal(f->num_warnings, 1);
	assert_string_equal(f->warnings[0].where, "/x~0y~1z:q");
	assert_string_equal(
		f->warnings[0].text,
		"node \"x~y/z:q\" of unknown module \"x~y/z\" ignored (not listed in extensions)");
	talloc_free(f);
	talloc_free(d2);
	talloc_free(doc);
	talloc_free(t);
}

/* ====================================================================
 *	Model filling
 * ==================================================================== */

static void test_rfc8520_model(void **state)
{
	void *ctx = *state;
	size_t len = 0;
	char *buf = read_src(ctx, RFC8520_LIGHTBULB, &len);
	mud_file_t *f = expect_ok(ctx, buf, len, "https://lighting.example.com/lightbulb2000", 0);
	mud_acl_t const *acl;
	mud_ace_t const *e;

	assert_int_equal(f->mud_version, 1);
	assert_string_equal(f->mud_url, "https://lighting.example.com/lightbulb2000");
	assert_string_equal(f->last_update, "2019-01-28T11:20:51+01:00");
	assert_null(f->mud_signature);
	assert_int_equal(f->cache_validity, 48);
	assert_true(f->cache_validity_set);
	assert_true(f->is_supported);
	assert_string_equal(f->systeminfo, "The BMS Example Light Bulb");
	assert_null(f->mfg_name);
	assert_null(f->documentation);
	assert_int_equal(f->num_extensions, 0);
	assert_int_equal(f->num_from_device, 1);
	assert_string_equal(f->from_device[0], "mud-76100-v6fr");
	assert_int_equal(f->num_to_device, 1);
	assert_string_equal(f->to_device[0], "mud-76100-v6to");
	assert_int_equal(f->num_acls, 2);
	assert_int_equal(f->num_warnings, 0);
	assert_int_equal(f->leniencies, 0);
	assert_string_equal(f->sha256,
			    "237ddb305e816cc425597f06e653ef6a8c5c0286b91d11ce8e931380adcbb3de");

	acl = mud_file_acl(f, "mud-76100-v6to");
	assert_ptr_equal(acl, &f->acls[0]);
	assert_int_equal(acl->type, MUD_ACL_TYPE_IPV6);
	assert_int_equal(acl->num_aces, 1);
	e = &acl->aces[0];
	assert_string_equal(e->name, "cl0-todev");
	assert_int_equal(e->action, MUD_ACTION_ACCEPT);
	assert_int_equal(e->l3, MUD_L3_IPV6);
	assert_int_equal(e->protocol, 6);
	assert_string_equal(e->src_dnsname, "test.example.com");
	assert_null(e->dst_dnsname);
	assert_null(e->src_network);
	assert_null(e->dst_network);
	assert_int_equal(e->dscp, -1);
	assert_int_equal(e->l4, MUD_L4_TCP);
	assert_int_equal(e->src_port.op, MUD_PORT_EQ);
	assert_int_equal(e->src_port.lo, 443);
	assert_int_equal(e->dst_port.op, MUD_PORT_ANY);
	assert_int_equal(e->direction_initiated, MUD_DIRINIT_FROM_DEVICE);
	assert_int_equal(e->icmp_type, -1);
	assert_int_equal(e->icmp_code, -1);
	assert_false(e->eth);
	assert_int_equal(e->ethertype, -1);
	assert_null(e->src_mac);
	assert_int_equal(e->num_abs, 0);
	assert_null(e->unknown_match);

	acl = mud_file_acl(f, "mud-76100-v6fr");
	assert_ptr_equal(acl, &f->acls[1]);
	assert_string_equal(acl->aces[0].dst_dnsname, "test.example.com");
	assert_int_equal(acl->aces[0].dst_port.op, MUD_PORT_EQ);
	assert_int_equal(acl->aces[0].dst_port.lo, 443);
	assert_int_equal(acl->aces[0].src_port.op, MUD_PORT_ANY);

	assert_null(mud_file_acl(f, "nope"));
	assert_null(mud_file_acl(f, NULL));
	assert_null(mud_file_acl(NULL, "x"));

	talloc_free(f);
	talloc_free(buf);
}

static void test_fields(void **state)
{
	void *ctx = *state;
	void *t = talloc_new(ctx);
	char *doc;
	mud_file_t *f;
	mud_ace_t const *e;

	doc = make_doc(t,
		       "\"cache-validity\":1,\"mud-signature\":\"https://example.com/dev.p7s\","
		       "\"mfg-name\":\"M\",\"model-name\":\"\",\"firmware-rev\":\"1.0\","
		       "\"software-rev\":\"2\",\"documentation\":\"https://example.com/doc\","
		       "\"systeminfo\":\"caf\\u00e9\",\"last-update\":\"2019-01-28T11:20:51.123Z\"",
		       "ietf-access-control-list:mixed-eth-ipv4-acl-type",
		       "\"eth\":{\"ethertype\":2048,\"source-mac-address\":\"00:11:22:aa:BB:cc\"},"
		       "\"ipv4\":{\"protocol\":17,\"dscp\":46,"
		       "\"destination-ipv4-network\":\"192.0.2.0/"
		       "24\",\"source-ipv4-network\":\"0.0.0.0/0\"},"
		       "\"udp\":{\"source-port\":{\"operator\":\"neq\",\"port\":53},"
		       "\"destination-port\":{\"lower-port\":10,\"upper-port\":10}}");
	f = expect_ok(ctx, doc, strlen(doc), "https://example.com/dev", 0);
	assert_int_equal(f->cache_validity, 1);
	assert_string_equal(f->mud_signature, "https://example.com/dev.p7s");
	assert_string_equal(f->mfg_name, "M");
	assert_string_equal(f->model_name, "");
	assert_string_equal(f->firmware_rev, "1.0");
	assert_string_equal(f->software_rev, "2");
	assert_string_equal(f->documentation, "https://example.com/doc");
	assert_string_equal(f->systeminfo, "caf\xc3\xa9");
	assert_string_equal(f->last_update, "2019-01-28T11:20:51.123Z");
	assert_int_equal(f->acls[0].type, MUD_ACL_TYPE_MIXED_ETH_IPV4);
	e = &f->acls[0].aces[0];
	assert_true(e->eth);
	assert_int_equal(e->ethertype, 0x0800);
	assert_string_equal(e->src_mac, "00:11:22:aa:BB:cc");
	assert_null(e->dst_mac);
	assert_int_equal(e->l3, MUD_L3_IPV4);
	assert_int_equal(e->protocol, 17);
	assert_int_equal(e->dscp, 46);
	assert_string_equal(e->dst_network, "192.0.2.0/24");
	assert_string_equal(e->src_network, "0.0.0.0/0");
	assert_int_equal(e->l4, MUD_L4_UDP);
	assert_int_equal(e->src_port.op, MUD_PORT_NEQ);
	assert_int_equal(e->src_port.lo, 53);
	assert_int_equal(e->dst_port.op, MUD_PORT_RANGE);
	assert_int_equal(e->dst_port.lo, 10);
	assert_int_equal(e->dst_port.hi, 10);
	talloc_free(f);
	talloc_free(doc);

	/* cache-validity default, lte/gte, icmp, drop/reject, v6 networks, empty port */
	doc = make_doc(t, "", V6,
		       "\"ipv6\":{\"protocol\":58,\"destination-ipv6-network\":\"2001:db8::/32\"},"
		       "\"icmp\":{\"type\":128,\"code\":0}");
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(f->cache_validity, 48);
	assert_false(f->cache_validity_set);
	e = &f->acls[0].aces[0];
	assert_int_equal(e->l4, MUD_L4_ICMP);
	assert_int_equal(e->icmp_type, 128);
	assert_int_equal(e->icmp_code, 0);
	assert_string_equal(e->dst_network, "2001:db8::/32");
	talloc_free(f);
	talloc_free(doc);

	doc = make_doc(t, "", V6, "\"tcp\":{\"source-port\":{\"operator\":\"lte\",\"port\":1023},"
		       "\"destination-port\":{},\"ietf-mud:direction-initiated\":\"to-device\"}");
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	e = &f->acls[0].aces[0];
	assert_int_equal(e->l3, MUD_L3_NONE);
	assert_int_equal(e->src_port.op, MUD_PORT_LTE);
	assert_int_equal(e->src_port.lo, 1023);
	assert_int_equal(e->dst_port.op, MUD_PORT_ANY);
	assert_int_equal(e->direction_initiated, MUD_DIRINIT_TO_DEVICE);
	talloc_free(f);
	talloc_free(doc);

	doc = make_doc(t, "", V6, "\"tcp\":{\"source-port\":{\"operator\":\"gte\",\"port\":0}}");
	doc = talloc_asprintf(t, "%s", doc);
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(f->acls[0].aces[0].src_port.op, MUD_PORT_GTE);
	assert_int_equal(f->acls[0].aces[0].src_port.lo, 0);
	talloc_free(f);
	talloc_free(doc);
	talloc_free(t);
}

static void test_actions(void **state)
{
	void *ctx = *state;
	static struct {
		char const	*fwd;
		mud_action_t	action;
	} const acts[] = {
		{ "accept", MUD_ACTION_ACCEPT }, { "drop", MUD_ACTION_DROP },
		{ "reject", MUD_ACTION_REJECT },
		{ "ietf-access-control-list:drop", MUD_ACTION_DROP },
	};
	size_t i;

	for (i = 0; i < NUM_OF(acts); i++) {
		char *doc = talloc_asprintf(
			ctx,
			"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://e.com/x\","
			"\"last-update\":\"2019-01-28T11:20:51Z\",\"is-supported\":false,"
			"\"to-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]"
			"}}},"
			"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\",\"aces\":{"
			"\"ace\":"
			"[{\"name\":\"e\",\"actions\":{\"forwarding\":\"%s\","
			"\"logging\":\"ietf-access-control-list:log-syslog\"}}]}}]}}",
			acts[i].fwd);
		mud_file_t *f = expect_ok(ctx, doc, strlen(doc), NULL, 0);

		assert_false(f->is_supported);
		assert_int_equal(f->acls[0].type, MUD_ACL_TYPE_NONE);
		assert_int_equal(f->acls[0].aces[0].action, acts[i].action);
		talloc_free(f);
		talloc_free(doc);
	}
	{
		char *doc = talloc_asprintf(
			ctx, "{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://e.com/x\","
			     "\"last-update\":\"2019-01-28T11:20:51Z\",\"is-supported\":false},"
			     "\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\",\"aces\":"
			     "{\"ace\":"
			     "[{\"name\":\"e\",\"actions\":{\"forwarding\":\"accept\","
			     "\"logging\":\"verbose\"}}]}}]}}");

		expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_SCHEMA, ACE0 "/actions/logging",
			   "logging \"verbose\" is not log-none or log-syslog", true);
		talloc_free(doc);
	}
}

static void test_abstractions(void **state)
{
	void *ctx = *state;
	static struct {
		char const	*json;
		mud_abs_t	abs;
		char const	*value;
	} const abs[] = {
		{"\"manufacturer\":\"lighting.example.com\"", MUD_ABS_MANUFACTURER,
		 "lighting.example.com"},
		{"\"same-manufacturer\":[null]", MUD_ABS_SAME_MANUFACTURER, NULL},
		{"\"model\":\"https://example.com/m\"", MUD_ABS_MODEL, "https://example.com/m"},
		{"\"local-networks\":[null]", MUD_ABS_LOCAL_NETWORKS, NULL},
		{"\"controller\":\"urn:ietf:params:mud:ntp\"", MUD_ABS_CONTROLLER,
		 "urn:ietf:params:mud:ntp"},
		{"\"my-controller\":[null]", MUD_ABS_MY_CONTROLLER, NULL},
	};
	size_t i;

	for (i = 0; i < NUM_OF(abs); i++) {
		char *m = talloc_asprintf(ctx, "\"ipv6\":{\"protocol\":17},\"ietf-mud:mud\":{%s},"
					  "\"udp\":{}", abs[i].json);
		char *doc = make_doc(ctx, "", V6, m);
		mud_file_t *f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
		mud_ace_t const *e = &f->acls[0].aces[0];

		assert_int_equal(e->num_abs, 1);
		assert_int_equal(e->abs[0].kind, abs[i].abs);
		if (abs[i].value) {
			assert_string_equal(e->abs[0].value, abs[i].value);
		} else {
			assert_null(e->abs[0].value);
		}
		talloc_free(f);
		talloc_free(doc);
		talloc_free(m);
	}
}

/* ====================================================================
 *	Limits
 * ==================================================================== */

static char *many_aces(void *ctx, size_t n)
{
	char *aces = talloc_strdup(ctx, "");
	char *doc;
	size_t i;

	for (i = 0; i < n; i++) {
		aces = talloc_asprintf_append(
			aces,
			"%s{\"name\":\"e%zu\",\"matches\":{\"ipv4\":"
			"{\"protocol\":6}},\"actions\":{\"forwarding\":\"accept\"}}",
			i ? "," : "", i);
	}
	doc = talloc_asprintf(
		ctx,
		"{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":\"https://e.com/x\","
		"\"last-update\":\"2019-01-28T11:20:51Z\",\"is-supported\":true,"
		"\"to-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]}}},"
		"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\",\"type\":\"ipv4-acl-"
		"type\","
		"\"aces\":{\"ace\":[%s]}}]}}",
		aces);
	talloc_free(aces);
	return doc;
}

static void test_limits(void **state)
{
	void *ctx = *state;
	void *t = talloc_new(ctx);
	char *doc;
	char *s;
	mud_file_t *f;
	size_t i;

	/* ACEs: 1024 fine, 1025 too many */
	doc = many_aces(t, MUD_MAX_ACES);
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(f->acls[0].num_aces, MUD_MAX_ACES);
	assert_string_equal(f->acls[0].aces[MUD_MAX_ACES - 1].name, "e1023");
	talloc_free(f);
	talloc_free(doc);
	doc = many_aces(t, MUD_MAX_ACES + 1);
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_LIMIT,
		   "/ietf-access-control-list:acls/acl/0/aces/ace",
		   "1025 ACEs, more than the limit of 1024", true);
	talloc_free(doc);

	/* string length: 1024 fine, 1025 not */
	s = talloc_strndup(t, "", 0);
	for (i = 0; i < MUD_MAX_STRING_LEN; i++) s = talloc_strdup_append(s, "y");
	doc = make_doc(t, talloc_asprintf(t, "\"systeminfo\":\"%s\"", s), V6, "");
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(strlen(f->systeminfo), MUD_MAX_STRING_LEN);
	talloc_free(f);
	doc = make_doc(t, talloc_asprintf(t, "\"mfg-name\":\"%sy\"", s), V6, "");
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_LIMIT, "/ietf-mud:mud/mfg-name",
		   "mfg-name is 1025 bytes, longer than the limit of 1024: \"yyyyyyyy", false);

	/* extensions: 32 fine, 33 not */
	s = talloc_strdup(t, "\"extensions\":[");
	for (i = 0; i < MUD_MAX_EXTENSIONS; i++)
		s = talloc_asprintf_append(s, "%s\"x%zu\"", i ? "," : "", i);
	doc = make_doc(t, talloc_asprintf(t, "%s]", s), V6, "");
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(f->num_extensions, MUD_MAX_EXTENSIONS);
	assert_int_equal(f->num_warnings, MUD_MAX_EXTENSIONS);
	assert_string_equal(f->warnings[31].text, "extension \"x31\" not supported; ignored");
	talloc_free(f);
	doc = make_doc(t, talloc_asprintf(t, "%s,\"x32\"]", s), V6, "");
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_LIMIT, "/ietf-mud:mud/extensions",
		   "33 extensions, more than the limit of 32", true);

	/* policy references: 65 too many */
	s = talloc_strdup(t, "\"to-device-policy\":{\"access-lists\":{\"access-list\":[");
	for (i = 0; i <= MUD_MAX_POLICY_REFS; i++) {
		s = talloc_asprintf_append(s, "%s{\"name\":\"a%zu\"}", i ? "," : "", i);
	}
	doc = make_doc(t, talloc_asprintf(t, "%s]}}", s), V6, "");
	expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_LIMIT,
		   "/ietf-mud:mud/to-device-policy/access-lists/access-list",
		   "65 access-list entries, more than the limit of 64", true);

	/* warnings are capped, the rest counted */
	s = talloc_strdup(t, "");
	for (i = 0; i < MUD_MAX_WARNINGS + 6; i++)
		s = talloc_asprintf_append(s, "\"v:n%zu\":1,", i);
	doc = talloc_asprintf(t, "{%s%s", s, make_doc(t, "", V6, "") + 1);
	f = expect_ok(ctx, doc, strlen(doc), NULL, 0);
	assert_int_equal(f->num_warnings, MUD_MAX_WARNINGS);
	assert_int_equal(f->num_warnings_dropped, 6);
	talloc_free(f);

	talloc_free(t);
}

/* ====================================================================
 *	Lenient mode
 * ==================================================================== */

static void test_osmud_strict_lenient(void **state)
{
	void *ctx = *state;
	size_t len = 0;
	char *buf = read_src(ctx, OSMUD_LIGHTBULB, &len);
	mud_file_t *f;
	mud_ace_t const *e;

	expect_err(ctx, buf, len, NULL, MUD_PARSE_STRICT, MUD_ERR_SCHEMA,
		   "/ietf-access-control-list:access-lists",
		   "unknown node \"ietf-access-control-list:access-lists\" (draft name of "
		   "\"ietf-access-control-list:acls\"; accepted in lenient mode)", true);

	f = expect_ok(ctx, buf, len, "https://bms.example.com/.well-known/mud/lightbulb2000",
		      MUD_PARSE_LENIENT);
	assert_int_equal(f->leniencies, MUD_LENIENT_ACCESS_LISTS_ROOT | MUD_LENIENT_ACL_TYPE_NAME |
			 MUD_LENIENT_PORT_OPER | MUD_LENIENT_LEGACY_ACE);
	assert_int_equal(f->num_warnings, 11);
	assert_string_equal(f->warnings[0].where, "/ietf-access-control-list:access-lists");
	assert_string_equal(f->warnings[0].text,
			    "lenient: draft root \"ietf-access-control-list:access-lists\"");
	assert_int_equal(f->num_acls, 2);
	assert_int_equal(f->acls[0].type, MUD_ACL_TYPE_IPV6);
	e = &f->acls[0].aces[0];
	assert_string_equal(e->name, "cl0-todev");
	assert_int_equal(e->l3, MUD_L3_IPV6);
	assert_string_equal(e->src_dnsname, "service.bms.example.com");
	assert_int_equal(e->l4, MUD_L4_TCP);
	assert_int_equal(e->src_port.op, MUD_PORT_EQ);
	assert_int_equal(e->src_port.lo, 443);
	assert_int_equal(e->direction_initiated, MUD_DIRINIT_FROM_DEVICE);
	e = &f->acls[1].aces[0];
	assert_int_equal(e->dst_port.op, MUD_PORT_EQ);
	assert_int_equal(e->dst_port.lo, 443);
	talloc_free(f);
	talloc_free(buf);
}

static void test_lenient_each(void **state)
{
	void *ctx = *state;
	static struct {
		char const	*mud_extra;
		char const	*type;
		char const	*matches;
		unsigned int	bit;
		char const	*where;
		char const	*strict_text;
	} const cases[] = {
		{"\"is-supported\":\"false\"", V6, "", MUD_LENIENT_BOOL_STRING,
		 "/ietf-mud:mud/is-supported", "expected boolean, got string \"false\""},
		{"\"cache-validity\":\"12\"", V6, "", MUD_LENIENT_NUMBER_STRING,
		 "/ietf-mud:mud/cache-validity", "expected number, got string \"12\""},
		{"\"last-update\":\"2019-01-28T11:20:51.5\"", V6, "", MUD_LENIENT_DATE_NO_OFFSET,
		 "/ietf-mud:mud/last-update",
		 "last-update \"2019-01-28T11:20:51.5\" is not a "
		 "date-and-time (YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm))"},
		{"", "ipv4-acl", "", MUD_LENIENT_ACL_TYPE_NAME,
		 "/ietf-access-control-list:acls/acl/0/type",
		 "acl type \"ipv4-acl\" is a draft name (lenient mode accepts it)"},
		{"", "ethernet-acl-type", "", MUD_LENIENT_ACL_TYPE_NAME,
		 "/ietf-access-control-list:acls/acl/0/type",
		 "acl type \"ethernet-acl-type\" is a draft name (lenient mode accepts it)"},
		{"", "eth-acl-type", "\"eth\":{\"ethertype\":\"0x0806\"}",
		 MUD_LENIENT_ETHERTYPE_HEX, M0 "/eth/ethertype",
		 "ethertype \"0x0806\" is neither a number nor an "
		 "ietf-ethertypes name"},
		{"", V6, "\"ietf-mud:mud\":{\"local-networks\":true}", MUD_LENIENT_EMPTY_AS_TRUE,
		 M0 "/ietf-mud:mud/local-networks",
		 "expected [null] (YANG empty), got boolean true"},
		{"", V6, "\"ietf-mud:mud\":{\"my-controller\":\"\"}", MUD_LENIENT_EMPTY_AS_TRUE,
		 M0 "/ietf-mud:mud/my-controller", "expected [null] (YANG empty), got string \"\""},
		{"", V4,
		 "\"ipv4-acl\":{\"protocol\":6,\"source-port-range-or-operator\":"
		 "{\"lower-port\":1,\"upper-port\":2}}",
		 MUD_LENIENT_LEGACY_ACE | MUD_LENIENT_PORT_OPER, M0 "/ipv4-acl",
		 "unknown node \"ipv4-acl\" in matches (draft name of \"ipv4\"; "
		 "accepted in lenient mode)"},
		{"", V6, "\"udp-acl\":{\"destination-port\":{\"port\":5}}", MUD_LENIENT_LEGACY_ACE,
		 M0 "/udp-acl",
		 "unknown node \"udp-acl\" in matches (draft name of \"udp\"; "
		 "accepted in lenient mode)"},
	};
	size_t i;

	for (i = 0; i < NUM_OF(cases); i++) {
		char *doc = make_doc(ctx, cases[i].mud_extra, cases[i].type, cases[i].matches);
		mud_file_t *f;

		expect_err(ctx, doc, strlen(doc), NULL, 0, MUD_ERR_SCHEMA, cases[i].where,
			   cases[i].strict_text, true);
		f = expect_ok(ctx, doc, strlen(doc), NULL, MUD_PARSE_LENIENT);
		assert_int_equal(f->leniencies, cases[i].bit);
		assert_true(f->num_warnings >= 1);
		assert_string_equal(f->warnings[0].where, cases[i].where);
		assert_memory_equal(f->warnings[0].text, "lenient: ", 9);
		talloc_free(f);
		talloc_free(doc);
	}

	/* legacy ports: the protocol picks the L4 */
	{
		char *doc = make_doc(ctx, "", V4,
				     "\"ipv4-acl\":{\"protocol\":17,"
				     "\"destination-port-range-or-operator\":{\"operator\":\"eq\","
				     "\"port\":53}}");
		mud_file_t *f = expect_ok(ctx, doc, strlen(doc), NULL, MUD_PARSE_LENIENT);

		assert_int_equal(f->acls[0].aces[0].l4, MUD_L4_UDP);
		assert_int_equal(f->acls[0].aces[0].dst_port.op, MUD_PORT_EQ);
		assert_int_equal(f->acls[0].aces[0].dst_port.lo, 53);
		talloc_free(f);
		talloc_free(doc);
	}
}

static void test_lenient_names(void **state)
{
	assert_string_equal(mud_lenient_name(MUD_LENIENT_ACCESS_LISTS_ROOT), "access-lists-root");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_ACL_TYPE_NAME), "acl-type-name");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_ETHERTYPE_HEX), "ethertype-hex");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_BOOL_STRING), "bool-string");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_DATE_NO_OFFSET), "date-no-offset");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_NUMBER_STRING), "number-string");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_PORT_OPER), "port-oper");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_LEGACY_ACE), "legacy-ace");
	assert_string_equal(mud_lenient_name(MUD_LENIENT_EMPTY_AS_TRUE), "empty-as-true");
	assert_string_equal(mud_lenient_name(0), "unknown");
	assert_string_equal(mud_lenient_name(0x3), "unknown");
}

/* ====================================================================
 *	mud_file_validate on (modified) structs
 * ==================================================================== */

static void test_validate(void **state)
{
	void *ctx = *state;
	size_t len = 0;
	char *buf = read_src(ctx, RFC8520_LIGHTBULB, &len);
	mud_file_t *f = expect_ok(ctx, buf, len, NULL, 0);
	mud_error_t err;
	mud_ace_t *e = &f->acls[1].aces[0];

	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(NULL, NULL, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, "https://lighting.example.com/lightbulb2000", &err),
			 MUD_OK);
	assert_int_equal(mud_file_validate(f, "https://lighting.example.com/lightbulb2000/", &err),
			 MUD_ERR_MISMATCH);
	assert_string_equal(err.where, "/ietf-mud:mud/mud-url");
	assert_string_equal(err.text,
			    "mud-url \"https://lighting.example.com/lightbulb2000\" differs "
			    "from the URL fetched \"https://lighting.example.com/lightbulb2000/\"");
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, "HTTPS://lighting.example.com/lightbulb2000", &err),
			 MUD_ERR_MISMATCH);	/* exact byte compare */
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, "http://lighting.example.com/lightbulb2000", &err),
			 MUD_ERR_ARG);
	assert_string_equal(err.where, "expected_url");

	/* semantic rules on the struct, canonical pointers */
	e->protocol = 17;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(
		err.where, "/ietf-access-control-list:acls/acl/1/aces/ace/0/matches/ipv6/protocol");
	assert_string_equal(err.text, "protocol 17 contradicts the tcp match (protocol 6)");
	e->protocol = -1;
	e->l4 = MUD_L4_NONE;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(err.text, "port match without tcp or udp");
	e->dst_port.op = MUD_PORT_ANY;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(err.text, "direction-initiated without tcp");
	e->l4 = MUD_L4_TCP;
	e->dst_port.op = MUD_PORT_RANGE;
	e->dst_port.lo = 9;
	e->dst_port.hi = 8;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(err.text, "destination lower-port 9 greater than upper-port 8");
	e->dst_port.op = MUD_PORT_EQ;
	e->icmp_type = 3;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(err.text, "icmp type/code without icmp");
	e->icmp_type = -1;
	/* an abstraction and a DNS name on the same side: the intersection, valid */
	e->abs[0].kind = MUD_ABS_MY_CONTROLLER;
	e->num_abs = 1;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_OK);
	e->num_abs = 0;
	f->acls[1].type = MUD_ACL_TYPE_IPV4;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SEMANTIC);
	assert_string_equal(err.where,
			    "/ietf-access-control-list:acls/acl/1/aces/ace/0/matches/ipv6");
	assert_string_equal(err.text, "ipv6 match in ACL \"mud-76100-v6fr\" of type ipv4-acl-type");
	f->acls[1].type = MUD_ACL_TYPE_MIXED_ALL;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_OK);

	/* unused ACL: one warning, not repeated by a second validation */
	f->to_device[0] = talloc_strdup(f, "mud-76100-v6fr");
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_OK);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_OK);
	assert_int_equal(f->num_warnings, 1);
	assert_string_equal(f->warnings[0].where, "/ietf-access-control-list:acls/acl/0");
	assert_string_equal(f->warnings[0].text,
			    "ACL \"mud-76100-v6to\" is not used by any policy");

	/* duplicate names in a hand-made struct */
	talloc_free(f->acls[1].name);
	f->acls[1].name = talloc_strdup(f, "mud-76100-v6to");
	f->from_device[0] = f->acls[1].name;
	f->to_device[0] = f->acls[1].name;
	mud_error_clear(&err);
	assert_int_equal(mud_file_validate(f, NULL, &err), MUD_ERR_SCHEMA);
	assert_string_equal(err.where, "/ietf-access-control-list:acls/acl/1/name");

	talloc_free(f);
	talloc_free(buf);
}

/* ====================================================================
 *	Corpus: every public MUD file, strict and lenient
 * ==================================================================== */

typedef struct {
	char const	*path;		//!< under mudfiles/
	mud_rcode_t	strict;
	mud_rcode_t	lenient;
	size_t		warnings;	//!< in strict mode when it passes, else lenient
	char const	*why;		//!< reasoning; every disagreement with yanglint explained
} corpus_t;

/*
 * yanglint 2.1.30 verdicts (README command, .save copied to a .json name):
 * valid, except tester_local_network3_udp (duplicate acl), the three files
 * with nodes of unknown modules, and osmud/test/lightbulb2000 (draft root).
 */
static corpus_t const corpus[] = {
	{ "cisco-mud-manager/luminaire/fs/Luminaire_150.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid. my-controller, local-networks, dnsnames" },
	{ "mud-visualizer/coffee_multiple.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/other/Igor_mudfile.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_controller.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid. controller \"http://amazon.com/dashserver\" is a URI (no https "
	  "needed)" },
	{ "mud-visualizer/tester_domain.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_domain2.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_domain3.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_domain4.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_local_network.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_local_network2.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_local_network3_udp.json", MUD_ERR_SCHEMA, MUD_ERR_SCHEMA, 0,
	  "agrees: yanglint 'Duplicate instance of \"acl\"' (acl mud-35723-v4fr twice)" },
	{ "mud-visualizer/tester_local_network4_all.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_manufacturer.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_mycontroller.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_mycontroller2.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_same_manufacturer.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mud-visualizer/tester_tcpudp.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mudmaker/cloud-service.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mudmaker/directed-broadcasts-example.json", MUD_OK, MUD_OK, 3,
	  "DIFFERS: yanglint 'No module named \"mud-directed-broadcasts\"'. RFC 8520 3.9: ignore "
	  "what is not understood -> warning. 2 extension warnings + 1 unknown-module warning" },
	{ "mudmaker/inspextor.json", MUD_OK, MUD_OK, 0, "yanglint: valid ('//' in the URL path)" },
	{ "mudmaker/my-controller.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "mudmaker/same-manufacturer.json", MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-controllerclass-test/mudfile-controllerclass-test.json", MUD_OK,
	  MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-dhcp-test/mudfile-server/mudfile-dhcptest.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid" },
	{ "nist-mud/unittest/mud-dns-test/mudfile-dns-test.json", MUD_OK, MUD_OK, 1,
	  "DIFFERS: yanglint 'No module named \"ietf-mud-reporter-extension\"'; we warn and ignore "
	  "(RFC 8520 3.9)" },
	{ "nist-mud/unittest/mud-local-and-same-mfg-test/mudfile-local-and-same-mfg-test.json",
	  MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-local-and-same-mfg-test/mudfile-local-and-same-mfg-test.json.save",
	  MUD_OK, MUD_OK, 0, "yanglint (as .json): valid" },
	{ "nist-mud/unittest/mud-local-networks-test/mudfile-local-networks-test.json", MUD_OK,
	  MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-local-networks-test/mudfile.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid" },
	{ "nist-mud/unittest/mud-logging-test/mudfile-mylogging-test.nist.local.json", MUD_OK,
	  MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-mfg-test/mudfile-mfg-test.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid" },
	{ "nist-mud/unittest/mud-model-test/mudfile-model-test.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid" },
	{ "nist-mud/unittest/mud-mycontrollerclass-test/mudfile-mycontrollerclass-test.json",
	  MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-quarantine-test/mudfile-quarantine-test.json", MUD_OK, MUD_OK, 1,
	  "DIFFERS: yanglint 'No module named \"nist-mud\"'; we warn and ignore (RFC 8520 3.9)" },
	{ "nist-mud/unittest/mud-same-manufacturer-test/mudfile-same-manufacturer-test.json",
	  MUD_OK, MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-same-mfg-scale-test/mudfile-same-mfg-scale-test.json", MUD_OK,
	  MUD_OK, 0, "yanglint: valid" },
	{ "nist-mud/unittest/mud-tcp-direction-test/mudfile-tcp-direction-test.json",
	  MUD_OK, MUD_OK, 1,
	  "DIFFERS: yanglint 'No module named \"ietf-mud-reporter-extension\"'; warning here" },
	{ "osmud/example/ieft-draft.json", MUD_OK, MUD_OK, 0,
	  "yanglint: valid (despite the name it uses the RFC encoding)" },
	{ "osmud/test/lightbulb2000.json", MUD_ERR_SCHEMA, MUD_OK, 11,
	  "agrees in strict mode: yanglint 'Node \"access-lists\" not found'. Lenient: draft root, "
	  "acl-type, access-list-entries, rule-name, ipv6-acl, *-port-range-or-operator" },
	{ "rfc8520/lightbulb2000.json", MUD_OK, MUD_OK, 0, "yanglint: valid (RFC 8520 section 9)" },
};

static corpus_t const *corpus_find(char const *rel)
{
	size_t i;

	for (i = 0; i < NUM_OF(corpus); i++) {
		if (strcmp(corpus[i].path, rel) == 0) return &corpus[i];
	}
	return NULL;
}

static bool is_mud_name(char const *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".json") == 0) ||
		(n > 10 && strcmp(name + n - 10, ".json.save") == 0);
}

/** Parse one corpus file in both modes and check the table. */
static void corpus_check(void *ctx, char const *base, char const *rel, size_t *seen)
{
	corpus_t const *c = corpus_find(rel);
	char *path = talloc_asprintf(ctx, "%s/%s", base, rel);
	size_t len = 0;
	char *buf = test_read_file(ctx, path, &len);
	mud_file_t *f = NULL;
	mud_error_t err;
	mud_rcode_t rs;
	mud_rcode_t rl;
	size_t nwarn = 0;

	if (!c) fail_msg("corpus file %s is not in the expectation table", rel);
	if (!buf) fail_msg("cannot read %s", path);

	mud_error_clear(&err);
	rs = mud_file_parse(ctx, &f, buf, len, NULL, MUD_PARSE_STRICT, &err);
	if (rs == MUD_OK) nwarn = f->num_warnings;
	if (rs != c->strict) {
		fail_msg("%s strict: got %s (%s: %s), expected %s", rel, mud_rcode_name(rs),
			 err.where, err.text, mud_rcode_name(c->strict));
	}
	talloc_free(f);
	f = NULL;

	mud_error_clear(&err);
	rl = mud_file_parse(ctx, &f, buf, len, NULL, MUD_PARSE_LENIENT, &err);
	if (rl != c->lenient) {
		fail_msg("%s lenient: got %s (%s: %s), expected %s", rel, mud_rcode_name(rl),
			 err.where, err.text, mud_rcode_name(c->lenient));
	}
	if (rs != MUD_OK && rl == MUD_OK) nwarn = f->num_warnings;
	if (rl == MUD_OK && rs == MUD_OK) {
		assert_int_equal(f->leniencies, 0);	/* nothing lenient needed */
		assert_int_equal(f->num_warnings, nwarn);
	}
	if (nwarn != c->warnings)
		fail_msg("%s: %zu warnings, expected %zu", rel, nwarn, c->warnings);
	talloc_free(f);
	talloc_free(buf);
	talloc_free(path);
	(*seen)++;
}

static void corpus_walk(void *ctx, char const *base, char const *rel, size_t *seen)
{
	char *dir = talloc_asprintf(ctx, "%s%s%s", base, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) fail_msg("cannot open %s", dir);
	for (de = readdir(d); de; de = readdir(d)) {
		char *sub;
		char *full;
		struct stat st;

		if (de->d_name[0] == '.') continue;
		sub = talloc_asprintf(ctx, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		full = talloc_asprintf(ctx, "%s/%s", base, sub);
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			corpus_walk(ctx, base, sub, seen);
		} else if (is_mud_name(de->d_name)) {
			corpus_check(ctx, base, sub, seen);
		}
		talloc_free(full);
		talloc_free(sub);
	}
	closedir(d);
	talloc_free(dir);
}

static void test_corpus(void **state)
{
	void *ctx = *state;
	char *base = test_shared_path(ctx, "mudfiles");
	size_t seen = 0;
	struct stat st;

	if (stat(base, &st) != 0) {
		talloc_free(base);
		skip();	/* shared corpus not available (e.g. make distcheck) */
	}

	corpus_walk(ctx, base, "", &seen);
	assert_int_equal(seen, NUM_OF(corpus));
	talloc_free(base);
}

/* ====================================================================
 *	Runner
 * ==================================================================== */

int main(void)
{
	static struct CMUnitTest const fixed[] = {
		cmocka_unit_test_setup_teardown(test_json_errors, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_json_depth, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_too_big, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_top_level, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_rfc8520_model, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_fields, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_actions, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_abstractions, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_limits, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_osmud_strict_lenient, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_lenient_each, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test(test_lenient_names),
		cmocka_unit_test_setup_teardown(test_validate, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_corpus, test_setup_ctx, test_teardown_ctx),
	};
	size_t const nfixed = NUM_OF(fixed);
	size_t const ncases = NUM_OF(err_cases);
	struct CMUnitTest *tests = calloc(nfixed + ncases, sizeof(*tests));
	size_t i;
	int rc;

	if (!tests) return 1;
	for (i = 0; i < nfixed; i++) tests[i] = fixed[i];
	for (i = 0; i < ncases; i++) {
		tests[nfixed + i].name = err_cases[i].name;
		tests[nfixed + i].test_func = test_err_case;
		tests[nfixed + i].setup_func = case_setup;
		tests[nfixed + i].teardown_func = case_teardown;
		tests[nfixed + i].initial_state = (void *)(uintptr_t)&err_cases[i];
	}
	rc = _cmocka_run_group_tests("parse", tests, nfixed + ncases, NULL, NULL);
	free(tests);
	return rc;
}
