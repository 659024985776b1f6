/*
 * test_iodef.c - IODEF v2 incident documents (mud_iodef.c) and the report
 * spool and sender (mud_spool.c).
 *
 * Every document rendered here is validated with xmllint against the RFC 7970
 * schema in $SHARED_DIR/schemas (the test fails if xmllint is missing). The
 * group setup makes throw-away keys (tests/tools/mksig.sh, mkcerts.sh, plus a
 * client certificate) in a mktemp directory and starts two
 * tests/tools/csirt_receiver.py instances on 127.0.0.1 (one requiring a client
 * certificate); the teardown stops them by PID and removes the directory.
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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>
#include <time.h>

#include "test_common.h"

extern char **environ;

_Static_assert(sizeof(time_t) >= 8, "time_t must be 64-bit (dates after 2038)");

typedef struct {
	pid_t		pid;
	int		port;
	char		dir[1024];		//!< where it records POSTs
	char		portfile[1024];
} receiver_t;

static struct {
	char		dir[256];
	char		xsd[PATH_MAX];
	char		catalog[PATH_MAX];
	char		sigdir[512];		//!< mksig.sh init
	char		certdir[512];		//!< mkcerts.sh
	char		signer_pem[PATH_MAX];
	char		signer_key[PATH_MAX];
	char		rogue_pem[PATH_MAX];
	char		signer_ca[PATH_MAX];
	char		ca[PATH_MAX];
	char		client_pem[PATH_MAX];
	char		client_key[PATH_MAX];
	char		csirt_dir[512];		//!< CSIRT encryption keys (RSA, EC)
	receiver_t	plain;
	receiver_t	mtls;
	int		closed_fd;
	int		closed_port;
	unsigned int	seq;
} fx = { .closed_fd = -1 };

static mud_iodef_config_t const cfg = {
	.reporter = "csirt.example.com",
	.contact_name = "Example CSIRT",
	.contact_email = "csirt@example.com",
	.contact_phone = "+1 555 0100",
	.tlp = "amber",
	.lang = "en",
};

static mud_incident_action_t const acts[] = {
	{ "quarantine VLAN 999", true, 0 },
	{ "last good policy kept", false, 0 },
};

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** A fully populated incident. */
static mud_incident_t full_incident(mud_event_t ev)
{
	mud_incident_t inc = {
		.event = ev,
		.time = 1700000000,
		.mac = "00-11-22-33-44-55",
		.ip = "192.0.2.10",
		.nas_ip = "192.0.2.1",
		.nas_port = "GigabitEthernet1/0/7",
		.nas_id = "sw1.example.net",
		.user_name = "001122334455",
		.mud_url = "https://mud.example.com/lightbulb.json",
		.other_url = "https://mud.example.org/other.json",
		.server_url = "https://mud.example.com/lightbulb.json",
		.sig_url = "https://mud.example.com/lightbulb.p7s",
		.server_ip = "2001:db8::443",
		.server_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"
				   "-----END CERTIFICATE-----\n",
		.file_sha256 = SHA_EMPTY,
		.sig_sha256 = SHA_EMPTY,
		.code = MUD_ERR_SIG_DIGEST,
		.where = "CMS_verify",
		.text = "content does not match the signature",
		.actions = acts,
		.num_actions = 2,
	};

	return inc;
}

/*
 *	Helpers
 */
static int rm_entry(char const *path, struct stat const *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int run_wait(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "test_iodef: cannot run %s: %s\n", argv[0], strerror(rc));
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

/** xmllint --schema on a file: 0 valid, 3/4 invalid, -1 xmllint missing. */
static int xmllint_file(char const *path, bool quiet)
{
	char *argv[] = { "xmllint", "--nonet", "--noout", "--schema", fx.xsd, (char *)path, NULL };
	int rc = run_wait(argv, quiet);

	if (rc > 0 && quiet) rc = run_wait(argv, false);	/* show why */
	return rc;
}

/** Write a document to a temp file and validate it; fails the test if invalid. */
static void assert_valid(char const *xml, size_t len)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/doc-%u.xml", fx.dir, fx.seq++);
	assert_int_equal(write_file(path, xml, len), 0);
	rc = xmllint_file(path, true);
	if (rc < 0) fail_msg("xmllint (libxml2-utils) is required to validate IODEF documents");
	if (rc != 0) fail_msg("%s does not validate (xmllint exit %d)", path, rc);
	unlink(path);
}

/** True if s is valid UTF-8 without C0 controls other than TAB/LF/CR. */
static bool utf8_clean(char const *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n;
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) n = 1;
		else if (c >= 0xe0 && c <= 0xef) n = 2;
		else if (c >= 0xf0 && c <= 0xf4) n = 3;
		else return false;
		if (i + n >= len + 0 && i + n > len - 1) return false;
		for (k = 1; k <= n; k++) {
			if (((unsigned char)s[i + k] & 0xc0) != 0x80) return false;
		}
		if (c == 0xed && (unsigned char)s[i + 1] >= 0xa0) return false;	/* surrogate */
		i += n + 1;
	}
	return true;
}

/** Text between the first "<tag...>" and "</tag>", copied under ctx. */
static char *elem_text(void *ctx, char const *xml, char const *tag)
{
	char open[64];
	char close[64];
	char const *p;
	char const *q;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	p = strstr(xml, open);
	if (!p) return NULL;
	p = strchr(p, '>');
	if (!p) return NULL;
	p++;
	q = strstr(p, close);
	if (!q) return NULL;
	return talloc_strndup(ctx, p, (size_t)(q - p));
}

static int strcmp_ptr(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static size_t count_str(char const *hay, char const *needle)
{
	size_t n = 0;
	char const *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/** Files in dir whose names end with suffix (not starting with '.'); -1 on error. */
static int dir_count(char const *dir, char const *suffix, bool dotfiles)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d) return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		size_t sl = strlen(suffix);

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
		if (dotfiles) {
			if (de->d_name[0] == '.') n++;
			continue;
		}
		if (de->d_name[0] == '.') continue;
		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0) n++;
	}
	closedir(d);
	return n;
}

static char *new_dir(void *ctx, char const *name)
{
	char *p = talloc_asprintf(ctx, "%s/%s-%u", fx.dir, name, fx.seq++);

	assert_non_null(p);
	assert_int_equal(mkdir(p, 0700), 0);
	return p;
}

/*
 *	Receivers
 */
static int receiver_start(receiver_t *r, char const *name, char const *client_ca)
{
	char const *top = getenv("top_srcdir");
	char const *python = getenv("PYTHON3");
	char script[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	int rc;
	int i;

	if (!top || !*top) top = ".";
	if (!python || !*python) python = "python3";
	snprintf(script, sizeof(script), "%s/tests/tools/csirt_receiver.py", top);
	snprintf(cert, sizeof(cert), "%s/server.pem", fx.certdir);
	snprintf(key, sizeof(key), "%s/server.key", fx.certdir);
	snprintf(r->dir, sizeof(r->dir), "%s/%s", fx.dir, name);
	snprintf(r->portfile, sizeof(r->portfile), "%s/%s.port", fx.dir, name);
	if (mkdir(r->dir, 0700) != 0) return -1;
	{
		char *argv[] = { (char *)python, script, "--cert", cert, "--key", key,
				 "--dir", r->dir, "--portfile", r->portfile,
				 client_ca ? "--client-ca" : NULL, (char *)client_ca, NULL };

		rc = posix_spawnp(&r->pid, python, NULL, NULL, argv, environ);
	}
	if (rc != 0) {
		fprintf(stderr, "test_iodef: cannot start %s: %s\n", python, strerror(rc));
		r->pid = 0;
		return -1;
	}
	for (i = 0; i < 1000; i++) {
		FILE *fp = fopen(r->portfile, "r");
		int status;

		if (fp) {
			int port = 0;
			int n = fscanf(fp, "%d", &port);

			fclose(fp);
			if (n == 1 && port > 0 && port < 65536) {
				r->port = port;
				return 0;
			}
		}
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			fprintf(stderr, "test_iodef: csirt_receiver.py exited early\n");
			r->pid = 0;
			return -1;
		}
		sleep_ms(10);
	}
	fprintf(stderr, "test_iodef: csirt_receiver.py did not start within 10 s\n");
	return -1;
}

static void receiver_stop(receiver_t *r)
{
	int status;
	int i;

	if (r->pid <= 0) return;
	kill(r->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			r->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	kill(r->pid, SIGKILL);
	waitpid(r->pid, &status, 0);
	r->pid = 0;
}

static char *url_of(void *ctx, receiver_t const *r)
{
	return talloc_asprintf(ctx, "https://127.0.0.1:%d/iodef", r->port);
}

/*
 *	Group setup / teardown
 */
static int group_teardown(void **state);

static int group_setup_do(void)
{
	char const *top = getenv("top_srcdir");
	char const *shared = getenv("SHARED_DIR");
	char tmpl[] = "/tmp/test_iodef.XXXXXX";
	char tool[PATH_MAX];
	char cmd[4 * PATH_MAX];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	if (!top || !*top) top = ".";
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");

	if (shared && *shared) {
		snprintf(fx.xsd, sizeof(fx.xsd), "%s/schemas/iodef-2.0.xsd", shared);
		snprintf(fx.catalog, sizeof(fx.catalog), "%s/schemas/catalog.xml", shared);
	} else {
		snprintf(fx.xsd, sizeof(fx.xsd), "%s/../shared/schemas/iodef-2.0.xsd", top);
		snprintf(fx.catalog, sizeof(fx.catalog), "%s/../shared/schemas/catalog.xml", top);
	}
	if (access(fx.xsd, R_OK) != 0) {
		fprintf(stderr, "test_iodef: schema %s not found (set SHARED_DIR)\n", fx.xsd);
		return -1;
	}
	setenv("XML_CATALOG_FILES", fx.catalog, 1);
	{
		char *argv[] = { "xmllint", "--version", NULL };

		if (run_wait(argv, true) != 0) {
			fprintf(stderr, "test_iodef: xmllint (libxml2-utils) is required\n");
			return -1;
		}
	}

	if (!mkdtemp(tmpl)) return -1;
	snprintf(fx.dir, sizeof(fx.dir), "%s", tmpl);
	snprintf(fx.sigdir, sizeof(fx.sigdir), "%s/sig", fx.dir);
	snprintf(fx.certdir, sizeof(fx.certdir), "%s/certs", fx.dir);
	if (mkdir(fx.sigdir, 0700) != 0) return -1;

	snprintf(tool, sizeof(tool), "%s/tests/tools/mksig.sh", top);
	{
		char *argv[] = { "sh", tool, "init", fx.sigdir, NULL };

		if (run_wait(argv, true) != 0) {
			fprintf(stderr, "test_iodef: %s init failed (openssl CLI needed)\n", tool);
			return -1;
		}
	}
	snprintf(tool, sizeof(tool), "%s/tests/tools/mkcerts.sh", top);
	{
		char *argv[] = { "sh", tool, fx.certdir, NULL };

		if (run_wait(argv, false) != 0) return -1;
	}
	snprintf(fx.signer_pem, sizeof(fx.signer_pem), "%s/signer.pem", fx.sigdir);
	snprintf(fx.signer_key, sizeof(fx.signer_key), "%s/signer.key", fx.sigdir);
	snprintf(fx.rogue_pem, sizeof(fx.rogue_pem), "%s/rogue-signer.pem", fx.sigdir);
	snprintf(fx.signer_ca, sizeof(fx.signer_ca), "%s/signer-ca.pem", fx.sigdir);
	snprintf(fx.ca, sizeof(fx.ca), "%s/ca.pem", fx.certdir);
	snprintf(fx.client_pem, sizeof(fx.client_pem), "%s/client.pem", fx.certdir);
	snprintf(fx.client_key, sizeof(fx.client_key), "%s/client.key", fx.certdir);

	/* A client certificate (clientAuth) from the same test CA, for mutual TLS. */
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; printf 'extendedKeyUsage=clientAuth\\n' > client.ext; "
		 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout client.key -subj /CN=rlm_mud-test-client -out client.csr 2>/dev/null; "
		 "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-days 2 -sha256 -extfile client.ext -out client.pem 2>/dev/null",
		 fx.certdir);
	{
		char *argv[] = { "sh", "-c", cmd, NULL };

		if (run_wait(argv, false) != 0) {
			fprintf(stderr, "test_iodef: client certificate not made\n");
			return -1;
		}
	}

	/* The CSIRT's encryption certificates: RSA and EC P-256, self-signed, 2 days. */
	snprintf(fx.csirt_dir, sizeof(fx.csirt_dir), "%s/csirt", fx.dir);
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p '%s'; cd '%s'; "
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=csirt-rsa "
		 "-days 2 -out rsa.pem 2>/dev/null; "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout ec.key -subj /CN=csirt-ec -days 2 -out ec.pem 2>/dev/null; "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout other.key -subj /CN=other -days 2 -out other.pem 2>/dev/null; "
		 "cat rsa.pem ec.pem > both.pem",
		 fx.csirt_dir, fx.csirt_dir);
	{
		char *argv[] = { "sh", "-c", cmd, NULL };

		if (run_wait(argv, false) != 0) {
			fprintf(stderr, "test_iodef: CSIRT certificates not made\n");
			return -1;
		}
	}

	if (receiver_start(&fx.plain, "recv-plain", NULL) != 0) return -1;
	if (receiver_start(&fx.mtls, "recv-mtls", fx.ca) != 0) return -1;

	fx.closed_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fx.closed_fd < 0) return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fx.closed_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) return -1;
	if (getsockname(fx.closed_fd, (struct sockaddr *)&sin, &slen) != 0) return -1;
	fx.closed_port = ntohs(sin.sin_port);

	return mud_fetch_global_init(NULL) == MUD_OK ? 0 : -1;
}

static int group_setup(void **state)
{
	if (group_setup_do() == 0) return 0;
	group_teardown(state);
	return -1;
}

static int group_teardown(void **state)
{
	receiver_stop(&fx.plain);
	receiver_stop(&fx.mtls);
	if (fx.closed_fd >= 0) close(fx.closed_fd);
	fx.closed_fd = -1;
	if (fx.dir[0]) nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	fx.dir[0] = '\0';
	mud_fetch_global_free();
	return 0;
}

/*
 *	Events and mapping
 */
static void test_event_names(void **state)
{
	mud_event_t ev = MUD_EVENT_MAX;
	int i;

	assert_string_equal(mud_event_name(MUD_EVENT_SIG_INVALID), "sig-invalid");
	assert_string_equal(mud_event_name(MUD_EVENT_URL_CONFLICT), "url-conflict");
	assert_string_equal(mud_event_name(MUD_EVENT_MAX), "unknown");
	for (i = 0; i < MUD_EVENT_MAX; i++) {
		assert_int_equal(mud_event_by_name(mud_event_name((mud_event_t)i)), i);
	}
	assert_int_equal(mud_event_by_name("nope"), -1);
	assert_int_equal(mud_event_by_name(NULL), -1);

	assert_true(mud_event_from_rcode(MUD_ERR_SIG_DIGEST, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_INVALID);
	assert_true(mud_event_from_rcode(MUD_ERR_SIG, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_INVALID);
	assert_true(mud_event_from_rcode(MUD_ERR_SIG_UNTRUSTED, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_UNTRUSTED);
	assert_true(mud_event_from_rcode(MUD_ERR_SIG_EXPIRED, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_EXPIRED);
	assert_true(mud_event_from_rcode(MUD_ERR_SIG_MISSING, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_MISSING);
	assert_true(mud_event_from_rcode(MUD_ERR_SIG_SIGNER, &ev));
	assert_int_equal(ev, MUD_EVENT_SIG_SIGNER);
	assert_true(mud_event_from_rcode(MUD_ERR_TLS, &ev));
	assert_int_equal(ev, MUD_EVENT_TLS_INVALID);
	assert_true(mud_event_from_rcode(MUD_ERR_MISMATCH, &ev));
	assert_int_equal(ev, MUD_EVENT_URL_MISMATCH);
	assert_true(mud_event_from_rcode(MUD_ERR_URL, &ev));
	assert_int_equal(ev, MUD_EVENT_URL_REFUSED);
	assert_true(mud_event_from_rcode(MUD_ERR_SCHEMA, &ev));
	assert_int_equal(ev, MUD_EVENT_FILE_INVALID);
	assert_true(mud_event_from_rcode(MUD_ERR_CONFLICT, &ev));
	assert_int_equal(ev, MUD_EVENT_ACL_CONFLICT);
	assert_string_equal(mud_event_name(MUD_EVENT_ACL_CONFLICT), "acl-conflict");
	ev = MUD_EVENT_ACL_DENIED;
	assert_false(mud_event_from_rcode(MUD_ERR_FETCH, &ev));
	assert_false(mud_event_from_rcode(MUD_ERR_NOMEM, &ev));
	assert_false(mud_event_from_rcode(MUD_OK, &ev));
	assert_int_equal(ev, MUD_EVENT_ACL_DENIED);	/* untouched */
}

/*
 *	Rendering
 */
static void test_every_event_renders_valid(void **state)
{
	int i;

	for (i = 0; i < MUD_EVENT_MAX; i++) {
		mud_incident_t inc = full_incident((mud_event_t)i);
		mud_error_t err;
		char *xml = NULL;
		size_t len = 0;

		mud_error_clear(&err);
		assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, &err), MUD_OK);
		assert_non_null(xml);
		assert_int_equal(strlen(xml), len);
		assert_valid(xml, len);

		/* Required content. */
		assert_non_null(strstr(xml, "<IODEF-Document version=\"2.00\" xml:lang=\"en\""));
		assert_non_null(strstr(xml, "<Incident purpose=\"reporting\" status=\"new\" "
					    "restriction=\"amber\">"));
		assert_non_null(strstr(xml, "<IncidentID name=\"csirt.example.com\">"));
		assert_non_null(strstr(xml, "<Contact role=\"creator\" type=\"organization\">"));
		assert_non_null(strstr(xml, "<EmailTo>csirt@example.com</EmailTo>"));
		assert_non_null(strstr(xml, "<Address category=\"mac\">0"
			    "0:11:22:33:44:55</Address>"));
		assert_non_null(strstr(xml, "<Address category=\"ipv4-a"
			    "ddr\">192.0.2.10</Address>"));
		assert_non_null(strstr(xml, "<Name>mud.example.com</Name>"));
		assert_non_null(strstr(xml, "<Address category=\"ipv6-addr\">2001:db8::443</Address"
			    ">"));
		assert_non_null(strstr(xml, "interface=\"GigabitEthernet1/0/7\""));
		assert_non_null(strstr(xml, "<History>"));
		/* detected, two actions, the report itself */
		assert_int_equal(count_str(xml, "<HistoryItem "), 4);
		assert_non_null(strstr(xml, "<HistoryItem action=\"block-host\">"));
		assert_non_null(strstr(xml, "<Description>quarantine VLAN 999</Description>"));
		assert_non_null(strstr(xml, "<Confidence rating=\""));
		assert_non_null(strstr(xml, "meaning=\"confidence-basis\">"));
		assert_non_null(strstr(xml, "<Counter type=\"ext-value\" ext-type=\"count\" "
					    "unit=\"event\""));
		assert_non_null(strstr(xml, "<Expectation action=\"investigate\">"));
		assert_non_null(strstr(xml, "<ds:DigestValue>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3"
			    "hSuFU="
					    "</ds:DigestValue>"));
		assert_non_null(strstr(xml, "<RecordItem dtype=\"string\" meaning=\"error-code\">"
					    "MUD_ERR_SIG_DIGEST</RecordItem>"));
		assert_non_null(strstr(xml, "<AdditionalData dtype=\"string\" meaning=\"tlp\">"
					    "TLP:AMBER</AdditionalData>"));
		assert_non_null(strstr(xml, "https://www.rfc-editor.org/rfc/rfc8520#section-"));
		assert_non_null(strstr(xml, mud_event_name((mud_event_t)i)));
		assert_non_null(strstr(xml, "<DetectTime>2023-11-14T22:13:20Z</DetectTime>"));
		talloc_free(xml);
	}
	assert_no_leak(*state);
}

static void test_event_references(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	char *xml;
	size_t len;

	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_non_null(strstr(xml, "<URL>https://cwe.mitre.org/data/definitions/347.html</URL>"));
	assert_non_null(strstr(xml, "CAPEC-475"));
	assert_non_null(strstr(xml, "rfc8520#section-13"));
	/* server is the source, device the target */
	assert_true(strstr(xml, "<System category=\"source\">") <
		    strstr(xml, "<Name>mud.example.com</Name>"));
	talloc_free(xml);

	inc = full_incident(MUD_EVENT_TLS_INVALID);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_non_null(strstr(xml, "definitions/295.html"));
	assert_non_null(strstr(xml, "CAPEC-94"));
	talloc_free(xml);

	inc = full_incident(MUD_EVENT_URL_CONFLICT);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_non_null(strstr(xml, "<System category=\"source\" interface="));	/* device */
	assert_non_null(strstr(xml, "<URL>https://mud.example.org/other.json</URL>"));
	talloc_free(xml);
	assert_no_leak(*state);
}

static void test_ids_unique(void **state)
{
	mud_incident_t inc = { .event = MUD_EVENT_ACL_DENIED, .ip = "2001:db8::10" };
	char **ids = talloc_array(*state, char *, 1000);
	size_t i;

	assert_non_null(ids);
	for (i = 0; i < 1000; i++) {
		char *xml;
		size_t len;

		assert_int_equal(mud_iodef_render(ids, &xml, &len, &inc, &cfg, NULL), MUD_OK);
		ids[i] = elem_text(ids, xml, "IncidentID");
		assert_non_null(ids[i]);
		assert_int_equal(strlen(ids[i]), 17 + 32);
		assert_int_equal(ids[i][16], '-');
		if (i == 0) assert_valid(xml, len);
		talloc_free(xml);
	}
	qsort(ids, 1000, sizeof(ids[0]), strcmp_ptr);
	for (i = 1; i < 1000; i++) assert_string_not_equal(ids[i - 1], ids[i]);
	talloc_free(ids);
	assert_no_leak(*state);
}

/** Every date-time value carries Z or an offset (xs:dateTime does not require one). */
static void assert_offsets(char const *xml)
{
	char const *p = xml;
	size_t n = 0;

	while ((p = strchr(p, '>')) != NULL) {
		int y, mo, d, h, mi, s;
		char tail[8] = "";

		p++;
		int got = sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d%7[^<]", &y, &mo, &d, &h, &mi, &s,
				 tail);

		if (got >= 6 && p[4] == '-' && p[10] == 'T') {
			n++;
			if (strcmp(tail, "Z") != 0 &&
			    !(strlen(tail) == 6 && (tail[0] == '+' || tail[0] == '-') &&
			      tail[3] == ':')) {
				fail_msg("date-time without offset: %.30s", p);
			}
		}
	}
	assert_true(n >= 8);
}

static void test_datetimes_and_2038(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_EXPIRED);
	mud_incident_action_t late[] = { { "policy not applied", false, (time_t)4102444800LL } };
	char *xml;
	size_t len;

	inc.time = (time_t)2208988800LL;		/* 2040-01-01T00:00:00Z */
	inc.first_seen = (time_t)2208988800LL - 3600;
	inc.last_seen = (time_t)2208988800LL + 59;
	inc.reported = (time_t)2208988800LL + 60;
	inc.count = 7;
	inc.actions = late;
	inc.num_actions = 1;
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_offsets(xml);
	assert_non_null(strstr(xml, "<DetectTime>2039-12-31T23:00:00Z</DetectTime>"));
	assert_non_null(strstr(xml, "<ReportTime>2040-01-01T00:01:00Z</ReportTime>"));
	assert_non_null(strstr(xml, "<GenerationTime>2040-01-01T00:01:00Z</GenerationTime>"));
	assert_non_null(strstr(xml, "meaning=\"last-seen\">2040-01-01T00:00:59Z<"));
	assert_non_null(strstr(xml, "<DateTime>2100-01-01T00:00:00Z</DateTime>"));
	assert_non_null(strstr(xml, "occurrences aggregated in this report\">7</Counter>"));
	{
		char *id = elem_text(*state, xml, "IncidentID");

		assert_non_null(id);
		assert_true(strncmp(id, "20400101T000100Z-", 17) == 0);
		talloc_free(id);
	}
	talloc_free(xml);

	/* Year 10000 cannot be written as xs:dateTime here. */
	inc.time = (time_t)253402300800LL;
	inc.first_seen = 0;
	inc.last_seen = 0;
	xml = (char *)1;
	{
		mud_error_t err;

		mud_error_clear(&err);
		assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, &err),
				 MUD_ERR_ARG);
		assert_null(xml);
		assert_string_equal(err.where, "incident.time");
		assert_string_equal(err.text, "time outside 1970..9999 (UTC)");
	}
	assert_no_leak(*state);
}

static void test_hostile_strings(void **state)
{
	char *longurl = talloc_array(*state, char, 10 * 1024 + 1);
	char *huge = talloc_array(*state, char, 40 * 1024 + 1);
	mud_incident_action_t bad_acts[] = { { "VLAN \"999\" <quarantine> & 'x' \x07", true, 0 },
					     { NULL, false, 0 } };
	mud_incident_t inc = full_incident(MUD_EVENT_URL_REFUSED);
	mud_iodef_config_t c = cfg;
	char *xml;
	size_t len;
	size_t i;

	assert_non_null(longurl);
	assert_non_null(huge);
	memcpy(longurl, "https://mud.example.com/", 24);
	for (i = 24; i < 10 * 1024; i++) longurl[i] = "a&<>\"'%\x01"[i % 8];
	longurl[10 * 1024] = '\0';
	for (i = 0; i < 40 * 1024; i++) huge[i] = (char)(0x80 + (i % 0x7f));
	huge[40 * 1024] = '\0';

	inc.mud_url = longurl;
	inc.other_url = "https://x.example/\"><script>&amp;</script>";
	inc.server_url = "https://[2001:db8::1]:8443/p?a=b&c='d'";
	inc.text = "quote\" apos' lt< gt> amp& ctl\x01\x02\x1b\x7f bad\xff\xfe "
		   "overlong\xc0\xaf surrogate\xed\xa0\x80 trunc\xe2\x82 nonchar\xef\xbf\xbe ]]> en"
		   	    "d";
	inc.where = "/ietf-mud:mud/\x00";
	inc.nas_port = "port\"<1>\"\t\n\r";
	inc.user_name = "user\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9 ok";
	inc.nas_id = huge;
	inc.server_cert_pem = huge;
	inc.actions = bad_acts;
	inc.num_actions = 2;
	c.reporter = "csirt\"<&>'\x01.example";
	c.contact_name = "Ex\xff CSIRT <&>";
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &c, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_true(utf8_clean(xml, len));
	assert_null(strchr(xml, '\x01'));
	assert_null(strstr(xml, "<script>"));
	assert_non_null(strstr(xml, "quote&quot; apos&apos; lt&lt; gt&gt; amp&amp; ctl"));
	assert_non_null(strstr(xml, "bad\xef\xbf\xbd\xef\xbf\xbd ov"
		    "erlong\xef\xbf\xbd\xef\xbf\xbd"));
	assert_non_null(strstr(xml, "]]&gt; end"));
	assert_non_null(strstr(xml, "user\xc3\xa9\xe2\x82\xac\xf0\x9f\x92\xa9 ok"));
	assert_non_null(strstr(xml, "interface=\"port&quot;&lt;1&gt;&quot;&#9;&#10;&#13;\""));
	assert_non_null(strstr(xml, "<IncidentID name=\"csirt&quot;&lt;&amp;&gt;&apos;"
				    "\xef\xbf\xbd.example\">"));
	/* an IPv6 literal server: Address instead of DomainData; the URL escaped */
	assert_non_null(strstr(xml, "<URL>https://[2001:db8::1]:8443/p?a=b&amp;c=&apos;d&apos;</URL"
		    ">"));
	assert_non_null(strstr(xml, "<Address category=\"ipv6-addr\">2001:db8::1</Address>"));
	assert_null(strstr(xml, "<DomainData>"));
	assert_non_null(strstr(xml, "<Port>8443</Port>"));
	/* a URL mud_url_parse() refuses is kept as text only */
	assert_non_null(strstr(xml, "meaning=\"other-url\">https://x.example/&quot;&gt;&lt;script&g"
		    "t;"));
	assert_null(strstr(xml, "<URL>https://x.example/"));
	/* the 10 KB URL is kept as text, cut at MUD_IODEF_MAX_FIELD */
	assert_non_null(strstr(xml, "meaning=\"mud-url\">https://mud.example.com/a&amp;&lt;"));
	assert_true(len < MUD_IODEF_MAX_DOC);
	talloc_free(xml);
	talloc_free(longurl);
	talloc_free(huge);
	assert_no_leak(*state);
}

static void expect_arg(void **state, mud_incident_t const *inc, mud_iodef_config_t const *c,
		       mud_rcode_t code, char const *where, char const *text)
{
	mud_error_t err;
	char *xml = (char *)1;
	size_t len = 7;

	mud_error_clear(&err);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, inc, c, &err), code);
	assert_null(xml);
	assert_int_equal(len, 0);
	assert_string_equal(err.where, where);
	assert_string_equal(err.text, text);
	assert_no_leak(*state);
}

static void test_bad_input(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_MISSING);
	mud_iodef_config_t c = cfg;
	mud_incident_action_t many[MUD_IODEF_MAX_ACTIONS + 1];

	memset(many, 0, sizeof(many));
	c.reporter = NULL;
	expect_arg(state, &inc, &c, MUD_ERR_ARG, "config.reporter", "reporter name required");
	c = cfg;
	c.contact_email = "";
	expect_arg(state, &inc, &c, MUD_ERR_ARG, "config.contact_email", "contact e-mail required");
	c = cfg;
	c.tlp = "purple";
	expect_arg(state, &inc, &c, MUD_ERR_ARG, "config.tlp", "unknown TLP/rest"
		    "riction \"purple\"");
	c = cfg;
	c.lang = "en_US\"";
	expect_arg(state, &inc, &c, MUD_ERR_ARG, "config.lang",
		   "invalid language tag \"en_US\"\"");

	inc.mac = "00:11:22:33:44";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.mac",
		   "not a MAC address: \"00:11:22:33:44\"");
	inc.mac = "zz:11:22:33:44:55";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.mac",
		   "not a MAC address: \"zz:11:22:33:44:55\"");
	inc.mac = NULL;
	inc.ip = "192.0.2.300";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.ip",
		   "not an IP address: \"192.0.2.300\"");
	inc.ip = NULL;
	inc.server_url = NULL;
	inc.server_ip = NULL;
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident",
		   "neither the device (MAC, IP) nor the MUD server is known");
	inc.server_url = "not a URL";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident",
		   "neither the device (MAC, IP) nor the MUD server is known");
	inc = full_incident(MUD_EVENT_SIG_MISSING);
	inc.server_ip = "mud.example.com";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.server_ip",
		   "not an IP address: \"mud.example.com\"");
	inc = full_incident(MUD_EVENT_SIG_MISSING);
	inc.event = MUD_EVENT_MAX;
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.event", "unknown event 13");
	inc = full_incident(MUD_EVENT_SIG_MISSING);
	inc.id = "../etc/passwd";
	expect_arg(state, &inc, &cfg, MUD_ERR_ARG, "incident.id",
		   "invalid incident id \"../etc/passwd\"");
	inc = full_incident(MUD_EVENT_SIG_MISSING);
	inc.actions = many;
	inc.num_actions = MUD_IODEF_MAX_ACTIONS + 1;
	expect_arg(state, &inc, &cfg, MUD_ERR_LIMIT, "incident.actions", "17 actions, at most 16");
}

static void test_minimal_and_tlp(void **state)
{
	static struct {
		char const *tlp;
		char const *attr;
		char const *label;
	} const cases[] = {
		{ NULL, "restriction=\"amber\">", "TLP:AMBER" },
		{ "clear", "restriction=\"white\">", "TLP:CLEAR" },
		{ "GREEN", "restriction=\"green\">", "TLP:GREEN" },
		{ "amber+strict", "restriction=\"ext-value\" ext-restriction=\"amber+strict\">",
		  "TLP:AMBER+STRICT" },
		{ "red", "restriction=\"red\">", "TLP:RED" },
		{ "need-to-know", "restriction=\"need-to-know\">", "TLP:AMBER" },
		{ "public", "restriction=\"public\">", "TLP:CLEAR" },
	};
	mud_incident_t inc = { .event = MUD_EVENT_URL_CHANGED, .mac = "0011.2233.44AA",
			       .time = 1700000000 };
	mud_iodef_config_t c = cfg;
	size_t i;

	c.contact_phone = NULL;
	c.lang = "de-CH";
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *xml;
		size_t len;
		char label[64];

		c.tlp = cases[i].tlp;
		assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &c, NULL), MUD_OK);
		assert_non_null(strstr(xml, cases[i].attr));
		snprintf(label, sizeof(label), "meaning=\"tlp\">%s<", cases[i].label);
		assert_non_null(strstr(xml, label));
		assert_non_null(strstr(xml, "xml:lang=\"de-CH\""));
		assert_non_null(strstr(xml, "<Address category=\"mac\">0"
			    "0:11:22:33:44:aa</Address>"));
		assert_null(strstr(xml, "<Telephone>"));
		assert_null(strstr(xml, "<FileData>"));
		assert_null(strstr(xml, "category=\"sensor\""));
		assert_int_equal(count_str(xml, "<HistoryItem "), 2);	/* detected, report */
		assert_valid(xml, len);
		talloc_free(xml);
	}
	assert_no_leak(*state);
}

/* mudctl fetch knows the MUD server but no device. */
static void test_server_only(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	char *xml;
	size_t len;

	inc.mac = NULL;
	inc.ip = NULL;
	inc.nas_ip = NULL;
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_int_equal(count_str(xml, "<System "), 1);
	assert_non_null(strstr(xml, "<System category=\"source\">"));
	assert_null(strstr(xml, "category=\"mac\""));
	talloc_free(xml);
	assert_no_leak(*state);
}

static void test_syslog_line(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_UNTRUSTED);
	char *line;

	inc.id = "20231114T221320Z-00112233445566778899aabbccddeeff";
	line = mud_iodef_syslog_line(*state, &inc);
	assert_string_equal(line, "rlm_mud incident 20231114T221320Z-00112233445566778899aabbccddee"
		    "ff: "
			    "sig-untrusted device 00-11-22-33-44-55 url "
			    "https://mud.example.com/lightbulb.json: content does not match the "
			    "signature");
	talloc_free(line);
	inc.id = NULL;
	inc.mac = NULL;
	inc.text = "evil\nline\x01";
	line = mud_iodef_syslog_line(*state, &inc);
	assert_string_equal(line, "rlm_mud incident -: sig-untrusted device 192.0.2.10 url "
			    "https://mud.example.com/lightbulb.json: evil\\x0aline\\x01");
	talloc_free(line);
	assert_no_leak(*state);
}

/*
 *	Signatures
 */
static void test_sign_verify(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_SIGNER);
	mud_trust_t *trust;
	mud_error_t err;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	char *xml;
	size_t len;

	mud_error_clear(&err);
	assert_int_equal(mud_trust_load(*state, &trust, fx.signer_ca, NULL, &err), MUD_OK);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, fx.signer_key,
					fx.signer_pem, &err), MUD_OK);
	assert_non_null(sig);
	assert_true(sig_len > 100);
	assert_int_equal(sig[0], 0x30);	/* DER SEQUENCE */
	assert_int_equal(mud_iodef_verify(xml, len, sig, sig_len, trust, &err), MUD_OK);

	/* One changed byte in the document. */
	xml[len / 2] ^= 0x01;
	assert_int_equal(mud_iodef_verify(xml, len, sig, sig_len, trust, &err), MUD_ERR_SIG_DIGEST);
	xml[len / 2] ^= 0x01;
	mud_error_clear(&err);
	/* One byte more. */
	assert_int_equal(mud_iodef_verify(xml, len - 1, sig, sig_len, trust, &err),
			 MUD_ERR_SIG_DIGEST);
	mud_error_clear(&err);
	/* A damaged signature. */
	sig[sig_len - 3] ^= 0x55;
	assert_int_not_equal(mud_iodef_verify(xml, len, sig, sig_len, trust, &err), MUD_OK);
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_verify(xml, len, NULL, 0, trust, &err), MUD_ERR_SIG_MISSING);
	talloc_free(sig);

	/* A signer from another CA is untrusted. */
	{
		char rogue_key[PATH_MAX];

		snprintf(rogue_key, sizeof(rogue_key), "%s/rogue-signer.key", fx.sigdir);
		mud_error_clear(&err);
		assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, rogue_key,
						fx.rogue_pem, &err), MUD_OK);
		assert_int_equal(mud_iodef_verify(xml, len, sig, sig_len, trust, &err),
				 MUD_ERR_SIG_UNTRUSTED);
		talloc_free(sig);
	}

	/* Key and certificate that do not belong together. */
	mud_error_clear(&err);
	sig = (uint8_t *)1;
	assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, fx.signer_key,
					fx.rogue_pem, &err), MUD_ERR_SIG);
	assert_null(sig);
	assert_string_equal(err.where, "X509_check_private_key");
	assert_non_null(strstr(err.text, "signing key does not match the certificate"));

	/* Missing files. */
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, "/nonexistent/k.pem",
					fx.signer_pem, &err), MUD_ERR_IO);
	assert_string_equal(err.where, "/nonexistent/k.pem");
	assert_non_null(strstr(err.text, "cannot open signing key"));
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, fx.signer_key,
					fx.signer_key, &err), MUD_ERR_IO);
	assert_non_null(strstr(err.text, "no PEM certificate"));

	talloc_free(xml);
	talloc_free(trust);
	assert_no_leak(*state);
}

/*
 *	Spool
 */

/** Read dir/<id>.xml under ctx. */
static char *spool_doc(void *ctx, char const *dir, char const *id)
{
	char *path = talloc_asprintf(ctx, "%s/%s.xml", dir, id);
	char *doc = test_read_file(ctx, path, NULL);

	talloc_free(path);
	return doc;
}

static void test_spool_aggregate(void **state)
{
	char *dir = new_dir(*state, "spool");
	mud_spool_opts_t opts = { .window = 3600 };
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_error_t err;
	char first_id[MUD_IODEF_ID_SIZE];
	char *doc;
	struct stat sb;
	char *path;

	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(*state, &spool, dir, &opts, &err), MUD_OK);

	inc.time = 0;
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, &err), MUD_OK);
	assert_false(st.aggregated);
	assert_false(st.dropped);
	assert_int_equal(st.count, 1);
	snprintf(first_id, sizeof(first_id), "%s", st.id);
	assert_int_equal(dir_count(dir, ".xml", false), 1);

	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000100, &st, &err), MUD_OK);
	assert_true(st.aggregated);
	assert_int_equal(st.count, 2);
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000200, &st, &err), MUD_OK);
	assert_int_equal(st.count, 3);
	assert_string_equal(st.id, first_id);
	assert_int_equal(dir_count(dir, ".xml", false), 1);
	assert_int_equal(dir_count(dir, "", true), 0);	/* no temporary files left */

	doc = spool_doc(*state, dir, first_id);
	assert_non_null(doc);
	assert_valid(doc, strlen(doc));
	assert_non_null(strstr(doc, "meaning=\"occurrences aggregat"
		    "ed in this report\">3</Counter>"));
	assert_non_null(strstr(doc, "meaning=\"first-seen\">2033-05-18T03:33:20Z<"));
	assert_non_null(strstr(doc, "meaning=\"last-seen\">2033-05-18T03:36:40Z<"));
	assert_non_null(strstr(doc, first_id));
	talloc_free(doc);

	/* Mode 0600: reports are restricted. */
	path = talloc_asprintf(*state, "%s/%s.xml", dir, first_id);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	talloc_free(path);

	/* Another device, another event, another URL: new documents. */
	inc.mac = "00:11:22:33:44:66";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000300, &st, &err), MUD_OK);
	assert_false(st.aggregated);
	inc.event = MUD_EVENT_SIG_EXPIRED;
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000300, &st, &err), MUD_OK);
	assert_false(st.aggregated);
	inc.mud_url = "https://mud.example.com/other.json";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000300, &st, &err), MUD_OK);
	assert_false(st.aggregated);
	assert_int_equal(dir_count(dir, ".xml", false), 4);

	/* After the window: a new document for the first key. */
	inc = full_incident(MUD_EVENT_SIG_INVALID);
	inc.time = 0;
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000 + 3600, &st, &err), MUD_OK);
	assert_false(st.aggregated);
	assert_string_not_equal(st.id, first_id);
	assert_int_equal(dir_count(dir, ".xml", false), 5);

	talloc_free(spool);
	talloc_free(dir);
	assert_no_leak(*state);
}

static void test_spool_bounds(void **state)
{
	char *dir = new_dir(*state, "bounds");
	mud_spool_opts_t opts = { .max_files = 2 };
	mud_incident_t inc = full_incident(MUD_EVENT_URL_CHANGED);
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_error_t err;
	char id0[MUD_IODEF_ID_SIZE];
	char *path;
	char *doc;
	int i;

	assert_int_equal(mud_spool_open(*state, &spool, dir, &opts, NULL), MUD_OK);
	inc.mac = "02:00:00:00:00:01";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, NULL), MUD_OK);
	snprintf(id0, sizeof(id0), "%s", st.id);
	inc.mac = "02:00:00:00:00:02";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, NULL), MUD_OK);
	for (i = 3; i < 6; i++) {
		char mac[32];

		snprintf(mac, sizeof(mac), "02:00:00:00:00:%02d", i);
		inc.mac = mac;
		mud_error_clear(&err);
		assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, &err),
				 MUD_ERR_LIMIT);
		assert_true(st.dropped);
		assert_true(strncmp(err.text, "spool full (2 files, ", 21) == 0);
	}
	assert_int_equal(dir_count(dir, ".xml", false), 2);

	/* Repeats of a pending document still update it. */
	inc.mac = "02:00:00:00:00:02";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000001, &st, NULL), MUD_OK);
	assert_true(st.aggregated);

	/* Room again (another process sent one): the next document reports the drops. */
	path = talloc_asprintf(*state, "%s/%s.xml", dir, id0);
	assert_int_equal(unlink(path), 0);
	talloc_free(path);
	inc.mac = "02:00:00:00:00:09";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000002, &st, NULL), MUD_OK);
	doc = spool_doc(*state, dir, st.id);
	assert_non_null(doc);
	assert_non_null(strstr(doc, "<AdditionalData dtype=\"integer\" meaning=\"dropped-incidents"
		    "\">"
				    "3</AdditionalData>"));
	assert_valid(doc, strlen(doc));
	talloc_free(doc);
	talloc_free(spool);

	/* A byte bound. */
	opts.max_files = 0;
	opts.max_bytes = 100;
	assert_int_equal(mud_spool_open(*state, &spool, dir, &opts, NULL), MUD_OK);
	mud_error_clear(&err);
	inc.mac = "02:00:00:00:00:10";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000003, &st, &err), MUD_ERR_LIMIT);
	assert_true(st.dropped);
	assert_int_equal(dir_count(dir, ".xml", false), 2);
	talloc_free(spool);

	/* Bad directories. */
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(*state, &spool, "/nonexistent/spool", NULL, &err),
			 MUD_ERR_IO);
	assert_null(spool);
	assert_string_equal(err.where, "/nonexistent/spool");
	talloc_free(dir);
	assert_no_leak(*state);
}

static void test_spool_signed_and_cleanup(void **state)
{
	char *dir = new_dir(*state, "signed");
	mud_iodef_config_t c = cfg;
	mud_incident_t inc = full_incident(MUD_EVENT_TLS_INVALID);
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_trust_t *trust;
	mud_error_t err;
	char *path;
	char *doc;
	size_t sig_len = 0;
	char *sig;

	c.sign_key = fx.signer_key;
	c.sign_cert = fx.signer_pem;
	/* Leftovers of a crashed writer and sender. */
	path = talloc_asprintf(*state, "%s/.tmp-abcdef", dir);
	assert_int_equal(write_file(path, "partial", 7), 0);
	talloc_free(path);
	path = talloc_asprintf(*state, "%s/.send-20230101T000000Z-00.xml", dir);
	assert_int_equal(write_file(path, "<x/>", 4), 0);
	talloc_free(path);

	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(*state, &spool, dir, NULL, &err), MUD_OK);
	assert_int_equal(dir_count(dir, "", true), 0);
	assert_int_equal(dir_count(dir, ".xml", false), 1);	/* the claimed one is back */

	assert_int_equal(mud_spool_write(spool, &inc, &c, 2000000000, &st, &err), MUD_OK);
	assert_int_equal(mud_spool_write(spool, &inc, &c, 2000000001, &st, &err), MUD_OK);
	assert_int_equal(st.count, 2);
	assert_int_equal(dir_count(dir, ".xml.p7s", false), 1);

	assert_int_equal(mud_trust_load(*state, &trust, fx.signer_ca, NULL, &err), MUD_OK);
	doc = spool_doc(*state, dir, st.id);
	path = talloc_asprintf(*state, "%s/%s.xml.p7s", dir, st.id);
	sig = test_read_file(*state, path, &sig_len);
	assert_non_null(sig);
	assert_int_equal(mud_iodef_verify(doc, strlen(doc), (uint8_t *)sig, sig_len, trust, &err),
			 MUD_OK);
	assert_non_null(strstr(doc, ">2</Counter>"));

	/* A signing failure writes nothing. */
	c.sign_cert = fx.rogue_pem;
	inc.mac = "02:00:00:00:00:77";
	mud_error_clear(&err);
	assert_int_equal(mud_spool_write(spool, &inc, &c, 2000000002, &st, &err), MUD_ERR_SIG);
	assert_int_equal(dir_count(dir, ".xml", false), 2);
	assert_int_equal(dir_count(dir, "", true), 0);

	talloc_free(sig);
	talloc_free(path);
	talloc_free(doc);
	talloc_free(trust);
	talloc_free(spool);
	talloc_free(dir);
	assert_no_leak(*state);
}

#define THREADS		8
#define PER_THREAD	40
#define KEYS		5

typedef struct {
	mud_spool_t	*spool;
	int		n;
	int		failures;
} worker_t;

static void *worker(void *arg)
{
	worker_t *w = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		mud_incident_t inc = full_incident(MUD_EVENT_ACL_DENIED);
		char mac[32];

		snprintf(mac, sizeof(mac), "02:00:00:00:01:%02d", (w->n + i) % KEYS);
		inc.mac = mac;
		inc.num_actions = 0;
		if (mud_spool_write(w->spool, &inc, &cfg, 2000000000 + i, NULL, NULL) != MUD_OK) {
			w->failures++;
		}
	}
	return NULL;
}

static void test_spool_threads(void **state)
{
	char *dir = new_dir(*state, "threads");
	pthread_t th[THREADS];
	worker_t w[THREADS];
	mud_spool_t *spool;
	DIR *d;
	struct dirent *de;
	unsigned long total = 0;
	int i;

	assert_int_equal(mud_spool_open(*state, &spool, dir, NULL, NULL), MUD_OK);
	for (i = 0; i < THREADS; i++) {
		w[i].spool = spool;
		w[i].n = i;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(dir_count(dir, ".xml", false), KEYS);
	assert_int_equal(dir_count(dir, "", true), 0);

	/* Every occurrence is counted in exactly one document. */
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path;
		char *doc;
		char *cnt;

		if (de->d_name[0] == '.') continue;
		path = talloc_asprintf(*state, "%s/%s", dir, de->d_name);
		doc = test_read_file(*state, path, NULL);
		assert_non_null(doc);
		cnt = elem_text(*state, doc, "Counter");
		assert_non_null(cnt);
		total += strtoul(cnt, NULL, 10);
		assert_valid(doc, strlen(doc));
		talloc_free(cnt);
		talloc_free(doc);
		talloc_free(path);
	}
	closedir(d);
	assert_int_equal(total, THREADS * PER_THREAD);
	talloc_free(spool);
	talloc_free(dir);
	assert_no_leak(*state);
}

/*
 *	Sender
 */

/** A spool with n documents (distinct devices). */
static mud_spool_t *filled_spool(void *ctx, char const *dir, int n, mud_iodef_config_t const *c)
{
	mud_spool_t *spool;
	int i;

	assert_int_equal(mud_spool_open(ctx, &spool, dir, NULL, NULL), MUD_OK);
	for (i = 0; i < n; i++) {
		mud_incident_t inc = full_incident(MUD_EVENT_URL_MISMATCH);
		char mac[32];

		snprintf(mac, sizeof(mac), "02:00:00:00:02:%02d", i);
		inc.mac = mac;
		assert_int_equal(mud_spool_write(spool, &inc, c, 2000000000, NULL, NULL), MUD_OK);
	}
	return spool;
}

static void test_send_ok(void **state)
{
	char *dir = new_dir(*state, "send");
	char *url = url_of(*state, &fx.plain);
	mud_spool_t *spool = filled_spool(*state, dir, 3, &cfg);
	int before = dir_count(fx.plain.dir, ".body", false);
	size_t sent = 99;
	size_t kept = 99;
	mud_error_t err;
	char *path;
	char *ctype;

	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_OK);
	assert_int_equal(sent, 3);
	assert_int_equal(kept, 0);
	assert_int_equal(dir_count(dir, ".xml", false), 0);
	assert_int_equal(dir_count(dir, "", true), 0);
	assert_int_equal(dir_count(fx.plain.dir, ".body", false), before + 3);
	path = talloc_asprintf(*state, "%s/%04d.ctype", fx.plain.dir, before + 1);
	ctype = test_read_file(*state, path, NULL);
	assert_non_null(ctype);
	assert_string_equal(ctype, "application/xml\n");
	talloc_free(ctype);
	talloc_free(path);

	/* Nothing left: nothing to do. */
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_OK);
	assert_int_equal(sent, 0);
	talloc_free(spool);
	talloc_free(url);
	talloc_free(dir);
	assert_no_leak(*state);
}

static void test_send_signed(void **state)
{
	char *dir = new_dir(*state, "send-signed");
	char *url = url_of(*state, &fx.plain);
	mud_iodef_config_t c = cfg;
	mud_spool_t *spool;
	int before = dir_count(fx.plain.dir, ".body", false);
	size_t sent = 0;
	mud_trust_t *trust;
	mud_error_t err;
	char *path;
	char *doc;
	char *sig;
	size_t doc_len = 0;
	size_t sig_len = 0;

	c.sign_key = fx.signer_key;
	c.sign_cert = fx.signer_pem;
	spool = filled_spool(*state, dir, 1, &c);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, NULL, &err),
			 MUD_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(dir_count(dir, ".xml", false), 0);
	assert_int_equal(dir_count(dir, ".p7s", false), 0);

	/* The receiver got both parts; the signature verifies over the document. */
	path = talloc_asprintf(*state, "%s/%04d.document.xml", fx.plain.dir, before + 1);
	doc = test_read_file(*state, path, &doc_len);
	assert_non_null(doc);
	talloc_free(path);
	path = talloc_asprintf(*state, "%s/%04d.signature.p7s", fx.plain.dir, before + 1);
	sig = test_read_file(*state, path, &sig_len);
	assert_non_null(sig);
	assert_int_equal(mud_trust_load(*state, &trust, fx.signer_ca, NULL, &err), MUD_OK);
	assert_int_equal(mud_iodef_verify(doc, doc_len, (uint8_t *)sig, sig_len, trust, &err),
			 MUD_OK);
	talloc_free(trust);
	talloc_free(sig);
	talloc_free(doc);
	talloc_free(path);
	talloc_free(spool);
	talloc_free(url);
	talloc_free(dir);
	assert_no_leak(*state);
}

static void test_send_500_keeps(void **state)
{
	char *dir = new_dir(*state, "send500");
	char *url = url_of(*state, &fx.plain);
	mud_spool_t *spool = filled_spool(*state, dir, 2, &cfg);
	char *status = talloc_asprintf(*state, "%s/status", fx.plain.dir);
	size_t sent = 9;
	size_t kept = 9;
	mud_error_t err;

	assert_int_equal(write_file(status, "500\n", 4), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_ERR_HTTP);
	assert_string_equal(err.where, "HTTP 500");
	assert_int_equal(sent, 0);
	assert_int_equal(kept, 2);
	assert_int_equal(dir_count(dir, ".xml", false), 2);
	assert_int_equal(dir_count(dir, "", true), 0);

	/* 4xx: not retried, kept as well. */
	assert_int_equal(write_file(status, "403\n", 4), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_ERR_HTTP);
	assert_string_equal(err.where, "HTTP 403");
	assert_int_equal(dir_count(dir, ".xml", false), 2);

	/* The receiver recovers: the next run delivers them. */
	assert_int_equal(unlink(status), 0);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_OK);
	assert_int_equal(sent, 2);
	assert_int_equal(dir_count(dir, ".xml", false), 0);
	talloc_free(status);
	talloc_free(spool);
	talloc_free(url);
	talloc_free(dir);
	assert_no_leak(*state);
}

static void test_send_down_keeps(void **state)
{
	char *dir = new_dir(*state, "senddown");
	char *url = talloc_asprintf(*state, "https://127.0.0.1:%d/iodef", fx.closed_port);
	mud_spool_t *spool = filled_spool(*state, dir, 3, &cfg);
	size_t sent = 9;
	size_t kept = 9;
	mud_error_t err;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 2000, &sent, &kept, &err),
			 MUD_ERR_FETCH);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(sent, 0);
	assert_int_equal(kept, 3);
	assert_int_equal(dir_count(dir, ".xml", false), 3);
	assert_int_equal(dir_count(dir, "", true), 0);
	/* bounded: 3 attempts of the first document, then the run stops */
	assert_true(t1.tv_sec - t0.tv_sec < 5);

	/* Wrong CA: a TLS error, files kept. */
	talloc_free(url);
	url = talloc_asprintf(*state, "https://127.0.0.1:%d/iodef", fx.plain.port);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.signer_ca, NULL, NULL, 2000, &sent, &kept,
					&err), MUD_ERR_TLS);
	assert_int_equal(dir_count(dir, ".xml", false), 3);

	/* Not https. */
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, "http://127.0.0.1/x", fx.ca, NULL, NULL, 2000, &sent,
					&kept, &err), MUD_ERR_URL);
	assert_string_equal(err.text, "receiver URL must be https");
	talloc_free(spool);
	talloc_free(dir);
	talloc_free(url);
	assert_no_leak(*state);
}

static void test_send_mtls(void **state)
{
	char *dir = new_dir(*state, "sendmtls");
	char *url = url_of(*state, &fx.mtls);
	mud_spool_t *spool = filled_spool(*state, dir, 2, &cfg);
	size_t sent = 9;
	size_t kept = 9;
	mud_error_t err;
	mud_rcode_t rc;

	/* No client certificate: refused, kept. */
	mud_error_clear(&err);
	rc = mud_spool_send(spool, url, fx.ca, NULL, NULL, 3000, &sent, &kept, &err);
	assert_true(rc == MUD_ERR_TLS || rc == MUD_ERR_FETCH);
	assert_int_equal(sent, 0);
	assert_int_equal(dir_count(dir, ".xml", false), 2);

	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, fx.client_pem, fx.client_key, 3000,
					&sent, &kept, &err), MUD_OK);
	assert_int_equal(sent, 2);
	assert_int_equal(kept, 0);
	assert_int_equal(dir_count(dir, ".xml", false), 0);
	assert_int_equal(dir_count(fx.mtls.dir, ".body", false), 2);
	talloc_free(spool);
	talloc_free(url);
	talloc_free(dir);
	assert_no_leak(*state);
}

/*
 *	RFC 3067 6.13: local time with its UTC offset
 */

/** Render inc under the time zone tz (TZ environment, or config timezone). */
static char *render_tz(void *ctx, char const *tz, char const *cfg_tz, mud_incident_t const *inc)
{
	mud_iodef_config_t c = cfg;
	mud_error_t err;
	char *xml = NULL;
	size_t len;

	if (strcmp(tz, "UTC") != 0) {
		char zf[PATH_MAX];

		snprintf(zf, sizeof(zf), "/usr/share/zoneinfo/%s", tz);
		if (access(zf, R_OK) != 0) fail_msg("time zone %s missing: install tzdata", tz);
	}
	setenv("TZ", tz, 1);
	tzset();
	c.timezone = cfg_tz;
	mud_error_clear(&err);
	if (mud_iodef_render(ctx, &xml, &len, inc, &c, &err) != MUD_OK) {
		fail_msg("TZ=%s timezone=%s: %s (at %s)", tz, cfg_tz ? cfg_tz : "-", err.text,
			 err.where);
	}
	assert_valid(xml, len);
	assert_offsets(xml);
	return xml;
}

static void expect_in(char const *xml, char const *tz, char const *want)
{
	if (!strstr(xml, want)) fail_msg("TZ=%s: \"%s\" not in the document", tz, want);
}

static void test_local_time_offsets(void **state)
{
	static struct {
		char const *tz;
		time_t first;		//!< StartTime, first-seen
		time_t last;		//!< last-seen (across a DST change where there is one)
		char const *want_first;
		char const *want_last;
	} const cases[] = {
		/* 2026-03-29 01:00 UTC: CET (+01:00) -> CEST (+02:00) */
		{ "Europe/Berlin", 1774745999, 1774746000,
		  "2026-03-29T01:59:59+01:00", "2026-03-29T03:00:00+02:00" },
		/* 2026-11-01 06:00 UTC: EDT (-04:00) -> EST (-05:00) */
		{ "America/New_York", 1793512799, 1793512800,
		  "2026-11-01T01:59:59-04:00", "2026-11-01T01:00:00-05:00" },
		{ "Asia/Kolkata", 1700000000, 1700000000,
		  "2023-11-15T03:43:20+05:30", "2023-11-15T03:43:20+05:30" },
		{ "Pacific/Chatham", 1700000000, 1700000000,
		  "2023-11-15T11:58:20+13:45", "2023-11-15T11:58:20+13:45" },
		/* GMT in winter is not UTC: +00:00, never Z */
		{ "Europe/London", 1700000000, 1700000000,
		  "2023-11-14T22:13:20+00:00", "2023-11-14T22:13:20+00:00" },
		{ "UTC", 1700000000, 1700000000, "2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z" },
		/* Liberia until 1972: UTC-0:44:30, not writable as xs:dateTime: UTC instead */
		{ "Africa/Monrovia", 31536000, 31536000,
		  "1971-01-01T00:00:00Z", "1971-01-01T00:00:00Z" },
	};
	mud_incident_t inc = full_incident(MUD_EVENT_URL_CHANGED);
	mud_incident_action_t late[] = { { "quarantine VLAN 999", true, 0 } };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[96];
		char *xml;

		inc.time = cases[i].last;
		inc.first_seen = cases[i].first;
		inc.last_seen = cases[i].last;
		inc.reported = cases[i].last;
		late[0].at = cases[i].last;
		inc.actions = late;
		inc.num_actions = 1;
		xml = render_tz(*state, cases[i].tz, NULL, &inc);
		snprintf(want, sizeof(want), "<StartTime>%s</StartTime>", cases[i].want_first);
		expect_in(xml, cases[i].tz, want);
		snprintf(want, sizeof(want), "meaning=\"first-seen\">%s<", cases[i].want_first);
		expect_in(xml, cases[i].tz, want);
		snprintf(want, sizeof(want), "meaning=\"last-seen\">%s<", cases[i].want_last);
		expect_in(xml, cases[i].tz, want);
		snprintf(want, sizeof(want), "<ReportTime>%s</ReportTime>", cases[i].want_last);
		expect_in(xml, cases[i].tz, want);
		snprintf(want, sizeof(want), "<DateTime>%s</DateTime>\n      <Description>"
			 "quarantine VLAN 999", cases[i].want_last);
		expect_in(xml, cases[i].tz, want);
		talloc_free(xml);
	}

	/* The timezone setting overrides TZ. */
	inc.first_seen = inc.last_seen = inc.time = inc.reported = 1774746000;
	{
		static struct {
			char const *setting;
			char const *want;
		} const forced[] = {
			{ "UTC", "<ReportTime>2026-03-29T01:00:00Z</ReportTime>" },
			{ "utc", "<ReportTime>2026-03-29T01:00:00Z</ReportTime>" },
			{ "+05:30", "<ReportTime>2026-03-29T06:30:00+05:30</ReportTime>" },
			{ "-09:00", "<ReportTime>2026-03-28T16:00:00-09:00</ReportTime>" },
			{ "+00:00", "<ReportTime>2026-03-29T01:00:00Z</ReportTime>" },
			{ "local", "<ReportTime>2026-03-29T03:00:00+02:00</ReportTime>" },
		};

		for (i = 0; i < sizeof(forced) / sizeof(forced[0]); i++) {
			char *xml = render_tz(*state, "Europe/Berlin", forced[i].setting, &inc);

			expect_in(xml, forced[i].setting, forced[i].want);
			talloc_free(xml);
		}
	}
	{
		static char const *const bad[] = { "Europe/Berlin", "+14:01", "+5:30", "+05:60",
						   "05:30", "+05:30x", "\xff" };
		mud_iodef_config_t c = cfg;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			mud_error_t err;
			char *xml = (char *)1;
			size_t len;

			c.timezone = bad[i];
			mud_error_clear(&err);
			assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &c, &err),
					 MUD_ERR_ARG);
			assert_null(xml);
			assert_string_equal(err.where, "config.timezone");
			assert_non_null(strstr(err.text, "expected local, UTC or +hh:mm/-hh:mm"));
		}
	}
	setenv("TZ", "UTC", 1);
	tzset();
	assert_no_leak(*state);
}

/** Render from several threads while the zone has DST: localtime_r is reentrant. */
static void *tz_worker(void *arg)
{
	int *bad = arg;
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	int i;

	for (i = 0; i < 200; i++) {
		void *ctx = talloc_new(NULL);
		char *xml;
		size_t len;

		inc.time = inc.first_seen = inc.last_seen = inc.reported =
			(i % 2) ? 1774745999 : 1774746000;
		if (mud_iodef_render(ctx, &xml, &len, &inc, &cfg, NULL) != MUD_OK ||
		    !strstr(xml, (i % 2) ? "<ReportTime>2026-03-29T01:59:59+01:00<" :
				 "<ReportTime>2026-03-29T03:00:00+02:00<")) {
			(*bad)++;
		}
		talloc_free(ctx);
	}
	return NULL;
}

static void test_local_time_threads(void **state)
{
	pthread_t th[4];
	int bad[4] = { 0 };
	int i;

	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_create(&th[i], NULL, tz_worker, &bad[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(bad[i], 0);
	}
	setenv("TZ", "UTC", 1);
	tzset();
	assert_no_leak(*state);
}

/*
 *	RFC 3067 6.10, 6.7, 4.3, 6.11
 */
static void test_confidence_per_event(void **state)
{
	static char const *const want[MUD_EVENT_MAX] = {
		[MUD_EVENT_SIG_INVALID] = "high",	[MUD_EVENT_SIG_UNTRUSTED] = "high",
		[MUD_EVENT_SIG_EXPIRED] = "medium",	[MUD_EVENT_SIG_MISSING] = "medium",
		[MUD_EVENT_SIG_SIGNER] = "high",	[MUD_EVENT_TLS_INVALID] = "medium",
		[MUD_EVENT_URL_MISMATCH] = "high",	[MUD_EVENT_URL_REFUSED] = "high",
		[MUD_EVENT_URL_CONFLICT] = "medium",	[MUD_EVENT_URL_CHANGED] = "low",
		[MUD_EVENT_ACL_DENIED] = "low",		[MUD_EVENT_FILE_INVALID] = "high",
		[MUD_EVENT_ACL_CONFLICT] = "medium",
	};
	int i;

	for (i = 0; i < MUD_EVENT_MAX; i++) {
		mud_incident_t inc = full_incident((mud_event_t)i);
		char rating[64];
		char *basis;
		char *xml;
		size_t len;

		assert_non_null(want[i]);
		assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
		snprintf(rating, sizeof(rating), "<Confidence rating=\"%s\"/>", want[i]);
		if (!strstr(xml, rating)) fail_msg("%s: no %s", mud_event_name(i), rating);
		basis = strstr(xml, "<AdditionalData dtype=\"string\" "
				    "meaning=\"confidence-basis\">");
		assert_non_null(basis);
		assert_true(strstr(basis, "</AdditionalData>") - basis > 100);
		assert_true(strstr(basis, "</AdditionalData>") < strstr(xml, "</Assessment>"));
		talloc_free(xml);
	}
	assert_no_leak(*state);
}

static void test_typed_addresses(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_URL_REFUSED);
	char *xml;
	size_t len;
	mud_error_t err;

	inc.ip6 = "2001:db8::10";
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_non_null(strstr(xml, "<Address category=\"mac\">00:11:22:33:44:55</Address>\n"
			 "          <Address category=\"ipv4-addr\">192.0.2.10</Address>\n"
			 "          <Address category=\"ipv6-addr\">2001:db8::10</Address>\n"
			 "          <Address category=\"ext-value\" ext-category=\"nas-port\">"
			 "GigabitEthernet1/0/7</Address>"));
	talloc_free(xml);

	/* An IPv6-only device. */
	inc.mac = NULL;
	inc.ip = NULL;
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_non_null(strstr(xml, "<Address category=\"ipv6-addr\">2001:db8::10</Address>"));
	talloc_free(xml);

	inc.ip6 = "2001:db8::zz";
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "incident.ip6");
	assert_string_equal(err.text, "not an IP address: \"2001:db8::zz\"");
	assert_no_leak(*state);
}

static void test_restrictions_per_class(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	mud_iodef_config_t c = cfg;
	mud_error_t err;
	char *xml;
	size_t len;

	c.restrictions = "record=red, history = amber+strict,contact=green,system=need-to-know,"
			 "assessment=clear,method=public,discovery=partner,eventdata=amber,"
			 "expectation=private,additional-data=default";
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &c, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_non_null(strstr(xml, "<Incident purpose=\"reporting\" status=\"new\" "
			 "restriction=\"amber\">"));
	assert_non_null(strstr(xml, "<Record restriction=\"red\">"));
	assert_non_null(strstr(xml, "<History restriction=\"ext-value\" "
			 "ext-restriction=\"amber+strict\">"));
	assert_non_null(strstr(xml, "<Contact role=\"creator\" type=\"organization\" "
			 "restriction=\"green\">"));
	assert_int_equal(count_str(xml, " restriction=\"need-to-know\""), 3);	/* 3 Systems */
	assert_non_null(strstr(xml, "<Assessment occurrence=\"actual\" restriction=\"white\">"));
	assert_non_null(strstr(xml, "<Method restriction=\"public\">"));
	assert_non_null(strstr(xml, "ext-source=\"mud-manager\" restriction=\"partner\">"));
	assert_non_null(strstr(xml, "<EventData restriction=\"amber\">"));
	assert_non_null(strstr(xml, "<Expectation action=\"investigate\" "
			 "restriction=\"private\">"));
	assert_non_null(strstr(xml, "meaning=\"tlp\" restriction=\"default\">TLP:AMBER<"));
	talloc_free(xml);

	mud_error_clear(&err);
	c.restrictions = "record=purple";
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &c, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "config.restrictions");
	assert_string_equal(err.text, "record: unknown TLP/restriction \"purple\"");
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_restrictions_check("flow=red", &err), MUD_ERR_ARG);
	assert_true(strncmp(err.text, "unknown element class \"flow\"", 28) == 0);
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_restrictions_check("record", &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "\"record\": expected class=restriction");
	assert_int_equal(mud_iodef_restrictions_check(" , record=RED ,", NULL), MUD_OK);
	assert_int_equal(mud_iodef_restrictions_check(NULL, NULL), MUD_OK);
	assert_no_leak(*state);
}

static void test_history_times(void **state)
{
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	mud_incident_action_t a[] = {
		{ "quarantine VLAN 999 applied", true, 1700000005 },
		{ "last good policy kept", false, 1700000006 },
		{ "CoA-Request sent to 192.0.2.1", true, 1700000007 },
	};
	char *xml;
	size_t len;

	inc.actions = a;
	inc.num_actions = 3;
	inc.count = 4;
	inc.first_seen = 1700000000;
	inc.last_seen = 1700000300;
	inc.reported = 1700000310;
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	assert_valid(xml, len);
	assert_non_null(strstr(xml,
		"    <HistoryItem action=\"other\">\n"
		"      <DateTime>2023-11-14T22:13:20Z</DateTime>\n"
		"      <Description>Detected by the MUD manager: sig-invalid</Description>\n"));
	assert_non_null(strstr(xml,
		"    <HistoryItem action=\"block-host\">\n      <DateTime>2023-11-14T22:13:25Z"
		"</DateTime>\n      <Description>quarantine VLAN 999 applied</Description>\n"));
	assert_non_null(strstr(xml, "<DateTime>2023-11-14T22:13:26Z</DateTime>\n      "
			 "<Description>last good policy kept</Description>"));
	assert_non_null(strstr(xml, "<DateTime>2023-11-14T22:13:27Z</DateTime>\n      "
			 "<Description>CoA-Request sent to 192.0.2.1</Description>"));
	assert_non_null(strstr(xml, "<HistoryItem action=\"watch-and-report\">\n      <DateTime>"
			 "2023-11-14T22:18:20Z</DateTime>\n      <Description>Repeats counted "
			 "into this report: 4 occurrences"));
	assert_non_null(strstr(xml, "<HistoryItem action=\"ext-value\" ext-action=\"report-sent\">"
			 "\n      <DateTime>2023-11-14T22:18:30Z</DateTime>"));
	talloc_free(xml);
	assert_no_leak(*state);
}

/*
 *	RFC 3067 6.16: sign, then encrypt
 */
static char *csirt(void *ctx, char const *name)
{
	return talloc_asprintf(ctx, "%s/%s", fx.csirt_dir, name);
}

static void test_seal_decrypt(void **state)
{
	static char const *const ciphers[] = { "aes-256-gcm", "aes-256-cbc", NULL };
	mud_incident_t inc = full_incident(MUD_EVENT_TLS_INVALID);
	mud_iodef_config_t c = cfg;
	mud_iodef_rcpt_t *rcpt;
	mud_trust_t *trust;
	mud_error_t err;
	char *xml;
	size_t len;
	size_t i;
	int k;

	assert_int_equal(mud_trust_load(*state, &trust, fx.signer_ca, NULL, NULL), MUD_OK);
	assert_int_equal(mud_iodef_render(*state, &xml, &len, &inc, &cfg, NULL), MUD_OK);
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++) {
		char *both = csirt(*state, "both.pem");

		mud_error_clear(&err);
		assert_int_equal(mud_iodef_rcpt_load(*state, &rcpt, both, ciphers[i], &err),
				 MUD_OK);
		assert_int_equal(mud_iodef_rcpt_count(rcpt), 2);
		c.encrypt = rcpt;
		for (k = 0; k < 4; k++) {
			bool sign = k & 1;
			char *key = csirt(*state, (k & 2) ? "ec.key" : "rsa.key");
			char *cert = csirt(*state, (k & 2) ? "ec.pem" : "rsa.pem");
			uint8_t *sealed;
			size_t sealed_len;
			uint8_t *doc;
			size_t doc_len;
			uint8_t *sig;
			size_t sig_len;

			c.sign_key = sign ? fx.signer_key : NULL;
			c.sign_cert = sign ? fx.signer_pem : NULL;
			assert_int_equal(mud_iodef_seal(*state, &sealed, &sealed_len, xml, len, &c,
							&err), MUD_OK);
			assert_int_equal(sealed[0], 0x30);
			assert_null(memmem(sealed, sealed_len, "<IODEF", 6));	/* no plaintext */
			assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &sig, &sig_len,
							   sealed, sealed_len, key, cert, &err),
					 MUD_OK);
			assert_int_equal(doc_len, len);
			assert_memory_equal(doc, xml, len);
			if (sign) {
				assert_non_null(sig);
				assert_int_equal(mud_iodef_verify((char *)doc, doc_len, sig,
								  sig_len, trust, &err),
						 MUD_OK);
				talloc_free(sig);
			} else {
				assert_null(sig);
			}
			talloc_free(doc);

			/* Damaged: a flipped byte near the end, a cut, another key. */
			sealed[sealed_len - 5] ^= 0x01;
			mud_error_clear(&err);
			if (mud_iodef_decrypt(*state, &doc, &doc_len, &sig, &sig_len, sealed,
					      sealed_len, key, cert, &err) == MUD_OK) {
				/* a CBC padding survives a garbled last block about once in 256:
				 * the content is then never the original (the signature, when
				 * there is one, is what proves it) */
				assert_false(doc_len == len && memcmp(doc, xml, len) == 0);
				talloc_free(doc);
				talloc_free(sig);
				doc = NULL;
				sig = NULL;
			}
			assert_null(doc);
			assert_null(sig);
			sealed[sealed_len - 5] ^= 0x01;
			mud_error_clear(&err);
			assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &sig, &sig_len,
							   sealed, sealed_len / 2, key, cert, &err),
					 MUD_ERR_SIG);
			assert_string_equal(err.where, "d2i_CMS_bio");
			talloc_free(key);
			talloc_free(cert);
			key = csirt(*state, "other.key");
			cert = csirt(*state, "other.pem");
			mud_error_clear(&err);
			assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &sig, &sig_len,
							   sealed, sealed_len, key, cert, &err),
					 MUD_ERR_SIG);
			assert_string_equal(err.where, "CMS_decrypt");
			talloc_free(key);
			talloc_free(cert);
			talloc_free(sealed);
		}
		talloc_free(both);
		talloc_free(rcpt);
	}

	/* Not CMS at all; a signed (not enveloped) message. */
	{
		char *key = csirt(*state, "rsa.key");
		char *cert = csirt(*state, "rsa.pem");
		uint8_t *sig;
		size_t sig_len;
		uint8_t *doc;
		size_t doc_len;
		uint8_t *s2;
		size_t s2_len;

		mud_error_clear(&err);
		assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &s2, &s2_len,
						   (uint8_t *)xml, len, key, cert, &err),
				 MUD_ERR_SIG);
		assert_int_equal(mud_iodef_sign(*state, &sig, &sig_len, xml, len, fx.signer_key,
						fx.signer_pem, NULL), MUD_OK);
		mud_error_clear(&err);
		assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &s2, &s2_len, sig,
						   sig_len, key, cert, &err), MUD_ERR_SIG);
		assert_string_equal(err.text, "not an enveloped message (pkcs7-signedData)");
		talloc_free(sig);
		talloc_free(key);
		talloc_free(cert);
	}

	/* Recipient files: none, not a certificate, a bad cipher; sealing without any. */
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_rcpt_load(*state, &rcpt, "/nonexistent.pem", NULL, &err),
			 MUD_ERR_IO);
	assert_null(rcpt);
	assert_string_equal(err.where, "/nonexistent.pem");
	mud_error_clear(&err);
	assert_int_equal(mud_iodef_rcpt_load(*state, &rcpt, fx.signer_key, NULL, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "no PEM certificate");
	mud_error_clear(&err);
	{
		char *both = csirt(*state, "both.pem");

		assert_int_equal(mud_iodef_rcpt_load(*state, &rcpt, both, "des-cbc", &err),
				 MUD_ERR_ARG);
		assert_string_equal(err.text, "unknown cipher \"des-cbc\" (aes-256-gcm or "
				    "aes-256-cbc)");
		talloc_free(both);
	}
	c = cfg;
	{
		uint8_t *sealed;
		size_t sealed_len;

		mud_error_clear(&err);
		assert_int_equal(mud_iodef_seal(*state, &sealed, &sealed_len, xml, len, &c, &err),
				 MUD_ERR_ARG);
		assert_string_equal(err.text, "no recipients");
	}
	talloc_free(xml);
	talloc_free(trust);
	assert_no_leak(*state);
}

/** Spool with encryption: only sealed files (0600), sent as pkcs7-mime, decryptable. */
static void test_spool_sealed(void **state)
{
	char *dir = new_dir(*state, "sealed");
	char *url = url_of(*state, &fx.plain);
	char *both = csirt(*state, "both.pem");
	char *key = csirt(*state, "ec.key");
	char *cert = csirt(*state, "ec.pem");
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_UNTRUSTED);
	mud_iodef_config_t c = cfg;
	mud_iodef_rcpt_t *rcpt;
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_trust_t *trust;
	int before = dir_count(fx.plain.dir, ".body", false);
	size_t sent = 0;
	struct stat sb;
	char *path;
	char *body;
	size_t body_len = 0;
	uint8_t *doc;
	size_t doc_len;
	uint8_t *sig;
	size_t sig_len;

	assert_int_equal(mud_iodef_rcpt_load(*state, &rcpt, both, NULL, NULL), MUD_OK);
	assert_int_equal(mud_trust_load(*state, &trust, fx.signer_ca, NULL, NULL), MUD_OK);
	c.encrypt = rcpt;
	c.sign_key = fx.signer_key;
	c.sign_cert = fx.signer_pem;
	assert_int_equal(mud_spool_open(*state, &spool, dir, NULL, NULL), MUD_OK);
	assert_int_equal(mud_spool_write(spool, &inc, &c, 2000000000, &st, NULL), MUD_OK);
	assert_int_equal(mud_spool_write(spool, &inc, &c, 2000000001, &st, NULL), MUD_OK);
	assert_int_equal(st.count, 2);
	assert_int_equal(dir_count(dir, ".xml.p7m", false), 1);
	assert_int_equal(dir_count(dir, ".xml", false), 0);	/* no plaintext at rest */
	assert_int_equal(dir_count(dir, ".p7s", false), 0);
	path = talloc_asprintf(*state, "%s/%s.xml.p7m", dir, st.id);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	talloc_free(path);

	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, NULL, NULL),
			 MUD_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(dir_count(dir, ".p7m", false), 0);
	path = talloc_asprintf(*state, "%s/%04d.ctype", fx.plain.dir, before + 1);
	body = test_read_file(*state, path, NULL);
	assert_non_null(body);
	assert_string_equal(body, "application/pkcs7-mime; smime-type=authEnveloped-data\n");
	talloc_free(body);
	talloc_free(path);
	path = talloc_asprintf(*state, "%s/%04d.body", fx.plain.dir, before + 1);
	body = test_read_file(*state, path, &body_len);
	assert_non_null(body);
	assert_int_equal(mud_iodef_decrypt(*state, &doc, &doc_len, &sig, &sig_len,
					   (uint8_t *)body, body_len, key, cert, NULL), MUD_OK);
	assert_non_null(sig);
	assert_int_equal(mud_iodef_verify((char *)doc, doc_len, sig, sig_len, trust, NULL), MUD_OK);
	assert_non_null(memmem(doc, doc_len, ">2</Counter>", 12));
	assert_valid((char *)doc, doc_len);
	talloc_free(doc);
	talloc_free(sig);
	talloc_free(body);
	talloc_free(path);
	talloc_free(spool);
	talloc_free(trust);
	talloc_free(rcpt);
	talloc_free(key);
	talloc_free(cert);
	talloc_free(both);
	talloc_free(url);
	talloc_free(dir);
	assert_no_leak(*state);
}

/*
 *	Background writer: the request path records only
 */

/** This thread's write() calls and bytes so far (/proc/thread-self/io). */
static bool thread_io(unsigned long long *syscw, unsigned long long *wchar)
{
	char buf[512];
	FILE *fp = fopen("/proc/thread-self/io", "r");
	bool ok = false;

	*syscw = *wchar = 0;
	if (!fp) return false;
	while (fgets(buf, sizeof(buf), fp)) {
		if (sscanf(buf, "syscw: %llu", syscw) == 1) ok = true;
		(void)sscanf(buf, "wchar: %llu", wchar);
	}
	fclose(fp);
	return ok;
}

#define BG_THREADS	4
#define BG_WRITES	2500	//!< per thread: 10000 occurrences, 3 devices

typedef struct {
	mud_spool_t		*spool;
	int			n;
	int			failures;
	unsigned long long	syscw;		//!< write() calls of this thread during the writes
	unsigned long long	wchar;
	double			max_us;		//!< slowest mud_spool_write()
	double			total_us;
} bg_worker_t;

static double mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *bg_worker(void *arg)
{
	bg_worker_t *w = arg;
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	unsigned long long c0, b0, c1, b1;
	int i;

	if (!thread_io(&c0, &b0)) {
		w->failures = -1;
		return NULL;
	}
	for (i = 0; i < BG_WRITES; i++) {
		char mac[32];
		double t0;
		double dt;

		snprintf(mac, sizeof(mac), "02:00:00:00:03:%02d", (w->n + i) % 3);
		inc.mac = mac;
		t0 = mono_us();
		if (mud_spool_write(w->spool, &inc, &cfg, 2000000000 + i / 100, NULL, NULL) !=
		    MUD_OK) {
			w->failures++;
		}
		dt = mono_us() - t0;
		w->total_us += dt;
		if (dt > w->max_us) w->max_us = dt;
	}
	(void)thread_io(&c1, &b1);
	w->syscw = c1 - c0;
	w->wchar = b1 - b0;
	return NULL;
}

static void test_spool_background(void **state)
{
	char *dir = new_dir(*state, "background");
	mud_spool_opts_t opts = { .flush_rate = 20 };
	pthread_t th[BG_THREADS];
	bg_worker_t w[BG_THREADS];
	mud_spool_stats_t stats;
	mud_spool_t *spool;
	DIR *d;
	struct dirent *de;
	unsigned long total = 0;
	unsigned long expect;
	double t0;
	double burst;
	double elapsed;
	double sum_us = 0;
	double max_us = 0;
	int i;

	assert_int_equal(mud_spool_open(*state, &spool, dir, &opts, NULL), MUD_OK);
	assert_int_equal(mud_spool_writer_start(spool, &cfg, NULL), MUD_OK);
	t0 = mono_us();
	for (i = 0; i < BG_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].spool = spool;
		w[i].n = i;
		assert_int_equal(pthread_create(&th[i], NULL, bg_worker, &w[i]), 0);
	}
	for (i = 0; i < BG_THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failures < 0) skip();	/* no /proc/thread-self/io */
		assert_int_equal(w[i].failures, 0);
		/* The measurement: the recording threads made no write() call at all. */
		assert_int_equal(w[i].syscw, 0);
		assert_int_equal(w[i].wchar, 0);
		sum_us += w[i].total_us;
		if (w[i].max_us > max_us) max_us = w[i].max_us;
	}
	burst = (mono_us() - t0) / 1e6;
	/* Then one second of steady repeats (one every 2 ms) from this thread. */
	{
		mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);

		for (i = 0; mono_us() - t0 < 1e6; i++) {
			char mac[32];

			snprintf(mac, sizeof(mac), "02:00:00:00:03:%02d", i % 3);
			inc.mac = mac;
			assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000100, NULL,
							 NULL), MUD_OK);
			sleep_ms(2);
		}
		total = (unsigned long)i;
	}
	elapsed = (mono_us() - t0) / 1e6;

	mud_spool_stats(spool, &stats);
	assert_int_equal(stats.recorded, BG_THREADS * BG_WRITES + total);
	/* At most flush_rate documents a second (+1: the first needs no pause), and the
	 * writer did write meanwhile. */
	assert_true(stats.written <= (uint64_t)(20 * elapsed) + 1);
	assert_true(stats.written >= 3);
	fprintf(stderr, "test_iodef: background writer: %d records in %.3f s from %d threads "
		"(mean %.2f us, max %.0f us per mud_spool_write(), 0 write() calls on those "
		"threads), then %lu more over 1 s; %llu documents written in %.2f s at "
		"flush_rate 20 (%llu repeats coalesced)\n",
		BG_THREADS * BG_WRITES, burst, BG_THREADS, sum_us / (BG_THREADS * BG_WRITES),
		max_us, total, (unsigned long long)stats.written, elapsed,
		(unsigned long long)stats.coalesced);
	total += BG_THREADS * BG_WRITES;
	expect = total;
	total = 0;

	/* Freeing the spool stops the writer and writes what is still dirty. */
	talloc_free(spool);
	assert_int_equal(dir_count(dir, ".xml", false), 3);
	assert_int_equal(dir_count(dir, "", true), 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path;
		char *doc;
		char *cnt;

		if (de->d_name[0] == '.') continue;
		path = talloc_asprintf(*state, "%s/%s", dir, de->d_name);
		doc = test_read_file(*state, path, NULL);
		assert_non_null(doc);
		cnt = elem_text(*state, doc, "Counter");
		assert_non_null(cnt);
		total += strtoul(cnt, NULL, 10);
		assert_valid(doc, strlen(doc));
		talloc_free(cnt);
		talloc_free(doc);
		talloc_free(path);
	}
	closedir(d);
	assert_int_equal(total, expect);	/* every occurrence counted exactly once */
	talloc_free(dir);
	assert_no_leak(*state);
}

/** Full spool with the writer: requests drop and ask for a recount; the writer recounts
 *  (at most once a second) after a sender removed files, and recording resumes. */
static void test_spool_background_bounds(void **state)
{
	char *dir = new_dir(*state, "bgbounds");
	mud_spool_opts_t opts = { .max_files = 2, .flush_rate = 100 };
	mud_incident_t inc = full_incident(MUD_EVENT_URL_CHANGED);
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_error_t err;
	char first[MUD_IODEF_ID_SIZE];
	char *path;
	char *doc;
	double t0;
	int dropped = 0;

	inc.num_actions = 0;
	assert_int_equal(mud_spool_open(*state, &spool, dir, &opts, NULL), MUD_OK);
	assert_int_equal(mud_spool_writer_start(spool, &cfg, NULL), MUD_OK);
	inc.mac = "02:00:00:00:04:01";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, NULL), MUD_OK);
	snprintf(first, sizeof(first), "%s", st.id);
	inc.mac = "02:00:00:00:04:02";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, NULL), MUD_OK);
	assert_int_equal(mud_spool_flush(spool, NULL), MUD_OK);
	assert_int_equal(dir_count(dir, ".xml", false), 2);

	inc.mac = "02:00:00:00:04:03";
	mud_error_clear(&err);
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000001, &st, &err), MUD_ERR_LIMIT);
	assert_true(st.dropped);
	assert_true(strncmp(err.text, "spool full (2 files, ", 21) == 0);
	dropped++;

	/* A sender (another process) takes the first document away. */
	path = talloc_asprintf(*state, "%s/%s.xml", dir, first);
	assert_int_equal(unlink(path), 0);
	talloc_free(path);
	t0 = mono_us();
	while (mud_spool_write(spool, &inc, &cfg, 2000000002, &st, NULL) != MUD_OK) {
		dropped++;
		assert_true(mono_us() - t0 < 5e6);	/* the recount comes within ~1 s */
		sleep_ms(50);
	}
	assert_false(st.aggregated);
	assert_int_equal(mud_spool_flush(spool, NULL), MUD_OK);
	doc = spool_doc(*state, dir, st.id);
	assert_non_null(doc);
	{
		char want[128];

		snprintf(want, sizeof(want), "meaning=\"dropped-incidents\">%d</AdditionalData>",
			 dropped);
		assert_non_null(strstr(doc, want));
	}
	assert_valid(doc, strlen(doc));
	talloc_free(doc);
	talloc_free(spool);
	talloc_free(dir);
	assert_no_leak(*state);
}

/** The same load without the writer: each repeat renders and writes on the caller. */
static void test_spool_inline_cost(void **state)
{
	char *dir = new_dir(*state, "inline");
	mud_incident_t inc = full_incident(MUD_EVENT_SIG_INVALID);
	mud_spool_t *spool;
	unsigned long long c0, b0, c1, b1;
	double t0;
	int i;

	assert_int_equal(mud_spool_open(*state, &spool, dir, NULL, NULL), MUD_OK);
	if (!thread_io(&c0, &b0)) skip();
	t0 = mono_us();
	for (i = 0; i < 200; i++) {
		assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, NULL, NULL),
				 MUD_OK);
	}
	fprintf(stderr, "test_iodef: without the writer: mean %.0f us per mud_spool_write() "
		"(render + fsync each repeat)", (mono_us() - t0) / 200);
	(void)thread_io(&c1, &b1);
	fprintf(stderr, ", %llu write() calls for 200 records\n", c1 - c0);
	assert_true(c1 - c0 >= 200);	/* what the writer takes off the request path */
	talloc_free(spool);
	talloc_free(dir);
	assert_no_leak(*state);
}

/*
 *	Spool files that are not ours (mud_spool.c, mud_safe.c)
 */

/** Log sink: every warning, one per line. */
static void log_capture(void *uctx, mud_log_level_t level, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_capture(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	char **log = uctx;
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level != MUD_LOG_WARN) return;
	*log = talloc_asprintf_append_buffer(*log, "%s\n", line);
	assert_non_null(*log);
}

/** Does any body the receiver got since the before-th contain needle? */
static bool receiver_got(void *ctx, receiver_t const *r, int before, char const *needle)
{
	int n = dir_count(r->dir, ".body", false);
	int i;

	for (i = before + 1; i <= n; i++) {
		char *path = talloc_asprintf(ctx, "%s/%04d.body", r->dir, i);
		size_t len = 0;
		char *body = test_read_file(ctx, path, &len);
		bool hit = body && memmem(body, len, needle, strlen(needle)) != NULL;

		talloc_free(body);
		talloc_free(path);
		if (hit) return true;
	}
	return false;
}

/** A planted link to a root-only file, a second hard link to it, a FIFO, a directory and a
 *  device, all named like reports, and a real report whose signature is a FIFO: none is
 *  opened, read or sent (each skipped with a warning), nothing blocks, the one good report is
 *  sent. The whole test runs under a 60 s alarm: a blocking open would kill it. */
static void test_spool_unsafe_files(void **state)
{
	void *ctx = talloc_new(*state);
	char *dir = new_dir(ctx, "unsafe");
	char *secret = talloc_asprintf(ctx, "%s/root-only-%u", fx.dir, fx.seq++);
	char *url = url_of(ctx, &fx.plain);
	char *log = talloc_strdup(ctx, "");
	mud_spool_opts_t opts = { .log = log_capture, .log_uctx = &log };
	mud_incident_t inc = full_incident(MUD_EVENT_URL_MISMATCH);
	mud_spool_status_t st;
	mud_spool_t *spool;
	mud_error_t err;
	int before = dir_count(fx.plain.dir, ".body", false);
	size_t sent = 99;
	size_t kept = 99;
	struct timespec t0;
	struct timespec t1;
	struct stat sb;
	char *p;
	char const *names[] = {
		"20990101T000000Z-0000000000000000000000000000000a.xml",	/* symlink */
		"20990101T000000Z-0000000000000000000000000000000b.xml",	/* hard link */
		"20990101T000000Z-0000000000000000000000000000000c.xml",	/* FIFO */
		"20990101T000000Z-0000000000000000000000000000000d.xml",	/* directory */
		"20990101T000000Z-0000000000000000000000000000000e.xml",	/* device */
		"20990101T000000Z-0000000000000000000000000000000f.xml",	/* FIFO signature */
	};
	char *path[6];
	size_t i;

	alarm(60);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(write_file(secret, "ROOT-ONLY-SECRET shadow:$6$x", 28), 0);
	assert_int_equal(chmod(secret, 0600), 0);
	for (i = 0; i < 6; i++) path[i] = talloc_asprintf(ctx, "%s/%s", dir, names[i]);
	assert_int_equal(symlink(secret, path[0]), 0);
	assert_int_equal(link(secret, path[1]), 0);
	assert_int_equal(mkfifo(path[2], 0600), 0);
	assert_int_equal(mkdir(path[3], 0700), 0);
	if (geteuid() == 0) assert_int_equal(mknod(path[4], S_IFCHR | 0600, makedev(1, 3)), 0);
	assert_int_equal(write_file(path[5], "<not-sent/>", 11), 0);
	p = talloc_asprintf(ctx, "%s.p7s", path[5]);
	assert_int_equal(mkfifo(p, 0600), 0);

	/* open: the directory is fine; what is not a regular file is reported, not counted */
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(ctx, &spool, dir, &opts, &err), MUD_OK);
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a symbolic link",
						      names[0])));
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a FIFO", names[2])));
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a directory", names[3])));
	if (geteuid() == 0) {
		assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a device",
							      names[4])));
	}
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s.p7s skipped: a FIFO", names[5])));

	/* one real report */
	inc.mac = "02:00:00:00:09:01";
	assert_int_equal(mud_spool_write(spool, &inc, &cfg, 2000000000, &st, &err), MUD_OK);

	talloc_free(log);
	log = talloc_strdup(ctx, "");
	mud_error_clear(&err);
	assert_int_equal(mud_spool_send(spool, url, fx.ca, NULL, NULL, 5000, &sent, &kept, &err),
			 MUD_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(kept, 2);	/* the hard link, the report with a FIFO signature */
	assert_int_equal(dir_count(fx.plain.dir, ".body", false), before + 1);
	assert_true(receiver_got(ctx, &fx.plain, before, st.id));
	assert_false(receiver_got(ctx, &fx.plain, before, "ROOT-ONLY-SECRET"));
	assert_false(receiver_got(ctx, &fx.plain, before, "<not-sent/>"));
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a symbolic link",
						      names[0])));
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: has 2 hard links (a file "
						      "of ours has one)", names[1])));
	assert_non_null(strstr(log, talloc_asprintf(ctx, "%s skipped: a FIFO, not a regular file",
						      names[5])));

	/* nothing planted was moved, followed or removed */
	assert_int_equal(lstat(path[0], &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(lstat(path[1], &sb), 0);
	assert_int_equal(sb.st_nlink, 2);
	assert_int_equal(lstat(path[2], &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(lstat(path[5], &sb), 0);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(dir_count(dir, "", true), 0);	/* no claim left behind */
	talloc_free(spool);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 30);
	alarm(0);
	assert_int_equal(unlink(path[1]), 0);
	assert_int_equal(unlink(secret), 0);
	talloc_free(ctx);
}

/** The spool directory must be ours alone, else it is not opened. */
static void test_spool_dir_checks(void **state)
{
	void *ctx = talloc_new(*state);
	char *dir = new_dir(ctx, "spooldir");
	char *link = talloc_asprintf(ctx, "%s.link", dir);
	mud_spool_t *spool = NULL;
	mud_error_t err;

	assert_int_equal(chmod(dir, 0777), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(ctx, &spool, dir, NULL, &err), MUD_ERR_IO);
	assert_null(spool);
	assert_string_equal(err.where, dir);
	assert_string_equal(err.text, "spool directory is writable by others (mode 0777): "
			    "chmod go-w");
	assert_int_equal(chmod(dir, 0730), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(ctx, &spool, dir, NULL, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "spool directory is writable by its group (mode 0730): "
			    "chmod go-w");
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(ctx, &spool, link, NULL, &err), MUD_ERR_IO);
	assert_string_equal(err.text, "spool directory is a symbolic link; give the directory "
			    "itself");
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		mud_error_clear(&err);
		assert_int_equal(mud_spool_open(ctx, &spool, dir, NULL, &err), MUD_ERR_IO);
		assert_string_equal(err.text, "spool directory is owned by uid 65534, not by the "
				    "server's user (uid 0): chown it");
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	mud_error_clear(&err);
	assert_int_equal(mud_spool_open(ctx, &spool, dir, NULL, &err), MUD_OK);
	talloc_free(spool);
	assert_int_equal(unlink(link), 0);
	talloc_free(ctx);
}

int main(void)
{
	/* Expected values below are in UTC unless a test sets another zone. */
	setenv("TZ", "UTC", 1);
	tzset();

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup_ctx, test_teardown_ctx)
	const struct CMUnitTest tests[] = {
		T(test_event_names),
		T(test_every_event_renders_valid),
		T(test_event_references),
		T(test_ids_unique),
		T(test_datetimes_and_2038),
		T(test_hostile_strings),
		T(test_bad_input),
		T(test_minimal_and_tlp),
		T(test_server_only),
		T(test_syslog_line),
		T(test_sign_verify),
		T(test_spool_aggregate),
		T(test_spool_bounds),
		T(test_spool_signed_and_cleanup),
		T(test_spool_threads),
		T(test_send_ok),
		T(test_send_signed),
		T(test_send_500_keeps),
		T(test_send_down_keeps),
		T(test_send_mtls),
		T(test_spool_unsafe_files),
		T(test_spool_dir_checks),
		T(test_local_time_offsets),
		T(test_local_time_threads),
		T(test_confidence_per_event),
		T(test_spool_background_bounds),
		T(test_typed_addresses),
		T(test_restrictions_per_class),
		T(test_history_times),
		T(test_seal_decrypt),
		T(test_spool_sealed),
		T(test_spool_background),
		T(test_spool_inline_cost),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
