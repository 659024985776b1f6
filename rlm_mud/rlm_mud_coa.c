/*
 *   This program is free software; you can redistribute it and/or modify
 *   it under the terms of the GNU General Public License as published by
 *   the Free Software Foundation; either version 2 of the License, or
 *   (at your option) any later version.
 */

/**
 * @file rlm_mud_coa.c
 * @brief RFC 5176 CoA-Request sender: queue, sender thread, libfreeradius encoding.
 *
 * Threads: rlm_mud_coa_send() and rlm_mud_coa_stats() take c->mutex only to touch the
 * queue (entries are talloc children of c->qctx, allocated and freed under the mutex) and
 * the counters. Everything else (sockets, Id slots, packets, timers) belongs to the sender
 * thread: it moves an entry from the queue to its own context (c->tctx) before using it.
 * The thread is joined by the destructor before the talloc children go.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/realms.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rlm_mud_coa.h"

#define COA_VENDOR_CISCO	9	//!< Cisco's IANA enterprise number.
#define COA_CISCO_AVPAIR	1	//!< Cisco-AVPair.
#define COA_AUDIT_PREFIX	"audit-session-id="
#define COA_LOG_CUT		64	//!< bytes of an untrusted value put in a log line
					//!< (escaped: at most 4 x 64 + quotes)
#define COA_LABEL_LEN		(64 + INET6_ADDRSTRLEN + 2 * (COA_LOG_CUT * 4 + 1))
					//!< coa_label(): text, address, two escaped values
#define COA_READ_BURST		64	//!< replies read per socket per wake-up
#define COA_FAM_V4		0
#define COA_FAM_V6		1
#define COA_IDS			256	//!< RFC 2865 section 3: 8-bit Identifier
#define COA_HDR_LEN		20	//!< RFC 2865 section 3: Code, Identifier, Length,
					//!< Authenticator (libradius keeps its name private)

typedef struct coa_entry coa_entry_t;

/** One request: copied in by rlm_mud_coa_send(), owned by the sender once dequeued. */
struct coa_entry {
	coa_entry_t	*next;		//!< queue link
	fr_ipaddr_t	dst;		//!< destination (the NAS)
	uint16_t	port;		//!< destination port
	fr_ipaddr_t	nas;		//!< NAS-IP(v6)-Address value
	char		*secret;	//!< shared secret (never logged)
	char		*audit;		//!< audit-session-id or NULL
	char		*station;	//!< Calling-Station-Id or NULL
	uint64_t	cookie;		//!< for the done callback
	int		fam;		//!< COA_FAM_V4 / COA_FAM_V6

	RADIUS_PACKET	*packet;	//!< encoded and signed request (sender thread)
	int		tries;		//!< transmissions so far
	uint64_t	rt_ms;		//!< current retransmission timer
	uint64_t	deadline;	//!< monotonic ms of the next timer expiry
	unsigned int	bad;		//!< replies that failed verification
};

/** The sender. */
struct rlm_mud_coa {
	uint16_t		port;		//!< default destination port
	char			*secret;	//!< default secret or NULL
	uint64_t		irt;		//!< first timer (ms)
	uint64_t		mrt;		//!< backoff ceiling (ms)
	int			retries;	//!< retransmissions
	uint32_t		max_queued;
	uint32_t		max_inflight;	//!< per family
	rlm_mud_coa_log_t	log;
	rlm_mud_coa_done_t	done;
	void			*uctx;

	int			fd[2];		//!< UDP sockets, IPv4 and IPv6 (-1 = none)
	int			wake[2];	//!< self-pipe: [0] polled by the thread
	pthread_t		thread;
	bool			thread_started;

	pthread_mutex_t		mutex;		//!< guards the fields down to stats
	bool			mutex_init;
	TALLOC_CTX		*qctx;		//!< parent of queued entries (under mutex)
	coa_entry_t		*head;
	coa_entry_t		*tail;
	uint32_t		nqueued;
	bool			stop;
	time_t			drop_logged;	//!< last "queue full" log line
	rlm_mud_coa_stats_t	stats;

	TALLOC_CTX		*tctx;		//!< parent of dequeued entries (sender thread)
	coa_entry_t		*slot[2][COA_IDS];	//!< in flight, by family and Id
	uint32_t		inflight[2];
	unsigned int		next_id[2];
	uint32_t		rng;		//!< xorshift state for the timer jitter
};

char const *rlm_mud_coa_outcome_name(rlm_mud_coa_outcome_t outcome)
{
	switch (outcome) {
	case RLM_MUD_COA_ACK:
		return "ack";
	case RLM_MUD_COA_NAK:
		return "nak";
	case RLM_MUD_COA_TIMEOUT:
		return "timeout";
	case RLM_MUD_COA_INVALID:
		return "invalid";
	case RLM_MUD_COA_DROPPED:
		return "dropped";
	case RLM_MUD_COA_ERROR:
		return "error";
	}
	return "?";
}

static void coa_log(rlm_mud_coa_t *c, rlm_mud_coa_level_t level, char const *fmt, ...)
	CC_HINT(format (printf, 3, 4));
static void coa_log(rlm_mud_coa_t *c, rlm_mud_coa_level_t level, char const *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	if (!c->log) return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log(c->uctx, level, buf);
}

/** Escape an untrusted value for a log line, cut to what fits (at most 4 bytes out per
 *  byte in): callers pass COA_LOG_CUT * 4 + 1 bytes for values, more for messages. */
static char const *coa_esc(char *out, size_t outlen, char const *in)
{
	size_t len;

	if (!in) return "-";
	len = strlen(in);
	if (len > (outlen - 1) / 4) len = (outlen - 1) / 4;
	fr_prints(out, outlen, in, len, '"');
	return out;
}

/** Human label of a request for log lines: [addr]:port "audit" "station". */
static void coa_label(char *out, size_t outlen, coa_entry_t const *e)
{
	char	addr[INET6_ADDRSTRLEN];
	char	a[COA_LOG_CUT * 4 + 1];
	char	s[COA_LOG_CUT * 4 + 1];

	inet_ntop(e->dst.af, &e->dst.ipaddr, addr, sizeof(addr));
	snprintf(out, outlen, "%s%s%s:%u audit-session-id \"%s\" station \"%s\"",
		 e->fam == COA_FAM_V6 ? "[" : "", addr, e->fam == COA_FAM_V6 ? "]" : "",
		 e->port, coa_esc(a, sizeof(a), e->audit), coa_esc(s, sizeof(s), e->station));
}

static uint64_t coa_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** RT with RFC 5080 section 2.2.1 jitter: rt + rt * RAND(-0.1 .. +0.1). */
static uint64_t coa_jitter(rlm_mud_coa_t *c, uint64_t rt)
{
	uint32_t	x = c->rng;
	int64_t		span = (int64_t)(rt / 10);
	int64_t		d;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rng = x;
	if (span == 0) return rt;
	d = (int64_t)(x % (uint32_t)(2 * span + 1)) - span;
	return (uint64_t)((int64_t)rt + d);
}

/** Parse a numeric address (no DNS). */
static int coa_parse_ip(fr_ipaddr_t *out, char const *in)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, in, &out->ipaddr.ip4addr) == 1) {
		out->af = AF_INET;
		out->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, in, &out->ipaddr.ip6addr) == 1) {
		out->af = AF_INET6;
		out->prefix = 128;
		return 0;
	}
	return -1;
}

/** A destination a CoA may go to: not unspecified, multicast or broadcast. */
static bool coa_ip_usable(fr_ipaddr_t const *ip)
{
	if (ip->af == AF_INET) {
		uint32_t a = ntohl(ip->ipaddr.ip4addr.s_addr);

		return (a != 0) && (a != 0xffffffff) && ((a >> 28) != 0xe);
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&ip->ipaddr.ip6addr) &&
	       !IN6_IS_ADDR_MULTICAST(&ip->ipaddr.ip6addr);
}

/** Account for a finished request, log it, call the done callback, free it. */
static void coa_finish(rlm_mud_coa_t *c, coa_entry_t *e, rlm_mud_coa_outcome_t outcome,
		       unsigned int cause, char const *why)
{
	char			label[COA_LABEL_LEN];
	rlm_mud_coa_level_t	level = RLM_MUD_COA_LOG_WARN;

	if (e->packet && (e->packet->id >= 0) && (e->packet->id < COA_IDS) &&
	    (c->slot[e->fam][e->packet->id] == e)) {
		c->slot[e->fam][e->packet->id] = NULL;
		c->inflight[e->fam]--;
	}

	pthread_mutex_lock(&c->mutex);
	switch (outcome) {
	case RLM_MUD_COA_ACK:
		c->stats.ack++;
		level = RLM_MUD_COA_LOG_INFO;
		break;
	case RLM_MUD_COA_NAK:
		c->stats.nak++;
		break;
	case RLM_MUD_COA_TIMEOUT:
		c->stats.timeout++;
		break;
	case RLM_MUD_COA_INVALID:
		c->stats.invalid++;
		break;
	case RLM_MUD_COA_DROPPED:
		c->stats.dropped++;
		break;
	case RLM_MUD_COA_ERROR:
		c->stats.errors++;
		level = RLM_MUD_COA_LOG_ERROR;
		break;
	}
	c->stats.pending--;
	pthread_mutex_unlock(&c->mutex);

	coa_label(label, sizeof(label), e);
	coa_log(c, level, "CoA %s: %s after %d transmission%s%s%s", label,
		rlm_mud_coa_outcome_name(outcome), e->tries, e->tries == 1 ? "" : "s",
		why ? ": " : "", why ? why : "");
	if (c->done) c->done(c->uctx, e->cookie, outcome, cause);
	talloc_free(e);
}

/** A zeroed RADIUS_PACKET, as rad_alloc(ctx, false) makes it, without rad_alloc()'s
 *  fr_rand() call: libfreeradius's random pool has no lock, and the server's worker
 *  threads already use it. Nothing in a CoA-Request needs randomness (the Request
 *  Authenticator is an MD5 over the packet, RFC 5176 section 2.3). */
static RADIUS_PACKET *coa_packet_alloc(TALLOC_CTX *ctx)
{
	RADIUS_PACKET *packet;

	packet = talloc_zero(ctx, RADIUS_PACKET);
	if (!packet) return NULL;
	packet->id = -1;
	packet->offset = -1;
	packet->sockfd = -1;
	return packet;
}

/** Receive one datagram into a packet checked by rad_packet_ok() (rad_recv() without its
 *  rad_alloc(), see coa_packet_alloc()). @return the packet, or NULL (consumed: bad). */
static RADIUS_PACKET *coa_recv_packet(TALLOC_CTX *ctx, int fd)
{
	uint8_t			buf[MAX_PACKET_LEN];
	struct sockaddr_storage	src;
	struct sockaddr_storage	dst;
	socklen_t		srclen = sizeof(src);
	socklen_t		dstlen = sizeof(dst);
	ssize_t			len;
	size_t			plen;
	RADIUS_PACKET		*packet;
	decode_fail_t		reason = DECODE_FAIL_NONE;

	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &srclen);
	if (len < COA_HDR_LEN) {
		fr_strerror_printf("datagram of %zd bytes", len);
		return NULL;
	}
	plen = ((size_t)buf[2] << 8) | buf[3];
	if ((plen < COA_HDR_LEN) || (plen > (size_t)len)) {
		fr_strerror_printf("length field %zu, datagram %zd bytes", plen, len);
		return NULL;
	}
	packet = coa_packet_alloc(ctx);
	if (!packet) return NULL;
	if (!fr_sockaddr2ipaddr(&src, srclen, &packet->src_ipaddr, &packet->src_port) ||
	    (getsockname(fd, (struct sockaddr *)&dst, &dstlen) < 0) ||
	    !fr_sockaddr2ipaddr(&dst, dstlen, &packet->dst_ipaddr, &packet->dst_port)) {
		talloc_free(packet);
		return NULL;
	}
	packet->data = talloc_memdup(packet, buf, plen);
	if (!packet->data) {
		talloc_free(packet);
		return NULL;
	}
	packet->data_len = plen;
	packet->sockfd = fd;
	if (!rad_packet_ok(packet, 0, &reason)) {
		fr_strerror_printf("malformed RADIUS packet (decode failure %d)", (int)reason);
		talloc_free(packet);
		return NULL;
	}
	return packet;
}

/** Add a string attribute (vendor 0 or Cisco). */
static int coa_add_str(RADIUS_PACKET *packet, unsigned int attr, unsigned int vendor,
		       char const *prefix, char const *value)
{
	VALUE_PAIR	*vp;
	char		*s;

	vp = fr_pair_afrom_num(packet, attr, vendor);
	if (!vp) return -1;
	s = talloc_asprintf(vp, "%s%s", prefix, value);
	if (!s) {
		talloc_free(vp);
		return -1;
	}
	fr_pair_value_strsteal(vp, s);
	fr_pair_add(&packet->vps, vp);
	return 0;
}

/** Build, encode, sign and send the first transmission of a dequeued entry. */
static void coa_start(rlm_mud_coa_t *c, coa_entry_t *e, uint64_t now)
{
	RADIUS_PACKET	*packet;
	VALUE_PAIR	*vp;
	unsigned int	i;
	int		id = -1;
	uint8_t const	zero[AUTH_VECTOR_LEN] = { 0 };
	char		why[256];

	if (c->fd[e->fam] < 0) {
		coa_finish(c, e, RLM_MUD_COA_ERROR, 0, e->fam == COA_FAM_V6 ?
			   "no IPv6 socket" : "no IPv4 socket");
		return;
	}
	for (i = 0; i < COA_IDS; i++) {
		unsigned int cand = (c->next_id[e->fam] + i) % COA_IDS;

		if (!c->slot[e->fam][cand]) {
			id = (int)cand;
			break;
		}
	}
	if (id < 0) {		/* cannot happen: max_inflight <= COA_IDS */
		coa_finish(c, e, RLM_MUD_COA_DROPPED, 0, "no free RADIUS Id");
		return;
	}
	c->next_id[e->fam] = ((unsigned int)id + 1) % COA_IDS;

	packet = coa_packet_alloc(e);
	if (!packet) goto oom;
	e->packet = packet;
	packet->code = PW_CODE_COA_REQUEST;
	packet->id = id;
	packet->sockfd = c->fd[e->fam];
	packet->dst_ipaddr = e->dst;
	packet->dst_port = e->port;

	if (coa_add_str(packet, COA_CISCO_AVPAIR, COA_VENDOR_CISCO, "",
			"subscriber:command=reauthenticate") < 0) goto oom;
	if (coa_add_str(packet, COA_CISCO_AVPAIR, COA_VENDOR_CISCO, "",
			"subscriber:reauthenticate-type=last") < 0) goto oom;
	if (e->audit &&
	    (coa_add_str(packet, COA_CISCO_AVPAIR, COA_VENDOR_CISCO, COA_AUDIT_PREFIX,
			 e->audit) < 0)) goto oom;
	if (e->station &&
	    (coa_add_str(packet, PW_CALLING_STATION_ID, 0, "", e->station) < 0)) goto oom;

	if (e->nas.af == AF_INET) {
		vp = fr_pair_afrom_num(packet, PW_NAS_IP_ADDRESS, 0);
		if (!vp) goto oom;
		vp->vp_ipaddr = e->nas.ipaddr.ip4addr.s_addr;
		vp->vp_length = 4;
	} else {
		vp = fr_pair_afrom_num(packet, PW_NAS_IPV6_ADDRESS, 0);
		if (!vp) goto oom;
		memcpy(&vp->vp_ipv6addr, &e->nas.ipaddr.ip6addr, sizeof(vp->vp_ipv6addr));
		vp->vp_length = sizeof(vp->vp_ipv6addr);
	}
	fr_pair_add(&packet->vps, vp);

	vp = fr_pair_afrom_num(packet, PW_EVENT_TIMESTAMP, 0);
	if (!vp) goto oom;
	vp->vp_date = (uint32_t)time(NULL);
	vp->vp_length = 4;
	fr_pair_add(&packet->vps, vp);

	vp = fr_pair_afrom_num(packet, PW_MESSAGE_AUTHENTICATOR, 0);
	if (!vp) goto oom;
	fr_pair_value_memcpy(vp, zero, sizeof(zero));
	fr_pair_add(&packet->vps, vp);

	/* rad_send: rad_encode + rad_sign on the first call, then sendto. */
	if (rad_send(packet, NULL, e->secret) < 0) {
		snprintf(why, sizeof(why), "%s", fr_strerror());
		coa_finish(c, e, RLM_MUD_COA_ERROR, 0, why);
		return;
	}
	e->tries = 1;
	e->rt_ms = coa_jitter(c, c->irt);
	e->deadline = now + e->rt_ms;
	c->slot[e->fam][id] = e;
	c->inflight[e->fam]++;

	pthread_mutex_lock(&c->mutex);
	c->stats.sent++;
	pthread_mutex_unlock(&c->mutex);

	if (c->log) {
		char label[COA_LABEL_LEN];

		coa_label(label, sizeof(label), e);
		coa_log(c, RLM_MUD_COA_LOG_DEBUG, "CoA %s: sent CoA-Request Id %d (%zu bytes)",
			label, id, packet->data_len);
	}
	return;

oom:
	coa_finish(c, e, RLM_MUD_COA_ERROR, 0, "out of memory");
}

/** Timer expiry: retransmit the same bytes (same Id and authenticator) or give up. */
static void coa_timer(rlm_mud_coa_t *c, coa_entry_t *e, uint64_t now)
{
	uint64_t rt;

	if (e->tries > c->retries) {
		coa_finish(c, e, e->bad ? RLM_MUD_COA_INVALID : RLM_MUD_COA_TIMEOUT, 0,
			   e->bad ? "only replies that failed verification (shared secret?)" :
			   "no reply");
		return;
	}
	/* packet->data is set: rad_send() only sends it again. */
	if (rad_send(e->packet, NULL, e->secret) < 0) {
		char label[COA_LABEL_LEN];

		coa_label(label, sizeof(label), e);
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA %s: retransmission failed: %s", label,
			fr_strerror());
	}
	e->tries++;
	rt = 2 * e->rt_ms;
	if (rt > c->mrt) rt = c->mrt;
	e->rt_ms = coa_jitter(c, rt);
	e->deadline = now + e->rt_ms;

	pthread_mutex_lock(&c->mutex);
	c->stats.retransmits++;
	pthread_mutex_unlock(&c->mutex);

	if (c->log) {
		char label[COA_LABEL_LEN];

		coa_label(label, sizeof(label), e);
		coa_log(c, RLM_MUD_COA_LOG_DEBUG, "CoA %s: retransmission %d of Id %d, next "
			"timer %" PRIu64 " ms", label, e->tries - 1, e->packet->id, e->rt_ms);
	}
}

static void coa_count_bad(rlm_mud_coa_t *c, bool matched)
{
	pthread_mutex_lock(&c->mutex);
	if (matched) {
		c->stats.bad_replies++;
	} else {
		c->stats.unmatched++;
	}
	pthread_mutex_unlock(&c->mutex);
}

/** Read one datagram from a socket. @return -1 when nothing more is waiting, else 0. */
static int coa_read(rlm_mud_coa_t *c, int fam)
{
	fr_ipaddr_t	src;
	uint16_t	sport;
	int		code = 0;
	ssize_t		rcode;
	RADIUS_PACKET	*reply;
	coa_entry_t	*e;
	char		label[COA_LABEL_LEN];
	char		why[512];
	char		esc[COA_LOG_CUT * 4 + 1];
	VALUE_PAIR	*vp;
	unsigned int	cause = 0;

	rcode = rad_recv_header(c->fd[fam], &src, &sport, &code);
	if (rcode <= 0) return -1;		/* nothing waiting, or a socket error */
	if (rcode == 1) {			/* already discarded: not RADIUS */
		coa_count_bad(c, false);
		return 0;
	}

	reply = coa_recv_packet(c->tctx, c->fd[fam]);
	if (!reply) {				/* malformed: rad_packet_ok() said no */
		char addr[INET6_ADDRSTRLEN];

		coa_count_bad(c, false);
		inet_ntop(src.af, &src.ipaddr, addr, sizeof(addr));
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA: reply from %s port %u dropped: %s", addr,
			sport, fr_strerror());
		return 0;
	}

	e = c->slot[fam][reply->id & 0xff];
	if (!e || (fr_ipaddr_cmp(&reply->src_ipaddr, &e->dst) != 0) ||
	    (reply->src_port != e->port) ||
	    ((reply->code != PW_CODE_COA_ACK) && (reply->code != PW_CODE_COA_NAK))) {
		char addr[INET6_ADDRSTRLEN];

		coa_count_bad(c, false);
		inet_ntop(reply->src_ipaddr.af, &reply->src_ipaddr.ipaddr, addr, sizeof(addr));
		coa_log(c, RLM_MUD_COA_LOG_DEBUG, "CoA: packet code %u Id %d from %s port %u "
			"dropped (no such request)", reply->code, reply->id, addr, reply->src_port);
		rad_free(&reply);
		return 0;
	}

	coa_label(label, sizeof(label), e);
	if ((rad_verify(reply, e->packet, e->secret) < 0) ||
	    (rad_decode(reply, e->packet, e->secret) < 0)) {
		e->bad++;
		coa_count_bad(c, true);
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA %s: reply Id %d dropped: %s", label,
			reply->id, coa_esc(why, sizeof(why), fr_strerror()));
		rad_free(&reply);
		return 0;
	}

	if (reply->code == PW_CODE_COA_ACK) {
		rad_free(&reply);
		coa_finish(c, e, RLM_MUD_COA_ACK, 0, NULL);
		return 0;
	}

	/* CoA-NAK: final (RFC 5176 3.5 Error-Cause says why). */
	why[0] = '\0';
	vp = fr_pair_find_by_num(reply->vps, PW_ERROR_CAUSE, 0, TAG_ANY);
	if (vp) {
		DICT_VALUE const *dv;

		cause = vp->vp_integer;
		dv = dict_valbyattr(PW_ERROR_CAUSE, 0, (int)cause);
		snprintf(why, sizeof(why), "Error-Cause %u (%s)", cause,
			 dv ? dv->name : "unknown");
	} else {
		snprintf(why, sizeof(why), "no Error-Cause");
	}
	vp = fr_pair_find_by_num(reply->vps, PW_REPLY_MESSAGE, 0, TAG_ANY);
	if (vp && (vp->da->type == PW_TYPE_STRING)) {
		size_t used = strlen(why);

		snprintf(why + used, sizeof(why) - used, ", Reply-Message \"%s\"",
			 coa_esc(esc, sizeof(esc), vp->vp_strvalue));
	}
	rad_free(&reply);
	coa_finish(c, e, RLM_MUD_COA_NAK, cause, why);
	return 0;
}

/** Take queued entries while their family has a free Id (FIFO). */
static coa_entry_t *coa_dequeue(rlm_mud_coa_t *c, bool *stop)
{
	coa_entry_t	*list = NULL;
	coa_entry_t	**tailp = &list;
	uint32_t	want[2];

	want[0] = c->inflight[0];
	want[1] = c->inflight[1];
	pthread_mutex_lock(&c->mutex);
	*stop = c->stop;
	while (!*stop && c->head && (want[c->head->fam] < c->max_inflight)) {
		coa_entry_t *e = c->head;

		c->head = e->next;
		if (!c->head) c->tail = NULL;
		c->nqueued--;
		e->next = NULL;
		want[e->fam]++;
		(void) talloc_steal(c->tctx, e);
		*tailp = e;
		tailp = &e->next;
	}
	pthread_mutex_unlock(&c->mutex);
	return list;
}

static void *coa_thread(void *arg)
{
	rlm_mud_coa_t	*c = arg;
	bool		stop = false;
	struct pollfd	pfd[3];
	int		fam;
	unsigned int	i;
	coa_entry_t	*e;

	for (;;) {
		coa_entry_t	*list;
		uint64_t	now;
		uint64_t	next = UINT64_MAX;
		int		timeout;
		int		n = 0;
		int		idx[2] = { -1, -1 };

		list = coa_dequeue(c, &stop);
		if (stop) break;
		now = coa_now_ms();
		while (list) {
			e = list;
			list = e->next;
			e->next = NULL;
			coa_start(c, e, now);
		}

		for (fam = 0; fam < 2; fam++) {
			if (!c->inflight[fam]) continue;
			for (i = 0; i < COA_IDS; i++) {
				e = c->slot[fam][i];
				if (e && (e->deadline < next)) next = e->deadline;
			}
		}
		if (next == UINT64_MAX) {
			timeout = -1;
		} else if (next <= now) {
			timeout = 0;
		} else {
			timeout = (int)(next - now);
		}

		pfd[n].fd = c->wake[0];
		pfd[n].events = POLLIN;
		n++;
		for (fam = 0; fam < 2; fam++) {
			if (c->fd[fam] < 0) continue;
			idx[fam] = n;
			pfd[n].fd = c->fd[fam];
			pfd[n].events = POLLIN;
			n++;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno != EINTR) {
				coa_log(c, RLM_MUD_COA_LOG_ERROR, "CoA sender: poll failed: %s",
					fr_syserror(errno));
				usleep(100000);
			}
			continue;
		}
		if (pfd[0].revents) {
			char buf[64];

			while (read(c->wake[0], buf, sizeof(buf)) > 0) {
				/* drain */
			}
		}
		for (fam = 0; fam < 2; fam++) {
			int k;

			if ((idx[fam] < 0) || !pfd[idx[fam]].revents) continue;
			for (k = 0; k < COA_READ_BURST; k++) {
				if (coa_read(c, fam) < 0) break;
			}
		}

		now = coa_now_ms();
		for (fam = 0; fam < 2; fam++) {
			if (!c->inflight[fam]) continue;
			for (i = 0; i < COA_IDS; i++) {
				e = c->slot[fam][i];
				if (e && (e->deadline <= now)) coa_timer(c, e, now);
			}
		}
	}

	/* Stopped: everything in flight or queued is dropped and counted. */
	for (fam = 0; fam < 2; fam++) {
		for (i = 0; i < COA_IDS; i++) {
			e = c->slot[fam][i];
			if (e) coa_finish(c, e, RLM_MUD_COA_DROPPED, 0, "sender stopped");
		}
	}
	for (;;) {
		pthread_mutex_lock(&c->mutex);
		e = c->head;
		if (e) {
			c->head = e->next;
			if (!c->head) c->tail = NULL;
			c->nqueued--;
			(void) talloc_steal(c->tctx, e);
		}
		pthread_mutex_unlock(&c->mutex);
		if (!e) break;
		coa_finish(c, e, RLM_MUD_COA_DROPPED, 0, "sender stopped");
	}
	return NULL;
}

static void coa_wake(rlm_mud_coa_t *c)
{
	char	b = 1;
	ssize_t	r;

	r = write(c->wake[1], &b, 1);	/* EAGAIN: a wake-up is already pending */
	(void) r;
}

static int _coa_free(rlm_mud_coa_t *c)
{
	if (c->mutex_init) {
		pthread_mutex_lock(&c->mutex);
		c->stop = true;
		pthread_mutex_unlock(&c->mutex);
	}
	if (c->thread_started) {
		coa_wake(c);
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
	if (c->fd[0] >= 0) close(c->fd[0]);
	if (c->fd[1] >= 0) close(c->fd[1]);
	if (c->wake[0] >= 0) close(c->wake[0]);
	if (c->wake[1] >= 0) close(c->wake[1]);
	c->fd[0] = c->fd[1] = c->wake[0] = c->wake[1] = -1;
	if (c->mutex_init) pthread_mutex_destroy(&c->mutex);
	c->mutex_init = false;
	return 0;
}

/** Open a UDP socket of one family, bound to src (or any address), port 0. */
static int coa_socket(int af, char const *src, char const **err)
{
	int			fd;
	int			on = 1;
	fr_ipaddr_t		ip;
	struct sockaddr_storage	ss;
	socklen_t		sslen;

	memset(&ip, 0, sizeof(ip));
	ip.af = af;
	if (src && *src) {
		if ((coa_parse_ip(&ip, src) < 0) || (ip.af != af)) {
			*err = (af == AF_INET) ? "coa source IPv4 address is not an IPv4 address" :
				"coa source IPv6 address is not an IPv6 address";
			return -2;
		}
	}
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) return -1;
	if ((af == AF_INET6) &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)) {
		close(fd);
		return -1;
	}
	if (!fr_ipaddr2sockaddr(&ip, 0, &ss, &sslen) ||
	    (bind(fd, (struct sockaddr *)&ss, sslen) < 0)) {
		close(fd);
		if (src && *src) {
			*err = "cannot bind the CoA socket to the configured source address";
			return -2;
		}
		return -1;
	}
	return fd;
}

rlm_mud_coa_t *rlm_mud_coa_create(TALLOC_CTX *ctx, rlm_mud_coa_opts_t const *opts,
				  char const **err)
{
	rlm_mud_coa_t		*c;
	rlm_mud_coa_opts_t	def;
	char const		*e = NULL;
	uint32_t		seed;

	if (!opts) {
		memset(&def, 0, sizeof(def));
		def.retries = -1;
		opts = &def;
	}
	if (opts->secret && (strlen(opts->secret) > RLM_MUD_COA_MAX_SECRET)) {
		if (err) *err = "coa secret longer than " STRINGIFY(RLM_MUD_COA_MAX_SECRET)
				" bytes";
		return NULL;
	}
	if (opts->max_queued > RLM_MUD_COA_MAX_QUEUED_MAX) {
		if (err) *err = "coa max_queued above " STRINGIFY(RLM_MUD_COA_MAX_QUEUED_MAX);
		return NULL;
	}

	c = talloc_zero(ctx, rlm_mud_coa_t);
	if (!c) goto oom;
	c->fd[0] = c->fd[1] = c->wake[0] = c->wake[1] = -1;
	talloc_set_destructor(c, _coa_free);

	c->port = opts->port ? opts->port : RLM_MUD_COA_PORT;
	if (opts->secret && *opts->secret) {
		c->secret = talloc_strdup(c, opts->secret);
		if (!c->secret) goto oom;
	}
	c->irt = opts->timeout_ms ? opts->timeout_ms : RLM_MUD_COA_TIMEOUT_MS;
	c->mrt = opts->max_timeout_ms ? opts->max_timeout_ms : RLM_MUD_COA_MAX_TIMEOUT_MS;
	if (c->mrt < c->irt) c->mrt = c->irt;
	c->retries = (opts->retries < 0) ? RLM_MUD_COA_RETRIES : opts->retries;
	c->max_queued = opts->max_queued ? opts->max_queued : RLM_MUD_COA_MAX_QUEUED;
	c->max_inflight = opts->max_inflight;
	if (!c->max_inflight || (c->max_inflight > RLM_MUD_COA_MAX_INFLIGHT)) {
		c->max_inflight = RLM_MUD_COA_MAX_INFLIGHT;
	}
	c->log = opts->log;
	c->done = opts->done;
	c->uctx = opts->uctx;

	c->qctx = talloc_new(c);
	c->tctx = talloc_new(c);
	if (!c->qctx || !c->tctx) goto oom;

	c->fd[COA_FAM_V4] = coa_socket(AF_INET, opts->src_ipv4, &e);
	if (c->fd[COA_FAM_V4] == -2) goto fail;
	c->fd[COA_FAM_V6] = coa_socket(AF_INET6, opts->src_ipv6, &e);
	if (c->fd[COA_FAM_V6] == -2) goto fail;
	if (c->fd[COA_FAM_V4] < 0) c->fd[COA_FAM_V4] = -1;
	if (c->fd[COA_FAM_V6] < 0) c->fd[COA_FAM_V6] = -1;
	if ((c->fd[COA_FAM_V4] < 0) && (c->fd[COA_FAM_V6] < 0)) {
		e = "cannot open a UDP socket for CoA";
		goto fail;
	}
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		c->wake[0] = c->wake[1] = -1;
		e = "cannot create the CoA wake-up pipe";
		goto fail;
	}

	/* Jitter seed and first Ids: not fr_rand() (its pool has no lock, see
	 * coa_packet_alloc()); unpredictable Ids are not a security property here. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	}
	c->rng = seed ? seed : 0x9e3779b9;
	c->next_id[0] = seed % COA_IDS;
	c->next_id[1] = (seed >> 8) % COA_IDS;

	if (pthread_mutex_init(&c->mutex, NULL) != 0) {
		e = "cannot create the CoA mutex";
		goto fail;
	}
	c->mutex_init = true;
	if (pthread_create(&c->thread, NULL, coa_thread, c) != 0) {
		e = "cannot start the CoA sender thread";
		goto fail;
	}
	c->thread_started = true;
	if (c->log) {
		coa_log(c, RLM_MUD_COA_LOG_DEBUG, "CoA sender started (port %u, timer %" PRIu64
			" ms doubling to %" PRIu64 " ms, %d retransmissions, IPv4 %s, IPv6 %s)",
			c->port, c->irt, c->mrt, c->retries,
			c->fd[COA_FAM_V4] >= 0 ? "yes" : "no",
			c->fd[COA_FAM_V6] >= 0 ? "yes" : "no");
	}
	return c;

oom:
	e = "out of memory";
fail:
	if (err) *err = e;
	talloc_free(c);
	return NULL;
}

int rlm_mud_coa_send(rlm_mud_coa_t *c, rlm_mud_coa_req_t const *req)
{
	fr_ipaddr_t	dst;
	fr_ipaddr_t	nas;
	char const	*secret;
	char const	*audit;
	char const	*station;
	coa_entry_t	*e;
	bool		log_drop = false;
	uint64_t	ndropped = 0;
	time_t		now;
	char		esc[COA_LOG_CUT * 4 + 1];

	if (!c || !req) return -1;
	if (!req->dst || (coa_parse_ip(&dst, req->dst) < 0) || !coa_ip_usable(&dst)) {
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA refused: destination \"%s\" is not a "
			"unicast IPv4 or IPv6 address", coa_esc(esc, sizeof(esc), req->dst));
		return -1;
	}
	if (req->nas_ip && *req->nas_ip) {
		if (coa_parse_ip(&nas, req->nas_ip) < 0) {
			coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA refused: NAS address \"%s\" is not "
				"an IPv4 or IPv6 address", coa_esc(esc, sizeof(esc), req->nas_ip));
			return -1;
		}
	} else {
		nas = dst;
	}
	secret = (req->secret && *req->secret) ? req->secret : c->secret;
	if (!secret || (strlen(secret) > RLM_MUD_COA_MAX_SECRET)) {
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA refused: %s", secret ?
			"secret too long" : "no shared secret (set coa_secret)");
		return -1;
	}
	audit = (req->audit_session_id && *req->audit_session_id) ? req->audit_session_id : NULL;
	station = (req->calling_station_id && *req->calling_station_id) ?
		req->calling_station_id : NULL;
	if (!audit && !station) {
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA refused: neither audit-session-id nor "
			"Calling-Station-Id to name the session");
		return -1;
	}
	if ((audit && (strlen(audit) > RLM_MUD_COA_MAX_STRING - strlen(COA_AUDIT_PREFIX))) ||
	    (station && (strlen(station) > RLM_MUD_COA_MAX_STRING))) {
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA refused: audit-session-id or "
			"Calling-Station-Id longer than an attribute holds");
		return -1;
	}

	pthread_mutex_lock(&c->mutex);
	if (c->stop || (c->nqueued >= c->max_queued)) {
		c->stats.dropped++;
		ndropped = c->stats.dropped;
		now = time(NULL);
		if (now != c->drop_logged) {
			c->drop_logged = now;
			log_drop = true;
		}
		pthread_mutex_unlock(&c->mutex);
		goto drop;
	}
	e = talloc_zero(c->qctx, coa_entry_t);
	if (!e) goto oom;
	e->dst = dst;
	e->nas = nas;
	e->fam = (dst.af == AF_INET6) ? COA_FAM_V6 : COA_FAM_V4;
	e->port = req->port ? req->port : c->port;
	e->cookie = req->cookie;
	e->secret = talloc_strdup(e, secret);
	if (!e->secret) goto oom_free;
	if (audit) {
		e->audit = talloc_strdup(e, audit);
		if (!e->audit) goto oom_free;
	}
	if (station) {
		e->station = talloc_strdup(e, station);
		if (!e->station) goto oom_free;
	}
	if (c->tail) {
		c->tail->next = e;
	} else {
		c->head = e;
	}
	c->tail = e;
	c->nqueued++;
	c->stats.queued++;
	c->stats.pending++;
	pthread_mutex_unlock(&c->mutex);
	coa_wake(c);
	return 0;

oom_free:
	talloc_free(e);
oom:
	c->stats.errors++;
	pthread_mutex_unlock(&c->mutex);
	coa_log(c, RLM_MUD_COA_LOG_ERROR, "CoA not queued: out of memory");
	if (c->done) c->done(c->uctx, req->cookie, RLM_MUD_COA_ERROR, 0);
	return -1;

drop:
	if (log_drop) {
		coa_log(c, RLM_MUD_COA_LOG_WARN, "CoA dropped: queue full or sender stopped (%"
			PRIu64 " dropped so far)", ndropped);
	}
	if (c->done) c->done(c->uctx, req->cookie, RLM_MUD_COA_DROPPED, 0);
	return -1;
}

void rlm_mud_coa_stats(rlm_mud_coa_t *c, rlm_mud_coa_stats_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!c) return;
	pthread_mutex_lock(&c->mutex);
	*out = c->stats;
	pthread_mutex_unlock(&c->mutex);
}

void rlm_mud_coa_free(rlm_mud_coa_t *c)
{
	if (!c) return;
	talloc_free(c);
}

int rlm_mud_coa_target_from_request(REQUEST const *request, rlm_mud_coa_target_t *out)
{
	RADCLIENT const		*client;
	fr_ipaddr_t const	*ip;
	char const		*secret;
	uint16_t		port = 0;
	VALUE_PAIR		*vp;

	memset(out, 0, sizeof(*out));
	if (!request || !request->packet || !request->client) return -1;
	client = request->client;
	ip = &request->packet->src_ipaddr;
	secret = client->secret;
	if (client->coa_home_server && (client->coa_home_server->type == HOME_TYPE_COA)) {
		home_server_t const *hs = client->coa_home_server;

		ip = &hs->ipaddr;
		port = hs->port;
		if (hs->secret) secret = hs->secret;
	}
	if (((ip->af != AF_INET) && (ip->af != AF_INET6)) ||
	    !inet_ntop(ip->af, &ip->ipaddr, out->dst, sizeof(out->dst))) return -1;
	out->port = port;
	if (secret) {
		if (strlen(secret) > RLM_MUD_COA_MAX_SECRET) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
		memcpy(out->secret, secret, strlen(secret) + 1);
	}
	vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_IP_ADDRESS, 0, TAG_ANY);
	if (vp) {
		inet_ntop(AF_INET, &vp->vp_ipaddr, out->nas_ip, sizeof(out->nas_ip));
	} else {
		vp = fr_pair_find_by_num(request->packet->vps, PW_NAS_IPV6_ADDRESS, 0, TAG_ANY);
		if (vp) inet_ntop(AF_INET6, &vp->vp_ipv6addr, out->nas_ip, sizeof(out->nas_ip));
	}
	return 0;
}
