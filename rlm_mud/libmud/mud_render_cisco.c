/*
 * mud_render_cisco.c - rule set -> Cisco downloadable ACL lines
 * ("ip:inacl#N=<ace>", "ipv6:inacl#N=<ace>") in IOS extended ACL syntax.
 *
 * A dACL is applied inbound on the switch port, so it only sees traffic sent
 * by the device: only MUD_DIR_FROM_DEVICE rules are rendered; TO_DEVICE rules
 * are counted in num_skipped (docs/rendering.md). The device is the source and
 * is written "any": the switch substitutes the host's address in a dACL.
 *
 * Safety rule: a constraint that cannot be written is never dropped from a
 * permit (that would widen it): such a rule fails with MUD_ERR_UNSUPPORTED.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mud_render_priv.h"

/** IOS protocol keyword or number. */
static void cisco_proto(mudp_line_t *l, mud_rule_t const *rule)
{
	int proto = rule->protocol;

	if (proto < 0) {
		mudp_line_printf(l, " %s", rule->family == 6 ? "ipv6" : "ip");
	} else if (proto == MUDP_PROTO_TCP) {
		mudp_line_printf(l, " tcp");
	} else if (proto == MUDP_PROTO_UDP) {
		mudp_line_printf(l, " udp");
	} else if (mudp_rule_is_icmp(rule)) {
		mudp_line_printf(l, " icmp");
	} else {
		mudp_line_printf(l, " %d", proto);
	}
}

/** Port clause (already checked by mudp_rule_check); "" when every port matches. */
static void cisco_port(mudp_line_t *l, mud_port_t const *p)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		break;
	case MUD_PORT_EQ:
		mudp_line_printf(l, " eq %u", p->lo);
		break;
	case MUD_PORT_NEQ:
		mudp_line_printf(l, " neq %u", p->lo);
		break;
	case MUD_PORT_LTE:
		if (p->lo < 65535) mudp_line_printf(l, " lt %u", p->lo + 1u);
		break;
	case MUD_PORT_GTE:
		if (p->lo > 0) mudp_line_printf(l, " gt %u", p->lo - 1u);
		break;
	case MUD_PORT_RANGE:
		mudp_line_printf(l, " range %u %u", p->lo, p->hi);
		break;
	}
}

/** Peer: "any", "host A", "A W.W.W.W" (v4 wildcard), "X/len" (v6). Host bits are cleared. */
static void cisco_peer(mudp_line_t *l, mud_prefix_t const *peer)
{
	char addr[INET6_ADDRSTRLEN];
	uint32_t wild;

	if (peer->len == 0) {
		mudp_line_printf(l, " any");
		return;
	}
	if (!mudp_peer_addr(addr, sizeof(addr), peer)) {
		l->overflow = true;	/* cannot happen for 4/16 bytes; refuse rather than guess */
		return;
	}
	if (peer->len == (peer->family == 4 ? 32 : 128)) {
		mudp_line_printf(l, " host %s", addr);
		return;
	}
	if (peer->family == 6) {
		mudp_line_printf(l, " %s/%u", addr, peer->len);
		return;
	}
	wild = 0xffffffffu >> peer->len;	/* len is 1..31 here */
	mudp_line_printf(l, " %s %u.%u.%u.%u", addr, (wild >> 24) & 0xff, (wild >> 16) & 0xff,
			 (wild >> 8) & 0xff, wild & 0xff);
}

/** One ACE for a checked FROM_DEVICE rule (after "ip:inacl#N="). */
static mud_rcode_t cisco_ace(mudp_line_t *l, mud_rule_t const *rule, size_t idx, mud_error_t *err)
{
	if (rule->icmp_type == -1 && rule->icmp_code != -1 && rule->action == MUD_ACTION_ACCEPT) {
		char where[sizeof(((mud_error_t *)NULL)->where)];

		mudp_rule_where(where, sizeof(where), rule, idx);
		return mud_error_set(err, MUD_ERR_UNSUPPORTED, where,
				     "ICMP code %d without a type cannot be written in an IOS ACL; "
				     "permitting every type would widen the rule", rule->icmp_code);
	}

	mudp_line_printf(l, "%s", rule->action == MUD_ACTION_ACCEPT ? "permit" : "deny");
	cisco_proto(l, rule);
	mudp_line_printf(l, " any");
	cisco_port(l, &rule->device_port);
	cisco_peer(l, &rule->peer);
	cisco_port(l, &rule->peer_port);
	if (rule->established) mudp_line_printf(l, " established");
	if (mudp_rule_is_icmp(rule) && rule->icmp_type >= 0) {
		mudp_line_printf(l, " %d", rule->icmp_type);
		if (rule->icmp_code >= 0) mudp_line_printf(l, " %d", rule->icmp_code);
	}
	return MUD_OK;
}

mud_rcode_t mudp_render_cisco(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err)
{
	mud_rcode_t rc;
	size_t idx;

	for (idx = 0; idx < rs->num_rules; idx++) {
		mud_rule_t const *rule = &rs->rules[idx];
		mudp_line_t line;
		bool v6;

		if (rule->dir == MUD_DIR_TO_DEVICE) {
			out->num_skipped++;
			continue;
		}
		rc = mudp_rule_check(rule, idx, err);
		if (rc != MUD_OK) return rc;
		v6 = rule->family == 6;

		mudp_line_init(&line);
		mudp_line_printf(&line, "%s:inacl#%zu=", v6 ? "ipv6" : "ip",
				 (v6 ? out->num_v6 : out->num_v4) + 1);
		rc = cisco_ace(&line, rule, idx, err);
		if (rc != MUD_OK) return rc;
		rc = mudp_render_add(out, v6, &line, rule, idx, err);
		if (rc != MUD_OK) return rc;
	}

	/* Names last: each covers the URL and the lines of both families. */
	if (out->num_v4 > 0) {
		rc = mudp_render_acl_name(out, &out->acl_name_v4, false, rs->name, rs->mud_url,
					  out, err);
		if (rc != MUD_OK) return rc;
	}
	if (out->num_v6 > 0) {
		rc = mudp_render_acl_name(out, &out->acl_name_v6, true, rs->name, rs->mud_url,
					  out, err);
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}
