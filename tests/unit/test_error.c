/*
 * test_error.c - mud_error_t semantics, code tables, shared helpers.
 */
#include "test_common.h"
#include "mud_private.h"

static void test_first_error_wins(void **state)
{
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(err.code, MUD_OK);
	assert_int_equal(mud_error_set(&err, MUD_ERR_SCHEMA, "/a/b", "bad %d", 1), MUD_ERR_SCHEMA);
	assert_int_equal(mud_error_set(&err, MUD_ERR_JSON, "/c", "later"), MUD_ERR_JSON);
	assert_int_equal(err.code, MUD_ERR_SCHEMA);
	assert_string_equal(err.where, "/a/b");
	assert_string_equal(err.text, "bad 1");
	assert_int_equal(mud_error_set(NULL, MUD_ERR_URL, NULL, "x"), MUD_ERR_URL);
}

static void test_error_truncates(void **state)
{
	mud_error_t err;
	char longw[400];

	memset(longw, 'w', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	mud_error_clear(&err);
	mud_error_set(&err, MUD_ERR_LIMIT, longw, "%s", longw);
	assert_int_equal(strlen(err.where), sizeof(err.where) - 1);
	assert_int_equal(strlen(err.text), sizeof(err.text) - 1);
}

static void test_code_tables(void **state)
{
	int i, j;

	for (i = 0; i < MUD_RCODE_MAX; i++) {
		assert_string_not_equal(mud_strerror((mud_rcode_t)i), "unknown error");
		assert_string_not_equal(mud_rcode_name((mud_rcode_t)i), "MUD_ERR_UNKNOWN");
		assert_non_null(mud_rcode_status((mud_rcode_t)i));
		for (j = 0; j < i; j++) {
			assert_string_not_equal(mud_rcode_name((mud_rcode_t)i),
						mud_rcode_name((mud_rcode_t)j));
		}
	}
	assert_string_equal(mud_rcode_name(MUD_ERR_SIG_EXPIRED), "MUD_ERR_SIG_EXPIRED");
	assert_string_equal(mud_rcode_status(MUD_ERR_SIG_DIGEST), "signature-invalid");
	assert_string_equal(mud_rcode_status(MUD_ERR_TLS), "tls-failed");
	assert_string_equal(mud_rcode_status(MUD_ERR_MISMATCH), "url-mismatch");
	assert_string_equal(mud_url_src_name(MUD_SRC_DHCPV6), "dhcpv6");
}

/** The outcome table: a complete row per code, consistent with the other accessors, and
 *  every MUD-Status a VALUE of the dictionary the module ships. */
static void test_outcome_table(void **state)
{
	char const *top = getenv("top_srcdir");
	char path[4096];
	char dict[8192];
	size_t len = 0;
	FILE *fp;
	int i;
	mud_event_t ev;

	(void)state;
	snprintf(path, sizeof(path), "%s/dictionary/dictionary.mud", top ? top : ".");
	fp = fopen(path, "r");
	if (fp) {
		len = fread(dict, 1, sizeof(dict) - 1, fp);
		fclose(fp);
	}
	dict[len] = '\0';
	assert_true(len > 0);	/* the dictionary is part of the source tree */

	for (i = 0; i < MUD_RCODE_MAX; i++) {
		mud_outcome_t const *o = mud_outcome((mud_rcode_t)i);
		char line[128];

		assert_int_equal(o->code, i);
		assert_non_null(o->name);
		assert_non_null(o->status);
		assert_non_null(o->text);
		assert_string_equal(o->name, mud_rcode_name((mud_rcode_t)i));
		assert_string_equal(o->text, mud_strerror((mud_rcode_t)i));
		assert_string_equal(o->status, mud_rcode_status((mud_rcode_t)i));
		assert_true(o->event >= -1 && o->event < (int)MUD_EVENT_MAX);
		assert_int_equal(mud_event_from_rcode((mud_rcode_t)i, &ev), o->event >= 0);
		/* a decision the device caused is never silent in radius.log */
		if (o->act == MUD_ACT_INVALID) assert_true(o->level >= MUD_LOG_WARN);
		snprintf(line, sizeof(line), "MUD-Status\t\t\t%s\t", o->status);
		if (!strstr(dict, line)) {
			fail_msg("MUD-Status %s of %s not in %s", o->status, o->name, path);
		}
	}
	/* out of range: a defined row, never a crash */
	assert_int_equal(mud_outcome(MUD_RCODE_MAX)->act, MUD_ACT_FAIL);
	assert_int_equal(mud_outcome((mud_rcode_t)-1)->act, MUD_ACT_FAIL);
	assert_int_equal(mud_outcome(MUD_ERR_REFUSED)->event, MUD_EVENT_URL_REFUSED);
	assert_string_equal(mud_rcode_status(MUD_PENDING), "pending");
	assert_int_equal(mud_outcome(MUD_PENDING)->act, MUD_ACT_INTERIM);
	assert_int_equal(mud_outcome(MUD_ERR_NOT_MUD)->act, MUD_ACT_NOOP);
}

static void test_escape(void **state)
{
	char out[16];

	mudp_escape(out, sizeof(out), "ab\x01\"c", 5);
	assert_string_equal(out, "ab\\x01\"c");
	mudp_escape(out, sizeof(out), "0123456789abcdefghij", 20);
	assert_string_equal(out, "0123456789ab...");
	assert_true(strlen(out) < sizeof(out));
	mudp_escape(out, sizeof(out), "\\", 1);
	assert_string_equal(out, "\\x5c");
	mudp_escape(out, sizeof(out), "", 0);
	assert_string_equal(out, "");
}

static void test_warn_bounded(void **state)
{
	void *ctx = *state;
	void *owner = talloc_new(ctx);
	mud_warning_t *w = NULL;
	size_t n = 0, dropped = 0;
	int i;

	for (i = 0; i < MUD_MAX_WARNINGS + 5; i++)
		mudp_warn(owner, &w, &n, &dropped, "/x", "warning %d", i);
	assert_int_equal(n, MUD_MAX_WARNINGS);
	assert_int_equal(dropped, 5);
	assert_string_equal(w[3].text, "warning 3");
	assert_string_equal(w[3].where, "/x");
	talloc_free(owner);
}

static void test_prefix(void **state)
{
	mud_prefix_t p;
	mud_error_t err;
	char buf[64];

	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "10.1.0.0/16", false, &err), MUD_OK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 16);
	mud_prefix_print(buf, sizeof(buf), &p, false);
	assert_string_equal(buf, "10.1.0.0/16");
	assert_int_equal(mud_prefix_parse(&p, "2001:db8::1", false, &err), MUD_OK);
	mud_prefix_print(buf, sizeof(buf), &p, false);
	assert_string_equal(buf, "2001:db8::1");
	mud_prefix_print(buf, sizeof(buf), &p, true);
	assert_string_equal(buf, "2001:db8::1/128");
	assert_int_equal(mud_prefix_parse(&p, "10.1.2.3/16", false, &err), MUD_ERR_SCHEMA);
	assert_string_equal(err.text, "\"10.1.2.3/16\" has host bits set beyond the prefix length");
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "10.1.2.3/16", true, &err), MUD_OK);
	mud_prefix_print(buf, sizeof(buf), &p, false);
	assert_string_equal(buf, "10.1.0.0/16");
	assert_int_equal(mud_prefix_parse(&p, "10.1.2.3/33", false, &err), MUD_ERR_SCHEMA);
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "10.1.2.3/", false, &err), MUD_ERR_SCHEMA);
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "fe80::/10x", false, &err), MUD_ERR_SCHEMA);
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "host.example", false, &err), MUD_ERR_SCHEMA);
	assert_string_equal(err.text, "\"host.example\" is not an IP address or prefix");
	mud_error_clear(&err);
	assert_int_equal(mud_prefix_parse(&p, "0.0.0.0/0", false, &err), MUD_OK);
	assert_int_equal(p.len, 0);
	assert_int_equal(mud_prefix_parse(&p, "::/0", false, &err), MUD_OK);
	assert_int_equal(p.family, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_error_truncates),
		cmocka_unit_test(test_code_tables),
		cmocka_unit_test(test_outcome_table),
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_warn_bounded, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
