/*
 * mud_fetchsvc.c - the background fetch service: RADIUS worker threads never wait
 * on a MUD server. A request that needs a policy submits its URL and answers at
 * once (MUD-Status pending, or the stale policy); a bounded pool of fetch threads
 * does the work.
 *
 *  - bounded: at most queue_max URLs wait; more is MUD_ERR_LIMIT (the caller answers
 *    as for a failed fetch), never an unbounded backlog;
 *  - one job per URL: a URL already queued or running is not queued again;
 *  - fair: jobs wait in one FIFO per authority (host:port), and the threads serve the
 *    authorities in turn, at most per_authority jobs of one authority at once, so a
 *    MUD server that stalls (or a device that points at a tarpit) holds at most
 *    per_authority threads and never delays the others;
 *  - stoppable: mud_fetchsvc_stop() drops what waits, raises the abort flag the
 *    running fetches poll (mud_fetch_opts_t.abort), and joins the threads.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "mud_private.h"

typedef struct fs_job fs_job_t;
typedef struct fs_auth fs_auth_t;

struct fs_job {
	fs_job_t	*next;
	fs_auth_t	*auth;
	char		*url;
	uint8_t		*arg;		//!< the caller's bytes (e.g. a required signer), or NULL
	size_t		arglen;
	bool		running;
};

/** The jobs of one authority, in arrival order. */
struct fs_auth {
	fs_auth_t	*next;		//!< ring of authorities with work
	fs_auth_t	*prev;
	char		*authority;
	fs_job_t	*head;		//!< waiting jobs
	fs_job_t	*tail;
	unsigned int	running;
};

struct mud_fetchsvc {
	pthread_mutex_t		mutex;
	pthread_cond_t		work;		//!< a job may be runnable
	pthread_cond_t		idle;		//!< a job finished
	TALLOC_CTX		*pool;		//!< jobs and authorities (touched under mutex)
	fs_auth_t		*ring;		//!< next authority to serve
	fs_job_t		**running;	//!< the job each thread runs (NULL: none)
	pthread_t		*threads;
	unsigned int		num_threads;
	unsigned int		started;
	size_t			queue_max;
	unsigned int		per_authority;
	size_t			waiting;
	bool			stopping;
	int volatile		abort_flag;
	mud_fetchsvc_fn_t	fn;
	void			*uctx;
	mud_fetchsvc_stats_t	stats;
	pthread_t		ticker;		//!< calls tick every tick_interval s
	pthread_cond_t		tickc;		//!< the ticker's own (a signal of work is a
						//!< worker's, never the ticker's)
	bool			ticking;	//!< ticker started (joined at stop)
	bool			tick_now;	//!< mud_fetchsvc_tick_now(): tick without waiting
	unsigned int		tick_interval;
	void			(*tick)(void *uctx, time_t now);
};

typedef struct {
	mud_fetchsvc_t	*svc;
	unsigned int	idx;
} fs_thread_arg_t;

/** Same job: URL and argument bytes. */
static bool job_is(fs_job_t const *j, char const *url, uint8_t const *arg, size_t arglen)
{
	if (strcmp(j->url, url) != 0) return false;
	if (arglen == SIZE_MAX) return true;	/* any argument */
	return j->arglen == arglen && (arglen == 0 || memcmp(j->arg, arg, arglen) == 0);
}

/** A job already waiting or running? Caller holds the mutex. */
static bool job_known(mud_fetchsvc_t const *svc, char const *url, uint8_t const *arg,
		      size_t arglen)
{
	fs_auth_t const *a = svc->ring;
	unsigned int i;

	for (i = 0; i < svc->num_threads; i++) {
		if (svc->running[i] && job_is(svc->running[i], url, arg, arglen)) return true;
	}
	if (!a) return false;
	do {
		fs_job_t const *j;

		for (j = a->head; j; j = j->next) {
			if (job_is(j, url, arg, arglen)) return true;
		}
		a = a->next;
	} while (a != svc->ring);
	return false;
}

static fs_auth_t *auth_find(mud_fetchsvc_t const *svc, char const *authority)
{
	fs_auth_t *a = svc->ring;

	if (!a) return NULL;
	do {
		if (strcmp(a->authority, authority) == 0) return a;
		a = a->next;
	} while (a != svc->ring);
	return NULL;
}

static void ring_insert(mud_fetchsvc_t *svc, fs_auth_t *a)
{
	if (!svc->ring) {
		a->next = a;
		a->prev = a;
		svc->ring = a;
		return;
	}
	/* just before the next one to serve: the newest authority is served last */
	a->next = svc->ring;
	a->prev = svc->ring->prev;
	svc->ring->prev->next = a;
	svc->ring->prev = a;
}

static void ring_remove(mud_fetchsvc_t *svc, fs_auth_t *a)
{
	if (a->next == a) {
		svc->ring = NULL;
	} else {
		a->prev->next = a->next;
		a->next->prev = a->prev;
		if (svc->ring == a) svc->ring = a->next;
	}
	talloc_free(a);
}

/** The next runnable job, round robin over authorities. Caller holds the mutex. */
static fs_job_t *job_next(mud_fetchsvc_t *svc)
{
	fs_auth_t *a = svc->ring;

	if (!a) return NULL;
	do {
		if (a->head && a->running < svc->per_authority) {
			fs_job_t *j = a->head;

			a->head = j->next;
			if (!a->head) a->tail = NULL;
			j->next = NULL;
			a->running++;
			svc->waiting--;
			svc->ring = a->next;	/* the next authority goes first next time */
			return j;
		}
		a = a->next;
	} while (a != svc->ring);
	return NULL;
}

static void *worker(void *arg)
{
	fs_thread_arg_t *ta = arg;
	mud_fetchsvc_t *svc = ta->svc;
	unsigned int idx = ta->idx;

	pthread_mutex_lock(&svc->mutex);
	for (;;) {
		fs_job_t *j;
		fs_auth_t *a;

		while (!svc->stopping && !(j = job_next(svc))) {
			pthread_cond_wait(&svc->work, &svc->mutex);
		}
		if (svc->stopping) break;
		j->running = true;
		svc->running[idx] = j;
		svc->stats.running++;
		pthread_mutex_unlock(&svc->mutex);

		svc->fn(svc->uctx, j->url, j->arg, j->arglen, &svc->abort_flag);

		pthread_mutex_lock(&svc->mutex);
		svc->running[idx] = NULL;
		svc->stats.running--;
		svc->stats.done++;
		a = j->auth;
		a->running--;
		talloc_free(j);
		if (!a->head && a->running == 0) ring_remove(svc, a);
		pthread_cond_broadcast(&svc->idle);
		pthread_cond_broadcast(&svc->work);	/* this authority may take another */
	}
	pthread_mutex_unlock(&svc->mutex);
	return NULL;
}

/** The ticker: tick() every tick_interval seconds until the service stops. */
static void *ticker(void *arg)
{
	mud_fetchsvc_t *svc = arg;
	struct timespec next;

	clock_gettime(CLOCK_REALTIME, &next);
	pthread_mutex_lock(&svc->mutex);
	for (;;) {
		int rc = 0;

		next.tv_sec += (time_t)svc->tick_interval;
		while (!svc->stopping && !svc->tick_now && rc != ETIMEDOUT) {
			rc = pthread_cond_timedwait(&svc->tickc, &svc->mutex, &next);
			if (rc != 0 && rc != ETIMEDOUT) rc = ETIMEDOUT;	/* EINVAL: tick now */
		}
		if (svc->stopping) break;
		svc->tick_now = false;
		pthread_mutex_unlock(&svc->mutex);
		svc->tick(svc->uctx, time(NULL));
		pthread_mutex_lock(&svc->mutex);
		clock_gettime(CLOCK_REALTIME, &next);	/* a long tick does not pile up */
	}
	pthread_mutex_unlock(&svc->mutex);
	return NULL;
}

static int _fetchsvc_free(mud_fetchsvc_t *svc)
{
	mud_fetchsvc_stop(svc);
	pthread_cond_destroy(&svc->work);
	pthread_cond_destroy(&svc->idle);
	pthread_cond_destroy(&svc->tickc);
	pthread_mutex_destroy(&svc->mutex);
	return 0;
}

/** Start the service (see mud.h). */
mud_rcode_t mud_fetchsvc_create(TALLOC_CTX *ctx, mud_fetchsvc_t **out,
				mud_fetchsvc_opts_t const *opts, mud_fetchsvc_fn_t fn, void *uctx,
				mud_error_t *err)
{
	mud_fetchsvc_t *svc;
	fs_thread_arg_t *args;
	unsigned int n;
	unsigned int i;

	if (!out || !fn) return mud_error_set(err, MUD_ERR_ARG, "", "no output or function");
	*out = NULL;
	n = opts && opts->threads ? opts->threads : MUD_FETCHSVC_THREADS_DEFAULT;
	if (n > MUD_FETCHSVC_THREADS_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "threads", "%u fetch threads, more than "
				     "%d", n, MUD_FETCHSVC_THREADS_MAX);
	}
	svc = talloc_zero(ctx, mud_fetchsvc_t);
	if (!svc) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	svc->num_threads = n;
	svc->queue_max = opts && opts->queue_max ? opts->queue_max : MUD_FETCHSVC_QUEUE_DEFAULT;
	svc->per_authority = opts && opts->per_authority ? opts->per_authority :
			     MUD_FETCHSVC_PER_AUTHORITY_DEFAULT;
	svc->fn = fn;
	svc->uctx = uctx;
	svc->pool = talloc_new(svc);
	svc->running = talloc_zero_array(svc, fs_job_t *, n);
	svc->threads = talloc_zero_array(svc, pthread_t, n);
	args = talloc_zero_array(svc, fs_thread_arg_t, n);
	if (!svc->pool || !svc->running || !svc->threads || !args) {
		talloc_free(svc);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}
	pthread_mutex_init(&svc->mutex, NULL);
	pthread_cond_init(&svc->work, NULL);
	pthread_cond_init(&svc->idle, NULL);
	pthread_cond_init(&svc->tickc, NULL);
	talloc_set_destructor(svc, _fetchsvc_free);
	for (i = 0; i < n; i++) {
		args[i].svc = svc;
		args[i].idx = i;
		if (pthread_create(&svc->threads[i], NULL, worker, &args[i]) != 0) {
			talloc_free(svc);	/* stops and joins the ones started */
			return mud_error_set(err, MUD_ERR_NOMEM, "pthread_create",
					     "cannot start fetch thread %u of %u", i + 1, n);
		}
		svc->started++;
	}
	if (opts && opts->tick && opts->tick_interval) {
		svc->tick = opts->tick;
		svc->tick_interval = opts->tick_interval;
		if (pthread_create(&svc->ticker, NULL, ticker, svc) != 0) {
			talloc_free(svc);
			return mud_error_set(err, MUD_ERR_NOMEM, "pthread_create",
					     "cannot start the ticker thread");
		}
		svc->ticking = true;
	}
	*out = svc;
	return MUD_OK;
}

/** Queue a URL (see mud.h). */
mud_rcode_t mud_fetchsvc_submit(mud_fetchsvc_t *svc, char const *url, void const *arg,
				size_t arglen, bool *queued, mud_error_t *err)
{
	mud_url_t *u = NULL;
	fs_auth_t *a;
	fs_job_t *j;
	TALLOC_CTX *tmp;
	mud_rcode_t rc = MUD_OK;

	if (queued) *queued = false;
	if (!svc || !url || (arglen && !arg) || arglen > MUD_FETCHSVC_ARG_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "", "no service or URL, or a bad argument");
	}
	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	if (mud_url_parse(tmp, &u, url, strlen(url), err) != MUD_OK) {
		talloc_free(tmp);
		return MUD_ERR_URL;
	}

	pthread_mutex_lock(&svc->mutex);
	if (svc->stopping) {
		rc = mud_error_set(err, MUD_ERR_ARG, "fetch service", "stopped");
		goto done;
	}
	if (job_known(svc, url, arg, arglen)) {
		svc->stats.deduplicated++;
		goto done;
	}
	if (svc->waiting >= svc->queue_max) {
		svc->stats.dropped_full++;
		rc = mud_error_set(err, MUD_ERR_LIMIT, "fetch queue", "%zu fetches waiting, the "
				   "limit (fetch_queue_max)", svc->waiting);
		goto done;
	}
	a = auth_find(svc, u->authority);
	if (!a) {
		a = talloc_zero(svc->pool, fs_auth_t);
		if (!a || !(a->authority = talloc_strdup(a, u->authority))) {
			talloc_free(a);
			rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
			goto done;
		}
		ring_insert(svc, a);
	}
	j = talloc_zero(svc->pool, fs_job_t);
	if (j && arglen) {
		j->arg = talloc_memdup(j, arg, arglen);
		j->arglen = arglen;
	}
	if (!j || (arglen && !j->arg) || !(j->url = talloc_strdup(j, url))) {
		talloc_free(j);
		if (!a->head && a->running == 0) ring_remove(svc, a);
		rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
		goto done;
	}
	j->auth = a;
	if (a->tail) {
		a->tail->next = j;
	} else {
		a->head = j;
	}
	a->tail = j;
	svc->waiting++;
	svc->stats.queued++;
	if (queued) *queued = true;
	pthread_cond_signal(&svc->work);
done:
	pthread_mutex_unlock(&svc->mutex);
	talloc_free(tmp);
	return rc;
}

/** Is a URL waiting or running? */
bool mud_fetchsvc_pending(mud_fetchsvc_t *svc, char const *url)
{
	bool known;

	if (!svc || !url) return false;
	pthread_mutex_lock(&svc->mutex);
	known = job_known(svc, url, NULL, SIZE_MAX);
	pthread_mutex_unlock(&svc->mutex);
	return known;
}

/** Wait until nothing waits or runs, at most timeout_ms (tests, HUP); true if idle. */
bool mud_fetchsvc_drain(mud_fetchsvc_t *svc, unsigned int timeout_ms)
{
	struct timespec deadline;
	bool idle;
	int rc = 0;

	if (!svc) return true;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&svc->mutex);
	while ((svc->waiting > 0 || svc->stats.running > 0) && rc == 0) {
		rc = pthread_cond_timedwait(&svc->idle, &svc->mutex, &deadline);
	}
	idle = svc->waiting == 0 && svc->stats.running == 0;
	pthread_mutex_unlock(&svc->mutex);
	return idle;
}

/** Stop (see mud.h). */
void mud_fetchsvc_stop(mud_fetchsvc_t *svc)
{
	unsigned int i;
	fs_auth_t *a;

	if (!svc) return;
	pthread_mutex_lock(&svc->mutex);
	if (svc->stopping && svc->started == 0) {
		pthread_mutex_unlock(&svc->mutex);
		return;
	}
	svc->stopping = true;
	__atomic_store_n(&svc->abort_flag, 1, __ATOMIC_RELEASE);
	/* what waits is dropped; running jobs see the abort flag and finish */
	for (a = svc->ring; a; a = svc->ring) {
		while (a->head) {
			fs_job_t *j = a->head;

			a->head = j->next;
			talloc_free(j);
			svc->waiting--;
			svc->stats.dropped_stop++;
		}
		a->tail = NULL;
		if (a->running) {
			/* its thread still points at it: keep it out of the ring only */
			if (a->next == a) {
				svc->ring = NULL;
			} else {
				a->prev->next = a->next;
				a->next->prev = a->prev;
				svc->ring = a->next;
			}
			a->next = a;
			a->prev = a;
			talloc_steal(svc, a);	/* freed with the service */
		} else {
			ring_remove(svc, a);
		}
	}
	pthread_cond_broadcast(&svc->work);
	pthread_cond_broadcast(&svc->tickc);
	pthread_mutex_unlock(&svc->mutex);

	for (i = 0; i < svc->started; i++) pthread_join(svc->threads[i], NULL);
	svc->started = 0;
	if (svc->ticking) {
		pthread_join(svc->ticker, NULL);
		svc->ticking = false;
	}
}

/** Tick now (see mud.h). */
void mud_fetchsvc_tick_now(mud_fetchsvc_t *svc)
{
	if (!svc) return;
	pthread_mutex_lock(&svc->mutex);
	svc->tick_now = true;
	pthread_cond_broadcast(&svc->tickc);
	pthread_mutex_unlock(&svc->mutex);
}

/** Counters (see mud.h). */
void mud_fetchsvc_stats(mud_fetchsvc_t *svc, mud_fetchsvc_stats_t *out)
{
	if (!out) return;
	memset(out, 0, sizeof(*out));
	if (!svc) return;
	pthread_mutex_lock(&svc->mutex);
	*out = svc->stats;
	out->waiting = svc->waiting;
	pthread_mutex_unlock(&svc->mutex);
}
