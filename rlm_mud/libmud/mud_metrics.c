/*
 * mud_metrics.c - counters of the module's work and their Prometheus text exposition
 * (format 0.0.4), written to a file for node_exporter's textfile collector by a thread
 * of its own (docs/operations.md "Metrics").
 *
 * Thread safety: the counters are updated with relaxed atomic adds (no lock on the request
 * path) and read with atomic loads; a reader may see one counter a moment before another,
 * which Prometheus tolerates (each series is monotonic on its own).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mud_private.h"

#define METRICS_INTERVAL_MAX	3600	//!< seconds; a textfile older than that is useless
#define METRICS_PATH_MAX	4000	//!< bytes of a metrics_file path

/** The MUD-Status values (dictionary/dictionary.mud), then "other". */
static char const * const status_names[MUD_METRICS_STATUSES] = {
	"ok", "no-url", "url-invalid", "url-refused", "fetch-failed", "tls-failed",
	"signature-invalid", "invalid-file", "url-mismatch", "internal-error", "url-conflict",
	"acl-unknown", "acl-served", "acl-conflict", "pending", "other"
};

struct mud_metrics {
	uint64_t	requests;
	uint64_t	outcomes[MUD_METRICS_STATUSES];
	uint64_t	fetches;
	uint64_t	fetch_failures[MUD_RCODE_MAX];
	uint64_t	dacl_served;
	uint64_t	dacl_unknown;
	uint64_t	reloads_ok;
	uint64_t	reloads_failed;
	uint64_t	revoked;
	uint64_t	recompiles_ok;
	uint64_t	recompiles_failed;
};

static void add1(uint64_t *c)
{
	(void)__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static uint64_t load(uint64_t const *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/** New counters (see mud.h). */
mud_metrics_t *mud_metrics_alloc(TALLOC_CTX *ctx)
{
	return talloc_zero(ctx, mud_metrics_t);
}

/** Count a request (see mud.h). */
void mud_metrics_request(mud_metrics_t *m)
{
	if (m) add1(&m->requests);
}

/** Count an outcome (see mud.h). */
void mud_metrics_outcome(mud_metrics_t *m, char const *status)
{
	size_t i;

	if (!m) return;
	for (i = 0; status && i < MUD_METRICS_STATUSES - 1; i++) {
		if (strcmp(status, status_names[i]) == 0) break;
	}
	if (!status) i = MUD_METRICS_STATUSES - 1;
	add1(&m->outcomes[i]);
}

/** Count a fetch (see mud.h). */
void mud_metrics_fetch(mud_metrics_t *m, mud_rcode_t code)
{
	if (!m) return;
	add1(&m->fetches);
	if (code != MUD_OK && code > 0 && code < MUD_RCODE_MAX) add1(&m->fetch_failures[code]);
}

/** Count a dACL download (see mud.h). */
void mud_metrics_dacl(mud_metrics_t *m, bool served)
{
	if (!m) return;
	add1(served ? &m->dacl_served : &m->dacl_unknown);
}

/** Count a reload (see mud.h). */
void mud_metrics_reload(mud_metrics_t *m, bool ok)
{
	if (!m) return;
	add1(ok ? &m->reloads_ok : &m->reloads_failed);
}

/** Count dropped policies (see mud.h). */
void mud_metrics_revoked(mud_metrics_t *m, size_t num)
{
	if (m && num) (void)__atomic_fetch_add(&m->revoked, (uint64_t)num, __ATOMIC_RELAXED);
}

/** Count a recompile from the kept file (see mud.h). */
void mud_metrics_recompile(mud_metrics_t *m, bool ok)
{
	if (!m) return;
	add1(ok ? &m->recompiles_ok : &m->recompiles_failed);
}

/** "MUD_ERR_SIG_UNTRUSTED" -> "sig_untrusted" into buf. */
static char const *cause_name(mud_rcode_t code, char *buf, size_t len)
{
	char const *n = mud_rcode_name(code);
	size_t i;

	if (strncmp(n, "MUD_ERR_", 8) == 0) n += 8;
	for (i = 0; n[i] && i + 1 < len; i++) {
		buf[i] = (n[i] >= 'A' && n[i] <= 'Z') ? (char)(n[i] - 'A' + 'a') : n[i];
	}
	buf[i] = '\0';
	return buf;
}

/** Append one family header. */
static char *family(char *out, char const *name, char const *type, char const *help)
{
	if (!out) return NULL;
	return talloc_asprintf_append_buffer(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
					     name, type);
}

static char *sample(char *out, char const *name, char const *label, char const *value,
		    uint64_t v)
{
	if (!out) return NULL;
	if (label) {
		return talloc_asprintf_append_buffer(out, "%s{%s=\"%s\"} %llu\n", name, label,
						     value, (unsigned long long)v);
	}
	return talloc_asprintf_append_buffer(out, "%s %llu\n", name, (unsigned long long)v);
}

/** Render (see mud.h). */
char *mud_metrics_render(TALLOC_CTX *ctx, mud_metrics_t *m, mud_cache_stats_t const *cache,
			 mud_fetchsvc_stats_t const *fsvc, mud_metrics_coa_t const *coa)
{
	char *out;
	char cb[32];
	size_t i;

	if (!m) return NULL;
	out = talloc_strdup(ctx, "");

	out = family(out, "rlm_mud_requests_total", "counter",
		     "Requests the module processed (authorize, post-auth), dACL downloads apart.");
	out = sample(out, "rlm_mud_requests_total", NULL, NULL, load(&m->requests));

	out = family(out, "rlm_mud_outcomes_total", "counter",
		     "Decisions by MUD-Status (other: none set).");
	for (i = 0; i < MUD_METRICS_STATUSES; i++) {
		out = sample(out, "rlm_mud_outcomes_total", "status", status_names[i],
			     load(&m->outcomes[i]));
	}

	out = family(out, "rlm_mud_fetches_total", "counter",
		     "MUD file fetches (inline, background and operator refreshes).");
	out = sample(out, "rlm_mud_fetches_total", NULL, NULL, load(&m->fetches));

	out = family(out, "rlm_mud_fetch_failures_total", "counter",
		     "Fetches that failed, by cause (the libmud result code).");
	for (i = 1; i < MUD_RCODE_MAX; i++) {
		out = sample(out, "rlm_mud_fetch_failures_total", "cause",
			     cause_name((mud_rcode_t)i, cb, sizeof(cb)),
			     load(&m->fetch_failures[i]));
	}

	out = family(out, "rlm_mud_dacl_downloads_total", "counter",
		     "Cisco downloadable-ACL requests, by result.");
	out = sample(out, "rlm_mud_dacl_downloads_total", "result", "served",
		     load(&m->dacl_served));
	out = sample(out, "rlm_mud_dacl_downloads_total", "result", "unknown",
		     load(&m->dacl_unknown));

	out = family(out, "rlm_mud_reloads_total", "counter",
		     "Reloads (HUP) of the site context and trust anchors, by result.");
	out = sample(out, "rlm_mud_reloads_total", "result", "ok", load(&m->reloads_ok));
	out = sample(out, "rlm_mud_reloads_total", "result", "failed",
		     load(&m->reloads_failed));

	out = family(out, "rlm_mud_policies_revoked_total", "counter",
		     "Cached policies dropped because their signer no longer chains to the "
		     "trust anchors.");
	out = sample(out, "rlm_mud_policies_revoked_total", NULL, NULL, load(&m->revoked));

	out = family(out, "rlm_mud_recompiles_total", "counter",
		     "Cached policies compiled again from their kept MUD file (site context "
		     "changed, DNS answers past their TTL) without a fetch, by result (failed: "
		     "fetched instead).");
	out = sample(out, "rlm_mud_recompiles_total", "result", "ok", load(&m->recompiles_ok));
	out = sample(out, "rlm_mud_recompiles_total", "result", "failed",
		     load(&m->recompiles_failed));

	if (cache) {
		out = family(out, "rlm_mud_cache_lookups_total", "counter",
			     "Policy cache lookups, by result.");
		out = sample(out, "rlm_mud_cache_lookups_total", "result", "hit", cache->hits);
		out = sample(out, "rlm_mud_cache_lookups_total", "result", "stale",
			     cache->stale_hits);
		out = sample(out, "rlm_mud_cache_lookups_total", "result", "negative",
			     cache->negative_hits);
		out = sample(out, "rlm_mud_cache_lookups_total", "result", "miss", cache->misses);
		out = family(out, "rlm_mud_cache_stores_total", "counter",
			     "Policies stored in the cache.");
		out = sample(out, "rlm_mud_cache_stores_total", NULL, NULL, cache->stores);
		out = family(out, "rlm_mud_cache_evictions_total", "counter",
			     "Cache entries evicted (cache_max_entries).");
		out = sample(out, "rlm_mud_cache_evictions_total", NULL, NULL, cache->evictions);
		out = family(out, "rlm_mud_cache_entries", "gauge", "Cache entries now.");
		out = sample(out, "rlm_mud_cache_entries", NULL, NULL, (uint64_t)cache->entries);
	}
	if (fsvc) {
		out = family(out, "rlm_mud_fetch_queue_dropped_total", "counter",
			     "Background fetches refused because the queue was full.");
		out = sample(out, "rlm_mud_fetch_queue_dropped_total", NULL, NULL,
			     fsvc->dropped_full);
		out = family(out, "rlm_mud_fetch_jobs", "gauge",
			     "Background fetches now, by state.");
		out = sample(out, "rlm_mud_fetch_jobs", "state", "waiting", fsvc->waiting);
		out = sample(out, "rlm_mud_fetch_jobs", "state", "running", fsvc->running);
	}
	if (coa && coa->enabled) {
		out = family(out, "rlm_mud_coa_requests_total", "counter",
			     "CoA-Requests sent (first transmissions).");
		out = sample(out, "rlm_mud_coa_requests_total", NULL, NULL, coa->sent);
		out = family(out, "rlm_mud_coa_retransmits_total", "counter",
			     "CoA-Request retransmissions.");
		out = sample(out, "rlm_mud_coa_retransmits_total", NULL, NULL, coa->retransmits);
		out = family(out, "rlm_mud_coa_outcomes_total", "counter",
			     "CoA-Requests by outcome.");
		out = sample(out, "rlm_mud_coa_outcomes_total", "outcome", "ack", coa->ack);
		out = sample(out, "rlm_mud_coa_outcomes_total", "outcome", "nak", coa->nak);
		out = sample(out, "rlm_mud_coa_outcomes_total", "outcome", "timeout", coa->timeout);
		out = sample(out, "rlm_mud_coa_outcomes_total", "outcome", "dropped", coa->dropped);
		out = sample(out, "rlm_mud_coa_outcomes_total", "outcome", "error", coa->errors);
		out = family(out, "rlm_mud_coa_pending", "gauge",
			     "CoA-Requests queued or awaiting an answer now.");
		out = sample(out, "rlm_mud_coa_pending", NULL, NULL, coa->pending);
	}
	return out;
}

/** Write atomically (see mud.h). */
mud_rcode_t mud_metrics_write(char const *path, char const *text, mud_error_t *err)
{
	char tpath[METRICS_PATH_MAX + 16];
	char where[sizeof(((mud_error_t *)NULL)->where)];
	char ebuf[128];
	size_t len;
	size_t done = 0;
	int fd;

	if (!path || !*path || !text) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_metrics_write", "no path or text");
	}
	mudp_escape(where, sizeof(where), path, strlen(path));
	if (strlen(path) > METRICS_PATH_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, where, "path longer than %d bytes",
				     METRICS_PATH_MAX);
	}
	snprintf(tpath, sizeof(tpath), "%s.XXXXXX", path);
	fd = mkostemp(tpath, O_CLOEXEC);
	if (fd < 0) {
		return mud_error_set(err, MUD_ERR_IO, where, "cannot create a temporary file "
				     "next to it: %s", strerror_r(errno, ebuf, sizeof(ebuf)));
	}
	len = strlen(text);
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			unlink(tpath);
			return mud_error_set(err, MUD_ERR_IO, where, "write: %s",
					     strerror_r(e, ebuf, sizeof(ebuf)));
		}
		done += (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || close(fd) != 0) {
		int e = errno;

		unlink(tpath);
		return mud_error_set(err, MUD_ERR_IO, where, "close: %s",
				     strerror_r(e, ebuf, sizeof(ebuf)));
	}
	if (rename(tpath, path) != 0) {
		int e = errno;

		unlink(tpath);
		return mud_error_set(err, MUD_ERR_IO, where, "rename: %s",
				     strerror_r(e, ebuf, sizeof(ebuf)));
	}
	return MUD_OK;
}

struct mud_metrics_writer {
	pthread_t	thread;
	pthread_mutex_t	mutex;
	pthread_cond_t	cond;
	bool		started;
	bool		stop;		//!< guarded by mutex
	char		*path;
	unsigned int	interval;
	mud_metrics_text_fn_t fn;
	void		*uctx;
	mud_log_t	log;
	void		*log_uctx;
	bool		failing;	//!< the last write failed (reported once)
};

/** One round: render and write; report a failure once until a write succeeds (report
 *  false: the caller reports). */
static mud_rcode_t writer_round(mud_metrics_writer_t *w, mud_error_t *err, bool report)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *text;
	mud_rcode_t rc = MUD_OK;

	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "metrics", "out of memory");
	text = w->fn(w->uctx, tmp);
	if (text) rc = mud_metrics_write(w->path, text, err);
	talloc_free(tmp);
	if (!report) w->failing = rc != MUD_OK;
	if (rc != MUD_OK && !w->failing && w->log) {
		w->log(w->log_uctx, MUD_LOG_WARN, "metrics_file %s: %s", err->where, err->text);
	}
	if (rc == MUD_OK && w->failing && w->log) {
		w->log(w->log_uctx, MUD_LOG_INFO, "metrics_file %s written again", w->path);
	}
	w->failing = rc != MUD_OK;
	return rc;
}

static void *writer_main(void *arg)
{
	mud_metrics_writer_t *w = arg;

	pthread_mutex_lock(&w->mutex);
	while (!w->stop) {
		struct timespec until;
		mud_error_t err;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)w->interval;
		while (!w->stop) {
			if (pthread_cond_timedwait(&w->cond, &w->mutex, &until) != 0) break;
		}
		if (w->stop) break;
		pthread_mutex_unlock(&w->mutex);
		mud_error_clear(&err);
		(void)writer_round(w, &err, true);
		pthread_mutex_lock(&w->mutex);
	}
	pthread_mutex_unlock(&w->mutex);
	return NULL;
}

static int _writer_free(mud_metrics_writer_t *w)
{
	if (w->started) {
		mud_error_t err;

		pthread_mutex_lock(&w->mutex);
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->mutex);
		pthread_join(w->thread, NULL);
		mud_error_clear(&err);
		(void)writer_round(w, &err, true);	/* the last counts */
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mutex);
	return 0;
}

/** Start the writer (see mud.h). */
mud_rcode_t mud_metrics_writer_start(TALLOC_CTX *ctx, mud_metrics_writer_t **out,
				     char const *path, unsigned int interval,
				     mud_metrics_text_fn_t fn, void *uctx, mud_log_t log,
				     void *log_uctx, mud_error_t *err)
{
	mud_metrics_writer_t *w;
	pthread_condattr_t ca;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (!out || !path || !*path || !fn) {
		return mud_error_set(err, MUD_ERR_ARG, "metrics_file", "no path or no producer");
	}
	if (interval < 1 || interval > METRICS_INTERVAL_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "metrics_interval",
				     "must be 1..%d seconds", METRICS_INTERVAL_MAX);
	}
	if (strlen(path) > METRICS_PATH_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "metrics_file",
				     "path longer than %d bytes", METRICS_PATH_MAX);
	}
	w = talloc_zero(ctx, mud_metrics_writer_t);
	if (!w) return mud_error_set(err, MUD_ERR_NOMEM, "metrics_file", "out of memory");
	w->path = talloc_strdup(w, path);
	if (!w->path) {
		talloc_free(w);
		return mud_error_set(err, MUD_ERR_NOMEM, "metrics_file", "out of memory");
	}
	w->interval = interval;
	w->fn = fn;
	w->uctx = uctx;
	w->log = log;
	w->log_uctx = log_uctx;
	if (pthread_mutex_init(&w->mutex, NULL) != 0) {
		talloc_free(w);
		return mud_error_set(err, MUD_ERR_NOMEM, "pthread_mutex_init", "failed");
	}
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&w->cond, &ca) != 0) {
		pthread_mutex_destroy(&w->mutex);
		talloc_free(w);
		return mud_error_set(err, MUD_ERR_NOMEM, "pthread_cond_init", "failed");
	}
	pthread_condattr_destroy(&ca);
	talloc_set_destructor(w, _writer_free);

	/* the first write, here: an unusable path fails the start-up, not a later tick */
	rc = writer_round(w, err, false);	/* the caller reports err */
	if (rc != MUD_OK) {
		talloc_free(w);
		return rc;
	}
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		talloc_free(w);
		return mud_error_set(err, MUD_ERR_NOMEM, "pthread_create", "cannot start the "
				     "metrics writer");
	}
	w->started = true;
	*out = w;
	return MUD_OK;
}
