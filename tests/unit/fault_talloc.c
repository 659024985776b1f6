/*
 * fault_talloc.c - the talloc allocators, wrapped (GNU ld --wrap) so that the Nth
 * allocation fails. See fault_talloc.h and docs/testing.md.
 *
 * Each __wrap_X is what a call of X in the test binary (libmud included) reaches;
 * __real_X is talloc's own X. A failed allocation returns NULL and changes nothing,
 * as talloc does when malloc fails (a failed realloc or append leaves the old block).
 * Calls that do not allocate (realloc to 0 bytes frees; strdup of NULL) are neither
 * counted nor failed. talloc's internal calls (talloc_asprintf -> talloc_vasprintf)
 * are not wrapped, so each public call counts once.
 *
 * The test is single-threaded: the counters are plain statics.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

#include "fault_talloc.h"

static struct {
	bool		armed;
	unsigned long	target;		//!< allocation that fails (1-based), 0 none
	unsigned long	count;		//!< allocations since fault_arm()
	bool		fired;
	void		*site;
	char const	*func;
} fi = { .func = "" };

void fault_arm(unsigned long n)
{
	fi.armed = true;
	fi.target = n;
	fi.count = 0;
	fi.fired = false;
	fi.site = NULL;
	fi.func = "";
}

unsigned long fault_disarm(void)
{
	fi.armed = false;
	return fi.count;
}

bool fault_fired(void)
{
	return fi.fired;
}

void *fault_site(void)
{
	return fi.site;
}

char const *fault_func(void)
{
	return fi.func;
}

/** Count one allocation; true if it is the one to fail. */
static bool fault_hit(char const *func, void *site)
{
	if (!fi.armed) return false;
	fi.count++;
	if (fi.target == 0 || fi.count != fi.target) return false;
	fi.fired = true;
	fi.site = site;
	fi.func = func;
	return true;
}

#define HIT(_f)	fault_hit(_f, __builtin_return_address(0))

/*
 *	Prototypes of the real and the wrapped allocators (-Wmissing-prototypes).
 */
void *__real_talloc_named_const(void const *ctx, size_t size, char const *name);
void *__real__talloc_zero(void const *ctx, size_t size, char const *name);
void *__real__talloc_array(void const *ctx, size_t el_size, unsigned count, char const *name);
void *__real__talloc_zero_array(void const *ctx, size_t el_size, unsigned count,
				char const *name);
void *__real__talloc_realloc_array(void const *ctx, void *ptr, size_t el_size, unsigned count,
				   char const *name);
void *__real__talloc_realloc(void const *ctx, void *ptr, size_t size, char const *name);
void *__real_talloc_realloc_fn(void const *ctx, void *ptr, size_t size);
void *__real__talloc_memdup(void const *t, void const *p, size_t size, char const *name);
void *__real_talloc_pool(void const *ctx, size_t size);
void *__real__talloc_pooled_object(void const *ctx, size_t type_size, char const *type_name,
				   unsigned num_subobjects, size_t total_subobjects_size);
char *__real_talloc_strdup(void const *t, char const *p);
char *__real_talloc_strndup(void const *t, char const *p, size_t n);
char *__real_talloc_strdup_append(char *s, char const *a);
char *__real_talloc_strdup_append_buffer(char *s, char const *a);
char *__real_talloc_strndup_append(char *s, char const *a, size_t n);
char *__real_talloc_strndup_append_buffer(char *s, char const *a, size_t n);
char *__real_talloc_vasprintf(void const *t, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__real_talloc_vasprintf_append(char *s, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__real_talloc_vasprintf_append_buffer(char *s, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

void *__wrap_talloc_named_const(void const *ctx, size_t size, char const *name);
void *__wrap__talloc_zero(void const *ctx, size_t size, char const *name);
void *__wrap__talloc_array(void const *ctx, size_t el_size, unsigned count, char const *name);
void *__wrap__talloc_zero_array(void const *ctx, size_t el_size, unsigned count,
				char const *name);
void *__wrap__talloc_realloc_array(void const *ctx, void *ptr, size_t el_size, unsigned count,
				   char const *name);
void *__wrap__talloc_realloc(void const *ctx, void *ptr, size_t size, char const *name);
void *__wrap_talloc_realloc_fn(void const *ctx, void *ptr, size_t size);
void *__wrap__talloc_memdup(void const *t, void const *p, size_t size, char const *name);
void *__wrap_talloc_pool(void const *ctx, size_t size);
void *__wrap__talloc_pooled_object(void const *ctx, size_t type_size, char const *type_name,
				   unsigned num_subobjects, size_t total_subobjects_size);
char *__wrap_talloc_strdup(void const *t, char const *p);
char *__wrap_talloc_strndup(void const *t, char const *p, size_t n);
char *__wrap_talloc_strdup_append(char *s, char const *a);
char *__wrap_talloc_strdup_append_buffer(char *s, char const *a);
char *__wrap_talloc_strndup_append(char *s, char const *a, size_t n);
char *__wrap_talloc_strndup_append_buffer(char *s, char const *a, size_t n);
char *__wrap_talloc_vasprintf(void const *t, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__wrap_talloc_vasprintf_append(char *s, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__wrap_talloc_vasprintf_append_buffer(char *s, char const *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
char *__wrap_talloc_asprintf(void const *t, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *__wrap_talloc_asprintf_append(char *s, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *__wrap_talloc_asprintf_append_buffer(char *s, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void __wrap_talloc_asprintf_addbuf(char **ps, char const *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 *	Blocks
 */
void *__wrap_talloc_named_const(void const *ctx, size_t size, char const *name)
{
	if (HIT("talloc_named_const")) return NULL;
	return __real_talloc_named_const(ctx, size, name);
}

void *__wrap__talloc_zero(void const *ctx, size_t size, char const *name)
{
	if (HIT("talloc_zero")) return NULL;
	return __real__talloc_zero(ctx, size, name);
}

void *__wrap__talloc_array(void const *ctx, size_t el_size, unsigned count, char const *name)
{
	if (HIT("talloc_array")) return NULL;
	return __real__talloc_array(ctx, el_size, count, name);
}

void *__wrap__talloc_zero_array(void const *ctx, size_t el_size, unsigned count,
				char const *name)
{
	if (HIT("talloc_zero_array")) return NULL;
	return __real__talloc_zero_array(ctx, el_size, count, name);
}

void *__wrap__talloc_realloc_array(void const *ctx, void *ptr, size_t el_size, unsigned count,
				   char const *name)
{
	/* A realloc to 0 elements is a free. */
	if (el_size && count && HIT("talloc_realloc")) return NULL;
	return __real__talloc_realloc_array(ctx, ptr, el_size, count, name);
}

void *__wrap__talloc_realloc(void const *ctx, void *ptr, size_t size, char const *name)
{
	if (size && HIT("talloc_realloc_size")) return NULL;
	return __real__talloc_realloc(ctx, ptr, size, name);
}

void *__wrap_talloc_realloc_fn(void const *ctx, void *ptr, size_t size)
{
	if (size && HIT("talloc_realloc_fn")) return NULL;
	return __real_talloc_realloc_fn(ctx, ptr, size);
}

void *__wrap__talloc_memdup(void const *t, void const *p, size_t size, char const *name)
{
	if (HIT("talloc_memdup")) return NULL;
	return __real__talloc_memdup(t, p, size, name);
}

void *__wrap_talloc_pool(void const *ctx, size_t size)
{
	if (HIT("talloc_pool")) return NULL;
	return __real_talloc_pool(ctx, size);
}

void *__wrap__talloc_pooled_object(void const *ctx, size_t type_size, char const *type_name,
				   unsigned num_subobjects, size_t total_subobjects_size)
{
	if (HIT("talloc_pooled_object")) return NULL;
	return __real__talloc_pooled_object(ctx, type_size, type_name, num_subobjects,
					    total_subobjects_size);
}

/*
 *	Strings
 */
char *__wrap_talloc_strdup(void const *t, char const *p)
{
	if (p && HIT("talloc_strdup")) return NULL;
	return __real_talloc_strdup(t, p);
}

char *__wrap_talloc_strndup(void const *t, char const *p, size_t n)
{
	if (p && HIT("talloc_strndup")) return NULL;
	return __real_talloc_strndup(t, p, n);
}

char *__wrap_talloc_strdup_append(char *s, char const *a)
{
	if (a && HIT("talloc_strdup_append")) return NULL;
	return __real_talloc_strdup_append(s, a);
}

char *__wrap_talloc_strdup_append_buffer(char *s, char const *a)
{
	if (a && HIT("talloc_strdup_append_buffer")) return NULL;
	return __real_talloc_strdup_append_buffer(s, a);
}

char *__wrap_talloc_strndup_append(char *s, char const *a, size_t n)
{
	if (a && HIT("talloc_strndup_append")) return NULL;
	return __real_talloc_strndup_append(s, a, n);
}

char *__wrap_talloc_strndup_append_buffer(char *s, char const *a, size_t n)
{
	if (a && HIT("talloc_strndup_append_buffer")) return NULL;
	return __real_talloc_strndup_append_buffer(s, a, n);
}

char *__wrap_talloc_vasprintf(void const *t, char const *fmt, va_list ap)
{
	if (HIT("talloc_vasprintf")) return NULL;
	return __real_talloc_vasprintf(t, fmt, ap);
}

char *__wrap_talloc_vasprintf_append(char *s, char const *fmt, va_list ap)
{
	if (HIT("talloc_vasprintf_append")) return NULL;
	return __real_talloc_vasprintf_append(s, fmt, ap);
}

char *__wrap_talloc_vasprintf_append_buffer(char *s, char const *fmt, va_list ap)
{
	if (HIT("talloc_vasprintf_append_buffer")) return NULL;
	return __real_talloc_vasprintf_append_buffer(s, fmt, ap);
}

char *__wrap_talloc_asprintf(void const *t, char const *fmt, ...)
{
	va_list ap;
	char *r;

	if (HIT("talloc_asprintf")) return NULL;
	va_start(ap, fmt);
	r = __real_talloc_vasprintf(t, fmt, ap);
	va_end(ap);
	return r;
}

char *__wrap_talloc_asprintf_append(char *s, char const *fmt, ...)
{
	va_list ap;
	char *r;

	if (HIT("talloc_asprintf_append")) return NULL;
	va_start(ap, fmt);
	r = __real_talloc_vasprintf_append(s, fmt, ap);
	va_end(ap);
	return r;
}

char *__wrap_talloc_asprintf_append_buffer(char *s, char const *fmt, ...)
{
	va_list ap;
	char *r;

	if (HIT("talloc_asprintf_append_buffer")) return NULL;
	va_start(ap, fmt);
	r = __real_talloc_vasprintf_append_buffer(s, fmt, ap);
	va_end(ap);
	return r;
}

/** talloc 2.4: on failure the buffer is freed and *ps set to NULL (the next call is a no-op). */
void __wrap_talloc_asprintf_addbuf(char **ps, char const *fmt, ...)
{
	char *r = NULL;

	if (!*ps) return;
	if (!HIT("talloc_asprintf_addbuf")) {
		va_list ap;

		va_start(ap, fmt);
		r = __real_talloc_vasprintf_append_buffer(*ps, fmt, ap);
		va_end(ap);
	}
	if (!r) {
		talloc_free(*ps);
		*ps = NULL;
		return;
	}
	*ps = r;
}
