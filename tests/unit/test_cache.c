/*
 * test_cache.c - unit tests of the policy cache (mud_cache.c): state
 * transitions with explicit clocks, single-flight, dACL name index, LRU,
 * persistence (round trip and hostile files), a multi-threaded run, and the re-check of
 * cached policies' signer chains against reloaded trust anchors (certificates made at test
 * time by tests/tools/mksig.sh).
 */
#include "test_common.h"
#include "mud_render_priv.h"
#include "mud_redis.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#define T0	((time_t)1700000000)
#define URL_A	"https://lighting.example.com/lightbulb2000.json"
#define URL_B	"https://printer.example.com/printer.json"
#define URL_C	"https://camera.example.com/cam.json"
#define URL_D	"https://thermo.example.com/thermo.json"
#define SHA_F	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/*
 *	Helpers
 */

/** Peer port that tells policies apart by their tag ("a" -> 1097, "b2" -> 1148). */
static unsigned int tag_port(char const *tag)
{
	unsigned int p = 1000;

	while (*tag) p += (unsigned char)*tag++;
	return p;
}

/** A policy built by hand, as mud_policy_fetch() would return it. Names as given (the index
 *  does not check them; see mk_real() for names that survive a reload). */
static mud_policy_t *mk_policy(TALLOC_CTX *ctx, char const *tag, int vlan, unsigned int hours,
			       size_t n4, size_t n6, char const *name4, char const *name6,
			       time_t fetched)
{
	mud_policy_t *pol = talloc_zero(ctx, mud_policy_t);
	size_t i;

	pol->url = talloc_strdup(pol, "https://unused.example.com/x.json");
	pol->file = talloc_zero(pol, mud_file_t);
	pol->file->cache_validity = hours;
	pol->file->mfg_name = talloc_asprintf(pol->file, "mfg %s", tag);
	pol->file->model_name = talloc_asprintf(pol->file, "model %s", tag);
	pol->rules = talloc_zero(pol, mud_ruleset_t);
	pol->rules->vlan = vlan;
	pol->rules->cache_validity = hours;
	pol->rendered = talloc_zero(pol, mud_rendered_t);
	pol->rendered->format = MUD_FMT_CISCO_DACL;
	pol->rendered->v4 = talloc_zero_array(pol->rendered, char *, n4 + 1);
	for (i = 0; i < n4; i++) {
		pol->rendered->v4[i] = talloc_asprintf(pol->rendered,
						       "ip:inacl#%zu=permit tcp any "
						       "host 192.0.2.%zu eq %u",
						       i + 1, i + 1, tag_port(tag));
	}
	pol->rendered->num_v4 = n4;
	pol->rendered->v6 = talloc_zero_array(pol->rendered, char *, n6 + 1);
	for (i = 0; i < n6; i++) {
		pol->rendered->v6[i] = talloc_asprintf(pol->rendered,
						       "ipv6:inacl#%zu=permit tcp any "
						       "host 2001:db8::%zx eq %u",
						       i + 1, i + 1, tag_port(tag));
	}
	pol->rendered->num_v6 = n6;
	pol->rendered->acl_name_v4 = name4 ? talloc_strdup(pol->rendered, name4) : NULL;
	pol->rendered->acl_name_v6 = name6 ? talloc_strdup(pol->rendered, name6) : NULL;
	memcpy(pol->file_sha256, SHA_F, 65);
	pol->fetched = fetched;
	return pol;
}

/** The names the renderer gives pol's lines for url (label "lamp"). */
static void set_names(mud_policy_t *pol, char const *url)
{
	mud_rendered_t *r = pol->rendered;
	mud_error_t err;

	mud_error_clear(&err);
	TALLOC_FREE(r->acl_name_v4);
	TALLOC_FREE(r->acl_name_v6);
	if (r->num_v4) {
		assert_int_equal(mudp_render_acl_name(r, &r->acl_name_v4, false, "lamp", url, r,
						      &err), MUD_OK);
	}
	if (r->num_v6) {
		assert_int_equal(mudp_render_acl_name(r, &r->acl_name_v6, true, "lamp", url, r,
						      &err), MUD_OK);
	}
}

/** A policy for url with the names the renderer would give it (they survive a reload). */
static mud_policy_t *mk_real(TALLOC_CTX *ctx, char const *url, char const *tag, int vlan,
			     unsigned int hours, size_t n4, size_t n6, time_t fetched)
{
	mud_policy_t *pol = mk_policy(ctx, tag, vlan, hours, n4, n6, NULL, NULL, fetched);

	set_names(pol, url);
	return pol;
}

static mud_cache_t *mk_cache(TALLOC_CTX *ctx, mud_cache_opts_t const *opts, time_t now)
{
	mud_cache_t *cache = NULL;
	mud_error_t err = { 0 };

	assert_int_equal(mud_cache_create(ctx, &cache, opts, now, NULL, &err), MUD_OK);
	assert_non_null(cache);
	assert_int_equal(err.code, MUD_OK);
	return cache;
}

/** Look up and check the outcome and token; returns the copy (under ctx) or NULL. */
static mud_entry_t *look(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, time_t now,
			 mud_cache_result_t want, bool want_token)
{
	mud_entry_t *e = (mud_entry_t *)(uintptr_t)1;
	bool token = !want_token;
	mud_cache_result_t r;

	r = mud_cache_lookup(cache, ctx, &e, &token, url, now);
	assert_int_equal(r, want);
	assert_int_equal(token, want_token);
	if (r == MUD_CACHE_MISS) {
		assert_null(e);
	} else {
		assert_non_null(e);
		assert_string_equal(e->url, url);
	}
	return e;
}

static void store_ok(mud_cache_t *cache, char const *url, mud_policy_t const *pol, time_t now)
{
	mud_error_t err = { 0 };

	assert_int_equal(mud_cache_store(cache, url, pol, now, &err), MUD_OK);
	assert_int_equal(err.code, MUD_OK);
}

static char *mk_tmpdir(TALLOC_CTX *ctx)
{
	char *path = talloc_strdup(ctx, "/tmp/test_cache.XXXXXX");

	assert_non_null(mkdtemp(path));
	return path;
}

static void rm_tree(char const *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];

	if (!d) return;
	for (de = readdir(d); de; de = readdir(d)) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			rm_tree(path);
		} else {
			unlink(path);
		}
	}
	closedir(d);
	rmdir(dir);
}

static size_t count_files(char const *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	for (de = readdir(d); de; de = readdir(d)) {
		if (de->d_name[0] != '.') n++;
	}
	closedir(d);
	return n;
}

static char *file_of(TALLOC_CTX *ctx, char const *dir, char const *url)
{
	char hash[65];

	mud_sha256_hex(hash, url, strlen(url));
	return talloc_asprintf(ctx, "%s/%s", dir, hash);
}

static void write_file(char const *path, char const *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/*
 *	Creation
 */
static void test_create_errors(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = (mud_cache_t *)(uintptr_t)1;
	mud_error_t err = { 0 };
	char *dir = mk_tmpdir(ctx);
	char *file = talloc_asprintf(ctx, "%s/plain", dir);
	char *missing = talloc_asprintf(ctx, "%s/missing", dir);

	assert_int_equal(mud_cache_create(ctx, &cache, NULL, T0, NULL, &err), MUD_ERR_ARG);
	assert_null(cache);

	mud_error_clear(&err);
	opts.dir = missing;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_IO);
	assert_null(cache);
	assert_string_equal(err.where, missing);
	assert_string_equal(err.text, "stat: No such file or directory");

	write_file(file, "x", 1);
	mud_error_clear(&err);
	opts.dir = file;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_IO);
	assert_null(cache);
	assert_string_equal(err.where, file);
	assert_string_equal(err.text, "cache directory is a regular file, not a directory");

	mud_error_clear(&err);
	opts.dir = "";
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_IO);
	assert_null(cache);

	/* only the two formats with a line grammar; a key file needs a directory */
	mud_error_clear(&err);
	opts.dir = NULL;
	opts.format = MUD_FMT_JSON;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.text,
			    "the cache holds cisco-dacl or nas-filter-rule lines, not json");
	opts.format = MUD_FMT_CISCO_DACL;
	opts.key_file = file;
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "a key file needs a persistence directory");
	opts.key_file = NULL;

	if (geteuid() != 0) {	/* root may write anywhere */
		assert_int_equal(chmod(dir, 0500), 0);
		mud_error_clear(&err);
		opts.dir = dir;
		assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_ERR_IO);
		assert_null(cache);
		assert_string_equal(err.where, dir);
		assert_int_equal(chmod(dir, 0700), 0);
	}

	rm_tree(dir);
	talloc_free(dir);
	talloc_free(file);
	talloc_free(missing);
}

/*
 *	State transitions
 */
static void test_miss_store_hit(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol = mk_policy(ctx, "a", 42, 2, 3, 1, "#ACSACL#-IP-a-11111111",
				      "#ACSACL#-IPV6-a-22222222", T0);
	mud_cache_stats_t st;
	mud_entry_t *e;
	TALLOC_CTX *rq = talloc_new(ctx);

	look(cache, rq, URL_A, T0, MUD_CACHE_MISS, true);
	look(cache, rq, URL_A, T0, MUD_CACHE_MISS, false);	/* one fetch in flight */
	store_ok(cache, URL_A, pol, T0);
	talloc_free(pol);					/* the cache made its own copy */

	e = look(cache, rq, URL_A, T0 + 10, MUD_CACHE_HIT, false);
	assert_int_equal(e->status, MUD_OK);
	assert_string_equal(e->error_text, "");
	assert_string_equal(e->error_where, "");
	assert_int_equal(e->vlan, 42);
	assert_string_equal(e->mfg_name, "mfg a");
	assert_string_equal(e->model_name, "model a");
	assert_string_equal(e->acl_name_v4, "#ACSACL#-IP-a-11111111");
	assert_string_equal(e->acl_name_v6, "#ACSACL#-IPV6-a-22222222");
	assert_int_equal(e->num_v4, 3);
	assert_string_equal(e->lines_v4[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1097");
	assert_string_equal(e->lines_v4[2], "ip:inacl#3=permit tcp any host 192.0.2.3 eq 1097");
	assert_null(e->lines_v4[3]);
	assert_int_equal(e->num_v6, 1);
	assert_string_equal(e->lines_v6[0],
			    "ipv6:inacl#1=permit tcp any host 2001:db8::1 eq 1097");
	assert_int_equal(e->cache_validity, 2);
	assert_int_equal(e->fetched, T0);
	assert_int_equal(e->expires, T0 + 7200);
	assert_string_equal(e->file_sha256, SHA_F);
	assert_ptr_equal(talloc_parent(e), rq);

	/* The copy is the caller's: freeing it leaves the cache intact. */
	talloc_free(e);
	e = look(cache, rq, URL_A, T0 + 11, MUD_CACHE_HIT, false);
	assert_int_equal(e->vlan, 42);

	/* lookup with no entry pointer and no token pointer */
	assert_int_equal(mud_cache_lookup(cache, rq, NULL, NULL, URL_A, T0), MUD_CACHE_HIT);

	mud_cache_stats(cache, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.stores, 1);
	assert_int_equal(st.stale_hits, 0);
	assert_int_equal(st.negative_hits, 0);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.entries, 1);

	talloc_free(rq);
	talloc_free(cache);
}

/** The first 64 bits of the SHA-256 of text, as mud_entry_policy_hash() derives them. */
static uint64_t sha64(char const *text, size_t len)
{
	char hex[65];
	uint64_t h = 0;
	size_t i;

	mud_sha256_hex(hex, text, len);
	for (i = 0; i < 16; i++) {
		h = (h << 4) | (uint64_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
	}
	return h;
}

/** The policy hash: of the dACL names (cisco-dacl) or the lines, computed once when stored,
 *  carried by every copy, the same as computed afresh. */
static void test_policy_hash(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pa = mk_policy(ctx, "a", 42, 2, 3, 1, "#ACSACL#-IP-a-11111111",
				     "#ACSACL#-IPV6-a-22222222", T0);
	mud_policy_t *pb = mk_policy(ctx, "a", 42, 2, 3, 1, "#ACSACL#-IP-a-11111112",
				     "#ACSACL#-IPV6-a-22222222", T0);
	static char const names[] = "#ACSACL#-IP-a-11111111|#ACSACL#-IPV6-a-22222222\n";
	TALLOC_CTX *rq = talloc_new(ctx);
	mud_entry_t *ea;
	mud_entry_t *eb;
	mud_entry_t in;
	char *lines[3];
	char *big[40];
	char *text;
	size_t i;

	look(cache, rq, URL_A, T0, MUD_CACHE_MISS, true);
	store_ok(cache, URL_A, pa, T0);
	look(cache, rq, URL_B, T0, MUD_CACHE_MISS, true);
	store_ok(cache, URL_B, pb, T0);
	ea = look(cache, rq, URL_A, T0 + 1, MUD_CACHE_HIT, false);
	eb = look(cache, rq, URL_B, T0 + 1, MUD_CACHE_HIT, false);
	assert_true(ea->policy_hash != 0);
	assert_true(ea->policy_hash == sha64(names, sizeof(names) - 1));
	assert_true(eb->policy_hash != ea->policy_hash);	/* one name differs */
	ea->policy_hash = 0;
	assert_true(mud_entry_policy_hash(ea) == sha64(names, sizeof(names) - 1));

	/* no names (inline formats): the lines, each ended by a newline, short and long */
	memset(&in, 0, sizeof(in));
	lines[0] = talloc_strdup(rq, "ip:inacl#1=permit udp any any eq 53");
	lines[1] = talloc_strdup(rq, "ip:inacl#2=deny ip any any");
	lines[2] = talloc_strdup(rq, "ipv6:inacl#1=deny ipv6 any any");
	in.lines_v4 = lines;
	in.num_v4 = 2;
	in.lines_v6 = lines + 2;
	in.num_v6 = 1;
	text = talloc_asprintf(rq, "%s\n%s\n%s\n", lines[0], lines[1], lines[2]);
	assert_true(mud_entry_policy_hash(&in) == sha64(text, strlen(text)));
	text = talloc_strdup(rq, "");
	for (i = 0; i < 40; i++) {	/* over the stack buffer: the allocated path */
		big[i] = talloc_asprintf(rq, "ip:inacl#%zu=permit tcp any host 192.0.2.%zu eq 443",
					 i + 1, i + 1);
		text = talloc_asprintf_append(text, "%s\n", big[i]);
	}
	assert_true(strlen(text) > 512);
	in.lines_v4 = big;
	in.num_v4 = 40;
	in.num_v6 = 0;
	assert_true(mud_entry_policy_hash(&in) == sha64(text, strlen(text)));
	in.num_v4 = 0;			/* nothing at all: still "some policy", never 0 */
	assert_true(mud_entry_policy_hash(&in) != 0);

	talloc_free(rq);
	talloc_free(cache);
	talloc_free(pa);
	talloc_free(pb);
}

static void test_expiry_ceiling(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .max_validity = 3600 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_entry_t *e;

	/* 48 h in the file, ceiling 1 h */
	store_ok(cache, URL_A, mk_policy(ctx, "a", 0, 48, 1, 0, NULL, NULL, T0), T0);
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->expires, T0 + 3600);
	assert_int_equal(e->cache_validity, 48);
	look(cache, ctx, URL_A, T0 + 3599, MUD_CACHE_HIT, false);
	look(cache, ctx, URL_A, T0 + 3600, MUD_CACHE_MISS, true);	/* stale_max 0: no stale */
	talloc_free(cache);

	/* default ceiling (168 h); 0 hours -> 48 h default; 500 -> 168; fetched 0 -> now */
	opts.max_validity = 0;
	cache = mk_cache(ctx, &opts, T0);
	store_ok(cache, URL_A, mk_policy(ctx, "a", 0, 0, 1, 0, NULL, NULL, 0), T0 + 5);
	e = look(cache, ctx, URL_A, T0 + 5, MUD_CACHE_HIT, false);
	assert_int_equal(e->fetched, T0 + 5);
	assert_int_equal(e->expires, T0 + 5 + 48 * 3600);
	assert_int_equal(e->cache_validity, 48);

	store_ok(cache, URL_B, mk_policy(ctx, "b", 0, 500, 1, 0, NULL, NULL, T0 - 100), T0);
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->fetched, T0 - 100);
	assert_int_equal(e->expires, T0 - 100 + 168 * 3600);
	assert_int_equal(e->cache_validity, 168);

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_stale_boundary(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .stale_max = 600, .inflight_max = 1000 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_entry_t *e;
	mud_cache_stats_t st;

	store_ok(cache, URL_A, mk_policy(ctx, "a", 7, 1, 2, 0, "#ACSACL#-IP-a-1", NULL, T0), T0);
	look(cache, ctx, URL_A, T0 + 3599, MUD_CACHE_HIT, false);
	e = look(cache, ctx, URL_A, T0 + 3600, MUD_CACHE_STALE, true);	/* refresh token */
	assert_int_equal(e->vlan, 7);
	assert_int_equal(e->num_v4, 2);
	look(cache, ctx, URL_A, T0 + 3601, MUD_CACHE_STALE, false);	/* refresh in flight */
	look(cache, ctx, URL_A, T0 + 3600 + 599, MUD_CACHE_STALE, false);
	/* expires + stale_max: no longer served; the refresh is still in flight */
	look(cache, ctx, URL_A, T0 + 3600 + 600, MUD_CACHE_MISS, false);
	/* the token (taken at +3600) is presumed lost after inflight_max: this caller gets it */
	look(cache, ctx, URL_A, T0 + 3600 + 999, MUD_CACHE_MISS, false);
	look(cache, ctx, URL_A, T0 + 3600 + 1000, MUD_CACHE_MISS, true);

	/* the refresh lands: fresh again */
	store_ok(cache, URL_A, mk_policy(ctx, "a2", 8, 1, 1, 0, "#ACSACL#-IP-a-2", NULL, T0 + 4700),
		 T0 + 4700);
	e = look(cache, ctx, URL_A, T0 + 4700, MUD_CACHE_HIT, false);
	assert_int_equal(e->vlan, 8);
	assert_int_equal(e->expires, T0 + 4700 + 3600);

	mud_cache_stats(cache, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.stale_hits, 3);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.stores, 2);

	talloc_free(cache);
	talloc_free_children(ctx);
}

/* What a refresh without a request fetches: expired, still served, not in flight. */
static void test_expired_list(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .stale_max = 600, .inflight_max = 1000, .fail_ttl = 60 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	char **urls = NULL;

	store_ok(cache, URL_A, mk_policy(ctx, "a", 7, 1, 2, 0, "#ACSACL#-IP-a-1", NULL, T0), T0);
	store_ok(cache, URL_B, mk_policy(ctx, "b", 7, 2, 2, 0, "#ACSACL#-IP-b-1", NULL, T0), T0);
	mud_cache_fail(cache, URL_C, MUD_ERR_TIMEOUT, URL_C, "timed out", T0);
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3599, &urls, 10), 0);
	assert_null(urls);
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3600, &urls, 10), 1);
	assert_string_equal(urls[0], URL_A);	/* B lives 2 h, C is a failure */
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3600, &urls, 0), 0);
	/* the refresh token handed out: in flight, no longer listed */
	look(cache, ctx, URL_A, T0 + 3600, MUD_CACHE_STALE, true);
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3601, &urls, 10), 0);
	/* the refresh failed: the stale policy is kept, listed again after fail_ttl */
	assert_true(mud_cache_fail(cache, URL_A, MUD_ERR_FETCH, URL_A, "down", T0 + 3602));
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3602 + 59, &urls, 10), 0);
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3602 + 60, &urls, 10), 1);
	/* past stale_max: not served, not listed (the next request fetches) */
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 3600 + 600, &urls, 10), 0);
	assert_int_equal(mud_cache_expired(NULL, ctx, T0, &urls, 10), 0);
	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_fail_keeps_stale(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .stale_max = 86400, .fail_ttl = 30 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_entry_t *e;
	mud_cache_stats_t st;
	char **lines;
	size_t num;
	bool v6;

	store_ok(cache, URL_A, mk_policy(ctx, "a", 5, 1, 2, 0, "#ACSACL#-IP-a-1", NULL, T0), T0);

	/* a failure while fresh changes nothing */
	mud_cache_fail(cache, URL_A, MUD_ERR_TIMEOUT, URL_A, "timed out", T0 + 10);
	look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_HIT, false);

	look(cache, ctx, URL_A, T0 + 4000, MUD_CACHE_STALE, true);
	mud_cache_fail(cache, URL_A, MUD_ERR_FETCH, URL_A, "connection refused", T0 + 4001);

	/* the last good policy is still served; no new fetch until fail_ttl has passed */
	e = look(cache, ctx, URL_A, T0 + 4001, MUD_CACHE_STALE, false);
	assert_int_equal(e->status, MUD_OK);
	assert_int_equal(e->vlan, 5);
	look(cache, ctx, URL_A, T0 + 4001 + 29, MUD_CACHE_STALE, false);
	look(cache, ctx, URL_A, T0 + 4001 + 30, MUD_CACHE_STALE, true);
	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-a-1", &lines, &num, &v6));
	assert_int_equal(num, 2);

	/* a failure at exactly expires + stale_max no longer keeps it */
	mud_cache_fail(cache, URL_A, MUD_ERR_HTTP, "HTTP 503", "Service Unavailable",
		       T0 + 3600 + 86400);
	e = look(cache, ctx, URL_A, T0 + 3600 + 86400, MUD_CACHE_NEGATIVE, false);
	assert_int_equal(e->status, MUD_ERR_HTTP);
	assert_string_equal(e->error_where, "HTTP 503");
	assert_string_equal(e->error_text, "Service Unavailable");
	assert_int_equal(e->expires, T0 + 3600 + 86400 + 30);
	assert_int_equal(e->num_v4, 0);
	assert_null(e->acl_name_v4);
	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-a-1", &lines, &num, &v6));
	assert_null(lines);
	assert_int_equal(num, 0);

	mud_cache_stats(cache, &st);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.negative_hits, 1);
	assert_int_equal(st.entries, 1);

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_fail_negative_ttl(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };		/* fail_ttl default 60 */
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_entry_t *e;
	char longtext[600];

	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);
	mud_cache_fail(cache, URL_B, MUD_ERR_SIG_DIGEST, "https://printer.example.com/printer.p7s",
		       "content does not match", T0 + 1);
	e = look(cache, ctx, URL_B, T0 + 1, MUD_CACHE_NEGATIVE, false);
	assert_int_equal(e->status, MUD_ERR_SIG_DIGEST);
	assert_string_equal(e->error_text, "content does not match");
	assert_string_equal(e->error_where, "https://printer.example.com/printer.p7s");
	assert_int_equal(e->fetched, T0 + 1);
	assert_int_equal(e->expires, T0 + 61);
	assert_string_equal(e->file_sha256, "");
	look(cache, ctx, URL_B, T0 + 60, MUD_CACHE_NEGATIVE, false);
	look(cache, ctx, URL_B, T0 + 61, MUD_CACHE_MISS, true);
	look(cache, ctx, URL_B, T0 + 62, MUD_CACHE_MISS, false);

	/* NULL texts, MUD_OK (a caller bug) still yields a negative entry; long text is bounded */
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	mud_cache_fail(cache, URL_B, MUD_OK, NULL, longtext, T0 + 70);
	e = look(cache, ctx, URL_B, T0 + 70, MUD_CACHE_NEGATIVE, false);
	assert_int_equal(e->status, MUD_ERR_ARG);
	assert_string_equal(e->error_where, "");
	assert_int_equal(strlen(e->error_text), 255);

	/* fail without a prior lookup, on an unknown URL */
	mud_cache_fail(cache, URL_C, MUD_ERR_TLS, URL_C, "bad cert", T0);
	look(cache, ctx, URL_C, T0, MUD_CACHE_NEGATIVE, false);

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_single_flight(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .inflight_max = 30 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);

	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, true);
	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, false);
	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);	/* other URLs independent */
	look(cache, ctx, URL_A, T0 - 5, MUD_CACHE_MISS, false);	/* an older request timestamp */
	look(cache, ctx, URL_A, T0 + 29, MUD_CACHE_MISS, false);
	look(cache, ctx, URL_A, T0 + 30, MUD_CACHE_MISS, true);	/* first fetcher presumed lost */
	look(cache, ctx, URL_A, T0 + 31, MUD_CACHE_MISS, false);

	/* the lost fetcher reports late: its store still counts */
	store_ok(cache, URL_A, mk_policy(ctx, "a", 0, 1, 1, 0, NULL, NULL, T0 + 40), T0 + 40);
	look(cache, ctx, URL_A, T0 + 41, MUD_CACHE_HIT, false);

	/* bad URLs: never a token */
	look(cache, ctx, "", T0, MUD_CACHE_MISS, false);
	look(cache, ctx, NULL, T0, MUD_CACHE_MISS, false);

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_store_errors(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol = mk_policy(ctx, "a", 0, 1, 1, 0, NULL, NULL, T0);
	mud_error_t err = { 0 };
	char *longurl = talloc_array(ctx, char, MUD_MAX_URL_LEN + 2);
	void *rendered = pol->rendered;

	memset(longurl, 'a', MUD_MAX_URL_LEN + 1);
	longurl[MUD_MAX_URL_LEN + 1] = '\0';

	assert_int_equal(mud_cache_store(cache, NULL, pol, T0, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "mud_cache_store");
	assert_string_equal(err.text, "no URL or no rendered policy");
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_A, NULL, T0, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	pol->rendered = NULL;
	assert_int_equal(mud_cache_store(cache, URL_A, pol, T0, &err), MUD_ERR_ARG);
	pol->rendered = rendered;
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, longurl, pol, T0, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "URL longer than 1024 bytes");
	look(cache, ctx, longurl, T0, MUD_CACHE_MISS, false);

	/* no file, no rules: defaults; NULL line pointers become "" */
	pol->file = NULL;
	pol->rules = NULL;
	pol->rendered->v4[0] = NULL;
	store_ok(cache, URL_A, pol, T0);
	{
		mud_entry_t *e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);

		assert_int_equal(e->expires, T0 + 48 * 3600);
		assert_int_equal(e->vlan, 0);
		assert_null(e->mfg_name);
		assert_string_equal(e->lines_v4[0], "");
	}

	/* NULL arguments are tolerated */
	mud_cache_fail(NULL, URL_A, MUD_ERR_FETCH, NULL, NULL, T0);
	mud_cache_forget(NULL, URL_A);
	mud_cache_forget(cache, NULL);
	assert_false(mud_cache_acl_lookup(cache, ctx, NULL, NULL, NULL, NULL));
	mud_cache_stats(cache, NULL);

	talloc_free(cache);
	talloc_free_children(ctx);
}

/*
 *	dACL name index
 */
static void test_acl_lookup(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	char **lines = NULL;
	size_t num = 99;
	bool v6 = true;

	store_ok(cache, URL_A, mk_policy(ctx, "a", 0, 1, 2, 3, "#ACSACL#-IP-a-1",
					 "#ACSACL#-IPV6-a-1", T0), T0);
	/* URL_C was given the same (content-addressed) v4 name */
	store_ok(cache, URL_C, mk_policy(ctx, "a", 0, 1, 2, 0, "#ACSACL#-IP-a-1", NULL, T0), T0);

	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-a-1", &lines, &num, &v6));
	assert_false(v6);
	assert_int_equal(num, 2);
	assert_string_equal(lines[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1097");
	assert_string_equal(lines[1], "ip:inacl#2=permit tcp any host 192.0.2.2 eq 1097");
	assert_null(lines[2]);
	assert_ptr_equal(talloc_parent(lines), ctx);
	talloc_free(lines);

	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IPV6-a-1", &lines, &num, &v6));
	assert_true(v6);
	assert_int_equal(num, 3);
	assert_string_equal(lines[2], "ipv6:inacl#3=permit tcp any host 2001:db8::3 eq 1097");
	talloc_free(lines);
	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IPV6-a-1", &lines, &num, NULL));
	talloc_free(lines);

	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-unknown-0", &lines, &num, &v6));
	assert_null(lines);
	assert_int_equal(num, 0);
	assert_false(v6);
	assert_false(mud_cache_acl_lookup(cache, ctx, "", &lines, &num, &v6));
	assert_false(mud_cache_acl_lookup(cache, ctx, "#acsacl#-ip-a-1", &lines, &num, &v6));

	/* either entry answers; forgetting one leaves the other */
	mud_cache_forget(cache, URL_A);
	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, true);
	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-a-1", &lines, &num, &v6));
	talloc_free(lines);
	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IPV6-a-1", &lines, &num, &v6));
	mud_cache_forget(cache, URL_C);
	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-a-1", &lines, &num, &v6));

	/* a replaced policy issues its new names, the old ones vanish */
	store_ok(cache, URL_B, mk_policy(ctx, "b", 0, 1, 1, 0, "#ACSACL#-IP-b-1", NULL, T0), T0);
	store_ok(cache, URL_B, mk_policy(ctx, "b2", 0, 1, 1, 0, "#ACSACL#-IP-b-2", NULL, T0), T0);
	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-b-1", &lines, &num, &v6));
	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-b-2", &lines, &num, &v6));
	assert_string_equal(lines[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1148");
	talloc_free(lines);

	talloc_free(cache);
	talloc_free_children(ctx);
}

/** One name, one content. Names are 130-bit hashes of the URL and the lines, so a real
 *  collision cannot be produced here: the test forces two contents onto one name by giving
 *  hand-made policies the same name (the cache does not derive names at store). The second
 *  binding is refused, the first is still served, nothing of the second is stored. */
static void test_acl_conflict(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	char const *name = "#ACSACL#-IP-lamp-forced";
	mud_policy_t *pa = mk_policy(ctx, "a", 1, 1, 2, 0, name, NULL, T0);
	mud_policy_t *pb = mk_policy(ctx, "b", 2, 1, 2, 0, name, NULL, T0);
	mud_policy_t *pc;
	mud_cache_stats_t st;
	mud_error_t err = { 0 };
	char **lines = NULL;
	size_t num = 0;
	bool v6 = true;
	char *holder;

	store_ok(cache, URL_A, pa, T0);
	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);	/* B is fetched ... */
	assert_int_equal(mud_cache_store(cache, URL_B, pb, T0, &err), MUD_ERR_CONFLICT);
	assert_string_equal(err.where, name);
	assert_string_equal(err.text, "dACL name already bound to other lines, those of " URL_A
			    ": policy not stored");
	assert_string_equal(mud_rcode_status(err.code), "acl-conflict");

	/* the first binding is still what the switch downloads */
	assert_true(mud_cache_acl_lookup(cache, ctx, name, &lines, &num, &v6));
	assert_int_equal(num, 2);
	assert_false(v6);
	assert_string_equal(lines[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1097");
	talloc_free(lines);
	holder = mud_cache_acl_holder(cache, ctx, name);
	assert_string_equal(holder, URL_A);
	talloc_free(holder);
	assert_null(mud_cache_acl_holder(cache, ctx, "#ACSACL#-IP-lamp-unknown"));
	assert_null(mud_cache_acl_holder(NULL, ctx, name));

	/* nothing of B was stored, in memory or on disk; its fetch is handed back, and the
	 * caller records the failure */
	mud_cache_stats(cache, &st);
	assert_int_equal(st.stores, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(count_files(dir), 1);
	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);
	mud_cache_fail(cache, URL_B, MUD_ERR_CONFLICT, err.where, err.text, T0);
	{
		mud_entry_t *e = look(cache, ctx, URL_B, T0, MUD_CACHE_NEGATIVE, false);

		assert_int_equal(e->status, MUD_ERR_CONFLICT);
		assert_string_equal(e->error_where, name);
	}

	/* the other family under the same name: refused too, even with the same lines */
	pc = mk_policy(ctx, "a", 3, 1, 0, 2, NULL, name, T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_C, pc, T0, &err), MUD_ERR_CONFLICT);
	/* one policy whose two names are the same */
	pc = mk_policy(ctx, "c", 3, 1, 1, 1, "#ACSACL#-IP-lamp-twice", "#ACSACL#-IP-lamp-twice",
		       T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_C, pc, T0, &err), MUD_ERR_CONFLICT);
	assert_string_equal(err.where, "#ACSACL#-IP-lamp-twice");
	assert_string_equal(err.text, "the IPv4 and IPv6 dACL names are the same: policy not "
			    "stored");
	/* the same lines under the same name from another URL bind nothing new: accepted; but
	 * then A alone can no longer change what the name holds */
	store_ok(cache, URL_D, mk_policy(ctx, "a", 4, 1, 2, 0, name, NULL, T0), T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_A, mk_policy(ctx, "a2", 1, 1, 1, 0, name, NULL,
								 T0 + 1), T0 + 1, &err),
			 MUD_ERR_CONFLICT);
	assert_string_equal(err.text, "dACL name already bound to other lines, those of " URL_D
			    ": policy not stored");
	mud_cache_forget(cache, URL_D);

	/* A itself may change what its name holds (its own binding is replaced) */
	store_ok(cache, URL_A, mk_policy(ctx, "a2", 1, 1, 1, 0, name, NULL, T0 + 1), T0 + 1);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_B, pb, T0 + 1, &err), MUD_ERR_CONFLICT);

	/* once every holder is gone, the name is free: B is stored */
	mud_cache_forget(cache, URL_A);
	store_ok(cache, URL_B, pb, T0 + 2);
	assert_true(mud_cache_acl_lookup(cache, ctx, name, &lines, &num, NULL));
	assert_string_equal(lines[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1098");
	talloc_free(lines);

	talloc_free(cache);
	rm_tree(dir);
	talloc_free_children(ctx);
}

/*
 *	Bounds
 */
static void test_lru_eviction(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .max_entries = 3 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_cache_stats_t st;
	char **lines;
	size_t num;

	store_ok(cache, URL_A, mk_policy(ctx, "a", 0, 1, 1, 0, "#ACSACL#-IP-a-1", NULL, T0), T0);
	store_ok(cache, URL_B, mk_policy(ctx, "b", 0, 1, 1, 0, "#ACSACL#-IP-b-1", NULL, T0), T0);
	store_ok(cache, URL_C, mk_policy(ctx, "c", 0, 1, 1, 0, "#ACSACL#-IP-c-1", NULL, T0), T0);
	look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);	/* A is now the most recent */
	store_ok(cache, URL_D, mk_policy(ctx, "d", 0, 1, 1, 0, "#ACSACL#-IP-d-1", NULL, T0), T0);

	mud_cache_stats(cache, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 3);
	assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-b-1", &lines, &num, NULL));
	/* acl lookups count as use: C becomes recent, so A goes next */
	assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-c-1", &lines, &num, NULL));
	talloc_free(lines);

	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);	/* evicts A (least recent) */
	look(cache, ctx, URL_C, T0, MUD_CACHE_HIT, false);
	look(cache, ctx, URL_D, T0, MUD_CACHE_HIT, false);
	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, true);	/* evicts the B placeholder */

	mud_cache_stats(cache, &st);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.entries, 2);			/* C, D; A is only in flight */

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_many_entries(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };				/* 10000 */
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol = mk_policy(ctx, "m", 0, 1, 2, 1, NULL, NULL, T0);
	mud_cache_stats_t st;
	struct timespec t1, t2;
	char url[128];
	char name[64];
	size_t i;
	double ms;

	for (i = 0; i < 10500; i++) {
		snprintf(url, sizeof(url), "https://m%zu.example.com/device.json", i);
		snprintf(name, sizeof(name), "#ACSACL#-IP-m-%zu", i);
		pol->rendered->acl_name_v4 = name;
		store_ok(cache, url, pol, T0);
	}
	pol->rendered->acl_name_v4 = NULL;

	mud_cache_stats(cache, &st);
	assert_int_equal(st.entries, 10000);
	assert_int_equal(st.evictions, 500);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 500; i < 10500; i++) {
		mud_entry_t *e = NULL;
		bool tok = true;

		snprintf(url, sizeof(url), "https://m%zu.example.com/device.json", i);
		assert_int_equal(mud_cache_lookup(cache, ctx, &e, &tok, url, T0 + 1),
				 MUD_CACHE_HIT);
		assert_false(tok);
		talloc_free(e);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	ms = (double)(t2.tv_sec - t1.tv_sec) * 1e3 + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6;
	assert_true(ms < 2000.0);	/* ~20 ms in practice, even under sanitizers */

	snprintf(url, sizeof(url), "https://m%d.example.com/device.json", 499);
	look(cache, ctx, url, T0 + 1, MUD_CACHE_MISS, true);
	{
		char **lines;
		size_t num;

		assert_true(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-m-10499", &lines, &num,
						 NULL));
		talloc_free(lines);
		assert_false(mud_cache_acl_lookup(cache, ctx, "#ACSACL#-IP-m-0", &lines, &num,
						  NULL));
	}

	talloc_free(cache);
	talloc_free_children(ctx);
}

/*
 *	Persistence
 */
/** Log sink of the tests: every message, one per line, "W " for warnings. */
static void log_capture(void *uctx, mud_log_level_t level, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_capture(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	char **log = uctx;
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	*log = talloc_asprintf_append_buffer(*log, "%s%s\n", level == MUD_LOG_WARN ? "W " : "? ",
					     line);
	assert_non_null(*log);
}

/** Why the file of url was dropped ("" if it was not), from the captured log. */
static char *why_dropped(TALLOC_CTX *ctx, char const *log, char const *dir, char const *url)
{
	char hash[65];
	char *key;
	char const *p;
	char const *nl;

	mud_sha256_hex(hash, url, strlen(url));
	key = talloc_asprintf(ctx, "W cache file %s/%s dropped: ", dir, hash);
	p = strstr(log, key);
	if (!p) return talloc_strdup(ctx, "");
	p += strlen(key);
	nl = strchr(p, '\n');
	return talloc_strndup(ctx, p, nl ? (size_t)(nl - p) : strlen(p));
}

static void test_persist_roundtrip(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = dir, .stale_max = 7 * 86400, .log = log_capture,
				  .log_uctx = &log };
	mud_cache_t *cache;
	mud_policy_t *pol;
	mud_policy_t *pol_b;
	mud_entry_t *e;
	size_t load_errors = 99;
	mud_error_t err = { 0 };
	char **lines;
	size_t num;
	bool v6;
	char *path;
	char *text;
	struct stat st;

	cache = mk_cache(ctx, &opts, T0);
	pol = mk_real(ctx, URL_A, "a", 12, 2, 2, 1, T0);
	/* untrusted text with control bytes: they become '?', the backslash is escaped */
	pol->file->mfg_name = talloc_strdup(pol, "Evil\nend\nurl: https://x.example/\r\\x41 \x7f");
	pol->file->model_name = NULL;
	store_ok(cache, URL_A, pol, T0);
	pol_b = mk_real(ctx, URL_B, "b", 0, 1, 1, 0, T0 - 7200);
	store_ok(cache, URL_B, pol_b, T0);
	/* negative entries are not persisted */
	mud_cache_fail(cache, URL_C, MUD_ERR_HTTP, "HTTP 404", "not found", T0);
	assert_int_equal(count_files(dir), 2);

	path = file_of(ctx, dir, URL_A);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	text = test_read_file(ctx, path, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "rlm_mud-cache 2\nurl: " URL_A "\nformat: cisco-dacl\n"));
	assert_non_null(strstr(text, "mfg-name: Evil?end?url: https://x.example/?\\\\x41 ?\n"));
	assert_null(strstr(text, "hmac:"));
	assert_int_equal(strcmp(text + strlen(text) - 4, "end\n"), 0);
	talloc_free(cache);

	/* restart */
	cache = NULL;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 100, &load_errors, &err),
			 MUD_OK);
	assert_int_equal(load_errors, 0);
	assert_string_equal(log, "");

	e = look(cache, ctx, URL_A, T0 + 100, MUD_CACHE_HIT, false);
	assert_int_equal(e->vlan, 12);
	assert_string_equal(e->mfg_name, "Evil?end?url: https://x.example/?\\x41 ?");
	assert_null(e->model_name);
	assert_int_equal(e->num_v4, 2);
	assert_string_equal(e->lines_v4[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1097");
	assert_string_equal(e->lines_v4[1], "ip:inacl#2=permit tcp any host 192.0.2.2 eq 1097");
	assert_int_equal(e->num_v6, 1);
	assert_string_equal(e->acl_name_v4, pol->rendered->acl_name_v4);
	assert_string_equal(e->acl_name_v6, pol->rendered->acl_name_v6);
	assert_int_equal(e->fetched, T0);
	assert_int_equal(e->expires, T0 + 7200);
	assert_int_equal(e->cache_validity, 2);
	assert_string_equal(e->file_sha256, SHA_F);
	assert_string_equal(e->error_text, "");

	/* B was fetched 2 h ago with 1 h validity: stale after the restart, refresh attempted,
	 * still served, with the same dACL name */
	e = look(cache, ctx, URL_B, T0 + 100, MUD_CACHE_STALE, true);
	assert_int_equal(e->expires, T0 - 3600);
	assert_true(mud_cache_acl_lookup(cache, ctx, pol_b->rendered->acl_name_v4, &lines, &num,
					 &v6));
	assert_int_equal(num, 1);
	assert_false(v6);
	talloc_free(lines);
	assert_true(mud_cache_acl_lookup(cache, ctx, pol->rendered->acl_name_v6, &lines, &num,
					 &v6));
	assert_true(v6);
	talloc_free(lines);
	look(cache, ctx, URL_C, T0 + 100, MUD_CACHE_MISS, true);

	/* a line with a control byte is never written: cached in memory, error says why, and
	 * the older file is removed so that a restart cannot bring back an outdated policy */
	pol = mk_real(ctx, URL_A, "a", 12, 2, 2, 0, T0 + 100);
	pol->rendered->v4[1] = talloc_strdup(pol, "ip:inacl#2=deny ip any any\nv4: injected");
	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(cache, URL_A, pol, T0 + 100, &err), MUD_ERR_IO);
	assert_string_equal(err.where, URL_A);
	assert_string_equal(err.text, "policy not persisted: its v4 holds a control byte");
	assert_int_equal(access(path, F_OK), -1);
	e = look(cache, ctx, URL_A, T0 + 100, MUD_CACHE_HIT, false);
	assert_string_equal(e->lines_v4[1], "ip:inacl#2=deny ip any any\nv4: injected");
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "a", 12, 2, 2, 1, T0 + 100), T0 + 100);
	assert_int_equal(access(path, F_OK), 0);

	/* forget removes the file */
	mud_cache_forget(cache, URL_A);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_files(dir), 1);

	/* a failure beyond stale_max drops B's file too */
	mud_cache_fail(cache, URL_B, MUD_ERR_FETCH, URL_B, "refused", T0 - 3600 + 7 * 86400);
	assert_int_equal(count_files(dir), 0);
	talloc_free(cache);

	cache = mk_cache(ctx, &opts, T0);
	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);
	talloc_free(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

static void test_persist_replace_and_capacity(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	mud_cache_t *cache;
	mud_entry_t *e;
	size_t load_errors = 99;
	mud_error_t err = { 0 };
	char url[64];
	int i;

	/* replacing a policy rewrites its file */
	cache = mk_cache(ctx, &opts, T0);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "old", 1, 1, 1, 0, T0), T0);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "new", 2, 1, 1, 0, T0 + 5), T0 + 5);
	assert_int_equal(count_files(dir), 1);
	talloc_free(cache);

	/* 5 persisted policies, room for 3: the 3 most recently fetched survive */
	cache = mk_cache(ctx, &opts, T0);
	for (i = 0; i < 4; i++) {
		snprintf(url, sizeof(url), "https://d%d.example.com/x.json", i);
		store_ok(cache, url, mk_real(ctx, url, "d", 0, 1, 1, 0, T0 + i), T0 + i);
	}
	assert_int_equal(count_files(dir), 5);
	talloc_free(cache);

	opts.max_entries = 3;
	cache = NULL;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &load_errors, &err), MUD_OK);
	assert_int_equal(load_errors, 0);
	assert_int_equal(count_files(dir), 3);
	e = look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_HIT, false);
	assert_int_equal(e->vlan, 2);
	assert_string_equal(e->mfg_name, "mfg new");
	look(cache, ctx, "https://d3.example.com/x.json", T0 + 10, MUD_CACHE_HIT, false);
	look(cache, ctx, "https://d2.example.com/x.json", T0 + 10, MUD_CACHE_HIT, false);
	look(cache, ctx, "https://d1.example.com/x.json", T0 + 10, MUD_CACHE_MISS, true);
	look(cache, ctx, "https://d0.example.com/x.json", T0 + 10, MUD_CACHE_MISS, true);
	talloc_free(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** The text of a persisted entry for url: lines as given, each dACL name as given, or, for
 *  "AUTO", the name the renderer gives those lines (label "hand"); extra goes before "end". */
static char *build_file(TALLOC_CTX *ctx, char const *url, char const *name4,
			char const * const *v4, size_t n4, char const *name6,
			char const * const *v6, size_t n6, char const *extra)
{
	char *s;
	size_t i;
	int six;

	s = talloc_asprintf(ctx, "rlm_mud-cache 2\nurl: %s\nformat: cisco-dacl\n"
			    "fetched: 1700000000\nexpires: 1700003600\ncache-validity: 1\n"
			    "vlan: 3\nfile-sha256: " SHA_F "\n", url);
	for (six = 0; six < 2; six++) {
		char const *name = six ? name6 : name4;
		char hash[MUDP_ACL_HASH_LEN + 1];

		if (!name) continue;
		if (strcmp(name, "AUTO") == 0) {
			assert_true(mudp_acl_name_hash(hash, six, url,
						       (char * const *)(uintptr_t)v4, n4,
						       (char * const *)(uintptr_t)v6, n6));
			s = talloc_asprintf_append_buffer(s,
							  "acl-name-v%c: #ACSACL#-IP%s-hand-%s\n",
							  six ? '6' : '4', six ? "V6" : "", hash);
		} else {
			s = talloc_asprintf_append_buffer(s, "acl-name-v%c: %s\n", six ? '6' : '4',
							  name);
		}
	}
	s = talloc_asprintf_append_buffer(s, "num-v4: %zu\nnum-v6: %zu\n", n4, n6);
	for (i = 0; i < n4; i++) s = talloc_asprintf_append_buffer(s, "v4: %s\n", v4[i]);
	for (i = 0; i < n6; i++) s = talloc_asprintf_append_buffer(s, "v6: %s\n", v6[i]);
	s = talloc_asprintf_append_buffer(s, "%send\n", extra ? extra : "");
	assert_non_null(s);
	return s;
}

static char const *good_v4[] = { "ip:inacl#1=permit ip any any" };

/** A valid file for url, built by hand. */
static char *good_file(TALLOC_CTX *ctx, char const *url)
{
	return build_file(ctx, url, "AUTO", good_v4, 1, NULL, NULL, 0, NULL);
}

static void plant(TALLOC_CTX *ctx, char const *dir, char const *url, char const *data, size_t len)
{
	char *path = file_of(ctx, dir, url);

	write_file(path, data, len);
	talloc_free(path);
}

/** Files that are not well-formed entries, or not files: each dropped, with its reason; the
 *  one good entry among them loads. */
static void test_persist_corrupt(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = dir, .log = log_capture, .log_uctx = &log };
	mud_cache_t *cache = NULL;
	size_t load_errors = 0;
	size_t expected = 0;
	mud_error_t err = { 0 };
	char *good;
	char *s;
	char *big;
	char *path;
	size_t i;
#define H(_u) "rlm_mud-cache 2\nurl: " _u "\nformat: cisco-dacl\n"
	struct {
		char const	*url;
		char const	*data;
		char const	*why;		//!< the reason logged
	} cases[] = {
		{ "https://c1.example/garbage", "\x01\x02garbage\xff\n",
		  "not an \"rlm_mud-cache 2\" file" },
		{ "https://c2.example/empty", "", "not an \"rlm_mud-cache 2\" file" },
		{ "https://c3.example/v1", "rlm_mud-cache 1\nurl: https://c3.example/v1\n"
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "not an \"rlm_mud-cache 2\" file" },
		{ "https://c4.example/noend", H("https://c4.example/noend")
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\n",
		  "truncated: no \"end\" line" },
		{ "https://c5.example/after", H("https://c5.example/after")
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\nv4: extra\n",
		  "bytes after the \"end\" line" },
		{ "https://c6.example/esc", H("https://c6.example/esc")
		  "fetched: 1\nexpires: 2\nnum-v4: 1\nnum-v6: 0\nv4: bad \\q escape\nend\n",
		  "line 8: bad escape" },
		{ "https://c7.example/nul", H("https://c7.example/nul")
		  "fetched: 1\nexpires: 2\nnum-v4: 1\nnum-v6: 0\nv4: nul \\x00 byte\nend\n",
		  "line 8: escape of control byte 0x00" },
		{ "https://c7b.example/lf", H("https://c7b.example/lf")
		  "fetched: 1\nexpires: 2\nnum-v4: 1\nnum-v6: 0\n"
		  "v4: ip:inacl#1=permit ip any any\\x0aurl-redirect=https://evil/\nend\n",
		  "line 8: escape of control byte 0x0a" },
		{ "https://c7c.example/esc7f", H("https://c7c.example/esc7f")
		  "fetched: 1\nexpires: 2\nmfg-name: a\\x7Fb\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 6: escape of control byte 0x7f" },
		{ "https://c7d.example/tab", H("https://c7d.example/tab")
		  "fetched: 1\nexpires: 2\nmodel-name: a\tb\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 6: control byte 0x09" },
		{ "https://c8.example/key", H("https://c8.example/key")
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\ncolour: red\nend\n",
		  "line 8: unknown key \"colour\"" },
		{ "https://c9.example/dup", H("https://c9.example/dup")
		  "fetched: 1\nfetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 5: repeated key \"fetched\"" },
		{ "https://c10.example/count", H("https://c10.example/count")
		  "fetched: 1\nexpires: 2\nnum-v4: 2\nnum-v6: 0\nv4: one\nend\n",
		  "fewer v4 or v6 lines than num-v4, num-v6 say" },
		{ "https://c11.example/order", H("https://c11.example/order")
		  "fetched: 1\nexpires: 2\nv4: first\nnum-v4: 1\nnum-v6: 0\nend\n",
		  "line 6: more v4 lines than num-v4" },
		{ "https://c12.example/time", H("https://c12.example/time")
		  "fetched: 1x\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 4: bad value of \"fetched\"" },
		{ "https://c13.example/huge", H("https://c13.example/huge")
		  "fetched: 1\nexpires: 99999999999999999999999\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 5: bad value of \"expires\"" },
		{ "https://c14.example/back", H("https://c14.example/back")
		  "fetched: 5\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "expires before it was fetched" },
		{ "https://c15.example/cr", "rlm_mud-cache 2\nurl: https://c15.example/cr\r\n"
		  "format: cisco-dacl\nfetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 2: control byte 0x0d" },
		{ "https://c16.example/vlan", H("https://c16.example/vlan")
		  "fetched: 1\nexpires: 2\nvlan: 5000\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 6: bad value of \"vlan\"" },
		{ "https://c17.example/sha", H("https://c17.example/sha")
		  "fetched: 1\nexpires: 2\nfile-sha256: xyz\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 6: bad value of \"file-sha256\"" },
		{ "https://c18.example/nocolon",
		  "rlm_mud-cache 2\nurl https://c18.example/nocolon\n"
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 2: not \"key: value\"" },
		{ "https://c19.example/nourl", "rlm_mud-cache 2\nformat: cisco-dacl\n"
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n", "no \"url\" line" },
		{ "https://c20.example/toomany", H("https://c20.example/toomany")
		  "fetched: 1\nexpires: 2\nnum-v4: 1001\nnum-v6: 0\nend\n",
		  "line 6: bad value of \"num-v4\"" },
		{ "https://c21.example/noformat",
		  "rlm_mud-cache 2\nurl: https://c21.example/noformat\n"
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n", "no \"format\" line" },
		{ "https://c22.example/json", "rlm_mud-cache 2\nurl: https://c22.example/json\n"
		  "format: yaml\nfetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "line 3: bad value of \"format\"" },
		{ "https://c23.example/nfr", "rlm_mud-cache 2\nurl: https://c23.example/nfr\n"
		  "format: nas-filter-rule\nfetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n",
		  "rendered as nas-filter-rule, the cache holds cisco-dacl" },
		{ "http://c24.example/http", H("http://c24.example/http")
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nend\n", NULL },
		{ "https://c25.example/mac", H("https://c25.example/mac")
		  "fetched: 1\nexpires: 2\nnum-v4: 0\nnum-v6: 0\nhmac: " SHA_F "\nvlan: 2\nend\n",
		  "line 9: only \"end\" may follow \"hmac\"" },
	};
#undef H

	/* one good file among the bad ones */
	good = good_file(ctx, "https://ok.example/good.json");
	plant(ctx, dir, "https://ok.example/good.json", good, strlen(good));

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plant(ctx, dir, cases[i].url, cases[i].data, strlen(cases[i].data));
	}
	expected += sizeof(cases) / sizeof(cases[0]);

	/* truncated copies of a valid file, cut at the middle and just before "end\n" */
	s = good_file(ctx, "https://t1.example/x");
	plant(ctx, dir, "https://t1.example/x", s, strlen(s) / 2);
	s = good_file(ctx, "https://t2.example/x");
	plant(ctx, dir, "https://t2.example/x", s, strlen(s) - 1);
	s = good_file(ctx, "https://t3.example/x");
	plant(ctx, dir, "https://t3.example/x", s, strlen(s) - 4);
	expected += 3;

	/* a valid file under the name of another URL (renamed or planted) */
	s = good_file(ctx, "https://victim.example/x");
	plant(ctx, dir, "https://attacker.example/x", s, strlen(s));
	expected++;

	/* oversized: 4 MiB + 1 */
	big = talloc_array(ctx, char, 4 * 1024 * 1024 + 1);
	memset(big, 'A', 4 * 1024 * 1024 + 1);
	memcpy(big, "rlm_mud-cache 2\n", 16);
	plant(ctx, dir, "https://big.example/x", big, 4 * 1024 * 1024 + 1);
	talloc_free(big);
	expected++;

	/* too many lines (under the size cap; the count check sees them first, the line cap
	 * CACHE_FILE_MAX_LINES is the backstop) */
	s = talloc_strdup(ctx, "rlm_mud-cache 2\nurl: https://lines.example/x\nfetched: 1\n"
			  "expires: 2\nnum-v4: 1000\nnum-v6: 1000\n");
	for (i = 0; i < 2100; i++) s = talloc_strdup_append_buffer(s, "v4: l\n");
	s = talloc_strdup_append_buffer(s, "end\n");
	plant(ctx, dir, "https://lines.example/x", s, strlen(s));
	expected++;

	/* not files: a directory, a symbolic link to the good file, a FIFO (never opened, so
	 * the load cannot block on it), and a second hard link to a good file */
	path = file_of(ctx, dir, "https://dir.example/x");
	assert_int_equal(mkdir(path, 0700), 0);
	s = file_of(ctx, dir, "https://ok.example/good.json");
	path = file_of(ctx, dir, "https://link.example/x");
	assert_int_equal(symlink(s, path), 0);
	path = file_of(ctx, dir, "https://fifo.example/x");
	assert_int_equal(mkfifo(path, 0600), 0);
	s = good_file(ctx, "https://hard.example/x");
	plant(ctx, dir, "https://hard.example/x", s, strlen(s));
	path = talloc_asprintf(ctx, "%s/../%s.hard", dir, strrchr(dir, '/') + 1);
	assert_int_equal(link(file_of(ctx, dir, "https://hard.example/x"), path), 0);
	expected += 4;

	/* a good file owned by another user (only root can make one) */
	if (geteuid() == 0) {
		s = good_file(ctx, "https://owner.example/x");
		plant(ctx, dir, "https://owner.example/x", s, strlen(s));
		assert_int_equal(chown(file_of(ctx, dir, "https://owner.example/x"), 65534, 65534),
				 0);
		expected++;
	}

	/* not ours: ignored, not counted; a leftover temp file is removed */
	s = talloc_asprintf(ctx, "%s/README", dir);
	write_file(s, "hello", 5);
	s = talloc_asprintf(ctx, "%s/tmp.%s.abcdef", dir, SHA_F);
	write_file(s, good, strlen(good));

	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err), MUD_OK);
	assert_int_equal(load_errors, expected);
	assert_int_equal(access(s, F_OK), -1);
	assert_int_equal(unlink(path), 0);	/* the second link, outside the directory */

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *why = why_dropped(ctx, log, dir, cases[i].url);

		if (!cases[i].why) {
			assert_int_equal(strncmp(why, "url: ", 5), 0);
		} else if (strcmp(why, cases[i].why) != 0) {	/* exactly this reason */
			fail_msg("%s: dropped for \"%s\", expected \"%s\"", cases[i].url, why,
				 cases[i].why);
		}
		look(cache, ctx, cases[i].url, T0, MUD_CACHE_MISS, true);
	}
	assert_string_equal(why_dropped(ctx, log, dir, "https://t1.example/x"),
			    "truncated: line 8 has no end");
	assert_string_equal(why_dropped(ctx, log, dir, "https://t2.example/x"),
			    "truncated: line 13 has no end");
	assert_string_equal(why_dropped(ctx, log, dir, "https://t3.example/x"),
			    "truncated: no \"end\" line");
	assert_string_equal(why_dropped(ctx, log, dir, "https://attacker.example/x"),
			    "file name is not the SHA-256 of its url");
	assert_string_equal(why_dropped(ctx, log, dir, "https://big.example/x"),
			    "4194305 bytes, more than 4194304");
	assert_string_equal(why_dropped(ctx, log, dir, "https://lines.example/x"),
			    "line 1007: more v4 lines than num-v4");
	assert_string_equal(why_dropped(ctx, log, dir, "https://dir.example/x"),
			    "a directory, not a regular file");
	assert_string_equal(why_dropped(ctx, log, dir, "https://link.example/x"),
			    "a symbolic link, not a regular file");
	assert_string_equal(why_dropped(ctx, log, dir, "https://fifo.example/x"),
			    "a FIFO, not a regular file");
	assert_string_equal(why_dropped(ctx, log, dir, "https://hard.example/x"),
			    "has 2 hard links (a file of ours has one)");
	if (geteuid() == 0) {
		assert_string_equal(why_dropped(ctx, log, dir, "https://owner.example/x"),
				    "owned by uid 65534, not by the server's user (uid 0)");
	}
	assert_string_equal(why_dropped(ctx, log, dir, "https://ok.example/good.json"), "");
	{
		mud_entry_t *e = look(cache, ctx, "https://ok.example/good.json", T0 + 1,
				      MUD_CACHE_HIT, false);
		char **lines;
		size_t num;
		mud_cache_stats_t st;

		assert_int_equal(e->vlan, 3);
		assert_int_equal(e->num_v4, 1);
		assert_int_equal(e->num_v6, 0);
		assert_string_equal(e->lines_v4[0], "ip:inacl#1=permit ip any any");
		assert_true(mud_cache_acl_lookup(cache, ctx, e->acl_name_v4, &lines, &num, NULL));
		assert_int_equal(num, 1);
		mud_cache_stats(cache, &st);
		assert_int_equal(st.entries, 1);
	}
	look(cache, ctx, "https://victim.example/x", T0, MUD_CACHE_MISS, true);
	look(cache, ctx, "https://attacker.example/x", T0, MUD_CACHE_MISS, true);
	talloc_free(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** Well-formed files whose content was forged: each dropped with its reason, the good entry
 *  next to them loads, and the quarantine dACL name can never be served from the cache. */
static void test_persist_hostile(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = dir, .log = log_capture, .log_uctx = &log };
	mud_cache_t *cache = NULL;
	size_t load_errors = 0;
	mud_error_t err = { 0 };
	mud_ruleset_t *qrs;
	mud_rendered_t *q;
	mud_policy_t *pol;
	char *good_name;
	char *s;
	size_t i;
	char const *url_good = "https://good.example/lamp.json";
	char const *url_evil = "https://evil.example/lamp.json";
	char const *two[] = { "ip:inacl#1=permit tcp any host 192.0.2.1 eq 443",
			      "ip:inacl#2=deny ip any any" };
	char const *redirect[] = { "ip:inacl#1=permit ip any any",
				   "url-redirect=https://evil.example/login" };
	char const *numbered[] = { "ip:inacl#1=permit ip any any", "ip:inacl#3=deny ip any any" };
	char const *nfr[] = { "permit in ip from assigned to 0.0.0.0/0" };
	char const *v6[] = { "ipv6:inacl#1=deny ipv6 any any" };
	char const *anyany[] = { "ip:inacl#1=permit ip any any" };
	char const **qv4;
	struct {
		char const	*url;
		char		*data;
		char const	*why;
	} cases[9];

	/* the quarantine filter as the module renders it at startup (no URL) */
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_quarantine(ctx, &qrs, NULL, &err), MUD_OK);
	assert_int_equal(mud_ruleset_render(ctx, &q, qrs, MUD_FMT_CISCO_DACL, &err), MUD_OK);
	qv4 = (char const **)(uintptr_t)q->v4;

	/* a good policy, stored and persisted normally */
	cache = mk_cache(ctx, &opts, T0);
	pol = mk_real(ctx, url_good, "g", 0, 1, 2, 0, T0);
	good_name = talloc_strdup(ctx, pol->rendered->acl_name_v4);
	store_ok(cache, url_good, pol, T0);
	talloc_free(cache);

	i = 0;
	/* 1. "permit ip any any" under the quarantine dACL's name */
	cases[i].url = url_evil;
	cases[i].data = build_file(ctx, url_evil, q->acl_name_v4, anyany, 1, NULL, NULL, 0, NULL);
	cases[i++].why = "acl-name-v4: name does not match the URL and lines";
	/* 2. the quarantine's own lines plus an injected url-redirect, under its name */
	s = (char *)(uintptr_t)"https://q.example/x";
	{
		char const *l[16];
		size_t n;

		for (n = 0; n < q->num_v4 && n < 15; n++) l[n] = qv4[n];
		l[n++] = "url-redirect=https://evil.example/";
		cases[i].url = s;
		cases[i].data = build_file(ctx, s, q->acl_name_v4, l, n, NULL, NULL, 0, NULL);
		cases[i++].why = talloc_asprintf(ctx, "v4 line %zu: does not start with "
						 "\"ip:inacl#%zu=\"", n, n);
	}
	/* 3. an injected AV-pair under a name computed for it */
	cases[i].url = "https://r.example/x";
	cases[i].data = build_file(ctx, cases[i].url, "AUTO", redirect, 2, NULL, NULL, 0, NULL);
	cases[i++].why = "v4 line 2: does not start with \"ip:inacl#2=\"";
	/* 4. a tampered line: the good entry's file with its first line widened */
	cases[i].url = "https://t.example/x";
	cases[i].data = build_file(ctx, cases[i].url, "AUTO", two, 2, NULL, NULL, 0, NULL);
	s = strstr(cases[i].data, "permit tcp any host 192.0.2.1 eq 443\n");
	cases[i].data = talloc_asprintf(ctx, "%.*spermit ip any any\n%s",
					(int)(s - cases[i].data), cases[i].data,
					s + strlen("permit tcp any host 192.0.2.1 eq 443\n"));
	cases[i++].why = "acl-name-v4: name does not match the URL and lines";
	cases[i].url = "https://t2.example/x";
	cases[i].data = build_file(ctx, cases[i].url, "AUTO", two, 2, NULL, NULL, 0, NULL);
	s = strstr(cases[i].data, "eq 443");
	memcpy(s, "eq 444", 6);
	cases[i++].why = "acl-name-v4: name does not match the URL and lines";
	/* 5. the good entry's name over other lines */
	cases[i].url = "https://w.example/x";
	cases[i].data = build_file(ctx, cases[i].url, good_name, anyany, 1, NULL, NULL, 0, NULL);
	cases[i++].why = "acl-name-v4: name does not match the URL and lines";
	/* 6. lines numbered with a gap; an IPv6 line under an IPv4 name; NFR in a cisco cache */
	cases[i].url = "https://n.example/x";
	cases[i].data = build_file(ctx, cases[i].url, "AUTO", numbered, 2, NULL, NULL, 0, NULL);
	cases[i++].why = "v4 line 2: does not start with \"ip:inacl#2=\"";
	cases[i].url = "https://f.example/x";
	cases[i].data = build_file(ctx, cases[i].url, "AUTO", nfr, 1, NULL, NULL, 0, NULL);
	cases[i++].why = "v4 line 1: does not start with \"ip:inacl#1=\"";
	/* 7. lines without a name */
	cases[i].url = "https://l.example/x";
	cases[i].data = build_file(ctx, cases[i].url, NULL, NULL, 0, NULL, v6, 1, NULL);
	cases[i++].why = "acl-name-v6: lines without a name";
	assert_int_equal(i, sizeof(cases) / sizeof(cases[0]));

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		plant(ctx, dir, cases[i].url, cases[i].data, strlen(cases[i].data));
	}
	cache = NULL;
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err), MUD_OK);
	assert_int_equal(load_errors, sizeof(cases) / sizeof(cases[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *why = why_dropped(ctx, log, dir, cases[i].url);

		/* this reason (a hash mismatch also says which hash the lines have) */
		if (strncmp(why, cases[i].why, strlen(cases[i].why)) != 0) {
			fail_msg("case %zu (%s): dropped for \"%s\", expected \"%s\"", i,
				 cases[i].url, why, cases[i].why);
		}
		look(cache, ctx, cases[i].url, T0, MUD_CACHE_MISS, true);
	}
	/* nothing answers to the quarantine's names; the good entry does */
	{
		char **lines = NULL;
		size_t num = 0;

		assert_false(mud_cache_acl_lookup(cache, ctx, q->acl_name_v4, &lines, &num, NULL));
		assert_false(mud_cache_acl_lookup(cache, ctx, q->acl_name_v6, &lines, &num, NULL));
		assert_true(mud_cache_acl_lookup(cache, ctx, good_name, &lines, &num, NULL));
		assert_int_equal(num, 2);
		talloc_free(lines);
	}
	look(cache, ctx, url_good, T0, MUD_CACHE_HIT, false);
	talloc_free(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** The cache directory must be ours alone: otherwise nothing is loaded or written. */
static void test_persist_dir_checks(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *sub = talloc_asprintf(ctx, "%s/cache", dir);
	char *link = talloc_asprintf(ctx, "%s/link", dir);
	mud_cache_opts_t opts = { .dir = sub };
	mud_cache_t *cache = NULL;
	mud_error_t err;
	char *good;
	size_t bad = 99;

	assert_int_equal(mkdir(sub, 0700), 0);
	good = good_file(ctx, "https://ok.example/x");
	plant(ctx, sub, "https://ok.example/x", good, strlen(good));

	/* writable by others, by the group */
	assert_int_equal(chmod(sub, 0777), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_null(cache);
	assert_string_equal(err.where, sub);
	assert_string_equal(err.text, "cache directory is writable by others (mode 0777): "
			    "chmod go-w");
	assert_int_equal(chmod(sub, 0770), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "cache directory is writable by its group (mode 0770): "
			    "chmod go-w");
	assert_int_equal(chmod(sub, 0750), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_OK);
	assert_int_equal(bad, 0);
	look(cache, ctx, "https://ok.example/x", T0, MUD_CACHE_HIT, false);
	TALLOC_FREE(cache);

	/* a symbolic link to a good directory */
	assert_int_equal(symlink(sub, link), 0);
	opts.dir = link;
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_null(cache);
	assert_string_equal(err.where, link);
	assert_string_equal(err.text, "cache directory is a symbolic link; give the directory "
			    "itself");
	opts.dir = sub;

	/* owned by another user (only root can make one) */
	if (geteuid() == 0) {
		assert_int_equal(chown(sub, 65534, 65534), 0);
		mud_error_clear(&err);
		assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
		assert_string_equal(err.text, "cache directory is owned by uid 65534, not by the "
				    "server's user (uid 0): chown it");
		assert_int_equal(chown(sub, 0, 0), 0);
	}

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** An optional HMAC over each entry: a file altered in a way the grammar and the names
 *  cannot see (the VLAN) is dropped; so is one without an HMAC, or under another key. */
static void test_persist_hmac(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *cdir = talloc_asprintf(ctx, "%s/c", dir);
	char *key = talloc_asprintf(ctx, "%s/key", dir);
	char *key2 = talloc_asprintf(ctx, "%s/key2", dir);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = cdir, .key_file = key, .log = log_capture,
				  .log_uctx = &log };
	mud_cache_t *cache = NULL;
	mud_error_t err;
	size_t bad = 99;
	char *text;
	char *p;
	char *good;

	assert_int_equal(mkdir(cdir, 0700), 0);
	write_file(key, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(key, 0600), 0);
	write_file(key2, "fedcba9876543210fedcba9876543210", 32);
	assert_int_equal(chmod(key2, 0600), 0);

	cache = mk_cache(ctx, &opts, T0);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), T0);
	store_ok(cache, URL_B, mk_real(ctx, URL_B, "b", 8, 1, 1, 0, T0), T0);
	TALLOC_FREE(cache);
	text = test_read_file(ctx, file_of(ctx, cdir, URL_A), NULL);
	p = strstr(text, "\nhmac: ");
	assert_non_null(p);
	assert_int_equal(strlen(p), strlen("\nhmac: ") + 64 + strlen("\nend\n"));

	/* same key: both load */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_OK);
	assert_int_equal(bad, 0);
	look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	TALLOC_FREE(cache);

	/* the VLAN changed in A's file: its lines and names still match, the HMAC does not */
	p = strstr(text, "vlan: 7\n");
	assert_non_null(p);
	p[6] = '9';
	plant(ctx, cdir, URL_A, text, strlen(text));
	/* a valid entry with no HMAC at all */
	good = good_file(ctx, URL_C);
	plant(ctx, cdir, URL_C, good, strlen(good));
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_OK);
	assert_int_equal(bad, 2);
	assert_string_equal(why_dropped(ctx, log, cdir, URL_A),
			    "hmac does not match (altered, or another key)");
	assert_string_equal(why_dropped(ctx, log, cdir, URL_C), "no hmac (a key is configured)");
	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, true);
	look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	TALLOC_FREE(cache);

	/* another key: B is dropped too */
	opts.key_file = key2;
	talloc_free(log);
	log = talloc_strdup(ctx, "");
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_OK);
	assert_int_equal(bad, 3);
	assert_string_equal(why_dropped(ctx, log, cdir, URL_B),
			    "hmac does not match (altered, or another key)");
	TALLOC_FREE(cache);

	/* the key file itself: mode, length, link */
	assert_int_equal(chmod(key2, 0640), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "cache key file must not be readable by group or others "
			    "(chmod 600)");
	write_file(key2, "short", 5);
	assert_int_equal(chmod(key2, 0600), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "cache key file holds 5 bytes, fewer than 32");
	assert_int_equal(unlink(key2), 0);
	assert_int_equal(symlink(key, key2), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "a symbolic link, not a regular file");
	assert_null(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

static void test_persist_unwritable(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_error_t err = { 0 };
	mud_policy_t *pol = mk_policy(ctx, "a", 0, 1, 1, 0, NULL, NULL, T0);

	/* the directory disappears: the policy is still cached in memory, the error says why */
	rm_tree(dir);
	assert_int_equal(mud_cache_store(cache, URL_A, pol, T0, &err), MUD_ERR_IO);
	assert_int_equal(strncmp(err.where, dir, strlen(dir)), 0);
	assert_string_equal(err.text, "mkostemp: No such file or directory");
	look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);

	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_persist_too_large(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_error_t err = { 0 };
	mud_policy_t *pol = mk_policy(ctx, "a", 0, 1, 1, 0, NULL, NULL, T0);
	char *huge = talloc_array(ctx, char, 5 * 1024 * 1024);
	mud_entry_t *e;

	store_ok(cache, URL_A, pol, T0);
	assert_int_equal(count_files(dir), 1);

	/* one 5 MiB line (a "json" rendering, say): cached in memory, not on disk, and the
	 * older file is removed so that a restart cannot bring back an outdated policy */
	memset(huge, 'j', 5 * 1024 * 1024 - 1);
	huge[5 * 1024 * 1024 - 1] = '\0';
	pol->rendered->v4[0] = huge;
	assert_int_equal(mud_cache_store(cache, URL_A, pol, T0 + 1, &err), MUD_ERR_IO);
	assert_string_equal(err.where, URL_A);
	assert_string_equal(err.text, "policy too large to persist (over 4194304 bytes)");
	assert_int_equal(count_files(dir), 0);
	e = look(cache, ctx, URL_A, T0 + 1, MUD_CACHE_HIT, false);
	assert_int_equal(strlen(e->lines_v4[0]), 5 * 1024 * 1024 - 1);

	talloc_free(cache);
	rm_tree(dir);
	talloc_free_children(ctx);
}

/** Mutated copies of a valid file (flipped bytes, cuts, inserted newlines): each load
 *  either yields the entry or counts one error, and never crashes. */
static void test_persist_mutations(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	char const *url = "https://mut.example/x.json";
	char *good = good_file(ctx, url);
	size_t len = strlen(good);
	char *buf = talloc_array(ctx, char, len + 1);
	uint32_t seed = 12345;
	size_t loaded = 0;
	size_t rejected = 0;
	int i;

	for (i = 0; i < 400; i++) {
		mud_cache_t *cache = NULL;
		mud_error_t err = { 0 };
		size_t load_errors = 99;
		size_t pos;
		size_t n = len;
		mud_cache_stats_t st;

		memcpy(buf, good, len);
		seed = seed * 1103515245u + 12345u;
		pos = (seed >> 8) % len;
		switch (i % 4) {
		case 0:
			buf[pos] ^= (char)(1u << ((seed >> 4) & 7));
			break;
		case 1:
			n = pos;
			break;
		case 2:
			buf[pos] = '\n';
			break;
		default:
			buf[pos] = (char)((seed >> 16) & 0xff);
			break;
		}
		plant(ctx, dir, url, buf, n);
		assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err),
				 MUD_OK);
		mud_cache_stats(cache, &st);
		assert_int_equal(st.entries + load_errors, 1);
		if (st.entries) {
			loaded++;
		} else {
			rejected++;
		}
		talloc_free(cache);
	}
	assert_true(rejected > 300);	/* almost every mutation breaks the format */
	assert_true(loaded + rejected == 400);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/*
 *	Threads: 8 threads hammer a few URLs. Each round every lookup uses the
 *	same clock, past the expiry of the previous round's store/fail, so exactly
 *	one thread per URL must get a fetch token per round.
 */
#define NTHREADS	8
#define NURLS		4
#define ROUND_STEP	4000		/* > validity (3600) and > fail_ttl */

typedef struct {
	mud_cache_t		*cache;
	pthread_barrier_t	barrier;
	int			tokens[NURLS];	//!< guarded by lock
	pthread_mutex_t		lock;
	int			rounds;
	int			bad_rounds;
	int			stop;
	long			stores;
	long			fails;
} race_t;

static char const *race_urls[NURLS] = { URL_A, URL_B, URL_C, URL_D };
static char const *race_names[NURLS] = { "#ACSACL#-IP-a-1", "#ACSACL#-IP-b-1",
					 "#ACSACL#-IP-c-1", "#ACSACL#-IP-d-1" };

typedef struct {
	race_t	*race;
	int	id;
} race_arg_t;

static void *race_thread(void *uctx)
{
	race_arg_t *arg = uctx;
	race_t *race = arg->race;
	TALLOC_CTX *mine = talloc_new(NULL);	/* thread-local: talloc is not thread-safe */
	int round;

	for (round = 0; ; round++) {
		time_t now = T0 + (time_t)round * ROUND_STEP;
		int it;

		pthread_barrier_wait(&race->barrier);
		if (race->stop) break;

		for (it = 0; it < 50; it++) {
			int u = (it + arg->id) % NURLS;
			mud_entry_t *e = NULL;
			bool token = false;
			char **lines = NULL;
			size_t num = 0;

			(void)mud_cache_lookup(race->cache, mine, &e, &token, race_urls[u], now);
			talloc_free(e);
			if (mud_cache_acl_lookup(race->cache, mine, race_names[u], &lines, &num,
						 NULL)) {
				talloc_free(lines);
			}
			if (!token) continue;

			pthread_mutex_lock(&race->lock);
			race->tokens[u]++;
			pthread_mutex_unlock(&race->lock);

			if ((round + u) % 3 == 0) {
				mud_cache_fail(race->cache, race_urls[u], MUD_ERR_FETCH,
					       race_urls[u], "refused", now);
				pthread_mutex_lock(&race->lock);
				race->fails++;
				pthread_mutex_unlock(&race->lock);
			} else {
				mud_policy_t *pol = mk_policy(mine, "r", round % 4095, 1, 2, 1,
							      race_names[u], NULL, now);

				(void)mud_cache_store(race->cache, race_urls[u], pol, now, NULL);
				talloc_free(pol);
				pthread_mutex_lock(&race->lock);
				race->stores++;
				pthread_mutex_unlock(&race->lock);
			}
		}

		pthread_barrier_wait(&race->barrier);
		if (arg->id == 0) {
			int u;

			for (u = 0; u < NURLS; u++) {
				if (race->tokens[u] != 1) race->bad_rounds++;
				race->tokens[u] = 0;
			}
			race->rounds++;
		}
	}
	talloc_free(mine);
	return NULL;
}

static void test_threads(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir, .stale_max = 1000000000, .fail_ttl = 60 };
	race_t race;
	race_arg_t args[NTHREADS];
	pthread_t th[NTHREADS];
	struct timespec start, now;
	mud_cache_stats_t st;
	int i;

	memset(&race, 0, sizeof(race));
	race.cache = mk_cache(ctx, &opts, T0);
	pthread_mutex_init(&race.lock, NULL);
	pthread_barrier_init(&race.barrier, NULL, NTHREADS + 1);

	for (i = 0; i < NTHREADS; i++) {
		args[i].race = &race;
		args[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, race_thread, &args[i]), 0);
	}

	/* the main thread paces the rounds for about one second */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		double el;

		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (double)(now.tv_sec - start.tv_sec) +
		     (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (el > 1.0) race.stop = 1;
		pthread_barrier_wait(&race.barrier);		/* round start (or stop) */
		if (race.stop) break;
		pthread_barrier_wait(&race.barrier);		/* round end */
	}
	for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);

	assert_true(race.rounds > 0);
	assert_int_equal(race.bad_rounds, 0);
	assert_int_equal(race.stores + race.fails, (long)race.rounds * NURLS);

	mud_cache_stats(race.cache, &st);
	assert_int_equal(st.stores, (uint64_t)race.stores);
	assert_int_equal(st.failures, (uint64_t)race.fails);
	assert_int_equal(st.entries, NURLS);
	assert_int_equal(st.hits + st.stale_hits + st.negative_hits + st.misses,
			 (uint64_t)race.rounds * NTHREADS * 50);

	/* the directory matches memory: one file per good entry */
	assert_true(count_files(dir) <= NURLS);
	talloc_free(race.cache);

	pthread_barrier_destroy(&race.barrier);
	pthread_mutex_destroy(&race.lock);
	rm_tree(dir);
	talloc_free_children(ctx);
}


/*
 *	Operator view: list, show, flush, flush-all, refresh token, offline directory read
 */
static void test_operator_view(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .fail_ttl = 60, .stale_max = 100 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_cache_info_t *info = NULL;
	mud_cache_info_t *one = NULL;
	mud_entry_t *e = NULL;
	mud_cache_stats_t st0;
	mud_cache_stats_t st1;
	mud_error_t err;
	size_t num = 99;

	/* empty */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_list(cache, ctx, &info, &num, T0, &err), MUD_OK);
	assert_int_equal(num, 0);
	assert_null(info);
	assert_int_equal(mud_cache_list(NULL, ctx, &info, &num, T0, &err), MUD_ERR_ARG);

	/* A good (1 h), B a failure, C being fetched for the first time */
	look(cache, ctx, URL_A, T0, MUD_CACHE_MISS, true);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "a", 7, 1, 2, 1, T0), T0);
	look(cache, ctx, URL_B, T0, MUD_CACHE_MISS, true);
	mud_cache_fail(cache, URL_B, MUD_ERR_HTTP, "https://x|y", "HTTP 404 | not found", T0);
	look(cache, ctx, URL_C, T0, MUD_CACHE_MISS, true);

	mud_cache_stats(cache, &st0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_list(cache, ctx, &info, &num, T0 + 10, &err), MUD_OK);
	assert_int_equal(num, 3);
	/* sorted by URL: camera (C), lighting (A), printer (B) */
	assert_string_equal(info[0].url, URL_C);
	assert_int_equal(info[0].state, MUD_CSTATE_FETCHING);
	assert_true(info[0].inflight);
	assert_string_equal(info[1].url, URL_A);
	assert_int_equal(info[1].state, MUD_CSTATE_FRESH);
	assert_int_equal(info[1].vlan, 7);
	assert_int_equal(info[1].num_v4, 2);
	assert_int_equal(info[1].num_v6, 1);
	assert_non_null(info[1].acl_name_v4);
	assert_int_equal(info[1].expires, T0 + 3600);
	assert_false(info[1].inflight);
	assert_string_equal(info[2].url, URL_B);
	assert_int_equal(info[2].state, MUD_CSTATE_NEGATIVE);
	assert_int_equal(info[2].status, MUD_ERR_HTTP);
	assert_string_equal(info[2].error_text, "HTTP 404 | not found");
	assert_string_equal(mud_cache_state_name(info[2].state), "negative");
	TALLOC_FREE(info);
	/* list and show neither count nor create */
	assert_int_equal(mud_cache_show(cache, ctx, &one, &e, URL_D, T0, &err), MUD_OK);
	assert_null(one);
	assert_null(e);
	mud_cache_stats(cache, &st1);
	assert_memory_equal(&st0, &st1, sizeof(st0));

	/* show with lines; then the states over time */
	assert_int_equal(mud_cache_show(cache, ctx, &one, &e, URL_A, T0 + 3600, &err), MUD_OK);
	assert_non_null(one);
	assert_non_null(e);
	assert_int_equal(one->state, MUD_CSTATE_STALE);
	assert_int_equal(e->num_v4, 2);
	assert_string_equal(e->lines_v4[0], "ip:inacl#1=permit tcp any host 192.0.2.1 eq 1097");
	TALLOC_FREE(one);
	TALLOC_FREE(e);
	assert_int_equal(mud_cache_show(cache, ctx, &one, NULL, URL_A, T0 + 3700, &err), MUD_OK);
	assert_int_equal(one->state, MUD_CSTATE_EXPIRED);
	TALLOC_FREE(one);
	assert_int_equal(mud_cache_show(cache, ctx, &one, NULL, URL_B, T0 + 60, &err), MUD_OK);
	assert_int_equal(one->state, MUD_CSTATE_RETRY);
	TALLOC_FREE(one);

	/* refresh token: taken while A is fresh, refused while that fetch is in flight */
	assert_true(mud_cache_refresh_token(cache, URL_A, T0 + 20));
	assert_false(mud_cache_refresh_token(cache, URL_A, T0 + 21));
	look(cache, ctx, URL_A, T0 + 22, MUD_CACHE_HIT, false);	/* still served */
	assert_int_equal(mud_cache_show(cache, ctx, &one, NULL, URL_A, T0 + 22, &err), MUD_OK);
	assert_true(one->inflight);
	assert_int_equal(one->state, MUD_CSTATE_FRESH);
	TALLOC_FREE(one);
	/* a remembered failure does not hold an operator's refresh back */
	assert_true(mud_cache_refresh_token(cache, URL_B, T0 + 20));
	mud_cache_fail(cache, URL_B, MUD_ERR_HTTP, "w", "t", T0 + 20);

	/* flush while A's refresh is in flight: entry gone, the token stays out, and the
	 * refresh's result is stored when it settles */
	assert_true(mud_cache_flush(cache, URL_A));
	look(cache, ctx, URL_A, T0 + 23, MUD_CACHE_MISS, false);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "a2", 7, 1, 1, 0, T0 + 24), T0 + 24);
	look(cache, ctx, URL_A, T0 + 25, MUD_CACHE_HIT, false);
	assert_false(mud_cache_flush(cache, URL_D));
	assert_false(mud_cache_flush(cache, ""));

	/* flush-all: A, B (entries) and C (in flight, no entry: kept for its fetch) */
	assert_int_equal(mud_cache_flush_all(cache), 2);
	assert_int_equal(mud_cache_list(cache, ctx, &info, &num, T0 + 30, &err), MUD_OK);
	assert_int_equal(num, 1);
	assert_string_equal(info[0].url, URL_C);
	TALLOC_FREE(info);
	assert_int_equal(mud_cache_flush_all(cache), 0);
	talloc_free_children(ctx);
}

static void test_dir_read(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *cdir = talloc_asprintf(ctx, "%s/c", dir);
	char *key = talloc_asprintf(ctx, "%s/key", dir);
	char *key2 = talloc_asprintf(ctx, "%s/key2", dir);
	mud_cache_opts_t opts = { .dir = cdir, .key_file = key };
	mud_cache_t *cache;
	mud_cache_file_t *files = NULL;
	size_t num = 0;
	mud_error_t err;
	char *text;
	char *p;

	assert_int_equal(mkdir(cdir, 0700), 0);
	write_file(key, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(key, 0600), 0);
	write_file(key2, "fedcba9876543210fedcba9876543210", 32);
	cache = mk_cache(ctx, &opts, T0);
	store_ok(cache, URL_A, mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), T0);
	store_ok(cache, URL_B, mk_real(ctx, URL_B, "b", 8, 1, 1, 0, T0), T0);
	store_ok(cache, URL_C, mk_real(ctx, URL_C, "c", 9, 1, 1, 0, T0), T0);
	TALLOC_FREE(cache);

	/* all good, sorted by URL */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, key, 0, &err), MUD_OK);
	assert_int_equal(num, 3);
	assert_string_equal(files[0].entry->url, URL_C);
	assert_string_equal(files[1].entry->url, URL_A);
	assert_int_equal(files[1].verdict, MUD_CFILE_OK);
	assert_true(files[1].has_hmac);
	assert_string_equal(files[1].format, "cisco-dacl");
	assert_int_equal(files[1].entry->vlan, 7);
	assert_null(files[1].why);
	TALLOC_FREE(files);

	/* A altered (HMAC), B broken (syntax), junk ignored; another key: all tampered */
	text = test_read_file(ctx, file_of(ctx, cdir, URL_A), NULL);
	p = strstr(text, "vlan: 7\n");
	assert_non_null(p);
	p[6] = '5';
	write_file(file_of(ctx, cdir, URL_A), text, strlen(text));
	write_file(file_of(ctx, cdir, URL_B), "rlm_mud-cache 2\nurl: x\n", 23);
	write_file(talloc_asprintf(ctx, "%s/tmp.junk", cdir), "x", 1);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, key, 0, &err), MUD_OK);
	assert_int_equal(num, 3);
	assert_string_equal(files[0].entry->url, URL_C);
	assert_int_equal(files[0].verdict, MUD_CFILE_OK);
	assert_string_equal(files[1].entry->url, URL_A);
	assert_int_equal(files[1].verdict, MUD_CFILE_TAMPERED);
	assert_int_equal(files[1].entry->vlan, 5);
	assert_string_equal(files[1].why, "hmac does not match (altered, or another key)");
	assert_null(files[2].entry);			/* unreadable files last */
	assert_int_equal(files[2].verdict, MUD_CFILE_INVALID);
	assert_string_equal(files[2].why, "truncated: no \"end\" line");
	TALLOC_FREE(files);
	/* without a key: the altered file is well-formed and proves (no HMAC check) */
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, NULL, 0, &err), MUD_OK);
	assert_int_equal(files[1].verdict, MUD_CFILE_OK);
	TALLOC_FREE(files);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, key2, 0, &err), MUD_OK);
	assert_int_equal(files[0].verdict, MUD_CFILE_TAMPERED);
	TALLOC_FREE(files);
	/* bound */
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, NULL, 1, &err), MUD_OK);
	assert_int_equal(num, 1);
	TALLOC_FREE(files);

	/* errors: no directory, short key */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, "/nonexistent/x", NULL, 0, &err),
			 MUD_ERR_IO);
	write_file(key2, "short", 5);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, key2, 0, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "cache key file holds 5 bytes, fewer than 32");
	assert_null(files);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/*
 *	Signer and compile tag (RFC 8520 section 11; context changes)
 */

/* Name { CN = "S1" } as UTF8String, the same as PrintableString "s1" (X509_NAME_cmp
 * compares canonical forms: case and string type do not matter), another name, and a
 * truncated one. */
static uint8_t const NAME_S1[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
				   0x04, 0x03, 0x0c, 0x02, 0x53, 0x31 };
static uint8_t const NAME_S1_PRINTABLE[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
					     0x55, 0x04, 0x03, 0x13, 0x02, 0x73, 0x31 };
static uint8_t const NAME_S2[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
				   0x04, 0x03, 0x0c, 0x02, 0x53, 0x32 };
#define NAME_S1_HEX	"300d310b30090603550403" "0c025331"

/** pol as verified with signer der (NULL: not verified) and compiled with tag. */
static mud_policy_t *with(mud_policy_t *pol, uint8_t const *der, size_t len, char const *tag)
{
	pol->signer_der = der ? talloc_memdup(pol, der, len) : NULL;
	pol->signer_der_len = der ? len : 0;
	pol->compile_tag = tag ? talloc_strdup(pol, tag) : NULL;
	return pol;
}

static void test_signer_entry(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol;
	mud_entry_t *e;
	mud_entry_t *e2;
	mud_cache_info_t *one = NULL;
	mud_error_t err;

	pol = with(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), NAME_S1, sizeof(NAME_S1), NULL);
	store_ok(cache, URL_A, pol, T0);
	TALLOC_FREE(pol);	/* the cache holds its own copy */
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->signer_der_len, sizeof(NAME_S1));
	assert_memory_equal(e->signer_der, NAME_S1, sizeof(NAME_S1));
	assert_string_equal(e->compile_tag, "");
	e2 = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_ptr_not_equal(e->signer_der, e2->signer_der);	/* deep copies */

	/* no constraint; the same name, also in another string type and case; another one;
	 * a constraint that is not a Name */
	assert_true(mud_entry_signer_ok(e, NULL, 0));
	assert_true(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));
	assert_true(mud_entry_signer_ok(e, NAME_S1_PRINTABLE, sizeof(NAME_S1_PRINTABLE)));
	assert_false(mud_entry_signer_ok(e, NAME_S2, sizeof(NAME_S2)));
	assert_false(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1) - 1));
	assert_false(mud_entry_signer_ok(e, (uint8_t const *)"\x04\x01\x00", 3));
	assert_false(mud_entry_signer_ok(NULL, NAME_S1, sizeof(NAME_S1)));
	assert_true(mud_entry_signer_ok(NULL, NULL, 0));

	/* no recorded signer: satisfies no constraint, but serves devices without one */
	store_ok(cache, URL_B, mk_real(ctx, URL_B, "b", 7, 1, 1, 1, T0), T0);
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	assert_null(e->signer_der);
	assert_int_equal(e->signer_der_len, 0);
	assert_false(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));
	assert_true(mud_entry_signer_ok(e, NULL, 0));

	/* a recorded signer that is not a Name satisfies nothing either */
	pol = with(mk_real(ctx, URL_C, "c", 7, 1, 1, 1, T0), (uint8_t const *)"\x04\x01\x00", 3,
		   NULL);
	store_ok(cache, URL_C, pol, T0);
	e = look(cache, ctx, URL_C, T0, MUD_CACHE_HIT, false);
	assert_false(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));

	/* the operator view shows it as text */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_show(cache, ctx, &one, NULL, URL_A, T0, &err), MUD_OK);
	assert_string_equal(one->signer, "CN=S1");
	assert_string_equal(one->compile_tag, "");
	assert_false(one->other_context);
	TALLOC_FREE(one);
	assert_int_equal(mud_cache_show(cache, ctx, &one, NULL, URL_B, T0, &err), MUD_OK);
	assert_null(one->signer);
	TALLOC_FREE(one);
	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_compile_tag(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .stale_max = 600, .fail_ttl = 60, .compile_tag = "ctx1" };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol_a;
	mud_policy_t *pol_b;
	mud_entry_t *e;
	mud_cache_info_t *info = NULL;
	mud_error_t err;
	char **urls = NULL;
	char **lines = NULL;
	size_t num = 0;
	bool v6;
	char long_tag[MUD_COMPILE_TAG_MAX + 2];
	mud_cache_stats_t st;

	/* compiled with the current tag: a hit; with another (or none): stale, refetched */
	store_ok(cache, URL_A, with(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), NULL, 0, "ctx1"),
		 T0);
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_string_equal(e->compile_tag, "ctx1");
	store_ok(cache, URL_B, with(mk_real(ctx, URL_B, "b", 7, 1, 1, 1, T0), NULL, 0, NULL),
		 T0);
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_STALE, true);		/* the token */
	assert_string_equal(e->compile_tag, "");
	look(cache, ctx, URL_B, T0 + 1, MUD_CACHE_STALE, false);	/* single flight */
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 1, &urls, 10), 0);	/* in flight */
	store_ok(cache, URL_B, with(mk_real(ctx, URL_B, "b", 7, 1, 1, 1, T0 + 2), NULL, 0,
				    "ctx1"), T0 + 2);
	look(cache, ctx, URL_B, T0 + 3, MUD_CACHE_HIT, false);

	/* the context changes: every policy is refreshed, still served meanwhile */
	mud_cache_set_compile_tag(cache, "ctx2");
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 4, &urls, 10), 2);
	TALLOC_FREE(urls);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_list(cache, ctx, &info, &num, T0 + 4, &err), MUD_OK);
	assert_int_equal(num, 2);
	assert_string_equal(info[0].url, URL_A);
	assert_int_equal(info[0].state, MUD_CSTATE_STALE);
	assert_true(info[0].other_context);
	assert_string_equal(info[0].compile_tag, "ctx1");
	TALLOC_FREE(info);

	/* A is recompiled to other lines: new content-addressed names, no conflict with its
	 * own earlier binding; the old names are gone, the new ones answer */
	pol_a = with(mk_real(ctx, URL_A, "a-new", 7, 1, 2, 1, T0 + 5), NULL, 0, "ctx2");
	look(cache, ctx, URL_A, T0 + 5, MUD_CACHE_STALE, true);
	e = look(cache, ctx, URL_A, T0 + 5, MUD_CACHE_STALE, false);
	assert_string_not_equal(e->acl_name_v4, pol_a->rendered->acl_name_v4);
	store_ok(cache, URL_A, pol_a, T0 + 5);
	assert_false(mud_cache_acl_lookup(cache, ctx, e->acl_name_v4, &lines, &num, &v6));
	assert_true(mud_cache_acl_lookup(cache, ctx, pol_a->rendered->acl_name_v4, &lines, &num,
					 &v6));
	assert_int_equal(num, 2);
	TALLOC_FREE(lines);
	e = look(cache, ctx, URL_A, T0 + 6, MUD_CACHE_HIT, false);
	assert_string_equal(e->compile_tag, "ctx2");
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 6, &urls, 10), 1);
	assert_string_equal(urls[0], URL_B);
	TALLOC_FREE(urls);

	/* B's refresh fails: the policy compiled for ctx1 is kept (stale), retried after
	 * fail_ttl, and served no longer than expiry + stale_max (B expires at T0 + 3602) */
	look(cache, ctx, URL_B, T0 + 7, MUD_CACHE_STALE, true);
	assert_true(mud_cache_fail(cache, URL_B, MUD_ERR_FETCH, URL_B, "down", T0 + 8));
	look(cache, ctx, URL_B, T0 + 9, MUD_CACHE_STALE, false);
	assert_int_equal(mud_cache_expired(cache, ctx, T0 + 9, &urls, 10), 0);
	look(cache, ctx, URL_B, T0 + 8 + 60, MUD_CACHE_STALE, true);
	assert_true(mud_cache_fail(cache, URL_B, MUD_ERR_FETCH, URL_B, "down", T0 + 3602 + 500));
	look(cache, ctx, URL_B, T0 + 3602 + 550, MUD_CACHE_STALE, false);
	look(cache, ctx, URL_B, T0 + 3602 + 600, MUD_CACHE_MISS, true);

	/* back to the first tag: entries of ctx1 would be hits again; NULL is "" */
	pol_b = with(mk_real(ctx, URL_B, "b", 7, 1, 1, 1, T0), NULL, 0, NULL);
	store_ok(cache, URL_B, pol_b, T0);
	look(cache, ctx, URL_B, T0, MUD_CACHE_STALE, true);
	mud_cache_set_compile_tag(cache, NULL);
	look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	look(cache, ctx, URL_A, T0 + 6, MUD_CACHE_STALE, true);

	/* a tag too long for a persisted line, or with a control byte, is kept as its hash:
	 * the same on both sides */
	memset(long_tag, 'x', sizeof(long_tag) - 1);
	long_tag[sizeof(long_tag) - 1] = '\0';
	mud_cache_set_compile_tag(cache, long_tag);
	store_ok(cache, URL_C, with(mk_real(ctx, URL_C, "c", 7, 1, 1, 1, T0), NULL, 0,
				    long_tag), T0);
	e = look(cache, ctx, URL_C, T0, MUD_CACHE_HIT, false);
	assert_int_equal(strlen(e->compile_tag), strlen("sha256:") + 64);
	assert_memory_equal(e->compile_tag, "sha256:", 7);
	mud_cache_set_compile_tag(cache, "a\nb");
	store_ok(cache, URL_D, with(mk_real(ctx, URL_D, "d", 7, 1, 1, 1, T0), NULL, 0, "a\nb"),
		 T0);
	e = look(cache, ctx, URL_D, T0, MUD_CACHE_HIT, false);
	assert_memory_equal(e->compile_tag, "sha256:", 7);
	mud_cache_set_compile_tag(NULL, "x");	/* harmless */

	mud_cache_stats(cache, &st);
	assert_true(st.stale_hits > 0);
	talloc_free(cache);
	talloc_free_children(ctx);
}

static void test_persist_signer_tag(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *cdir = talloc_asprintf(ctx, "%s/c", dir);
	char *key = talloc_asprintf(ctx, "%s/key", dir);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = cdir, .key_file = key, .log = log_capture,
				  .log_uctx = &log, .compile_tag = "ctx1" };
	mud_cache_t *cache = NULL;
	mud_entry_t *e;
	mud_error_t err;
	size_t bad = 99;
	char *text;
	char *p;
	char *old;
	mud_cache_file_t *files = NULL;
	size_t num = 0;

	assert_int_equal(mkdir(cdir, 0700), 0);
	write_file(key, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(key, 0600), 0);

	cache = mk_cache(ctx, &opts, T0);
	store_ok(cache, URL_A, with(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), NAME_S1,
				    sizeof(NAME_S1), "ctx1"), T0);
	store_ok(cache, URL_B, with(mk_real(ctx, URL_B, "b", 8, 1, 1, 0, T0), NULL, 0, NULL), T0);
	TALLOC_FREE(cache);
	text = test_read_file(ctx, file_of(ctx, cdir, URL_A), NULL);
	assert_non_null(strstr(text, "\nsigner: " NAME_S1_HEX "\ncompile-tag: ctx1\n"));
	/* unknown signer and no tag: no lines (an earlier version reads the file) */
	old = test_read_file(ctx, file_of(ctx, cdir, URL_B), NULL);
	assert_null(strstr(old, "signer:"));
	assert_null(strstr(old, "compile-tag:"));

	/* restart: both kept; B, compiled for "", is stale under ctx1 */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &bad, &err), MUD_OK);
	assert_int_equal(bad, 0);
	e = look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_HIT, false);
	assert_int_equal(e->signer_der_len, sizeof(NAME_S1));
	assert_memory_equal(e->signer_der, NAME_S1, sizeof(NAME_S1));
	assert_string_equal(e->compile_tag, "ctx1");
	assert_true(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));
	assert_false(mud_entry_signer_ok(e, NAME_S2, sizeof(NAME_S2)));
	e = look(cache, ctx, URL_B, T0 + 10, MUD_CACHE_STALE, true);
	assert_null(e->signer_der);
	assert_string_equal(e->compile_tag, "");
	TALLOC_FREE(cache);

	/* the signer (S1 -> S2, still a valid Name) or the tag changed: the HMAC says so */
	p = strstr(text, "\nsigner: " NAME_S1_HEX);
	p[strlen("\nsigner: " NAME_S1_HEX) - 1] = '2';
	plant(ctx, cdir, URL_A, text, strlen(text));
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &bad, &err), MUD_OK);
	assert_int_equal(bad, 1);
	assert_string_equal(why_dropped(ctx, log, cdir, URL_A),
			    "hmac does not match (altered, or another key)");
	look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_MISS, true);
	TALLOC_FREE(cache);
	p[strlen("\nsigner: " NAME_S1_HEX) - 1] = '1';
	p = strstr(text, "compile-tag: ctx1");
	p[strlen("compile-tag: ctx1") - 1] = '2';
	plant(ctx, cdir, URL_A, text, strlen(text));
	talloc_free(log);
	log = talloc_strdup(ctx, "");
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &bad, &err), MUD_OK);
	assert_int_equal(bad, 1);
	assert_string_equal(why_dropped(ctx, log, cdir, URL_A),
			    "hmac does not match (altered, or another key)");
	TALLOC_FREE(cache);

	/* offline view: signer and tag read back */
	p[strlen("compile-tag: ctx1") - 1] = '1';
	plant(ctx, cdir, URL_A, text, strlen(text));
	mud_error_clear(&err);
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, cdir, key, 0, &err), MUD_OK);
	assert_int_equal(num, 2);
	assert_string_equal(files[0].entry->url, URL_A);
	assert_int_equal(files[0].verdict, MUD_CFILE_OK);
	assert_memory_equal(files[0].entry->signer_der, NAME_S1, sizeof(NAME_S1));
	assert_string_equal(files[0].entry->compile_tag, "ctx1");
	TALLOC_FREE(files);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** Files written before signers and tags were recorded load (signer unknown, tag ""); the
 *  new lines are checked like every other. */
static void test_persist_old_and_bad_signer(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = dir, .log = log_capture, .log_uctx = &log };
	mud_cache_t *cache = NULL;
	mud_entry_t *e;
	mud_error_t err;
	size_t bad = 99;
	char *good;
	size_t i;
	struct {
		char const	*url;
		char const	*extra;
		char const	*why;
	} cases[] = {
		{ "https://s1.example/odd", "signer: 300", "line 13: bad value of \"signer\"" },
		{ "https://s2.example/upper", "signer: 300D310B30090603550403" "0C025331",
		  "line 13: bad value of \"signer\"" },
		{ "https://s3.example/nothex", "signer: zz", "line 13: bad value of \"signer\"" },
		{ "https://s4.example/empty", "signer: ", "line 13: bad value of \"signer\"" },
		{ "https://s5.example/notname", "signer: 040100", "signer: not a DER Name" },
		{ "https://s6.example/twice", "signer: " NAME_S1_HEX "\nsigner: " NAME_S1_HEX,
		  "line 14: repeated key \"signer\"" },
		{ "https://s7.example/tagempty", "compile-tag: ",
		  "line 13: bad value of \"compile-tag\"" },
		{ "https://s8.example/tagtwice", "compile-tag: a\ncompile-tag: a",
		  "line 14: repeated key \"compile-tag\"" },
		{ "https://s9.example/chainodd", "signer-chain: 300",
		  "line 13: bad value of \"signer-chain\"" },
		{ "https://s10.example/chainupper", "signer-chain: DEADBEEF",
		  "line 13: bad value of \"signer-chain\"" },
		{ "https://s11.example/chainempty", "signer-chain: ",
		  "line 13: bad value of \"signer-chain\"" },
		{ "https://s12.example/chaintwice", "signer-chain: 00\nsigner-chain: 00",
		  "line 14: repeated key \"signer-chain\"" },
	};

	/* an earlier version's file, and one with both new lines */
	good = good_file(ctx, URL_A);
	plant(ctx, dir, URL_A, good, strlen(good));
	good = build_file(ctx, URL_B, "AUTO", good_v4, 1, NULL, NULL, 0,
			  "signer: " NAME_S1_HEX "\ncompile-tag: t\\\\x\n");
	plant(ctx, dir, URL_B, good, strlen(good));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *extra = talloc_asprintf(ctx, "%s\n", cases[i].extra);
		char *f = build_file(ctx, cases[i].url, "AUTO", good_v4, 1, NULL, NULL, 0, extra);

		plant(ctx, dir, cases[i].url, f, strlen(f));
	}

	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &bad, &err), MUD_OK);
	assert_int_equal(bad, sizeof(cases) / sizeof(cases[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(why_dropped(ctx, log, dir, cases[i].url), cases[i].why);
	}
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_null(e->signer_der);
	assert_null(e->signer_chain);		/* before chains: none */
	assert_int_equal(e->signer_chain_len, 0);
	assert_string_equal(e->compile_tag, "");
	assert_false(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_STALE, true);	/* tag "t\x": not "" */
	assert_string_equal(e->compile_tag, "t\\x");
	assert_true(mud_entry_signer_ok(e, NAME_S1, sizeof(NAME_S1)));
	mud_cache_set_compile_tag(cache, "t\\x");	/* the tag it was compiled with */
	look(cache, ctx, URL_B, T0 + 1, MUD_CACHE_HIT, false);
	look(cache, ctx, URL_A, T0 + 1, MUD_CACHE_STALE, true);
	talloc_free(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** The policy shared with other servers (mud_cache_export/import, the Redis payload) keeps
 *  the signer and the tag. */
static void test_export_signer_tag(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .compile_tag = "ctx1" };
	mud_cache_t *a = mk_cache(ctx, &opts, T0);
	mud_cache_t *b;
	mud_entry_t *e;
	mud_error_t err;
	char *data = NULL;
	size_t len = 0;
	time_t expires = 0;
	bool imported = false;

	opts.compile_tag = "ctx2";
	b = mk_cache(ctx, &opts, T0);
	store_ok(a, URL_A, with(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), NAME_S1,
				sizeof(NAME_S1), "ctx1"), T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_export(a, ctx, URL_A, &data, &len, &expires, &err), MUD_OK);
	assert_int_equal(mud_cache_import(b, data, len, URL_A, false, &imported, &err), MUD_OK);
	assert_true(imported);
	/* compiled with another context than b's: not a hit there */
	e = look(b, ctx, URL_A, T0, MUD_CACHE_STALE, true);
	assert_memory_equal(e->signer_der, NAME_S1, sizeof(NAME_S1));
	assert_string_equal(e->compile_tag, "ctx1");
	talloc_free(a);
	talloc_free(b);
	talloc_free_children(ctx);
}

/** An imported policy carries its policy hash, as a stored or loaded one does (fuzz_cache:
 *  imported entries had 0, "not computed", and were hashed again on every use). */
static void test_import_policy_hash(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *a = mk_cache(ctx, &opts, T0);
	mud_cache_t *b = mk_cache(ctx, &opts, T0);
	mud_entry_t *ea;
	mud_entry_t *eb;
	mud_error_t err;
	char *data = NULL;
	size_t len = 0;
	bool imported = false;

	store_ok(a, URL_A, mk_real(ctx, URL_A, "a", 7, 1, 2, 1, T0), T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_export(a, ctx, URL_A, &data, &len, NULL, &err), MUD_OK);
	assert_int_equal(mud_cache_import(b, data, len, URL_A, false, &imported, &err), MUD_OK);
	assert_true(imported);
	ea = look(a, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	eb = look(b, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_int_not_equal(eb->policy_hash, 0);
	assert_true(eb->policy_hash == mud_entry_policy_hash(eb));
	assert_true(eb->policy_hash == ea->policy_hash);
	talloc_free(a);
	talloc_free(b);
	talloc_free_children(ctx);
}

/*
 *	Signer chains: persisted, shared, re-checked against reloaded trust anchors
 */

/** pol with a recorded signer chain (NULL: none). */
static mud_policy_t *with_chain(mud_policy_t *pol, uint8_t const *chain, size_t len)
{
	pol->signer_chain = chain ? talloc_memdup(pol, chain, len) : NULL;
	pol->signer_chain_len = chain ? len : 0;
	return pol;
}

static uint8_t const CHAIN_FAKE[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a };
#define CHAIN_FAKE_HEX	"deadbeef000a"

/** The chain is copied on store, deep-copied by lookups, persisted under the HMAC and
 *  shared (export/import); a file with an altered chain is dropped. */
static void test_persist_chain(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *cdir = talloc_asprintf(ctx, "%s/c", dir);
	char *key = talloc_asprintf(ctx, "%s/key", dir);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = cdir, .key_file = key, .log = log_capture,
				  .log_uctx = &log };
	mud_cache_t *cache = NULL;
	mud_cache_t *other;
	mud_policy_t *pol;
	mud_entry_t *e;
	mud_entry_t *e2;
	mud_error_t err;
	size_t bad = 99;
	char *text;
	char *p;
	char *data = NULL;
	size_t len = 0;
	time_t expires = 0;
	bool imported = false;
	uint8_t *big;

	assert_int_equal(mkdir(cdir, 0700), 0);
	write_file(key, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(key, 0600), 0);

	cache = mk_cache(ctx, &opts, T0);
	pol = with_chain(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, T0), CHAIN_FAKE, sizeof(CHAIN_FAKE));
	store_ok(cache, URL_A, pol, T0);
	TALLOC_FREE(pol);		/* the cache holds its own copy */
	store_ok(cache, URL_B, mk_real(ctx, URL_B, "b", 8, 1, 1, 0, T0), T0);
	/* a chain past the bound (never recorded so) is not kept */
	big = talloc_zero_array(ctx, uint8_t, MUD_SIGNER_CHAIN_MAX + 1);
	store_ok(cache, URL_C, with_chain(mk_real(ctx, URL_C, "c", 9, 1, 1, 0, T0), big,
					  MUD_SIGNER_CHAIN_MAX + 1), T0);
	TALLOC_FREE(big);
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	e2 = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->signer_chain_len, sizeof(CHAIN_FAKE));
	assert_memory_equal(e->signer_chain, CHAIN_FAKE, sizeof(CHAIN_FAKE));
	assert_ptr_not_equal(e->signer_chain, e2->signer_chain);	/* deep copies */
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	assert_null(e->signer_chain);
	e = look(cache, ctx, URL_C, T0, MUD_CACHE_HIT, false);
	assert_null(e->signer_chain);

	/* shared with another server: the chain travels with the policy */
	other = mk_cache(ctx, &(mud_cache_opts_t){ 0 }, T0);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_export(cache, ctx, URL_A, &data, &len, &expires, &err), MUD_OK);
	assert_non_null(strstr(data, "\nsigner-chain: " CHAIN_FAKE_HEX "\n"));
	assert_int_equal(mud_cache_import(other, data, len, URL_A, false, &imported, &err),
			 MUD_OK);
	assert_true(imported);
	e = look(other, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_memory_equal(e->signer_chain, CHAIN_FAKE, sizeof(CHAIN_FAKE));
	TALLOC_FREE(other);
	TALLOC_FREE(cache);

	/* on disk: one line, only where there is a chain */
	text = test_read_file(ctx, file_of(ctx, cdir, URL_A), NULL);
	assert_non_null(strstr(text, "\nsigner-chain: " CHAIN_FAKE_HEX "\n"));
	assert_null(strstr(test_read_file(ctx, file_of(ctx, cdir, URL_B), NULL), "signer-chain"));

	/* restart: read back */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &bad, &err), MUD_OK);
	assert_int_equal(bad, 0);
	e = look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_HIT, false);
	assert_int_equal(e->signer_chain_len, sizeof(CHAIN_FAKE));
	assert_memory_equal(e->signer_chain, CHAIN_FAKE, sizeof(CHAIN_FAKE));
	TALLOC_FREE(cache);

	/* the chain altered (still valid hex): the HMAC says so */
	p = strstr(text, "\nsigner-chain: " CHAIN_FAKE_HEX);
	p[strlen("\nsigner-chain: ")] = 'e';
	plant(ctx, cdir, URL_A, text, strlen(text));
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0 + 10, &bad, &err), MUD_OK);
	assert_int_equal(bad, 1);
	assert_string_equal(why_dropped(ctx, log, cdir, URL_A),
			    "hmac does not match (altered, or another key)");
	look(cache, ctx, URL_A, T0 + 10, MUD_CACHE_MISS, true);
	TALLOC_FREE(cache);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** Throw-away signer PKI (mksig.sh init) in a new directory under ctx. */
static char *pki_make(TALLOC_CTX *ctx)
{
	char const *top = getenv("top_srcdir");
	char *dir = mk_tmpdir(ctx);
	char *cmd;

	cmd = talloc_asprintf(ctx, "sh '%s/tests/tools/mksig.sh' init '%s/pki' >/dev/null",
			      top ? top : ".", dir);
	if (system(cmd) != 0) fail_msg("mksig.sh init failed (the openssl CLI is required)");
	talloc_free(cmd);
	return dir;
}

/** DER of the certificate pki/pki/<name>.pem (under ctx). */
static uint8_t *pki_der(TALLOC_CTX *ctx, char const *pki, char const *name, size_t *len)
{
	char *path = talloc_asprintf(ctx, "%s/pki/%s.pem", pki, name);
	FILE *fp = fopen(path, "r");
	X509 *x;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	if (!fp) fail_msg("cannot open %s", path);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	n = i2d_X509(x, &der);
	X509_free(x);
	assert_true(n > 0);
	out = talloc_memdup(ctx, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	talloc_free(path);
	return out;
}

static mud_trust_t *pki_trust(TALLOC_CTX *ctx, char const *pki, char const *name)
{
	char *path = talloc_asprintf(ctx, "%s/pki/%s.pem", pki, name);
	mud_trust_t *trust = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(ctx, &trust, path, NULL, &err), MUD_OK);
	talloc_free(path);
	return trust;
}

/** A signer CA removed: the policies it signed are dropped (memory, disk, dACL names),
 *  listed and logged; those of the anchors kept stay; those without a chain are refetched
 *  before they are served fresh again. */
static void test_revalidate(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *pki = pki_make(ctx);
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	char *key = talloc_asprintf(ctx, "%s/key", pki);
	mud_cache_opts_t opts = { .dir = dir, .key_file = key, .stale_max = 600,
				  .log = log_capture, .log_uctx = &log };
	mud_trust_t *ca1 = pki_trust(ctx, pki, "signer-ca");
	mud_trust_t *ca2 = pki_trust(ctx, pki, "rogue-ca");
	mud_cache_t *cache;
	mud_policy_t *pol_a;
	mud_policy_t *pol_b;
	mud_entry_t *e;
	mud_error_t err;
	char **dropped = NULL;
	char **urls = NULL;
	char **lines = NULL;
	size_t num = 0;
	size_t bad = 99;
	size_t len1, len2;
	uint8_t *chain1 = pki_der(ctx, pki, "signer", &len1);		/* under CA1 */
	uint8_t *chain2 = pki_der(ctx, pki, "rogue-signer", &len2);	/* under CA2 */
	bool v6;
	time_t now = time(NULL);	/* the generated signers are valid from now */

	write_file(key, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(chmod(key, 0600), 0);
	cache = mk_cache(ctx, &opts, now);
	pol_a = with_chain(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, now), chain1, len1);
	pol_b = with_chain(mk_real(ctx, URL_B, "b", 8, 1, 1, 1, now), chain2, len2);
	store_ok(cache, URL_A, pol_a, now);
	store_ok(cache, URL_B, pol_b, now);
	store_ok(cache, URL_C, mk_real(ctx, URL_C, "c", 9, 1, 1, 0, now), now);	/* no chain */
	assert_int_equal(count_files(dir), 3);

	/* no anchors configured: nothing to check */
	assert_int_equal(mud_cache_revalidate(cache, NULL, now, ctx, &dropped, 10), 0);
	assert_null(dropped);
	look(cache, ctx, URL_C, now, MUD_CACHE_HIT, false);

	/* the anchors are CA1 only: B (signed under CA2) goes */
	assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 1);
	assert_non_null(dropped);
	assert_string_equal(dropped[0], URL_B);
	assert_true(talloc_is_parent(dropped, ctx));
	TALLOC_FREE(dropped);
	assert_non_null(strstr(log, "W cached policy " URL_B " dropped: its signer no longer "
			       "chains to a trust anchor (certificate \"CN=mud-signer.example.com,"
			       "O=rlm_mud rogue\" (depth 0): unable to get local issuer "
			       "certificate"));
	assert_null(strstr(log, URL_A));
	look(cache, ctx, URL_A, now, MUD_CACHE_HIT, false);
	assert_false(mud_cache_acl_lookup(cache, ctx, pol_b->rendered->acl_name_v4, &lines, &num,
					  &v6));
	assert_true(mud_cache_acl_lookup(cache, ctx, pol_a->rendered->acl_name_v4, &lines, &num,
					 &v6));
	TALLOC_FREE(lines);
	assert_int_equal(count_files(dir), 2);
	assert_int_not_equal(access(file_of(ctx, dir, URL_B), F_OK), 0);
	/* C has no chain: refetched (the ticker lists it) but served meanwhile */
	assert_int_equal(mud_cache_expired(cache, ctx, now, &urls, 10), 1);
	assert_string_equal(urls[0], URL_C);
	TALLOC_FREE(urls);
	e = look(cache, ctx, URL_C, now, MUD_CACHE_STALE, true);
	assert_null(e->signer_chain);
	look(cache, ctx, URL_C, now, MUD_CACHE_STALE, false);		/* single flight */
	/* a second pass changes nothing more */
	assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 0);
	assert_null(dropped);
	/* refetched and verified: a chain now, served fresh */
	store_ok(cache, URL_C, with_chain(mk_real(ctx, URL_C, "c", 9, 1, 1, 0, now), chain1,
					  len1), now);
	look(cache, ctx, URL_C, now, MUD_CACHE_HIT, false);
	assert_int_equal(mud_cache_expired(cache, ctx, now, &urls, 10), 0);
	TALLOC_FREE(cache);

	/* a restart does not bring B back */
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, now, &bad, &err), MUD_OK);
	assert_int_equal(bad, 0);
	look(cache, ctx, URL_B, now, MUD_CACHE_MISS, true);
	e = look(cache, ctx, URL_A, now, MUD_CACHE_HIT, false);
	assert_memory_equal(e->signer_chain, chain1, len1);
	assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 0);
	look(cache, ctx, URL_A, now, MUD_CACHE_HIT, false);

	/* CA1 removed in turn (CA2 configured): A and C go; the list is cut at max, every one
	 * is dropped all the same */
	assert_int_equal(mud_cache_revalidate(cache, ca2, now, ctx, &dropped, 1), 2);
	assert_non_null(dropped);
	assert_int_equal(talloc_array_length(dropped), 1);
	TALLOC_FREE(dropped);
	look(cache, ctx, URL_A, now, MUD_CACHE_MISS, true);
	look(cache, ctx, URL_C, now, MUD_CACHE_MISS, true);
	assert_int_equal(count_files(dir), 0);
	assert_int_equal(mud_cache_revalidate(cache, ca2, now, NULL, NULL, 0), 0);
	assert_int_equal(mud_cache_revalidate(NULL, ca2, now, ctx, &dropped, 10), 0);
	assert_null(dropped);
	TALLOC_FREE(cache);

	/* shared by a server that still trusts CA2 (Redis): refused here once CA1 is the
	 * anchor; one of CA1 goes in; one without a chain goes in but is refetched */
	{
		mud_cache_t *peer = mk_cache(ctx, &(mud_cache_opts_t){ 0 }, now);
		char *data = NULL;
		size_t len = 0;
		time_t expires = 0;
		bool imported = true;

		cache = mk_cache(ctx, &(mud_cache_opts_t){ .stale_max = 600 }, now);
		store_ok(peer, URL_B, with_chain(mk_real(ctx, URL_B, "b", 8, 1, 1, 1, now),
						 chain2, len2), now);
		store_ok(peer, URL_A, with_chain(mk_real(ctx, URL_A, "a", 7, 1, 1, 1, now),
						 chain1, len1), now);
		store_ok(peer, URL_C, mk_real(ctx, URL_C, "c", 9, 1, 1, 0, now), now);
		mud_error_clear(&err);
		/* before any re-check: nothing to check against */
		assert_int_equal(mud_cache_export(peer, ctx, URL_B, &data, &len, &expires, &err),
				 MUD_OK);
		assert_int_equal(mud_cache_import(cache, data, len, URL_B, false, &imported,
						  &err), MUD_OK);
		assert_true(imported);
		assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 1);
		TALLOC_FREE(dropped);
		assert_int_equal(mud_cache_import(cache, data, len, URL_B, false, &imported,
						  &err), MUD_ERR_SIG_UNTRUSTED);
		assert_false(imported);
		assert_string_equal(err.where, "shared entry");
		assert_non_null(strstr(err.text, "its signer no longer chains to a trust anchor"));
		look(cache, ctx, URL_B, now, MUD_CACHE_MISS, true);
		TALLOC_FREE(data);
		mud_error_clear(&err);
		assert_int_equal(mud_cache_export(peer, ctx, URL_A, &data, &len, &expires, &err),
				 MUD_OK);
		assert_int_equal(mud_cache_import(cache, data, len, URL_A, false, &imported,
						  &err), MUD_OK);
		assert_true(imported);
		look(cache, ctx, URL_A, now, MUD_CACHE_HIT, false);
		TALLOC_FREE(data);
		assert_int_equal(mud_cache_export(peer, ctx, URL_C, &data, &len, &expires, &err),
				 MUD_OK);
		assert_int_equal(mud_cache_import(cache, data, len, URL_C, false, &imported,
						  &err), MUD_OK);
		assert_true(imported);
		look(cache, ctx, URL_C, now, MUD_CACHE_STALE, true);
		TALLOC_FREE(data);
		/* trust NULL again: imports are no longer checked */
		assert_int_equal(mud_cache_revalidate(cache, NULL, now, ctx, &dropped, 10), 0);
		assert_int_equal(mud_cache_export(peer, ctx, URL_B, &data, &len, &expires, &err),
				 MUD_OK);
		assert_int_equal(mud_cache_import(cache, data, len, URL_B, true, &imported, &err),
				 MUD_OK);
		assert_true(imported);
		TALLOC_FREE(data);
		TALLOC_FREE(peer);
		TALLOC_FREE(cache);
	}

	/* checked at the time of the fetch, not now: a policy fetched while its signer was
	 * valid is kept; one fetched outside its signer's validity is dropped */
	cache = mk_cache(ctx, &(mud_cache_opts_t){ .stale_max = 600 }, T0);
	store_ok(cache, URL_D, with_chain(mk_real(ctx, URL_D, "d", 7, 1, 1, 0, T0), chain1, len1),
		 T0);
	assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 1);
	TALLOC_FREE(dropped);
	store_ok(cache, URL_D, with_chain(mk_real(ctx, URL_D, "d", 7, 1, 1, 0, now), chain1,
					  len1), now);
	assert_int_equal(mud_cache_revalidate(cache, ca1, now + 3 * 366 * 86400, ctx, &dropped,
					      10), 0);
	/* a malformed recorded chain does not pass */
	store_ok(cache, URL_A, with_chain(mk_real(ctx, URL_A, "a", 7, 1, 1, 0, now), CHAIN_FAKE,
					  sizeof(CHAIN_FAKE)), now);
	assert_int_equal(mud_cache_revalidate(cache, ca1, now, ctx, &dropped, 10), 1);
	assert_string_equal(dropped[0], URL_A);
	TALLOC_FREE(dropped);
	TALLOC_FREE(cache);

	rm_tree(dir);
	rm_tree(pki);
	talloc_free_children(ctx);
}

/** Shared by the threads of test_revalidate_threads. */
typedef struct {
	mud_cache_t		*cache;
	mud_trust_t const	*ca1;
	mud_trust_t const	*ca2;
	uint8_t const		*chain1;
	size_t			len1;
	uint8_t const		*chain2;
	size_t			len2;
	time_t			now;
	int			id;
	volatile int		*stop;
	unsigned long		ops;
} reval_arg_t;

static void *reval_thread(void *p)
{
	reval_arg_t *a = p;
	TALLOC_CTX *tctx = talloc_new(NULL);
	char const *urls[] = { URL_A, URL_B, URL_C, URL_D };
	unsigned long i = 0;

	while (!*a->stop) {
		char const *url = urls[(i + (unsigned long)a->id) % 4];
		mud_entry_t *e = NULL;
		bool token = false;
		char **dropped = NULL;

		if (a->id == 0) {	/* the reloader: anchors CA1, then CA2, ... */
			(void)mud_cache_revalidate(a->cache, (i & 1) ? a->ca2 : a->ca1, a->now,
						   tctx, &dropped, 4);
			talloc_free(dropped);
		} else {
			mud_policy_t *pol = mk_real(tctx, url, "r", 7, 1, 1, 1, a->now);
			bool one = ((i / 4) + (unsigned long)a->id) & 1;
			mud_error_t err;

			(void)with_chain(pol, one ? a->chain1 : a->chain2, one ? a->len1 : a->len2);
			mud_error_clear(&err);
			(void)mud_cache_lookup(a->cache, tctx, &e, &token, url, a->now);
			(void)mud_cache_store(a->cache, url, pol, a->now, &err);
			talloc_free(pol);
			talloc_free(e);
		}
		i++;
	}
	a->ops = i;
	talloc_free(tctx);
	return NULL;
}

/** Re-checks while other threads look up and store: no race (ASan/helgrind), and once the
 *  last re-check with CA1 has run alone, only policies of CA1 are left. */
static void test_revalidate_threads(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *pki = pki_make(ctx);
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir, .stale_max = 600 };
	mud_trust_t *ca1 = pki_trust(ctx, pki, "signer-ca");
	mud_trust_t *ca2 = pki_trust(ctx, pki, "rogue-ca");
	size_t len1, len2;
	uint8_t *chain1 = pki_der(ctx, pki, "signer", &len1);
	uint8_t *chain2 = pki_der(ctx, pki, "rogue-signer", &len2);
	volatile int stop = 0;
	reval_arg_t args[4];
	pthread_t th[4];
	char const *urls[] = { URL_A, URL_B, URL_C, URL_D };
	time_t now = time(NULL);
	mud_cache_t *cache = mk_cache(ctx, &opts, now);
	int i;

	for (i = 0; i < 4; i++) {
		args[i] = (reval_arg_t){ .cache = cache, .ca1 = ca1, .ca2 = ca2, .chain1 = chain1,
					 .len1 = len1, .chain2 = chain2, .len2 = len2,
					 .now = now, .id = i, .stop = &stop };
		assert_int_equal(pthread_create(&th[i], NULL, reval_thread, &args[i]), 0);
	}
	usleep(500 * 1000);
	stop = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(args[i].ops > 0);
	}

	(void)mud_cache_revalidate(cache, ca1, now, NULL, NULL, 0);
	for (i = 0; i < 4; i++) {
		mud_entry_t *e = NULL;
		bool token = false;

		if (mud_cache_lookup(cache, ctx, &e, &token, urls[i], now) != MUD_CACHE_HIT) {
			continue;
		}
		assert_int_equal(e->signer_chain_len, len1);
		assert_memory_equal(e->signer_chain, chain1, len1);
		talloc_free(e);
	}
	talloc_free(cache);
	rm_tree(dir);
	rm_tree(pki);
	talloc_free_children(ctx);
}

/*
 *	Kept MUD files (mud_cache_source(): a recompile without the network)
 */
static char const SRC_FILE[] = "{\"ietf-mud:mud\": {}}\n\x01 binary\0tail";
static uint8_t const SRC_SIG[] = { 0x30, 0x82, 0x00, 0x0a, 0x00, 0x0a, 0xff, 0x00 };

/** pol with the MUD file (and signature, NULL: none) it was made from, as the pipeline sets
 *  them; file_sha256 is that of the file. */
static mud_policy_t *with_src(mud_policy_t *pol, void const *file, size_t file_len,
			      void const *sig, size_t sig_len)
{
	pol->file_bytes = talloc_memdup(pol, file, file_len);
	assert_non_null(pol->file_bytes);
	pol->file_len = file_len;
	if (sig) {
		pol->sig_bytes = talloc_memdup(pol, sig, sig_len);
		assert_non_null(pol->sig_bytes);
		pol->sig_len = sig_len;
	}
	mud_sha256_hex(pol->file_sha256, file, file_len);
	return pol;
}

static char *src_of(TALLOC_CTX *ctx, char const *dir, char const *url)
{
	return talloc_asprintf(ctx, "%s.src", file_of(ctx, dir, url));
}

static bool exists(char const *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/** mud_cache_source() fails with MUD_ERR_IO, text starting with want; a kept file that is
 *  there but unusable ("kept MUD file ...") is reported as refused, nothing to use is not. */
static void source_fails(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, time_t now,
			 char const *want)
{
	mud_source_t *src = (mud_source_t *)(uintptr_t)1;
	mud_error_t err;
	bool refused = (strncmp(want, "kept MUD file", 13) != 0);	/* the opposite */

	mud_error_clear(&err);
	assert_int_equal(mud_cache_source(cache, ctx, url, now, &src, &refused, &err),
			 MUD_ERR_IO);
	assert_null(src);
	if (refused != (strncmp(want, "kept MUD file", 13) == 0)) {
		fail_msg("refused %d for \"%s\"", (int)refused, err.text);
	}
	if (strncmp(err.text, want, strlen(want)) != 0) {
		fail_msg("error \"%s\" (at %s), not \"%s...\"", err.text, err.where, want);
	}
}

/** mud_cache_source() succeeds; the copy under ctx. */
static mud_source_t *source_ok(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, time_t now)
{
	mud_source_t *src = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_cache_source(cache, ctx, url, now, &src, NULL, &err) != MUD_OK) {
		fail_msg("mud_cache_source: %s (at %s)", err.text, err.where);
	}
	assert_non_null(src);
	return src;
}

static void src_is(mud_source_t const *src, void const *file, size_t file_len, void const *sig,
		   size_t sig_len, time_t fetched, time_t valid_until)
{
	assert_int_equal(src->file_len, file_len);
	assert_memory_equal(src->file, file, file_len);
	assert_int_equal(src->file[file_len], '\0');
	if (sig) {
		assert_non_null(src->sig);
		assert_int_equal(src->sig_len, sig_len);
		assert_memory_equal(src->sig, sig, sig_len);
	} else {
		assert_null(src->sig);
		assert_int_equal(src->sig_len, 0);
	}
	assert_int_equal(src->fetched, fetched);
	assert_int_equal(src->valid_until, valid_until);
}

static void test_source_roundtrip(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir, .stale_max = 86400 };
	mud_cache_opts_t nodir = { 0 };
	mud_cache_t *cache;
	mud_policy_t *pol;
	mud_source_t *src;
	mud_error_t err;
	size_t load_errors = 99;
	struct stat st1;
	struct stat st2;
	char *text;
	char *hdr;
	size_t len = 0;

	/* no directory: nothing kept */
	cache = mk_cache(ctx, &nodir, T0);
	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 2, 1, 1, T0), SRC_FILE,
					sizeof(SRC_FILE), SRC_SIG, sizeof(SRC_SIG)), T0);
	source_fails(cache, ctx, URL_A, T0, "no cache_dir");
	TALLOC_FREE(cache);

	/* stored with a directory: the .src beside the entry, the same bytes back; the file's
	 * validity (2 h) counts from its fetch (T0 - 100) */
	cache = mk_cache(ctx, &opts, T0);
	pol = with_src(mk_real(ctx, URL_A, "a", 0, 2, 1, 1, T0 - 100), SRC_FILE, sizeof(SRC_FILE),
		       SRC_SIG, sizeof(SRC_SIG));
	store_ok(cache, URL_A, pol, T0);
	assert_int_equal(count_files(dir), 2);
	assert_true(exists(src_of(ctx, dir, URL_A)));
	text = test_read_file(ctx, src_of(ctx, dir, URL_A), &len);
	hdr = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\nfetched: 1699999900\n"
			      "file-len: %zu\nsig-len: %zu\n\n", sizeof(SRC_FILE), sizeof(SRC_SIG));
	assert_int_equal(len, strlen(hdr) + sizeof(SRC_FILE) + sizeof(SRC_SIG));
	assert_memory_equal(text, hdr, strlen(hdr));
	assert_memory_equal(text + strlen(hdr), SRC_FILE, sizeof(SRC_FILE));
	assert_memory_equal(text + strlen(hdr) + sizeof(SRC_FILE), SRC_SIG, sizeof(SRC_SIG));
	src = source_ok(cache, ctx, URL_A, T0);
	src_is(src, SRC_FILE, sizeof(SRC_FILE), SRC_SIG, sizeof(SRC_SIG), T0 - 100,
	       T0 - 100 + 7200);
	TALLOC_FREE(src);
	source_ok(cache, ctx, URL_A, T0 - 100 + 7199);
	source_fails(cache, ctx, URL_A, T0 - 100 + 7200, "the kept MUD file is past its "
		     "cache-validity");
	source_fails(cache, ctx, URL_B, T0, "no good cached policy");

	/* a recompile is stored from the kept file: the .src is not written again (same inode;
	 * removed, it is not recreated) */
	assert_int_equal(lstat(src_of(ctx, dir, URL_A), &st1), 0);
	pol->recompiled = true;
	store_ok(cache, URL_A, pol, T0 + 10);
	assert_int_equal(lstat(src_of(ctx, dir, URL_A), &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(unlink(src_of(ctx, dir, URL_A)), 0);
	store_ok(cache, URL_A, pol, T0 + 20);
	assert_false(exists(src_of(ctx, dir, URL_A)));
	assert_true(exists(file_of(ctx, dir, URL_A)));
	source_fails(cache, ctx, URL_A, T0 + 20, "no MUD file is kept for this policy");
	/* a fetched one is written again (a new file) */
	pol->recompiled = false;
	store_ok(cache, URL_A, pol, T0 + 30);
	assert_int_equal(lstat(src_of(ctx, dir, URL_A), &st2), 0);
	src_is(source_ok(cache, ctx, URL_A, T0 + 30), SRC_FILE, sizeof(SRC_FILE), SRC_SIG,
	       sizeof(SRC_SIG), T0 - 100, T0 - 100 + 7200);

	/* no signature: sig NULL; file validity 0 h -> 48 h */
	store_ok(cache, URL_B, with_src(mk_real(ctx, URL_B, "b", 0, 0, 1, 0, T0), "{}", 2, NULL, 0),
		 T0);
	src_is(source_ok(cache, ctx, URL_B, T0), "{}", 2, NULL, 0, T0, T0 + 48 * 3600);

	/* a restart keeps them */
	TALLOC_FREE(cache);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err), MUD_OK);
	assert_int_equal(load_errors, 0);
	assert_int_equal(count_files(dir), 4);
	src_is(source_ok(cache, ctx, URL_A, T0 + 40), SRC_FILE, sizeof(SRC_FILE), SRC_SIG,
	       sizeof(SRC_SIG), T0 - 100, T0 - 100 + 7200);
	src_is(source_ok(cache, ctx, URL_B, T0 + 40), "{}", 2, NULL, 0, T0, T0 + 48 * 3600);
	TALLOC_FREE(cache);

	/* the cache's ceiling bounds valid_until */
	opts.max_validity = 600;
	cache = mk_cache(ctx, &opts, T0);
	src_is(source_ok(cache, ctx, URL_B, T0 + 40), "{}", 2, NULL, 0, T0, T0 + 600);
	source_fails(cache, ctx, URL_B, T0 + 600, "the kept MUD file is past");

	/* a store without the bytes (an older file's .src must not stay), then argument errors */
	store_ok(cache, URL_B, mk_real(ctx, URL_B, "b", 0, 0, 1, 0, T0), T0 + 50);
	assert_false(exists(src_of(ctx, dir, URL_B)));
	mud_error_clear(&err);
	assert_int_equal(mud_cache_source(cache, ctx, NULL, T0, &src, NULL, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_cache_source(cache, ctx, URL_A, T0, NULL, NULL, &err), MUD_ERR_ARG);
	assert_int_equal(mud_cache_source(NULL, ctx, URL_A, T0, &src, NULL, NULL), MUD_ERR_ARG);

	talloc_free(cache);
	rm_tree(dir);
	talloc_free_children(ctx);
}

/** The .src goes with its entry: flush, flush_all, forget, eviction, failure past stale_max,
 *  revalidation drop is covered by the same path (persist_sync()); too large: not kept. */
static void test_source_removed(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir, .max_entries = 3, .stale_max = 100 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *big;
	uint8_t *huge;

	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), "a", 1, NULL, 0),
		 T0);
	store_ok(cache, URL_B, with_src(mk_real(ctx, URL_B, "b", 0, 1, 1, 0, T0), "b", 1, "s", 1),
		 T0);
	store_ok(cache, URL_C, with_src(mk_real(ctx, URL_C, "c", 0, 1, 1, 0, T0), "c", 1, NULL, 0),
		 T0);
	assert_int_equal(count_files(dir), 6);

	assert_true(mud_cache_flush(cache, URL_A));
	assert_false(exists(src_of(ctx, dir, URL_A)));
	assert_false(exists(file_of(ctx, dir, URL_A)));
	mud_cache_forget(cache, URL_B);
	assert_false(exists(src_of(ctx, dir, URL_B)));
	assert_int_equal(count_files(dir), 2);

	/* eviction (max 3 URLs): A, B, D stored after C push C out */
	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), "a", 1, NULL, 0),
		 T0 + 1);
	store_ok(cache, URL_B, with_src(mk_real(ctx, URL_B, "b", 0, 1, 1, 0, T0), "b", 1, NULL, 0),
		 T0 + 2);
	store_ok(cache, URL_D, with_src(mk_real(ctx, URL_D, "d", 0, 1, 1, 0, T0), "d", 1, NULL, 0),
		 T0 + 3);
	assert_false(exists(src_of(ctx, dir, URL_C)));
	assert_false(exists(file_of(ctx, dir, URL_C)));
	assert_int_equal(count_files(dir), 6);

	/* a failure past stale_max drops the entry and its file */
	look(cache, ctx, URL_D, T0 + 3600 + 100, MUD_CACHE_MISS, true);
	assert_true(exists(src_of(ctx, dir, URL_D)));
	mud_cache_fail(cache, URL_D, MUD_ERR_FETCH, URL_D, "refused", T0 + 3600 + 100);
	assert_false(exists(src_of(ctx, dir, URL_D)));
	assert_false(exists(file_of(ctx, dir, URL_D)));

	/* too large (file + signature over MUD_SOURCE_MAX): not kept, an older one removed */
	huge = talloc_zero_array(ctx, uint8_t, MUD_SOURCE_MAX);
	assert_non_null(huge);
	big = with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), huge, MUD_SOURCE_MAX, "s", 1);
	assert_true(exists(src_of(ctx, dir, URL_A)));
	store_ok(cache, URL_A, big, T0 + 4);
	assert_false(exists(src_of(ctx, dir, URL_A)));
	assert_true(exists(file_of(ctx, dir, URL_A)));
	source_fails(cache, ctx, URL_A, T0 + 4, "no MUD file is kept for this policy");
	/* exactly MUD_SOURCE_MAX: kept */
	TALLOC_FREE(big->sig_bytes);
	big->sig_len = 0;
	store_ok(cache, URL_A, big, T0 + 5);
	assert_int_equal(source_ok(cache, ctx, URL_A, T0 + 5)->file_len, MUD_SOURCE_MAX);

	assert_true(mud_cache_flush_all(cache) >= 2);
	assert_int_equal(count_files(dir), 0);

	talloc_free(cache);
	rm_tree(dir);
	talloc_free_children(ctx);
}

/** Kept files that are not what the server wrote are refused, each with its reason. */
static void test_source_hostile(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	mud_cache_opts_t opts = { .dir = dir };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	char *path = src_of(ctx, dir, URL_A);
	char *other = talloc_asprintf(ctx, "%s/elsewhere", dir);
	mud_error_t err;
	mud_source_t *src = NULL;
	char *good;
	char *bad;
	size_t len = 0;
	size_t hdr;

	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), SRC_FILE,
					sizeof(SRC_FILE), SRC_SIG, sizeof(SRC_SIG)), T0);
	good = test_read_file(ctx, path, &len);
	hdr = len - sizeof(SRC_FILE) - sizeof(SRC_SIG);
	source_ok(cache, ctx, URL_A, T0);

	/* one file byte altered; the signature's may be (the caller verifies it) */
	bad = talloc_memdup(ctx, good, len);
	bad[hdr + 3] ^= 0x20;
	write_file(path, bad, len);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: SHA-256 of the file is not");
	mud_error_clear(&err);
	assert_int_equal(mud_cache_source(cache, ctx, URL_A, T0, &src, NULL, &err), MUD_ERR_IO);
	assert_string_equal(err.where, path);

	/* truncated, or a byte more */
	write_file(path, good, len - 1);
	source_fails(cache, ctx, URL_A, T0, talloc_asprintf(ctx, "kept MUD file refused: %zu bytes "
							"after the header, not file-len + "
							"sig-len = %zu", len - 1 - hdr,
							len - hdr));
	bad = talloc_realloc(ctx, bad, char, len + 1);
	memcpy(bad, good, len);
	bad[len] = 'x';
	write_file(path, bad, len + 1);
	source_fails(cache, ctx, URL_A, T0, talloc_asprintf(ctx, "kept MUD file refused: %zu bytes "
							"after", len + 1 - hdr));
	write_file(path, good, 30);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: malformed header");

	/* wrong header: magic, url, fetched, lengths */
	write_file(path, "rlm_mud-source 2\n", 17);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: not a kept MUD file");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_B "\nfetched: 1700000000\n"
			      "file-len: 2\nsig-len: 0\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: kept for another url");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\nfetched: 1700000001\n"
			      "file-len: 2\nsig-len: 0\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: fetched at 1700000001");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\nfetched: 1700000000\n"
			      "file-len: +2\nsig-len: 0\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0,
		     "kept MUD file refused: malformed header: bad file-len");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\nfetched: 1700000000\n"
			      "file-len: 2\nsig-len: 8388607\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: malformed header: bad sig-len");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\nfetched: 1700000000\n"
			      "file-len: 2\nsig-len: 0\nextra: 1\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: malformed header: no empty");
	bad = talloc_asprintf(ctx, "rlm_mud-source 1\nurl: " URL_A "\x01\nfetched: 1700000000\n"
			      "file-len: 2\nsig-len: 0\n\n{}");
	write_file(path, bad, strlen(bad));
	source_fails(cache, ctx, URL_A, T0, "kept MUD file refused: control byte 0x01");

	/* a symbolic link, a hard link, another owner, a FIFO, too large */
	write_file(other, good, len);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(other, path), 0);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file not readable: a symbolic link");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(link(other, path), 0);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file not readable: has 2 hard links");
	assert_int_equal(unlink(other), 0);
	source_ok(cache, ctx, URL_A, T0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		source_fails(cache, ctx, URL_A, T0, "kept MUD file not readable: owned by uid "
			     "65534");
	}
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file not readable: a FIFO");
	assert_int_equal(unlink(path), 0);
	write_file(path, "", 0);
	assert_int_equal(truncate(path, MUD_SOURCE_MAX + 2 * 1024 + 256 + 1), 0);
	source_fails(cache, ctx, URL_A, T0, "kept MUD file not readable: 8390913 bytes, more");

	/* a new store writes a good one again */
	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), SRC_FILE,
					sizeof(SRC_FILE), NULL, 0), T0 + 1);
	src_is(source_ok(cache, ctx, URL_A, T0 + 1), SRC_FILE, sizeof(SRC_FILE), NULL, 0, T0,
	       T0 + 3600);

	talloc_free(cache);
	rm_tree(dir);
	talloc_free_children(ctx);
}

/** At start-up .src files are not entries (neither loaded nor counted nor logged); an orphan
 *  one (no entry file) and a temporary one are removed; mud_cache_dir_read() lists entries. */
static void test_source_load(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *dir = mk_tmpdir(ctx);
	char *log = talloc_strdup(ctx, "");
	mud_cache_opts_t opts = { .dir = dir, .log = log_capture, .log_uctx = &log };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_cache_file_t *files = NULL;
	char *tmpsrc;
	char *bad_src;
	size_t load_errors = 99;
	size_t num = 0;
	mud_error_t err;
	char hash[65];

	store_ok(cache, URL_A, with_src(mk_real(ctx, URL_A, "a", 0, 1, 1, 0, T0), "a", 1, NULL, 0),
		 T0);
	store_ok(cache, URL_B, with_src(mk_real(ctx, URL_B, "b", 0, 1, 1, 0, T0), "b", 1, NULL, 0),
		 T0);
	TALLOC_FREE(cache);

	/* an orphan (its entry removed by hand), one beside a bad entry, a temporary one,
	 * names that only look like ours */
	assert_int_equal(unlink(file_of(ctx, dir, URL_B)), 0);
	write_file(file_of(ctx, dir, URL_C), "junk", 4);
	write_file(src_of(ctx, dir, URL_C), "junk", 4);
	mud_sha256_hex(hash, URL_A, strlen(URL_A));
	tmpsrc = talloc_asprintf(ctx, "%s/tmp.%s.src.AbC123", dir, hash);
	write_file(tmpsrc, "x", 1);
	bad_src = talloc_asprintf(ctx, "%s/%.63s.src", dir, hash);
	write_file(bad_src, "x", 1);

	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err), MUD_OK);
	assert_int_equal(load_errors, 1);		/* the bad entry, not its .src */
	assert_non_null(strstr(log, file_of(ctx, dir, URL_C)));
	assert_null(strstr(log, ".src"));
	assert_false(exists(src_of(ctx, dir, URL_B)));	/* orphan */
	assert_false(exists(tmpsrc));
	assert_true(exists(src_of(ctx, dir, URL_A)));
	assert_true(exists(src_of(ctx, dir, URL_C)));	/* beside its (bad) entry file */
	assert_true(exists(bad_src));			/* not ours: left alone */
	source_ok(cache, ctx, URL_A, T0);
	source_fails(cache, ctx, URL_B, T0, "no good cached policy");
	TALLOC_FREE(cache);

	/* mudctl cache list: the entries only */
	assert_int_equal(mud_cache_dir_read(ctx, &files, &num, dir, NULL, 0, &err), MUD_OK);
	assert_int_equal(num, 2);
	assert_string_equal(files[0].entry->url, URL_A);
	assert_int_equal(files[0].verdict, MUD_CFILE_OK);
	assert_null(files[1].entry);
	TALLOC_FREE(files);

	rm_tree(dir);
	talloc_free_children(ctx);
}

/** The DNS-TTL bound counts from the store (when the answers were taken), the file's
 *  validity from its fetch (a recompiled policy keeps the time of its file's fetch). */
static void test_expiry_dns_from_now(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_opts_t opts = { .dns_ttl_min = 10, .dns_ttl_max = 3600 };
	mud_cache_t *cache = mk_cache(ctx, &opts, T0);
	mud_policy_t *pol;
	mud_entry_t *e;

	/* file 2 h from T0 - 5000 (T0 + 2200), answers 600 s from T0: T0 + 600 */
	pol = mk_real(ctx, URL_A, "a", 0, 2, 1, 0, T0 - 5000);
	pol->rules->dns_ttl = 600;
	store_ok(cache, URL_A, pol, T0);
	e = look(cache, ctx, URL_A, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->fetched, T0 - 5000);
	assert_int_equal(e->expires, T0 + 600);

	/* file 2 h from T0 - 7000 (T0 + 200) before the answers' T0 + 600 */
	pol = mk_real(ctx, URL_B, "b", 0, 2, 1, 0, T0 - 7000);
	pol->rules->dns_ttl = 600;
	store_ok(cache, URL_B, pol, T0);
	e = look(cache, ctx, URL_B, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->expires, T0 + 200);

	/* a fresh fetch: fetched = now, the TTL clamped to dns_ttl_min */
	pol = mk_real(ctx, URL_C, "c", 0, 2, 1, 0, T0);
	pol->rules->dns_ttl = 1;
	store_ok(cache, URL_C, pol, T0);
	e = look(cache, ctx, URL_C, T0, MUD_CACHE_HIT, false);
	assert_int_equal(e->expires, T0 + 10);

	talloc_free(cache);
	talloc_free_children(ctx);
}

#define TEST(f)	cmocka_unit_test_setup_teardown(f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_create_errors),
		TEST(test_miss_store_hit),
		TEST(test_policy_hash),
		TEST(test_expiry_ceiling),
		TEST(test_stale_boundary),
		TEST(test_expired_list),
		TEST(test_fail_keeps_stale),
		TEST(test_fail_negative_ttl),
		TEST(test_single_flight),
		TEST(test_store_errors),
		TEST(test_acl_lookup),
		TEST(test_acl_conflict),
		TEST(test_lru_eviction),
		TEST(test_many_entries),
		TEST(test_persist_roundtrip),
		TEST(test_persist_replace_and_capacity),
		TEST(test_persist_corrupt),
		TEST(test_persist_hostile),
		TEST(test_persist_dir_checks),
		TEST(test_persist_hmac),
		TEST(test_persist_unwritable),
		TEST(test_persist_too_large),
		TEST(test_persist_mutations),
		TEST(test_threads),
		TEST(test_operator_view),
		TEST(test_dir_read),
		TEST(test_signer_entry),
		TEST(test_compile_tag),
		TEST(test_persist_signer_tag),
		TEST(test_persist_old_and_bad_signer),
		TEST(test_export_signer_tag),
		TEST(test_import_policy_hash),
		TEST(test_persist_chain),
		TEST(test_revalidate),
		TEST(test_revalidate_threads),
		TEST(test_source_roundtrip),
		TEST(test_source_removed),
		TEST(test_source_hostile),
		TEST(test_source_load),
		TEST(test_expiry_dns_from_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
