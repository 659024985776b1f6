/*
 * test_resolve.c - the DNS names of a MUD file are resolved in parallel, within a
 * time budget, with a bound on their number (mud_resolve.c through
 * mud_ruleset_compile). A real DNS server (tests/tools/dns_server.py) on 127.0.0.1 at
 * an ephemeral port answers from a zone written here; the site context points the
 * resolver at it (dns.servers). Parallelism is read from the server's own count of
 * queries waiting for their answer at once, never from a clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_common.h"

extern char **environ;

#define NAMES_PARALLEL	40	//!< names delayed by the server, all asked at once
#define DELAY_MS	1000	//!< the server's answer delay for those

static struct {
	char	dir[256];
	char	zone[300];
	char	portfile[300];
	char	stats[300];
	char	log[300];
	pid_t	pid;
	int	port;
} dns;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/** The zone: d0..d39.slow.test delayed, fast names, a dropped one, a wide one. */
static int write_zone(void)
{
	FILE *fp = fopen(dns.zone, "w");
	int i;

	if (!fp) return -1;
	fprintf(fp, "{\n");
	for (i = 0; i < NAMES_PARALLEL; i++) {
		fprintf(fp, "\"d%d.slow.test\": {\"A\": [\"198.51.100.%d\"], \"AAAA\": "
			"[\"2001:db8:5::%x\"], \"delay_ms\": %d},\n", i, i + 1, i + 1, DELAY_MS);
	}
	fprintf(fp, "\"api.fast.test\": {\"A\": [\"203.0.113.10\", \"203.0.113.11\"], "
		"\"ttl\": 30},\n");
	fprintf(fp, "\"black.hole.test\": {\"drop\": true},\n");
	fprintf(fp, "\"wide.fast.test\": {\"A\": [");
	for (i = 0; i < 20; i++) fprintf(fp, "%s\"203.0.113.%d\"", i ? ", " : "", 100 + i);
	fprintf(fp, "]}\n}\n");
	return fclose(fp) == 0 ? 0 : -1;
}

static int dns_start(void)
{
	char const *python = getenv("PYTHON3");
	char script[512];
	char *top = test_src_path(NULL, "tests/tools/dns_server.py");
	char tmpl[] = "/tmp/test_resolve.XXXXXX";
	int status;
	int rc;
	int i;

	if (!python || !python[0]) python = "python3";
	snprintf(script, sizeof(script), "%s", top);
	talloc_free(top);
	if (!mkdtemp(tmpl)) return -1;
	snprintf(dns.dir, sizeof(dns.dir), "%s", tmpl);
	snprintf(dns.zone, sizeof(dns.zone), "%s/zone.json", dns.dir);
	snprintf(dns.portfile, sizeof(dns.portfile), "%s/port", dns.dir);
	snprintf(dns.stats, sizeof(dns.stats), "%s/stats", dns.dir);
	snprintf(dns.log, sizeof(dns.log), "%s/log", dns.dir);
	if (write_zone() != 0) return -1;
	{
		char *argv[] = { (char *)python, script, "--zone", dns.zone, "--port-file",
				 dns.portfile, "--stats-file", dns.stats, NULL };
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, dns.log, O_WRONLY | O_CREAT | O_TRUNC,
						 0600);
		rc = posix_spawnp(&dns.pid, python, &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (rc != 0) {
		fprintf(stderr, "test_resolve: cannot start %s: %s\n", python, strerror(rc));
		dns.pid = 0;
		return -1;
	}
	for (i = 0; i < 1000; i++) {
		FILE *fp = fopen(dns.portfile, "r");

		if (fp) {
			int n = fscanf(fp, "%d", &dns.port);

			fclose(fp);
			if (n == 1 && dns.port > 0) return 0;
		}
		if (waitpid(dns.pid, &status, WNOHANG) == dns.pid) {
			fprintf(stderr, "test_resolve: dns_server.py exited early\n");
			dns.pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

static void dns_stop(void)
{
	int status;
	char cmd[600];

	if (dns.pid > 0) {
		kill(dns.pid, SIGTERM);
		waitpid(dns.pid, &status, 0);
		dns.pid = 0;
	}
	if (dns.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dns.dir);
		if (system(cmd) != 0) fprintf(stderr, "test_resolve: cannot remove %s\n", dns.dir);
	}
}

/** A stats value ("queries", "inflight_max") of the server. */
static int dns_stat(char const *key)
{
	FILE *fp = fopen(dns.stats, "r");
	char k[32];
	int v;
	int got = -1;

	if (!fp) return -1;
	while (fscanf(fp, "%31s %d", k, &v) == 2) {
		if (strcmp(k, key) == 0) got = v;
	}
	fclose(fp);
	return got;
}

/** The query count once the server has been quiet for 300 ms (queries of an earlier test that
 *  c-ares retransmitted, or that a loaded machine delivers late, are counted first). */
static int dns_queries_settled(void)
{
	struct timespec ts = { 0, 300000000L };
	int prev = dns_stat("queries");
	int i;

	for (i = 0; i < 20; i++) {
		int now;

		nanosleep(&ts, NULL);
		now = dns_stat("queries");
		if (now == prev) return now;
		prev = now;
	}
	return prev;
}

/** A MUD file whose from-device ACL has one ACE per name (tcp 443 to dst-dnsname). */
static mud_file_t *file_with_names(void *ctx, char const * const *names, size_t num)
{
	char *aces = talloc_strdup(ctx, "");
	char *doc;
	mud_file_t *f = NULL;
	mud_error_t err;
	size_t i;

	for (i = 0; i < num; i++) {
		aces = talloc_asprintf_append(aces, "%s{\"name\":\"a%zu\",\"matches\":{\"ipv4\":"
					      "{\"protocol\":6,\"ietf-acldns:dst-dnsname\":\"%s\"},"
					      "\"tcp\":{\"destination-port\":{\"operator\":\"eq\","
					      "\"port\":443}}},\"actions\":{\"forwarding\":"
					      "\"accept\"}}", i ? "," : "", i, names[i]);
	}
	doc = talloc_asprintf(ctx, "{\"ietf-mud:mud\":{\"mud-version\":1,\"mud-url\":"
			      "\"https://dev.example.com/d\",\"last-update\":"
			      "\"2026-01-01T00:00:00Z\",\"is-supported\":true,"
			      "\"from-device-policy\":{\"access-lists\":{\"access-list\":"
			      "[{\"name\":\"fr\"}]}}},\"ietf-access-control-list:acls\":{\"acl\":"
			      "[{\"name\":\"fr\",\"type\":\"ipv4-acl-type\",\"aces\":"
			      "{\"ace\":[%s]}}]}}", aces);
	mud_error_clear(&err);
	if (mud_file_parse(ctx, &f, doc, strlen(doc), NULL, 0, &err) != MUD_OK) {
		fail_msg("parse: %s at %s", err.text, err.where);
	}
	talloc_free(doc);
	talloc_free(aces);
	return f;
}

static mud_context_t *site_ctx(void *ctx, int timeout_s, int max_names)
{
	char *json = talloc_asprintf(ctx, "{\"dns\": {\"servers\": [\"127.0.0.1:%d\"], "
				     "\"timeout\": %d, \"max-names\": %d}}", dns.port, timeout_s,
				     max_names);
	mud_context_t *c = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_context_parse(ctx, &c, json, strlen(json), &err) != MUD_OK) {
		fail_msg("context: %s at %s", err.text, err.where);
	}
	talloc_free(json);
	return c;
}

/** Rules (not the final denies) whose peer is a given IPv4 address. */
static size_t rules_to(mud_ruleset_t const *rs, char const *addr)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < rs->num_rules; i++) {
		char buf[64];

		if (rs->rules[i].family != 4 || rs->rules[i].peer.len == 0) continue;
		mud_prefix_print(buf, sizeof(buf), &rs->rules[i].peer, false);
		if (strcmp(buf, addr) == 0) n++;
	}
	return n;
}

static bool has_warning(mud_ruleset_t const *rs, char const *needle)
{
	size_t i;

	for (i = 0; i < rs->num_warnings; i++) {
		if (strstr(rs->warnings[i].text, needle)) return true;
	}
	return false;
}

/* Every name of a file is in flight at once: the server sees them all waiting together. */
static void test_parallel(void **state)
{
	void *ctx = talloc_new(*state);
	char const *names[NAMES_PARALLEL];
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	int before = dns_stat("queries");
	size_t i;

	for (i = 0; i < NAMES_PARALLEL; i++) {
		names[i] = talloc_asprintf(ctx, "d%zu.slow.test", i);
	}
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file_with_names(ctx, names, NAMES_PARALLEL),
					     site_ctx(ctx, 10, 64), NULL, NULL, &err), MUD_OK);
	/* each name: its A answer became a rule */
	assert_int_equal(rules_to(rs, "198.51.100.1"), 1);
	assert_int_equal(rules_to(rs, "198.51.100.40"), 1);
	assert_int_equal(rs->num_rules, NAMES_PARALLEL + 4);
	assert_int_equal(rs->dns_ttl, 60);	/* the server's TTL: when to resolve again */
	/* A and AAAA for each name, all waiting at the server at the same time */
	/* (c-ares may retransmit on a slow machine: at least one query per name and family) */
	assert_true(dns_stat("queries") - before >= 2 * NAMES_PARALLEL);
	assert_true(dns_stat("inflight_max") >= 2 * NAMES_PARALLEL);
	printf("test_resolve: %d names x A/AAAA, server delay %d ms each: %d queries in flight "
	       "at once\n", NAMES_PARALLEL, DELAY_MS, dns_stat("inflight_max"));
	talloc_free(ctx);
}

/* A name the server never answers costs the budget once, not per name; others resolve. */
static void test_budget(void **state)
{
	void *ctx = talloc_new(*state);
	char const *names[] = { "api.fast.test", "black.hole.test", "nx.fast.test",
				"wide.fast.test" };
	mud_ruleset_t *rs = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file_with_names(ctx, names, 4),
					     site_ctx(ctx, 1, 64), NULL, NULL, &err), MUD_OK);
	assert_int_equal(rules_to(rs, "203.0.113.10"), 1);
	assert_int_equal(rules_to(rs, "203.0.113.11"), 1);
	/* at most MUD_MAX_ADDRS_PER_NAME of the 20 addresses of one name */
	assert_int_equal(rules_to(rs, "203.0.113.115"), 1);
	assert_int_equal(rules_to(rs, "203.0.113.116"), 0);
	assert_true(has_warning(rs, "dst-dnsname \"black.hole.test\" did not resolve (IPv4); "
				"ACE skipped"));
	assert_true(has_warning(rs, "dst-dnsname \"nx.fast.test\" did not resolve (IPv4); "
				"ACE skipped"));
	assert_true(has_warning(rs, "had no answer within the 1000 ms budget"));
	assert_int_equal(rs->num_rules, 2 + MUD_MAX_ADDRS_PER_NAME + 4);
	assert_int_equal(rs->dns_ttl, 30);	/* the shortest-lived answer */
	talloc_free(ctx);
}

/* More distinct names than dns.max-names: refused before any query is sent. */
static void test_name_cap(void **state)
{
	void *ctx = talloc_new(*state);
	char const *names[4] = { "d0.slow.test", "d1.slow.test", "d2.slow.test",
				 "D0.SLOW.TEST." };
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	int before = dns_queries_settled();

	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file_with_names(ctx, names, 4),
					     site_ctx(ctx, 5, 2), NULL, NULL, &err), MUD_ERR_LIMIT);
	assert_null(rs);
	assert_string_equal(err.where, "/ietf-access-control-list:acls/acl/0/aces/ace/2");
	assert_string_equal(err.text, "more than 2 distinct DNS names to resolve (context "
			    "dns.max-names)");
	assert_int_equal(dns_stat("queries"), before);

	/* the same name twice (case, trailing dot) counts once */
	mud_error_clear(&err);
	names[2] = "d1.slow.test.";
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file_with_names(ctx, names, 4),
					     site_ctx(ctx, 5, 2), NULL, NULL, &err), MUD_OK);
	talloc_free(ctx);
}

/* A bad server list from a hand-built context: a clear error, nothing sent. */
static void test_bad_servers(void **state)
{
	void *ctx = talloc_new(*state);
	char const *names[] = { "api.fast.test" };
	mud_context_t *c = site_ctx(ctx, 1, 4);
	mud_ruleset_t *rs = NULL;
	mud_error_t err;

	talloc_free(c->dns_servers);
	c->dns_servers = talloc_strdup(c, "not-an-address");
	mud_error_clear(&err);
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file_with_names(ctx, names, 1), c, NULL,
					     NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "dns.servers");
	assert_null(rs);
	talloc_free(ctx);
}

static int setup(void **state)
{
	(void)state;
	if (dns_start() != 0) return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dns_stop();
	return 0;
}

int main(void)
{
	struct CMUnitTest const tests[] = {
		cmocka_unit_test_setup_teardown(test_parallel, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_budget, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_name_cap, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_bad_servers, test_setup_ctx,
						test_teardown_ctx),
	};

	if (!getenv("PYTHON3") && access("/usr/bin/python3", X_OK) != 0) {
		printf("test_resolve: no python3; skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
