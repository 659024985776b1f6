/*
 * mud_render_nfr.c - rule set -> NAS-Filter-Rule values (RFC 4849), whose
 * format is the Diameter IPFilterRule (RFC 6733 section 4.3):
 *
 *	action dir proto from src [ports] to dst [ports] [options]
 *
 * "in" is traffic from the terminal (the device), "out" traffic to it; the
 * device's side is written "assigned". Both directions and both families are
 * rendered, in rule order, into out->v4; the family of a rule shows in its peer
 * address ("0.0.0.0/0" / "::/0" for an unrestricted peer, see nfr_peer()).
 *
 * Safety rule: a constraint that cannot be written is never dropped from a
 * permit (that would widen it): such a rule fails with MUD_ERR_UNSUPPORTED. A
 * deny may lose an ICMP code (it then denies more, never less).
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mud_render_priv.h"

/** "a" or "a-b". */
static void nfr_range(mudp_line_t *l, unsigned int a, unsigned int b)
{
	if (a == b) {
		mudp_line_printf(l, "%u", a);
		return;
	}
	mudp_line_printf(l, "%u-%u", a, b);
}

/** Port list after an address (already checked by mudp_rule_check); nothing for ANY. */
static void nfr_port(mudp_line_t *l, mud_port_t const *p)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		break;
	case MUD_PORT_EQ:
		mudp_line_printf(l, " %u", p->lo);
		break;
	case MUD_PORT_NEQ:
		mudp_line_printf(l, " ");
		if (p->lo > 0) nfr_range(l, 0, p->lo - 1u);
		if (p->lo > 0 && p->lo < 65535) mudp_line_printf(l, ",");
		if (p->lo < 65535) nfr_range(l, p->lo + 1u, 65535);
		break;
	case MUD_PORT_LTE:
		mudp_line_printf(l, " ");
		nfr_range(l, 0, p->lo);
		break;
	case MUD_PORT_GTE:
		mudp_line_printf(l, " ");
		nfr_range(l, p->lo, 65535);
		break;
	case MUD_PORT_RANGE:
		mudp_line_printf(l, " ");
		nfr_range(l, p->lo, p->hi);
		break;
	}
}

/** Peer: an address (host prefix) or "addr/len"; host bits are cleared. A zero-length
 *  peer is "0.0.0.0/0" or "::/0", never "any": in an IPFilterRule "any" matches both
 *  families, which would widen an IPv4-only permit to IPv6 (and the other way). */
static void nfr_peer(mudp_line_t *l, int family, mud_prefix_t const *peer)
{
	char addr[INET6_ADDRSTRLEN];

	if (peer->len == 0) {
		mudp_line_printf(l, " %s", family == 4 ? "0.0.0.0/0" : "::/0");
		return;
	}
	if (!mudp_peer_addr(addr, sizeof(addr), peer)) {
		l->overflow = true;	/* cannot happen for 4/16 bytes; refuse rather than guess */
		return;
	}
	if (peer->len == (peer->family == 4 ? 32 : 128)) {
		mudp_line_printf(l, " %s", addr);
		return;
	}
	mudp_line_printf(l, " %s/%u", addr, peer->len);
}

/** One IPFilterRule for a checked rule. */
static mud_rcode_t nfr_rule(mudp_line_t *l, mud_rule_t const *rule, size_t idx, mud_error_t *err)
{
	bool from_device = rule->dir == MUD_DIR_FROM_DEVICE;

	if (rule->icmp_code != -1 && rule->action == MUD_ACTION_ACCEPT) {
		char where[sizeof(((mud_error_t *)NULL)->where)];

		mudp_rule_where(where, sizeof(where), rule, idx);
		return mud_error_set(err, MUD_ERR_UNSUPPORTED, where,
				     "ICMP code %d cannot be written in a NAS-Filter-Rule; "
				     "permitting every code would widen the rule", rule->icmp_code);
	}

	mudp_line_printf(l, "%s %s", rule->action == MUD_ACTION_ACCEPT ? "permit" : "deny",
			 from_device ? "in" : "out");
	if (rule->protocol < 0) {
		mudp_line_printf(l, " ip");
	} else {
		mudp_line_printf(l, " %d", rule->protocol);
	}

	mudp_line_printf(l, " from");
	if (from_device) {
		mudp_line_printf(l, " assigned");
		nfr_port(l, &rule->device_port);
	} else {
		nfr_peer(l, rule->family, &rule->peer);
		nfr_port(l, &rule->peer_port);
	}
	mudp_line_printf(l, " to");
	if (from_device) {
		nfr_peer(l, rule->family, &rule->peer);
		nfr_port(l, &rule->peer_port);
	} else {
		mudp_line_printf(l, " assigned");
		nfr_port(l, &rule->device_port);
	}

	if (rule->established) mudp_line_printf(l, " established");
	if (mudp_rule_is_icmp(rule) && rule->icmp_type >= 0) {
		mudp_line_printf(l, " icmptypes %d", rule->icmp_type);
	}
	return MUD_OK;
}

/** A deny of all IP traffic of its family in its direction. */
static bool nfr_is_deny_all(mud_rule_t const *r)
{
	return r->action != MUD_ACTION_ACCEPT && r->protocol < 0 && r->peer.len == 0 &&
	       r->device_port.op == MUD_PORT_ANY && r->peer_port.op == MUD_PORT_ANY;
}

/** Index of the first rule of the trailing run of deny-all rules of direction dir
 *  (rs->num_rules if the direction does not end in one). */
static size_t nfr_closing(mud_ruleset_t const *rs, mud_dir_t dir)
{
	size_t first = rs->num_rules;
	size_t i = rs->num_rules;

	while (i > 0) {
		mud_rule_t const *r = &rs->rules[--i];

		if (r->dir != dir) continue;
		if (!nfr_is_deny_all(r)) break;
		first = i;
	}
	return first;
}

mud_rcode_t mudp_render_nfr(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err)
{
	mud_rcode_t rc;
	size_t idx;
	size_t closing[2];
	bool closed[2] = { false, false };

	/*
	 *	RFC 6733 section 4.3: a packet no rule matches is PASSED when the last rule
	 *	evaluated was a deny. The per-family final denies ("to 0.0.0.0/0", "to ::/0")
	 *	would let a packet of neither form (e.g. a spoofed source) through, so the
	 *	trailing deny-all rules of each direction become one "from any to any".
	 */
	closing[MUD_DIR_FROM_DEVICE] = nfr_closing(rs, MUD_DIR_FROM_DEVICE);
	closing[MUD_DIR_TO_DEVICE] = nfr_closing(rs, MUD_DIR_TO_DEVICE);

	for (idx = 0; idx < rs->num_rules; idx++) {
		mud_rule_t const *rule = &rs->rules[idx];
		mudp_line_t line;
		unsigned int d = rule->dir == MUD_DIR_FROM_DEVICE ? 0 : 1;

		rc = mudp_rule_check(rule, idx, err);
		if (rc != MUD_OK) return rc;
		mudp_line_init(&line);
		if (idx >= closing[d]) {
			if (closed[d]) continue;	/* merged into the one closing rule */
			closed[d] = true;
			mudp_line_printf(&line, "deny %s ip from any to any",
					 d == 0 ? "in" : "out");
			rc = mudp_render_add(out, false, &line, rule, idx, err);
			if (rc != MUD_OK) return rc;
			continue;
		}
		rc = nfr_rule(&line, rule, idx, err);
		if (rc != MUD_OK) return rc;
		rc = mudp_render_add(out, false, &line, rule, idx, err);
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}
