/*
 * mud_enforce.c - the enforcement state of a Linux gateway: which devices have rules in the
 * nftables table, their addresses (neighbour table, kept current by a thread reading
 * neighbour notifications), expiry. One mutex guards the state and the libnftables context;
 * netlink dumps run outside it (STYLE.md section 6).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <talloc.h>

#include "mud_private.h"
#include "mud_nft.h"

/** CAP_NET_ADMIN's bit in /proc/self/status CapEff (linux/capability.h). */
#define MUDP_CAP_NET_ADMIN	12

typedef struct {
	mud_enforce_dev_t	pub;
	uint8_t			mac[6];
	char			id[13];
} dev_t_;

/** A compiled policy remembered by URL (mud_enforce_remember). */
typedef struct {
	char			*url;
	mud_ruleset_t		*rs;
} pol_t;

struct mud_enforce {
	pthread_mutex_t		mutex;
	mudp_nft_t		*nft;
	char			*table;
	char			*bridge;
	int			bridge_ifindex;
	bool			keep;
	mud_log_t		log;
	void			*log_uctx;
	mudp_nl_ops_t const	*ops;

	dev_t_			*devs;		//!< talloc array
	size_t			num_devs;

	pol_t			*pols;		//!< URL -> compiled rules (talloc array, FIFO)
	size_t			num_pols;

	mudp_nl_mon_t		*mon;
	pthread_t		thread;
	bool			thread_running;
	int			stop_pipe[2];
};

#define LOG(_e, _l, ...) do { if ((_e)->log) (_e)->log((_e)->log_uctx, _l, __VA_ARGS__); } while (0)

static dev_t_ *dev_find(mud_enforce_t *e, uint8_t const mac[6])
{
	size_t i;

	for (i = 0; i < e->num_devs; i++) {
		if (memcmp(e->devs[i].mac, mac, 6) == 0) return &e->devs[i];
	}
	return NULL;
}

static bool prefix_eq(mud_prefix_t const *a, mud_prefix_t const *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4) == 0;
}

/** The device holding an address, and its index in the device's list. */
static dev_t_ *addr_owner(mud_enforce_t *e, mud_prefix_t const *a, size_t *idx)
{
	size_t i;
	size_t j;

	for (i = 0; i < e->num_devs; i++) {
		for (j = 0; j < e->devs[i].pub.num_addrs; j++) {
			if (prefix_eq(&e->devs[i].pub.addrs[j], a)) {
				if (idx) *idx = j;
				return &e->devs[i];
			}
		}
	}
	return NULL;
}

static void addr_drop(dev_t_ *d, size_t j)
{
	d->pub.addrs[j] = d->pub.addrs[d->pub.num_addrs - 1];
	d->pub.num_addrs--;
}

/* ---------------------------------------------------------------- addresses */

/** Under the lock: give the device an address (or take it away). */
static mud_rcode_t addr_update(mud_enforce_t *e, dev_t_ *d, mud_prefix_t const *a, bool add,
			       mud_error_t *err)
{
	size_t j = 0;
	dev_t_ *owner = addr_owner(e, a, &j);
	char *json;
	mud_rcode_t rc;

	if (add && owner == d) return MUD_OK;
	if (!add && owner != d) return MUD_OK;
	if (add && d->pub.num_addrs >= MUD_ENFORCE_MAX_ADDRS) {
		return mud_error_set(err, MUD_ERR_LIMIT, d->pub.mac, "more than %d addresses",
				     MUD_ENFORCE_MAX_ADDRS);
	}
	json = mudp_nft_addr_json(NULL, e->table, d->id, a, add, owner ? owner->id : NULL);
	if (!json) return mud_error_set(err, MUD_ERR_NOMEM, "nftables", "out of memory");
	rc = mudp_nft_run(e->nft, json, d->pub.mac, err);
	talloc_free(json);
	if (rc != MUD_OK) return rc;
	if (owner) addr_drop(owner, j);
	if (add) d->pub.addrs[d->pub.num_addrs++] = *a;
	return MUD_OK;
}

mud_rcode_t mud_enforce_addr(mud_enforce_t *e, char const *mac, mud_prefix_t const *addr,
			     bool add, mud_error_t *err)
{
	uint8_t m[6];
	char canon[18];
	char id[13];
	dev_t_ *d;
	mud_prefix_t a;
	mud_rcode_t rc = MUD_OK;

	if (!e || !addr) return mud_error_set(err, MUD_ERR_ARG, "addr", "no state or address");
	if (!mudp_mac_parse(mac, m, canon, id)) {
		return mud_error_set(err, MUD_ERR_ARG, "mac", "not a unicast MAC address");
	}
	a = *addr;
	if ((a.family != 4 || a.len != 32) && (a.family != 6 || a.len != 128)) {
		return mud_error_set(err, MUD_ERR_ARG, "addr", "not a host address");
	}
	pthread_mutex_lock(&e->mutex);
	d = dev_find(e, m);
	if (d) rc = addr_update(e, d, &a, add, err);
	pthread_mutex_unlock(&e->mutex);
	return rc;
}

/** Neighbour notification (monitor thread). */
static void neigh_event(void *uctx, mudp_neigh_t const *n)
{
	mud_enforce_t *e = uctx;
	dev_t_ *d;
	mud_error_t err;
	char a[64];

	mud_error_clear(&err);
	if (e->bridge_ifindex > 0 && n->ifindex != e->bridge_ifindex) return;
	pthread_mutex_lock(&e->mutex);
	if (n->gone) {
		d = addr_owner(e, &n->addr, NULL);
	} else {
		d = dev_find(e, n->mac);
	}
	if (d && addr_update(e, d, &n->addr, !n->gone, &err) != MUD_OK) {
		mud_prefix_print(a, sizeof(a), &n->addr, false);
		LOG(e, MUD_LOG_WARN, "enforce: %s address %s: %s", d->pub.mac, a, err.text);
	} else if (d) {
		mud_prefix_print(a, sizeof(a), &n->addr, false);
		LOG(e, MUD_LOG_DEBUG, "enforce: %s %s address %s", d->pub.mac,
		    n->gone ? "lost" : "has", a);
	}
	pthread_mutex_unlock(&e->mutex);
}

static void *mon_thread(void *arg)
{
	mud_enforce_t *e = arg;
	struct pollfd p[2];

	p[0].fd = e->stop_pipe[0];
	p[0].events = POLLIN;
	p[1].fd = mudp_nl_mon_fd(e->mon);
	p[1].events = POLLIN;
	for (;;) {
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) continue;
			break;
		}
		if (p[0].revents) break;
		if (p[1].revents) mudp_nl_mon_read(e->mon);
	}
	return NULL;
}

/* ---------------------------------------------------------------- open / close */

static bool has_cap_net_admin(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	bool ok = true;		/* unknown: let the kernel decide */

	if (!f) return ok;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			unsigned long long caps = strtoull(line + 7, NULL, 16);

			ok = (caps >> MUDP_CAP_NET_ADMIN) & 1;
			break;
		}
	}
	fclose(f);
	return ok;
}

/** br_netfilter must hand bridged IP traffic to the inet hooks, or it is never filtered. */
static mud_rcode_t check_br_netfilter(mud_error_t *err)
{
	static char const *files[] = {
		"/proc/sys/net/bridge/bridge-nf-call-iptables",
		"/proc/sys/net/bridge/bridge-nf-call-ip6tables",
	};
	size_t i;

	for (i = 0; i < MUD_ARRAY_LEN(files); i++) {
		char buf[8] = "";
		FILE *f = fopen(files[i], "re");

		if (f) {
			if (!fgets(buf, sizeof(buf), f)) buf[0] = '\0';
			fclose(f);
		}
		if (buf[0] != '1') {
			return mud_error_set(err, MUD_ERR_UNSUPPORTED, files[i], "bridged traffic "
					     "would bypass the rules: load br_netfilter and set "
					     "net.bridge.bridge-nf-call-iptables=1 and "
					     "net.bridge.bridge-nf-call-ip6tables=1");
		}
	}
	return MUD_OK;
}

static int _enforce_free(mud_enforce_t *e)
{
	if (e->thread_running) {
		char c = 0;

		if (write(e->stop_pipe[1], &c, 1) < 0) { /* the thread also stops on poll error */ }
		pthread_join(e->thread, NULL);
		e->thread_running = false;
	}
	if (e->stop_pipe[0] >= 0) close(e->stop_pipe[0]);
	if (e->stop_pipe[1] >= 0) close(e->stop_pipe[1]);
	e->stop_pipe[0] = e->stop_pipe[1] = -1;
	TALLOC_FREE(e->mon);
	if (e->nft && !e->keep) {
		char *json = talloc_asprintf(e, "{\"nftables\":[{\"delete\":{\"table\":{\"family\":"
					     "\"inet\",\"name\":\"%s\"}}},{\"delete\":{\"table\":"
					     "{\"family\":\"bridge\",\"name\":\"%s\"}}}]}",
					     e->table, e->table);
		mud_error_t err;

		mud_error_clear(&err);
		if (json && mudp_nft_run(e->nft, json, "delete table", &err) != MUD_OK) {
			LOG(e, MUD_LOG_WARN, "enforce: removing table %s: %s", e->table, err.text);
		}
	}
	pthread_mutex_destroy(&e->mutex);
	return 0;
}

/** Skip to the next element token of an nft listing ("," "{" "}" and blanks separate). */
static char const *tok_next(char const *p, char *tok, size_t len)
{
	size_t n = 0;

	while (*p && strchr(" \t\n,{}", *p)) p++;
	while (*p && !strchr(" \t\n,{}", *p)) {
		if (n + 1 < len) tok[n++] = *p;
		p++;
	}
	tok[n] = '\0';
	return p;
}

/** Rebuild the device list from an existing table (mudctl): the "out" map gives the MACs,
 *  "in4"/"in6" their addresses. Element lines look like "KEY : jump out_ID". */
static void load_existing(mud_enforce_t *e, char const *listing)
{
	static char const *maps[] = { "map out ", "map in4 ", "map in6 " };
	size_t k;

	for (k = 0; k < MUD_ARRAY_LEN(maps); k++) {
		char const *p = strstr(listing, maps[k]);
		char const *end;
		char key[64];
		char colon[8];
		char verb[16];
		char target[40];

		if (!p) continue;
		/* the map's own elements: before the first '}' after its '{' (an empty map
		 * closes first, and the next map's elements are not its own) */
		end = strchr(p, '{');
		end = end ? strchr(end + 1, '}') : NULL;
		p = strstr(p, "elements = {");
		if (!p || !end || p > end) continue;
		p += strlen("elements = {") - 1;
		while (p < end) {
			uint8_t mac[6];
			char canon[18];
			char id[13];
			dev_t_ *d;
			mud_prefix_t a;

			p = tok_next(p, key, sizeof(key));
			if (p > end || !key[0]) break;
			p = tok_next(p, colon, sizeof(colon));
			p = tok_next(p, verb, sizeof(verb));
			p = tok_next(p, target, sizeof(target));
			if (strcmp(colon, ":") != 0 || strcmp(verb, "jump") != 0) break;
			if (k == 0) {
				dev_t_ *n;

				if (!mudp_mac_parse(key, mac, canon, id)) continue;
				if (dev_find(e, mac)) continue;
				n = talloc_realloc(e, e->devs, dev_t_, e->num_devs + 1);
				if (!n) return;
				e->devs = n;
				d = &e->devs[e->num_devs++];
				memset(d, 0, sizeof(*d));
				memcpy(d->mac, mac, 6);
				memcpy(d->id, id, sizeof(id));
				memcpy(d->pub.mac, canon, sizeof(canon));
				continue;
			}
			if (mud_prefix_parse(&a, key, false, NULL) != MUD_OK) continue;
			d = NULL;
			if (strncmp(target, "in_", 3) == 0) {
				size_t i;

				for (i = 0; i < e->num_devs && !d; i++) {
					if (strcmp(target + 3, e->devs[i].id) == 0) d = &e->devs[i];
				}
			}
			if (d && d->pub.num_addrs < MUD_ENFORCE_MAX_ADDRS) {
				d->pub.addrs[d->pub.num_addrs++] = a;
			}
		}
	}
}

mud_rcode_t mud_enforce_open(TALLOC_CTX *ctx, mud_enforce_t **out,
			     mud_enforce_opts_t const *opts, mud_error_t *err)
{
	mud_enforce_t *e;
	char *json;
	char *listing = NULL;
	mud_rcode_t rc;
	char const *table = opts && opts->table ? opts->table : "rlm_mud";

	*out = NULL;
	if (!mudp_nft_name_ok(table)) {
		return mud_error_set(err, MUD_ERR_ARG, "table", "nftables table name must be 1..%d "
				     "letters, digits or '_'", MUD_ENFORCE_MAX_TABLE);
	}
	if (opts && opts->bridge && (!opts->bridge[0] || strlen(opts->bridge) >= IF_NAMESIZE ||
				     strchr(opts->bridge, '"') || strchr(opts->bridge, '\\'))) {
		return mud_error_set(err, MUD_ERR_ARG, "bridge", "not an interface name");
	}
	if (!has_cap_net_admin()) {
		return mud_error_set(err, MUD_ERR_UNSUPPORTED, "CAP_NET_ADMIN",
				     "this process lacks CAP_NET_ADMIN, needed to install "
				     "nftables rules (run as root or with "
				     "AmbientCapabilities=CAP_NET_ADMIN)");
	}
	e = talloc_zero(ctx, mud_enforce_t);
	if (!e) return mud_error_set(err, MUD_ERR_NOMEM, "enforce", "out of memory");
	pthread_mutex_init(&e->mutex, NULL);
	e->stop_pipe[0] = e->stop_pipe[1] = -1;
	talloc_set_destructor(e, _enforce_free);
	e->keep = true;		/* nothing of ours to delete until the table is made */
	e->ops = &mudp_nl_ops;
	e->log = opts ? opts->log : NULL;
	e->log_uctx = opts ? opts->log_uctx : NULL;
	e->table = talloc_strdup(e, table);
	if (!e->table) goto nomem;
	if (opts && opts->bridge) {
		e->bridge = talloc_strdup(e, opts->bridge);
		if (!e->bridge) goto nomem;
		e->bridge_ifindex = (int)if_nametoindex(opts->bridge);
		if (e->bridge_ifindex <= 0) {
			mud_error_set(err, MUD_ERR_ARG, opts->bridge, "bridge: no such interface");
			goto error;
		}
		if (check_br_netfilter(err) != MUD_OK) goto error;
	}
	rc = mudp_nft_open(e, &e->nft, err);
	if (rc != MUD_OK) goto error;

	if (opts && opts->keep) listing = mudp_nft_list(e->nft, e, "inet", e->table);
	if (opts && opts->keep && opts->readonly) {
		if (!listing) {
			mud_error_set(err, MUD_ERR_ARG, e->table, "no nftables table inet %s "
				      "(nothing enforced)", e->table);
			goto error;
		}
		load_existing(e, listing);
		TALLOC_FREE(listing);
		*out = e;
		return MUD_OK;
	}
	json = mudp_nft_table_json(e, e->table, e->bridge, !(opts && opts->keep));
	if (!json) goto nomem;
	rc = mudp_nft_run(e->nft, json, "create table", err);
	talloc_free(json);
	if (rc != MUD_OK) {
		if (strstr(err->text, "Operation not permitted")) {
			err->code = MUD_ERR_UNSUPPORTED;
			mudp_strlcpy(err->where, "CAP_NET_ADMIN", sizeof(err->where));
		}
		goto error;
	}
	e->keep = opts && opts->keep;
	if (listing) load_existing(e, listing);
	TALLOC_FREE(listing);

	if (opts && opts->track) {
		rc = mudp_nl_mon_open(e, &e->mon, neigh_event, e, err);
		if (rc != MUD_OK) goto error;
		if (pipe2(e->stop_pipe, O_CLOEXEC) != 0) {
			mud_error_set(err, MUD_ERR_NOMEM, "pipe2", "cannot create a pipe");
			goto error;
		}
		if (pthread_create(&e->thread, NULL, mon_thread, e) != 0) {
			mud_error_set(err, MUD_ERR_NOMEM, "pthread_create", "cannot start the "
				      "neighbour thread");
			goto error;
		}
		e->thread_running = true;
	}
	*out = e;
	return MUD_OK;

nomem:
	mud_error_set(err, MUD_ERR_NOMEM, "enforce", "out of memory");
error:
	talloc_free(e);
	return err ? err->code : MUD_ERR_NOMEM;
}

/* ---------------------------------------------------------------- devices */

/** What an apply learned from netlink before taking the lock. */
typedef struct {
	uint8_t		mac[6];
	char		canon[18];
	char		id[13];
	mud_prefix_t	found[MUD_ENFORCE_MAX_ADDRS];
	size_t		nfound;
	char		port[IF_NAMESIZE];
} apply_in_t;

static mud_rcode_t apply_prepare(mud_enforce_t *e, char const *mac, apply_in_t *in,
				 mud_error_t *err)
{
	memset(in, 0, sizeof(*in));
	if (!mudp_mac_parse(mac, in->mac, in->canon, in->id)) {
		return mud_error_set(err, MUD_ERR_ARG, "mac", "not a unicast MAC address "
				     "(xx:xx:xx:xx:xx:xx)");
	}
	/* netlink I/O outside the lock */
	in->nfound = e->ops->addrs(NULL, in->mac, e->bridge_ifindex, in->found,
				   MUD_ARRAY_LEN(in->found));
	(void)e->ops->port(NULL, in->mac, e->bridge_ifindex, in->port, sizeof(in->port));
	return MUD_OK;
}

/** Under the lock: install or replace the device's rules. */
static mud_rcode_t apply_locked(mud_enforce_t *e, apply_in_t const *in, mud_ruleset_t const *rs,
				char const *url, time_t expires, mud_error_t *err)
{
	mud_prefix_t addrs[MUD_ENFORCE_MAX_ADDRS];
	size_t naddrs = 0;
	size_t i;
	char *json = NULL;
	dev_t_ *d = dev_find(e, in->mac);
	mud_rcode_t rc;

	if (!d && e->num_devs >= MUD_ENFORCE_MAX_DEVICES) {
		return mud_error_set(err, MUD_ERR_LIMIT, in->canon, "more than %d devices",
				     MUD_ENFORCE_MAX_DEVICES);
	}
	if (d) {
		for (i = 0; i < d->pub.num_addrs; i++) addrs[naddrs++] = d->pub.addrs[i];
	}
	for (i = 0; i < in->nfound && naddrs < MUD_ARRAY_LEN(addrs); i++) {
		/* an address another device holds stays with it: the neighbour thread moves
		 * it when the table says so */
		if (!addr_owner(e, &in->found[i], NULL)) addrs[naddrs++] = in->found[i];
	}
	rc = mud_nft_device_json(NULL, &json, e->table, in->canon, rs, addrs, naddrs, err);
	if (rc == MUD_OK) rc = mudp_nft_run(e->nft, json, in->canon, err);
	talloc_free(json);
	if (rc != MUD_OK) return rc;
	if (!d) {
		dev_t_ *n = talloc_realloc(e, e->devs, dev_t_, e->num_devs + 1);

		if (!n) {
			/* installed but not remembered: take it out again */
			char *rm = mudp_nft_remove_json(NULL, e->table, in->canon, addrs, naddrs);

			if (rm) (void)mudp_nft_run(e->nft, rm, in->canon, NULL);
			talloc_free(rm);
			return mud_error_set(err, MUD_ERR_NOMEM, in->canon, "out of memory");
		}
		e->devs = n;
		d = &e->devs[e->num_devs++];
		memset(d, 0, sizeof(*d));
		memcpy(d->mac, in->mac, 6);
		memcpy(d->id, in->id, sizeof(d->id));
		memcpy(d->pub.mac, in->canon, sizeof(d->pub.mac));
	}
	TALLOC_FREE(d->pub.url);
	if (url) d->pub.url = talloc_strdup(e->devs, url);
	d->pub.expires = expires;
	d->pub.num_rules = rs->num_rules + 4;	/* + ct invalid and the default deny, both chains */
	memcpy(d->pub.addrs, addrs, naddrs * sizeof(addrs[0]));
	d->pub.num_addrs = naddrs;
	mudp_strlcpy(d->pub.port, in->port, sizeof(d->pub.port));
	LOG(e, MUD_LOG_INFO, "enforce: %s: %zu rules, %zu addresses%s%s", in->canon, rs->num_rules,
	    naddrs, in->port[0] ? ", port " : "", in->port);
	return MUD_OK;
}

mud_rcode_t mud_enforce_apply(mud_enforce_t *e, char const *mac, mud_ruleset_t const *rs,
			      char const *url, time_t expires, mud_error_t *err)
{
	apply_in_t in;
	mud_rcode_t rc;

	if (!e || !rs) return mud_error_set(err, MUD_ERR_ARG, "enforce", "no state or rule set");
	rc = apply_prepare(e, mac, &in, err);
	if (rc != MUD_OK) return rc;
	pthread_mutex_lock(&e->mutex);
	rc = apply_locked(e, &in, rs, url, expires, err);
	pthread_mutex_unlock(&e->mutex);
	return rc;
}

static pol_t *pol_find(mud_enforce_t *e, char const *url)
{
	size_t i;

	for (i = 0; i < e->num_pols; i++) {
		if (strcmp(e->pols[i].url, url) == 0) return &e->pols[i];
	}
	return NULL;
}

mud_rcode_t mud_enforce_remember(mud_enforce_t *e, char const *url, mud_ruleset_t const *rs,
				 mud_error_t *err)
{
	mud_ruleset_t *c;
	pol_t *p;
	pol_t *n;
	size_t i;

	if (!e || !url || !rs) return mud_error_set(err, MUD_ERR_ARG, "enforce", "no URL or rules");
	c = talloc_zero(NULL, mud_ruleset_t);
	if (!c) return mud_error_set(err, MUD_ERR_NOMEM, url, "out of memory");
	c->num_rules = rs->num_rules;
	c->rules = rs->num_rules ? talloc_memdup(c, rs->rules, rs->num_rules * sizeof(rs->rules[0]))
				 : NULL;
	if (rs->num_rules && !c->rules) goto nomem;
	for (i = 0; i < c->num_rules; i++) {
		c->rules[i].peer_name = NULL;
		c->rules[i].origin = NULL;
		if (!rs->rules[i].origin) continue;
		c->rules[i].origin = talloc_strdup(c->rules, rs->rules[i].origin);
		if (!c->rules[i].origin) goto nomem;
	}
	c->mud_url = talloc_strdup(c, url);
	if (!c->mud_url) goto nomem;

	pthread_mutex_lock(&e->mutex);
	p = pol_find(e, url);
	if (p) {
		talloc_free(p->rs);
		p->rs = talloc_steal(e->pols, c);
		pthread_mutex_unlock(&e->mutex);
		return MUD_OK;
	}
	if (e->num_pols >= MUD_ENFORCE_MAX_POLICIES) {
		/* the oldest goes: its devices keep their rules, a new session re-fetches */
		talloc_free(e->pols[0].url);
		talloc_free(e->pols[0].rs);
		memmove(e->pols, e->pols + 1, (e->num_pols - 1) * sizeof(e->pols[0]));
		e->num_pols--;
	}
	n = talloc_realloc(e, e->pols, pol_t, e->num_pols + 1);
	if (!n) {
		pthread_mutex_unlock(&e->mutex);
		goto nomem;
	}
	e->pols = n;
	n[e->num_pols].url = talloc_strdup(e->pols, url);
	if (!n[e->num_pols].url) {
		pthread_mutex_unlock(&e->mutex);
		goto nomem;
	}
	n[e->num_pols].rs = talloc_steal(e->pols, c);
	e->num_pols++;
	pthread_mutex_unlock(&e->mutex);
	return MUD_OK;

nomem:
	talloc_free(c);
	return mud_error_set(err, MUD_ERR_NOMEM, url, "out of memory");
}

mud_rcode_t mud_enforce_apply_url(mud_enforce_t *e, char const *mac, char const *url,
				  time_t expires, mud_error_t *err)
{
	apply_in_t in;
	pol_t *p;
	mud_rcode_t rc;

	if (!e || !url) return mud_error_set(err, MUD_ERR_ARG, "enforce", "no state or URL");
	rc = apply_prepare(e, mac, &in, err);
	if (rc != MUD_OK) return rc;
	pthread_mutex_lock(&e->mutex);
	p = pol_find(e, url);
	if (!p) {
		rc = mud_error_set(err, MUD_ERR_ARG, url, "no compiled rules remembered for this "
				   "URL");
	} else {
		rc = apply_locked(e, &in, p->rs, url, expires, err);
	}
	pthread_mutex_unlock(&e->mutex);
	return rc;
}

/** Under the lock: remove device d from the table and the state. */
static mud_rcode_t dev_remove(mud_enforce_t *e, dev_t_ *d, mud_error_t *err)
{
	char *json = mudp_nft_remove_json(NULL, e->table, d->pub.mac, d->pub.addrs,
					  d->pub.num_addrs);
	mud_rcode_t rc;
	size_t idx = (size_t)(d - e->devs);

	if (!json) return mud_error_set(err, MUD_ERR_NOMEM, d->pub.mac, "out of memory");
	rc = mudp_nft_run(e->nft, json, d->pub.mac, err);
	talloc_free(json);
	if (rc != MUD_OK) return rc;
	talloc_free(d->pub.url);
	e->devs[idx] = e->devs[e->num_devs - 1];
	e->num_devs--;
	return MUD_OK;
}

mud_rcode_t mud_enforce_remove(mud_enforce_t *e, char const *mac, bool *found, mud_error_t *err)
{
	uint8_t m[6];
	char canon[18];
	char id[13];
	dev_t_ *d;
	mud_rcode_t rc = MUD_OK;

	if (found) *found = false;
	if (!e) return mud_error_set(err, MUD_ERR_ARG, "enforce", "no state");
	if (!mudp_mac_parse(mac, m, canon, id)) {
		return mud_error_set(err, MUD_ERR_ARG, "mac", "not a unicast MAC address");
	}
	pthread_mutex_lock(&e->mutex);
	d = dev_find(e, m);
	if (d) {
		rc = dev_remove(e, d, err);
		if (rc == MUD_OK && found) *found = true;
	}
	pthread_mutex_unlock(&e->mutex);
	return rc;
}

mud_rcode_t mud_enforce_flush(mud_enforce_t *e, mud_error_t *err)
{
	mud_rcode_t rc = MUD_OK;

	if (!e) return mud_error_set(err, MUD_ERR_ARG, "enforce", "no state");
	pthread_mutex_lock(&e->mutex);
	while (e->num_devs > 0 && rc == MUD_OK) rc = dev_remove(e, &e->devs[e->num_devs - 1], err);
	pthread_mutex_unlock(&e->mutex);
	return rc;
}

size_t mud_enforce_expire(mud_enforce_t *e, time_t now)
{
	size_t i = 0;
	size_t n = 0;

	if (!e) return 0;
	pthread_mutex_lock(&e->mutex);
	while (i < e->num_devs) {
		dev_t_ *d = &e->devs[i];
		mud_error_t err;

		mud_error_clear(&err);
		if (d->pub.expires == 0 || d->pub.expires > now) {
			i++;
			continue;
		}
		LOG(e, MUD_LOG_INFO, "enforce: %s: session expired, rules removed", d->pub.mac);
		if (dev_remove(e, d, &err) != MUD_OK) {
			LOG(e, MUD_LOG_WARN, "enforce: %s: %s", d->pub.mac, err.text);
			i++;
			continue;
		}
		n++;
	}
	pthread_mutex_unlock(&e->mutex);
	return n;
}

static int dev_cmp(void const *a, void const *b)
{
	return strcmp(((mud_enforce_dev_t const *)a)->mac, ((mud_enforce_dev_t const *)b)->mac);
}

size_t mud_enforce_devices(mud_enforce_t *e, TALLOC_CTX *ctx, mud_enforce_dev_t **out)
{
	size_t i;
	size_t n;
	mud_enforce_dev_t *v;

	*out = NULL;
	if (!e) return 0;
	pthread_mutex_lock(&e->mutex);
	n = e->num_devs;
	v = n ? talloc_array(ctx, mud_enforce_dev_t, n) : NULL;
	if (!v) n = 0;
	for (i = 0; i < n; i++) {
		v[i] = e->devs[i].pub;
		v[i].url = e->devs[i].pub.url ? talloc_strdup(v, e->devs[i].pub.url) : NULL;
	}
	pthread_mutex_unlock(&e->mutex);
	if (n > 1) qsort(v, n, sizeof(*v), dev_cmp);
	*out = v;
	return n;
}

char *mud_enforce_listing(mud_enforce_t *e, TALLOC_CTX *ctx)
{
	char *a;
	char *b;

	if (!e) return NULL;
	pthread_mutex_lock(&e->mutex);
	a = mudp_nft_list(e->nft, ctx, "inet", e->table);
	b = mudp_nft_list(e->nft, ctx, "bridge", e->table);
	pthread_mutex_unlock(&e->mutex);
	if (a && b) {
		char *c = talloc_asprintf_append_buffer(a, "%s", b);

		talloc_free(b);
		return c;
	}
	talloc_free(b);
	return a;
}
