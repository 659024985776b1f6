/*
 * coa_send.c - drives the CoA sender (rlm_mud/rlm_mud_coa.[ch]) for tests/integration/coa.sh.
 *
 * The receiver is whatever coa.sh points it at: a real freeradius acting as the switch
 * (mode "send"), or a socket this program owns when the case needs behaviour no real
 * NAS shows on demand: never answering (mode "blackhole": records when each
 * retransmission arrives and whether it is byte-identical), answering with the wrong
 * secret ("badsecret": a CoA-ACK encoded and signed by libfreeradius with another key),
 * answering with the wrong Id ("wrongid"). Other modes: "stop" (free the sender with
 * requests in flight), "queuefull", "badinput", "target" (rlm_mud_coa_target_from_request
 * on requests built as the server builds them).
 *
 * Prints key=value lines (outcomes, counters, leak check) that coa.sh compares. Exit
 * status: 0 ran, 1 a check inside the program failed, 2 usage, 77 the dictionary is absent.
 */
#include "rlm_mud_coa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARRIVALS	32
#define WAIT_LIMIT_S	120	//!< never hang: give up waiting for outcomes after this

static pthread_mutex_t	mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	cond = PTHREAD_COND_INITIALIZER;
static uint64_t		outcomes[RLM_MUD_COA_ERROR + 1];
static uint64_t		ndone;
static unsigned int	last_cause;
static bool		verbose;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_cb(void *uctx, rlm_mud_coa_level_t level, char const *msg)
{
	static char const *names[] = { "debug", "info", "warn", "error" };

	(void) uctx;
	if ((level == RLM_MUD_COA_LOG_DEBUG) && !verbose) return;
	fprintf(stderr, "%.3f coa %s: %s\n", now_s(), names[level], msg);
}

static void done_cb(void *uctx, uint64_t cookie, rlm_mud_coa_outcome_t outcome,
		    unsigned int error_cause)
{
	(void) uctx;
	(void) cookie;
	pthread_mutex_lock(&mtx);
	outcomes[outcome]++;
	ndone++;
	if (error_cause) last_cause = error_cause;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mtx);
}

/** Wait until n outcomes are in; false on WAIT_LIMIT_S. */
static bool wait_done(uint64_t n)
{
	struct timespec	dl;
	bool		ok = true;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_LIMIT_S;
	pthread_mutex_lock(&mtx);
	while (ndone < n) {
		if (pthread_cond_timedwait(&cond, &mtx, &dl) == ETIMEDOUT) {
			ok = false;
			break;
		}
	}
	pthread_mutex_unlock(&mtx);
	return ok;
}

/* ---- sockets this program owns (blackhole and misbehaving responders) ---- */

typedef struct {
	int		fd;
	char		mode[16];
	char const	*secret;	//!< signs the responder's replies
	int		stop;		//!< __atomic access
	int		n;
	double		at[MAX_ARRIVALS];
	uint8_t		first[4096];
	size_t		first_len;
	int		identical;	//!< retransmissions equal to the first datagram
	TALLOC_CTX	*ctx;
} peer_t;

static int peer_open(char const *addr, uint16_t *port)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) return -1;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) return -1;
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
		      ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void *peer_thread(void *arg)
{
	peer_t *p = arg;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd	pfd = { .fd = p->fd, .events = POLLIN };
		RADIUS_PACKET	*req;
		RADIUS_PACKET	*reply;

		if (poll(&pfd, 1, 50) <= 0) continue;
		if (strcmp(p->mode, "blackhole") == 0) {
			uint8_t	buf[4096];
			ssize_t	len = recv(p->fd, buf, sizeof(buf), 0);

			if (len <= 0) continue;
			if (p->n < MAX_ARRIVALS) p->at[p->n] = now_s();
			if (p->n == 0) {
				memcpy(p->first, buf, (size_t)len);
				p->first_len = (size_t)len;
			} else if (((size_t)len == p->first_len) &&
				   (memcmp(buf, p->first, (size_t)len) == 0)) {
				p->identical++;
			}
			p->n++;
			continue;
		}
		req = rad_recv(p->ctx, p->fd, 0);
		if (!req) continue;
		p->n++;
		reply = rad_alloc_reply(p->ctx, req);
		if (!reply) {
			rad_free(&req);
			continue;
		}
		reply->code = PW_CODE_COA_ACK;
		if (strcmp(p->mode, "wrongid") == 0) reply->id = (req->id + 1) & 0xff;
		if (rad_send(reply, req, p->secret) < 0) {
			fprintf(stderr, "responder: rad_send: %s\n", fr_strerror());
		}
		rad_free(&reply);
		rad_free(&req);
	}
	return NULL;
}

static void print_stats(rlm_mud_coa_t *c)
{
	rlm_mud_coa_stats_t s;

	rlm_mud_coa_stats(c, &s);
	printf("queued=%" PRIu64 " sent=%" PRIu64 " retransmits=%" PRIu64 " ack=%" PRIu64
	       " nak=%" PRIu64 " timeout=%" PRIu64 " invalid=%" PRIu64 " dropped=%" PRIu64
	       " errors=%" PRIu64 " bad_replies=%" PRIu64 " unmatched=%" PRIu64
	       " pending=%" PRIu64 "\n", s.queued, s.sent, s.retransmits, s.ack, s.nak,
	       s.timeout, s.invalid, s.dropped, s.errors, s.bad_replies, s.unmatched, s.pending);
}

static void print_outcomes(void)
{
	int i;

	pthread_mutex_lock(&mtx);
	printf("done=%" PRIu64, ndone);
	for (i = 0; i <= RLM_MUD_COA_ERROR; i++) {
		printf(" %s=%" PRIu64, rlm_mud_coa_outcome_name((rlm_mud_coa_outcome_t)i),
		       outcomes[i]);
	}
	printf(" error_cause=%u\n", last_cause);
	pthread_mutex_unlock(&mtx);
}

typedef struct {
	rlm_mud_coa_t		*c;
	rlm_mud_coa_req_t	req;
	int			count;
	int			thread;
	int			refused;
} sender_arg_t;

static void *sender_thread(void *arg)
{
	sender_arg_t	*a = arg;
	int		i;
	char		station[64];
	char		audit[64];

	for (i = 0; i < a->count; i++) {
		rlm_mud_coa_req_t r = a->req;

		/* Distinct sessions per thread; the first keeps the names given on the
		 * command line so coa.sh can find them in the switch's log. */
		if ((a->thread > 0) || (i > 0)) {
			snprintf(station, sizeof(station), "%s-%d-%d",
				 r.calling_station_id ? r.calling_station_id : "st", a->thread, i);
			snprintf(audit, sizeof(audit), "%s%02X%04X",
				 r.audit_session_id ? r.audit_session_id : "AUD", a->thread, i);
			r.calling_station_id = station;
			r.audit_session_id = audit;
		}
		r.cookie = ((uint64_t)a->thread << 32) | (uint64_t)i;
		if (rlm_mud_coa_send(a->c, &r) < 0) a->refused++;
	}
	return NULL;
}

/** rlm_mud_coa_target_from_request() on requests built the way the server builds them:
 *  the client's secret and the packet's source; a client naming a CoA home server; the
 *  NAS-IPv6-Address; no client; a secret too long. Prints target_<case>=... lines. */
static int target_checks(TALLOC_CTX *ctx)
{
	REQUEST			*request;
	RADCLIENT		*client;
	home_server_t		*hs;
	VALUE_PAIR		*vp;
	rlm_mud_coa_target_t	t;
	int			rc = 0;
	char			longsecret[300];

	request = talloc_zero(ctx, REQUEST);
	client = talloc_zero(request, RADCLIENT);
	request->packet = talloc_zero(request, RADIUS_PACKET);
	if (!request || !client || !request->packet) return 1;
	request->client = client;
	client->secret = "client-secret";
	request->packet->src_ipaddr.af = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", &request->packet->src_ipaddr.ipaddr.ip4addr);
	vp = fr_pair_afrom_num(request->packet, PW_NAS_IP_ADDRESS, 0);
	if (!vp) return 1;
	inet_pton(AF_INET, "198.51.100.1", &vp->vp_ipaddr);
	fr_pair_add(&request->packet->vps, vp);

	if (rlm_mud_coa_target_from_request(request, &t) < 0) rc = 1;
	printf("target_client=%s,%u,%s,%s\n", t.dst, t.port, t.secret, t.nas_ip);

	hs = talloc_zero(request, home_server_t);
	if (!hs) return 1;
	hs->type = HOME_TYPE_COA;
	hs->port = 3799;
	hs->secret = "home-server-secret";
	hs->ipaddr.af = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &hs->ipaddr.ipaddr.ip6addr);
	client->coa_home_server = hs;
	fr_pair_list_free(&request->packet->vps);
	vp = fr_pair_afrom_num(request->packet, PW_NAS_IPV6_ADDRESS, 0);
	if (!vp) return 1;
	inet_pton(AF_INET6, "2001:db8::1", &vp->vp_ipv6addr);
	fr_pair_add(&request->packet->vps, vp);
	if (rlm_mud_coa_target_from_request(request, &t) < 0) rc = 1;
	printf("target_home=%s,%u,%s,%s\n", t.dst, t.port, t.secret, t.nas_ip);

	client->coa_home_server = NULL;
	memset(longsecret, 'S', sizeof(longsecret) - 1);
	longsecret[sizeof(longsecret) - 1] = '\0';
	client->secret = longsecret;
	printf("target_longsecret=%d\n", rlm_mud_coa_target_from_request(request, &t));
	request->client = NULL;
	printf("target_noclient=%d\n", rlm_mud_coa_target_from_request(request, &t));
	printf("target_null=%d\n", rlm_mud_coa_target_from_request(NULL, &t));
	talloc_free(request);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: coa_send -D DICTDIR [-m send|blackhole|badsecret|wrongid|stop|"
		"queuefull|badinput|target] [-s SECRET] [-p PORT] [-t MS] [-M MS] [-r N] [-a AUDIT]"
		" [-c STATION] [-N NASIP] [-n COUNT] [-T THREADS] [-W SECRET] [-v] DST\n");
	return 2;
}

int main(int argc, char **argv)
{
	char const		*dictdir = NULL;
	char const		*mode = "send";
	char const		*wrong = "wrong-secret";
	rlm_mud_coa_opts_t	opts;
	rlm_mud_coa_req_t	req;
	rlm_mud_coa_t		*c;
	char const		*err = NULL;
	TALLOC_CTX		*root;
	int			opt;
	int			count = 1;
	int			threads = 1;
	int			i;
	int			rc = 0;
	int			refused = 0;
	peer_t			peer;
	pthread_t		peer_tid;
	bool			peer_started = false;
	double			t0;
	double			t_end;

	memset(&opts, 0, sizeof(opts));
	memset(&req, 0, sizeof(req));
	memset(&peer, 0, sizeof(peer));
	peer.fd = -1;
	opts.retries = -1;
	opts.log = log_cb;
	opts.done = done_cb;

	while ((opt = getopt(argc, argv, "D:m:s:p:t:M:r:a:c:N:n:T:W:q:i:v")) != -1) {
		switch (opt) {
		case 'D':
			dictdir = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 's':
			opts.secret = optarg;
			break;
		case 'p':
			opts.port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			opts.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			opts.max_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opts.retries = (int)strtol(optarg, NULL, 10);
			break;
		case 'a':
			req.audit_session_id = optarg;
			break;
		case 'c':
			req.calling_station_id = optarg;
			break;
		case 'N':
			req.nas_ip = optarg;
			break;
		case 'n':
			count = (int)strtol(optarg, NULL, 10);
			break;
		case 'T':
			threads = (int)strtol(optarg, NULL, 10);
			break;
		case 'W':
			wrong = optarg;
			break;
		case 'q':
			opts.max_queued = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			opts.max_inflight = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			return usage();
		}
	}
	if (!dictdir || (optind != argc - 1) || (count < 1) || (threads < 1) || (threads > 64)) {
		return usage();
	}
	req.dst = argv[optind];

	if (dict_init(dictdir, RADIUS_DICTIONARY) < 0) {
		printf("SKIP: cannot read the FreeRADIUS dictionary in %s: %s\n", dictdir,
		       fr_strerror());
		return 77;
	}
	root = talloc_new(NULL);

	/* Our own receiver for the cases a real switch does not produce on demand. */
	if (strcmp(mode, "send") != 0 && strcmp(mode, "badinput") != 0 &&
	    strcmp(mode, "target") != 0) {
		uint16_t port = 0;

		peer.fd = peer_open(req.dst, &port);
		if (peer.fd < 0) {
			printf("SKIP: cannot bind a UDP socket on %s\n", req.dst);
			return 77;
		}
		snprintf(peer.mode, sizeof(peer.mode), "%s",
			 (strcmp(mode, "badsecret") == 0 || strcmp(mode, "wrongid") == 0) ?
			 mode : "blackhole");
		peer.secret = strcmp(mode, "wrongid") == 0 ? opts.secret : wrong;
		peer.ctx = talloc_new(NULL);
		req.port = port;
		if (pthread_create(&peer_tid, NULL, peer_thread, &peer) != 0) return 1;
		peer_started = true;
	}
	if (strcmp(mode, "queuefull") == 0) {
		opts.max_inflight = 1;
		opts.max_queued = 2;
	}

	c = rlm_mud_coa_create(root, &opts, &err);
	if (!c) {
		printf("FAIL: rlm_mud_coa_create: %s\n", err ? err : "?");
		return 1;
	}
	t0 = now_s();

	if (strcmp(mode, "target") == 0) {
		rc = target_checks(root);
	} else if (strcmp(mode, "badinput") == 0) {
		rlm_mud_coa_req_t	b[20];
		rlm_mud_coa_stats_t	s;
		char			longid[400];
		char const		*bad_dst[] = { "not-an-address", "0.0.0.0", "::",
						       "224.0.0.1", "255.255.255.255", "ff02::1",
						       "192.0.2.1:1700", "", "1.2.3.4.5", "[::1]" };
		int			nb = 0;
		int			tried = 2;

		memset(longid, 'A', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		if (rlm_mud_coa_send(c, NULL) < 0) refused++;
		if (rlm_mud_coa_send(NULL, &req) < 0) refused++;
		for (i = 0; i < (int)(sizeof(bad_dst) / sizeof(bad_dst[0])); i++) {
			b[nb] = req;
			b[nb++].dst = bad_dst[i];
		}
		b[nb] = req;
		b[nb++].dst = NULL;
		b[nb] = req;				/* no session named */
		b[nb].audit_session_id = NULL;
		b[nb++].calling_station_id = "";
		b[nb] = req;
		b[nb++].audit_session_id = longid;
		b[nb] = req;
		b[nb++].calling_station_id = longid;
		b[nb] = req;
		b[nb++].nas_ip = "nas.example.com";	/* never resolved */
		b[nb] = req;
		b[nb++].secret = longid;
		if (!opts.secret) {
			b[nb] = req;			/* no secret anywhere */
			b[nb++].secret = NULL;
		}
		for (i = 0; i < nb; i++) {
			tried++;
			if (rlm_mud_coa_send(c, &b[i]) < 0) refused++;
		}
		rlm_mud_coa_stats(c, &s);
		printf("tried=%d refused=%d counted=%" PRIu64 "\n", tried, refused,
		       s.queued + s.dropped + s.errors);
		if ((refused != tried) || (s.queued + s.dropped + s.errors)) rc = 1;
	} else {
		pthread_t	tids[64];
		sender_arg_t	args[64];
		int		total = count * threads;

		for (i = 0; i < threads; i++) {
			args[i].c = c;
			args[i].req = req;
			args[i].count = count;
			args[i].thread = i;
			args[i].refused = 0;
			pthread_create(&tids[i], NULL, sender_thread, &args[i]);
		}
		for (i = 0; i < threads; i++) {
			pthread_join(tids[i], NULL);
			refused += args[i].refused;
		}
		printf("accepted=%d refused=%d\n", total - refused, refused);
		if (strcmp(mode, "stop") == 0) {
			double	t1;
			bool	ok;

			usleep(300000);		/* let the first transmissions go out */
			print_stats(c);
			t1 = now_s();
			rlm_mud_coa_free(c);
			c = NULL;
			printf("stop_ms=%d\n", (int)((now_s() - t1) * 1000));
			ok = wait_done((uint64_t)total);
			printf("all_done=%d\n", ok ? 1 : 0);
		} else if (!wait_done((uint64_t)total)) {
			printf("FAIL: outcomes missing after %d s\n", WAIT_LIMIT_S);
			rc = 1;
		}
	}
	t_end = now_s();
	printf("elapsed_ms=%d\n", (int)((t_end - t0) * 1000));
	print_outcomes();
	if (c) print_stats(c);

	if (peer_started) {
		__atomic_store_n(&peer.stop, 1, __ATOMIC_RELEASE);
		pthread_join(peer_tid, NULL);
		printf("peer_received=%d identical=%d\n", peer.n, peer.identical);
		if (strcmp(peer.mode, "blackhole") == 0) {
			printf("gaps_ms=");
			for (i = 1; i < peer.n && i < MAX_ARRIVALS; i++) {
				printf("%s%d", i > 1 ? "," : "",
				       (int)((peer.at[i] - peer.at[i - 1]) * 1000));
			}
			printf("\n");
		}
		close(peer.fd);
		talloc_free(peer.ctx);
	}

	rlm_mud_coa_free(c);
	printf("leaked_blocks=%zu\n", talloc_total_blocks(root) - 1);
	if (talloc_total_blocks(root) != 1) rc = 1;
	talloc_free(root);
	dict_free();
	return rc;
}
