/*
 * fuzz_eval.c - fuzz target for the ACL evaluator (mud_eval.c).
 *
 * The first byte selects the syntax ('c' cisco-dacl, 'n' nas-filter-rule,
 * anything else: mud_eval_detect()), the rest is ACL text. The text is parsed,
 * a fixed set of packets and flows is evaluated, and the first line is also
 * tried as a flow description. Besides the sanitizers, the target checks the
 * contracts: on failure *out is NULL and nothing is left under the talloc
 * root; every verdict names a real line when a line matched, and none when
 * none did.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <talloc.h>

#include "mud.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

/** A broken contract is a bug: crash so the fuzzer (or replay) reports it. */
#define CHECK(_x) do { if (!(_x)) __builtin_trap(); } while (0)

static void check_result(mud_eval_acl_t const *acl, mud_eval_result_t const *res)
{
	CHECK(res->why != NULL);
	if (res->reason == MUD_EVAL_MATCHED) {
		unsigned int lineno = 0;

		CHECK(res->index < mud_eval_acl_count(acl));
		CHECK(res->line == mud_eval_acl_line(acl, res->index, &lineno));
		CHECK(lineno == res->lineno && lineno > 0);
		CHECK(strlen(res->line) <= MUD_MAX_ATTR_LEN);
	} else {
		CHECK(res->line == NULL && res->lineno == 0);
		if (res->reason != MUD_EVAL_DEFAULT) CHECK(res->permit);
	}
}

static void set_addr(mud_prefix_t *p, char const *s)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, s, p->addr) == 1) {
		p->family = 4;
		p->len = 32;
	} else {
		CHECK(inet_pton(AF_INET6, s, p->addr) == 1);
		p->family = 6;
		p->len = 128;
	}
}

static void eval_packets(mud_eval_acl_t const *acl)
{
	static struct {
		char const	*peer;
		int		proto;
		uint16_t	dev_port;
		uint16_t	peer_port;
		uint8_t		flags;
		int		icmp_type;
	} const pk[] = {
		{ "192.0.2.10", 6, 49152, 443, MUD_TCP_SYN, 0 },
		{ "192.0.2.10", 6, 49152, 443, MUD_TCP_ACK, 0 },
		{ "10.1.1.7", 17, 5683, 5683, 0, 0 },
		{ "198.51.100.1", 1, 0, 0, 0, 8 },
		{ "198.51.100.1", 47, 0, 0, 0, 0 },
		{ "2001:db8::a", 6, 8080, 40000, MUD_TCP_SYN | MUD_TCP_ACK, 0 },
		{ "2001:db8::a", 58, 0, 0, 0, 128 },
		{ "fd00::1", 17, 53, 53, 0, 0 },
	};
	static char const * const flows[] = {
		"tcp device->192.0.2.10:443", "tcp 192.0.2.10->device:8080",
		"udp device->10.1.1.7:5683",
		"icmp device->2001:db8::a", "tcp device->[2001:db8::a]:443", "47 10.0.0.9->device",
	};
	mud_prefix_t dev4, dev6;
	size_t i;
	int d;

	set_addr(&dev4, "10.0.0.2");
	set_addr(&dev6, "2001:db8:1::2");
	for (i = 0; i < sizeof(pk) / sizeof(pk[0]); i++) {
		for (d = 0; d < 2; d++) {
			mud_prefix_t peer;
			mud_prefix_t const *dev;
			mud_packet_t p;
			mud_eval_result_t res;
			bool from = d == 0;

			set_addr(&peer, pk[i].peer);
			dev = peer.family == 4 ? &dev4 : &dev6;
			memset(&p, 0, sizeof(p));
			p.family = peer.family;
			p.protocol = pk[i].proto;
			memcpy(p.src, from ? dev->addr : peer.addr, 16);
			memcpy(p.dst, from ? peer.addr : dev->addr, 16);
			p.src_port = from ? pk[i].dev_port : pk[i].peer_port;
			p.dst_port = from ? pk[i].peer_port : pk[i].dev_port;
			p.tcp_flags = pk[i].flags;
			p.icmp_type = pk[i].icmp_type;
			CHECK(mud_eval_packet(acl, &p,
					      from ? MUD_DIR_FROM_DEVICE : MUD_DIR_TO_DEVICE, dev,
					      &res, NULL) == MUD_OK);
			check_result(acl, &res);
		}
	}
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		mud_flow_t f;
		mud_flow_result_t fr;
		bool all = true;
		size_t s;

		CHECK(mud_flow_parse(&f, flows[i], NULL) == MUD_OK);
		CHECK(mud_eval_flow(acl, &f, f.family == 4 ? &dev4 : &dev6, &fr, NULL) == MUD_OK);
		CHECK(fr.num_steps >= 1 && fr.num_steps <= MUD_FLOW_MAX_STEPS);
		for (s = 0; s < fr.num_steps; s++) {
			check_result(acl, &fr.steps[s].res);
			if (!fr.steps[s].res.permit) all = false;
		}
		CHECK(all == fr.permit);
	}
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	TALLOC_CTX *root;
	mud_eval_acl_t *acl = (mud_eval_acl_t *)&root;	/* must be reset to NULL on failure */
	mud_error_t err;
	mud_rcode_t rc;
	int fmt;
	char flow[300];
	size_t n;

	if (size < 1) return 0;
	root = talloc_new(NULL);
	if (!root) return 0;

	/* the first line as a flow description */
	for (n = 0; n + 1 < size && n < sizeof(flow) - 1 && data[n + 1] != '\n' && data[n + 1];
	     n++) {
		flow[n] = (char)data[n + 1];
	}
	flow[n] = '\0';
	{
		mud_flow_t f;

		mud_error_clear(&err);
		rc = mud_flow_parse(&f, flow, &err);
		CHECK(rc == MUD_OK || (rc == MUD_ERR_ARG && err.code == rc));
		if (rc == MUD_OK) {
			CHECK(f.family == 4 || f.family == 6);
			CHECK(f.protocol >= 0 && f.protocol <= 255);
		}
	}

	if (data[0] == 'c') {
		fmt = MUD_FMT_CISCO_DACL;
	} else if (data[0] == 'n') {
		fmt = MUD_FMT_NAS_FILTER_RULE;
	} else {
		fmt = mud_eval_detect((char const *)data + 1, size - 1);
		if (fmt < 0) fmt = MUD_FMT_CISCO_DACL;
	}

	mud_error_clear(&err);
	rc = mud_eval_acl_parse(root, &acl, (mud_format_t)fmt, (char const *)data + 1, size - 1,
				&err);
	if (rc != MUD_OK) {
		CHECK(acl == NULL);
		CHECK(err.code == rc);
		CHECK(rc == MUD_ERR_SCHEMA || rc == MUD_ERR_UNSUPPORTED || rc == MUD_ERR_LIMIT);
		CHECK(strncmp(err.where, "line ", 5) == 0);
		CHECK(memchr(err.text, '\0', sizeof(err.text)) != NULL);
		CHECK(talloc_total_blocks(root) == 1);
	} else {
		CHECK(acl != NULL && talloc_parent(acl) == root);
		CHECK(mud_eval_acl_count(acl) <= MUD_MAX_ATTRS);
		eval_packets(acl);
	}
	talloc_free(root);
	return 0;
}
