/*
 * test_fetch.c - mud_fetch() against local HTTPS servers.
 *
 * The group setup makes a temp dir, runs tests/tools/mkcerts.sh in it and
 * starts five tests/tools/https_server.py instances on 127.0.0.1 (valid,
 * expired, wrong-host and untrusted certificates, and an "internal" server
 * with a valid certificate that the URL-policy tests must never reach). Each
 * logs its requests and its accepted TCP connections. The teardown stops them
 * by PID and removes the dir. Missing python3 or openssl make the group setup
 * fail loudly: these tests never skip.
 *
 * URL policy (allow_private_urls = no) without privileges: every server is on
 * loopback, so the test hook mud_urlpolicy_test_public() marks the good
 * server's address and port as "public"; the internal server stays special.
 *
 * Environment: top_srcdir (default "."), PYTHON3 (default "python3").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "test_common.h"

#include <openssl/err.h>

extern char **environ;

#define ARRAY_LEN(_a) (sizeof(_a) / sizeof((_a)[0]))

/** One https_server.py instance. */
typedef struct {
	char const	*name;		//!< cert/key basename in the temp dir
	pid_t		pid;
	int		port;
	char		portfile[PATH_MAX];
	char		log[PATH_MAX];
	char		connlog[PATH_MAX];	//!< one line per accepted TCP connection
} test_server_t;

/** Group fixture (the tests are sequential; only test_threads uses threads). */
static struct {
	char		dir[64];		//!< temp dir (certs, root, logs), from mkdtemp
	char		ca[PATH_MAX];		//!< ca.pem
	char		other_ca[PATH_MAX];	//!< other-ca.pem
	char		cadir[PATH_MAX];	//!< hashed dir with ca.pem
	char		server_pem[PATH_MAX];	//!< server.pem (the leaf the good server shows)
	test_server_t	good;
	test_server_t	expired;
	test_server_t	wronghost;
	test_server_t	untrusted;
	test_server_t	internal;		//!< valid certificate; never reached by the policy
						//!< tests
	int		closed_fd;		//!< bound, not listening: connections are refused
	int		closed_port;
} fx = {
	.good = { .name = "server" },
	.expired = { .name = "expired" },
	.wronghost = { .name = "wronghost" },
	.untrusted = { .name = "untrusted" },
	.internal = { .name = "server" },
	.closed_fd = -1,
};

/* The MUD file served as /x.json. */
static char const x_json[] = "{\"ietf-mud:mud\":{\"mud-version\":1,"
			     "\"mud-url\":\"https://127.0.0.1/x.json\","
			     "\"systeminfo\":\"caf\xc3\xa9\"}}\n";

/* A binary "signature": every byte value, NULs included. */
static uint8_t sig_bin[600];

/*
 *	Helpers
 */
static int write_file(char const *path, void const *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp) return -1;
	if (fwrite(data, 1, len, fp) != len) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

static int rm_entry(char const *path, struct stat const *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/** Run argv, wait; return the exit status or -1. */
static int run_wait(char *const argv[])
{
	pid_t pid;
	int status;
	int rc;

	rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (rc != 0) {
		fprintf(stderr, "test_fetch: cannot run %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) return -1;
	}
	if (!WIFEXITED(status)) return -1;
	return WEXITSTATUS(status);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int server_spawn(test_server_t *s, char const *tag, char const *python,
			char const *script)
{
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char root[PATH_MAX];
	int rc;

	snprintf(cert, sizeof(cert), "%s/%s.pem", fx.dir, s->name);
	snprintf(key, sizeof(key), "%s/%s.key", fx.dir, s->name);
	snprintf(root, sizeof(root), "%s/root", fx.dir);
	snprintf(s->portfile, sizeof(s->portfile), "%s/%s.port", fx.dir, tag);
	snprintf(s->log, sizeof(s->log), "%s/%s.log", fx.dir, tag);
	snprintf(s->connlog, sizeof(s->connlog), "%s/%s.conn", fx.dir, tag);

	{
		char *argv[] = {
			(char *)python, (char *)script,
			"--cert", cert, "--key", key, "--port", "0", "--root", root,
			"--portfile", s->portfile, "--log", s->log, "--connlog", s->connlog, NULL
		};

		rc = posix_spawnp(&s->pid, python, NULL, NULL, argv, environ);
	}
	if (rc != 0) {
		fprintf(stderr, "test_fetch: cannot start %s (set PYTHON3?): %s\n", python,
			strerror(rc));
		s->pid = 0;
		return -1;
	}
	return 0;
}

/** Wait for the port file (10 s), noticing an early exit. */
static int server_wait(test_server_t *s)
{
	int i;
	int status;

	for (i = 0; i < 1000; i++) {
		FILE *fp = fopen(s->portfile, "r");

		if (fp) {
			int port = 0;
			int n = fscanf(fp, "%d", &port);

			fclose(fp);
			if ((n == 1) && (port > 0) && (port < 65536)) {
				s->port = port;
				return 0;
			}
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "test_fetch: https_server.py (%s) exited early with status "
				"%d: is python3 installed (PYTHON3)?\n", s->name,
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			s->pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "test_fetch: https_server.py (%s) did not write %s within 10 s\n",
		s->name, s->portfile);
	return -1;
}

static void server_stop(test_server_t *s)
{
	int status;
	int i;

	if (s->pid <= 0) return;
	kill(s->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "test_fetch: https_server.py (%s) ignored SIGTERM, killing it\n", s->name);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
}

/** Lines of a server log equal to line. */
static int log_count(test_server_t const *s, char const *line)
{
	FILE *fp = fopen(s->log, "r");
	char buf[1024];
	int n = 0;

	if (!fp) return 0;
	while (fgets(buf, sizeof(buf), fp)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, line) == 0) n++;
	}
	fclose(fp);
	return n;
}

/** Lines of a file (0 if it cannot be read). */
static int file_lines(char const *path)
{
	FILE *fp = fopen(path, "r");
	int c;
	int n = 0;

	if (!fp) return 0;
	while ((c = fgetc(fp)) != EOF) {
		if (c == '\n') n++;
	}
	fclose(fp);
	return n;
}

/** TCP connections a server accepted so far (before any TLS handshake). */
static int conn_count(test_server_t const *s)
{
	return file_lines(s->connlog);
}

/** Total lines of a server log. */
static int log_lines(test_server_t const *s)
{
	FILE *fp = fopen(s->log, "r");
	int c;
	int n = 0;

	if (!fp) return 0;
	while ((c = fgetc(fp)) != EOF) {
		if (c == '\n') n++;
	}
	fclose(fp);
	return n;
}

static char *url_of(void *ctx, test_server_t const *s, char const *host, char const *path)
{
	return talloc_asprintf(ctx, "https://%s:%d%s", host, s->port, path);
}

static mud_fetch_opts_t opts_default(void)
{
	mud_fetch_opts_t o = {
		.ca_file = fx.ca,
		.max_redirs = -1,
	};

	return o;
}

/*
 *	Group setup / teardown
 */
static int group_teardown(void **state);

static int group_setup_do(void)
{
	char const *top = getenv("top_srcdir");
	char const *python = getenv("PYTHON3");
	char mkcerts[PATH_MAX];
	char script[PATH_MAX];
	char path[PATH_MAX];
	char tmpl[] = "/tmp/test_fetch.XXXXXX";
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	size_t i;

	if (!top || !*top) top = ".";
	if (!python || !*python) python = "python3";

	/* Deterministic: never go through a proxy from the environment. */
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");

	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "test_fetch: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(fx.dir, sizeof(fx.dir), "%s", tmpl);
	snprintf(fx.ca, sizeof(fx.ca), "%s/ca.pem", fx.dir);
	snprintf(fx.other_ca, sizeof(fx.other_ca), "%s/other-ca.pem", fx.dir);
	snprintf(fx.cadir, sizeof(fx.cadir), "%s/cadir", fx.dir);
	snprintf(fx.server_pem, sizeof(fx.server_pem), "%s/server.pem", fx.dir);
	snprintf(mkcerts, sizeof(mkcerts), "%s/tests/tools/mkcerts.sh", top);
	snprintf(script, sizeof(script), "%s/tests/tools/https_server.py", top);

	{
		char *argv[] = { "sh", mkcerts, fx.dir, NULL };
		int rc = run_wait(argv);

		if (rc != 0) {
			fprintf(stderr, "test_fetch: %s failed (exit %d): the openssl CLI is "
				"needed\n", mkcerts, rc);
			return -1;
		}
	}

	/* Document root. */
	snprintf(path, sizeof(path), "%s/root", fx.dir);
	if (mkdir(path, 0700) != 0) return -1;
	snprintf(path, sizeof(path), "%s/root/x.json", fx.dir);
	if (write_file(path, x_json, sizeof(x_json) - 1) != 0) return -1;
	for (i = 0; i < sizeof(sig_bin); i++) sig_bin[i] = (uint8_t)(i * 7);
	snprintf(path, sizeof(path), "%s/root/x.p7s", fx.dir);
	if (write_file(path, sig_bin, sizeof(sig_bin)) != 0) return -1;
	snprintf(path, sizeof(path), "%s/root/empty.json", fx.dir);
	if (write_file(path, "", 0) != 0) return -1;

	/* Start all five, then wait for all (they start in parallel). */
	if (server_spawn(&fx.good, "server", python, script) < 0) return -1;
	if (server_spawn(&fx.expired, "expired", python, script) < 0) return -1;
	if (server_spawn(&fx.wronghost, "wronghost", python, script) < 0) return -1;
	if (server_spawn(&fx.untrusted, "untrusted", python, script) < 0) return -1;
	if (server_spawn(&fx.internal, "internal", python, script) < 0) return -1;
	if (server_wait(&fx.good) < 0) return -1;
	if (server_wait(&fx.expired) < 0) return -1;
	if (server_wait(&fx.wronghost) < 0) return -1;
	if (server_wait(&fx.untrusted) < 0) return -1;
	if (server_wait(&fx.internal) < 0) return -1;

	/* A port that refuses connections: bound, never listening. */
	fx.closed_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fx.closed_fd < 0) return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fx.closed_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) return -1;
	if (getsockname(fx.closed_fd, (struct sockaddr *)&sin, &slen) != 0) return -1;
	fx.closed_port = ntohs(sin.sin_port);

	return 0;
}

/* cmocka does not run the group teardown when the setup fails: clean up here. */
static int group_setup(void **state)
{
	if (group_setup_do() == 0) return 0;
	group_teardown(state);
	return -1;
}

static int group_teardown(void **state)
{
	server_stop(&fx.good);
	server_stop(&fx.expired);
	server_stop(&fx.wronghost);
	server_stop(&fx.untrusted);
	server_stop(&fx.internal);
	if (fx.closed_fd >= 0) close(fx.closed_fd);
	fx.closed_fd = -1;
	if (fx.dir[0]) nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	fx.dir[0] = '\0';
	return 0;
}

/*
 *	Success cases
 */
static void test_valid(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	char *pem;
	size_t pem_len;
	int before = log_count(&fx.good, "GET /x.json 200");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(err.code, MUD_OK);
	assert_non_null(res);
	assert_ptr_equal(talloc_parent(res), ctx);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	assert_memory_equal(res->body, x_json, sizeof(x_json) - 1);
	assert_int_equal(res->body[res->len], '\0');
	assert_int_equal(res->status, 200);
	assert_string_equal(res->content_type, "application/mud+json");
	assert_string_equal(res->effective_url, url);
	assert_string_equal(res->primary_ip, "127.0.0.1");
	assert_non_null(res->server_cert_pem);
	assert_true(strncmp(res->server_cert_pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);

	/* It is the very certificate the server presented. */
	pem = test_read_file(ctx, fx.server_pem, &pem_len);
	assert_non_null(pem);
	assert_string_equal(res->server_cert_pem, pem);
	talloc_free(pem);

	assert_int_equal(log_count(&fx.good, "GET /x.json 200"), before + 1);

	talloc_free(res);
	talloc_free(url);
}

static void test_valid_localhost_binary(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "localhost", "/x.p7s");

	/* DNS name SAN, binary body with NULs, other content type. */
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(sig_bin));
	assert_memory_equal(res->body, sig_bin, sizeof(sig_bin));
	assert_string_equal(res->content_type, "application/pkcs7-signature");
	assert_string_equal(res->primary_ip, "127.0.0.1");
	talloc_free(res);
	talloc_free(url);

	/* Empty body: len 0, still a NUL-terminated buffer. Scheme case-insensitive. */
	url = talloc_asprintf(ctx, "HTTPS://127.0.0.1:%d/empty.json", fx.good.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, 0);
	assert_non_null(res->body);
	assert_int_equal(res->body[0], '\0');
	talloc_free(res);
	talloc_free(url);
}

static void test_ca_path(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = { .ca_path = fx.cadir, .max_redirs = -1 };
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	talloc_free(res);
	res = NULL;

	/* Only the configured CA is trusted: another CA file rejects the server. */
	opts.ca_path = NULL;
	opts.ca_file = fx.other_ca;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_string_equal(err.where, url);

	/* A CA file that does not exist. */
	mud_error_clear(&err);
	opts.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	talloc_free(url);
}

static void test_headers_sent(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/echo-accept");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal((char *)res->body, "application/mud+json");
	talloc_free(res);

	opts.accept = "application/pkcs7-signature";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal((char *)res->body, "application/pkcs7-signature");
	talloc_free(res);
	talloc_free(url);

	url = url_of(ctx, &fx.good, "127.0.0.1", "/echo-header?name=User-Agent");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal((char *)res->body, "rlm_mud/" PACKAGE_VERSION);
	talloc_free(res);

	opts.user_agent = "test-agent/1";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal((char *)res->body, "test-agent/1");
	talloc_free(res);

	/* Header injection is refused before any I/O. */
	opts.user_agent = "x\r\nX-Evil: 1";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_ARG);
	assert_null(res);
	assert_string_equal(err.where, "user_agent");
	mud_error_clear(&err);
	opts.user_agent = NULL;
	opts.accept = "a\nb";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "accept");
	talloc_free(url);
}

static void test_redirect_https(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/redirect-https?to=/x.json");
	char *final = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	int before = log_count(&fx.good, "GET /x.json 200");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal(res->effective_url, final);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	assert_memory_equal(res->body, x_json, sizeof(x_json) - 1);
	assert_int_equal(log_count(&fx.good, "GET /x.json 200"), before + 1);
	talloc_free(res);

	/* max_redirs = 0: no redirect followed. */
	opts.max_redirs = 0;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_FETCH);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_int_equal(log_count(&fx.good, "GET /x.json 200"), before + 1);
	talloc_free(url);
	talloc_free(final);
}

/*
 *	Failure cases
 */
static void test_redirect_http(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/redirect-http");
	char *text;
	int before = log_lines(&fx.good);

	/* A downgrade is a URL-policy refusal of the hop, with or without a policy. */
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_REFUSED);
	assert_null(res);
	text = talloc_asprintf(ctx, "url-policy: URL redirect 1 http://127.0.0.1:%d/x.json",
			       fx.good.port);
	assert_string_equal(err.where, text);
	assert_true(mud_where_refused(err.where));
	assert_string_equal(err.text, "scheme \"http\" is not https");
	/* Only the redirect itself reached the server; the http URL was not tried. */
	assert_int_equal(log_lines(&fx.good), before + 1);
	assert_int_equal(log_count(&fx.good, "GET /redirect-http 302"), 1);
	talloc_free(text);
	talloc_free(url);
}

static void test_redirect_loop(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/redirect-loop");
	int before = log_count(&fx.good, "GET /redirect-loop 302");

	char *text;

	/* Default: 3 redirects followed, so 4 requests, then an error. */
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_FETCH);
	assert_null(res);
	assert_string_equal(err.where, url);
	text = talloc_asprintf(ctx, "more than 3 redirects (the next to %s)", url);
	assert_string_equal(err.text, text);
	talloc_free(text);
	assert_int_equal(log_count(&fx.good, "GET /redirect-loop 302"), before + 4);

	/* Asking for more than the hard cap gets the cap (10). */
	mud_error_clear(&err);
	opts.max_redirs = 1000;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_FETCH);
	assert_non_null(strstr(err.text, "more than 10 redirects"));
	assert_int_equal(log_count(&fx.good, "GET /redirect-loop 302"), before + 4 + 11);
	talloc_free(url);
}

static void test_expired(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.expired, "127.0.0.1", "/x.json");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_int_equal(err.code, MUD_ERR_TLS);
	assert_string_equal(err.where, url);
	assert_string_equal(err.text, "SSL certificate problem: certificate has expired");
	/* No HTTP request ever reached the server. */
	assert_int_equal(log_lines(&fx.expired), 0);
	talloc_free(url);
}

/* mud_fetch_ex: a TLS failure still tells which server and which certificate (evidence). */
static void test_failure_evidence(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_fetch_result_t *failed = NULL;
	mud_error_t err = { 0 };
	char path[sizeof(fx.dir) + 32];
	char *url = url_of(ctx, &fx.expired, "127.0.0.1", "/x.json");
	char *pem;

	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_non_null(failed);
	assert_null(failed->body);
	assert_string_equal(failed->primary_ip, "127.0.0.1");
	snprintf(path, sizeof(path), "%s/expired.pem", fx.dir);
	pem = test_read_file(ctx, path, NULL);
	assert_non_null(pem);
	assert_non_null(failed->server_cert_pem);
	assert_string_equal(failed->server_cert_pem, pem);
	talloc_free(failed);
	talloc_free(pem);
	talloc_free(url);

	/* the untrusted server's certificate too (the chain fails above the leaf) */
	mud_error_clear(&err);
	url = url_of(ctx, &fx.untrusted, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_TLS);
	assert_non_null(failed);
	snprintf(path, sizeof(path), "%s/untrusted.pem", fx.dir);
	pem = test_read_file(ctx, path, NULL);
	assert_non_null(pem);
	assert_string_equal(failed->server_cert_pem, pem);
	talloc_free(failed);
	talloc_free(pem);
	talloc_free(url);

	/* nothing connected: no evidence, and failed stays NULL */
	mud_error_clear(&err);
	assert_int_equal(mud_fetch_ex(ctx, &res, "http://127.0.0.1/x.json", &opts, &failed, &err),
			 MUD_ERR_URL);
	assert_null(failed);
}

static void test_wronghost(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.wronghost, "localhost", "/x.json");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_non_null(strstr(err.text, "no alternative certificate subject name matches"));
	talloc_free(url);

	mud_error_clear(&err);
	url = url_of(ctx, &fx.wronghost, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_non_null(strstr(err.text, "'127.0.0.1'"));
	assert_int_equal(log_lines(&fx.wronghost), 0);
	talloc_free(url);
}

static void test_untrusted(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.untrusted, "127.0.0.1", "/x.json");

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_string_equal(err.text,
			    "SSL certificate problem: unable to get local issuer certificate");
	assert_int_equal(log_lines(&fx.untrusted), 0);

	/* Trusting the other CA makes it work: the failure was only the anchor. */
	opts.ca_file = fx.other_ca;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, NULL), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	talloc_free(res);
	talloc_free(url);
}

static void test_not_https(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = (mud_fetch_result_t *)&opts;	/* must be reset to NULL */
	mud_error_t err = { 0 };
	char *url;
	char *longurl;
	int before = log_lines(&fx.good);
	size_t i;
	char expect[256];
	static char const *bad[] = {
		"ftp://127.0.0.1/x.json",
		"file:///etc/passwd",
		"https:",
		"https://",
		"https:///x.json",
		"https://127.0.0.1/a b.json",
		"https://127.0.0.1/\x01.json",
		"https://127.0.0.1/caf\xc3\xa9.json",
		"//127.0.0.1/x.json",
		"127.0.0.1/x.json",
		"",
	};

	url = talloc_asprintf(ctx, "http://127.0.0.1:%d/x.json", fx.good.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_URL);
	assert_null(res);
	assert_string_equal(err.where, url);
	snprintf(expect, sizeof(expect), "only https URLs are fetched, not \"%s\"", url);
	assert_string_equal(err.text, expect);
	talloc_free(url);

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		mud_error_clear(&err);
		res = (mud_fetch_result_t *)&opts;
		assert_int_equal(mud_fetch(ctx, &res, bad[i], &opts, &err), MUD_ERR_URL);
		assert_null(res);
		assert_int_equal(err.code, MUD_ERR_URL);
		assert_true(err.text[0] != '\0');
	}

	/* Over-long: rejected, where holds an escaped, cut copy. */
	longurl = talloc_zero_array(ctx, char, MUD_MAX_URL_LEN + 2);
	memcpy(longurl, "https://127.0.0.1/", 18);
	memset(longurl + 18, 'a', MUD_MAX_URL_LEN + 1 - 18);
	mud_error_clear(&err);
	assert_int_equal(mud_fetch(ctx, &res, longurl, &opts, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "URL longer than 1024 bytes");
	assert_true(strlen(err.where) < 128);
	assert_non_null(strstr(err.where, "..."));
	/* Exactly the limit is fine as far as the URL check goes (404 from the server). */
	talloc_free(longurl);

	/* No network I/O happened for any of these. */
	assert_int_equal(log_lines(&fx.good), before);
}

static void test_http_status(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/missing.json");
	char expect[256];
	size_t i;
	static struct {
		char const	*path;
		char const	*where;
	} cases[] = {
		{ "/status/500", "HTTP 500" },
		{ "/status/204", "HTTP 204" },
		{ "/status/403", "HTTP 403" },
		{ "/status/302", "HTTP 302" },	/* no Location: nothing to follow */
	};

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_HTTP);
	assert_null(res);
	assert_string_equal(err.where, "HTTP 404");
	snprintf(expect, sizeof(expect), "GET %s returned HTTP 404", url);
	assert_string_equal(err.text, expect);
	talloc_free(url);

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		mud_error_clear(&err);
		url = url_of(ctx, &fx.good, "127.0.0.1", cases[i].path);
		assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_HTTP);
		assert_null(res);
		assert_string_equal(err.where, cases[i].where);
		talloc_free(url);
	}
}

static void test_toobig(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url;
	size_t i;

	opts.max_size = 1000;

	/* Announced length over the cap: CURLOPT_MAXFILESIZE. */
	url = url_of(ctx, &fx.good, "127.0.0.1", "/big?size=1001");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TOOBIG);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_string_equal(err.text, "body larger than 1000 bytes");
	talloc_free(url);

	/* No length announced: the write callback stops it. */
	mud_error_clear(&err);
	url = url_of(ctx, &fx.good, "127.0.0.1", "/big?size=5000&nolength=1");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TOOBIG);
	assert_null(res);
	assert_string_equal(err.text, "body larger than 1000 bytes");
	talloc_free(url);

	/* Exactly the cap is fine, both ways. */
	url = url_of(ctx, &fx.good, "127.0.0.1", "/big?size=1000");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, 1000);
	for (i = 0; i < res->len; i++) {
		if (res->body[i] != 'A') break;
	}
	assert_int_equal(i, 1000);
	assert_int_equal(res->body[1000], '\0');
	talloc_free(res);
	talloc_free(url);
	url = url_of(ctx, &fx.good, "127.0.0.1", "/big?size=1000&nolength=1");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, 1000);
	talloc_free(res);
	talloc_free(url);

	/* A cap above MUD_MAX_FILE_SIZE is clamped to it; growth past 16 KiB works. */
	opts.max_size = 10 * MUD_MAX_FILE_SIZE;
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/big?size=%d&nolength=1", fx.good.port,
			      MUD_MAX_FILE_SIZE);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, MUD_MAX_FILE_SIZE);
	assert_int_equal(res->body[MUD_MAX_FILE_SIZE - 1], 'A');
	assert_int_equal(res->body[MUD_MAX_FILE_SIZE], '\0');
	assert_true(talloc_get_size(res->body) == MUD_MAX_FILE_SIZE + 1);
	talloc_free(res);
	talloc_free(url);

	mud_error_clear(&err);
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/big?size=%d&nolength=1", fx.good.port,
			      MUD_MAX_FILE_SIZE + 1);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TOOBIG);
	assert_null(res);
	assert_string_equal(err.text, "body larger than 1048576 bytes");
	talloc_free(url);
}

static void test_timeout(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/slow");
	double t0;
	double dt;

	opts.timeout_ms = 1000;
	t0 = now_s();
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TIMEOUT);
	dt = now_s() - t0;
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_non_null(strstr(err.text, "timed out"));
	assert_true(dt >= 0.9);
	assert_true(dt < 5.0);
	talloc_free(url);
}

static void test_refused(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = talloc_asprintf(ctx, "https://127.0.0.1:%d/x.json", fx.closed_port);

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_FETCH);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_non_null(strstr(err.text, "Failed to connect"));
	talloc_free(url);
}

static void test_no_ca(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = { .max_redirs = -1 };
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	int before = log_lines(&fx.good);

	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_ARG);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_string_equal(err.text, "no CA configured for MUD servers");

	mud_error_clear(&err);
	assert_int_equal(mud_fetch(ctx, &res, url, NULL, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "no CA configured for MUD servers");
	assert_int_equal(log_lines(&fx.good), before);
	talloc_free(url);
}

static void test_bad_args(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");

	assert_int_equal(mud_fetch(ctx, NULL, url, &opts, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "out is NULL");
	mud_error_clear(&err);
	assert_int_equal(mud_fetch(ctx, &res, NULL, &opts, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "url is NULL");

	/* err may be NULL, on success and on failure. */
	assert_int_equal(mud_fetch(ctx, &res, "http://x/", &opts, NULL), MUD_ERR_URL);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, NULL), MUD_OK);
	talloc_free(res);

	/* The first error wins: a later failure leaves err alone. */
	mud_error_clear(&err);
	mud_error_set(&err, MUD_ERR_JSON, "/x", "first");
	assert_int_equal(mud_fetch(ctx, &res, "ftp://x/", &opts, &err), MUD_ERR_URL);
	assert_int_equal(err.code, MUD_ERR_JSON);
	assert_string_equal(err.text, "first");
	talloc_free(url);
}

/*
 *	URL policy: the first URL, each redirect hop, the signature URL and every
 *	address connected to. fx.internal must never see a connection.
 */

/** allow_private_urls = no; the good server (127.0.0.1 and its port) marked public. */
static mud_urlpolicy_t *policy_hooked(void *ctx, char const *deny)
{
	mud_urlpolicy_t *pol = NULL;
	mud_error_t err = { 0 };

	assert_int_equal(mud_urlpolicy_create(ctx, &pol, NULL, deny, false, &err), MUD_OK);
	assert_int_equal(mud_urlpolicy_test_public(pol, "127.0.0.1", (uint16_t)fx.good.port, &err),
			 MUD_OK);
	return pol;
}

/* No hook: the good server is loopback, so it is refused before the socket exists. */
static void test_policy_first_url(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_fetch_result_t *failed = NULL;
	mud_error_t err = { 0 };
	mud_urlpolicy_t *pol = NULL;
	char *url;
	char *where;
	int conns = conn_count(&fx.good);

	assert_int_equal(mud_urlpolicy_create(ctx, &pol, NULL, NULL, false, &err), MUD_OK);
	opts.policy = pol;
	opts.what = "MUD URL";

	/* IP literal: refused from the URL alone */
	url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_REFUSED);
	assert_null(res);
	where = talloc_asprintf(ctx, "url-policy: MUD URL %s", url);
	assert_string_equal(err.where, where);
	assert_string_equal(err.text, "host is an IP address literal in 127.0.0.0/8 loopback "
			    "(RFC 1122)");
	assert_non_null(failed);
	assert_string_equal(failed->refused_url, url);
	assert_null(failed->primary_ip);
	talloc_free(failed);
	talloc_free(where);
	talloc_free(url);

	/* a name: refused in the open-socket callback, for every address it resolves to */
	mud_error_clear(&err);
	url = url_of(ctx, &fx.good, "localhost", "/x.json");
	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_REFUSED);
	assert_null(res);
	where = talloc_asprintf(ctx, "url-policy: MUD URL %s", url);
	assert_string_equal(err.where, where);
	assert_true(strncmp(err.text, "host resolves to ", 17) == 0);
	assert_non_null(strstr(err.text, "loopback"));
	assert_non_null(strstr(err.text, "; not connected"));
	assert_non_null(failed);
	assert_string_equal(failed->refused_url, url);
	assert_non_null(failed->primary_ip);
	assert_true(strcmp(failed->primary_ip, "127.0.0.1") == 0 ||
		    strcmp(failed->primary_ip, "::1") == 0);
	assert_null(failed->server_cert_pem);
	talloc_free(failed);
	talloc_free(where);
	talloc_free(url);

	/* the same server with allow_private_urls = yes: fetched (the refusal was the policy) */
	talloc_free(pol);
	assert_int_equal(mud_urlpolicy_create(ctx, &pol, NULL, NULL, true, &err), MUD_OK);
	opts.policy = pol;
	url = url_of(ctx, &fx.good, "localhost", "/x.json");
	assert_int_equal(conn_count(&fx.good), conns);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(conn_count(&fx.good), conns + 1);
	talloc_free(res);
	talloc_free(url);
	talloc_free(pol);
}

/* The hook makes the good server public: fetched; ::1 (not marked) is still refused. */
static void test_policy_hook(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	char *url;

	opts.policy = policy_hooked(ctx, NULL);
	url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	talloc_free(res);
	talloc_free(url);

	url = url_of(ctx, &fx.good, "localhost", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_string_equal(res->primary_ip, "127.0.0.1");
	talloc_free(res);
	talloc_free(url);
	talloc_free((void *)opts.policy);
}

/* Each redirect hop passes the policy before it is requested. */
static void test_policy_redirect(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_fetch_result_t *failed = NULL;
	mud_error_t err = { 0 };
	mud_urlpolicy_t *open_pol = NULL;
	int iconns = conn_count(&fx.internal);
	char *url;
	char *where;
	size_t i;
	struct {
		char const	*target;	//!< %d: the internal port, %g: the good port
		unsigned int	hop;		//!< hop refused
		char const	*why;		//!< reason (prefix)
		bool		connected;	//!< refused at connect time (else from the URL)
	} const cases[] = {
		{ "https://127.0.0.1:%d/x.json", 1,
		  "host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)", false },
		{ "https://localhost:%d/x.json", 1, "host resolves to ", true },
		{ "https://[::ffff:127.0.0.1]:%d/x.json", 1, "host is an IP address literal in "
		  "::ffff:0:0/96 IPv4-mapped (RFC 4291) carrying 127.0.0.1", false },
		{ "https://0x7f.1:%d/x.json", 1,
		  "host is an IP address literal in 127.0.0.0/8 loopback (RFC 1122)", false },
		{ "https://%%6cocalhost:%d/x.json", 1, "host resolves to ", true },
		{ "https://DENIED.example.:0443/x.json", 1,
		  "authority denied.example:443 is in url_deny (entry \"denied.example\")", false },
		{ "https://user:pw@127.0.0.1:%g/x.json", 1, "userinfo (credentials) in the URL",
		  false },
		{ "ftp://127.0.0.1:%d/x.json", 1, "scheme \"ftp\" is not https", false },
		{ "https://127.0.0.1:%g/redirect-to%%3Furl%%3Dhttps://localhost:%d/x.json", 2,
		  "host resolves to ", true },
	};

	opts.policy = policy_hooked(ctx, "denied.example");
	opts.what = "MUD URL";
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char target[256];
		char *hop_url;
		char const *p;
		size_t n = 0;

		/* expand %d (internal port), %g (good port), %% */
		for (p = cases[i].target; *p && n + 8 < sizeof(target); p++) {
			if (p[0] == '%' && p[1] == 'd') {
				n += (size_t)snprintf(target + n, sizeof(target) - n, "%d",
						      fx.internal.port);
				p++;
			} else if (p[0] == '%' && p[1] == 'g') {
				n += (size_t)snprintf(target + n, sizeof(target) - n, "%d",
						      fx.good.port);
				p++;
			} else if (p[0] == '%' && p[1] == '%') {
				target[n++] = '%';
				p++;
			} else {
				target[n++] = *p;
			}
		}
		target[n] = '\0';

		mud_error_clear(&err);
		url = talloc_asprintf(ctx, "https://127.0.0.1:%d/redirect-to?url=%s", fx.good.port,
				      target);
		assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err),
				 MUD_ERR_REFUSED);
		assert_null(res);
		if (strncmp(err.text, cases[i].why, strlen(cases[i].why)) != 0) {
			fprintf(stderr, "case %zu: %s (at %s)\n", i, err.text, err.where);
		}
		assert_true(strncmp(err.text, cases[i].why, strlen(cases[i].why)) == 0);
		assert_true(mud_where_refused(err.where));
		where = talloc_asprintf(ctx, "url-policy: MUD URL redirect %u ", cases[i].hop);
		assert_true(strncmp(err.where, where, strlen(where)) == 0);
		assert_non_null(failed);
		assert_non_null(failed->refused_url);
		hop_url = failed->refused_url;
		assert_string_equal(err.where + strlen(where), hop_url);
		assert_non_null(failed->primary_ip);
		if (cases[i].connected) {
			assert_true(strcmp(failed->primary_ip, "127.0.0.1") == 0 ||
				    strcmp(failed->primary_ip, "::1") == 0);
			assert_non_null(strstr(err.text, "; not connected"));
		} else {
			/* the server that sent the redirect */
			assert_string_equal(failed->primary_ip, "127.0.0.1");
		}
		talloc_free(failed);
		talloc_free(where);
		talloc_free(url);
	}
	assert_int_equal(conn_count(&fx.internal), iconns);

	/* a hop to the good (public) server is followed */
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/redirect-to?url=https://127.0.0.1:%d/"
			      "x.json", fx.good.port, fx.good.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	talloc_free(res);
	talloc_free(url);
	talloc_free((void *)opts.policy);

	/* control: with allow_private_urls = yes the internal server is reachable, so the
	 * zero above is the policy's doing */
	assert_int_equal(mud_urlpolicy_create(ctx, &open_pol, NULL, NULL, true, &err), MUD_OK);
	opts.policy = open_pol;
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/redirect-to?url=https://localhost:%d/"
			      "x.json", fx.good.port, fx.internal.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(conn_count(&fx.internal), iconns + 1);
	talloc_free(res);
	talloc_free(url);
	talloc_free(open_pol);
}

/* The signature URL comes from the file (not yet verified): the same policy applies. */
static void test_policy_signature(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_policy_opts_t popts;
	mud_policy_t *pol = NULL;
	mud_policy_t *evd = NULL;
	mud_trust_t *trust = NULL;
	mud_error_t err = { 0 };
	int iconns = conn_count(&fx.internal);
	char path[PATH_MAX];
	size_t i;
	static char const tmpl[] = "{\"ietf-mud:mud\":{\"mud-version\":1,"
		"\"mud-url\":\"https://127.0.0.1:%d/sig%zu.json\","
		"\"mud-signature\":\"%s\","
		"\"last-update\":\"2024-05-01T10:00:00+00:00\",\"cache-validity\":48,"
		"\"is-supported\":true,\"systeminfo\":\"t\","
		"\"from-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]}}},"
		"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\","
		"\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"d\",\"matches\":"
		"{\"ipv4\":{\"protocol\":17},\"udp\":{\"destination-port\":{\"operator\":\"eq\","
		"\"port\":53}}},\"actions\":{\"forwarding\":\"accept\"}}]}}]}}";
	size_t const nsigs = 3;

	assert_int_equal(mud_trust_load(ctx, &trust, fx.ca, NULL, &err), MUD_OK);
	memset(&popts, 0, sizeof(popts));
	popts.fetch = opts_default();
	popts.fetch.policy = policy_hooked(ctx, NULL);
	popts.trust = trust;
	popts.require_signature = false;	/* a refusal is never tolerated */
	popts.format = MUD_FMT_CISCO_DACL;

	for (i = 0; i < nsigs; i++) {
		char sigurl[256];
		char *json;
		char *url;
		char *where;

		/* a name resolving to loopback, an IP literal, a redirect to loopback */
		if (i == 0) {
			snprintf(sigurl, sizeof(sigurl), "https://localhost:%d/sig.p7s",
				 fx.internal.port);
		} else if (i == 1) {
			snprintf(sigurl, sizeof(sigurl), "https://127.0.0.1:%d/sig.p7s",
				 fx.internal.port);
		} else {
			snprintf(sigurl, sizeof(sigurl), "https://127.0.0.1:%d/redirect-to?"
				 "url=https://localhost:%d/s.p7s", fx.good.port, fx.internal.port);
		}
		json = talloc_asprintf(ctx, tmpl, fx.good.port, i, sigurl);
		snprintf(path, sizeof(path), "%s/root/sig%zu.json", fx.dir, i);
		assert_int_equal(write_file(path, json, strlen(json)), 0);
		talloc_free(json);

		url = talloc_asprintf(ctx, "https://127.0.0.1:%d/sig%zu.json", fx.good.port, i);
		mud_error_clear(&err);
		assert_int_equal(mud_policy_fetch(ctx, &pol, url, &popts, &evd, &err),
				 MUD_ERR_REFUSED);
		assert_null(pol);
		if (i < 2) {
			where = talloc_asprintf(ctx, "url-policy: signature URL %s", sigurl);
		} else {
			where = talloc_asprintf(ctx, "url-policy: signature URL redirect 1 "
						"https://localhost:%d/s.p7s", fx.internal.port);
		}
		assert_string_equal(err.where, where);
		assert_non_null(evd);
		assert_string_equal(evd->sig_url, sigurl);
		assert_non_null(evd->refused_url);
		assert_string_equal(err.where + strlen(where) - strlen(evd->refused_url),
				    evd->refused_url);
		assert_true(evd->file_sha256[0] != '\0');	/* the file was fetched */
		if (i == 1) {
			/* refused from the URL: nothing connected for it */
			assert_string_equal(err.text, "host is an IP address literal in "
					    "127.0.0.0/8 loopback (RFC 1122)");
			assert_null(evd->server_ip);
		} else {
			/* refused in the open-socket callback: the address refused */
			assert_true(strncmp(err.text, "host resolves to ", 17) == 0);
			assert_non_null(evd->server_ip);
			assert_null(evd->server_cert_pem);
		}
		talloc_free(evd);
		talloc_free(where);
		talloc_free(url);
	}
	assert_int_equal(conn_count(&fx.internal), iconns);
	talloc_free((void *)popts.fetch.policy);
	talloc_free(trust);
}

/** mud_policy_fetch() keeps the MUD file and the signature it fetched (what the cache keeps
 *  for a recompile): without anchors no signature is fetched (NULL); with them, the .p7s
 *  made at test time by tests/tools/mksig.sh, byte for byte. A failure returns no policy. */
static void test_policy_keeps_bytes(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_policy_opts_t popts;
	mud_policy_t *pol = NULL;
	mud_policy_t *evd = NULL;
	mud_trust_t *trust = NULL;
	mud_error_t err = { 0 };
	char const *top = getenv("top_srcdir");
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/keep.json");
	char *json = talloc_asprintf(ctx, "{\"ietf-mud:mud\":{\"mud-version\":1,"
		"\"mud-url\":\"%s\",\"last-update\":\"2024-05-01T10:00:00+00:00\","
		"\"cache-validity\":48,\"is-supported\":true,\"systeminfo\":\"t\","
		"\"from-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"a\"}]}}},"
		"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"a\","
		"\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"d\",\"matches\":"
		"{\"ipv4\":{\"protocol\":17},\"udp\":{\"destination-port\":{\"operator\":\"eq\","
		"\"port\":53}}},\"actions\":{\"forwarding\":\"accept\"}}]}}]}}\n", url);
	char *sigdir = talloc_asprintf(ctx, "%s/sig", fx.dir);
	char *path = talloc_asprintf(ctx, "%s/root/keep.json", fx.dir);
	char *p7s = talloc_asprintf(ctx, "%s/root/keep.p7s", fx.dir);
	char *anchor = talloc_asprintf(ctx, "%s/signer-ca.pem", sigdir);
	char *cmd;
	uint8_t *sig;
	size_t sig_len = 0;

	assert_int_equal(write_file(path, json, strlen(json)), 0);
	memset(&popts, 0, sizeof(popts));
	popts.fetch = opts_default();
	popts.format = MUD_FMT_CISCO_DACL;

	assert_int_equal(mud_policy_fetch(ctx, &pol, url, &popts, NULL, &err), MUD_OK);
	assert_int_equal(pol->file_len, strlen(json));
	assert_memory_equal(pol->file_bytes, json, strlen(json));
	assert_int_equal(pol->file_bytes[pol->file_len], '\0');
	assert_ptr_equal(talloc_parent(pol->file_bytes), pol);
	assert_null(pol->sig_bytes);
	assert_int_equal(pol->sig_len, 0);
	assert_false(pol->recompiled);
	TALLOC_FREE(pol);

	/* signed: the signature kept as fetched */
	assert_int_equal(mkdir(sigdir, 0700), 0);
	cmd = talloc_asprintf(ctx, "sh '%s/tests/tools/mksig.sh' init '%s' >/dev/null 2>&1 && "
			      "sh '%s/tests/tools/mksig.sh' sign '%s' signer '%s' '%s'",
			      top ? top : ".", sigdir, top ? top : ".", sigdir, path, p7s);
	assert_int_equal(system(cmd), 0);
	sig = (uint8_t *)test_read_file(ctx, p7s, &sig_len);
	assert_non_null(sig);
	assert_int_equal(mud_trust_load(ctx, &trust, anchor, NULL, &err), MUD_OK);
	popts.trust = trust;
	popts.require_signature = true;
	assert_int_equal(mud_policy_fetch(ctx, &pol, url, &popts, &evd, &err), MUD_OK);
	assert_null(evd);
	assert_non_null(pol->signer);
	assert_int_equal(pol->file_len, strlen(json));
	assert_memory_equal(pol->file_bytes, json, strlen(json));
	assert_int_equal(pol->sig_len, sig_len);
	assert_memory_equal(pol->sig_bytes, sig, sig_len);
	assert_ptr_equal(talloc_parent(pol->sig_bytes), pol);
	TALLOC_FREE(pol);

	/* a file altered after signing: no policy; the evidence as before, no bytes kept */
	strstr(json, "\"systeminfo\":\"t\"")[14] = 'u';
	assert_int_equal(write_file(path, json, strlen(json)), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_policy_fetch(ctx, &pol, url, &popts, &evd, &err), MUD_ERR_SIG_DIGEST);
	assert_null(pol);
	assert_non_null(evd);
	assert_true(evd->file_sha256[0] != '\0');
	assert_null(evd->file_bytes);
	assert_null(evd->sig_bytes);

	talloc_free(evd);
	talloc_free(trust);
	talloc_free(sig);
	talloc_free(cmd);
	talloc_free(anchor);
	talloc_free(p7s);
	talloc_free(path);
	talloc_free(sigdir);
	talloc_free(json);
	talloc_free(url);
}

/*
 *	mud_ca_t: trust anchors loaded once (mud_ca_load), installed in every connection by the
 *	SSL_CTX callback; libcurl reads no CA file.
 */

/** mud_ca_load() must fail with code, where = path, text starting with prefix; nothing left
 *  under ctx, nothing on the OpenSSL error queue. */
static void ca_load_fails(TALLOC_CTX *ctx, char const *file, char const *dir, mud_rcode_t code,
			  char const *where, char const *prefix)
{
	mud_ca_t *ca = (mud_ca_t *)ctx;	/* must be reset to NULL */
	mud_error_t err = { 0 };
	size_t blocks = talloc_total_blocks(ctx);

	if (mud_ca_load(ctx, &ca, file, dir, &err) != code || err.code != code ||
	    strcmp(err.where, where) != 0 || strncmp(err.text, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "mud_ca_load(%s, %s): got %d \"%s\" at \"%s\", expected %d "
			"\"%s...\" at \"%s\"\n", file ? file : "NULL", dir ? dir : "NULL",
			(int)err.code, err.text, err.where, (int)code, prefix, where);
		fail();
	}
	assert_null(ca);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
	assert_int_equal(ERR_peek_error(), 0);
}

static mud_ca_t *ca_load_ok(TALLOC_CTX *ctx, char const *file, char const *dir, size_t count)
{
	mud_ca_t *ca = NULL;
	mud_error_t err = { 0 };

	if (mud_ca_load(ctx, &ca, file, dir, &err) != MUD_OK) {
		fprintf(stderr, "mud_ca_load(%s, %s): %s (at %s)\n", file ? file : "NULL",
			dir ? dir : "NULL", err.text, err.where);
		fail();
	}
	assert_non_null(ca);
	assert_ptr_equal(talloc_parent(ca), ctx);
	assert_int_equal(mud_ca_count(ca), count);
	assert_int_equal(ERR_peek_error(), 0);
	return ca;
}

/** Concatenate files into path. */
static void cat_files(char const *path, char const *a, char const *b, char const *c)
{
	char const *in[] = { a, b, c };
	FILE *out = fopen(path, "wb");
	size_t i;

	assert_non_null(out);
	for (i = 0; i < ARRAY_LEN(in); i++) {
		char buf[4096];
		size_t n;
		FILE *fp;

		if (!in[i]) continue;
		fp = fopen(in[i], "rb");
		assert_non_null(fp);
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
			assert_int_equal(fwrite(buf, 1, n, out), n);
		}
		fclose(fp);
	}
	assert_int_equal(fclose(out), 0);
}

/** A PEM file (a copy of pem) padded with text lines (ignored by PEM readers) to size bytes. */
static void pem_padded(char const *path, char const *pem, size_t size)
{
	char line[200];
	size_t len;
	FILE *fp;

	cat_files(path, pem, NULL, NULL);
	fp = fopen(path, "ab");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = (size_t)ftell(fp);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (len < size) {
		size_t n = size - len < sizeof(line) ? size - len : sizeof(line);

		if (n < sizeof(line)) line[n - 1] = '\n';
		assert_int_equal(fwrite(line, 1, n, fp), n);
		len += n;
	}
	assert_int_equal(fclose(fp), 0);
}

static void test_ca_load(void **state)
{
	TALLOC_CTX *ctx = *state;
	char d[sizeof(fx.dir) + 32];
	char path[PATH_MAX];
	char path2[PATH_MAX];
	char key[PATH_MAX];
	char cdir[sizeof(d) + 16];
	char where[PATH_MAX];
	mud_error_t err = { 0 };
	FILE *fp;
	int fd;

	snprintf(d, sizeof(d), "%s/caload", fx.dir);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(key, sizeof(key), "%s/server.key", fx.dir);

	/* arguments */
	assert_int_equal(mud_ca_load(ctx, NULL, fx.ca, NULL, &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	ca_load_fails(ctx, NULL, NULL, MUD_ERR_ARG, "mud_ca_load",
		      "neither a CA file nor a CA directory given");
	ca_load_fails(ctx, "", "", MUD_ERR_ARG, "mud_ca_load", "neither");

	/* good: a file, the hashed directory, both, a bundle, a symbolic link to a file */
	talloc_free(ca_load_ok(ctx, fx.ca, NULL, 1));
	talloc_free(ca_load_ok(ctx, NULL, fx.cadir, 1));
	talloc_free(ca_load_ok(ctx, fx.ca, fx.cadir, 2));
	snprintf(path, sizeof(path), "%s/bundle.pem", d);
	cat_files(path, fx.ca, key, fx.other_ca);	/* a key between them is ignored */
	talloc_free(ca_load_ok(ctx, path, NULL, 2));
	snprintf(path2, sizeof(path2), "%s/link.pem", d);
	assert_int_equal(symlink(fx.ca, path2), 0);
	talloc_free(ca_load_ok(ctx, path2, "", 1));
	assert_int_equal(mud_ca_count(NULL), 0);

	/* a missing file; a dangling link */
	snprintf(path, sizeof(path), "%s/missing.pem", d);
	ca_load_fails(ctx, path, NULL, MUD_ERR_IO, path,
		      "CA file: stat: No such file or directory");
	snprintf(path2, sizeof(path2), "%s/dangling.pem", d);
	assert_int_equal(symlink(path, path2), 0);
	ca_load_fails(ctx, path2, NULL, MUD_ERR_IO, path2,
		      "CA file: stat: No such file or directory");

	/* empty */
	snprintf(path, sizeof(path), "%s/empty.pem", d);
	assert_int_equal(write_file(path, "", 0), 0);
	ca_load_fails(ctx, path, NULL, MUD_ERR_ARG, path, "no certificate in the CA file");

	/* garbage: text and binary */
	snprintf(path, sizeof(path), "%s/garbage.pem", d);
	assert_int_equal(write_file(path, "not a certificate\n", 18), 0);
	ca_load_fails(ctx, path, NULL, MUD_ERR_ARG, path, "no certificate in the CA file");
	assert_int_equal(write_file(path, sig_bin, sizeof(sig_bin)), 0);
	ca_load_fails(ctx, path, NULL, MUD_ERR_ARG, path, "no certificate in the CA file");

	/* malformed PEM: a block cut short, a block whose content is no certificate */
	snprintf(path, sizeof(path), "%s/cut.pem", d);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ\n", fp);
	fclose(fp);
	ca_load_fails(ctx, path, NULL, MUD_ERR_ARG, path, "CA file: malformed PEM");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n", fp);
	fclose(fp);
	ca_load_fails(ctx, path, NULL, MUD_ERR_ARG, path, "CA file: malformed PEM");

	/* a private key only */
	ca_load_fails(ctx, key, NULL, MUD_ERR_ARG, key, "no certificate in the CA file");

	/* a directory given as the file; a FIFO (refused unopened: never blocks) */
	ca_load_fails(ctx, fx.cadir, NULL, MUD_ERR_IO, fx.cadir,
		      "CA file: a directory, not a regular file");
	snprintf(path, sizeof(path), "%s/fifo.pem", d);
	assert_int_equal(mkfifo(path, 0600), 0);
	ca_load_fails(ctx, path, NULL, MUD_ERR_IO, path, "CA file: a FIFO, not a regular file");

	/* over MUD_CA_MAX_BYTES (sparse: nothing is written to disk) */
	snprintf(path, sizeof(path), "%s/huge.pem", d);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)MUD_CA_MAX_BYTES + 1), 0);
	close(fd);
	ca_load_fails(ctx, path, NULL, MUD_ERR_TOOBIG, path, "CA file: 16777217 bytes, more than "
		      "16777216");

	/* over MUD_CA_MAX_CERTS (the same certificate, counted each time) */
	snprintf(path, sizeof(path), "%s/many.pem", d);
	{
		char *one = test_read_file(ctx, fx.ca, NULL);
		int i;

		assert_non_null(one);
		fp = fopen(path, "w");
		assert_non_null(fp);
		for (i = 0; i <= MUD_CA_MAX_CERTS; i++) fputs(one, fp);
		assert_int_equal(fclose(fp), 0);
		talloc_free(one);
	}
	ca_load_fails(ctx, path, NULL, MUD_ERR_LIMIT, path, "more than 5000 CA certificates");

	/* unreadable (root reads anything: not testable then) */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/noread.pem", d);
		cat_files(path, fx.ca, NULL, NULL);
		assert_int_equal(chmod(path, 0), 0);
		ca_load_fails(ctx, path, NULL, MUD_ERR_IO, path,
			      "CA file: open: Permission denied");
	}

	/* a good file does not save a bad directory, nor the reverse */
	snprintf(path, sizeof(path), "%s/missing", d);
	ca_load_fails(ctx, fx.ca, path, MUD_ERR_IO, path,
		      "CA directory: opendir: No such file or directory");
	ca_load_fails(ctx, key, fx.cadir, MUD_ERR_ARG, key, "no certificate in the CA file");

	/* the directory: a file, empty, only files OpenSSL would not look at */
	ca_load_fails(ctx, NULL, fx.ca, MUD_ERR_IO, fx.ca,
		      "CA directory: opendir: Not a directory");
	snprintf(cdir, sizeof(cdir), "%s/cadir", d);
	assert_int_equal(mkdir(cdir, 0700), 0);
	ca_load_fails(ctx, NULL, cdir, MUD_ERR_ARG, cdir, "no certificate in the CA directory");
	snprintf(path2, sizeof(path2), "%s/ca.pem", cdir);
	cat_files(path2, fx.ca, NULL, NULL);
	snprintf(path2, sizeof(path2), "%s/9D66EEF0.0", cdir);	/* not lower case */
	cat_files(path2, fx.ca, NULL, NULL);
	snprintf(path2, sizeof(path2), "%s/12345678.r0", cdir);	/* a CRL's name */
	cat_files(path2, fx.ca, NULL, NULL);
	ca_load_fails(ctx, NULL, cdir, MUD_ERR_ARG, cdir, "no certificate in the CA directory");

	/* ... a hash-named file: read; one with garbage names itself */
	snprintf(path2, sizeof(path2), "%s/0123abcd.0", cdir);
	cat_files(path2, fx.ca, NULL, fx.other_ca);
	talloc_free(ca_load_ok(ctx, NULL, cdir, 2));
	snprintf(path2, sizeof(path2), "%s/0123abcd.1", cdir);
	assert_int_equal(write_file(path2, "junk\n", 5), 0);
	snprintf(where, sizeof(where), "%s", path2);
	ca_load_fails(ctx, NULL, cdir, MUD_ERR_ARG, where,
		      "no certificate in the CA directory file");
	assert_int_equal(unlink(path2), 0);

	/* ... a hash-named directory is not a certificate file */
	assert_int_equal(mkdir(path2, 0700), 0);
	ca_load_fails(ctx, NULL, cdir, MUD_ERR_IO, where,
		      "CA directory file: a directory, not a regular file");
	assert_int_equal(rmdir(path2), 0);

	/* ... the directory's files count together against MUD_CA_MAX_BYTES: two good files of
	 * just over half of it each (whichever is read first, the second is too much) */
	snprintf(path2, sizeof(path2), "%s/0123abcd.2", cdir);
	pem_padded(path2, fx.ca, MUD_CA_MAX_BYTES / 2 + 1);
	talloc_free(ca_load_ok(ctx, NULL, cdir, 3));
	snprintf(where, sizeof(where), "%s/0123abcd.3", cdir);
	assert_int_equal(link(path2, where), 0);
	ca_load_fails(ctx, NULL, cdir, MUD_ERR_TOOBIG, cdir,
		      "CA directory: certificate files larger than 16777216 bytes together");
	assert_int_equal(unlink(path2), 0);
	assert_int_equal(unlink(where), 0);
	talloc_free(ca_load_ok(ctx, NULL, cdir, 2));

	/* unreadable directory */
	if (geteuid() != 0) {
		assert_int_equal(chmod(cdir, 0), 0);
		ca_load_fails(ctx, NULL, cdir, MUD_ERR_IO, cdir,
			      "CA directory: opendir: Permission denied");
		assert_int_equal(chmod(cdir, 0700), 0);
	}
}

static void test_ca_fetch(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = { .max_redirs = -1 };
	mud_fetch_result_t *res = NULL;
	mud_fetch_result_t *failed = NULL;
	mud_error_t err = { 0 };
	mud_ca_t *good = ca_load_ok(ctx, fx.ca, NULL, 1);
	mud_ca_t *other = ca_load_ok(ctx, fx.other_ca, NULL, 1);
	mud_ca_t *dir = ca_load_ok(ctx, NULL, fx.cadir, 1);
	char *url = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	char path[sizeof(fx.dir) + 32];
	char *pem;

	/* the ca alone is a CA configuration; the leaf is still captured */
	opts.ca = good;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	assert_memory_equal(res->body, x_json, sizeof(x_json) - 1);
	pem = test_read_file(ctx, fx.server_pem, NULL);
	assert_non_null(pem);
	assert_non_null(res->server_cert_pem);
	assert_string_equal(res->server_cert_pem, pem);
	TALLOC_FREE(res);
	talloc_free(pem);

	/* as with CURLOPT_CAINFO (libcurl sets X509_V_FLAG_PARTIAL_CHAIN), any certificate given
	 * is an anchor: here the server's own */
	opts.ca = ca_load_ok(ctx, fx.server_pem, NULL, 1);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	talloc_free((void *)opts.ca);
	opts.ca = NULL;
	opts.ca_file = fx.server_pem;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	opts.ca_file = NULL;

	/* the hashed directory, loaded */
	opts.ca = dir;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);

	/* ca wins: libcurl is given no CA file, neither a missing one nor the right one */
	opts.ca = good;
	opts.ca_file = "/nonexistent/ca.pem";
	opts.ca_path = "/nonexistent";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	opts.ca = other;
	opts.ca_file = fx.ca;
	opts.ca_path = fx.cadir;
	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_TLS);
	assert_null(res);
	assert_string_equal(err.where, url);
	assert_string_equal(err.text,
			    "SSL certificate problem: unable to get local issuer certificate");
	/* the certificate the server presented is evidence also then */
	pem = test_read_file(ctx, fx.server_pem, NULL);
	assert_non_null(failed);
	assert_string_equal(failed->server_cert_pem, pem);
	TALLOC_FREE(failed);
	talloc_free(pem);
	opts.ca_file = NULL;
	opts.ca_path = NULL;

	/* an unrelated CA: the same error as today's untrusted server; that server passes with
	 * its own CA */
	mud_error_clear(&err);
	opts.ca = good;
	talloc_free(url);
	url = url_of(ctx, &fx.untrusted, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_string_equal(err.text,
			    "SSL certificate problem: unable to get local issuer certificate");
	opts.ca = other;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	talloc_free(url);

	/* verification is otherwise unchanged: expiry, host name */
	mud_error_clear(&err);
	opts.ca = good;
	url = url_of(ctx, &fx.expired, "127.0.0.1", "/x.json");
	assert_int_equal(mud_fetch_ex(ctx, &res, url, &opts, &failed, &err), MUD_ERR_TLS);
	assert_string_equal(err.text, "SSL certificate problem: certificate has expired");
	snprintf(path, sizeof(path), "%s/expired.pem", fx.dir);
	pem = test_read_file(ctx, path, NULL);
	assert_non_null(failed);
	assert_string_equal(failed->server_cert_pem, pem);
	TALLOC_FREE(failed);
	talloc_free(pem);
	talloc_free(url);
	mud_error_clear(&err);
	url = url_of(ctx, &fx.wronghost, "localhost", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_non_null(strstr(err.text, "no alternative certificate subject name matches"));
	talloc_free(url);
	assert_int_equal(log_lines(&fx.expired), 0);
	assert_int_equal(log_lines(&fx.wronghost), 0);

	/* a failed handshake leaves nothing on this thread's OpenSSL queue (libcurl would) */
	url = url_of(ctx, &fx.expired, "127.0.0.1", "/x.json");
	opts.ca = NULL;
	opts.ca_file = fx.ca;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, NULL), MUD_ERR_TLS);
	assert_int_equal(ERR_peek_error(), 0);
	opts.ca = good;
	opts.ca_file = NULL;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, NULL), MUD_ERR_TLS);
	assert_int_equal(ERR_peek_error(), 0);
	talloc_free(url);

	/* the caller may free its mud_ca_t after the fetch: the handle's reference is gone */
	talloc_free(good);
	talloc_free(other);
	talloc_free(dir);
	assert_int_equal(ERR_peek_error(), 0);
}

/* Every new connection gets the anchors: a redirect to another server (a second TLS
 * connection on the same handle, where libcurl 7.87+ offers its cached CA store). */
static void test_ca_redirect(void **state)
{
	TALLOC_CTX *ctx = *state;
	mud_fetch_opts_t opts = { .max_redirs = -1 };
	mud_fetch_result_t *res = NULL;
	mud_error_t err = { 0 };
	mud_ca_t *good = ca_load_ok(ctx, fx.ca, NULL, 1);
	mud_ca_t *both;
	char path[sizeof(fx.dir) + 32];
	char *url;
	char *final;
	int conns = conn_count(&fx.good);
	int uconns = conn_count(&fx.untrusted);
	int ulines = log_lines(&fx.untrusted);

	snprintf(path, sizeof(path), "%s/both.pem", fx.dir);
	cat_files(path, fx.ca, fx.other_ca, NULL);
	both = ca_load_ok(ctx, path, NULL, 2);

	/* 127.0.0.1 -> localhost, then -> 127.0.0.1 again: three hops, two servers' names */
	opts.ca = good;
	final = url_of(ctx, &fx.good, "127.0.0.1", "/x.json");
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/redirect-to?url=https://localhost:%d/"
			      "redirect-https%%3Fto=/x.json", fx.good.port, fx.good.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	assert_string_equal(res->effective_url, talloc_asprintf(res, "https://localhost:%d/x.json",
								fx.good.port));
	TALLOC_FREE(res);
	assert_true(conn_count(&fx.good) >= conns + 2);	/* 127.0.0.1, localhost */
	talloc_free(url);
	talloc_free(final);

	/* a redirect to a server of another CA: the second connection is checked too */
	mud_error_clear(&err);
	url = talloc_asprintf(ctx, "https://127.0.0.1:%d/redirect-to?url=https://localhost:%d/"
			      "x.json", fx.good.port, fx.untrusted.port);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_string_equal(err.text,
			    "SSL certificate problem: unable to get local issuer certificate");
	assert_int_equal(conn_count(&fx.untrusted), uconns + 1);
	assert_int_equal(log_lines(&fx.untrusted), ulines);	/* no request reached it */
	opts.ca = both;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	talloc_free(url);

	talloc_free(good);
	talloc_free(both);
}

/*
 *	Concurrency: each thread has its own talloc root (talloc is not thread-safe).
 */
#define TEST_THREADS	4
#define TEST_PER_THREAD	5

typedef struct {
	int		port;
	int		ok;
	int		leaked;
	mud_ca_t const	*ca;		//!< shared by all threads (test_ca_threads)
	int		bad_port;	//!< test_ca_threads: a server of another CA
	int		refused;	//!< its fetches failing with MUD_ERR_TLS
} thread_arg_t;

static void *fetch_thread(void *uctx)
{
	thread_arg_t *arg = uctx;
	TALLOC_CTX *root = talloc_new(NULL);
	mud_fetch_opts_t opts = opts_default();
	char url[128];
	int i;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/x.json", arg->port);
	for (i = 0; i < TEST_PER_THREAD; i++) {
		mud_fetch_result_t *res = NULL;
		mud_error_t err = { 0 };

		if ((mud_fetch(root, &res, url, &opts, &err) == MUD_OK) &&
		    (res->len == sizeof(x_json) - 1) &&
		    (memcmp(res->body, x_json, res->len) == 0)) {
			arg->ok++;
		}
		talloc_free(res);
	}
	arg->leaked = (int)talloc_total_blocks(root) - 1;
	talloc_free(root);
	return NULL;
}

/* One mud_ca_t for all threads, fetching at once: a server it trusts and one it does not. */
static void *ca_fetch_thread(void *uctx)
{
	thread_arg_t *arg = uctx;
	TALLOC_CTX *root = talloc_new(NULL);
	mud_fetch_opts_t opts = { .ca = arg->ca, .max_redirs = -1 };
	char url[128];
	char bad[128];
	int i;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/x.json", arg->port);
	snprintf(bad, sizeof(bad), "https://localhost:%d/x.json", arg->bad_port);
	for (i = 0; i < TEST_PER_THREAD; i++) {
		mud_fetch_result_t *res = NULL;
		mud_error_t err = { 0 };

		if ((mud_fetch(root, &res, url, &opts, &err) == MUD_OK) &&
		    (res->len == sizeof(x_json) - 1) &&
		    (memcmp(res->body, x_json, res->len) == 0)) {
			arg->ok++;
		}
		TALLOC_FREE(res);
		mud_error_clear(&err);
		if (mud_fetch(root, &res, bad, &opts, &err) == MUD_ERR_TLS && !res) arg->refused++;
	}
	if (ERR_peek_error() != 0) {	/* this thread's OpenSSL queue */
		char ebuf[256];

		ERR_error_string_n(ERR_peek_error(), ebuf, sizeof(ebuf));
		fprintf(stderr, "thread: OpenSSL error left: %s\n", ebuf);
		arg->ok = -1;
	}
	arg->leaked = (int)talloc_total_blocks(root) - 1;
	talloc_free(root);
	return NULL;
}

static void test_ca_threads(void **state)
{
	TALLOC_CTX *ctx = *state;
	pthread_t tid[TEST_THREADS];
	thread_arg_t args[TEST_THREADS];
	mud_ca_t *ca = ca_load_ok(ctx, fx.ca, fx.cadir, 2);
	int i;

	for (i = 0; i < TEST_THREADS; i++) {
		args[i] = (thread_arg_t){ .port = fx.good.port, .ca = ca,
					  .bad_port = fx.untrusted.port };
		assert_int_equal(pthread_create(&tid[i], NULL, ca_fetch_thread, &args[i]), 0);
	}
	for (i = 0; i < TEST_THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	}
	for (i = 0; i < TEST_THREADS; i++) {
		assert_int_equal(args[i].ok, TEST_PER_THREAD);
		assert_int_equal(args[i].refused, TEST_PER_THREAD);
		assert_int_equal(args[i].leaked, 0);
	}
	talloc_free(ca);
}

static void test_threads(void **state)
{
	pthread_t tid[TEST_THREADS];
	thread_arg_t args[TEST_THREADS];
	int i;

	for (i = 0; i < TEST_THREADS; i++) {
		args[i] = (thread_arg_t){ .port = fx.good.port };
		assert_int_equal(pthread_create(&tid[i], NULL, fetch_thread, &args[i]), 0);
	}
	for (i = 0; i < TEST_THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	}
	for (i = 0; i < TEST_THREADS; i++) {
		assert_int_equal(args[i].ok, TEST_PER_THREAD);
		assert_int_equal(args[i].leaked, 0);
	}
}


/*
 *	HTTP proxy (CONNECT): tests/tools/connect_proxy.py, started here.
 */

/** Lines of the proxy log equal to line. */
static int proxy_count(char const *log, char const *line)
{
	FILE *fp = fopen(log, "r");
	char buf[512];
	int n = 0;

	if (!fp) return 0;
	while (fgets(buf, sizeof(buf), fp)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, line) == 0) n++;
	}
	fclose(fp);
	return n;
}

static void test_proxy(void **state)
{
	TALLOC_CTX *ctx = *state;
	char const *top = getenv("top_srcdir");
	char const *python = getenv("PYTHON3");
	char script[PATH_MAX];
	char proxy[64];
	char line[128];
	test_server_t px = { .name = "proxy" };
	mud_fetch_opts_t opts = opts_default();
	mud_fetch_result_t *res = NULL;
	mud_urlpolicy_t *open_pol = NULL;
	mud_ca_t *ca_good;
	mud_ca_t *ca_other;
	mud_error_t err = { 0 };
	char *url;
	int lines;
	int rc;

	if (!top || !*top) top = ".";
	if (!python || !*python) python = "python3";
	snprintf(script, sizeof(script), "%s/tests/tools/connect_proxy.py", top);
	snprintf(px.portfile, sizeof(px.portfile), "%s/proxy.port", fx.dir);
	snprintf(px.log, sizeof(px.log), "%s/proxy.log", fx.dir);
	{
		char *argv[] = { (char *)python, script, "--portfile", px.portfile, "--log", px.log,
				 NULL };

		rc = posix_spawnp(&px.pid, python, NULL, NULL, argv, environ);
		assert_int_equal(rc, 0);
	}
	assert_int_equal(server_wait(&px), 0);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", px.port);

	/* address checks on: the module resolves localhost, checks 127.0.0.1 (public by the
	 * test hook for the good server's port) and asks the proxy for that IP literal */
	opts.policy = policy_hooked(ctx, NULL);
	opts.proxy = proxy;
	url = url_of(ctx, &fx.good, "localhost", "/x.json");
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	TALLOC_FREE(res);
	snprintf(line, sizeof(line), "CONNECT 127.0.0.1:%d 200", fx.good.port);
	assert_int_equal(proxy_count(px.log, line), 1);

	/* a loaded CA store reaches the TLS connection inside the tunnel too */
	ca_good = ca_load_ok(ctx, fx.ca, NULL, 1);
	ca_other = ca_load_ok(ctx, fx.other_ca, NULL, 1);
	opts.ca = ca_good;
	opts.ca_file = NULL;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	assert_int_equal(res->len, sizeof(x_json) - 1);
	TALLOC_FREE(res);
	assert_int_equal(proxy_count(px.log, line), 2);
	opts.ca = ca_other;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_TLS);
	assert_string_equal(err.text,
			    "SSL certificate problem: unable to get local issuer certificate");
	assert_int_equal(proxy_count(px.log, line), 3);
	mud_error_clear(&err);
	opts.ca = NULL;
	opts.ca_file = fx.ca;
	TALLOC_FREE(ca_good);
	TALLOC_FREE(ca_other);

	/* an internal server (loopback, not marked public): refused by the module, the proxy
	 * never hears of it */
	lines = file_lines(px.log);
	url = url_of(ctx, &fx.internal, "localhost", "/x.json");
	mud_error_clear(&err);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_ERR_REFUSED);
	assert_non_null(strstr(err.text, "host resolves to 127.0.0.1, in 127.0.0.0/8 loopback"));
	assert_true(mud_where_refused(err.where));
	assert_int_equal(file_lines(px.log), lines);

	/* no address checks (allow_private_urls = yes): the proxy resolves the name */
	assert_int_equal(mud_urlpolicy_create(ctx, &open_pol, NULL, NULL, true, &err), MUD_OK);
	opts.policy = open_pol;
	url = url_of(ctx, &fx.good, "localhost", "/x.json");
	mud_error_clear(&err);
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	snprintf(line, sizeof(line), "CONNECT localhost:%d 200", fx.good.port);
	assert_int_equal(proxy_count(px.log, line), 1);

	/* no_proxy: direct */
	lines = file_lines(px.log);
	opts.no_proxy = "example.com, .localhost,other";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	opts.no_proxy = "localhost";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	opts.no_proxy = "*";
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	assert_int_equal(file_lines(px.log), lines);
	opts.no_proxy = "host.localhost, calhost";	/* neither matches "localhost" */
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	assert_int_equal(file_lines(px.log), lines + 1);

	/* the environment's proxies are ignored: direct */
	lines = file_lines(px.log);
	setenv("https_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	opts.proxy = NULL;
	opts.no_proxy = NULL;
	assert_int_equal(mud_fetch(ctx, &res, url, &opts, &err), MUD_OK);
	TALLOC_FREE(res);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	assert_int_equal(file_lines(px.log), lines);

	/* the setting's syntax */
	assert_int_equal(mud_fetch_proxy_check(NULL, &err), MUD_OK);
	assert_int_equal(mud_fetch_proxy_check("http://proxy", &err), MUD_OK);
	assert_int_equal(mud_fetch_proxy_check("http://proxy:3128/", &err), MUD_OK);
	mud_error_clear(&err);
	assert_int_equal(mud_fetch_proxy_check("https://proxy:3128", &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "https://proxy:3128: only http:// proxies (CONNECT) are "
			    "supported");
	mud_error_clear(&err);
	assert_int_equal(mud_fetch_proxy_check("http://u:p@proxy:3128", &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_fetch_proxy_check("http://proxy:3128/x", &err), MUD_ERR_ARG);
	mud_error_clear(&err);
	assert_int_equal(mud_fetch_proxy_check("http://proxy:0", &err), MUD_ERR_ARG);

	talloc_free((void *)opts.policy);
	server_stop(&px);
	talloc_free_children(ctx);
}

#define T(_f) cmocka_unit_test_setup_teardown(_f, test_setup_ctx, test_teardown_ctx)

int main(void)
{
	int failed;
	mud_error_t err = { 0 };
	const struct CMUnitTest tests[] = {
		T(test_valid),
		T(test_valid_localhost_binary),
		T(test_ca_path),
		T(test_headers_sent),
		T(test_redirect_https),
		T(test_redirect_http),
		T(test_redirect_loop),
		T(test_expired),
		T(test_failure_evidence),
		T(test_wronghost),
		T(test_untrusted),
		T(test_not_https),
		T(test_http_status),
		T(test_toobig),
		T(test_timeout),
		T(test_refused),
		T(test_no_ca),
		T(test_bad_args),
		T(test_policy_first_url),
		T(test_policy_hook),
		T(test_policy_redirect),
		T(test_policy_signature),
		T(test_policy_keeps_bytes),
		T(test_threads),
		T(test_ca_load),
		T(test_ca_fetch),
		T(test_ca_redirect),
		T(test_ca_threads),
		T(test_proxy),
	};

	if (mud_fetch_global_init(&err) != MUD_OK) {
		fprintf(stderr, "mud_fetch_global_init: %s (%s)\n", err.text, err.where);
		return 1;
	}
	failed = cmocka_run_group_tests(tests, group_setup, group_teardown);
	mud_fetch_global_free();

	/* Never 77 (skip): a missing python3/openssl is a failure. */
	return failed ? 1 : 0;
}
