/*
 * mud_redis_stub.c - the shared-state API when libmud is built without hiredis (configure
 * reported "redis: no"): creating a client says so, everything else does nothing, so the
 * module runs on its local state alone.
 */
#include "config.h"

#include <string.h>

#include "mud_private.h"
#include "mud_redis.h"

bool mud_redis_available(void)
{
	return false;
}

mud_rcode_t mud_redis_create(TALLOC_CTX *ctx, mud_redis_t **out, mud_redis_opts_t const *opts,
			     mud_error_t *err)
{
	(void)ctx;
	(void)opts;
	*out = NULL;
	return mud_error_set(err, MUD_ERR_UNSUPPORTED, "redis", "rlm_mud was built without "
			     "hiredis (configure reported redis: no; install libhiredis-dev and "
			     "rebuild)");
}

bool mud_redis_ping(mud_redis_t *r, mud_error_t *err)
{
	(void)r;
	(void)err;
	return false;
}

mud_rcode_t mud_redis_policy_publish(mud_redis_t *r, mud_cache_t *cache, char const *url,
				     unsigned int stale_max, time_t now, mud_error_t *err)
{
	(void)r;
	(void)cache;
	(void)url;
	(void)stale_max;
	(void)now;
	(void)err;
	return MUD_OK;
}

mud_redis_res_t mud_redis_policy_import(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, bool fresh_only, bool release_token,
					mud_error_t *err)
{
	(void)r;
	(void)cache;
	(void)url;
	(void)now;
	(void)fresh_only;
	(void)release_token;
	(void)err;
	return MUD_REDIS_DOWN;
}

mud_redis_res_t mud_redis_acl_import(mud_redis_t *r, mud_cache_t *cache, char const *acl_name,
				     time_t now, mud_error_t *err)
{
	(void)r;
	(void)cache;
	(void)acl_name;
	(void)now;
	(void)err;
	return MUD_REDIS_DOWN;
}

mud_redis_res_t mud_redis_lease_take(mud_redis_t *r, char const *url, unsigned int lease_ms,
				     char token[MUD_REDIS_TOKEN_LEN])
{
	(void)r;
	(void)url;
	(void)lease_ms;
	token[0] = '\0';
	return MUD_REDIS_DOWN;
}

void mud_redis_lease_release(mud_redis_t *r, char const *url, char const *token)
{
	(void)r;
	(void)url;
	(void)token;
}

mud_redis_begin_t mud_redis_fetch_begin(mud_redis_t *r, mud_cache_t *cache, char const *url,
					time_t now, unsigned int lease_ms, unsigned int wait_ms,
					char token[MUD_REDIS_TOKEN_LEN])
{
	(void)r;
	(void)cache;
	(void)url;
	(void)now;
	(void)lease_ms;
	(void)wait_ms;
	token[0] = '\0';
	return MUD_REDIS_FETCH;
}

void mud_redis_fetch_end(mud_redis_t *r, mud_cache_t *cache, char const *url,
			 char const *token, bool stored, unsigned int stale_max, time_t now)
{
	(void)r;
	(void)cache;
	(void)url;
	(void)token;
	(void)stored;
	(void)stale_max;
	(void)now;
}

mud_rcode_t mud_redis_station_put(mud_redis_t *r, mud_station_t const *st,
				  char const *old_url, unsigned int ttl, mud_error_t *err)
{
	(void)r;
	(void)st;
	(void)old_url;
	(void)ttl;
	(void)err;
	return MUD_OK;
}

size_t mud_redis_stations_by_url(mud_redis_t *r, TALLOC_CTX *ctx, char const *url,
				 mud_station_t **out, size_t max)
{
	(void)r;
	(void)ctx;
	(void)url;
	(void)max;
	*out = NULL;
	return 0;
}

size_t mud_redis_republish(mud_redis_t *r, mud_cache_t *cache, unsigned int stale_max,
			   time_t now)
{
	(void)r;
	(void)cache;
	(void)stale_max;
	(void)now;
	return 0;
}

bool mud_redis_coa_claim(mud_redis_t *r, char const *station, uint64_t policy_hash,
			 unsigned int ttl)
{
	(void)r;
	(void)station;
	(void)policy_hash;
	(void)ttl;
	return true;
}

void mud_redis_stats(mud_redis_t *r, mud_redis_stats_t *out)
{
	(void)r;
	memset(out, 0, sizeof(*out));
}
