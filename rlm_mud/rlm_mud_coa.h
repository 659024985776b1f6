#pragma once
/*
 *   This program is free software; you can redistribute it and/or modify
 *   it under the terms of the GNU General Public License as published by
 *   the Free Software Foundation; either version 2 of the License, or
 *   (at your option) any later version.
 */

/**
 * @file rlm_mud_coa.h
 * @brief RFC 5176 CoA-Request sender for rlm_mud (Cisco "reauthenticate" form).
 *
 * One sender per module instance: a dedicated thread owns one UDP socket per
 * address family, encodes and signs each request with libfreeradius (rad_send:
 * rad_encode + rad_sign), retransmits with exponential backoff, matches replies by
 * source address, port and Id, verifies them (rad_verify: Response Authenticator
 * and Message-Authenticator) and decodes them (rad_decode: Error-Cause of a
 * CoA-NAK). A CoA-NAK is final: logged and counted, never retried.
 *
 * The request built for each rlm_mud_coa_send() (Code 43, CoA-Request):
 *
 *     Cisco-AVPair = "subscriber:command=reauthenticate"
 *     Cisco-AVPair = "subscriber:reauthenticate-type=last"
 *     Cisco-AVPair = "audit-session-id=<id>"       (if given)
 *     Calling-Station-Id = "<station>"             (if given)
 *     NAS-IP-Address or NAS-IPv6-Address = <nas_ip, else the destination>
 *     Event-Timestamp = <time of the first transmission>
 *     Message-Authenticator
 *
 * Integration note for rlm_mud.c:
 * - mod_instantiate: fill rlm_mud_coa_opts_t from the config (coa_port, coa_secret,
 *   coa_timeout, coa_retries, coa_max_queued; log callback mapping the levels to
 *   ERROR/WARN/INFO("rlm_mud (%s): %s", inst->name, msg)), then
 *   inst->coa = rlm_mud_coa_create(inst, &opts, &err); on NULL cf_log_err_cs(conf,
 *   "%s", err) and return -1. The handle is a talloc child of inst: freeing inst (or
 *   rlm_mud_coa_free()) stops the thread, drops and counts what is pending.
 * - Per request (post-auth / accounting): rlm_mud_coa_target_from_request() gives the
 *   destination, port and secret to store with the station (strings: copy them, the
 *   client may go away at HUP). Chosen source of the secret: request->client->secret
 *   captured per request (the shared secret the NAS itself uses, which is what
 *   "aaa server radius dynamic-author / client ... server-key" normally holds); if the
 *   client section names a CoA home server (client { coa_server = NAME }), that home
 *   server's address, port and secret win. Else opts.secret (module coa_secret).
 * - Whenever a session must be re-authorized (fetch completed, policy changed, URL
 *   learned from accounting): fill rlm_mud_coa_req_t from the station and call
 *   rlm_mud_coa_send(); it copies everything, never blocks, any thread may call it.
 *   A Catalyst NAKs (Error-Cause 407) unless every session attribute matches: pass
 *   Calling-Station-Id exactly as the NAS sent it (not the normalised station key),
 *   or leave it NULL when the audit-session-id is known; nas_ip must be the NAS's own
 *   NAS-IP-Address (else 403, NAS Identification Mismatch). docs/catalyst.md section 6.
 * - Threads: the sender thread calls no fr_rand() (libfreeradius's pool is unlocked):
 *   packets are allocated with talloc and received with recvfrom + rad_packet_ok.
 * - Counters: rlm_mud_coa_stats() (e.g. for an xlat or mudctl).
 */
#include <freeradius/radiusd.h>

#include <stdint.h>

#define RLM_MUD_COA_PORT		1700	//!< port Cisco deployments use for dynamic-author
						//!< (no stored Cisco page states the default: set
						//!< "port" on the switch, docs/catalyst.md 6)
#define RLM_MUD_COA_PORT_RFC		3799	//!< RFC 5176 section 3.2 (IANA "radius-dynauth")
#define RLM_MUD_COA_TIMEOUT_MS		2000	//!< first retransmission timer (RFC 5080 2.2.1 IRT)
#define RLM_MUD_COA_MAX_TIMEOUT_MS	16000	//!< backoff ceiling (RFC 5080 MRT)
#define RLM_MUD_COA_RETRIES		3	//!< retransmissions after the first send (MRC)
#define RLM_MUD_COA_MAX_QUEUED		4096	//!< requests waiting for an Id by default
#define RLM_MUD_COA_MAX_QUEUED_MAX	1000000	//!< ceiling of max_queued (memory bound)
#define RLM_MUD_COA_MAX_INFLIGHT	256	//!< outstanding requests per family: one Id
						//!< space per socket (RFC 2865 3, 8-bit Identifier)
#define RLM_MUD_COA_MAX_STRING		253	//!< RFC 2865 section 5: longest string attribute
#define RLM_MUD_COA_MAX_SECRET		128	//!< longer secrets are refused (FreeRADIUS limit)

/** Log levels handed to the log callback. */
typedef enum {
	RLM_MUD_COA_LOG_DEBUG = 0,	//!< per packet (sent, retransmitted)
	RLM_MUD_COA_LOG_INFO,		//!< outcomes: ACK
	RLM_MUD_COA_LOG_WARN,		//!< NAK, timeout, invalid replies, queue full
	RLM_MUD_COA_LOG_ERROR,		//!< socket or encoding failures
} rlm_mud_coa_level_t;

/** Final outcome of one request. */
typedef enum {
	RLM_MUD_COA_ACK = 0,		//!< CoA-ACK received and verified
	RLM_MUD_COA_NAK,		//!< CoA-NAK received and verified (final, not retried)
	RLM_MUD_COA_TIMEOUT,		//!< no reply after all retransmissions
	RLM_MUD_COA_INVALID,		//!< only replies that failed verification (wrong secret?)
	RLM_MUD_COA_DROPPED,		//!< queue full, or the sender stopped with it pending
	RLM_MUD_COA_ERROR,		//!< could not be encoded or sent (no socket, unreachable)
} rlm_mud_coa_outcome_t;

/** Log callback: one preformatted line (untrusted values escaped, never the secret).
 *  Called from the sender thread and from rlm_mud_coa_send(); must be thread-safe. */
typedef void (*rlm_mud_coa_log_t)(void *uctx, rlm_mud_coa_level_t level, char const *msg);

/** Completion callback, called once per accepted or dropped request with its cookie: from
 *  the sender thread, or from rlm_mud_coa_send() itself for DROPPED (queue full) and
 *  ERROR (out of memory). Must be thread-safe and must not call rlm_mud_coa_free().
 *  @param[in] error_cause	Error-Cause of a NAK (RFC 5176 3.5), 0 if none. */
typedef void (*rlm_mud_coa_done_t)(void *uctx, uint64_t cookie, rlm_mud_coa_outcome_t outcome,
				   unsigned int error_cause);

/** Sender options. Zero values select the defaults. */
typedef struct rlm_mud_coa_opts {
	uint16_t		port;		//!< destination port, 0 -> RLM_MUD_COA_PORT
	char const		*secret;	//!< default secret (coa_secret), NULL = none
	uint32_t		timeout_ms;	//!< first timer, 0 -> RLM_MUD_COA_TIMEOUT_MS
	uint32_t		max_timeout_ms;	//!< backoff ceiling,
						//!< 0 -> RLM_MUD_COA_MAX_TIMEOUT_MS
	int			retries;	//!< retransmissions, < 0 -> RLM_MUD_COA_RETRIES
	uint32_t		max_queued;	//!< 0 -> RLM_MUD_COA_MAX_QUEUED
	uint32_t		max_inflight;	//!< per family, 0 or > 256 -> 256
	char const		*src_ipv4;	//!< bind the IPv4 socket to this address, NULL any
	char const		*src_ipv6;	//!< bind the IPv6 socket to this address, NULL any
	rlm_mud_coa_log_t	log;		//!< NULL = silent
	rlm_mud_coa_done_t	done;		//!< NULL = none
	void			*uctx;		//!< passed to log and done
} rlm_mud_coa_opts_t;

/** One CoA to send. Every string is copied by rlm_mud_coa_send(). */
typedef struct rlm_mud_coa_req {
	char const	*dst;			//!< NAS address, numeric IPv4 or IPv6 (no DNS)
	uint16_t	port;			//!< 0 -> opts.port
	char const	*secret;		//!< NULL or "" -> opts.secret
	char const	*nas_ip;		//!< NAS-IP(v6)-Address value, NULL/"" -> dst
	char const	*audit_session_id;	//!< Cisco audit-session-id, NULL/"" -> left out
	char const	*calling_station_id;	//!< as the NAS sent it, NULL/"" -> left out
	uint64_t	cookie;			//!< handed back to the done callback
} rlm_mud_coa_req_t;

/** Counters (monotonic since create). */
typedef struct rlm_mud_coa_stats {
	uint64_t	queued;		//!< accepted by rlm_mud_coa_send()
	uint64_t	sent;		//!< first transmissions
	uint64_t	retransmits;	//!< retransmissions
	uint64_t	ack;		//!< outcome ACK
	uint64_t	nak;		//!< outcome NAK
	uint64_t	timeout;	//!< outcome TIMEOUT
	uint64_t	invalid;	//!< outcome INVALID
	uint64_t	dropped;	//!< outcome DROPPED (queue full or stopped)
	uint64_t	errors;		//!< outcome ERROR
	uint64_t	bad_replies;	//!< reply packets that failed verification or decoding
	uint64_t	unmatched;	//!< reply packets with no request (late, duplicate, stray)
	uint64_t	pending;	//!< queued + in flight now
} rlm_mud_coa_stats_t;

typedef struct rlm_mud_coa rlm_mud_coa_t;

/** Create a sender: open the sockets, start the sender thread.
 *
 * @param[in] ctx	talloc parent; freeing it stops the sender.
 * @param[in] opts	options (copied), NULL for the defaults.
 * @param[out] err	static text on failure (never NULL on failure if err is set).
 * @return the sender, or NULL on failure.
 */
rlm_mud_coa_t	*rlm_mud_coa_create(TALLOC_CTX *ctx, rlm_mud_coa_opts_t const *opts,
				    char const **err);

/** Queue one CoA-Request. Never blocks on the network; thread-safe.
 *
 * @param[in] c		sender.
 * @param[in] req	what to send (copied).
 * @return 0 queued; -1 refused (bad argument: logged, nothing counted) or dropped
 *	(queue full or stopped: counted as dropped, done callback called).
 */
int		rlm_mud_coa_send(rlm_mud_coa_t *c, rlm_mud_coa_req_t const *req);

/** Copy the counters. */
void		rlm_mud_coa_stats(rlm_mud_coa_t *c, rlm_mud_coa_stats_t *out);

/** Stop the thread, drop (and count) what is pending, free the sender. NULL is a no-op. */
void		rlm_mud_coa_free(rlm_mud_coa_t *c);

/** Name of an outcome ("ack", "nak", "timeout", "invalid", "dropped", "error"). */
char const	*rlm_mud_coa_outcome_name(rlm_mud_coa_outcome_t outcome);

/** Where to send CoA for the NAS of a request (copied out of the request). */
typedef struct rlm_mud_coa_target {
	char		dst[48];		//!< NAS address (client's CoA home server,
						//!< else the packet's source)
	uint16_t	port;			//!< 0 = the sender's default port
	char		secret[RLM_MUD_COA_MAX_SECRET + 1];	//!< "" = the sender's default
	char		nas_ip[48];		//!< NAS-IP(v6)-Address of the request, "" unknown
} rlm_mud_coa_target_t;

/** Fill *out from a request: its client's CoA home server (client { coa_server = ... })
 *  if one is configured, else the packet's source address, the opts port and the
 *  client's secret.
 *  @return 0 on success, -1 if the request has no client or packet, or a secret longer
 *	than RLM_MUD_COA_MAX_SECRET (never truncated). */
int		rlm_mud_coa_target_from_request(REQUEST const *request, rlm_mud_coa_target_t *out);
