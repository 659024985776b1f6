/*
 * mud_nl.c - device addresses and bridge ports through libnl (neighbour table RTM_GETNEIGH,
 * FDB entries of family AF_BRIDGE, RTNLGRP_NEIGH notifications). The only file that includes
 * libnl headers; mud_enforce.c reaches it through mudp_nl_ops, so tests can replace it.
 * Every socket and cache lives only inside one call or one talloc wrapper (STYLE.md 5).
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <talloc.h>
#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/route/neighbour.h>

#include "mud_private.h"
#include "mud_nft.h"

/** States in which a neighbour entry says nothing about where the address lives. */
#define NUD_UNUSABLE	(NUD_INCOMPLETE | NUD_FAILED | NUD_NOARP)

static bool neigh_mac_is(struct rtnl_neigh *n, uint8_t const mac[6])
{
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n);

	return ll && nl_addr_get_len(ll) == 6 && memcmp(nl_addr_get_binary_addr(ll), mac, 6) == 0;
}

/** An IPv4/IPv6 neighbour's address as a host prefix; false for anything else. */
static bool neigh_addr(struct rtnl_neigh *n, mud_prefix_t *out)
{
	struct nl_addr *dst = rtnl_neigh_get_dst(n);
	int fam = rtnl_neigh_get_family(n);
	unsigned int len;

	if (!dst) return false;
	len = nl_addr_get_len(dst);
	memset(out, 0, sizeof(*out));
	if (fam == AF_INET && len == 4) {
		out->family = 4;
		out->len = 32;
	} else if (fam == AF_INET6 && len == 16) {
		out->family = 6;
		out->len = 128;
	} else {
		return false;
	}
	memcpy(out->addr, nl_addr_get_binary_addr(dst), len);
	return true;
}

/** Run fn over a fresh neighbour dump (flags: NL_CACHE_AF_ITER adds the FDB). */
static bool neigh_dump(unsigned int flags, void (*fn)(struct rtnl_neigh *, void *), void *arg)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *o;

	if (!sk) return false;
	if (nl_connect(sk, NETLINK_ROUTE) < 0 ||
	    rtnl_neigh_alloc_cache_flags(sk, &cache, flags) < 0) {
		nl_socket_free(sk);
		return false;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		fn((struct rtnl_neigh *)o, arg);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return true;
}

typedef struct {
	uint8_t const	*mac;
	int		ifindex;
	mud_prefix_t	*out;
	size_t		max;
	size_t		num;
	char		*port;
	size_t		portlen;
	bool		found;
} walk_t;

static void addrs_one(struct rtnl_neigh *n, void *arg)
{
	walk_t *w = arg;
	mud_prefix_t p;

	if (w->num >= w->max || !neigh_mac_is(n, w->mac)) return;
	if (w->ifindex > 0 && rtnl_neigh_get_ifindex(n) != w->ifindex) return;
	if (rtnl_neigh_get_state(n) & NUD_UNUSABLE) return;
	if (!neigh_addr(n, &p)) return;
	w->out[w->num++] = p;
}

static size_t nl_addrs(void *uctx, uint8_t const mac[6], int ifindex, mud_prefix_t *out,
		       size_t max)
{
	walk_t w = { .mac = mac, .ifindex = ifindex, .out = out, .max = max };

	(void)uctx;
	if (!neigh_dump(0, addrs_one, &w)) return 0;
	return w.num;
}

static void port_one(struct rtnl_neigh *n, void *arg)
{
	walk_t *w = arg;
	char name[IF_NAMESIZE];

	if (w->found || rtnl_neigh_get_family(n) != AF_BRIDGE || !neigh_mac_is(n, w->mac)) return;
	if (w->ifindex > 0 && rtnl_neigh_get_master(n) != w->ifindex) return;
	if (!if_indextoname((unsigned int)rtnl_neigh_get_ifindex(n), name)) return;
	mudp_strlcpy(w->port, name, w->portlen);
	w->found = true;
}

static bool nl_port(void *uctx, uint8_t const mac[6], int bridge_ifindex, char *port, size_t len)
{
	walk_t w = { .mac = mac, .ifindex = bridge_ifindex, .port = port, .portlen = len };

	(void)uctx;
	if (len == 0) return false;
	port[0] = '\0';
	if (!neigh_dump(NL_CACHE_AF_ITER, port_one, &w)) return false;
	return w.found;
}

mudp_nl_ops_t const mudp_nl_ops = {
	.addrs = nl_addrs,
	.port = nl_port,
};

/* ---------------------------------------------------------------- notifications */

struct mudp_nl_mon {
	struct nl_sock	*sk;
	mudp_neigh_cb_t	cb;
	void		*uctx;
	int		msgtype;	//!< of the message being parsed
};

static void mon_obj(struct nl_object *o, void *arg)
{
	mudp_nl_mon_t *m = arg;
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n);
	mudp_neigh_t ev;

	memset(&ev, 0, sizeof(ev));
	if (!neigh_addr(n, &ev.addr)) return;	/* FDB and other families: not an address */
	if (!ll || nl_addr_get_len(ll) != 6) {
		/* a deletion may come without a link-layer address: the callback matches by
		 * address alone */
		if (m->msgtype != RTM_DELNEIGH) return;
	} else {
		memcpy(ev.mac, nl_addr_get_binary_addr(ll), 6);
	}
	ev.ifindex = rtnl_neigh_get_ifindex(n);
	ev.gone = m->msgtype == RTM_DELNEIGH || (rtnl_neigh_get_state(n) & NUD_FAILED);
	if (!ev.gone && (rtnl_neigh_get_state(n) & NUD_UNUSABLE)) return;
	m->cb(m->uctx, &ev);
}

static int mon_msg(struct nl_msg *msg, void *arg)
{
	mudp_nl_mon_t *m = arg;

	m->msgtype = nlmsg_hdr(msg)->nlmsg_type;
	if (m->msgtype == RTM_NEWNEIGH || m->msgtype == RTM_DELNEIGH) {
		(void)nl_msg_parse(msg, mon_obj, m);
	}
	return NL_OK;
}

static int _mon_free(mudp_nl_mon_t *m)
{
	if (m->sk) nl_socket_free(m->sk);
	m->sk = NULL;
	return 0;
}

mud_rcode_t mudp_nl_mon_open(TALLOC_CTX *ctx, mudp_nl_mon_t **out, mudp_neigh_cb_t cb,
			     void *uctx, mud_error_t *err)
{
	mudp_nl_mon_t *m;
	int rc;

	*out = NULL;
	m = talloc_zero(ctx, mudp_nl_mon_t);
	if (!m) return mud_error_set(err, MUD_ERR_NOMEM, "nl_socket_alloc", "out of memory");
	m->cb = cb;
	m->uctx = uctx;
	m->sk = nl_socket_alloc();
	if (!m->sk) {
		talloc_free(m);
		return mud_error_set(err, MUD_ERR_NOMEM, "nl_socket_alloc", "out of memory");
	}
	talloc_set_destructor(m, _mon_free);
	nl_socket_disable_seq_check(m->sk);
	nl_socket_modify_cb(m->sk, NL_CB_VALID, NL_CB_CUSTOM, mon_msg, m);
	rc = nl_connect(m->sk, NETLINK_ROUTE);
	if (rc >= 0) rc = nl_socket_add_membership(m->sk, RTNLGRP_NEIGH);
	if (rc >= 0) rc = nl_socket_set_nonblocking(m->sk);
	if (rc < 0) {
		mud_error_set(err, MUD_ERR_IO, "nl_connect(NETLINK_ROUTE, RTNLGRP_NEIGH)",
			      "netlink: %s", nl_geterror(rc));
		talloc_free(m);
		return MUD_ERR_IO;
	}
	*out = m;
	return MUD_OK;
}

int mudp_nl_mon_fd(mudp_nl_mon_t *m)
{
	return nl_socket_get_fd(m->sk);
}

void mudp_nl_mon_read(mudp_nl_mon_t *m)
{
	int i;

	/* bounded: a flood of notifications cannot keep the thread here forever */
	for (i = 0; i < 64; i++) {
		if (nl_recvmsgs_default(m->sk) < 0) break;
	}
}
