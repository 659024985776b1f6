/*
 * fuzz_parse.c - mud_file_parse() on arbitrary bytes, strict and lenient, then compile
 * and render what parsed.
 *
 * Each input gets its own talloc root; after each parse the root must hold
 * nothing (a failed parse leaves nothing behind, a successful one is freed),
 * and a successful parse must satisfy the model's invariants.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "mud.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

/** Invariants of a parsed file; abort() tells the fuzzer (test code only). */
static void check_file(mud_file_t const *f)
{
	size_t i;
	size_t j;

	if (!f->mud_url || !f->last_update || f->mud_version != 1) abort();
	if (f->cache_validity < MUD_CACHE_VALIDITY_MIN) abort();
	if (f->cache_validity > MUD_CACHE_VALIDITY_MAX) abort();
	if (f->num_acls > MUD_MAX_ACLS || f->num_warnings > MUD_MAX_WARNINGS) abort();
	for (i = 0; i < f->num_from_device; i++) {
		if (!mud_file_acl(f, f->from_device[i])) abort();
	}
	for (i = 0; i < f->num_to_device; i++) {
		if (!mud_file_acl(f, f->to_device[i])) abort();
	}
	for (i = 0; i < f->num_acls; i++) {
		mud_acl_t const *acl = &f->acls[i];

		if (!acl->name || acl->num_aces > MUD_MAX_ACES) abort();
		for (j = 0; j < acl->num_aces; j++) {
			mud_ace_t const *e = &acl->aces[j];

			if (!e->name || e->protocol < -1 || e->protocol > 255) abort();
			if (e->src_port.op == MUD_PORT_RANGE && e->src_port.lo > e->src_port.hi) {
				abort();
			}
			if (e->dst_port.op == MUD_PORT_RANGE && e->dst_port.lo > e->dst_port.hi) {
				abort();
			}
			if (e->direction_initiated != MUD_DIRINIT_NONE && e->l4 != MUD_L4_TCP) {
				abort();
			}
		}
	}
	for (i = 0; i < f->num_warnings; i++) {
		if (!f->warnings[i].where || !f->warnings[i].text) abort();
	}
	if (strlen(f->sha256) != 64) abort();
}

/** Compile (no DNS: names map to nothing) and render what parsed; no crash, no leak. */
static void compile_render(TALLOC_CTX *root, mud_file_t const *f)
{
	mud_context_t *site = mud_context_alloc(root);
	mud_ruleset_t *rs = NULL;
	mud_error_t err;
	int fmt;

	if (!site) return;
	site->dns_resolve = false;
	mud_error_clear(&err);
	if (mud_ruleset_compile(root, &rs, f, site, NULL, NULL, &err) == MUD_OK) {
		if (!rs || rs->num_rules < 4) abort();	/* the final denies are always there */
		for (fmt = 0; fmt < MUD_FMT_MAX; fmt++) {
			mud_rendered_t *r = NULL;

			mud_error_clear(&err);
			if (mud_ruleset_render(root, &r, rs, (mud_format_t)fmt, &err) == MUD_OK) {
				talloc_free(r);
			} else if (r) {
				abort();
			}
		}
		talloc_free(rs);
	} else if (rs) {
		abort();
	}
	talloc_free(site);
}

static void run(uint8_t const *data, size_t size, unsigned int flags)
{
	TALLOC_CTX *root = talloc_new(NULL);
	mud_file_t *f = NULL;
	mud_error_t err;
	mud_rcode_t rc;

	if (!root) return;
	mud_error_clear(&err);
	rc = mud_file_parse(root, &f, (char const *)data, size, NULL, flags, &err);
	if (rc != err.code) abort();
	if (rc == MUD_OK) {
		if (!f) abort();
		check_file(f);
		/* validating again must agree and must not add warnings */
		{
			size_t n = f->num_warnings;

			if (mud_file_validate(f, f->mud_url, &err) != MUD_OK) abort();
			if (f->num_warnings != n) abort();
		}
		compile_render(root, f);
		talloc_free(f);
	} else {
		if (f) abort();
		if (strlen(err.text) == 0) abort();
	}
	if (talloc_total_blocks(root) != 1) abort();	/* nothing left behind */
	talloc_free(root);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	run(data, size, MUD_PARSE_STRICT);
	run(data, size, MUD_PARSE_LENIENT);
	return 0;
}
