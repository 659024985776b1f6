/*
 *   This program is free software; you can redistribute it and/or modify
 *   it under the terms of the GNU General Public License as published by
 *   the Free Software Foundation; either version 2 of the License, or
 *   (at your option) any later version.
 */

/**
 * @file rlm_mud.c
 * @brief RFC 8520 Manufacturer Usage Description: FreeRADIUS 3.2 adapter for libmud.
 *
 * The module finds a device's MUD URL (certificate extension, policy attribute,
 * DHCP option or LLDP TLV relayed by a Cisco switch, or an earlier accounting
 * message), gets the compiled policy from the cache or fetches it, and answers
 * the NAS with a VLAN and an ACL (Cisco dACL name, inline Cisco ACL lines, or
 * NAS-Filter-Rule). It also answers the switch's dACL download requests.
 *
 * It never rejects: outcomes are rcodes and MUD-* attributes in the control
 * list, and the policy (policy/sites-available/mud) decides. See
 * docs/configuration.md for the options, the rcode table and the paging scheme.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mud.h"
#include "mud_redis.h"
#include "rlm_mud_coa.h"

#define VENDORPEC_CISCO_MUD	9	//!< Cisco's IANA enterprise number.
#define CISCO_AVPAIR		1	//!< Cisco-AVPair.
#define MUD_TUNNEL_TYPE_VLAN	"VLAN"
#define MUD_DA_CERT_URL		"TLS-Client-Cert-1.3.6.1.5.5.7.1.25"
#define MUD_DA_CERT_SIGNER	"TLS-Client-Cert-1.3.6.1.5.5.7.1.30"
#define MUD_DA_CERT_URL_NUM	3190	//!< Internal number used if the dictionary lacks it.
#define MUD_DA_CERT_SIGNER_NUM	3191

/*
 *	A RADIUS packet holds 4096 bytes. A dACL page leaves room for the
 *	header (20), Message-Authenticator (18), State (<= 40) and slack.
 */
#define MUD_PAGE_BYTES		3800	//!< Attribute bytes of ACL lines per reply packet.
#define MUD_VSA_OVERHEAD	8	//!< type, length, vendor-id(4), vendor-type, vendor-length.
#define MUD_STATE_PREFIX	"mud-dacl-page:"
#define MUD_LOG_CUT		128	//!< Untrusted text in logs is cut to this
					//!< (STYLE.md section 7).
#define MUD_MAX_CANDIDATES	16	//!< URL candidates looked at per request.
#define MUD_STATION_LEN		64	//!< Calling-Station-Id bytes kept as a key.

/** Output kinds. cisco-dacl and cisco-inline share libmud's Cisco rendering. */
typedef enum {
	MUD_OUT_CISCO_DACL = 0,
	MUD_OUT_CISCO_INLINE,
	MUD_OUT_NFR,
} rlm_mud_out_t;


typedef struct rlm_mud_t rlm_mud_t;

/** What the instances of one name share across HUP reloads (docs/operations.md "HUP").
 *
 * FreeRADIUS reloads a module by instantiating a new instance beside the running one and
 * freeing the old one at a later HUP. Everything with threads or memory of the network
 * (cache, station index, fetch service, CoA sender, Redis pool, nftables table, incident
 * spool, metrics) lives here instead, created by the first instance of the name, borrowed by
 * each later one and torn down with the last. The instance itself holds what a reload may
 * change (site context, trust anchors, the quarantine built from them).
 */
typedef struct rlm_mud_shared {
	struct rlm_mud_shared *next;	//!< registry list (shared_mutex)
	char		*name;		//!< instance name, for log lines of the threads
	unsigned int	refs;		//!< instances holding it (shared_mutex)
	unsigned int	reloads;	//!< successful reloads (shared_mutex)
	bool		registered;	//!< in the registry (shared_mutex)

	pthread_mutex_t	cur_mutex;	//!< guards current, insts and each instance's bg_users
	pthread_cond_t	cur_cond;	//!< broadcast when an instance's bg_users drops to 0
	bool		cur_init;
	rlm_mud_t	*current;	//!< what background work reads: the newest instance
	rlm_mud_t	*insts;		//!< every live instance holding a reference

	pthread_mutex_t	wait_mutex;	//!< guards fetch_gen
	pthread_cond_t	wait_cond;	//!< broadcast when any fetch settles
	uint64_t	fetch_gen;	//!< bumped when any fetch settles
	bool		wait_init;
	bool		fetch_init;	//!< mud_fetch_global_init() done
	int		revalidate;	//!< atomic: the ticker re-checks the cached policies'
					//!< signer chains against the newest trust anchors

	mud_iodef_config_t iodef;	//!< the spool writer's copy (strings owned here)

	/* owned here (talloc children), borrowed by every instance */
	mud_metrics_t	*metrics;
	mud_cache_t	*cache;
	mud_stations_t	*stations;
	mud_redis_t	*redis;
	mud_fetchsvc_t	*fetchsvc;
	rlm_mud_coa_t	*coa;
	mud_enforce_t	*enforce_state;
	mud_spool_t	*spool;
	mud_metrics_writer_t *metrics_writer;

	/* settings a reload cannot change, as the first instance had them */
	char		*start_settings;	//!< "cache_dir=... fetch_threads=..."
	CONF_SECTION	*start_conf;	//!< the section the first instance was parsed from
	CONF_SECTION	*latest_conf;	//!< the newest section a reload was parsed from
} rlm_mud_shared_t;

/** Module instance. Read-only after instantiate; the objects it borrows from sh are
 *  thread-safe. */
struct rlm_mud_t {
	char const	*name;
	rlm_mud_shared_t *sh;		//!< shared state (NULL until taken)
	rlm_mud_t	*sh_next;	//!< sh->insts list (sh->cur_mutex)
	unsigned int	bg_users;	//!< background jobs using this instance (sh->cur_mutex)
	unsigned int	generation;	//!< 0 at start-up, then the reload that made it
	char		*settings;	//!< the settings a reload cannot change, rendered
	mud_rendered_t	*prev_quarantine;	//!< quarantine of the instance this one replaced
						//!< (its dACL names still answered), or NULL
	mud_ca_t	*ca;		//!< MUD servers' CAs (ca_file, ca_path), loaded once
	char		compile_tag[65];	//!< what policies are compiled with (context,
						//!< format, parser, libmud): cache entries with
						//!< another are refreshed

	char const	*ca_file;
	char const	*ca_path;
	char const	*trust_file;
	char const	*trust_path;
	bool		require_signature;
	uint32_t	connect_timeout;
	uint32_t	timeout;
	uint32_t	max_file_size;
	char const	*context_file;
	char const	*output_format;
	bool		lenient;
	char const	*log_decisions;	//!< "all": every decision at Info; "changes": a station's
					//!< unchanged policy at debug only
	bool		log_changes_only;
	char const	*cache_dir;
	char const	*cache_key_file;
	uint32_t	cache_max_entries;
	uint32_t	cache_max_validity;
	uint32_t	cache_fail_ttl;
	uint32_t	cache_stale_max;
	uint32_t	quarantine_vlan;
	bool		session_timeout;
	char const	*url_allow;
	char const	*url_deny;
	bool		allow_private_urls;
	uint32_t	max_redirects;
	uint32_t	accounting_max_entries;
	uint32_t	fetch_wait;
	char const	*fetch_mode;		//!< "inline" or "background"
	bool		background;		//!< fetch_mode = background
	uint32_t	fetch_threads;
	uint32_t	fetch_queue_max;
	uint32_t	fetch_per_authority;
	uint32_t	pending_timeout;	//!< Session-Timeout of a pending answer
	bool		coa_enable;
	uint32_t	coa_port;
	char const	*coa_secret;
	uint32_t	coa_retries;
	uint32_t	dns_refresh_min;	//!< DNS TTL clamp for a policy's life (s)
	uint32_t	dns_refresh_max;	//!< 0: DNS TTLs ignored
	uint32_t	refresh_interval;	//!< s between refreshes without a request, 0: off

	char const	*iodef_spool_dir;	//!< iodef { } subsection
	char const	*iodef_reporter;
	char const	*iodef_contact_name;
	char const	*iodef_contact_email;
	char const	*iodef_contact_phone;
	char const	*iodef_tlp;
	char const	*iodef_lang;
	char const	*iodef_sign_key;
	char const	*iodef_sign_cert;
	uint32_t	iodef_window;
	uint32_t	iodef_max_files;
	uint32_t	iodef_max_bytes;
	char const	*iodef_timezone;
	char const	*iodef_restrictions;
	char const	*iodef_encrypt_cert;
	char const	*iodef_encrypt_cipher;
	uint32_t	iodef_flush_rate;
	mud_iodef_rcpt_t *iodef_rcpt;		//!< encryption recipients (read-only)
	mud_iodef_config_t iodef;		//!< rendering config (borrows the strings above)
	mud_spool_t	*spool;			//!< incident spool (thread-safe), NULL = no reports

	rlm_mud_out_t	out;
	mud_trust_t	*trust;
	mud_context_t	*site;
	mud_cache_t	*cache;
	mud_urlpolicy_t	*urlpolicy;		//!< url_allow, url_deny, allow_private_urls;
						//!< read-only after instantiate
	int		qvlan;			//!< effective quarantine VLAN, 0 = none
	mud_rendered_t	*quarantine;		//!< quarantine filter in the output format;
						//!< built at instantiate, read-only afterwards
	char		*q_defined_v4;		//!< cisco-dacl: "ACS:CiscoSecure-Defined-ACL=<v4>"
	char		*q_defined_v6;		//!< cisco-dacl: same for the IPv6 quarantine dACL

	DICT_ATTR const	*da_url;
	DICT_ATTR const	*da_url_source;
	DICT_ATTR const	*da_mfg;
	DICT_ATTR const	*da_model;
	DICT_ATTR const	*da_status;
	DICT_ATTR const	*da_acl_name;
	DICT_ATTR const	*da_error;
	DICT_ATTR const	*da_vlan;
	DICT_ATTR const	*da_cache;
	DICT_ATTR const	*da_expires;
	DICT_ATTR const	*da_cert_url;
	DICT_ATTR const	*da_cert_signer;
	DICT_ATTR const	*da_avpair;
	DICT_ATTR const	*da_nfr;
	DICT_ATTR const	*da_state;

	mud_stations_t	*stations;		//!< per-station state (borrowed from sh)
	mud_fetchsvc_t	*fetchsvc;		//!< background fetches (borrowed from sh)
	rlm_mud_coa_t	*coa;			//!< CoA sender (coa = yes; borrowed from sh)

	char const	*enforce;		//!< "none" or "nftables" (docs/enforce.md)
	char const	*enforce_bridge;	//!< bridge the stations sit on, NULL = any
	char const	*enforce_table;		//!< nftables table name
	bool		enforce_track;		//!< follow neighbour notifications
	mud_enforce_t	*enforce_state;		//!< NULL unless enforce = nftables (thread-safe)
	mud_ruleset_t	*enforce_quarantine;	//!< applied when no policy can be: read-only

	char const	*proxy;			//!< "http://host:port" for fetches, NULL = direct
	char const	*no_proxy;		//!< hosts fetched directly despite proxy
	char const	*metrics_file;		//!< Prometheus textfile, NULL = none
	uint32_t	metrics_interval;	//!< seconds between writes
	mud_metrics_t	*metrics;		//!< counters (atomic)
	mud_metrics_writer_t *metrics_writer;	//!< writer thread, NULL without metrics_file
	char const	*redis_server;		//!< redis { } (docs/high-availability.md)
	uint32_t	redis_port;
	char const	*redis_username;
	char const	*redis_password;
	uint32_t	redis_database;
	char const	*redis_key_file;
	char const	*redis_prefix;
	uint32_t	redis_connect_timeout;	//!< ms
	uint32_t	redis_timeout;		//!< ms, per command
	uint32_t	redis_pool_size;
	uint32_t	redis_retry_max;	//!< s, backoff ceiling
	bool		redis_tls;
	mud_redis_t	*redis;			//!< shared state of the pool, NULL = none
	DICT_ATTR const	*da_tunnel_type;	//!< reply_vlan(): resolved at instantiate (NULL:
	DICT_ATTR const	*da_tunnel_medium;	//!< by name per request, as pair_make_reply())
	DICT_ATTR const	*da_tunnel_group;
	uint32_t	tunnel_type_vlan;	//!< Tunnel-Type VLAN (13, RFC 3580)
	uint32_t	tunnel_medium_802;	//!< Tunnel-Medium-Type IEEE-802 (6)
};

/** redis { }: state shared by a pool of servers (docs/high-availability.md). */
static const CONF_PARSER redis_config[] = {
	{ "server", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, redis_server), NULL },
	{ "port", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_port), "6379" },
	{ "username", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, redis_username), NULL },
	{ "password", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_SECRET, rlm_mud_t, redis_password),
	  NULL },
	{ "database", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_database), "0" },
	{ "key_file", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, redis_key_file), NULL },
	{ "prefix", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, redis_prefix), "mud:" },
	{ "connect_timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_connect_timeout),
	  "100" },
	{ "timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_timeout), "100" },
	{ "pool_size", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_pool_size), "4" },
	{ "retry_max", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, redis_retry_max), "30" },
	{ "tls", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, redis_tls), "no" },
	CONF_PARSER_TERMINATOR
};

/** iodef { }: incident reports (docs/iodef.md "From the FreeRADIUS module"). */
static const CONF_PARSER iodef_config[] = {
	{ "spool_dir", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_spool_dir), NULL },
	{ "reporter", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_reporter), NULL },
	{ "contact_name", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_contact_name), NULL },
	{ "contact_email", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_contact_email), NULL },
	{ "contact_phone", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_contact_phone), NULL },
	{ "tlp", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_tlp), "amber" },
	{ "lang", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_lang), "en" },
	{ "sign_key", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, iodef_sign_key), NULL },
	{ "sign_cert", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, iodef_sign_cert), NULL },
	{ "window", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, iodef_window), "3600" },
	{ "max_files", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, iodef_max_files), "1000" },
	{ "max_bytes", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, iodef_max_bytes), "67108864" },
	{ "timezone", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_timezone), "local" },
	{ "restrictions", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_restrictions), NULL },
	{ "encrypt_cert", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, iodef_encrypt_cert), NULL },
	{ "encrypt_cipher", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, iodef_encrypt_cipher),
	  "aes-256-gcm" },
	{ "flush_rate", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, iodef_flush_rate), "10" },
	CONF_PARSER_TERMINATOR
};

static const CONF_PARSER module_config[] = {
	{ "ca_file", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, ca_file), NULL },
	{ "ca_path", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, ca_path), NULL },
	{ "trust_file", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, trust_file), NULL },
	{ "trust_path", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, trust_path), NULL },
	{ "require_signature", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, require_signature),
	  "yes" },
	{ "connect_timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, connect_timeout), "5" },
	{ "timeout", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, timeout), "15" },
	{ "max_file_size", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, max_file_size), "1048576" },
	{ "context", FR_CONF_OFFSET(PW_TYPE_FILE_INPUT, rlm_mud_t, context_file), NULL },
	{ "output_format", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, output_format), "cisco-dacl" },
	{ "lenient", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, lenient), "no" },
	{ "log_decisions", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, log_decisions), "all" },
	{ "cache_dir", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, cache_dir), NULL },
	{ "cache_key_file", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, cache_key_file), NULL },
	{ "cache_max_entries", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, cache_max_entries),
	  "10000" },
	{ "cache_max_validity", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, cache_max_validity),
	  "604800" },
	{ "cache_fail_ttl", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, cache_fail_ttl), "60" },
	{ "cache_stale_max", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, cache_stale_max), "86400" },
	{ "quarantine_vlan", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, quarantine_vlan), "0" },
	{ "session_timeout", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, session_timeout), "no" },
	{ "url_allow", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, url_allow), NULL },
	{ "url_deny", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, url_deny), NULL },
	{ "allow_private_urls", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, allow_private_urls),
	  "no" },
	{ "max_redirects", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, max_redirects), "3" },
	{ "accounting_max_entries",
	  FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, accounting_max_entries), "100000" },
	{ "fetch_wait", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, fetch_wait), "20" },
	{ "enforce", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, enforce), "none" },
	{ "enforce_bridge", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, enforce_bridge), NULL },
	{ "enforce_table", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, enforce_table), "rlm_mud" },
	{ "enforce_track", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, enforce_track), "yes" },
	{ "fetch_mode", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, fetch_mode), "background" },
	{ "fetch_threads", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, fetch_threads), "4" },
	{ "fetch_queue_max", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, fetch_queue_max),
	  "1024" },
	{ "fetch_per_authority",
	  FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, fetch_per_authority), "2" },
	{ "pending_session_timeout",
	  FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, pending_timeout), "30" },
	{ "coa", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_mud_t, coa_enable), "no" },
	{ "coa_port", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, coa_port), "1700" },
	{ "coa_secret", FR_CONF_OFFSET(PW_TYPE_STRING | PW_TYPE_SECRET, rlm_mud_t, coa_secret),
	  NULL },
	{ "coa_retries", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, coa_retries), "3" },
	{ "dns_refresh_min", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, dns_refresh_min), "300" },
	{ "dns_refresh_max", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, dns_refresh_max), "3600" },
	{ "refresh_interval", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, refresh_interval),
	  "30" },
	{ "proxy", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, proxy), NULL },
	{ "no_proxy", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, no_proxy), NULL },
	{ "metrics_file", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_mud_t, metrics_file), NULL },
	{ "metrics_interval", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_mud_t, metrics_interval), "15" },
	{ "iodef", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) iodef_config },
	{ "redis", FR_CONF_POINTER(PW_TYPE_SUBSECTION, NULL), (void const *) redis_config },
	CONF_PARSER_TERMINATOR
};

static void libmud_log(void *uctx, mud_log_level_t level, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));

/** The instance a background job (fetch, tick, metrics) reads: the newest one, kept alive
 *  until bg_release() (a replaced instance's detach waits for its jobs). */
static rlm_mud_t *bg_acquire(rlm_mud_shared_t *sh)
{
	rlm_mud_t *inst;

	pthread_mutex_lock(&sh->cur_mutex);
	inst = sh->current;
	inst->bg_users++;
	pthread_mutex_unlock(&sh->cur_mutex);
	return inst;
}

/** A fetch verified under an instance a reload has replaced since (other trust anchors) may
 *  have stored its policy after the reload's re-check: the ticker checks again, at once. */
static void revalidate_if_replaced(rlm_mud_t *inst)
{
	rlm_mud_shared_t *sh = inst->sh;
	bool replaced;

	pthread_mutex_lock(&sh->cur_mutex);
	replaced = sh->current != inst;
	pthread_mutex_unlock(&sh->cur_mutex);
	if (!replaced) return;
	__atomic_store_n(&sh->revalidate, 1, __ATOMIC_RELEASE);
	mud_fetchsvc_tick_now(sh->fetchsvc);
}

/** Keep this instance (a request's) alive while it waits on the network (inline fetch). */
static void inst_hold(rlm_mud_t *inst)
{
	pthread_mutex_lock(&inst->sh->cur_mutex);
	inst->bg_users++;
	pthread_mutex_unlock(&inst->sh->cur_mutex);
}

static void bg_release(rlm_mud_t *inst)
{
	rlm_mud_shared_t *sh = inst->sh;

	pthread_mutex_lock(&sh->cur_mutex);
	if (--inst->bg_users == 0) pthread_cond_broadcast(&sh->cur_cond);
	pthread_mutex_unlock(&sh->cur_mutex);
}

/** Per-method behaviour of the common function (no copy-pasted mod_* bodies). */
typedef struct rlm_mud_method {
	char const	*name;
	bool		dacl_download;		//!< answer Cisco dACL download requests
} rlm_mud_method_t;

static rlm_mud_method_t const mud_methods[] = {
	[MOD_AUTHORIZE] = { .name = "authorize", .dacl_download = true },
	[MOD_POST_AUTH] = { .name = "post-auth", .dacl_download = false },
};

/** A MUD URL found in the request. */
typedef struct rlm_mud_cand {
	mud_url_t	*url;
	char const	*src;		//!< source name for MUD-URL-Source
	int		rank;		//!< lower wins
} rlm_mud_cand_t;

/** Precedence of URL sources (docs/configuration.md "URL sources"). */
enum {
	RANK_X509 = 0,
	RANK_ATTRIBUTE,
	RANK_DHCP,
	RANK_LLDP,
	RANK_ACCOUNTING,
};

/** Copy untrusted text for a log line: escaped, cut at MUD_LOG_CUT bytes. */
static char const *log_safe(char *buf, size_t buflen, char const *in, size_t inlen)
{
	size_t need;

	if (!in) return "";
	need = fr_prints(buf, buflen, in, inlen > MUD_LOG_CUT ? MUD_LOG_CUT : inlen, '\0');
	if (inlen > MUD_LOG_CUT || need >= buflen) {
		size_t n = strlen(buf);

		if (n + 4 > buflen) n = buflen - 4;
		memcpy(buf + n, "...", 4);
	}
	return buf;
}

/** The module rcode of a libmud outcome (its row in the outcome table, mud_outcome()). */
static rlm_rcode_t mud_to_rlm_rcode(mud_rcode_t code)
{
	switch (mud_outcome(code)->act) {
	case MUD_ACT_APPLY:
	case MUD_ACT_INTERIM:
		return RLM_MODULE_UPDATED;

	case MUD_ACT_NOOP:
		return RLM_MODULE_NOOP;

	case MUD_ACT_INVALID:
		return RLM_MODULE_INVALID;

	case MUD_ACT_FAIL:
		break;
	}
	return RLM_MODULE_FAIL;
}

/*
 *	Attribute helpers.
 */

/** Replace (:=) a control attribute with a string value. */
static void control_set(REQUEST *request, DICT_ATTR const *da, char const *value)
{
	VALUE_PAIR *vp;

	if (!da || !value) return;
	fr_pair_delete_by_da(&request->config, da);
	vp = fr_pair_afrom_da(request, da);
	if (!vp) return;
	if (da->type == PW_TYPE_STRING && !strchr(value, '\\')) {
		/* what the parse below makes of a string without escapes, in one copy */
		fr_pair_value_bstrncpy(vp, value, strlen(value));
	} else if (fr_pair_value_from_str(vp, value, strlen(value)) < 0) {
		talloc_free(vp);
		return;
	}
	fr_pair_add(&request->config, vp);
}

/** Add (+=) a control string attribute. */
static void control_add(REQUEST *request, DICT_ATTR const *da, char const *value)
{
	VALUE_PAIR *vp;

	if (!da || !value) return;
	vp = fr_pair_afrom_da(request, da);
	if (!vp) return;
	fr_pair_value_strcpy(vp, value);
	fr_pair_add(&request->config, vp);
}

/** Replace a control integer attribute. */
static void control_set_int(REQUEST *request, DICT_ATTR const *da, uint32_t value)
{
	VALUE_PAIR *vp;

	if (!da) return;
	fr_pair_delete_by_da(&request->config, da);
	vp = fr_pair_afrom_da(request, da);
	if (!vp) return;
	vp->vp_integer = value;
	fr_pair_add(&request->config, vp);
}

/** Add a raw string value (no unescaping) to the reply. */
static int reply_add_raw(REQUEST *request, DICT_ATTR const *da, char const *value)
{
	VALUE_PAIR *vp;

	vp = fr_pair_afrom_da(request->reply, da);
	if (!vp) return -1;
	fr_pair_value_bstrncpy(vp, value, strlen(value));
	fr_pair_add(&request->reply->vps, vp);
	return 0;
}

/** True if a reply attribute is one the module places (so a re-run replaces it). */
static bool is_our_reply_attr(rlm_mud_t const *inst, VALUE_PAIR const *vp)
{
	static char const *prefixes[] = {
		"ACS:CiscoSecure-Defined-ACL=", "ip:inacl#", "ipv6:inacl#"
	};
	size_t i;

	if (vp->da == inst->da_nfr) return true;
	if (vp->da->vendor == 0 && (vp->da->attr == PW_TUNNEL_TYPE ||
				    vp->da->attr == PW_TUNNEL_MEDIUM_TYPE ||
				    vp->da->attr == PW_TUNNEL_PRIVATE_GROUP_ID)) return true;
	if (vp->da != inst->da_avpair) return false;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (vp->vp_length >= n && memcmp(vp->vp_strvalue, prefixes[i], n) == 0) return true;
	}
	return false;
}

/** Remove what an earlier call (authorize before post-auth) put in the reply. */
static void reply_clear_ours(rlm_mud_t const *inst, REQUEST *request)
{
	VALUE_PAIR **pp = &request->reply->vps;

	while (*pp) {
		VALUE_PAIR *vp = *pp;

		if (is_our_reply_attr(inst, vp)) {
			*pp = vp->next;
			vp->next = NULL;
			talloc_free(vp);
			continue;
		}
		pp = &vp->next;
	}
}

/** A reply attribute as pair_make_reply(name, value, T_OP_SET) leaves it (operator, no
 *  tag), for a value set natively: no name or value lookup per request. */
static VALUE_PAIR *reply_set_new(REQUEST *request, DICT_ATTR const *da)
{
	VALUE_PAIR *vp;

	vp = fr_pair_afrom_da(request->reply, da);
	if (!vp) return NULL;
	vp->op = T_OP_SET;
	vp->tag = TAG_ANY;
	return vp;
}

/** Add an integer attribute (:=) to the reply. */
static void reply_set_int(REQUEST *request, DICT_ATTR const *da, uint32_t value)
{
	VALUE_PAIR *vp = reply_set_new(request, da);

	if (!vp) return;
	vp->vp_integer = value;
	vp->type = VT_DATA;
	fr_pair_add(&request->reply->vps, vp);
}

/** Tunnel-* attributes for a VLAN (RFC 3580 section 3.31). */
static void reply_vlan(rlm_mud_t const *inst, REQUEST *request, int vlan)
{
	char buf[16];
	VALUE_PAIR *vp;

	if (vlan <= 0) return;
	snprintf(buf, sizeof(buf), "%d", vlan);
	if (!inst->da_tunnel_type || !inst->da_tunnel_medium || !inst->da_tunnel_group) {
		pair_make_reply("Tunnel-Type", MUD_TUNNEL_TYPE_VLAN, T_OP_SET);
		pair_make_reply("Tunnel-Medium-Type", "IEEE-802", T_OP_SET);
		pair_make_reply("Tunnel-Private-Group-Id", buf, T_OP_SET);
		return;
	}
	/* the same pairs, attributes and values resolved at instantiate */
	reply_set_int(request, inst->da_tunnel_type, inst->tunnel_type_vlan);
	reply_set_int(request, inst->da_tunnel_medium, inst->tunnel_medium_802);
	vp = reply_set_new(request, inst->da_tunnel_group);
	if (!vp) return;
	fr_pair_value_bstrncpy(vp, buf, strlen(buf));
	fr_pair_add(&request->reply->vps, vp);
}

/** Resolve what reply_vlan() adds, once (left NULL if the dictionary lacks a value). */
static void reply_vlan_instantiate(rlm_mud_t *inst)
{
	DICT_ATTR const *type = dict_attrbyvalue(PW_TUNNEL_TYPE, 0);
	DICT_ATTR const *medium = dict_attrbyvalue(PW_TUNNEL_MEDIUM_TYPE, 0);
	DICT_ATTR const *group = dict_attrbyvalue(PW_TUNNEL_PRIVATE_GROUP_ID, 0);
	DICT_VALUE *vlan = dict_valbyname(PW_TUNNEL_TYPE, 0, MUD_TUNNEL_TYPE_VLAN);
	DICT_VALUE *ieee = dict_valbyname(PW_TUNNEL_MEDIUM_TYPE, 0, "IEEE-802");

	if (!type || !medium || !group || !vlan || !ieee ||
	    type->type != PW_TYPE_INTEGER || medium->type != PW_TYPE_INTEGER ||
	    group->type != PW_TYPE_STRING) return;
	inst->tunnel_type_vlan = (uint32_t)vlan->value;
	inst->tunnel_medium_802 = (uint32_t)ieee->value;
	inst->da_tunnel_type = type;
	inst->da_tunnel_medium = medium;
	inst->da_tunnel_group = group;
}

/** Failure: status, error text, quarantine VLAN and ACL if configured. */
/** Calling-Station-Id of a request for radius.log, escaped ("-" if none). */
static char const *log_station(REQUEST *request, char *buf, size_t buflen)
{
	VALUE_PAIR *vp = fr_pair_find_by_num(request->packet->vps, PW_CALLING_STATION_ID, 0,
					     TAG_ANY);

	if (!vp) return "-";
	return log_safe(buf, buflen, vp->vp_strvalue, vp->vp_length);
}

/** Answer a request whose policy cannot be applied (or not yet: MUD_PENDING): MUD-Status and
 *  MUD-Error, the radius.log line at the outcome's level, the quarantine VLAN and filter.
 *  A quarantine attribute that cannot be added fails the request (never a VLAN without its
 *  filter). @return the outcome's module rcode, RLM_MODULE_FAIL if the reply is incomplete. */
static rlm_rcode_t mud_failed(rlm_mud_t const *inst, REQUEST *request, mud_rcode_t code,
			      char const *where, char const *text, char const *url)
{
	mud_outcome_t const *o = mud_outcome(code);
	char buf[MUD_LOG_CUT + 8];
	char sbuf[MUD_LOG_CUT + 8];
	char msg[512];
	int bad = 0;

	log_safe(buf, sizeof(buf), url, url ? strlen(url) : 0);
	if (code != MUD_PENDING) REDEBUG("MUD %s: %s (at %s)", buf, text ? text : "",
					 where ? where : "");
	/* radius.log without -X: one line per decision (docs/configuration.md "Logging") */
	switch (o->level) {
	case MUD_LOG_DEBUG:
		break;

	case MUD_LOG_INFO:
		RINFO("MUD station %s URL %s: %s (%s), quarantine VLAN %d",
		      log_station(request, sbuf, sizeof(sbuf)), buf, o->status, o->text,
		      inst->qvlan);
		break;

	case MUD_LOG_WARN:
	case MUD_LOG_ERROR:
		if (o->level == MUD_LOG_ERROR) {
			RERROR("MUD station %s URL %s: %s: %s (at %s); %s",
			       log_station(request, sbuf, sizeof(sbuf)), buf, o->status,
			       text ? text : "", where ? where : "", inst->qvlan > 0 ?
			       "quarantine VLAN applied" : "no quarantine VLAN");
		} else {
			RWARN("MUD station %s URL %s: %s: %s (at %s); %s",
			      log_station(request, sbuf, sizeof(sbuf)), buf, o->status,
			      text ? text : "", where ? where : "", inst->qvlan > 0 ?
			      "quarantine VLAN applied" : "no quarantine VLAN");
		}
		break;
	}

	snprintf(msg, sizeof(msg), "%s (at %s)", text ? text : "", where ? where : "");
	control_set(request, inst->da_status, o->status);
	control_set(request, inst->da_error, msg);
	reply_clear_ours(inst, request);
	if (inst->qvlan > 0) {
		size_t i;
		mud_rendered_t const *q = inst->quarantine;

		RDEBUG2("Applying quarantine VLAN %d", inst->qvlan);
		reply_vlan(inst, request, inst->qvlan);
		control_set_int(request, inst->da_vlan, (uint32_t)inst->qvlan);

		switch (inst->out) {
		case MUD_OUT_CISCO_DACL:
			if (inst->q_defined_v4) {
				bad |= reply_add_raw(request, inst->da_avpair, inst->q_defined_v4);
			}
			if (inst->q_defined_v6) {
				bad |= reply_add_raw(request, inst->da_avpair, inst->q_defined_v6);
			}
			break;

		case MUD_OUT_CISCO_INLINE:
			for (i = 0; i < q->num_v4; i++) {
				bad |= reply_add_raw(request, inst->da_avpair, q->v4[i]);
			}
			for (i = 0; i < q->num_v6; i++) {
				bad |= reply_add_raw(request, inst->da_avpair, q->v6[i]);
			}
			break;

		case MUD_OUT_NFR:
			for (i = 0; i < q->num_v4; i++) {
				bad |= reply_add_raw(request, inst->da_nfr, q->v4[i]);
			}
			break;
		}
	}
	if (bad) {
		REDEBUG("Out of memory adding the quarantine filter to the reply");
		reply_clear_ours(inst, request);
		return RLM_MODULE_FAIL;
	}
	return mud_to_rlm_rcode(code);
}

/*
 *	Pool of servers (redis { }, docs/high-availability.md): the hooks into libmud's Redis
 *	backend (mud_redis.h). Each one does nothing without a redis section.
 */

#define MUD_POOL_STATION_REFRESH	3600	//!< s: a station's shared record is rewritten at
						//!< least this often while it re-authenticates
#define MUD_POOL_COA_CLAIM		60	//!< s: one server re-authenticates a session per
						//!< policy within this time

/** The pool-wide fetch lease outlives both fetches (file and signature) with their timeouts. */
static unsigned int pool_lease_ms(rlm_mud_t const *inst)
{
	return (inst->connect_timeout + inst->timeout) * 2 * 1000;
}

/** The lines of a dACL name: the local cache, else the policy another server compiled
 *  (taken from Redis into the local cache). */
static bool pool_acl_lookup(rlm_mud_t *inst, REQUEST *request, char const *name, char ***lines,
			    size_t *num, bool *v6)
{
	char buf[MUD_LOG_CUT + 8];
	mud_error_t err;

	if (mud_cache_acl_lookup(inst->cache, request, name, lines, num, v6) && *num > 0) {
		return true;
	}
	if (!inst->redis) return false;
	log_safe(buf, sizeof(buf), name, strlen(name));
	mud_error_clear(&err);
	switch (mud_redis_acl_import(inst->redis, inst->cache, name, request->timestamp, &err)) {
	case MUD_REDIS_FOUND:
		RDEBUG2("MUD dACL %s: policy taken from Redis (compiled by another server)", buf);
		break;

	case MUD_REDIS_REFUSED:
		RWARN("MUD dACL %s: the policy in Redis was refused (%s): not served", buf,
		      err.text[0] ? err.text : "altered or forged value");
		return false;

	case MUD_REDIS_DOWN:
		RDEBUG2("MUD dACL %s: Redis unavailable, local state only", buf);
		return false;

	case MUD_REDIS_NONE:
		return false;
	}
	return mud_cache_acl_lookup(inst->cache, request, name, lines, num, v6) && *num > 0;
}

/** The holder of url's local fetch token, before it fetches: the policy another server of
 *  the pool fetched (now in the local cache; a copy under ctx), or NULL and fetch (lease:
 *  the pool-wide lease held, "" if Redis cannot say). Waits at most fetch_wait seconds for
 *  another server's fetch in progress. */
static mud_entry_t *pool_fetch_begin(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *url,
				     time_t now, char lease[MUD_REDIS_TOKEN_LEN])
{
	mud_entry_t *e = NULL;

	lease[0] = '\0';
	if (!inst->redis) return NULL;
	if (mud_redis_fetch_begin(inst->redis, inst->cache, url, now, pool_lease_ms(inst),
				  inst->fetch_wait * 1000, lease) != MUD_REDIS_SHARED) return NULL;
	if (mud_cache_lookup(inst->cache, ctx, &e, NULL, url, now) == MUD_CACHE_HIT && e &&
	    e->status == MUD_OK) return e;
	talloc_free(e);
	return NULL;
}

/** fetch_mode = background, a local miss: a fresh policy another server of the pool fetched
 *  answers now instead of "pending" (one Redis read, bounded by its timeout); the local fetch
 *  token goes back. */
static bool pool_policy_import(rlm_mud_t *inst, REQUEST *request, char const *url,
			       mud_entry_t **e)
{
	if (!inst->redis) return false;
	if (mud_redis_policy_import(inst->redis, inst->cache, url, request->timestamp, true, true,
				    NULL) != MUD_REDIS_FOUND) return false;
	if (mud_cache_lookup(inst->cache, request, e, NULL, url, request->timestamp) !=
	    MUD_CACHE_HIT || !*e) {
		TALLOC_FREE(*e);
		return false;
	}
	RDEBUG2("MUD policy taken from Redis (fetched by another server)");
	control_set(request, inst->da_cache, "shared");
	return true;
}

/** After a fetch: share the stored policy with the pool, release the lease. */
static void pool_fetch_end(rlm_mud_t *inst, char const *url, char const *lease, bool stored,
			   time_t now)
{
	if (!inst->redis) return;
	mud_redis_fetch_end(inst->redis, inst->cache, url, lease, stored, inst->cache_stale_max,
			    now);
}

/** Share where a station's session is when that changed (or at least hourly), so that a
 *  refresh on any server of the pool re-authenticates it. Never the CoA secret. */
static void pool_station(rlm_mud_t *inst, REQUEST *request, char const *key,
			 mud_station_t const *in, mud_station_t const *before)
{
	mud_station_t st;
	mud_error_t err;

	if (!inst->redis || !in->url_applied || !*in->url_applied) return;
	if (before->url_applied && strcmp(before->url_applied, in->url_applied) == 0 &&
	    before->policy_hash == in->policy_hash &&
	    strcmp(before->audit_session_id, in->audit_session_id) == 0 &&
	    strcmp(before->coa_dst, in->coa_dst) == 0 &&
	    request->timestamp < before->last + MUD_POOL_STATION_REFRESH) return;
	st = *in;
	snprintf(st.key, sizeof(st.key), "%s", key);
	st.coa_secret[0] = '\0';
	st.last = request->timestamp;
	mud_error_clear(&err);
	if (mud_redis_station_put(inst->redis, &st, before->url_applied,
				  MUD_STATIONS_IDLE_DEFAULT, &err) != MUD_OK) {
		RDEBUG3("MUD station %s not shared: %s", key, err.text);
	}
}

/** Add to the stations of url (n of them, a talloc array under ctx) those the pool knows that
 *  this server does not (at most max in all); the later news of a station wins. */
static size_t pool_stations(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *url,
			    mud_station_t **st, size_t n, size_t max)
{
	mud_station_t *rs = NULL;
	size_t rn;
	size_t i;
	size_t j;

	if (!inst->redis) return n;
	rn = mud_redis_stations_by_url(inst->redis, ctx, url, &rs, max);
	for (i = 0; i < rn; i++) {
		mud_station_t *na;

		for (j = 0; j < n; j++) {
			if (strcmp((*st)[j].key, rs[i].key) == 0) break;
		}
		if (j < n) {
			if (rs[i].last > (*st)[j].last) (*st)[j].policy_hash = rs[i].policy_hash;
			continue;
		}
		if (n >= max) break;
		na = talloc_realloc(ctx, *st, mud_station_t, n + 1);
		if (!na) break;
		*st = na;
		(*st)[n++] = rs[i];
	}
	return n;
}

/** The secret of a NAS for a CoA learned from the pool (the secret never goes into Redis):
 *  this server's client of that address (the pool shares clients.conf), else coa_secret. */
static char const *pool_coa_secret(char const *dst)
{
	fr_ipaddr_t ip;
	RADCLIENT *client;

	if (fr_pton(&ip, dst, -1, AF_UNSPEC, false) < 0) return NULL;
	client = client_find(NULL, &ip, IPPROTO_UDP);
	return client ? client->secret : NULL;
}

/** redis { }: the shared state of a pool (nothing without a server), created in sh. */
static int redis_instantiate(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	CONF_SECTION *cs = cf_section_sub_find(conf, "redis");
	mud_redis_opts_t o;
	mud_error_t err;
	char const *key;

	if (!cs) cs = conf;
	if (!inst->redis_server || !*inst->redis_server) return 0;
	if (!mud_redis_available()) {
		cf_log_err_cs(cs, "redis: this rlm_mud was built without hiredis (configure "
			      "reported redis: no): install libhiredis-dev and rebuild, or remove "
			      "the redis section");
		return -1;
	}
	if (inst->redis_tls) {
		cf_log_err_cs(cs, "redis: tls = yes is not supported by this build (Debian 12's "
			      "hiredis 0.14 has no TLS): keep Redis on 127.0.0.1 or a private "
			      "network, or tunnel it (docs/high-availability.md \"Security\")");
		return -1;
	}
	key = (inst->redis_key_file && *inst->redis_key_file) ? inst->redis_key_file :
	      inst->cache_key_file;
	if (!key || !*key) {
		cf_log_err_cs(cs, "redis: key_file (or the module's cache_key_file) is required: "
			      "every shared value is signed with it, the same file on every server "
			      "of the pool");
		return -1;
	}
	if (inst->redis_port < 1 || inst->redis_port > 65535) {
		cf_log_err_cs(cs, "redis: port must be 1..65535");
		return -1;
	}
	if (inst->redis_timeout < 1 || inst->redis_timeout > MUD_REDIS_TIMEOUT_MAX ||
	    inst->redis_connect_timeout < 1 ||
	    inst->redis_connect_timeout > MUD_REDIS_TIMEOUT_MAX) {
		cf_log_err_cs(cs, "redis: timeout and connect_timeout must be 1..%d ms",
			      MUD_REDIS_TIMEOUT_MAX);
		return -1;
	}
	if (inst->redis_pool_size < 1 || inst->redis_pool_size > MUD_REDIS_POOL_MAX) {
		cf_log_err_cs(cs, "redis: pool_size must be 1..%d", MUD_REDIS_POOL_MAX);
		return -1;
	}
	if (inst->redis_retry_max < 1 || inst->redis_retry_max > 3600) {
		cf_log_err_cs(cs, "redis: retry_max must be 1..3600 seconds");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.server = inst->redis_server;
	o.port = (uint16_t)inst->redis_port;
	o.username = inst->redis_username;
	o.password = inst->redis_password;
	o.database = inst->redis_database;
	o.prefix = inst->redis_prefix;
	o.key_file = key;
	o.connect_timeout_ms = inst->redis_connect_timeout;
	o.timeout_ms = inst->redis_timeout;
	o.pool_size = inst->redis_pool_size;
	o.retry_max_ms = inst->redis_retry_max * 1000;
	o.log = libmud_log;
	o.log_uctx = sh;
	mud_error_clear(&err);
	if (mud_redis_create(sh, &sh->redis, &o, &err) != MUD_OK) {
		cf_log_err_cs(cs, "redis: %s (at %s)", err.text, err.where);
		return -1;
	}
	inst->redis = sh->redis;
	/* never refused for an unreachable Redis: the pool's state is a bonus */
	(void)mud_redis_ping(sh->redis, NULL);
	INFO("rlm_mud (%s): pool state shared on Redis %s:%u database %u (prefix %s)",
	     inst->name, inst->redis_server, inst->redis_port, inst->redis_database,
	     inst->redis_prefix);
	return 0;
}

/*
 *	Accounting memory: Calling-Station-Id -> URL.
 */

/** Normalise a Calling-Station-Id: MAC-like values to 12 lowercase hex digits. */
static void station_key(char out[MUD_STATION_LEN], char const *in, size_t len)
{
	size_t i;
	size_t n = 0;
	size_t hex = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')) hex++;
		else if (c != ':' && c != '-' && c != '.') hex = 100;
	}
	for (i = 0; i < len && n + 1 < MUD_STATION_LEN; i++) {
		char c = in[i];

		if (hex == 12 && (c == ':' || c == '-' || c == '.')) continue;
		if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
		out[n++] = c;
	}
	out[n] = '\0';
}

static bool request_station(REQUEST *request, char key[MUD_STATION_LEN])
{
	VALUE_PAIR *vp;

	vp = fr_pair_find_by_num(request->packet->vps, PW_CALLING_STATION_ID, 0, TAG_ANY);
	if (!vp || vp->vp_length == 0) return false;
	station_key(key, vp->vp_strvalue, vp->vp_length);
	return key[0] != '\0';
}

/** The station index only reads the strings of its input: hand it a const one. */
static char *in_str(char const *s)
{
	union {
		char const	*c;
		char		*m;
	} u;

	u.c = s;
	return u.m;
}

static void seen_store(rlm_mud_t *inst, char const *key, char const *url, char const *src,
		       time_t now)
{
	mud_station_t in;

	memset(&in, 0, sizeof(in));
	in.url_seen = in_str(url);
	snprintf(in.url_seen_src, sizeof(in.url_seen_src), "%s", src);
	in.in_session = true;
	(void)mud_stations_update(inst->stations, key, &in, MUD_STATION_SEEN | MUD_STATION_SESSION,
				  now, NULL, NULL, NULL);
}

/** Accounting Stop: forget the URL seen in accounting (the applied URL stays). */
static void seen_forget(rlm_mud_t *inst, char const *key, time_t now)
{
	mud_station_t in;

	memset(&in, 0, sizeof(in));
	(void)mud_stations_update(inst->stations, key, &in, MUD_STATION_SEEN | MUD_STATION_SESSION,
				  now, NULL, NULL, NULL);
}

/** Copy out a URL remembered from accounting (under ctx); NULL if none. */
static char *seen_lookup(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *key, char src[24],
			 time_t now)
{
	mud_station_t st;

	if (!mud_stations_get(inst->stations, ctx, key, now, &st)) return NULL;
	talloc_free(st.url_applied);
	if (!st.url_seen) return NULL;
	snprintf(src, 24, "%s", st.url_seen_src);
	return st.url_seen;
}

/** Identifies the policy a station was given (mud_entry_policy_hash()); a cached entry
 *  carries it, computed once when stored. 0 = none (a pending or quarantine answer). */
static uint64_t policy_hash(mud_entry_t const *e)
{
	return e->policy_hash ? e->policy_hash : mud_entry_policy_hash(e);
}

/** Remember the URL (and policy) applied to a station, and where its session is for CoA.
 *
 * @return the URL applied before (under ctx) if it differs, else NULL.
 */
static char *seen_applied(rlm_mud_t *inst, REQUEST *request, char const *key, char const *url,
			  uint64_t hash, bool *same)
{
	mud_station_t in;
	mud_station_t before;
	unsigned int fields = MUD_STATION_APPLIED | MUD_STATION_NAS | MUD_STATION_COA;
	VALUE_PAIR *vp;
	vp_cursor_t cursor;
	rlm_mud_coa_target_t tgt;
	char *old = NULL;

	memset(&in, 0, sizeof(in));
	in.url_applied = in_str(url);
	in.policy_hash = hash;
	if (rlm_mud_coa_target_from_request(request, &tgt) == 0) {
		snprintf(in.coa_dst, sizeof(in.coa_dst), "%s", tgt.dst);
		in.coa_port = tgt.port;
		snprintf(in.coa_secret, sizeof(in.coa_secret), "%s", tgt.secret);
		/* NAS-IP-Address, else NAS-IPv6-Address, as text: the target holds it already */
		snprintf(in.nas_ip, sizeof(in.nas_ip), "%s", tgt.nas_ip);
	} else {
		vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_IP_ADDRESS, 0, TAG_ANY);
		if (vp) {
			inet_ntop(AF_INET, &vp->vp_ipaddr, in.nas_ip, sizeof(in.nas_ip));
		} else {
			vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_IPV6_ADDRESS, 0,
						 TAG_ANY);
			if (vp) inet_ntop(AF_INET6, &vp->vp_ipv6addr, in.nas_ip,
					  sizeof(in.nas_ip));
		}
	}
	vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_IDENTIFIER, 0, TAG_ANY);
	if (vp) snprintf(in.nas_id, sizeof(in.nas_id), "%s", vp->vp_strvalue);
	/* what a report of a background fetch names (as incident_report() does) */
	vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_PORT_ID, 0, TAG_ANY);
	if (vp) {
		snprintf(in.nas_port, sizeof(in.nas_port), "%s", vp->vp_strvalue);
	} else if ((vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_PORT, 0, TAG_ANY))) {
		snprintf(in.nas_port, sizeof(in.nas_port), "%u", vp->vp_integer);
	}
	vp = fr_pair_find_by_num(request->packet->vps, PW_USER_NAME, 0, TAG_ANY);
	if (vp) snprintf(in.user_name, sizeof(in.user_name), "%s", vp->vp_strvalue);
	vp = fr_pair_find_by_num(request->packet->vps, PW_FRAMED_IP_ADDRESS, 0, TAG_ANY);
	if (vp) inet_ntop(AF_INET, &vp->vp_ipaddr, in.ip, sizeof(in.ip));
	vp = fr_pair_find_by_num(request->packet->vps, PW_FRAMED_IPV6_ADDRESS, 0, TAG_ANY);
	if (vp) inet_ntop(AF_INET6, &vp->vp_ipv6addr, in.ip[0] ? in.ip6 : in.ip,
			  sizeof(in.ip));
	vp = fr_pair_find_by_num(request->packet->vps, PW_CALLING_STATION_ID, 0, TAG_ANY);
	if (vp) snprintf(in.calling_station_id, sizeof(in.calling_station_id), "%s",
			 vp->vp_strvalue);
	for (vp = fr_cursor_init(&cursor, &request->packet->vps);
	     vp;
	     vp = fr_cursor_next(&cursor)) {
		if (vp->da != inst->da_avpair || vp->vp_length <= 17 ||
		    strncmp(vp->vp_strvalue, "audit-session-id=", 17) != 0) continue;
		snprintf(in.audit_session_id, sizeof(in.audit_session_id), "%s",
			 vp->vp_strvalue + 17);
		fields |= MUD_STATION_AUDIT;
		break;
	}
	if (same) *same = false;
	if (mud_stations_update(inst->stations, key, &in, fields, request->timestamp, request,
				&before, NULL) != MUD_OK) return NULL;
	pool_station(inst, request, key, &in, &before);
	if (before.url_applied && strcmp(before.url_applied, url) != 0) old = before.url_applied;
	if (same && before.url_applied && !old && before.policy_hash == hash) *same = true;
	/* the copies not handed back are freed here, by this thread (not by the main thread
	 * with the request: a cross-thread free is the expensive kind) */
	if (!old) talloc_free(before.url_applied);
	talloc_free(before.url_seen);
	return old;
}

/*
 *	Incident reports (IODEF v2, docs/iodef.md "From the FreeRADIUS module").
 */

#define MUD_REPORT_ACTIONS	4	//!< HistoryItems the module adds (< MUD_IODEF_MAX_ACTIONS).

/** What was done about a request, for the History of its incident. */
typedef struct rlm_mud_actions {
	mud_incident_action_t	a[MUD_REPORT_ACTIONS];
	size_t			num;
	char			buf[MUD_REPORT_ACTIONS][MUD_LOG_CUT + 64];
	bool			interim;	//!< answered pending: nothing decided yet
} rlm_mud_actions_t;

static void actions_add(rlm_mud_actions_t *acts, bool contained, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));
static void actions_add(rlm_mud_actions_t *acts, bool contained, char const *fmt, ...)
{
	va_list ap;

	if (acts->num >= MUD_REPORT_ACTIONS) return;
	va_start(ap, fmt);
	vsnprintf(acts->buf[acts->num], sizeof(acts->buf[acts->num]), fmt, ap);
	va_end(ap);
	acts->a[acts->num].text = acts->buf[acts->num];
	acts->a[acts->num].contained = contained;
	acts->a[acts->num].at = 0;	/* decided while handling the request: its time */
	acts->num++;
}

/** The History of a failure: what mud_failed() does. */
static void actions_failed(rlm_mud_t const *inst, rlm_mud_actions_t *acts)
{
	if (inst->qvlan > 0) {
		actions_add(acts, true, "quarantine VLAN %d applied", inst->qvlan);
	} else {
		actions_add(acts, false, "MUD policy not applied (no quarantine VLAN; the site "
			    "policy decides)");
	}
}

/** Is a station key a MAC address (12 hex digits, as station_key() leaves it)? */
static bool station_is_mac(char const *key)
{
	size_t i;

	for (i = 0; key[i]; i++) {
		char c = key[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
	}
	return i == 12;
}

/** A request attribute's value as text (under request), or NULL. */
static char const *request_value(REQUEST *request, unsigned int attr)
{
	VALUE_PAIR *vp;

	vp = fr_pair_find_by_num(request->packet->vps, attr, 0, TAG_ANY);
	if (!vp) return NULL;
	return vp_aprints_value(request, vp, '\0');
}

/** Spool one incident and log it (INFO; with request, in its log). Never fails anything: a
 *  report that cannot be written is logged (rate-limited) instead. */
static void incident_spool(rlm_mud_t *inst, REQUEST *request, mud_incident_t *inc,
			   rlm_mud_actions_t const *acts, time_t now)
{
	mud_spool_status_t st;
	mud_error_t err;
	TALLOC_CTX *tmp;
	char *line;

	if (acts) {
		inc->actions = acts->a;
		inc->num_actions = acts->num;
	}
	mud_error_clear(&err);
	if (mud_spool_write(inst->spool, inc, &inst->iodef, now, &st, &err) != MUD_OK) {
		if (request) {
			RATE_LIMIT(RWARN("MUD incident (%s) not reported: %s (at %s)",
					 mud_event_name(inc->event), err.text, err.where));
		} else {
			RATE_LIMIT(WARN("rlm_mud (%s): MUD incident (%s) not reported: %s (at %s)",
					inst->name, mud_event_name(inc->event), err.text,
					err.where));
		}
		return;
	}
	inc->id = st.id;
	tmp = talloc_new(request);
	line = tmp ? mud_iodef_syslog_line(tmp, inc) : NULL;
	if (line && request) {
		if (st.aggregated) {
			RINFO("%s (repeat: %" PRIu64 " occurrences)", line, st.count);
		} else {
			RINFO("%s", line);
		}
	} else if (line) {
		if (st.aggregated) {
			INFO("rlm_mud (%s): %s (repeat: %" PRIu64 " occurrences)", inst->name, line,
			     st.count);
		} else {
			INFO("rlm_mud (%s): %s", inst->name, line);
		}
	}
	talloc_free(tmp);
}

/** The MUD server's side of an incident: URLs, evidence, the error. */
static void incident_fill(mud_incident_t *inc, mud_event_t event, char const *url,
			  char const *other_url, mud_policy_t const *evd, mud_rcode_t code,
			  char const *where, char const *text)
{
	inc->event = event;
	inc->mud_url = url;
	inc->other_url = other_url;
	inc->server_url = url;
	if (evd) {
		inc->sig_url = evd->sig_url;
		inc->server_ip = evd->server_ip;
		inc->server_cert_pem = evd->server_cert_pem;
		inc->file_sha256 = evd->file_sha256;
		inc->sig_sha256 = evd->sig_sha256;
	}
	inc->code = code;
	inc->where = where;
	inc->text = text;
}

/** Spool one incident about the request's device, and log it (INFO).
 *
 * @param[in] url	the device's MUD URL (also the MUD server's), may be NULL.
 * @param[in] other_url	conflict / change: the other URL.
 * @param[in] evd	what mud_policy_fetch() learned (server address, certificate,
 *			hashes), or NULL.
 */
static void incident_report(rlm_mud_t *inst, REQUEST *request, mud_event_t event,
			    char const *url, char const *other_url, mud_policy_t const *evd,
			    mud_rcode_t code, char const *where, char const *text,
			    rlm_mud_actions_t const *acts)
{
	mud_incident_t inc;
	char key[MUD_STATION_LEN];

	if (!inst->spool) return;

	memset(&inc, 0, sizeof(inc));
	incident_fill(&inc, event, url, other_url, evd, code, where, text);
	inc.time = request->timestamp;
	if (request_station(request, key) && station_is_mac(key)) inc.mac = key;
	inc.ip = request_value(request, PW_FRAMED_IP_ADDRESS);
	inc.ip6 = request_value(request, PW_FRAMED_IPV6_ADDRESS);
	if (!inc.ip) {
		inc.ip = inc.ip6;
		inc.ip6 = NULL;
	}
	inc.nas_ip = request_value(request, PW_NAS_IP_ADDRESS);
	if (!inc.nas_ip) inc.nas_ip = request_value(request, PW_NAS_IPV6_ADDRESS);
	inc.nas_port = request_value(request, PW_NAS_PORT_ID);
	if (!inc.nas_port) inc.nas_port = request_value(request, PW_NAS_PORT);
	inc.nas_id = request_value(request, PW_NAS_IDENTIFIER);
	inc.user_name = request_value(request, PW_USER_NAME);
	incident_spool(inst, request, &inc, acts, request->timestamp);
}

/** Spool one incident found by a background fetch, about a station waiting for url (the
 *  index's; NULL: the MUD server alone). */
static void incident_report_station(rlm_mud_t *inst, mud_station_t const *st, mud_event_t event,
				    char const *url, char const *other_url,
				    mud_policy_t const *evd, mud_error_t const *err,
				    rlm_mud_actions_t const *acts, time_t now)
{
	mud_incident_t inc;

	if (!inst->spool) return;
	memset(&inc, 0, sizeof(inc));
	incident_fill(&inc, event, url, other_url, evd, err->code, err->where, err->text);
	inc.time = now;
	if (st) {
		if (station_is_mac(st->key)) inc.mac = st->key;
		if (st->nas_ip[0]) inc.nas_ip = st->nas_ip;
		if (st->nas_id[0]) inc.nas_id = st->nas_id;
		if (st->nas_port[0]) inc.nas_port = st->nas_port;
		if (st->user_name[0]) inc.user_name = st->user_name;
		if (st->ip[0]) inc.ip = st->ip;
		if (st->ip6[0]) inc.ip6 = st->ip6;
	}
	incident_spool(inst, NULL, &inc, acts, now);
}

/*
 *	URL discovery.
 */

static void cand_add(rlm_mud_cand_t *c, size_t *num, mud_url_t *url, char const *src, int rank)
{
	if (*num >= MUD_MAX_CANDIDATES) return;
	c[*num].url = url;
	c[*num].src = src;
	c[*num].rank = rank;
	(*num)++;
}

/** Look in one list for the certificate extension attribute. */
static VALUE_PAIR *find_cert_attr(REQUEST *request, DICT_ATTR const *da)
{
	VALUE_PAIR *vp;

	if (!da) return NULL;
	vp = fr_pair_find_by_da(request->packet->vps, da, TAG_ANY);
	if (!vp) vp = fr_pair_find_by_da(request->reply->vps, da, TAG_ANY);	/* TLS resumption */
	return vp;
}

/** Collect URL candidates from every source.
 *
 * @param[out] bad	the first error of a malformed MUD source (url-invalid if no candidate).
 * @param[out] bad_url	the MUD-URL attribute's text when it was that source, else NULL.
 * @return number of candidates.
 */
static size_t collect_urls(rlm_mud_t *inst, REQUEST *request, rlm_mud_cand_t *c, mud_error_t *bad,
			   char const **bad_url)
{
	size_t num = 0;
	VALUE_PAIR *vp;
	vp_cursor_t cursor;
	mud_url_t *url;
	mud_error_t err;
	char buf[MUD_LOG_CUT + 8];

	vp = find_cert_attr(request, inst->da_cert_url);
	if (vp) {
		mud_error_clear(&err);
		if (mud_url_from_x509_ext(request, &url, vp->vp_octets, vp->vp_length,
					  &err) == MUD_OK) {
			cand_add(c, &num, url, "x509", RANK_X509);
		} else {
			RWDEBUG("Ignoring %s: %s (at %s)", MUD_DA_CERT_URL, err.text, err.where);
			if (bad->code == MUD_OK) *bad = err;
		}
	}

	vp = fr_pair_find_by_da(request->config, inst->da_url, TAG_ANY);
	if (!vp) vp = fr_pair_find_by_da(request->packet->vps, inst->da_url, TAG_ANY);
	if (vp) {
		mud_error_clear(&err);
		if (mud_url_parse(request, &url, vp->vp_strvalue, vp->vp_length, &err) == MUD_OK) {
			cand_add(c, &num, url, "attribute", RANK_ATTRIBUTE);
		} else {
			RWDEBUG("Ignoring MUD-URL \"%s\": %s",
				log_safe(buf, sizeof(buf), vp->vp_strvalue, vp->vp_length),
				err.text);
			if (bad->code == MUD_OK) {
				*bad = err;
				*bad_url = vp->vp_strvalue;
			}
		}
	}

	for (vp = fr_cursor_init(&cursor, &request->packet->vps);
	     vp;
	     vp = fr_cursor_next(&cursor)) {
		mud_url_src_t src = MUD_SRC_NONE;

		if (vp->da != inst->da_avpair) continue;
		mud_error_clear(&err);
		if (mud_url_from_avpair(request, &url, &src, (uint8_t const *)vp->vp_strvalue,
					vp->vp_length, &err) != MUD_OK) {
			if (err.code == MUD_ERR_NOT_MUD) continue;
			RWDEBUG("Ignoring Cisco-AVPair \"%s\": %s (at %s)",
				log_safe(buf, sizeof(buf), vp->vp_strvalue, vp->vp_length),
				err.text, err.where);
			if (bad->code == MUD_OK) *bad = err;
			continue;
		}
		cand_add(c, &num, url, mud_url_src_name(src),
			 src == MUD_SRC_LLDP ? RANK_LLDP : RANK_DHCP);
	}

	if (num == 0) {
		char key[MUD_STATION_LEN];
		char src[24] = "";
		char *str;

		if (!request_station(request, key)) return 0;
		str = seen_lookup(inst, request, key, src, request->timestamp);
		if (!str) return 0;
		mud_error_clear(&err);
		if (mud_url_parse(request, &url, str, strlen(str), &err) == MUD_OK) {
			char *name = talloc_asprintf(request, "accounting-%s", src);

			cand_add(c, &num, url, name ? name : "accounting", RANK_ACCOUNTING);
		}
	}
	return num;
}

/*
 *	Policy application.
 */

/** Build a cache-shaped entry straight from a fetched policy (under ctx). */
static mud_entry_t *entry_from_policy(TALLOC_CTX *ctx, mud_policy_t const *pol, time_t now,
				      uint32_t ceiling, uint32_t dns_min, uint32_t dns_max)
{
	mud_entry_t *e;
	mud_rendered_t const *r = pol->rendered;
	unsigned int validity = pol->rules ? pol->rules->cache_validity :
				MUD_CACHE_VALIDITY_DEFAULT;
	time_t life;

	e = talloc_zero(ctx, mud_entry_t);
	if (!e) return NULL;
	e->url = talloc_strdup(e, pol->url ? pol->url : "");
	e->status = MUD_OK;
	e->vlan = pol->rules ? pol->rules->vlan : 0;
	if (pol->file && pol->file->mfg_name) e->mfg_name = talloc_strdup(e, pol->file->mfg_name);
	if (pol->file && pol->file->model_name)
		e->model_name = talloc_strdup(e, pol->file->model_name);
	if (r) {
		if (r->acl_name_v4) e->acl_name_v4 = talloc_strdup(e, r->acl_name_v4);
		if (r->acl_name_v6) e->acl_name_v6 = talloc_strdup(e, r->acl_name_v6);
		e->lines_v4 = r->v4;	/* borrowed: pol outlives e within the request */
		e->num_v4 = r->num_v4;
		e->lines_v6 = r->v6;
		e->num_v6 = r->num_v6;
	}
	e->signer_der = pol->signer_der;	/* borrowed too: what the fetch verified */
	e->signer_der_len = pol->signer_der_len;
	e->signer_chain = pol->signer_chain;
	e->signer_chain_len = pol->signer_chain_len;
	e->cache_validity = validity;
	/* a recompiled policy keeps the time its file was fetched: the file's cache-validity
	 * counts from then, its DNS answers' TTL from now (as the cache computes it) */
	e->fetched = pol->fetched ? pol->fetched : now;
	life = (time_t)validity * 3600;
	if (ceiling > 0 && life > (time_t)ceiling) life = ceiling;
	e->expires = e->fetched + life;
	if (dns_max > 0 && pol->rules && pol->rules->dns_ttl > 0) {
		time_t ttl = (time_t)pol->rules->dns_ttl;

		if (ttl < (time_t)dns_min) ttl = dns_min;
		if (ttl > (time_t)dns_max) ttl = dns_max;
		if (now + ttl < e->expires) e->expires = now + ttl;
	}
	memcpy(e->file_sha256, pol->file_sha256, sizeof(e->file_sha256));
	return e;
}

/** Attribute bytes a list of lines takes as Cisco-AVPairs / NAS-Filter-Rules. */
static size_t lines_bytes(char * const *lines, size_t num, size_t overhead)
{
	size_t i;
	size_t total = 0;

	for (i = 0; i < num; i++) total += strlen(lines[i]) + overhead;
	return total;
}

/** Add Cisco-AVPair = "ACS:CiscoSecure-Defined-ACL=<name>" to the reply (the line built on
 *  the stack: no string left behind per request). */
static int reply_add_defined_acl(rlm_mud_t const *inst, REQUEST *request, char const *name)
{
	static char const prefix[] = "ACS:CiscoSecure-Defined-ACL=";
	size_t plen = sizeof(prefix) - 1;
	size_t nlen = strlen(name);
	char buf[512];
	char *line;

	if (plen + nlen < sizeof(buf)) {
		memcpy(buf, prefix, plen);
		memcpy(buf + plen, name, nlen + 1);
		return reply_add_raw(request, inst->da_avpair, buf);
	}
	line = talloc_asprintf(request, "%s%s", prefix, name);
	if (!line) return -1;
	return reply_add_raw(request, inst->da_avpair, line);
}

/** Put a good policy into the reply and the control list. */
static rlm_rcode_t apply_entry(rlm_mud_t const *inst, REQUEST *request, mud_entry_t const *e,
			       char const *url, bool conflict)
{
	char buf[MUD_LOG_CUT + 8];
	size_t i;

	reply_clear_ours(inst, request);

	switch (inst->out) {
	case MUD_OUT_CISCO_DACL:
		if (e->acl_name_v4) {
			if (reply_add_defined_acl(inst, request, e->acl_name_v4) < 0) goto nomem;
			control_add(request, inst->da_acl_name, e->acl_name_v4);
		}
		if (e->acl_name_v6) {
			if (reply_add_defined_acl(inst, request, e->acl_name_v6) < 0) goto nomem;
			control_add(request, inst->da_acl_name, e->acl_name_v6);
		}
		break;

	case MUD_OUT_CISCO_INLINE:
	case MUD_OUT_NFR:
	{
		DICT_ATTR const *da = inst->out == MUD_OUT_NFR ? inst->da_nfr : inst->da_avpair;
		size_t overhead = inst->out == MUD_OUT_NFR ? 2 : MUD_VSA_OVERHEAD;

		if (lines_bytes(e->lines_v4, e->num_v4, overhead) +
		    lines_bytes(e->lines_v6, e->num_v6, overhead) > MUD_PAGE_BYTES) {
			return mud_failed(inst, request, MUD_ERR_LIMIT, "output_format",
					  "policy does not fit in one reply; "
					  "use output_format = cisco-dacl",
					  url);
		}
		for (i = 0; i < e->num_v4; i++) {
			if (reply_add_raw(request, da, e->lines_v4[i]) < 0) goto nomem;
		}
		for (i = 0; i < e->num_v6; i++) {
			if (reply_add_raw(request, da, e->lines_v6[i]) < 0) goto nomem;
		}
	}
		break;
	}

	reply_vlan(inst, request, e->vlan);
	if (e->vlan > 0) control_set_int(request, inst->da_vlan, (uint32_t)e->vlan);
	if (e->mfg_name) control_set(request, inst->da_mfg, e->mfg_name);
	if (e->model_name) control_set(request, inst->da_model, e->model_name);
	control_set(request, inst->da_status, conflict ? "url-conflict" : "ok");
	fr_pair_delete_by_da(&request->config, inst->da_error);
	if (e->expires > request->timestamp) {
		uint32_t left = (uint32_t)(e->expires - request->timestamp);

		control_set_int(request, inst->da_expires, left);
		if (inst->session_timeout) {
			char tbuf[16];

			snprintf(tbuf, sizeof(tbuf), "%u", left);
			pair_make_reply("Session-Timeout", tbuf, T_OP_SET);
		}
	}
	RDEBUG2("MUD policy for %s applied: vlan %d, %zu IPv4 and %zu IPv6 lines",
		log_safe(buf, sizeof(buf), url, strlen(url)), e->vlan, e->num_v4, e->num_v6);
	return RLM_MODULE_UPDATED;

nomem:
	/* never a VLAN without its filter: fail closed (the quarantine, or reject) */
	return mud_failed(inst, request, MUD_ERR_NOMEM, "reply",
			  "out of memory adding the policy to the reply", url);
}

/** The cache refused pol: one of its dACL names is bound to other lines (MUD_ERR_CONFLICT in
 *  err, where = the name). Log it, remember the failure; *evd = pol for the incident report. */
static void acl_conflict(rlm_mud_t *inst, REQUEST *request, char const *url, mud_policy_t *pol,
			 mud_policy_t **evd, mud_error_t const *err)
{
	char *holder = mud_cache_acl_holder(inst->cache, request, err->where);
	char buf[MUD_LOG_CUT + 8];
	char buf2[MUD_LOG_CUT + 8];

	ERROR("rlm_mud (%s): dACL name %s of %s is already bound to other lines, those of %s: "
	      "policy refused, the first binding kept", inst->name, err->where,
	      log_safe(buf, sizeof(buf), url, strlen(url)),
	      holder ? log_safe(buf2, sizeof(buf2), holder, strlen(holder)) : "(unknown)");
	mud_cache_fail(inst->cache, url, err->code, err->where, err->text, request->timestamp);
	*evd = pol;
}

/*
 *	Local enforcement (enforce = nftables, docs/enforce.md): the station's rules installed on
 *	this gateway after Access-Accept, removed at Accounting Stop or session expiry.
 */

static void enforce_log(void *uctx, mud_log_level_t level, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));
static void enforce_log(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	rlm_mud_shared_t const *inst = uctx;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	switch (level) {
	case MUD_LOG_DEBUG:
		DEBUG3("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_INFO:
		DEBUG2("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_WARN:
		WARN("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_ERROR:
		ERROR("rlm_mud (%s): %s", inst->name, buf);
		break;
	}
}

/** The station as a MAC "xx:xx:xx:xx:xx:xx" (false if the station key is not a MAC). */
static bool enforce_mac(char const *key, char mac[18])
{
	size_t i;

	if (strlen(key) != 12) return false;
	for (i = 0; i < 6; i++) {
		mac[i * 3] = key[i * 2];
		mac[i * 3 + 1] = key[i * 2 + 1];
		mac[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return true;
}

/** Remember the compiled rules of a fetched policy for later Access-Accepts. */
static void enforce_remember(rlm_mud_t *inst, REQUEST *request, char const *url,
			     mud_policy_t const *pol)
{
	mud_error_t err;

	if (!inst->enforce_state || !pol->rules) return;
	mud_error_clear(&err);
	if (mud_enforce_remember(inst->enforce_state, url, pol->rules, &err) != MUD_OK) {
		RWDEBUG("MUD enforce: %s", err.text);
	}
}

/** The request's control:MUD-Status as its value name ("ok", "no-url", ...), NULL if unset. */
static char const *enforce_status(rlm_mud_t const *inst, REQUEST *request)
{
	VALUE_PAIR *vp = fr_pair_find_by_da(request->config, inst->da_status, TAG_ANY);

	if (!vp) return NULL;
	return dict_valnamebyattr(inst->da_status->attr, inst->da_status->vendor,
				  (int)vp->vp_integer);
}

/** Has this request's MUD policy been decided already (MUD-Status set, a URL seen)? */
static bool enforce_decided(rlm_mud_t const *inst, REQUEST *request)
{
	char const *status = enforce_status(inst, request);

	return status && strcmp(status, "no-url") != 0;
}

/** End of post-auth: an Access-Accept installs the station's rules (its policy, else the
 *  quarantine set: never more than the policy). */
static rlm_rcode_t enforce_post_auth(rlm_mud_t *inst, REQUEST *request)
{
	char key[MUD_STATION_LEN];
	char mac[18];
	VALUE_PAIR *vp;
	char const *status;
	char const *url = NULL;
	time_t expires = 0;
	mud_error_t err;
	mud_rcode_t rc;

	(void)mud_enforce_expire(inst->enforce_state, request->timestamp);
	if (request->reply->code != PW_CODE_ACCESS_ACCEPT) return RLM_MODULE_NOOP;
	status = enforce_status(inst, request);
	if (!status) status = "no-url";
	/* a dACL download is the switch asking, not a station */
	if (strcmp(status, "acl-served") == 0 || strcmp(status, "acl-unknown") == 0) {
		return RLM_MODULE_NOOP;
	}
	if (!request_station(request, key) || !enforce_mac(key, mac)) {
		/* it would be admitted unfiltered: fail (rejected), never wider than the policy */
		REDEBUG("MUD enforce: Calling-Station-Id is not a MAC address: no rules can be "
			"installed");
		return RLM_MODULE_FAIL;
	}
	mud_error_clear(&err);
	vp = fr_pair_find_by_num(request->reply->vps, PW_SESSION_TIMEOUT, 0, TAG_ANY);
	if (vp && vp->vp_integer > 0) expires = request->timestamp + vp->vp_integer;
	/* url-conflict: the winning source's policy is applied (docs/configuration.md) */
	if (strcmp(status, "ok") == 0 || strcmp(status, "url-conflict") == 0) {
		vp = fr_pair_find_by_da(request->config, inst->da_url, TAG_ANY);
		url = vp ? vp->vp_strvalue : NULL;
	}
	if (url) {
		rc = mud_enforce_apply_url(inst->enforce_state, mac, url, expires, &err);
		if (rc == MUD_OK) {
			RDEBUG2("MUD enforce: rules of %s installed for %s", url, mac);
			return RLM_MODULE_UPDATED;
		}
		REDEBUG("MUD enforce: %s: %s (at %s); quarantine rules instead", mac, err.text,
			err.where);
		mud_error_clear(&err);
	}
	rc = mud_enforce_apply(inst->enforce_state, mac, inst->enforce_quarantine, NULL, expires,
			       &err);
	if (rc != MUD_OK) {
		REDEBUG("MUD enforce: %s: %s (at %s)", mac, err.text, err.where);
		return RLM_MODULE_FAIL;
	}
	RDEBUG2("MUD enforce: quarantine rules installed for %s (status %s)", mac, status);
	return RLM_MODULE_UPDATED;
}

/** Accounting Stop: the station's rules go. */
static void enforce_stop(rlm_mud_t *inst, REQUEST *request, char const *key)
{
	char mac[18];
	bool found = false;
	mud_error_t err;

	if (!inst->enforce_state) return;
	(void)mud_enforce_expire(inst->enforce_state, request->timestamp);
	if (!enforce_mac(key, mac)) return;
	mud_error_clear(&err);
	if (mud_enforce_remove(inst->enforce_state, mac, &found, &err) != MUD_OK) {
		REDEBUG("MUD enforce: %s: %s (at %s)", mac, err.text, err.where);
	} else if (found) {
		RDEBUG2("MUD enforce: rules of %s removed", mac);
	}
}

/** enforce = nftables: the quarantine rules of this instance's site context. */
static int enforce_instantiate(CONF_SECTION *conf, rlm_mud_t *inst)
{
	mud_error_t err;

	if (!inst->enforce || strcmp(inst->enforce, "none") == 0) return 0;
	if (strcmp(inst->enforce, "nftables") != 0) {
		cf_log_err_cs(conf, "enforce must be none or nftables, not \"%s\"", inst->enforce);
		return -1;
	}
	mud_error_clear(&err);
	if (mud_ruleset_quarantine(inst, &inst->enforce_quarantine, inst->site, &err) != MUD_OK) {
		cf_log_err_cs(conf, "enforce: quarantine rules: %s", err.text);
		return -1;
	}
	return 0;
}

/** enforce = nftables: open the table in sh (fails here, not on the first request, without
 *  CAP_NET_ADMIN or nftables support). */
static int enforce_open(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	mud_enforce_opts_t o;
	mud_error_t err;

	if (!inst->enforce_quarantine) return 0;
	memset(&o, 0, sizeof(o));
	o.table = inst->enforce_table;
	o.bridge = inst->enforce_bridge;
	o.track = inst->enforce_track;
	o.log = enforce_log;
	o.log_uctx = sh;
	mud_error_clear(&err);
	if (mud_enforce_open(sh, &sh->enforce_state, &o, &err) != MUD_OK) {
		cf_log_err_cs(conf, "enforce = nftables: %s (%s)", err.text, err.where);
		return -1;
	}
	INFO("rlm_mud (%s): enforcing with nftables table %s%s%s", inst->name, inst->enforce_table,
	     inst->enforce_bridge ? " on bridge " : "",
	     inst->enforce_bridge ? inst->enforce_bridge : "");
	return 0;
}

/** Pipeline options from the module configuration (no per-device part). */
static void policy_opts(rlm_mud_t const *inst, mud_policy_opts_t *opts_out)
{
	mud_policy_opts_t opts;

	memset(&opts, 0, sizeof(opts));
	opts.fetch.ca = inst->ca;		/* ca_file/ca_path, as loaded (HUP reloads) */
	opts.fetch.connect_timeout_ms = (long)inst->connect_timeout * 1000;
	opts.fetch.timeout_ms = (long)inst->timeout * 1000;
	opts.fetch.max_size = inst->max_file_size;
	opts.fetch.max_redirs = (long)inst->max_redirects;
	/* the URL, every redirect and every address connected to (also the signature's) */
	opts.fetch.policy = inst->urlpolicy;
	opts.fetch.proxy = inst->proxy;		/* environment proxies are never used */
	opts.fetch.no_proxy = inst->no_proxy;
	opts.trust = inst->trust;
	opts.require_signature = inst->require_signature;
	opts.parse_flags = inst->lenient ? MUD_PARSE_LENIENT : MUD_PARSE_STRICT;
	opts.site = inst->site;
	opts.format = inst->out == MUD_OUT_NFR ? MUD_FMT_NAS_FILTER_RULE : MUD_FMT_CISCO_DACL;
	opts.compile_tag = inst->compile_tag;
	*opts_out = opts;
}

#define MUD_JOB_FETCH	"fetch"	//!< job argument: fetch even if the kept file could be recompiled
				//!< (an operator's refresh asks the MUD server)

/** url's cached policy made again from the MUD file the cache keeps (cache_dir), without the
 *  network, when the file is still within its cache-validity: what a policy compiled with
 *  another site context (a reload), or whose DNS answers passed their TTL, needs. The
 *  signature is verified again, against the current trust anchors, at the time the file was
 *  fetched (as mud_cache_revalidate() does). NULL when nothing is kept (no cache_dir, a
 *  policy from Redis, the file past its cache-validity: debug) or the recompile fails
 *  (warned): the caller fetches. */
static mud_policy_t *policy_recompile(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *url,
				      time_t now, mud_policy_opts_t const *opts_in)
{
	mud_policy_opts_t opts = *opts_in;
	mud_source_t *src = NULL;
	mud_policy_t *pol = NULL;
	mud_error_t err;
	bool refused = false;
	char buf[MUD_LOG_CUT + 8];

	if (!inst->cache_dir || !*inst->cache_dir) return NULL;
	mud_error_clear(&err);
	if (mud_cache_source(inst->cache, ctx, url, now, &src, &refused, &err) != MUD_OK) {
		if (refused) {	/* altered or not the server's: someone wrote in cache_dir */
			mud_metrics_recompile(inst->metrics, false);
			WARN("rlm_mud (%s): MUD %s: %s (at %s); fetching it again", inst->name,
			     log_safe(buf, sizeof(buf), url, strlen(url)), err.text, err.where);
		} else {
			DEBUG2("rlm_mud (%s): MUD %s: fetched, not recompiled: %s", inst->name,
			       log_safe(buf, sizeof(buf), url, strlen(url)), err.text);
		}
		return NULL;
	}
	opts.at = src->fetched;
	mud_error_clear(&err);
	if (mud_policy_from_bytes(ctx, &pol, url, src->file, src->file_len, src->sig,
				  src->sig_len, &opts, &err) != MUD_OK) {
		mud_metrics_recompile(inst->metrics, false);
		WARN("rlm_mud (%s): MUD %s: the kept MUD file does not compile now: %s (at %s); "
		     "fetching it again", inst->name, log_safe(buf, sizeof(buf), url, strlen(url)),
		     err.text, err.where);
		talloc_free(src);
		return NULL;
	}
	mud_metrics_recompile(inst->metrics, true);
	pol->fetched = src->fetched;	/* its cache-validity still counts from the fetch */
	pol->recompiled = true;
	talloc_free(src);
	return pol;
}

/** Fetch a policy for url (caller holds the fetch token) and settle the cache.
 *  On failure *evd is what the fetch learned (under request; NULL if nothing). */
static mud_entry_t *fetch_policy(rlm_mud_t *inst, REQUEST *request, mud_url_t const *url,
				 mud_policy_t **evd, mud_error_t *err)
{
	mud_policy_opts_t opts;
	mud_policy_t *pol = NULL;
	mud_entry_t *e;
	char buf[MUD_LOG_CUT + 8];
	char lease[MUD_REDIS_TOKEN_LEN];

	*evd = NULL;
	policy_opts(inst, &opts);
	/* a policy to compile again (another context, DNS answers past their TTL) whose file
	 * is kept: no network in the request path */
	pol = policy_recompile(inst, request, url->url, request->timestamp, &opts);
	if (pol) {
		lease[0] = '\0';
		RDEBUG2("MUD policy of %s recompiled from the kept file",
			log_safe(buf, sizeof(buf), url->url, strlen(url->url)));
		goto store;
	}
	/* no mud-signer here: the policy is the URL's, for every device; mud_policy_for()
	 * checks each device's mud-signer against the signer the cache records, so one
	 * device's constraint never turns the URL into a failure for the others */
	e = pool_fetch_begin(inst, request, url->url, request->timestamp, lease);
	if (e) {
		RDEBUG2("MUD policy of %s taken from Redis (fetched by another server)",
			log_safe(buf, sizeof(buf), url->url, strlen(url->url)));
		control_set(request, inst->da_cache, "shared");
		return e;
	}
	RDEBUG2("Fetching MUD file %s", log_safe(buf, sizeof(buf), url->url, strlen(url->url)));
	if (mud_policy_fetch(request, &pol, url->url, &opts, evd, err) != MUD_OK) {
		mud_metrics_fetch(inst->metrics, err->code);
		mud_cache_fail(inst->cache, url->url, err->code, err->where, err->text,
			       request->timestamp);
		pool_fetch_end(inst, url->url, lease, false, request->timestamp);
		return NULL;
	}
	mud_metrics_fetch(inst->metrics, MUD_OK);

store:
	if (pol->signer) RDEBUG2("MUD file signed by %s", log_safe(buf, sizeof(buf), pol->signer,
								  strlen(pol->signer)));
	enforce_remember(inst, request, url->url, pol);
	if (pol->rendered && pol->rendered->num_skipped > 0) {
		RWDEBUG("%zu rule(s) cannot be enforced by %s and were left out",
			pol->rendered->num_skipped, inst->output_format);
	}
	if (pol->file) {
		size_t i;

		for (i = 0; i < pol->file->num_warnings; i++) {
			RWDEBUG("MUD file: %s (at %s)", pol->file->warnings[i].text,
				pol->file->warnings[i].where);
		}
	}
	if (pol->rules) {
		size_t i;

		for (i = 0; i < pol->rules->num_warnings; i++) {
			RWDEBUG("MUD warning: %s (at %s)", pol->rules->warnings[i].text,
				pol->rules->warnings[i].where);
		}
	}
	if (mud_cache_store(inst->cache, url->url, pol, request->timestamp, err) != MUD_OK) {
		if (err->code == MUD_ERR_CONFLICT) {
			acl_conflict(inst, request, url->url, pol, evd, err);
			if (!pol->recompiled) {
				pool_fetch_end(inst, url->url, lease, false, request->timestamp);
			}
			return NULL;
		}
		RWDEBUG("Policy not cached: %s", err->text);
		mud_error_clear(err);
	}
	if (!pol->recompiled) pool_fetch_end(inst, url->url, lease, true, request->timestamp);
	e = entry_from_policy(request, pol, request->timestamp, inst->cache_max_validity,
			      inst->dns_refresh_min, inst->dns_refresh_max);
	if (!e) mud_error_set(err, MUD_ERR_NOMEM, "rlm_mud", "out of memory");
	return e;
}

/** Wake the requests waiting for an in-flight fetch (any URL: each re-checks its own). */
static void fetch_settled(rlm_mud_t *inst)
{
	pthread_mutex_lock(&inst->sh->wait_mutex);
	inst->sh->fetch_gen++;
	pthread_cond_broadcast(&inst->sh->wait_cond);
	pthread_mutex_unlock(&inst->sh->wait_mutex);
}

/** Another thread fetches url: wait (at most fetch_wait seconds) until it settles.
 *
 * Looks the URL up again after each settled fetch. Returns as soon as the cache
 * has an answer (HIT, STALE or NEGATIVE) or hands this caller the fetch token
 * (the holder gave up); MISS without a token after the deadline.
 */
static mud_cache_result_t wait_inflight(rlm_mud_t *inst, REQUEST *request, char const *url,
					mud_entry_t **e, bool *token)
{
	struct timespec deadline;
	mud_cache_result_t cr = MUD_CACHE_MISS;
	int rc = 0;

	if (inst->fetch_wait == 0) return MUD_CACHE_MISS;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)inst->fetch_wait;

	RDEBUG2("Waiting up to %u s for the fetch of this URL in progress elsewhere",
		inst->fetch_wait);
	while (rc != ETIMEDOUT) {
		uint64_t gen;

		pthread_mutex_lock(&inst->sh->wait_mutex);
		gen = inst->sh->fetch_gen;
		pthread_mutex_unlock(&inst->sh->wait_mutex);

		cr = mud_cache_lookup(inst->cache, request, e, token, url, request->timestamp);
		if (cr != MUD_CACHE_MISS || *token) return cr;

		pthread_mutex_lock(&inst->sh->wait_mutex);
		while (inst->sh->fetch_gen == gen && rc != ETIMEDOUT) {
			rc = pthread_cond_timedwait(&inst->sh->wait_cond, &inst->sh->wait_mutex,
						    &deadline);
			if (rc != 0 && rc != ETIMEDOUT) rc = ETIMEDOUT;	/* EINVAL: give up */
		}
		pthread_mutex_unlock(&inst->sh->wait_mutex);
	}
	return mud_cache_lookup(inst->cache, request, e, token, url, request->timestamp);
}

/** The security event a failed fetch or a refused URL stands for (false: none, e.g. the
 *  server is down), with the other URL the report names (NULL: none). */
static bool failure_event(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *url,
			  mud_policy_t const *evd, mud_error_t const *err, mud_event_t *ev,
			  char const **other)
{
	*other = NULL;
	if (!mud_event_from_rcode(err->code, ev)) return false;
	if (*ev == MUD_EVENT_URL_MISMATCH && evd) {
		*other = evd->file_mud_url;
	} else if (*ev == MUD_EVENT_ACL_CONFLICT) {
		*other = mud_cache_acl_holder(inst->cache, ctx, err->where);	/* first binding */
	} else if (*ev == MUD_EVENT_URL_REFUSED && evd && evd->refused_url && url &&
		   strcmp(evd->refused_url, url) != 0) {
		*other = evd->refused_url;	/* the signature URL or redirect hop refused */
	}
	return true;
}

/** What was done about a failure (stale: the last good policy is still served; else
 *  what mud_failed() does). */
static void failure_actions(rlm_mud_t const *inst, mud_rcode_t code, bool stale,
			    rlm_mud_actions_t *acts)
{
	if (code == MUD_ERR_REFUSED) actions_add(acts, false, "MUD URL refused; not fetched");
	if (stale) {
		actions_add(acts, false, "last good policy kept (cached policy of this URL still "
			    "served)");
	} else {
		actions_failed(inst, acts);
	}
}

/** Record what was done about a failed fetch or a refused URL in acts, and report it if
 *  the error is a security event, with the evidence. */
static void report_failure(rlm_mud_t *inst, REQUEST *request, char const *url,
			   mud_policy_t const *evd, mud_error_t const *err, bool stale,
			   rlm_mud_actions_t *acts)
{
	mud_event_t ev;
	char const *other;

	failure_actions(inst, err->code, stale, acts);
	if (!failure_event(inst, request, url, evd, err, &ev, &other)) return;
	incident_report(inst, request, ev, url, other, evd, err->code, err->where, err->text,
			acts);
}

/** A policy was applied: remember its URL for the station, report a change. */
static bool check_url_change(rlm_mud_t *inst, REQUEST *request, char const *url, uint64_t hash)
{
	char key[MUD_STATION_LEN];
	char *old;
	char *text;
	rlm_mud_actions_t acts;
	char buf[MUD_LOG_CUT + 8];
	char buf2[MUD_LOG_CUT + 8];
	bool same = false;

	if (!request_station(request, key)) return false;
	old = seen_applied(inst, request, key, url, hash, &same);
	if (!old) return same;

	RINFO("MUD URL of %s changed from %s to %s", key,
	      log_safe(buf, sizeof(buf), old, strlen(old)),
	      log_safe(buf2, sizeof(buf2), url, strlen(url)));
	if (!inst->spool) return false;
	text = talloc_asprintf(request, "MUD URL of %s changed from %s to %s", key, old, url);
	memset(&acts, 0, sizeof(acts));
	actions_add(&acts, false, "policy of the new MUD URL applied");
	incident_report(inst, request, MUD_EVENT_URL_CHANGED, url, old, NULL, MUD_OK, "MUD-URL",
			text, &acts);
	return false;
}


/*
 *	Background fetching (fetch_mode = background): the request never waits on the
 *	network. A miss answers at once with MUD-Status = pending (the quarantine VLAN and
 *	filter, a short Session-Timeout, Termination-Action = RADIUS-Request); the fetch
 *	runs on the fetch service; when it settles, the stations waiting for that URL are
 *	re-authenticated with CoA (coa = yes) or at their Session-Timeout.
 */

#define MUD_COA_BATCH	4096	//!< stations re-authenticated per settled fetch, at most
#define MUD_HASH_FAILED	UINT64_MAX	//!< policy_hash of "no policy: the fetch failed"
					//!< (a pending station has 0, a policy another value)

/** CoA to every station whose applied policy of url differs from the one now cached. */
static void coa_for_url(rlm_mud_t *inst, char const *url, uint64_t hash, time_t now)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	mud_station_t *st = NULL;
	mud_error_t err;
	size_t n = 0;
	size_t i;
	size_t sent = 0;

	if (!tmp) return;
	mud_error_clear(&err);
	if (mud_stations_by_url(inst->stations, tmp, url, &st, MUD_COA_BATCH, &n, &err) !=
	    MUD_OK) {
		WARN("rlm_mud (%s): stations of %s: %s: only %zu get CoA, the others at their "
		     "next re-authentication", inst->name, url, err.text, n);
	}
	n = pool_stations(inst, tmp, url, &st, n, MUD_COA_BATCH);
	if (n == MUD_COA_BATCH) {
		WARN("rlm_mud (%s): more than %d stations use %s: only the first %d get CoA, the "
		     "others at their next re-authentication", inst->name, MUD_COA_BATCH, url,
		     MUD_COA_BATCH);
	}
	for (i = 0; i < n; i++) {
		rlm_mud_coa_req_t req;

		if (st[i].policy_hash == hash || !st[i].coa_dst[0]) continue;
		/* in a pool, one server re-authenticates each session per policy */
		if (inst->redis && !mud_redis_coa_claim(inst->redis, st[i].key, hash,
							MUD_POOL_COA_CLAIM)) continue;
		memset(&req, 0, sizeof(req));
		req.dst = st[i].coa_dst;
		req.port = st[i].coa_port;
		req.secret = st[i].coa_secret[0] ? st[i].coa_secret :
			     pool_coa_secret(st[i].coa_dst);
		req.nas_ip = st[i].nas_ip;
		req.audit_session_id = st[i].audit_session_id;
		/* with the audit-session-id known, the switch needs nothing else to match */
		req.calling_station_id = st[i].audit_session_id[0] ? NULL :
					 st[i].calling_station_id;
		req.cookie = (uint64_t)now;
		if (rlm_mud_coa_send(inst->coa, &req) == 0) sent++;
	}
	if (sent) INFO("rlm_mud (%s): CoA sent to %zu station(s) for %s %s", inst->name, sent,
		       hash == MUD_HASH_FAILED ? "the failed fetch (quarantine) of" :
		       "the new policy of", url);
	talloc_free(tmp);
}

/** enforce = nftables: the gateway enforces itself, so a settled fetch installs the new rules
 *  of every station waiting for (or using another policy of) url at once, without waiting for
 *  its re-authentication. */
static void enforce_for_url(rlm_mud_t *inst, char const *url, uint64_t hash)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	mud_station_t *st = NULL;
	size_t n = 0;
	size_t i;
	size_t done = 0;
	mud_error_t err;

	if (!tmp) return;
	mud_error_clear(&err);
	if (mud_stations_by_url(inst->stations, tmp, url, &st, MUD_COA_BATCH, &n, &err) !=
	    MUD_OK) {
		WARN("rlm_mud (%s): MUD enforce: stations of %s: %s", inst->name, url, err.text);
	}
	for (i = 0; i < n; i++) {
		char mac[18];

		if (st[i].policy_hash == hash || !enforce_mac(st[i].key, mac)) continue;
		mud_error_clear(&err);
		if (mud_enforce_apply_url(inst->enforce_state, mac, url, 0, &err) != MUD_OK) {
			WARN("rlm_mud (%s): MUD enforce: %s: %s (at %s)", inst->name, mac, err.text,
			     err.where);
			continue;
		}
		done++;
	}
	if (done) INFO("rlm_mud (%s): MUD enforce: rules of %s installed for %zu station(s) by "
		       "its background fetch", inst->name, url, done);
	talloc_free(tmp);
}

/** A background fetch (or its policy) failed: record it in the cache, log it, report a
 *  security event about a station waiting for url, and re-authenticate the stations that
 *  waited (they now get the failure's answer, the quarantine). A refresh that fails while
 *  the last good policy may still be served changes nothing for the stations. */
static void background_failed(rlm_mud_t *inst, TALLOC_CTX *ctx, char const *url,
			      mud_policy_t const *evd, mud_error_t const *err, time_t now,
			      bool stopping)
{
	mud_station_t *st = NULL;
	size_t n = 0;
	bool kept;
	mud_event_t ev;
	char const *other;
	rlm_mud_actions_t acts;
	char buf[MUD_LOG_CUT + 8];

	kept = mud_cache_fail(inst->cache, url, err->code, err->where, err->text, now);
	log_safe(buf, sizeof(buf), url, strlen(url));
	if (stopping) {	/* detach: cancelled, nothing to report */
		INFO("rlm_mud (%s): MUD %s: %s", inst->name, buf, err->text);
		return;
	}
	if (kept) {
		WARN("rlm_mud (%s): MUD %s: refresh failed: %s: %s (at %s); the cached policy is "
		     "still served (stale)", inst->name, buf, mud_rcode_status(err->code),
		     err->text, err->where);
	} else {
		WARN("rlm_mud (%s): MUD %s: %s: %s (at %s); the stations waiting for it stay in "
		     "quarantine", inst->name, buf, mud_rcode_status(err->code), err->text,
		     err->where);
	}

	memset(&acts, 0, sizeof(acts));
	failure_actions(inst, err->code, kept, &acts);
	if (failure_event(inst, ctx, url, evd, err, &ev, &other)) {
		(void)mud_stations_by_url(inst->stations, ctx, url, &st, 1, &n, NULL);
		incident_report_station(inst, n ? &st[0] : NULL, ev, url, other, evd, err, &acts,
					now);
	}
	/* the stations that waited (pending, hash 0) learn the outcome now */
	if (!kept && inst->coa) coa_for_url(inst, url, MUD_HASH_FAILED, now);
}

/** What fetch_policy() logs about a policy (lenient decisions, compiler warnings), for a
 *  background fetch; the nftables enforcement learns its rules. */
static void background_warnings(rlm_mud_t *inst, char const *url_log, mud_policy_t const *pol)
{
	size_t i;
	mud_error_t err;

	if (inst->enforce_state && pol->rules) {
		mud_error_clear(&err);
		if (mud_enforce_remember(inst->enforce_state, pol->url, pol->rules, &err) !=
		    MUD_OK) {
			WARN("rlm_mud (%s): MUD enforce: %s", inst->name, err.text);
		}
	}
	if (pol->signer) {
		char sbuf[MUD_LOG_CUT + 8];

		DEBUG("rlm_mud (%s): MUD %s: MUD file signed by %s", inst->name, url_log,
		      log_safe(sbuf, sizeof(sbuf), pol->signer, strlen(pol->signer)));
	}
	if (pol->rendered && pol->rendered->num_skipped > 0) {
		DEBUG("rlm_mud (%s): MUD %s: %zu rule(s) cannot be enforced by %s and were left "
		      "out", inst->name, url_log, pol->rendered->num_skipped, inst->output_format);
	}
	for (i = 0; pol->file && i < pol->file->num_warnings; i++) {
		DEBUG("rlm_mud (%s): MUD %s: MUD file: %s (at %s)", inst->name, url_log,
		      pol->file->warnings[i].text, pol->file->warnings[i].where);
	}
	for (i = 0; pol->rules && i < pol->rules->num_warnings; i++) {
		DEBUG("rlm_mud (%s): MUD %s: MUD warning: %s (at %s)", inst->name, url_log,
		      pol->rules->warnings[i].text, pol->rules->warnings[i].where);
	}
}

/** A fetch job, on a fetch-service thread: the pipeline (or a recompile of the kept file),
 *  the cache, then CoA. */
static void fetch_job_run(rlm_mud_t *inst, char const *url, uint8_t const *arg, size_t arglen,
			  int const volatile *abort)
{
	mud_rcode_t rc;
	TALLOC_CTX *tmp = talloc_new(NULL);
	mud_policy_opts_t opts;
	mud_policy_t *pol = NULL;
	mud_policy_t *evd = NULL;
	mud_entry_t *e;
	mud_error_t err;
	time_t now = time(NULL);
	char buf[MUD_LOG_CUT + 8];
	char lease[MUD_REDIS_TOKEN_LEN] = "";

	if (!tmp) {
		mud_cache_fail(inst->cache, url, MUD_ERR_NOMEM, "rlm_mud", "out of memory", now);
		return;
	}
	policy_opts(inst, &opts);
	opts.fetch.abort = abort;	/* detach / HUP: give up at once */
	/* a job's only argument is MUD_JOB_FETCH: a device's mud-signer is checked per request
	 * against the signer the cache records (mud_policy_for()), never by the URL's fetch */
	log_safe(buf, sizeof(buf), url, strlen(url));
	if (!(arglen == sizeof(MUD_JOB_FETCH) - 1 && memcmp(arg, MUD_JOB_FETCH, arglen) == 0)) {
		pol = policy_recompile(inst, tmp, url, now, &opts);
	}
	if (pol) {
		/* local: no Redis lease (the ticker publishes it late if the pool lacks it) */
		lease[0] = '\0';
		goto store;
	}
	e = pool_fetch_begin(inst, tmp, url, now, lease);
	if (e) {
		INFO("rlm_mud (%s): MUD %s taken from Redis (fetched by another server)",
		     inst->name, buf);
		if (inst->coa) coa_for_url(inst, url, policy_hash(e), now);
		talloc_free(tmp);
		return;
	}
	mud_error_clear(&err);
	rc = mud_policy_fetch(tmp, &pol, url, &opts, &evd, &err);
	now = time(NULL);	/* the cache-validity counts from the end of the fetch */
	if (rc != MUD_OK) {
		mud_metrics_fetch(inst->metrics, err.code);
		background_failed(inst, tmp, url, evd, &err, now,
				  __atomic_load_n(abort, __ATOMIC_ACQUIRE) != 0);
		pool_fetch_end(inst, url, lease, false, now);
		talloc_free(tmp);
		return;
	}
	mud_metrics_fetch(inst->metrics, MUD_OK);

store:
	if (mud_cache_store(inst->cache, url, pol, now, &err) != MUD_OK) {
		if (err.code == MUD_ERR_CONFLICT) {
			ERROR("rlm_mud (%s): MUD %s: %s (dACL name %s); not applied", inst->name,
			      buf, err.text, err.where);
			background_failed(inst, tmp, url, pol, &err, now, false);
			if (!pol->recompiled) pool_fetch_end(inst, url, lease, false, now);
			talloc_free(tmp);
			return;
		}
		WARN("rlm_mud (%s): MUD %s: policy not cached: %s", inst->name, buf, err.text);
	}
	if (pol->recompiled) {
		INFO("rlm_mud (%s): MUD %s recompiled from the file fetched %ld s ago (kept in "
		     "cache_dir; not fetched again)", inst->name, buf,
		     (long)(now > pol->fetched ? now - pol->fetched : 0));
	} else {
		pool_fetch_end(inst, url, lease, true, now);
		INFO("rlm_mud (%s): MUD %s fetched in the background", inst->name, buf);
	}
	background_warnings(inst, buf, pol);
	e = entry_from_policy(tmp, pol, now, inst->cache_max_validity, inst->dns_refresh_min,
			      inst->dns_refresh_max);
	if (e && inst->enforce_state) enforce_for_url(inst, url, policy_hash(e));
	if (e && inst->coa) coa_for_url(inst, url, policy_hash(e), now);
	talloc_free(tmp);
}

/** fetch_job_run(), then wake the requests waiting for a fetch (fetch_mode = inline: a
 *  refresh an operator asked for runs here while requests may wait for it). */
static void fetch_job(void *uctx, char const *url, uint8_t const *arg, size_t arglen,
		      int const volatile *abort)
{
	rlm_mud_t *inst = bg_acquire(uctx);	/* the newest context and trust anchors */

	fetch_job_run(inst, url, arg, arglen, abort);
	fetch_settled(inst);
	revalidate_if_replaced(inst);
	bg_release(inst);
}

#define MUD_REFRESH_BATCH	1024	//!< expired policies looked at per tick, at most
#define MUD_REPUBLISH_INTERVAL	5	//!< s between late publishes to Redis when
					//!< refresh_interval = 0

/** The ticker (the fetch service's thread, every refresh_interval s): refresh, without
 *  waiting for a request, the expired policies that stations use (a DNS answer past its
 *  TTL, a file past its cache-validity); a refresh that compiles to other dACL names
 *  sends CoA as for any background fetch. Idle stations age out here too. */
static int url_sort_cmp(void const *a, void const *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/** After a reload (and at start-up): drop the cached policies whose signer no longer chains
 *  to the trust anchors (one removed: a manufacturer's signing key compromised), without
 *  waiting for their expiry; their stations are re-authenticated and get the outcome of a
 *  new fetch (refused and reported, unless the server now signs under a trusted CA). */
static void trust_revalidate(rlm_mud_t *inst, time_t now)
{
	TALLOC_CTX *tmp;
	char **urls = NULL;
	size_t n;
	size_t i;

	tmp = talloc_new(NULL);
	if (!tmp) return;
	/* also sets the anchors Redis imports are checked against (none: unchecked) */
	n = mud_cache_revalidate(inst->cache, inst->trust, now, tmp, &urls, MUD_REFRESH_BATCH);
	mud_metrics_revoked(inst->metrics, n);
	/* each drop was logged by the cache (WARN, with the reason) */
	for (i = 0; inst->coa && i < n; i++) coa_for_url(inst, urls[i], MUD_HASH_FAILED, now);
	talloc_free(tmp);
}

static void refresh_tick_run(rlm_mud_t *inst, time_t now)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char **urls = NULL;
	size_t *users;
	size_t n;
	size_t i;
	size_t queued = 0;

	if (!tmp) return;
	if (__atomic_exchange_n(&inst->sh->revalidate, 0, __ATOMIC_ACQ_REL)) {
		trust_revalidate(inst, now);
	}
	(void)mud_stations_expire(inst->stations, now);
	if (inst->redis) {	/* what Redis missed while it was down or slow */
		size_t late = mud_redis_republish(inst->redis, inst->cache,
						  inst->cache_stale_max, now);

		if (late) INFO("rlm_mud (%s): %zu polic%s published to Redis late", inst->name,
			       late, late == 1 ? "y" : "ies");
	}
	n = inst->refresh_interval ? mud_cache_expired(inst->cache, tmp, now, &urls,
						       MUD_REFRESH_BATCH) : 0;
	users = n ? talloc_zero_array(tmp, size_t, n) : NULL;
	if (n && !users) n = 0;
	if (n) {
		/* one pass over the station index for all of them */
		qsort(urls, n, sizeof(*urls), url_sort_cmp);
		mud_stations_count_urls(inst->stations, urls, n, users);
	}
	for (i = 0; i < n; i++) {
		mud_entry_t *e = NULL;
		bool token = false;
		bool q = false;
		mud_error_t err;

		/* a policy nobody uses is refreshed by its next request, if any */
		if (users[i] == 0) continue;
		if (mud_cache_lookup(inst->cache, tmp, &e, &token, urls[i], now) !=
		    MUD_CACHE_STALE || !token) continue;
		mud_error_clear(&err);
		if (mud_fetchsvc_submit(inst->fetchsvc, urls[i], NULL, 0, &q, &err) != MUD_OK) {
			/* hand the token back: the stale policy stays, retried after fail_ttl */
			(void)mud_cache_fail(inst->cache, urls[i], err.code, err.where, err.text,
					     now);
			continue;
		}
		queued++;
	}
	if (queued) DEBUG("rlm_mud (%s): %zu expired polic%s refreshed in the background",
			  inst->name, queued, queued == 1 ? "y" : "ies");
	talloc_free(tmp);
}

static void refresh_tick(void *uctx, time_t now)
{
	rlm_mud_t *inst = bg_acquire(uctx);

	refresh_tick_run(inst, now);
	bg_release(inst);
}

/** Queue the fetch of url (the caller holds the cache's fetch token). */
static bool background_fetch(rlm_mud_t *inst, REQUEST *request, char const *url)
{
	bool queued = false;
	mud_error_t err;

	/* without the device's mud-signer, as fetch_policy() */
	mud_error_clear(&err);
	if (mud_fetchsvc_submit(inst->fetchsvc, url, NULL, 0, &queued, &err) != MUD_OK) {
		/* hand the token back as a failure: the next request tries again after
		 * cache_fail_ttl, the queue never grows without bound */
		mud_cache_fail(inst->cache, url, err.code, err.where, err.text,
			       request->timestamp);
		RWDEBUG("MUD fetch not queued: %s", err.text);
		return false;
	}
	RDEBUG2("MUD fetch %s in the background", queued ? "queued" : "already queued");
	return true;
}

/** The interim answer while the policy is fetched: quarantine, come back soon. */
static rlm_rcode_t mud_pending(rlm_mud_t *inst, REQUEST *request, char const *url,
			       rlm_mud_actions_t *acts)
{
	char tbuf[16];

	rlm_rcode_t rc;

	rc = mud_failed(inst, request, MUD_PENDING, "fetch service",
			"policy being fetched in the background", url);
	if (rc != RLM_MODULE_UPDATED) return rc;
	control_set(request, inst->da_cache, "pending");
	if (inst->pending_timeout > 0) {
		snprintf(tbuf, sizeof(tbuf), "%u", inst->pending_timeout);
		pair_make_reply("Session-Timeout", tbuf, T_OP_SET);
		pair_make_reply("Termination-Action", "RADIUS-Request", T_OP_SET);
	}
	/* the station waits for this URL (CoA when the fetch settles); a URL other than the
	 * one applied before is reported as url-changed, as for an applied policy */
	(void)check_url_change(inst, request, url, 0);
	actions_add(acts, true, "interim answer while the policy is fetched");
	acts->interim = true;
	return RLM_MODULE_UPDATED;
}

/** Get the policy of the chosen URL and answer; acts receives what was done. */
static rlm_rcode_t mud_policy_for(rlm_mud_t *inst, REQUEST *request, rlm_mud_cand_t const *win,
				  bool conflict, rlm_mud_actions_t *acts)
{
	mud_error_t err;
	mud_entry_t *e = NULL;
	bool token = false;
	bool refresh = false;
	bool same;
	mud_cache_result_t cr;
	char const *url = win->url->url;
	rlm_rcode_t rc;
	VALUE_PAIR *svp;
	uint8_t *signer = NULL;
	size_t signer_len = 0;

	/* lists and IP literals, before the cache: a refused URL is never served */
	mud_error_clear(&err);
	if (mud_urlpolicy_check_url(inst->urlpolicy, win->url, &err) != MUD_OK) {
		rc = mud_failed(inst, request, err.code, err.where, err.text, url);
		report_failure(inst, request, url, NULL, &err, false, acts);
		return rc;
	}

	cr = mud_cache_lookup(inst->cache, request, &e, &token, url, request->timestamp);
	switch (cr) {
	case MUD_CACHE_HIT:
		RDEBUG3("MUD cache hit");
		control_set(request, inst->da_cache, "hit");
		break;

	case MUD_CACHE_STALE:
		RDEBUG3("MUD cache: stale entry%s", token ? ", refreshing" : "");
		control_set(request, inst->da_cache, "stale");
		break;

	case MUD_CACHE_NEGATIVE:
		RDEBUG3("MUD cache: recent failure");
		control_set(request, inst->da_cache, "negative");
		break;

	case MUD_CACHE_MISS:
		RDEBUG3("MUD cache miss%s", token ? "" : ", fetch in progress elsewhere");
		control_set(request, inst->da_cache, token ? "fetched" : "busy");
		if (token || inst->background) break;
		cr = wait_inflight(inst, request, url, &e, &token);
		if (cr != MUD_CACHE_MISS) {
			RDEBUG2("The fetch in progress elsewhere settled; using its result");
			control_set(request, inst->da_cache, "waited");
		} else if (!token) {
			RWDEBUG("Gave up waiting after %u s for the fetch in progress elsewhere",
				inst->fetch_wait);
		}
		break;
	}

	if (inst->background) {
		if (token && !e && pool_policy_import(inst, request, url, &e)) token = false;
		if (!e) {
			/* the station is recorded (pending) before its fetch can settle, so that
			 * the CoA and the incident report of that fetch find it */
			rc = mud_pending(inst, request, url, acts);
			if (token) (void)background_fetch(inst, request, url);
			return rc;
		}
		refresh = token;	/* stale or negative: answered now, refreshed after */
		token = false;
	}

	/*
	 *	RFC 8520 section 11: the device certificate's mud-signer binds whatever policy it
	 *	gets, cached or not (the cache is keyed by URL alone: the entry may come from a
	 *	device without one, or from a refresh). Checked, as by the fetch, only with trust
	 *	anchors; a malformed extension is ignored as by fetch_policy().
	 */
	svp = inst->trust ? find_cert_attr(request, inst->da_cert_signer) : NULL;
	if (svp && mud_signer_from_x509_ext(request, &signer, &signer_len, svp->vp_octets,
					    svp->vp_length, NULL) != MUD_OK) signer = NULL;
	if (token && e && e->status == MUD_OK && !mud_entry_signer_ok(e, signer, signer_len)) {
		TALLOC_FREE(e);		/* fetched again (checked below), never the fallback */
	}

	if (token) {
		mud_entry_t *fresh;
		mud_policy_t *evd = NULL;

		mud_error_clear(&err);
		inst_hold(inst);	/* a fetch may outlast FreeRADIUS's 60 s after a reload */
		fresh = fetch_policy(inst, request, win->url, &evd, &err);
		revalidate_if_replaced(inst);
		bg_release(inst);
		fetch_settled(inst);
		if (fresh) {
			e = fresh;
			control_set(request, inst->da_cache, "fetched");
		} else if (!e || e->status != MUD_OK) {
			rc = mud_failed(inst, request, err.code, err.where, err.text, url);
			report_failure(inst, request, url, evd, &err, false, acts);
			return rc;
		} else {
			RWDEBUG("Refresh failed (%s), serving the stale policy", err.text);
			report_failure(inst, request, url, evd, &err, true, acts);
		}
	}

	if (!e) {
		actions_failed(inst, acts);
		return mud_failed(inst, request, MUD_ERR_TIMEOUT, "cache",
				  "another fetch of this URL is still in progress", url);
	}
	if (e->status != MUD_OK) {
		/* Reported when the fetch failed; a cache hit of that failure is not. */
		actions_failed(inst, acts);
		rc = mud_failed(inst, request, e->status, e->error_where ? e->error_where : "",
				e->error_text ? e->error_text : "", url);
		goto done;
	}
	if (!mud_entry_signer_ok(e, signer, signer_len)) {
		mud_policy_t cached;
		char where[sizeof(err.where)];
		char *got = e->signer_der ? mud_signer_to_text(request, e->signer_der,
							       e->signer_der_len) : NULL;
		char *want = mud_signer_to_text(request, signer, signer_len);

		/* as a fetched file with another signer fails: signature-invalid, incident */
		memset(&cached, 0, sizeof(cached));
		memcpy(cached.file_sha256, e->file_sha256, sizeof(cached.file_sha256));
		mud_error_clear(&err);
		snprintf(where, sizeof(where), "cached policy of %s", url);
		mud_error_set(&err, MUD_ERR_SIG_SIGNER, where,
			      "cached policy signed by \"%s\", the certificate requires \"%s\" "
			      "(mud-signer)", got ? got : "(signer not recorded)",
			      want ? want : "?");
		rc = mud_failed(inst, request, err.code, err.where, err.text, url);
		report_failure(inst, request, url, &cached, &err, false, acts);
		goto done;
	}
	rc = apply_entry(inst, request, e, url, conflict);
	if (rc != RLM_MODULE_UPDATED) {
		actions_failed(inst, acts);	/* the policy does not fit the reply */
		goto done;
	}
	/* the History of an incident: formatted only when incidents are reported */
	if (inst->spool && acts->num == 0) {
		actions_add(acts, false, "MUD policy of %s applied", url);
	}
	same = check_url_change(inst, request, url, policy_hash(e));
	/* log_decisions = changes: a station given the policy it already had (a periodic
	 * re-authentication) is not worth a line in radius.log */
	if (!inst->log_changes_only || !same || conflict || RDEBUG_ENABLED2) {
		char buf[MUD_LOG_CUT + 8];
		char sbuf[MUD_LOG_CUT + 8];
		VALUE_PAIR *cvp = fr_pair_find_by_da(request->config, inst->da_cache, TAG_ANY);

		RINFO("MUD station %s URL %s (%s): %s, VLAN %d, dACL %s %s, cache %s",
		      log_station(request, sbuf, sizeof(sbuf)),
		      log_safe(buf, sizeof(buf), url, strlen(url)), win->src,
		      conflict ? "url-conflict" : "ok", e->vlan,
		      e->acl_name_v4 ? e->acl_name_v4 : "-", e->acl_name_v6 ? e->acl_name_v6 : "-",
		      cvp ? cvp->vp_strvalue : "-");
	}
	talloc_free(e);		/* by this thread, not with the request (see seen_applied()) */
done:
	/* the refresh of what was served, once the station holds what it got */
	if (refresh) (void)background_fetch(inst, request, url);
	return rc;
}

/** Find the URL, get the policy, answer. Shared by authorize and post-auth. */
static rlm_rcode_t mud_process(rlm_mud_t *inst, REQUEST *request)
{
	rlm_mud_cand_t cand[MUD_MAX_CANDIDATES];
	size_t num;
	size_t i;
	size_t win = 0;
	size_t other = 0;
	bool conflict = false;
	mud_error_t bad;
	char const *bad_url = NULL;
	rlm_mud_actions_t acts;
	rlm_rcode_t rc;
	char buf[MUD_LOG_CUT + 8];
	char buf2[MUD_LOG_CUT + 8];

	memset(&acts, 0, sizeof(acts));
	mud_error_clear(&bad);
	num = collect_urls(inst, request, cand, &bad, &bad_url);
	if (num == 0) {
		if (bad.code != MUD_OK) {
			rc = mud_failed(inst, request, bad.code, bad.where, bad.text,
					"(request)");
			report_failure(inst, request, bad_url, NULL, &bad, false, &acts);
			return rc;
		}
		RDEBUG2("No MUD URL in the request");
		control_set(request, inst->da_status, "no-url");
		return RLM_MODULE_NOOP;
	}

	for (i = 1; i < num; i++) {
		if (cand[i].rank < cand[win].rank) win = i;
	}
	for (i = 0; i < num; i++) {
		if (strcmp(cand[i].url->url, cand[win].url->url) == 0) continue;
		if (!conflict) other = i;
		conflict = true;
		RWDEBUG("MUD URL conflict: %s gives \"%s\", using %s \"%s\"", cand[i].src,
			log_safe(buf, sizeof(buf), cand[i].url->url, strlen(cand[i].url->url)),
			cand[win].src,
			log_safe(buf2, sizeof(buf2), cand[win].url->url,
				 strlen(cand[win].url->url)));
	}

	control_set(request, inst->da_url, cand[win].url->url);
	control_set(request, inst->da_url_source, cand[win].src);
	RDEBUG2("MUD URL %s (from %s)",
		log_safe(buf, sizeof(buf), cand[win].url->url, strlen(cand[win].url->url)),
		cand[win].src);

	rc = mud_policy_for(inst, request, &cand[win], conflict, &acts);
	if (conflict && inst->spool && !acts.interim) {	/* reported once decided */
		char *text = talloc_asprintf(request,
					     "%s gives %s, %s gives %s; the %s URL was used",
					     cand[win].src, cand[win].url->url, cand[other].src,
					     cand[other].url->url, cand[win].src);

		incident_report(inst, request, MUD_EVENT_URL_CONFLICT, cand[win].url->url,
				cand[other].url->url, NULL, MUD_OK, "MUD-URL-Source", text, &acts);
	}
	for (i = 0; i < num; i++) talloc_free(cand[i].url);	/* see seen_applied() */
	return rc;
}

/*
 *	Cisco downloadable ACL.
 */

static bool is_dacl_download(rlm_mud_t const *inst, REQUEST *request)
{
	static char const ev[] = "aaa:event=acl-download";
	VALUE_PAIR *vp;
	vp_cursor_t cursor;

	for (vp = fr_cursor_init(&cursor, &request->packet->vps);
	     vp;
	     vp = fr_cursor_next(&cursor)) {
		if (vp->da != inst->da_avpair) continue;
		if (vp->vp_length == sizeof(ev) - 1 &&
		    memcmp(vp->vp_strvalue, ev, sizeof(ev) - 1) == 0) {
			return true;
		}
	}
	return false;
}

/** Next line index from our State, 0 if none. -1 if the State is ours but bad. */
static long page_start(rlm_mud_t const *inst, REQUEST *request, size_t num)
{
	VALUE_PAIR *vp;
	char tmp[32];
	char *end;
	unsigned long v;
	size_t plen = sizeof(MUD_STATE_PREFIX) - 1;

	vp = fr_pair_find_by_num(request->packet->vps, PW_STATE, 0, TAG_ANY);
	if (!vp) return 0;
	if (vp->vp_length <= plen || vp->vp_length >= plen + sizeof(tmp) ||
	    memcmp(vp->vp_octets, MUD_STATE_PREFIX, plen) != 0) return 0;
	memcpy(tmp, vp->vp_octets + plen, vp->vp_length - plen);
	tmp[vp->vp_length - plen] = '\0';
	if (tmp[0] < '0' || tmp[0] > '9') return -1;
	v = strtoul(tmp, &end, 10);
	if (*end != '\0' || v == 0 || v >= num) return -1;
	return (long)v;
}

/** The lines of a quarantine dACL by name (q may be NULL). */
static bool quarantine_lines(mud_rendered_t const *q, char const *name, char ***lines,
			     size_t *num, bool *v6)
{
	if (!q) return false;
	if (q->acl_name_v4 && strcmp(name, q->acl_name_v4) == 0) {
		*lines = q->v4;
		*num = q->num_v4;
		*v6 = false;
		return true;
	}
	if (q->acl_name_v6 && strcmp(name, q->acl_name_v6) == 0) {
		*lines = q->v6;
		*num = q->num_v6;
		*v6 = true;
		return true;
	}
	return false;
}

/** Answer a dACL download: the lines of the named ACL, paged if large. */
static rlm_rcode_t dacl_download(rlm_mud_t *inst, REQUEST *request)
{
	VALUE_PAIR *vp;
	char **lines = NULL;
	size_t num = 0;
	bool v6 = false;
	long start;
	size_t i;
	size_t used = 0;
	char buf[MUD_LOG_CUT + 8];
	char const *name;

	vp = fr_pair_find_by_num(request->packet->vps, PW_USER_NAME, 0, TAG_ANY);
	if (!vp) {
		control_set(request, inst->da_status, "acl-unknown");
		return RLM_MODULE_NOTFOUND;
	}
	name = vp->vp_strvalue;
	log_safe(buf, sizeof(buf), name, vp->vp_length);

	if (inst->out == MUD_OUT_CISCO_DACL &&
	    (quarantine_lines(inst->quarantine, name, &lines, &num, &v6) ||
	     quarantine_lines(inst->prev_quarantine, name, &lines, &num, &v6))) {
		RDEBUG3("MUD dACL download: the quarantine filter");
	} else if (!pool_acl_lookup(inst, request, name, &lines, &num, &v6)) {
		REDEBUG("MUD dACL download: unknown ACL name \"%s\"", buf);
		control_set(request, inst->da_status, "acl-unknown");
		return RLM_MODULE_NOTFOUND;
	}

	start = page_start(inst, request, num);
	if (start < 0) {
		REDEBUG("MUD dACL download: bad State for \"%s\"", buf);
		control_set(request, inst->da_status, "acl-unknown");
		return RLM_MODULE_NOTFOUND;
	}

	reply_clear_ours(inst, request);
	for (i = (size_t)start; i < num; i++) {
		size_t len = strlen(lines[i]) + MUD_VSA_OVERHEAD;

		if (used > 0 && used + len > MUD_PAGE_BYTES) break;
		reply_add_raw(request, inst->da_avpair, lines[i]);
		used += len;
	}
	control_set(request, inst->da_status, "acl-served");
	control_add(request, inst->da_acl_name, name);

	if (i < num) {
		char state[48];

		snprintf(state, sizeof(state), MUD_STATE_PREFIX "%zu", i);
		fr_pair_delete_by_num(&request->reply->vps, PW_STATE, 0, TAG_ANY);
		vp = fr_pair_afrom_da(request->reply, inst->da_state);
		if (!vp) return RLM_MODULE_FAIL;
		fr_pair_value_memcpy(vp, (uint8_t const *)state, strlen(state));
		fr_pair_add(&request->reply->vps, vp);
		request->reply->code = PW_CODE_ACCESS_CHALLENGE;
		RDEBUG2("MUD dACL %s: lines %ld..%zu of %zu, more follow (Access-Challenge)", buf,
			start + 1, i, num);
		return RLM_MODULE_HANDLED;
	}
	RDEBUG2("MUD dACL %s: lines %ld..%zu of %zu", buf, start + 1, num, num);
	return RLM_MODULE_OK;
}

/** Common body of authorize and post-auth. */
static rlm_rcode_t mud_common(void *instance, REQUEST *request, rlm_mud_method_t const *m)
{
	rlm_mud_t *inst = instance;

	rlm_rcode_t rc;

	RDEBUG3("rlm_mud (%s): %s", inst->name, m->name);
	if (m->dacl_download && is_dacl_download(inst, request)) {
		rc = dacl_download(inst, request);
		mud_metrics_dacl(inst->metrics, rc == RLM_MODULE_OK || rc == RLM_MODULE_HANDLED);
		mud_metrics_outcome(inst->metrics, enforce_status(inst, request));
		return rc;
	}
	mud_metrics_request(inst->metrics);
	rc = mud_process(inst, request);
	mud_metrics_outcome(inst->metrics, enforce_status(inst, request));
	return rc;
}

static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	return mud_common(instance, request, &mud_methods[MOD_AUTHORIZE]);
}

static rlm_rcode_t CC_HINT(nonnull) mod_post_auth(void *instance, REQUEST *request)
{
	rlm_mud_t *inst = instance;

	/* called again at the end of post-auth (policy mud_enforce) once the request is
	 * decided: never process it twice; enforce = nftables installs the station's rules */
	if (enforce_decided(inst, request)) {
		if (!inst->enforce_state) return RLM_MODULE_NOOP;
		return enforce_post_auth(inst, request);
	}
	return mud_common(instance, request, &mud_methods[MOD_POST_AUTH]);
}

/** Accounting: remember a URL the switch relays, forget it on Stop. */
/** A URL learned from accounting for a session admitted without its policy: get the policy
 *  (cache, else a background fetch) and re-authenticate the session with CoA. */
static void accounting_learned(rlm_mud_t *inst, REQUEST *request, char const *key,
			       mud_url_t const *url)
{
	mud_station_t st;
	mud_entry_t *e = NULL;
	bool token = false;
	mud_error_t err;
	mud_cache_result_t cr;
	bool known;

	known = mud_stations_get(inst->stations, request, key, request->timestamp, &st);
	if (known && st.url_applied && strcmp(st.url_applied, url->url) == 0 &&
	    st.policy_hash != 0) return;	/* this policy is already applied */
	mud_error_clear(&err);
	if (mud_urlpolicy_check_url(inst->urlpolicy, url, &err) != MUD_OK) {
		RWDEBUG("MUD URL from accounting refused: %s", err.text);
		return;
	}
	/* the station waits for this URL's policy (policy_hash 0), with its CoA target */
	(void)seen_applied(inst, request, key, url->url, 0, NULL);
	cr = mud_cache_lookup(inst->cache, request, &e, &token, url->url, request->timestamp);
	if (token) (void)background_fetch(inst, request, url->url);
	if ((cr == MUD_CACHE_HIT || cr == MUD_CACHE_STALE) && e && e->status == MUD_OK) {
		RDEBUG2("MUD policy of the URL learned from accounting is cached: CoA");
		coa_for_url(inst, url->url, policy_hash(e), request->timestamp);
	} else {
		RDEBUG2("MUD policy of the URL learned from accounting is being fetched: CoA "
			"when it settles");
	}
}

static rlm_rcode_t CC_HINT(nonnull) mod_accounting(void *instance, REQUEST *request)
{
	rlm_mud_t *inst = instance;
	char key[MUD_STATION_LEN];
	VALUE_PAIR *vp;
	vp_cursor_t cursor;
	mud_url_t *url = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	char buf[MUD_LOG_CUT + 8];

	if (!request_station(request, key)) return RLM_MODULE_NOOP;

	vp = fr_pair_find_by_num(request->packet->vps, PW_ACCT_STATUS_TYPE, 0, TAG_ANY);
	if (vp && vp->vp_integer == PW_STATUS_STOP) {
		seen_forget(inst, key, request->timestamp);
		enforce_stop(inst, request, key);
		RDEBUG3("MUD: forgot URL of %s", key);
		return RLM_MODULE_OK;
	}

	for (vp = fr_cursor_init(&cursor, &request->packet->vps);
	     vp;
	     vp = fr_cursor_next(&cursor)) {
		mud_error_t err;

		if (vp->da != inst->da_avpair) continue;
		mud_error_clear(&err);
		if (mud_url_from_avpair(request, &url, &src, (uint8_t const *)vp->vp_strvalue,
					vp->vp_length, &err) == MUD_OK) break;
		if (err.code != MUD_ERR_NOT_MUD) RWDEBUG("Ignoring Cisco-AVPair: %s", err.text);
		url = NULL;
	}
	if (!url) return RLM_MODULE_NOOP;

	seen_store(inst, key, url->url, mud_url_src_name(src), request->timestamp);
	RDEBUG2("MUD URL %s remembered for %s",
		log_safe(buf, sizeof(buf), url->url, strlen(url->url)), key);
	if (inst->coa && inst->background) accounting_learned(inst, request, key, url);
	return RLM_MODULE_UPDATED;
}

/*
 *	Cache control for operators (docs/operations.md): %{mud:list [start]},
 *	%{mud:show <url>}, %{mud:flush <url>}, %{mud:flush-all}, %{mud:refresh <url>}.
 *	The output is bounded by the xlat buffer; fields and entries are separated by '|'
 *	(a character no MUD URL holds), so the control site can %{explode:} it into one
 *	Reply-Message per entry.
 */

/** Append to out at *pos; false (nothing written) if it does not fit. */
static bool ops_add(char *out, size_t outlen, size_t *pos, char const *fmt, ...)
	CC_HINT(format (printf, 4, 5));
static bool ops_add(char *out, size_t outlen, size_t *pos, char const *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= outlen) return false;
	va_start(ap, fmt);
	n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen - *pos) {
		out[*pos] = '\0';
		return false;
	}
	*pos += (size_t)n;
	return true;
}

/** Seconds from now to t, as "+N" or "-N". */
static long ops_delta(time_t t, time_t now)
{
	return (long)(t - now);
}

/** %{mud:list [start]}: "entries=N|<url> <state> ...|...|more=M, next: list K". */
static ssize_t ops_list(rlm_mud_t *inst, REQUEST *request, char const *arg, char *out,
			size_t outlen)
{
	mud_cache_info_t *info = NULL;
	size_t num = 0;
	size_t pos = 0;
	size_t start = 0;
	size_t i;
	mud_error_t err;
	char line[MUD_MAX_URL_LEN + 2 * MUD_MAX_ATTR_LEN + 128];
	size_t reserve = 48;	/* room kept for the "more" tail */

	if (*arg) {
		char *end = NULL;
		unsigned long v = strtoul(arg, &end, 10);

		if (!end || *end || v > MUD_STATIONS_MAX) {
			REDEBUG("%%{%s:list [start]}: start must be a number", inst->name);
			return -1;
		}
		start = (size_t)v;
	}
	mud_error_clear(&err);
	if (mud_cache_list(inst->cache, request, &info, &num, request->timestamp, &err) !=
	    MUD_OK) {
		REDEBUG("%%{%s:list}: %s", inst->name, err.text);
		return -1;
	}
	if (outlen <= reserve) return -1;
	(void)ops_add(out, outlen, &pos, "entries=%zu", num);
	for (i = start; i < num; i++) {
		mud_cache_info_t const *c = &info[i];
		int n;

		if (c->state == MUD_CSTATE_NEGATIVE || c->state == MUD_CSTATE_RETRY) {
			n = snprintf(line, sizeof(line), "|%s %s %s retry-in=%ld", c->url,
				     mud_cache_state_name(c->state), mud_rcode_status(c->status),
				     ops_delta(c->expires, request->timestamp));
		} else if (c->state == MUD_CSTATE_FETCHING || c->state == MUD_CSTATE_EMPTY) {
			n = snprintf(line, sizeof(line), "|%s %s", c->url,
				     mud_cache_state_name(c->state));
		} else {
			n = snprintf(line, sizeof(line),
				     "|%s %s%s%s expires-in=%ld vlan=%d v4=%s v6=%s", c->url,
				     mud_cache_state_name(c->state),
				     c->other_context ? " other-context" : "",
				     c->inflight ? " refreshing" : "",
				     ops_delta(c->expires, request->timestamp), c->vlan,
				     c->acl_name_v4 ? c->acl_name_v4 : "-",
				     c->acl_name_v6 ? c->acl_name_v6 : "-");
		}
		if (n < 0 || (size_t)n >= sizeof(line)) continue;
		if (pos + (size_t)n + reserve >= outlen) break;
		(void)ops_add(out, outlen, &pos, "%s", line);
	}
	if (i < num) (void)ops_add(out, outlen, &pos, "|more=%zu, next: list %zu", num - i, i);
	talloc_free(info);
	return (ssize_t)pos;
}

/** %{mud:show <url>}: the entry's fields, '|'-separated; "not-cached" if unknown. */
static ssize_t ops_show(rlm_mud_t *inst, REQUEST *request, char const *url, char *out,
			size_t outlen)
{
	mud_cache_info_t *c = NULL;
	mud_error_t err;
	size_t pos = 0;
	char esc[MUD_LOG_CUT + 8];

	mud_error_clear(&err);
	if (mud_cache_show(inst->cache, request, &c, NULL, url, request->timestamp, &err) !=
	    MUD_OK) {
		REDEBUG("%%{%s:show}: %s", inst->name, err.text);
		return -1;
	}
	if (!c) {
		(void)ops_add(out, outlen, &pos, "not-cached");
		return (ssize_t)pos;
	}
	(void)ops_add(out, outlen, &pos, "url=%s|state=%s|fetching=%s", c->url,
		      mud_cache_state_name(c->state), c->inflight ? "yes" : "no");
	if (c->state == MUD_CSTATE_NEGATIVE || c->state == MUD_CSTATE_RETRY) {
		char *p;

		log_safe(esc, sizeof(esc), c->error_text, strlen(c->error_text));
		for (p = esc; *p; p++) {
			if (*p == '|') *p = '/';
		}
		(void)ops_add(out, outlen, &pos, "|status=%s|error=%s|retry-in=%ld",
			      mud_rcode_status(c->status), esc,
			      ops_delta(c->expires, request->timestamp));
	} else if (c->fetched) {
		(void)ops_add(out, outlen, &pos, "|fetched=%ld|expires-in=%ld|vlan=%d|acl-v4=%s"
			      "|acl-v6=%s|lines-v4=%zu|lines-v6=%zu|file-sha256=%s",
			      (long)c->fetched, ops_delta(c->expires, request->timestamp), c->vlan,
			      c->acl_name_v4 ? c->acl_name_v4 : "-",
			      c->acl_name_v6 ? c->acl_name_v6 : "-", c->num_v4, c->num_v6,
			      c->file_sha256[0] ? c->file_sha256 : "-");
		if (c->signer) {
			char *p;

			log_safe(esc, sizeof(esc), c->signer, strlen(c->signer));
			for (p = esc; *p; p++) {
				if (*p == '|') *p = '/';
			}
		}
		(void)ops_add(out, outlen, &pos, "|context=%s|signer=%s",
			      c->other_context ? "other (refreshed when used)" : "current",
			      c->signer ? esc : "-");
	}
	talloc_free(c);
	return (ssize_t)pos;
}

/** %{mud:refresh <url>}: a background refetch; CoA follows if the policy changed. */
static ssize_t ops_refresh(rlm_mud_t *inst, REQUEST *request, char const *url, char *out,
			   size_t outlen)
{
	mud_error_t err;
	bool queued = false;
	size_t pos = 0;
	char buf[MUD_LOG_CUT + 8];

	log_safe(buf, sizeof(buf), url, strlen(url));
	mud_error_clear(&err);
	if (mud_url_parse(NULL, NULL, url, strlen(url), &err) != MUD_OK) {
		(void)ops_add(out, outlen, &pos, "error=not a MUD URL");
		return (ssize_t)pos;
	}
	if (!inst->fetchsvc) {
		(void)ops_add(out, outlen, &pos, "error=no fetch service");
		return (ssize_t)pos;
	}
	if (!mud_cache_refresh_token(inst->cache, url, request->timestamp)) {
		(void)ops_add(out, outlen, &pos, "refresh-in-progress");
		return (ssize_t)pos;
	}
	mud_error_clear(&err);
	/* the operator asks the MUD server, not the kept copy */
	if (mud_fetchsvc_submit(inst->fetchsvc, url, MUD_JOB_FETCH, sizeof(MUD_JOB_FETCH) - 1,
				&queued, &err) != MUD_OK) {
		mud_cache_fail(inst->cache, url, err.code, err.where, err.text,
			       request->timestamp);
		(void)ops_add(out, outlen, &pos, "error=%s", err.text);
		return (ssize_t)pos;
	}
	INFO("rlm_mud (%s): MUD %s: refresh requested by an operator", inst->name, buf);
	(void)ops_add(out, outlen, &pos, "refresh-queued");
	return (ssize_t)pos;
}

/** The operator commands; -2 if fmt is none of them. */
static ssize_t mud_xlat_ops(rlm_mud_t *inst, REQUEST *request, char const *fmt, char *out,
			    size_t outlen)
{
	size_t pos = 0;
	char buf[MUD_LOG_CUT + 8];

	if (strcmp(fmt, "list") == 0) return ops_list(inst, request, "", out, outlen);
	if (strncmp(fmt, "list ", 5) == 0) return ops_list(inst, request, fmt + 5, out, outlen);
	if (strncmp(fmt, "show ", 5) == 0) return ops_show(inst, request, fmt + 5, out, outlen);
	if (strncmp(fmt, "refresh ", 8) == 0) {
		return ops_refresh(inst, request, fmt + 8, out, outlen);
	}
	if (strcmp(fmt, "flush-all") == 0) {
		size_t n = mud_cache_flush_all(inst->cache);

		INFO("rlm_mud (%s): MUD cache flushed by an operator (%zu entries)", inst->name, n);
		(void)ops_add(out, outlen, &pos, "flushed=%zu", n);
		return (ssize_t)pos;
	}
	if (strncmp(fmt, "flush ", 6) == 0) {
		bool had = mud_cache_flush(inst->cache, fmt + 6);

		INFO("rlm_mud (%s): MUD %s: %s by an operator", inst->name,
		     log_safe(buf, sizeof(buf), fmt + 6, strlen(fmt + 6)),
		     had ? "flushed" : "flush (was not cached)");
		(void)ops_add(out, outlen, &pos, had ? "flushed=1" : "flushed=0");
		return (ssize_t)pos;
	}
	return -2;
}

/*
 *	Metrics (docs/operations.md "Metrics").
 */

/** The CoA sender's counters for libmud's renderer. */
static void metrics_coa(rlm_mud_t *inst, mud_metrics_coa_t *mc)
{
	rlm_mud_coa_stats_t cs;

	memset(mc, 0, sizeof(*mc));
	if (!inst->coa) return;
	rlm_mud_coa_stats(inst->coa, &cs);
	mc->enabled = true;
	mc->sent = cs.sent;
	mc->retransmits = cs.retransmits;
	mc->ack = cs.ack;
	mc->nak = cs.nak;
	mc->timeout = cs.timeout;
	mc->dropped = cs.dropped;
	mc->errors = cs.errors + cs.invalid;
	mc->pending = cs.pending;
}

/** The textfile's contents, on the writer thread (never a request's). */
static char *metrics_text_inst(rlm_mud_t *inst, TALLOC_CTX *ctx)
{
	mud_cache_stats_t cst;
	mud_fetchsvc_stats_t fst;
	mud_metrics_coa_t mc;

	mud_cache_stats(inst->cache, &cst);
	memset(&fst, 0, sizeof(fst));
	if (inst->fetchsvc) mud_fetchsvc_stats(inst->fetchsvc, &fst);
	metrics_coa(inst, &mc);
	return mud_metrics_render(ctx, inst->metrics, &cst, inst->fetchsvc ? &fst : NULL, &mc);
}

static char *metrics_text(void *uctx, TALLOC_CTX *ctx)
{
	rlm_mud_t *inst = bg_acquire(uctx);
	char *text = metrics_text_inst(inst, ctx);

	bg_release(inst);
	return text;
}

/** " requests=N ... coa_ack=N" for %{mud:stats}: the textfile's main series, one line. */
static ssize_t metrics_stats(rlm_mud_t *inst, char *out, size_t outlen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *text;
	char *line;
	char *save = NULL;
	size_t pos = 0;

	if (!tmp) return 0;
	text = metrics_text_inst(inst, tmp);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char const *name = line + strlen("rlm_mud_");
		char const *lab;
		char const *sp;
		char key[64];
		size_t kl;

		if (strncmp(line, "rlm_mud_", 8) != 0) continue;
		sp = strrchr(line, ' ');
		if (!sp) continue;
		lab = strchr(name, '"');
		if (strcmp(sp + 1, "0") == 0 && lab && lab < sp) continue;	/* room: non-zero */
		if (lab && lab < sp) {	/* family{label="value"} -> family_value */
			char const *end = strchr(lab + 1, '"');

			kl = (size_t)(strchr(name, '{') - name);
			snprintf(key, sizeof(key), "%.*s_%.*s", (int)kl, name,
				 end ? (int)(end - lab - 1) : 0, lab + 1);
		} else {
			snprintf(key, sizeof(key), "%.*s", (int)(sp - name), name);
		}
		if (!ops_add(out, outlen, &pos, " %s=%s", key, sp + 1)) break;
	}
	talloc_free(tmp);
	return (ssize_t)pos;
}

/*
 *	xlat: %{mud:stats} and %{mud:status <url>}, and the operator commands above.
 */

/** Expand %{<instance>:stats} (cache counters) or %{<instance>:status <url>} (cache state). */
static ssize_t mud_xlat(void *instance, REQUEST *request, char const *fmt, char *out,
			size_t outlen)
{
	rlm_mud_t *inst = instance;
	int n = 0;

	while (*fmt == ' ') fmt++;
	if (strcmp(fmt, "stats") == 0) {
		mud_cache_stats_t st;

		mud_cache_stats(inst->cache, &st);
		n = snprintf(out, outlen, "entries=%zu hits=%" PRIu64 " stale=%" PRIu64
			     " negative=%" PRIu64 " misses=%" PRIu64 " stores=%" PRIu64
			     " failures=%" PRIu64 " evictions=%" PRIu64,
			     st.entries, st.hits, st.stale_hits, st.negative_hits, st.misses,
			     st.stores, st.failures, st.evictions);
		if (n > 0 && (size_t)n < outlen) {
			ssize_t m = metrics_stats(inst, out + n, outlen - (size_t)n);

			if (m > 0) n += (int)m;
		}
		if (inst->redis && n >= 0 && (size_t)n < outlen) {
			mud_redis_stats_t rs;
			int m;

			mud_redis_stats(inst->redis, &rs);
			m = snprintf(out + n, outlen - (size_t)n, " redis=%s redis_errors=%" PRIu64
				     " redis_skipped=%" PRIu64 " redis_refused=%" PRIu64
				     " redis_published=%" PRIu64 " redis_imported=%" PRIu64
				     " redis_leases_won=%" PRIu64 " redis_leases_lost=%" PRIu64
				     " redis_reconnects=%" PRIu64 " redis_republished=%" PRIu64,
				     rs.up ? "up" : "down", rs.errors, rs.skipped, rs.refused,
				     rs.published, rs.imported, rs.leases_won, rs.leases_lost,
				     rs.reconnects, rs.republished);
			if (m > 0) n += m;
		}
		if (n > 0 && (size_t)n >= outlen) n = (int)outlen - 1;	/* cut, as snprintf did */
	} else if (strncmp(fmt, "status ", 7) == 0) {
		mud_entry_t *e = NULL;
		mud_cache_result_t cr;
		char const *url = fmt + 7;

		while (*url == ' ') url++;
		/* No fetch token is asked for: an xlat never fetches. */
		cr = mud_cache_lookup(inst->cache, request, &e, NULL, url, request->timestamp);
		switch (cr) {
		case MUD_CACHE_HIT:
			n = snprintf(out, outlen, "hit %ld",
				     (long)(e->expires - request->timestamp));
			break;
		case MUD_CACHE_STALE:
			n = snprintf(out, outlen, "stale %ld",
				     (long)(request->timestamp - e->expires));
			break;
		case MUD_CACHE_NEGATIVE:
			n = snprintf(out, outlen, "negative %s", mud_rcode_status(e->status));
			break;
		case MUD_CACHE_MISS:
			n = snprintf(out, outlen, "miss");
			break;
		}
		talloc_free(e);
	} else {
		ssize_t r = mud_xlat_ops(inst, request, fmt, out, outlen);

		if (r >= 0) return r;
		if (r == -2) {
			REDEBUG("%%{%s:...}: expected stats, status <url>, list [start], "
				"show <url>, flush <url>, flush-all or refresh <url>", inst->name);
		}
		*out = '\0';
		return -1;
	}
	if (n < 0) {
		*out = '\0';
		return -1;
	}
	return (size_t)n >= outlen ? (ssize_t)outlen - 1 : n;
}

/*
 *	Start-up.
 */

/** Make sure an octets attribute for a certificate extension exists. */
static int ensure_cert_attr(CONF_SECTION *conf, char const *name, int num)
{
	ATTR_FLAGS flags;

	if (dict_attrbyname(name)) return 0;
	memset(&flags, 0, sizeof(flags));
	if (dict_addattr(name, num, 0, PW_TYPE_OCTETS, flags) < 0) {
		cf_log_err_cs(conf, "Failed registering %s: %s", name, fr_strerror());
		return -1;
	}
	return 0;
}

/** Look up a dictionary attribute the module needs. */
static int need_attr(CONF_SECTION *conf, DICT_ATTR const **out, char const *name)
{
	*out = dict_attrbyname(name);
	if (!*out) {
		cf_log_err_cs(conf, "Attribute %s not in the dictionary: add "
			      "\"$INCLUDE dictionary.mud\" to raddb/dictionary", name);
		return -1;
	}
	return 0;
}

/** libmud's log sink: cache entries dropped at load, spool files skipped (file and reason). */
static void libmud_log(void *uctx, mud_log_level_t level, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));
static void libmud_log(void *uctx, mud_log_level_t level, char const *fmt, ...)
{
	rlm_mud_shared_t const *inst = uctx;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	switch (level) {
	case MUD_LOG_ERROR:
		ERROR("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_WARN:
		WARN("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_INFO:
		INFO("rlm_mud (%s): %s", inst->name, buf);
		break;
	case MUD_LOG_DEBUG:
		DEBUG("rlm_mud (%s): %s", inst->name, buf);
		break;
	}
}

/** iodef { }: check the reporting settings (nothing if spool_dir unset); iodef_open() opens
 *  the spool.
 *
 * The settings are proven by rendering (and signing, with sign_key) a probe document, so
 * a bad reporter, TLP, language, key or certificate stops the server at start-up.
 */
static int iodef_instantiate(CONF_SECTION *conf, rlm_mud_t *inst)
{
	CONF_SECTION *cs = cf_section_sub_find(conf, "iodef");
	mud_incident_t probe;
	mud_error_t err;
	TALLOC_CTX *tmp;
	char *xml = NULL;
	size_t len = 0;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int ret = -1;

	if (!cs) cs = conf;
	if (!inst->iodef_spool_dir || !*inst->iodef_spool_dir) {
		DEBUG("rlm_mud (%s): no iodef spool_dir: incidents are not reported", inst->name);
		return 0;
	}
	if (!inst->iodef_reporter || !*inst->iodef_reporter ||
	    !inst->iodef_contact_name || !*inst->iodef_contact_name ||
	    !inst->iodef_contact_email || !*inst->iodef_contact_email) {
		cf_log_err_cs(cs, "iodef: reporter, contact_name and contact_email are required "
			      "with spool_dir");
		return -1;
	}
	if (!inst->iodef_sign_key != !inst->iodef_sign_cert) {
		cf_log_err_cs(cs, "iodef: sign_key and sign_cert go together");
		return -1;
	}
	if (inst->iodef_window < 1 || inst->iodef_window > 604800) {
		cf_log_err_cs(cs, "iodef: window must be 1..604800 seconds");
		return -1;
	}
	if (inst->iodef_max_files < 1 || inst->iodef_max_files > 1000000) {
		cf_log_err_cs(cs, "iodef: max_files must be 1..1000000");
		return -1;
	}
	if (inst->iodef_max_bytes < 65536) {
		cf_log_err_cs(cs, "iodef: max_bytes must be at least 65536");
		return -1;
	}
	if (inst->iodef_flush_rate < 1 || inst->iodef_flush_rate > 1000) {
		cf_log_err_cs(cs, "iodef: flush_rate must be 1..1000 documents per second");
		return -1;
	}
	mud_error_clear(&err);
	if (mud_iodef_restrictions_check(inst->iodef_restrictions, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: restrictions: %s", err.text);
		return -1;
	}
	if (inst->iodef_encrypt_cert && *inst->iodef_encrypt_cert &&
	    mud_iodef_rcpt_load(inst, &inst->iodef_rcpt, inst->iodef_encrypt_cert,
				inst->iodef_encrypt_cipher, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: encrypt_cert: %s (at %s)", err.text, err.where);
		return -1;
	}
	/* Read TZ now, before the worker threads: localtime_r() then only reads it. */
	tzset();

	inst->iodef.reporter = inst->iodef_reporter;
	inst->iodef.contact_name = inst->iodef_contact_name;
	inst->iodef.contact_email = inst->iodef_contact_email;
	inst->iodef.contact_phone = (inst->iodef_contact_phone && *inst->iodef_contact_phone) ?
				    inst->iodef_contact_phone : NULL;
	inst->iodef.tlp = inst->iodef_tlp;
	inst->iodef.lang = inst->iodef_lang;
	inst->iodef.sign_key = inst->iodef_sign_key;
	inst->iodef.sign_cert = inst->iodef_sign_cert;
	inst->iodef.timezone = inst->iodef_timezone;
	inst->iodef.restrictions = inst->iodef_restrictions;
	inst->iodef.encrypt = inst->iodef_rcpt;

	tmp = talloc_new(NULL);
	if (!tmp) {
		cf_log_err_cs(cs, "Out of memory");
		return -1;
	}
	memset(&probe, 0, sizeof(probe));
	probe.event = MUD_EVENT_URL_REFUSED;
	probe.mac = "00:00:5e:00:53:01";
	probe.mud_url = "https://mud.example.com/probe.json";
	probe.server_url = probe.mud_url;
	probe.text = "start-up check";
	mud_error_clear(&err);
	if (mud_iodef_render(tmp, &xml, &len, &probe, &inst->iodef, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: %s (at %s)", err.text, err.where);
		goto done;
	}
	if (inst->iodef.sign_key &&
	    mud_iodef_sign(tmp, &sig, &sig_len, xml, len, inst->iodef.sign_key,
			   inst->iodef.sign_cert, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: cannot sign with sign_key/sign_cert: %s (at %s)",
			      err.text, err.where);
		goto done;
	}
	if (inst->iodef.encrypt) {
		uint8_t *sealed = NULL;
		size_t sealed_len = 0;

		if (mud_iodef_seal(tmp, &sealed, &sealed_len, xml, len, &inst->iodef,
				   &err) != MUD_OK) {
			cf_log_err_cs(cs, "iodef: cannot encrypt to encrypt_cert: %s (at %s)",
				      err.text, err.where);
			goto done;
		}
	}
	ret = 0;
done:
	talloc_free(tmp);
	return ret;
}

/** Copy a string of the iodef settings into sh (NULL stays NULL). */
static bool iodef_dup(rlm_mud_shared_t *sh, char const **s)
{
	if (!*s) return true;
	*s = talloc_strdup(sh, *s);
	return *s != NULL;
}

/** iodef { }: open the spool and start its writer, in sh (nothing without spool_dir). The
 *  writer keeps its own copy of the settings: it outlives this instance. */
static int iodef_open(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	CONF_SECTION *cs = cf_section_sub_find(conf, "iodef");
	mud_spool_opts_t sopts;
	mud_error_t err;
	mud_iodef_config_t *c = &sh->iodef;

	if (!cs) cs = conf;
	if (!inst->iodef_spool_dir || !*inst->iodef_spool_dir) return 0;
	*c = inst->iodef;
	if (!iodef_dup(sh, &c->reporter) || !iodef_dup(sh, &c->contact_name) ||
	    !iodef_dup(sh, &c->contact_email) || !iodef_dup(sh, &c->contact_phone) ||
	    !iodef_dup(sh, &c->tlp) || !iodef_dup(sh, &c->lang) ||
	    !iodef_dup(sh, &c->sign_key) || !iodef_dup(sh, &c->sign_cert) ||
	    !iodef_dup(sh, &c->timezone) || !iodef_dup(sh, &c->restrictions)) {
		cf_log_err_cs(cs, "Out of memory");
		return -1;
	}
	/* the recipients (read-only) move to sh; this instance still points at them */
	if (inst->iodef_rcpt) (void)talloc_steal(sh, inst->iodef_rcpt);

	if (mkdir(inst->iodef_spool_dir, 0700) != 0 && errno != EEXIST) {
		cf_log_err_cs(cs, "iodef: cannot create spool_dir %s: %s", inst->iodef_spool_dir,
			      fr_syserror(errno));
		return -1;
	}
	memset(&sopts, 0, sizeof(sopts));
	sopts.max_files = inst->iodef_max_files;
	sopts.max_bytes = inst->iodef_max_bytes;
	sopts.window = inst->iodef_window;
	sopts.flush_rate = inst->iodef_flush_rate;
	sopts.log = libmud_log;
	sopts.log_uctx = sh;
	mud_error_clear(&err);
	if (mud_spool_open(sh, &sh->spool, inst->iodef_spool_dir, &sopts, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: cannot open spool_dir: %s (at %s)", err.text, err.where);
		return -1;
	}
	inst->spool = sh->spool;
	/* Requests only record; a thread (started on the first report) writes. */
	if (mud_spool_writer_start(sh->spool, &sh->iodef, &err) != MUD_OK) {
		cf_log_err_cs(cs, "iodef: %s (at %s)", err.text, err.where);
		return -1;
	}
	INFO("rlm_mud (%s): incident reports (IODEF) spooled in %s%s%s, written in the "
	     "background (at most %u per second)", inst->name, inst->iodef_spool_dir,
	     inst->iodef.sign_key ? ", signed" : "",
	     inst->iodef.encrypt ? ", encrypted" : "", inst->iodef_flush_rate);
	return 0;
}

/** Compile and render the quarantine filter for this instance's site context and output
 *  format (docs/configuration.md "Quarantine"). Stored under inst, read-only afterwards. */
static int quarantine_instantiate(CONF_SECTION *conf, rlm_mud_t *inst)
{
	mud_ruleset_t *rs = NULL;
	mud_format_t fmt;
	mud_error_t err;

	fmt = inst->out == MUD_OUT_NFR ? MUD_FMT_NAS_FILTER_RULE : MUD_FMT_CISCO_DACL;
	mud_error_clear(&err);
	if (mud_ruleset_quarantine(inst, &rs, inst->site, &err) != MUD_OK) {
		cf_log_err_cs(conf, "Failed compiling the quarantine filter: %s (at %s)",
			      err.text, err.where);
		return -1;
	}
	if (mud_ruleset_render(inst, &inst->quarantine, rs, fmt, &err) != MUD_OK) {
		talloc_free(rs);
		cf_log_err_cs(conf, "Failed rendering the quarantine filter as %s: %s (at %s)",
			      inst->output_format, err.text, err.where);
		return -1;
	}
	talloc_free(rs);
	if (inst->out != MUD_OUT_CISCO_DACL) return 0;

	if (!inst->quarantine->acl_name_v4 || !inst->quarantine->acl_name_v6) {
		cf_log_err_cs(conf, "Failed rendering the quarantine filter: no dACL name");
		return -1;
	}
	inst->q_defined_v4 = talloc_asprintf(inst, "ACS:CiscoSecure-Defined-ACL=%s",
					     inst->quarantine->acl_name_v4);
	inst->q_defined_v6 = talloc_asprintf(inst, "ACS:CiscoSecure-Defined-ACL=%s",
					     inst->quarantine->acl_name_v6);
	if (!inst->q_defined_v4 || !inst->q_defined_v6) {
		cf_log_err_cs(conf, "Out of memory");
		return -1;
	}
	return 0;
}

/** A reload keeps the quarantine dACLs of the instance it replaced answerable: a switch
 *  given their names just before the reload downloads them just after it. */
static void quarantine_keep_prev(rlm_mud_t *inst, rlm_mud_t const *prev)
{
	mud_rendered_t const *q = prev ? prev->quarantine : NULL;

	if (!q || inst->out != MUD_OUT_CISCO_DACL || !q->acl_name_v4 || !q->acl_name_v6 ||
	    !inst->quarantine->acl_name_v4 || !inst->quarantine->acl_name_v6) return;
	if (strcmp(q->acl_name_v4, inst->quarantine->acl_name_v4) == 0 &&
	    strcmp(q->acl_name_v6, inst->quarantine->acl_name_v6) == 0) return;
	inst->prev_quarantine = mud_rendered_copy(inst, q);
	if (!inst->prev_quarantine) WARN("rlm_mud (%s): reload: out of memory keeping the "
					 "previous quarantine dACLs; a download of them is "
					 "refused", inst->name);
}

/** CoA sender log lines into radius.log. */
static void coa_log(void *uctx, rlm_mud_coa_level_t level, char const *msg)
{
	rlm_mud_shared_t const *inst = uctx;

	switch (level) {
	case RLM_MUD_COA_LOG_DEBUG:
		DEBUG2("rlm_mud (%s): %s", inst->name, msg);
		break;
	case RLM_MUD_COA_LOG_INFO:
		INFO("rlm_mud (%s): %s", inst->name, msg);
		break;
	case RLM_MUD_COA_LOG_WARN:
		WARN("rlm_mud (%s): %s", inst->name, msg);
		break;
	case RLM_MUD_COA_LOG_ERROR:
		ERROR("rlm_mud (%s): %s", inst->name, msg);
		break;
	}
}

/** fetch_mode and the checks of the background settings (each instance). */
static int background_instantiate(CONF_SECTION *conf, rlm_mud_t *inst)
{
	if (!inst->fetch_mode || strcmp(inst->fetch_mode, "inline") == 0) {
		inst->background = false;
	} else if (strcmp(inst->fetch_mode, "background") == 0) {
		inst->background = true;
	} else {
		cf_log_err_cs(conf, "fetch_mode must be \"inline\" or \"background\", not \"%s\"",
			      inst->fetch_mode);
		return -1;
	}
	if (inst->pending_timeout > 3600) {
		cf_log_err_cs(conf, "pending_session_timeout must be 0..3600 seconds");
		return -1;
	}
	if (inst->coa_enable && (inst->coa_port == 0 || inst->coa_port > 65535)) {
		cf_log_err_cs(conf, "coa_port must be 1..65535");
		return -1;
	}
	if (inst->refresh_interval > 3600) {
		cf_log_err_cs(conf, "refresh_interval must be 0..3600 seconds");
		return -1;
	}
	if (inst->fetch_wait > 300) {
		cf_log_err_cs(conf, "fetch_wait must be 0..300 seconds");
		return -1;
	}
	if (inst->metrics_file && *inst->metrics_file &&
	    (inst->metrics_interval < 1 || inst->metrics_interval > 3600)) {
		cf_log_err_cs(conf, "metrics_interval must be 1..3600 seconds");
		return -1;
	}
	return 0;
}

/** The CoA sender and the fetch service (its threads and ticker), in sh. */
static int background_start(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	mud_fetchsvc_opts_t fo;
	mud_error_t err;

	if (inst->coa_enable) {
		rlm_mud_coa_opts_t co;
		char const *cerr = NULL;

		memset(&co, 0, sizeof(co));
		co.port = (uint16_t)inst->coa_port;
		co.secret = inst->coa_secret;
		co.retries = (int)inst->coa_retries;
		co.log = coa_log;
		co.uctx = sh;
		sh->coa = rlm_mud_coa_create(sh, &co, &cerr);
		if (!sh->coa) {
			cf_log_err_cs(conf, "CoA sender: %s", cerr ? cerr : "failed");
			return -1;
		}
		inst->coa = sh->coa;
	}

	/* both modes: background fetches, and an operator's refresh (docs/operations.md) */
	memset(&fo, 0, sizeof(fo));
	fo.threads = inst->fetch_threads;
	fo.queue_max = inst->fetch_queue_max;
	fo.per_authority = inst->fetch_per_authority;
	/* the ticker refreshes (refresh_interval), publishes late to Redis, re-checks the cache
	 * after a reload, ages stations out */
	fo.tick_interval = inst->refresh_interval ? inst->refresh_interval :
			   MUD_REPUBLISH_INTERVAL;
	fo.tick = refresh_tick;
	mud_error_clear(&err);
	if (mud_fetchsvc_create(sh, &sh->fetchsvc, &fo, fetch_job, sh, &err) != MUD_OK) {
		cf_log_err_cs(conf, "fetch service: %s (at %s)", err.text, err.where);
		return -1;
	}
	inst->fetchsvc = sh->fetchsvc;
	return 0;
}

/** metrics_file: the writer thread, in sh (first write now: an unusable path fails the
 *  start). */
static int metrics_start(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	mud_error_t err;

	if (!inst->metrics_file || !*inst->metrics_file) return 0;
	mud_error_clear(&err);
	if (mud_metrics_writer_start(sh, &sh->metrics_writer, inst->metrics_file,
				     inst->metrics_interval, metrics_text, sh, libmud_log, sh,
				     &err) != MUD_OK) {
		cf_log_err_cs(conf, "metrics_file: %s (at %s)", err.text, err.where);
		return -1;
	}
	return 0;
}

/*
 *	Shared state and reload (docs/operations.md "HUP").
 */

static pthread_mutex_t shared_mutex = PTHREAD_MUTEX_INITIALIZER;	//!< the registry
static rlm_mud_shared_t *shared_list;		//!< shared states by instance name

/** A secret in the settings text: only whether it changed (FNV-1a), never its value. */
static uint32_t secret_tag(char const *secret)
{
	uint32_t h = 2166136261u;

	for (; secret && *secret; secret++) h = (h ^ (uint8_t)*secret) * 16777619u;
	return h;
}

/** Append "name=value" and a separator (\037: values may hold spaces) to *s. */
static void settings_add(char **s, char const *name, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));
static void settings_add(char **s, char const *name, char const *fmt, ...)
{
	va_list ap;
	char *v;

	if (!*s) return;
	va_start(ap, fmt);
	v = talloc_vasprintf(*s, fmt, ap);
	va_end(ap);
	*s = v ? talloc_asprintf_append(*s, "%s=%s\037", name, v) : NULL;
}

/** The settings a reload cannot change (they size or own what sh holds, or its threads use
 *  them), rendered to compare a reload's with the running ones. Secrets only as a hash. */
static char *settings_render(rlm_mud_t const *inst)
{
	char *s = talloc_strdup(inst, "");

#define S(_x) ((_x) ? (_x) : "")
	settings_add(&s, "cache_dir", "%s", S(inst->cache_dir));
	settings_add(&s, "cache_key_file", "%s", S(inst->cache_key_file));
	settings_add(&s, "cache_max_entries", "%u", inst->cache_max_entries);
	settings_add(&s, "cache_max_validity", "%u", inst->cache_max_validity);
	settings_add(&s, "cache_fail_ttl", "%u", inst->cache_fail_ttl);
	settings_add(&s, "cache_stale_max", "%u", inst->cache_stale_max);
	settings_add(&s, "dns_refresh_min", "%u", inst->dns_refresh_min);
	settings_add(&s, "dns_refresh_max", "%u", inst->dns_refresh_max);
	settings_add(&s, "output_format", "%s", S(inst->output_format));
	settings_add(&s, "accounting_max_entries", "%u", inst->accounting_max_entries);
	settings_add(&s, "fetch_threads", "%u", inst->fetch_threads);
	settings_add(&s, "fetch_queue_max", "%u", inst->fetch_queue_max);
	settings_add(&s, "fetch_per_authority", "%u", inst->fetch_per_authority);
	settings_add(&s, "refresh_interval", "%u", inst->refresh_interval);
	settings_add(&s, "coa", "%d", inst->coa_enable);
	settings_add(&s, "coa_port", "%u", inst->coa_port);
	settings_add(&s, "coa_retries", "%u", inst->coa_retries);
	settings_add(&s, "coa_secret", "(#%08x)", secret_tag(inst->coa_secret));
	settings_add(&s, "enforce", "%s", S(inst->enforce));
	settings_add(&s, "enforce_table", "%s", S(inst->enforce_table));
	settings_add(&s, "enforce_bridge", "%s", S(inst->enforce_bridge));
	settings_add(&s, "enforce_track", "%d", inst->enforce_track);
	settings_add(&s, "metrics_file", "%s", S(inst->metrics_file));
	settings_add(&s, "metrics_interval", "%u", inst->metrics_interval);
	settings_add(&s, "iodef.spool_dir", "%s", S(inst->iodef_spool_dir));
	settings_add(&s, "iodef.reporter", "%s", S(inst->iodef_reporter));
	settings_add(&s, "iodef.contact_name", "%s", S(inst->iodef_contact_name));
	settings_add(&s, "iodef.contact_email", "%s", S(inst->iodef_contact_email));
	settings_add(&s, "iodef.contact_phone", "%s", S(inst->iodef_contact_phone));
	settings_add(&s, "iodef.tlp", "%s", S(inst->iodef_tlp));
	settings_add(&s, "iodef.lang", "%s", S(inst->iodef_lang));
	settings_add(&s, "iodef.sign_key", "%s", S(inst->iodef_sign_key));
	settings_add(&s, "iodef.sign_cert", "%s", S(inst->iodef_sign_cert));
	settings_add(&s, "iodef.window", "%u", inst->iodef_window);
	settings_add(&s, "iodef.max_files", "%u", inst->iodef_max_files);
	settings_add(&s, "iodef.max_bytes", "%u", inst->iodef_max_bytes);
	settings_add(&s, "iodef.timezone", "%s", S(inst->iodef_timezone));
	settings_add(&s, "iodef.restrictions", "%s", S(inst->iodef_restrictions));
	settings_add(&s, "iodef.encrypt_cert", "%s", S(inst->iodef_encrypt_cert));
	settings_add(&s, "iodef.encrypt_cipher", "%s", S(inst->iodef_encrypt_cipher));
	settings_add(&s, "iodef.flush_rate", "%u", inst->iodef_flush_rate);
	settings_add(&s, "redis.server", "%s", S(inst->redis_server));
	settings_add(&s, "redis.port", "%u", inst->redis_port);
	settings_add(&s, "redis.username", "%s", S(inst->redis_username));
	settings_add(&s, "redis.password", "(#%08x)", secret_tag(inst->redis_password));
	settings_add(&s, "redis.database", "%u", inst->redis_database);
	settings_add(&s, "redis.key_file", "%s", S(inst->redis_key_file));
	settings_add(&s, "redis.prefix", "%s", S(inst->redis_prefix));
	settings_add(&s, "redis.connect_timeout", "%u", inst->redis_connect_timeout);
	settings_add(&s, "redis.timeout", "%u", inst->redis_timeout);
	settings_add(&s, "redis.pool_size", "%u", inst->redis_pool_size);
	settings_add(&s, "redis.retry_max", "%u", inst->redis_retry_max);
#undef S
	return s;
}

/** A reload that changes a setting it cannot apply is refused as a whole: each such setting
 *  is logged, and the running configuration stays (restart to apply it). */
static int settings_compare(CONF_SECTION *conf, rlm_mud_t const *inst, char const *running)
{
	char const *a = running;
	char const *b = inst->settings;
	int changed = 0;

	while (*a && *b) {
		size_t la = strcspn(a, "\037");
		size_t lb = strcspn(b, "\037");

		if (la != lb || memcmp(a, b, la) != 0) {
			cf_log_err_cs(conf, "reload: %.*s changed to %.*s, which needs a restart",
				      (int)la, a, (int)lb, b);
			changed++;
		}
		a += la + (a[la] == '\037');
		b += lb + (b[lb] == '\037');
	}
	return changed ? -1 : 0;
}

/** Point the instance at what sh owns. */
static void shared_borrow(rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	inst->metrics = sh->metrics;
	inst->cache = sh->cache;
	inst->stations = sh->stations;
	inst->redis = sh->redis;
	inst->fetchsvc = sh->fetchsvc;
	inst->coa = sh->coa;
	inst->enforce_state = sh->enforce_state;
	inst->spool = sh->spool;
}

/** Stop the threads (they may still use an instance), then free what sh owns. */
static void shared_free(rlm_mud_shared_t *sh)
{
	TALLOC_FREE(sh->metrics_writer);	/* reads the cache, fetch service and sender */
	/* fetch threads first (they use the cache and the CoA sender), then the sender */
	TALLOC_FREE(sh->fetchsvc);
	if (sh->coa) {
		rlm_mud_coa_free(sh->coa);
		sh->coa = NULL;
	}
	TALLOC_FREE(sh->redis);			/* after the fetch threads that use it */
	TALLOC_FREE(sh->enforce_state);		/* stops its thread, deletes the table */
	TALLOC_FREE(sh->cache);
	TALLOC_FREE(sh->spool);
	if (sh->fetch_init) mud_fetch_global_free();
	if (sh->wait_init) {
		pthread_cond_destroy(&sh->wait_cond);
		pthread_mutex_destroy(&sh->wait_mutex);
	}
	if (sh->cur_init) {
		pthread_cond_destroy(&sh->cur_cond);
		pthread_mutex_destroy(&sh->cur_mutex);
	}
	talloc_free(sh);
}

/** The first instance of a name: create the shared state (called with shared_mutex held).
 *  On failure inst->sh is set all the same: detach frees what was made. */
static int shared_create(CONF_SECTION *conf, rlm_mud_t *inst)
{
	rlm_mud_shared_t *sh;
	mud_cache_opts_t copts;
	mud_stations_opts_t sopts;
	mud_error_t err;
	size_t load_errors = 0;

	sh = talloc_zero(NULL, rlm_mud_shared_t);	/* outlives this instance */
	if (!sh) goto oom;
	inst->sh = sh;
	sh->refs = 1;
	sh->name = talloc_strdup(sh, inst->name);
	sh->start_settings = talloc_strdup(sh, inst->settings);
	sh->start_conf = conf;
	if (!sh->name || !sh->start_settings) goto oom;
	if (pthread_mutex_init(&sh->cur_mutex, NULL) != 0) goto sync;
	if (pthread_cond_init(&sh->cur_cond, NULL) != 0) {
		pthread_mutex_destroy(&sh->cur_mutex);
		goto sync;
	}
	sh->cur_init = true;
	sh->current = inst;
	sh->insts = inst;
	if (pthread_mutex_init(&sh->wait_mutex, NULL) != 0) goto sync;
	if (pthread_cond_init(&sh->wait_cond, NULL) != 0) {
		pthread_mutex_destroy(&sh->wait_mutex);
		goto sync;
	}
	sh->wait_init = true;

	sh->metrics = mud_metrics_alloc(sh);
	if (!sh->metrics) goto oom;
	inst->metrics = sh->metrics;
	if (enforce_open(conf, inst, sh) < 0) return -1;

	mud_error_clear(&err);
	if (mud_fetch_global_init(&err) != MUD_OK) {
		cf_log_err_cs(conf, "HTTPS client initialisation failed: %s", err.text);
		return -1;
	}
	sh->fetch_init = true;

	memset(&copts, 0, sizeof(copts));
	copts.max_entries = inst->cache_max_entries;
	copts.max_validity = inst->cache_max_validity;
	copts.fail_ttl = inst->cache_fail_ttl;
	copts.stale_max = inst->cache_stale_max;
	copts.dir = (inst->cache_dir && *inst->cache_dir) ? inst->cache_dir : NULL;
	copts.key_file = (inst->cache_key_file && *inst->cache_key_file) ? inst->cache_key_file :
									  NULL;
	copts.format = inst->out == MUD_OUT_NFR ? MUD_FMT_NAS_FILTER_RULE : MUD_FMT_CISCO_DACL;
	copts.dns_ttl_min = inst->dns_refresh_min;
	copts.dns_ttl_max = inst->dns_refresh_max;
	copts.log = libmud_log;
	copts.log_uctx = sh;
	copts.compile_tag = inst->compile_tag;
	if (mud_cache_create(sh, &sh->cache, &copts, time(NULL), &load_errors,
			     &err) != MUD_OK) {
		cf_log_err_cs(conf, "Failed creating the MUD cache: %s (at %s)",
			      err.text, err.where);
		return -1;
	}
	inst->cache = sh->cache;
	if (load_errors > 0) {
		WARN("rlm_mud (%s): %zu persisted cache entr%s in %s dropped (reasons above)",
		     inst->name, load_errors, load_errors == 1 ? "y" : "ies", copts.dir);
	}

	memset(&sopts, 0, sizeof(sopts));
	sopts.max_entries = inst->accounting_max_entries;
	if (mud_stations_create(sh, &sh->stations, &sopts, &err) != MUD_OK) {
		cf_log_err_cs(conf, "accounting_max_entries: %s", err.text);
		return -1;
	}
	inst->stations = sh->stations;
	/* a persisted policy signed under an anchor removed since it was stored is never served */
	trust_revalidate(inst, time(NULL));
	if (redis_instantiate(conf, inst, sh) < 0) return -1;
	if (background_start(conf, inst, sh) < 0) return -1;
	if (iodef_open(conf, inst, sh) < 0) return -1;
	if (metrics_start(conf, inst, sh) < 0) return -1;
	shared_borrow(inst, sh);

	sh->registered = true;
	sh->next = shared_list;
	shared_list = sh;
	return 0;

oom:
	cf_log_err_cs(conf, "Out of memory");
	return -1;
sync:
	cf_log_err_cs(conf, "Failed initialising a mutex or condition variable");
	return -1;
}

/** A reload (HUP): this instance, complete and valid, takes over from the running one (called
 *  with shared_mutex held; cannot fail). Requests already running keep the instance they
 *  started in; background work uses this one from now on. */
static void shared_join(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	rlm_mud_t *prev;

	inst->sh = sh;
	sh->refs++;
	sh->reloads++;
	inst->generation = sh->reloads;
	mud_metrics_reload(sh->metrics, true);
	sh->latest_conf = conf;
	shared_borrow(inst, sh);
	/* policies compiled for another context are stale now: served, and refreshed by the
	 * ticker (stations use them) or their next request; CoA where the dACLs change */
	mud_cache_set_compile_tag(sh->cache, inst->compile_tag);

	/* current changes only here and in detach, both under shared_mutex */
	prev = sh->current;
	quarantine_keep_prev(inst, prev);

	pthread_mutex_lock(&sh->cur_mutex);
	inst->sh_next = sh->insts;
	sh->insts = inst;
	sh->current = inst;
	pthread_mutex_unlock(&sh->cur_mutex);

	/* at once on the ticker: the signer chains against the new anchors, and the refresh of
	 * what the new context compiles differently */
	__atomic_store_n(&sh->revalidate, 1, __ATOMIC_RELEASE);
	mud_fetchsvc_tick_now(sh->fetchsvc);
	INFO("rlm_mud (%s): reloaded (%u): site context %s, quarantine VLAN %d, %s; cache, "
	     "stations and fetches kept", inst->name, sh->reloads,
	     inst->context_file ? inst->context_file : "(none)", inst->qvlan,
	     inst->trust ? "signer trust anchors reloaded" : "signatures not checked");
}

/** The running shared state of an instance name, NULL at start-up. */
static rlm_mud_shared_t *shared_find(char const *name)
{
	rlm_mud_shared_t *sh;

	pthread_mutex_lock(&shared_mutex);
	for (sh = shared_list; sh; sh = sh->next) {
		if (strcmp(sh->name, name) == 0) break;
	}
	pthread_mutex_unlock(&shared_mutex);
	return sh;
}

/** A reload parses the newest configuration: FreeRADIUS 3.2 hands a HUP-safe module the
 *  section it started with (module_conf_parse(node->cs)), and after a full re-read (a config
 *  file changed) the new section to instantiate. Parsing it here applies what changed in the
 *  text, and registers the context and trust files with the configuration FreeRADIUS watches
 *  now, so that a later change of only them is still noticed. */
static CONF_SECTION *reload_parse(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	CONF_SECTION *use = (conf == sh->start_conf && sh->latest_conf) ? sh->latest_conf : conf;

	if (cf_section_parse(use, inst, module_config) < 0) {
		cf_log_err_cs(use, "reload: invalid configuration");
		return NULL;
	}
	return use;
}

/** The compile tag: SHA-256 of everything a compiled policy depends on besides its file. */
static void compile_tag_make(rlm_mud_t *inst)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "libmud=%s\nformat=%s\nlenient=%d\ncontext=%s\n",
		     mud_version(), inst->output_format, inst->lenient, inst->site->digest);
	mud_sha256_hex(inst->compile_tag, buf, n > 0 ? (size_t)n : 0);
}

/** Build the instance; sh: the running shared state of a reload, NULL at start-up. */
static int instance_build(CONF_SECTION *conf, rlm_mud_t *inst, rlm_mud_shared_t *sh)
{
	mud_error_t err;
	int rc = 0;

	if (sh) {
		conf = reload_parse(conf, inst, sh);
		if (!conf) return -1;
	}

	/* in instantiate, not bootstrap: FreeRADIUS never reloads a module with a bootstrap */
	if (ensure_cert_attr(conf, MUD_DA_CERT_URL, MUD_DA_CERT_URL_NUM) < 0 ||
	    ensure_cert_attr(conf, MUD_DA_CERT_SIGNER, MUD_DA_CERT_SIGNER_NUM) < 0) return -1;
	if (need_attr(conf, &inst->da_url, "MUD-URL") < 0 ||
	    need_attr(conf, &inst->da_url_source, "MUD-URL-Source") < 0 ||
	    need_attr(conf, &inst->da_mfg, "MUD-Manufacturer") < 0 ||
	    need_attr(conf, &inst->da_model, "MUD-Model") < 0 ||
	    need_attr(conf, &inst->da_status, "MUD-Status") < 0 ||
	    need_attr(conf, &inst->da_acl_name, "MUD-ACL-Name") < 0 ||
	    need_attr(conf, &inst->da_error, "MUD-Error") < 0 ||
	    need_attr(conf, &inst->da_vlan, "MUD-VLAN") < 0 ||
	    need_attr(conf, &inst->da_cache, "MUD-Cache") < 0 ||
	    need_attr(conf, &inst->da_expires, "MUD-Expires-In") < 0 ||
	    need_attr(conf, &inst->da_cert_url, MUD_DA_CERT_URL) < 0 ||
	    need_attr(conf, &inst->da_cert_signer, MUD_DA_CERT_SIGNER) < 0) return -1;
	inst->da_avpair = dict_attrbyvalue(CISCO_AVPAIR, VENDORPEC_CISCO_MUD);
	inst->da_nfr = dict_attrbyvalue(PW_NAS_FILTER_RULE, 0);
	inst->da_state = dict_attrbyvalue(PW_STATE, 0);
	reply_vlan_instantiate(inst);
	if (!inst->da_avpair || !inst->da_nfr || !inst->da_state) {
		cf_log_err_cs(conf, "Cisco-AVPair, NAS-Filter-Rule or State "
			      "missing from the dictionary");
		return -1;
	}

	if (strcmp(inst->output_format, "cisco-dacl") == 0) {
		inst->out = MUD_OUT_CISCO_DACL;
	} else if (strcmp(inst->output_format, "cisco-inline") == 0) {
		inst->out = MUD_OUT_CISCO_INLINE;
	} else if (strcmp(inst->output_format, "nas-filter-rule") == 0) {
		inst->out = MUD_OUT_NFR;
	} else {
		cf_log_err_cs(conf, "Invalid output_format \"%s\": expected cisco-dacl, "
			      "cisco-inline or nas-filter-rule", inst->output_format);
		return -1;
	}

	if (strcmp(inst->log_decisions, "all") == 0) {
		inst->log_changes_only = false;
	} else if (strcmp(inst->log_decisions, "changes") == 0) {
		inst->log_changes_only = true;
	} else {
		cf_log_err_cs(conf, "Invalid log_decisions \"%s\": expected all or changes",
			      inst->log_decisions);
		return -1;
	}

	if (inst->connect_timeout < 1 || inst->connect_timeout > 60) {
		cf_log_err_cs(conf, "connect_timeout must be 1..60 seconds");
		return -1;
	}
	if (inst->timeout < 1 || inst->timeout > 300) {
		cf_log_err_cs(conf, "timeout must be 1..300 seconds");
		return -1;
	}
	if (inst->max_file_size < 1024 || inst->max_file_size > MUD_MAX_FILE_SIZE) {
		cf_log_err_cs(conf, "max_file_size must be 1024..%d bytes", MUD_MAX_FILE_SIZE);
		return -1;
	}
	if (inst->quarantine_vlan > 4094) {
		cf_log_err_cs(conf, "quarantine_vlan must be 0 (none) or 1..4094");
		return -1;
	}
	if (inst->accounting_max_entries > MUD_STATIONS_MAX) {
		cf_log_err_cs(conf, "accounting_max_entries must be at most %d", MUD_STATIONS_MAX);
		return -1;
	}
	if (inst->max_redirects > 10) {
		cf_log_err_cs(conf, "max_redirects must be 0..10");
		return -1;
	}
	if (inst->dns_refresh_max > 0 && inst->dns_refresh_min > inst->dns_refresh_max) {
		cf_log_err_cs(conf, "dns_refresh_min must not exceed dns_refresh_max");
		return -1;
	}
	if (background_instantiate(conf, inst) < 0) return -1;
	mud_error_clear(&err);
	if (mud_fetch_proxy_check(inst->proxy, &err) != MUD_OK) {
		cf_log_err_cs(conf, "%s", err.text);
		return -1;
	}
	mud_error_clear(&err);
	if (mud_urlpolicy_create(inst, &inst->urlpolicy, inst->url_allow, inst->url_deny,
				 inst->allow_private_urls, &err) != MUD_OK) {
		cf_log_err_cs(conf, "%s: %s", err.where, err.text);
		return -1;
	}

	/* what a reload may change: built whole before anything is swapped */
	mud_error_clear(&err);
	if (inst->trust_file || inst->trust_path) {
		if (mud_trust_load(inst, &inst->trust, inst->trust_file, inst->trust_path,
				   &err) != MUD_OK) {
			cf_log_err_cs(conf, "Failed loading MUD signer trust anchors: %s (at %s)",
				      err.text, err.where);
			return -1;
		}
	} else if (inst->require_signature) {
		cf_log_err_cs(conf, "require_signature = yes needs trust_file or trust_path");
		return -1;
	} else {
		WARN("rlm_mud (%s): no trust_file/trust_path: MUD file signatures are NOT checked",
		     inst->name);
	}

	if (inst->context_file) {
		if (mud_context_load(inst, &inst->site, inst->context_file, &err) != MUD_OK) {
			cf_log_err_cs(conf, "Invalid context file %s: %s (at %s)",
				      inst->context_file, err.text, err.where);
			return -1;
		}
	} else {
		inst->site = mud_context_alloc(inst);
		if (!inst->site) {
			cf_log_err_cs(conf, "Out of memory");
			return -1;
		}
	}
	inst->qvlan = inst->quarantine_vlan ? (int)inst->quarantine_vlan :
		      inst->site->quarantine_vlan;
	if (quarantine_instantiate(conf, inst) < 0) return -1;
	if (enforce_instantiate(conf, inst) < 0) return -1;
	compile_tag_make(inst);
	{	/* the MUD servers' CAs: neither set is the system's bundle */
		bool sys = !(inst->ca_file && *inst->ca_file) && !(inst->ca_path && *inst->ca_path);
		char const *file = sys ? mud_ca_system_file() : inst->ca_file;

		mud_error_clear(&err);
		if (mud_ca_load(inst, &inst->ca, file, sys ? NULL : inst->ca_path,
				&err) != MUD_OK) {
			cf_log_err_cs(conf, "Failed loading the MUD servers' CAs (%s): %s (at %s)",
				      sys ? "no ca_file or ca_path: the system's bundle" :
				      "ca_file, ca_path", err.text, err.where);
			return -1;
		}
	}
	if (iodef_instantiate(conf, inst) < 0) return -1;
	inst->settings = settings_render(inst);
	if (!inst->settings) {
		cf_log_err_cs(conf, "Out of memory");
		return -1;
	}
	if (sh && settings_compare(conf, inst, sh->start_settings) < 0) return -1;

	pthread_mutex_lock(&shared_mutex);
	if (sh) {
		shared_join(conf, inst, sh);
	} else {
		rc = shared_create(conf, inst);
	}
	pthread_mutex_unlock(&shared_mutex);
	if (rc < 0) return -1;

	/* the newest instance answers %{mud:...} (a replaced one's unregister is a no-op) */
	xlat_register(inst->name, mud_xlat, NULL, inst);

	if (!sh) INFO("rlm_mud (%s): libmud %s, output %s, signatures %s", inst->name,
		      mud_version(), inst->output_format, inst->trust ? "verified" : "not checked");
	return 0;
}

static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_mud_t *inst = instance;
	rlm_mud_shared_t *sh;

	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	/* instantiate runs on the main thread only (start-up, HUP), like detach */
	sh = shared_find(inst->name);
	if (instance_build(conf, inst, sh) < 0) {
		/* a reload refused: FreeRADIUS keeps the running instance (and says so) */
		if (sh) mud_metrics_reload(sh->metrics, false);
		return -1;
	}
	return 0;
}

/** FreeRADIUS frees an instance at shutdown, when a reload fails, and a replaced one at a
 *  later HUP: only the last instance of a name stops the threads and frees the state. */
static int mod_detach(void *instance)
{
	rlm_mud_t *inst = instance;
	rlm_mud_shared_t *sh = inst->sh;
	rlm_mud_t **p;

	xlat_unregister(inst->name, mud_xlat, instance);
	if (!sh) return 0;

	pthread_mutex_lock(&shared_mutex);
	if (sh->refs > 1) {
		pthread_mutex_lock(&sh->cur_mutex);
		for (p = &sh->insts; *p; p = &(*p)->sh_next) {
			if (*p == inst) {
				*p = inst->sh_next;
				break;
			}
		}
		/* newest first: the instance serving now, or the newest one left */
		if (sh->current == inst) sh->current = sh->insts;
		while (inst->bg_users > 0) pthread_cond_wait(&sh->cur_cond, &sh->cur_mutex);
		pthread_mutex_unlock(&sh->cur_mutex);
		sh->refs--;
		pthread_mutex_unlock(&shared_mutex);
		inst->sh = NULL;
		INFO("rlm_mud (%s): configuration %u freed (replaced by a reload); the cache, "
		     "stations and fetches stay", inst->name, inst->generation);
		return 0;
	}
	if (sh->registered) {
		rlm_mud_shared_t **q;

		for (q = &shared_list; *q; q = &(*q)->next) {
			if (*q == sh) {
				*q = sh->next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&shared_mutex);
	shared_free(sh);	/* the threads stop while inst is still whole */
	inst->sh = NULL;
	return 0;
}

/** The module's one exported symbol. HUP-safe: a HUP reloads the site context and the trust
 *  anchors (docs/operations.md "HUP"). */
extern module_t rlm_mud;
module_t rlm_mud = {
	.magic		= RLM_MODULE_INIT,
	.name		= "mud",
	.type		= RLM_TYPE_THREAD_SAFE | RLM_TYPE_HUP_SAFE,
	.inst_size	= sizeof(rlm_mud_t),
	.config		= module_config,
	.instantiate	= mod_instantiate,
	.detach		= mod_detach,
	.methods = {
		[MOD_AUTHORIZE]		= mod_authorize,
		[MOD_ACCOUNTING]	= mod_accounting,
		[MOD_POST_AUTH]		= mod_post_auth,
	},
};
