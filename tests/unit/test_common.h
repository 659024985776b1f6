/*
 * test_common.h - shared helpers for the cmocka unit tests.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <talloc.h>

#include "mud.h"

/** Per-test talloc root; the check at teardown proves nothing leaked. */
static inline int test_setup_ctx(void **state)
{
	*state = talloc_new(NULL);
	return *state ? 0 : -1;
}

static inline int test_teardown_ctx(void **state)
{
	size_t blocks = talloc_total_blocks(*state);

	talloc_free(*state);
	if (blocks != 1) {
		fprintf(stderr, "leak: %zu talloc blocks left under the test root\n", blocks - 1);
		return -1;
	}
	return 0;
}

/** Assert that every block allocated under ctx has been freed (root only left). */
#define assert_no_leak(ctx) assert_int_equal(talloc_total_blocks(ctx), 1)

/** Read a whole file (test data) under ctx; *len gets its size. NULL on failure. */
static inline char *test_read_file(void *ctx, char const *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp) return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return NULL;
	}
	buf = talloc_array(ctx, char, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		talloc_free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (!buf) return NULL;
	buf[n] = '\0';
	if (len) *len = (size_t)n;
	return buf;
}

/** Path of a file in the source tree: $top_srcdir/rel (top_srcdir from the env, else "."). */
static inline char *test_src_path(void *ctx, char const *rel)
{
	char const *top = getenv("top_srcdir");

	return talloc_asprintf(ctx, "%s/%s", top ? top : ".", rel);
}

/** Path in the shared data dir ($SHARED_DIR, else $top_srcdir/../shared). */
static inline char *test_shared_path(void *ctx, char const *rel)
{
	char const *shared = getenv("SHARED_DIR");
	char const *top = getenv("top_srcdir");

	if (shared) return talloc_asprintf(ctx, "%s/%s", shared, rel);
	return talloc_asprintf(ctx, "%s/../shared/%s", top ? top : ".", rel);
}

#endif
