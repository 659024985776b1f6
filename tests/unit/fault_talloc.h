/*
 * fault_talloc.h - fail the Nth talloc allocation (--enable-fault-injection).
 *
 * unit/test_fault is linked with -Wl,@unit/fault_talloc.wrap: every call of the test
 * binary (libmud included, it is a static convenience library) into a talloc allocator
 * lands in fault_talloc.c, which counts the allocations while armed and makes the Nth
 * one return NULL, as talloc does when malloc fails. Allocations of json-c, OpenSSL and
 * libcurl are not talloc's and are never failed. See docs/testing.md.
 */
#ifndef FAULT_TALLOC_H
#define FAULT_TALLOC_H

#include <stdbool.h>
#include <stddef.h>

/** Start counting allocations; the nth from now (1-based) fails, and only that one.
 *  n = 0 counts without failing. */
void		fault_arm(unsigned long n);

/** Stop counting. @return allocations counted since fault_arm(). */
unsigned long	fault_disarm(void);

/** Whether the armed allocation was reached (and failed) since fault_arm(). */
bool		fault_fired(void);

/** Return address in the caller of the allocator that failed (NULL if none). */
void		*fault_site(void);

/** Name of the allocator that failed ("talloc_strdup", ...), "" if none. */
char const	*fault_func(void);

#endif
