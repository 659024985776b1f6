/*
 * test_station.c - the station index (mud_station.c): update/get/remove, fields,
 * the previous state, LRU bound, idle expiry, by-URL lookup, growth to many
 * stations without preallocation, hostile keys, and concurrent use from threads.
 */
#include <pthread.h>

#include "test_common.h"

static mud_stations_t *table(void *ctx, size_t max, unsigned int idle)
{
	mud_stations_opts_t o = { .max_entries = max, .idle_timeout = idle };
	mud_stations_t *t = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_stations_create(ctx, &t, &o, &err), MUD_OK);
	assert_non_null(t);
	return t;
}

static void upd(mud_stations_t *t, char const *key, mud_station_t const *in, unsigned int f,
		time_t now)
{
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, key, in, f, now, NULL, NULL, &err), MUD_OK);
}

static void test_fields_and_before(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 0, 0);
	mud_station_t in;
	mud_station_t out;
	mud_station_t before;
	mud_error_t err;

	memset(&in, 0, sizeof(in));
	snprintf(in.nas_ip, sizeof(in.nas_ip), "192.0.2.1");
	snprintf(in.audit_session_id, sizeof(in.audit_session_id), "0A0000010000000F1234ABCD");
	in.url_applied = "https://lighting.example.com/bulb";
	in.policy_hash = 42;
	upd(t, "001122334455", &in, MUD_STATION_NAS | MUD_STATION_AUDIT | MUD_STATION_APPLIED,
	    1000);

	assert_true(mud_stations_get(t, ctx, "001122334455", 1000, &out));
	assert_string_equal(out.nas_ip, "192.0.2.1");
	assert_string_equal(out.audit_session_id, "0A0000010000000F1234ABCD");
	assert_string_equal(out.url_applied, "https://lighting.example.com/bulb");
	assert_int_equal(out.policy_hash, 42);
	assert_null(out.url_seen);
	assert_false(out.in_session);
	assert_int_equal(out.last, 1000);
	assert_ptr_equal(talloc_parent(out.url_applied), ctx);
	talloc_free(out.url_applied);

	/* an update of other fields keeps these, and hands back the state before */
	memset(&in, 0, sizeof(in));
	in.url_seen = "https://other.example.com/x";
	snprintf(in.url_seen_src, sizeof(in.url_seen_src), "dhcpv4");
	in.in_session = true;
	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, "001122334455", &in,
					     MUD_STATION_SEEN | MUD_STATION_SESSION, 1001, ctx,
					     &before, &err), MUD_OK);
	assert_string_equal(before.url_applied, "https://lighting.example.com/bulb");
	assert_null(before.url_seen);
	talloc_free(before.url_applied);
	assert_true(mud_stations_get(t, ctx, "001122334455", 1001, &out));
	assert_string_equal(out.url_applied, "https://lighting.example.com/bulb");
	assert_string_equal(out.url_seen, "https://other.example.com/x");
	assert_string_equal(out.url_seen_src, "dhcpv4");
	assert_true(out.in_session);
	talloc_free(out.url_applied);
	talloc_free(out.url_seen);

	/* CoA target */
	memset(&in, 0, sizeof(in));
	snprintf(in.coa_dst, sizeof(in.coa_dst), "2001:db8::1");
	in.coa_port = 3799;
	snprintf(in.coa_secret, sizeof(in.coa_secret), "s3cret");
	snprintf(in.calling_station_id, sizeof(in.calling_station_id), "00-11-22-33-44-55");
	upd(t, "001122334455", &in, MUD_STATION_COA, 1001);
	assert_true(mud_stations_get(t, ctx, "001122334455", 1001, &out));
	assert_string_equal(out.coa_dst, "2001:db8::1");
	assert_int_equal(out.coa_port, 3799);
	assert_string_equal(out.coa_secret, "s3cret");
	assert_string_equal(out.calling_station_id, "00-11-22-33-44-55");
	assert_string_equal(out.nas_ip, "192.0.2.1");	/* other fields kept */
	talloc_free(out.url_applied);
	talloc_free(out.url_seen);

	/* clearing a URL */
	memset(&in, 0, sizeof(in));
	upd(t, "001122334455", &in, MUD_STATION_SEEN, 1002);
	assert_true(mud_stations_get(t, ctx, "001122334455", 1002, &out));
	assert_null(out.url_seen);
	talloc_free(out.url_applied);

	/* a new station: before is all zero */
	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, "aabbccddeeff", &in, MUD_STATION_SESSION, 1003,
					     ctx, &before, &err), MUD_OK);
	assert_null(before.url_applied);
	assert_string_equal(before.key, "");

	assert_true(mud_stations_remove(t, "aabbccddeeff"));
	assert_false(mud_stations_remove(t, "aabbccddeeff"));
	assert_false(mud_stations_get(t, ctx, "aabbccddeeff", 1003, &out));
	talloc_free(t);
}

static void test_bad_keys(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 0, 0);
	mud_station_t in;
	mud_error_t err;
	char big[MUD_STATION_KEY_MAX + 1];
	mud_stations_opts_t o = { .max_entries = MUD_STATIONS_MAX + 1 };
	mud_stations_t *t2 = NULL;

	memset(&in, 0, sizeof(in));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, big, &in, 0, 1, NULL, NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "station key of 64 bytes (1..63)");
	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, "", &in, 0, 1, NULL, NULL, &err), MUD_ERR_ARG);
	assert_false(mud_stations_get(t, ctx, big, 1, &in));
	assert_false(mud_stations_remove(t, ""));

	mud_error_clear(&err);
	assert_int_equal(mud_stations_create(ctx, &t2, &o, &err), MUD_ERR_ARG);
	assert_null(t2);
	talloc_free(t);
}

/* The bound holds: the least recently used station of a full stripe goes first. */
static void test_lru_bound(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 640, 0);	/* 10 per stripe */
	mud_stations_stats_t st;
	mud_station_t in;
	mud_station_t out;
	char key[32];
	int i;

	memset(&in, 0, sizeof(in));
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "02%010x", i);
		upd(t, key, &in, 0, 1000 + i);
		/* station 0 stays the most recently used */
		upd(t, "020000000000", &in, 0, 1000 + i);
	}
	mud_stations_stats(t, &st);
	assert_true(st.entries <= 640 + 64);
	assert_true(st.entries >= 600);
	assert_true(st.evicted >= 5000 - 640);
	assert_true(mud_stations_get(t, ctx, "020000000000", 6000, &out));
	snprintf(key, sizeof(key), "02%010x", 4999);
	assert_true(mud_stations_get(t, ctx, key, 6000, &out));
	snprintf(key, sizeof(key), "02%010x", 1);
	assert_false(mud_stations_get(t, ctx, key, 6000, &out));
	talloc_free(t);
}

static void test_idle_expiry(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 0, 100);
	mud_stations_stats_t st;
	mud_station_t in;
	mud_station_t out;
	char key[32];
	int i;

	memset(&in, 0, sizeof(in));
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "st-%d", i);
		upd(t, key, &in, 0, i < 500 ? 1000 : 1090);
	}
	/* at 1150 the first 500 are idle for 150 s, the others for 60 s */
	assert_false(mud_stations_get(t, ctx, "st-1", 1150, &out));
	assert_true(mud_stations_get(t, ctx, "st-999", 1150, &out));
	assert_true(mud_stations_expire(t, 1150) <= 500);	/* gets drop some on the way */
	mud_stations_stats(t, &st);
	assert_int_equal(st.expired, 500);
	assert_int_equal(st.entries, 500);
	assert_int_equal(mud_stations_expire(t, 1200), 500);
	mud_stations_stats(t, &st);
	assert_int_equal(st.entries, 0);
	talloc_free(t);
}

static void test_by_url(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 0, 0);
	mud_station_t in;
	mud_station_t *list = NULL;
	char key[32];
	size_t n;
	size_t i;

	memset(&in, 0, sizeof(in));
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "dev%zu", i);
		snprintf(in.audit_session_id, sizeof(in.audit_session_id), "audit%zu", i);
		in.url_applied = i % 3 == 0 ? "https://a.example/x" : "https://b.example/y";
		upd(t, key, &in, MUD_STATION_AUDIT | MUD_STATION_APPLIED, 10);
	}
	assert_int_equal(mud_stations_by_url(t, ctx, "https://a.example/x", &list, 1000, &n, NULL),
			 MUD_OK);
	assert_int_equal(n, 100);
	for (i = 0; i < n; i++) {
		assert_string_equal(list[i].url_applied, "https://a.example/x");
		assert_true(strncmp(list[i].audit_session_id, "audit", 5) == 0);
	}
	talloc_free(list);
	assert_int_equal(mud_stations_by_url(t, ctx, "https://b.example/y", &list, 7, &n, NULL),
			 MUD_OK);
	assert_int_equal(n, 7);
	talloc_free(list);
	assert_int_equal(mud_stations_by_url(t, ctx, "https://c.example/", &list, 7, &n, NULL),
			 MUD_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	assert_int_equal(mud_stations_by_url(t, ctx, NULL, &list, 7, &n, NULL), MUD_ERR_ARG);
	{
		/* all URLs in one pass: sorted input, no allocation */
		char *urls[] = { "https://a.example/x", "https://b.example/y",
				 "https://c.example/" };
		size_t counts[3];

		mud_stations_count_urls(t, urls, 3, counts);
		assert_int_equal(counts[0], 100);
		assert_int_equal(counts[1], 200);
		assert_int_equal(counts[2], 0);
	}
	talloc_free(t);
}

/* 100,000 stations: buckets grow with the entries (load <= 1 per stripe), all found. */
static void test_many(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 0, 0);
	mud_stations_stats_t st;
	mud_station_t in;
	mud_station_t out;
	char key[32];
	int i;

	mud_stations_stats(t, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.buckets, 64 * 16);	/* nothing preallocated for the maximum */
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "%012x", i * 7919);
		upd(t, key, &in, 0, 5);
	}
	mud_stations_stats(t, &st);
	assert_int_equal(st.entries, 100000);
	assert_int_equal(st.evicted, 0);
	assert_true(st.buckets >= 100000 / 2);
	for (i = 0; i < 100000; i += 997) {
		snprintf(key, sizeof(key), "%012x", i * 7919);
		assert_true(mud_stations_get(t, ctx, key, 5, &out));
	}
	talloc_free(t);
}

typedef struct {
	mud_stations_t	*t;
	int		id;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	mud_station_t in;
	mud_station_t out;
	char key[32];
	int i;

	memset(&in, 0, sizeof(in));
	in.url_applied = "https://a.example/x";
	for (i = 0; i < 20000; i++) {
		TALLOC_CTX *tmp = talloc_new(NULL);

		snprintf(key, sizeof(key), "w%d-%d", w->id, i % 500);
		mud_stations_update(w->t, key, &in, MUD_STATION_APPLIED, i, NULL, NULL, NULL);
		if (mud_stations_get(w->t, tmp, key, i, &out) &&
		    strcmp(out.url_applied, "https://a.example/x") != 0) {
			talloc_free(tmp);
			return (void *)1;
		}
		if (i % 7 == 0) mud_stations_remove(w->t, key);
		talloc_free(tmp);
	}
	return NULL;
}

static void test_threads(void **state)
{
	void *ctx = *state;
	mud_stations_t *t = table(ctx, 1000, 0);
	pthread_t th[4];
	worker_t w[4];
	int i;

	for (i = 0; i < 4; i++) {
		w[i].t = t;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		void *ret = NULL;

		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	talloc_free(t);
}

int main(void)
{
	struct CMUnitTest const tests[] = {
		cmocka_unit_test_setup_teardown(test_fields_and_before, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_bad_keys, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_lru_bound, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_idle_expiry, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_by_url, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_many, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_threads, test_setup_ctx, test_teardown_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
