/*
 * test_url.c - MUD URL validation and extraction (LLDP, DHCPv4/v6, Cisco
 * device-sensor AV-pairs, X.509 extensions, certificates) and the signature URL.
 *
 * Certificates are generated at run time with the OpenSSL API (EC P-256,
 * self-signed); nothing is written to disk.
 */
#include "test_common.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define LUMINAIRE_URL	"https://luminaire.example.com/Luminaire_150"

/*
 *	Helpers
 */

/** Expect mud_url_parse() to fail with code, where and a text starting with text. */
static void check_bad(void *ctx, char const *s, size_t len, mud_rcode_t code, char const *where,
		      char const *text)
{
	mud_error_t err;
	mud_url_t *u = (mud_url_t *)(uintptr_t)1;
	mud_rcode_t rc;
	size_t blocks = talloc_total_blocks(ctx);

	mud_error_clear(&err);
	rc = mud_url_parse(ctx, &u, s, len, &err);
	if (rc != code || err.code != code || strcmp(err.where, where) != 0 ||
	    strncmp(err.text, text, strlen(text)) != 0) {
		print_error("input \"%.*s\": got %s where \"%s\" text \"%s\"\n", (int)len, s,
			    mud_rcode_name(rc), err.where, err.text);
	}
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.where, where);
	assert_true(strncmp(err.text, text, strlen(text)) == 0);
	assert_null(u);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

#define BAD(_s, _code, _where, _text) check_bad(ctx, _s, sizeof(_s) - 1, _code, _where, _text)

/** Parse s, expect success, return the URL. */
static mud_url_t *check_good(void *ctx, char const *s, size_t len)
{
	mud_error_t err;
	mud_url_t *u = NULL;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = mud_url_parse(ctx, &u, s, len, &err);
	if (rc != MUD_OK) print_error("input \"%s\": %s (%s)\n", s, err.text, err.where);
	assert_int_equal(rc, MUD_OK);
	assert_int_equal(err.code, MUD_OK);
	assert_non_null(u);
	assert_ptr_equal(talloc_parent(u), ctx);
	return u;
}

#define GOOD(_s) check_good(ctx, _s, sizeof(_s) - 1)

/** Append an 802.1AB TLV header + value to buf at *off. */
static void lldp_put(uint8_t *buf, size_t *off, unsigned int type, size_t len, void const *val,
		     size_t val_len)
{
	buf[*off] = (uint8_t)((type << 1) | ((len >> 8) & 0x01));
	buf[*off + 1] = (uint8_t)(len & 0xff);
	*off += 2;
	if (val_len) memcpy(buf + *off, val, val_len);
	*off += val_len;
}

/** Append a 2-byte type/code, 2-byte length TLV to buf at *off. */
static void tlv16_put(uint8_t *buf, size_t *off, unsigned int type, size_t len, void const *val,
		      size_t val_len)
{
	buf[*off] = (uint8_t)(type >> 8);
	buf[*off + 1] = (uint8_t)type;
	buf[*off + 2] = (uint8_t)(len >> 8);
	buf[*off + 3] = (uint8_t)len;
	*off += 4;
	if (val_len) memcpy(buf + *off, val, val_len);
	*off += val_len;
}

/** OUI 00-00-5E subtype + URL, as the value of the MUD LLDP TLV. */
static size_t mud_org_value(uint8_t *buf, uint8_t subtype, char const *url)
{
	size_t n = strlen(url);

	buf[0] = 0x00;
	buf[1] = 0x00;
	buf[2] = 0x5e;
	buf[3] = subtype;
	memcpy(buf + 4, url, n);
	return n + 4;
}

/** DER IA5String of s (short or long form length). */
static size_t ia5_der(uint8_t *buf, uint8_t tag, char const *s, size_t n)
{
	size_t off = 0;

	buf[off++] = tag;
	if (n < 128) {
		buf[off++] = (uint8_t)n;
	} else if (n < 256) {
		buf[off++] = 0x81;
		buf[off++] = (uint8_t)n;
	} else {
		buf[off++] = 0x82;
		buf[off++] = (uint8_t)(n >> 8);
		buf[off++] = (uint8_t)n;
	}
	memcpy(buf + off, s, n);
	return off + n;
}

/** DER of a Name C=US, O=<org>, CN=<cn> under ctx. */
static uint8_t *name_der(void *ctx, char const *org, char const *cn, size_t *len)
{
	X509_NAME *name = X509_NAME_new();
	unsigned char *enc = NULL;
	uint8_t *out;
	int n;

	assert_non_null(name);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
						    (unsigned char const *)"US", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
						    (unsigned char const *)org, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (unsigned char const *)cn, -1, -1, 0), 1);
	n = i2d_X509_NAME(name, &enc);
	X509_NAME_free(name);
	assert_true(n > 0);
	out = talloc_memdup(ctx, enc, (size_t)n);
	OPENSSL_free(enc);
	*len = (size_t)n;
	return out;
}

/** Add an extension with the raw value bytes val (the extnValue contents). */
static void add_raw_ext(X509 *x, char const *oid, uint8_t const *val, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	assert_non_null(obj);
	assert_non_null(os);
	assert_int_equal(ASN1_OCTET_STRING_set(os, val, (int)len), 1);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

typedef struct {
	uint8_t const	*url_ext;	//!< raw id-pe-mud-url value, NULL: none
	size_t		url_len;
	uint8_t const	*signer_ext;	//!< raw id-pe-mudsigner value, NULL: none
	size_t		signer_len;
	bool		url_twice;	//!< add the URL extension twice
	bool		pem;
	char const	*cn;		//!< subject CN, NULL: "luminaire-0001"
} cert_spec_t;

/** Self-signed EC certificate (DER or PEM) under ctx. */
static uint8_t *make_cert(void *ctx, cert_spec_t const *spec, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	uint8_t *out;

	assert_non_null(key);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (unsigned char const *)(spec->cn ? spec->cn :
									    "luminaire-0001"),
						    -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (spec->url_ext) add_raw_ext(x, "1.3.6.1.5.5.7.1.25", spec->url_ext, spec->url_len);
	if (spec->url_twice) add_raw_ext(x, "1.3.6.1.5.5.7.1.25", spec->url_ext, spec->url_len);
	if (spec->signer_ext) {
		add_raw_ext(x, "1.3.6.1.5.5.7.1.30", spec->signer_ext, spec->signer_len);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);

	if (spec->pem) {
		BIO *bio = BIO_new(BIO_s_mem());
		char *mem;
		long n;

		assert_non_null(bio);
		assert_int_equal(PEM_write_bio_X509(bio, x), 1);
		n = BIO_get_mem_data(bio, &mem);
		assert_true(n > 0);
		out = talloc_memdup(ctx, mem, (size_t)n);
		*len = (size_t)n;
		BIO_free(bio);
	} else {
		unsigned char *enc = NULL;
		int n = i2d_X509(x, &enc);

		assert_true(n > 0);
		out = talloc_memdup(ctx, enc, (size_t)n);
		*len = (size_t)n;
		OPENSSL_free(enc);
	}
	X509_free(x);
	EVP_PKEY_free(key);
	assert_non_null(out);
	return out;
}

/** Certificate with the URL extension holding the DER IA5String of url. */
static uint8_t *make_url_cert(void *ctx, char const *url, bool pem, size_t *len)
{
	uint8_t der[600];
	cert_spec_t spec = { .pem = pem };

	spec.url_len = ia5_der(der, 0x16, url, strlen(url));
	spec.url_ext = der;
	return make_cert(ctx, &spec, len);
}

/*
 *	mud_url_parse: valid
 */

static void test_parse_basic(void **state)
{
	void *ctx = *state;
	mud_url_t *u = GOOD("https://lighting.example.com/lightbulb2000");

	assert_string_equal(u->url, "https://lighting.example.com/lightbulb2000");
	assert_string_equal(u->host, "lighting.example.com");
	assert_string_equal(u->authority, "lighting.example.com");
	assert_int_equal(u->port, 443);
	assert_string_equal(u->path, "/lightbulb2000");
	assert_false(u->host_is_ip);
	assert_ptr_equal(talloc_parent(u->url), u);
	talloc_free(u);
	assert_no_leak(ctx);
}

static void test_parse_case(void **state)
{
	void *ctx = *state;
	mud_url_t *u = GOOD("HTTPS://Lighting.Example.COM:8443/Bulb/X.json");

	assert_string_equal(u->url, "HTTPS://Lighting.Example.COM:8443/Bulb/X.json");
	assert_string_equal(u->host, "lighting.example.com");
	assert_string_equal(u->authority, "lighting.example.com:8443");
	assert_int_equal(u->port, 8443);
	assert_string_equal(u->path, "/Bulb/X.json");
	talloc_free(u);
}

static void test_parse_port(void **state)
{
	void *ctx = *state;
	mud_url_t *u;

	u = GOOD("https://mud.example.com:1/x");
	assert_int_equal(u->port, 1);
	talloc_free(u);
	u = GOOD("https://mud.example.com:65535/x");
	assert_int_equal(u->port, 65535);
	assert_string_equal(u->authority, "mud.example.com:65535");
	talloc_free(u);
	u = GOOD("https://mud.example.com:443");
	assert_int_equal(u->port, 443);
	assert_string_equal(u->path, "/");
	talloc_free(u);
}

static void test_parse_ipv6(void **state)
{
	void *ctx = *state;
	mud_url_t *u = GOOD("https://[2001:DB8::1]:8443/mud/dev.json");

	assert_string_equal(u->host, "2001:db8::1");
	assert_string_equal(u->authority, "[2001:db8::1]:8443");
	assert_int_equal(u->port, 8443);
	assert_true(u->host_is_ip);
	assert_string_equal(u->path, "/mud/dev.json");
	talloc_free(u);

	u = GOOD("https://[::ffff:192.0.2.1]/x");
	assert_string_equal(u->host, "::ffff:192.0.2.1");
	assert_int_equal(u->port, 443);
	assert_true(u->host_is_ip);
	talloc_free(u);
}

static void test_parse_ipv4(void **state)
{
	void *ctx = *state;
	mud_url_t *u = GOOD("https://192.0.2.10:4443/mud");

	assert_string_equal(u->host, "192.0.2.10");
	assert_true(u->host_is_ip);
	assert_int_equal(u->port, 4443);
	talloc_free(u);
}

static void test_parse_query(void **state)
{
	void *ctx = *state;
	mud_url_t *u = GOOD("https://h.example/a.json?v=1&x=%2F%2f");

	assert_string_equal(u->path, "/a.json?v=1&x=%2F%2f");
	assert_string_equal(u->host, "h.example");
	talloc_free(u);

	u = GOOD("https://h.example?x=1");
	assert_string_equal(u->path, "/?x=1");
	assert_string_equal(u->authority, "h.example");
	talloc_free(u);

	u = GOOD("https://h.example");
	assert_string_equal(u->path, "/");
	talloc_free(u);
}

static void test_parse_validate_only(void **state)
{
	void *ctx = *state;
	mud_error_t err;
	char const buf[] = "https://example.com/devXXXX";

	mud_error_clear(&err);
	assert_int_equal(mud_url_parse(ctx, NULL, "https://example.com/", 20, &err), MUD_OK);
	assert_no_leak(ctx);
	/* len, not strlen: the trailing "XXXX" is not part of the URL */
	{
		mud_url_t *u = NULL;

		assert_int_equal(mud_url_parse(ctx, &u, buf, sizeof(buf) - 5, &err), MUD_OK);
		assert_string_equal(u->url, "https://example.com/dev");
		talloc_free(u);
	}
	/* err may be NULL */
	assert_int_equal(mud_url_parse(ctx, NULL, "http://x", 8, NULL), MUD_ERR_URL);
	assert_no_leak(ctx);
}

static void test_parse_max_len(void **state)
{
	void *ctx = *state;
	char *s = talloc_array(ctx, char, MUD_MAX_URL_LEN + 2);
	mud_url_t *u;

	memcpy(s, "https://example.com/", 20);
	memset(s + 20, 'a', MUD_MAX_URL_LEN + 1 - 20);
	u = check_good(ctx, s, MUD_MAX_URL_LEN);
	assert_int_equal(strlen(u->url), MUD_MAX_URL_LEN);
	talloc_free(u);
	check_bad(ctx, s, MUD_MAX_URL_LEN + 1, MUD_ERR_URL, "url", "MUD URL is 1025 bytes");
	talloc_free(s);
}

static void test_parse_real_urls(void **state)
{
	void *ctx = *state;
	static char const *urls[] = {
		"https://amazon.com/dash",
		"https://bms.example.com/.well-known/mud/lightbulb2000",
		"https://controller-class-test.nist.local/super1",
		"https://iot-device.example.com/my-controller",
		"https://iot.example.com/modelX.json",
		"https://mht-technologies.com/lighting//inspextor.json",
		"https://mud-dns-test.antd.nist.gov/super1",
		"https://www.nest.com/thermostat",
		LUMINAIRE_URL,
	};
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		mud_url_t *u = check_good(ctx, urls[i], strlen(urls[i]));

		assert_string_equal(u->url, urls[i]);
		talloc_free(u);
	}
	assert_no_leak(ctx);
}

/*
 *	mud_url_parse: invalid
 */

static void test_parse_bad_scheme(void **state)
{
	void *ctx = *state;

	BAD("http://example.com/x", MUD_ERR_URL, "url", "scheme must be https, not \"http\"");
	BAD("ftp://example.com/x", MUD_ERR_URL, "url", "scheme must be https, not \"ftp\"");
	BAD("file:///etc/passwd", MUD_ERR_URL, "url", "scheme must be https, not \"file\"");
	BAD("javascript:alert(1)", MUD_ERR_URL, "url", "scheme must be https, not \"javascript\"");
	BAD("httpss://example.com/", MUD_ERR_URL, "url", "scheme must be https, not \"httpss\"");
	BAD("example.com/x", MUD_ERR_URL, "url", "scheme must be https, not \"(none)\"");
	BAD("https", MUD_ERR_URL, "url", "scheme must be https, not \"(none)\"");
	BAD("https:", MUD_ERR_URL, "url", "missing \"//\" after https:");
	BAD("https:/example.com/x", MUD_ERR_URL, "url", "missing \"//\" after https:");
	BAD("https:example.com", MUD_ERR_URL, "url", "missing \"//\" after https:");
}

static void test_parse_empty(void **state)
{
	void *ctx = *state;
	mud_error_t err;

	BAD("", MUD_ERR_URL, "url", "empty MUD URL");
	mud_error_clear(&err);
	assert_int_equal(mud_url_parse(ctx, NULL, NULL, 0, &err), MUD_ERR_URL);
	mud_error_clear(&err);
	assert_int_equal(mud_url_parse(ctx, NULL, NULL, 5, &err), MUD_ERR_ARG);
}

static void test_parse_bad_bytes(void **state)
{
	void *ctx = *state;

	BAD("https://example.com/a b", MUD_ERR_URL, "offset 21", "invalid byte 0x20 in MUD URL");
	BAD("https://example.com/a\0b", MUD_ERR_URL, "offset 21", "invalid byte 0x00 in MUD URL");
	BAD("https://example.com/\xc3\xa9", MUD_ERR_URL, "offset 20", "invalid byte 0xc3");
	BAD("https://example.com/\x7f", MUD_ERR_URL, "offset 20", "invalid byte 0x7f");
	BAD("https://example.com/\n", MUD_ERR_URL, "offset 20",
	    "invalid byte 0x0a in MUD URL \"https://example.com/\\x0a\"");
	BAD(" https://example.com/", MUD_ERR_URL, "offset 0", "invalid byte 0x20");
	BAD("https://example.com/a<b", MUD_ERR_URL, "offset 21", "character '<' not allowed");
	BAD("https://example.com/\"x", MUD_ERR_URL, "offset 20", "character '\"' not allowed");
	BAD("https://example.com/{x}", MUD_ERR_URL, "offset 20", "character '{' not allowed");
	BAD("https://example.com/a\\b", MUD_ERR_URL, "offset 21", "character '\\' not allowed");
}

static void test_parse_userinfo_fragment(void **state)
{
	void *ctx = *state;

	BAD("https://user@example.com/", MUD_ERR_URL, "offset 12", "userinfo not allowed");
	BAD("https://user:pw@example.com/", MUD_ERR_URL, "offset 15", "userinfo not allowed");
	BAD("https://example.com/x#frag", MUD_ERR_URL, "offset 21", "fragment not allowed");
	BAD("https://example.com#", MUD_ERR_URL, "offset 19", "fragment not allowed");
	/* '@' in the path is not userinfo */
	talloc_free(GOOD("https://example.com/a@b"));
}

static void test_parse_missing_host(void **state)
{
	void *ctx = *state;

	BAD("https://", MUD_ERR_URL, "offset 8", "missing host");
	BAD("https:///x.json", MUD_ERR_URL, "offset 8", "missing host");
	BAD("https://:443/x", MUD_ERR_URL, "offset 8", "missing host");
	BAD("https://?q=1", MUD_ERR_URL, "offset 8", "missing host");
}

static void test_parse_bad_port(void **state)
{
	void *ctx = *state;

	BAD("https://example.com:0/x", MUD_ERR_URL, "offset 20", "invalid port \"0\"");
	BAD("https://example.com:65536/x", MUD_ERR_URL, "offset 20", "invalid port \"65536\"");
	BAD("https://example.com:abc/x", MUD_ERR_URL, "offset 20", "invalid port \"abc\"");
	BAD("https://example.com:/x", MUD_ERR_URL, "offset 20", "invalid port \"\"");
	BAD("https://example.com:123456/x", MUD_ERR_URL, "offset 20", "invalid port");
	BAD("https://example.com:-1/x", MUD_ERR_URL, "offset 20", "invalid port");
	BAD("https://example.com:44:3/x", MUD_ERR_URL, "offset 20", "invalid port \"44:3\"");
	BAD("https://[::1]:99999/x", MUD_ERR_URL, "offset 14", "invalid port \"99999\"");
}

static void test_parse_bad_percent(void **state)
{
	void *ctx = *state;

	BAD("https://example.com/a%", MUD_ERR_URL, "offset 21", "bad percent escape");
	BAD("https://example.com/a%4", MUD_ERR_URL, "offset 21", "bad percent escape");
	BAD("https://example.com/a%zz", MUD_ERR_URL, "offset 21", "bad percent escape");
	BAD("https://example.com/a?x=%g1", MUD_ERR_URL, "offset 24", "bad percent escape");
}

static void test_parse_bad_host(void **state)
{
	void *ctx = *state;
	char host[300];
	char url[400];
	int n;

	BAD("https://exa*mple.com/", MUD_ERR_URL, "offset 11", "invalid character '*' in host");
	/* '_' is an RFC 3986 reg-name character real generators publish */
	{
		mud_url_t *u = GOOD("https://iot_device.example.com/m");

		assert_string_equal(u->host, "iot_device.example.com");
		talloc_free(u);
	}
	BAD("https://-a.example.com/", MUD_ERR_URL, "offset 8", "label starts with '-'");
	BAD("https://a-.example.com/", MUD_ERR_URL, "offset 9", "label ends with '-'");
	BAD("https://example-/", MUD_ERR_URL, "offset 15", "label ends with '-'");
	BAD("https://a..example.com/", MUD_ERR_URL, "offset 10", "empty label");
	BAD("https://.example.com/", MUD_ERR_URL, "offset 8", "empty label");
	BAD("https://example.com./", MUD_ERR_URL, "offset 20", "empty label");
	BAD("https://999.1.1.1/", MUD_ERR_URL, "offset 8", "invalid IPv4 address");
	BAD("https://1.2.3/", MUD_ERR_URL, "offset 8", "invalid IPv4 address");
	BAD("https://1.2.3.4.5.6.7.8.9.10.11.12/", MUD_ERR_URL, "offset 8", "invalid IPv4");

	/* label of 63 is fine, 64 is not */
	memset(host, 'a', 64);
	n = snprintf(url, sizeof(url), "https://%.63s.com/", host);
	talloc_free(check_good(ctx, url, (size_t)n));
	n = snprintf(url, sizeof(url), "https://%.64s.com/", host);
	check_bad(ctx, url, (size_t)n, MUD_ERR_URL, "offset 71", "label longer than 63 bytes");

	/* 253 total is fine, 254 is not */
	memset(host, 'a', sizeof(host));
	host[63] = '.';
	host[127] = '.';
	host[191] = '.';
	n = snprintf(url, sizeof(url), "https://%.253s/", host);
	talloc_free(check_good(ctx, url, (size_t)n));
	n = snprintf(url, sizeof(url), "https://%.254s/", host);
	check_bad(ctx, url, (size_t)n, MUD_ERR_URL, "offset 8", "host name longer than 253 bytes");
}

static void test_parse_bad_ipv6(void **state)
{
	void *ctx = *state;

	BAD("https://[::g]/", MUD_ERR_URL, "offset 8", "invalid IPv6 literal");
	BAD("https://[]/", MUD_ERR_URL, "offset 8", "invalid IPv6 literal");
	BAD("https://[2001:db8::1/x", MUD_ERR_URL, "offset 8", "unterminated IPv6 literal");
	BAD("https://[::1]x/", MUD_ERR_URL, "offset 13", "unexpected 'x' after IPv6 literal");
	BAD("https://[fe80::1%25eth0]/", MUD_ERR_URL, "offset 8", "invalid IPv6 literal");
	BAD("https://[v1.fe]/", MUD_ERR_URL, "offset 8", "invalid IPv6 literal");
	BAD("https://[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb]/", MUD_ERR_URL,
	    "offset 8", "invalid IPv6 literal");
	BAD("https://::1/", MUD_ERR_URL, "offset 8", "missing host");
}

static void test_parse_first_error_wins(void **state)
{
	void *ctx = *state;
	mud_error_t err;

	mud_error_clear(&err);
	mud_error_set(&err, MUD_ERR_FETCH, "earlier", "first");
	assert_int_equal(mud_url_parse(ctx, NULL, "http://x/", 9, &err), MUD_ERR_URL);
	assert_int_equal(err.code, MUD_ERR_FETCH);
	assert_string_equal(err.where, "earlier");
	assert_string_equal(err.text, "first");
}

/*
 *	LLDP (raw 802.1AB)
 */

static void test_lldp_single(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen = mud_org_value(val, 1, LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_error_t err;

	lldp_put(buf, &off, 127, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	assert_ptr_equal(talloc_parent(u), ctx);
	talloc_free(u);
	/* out may be NULL */
	assert_int_equal(mud_url_from_lldp(ctx, NULL, buf, off, &err), MUD_OK);
	assert_no_leak(ctx);
}

static void test_lldp_multiple(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	uint8_t other[10] = { 0x00, 0x12, 0x0f, 0x01, 0x03, 0x6c, 0x00, 0x00, 0x10 };
	size_t off = 0;
	size_t vlen;
	mud_url_t *u = NULL;
	mud_error_t err;

	lldp_put(buf, &off, 1, 7, "\x04\x00\x11\x22\x33\x44\x55", 7);	/* chassis id */
	lldp_put(buf, &off, 2, 5, "\x07" "eth0", 5);			/* port id */
	lldp_put(buf, &off, 3, 2, "\x00\x78", 2);			/* ttl */
	lldp_put(buf, &off, 127, 9, other, 9);				/* 802.3 org TLV */
	vlen = mud_org_value(val, 2, "https://wrong-subtype.example.com/");
	lldp_put(buf, &off, 127, vlen, val, vlen);
	lldp_put(buf, &off, 127, 3, "\x00\x00\x5e", 3);			/* too short to be MUD */
	vlen = mud_org_value(val, 1, "https://first.example.com/dev.json");
	lldp_put(buf, &off, 127, vlen, val, vlen);
	vlen = mud_org_value(val, 1, "https://second.example.com/dev.json");
	lldp_put(buf, &off, 127, vlen, val, vlen);
	lldp_put(buf, &off, 0, 0, NULL, 0);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, "https://first.example.com/dev.json");
	assert_string_equal(u->host, "first.example.com");
	talloc_free(u);
}

static void test_lldp_end_stops(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen = mud_org_value(val, 1, LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_error_t err;

	lldp_put(buf, &off, 3, 2, "\x00\x78", 2);
	lldp_put(buf, &off, 0, 0, NULL, 0);
	lldp_put(buf, &off, 127, vlen, val, vlen);	/* after End: ignored */
	buf[off++] = 0xff;				/* garbage after End: ignored */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_null(u);
	assert_string_equal(err.where, "lldp");
	assert_string_equal(err.text, "no MUD URL TLV");

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, 0, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");
	assert_no_leak(ctx);
}

static void test_lldp_wrong_oui_subtype(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen = mud_org_value(val, 1, LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_error_t err;

	val[2] = 0x5f;					/* OUI 00-00-5F */
	lldp_put(buf, &off, 127, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");
	assert_null(u);

	off = 0;
	vlen = mud_org_value(val, 0, LUMINAIRE_URL);	/* subtype 0 */
	lldp_put(buf, &off, 127, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");

	off = 0;
	vlen = mud_org_value(val, 1, LUMINAIRE_URL);	/* right value, wrong TLV type */
	lldp_put(buf, &off, 126, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");
	assert_no_leak(ctx);
}

static void test_lldp_truncated(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen = mud_org_value(val, 1, LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_error_t err;

	lldp_put(buf, &off, 3, 2, "\x00\x78", 2);
	lldp_put(buf, &off, 127, vlen, val, vlen);
	/* cut the MUD TLV by one byte */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off - 1, &err), MUD_ERR_TLV);
	assert_null(u);
	assert_string_equal(err.where, "lldp offset 4");
	assert_string_equal(err.text, "LLDP TLV type 127 length 47 exceeds the 46 bytes left");

	/* a lone header byte */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, 5, &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "lldp offset 4");
	assert_string_equal(err.text, "truncated LLDP TLV header (1 byte left)");
	assert_no_leak(ctx);
}

static void test_lldp_length_overflow(void **state)
{
	void *ctx = *state;
	uint8_t buf[16] = { 0xff, 0xff, 0x00, 0x00, 0x5e, 0x01, 'h' };	/* type 127 len 511 */
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, sizeof(buf), &err), MUD_ERR_TLV);
	assert_null(u);
	assert_string_equal(err.where, "lldp offset 0");
	assert_string_equal(err.text, "LLDP TLV type 127 length 511 exceeds the 14 bytes left");
	assert_no_leak(ctx);
}

static void test_lldp_long_url(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[520];
	char url[400];
	size_t off = 0;
	size_t vlen;
	mud_url_t *u = NULL;
	mud_error_t err;

	/* 300-byte URL: the TLV length needs the 9th bit */
	memcpy(url, "https://example.com/", 20);
	memset(url + 20, 'x', 280);
	url[300] = '\0';
	vlen = mud_org_value(val, 1, url);
	lldp_put(buf, &off, 127, vlen, val, vlen);
	assert_int_equal(buf[0], 0xff);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_OK);
	assert_int_equal(strlen(u->url), 300);
	talloc_free(u);
}

static void test_lldp_bad_url(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen = mud_org_value(val, 1, "http://luminaire.example.com/x");
	mud_url_t *u = NULL;
	mud_error_t err;

	lldp_put(buf, &off, 127, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_null(u);
	assert_string_equal(err.text, "scheme must be https, not \"http\"");

	off = 0;
	lldp_put(buf, &off, 127, 4, "\x00\x00\x5e\x01", 4);	/* empty URL */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "empty MUD URL");
	assert_no_leak(ctx);
}

/*
 *	Cisco lldp-tlv= (2-byte type and length)
 */

/* As radclient writes it: "lldp-tlv=\000\177\000/\000\000^\001https://..." */
static uint8_t const cisco_lldp_example[] =
	"\000\177\000/\000\000^\001https://luminaire.example.com/Luminaire_150";

static void test_cisco_lldp_example(void **state)
{
	void *ctx = *state;
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, cisco_lldp_example,
						 sizeof(cisco_lldp_example) - 1, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	assert_string_equal(u->host, "luminaire.example.com");
	assert_string_equal(u->path, "/Luminaire_150");
	talloc_free(u);
	assert_no_leak(ctx);
}

static void test_cisco_lldp_multiple(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	uint8_t val[300];
	size_t off = 0;
	size_t vlen;
	mud_url_t *u = NULL;
	mud_error_t err;

	tlv16_put(buf, &off, 5, 8, "switch-1", 8);		/* system name */
	vlen = mud_org_value(val, 3, "https://other.example.com/");
	tlv16_put(buf, &off, 127, vlen, val, vlen);
	vlen = mud_org_value(val, 1, "https://bulb.example.com/b.json");
	tlv16_put(buf, &off, 127, vlen, val, vlen);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, "https://bulb.example.com/b.json");
	talloc_free(u);

	/* only other TLVs */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, buf, 12, &err), MUD_ERR_URL);
	assert_null(u);
	assert_string_equal(err.where, "lldp-tlv");
	assert_string_equal(err.text, "no MUD URL TLV");
	assert_no_leak(ctx);
}

static void test_cisco_lldp_truncated(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	size_t off = 0;
	mud_url_t *u = NULL;
	mud_error_t err;

	/* the MUD TLV cut short: error */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, cisco_lldp_example, 30, &err),
			 MUD_ERR_TLV);
	assert_null(u);
	assert_string_equal(err.where, "lldp-tlv offset 0");
	assert_string_equal(err.text, "lldp-tlv type 127 length 47 exceeds the 26 bytes left");

	/* MUD TLV header cut after the type */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, cisco_lldp_example, 3, &err),
			 MUD_ERR_TLV);
	assert_string_equal(err.where, "lldp-tlv offset 0");
	assert_string_equal(err.text, "truncated lldp-tlv header (3 bytes left)");

	/* a system description cut by the switch: not the MUD TLV, no error */
	tlv16_put(buf, &off, 6, 400, "Cisco IOS Software", 18);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");

	/* an org TLV with another OUI cut short: not MUD either */
	off = 0;
	tlv16_put(buf, &off, 127, 100, "\x00\x12\x0f\x01", 4);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_lldp(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL TLV");
	assert_no_leak(ctx);
}

/*
 *	DHCPv4
 */

static void test_dhcpv4(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	size_t off = 0;
	size_t n = strlen(LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_error_t err;

	buf[off++] = 0;				/* pad */
	buf[off++] = 53;			/* message type */
	buf[off++] = 1;
	buf[off++] = 1;
	buf[off++] = 0;				/* pad */
	buf[off++] = 12;			/* host name */
	buf[off++] = 4;
	memcpy(buf + off, "bulb", 4);
	off += 4;
	buf[off++] = 161;
	buf[off++] = (uint8_t)n;
	memcpy(buf + off, LUMINAIRE_URL, n);
	off += n;
	buf[off++] = 255;
	buf[off++] = 0x99;			/* after end: ignored */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);
	assert_no_leak(ctx);
}

static void test_dhcpv4_absent(void **state)
{
	void *ctx = *state;
	uint8_t const before_end[] = { 53, 1, 1, 255, 161, 5, 'h', 't', 't', 'p', 's' };
	uint8_t const pads[] = { 0, 0, 0 };
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, before_end, sizeof(before_end), &err),
			 MUD_ERR_URL);
	assert_null(u);
	assert_string_equal(err.where, "dhcpv4");
	assert_string_equal(err.text, "no MUD URL option (161)");

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, pads, sizeof(pads), &err), MUD_ERR_URL);
	assert_string_equal(err.text, "no MUD URL option (161)");
	assert_no_leak(ctx);
}

static void test_dhcpv4_truncated(void **state)
{
	void *ctx = *state;
	uint8_t const longer[] = { 0, 161, 50, 'h', 't', 't', 'p', 's', ':', '/', '/' };
	uint8_t const nolen[] = { 53, 1, 1, 161 };
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, longer, sizeof(longer), &err), MUD_ERR_TLV);
	assert_null(u);
	assert_string_equal(err.where, "dhcpv4 offset 1");
	assert_string_equal(err.text, "DHCPv4 option 161 length 50 exceeds the 8 bytes left");

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, nolen, sizeof(nolen), &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "dhcpv4 offset 3");
	assert_string_equal(err.text, "truncated DHCPv4 option 161 (no length byte)");
	assert_no_leak(ctx);
}

static void test_dhcpv4_split(void **state)
{
	void *ctx = *state;
	uint8_t buf[64];
	size_t off = 0;
	mud_url_t *u = NULL;
	mud_error_t err;

	/* RFC 3396: several instances of one option are concatenated */
	buf[off++] = 161;
	buf[off++] = 12;
	memcpy(buf + off, "https://bulb", 12);
	off += 12;
	buf[off++] = 12;
	buf[off++] = 1;
	buf[off++] = 'x';
	buf[off++] = 161;
	buf[off++] = 14;
	memcpy(buf + off, ".example.com/b", 14);
	off += 14;
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, "https://bulb.example.com/b");
	talloc_free(u);

	/* an empty option 161 */
	buf[0] = 161;
	buf[1] = 0;
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, buf, 2, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "empty MUD URL");
	assert_no_leak(ctx);
}

static void test_dhcpv4_too_long(void **state)
{
	void *ctx = *state;
	uint8_t buf[5 * 257];
	size_t off = 0;
	int i;
	mud_url_t *u = NULL;
	mud_error_t err;

	for (i = 0; i < 5; i++) {
		buf[off++] = 161;
		buf[off++] = 255;
		memset(buf + off, 'a', 255);
		off += 255;
	}
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv4(ctx, &u, buf, off, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "MUD URL longer than 1024 bytes");
	assert_null(u);
	assert_no_leak(ctx);
}

/*
 *	DHCPv6
 */

static void test_dhcpv6(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	size_t off = 0;
	mud_url_t *u = NULL;
	mud_error_t err;

	/* client id, elapsed time */
	tlv16_put(buf, &off, 1, 10, "\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", 10);
	tlv16_put(buf, &off, 8, 2, "\x00\x00", 2);
	tlv16_put(buf, &off, 112, strlen(LUMINAIRE_URL), LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv6(ctx, &u, buf, off, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);

	/* absent */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv6(ctx, &u, buf, 20, &err), MUD_ERR_URL);
	assert_null(u);
	assert_string_equal(err.where, "dhcpv6");
	assert_string_equal(err.text, "no MUD URL option (112)");

	/* truncated option */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv6(ctx, &u, buf, off - 1, &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "dhcpv6 offset 20");
	assert_string_equal(err.text, "dhcpv6 option 112 length 43 exceeds the 42 bytes left");

	/* truncated header */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_dhcpv6(ctx, &u, buf, 22, &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "dhcpv6 offset 20");
	assert_string_equal(err.text, "truncated dhcpv6 option header (2 bytes left)");
	assert_no_leak(ctx);
}

/*
 *	Cisco dhcp-option=
 */

static void test_cisco_dhcp(void **state)
{
	void *ctx = *state;
	uint8_t buf[600];
	size_t off = 0;
	size_t n = strlen(LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_url_src_t src = MUD_SRC_ATTRIBUTE;
	mud_error_t err;

	tlv16_put(buf, &off, 12, 4, "bulb", 4);
	tlv16_put(buf, &off, 161, n, LUMINAIRE_URL, n);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, &src, buf, off, &err), MUD_OK);
	assert_int_equal(src, MUD_SRC_DHCPV4);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);

	off = 0;
	tlv16_put(buf, &off, 112, 20, "https://example.com/", 20);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, &src, buf, off, &err), MUD_OK);
	assert_int_equal(src, MUD_SRC_DHCPV6);
	assert_string_equal(u->url, "https://example.com/");
	talloc_free(u);

	/* src may be NULL */
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, NULL, buf, off, &err), MUD_OK);
	talloc_free(u);

	/* other option only */
	off = 0;
	tlv16_put(buf, &off, 12, 4, "bulb", 4);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, &src, buf, off, &err), MUD_ERR_URL);
	assert_int_equal(src, MUD_SRC_NONE);
	assert_null(u);
	assert_string_equal(err.where, "dhcp-option");
	assert_string_equal(err.text, "no MUD URL option (161 or 112)");

	/* MUD option cut short */
	off = 0;
	tlv16_put(buf, &off, 161, 60, "https://", 8);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, &src, buf, off, &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "dhcp-option offset 0");
	assert_string_equal(err.text, "dhcp-option option 161 length 60 exceeds the 8 bytes left");

	/* bad URL in it */
	off = 0;
	tlv16_put(buf, &off, 161, 13, "ftp://x.com/a", 13);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cisco_dhcp(ctx, &u, &src, buf, off, &err), MUD_ERR_URL);
	assert_int_equal(src, MUD_SRC_NONE);
	assert_string_equal(err.text, "scheme must be https, not \"ftp\"");
	assert_no_leak(ctx);
}

/*
 *	Cisco-AVPair dispatch
 */

static void test_avpair_lldp(void **state)
{
	void *ctx = *state;
	uint8_t buf[128];
	size_t n = sizeof(cisco_lldp_example) - 1;
	mud_url_t *u = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	mud_error_t err;

	memcpy(buf, "lldp-tlv=", 9);
	memcpy(buf + 9, cisco_lldp_example, n);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_avpair(ctx, &u, &src, buf, 9 + n, &err), MUD_OK);
	assert_int_equal(src, MUD_SRC_LLDP);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);

	/* the MUD TLV cut short */
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_avpair(ctx, &u, &src, buf, 9 + 20, &err), MUD_ERR_TLV);
	assert_int_equal(src, MUD_SRC_NONE);
	assert_string_equal(err.where, "lldp-tlv offset 0");
	assert_no_leak(ctx);
}

static void test_avpair_dhcp(void **state)
{
	void *ctx = *state;
	uint8_t buf[128];
	size_t off = 12;
	size_t n = strlen(LUMINAIRE_URL);
	mud_url_t *u = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	mud_error_t err;

	memcpy(buf, "dhcp-option=", 12);
	tlv16_put(buf, &off, 161, n, LUMINAIRE_URL, n);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_avpair(ctx, &u, &src, buf, off, &err), MUD_OK);
	assert_int_equal(src, MUD_SRC_DHCPV4);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);

	off = 12;
	tlv16_put(buf, &off, 112, n, LUMINAIRE_URL, n);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_avpair(ctx, &u, &src, buf, off, &err), MUD_OK);
	assert_int_equal(src, MUD_SRC_DHCPV6);
	talloc_free(u);
	assert_no_leak(ctx);
}

static void check_not_mud(void *ctx, void const *data, size_t len)
{
	mud_url_t *u = NULL;
	mud_url_src_t src = MUD_SRC_LLDP;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_avpair(ctx, &u, &src, data, len, &err), MUD_ERR_NOT_MUD);
	assert_null(u);
	assert_int_equal(src, MUD_SRC_NONE);
	assert_string_equal(err.where, "Cisco-AVPair");
	assert_string_equal(err.text, "not a MUD AV-pair");
	assert_no_leak(ctx);
}

#define NOT_MUD(_s) check_not_mud(ctx, _s, sizeof(_s) - 1)

static void test_avpair_not_mud(void **state)
{
	void *ctx = *state;

	NOT_MUD("aaa:service=ip_admission");
	NOT_MUD("ip:inacl#1=permit ip any any");
	NOT_MUD("");
	NOT_MUD("lldp-tlv");
	NOT_MUD("LLDP-TLV=\000\177\000/\000\000^\001https://luminaire.example.com/Luminaire_150");
	NOT_MUD("cdp-tlv=\000\001\000\010switch-1");
	NOT_MUD("lldp-tlv=");
	NOT_MUD("lldp-tlv=\000\005\000\010switch-1");		/* system name TLV */
	NOT_MUD("lldp-tlv=\000\006\001\000Cisco IOS");		/* cut system description */
	NOT_MUD("dhcp-option=");
	NOT_MUD("dhcp-option=\000\014\000\004bulb");		/* host name option */
	NOT_MUD("dhcp-option=\000\074\000\010MSFT 5.0");	/* vendor class, cut */
	NOT_MUD("dhcp-option=\000\067\000\004\001\003\006\017");	/* parameter list */
	{
		mud_error_t err;

		/* one byte that may start option 161 or 112: malformed, not foreign */
		mud_error_clear(&err);
		assert_int_equal(mud_url_from_avpair(ctx, NULL, NULL,
						     (uint8_t const *)"dhcp-option=\000", 13, &err),
				 MUD_ERR_TLV);
		assert_string_equal(err.where, "dhcp-option offset 0");
		assert_string_equal(err.text, "truncated dhcp-option option header (1 bytes left)");
	}
	NOT_MUD("dhcp-option=\001\241");			/* code 0x01a1, cut header */
	assert_int_equal(mud_url_from_avpair(ctx, NULL, NULL, (uint8_t const *)"x=y", 3, NULL),
			 MUD_ERR_NOT_MUD);
}

/*
 *	X.509 extension values
 */

static void test_x509_ext(void **state)
{
	void *ctx = *state;
	uint8_t der[600];
	char url[300];
	size_t n = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_x509_ext(ctx, &u, der, n, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	assert_ptr_equal(talloc_parent(u), ctx);
	talloc_free(u);

	/* long-form length */
	memcpy(url, "https://example.com/", 20);
	memset(url + 20, 'y', 180);
	n = ia5_der(der, 0x16, url, 200);
	assert_int_equal(der[1], 0x81);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_x509_ext(ctx, &u, der, n, &err), MUD_OK);
	assert_int_equal(strlen(u->url), 200);
	talloc_free(u);
	assert_no_leak(ctx);
}

static void check_ext_bad(void *ctx, uint8_t const *der, size_t len, mud_rcode_t code,
			  char const *where, char const *text)
{
	mud_url_t *u = NULL;
	mud_error_t err;
	size_t blocks = talloc_total_blocks(ctx);

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_x509_ext(ctx, &u, der, len, &err), code);
	assert_null(u);
	assert_string_equal(err.where, where);
	if (strncmp(err.text, text, strlen(text)) != 0) print_error("text: %s\n", err.text);
	assert_true(strncmp(err.text, text, strlen(text)) == 0);
	assert_int_equal(ERR_peek_error(), 0);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

static void test_x509_ext_bad(void **state)
{
	void *ctx = *state;
	uint8_t der[600];
	size_t n;

	n = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	der[n] = 0x00;
	check_ext_bad(ctx, der, n + 1, MUD_ERR_TLV, "id-pe-mud-url",
		      "1 trailing bytes after the IA5String");
	check_ext_bad(ctx, der, n - 1, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
		      "id-pe-mud-url value is not a DER IA5String");
	check_ext_bad(ctx, der, 1, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
		      "id-pe-mud-url value is not a DER IA5String");
	check_ext_bad(ctx, der, 0, MUD_ERR_TLV, "id-pe-mud-url", "empty extension value");
	check_ext_bad(ctx, NULL, 5, MUD_ERR_TLV, "id-pe-mud-url", "empty extension value");

	/* UTF8String, not IA5String */
	n = ia5_der(der, 0x0c, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	check_ext_bad(ctx, der, n, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
		      "id-pe-mud-url value is not a DER IA5String");

	/* the bare URL without DER wrapping */
	check_ext_bad(ctx, (uint8_t const *)LUMINAIRE_URL, strlen(LUMINAIRE_URL), MUD_ERR_TLV,
		      "d2i_ASN1_IA5STRING", "id-pe-mud-url value is not a DER IA5String");

	/* well-formed, but http */
	n = ia5_der(der, 0x16, "http://luminaire.example.com/x", 30);
	check_ext_bad(ctx, der, n, MUD_ERR_URL, "url", "scheme must be https, not \"http\"");

	/* NUL inside the IA5String */
	n = ia5_der(der, 0x16, "https://a.example/\0x", 20);
	check_ext_bad(ctx, der, n, MUD_ERR_URL, "offset 18", "invalid byte 0x00");

	/* oversized */
	memset(der, 0, sizeof(der));
	{
		uint8_t *big = talloc_zero_array(ctx, uint8_t, 20000);

		big[0] = 0x16;
		check_ext_bad(ctx, big, 20000, MUD_ERR_TLV, "id-pe-mud-url",
			      "extension value is 20000 bytes");
		talloc_free(big);
	}
}

/*
 *	Certificates
 */

static void test_cert_der_pem(void **state)
{
	void *ctx = *state;
	size_t len;
	uint8_t *cert;
	mud_url_t *u = NULL;
	mud_error_t err;
	int pem;

	for (pem = 0; pem <= 1; pem++) {
		cert = make_url_cert(ctx, LUMINAIRE_URL, pem, &len);
		if (pem) assert_memory_equal(cert, "-----BEGIN CERTIFICATE-----", 27);
		mud_error_clear(&err);
		assert_int_equal(mud_url_from_cert(ctx, &u, cert, len, &err), MUD_OK);
		assert_string_equal(u->url, LUMINAIRE_URL);
		assert_ptr_equal(talloc_parent(u), ctx);
		talloc_free(u);
		u = NULL;
		assert_int_equal(ERR_peek_error(), 0);
		talloc_free(cert);
	}
	assert_no_leak(ctx);
}

static void check_cert_bad(void *ctx, uint8_t const *cert, size_t len, mud_rcode_t code,
			   char const *where, char const *text)
{
	mud_url_t *u = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cert(ctx, &u, cert, len, &err), code);
	assert_null(u);
	if (strcmp(err.where, where) != 0 || strncmp(err.text, text, strlen(text)) != 0) {
		print_error("where \"%s\" text \"%s\"\n", err.where, err.text);
	}
	assert_int_equal(err.code, code);
	assert_string_equal(err.where, where);
	assert_true(strncmp(err.text, text, strlen(text)) == 0);
	assert_int_equal(ERR_peek_error(), 0);
}

static void test_cert_pem_marker_in_der(void **state)
{
	void *ctx = *state;
	uint8_t der[300];
	cert_spec_t spec = { .pem = false, .cn = "-----BEGIN CERTIFICATE-----" };
	size_t len;
	uint8_t *cert;
	mud_url_t *u = NULL;
	mud_error_t err;

	/* a DER certificate whose subject holds a PEM header is still DER */
	spec.url_len = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	spec.url_ext = der;
	cert = make_cert(ctx, &spec, &len);
	mud_error_clear(&err);
	assert_int_equal(mud_url_from_cert(ctx, &u, cert, len, &err), MUD_OK);
	assert_string_equal(u->url, LUMINAIRE_URL);
	talloc_free(u);
	talloc_free(cert);

	/* PEM after leading text (as "openssl x509 -text" writes it) */
	spec.pem = true;
	spec.cn = NULL;
	cert = make_cert(ctx, &spec, &len);
	{
		char *txt = talloc_asprintf(ctx, "Certificate:\n    Data: ...\n%.*s", (int)len,
					    (char const *)cert);
		size_t tlen = strlen(txt);

		assert_int_equal(mud_url_from_cert(ctx, &u, (uint8_t const *)txt, tlen, &err),
				 MUD_OK);
		assert_string_equal(u->url, LUMINAIRE_URL);
		talloc_free(u);
		talloc_free(txt);
	}
	talloc_free(cert);
	assert_no_leak(ctx);
}

static void test_cert_without_ext(void **state)
{
	void *ctx = *state;
	cert_spec_t spec = { .pem = false };
	size_t len;
	uint8_t *cert;

	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_URL, "id-pe-mud-url",
		       "certificate has no id-pe-mud-url extension");
	talloc_free(cert);
	spec.pem = true;
	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_URL, "id-pe-mud-url",
		       "certificate has no id-pe-mud-url extension");
	talloc_free(cert);
	assert_no_leak(ctx);
}

static void test_cert_bad_ext(void **state)
{
	void *ctx = *state;
	uint8_t der[300];
	cert_spec_t spec = { .pem = true };
	size_t len;
	uint8_t *cert;

	/* UTF8String */
	spec.url_len = ia5_der(der, 0x0c, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	spec.url_ext = der;
	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
		       "id-pe-mud-url value is not a DER IA5String");
	talloc_free(cert);

	/* trailing bytes */
	spec.url_len = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL)) + 2;
	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_TLV, "id-pe-mud-url",
		       "2 trailing bytes after the IA5String");
	talloc_free(cert);

	/* raw URL without DER (a common mistake) */
	spec.url_ext = (uint8_t const *)LUMINAIRE_URL;
	spec.url_len = strlen(LUMINAIRE_URL);
	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_TLV, "d2i_ASN1_IA5STRING",
		       "id-pe-mud-url value is not a DER IA5String");
	talloc_free(cert);

	/* http URL */
	cert = make_url_cert(ctx, "http://luminaire.example.com/x", false, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_URL, "url", "scheme must be https, not \"http\"");
	talloc_free(cert);

	/* the extension twice */
	spec.url_len = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	spec.url_ext = der;
	spec.url_twice = true;
	spec.pem = false;
	cert = make_cert(ctx, &spec, &len);
	check_cert_bad(ctx, cert, len, MUD_ERR_TLV, "id-pe-mud-url",
		       "certificate has the extension twice");
	talloc_free(cert);
	assert_no_leak(ctx);
}

static void test_cert_not_a_cert(void **state)
{
	void *ctx = *state;
	static char const pem_garbage[] =
		"-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n";
	static char const pem_key[] =
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	size_t len;
	uint8_t *cert;
	uint8_t *longer;

	check_cert_bad(ctx, (uint8_t const *)"hello", 5, MUD_ERR_TLV, "d2i_X509",
		       "not a DER certificate");
	check_cert_bad(ctx, (uint8_t const *)pem_garbage, sizeof(pem_garbage) - 1, MUD_ERR_TLV,
		       "PEM_read_bio_X509", "not a PEM certificate");
	check_cert_bad(ctx, (uint8_t const *)pem_key, sizeof(pem_key) - 1, MUD_ERR_TLV,
		       "PEM_read_bio_X509", "not a PEM certificate");
	check_cert_bad(ctx, NULL, 0, MUD_ERR_TLV, "certificate", "empty certificate");

	cert = make_url_cert(ctx, LUMINAIRE_URL, false, &len);
	/* truncated DER */
	check_cert_bad(ctx, cert, len / 2, MUD_ERR_TLV, "d2i_X509", "not a DER certificate");
	/* trailing byte after DER */
	longer = talloc_array(ctx, uint8_t, len + 1);
	memcpy(longer, cert, len);
	longer[len] = 0;
	check_cert_bad(ctx, longer, len + 1, MUD_ERR_TLV, "d2i_X509",
		       "1 trailing bytes after the certificate");
	talloc_free(longer);
	talloc_free(cert);
	assert_no_leak(ctx);
}

/*
 *	mud-signer
 */

static void test_signer(void **state)
{
	void *ctx = *state;
	uint8_t der[300];
	size_t name_len;
	uint8_t *name = name_der(ctx, "Example Mfg", "MUD Signer", &name_len);
	cert_spec_t spec = { .pem = false };
	size_t len;
	uint8_t *cert;
	uint8_t *out = NULL;
	size_t out_len = 0;
	char *text;
	mud_url_t *u = NULL;
	mud_error_t err;
	int pem;

	spec.url_len = ia5_der(der, 0x16, LUMINAIRE_URL, strlen(LUMINAIRE_URL));
	spec.url_ext = der;
	spec.signer_ext = name;
	spec.signer_len = name_len;
	for (pem = 0; pem <= 1; pem++) {
		spec.pem = pem;
		cert = make_cert(ctx, &spec, &len);
		mud_error_clear(&err);
		assert_int_equal(mud_signer_from_cert(ctx, &out, &out_len, cert, len, &err),
				 MUD_OK);
		assert_int_equal(out_len, name_len);
		assert_memory_equal(out, name, name_len);
		assert_ptr_equal(talloc_parent(out), ctx);
		text = mud_signer_to_text(ctx, out, out_len);
		assert_string_equal(text, "CN=MUD Signer,O=Example Mfg,C=US");
		talloc_free(text);
		talloc_free(out);
		out = NULL;
		/* the same certificate still gives the URL */
		assert_int_equal(mud_url_from_cert(ctx, &u, cert, len, &err), MUD_OK);
		assert_string_equal(u->url, LUMINAIRE_URL);
		talloc_free(u);
		talloc_free(cert);
	}

	/* raw extension value */
	mud_error_clear(&err);
	assert_int_equal(mud_signer_from_x509_ext(ctx, &out, &out_len, name, name_len, &err),
			 MUD_OK);
	assert_int_equal(out_len, name_len);
	assert_memory_equal(out, name, name_len);
	talloc_free(out);
	talloc_free(name);
	assert_no_leak(ctx);
}

static void test_signer_absent(void **state)
{
	void *ctx = *state;
	size_t len;
	uint8_t *cert = make_url_cert(ctx, LUMINAIRE_URL, true, &len);
	uint8_t *out = (uint8_t *)(uintptr_t)1;
	size_t out_len = 7;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_signer_from_cert(ctx, &out, &out_len, cert, len, &err), MUD_ERR_URL);
	assert_null(out);
	assert_int_equal(out_len, 0);
	assert_string_equal(err.where, "id-pe-mudsigner");
	assert_string_equal(err.text, "certificate has no id-pe-mudsigner extension");

	mud_error_clear(&err);
	assert_int_equal(mud_signer_from_cert(ctx, &out, &out_len, (uint8_t const *)"junk", 4,
					      &err), MUD_ERR_TLV);
	assert_string_equal(err.where, "d2i_X509");
	talloc_free(cert);
	assert_int_equal(ERR_peek_error(), 0);
	assert_no_leak(ctx);
}

static void check_signer_bad(void *ctx, uint8_t const *ext, size_t len, char const *where,
			     char const *text)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	mud_error_t err;
	size_t blocks = talloc_total_blocks(ctx);

	mud_error_clear(&err);
	assert_int_equal(mud_signer_from_x509_ext(ctx, &out, &out_len, ext, len, &err),
			 MUD_ERR_TLV);
	assert_null(out);
	assert_int_equal(out_len, 0);
	assert_string_equal(err.where, where);
	if (strncmp(err.text, text, strlen(text)) != 0) print_error("text: %s\n", err.text);
	assert_true(strncmp(err.text, text, strlen(text)) == 0);
	assert_int_equal(ERR_peek_error(), 0);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

static void test_signer_bad(void **state)
{
	void *ctx = *state;
	uint8_t der[300];
	size_t name_len;
	uint8_t *name = name_der(ctx, "Example Mfg", "MUD Signer", &name_len);
	uint8_t *longer = talloc_array(ctx, uint8_t, name_len + 3);
	size_t n;
	cert_spec_t spec = { .pem = true };
	size_t len;
	uint8_t *cert;
	uint8_t *out = NULL;
	size_t out_len = 0;
	mud_error_t err;

	n = ia5_der(der, 0x16, "CN=x", 4);
	check_signer_bad(ctx, der, n, "d2i_X509_NAME", "id-pe-mudsigner value is not a DER Name");
	check_signer_bad(ctx, name, name_len - 1, "d2i_X509_NAME",
			 "id-pe-mudsigner value is not a DER Name");
	memcpy(longer, name, name_len);
	memset(longer + name_len, 0xaa, 3);
	check_signer_bad(ctx, longer, name_len + 3, "id-pe-mudsigner",
			 "3 trailing bytes after the Name");
	check_signer_bad(ctx, (uint8_t const *)"\x30\x00", 2, "id-pe-mudsigner",
			 "empty signer Name");
	check_signer_bad(ctx, NULL, 0, "id-pe-mudsigner", "empty extension value");

	/* in a certificate */
	spec.signer_ext = der;
	spec.signer_len = n;
	cert = make_cert(ctx, &spec, &len);
	mud_error_clear(&err);
	assert_int_equal(mud_signer_from_cert(ctx, &out, &out_len, cert, len, &err), MUD_ERR_TLV);
	assert_null(out);
	assert_string_equal(err.where, "d2i_X509_NAME");
	assert_int_equal(ERR_peek_error(), 0);
	talloc_free(cert);
	talloc_free(longer);
	talloc_free(name);
	assert_no_leak(ctx);
}

static void test_signer_text(void **state)
{
	void *ctx = *state;
	size_t len;
	uint8_t *name = name_der(ctx, "Acme, Inc.", "signer+1", &len);
	char *text = mud_signer_to_text(ctx, name, len);

	assert_string_equal(text, "CN=signer\\+1,O=Acme\\, Inc.,C=US");
	talloc_free(text);
	assert_null(mud_signer_to_text(ctx, name, len - 1));
	assert_null(mud_signer_to_text(ctx, (uint8_t const *)"junk", 4));
	assert_null(mud_signer_to_text(ctx, NULL, 0));
	talloc_free(name);
	assert_int_equal(ERR_peek_error(), 0);
	assert_no_leak(ctx);
}

/*
 *	Real files from the Cisco MUD manager luminaire example.
 */

static void check_shared_cert(void *ctx, char const *rel, mud_rcode_t code, char const *where,
			      char const *text)
{
	char *path = test_shared_path(ctx, rel);
	size_t len = 0;
	char *data = test_read_file(ctx, path, &len);

	if (!data) {
		print_error("cannot read %s\n", path);
		fail();
	}
	check_cert_bad(ctx, (uint8_t const *)data, len, code, where, text);
	talloc_free(data);
	talloc_free(path);
}

static void test_luminaire_files(void **state)
{
	void *ctx = *state;
	char *path = test_shared_path(ctx,
				      "mudfiles/cisco-mud-manager/luminaire/fs/Luminaire_150.json");
	size_t len = 0;
	char *json = test_read_file(ctx, path, &len);
	char *sig;
	mud_url_t *u = NULL;
	mud_error_t err;

	check_shared_cert(ctx, "mudfiles/cisco-mud-manager/luminaire/fs/MUD_FS_HTTPS_cert.pem",
			  MUD_ERR_URL, "id-pe-mud-url",
			  "certificate has no id-pe-mud-url extension");
	check_shared_cert(ctx, "mudfiles/cisco-mud-manager/luminaire/luminaire-cacert.pem",
			  MUD_ERR_URL, "id-pe-mud-url",
			  "certificate has no id-pe-mud-url extension");
	/* a CMS signature is not a certificate */
	check_shared_cert(ctx, "mudfiles/cisco-mud-manager/luminaire/fs/Luminaire_150.p7s",
			  MUD_ERR_TLV, "d2i_X509", "not a DER certificate");
	/* a MUD file is not one either */
	check_shared_cert(ctx, "mudfiles/cisco-mud-manager/luminaire/fs/Luminaire_150.json",
			  MUD_ERR_TLV, "d2i_X509", "not a DER certificate");

	assert_non_null(json);
	assert_non_null(strstr(json, "\"mud-url\": \"" LUMINAIRE_URL "\""));
	mud_error_clear(&err);
	assert_int_equal(mud_url_parse(ctx, &u, LUMINAIRE_URL, strlen(LUMINAIRE_URL), &err),
			 MUD_OK);
	sig = mud_url_signature(ctx, u->url, NULL);
	assert_string_equal(sig, LUMINAIRE_URL ".p7s");	/* the file next to it */
	talloc_free(sig);
	talloc_free(u);
	talloc_free(json);
	talloc_free(path);
	assert_no_leak(ctx);
}

/*
 *	Signature URL (RFC 8520 section 13.2)
 */

static void check_sig(void *ctx, char const *url, char const *given, char const *expect)
{
	char *s = mud_url_signature(ctx, url, given);

	assert_non_null(s);
	assert_string_equal(s, expect);
	assert_ptr_equal(talloc_parent(s), ctx);
	talloc_free(s);
}

static void test_signature_url(void **state)
{
	void *ctx = *state;

	check_sig(ctx, "https://a.example/b.json", NULL, "https://a.example/b.p7s");
	check_sig(ctx, "https://a.example/b", NULL, "https://a.example/b.p7s");
	check_sig(ctx, "https://a.example/b.json?x=1", NULL, "https://a.example/b.p7s?x=1");
	check_sig(ctx, "https://a.example/b?x=a.json", NULL, "https://a.example/b.p7s?x=a.json");
	check_sig(ctx, "https://a.example/b.JSON", NULL, "https://a.example/b.JSON.p7s");
	check_sig(ctx, "https://a.example/dir.json/b", NULL, "https://a.example/dir.json/b.p7s");
	check_sig(ctx, "https://a.example/b.json", "https://sig.example/s.p7s",
		  "https://sig.example/s.p7s");
	check_sig(ctx, NULL, "https://sig.example/s.p7s", "https://sig.example/s.p7s");
	check_sig(ctx, ".json", NULL, ".p7s");
	/* no path: never glue the suffix onto the host or port */
	check_sig(ctx, "https://a.example:8443", NULL, "https://a.example:8443/.p7s");
	check_sig(ctx, "https://a.example", NULL, "https://a.example/.p7s");
	check_sig(ctx, "https://a.example?x=1", NULL, "https://a.example/.p7s?x=1");
	check_sig(ctx, "https://a.example.json", NULL, "https://a.example.json/.p7s");
	check_sig(ctx, "https://a.example/", NULL, "https://a.example/.p7s");
	assert_null(mud_url_signature(ctx, NULL, NULL));
	assert_no_leak(ctx);
}

#define T(_f) cmocka_unit_test_setup_teardown(_f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	struct CMUnitTest const tests[] = {
		T(test_parse_basic),
		T(test_parse_case),
		T(test_parse_port),
		T(test_parse_ipv6),
		T(test_parse_ipv4),
		T(test_parse_query),
		T(test_parse_validate_only),
		T(test_parse_max_len),
		T(test_parse_real_urls),
		T(test_parse_bad_scheme),
		T(test_parse_empty),
		T(test_parse_bad_bytes),
		T(test_parse_userinfo_fragment),
		T(test_parse_missing_host),
		T(test_parse_bad_port),
		T(test_parse_bad_percent),
		T(test_parse_bad_host),
		T(test_parse_bad_ipv6),
		T(test_parse_first_error_wins),
		T(test_lldp_single),
		T(test_lldp_multiple),
		T(test_lldp_end_stops),
		T(test_lldp_wrong_oui_subtype),
		T(test_lldp_truncated),
		T(test_lldp_length_overflow),
		T(test_lldp_long_url),
		T(test_lldp_bad_url),
		T(test_cisco_lldp_example),
		T(test_cisco_lldp_multiple),
		T(test_cisco_lldp_truncated),
		T(test_dhcpv4),
		T(test_dhcpv4_absent),
		T(test_dhcpv4_truncated),
		T(test_dhcpv4_split),
		T(test_dhcpv4_too_long),
		T(test_dhcpv6),
		T(test_cisco_dhcp),
		T(test_avpair_lldp),
		T(test_avpair_dhcp),
		T(test_avpair_not_mud),
		T(test_x509_ext),
		T(test_x509_ext_bad),
		T(test_cert_der_pem),
		T(test_cert_pem_marker_in_der),
		T(test_cert_without_ext),
		T(test_cert_bad_ext),
		T(test_cert_not_a_cert),
		T(test_signer),
		T(test_signer_absent),
		T(test_signer_bad),
		T(test_signer_text),
		T(test_luminaire_files),
		T(test_signature_url),
	};

	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
