/*
 * mudctl_cache.c - `mudctl cache list|show`: the persisted policy cache (the module's
 * cache_dir) read offline, each entry re-proved as the module does at start-up and its HMAC
 * checked with the cache key file (docs/operations.md).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mudctl.h"

char const mudctl_cache_synopsis[] =
	"cache (list | show) [--key FILE] DIR [URL]";

char const mudctl_cache_help[] =
	"Read the module's persisted policy cache (cache_dir) without the server:\n"
	"  list DIR        one line per file: verdict, URL, expiry, VLAN, dACL names\n"
	"  show DIR URL    one entry with its rendered lines (URL, or the file name: the\n"
	"                  SHA-256 of the URL) and its kept MUD file (NAME.src), if any\n"
	"  --key FILE      the module's cache_key_file: each entry's HMAC is checked\n"
	"Each file is parsed and re-proved as the module does when it loads the directory\n"
	"(syntax, URL, lines against the renderer's grammar, dACL names). Verdicts:\n"
	"  ok        the module would load it\n"
	"  INVALID   the module would drop it (reason shown)\n"
	"  TAMPERED  well-formed, but the HMAC is missing or does not match the key\n"
	"Exit status: 0 every file is ok, 1 a file is INVALID or TAMPERED (or the URL is not\n"
	"cached), 2 usage or system error (directory or key unreadable).\n";

static char const *verdict_name(mud_cache_file_verdict_t v)
{
	switch (v) {
	case MUD_CFILE_OK:
		return "ok";
	case MUD_CFILE_INVALID:
		return "INVALID";
	case MUD_CFILE_TAMPERED:
		return "TAMPERED";
	}
	return "?";
}

static void utc(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, len, "%lld", (long long)t);
	}
}

static void print_line(mud_cache_file_t const *f, time_t now)
{
	mud_entry_t const *e = f->entry;
	char exp[32];

	if (!e) {
		printf("%-8s %s: %s\n", verdict_name(f->verdict), f->name, f->why ? f->why : "");
		return;
	}
	utc(exp, sizeof(exp), e->expires);
	printf("%-8s %s %s expires=%s vlan=%d v4=%s v6=%s", verdict_name(f->verdict), e->url,
	       now < e->expires ? "fresh" : "expired", exp, e->vlan,
	       e->acl_name_v4 ? e->acl_name_v4 : "-", e->acl_name_v6 ? e->acl_name_v6 : "-");
	if (f->verdict != MUD_CFILE_OK) printf(": %s", f->why ? f->why : "");
	printf("\n");
}

/** The kept MUD file beside an entry (NAME.src): whether it is there, a regular file, and
 *  its size. Its content is checked by the module when it recompiles (SHA-256 against the
 *  entry's file-sha256), not here. */
static void print_kept(char const *dir, char const *name)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.src", dir, name) >= sizeof(path)) {
		printf("kept-file: ? (path too long)\n");
		return;
	}
	if (lstat(path, &st) != 0) {
		printf("kept-file: - (none: a context change or DNS TTL refetches the file)\n");
	} else if (!S_ISREG(st.st_mode)) {
		printf("kept-file: %s.src is not a regular file (the module refuses it)\n", name);
	} else {
		printf("kept-file: %s.src, %lld bytes\n", name, (long long)st.st_size);
	}
}

static void print_entry(char const *dir, mud_cache_file_t const *f, bool keyed)
{
	mud_entry_t const *e = f->entry;
	char when[32];
	size_t i;

	printf("file: %s\n", f->name);
	printf("verdict: %s%s%s\n", verdict_name(f->verdict), f->why ? ": " : "",
	       f->why ? f->why : "");
	if (!e) return;
	printf("url: %s\n", e->url);
	printf("format: %s\n", f->format ? f->format : "?");
	utc(when, sizeof(when), e->fetched);
	printf("fetched: %s\n", when);
	utc(when, sizeof(when), e->expires);
	printf("expires: %s\n", when);
	printf("cache-validity: %u h\n", e->cache_validity);
	printf("vlan: %d\n", e->vlan);
	printf("file-sha256: %s\n", e->file_sha256[0] ? e->file_sha256 : "-");
	if (e->mfg_name) printf("mfg-name: %s\n", e->mfg_name);
	if (e->model_name) printf("model-name: %s\n", e->model_name);
	printf("acl-name-v4: %s\n", e->acl_name_v4 ? e->acl_name_v4 : "-");
	printf("acl-name-v6: %s\n", e->acl_name_v6 ? e->acl_name_v6 : "-");
	if (e->signer_der) {
		/* RFC 2253 text: control and non-ASCII bytes come escaped */
		char *text = mud_signer_to_text(NULL, e->signer_der, e->signer_der_len);

		printf("signer: %s\n", text ? text : "? (not a DER Name)");
		talloc_free(text);
	} else {
		printf("signer: - (unknown: not verified, or cached by an earlier version)\n");
	}
	/* persisted values hold no control byte (the reader refuses them) */
	printf("compile-tag: %s\n", e->compile_tag && *e->compile_tag ? e->compile_tag : "-");
	if (!keyed) {
		printf("hmac: %s\n", f->has_hmac ? "present, not checked (no --key)" : "none");
	} else {
		printf("hmac: %s\n", f->verdict == MUD_CFILE_TAMPERED ? "BAD" :
		       f->verdict == MUD_CFILE_OK ? "ok" : "not checked");
	}
	print_kept(dir, f->name);
	for (i = 0; i < e->num_v4; i++) printf("v4: %s\n", e->lines_v4[i]);
	for (i = 0; i < e->num_v6; i++) printf("v6: %s\n", e->lines_v6[i]);
}

/** Run `mudctl cache`. */
int mudctl_cmd_cache(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	char const *key = NULL;
	char const *what;
	char const *dir;
	char const *url = NULL;
	mud_cache_file_t *files = NULL;
	size_t num = 0;
	size_t i;
	size_t bad = 0;
	mud_error_t err;
	time_t now = time(NULL);
	int c;

	if (argc < 2) return usage_error("cache", "expected list or show%s", NULL);
	what = argv[1];
	if (strcmp(what, "list") != 0 && strcmp(what, "show") != 0) {
		return usage_error("cache", "expected list or show, not \"%s\"", what);
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		default:
			return usage_error("cache", "invalid option%s", NULL);
		}
	}
	if (strcmp(what, "list") == 0) {
		if (optind + 1 != argc) return usage_error("cache", "list takes one DIR%s", NULL);
	} else {
		if (optind + 2 != argc) return usage_error("cache", "show takes DIR URL%s", NULL);
		url = argv[optind + 1];
	}
	dir = argv[optind];

	mud_error_clear(&err);
	if (mud_cache_dir_read(ctx, &files, &num, dir, key, 0, &err) != MUD_OK) {
		report("cache", &err);
		return EXIT_SYS;
	}

	if (!url) {
		for (i = 0; i < num; i++) {
			print_line(&files[i], now);
			if (files[i].verdict != MUD_CFILE_OK) bad++;
		}
		if (num == 0) printf("(no entries in %s)\n", dir);
		return bad ? EXIT_BAD : 0;
	}
	for (i = 0; i < num; i++) {
		if (strcmp(files[i].name, url) == 0 ||
		    (files[i].entry && strcmp(files[i].entry->url, url) == 0)) {
			print_entry(dir, &files[i], key != NULL);
			return files[i].verdict == MUD_CFILE_OK ? 0 : EXIT_BAD;
		}
	}
	fprintf(stderr, "%s: cache: %s is not in %s\n", progname, url, dir);
	return EXIT_BAD;
}
