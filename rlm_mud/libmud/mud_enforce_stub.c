/*
 * mud_enforce_stub.c - the enforcement API when libmud is built without libnftables/libnl
 * (configure: "nftables: no"): every call says so.
 */
#include "config.h"

#include "mud_private.h"

static mud_rcode_t unsupported(mud_error_t *err)
{
	return mud_error_set(err, MUD_ERR_UNSUPPORTED, "enforce", "rlm_mud was built without "
			     "libnftables and libnl (configure reported nftables: no)");
}

mud_rcode_t mud_enforce_open(TALLOC_CTX *ctx, mud_enforce_t **out,
			     mud_enforce_opts_t const *opts, mud_error_t *err)
{
	(void)ctx;
	(void)opts;
	*out = NULL;
	return unsupported(err);
}

mud_rcode_t mud_enforce_apply(mud_enforce_t *e, char const *mac, mud_ruleset_t const *rs,
			      char const *url, time_t expires, mud_error_t *err)
{
	(void)e;
	(void)mac;
	(void)rs;
	(void)url;
	(void)expires;
	return unsupported(err);
}

mud_rcode_t mud_enforce_remove(mud_enforce_t *e, char const *mac, bool *found, mud_error_t *err)
{
	(void)e;
	(void)mac;
	if (found) *found = false;
	return unsupported(err);
}

mud_rcode_t mud_enforce_flush(mud_enforce_t *e, mud_error_t *err)
{
	(void)e;
	return unsupported(err);
}

size_t mud_enforce_expire(mud_enforce_t *e, time_t now)
{
	(void)e;
	(void)now;
	return 0;
}

mud_rcode_t mud_enforce_addr(mud_enforce_t *e, char const *mac, mud_prefix_t const *addr,
			     bool add, mud_error_t *err)
{
	(void)e;
	(void)mac;
	(void)addr;
	(void)add;
	return unsupported(err);
}

size_t mud_enforce_devices(mud_enforce_t *e, TALLOC_CTX *ctx, mud_enforce_dev_t **out)
{
	(void)e;
	(void)ctx;
	*out = NULL;
	return 0;
}

char *mud_enforce_listing(mud_enforce_t *e, TALLOC_CTX *ctx)
{
	(void)e;
	(void)ctx;
	return NULL;
}

mud_rcode_t mud_nft_device_json(TALLOC_CTX *ctx, char **out, char const *table,
				char const *mac, mud_ruleset_t const *rs,
				mud_prefix_t const *addrs, size_t num_addrs, mud_error_t *err)
{
	(void)ctx;
	(void)table;
	(void)mac;
	(void)rs;
	(void)addrs;
	(void)num_addrs;
	*out = NULL;
	return unsupported(err);
}

mud_rcode_t mud_enforce_remember(mud_enforce_t *e, char const *url, mud_ruleset_t const *rs,
				 mud_error_t *err)
{
	(void)e;
	(void)url;
	(void)rs;
	return unsupported(err);
}

mud_rcode_t mud_enforce_apply_url(mud_enforce_t *e, char const *mac, char const *url,
				  time_t expires, mud_error_t *err)
{
	(void)e;
	(void)mac;
	(void)url;
	(void)expires;
	return unsupported(err);
}
