/*
 * mud_safe.c - directories and files the server trusts (the policy cache, the
 * incident spool), opened so that someone else who can write near them cannot
 * make the server follow a symbolic link, block on a FIFO or read a device:
 *
 *  - a directory must be a directory itself (not a symbolic link), owned by the
 *    effective uid, and not writable by group or others;
 *  - a file is looked at with lstat() and read only if it is a regular file,
 *    opened with O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, checked again with fstat()
 *    (same inode, still regular), bounded in size, and optionally owned by the
 *    effective uid with a single link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "mud_private.h"

/** strerror_r (GNU: config.h defines _GNU_SOURCE) as text. */
static char const *errno_text(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

/** What kind of file a mode is, for messages. */
static char const *file_kind(mode_t mode)
{
	if (S_ISLNK(mode)) return "a symbolic link";
	if (S_ISDIR(mode)) return "a directory";
	if (S_ISFIFO(mode)) return "a FIFO";
	if (S_ISCHR(mode)) return "a character device";
	if (S_ISBLK(mode)) return "a block device";
	if (S_ISSOCK(mode)) return "a socket";
	if (S_ISREG(mode)) return "a regular file";
	return "of an unknown type";
}

static mud_rcode_t io_fail(mud_error_t *err, char const *path, char const *what, int e)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	char ebuf[128];

	mudp_escape(where, sizeof(where), path, strlen(path));
	return mud_error_set(err, MUD_ERR_IO, where, "%s: %s", what, errno_text(e, ebuf,
										 sizeof(ebuf)));
}

/** Check a directory the server trusts (see mud.h). */
mud_rcode_t mud_safe_dir_check(char const *dir, char const *what, mud_error_t *err)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	struct stat st;
	uid_t euid = geteuid();

	if (!what) what = "directory";
	if (!dir || !*dir) return mud_error_set(err, MUD_ERR_ARG, what, "no directory given");
	mudp_escape(where, sizeof(where), dir, strlen(dir));
	if (lstat(dir, &st) != 0) return io_fail(err, dir, "stat", errno);
	if (S_ISLNK(st.st_mode)) {
		return mud_error_set(err, MUD_ERR_IO, where, "%s is a symbolic link; give the "
				     "directory itself", what);
	}
	if (!S_ISDIR(st.st_mode)) {
		return mud_error_set(err, MUD_ERR_IO, where, "%s is %s, not a directory", what,
				     file_kind(st.st_mode));
	}
	if (st.st_uid != euid) {
		return mud_error_set(err, MUD_ERR_IO, where, "%s is owned by uid %u, not by the "
				     "server's user (uid %u): chown it", what,
				     (unsigned int)st.st_uid, (unsigned int)euid);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		return mud_error_set(err, MUD_ERR_IO, where, "%s is writable by %s (mode %04o): "
				     "chmod go-w", what,
				     (st.st_mode & S_IWOTH) ? "others" : "its group",
				     (unsigned int)(st.st_mode & 07777));
	}
	if (access(dir, W_OK | X_OK) != 0) {
		char ebuf[128];

		return mud_error_set(err, MUD_ERR_IO, where, "%s is not writable: %s", what,
				     errno_text(errno, ebuf, sizeof(ebuf)));
	}
	return MUD_OK;
}

/** Read a file the server trusts (see mud.h). */
mud_rcode_t mud_safe_read(TALLOC_CTX *ctx, uint8_t **out, size_t *len, char const *path,
			  size_t max, unsigned int flags, mud_error_t *err)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	struct stat ls;
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	if (out) *out = NULL;
	if (len) *len = 0;
	if (!out || !len || !path || !*path) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_safe_read", "no path or output");
	}
	mudp_escape(where, sizeof(where), path, strlen(path));

	/* Look before opening: a FIFO, device or socket is never opened at all. */
	if (flags & MUD_SAFE_FOLLOW) {
		if (stat(path, &ls) != 0) return io_fail(err, path, "stat", errno);
	} else {
		if (lstat(path, &ls) != 0) return io_fail(err, path, "stat", errno);
	}
	if (!S_ISREG(ls.st_mode)) {
		return mud_error_set(err, MUD_ERR_IO, where, "%s, not a regular file",
				     file_kind(ls.st_mode));
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
		  ((flags & MUD_SAFE_FOLLOW) ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		if (errno == ELOOP) {
			return mud_error_set(err, MUD_ERR_IO, where,
					     "a symbolic link, not a regular file");
		}
		return io_fail(err, path, "open", errno);
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return io_fail(err, path, "fstat", e);
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != ls.st_dev || st.st_ino != ls.st_ino) {
		close(fd);
		return mud_error_set(err, MUD_ERR_IO, where, "replaced while opened");
	}
	if ((flags & MUD_SAFE_OWNED) && st.st_uid != geteuid()) {
		close(fd);
		return mud_error_set(err, MUD_ERR_IO, where, "owned by uid %u, not by the "
				     "server's user (uid %u)", (unsigned int)st.st_uid,
				     (unsigned int)geteuid());
	}
	if ((flags & MUD_SAFE_OWNED) && st.st_nlink != 1) {
		close(fd);
		return mud_error_set(err, MUD_ERR_IO, where, "has %lu hard links (a file of ours "
				     "has one)", (unsigned long)st.st_nlink);
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > (uint64_t)max) {
		close(fd);
		return mud_error_set(err, MUD_ERR_TOOBIG, where, "%lld bytes, more than %zu",
				     (long long)st.st_size, max);
	}
	buf = talloc_array(ctx, uint8_t, (size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return mud_error_set(err, MUD_ERR_NOMEM, where, "out of memory");
	}
	/* At most the size seen: a file that changes meanwhile is refused, never cut. */
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR) continue;
		if (r < 0) {
			int e = errno;

			close(fd);
			talloc_free(buf);
			return io_fail(err, path, "read", e);
		}
		if (r == 0) break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		talloc_free(buf);
		return mud_error_set(err, MUD_ERR_IO, where, "changed while read (%zu of %lld "
				     "bytes)", got, (long long)st.st_size);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return MUD_OK;
}

/** An HMAC key file (see mud_private.h). */
mud_rcode_t mudp_key_read(TALLOC_CTX *ctx, uint8_t **key, size_t *len, char const *path,
			  size_t min, size_t max, char const *what, mud_error_t *err)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	struct stat st;
	uint8_t *k = NULL;
	size_t n = 0;
	mud_rcode_t rc;

	*key = NULL;
	*len = 0;
	mudp_escape(where, sizeof(where), path, strlen(path));
	rc = mud_safe_read(ctx, &k, &n, path, max, MUD_SAFE_OWNED, err);
	if (rc != MUD_OK) return rc;
	if (stat(path, &st) != 0 || (st.st_mode & 077)) {
		talloc_free(k);
		return mud_error_set(err, MUD_ERR_IO, where, "%s must not be readable by group or "
				     "others (chmod 600)", what);
	}
	if (n < min) {
		talloc_free(k);
		return mud_error_set(err, MUD_ERR_IO, where, "%s holds %zu bytes, fewer than %zu",
				     what, n, min);
	}
	*key = k;
	*len = n;
	return MUD_OK;
}

/** Copy n lines into a NULL-terminated talloc array (see mud_private.h). */
char **mudp_lines_dup(TALLOC_CTX *ctx, char * const *src, size_t n, bool *ok)
{
	char **out;
	size_t i;

	out = talloc_zero_array(ctx, char *, n + 1);
	if (!out) {
		*ok = false;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		out[i] = talloc_strdup(out, src[i] ? src[i] : "");
		if (!out[i]) {
			*ok = false;
			return out;
		}
	}
	return out;
}
