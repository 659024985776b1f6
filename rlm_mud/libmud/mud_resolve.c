/*
 * mud_resolve.c - the DNS names of a MUD file, resolved in parallel within a time
 * budget (c-ares). The only file of libmud that includes <ares.h>.
 *
 * A MUD file may name many hosts (ietf-acldns). Resolving them one blocking
 * getaddrinfo() at a time lets one file hold a thread for (names x resolver
 * timeout); here every query of a file is in flight at once on one c-ares
 * channel, and the whole batch ends at a deadline: what has not answered by then
 * is "not resolved" (an accept ACE on it is skipped, a drop covers any peer).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ares.h>

#include "mud_private.h"

#define RES_TRIES	2	//!< attempts per server before c-ares gives up on a query
#define RES_TRY_MS_MAX	2000	//!< per-attempt timeout ceiling (the budget bounds the rest)

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_rc = ARES_SUCCESS;

static void ares_once_init(void)
{
	ares_init_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/** Monotonic milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** One answer (or failure) arrives. */
static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	mudp_dns_query_t *q = arg;
	struct ares_addrinfo_node *n;

	(void)timeouts;
	q->done = true;
	switch (status) {
	case ARES_SUCCESS:
		q->status = MUDP_DNS_OK;
		break;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		q->status = MUDP_DNS_NOTFOUND;
		break;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		q->status = MUDP_DNS_TIMEOUT;
		break;
	default:
		q->status = MUDP_DNS_FAIL;
		break;
	}
	if (!res) return;
	for (n = res->nodes; status == ARES_SUCCESS && n && q->num < MUD_MAX_ADDRS_PER_NAME;
	     n = n->ai_next) {
		mud_prefix_t p;
		size_t i;
		bool dup = false;

		memset(&p, 0, sizeof(p));
		if (q->family == 4 && n->ai_family == AF_INET && n->ai_addr &&
		    n->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in)) {
			struct sockaddr_in const *sin =
				(struct sockaddr_in const *)(void *)n->ai_addr;

			p.family = 4;
			p.len = 32;
			memcpy(p.addr, &sin->sin_addr, 4);
		} else if (q->family == 6 && n->ai_family == AF_INET6 && n->ai_addr &&
			   n->ai_addrlen >= (ares_socklen_t)sizeof(struct sockaddr_in6)) {
			struct sockaddr_in6 const *sin6 =
				(struct sockaddr_in6 const *)(void *)n->ai_addr;

			p.family = 6;
			p.len = 128;
			memcpy(p.addr, &sin6->sin6_addr, 16);
		} else {
			continue;
		}
		for (i = 0; i < q->num; i++) {
			if (memcmp(q->addrs[i].addr, p.addr, sizeof(p.addr)) == 0) dup = true;
		}
		if (dup) continue;
		q->addrs[q->num++] = p;
		if (n->ai_ttl >= 0 && (q->ttl == 0 || (uint32_t)n->ai_ttl < q->ttl)) {
			q->ttl = n->ai_ttl > 0 ? (uint32_t)n->ai_ttl : 1;
		}
	}
	ares_freeaddrinfo(res);
}

/** Number of queries still waiting for an answer. */
static size_t pending(mudp_dns_query_t const *q, size_t n)
{
	size_t i;
	size_t left = 0;

	for (i = 0; i < n; i++) {
		if (!q[i].done) left++;
	}
	return left;
}

/** Drive the channel until every query is answered or the deadline passes. */
static mud_rcode_t run_loop(ares_channel ch, mudp_dns_query_t *q, size_t n, int64_t deadline,
			    mud_error_t *err)
{
	while (pending(q, n) > 0) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv;
		struct timeval *tvp;
		int64_t left = deadline - now_ms();
		int64_t wait;
		nfds_t nfds = 0;
		int bits;
		int i;
		int r;

		if (left <= 0) return MUD_OK;	/* the caller cancels what is left */
		bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* the ARES_GETSOCK_* macros shift a signed 1 into bit 31 (UBSan) */
			if (((unsigned int)bits >> i) & 1u) ev |= POLLIN;
			if (((unsigned int)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u) ev |= POLLOUT;
			if (!ev) continue;
			pfd[nfds].fd = socks[i];
			pfd[nfds].events = ev;
			pfd[nfds].revents = 0;
			nfds++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		wait = left;
		if (tvp) {
			int64_t t = (int64_t)tvp->tv_sec * 1000 + tvp->tv_usec / 1000;

			if (t < wait) wait = t;
		}
		if (wait < 1) wait = 1;
		r = poll(nfds ? pfd : NULL, nfds, (int)wait);
		if (r < 0) {
			if (errno == EINTR) continue;
			return mud_error_set(err, MUD_ERR_FETCH, "poll",
					     "DNS: poll failed (errno %d)", errno);
		}
		if (r == 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);	/* timeouts */
			continue;
		}
		for (i = 0; i < (int)nfds; i++) {
			ares_socket_t rfd = ARES_SOCKET_BAD;
			ares_socket_t wfd = ARES_SOCKET_BAD;

			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) rfd = pfd[i].fd;
			if (pfd[i].revents & POLLOUT) wfd = pfd[i].fd;
			if (rfd != ARES_SOCKET_BAD || wfd != ARES_SOCKET_BAD) {
				ares_process_fd(ch, rfd, wfd);
			}
		}
	}
	return MUD_OK;
}

/** Resolve a batch of (name, family) queries in parallel (see mud_private.h). */
mud_rcode_t mudp_resolve_batch(mudp_dns_query_t *q, size_t n, char const *servers,
			       unsigned int budget_ms, mud_error_t *err)
{
	struct ares_options opts;
	ares_channel ch = NULL;
	int64_t deadline;
	mud_rcode_t rc;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		q[i].done = false;
		q[i].status = MUDP_DNS_TIMEOUT;
		q[i].num = 0;
		q[i].ttl = 0;
	}
	if (n == 0) return MUD_OK;
	if (budget_ms == 0) budget_ms = MUD_DNS_BUDGET_DEFAULT_MS;

	pthread_once(&ares_once, ares_once_init);
	if (ares_init_rc != ARES_SUCCESS) {
		return mud_error_set(err, MUD_ERR_FETCH, "ares_library_init", "DNS: %s",
				     ares_strerror(ares_init_rc));
	}

	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOSEARCH;	/* MUD names are absolute; no search list */
	opts.tries = RES_TRIES;
	opts.timeout = (int)(budget_ms < RES_TRY_MS_MAX ? budget_ms : RES_TRY_MS_MAX);
	r = ares_init_options(&ch, &opts, ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS);
	if (r != ARES_SUCCESS) {
		return mud_error_set(err, r == ARES_ENOMEM ? MUD_ERR_NOMEM : MUD_ERR_FETCH,
				     "ares_init_options", "DNS: %s", ares_strerror(r));
	}
	if (servers && servers[0]) {
		r = ares_set_servers_ports_csv(ch, servers);
		if (r != ARES_SUCCESS) {
			ares_destroy(ch);
			return mud_error_set(err, MUD_ERR_ARG, "dns.servers",
					     "DNS servers \"%s\": %s", servers, ares_strerror(r));
		}
	}

	deadline = now_ms() + budget_ms;
	for (i = 0; i < n; i++) {
		struct ares_addrinfo_hints hints;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = q[i].family == 6 ? AF_INET6 : AF_INET;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = ARES_AI_NOSORT;	/* no connect() probes to sort answers */
		ares_getaddrinfo(ch, q[i].name, NULL, &hints, on_answer, &q[i]);
	}
	rc = run_loop(ch, q, n, deadline, err);
	/* what has not answered by the deadline is cancelled: callbacks mark it TIMEOUT */
	ares_cancel(ch);
	ares_destroy(ch);
	for (i = 0; i < n; i++) {
		if (!q[i].done) q[i].status = MUDP_DNS_TIMEOUT;
		q[i].done = true;
	}
	return rc;
}

/** Text of a query status. */
char const *mudp_dns_status_name(int status)
{
	switch (status) {
	case MUDP_DNS_OK: return "resolved";
	case MUDP_DNS_NOTFOUND: return "no such name or no address";
	case MUDP_DNS_TIMEOUT: return "no answer within the time budget";
	case MUDP_DNS_FAIL: return "resolver failure";
	default: break;
	}
	return "unknown";
}
