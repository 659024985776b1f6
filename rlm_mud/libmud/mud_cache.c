/*
 * mud_cache.c - URL-keyed policy cache: thread-safe, single-flight,
 * stale-on-error, bounded (LRU), optionally persisted to a directory.
 *
 * Locking (docs/threadsafety.md):
 *  - cache->mutex guards every field of the cache, the hash tables, the LRU
 *    list, the nodes and all talloc allocations under the cache's context.
 *    It is held only for lookup, insert, expire and copy-out; never across I/O.
 *  - cache->io_mutex serialises the persistence directory (write, rename,
 *    unlink). It is taken BEFORE cache->mutex, never while holding it, so a
 *    slow disk never blocks a lookup.
 *  - A mud_entry_t is immutable once inserted. It is replaced (never edited)
 *    and freed under the lock; readers copy it out under the lock, so no
 *    pointer into the cache ever escapes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mud_render_priv.h"
#include "mud_redis.h"

#define CACHE_MAX_ENTRIES_DEFAULT	10000
#define CACHE_MAX_VALIDITY_DEFAULT	(MUD_CACHE_VALIDITY_MAX * 3600)
#define CACHE_FAIL_TTL_DEFAULT		60
#define CACHE_INFLIGHT_MAX_DEFAULT	120
#define CACHE_BUCKETS_MIN		64

#define CACHE_FILE_MAGIC	"rlm_mud-cache 2"	//!< first line of a persisted entry
#define CACHE_FILE_MAX		(4 * 1024 * 1024)	//!< 2000 escaped lines of <= 253 bytes
							//!< fit well below 4 MiB.
#define CACHE_FILE_MAX_LINES	(2 * MUD_MAX_ATTRS + 32)	//!< v4 + v6 lines + header.
#define CACHE_TMP_PREFIX	"tmp."			//!< temporary files: tmp.<sha256>.XXXXXX
							//!< (tmp.<sha256>.src.XXXXXX)
#define CACHE_SRC_MAGIC		"rlm_mud-source 1"	//!< first line of a kept MUD file
#define CACHE_SRC_SUFFIX	".src"			//!< <sha256 of url>.src: its kept file
#define CACHE_SRC_HEADER_MAX	(2 * MUD_MAX_URL_LEN + 256)	//!< header of a kept file:
							//!< the url escaped (a '\\' doubles)
							//!< and four short lines
#define CACHE_ERR_TEXT_MAX	255			//!< bytes of error text/where kept
#define CACHE_TIME_MAX		((time_t)1 << 48)	//!< bound on persisted timestamps
#define CACHE_KEY_MIN		32	//!< bytes of HMAC key at least (SHA-256 block strength)
#define CACHE_KEY_MAX		1024	//!< bytes of HMAC key read at most

typedef struct cache_node cache_node_t;

/** One entry of the dACL name index (two per node: v4 and v6). */
typedef struct acl_ref {
	struct acl_ref	*next;		//!< hash chain
	uint64_t	hash;
	char const	*name;		//!< points into node->entry (lives as long as the entry)
	cache_node_t	*node;
	bool		v6;		//!< name of the IPv6 dACL
	bool		linked;		//!< currently in the index
} acl_ref_t;

/** One URL. May hold no entry while a first fetch is in flight. */
struct cache_node {
	cache_node_t	*hnext;		//!< URL hash chain
	cache_node_t	*lru_prev;	//!< towards most recently used
	cache_node_t	*lru_next;	//!< towards least recently used
	uint64_t	hash;
	char		*url;		//!< key (talloc child of the node)
	mud_entry_t	*entry;		//!< immutable; NULL while only a fetch is in flight
	uint64_t	gen;		//!< generation of entry (orders persistence writes)
	bool		inflight;	//!< a fetch token is out
	time_t		inflight_since;	//!< when it was handed out
	time_t		retry_after;	//!< no new token before this (after a failure)
	acl_ref_t	aref[2];	//!< [0] v4 name, [1] v6 name
	bool		recheck;	//!< the good entry has no signer chain and the trust
					//!< anchors were re-checked (mud_cache_revalidate()):
					//!< never a HIT until stored again; reset by
					//!< node_set_entry()
};

struct mud_cache {
	pthread_mutex_t	mutex;		//!< guards everything below
	pthread_mutex_t	io_mutex;	//!< serialises the persistence directory
	bool		mutex_ok;
	bool		io_mutex_ok;

	char		*dir;		//!< persistence directory or NULL
	size_t		max_entries;
	time_t		max_validity;
	time_t		fail_ttl;
	time_t		stale_max;
	time_t		inflight_max;
	time_t		dns_ttl_min;	//!< 0: DNS TTLs do not shorten an entry's life
	time_t		dns_ttl_max;
	uint64_t	key[2];		//!< SipHash key (hash flooding by devices' URLs)
	mud_format_t	format;		//!< format of the lines (persisted entries are checked)
	mud_log_t	log;		//!< where dropped persisted entries are reported
	void		*log_uctx;
	uint8_t		*mac_key;	//!< HMAC key of persisted entries, NULL = none
	size_t		mac_key_len;
	char		*compile_tag;	//!< current compile tag (normalised, never NULL); a good
					//!< entry of another tag is never a HIT
	mud_trust_t	*trust;		//!< own reference to the anchors of the last
					//!< mud_cache_revalidate() (NULL: none); shared
					//!< entries are checked against it on import

	cache_node_t	**buckets;
	size_t		num_buckets;	//!< power of two
	size_t		num_nodes;
	size_t		num_entries;	//!< nodes with an entry

	acl_ref_t	**abuckets;
	size_t		num_abuckets;	//!< power of two
	size_t		num_arefs;

	cache_node_t	*lru_head;	//!< most recently used
	cache_node_t	*lru_tail;	//!< least recently used
	uint64_t	gen;

	mud_cache_stats_t	stats;
};

/*
 *	SipHash-2-4 (Aumasson, Bernstein), keyed per cache so that devices
 *	cannot choose URLs that collide.
 */
#define ROTL64(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

static uint64_t siphash(uint64_t const key[2], char const *str)
{
	size_t len = strlen(str);
	uint8_t const *p = (uint8_t const *)str;
	uint64_t v[4];
	uint64_t m;
	size_t i;
	size_t left;

	v[0] = key[0] ^ 0x736f6d6570736575ULL;
	v[1] = key[1] ^ 0x646f72616e646f6dULL;
	v[2] = key[0] ^ 0x6c7967656e657261ULL;
	v[3] = key[1] ^ 0x7465646279746573ULL;

	for (i = 0; i + 8 <= len; i += 8) {
		size_t j;

		m = 0;
		for (j = 0; j < 8; j++) m |= (uint64_t)p[i + j] << (8 * j);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	left = len - i;
	m = (uint64_t)(len & 0xff) << 56;
	while (left > 0) {
		left--;
		m |= (uint64_t)p[i + left] << (8 * left);
	}
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	sip_round(v);

	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void cache_seed(mud_cache_t *cache, time_t now)
{
	uint64_t k[2] = { 0, 0 };

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		/* Weak fallback: still per process and per cache. */
		k[0] = (uint64_t)now ^ (uint64_t)(uintptr_t)cache;
		k[1] = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&k;
	}
	cache->key[0] = k[0];
	cache->key[1] = k[1];
}

/*
 *	Time arithmetic that cannot overflow (persisted timestamps are bounded,
 *	but be safe anyway).
 */
static time_t time_add(time_t a, time_t b)
{
	if (b > 0 && a > CACHE_TIME_MAX - b) return CACHE_TIME_MAX;
	return a + b;
}

/*
 *	Deep copies of entries.
 */
/** Bytes a string takes in a packed copy (0 for NULL). */
static size_t str_size(char const *s)
{
	return s ? strlen(s) + 1 : 0;
}

/** Copy s (NULL: none) to *p, advancing *p; returns the copy. */
static char *str_pack(char **p, char const *s)
{
	size_t n;
	char *r;

	if (!s) return NULL;
	n = strlen(s) + 1;
	r = *p;
	memcpy(r, s, n);
	*p += n;
	return r;
}

/** Copy n lines (NULL lines as "") into the NULL-terminated array arr, strings at *p. */
static char **lines_pack(char **arr, char **p, char * const *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) arr[i] = str_pack(p, src[i] ? src[i] : "");
	arr[n] = NULL;
	return arr;
}

/** Deep copy of an entry under ctx, in one allocation (every cache hit of the request
 *  path makes one: one block to allocate and to free, not one per string); NULL on
 *  allocation failure. Its members are not separate talloc blocks: the copy is freed
 *  whole, never in part. */
static mud_entry_t *entry_copy(TALLOC_CTX *ctx, mud_entry_t const *src)
{
	mud_entry_t *e;
	size_t size = sizeof(*e);
	size_t i;
	char **arr;
	char *p;

	size += (src->num_v4 + 1 + src->num_v6 + 1) * sizeof(char *);
	size += str_size(src->url) + str_size(src->error_text ? src->error_text : "") +
		str_size(src->error_where ? src->error_where : "") + str_size(src->mfg_name) +
		str_size(src->model_name) + str_size(src->acl_name_v4) +
		str_size(src->acl_name_v6) + str_size(src->compile_tag ? src->compile_tag : "");
	if (src->signer_der) size += src->signer_der_len;
	if (src->signer_chain) size += src->signer_chain_len;
	for (i = 0; i < src->num_v4; i++) {
		size += str_size(src->lines_v4[i] ? src->lines_v4[i] : "");
	}
	for (i = 0; i < src->num_v6; i++) {
		size += str_size(src->lines_v6[i] ? src->lines_v6[i] : "");
	}

	e = talloc_zero_size(ctx, size);
	if (!e) return NULL;
	talloc_set_name_const(e, "mud_entry_t");

	e->status = src->status;
	e->vlan = src->vlan;
	e->cache_validity = src->cache_validity;
	e->fetched = src->fetched;
	e->expires = src->expires;
	memcpy(e->file_sha256, src->file_sha256, sizeof(e->file_sha256));
	e->file_sha256[sizeof(e->file_sha256) - 1] = '\0';
	e->policy_hash = src->policy_hash;

	arr = (char **)(e + 1);
	p = (char *)(arr + src->num_v4 + 1 + src->num_v6 + 1);
	e->url = str_pack(&p, src->url);
	e->error_text = str_pack(&p, src->error_text ? src->error_text : "");
	e->error_where = str_pack(&p, src->error_where ? src->error_where : "");
	e->mfg_name = str_pack(&p, src->mfg_name);
	e->model_name = str_pack(&p, src->model_name);
	e->acl_name_v4 = str_pack(&p, src->acl_name_v4);
	e->acl_name_v6 = str_pack(&p, src->acl_name_v6);
	e->lines_v4 = lines_pack(arr, &p, src->lines_v4, src->num_v4);
	e->num_v4 = src->num_v4;
	e->lines_v6 = lines_pack(arr + src->num_v4 + 1, &p, src->lines_v6, src->num_v6);
	e->num_v6 = src->num_v6;
	e->compile_tag = str_pack(&p, src->compile_tag ? src->compile_tag : "");
	if (src->signer_der && src->signer_der_len) {
		e->signer_der = (uint8_t *)p;
		memcpy(p, src->signer_der, src->signer_der_len);
		e->signer_der_len = src->signer_der_len;
		p += src->signer_der_len;
	}
	if (src->signer_chain && src->signer_chain_len) {
		e->signer_chain = (uint8_t *)p;
		memcpy(p, src->signer_chain, src->signer_chain_len);
		e->signer_chain_len = src->signer_chain_len;
		p += src->signer_chain_len;
	}
	return e;
}

/** A compile tag as the cache keeps it (see MUD_COMPILE_TAG_MAX): "" for NULL, the tag if
 *  it fits a persisted line, else "sha256:<hex of it>". Under ctx; NULL if out of memory. */
static char *tag_norm(TALLOC_CTX *ctx, char const *tag)
{
	size_t len = tag ? strlen(tag) : 0;
	char hex[65];
	size_t i;

	for (i = 0; i < len && len <= MUD_COMPILE_TAG_MAX; i++) {
		unsigned char c = (unsigned char)tag[i];

		if (c < 0x20 || c == 0x7f) break;
	}
	if (i == len && len <= MUD_COMPILE_TAG_MAX) return talloc_strdup(ctx, tag ? tag : "");
	mud_sha256_hex(hex, tag, len);
	return talloc_asprintf(ctx, "sha256:%s", hex);
}

/** Was e compiled with the cache's current compile tag? Called with cache->mutex held. */
static bool entry_tag_current(mud_cache_t const *cache, mud_entry_t const *e)
{
	return strcmp(e->compile_tag ? e->compile_tag : "", cache->compile_tag) == 0;
}

/** May n's good entry be a HIT until it expires: compiled with the current tag, and not
 *  waiting for a refetch after a re-check of the trust anchors found no chain to check?
 *  Called with cache->mutex held. */
static bool node_current(mud_cache_t const *cache, cache_node_t const *n)
{
	return !n->recheck && entry_tag_current(cache, n->entry);
}

/** Whether e may be served to a device requiring the signer der (see mud.h). */
bool mud_entry_signer_ok(mud_entry_t const *e, uint8_t const *der, size_t der_len)
{
	if (!der) return true;
	if (!e || !e->signer_der || e->signer_der_len == 0) return false;
	return mudp_signer_match(e->signer_der, e->signer_der_len, der, der_len, NULL) == MUD_OK;
}

/** Copy str (NULL: nothing) and a separator to p; returns the end. */
static char *hash_put(char *p, char const *str, char sep)
{
	size_t n = str ? strlen(str) : 0;

	memcpy(p, str ? str : "", n);
	p[n] = sep;
	return p + n + 1;
}

/** The policy hash of an entry (see mud.h). */
uint64_t mud_entry_policy_hash(mud_entry_t const *e)
{
	char small[512];
	char hex[65];
	uint64_t h = 0;
	size_t len = 0;
	size_t i;
	char *all;
	char *p;

	/*
	 *	cisco-dacl: the names are content-addressed (130-bit hash of URL and lines), so
	 *	they identify the policy; inline formats: the lines themselves. One SHA-256; the
	 *	names fit on the stack.
	 */
	if (e->acl_name_v4 || e->acl_name_v6) {
		len = (e->acl_name_v4 ? strlen(e->acl_name_v4) : 0) +
		      (e->acl_name_v6 ? strlen(e->acl_name_v6) : 0) + 2;
	} else {
		for (i = 0; i < e->num_v4; i++) len += strlen(e->lines_v4[i]) + 1;
		for (i = 0; i < e->num_v6; i++) len += strlen(e->lines_v6[i]) + 1;
		len++;
	}
	all = len <= sizeof(small) ? small : talloc_array(NULL, char, len);
	if (!all) return 1;	/* out of memory: "some policy", never "none" */
	p = all;
	if (e->acl_name_v4 || e->acl_name_v6) {
		p = hash_put(p, e->acl_name_v4, '|');
		p = hash_put(p, e->acl_name_v6, '\n');
	} else {
		for (i = 0; i < e->num_v4; i++) p = hash_put(p, e->lines_v4[i], '\n');
		for (i = 0; i < e->num_v6; i++) p = hash_put(p, e->lines_v6[i], '\n');
	}
	mud_sha256_hex(hex, all, (size_t)(p - all));
	if (all != small) talloc_free(all);
	for (i = 0; i < 16; i++) {
		char c = hex[i];

		h = (h << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return h ? h : 1;
}

/*
 *	Hash tables and LRU list. All called with cache->mutex held (or before
 *	the cache is shared, in mud_cache_create()).
 */
static cache_node_t *node_find(mud_cache_t *cache, char const *url, uint64_t hash)
{
	cache_node_t *n;

	for (n = cache->buckets[hash & (cache->num_buckets - 1)]; n; n = n->hnext) {
		if (n->hash == hash && strcmp(n->url, url) == 0) return n;
	}
	return NULL;
}

/** Double the URL table when it is fuller than one node per bucket. Failure is harmless. */
static void buckets_grow(mud_cache_t *cache)
{
	cache_node_t **nb;
	size_t nnum = cache->num_buckets * 2;
	size_t i;

	if (cache->num_nodes <= cache->num_buckets) return;
	if (nnum > SIZE_MAX / sizeof(*nb)) return;
	nb = talloc_zero_array(cache, cache_node_t *, nnum);
	if (!nb) return;
	for (i = 0; i < cache->num_buckets; i++) {
		cache_node_t *n = cache->buckets[i];

		while (n) {
			cache_node_t *next = n->hnext;
			size_t b = n->hash & (nnum - 1);

			n->hnext = nb[b];
			nb[b] = n;
			n = next;
		}
	}
	talloc_free(cache->buckets);
	cache->buckets = nb;
	cache->num_buckets = nnum;
}

static void abuckets_grow(mud_cache_t *cache)
{
	acl_ref_t **nb;
	size_t nnum = cache->num_abuckets * 2;
	size_t i;

	if (cache->num_arefs <= cache->num_abuckets) return;
	if (nnum > SIZE_MAX / sizeof(*nb)) return;
	nb = talloc_zero_array(cache, acl_ref_t *, nnum);
	if (!nb) return;
	for (i = 0; i < cache->num_abuckets; i++) {
		acl_ref_t *r = cache->abuckets[i];

		while (r) {
			acl_ref_t *next = r->next;
			size_t b = r->hash & (nnum - 1);

			r->next = nb[b];
			nb[b] = r;
			r = next;
		}
	}
	talloc_free(cache->abuckets);
	cache->abuckets = nb;
	cache->num_abuckets = nnum;
}

static void aref_unlink(mud_cache_t *cache, acl_ref_t *ref)
{
	acl_ref_t **pp;

	if (!ref->linked) return;
	for (pp = &cache->abuckets[ref->hash & (cache->num_abuckets - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == ref) {
			*pp = ref->next;
			break;
		}
	}
	ref->next = NULL;
	ref->linked = false;
	ref->name = NULL;
	cache->num_arefs--;
}

static void aref_link(mud_cache_t *cache, acl_ref_t *ref, char const *name)
{
	size_t b;

	if (!name || !*name) return;
	ref->name = name;
	ref->hash = siphash(cache->key, name);
	b = ref->hash & (cache->num_abuckets - 1);
	ref->next = cache->abuckets[b];
	cache->abuckets[b] = ref;
	ref->linked = true;
	cache->num_arefs++;
	abuckets_grow(cache);
}

/** Are the lines of ref's family those of lines/num? */
static bool ref_lines_equal(acl_ref_t const *r, char * const *lines, size_t num)
{
	mud_entry_t const *e = r->node->entry;
	char * const *l = r->v6 ? e->lines_v6 : e->lines_v4;
	size_t n = r->v6 ? e->num_v6 : e->num_v4;
	size_t i;

	if (n != num) return false;
	for (i = 0; i < n; i++) {
		if (strcmp(l[i], lines[i]) != 0) return false;
	}
	return true;
}

/** The name index binds a name to one content: the first name of e that another node than
 *  self (whose entry e replaces) has bound to other lines or the other family. Returns that
 *  node's ref and sets *name; NULL with *name set when e's own two names are the same; NULL
 *  and *name NULL when e can be bound. Called with cache->mutex held. */
static acl_ref_t const *name_conflict(mud_cache_t const *cache, cache_node_t const *self,
				      mud_entry_t const *e, char const **name)
{
	int six;

	*name = NULL;
	if (e->status != MUD_OK) return NULL;
	if (e->acl_name_v4 && e->acl_name_v6 && strcmp(e->acl_name_v4, e->acl_name_v6) == 0) {
		*name = e->acl_name_v4;
		return NULL;
	}
	for (six = 0; six < 2; six++) {
		char const *nm = six ? e->acl_name_v6 : e->acl_name_v4;
		char * const *lines = six ? e->lines_v6 : e->lines_v4;
		size_t num = six ? e->num_v6 : e->num_v4;
		acl_ref_t const *r;
		uint64_t h;

		if (!nm || !*nm) continue;
		h = siphash(cache->key, nm);
		for (r = cache->abuckets[h & (cache->num_abuckets - 1)]; r; r = r->next) {
			if (r->hash != h || strcmp(r->name, nm) != 0) continue;
			if (r->node == self) continue;		/* about to be replaced by e */
			if (r->v6 == (six == 1) && ref_lines_equal(r, lines, num)) continue;
			*name = nm;
			return r;
		}
	}
	return NULL;
}

static void lru_unlink(mud_cache_t *cache, cache_node_t *n)
{
	if (n->lru_prev) {
		n->lru_prev->lru_next = n->lru_next;
	} else {
		cache->lru_head = n->lru_next;
	}
	if (n->lru_next) {
		n->lru_next->lru_prev = n->lru_prev;
	} else {
		cache->lru_tail = n->lru_prev;
	}
	n->lru_prev = NULL;
	n->lru_next = NULL;
}

static void lru_push_front(mud_cache_t *cache, cache_node_t *n)
{
	n->lru_prev = NULL;
	n->lru_next = cache->lru_head;
	if (cache->lru_head) cache->lru_head->lru_prev = n;
	cache->lru_head = n;
	if (!cache->lru_tail) cache->lru_tail = n;
}

static void lru_touch(mud_cache_t *cache, cache_node_t *n)
{
	if (cache->lru_head == n) return;
	lru_unlink(cache, n);
	lru_push_front(cache, n);
}

/** Replace the node's entry (may be NULL); the old one is freed. */
static void node_set_entry(mud_cache_t *cache, cache_node_t *n, mud_entry_t *e)
{
	aref_unlink(cache, &n->aref[0]);
	aref_unlink(cache, &n->aref[1]);
	if (n->entry) {
		talloc_free(n->entry);
		cache->num_entries--;
	}
	n->entry = e;
	n->gen = ++cache->gen;
	n->recheck = false;
	if (!e) return;

	(void)talloc_steal(n, e);
	cache->num_entries++;
	if (e->status == MUD_OK) {
		aref_link(cache, &n->aref[0], e->acl_name_v4);
		aref_link(cache, &n->aref[1], e->acl_name_v6);
	}
}

/** New node for url at the front of the LRU list. NULL on allocation failure. */
static cache_node_t *node_add(mud_cache_t *cache, char const *url, uint64_t hash)
{
	cache_node_t *n;
	size_t b;

	n = talloc_zero(cache, cache_node_t);
	if (!n) return NULL;
	n->url = talloc_strdup(n, url);
	if (!n->url) {
		talloc_free(n);
		return NULL;
	}
	n->hash = hash;
	n->aref[0].node = n;
	n->aref[1].node = n;
	n->aref[1].v6 = true;

	b = hash & (cache->num_buckets - 1);
	n->hnext = cache->buckets[b];
	cache->buckets[b] = n;
	lru_push_front(cache, n);
	cache->num_nodes++;
	buckets_grow(cache);
	return n;
}

static void node_remove(mud_cache_t *cache, cache_node_t *n)
{
	cache_node_t **pp;

	for (pp = &cache->buckets[n->hash & (cache->num_buckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	lru_unlink(cache, n);
	node_set_entry(cache, n, NULL);
	cache->num_nodes--;
	talloc_free(n);
}

/** URLs whose files may have to be removed once the lock is released. */
typedef struct {
	char		**urls;		//!< talloc array under a private (thread-local) context
	size_t		num;
} url_list_t;

static void url_list_add(TALLOC_CTX *tmp, url_list_t *l, char const *url)
{
	char **n;

	if (!tmp) return;
	n = talloc_realloc(tmp, l->urls, char *, l->num + 1);
	if (!n) return;
	l->urls = n;
	n[l->num] = talloc_strdup(n, url);
	if (n[l->num]) l->num++;
}

/** Evict least recently used nodes beyond max_entries (never keep_this). */
static void cache_evict(mud_cache_t *cache, cache_node_t *keep_this, TALLOC_CTX *tmp,
			url_list_t *evicted)
{
	while (cache->num_nodes > cache->max_entries && cache->lru_tail &&
	       cache->lru_tail != keep_this) {
		cache_node_t *victim = cache->lru_tail;

		if (victim->entry && victim->entry->status == MUD_OK) {
			url_list_add(tmp, evicted, victim->url);
		}
		node_remove(cache, victim);
		cache->stats.evictions++;
	}
}

/** Hand out the fetch token for a node if none is out (or the holder is presumed lost). */
static bool token_take(mud_cache_t *cache, cache_node_t *n, time_t now)
{
	if (now < n->retry_after) return false;
	if (n->inflight && now < time_add(n->inflight_since, cache->inflight_max)) return false;
	n->inflight = true;
	n->inflight_since = now;
	return true;
}

/*
 *	Persistence format (version 2), one file per good entry, named by the
 *	SHA-256 (lowercase hex) of the URL:
 *
 *	rlm_mud-cache 2
 *	url: <value>
 *	format: cisco-dacl | nas-filter-rule
 *	fetched: <seconds since the epoch>
 *	expires: <seconds since the epoch>
 *	cache-validity: <hours>
 *	vlan: <0..4094>
 *	file-sha256: <64 hex or empty>
 *	signer: <hex>			(optional: DER subject Name of the certificate the
 *					file's signature was verified with; absent: unknown)
 *	compile-tag: <value>		(optional: the compile tag; absent: "")
 *	signer-chain: <hex>		(optional: the signer's certificate chain, DER,
 *					signer first; absent: none, see mud_cache_revalidate())
 *	mfg-name: <value>		(optional)
 *	model-name: <value>		(optional)
 *	acl-name-v4: <value>		(optional)
 *	acl-name-v6: <value>		(optional)
 *	num-v4: <n>
 *	num-v6: <n>
 *	v4: <value>			(num-v4 times, in order)
 *	v6: <value>			(num-v6 times, in order)
 *	hmac: <64 hex>			(with a key: HMAC-SHA256 of every byte above)
 *	end
 *
 *	The optional lines were added in place (files without them, written by earlier
 *	versions, still load: signer unknown, compile tag "", no chain); they are written only when
 *	known or not empty, so a cache without signatures or tags writes what an earlier
 *	version reads.
 *
 *	Values escape '\' as "\\"; they never hold a control byte (the writer
 *	refuses, the reader refuses a raw one and a "\xNN" escape of one), so no
 *	content can start a line of its own. Any deviation (unknown or repeated
 *	key, bad escape, missing "end", bytes after it, counts that do not match)
 *	rejects the file. A file that parses is then re-proved (entry_verify()):
 *	URL, format, every line against the renderer's grammar, the dACL names
 *	re-derived from the URL and lines, and the HMAC.
 */
typedef struct {
	char		*p;
	size_t		len;
	size_t		cap;
	bool		failed;
	bool		nomem;		//!< failed for want of memory, not of room
	bool		toobig;		//!< failed for want of room (CACHE_FILE_MAX)
	bool		nomac;		//!< the HMAC could not be computed
	char const	*ctrl;		//!< key of a value that holds a control byte
} sbuf_t;

static void sbuf_reserve(TALLOC_CTX *ctx, sbuf_t *b, size_t more)
{
	size_t ncap;
	char *np;

	if (b->failed) return;
	if (more > CACHE_FILE_MAX || b->len + more > CACHE_FILE_MAX) {
		b->failed = true;
		b->toobig = true;
		return;
	}
	if (b->len + more + 1 <= b->cap) return;
	ncap = b->cap ? b->cap : 1024;
	while (ncap < b->len + more + 1) ncap *= 2;
	np = talloc_realloc(ctx, b->p, char, ncap);
	if (!np) {
		b->failed = true;
		b->nomem = true;
		return;
	}
	b->p = np;
	b->cap = ncap;
}

static void sbuf_add(TALLOC_CTX *ctx, sbuf_t *b, char const *s, size_t n)
{
	sbuf_reserve(ctx, b, n);
	if (b->failed) return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sbuf_kv(TALLOC_CTX *ctx, sbuf_t *b, char const *key, char const *value)
{
	size_t i;

	if (!value || b->failed) return;
	sbuf_add(ctx, b, key, strlen(key));
	sbuf_add(ctx, b, ": ", 2);
	for (i = 0; value[i]; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f) {
			if (!b->ctrl) b->ctrl = key;
			b->failed = true;
			return;
		}
		sbuf_add(ctx, b, c == '\\' ? "\\\\" : value + i, c == '\\' ? 2 : 1);
	}
	sbuf_add(ctx, b, "\n", 1);
}

/** key: the bytes as lowercase hex (nothing when there are none). */
static void sbuf_kv_hex(TALLOC_CTX *ctx, sbuf_t *b, char const *key, uint8_t const *data,
			size_t len)
{
	static char const hex[] = "0123456789abcdef";
	char chunk[128];
	size_t i;
	size_t o = 0;

	if (!data || len == 0 || b->failed) return;
	sbuf_add(ctx, b, key, strlen(key));
	sbuf_add(ctx, b, ": ", 2);
	for (i = 0; i < len; i++) {
		chunk[o++] = hex[data[i] >> 4];
		chunk[o++] = hex[data[i] & 0x0f];
		if (o == sizeof(chunk)) {
			sbuf_add(ctx, b, chunk, o);
			o = 0;
		}
	}
	sbuf_add(ctx, b, chunk, o);
	sbuf_add(ctx, b, "\n", 1);
}

static void sbuf_kv_int(TALLOC_CTX *ctx, sbuf_t *b, char const *key, int64_t value)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, value);
	sbuf_kv(ctx, b, key, num);
}

/** HMAC-SHA256 of data as 64 lower-case hex digits; false on failure. */
static bool entry_hmac(char out[65], uint8_t const *key, size_t key_len, char const *data,
		       size_t len)
{
	static char const hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	unsigned int i;

	out[0] = '\0';
	ERR_clear_error();
	if (!HMAC(EVP_sha256(), key, (int)key_len, (unsigned char const *)data, len, md,
		  &md_len) || md_len != 32) {
		ERR_clear_error();
		return false;
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
	return true;
}

/** Serialise a good entry; NULL and why if it does not fit CACHE_FILE_MAX, holds a control
 *  byte, or (*nomem) memory fails. */
static char *entry_serialise(TALLOC_CTX *ctx, mud_cache_t const *cache, mud_entry_t const *e,
			     bool with_mac, size_t *len, bool *nomem, char *why, size_t whylen)
{
	sbuf_t b = { 0 };
	size_t i;

	sbuf_add(ctx, &b, CACHE_FILE_MAGIC "\n", strlen(CACHE_FILE_MAGIC) + 1);
	sbuf_kv(ctx, &b, "url", e->url);
	sbuf_kv(ctx, &b, "format", mud_format_name(cache->format));
	sbuf_kv_int(ctx, &b, "fetched", (int64_t)e->fetched);
	sbuf_kv_int(ctx, &b, "expires", (int64_t)e->expires);
	sbuf_kv_int(ctx, &b, "cache-validity", (int64_t)e->cache_validity);
	sbuf_kv_int(ctx, &b, "vlan", (int64_t)e->vlan);
	sbuf_kv(ctx, &b, "file-sha256", e->file_sha256);
	if (e->signer_der_len <= MUD_SIGNER_DER_MAX) {	/* else unknown: never larger */
		sbuf_kv_hex(ctx, &b, "signer", e->signer_der, e->signer_der_len);
	}
	if (e->signer_chain_len <= MUD_SIGNER_CHAIN_MAX) {	/* else none: never larger */
		sbuf_kv_hex(ctx, &b, "signer-chain", e->signer_chain, e->signer_chain_len);
	}
	if (e->compile_tag && *e->compile_tag) sbuf_kv(ctx, &b, "compile-tag", e->compile_tag);
	sbuf_kv(ctx, &b, "mfg-name", e->mfg_name);
	sbuf_kv(ctx, &b, "model-name", e->model_name);
	sbuf_kv(ctx, &b, "acl-name-v4", e->acl_name_v4);
	sbuf_kv(ctx, &b, "acl-name-v6", e->acl_name_v6);
	sbuf_kv_int(ctx, &b, "num-v4", (int64_t)e->num_v4);
	sbuf_kv_int(ctx, &b, "num-v6", (int64_t)e->num_v6);
	for (i = 0; i < e->num_v4; i++) sbuf_kv(ctx, &b, "v4", e->lines_v4[i]);
	for (i = 0; i < e->num_v6; i++) sbuf_kv(ctx, &b, "v6", e->lines_v6[i]);
	if (with_mac && cache->mac_key && !b.failed) {
		char mac[65];

		if (!entry_hmac(mac, cache->mac_key, cache->mac_key_len, b.p, b.len)) {
			b.failed = true;
			b.nomac = true;
		} else {
			sbuf_kv(ctx, &b, "hmac", mac);
		}
	}
	sbuf_add(ctx, &b, "end\n", 4);

	if (b.failed) {
		*nomem = b.nomem;
		if (b.nomem) {
			snprintf(why, whylen, "out of memory");
		} else if (b.ctrl) {
			snprintf(why, whylen, "policy not persisted: its %s holds a control byte",
				 b.ctrl);
		} else if (b.toobig) {
			snprintf(why, whylen, "policy too large to persist (over %d bytes)",
				 CACHE_FILE_MAX);
		} else {
			snprintf(why, whylen, "policy not persisted: %s",
				 b.nomac ? "the HMAC failed" : "serialisation failed");
		}
		talloc_free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/** Decode an escaped value of n bytes; NULL and why if malformed (raw control byte, unknown
 *  escape, an escape of a control byte). */
static char *value_decode(TALLOC_CTX *ctx, char const *s, size_t n, char *why, size_t whylen)
{
	char *out;
	size_t i;
	size_t o = 0;

	out = talloc_array(ctx, char, n + 1);
	if (!out) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi;
		int lo;

		if (c < 0x20 || c == 0x7f) {
			snprintf(why, whylen, "control byte 0x%02x", c);
			goto bad;
		}
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
			continue;
		}
		if (i + 3 >= n || s[i + 1] != 'x') {
			snprintf(why, whylen, "bad escape");
			goto bad;
		}
		hi = hexval(s[i + 2]);
		lo = hexval(s[i + 3]);
		if (hi < 0 || lo < 0) {
			snprintf(why, whylen, "bad escape");
			goto bad;
		}
		c = (unsigned char)((hi << 4) | lo);
		if (c < 0x20 || c == 0x7f) {
			snprintf(why, whylen, "escape of control byte 0x%02x", c);
			goto bad;
		}
		out[o++] = (char)c;
		i += 3;
	}
	out[o] = '\0';
	return out;

bad:
	talloc_free(out);
	return NULL;
}

static bool parse_int(char const *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!*s || (*s != '-' && (*s < '0' || *s > '9'))) return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || !end || *end != '\0') return false;
	if (v < lo || v > hi) return false;
	*out = (int64_t)v;
	return true;
}

static bool is_sha256_hex(char const *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
	}
	return s[64] == '\0';
}

/** Keys of the header, each allowed once. */
enum {
	K_URL = 0, K_FORMAT, K_FETCHED, K_EXPIRES, K_VALIDITY, K_VLAN, K_SHA, K_MFG, K_MODEL,
	K_ACL4, K_ACL6, K_NUM4, K_NUM6, K_SIGNER, K_TAG, K_CHAIN, K_HMAC, K_MAX
};

static char const * const key_names[K_MAX] = {
	[K_URL] = "url", [K_FORMAT] = "format", [K_FETCHED] = "fetched",
	[K_EXPIRES] = "expires", [K_VALIDITY] = "cache-validity", [K_VLAN] = "vlan",
	[K_SHA] = "file-sha256", [K_MFG] = "mfg-name", [K_MODEL] = "model-name",
	[K_ACL4] = "acl-name-v4", [K_ACL6] = "acl-name-v6", [K_NUM4] = "num-v4",
	[K_NUM6] = "num-v6", [K_SIGNER] = "signer", [K_TAG] = "compile-tag",
	[K_CHAIN] = "signer-chain", [K_HMAC] = "hmac",
};

/** Decode the hex of a signer or signer-chain line under e (lowercase, even, 1..max bytes). */
static bool hex_decode(mud_entry_t *e, char const *val, size_t max, uint8_t **out,
		       size_t *out_len)
{
	size_t len = strlen(val);
	size_t i;
	uint8_t *der;

	if (len == 0 || len % 2 != 0 || len / 2 > max) return false;
	der = talloc_array(e, uint8_t, len / 2);
	if (!der) return false;
	for (i = 0; i < len; i += 2) {
		int hi = hexval(val[i]);
		int lo = hexval(val[i + 1]);

		if (hi < 0 || lo < 0 || (val[i] >= 'A' && val[i] <= 'F') ||
		    (val[i + 1] >= 'A' && val[i + 1] <= 'F')) {
			talloc_free(der);
			return false;
		}
		der[i / 2] = (uint8_t)((hi << 4) | lo);
	}
	*out = der;
	*out_len = len / 2;
	return true;
}

/** Parse one persisted file (data NUL-terminated at len). NULL and why if malformed.
 *  *mac_at is the offset of the "hmac:" line (len if none), *mac its value. */
static mud_entry_t *entry_parse(TALLOC_CTX *ctx, char const *data, size_t len, int *format,
				size_t *mac_at, char mac[65], char *why, size_t whylen)
{
	mud_entry_t *e;
	char const *p = data;
	char const *end = data + len;
	bool seen[K_MAX] = { false };
	int64_t num4 = 0;
	int64_t num6 = 0;
	int64_t v;
	size_t lines = 1;
	bool ended = false;
	size_t magic_len = strlen(CACHE_FILE_MAGIC);
	char const *cur_key = "";
	char vwhy[64];
	static int const required[] = { K_URL, K_FORMAT, K_FETCHED, K_EXPIRES, K_NUM4, K_NUM6 };
	size_t i;

	*format = -1;
	*mac_at = len;
	mac[0] = '\0';
	if (len < magic_len + 1 || memcmp(data, CACHE_FILE_MAGIC "\n", magic_len + 1) != 0) {
		snprintf(why, whylen, "not an \"" CACHE_FILE_MAGIC "\" file");
		return NULL;
	}
	p += magic_len + 1;

	e = talloc_zero(ctx, mud_entry_t);
	if (!e) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	e->status = MUD_OK;

	while (p < end) {
		char const *nl = memchr(p, '\n', (size_t)(end - p));
		char const *line = p;
		char const *colon;
		char *val;
		size_t klen;
		int k;

		if (!nl) {
			snprintf(why, whylen, "truncated: line %zu has no end", lines + 1);
			goto bad;
		}
		if (++lines > CACHE_FILE_MAX_LINES) {
			snprintf(why, whylen, "more than %d lines", CACHE_FILE_MAX_LINES);
			goto bad;
		}
		if ((size_t)(nl - p) == 3 && memcmp(p, "end", 3) == 0) {
			ended = true;
			p = nl + 1;
			break;
		}
		if (seen[K_HMAC]) {
			snprintf(why, whylen, "line %zu: only \"end\" may follow \"hmac\"", lines);
			goto bad;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (!colon || colon + 1 >= nl || colon[1] != ' ') {
			snprintf(why, whylen, "line %zu: not \"key: value\"", lines);
			goto bad;
		}
		klen = (size_t)(colon - p);
		val = value_decode(e, colon + 2, (size_t)(nl - colon - 2), vwhy, sizeof(vwhy));
		if (!val) {
			snprintf(why, whylen, "line %zu: %s", lines, vwhy);
			goto bad;
		}
		p = nl + 1;

		if (klen == 2 && colon[-2] == 'v' && (colon[-1] == '4' || colon[-1] == '6')) {
			bool six = colon[-1] == '6';
			char ***arr = six ? &e->lines_v6 : &e->lines_v4;
			size_t *num = six ? &e->num_v6 : &e->num_v4;
			int64_t want = six ? num6 : num4;

			if (!seen[six ? K_NUM6 : K_NUM4] || (int64_t)*num >= want) {
				snprintf(why, whylen, "line %zu: more v%c lines than num-v%c",
					 lines, six ? '6' : '4', six ? '6' : '4');
				goto bad;
			}
			(*arr)[*num] = talloc_steal(*arr, val);
			(*num)++;
			continue;
		}

		for (k = 0; k < K_MAX; k++) {
			if (strlen(key_names[k]) != klen) continue;
			if (memcmp(colon - klen, key_names[k], klen) == 0) break;
		}
		if (k == K_MAX || seen[k]) {
			snprintf(why, whylen, "line %zu: %s key \"%.*s\"", lines,
				 k == K_MAX ? "unknown" : "repeated", (int)(klen > 32 ? 32 : klen),
				 line);
			goto bad;
		}
		seen[k] = true;
		cur_key = key_names[k];

		switch (k) {
		case K_URL:
			if (!*val || strlen(val) > MUD_MAX_URL_LEN) goto bad_value;
			e->url = val;
			break;
		case K_FORMAT:
			*format = mud_format_by_name(val);
			if (*format < 0) goto bad_value;
			break;
		case K_FETCHED:
			if (!parse_int(val, -CACHE_TIME_MAX, CACHE_TIME_MAX, &v)) goto bad_value;
			e->fetched = (time_t)v;
			break;
		case K_EXPIRES:
			if (!parse_int(val, -CACHE_TIME_MAX, CACHE_TIME_MAX, &v)) goto bad_value;
			e->expires = (time_t)v;
			break;
		case K_VALIDITY:
			if (!parse_int(val, 0, MUD_CACHE_VALIDITY_MAX, &v)) goto bad_value;
			e->cache_validity = (unsigned int)v;
			break;
		case K_VLAN:
			if (!parse_int(val, 0, 4094, &v)) goto bad_value;
			e->vlan = (int)v;
			break;
		case K_SHA:
			if (*val && !is_sha256_hex(val)) goto bad_value;
			mudp_strlcpy(e->file_sha256, val, sizeof(e->file_sha256));
			break;
		case K_MFG:
			e->mfg_name = val;
			break;
		case K_MODEL:
			e->model_name = val;
			break;
		case K_ACL4:
		case K_ACL6:
			if (!*val || strlen(val) > MUD_MAX_ATTR_LEN) goto bad_value;
			if (k == K_ACL4) {
				e->acl_name_v4 = val;
			} else {
				e->acl_name_v6 = val;
			}
			break;
		case K_NUM4:
		case K_NUM6:
			if (!parse_int(val, 0, MUD_MAX_ATTRS, &v)) goto bad_value;
			if (k == K_NUM4) {
				num4 = v;
				e->lines_v4 = talloc_zero_array(e, char *, (size_t)v + 1);
				if (!e->lines_v4) goto nomem;
			} else {
				num6 = v;
				e->lines_v6 = talloc_zero_array(e, char *, (size_t)v + 1);
				if (!e->lines_v6) goto nomem;
			}
			break;
		case K_SIGNER:
			if (!hex_decode(e, val, MUD_SIGNER_DER_MAX, &e->signer_der,
					&e->signer_der_len)) {
				goto bad_value;
			}
			break;
		case K_CHAIN:
			if (!hex_decode(e, val, MUD_SIGNER_CHAIN_MAX, &e->signer_chain,
					&e->signer_chain_len)) {
				goto bad_value;
			}
			break;
		case K_TAG:
			if (!*val || strlen(val) > MUD_COMPILE_TAG_MAX) goto bad_value;
			e->compile_tag = val;
			break;
		case K_HMAC:
			if (!is_sha256_hex(val)) goto bad_value;
			memcpy(mac, val, 65);
			*mac_at = (size_t)(line - data);
			break;
		default:
			goto bad_value;
		}
	}

	if (!ended) {
		snprintf(why, whylen, "truncated: no \"end\" line");
		goto bad;
	}
	if (p != end) {
		snprintf(why, whylen, "bytes after the \"end\" line");
		goto bad;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (seen[required[i]]) continue;
		snprintf(why, whylen, "no \"%s\" line", key_names[required[i]]);
		goto bad;
	}
	if ((int64_t)e->num_v4 != num4 || (int64_t)e->num_v6 != num6) {
		snprintf(why, whylen, "fewer v4 or v6 lines than num-v4, num-v6 say");
		goto bad;
	}
	if (e->expires < e->fetched) {
		snprintf(why, whylen, "expires before it was fetched");
		goto bad;
	}
	e->error_text = talloc_strdup(e, "");
	e->error_where = talloc_strdup(e, "");
	if (!e->compile_tag) e->compile_tag = talloc_strdup(e, "");	/* before tags: "" */
	if (!e->error_text || !e->error_where || !e->compile_tag) goto nomem;
	return e;

bad_value:
	snprintf(why, whylen, "line %zu: bad value of \"%s\"", lines, cur_key);
	goto bad;
nomem:
	snprintf(why, whylen, "out of memory");
bad:
	talloc_free(e);
	return NULL;
}

/** Re-prove a parsed entry: URL, format, lines, names, HMAC. false and why if it fails. */
static bool entry_verify(mud_cache_t const *cache, mud_entry_t const *e, char const *data,
			 int format, bool check_mac, size_t mac_at, char const *mac, char *why,
			 size_t whylen)
{
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_url_parse(NULL, NULL, e->url, strlen(e->url), &err) != MUD_OK) {
		snprintf(why, whylen, "url: %.200s", err.text);
		return false;
	}
	if (e->signer_der) {
		char *text = mud_signer_to_text(NULL, e->signer_der, e->signer_der_len);

		if (!text) {
			snprintf(why, whylen, "signer: not a DER Name");
			return false;
		}
		talloc_free(text);
	}
	if (format != (int)cache->format) {
		snprintf(why, whylen, "rendered as %s, the cache holds %s",
			 mud_format_name((mud_format_t)format), mud_format_name(cache->format));
		return false;
	}
	if (mudp_render_check(cache->format, e->lines_v4, e->num_v4, e->lines_v6, e->num_v6,
			      &err) != MUD_OK) {
		snprintf(why, whylen, "%.16s: %.200s", err.where, err.text);
		return false;
	}
	if (cache->format == MUD_FMT_CISCO_DACL) {
		int six;

		for (six = 0; six < 2; six++) {
			char const *name = six ? e->acl_name_v6 : e->acl_name_v4;
			size_t num = six ? e->num_v6 : e->num_v4;

			if (!name && num == 0) continue;
			if (!name || num == 0) {
				snprintf(why, whylen, "acl-name-v%c: %s", six ? '6' : '4',
					 name ? "a name without lines" : "lines without a name");
				return false;
			}
			if (mudp_acl_name_check(name, six, e->url, e->lines_v4, e->num_v4,
						e->lines_v6, e->num_v6, &err) != MUD_OK) {
				snprintf(why, whylen, "acl-name-v%c: %.200s", six ? '6' : '4',
					 err.text);
				return false;
			}
		}
	} else if (e->acl_name_v4 || e->acl_name_v6) {
		snprintf(why, whylen, "a dACL name in %s output", mud_format_name(cache->format));
		return false;
	}
	if (check_mac && cache->mac_key) {
		char want[65];

		if (!mac[0]) {
			snprintf(why, whylen, "no hmac (a key is configured)");
			return false;
		}
		if (!entry_hmac(want, cache->mac_key, cache->mac_key_len, data, mac_at)) {
			snprintf(why, whylen, "HMAC failed");
			return false;
		}
		if (CRYPTO_memcmp(want, mac, 64) != 0) {
			snprintf(why, whylen, "hmac does not match (altered, or another key)");
			return false;
		}
	}
	return true;
}

/** Path of a file in the persistence directory. */
static char *dir_path(TALLOC_CTX *ctx, char const *dir, char const *name)
{
	return talloc_asprintf(ctx, "%s/%s", dir, name);
}

static mud_rcode_t io_error(mud_error_t *err, char const *where, char const *what, int errnum)
{
	char ebuf[128];
	char const *etext;
	char wbuf[160];

	etext = strerror_r(errnum, ebuf, sizeof(ebuf));
	mudp_escape(wbuf, sizeof(wbuf), where, strlen(where));
	return mud_error_set(err, MUD_ERR_IO, wbuf, "%s: %s", what, etext);
}

/** One piece of a file written by file_write_atomic(). */
typedef struct {
	void const	*data;
	size_t		len;
} file_part_t;

/** Write the parts, in order, atomically to dir/name: temp file in dir, fsync, rename, fsync
 *  dir. */
static mud_rcode_t file_write_atomic(char const *dir, char const *name, file_part_t const *parts,
				     size_t num_parts, mud_error_t *err)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *tpath;
	char *path;
	int fd;
	size_t i;
	int dfd;
	mud_rcode_t rc = MUD_OK;

	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, dir, "out of memory");
	tpath = talloc_asprintf(tmp, "%s/" CACHE_TMP_PREFIX "%s.XXXXXX", dir, name);
	path = dir_path(tmp, dir, name);
	if (!tpath || !path) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, dir, "out of memory");
	}

	fd = mkostemp(tpath, O_CLOEXEC);
	if (fd < 0) {
		rc = io_error(err, tpath, "mkostemp", errno);
		talloc_free(tmp);
		return rc;
	}
	for (i = 0; i < num_parts; i++) {
		char const *data = parts[i].data;
		size_t done = 0;

		while (done < parts[i].len) {
			ssize_t w = write(fd, data + done, parts[i].len - done);

			if (w < 0 && errno == EINTR) continue;
			if (w <= 0) {
				rc = io_error(err, tpath, "write", w < 0 ? errno : EIO);
				goto error;
			}
			done += (size_t)w;
		}
	}
	if (fsync(fd) != 0) {
		rc = io_error(err, tpath, "fsync", errno);
		goto error;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = io_error(err, tpath, "close", errno);
		goto error;
	}
	fd = -1;
	if (rename(tpath, path) != 0) {
		rc = io_error(err, path, "rename", errno);
		goto error;
	}

	/* Make the rename durable; failure here leaves a valid file either way. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	talloc_free(tmp);
	return MUD_OK;

error:
	if (fd >= 0) close(fd);
	(void)unlink(tpath);
	talloc_free(tmp);
	return rc;
}

/** What persist_sync() does with the kept MUD file (<name>.src) when it writes an entry. */
typedef enum {
	SRC_REMOVE = 0,		//!< the entry has none (too large, not fetched, shared): remove
				//!< an older one
	SRC_WRITE,		//!< write header, file and signature
	SRC_KEEP		//!< the entry was made from the one there (recompiled): leave it
} src_action_t;

/** The kept MUD file of an entry being written (persist_sync()). */
typedef struct {
	src_action_t	action;
	char const	*header;	//!< SRC_WRITE: the text header (src_header())
	size_t		header_len;
	uint8_t const	*file;		//!< SRC_WRITE: the MUD file bytes
	size_t		file_len;
	uint8_t const	*sig;		//!< SRC_WRITE: its signature, NULL: none
	size_t		sig_len;
} src_write_t;

/** Remove dir/<name>.src (absent is fine). */
static mud_rcode_t src_unlink(char const *dir, char const *name, mud_error_t *err)
{
	char *path = talloc_asprintf(NULL, "%s/%s" CACHE_SRC_SUFFIX, dir, name);
	mud_rcode_t rc = MUD_OK;

	if (!path) return mud_error_set(err, MUD_ERR_NOMEM, dir, "out of memory");
	if (unlink(path) != 0 && errno != ENOENT) rc = io_error(err, path, "unlink", errno);
	talloc_free(path);
	return rc;
}

/** Write (or keep, or remove) the kept MUD file of an entry about to be written; called with
 *  io_mutex held. A failure is not the store's: the entry is kept without its file (a
 *  recompile then fetches it), never with an older one; it is logged. */
static void src_sync(mud_cache_t const *cache, char const *name, src_write_t const *src)
{
	char sname[64 + sizeof(CACHE_SRC_SUFFIX)];
	file_part_t parts[3];
	mud_error_t err;

	if (src && src->action == SRC_KEEP) return;
	mud_error_clear(&err);
	if (!src || src->action == SRC_REMOVE) {
		if (src_unlink(cache->dir, name, &err) != MUD_OK && cache->log) {
			cache->log(cache->log_uctx, MUD_LOG_WARN, "cache source file %s: %s",
				   err.where, err.text);
		}
		return;
	}
	snprintf(sname, sizeof(sname), "%s" CACHE_SRC_SUFFIX, name);
	parts[0].data = src->header;
	parts[0].len = src->header_len;
	parts[1].data = src->file;
	parts[1].len = src->file_len;
	parts[2].data = src->sig;
	parts[2].len = src->sig ? src->sig_len : 0;
	if (file_write_atomic(cache->dir, sname, parts, MUD_ARRAY_LEN(parts), &err) == MUD_OK) {
		return;
	}
	if (cache->log) {
		cache->log(cache->log_uctx, MUD_LOG_WARN, "cache source file %s not kept: %s",
			   err.where, err.text);
	}
	(void)src_unlink(cache->dir, name, NULL);	/* never an older file's */
}

/** Bring the file of url (and its kept MUD file, <name>.src) in line with memory. Takes
 *  io_mutex, then (briefly) mutex.
 *
 * @param[in] data	serialised entry of generation gen, or NULL.
 * @param[in] gen	generation data was made from; 0 for "url was removed or evicted".
 * @param[in] src	what to do with the kept MUD file when data is written (NULL: remove
 *			it).
 *
 * If memory holds a good entry of generation gen: write data, the kept MUD file first
 * (remove both when data is NULL: that entry could not be serialised). If it holds a good
 * entry of another generation, that entry's own store writes it: do nothing.
 * If it holds no good entry: remove both. Since every change of the
 * directory runs under io_mutex and looks at memory at that moment, the
 * directory converges to memory whatever the order of the threads.
 */
static mud_rcode_t persist_sync(mud_cache_t *cache, char const *url, char const *data,
				size_t len, uint64_t gen, src_write_t const *src, mud_error_t *err)
{
	enum { P_SKIP, P_WRITE, P_UNLINK } action;
	cache_node_t *n;
	char name[65];
	mud_rcode_t rc = MUD_OK;
	mud_rcode_t src_rc;

	if (!cache->dir) return MUD_OK;
	mud_sha256_hex(name, url, strlen(url));
	if (!is_sha256_hex(name)) {
		return mud_error_set(err, MUD_ERR_IO, "mud_sha256_hex", "cannot hash the URL");
	}

	pthread_mutex_lock(&cache->io_mutex);

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (n && n->entry && n->entry->status == MUD_OK) {
		if (gen != 0 && n->gen == gen) {
			action = data ? P_WRITE : P_UNLINK;
		} else {
			action = P_SKIP;
		}
	} else {
		action = P_UNLINK;
	}
	pthread_mutex_unlock(&cache->mutex);

	switch (action) {
	case P_WRITE:
	{
		file_part_t part = { .data = data, .len = len };

		/* The kept file first: an entry on disk never names a file not yet there. */
		src_sync(cache, name, src);
		rc = file_write_atomic(cache->dir, name, &part, 1, err);
		if (rc != MUD_OK) {
			/* Never leave an older version behind than what memory holds. */
			char *path = dir_path(NULL, cache->dir, name);

			if (path) (void)unlink(path);
			talloc_free(path);
		}
		break;
	}

	case P_UNLINK:
	{
		char *path = dir_path(NULL, cache->dir, name);

		if (!path) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, cache->dir, "out of memory");
		} else if (unlink(path) != 0 && errno != ENOENT) {
			rc = io_error(err, path, "unlink", errno);
		}
		talloc_free(path);
		src_rc = src_unlink(cache->dir, name, err);
		if (rc == MUD_OK) rc = src_rc;
		break;
	}

	case P_SKIP:
		break;
	}

	pthread_mutex_unlock(&cache->io_mutex);
	return rc;
}

static int _cache_free(mud_cache_t *cache)
{
	talloc_free(cache->trust);
	cache->trust = NULL;
	if (cache->mutex_ok) pthread_mutex_destroy(&cache->mutex);
	if (cache->io_mutex_ok) pthread_mutex_destroy(&cache->io_mutex);
	cache->mutex_ok = false;
	cache->io_mutex_ok = false;
	return 0;
}

/** Read and re-prove one persisted file. NULL and why if it cannot be used. */
static mud_entry_t *load_file(TALLOC_CTX *ctx, mud_cache_t const *cache, char const *name,
			      char *why, size_t whylen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *path;
	uint8_t *buf = NULL;
	size_t len = 0;
	mud_entry_t *e = NULL;
	char hash[65];
	char mac[65];
	size_t mac_at = 0;
	int format = -1;
	mud_error_t err;

	if (!tmp) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	path = dir_path(tmp, cache->dir, name);
	if (!path) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}

	/* No symbolic link, FIFO or device; a file of ours (owner, one link), bounded. */
	mud_error_clear(&err);
	if (mud_safe_read(tmp, &buf, &len, path, CACHE_FILE_MAX, MUD_SAFE_OWNED, &err) != MUD_OK) {
		snprintf(why, whylen, "%s", err.text);
		goto done;
	}
	e = entry_parse(tmp, (char const *)buf, len, &format, &mac_at, mac, why, whylen);
	if (!e) goto done;

	/* The name must be the hash of the URL inside (no renamed or planted files). */
	mud_sha256_hex(hash, e->url, strlen(e->url));
	if (strcmp(hash, name) != 0) {
		snprintf(why, whylen, "file name is not the SHA-256 of its url");
		e = NULL;
		goto done;
	}
	if (!entry_verify(cache, e, (char const *)buf, format, true, mac_at, mac, why, whylen)) {
		e = NULL;
		goto done;
	}
	e->policy_hash = mud_entry_policy_hash(e);
	(void)talloc_steal(ctx, e);

done:
	talloc_free(tmp);
	return e;
}

static int entry_cmp_fetched(void const *a, void const *b)
{
	mud_entry_t const *ea = *(mud_entry_t * const *)a;
	mud_entry_t const *eb = *(mud_entry_t * const *)b;

	if (ea->fetched < eb->fetched) return -1;
	if (ea->fetched > eb->fetched) return 1;
	return strcmp(ea->url, eb->url);
}

/** Report a persisted entry that was dropped. */
static void load_dropped(mud_cache_t const *cache, char const *name, char const *why)
{
	char esc[256];

	if (!cache->log) return;
	mudp_escape(esc, sizeof(esc), why, strlen(why));
	cache->log(cache->log_uctx, MUD_LOG_WARN, "cache file %s/%s dropped: %s", cache->dir, name,
		   esc);
}

/** Is name that of a kept MUD file: <64 lower-case hex digits>.src? */
static bool src_name(char const *name)
{
	char hex[65];

	if (strlen(name) != 64 + strlen(CACHE_SRC_SUFFIX) ||
	    strcmp(name + 64, CACHE_SRC_SUFFIX) != 0) {
		return false;
	}
	memcpy(hex, name, 64);
	hex[64] = '\0';
	return is_sha256_hex(hex);
}

/** Remove the kept MUD file name (in the directory d) when no entry file of its URL is there
 *  (a crash between its write and the entry's, or an entry file removed by hand). One beside
 *  an entry file that is not loaded stays, as that file does (it never serves a recompile:
 *  mud_cache_source() needs the entry in memory). */
static void src_orphan(DIR *d, char const *name)
{
	char hex[65];
	struct stat st;

	memcpy(hex, name, 64);
	hex[64] = '\0';
	if (fstatat(dirfd(d), hex, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
		(void)unlinkat(dirfd(d), name, 0);
	}
}

/** Load every persisted entry (called before the cache is shared). Kept MUD files (.src) are
 *  not entries: neither loaded nor counted; an orphan one is removed (src_orphan()). */
static mud_rcode_t cache_load(mud_cache_t *cache, size_t *load_errors, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	DIR *d;
	struct dirent *de;
	mud_entry_t **found = NULL;
	size_t num = 0;
	size_t bad = 0;
	size_t i;
	url_list_t evicted = { 0 };
	char why[256];

	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, cache->dir, "out of memory");

	d = opendir(cache->dir);
	if (!d) {
		mud_rcode_t rc = io_error(err, cache->dir, "opendir", errno);

		talloc_free(tmp);
		return rc;
	}
	for (;;) {
		mud_entry_t *e;
		mud_entry_t **nf;

		errno = 0;
		de = readdir(d);
		if (!de) break;

		if (strncmp(de->d_name, CACHE_TMP_PREFIX, strlen(CACHE_TMP_PREFIX)) == 0) {
			/* Left over by a crash between mkstemp and rename. */
			char *path = dir_path(tmp, cache->dir, de->d_name);

			if (path) (void)unlink(path);
			talloc_free(path);
			continue;
		}
		if (src_name(de->d_name)) {
			src_orphan(d, de->d_name);	/* else: not an entry, nothing to say */
			continue;
		}
		if (!is_sha256_hex(de->d_name)) continue;	/* not ours: ignored */

		why[0] = '\0';
		e = load_file(tmp, cache, de->d_name, why, sizeof(why));
		if (!e) {
			load_dropped(cache, de->d_name, why);
			bad++;
			continue;
		}
		nf = talloc_realloc(tmp, found, mud_entry_t *, num + 1);
		if (!nf) {
			closedir(d);
			talloc_free(tmp);
			return mud_error_set(err, MUD_ERR_NOMEM, cache->dir, "out of memory");
		}
		found = nf;
		found[num++] = e;
	}
	closedir(d);

	/* Oldest first, so that the newest survive if there are more than max_entries; a name
	 * bound twice keeps its oldest binding, as at run time. */
	if (num > 1) qsort(found, num, sizeof(*found), entry_cmp_fetched);
	for (i = 0; i < num; i++) {
		uint64_t h = siphash(cache->key, found[i]->url);
		cache_node_t *n;
		char const *clash = NULL;
		acl_ref_t const *holder = name_conflict(cache, NULL, found[i], &clash);

		if (clash) {
			char name[65];

			mud_sha256_hex(name, found[i]->url, strlen(found[i]->url));
			snprintf(why, sizeof(why),
				 "dACL name %.64s is already bound to the lines of %.128s", clash,
				 holder ? holder->node->url : found[i]->url);
			load_dropped(cache, name, why);
			bad++;
			continue;
		}
		n = node_add(cache, found[i]->url, h);
		if (!n) {
			talloc_free(tmp);
			return mud_error_set(err, MUD_ERR_NOMEM, cache->dir, "out of memory");
		}
		node_set_entry(cache, n, found[i]);
		cache_evict(cache, n, tmp, &evicted);
	}
	for (i = 0; i < evicted.num; i++) {
		(void)persist_sync(cache, evicted.urls[i], NULL, 0, 0, NULL, NULL);
	}
	talloc_free(tmp);
	if (load_errors) *load_errors = bad;
	return MUD_OK;
}

/** Read the HMAC key file: ours, not readable by group or others, 32..1024 bytes. */
static mud_rcode_t key_load(mud_cache_t *cache, char const *path, mud_error_t *err)
{
	uint8_t *key = NULL;
	size_t len = 0;
	mud_rcode_t rc;

	rc = mudp_key_read(cache, &key, &len, path, CACHE_KEY_MIN, CACHE_KEY_MAX,
			   "cache key file", err);
	if (rc != MUD_OK) return rc;
	talloc_set_name_const(key, "cache key");
	cache->mac_key = key;
	cache->mac_key_len = len;
	return MUD_OK;
}

static int _key_free(uint8_t *key)
{
	OPENSSL_cleanse(key, talloc_get_size(key));
	return 0;
}

/** Create a cache (see mud.h). */
mud_rcode_t mud_cache_create(TALLOC_CTX *ctx, mud_cache_t **out, mud_cache_opts_t const *opts,
			     time_t now, size_t *load_errors, mud_error_t *err)
{
	mud_cache_t *cache;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (load_errors) *load_errors = 0;
	if (!out || !opts) return mud_error_set(err, MUD_ERR_ARG, "mud_cache_create", "no opts");
	if (opts->format != MUD_FMT_CISCO_DACL && opts->format != MUD_FMT_NAS_FILTER_RULE) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_create",
				     "the cache holds cisco-dacl or nas-filter-rule lines, not %s",
				     mud_format_name(opts->format));
	}
	if (opts->key_file && !opts->dir) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_create",
				     "a key file needs a persistence directory");
	}

	cache = talloc_zero(ctx, mud_cache_t);
	if (!cache) return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_create", "out of memory");
	talloc_set_destructor(cache, _cache_free);

	if (pthread_mutex_init(&cache->mutex, NULL) != 0) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "pthread_mutex_init", "cannot create mutex");
		goto error;
	}
	cache->mutex_ok = true;
	if (pthread_mutex_init(&cache->io_mutex, NULL) != 0) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "pthread_mutex_init", "cannot create mutex");
		goto error;
	}
	cache->io_mutex_ok = true;

	cache->max_entries = opts->max_entries ? opts->max_entries : CACHE_MAX_ENTRIES_DEFAULT;
	cache->max_validity = opts->max_validity ? (time_t)opts->max_validity :
						   (time_t)CACHE_MAX_VALIDITY_DEFAULT;
	cache->fail_ttl = opts->fail_ttl ? (time_t)opts->fail_ttl : CACHE_FAIL_TTL_DEFAULT;
	cache->stale_max = (time_t)opts->stale_max;
	cache->inflight_max = opts->inflight_max ? (time_t)opts->inflight_max :
						   CACHE_INFLIGHT_MAX_DEFAULT;
	cache->dns_ttl_max = (time_t)opts->dns_ttl_max;
	cache->dns_ttl_min = opts->dns_ttl_min ? (time_t)opts->dns_ttl_min : 1;
	cache->format = opts->format;
	cache->log = opts->log;
	cache->log_uctx = opts->log_uctx;
	cache->compile_tag = tag_norm(cache, opts->compile_tag);
	if (!cache->compile_tag) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_create", "out of memory");
		goto error;
	}
	cache_seed(cache, now);

	cache->num_buckets = CACHE_BUCKETS_MIN;
	cache->buckets = talloc_zero_array(cache, cache_node_t *, cache->num_buckets);
	cache->num_abuckets = CACHE_BUCKETS_MIN;
	cache->abuckets = talloc_zero_array(cache, acl_ref_t *, cache->num_abuckets);
	if (!cache->buckets || !cache->abuckets) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_create", "out of memory");
		goto error;
	}

	if (opts->dir) {
		if (!*opts->dir) {
			rc = mud_error_set(err, MUD_ERR_IO, "mud_cache_create",
					   "empty directory name");
			goto error;
		}
		/* Ours alone: not a link, owned by us, not writable by group or others. */
		rc = mud_safe_dir_check(opts->dir, "cache directory", err);
		if (rc != MUD_OK) goto error;
		cache->dir = talloc_strdup(cache, opts->dir);
		if (!cache->dir) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_create", "out of memory");
			goto error;
		}
		if (opts->key_file) {
			rc = key_load(cache, opts->key_file, err);
			if (rc != MUD_OK) goto error;
			talloc_set_destructor(cache->mac_key, _key_free);
		}
		rc = cache_load(cache, load_errors, err);
		if (rc != MUD_OK) goto error;
	}

	*out = cache;
	return MUD_OK;

error:
	talloc_free(cache);
	return rc;
}

/** Set the current compile tag (see mud.h). */
void mud_cache_set_compile_tag(mud_cache_t *cache, char const *tag)
{
	char *copy;
	char *old;

	if (!cache) return;
	copy = tag_norm(NULL, tag);	/* private memory: no allocation under the cache's ctx */
	if (!copy) return;
	pthread_mutex_lock(&cache->mutex);
	old = cache->compile_tag;
	cache->compile_tag = talloc_steal(cache, copy);
	talloc_free(old);		/* a child of the shared context: under the lock */
	pthread_mutex_unlock(&cache->mutex);
}

/** The expired (or compiled with another tag), still served URLs (see mud.h). */
size_t mud_cache_expired(mud_cache_t *cache, TALLOC_CTX *ctx, time_t now, char ***urls,
			 size_t max)
{
	cache_node_t const *n;
	char **out;
	size_t num = 0;

	if (urls) *urls = NULL;
	if (!cache || !urls || max == 0) return 0;
	out = talloc_zero_array(ctx, char *, max);
	if (!out) return 0;

	pthread_mutex_lock(&cache->mutex);
	for (n = cache->lru_head; n && num < max; n = n->lru_next) {
		mud_entry_t const *e = n->entry;

		if (!e || e->status != MUD_OK) continue;
		if (now < e->expires && node_current(cache, n)) continue;
		if (now >= time_add(e->expires, cache->stale_max)) continue;
		if (now < n->retry_after) continue;
		if (n->inflight && now < time_add(n->inflight_since, cache->inflight_max)) continue;
		out[num] = talloc_strdup(out, n->url);
		if (!out[num]) break;
		num++;
	}
	pthread_mutex_unlock(&cache->mutex);
	if (num == 0) {
		talloc_free(out);
		return 0;
	}
	*urls = out;
	return num;
}

/** Look up url (see mud.h). A good entry of another compile tag is STALE while a stale
 *  entry would be served (until its expiry plus stale_max), and hands out the token. */
mud_cache_result_t mud_cache_lookup(mud_cache_t *cache, TALLOC_CTX *ctx, mud_entry_t **entry,
				    bool *fetch_token, char const *url, time_t now)
{
	mud_cache_result_t res = MUD_CACHE_MISS;
	mud_entry_t const *e;
	cache_node_t *n;
	uint64_t h;
	bool copy = false;

	if (entry) *entry = NULL;
	if (fetch_token) *fetch_token = false;
	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return MUD_CACHE_MISS;

	h = siphash(cache->key, url);

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, h);
	if (!n) {
		cache->stats.misses++;
		n = node_add(cache, url, h);
		if (!n) {
			/* Nowhere to record the fetch: let this caller fetch anyway. */
			if (fetch_token) *fetch_token = true;
			goto done;
		}
		cache_evict(cache, n, NULL, NULL);
		if (fetch_token) *fetch_token = token_take(cache, n, now);
		goto done;
	}
	lru_touch(cache, n);

	e = n->entry;
	if (!e) {
		res = MUD_CACHE_MISS;
	} else if (e->status == MUD_OK) {
		if (now < e->expires && node_current(cache, n)) {
			res = MUD_CACHE_HIT;
			copy = true;
		} else if (now < time_add(e->expires, cache->stale_max)) {
			res = MUD_CACHE_STALE;
			copy = true;
		} else {
			res = MUD_CACHE_MISS;		/* too old to serve */
		}
	} else if (now < e->expires) {
		res = MUD_CACHE_NEGATIVE;
		copy = true;
	} else {
		res = MUD_CACHE_MISS;			/* failure forgotten: try again */
	}

	if (copy && entry) {
		*entry = entry_copy(ctx, e);
		if (!*entry) res = MUD_CACHE_MISS;	/* out of memory: nothing to serve */
	}

	switch (res) {
	case MUD_CACHE_HIT:
		cache->stats.hits++;
		break;
	case MUD_CACHE_STALE:
		cache->stats.stale_hits++;
		if (fetch_token) *fetch_token = token_take(cache, n, now);
		break;
	case MUD_CACHE_NEGATIVE:
		cache->stats.negative_hits++;
		break;
	case MUD_CACHE_MISS:
		cache->stats.misses++;
		if (fetch_token) *fetch_token = token_take(cache, n, now);
		break;
	}

done:
	pthread_mutex_unlock(&cache->mutex);
	return res;
}

/** Build a cache entry from a policy (no lock: private memory). */
static mud_entry_t *entry_from_policy(char const *url, mud_policy_t const *pol,
				      mud_cache_t const *cache, time_t now)
{
	mud_entry_t src = { 0 };
	mud_entry_t *e;
	unsigned int hours = 0;
	time_t validity;
	char *p;

	if (pol->file) {
		hours = pol->file->cache_validity;
		src.mfg_name = pol->file->mfg_name;
		src.model_name = pol->file->model_name;
	} else if (pol->rules) {
		hours = pol->rules->cache_validity;
	}
	if (hours == 0) hours = MUD_CACHE_VALIDITY_DEFAULT;
	if (hours > MUD_CACHE_VALIDITY_MAX) hours = MUD_CACHE_VALIDITY_MAX;

	validity = (time_t)hours * 3600;
	if (validity > cache->max_validity) validity = cache->max_validity;

	src.url = (char *)(uintptr_t)url;
	src.status = MUD_OK;
	src.vlan = pol->rules ? pol->rules->vlan : 0;
	src.cache_validity = hours;
	/* the file's validity counts from its fetch (a recompiled policy keeps the time of the
	 * fetch of the file it was made from) */
	src.fetched = pol->fetched ? pol->fetched : now;
	src.expires = time_add(src.fetched, validity);
	/* the addresses of the file's DNS names live only as long as their answers, which
	 * were taken now: refresh (re-resolve, recompile) at now + the TTL, clamped to
	 * [dns_ttl_min, dns_ttl_max] */
	if (cache->dns_ttl_max > 0 && pol->rules && pol->rules->dns_ttl > 0) {
		time_t ttl = (time_t)pol->rules->dns_ttl;

		if (ttl < cache->dns_ttl_min) ttl = cache->dns_ttl_min;
		if (ttl > cache->dns_ttl_max) ttl = cache->dns_ttl_max;
		if (time_add(now, ttl) < src.expires) src.expires = time_add(now, ttl);
	}
	mudp_strlcpy(src.file_sha256, pol->file_sha256, sizeof(src.file_sha256));
	src.acl_name_v4 = pol->rendered->acl_name_v4;
	src.acl_name_v6 = pol->rendered->acl_name_v6;
	src.lines_v4 = pol->rendered->v4;
	src.num_v4 = pol->rendered->v4 ? pol->rendered->num_v4 : 0;
	src.lines_v6 = pol->rendered->v6;
	src.num_v6 = pol->rendered->v6 ? pol->rendered->num_v6 : 0;
	if (pol->signer_der && pol->signer_der_len <= MUD_SIGNER_DER_MAX) {
		src.signer_der = pol->signer_der;	/* larger: unknown, satisfies nothing */
		src.signer_der_len = pol->signer_der_len;
	}
	if (pol->signer_chain && pol->signer_chain_len <= MUD_SIGNER_CHAIN_MAX) {
		src.signer_chain = pol->signer_chain;	/* larger: none (never recorded) */
		src.signer_chain_len = pol->signer_chain_len;
	}
	src.compile_tag = tag_norm(NULL, pol->compile_tag);
	if (!src.compile_tag) return NULL;

	e = entry_copy(NULL, &src);
	talloc_free(src.compile_tag);
	if (!e) return NULL;
	e->policy_hash = mud_entry_policy_hash(e);	/* once, not on every request */
	/* Untrusted text from the file: no control bytes, in memory or on disk. */
	for (p = e->mfg_name; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
	}
	for (p = e->model_name; p && *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
	}
	return e;
}

/** A store that failed before it reached the node: hand the fetch back (as mud_cache_fail()
 *  does), or url would stay in flight, and no caller fetch it, until inflight_max. */
static void inflight_clear(mud_cache_t *cache, char const *url)
{
	cache_node_t *n;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (n) n->inflight = false;
	pthread_mutex_unlock(&cache->mutex);
}

/** Insert a good entry e (private memory, stolen or freed) for url, data its serialisation
 *  for the directory (NULL: nothing to write). The tail of mud_cache_store() and of
 *  mud_cache_import().
 *
 * @param[in] src	its kept MUD file (persist_sync()), NULL: none (an older one is
 *			removed).
 * @param[in] shared	e comes from another server (mud_cache_import()): it only replaces an
 *			older good entry (by fetched time), and a conflict leaves the fetch
 *			token alone unless release_token.
 * @param[in] release_token	clear the node's in-flight flag when e goes in (the caller
 *				holds the token).
 * @param[out] inserted	whether e went in (false: a newer or equal entry is there).
 */
static mud_rcode_t cache_insert(mud_cache_t *cache, char const *url, mud_entry_t *e,
				TALLOC_CTX *tmp, char const *data, size_t len,
				src_write_t const *src, bool shared, bool release_token,
				bool recheck, bool *inserted, mud_error_t *err)
{
	cache_node_t *n;
	uint64_t gen;
	url_list_t evicted = { 0 };
	mud_rcode_t rc = MUD_OK;
	acl_ref_t const *holder;
	char const *clash = NULL;
	size_t i;

	if (inserted) *inserted = false;
	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));

	if (shared && n && n->entry && n->entry->status == MUD_OK &&
	    n->entry->fetched >= e->fetched) {
		pthread_mutex_unlock(&cache->mutex);
		talloc_free(e);
		return MUD_OK;		/* what we hold is as new: keep it */
	}

	/* One name, one content: the first binding stays (docs/rendering.md). */
	holder = name_conflict(cache, n, e, &clash);
	if (clash) {
		char name[MUD_MAX_ATTR_LEN + 8];
		char other[128];

		mudp_escape(name, sizeof(name), clash, strlen(clash));
		mudp_escape(other, sizeof(other), holder ? holder->node->url : url,
			    strlen(holder ? holder->node->url : url));
		/* the caller records the failure */
		if (n && (!shared || release_token)) n->inflight = false;
		pthread_mutex_unlock(&cache->mutex);
		talloc_free(e);
		mud_error_clear(err);
		if (holder) {
			return mud_error_set(err, MUD_ERR_CONFLICT, name,
					     "dACL name already bound to other lines, those of %s: "
					     "policy not stored", other);
		}
		return mud_error_set(err, MUD_ERR_CONFLICT, name, "the IPv4 and IPv6 dACL names "
				     "are the same: policy not stored");
	}
	if (!n) {
		n = node_add(cache, url, siphash(cache->key, url));
		if (!n) {
			pthread_mutex_unlock(&cache->mutex);
			talloc_free(e);
			return mud_error_set(err, MUD_ERR_NOMEM, url, "out of memory");
		}
	} else {
		lru_touch(cache, n);
	}
	node_set_entry(cache, n, e);		/* frees the previous entry */
	n->recheck = recheck;
	gen = n->gen;
	if (!shared || release_token) n->inflight = false;
	n->retry_after = 0;
	cache->stats.stores++;
	cache_evict(cache, n, tmp, &evicted);
	pthread_mutex_unlock(&cache->mutex);
	if (inserted) *inserted = true;

	if (cache->dir) rc = persist_sync(cache, url, data, len, gen, src, err);
	for (i = 0; i < evicted.num; i++) {
		(void)persist_sync(cache, evicted.urls[i], NULL, 0, 0, NULL, NULL);
	}
	return rc;
}

/** The header of the kept MUD file of e (under ctx; NULL if out of memory or the URL holds a
 *  control byte): the magic line, then "key: value" lines as in an entry (the url escaped the
 *  same way), an empty line; the file bytes and the signature bytes follow. */
static char *src_header(TALLOC_CTX *ctx, mud_entry_t const *e, size_t file_len, size_t sig_len,
			size_t *len)
{
	sbuf_t b = { 0 };

	sbuf_add(ctx, &b, CACHE_SRC_MAGIC "\n", strlen(CACHE_SRC_MAGIC) + 1);
	sbuf_kv(ctx, &b, "url", e->url);
	sbuf_kv_int(ctx, &b, "fetched", (int64_t)e->fetched);
	sbuf_kv_int(ctx, &b, "file-len", (int64_t)file_len);
	sbuf_kv_int(ctx, &b, "sig-len", (int64_t)sig_len);
	sbuf_add(ctx, &b, "\n", 1);
	if (b.failed || b.len > CACHE_SRC_HEADER_MAX) {
		talloc_free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/** What the store of pol (as entry e) does with the kept MUD file: keep it (recompiled from
 *  it), write pol's bytes (within MUD_SOURCE_MAX), else remove an older one. */
static void src_prepare(TALLOC_CTX *ctx, mud_entry_t const *e, mud_policy_t const *pol,
			src_write_t *src)
{
	size_t sig_len = pol->sig_bytes ? pol->sig_len : 0;

	src->action = SRC_REMOVE;
	if (pol->recompiled) {
		src->action = SRC_KEEP;
		return;
	}
	if (!pol->file_bytes || pol->file_len > MUD_SOURCE_MAX ||
	    sig_len > MUD_SOURCE_MAX - pol->file_len) {
		return;
	}
	src->header = src_header(ctx, e, pol->file_len, sig_len, &src->header_len);
	if (!src->header) return;
	src->file = pol->file_bytes;
	src->file_len = pol->file_len;
	src->sig = sig_len ? pol->sig_bytes : NULL;
	src->sig_len = sig_len;
	src->action = SRC_WRITE;
}

/** Store a good policy (see mud.h).
 *
 * @return MUD_OK; MUD_ERR_ARG (no URL or no rendering); MUD_ERR_NOMEM; MUD_ERR_IO when the
 *	   policy is cached in memory but could not be written to the directory.
 */
mud_rcode_t mud_cache_store(mud_cache_t *cache, char const *url, mud_policy_t const *pol,
			    time_t now, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_entry_t *e;
	char *data = NULL;
	size_t len = 0;
	src_write_t src = { .action = SRC_REMOVE };
	mud_rcode_t rc = MUD_OK;
	mud_rcode_t irc;

	if (!cache || !url || !*url || !pol || !pol->rendered) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_store",
				     "no URL or no rendered policy");
	}
	if (strlen(url) > MUD_MAX_URL_LEN) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_store",
				     "URL longer than %d bytes", MUD_MAX_URL_LEN);
	}

	/* Everything that allocates or formats happens before the lock, in private memory. */
	tmp = talloc_new(NULL);
	e = tmp ? entry_from_policy(url, pol, cache, now) : NULL;
	if (!e) {
		talloc_free(tmp);
		inflight_clear(cache, url);
		return mud_error_set(err, MUD_ERR_NOMEM, url, "out of memory");
	}
	if (cache->dir) {
		bool nomem = false;
		char why[96];

		data = entry_serialise(tmp, cache, e, true, &len, &nomem, why, sizeof(why));
		if (!data) {
			rc = mud_error_set(err, nomem ? MUD_ERR_NOMEM : MUD_ERR_IO, url, "%s",
					   why);
		}
	}
	if (data) src_prepare(tmp, e, pol, &src);
	irc = cache_insert(cache, url, e, tmp, data, len, &src, false, true, false, NULL, err);
	if (irc == MUD_ERR_CONFLICT || irc == MUD_ERR_NOMEM) rc = irc;
	else if (rc == MUD_OK) rc = irc;
	talloc_free(tmp);
	return rc;
}

/** Serialise the good entry of url for another server (see mud_redis.h). */
mud_rcode_t mud_cache_export(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, char **data,
			     size_t *len, time_t *expires, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	cache_node_t *n;
	mud_entry_t *e = NULL;
	bool nomem = false;
	char why[96];

	*data = NULL;
	*len = 0;
	if (expires) *expires = 0;
	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_export", "no URL");
	}
	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, url, "out of memory");
	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (n && n->entry && n->entry->status == MUD_OK) e = entry_copy(tmp, n->entry);
	pthread_mutex_unlock(&cache->mutex);
	if (!e) {
		talloc_free(tmp);
		return mud_error_set(err, n && n->entry ? MUD_ERR_NOMEM : MUD_ERR_ARG, url,
				     "no policy of this URL in the cache");
	}
	/* no HMAC of the cache's own: the shared store signs what it holds */
	*data = entry_serialise(ctx, cache, e, false, len, &nomem, why, sizeof(why));
	if (!*data) {
		talloc_free(tmp);
		return mud_error_set(err, nomem ? MUD_ERR_NOMEM : MUD_ERR_LIMIT, url, "%s", why);
	}
	if (expires) *expires = e->expires;
	talloc_free(tmp);
	return MUD_OK;
}

/** Check a shared entry against the anchors of the last mud_cache_revalidate(), if any
 *  (without the lock; the cache's reference is taken under it): one whose chain no longer
 *  chains is refused with the check's code; one without a chain goes in marked to be
 *  refetched (*recheck), as mud_cache_revalidate() leaves those it holds. */
static mud_rcode_t import_trust_check(mud_cache_t *cache, mud_entry_t const *e, bool *recheck,
				      mud_error_t *err)
{
	mud_trust_t *trust;
	mud_error_t cerr;
	mud_rcode_t rc;

	*recheck = false;
	pthread_mutex_lock(&cache->mutex);
	trust = cache->trust ? mudp_trust_ref(NULL, cache->trust) : NULL;
	rc = cache->trust && !trust ? MUD_ERR_NOMEM : MUD_OK;
	pthread_mutex_unlock(&cache->mutex);
	if (rc != MUD_OK) return mud_error_set(err, rc, "mud_cache_import", "out of memory");
	if (!trust) return MUD_OK;
	if (!e->signer_chain) {
		*recheck = true;
		talloc_free(trust);
		return MUD_OK;
	}
	mud_error_clear(&cerr);
	rc = mud_trust_check_chain(trust, e->signer_chain, e->signer_chain_len, e->fetched, &cerr);
	talloc_free(trust);
	if (rc == MUD_OK) return MUD_OK;
	if (rc == MUD_ERR_NOMEM) {
		*recheck = true;	/* not checked: in, but refetched before served fresh */
		return MUD_OK;
	}
	return mud_error_set(err, rc, "shared entry",
			     "its signer no longer chains to a trust anchor (%s)", cerr.text);
}

/** Re-prove and insert an entry serialised by another server (see mud_redis.h). */
mud_rcode_t mud_cache_import(mud_cache_t *cache, char const *data, size_t len,
			     char const *want_url, bool release_token, bool *imported,
			     mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_entry_t *e;
	char *copy;
	char *url;
	char *disk = NULL;
	size_t disk_len = 0;
	char mac[65];
	size_t mac_at = 0;
	int format = -1;
	char why[256];
	mud_rcode_t rc;
	bool recheck = false;

	if (imported) *imported = false;
	if (!cache || !data || len == 0 || len > CACHE_FILE_MAX) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "mud_cache_import",
				     "shared entry empty or larger than %d bytes", CACHE_FILE_MAX);
	}
	tmp = talloc_new(NULL);
	copy = tmp ? talloc_array(tmp, char, len + 1) : NULL;
	if (!copy) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_import", "out of memory");
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	why[0] = '\0';
	e = entry_parse(tmp, copy, len, &format, &mac_at, mac, why, sizeof(why));
	if (!e) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_SCHEMA, "shared entry", "%s", why);
	}
	if (want_url && strcmp(e->url, want_url) != 0) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_MISMATCH, "shared entry",
				     "entry of another URL");
	}
	if (!entry_verify(cache, e, copy, format, false, mac_at, mac, why, sizeof(why))) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_SCHEMA, "shared entry", "%s", why);
	}
	e->policy_hash = mud_entry_policy_hash(e);	/* once, as a store or a load does */
	rc = import_trust_check(cache, e, &recheck, err);
	if (rc != MUD_OK) {
		talloc_free(tmp);
		return rc;
	}
	if (cache->dir) {
		bool nomem = false;

		disk = entry_serialise(tmp, cache, e, true, &disk_len, &nomem, why, sizeof(why));
	}
	url = talloc_strdup(tmp, e->url);	/* e may be freed by cache_insert() */
	if (!url) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_import", "out of memory");
	}
	(void)talloc_steal(NULL, e);
	/* another server's fetch: the file kept here, if any, is an older one (removed) */
	rc = cache_insert(cache, url, e, tmp, disk, disk_len, NULL, true, release_token, recheck,
			  imported, err);
	talloc_free(tmp);
	if (rc == MUD_ERR_IO) {
		mud_error_clear(err);		/* in memory: the directory is a convenience */
		rc = MUD_OK;
	}
	return rc;
}

/** Record a failed fetch (see mud.h). */
bool mud_cache_fail(mud_cache_t *cache, char const *url, mud_rcode_t code,
		    char const *where, char const *text, time_t now)
{
	mud_entry_t *neg;
	cache_node_t *n;
	uint64_t h;
	bool drop_file = false;
	TALLOC_CTX *tmp;
	url_list_t evicted = { 0 };
	size_t i;

	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return false;
	if (code == MUD_OK) code = MUD_ERR_ARG;	/* a failure must not look like a policy */

	/* Prepare the negative entry in private memory; it may go unused. */
	tmp = cache->dir ? talloc_new(NULL) : NULL;
	neg = talloc_zero(NULL, mud_entry_t);
	if (neg) {
		neg->url = talloc_strdup(neg, url);
		neg->status = code;
		neg->error_text = talloc_strndup(neg, text ? text : "", CACHE_ERR_TEXT_MAX);
		neg->error_where = talloc_strndup(neg, where ? where : "", CACHE_ERR_TEXT_MAX);
		neg->fetched = now;
		neg->expires = time_add(now, cache->fail_ttl);
		neg->lines_v4 = talloc_zero_array(neg, char *, 1);
		neg->lines_v6 = talloc_zero_array(neg, char *, 1);
		if (!neg->url || !neg->error_text || !neg->error_where || !neg->lines_v4 ||
		    !neg->lines_v6) {
			talloc_free(neg);
			neg = NULL;
		}
	}

	h = siphash(cache->key, url);
	pthread_mutex_lock(&cache->mutex);
	cache->stats.failures++;
	n = node_find(cache, url, h);
	if (n && n->entry && n->entry->status == MUD_OK &&
	    now < time_add(n->entry->expires, cache->stale_max)) {
		/* Keep serving the last good policy; retry after fail_ttl. */
		n->inflight = false;
		n->retry_after = time_add(now, cache->fail_ttl);
		lru_touch(cache, n);
		pthread_mutex_unlock(&cache->mutex);
		talloc_free(neg);
		talloc_free(tmp);
		return true;
	}
	if (!n) {
		n = node_add(cache, url, h);
		if (n) cache_evict(cache, n, tmp, &evicted);
	} else {
		lru_touch(cache, n);
	}
	if (n) {
		drop_file = n->entry && n->entry->status == MUD_OK;
		n->inflight = false;
		n->retry_after = 0;
		if (neg) {
			node_set_entry(cache, n, neg);
			neg = NULL;
		} else {
			/* No memory for the failure: at least drop the unusable policy. */
			node_set_entry(cache, n, NULL);
		}
	}
	pthread_mutex_unlock(&cache->mutex);
	talloc_free(neg);

	/* The last good policy is past stale_max: its file would only mislead a restart. */
	if (drop_file) (void)persist_sync(cache, url, NULL, 0, 0, NULL, NULL);
	for (i = 0; i < evicted.num; i++) {
		(void)persist_sync(cache, evicted.urls[i], NULL, 0, 0, NULL, NULL);
	}
	talloc_free(tmp);
	return false;
}

/** Find the lines of an issued dACL name (see mud.h). */
bool mud_cache_acl_lookup(mud_cache_t *cache, TALLOC_CTX *ctx, char const *acl_name,
			  char ***lines, size_t *num, bool *v6)
{
	acl_ref_t *r;
	uint64_t h;
	bool found = false;

	if (lines) *lines = NULL;
	if (num) *num = 0;
	if (v6) *v6 = false;
	if (!cache || !acl_name || !*acl_name || !lines || !num) return false;

	h = siphash(cache->key, acl_name);
	pthread_mutex_lock(&cache->mutex);
	for (r = cache->abuckets[h & (cache->num_abuckets - 1)]; r; r = r->next) {
		mud_entry_t const *e;
		bool ok = true;
		char **copy;

		if (r->hash != h || strcmp(r->name, acl_name) != 0) continue;
		e = r->node->entry;
		copy = r->v6 ? mudp_lines_dup(ctx, e->lines_v6, e->num_v6, &ok) :
			       mudp_lines_dup(ctx, e->lines_v4, e->num_v4, &ok);
		if (!ok) {
			talloc_free(copy);
			break;
		}
		*lines = copy;
		*num = r->v6 ? e->num_v6 : e->num_v4;
		if (v6) *v6 = r->v6;
		lru_touch(cache, r->node);
		found = true;
		break;
	}
	pthread_mutex_unlock(&cache->mutex);
	return found;
}

/** URL holding an issued dACL name (see mud.h). */
char *mud_cache_acl_holder(mud_cache_t *cache, TALLOC_CTX *ctx, char const *acl_name)
{
	acl_ref_t const *r;
	char *url = NULL;
	uint64_t h;

	if (!cache || !acl_name || !*acl_name) return NULL;
	h = siphash(cache->key, acl_name);
	pthread_mutex_lock(&cache->mutex);
	for (r = cache->abuckets[h & (cache->num_abuckets - 1)]; r; r = r->next) {
		if (r->hash != h || strcmp(r->name, acl_name) != 0) continue;
		url = talloc_strdup(ctx, r->node->url);
		break;
	}
	pthread_mutex_unlock(&cache->mutex);
	return url;
}

/** Drop url from memory and disk (see mud.h). */
void mud_cache_forget(mud_cache_t *cache, char const *url)
{
	cache_node_t *n;

	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (n) node_remove(cache, n);
	pthread_mutex_unlock(&cache->mutex);

	(void)persist_sync(cache, url, NULL, 0, 0, NULL, NULL);
}

/*
 *	Kept MUD files (<sha256 of url>.src), for a recompile without the network.
 */
/** The next header line of a kept file: "key: value" (key given) or the empty line (key
 *  NULL), at *off in buf[0..end). The value (key given) is at *val, *val_len bytes; *off
 *  moves past the line. False if the line is not that. */
static bool src_line(char const *buf, size_t end, size_t *off, char const *key,
		     char const **val, size_t *val_len)
{
	char const *line = buf + *off;
	char const *nl = memchr(line, '\n', end - *off);
	size_t n;
	size_t klen;

	if (!nl) return false;
	n = (size_t)(nl - line);
	*off += n + 1;
	if (!key) return n == 0;
	klen = strlen(key);
	if (n < klen + 2 || memcmp(line, key, klen) != 0 || line[klen] != ':' ||
	    line[klen + 1] != ' ') {
		return false;
	}
	*val = line + klen + 2;
	*val_len = n - klen - 2;
	return true;
}

/** A header value as an integer in lo..hi (digits only: no sign, no spaces; leading zeros
 *  are accepted, the value is what is compared). */
static bool src_int(char const *val, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
	char num[24];

	if (len == 0 || len >= sizeof(num)) return false;
	memcpy(num, val, len);
	num[len] = '\0';
	return parse_int(num, lo, hi, out);
}

/** Check a kept file read whole (buf NUL-terminated at len) against what the entry says:
 *  strict header, this url, this fetch time, exact sizes, the file's SHA-256. On success
 *  *file_at, *file_len, *sig_len locate the bytes. False and why otherwise. */
static bool src_check(TALLOC_CTX *ctx, uint8_t const *buf, size_t len, char const *url,
		      time_t fetched, char const *sha256, size_t *file_at, size_t *file_len,
		      size_t *sig_len, char *why, size_t whylen)
{
	char const *text = (char const *)buf;
	size_t end = len < CACHE_SRC_HEADER_MAX ? len : CACHE_SRC_HEADER_MAX;
	size_t off = 0;
	char const *val = NULL;
	size_t vlen = 0;
	char *decoded;
	int64_t v_fetched;
	int64_t v_file;
	int64_t v_sig;
	char hex[65];

	if (len < sizeof(CACHE_SRC_MAGIC) || memcmp(text, CACHE_SRC_MAGIC "\n",
						     sizeof(CACHE_SRC_MAGIC)) != 0) {
		snprintf(why, whylen, "not a kept MUD file (no \"" CACHE_SRC_MAGIC "\" line)");
		return false;
	}
	off = sizeof(CACHE_SRC_MAGIC);
	if (!src_line(text, end, &off, "url", &val, &vlen)) {
		snprintf(why, whylen, "malformed header: no url line");
		return false;
	}
	decoded = value_decode(ctx, val, vlen, why, whylen);
	if (!decoded) return false;
	if (strcmp(decoded, url) != 0) {
		talloc_free(decoded);
		snprintf(why, whylen, "kept for another url");
		return false;
	}
	talloc_free(decoded);
	if (!src_line(text, end, &off, "fetched", &val, &vlen) ||
	    !src_int(val, vlen, 0, CACHE_TIME_MAX, &v_fetched)) {
		snprintf(why, whylen, "malformed header: bad fetched line");
		return false;
	}
	if ((time_t)v_fetched != fetched) {
		snprintf(why, whylen, "fetched at %" PRId64 ", the cached policy's file at %"
			 PRId64, v_fetched, (int64_t)fetched);
		return false;
	}
	if (!src_line(text, end, &off, "file-len", &val, &vlen) ||
	    !src_int(val, vlen, 0, MUD_SOURCE_MAX, &v_file)) {
		snprintf(why, whylen, "malformed header: bad file-len line");
		return false;
	}
	if (!src_line(text, end, &off, "sig-len", &val, &vlen) ||
	    !src_int(val, vlen, 0, MUD_SOURCE_MAX - v_file, &v_sig)) {
		snprintf(why, whylen, "malformed header: bad sig-len line");
		return false;
	}
	if (!src_line(text, end, &off, NULL, NULL, NULL)) {
		snprintf(why, whylen, "malformed header: no empty line after sig-len");
		return false;
	}
	if (len - off != (size_t)v_file + (size_t)v_sig) {
		snprintf(why, whylen, "%zu bytes after the header, not file-len + sig-len = %"
			 PRId64, len - off, v_file + v_sig);
		return false;
	}
	mud_sha256_hex(hex, buf + off, (size_t)v_file);
	if (strcmp(hex, sha256) != 0) {
		snprintf(why, whylen, "SHA-256 of the file is not the cached policy's file-sha256");
		return false;
	}
	*file_at = off;
	*file_len = (size_t)v_file;
	*sig_len = (size_t)v_sig;
	return true;
}

/** Whether url's good entry still records the file sha256 (a store may have replaced it while
 *  its kept file was read: then a mismatch is no alteration). */
static bool source_entry_same(mud_cache_t *cache, char const *url, char const *sha256)
{
	cache_node_t const *n;
	bool same;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	same = n && n->entry && n->entry->status == MUD_OK &&
	       strcmp(n->entry->file_sha256, sha256) == 0;
	pthread_mutex_unlock(&cache->mutex);
	return same;
}

/** The kept MUD file of url's good policy (see mud.h). */
mud_rcode_t mud_cache_source(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, time_t now,
			     mud_source_t **out, bool *refused, mud_error_t *err)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	char name[65];
	char sha256[65];
	char why[160];
	TALLOC_CTX *tmp;
	mud_source_t *src;
	cache_node_t const *n;
	uint8_t *buf = NULL;
	size_t len = 0;
	size_t file_at = 0;
	size_t file_len = 0;
	size_t sig_len = 0;
	unsigned int hours;
	time_t fetched;
	time_t validity;
	time_t valid_until;
	char *path;
	mud_error_t rerr;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (refused) *refused = false;
	if (!cache || !url || !*url || !out) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_source",
				     "no cache, URL or output");
	}
	if (strlen(url) > MUD_MAX_URL_LEN) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_source",
				     "URL longer than %d bytes", MUD_MAX_URL_LEN);
	}
	mudp_escape(where, sizeof(where), url, strlen(url));
	if (!cache->dir) {
		return mud_error_set(err, MUD_ERR_IO, where, "no cache_dir: no MUD file is kept");
	}

	/* What the entry says of its file, copied out; the read runs without the lock. */
	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (!n || !n->entry || n->entry->status != MUD_OK) {
		pthread_mutex_unlock(&cache->mutex);
		return mud_error_set(err, MUD_ERR_IO, where, "no good cached policy: no MUD file "
				     "is kept");
	}
	fetched = n->entry->fetched;
	hours = n->entry->cache_validity;
	mudp_strlcpy(sha256, n->entry->file_sha256, sizeof(sha256));
	pthread_mutex_unlock(&cache->mutex);

	/* as entry_from_policy() counts it */
	if (hours == 0) hours = MUD_CACHE_VALIDITY_DEFAULT;
	if (hours > MUD_CACHE_VALIDITY_MAX) hours = MUD_CACHE_VALIDITY_MAX;
	validity = (time_t)hours * 3600;
	if (validity > cache->max_validity) validity = cache->max_validity;
	valid_until = time_add(fetched, validity);
	if (now >= valid_until) {
		return mud_error_set(err, MUD_ERR_IO, where, "the kept MUD file is past its "
				     "cache-validity (%u h from %" PRId64 "): fetch it again",
				     hours, (int64_t)fetched);
	}
	if (!is_sha256_hex(sha256)) {
		return mud_error_set(err, MUD_ERR_IO, where, "the cached policy records no "
				     "file-sha256: no MUD file is kept");
	}

	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
	mud_sha256_hex(name, url, strlen(url));
	path = talloc_asprintf(tmp, "%s/%s" CACHE_SRC_SUFFIX, cache->dir, name);
	if (!path) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
		goto error;
	}
	mudp_escape(where, sizeof(where), path, strlen(path));

	/* None kept (a policy from Redis, a pair over MUD_SOURCE_MAX): nothing refused. */
	{
		struct stat st;

		if (lstat(path, &st) != 0 && errno == ENOENT) {
			rc = mud_error_set(err, MUD_ERR_IO, where, "no MUD file is kept for this "
					   "policy");
			goto error;
		}
	}
	/* A file of ours (owner, one link, no link to follow), bounded. */
	mud_error_clear(&rerr);
	rc = mud_safe_read(tmp, &buf, &len, path, MUD_SOURCE_MAX + CACHE_SRC_HEADER_MAX,
			   MUD_SAFE_OWNED, &rerr);
	if (rc == MUD_ERR_NOMEM) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
		goto error;
	}
	if (rc != MUD_OK) {
		rc = mud_error_set(err, MUD_ERR_IO, where, "kept MUD file not readable: %s",
				   rerr.text);
		if (refused) *refused = true;
		goto error;
	}
	why[0] = '\0';
	if (!src_check(tmp, buf, len, url, fetched, sha256, &file_at, &file_len, &sig_len, why,
		       sizeof(why))) {
		if (strcmp(why, "out of memory") == 0) goto nomem;
		if (!source_entry_same(cache, url, sha256)) {
			rc = mud_error_set(err, MUD_ERR_IO, where, "the cached policy was replaced "
					   "while its kept MUD file was read");
			goto error;
		}
		rc = mud_error_set(err, MUD_ERR_IO, where, "kept MUD file refused: %s", why);
		if (refused) *refused = true;
		goto error;
	}

	src = talloc_zero(tmp, mud_source_t);
	if (!src) goto nomem;
	if (sig_len) {
		src->sig = talloc_memdup(src, buf + file_at + file_len, sig_len);
		if (!src->sig) goto nomem;
		src->sig_len = sig_len;
	}
	/* the file in place (up to MUD_SOURCE_MAX: not copied), NUL-terminated */
	memmove(buf, buf + file_at, file_len);
	buf[file_len] = '\0';
	src->file = talloc_steal(src, buf);
	src->file_len = file_len;
	src->fetched = fetched;
	src->valid_until = valid_until;

	*out = talloc_steal(ctx, src);
	talloc_free(tmp);
	return MUD_OK;

nomem:
	rc = mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
error:
	talloc_free(tmp);
	return rc;
}

/** One good policy to re-check: what identifies it, copied out under the lock. */
typedef struct {
	char		*url;
	char		file_sha256[65];
} reval_item_t;

/** Copy out the chain of url's good entry if it is still the policy file_sha256 names
 *  (under ctx; NULL: gone, replaced, or out of memory, then marked to be refetched). */
static uint8_t *reval_chain(mud_cache_t *cache, TALLOC_CTX *ctx, reval_item_t const *it,
			    size_t *len, time_t *fetched)
{
	cache_node_t *n;
	uint8_t *chain = NULL;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, it->url, siphash(cache->key, it->url));
	if (n && n->entry && n->entry->status == MUD_OK && n->entry->signer_chain &&
	    strcmp(n->entry->file_sha256, it->file_sha256) == 0) {
		chain = talloc_memdup(ctx, n->entry->signer_chain, n->entry->signer_chain_len);
		*len = n->entry->signer_chain_len;
		*fetched = n->entry->fetched;
		if (!chain) n->recheck = true;	/* out of memory: not checked, refetched */
	}
	pthread_mutex_unlock(&cache->mutex);
	return chain;
}

static bool node_flush(mud_cache_t *cache, cache_node_t *n);

/** Drop url's good entry if it is still the policy file_sha256 names (memory, dACL names,
 *  then its file), or with mark_only only mark it to be refetched (it could not be
 *  checked). Returns whether it was still there. */
static bool reval_drop(mud_cache_t *cache, reval_item_t const *it, bool mark_only)
{
	cache_node_t *n;
	bool found = false;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, it->url, siphash(cache->key, it->url));
	if (n && n->entry && n->entry->status == MUD_OK &&
	    strcmp(n->entry->file_sha256, it->file_sha256) == 0) {
		found = true;
		if (mark_only) {
			n->recheck = true;
		} else {
			(void)node_flush(cache, n);
		}
	}
	pthread_mutex_unlock(&cache->mutex);
	if (found && !mark_only) (void)persist_sync(cache, it->url, NULL, 0, 0, NULL, NULL);
	return found;
}

/** Re-check every good policy's signer against trust (see mud.h). */
size_t mud_cache_revalidate(mud_cache_t *cache, mud_trust_t const *trust, time_t now,
			    TALLOC_CTX *ctx, char ***dropped, size_t max)
{
	TALLOC_CTX *tmp;
	mud_trust_t *ref;
	mud_trust_t *old_ref;
	reval_item_t *items = NULL;
	cache_node_t *n;
	char **out = NULL;
	size_t num_items = 0;
	size_t num_out = 0;
	size_t num_dropped = 0;
	size_t i;

	(void)now;	/* each chain is checked at its policy's fetch time */
	if (dropped) *dropped = NULL;
	if (!cache) return 0;

	/* Shared entries imported from now on are checked against these anchors. */
	ref = mudp_trust_ref(NULL, trust);
	pthread_mutex_lock(&cache->mutex);
	old_ref = cache->trust;
	cache->trust = ref;	/* out of memory: NULL, imports unchecked (as without trust) */
	pthread_mutex_unlock(&cache->mutex);
	talloc_free(old_ref);
	if (!trust) return 0;

	tmp = talloc_new(NULL);		/* private: allocations under the lock are ours */
	if (!tmp) return 0;
	if (dropped && max > 0) out = talloc_zero_array(ctx, char *, max);

	/*
	 *	Under the lock: the policies with a chain are listed (URL and file_sha256, not
	 *	their chains: up to MUD_SIGNER_CHAIN_MAX each), the others are marked to be
	 *	refetched.
	 */
	pthread_mutex_lock(&cache->mutex);
	if (cache->num_nodes > 0) items = talloc_array(tmp, reval_item_t, cache->num_nodes);
	for (n = cache->lru_head; n; n = n->lru_next) {
		mud_entry_t const *e = n->entry;

		if (!e || e->status != MUD_OK) continue;
		if (!e->signer_chain || !items || num_items >= cache->num_nodes) {
			n->recheck = true;	/* no chain (or out of memory): refetch it */
			continue;
		}
		items[num_items].url = talloc_strdup(items, n->url);
		if (!items[num_items].url) {
			n->recheck = true;	/* out of memory: at least refetch it */
			continue;
		}
		memcpy(items[num_items].file_sha256, e->file_sha256, 65);
		num_items++;
	}
	pthread_mutex_unlock(&cache->mutex);

	/* Without the lock: the X.509 work. */
	for (i = 0; i < num_items; i++) {
		reval_item_t const *it = &items[i];
		mud_error_t err;
		mud_rcode_t rc;
		uint8_t *chain;
		size_t len = 0;
		time_t fetched = 0;
		char esc_url[128];
		char esc_why[256];

		chain = reval_chain(cache, tmp, it, &len, &fetched);
		if (!chain) continue;		/* gone or replaced meanwhile */
		mud_error_clear(&err);
		rc = mud_trust_check_chain(trust, chain, len, fetched, &err);
		talloc_free(chain);
		if (rc == MUD_OK) continue;
		if (rc == MUD_ERR_NOMEM) {	/* not checked: refetched instead */
			(void)reval_drop(cache, it, true);
			continue;
		}
		if (!reval_drop(cache, it, false)) continue;	/* replaced meanwhile */

		num_dropped++;
		if (cache->log) {
			mudp_escape(esc_url, sizeof(esc_url), it->url, strlen(it->url));
			mudp_escape(esc_why, sizeof(esc_why), err.text, strlen(err.text));
			cache->log(cache->log_uctx, MUD_LOG_WARN,
				   "cached policy %s dropped: its signer no longer chains to a "
				   "trust anchor (%s)", esc_url, esc_why);
		}
		if (out && num_out < max) {
			out[num_out] = talloc_strdup(out, it->url);
			if (out[num_out]) num_out++;
		}
	}
	talloc_free(tmp);

	if (out && num_out > 0) {
		*dropped = out;
	} else {
		talloc_free(out);
	}
	return num_dropped;
}

/** Counters (see mud.h). */
void mud_cache_stats(mud_cache_t *cache, mud_cache_stats_t *out)
{
	if (!out) return;
	memset(out, 0, sizeof(*out));
	if (!cache) return;

	pthread_mutex_lock(&cache->mutex);
	*out = cache->stats;
	out->entries = cache->num_entries;
	pthread_mutex_unlock(&cache->mutex);
}

/*
 *	Operator view: list, show, flush, refresh (docs/operations.md).
 */

/** Name of a state (see mud.h). */
char const *mud_cache_state_name(mud_cache_state_t state)
{
	switch (state) {
	case MUD_CSTATE_FRESH:
		return "fresh";
	case MUD_CSTATE_STALE:
		return "stale";
	case MUD_CSTATE_EXPIRED:
		return "expired";
	case MUD_CSTATE_NEGATIVE:
		return "negative";
	case MUD_CSTATE_RETRY:
		return "retry";
	case MUD_CSTATE_FETCHING:
		return "fetching";
	case MUD_CSTATE_EMPTY:
		return "empty";
	}
	return "unknown";
}

/** State of a node at now. Called with cache->mutex held. */
static mud_cache_state_t node_state(mud_cache_t const *cache, cache_node_t const *n, time_t now)
{
	mud_entry_t const *e = n->entry;

	if (!e) return n->inflight ? MUD_CSTATE_FETCHING : MUD_CSTATE_EMPTY;
	if (e->status != MUD_OK) return now < e->expires ? MUD_CSTATE_NEGATIVE : MUD_CSTATE_RETRY;
	if (now < e->expires && node_current(cache, n)) return MUD_CSTATE_FRESH;
	if (now < time_add(e->expires, cache->stale_max)) return MUD_CSTATE_STALE;
	return MUD_CSTATE_EXPIRED;
}

/** talloc_strdup() of s, NULL for NULL; *ok = false when the copy fails. */
static char *str_dup_or_null(TALLOC_CTX *ctx, char const *s, bool *ok)
{
	char *r;

	if (!s) return NULL;
	r = talloc_strdup(ctx, s);
	if (!r) *ok = false;
	return r;
}

/** Fill info from a node (strings under ctx). false on allocation failure. Called with
 *  cache->mutex held. */
static bool node_info(mud_cache_t const *cache, TALLOC_CTX *ctx, cache_node_t const *n,
		      mud_cache_info_t *info, time_t now)
{
	mud_entry_t const *e = n->entry;
	bool ok = true;

	memset(info, 0, sizeof(*info));
	info->url = talloc_strdup(ctx, n->url);
	if (!info->url) return false;
	info->state = node_state(cache, n, now);
	info->inflight = n->inflight && now < time_add(n->inflight_since, cache->inflight_max);
	if (!e) return true;
	info->status = e->status;
	info->fetched = e->fetched;
	info->expires = e->expires;
	info->vlan = e->vlan;
	info->num_v4 = e->num_v4;
	info->num_v6 = e->num_v6;
	memcpy(info->file_sha256, e->file_sha256, sizeof(info->file_sha256));
	info->file_sha256[sizeof(info->file_sha256) - 1] = '\0';
	info->acl_name_v4 = str_dup_or_null(ctx, e->acl_name_v4, &ok);
	info->acl_name_v6 = str_dup_or_null(ctx, e->acl_name_v6, &ok);
	if (e->status == MUD_OK) {
		char esc[MUD_COMPILE_TAG_MAX * 4 + 1];
		char const *t = e->compile_tag ? e->compile_tag : "";

		info->other_context = !entry_tag_current(cache, e);
		mudp_escape(esc, sizeof(esc), t, strlen(t));
		info->compile_tag = talloc_strdup(ctx, esc);
		if (!info->compile_tag) ok = false;
		if (e->signer_der) {	/* as text once the lock is released (info_signer()) */
			info->signer = talloc_memdup(ctx, e->signer_der, e->signer_der_len);
			if (!info->signer) ok = false;
		}
	}
	if (e->status != MUD_OK) {
		char esc[CACHE_ERR_TEXT_MAX + 1];
		char const *t = e->error_text ? e->error_text : "";

		mudp_escape(esc, sizeof(esc), t, strlen(t));
		info->error_text = talloc_strdup(ctx, esc);
		if (!info->error_text) ok = false;
	}
	return ok;
}

/** Turn the signer DER node_info() left in info->signer into its text (escaped), without
 *  the lock. An undecodable one becomes NULL (unknown). */
static bool info_signer(mud_cache_info_t *info)
{
	char *text;
	char esc[256];
	uint8_t *der = (uint8_t *)info->signer;

	if (!der) return true;
	info->signer = NULL;
	text = mud_signer_to_text(NULL, der, talloc_get_size(der));
	if (text) {
		mudp_escape(esc, sizeof(esc), text, strlen(text));
		info->signer = talloc_strdup(talloc_parent(der), esc);
	}
	talloc_free(der);
	if (text && !info->signer) {
		talloc_free(text);
		return false;
	}
	talloc_free(text);
	return true;
}

static int info_cmp_url(void const *a, void const *b)
{
	return strcmp(((mud_cache_info_t const *)a)->url, ((mud_cache_info_t const *)b)->url);
}

/** Every URL, sorted (see mud.h). */
mud_rcode_t mud_cache_list(mud_cache_t *cache, TALLOC_CTX *ctx, mud_cache_info_t **out,
			   size_t *num, time_t now, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_cache_info_t *arr = NULL;
	cache_node_t const *n;
	size_t i = 0;
	size_t num_done;

	if (out) *out = NULL;
	if (num) *num = 0;
	if (!cache || !out || !num) return mud_error_set(err, MUD_ERR_ARG, "mud_cache_list",
							 "no cache or no output");
	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_list", "out of memory");

	pthread_mutex_lock(&cache->mutex);
	if (cache->num_nodes > 0) {
		arr = talloc_zero_array(tmp, mud_cache_info_t, cache->num_nodes);
		if (!arr) goto nomem;
	}
	for (n = cache->lru_head; n && i < cache->num_nodes; n = n->lru_next) {
		if (!node_info(cache, arr, n, &arr[i], now)) goto nomem;
		i++;
	}
	pthread_mutex_unlock(&cache->mutex);

	for (num_done = 0; num_done < i; num_done++) {
		if (!info_signer(&arr[num_done])) {
			talloc_free(tmp);
			return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_list", "out of memory");
		}
	}
	if (i > 1) qsort(arr, i, sizeof(*arr), info_cmp_url);
	if (arr) (void)talloc_steal(ctx, arr);
	talloc_free(tmp);
	*out = arr;
	*num = i;
	return MUD_OK;

nomem:
	pthread_mutex_unlock(&cache->mutex);
	talloc_free(tmp);
	return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_list", "out of memory");
}

/** One URL (see mud.h). */
mud_rcode_t mud_cache_show(mud_cache_t *cache, TALLOC_CTX *ctx, mud_cache_info_t **out,
			   mud_entry_t **entry, char const *url, time_t now, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_cache_info_t *info;
	mud_entry_t *copy = NULL;
	cache_node_t const *n;

	if (out) *out = NULL;
	if (entry) *entry = NULL;
	if (!cache || !out || !url) return mud_error_set(err, MUD_ERR_ARG, "mud_cache_show",
							 "no cache, URL or output");
	if (!*url || strlen(url) > MUD_MAX_URL_LEN) return MUD_OK;	/* never cached */

	tmp = talloc_new(ctx);
	info = tmp ? talloc_zero(tmp, mud_cache_info_t) : NULL;
	if (!info) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_show", "out of memory");
	}
	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (!n) {
		pthread_mutex_unlock(&cache->mutex);
		talloc_free(tmp);
		return MUD_OK;
	}
	if (!node_info(cache, info, n, info, now) ||
	    (entry && n->entry && !(copy = entry_copy(tmp, n->entry)))) {
		pthread_mutex_unlock(&cache->mutex);
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_show", "out of memory");
	}
	pthread_mutex_unlock(&cache->mutex);
	if (!info_signer(info)) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_show", "out of memory");
	}

	*out = talloc_steal(ctx, info);
	if (entry) *entry = copy ? talloc_steal(ctx, copy) : NULL;
	talloc_free(tmp);
	return MUD_OK;
}

/** Drop a node's entry, or the node when no fetch holds it. Called with cache->mutex held.
 *  Returns whether there was an entry. */
static bool node_flush(mud_cache_t *cache, cache_node_t *n)
{
	bool had = n->entry != NULL;

	n->retry_after = 0;
	if (n->inflight) {
		node_set_entry(cache, n, NULL);		/* the fetch in flight stores its result */
	} else {
		node_remove(cache, n);
	}
	return had;
}

/** Drop one URL (see mud.h). */
bool mud_cache_flush(mud_cache_t *cache, char const *url)
{
	cache_node_t *n;
	bool had = false;

	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return false;

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, siphash(cache->key, url));
	if (n) had = node_flush(cache, n);
	pthread_mutex_unlock(&cache->mutex);

	(void)persist_sync(cache, url, NULL, 0, 0, NULL, NULL);	/* no good entry: file removed */
	return had;
}

/** Drop every URL (see mud.h). */
size_t mud_cache_flush_all(mud_cache_t *cache)
{
	TALLOC_CTX *tmp;
	url_list_t files = { 0 };
	cache_node_t *n;
	size_t dropped = 0;
	size_t i;

	if (!cache) return 0;
	tmp = talloc_new(NULL);

	pthread_mutex_lock(&cache->mutex);
	n = cache->lru_head;
	while (n) {
		cache_node_t *next = n->lru_next;

		if (n->entry && n->entry->status == MUD_OK) url_list_add(tmp, &files, n->url);
		if (node_flush(cache, n)) dropped++;
		n = next;
	}
	pthread_mutex_unlock(&cache->mutex);

	for (i = 0; i < files.num; i++) {
		(void)persist_sync(cache, files.urls[i], NULL, 0, 0, NULL, NULL);
	}
	talloc_free(tmp);
	return dropped;
}

/** Fetch token for an operator refresh (see mud.h). */
bool mud_cache_refresh_token(mud_cache_t *cache, char const *url, time_t now)
{
	cache_node_t *n;
	uint64_t h;
	bool token = false;

	if (!cache || !url || !*url || strlen(url) > MUD_MAX_URL_LEN) return false;
	h = siphash(cache->key, url);

	pthread_mutex_lock(&cache->mutex);
	n = node_find(cache, url, h);
	if (!n) {
		n = node_add(cache, url, h);
		if (n) cache_evict(cache, n, NULL, NULL);
	}
	if (n) {
		n->retry_after = 0;			/* the operator asked: no back-off */
		token = token_take(cache, n, now);
	}
	pthread_mutex_unlock(&cache->mutex);
	return token;
}

/*
 *	Offline reading of a persisted directory (mudctl cache list|show).
 */
#define CACHE_DIR_READ_MAX	100000	//!< files read at most by default (10x the default
					//!< cache_max_entries)

/** Read, parse and re-prove one file into f (never fails: the verdict says what is wrong). */
static void dir_read_one(TALLOC_CTX *ctx, char const *dir, uint8_t const *key, size_t key_len,
			 mud_cache_file_t *f)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char why[256] = "";
	char esc[300];
	uint8_t *buf = NULL;
	size_t len = 0;
	char *path;
	mud_entry_t *e = NULL;
	char mac[65];
	size_t mac_at = 0;
	int format = -1;
	char hash[65];
	mud_cache_t view;
	mud_error_t err;

	f->verdict = MUD_CFILE_INVALID;
	path = tmp ? dir_path(tmp, dir, f->name) : NULL;
	if (!path) {
		snprintf(why, sizeof(why), "out of memory");
		goto done;
	}
	/* no link, FIFO or device; any owner (root reads the server's files) */
	mud_error_clear(&err);
	if (mud_safe_read(tmp, &buf, &len, path, CACHE_FILE_MAX, 0, &err) != MUD_OK) {
		snprintf(why, sizeof(why), "%s", err.text);
		goto done;
	}
	e = entry_parse(ctx, (char const *)buf, len, &format, &mac_at, mac, why, sizeof(why));
	if (!e) goto done;
	f->entry = e;
	f->format = mud_format_name((mud_format_t)format);
	f->has_hmac = mac[0] != '\0';

	mud_sha256_hex(hash, e->url, strlen(e->url));
	if (strcmp(hash, f->name) != 0) {
		snprintf(why, sizeof(why), "file name is not the SHA-256 of its url");
		goto done;
	}
	/* everything start-up checks but the HMAC, with the file's own format */
	memset(&view, 0, sizeof(view));
	view.format = (mud_format_t)format;
	if (!entry_verify(&view, e, (char const *)buf, format, false, mac_at, mac, why,
			  sizeof(why))) {
		goto done;
	}
	if (key) {
		view.mac_key = (uint8_t *)(uintptr_t)key;
		view.mac_key_len = key_len;
		if (!entry_verify(&view, e, (char const *)buf, format, true, mac_at, mac, why,
				  sizeof(why))) {
			f->verdict = MUD_CFILE_TAMPERED;
			goto done;
		}
	}
	f->verdict = MUD_CFILE_OK;
	why[0] = '\0';

done:
	if (f->verdict != MUD_CFILE_OK) {
		mudp_escape(esc, sizeof(esc), why, strlen(why));
		f->why = talloc_strdup(ctx, esc);
	}
	talloc_free(tmp);
}

static int cfile_cmp(void const *a, void const *b)
{
	mud_cache_file_t const *fa = a;
	mud_cache_file_t const *fb = b;

	if (fa->entry && fb->entry) {
		int c = strcmp(fa->entry->url, fb->entry->url);

		if (c) return c;
	} else if (fa->entry || fb->entry) {
		return fa->entry ? -1 : 1;
	}
	return strcmp(fa->name, fb->name);
}

/** Read a persisted directory offline (see mud.h). */
mud_rcode_t mud_cache_dir_read(TALLOC_CTX *ctx, mud_cache_file_t **out, size_t *num,
			       char const *dir, char const *key_file, size_t max_files,
			       mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_cache_file_t *files = NULL;
	size_t n = 0;
	uint8_t *key = NULL;
	size_t key_len = 0;
	DIR *d;
	struct dirent *de;
	mud_rcode_t rc;
	size_t i;

	if (out) *out = NULL;
	if (num) *num = 0;
	if (!out || !num || !dir || !*dir) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_cache_dir_read", "no directory");
	}
	if (max_files == 0) max_files = CACHE_DIR_READ_MAX;
	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_dir_read", "out of memory");

	if (key_file) {
		char where[sizeof(((mud_error_t *)NULL)->where)];

		rc = mud_safe_read(tmp, &key, &key_len, key_file, CACHE_KEY_MAX, 0, err);
		if (rc != MUD_OK) goto error;
		talloc_set_destructor(key, _key_free);
		if (key_len < CACHE_KEY_MIN) {
			mudp_escape(where, sizeof(where), key_file, strlen(key_file));
			rc = mud_error_set(err, MUD_ERR_IO, where,
					   "cache key file holds %zu bytes, fewer than %d", key_len,
					   CACHE_KEY_MIN);
			goto error;
		}
	}

	d = opendir(dir);
	if (!d) {
		rc = io_error(err, dir, "opendir", errno);
		goto error;
	}
	for (;;) {
		mud_cache_file_t *nf;

		errno = 0;
		de = readdir(d);
		if (!de) break;
		if (!is_sha256_hex(de->d_name)) continue;	/* not an entry (tmp.*, ...) */
		if (n >= max_files) break;
		nf = talloc_realloc(tmp, files, mud_cache_file_t, n + 1);
		if (!nf) {
			closedir(d);
			rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_dir_read",
					   "out of memory");
			goto error;
		}
		files = nf;
		memset(&files[n], 0, sizeof(files[n]));
		files[n].name = talloc_strdup(files, de->d_name);
		if (!files[n].name) {
			closedir(d);
			rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_cache_dir_read",
					   "out of memory");
			goto error;
		}
		n++;
	}
	closedir(d);

	for (i = 0; i < n; i++) dir_read_one(files, dir, key, key_len, &files[i]);
	if (n > 1) qsort(files, n, sizeof(*files), cfile_cmp);
	if (files) (void)talloc_steal(ctx, files);
	talloc_free(tmp);
	*out = files;
	*num = n;
	return MUD_OK;

error:
	talloc_free(tmp);
	return rc;
}
