/*
 * test_eval.c - the independent ACL evaluator (mud_eval.c): Cisco dACL and
 * NAS-Filter-Rule texts written by hand, packets, flows, parse errors, limits,
 * and a cross-check of the real parse -> compile -> render pipeline on public
 * MUD files.
 */
#include <arpa/inet.h>

#include "test_common.h"

/*
 *	Helpers
 */
static mud_eval_acl_t *parse_ok(void *ctx, mud_format_t fmt, char const *text)
{
	mud_eval_acl_t *acl = NULL;
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = mud_eval_acl_parse(ctx, &acl, fmt, text, strlen(text), &err);
	if (rc != MUD_OK) fprintf(stderr, "parse: %s: %s\n", err.where, err.text);
	assert_int_equal(rc, MUD_OK);
	assert_non_null(acl);
	return acl;
}

static void parse_fails(void *ctx, mud_format_t fmt, char const *text, mud_rcode_t code,
			char const *where, char const *msg)
{
	mud_eval_acl_t *acl = (mud_eval_acl_t *)ctx;	/* must be reset to NULL */
	mud_error_t err;
	mud_rcode_t rc;

	mud_error_clear(&err);
	rc = mud_eval_acl_parse(ctx, &acl, fmt, text, strlen(text), &err);
	if (rc != code || strcmp(err.where, where) || strcmp(err.text, msg)) {
		fprintf(stderr, "input: %s\ngot: %s [%s] %s\n", text, mud_rcode_name(rc), err.where,
			err.text);
	}
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_null(acl);
	assert_string_equal(err.where, where);
	assert_string_equal(err.text, msg);
	assert_no_leak(ctx);
}

static mud_prefix_t addr(char const *s)
{
	mud_prefix_t p;

	memset(&p, 0, sizeof(p));
	if (inet_pton(AF_INET, s, p.addr) == 1) {
		p.family = 4;
		p.len = 32;
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, p.addr), 1);
		p.family = 6;
		p.len = 128;
	}
	return p;
}

/** A packet: proto 6/17 use ports, 1/58 use sport as type and dport as code. */
static mud_packet_t pkt(char const *src, int sport, char const *dst, int dport, int proto,
			uint8_t flags)
{
	mud_packet_t p;
	mud_prefix_t s = addr(src);
	mud_prefix_t d = addr(dst);

	memset(&p, 0, sizeof(p));
	assert_int_equal(s.family, d.family);
	p.family = s.family;
	memcpy(p.src, s.addr, 16);
	memcpy(p.dst, d.addr, 16);
	p.protocol = proto;
	if (proto == 1 || proto == 58) {
		p.icmp_type = sport;
		p.icmp_code = dport;
	} else {
		p.src_port = (uint16_t)sport;
		p.dst_port = (uint16_t)dport;
	}
	p.tcp_flags = flags;
	return p;
}

#define DEV4	"10.0.0.2"
#define DEV6	"2001:db8:1::2"
#define FROM	MUD_DIR_FROM_DEVICE
#define TO	MUD_DIR_TO_DEVICE
#define SYN	MUD_TCP_SYN
#define ACK	MUD_TCP_ACK
#define SYNACK	(MUD_TCP_SYN | MUD_TCP_ACK)

/** Evaluate one packet and check the verdict, the reason and the deciding line number. */
static void check(mud_eval_acl_t const *acl, mud_dir_t dir, mud_packet_t p, bool permit,
		  mud_eval_reason_t reason, unsigned int lineno)
{
	mud_prefix_t dev = addr(p.family == 4 ? DEV4 : DEV6);
	mud_eval_result_t res;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_eval_packet(acl, &p, dir, &dev, &res, &err), MUD_OK);
	if (res.permit != permit || res.reason != reason || res.lineno != lineno) {
		fprintf(stderr, "got permit=%d reason=%d line %u (%s %s)\n", res.permit, res.reason,
			res.lineno,
			res.why, res.line ? res.line : "-");
	}
	assert_int_equal(res.permit, permit);
	assert_int_equal(res.reason, reason);
	assert_int_equal(res.lineno, lineno);
	if (reason == MUD_EVAL_MATCHED) {
		assert_non_null(res.line);
		assert_string_equal(res.line, mud_eval_acl_line(acl, res.index, NULL));
	} else {
		assert_null(res.line);
	}
}

#define PERMIT(acl, dir, p, line)	check(acl, dir, p, true, MUD_EVAL_MATCHED, line)
#define DENY(acl, dir, p, line)		check(acl, dir, p, false, MUD_EVAL_MATCHED, line)
#define IMPLICIT(acl, dir, p)		check(acl, dir, p, false, MUD_EVAL_DEFAULT, 0)

/** Evaluate a flow string with the device DEV4 / DEV6. */
static bool flow(mud_eval_acl_t const *acl, char const *desc, mud_flow_result_t *fr)
{
	mud_flow_t f;
	mud_prefix_t dev;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_flow_parse(&f, desc, &err), MUD_OK);
	dev = addr(f.family == 4 ? DEV4 : DEV6);
	assert_int_equal(mud_eval_flow(acl, &f, &dev, fr, &err), MUD_OK);
	return fr->permit;
}

/*
 *	Cisco dACL
 */
static void test_cisco_protocols(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit tcp any host 192.0.2.10 eq 443\n"
		"ip:inacl#2=permit udp any host 192.0.2.11 eq 53\n"
		"ip:inacl#3=permit icmp any host 192.0.2.12\n"
		"ip:inacl#4=permit 47 any host 192.0.2.13\n"
		"ip:inacl#5=permit ip any host 192.0.2.14\n"
		"ip:inacl#6=deny ip any any\n");

	assert_int_equal(mud_eval_acl_count(acl), 6);
	PERMIT(acl, FROM, pkt(DEV4, 40000, "192.0.2.10", 443, 6, SYN), 1);
	DENY(acl, FROM, pkt(DEV4, 40000, "192.0.2.10", 443, 17, 0), 6);
	PERMIT(acl, FROM, pkt(DEV4, 40000, "192.0.2.11", 53, 17, 0), 2);
	DENY(acl, FROM, pkt(DEV4, 40000, "192.0.2.11", 53, 6, SYN), 6);
	PERMIT(acl, FROM, pkt(DEV4, 8, "192.0.2.12", 0, 1, 0), 3);
	DENY(acl, FROM, pkt(DEV4, 8, "192.0.2.13", 0, 1, 0), 6);
	PERMIT(acl, FROM, pkt(DEV4, 0, "192.0.2.13", 0, 47, 0), 4);
	PERMIT(acl, FROM, pkt(DEV4, 1, "192.0.2.14", 2, 17, 0), 5);
	PERMIT(acl, FROM, pkt(DEV4, 0, "192.0.2.14", 0, 50, 0), 5);
	DENY(acl, FROM, pkt(DEV4, 40000, "192.0.2.15", 443, 6, SYN), 6);
	talloc_free(acl);
}

static void test_cisco_addresses(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit udp any 10.1.1.0 0.0.0.255\n"
		"ip:inacl#2=permit udp any 10.0.0.1 0.255.0.0\n"	/* discontiguous */
		"ip:inacl#3=permit tcp any any eq 22\n"
		"ip:inacl#4=deny ip any any\n"
		"ipv6:inacl#1=permit udp any 2001:db8::/32\n"
		"ipv6:inacl#2=permit tcp any host 2001:db9::1\n"
		"ipv6:inacl#3=permit tcp any 2001:db9::/0 eq 22\n"
		"ipv6:inacl#4=deny ipv6 any any\n");

	PERMIT(acl, FROM, pkt(DEV4, 1, "10.1.1.0", 2, 17, 0), 1);
	PERMIT(acl, FROM, pkt(DEV4, 1, "10.1.1.255", 2, 17, 0), 1);
	DENY(acl, FROM, pkt(DEV4, 1, "10.1.2.0", 2, 17, 0), 4);
	DENY(acl, FROM, pkt(DEV4, 1, "10.1.0.255", 2, 17, 0), 4);
	PERMIT(acl, FROM, pkt(DEV4, 1, "10.7.0.1", 2, 17, 0), 2);
	PERMIT(acl, FROM, pkt(DEV4, 1, "10.200.0.1", 2, 17, 0), 2);
	DENY(acl, FROM, pkt(DEV4, 1, "10.7.0.2", 2, 17, 0), 4);
	DENY(acl, FROM, pkt(DEV4, 1, "11.7.0.1", 2, 17, 0), 4);
	PERMIT(acl, FROM, pkt(DEV4, 1, "203.0.113.9", 22, 6, SYN), 3);

	PERMIT(acl, FROM, pkt(DEV6, 1, "2001:db8::", 2, 17, 0), 5);
	PERMIT(acl, FROM, pkt(DEV6, 1, "2001:db8:ffff:ffff::1", 2, 17, 0), 5);
	DENY(acl, FROM, pkt(DEV6, 1, "2001:db9::", 2, 17, 0), 8);
	PERMIT(acl, FROM, pkt(DEV6, 1, "2001:db9::1", 2, 6, SYN), 6);
	DENY(acl, FROM, pkt(DEV6, 1, "2001:db9::2", 2, 6, SYN), 8);
	PERMIT(acl, FROM, pkt(DEV6, 1, "fe80::1", 22, 6, SYN), 7);	/* /0 = everything */
	talloc_free(acl);
}

/** One permit line with a port operator on the peer's port; boundaries. */
static void test_cisco_port_operators(void **state)
{
	static struct {
		char const	*op;
		int		port;
		bool		permit;
	} const cases[] = {
		{ "eq 80", 80, true }, { "eq 80", 79, false }, { "eq 80", 81, false },
		{ "eq 0", 0, true }, { "eq 65535", 65535, true },
		{ "neq 80", 80, false }, { "neq 80", 79, true }, { "neq 80", 81, true },
		{ "lt 1024", 1023, true }, { "lt 1024", 1024, false }, { "lt 1024", 0, true },
		{ "lt 0", 0, false }, { "lt 1", 0, true },
		{ "gt 1023", 1024, true }, { "gt 1023", 1023, false }, { "gt 1023", 65535, true },
		{ "gt 65535", 65535, false }, { "gt 65534", 65535, true },
		{ "range 5000 5010", 4999, false }, { "range 5000 5010", 5000, true },
		{ "range 5000 5010", 5010, true }, { "range 5000 5010", 5011, false },
		{ "range 7 7", 7, true }, { "range 7 7", 8, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = talloc_asprintf(*state,
					     "ip:inacl#1=permit tcp any host 192.0.2.1 %s\n",
					     cases[i].op);
		char *text_src = talloc_asprintf(*state, "ip:inacl#1=permit udp any %s any\n",
						 cases[i].op);
		mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL, text);
		mud_eval_acl_t *acl_src = parse_ok(*state, MUD_FMT_CISCO_DACL, text_src);

		if (cases[i].permit) {
			PERMIT(acl, FROM, pkt(DEV4, 40000, "192.0.2.1", cases[i].port, 6, SYN), 1);
			PERMIT(acl_src, FROM, pkt(DEV4, cases[i].port, "192.0.2.1", 9, 17, 0), 1);
		} else {
			IMPLICIT(acl, FROM, pkt(DEV4, 40000, "192.0.2.1", cases[i].port, 6, SYN));
			IMPLICIT(acl_src, FROM, pkt(DEV4, cases[i].port, "192.0.2.1", 9, 17, 0));
		}
		/* the port belongs to the peer, not the device */
		if (cases[i].port != 40000 && strcmp(cases[i].op, "neq 80") != 0 &&
		    strncmp(cases[i].op, "gt", 2) != 0) {
			IMPLICIT(acl, FROM, pkt(DEV4, cases[i].port, "192.0.2.1", 40000, 6, SYN));
		}
		talloc_free(text);
		talloc_free(text_src);
		talloc_free(acl);
		talloc_free(acl_src);
	}
}

static void test_cisco_established(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit tcp any eq 8080 host 192.0.2.1 established\n"
		"ip:inacl#2=deny ip any any\n");

	DENY(acl, FROM, pkt(DEV4, 8080, "192.0.2.1", 50000, 6, SYN), 2);
	PERMIT(acl, FROM, pkt(DEV4, 8080, "192.0.2.1", 50000, 6, SYNACK), 1);
	PERMIT(acl, FROM, pkt(DEV4, 8080, "192.0.2.1", 50000, 6, ACK), 1);
	PERMIT(acl, FROM, pkt(DEV4, 8080, "192.0.2.1", 50000, 6, MUD_TCP_RST), 1);
	DENY(acl, FROM, pkt(DEV4, 8080, "192.0.2.1", 50000, 6, MUD_TCP_FIN), 2);
	DENY(acl, FROM, pkt(DEV4, 8081, "192.0.2.1", 50000, 6, ACK), 2);
	talloc_free(acl);
}

static void test_cisco_icmp(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit icmp any any 8\n"
		"ip:inacl#2=permit icmp any any 3 4\n"
		"ip:inacl#3=deny ip any any\n"
		"ipv6:inacl#1=permit icmp any any 128 0\n"
		"ipv6:inacl#2=permit 1 any any\n"
		"ipv6:inacl#3=deny ipv6 any any\n");

	PERMIT(acl, FROM, pkt(DEV4, 8, "192.0.2.1", 0, 1, 0), 1);
	PERMIT(acl, FROM, pkt(DEV4, 8, "192.0.2.1", 5, 1, 0), 1);	/* any code */
	PERMIT(acl, FROM, pkt(DEV4, 3, "192.0.2.1", 4, 1, 0), 2);
	DENY(acl, FROM, pkt(DEV4, 3, "192.0.2.1", 3, 1, 0), 3);
	DENY(acl, FROM, pkt(DEV4, 0, "192.0.2.1", 0, 1, 0), 3);
	DENY(acl, FROM, pkt(DEV4, 8, "192.0.2.1", 0, 58, 0), 3);	/* not ICMPv4 */

	PERMIT(acl, FROM, pkt(DEV6, 128, "2001:db8::1", 0, 58, 0), 4);
	DENY(acl, FROM, pkt(DEV6, 128, "2001:db8::1", 1, 58, 0), 6);
	DENY(acl, FROM, pkt(DEV6, 129, "2001:db8::1", 0, 58, 0), 6);
	PERMIT(acl, FROM, pkt(DEV6, 8, "2001:db8::1", 0, 1, 0), 5);	/* "1" in a v6 list */
	talloc_free(acl);
}

static void test_cisco_first_match_and_implicit_deny(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#10=deny tcp any host 192.0.2.66\n"
		"ip:inacl#20=permit tcp any any\n"
		"ip:inacl#30=deny tcp any any eq 443\n");
	mud_eval_acl_t *acl2 = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit udp any host 192.0.2.1 eq 53\n");
	mud_packet_t p = pkt(DEV4, 1, "192.0.2.2", 80, 6, SYN);
	mud_prefix_t dev = addr(DEV4);
	mud_eval_result_t res;

	DENY(acl, FROM, pkt(DEV4, 1, "192.0.2.66", 443, 6, SYN), 1);
	/* line 3 is never reached */
	PERMIT(acl, FROM, pkt(DEV4, 1, "192.0.2.67", 443, 6, SYN), 2);
	IMPLICIT(acl, FROM, pkt(DEV4, 1, "192.0.2.67", 443, 17, 0));

	PERMIT(acl2, FROM, pkt(DEV4, 1, "192.0.2.1", 53, 17, 0), 1);
	assert_int_equal(mud_eval_packet(acl2, &p, FROM, &dev, &res, NULL), MUD_OK);
	assert_false(res.permit);
	assert_int_equal(res.reason, MUD_EVAL_DEFAULT);
	assert_string_equal(res.why, "implicit deny");
	assert_null(res.line);
	assert_int_equal(res.lineno, 0);
	talloc_free(acl);
	talloc_free(acl2);
}

/** Lists per family; inbound only; source any = the device; comments and bare ACEs. */
static void test_cisco_inbound_semantics(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"# dACL #ACSACL#-IP-mud-x-12345678\n"
		"ip:inacl#1=permit tcp any host 192.0.2.1 eq 443\n"
		"\n"
		"   # indented comment\n"
		"ip:inacl#2=deny ip any any\r\n"
		"ipv6:inacl#1=permit ipv6 any any\n");
	mud_eval_acl_t *v4only = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=deny ip any any\n");
	mud_eval_acl_t *bare = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"permit tcp any host 192.0.2.1 eq 80\n"
		"permit udp any 2001:db8::/32 eq 53\n"
		"remark anything goes here\n"
		"deny ip any any\n"
		"deny ipv6 any any\n");
	mud_packet_t p = pkt("192.0.2.1", 443, DEV4, 50000, 6, SYN);
	mud_prefix_t dev = addr(DEV4);
	mud_eval_result_t res;
	unsigned int lineno = 0;

	assert_int_equal(mud_eval_acl_count(acl), 3);
	assert_string_equal(mud_eval_acl_line(acl, 1, &lineno), "ip:inacl#2=deny ip any any");
	assert_int_equal(lineno, 5);
	assert_null(mud_eval_acl_line(acl, 3, &lineno));

	PERMIT(acl, FROM, pkt(DEV4, 1, "192.0.2.1", 443, 6, SYN), 2);
	DENY(acl, FROM, pkt(DEV4, 1, "192.0.2.1", 80, 6, SYN), 5);
	PERMIT(acl, FROM, pkt(DEV6, 1, "2001:db8::1", 80, 6, SYN), 6);	/* v6 list only */

	/* source "any" is the device: a spoofed source matches no line, not even the final deny */
	IMPLICIT(acl, FROM, pkt("10.0.0.3", 1, "192.0.2.1", 443, 6, SYN));

	/* to-device packets are never filtered by an inbound dACL */
	assert_int_equal(mud_eval_packet(acl, &p, TO, &dev, &res, NULL), MUD_OK);
	assert_true(res.permit);
	assert_int_equal(res.reason, MUD_EVAL_NOT_FILTERED);
	assert_string_equal(res.why, "not filtered: inbound dACL");
	check(v4only, TO, pkt("192.0.2.1", 443, DEV4, 50000, 6, SYN), true, MUD_EVAL_NOT_FILTERED,
	      0);

	/* a family without lines has no dACL */
	check(v4only, FROM, pkt(DEV6, 1, "2001:db8::1", 80, 6, SYN), true, MUD_EVAL_NO_ACL, 0);
	p = pkt(DEV6, 1, "2001:db8::1", 80, 6, SYN);
	dev = addr(DEV6);
	assert_int_equal(mud_eval_packet(v4only, &p, FROM, &dev, &res, NULL), MUD_OK);
	assert_string_equal(res.why, "not filtered: no IPv6 dACL");

	/* bare ACEs: family from the protocol keyword or an IPv6 address */
	PERMIT(bare, FROM, pkt(DEV4, 1, "192.0.2.1", 80, 6, SYN), 1);
	DENY(bare, FROM, pkt(DEV4, 1, "192.0.2.1", 53, 17, 0), 4);
	PERMIT(bare, FROM, pkt(DEV6, 1, "2001:db8::9", 53, 17, 0), 2);
	DENY(bare, FROM, pkt(DEV6, 1, "2001:db8::9", 80, 6, SYN), 5);
	talloc_free(acl);
	talloc_free(v4only);
	talloc_free(bare);
}

/*
 *	NAS-Filter-Rule
 */
static void test_nfr_basic(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit in 6 from assigned to 192.0.2.10 443,8443,9000-9010\n"
		"permit out 6 from 192.0.2.10 443 to assigned established\n"
		"permit in 17 from assigned 5683 to 10.1.1.0/24 5683\n"
		"permit in 1 from assigned to any icmptypes 8,13-14\n"
		"permit out 17 from 10.1.1.0/24 5683 to assigned 5683\n"
		"deny in ip from assigned to 0.0.0.0/0\n"
		"deny out ip from 0.0.0.0/0 to assigned\n");

	PERMIT(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 443, 6, SYN), 1);
	PERMIT(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 8443, 6, SYN), 1);
	PERMIT(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 9000, 6, SYN), 1);
	PERMIT(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 9010, 6, ACK), 1);
	DENY(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 9011, 6, SYN), 6);
	DENY(acl, FROM, pkt(DEV4, 50000, "192.0.2.10", 8999, 6, SYN), 6);
	DENY(acl, FROM, pkt(DEV4, 50000, "192.0.2.11", 443, 6, SYN), 6);
	/* "in" rules never decide "out" packets and vice versa */
	PERMIT(acl, TO, pkt("192.0.2.10", 443, DEV4, 50000, 6, SYNACK), 2);
	DENY(acl, TO, pkt("192.0.2.10", 443, DEV4, 50000, 6, SYN), 7);
	DENY(acl, TO, pkt("192.0.2.10", 444, DEV4, 50000, 6, ACK), 7);
	/* assigned is only the device's address: another destination escapes every "out" rule,
	 * and as the last one is a deny, RFC 6733 passes it */
	check(acl, TO, pkt("192.0.2.10", 443, "10.0.0.3", 50000, 6, ACK), true, MUD_EVAL_DEFAULT,
	      0);

	PERMIT(acl, FROM, pkt(DEV4, 5683, "10.1.1.255", 5683, 17, 0), 3);
	DENY(acl, FROM, pkt(DEV4, 5683, "10.1.2.0", 5683, 17, 0), 6);
	DENY(acl, FROM, pkt(DEV4, 5684, "10.1.1.1", 5683, 17, 0), 6);
	PERMIT(acl, TO, pkt("10.1.1.7", 5683, DEV4, 5683, 17, 0), 5);

	PERMIT(acl, FROM, pkt(DEV4, 8, "198.51.100.1", 0, 1, 0), 4);
	PERMIT(acl, FROM, pkt(DEV4, 13, "198.51.100.1", 0, 1, 0), 4);
	PERMIT(acl, FROM, pkt(DEV4, 14, "198.51.100.1", 0, 1, 0), 4);
	DENY(acl, FROM, pkt(DEV4, 15, "198.51.100.1", 0, 1, 0), 6);
	DENY(acl, FROM, pkt(DEV4, 0, "198.51.100.1", 0, 1, 0), 6);
	talloc_free(acl);
}

/** RFC 6733 4.3: when no rule matches, the opposite of the last rule of the direction. */
static void test_nfr_default(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit in 6 from assigned to 192.0.2.10 443\n"
		"deny in ip from assigned to 0.0.0.0/0\n"
		"deny out 17 from any to assigned\n"
		"permit out 6 from any to assigned 22\n");
	mud_eval_acl_t *in_only = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit in 6 from assigned to any 443\n");
	mud_packet_t p = pkt(DEV6, 1, "2001:db8::1", 443, 6, SYN);
	mud_prefix_t dev = addr(DEV6);
	mud_eval_result_t res;

	/* an IPv6 packet from the device: no "in" rule matches, the last is a deny: passed */
	assert_int_equal(mud_eval_packet(acl, &p, FROM, &dev, &res, NULL), MUD_OK);
	assert_true(res.permit);
	assert_int_equal(res.reason, MUD_EVAL_DEFAULT);
	assert_string_equal(res.why, "no rule matched: passed, because the last rule of this "
			    "direction is a deny (RFC 6733 4.3)");
	/* a spoofed source escapes "from assigned" too */
	check(acl, FROM, pkt("10.0.0.3", 1, "192.0.2.99", 443, 6, SYN), true, MUD_EVAL_DEFAULT, 0);

	/* "out": the last rule is a permit: dropped */
	IMPLICIT(acl, TO, pkt("192.0.2.1", 1, DEV4, 23, 6, SYN));
	DENY(acl, TO, pkt("192.0.2.1", 1, DEV4, 22, 17, 0), 3);
	PERMIT(acl, TO, pkt("192.0.2.1", 1, DEV4, 22, 6, SYN), 4);

	/* no "out" rule at all: not filtered */
	p = pkt("192.0.2.1", 1, DEV4, 23, 6, SYN);
	dev = addr(DEV4);
	assert_int_equal(mud_eval_packet(in_only, &p, TO, &dev, &res, NULL), MUD_OK);
	assert_true(res.permit);
	assert_int_equal(res.reason, MUD_EVAL_NO_ACL);
	assert_string_equal(res.why, "not filtered: no \"out\" rule");
	p = pkt(DEV4, 1, "192.0.2.1", 80, 6, SYN);
	assert_int_equal(mud_eval_packet(in_only, &p, FROM, &dev, &res, NULL), MUD_OK);
	assert_false(res.permit);
	assert_int_equal(res.reason, MUD_EVAL_DEFAULT);
	assert_string_equal(res.why, "no rule matched: implicit deny (the last rule of this "
			    "direction is a permit, RFC 6733 4.3)");
	talloc_free(acl);
	talloc_free(in_only);
}

static void test_nfr_addresses_and_options(void **state)
{
	mud_eval_acl_t *acl = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"deny in ip from assigned to !10.0.0.0/8\n"
		"permit in ip from assigned to any\n"
		"permit out 6 from any to assigned 22 setup\n"
		"permit out 6 from ! 192.0.2.0/24 to assigned 23\n"
		"permit out 58 from 2001:db8::/32 to assigned icmptypes 128-129\n"
		"permit out 6 from 10.1.1.7/24 to assigned 80\n"	/* host bits are masked */
		"deny out ip from any to assigned\n");

	DENY(acl, FROM, pkt(DEV4, 1, "192.0.2.1", 80, 6, SYN), 1);
	PERMIT(acl, FROM, pkt(DEV4, 1, "10.200.0.1", 80, 6, SYN), 2);
	/* "any" matches both families; an IPv4 prefix never matches IPv6 */
	DENY(acl, FROM, pkt(DEV6, 1, "2001:db8::1", 80, 6, SYN), 1);

	PERMIT(acl, TO, pkt("192.0.2.1", 40000, DEV4, 22, 6, SYN), 3);
	DENY(acl, TO, pkt("192.0.2.1", 40000, DEV4, 22, 6, SYNACK), 7);
	DENY(acl, TO, pkt("192.0.2.1", 40000, DEV4, 22, 6, ACK), 7);
	PERMIT(acl, TO, pkt("198.51.100.1", 40000, DEV4, 23, 6, SYN), 4);
	DENY(acl, TO, pkt("192.0.2.9", 40000, DEV4, 23, 6, SYN), 7);
	PERMIT(acl, TO, pkt("2001:db8::5", 129, DEV6, 0, 58, 0), 5);
	DENY(acl, TO, pkt("2001:db8::5", 130, DEV6, 0, 58, 0), 7);
	DENY(acl, TO, pkt("2001:db9::5", 128, DEV6, 0, 58, 0), 7);
	PERMIT(acl, TO, pkt("10.1.1.200", 40000, DEV4, 80, 6, SYN), 6);
	DENY(acl, TO, pkt("10.1.2.200", 40000, DEV4, 80, 6, SYN), 7);
	talloc_free(acl);
}

/*
 *	Flows
 */
static void test_flow_parse(void **state)
{
	mud_flow_t f;
	mud_error_t err;
	static struct {
		char const	*in;
		char const	*text;
	} const bad[] = {
		{ "tcp device 192.0.2.1:80", "\"tcp device 192.0.2.1:80\": expected PROTO A->B" },
		{ "tcp device->device:80",
		  "\"tcp device->device:80\": exactly one side must be \"device\"" },
		{ "tcp 192.0.2.2->192.0.2.1:80",
		  "\"tcp 192.0.2.2->192.0.2.1:80\": exactly one side must be \"device\"" },
		{ "tcp device->192.0.2.1",
		  "\"tcp device->192.0.2.1\": the responder's port is required" },
		{ "icmp device->192.0.2.1:80",
		  "\"icmp device->192.0.2.1:80\": ports need tcp or udp" },
		{ "sctp device->192.0.2.1:80",
		  "unknown protocol \"sctp\" (tcp, udp, icmp or a number)" },
		{ "256 device->192.0.2.1",
		  "unknown protocol \"256\" (tcp, udp, icmp or a number)" },
		{ "tcp device->192.0.2.1:80 type 3", "\"type\" needs icmp" },
		{ "icmp device->192.0.2.1 type", "\"type\" needs a number 0..255" },
		{ "icmp device->192.0.2.1 type 256", "\"type\" needs a number 0..255" },
		{ "icmp device->192.0.2.1 type 3 type 4", "repeated \"type\"" },
		{ "icmp device->192.0.2.1 flags 3",
		  "unexpected \"flags\" (expected type T [code C])" },
		{ "tcp device->192.0.2.300:80",
		  "\"192.0.2.300:80\": not \"device\" or an IP address" },
		{ "tcp device->192.0.2.1:65536", "\"192.0.2.1:65536\": bad port" },
		{ "tcp device->[2001:db8::1:80", "\"[2001:db8::1:80\": missing ]" },
		{ "tcp device->[2001:db8::1]80", "\"[2001:db8::1]80\": expected :port after ]" },
		{ "tcp device->", "\"tcp device->\": nothing after ->" },
		{ "tcp\tdevice->\x01", "\"tcp\\x09device->\\x01\": control or non-ASCII byte" },
	};
	size_t i;

	(void)state;
	mud_error_clear(&err);
	assert_int_equal(mud_flow_parse(&f, "tcp device->192.0.2.10:443", &err), MUD_OK);
	assert_int_equal(f.family, 4);
	assert_int_equal(f.protocol, 6);
	assert_true(f.device_initiates);
	assert_int_equal(f.device_port, 49152);
	assert_int_equal(f.peer_port, 443);
	assert_memory_equal(f.peer, "\xc0\x00\x02\x0a", 4);

	assert_int_equal(mud_flow_parse(&f, "udp [2001:db8::1]:5683 -> device:5684", &err), MUD_OK);
	assert_int_equal(f.family, 6);
	assert_int_equal(f.protocol, 17);
	assert_false(f.device_initiates);
	assert_int_equal(f.device_port, 5684);
	assert_int_equal(f.peer_port, 5683);

	assert_int_equal(mud_flow_parse(&f, "icmp device->2001:db8::1 type 1 code 4", &err),
			 MUD_OK);
	assert_int_equal(f.protocol, 58);
	assert_int_equal(f.icmp_type, 1);
	assert_int_equal(f.icmp_code, 4);
	assert_int_equal(mud_flow_parse(&f, "icmp 192.0.2.1->device", &err), MUD_OK);
	assert_int_equal(f.protocol, 1);
	assert_int_equal(f.icmp_type, 8);
	assert_int_equal(f.icmp_code, 0);
	assert_int_equal(mud_flow_parse(&f, "47 device->192.0.2.1", &err), MUD_OK);
	assert_int_equal(f.protocol, 47);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mud_error_clear(&err);
		assert_int_equal(mud_flow_parse(&f, bad[i].in, &err), MUD_ERR_ARG);
		if (strcmp(err.text, bad[i].text)) fprintf(stderr, "%s -> %s\n", bad[i].in,
			   err.text);
		assert_string_equal(err.where, "flow");
		assert_string_equal(err.text, bad[i].text);
	}
}

/** Device-initiated TCP to a permitted peer: every packet and the line deciding it. */
static void test_flow_tcp_device_initiated(void **state)
{
	mud_eval_acl_t *cisco = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit tcp any host 192.0.2.10 eq 443\n"
		"ip:inacl#2=deny ip any any\n");
	mud_eval_acl_t *nfr = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit in 6 from assigned to 192.0.2.10 443\n"
		"permit out 6 from 192.0.2.10 443 to assigned established\n"
		"deny in ip from assigned to 0.0.0.0/0\n"
		"deny out ip from 0.0.0.0/0 to assigned\n");
	mud_flow_result_t fr;

	assert_true(flow(cisco, "tcp device->192.0.2.10:443", &fr));
	assert_int_equal(fr.num_steps, 4);
	assert_string_equal(fr.steps[0].what, "SYN");
	assert_int_equal(fr.steps[0].dir, FROM);
	assert_int_equal(fr.steps[0].pkt.tcp_flags, SYN);
	assert_int_equal(fr.steps[0].pkt.src_port, 49152);
	assert_int_equal(fr.steps[0].pkt.dst_port, 443);
	assert_int_equal(fr.steps[0].res.lineno, 1);
	assert_string_equal(fr.steps[1].what, "SYN-ACK");
	assert_int_equal(fr.steps[1].dir, TO);
	assert_int_equal(fr.steps[1].pkt.tcp_flags, SYNACK);
	assert_int_equal(fr.steps[1].pkt.src_port, 443);
	assert_int_equal(fr.steps[1].res.reason, MUD_EVAL_NOT_FILTERED);
	assert_int_equal(fr.steps[2].dir, FROM);
	assert_int_equal(fr.steps[2].pkt.tcp_flags, ACK);
	assert_int_equal(fr.steps[2].res.lineno, 1);
	assert_int_equal(fr.steps[3].dir, TO);
	assert_int_equal(fr.steps[3].res.reason, MUD_EVAL_NOT_FILTERED);
	assert_false(flow(cisco, "tcp device->192.0.2.11:443", &fr));
	assert_int_equal(fr.steps[0].res.lineno, 2);
	assert_false(flow(cisco, "tcp device->192.0.2.10:80", &fr));

	assert_true(flow(nfr, "tcp device->192.0.2.10:443", &fr));
	assert_int_equal(fr.steps[0].res.lineno, 1);
	assert_int_equal(fr.steps[1].res.lineno, 2);
	assert_int_equal(fr.steps[2].res.lineno, 1);
	assert_int_equal(fr.steps[3].res.lineno, 2);
	/* the peer may not open: its SYN has no ACK */
	assert_false(flow(nfr, "tcp 192.0.2.10:443->device:5000", &fr));
	assert_false(fr.steps[0].res.permit);
	assert_int_equal(fr.steps[0].res.lineno, 4);
	assert_true(fr.steps[1].res.permit);
	assert_true(fr.steps[2].res.permit);
	assert_true(fr.steps[3].res.permit);
	/* Cisco cannot stop it: the peer's SYN is not filtered and the device's replies match */
	assert_true(flow(cisco, "tcp 192.0.2.10:443->device:5000", &fr));
	talloc_free(cisco);
	talloc_free(nfr);
}

/** `established` on the device's line: the peer may open, the device may not (and the converse). */
static void test_flow_tcp_established(void **state)
{
	mud_eval_acl_t *cisco = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit tcp any eq 8080 host 192.0.2.10 established\n"
		"ip:inacl#2=deny ip any any\n");
	mud_eval_acl_t *nfr = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit out 6 from 192.0.2.10 to assigned 8080\n"
		"permit in 6 from assigned 8080 to 192.0.2.10 established\n"
		"deny in ip from assigned to 0.0.0.0/0\n"
		"deny out ip from 0.0.0.0/0 to assigned\n");
	mud_flow_result_t fr;

	assert_true(flow(cisco, "tcp 192.0.2.10->device:8080", &fr));
	assert_int_equal(fr.steps[0].res.reason, MUD_EVAL_NOT_FILTERED);
	assert_int_equal(fr.steps[1].dir, FROM);
	assert_int_equal(fr.steps[1].res.lineno, 1);
	assert_int_equal(fr.steps[3].res.lineno, 1);
	assert_false(flow(cisco, "tcp device:8080->192.0.2.10:80", &fr));
	assert_false(fr.steps[0].res.permit);
	assert_int_equal(fr.steps[0].res.lineno, 2);
	assert_true(fr.steps[2].res.permit);	/* a later ACK would pass, the SYN does not */
	assert_false(flow(cisco, "tcp 192.0.2.10->device:8081", &fr));

	assert_true(flow(nfr, "tcp 192.0.2.10->device:8080", &fr));
	assert_int_equal(fr.steps[0].res.lineno, 1);
	assert_int_equal(fr.steps[1].res.lineno, 2);
	assert_false(flow(nfr, "tcp device:8080->192.0.2.10:80", &fr));
	assert_int_equal(fr.steps[0].res.lineno, 3);
	assert_false(flow(nfr, "tcp 192.0.2.11->device:8080", &fr));
	talloc_free(cisco);
	talloc_free(nfr);
}

static void test_flow_udp_icmp_other(void **state)
{
	mud_eval_acl_t *cisco = parse_ok(*state, MUD_FMT_CISCO_DACL,
		"ip:inacl#1=permit udp any host 10.0.0.5 eq 5683\n"
		"ip:inacl#2=permit 47 any any\n"
		"ip:inacl#3=deny ip any any\n"
		"ipv6:inacl#1=permit icmp any any 128\n"
		"ipv6:inacl#2=deny ipv6 any any\n");
	mud_eval_acl_t *nfr = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE,
		"permit in 17 from assigned to 10.0.0.5 5683\n"
		"permit out 17 from 10.0.0.5 5683 to assigned\n"
		"permit in 58 from assigned to any icmptypes 128\n"
		"permit out 58 from any to assigned icmptypes 129\n"
		"deny in ip from assigned to any\n"
		"deny out ip from any to assigned\n");
	mud_flow_result_t fr;

	assert_true(flow(cisco, "udp device->10.0.0.5:5683", &fr));
	assert_int_equal(fr.num_steps, 2);
	assert_string_equal(fr.steps[0].what, "request");
	assert_string_equal(fr.steps[1].what, "reply");
	assert_int_equal(fr.steps[1].pkt.src_port, 5683);
	assert_int_equal(fr.steps[1].pkt.dst_port, 49152);
	assert_true(flow(cisco, "udp 10.0.0.5:5683->device:1234",
		    &fr));        /* reply to port 5683 */
	assert_false(flow(cisco, "udp 10.0.0.5:5684->device:5683", &fr));
	assert_true(flow(nfr, "udp device->10.0.0.5:5683", &fr));
	assert_int_equal(fr.steps[1].res.lineno, 2);
	assert_false(flow(nfr, "udp device->10.0.0.5:5684", &fr));

	assert_true(flow(cisco, "icmp device->2001:db8::1 type 128", &fr));
	assert_int_equal(fr.num_steps, 2);
	assert_int_equal(fr.steps[1].pkt.icmp_type, 129);
	assert_true(flow(nfr, "icmp device->2001:db8::1", &fr));
	assert_false(flow(nfr, "icmp 2001:db8::1->device", &fr));
	assert_false(flow(nfr, "icmp device->2001:db8::1 type 1", &fr));
	assert_int_equal(fr.num_steps, 1);
	assert_string_equal(fr.steps[0].what, "message");

	assert_true(flow(cisco, "47 device->10.9.9.9", &fr));
	assert_int_equal(fr.num_steps, 1);
	assert_false(flow(nfr, "47 device->10.9.9.9", &fr));
	talloc_free(cisco);
	talloc_free(nfr);
}

/*
 *	Errors and limits
 */
static void test_cisco_errors(void **state)
{
	static struct {
		char const	*in;
		mud_rcode_t	code;
		char const	*text;
	} const cases[] = {
		{ "ip:inacl#1=allow ip any any",
		  MUD_ERR_SCHEMA, "expected permit or deny, got \"allow\"" },
		{ "ip:inacl#1=dynamic x", MUD_ERR_UNSUPPORTED, "not modelled: \"dynamic\"" },
		{ "ip:inacl#1=", MUD_ERR_SCHEMA, "line ends where permit or deny is expected" },
		{ "ip:inacl#1=permit", MUD_ERR_SCHEMA, "line ends where a protocol is expected" },
		{ "ip:inacl#1=permit foo any any", MUD_ERR_SCHEMA, "unknown protocol \"foo\"" },
		{ "ip:inacl#1=permit 256 any any", MUD_ERR_SCHEMA, "unknown protocol \"256\"" },
		{ "ip:inacl#1=permit gre any any",
		  MUD_ERR_UNSUPPORTED, "protocol not modelled: \"gre\"" },
		{ "ip:inacl#1=permit ipv6 any any",
		  MUD_ERR_SCHEMA, "not an IPv4 ACL protocol: \"ipv6\"" },
		{ "ipv6:inacl#1=permit ip any any",
		  MUD_ERR_SCHEMA, "not an IPv6 ACL protocol: \"ip\"" },
		{ "ip:inacl#1=permit tcp",
		  MUD_ERR_SCHEMA, "line ends where the source address is expected" },
		{ "ip:inacl#1=permit tcp any", MUD_ERR_SCHEMA,
		  "line ends where the destination address is expected" },
		{ "ip:inacl#1=permit tcp any host",
		  MUD_ERR_SCHEMA, "line ends where the host address is expected" },
		{ "ip:inacl#1=permit tcp any host 300.1.1.1", MUD_ERR_SCHEMA,
		  "not an IPv4 host address: \"300.1.1.1\"" },
		{ "ipv6:inacl#1=permit tcp any host 10.0.0.1", MUD_ERR_SCHEMA,
		  "not an IPv6 host address: \"10.0.0.1\"" },
		{ "ip:inacl#1=permit tcp any 10.0.0.0", MUD_ERR_SCHEMA,
		  "line ends where a wildcard mask is expected" },
		{ "ip:inacl#1=permit tcp any 10.0.0.0 255.255.255.256", MUD_ERR_SCHEMA,
		  "bad wildcard mask \"255.255.255.256\"" },
		{ "ip:inacl#1=permit tcp any 10.0.0.0/8",
		  MUD_ERR_SCHEMA, "bad destination address \"10.0.0.0/8\"" },
		{ "ip:inacl#1=permit tcp foo any", MUD_ERR_SCHEMA, "bad source address \"foo\"" },
		{ "ipv6:inacl#1=permit tcp any 2001:db8::", MUD_ERR_SCHEMA,
		  "bad destination (expected any, host X or X::/len) \"2001:db8::\"" },
		{ "ipv6:inacl#1=permit tcp any 2001:db8::/129", MUD_ERR_SCHEMA,
		  "bad destination prefix \"2001:db8::/129\"" },
		{ "ip:inacl#1=permit tcp any any eq www",
		  MUD_ERR_UNSUPPORTED, "port names are not modelled: \"www\"" },
		{ "ip:inacl#1=permit tcp any any eq 65536", MUD_ERR_SCHEMA, "bad port \"65536\"" },
		{ "ip:inacl#1=permit tcp any any eq -1", MUD_ERR_SCHEMA, "bad port \"-1\"" },
		{ "ip:inacl#1=permit tcp any any eq",
		  MUD_ERR_SCHEMA, "line ends where a port is expected" },
		{ "ip:inacl#1=permit tcp any any range 10", MUD_ERR_SCHEMA,
		  "line ends where the end of the port range is expected" },
		{ "ip:inacl#1=permit tcp any any range 10 5",
		  MUD_ERR_SCHEMA, "empty port range ending in \"5\"" },
		{ "ip:inacl#1=permit udp any any established",
		  MUD_ERR_SCHEMA, "only tcp may be \"established\"" },
		{ "ip:inacl#1=permit ip any any eq 80",
		  MUD_ERR_SCHEMA, "port match needs tcp or udp: \"eq\"" },
		{ "ip:inacl#1=permit icmp any eq 80 any",
		  MUD_ERR_SCHEMA, "port match needs tcp or udp: \"eq\"" },
		{ "ip:inacl#1=permit tcp any any log",
		  MUD_ERR_UNSUPPORTED, "option not modelled: \"log\"" },
		{ "ip:inacl#1=permit tcp any any established log", MUD_ERR_UNSUPPORTED,
		  "option not modelled: \"log\"" },
		{ "ip:inacl#1=permit tcp any any established x",
		  MUD_ERR_SCHEMA, "unexpected \"x\"" },
		{ "ip:inacl#1=permit icmp any any echo", MUD_ERR_UNSUPPORTED,
		  "ICMP message names are not modelled: \"echo\"" },
		{ "ip:inacl#1=permit tcp any any 8",
		  MUD_ERR_SCHEMA, "an ICMP type needs protocol icmp: \"8\"" },
		{ "ip:inacl#1=permit icmp any any 256", MUD_ERR_SCHEMA, "unexpected \"256\"" },
		{ "ip:inacl#1=permit icmp any any 3 4 5", MUD_ERR_SCHEMA, "unexpected \"5\"" },
		{ "ip:outacl#1=permit ip any any", MUD_ERR_UNSUPPORTED,
		  "outbound ACLs are not modelled: \"ip:outacl#1\"" },
		{ "ip:inacl#0=permit ip any any", MUD_ERR_SCHEMA,
		  "expected ip:inacl#N= or ipv6:inacl#N= (N >= 1), got \"ip:inacl#0\"" },
		{ "ip:inacl#=permit ip any any", MUD_ERR_SCHEMA,
		  "expected ip:inacl#N= or ipv6:inacl#N= (N >= 1), got \"ip:inacl#\"" },
		{ "ip:inacl#x=permit ip any any", MUD_ERR_SCHEMA,
		  "expected ip:inacl#N= or ipv6:inacl#N= (N >= 1), got \"ip:inacl#x\"" },
		{ "foo:inacl#1=permit ip any any",
		  MUD_ERR_SCHEMA, "not a dACL attribute: \"foo:inacl#1\"" },
		{ "ip:inacl#1=permit\x01 ip any any",
		  MUD_ERR_SCHEMA, "invalid byte \"\\x01\" at column 18" },
		{ "ip:inacl#1=permit ip any any \xc3\xa9",
		  MUD_ERR_SCHEMA, "invalid byte \"\\xc3\" at column 30" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = talloc_asprintf(NULL, "# comment\n%s\n", cases[i].in);

		parse_fails(*state, MUD_FMT_CISCO_DACL, text, cases[i].code, "line 2",
			    cases[i].text);
		talloc_free(text);
	}
	parse_fails(*state, MUD_FMT_CISCO_DACL,
		    "ip:inacl#2=permit ip any any\nipv6:inacl#1=deny ipv6 any any\n"
		    "ip:inacl#2=deny ip any any\n",
		    MUD_ERR_SCHEMA, "line 3", "ip:inacl#2 follows #2: numbers must increase");
	parse_fails(*state, MUD_FMT_CISCO_DACL,
		    "ipv6:inacl#5=permit ipv6 any any\nipv6:inacl#4=deny ipv6 any any\n",
		    MUD_ERR_SCHEMA, "line 2", "ipv6:inacl#4 follows #5: numbers must increase");
}

static void test_nfr_errors(void **state)
{
	static struct {
		char const	*in;
		mud_rcode_t	code;
		char const	*text;
	} const cases[] = {
		{ "allow in ip from any to any",
		  MUD_ERR_SCHEMA, "expected permit or deny, got \"allow\"" },
		{ "permit through 6 from any to any",
		  MUD_ERR_SCHEMA, "expected in or out, got \"through\"" },
		{ "permit", MUD_ERR_SCHEMA, "line ends where in or out is expected" },
		{ "permit in", MUD_ERR_SCHEMA, "line ends where a protocol is expected" },
		{ "permit in tcp from any to any", MUD_ERR_UNSUPPORTED,
		  "protocol names are not modelled (use the number): \"tcp\"" },
		{ "permit in 256 from any to any", MUD_ERR_SCHEMA, "bad protocol \"256\"" },
		{ "permit in 6 any to any", MUD_ERR_SCHEMA, "expected \"from\", got \"any\"" },
		{ "permit in 6", MUD_ERR_SCHEMA, "line ends where \"from\" is expected" },
		{ "permit in 6 from",
		  MUD_ERR_SCHEMA, "line ends where the source address is expected" },
		{ "permit in 6 from any 80", MUD_ERR_SCHEMA, "line ends where \"to\" is expected" },
		{ "permit in 6 from any 80 any", MUD_ERR_SCHEMA, "expected \"to\", got \"any\"" },
		{ "permit in 6 from any to",
		  MUD_ERR_SCHEMA, "line ends where the destination address is expected" },
		{ "permit in 6 from foo to any", MUD_ERR_SCHEMA, "bad source address \"foo\"" },
		{ "permit in 6 from any to 10.0.0.300",
		  MUD_ERR_SCHEMA, "bad destination address \"10.0.0.300\"" },
		{ "permit in 6 from 10.0.0.0/33 to any",
		  MUD_ERR_SCHEMA, "bad prefix length in \"10.0.0.0/33\"" },
		{ "permit in 6 from ::/129 to any",
		  MUD_ERR_SCHEMA, "bad prefix length in \"::/129\"" },
		{ "permit in 6 from ! to any", MUD_ERR_SCHEMA, "bad source address \"to\"" },
		{ "permit in 6 from !",
		  MUD_ERR_SCHEMA, "line ends where an address after \"!\" is expected" },
		{ "permit in 6 from any 80-70 to any", MUD_ERR_SCHEMA, "bad port list \"80-70\"" },
		{ "permit in 6 from any to any 80,", MUD_ERR_SCHEMA, "bad port list \"80,\"" },
		{ "permit in 6 from any to any 80,,81",
		  MUD_ERR_SCHEMA, "bad port list \"80,,81\"" },
		{ "permit in 6 from any to any 1-2-3", MUD_ERR_SCHEMA, "bad port list \"1-2-3\"" },
		{ "permit in 6 from any to any 65536", MUD_ERR_SCHEMA, "bad port list \"65536\"" },
		{ "permit in 6 from any to any 80,http",
		  MUD_ERR_UNSUPPORTED, "names are not modelled: \"80,http\"" },
		{ "permit in 1 from any 80 to any",
		  MUD_ERR_SCHEMA, "ports need protocol 6 or 17: \"80\"" },
		{ "permit in ip from any to any 80",
		  MUD_ERR_SCHEMA, "ports need protocol 6 or 17: \"80\"" },
		{ "permit in 17 from any to any established", MUD_ERR_SCHEMA,
		  "only protocol 6 may be \"established\"" },
		{ "permit in 6 from any to any established setup",
		  MUD_ERR_SCHEMA, "repeated TCP option \"setup\"" },
		{ "permit in 6 from any to any icmptypes 8", MUD_ERR_SCHEMA,
		  "only protocol 1 or 58 may have \"icmptypes\"" },
		{ "permit in 1 from any to any icmptypes", MUD_ERR_SCHEMA,
		  "line ends where a list of ICMP types is expected" },
		{ "permit in 1 from any to any icmptypes 256",
		  MUD_ERR_SCHEMA, "bad ICMP type list \"256\"" },
		{ "permit in 1 from any to any icmptypes echo", MUD_ERR_UNSUPPORTED,
		  "names are not modelled: \"echo\"" },
		{ "permit in 1 from any to any icmptypes 8 icmptypes 0", MUD_ERR_SCHEMA,
		  "repeated option \"icmptypes\"" },
		{ "permit in 6 from any to any frag",
		  MUD_ERR_UNSUPPORTED, "option not modelled: \"frag\"" },
		{ "permit in 6 from any to any tcpflags syn",
		  MUD_ERR_UNSUPPORTED, "option not modelled: \"tcpflags\"" },
		{ "permit in 1 from any to any icmptypes 8 80", MUD_ERR_SCHEMA,
		  "unexpected (ports need protocol 6 or 17) \"80\"" },
		{ "permit in 6 from any to any bogus", MUD_ERR_SCHEMA, "unexpected \"bogus\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = talloc_asprintf(NULL, "permit in ip from assigned to any\n\n%s",
					     cases[i].in);

		parse_fails(*state, MUD_FMT_NAS_FILTER_RULE, text, cases[i].code, "line 3",
			    cases[i].text);
		talloc_free(text);
	}
}

static void test_limits(void **state)
{
	char line[300];
	char *text;
	mud_eval_acl_t *acl;
	mud_error_t err;
	size_t i;

	/* 253 bytes is fine, 254 is not */
	memset(line, 0, sizeof(line));
	memcpy(line, "ip:inacl#1=permit ip any any", 28);
	memset(line + 28, ' ', 253 - 28);
	acl = parse_ok(*state, MUD_FMT_CISCO_DACL, line);
	talloc_free(acl);
	line[253] = ' ';
	parse_fails(*state, MUD_FMT_CISCO_DACL, line, MUD_ERR_LIMIT, "line 1",
		    "line is 254 bytes, more than 253");
	line[253] = '\0';
	text = talloc_asprintf(NULL, "%s\r\n", line);	/* the CR is not part of the value */
	acl = parse_ok(*state, MUD_FMT_CISCO_DACL, text);
	talloc_free(acl);
	talloc_free(text);

	/* 1000 lines fine (comments do not count), 1001 not */
	text = talloc_strdup(NULL, "# header\n");
	for (i = 0; i < MUD_MAX_ATTRS; i++) {
		text = talloc_asprintf_append(text, "permit in 6 from assigned to any %zu\n", i);
	}
	acl = parse_ok(*state, MUD_FMT_NAS_FILTER_RULE, text);
	assert_int_equal(mud_eval_acl_count(acl), MUD_MAX_ATTRS);
	talloc_free(acl);
	text = talloc_asprintf_append(text, "deny in ip from assigned to any\n");
	parse_fails(*state, MUD_FMT_NAS_FILTER_RULE, text, MUD_ERR_LIMIT, "line 1002",
		    "more than 1000 ACL lines");
	talloc_free(text);

	/* many tokens: the length bound comes first */
	text = talloc_strdup(NULL, "permit in 6 from any to any");
	for (i = 0; i < 120; i++) text = talloc_strdup_append(text, " x");
	parse_fails(*state, MUD_FMT_NAS_FILTER_RULE, text, MUD_ERR_LIMIT, "line 1",
		    "line is 267 bytes, more than 253");
	talloc_free(text);

	/* empty input: no lines, nothing filtered */
	mud_error_clear(&err);
	assert_int_equal(mud_eval_acl_parse(*state, &acl, MUD_FMT_CISCO_DACL, "", 0, &err), MUD_OK);
	assert_int_equal(mud_eval_acl_count(acl), 0);
	check(acl, FROM, pkt(DEV4, 1, "192.0.2.1", 2, 6, SYN), true, MUD_EVAL_NO_ACL, 0);
	talloc_free(acl);
	assert_int_equal(mud_eval_acl_parse(*state, &acl, MUD_FMT_NAS_FILTER_RULE, "# x\n\n", 5,
			 &err), MUD_OK);
	check(acl, TO, pkt("192.0.2.1", 1, DEV4, 2, 6, SYN), true, MUD_EVAL_NO_ACL, 0);
	talloc_free(acl);
	assert_no_leak(*state);
}

static void test_arguments(void **state)
{
	mud_eval_acl_t *acl = (mud_eval_acl_t *)*state;
	mud_eval_acl_t *good = parse_ok(*state, MUD_FMT_CISCO_DACL,
					"ip:inacl#1=permit ip any any\n");
	char const *lines[] = { "permit in 6 from assigned to any", NULL };
	mud_packet_t p = pkt(DEV4, 1, "192.0.2.1", 2, 6, SYN);
	mud_prefix_t dev6 = addr(DEV6);
	mud_prefix_t dev4 = addr(DEV4);
	mud_eval_result_t res;
	mud_flow_result_t fr;
	mud_flow_t f;
	mud_error_t err;

	mud_error_clear(&err);
	assert_int_equal(mud_eval_acl_parse(*state, &acl, MUD_FMT_JSON, "x", 1, &err), MUD_ERR_ARG);
	assert_null(acl);
	assert_string_equal(err.where, "format");
	assert_string_equal(err.text, "format 2 cannot be evaluated");
	assert_int_equal(mud_eval_acl_parse(*state, NULL, MUD_FMT_CISCO_DACL, "x", 1, NULL),
			 MUD_ERR_ARG);
	assert_int_equal(mud_eval_acl_parse(*state, &acl, MUD_FMT_CISCO_DACL, NULL, 1, NULL),
			 MUD_ERR_ARG);

	mud_error_clear(&err);
	assert_int_equal(mud_eval_acl_from_lines(*state, &acl, MUD_FMT_NAS_FILTER_RULE, lines, 2,
			 &err),
			 MUD_ERR_ARG);
	assert_string_equal(err.text, "line 2 is NULL");
	assert_null(acl);
	assert_int_equal(mud_eval_acl_from_lines(*state, &acl, MUD_FMT_NAS_FILTER_RULE, lines, 1,
			 NULL),
			 MUD_OK);
	assert_string_equal(mud_eval_acl_line(acl, 0, NULL), lines[0]);
	talloc_free(acl);
	assert_int_equal(mud_eval_acl_from_rendered(*state, &acl, NULL, NULL), MUD_ERR_ARG);

	mud_error_clear(&err);
	assert_int_equal(mud_eval_packet(good, &p, FROM, &dev6, &res, &err), MUD_ERR_ARG);
	assert_string_equal(err.where, "device");
	assert_string_equal(err.text, "device address is IPv6, packet IPv4");
	assert_int_equal(mud_eval_packet(NULL, &p, FROM, &dev4, &res, NULL), MUD_ERR_ARG);
	p.family = 5;
	assert_int_equal(mud_eval_packet(good, &p, FROM, &dev4, &res, NULL), MUD_ERR_ARG);
	p.family = 4;
	p.protocol = 256;
	assert_int_equal(mud_eval_packet(good, &p, FROM, &dev4, &res, NULL), MUD_ERR_ARG);
	p.protocol = 6;
	assert_int_equal(mud_eval_packet(good, &p, (mud_dir_t)7, &dev4, &res, NULL), MUD_ERR_ARG);

	assert_int_equal(mud_flow_parse(&f, "tcp device->192.0.2.1:80", NULL), MUD_OK);
	mud_error_clear(&err);
	assert_int_equal(mud_eval_flow(good, &f, &dev6, &fr, &err), MUD_ERR_ARG);
	assert_string_equal(err.text, "device address is IPv6, flow IPv4");
	f.protocol = 1;
	f.icmp_type = 300;
	assert_int_equal(mud_eval_flow(good, &f, &dev4, &fr, NULL), MUD_ERR_ARG);

	assert_int_equal(mud_eval_detect("# c\n\npermit in 6 from any to any\n", 33),
			 MUD_FMT_NAS_FILTER_RULE);
	assert_int_equal(mud_eval_detect("deny out ip from any to assigned", 32),
			 MUD_FMT_NAS_FILTER_RULE);
	assert_int_equal(mud_eval_detect("ip:inacl#1=permit ip any any", 28), MUD_FMT_CISCO_DACL);
	assert_int_equal(mud_eval_detect("permit ip any any", 17), MUD_FMT_CISCO_DACL);
	assert_int_equal(mud_eval_detect("# only\n", 7), -1);
	assert_int_equal(mud_eval_detect(NULL, 0), -1);
	assert_int_equal(mud_eval_acl_count(NULL), 0);
	talloc_free(good);
}

/*
 *	Cross-check: the real pipeline (parse -> compile -> render), evaluated here
 */
typedef struct {
	char const	*flow;
	bool		cisco;		//!< expected verdict with cisco-dacl
	bool		nfr;		//!< expected verdict with nas-filter-rule
} xflow_t;

/** Compile json with the context, render both formats, evaluate each flow on the text. */
static void cross_check_json(void *ctx, char const *name, char const *json, size_t len,
			     char const *context, xflow_t const *flows, size_t n)
{
	mud_file_t *file;
	mud_context_t *site;
	mud_ruleset_t *rs;
	mud_error_t err;
	int f;

	mud_error_clear(&err);
	assert_int_equal(mud_context_parse(ctx, &site, context, strlen(context), &err), MUD_OK);
	if (mud_file_parse(ctx, &file, json, len, NULL, MUD_PARSE_STRICT, &err) != MUD_OK) {
		fprintf(stderr, "%s: %s: %s\n", name, err.where, err.text);
		fail();
	}
	assert_int_equal(mud_ruleset_compile(ctx, &rs, file, site, NULL, NULL, &err), MUD_OK);

	for (f = MUD_FMT_CISCO_DACL; f <= MUD_FMT_NAS_FILTER_RULE; f++) {
		mud_rendered_t *r;
		mud_eval_acl_t *acl;
		size_t i;

		assert_int_equal(mud_ruleset_render(ctx, &r, rs, (mud_format_t)f, &err), MUD_OK);
		if (mud_eval_acl_from_rendered(ctx, &acl, r, &err) != MUD_OK) {
			fprintf(stderr, "%s (%s): rendered text does not parse: %s: %s\n", name,
				mud_format_name((mud_format_t)f), err.where, err.text);
			fail();
		}
		for (i = 0; i < n; i++) {
			mud_flow_result_t fr;
			bool want = f == MUD_FMT_CISCO_DACL ? flows[i].cisco : flows[i].nfr;

			if (flow(acl, flows[i].flow, &fr) != want) {
				fprintf(stderr, "%s (%s): %s: expected %s\n", name,
					mud_format_name((mud_format_t)f), flows[i].flow,
					want ? "permit" : "deny");
				fail();
			}
		}
		talloc_free(acl);
		talloc_free(r);
	}
	talloc_free(rs);
	talloc_free(file);
	talloc_free(site);
}

/** The same for a file of the shared corpus. */
static void cross_check(void *ctx, char const *mudfile, char const *context, xflow_t const *flows,
			size_t n)
{
	char *path = test_shared_path(ctx, mudfile);
	size_t len = 0;
	char *json = test_read_file(ctx, path, &len);

	assert_non_null(json);
	cross_check_json(ctx, mudfile, json, len, context, flows, n);
	talloc_free(json);
	talloc_free(path);
}

static void test_cross_lightbulb(void **state)
{
	static xflow_t const flows[] = {
		{ "tcp device->[2001:db8::a]:443", true, true },
		{ "tcp device:1234->[2001:db8::a]:443", true, true },
		{ "tcp device->[2001:db8::b]:443", false, false },
		{ "tcp device->[2001:db8::a]:80", false, false },
		{ "udp device->[2001:db8::a]:443", false, false },
		{ "icmp device->2001:db8::a", false, false },
		{ "tcp device->192.0.2.10:443", false, false },	/* the ACLs are IPv6 only */
		/* direction-initiated from-device: the peer may not open (only NFR enforces it) */
		{ "tcp [2001:db8::a]:443->device:5000", true, false },
		{ "tcp [2001:db8::a]:444->device:5000", false, false },
	};

	cross_check(*state, "mudfiles/rfc8520/lightbulb2000.json",
		    "{\"dns\": {\"resolve\": false, \"static\": "
		    "{\"test.example.com\": [\"192.0.2.10\", \"2001:db8::a\"]}}}",
		    flows, sizeof(flows) / sizeof(flows[0]));
}

static void test_cross_tcpudp(void **state)
{
	static xflow_t const flows[] = {
		{ "tcp device:50->10.1.1.20:50", true, true },
		{ "tcp 10.1.1.20:50->device:50", true, true },
		{ "tcp device:51->10.1.1.20:50", false, false },
		{ "tcp device:50->10.1.1.21:50", false, false },
		{ "udp device:50->10.1.1.20:50", false, false },
		{ "udp device:90->10.1.2.7:90", true, true },
		{ "udp 10.1.2.7:90->device:90", true, true },
		{ "udp device:90->10.1.3.7:90", false, false },
		{ "udp device:90->10.1.2.7:91", false, false },
		{ "tcp device:50->[2001:db8::20]:50", false, false },
	};

	cross_check(*state, "mudfiles/mud-visualizer/tester_tcpudp.json",
		    "{\"manufacturers\": {\"www.philips.com\": {\"networks\": [\"10.1.2.0/24\"]}}, "
		    "\"my-controllers\": {\"https://www.tv.com/stevey\": [\"10.1.1.20\"]}}",
		    flows, sizeof(flows) / sizeof(flows[0]));
}

static void test_cross_local_networks(void **state)
{
	static xflow_t const flows[] = {
		/* from-device: device port 777 -> peer 888; to-device: peer 123 -> device 456 */
		{ "tcp device:777->10.5.5.5:888",
		  true, false },	/* NFR: SYN-ACK 888->777 not allowed */
		{ "tcp device:777->[fd00::5]:888", true, false },
		{ "tcp 10.5.5.5:123->device:456",
		  false, false },	/* reply 456->123 never allowed */
		{ "tcp device:777->192.168.1.1:888", false, false },	/* not local */
		{ "tcp device:778->10.5.5.5:888", false, false },
		{ "udp device:777->10.5.5.5:888", false, false },
	};

	cross_check(*state, "mudfiles/mud-visualizer/tester_local_network.json",
		    "{\"local-networks\": [\"10.0.0.0/8\", \"fd00::/8\"]}",
		    flows, sizeof(flows) / sizeof(flows[0]));
}

static void test_cross_abstractions(void **state)
{
	static xflow_t const controller[] = {
		{ "udp device->198.51.100.7:53", true, true },
		{ "tcp 198.51.100.7->device:22", true, true },
		{ "icmp device->2001:db8::7", true, true },
		{ "47 device->198.51.100.7", true, true },
		{ "udp device->198.51.100.8:53", false, false },
		{ "tcp 2001:db8::8->device:22", false, false },
	};
	static xflow_t const manufacturer[] = {
		{ "tcp device->10.9.1.1:80", true, true },
		{ "tcp 10.9.255.255->device:80", true, true },
		{ "tcp device->10.8.1.1:80", false, false },
	};
	static xflow_t const same[] = {
		{ "udp device->10.7.3.3:5683", true, true },
		{ "udp device->10.6.3.3:5683", false, false },
		{ "udp device->[fd00::1]:5683", false, false },	/* IPv4 ACLs only */
	};
	static xflow_t const my2[] = {
		{ "tcp 10.1.1.20->device:73", true, true },
		{ "tcp device->10.1.1.20:28", true, true },
		{ "tcp device->10.1.1.20:29", false, false },
		{ "tcp 10.1.1.20->device:74", false, false },
		{ "udp device->10.1.1.20:28", false, false },
		{ "tcp device->10.1.1.21:28", false, false },
	};

	cross_check(*state, "mudfiles/mud-visualizer/tester_controller.json",
		    "{\"controllers\": {\"http://amazon.com/dashserver\": "
		    "[\"198.51.100.7\", \"2001:db8::7\"]}}",
		    controller, sizeof(controller) / sizeof(controller[0]));
	cross_check(*state, "mudfiles/mud-visualizer/tester_manufacturer.json",
		    "{\"manufacturers\": {\"samplemotion.com\": "
		    "{\"networks\": [\"10.9.0.0/16\"]}}}",
		    manufacturer, sizeof(manufacturer) / sizeof(manufacturer[0]));
	cross_check(*state, "mudfiles/mud-visualizer/tester_same_manufacturer.json",
		    "{\"manufacturers\": {\"iot-device.example.com\": "
		    "{\"networks\": [\"10.7.0.0/16\"]}}}",
		    same, sizeof(same) / sizeof(same[0]));
	cross_check(*state, "mudfiles/mud-visualizer/tester_mycontroller2.json",
		    "{\"my-controllers\": {\"https://tester2.com/ttt\": [\"10.1.1.20\"]}}",
		    my2, sizeof(my2) / sizeof(my2[0]));
}

/*
 *	A hand-written MUD file with every port operator and its boundaries, ICMP types,
 *	a drop before an accept, a device-port range and direction-initiated.
 */
static char const synthetic_mud[] =
	"{\"ietf-mud:mud\":{\"mud-version\":1,"
	"\"mud-url\":\"https://ops.example.com/synthetic\","
	"\"last-update\":\"2024-01-01T00:00:00+00:00\",\"cache-validity\":48,"
	"\"is-supported\":true,\"systeminfo\":\"synthetic operators\","
	"\"from-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"fr4\"},"
	"{\"name\":\"fr6\"}]}},"
	"\"to-device-policy\":{\"access-lists\":{\"access-list\":[{\"name\":\"to4\"},"
	"{\"name\":\"to6\"}]}}},"
	"\"ietf-access-control-list:acls\":{\"acl\":[{\"name\":\"fr4\","
	"\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"gte8000\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.1/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"gte\",\"port\":8000}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"lte1023\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.2/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"lte\",\"port\":1023}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"neq53\","
	"\"matches\":{\"ipv4\":{\"protocol\":17,"
	"\"destination-ipv4-network\":\"192.0.2.3/32\"},"
	"\"udp\":{\"destination-port\":{\"operator\":\"neq\",\"port\":53}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"range\","
	"\"matches\":{\"ipv4\":{\"protocol\":17,"
	"\"destination-ipv4-network\":\"192.0.2.4/32\"},"
	"\"udp\":{\"destination-port\":{\"lower-port\":5000,\"upper-port\":5010}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"gte0\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.5/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"gte\",\"port\":0}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"lte65535\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.6/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"lte\",\"port\":65535}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"neq0\","
	"\"matches\":{\"ipv4\":{\"protocol\":17,"
	"\"destination-ipv4-network\":\"192.0.2.7/32\"},"
	"\"udp\":{\"destination-port\":{\"operator\":\"neq\",\"port\":0}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"neq65535\","
	"\"matches\":{\"ipv4\":{\"protocol\":17,"
	"\"destination-ipv4-network\":\"192.0.2.8/32\"},"
	"\"udp\":{\"destination-port\":{\"operator\":\"neq\",\"port\":65535}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"echo\","
	"\"matches\":{\"ipv4\":{\"protocol\":1,"
	"\"destination-ipv4-network\":\"192.0.2.9/32\"},\"icmp\":{\"type\":8}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"nossh\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.10/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"eq\",\"port\":22}}},"
	"\"actions\":{\"forwarding\":\"drop\"}},{\"name\":\"tcp10\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.10/32\"}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"devport\","
	"\"matches\":{\"ipv4\":{\"protocol\":17,"
	"\"destination-ipv4-network\":\"192.0.2.11/32\"},"
	"\"udp\":{\"source-port\":{\"lower-port\":6000,\"upper-port\":6001}}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"svc\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"destination-ipv4-network\":\"192.0.2.20/32\"},"
	"\"tcp\":{\"source-port\":{\"operator\":\"eq\",\"port\":8080},"
	"\"ietf-mud:direction-initiated\":\"to-device\"}},"
	"\"actions\":{\"forwarding\":\"accept\"}}]}},{\"name\":\"fr6\","
	"\"type\":\"ipv6-acl-type\",\"aces\":{\"ace\":[{\"name\":\"echo6\","
	"\"matches\":{\"ipv6\":{\"protocol\":58,"
	"\"destination-ipv6-network\":\"2001:db8::9/128\"},\"icmp\":{\"type\":128}},"
	"\"actions\":{\"forwarding\":\"accept\"}}]}},{\"name\":\"to4\","
	"\"type\":\"ipv4-acl-type\",\"aces\":{\"ace\":[{\"name\":\"svc\","
	"\"matches\":{\"ipv4\":{\"protocol\":6,"
	"\"source-ipv4-network\":\"192.0.2.20/32\"},"
	"\"tcp\":{\"destination-port\":{\"operator\":\"eq\",\"port\":8080},"
	"\"ietf-mud:direction-initiated\":\"to-device\"}},"
	"\"actions\":{\"forwarding\":\"accept\"}},{\"name\":\"replies\","
	"\"matches\":{\"ipv4\":{\"source-ipv4-network\":\"192.0.2.0/24\"}},"
	"\"actions\":{\"forwarding\":\"accept\"}}]}},{\"name\":\"to6\","
	"\"type\":\"ipv6-acl-type\",\"aces\":{\"ace\":[{\"name\":\"replies6\","
	"\"matches\":{\"ipv6\":{\"source-ipv6-network\":\"2001:db8::/32\"}},"
	"\"actions\":{\"forwarding\":\"accept\"}}]}}]}}";

static void test_cross_synthetic(void **state)
{
	static xflow_t const flows[] = {
		{ "tcp device->192.0.2.1:8000", true, true },		/* gte 8000 */
		{ "tcp device->192.0.2.1:7999", false, false },
		{ "tcp device->192.0.2.1:65535", true, true },
		{ "tcp device->192.0.2.2:1023", true, true },		/* lte 1023 */
		{ "tcp device->192.0.2.2:1024", false, false },
		{ "tcp device->192.0.2.2:0", true, true },
		{ "udp device->192.0.2.3:53", false, false },		/* neq 53 */
		{ "udp device->192.0.2.3:52", true, true },
		{ "udp device->192.0.2.3:54", true, true },
		{ "udp device->192.0.2.3:0", true, true },
		{ "udp device->192.0.2.3:65535", true, true },
		{ "udp device->192.0.2.4:5000", true, true },		/* range 5000-5010 */
		{ "udp device->192.0.2.4:5010", true, true },
		{ "udp device->192.0.2.4:4999", false, false },
		{ "udp device->192.0.2.4:5011", false, false },
		{ "tcp device->192.0.2.5:0", true, true },		/* gte 0 */
		{ "udp device->192.0.2.5:1", false, false },
		{ "tcp device->192.0.2.6:65535", true, true },		/* lte 65535 */
		{ "udp device->192.0.2.7:0", false, false },		/* neq 0 */
		{ "udp device->192.0.2.7:1", true, true },
		{ "udp device->192.0.2.8:65535", false, false },	/* neq 65535 */
		{ "udp device->192.0.2.8:65534", true, true },
		{ "icmp device->192.0.2.9", true, true },		/* type 8 */
		{ "icmp device->192.0.2.9 type 13", false, false },
		{ "icmp device->2001:db8::9", true, true },		/* type 128 */
		{ "icmp device->2001:db8::9 type 1", false, false },
		{ "tcp device->192.0.2.10:22", false, false },	/* drop before accept */
		{ "tcp device->192.0.2.10:23", true, true },
		{ "udp device:6000->192.0.2.11:9", true, true },	/* device port 6000-6001 */
		{ "udp device:6001->192.0.2.11:9", true, true },
		{ "udp device:6002->192.0.2.11:9", false, false },
		{ "udp device:5999->192.0.2.11:9", false, false },
		{ "tcp 192.0.2.20->device:8080", true, true },	/* initiated to-device */
		{ "tcp device:8080->192.0.2.20:80", false, false },
		{ "tcp 192.0.2.20->device:8081", false, false },
		/* stateless: the peer may open from a port the device may connect to */
		{ "tcp 192.0.2.1:8000->device:1", true, true },
	};

	cross_check_json(*state, "synthetic", synthetic_mud, strlen(synthetic_mud), "{}", flows,
			 sizeof(flows) / sizeof(flows[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cisco_protocols, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_addresses, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_port_operators, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_established, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_icmp, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_first_match_and_implicit_deny,
						test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_inbound_semantics, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_basic, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_default, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_addresses_and_options, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_flow_parse, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_flow_tcp_device_initiated, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_flow_tcp_established, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_flow_udp_icmp_other, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cisco_errors, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_nfr_errors, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_limits, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_arguments, test_setup_ctx, test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cross_lightbulb, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cross_tcpudp, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cross_local_networks, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cross_abstractions, test_setup_ctx,
						test_teardown_ctx),
		cmocka_unit_test_setup_teardown(test_cross_synthetic, test_setup_ctx,
						test_teardown_ctx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
