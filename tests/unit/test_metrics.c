/*
 * test_metrics.c - unit tests of mud_metrics.c: counters from many threads, the Prometheus
 * text (every family with HELP and TYPE, every series from the start), the atomic write and
 * the writer thread.
 */
#include "test_common.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define THREADS	8
#define ROUNDS	10000

static void *bump(void *arg)
{
	mud_metrics_t *m = arg;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		mud_metrics_request(m);
		mud_metrics_outcome(m, (i & 1) ? "ok" : "pending");
		mud_metrics_fetch(m, (i % 4) ? MUD_OK : MUD_ERR_TIMEOUT);
	}
	return NULL;
}

static bool has_line(char const *text, char const *line)
{
	size_t n = strlen(line);
	char const *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n') return true;
		p += n;
	}
	return false;
}

static void test_counters_render(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_metrics_t *m = mud_metrics_alloc(ctx);
	pthread_t t[THREADS];
	mud_cache_stats_t cs = { .hits = 5, .misses = 2, .entries = 3 };
	mud_metrics_coa_t coa = { .enabled = true, .sent = 4, .ack = 3, .nak = 1 };
	char *text;
	char buf[128];
	int i;

	assert_non_null(m);
	for (i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, bump, m), 0);
	for (i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
	mud_metrics_outcome(m, "no-such-status");
	mud_metrics_outcome(m, NULL);
	mud_metrics_dacl(m, true);
	mud_metrics_dacl(m, false);
	mud_metrics_fetch(m, MUD_RCODE_MAX);	/* counted as a fetch, no cause */
	mud_metrics_request(NULL);		/* harmless */
	mud_metrics_reload(m, true);
	mud_metrics_reload(m, true);
	mud_metrics_reload(m, false);
	mud_metrics_reload(NULL, false);	/* harmless */
	mud_metrics_revoked(m, 3);
	mud_metrics_revoked(m, 0);
	mud_metrics_revoked(NULL, 7);		/* harmless */
	mud_metrics_recompile(m, true);
	mud_metrics_recompile(m, true);
	mud_metrics_recompile(m, false);
	mud_metrics_recompile(NULL, true);	/* harmless */

	text = mud_metrics_render(ctx, m, &cs, NULL, &coa);
	assert_non_null(text);
	snprintf(buf, sizeof(buf), "rlm_mud_requests_total %d", THREADS * ROUNDS);
	assert_true(has_line(text, buf));
	snprintf(buf, sizeof(buf), "rlm_mud_outcomes_total{status=\"ok\"} %d",
		 THREADS * ROUNDS / 2);
	assert_true(has_line(text, buf));
	assert_true(has_line(text, "rlm_mud_outcomes_total{status=\"other\"} 2"));
	assert_true(has_line(text, "rlm_mud_outcomes_total{status=\"url-refused\"} 0"));
	snprintf(buf, sizeof(buf), "rlm_mud_fetches_total %d", THREADS * ROUNDS + 1);
	assert_true(has_line(text, buf));
	snprintf(buf, sizeof(buf), "rlm_mud_fetch_failures_total{cause=\"timeout\"} %d",
		 THREADS * ROUNDS / 4);
	assert_true(has_line(text, buf));
	assert_true(has_line(text, "rlm_mud_fetch_failures_total{cause=\"sig_untrusted\"} 0"));
	assert_null(strstr(text, "cause=\"ok\""));
	assert_true(has_line(text, "rlm_mud_dacl_downloads_total{result=\"served\"} 1"));
	assert_true(has_line(text, "rlm_mud_reloads_total{result=\"ok\"} 2"));
	assert_true(has_line(text, "rlm_mud_reloads_total{result=\"failed\"} 1"));
	assert_true(has_line(text, "# TYPE rlm_mud_reloads_total counter"));
	assert_true(has_line(text, "rlm_mud_policies_revoked_total 3"));
	assert_true(has_line(text, "rlm_mud_recompiles_total{result=\"ok\"} 2"));
	assert_true(has_line(text, "rlm_mud_recompiles_total{result=\"failed\"} 1"));
	assert_true(has_line(text, "rlm_mud_cache_lookups_total{result=\"hit\"} 5"));
	assert_true(has_line(text, "rlm_mud_cache_entries 3"));
	assert_true(has_line(text, "# TYPE rlm_mud_cache_entries gauge"));
	assert_true(has_line(text, "rlm_mud_coa_outcomes_total{outcome=\"nak\"} 1"));
	assert_true(has_line(text, "# TYPE rlm_mud_requests_total counter"));
	assert_null(strstr(text, "rlm_mud_fetch_jobs"));	/* no fetch service given */
	TALLOC_FREE(text);

	coa.enabled = false;
	text = mud_metrics_render(ctx, m, NULL, NULL, &coa);
	assert_null(strstr(text, "coa"));
	assert_null(strstr(text, "cache"));
	assert_null(mud_metrics_render(ctx, NULL, NULL, NULL, NULL));
	talloc_free_children(ctx);
}

static char *text_fn(void *uctx, TALLOC_CTX *ctx)
{
	int *calls = uctx;

	(*calls)++;
	return talloc_asprintf(ctx, "rlm_mud_test_total %d\n", *calls);
}

static void test_write_and_writer(void **state)
{
	TALLOC_CTX *ctx = *state;
	char dir[] = "/tmp/test_metrics.XXXXXX";
	char *path;
	char *got;
	mud_error_t err;
	mud_metrics_writer_t *w = NULL;
	struct stat st;
	int calls = 0;
	int i;

	assert_non_null(mkdtemp(dir));
	path = talloc_asprintf(ctx, "%s/m.prom", dir);

	mud_error_clear(&err);
	assert_int_equal(mud_metrics_write(path, "a 1\n", &err), MUD_OK);
	got = test_read_file(ctx, path, NULL);
	assert_string_equal(got, "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	mud_error_clear(&err);
	assert_int_equal(mud_metrics_write("/nonexistent/dir/m.prom", "x", &err), MUD_ERR_IO);
	assert_string_equal(err.where, "/nonexistent/dir/m.prom");

	/* bad arguments, an unusable path: refused at start */
	mud_error_clear(&err);
	assert_int_equal(mud_metrics_writer_start(ctx, &w, path, 0, text_fn, &calls, NULL, NULL,
						  &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_metrics_writer_start(ctx, &w, "/nonexistent/m.prom", 1, text_fn,
						  &calls, NULL, NULL, &err), MUD_ERR_IO);
	assert_null(w);

	/* the writer writes now, then every second, and once more when freed */
	calls = 0;
	mud_error_clear(&err);
	assert_int_equal(mud_metrics_writer_start(ctx, &w, path, 1, text_fn, &calls, NULL, NULL,
						  &err), MUD_OK);
	got = test_read_file(ctx, path, NULL);
	assert_string_equal(got, "rlm_mud_test_total 1\n");
	for (i = 0; i < 50 && calls < 2; i++) usleep(100000);
	assert_true(calls >= 2);
	TALLOC_FREE(w);
	got = test_read_file(ctx, path, NULL);
	assert_non_null(strstr(got, "rlm_mud_test_total "));
	assert_int_equal(strtol(got + strlen("rlm_mud_test_total "), NULL, 10), calls);
	/* no temporary file left behind */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	talloc_free_children(ctx);
}

#define TEST(f)	cmocka_unit_test_setup_teardown(f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_counters_render),
		TEST(test_write_and_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
