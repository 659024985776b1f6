/*
 * nodeepbind.c - LD_PRELOAD shim for the sanitizer run of the integration tests.
 *
 * FreeRADIUS 3.2 loads modules with dlopen(..., RTLD_DEEPBIND), which the
 * AddressSanitizer runtime refuses ("incompatible with sanitizer runtime",
 * google/sanitizers#611). This shim clears RTLD_DEEPBIND and passes the call on
 * to the next dlopen (the sanitizer's interceptor). Test use only: built by
 * tests/integration/lib.sh into the test's work directory, never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

typedef void *(*dlopen_fn)(char const *, int);

/** dlopen without RTLD_DEEPBIND. */
void *dlopen(char const *file, int flags);
void *dlopen(char const *file, int flags)
{
	static dlopen_fn next;

	if (!next) {
		void *sym = dlsym(RTLD_NEXT, "dlopen");

		*(void **)&next = sym;
	}
	if (!next) return NULL;
	return next(file, flags & ~RTLD_DEEPBIND);
}
