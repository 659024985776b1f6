/*
 * fuzz_cache.c - fuzz target for the two text formats the policy cache reads from outside
 * the process (mud_cache.c): a serialised entry (a persisted file, or an entry another server
 * shares through Redis: mud_cache_import()) and a kept MUD file, <sha256 of url>.src
 * (mud_cache_source()).
 *
 * The first byte picks the mode and its options, the rest is the text:
 *   bit 0 clear: import mode. The text goes to mud_cache_import() of a memory cache.
 *	bit 1: nas-filter-rule output (else cisco-dacl)
 *	bit 2: want_url = URL_A (else any URL)
 *	bit 3: release_token
 *	bit 4: the cache holds URL_A's policy, fetched at T0, before the import
 *	bit 5: the cache has a directory (emptied before each input) and an HMAC key; an
 *	       entry that goes in is also loaded back from the directory by a new cache
 *   bit 0 set: source mode. The text is written as the kept file of URL_A, whose policy the
 *	cache (with a directory) holds, made from SRC_FILE; then mud_cache_source(URL_A).
 * Seeds: "@" (0x40) import, cisco; "B" import, nas-filter-rule; "A" source.
 *
 * Besides the sanitizers, the target checks the contracts. Import: err.code == rc, both err
 * strings NUL-terminated; on failure a documented code, imported false, the cache's entries
 * and its talloc blocks unchanged; on success the entry is shown again with lines that pass
 * the renderer's grammar and dACL names that match them, and its export imports into a new
 * cache as the same entry, which exports to the same bytes. Source: on failure *out NULL,
 * MUD_ERR_IO or MUD_ERR_NOMEM, and refused set (a kept file is there and the entry is good:
 * any failure is a refusal); on success the exact file the policy was made from, NUL-
 * terminated, within MUD_SOURCE_MAX. Nothing is left under the talloc root.
 *
 * The source mode writes to one directory per process (mkdtemp under $TMPDIR, mode 0700),
 * created on first use and removed at exit; the cache and its stored policy are made once
 * (a store fsyncs), each input only writes and then removes the .src file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "mud.h"
#include "mud_redis.h"
#include "mud_render_priv.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

/** A broken contract is a bug: crash so the fuzzer (or replay) reports it. */
#define CHECK(_x) do { if (!(_x)) __builtin_trap(); } while (0)

#define T0	((time_t)1700000000)
#define URL_A	"https://lighting.example.com/lightbulb2000.json"

#define F_SOURCE	0x01
#define F_NFR		0x02
#define F_WANT_URL	0x04
#define F_RELEASE	0x08
#define F_PREFILL	0x10
#define F_KEY		0x20

/** The MUD file URL_A's policy is made from in source mode (binary bytes on purpose). */
static char const SRC_FILE[] = "{\"ietf-mud:mud\": {\"mud-url\": \"" URL_A "\"}}\n\x01\x7f\xff";
static uint8_t const SRC_SIG[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };

static char *base_dir;		//!< mkdtemp directory of this process, NULL until used
static char *key_path;		//!< base_dir/key: an HMAC key
static char *cache_dir;		//!< base_dir/cache: the source mode cache's directory
static char *import_dir;	//!< base_dir/import: the import mode cache's directory (bit 5)
static char *src_path;		//!< cache_dir/<sha256 of URL_A>.src
static char src_sha256[65];	//!< SHA-256 of SRC_FILE (the entry's file-sha256)
static mud_cache_t *src_cache;	//!< source mode: holds URL_A's policy made from SRC_FILE
static TALLOC_CTX *src_ctx;

/** Remove the files of dir (and dir itself if rmdir_too). */
static void rm_dir(char const *dir, bool rmdir_too)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];

	if (!d) return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void)unlink(path);
	}
	closedir(d);
	if (rmdir_too) (void)rmdir(dir);
}

static void cleanup(void)
{
	talloc_free(src_ctx);
	src_ctx = NULL;
	src_cache = NULL;
	if (cache_dir) rm_dir(cache_dir, true);
	if (import_dir) rm_dir(import_dir, true);
	if (key_path) (void)unlink(key_path);
	if (base_dir) (void)rmdir(base_dir);
	free(base_dir);
	free(key_path);
	free(cache_dir);
	free(import_dir);
	free(src_path);
	base_dir = key_path = cache_dir = import_dir = src_path = NULL;
}

static char *path_join(char const *a, char const *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	CHECK(p != NULL);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

/** The directory of this process, with a key file; made once. */
static void dir_setup(void)
{
	char const *tmpdir = getenv("TMPDIR");
	static uint8_t const key[32] = "fuzz_cache key: not a secret!!!";
	char *tmpl;
	int fd;

	if (base_dir) return;
	if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
	tmpl = path_join(tmpdir, "fuzz_cache.XXXXXX");
	CHECK(mkdtemp(tmpl) != NULL);
	base_dir = tmpl;
	CHECK(chmod(base_dir, 0700) == 0);
	atexit(cleanup);

	key_path = path_join(base_dir, "key");
	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, key, sizeof(key)) == (ssize_t)sizeof(key));
	CHECK(close(fd) == 0);

	cache_dir = path_join(base_dir, "cache");
	CHECK(mkdir(cache_dir, 0700) == 0);
	import_dir = path_join(base_dir, "import");
	CHECK(mkdir(import_dir, 0700) == 0);
}

/*
 *	Checks shared by both modes
 */
static void check_err(mud_error_t const *err, mud_rcode_t rc)
{
	CHECK(err->code == rc);
	CHECK(memchr(err->where, '\0', sizeof(err->where)) != NULL);
	CHECK(memchr(err->text, '\0', sizeof(err->text)) != NULL);
}

static void check_text(char const *s, size_t max)
{
	size_t i;

	if (!s) return;
	for (i = 0; s[i]; i++) CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
	CHECK(i <= max);
}

/** A good entry as the cache hands it out: bounded, printable, lines of the grammar. */
static void check_entry(mud_entry_t const *e, mud_format_t fmt)
{
	mud_error_t err;
	size_t i;

	CHECK(e->status == MUD_OK);
	CHECK(e->url != NULL);
	mud_error_clear(&err);
	CHECK(mud_url_parse(NULL, NULL, e->url, strlen(e->url), &err) == MUD_OK);
	CHECK(e->vlan >= 0 && e->vlan <= 4094);
	CHECK(e->expires >= e->fetched);
	CHECK(e->num_v4 + e->num_v6 <= MUD_MAX_ATTRS);
	for (i = 0; i < e->num_v4; i++) check_text(e->lines_v4[i], MUD_MAX_ATTR_LEN);
	for (i = 0; i < e->num_v6; i++) check_text(e->lines_v6[i], MUD_MAX_ATTR_LEN);
	check_text(e->mfg_name, SIZE_MAX);
	check_text(e->model_name, SIZE_MAX);
	check_text(e->compile_tag, MUD_COMPILE_TAG_MAX);
	CHECK(e->file_sha256[0] == '\0' || strlen(e->file_sha256) == 64);
	CHECK(e->signer_der_len <= MUD_SIGNER_DER_MAX);
	CHECK(!e->signer_der == !e->signer_der_len);
	CHECK(e->signer_chain_len <= MUD_SIGNER_CHAIN_MAX);
	CHECK(!e->signer_chain == !e->signer_chain_len);
	CHECK(e->policy_hash != 0);
	CHECK(mudp_render_check(fmt, e->lines_v4, e->num_v4, e->lines_v6, e->num_v6, &err) ==
	      MUD_OK);
	if (fmt == MUD_FMT_CISCO_DACL) {
		CHECK(!e->acl_name_v4 == !e->num_v4);
		CHECK(!e->acl_name_v6 == !e->num_v6);
		if (e->acl_name_v4) {
			CHECK(mudp_acl_name_check(e->acl_name_v4, false, e->url, e->lines_v4,
						  e->num_v4, e->lines_v6, e->num_v6, &err) ==
			      MUD_OK);
		}
		if (e->acl_name_v6) {
			CHECK(mudp_acl_name_check(e->acl_name_v6, true, e->url, e->lines_v4,
						  e->num_v4, e->lines_v6, e->num_v6, &err) ==
			      MUD_OK);
		}
	} else {
		CHECK(!e->acl_name_v4 && !e->acl_name_v6);
	}
}

static bool str_same(char const *a, char const *b)
{
	if (!a || !*a) return !b || !*b;
	return b && strcmp(a, b) == 0;
}

static bool lines_same(char * const *a, size_t na, char * const *b, size_t nb)
{
	size_t i;

	if (na != nb) return false;
	for (i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0) return false;
	}
	return true;
}

static bool bytes_same(uint8_t const *a, size_t na, uint8_t const *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static void check_same(mud_entry_t const *a, mud_entry_t const *b)
{
	CHECK(strcmp(a->url, b->url) == 0);
	CHECK(a->vlan == b->vlan);
	CHECK(str_same(a->mfg_name, b->mfg_name));
	CHECK(str_same(a->model_name, b->model_name));
	CHECK(str_same(a->acl_name_v4, b->acl_name_v4));
	CHECK(str_same(a->acl_name_v6, b->acl_name_v6));
	CHECK(lines_same(a->lines_v4, a->num_v4, b->lines_v4, b->num_v4));
	CHECK(lines_same(a->lines_v6, a->num_v6, b->lines_v6, b->num_v6));
	CHECK(a->cache_validity == b->cache_validity);
	CHECK(a->fetched == b->fetched);
	CHECK(a->expires == b->expires);
	CHECK(strcmp(a->file_sha256, b->file_sha256) == 0);
	CHECK(bytes_same(a->signer_der, a->signer_der_len, b->signer_der, b->signer_der_len));
	CHECK(bytes_same(a->signer_chain, a->signer_chain_len, b->signer_chain,
			 b->signer_chain_len));
	CHECK(str_same(a->compile_tag, b->compile_tag));
	CHECK(a->policy_hash == b->policy_hash);
}

/** A policy for url as the pipeline gives it: a few lines of fmt, the names the renderer
 *  gives them, fetched at T0; made from file (may be NULL). */
static mud_policy_t *mk_policy(TALLOC_CTX *ctx, char const *url, mud_format_t fmt,
			       uint8_t const *file, size_t file_len)
{
	mud_policy_t *pol = talloc_zero(ctx, mud_policy_t);
	mud_rendered_t *r;
	mud_error_t err;
	bool cisco = fmt == MUD_FMT_CISCO_DACL;

	CHECK(pol != NULL);
	pol->url = talloc_strdup(pol, url);
	pol->file = talloc_zero(pol, mud_file_t);
	CHECK(pol->file != NULL);
	pol->file->cache_validity = 48;
	pol->file->mfg_name = talloc_strdup(pol->file, "lighting.example.com");
	pol->file->model_name = talloc_strdup(pol->file, "lightbulb2000");
	pol->rules = talloc_zero(pol, mud_ruleset_t);
	CHECK(pol->rules != NULL);
	pol->rules->vlan = 12;
	pol->rules->cache_validity = 48;
	r = pol->rendered = talloc_zero(pol, mud_rendered_t);
	CHECK(r != NULL);
	r->format = fmt;
	r->v4 = talloc_zero_array(r, char *, 3);
	CHECK(r->v4 != NULL);
	r->v4[0] = talloc_strdup(r, cisco ? "ip:inacl#1=permit tcp any host 192.0.2.1 eq 443" :
				 "permit in 6 from assigned to 192.0.2.1 443");
	r->v4[1] = talloc_strdup(r, cisco ? "ip:inacl#2=deny ip any any" :
				 "deny in ip from any to any");
	r->num_v4 = 2;
	if (cisco) {
		r->v6 = talloc_zero_array(r, char *, 2);
		CHECK(r->v6 != NULL);
		r->v6[0] = talloc_strdup(r, "ipv6:inacl#1=deny ipv6 any any");
		r->num_v6 = 1;
		mud_error_clear(&err);
		CHECK(mudp_render_acl_name(r, &r->acl_name_v4, false, "lamp", url, r, &err) ==
		      MUD_OK);
		CHECK(mudp_render_acl_name(r, &r->acl_name_v6, true, "lamp", url, r, &err) ==
		      MUD_OK);
	}
	pol->compile_tag = talloc_strdup(pol, "site-1");
	pol->fetched = T0;
	if (file) {
		pol->file_bytes = talloc_memdup(pol, file, file_len);
		CHECK(pol->file_bytes != NULL);
		pol->file_len = file_len;
		pol->sig_bytes = talloc_memdup(pol, SRC_SIG, sizeof(SRC_SIG));
		CHECK(pol->sig_bytes != NULL);
		pol->sig_len = sizeof(SRC_SIG);
		mud_sha256_hex(pol->file_sha256, file, file_len);
	} else {
		memset(pol->file_sha256, 'a', 64);
		pol->file_sha256[64] = '\0';
	}
	return pol;
}

static mud_cache_t *mk_cache(TALLOC_CTX *ctx, mud_format_t fmt, char const *dir,
			     char const *key)
{
	mud_cache_opts_t opts = { 0 };
	mud_cache_t *cache = NULL;
	size_t load_errors = 0;
	mud_error_t err;

	opts.format = fmt;
	opts.dir = dir;
	opts.key_file = key;
	opts.compile_tag = "site-1";
	mud_error_clear(&err);
	CHECK(mud_cache_create(ctx, &cache, &opts, T0, &load_errors, &err) == MUD_OK);
	CHECK(cache != NULL);
	CHECK(load_errors == 0);
	return cache;
}

static size_t cache_entries(mud_cache_t *cache)
{
	mud_cache_stats_t st;

	mud_cache_stats(cache, &st);
	return st.entries;
}

/*
 *	Import mode
 */

/** The export of url's entry from cache imports into a new cache as the same entry, which
 *  exports to the same bytes. */
static void check_round_trip(TALLOC_CTX *root, mud_cache_t *cache, mud_entry_t const *e,
			     mud_format_t fmt)
{
	TALLOC_CTX *ctx = talloc_new(root);
	mud_cache_t *again;
	mud_cache_info_t *info = NULL;
	mud_entry_t *e2 = NULL;
	char *data = NULL;
	char *data2 = NULL;
	size_t len = 0;
	size_t len2 = 0;
	time_t expires = 0;
	bool imported = false;
	mud_error_t err;
	mud_rcode_t rc;

	CHECK(ctx != NULL);
	mud_error_clear(&err);
	rc = mud_cache_export(cache, ctx, e->url, &data, &len, &expires, &err);
	check_err(&err, rc);
	CHECK(rc == MUD_OK);
	CHECK(data != NULL && len > 0 && strlen(data) == len);
	CHECK(expires == e->expires);

	again = mk_cache(ctx, fmt, NULL, NULL);
	mud_error_clear(&err);
	rc = mud_cache_import(again, data, len, e->url, false, &imported, &err);
	check_err(&err, rc);
	CHECK(rc == MUD_OK && imported);
	CHECK(cache_entries(again) == 1);

	mud_error_clear(&err);
	CHECK(mud_cache_show(again, ctx, &info, &e2, e->url, T0, &err) == MUD_OK);
	CHECK(info != NULL && e2 != NULL);
	check_same(e, e2);

	mud_error_clear(&err);
	CHECK(mud_cache_export(again, ctx, e->url, &data2, &len2, NULL, &err) == MUD_OK);
	CHECK(len2 == len && memcmp(data, data2, len) == 0);
	talloc_free(ctx);
}

static void fuzz_import(TALLOC_CTX *root, unsigned int flags, char const *data, size_t size)
{
	mud_format_t fmt = flags & F_NFR ? MUD_FMT_NAS_FILTER_RULE : MUD_FMT_CISCO_DACL;
	mud_cache_t *cache;
	TALLOC_CTX *tmp;
	mud_cache_info_t *info = NULL;
	mud_entry_t *e = NULL;
	size_t entries;
	size_t blocks;
	bool imported = true;
	mud_error_t err;
	mud_rcode_t rc;

	if (flags & F_KEY) {
		dir_setup();
		rm_dir(import_dir, false);
	}
	cache = mk_cache(root, fmt, flags & F_KEY ? import_dir : NULL,
			 flags & F_KEY ? key_path : NULL);
	if (flags & F_PREFILL) {
		mud_policy_t *pol = mk_policy(root, URL_A, fmt, NULL, 0);

		mud_error_clear(&err);
		CHECK(mud_cache_store(cache, URL_A, pol, T0, &err) == MUD_OK);
		talloc_free(pol);
	}
	entries = cache_entries(cache);
	blocks = talloc_total_blocks(root);

	mud_error_clear(&err);
	rc = mud_cache_import(cache, data, size, flags & F_WANT_URL ? URL_A : NULL,
			      (flags & F_RELEASE) != 0, &imported, &err);
	check_err(&err, rc);
	if (rc != MUD_OK) {
		CHECK(rc == MUD_ERR_SCHEMA || rc == MUD_ERR_TOOBIG || rc == MUD_ERR_MISMATCH ||
		      rc == MUD_ERR_CONFLICT || rc == MUD_ERR_NOMEM);
		CHECK(rc != MUD_ERR_MISMATCH || (flags & F_WANT_URL));
		CHECK(!imported);
		CHECK(cache_entries(cache) == entries);
		CHECK(talloc_total_blocks(root) == blocks);
		talloc_free(cache);
		return;
	}
	if (!imported) {
		/* only an entry fetched as late or later keeps another out */
		CHECK(flags & F_PREFILL);
		CHECK(cache_entries(cache) == entries);
		talloc_free(cache);
		return;
	}
	tmp = talloc_new(root);
	CHECK(tmp != NULL);
	CHECK(cache_entries(cache) == entries || cache_entries(cache) == entries + 1);

	/* the imported entry: the only one, or the one that is not the prefilled policy's */
	{
		mud_cache_info_t *all = NULL;
		size_t num = 0;
		size_t i;

		mud_error_clear(&err);
		CHECK(mud_cache_list(cache, tmp, &all, &num, T0, &err) == MUD_OK);
		CHECK(num == cache_entries(cache));
		CHECK(num == 1 || (num == 2 && (flags & F_PREFILL)));
		for (i = 0; i < num; i++) {
			mud_entry_t *x = NULL;

			mud_error_clear(&err);
			CHECK(mud_cache_show(cache, tmp, &info, &x, all[i].url, T0, &err) ==
			      MUD_OK);
			CHECK(info != NULL && x != NULL);
			check_entry(x, fmt);
			if (num == 1 || strcmp(x->url, URL_A) != 0) e = x;
		}
		CHECK(e != NULL);
		if (flags & F_WANT_URL) CHECK(strcmp(e->url, URL_A) == 0);
		/* it replaced the prefilled policy only if fetched later */
		if ((flags & F_PREFILL) && strcmp(e->url, URL_A) == 0) CHECK(e->fetched > T0);
	}
	check_round_trip(tmp, cache, e, fmt);
	if (flags & F_KEY) {
		/* persisted with the cache's HMAC: a new cache loads the same entry */
		mud_cache_t *again = mk_cache(tmp, fmt, import_dir, key_path);
		mud_entry_t *e2 = NULL;

		CHECK(cache_entries(again) == cache_entries(cache));
		mud_error_clear(&err);
		CHECK(mud_cache_show(again, tmp, &info, &e2, e->url, T0, &err) == MUD_OK);
		CHECK(e2 != NULL);
		check_same(e, e2);
	}
	talloc_free(tmp);
	talloc_free(cache);
}

/*
 *	Source mode
 */
static void src_setup(void)
{
	mud_policy_t *pol;
	mud_error_t err;
	char name[65];

	if (src_cache) return;
	dir_setup();
	src_ctx = talloc_new(NULL);
	CHECK(src_ctx != NULL);
	src_cache = mk_cache(src_ctx, MUD_FMT_CISCO_DACL, cache_dir, key_path);
	pol = mk_policy(src_ctx, URL_A, MUD_FMT_CISCO_DACL, (uint8_t const *)SRC_FILE,
			sizeof(SRC_FILE) - 1);
	mud_error_clear(&err);
	CHECK(mud_cache_store(src_cache, URL_A, pol, T0, &err) == MUD_OK);
	memcpy(src_sha256, pol->file_sha256, sizeof(src_sha256));
	talloc_free(pol);
	mud_sha256_hex(name, URL_A, strlen(URL_A));
	src_path = malloc(strlen(cache_dir) + 70);
	CHECK(src_path != NULL);
	snprintf(src_path, strlen(cache_dir) + 70, "%s/%s.src", cache_dir, name);
	CHECK(access(src_path, F_OK) == 0);	/* the store kept the file */
}

static void fuzz_source(TALLOC_CTX *root, uint8_t const *data, size_t size)
{
	mud_source_t *src = (mud_source_t *)(uintptr_t)1;
	bool refused = false;
	char hex[65];
	mud_error_t err;
	mud_rcode_t rc;
	int fd;
	size_t done = 0;

	src_setup();
	(void)unlink(src_path);
	fd = open(src_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		CHECK(w > 0);
		done += (size_t)w;
	}
	CHECK(close(fd) == 0);

	mud_error_clear(&err);
	rc = mud_cache_source(src_cache, root, URL_A, T0 + 1, &src, &refused, &err);
	(void)unlink(src_path);
	check_err(&err, rc);
	if (rc != MUD_OK) {
		CHECK(rc == MUD_ERR_IO || rc == MUD_ERR_NOMEM);
		CHECK(src == NULL);
		CHECK(refused == (rc == MUD_ERR_IO));
		CHECK(talloc_total_blocks(root) == 1);
		return;
	}
	CHECK(!refused);
	CHECK(src != NULL);
	CHECK(talloc_parent(src) == root);
	CHECK(src->file_len == sizeof(SRC_FILE) - 1);
	CHECK(memcmp(src->file, SRC_FILE, src->file_len) == 0);
	CHECK(src->file[src->file_len] == '\0');
	mud_sha256_hex(hex, src->file, src->file_len);
	CHECK(strcmp(hex, src_sha256) == 0);
	CHECK(src->file_len + src->sig_len <= MUD_SOURCE_MAX);
	CHECK(!src->sig == !src->sig_len);
	CHECK(src->file_len + src->sig_len < size);
	CHECK(src->sig_len == 0 ||
	      memcmp(src->sig, data + size - src->sig_len, src->sig_len) == 0);
	CHECK(src->fetched == T0);
	CHECK(src->valid_until == T0 + 48 * 3600);
	talloc_free(src);
	CHECK(talloc_total_blocks(root) == 1);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	TALLOC_CTX *root;
	unsigned int flags;

	if (size < 1) return 0;
	flags = data[0];
	root = talloc_new(NULL);
	CHECK(root != NULL);
	if (flags & F_SOURCE) {
		fuzz_source(root, data + 1, size - 1);
	} else {
		fuzz_import(root, flags, (char const *)data + 1, size - 1);
	}
	CHECK(talloc_total_blocks(root) == 1);
	talloc_free(root);
	return 0;
}
