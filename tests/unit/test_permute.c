/*
 * test_permute.c - JSON member order never changes a verdict.
 *
 * RFC 8259 section 4: an object is an unordered collection of members. For
 * every corpus file this test builds variants of the document that differ
 * only in the order of object members, at every depth (arrays keep their
 * order: it is meaningful), and checks that libmud reaches exactly the same
 * result on each as on the original:
 *
 *   - variant "reversed": every object's members in reverse order;
 *   - variants "shuffle-N": 5 pseudo-random permutations of every object's
 *     members (splitmix64, fixed seeds, so runs are reproducible);
 *   - serialized by json-c (which keeps insertion order), PLAIN and PRETTY
 *     alternately.
 *
 * The original and each variant go through mud_file_parse() in strict and in
 * lenient mode and, when that succeeds, mud_ruleset_compile() with the case's
 * site context (or an empty one with DNS resolution off; a resolver stub that
 * always fails makes sure no real DNS is queried) and mud_ruleset_render() in
 * all three formats. Everything observable goes into a transcript: return
 * codes, the error (code, where, text; for MUD_ERR_JSON only the code, since
 * its "line N, column M" depends on the layout), parse warnings in order, the
 * number of dropped warnings, the leniency bits, the parsed model, compile
 * warnings and the rendered output byte for byte (ACL names and hash included).
 * The transcript of each variant must equal the original's; on a mismatch the
 * file, variant, mode and first differing line are printed.
 *
 * Corpus:
 *   $SHARED_DIR/mudfiles/ ** / *.json and *.json.save (skipped if absent);
 *   tests/data/valid/<case>/input.json and tests/data/invalid/<case>/input.json
 *     with args ("lenient" is ignored: both modes run; "url <URL>"; "format
 *     <name>": all formats are rendered anyway) and context.json; the json-*
 *     invalid cases are left out (not well-formed JSON, or duplicate members:
 *     they cannot be re-serialized);
 *   tests/data/realworld/ *.json with tests/data/realworld/context.json.
 * A file that libmud refuses as JSON (MUD_ERR_JSON) cannot be re-serialized
 * faithfully either and is counted as skipped.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <json-c/json.h>

#include "test_common.h"

#define NUM_OF(a)	(sizeof(a) / sizeof((a)[0]))
#define PERM_DEPTH	(MUD_MAX_JSON_DEPTH + 8)	//!< json-c depth for reading the corpus
#define PERM_SHOW	200	//!< bytes of a differing line shown

/** Counters over the whole run. */
typedef struct {
	size_t		files;		//!< files compared
	size_t		skipped;	//!< not re-serializable (MUD_ERR_JSON)
	size_t		comparisons;	//!< variant x mode transcripts compared to the original
	size_t		mismatches;	//!< of those, how many differed
	size_t		accepted_strict;
	size_t		accepted_lenient_only;
	size_t		refused;
} perm_stats_t;

/** One corpus file. */
typedef struct {
	char		*path;		//!< the document
	char		*name;		//!< test name
	char		*context;	//!< context.json path, NULL: empty context
	char		*url;		//!< expected URL, NULL: not checked
	char		*bad_args;	//!< args line not understood, NULL if none
	perm_stats_t	*stats;
} perm_case_t;

typedef enum {
	PERM_IDENTITY = 0,	//!< document order (for the self-check)
	PERM_REVERSE,
	PERM_SHUFFLE,
} perm_kind_t;

typedef struct {
	char const	*name;
	perm_kind_t	kind;
	uint64_t	seed;
	int		flags;		//!< json_object_to_json_string_ext flags
} perm_variant_t;

#define PERM_PLAIN	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define PERM_PRETTY	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

static perm_variant_t const variants[] = {
	{ "reversed",	PERM_REVERSE,	0,			PERM_PLAIN },
	{ "shuffle-1",	PERM_SHUFFLE,	0x243f6a8885a308d3ULL,	PERM_PRETTY },
	{ "shuffle-2",	PERM_SHUFFLE,	0x13198a2e03707344ULL,	PERM_PLAIN },
	{ "shuffle-3",	PERM_SHUFFLE,	0xa4093822299f31d0ULL,	PERM_PRETTY },
	{ "shuffle-4",	PERM_SHUFFLE,	0x082efa98ec4e6c89ULL,	PERM_PLAIN },
	{ "shuffle-5",	PERM_SHUFFLE,	0x452821e638d01377ULL,	PERM_PRETTY },
};

static struct {
	char const	*name;
	unsigned int	flags;
} const modes[] = {
	{ "strict",	MUD_PARSE_STRICT },
	{ "lenient",	MUD_PARSE_LENIENT },
};

/* ====================================================================
 *	Permuting documents (json-c)
 * ==================================================================== */

/** splitmix64: small, fixed, good enough to shuffle a few keys. */
static uint64_t prng_next(uint64_t *state)
{
	uint64_t z;

	*state += 0x9e3779b97f4a7c15ULL;
	z = *state;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

typedef struct {
	void		*tmp;		//!< talloc scratch for key arrays
	perm_kind_t	kind;
	uint64_t	rng;
	size_t		multi;		//!< objects seen with two members or more
	bool		failed;		//!< out of memory
} perm_state_t;

typedef struct {
	char const	*key;
	json_object	*val;
} perm_member_t;

/** A copy of src whose objects have their members in permuted order; scalars are
 *  shared (reference counted), so numbers keep their original text. */
static json_object *permute(perm_state_t *s, json_object *src)
{
	json_object *dst;
	size_t n;
	size_t i;

	switch (json_object_get_type(src)) {
	case json_type_object: {
		struct json_object_iterator it = json_object_iter_begin(src);
		struct json_object_iterator end = json_object_iter_end(src);
		perm_member_t *m;

		n = (size_t)json_object_object_length(src);
		dst = json_object_new_object();
		if (!dst) break;
		if (n == 0) return dst;
		if (n > 1) s->multi++;
		m = talloc_array(s->tmp, perm_member_t, n);
		if (!m) {
			json_object_put(dst);
			break;
		}
		for (i = 0; i < n && !json_object_iter_equal(&it, &end); i++) {
			m[i].key = json_object_iter_peek_name(&it);
			m[i].val = json_object_iter_peek_value(&it);
			json_object_iter_next(&it);
		}
		n = i;
		if (s->kind == PERM_REVERSE) {
			for (i = 0; i < n / 2; i++) {
				perm_member_t t = m[i];

				m[i] = m[n - 1 - i];
				m[n - 1 - i] = t;
			}
		} else if (s->kind == PERM_SHUFFLE) {
			for (i = n - 1; i > 0; i--) {
				size_t j = (size_t)(prng_next(&s->rng) % (uint64_t)(i + 1));
				perm_member_t t = m[i];

				m[i] = m[j];
				m[j] = t;
			}
		}
		for (i = 0; i < n; i++) {
			json_object *v = permute(s, m[i].val);

			if (s->failed || json_object_object_add(dst, m[i].key, v) != 0) {
				json_object_put(v);
				s->failed = true;
				break;
			}
		}
		talloc_free(m);
		if (s->failed) {
			json_object_put(dst);
			return NULL;
		}
		return dst;
	}

	case json_type_array:
		n = json_object_array_length(src);
		dst = json_object_new_array_ext((int)n);
		if (!dst) break;
		for (i = 0; i < n; i++) {
			json_object *v = permute(s, json_object_array_get_idx(src, i));

			if (s->failed || json_object_array_add(dst, v) != 0) {
				json_object_put(v);
				s->failed = true;
				break;
			}
		}
		if (s->failed) {
			json_object_put(dst);
			return NULL;
		}
		return dst;

	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
	case json_type_string:
		return json_object_get(src);
	}
	s->failed = true;
	return NULL;
}

/** Serialize a permutation of root under ctx; NULL on failure. *multi (if not NULL)
 *  gets the number of objects with two members or more. */
static char *permuted_text(void *ctx, json_object *root, perm_variant_t const *v, size_t *multi)
{
	perm_state_t s = { .tmp = ctx, .kind = v->kind, .rng = v->seed };
	json_object *copy = permute(&s, root);
	char *out = NULL;

	if (!s.failed) {
		char const *text = json_object_to_json_string_ext(copy, v->flags);

		if (text) out = talloc_strdup(ctx, text);
	}
	json_object_put(copy);
	if (multi) *multi = s.multi;
	return out;
}

/** Read a document with json-c (as libmud does: strict, UTF-8 checked, nothing after). */
static json_object *json_read(char const *data, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(PERM_DEPTH);
	json_object *root;

	if (!tok) return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, data, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

/* ====================================================================
 *	Transcript of one run: everything a verdict is made of
 * ==================================================================== */

static char const *nz(char const *s)
{
	return s ? s : "(null)";
}

static char *add_error(char *t, char const *stage, mud_rcode_t rc, mud_error_t const *err)
{
	if (err->code == MUD_ERR_JSON) {
		/* where/text carry "line N, column M": layout, not content. */
		return talloc_asprintf_append(t, "%s: rc %s, error %s\n", stage,
					      mud_rcode_name(rc), mud_rcode_name(err->code));
	}
	return talloc_asprintf_append(t, "%s: rc %s, error %s\n  where %s\n  text %s\n", stage,
				      mud_rcode_name(rc), mud_rcode_name(err->code), err->where,
				      err->text);
}

static char *add_warnings(char *t, char const *what, mud_warning_t const *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		t = talloc_asprintf_append(t, "%s warning: %s: %s\n", what, w[i].where, w[i].text);
	return t;
}

static char *add_port(char *t, char const *what, mud_port_t const *p)
{
	return talloc_asprintf_append(t, " %s %d:%u:%u", what, (int)p->op, (unsigned int)p->lo,
				      (unsigned int)p->hi);
}

/** The parsed model (sha256 of the input bytes left out: the bytes differ). */
static char *add_model(char *t, mud_file_t const *f)
{
	size_t i;
	size_t j;
	size_t k;

	t = talloc_asprintf_append(t, "model: version %d url %s last-update %s signature %s "
				   "validity %u%s supported %d\n", f->mud_version, nz(f->mud_url),
				   nz(f->last_update), nz(f->mud_signature), f->cache_validity,
				   f->cache_validity_set ? " (set)" : "", (int)f->is_supported);
	t = talloc_asprintf_append(t, "model: systeminfo %s mfg %s model %s fw %s sw %s doc %s\n",
				   nz(f->systeminfo), nz(f->mfg_name), nz(f->model_name),
				   nz(f->firmware_rev), nz(f->software_rev), nz(f->documentation));
	for (i = 0; i < f->num_extensions; i++)
		t = talloc_asprintf_append(t, "model: extension %s\n", f->extensions[i]);
	for (i = 0; i < f->num_from_device; i++)
		t = talloc_asprintf_append(t, "model: from-device %s\n", f->from_device[i]);
	for (i = 0; i < f->num_to_device; i++)
		t = talloc_asprintf_append(t, "model: to-device %s\n", f->to_device[i]);
	for (i = 0; i < f->num_acls; i++) {
		mud_acl_t const *acl = &f->acls[i];

		t = talloc_asprintf_append(t, "model: acl %s type %d%s\n", nz(acl->name),
					   (int)acl->type, acl->type_inferred ? " (inferred)" : "");
		for (j = 0; j < acl->num_aces; j++) {
			mud_ace_t const *a = &acl->aces[j];

			t = talloc_asprintf_append(t, "model:  ace %s action %d l3 %d proto %d "
						   "dns %s>%s net %s>%s dscp %d l4 %d",
						   nz(a->name), (int)a->action, (int)a->l3,
						   a->protocol, nz(a->src_dnsname),
						   nz(a->dst_dnsname), nz(a->src_network),
						   nz(a->dst_network), a->dscp, (int)a->l4);
			t = add_port(t, "sport", &a->src_port);
			t = add_port(t, "dport", &a->dst_port);
			t = talloc_asprintf_append(t, " dirinit %d icmp %d/%d eth %d/%d mac %s>%s",
						   (int)a->direction_initiated, a->icmp_type,
						   a->icmp_code, (int)a->eth, a->ethertype,
						   nz(a->src_mac), nz(a->dst_mac));
			for (k = 0; k < a->num_abs; k++) {
				t = talloc_asprintf_append(t, " abs %d=%s", (int)a->abs[k].kind,
							   nz(a->abs[k].value));
			}
			t = talloc_asprintf_append(t, " unknown %s\n", nz(a->unknown_match));
		}
	}
	return t;
}

static char *add_lines(char *t, char const *fam, char const *acl, char * const *v, size_t n)
{
	size_t i;

	t = talloc_asprintf_append(t, "  %s acl %s, %zu values\n", fam, nz(acl), n);
	for (i = 0; i < n; i++) t = talloc_asprintf_append(t, "  %s\n", v[i]);
	return t;
}

/** A resolver that never answers: no real DNS, whatever the context says. */
static int no_resolve(void *uctx, char const *name, int family, mud_prefix_t *out, size_t max)
{
	(void)uctx;
	(void)name;
	(void)family;
	(void)out;
	(void)max;
	return -1;
}

/** Whether the whole pipeline passed (parse, compile, every format). */
typedef enum {
	PERM_REFUSED = 0,
	PERM_ACCEPTED,
} perm_verdict_t;

/** Run parse, compile and render on data; the transcript is allocated under ctx. */
static char *transcript(void *ctx, char const *data, size_t len, perm_case_t const *c,
			unsigned int flags, mud_context_t const *site, mud_rcode_t site_rc,
			mud_error_t const *site_err, perm_verdict_t *verdict, bool *json_err)
{
	void *tmp = talloc_new(ctx);
	char *t = talloc_strdup(ctx, "");
	mud_file_t *file = NULL;
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	mud_rcode_t rc;
	bool all_ok = true;
	int fmt;

	*verdict = PERM_REFUSED;
	*json_err = false;
	mud_error_clear(&err);
	rc = mud_file_parse(tmp, &file, data, len, c->url, flags, &err);
	if (rc != MUD_OK || !file) {
		*json_err = (err.code == MUD_ERR_JSON);
		t = add_error(t, "parse", rc, &err);
		if (file) t = talloc_asprintf_append(t, "parse: *out not NULL on failure\n");
		talloc_free(tmp);
		return t;
	}
	t = talloc_asprintf_append(t, "parse: ok, leniencies 0x%04x, %zu warnings "
				   "(%zu dropped)\n", file->leniencies, file->num_warnings,
				   file->num_warnings_dropped);
	t = add_warnings(t, "parse", file->warnings, file->num_warnings);
	t = add_model(t, file);

	if (site_rc != MUD_OK) {
		t = add_error(t, "context", site_rc, site_err);
		talloc_free(tmp);
		return t;
	}

	mud_error_clear(&err);
	rc = mud_ruleset_compile(tmp, &rs, file, site, no_resolve, NULL, &err);
	if (rc != MUD_OK || !rs) {
		t = add_error(t, "compile", rc, &err);
		talloc_free(tmp);
		return t;
	}
	t = talloc_asprintf_append(t, "compile: ok, name %s vlan %d validity %u, %zu rules, "
				   "%zu warnings\n", nz(rs->name), rs->vlan, rs->cache_validity,
				   rs->num_rules, rs->num_warnings);
	t = add_warnings(t, "compile", rs->warnings, rs->num_warnings);

	for (fmt = 0; fmt < MUD_FMT_MAX; fmt++) {
		mud_rendered_t *r = NULL;
		char const *stage = mud_format_name((mud_format_t)fmt);

		mud_error_clear(&err);
		rc = mud_ruleset_render(tmp, &r, rs, (mud_format_t)fmt, &err);
		if (rc != MUD_OK || !r) {
			t = add_error(t, talloc_asprintf(tmp, "render %s", stage), rc, &err);
			all_ok = false;
			continue;
		}
		t = talloc_asprintf_append(t, "render %s: ok, hash %s, %zu skipped\n", stage,
					   r->hash, r->num_skipped);
		t = add_lines(t, "v4", r->acl_name_v4, r->v4, r->num_v4);
		t = add_lines(t, "v6", r->acl_name_v6, r->v6, r->num_v6);
		talloc_free(r);
	}
	if (all_ok) *verdict = PERM_ACCEPTED;
	talloc_free(tmp);
	return t;
}

/** Print where two transcripts first differ. */
static void show_diff(perm_case_t const *c, char const *variant, char const *mode,
		      char const *want, char const *got)
{
	size_t line = 1;
	char const *a = want;
	char const *b = got;
	size_t la;
	size_t lb;

	while (*a && *a == *b) {
		if (*a == '\n') line++;
		a++;
		b++;
	}
	while (a > want && a[-1] != '\n') {
		a--;
		b--;
	}
	la = strcspn(a, "\n");
	lb = strcspn(b, "\n");
	fprintf(stderr, "MISMATCH %s: variant %s, mode %s: first difference at transcript line "
		"%zu\n  original: %.*s%s\n  variant:  %.*s%s\n", c->path, variant, mode, line,
		(int)(la < PERM_SHOW ? la : PERM_SHOW), a, *a ? "" : "(end of transcript)",
		(int)(lb < PERM_SHOW ? lb : PERM_SHOW), b, *b ? "" : "(end of transcript)");
}

/* ====================================================================
 *	The test: one per corpus file
 * ==================================================================== */

static void run_file(void **state)
{
	perm_case_t const *c = *state;
	void *ctx = talloc_new(NULL);
	void *tmp = talloc_new(ctx);
	char *data;
	size_t len = 0;
	mud_context_t *site = NULL;
	mud_rcode_t site_rc = MUD_OK;
	mud_error_t site_err;
	char *orig[NUM_OF(modes)];
	perm_verdict_t verdict[NUM_OF(modes)];
	bool json_err = false;
	json_object *root = NULL;
	char const *problem = NULL;
	size_t mismatches = 0;
	size_t blocks;
	size_t m;
	size_t v;

	mud_error_clear(&site_err);
	if (c->bad_args) {
		talloc_free(ctx);
		fail_msg("%s: args: unknown directive \"%s\"", c->path, c->bad_args);
	}
	data = test_read_file(tmp, c->path, &len);
	if (!data) {
		problem = "cannot read the file";
		goto done;
	}
	if (c->context) {
		site_rc = mud_context_load(tmp, &site, c->context, &site_err);
	} else {
		site = mud_context_alloc(tmp);
		if (!site) {
			problem = "out of memory";
			goto done;
		}
		site->dns_resolve = false;	/* tests never query real DNS */
	}

	for (m = 0; m < NUM_OF(modes); m++) {
		bool je;

		orig[m] = transcript(tmp, data, len, c, modes[m].flags, site, site_rc, &site_err,
				     &verdict[m], &je);
		json_err |= je;
	}
	if (json_err) {
		fprintf(stderr, "skipped %s: libmud refuses it as JSON, it cannot be "
			"re-serialized\n", c->path);
		c->stats->skipped++;
		goto done;
	}

	root = json_read(data, len);
	if (!root) {
		problem = "json-c cannot read a document libmud reads";
		goto done;
	}

	for (v = 0; v < NUM_OF(variants); v++) {
		size_t multi = 0;
		char *text = permuted_text(tmp, root, &variants[v], &multi);

		if (!text) {
			problem = "cannot build a variant";
			goto done;
		}
		if (variants[v].kind == PERM_REVERSE && variants[v].flags == PERM_PLAIN &&
		    multi > 0) {
			/* Self-check: the permutation shows in the bytes (json-c keeps
			 * insertion order), so the variants really differ in member order. */
			static perm_variant_t const identity = {
				"identity", PERM_IDENTITY, 0, PERM_PLAIN
			};
			char *same = permuted_text(tmp, root, &identity, NULL);

			if (!same || strcmp(same, text) == 0) {
				problem = "reversing members did not change the serialization";
				goto done;
			}
			talloc_free(same);
		}
		for (m = 0; m < NUM_OF(modes); m++) {
			perm_verdict_t vv;
			bool je;
			char *got = transcript(tmp, text, strlen(text), c, modes[m].flags, site,
					       site_rc, &site_err, &vv, &je);

			c->stats->comparisons++;
			if (strcmp(orig[m], got) != 0) {
				show_diff(c, variants[v].name, modes[m].name, orig[m], got);
				mismatches++;
			}
			talloc_free(got);
		}
		talloc_free(text);
	}

	c->stats->files++;
	c->stats->mismatches += mismatches;
	if (verdict[0] == PERM_ACCEPTED) {
		c->stats->accepted_strict++;
	} else if (verdict[1] == PERM_ACCEPTED) {
		c->stats->accepted_lenient_only++;
	} else {
		c->stats->refused++;
	}

done:
	json_object_put(root);
	talloc_free(tmp);
	blocks = talloc_total_blocks(ctx);
	talloc_free(ctx);
	if (problem) fail_msg("%s: %s", c->path, problem);
	if (mismatches) fail_msg("%s: %zu variant/mode runs differ from the original", c->path,
				 mismatches);
	if (blocks != 1) fail_msg("%s: %zu talloc blocks leaked", c->path, blocks - 1);
}

/* ====================================================================
 *	Corpus
 * ==================================================================== */

typedef struct {
	void		*ctx;
	perm_case_t	*cases;
	size_t		num;
	perm_stats_t	*stats;
} perm_list_t;

static bool has_suffix(char const *s, char const *suffix)
{
	size_t n = strlen(s);
	size_t k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool is_dir(char const *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(char const *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static perm_case_t *add_case(perm_list_t *l, char *path, char const *name)
{
	perm_case_t *c;

	l->cases = talloc_realloc(l->ctx, l->cases, perm_case_t, l->num + 1);
	if (!l->cases) return NULL;
	c = &l->cases[l->num++];
	c->path = path;
	c->name = talloc_strdup(l->ctx, name);
	c->context = NULL;
	c->url = NULL;
	c->bad_args = NULL;
	c->stats = l->stats;
	return c;
}

static int cmp_str(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/** Names in a directory except dot files, sorted; NULL-terminated array under ctx, or
 *  NULL if the directory cannot be read. */
static char **dir_names(void *ctx, char const *dir)
{
	DIR *d = opendir(dir);
	char **names;
	size_t n = 0;

	if (!d) return NULL;
	names = talloc_zero_array(ctx, char *, 1);
	for (;;) {
		struct dirent *de = readdir(d);

		if (!de || !names) break;
		if (de->d_name[0] == '.') continue;
		names = talloc_realloc(ctx, names, char *, n + 2);
		if (!names) break;
		names[n] = talloc_strdup(names, de->d_name);
		n++;
		names[n] = NULL;
	}
	closedir(d);
	if (names) qsort(names, n, sizeof(names[0]), cmp_str);
	return names;
}

/** $SHARED_DIR/mudfiles: every *.json and *.json.save, recursively. */
static void collect_shared(perm_list_t *l, char const *dir, char const *rel)
{
	char **names = dir_names(l->ctx, dir);
	size_t i;

	if (!names) return;
	for (i = 0; names[i]; i++) {
		char *path = talloc_asprintf(l->ctx, "%s/%s", dir, names[i]);
		char *name = talloc_asprintf(l->ctx, "%s/%s", rel, names[i]);

		if (is_dir(path)) {
			collect_shared(l, path, name);
		} else if (is_file(path) &&
			   (has_suffix(names[i], ".json") || has_suffix(names[i], ".json.save"))) {
			add_case(l, path, name);
		}
	}
}

/** tests/data/{valid,invalid}/<case>/input.json with args and context.json. */
static void collect_data(perm_list_t *l, char const *kind, bool invalid)
{
	char *base = test_src_path(l->ctx, talloc_asprintf(l->ctx, "tests/data/%s", kind));
	char **names = dir_names(l->ctx, base);
	size_t i;

	if (!names) return;
	for (i = 0; names[i]; i++) {
		char *dir = talloc_asprintf(l->ctx, "%s/%s", base, names[i]);
		char *input = talloc_asprintf(l->ctx, "%s/input.json", dir);
		char *ctxpath = talloc_asprintf(l->ctx, "%s/context.json", dir);
		char *args;
		char *line;
		char *save = NULL;
		perm_case_t *c;

		/* Not well-formed JSON, or duplicate members: nothing to re-serialize. */
		if (invalid && strncmp(names[i], "json-", 5) == 0) continue;
		if (!is_file(input)) continue;
		c = add_case(l, input, talloc_asprintf(l->ctx, "%s/%s", kind, names[i]));
		if (!c) return;
		if (is_file(ctxpath)) c->context = ctxpath;

		args = test_read_file(l->ctx, talloc_asprintf(l->ctx, "%s/args", dir), NULL);
		if (!args) continue;
		for (line = strtok_r(args, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "url ", 4)) {
				c->url = talloc_strdup(l->ctx, line + 4);
			} else if (!strncmp(line, "format ", 7)) {
				/* All formats are rendered; the name must still be known. */
				if (mud_format_by_name(line + 7) < 0)
					c->bad_args = talloc_strdup(l->ctx, line);
			} else if (strcmp(line, "lenient") != 0 && line[0] && line[0] != '#') {
				c->bad_args = talloc_strdup(l->ctx, line);
			}
			/* "lenient": both modes run anyway. */
		}
	}
}

/** tests/data/realworld/ *.json (context.json is the context, not a case). */
static void collect_realworld(perm_list_t *l)
{
	char *base = test_src_path(l->ctx, "tests/data/realworld");
	char *ctxpath = talloc_asprintf(l->ctx, "%s/context.json", base);
	char **names = dir_names(l->ctx, base);
	size_t i;

	if (!names) return;
	for (i = 0; names[i]; i++) {
		char *path = talloc_asprintf(l->ctx, "%s/%s", base, names[i]);
		perm_case_t *c;

		if (!has_suffix(names[i], ".json") || !strcmp(names[i], "context.json")) continue;
		if (!is_file(path)) continue;
		c = add_case(l, path, talloc_asprintf(l->ctx, "realworld/%s", names[i]));
		if (!c) return;
		if (is_file(ctxpath)) c->context = ctxpath;
	}
}

int main(void)
{
	void *ctx = talloc_new(NULL);
	perm_stats_t stats = { 0 };
	perm_list_t l = { .ctx = ctx, .stats = &stats };
	char const *shared_env = getenv("SHARED_DIR");
	char *shared;
	struct CMUnitTest *tests;
	size_t i;
	int ret;

	shared = (shared_env && shared_env[0]) ?
		talloc_asprintf(ctx, "%s/mudfiles", shared_env) :
		test_shared_path(ctx, "mudfiles");
	if (is_dir(shared)) {
		collect_shared(&l, shared, "shared");
	} else {
		fprintf(stderr, "test_permute: %s absent, shared corpus skipped\n", shared);
	}
	collect_data(&l, "valid", false);
	collect_data(&l, "invalid", true);
	collect_realworld(&l);
	if (l.num == 0) {
		fprintf(stderr, "test_permute: no corpus files found\n");
		talloc_free(ctx);
		return 1;
	}

	tests = talloc_zero_array(ctx, struct CMUnitTest, l.num);
	if (!tests) {
		talloc_free(ctx);
		return 1;
	}
	for (i = 0; i < l.num; i++) {
		tests[i].name = l.cases[i].name;
		tests[i].test_func = run_file;
		tests[i].initial_state = &l.cases[i];
	}
	ret = _cmocka_run_group_tests("permute", tests, l.num, NULL, NULL);

	printf("test_permute: %zu files x %zu variants x %zu modes = %zu runs compared with the "
	       "original (%zu files skipped: refused as JSON); %zu differ\n", stats.files,
	       NUM_OF(variants), NUM_OF(modes), stats.comparisons, stats.skipped,
	       stats.mismatches);
	printf("test_permute: verdicts (parse + compile + render in every format): "
	       "%zu accepted strict, %zu accepted lenient only, %zu refused\n",
	       stats.accepted_strict, stats.accepted_lenient_only, stats.refused);

	talloc_free(ctx);
	return ret;
}
