/*
 * bench_mud.c - prints throughput, latency and memory numbers of the library's
 * hot parts. Not a test: it asserts nothing about speed (make bench).
 *
 *   parse+validate    MUD files/s and MiB/s over the given files
 *   compile+render    rule sets/s (cisco-dacl) with a static-DNS context
 *   cache warm path   lookups/s and ns/lookup with 1..N threads (no I/O)
 *   dACL lookup       name lookups/s
 *   memory            talloc bytes per parsed file, per rule set, per cache entry
 *
 * usage: bench_mud [-t SECONDS] [-j THREADS] FILE.json...
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mud.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
	char		*name;
	char		*data;
	size_t		len;
	mud_file_t	*file;
} input_t;

static int load(TALLOC_CTX *ctx, char const *path, input_t *in)
{
	FILE *fp = fopen(path, "rb");
	long n;

	if (!fp) return -1;
	if (fseek(fp, 0, SEEK_END) != 0) {
		fclose(fp);
		return -1;
	}
	n = ftell(fp);
	if (n < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return -1;
	}
	in->data = talloc_array(ctx, char, (size_t)n + 1);
	if (!in->data || fread(in->data, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	in->data[n] = '\0';
	in->len = (size_t)n;
	in->name = talloc_strdup(ctx, path);
	return 0;
}

/*
 *	Cache warm path: threads look up URLs already stored.
 */
typedef struct {
	mud_cache_t	*cache;
	char		**urls;
	size_t		num_urls;
	double		until;
	unsigned long	lookups;
	unsigned long	misses;
} worker_t;

static void *cache_worker(void *arg)
{
	worker_t *w = arg;
	TALLOC_CTX *ctx = talloc_new(NULL);
	size_t i = 0;

	while (now_s() < w->until) {
		int k;

		for (k = 0; k < 256; k++) {
			mud_entry_t *e = NULL;
			bool token = false;
			TALLOC_CTX *req = talloc_new(ctx);

			if (mud_cache_lookup(w->cache, req, &e, &token, w->urls[i % w->num_urls],
					     1000) != MUD_CACHE_HIT) {
				w->misses++;
			}
			talloc_free(req);
			w->lookups++;
			i++;
		}
	}
	talloc_free(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	input_t *in;
	size_t n = 0;
	size_t i;
	double secs = 1.0;
	int threads = 4;
	int c;
	double t0, t1;
	unsigned long iters;
	size_t bytes;
	mud_context_t *site;
	mud_error_t err;

	while ((c = getopt(argc, argv, "t:j:")) != -1) {
		switch (c) {
		case 't': secs = strtod(optarg, NULL); break;
		case 'j': threads = (int)strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_mud [-t SECONDS] [-j THREADS] "
				"FILE.json...\n");
			return 2;
		}
	}
	if (optind >= argc || secs <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench_mud [-t SECONDS] [-j THREADS] FILE.json...\n");
		return 2;
	}
	in = talloc_zero_array(ctx, input_t, (size_t)(argc - optind));
	for (i = 0; i < (size_t)(argc - optind); i++) {
		mud_error_clear(&err);
		if (load(ctx, argv[optind + (int)i], &in[n]) != 0) continue;
		if (mud_file_parse(ctx, &in[n].file, in[n].data, in[n].len, NULL,
				   MUD_PARSE_LENIENT, &err) != MUD_OK) {
			continue;	/* benchmark valid files only */
		}
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "bench_mud: no valid MUD file given\n");
		return 2;
	}
	bytes = 0;
	for (i = 0; i < n; i++) bytes += in[i].len;
	printf("inputs: %zu MUD files, %zu bytes\n", n, bytes);

	/* 1. parse + validate */
	iters = 0;
	t0 = now_s();
	do {
		for (i = 0; i < n; i++) {
			TALLOC_CTX *t = talloc_new(ctx);
			mud_file_t *f;

			mud_error_clear(&err);
			mud_file_parse(t, &f, in[i].data, in[i].len, NULL, MUD_PARSE_LENIENT, &err);
			talloc_free(t);
		}
		iters++;
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("parse+validate: %.0f files/s, %.1f MiB/s, %.1f us/file\n",
	       (double)(iters * n) / (t1 - t0), (double)(iters * bytes) / (t1 - t0) / 1048576.0,
	       (t1 - t0) * 1e6 / (double)(iters * n));

	/* 2. compile + render with a context that maps names statically */
	site = mud_context_alloc(ctx);
	site->dns_resolve = false;	/* no network: unknown names yield no rules */
	iters = 0;
	t0 = now_s();
	do {
		for (i = 0; i < n; i++) {
			TALLOC_CTX *t = talloc_new(ctx);
			mud_ruleset_t *rs;
			mud_rendered_t *r;

			mud_error_clear(&err);
			if (mud_ruleset_compile(t, &rs, in[i].file, site, NULL, NULL,
						&err) == MUD_OK) {
				mud_ruleset_render(t, &r, rs, MUD_FMT_CISCO_DACL, &err);
			}
			talloc_free(t);
		}
		iters++;
		t1 = now_s();
	} while (t1 - t0 < secs);
	printf("compile+render (cisco-dacl): %.0f rule sets/s, %.1f us each\n",
	       (double)(iters * n) / (t1 - t0), (t1 - t0) * 1e6 / (double)(iters * n));

	/* 3. memory of results */
	{
		size_t fb = 0, rb = 0;

		for (i = 0; i < n; i++) {
			TALLOC_CTX *t = talloc_new(ctx);
			mud_file_t *f;
			mud_ruleset_t *rs;

			mud_file_parse(t, &f, in[i].data, in[i].len, NULL, MUD_PARSE_LENIENT, &err);
			fb += talloc_total_size(f);
			if (mud_ruleset_compile(t, &rs, f, site, NULL, NULL, &err) == MUD_OK) {
				rb += talloc_total_size(rs);
			}
			talloc_free(t);
		}
		printf("memory: %.0f bytes per parsed file, "
		       "%.0f bytes per rule set (talloc, average)\n",
		       (double)fb / (double)n, (double)rb / (double)n);
	}

	/* 4. cache warm path, 1 and N threads */
	{
		mud_cache_t *cache;
		mud_cache_opts_t copts;
		size_t num_urls = 1000;
		char **urls = talloc_array(ctx, char *, num_urls);
		size_t before;
		size_t blocks_before;
		size_t stored = 0;
		int nt;

		memset(&copts, 0, sizeof(copts));
		copts.max_entries = num_urls;
		if (mud_cache_create(ctx, &cache, &copts, 0, NULL, &err) != MUD_OK) {
			fprintf(stderr, "cache: %s\n", err.text);
			return 1;
		}
		before = talloc_total_size(cache);
		blocks_before = talloc_total_blocks(cache);
		for (i = 0; i < num_urls; i++) {
			TALLOC_CTX *t = talloc_new(ctx);
			mud_policy_t *pol;
			mud_policy_opts_t popts;

			memset(&popts, 0, sizeof(popts));
			popts.site = site;
			popts.format = MUD_FMT_CISCO_DACL;
			urls[i] = talloc_asprintf(urls,
						  "https://bench%zu.example.com/device.json", i);
			mud_error_clear(&err);
			if (mud_policy_from_bytes(t, &pol, NULL, (uint8_t const *)in[i % n].data,
						  in[i % n].len, NULL, 0, &popts, &err) == MUD_OK &&
			    mud_cache_store(cache, urls[i], pol, 1000, &err) == MUD_OK) {
				urls[stored++] = urls[i];
			}
			talloc_free(t);
		}
		if (stored == 0) {
			fprintf(stderr, "cache: no policy could be stored\n");
			return 1;
		}
		num_urls = stored;
		printf("memory: %.0f payload bytes in %.1f talloc chunks per cache entry "
		       "(%zu entries; each chunk adds a ~100-byte talloc header)\n",
		       (double)(talloc_total_size(cache) - before) / (double)num_urls,
		       (double)(talloc_total_blocks(cache) - blocks_before) / (double)num_urls,
		       num_urls);

		for (nt = 1; nt <= threads;
		     nt = (nt == 1 && threads > 1) ? threads : nt + threads) {
			pthread_t tid[64];
			worker_t w[64];
			unsigned long total = 0, misses = 0;
			int k;

			t0 = now_s();
			for (k = 0; k < nt; k++) {
				w[k].cache = cache;
				w[k].urls = urls;
				w[k].num_urls = num_urls;
				w[k].until = t0 + secs;
				w[k].lookups = 0;
				w[k].misses = 0;
				pthread_create(&tid[k], NULL, cache_worker, &w[k]);
			}
			for (k = 0; k < nt; k++) {
				pthread_join(tid[k], NULL);
				total += w[k].lookups;
				misses += w[k].misses;
			}
			t1 = now_s();
			printf("cache warm lookup (%d thread%s): %.0f lookups/s, "
			       "%.0f ns/lookup/thread, %lu misses\n",
			       nt, nt == 1 ? "" : "s", (double)total / (t1 - t0),
			       (t1 - t0) * 1e9 * nt / (double)total, misses);
		}

		/* dACL name lookups */
		{
			mud_entry_t *e = NULL;
			bool token;
			char *name;

			mud_cache_lookup(cache, ctx, &e, &token, urls[0], 1000);
			name = (e && e->acl_name_v4) ? talloc_strdup(ctx, e->acl_name_v4) : NULL;
			if (name) {
				iters = 0;
				t0 = now_s();
				do {
					int k;

					for (k = 0; k < 1000; k++) {
						TALLOC_CTX *t = talloc_new(ctx);
						char **lines;
						size_t num;
						bool v6;

						mud_cache_acl_lookup(cache, t, name, &lines, &num,
								     &v6);
						talloc_free(t);
					}
					iters += 1000;
					t1 = now_s();
				} while (t1 - t0 < secs);
				printf("dACL name lookup: %.0f lookups/s\n",
				       (double)iters / (t1 - t0));
			}
		}
	}
	talloc_free(ctx);
	return 0;
}
