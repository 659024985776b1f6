/*
 * test_sig.c - mud_trust_load, mud_sig_verify, mud_sha256_hex.
 *
 * mud_trust_check_chain (re-check of a recorded signer chain).
 *
 * Keys and certificates are made at test time by tests/tools/mksig.sh in a
 * mkdtemp() directory that the group teardown removes. The real Luminaire
 * signature from CiscoDevNet/MUD-Manager comes from $SHARED_DIR/mudfiles.
 */
#include "test_common.h"

#include <pthread.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define LUM_DIR		"mudfiles/cisco-mud-manager/luminaire/"
#define LUM_JSON	LUM_DIR "fs/Luminaire_150.json"
#define LUM_P7S		LUM_DIR "fs/Luminaire_150.p7s"
#define LUM_CA		LUM_DIR "luminaire-cacert.pem"
#define LUM_SUBJECT	"CN=luminaire.example.com,O=Demo Luminaire Manufacturer"

/* 2019-01-01T00:00:00Z: all Luminaire certificates valid */
#define T_2019		((time_t)1546300800)
/* 2018-01-01T00:00:00Z: before both notBefore */
#define T_2018_JAN	((time_t)1514764800)

#define SIGNER_SUBJECT	"CN=mud-signer.example.com,O=rlm_mud test"
#define ROGUE_TEXT	"certificate \"CN=mud-signer.example.com,O=rlm_mud rogue\" " \
			"(depth 0): unable to get local issuer certificate at "
#define DIGEST_TEXT	"content does not match the signature (message digest mismatch)"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static char g_dir[64];		/* mkdtemp result; "" when not made */

/** Run a shell command line; 0 on exit status 0. */
static int run(char const *cmd)
{
	int rc = system(cmd);

	if (rc != 0) fprintf(stderr, "test_sig: command failed (%d): %s\n", rc, cmd);
	return rc == 0 ? 0 : -1;
}

/** Path of a file in the generated directory. */
static char *gen_path(void *ctx, char const *name)
{
	return talloc_asprintf(ctx, "%s/%s", g_dir, name);
}

/** Read a generated file (fails the test if absent). */
static uint8_t *gen_read(void *ctx, char const *name, size_t *len)
{
	char *path = gen_path(ctx, name);
	char *buf = test_read_file(ctx, path, len);

	if (!buf) fail_msg("cannot read generated file %s", path);
	talloc_free(path);
	return (uint8_t *)buf;
}

static uint8_t *shared_read(void *ctx, char const *rel, size_t *len)
{
	char *path = test_shared_path(ctx, rel);
	char *buf = test_read_file(ctx, path, len);

	if (!buf) fail_msg("cannot read %s (set SHARED_DIR)", path);
	talloc_free(path);
	return (uint8_t *)buf;
}

static mud_trust_t *trust_file(void *ctx, char const *path)
{
	mud_trust_t *trust = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_trust_load(ctx, &trust, path, NULL, &err) != MUD_OK) {
		fail_msg("mud_trust_load(%s): %s (%s)", path, err.text, err.where);
	}
	assert_non_null(trust);
	return trust;
}

static mud_trust_t *trust_gen(void *ctx, char const *name)
{
	char *path = gen_path(ctx, name);
	mud_trust_t *trust = trust_file(ctx, path);

	talloc_free(path);
	return trust;
}

static mud_trust_t *trust_luminaire(void *ctx)
{
	char *path = test_shared_path(ctx, LUM_CA);
	mud_trust_t *trust = trust_file(ctx, path);

	talloc_free(path);
	return trust;
}

/** Subject of a generated certificate as DER (under ctx). */
static uint8_t *subject_der(void *ctx, char const *pem_name, size_t *len)
{
	char *path = gen_path(ctx, pem_name);
	FILE *fp = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	if (!fp) fail_msg("cannot open %s", path);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!x) fail_msg("no certificate in %s", path);
	n = i2d_X509_NAME(X509_get_subject_name(x), &der);
	X509_free(x);
	assert_true(n > 0);
	out = talloc_memdup(ctx, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	talloc_free(path);
	return out;
}

/** Verify content/sig with trust; check code; the error queue must be empty. */
static mud_rcode_t verify(void *ctx, mud_trust_t *trust, uint8_t const *c, size_t clen,
			  uint8_t const *s, size_t slen, time_t at, uint8_t const *sd, size_t sdlen,
			  char **subject, mud_error_t *err)
{
	mud_rcode_t rc;

	mud_error_clear(err);
	rc = mud_sig_verify(ctx, trust, c, clen, s, slen, at, sd, sdlen, subject, err);
	assert_int_equal(rc, err->code);
	assert_int_equal(ERR_peek_error(), 0);
	if (rc != MUD_OK && subject) assert_null(*subject);
	return rc;
}

/** DER of a generated certificate (under ctx). */
static uint8_t *cert_der(void *ctx, char const *pem_name, size_t *len)
{
	char *path = gen_path(ctx, pem_name);
	FILE *fp = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	if (!fp) fail_msg("cannot open %s", path);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (!x) fail_msg("no certificate in %s", path);
	n = i2d_X509(x, &der);
	X509_free(x);
	assert_true(n > 0);
	out = talloc_memdup(ctx, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	talloc_free(path);
	return out;
}

/** mud_trust_check_chain(); the code is err's, the error queue stays empty. */
static mud_rcode_t check_chain(mud_trust_t *trust, uint8_t const *chain, size_t len, time_t at,
			       mud_error_t *err)
{
	mud_rcode_t rc;

	mud_error_clear(err);
	rc = mud_trust_check_chain(trust, chain, len, at, err);
	assert_int_equal(rc, err->code);
	assert_int_equal(ERR_peek_error(), 0);
	return rc;
}

/* ---------------------------------------------------------------- */

/* A MUD file the pipeline accepts (signed as policy.json by group_setup). */
static char const POLICY_JSON[] = "{\"ietf-mud:mud\":{\"mud-version\":1,"
	"\"mud-url\":\"https://mud.example.com/policy.json\","
	"\"last-update\":\"2024-05-01T10:00:00+00:00\",\"cache-validity\":48,"
	"\"is-supported\":true,\"systeminfo\":\"t\","
	"\"from-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]}}},"
	"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\","
	"\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"d\",\"matches\":"
	"{\"ipv4\":{\"protocol\":17},\"udp\":{\"destination-port\":{\"operator\":\"eq\","
	"\"port\":53}}},\"actions\":{\"forwarding\":\"accept\"}}]}}]}}\n";

/** Write text to path; false on failure. */
static bool write_all(char const *path, char const *text)
{
	FILE *fp = fopen(path, "w");
	bool ok;

	if (!fp) return false;
	ok = fputs(text, fp) >= 0;
	return fclose(fp) == 0 && ok;
}

static int group_setup(void **state)
{
	char *cmd;
	char const *top = getenv("top_srcdir");
	char const *tmp = getenv("TMPDIR");
	int rc = 0;

	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_sig: FAIL: the openssl command-line tool is required "
			"(apt-get install openssl)\n");
		return -1;
	}
	if (!tmp || strlen(tmp) >= 40) tmp = "/tmp";
	snprintf(g_dir, sizeof(g_dir), "%s/test_sig.XXXXXX", tmp);
	if (!mkdtemp(g_dir)) {
		g_dir[0] = '\0';
		fprintf(stderr, "test_sig: FAIL: mkdtemp failed\n");
		return -1;
	}

#define SH(...) do { \
		cmd = talloc_asprintf(NULL, __VA_ARGS__); \
		if (rc == 0) rc = run(cmd); \
		talloc_free(cmd); \
	} while (0)
#define MKSIG "sh '%s/tests/tools/mksig.sh'"
	top = top ? top : ".";
	SH(MKSIG " init '%s'", top, g_dir);
	SH("printf '{\"ietf-mud:mud\": {\"mud-version\": 1}}\\n' > '%s/content.json'", g_dir);
	SH(": > '%s/empty.json'", g_dir);
	cmd = talloc_asprintf(NULL, "%s/policy.json", g_dir);
	if (rc == 0) rc = write_all(cmd, POLICY_JSON) ? 0 : -1;
	talloc_free(cmd);
	SH(MKSIG " sign '%s' signer '%s/policy.json'", top, g_dir, g_dir);
	SH(MKSIG " sign '%s' signer '%s/content.json'", top, g_dir, g_dir);
	SH(MKSIG " sign '%s' signer '%s/empty.json'", top, g_dir, g_dir);
	SH(MKSIG " sign '%s' expired-signer '%s/content.json' '%s/expired.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH(MKSIG " sign '%s' rogue-signer '%s/content.json' '%s/rogue.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH(MKSIG " sign --pem '%s' signer '%s/content.json' '%s/pem.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH(MKSIG " sign --embed '%s' signer '%s/content.json' '%s/embed.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH(MKSIG " sign --nocerts '%s' signer '%s/content.json' '%s/nocerts.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH(MKSIG " sign --certfile '%s/int-ca.pem' '%s' int-signer '%s/policy.json' "
	   "'%s/policy-int.p7s'", top, g_dir, g_dir, g_dir, g_dir);
	SH(MKSIG " sign --nocerts '%s' signer '%s/policy.json' '%s/policy-nocerts.p7s'",
	   top, g_dir, g_dir, g_dir);
	SH("cat '%s/signer-ca.pem' '%s/signer.pem' > '%s/ca-and-signer.pem'", g_dir, g_dir, g_dir);
	/* anchors/: a CA, its c_rehash link, a README, a key and a hidden junk file */
	SH("mkdir '%s/anchors' && cp '%s/signer-ca.pem' '%s/signer.key' '%s/anchors/' && "
	   "openssl rehash '%s/anchors' >/dev/null 2>&1", g_dir, g_dir, g_dir, g_dir, g_dir);
	SH("echo 'MUD signer anchors' > '%s/anchors/README' && "
	   "echo junk > '%s/anchors/.hidden.pem'", g_dir, g_dir);
	SH("mkdir '%s/nocert-dir' && cp '%s/signer.key' '%s/content.json' '%s/nocert-dir/'",
	   g_dir, g_dir, g_dir, g_dir);
	SH("mkdir '%s/bad-dir' && cp '%s/signer-ca.pem' '%s/bad-dir/' && "
	   "printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' "
	   "> '%s/bad-dir/broken.pem'", g_dir, g_dir, g_dir, g_dir);
	SH("cp '%s/bad-dir/broken.pem' '%s/broken.pem'", g_dir, g_dir);
#undef SH
#undef MKSIG
	if (rc != 0) fprintf(stderr, "test_sig: FAIL: could not make test keys with mksig.sh\n");
	return rc;
}

static int group_teardown(void **state)
{
	char *cmd;

	if (!g_dir[0]) return 0;
	cmd = talloc_asprintf(NULL, "rm -rf '%s'", g_dir);
	run(cmd);
	talloc_free(cmd);
	return 0;
}

/* ---------------------------------------------------------------- */
/*	Real data: Luminaire_150 (CiscoDevNet/MUD-Manager)		    */
/* ---------------------------------------------------------------- */

static void test_luminaire_ok(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	size_t jlen, slen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	char *subject = NULL;
	mud_error_t err;

	assert_int_equal(jlen, 4395);
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, &subject, &err),
			 MUD_OK);
	assert_string_equal(subject, LUM_SUBJECT);
	assert_ptr_equal(talloc_parent(subject), ctx);
	talloc_free(subject);

	/* signer_subject is optional */
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_OK);
	/* err is optional */
	assert_int_equal(mud_sig_verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, NULL,
					NULL), MUD_OK);

	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

static void test_luminaire_expired(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	size_t jlen, slen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	char *subject = (char *)"x";
	mud_error_t err;
	char const *want = "certificate \"O=Demo Luminaire Manufacturer\" (depth 1): "
			   "certificate has expired at ";

	/* Now: the CA expired 2019-07-12. */
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, 0, NULL, 0, &subject, &err),
			 MUD_ERR_SIG_EXPIRED);
	assert_string_equal(err.where, "X509_verify_cert");
	assert_memory_equal(err.text, want, strlen(want));

	/* 2020-01-01: fixed time in the message */
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, (time_t)1577836800, NULL, 0,
				&subject, &err), MUD_ERR_SIG_EXPIRED);
	assert_string_equal(err.text, "certificate \"O=Demo Luminaire Manufacturer\" (depth 1): "
			    "certificate has expired at 2020-01-01T00:00:00Z");

	/* Before the certificates were issued. */
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2018_JAN, NULL, 0, &subject,
				&err), MUD_ERR_SIG_EXPIRED);
	assert_non_null(strstr(err.text, "certificate is not yet valid at 2018-01-01T00:00:00Z"));

	/* The same shared trust still verifies at a good time afterwards. */
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_OK);

	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

static void test_luminaire_tampered(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	size_t jlen, slen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	uint8_t *copy = talloc_memdup(ctx, json, jlen + 1);
	char *subject = NULL;
	mud_error_t err;
	size_t i;
	size_t const pos[] = { 0, 1, 100, 2000, 4394 };

	for (i = 0; i < ARRAY_LEN(pos); i++) {
		memcpy(copy, json, jlen);
		copy[pos[i]] ^= 0x01;
		assert_int_equal(verify(ctx, trust, copy, jlen, sig, slen, T_2019, NULL, 0,
					&subject, &err), MUD_ERR_SIG_DIGEST);
		assert_string_equal(err.where, "CMS_verify");
		assert_string_equal(err.text, DIGEST_TEXT);
	}
	/* one byte shorter, one byte longer, empty */
	memcpy(copy, json, jlen);
	copy[jlen] = '\n';
	assert_int_equal(verify(ctx, trust, copy, jlen - 1, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);
	assert_int_equal(verify(ctx, trust, copy, jlen + 1, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);
	assert_int_equal(verify(ctx, trust, NULL, 0, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);

	/* Digest comes before the time check: tampered + expired is DIGEST. */
	copy[10] ^= 0x20;
	assert_int_equal(verify(ctx, trust, copy, jlen, sig, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);

	/* A flipped bit in the signature value itself (last byte of the .p7s). */
	sig[slen - 1] ^= 0x01;
	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);
	assert_string_equal(err.text, "content does not match the signature "
			    "(signature value does not verify with the signer's key)");

	talloc_free(copy);
	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

static void test_luminaire_untrusted(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t jlen, slen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, json, jlen, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	assert_string_equal(err.where, "X509_verify_cert");
	assert_string_equal(err.text, "certificate \"" LUM_SUBJECT "\" (depth 0): "
			    "unable to get local issuer certificate at 2019-01-01T00:00:00Z");

	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

static void test_luminaire_missing(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	size_t jlen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t one = 0x30;
	char *subject = (char *)"x";
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, json, jlen, NULL, 0, T_2019, NULL, 0, &subject, &err),
			 MUD_ERR_SIG_MISSING);
	assert_string_equal(err.text, "no signature");
	assert_int_equal(verify(ctx, trust, json, jlen, &one, 0, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_MISSING);
	assert_int_equal(verify(ctx, trust, json, jlen, NULL, 10, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_MISSING);

	talloc_free(json);
	talloc_free(trust);
}

static void test_luminaire_malformed(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	size_t jlen, slen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	uint8_t *buf = talloc_zero_array(ctx, uint8_t, MUD_MAX_SIG_SIZE + 2);
	char *subject = (char *)"x";
	mud_error_t err;
	size_t cut;
	size_t i;
	static char const pem_bad[] = "-----BEGIN CMS-----\nnot base64 !!\n-----END CMS-----\n";

	assert_int_equal(slen, 843);

	/* garbage */
	for (i = 0; i < 64; i++) buf[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(verify(ctx, trust, json, jlen, buf, 64, T_2019, NULL, 0, &subject, &err),
			 MUD_ERR_SIG);
	assert_string_equal(err.where, "d2i_CMS_ContentInfo");
	assert_memory_equal(err.text, "signature is not a DER CMS structure: ", 38);

	/* every truncation */
	for (cut = 1; cut < slen; cut++) {
		assert_int_equal(verify(ctx, trust, json, jlen, sig, cut, T_2019, NULL, 0, NULL,
					&err), MUD_ERR_SIG);
	}

	/* trailing byte */
	memcpy(buf, sig, slen);
	buf[slen] = 0;
	assert_int_equal(verify(ctx, trust, json, jlen, buf, slen + 1, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG);
	assert_string_equal(err.text, "1 trailing bytes after the CMS structure (offset 843)");

	/* oversized */
	memset(buf, 0x30, MUD_MAX_SIG_SIZE + 1);
	assert_int_equal(verify(ctx, trust, json, jlen, buf, MUD_MAX_SIG_SIZE + 1, T_2019, NULL, 0,
				NULL, &err), MUD_ERR_SIG);
	assert_string_equal(err.text, "signature of 65537 bytes exceeds 65536");

	/* bad PEM */
	assert_int_equal(verify(ctx, trust, json, jlen, (uint8_t const *)pem_bad,
				sizeof(pem_bad) - 1, T_2019, NULL, 0, NULL, &err), MUD_ERR_SIG);
	assert_string_equal(err.where, "PEM_read_bio_CMS");

	/* JSON given as signature */
	assert_int_equal(verify(ctx, trust, json, jlen, json, jlen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_SIG);

	/* bad arguments */
	assert_int_equal(verify(ctx, NULL, json, jlen, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_ARG);
	assert_int_equal(verify(ctx, trust, NULL, 5, sig, slen, T_2019, NULL, 0, NULL, &err),
			 MUD_ERR_ARG);
	assert_int_equal(verify(ctx, trust, json, MUD_MAX_FILE_SIZE + 1, sig, slen, T_2019, NULL, 0,
				NULL, &err), MUD_ERR_TOOBIG);

	talloc_free(buf);
	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

/* ---------------------------------------------------------------- */
/*	Generated signers						    */
/* ---------------------------------------------------------------- */

static void test_fresh_signer(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "content.p7s", &slen);
	char *subject = NULL;
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, &subject, &err), MUD_OK);
	assert_string_equal(subject, SIGNER_SUBJECT);
	talloc_free(subject);

	/* a week from now is fine too */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, time(NULL) + 7 * 86400, NULL, 0, NULL,
				&err), MUD_OK);
	/* in three years the signer has expired */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, time(NULL) + 3 * 366 * 86400, NULL, 0,
				NULL, &err), MUD_ERR_SIG_EXPIRED);
	assert_non_null(strstr(err.text,
			       "\"" SIGNER_SUBJECT "\" (depth 0): certificate has expired"));

	talloc_free(c);
	talloc_free(s);

	/* empty content, NULL pointer */
	c = gen_read(ctx, "empty.json", &clen);
	s = gen_read(ctx, "empty.p7s", &slen);
	assert_int_equal(clen, 0);
	assert_int_equal(verify(ctx, trust, NULL, 0, s, slen, 0, NULL, 0, NULL, &err), MUD_OK);
	assert_int_equal(verify(ctx, trust, (uint8_t const *)"x", 1, s, slen, 0, NULL, 0, NULL,
				&err), MUD_ERR_SIG_DIGEST);

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_expired_signer(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "expired.p7s", &slen);
	mud_error_t err;
	char const *want = "certificate \"CN=expired-signer.example.com,O=rlm_mud test\" "
			   "(depth 0): certificate has expired at ";

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_EXPIRED);
	assert_memory_equal(err.text, want, strlen(want));

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_rogue_signer(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	mud_trust_t *rogue_trust = trust_gen(ctx, "rogue-ca.pem");
	size_t clen, slen, glen, dlen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "rogue.p7s", &slen);
	uint8_t *good = gen_read(ctx, "content.p7s", &glen);
	uint8_t *der = subject_der(ctx, "rogue-signer.pem", &dlen);
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	assert_memory_equal(err.text, ROGUE_TEXT, strlen(ROGUE_TEXT));
	/* the chain is checked before the expected signer name */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, der, dlen, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	/* the rogue signature verifies with the rogue anchor, the good one does not */
	assert_int_equal(verify(ctx, rogue_trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_OK);
	assert_int_equal(verify(ctx, rogue_trust, c, clen, good, glen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);

	talloc_free(der);
	talloc_free(c);
	talloc_free(s);
	talloc_free(good);
	talloc_free(trust);
	talloc_free(rogue_trust);
}

static void test_tampered(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "content.p7s", &slen);
	mud_error_t err;

	c[clen / 2] ^= 0x04;
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);
	assert_string_equal(err.text, DIGEST_TEXT);
	/* tampered content with an expired signer is still DIGEST (checked first) */
	talloc_free(s);
	s = gen_read(ctx, "expired.p7s", &slen);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_signer_der(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen, dlen, olen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "content.p7s", &slen);
	uint8_t *der = subject_der(ctx, "signer.pem", &dlen);
	uint8_t *other = subject_der(ctx, "rogue-signer.pem", &olen);
	uint8_t *ca = NULL;
	size_t calen;
	char *subject = NULL;
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, der, dlen, &subject, &err),
			 MUD_OK);
	assert_string_equal(subject, SIGNER_SUBJECT);
	talloc_free(subject);

	/* same CN, different O */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, other, olen, &subject, &err),
			 MUD_ERR_SIG_SIGNER);
	assert_string_equal(err.where, "mud-signer");
	assert_string_equal(err.text, "signed by \"" SIGNER_SUBJECT "\", device requires "
			    "\"CN=mud-signer.example.com,O=rlm_mud rogue\"");

	/* the issuing CA's name is not the signer's */
	ca = subject_der(ctx, "signer-ca.pem", &calen);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, ca, calen, NULL, &err),
			 MUD_ERR_SIG_SIGNER);

	/* malformed expected name: truncated, trailing byte, garbage */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, der, dlen - 1, NULL, &err),
			 MUD_ERR_SIG_SIGNER);
	assert_string_equal(err.where, "d2i_X509_NAME");
	der = talloc_realloc(ctx, der, uint8_t, dlen + 1);
	der[dlen] = 0;
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, der, dlen + 1, NULL, &err),
			 MUD_ERR_SIG_SIGNER);
	assert_string_equal(err.text, "expected signer (mud-signer) has 1 trailing bytes");
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, (uint8_t const *)"\x04\x01\x00", 3,
				NULL, &err), MUD_ERR_SIG_SIGNER);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, der, 0, NULL, &err),
			 MUD_ERR_SIG_SIGNER);

	talloc_free(ca);
	talloc_free(der);
	talloc_free(other);
	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

/* The pipeline records the verified signer as DER and the compile tag; the cache's check
 * (mud_entry_signer_ok) decides as the signature check does; a device's mud-signer needs a
 * signature even where a missing one is tolerated. */
static void test_policy_signer(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen, dlen, olen;
	uint8_t *c = gen_read(ctx, "policy.json", &clen);
	uint8_t *s = gen_read(ctx, "policy.p7s", &slen);
	uint8_t *der = subject_der(ctx, "signer.pem", &dlen);
	uint8_t *other = subject_der(ctx, "rogue-signer.pem", &olen);
	char const *url = "https://mud.example.com/policy.json";
	mud_policy_opts_t opts;
	mud_policy_t *pol = NULL;
	mud_entry_t e;
	mud_error_t err;

	memset(&opts, 0, sizeof(opts));
	opts.trust = trust;
	opts.require_signature = true;
	opts.format = MUD_FMT_CISCO_DACL;
	opts.compile_tag = "ctx=1";
	mud_error_clear(&err);
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, s, slen, &opts, &err),
			 MUD_OK);
	assert_string_equal(pol->signer, SIGNER_SUBJECT);
	assert_int_equal(pol->signer_der_len, dlen);
	assert_memory_equal(pol->signer_der, der, dlen);
	assert_string_equal(pol->compile_tag, "ctx=1");
	assert_int_equal(ERR_peek_error(), 0);
	/* the bytes it was made from, copied under pol (the caller's buffers stay theirs) */
	assert_int_equal(pol->file_len, clen);
	assert_memory_equal(pol->file_bytes, c, clen);
	assert_ptr_not_equal(pol->file_bytes, c);
	assert_int_equal(pol->file_bytes[clen], '\0');
	assert_ptr_equal(talloc_parent(pol->file_bytes), pol);
	assert_int_equal(pol->sig_len, slen);
	assert_memory_equal(pol->sig_bytes, s, slen);
	assert_ptr_equal(talloc_parent(pol->sig_bytes), pol);
	assert_false(pol->recompiled);

	/* the cache's comparison agrees with the signature check's, both ways */
	memset(&e, 0, sizeof(e));
	e.signer_der = pol->signer_der;
	e.signer_der_len = pol->signer_der_len;
	assert_true(mud_entry_signer_ok(&e, der, dlen));
	assert_false(mud_entry_signer_ok(&e, other, olen));
	assert_int_equal(ERR_peek_error(), 0);
	TALLOC_FREE(pol);
	opts.signer_der = der;
	opts.signer_der_len = dlen;
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, s, slen, &opts, &err),
			 MUD_OK);
	TALLOC_FREE(pol);
	opts.signer_der = other;
	opts.signer_der_len = olen;
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, s, slen, &opts, &err),
			 MUD_ERR_SIG_SIGNER);
	assert_null(pol);

	/* missing signatures tolerated: not for a device that names its signer */
	opts.require_signature = false;
	opts.compile_tag = NULL;
	opts.signer_der = NULL;
	mud_error_clear(&err);
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, NULL, 0, &opts, &err),
			 MUD_OK);
	assert_null(pol->signer_der);
	assert_string_equal(pol->compile_tag, "");
	assert_memory_equal(pol->file_bytes, c, clen);
	assert_null(pol->sig_bytes);			/* none given: none kept */
	assert_int_equal(pol->sig_len, 0);
	TALLOC_FREE(pol);
	opts.signer_der = der;
	mud_error_clear(&err);
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, NULL, 0, &opts, &err),
			 MUD_ERR_SIG_MISSING);
	assert_null(pol);
	/* no trust anchors: nothing is checked, nothing recorded */
	opts.trust = NULL;
	assert_int_equal(mud_policy_from_bytes(ctx, &pol, url, c, clen, s, slen, &opts, &err),
			 MUD_OK);
	assert_null(pol->signer_der);

	talloc_free(pol);
	talloc_free(der);
	talloc_free(other);
	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_pem_cms(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "pem.p7s", &slen);
	char *subject = NULL;
	mud_error_t err;

	assert_memory_equal(s, "-----BEGIN CMS-----", 19);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, &subject, &err), MUD_OK);
	assert_string_equal(subject, SIGNER_SUBJECT);
	talloc_free(subject);

	c[0] ^= 0x01;
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_DIGEST);

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_embedded_rejected(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "embed.p7s", &slen);
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err), MUD_ERR_SIG);
	assert_string_equal(err.where, "CMS_is_detached");
	assert_string_equal(err.text, "signature is not detached");

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

static void test_nocerts(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	mud_trust_t *both = trust_gen(ctx, "ca-and-signer.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "nocerts.p7s", &slen);
	char *subject = NULL;
	mud_error_t err;

	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	assert_string_equal(err.where, "CMS_verify");
	assert_string_equal(err.text,
			    "signer certificate is neither in the signature nor a trust anchor");

	/* the signer certificate configured as an anchor is found */
	assert_int_equal(verify(ctx, both, c, clen, s, slen, 0, NULL, 0, &subject, &err), MUD_OK);
	assert_string_equal(subject, SIGNER_SUBJECT);
	talloc_free(subject);

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
	talloc_free(both);
}

static void test_leaf_anchor(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer.pem");
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "content.p7s", &slen);
	mud_error_t err;

	/* a pinned signer certificate (not self-signed) is a valid anchor */
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err), MUD_OK);
	talloc_free(s);
	s = gen_read(ctx, "rogue.p7s", &slen);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);

	talloc_free(c);
	talloc_free(s);
	talloc_free(trust);
}

/* ---------------------------------------------------------------- */
/*	Recorded signer chains (mud_trust_check_chain)			    */
/* ---------------------------------------------------------------- */

/** The pipeline (policy.json signed by sig_name with trust) and its recorded chain. */
static mud_policy_t *chain_policy(void *ctx, mud_trust_t *trust, char const *sig_name)
{
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "policy.json", &clen);
	uint8_t *s = gen_read(ctx, sig_name, &slen);
	mud_policy_opts_t opts;
	mud_policy_t *pol = NULL;
	mud_error_t err;

	memset(&opts, 0, sizeof(opts));
	opts.trust = trust;
	opts.require_signature = true;
	opts.format = MUD_FMT_CISCO_DACL;
	mud_error_clear(&err);
	if (mud_policy_from_bytes(ctx, &pol, "https://mud.example.com/policy.json", c, clen, s,
				  slen, &opts, &err) != MUD_OK) {
		fail_msg("mud_policy_from_bytes(%s): %s (%s)", sig_name, err.text, err.where);
	}
	talloc_free(c);
	talloc_free(s);
	return pol;
}

/** A verified signature records the signer certificate first, then the signature's other
 *  certificates; re-checked against the same anchors it chains, against others it does not,
 *  with the same code and text as the signature check. */
static void test_chain_recorded(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	mud_trust_t *rogue = trust_gen(ctx, "rogue-ca.pem");
	mud_trust_t *pinned = trust_gen(ctx, "ca-and-signer.pem");
	mud_policy_t *pol;
	size_t slen, clen, plen;
	uint8_t *signer = cert_der(ctx, "signer.pem", &slen);
	uint8_t *c = gen_read(ctx, "policy.json", &clen);
	uint8_t *p7s = gen_read(ctx, "policy.p7s", &plen);
	mud_error_t err;
	mud_error_t sigerr;
	time_t now = time(NULL);

	pol = chain_policy(ctx, trust, "policy.p7s");
	assert_non_null(pol->signer_chain);
	assert_int_equal(pol->signer_chain_len, slen);		/* one certificate carried */
	assert_memory_equal(pol->signer_chain, signer, slen);
	assert_true(talloc_is_parent(pol->signer_chain, pol));

	assert_int_equal(check_chain(trust, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_OK);
	assert_int_equal(check_chain(trust, pol->signer_chain, pol->signer_chain_len, 0, &err),
			 MUD_OK);
	/* CA removed (another CA configured): the same verdict as the signature check's */
	assert_int_equal(check_chain(rogue, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	assert_int_equal(verify(ctx, rogue, c, clen, p7s, plen, now, NULL, 0, NULL, &sigerr),
			 MUD_ERR_SIG_UNTRUSTED);
	assert_string_equal(err.text, sigerr.text);
	assert_string_equal(err.where, sigerr.where);
	/* at a time the signer was not valid: expired, as the signature check says */
	assert_int_equal(check_chain(trust, pol->signer_chain, pol->signer_chain_len,
				     now + 3 * 366 * 86400, &err), MUD_ERR_SIG_EXPIRED);
	assert_int_equal(verify(ctx, trust, c, clen, p7s, plen, now + 3 * 366 * 86400, NULL, 0,
				NULL, &sigerr), MUD_ERR_SIG_EXPIRED);
	assert_string_equal(err.text, sigerr.text);
	TALLOC_FREE(pol);

	/* a signature without certificates, its signer pinned as an anchor: the chain is the
	 * anchor's certificate; without that anchor it no longer chains */
	pol = chain_policy(ctx, pinned, "policy-nocerts.p7s");
	assert_int_equal(pol->signer_chain_len, slen);
	assert_memory_equal(pol->signer_chain, signer, slen);
	assert_int_equal(check_chain(pinned, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_OK);
	assert_int_equal(check_chain(rogue, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	TALLOC_FREE(pol);

	/* not verified (no anchors configured): no chain */
	pol = chain_policy(ctx, NULL, "policy.p7s");
	assert_null(pol->signer_chain);
	assert_int_equal(pol->signer_chain_len, 0);
	TALLOC_FREE(pol);

	talloc_free(signer);
	talloc_free(c);
	talloc_free(p7s);
	talloc_free(trust);
	talloc_free(rogue);
	talloc_free(pinned);
}

/** A signer under an intermediate CA carried by the signature: the chain holds both; it
 *  chains to the root, or to the intermediate alone (partial chains, as the signature
 *  check allows), not without the intermediate. */
static void test_chain_intermediate(void **state)
{
	void *ctx = *state;
	mud_trust_t *root = trust_gen(ctx, "signer-ca.pem");
	mud_trust_t *inter = trust_gen(ctx, "int-ca.pem");
	mud_trust_t *rogue = trust_gen(ctx, "rogue-ca.pem");
	mud_policy_t *pol;
	size_t slen, ilen;
	uint8_t *signer = cert_der(ctx, "int-signer.pem", &slen);
	uint8_t *ica = cert_der(ctx, "int-ca.pem", &ilen);
	mud_error_t err;
	time_t now = time(NULL);

	pol = chain_policy(ctx, root, "policy-int.p7s");
	assert_string_equal(pol->signer, "CN=int-signer.example.com,O=rlm_mud test");
	assert_int_equal(pol->signer_chain_len, slen + ilen);
	assert_memory_equal(pol->signer_chain, signer, slen);
	assert_memory_equal(pol->signer_chain + slen, ica, ilen);

	assert_int_equal(check_chain(root, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_OK);
	assert_int_equal(check_chain(inter, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_OK);
	assert_int_equal(check_chain(rogue, pol->signer_chain, pol->signer_chain_len, now, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	/* the signer alone does not reach the root */
	assert_int_equal(check_chain(root, signer, slen, now, &err), MUD_ERR_SIG_UNTRUSTED);
	assert_non_null(strstr(err.text, "unable to get local issuer certificate"));

	talloc_free(pol);
	talloc_free(signer);
	talloc_free(ica);
	talloc_free(root);
	talloc_free(inter);
	talloc_free(rogue);
}

/** Malformed chains are MUD_ERR_ARG, never a crash, never a pass. */
static void test_chain_malformed(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_gen(ctx, "signer-ca.pem");
	size_t slen;
	uint8_t *signer = cert_der(ctx, "signer.pem", &slen);
	uint8_t *buf;
	size_t i;
	mud_error_t err;
	time_t now = time(NULL);

	assert_int_equal(check_chain(trust, NULL, 0, now, &err), MUD_ERR_ARG);
	assert_int_equal(check_chain(trust, signer, 0, now, &err), MUD_ERR_ARG);
	assert_int_equal(check_chain(NULL, signer, slen, now, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "no trust anchors");
	/* truncated, garbage, trailing bytes */
	assert_int_equal(check_chain(trust, signer, slen - 1, now, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "d2i_X509");
	assert_non_null(strstr(err.text, "certificate 1 of the chain is not DER"));
	assert_int_equal(check_chain(trust, (uint8_t const *)"\x30\x03\x02\x01\x00", 5, now, &err),
			 MUD_ERR_ARG);
	buf = talloc_array(ctx, uint8_t, slen + 3);
	memcpy(buf, signer, slen);
	memcpy(buf + slen, "\x30\x01\x00", 3);
	assert_int_equal(check_chain(trust, buf, slen + 3, now, &err), MUD_ERR_ARG);
	assert_non_null(strstr(err.text, "certificate 2 of the chain is not DER"));
	TALLOC_FREE(buf);
	/* too long: more than MUD_SIGNER_CHAIN_CERTS certificates, more than the byte bound */
	buf = talloc_array(ctx, uint8_t, slen * (MUD_SIGNER_CHAIN_CERTS + 1));
	for (i = 0; i < MUD_SIGNER_CHAIN_CERTS + 1; i++) memcpy(buf + i * slen, signer, slen);
	assert_int_equal(check_chain(trust, buf, slen * MUD_SIGNER_CHAIN_CERTS, now, &err),
			 MUD_OK);
	assert_int_equal(check_chain(trust, buf, slen * (MUD_SIGNER_CHAIN_CERTS + 1), now, &err),
			 MUD_ERR_ARG);
	assert_non_null(strstr(err.text, "more than 16 certificates"));
	TALLOC_FREE(buf);
	buf = talloc_zero_array(ctx, uint8_t, MUD_SIGNER_CHAIN_MAX + 1);
	memcpy(buf, signer, slen);
	assert_int_equal(check_chain(trust, buf, MUD_SIGNER_CHAIN_MAX + 1, now, &err),
			 MUD_ERR_ARG);
	TALLOC_FREE(buf);

	talloc_free(signer);
	talloc_free(trust);
}

static void test_trust_dir(void **state)
{
	void *ctx = *state;
	char *dir = gen_path(ctx, "anchors");
	mud_trust_t *trust = NULL;
	size_t clen, slen;
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *s = gen_read(ctx, "content.p7s", &slen);
	char *lum = test_shared_path(ctx, LUM_CA);
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, NULL, dir, &err), MUD_OK);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err), MUD_OK);
	talloc_free(s);
	s = gen_read(ctx, "rogue.p7s", &slen);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err),
			 MUD_ERR_SIG_UNTRUSTED);
	talloc_free(trust);
	talloc_free(s);

	/* file and directory together */
	trust = NULL;
	assert_int_equal(mud_trust_load(ctx, &trust, lum, dir, &err), MUD_OK);
	s = gen_read(ctx, "content.p7s", &slen);
	assert_int_equal(verify(ctx, trust, c, clen, s, slen, 0, NULL, 0, NULL, &err), MUD_OK);

	talloc_free(trust);

	/* a directory without certificates, one with a broken PEM file */
	talloc_free(dir);
	dir = gen_path(ctx, "nocert-dir");
	trust = NULL;
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, NULL, dir, &err), MUD_ERR_ARG);
	assert_null(trust);
	assert_string_equal(err.where, dir);
	assert_string_equal(err.text, "no PEM certificate in the trust anchor directory");
	assert_int_equal(ERR_peek_error(), 0);

	talloc_free(dir);
	dir = gen_path(ctx, "bad-dir");
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, lum, dir, &err), MUD_ERR_ARG);
	assert_null(trust);
	assert_string_equal(err.where, "PEM_X509_INFO_read_bio");
	assert_non_null(strstr(err.text, "/bad-dir/broken.pem: "));
	assert_int_equal(ERR_peek_error(), 0);

	talloc_free(lum);
	talloc_free(dir);
	talloc_free(c);
	talloc_free(s);
}

static void test_trust_errors(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = (mud_trust_t *)ctx;	/* must be set to NULL */
	char *missing = gen_path(ctx, "no-such-file.pem");
	char *nocert = gen_path(ctx, "content.json");
	char *empty = gen_path(ctx, "empty.json");
	char *keyonly = gen_path(ctx, "signer.key");
	char *notdir = gen_path(ctx, "signer.pem");
	char *missing_dir = gen_path(ctx, "no-such-dir");
	char *broken = gen_path(ctx, "broken.pem");
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, NULL, NULL, &err), MUD_ERR_ARG);
	assert_null(trust);
	assert_string_equal(err.text, "neither a trust anchor file nor a directory given");
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, "", "", &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, NULL, missing, NULL, &err), MUD_ERR_ARG);

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, missing, NULL, &err), MUD_ERR_IO);
	assert_null(trust);
	assert_string_equal(err.where, "BIO_new_file");
	assert_memory_equal(err.text, missing, strlen(missing));
	assert_int_equal(ERR_peek_error(), 0);

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, nocert, NULL, &err), MUD_ERR_ARG);
	assert_null(trust);
	assert_string_equal(err.where, nocert);
	assert_string_equal(err.text, "no PEM certificate in the trust anchor file");
	assert_int_equal(ERR_peek_error(), 0);

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, broken, NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "PEM_X509_INFO_read_bio");
	assert_null(trust);
	assert_int_equal(ERR_peek_error(), 0);

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, empty, NULL, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, keyonly, NULL, &err), MUD_ERR_ARG);
	assert_null(trust);

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, NULL, missing_dir, &err), MUD_ERR_IO);
	assert_string_equal(err.where, missing_dir);
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, NULL, notdir, &err), MUD_ERR_IO);
	/* a good file does not excuse a bad directory */
	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, notdir, missing_dir, &err), MUD_ERR_IO);
	assert_null(trust);
	assert_int_equal(ERR_peek_error(), 0);

	/* NULL err is fine */
	assert_int_equal(mud_trust_load(ctx, &trust, missing, NULL, NULL), MUD_ERR_IO);

	talloc_free(missing);
	talloc_free(nocert);
	talloc_free(empty);
	talloc_free(keyonly);
	talloc_free(notdir);
	talloc_free(missing_dir);
	talloc_free(broken);
}

/* One trust, many threads, different evaluation times (the store is shared). */
typedef struct {
	mud_trust_t	*trust;
	uint8_t const	*json;
	size_t		jlen;
	uint8_t const	*sig;
	size_t		slen;
	time_t		at;
	mud_rcode_t	want;
	int		bad;
} thread_arg_t;

static void *thread_run(void *p)
{
	thread_arg_t *a = p;
	mud_error_t err;
	int i;

	for (i = 0; i < 40; i++) {
		mud_error_clear(&err);
		if (mud_sig_verify(NULL, a->trust, a->json, a->jlen, a->sig, a->slen, a->at,
				   NULL, 0, NULL, &err) != a->want) a->bad++;
		if (ERR_peek_error() != 0) a->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	void *ctx = *state;
	mud_trust_t *trust = trust_luminaire(ctx);
	mud_trust_t *dtrust = NULL;
	char *dir = gen_path(ctx, "anchors");
	size_t jlen, slen, clen, cslen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	uint8_t *sig = shared_read(ctx, LUM_P7S, &slen);
	uint8_t *c = gen_read(ctx, "content.json", &clen);
	uint8_t *cs = gen_read(ctx, "content.p7s", &cslen);
	thread_arg_t args[8];
	pthread_t tid[8];
	size_t i;

	assert_int_equal(mud_trust_load(ctx, &dtrust, NULL, dir, NULL), MUD_OK);
	for (i = 0; i < ARRAY_LEN(args); i++) {
		args[i] = (thread_arg_t){ .trust = trust, .json = json, .jlen = jlen, .sig = sig,
					  .slen = slen };
		if (i >= 6) {
			/* a fresh signer against the directory-loaded anchors */
			args[i] = (thread_arg_t){ .trust = dtrust, .json = c, .jlen = clen,
						  .sig = cs, .slen = cslen, .at = 0,
						  .want = MUD_OK };
			assert_int_equal(pthread_create(&tid[i], NULL, thread_run, &args[i]), 0);
			continue;
		}
		switch (i % 3) {
		case 0:
			args[i].at = T_2019;
			args[i].want = MUD_OK;
			break;
		case 1:
			args[i].at = 0;
			args[i].want = MUD_ERR_SIG_EXPIRED;
			break;
		default:
			args[i].at = T_2018_JAN;
			args[i].want = MUD_ERR_SIG_EXPIRED;
			break;
		}
		assert_int_equal(pthread_create(&tid[i], NULL, thread_run, &args[i]), 0);
	}
	for (i = 0; i < ARRAY_LEN(args); i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(args[i].bad, 0);
	}

	talloc_free(dir);
	talloc_free(c);
	talloc_free(cs);
	talloc_free(dtrust);
	talloc_free(json);
	talloc_free(sig);
	talloc_free(trust);
}

#define SHA_ABC		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_448		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define SHA_LUMINAIRE	"d10f8034a681f03b57a98fbc94f08094aae1ae765037d34e10388a7f9fa8a1dc"

static void test_sha256(void **state)
{
	char hex[65];

	/* FIPS 180-2 vectors */
	mud_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, SHA_ABC);
	mud_sha256_hex(hex, "", 0);
	assert_string_equal(hex, SHA_EMPTY);
	mud_sha256_hex(hex, NULL, 0);
	assert_string_equal(hex, SHA_EMPTY);
	mud_sha256_hex(hex, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	assert_string_equal(hex, SHA_448);
}

static void test_sha256_luminaire(void **state)
{
	void *ctx = *state;
	size_t jlen;
	uint8_t *json = shared_read(ctx, LUM_JSON, &jlen);
	char hex[65];

	/* MANIFEST.tsv's checksum of the file */
	mud_sha256_hex(hex, json, jlen);
	assert_string_equal(hex, SHA_LUMINAIRE);
	talloc_free(json);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_luminaire_ok),
		T(test_luminaire_expired),
		T(test_luminaire_tampered),
		T(test_luminaire_untrusted),
		T(test_luminaire_missing),
		T(test_luminaire_malformed),
		T(test_fresh_signer),
		T(test_expired_signer),
		T(test_rogue_signer),
		T(test_tampered),
		T(test_signer_der),
		T(test_policy_signer),
		T(test_pem_cms),
		T(test_embedded_rejected),
		T(test_nocerts),
		T(test_leaf_anchor),
		T(test_chain_recorded),
		T(test_chain_intermediate),
		T(test_chain_malformed),
		T(test_trust_dir),
		T(test_trust_errors),
		T(test_threads),
		T(test_sha256),
		T(test_sha256_luminaire),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
