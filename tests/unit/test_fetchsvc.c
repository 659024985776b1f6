/*
 * test_fetchsvc.c - the background fetch service (mud_fetchsvc.c): jobs run on the
 * pool, one job per URL, the per-authority bound and fairness (a stalled authority
 * never holds more than its share while others proceed), the bounded queue, and a
 * clean stop with jobs stalled. The "fetch" is a function that blocks on a gate the
 * test controls, so nothing here depends on timing.
 */
#include <pthread.h>
#include <time.h>

#include "test_common.h"

static void abort_now(char const *why)
{
	fprintf(stderr, "test_fetchsvc: %s\n", why);
	abort();
}

typedef struct {
	pthread_mutex_t	mutex;
	pthread_cond_t	cond;
	bool		open;			//!< gate for "stall" URLs
	int		running_stall;		//!< jobs of the stalled authority running now
	int		max_running_stall;
	int		done_fast;
	int		aborted;
	char		done[64][64];
	int		num_done;
} gate_t;

static void fn(void *uctx, char const *url, uint8_t const *arg, size_t arglen,
	       int const volatile *abort)
{
	gate_t *g = uctx;
	bool stall = strstr(url, "stall.example") != NULL;

	if (arglen && (!arg || arg[0] != 'S')) abort_now("job argument not copied");

	pthread_mutex_lock(&g->mutex);
	if (stall) {
		g->running_stall++;
		if (g->running_stall > g->max_running_stall)
			g->max_running_stall = g->running_stall;
		while (!g->open && !*abort) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&g->cond, &g->mutex, &ts);
		}
		if (*abort) g->aborted++;
		g->running_stall--;
	} else {
		g->done_fast++;
	}
	if (g->num_done < 64) snprintf(g->done[g->num_done++], 64, "%s", url);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mutex);
}

static gate_t *gate_new(void *ctx)
{
	gate_t *g = talloc_zero(ctx, gate_t);

	pthread_mutex_init(&g->mutex, NULL);
	pthread_cond_init(&g->cond, NULL);
	return g;
}

static void gate_free(gate_t *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mutex);
	talloc_free(g);
}

static void gate_open(gate_t *g)
{
	pthread_mutex_lock(&g->mutex);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mutex);
}

/** Wait (bounded, 10 s) until at least n fast jobs are done. */
static bool wait_fast(gate_t *g, int n)
{
	int i;
	bool ok;

	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&g->mutex);
		ok = g->done_fast >= n;
		pthread_mutex_unlock(&g->mutex);
		if (ok) return true;
		{
			struct timespec ts = { 0, 10000000L };

			nanosleep(&ts, NULL);
		}
	}
	return false;
}

/** Wait (bounded, 10 s) until n stalled jobs are running. */
static bool wait_stalled(gate_t *g, int n)
{
	int i;
	bool ok;

	for (i = 0; i < 1000; i++) {
		struct timespec ts = { 0, 10000000L };

		pthread_mutex_lock(&g->mutex);
		ok = g->running_stall >= n;
		pthread_mutex_unlock(&g->mutex);
		if (ok) return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static mud_fetchsvc_t *svc_new(void *ctx, gate_t *g, unsigned int threads, size_t queue,
			       unsigned int per)
{
	mud_fetchsvc_opts_t o = { .threads = threads, .queue_max = queue, .per_authority = per };
	mud_fetchsvc_t *svc = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_create(ctx, &svc, &o, fn, g, &err), MUD_OK);
	return svc;
}

static bool submit(mud_fetchsvc_t *svc, char const *url)
{
	bool queued = false;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_submit(svc, url, NULL, 0, &queued, &err), MUD_OK);
	return queued;
}

/* Stalled authority: 10 URLs on it hold only per_authority threads; others proceed. */
static void test_fair_under_tarpit(void **state)
{
	void *ctx = *state;
	gate_t *g = gate_new(ctx);
	mud_fetchsvc_t *svc = svc_new(ctx, g, 4, 100, 2);
	mud_fetchsvc_stats_t st;
	char url[128];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(url, sizeof(url), "https://stall.example/dev%d.json", i);
		assert_true(submit(svc, url));
	}
	for (i = 0; i < 20; i++) {
		snprintf(url, sizeof(url), "https://ok%d.example/dev.json", i % 5);
		(void)submit(svc, url);
	}
	/* the five fast authorities are served although the stalled one has 10 waiting */
	assert_true(wait_fast(g, 5));
	pthread_mutex_lock(&g->mutex);
	assert_true(g->max_running_stall <= 2);
	pthread_mutex_unlock(&g->mutex);
	assert_true(mud_fetchsvc_pending(svc, "https://stall.example/dev9.json"));

	gate_open(g);
	assert_true(mud_fetchsvc_drain(svc, 10000));
	mud_fetchsvc_stats(svc, &st);
	assert_int_equal(st.done, st.queued);
	assert_int_equal(st.queued + st.deduplicated, 30);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.running, 0);
	assert_false(mud_fetchsvc_pending(svc, "https://stall.example/dev9.json"));
	talloc_free(svc);
	gate_free(g);
}

/* One job per URL, a bounded queue, bad URLs refused. */
static void test_dedup_and_bounds(void **state)
{
	void *ctx = *state;
	gate_t *g = gate_new(ctx);
	mud_fetchsvc_t *svc = svc_new(ctx, g, 1, 4, 1);
	mud_fetchsvc_stats_t st;
	mud_error_t err;
	bool queued = true;

	assert_true(submit(svc, "https://stall.example/a.json"));	/* runs, stalls */
	assert_true(wait_stalled(g, 1));
	assert_false(submit(svc, "https://stall.example/a.json"));	/* running: dedup */
	assert_true(submit(svc, "https://stall.example/b.json"));
	assert_true(submit(svc, "https://stall.example/c.json"));
	assert_false(submit(svc, "https://stall.example/b.json"));	/* waiting: dedup */
	/* the same URL with an argument (a signer to check) is another job */
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_submit(svc, "https://stall.example/b.json", "S1", 2, &queued,
					     &err), MUD_OK);
	assert_true(queued);
	assert_int_equal(mud_fetchsvc_submit(svc, "https://stall.example/b.json", "S1", 2, &queued,
					     &err), MUD_OK);
	assert_false(queued);
	/* a, running, is not counted: b and c wait; d fills the queue */
	assert_true(submit(svc, "https://other.example/d.json"));
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_submit(svc, "https://other.example/e.json", NULL, 0, &queued,
						     &err),
			 MUD_ERR_LIMIT);
	assert_false(queued);
	assert_string_equal(err.where, "fetch queue");
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_submit(svc, "http://x.example/", NULL, 0, &queued, &err),
			 MUD_ERR_URL);
	mud_fetchsvc_stats(svc, &st);
	assert_int_equal(st.dropped_full, 1);
	assert_int_equal(st.deduplicated, 3);
	gate_open(g);
	assert_true(mud_fetchsvc_drain(svc, 10000));
	mud_fetchsvc_stats(svc, &st);
	assert_int_equal(st.done, 5);
	talloc_free(svc);
	gate_free(g);
}

/* Stop with stalled jobs: they see the abort flag, the waiting ones are dropped, the
 * threads are joined, later submits are refused. */
static void test_stop(void **state)
{
	void *ctx = *state;
	gate_t *g = gate_new(ctx);
	mud_fetchsvc_t *svc = svc_new(ctx, g, 2, 100, 2);
	mud_fetchsvc_stats_t st;
	mud_error_t err;
	bool queued;
	char url[128];
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(url, sizeof(url), "https://stall.example/s%d.json", i);
		assert_true(submit(svc, url));
	}
	mud_fetchsvc_stop(svc);
	mud_fetchsvc_stop(svc);		/* idempotent */
	mud_fetchsvc_stats(svc, &st);
	assert_int_equal(st.running, 0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.done + st.dropped_stop, 6);
	pthread_mutex_lock(&g->mutex);
	assert_int_equal(g->aborted, (int)st.done);
	pthread_mutex_unlock(&g->mutex);
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_submit(svc, "https://ok.example/x", NULL, 0, &queued, &err),
			 MUD_ERR_ARG);
	talloc_free(svc);
	gate_free(g);
}

static int ticks;

static void tick(void *uctx, time_t now)
{
	(void)uctx;
	(void)now;
	__atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
}

/* The ticker: called every tick_interval s on its own thread, never stealing a job's wake-up
 * (each job submitted to a one-thread service while the ticker waits still runs), stopped
 * with the service. */
static void test_ticker(void **state)
{
	void *ctx = *state;
	gate_t *g = gate_new(ctx);
	mud_fetchsvc_opts_t o = { .threads = 1, .queue_max = 10, .per_authority = 1,
				  .tick_interval = 1, .tick = tick };
	mud_fetchsvc_t *svc = NULL;
	mud_error_t err;
	struct timespec ts = { 0, 20000000L };
	char url[128];
	int i;
	int n;

	__atomic_store_n(&ticks, 0, __ATOMIC_RELAXED);
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_create(ctx, &svc, &o, fn, g, &err), MUD_OK);
	for (i = 0; i < 20; i++) {
		snprintf(url, sizeof(url), "https://ok%d.example/x.json", i);
		assert_true(submit(svc, url));
		assert_true(wait_fast(g, i + 1));	/* run at once, one after the other */
	}
	for (i = 0; i < 300 && __atomic_load_n(&ticks, __ATOMIC_RELAXED) < 2; i++) {
		nanosleep(&ts, NULL);
	}
	assert_true(__atomic_load_n(&ticks, __ATOMIC_RELAXED) >= 2);
	mud_fetchsvc_stop(svc);
	n = __atomic_load_n(&ticks, __ATOMIC_RELAXED);
	ts.tv_sec = 1;
	ts.tv_nsec = 200000000L;
	nanosleep(&ts, NULL);
	assert_int_equal(__atomic_load_n(&ticks, __ATOMIC_RELAXED), n);	/* stopped */
	talloc_free(svc);
	gate_free(g);
}

/* mud_fetchsvc_tick_now(): with an hour between ticks, a tick happens at once after it,
 * and once per call (no tick lost, none invented); none without a ticker. */
static void test_tick_now(void **state)
{
	void *ctx = *state;
	gate_t *g = gate_new(ctx);
	mud_fetchsvc_opts_t o = { .threads = 1, .queue_max = 10, .per_authority = 1,
				  .tick_interval = 3600, .tick = tick };
	mud_fetchsvc_opts_t none = { .threads = 1, .queue_max = 10, .per_authority = 1 };
	mud_fetchsvc_t *svc = NULL;
	mud_error_t err;
	struct timespec ts = { 0, 20000000L };
	int round;
	int i;

	__atomic_store_n(&ticks, 0, __ATOMIC_RELAXED);
	mud_error_clear(&err);
	assert_int_equal(mud_fetchsvc_create(ctx, &svc, &o, fn, g, &err), MUD_OK);
	nanosleep(&ts, NULL);
	assert_int_equal(__atomic_load_n(&ticks, __ATOMIC_RELAXED), 0);
	for (round = 1; round <= 3; round++) {
		mud_fetchsvc_tick_now(svc);
		for (i = 0; i < 250 && __atomic_load_n(&ticks, __ATOMIC_RELAXED) < round; i++) {
			nanosleep(&ts, NULL);
		}
		assert_int_equal(__atomic_load_n(&ticks, __ATOMIC_RELAXED), round);
	}
	mud_fetchsvc_stop(svc);
	mud_fetchsvc_tick_now(svc);	/* stopped: nothing */
	talloc_free(svc);

	svc = NULL;
	assert_int_equal(mud_fetchsvc_create(ctx, &svc, &none, fn, g, &err), MUD_OK);
	mud_fetchsvc_tick_now(svc);	/* no ticker: nothing */
	mud_fetchsvc_tick_now(NULL);
	nanosleep(&ts, NULL);
	assert_int_equal(__atomic_load_n(&ticks, __ATOMIC_RELAXED), 3);
	talloc_free(svc);
	gate_free(g);
}

int main(void)
{
	struct CMUnitTest const tests[] = {
		cmocka_unit_test_setup_teardown(test_fair_under_tarpit, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_dedup_and_bounds, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_stop, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_ticker, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_tick_now, test_setup_ctx, test_teardown_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
