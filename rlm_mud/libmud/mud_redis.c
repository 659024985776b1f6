/*
 * mud_redis.c - state shared by a pool of RADIUS servers through Redis (mud_redis.h,
 * docs/high-availability.md): a bounded pool of hiredis connections with a down/backoff
 * state, HMAC envelopes on every value, and the MUD operations on top (policies, dACL
 * names, fetch leases, stations for CoA). The only file that includes <hiredis/hiredis.h>.
 *
 * Locking: r->mutex guards the slots' busy flags, the health state and the counters. A
 * connection is used by the one thread that took it, outside the lock; the lock is never
 * held across I/O.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mud_private.h"
#include "mud_redis.h"

#define ENV_MAGIC		"rlm_mud-redis 1\n"	//!< first line of every value
#define ENV_HMAC		"hmac: "
#define ENV_HEAD_LEN		(sizeof(ENV_MAGIC) - 1 + sizeof(ENV_HMAC) - 1 + 64 + 1)
#define KEY_MIN			32	//!< HMAC key bytes at least (as the cache's key)
#define KEY_MAX			1024
#define KEYNAME_MAX		(MUD_REDIS_PREFIX_MAX + 8 + MUD_MAX_ATTR_LEN + 80)
#define POLL_MS			25	//!< how often a lease loser looks for the result
#define PIPE_MAX		4	//!< commands sent together at most
#define SCAN_COUNT		"256"	//!< HSCAN batch
#define SCAN_ROUNDS_MAX		4096	//!< HSCAN calls per listing at most
#define STATION_REC_MAX		2048	//!< bytes of a station record (all fields bounded)
#define REFUSED_LOG_MS		1000	//!< at most one "refused" line per second

/** One connection of the pool. */
typedef struct {
	redisContext	*c;		//!< NULL: (re)connect on next use
	bool		busy;		//!< taken by a thread
} rslot_t;

struct mud_redis {
	pthread_mutex_t	mutex;
	pthread_cond_t	cond;		//!< a slot was given back
	bool		mutex_ok;
	bool		cond_ok;

	char		*server;
	uint16_t	port;
	char		*username;
	char		*password;
	unsigned int	database;
	char		*prefix;
	uint8_t		*key;
	size_t		key_len;
	unsigned int	connect_timeout_ms;
	unsigned int	timeout_ms;
	unsigned int	retry_min_ms;
	unsigned int	retry_max_ms;
	mud_log_t	log;
	void		*log_uctx;

	rslot_t		*slots;
	size_t		num_slots;

	bool		down;		//!< in backoff since the last failure
	bool		probing;	//!< a thread is trying Redis again
	uint64_t	down_until;	//!< monotonic ms
	unsigned int	backoff_ms;
	uint64_t	refused_logged;	//!< monotonic ms of the last "refused" line
	uint64_t	token_seq;
	char		node[40];	//!< this process: host, pid, random (lease tokens)

	mud_redis_stats_t stats;

	char		**unpub;	//!< URLs whose publish failed, retried by
					//!< mud_redis_republish() (talloc children of this)
	size_t		num_unpub;
};

#define REPUBLISH_MAX	1024	//!< URLs remembered for a later publish, at most

/** One command of a pipeline. */
typedef struct {
	int		argc;
	char const	*argv[6];
	size_t		argvlen[6];
} rcmd_t;

/*
 *	Time.
 */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(unsigned int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/*
 *	The pool and its health.
 */

/** Open and prepare one connection (AUTH, SELECT); NULL and why on failure. */
static redisContext *conn_open(mud_redis_t *r, char *why, size_t whylen)
{
	redisContext *c;
	redisReply *rep;

	c = redisConnectWithTimeout(r->server, r->port, ms_tv(r->connect_timeout_ms));
	if (!c || c->err) {
		snprintf(why, whylen, "connect: %s", c ? c->errstr : "out of memory");
		if (c) redisFree(c);
		return NULL;
	}
	if (redisSetTimeout(c, ms_tv(r->timeout_ms)) != REDIS_OK) {
		snprintf(why, whylen, "cannot set the socket timeout");
		redisFree(c);
		return NULL;
	}
	if (r->password) {
		char const *argv[3];
		size_t lens[3];
		int argc = 0;

		argv[argc] = "AUTH";
		lens[argc++] = 4;
		if (r->username) {
			argv[argc] = r->username;
			lens[argc++] = strlen(r->username);
		}
		argv[argc] = r->password;
		lens[argc++] = strlen(r->password);
		rep = redisCommandArgv(c, argc, argv, lens);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			/* the server's words, never the password */
			snprintf(why, whylen, "AUTH: %.120s",
				 rep ? rep->str : (c->errstr[0] ? c->errstr : "no answer"));
			if (rep) freeReplyObject(rep);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(rep);
	}
	if (r->database) {
		char db[16];
		char const *argv[2] = { "SELECT", db };
		size_t lens[2];

		snprintf(db, sizeof(db), "%u", r->database);
		lens[0] = 6;
		lens[1] = strlen(db);
		rep = redisCommandArgv(c, 2, argv, lens);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, whylen, "SELECT %s: %.120s", db,
				 rep ? rep->str : (c->errstr[0] ? c->errstr : "no answer"));
			if (rep) freeReplyObject(rep);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(rep);
	}
	return c;
}

/** Take a slot with a live connection; NULL if Redis is down (backoff), busy, or cannot
 *  be reached (then marked down). */
static void conn_put(mud_redis_t *r, rslot_t *slot, bool ok, char const *why);

static rslot_t *conn_get(mud_redis_t *r)
{
	rslot_t *slot = NULL;
	uint64_t now;
	uint64_t deadline;
	bool probe = false;
	size_t i;
	char why[192];

	pthread_mutex_lock(&r->mutex);
	now = mono_ms();
	if (r->down) {
		if (now < r->down_until || r->probing) {
			r->stats.skipped++;
			pthread_mutex_unlock(&r->mutex);
			return NULL;
		}
		r->probing = true;	/* this thread tries again; the others keep skipping */
		probe = true;
	}
	deadline = now + r->timeout_ms;
	for (;;) {
		for (i = 0; i < r->num_slots; i++) {
			if (!r->slots[i].busy) {
				slot = &r->slots[i];
				break;
			}
		}
		if (slot) break;
		now = mono_ms();
		if (now >= deadline) {
			r->stats.busy++;
			if (probe) r->probing = false;
			pthread_mutex_unlock(&r->mutex);
			return NULL;
		}
		{
			struct timespec ts;
			uint64_t left = deadline - now;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)(left / 1000);
			ts.tv_nsec += (long)(left % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&r->cond, &r->mutex, &ts);
		}
	}
	slot->busy = true;
	pthread_mutex_unlock(&r->mutex);

	if (!slot->c) {
		slot->c = conn_open(r, why, sizeof(why));
		if (!slot->c) {
			conn_put(r, slot, false, why);	/* marks Redis down, warns once */
			return NULL;
		}
	}
	return slot;
}

/** Give a slot back. ok = false: the connection is dropped and Redis marked down. */
static void conn_put(mud_redis_t *r, rslot_t *slot, bool ok, char const *why)
{
	bool warn = false;
	bool back = false;
	uint64_t was_down_ms = 0;
	size_t i;

	if (!ok && slot->c) {
		redisFree(slot->c);
		slot->c = NULL;
	}
	pthread_mutex_lock(&r->mutex);
	slot->busy = false;
	if (ok) {
		r->stats.commands++;
		r->stats.up = true;
		if (r->down) {
			back = true;
			r->stats.reconnects++;
			was_down_ms = r->backoff_ms;
		}
		r->down = false;
		r->probing = false;
		r->backoff_ms = 0;
	} else {
		r->stats.errors++;
		r->stats.up = false;
		if (!r->down) warn = true;
		r->down = true;
		r->probing = false;
		r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : r->retry_min_ms;
		if (r->backoff_ms > r->retry_max_ms) r->backoff_ms = r->retry_max_ms;
		r->down_until = mono_ms() + r->backoff_ms;
		/* the other idle connections went with it: reconnect them on their next use */
		for (i = 0; i < r->num_slots; i++) {
			if (r->slots[i].busy || !r->slots[i].c) continue;
			redisFree(r->slots[i].c);
			r->slots[i].c = NULL;
		}
	}
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mutex);

	if (warn && r->log) {
		r->log(r->log_uctx, MUD_LOG_WARN, "Redis %s:%u failed (%s): serving from local "
		       "state, retrying with backoff up to %u s", r->server, r->port,
		       why ? why : "error", r->retry_max_ms / 1000);
	}
	if (back && r->log) {
		r->log(r->log_uctx, MUD_LOG_INFO, "Redis %s:%u reachable again (last backoff %"
		       PRIu64 " ms): shared state resumes", r->server, r->port, was_down_ms);
	}
}

/** Send n commands in one round trip; replies[i] receive the answers (free them with
 *  freeReplyObject). false (nothing to free) if Redis is down or a command failed. */
static bool pipeline(mud_redis_t *r, rcmd_t *cmds, size_t n, redisReply **replies)
{
	rslot_t *slot;
	size_t i;
	size_t got = 0;
	char why[192];

	for (i = 0; i < n; i++) replies[i] = NULL;
	slot = conn_get(r);
	if (!slot) return false;
	for (i = 0; i < n; i++) {
		if (redisAppendCommandArgv(slot->c, cmds[i].argc, cmds[i].argv,
					   cmds[i].argvlen) != REDIS_OK) {
			snprintf(why, sizeof(why), "%s", slot->c->errstr);
			goto fail;
		}
	}
	for (got = 0; got < n; got++) {
		void *rep = NULL;

		if (redisGetReply(slot->c, &rep) != REDIS_OK || !rep) {
			snprintf(why, sizeof(why), "%s", slot->c->errstr[0] ? slot->c->errstr :
				 "no answer");
			goto fail;
		}
		replies[got] = rep;
		if (replies[got]->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof(why), "%.120s", replies[got]->str);
			got++;
			goto fail;
		}
	}
	conn_put(r, slot, true, NULL);
	return true;

fail:
	for (i = 0; i < got; i++) {
		freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	conn_put(r, slot, false, why);
	return false;
}

static void cmd_set(rcmd_t *c, int argc, ...)
{
	va_list ap;
	int i;

	va_start(ap, argc);
	c->argc = argc;
	for (i = 0; i < argc; i++) {
		c->argv[i] = va_arg(ap, char const *);
		c->argvlen[i] = va_arg(ap, size_t);
	}
	va_end(ap);
}

#define S(_s)	(_s), strlen(_s)

/*
 *	Keys and envelopes.
 */

/** <prefix><kind>:<sha256 of url> */
static void key_url(mud_redis_t const *r, char out[KEYNAME_MAX], char kind, char const *url)
{
	char hex[65];

	mud_sha256_hex(hex, url, strlen(url));
	snprintf(out, KEYNAME_MAX, "%s%c:%s", r->prefix, kind, hex);
}

/** HMAC-SHA256 of "<keyname>\n<payload>" as 64 hex digits; false on failure. */
static bool env_mac(mud_redis_t const *r, char out[65], char const *keyname, char const *payload,
		    size_t plen)
{
	static char const hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t klen = strlen(keyname);
	unsigned char *buf;
	unsigned int i;
	bool ok;

	buf = talloc_array(NULL, unsigned char, klen + 1 + plen);
	if (!buf) return false;
	memcpy(buf, keyname, klen);
	buf[klen] = '\n';
	memcpy(buf + klen + 1, payload, plen);
	ERR_clear_error();
	ok = HMAC(EVP_sha256(), r->key, (int)r->key_len, buf, klen + 1 + plen, md, &md_len) &&
	     md_len == 32;
	ERR_clear_error();
	talloc_free(buf);
	if (!ok) return false;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
	return true;
}

/** The envelope of payload for keyname, under ctx; NULL on failure. */
static char *env_seal(TALLOC_CTX *ctx, mud_redis_t const *r, char const *keyname,
		      char const *payload, size_t plen, size_t *len)
{
	char mac[65];
	char *out;

	if (!env_mac(r, mac, keyname, payload, plen)) return NULL;
	out = talloc_array(ctx, char, ENV_HEAD_LEN + plen + 1);
	if (!out) return NULL;
	snprintf(out, ENV_HEAD_LEN + 1, ENV_MAGIC ENV_HMAC "%s\n", mac);
	memcpy(out + ENV_HEAD_LEN, payload, plen);
	out[ENV_HEAD_LEN + plen] = '\0';
	*len = ENV_HEAD_LEN + plen;
	return out;
}

/** Check an envelope read from keyname; the payload is val + ENV_HEAD_LEN. */
static bool env_open(mud_redis_t const *r, char const *keyname, char const *val, size_t len,
		     char const **payload, size_t *plen, char *why, size_t whylen)
{
	char want[65];
	char const *mac;

	if (len < ENV_HEAD_LEN || memcmp(val, ENV_MAGIC ENV_HMAC, ENV_HEAD_LEN - 65) != 0 ||
	    val[ENV_HEAD_LEN - 1] != '\n') {
		snprintf(why, whylen, "not an \"rlm_mud-redis 1\" value");
		return false;
	}
	mac = val + ENV_HEAD_LEN - 65;
	if (!env_mac(r, want, keyname, val + ENV_HEAD_LEN, len - ENV_HEAD_LEN)) {
		snprintf(why, whylen, "HMAC failed");
		return false;
	}
	if (CRYPTO_memcmp(want, mac, 64) != 0) {
		snprintf(why, whylen, "hmac does not match (altered, moved, or another key_file)");
		return false;
	}
	*payload = val + ENV_HEAD_LEN;
	*plen = len - ENV_HEAD_LEN;
	return true;
}

/** A value that did not verify: count it, log it (at most once a second). */
static void refused(mud_redis_t *r, char const *keyname, char const *why)
{
	bool log = false;
	uint64_t now = mono_ms();
	char esc[160];

	pthread_mutex_lock(&r->mutex);
	r->stats.refused++;
	if (now >= r->refused_logged + REFUSED_LOG_MS || r->refused_logged == 0) {
		r->refused_logged = now;
		log = true;
	}
	pthread_mutex_unlock(&r->mutex);
	if (!log || !r->log) return;
	mudp_escape(esc, sizeof(esc), keyname, strlen(keyname));
	r->log(r->log_uctx, MUD_LOG_WARN, "Redis value %s refused, not used: %s", esc, why);
}

static void count(mud_redis_t *r, uint64_t *counter)
{
	pthread_mutex_lock(&r->mutex);
	(*counter)++;
	pthread_mutex_unlock(&r->mutex);
}

/** GET keyname: FOUND with the payload of a verified envelope (under ctx), NONE, DOWN,
 *  REFUSED (logged). */
static mud_redis_res_t get_env(mud_redis_t *r, TALLOC_CTX *ctx, char const *keyname,
			       char **payload, size_t *plen)
{
	rcmd_t cmd;
	redisReply *rep;
	char const *p;
	size_t n;
	char why[128];
	mud_redis_res_t res;

	*payload = NULL;
	*plen = 0;
	cmd_set(&cmd, 2, S("GET"), S(keyname));
	if (!pipeline(r, &cmd, 1, &rep)) return MUD_REDIS_DOWN;
	if (rep->type == REDIS_REPLY_NIL) {
		freeReplyObject(rep);
		return MUD_REDIS_NONE;
	}
	if (rep->type != REDIS_REPLY_STRING || rep->len > MUD_REDIS_VALUE_MAX) {
		freeReplyObject(rep);
		refused(r, keyname, "not a string of at most 4 MiB");
		return MUD_REDIS_REFUSED;
	}
	if (!env_open(r, keyname, rep->str, rep->len, &p, &n, why, sizeof(why))) {
		freeReplyObject(rep);
		refused(r, keyname, why);
		return MUD_REDIS_REFUSED;
	}
	*payload = talloc_array(ctx, char, n + 1);
	res = MUD_REDIS_NONE;
	if (*payload) {
		memcpy(*payload, p, n);
		(*payload)[n] = '\0';
		*plen = n;
		res = MUD_REDIS_FOUND;
	}
	freeReplyObject(rep);
	return res;
}

/*
 *	Creation.
 */

static int _redis_free(mud_redis_t *r)
{
	size_t i;

	for (i = 0; i < r->num_slots; i++) {
		if (r->slots[i].c) redisFree(r->slots[i].c);
		r->slots[i].c = NULL;
	}
	if (r->key) OPENSSL_cleanse(r->key, r->key_len);
	if (r->password) OPENSSL_cleanse(r->password, strlen(r->password));
	if (r->cond_ok) pthread_cond_destroy(&r->cond);
	if (r->mutex_ok) pthread_mutex_destroy(&r->mutex);
	return 0;
}

/** Read the HMAC key: ours, not readable by group or others, KEY_MIN..KEY_MAX bytes. */
static mud_rcode_t key_read(mud_redis_t *r, char const *path, mud_error_t *err)
{
	uint8_t *key = NULL;
	size_t len = 0;
	mud_rcode_t rc;

	rc = mudp_key_read(r, &key, &len, path, KEY_MIN, KEY_MAX, "key file", err);
	if (rc != MUD_OK) return rc;
	r->key = key;
	r->key_len = len;
	return MUD_OK;
}

bool mud_redis_available(void)
{
	return true;
}

mud_rcode_t mud_redis_create(TALLOC_CTX *ctx, mud_redis_t **out, mud_redis_opts_t const *opts,
			     mud_error_t *err)
{
	mud_redis_t *r;
	pthread_condattr_t ca;
	uint32_t rnd = 0;
	char host[64];
	mud_rcode_t rc;
	size_t i;

	*out = NULL;
	if (!opts || !opts->server || !*opts->server) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "no server");
	}
	if (!opts->key_file || !*opts->key_file) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "no key_file: every shared value "
				     "is signed, Redis alone is not trusted");
	}
	if (opts->prefix && strlen(opts->prefix) > MUD_REDIS_PREFIX_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "prefix longer than %d bytes",
				     MUD_REDIS_PREFIX_MAX);
	}
	if (opts->pool_size > MUD_REDIS_POOL_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "pool_size above %d",
				     MUD_REDIS_POOL_MAX);
	}
	if (opts->timeout_ms > MUD_REDIS_TIMEOUT_MAX ||
	    opts->connect_timeout_ms > MUD_REDIS_TIMEOUT_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "timeouts above %d ms",
				     MUD_REDIS_TIMEOUT_MAX);
	}

	r = talloc_zero(ctx, mud_redis_t);
	if (!r) return mud_error_set(err, MUD_ERR_NOMEM, "redis", "out of memory");
	talloc_set_destructor(r, _redis_free);
	if (pthread_mutex_init(&r->mutex, NULL) != 0) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "pthread_mutex_init", "cannot create mutex");
		goto error;
	}
	r->mutex_ok = true;
	if (pthread_condattr_init(&ca) != 0) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "pthread_condattr_init", "failed");
		goto error;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&r->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		rc = mud_error_set(err, MUD_ERR_NOMEM, "pthread_cond_init", "failed");
		goto error;
	}
	pthread_condattr_destroy(&ca);
	r->cond_ok = true;

	r->server = talloc_strdup(r, opts->server);
	r->port = opts->port ? opts->port : 6379;
	r->username = (opts->username && *opts->username) ? talloc_strdup(r, opts->username) :
							    NULL;
	r->password = (opts->password && *opts->password) ? talloc_strdup(r, opts->password) :
							    NULL;
	r->database = opts->database;
	r->prefix = talloc_strdup(r, opts->prefix ? opts->prefix : "mud:");
	r->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 100;
	r->timeout_ms = opts->timeout_ms ? opts->timeout_ms : 100;
	r->retry_min_ms = opts->retry_min_ms ? opts->retry_min_ms : 250;
	r->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : 30000;
	if (r->retry_max_ms < r->retry_min_ms) r->retry_max_ms = r->retry_min_ms;
	r->log = opts->log;
	r->log_uctx = opts->log_uctx;
	r->stats.up = true;
	r->num_slots = opts->pool_size ? opts->pool_size : 4;
	r->slots = talloc_zero_array(r, rslot_t, r->num_slots);
	if (!r->server || !r->prefix || !r->slots ||
	    (opts->username && *opts->username && !r->username) ||
	    (opts->password && *opts->password && !r->password)) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "redis", "out of memory");
		goto error;
	}
	rc = key_read(r, opts->key_file, err);
	if (rc != MUD_OK) goto error;

	if (gethostname(host, sizeof(host)) != 0) snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i]; i++) {
		if (host[i] <= ' ' || host[i] > '~') host[i] = '_';
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		rnd = (uint32_t)(uintptr_t)r ^ (uint32_t)time(NULL);
	}
	snprintf(r->node, sizeof(r->node), "%.16s-%ld-%08" PRIx32, host, (long)getpid(), rnd);

	*out = r;
	return MUD_OK;

error:
	talloc_free(r);
	return rc;
}

bool mud_redis_ping(mud_redis_t *r, mud_error_t *err)
{
	rcmd_t cmd;
	redisReply *rep;

	if (!r) return false;
	cmd_set(&cmd, 1, S("PING"));
	if (!pipeline(r, &cmd, 1, &rep)) {
		mud_error_set(err, MUD_ERR_FETCH, "redis", "%s:%u does not answer", r->server,
			      r->port);
		return false;
	}
	freeReplyObject(rep);
	return true;
}

/*
 *	Policies.
 */

/** The value of "<key>: " in a serialised entry (names hold no escapes), or false. */
static bool entry_field(char const *data, size_t len, char const *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	char const *p = data;
	char const *end = data + len;

	while (p < end) {
		char const *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (!nl) return false;
		if ((size_t)(nl - p) > klen + 2 && memcmp(p, key, klen) == 0 && p[klen] == ':' &&
		    p[klen + 1] == ' ') {
			n = (size_t)(nl - p) - klen - 2;
			if (n >= outlen || memchr(p + klen + 2, '\\', n)) return false;
			memcpy(out, p + klen + 2, n);
			out[n] = '\0';
			return true;
		}
		p = nl + 1;
	}
	return false;
}

mud_rcode_t mud_redis_policy_publish(mud_redis_t *r, mud_cache_t *cache, char const *url,
				     unsigned int stale_max, time_t now, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	char *data = NULL;
	size_t len = 0;
	time_t expires = 0;
	int64_t ttl;
	char kp[KEYNAME_MAX];
	char ka[2][KEYNAME_MAX];
	char px[24];
	char *val;
	size_t vlen = 0;
	rcmd_t cmds[3];
	redisReply *reps[3];
	size_t n = 0;
	size_t i;
	mud_rcode_t rc;

	if (!r) return MUD_OK;
	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "redis", "out of memory");
	rc = mud_cache_export(cache, tmp, url, &data, &len, &expires, err);
	if (rc != MUD_OK) goto done;
	ttl = ((int64_t)expires - (int64_t)now + (int64_t)stale_max) * 1000;
	if (ttl < 1000) ttl = 1000;
	snprintf(px, sizeof(px), "%" PRId64, ttl);

	key_url(r, kp, 'p', url);
	val = env_seal(tmp, r, kp, data, len, &vlen);
	if (!val) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "redis", "cannot seal the value");
		goto done;
	}
	cmd_set(&cmds[n++], 5, S("SET"), S(kp), val, vlen, S("PX"), S(px));
	for (i = 0; i < 2; i++) {
		char name[MUD_MAX_ATTR_LEN + 1];
		char *uval;
		size_t ulen = 0;

		if (!entry_field(data, len, i ? "acl-name-v6" : "acl-name-v4", name,
				 sizeof(name))) continue;
		snprintf(ka[i], sizeof(ka[i]), "%sa:%s", r->prefix, name);
		uval = env_seal(tmp, r, ka[i], url, strlen(url), &ulen);
		if (!uval) continue;
		cmd_set(&cmds[n++], 5, S("SET"), S(ka[i]), uval, ulen, S("PX"), S(px));
	}
	if (!pipeline(r, cmds, n, reps)) {
		rc = mud_error_set(err, MUD_ERR_FETCH, "redis", "%s:%u unreachable: policy kept "
				   "local", r->server, r->port);
		goto done;
	}
	for (i = 0; i < n; i++) freeReplyObject(reps[i]);
	count(r, &r->stats.published);
done:
	talloc_free(tmp);
	return rc;
}

/** The expiry in a verified serialised entry, 0 if absent. */
static time_t entry_expires(char const *data, size_t len)
{
	char buf[32];
	char *end = NULL;
	long long v;

	if (!entry_field(data, len, "expires", buf, sizeof(buf))) return 0;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || !end || *end) return 0;
	return (time_t)v;
}

mud_redis_res_t mud_redis_policy_import(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, bool fresh_only, bool release_token,
					mud_error_t *err)
{
	TALLOC_CTX *tmp;
	char kp[KEYNAME_MAX];
	char *data = NULL;
	size_t len = 0;
	bool imported = false;
	mud_redis_res_t res;
	mud_error_t ierr;

	if (!r || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return MUD_REDIS_NONE;
	tmp = talloc_new(NULL);
	if (!tmp) return MUD_REDIS_DOWN;
	key_url(r, kp, 'p', url);
	res = get_env(r, tmp, kp, &data, &len);
	if (res != MUD_REDIS_FOUND) goto done;
	if (fresh_only && entry_expires(data, len) <= now) {
		res = MUD_REDIS_NONE;
		goto done;
	}
	mud_error_clear(&ierr);
	if (mud_cache_import(cache, data, len, url, release_token, &imported, &ierr) != MUD_OK) {
		char why[sizeof(ierr.text) + sizeof(ierr.where) + 8];

		snprintf(why, sizeof(why), "%s (at %s)", ierr.text, ierr.where);
		refused(r, kp, why);
		if (err) *err = ierr;
		res = MUD_REDIS_REFUSED;
		goto done;
	}
	if (!imported) {
		res = MUD_REDIS_NONE;
		goto done;
	}
	count(r, &r->stats.imported);
done:
	talloc_free(tmp);
	return res;
}

mud_redis_res_t mud_redis_acl_import(mud_redis_t *r, mud_cache_t *cache, char const *acl_name,
				     time_t now, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	char ka[KEYNAME_MAX];
	char *url = NULL;
	size_t len = 0;
	mud_redis_res_t res;

	if (!r || !acl_name || !*acl_name || strlen(acl_name) > MUD_MAX_ATTR_LEN) {
		return MUD_REDIS_NONE;
	}
	tmp = talloc_new(NULL);
	if (!tmp) return MUD_REDIS_DOWN;
	snprintf(ka, sizeof(ka), "%sa:%s", r->prefix, acl_name);
	res = get_env(r, tmp, ka, &url, &len);
	if (res == MUD_REDIS_FOUND) {
		if (len == 0 || len > MUD_MAX_URL_LEN || strlen(url) != len) {
			refused(r, ka, "not a URL");
			res = MUD_REDIS_REFUSED;
		} else {
			res = mud_redis_policy_import(r, cache, url, now, false, false, err);
		}
	}
	talloc_free(tmp);
	return res;
}

/*
 *	Leases.
 */

mud_redis_res_t mud_redis_lease_take(mud_redis_t *r, char const *url, unsigned int lease_ms,
				     char token[MUD_REDIS_TOKEN_LEN])
{
	char kl[KEYNAME_MAX];
	char px[16];
	rcmd_t cmd;
	redisReply *rep;
	uint64_t seq;
	bool won;

	token[0] = '\0';
	if (!r) return MUD_REDIS_DOWN;
	pthread_mutex_lock(&r->mutex);
	seq = ++r->token_seq;
	pthread_mutex_unlock(&r->mutex);
	snprintf(token, MUD_REDIS_TOKEN_LEN, "%s-%" PRIu64, r->node, seq);
	snprintf(px, sizeof(px), "%u", lease_ms ? lease_ms : 1000);
	key_url(r, kl, 'l', url);
	cmd_set(&cmd, 6, S("SET"), S(kl), S(token), S("NX"), S("PX"), S(px));
	if (!pipeline(r, &cmd, 1, &rep)) {
		token[0] = '\0';
		return MUD_REDIS_DOWN;
	}
	won = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	count(r, won ? &r->stats.leases_won : &r->stats.leases_lost);
	if (!won) token[0] = '\0';
	return won ? MUD_REDIS_FOUND : MUD_REDIS_NONE;
}

void mud_redis_lease_release(mud_redis_t *r, char const *url, char const *token)
{
	static char const script[] =
		"if redis.call('get', KEYS[1]) == ARGV[1] then "
		"return redis.call('del', KEYS[1]) end return 0";
	char kl[KEYNAME_MAX];
	rcmd_t cmd;
	redisReply *rep;

	if (!r || !token || !*token) return;
	key_url(r, kl, 'l', url);
	cmd_set(&cmd, 5, S("EVAL"), S(script), S("1"), S(kl), S(token));
	if (pipeline(r, &cmd, 1, &rep)) freeReplyObject(rep);
}

mud_redis_begin_t mud_redis_fetch_begin(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, unsigned int lease_ms, unsigned int wait_ms,
					char token[MUD_REDIS_TOKEN_LEN])
{
	uint64_t start = mono_ms();
	mud_redis_res_t res;

	token[0] = '\0';
	if (!r) return MUD_REDIS_FETCH;
	for (;;) {
		time_t t = now + (time_t)((mono_ms() - start) / 1000);

		/* a fresh policy there already (another server fetched it) */
		res = mud_redis_policy_import(r, cache, url, t, true, true, NULL);
		if (res == MUD_REDIS_FOUND) return MUD_REDIS_SHARED;
		if (res == MUD_REDIS_DOWN) return MUD_REDIS_FETCH;

		res = mud_redis_lease_take(r, url, lease_ms, token);
		if (res == MUD_REDIS_DOWN) return MUD_REDIS_FETCH;
		if (res == MUD_REDIS_FOUND) {
			/* the holder before us may have published and released in between */
			if (mud_redis_policy_import(r, cache, url, t, true, true, NULL) ==
			    MUD_REDIS_FOUND) {
				mud_redis_lease_release(r, url, token);
				token[0] = '\0';
				return MUD_REDIS_SHARED;
			}
			return MUD_REDIS_FETCH;
		}
		/* another server fetches: wait for its result */
		if (mono_ms() - start + POLL_MS > wait_ms) return MUD_REDIS_FETCH;
		sleep_ms(POLL_MS);
	}
}

/** Remember url for a later publish (Redis was down or slow); bounded, oldest dropped. */
static void unpub_add(mud_redis_t *r, char const *url)
{
	size_t i;
	char *copy;

	pthread_mutex_lock(&r->mutex);
	for (i = 0; i < r->num_unpub; i++) {
		if (strcmp(r->unpub[i], url) == 0) goto done;
	}
	if (!r->unpub) {
		r->unpub = talloc_zero_array(r, char *, REPUBLISH_MAX);
		if (!r->unpub) goto done;
	}
	if (r->num_unpub == REPUBLISH_MAX) {
		talloc_free(r->unpub[0]);
		memmove(r->unpub, r->unpub + 1, (REPUBLISH_MAX - 1) * sizeof(*r->unpub));
		r->num_unpub--;
		r->stats.republish_dropped++;
	}
	copy = talloc_strdup(r->unpub, url);
	if (copy) r->unpub[r->num_unpub++] = copy;
done:
	pthread_mutex_unlock(&r->mutex);
}

void mud_redis_fetch_end(mud_redis_t *r, mud_cache_t *cache, char const *url,
			 char const *token, bool stored, unsigned int stale_max, time_t now)
{
	mud_error_t err;

	if (!r) return;
	mud_error_clear(&err);
	/* publish before the release: a server that takes the lease next finds the result */
	if (stored &&
	    mud_redis_policy_publish(r, cache, url, stale_max, now, &err) == MUD_ERR_FETCH) {
		unpub_add(r, url);	/* the other servers learn it when Redis answers */
	}
	mud_redis_lease_release(r, url, token);
}

/** Publish again what could not be published (see mud_redis.h). */
size_t mud_redis_republish(mud_redis_t *r, mud_cache_t *cache, unsigned int stale_max,
			   time_t now)
{
	char **list;
	size_t num;
	size_t i;
	size_t done = 0;
	mud_error_t err;

	if (!r) return 0;
	pthread_mutex_lock(&r->mutex);
	list = r->unpub;
	num = r->num_unpub;
	r->unpub = NULL;
	r->num_unpub = 0;
	pthread_mutex_unlock(&r->mutex);
	if (!list) return 0;

	for (i = 0; i < num; i++) {
		mud_rcode_t rc;

		mud_error_clear(&err);
		rc = mud_redis_policy_publish(r, cache, list[i], stale_max, now, &err);
		if (rc == MUD_ERR_FETCH) {
			size_t j;

			for (j = i; j < num; j++) unpub_add(r, list[j]);	/* still down */
			break;
		}
		if (rc == MUD_OK) {
			done++;
			count(r, &r->stats.republished);
		}
		/* anything else: no longer cached (evicted, failed since): nothing to share */
	}
	talloc_free(list);
	return done;
}

/*
 *	Stations.
 */

static bool clean_text(char const *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
	}
	return true;
}

/** Serialise the shared fields of a station (no secret); NULL if a field holds a control
 *  byte. */
static char *station_rec(TALLOC_CTX *ctx, mud_station_t const *st)
{
	char const *f[] = { st->key, st->url_applied ? st->url_applied : "", st->nas_ip,
			    st->nas_id, st->audit_session_id, st->calling_station_id,
			    st->coa_dst };
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!clean_text(f[i])) return NULL;
	}
	return talloc_asprintf(ctx, "station: %s\nurl: %s\nhash: %016" PRIx64 "\nnas-ip: %s\n"
			       "nas-id: %s\naudit: %s\ncsid: %s\ncoa-dst: %s\ncoa-port: %u\n"
			       "last: %" PRId64 "\n", f[0], f[1], st->policy_hash, f[2], f[3], f[4],
			       f[5], f[6], (unsigned int)st->coa_port, (int64_t)st->last);
}

/** Copy a field value into a fixed buffer; false (and "") if absent or too long. */
static bool rec_str(char const *rec, size_t len, char const *key, char *out, size_t outlen)
{
	if (entry_field(rec, len, key, out, outlen)) return true;
	out[0] = '\0';
	return false;
}

/** Parse a record into st (url_applied under ctx). false if malformed. */
static bool station_parse(TALLOC_CTX *ctx, char const *rec, size_t len, mud_station_t *st)
{
	char num[32];
	char *end = NULL;
	char *url;
	unsigned long long v;

	memset(st, 0, sizeof(*st));
	if (len > STATION_REC_MAX || memchr(rec, '\0', len)) return false;
	if (!rec_str(rec, len, "station", st->key, sizeof(st->key)) || !st->key[0]) return false;
	url = talloc_array(ctx, char, MUD_MAX_URL_LEN + 1);
	if (!url) return false;
	if (!entry_field(rec, len, "url", url, MUD_MAX_URL_LEN + 1)) {
		talloc_free(url);
		return false;
	}
	st->url_applied = url;
	if (!entry_field(rec, len, "hash", num, sizeof(num))) return false;
	errno = 0;
	v = strtoull(num, &end, 16);
	if (errno || !end || *end || strlen(num) != 16) return false;
	st->policy_hash = (uint64_t)v;
	(void)rec_str(rec, len, "nas-ip", st->nas_ip, sizeof(st->nas_ip));
	(void)rec_str(rec, len, "nas-id", st->nas_id, sizeof(st->nas_id));
	(void)rec_str(rec, len, "audit", st->audit_session_id, sizeof(st->audit_session_id));
	(void)rec_str(rec, len, "csid", st->calling_station_id, sizeof(st->calling_station_id));
	(void)rec_str(rec, len, "coa-dst", st->coa_dst, sizeof(st->coa_dst));
	if (entry_field(rec, len, "coa-port", num, sizeof(num))) {
		v = strtoull(num, &end, 10);
		if (*end || v > 65535) return false;
		st->coa_port = (uint16_t)v;
	}
	if (entry_field(rec, len, "last", num, sizeof(num))) {
		st->last = (time_t)strtoll(num, &end, 10);
	}
	return true;
}

mud_rcode_t mud_redis_station_put(mud_redis_t *r, mud_station_t const *st, char const *old_url,
				  unsigned int ttl, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	char ks[KEYNAME_MAX];
	char ko[KEYNAME_MAX];
	char kf[KEYNAME_MAX + MUD_STATION_KEY_MAX + 2];
	char ex[16];
	char *rec;
	char *val;
	size_t vlen = 0;
	rcmd_t cmds[3];
	redisReply *reps[3];
	size_t n = 0;
	size_t i;
	mud_rcode_t rc = MUD_OK;

	if (!r) return MUD_OK;
	if (!st || !st->key[0] || !st->url_applied || !*st->url_applied ||
	    strlen(st->url_applied) > MUD_MAX_URL_LEN) {
		return mud_error_set(err, MUD_ERR_ARG, "redis", "no station or URL");
	}
	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "redis", "out of memory");
	rec = station_rec(tmp, st);
	if (!rec) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_ARG, "redis", "station field with a control "
				     "byte");
	}
	key_url(r, ks, 's', st->url_applied);
	snprintf(kf, sizeof(kf), "%s/%s", ks, st->key);
	val = env_seal(tmp, r, kf, rec, strlen(rec), &vlen);
	if (!val) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "redis", "cannot seal the value");
	}
	snprintf(ex, sizeof(ex), "%u", ttl ? ttl : 86400);
	cmd_set(&cmds[n++], 4, S("HSET"), S(ks), S(st->key), val, vlen);
	cmd_set(&cmds[n++], 3, S("EXPIRE"), S(ks), S(ex));
	if (old_url && *old_url && strcmp(old_url, st->url_applied) != 0 &&
	    strlen(old_url) <= MUD_MAX_URL_LEN) {
		key_url(r, ko, 's', old_url);
		cmd_set(&cmds[n++], 3, S("HDEL"), S(ko), S(st->key));
	}
	if (!pipeline(r, cmds, n, reps)) {
		rc = mud_error_set(err, MUD_ERR_FETCH, "redis", "%s:%u unreachable", r->server,
				   r->port);
	} else {
		for (i = 0; i < n; i++) freeReplyObject(reps[i]);
	}
	talloc_free(tmp);
	return rc;
}

size_t mud_redis_stations_by_url(mud_redis_t *r, TALLOC_CTX *ctx, char const *url,
				 mud_station_t **out, size_t max)
{
	char ks[KEYNAME_MAX];
	char cursor[32] = "0";
	size_t num = 0;
	size_t rounds = 0;
	mud_station_t *arr = NULL;

	*out = NULL;
	if (!r || !url || !*url || strlen(url) > MUD_MAX_URL_LEN || max == 0) return 0;
	key_url(r, ks, 's', url);
	do {
		rcmd_t cmd;
		redisReply *rep;
		redisReply *items;
		size_t i;

		cmd_set(&cmd, 5, S("HSCAN"), S(ks), S(cursor), S("COUNT"), S(SCAN_COUNT));
		if (!pipeline(r, &cmd, 1, &rep)) break;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[0]->len >= sizeof(cursor) ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(rep);
			break;
		}
		memcpy(cursor, rep->element[0]->str, rep->element[0]->len);
		cursor[rep->element[0]->len] = '\0';
		items = rep->element[1];
		for (i = 0; i + 1 < items->elements && num < max; i += 2) {
			redisReply *f = items->element[i];
			redisReply *v = items->element[i + 1];
			char kf[KEYNAME_MAX + MUD_STATION_KEY_MAX + 2];
			char const *p;
			size_t plen;
			char why[128];
			mud_station_t st;
			mud_station_t *na;

			if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
			    f->len == 0 || f->len >= MUD_STATION_KEY_MAX ||
			    memchr(f->str, '\0', f->len)) continue;
			snprintf(kf, sizeof(kf), "%s/%.*s", ks, (int)f->len, f->str);
			if (!env_open(r, kf, v->str, v->len, &p, &plen, why, sizeof(why))) {
				refused(r, kf, why);
				continue;
			}
			if (!station_parse(ctx, p, plen, &st) || strcmp(st.url_applied, url) != 0 ||
			    strlen(st.key) != f->len || memcmp(st.key, f->str, f->len) != 0) {
				talloc_free(st.url_applied);
				refused(r, kf, "malformed station record");
				continue;
			}
			na = talloc_realloc(ctx, arr, mud_station_t, num + 1);
			if (!na) {
				talloc_free(st.url_applied);
				break;
			}
			arr = na;
			(void)talloc_steal(arr, st.url_applied);
			arr[num++] = st;
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") != 0 && num < max && ++rounds < SCAN_ROUNDS_MAX);
	*out = arr;
	return num;
}

bool mud_redis_coa_claim(mud_redis_t *r, char const *station, uint64_t policy_hash,
			 unsigned int ttl)
{
	char kc[KEYNAME_MAX + MUD_STATION_KEY_MAX + 200];
	char ex[16];
	rcmd_t cmd;
	redisReply *rep;
	bool won;

	if (!r || !station || !*station || strlen(station) >= MUD_STATION_KEY_MAX) return true;
	snprintf(kc, sizeof(kc), "%sc:%s:%016" PRIx64, r->prefix, station, policy_hash);
	snprintf(ex, sizeof(ex), "%u", ttl ? ttl : 60);
	cmd_set(&cmd, 6, S("SET"), S(kc), S(r->node), S("NX"), S("EX"), S(ex));
	if (!pipeline(r, &cmd, 1, &rep)) return true;
	won = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return won;
}

void mud_redis_stats(mud_redis_t *r, mud_redis_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!r) return;
	pthread_mutex_lock(&r->mutex);
	*out = r->stats;
	pthread_mutex_unlock(&r->mutex);
}
