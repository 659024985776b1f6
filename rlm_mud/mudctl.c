/*
 * mudctl - operator tool for MUD files: extract a MUD URL, check a MUD file,
 * verify its signature, compile it to what a switch receives, fetch it.
 *
 * Exit status: 0 success, 1 the input is bad (stderr says what and where),
 * 2 usage or system error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mudctl.h"

typedef struct {
	char const	*name;
	int		(*run)(TALLOC_CTX *ctx, int argc, char **argv);
	char const	*synopsis;
	char const	*help;
} mudctl_cmd_t;

char const *progname = "mudctl";

/** Map a library code to an exit status: its row of the outcome table (mud_outcome()),
 *  the one the module maps to its rcode. */
int rcode_exit(mud_rcode_t rc)
{
	switch (mud_outcome(rc)->act) {
	case MUD_ACT_APPLY:
		return rc == MUD_OK ? 0 : EXIT_SYS;

	case MUD_ACT_INVALID:
	case MUD_ACT_NOOP:
		return EXIT_BAD;	/* the input: a file, a URL, a server's answer */

	case MUD_ACT_FAIL:
	case MUD_ACT_INTERIM:
		break;
	}
	return EXIT_SYS;
}

/** Print an error the same way for every command: "mudctl: SUBJECT: WHERE: TEXT [CODE]". */
int report(char const *subject, mud_error_t const *err)
{
	bool show_where = err->where[0] && !(subject && strcmp(subject, err->where) == 0);

	fprintf(stderr, "%s: %s%s%s%s%s [%s]\n", progname,
		subject ? subject : "", subject ? ": " : "",
		show_where ? err->where : "", show_where ? ": " : "",
		err->text[0] ? err->text : mud_strerror(err->code), mud_rcode_name(err->code));
	return rcode_exit(err->code);
}

int usage_error(char const *cmd, char const *fmt, char const *arg)
{
	fprintf(stderr, "%s%s%s: ", progname, cmd ? " " : "", cmd ? cmd : "");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	fprintf(stderr, fmt, arg ? arg : "");
#pragma GCC diagnostic pop
	fprintf(stderr, "\nTry '%s%s%s --help'.\n", progname, cmd ? " " : "", cmd ? cmd : "");
	return EXIT_SYS;
}

/** Read a whole local file (bounded) under ctx. */
mud_rcode_t read_file(TALLOC_CTX *ctx, char const *path, uint8_t **out, size_t *len, size_t max,
			     mud_error_t *err)
{
	FILE *fp;
	uint8_t *buf;
	size_t n = 0;
	size_t cap = 4096;

	*out = NULL;
	fp = fopen(path, "rb");
	if (!fp) {
		char ebuf[128];

		if (strerror_r(errno, ebuf, sizeof(ebuf)) != 0)
			snprintf(ebuf, sizeof(ebuf), "error %d", errno);
		return mud_error_set(err, MUD_ERR_IO, path, "cannot open: %s", ebuf);
	}
	buf = talloc_array(ctx, uint8_t, cap + 1);
	if (!buf) {
		fclose(fp);
		return mud_error_set(err, MUD_ERR_NOMEM, path, "out of memory");
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nbuf;

			if (cap > max) break;
			cap *= 2;
			nbuf = talloc_realloc(ctx, buf, uint8_t, cap + 1);
			if (!nbuf) {
				talloc_free(buf);
				buf = NULL;
				break;
			}
			buf = nbuf;
		}
		got = fread(&buf[n], 1, cap - n, fp);
		n += got;
		if (got == 0) break;
	}
	if (!buf) {
		fclose(fp);
		return mud_error_set(err, MUD_ERR_NOMEM, path, "out of memory");
	}
	if (ferror(fp)) {
		fclose(fp);
		talloc_free(buf);
		return mud_error_set(err, MUD_ERR_IO, path, "read error");
	}
	fclose(fp);
	if (n > max) {
		talloc_free(buf);
		return mud_error_set(err, MUD_ERR_TOOBIG, path, "file larger than %zu bytes", max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return MUD_OK;
}

/** Decode hex (spaces, colons and an optional 0x prefix allowed). -1 on error. */
int hex_decode(TALLOC_CTX *ctx, char const *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *buf = talloc_array(ctx, uint8_t, n / 2 + 1);
	size_t o = 0;
	int hi = -1;
	size_t i;

	if (!buf) return -1;
	if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex += 2;
	for (i = 0; hex[i]; i++) {
		char c = hex[i];
		int v;

		if (c == ' ' || c == ':' || c == '\n' || c == '\t') {
			if (hi >= 0) return -1;
			continue;
		}
		if (c >= '0' && c <= '9') v = c - '0';
		else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
		else return -1;
		if (hi < 0) {
			hi = v;
		} else {
			buf[o++] = (uint8_t)((hi << 4) | v);
			hi = -1;
		}
	}
	if (hi >= 0) return -1;
	*out = buf;
	*len = o;
	return 0;
}

/** Decode the escapes radclient and FreeRADIUS logs use: \NNN octal, \xHH, \\, \n, \r, \t. */
static int escape_decode(TALLOC_CTX *ctx, char const *in, uint8_t **out, size_t *len)
{
	size_t n = strlen(in);
	uint8_t *buf = talloc_array(ctx, uint8_t, n + 1);
	size_t o = 0;
	size_t i = 0;

	if (!buf) return -1;
	while (i < n) {
		unsigned char c = (unsigned char)in[i];

		if (c != '\\') {
			buf[o++] = c;
			i++;
			continue;
		}
		if (i + 1 >= n) return -1;
		c = (unsigned char)in[i + 1];
		if (c >= '0' && c <= '7') {
			unsigned int v = 0;
			size_t k;

			for (k = 0; k < 3 && i + 1 + k < n && in[i + 1 + k] >= '0' &&
			     in[i + 1 + k] <= '7'; k++) {
				v = v * 8 + (unsigned int)(in[i + 1 + k] - '0');
			}
			if (v > 255) return -1;
			buf[o++] = (uint8_t)v;
			i += 1 + k;
		} else if (c == 'x') {
			uint8_t *b;
			size_t bl;
			char hx[3];

			if (i + 4 > n) return -1;
			hx[0] = in[i + 2];
			hx[1] = in[i + 3];
			hx[2] = '\0';
			if (hex_decode(ctx, hx, &b, &bl) != 0 || bl != 1) return -1;
			buf[o++] = b[0];
			talloc_free(b);
			i += 4;
		} else {
			switch (c) {
			case 'n': buf[o++] = '\n'; break;
			case 'r': buf[o++] = '\r'; break;
			case 't': buf[o++] = '\t'; break;
			case '\\': buf[o++] = '\\'; break;
			case '"': buf[o++] = '"'; break;
			default: return -1;
			}
			i += 2;
		}
	}
	*out = buf;
	*len = o;
	return 0;
}

/** Parse YYYY-MM-DD[THH:MM:SS] (UTC) into a time_t. -1 on error. */
int parse_date(char const *s, time_t *out)
{
	struct tm tm;
	char const *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end) return -1;
	}
	*out = timegm(&tm);
	return (*out == (time_t)-1) ? -1 : 0;
}

/*
 *	mudctl url
 */
static int cmd_url(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "lldp", required_argument, NULL, 'l' },
		{ "lldp-avpair", required_argument, NULL, 'L' },
		{ "dhcp", required_argument, NULL, 'd' },
		{ "dhcp6", required_argument, NULL, '6' },
		{ "dhcp-avpair", required_argument, NULL, 'D' },
		{ "x509-ext", required_argument, NULL, 'x' },
		{ "cert", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int which = 0;
	char const *arg = NULL;
	bool verbose = false;
	uint8_t *bytes = NULL;
	size_t len = 0;
	mud_url_t *url = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	mud_error_t err;
	mud_rcode_t rc;
	int c;

	mud_error_clear(&err);
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'l': case 'L': case 'd': case '6': case 'D': case 'x': case 'c': case 'u':
			if (which)
				return usage_error("url", "give exactly one input option%s", NULL);
			which = c;
			arg = optarg;
			break;
		default:
			return usage_error("url", "invalid option%s", NULL);
		}
	}
	if (!which || optind != argc)
		return usage_error("url", "give exactly one input option%s", NULL);

	switch (which) {
	case 'l': case 'd': case '6': case 'x':
		if (hex_decode(ctx, arg, &bytes, &len) != 0) {
			return usage_error("url", "\"%s\" is not hex", arg);
		}
		break;
	case 'L': case 'D':
		if (escape_decode(ctx, arg, &bytes, &len) != 0) {
			return usage_error("url", "bad escape in \"%s\" (use \\NNN octal or \\xHH)",
					   arg);
		}
		break;
	case 'c':
		rc = read_file(ctx, arg, &bytes, &len, MUD_MAX_FILE_SIZE, &err);
		if (rc != MUD_OK) return report(arg, &err);
		break;
	default:
		break;
	}

	switch (which) {
	case 'l':
		src = MUD_SRC_LLDP;
		rc = mud_url_from_lldp(ctx, &url, bytes, len, &err);
		break;
	case 'L': {
		static char const pfx[] = "lldp-tlv=";

		src = MUD_SRC_LLDP;
		if (len >= sizeof(pfx) - 1 && memcmp(bytes, pfx, sizeof(pfx) - 1) == 0) {
			rc = mud_url_from_avpair(ctx, &url, &src, bytes, len, &err);
		} else {
			rc = mud_url_from_cisco_lldp(ctx, &url, bytes, len, &err);
		}
		break;
	}
	case 'D': {
		static char const pfx[] = "dhcp-option=";

		if (len >= sizeof(pfx) - 1 && memcmp(bytes, pfx, sizeof(pfx) - 1) == 0) {
			rc = mud_url_from_avpair(ctx, &url, &src, bytes, len, &err);
		} else {
			rc = mud_url_from_cisco_dhcp(ctx, &url, &src, bytes, len, &err);
		}
		break;
	}
	case 'd':
		src = MUD_SRC_DHCPV4;
		rc = mud_url_from_dhcpv4(ctx, &url, bytes, len, &err);
		break;
	case '6':
		src = MUD_SRC_DHCPV6;
		rc = mud_url_from_dhcpv6(ctx, &url, bytes, len, &err);
		break;
	case 'x':
		src = MUD_SRC_X509;
		rc = mud_url_from_x509_ext(ctx, &url, bytes, len, &err);
		break;
	case 'c':
		src = MUD_SRC_X509;
		rc = mud_url_from_cert(ctx, &url, bytes, len, &err);
		break;
	case 'u':
		src = MUD_SRC_ATTRIBUTE;
		rc = mud_url_parse(ctx, &url, arg, strlen(arg), &err);
		break;
	default:
		rc = mud_error_set(&err, MUD_ERR_ARG, "", "no input");
		break;
	}
	if (rc != MUD_OK) return report("url", &err);

	if (verbose) {
		printf("url:       %s\nsource:    %s\nhost:      %s\n"
		       "port:      %u\npath:      %s\n",
		       url->url, mud_url_src_name(src), url->host, url->port, url->path);
		printf("signature: %s\n", mud_url_signature(ctx, url->url, NULL));
		if (which == 'c') {
			uint8_t *signer;
			size_t signer_len;
			mud_error_t serr;

			mud_error_clear(&serr);
			if (mud_signer_from_cert(ctx, &signer, &signer_len, bytes, len,
						 &serr) == MUD_OK) {
				printf("mud-signer: %s\n",
				       mud_signer_to_text(ctx, signer, signer_len));
			}
		}
	} else {
		printf("%s\n", url->url);
	}
	return 0;
}

/** Load and parse a MUD file from disk. */
int load_mud(TALLOC_CTX *ctx, char const *path, char const *url, unsigned int flags,
	     mud_file_t **file)
{
	uint8_t *bytes;
	size_t len;
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = read_file(ctx, path, &bytes, &len, MUDCTL_MAX_INPUT, &err);
	if (rc != MUD_OK) return report(path, &err);
	rc = mud_file_parse(ctx, file, (char const *)bytes, len, url, flags, &err);
	if (rc != MUD_OK) return report(path, &err);
	return 0;
}

static void print_list(char const *label, char **v, size_t n)
{
	size_t i;

	printf("%-16s", label);
	if (n == 0) printf("none");
	for (i = 0; i < n; i++) printf("%s%s", i ? ", " : "", v[i]);
	printf("\n");
}

/** "Label:   value" with the file's text made safe for a terminal: control bytes, DEL,
 *  backslashes and bytes >= 0x80 as \xHH (the file's strings are untrusted). */
static void print_field(char const *label, char const *value)
{
	char const *c;

	printf("%-16s", label);
	for (c = value; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u >= 0x7f || u == '\\') {
			printf("\\x%02x", u);
		} else {
			putchar(u);
		}
	}
	putchar('\n');
}

static void print_warnings(mud_warning_t const *w, size_t n, size_t dropped)
{
	size_t i;

	printf("%-16s%zu\n", "Warnings:", n + dropped);
	for (i = 0; i < n; i++) printf("  %s: %s\n", w[i].where[0] ? w[i].where : "-", w[i].text);
	if (dropped) printf("  (%zu more not shown)\n", dropped);
}

/** Count ACLs/ACEs of one policy direction. */
static void count_policy(mud_file_t const *f, char **names, size_t n, size_t *acls, size_t *aces)
{
	size_t i;

	*acls = 0;
	*aces = 0;
	for (i = 0; i < n; i++) {
		mud_acl_t const *acl = mud_file_acl(f, names[i]);

		if (!acl) continue;
		(*acls)++;
		*aces += acl->num_aces;
	}
}

/** One-screen summary of a parsed file. */
static void print_summary(TALLOC_CTX *ctx, mud_file_t const *f)
{
	static char const *abs_names[] = {
		[MUD_ABS_NONE] = NULL,
		[MUD_ABS_MANUFACTURER] = "manufacturer",
		[MUD_ABS_SAME_MANUFACTURER] = "same-manufacturer",
		[MUD_ABS_MODEL] = "model",
		[MUD_ABS_LOCAL_NETWORKS] = "local-networks",
		[MUD_ABS_CONTROLLER] = "controller",
		[MUD_ABS_MY_CONTROLLER] = "my-controller",
	};
	size_t abs_count[MUD_ABS_MY_CONTROLLER + 1] = { 0 };
	size_t dns = 0;
	size_t nets = 0;
	size_t fa, fe, ta, te;
	size_t i, j, k;
	bool any = false;
	char *lenient = talloc_strdup(ctx, "");
	unsigned int bit;

	print_field("MUD URL:", f->mud_url);
	print_field("Manufacturer:", f->mfg_name ? f->mfg_name : "-");
	print_field("Model:", f->model_name ? f->model_name : "-");
	print_field("Systeminfo:", f->systeminfo ? f->systeminfo : "-");
	if (f->firmware_rev) print_field("Firmware:", f->firmware_rev);
	if (f->software_rev) print_field("Software:", f->software_rev);
	if (f->documentation) print_field("Documentation:", f->documentation);
	print_field("Last update:", f->last_update);
	printf("%-16s%u h%s\n", "Cache validity:", f->cache_validity,
	       f->cache_validity_set ? "" : " (default)");
	printf("%-16s%s\n", "Supported:",
	       f->is_supported ? "yes" : "no (device no longer supported)");
	printf("%-16s%s\n", "Signature:", mud_url_signature(ctx, f->mud_url, f->mud_signature));
	print_list("Extensions:", f->extensions, f->num_extensions);

	count_policy(f, f->from_device, f->num_from_device, &fa, &fe);
	count_policy(f, f->to_device, f->num_to_device, &ta, &te);
	printf("%-16s%zu defined; from-device: %zu ACL%s, %zu ACE%s; "
	       "to-device: %zu ACL%s, %zu ACE%s\n",
	       "ACLs:", f->num_acls, fa, fa == 1 ? "" : "s", fe, fe == 1 ? "" : "s",
	       ta, ta == 1 ? "" : "s", te, te == 1 ? "" : "s");

	for (i = 0; i < f->num_acls; i++) {
		for (j = 0; j < f->acls[i].num_aces; j++) {
			mud_ace_t const *a = &f->acls[i].aces[j];

			for (k = 0; k < a->num_abs; k++) {
				if (a->abs[k].kind > MUD_ABS_NONE &&
				    a->abs[k].kind <= MUD_ABS_MY_CONTROLLER)
					abs_count[a->abs[k].kind]++;
			}
			if (a->src_dnsname || a->dst_dnsname) dns++;
			if (a->src_network || a->dst_network) nets++;
		}
	}
	printf("%-16s", "Abstractions:");
	for (i = 1; i < sizeof(abs_count) / sizeof(abs_count[0]); i++) {
		if (!abs_count[i]) continue;
		printf("%s%s (%zu)", any ? ", " : "", abs_names[i], abs_count[i]);
		any = true;
	}
	if (dns) {
		printf("%sdomain names (%zu)", any ? ", " : "", dns);
		any = true;
	}
	if (nets) {
		printf("%sexplicit networks (%zu)", any ? ", " : "", nets);
		any = true;
	}
	printf("%s\n", any ? "" : "none");

	for (bit = 1; bit && bit <= f->leniencies; bit <<= 1) {
		if (!(f->leniencies & bit)) continue;
		lenient = talloc_asprintf_append(lenient, "%s%s", lenient[0] ? ", " : "",
						 mud_lenient_name(bit));
	}
	printf("%-16s%s\n", "Leniencies:", (lenient && lenient[0]) ? lenient : "none");
	printf("%-16s%s\n", "SHA-256:", f->sha256);
	print_warnings(f->warnings, f->num_warnings, f->num_warnings_dropped);
}

/*
 *	mudctl check
 */
static int cmd_check(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "lenient", no_argument, NULL, 'l' },
		{ "url", required_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int flags = MUD_PARSE_STRICT;
	char const *url = NULL;
	bool quiet = false;
	mud_file_t *file;
	int c;
	int ret;

	while ((c = getopt_long(argc, argv, "lu:q", opts, NULL)) != -1) {
		switch (c) {
		case 'l': flags |= MUD_PARSE_LENIENT; break;
		case 'u': url = optarg; break;
		case 'q': quiet = true; break;
		default: return usage_error("check", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("check", "expected one MUD file%s", NULL);

	ret = load_mud(ctx, argv[optind], url, flags, &file);
	if (ret != 0) return ret;
	if (quiet) {
		printf("%s: valid\n", argv[optind]);
	} else {
		print_summary(ctx, file);
	}
	return 0;
}

/*
 *	Incident reports (--iodef DIR) for fetch and verify.
 */
typedef struct {
	char const	*dir;		//!< spool directory; NULL: no report
	char const	*url;		//!< MUD URL concerned (verify: --url)
	mud_iodef_config_t cfg;
	char		host[256];
	char		email[300];
} iodef_opts_t;

#define IODEF_LONG_OPTS \
	{ "iodef", required_argument, NULL, 1001 }, \
	{ "reporter", required_argument, NULL, 1002 }, \
	{ "contact-name", required_argument, NULL, 1003 }, \
	{ "contact-email", required_argument, NULL, 1004 }, \
	{ "tlp", required_argument, NULL, 1005 }, \
	{ "sign-key", required_argument, NULL, 1006 }, \
	{ "sign-cert", required_argument, NULL, 1007 }

static void iodef_defaults(iodef_opts_t *io)
{
	memset(io, 0, sizeof(*io));
	if (gethostname(io->host, sizeof(io->host) - 1) != 0 || !io->host[0]) {
		snprintf(io->host, sizeof(io->host), "localhost");
	}
	snprintf(io->email, sizeof(io->email), "root@%s", io->host);
	io->cfg.reporter = io->host;
	io->cfg.contact_name = "MUD operator";
	io->cfg.contact_email = io->email;
}

/** Handle one of the IODEF_LONG_OPTS; false if c is not one of them. */
static bool iodef_option(iodef_opts_t *io, int c, char const *arg)
{
	switch (c) {
	case 1001: io->dir = arg; return true;
	case 1002: io->cfg.reporter = arg; return true;
	case 1003: io->cfg.contact_name = arg; return true;
	case 1004: io->cfg.contact_email = arg; return true;
	case 1005: io->cfg.tlp = arg; return true;
	case 1006: io->cfg.sign_key = arg; return true;
	case 1007: io->cfg.sign_cert = arg; return true;
	default: return false;
	}
}

/** Write an incident for a failed fetch/verify when --iodef was given and the
 *  failure is a security event. Prints the syslog-style line. */
static void iodef_report(TALLOC_CTX *ctx, iodef_opts_t const *io, mud_error_t const *err,
			 mud_policy_t const *evidence, char const *fetched_url)
{
	mud_event_t ev;
	mud_incident_t inc;
	mud_incident_action_t act;
	mud_spool_t *spool;
	mud_spool_status_t st;
	mud_error_t ierr;

	if (!io->dir || !mud_event_from_rcode(err->code, &ev)) return;

	memset(&inc, 0, sizeof(inc));
	inc.event = ev;
	inc.mud_url = io->url;
	inc.server_url = fetched_url ? fetched_url : io->url;
	if (evidence) {
		inc.sig_url = evidence->sig_url;
		inc.server_ip = evidence->server_ip;
		inc.server_cert_pem = evidence->server_cert_pem;
		inc.file_sha256 = evidence->file_sha256;
		inc.sig_sha256 = evidence->sig_sha256;
	}
	inc.code = err->code;
	inc.where = err->where;
	inc.text = err->text;
	act.text = "policy not applied (mudctl check only)";
	act.contained = false;
	act.at = 0;
	inc.actions = &act;
	inc.num_actions = 1;

	mud_error_clear(&ierr);
	if (mkdir(io->dir, 0700) != 0 && errno != EEXIST) {
		mud_error_set(&ierr, MUD_ERR_IO, io->dir, "cannot create the spool directory");
		report(io->dir, &ierr);
		return;
	}
	if (mud_spool_open(ctx, &spool, io->dir, NULL, &ierr) != MUD_OK ||
	    mud_spool_write(spool, &inc, &io->cfg, time(NULL), &st, &ierr) != MUD_OK) {
		report(io->dir, &ierr);
		return;
	}
	inc.id = st.id;
	fprintf(stderr, "%s: incident report %s/%s.xml%s\n", progname, io->dir, st.id,
		st.aggregated ? " (updated: repeated event)" : "");
	fprintf(stderr, "%s\n", mud_iodef_syslog_line(ctx, &inc));
}

/*
 *	mudctl verify
 */
static int cmd_verify(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "ca-dir", required_argument, NULL, 'C' },
		{ "at", required_argument, NULL, 'a' },
		{ "signer-cert", required_argument, NULL, 's' },
		{ "url", required_argument, NULL, 'u' },
		IODEF_LONG_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	iodef_opts_t io;
	char const *ca = NULL;
	char const *ca_dir = NULL;
	char const *signer_cert = NULL;
	time_t at = 0;
	uint8_t *content, *sig;
	size_t content_len, sig_len;
	uint8_t *signer_der = NULL;
	size_t signer_len = 0;
	char *subject = NULL;
	mud_trust_t *trust;
	mud_error_t err;
	mud_rcode_t rc;
	int ret;
	int c;

	mud_error_clear(&err);
	iodef_defaults(&io);
	while ((c = getopt_long(argc, argv, "c:a:", opts, NULL)) != -1) {
		if (iodef_option(&io, c, optarg)) continue;
		switch (c) {
		case 'c': ca = optarg; break;
		case 'C': ca_dir = optarg; break;
		case 's': signer_cert = optarg; break;
		case 'u': io.url = optarg; break;
		case 'a':
			if (parse_date(optarg, &at) != 0) {
				return usage_error("verify", "--at \"%s\": expected YYYY-MM-DD or "
						   "YYYY-MM-DDTHH:MM:SS", optarg);
			}
			break;
		default: return usage_error("verify", "invalid option%s", NULL);
		}
	}
	if (optind + 2 != argc) return usage_error("verify", "expected FILE and SIGNATURE%s", NULL);
	if (!ca && !ca_dir)
		return usage_error("verify", "--ca FILE (the trust anchors) is required%s", NULL);
	if (io.dir && !io.url) {
		return usage_error("verify", "--iodef needs --url URL "
				   "(the MUD URL the file was fetched from)%s",
				   NULL);
	}

	rc = mud_trust_load(ctx, &trust, ca, ca_dir, &err);
	if (rc != MUD_OK) return report(ca ? ca : ca_dir, &err);
	rc = read_file(ctx, argv[optind], &content, &content_len, MUDCTL_MAX_INPUT, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	rc = read_file(ctx, argv[optind + 1], &sig, &sig_len, MUD_MAX_SIG_SIZE, &err);
	if (rc != MUD_OK) return report(argv[optind + 1], &err);
	if (signer_cert) {
		uint8_t *cert;
		size_t cert_len;

		rc = read_file(ctx, signer_cert, &cert, &cert_len, MUD_MAX_FILE_SIZE, &err);
		if (rc != MUD_OK) return report(signer_cert, &err);
		rc = mud_signer_from_cert(ctx, &signer_der, &signer_len, cert, cert_len, &err);
		if (rc != MUD_OK) return report(signer_cert, &err);
	}

	rc = mud_sig_verify(ctx, trust, content, content_len, sig, sig_len, at, signer_der,
			    signer_len, &subject, &err);
	if (rc != MUD_OK) {
		mud_policy_t ev;

		memset(&ev, 0, sizeof(ev));
		mud_sha256_hex(ev.file_sha256, content, content_len);
		if (sig_len) mud_sha256_hex(ev.sig_sha256, sig, sig_len);
		ret = report(argv[optind + 1], &err);
		iodef_report(ctx, &io, &err, &ev, NULL);
		return ret;
	}

	printf("%s: signature OK\nsigner: %s\n", argv[optind], subject ? subject : "-");
	if (at) {
		char buf[32];
		struct tm tm;

		gmtime_r(&at, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("evaluated at: %s\n", buf);
	}
	return 0;
}

/** Print rendered output. */
static void print_rendered(mud_rendered_t const *r)
{
	size_t i;

	if (r->format == MUD_FMT_CISCO_DACL) {
		if (r->acl_name_v4) printf("# dACL %s\n", r->acl_name_v4);
		for (i = 0; i < r->num_v4; i++) printf("%s\n", r->v4[i]);
		if (r->acl_name_v6) printf("# dACL %s\n", r->acl_name_v6);
		for (i = 0; i < r->num_v6; i++) printf("%s\n", r->v6[i]);
		return;
	}
	for (i = 0; i < r->num_v4; i++) printf("%s\n", r->v4[i]);
	for (i = 0; i < r->num_v6; i++) printf("%s\n", r->v6[i]);
}

/** Load a context file, or an empty context. */
int load_context(TALLOC_CTX *ctx, char const *path, mud_context_t **site)
{
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	if (!path) {
		*site = mud_context_alloc(ctx);
		if (!*site) {
			fprintf(stderr, "%s: out of memory\n", progname);
			return EXIT_SYS;
		}
		return 0;
	}
	rc = mud_context_load(ctx, site, path, &err);
	if (rc != MUD_OK) return report(path, &err);
	return 0;
}

/*
 *	mudctl compile
 */
static int cmd_compile(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "context", required_argument, NULL, 'c' },
		{ "lenient", no_argument, NULL, 'l' },
		{ "url", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "warnings", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 }
	};
	char const *context = NULL;
	char const *url = NULL;
	unsigned int flags = MUD_PARSE_STRICT;
	int fmt = MUD_FMT_CISCO_DACL;
	bool warnings = false;
	mud_context_t *site;
	mud_file_t *file;
	mud_ruleset_t *rs;
	mud_rendered_t *out;
	mud_error_t err;
	mud_rcode_t rc;
	size_t i;
	int c;
	int ret;

	mud_error_clear(&err);
	while ((c = getopt_long(argc, argv, "c:lu:f:w", opts, NULL)) != -1) {
		switch (c) {
		case 'c': context = optarg; break;
		case 'l': flags |= MUD_PARSE_LENIENT; break;
		case 'u': url = optarg; break;
		case 'w': warnings = true; break;
		case 'f':
			fmt = mud_format_by_name(optarg);
			if (fmt < 0) return usage_error("compile", "unknown format \"%s\"", optarg);
			break;
		default: return usage_error("compile", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("compile", "expected one MUD file%s", NULL);

	ret = load_context(ctx, context, &site);
	if (ret != 0) return ret;
	ret = load_mud(ctx, argv[optind], url, flags, &file);
	if (ret != 0) return ret;

	rc = mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	rc = mud_ruleset_render(ctx, &out, rs, (mud_format_t)fmt, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);

	print_rendered(out);
	if (warnings) {
		for (i = 0; i < file->num_warnings; i++) {
			fprintf(stderr, "warning: %s: %s\n", file->warnings[i].where,
				file->warnings[i].text);
		}
		for (i = 0; i < rs->num_warnings; i++) {
			fprintf(stderr, "warning: %s: %s\n", rs->warnings[i].where,
				rs->warnings[i].text);
		}
	}
	return 0;
}

/*
 *	mudctl fetch
 */
static int cmd_fetch(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "ca-dir", required_argument, NULL, 'C' },
		{ "trust", required_argument, NULL, 't' },
		{ "no-signature", no_argument, NULL, 'n' },
		{ "optional-signature", no_argument, NULL, 'o' },
		{ "at", required_argument, NULL, 'a' },
		{ "context", required_argument, NULL, 'x' },
		{ "lenient", no_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "allow-private", no_argument, NULL, 'P' },
		{ "url-allow", required_argument, NULL, 'A' },
		{ "url-deny", required_argument, NULL, 'D' },
		{ "max-redirects", required_argument, NULL, 'R' },
		IODEF_LONG_OPTS,
		{ NULL, 0, NULL, 0 }
	};
	iodef_opts_t io;
	char const *trust_file = NULL;
	char const *context = NULL;
	char const *url_allow = NULL;
	char const *url_deny = NULL;
	bool allow_private = false;
	mud_urlpolicy_t *urlpolicy = NULL;
	bool no_sig = false;
	int fmt = -1;
	mud_policy_opts_t popts;
	mud_policy_t *pol;
	mud_policy_t *evidence = NULL;
	mud_context_t *site;
	mud_trust_t *trust = NULL;
	mud_error_t err;
	mud_rcode_t rc;
	int c;
	int ret;

	memset(&popts, 0, sizeof(popts));
	popts.fetch.max_redirs = 3;	/* the module's max_redirects default */
	popts.require_signature = true;
	mud_error_clear(&err);
	iodef_defaults(&io);
	while ((c = getopt_long(argc, argv, "c:t:nx:lf:", opts, NULL)) != -1) {
		if (iodef_option(&io, c, optarg)) continue;
		switch (c) {
		case 'c': popts.fetch.ca_file = optarg; break;
		case 'C': popts.fetch.ca_path = optarg; break;
		case 't': trust_file = optarg; break;
		case 'n': no_sig = true; break;
		case 'o': popts.require_signature = false; break;
		case 'x': context = optarg; break;
		case 'l': popts.parse_flags |= MUD_PARSE_LENIENT; break;
		case 'a':
			if (parse_date(optarg, &popts.at) != 0) {
				return usage_error("fetch", "--at \"%s\": expected YYYY-MM-DD",
						   optarg);
			}
			break;
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v <= 0 || v > 600)
				return usage_error("fetch", "--timeout \"%s\": 1..600 s", optarg);
			popts.fetch.timeout_ms = v * 1000;
			break;
		}
		case 'm': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v == 0 || v > MUD_MAX_FILE_SIZE) {
				return usage_error("fetch", "--max-size \"%s\": 1..1048576 bytes",
						   optarg);
			}
			popts.fetch.max_size = v;
			break;
		}
		case 'f':
			fmt = mud_format_by_name(optarg);
			if (fmt < 0) return usage_error("fetch", "unknown format \"%s\"", optarg);
			break;
		case 'P': allow_private = true; break;
		case 'A': url_allow = optarg; break;
		case 'D': url_deny = optarg; break;
		case 'R': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 10) {
				return usage_error("fetch", "--max-redirects \"%s\": 0..10",
						   optarg);
			}
			popts.fetch.max_redirs = v;
			break;
		}
		default: return usage_error("fetch", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("fetch", "expected one URL%s", NULL);
	if (!popts.fetch.ca_file && !popts.fetch.ca_path) {
		return usage_error("fetch", "--ca FILE (CA of the MUD server) is required%s", NULL);
	}
	if (!trust_file && !no_sig) {
		return usage_error("fetch", "--trust FILE (signer anchors) is required, "
				   "or --no-signature to skip the signature check%s", NULL);
	}
	/* the module's URL policy (url_allow, url_deny, allow_private_urls) */
	rc = mud_urlpolicy_create(ctx, &urlpolicy, url_allow, url_deny, allow_private, &err);
	if (rc != MUD_OK) {
		char msg[sizeof(err.where) + sizeof(err.text) + 8];

		/* where: "url_allow entry N" / "url_deny entry N" (the option's list) */
		snprintf(msg, sizeof(msg), "--%s: %s", err.where, err.text);
		if (strncmp(msg, "--url_", 6) == 0) msg[5] = '-';
		return usage_error("fetch", "%s", msg);
	}
	popts.fetch.policy = urlpolicy;
	if (trust_file) {
		rc = mud_trust_load(ctx, &trust, trust_file, NULL, &err);
		if (rc != MUD_OK) return report(trust_file, &err);
	}
	ret = load_context(ctx, context, &site);
	if (ret != 0) return ret;

	popts.trust = trust;
	popts.site = site;
	popts.format = fmt < 0 ? MUD_FMT_CISCO_DACL : (mud_format_t)fmt;

	io.url = argv[optind];
	rc = mud_policy_fetch(ctx, &pol, argv[optind], &popts, &evidence, &err);
	if (rc != MUD_OK) {
		if (evidence && evidence->refused_url) {
			/* the URL policy: nothing was connected to for the refused URL */
			fprintf(stderr, "%s: URL policy refused %s, file sha256 %s\n", progname,
				evidence->refused_url,
				evidence->file_sha256[0] ? evidence->file_sha256 : "-");
		} else if (evidence && evidence->server_ip) {
			fprintf(stderr, "%s: MUD server %s, file sha256 %s\n", progname,
				evidence->server_ip,
				evidence->file_sha256[0] ? evidence->file_sha256 : "-");
		}
		ret = report(argv[optind], &err);
		iodef_report(ctx, &io, &err, evidence, argv[optind]);
		return ret;
	}

	print_summary(ctx, pol->file);
	printf("%-16s%s\n", "Server:", pol->server_ip ? pol->server_ip : "-");
	printf("%-16s%s\n", "Signed by:", pol->signer ? pol->signer : "(not verified)");
	printf("%-16s%d\n", "VLAN:", pol->rules->vlan);
	if (fmt >= 0) print_rendered(pol->rendered);
	return 0;
}

#define IODEF_HELP \
	"Incident reports (IODEF v2, RFC 7970; docs/iodef.md) for security failures " \
	"(bad signature,\n" \
	"bad server certificate, URL mismatch, invalid file):\n" \
	"  --iodef DIR          write the report into the spool directory DIR " \
	"(repeats aggregated)\n" \
	"  --reporter NAME      IncidentID name (default: this host's name)\n" \
	"  --contact-name TEXT  creator contact (default \"MUD operator\")\n" \
	"  --contact-email ADDR creator e-mail (default root@<host>)\n" \
	"  --tlp LABEL          clear|green|amber|amber+strict|red (default amber)\n" \
	"  --sign-key FILE --sign-cert FILE  sign the report (detached CMS, <id>.xml.p7s)\n"

static mudctl_cmd_t const cmds[] = {
	{ "url", cmd_url,
	  "url (--lldp HEX | --lldp-avpair STRING | --dhcp HEX | --dhcp6 HEX | "
	  "--dhcp-avpair STRING |\n"
	  "           --x509-ext HEX | --cert FILE | --url URL) [-v]",
	  "Extract and validate the MUD URL a device emits.\n"
	  "  --lldp HEX           raw LLDP TLVs (802.1AB encoding), "
	  "MUD TLV = type 127, OUI 00-00-5E, subtype 1\n"
	  "  --lldp-avpair STR    Cisco-AVPair lldp-tlv= value (\"lldp-tlv=\" optional), "
	  "escapes \\NNN / \\xHH\n"
	  "  --dhcp HEX           raw DHCPv4 options, MUD URL = option 161\n"
	  "  --dhcp6 HEX          raw DHCPv6 options, MUD URL = option 112\n"
	  "  --dhcp-avpair STR    Cisco-AVPair dhcp-option= value (option 161 or 112)\n"
	  "  --x509-ext HEX       raw id-pe-mud-url extension value "
	  "(DER IA5String, as FreeRADIUS gives it)\n"
	  "  --cert FILE          IDevID certificate (PEM or DER) with id-pe-mud-url\n"
	  "  --url URL            a URL given as is (validation only)\n"
	  "  -v, --verbose        also print source, host, port, path, signature URL "
	  "(and mud-signer)\n" },
	{ "check", cmd_check,
	  "check [--lenient] [--url URL] [--quiet] FILE",
	  "Validate a MUD file (RFC 8520, RFC 8519, ietf-acldns) and print a summary.\n"
	  "  --lenient            accept legacy encodings real generators emit, "
	  "and list each one applied\n"
	  "  --url URL            the URL the file was fetched from: mud-url must equal it\n"
	  "  --quiet              print only \"FILE: valid\"\n"
	  "Errors name the JSON path of the problem.\n" },
	{ "verify", cmd_verify,
	  "verify FILE SIGNATURE --ca FILE [--ca-dir DIR] [--at DATE] [--signer-cert FILE]\n"
	  "           [--url URL --iodef DIR ...]",
	  "Verify a detached CMS signature (.p7s, DER or PEM) over a MUD file.\n"
	  "  --ca FILE            trust anchors for MUD signers (PEM); "
	  "the system store is never used\n"
	  "  --ca-dir DIR         hashed directory of trust anchors\n"
	  "  --at DATE            evaluate certificate validity at YYYY-MM-DD[THH:MM:SS] UTC "
	  "instead of now\n"
	  "  --signer-cert FILE   device certificate whose id-pe-mudsigner must match the signer\n"
	  "Distinct errors: MUD_ERR_SIG_DIGEST (content changed), MUD_ERR_SIG_UNTRUSTED, "
	  "MUD_ERR_SIG_EXPIRED,\n"
	  "MUD_ERR_SIG_SIGNER, MUD_ERR_SIG_MISSING (empty signature), MUD_ERR_SIG (malformed).\n"
	  "  --url URL            the MUD URL the file came from (required with --iodef)\n"
	  IODEF_HELP },
	{ "compile", cmd_compile,
	  "compile FILE [--context FILE] [--lenient] [--url URL] [--format FMT] [--warnings]",
	  "Compile a MUD file with the site context and print what the NAS receives.\n"
	  "  --context FILE       site context (manufacturers, local networks, controllers, "
	  "DNS; docs/context.md)\n"
	  "  --format FMT         cisco-dacl (default), nas-filter-rule, json\n"
	  "  --warnings           print warnings (unresolved abstractions, skipped ACEs) "
	  "on stderr\n" },
	{ "fetch", cmd_fetch,
	  "fetch URL --ca FILE (--trust FILE | --no-signature) [--optional-signature] [--at DATE]\n"
	  "           [--context FILE] [--lenient] [--format FMT] [--timeout S] "
	  "[--max-size BYTES]\n"
	  "           [--allow-private] [--url-allow LIST] [--url-deny LIST] "
	  "[--max-redirects N]\n"
	  "           [--iodef DIR ...]",
	  "Fetch a MUD file over HTTPS (server certificate verified against --ca), "
	  "fetch and verify its\n"
	  "signature against --trust, validate it (mud-url must equal URL), "
	  "compile and summarise.\n"
	  "  --optional-signature a missing signature (HTTP error on the .p7s) is accepted\n"
	  "  --format FMT         also print the rendered rules\n"
	  "The module's URL policy (docs/urlpolicy.md) applies to the URL, the signature URL, "
	  "every redirect\nand every address connected to:\n"
	  "  --allow-private      allow_private_urls = yes: IP literals and special-purpose "
	  "addresses\n"
	  "                       (loopback, RFC 1918, ...) are not refused (default: refused)\n"
	  "  --url-allow LIST     url_allow: only these authorities (host[:port], *.suffix; "
	  "no port: 443)\n"
	  "  --url-deny LIST      url_deny: never these (no port: every port)\n"
	  "  --max-redirects N    redirects followed, 0..10 (default 3)\n"
	  IODEF_HELP },
	{ "avpair", mudctl_cmd_avpair, mudctl_avpair_synopsis, mudctl_avpair_help },
	{ "explain", mudctl_cmd_explain, mudctl_explain_synopsis, mudctl_explain_help },
	{ "iodef", mudctl_cmd_iodef, mudctl_iodef_synopsis, mudctl_iodef_help },
	{ "show", mudctl_cmd_show, mudctl_show_synopsis, mudctl_show_help },
	{ "enforce", mudctl_cmd_enforce, mudctl_enforce_synopsis, mudctl_enforce_help },
	{ "cache", mudctl_cmd_cache, mudctl_cache_synopsis, mudctl_cache_help },
};

static void usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "Usage: %s COMMAND [OPTIONS]\n\n"
		"MUD (RFC 8520) operator tool, rlm_mud %s.\n\nCommands:\n",
		progname, mud_version());
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %s %s\n", progname, cmds[i].synopsis);
	fprintf(fp, "\n'%s COMMAND --help' describes a command.\n"
		"Exit status: 0 success, 1 the input is bad (stderr says what and where), "
		"2 usage or system error.\n",
		progname);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *ctx;
	size_t i;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return EXIT_SYS;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mudctl (rlm_mud) %s\n", mud_version());
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int j;

		if (strcmp(argv[1], cmds[i].name) != 0) continue;
		for (j = 2; j < argc; j++) {
			if (!strcmp(argv[j], "--")) break;
			if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
				printf("Usage: %s %s\n\n%s", progname, cmds[i].synopsis,
				       cmds[i].help);
				return 0;
			}
		}
		ctx = talloc_new(NULL);
		if (!ctx) return EXIT_SYS;
		if (mud_fetch_global_init(NULL) != MUD_OK) {
			talloc_free(ctx);
			fprintf(stderr, "%s: libcurl initialisation failed\n", progname);
			return EXIT_SYS;
		}
		ret = cmds[i].run(ctx, argc - 1, argv + 1);
		talloc_free(ctx);
		mud_fetch_global_free();
		return ret;
	}
	return usage_error(NULL, "unknown command \"%s\"", argv[1]);
}
