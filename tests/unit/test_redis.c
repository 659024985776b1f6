/*
 * test_redis.c - the Redis shared state (mud_redis.c) against a real redis-server that the
 * test starts on 127.0.0.1 at a free port, without persistence, and stops by PID: policies
 * shared between two caches, dACL names found through Redis, tampered/forged/moved values
 * refused, the pool-wide fetch lease, the fetch hand-over between two "servers", stations
 * for CoA, and Redis killed, stopped (slow) and restarted. SKIP (77) without redis-server or
 * without the Redis backend in this build.
 */
#include "test_common.h"
#include "mud_render_priv.h"
#include "mud_redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define T0	((time_t)1700000000)
#define URL_A	"https://lighting.example.com/lightbulb2000.json"
#define URL_B	"https://printer.example.com/printer.json"

static pid_t redis_pid;
static int redis_port;
static char work_dir[64];
static char key_path[128];

/*
 *	The real redis-server.
 */

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0) return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0) port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static redisContext *raw_conn(void)
{
	struct timeval tv = { 1, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/** Start redis-server on redis_port; false if it does not answer PING within 5 s. */
static bool redis_start(void)
{
	char port[16];
	int i;

	snprintf(port, sizeof(port), "%d", redis_port);
	redis_pid = fork();
	if (redis_pid < 0) return false;
	if (redis_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", work_dir, "--daemonize", "no",
		       (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		redisContext *c = raw_conn();

		if (c) {
			redisReply *rep = redisCommand(c, "PING");
			bool ok = rep && rep->type == REDIS_REPLY_STATUS;

			if (rep) freeReplyObject(rep);
			redisFree(c);
			if (ok) return true;
		}
		usleep(50000);
	}
	return false;
}

static void redis_stop(void)
{
	if (redis_pid <= 0) return;
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
}

/** A raw command for the test's own checks and tampering (hiredis format: %s, %b). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static redisReply *raw(char const *fmt, ...)
{
	redisContext *c = raw_conn();
	redisReply *rep;
	va_list ap;

	if (!c) return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return rep;
}
#pragma GCC diagnostic pop

/*
 *	Log capture.
 */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static char log_last[512];
static int log_warn;
static int log_info;

static void log_cb(void *uctx, mud_log_level_t level, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_cb(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	va_list ap;

	(void)uctx;
	pthread_mutex_lock(&log_mutex);
	va_start(ap, fmt);
	vsnprintf(log_last, sizeof(log_last), fmt, ap);
	va_end(ap);
	if (level == MUD_LOG_WARN) log_warn++;
	if (level == MUD_LOG_INFO) log_info++;
	pthread_mutex_unlock(&log_mutex);
}

static void log_reset(void)
{
	pthread_mutex_lock(&log_mutex);
	log_last[0] = '\0';
	log_warn = 0;
	log_info = 0;
	pthread_mutex_unlock(&log_mutex);
}

/*
 *	Fixtures.
 */

static mud_redis_t *client(TALLOC_CTX *ctx, char const *prefix)
{
	mud_redis_opts_t o;
	mud_redis_t *r = NULL;
	mud_error_t err;

	memset(&o, 0, sizeof(o));
	o.server = "127.0.0.1";
	o.port = (uint16_t)redis_port;
	o.key_file = key_path;
	o.prefix = prefix;
	o.timeout_ms = 2000;		/* generous: make check runs suites side by side */
	o.connect_timeout_ms = 2000;
	o.pool_size = 2;
	o.retry_min_ms = 50;
	o.retry_max_ms = 200;
	o.log = log_cb;
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &r, &o, &err), MUD_OK);
	assert_non_null(r);
	return r;
}

static mud_cache_t *cache_new(TALLOC_CTX *ctx)
{
	mud_cache_opts_t o;
	mud_cache_t *c = NULL;
	mud_error_t err;

	memset(&o, 0, sizeof(o));
	o.format = MUD_FMT_CISCO_DACL;
	o.stale_max = 3600;
	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &c, &o, T0, NULL, &err), MUD_OK);
	return c;
}

/** A policy for url with n4/n6 lines told apart by port, and the renderer's names. */
static mud_policy_t *policy(TALLOC_CTX *ctx, char const *url, unsigned int port, size_t n4,
			    size_t n6, time_t fetched)
{
	mud_policy_t *pol = talloc_zero(ctx, mud_policy_t);
	mud_rendered_t *r;
	mud_error_t err;
	size_t i;

	pol->url = talloc_strdup(pol, url);
	pol->file = talloc_zero(pol, mud_file_t);
	pol->file->cache_validity = 2;
	pol->file->mfg_name = talloc_strdup(pol->file, "Example");
	pol->rules = talloc_zero(pol, mud_ruleset_t);
	pol->rules->vlan = 20;
	pol->rules->cache_validity = 2;
	r = pol->rendered = talloc_zero(pol, mud_rendered_t);
	r->format = MUD_FMT_CISCO_DACL;
	r->v4 = talloc_zero_array(r, char *, n4 + 1);
	for (i = 0; i < n4; i++) {
		r->v4[i] = talloc_asprintf(r, "ip:inacl#%zu=permit tcp any host 192.0.2.%zu eq %u",
					   i + 1, i + 1, port);
	}
	r->num_v4 = n4;
	r->v6 = talloc_zero_array(r, char *, n6 + 1);
	for (i = 0; i < n6; i++) {
		r->v6[i] = talloc_asprintf(r, "ipv6:inacl#%zu=permit tcp any host 2001:db8::%zx "
					   "eq %u", i + 1, i + 1, port);
	}
	r->num_v6 = n6;
	mud_error_clear(&err);
	assert_int_equal(mudp_render_acl_name(r, &r->acl_name_v4, false, "lamp", url, r, &err),
			 MUD_OK);
	if (n6) {
		assert_int_equal(mudp_render_acl_name(r, &r->acl_name_v6, true, "lamp", url, r,
						      &err), MUD_OK);
	}
	pol->fetched = fetched;
	return pol;
}

static void store(mud_cache_t *c, char const *url, mud_policy_t const *pol, time_t now)
{
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_cache_store(c, url, pol, now, &err), MUD_OK);
}

static int setup(void **state)
{
	redisReply *rep = raw("FLUSHALL");

	if (rep) freeReplyObject(rep);
	log_reset();
	return test_setup_ctx(state);
}

/*
 *	Cases.
 */

static void test_create_errors(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_redis_opts_t o;
	mud_redis_t *r = NULL;
	mud_error_t err;
	char path[160];
	FILE *fp;

	memset(&o, 0, sizeof(o));
	o.server = "127.0.0.1";
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &r, &o, &err), MUD_ERR_ARG);	/* no key */
	assert_null(r);
	assert_non_null(strstr(err.text, "key_file"));

	snprintf(path, sizeof(path), "%s/short.key", work_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("too short", fp);
	fclose(fp);
	chmod(path, 0600);
	o.key_file = path;
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &r, &o, &err), MUD_ERR_IO);
	assert_non_null(strstr(err.text, "fewer than"));

	chmod(key_path, 0644);
	o.key_file = key_path;
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &r, &o, &err), MUD_ERR_IO);
	assert_non_null(strstr(err.text, "chmod 600"));
	chmod(key_path, 0600);

	o.pool_size = MUD_REDIS_POOL_MAX + 1;
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &r, &o, &err), MUD_ERR_ARG);
	assert_null(r);
}

static void test_share_policy(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_cache_t *b = cache_new(ctx);
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb = client(ctx, NULL);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 60, 3, T0);
	mud_redis_stats_t st;
	mud_error_t err;
	char **lines = NULL;
	size_t num = 0;
	bool v6 = false;
	size_t i;

	assert_true(mud_redis_ping(ra, NULL));
	store(a, URL_A, pol, T0);
	mud_error_clear(&err);
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_A, 3600, T0, &err), MUD_OK);

	/* B has never seen the URL: the download of each name is answered through Redis */
	assert_false(mud_cache_acl_lookup(b, ctx, pol->rendered->acl_name_v4, &lines, &num,
					  &v6));
	assert_int_equal(mud_redis_acl_import(rb, b, pol->rendered->acl_name_v4, T0 + 5, NULL),
			 MUD_REDIS_FOUND);
	assert_true(mud_cache_acl_lookup(b, ctx, pol->rendered->acl_name_v4, &lines, &num, &v6));
	assert_int_equal(num, 60);
	assert_false(v6);
	for (i = 0; i < num; i++) assert_string_equal(lines[i], pol->rendered->v4[i]);
	talloc_free(lines);
	assert_true(mud_cache_acl_lookup(b, ctx, pol->rendered->acl_name_v6, &lines, &num, &v6));
	assert_int_equal(num, 3);
	assert_true(v6);
	talloc_free(lines);

	/* the same policy again is not newer: nothing taken */
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0 + 6, false, false, NULL),
			 MUD_REDIS_NONE);
	/* an unknown name */
	assert_int_equal(mud_redis_acl_import(rb, b, "#ACSACL#-IP-lamp-nothing", T0, NULL),
			 MUD_REDIS_NONE);
	mud_redis_stats(rb, &st);
	assert_int_equal(st.imported, 1);
	assert_int_equal(st.refused, 0);
	assert_true(st.up);
	talloc_free(ra);
	talloc_free(rb);
	talloc_free(a);
	talloc_free(b);
	talloc_free(pol);
}

/** Rewrite the value of key with fn (on a raw connection). */
static void tamper(char const *key, void (*fn)(char *val, size_t len))
{
	redisReply *rep = raw("GET %s", key);
	char *val;
	size_t len;

	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_STRING);
	len = rep->len;
	val = malloc(len + 1);
	assert_non_null(val);
	memcpy(val, rep->str, len + 1);
	freeReplyObject(rep);
	fn(val, len);
	rep = raw("SET %s %b", key, val, len);
	assert_non_null(rep);
	freeReplyObject(rep);
	free(val);
}

static void widen_acl(char *val, size_t len)
{
	char *p = strstr(val, "permit tcp any host 192.0.2.1 eq");

	(void)len;
	assert_non_null(p);
	memcpy(p, "permit tcp any any          eq", 30);	/* same length, wider */
}

#define TEST_KEY	"0123456789abcdef0123456789abcdef-test-key"

/** A value sealed as mud_redis.c does, by someone who holds the key. */
static void seal_set(TALLOC_CTX *ctx, char const *key, char const *payload, size_t plen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char *msg = talloc_asprintf(ctx, "%s\n", key);
	char *val;
	char hex[65];
	redisReply *rep;
	unsigned int i;

	msg = talloc_realloc(ctx, msg, char, strlen(key) + 1 + plen);
	memcpy(msg + strlen(key) + 1, payload, plen);
	assert_non_null(HMAC(EVP_sha256(), TEST_KEY, (int)strlen(TEST_KEY),
			     (unsigned char *)msg, strlen(key) + 1 + plen, md, &md_len));
	for (i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
	val = talloc_asprintf(ctx, "rlm_mud-redis 1\nhmac: %s\n%.*s", hex, (int)plen, payload);
	rep = raw("SET %s %b", key, val, strlen(val));
	assert_non_null(rep);
	freeReplyObject(rep);
	talloc_free(msg);
	talloc_free(val);
}

static void test_tampered(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_cache_t *b = cache_new(ctx);
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb = client(ctx, NULL);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 4, 0, T0);
	mud_policy_t *pol2 = policy(ctx, URL_B, 80, 2, 0, T0);
	mud_redis_stats_t st;
	char key[128];
	char key2[128];
	char akey[300];
	char hex[65];
	char **lines = NULL;
	size_t num = 0;
	redisReply *rep;
	char *payload;
	mud_error_t err;

	store(a, URL_A, pol, T0);
	store(a, URL_B, pol2, T0);
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_A, 3600, T0, NULL), MUD_OK);
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_B, 3600, T0, NULL), MUD_OK);
	mud_sha256_hex(hex, URL_A, strlen(URL_A));
	snprintf(key, sizeof(key), "mud:p:%s", hex);
	mud_sha256_hex(hex, URL_B, strlen(URL_B));
	snprintf(key2, sizeof(key2), "mud:p:%s", hex);
	snprintf(akey, sizeof(akey), "mud:a:%s", pol->rendered->acl_name_v4);

	/* 1. a line widened in place: the HMAC no longer matches */
	tamper(key, widen_acl);
	assert_int_equal(mud_redis_acl_import(rb, b, pol->rendered->acl_name_v4, T0, NULL),
			 MUD_REDIS_REFUSED);
	assert_false(mud_cache_acl_lookup(b, ctx, pol->rendered->acl_name_v4, &lines, &num,
					  NULL));
	assert_non_null(strstr(log_last, "refused"));
	assert_non_null(strstr(log_last, "hmac does not match"));

	/* 2. a genuine value of another URL moved under this key: bound to its key name */
	rep = raw("COPY %s %s REPLACE", key2, key);
	assert_non_null(rep);
	freeReplyObject(rep);
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0, false, false, NULL),
			 MUD_REDIS_REFUSED);

	/* 3. forged with the key (a server gone bad): a line aimed at another host, still in
	 *    the renderer's grammar, under the same dACL name is refused: the name is
	 *    content-addressed and re-derived from the lines */
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_A, 3600, T0, NULL), MUD_OK);
	rep = raw("GET %s", key);
	assert_non_null(rep);
	payload = talloc_strndup(ctx, rep->str + 87, rep->len - 87);
	freeReplyObject(rep);
	{
		char *p = strstr(payload, "host 192.0.2.1 eq");

		assert_non_null(p);
		p[13] = '9';
	}
	seal_set(ctx, key, payload, strlen(payload));
	talloc_free(payload);
	mud_error_clear(&err);
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0, false, false, &err),
			 MUD_REDIS_REFUSED);
	assert_non_null(strstr(err.text, "acl-name-v4"));	/* (the log line is rate-limited) */

	/* 4. the name index pointed at another URL's genuine policy: that one is taken, but it
	 *    does not hold the name, so nothing is served under it */
	seal_set(ctx, akey, URL_B, strlen(URL_B));
	assert_int_equal(mud_redis_acl_import(rb, b, pol->rendered->acl_name_v4, T0, NULL),
			 MUD_REDIS_FOUND);
	assert_false(mud_cache_acl_lookup(b, ctx, pol->rendered->acl_name_v4, &lines, &num,
					  NULL));

	/* 5. garbage */
	rep = raw("SET %s %s", key, "hello");
	freeReplyObject(rep);
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0, false, false, NULL),
			 MUD_REDIS_REFUSED);

	mud_redis_stats(rb, &st);
	assert_int_equal(st.refused, 4);
	assert_int_equal(st.imported, 1);
	talloc_free(ra);
	talloc_free(rb);
	talloc_free(a);
	talloc_free(b);
	talloc_free(pol);
	talloc_free(pol2);
}

/* Name { CN = "S1" } (DER), and the last hex digit of it as persisted */
static uint8_t const SIGNER_S1[] = { 0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55,
				     0x04, 0x03, 0x0c, 0x02, 0x53, 0x31 };

static void s1_to_s2(char *val, size_t len)
{
	char *p = strstr(val, "\nsigner: 300d310b30090603550403" "0c025331\n");

	(void)len;
	assert_non_null(p);
	p[strlen("\nsigner: 300d310b30090603550403" "0c02533")] = '2';	/* CN=S2: a Name */
}

/** The signer a policy was verified with and its compile tag travel through Redis, under the
 *  envelope's HMAC. */
static void test_share_signer_tag(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_cache_t *b = cache_new(ctx);
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb = client(ctx, NULL);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 2, 0, T0);
	mud_entry_t *e = NULL;
	bool token = false;
	char key[128];
	char hex[65];

	pol->signer_der = talloc_memdup(pol, SIGNER_S1, sizeof(SIGNER_S1));
	pol->signer_der_len = sizeof(SIGNER_S1);
	pol->compile_tag = talloc_strdup(pol, "ctx-a");
	mud_cache_set_compile_tag(a, "ctx-a");
	store(a, URL_A, pol, T0);
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_A, 3600, T0, NULL), MUD_OK);
	mud_sha256_hex(hex, URL_A, strlen(URL_A));
	snprintf(key, sizeof(key), "mud:p:%s", hex);

	/* b compiles with the same context: a hit, with the signer */
	mud_cache_set_compile_tag(b, "ctx-a");
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0, false, false, NULL),
			 MUD_REDIS_FOUND);
	assert_int_equal(mud_cache_lookup(b, ctx, &e, &token, URL_A, T0), MUD_CACHE_HIT);
	assert_int_equal(e->signer_der_len, sizeof(SIGNER_S1));
	assert_memory_equal(e->signer_der, SIGNER_S1, sizeof(SIGNER_S1));
	assert_string_equal(e->compile_tag, "ctx-a");
	assert_true(mud_entry_signer_ok(e, SIGNER_S1, sizeof(SIGNER_S1)));
	TALLOC_FREE(e);
	/* with another context: served while b refetches and recompiles */
	mud_cache_set_compile_tag(b, "ctx-b");
	assert_int_equal(mud_cache_lookup(b, ctx, &e, &token, URL_A, T0), MUD_CACHE_STALE);
	assert_true(token);
	TALLOC_FREE(e);

	/* the signer changed in Redis (still a valid Name): refused */
	tamper(key, s1_to_s2);
	assert_int_equal(mud_redis_policy_import(rb, b, URL_A, T0 + 1, false, false, NULL),
			 MUD_REDIS_REFUSED);
	assert_non_null(strstr(log_last, "hmac does not match"));
	talloc_free(ra);
	talloc_free(rb);
	talloc_free(a);
	talloc_free(b);
	talloc_free(pol);
}

static void test_other_key(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_cache_t *b = cache_new(ctx);
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb;
	mud_redis_opts_t o;
	mud_error_t err;
	mud_policy_t *pol = policy(ctx, URL_A, 443, 2, 0, T0);
	char path[160];
	FILE *fp;

	store(a, URL_A, pol, T0);
	assert_int_equal(mud_redis_policy_publish(ra, a, URL_A, 3600, T0, NULL), MUD_OK);

	/* a server with another key_file refuses what this one wrote */
	snprintf(path, sizeof(path), "%s/other.key", work_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("another key of at least thirty-two bytes.......", fp);
	fclose(fp);
	chmod(path, 0600);
	memset(&o, 0, sizeof(o));
	o.server = "127.0.0.1";
	o.port = (uint16_t)redis_port;
	o.key_file = path;
	o.log = log_cb;
	mud_error_clear(&err);
	assert_int_equal(mud_redis_create(ctx, &rb, &o, &err), MUD_OK);
	assert_int_equal(mud_redis_acl_import(rb, b, pol->rendered->acl_name_v4, T0, NULL),
			 MUD_REDIS_REFUSED);
	talloc_free(ra);
	talloc_free(rb);
	talloc_free(a);
	talloc_free(b);
	talloc_free(pol);
}

static void test_lease(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_redis_t *r1 = client(ctx, NULL);
	mud_redis_t *r2 = client(ctx, NULL);
	char t1[MUD_REDIS_TOKEN_LEN];
	char t2[MUD_REDIS_TOKEN_LEN];
	mud_redis_stats_t st;

	assert_int_equal(mud_redis_lease_take(r1, URL_A, 5000, t1), MUD_REDIS_FOUND);
	assert_true(t1[0] != '\0');
	assert_int_equal(mud_redis_lease_take(r2, URL_A, 5000, t2), MUD_REDIS_NONE);
	assert_string_equal(t2, "");
	/* another URL is another lease */
	assert_int_equal(mud_redis_lease_take(r2, URL_B, 5000, t2), MUD_REDIS_FOUND);
	mud_redis_lease_release(r2, URL_B, t2);
	/* a release with a token that is not the holder's does nothing */
	mud_redis_lease_release(r2, URL_A, "someone-else-1");
	assert_int_equal(mud_redis_lease_take(r2, URL_A, 5000, t2), MUD_REDIS_NONE);
	mud_redis_lease_release(r1, URL_A, t1);
	assert_int_equal(mud_redis_lease_take(r2, URL_A, 5000, t2), MUD_REDIS_FOUND);
	/* the lease expires by itself (a holder that died) */
	mud_redis_lease_release(r2, URL_A, t2);
	assert_int_equal(mud_redis_lease_take(r1, URL_A, 100, t1), MUD_REDIS_FOUND);
	usleep(250000);
	assert_int_equal(mud_redis_lease_take(r2, URL_A, 5000, t2), MUD_REDIS_FOUND);
	mud_redis_stats(r2, &st);
	assert_int_equal(st.leases_won, 3);
	assert_int_equal(st.leases_lost, 2);
	talloc_free(r1);
	talloc_free(r2);
}

typedef struct {
	mud_redis_t		*r;
	mud_cache_t		*cache;
	mud_redis_begin_t	res;
	char			token[MUD_REDIS_TOKEN_LEN];
} begin_arg_t;

static void *begin_thread(void *p)
{
	begin_arg_t *a = p;

	a->res = mud_redis_fetch_begin(a->r, a->cache, URL_A, T0, 10000, 5000, a->token);
	return NULL;
}

static void test_fetch_handover(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_cache_t *b = cache_new(ctx);
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb = client(ctx, NULL);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 3, 1, T0);
	char ta[MUD_REDIS_TOKEN_LEN];
	begin_arg_t bb;
	pthread_t th;
	mud_entry_t *e = NULL;
	bool token = false;

	/* both servers miss locally and hold their own local fetch token */
	assert_int_equal(mud_cache_lookup(a, ctx, NULL, &token, URL_A, T0), MUD_CACHE_MISS);
	assert_true(token);
	assert_int_equal(mud_cache_lookup(b, ctx, NULL, &token, URL_A, T0), MUD_CACHE_MISS);
	assert_true(token);

	/* A takes the pool lease and fetches */
	assert_int_equal(mud_redis_fetch_begin(ra, a, URL_A, T0, 10000, 5000, ta),
			 MUD_REDIS_FETCH);
	assert_true(ta[0] != '\0');

	/* B finds the lease taken and waits for the result */
	memset(&bb, 0, sizeof(bb));
	bb.r = rb;
	bb.cache = b;
	assert_int_equal(pthread_create(&th, NULL, begin_thread, &bb), 0);
	usleep(200000);

	/* A's fetch completes: store, publish, release */
	store(a, URL_A, pol, T0);
	mud_redis_fetch_end(ra, a, URL_A, ta, true, 3600, T0);
	pthread_join(th, NULL);
	assert_int_equal(bb.res, MUD_REDIS_SHARED);
	assert_string_equal(bb.token, "");

	/* B now serves A's policy and its local token went back (a later miss may fetch) */
	assert_int_equal(mud_cache_lookup(b, ctx, &e, &token, URL_A, T0 + 1), MUD_CACHE_HIT);
	assert_false(token);
	assert_string_equal(e->acl_name_v4, pol->rendered->acl_name_v4);
	assert_int_equal(e->num_v6, 1);
	TALLOC_FREE(e);

	/* a third server arriving later finds the policy without any lease */
	{
		mud_cache_t *c = cache_new(ctx);
		char tc[MUD_REDIS_TOKEN_LEN];

		assert_int_equal(mud_cache_lookup(c, ctx, NULL, &token, URL_A, T0), MUD_CACHE_MISS);
		assert_int_equal(mud_redis_fetch_begin(rb, c, URL_A, T0 + 2, 10000, 0, tc),
				 MUD_REDIS_SHARED);
		/* past its expiry the shared copy does not count: fetch (lease free again) */
		talloc_free(c);
		c = cache_new(ctx);
		assert_int_equal(mud_redis_fetch_begin(rb, c, URL_A, T0 + 3 * 3600, 10000, 0, tc),
				 MUD_REDIS_FETCH);
		assert_true(tc[0] != '\0');
		mud_redis_lease_release(rb, URL_A, tc);
		talloc_free(c);
	}
	talloc_free(ra);
	talloc_free(rb);
	talloc_free(a);
	talloc_free(b);
	talloc_free(pol);
}

static void test_stations(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_redis_t *ra = client(ctx, NULL);
	mud_redis_t *rb = client(ctx, NULL);
	mud_station_t st;
	mud_station_t *out = NULL;
	mud_redis_stats_t rs;
	char hex[65];
	char key[128];
	size_t n;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&st, 0, sizeof(st));
		snprintf(st.key, sizeof(st.key), "00112233440%d", i);
		snprintf(st.calling_station_id, sizeof(st.calling_station_id),
			 "00-11-22-33-44-0%d", i);
		st.url_applied = (char *)(uintptr_t)URL_A;
		st.policy_hash = 0x1234 + (uint64_t)i;
		snprintf(st.nas_ip, sizeof(st.nas_ip), "192.0.2.1");
		snprintf(st.audit_session_id, sizeof(st.audit_session_id), "0A00000%d", i);
		snprintf(st.coa_dst, sizeof(st.coa_dst), "192.0.2.1");
		snprintf(st.coa_secret, sizeof(st.coa_secret), "never-shared");
		st.coa_port = 1700;
		st.last = T0 + i;
		assert_int_equal(mud_redis_station_put(ra, &st, NULL, 600, NULL), MUD_OK);
	}
	/* station 2 moves to URL_B */
	st.url_applied = (char *)(uintptr_t)URL_B;
	assert_int_equal(mud_redis_station_put(ra, &st, URL_A, 600, NULL), MUD_OK);

	n = mud_redis_stations_by_url(rb, ctx, URL_A, &out, 100);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		assert_string_equal(out[i].url_applied, URL_A);
		assert_string_equal(out[i].nas_ip, "192.0.2.1");
		assert_int_equal(out[i].coa_port, 1700);
		assert_string_equal(out[i].coa_secret, "");	/* the secret never travels */
		assert_true(out[i].policy_hash == 0x1234 || out[i].policy_hash == 0x1235);
	}
	TALLOC_FREE(out);
	n = mud_redis_stations_by_url(rb, ctx, URL_B, &out, 100);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].key, "001122334402");
	assert_string_equal(out[0].audit_session_id, "0A000002");
	assert_int_equal(out[0].last, T0 + 2);
	TALLOC_FREE(out);

	/* a record rewritten in Redis (CoA redirected elsewhere) is refused */
	mud_sha256_hex(hex, URL_B, strlen(URL_B));
	snprintf(key, sizeof(key), "mud:s:%s", hex);
	{
		redisReply *rep = raw("HGET %s 001122334402", key);
		char *v;
		char *p;

		assert_non_null(rep);
		v = talloc_strndup(ctx, rep->str, rep->len);
		freeReplyObject(rep);
		p = strstr(v, "coa-dst: 192.0.2.1");
		assert_non_null(p);
		p[17] = '9';
		rep = raw("HSET %s 001122334402 %s", key, v);
		freeReplyObject(rep);
		talloc_free(v);
	}
	n = mud_redis_stations_by_url(rb, ctx, URL_B, &out, 100);
	assert_int_equal(n, 0);
	mud_redis_stats(rb, &rs);
	assert_int_equal(rs.refused, 1);

	/* CoA claims: one server per station and policy */
	assert_true(mud_redis_coa_claim(ra, "001122334400", 0x99, 60));
	assert_false(mud_redis_coa_claim(rb, "001122334400", 0x99, 60));
	assert_true(mud_redis_coa_claim(rb, "001122334400", 0x9a, 60));
	talloc_free(ra);
	talloc_free(rb);
}

static void test_down_and_back(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_cache_t *a = cache_new(ctx);
	mud_redis_t *r = client(ctx, NULL);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 2, 0, T0);
	mud_redis_stats_t st;
	char t[MUD_REDIS_TOKEN_LEN];
	int i;
	int ok;

	store(a, URL_A, pol, T0);
	assert_true(mud_redis_ping(r, NULL));

	/* killed: the first call fails (and warns), the next ones are answered "down" at once
	 * without touching the network until the backoff ends */
	redis_stop();
	log_reset();
	assert_int_equal(mud_redis_policy_import(r, a, URL_A, T0, false, false, NULL),
			 MUD_REDIS_DOWN);
	for (i = 0; i < 10; i++) {
		assert_int_equal(mud_redis_acl_import(r, a, "#ACSACL#-IP-x", T0, NULL),
				 MUD_REDIS_DOWN);
	}
	assert_int_equal(mud_redis_fetch_begin(r, a, URL_A, T0, 1000, 1000, t), MUD_REDIS_FETCH);
	assert_string_equal(t, "");
	assert_true(mud_redis_coa_claim(r, "001122334455", 1, 60));	/* send anyway */
	mud_redis_stats(r, &st);
	assert_false(st.up);
	assert_int_equal(st.errors, 1);
	assert_true(st.skipped >= 11);
	assert_int_equal(log_warn, 1);
	assert_non_null(strstr(log_last, "serving from local state"));

	/* still down after the backoff: one more failure, no second warning */
	usleep(100000);
	assert_false(mud_redis_ping(r, NULL));
	mud_redis_stats(r, &st);
	assert_int_equal(st.errors, 2);
	assert_int_equal(log_warn, 1);

	/* restarted on the same port: back after the backoff (at most retry_max = 200 ms) */
	assert_true(redis_start());
	ok = 0;
	for (i = 0; i < 40 && !ok; i++) {
		usleep(50000);
		ok = mud_redis_ping(r, NULL);
	}
	assert_true(ok);
	mud_redis_stats(r, &st);
	assert_true(st.up);
	assert_int_equal(st.reconnects, 1);
	assert_int_equal(log_info, 1);
	assert_non_null(strstr(log_last, "reachable again"));
	assert_int_equal(mud_redis_policy_publish(r, a, URL_A, 3600, T0, NULL), MUD_OK);

	/* slow (stopped): a command times out after timeout_ms, then "down" at once */
	kill(redis_pid, SIGSTOP);
	log_reset();
	assert_int_equal(mud_redis_policy_import(r, a, URL_A, T0, false, false, NULL),
			 MUD_REDIS_DOWN);
	assert_int_equal(mud_redis_policy_import(r, a, URL_A, T0, false, false, NULL),
			 MUD_REDIS_DOWN);
	assert_int_equal(log_warn, 1);
	kill(redis_pid, SIGCONT);
	ok = 0;
	for (i = 0; i < 40 && !ok; i++) {
		usleep(50000);
		ok = mud_redis_ping(r, NULL);
	}
	assert_true(ok);
	talloc_free(r);
	talloc_free(a);
	talloc_free(pol);
}

static void test_threads(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_redis_t *r = client(ctx, NULL);
	pthread_t th[6];
	begin_arg_t args[6];
	mud_cache_t *src = cache_new(ctx);
	mud_policy_t *pol = policy(ctx, URL_A, 443, 2, 0, T0);
	int i;
	int shared = 0;
	int fetch = 0;

	/* six servers race for one URL: one gets the lease, the others wait for its result */
	for (i = 0; i < 6; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].r = r;		/* one client, pool_size 2: the pool is shared */
		args[i].cache = cache_new(ctx);
		assert_int_equal(pthread_create(&th[i], NULL, begin_thread, &args[i]), 0);
	}
	usleep(300000);
	store(src, URL_A, pol, T0);
	assert_int_equal(mud_redis_policy_publish(r, src, URL_A, 3600, T0, NULL), MUD_OK);
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		if (args[i].res == MUD_REDIS_SHARED) shared++;
		if (args[i].res == MUD_REDIS_FETCH) {
			fetch++;
			mud_redis_lease_release(r, URL_A, args[i].token);
		}
	}
	assert_int_equal(fetch, 1);
	assert_int_equal(shared, 5);
	for (i = 0; i < 6; i++) talloc_free(args[i].cache);
	talloc_free(src);
	talloc_free(r);
	talloc_free(pol);
}

int main(void)
{
	struct CMUnitTest const tests[] = {
		cmocka_unit_test_setup_teardown(test_create_errors, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_share_policy, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_tampered, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_share_signer_tag, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_other_key, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_lease, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_fetch_handover, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_stations, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_threads, setup, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_down_and_back, setup, test_teardown_ctx),
	};
	char const *tmp = getenv("TMPDIR");
	FILE *fp;
	int rc;

	if (!mud_redis_available()) {
		printf("SKIP: built without hiredis (configure: redis no)\n");
		return 77;
	}
	if (system("command -v redis-server >/dev/null 2>&1") != 0) {
		printf("SKIP: redis-server not installed\n");
		return 77;
	}
	snprintf(work_dir, sizeof(work_dir), "%s/test_redis.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(work_dir)) return 1;
	snprintf(key_path, sizeof(key_path), "%s/redis.key", work_dir);
	fp = fopen(key_path, "w");
	if (!fp) return 1;
	fputs(TEST_KEY, fp);
	fclose(fp);
	chmod(key_path, 0600);
	redis_port = free_port();
	if (redis_port <= 0 || !redis_start()) {
		printf("FAIL: redis-server did not start on 127.0.0.1:%d\n", redis_port);
		redis_stop();
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	redis_stop();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work_dir);
		if (system(cmd) != 0) rc = rc ? rc : 1;
	}
	return rc;
}
