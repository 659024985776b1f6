/*
 * mudctl_iodef.c - "mudctl iodef": render, verify and send IODEF v2 incident
 * reports (libmud mud_iodef.c / mud_spool.c; docs/iodef.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mudctl.h"

char const mudctl_iodef_synopsis[] =
	"iodef (render --event E (--mac M | --ip A) [OPTIONS] | verify DOC SIG --ca FILE |\n"
	"           send SPOOLDIR --url URL [--ca FILE] [--cert FILE --key FILE] [--timeout S] |\n"
	"           decrypt FILE --key K --cert C [--out DOC] [--sig-out SIG] [--ca FILE])";

char const mudctl_iodef_help[] =
	"IODEF v2 (RFC 7970) incident reports for MUD security events.\n"
	"\n"
	"mudctl iodef render --event E (--mac M | --ip A) [options]\n"
	"  Print one report on stdout (or add it to a spool with --spool DIR).\n"
	"  --event E            sig-invalid, sig-untrusted, sig-expired, sig-missing, sig-signer,\n"
	"                       tls-invalid, url-mismatch, url-refused, url-conflict,\n"
	"                       url-changed, acl-denied, file-invalid, acl-conflict\n"
	"  --mac M / --ip A     the device (at least one)\n"
	"  --nas-ip A --nas-port P --nas-id N --user-name U   where the device was seen\n"
	"  --url U              the device's MUD URL;  --other-url U  the conflicting/new one\n"
	"  --server-url U --sig-url U --server-ip A           the MUD server\n"
	"  --text T --code NAME --where W                     evidence (code: MUD_ERR_... name)\n"
	"  --action T           an action taken (repeatable)\n"
	"  --quarantine T       an action that contained the device (repeatable)\n"
	"  --time DATE          detection time (YYYY-MM-DD[THH:MM:SS] UTC), default now\n"
	"  --first-seen DATE --last-seen DATE --count N   an aggregated incident\n"
	"  --action-time DATE   when the previous --action/--quarantine was taken\n"
	"  --ip6 A              the device's IPv6 address (with --ip for its IPv4 one)\n"
	"  --timezone Z         local (default: the TZ environment), UTC, or +hh:mm/-hh:mm\n"
	"  --restrictions R     per element class, e.g. record=red,history=amber\n"
	"  --encrypt-cert F     seal (sign if --sign-key, then encrypt) to the PEM\n"
	"                       certificate(s) in F; with --sealed-out FILE or --spool\n"
	"  --encrypt-cipher C   aes-256-gcm (default) or aes-256-cbc\n"
	"  --reporter N --contact-name N --contact-email E [--contact-phone P]\n"
	"                       defaults: csirt.example.com, Example CSIRT, csirt@example.com\n"
	"  --tlp T              clear, green, amber (default), amber+strict, red, or an IODEF\n"
	"                       restriction (public, partner, need-to-know, private, default)\n"
	"  --lang L             xml:lang, default en\n"
	"  --sign-key F --sign-cert F   also write a detached CMS signature (with --spool, or\n"
	"                       --sig-out FILE)\n"
	"  --spool DIR          write into the spool (aggregating repeats) instead of stdout\n"
	"\n"
	"mudctl iodef verify DOC SIG --ca FILE\n"
	"  Check a report's detached CMS signature (DER .p7s) against trust anchors. DOC, SIG\n"
	"  (and decrypt's FILE) must be regular files: a symbolic link, FIFO or device is\n"
	"  refused without being opened.\n"
	"\n"
	"mudctl iodef send SPOOLDIR --url URL [--ca FILE] [--cert FILE --key FILE] [--timeout S]\n"
	"  POST every spooled report to an https CSIRT endpoint (server certificate always\n"
	"  verified, against --ca or the system store; --cert/--key for mutual TLS). A report is\n"
	"  removed only after a 2xx answer; anything else leaves it for the next run. SPOOLDIR\n"
	"  must be owned by the user running mudctl and not writable by group or others; a\n"
	"  symbolic link, FIFO, device or directory named like a report is skipped with a\n"
	"  warning (never read, never sent), and so is a file of another owner or with other\n"
	"  hard links.\n"
	"\n"
	"mudctl iodef decrypt FILE --key K --cert C [--out DOC] [--sig-out SIG] [--ca FILE]\n"
	"  Decrypt a sealed report (.xml.p7m) with the CSIRT's key and certificate. The document\n"
	"  goes to --out (default stdout); a signed one also gives a detached signature\n"
	"  (--sig-out, default DOC.p7s with --out), checked against --ca when given.\n";

static int write_out(char const *path, void const *data, size_t len);

/** MUD_ERR_* name to code; -1 if unknown. */
static int rcode_by_name(char const *name)
{
	int i;

	for (i = 0; i < MUD_RCODE_MAX; i++) {
		if (strcmp(mud_rcode_name((mud_rcode_t)i), name) == 0) return i;
	}
	return -1;
}

static int iodef_verify(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	char const *ca = NULL;
	mud_trust_t *trust;
	uint8_t *doc;
	uint8_t *sig;
	size_t doc_len;
	size_t sig_len;
	mud_error_t err;
	mud_rcode_t rc;
	int c;

	mud_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ca = optarg;
			break;
		default:
			return usage_error("iodef verify", "invalid option%s", NULL);
		}
	}
	if (optind + 2 != argc) return usage_error("iodef verify", "expected DOC and SIG%s", NULL);
	if (!ca) {
		return usage_error("iodef verify", "--ca FILE (the trust anchors) is required%s",
				   NULL);
	}

	rc = mud_trust_load(ctx, &trust, ca, NULL, &err);
	if (rc != MUD_OK) return report(ca, &err);
	rc = mud_safe_read(ctx, &doc, &doc_len, argv[optind], MUD_IODEF_MAX_DOC, 0, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	rc = mud_safe_read(ctx, &sig, &sig_len, argv[optind + 1], MUD_MAX_SIG_SIZE, 0, &err);
	if (rc != MUD_OK) return report(argv[optind + 1], &err);
	rc = mud_iodef_verify((char const *)doc, doc_len, sig, sig_len, trust, &err);
	if (rc != MUD_OK) return report(argv[optind + 1], &err);
	printf("%s: signature OK\n", argv[optind]);
	return 0;
}

/** Warnings of the spool (files named like a report that are skipped) on stderr. */
static void spool_warn(void *uctx, mud_log_level_t level, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void spool_warn(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	va_list ap;

	(void)uctx;
	if (level != MUD_LOG_WARN) return;
	fprintf(stderr, "%s: warning: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int iodef_send(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'c' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	char const *url = NULL;
	char const *ca = NULL;
	char const *cert = NULL;
	char const *key = NULL;
	long timeout_ms = 15000;
	mud_spool_opts_t sopts = { .log = spool_warn };
	mud_spool_t *spool;
	size_t sent = 0;
	size_t kept = 0;
	mud_error_t err;
	mud_rcode_t rc;
	int c;

	mud_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 't': {
			char *end;
			long s = strtol(optarg, &end, 10);

			if (*end || s < 1 || s > 3600) {
				return usage_error("iodef send",
						   "--timeout \"%s\": 1..3600 seconds", optarg);
			}
			timeout_ms = s * 1000;
			break;
		}
		default:
			return usage_error("iodef send", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("iodef send", "expected SPOOLDIR%s", NULL);
	if (!url) return usage_error("iodef send", "--url URL is required%s", NULL);
	if (!cert != !key) return usage_error("iodef send", "--cert and --key go together%s", NULL);

	rc = mud_spool_open(ctx, &spool, argv[optind], &sopts, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	rc = mud_spool_send(spool, url, ca, cert, key, timeout_ms, &sent, &kept, &err);
	printf("%zu sent, %zu kept\n", sent, kept);
	if (rc != MUD_OK) return report(url, &err);
	return 0;
}

static int iodef_render(TALLOC_CTX *ctx, int argc, char **argv)
{
	enum {
		O_EVENT = 256, O_MAC, O_IP, O_NAS_IP, O_NAS_PORT, O_NAS_ID, O_USER, O_URL, O_OTHER,
		O_SRV_URL, O_SIG_URL, O_SRV_IP, O_TEXT, O_CODE, O_WHERE, O_ACTION, O_QUAR, O_TIME,
		O_REPORTER, O_CNAME, O_CMAIL, O_CPHONE, O_TLP, O_LANG, O_SKEY, O_SCERT, O_SPOOL,
		O_SIGOUT, O_FIRST, O_LAST, O_COUNT, O_ATIME, O_IP6, O_TZ, O_RESTR, O_ECERT, O_ECIPH,
		O_SEALOUT
	};
	static struct option const opts[] = {
		{ "event", required_argument, NULL, O_EVENT },
		{ "mac", required_argument, NULL, O_MAC },
		{ "ip", required_argument, NULL, O_IP },
		{ "nas-ip", required_argument, NULL, O_NAS_IP },
		{ "nas-port", required_argument, NULL, O_NAS_PORT },
		{ "nas-id", required_argument, NULL, O_NAS_ID },
		{ "user-name", required_argument, NULL, O_USER },
		{ "url", required_argument, NULL, O_URL },
		{ "other-url", required_argument, NULL, O_OTHER },
		{ "server-url", required_argument, NULL, O_SRV_URL },
		{ "sig-url", required_argument, NULL, O_SIG_URL },
		{ "server-ip", required_argument, NULL, O_SRV_IP },
		{ "text", required_argument, NULL, O_TEXT },
		{ "code", required_argument, NULL, O_CODE },
		{ "where", required_argument, NULL, O_WHERE },
		{ "action", required_argument, NULL, O_ACTION },
		{ "quarantine", required_argument, NULL, O_QUAR },
		{ "time", required_argument, NULL, O_TIME },
		{ "reporter", required_argument, NULL, O_REPORTER },
		{ "contact-name", required_argument, NULL, O_CNAME },
		{ "contact-email", required_argument, NULL, O_CMAIL },
		{ "contact-phone", required_argument, NULL, O_CPHONE },
		{ "tlp", required_argument, NULL, O_TLP },
		{ "lang", required_argument, NULL, O_LANG },
		{ "sign-key", required_argument, NULL, O_SKEY },
		{ "sign-cert", required_argument, NULL, O_SCERT },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "sig-out", required_argument, NULL, O_SIGOUT },
		{ "first-seen", required_argument, NULL, O_FIRST },
		{ "last-seen", required_argument, NULL, O_LAST },
		{ "count", required_argument, NULL, O_COUNT },
		{ "action-time", required_argument, NULL, O_ATIME },
		{ "ip6", required_argument, NULL, O_IP6 },
		{ "timezone", required_argument, NULL, O_TZ },
		{ "restrictions", required_argument, NULL, O_RESTR },
		{ "encrypt-cert", required_argument, NULL, O_ECERT },
		{ "encrypt-cipher", required_argument, NULL, O_ECIPH },
		{ "sealed-out", required_argument, NULL, O_SEALOUT },
		{ NULL, 0, NULL, 0 }
	};
	char const *encrypt_cert = NULL;
	char const *encrypt_cipher = NULL;
	char const *sealed_out = NULL;
	mud_iodef_rcpt_t *rcpt = NULL;
	mud_incident_action_t actions[MUD_IODEF_MAX_ACTIONS];
	mud_incident_t inc;
	mud_iodef_config_t cfg = {
		.reporter = "csirt.example.com",
		.contact_name = "Example CSIRT",
		.contact_email = "csirt@example.com",
	};
	char const *spool_dir = NULL;
	char const *sig_out = NULL;
	bool have_event = false;
	mud_error_t err;
	mud_rcode_t rc;
	int c;
	int v;

	memset(&inc, 0, sizeof(inc));
	memset(actions, 0, sizeof(actions));
	inc.actions = actions;
	mud_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_EVENT:
			v = mud_event_by_name(optarg);
			if (v < 0) {
				return usage_error("iodef render", "unknown --event \"%s\"",
						   optarg);
			}
			inc.event = (mud_event_t)v;
			have_event = true;
			break;
		case O_MAC: inc.mac = optarg; break;
		case O_IP: inc.ip = optarg; break;
		case O_NAS_IP: inc.nas_ip = optarg; break;
		case O_NAS_PORT: inc.nas_port = optarg; break;
		case O_NAS_ID: inc.nas_id = optarg; break;
		case O_USER: inc.user_name = optarg; break;
		case O_URL: inc.mud_url = optarg; break;
		case O_OTHER: inc.other_url = optarg; break;
		case O_SRV_URL: inc.server_url = optarg; break;
		case O_SIG_URL: inc.sig_url = optarg; break;
		case O_SRV_IP: inc.server_ip = optarg; break;
		case O_TEXT: inc.text = optarg; break;
		case O_WHERE: inc.where = optarg; break;
		case O_CODE:
			v = rcode_by_name(optarg);
			if (v < 0) {
				return usage_error("iodef render", "unknown --code \"%s\"",
						   optarg);
			}
			inc.code = (mud_rcode_t)v;
			break;
		case O_ACTION:
		case O_QUAR:
			if (inc.num_actions >= MUD_IODEF_MAX_ACTIONS) {
				return usage_error("iodef render", "too many actions%s", NULL);
			}
			actions[inc.num_actions].text = optarg;
			actions[inc.num_actions].contained = (c == O_QUAR);
			inc.num_actions++;
			break;
		case O_TIME:
			if (parse_date(optarg, &inc.time) != 0) {
				return usage_error("iodef render", "--time \"%s\": expected "
						   "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", optarg);
			}
			break;
		case O_REPORTER: cfg.reporter = optarg; break;
		case O_CNAME: cfg.contact_name = optarg; break;
		case O_CMAIL: cfg.contact_email = optarg; break;
		case O_CPHONE: cfg.contact_phone = optarg; break;
		case O_TLP: cfg.tlp = optarg; break;
		case O_LANG: cfg.lang = optarg; break;
		case O_SKEY: cfg.sign_key = optarg; break;
		case O_SCERT: cfg.sign_cert = optarg; break;
		case O_SPOOL: spool_dir = optarg; break;
		case O_SIGOUT: sig_out = optarg; break;
		case O_FIRST:
		case O_LAST:
			if (parse_date(optarg, c == O_FIRST ? &inc.first_seen :
				       &inc.last_seen) != 0) {
				return usage_error("iodef render", "\"%s\": expected "
						   "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", optarg);
			}
			break;
		case O_ATIME:
			if (inc.num_actions == 0) {
				return usage_error("iodef render", "--action-time needs a previous "
						   "--action or --quarantine%s", NULL);
			}
			if (parse_date(optarg, &actions[inc.num_actions - 1].at) != 0) {
				return usage_error("iodef render", "--action-time \"%s\": expected "
						   "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", optarg);
			}
			break;
		case O_COUNT: {
			char *end;
			unsigned long long n = strtoull(optarg, &end, 10);

			if (*end || !*optarg || n < 1 || optarg[0] == '-') {
				return usage_error("iodef render", "--count \"%s\": a number >= 1",
						   optarg);
			}
			inc.count = n;
			break;
		}
		case O_IP6: inc.ip6 = optarg; break;
		case O_TZ: cfg.timezone = optarg; break;
		case O_RESTR: cfg.restrictions = optarg; break;
		case O_ECERT: encrypt_cert = optarg; break;
		case O_ECIPH: encrypt_cipher = optarg; break;
		case O_SEALOUT: sealed_out = optarg; break;
		default:
			return usage_error("iodef render", "invalid option%s", NULL);
		}
	}
	if (optind != argc) {
		return usage_error("iodef render", "unexpected argument \"%s\"", argv[optind]);
	}
	if (!have_event) return usage_error("iodef render", "--event is required%s", NULL);
	if (!cfg.sign_key != !cfg.sign_cert) {
		return usage_error("iodef render", "--sign-key and --sign-cert go together%s",
				   NULL);
	}
	if (encrypt_cert) {
		if (!spool_dir && !sealed_out) {
			return usage_error("iodef render", "--encrypt-cert needs --sealed-out FILE "
					   "or --spool DIR%s", NULL);
		}
		rc = mud_iodef_rcpt_load(ctx, &rcpt, encrypt_cert, encrypt_cipher, &err);
		if (rc != MUD_OK) return report(encrypt_cert, &err);
		cfg.encrypt = rcpt;
	} else if (sealed_out || encrypt_cipher) {
		return usage_error("iodef render", "--sealed-out and --encrypt-cipher need "
				   "--encrypt-cert%s", NULL);
	}

	if (spool_dir) {
		mud_spool_t *spool;
		mud_spool_status_t st;

		rc = mud_spool_open(ctx, &spool, spool_dir, NULL, &err);
		if (rc != MUD_OK) return report(spool_dir, &err);
		rc = mud_spool_write(spool, &inc, &cfg, 0, &st, &err);
		if (rc != MUD_OK) return report(spool_dir, &err);
		inc.id = st.id;
		printf("%s/%s.xml%s (%s, count %llu)\n", spool_dir, st.id,
		       cfg.encrypt ? ".p7m" : "",
		       st.aggregated ? "updated" : "new", (unsigned long long)st.count);
		{
			char *line = mud_iodef_syslog_line(ctx, &inc);

			if (line) fprintf(stderr, "%s\n", line);
		}
		return 0;
	}

	{
		char *xml;
		size_t len;

		rc = mud_iodef_render(ctx, &xml, &len, &inc, &cfg, &err);
		if (rc != MUD_OK) return report("iodef render", &err);
		if (cfg.encrypt) {
			uint8_t *sealed;
			size_t sealed_len;

			rc = mud_iodef_seal(ctx, &sealed, &sealed_len, xml, len, &cfg, &err);
			if (rc != MUD_OK) return report("iodef render", &err);
			return write_out(sealed_out, sealed, sealed_len);
		}
		if (cfg.sign_key) {
			uint8_t *sig;
			size_t sig_len;
			FILE *fp;

			if (!sig_out) {
				return usage_error("iodef render", "--sign-key needs --sig-out "
						   "FILE or --spool DIR%s", NULL);
			}
			rc = mud_iodef_sign(ctx, &sig, &sig_len, xml, len, cfg.sign_key,
					    cfg.sign_cert, &err);
			if (rc != MUD_OK) return report("iodef render", &err);
			fp = fopen(sig_out, "wb");
			if (!fp || fwrite(sig, 1, sig_len, fp) != sig_len) {
				if (fp) fclose(fp);
				fprintf(stderr, "%s: cannot write %s\n", progname, sig_out);
				return EXIT_SYS;
			}
			if (fclose(fp) != 0) {
				fprintf(stderr, "%s: cannot write %s\n", progname, sig_out);
				return EXIT_SYS;
			}
		}
		if (fwrite(xml, 1, len, stdout) != len) return EXIT_SYS;
	}
	return 0;
}

/** Write a whole file (0600: reports are restricted); NULL path: stdout. */
static int write_out(char const *path, void const *data, size_t len)
{
	FILE *fp;
	int fd;

	if (!path) return fwrite(data, 1, len, stdout) == len ? 0 : EXIT_SYS;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!fp) {
		int e = errno;
		char ebuf[128];

		if (fd >= 0) close(fd);
		if (strerror_r(e, ebuf, sizeof(ebuf)) != 0) {
			snprintf(ebuf, sizeof(ebuf), "error %d", e);
		}
		fprintf(stderr, "%s: cannot write %s: %s\n", progname, path, ebuf);
		return EXIT_SYS;
	}
	if (fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", progname, path);
		return EXIT_SYS;
	}
	return 0;
}

static int iodef_decrypt(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'C' },
		{ "out", required_argument, NULL, 'o' },
		{ "sig-out", required_argument, NULL, 's' },
		{ "ca", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	char const *key = NULL;
	char const *cert = NULL;
	char const *out = NULL;
	char const *sig_out = NULL;
	char const *ca = NULL;
	uint8_t *in;
	size_t in_len;
	uint8_t *doc;
	size_t doc_len;
	uint8_t *sig;
	size_t sig_len;
	mud_error_t err;
	mud_rcode_t rc;
	int ret;
	int c;

	mud_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'C': cert = optarg; break;
		case 'o': out = optarg; break;
		case 's': sig_out = optarg; break;
		case 'c': ca = optarg; break;
		default:
			return usage_error("iodef decrypt", "invalid option%s", NULL);
		}
	}
	if (optind + 1 != argc) return usage_error("iodef decrypt", "expected FILE%s", NULL);
	if (!key || !cert) {
		return usage_error("iodef decrypt", "--key and --cert (the CSIRT's) are "
				   "required%s", NULL);
	}
	rc = mud_safe_read(ctx, &in, &in_len, argv[optind], MUD_IODEF_MAX_SEALED, 0, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	rc = mud_iodef_decrypt(ctx, &doc, &doc_len, &sig, &sig_len, in, in_len, key, cert, &err);
	if (rc != MUD_OK) return report(argv[optind], &err);
	if (!sig && (sig_out || ca)) {
		fprintf(stderr, "%s: %s: the report is not signed\n", progname, argv[optind]);
		return EXIT_BAD;
	}
	if (sig && ca) {
		mud_trust_t *trust;

		rc = mud_trust_load(ctx, &trust, ca, NULL, &err);
		if (rc != MUD_OK) return report(ca, &err);
		rc = mud_iodef_verify((char const *)doc, doc_len, sig, sig_len, trust, &err);
		if (rc != MUD_OK) return report(argv[optind], &err);
		fprintf(stderr, "%s: signature OK\n", argv[optind]);
	}
	ret = write_out(out, doc, doc_len);
	if (ret != 0 || !sig) return ret;
	if (!sig_out && out) sig_out = talloc_asprintf(ctx, "%s.p7s", out);
	if (!sig_out) return 0;
	return write_out(sig_out, sig, sig_len);
}

/** mudctl iodef SUBCOMMAND ... */
int mudctl_cmd_iodef(TALLOC_CTX *ctx, int argc, char **argv)
{
	if (argc < 2) {
		return usage_error("iodef", "expected render, verify, send or decrypt%s", NULL);
	}
	if (strcmp(argv[1], "render") == 0) return iodef_render(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0) return iodef_verify(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "send") == 0) return iodef_send(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "decrypt") == 0) return iodef_decrypt(ctx, argc - 1, argv + 1);
	return usage_error("iodef", "unknown subcommand \"%s\"", argv[1]);
}
