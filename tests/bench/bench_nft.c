/*
 * bench_nft.c - time to install and to replace one device's nftables rules (p50/p99) with
 * 1, 100 and 1000 devices present, and the memory of the rule state. Runs in a network
 * namespace of its own (needs root); prints numbers, asserts nothing about speed.
 *
 *   bench_nft [-n 1,100,1000] [-r REPLACES]
 *   bench_nft -i N      install N devices in the current namespace and leave them
 */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>

#include "mud.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(void const *a, void const *b)
{
	double x = *(double const *)a;
	double y = *(double const *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0) return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/** A device policy of a realistic size: the quarantine set plus 8 MUD-like permits. */
static mud_ruleset_t *policy(void *ctx, int variant)
{
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	size_t i;
	size_t base;

	mud_error_clear(&err);
	if (mud_ruleset_quarantine(ctx, &rs, NULL, &err) != MUD_OK) return NULL;
	base = rs->num_rules;
	rs->rules = talloc_realloc(rs, rs->rules, mud_rule_t, base + 8);
	if (!rs->rules) return NULL;
	/* the final denies stay last: the new permits go before them */
	memmove(rs->rules + 8, rs->rules, base * sizeof(rs->rules[0]));
	for (i = 0; i < 8; i++) {
		mud_rule_t *r = &rs->rules[i];

		memset(r, 0, sizeof(*r));
		r->acl_index = r->ace_index = -1;
		r->dir = i % 2 ? MUD_DIR_TO_DEVICE : MUD_DIR_FROM_DEVICE;
		r->family = i < 4 ? 4 : 6;
		r->protocol = 6;
		r->icmp_type = r->icmp_code = -1;
		r->peer.family = r->family;
		r->peer.len = r->family == 4 ? 32 : 128;
		r->peer.addr[0] = r->family == 4 ? 203 : 0x20;
		r->peer.addr[r->family == 4 ? 3 : 15] = (uint8_t)(10 + i / 2 + variant);
		r->peer_port.op = MUD_PORT_EQ;
		r->peer_port.lo = (uint16_t)(443 + variant);
		r->established = r->dir == MUD_DIR_TO_DEVICE;
	}
	rs->num_rules = base + 8;
	return rs;
}

static void mac_of(char out[18], size_t i)
{
	snprintf(out, 18, "02:be:00:%02x:%02x:%02x", (unsigned int)(i >> 16) & 255,
		 (unsigned int)(i >> 8) & 255, (unsigned int)i & 255);
}

static long mem_available_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long kb = -1;

	if (!f) return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1) break;
	}
	fclose(f);
	return kb;
}

static int run(size_t n, size_t replaces)
{
	void *ctx = talloc_new(NULL);
	mud_enforce_t *e = NULL;
	mud_enforce_opts_t o;
	mud_ruleset_t *p[2];
	mud_error_t err;
	double *ins = talloc_array(ctx, double, n);
	double *rep = talloc_array(ctx, double, replaces);
	long mem0;
	long mem1;
	size_t i;
	char mac[18];
	char *listing;

	memset(&o, 0, sizeof(o));
	mud_error_clear(&err);
	p[0] = policy(ctx, 0);
	p[1] = policy(ctx, 1);
	if (!ins || !rep || !p[0] || !p[1]) return 1;
	mem0 = mem_available_kb();
	if (mud_enforce_open(ctx, &e, &o, &err) != MUD_OK) {
		fprintf(stderr, "bench_nft: %s (%s)\n", err.text, err.where);
		talloc_free(ctx);
		return 77;
	}
	for (i = 0; i < n; i++) {
		double t0;

		mac_of(mac, i);
		t0 = now_ms();
		if (mud_enforce_apply(e, mac, p[0], "https://bench.example/d", 0, &err) != MUD_OK) {
			fprintf(stderr, "bench_nft: %s: %s\n", mac, err.text);
			talloc_free(ctx);
			return 1;
		}
		ins[i] = now_ms() - t0;
	}
	srand(1);
	for (i = 0; i < replaces; i++) {
		double t0;

		mac_of(mac, (size_t)rand() % n);
		t0 = now_ms();
		if (mud_enforce_apply(e, mac, p[(i + 1) % 2], NULL, 0, &err) != MUD_OK) {
			fprintf(stderr, "bench_nft: replace %s: %s\n", mac, err.text);
			talloc_free(ctx);
			return 1;
		}
		rep[i] = now_ms() - t0;
	}
	mem1 = mem_available_kb();
	listing = mud_enforce_listing(e, ctx);
	/* MemAvailable moves with everything else on the machine: a rough figure only */
	printf("devices %5zu  rules/device %zu  install p50 %.2f ms p99 %.2f ms  "
	       "replace p50 %.2f ms p99 %.2f ms  libmud state %zu B  nft listing %zu B  "
	       "MemAvailable delta %ld kB\n",
	       n, p[0]->num_rules + 4, pct(ins, n, 0.5), pct(ins, n, 0.99),
	       pct(rep, replaces, 0.5), pct(rep, replaces, 0.99), talloc_total_size(e),
	       listing ? strlen(listing) : 0, mem0 > 0 && mem1 > 0 ? mem0 - mem1 : -1L);
	{
		double t0 = now_ms();

		talloc_free(e);		/* deletes the table */
		printf("devices %5zu  delete table %.2f ms\n", n, now_ms() - t0);
	}
	talloc_free(ctx);
	return 0;
}

/** -i N: install N devices' rules in the CURRENT namespace and leave them (bench_enforce.sh). */
static int install_here(size_t n)
{
	void *ctx = talloc_new(NULL);
	mud_enforce_t *e = NULL;
	mud_enforce_opts_t o;
	mud_ruleset_t *p;
	mud_error_t err;
	size_t i;
	char mac[18];

	memset(&o, 0, sizeof(o));
	o.keep = true;
	mud_error_clear(&err);
	p = policy(ctx, 0);
	if (!p || mud_enforce_open(ctx, &e, &o, &err) != MUD_OK) {
		fprintf(stderr, "bench_nft: %s (%s)\n", err.text, err.where);
		talloc_free(ctx);
		return 1;
	}
	for (i = 0; i < n; i++) {
		mac_of(mac, i);
		if (mud_enforce_apply(e, mac, p, NULL, 0, &err) != MUD_OK) {
			fprintf(stderr, "bench_nft: %s: %s\n", mac, err.text);
			talloc_free(ctx);
			return 1;
		}
	}
	talloc_free(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	char const *counts = "1,100,1000";
	size_t replaces = 200;
	char *list;
	char *tok;
	char *save = NULL;
	int c;
	int rc = 0;

	while ((c = getopt(argc, argv, "n:r:i:")) != -1) {
		switch (c) {
		case 'n': counts = optarg; break;
		case 'r': replaces = strtoul(optarg, NULL, 10); break;
		case 'i': return install_here(strtoul(optarg, NULL, 10));
		default:
			fprintf(stderr, "usage: bench_nft [-n 1,100,1000] [-r REPLACES] | -i N\n");
			return 2;
		}
	}
	if (replaces == 0) replaces = 1;
	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "bench_nft: needs root (a network namespace of its own)\n");
		return 77;
	}
	list = strdup(counts);
	if (!list) return 1;
	for (tok = strtok_r(list, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strtoul(tok, NULL, 10);

		if (n > 0) rc = run(n, replaces);
	}
	free(list);
	return rc;
}
