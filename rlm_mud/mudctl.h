/*
 * mudctl.h - shared helpers of the mudctl commands (mudctl.c and mudctl_*.c).
 */
#ifndef MUDCTL_H
#define MUDCTL_H

#include <stdbool.h>
#include <time.h>

#include "mud.h"

#define EXIT_BAD	1	//!< the input is bad
#define EXIT_SYS	2	//!< usage or system error

#define MUDCTL_MAX_INPUT	(8 * 1024 * 1024)	//!< biggest local file read
							//!< (MUD files are capped lower)

extern char const *progname;

/** Exit status for a library code (0, EXIT_BAD or EXIT_SYS). */
int		rcode_exit(mud_rcode_t rc);

/** Print "mudctl: SUBJECT: WHERE: TEXT [CODE]" on stderr; returns the exit status. */
int		report(char const *subject, mud_error_t const *err);

/** Print a usage error (fmt has one %s for arg) and the --help hint; returns EXIT_SYS. */
int		usage_error(char const *cmd, char const *fmt, char const *arg)
		__attribute__((format(printf, 2, 0)));

/** Read a whole local file of at most max bytes under ctx (NUL-terminated). */
mud_rcode_t	read_file(TALLOC_CTX *ctx, char const *path, uint8_t **out, size_t *len, size_t max,
			  mud_error_t *err);

/** Decode hex (spaces/colons allowed, optional 0x); -1 on error. */
int		hex_decode(TALLOC_CTX *ctx, char const *hex, uint8_t **out, size_t *len);

/** Parse YYYY-MM-DD[THH:MM:SS] UTC; -1 on error. */
int		parse_date(char const *s, time_t *out);

/** Load a site context file, or an empty one when path is NULL; returns an exit status. */
int		load_context(TALLOC_CTX *ctx, char const *path, mud_context_t **site);

/** Read and parse a MUD file; returns an exit status (error already printed). */
int		load_mud(TALLOC_CTX *ctx, char const *path, char const *url, unsigned int flags,
			 mud_file_t **file);

/*
 *	Commands implemented in their own files: each provides its runner, synopsis and help.
 */
int		mudctl_cmd_avpair(TALLOC_CTX *ctx, int argc, char **argv);	//!< mudctl_avpair.c
extern char const mudctl_avpair_synopsis[];
extern char const mudctl_avpair_help[];

int		mudctl_cmd_explain(TALLOC_CTX *ctx, int argc, char **argv); //!< mudctl_explain.c
extern char const mudctl_explain_synopsis[];
extern char const mudctl_explain_help[];

int		mudctl_cmd_iodef(TALLOC_CTX *ctx, int argc, char **argv);	//!< mudctl_iodef.c
extern char const mudctl_iodef_synopsis[];
extern char const mudctl_iodef_help[];

int		mudctl_cmd_show(TALLOC_CTX *ctx, int argc, char **argv);	//!< mudctl_show.c
extern char const mudctl_show_synopsis[];
extern char const mudctl_show_help[];

int		mudctl_cmd_enforce(TALLOC_CTX *ctx, int argc, char **argv); //!< mudctl_enforce.c
extern char const mudctl_enforce_synopsis[];
extern char const mudctl_enforce_help[];

int		mudctl_cmd_cache(TALLOC_CTX *ctx, int argc, char **argv);	//!< mudctl_cache.c
extern char const mudctl_cache_synopsis[];
extern char const mudctl_cache_help[];

#endif
