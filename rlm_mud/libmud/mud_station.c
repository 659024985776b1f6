/*
 * mud_station.c - the station index: what the server knows of each device it has
 * seen (keyed by its normalised Calling-Station-Id): where its session is (NAS,
 * audit-session-id, Acct-Session-Id, for CoA), which MUD URL was applied and with
 * which dACLs, and which URL accounting taught.
 *
 * Shape: a hash table split in MUD_STATION_STRIPES independent stripes, each with
 * its own mutex, buckets (grown by doubling, never preallocated for the maximum),
 * LRU list and share of the entry bound, so unrelated stations never contend and
 * every operation is O(1) on average. Keys come from the network (a device chooses
 * its MAC address), so the bucket hash is SipHash-2-4 with a per-table random key:
 * nobody can aim many keys at one bucket. Entries idle longer than idle_timeout
 * are dropped as stripes are touched; the least recently used entry of a full
 * stripe makes room for a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "mud_private.h"

#define MUD_STATION_STRIPES	64	//!< independent locks (a power of two)
#define STRIPE_BUCKETS_MIN	16	//!< initial buckets per stripe (a power of two)
#define EXPIRE_PER_TOUCH	4	//!< idle entries dropped per stripe access (amortised)

typedef struct st_node st_node_t;

/** One entry: a node of its bucket chain and of its stripe's LRU list. */
struct st_node {
	st_node_t	*next;		//!< bucket chain
	st_node_t	*lru_prev;	//!< towards the most recently used
	st_node_t	*lru_next;	//!< towards the least recently used
	uint64_t	hash;
	mud_station_t	st;		//!< url strings are children of the node
};

typedef struct {
	pthread_mutex_t	mutex;
	TALLOC_CTX	*pool;		//!< parent of this stripe's nodes (touched under mutex)
	st_node_t	**buckets;
	size_t		num_buckets;
	size_t		num;
	size_t		max;		//!< at most twice this stripe's share of max_entries
	st_node_t	*lru_head;	//!< most recently used
	st_node_t	*lru_tail;	//!< least recently used
	uint64_t	evicted;
	uint64_t	expired;
} st_stripe_t;

struct mud_stations {
	uint64_t	k0;		//!< SipHash key
	uint64_t	k1;
	unsigned int	idle_timeout;
	size_t		max_entries;
	size_t		total;		//!< entries in all stripes (__atomic)
	st_stripe_t	stripes[MUD_STATION_STRIPES];
};

/* ====================================================================
 *	SipHash-2-4 (Aumasson, Bernstein), 64-bit output
 * ==================================================================== */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND							\
	do {								\
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;			\
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;			\
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(uint8_t const *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
	return v;
}

static uint64_t siphash(uint64_t k0, uint64_t k1, void const *data, size_t len)
{
	uint8_t const *p = data;
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56;
	size_t left = len & 7;
	uint8_t tail[8];
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t m = le64(p + i);

		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	memset(tail, 0, sizeof(tail));
	memcpy(tail, p + i, left);
	b |= le64(tail);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ====================================================================
 *	Table
 * ==================================================================== */

static int _stations_free(mud_stations_t *t)
{
	size_t i;

	for (i = 0; i < MUD_STATION_STRIPES; i++) pthread_mutex_destroy(&t->stripes[i].mutex);
	return 0;
}

/** Create a station index (see mud.h). */
mud_rcode_t mud_stations_create(TALLOC_CTX *ctx, mud_stations_t **out,
				mud_stations_opts_t const *opts, mud_error_t *err)
{
	mud_stations_t *t;
	uint8_t key[16];
	size_t max;
	size_t i;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output pointer");
	*out = NULL;
	max = opts && opts->max_entries ? opts->max_entries : MUD_STATIONS_DEFAULT;
	if (max > MUD_STATIONS_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "max_entries", "%zu stations, more than "
				     "the limit of %d", max, MUD_STATIONS_MAX);
	}
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		return mud_error_set(err, MUD_ERR_IO, "getrandom", "no randomness for the "
				     "station hash key (errno %d)", errno);
	}
	t = talloc_zero(ctx, mud_stations_t);
	if (!t) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	t->k0 = le64(key);
	t->k1 = le64(key + 8);
	t->max_entries = max;
	t->idle_timeout = opts && opts->idle_timeout ? opts->idle_timeout :
			  MUD_STATIONS_IDLE_DEFAULT;
	for (i = 0; i < MUD_STATION_STRIPES; i++) {
		st_stripe_t *s = &t->stripes[i];

		s->max = 2 * ((max + MUD_STATION_STRIPES - 1) / MUD_STATION_STRIPES);
		s->pool = talloc_new(t);
		/* Not under a NULL pool: that is the NULL context, and the array would leak. */
		s->buckets = s->pool ? talloc_zero_array(s->pool, st_node_t *, STRIPE_BUCKETS_MIN) :
				       NULL;
		if (!s->pool || !s->buckets) {
			talloc_free(t);
			return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
		}
		s->num_buckets = STRIPE_BUCKETS_MIN;
	}
	for (i = 0; i < MUD_STATION_STRIPES; i++) {
		pthread_mutex_init(&t->stripes[i].mutex, NULL);
	}
	talloc_set_destructor(t, _stations_free);
	*out = t;
	return MUD_OK;
}

static st_stripe_t *stripe_of(mud_stations_t *t, uint64_t h)
{
	return &t->stripes[h & (MUD_STATION_STRIPES - 1)];
}

static size_t bucket_of(st_stripe_t const *s, uint64_t h)
{
	return (size_t)(h >> 6) & (s->num_buckets - 1);	/* low bits chose the stripe */
}

static void lru_unlink(st_stripe_t *s, st_node_t *n)
{
	if (n->lru_prev) {
		n->lru_prev->lru_next = n->lru_next;
	} else {
		s->lru_head = n->lru_next;
	}
	if (n->lru_next) {
		n->lru_next->lru_prev = n->lru_prev;
	} else {
		s->lru_tail = n->lru_prev;
	}
	n->lru_prev = NULL;
	n->lru_next = NULL;
}

static void lru_push(st_stripe_t *s, st_node_t *n)
{
	n->lru_prev = NULL;
	n->lru_next = s->lru_head;
	if (s->lru_head) s->lru_head->lru_prev = n;
	s->lru_head = n;
	if (!s->lru_tail) s->lru_tail = n;
}

/** Remove a node from its bucket and the LRU list, and free it. */
static void node_drop(mud_stations_t *t, st_stripe_t *s, st_node_t *n)
{
	st_node_t **pp = &s->buckets[bucket_of(s, n->hash)];

	while (*pp && *pp != n) pp = &(*pp)->next;
	if (*pp) *pp = n->next;
	lru_unlink(s, n);
	s->num--;
	__atomic_sub_fetch(&t->total, 1, __ATOMIC_RELAXED);
	talloc_free(n);
}

static st_node_t *node_find(st_stripe_t *s, uint64_t h, char const *key)
{
	st_node_t *n;

	for (n = s->buckets[bucket_of(s, h)]; n; n = n->next) {
		if (n->hash == h && strcmp(n->st.key, key) == 0) return n;
	}
	return NULL;
}

/** Drop up to EXPIRE_PER_TOUCH idle entries from the LRU end. Caller holds the lock. */
static void stripe_expire(mud_stations_t *t, st_stripe_t *s, time_t now, size_t limit)
{
	size_t i;

	for (i = 0; i < limit && s->lru_tail; i++) {
		if (s->lru_tail->st.last + (time_t)t->idle_timeout > now) break;
		node_drop(t, s, s->lru_tail);
		s->expired++;
	}
}

/** Double the buckets when the load passes 1 (allocation failure: keep the old ones). */
static void stripe_grow(st_stripe_t *s)
{
	size_t nb = s->num_buckets * 2;
	st_node_t **b;
	size_t i;

	if (s->num <= s->num_buckets) return;
	b = talloc_zero_array(s->pool, st_node_t *, nb);
	if (!b) return;
	for (i = 0; i < s->num_buckets; i++) {
		st_node_t *n = s->buckets[i];

		while (n) {
			st_node_t *next = n->next;
			size_t j = (size_t)(n->hash >> 6) & (nb - 1);

			n->next = b[j];
			b[j] = n;
			n = next;
		}
	}
	talloc_free(s->buckets);
	s->buckets = b;
	s->num_buckets = nb;
}

/** Copy a station out (strings under ctx). */
static bool station_copy(TALLOC_CTX *ctx, mud_station_t *dst, mud_station_t const *src)
{
	*dst = *src;
	dst->url_applied = NULL;
	dst->url_seen = NULL;
	if (src->url_applied) {
		dst->url_applied = talloc_strdup(ctx, src->url_applied);
		if (!dst->url_applied) return false;
	}
	if (src->url_seen) {
		dst->url_seen = talloc_strdup(ctx, src->url_seen);
		if (!dst->url_seen) {
			TALLOC_FREE(dst->url_applied);
			return false;
		}
	}
	return true;
}

/** Copy of a new string value for set_url(), made before anything changes; *v NULL when
 *  there is nothing to copy (value NULL or "", or equal to cur). false: out of memory. */
static bool url_dup(TALLOC_CTX *ctx, char const *cur, char const *value, char **v)
{
	*v = NULL;
	if (!value || !value[0] || (cur && strcmp(cur, value) == 0)) return true;
	*v = talloc_strndup(ctx, value, MUD_MAX_URL_LEN);
	return *v != NULL;
}

/** Replace a string child of a node by v from url_dup() (value NULL or "" clears it). */
static void set_url(st_node_t *n, char **field, char *v, char const *value)
{
	if (!v && value && value[0]) return;	/* unchanged */
	talloc_free(*field);
	*field = v ? talloc_steal(n, v) : NULL;
}

/** Update a station (see mud.h). */
mud_rcode_t mud_stations_update(mud_stations_t *t, char const *key, mud_station_t const *in,
				unsigned int fields, time_t now, TALLOC_CTX *ctx,
				mud_station_t *before, mud_error_t *err)
{
	uint64_t h;
	st_stripe_t *s;
	st_node_t *n;
	size_t klen;
	char *applied = NULL;
	char *seen = NULL;
	mud_rcode_t rc = MUD_OK;

	if (before) memset(before, 0, sizeof(*before));
	if (!t || !key || !in) return mud_error_set(err, MUD_ERR_ARG, "", "no table, key or data");
	klen = strlen(key);
	if (klen == 0 || klen >= MUD_STATION_KEY_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "station", "station key of %zu bytes "
				     "(1..%d)", klen, MUD_STATION_KEY_MAX - 1);
	}
	h = siphash(t->k0, t->k1, key, klen);
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mutex);
	stripe_expire(t, s, now, EXPIRE_PER_TOUCH);
	n = node_find(s, h, key);
	/* The copies first: a station is updated whole, or (out of memory) not at all. */
	if ((fields & MUD_STATION_APPLIED) &&
	    !url_dup(s->pool, n ? n->st.url_applied : NULL, in->url_applied, &applied)) goto nomem;
	if ((fields & MUD_STATION_SEEN) &&
	    !url_dup(s->pool, n ? n->st.url_seen : NULL, in->url_seen, &seen)) goto nomem;
	if (n) {
		if (before && !station_copy(ctx, before, &n->st)) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "station", "out of memory");
			goto done;
		}
		lru_unlink(s, n);
	} else {
		/*
		 *	The bound is global (an atomic count), the eviction local: a full table
		 *	drops this stripe's least recently used entry, so the table holds at
		 *	most max_entries + MUD_STATION_STRIPES (an empty stripe still takes
		 *	one) and no stripe more than twice its share.
		 */
		if (s->lru_tail && (s->num >= s->max ||
				    __atomic_load_n(&t->total, __ATOMIC_RELAXED) >=
				    t->max_entries)) {
			node_drop(t, s, s->lru_tail);
			s->evicted++;
		}
		n = talloc_zero(s->pool, st_node_t);
		if (!n) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "station", "out of memory");
			goto done;
		}
		n->hash = h;
		memcpy(n->st.key, key, klen + 1);
		n->next = s->buckets[bucket_of(s, h)];
		s->buckets[bucket_of(s, h)] = n;
		s->num++;
		__atomic_add_fetch(&t->total, 1, __ATOMIC_RELAXED);
		stripe_grow(s);
	}
	lru_push(s, n);
	n->st.last = now;

	if (fields & MUD_STATION_NAS) {
		mudp_strlcpy(n->st.nas_ip, in->nas_ip, sizeof(n->st.nas_ip));
		mudp_strlcpy(n->st.nas_id, in->nas_id, sizeof(n->st.nas_id));
		mudp_strlcpy(n->st.nas_port, in->nas_port, sizeof(n->st.nas_port));
		mudp_strlcpy(n->st.user_name, in->user_name, sizeof(n->st.user_name));
		mudp_strlcpy(n->st.ip, in->ip, sizeof(n->st.ip));
		mudp_strlcpy(n->st.ip6, in->ip6, sizeof(n->st.ip6));
	}
	if (fields & MUD_STATION_AUDIT) {
		mudp_strlcpy(n->st.audit_session_id, in->audit_session_id,
			     sizeof(n->st.audit_session_id));
	}
	if (fields & MUD_STATION_ACCT) {
		mudp_strlcpy(n->st.acct_session_id, in->acct_session_id,
			     sizeof(n->st.acct_session_id));
	}
	if (fields & MUD_STATION_APPLIED) {
		set_url(n, &n->st.url_applied, applied, in->url_applied);
		applied = NULL;
		n->st.policy_hash = in->policy_hash;
	}
	if (fields & MUD_STATION_SEEN) {
		set_url(n, &n->st.url_seen, seen, in->url_seen);
		seen = NULL;
		mudp_strlcpy(n->st.url_seen_src, in->url_seen_src, sizeof(n->st.url_seen_src));
	}
	if (fields & MUD_STATION_SESSION) n->st.in_session = in->in_session;
	if (fields & MUD_STATION_COA) {
		mudp_strlcpy(n->st.calling_station_id, in->calling_station_id,
			     sizeof(n->st.calling_station_id));
		mudp_strlcpy(n->st.coa_dst, in->coa_dst, sizeof(n->st.coa_dst));
		n->st.coa_port = in->coa_port;
		mudp_strlcpy(n->st.coa_secret, in->coa_secret, sizeof(n->st.coa_secret));
	}
	goto done;

nomem:
	rc = mud_error_set(err, MUD_ERR_NOMEM, "station", "out of memory");
done:
	talloc_free(applied);
	talloc_free(seen);
	pthread_mutex_unlock(&s->mutex);
	return rc;
}

/** Copy out one station (see mud.h). */
bool mud_stations_get(mud_stations_t *t, TALLOC_CTX *ctx, char const *key, time_t now,
		      mud_station_t *out)
{
	uint64_t h;
	st_stripe_t *s;
	st_node_t *n;
	bool ok = false;

	if (!t || !key || !out || !key[0] || strlen(key) >= MUD_STATION_KEY_MAX) return false;
	h = siphash(t->k0, t->k1, key, strlen(key));
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mutex);
	stripe_expire(t, s, now, EXPIRE_PER_TOUCH);
	n = node_find(s, h, key);
	if (n) ok = station_copy(ctx, out, &n->st);
	pthread_mutex_unlock(&s->mutex);
	return ok;
}

/** Forget one station (see mud.h). */
bool mud_stations_remove(mud_stations_t *t, char const *key)
{
	uint64_t h;
	st_stripe_t *s;
	st_node_t *n;

	if (!t || !key || !key[0] || strlen(key) >= MUD_STATION_KEY_MAX) return false;
	h = siphash(t->k0, t->k1, key, strlen(key));
	s = stripe_of(t, h);
	pthread_mutex_lock(&s->mutex);
	n = node_find(s, h, key);
	if (n) node_drop(t, s, n);
	pthread_mutex_unlock(&s->mutex);
	return n != NULL;
}

/** Drop every idle station (see mud.h). */
size_t mud_stations_expire(mud_stations_t *t, time_t now)
{
	size_t i;
	size_t dropped = 0;

	if (!t) return 0;
	for (i = 0; i < MUD_STATION_STRIPES; i++) {
		st_stripe_t *s = &t->stripes[i];
		size_t before;

		pthread_mutex_lock(&s->mutex);
		before = s->num;
		stripe_expire(t, s, now, SIZE_MAX);
		dropped += before - s->num;
		pthread_mutex_unlock(&s->mutex);
	}
	return dropped;
}

/** Stations a policy was applied to (see mud.h). */
mud_rcode_t mud_stations_by_url(mud_stations_t *t, TALLOC_CTX *ctx, char const *url,
				mud_station_t **out, size_t max, size_t *num, mud_error_t *err)
{
	mud_station_t *arr = NULL;
	size_t i;
	mud_rcode_t rc = MUD_OK;

	if (out) *out = NULL;
	if (num) *num = 0;
	if (!t || !url || !out || !num) {
		return mud_error_set(err, MUD_ERR_ARG, "stations", "no index, URL or output");
	}
	for (i = 0; i < MUD_STATION_STRIPES && *num < max && rc == MUD_OK; i++) {
		st_stripe_t *s = &t->stripes[i];
		st_node_t *n;

		pthread_mutex_lock(&s->mutex);
		for (n = s->lru_head; n && *num < max; n = n->lru_next) {
			mud_station_t *na;

			if (!n->st.url_applied || strcmp(n->st.url_applied, url) != 0) continue;
			na = talloc_realloc(ctx, arr, mud_station_t, *num + 1);
			if (!na || !station_copy(na, &na[*num], &n->st)) {
				if (na) arr = na;
				rc = mud_error_set(err, MUD_ERR_NOMEM, "stations",
						   "out of memory after %zu station(s)", *num);
				break;
			}
			arr = na;
			(*num)++;
		}
		pthread_mutex_unlock(&s->mutex);
	}
	*out = arr;
	return rc;
}

static int url_cmp(void const *key, void const *elem)
{
	return strcmp((char const *)key, *(char * const *)elem);
}

/** Stations per URL, one pass (see mud.h). */
void mud_stations_count_urls(mud_stations_t *t, char * const *urls, size_t n, size_t *counts)
{
	size_t i;

	if (!counts) return;
	memset(counts, 0, n * sizeof(*counts));
	if (!t || !urls || n == 0) return;
	for (i = 0; i < MUD_STATION_STRIPES; i++) {
		st_stripe_t *s = &t->stripes[i];
		st_node_t *nd;

		pthread_mutex_lock(&s->mutex);
		for (nd = s->lru_head; nd; nd = nd->lru_next) {
			char * const *hit;

			if (!nd->st.url_applied) continue;
			hit = bsearch(nd->st.url_applied, urls, n, sizeof(*urls), url_cmp);
			if (hit) counts[hit - urls]++;
		}
		pthread_mutex_unlock(&s->mutex);
	}
}

/** Counters (see mud.h). */
void mud_stations_stats(mud_stations_t *t, mud_stations_stats_t *out)
{
	size_t i;

	if (!out) return;
	memset(out, 0, sizeof(*out));
	if (!t) return;
	out->max_entries = t->max_entries;
	for (i = 0; i < MUD_STATION_STRIPES; i++) {
		st_stripe_t *s = &t->stripes[i];

		pthread_mutex_lock(&s->mutex);
		out->entries += s->num;
		out->evicted += s->evicted;
		out->expired += s->expired;
		out->buckets += s->num_buckets;
		pthread_mutex_unlock(&s->mutex);
	}
}
