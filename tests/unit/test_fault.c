/*
 * test_fault.c - allocation-failure walk (--enable-fault-injection, docs/testing.md).
 *
 * For each operation and input, a first run counts the talloc allocations A that the
 * operation makes (fault_talloc.c); then the operation runs again A times, the Nth
 * allocation failing on run N. Every run must:
 *  - not crash (the ASan build runs this test too);
 *  - return MUD_ERR_NOMEM with *out NULL and err set (code and text), or, when the failed
 *    allocation is one the library may do without (a warning), the same outcome as the
 *    first run: the same result, or the same error (code, where, text);
 *  - leave nothing behind: everything allocated under the caller's context is freed with
 *    the result, and no block is left under the NULL context (null tracking is on);
 *  - for the cache, the spool and the station index: leave the object usable and memory,
 *    directory and counters consistent.
 * Results are compared with what the same operation gave without a failure, never with
 * values written here. The summary (stderr) lists, per path, the operations and allocation
 * sites walked, and every site whose failure was tolerated.
 *
 * Inputs: tests/data/{valid,invalid}/<case>/ (input.json, args, context.json) and the
 * shared real-world files ($SHARED_DIR/mudfiles, when present).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_common.h"
#include "fault_talloc.h"

#define T0		((time_t)1700000000)
#define MAX_SITES	4096
#define MAX_CASES	512
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/*
 *	Walk machinery
 */
typedef struct walk walk_t;

/** Run the operation under test once. It may prepare state under ctx (unarmed), then brackets
 *  the call under test with armed()/unarmed(). *out is the API's result (NULL if it has none). */
typedef mud_rcode_t (*walk_run_t)(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err);

/** Text of a result (unarmed), compared with the first run's. Warnings go after a line
 *  "--warnings--": a difference there only is a tolerated loss of a warning. */
typedef char *(*walk_print_t)(walk_t *w, TALLOC_CTX *ctx, void const *out);

/** Checks of the state left behind (unarmed), after every run. */
typedef void (*walk_verify_t)(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc);

struct walk {
	char const	*path;		//!< "parse", "compile", ... (summary line)
	char const	*label;		//!< input, for messages
	walk_run_t	run;
	walk_print_t	print;		//!< NULL: results are not compared
	walk_verify_t	verify;		//!< NULL: nothing to check
	bool		shorter_ok;	//!< an API without an error channel: a result the first
					//!< run's starts with is "degraded", reported, not failed
	void const	*in;		//!< inputs of the operation
	void		*state;		//!< set by run (under its ctx) for print and verify
	char		*base;		//!< print of the first run's result
	mud_rcode_t	base_rc;
	mud_error_t	base_err;
	unsigned long	n;		//!< allocation failing in this run (0: none)
};

typedef struct {
	void		*pc;		//!< return address in the caller of the allocator
	char const	*func;		//!< allocator
	char const	*path;		//!< first path that reached it
	char const	*label;
	unsigned long	nomem;		//!< runs that failed with MUD_ERR_NOMEM
	unsigned long	same;		//!< tolerated: identical outcome
	unsigned long	warn_lost;	//!< tolerated: a warning missing
	unsigned long	degraded;	//!< shorter result (walk_t.shorter_ok)
} site_t;

typedef struct {
	char const	*path;
	unsigned long	ops;		//!< walks
	unsigned long	allocs;		//!< allocation sites walked (runs with a failure)
	unsigned long	nomem;
	unsigned long	tolerated;
	unsigned long	degraded;
	unsigned long	sites;		//!< distinct call sites
} path_stats_t;

static struct {
	TALLOC_CTX	*top;		//!< inputs and first-run results
	unsigned long	counted;	//!< allocations of the last armed window
	unsigned long	cur_n;
	site_t		*sites;
	size_t		num_sites;
	path_stats_t	paths[32];
	size_t		num_paths;
	unsigned long	failures;	//!< failures of the current cmocka test
	unsigned long	max_runs;	//!< MUD_FAULT_MAX_RUNS: cap per walk (0: none)
} g;

/** Start the window of the call under test (the walk chooses the allocation to fail). */
static void armed(void)
{
	fault_arm(g.cur_n);
}

static void unarmed(void)
{
	g.counted += fault_disarm();
}

/** "function file:line" of a return address (addr2line on this binary), or its offset. */
static char *site_name(TALLOC_CTX *ctx, void *pc)
{
	Dl_info info;
	uintptr_t off = (uintptr_t)pc;
	char cmd[512];
	char fn[256] = "";
	char loc[512] = "";
	FILE *fp;

	if (dladdr(pc, &info) && info.dli_fbase) off -= (uintptr_t)info.dli_fbase;
	if (off) off--;		/* inside the call instruction */
	snprintf(cmd, sizeof(cmd), "addr2line -f -s -e /proc/%ld/exe 0x%lx 2>/dev/null",
		 (long)getpid(), (unsigned long)off);
	fp = popen(cmd, "r");
	if (fp) {
		if (fgets(fn, sizeof(fn), fp)) (void)fgets(loc, sizeof(loc), fp);
		(void)pclose(fp);
	}
	fn[strcspn(fn, "\n")] = '\0';
	loc[strcspn(loc, "\n")] = '\0';
	if (!fn[0] || !strcmp(fn, "??")) return talloc_asprintf(ctx, "+0x%lx", (unsigned long)off);
	return talloc_asprintf(ctx, "%s (%s)", fn, loc);
}

static path_stats_t *path_stats(char const *path)
{
	size_t i;

	for (i = 0; i < g.num_paths; i++) {
		if (!strcmp(g.paths[i].path, path)) return &g.paths[i];
	}
	assert_true(g.num_paths < ARRAY_LEN(g.paths));
	g.paths[g.num_paths].path = path;
	return &g.paths[g.num_paths++];
}

static site_t *site_get(walk_t const *w, void *pc, char const *func)
{
	size_t i;
	site_t *s;

	for (i = 0; i < g.num_sites; i++) {
		if (g.sites[i].pc == pc && !strcmp(g.sites[i].func, func) &&
		    !strcmp(g.sites[i].path, w->path)) return &g.sites[i];
	}
	assert_true(g.num_sites < MAX_SITES);
	s = &g.sites[g.num_sites++];
	memset(s, 0, sizeof(*s));
	s->pc = pc;
	s->func = func;
	s->path = w->path;
	s->label = w->label;
	path_stats(w->path)->sites++;
	return s;
}

static void walk_fail(walk_t const *w, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void walk_fail(walk_t const *w, char const *fmt, ...)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = talloc_vasprintf(tmp, fmt, ap);
	va_end(ap);
	fprintf(stderr, "FAULT %s %s: allocation %lu (%s at %s): %s\n", w->path, w->label, w->n,
		fault_func(), site_name(tmp, fault_site()), msg ? msg : "?");
	talloc_free(tmp);
	g.failures++;
}

/** The part of a print before the warnings. */
static size_t substance_len(char const *s)
{
	char const *p = strstr(s, "--warnings--");

	return p ? (size_t)(p - s) : strlen(s);
}

/** Blocks under the NULL context that are not the test's own. */
static size_t stray_blocks(TALLOC_CTX *root)
{
	return talloc_total_blocks(NULL) - talloc_total_blocks(g.top) - talloc_total_blocks(root);
}

/** Every line of a is a line of b, and a has fewer. */
static bool lines_subset(char const *a, char const *b)
{
	char const *p = a;
	size_t na = 0;
	size_t nb = 0;

	for (; *p; p = strchr(p, '\n') + 1) {
		size_t len = strcspn(p, "\n");
		char const *q = b;
		bool found = false;

		if (!p[len]) return false;	/* every line ends with a newline */
		for (; *q && !found; q += strcspn(q, "\n") + 1) {
			found = strcspn(q, "\n") == len && !strncmp(q, p, len);
			if (!q[strcspn(q, "\n")]) break;
		}
		if (!found) return false;
		na++;
	}
	for (p = b; *p; p++) nb += *p == '\n';
	return na < nb;
}

/** Judge a run whose armed allocation failed. */
static void judge(walk_t *w, TALLOC_CTX *root, mud_rcode_t rc, void *out, mud_error_t const *err)
{
	path_stats_t *ps = path_stats(w->path);
	site_t *site = site_get(w, fault_site(), fault_func());
	mud_error_t const *be = &w->base_err;
	char *got;

	ps->allocs++;
	if (rc == MUD_ERR_NOMEM) {
		ps->nomem++;
		site->nomem++;
		if (out != NULL) walk_fail(w, "MUD_ERR_NOMEM but *out set");
		if (err->code != MUD_ERR_NOMEM) {
			walk_fail(w, "MUD_ERR_NOMEM, err holds %s", mud_rcode_name(err->code));
		}
		if (!err->text[0]) walk_fail(w, "MUD_ERR_NOMEM without error text");
		return;
	}
	if (rc != w->base_rc) {
		walk_fail(w, "returned %s \"%s\" (expected MUD_ERR_NOMEM or %s)",
			  mud_rcode_name(rc), err->text, mud_rcode_name(w->base_rc));
		return;
	}
	if (rc != MUD_OK) {
		/* Tolerated: the first run's error came out, unchanged. */
		if (out != NULL) walk_fail(w, "%s but *out set", mud_rcode_name(rc));
		if (err->code != be->code || strcmp(err->where, be->where) ||
		    strcmp(err->text, be->text)) {
			walk_fail(w, "error %s \"%s\" \"%s\", first run \"%s\" \"%s\"",
				  mud_rcode_name(err->code), err->where, err->text, be->where,
				  be->text);
			return;
		}
		ps->tolerated++;
		site->same++;
		return;
	}
	if (err->code != MUD_OK) {
		walk_fail(w, "MUD_OK, err holds %s \"%s\"", mud_rcode_name(err->code), err->text);
	}
	got = w->print ? w->print(w, root, out) : NULL;
	if (!got || !w->base || !strcmp(got, w->base)) {
		ps->tolerated++;
		site->same++;
	} else if (substance_len(got) == substance_len(w->base) &&
		   !strncmp(got, w->base, substance_len(got))) {
		ps->tolerated++;
		site->warn_lost++;
	} else if (w->shorter_ok && lines_subset(got, w->base)) {
		ps->degraded++;
		site->degraded++;
	} else {
		walk_fail(w, "MUD_OK with a different result:\n---- got\n%.2000s\n"
			  "---- without failure\n%.2000s", got, w->base);
	}
}

/** Walk one operation. */
static void walk(walk_t *w)
{
	TALLOC_CTX *root = talloc_new(NULL);
	mud_error_t err;
	void *out;
	unsigned long total;
	unsigned long n;
	size_t stray;
	static char poison;

	assert_non_null(root);
	stray = stray_blocks(root);

	/* First run: no failure, count the allocations. */
	w->n = 0;
	g.cur_n = 0;
	g.counted = 0;
	mud_error_clear(&err);
	out = &poison;
	w->state = NULL;
	w->base_rc = w->run(w, root, &out, &err);
	total = g.counted;
	w->base_err = err;
	if (w->base_rc != MUD_OK && out != NULL) walk_fail(w, "first run: *out set on failure");
	w->base = NULL;
	if (w->print && w->base_rc == MUD_OK) w->base = talloc_steal(g.top, w->print(w, root, out));
	if (w->verify) w->verify(w, root, w->base_rc);
	talloc_free_children(root);
	if (stray_blocks(root) != stray) {
		walk_fail(w, "first run: %zu blocks left under NULL", stray_blocks(root) - stray);
		stray = stray_blocks(root);
	}
	path_stats(w->path)->ops++;
	if (g.max_runs && total > g.max_runs) total = g.max_runs;

	/* Run N: allocation N fails. */
	for (n = 1; n <= total; n++) {
		mud_rcode_t rc;

		w->n = n;
		g.cur_n = n;
		g.counted = 0;
		mud_error_clear(&err);
		out = &poison;
		w->state = NULL;
		rc = w->run(w, root, &out, &err);
		if (fault_fired()) {
			judge(w, root, rc, out, &err);
		} else if (rc != w->base_rc) {
			/* Fewer allocations than the first run: the same outcome is expected. */
			walk_fail(w, "not reached, yet %s (first run %s)", mud_rcode_name(rc),
				  mud_rcode_name(w->base_rc));
		}
		if (w->verify) w->verify(w, root, rc);
		talloc_free_children(root);
		if (talloc_total_blocks(root) != 1) walk_fail(w, "blocks left under ctx");
		if (stray_blocks(root) != stray) {
			walk_fail(w, "%zu blocks leaked (NULL ctx)", stray_blocks(root) - stray);
			stray = stray_blocks(root);
		}
	}
	talloc_free(root);
}

#define WALK_DONE() do { \
	unsigned long _f = g.failures; \
	g.failures = 0; \
	if (_f) fail_msg("%lu allocation failures mishandled (FAULT lines above)", _f); \
} while (0)

/*
 *	Printing results (for comparison with the first run)
 */
static char const *S(char const *s)
{
	return s ? s : "-";
}

static void add(char **buf, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(char **buf, char const *fmt, ...)
{
	va_list ap;

	if (!*buf) return;
	va_start(ap, fmt);
	*buf = talloc_vasprintf_append_buffer(*buf, fmt, ap);
	va_end(ap);
	assert_non_null(*buf);
}

static void add_warnings(char **buf, mud_warning_t const *w, size_t num)
{
	size_t i;

	add(buf, "--warnings-- %zu\n", num);
	for (i = 0; i < num; i++) add(buf, "%s: %s\n", S(w[i].where), S(w[i].text));
}

static void add_port(char **buf, mud_port_t const *p)
{
	add(buf, " %d:%u-%u", (int)p->op, p->lo, p->hi);
}

static void add_prefix(char **buf, mud_prefix_t const *p)
{
	char tmp[64];

	mud_prefix_print(tmp, sizeof(tmp), p, true);
	add(buf, " %s", tmp);
}

static void add_prefixes(char **buf, mud_ctx_prefixes_t const *p)
{
	size_t i;

	add(buf, " [");
	for (i = 0; i < p->num; i++) add_prefix(buf, &p->prefixes[i]);
	add(buf, " ]");
}

static char *print_file(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_file_t const *f = out;
	char *b = talloc_strdup(ctx, "");
	size_t i, j, k;

	add(&b, "%d %s %s %s %u/%d %d %x %s\n", f->mud_version, S(f->mud_url), S(f->last_update),
	    S(f->mud_signature), f->cache_validity, f->cache_validity_set, f->is_supported,
	    f->leniencies, f->sha256);
	add(&b, "%s|%s|%s|%s|%s|%s\n", S(f->systeminfo), S(f->mfg_name), S(f->model_name),
	    S(f->firmware_rev), S(f->software_rev), S(f->documentation));
	for (i = 0; i < f->num_extensions; i++) add(&b, "ext %s\n", S(f->extensions[i]));
	for (i = 0; i < f->num_from_device; i++) add(&b, "from %s\n", S(f->from_device[i]));
	for (i = 0; i < f->num_to_device; i++) add(&b, "to %s\n", S(f->to_device[i]));
	for (i = 0; i < f->num_acls; i++) {
		mud_acl_t const *acl = &f->acls[i];

		add(&b, "acl %s %d %d\n", S(acl->name), (int)acl->type, acl->type_inferred);
		for (j = 0; j < acl->num_aces; j++) {
			mud_ace_t const *a = &acl->aces[j];

			add(&b, " ace %s %s %d %d %d %s %s %s %s %d %d", S(a->name), S(a->path),
			    (int)a->action, (int)a->l3, a->protocol, S(a->src_dnsname),
			    S(a->dst_dnsname), S(a->src_network), S(a->dst_network), a->dscp,
			    (int)a->l4);
			add_port(&b, &a->src_port);
			add_port(&b, &a->dst_port);
			add(&b, " %d %d/%d %d %d %s %s %s", (int)a->direction_initiated,
			    a->icmp_type, a->icmp_code, a->eth, a->ethertype, S(a->src_mac),
			    S(a->dst_mac), S(a->unknown_match));
			for (k = 0; k < a->num_abs; k++) {
				add(&b, " abs %d %s", (int)a->abs[k].kind, S(a->abs[k].value));
			}
			add(&b, "\n");
		}
	}
	add_warnings(&b, f->warnings, f->num_warnings);
	add(&b, "dropped %zu\n", f->num_warnings_dropped);
	return b;
}

static char *print_rules(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_ruleset_t const *rs = out;
	char *b = talloc_strdup(ctx, "");
	size_t i;

	add(&b, "%s %s %s %s %u %d\n", S(rs->mud_url), S(rs->name), S(rs->mfg_name),
	    S(rs->model_name), rs->cache_validity, rs->vlan);
	for (i = 0; i < rs->num_rules; i++) {
		mud_rule_t const *r = &rs->rules[i];

		add(&b, "%d %d %d %d", (int)r->dir, r->family, (int)r->action, r->protocol);
		add_prefix(&b, &r->peer);
		add_port(&b, &r->device_port);
		add_port(&b, &r->peer_port);
		add(&b, " %d/%d %d %s %s\n", r->icmp_type, r->icmp_code, r->established,
		    S(r->origin), S(r->peer_name));
	}
	add_warnings(&b, rs->warnings, rs->num_warnings);
	return b;
}

static char *print_rendered(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_rendered_t const *r = out;
	char *b = talloc_strdup(ctx, "");
	size_t i;

	add(&b, "%d %s %s %s %zu\n", (int)r->format, S(r->acl_name_v4), S(r->acl_name_v6), r->hash,
	    r->num_skipped);
	for (i = 0; i < r->num_v4; i++) add(&b, "%s\n", S(r->v4[i]));
	for (i = 0; i < r->num_v6; i++) add(&b, "%s\n", S(r->v6[i]));
	return b;
}

static char *print_eval(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_eval_acl_t const *acl = out;
	char *b = talloc_strdup(ctx, "");
	size_t i;

	for (i = 0; i < mud_eval_acl_count(acl); i++) {
		unsigned int lineno = 0;
		char const *line = mud_eval_acl_line(acl, i, &lineno);

		add(&b, "%u %s\n", lineno, S(line));
	}
	return b;
}

static void add_named(char **b, char const *what, mud_ctx_named_t const *n, size_t num)
{
	size_t i;

	for (i = 0; i < num; i++) {
		add(b, "%s %s", what, S(n[i].key));
		add_prefixes(b, &n[i].nets);
		add(b, "\n");
	}
}

static char *print_context(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_context_t const *c = out;
	char *b = talloc_strdup(ctx, "");
	size_t i;

	add(&b, "%d %d %d %s %d %d", c->default_vlan, c->quarantine_vlan, c->dns_resolve,
	    S(c->acl_prefix), c->svc_dhcp, c->svc_nd);
	add_prefixes(&b, &c->local_networks);
	add_prefixes(&b, &c->svc_dns);
	add_prefixes(&b, &c->svc_ntp);
	add(&b, "\n");
	for (i = 0; i < c->num_manufacturers; i++) {
		add(&b, "mfg %s %d", S(c->manufacturers[i].authority), c->manufacturers[i].vlan);
		add_prefixes(&b, &c->manufacturers[i].nets);
		add(&b, "\n");
	}
	add_named(&b, "controller", c->controllers, c->num_controllers);
	add_named(&b, "my-controller", c->my_controllers, c->num_my_controllers);
	add_named(&b, "model", c->models, c->num_models);
	for (i = 0; i < c->num_dns; i++) {
		add(&b, "dns %s", S(c->dns[i].name));
		add_prefixes(&b, &c->dns[i].addrs);
		add(&b, "\n");
	}
	return b;
}

static char *print_entry(TALLOC_CTX *ctx, mud_entry_t const *e)
{
	char *b = talloc_strdup(ctx, "");
	size_t i;

	if (!e) {
		add(&b, "none\n");
		return b;
	}
	add(&b, "%s %s %s %s %d %s %s %s %s %u %ld %ld %s\n", S(e->url), mud_rcode_name(e->status),
	    S(e->error_text), S(e->error_where), e->vlan, S(e->mfg_name), S(e->model_name),
	    S(e->acl_name_v4), S(e->acl_name_v6), e->cache_validity, (long)e->fetched,
	    (long)e->expires, e->file_sha256);
	for (i = 0; i < e->num_v4; i++) add(&b, "%s\n", S(e->lines_v4[i]));
	for (i = 0; i < e->num_v6; i++) add(&b, "%s\n", S(e->lines_v6[i]));
	return b;
}

/*
 *	Inputs
 */
typedef struct {
	char		*label;
	char		*input;
	size_t		len;
	char		*context;	//!< context.json text or NULL
	size_t		context_len;
	unsigned int	flags;		//!< from args ("lenient")
	char		*url;		//!< from args ("url ...") or NULL
} data_case_t;

static data_case_t *cases;
static size_t num_cases;

static void args_load(data_case_t *c, char const *dir)
{
	char *path = talloc_asprintf(g.top, "%s/args", dir);
	char *text = test_read_file(g.top, path, NULL);
	char *line;
	char *save = NULL;

	c->flags = MUD_PARSE_STRICT;
	if (!text) return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(line, "lenient")) c->flags |= MUD_PARSE_LENIENT;
		if (!strncmp(line, "url ", 4)) c->url = talloc_strdup(g.top, line + 4);
	}
}

static void case_add(char const *label, char const *dir, char const *file)
{
	data_case_t *c;
	char *path;

	if (num_cases >= MAX_CASES) return;
	c = &cases[num_cases];
	memset(c, 0, sizeof(*c));
	path = talloc_asprintf(g.top, "%s/%s", dir, file);
	c->input = test_read_file(g.top, path, &c->len);
	if (!c->input) return;
	c->label = talloc_strdup(g.top, label);
	path = talloc_asprintf(g.top, "%s/context.json", dir);
	c->context = test_read_file(g.top, path, &c->context_len);
	args_load(c, dir);
	num_cases++;
}

static int name_cmp(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/** Sorted entries of a directory (without "." and ".."). */
static char **dir_list(TALLOC_CTX *ctx, char const *dir, size_t *num)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;

	*num = 0;
	if (!d) return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
		names = talloc_realloc(ctx, names, char *, *num + 1);
		assert_non_null(names);
		names[(*num)++] = talloc_strdup(names, de->d_name);
	}
	closedir(d);
	if (*num > 1) qsort(names, *num, sizeof(*names), name_cmp);
	return names;
}

static void cases_from(char const *kind)
{
	char *rel = talloc_asprintf(g.top, "tests/data/%s", kind);
	char *dir = test_src_path(g.top, rel);
	size_t num, i;
	char **names = dir_list(g.top, dir, &num);

	for (i = 0; i < num; i++) {
		char *label = talloc_asprintf(g.top, "%s/%s", kind, names[i]);

		case_add(label, talloc_asprintf(g.top, "%s/%s", dir, names[i]), "input.json");
	}
}

/** Every *.json below dir (the shared real-world corpus). */
static void cases_tree(char const *dir, char const *label)
{
	size_t num, i;
	char **names = dir_list(g.top, dir, &num);

	for (i = 0; i < num; i++) {
		char *path = talloc_asprintf(g.top, "%s/%s", dir, names[i]);
		char *sub = talloc_asprintf(g.top, "%s/%s", label, names[i]);
		struct stat st;
		size_t n = strlen(names[i]);

		if (names[i][0] == '.' || stat(path, &st) != 0) continue;
		if (S_ISDIR(st.st_mode)) {
			cases_tree(path, sub);
		} else if (n > 5 && !strcmp(names[i] + n - 5, ".json")) {
			case_add(sub, dir, names[i]);
		}
	}
}

/** A resolver without the network: a stable address per name, and no answer for some. */
static int fake_resolve(void *uctx, char const *name, int family, mud_prefix_t *out, size_t max)
{
	uint32_t h = 2166136261u;
	char const *p;

	for (p = name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
	if (h % 7 == 0 || max == 0) return -1;
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == 4) {
		out->addr[0] = 203;
		out->addr[1] = 0;
		out->addr[2] = 113;
		out->addr[3] = (uint8_t)(1 + h % 250);
		out->len = 32;
	} else {
		out->addr[0] = 0x20;
		out->addr[1] = 0x01;
		out->addr[2] = 0x0d;
		out->addr[3] = 0xb8;
		memcpy(&out->addr[12], &h, sizeof(h));
		out->len = 128;
	}
	return 1;
}

/** What the walks of one case share: parsed file, site, compiled rules (unarmed). */
typedef struct {
	data_case_t const	*c;
	mud_file_t		*file;		//!< with the case's flags, else lenient; or NULL
	mud_context_t		*site;
	mud_ruleset_t		*rules;		//!< or NULL
	unsigned int		flags;		//!< of file
	mud_format_t		fmt;		//!< render / eval
	char			*text;		//!< rendered text (eval)
	size_t			text_len;
} prep_t;

static void prep_case(prep_t *p, data_case_t const *c)
{
	mud_error_t err;

	memset(p, 0, sizeof(*p));
	p->c = c;
	p->flags = c->flags;
	if (mud_file_parse(g.top, &p->file, c->input, c->len, c->url, p->flags, &err) != MUD_OK) {
		p->flags |= MUD_PARSE_LENIENT;
		(void)mud_file_parse(g.top, &p->file, c->input, c->len, c->url, p->flags, &err);
	}
	if (!c->context ||
	    mud_context_parse(g.top, &p->site, c->context, c->context_len, &err) != MUD_OK) {
		p->site = mud_context_alloc(g.top);
		assert_non_null(p->site);
	}
	p->site->dns_resolve = true;	/* names not in the map go to fake_resolve */
	if (p->file) {
		(void)mud_ruleset_compile(g.top, &p->rules, p->file, p->site, fake_resolve, NULL,
					  &err);
	}
}

/*
 *	Operations: parse, context, compile, quarantine, render, eval, policy
 */
typedef struct {
	data_case_t const	*c;
	unsigned int		flags;
} parse_in_t;

static mud_rcode_t run_parse(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	parse_in_t const *in = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_file_parse(ctx, (mud_file_t **)out, in->c->input, in->c->len, in->c->url,
			    in->flags, err);
	unarmed();
	return rc;
}

static mud_rcode_t run_context(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	data_case_t const *c = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_context_parse(ctx, (mud_context_t **)out, c->context, c->context_len, err);
	unarmed();
	return rc;
}

static mud_rcode_t run_compile(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	prep_t const *p = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_ruleset_compile(ctx, (mud_ruleset_t **)out, p->file, p->site, fake_resolve, NULL,
				 err);
	unarmed();
	return rc;
}

static mud_rcode_t run_quarantine(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	prep_t const *p = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_ruleset_quarantine(ctx, (mud_ruleset_t **)out, p->site, err);
	unarmed();
	return rc;
}

static mud_rcode_t run_render(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	prep_t const *p = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_ruleset_render(ctx, (mud_rendered_t **)out, p->rules, p->fmt, err);
	unarmed();
	return rc;
}

static mud_rcode_t run_eval(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	prep_t const *p = w->in;
	mud_rcode_t rc;

	armed();
	rc = mud_eval_acl_parse(ctx, (mud_eval_acl_t **)out, p->fmt, p->text, p->text_len, err);
	unarmed();
	return rc;
}

static mud_rcode_t run_policy(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	prep_t const *p = w->in;
	mud_policy_opts_t opts = {
		.parse_flags = p->flags,
		.site = p->site,
		.resolve = fake_resolve,
		.format = MUD_FMT_CISCO_DACL,
	};
	mud_rcode_t rc;

	armed();
	rc = mud_policy_from_bytes(ctx, (mud_policy_t **)out, p->file->mud_url,
				   (uint8_t const *)p->c->input, p->c->len, NULL, 0, &opts, err);
	unarmed();
	return rc;
}

static char *print_policy(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_policy_t const *pol = out;
	char *b = print_rendered(w, ctx, pol->rendered);

	add(&b, "%s %s %s\n", S(pol->url), pol->file_sha256, pol->sig_sha256);
	add_warnings(&b, pol->file->warnings, pol->file->num_warnings);
	add_warnings(&b, pol->rules->warnings, pol->rules->num_warnings);
	return b;
}

static void walk_one(char const *path, char const *label, walk_run_t run, walk_print_t print,
		     void const *in)
{
	walk_t w = {
		.path = path,
		.label = label,
		.run = run,
		.print = print,
		.in = in,
	};

	walk(&w);
}

static void test_parse(void **state)
{
	size_t i;

	for (i = 0; i < num_cases; i++) {
		unsigned int flags = cases[i].flags;
		parse_in_t strict = { &cases[i], flags & ~(unsigned int)MUD_PARSE_LENIENT };
		parse_in_t lenient = { &cases[i], flags | MUD_PARSE_LENIENT };

		walk_one("parse strict", cases[i].label, run_parse, print_file, &strict);
		walk_one("parse lenient", cases[i].label, run_parse, print_file, &lenient);
	}
	WALK_DONE();
}

static void test_context(void **state)
{
	size_t i;

	for (i = 0; i < num_cases; i++) {
		if (!cases[i].context) continue;
		walk_one("context", cases[i].label, run_context, print_context, &cases[i]);
	}
	WALK_DONE();
}

/** Render text as a switch gets it (one value per line). */
static void prep_text(prep_t *p, mud_rendered_t const *r)
{
	size_t i;

	p->text = talloc_strdup(g.top, "");
	for (i = 0; i < r->num_v4; i++) add(&p->text, "%s\n", r->v4[i]);
	for (i = 0; i < r->num_v6; i++) add(&p->text, "%s\n", r->v6[i]);
	p->text_len = strlen(p->text);
}

static void test_pipeline(void **state)
{
	size_t i;

	for (i = 0; i < num_cases; i++) {
		prep_t p;
		int fmt;

		prep_case(&p, &cases[i]);
		walk_one("quarantine", cases[i].label, run_quarantine, print_rules, &p);
		if (!p.file) continue;
		walk_one("compile", cases[i].label, run_compile, print_rules, &p);
		walk_one("policy", cases[i].label, run_policy, print_policy, &p);
		if (!p.rules) continue;
		for (fmt = 0; fmt < MUD_FMT_MAX; fmt++) {
			mud_rendered_t *r = NULL;
			mud_error_t err;
			char *label = talloc_asprintf(g.top, "%s %s", cases[i].label,
						      mud_format_name((mud_format_t)fmt));

			p.fmt = (mud_format_t)fmt;
			walk_one("render", label, run_render, print_rendered, &p);
			if (fmt == MUD_FMT_JSON) continue;
			if (mud_ruleset_render(g.top, &r, p.rules, p.fmt, &err) != MUD_OK) continue;
			prep_text(&p, r);
			walk_one("eval", label, run_eval, print_eval, &p);
		}
	}
	WALK_DONE();
}

/*
 *	Cache: store (memory and directory), lookup, dACL lookup, failure, load
 */
typedef struct {
	char		*dir;		//!< persistence directory (emptied before each run)
	mud_policy_t	*pol[2];
	char		*url[2];
	bool		persist;
	char		*base_mem;	//!< first run: what memory held
	char		*base_disk;	//!< first run: what the directory held
	char		*base_fail;	//!< first run: lookup after mud_cache_fail()
} cache_in_t;

static void dir_empty(char const *dir)
{
	size_t num, i;
	TALLOC_CTX *tmp = talloc_new(NULL);
	char **names = dir_list(tmp, dir, &num);

	for (i = 0; i < num; i++) {
		char *path = talloc_asprintf(tmp, "%s/%s", dir, names[i]);

		assert_int_equal(unlink(path), 0);
	}
	talloc_free(tmp);
}

/** Temporary files in dir (cache "tmp.*", spool ".tmp-*"). */
static size_t dir_temps(char const *dir)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	size_t num, i, n = 0;
	char **names = dir_list(tmp, dir, &num);

	for (i = 0; i < num; i++) {
		if (names[i][0] == '.' || !strncmp(names[i], "tmp.", 4)) n++;
	}
	talloc_free(tmp);
	return n;
}

static mud_cache_t *cache_new(TALLOC_CTX *ctx, cache_in_t const *in, bool persist)
{
	mud_cache_opts_t opts = { .dir = persist ? in->dir : NULL };
	mud_cache_t *cache = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_cache_create(ctx, &cache, &opts, T0, NULL, &err), MUD_OK);
	return cache;
}

/** What the cache holds for url (unarmed): its entry, or "none". The lookup may take the
 *  fetch token: *token says (may be NULL). */
static char *cache_view_token(TALLOC_CTX *ctx, mud_cache_t *cache, char const *url, bool *token)
{
	mud_entry_t *e = NULL;
	bool dummy;
	mud_cache_result_t r = mud_cache_lookup(cache, ctx, &e, token ? token : &dummy, url,
						T0 + 1);

	if (r != MUD_CACHE_HIT && r != MUD_CACHE_STALE) return print_entry(ctx, NULL);
	return print_entry(ctx, e);
}

static char *cache_view(TALLOC_CTX *ctx, mud_cache_t *cache, char const *url)
{
	return cache_view_token(ctx, cache, url, NULL);
}

/** What a cache loaded from the directory holds for url. */
static char *disk_view(TALLOC_CTX *ctx, cache_in_t const *in, char const *url)
{
	mud_cache_t *cache = cache_new(ctx, in, true);

	return cache_view(ctx, cache, url);
}

static mud_rcode_t run_store(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache;
	mud_entry_t *e = NULL;
	bool token = false;
	mud_rcode_t rc;

	if (in->persist) dir_empty(in->dir);
	cache = cache_new(ctx, in, in->persist);
	w->state = cache;
	*out = NULL;
	/* As the module does: a miss gives this caller the fetch, then it stores. */
	assert_int_equal(mud_cache_lookup(cache, ctx, &e, &token, in->url[0], T0), MUD_CACHE_MISS);
	assert_true(token);
	armed();
	rc = mud_cache_store(cache, in->url[0], in->pol[0], T0, err);
	unarmed();
	return rc;
}

static char *print_store(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	cache_in_t const *in = w->in;
	char *b = cache_view(ctx, w->state, in->url[0]);

	if (in->persist) add(&b, "disk\n%s", disk_view(ctx, in, in->url[0]));
	return b;
}

/** After a failed store: memory holds the whole entry or none (and then the URL is not left
 *  in flight: the next caller may fetch), the directory what memory holds or none, no
 *  temporary file; and the cache still stores. */
static void verify_store(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc)
{
	cache_in_t *in = (cache_in_t *)(uintptr_t)w->in;
	char *none = print_entry(ctx, NULL);
	bool token = false;
	char *mem = cache_view_token(ctx, w->state, in->url[0], &token);
	char *disk = in->persist ? disk_view(ctx, in, in->url[0]) : none;
	mud_error_t err;

	if (in->persist && dir_temps(in->dir)) walk_fail(w, "temporary file left in the directory");
	if (w->n == 0) {
		in->base_mem = talloc_steal(g.top, mem);
		in->base_disk = talloc_steal(g.top, disk);
		return;
	}
	if (strcmp(mem, none) && strcmp(mem, in->base_mem)) walk_fail(w, "cache holds\n%s", mem);
	if (!strcmp(mem, none) && !token) {
		walk_fail(w, "nothing stored, yet the URL stays in flight (no fetch token)");
	}
	if (strcmp(disk, none) && (strcmp(disk, in->base_disk) || !strcmp(mem, none))) {
		walk_fail(w, "directory holds\n%s\nmemory\n%s", disk, mem);
	}
	mud_error_clear(&err);
	if (mud_cache_store(w->state, in->url[0], in->pol[0], T0, &err) != MUD_OK) {
		walk_fail(w, "store after the failure: %s", err.text);
	} else if (strcmp(print_store(w, ctx, NULL), w->base)) {
		walk_fail(w, "store after the failure gives another entry");
	}
}

static mud_rcode_t run_lookup(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache = cache_new(ctx, in, false);
	mud_cache_result_t r;
	mud_error_t e2;
	bool token = false;

	mud_error_clear(&e2);
	assert_int_equal(mud_cache_store(cache, in->url[0], in->pol[0], T0, &e2), MUD_OK);
	w->state = cache;
	armed();
	r = mud_cache_lookup(cache, ctx, (mud_entry_t **)out, &token, in->url[0], T0 + 1);
	unarmed();
	if (r == MUD_CACHE_HIT && *out) return MUD_OK;
	/* The lookup has no error channel: a miss is its answer to a failed copy. */
	if (r == MUD_CACHE_MISS && !*out) {
		if (!token) return mud_error_set(err, MUD_ERR_ARG, "lookup", "miss without token");
		return mud_error_set(err, MUD_ERR_NOMEM, "lookup", "miss (copy failed)");
	}
	return mud_error_set(err, MUD_ERR_ARG, "lookup", "outcome %d", (int)r);
}

static char *print_lookup(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	return print_entry(ctx, out);
}

static mud_rcode_t run_acl_lookup(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache = cache_new(ctx, in, false);
	mud_error_t e2;
	char **lines = NULL;
	size_t num = 0;
	bool v6 = false;
	bool found;
	char const *name = in->pol[0]->rendered->acl_name_v4;

	*out = NULL;
	mud_error_clear(&e2);
	assert_int_equal(mud_cache_store(cache, in->url[0], in->pol[0], T0, &e2), MUD_OK);
	armed();
	found = mud_cache_acl_lookup(cache, ctx, name, &lines, &num, &v6);
	unarmed();
	if (!found) {
		if (lines) return mud_error_set(err, MUD_ERR_ARG, "acl", "lines set, not found");
		return mud_error_set(err, MUD_ERR_NOMEM, "acl", "not found (copy failed)");
	}
	*out = lines;
	w->state = talloc_asprintf(ctx, "%zu %d", num, v6);
	return MUD_OK;
}

static char *print_acl_lookup(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	char * const *lines = out;
	char *b = talloc_asprintf(ctx, "%s\n", (char const *)w->state);
	size_t num = strtoul(w->state, NULL, 10);
	size_t i;

	for (i = 0; i < num; i++) add(&b, "%s\n", S(lines[i]));
	return b;
}

/** mud_cache_fail() after a miss that gave this caller the fetch token. */
static mud_rcode_t run_fail(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache = cache_new(ctx, in, false);
	mud_entry_t *e = NULL;
	bool token = false;

	w->state = cache;
	*out = NULL;
	assert_int_equal(mud_cache_lookup(cache, ctx, &e, &token, in->url[1], T0), MUD_CACHE_MISS);
	assert_true(token);
	armed();
	mud_cache_fail(cache, in->url[1], MUD_ERR_FETCH, "connect", "refused", T0);
	unarmed();
	return MUD_OK;
}

/** What a lookup of the failed URL gives. */
static char *fail_view(walk_t *w, TALLOC_CTX *ctx)
{
	cache_in_t const *in = w->in;
	mud_entry_t *e = NULL;
	bool token = false;
	mud_cache_result_t r = mud_cache_lookup(w->state, ctx, &e, &token, in->url[1], T0 + 1);

	return talloc_asprintf(ctx, "%d %d\n%s", (int)r, token, print_entry(ctx, e));
}

/** A failed mud_cache_fail() may record nothing (the next caller fetches again at once), but
 *  must not leave a half-made entry, nor the URL marked in flight (no caller could fetch). */
static void verify_fail(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc)
{
	cache_in_t *in = (cache_in_t *)(uintptr_t)w->in;
	char *got = fail_view(w, ctx);
	char miss[32];

	if (w->n == 0) {
		in->base_fail = talloc_steal(g.top, got);
		return;
	}
	snprintf(miss, sizeof(miss), "%d 1\n", (int)MUD_CACHE_MISS);
	if (strcmp(got, in->base_fail) && strncmp(got, miss, strlen(miss))) {
		walk_fail(w, "after a failed mud_cache_fail():\n%s\nwithout failure:\n%s", got,
			  in->base_fail);
	}
}

typedef struct {
	mud_cache_t	*cache;
	size_t		bad;		//!< load_errors
} cache_load_t;

static mud_rcode_t run_load(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_opts_t opts = { .dir = in->dir };
	size_t bad = 0;
	mud_rcode_t rc;

	armed();
	rc = mud_cache_create(ctx, (mud_cache_t **)out, &opts, T0, &bad, err);
	unarmed();
	w->state = talloc_zero(ctx, cache_load_t);
	assert_non_null(w->state);
	((cache_load_t *)w->state)->cache = *out;
	((cache_load_t *)w->state)->bad = bad;
	return rc;
}

/** The entries loaded (those missing are left out: see verify_load). */
static char *print_load(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache = (mud_cache_t *)(uintptr_t)out;
	char *none = print_entry(ctx, NULL);
	char *b = talloc_strdup(ctx, "");
	size_t i;

	for (i = 0; i < 2; i++) {
		char *v = cache_view(ctx, cache, in->url[i]);

		if (strcmp(v, none)) add(&b, "%s", v);
	}
	return b;
}

/** Loading never changes the directory, and an entry not loaded is counted in load_errors
 *  (the loader drops a file it cannot read for memory, and says so: reported as degraded). */
static void verify_load(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc)
{
	cache_in_t const *in = w->in;
	cache_load_t const *st = w->state;
	char *none = print_entry(ctx, NULL);
	size_t num;
	size_t i;
	size_t loaded = 0;

	/* two entries and the MUD files they were made from (.src) */
	(void)dir_list(ctx, in->dir, &num);
	if (num != 4) walk_fail(w, "%zu files in the cache directory after loading, not 4", num);
	if (rc != MUD_OK) return;
	for (i = 0; i < 2; i++) loaded += strcmp(cache_view(ctx, st->cache, in->url[i]), none) != 0;
	if (loaded + st->bad != 2) {
		walk_fail(w, "%zu entries loaded, %zu load errors, of 2 files", loaded, st->bad);
	}
}

/** mud_cache_source() of url[0] from a cache loaded from the directory (its .src kept). */
static mud_rcode_t run_source(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	cache_in_t const *in = w->in;
	mud_cache_t *cache = cache_new(ctx, in, true);
	mud_rcode_t rc;

	armed();
	rc = mud_cache_source(cache, ctx, in->url[0], T0 + 1, (mud_source_t **)out, NULL, err);
	unarmed();
	return rc;
}

static char *print_source(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_source_t const *src = out;
	char file[65];
	char sig[65];

	(void)w;
	mud_sha256_hex(file, src->file, src->file_len);
	mud_sha256_hex(sig, src->sig, src->sig_len);
	return talloc_asprintf(ctx, "file %zu %s nul %d sig %zu %s (%s) fetched %" PRId64
			       " until %" PRId64 "\n", src->file_len, file,
			       src->file[src->file_len], src->sig_len, sig,
			       src->sig ? "set" : "NULL", (int64_t)src->fetched,
			       (int64_t)src->valid_until);
}

/** Two policies of the cases with the most rendered lines (cisco). */
static void cache_inputs(cache_in_t *in)
{
	mud_policy_t *best[2] = { NULL, NULL };
	size_t i;

	for (i = 0; i < num_cases; i++) {
		prep_t p;
		mud_policy_t *pol = NULL;
		mud_error_t err;
		mud_policy_opts_t opts = { .resolve = fake_resolve, .format = MUD_FMT_CISCO_DACL };
		size_t n;

		prep_case(&p, &cases[i]);
		if (!p.file) continue;
		opts.parse_flags = p.flags;
		opts.site = p.site;
		if (mud_policy_from_bytes(g.top, &pol, p.file->mud_url,
					  (uint8_t const *)cases[i].input, cases[i].len, NULL, 0,
					  &opts, &err) != MUD_OK) continue;
		if (!pol->rendered->acl_name_v4) continue;
		n = pol->rendered->num_v4 + pol->rendered->num_v6;
		if (best[1] && !strcmp(best[1]->url, pol->url)) continue;
		if (!best[0] || n > best[0]->rendered->num_v4 + best[0]->rendered->num_v6) {
			if (!best[0] || strcmp(best[0]->url, pol->url)) best[1] = best[0];
			best[0] = pol;
		} else if (strcmp(best[0]->url, pol->url) && (!best[1] ||
			   n > best[1]->rendered->num_v4 + best[1]->rendered->num_v6)) {
			best[1] = pol;
		}
	}
	assert_non_null(best[0]);
	assert_non_null(best[1]);
	for (i = 0; i < 2; i++) {
		in->pol[i] = best[i];
		in->pol[i]->fetched = T0;
		in->url[i] = in->pol[i]->url;
	}
	in->dir = talloc_strdup(g.top, "/tmp/test_fault.XXXXXX");
	assert_non_null(mkdtemp(in->dir));
}

static void test_cache(void **state)
{
	cache_in_t in = { 0 };
	walk_t w = { .path = "cache store", .label = "memory", .run = run_store,
		     .print = print_store, .verify = verify_store, .in = &in };
	mud_cache_t *cache;
	TALLOC_CTX *tmp;
	mud_error_t err;
	size_t i;

	cache_inputs(&in);
	walk(&w);

	in.persist = true;
	w.path = "cache persist";
	w.label = "directory";
	walk(&w);

	walk_one("cache lookup", in.url[0], run_lookup, print_lookup, &in);
	walk_one("cache acl", in.url[0], run_acl_lookup, print_acl_lookup, &in);

	memset(&w, 0, sizeof(w));
	w.path = "cache fail";
	w.label = in.url[1];
	w.run = run_fail;
	w.verify = verify_fail;
	w.in = &in;
	walk(&w);

	/* Load: two persisted entries. */
	dir_empty(in.dir);
	tmp = talloc_new(NULL);
	cache = cache_new(tmp, &in, true);
	for (i = 0; i < 2; i++) {
		mud_error_clear(&err);
		assert_int_equal(mud_cache_store(cache, in.url[i], in.pol[i], T0, &err), MUD_OK);
	}
	talloc_free(tmp);
	memset(&w, 0, sizeof(w));
	w.path = "cache load";
	w.label = in.dir;
	w.run = run_load;
	w.print = print_load;
	w.verify = verify_load;
	w.shorter_ok = true;
	w.in = &in;
	walk(&w);

	/* the kept MUD file of a loaded entry */
	walk_one("cache source", in.url[0], run_source, print_source, &in);

	dir_empty(in.dir);
	assert_int_equal(rmdir(in.dir), 0);
	WALK_DONE();
}

/*
 *	Incident reports: IODEF rendering, syslog line, spool
 */
static mud_iodef_config_t const iodef_cfg = {
	.reporter = "csirt.example.com",
	.contact_name = "Example CSIRT",
	.contact_email = "csirt@example.com",
	.contact_phone = "+1 555 0100",
	.tlp = "amber",
	.lang = "en",
};

static mud_incident_action_t const iodef_acts[] = {
	{ "quarantine VLAN 999", true, 0 },
	{ "last good policy kept", false, 0 },
};

static mud_incident_t incident(mud_event_t ev)
{
	mud_incident_t inc = {
		.id = "20231114T221320Z-00112233445566778899aabbccddeeff",
		.event = ev,
		.time = T0,
		.reported = T0 + 5,
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
		.file_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		.code = MUD_ERR_SIG_DIGEST,
		.where = "CMS_verify",
		.text = "content does not match the signature \x01\xff<&>",
		.actions = iodef_acts,
		.num_actions = ARRAY_LEN(iodef_acts),
		.dropped = 3,
	};

	return inc;
}

static mud_rcode_t run_iodef(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	mud_incident_t const *inc = w->in;
	size_t len = 0;
	mud_rcode_t rc;

	armed();
	rc = mud_iodef_render(ctx, (char **)out, &len, inc, &iodef_cfg, err);
	unarmed();
	if (rc == MUD_OK && strlen(*out) != len) walk_fail(w, "length %zu", len);
	return rc;
}

static char *print_text(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	return talloc_strdup(ctx, out);
}

static mud_rcode_t run_syslog(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	mud_incident_t const *inc = w->in;

	armed();
	*out = mud_iodef_syslog_line(ctx, inc);
	unarmed();
	if (!*out) return mud_error_set(err, MUD_ERR_NOMEM, "syslog", "NULL (out of memory)");
	return MUD_OK;
}

typedef struct {
	char			*dir;
	mud_incident_t		inc;
	bool			again;	//!< a second write of the same incident (aggregation)
} spool_in_t;

/** Spooled documents (*.xml). */
static size_t dir_count(TALLOC_CTX *ctx, char const *dir)
{
	size_t num, i, n = 0;
	char **names = dir_list(ctx, dir, &num);

	for (i = 0; i < num; i++) {
		size_t len = strlen(names[i]);

		if (len > 4 && !strcmp(names[i] + len - 4, ".xml")) n++;
	}
	return n;
}

static mud_rcode_t run_spool(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	spool_in_t const *in = w->in;
	mud_spool_opts_t opts = { .window = 3600 };
	mud_spool_status_t st;
	mud_spool_t *spool = NULL;
	mud_error_t e2;
	mud_rcode_t rc;

	dir_empty(in->dir);
	mud_error_clear(&e2);
	assert_int_equal(mud_spool_open(ctx, &spool, in->dir, &opts, &e2), MUD_OK);
	if (in->again) {
		rc = mud_spool_write(spool, &in->inc, &iodef_cfg, T0, &st, &e2);
		assert_int_equal(rc, MUD_OK);
	}
	w->state = spool;
	*out = NULL;
	armed();
	rc = mud_spool_write(spool, &in->inc, &iodef_cfg, T0 + 10, &st, err);
	unarmed();
	return rc;
}

static char *print_spool(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	spool_in_t const *in = w->in;

	return talloc_asprintf(ctx, "%zu files\n", dir_count(ctx, in->dir));
}

/** After a failed write: no temporary file, the spool still writes, and counts right. */
static void verify_spool(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc)
{
	spool_in_t const *in = w->in;
	mud_spool_status_t st;
	mud_error_t err;
	size_t before = dir_count(ctx, in->dir);

	if (dir_temps(in->dir)) walk_fail(w, "temporary file left in the spool");
	if (rc != MUD_OK && before != (in->again ? 1u : 0u)) {
		walk_fail(w, "%zu documents after a failed write", before);
	}
	mud_error_clear(&err);
	if (mud_spool_write(w->state, &in->inc, &iodef_cfg, T0 + 20, &st, &err) != MUD_OK) {
		walk_fail(w, "write after the failure: %s", err.text);
		return;
	}
	if (dir_count(ctx, in->dir) != (before ? before : 1)) {
		walk_fail(w, "write after the failure: %zu documents", dir_count(ctx, in->dir));
	}
	if (before && !st.aggregated) walk_fail(w, "write after the failure not aggregated");
}

static void test_iodef(void **state)
{
	spool_in_t in = { .inc = incident(MUD_EVENT_SIG_INVALID) };
	walk_t w = { .path = "spool write", .label = "new", .run = run_spool,
		     .print = print_spool, .verify = verify_spool, .in = &in };
	mud_incident_t incs[3];
	size_t i;

	incs[0] = incident(MUD_EVENT_SIG_INVALID);
	incs[1] = incident(MUD_EVENT_URL_CONFLICT);
	incs[2] = incident(MUD_EVENT_TLS_INVALID);
	incs[2].mac = NULL;
	incs[2].actions = NULL;
	incs[2].num_actions = 0;
	for (i = 0; i < ARRAY_LEN(incs); i++) {
		char const *label = mud_event_name(incs[i].event);

		walk_one("iodef render", label, run_iodef, print_text, &incs[i]);
		walk_one("iodef syslog", label, run_syslog, print_text, &incs[i]);
	}

	in.dir = talloc_strdup(g.top, "/tmp/test_fault.XXXXXX");
	assert_non_null(mkdtemp(in.dir));
	walk(&w);
	in.again = true;
	w.label = "aggregated";
	walk(&w);
	dir_empty(in.dir);
	assert_int_equal(rmdir(in.dir), 0);
	WALK_DONE();
}

/*
 *	Station index: create, update (new and known station), get, by URL
 */
#define ST_URL	"https://lighting.example.com/lightbulb2000.json"

static char *print_station(TALLOC_CTX *ctx, mud_station_t const *st)
{
	return talloc_asprintf(ctx, "%s|%s|%s|%s|%s|%s|%" PRIu64 "|%s|%s|%d|%ld\n", st->key,
			       st->nas_ip, st->nas_id, st->audit_session_id, st->acct_session_id,
			       S(st->url_applied), st->policy_hash, S(st->url_seen),
			       st->url_seen_src, st->in_session, (long)st->last);
}

static mud_station_t station_in(char const *key)
{
	mud_station_t in = { .policy_hash = 42, .in_session = true };

	snprintf(in.key, sizeof(in.key), "%s", key);
	snprintf(in.nas_ip, sizeof(in.nas_ip), "192.0.2.1");
	snprintf(in.nas_id, sizeof(in.nas_id), "sw1");
	snprintf(in.audit_session_id, sizeof(in.audit_session_id), "0A0000010000001F00A1B2C3");
	snprintf(in.acct_session_id, sizeof(in.acct_session_id), "00000042");
	in.url_applied = (char *)(uintptr_t)ST_URL;
	in.url_seen = (char *)(uintptr_t)ST_URL;
	snprintf(in.url_seen_src, sizeof(in.url_seen_src), "lldp");
	return in;
}

#define ST_ALL	(MUD_STATION_NAS | MUD_STATION_AUDIT | MUD_STATION_ACCT | \
		 MUD_STATION_APPLIED | MUD_STATION_SEEN | MUD_STATION_SESSION)

static mud_stations_t *stations_new(TALLOC_CTX *ctx)
{
	mud_stations_opts_t opts = { .max_entries = 100 };
	mud_stations_t *t = NULL;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_stations_create(ctx, &t, &opts, &err), MUD_OK);
	return t;
}

/** A station as the index holds it (unarmed), or "none". */
static char *station_view(TALLOC_CTX *ctx, mud_stations_t *t, char const *key)
{
	mud_station_t st;

	if (!mud_stations_get(t, ctx, key, T0 + 100, &st)) return talloc_strdup(ctx, "none\n");
	return print_station(ctx, &st);
}

static mud_rcode_t run_st_create(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	mud_stations_opts_t opts = { .max_entries = 100 };
	mud_rcode_t rc;

	armed();
	rc = mud_stations_create(ctx, (mud_stations_t **)out, &opts, err);
	unarmed();
	return rc;
}

static char *print_st_create(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_stations_stats_t st;

	mud_stations_stats((mud_stations_t *)(uintptr_t)out, &st);
	return talloc_asprintf(ctx, "%zu %zu\n", st.entries, st.max_entries);
}

/** Update "aa" (known: before holds its old state) or "bb" (new), with every field. */
static mud_rcode_t run_st_update(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	char const *key = w->in;
	mud_stations_t *t = stations_new(ctx);
	mud_station_t in = station_in("aa");
	mud_station_t before;
	mud_error_t e2;
	mud_rcode_t rc;

	mud_error_clear(&e2);
	assert_int_equal(mud_stations_update(t, "aa", &in, ST_ALL, T0, ctx, NULL, &e2), MUD_OK);
	in = station_in(key);
	in.url_applied = (char *)(uintptr_t)"https://lighting.example.com/v2.json";
	in.policy_hash = 43;
	w->state = t;
	*out = NULL;
	armed();
	rc = mud_stations_update(t, key, &in, ST_ALL, T0 + 10, ctx, &before, err);
	unarmed();
	return rc;
}

static char *print_st_update(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	char *b = station_view(ctx, w->state, "aa");

	add(&b, "%s", station_view(ctx, w->state, "bb"));
	return b;
}

/** A failed update leaves the station as it was (or, new, absent), never half written. */
static void verify_st_update(walk_t *w, TALLOC_CTX *ctx, mud_rcode_t rc)
{
	char const *key = w->in;
	mud_stations_t *t = stations_new(ctx);
	mud_station_t in = station_in("aa");
	mud_error_t err;
	char *got;
	char *old;

	if (w->n == 0 || rc == MUD_OK) return;
	mud_error_clear(&err);
	assert_int_equal(mud_stations_update(t, "aa", &in, ST_ALL, T0, ctx, NULL, &err), MUD_OK);
	old = print_st_update(&(walk_t){ .state = t }, ctx, NULL);
	got = print_st_update(w, ctx, NULL);
	if (strcmp(got, old)) {
		walk_fail(w, "failed update of %s left\n%swithout the update\n%s", key, got, old);
	}
}

static mud_rcode_t run_st_get(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	mud_stations_t *t = stations_new(ctx);
	mud_station_t in = station_in("aa");
	mud_station_t *st = talloc_zero(ctx, mud_station_t);
	mud_error_t e2;
	bool ok;

	mud_error_clear(&e2);
	assert_int_equal(mud_stations_update(t, "aa", &in, ST_ALL, T0, ctx, NULL, &e2), MUD_OK);
	assert_non_null(st);
	armed();
	ok = mud_stations_get(t, ctx, "aa", T0 + 1, st);
	unarmed();
	*out = NULL;
	if (!ok) return mud_error_set(err, MUD_ERR_NOMEM, "station", "not found (copy failed)");
	*out = st;
	return MUD_OK;
}

static char *print_st_get(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	return print_station(ctx, out);
}

static mud_rcode_t run_st_by_url(walk_t *w, TALLOC_CTX *ctx, void **out, mud_error_t *err)
{
	mud_stations_t *t = stations_new(ctx);
	mud_station_t *arr = NULL;
	mud_error_t e2;
	size_t num = 0;
	mud_rcode_t rc;
	int i;

	mud_error_clear(&e2);
	for (i = 0; i < 3; i++) {
		char key[8];
		mud_station_t in;

		snprintf(key, sizeof(key), "k%d", i);
		in = station_in(key);
		assert_int_equal(mud_stations_update(t, key, &in, ST_ALL, T0, ctx, NULL, &e2),
				 MUD_OK);
	}
	*out = NULL;
	armed();
	rc = mud_stations_by_url(t, ctx, ST_URL, &arr, 16, &num, err);
	unarmed();
	if (rc != MUD_OK) return rc;
	if (!num) return mud_error_set(err, MUD_ERR_ARG, "by_url", "none found");
	w->state = talloc_asprintf(ctx, "%zu", num);
	*out = arr;
	return MUD_OK;
}

static int str_cmp(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/** The stations, sorted (the order follows the table's random hash key). */
static char *print_st_by_url(walk_t *w, TALLOC_CTX *ctx, void const *out)
{
	mud_station_t const *arr = out;
	size_t num = strtoul(w->state, NULL, 10);
	char **lines = talloc_array(ctx, char *, num + 1);
	char *b = talloc_strdup(ctx, "");
	size_t i;

	assert_non_null(lines);
	for (i = 0; i < num; i++) lines[i] = print_station(lines, &arr[i]);
	qsort(lines, num, sizeof(*lines), str_cmp);
	for (i = 0; i < num; i++) add(&b, "%s", lines[i]);
	talloc_free(lines);
	return b;
}

static void test_stations(void **state)
{
	walk_t w = { .path = "station update", .label = "known", .run = run_st_update,
		     .print = print_st_update, .verify = verify_st_update, .in = "aa" };

	walk_one("station create", "100", run_st_create, print_st_create, NULL);
	walk(&w);
	w.label = "new";
	w.in = "bb";
	walk(&w);
	walk_one("station get", "aa", run_st_get, print_st_get, NULL);

	/* mud_stations_by_url(): out of memory is MUD_ERR_NOMEM (the list is incomplete) */
	memset(&w, 0, sizeof(w));
	w.path = "station by url";
	w.label = ST_URL;
	w.run = run_st_by_url;
	w.print = print_st_by_url;
	walk(&w);
	WALK_DONE();
}

/*
 *	Summary
 */
static int site_cmp(void const *a, void const *b)
{
	site_t const *sa = a;
	site_t const *sb = b;
	int c = strcmp(sa->path, sb->path);

	if (c) return c;
	return (sa->pc > sb->pc) - (sa->pc < sb->pc);
}

static void test_summary(void **state)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	unsigned long allocs = 0;
	size_t i;

	fprintf(stderr, "%-16s %6s %8s %8s %9s %8s %6s\n", "path", "walks", "failures", "nomem",
		"tolerated", "degraded", "sites");
	for (i = 0; i < g.num_paths; i++) {
		path_stats_t const *p = &g.paths[i];

		fprintf(stderr, "%-16s %6lu %8lu %8lu %9lu %8lu %6lu\n", p->path, p->ops, p->allocs,
			p->nomem, p->tolerated, p->degraded, p->sites);
		allocs += p->allocs;
	}
	fprintf(stderr, "%lu allocation failures injected at %zu distinct call sites\n", allocs,
		g.num_sites);
	qsort(g.sites, g.num_sites, sizeof(*g.sites), site_cmp);
	fprintf(stderr, "tolerated (the call succeeded or gave its usual error) or degraded (a "
		"shorter result from an API without an error channel):\n");
	for (i = 0; i < g.num_sites; i++) {
		site_t const *s = &g.sites[i];

		if (!s->same && !s->warn_lost && !s->degraded) continue;
		fprintf(stderr, "  %-14s %s in %s: %lu same outcome, %lu warning lost, %lu shorter,"
			" %lu nomem (first: %s)\n", s->path, s->func, site_name(tmp, s->pc),
			s->same, s->warn_lost, s->degraded, s->nomem, s->label);
	}
	talloc_free(tmp);
	assert_true(allocs > 0);
}

static int group_setup(void **state)
{
	char const *max = getenv("MUD_FAULT_MAX_RUNS");
	char *shared;

	talloc_enable_null_tracking();
	g.top = talloc_new(NULL);
	g.sites = talloc_zero_array(g.top, site_t, MAX_SITES);
	cases = talloc_zero_array(g.top, data_case_t, MAX_CASES);
	if (!g.top || !g.sites || !cases) return -1;
	if (max) g.max_runs = strtoul(max, NULL, 10);
	cases_from("valid");
	cases_from("invalid");
	shared = test_shared_path(g.top, "mudfiles");
	cases_tree(shared, "shared");
	fprintf(stderr, "%zu inputs\n", num_cases);
	return num_cases ? 0 : -1;
}

static int group_teardown(void **state)
{
	talloc_free(g.top);
	talloc_disable_null_tracking();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_iodef),
		cmocka_unit_test(test_stations),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
