/*
 * mud_spool.c - a bounded directory of pending IODEF reports, with
 * aggregation of repeats, atomic files and an HTTPS sender (libcurl).
 *
 * Files: <id>.xml, and <id>.xml.p7s when signing is configured. Names that
 * start with '.' are ours and in progress: ".tmp-*" (being written, removed
 * at open) and ".send-<name>" (claimed by a sender, put back at open).
 *
 * Locking: one mutex guards the counters and the aggregation table. Rendering,
 * signing, file writes and HTTP run outside it; an entry being rewritten is
 * marked "writing" so a concurrent repeat only bumps its count ("dirty") and
 * the writer renders again. The lock is held across I/O in one case only: the
 * directory rescan when a bound is reached (readdir + stat of at most the
 * bounded number of files), so that files removed by another process free room.
 *
 * Files are never trusted for being in the directory: the directory must be ours
 * (mud_safe_dir_check()), a name is looked at with lstat() before anything else,
 * and a document is read with mud_safe_read() (O_NOFOLLOW | O_NONBLOCK, regular
 * file owned by us with one link). A symbolic link, FIFO, device or directory
 * named like a report is skipped with a warning and never opened.
 *
 * Background writer (mud_spool_writer_start()): mud_spool_write() then only
 * copies the incident into its entry (the latest occurrence, strings cut to what
 * the renderer keeps), bumps the count and queues the entry; it never renders,
 * opens, writes or rescans. One thread takes queued entries in order and writes
 * them, at most flush_rate documents per second; repeats arriving meanwhile ride
 * on the next rewrite. Entries live until their window is over and they are
 * clean, so memory is bounded by max_files entries.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mud_private.h"

#define SPOOL_MAX_FILES_DEFAULT	1000
#define SPOOL_MAX_BYTES_DEFAULT	((size_t)64 * 1024 * 1024)
#define SPOOL_WINDOW_DEFAULT	3600
#define SPOOL_SEND_TRIES	3	//!< attempts per document and run
#define SPOOL_SEND_BACKOFF_MS	250	//!< first pause, doubled per attempt
#define SPOOL_SEND_MAX_LIST	100000	//!< documents looked at per run
#define SPOOL_KEY_MAX		(MUD_MAX_URL_LEN + 128)	//!< event | device | MUD URL
#define SPOOL_FLUSH_RATE_DEFAULT	10	//!< documents per second (background writer)
#define SPOOL_FLUSH_RATE_MAX	10000	//!< above this the pause is below the clock's use

/** The latest occurrence of an entry: the incident with its strings copied. */
typedef struct {
	mud_incident_t		inc;
	mud_incident_action_t	acts[MUD_IODEF_MAX_ACTIONS];
	time_t			now;	//!< spool clock of the occurrence (ReportTime)
} spool_copy_t;

/** One pending document that repeats may still update. */
typedef struct spool_entry {
	struct spool_entry	*next;
	char			key[SPOOL_KEY_MAX];
	char			id[MUD_IODEF_ID_SIZE];
	time_t			opened;		//!< spool clock when the document was created
	time_t			first_seen;	//!< incident times reported
	time_t			last_seen;
	uint64_t		count;
	uint64_t		dropped;	//!< drop count this document reports
	size_t			bytes;		//!< on disk (xml + p7s)
	size_t			files;		//!< on disk (1 or 2)
	bool			writing;	//!< a writer owns the files
	bool			dirty;		//!< updated, not yet written
	bool			queued;		//!< on the writer's queue
	bool			on_disk;	//!< a version was written
	spool_copy_t		*latest;	//!< what the next rewrite renders (talloc child)
	struct spool_entry	*qnext;		//!< writer queue
} spool_entry_t;

struct mud_spool {
	char			*dir;
	size_t			max_files;
	size_t			max_bytes;
	unsigned int		window;
	pthread_mutex_t		mutex;
	bool			mutex_ok;
	spool_entry_t		*entries;	//!< talloc children of the spool
	size_t			files;		//!< files in the directory (ours)
	size_t			bytes;
	uint64_t		dropped;	//!< dropped since the last new document
	mud_log_t		log;		//!< where skipped files are reported (may be NULL)
	void			*log_uctx;

	/* Background writer. */
	mud_iodef_config_t const *config;	//!< set: mud_spool_write() only records
	unsigned int		flush_rate;
	pthread_cond_t		cond;		//!< queue non-empty, or stop (CLOCK_MONOTONIC)
	bool			cond_ok;
	pthread_t		thread;
	bool			running;
	bool			stop;
	bool			recount;	//!< a request found the spool full: recount it
	spool_entry_t		*qhead;
	spool_entry_t		*qtail;
	mud_spool_stats_t	stats;
};

static mud_rcode_t spool_flush_all(mud_spool_t *spool, mud_error_t *err);

static int _spool_free(mud_spool_t *spool)
{
	if (spool->running) {
		pthread_mutex_lock(&spool->mutex);
		spool->stop = true;
		pthread_cond_broadcast(&spool->cond);
		pthread_mutex_unlock(&spool->mutex);
		pthread_join(spool->thread, NULL);
		spool->running = false;
	}
	if (spool->config && spool->mutex_ok) (void)spool_flush_all(spool, NULL);
	if (spool->cond_ok) pthread_cond_destroy(&spool->cond);
	spool->cond_ok = false;
	if (spool->mutex_ok) pthread_mutex_destroy(&spool->mutex);
	spool->mutex_ok = false;
	return 0;
}

static void errno_text(char *buf, size_t len, int e)
{
	char const *s;
	char tmp[128];

#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	s = strerror_r(e, tmp, sizeof(tmp));
#else
	s = (strerror_r(e, tmp, sizeof(tmp)) == 0) ? tmp : "unknown error";
#endif
	mudp_strlcpy(buf, s ? s : "unknown error", len);
}

static mud_rcode_t io_error(mud_error_t *err, char const *what, char const *path, int e)
{
	char et[96];
	char esc[128];

	errno_text(et, sizeof(et), e);
	mudp_escape(esc, sizeof(esc), path, strlen(path));
	return mud_error_set(err, MUD_ERR_IO, esc, "%s: %s", what, et);
}

/** Report a file named like a report that is not one of ours (skipped, left in place). */
static void spool_skip(mud_spool_t const *spool, char const *name, char const *why)
{
	char esc[128];
	char wesc[160];

	if (!spool->log) return;
	mudp_escape(esc, sizeof(esc), name, strlen(name));
	mudp_escape(wesc, sizeof(wesc), why, strlen(why));
	spool->log(spool->log_uctx, MUD_LOG_WARN, "spool %s: %s skipped: %s", spool->dir, esc,
		   wesc);
}

/** What kind of non-regular file a mode is. */
static char const *spool_kind(mode_t mode)
{
	if (S_ISLNK(mode)) return "a symbolic link";
	if (S_ISFIFO(mode)) return "a FIFO";
	if (S_ISDIR(mode)) return "a directory";
	if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
	if (S_ISSOCK(mode)) return "a socket";
	return "not a regular file";
}

/** A spool file name: "<id>.xml" or "<id>.xml.p7s" with a plain id. */
static bool spool_name_ok(char const *name, bool *is_sig)
{
	size_t n = strlen(name);
	size_t base;
	size_t i;

	if (n > 8 && strcmp(name + n - 8, ".xml.p7s") == 0) {
		base = n - 8;
		*is_sig = true;
	} else if (n > 8 && strcmp(name + n - 8, ".xml.p7m") == 0) {
		base = n - 8;	/* sealed document (signed and encrypted) */
		*is_sig = false;
	} else if (n > 4 && strcmp(name + n - 4, ".xml") == 0) {
		base = n - 4;
		*is_sig = false;
	} else {
		return false;
	}
	if (base == 0 || base >= MUD_IODEF_ID_SIZE) return false;
	for (i = 0; i < base; i++) {
		char c = name[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_')) return false;
	}
	return true;
}

/** Count our files and bytes; with cleanup, also remove temp files and put back
 *  claimed ones (a previous run died). Caller holds the lock (or has no threads yet). */
static mud_rcode_t spool_scan(mud_spool_t *spool, bool cleanup, mud_error_t *err)
{
	DIR *d;
	struct dirent *de;
	size_t files = 0;
	size_t bytes = 0;

	d = opendir(spool->dir);
	if (!d) return io_error(err, "cannot open spool directory", spool->dir, errno);
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat sb;
		bool is_sig;

		if (cleanup && strncmp(de->d_name, ".tmp-", 5) == 0) {
			snprintf(path, sizeof(path), "%s/%s", spool->dir, de->d_name);
			(void)unlink(path);
			continue;
		}
		if (cleanup && strncmp(de->d_name, ".send-", 6) == 0 &&
		    spool_name_ok(de->d_name + 6, &is_sig)) {
			char orig[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", spool->dir, de->d_name);
			snprintf(orig, sizeof(orig), "%s/%s", spool->dir, de->d_name + 6);
			if (link(path, orig) == 0 || errno == EEXIST) (void)unlink(path);
			continue;
		}
		if (!spool_name_ok(de->d_name, &is_sig)) continue;
		snprintf(path, sizeof(path), "%s/%s", spool->dir, de->d_name);
		/* lstat: a link is not followed, a FIFO or device is not opened */
		if (lstat(path, &sb) != 0) continue;
		if (!S_ISREG(sb.st_mode)) {
			if (cleanup) spool_skip(spool, de->d_name, spool_kind(sb.st_mode));
			continue;
		}
		files++;
		bytes += (size_t)sb.st_size;
	}
	closedir(d);
	spool->files = files;
	spool->bytes = bytes;
	return MUD_OK;
}

/** Open a spool (see mud.h). */
mud_rcode_t mud_spool_open(TALLOC_CTX *ctx, mud_spool_t **out, char const *dir,
			   mud_spool_opts_t const *opts, mud_error_t *err)
{
	mud_spool_t *spool;
	mud_rcode_t rc;

	if (out) *out = NULL;
	if (!out || !dir || !*dir) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_spool_open", "no directory");
	}
	if (strlen(dir) > PATH_MAX - 128) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_spool_open", "directory path too long");
	}
	/* Ours alone: not a link, owned by us, not writable by group or others. */
	rc = mud_safe_dir_check(dir, "spool directory", err);
	if (rc != MUD_OK) return rc;

	spool = talloc_zero(ctx, mud_spool_t);
	if (!spool) return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_open", "out of memory");
	spool->dir = talloc_strdup(spool, dir);
	if (!spool->dir) {
		talloc_free(spool);
		return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_open", "out of memory");
	}
	spool->max_files = (opts && opts->max_files) ? opts->max_files : SPOOL_MAX_FILES_DEFAULT;
	spool->max_bytes = (opts && opts->max_bytes) ? opts->max_bytes : SPOOL_MAX_BYTES_DEFAULT;
	spool->window = (opts && opts->window) ? opts->window : SPOOL_WINDOW_DEFAULT;
	spool->log = opts ? opts->log : NULL;
	spool->log_uctx = opts ? opts->log_uctx : NULL;
	spool->flush_rate = (opts && opts->flush_rate) ? opts->flush_rate :
			    SPOOL_FLUSH_RATE_DEFAULT;
	if (spool->flush_rate > SPOOL_FLUSH_RATE_MAX) spool->flush_rate = SPOOL_FLUSH_RATE_MAX;
	if (pthread_mutex_init(&spool->mutex, NULL) != 0) {
		talloc_free(spool);
		return mud_error_set(err, MUD_ERR_NOMEM, "pthread_mutex_init", "failed");
	}
	spool->mutex_ok = true;
	talloc_set_destructor(spool, _spool_free);
	{
		pthread_condattr_t ca;
		bool ok = pthread_condattr_init(&ca) == 0;

		ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		     pthread_cond_init(&spool->cond, &ca) == 0;
		pthread_condattr_destroy(&ca);
		if (!ok) {
			talloc_free(spool);
			return mud_error_set(err, MUD_ERR_NOMEM, "pthread_cond_init", "failed");
		}
		spool->cond_ok = true;
	}

	rc = spool_scan(spool, true, err);
	if (rc != MUD_OK) {
		talloc_free(spool);
		return rc;
	}
	*out = spool;
	return MUD_OK;
}

/** Write data to dir/name atomically: temp file, fsync, rename, fsync of the directory. */
static mud_rcode_t spool_put(mud_spool_t const *spool, char const *name, void const *data,
			     size_t len, mud_error_t *err)
{
	char tmp[PATH_MAX];
	char path[PATH_MAX];
	uint8_t const *p = data;
	size_t done = 0;
	int fd;
	int dfd;

	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", spool->dir);
	snprintf(path, sizeof(path), "%s/%s", spool->dir, name);
	fd = mkstemp(tmp);	/* mode 0600: reports are restricted (TLP) */
	if (fd < 0) return io_error(err, "cannot create temporary file", tmp, errno);
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			close(fd);
			unlink(tmp);
			return io_error(err, "write failed", tmp, e);
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return io_error(err, "fsync failed", tmp, e);
	}
	if (close(fd) != 0) {
		int e = errno;

		unlink(tmp);
		return io_error(err, "close failed", tmp, e);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return io_error(err, "rename failed", path, e);
	}
	dfd = open(spool->dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return MUD_OK;
}

/** Aggregation key: event, device (MAC, else IP), MUD URL. */
static void spool_key(char *key, size_t len, mud_incident_t const *inc)
{
	char const *dev = (inc->mac && *inc->mac) ? inc->mac : (inc->ip ? inc->ip : "");
	char const *url = inc->mud_url ? inc->mud_url : "";

	snprintf(key, len, "%d|%.64s|%.*s", (int)inc->event, dev, MUD_MAX_URL_LEN, url);
}

/** Documents one incident takes on disk: sealed 1, signed 2, else 1. */
static size_t spool_need(mud_iodef_config_t const *config)
{
	if (config->encrypt) return 1;
	return (config->sign_key && config->sign_cert) ? 2 : 1;
}

static void spool_unlink_entry(mud_spool_t *spool, spool_entry_t *e)
{
	spool_entry_t **pp;

	for (pp = &spool->entries; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			talloc_free(e);
			return;
		}
	}
}

/** Forget entries whose window is over (their documents stay for the sender); never one
 *  that is being written or still has an unwritten update. */
static void spool_prune(mud_spool_t *spool, time_t now)
{
	spool_entry_t **pp = &spool->entries;

	while (*pp) {
		spool_entry_t *e = *pp;

		if (!e->writing && !e->dirty && !e->queued &&
		    now - e->opened >= (time_t)spool->window) {
			*pp = e->next;
			talloc_free(e);
			continue;
		}
		pp = &e->next;
	}
}

/** A string cut to what the renderer keeps (plus room for the character at the cut). */
static char const *copy_str(TALLOC_CTX *ctx, char const *s, size_t max, bool *oom)
{
	char *c;

	if (!s) return NULL;
	c = talloc_strndup(ctx, s, max + 8);
	if (!c) *oom = true;
	return c;
}

/** Copy an occurrence (outside the lock: a standalone talloc tree). */
static spool_copy_t *spool_copy(mud_incident_t const *in, time_t now)
{
	spool_copy_t *c = talloc_zero(NULL, spool_copy_t);
	mud_incident_t *o;
	bool oom = false;
	size_t i;

	if (!c) return NULL;
	o = &c->inc;
	*o = *in;
	c->now = now;
	o->id = NULL;
	o->mac = copy_str(c, in->mac, 64, &oom);
	o->ip = copy_str(c, in->ip, 64, &oom);
	o->ip6 = copy_str(c, in->ip6, 64, &oom);
	o->nas_ip = copy_str(c, in->nas_ip, 64, &oom);
	o->nas_port = copy_str(c, in->nas_port, 256, &oom);
	o->nas_id = copy_str(c, in->nas_id, 256, &oom);
	o->user_name = copy_str(c, in->user_name, 256, &oom);
	o->mud_url = copy_str(c, in->mud_url, MUD_IODEF_MAX_FIELD, &oom);
	o->other_url = copy_str(c, in->other_url, MUD_IODEF_MAX_FIELD, &oom);
	o->server_url = copy_str(c, in->server_url, MUD_IODEF_MAX_FIELD, &oom);
	o->sig_url = copy_str(c, in->sig_url, MUD_IODEF_MAX_FIELD, &oom);
	o->server_ip = copy_str(c, in->server_ip, 64, &oom);
	o->server_cert_pem = copy_str(c, in->server_cert_pem, MUD_IODEF_MAX_PEM, &oom);
	o->file_sha256 = copy_str(c, in->file_sha256, 64, &oom);
	o->sig_sha256 = copy_str(c, in->sig_sha256, 64, &oom);
	o->where = copy_str(c, in->where, MUD_IODEF_MAX_FIELD, &oom);
	o->text = copy_str(c, in->text, MUD_IODEF_MAX_FIELD, &oom);
	/* More actions than the renderer takes: keep the count so it still refuses them. */
	o->actions = in->num_actions ? c->acts : NULL;
	for (i = 0; i < in->num_actions && i < MUD_IODEF_MAX_ACTIONS && in->actions; i++) {
		c->acts[i] = in->actions[i];
		c->acts[i].text = copy_str(c, in->actions[i].text, 1024, &oom);
	}
	if (in->num_actions && !in->actions) o->actions = NULL;
	if (oom) {
		talloc_free(c);
		return NULL;
	}
	return c;
}

/** Render, sign or seal one version of an entry's document and write it. */
static mud_rcode_t spool_emit(mud_spool_t *spool, mud_incident_t const *base,
			      mud_iodef_config_t const *config, time_t now, char const *id,
			      uint64_t count, time_t first, time_t last, uint64_t dropped,
			      size_t *bytes, size_t *files, bool reserve_check, mud_error_t *err)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	mud_incident_t inc = *base;
	char name[MUD_IODEF_ID_SIZE + 16];
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	char *xml;
	size_t len;
	size_t total;
	mud_rcode_t rc;

	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_write", "out of memory");
	inc.id = id;
	inc.count = count;
	inc.first_seen = first;
	inc.last_seen = last;
	inc.dropped = dropped;
	inc.reported = now;
	if (!inc.time) inc.time = last;

	rc = mud_iodef_render(tmp, &xml, &len, &inc, config, err);
	if (rc != MUD_OK) goto done;
	if (config->encrypt) {
		/* Sign (if configured), then encrypt: no plaintext reaches the disk. */
		rc = mud_iodef_seal(tmp, &sealed, &sealed_len, xml, len, config, err);
		if (rc != MUD_OK) goto done;
	} else if (config->sign_key && config->sign_cert) {
		rc = mud_iodef_sign(tmp, &sig, &sig_len, xml, len, config->sign_key,
				    config->sign_cert, err);
		if (rc != MUD_OK) goto done;
	}
	total = sealed ? sealed_len : len + sig_len;
	if (reserve_check) {
		bool over;

		pthread_mutex_lock(&spool->mutex);
		over = spool->bytes + total > spool->max_bytes;
		if (over) {
			(void)spool_scan(spool, false, NULL);
			over = spool->bytes + total > spool->max_bytes;
		}
		if (!over) spool->bytes += total;	/* reserved */
		pthread_mutex_unlock(&spool->mutex);
		if (over) {
			rc = mud_error_set(err, MUD_ERR_LIMIT, spool->dir,
					   "spool holds %zu bytes, at most %zu: incident dropped",
					   spool->bytes, spool->max_bytes);
			goto done;
		}
	}
	if (sealed) {
		snprintf(name, sizeof(name), "%s.xml.p7m", id);
		rc = spool_put(spool, name, sealed, sealed_len, err);
		if (rc != MUD_OK) goto unreserve;
		*bytes = sealed_len;
		*files = 1;
		goto done;
	}
	/* The signature first, so a document is never seen without its signature. */
	if (sig) {
		snprintf(name, sizeof(name), "%s.xml.p7s", id);
		rc = spool_put(spool, name, sig, sig_len, err);
		if (rc != MUD_OK) goto unreserve;
	}
	snprintf(name, sizeof(name), "%s.xml", id);
	rc = spool_put(spool, name, xml, len, err);
	if (rc != MUD_OK) {
		if (sig) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s.xml.p7s", spool->dir, id);
			(void)unlink(path);
		}
		goto unreserve;
	}
	*bytes = len + sig_len;
	*files = sig ? 2 : 1;
	goto done;

unreserve:
	if (reserve_check) {
		pthread_mutex_lock(&spool->mutex);
		spool->bytes -= (spool->bytes >= total) ? total : spool->bytes;
		pthread_mutex_unlock(&spool->mutex);
	}
done:
	talloc_free(tmp);
	return rc;
}

/** Put an entry on the writer's queue (lock held). */
static void spool_enqueue(mud_spool_t *spool, spool_entry_t *e)
{
	if (e->queued || e->writing) return;
	e->queued = true;
	e->qnext = NULL;
	if (spool->qtail) {
		spool->qtail->qnext = e;
	} else {
		spool->qhead = e;
	}
	spool->qtail = e;
	pthread_cond_signal(&spool->cond);
}

/** Write an entry's latest version until no repeat came in meanwhile (lock held on entry
 *  and exit, released for the I/O). With requeue (the background writer), a repeat that
 *  came in while writing queues the entry again instead of being written at once.
 *  @return MUD_OK or the write error; e may be gone afterwards (a new entry that failed). */
static mud_rcode_t spool_flush_entry(mud_spool_t *spool, spool_entry_t *e,
				     mud_iodef_config_t const *config, bool requeue,
				     mud_spool_status_t *st, mud_error_t *err)
{
	size_t need = spool_need(config);
	mud_rcode_t rc = MUD_OK;

	e->writing = true;
	while (e->dirty && e->latest) {
		char id[MUD_IODEF_ID_SIZE];
		spool_copy_t *c = e->latest;
		uint64_t count = e->count;
		time_t first = e->first_seen;
		time_t last = e->last_seen;
		uint64_t dropped = e->dropped;
		size_t bytes = 0;
		size_t files = 0;
		bool fresh = !e->on_disk;

		mudp_strlcpy(id, e->id, sizeof(id));
		e->dirty = false;
		e->latest = NULL;
		(void)talloc_steal(NULL, c);	/* the writer owns this version now */
		pthread_mutex_unlock(&spool->mutex);

		rc = spool_emit(spool, &c->inc, config, c->now, id, count, first, last, dropped,
				&bytes, &files, fresh, err);

		pthread_mutex_lock(&spool->mutex);
		if (rc != MUD_OK) {
			pthread_cond_broadcast(&spool->cond);	/* as below */
			spool->stats.write_errors++;
			talloc_free(c);	/* a later repeat brings a new version */
			e->writing = false;
			if (fresh) {
				spool->files -= (spool->files >= need) ? need : spool->files;
				spool->dropped += e->dropped + e->count;
				if (st) st->dropped = (rc == MUD_ERR_LIMIT);
				spool_unlink_entry(spool, e);	/* never queued while writing */
			}
			return rc;
		}
		talloc_free(c);
		spool->stats.written++;
		if (fresh) {
			/* bytes were reserved in spool_emit, files when the entry was made */
			e->on_disk = true;
		} else {
			spool->bytes -= (spool->bytes >= e->bytes) ? e->bytes : spool->bytes;
			spool->bytes += bytes;
			spool->files -= (spool->files >= e->files) ? e->files : spool->files;
			spool->files += files;
		}
		e->bytes = bytes;
		e->files = files;
		if (st) st->count = count;
		if (requeue) break;
	}
	e->writing = false;
	pthread_cond_broadcast(&spool->cond);	/* mud_spool_flush() may wait for this one */
	if (requeue && e->dirty) spool_enqueue(spool, e);
	return rc;
}

/** Write every queued entry now (the caller's thread). */
static mud_rcode_t spool_flush_all(mud_spool_t *spool, mud_error_t *err)
{
	mud_rcode_t first = MUD_OK;

	pthread_mutex_lock(&spool->mutex);
	for (;;) {
		spool_entry_t *e = spool->qhead;
		mud_rcode_t rc;

		if (!e) {
			/* The writer thread may hold one document: wait until it is on disk. */
			for (e = spool->entries; e; e = e->next) {
				if (e->writing) break;
			}
			if (!e) break;
			pthread_cond_wait(&spool->cond, &spool->mutex);
			continue;
		}
		spool->qhead = e->qnext;
		if (!spool->qhead) spool->qtail = NULL;
		e->queued = false;
		if (e->writing) continue;	/* its writer writes the update */
		rc = spool_flush_entry(spool, e, spool->config, false, NULL, err);
		if (rc != MUD_OK && first == MUD_OK) first = rc;
	}
	pthread_mutex_unlock(&spool->mutex);
	return first;
}

/** Write every dirty document now (see mud.h). */
mud_rcode_t mud_spool_flush(mud_spool_t *spool, mud_error_t *err)
{
	if (!spool) return mud_error_set(err, MUD_ERR_ARG, "mud_spool_flush", "NULL argument");
	if (!spool->config) return MUD_OK;	/* without the writer nothing is left dirty */
	return spool_flush_all(spool, err);
}

static void spool_deadline(struct timespec *ts, long ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += ns;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_nsec -= 1000000000L;
		ts->tv_sec++;
	}
}

/** Count our documents again (a sender in another process removes them), for the writer:
 *  the directory is read without the lock, so a recording request never waits for it.
 *  Entries not yet on disk keep their reservation. */
static void spool_recount(mud_spool_t *spool)
{
	DIR *d = opendir(spool->dir);
	struct dirent *de;
	spool_entry_t *e;
	size_t files = 0;
	size_t bytes = 0;

	if (!d) return;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat sb;
		bool is_sig;

		if (!spool_name_ok(de->d_name, &is_sig)) continue;
		snprintf(path, sizeof(path), "%s/%s", spool->dir, de->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
		files++;
		bytes += (size_t)sb.st_size;
	}
	closedir(d);
	pthread_mutex_lock(&spool->mutex);
	for (e = spool->entries; e; e = e->next) {
		if (!e->on_disk) files += spool_need(spool->config);
	}
	spool->files = files;
	spool->bytes = bytes;
	pthread_mutex_unlock(&spool->mutex);
}

/** The background writer: one queued entry at a time, then a pause of 1/flush_rate s; a
 *  recount of the directory when a request found the spool full (at most once a second). */
static void *spool_writer(void *arg)
{
	mud_spool_t *spool = arg;
	long pause_ns = 1000000000L / (long)spool->flush_rate;
	struct timespec last = { 0, 0 };

	(void)prctl(PR_SET_NAME, "mud-iodef", 0, 0, 0);	/* thread name: ps, top, the tests */
	pthread_mutex_lock(&spool->mutex);
	while (!spool->stop) {
		spool_entry_t *e = spool->qhead;
		struct timespec until;

		if (spool->recount) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (last.tv_sec == 0 || now.tv_sec - last.tv_sec >= 1) {
				spool->recount = false;
				last = now;
				pthread_mutex_unlock(&spool->mutex);
				spool_recount(spool);
				pthread_mutex_lock(&spool->mutex);
				continue;
			}
			if (!e) {
				/* too soon: wait for the second to pass (or work) */
				until = last;
				until.tv_sec += 1;
				(void)pthread_cond_timedwait(&spool->cond, &spool->mutex, &until);
				continue;
			}
		}
		if (!e) {
			pthread_cond_wait(&spool->cond, &spool->mutex);
			continue;
		}
		spool->qhead = e->qnext;
		if (!spool->qhead) spool->qtail = NULL;
		e->queued = false;
		if (e->writing) continue;
		(void)spool_flush_entry(spool, e, spool->config, true, NULL, NULL);

		/* The bound on the rate: sleep (woken early only to stop). */
		spool_deadline(&until, pause_ns);
		while (!spool->stop &&
		       pthread_cond_timedwait(&spool->cond, &spool->mutex, &until) != ETIMEDOUT) {
			/* a new entry was queued: it waits for its turn */
		}
	}
	pthread_mutex_unlock(&spool->mutex);
	return NULL;
}

/** Move writing off the callers' threads (see mud.h). */
mud_rcode_t mud_spool_writer_start(mud_spool_t *spool, mud_iodef_config_t const *config,
				   mud_error_t *err)
{
	if (!spool || !config) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_spool_writer_start", "NULL argument");
	}
	pthread_mutex_lock(&spool->mutex);
	spool->config = config;
	pthread_mutex_unlock(&spool->mutex);
	return MUD_OK;
}

/** Copy the writer statistics (see mud.h). */
void mud_spool_stats(mud_spool_t *spool, mud_spool_stats_t *stats)
{
	if (!stats) return;
	memset(stats, 0, sizeof(*stats));
	if (!spool) return;
	pthread_mutex_lock(&spool->mutex);
	*stats = spool->stats;
	pthread_mutex_unlock(&spool->mutex);
}

/** Spool one incident (see mud.h). */
mud_rcode_t mud_spool_write(mud_spool_t *spool, mud_incident_t const *incident,
			    mud_iodef_config_t const *config, time_t now,
			    mud_spool_status_t *status, mud_error_t *err)
{
	spool_entry_t *e;
	spool_copy_t *c;
	mud_spool_status_t st;
	char key[SPOOL_KEY_MAX];
	time_t when;
	size_t need;
	bool background;
	mud_rcode_t rc;

	memset(&st, 0, sizeof(st));
	if (status) *status = st;
	if (!spool || !incident || !config) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_spool_write", "NULL argument");
	}
	if (!now) now = time(NULL);
	when = incident->time ? incident->time : now;
	need = spool_need(config);
	spool_key(key, sizeof(key), incident);

	/* The copy is made before the lock (allocation only; no I/O). */
	c = spool_copy(incident, now);
	if (!c) return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_write", "out of memory");

	pthread_mutex_lock(&spool->mutex);
	background = (spool->config != NULL);
	if (background) config = spool->config;
	if (background && !spool->running && !spool->stop &&
	    pthread_create(&spool->thread, NULL, spool_writer, spool) == 0) {
		spool->running = true;
	}
	spool_prune(spool, now);
	for (e = spool->entries; e; e = e->next) {
		if (strcmp(e->key, key) == 0) break;
	}
	if (e) {
		e->count++;
		if (when > e->last_seen) e->last_seen = when;
		if (when < e->first_seen) e->first_seen = when;
		if (e->dirty || e->writing) spool->stats.coalesced++;
		talloc_free(e->latest);
		e->latest = talloc_steal(e, c);
		e->dirty = true;
		st.aggregated = true;
		st.count = e->count;
		mudp_strlcpy(st.id, e->id, sizeof(st.id));
	} else {
		bool full = spool->files + need > spool->max_files ||
			    spool->bytes >= spool->max_bytes;

		if (full && !background) {
			(void)spool_scan(spool, false, NULL);
			full = spool->files + need > spool->max_files ||
			       spool->bytes >= spool->max_bytes;
		}
		if (full) {
			if (background) {
				/* The writer recounts (a sender may have made room); not here. */
				spool->recount = true;
				pthread_cond_signal(&spool->cond);
			}
			spool->dropped++;
			pthread_mutex_unlock(&spool->mutex);
			talloc_free(c);
			st.dropped = true;
			if (status) *status = st;
			return mud_error_set(err, MUD_ERR_LIMIT, spool->dir,
					     "spool full (%zu files, %zu bytes; at most %zu, %zu): "
					     "incident dropped", spool->files, spool->bytes,
					     spool->max_files, spool->max_bytes);
		}
		e = talloc_zero(spool, spool_entry_t);
		if (!e) {
			spool->dropped++;
			pthread_mutex_unlock(&spool->mutex);
			talloc_free(c);
			return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_write",
					     "out of memory");
		}
		rc = mud_iodef_id(e->id, now, err);
		if (rc != MUD_OK) {
			talloc_free(e);
			spool->dropped++;
			pthread_mutex_unlock(&spool->mutex);
			talloc_free(c);
			return rc;
		}
		mudp_strlcpy(e->key, key, sizeof(e->key));
		e->opened = now;
		e->first_seen = when;
		e->last_seen = when;
		e->count = 1;
		e->dropped = spool->dropped;
		e->latest = talloc_steal(e, c);
		e->dirty = true;
		spool->dropped = 0;
		spool->files += need;	/* reserved */
		e->next = spool->entries;
		spool->entries = e;
		st.count = 1;
		mudp_strlcpy(st.id, e->id, sizeof(st.id));
	}
	spool->stats.recorded++;

	if (background && spool->running) {
		/* The request path ends here: no rendering, no file, no rescan. */
		spool_enqueue(spool, e);
		pthread_mutex_unlock(&spool->mutex);
		if (status) *status = st;
		return MUD_OK;
	}
	if (e->writing) {
		/* The writer in progress renders again with this count. */
		pthread_mutex_unlock(&spool->mutex);
		if (status) *status = st;
		return MUD_OK;
	}
	rc = spool_flush_entry(spool, e, config, false, &st, err);
	pthread_mutex_unlock(&spool->mutex);
	if (status) *status = st;
	return rc;
}

/*
 *	Sender
 */

static int name_cmp(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *uctx)
{
	return size * nmemb;
}

/** Read a whole claimed file (bounded): a regular file of ours with one link, never a link,
 *  FIFO or device (mud_safe_read()). *skip: refused for what it is (MUD_ERR_IO), not for an
 *  error worth reporting. */
static mud_rcode_t slurp(TALLOC_CTX *ctx, char const *path, uint8_t **out, size_t *len, size_t max,
			 bool *skip, mud_error_t *err)
{
	mud_rcode_t rc;

	rc = mud_safe_read(ctx, out, len, path, max, MUD_SAFE_OWNED, err);
	*skip = rc == MUD_ERR_IO;
	return rc;
}

/** Map a curl failure; *transport says the receiver could not be reached. */
static mud_rcode_t post_rcode(CURLcode cc, bool *transport)
{
	*transport = true;
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return MUD_ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return MUD_ERR_TLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return MUD_ERR_URL;
	case CURLE_OUT_OF_MEMORY:
		return MUD_ERR_NOMEM;
	default:
		return MUD_ERR_FETCH;
	}
}

/** Media type of a sealed report (RFC 8551): the envelope's content type OID is near the
 *  start of the DER (ContentInfo SEQUENCE, OID). */
static char const *sealed_ctype(uint8_t const *der, size_t len)
{
	static uint8_t const auth_oid[] = {	/* 1.2.840.113549.1.9.16.1.23 */
		0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17
	};
	size_t i;

	for (i = 0; i + sizeof(auth_oid) <= len && i < 16; i++) {
		if (memcmp(der + i, auth_oid, sizeof(auth_oid)) == 0) {
			return "application/pkcs7-mime; smime-type=authEnveloped-data";
		}
	}
	return "application/pkcs7-mime; smime-type=enveloped-data";
}

/** One POST. @return MUD_OK on 2xx. */
static mud_rcode_t post_once(char const *url, char const *ca_file, char const *client_cert,
			     char const *client_key, long timeout_ms, uint8_t const *xml,
			     size_t xml_len, uint8_t const *sig, size_t sig_len, char const *id,
			     char const *ctype, bool *transport, mud_error_t *err)
{
	char ebuf[CURL_ERROR_SIZE];
	char fname[MUD_IODEF_ID_SIZE + 16];
	char hdr[128];
	struct curl_slist *hdrs = NULL;
	curl_mime *mime = NULL;
	CURL *h;
	CURLcode cc = CURLE_OK;
	long status = 0;
	mud_rcode_t rc;

	*transport = false;
	ebuf[0] = '\0';
	h = curl_easy_init();
	if (!h) return mud_error_set(err, MUD_ERR_NOMEM, "curl_easy_init", "failed");

#define POST_SETOPT(_o, _v) do { if (cc == CURLE_OK) cc = curl_easy_setopt(h, _o, _v); } while (0)
	POST_SETOPT(CURLOPT_ERRORBUFFER, ebuf);
	POST_SETOPT(CURLOPT_URL, url);
	POST_SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	POST_SETOPT(CURLOPT_NOSIGNAL, 1L);
	POST_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	POST_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	POST_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	POST_SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
	POST_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	POST_SETOPT(CURLOPT_WRITEFUNCTION, discard_body);
	POST_SETOPT(CURLOPT_USERAGENT, "rlm_mud-iodef");
	if (ca_file) POST_SETOPT(CURLOPT_CAINFO, ca_file);
	if (client_cert) POST_SETOPT(CURLOPT_SSLCERT, client_cert);
	if (client_key) POST_SETOPT(CURLOPT_SSLKEY, client_key);
	if (!sig) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(NULL, hdr);
		if (!hdrs) cc = CURLE_OUT_OF_MEMORY;
		POST_SETOPT(CURLOPT_HTTPHEADER, hdrs);
		POST_SETOPT(CURLOPT_POSTFIELDS, (char const *)xml);
		POST_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)xml_len);
	} else {
		curl_mimepart *part;

		mime = curl_mime_init(h);
		if (!mime) cc = CURLE_OUT_OF_MEMORY;
		if (cc == CURLE_OK) {
			part = curl_mime_addpart(mime);
			snprintf(fname, sizeof(fname), "%s.xml", id);
			if (!part || curl_mime_name(part, "document") != CURLE_OK ||
			    curl_mime_filename(part, fname) != CURLE_OK ||
			    curl_mime_type(part, "application/xml") != CURLE_OK ||
			    curl_mime_data(part, (char const *)xml, xml_len) != CURLE_OK) {
				cc = CURLE_OUT_OF_MEMORY;
			}
		}
		if (cc == CURLE_OK) {
			part = curl_mime_addpart(mime);
			snprintf(fname, sizeof(fname), "%s.xml.p7s", id);
			if (!part || curl_mime_name(part, "signature") != CURLE_OK ||
			    curl_mime_filename(part, fname) != CURLE_OK ||
			    curl_mime_type(part, "application/pkcs7-signature") != CURLE_OK ||
			    curl_mime_data(part, (char const *)sig, sig_len) != CURLE_OK) {
				cc = CURLE_OUT_OF_MEMORY;
			}
		}
		POST_SETOPT(CURLOPT_MIMEPOST, mime);
	}
#undef POST_SETOPT
	if (cc != CURLE_OK) {
		rc = mud_error_set(err, cc == CURLE_OUT_OF_MEMORY ? MUD_ERR_NOMEM : MUD_ERR_FETCH,
				   "curl_easy_setopt", "%s", curl_easy_strerror(cc));
		goto done;
	}

	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		char esc[128];

		mudp_escape(esc, sizeof(esc), url, strlen(url));
		rc = mud_error_set(err, post_rcode(cc, transport), esc, "%s",
				   ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		char where[32];

		snprintf(where, sizeof(where), "HTTP %ld", status);
		*transport = (status >= 500);	/* retried like a transport failure */
		rc = mud_error_set(err, MUD_ERR_HTTP, where, "receiver refused report %s", id);
		goto done;
	}
	rc = MUD_OK;

done:
	curl_mime_free(mime);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		/* continue the remaining time */
	}
}

/** Put a claimed file back (a newer version written meanwhile wins). */
static void unclaim(char const *claimed, char const *orig)
{
	if (link(claimed, orig) == 0 || errno == EEXIST) (void)unlink(claimed);
}

/** Send every spooled document (see mud.h). */
mud_rcode_t mud_spool_send(mud_spool_t *spool, char const *url, char const *ca_file,
			   char const *client_cert, char const *client_key, long timeout_ms,
			   size_t *sent, size_t *kept, mud_error_t *err)
{
	TALLOC_CTX *tmp;
	char **names = NULL;
	size_t num = 0;
	size_t cap = 0;
	size_t n_sent = 0;
	size_t n_kept = 0;
	mud_rcode_t first = MUD_OK;
	bool stop = false;
	DIR *d;
	struct dirent *de;
	size_t i;

	if (sent) *sent = 0;
	if (kept) *kept = 0;
	if (!spool || !url) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_spool_send", "NULL argument");
	}
	if (strncasecmp(url, "https://", 8) != 0) {
		char esc[128];

		mudp_escape(esc, sizeof(esc), url, strlen(url));
		return mud_error_set(err, MUD_ERR_URL, esc, "receiver URL must be https");
	}
	if (timeout_ms <= 0) timeout_ms = 15000;

	tmp = talloc_new(NULL);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_spool_send", "out of memory");
	d = opendir(spool->dir);
	if (!d) {
		talloc_free(tmp);
		return io_error(err, "cannot open spool directory", spool->dir, errno);
	}
	while ((de = readdir(d)) != NULL && num < SPOOL_SEND_MAX_LIST) {
		char path[PATH_MAX];
		struct stat sb;
		bool is_sig;

		if (!spool_name_ok(de->d_name, &is_sig)) continue;
		/* Look without following or opening: only regular files are ours to send. */
		snprintf(path, sizeof(path), "%s/%s", spool->dir, de->d_name);
		if (lstat(path, &sb) != 0) continue;
		if (!S_ISREG(sb.st_mode)) {
			spool_skip(spool, de->d_name, spool_kind(sb.st_mode));
			continue;
		}
		if (is_sig) continue;
		if (num == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = talloc_realloc(tmp, names, char *, cap);
			if (!nn) break;
			names = nn;
		}
		names[num] = talloc_strdup(names, de->d_name);
		if (names[num]) num++;
	}
	closedir(d);
	if (num) qsort(names, num, sizeof(names[0]), name_cmp);

	for (i = 0; i < num; i++) {
		char id[MUD_IODEF_ID_SIZE];
		char xml_path[PATH_MAX];
		char sig_path[PATH_MAX];
		char xml_claim[PATH_MAX];
		char sig_claim[PATH_MAX];
		spool_entry_t *e;
		uint8_t *xml = NULL;
		uint8_t *sig = NULL;
		size_t xml_len = 0;
		size_t sig_len = 0;
		bool busy = false;
		bool skip = false;
		bool sealed;
		bool has_sig;
		mud_rcode_t rc = MUD_OK;
		int attempt;
		mud_error_t lerr;

		if (stop) {
			n_kept++;
			continue;
		}
		sealed = strlen(names[i]) > 8 &&
			 strcmp(names[i] + strlen(names[i]) - 8, ".xml.p7m") == 0;
		snprintf(id, sizeof(id), "%.*s", (int)(strlen(names[i]) - (sealed ? 8 : 4)),
			 names[i]);

		/* A document being rewritten stays; otherwise repeats start a new one. */
		pthread_mutex_lock(&spool->mutex);
		for (e = spool->entries; e; e = e->next) {
			if (strcmp(e->id, id) == 0) break;
		}
		if (e && (e->writing || e->queued || e->dirty)) {
			busy = true;
		} else if (e) {
			spool_unlink_entry(spool, e);
		}
		pthread_mutex_unlock(&spool->mutex);
		if (busy) {
			n_kept++;
			continue;
		}

		snprintf(xml_path, sizeof(xml_path), "%s/%s", spool->dir, names[i]);
		snprintf(sig_path, sizeof(sig_path), "%s/%s.p7s", spool->dir, names[i]);
		snprintf(xml_claim, sizeof(xml_claim), "%s/.send-%s", spool->dir, names[i]);
		snprintf(sig_claim, sizeof(sig_claim), "%s/.send-%s.p7s", spool->dir, names[i]);
		if (rename(xml_path, xml_claim) != 0) continue;	/* sent by someone else */
		has_sig = !sealed && (rename(sig_path, sig_claim) == 0);

		mud_error_clear(&lerr);
		rc = slurp(tmp, xml_claim, &xml, &xml_len,
			   sealed ? MUD_IODEF_MAX_SEALED : MUD_IODEF_MAX_DOC, &skip, &lerr);
		if (rc == MUD_OK && has_sig) {
			rc = slurp(tmp, sig_claim, &sig, &sig_len, MUD_MAX_SIG_SIZE, &skip, &lerr);
		}
		if (rc != MUD_OK && skip) {
			/* Replaced by a link, FIFO, device or someone else's file between the
			 * listing and the claim: put it back, never send it, go on. */
			unclaim(xml_claim, xml_path);
			if (has_sig) unclaim(sig_claim, sig_path);
			spool_skip(spool, names[i], lerr.text);
			n_kept++;
			talloc_free(xml);
			talloc_free(sig);
			continue;
		}
		for (attempt = 0; rc == MUD_OK; attempt++) {
			bool transport = false;

			mud_error_clear(&lerr);
			rc = post_once(url, ca_file, client_cert, client_key, timeout_ms, xml,
				       xml_len, has_sig ? sig : NULL, sig_len, id,
				       sealed ? sealed_ctype(xml, xml_len) : "application/xml",
				       &transport, &lerr);
			if (rc == MUD_OK || !transport || attempt + 1 >= SPOOL_SEND_TRIES) {
				/* Receiver unreachable: keep the rest for the next run. */
				if (rc != MUD_OK && transport && lerr.code != MUD_ERR_HTTP) {
					stop = true;
				}
				break;
			}
			sleep_ms((long)SPOOL_SEND_BACKOFF_MS << attempt);
			rc = MUD_OK;
		}
		if (rc == MUD_OK) {
			(void)unlink(xml_claim);
			if (has_sig) (void)unlink(sig_claim);
			n_sent++;
		} else {
			unclaim(xml_claim, xml_path);
			if (has_sig) unclaim(sig_claim, sig_path);
			n_kept++;
			if (first == MUD_OK) {
				first = mud_error_set(err, lerr.code, lerr.where, "%s", lerr.text);
			}
		}
		talloc_free(xml);
		talloc_free(sig);
	}
	talloc_free(tmp);

	pthread_mutex_lock(&spool->mutex);
	(void)spool_scan(spool, false, NULL);
	pthread_mutex_unlock(&spool->mutex);

	if (sent) *sent = n_sent;
	if (kept) *kept = n_kept;
	return first;
}
