/*
 * mud_redis.h - state shared by a pool of RADIUS servers through Redis
 * (docs/high-availability.md).
 *
 * What is shared, under a key prefix (default "mud:"):
 *   <prefix>p:<sha256 of the URL>	the compiled policy of a URL, as the cache persists it
 *					(format 2 of mud_cache.c, without its own HMAC)
 *   <prefix>a:<dACL name>		the URL whose policy holds that dACL name
 *   <prefix>l:<sha256 of the URL>	fetch lease: SET NX PX, value = the holder's token
 *   <prefix>s:<sha256 of the URL>	hash: normalised station -> where its session is (CoA)
 *   <prefix>c:<station>:<hash>	CoA claim: one server re-authenticates a session per policy
 * Every value but the lease is an envelope "rlm_mud-redis 1\nhmac: <64 hex>\n<payload>", the
 * HMAC-SHA256 (key_file) of the key's name, a newline and the payload: a value changed,
 * forged, or moved to another key is refused (and counted, and logged), and a policy that
 * passes is still re-proved like a persisted one (URL, lines against the renderer's grammar,
 * content-addressed dACL names) before it is used.
 *
 * The client is hiredis (synchronous API) with a small bounded pool of connections owned
 * by this file, not FreeRADIUS's connection pool: libmud never includes FreeRADIUS headers,
 * and the unit test drives the same code against a real redis-server. Every command is
 * bounded by timeout_ms (connect by connect_timeout_ms); a failure marks Redis down for a
 * backoff (retry_min_ms doubling up to retry_max_ms) during which calls fail at once without
 * touching the network, so a dead or slow Redis costs a request at most one timeout. It is
 * reported once when it goes down and once when it comes back.
 *
 * Without hiredis at configure time mud_redis_create() fails with MUD_ERR_UNSUPPORTED
 * (mud_redis_stub.c) and every other call is a no-op.
 *
 * Thread safety: a mud_redis_t is shared by all threads; each call takes a connection of
 * its own from the pool for its duration.
 */
#ifndef MUD_REDIS_H
#define MUD_REDIS_H

#include "mud.h"

#define MUD_REDIS_POOL_MAX	64	//!< connections at most (each holds a socket on Redis)
#define MUD_REDIS_TIMEOUT_MAX	10000	//!< ms: a request thread must never wait longer
#define MUD_REDIS_PREFIX_MAX	32	//!< key prefix bytes
#define MUD_REDIS_VALUE_MAX	(4 * 1024 * 1024)	//!< largest value read (a policy: see
							//!< mud_cache.c CACHE_FILE_MAX)
#define MUD_REDIS_TOKEN_LEN	48	//!< lease token text (+ NUL)

/** Options. Zero values select the defaults. */
typedef struct mud_redis_opts {
	char const	*server;		//!< host name or address (required)
	uint16_t	port;			//!< 0 -> 6379
	char const	*username;		//!< ACL user (Redis 6+), NULL/"" = none
	char const	*password;		//!< NULL/"" = no AUTH
	unsigned int	database;		//!< SELECT, 0..15 on a default Redis
	char const	*prefix;		//!< key prefix, NULL -> "mud:"
	char const	*key_file;		//!< HMAC key: mode 0600, 32..1024 bytes (required)
	unsigned int	connect_timeout_ms;	//!< 0 -> 100
	unsigned int	timeout_ms;		//!< per command, 0 -> 100
	unsigned int	pool_size;		//!< 0 -> 4
	unsigned int	retry_min_ms;		//!< first backoff after a failure, 0 -> 250
	unsigned int	retry_max_ms;		//!< backoff ceiling, 0 -> 30000
	mud_log_t	log;			//!< down/up transitions (WARN/INFO), refused values
	void		*log_uctx;
} mud_redis_opts_t;

/** Counters (mud_redis_stats()). */
typedef struct mud_redis_stats {
	bool		up;		//!< last command succeeded (or none tried yet)
	uint64_t	commands;	//!< commands answered
	uint64_t	errors;		//!< connection or timeout failures
	uint64_t	skipped;	//!< calls answered "down" without the network (backoff)
	uint64_t	busy;		//!< no free connection within timeout_ms
	uint64_t	refused;	//!< values whose HMAC or content did not verify
	uint64_t	published;	//!< policies written
	uint64_t	imported;	//!< policies taken into the local cache
	uint64_t	leases_won;
	uint64_t	leases_lost;
	uint64_t	reconnects;	//!< times it came back after being down
	uint64_t	republished;	//!< policies published late (Redis was down at the fetch)
	uint64_t	republish_dropped;	//!< forgotten: more than 1024 waited
} mud_redis_stats_t;

/** Outcome of a read. */
typedef enum {
	MUD_REDIS_NONE = 0,	//!< nothing there (or nothing newer than ours)
	MUD_REDIS_FOUND,	//!< verified and taken
	MUD_REDIS_DOWN,		//!< unreachable, slow, or in backoff: use local state
	MUD_REDIS_REFUSED,	//!< a value was there but did not verify: refused and logged
} mud_redis_res_t;

/** What the holder of a local fetch token does (mud_redis_fetch_begin()). */
typedef enum {
	MUD_REDIS_FETCH = 0,	//!< fetch it: the lease is ours (or Redis cannot say)
	MUD_REDIS_SHARED,	//!< another server's policy is now in the local cache
} mud_redis_begin_t;

typedef struct mud_redis mud_redis_t;

/** Whether this build has the Redis backend (hiredis at configure time). */
bool		mud_redis_available(void);

/** Create the client (no connection yet: the first call connects). Reads key_file.
 *
 * @return MUD_OK, MUD_ERR_ARG (bad options), MUD_ERR_IO (key file), MUD_ERR_NOMEM,
 *	   MUD_ERR_UNSUPPORTED (built without hiredis).
 */
mud_rcode_t	mud_redis_create(TALLOC_CTX *ctx, mud_redis_t **out, mud_redis_opts_t const *opts,
				 mud_error_t *err);

/** PING: true if Redis answered (used at start-up to report, never to refuse). */
bool		mud_redis_ping(mud_redis_t *r, mud_error_t *err);

/** Publish the cache's good policy of url (and its dACL names), to live until its expiry
 *  plus stale_max seconds. MUD_ERR_FETCH if Redis is down (the policy stays local). */
mud_rcode_t	mud_redis_policy_publish(mud_redis_t *r, mud_cache_t *cache, char const *url,
					 unsigned int stale_max, time_t now, mud_error_t *err);

/** Take url's policy from Redis into the local cache if it is newer than the local one.
 *
 * @param[in] fresh_only	only a policy that has not expired at now counts as FOUND.
 * @param[in] release_token	the caller holds the local fetch token: an import hands it back.
 */
mud_redis_res_t	mud_redis_policy_import(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, bool fresh_only, bool release_token,
					mud_error_t *err);

/** A dACL name unknown locally: find the policy that holds it in Redis and take it into the
 *  local cache (then mud_cache_acl_lookup() finds it). */
mud_redis_res_t	mud_redis_acl_import(mud_redis_t *r, mud_cache_t *cache, char const *acl_name,
				     time_t now, mud_error_t *err);

/** Try to take the pool-wide fetch lease of url for lease_ms (SET NX PX). token receives
 *  the value to release it with. FOUND = taken; NONE = another server holds it; DOWN. */
mud_redis_res_t	mud_redis_lease_take(mud_redis_t *r, char const *url, unsigned int lease_ms,
				     char token[MUD_REDIS_TOKEN_LEN]);

/** Release a lease if it is still ours (compare-and-delete). */
void		mud_redis_lease_release(mud_redis_t *r, char const *url, char const *token);

/** The holder of url's local fetch token, before it fetches: is a fresh policy of url in
 *  Redis (taken into the cache: SHARED)? Else take the lease (FETCH, *token set); if another
 *  server holds it, poll Redis for its result for at most wait_ms (SHARED when it lands,
 *  FETCH with the lease when the holder gave up). Redis down: FETCH with *token "" at once.
 *  A SHARED answer hands the local token back (the import did). */
mud_redis_begin_t mud_redis_fetch_begin(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, unsigned int lease_ms, unsigned int wait_ms,
					char token[MUD_REDIS_TOKEN_LEN]);

/** After the fetch: publish the cache's policy of url if stored is set, release the lease. */
void		mud_redis_fetch_end(mud_redis_t *r, mud_cache_t *cache, char const *url,
				    char const *token, bool stored, unsigned int stale_max,
				    time_t now);

/** Share where a station's session is (st->url_applied, policy_hash, NAS, audit-session-id,
 *  CoA destination and port; never the CoA secret) under its URL; old_url: the URL it had
 *  before (its record there is removed). ttl: seconds the URL's record set lives. */
mud_rcode_t	mud_redis_station_put(mud_redis_t *r, mud_station_t const *st,
				      char const *old_url, unsigned int ttl, mud_error_t *err);

/** The stations the pool applied url's policy to, at most max (talloc array under ctx,
 *  url_applied set to url). Records that do not verify are skipped and counted. */
size_t		mud_redis_stations_by_url(mud_redis_t *r, TALLOC_CTX *ctx, char const *url,
					  mud_station_t **out, size_t max);

/** Claim the re-authentication of a station for a policy (SET NX, ttl seconds): true if this
 *  server should send the CoA (also when Redis cannot say: better twice than never). */
/** Publish the policies whose publish after their fetch failed (Redis down or slow): at
 *  most the last 1024 such URLs are remembered; stops at the first failure (they wait for the
 *  next call). Call periodically (the module's ticker). @return how many were published. */
size_t		mud_redis_republish(mud_redis_t *r, mud_cache_t *cache, unsigned int stale_max,
				    time_t now);

bool		mud_redis_coa_claim(mud_redis_t *r, char const *station, uint64_t policy_hash,
				    unsigned int ttl);

/** Counters. */
void		mud_redis_stats(mud_redis_t *r, mud_redis_stats_t *out);

/*
 *	Cache side (mud_cache.c): the policy of a URL as another server's cache can take it.
 */

/** Serialise the good policy of url (the persistence format, without the cache's own HMAC)
 *  under ctx; *expires its expiry. MUD_ERR_ARG if the cache holds none. */
mud_rcode_t	mud_cache_export(mud_cache_t *cache, TALLOC_CTX *ctx, char const *url, char **data,
				 size_t *len, time_t *expires, mud_error_t *err);

/** Re-prove a serialised policy (as a persisted file: format, URL, lines, dACL names) and
 *  insert it unless the cache holds one fetched as late or later.
 *
 * @param[in] want_url		if not NULL, the entry must be of this URL.
 * @param[in] release_token	the caller holds url's local fetch token: hand it back.
 * @param[out] imported		whether it went in.
 * After mud_cache_revalidate() with trust anchors, the entry's signer chain is checked
 * against them first (mud_trust_check_chain(), at its fetch time); an entry without a chain
 * goes in but is served as STALE (refetched) until stored again.
 * @return MUD_OK, MUD_ERR_SCHEMA / MUD_ERR_TOOBIG (does not verify), MUD_ERR_MISMATCH
 *	   (another URL), MUD_ERR_CONFLICT (a dACL name bound to other lines), MUD_ERR_NOMEM;
 *	   MUD_ERR_SIG_UNTRUSTED / _EXPIRED / MUD_ERR_SIG / MUD_ERR_ARG (its signer chain does
 *	   not chain to the anchors of the last mud_cache_revalidate(), or is malformed).
 */
mud_rcode_t	mud_cache_import(mud_cache_t *cache, char const *data, size_t len,
				 char const *want_url, bool release_token, bool *imported,
				 mud_error_t *err);

#endif /* MUD_REDIS_H */
