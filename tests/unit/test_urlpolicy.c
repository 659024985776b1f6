/*
 * test_urlpolicy.c - the URL policy without the network: the authority
 * normaliser, the special-purpose address classifier (every range, first and
 * last address inside, the neighbours outside, the forms that carry an IPv4
 * address), the allow/deny lists (spellings, ports, wildcards, literals) and
 * the checks the fetcher calls. Fetches through the policy are in test_fetch.c.
 */
#include <arpa/inet.h>

#include "test_common.h"

#define ARRAY_LEN(_a) (sizeof(_a) / sizeof((_a)[0]))

/*
 *	Authorities
 */
typedef struct {
	char const	*in;
	unsigned int	flags;
	char const	*text;		//!< expected normalised text, NULL: an error
	char const	*error;		//!< substring of the error text
} auth_case_t;

static void test_authority_normalise(void **state)
{
	static auth_case_t const cases[] = {
		/* the four spellings of one entry, and the URL form */
		{ "denied.example", MUD_AUTHORITY_ENTRY, "denied.example", NULL },
		{ "DENIED.example.", MUD_AUTHORITY_ENTRY, "denied.example", NULL },
		{ "denied.example:0443", MUD_AUTHORITY_ENTRY, "denied.example:443", NULL },
		{ "denied.example:443", MUD_AUTHORITY_ENTRY, "denied.example:443", NULL },
		{ "denied.example", 0, "denied.example:443", NULL },
		{ "Denied.Example.:00443", 0, "denied.example:443", NULL },
		{ "mud.example:8443", 0, "mud.example:8443", NULL },
		{ "a_b.example", 0, "a_b.example:443", NULL },
		{ "xn--caf-dma.example", 0, "xn--caf-dma.example:443", NULL },
		{ "localhost", 0, "localhost:443", NULL },
		/* IP literals: canonical text, brackets for IPv6 */
		{ "127.0.0.1", 0, "127.0.0.1:443", NULL },
		{ "10.1.2.3:0080", 0, "10.1.2.3:80", NULL },
		{ "[::1]", 0, "[::1]:443", NULL },
		{ "[0:0:0:0:0:0:0:1]:08443", 0, "[::1]:8443", NULL },
		{ "[::FFFF:127.0.0.1]", 0, "[::ffff:127.0.0.1]:443", NULL },
		{ "[0:0:0:0:0:ffff:7f00:1]", 0, "[::ffff:127.0.0.1]:443", NULL },
		{ "[64:FF9B::7F00:1]", 0, "[64:ff9b::7f00:1]:443", NULL },
		{ "[2001:DB8:0:0::1]", MUD_AUTHORITY_ENTRY, "[2001:db8::1]", NULL },
		{ "::1", MUD_AUTHORITY_ENTRY, "[::1]", NULL },
		/* wildcards (entries only) */
		{ "*.Example.COM", MUD_AUTHORITY_ENTRY, "*.example.com", NULL },
		{ ".example.com:8443", MUD_AUTHORITY_ENTRY, "*.example.com:8443", NULL },
		{ "*.example.com", 0, NULL, "invalid character" },
		{ "*.1.2", MUD_AUTHORITY_ENTRY, NULL, "wildcard needs a name" },
		/* refused */
		{ "", 0, NULL, "empty authority" },
		{ ":443", 0, NULL, "empty host" },
		{ "a:", 0, NULL, "empty port" },
		{ "a:0", 0, NULL, "invalid port" },
		{ "a:65536", 0, NULL, "invalid port" },
		{ "a:99999999999999999999", 0, NULL, "invalid port" },
		{ "a:44x", 0, NULL, "invalid port" },
		{ "a:+443", 0, NULL, "invalid port" },
		{ "a b", 0, NULL, "space or control" },
		{ "a\tb", 0, NULL, "space or control" },
		{ "caf\xc3\xa9.example", 0, NULL, "A-labels (xn--...)" },
		{ "user@host", 0, NULL, "userinfo" },
		{ "0x7f.1", 0, NULL, "ends in a number" },
		{ "foo.0x7F", 0, NULL, "ends in a number" },
		{ "example.123", 0, NULL, "ends in a number" },
		{ "1.2.3.4.5", 0, NULL, "invalid IPv4 address" },
		{ "127.1", 0, NULL, "invalid IPv4 address" },
		{ "2130706433", 0, NULL, "invalid IPv4 address" },
		{ "01.2.3.4", 0, NULL, "invalid IPv4 address" },
		{ "256.1.1.1", 0, NULL, "invalid IPv4 address" },
		{ "[fe80::1%25eth0]", 0, NULL, "zone identifiers" },
		{ "[fe80::1%eth0]", 0, NULL, "zone identifiers" },
		{ "[::1", 0, NULL, "unterminated" },
		{ "[::1]x", 0, NULL, "after the IPv6 literal" },
		{ "[1.2.3.4]", 0, NULL, "invalid IPv6" },
		{ "[]", 0, NULL, "invalid IPv6" },
		{ "::1", 0, NULL, "more than one ':'" },
		{ "a..b", 0, NULL, "empty label" },
		{ ".a", 0, NULL, "empty label" },
		{ "a..", 0, NULL, "empty label" },
		{ ".", 0, NULL, "empty label" },
		{ "-a.b", 0, NULL, "starts or ends with '-'" },
		{ "a-.b", 0, NULL, "starts or ends with '-'" },
		{ "a/b", 0, NULL, "invalid character" },
		{ "a%2eb", 0, NULL, "invalid character" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		mud_authority_t a;
		mud_error_t err = { 0 };
		mud_rcode_t rc;

		rc = mud_authority_parse(&a, cases[i].in, strlen(cases[i].in), cases[i].flags,
					 &err);
		if (cases[i].text) {
			if (rc != MUD_OK) fprintf(stderr, "case %zu \"%s\": %s\n", i, cases[i].in,
						  err.text);
			assert_int_equal(rc, MUD_OK);
			assert_string_equal(a.text, cases[i].text);
		} else {
			if (rc == MUD_OK || !strstr(err.text, cases[i].error)) {
				fprintf(stderr, "case %zu \"%s\": rc %d \"%s\"\n", i, cases[i].in,
					rc, err.text);
			}
			assert_int_equal(rc, MUD_ERR_URL);
			assert_string_equal(err.where, "authority");
			assert_non_null(strstr(err.text, cases[i].error));
			assert_string_equal(a.text, "");
		}
	}
}

static void test_authority_limits(void **state)
{
	char buf[400];
	mud_authority_t a;
	mud_error_t err = { 0 };
	size_t i;

	(void)state;
	/* a label of 63 is fine, 64 is not */
	memset(buf, 'a', 63);
	memcpy(buf + 63, ".example", 9);
	assert_int_equal(mud_authority_parse(&a, buf, strlen(buf), 0, &err), MUD_OK);
	memset(buf, 'a', 64);
	memcpy(buf + 64, ".example", 9);
	assert_int_equal(mud_authority_parse(&a, buf, strlen(buf), 0, &err), MUD_ERR_URL);
	assert_non_null(strstr(err.text, "longer than 63"));

	/* 253 bytes of name are fine (plus a trailing dot), 254 are not */
	for (i = 0; i < 253; i++) buf[i] = (i % 2) ? '.' : 'a';
	buf[253] = '\0';
	mud_error_clear(&err);
	assert_int_equal(mud_authority_parse(&a, buf, 253, 0, &err), MUD_OK);
	buf[253] = '.';
	assert_int_equal(mud_authority_parse(&a, buf, 254, 0, &err), MUD_OK);
	assert_int_equal(strlen(a.host), 253);
	buf[253] = 'a';
	buf[254] = 'a';
	assert_int_equal(mud_authority_parse(&a, buf, 255, 0, &err), MUD_ERR_URL);
	assert_non_null(strstr(err.text, "longer than 253"));

	/* arguments */
	mud_error_clear(&err);
	assert_int_equal(mud_authority_parse(NULL, "a", 1, 0, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_authority_parse(&a, NULL, 1, 0, &err), MUD_ERR_ARG);
	/* not NUL-terminated: only len bytes are read */
	assert_int_equal(mud_authority_parse(&a, "host.example:443XXXX", 16, 0, NULL), MUD_OK);
	assert_string_equal(a.text, "host.example:443");
}

/*
 *	The classifier: every range, first and last address, and the neighbours.
 */

/** Reference IPv4 list, independent of the table in mud_urlpolicy.c. */
static char const * const ref4[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
	"192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"255.255.255.255/32",
};

static void cidr(char const *text, int family, uint8_t *net, unsigned int *len)
{
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	assert_non_null(slash);
	*slash = '\0';
	*len = (unsigned int)atoi(slash + 1);
	memset(net, 0, 16);
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, buf, net), 1);
}

static bool in_cidr(uint8_t const *a, uint8_t const *net, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		unsigned int byte = i / 8;
		unsigned int bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((net[byte] >> bit) & 1)) return false;
	}
	return true;
}

static bool ref_special4(uint8_t const *a)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ref4); i++) {
		uint8_t net[16];
		unsigned int len;

		cidr(ref4[i], 4, net, &len);
		if (in_cidr(a, net, len)) return true;
	}
	return false;
}

/** First (last = false) or last address of a prefix; nbytes = 4 or 16. */
static void edge(uint8_t *out, uint8_t const *net, unsigned int len, size_t nbytes, bool last)
{
	size_t i;

	memcpy(out, net, nbytes);
	for (i = len; i < nbytes * 8; i++) {
		uint8_t bit = (uint8_t)(1u << (7 - i % 8));

		if (last) {
			out[i / 8] |= bit;
		} else {
			out[i / 8] &= (uint8_t)~bit;
		}
	}
}

/** a + 1 or a - 1 (big endian); false on wrap-around. */
static bool step(uint8_t *a, size_t nbytes, int dir)
{
	size_t i = nbytes;

	while (i-- > 0) {
		if (dir > 0) {
			if (++a[i] != 0) return true;
		} else {
			if (a[i]-- != 0) return true;
		}
	}
	return false;
}

static void check4(uint8_t const *a, bool expect)
{
	char why[256];
	char text[INET_ADDRSTRLEN];
	bool got = mud_addr_special(4, a, why, sizeof(why));

	inet_ntop(AF_INET, a, text, sizeof(text));
	if (got != expect) fprintf(stderr, "%s: got %d want %d (%s)\n", text, got, expect, why);
	assert_int_equal(got, expect);
	assert_int_equal(why[0] != '\0', expect);
}

static void test_special_ipv4_edges(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ref4); i++) {
		uint8_t net[16];
		uint8_t a[4];
		unsigned int len;

		cidr(ref4[i], 4, net, &len);
		edge(a, net, len, 4, false);
		check4(a, true);
		if (step(a, 4, -1)) check4(a, ref_special4(a));
		edge(a, net, len, 4, true);
		check4(a, true);
		if (step(a, 4, +1)) check4(a, ref_special4(a));
	}
}

typedef struct {
	char const	*addr;
	char const	*why;		//!< exact reason, NULL: not special
} addr_case_t;

static void check_cases(addr_case_t const *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t a[16];
		char why[256];
		int family = strchr(cases[i].addr, ':') ? 6 : 4;
		bool got;

		assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, cases[i].addr, a), 1);
		got = mud_addr_special(family, a, why, sizeof(why));
		if (got != (cases[i].why != NULL) ||
		    (cases[i].why && strcmp(why, cases[i].why) != 0)) {
			fprintf(stderr, "%s: got %d \"%s\"\n", cases[i].addr, got, why);
		}
		if (cases[i].why) {
			assert_true(got);
			assert_string_equal(why, cases[i].why);
		} else {
			assert_false(got);
			assert_string_equal(why, "");
		}
	}
}

static void test_special_ipv4_reasons(void **state)
{
	static addr_case_t const cases[] = {
		{ "0.0.0.0", "0.0.0.0/8 \"this network\" (RFC 791)" },
		{ "10.0.0.1", "10.0.0.0/8 private-use (RFC 1918)" },
		{ "100.64.0.1", "100.64.0.0/10 shared address space (CGNAT) (RFC 6598)" },
		{ "100.127.255.255", "100.64.0.0/10 shared address space (CGNAT) (RFC 6598)" },
		{ "127.0.0.1", "127.0.0.0/8 loopback (RFC 1122)" },
		{ "169.254.169.254", "169.254.0.0/16 link-local (RFC 3927)" },
		{ "172.31.255.255", "172.16.0.0/12 private-use (RFC 1918)" },
		{ "192.0.0.170", "192.0.0.0/24 IETF protocol assignments (RFC 6890)" },
		{ "192.0.2.1", "192.0.2.0/24 documentation (TEST-NET-1) (RFC 5737)" },
		{ "192.88.99.1", "192.88.99.0/24 deprecated 6to4 relay anycast (RFC 7526)" },
		{ "192.168.1.1", "192.168.0.0/16 private-use (RFC 1918)" },
		{ "198.19.255.255", "198.18.0.0/15 benchmarking (RFC 2544)" },
		{ "198.51.100.1", "198.51.100.0/24 documentation (TEST-NET-2) (RFC 5737)" },
		{ "203.0.113.7", "203.0.113.0/24 documentation (TEST-NET-3) (RFC 5737)" },
		{ "224.0.0.251", "224.0.0.0/4 multicast (RFC 5771)" },
		{ "239.255.255.255", "224.0.0.0/4 multicast (RFC 5771)" },
		{ "240.0.0.1", "240.0.0.0/4 reserved (RFC 1112)" },
		{ "255.255.255.254", "240.0.0.0/4 reserved (RFC 1112)" },
		{ "255.255.255.255", "255.255.255.255/32 limited broadcast (RFC 919)" },
		{ "8.8.8.8", NULL },
		{ "93.184.216.34", NULL },
		{ "1.1.1.1", NULL },
		{ "100.63.255.255", NULL },
		{ "100.128.0.0", NULL },
		{ "172.15.255.255", NULL },
		{ "172.32.0.0", NULL },
		{ "198.17.255.255", NULL },
		{ "198.20.0.0", NULL },
		{ "223.255.255.255", NULL },
	};

	(void)state;
	check_cases(cases, ARRAY_LEN(cases));
}

/** Reference IPv6 ranges that are special whatever they carry. */
static char const * const ref6[] = {
	"::/128", "::1/128", "::/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64",
	"2001:db8::/32", "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8",
	"2001:2::/48", "2001:10::/28", "2001:20::/28", "2001:100::/24",	/* in 2001::/23 */
};

/** Reference for addresses that do not carry an IPv4 address. */
static bool ref_special6(uint8_t const *a)
{
	static uint8_t const teredo[4] = { 0x20, 0x01, 0, 0 };
	size_t i;

	if ((a[0] & 0xe0) != 0x20) return true;	/* outside 2000::/3 */
	if (a[0] == 0x20 && a[1] == 0x01 && (a[2] & 0xfe) == 0 && memcmp(a, teredo, 4) != 0) {
		return true;	/* 2001::/23 but not Teredo */
	}
	for (i = 0; i < ARRAY_LEN(ref6); i++) {
		uint8_t net[16];
		unsigned int len;

		cidr(ref6[i], 6, net, &len);
		if (in_cidr(a, net, len)) return true;
	}
	return false;
}

static void check6(uint8_t const *a, bool expect)
{
	char why[256];
	char text[INET6_ADDRSTRLEN];
	bool got = mud_addr_special(6, a, why, sizeof(why));

	inet_ntop(AF_INET6, a, text, sizeof(text));
	if (got != expect) fprintf(stderr, "%s: got %d want %d (%s)\n", text, got, expect, why);
	assert_int_equal(got, expect);
}

static void test_special_ipv6_edges(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ref6); i++) {
		uint8_t net[16];
		uint8_t a[16];
		unsigned int len;

		cidr(ref6[i], 6, net, &len);
		edge(a, net, len, 16, false);
		check6(a, true);
		if (step(a, 16, -1)) check6(a, ref_special6(a));
		edge(a, net, len, 16, true);
		check6(a, true);
		if (step(a, 16, +1)) check6(a, ref_special6(a));
	}
	/* 2000::/3 edges: 1fff:ffff:... special, 2000:: not, 3fff:ffff:... (3fff::/20) special,
	 * 4000:: special */
	{
		uint8_t a[16];

		assert_int_equal(inet_pton(AF_INET6, "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a),
				 1);
		check6(a, true);
		assert_int_equal(inet_pton(AF_INET6, "2000::", a), 1);
		check6(a, false);
		assert_int_equal(inet_pton(AF_INET6, "3ffe:ffff:ffff:ffff::1", a), 1);
		check6(a, false);
		assert_int_equal(inet_pton(AF_INET6, "4000::", a), 1);
		check6(a, true);
	}
}

static void test_special_ipv6_reasons(void **state)
{
	static addr_case_t const cases[] = {
		{ "::", "::/128 unspecified (RFC 4291)" },
		{ "::1", "::1/128 loopback (RFC 4291)" },
		{ "::2", "::/96 IPv4-compatible (deprecated) (RFC 4291)" },
		/* IPv4-compatible: always refused, even carrying a public address */
		{ "::8.8.8.8", "::/96 IPv4-compatible (deprecated) (RFC 4291)" },
		{ "::127.0.0.1", "::/96 IPv4-compatible (deprecated) (RFC 4291)" },
		/* IPv4-mapped: judged by the IPv4 inside */
		{ "::ffff:127.0.0.1", "::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying 127.0.0.1 in "
		  "127.0.0.0/8 loopback (RFC 1122)" },
		{ "::ffff:10.0.0.1", "::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying 10.0.0.1 in "
		  "10.0.0.0/8 private-use (RFC 1918)" },
		{ "::ffff:0:0", "::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying 0.0.0.0 in "
		  "0.0.0.0/8 \"this network\" (RFC 791)" },
		{ "::ffff:8.8.8.8", NULL },
		{ "::ffff:93.184.216.34", NULL },
		/* IPv4-translated ::ffff:0:a.b.c.d (not mapped): outside 2000::/3 */
		{ "::ffff:0:8.8.8.8", "outside 2000::/3, the global unicast space (IANA IPv6 "
		  "address space, RFC 4291)" },
		/* NAT64 well-known prefix: judged by the IPv4 inside */
		{ "64:ff9b::7f00:1", "64:ff9b::/96 IPv4/IPv6 translation (NAT64) (RFC 6052) "
		  "carrying 127.0.0.1 in 127.0.0.0/8 loopback (RFC 1122)" },
		{ "64:ff9b::192.168.0.1", "64:ff9b::/96 IPv4/IPv6 translation (NAT64) (RFC 6052) "
		  "carrying 192.168.0.1 in 192.168.0.0/16 private-use (RFC 1918)" },
		{ "64:ff9b::a9fe:a9fe", "64:ff9b::/96 IPv4/IPv6 translation (NAT64) (RFC 6052) "
		  "carrying 169.254.169.254 in 169.254.0.0/16 link-local (RFC 3927)" },
		{ "64:ff9b::808:808", NULL },
		{ "64:ff9b::1:0:0", "outside 2000::/3, the global unicast space (IANA IPv6 address "
		  "space, RFC 4291)" },
		/* local-use NAT64: the embedding is the operator's choice; always refused */
		{ "64:ff9b:1::808:808", "64:ff9b:1::/48 local-use IPv4/IPv6 translation "
		  "(RFC 8215)" },
		{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::/48 local-use IPv4/IPv6 "
		  "translation (RFC 8215)" },
		/* 6to4: the IPv4 in bits 16..47 */
		{ "2002:7f00:1::1", "2002::/16 6to4 (RFC 3056) carrying 127.0.0.1 in 127.0.0.0/8 "
		  "loopback (RFC 1122)" },
		{ "2002:c0a8:101::", "2002::/16 6to4 (RFC 3056) carrying 192.168.1.1 in "
		  "192.168.0.0/16 private-use (RFC 1918)" },
		{ "2002:a00:1:ffff:ffff:ffff:ffff:ffff", "2002::/16 6to4 (RFC 3056) carrying "
		  "10.0.0.1 in 10.0.0.0/8 private-use (RFC 1918)" },
		{ "2002:808:808::1", NULL },
		/* Teredo (RFC 4380 section 4 example: client 192.0.2.45 -> TEST-NET-1) */
		{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/32 Teredo (RFC 4380) carrying "
		  "client 192.0.2.45 in 192.0.2.0/24 documentation (TEST-NET-1) (RFC 5737)" },
		{ "2001:0:a00:1::f7f7:f7f7", "2001::/32 Teredo (RFC 4380) carrying server 10.0.0.1 "
		  "in 10.0.0.0/8 private-use (RFC 1918)" },
		{ "2001:0:808:808::80ff:fffe", "2001::/32 Teredo (RFC 4380) carrying client "
		  "127.0.0.1 in 127.0.0.0/8 loopback (RFC 1122)" },
		{ "2001:0:808:808::f7f7:f7f7", NULL },
		{ "2001:1::1", "2001::/23 IETF protocol assignments (RFC 2928)" },
		{ "2001:1ff:ffff::", "2001::/23 IETF protocol assignments (RFC 2928)" },
		{ "2001:200::1", NULL },
		{ "2001:db8::1", "2001:db8::/32 documentation (RFC 3849)" },
		{ "2001:db9::1", NULL },
		{ "2620:4f:8000::1", "2620:4f:8000::/48 direct delegation AS112 service "
		  "(RFC 7534)" },
		{ "3fff:fff::1", "3fff::/20 documentation (RFC 9637)" },
		{ "3fff:1000::1", NULL },
		{ "5f00::1", "5f00::/16 segment routing (SRv6) SIDs (RFC 9602)" },
		{ "100::1", "100::/64 discard-only (RFC 6666)" },
		{ "fc00::1", "fc00::/7 unique-local (RFC 4193)" },
		{ "fdff:ffff::1", "fc00::/7 unique-local (RFC 4193)" },
		{ "fe80::1", "fe80::/10 link-local (RFC 4291)" },
		{ "febf:ffff::1", "fe80::/10 link-local (RFC 4291)" },
		{ "fec0::1", "fec0::/10 site-local (deprecated) (RFC 3879)" },
		{ "ff02::1", "ff00::/8 multicast (RFC 4291)" },
		{ "2606:4700:4700::1111", NULL },
		{ "2a00:1450:4001::1", NULL },
	};
	uint8_t a[16] = { 0 };
	char why[256];

	(void)state;
	check_cases(cases, ARRAY_LEN(cases));

	/* other families, NULL: special (never connected to); why may be NULL */
	assert_true(mud_addr_special(0, a, why, sizeof(why)));
	assert_non_null(strstr(why, "neither IPv4 nor IPv6"));
	assert_true(mud_addr_special(4, NULL, why, sizeof(why)));
	assert_true(mud_addr_special(4, a, NULL, 0));
	a[0] = 8;
	assert_false(mud_addr_special(4, a, NULL, 0));
	/* a short buffer is cut, never overrun */
	a[0] = 127;
	assert_true(mud_addr_special(4, a, why, 8));
	assert_string_equal(why, "127.0.0");
}

/*
 *	Policies
 */

static mud_urlpolicy_t *policy(void *ctx, char const *allow, char const *deny, bool priv)
{
	mud_urlpolicy_t *pol = NULL;
	mud_error_t err = { 0 };

	if (mud_urlpolicy_create(ctx, &pol, allow, deny, priv, &err) != MUD_OK) {
		fprintf(stderr, "mud_urlpolicy_create: %s (%s)\n", err.text, err.where);
	}
	assert_non_null(pol);
	return pol;
}

/** Check a URL string (mud_url_parse + mud_urlpolicy_check_url); NULL = accepted. */
static void url_check(void *ctx, mud_urlpolicy_t const *pol, char const *url, char const *why)
{
	mud_url_t *u = NULL;
	mud_error_t err = { 0 };
	mud_rcode_t rc;

	assert_int_equal(mud_url_parse(ctx, &u, url, strlen(url), &err), MUD_OK);
	rc = mud_urlpolicy_check_url(pol, u, &err);
	if ((why == NULL) != (rc == MUD_OK) || (why && strcmp(err.text, why) != 0)) {
		fprintf(stderr, "%s: rc %d \"%s\" (%s)\n", url, rc, err.text, err.where);
	}
	if (!why) {
		assert_int_equal(rc, MUD_OK);
	} else {
		char where[sizeof(err.where)];

		assert_int_equal(rc, MUD_ERR_REFUSED);
		assert_string_equal(err.text, why);
		snprintf(where, sizeof(where), "url-policy: MUD URL %s", url);
		assert_string_equal(err.where, where);
		assert_true(mud_where_refused(err.where));
	}
	talloc_free(u);
}

static void test_deny_spellings(void **state)
{
	static char const * const entries[] = {
		"denied.example:443", "DENIED.example.", "denied.example:0443", "denied.example",
	};
	static char const * const urls[] = {
		"https://denied.example/x.json", "https://DENIED.EXAMPLE/x.json",
		"https://denied.example:443/x.json", "https://Denied.Example:0443/x.json",
	};
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(entries); i++) {
		mud_urlpolicy_t *pol = policy(*state, NULL, entries[i], true);
		char why[160];

		for (j = 0; j < ARRAY_LEN(urls); j++) {
			snprintf(why, sizeof(why), "authority denied.example:443 is in url_deny "
				 "(entry \"%s\")", entries[i]);
			url_check(*state, pol, urls[j], why);
		}
		/* another host, and a suffix or prefix of the name, are not denied */
		url_check(*state, pol, "https://notdenied.example/x.json", NULL);
		url_check(*state, pol, "https://denied.example.com/x.json", NULL);
		url_check(*state, pol, "https://sub.denied.example/x.json", NULL);
		/* an entry without a port denies every port; with a port, that port only */
		snprintf(why, sizeof(why), "authority denied.example:8443 is in url_deny "
			 "(entry \"%s\")", entries[i]);
		url_check(*state, pol, "https://denied.example:8443/x.json",
			  strchr(entries[i], ':') ? NULL : why);
		talloc_free(pol);
	}
}

static void test_allow_list(void **state)
{
	mud_urlpolicy_t *pol;

	/* an allow entry without a port admits 443 only */
	pol = policy(*state, "mud.example, MUD2.example.:8443 *.vendor.example", NULL, true);
	url_check(*state, pol, "https://mud.example/x.json", NULL);
	url_check(*state, pol, "https://MUD.example:0443/x.json", NULL);
	url_check(*state, pol, "https://mud.example:8443/x.json",
		  "authority mud.example:8443 is not in url_allow");
	url_check(*state, pol, "https://mud2.example:8443/x.json", NULL);
	url_check(*state, pol, "https://mud2.example/x.json",
		  "authority mud2.example:443 is not in url_allow");
	url_check(*state, pol, "https://a.vendor.example/x.json", NULL);
	url_check(*state, pol, "https://a.b.vendor.example/x.json", NULL);
	url_check(*state, pol, "https://vendor.example/x.json",
		  "authority vendor.example:443 is not in url_allow");
	url_check(*state, pol, "https://evilvendor.example/x.json",
		  "authority evilvendor.example:443 is not in url_allow");
	url_check(*state, pol, "https://127.0.0.1/x.json",
		  "authority 127.0.0.1:443 is not in url_allow");
	talloc_free(pol);

	/* deny wins over allow */
	pol = policy(*state, ".example", "bad.example", true);
	url_check(*state, pol, "https://good.example/x.json", NULL);
	url_check(*state, pol, "https://bad.example/x.json",
		  "authority bad.example:443 is in url_deny (entry \"bad.example\")");
	talloc_free(pol);

	/* literal entries match by address: an IPv4-mapped URL host is its IPv4 */
	pol = policy(*state, NULL, "10.1.2.3 [2001:DB8::1]:8443 ::2", true);
	url_check(*state, pol, "https://10.1.2.3/x.json",
		  "authority 10.1.2.3:443 is in url_deny (entry \"10.1.2.3\")");
	url_check(*state, pol, "https://[::ffff:10.1.2.3]/x.json",
		  "authority [::ffff:10.1.2.3]:443 is in url_deny (entry \"10.1.2.3\")");
	url_check(*state, pol, "https://[2001:db8:0::1]:8443/x.json",
		  "authority [2001:db8::1]:8443 is in url_deny (entry \"[2001:DB8::1]:8443\")");
	url_check(*state, pol, "https://[2001:db8::1]/x.json", NULL);
	url_check(*state, pol, "https://[0::2]/x.json",
		  "authority [::2]:443 is in url_deny (entry \"::2\")");
	url_check(*state, pol, "https://10.1.2.4/x.json", NULL);
	talloc_free(pol);
}

static void test_private_literals(void **state)
{
	mud_urlpolicy_t *pol = policy(*state, NULL, NULL, false);
	mud_urlpolicy_t *open_pol = policy(*state, NULL, NULL, true);

	url_check(*state, pol, "https://127.0.0.1/x.json",
		  "host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)");
	url_check(*state, pol, "https://[::1]:8443/x.json",
		  "host is an IP address literal in ::1/128 loopback (RFC 4291)");
	url_check(*state, pol, "https://[::ffff:127.0.0.1]/x.json",
		  "host is an IP address literal in ::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying "
		  "127.0.0.1 in 127.0.0.0/8 loopback (RFC 1122)");
	url_check(*state, pol, "https://[64:ff9b::7f00:1]/x.json",
		  "host is an IP address literal in 64:ff9b::/96 IPv4/IPv6 translation (NAT64) "
		  "(RFC 6052) carrying 127.0.0.1 in 127.0.0.0/8 loopback (RFC 1122)");
	url_check(*state, pol, "https://[::127.0.0.1]/x.json",
		  "host is an IP address literal in ::/96 IPv4-compatible (deprecated) "
		  "(RFC 4291)");
	url_check(*state, pol, "https://[2002:a9fe:a9fe::1]/x.json",
		  "host is an IP address literal in 2002::/16 6to4 (RFC 3056) carrying "
		  "169.254.169.254 in 169.254.0.0/16 link-local (RFC 3927)");
	url_check(*state, pol, "https://100.64.0.1/x.json",
		  "host is an IP address literal in 100.64.0.0/10 shared address space (CGNAT) "
		  "(RFC 6598)");
	/* public literals and names pass the URL check (the address check is at connect) */
	url_check(*state, pol, "https://93.184.216.34/x.json", NULL);
	url_check(*state, pol, "https://[::ffff:93.184.216.34]/x.json", NULL);
	url_check(*state, pol, "https://[64:ff9b::5db8:d822]/x.json", NULL);
	url_check(*state, pol, "https://localhost/x.json", NULL);
	/* a name URL parsers read as an IPv4 address is refused whatever the setting */
	url_check(*state, pol, "https://0x7f.1/x.json", "host \"0x7f.1\" ends in a number but is "
		  "not a dotted-quad IPv4 address (URL parsers read it as one)");
	url_check(*state, open_pol, "https://0x7f.1/x.json", "host \"0x7f.1\" ends in a number "
		  "but is not a dotted-quad IPv4 address (URL parsers read it as one)");

	/* allow_private_urls = yes */
	url_check(*state, open_pol, "https://127.0.0.1/x.json", NULL);
	url_check(*state, open_pol, "https://[::1]/x.json", NULL);
	/* no policy: everything */
	url_check(*state, NULL, "https://127.0.0.1/x.json", NULL);
	talloc_free(pol);
	talloc_free(open_pol);
}

static void test_check_addr(void **state)
{
	mud_urlpolicy_t *pol = policy(*state, NULL, NULL, false);
	mud_urlpolicy_t *open_pol = policy(*state, NULL, NULL, true);
	mud_error_t err = { 0 };
	uint8_t lo[4] = { 127, 0, 0, 1 };
	uint8_t pub[4] = { 93, 184, 216, 34 };
	uint8_t lo6[16] = { [15] = 1 };
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	char why[256];

	assert_int_equal(mud_urlpolicy_check_addr(pol, 4, lo, 443, why, sizeof(why)),
			 MUD_ERR_REFUSED);
	assert_string_equal(why, "host resolves to 127.0.0.1, in 127.0.0.0/8 loopback "
			    "(RFC 1122); not connected");
	assert_int_equal(mud_urlpolicy_check_addr(pol, 6, mapped, 443, why, sizeof(why)),
			 MUD_ERR_REFUSED);
	assert_string_equal(why, "host resolves to ::ffff:127.0.0.1, in ::ffff:0:0/96 "
			    "IPv4-mapped (RFC 4291) carrying 127.0.0.1 in 127.0.0.0/8 loopback "
			    "(RFC 1122); not connected");
	assert_int_equal(mud_urlpolicy_check_addr(pol, 4, pub, 443, why, sizeof(why)), MUD_OK);
	assert_string_equal(why, "");
	assert_int_equal(mud_urlpolicy_check_addr(pol, 5, pub, 443, why, sizeof(why)),
			 MUD_ERR_REFUSED);
	assert_int_equal(mud_urlpolicy_check_addr(pol, 4, NULL, 443, NULL, 0), MUD_ERR_REFUSED);
	assert_int_equal(mud_urlpolicy_check_addr(open_pol, 4, lo, 443, why, sizeof(why)),
			 MUD_OK);
	assert_int_equal(mud_urlpolicy_check_addr(NULL, 4, lo, 443, why, sizeof(why)), MUD_OK);

	/* the test hook: one address and port counts as public, nothing else */
	assert_int_equal(mud_urlpolicy_test_public(pol, "127.0.0.1", 8443, &err), MUD_OK);
	assert_int_equal(mud_urlpolicy_test_public(pol, "::1", 8443, &err), MUD_OK);
	assert_int_equal(mud_urlpolicy_check_addr(pol, 4, lo, 8443, why, sizeof(why)), MUD_OK);
	assert_int_equal(mud_urlpolicy_check_addr(pol, 6, lo6, 8443, why, sizeof(why)), MUD_OK);
	assert_int_equal(mud_urlpolicy_check_addr(pol, 4, lo, 8444, why, sizeof(why)),
			 MUD_ERR_REFUSED);
	assert_int_equal(mud_urlpolicy_check_addr(pol, 6, mapped, 8443, why, sizeof(why)),
			 MUD_ERR_REFUSED);
	url_check(*state, pol, "https://127.0.0.1:8443/x.json", NULL);
	url_check(*state, pol, "https://127.0.0.1:8444/x.json",
		  "host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)");
	assert_int_equal(mud_urlpolicy_test_public(pol, "localhost", 1, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_urlpolicy_test_public(pol, "127.0.0.1", 0, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_urlpolicy_test_public(NULL, "127.0.0.1", 1, &err), MUD_ERR_ARG);
	talloc_free(pol);
	talloc_free(open_pol);
}

static void test_create_errors(void **state)
{
	mud_urlpolicy_t *pol = (mud_urlpolicy_t *)state;
	mud_error_t err = { 0 };
	char *many;
	size_t i;

	assert_int_equal(mud_urlpolicy_create(*state, &pol, "ok.example", "a.example bad:0", false,
					      &err), MUD_ERR_URL);
	assert_null(pol);
	assert_string_equal(err.where, "url_deny entry 2");
	assert_string_equal(err.text, "invalid port in \"bad:0\" (must be 1..65535)");

	mud_error_clear(&err);
	assert_int_equal(mud_urlpolicy_create(*state, &pol, "\tx.example,,caf\xc3\xa9.example",
					      NULL, false, &err), MUD_ERR_URL);
	assert_string_equal(err.where, "url_allow entry 2");
	assert_non_null(strstr(err.text, "A-labels"));

	/* more than MUD_URLPOLICY_MAX_ENTRIES */
	many = talloc_strdup(*state, "");
	for (i = 0; i <= MUD_URLPOLICY_MAX_ENTRIES; i++) {
		many = talloc_asprintf_append(many, "h%zu.example ", i);
	}
	mud_error_clear(&err);
	assert_int_equal(mud_urlpolicy_create(*state, &pol, NULL, many, false, &err),
			 MUD_ERR_LIMIT);
	assert_null(pol);
	talloc_free(many);

	/* empty lists are no lists */
	assert_int_equal(mud_urlpolicy_create(*state, &pol, " , ", "", false, &err), MUD_OK);
	url_check(*state, pol, "https://anything.example/x.json", NULL);
	talloc_free(pol);

	mud_error_clear(&err);
	assert_int_equal(mud_urlpolicy_create(*state, NULL, NULL, NULL, false, &err), MUD_ERR_ARG);
}

static void test_where_refused(void **state)
{
	(void)state;
	assert_true(mud_where_refused("url-policy"));
	assert_true(mud_where_refused("url-policy: MUD URL https://x/"));
	assert_false(mud_where_refused("url-policyx"));
	assert_false(mud_where_refused("url"));
	assert_false(mud_where_refused(""));
	assert_false(mud_where_refused(NULL));
	assert_false(mud_where_refused("https://url-policy/"));
}

#define T(_f) cmocka_unit_test_setup_teardown(_f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_authority_normalise),
		T(test_authority_limits),
		T(test_special_ipv4_edges),
		T(test_special_ipv4_reasons),
		T(test_special_ipv6_edges),
		T(test_special_ipv6_reasons),
		T(test_deny_spellings),
		T(test_allow_list),
		T(test_private_literals),
		T(test_check_addr),
		T(test_create_errors),
		T(test_where_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
