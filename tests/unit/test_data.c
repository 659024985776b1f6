/*
 * test_data.c - data-driven cases (jansson style).
 *
 *   tests/data/invalid/<case>/input.json   + args? + context.json? + error
 *   tests/data/valid/<case>/input.json     + args? + context.json? + warnings?
 *                                           + expect.cisco? expect.nfr? expect.json?
 *
 * args: one directive per line: "lenient", "url <URL>", "format <name>".
 * error: exactly three lines: code name, where, text (byte for byte).
 * warnings: "<where>: <text>" per line, parse warnings then (when an expect.* or
 *   format is given) compile warnings; an absent file means none are expected.
 * expect.<fmt>: the rendered output as `mudctl compile --format` prints it.
 * context.json: the site context; without one, an empty context with DNS resolution off.
 *
 * Invalid cases run parse, then compile and render (format from args, default
 * cisco-dacl); the first failure must match `error`.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "test_common.h"

typedef struct {
	char		*dir;
	char		*name;
	bool		invalid;
} data_case_t;

typedef struct {
	unsigned int	flags;
	char		*url;
	int		format;		//!< -1 if not given
} case_args_t;

static void load_args(void *ctx, char const *dir, case_args_t *a)
{
	char *path = talloc_asprintf(ctx, "%s/args", dir);
	char *text = test_read_file(ctx, path, NULL);
	char *line;
	char *save = NULL;

	a->flags = MUD_PARSE_STRICT;
	a->url = NULL;
	a->format = -1;
	if (!text) return;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "lenient")) {
			a->flags |= MUD_PARSE_LENIENT;
		} else if (!strncmp(line, "url ", 4)) {
			a->url = talloc_strdup(ctx, line + 4);
		} else if (!strncmp(line, "format ", 7)) {
			a->format = mud_format_by_name(line + 7);
			if (a->format < 0)
				fail_msg("%s/args: unknown format \"%s\"", dir, line + 7);
		} else if (line[0] && line[0] != '#') {
			fail_msg("%s/args: unknown directive \"%s\"", dir, line);
		}
	}
}

/** Render as mudctl compile prints it. */
static char *render_text(void *ctx, mud_rendered_t const *r)
{
	char *out = talloc_strdup(ctx, "");
	size_t i;

	if (r->format == MUD_FMT_CISCO_DACL && r->acl_name_v4) {
		out = talloc_asprintf_append(out, "# dACL %s\n", r->acl_name_v4);
	}
	for (i = 0; i < r->num_v4; i++) out = talloc_asprintf_append(out, "%s\n", r->v4[i]);
	if (r->format == MUD_FMT_CISCO_DACL && r->acl_name_v6) {
		out = talloc_asprintf_append(out, "# dACL %s\n", r->acl_name_v6);
	}
	for (i = 0; i < r->num_v6; i++) out = talloc_asprintf_append(out, "%s\n", r->v6[i]);
	return out;
}

static char *warnings_text(void *ctx, char *acc, mud_warning_t const *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		acc = talloc_asprintf_append(acc, "%s: %s\n", w[i].where, w[i].text);
	return acc;
}

/** Compare with the expected file. MUD_DATA_REGEN=1 (by hand, never in make check) rewrites
 *  the file instead, for review with git diff. */
static void assert_text(char const *what, char const *dir, char const *expect, char const *got)
{
	char const *regen = getenv("MUD_DATA_REGEN");

	if (strcmp(expect, got) == 0) return;
	if (regen && strcmp(regen, "1") == 0) {
		char path[4096];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, what);
		fp = fopen(path, "w");
		if (fp) {
			fputs(got, fp);
			fclose(fp);
			fprintf(stderr, "rewrote %s\n", path);
			return;
		}
	}
	fprintf(stderr, "---- %s/%s expected:\n%s---- got:\n%s----\n", dir, what, expect, got);
	fail_msg("%s: %s differs", dir, what);
}

static mud_context_t *load_case_context(void *ctx, char const *dir, mud_error_t *err,
					mud_rcode_t *rc)
{
	char *path = talloc_asprintf(ctx, "%s/context.json", dir);
	struct stat st;
	mud_context_t *site = NULL;

	*rc = MUD_OK;
	if (stat(path, &st) != 0) {
		site = mud_context_alloc(ctx);
		if (site) site->dns_resolve = false;	/* tests never query real DNS */
		return site;
	}
	*rc = mud_context_load(ctx, &site, path, err);
	return site;
}

/** Parse, compile and render an invalid case with the given flags; the first error. */
static mud_rcode_t invalid_run(void *ctx, char const *dir, char const *input, size_t len,
			       case_args_t const *args, unsigned int flags, mud_error_t *err)
{
	mud_file_t *file = NULL;
	mud_ruleset_t *rs = NULL;
	mud_rendered_t *r = NULL;
	mud_context_t *site;
	mud_rcode_t rc;

	mud_error_clear(err);
	rc = mud_file_parse(ctx, &file, input, len, args->url, flags, err);
	if (rc != MUD_OK) return rc;
	site = load_case_context(ctx, dir, err, &rc);
	if (rc != MUD_OK) return rc;
	rc = mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, err);
	if (rc != MUD_OK) return rc;
	return mud_ruleset_render(ctx, &r, rs, args->format < 0 ? MUD_FMT_CISCO_DACL :
				  (mud_format_t)args->format, err);
}

static void run_case(void **state)
{
	data_case_t const *c = *state;
	void *ctx = talloc_new(NULL);
	case_args_t args;
	char *input;
	size_t len = 0;
	mud_file_t *file = NULL;
	mud_context_t *site;
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	mud_rcode_t rc;
	char *warn;
	static char const *fmts[] = { "cisco", "nfr", "json" };
	static mud_format_t const fmtv[] = { MUD_FMT_CISCO_DACL, MUD_FMT_NAS_FILTER_RULE,
					    MUD_FMT_JSON };
	bool compiled = false;
	size_t i;

	mud_error_clear(&err);
	load_args(ctx, c->dir, &args);
	input = test_read_file(ctx, talloc_asprintf(ctx, "%s/input.json", c->dir), &len);
	if (!input) fail_msg("%s: no input.json", c->dir);

	rc = mud_file_parse(ctx, &file, input, len, args.url, args.flags, &err);

	if (c->invalid) {
		char *expect = test_read_file(ctx, talloc_asprintf(ctx, "%s/error", c->dir), NULL);
		char *got;

		if (!expect) fail_msg("%s: no error file", c->dir);
		if (rc == MUD_OK) {
			site = load_case_context(ctx, c->dir, &err, &rc);
			if (rc == MUD_OK)
				rc = mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, &err);
			if (rc == MUD_OK) {
				mud_rendered_t *r;

				rc = mud_ruleset_render(ctx, &r, rs,
						       args.format < 0 ? MUD_FMT_CISCO_DACL :
						       (mud_format_t)args.format, &err);
			}
		}
		if (rc == MUD_OK) fail_msg("%s: accepted, expected %s", c->dir, expect);
		got = talloc_asprintf(ctx, "%s\n%s\n%s\n", mud_rcode_name(err.code), err.where,
				      err.text);
		assert_int_equal(rc, err.code);
		assert_text("error", c->dir, expect, got);

		/*
		 *	Lenient mode never makes an invalid file valid, except the legacy
		 *	encodings it exists for (cases named *-strict).
		 */
		if (!(args.flags & MUD_PARSE_LENIENT)) {
			size_t n = strlen(c->name);
			bool legacy = n > 7 && strcmp(c->name + n - 7, "-strict") == 0;
			mud_rcode_t lrc = invalid_run(ctx, c->dir, input, len, &args,
						      MUD_PARSE_LENIENT, &err);

			if (legacy && lrc != MUD_OK) {
				fail_msg("%s: legacy encoding refused in lenient mode: "
					 "%s at %s: %s", c->dir, mud_rcode_name(lrc), err.where,
					 err.text);
			}
			if (!legacy && lrc == MUD_OK)
				fail_msg("%s: invalid in strict mode but accepted in lenient mode",
					 c->dir);
		}
		talloc_free(ctx);
		return;
	}

	if (rc != MUD_OK) {
		fail_msg("%s: rejected: %s at %s: %s", c->dir, mud_rcode_name(err.code), err.where,
			 err.text);
	}
	warn = warnings_text(ctx, talloc_strdup(ctx, ""), file->warnings, file->num_warnings);

	site = load_case_context(ctx, c->dir, &err, &rc);
	if (rc != MUD_OK)
		fail_msg("%s: context: %s at %s: %s", c->dir, mud_rcode_name(rc), err.where,
			 err.text);

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *path = talloc_asprintf(ctx, "%s/expect.%s", c->dir, fmts[i]);
		char *expect = test_read_file(ctx, path, NULL);
		mud_rendered_t *r;

		if (!expect) continue;
		if (!compiled) {
			rc = mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, &err);
			if (rc != MUD_OK) {
				fail_msg("%s: compile: %s at %s: %s", c->dir, mud_rcode_name(rc),
					 err.where, err.text);
			}
			warn = warnings_text(ctx, warn, rs->warnings, rs->num_warnings);
			compiled = true;
		}
		rc = mud_ruleset_render(ctx, &r, rs, fmtv[i], &err);
		if (rc != MUD_OK) {
			fail_msg("%s: render %s: %s at %s: %s", c->dir, fmts[i], mud_rcode_name(rc),
				 err.where, err.text);
		}
		assert_text(talloc_asprintf(ctx, "expect.%s", fmts[i]), c->dir, expect,
			    render_text(ctx, r));
	}

	{
		char *expect = test_read_file(ctx, talloc_asprintf(ctx, "%s/warnings", c->dir),
					      NULL);

		assert_text("warnings", c->dir, expect ? expect : "", warn);
	}
	talloc_free(ctx);
}

static int cmp_case(void const *a, void const *b)
{
	return strcmp(((data_case_t const *)a)->dir, ((data_case_t const *)b)->dir);
}

static size_t collect(void *ctx, char const *base, bool invalid, data_case_t **cases, size_t n)
{
	DIR *d = opendir(base);
	struct dirent *de;

	if (!d) return n;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') continue;
		*cases = talloc_realloc(ctx, *cases, data_case_t, n + 1);
		(*cases)[n].dir = talloc_asprintf(ctx, "%s/%s", base, de->d_name);
		(*cases)[n].name = talloc_asprintf(ctx, "%s/%s", invalid ? "invalid" : "valid",
						   de->d_name);
		(*cases)[n].invalid = invalid;
		n++;
	}
	closedir(d);
	return n;
}

int main(void)
{
	void *ctx = talloc_new(NULL);
	data_case_t *cases = NULL;
	struct CMUnitTest *tests;
	size_t n = 0;
	size_t i;
	int ret;

	n = collect(ctx, test_src_path(ctx, "tests/data/invalid"), true, &cases, n);
	n = collect(ctx, test_src_path(ctx, "tests/data/valid"), false, &cases, n);
	if (n == 0) {
		fprintf(stderr, "test_data: no cases found under %s\n",
			test_src_path(ctx, "tests/data"));
		talloc_free(ctx);
		return 1;
	}
	qsort(cases, n, sizeof(cases[0]), cmp_case);

	tests = talloc_zero_array(ctx, struct CMUnitTest, n);
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	ret = _cmocka_run_group_tests("data", tests, n, NULL, NULL);
	talloc_free(ctx);
	return ret;
}
