/*
 * mud_render.c - renderer table and the parts every output format shares:
 * attribute length and count limits, content hash, content-addressed ACL names.
 *
 * A renderer turns a compiled rule set (mud_ruleset_t) into an ordered list of
 * attribute values for one kind of NAS. The table below maps format names to
 * renderers (lldpd's protos[] pattern); adding a format is one entry and one file.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mud_render_priv.h"

/** Known output formats, indexed by nothing: looked up by name or by format. */
static struct {
	char const		*name;		//!< configuration name
	mud_format_t		format;		//!< enum value
	mudp_render_fn_t	render;		//!< renderer
} const renderers[] = {
	{ "cisco-dacl",		MUD_FMT_CISCO_DACL,		mudp_render_cisco },
	{ "nas-filter-rule",	MUD_FMT_NAS_FILTER_RULE,	mudp_render_nfr },
	{ "json",		MUD_FMT_JSON,			mudp_render_json },
};

/** Format by name (case-insensitive).
 *
 * @param[in] name	"cisco-dacl", "nas-filter-rule" or "json"; may be NULL.
 * @return the mud_format_t value, or -1 if unknown.
 */
int mud_format_by_name(char const *name)
{
	size_t i;

	if (!name) return -1;
	for (i = 0; i < MUD_ARRAY_LEN(renderers); i++) {
		if (mudp_strcasecmp(renderers[i].name, name) == 0) return (int)renderers[i].format;
	}
	return -1;
}

/** Name of a format.
 *
 * @param[in] fmt	format.
 * @return its configuration name, or "unknown" for a value that is not a format.
 */
char const *mud_format_name(mud_format_t fmt)
{
	size_t i;

	for (i = 0; i < MUD_ARRAY_LEN(renderers); i++) {
		if (renderers[i].format == fmt) return renderers[i].name;
	}
	return "unknown";
}

void mudp_line_init(mudp_line_t *line)
{
	line->buf[0] = '\0';
	line->len = 0;
	line->overflow = false;
}

void mudp_line_printf(mudp_line_t *line, char const *fmt, ...)
{
	va_list ap;
	int n;
	size_t room;

	if (line->overflow) return;
	room = sizeof(line->buf) - line->len;
	va_start(ap, fmt);
	n = vsnprintf(line->buf + line->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		line->overflow = true;
		line->len = sizeof(line->buf) - 1;
		line->buf[line->len] = '\0';
		return;
	}
	line->len += (size_t)n;
}

void mudp_rule_where(char *buf, size_t buflen, mud_rule_t const *rule, size_t idx)
{
	if (rule && rule->origin && rule->origin[0]) {
		mudp_escape(buf, buflen, rule->origin, strlen(rule->origin));
		return;
	}
	snprintf(buf, buflen, "rule %zu", idx);
}

mud_rcode_t mudp_render_add(mud_rendered_t *out, bool v6, mudp_line_t const *line,
			    mud_rule_t const *rule, size_t idx, mud_error_t *err)
{
	char where[sizeof(((mud_error_t *)NULL)->where)];
	char ***list = v6 ? &out->v6 : &out->v4;
	size_t *num = v6 ? &out->num_v6 : &out->num_v4;
	char **n;
	char *copy;

	if (line->overflow || line->len > MUD_MAX_ATTR_LEN) {
		mudp_rule_where(where, sizeof(where), rule, idx);
		if (line->overflow) {
			return mud_error_set(err, MUD_ERR_LIMIT, where,
					     "rendered value is longer than %d bytes, "
					     "more than the %d an attribute holds",
					     MUDP_LINE_SIZE - 1, MUD_MAX_ATTR_LEN);
		}
		return mud_error_set(err, MUD_ERR_LIMIT, where,
				     "rendered value is %zu bytes, more than the %d an attribute "
				     "holds", line->len, MUD_MAX_ATTR_LEN);
	}
	if (out->num_v4 + out->num_v6 >= MUD_MAX_ATTRS) {
		mudp_rule_where(where, sizeof(where), rule, idx);
		return mud_error_set(err, MUD_ERR_LIMIT, where,
				     "rule set needs more than %d attributes", MUD_MAX_ATTRS);
	}

	n = talloc_realloc(out, *list, char *, *num + 1);
	if (!n) goto nomem;
	*list = n;
	copy = talloc_strndup(n, line->buf, line->len);
	if (!copy) goto nomem;
	n[*num] = copy;
	(*num)++;
	return MUD_OK;

nomem:
	return mud_error_set(err, MUD_ERR_NOMEM, "talloc", "no memory for a rendered line");
}

bool mudp_rule_is_icmp(mud_rule_t const *rule)
{
	return (rule->family == 4 && rule->protocol == MUDP_PROTO_ICMP) ||
	       (rule->family == 6 && rule->protocol == MUDP_PROTO_ICMPV6);
}

/** Error for a rule that is malformed for rendering. */
#define RULE_ERROR(_fmt, ...) do { \
	char _where[sizeof(((mud_error_t *)NULL)->where)]; \
	mudp_rule_where(_where, sizeof(_where), rule, idx); \
	return mud_error_set(err, MUD_ERR_RENDER, _where, _fmt, ## __VA_ARGS__); \
} while (0)

/** Check a port match. */
static mud_rcode_t port_check(mud_port_t const *p, char const *side, mud_rule_t const *rule,
			      size_t idx, mud_error_t *err)
{
	switch (p->op) {
	case MUD_PORT_ANY:
	case MUD_PORT_EQ:
	case MUD_PORT_NEQ:
	case MUD_PORT_LTE:
	case MUD_PORT_GTE:
		return MUD_OK;

	case MUD_PORT_RANGE:
		if (p->lo > p->hi) RULE_ERROR("%s port range %u-%u is empty", side, p->lo, p->hi);
		return MUD_OK;
	}
	RULE_ERROR("%s port operator %d is unknown", side, (int)p->op);
}

mud_rcode_t mudp_rule_check(mud_rule_t const *rule, size_t idx, mud_error_t *err)
{
	int fam = rule->family;
	int proto = rule->protocol;
	bool has_ports = rule->device_port.op != MUD_PORT_ANY || rule->peer_port.op != MUD_PORT_ANY;
	mud_rcode_t rc;

	if (rule->dir != MUD_DIR_FROM_DEVICE && rule->dir != MUD_DIR_TO_DEVICE) {
		RULE_ERROR("direction %d is unknown", (int)rule->dir);
	}
	if (fam != 4 && fam != 6) RULE_ERROR("address family %d is not 4 or 6", fam);
	if (rule->action != MUD_ACTION_ACCEPT && rule->action != MUD_ACTION_DROP &&
	    rule->action != MUD_ACTION_REJECT) {
		RULE_ERROR("action %d is unknown", (int)rule->action);
	}
	if (proto < -1 || proto > 255) RULE_ERROR("protocol %d is out of range", proto);
	if (rule->peer.len > 0 &&
	    (rule->peer.family != fam || rule->peer.len > (fam == 4 ? 32 : 128))) {
		RULE_ERROR("peer prefix (family %d, length %u) does not fit an IPv%d rule",
			   rule->peer.family, rule->peer.len, fam);
	}
	if (has_ports && proto != MUDP_PROTO_TCP && proto != MUDP_PROTO_UDP) {
		RULE_ERROR("port match on protocol %d (only tcp and udp have ports)", proto);
	}
	rc = port_check(&rule->device_port, "device", rule, idx, err);
	if (rc != MUD_OK) return rc;
	rc = port_check(&rule->peer_port, "peer", rule, idx, err);
	if (rc != MUD_OK) return rc;
	if (rule->established && proto != MUDP_PROTO_TCP) {
		RULE_ERROR("established on protocol %d (only tcp)", proto);
	}
	if (!mudp_rule_is_icmp(rule) && (rule->icmp_type != -1 || rule->icmp_code != -1)) {
		RULE_ERROR("ICMP type/code on protocol %d", proto);
	}
	if (rule->icmp_type < -1 || rule->icmp_type > 255 || rule->icmp_code < -1 ||
	    rule->icmp_code > 255) {
		RULE_ERROR("ICMP type %d / code %d out of range", rule->icmp_type, rule->icmp_code);
	}
	return MUD_OK;
}

bool mudp_peer_addr(char *addr, size_t addrlen, mud_prefix_t const *peer)
{
	uint8_t net[16];
	int i;

	memcpy(net, peer->addr, sizeof(net));
	for (i = 0; i < 16; i++) {
		int bits = (int)peer->len - i * 8;

		if (bits >= 8) continue;
		net[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
	return inet_ntop(peer->family == 4 ? AF_INET : AF_INET6, net, addr,
			 (socklen_t)addrlen) != NULL;
}

/** Bytes of lines joined by "\n" into dst (if not NULL); returns the length. */
static size_t join_lines(char *dst, char * const *a, size_t num_a, char * const *b, size_t num_b)
{
	size_t total = 0;
	size_t i;

	for (i = 0; i < num_a + num_b; i++) {
		char const *s = i < num_a ? a[i] : b[i - num_a];
		size_t len = strlen(s);

		if (i > 0) {
			if (dst) dst[total] = '\n';
			total++;
		}
		if (dst) memcpy(dst + total, s, len);
		total += len;
	}
	return total;
}

mud_rcode_t mudp_render_hash(char out[65], char * const *a, size_t num_a,
			     char * const *b, size_t num_b, mud_error_t *err)
{
	size_t len = join_lines(NULL, a, num_a, b, num_b);
	char *buf;

	buf = talloc_array(NULL, char, len + 1);
	if (!buf) {
		return mud_error_set(err, MUD_ERR_NOMEM, "talloc", "no memory to hash the output");
	}
	join_lines(buf, a, num_a, b, num_b);
	buf[len] = '\0';
	mud_sha256_hex(out, buf, len);
	talloc_free(buf);
	if (strlen(out) != 64) {
		return mud_error_set(err, MUD_ERR_RENDER, "mud_sha256_hex",
				     "SHA-256 of the output failed");
	}
	return MUD_OK;
}

mud_rcode_t mudp_render_acl_name(TALLOC_CTX *ctx, char **out, char const *prefix,
				 char const *name, char * const *lines, size_t num,
				 mud_error_t *err)
{
	char hash[65];
	char esc[64];
	char const *p;
	size_t len;
	mud_rcode_t rc;

	*out = NULL;
	if (!name || !name[0]) name = "mud";
	for (p = name; *p; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') continue;
		mudp_escape(esc, sizeof(esc), name, strlen(name));
		return mud_error_set(err, MUD_ERR_RENDER, "name",
				     "rule set name \"%s\" has characters not allowed in an ACL "
				     "name (only A-Z a-z 0-9 . _ -)", esc);
	}

	/* AV-pair prefix + ACL prefix + name + "-" + 8 hex */
	len = strlen(MUDP_CISCO_ACL_AVPAIR) + strlen(prefix) + strlen(name) + 1 + 8;
	if (len > MUD_MAX_ATTR_LEN) {
		mudp_escape(esc, sizeof(esc), name, strlen(name));
		return mud_error_set(err, MUD_ERR_LIMIT, "name",
				     "ACL name for \"%s\" would make a %zu byte attribute, "
				     "more than %d", esc, len, MUD_MAX_ATTR_LEN);
	}

	rc = mudp_render_hash(hash, lines, num, NULL, 0, err);
	if (rc != MUD_OK) return rc;
	*out = talloc_asprintf(ctx, "%s%s-%.8s", prefix, name, hash);
	if (!*out) return mud_error_set(err, MUD_ERR_NOMEM, "talloc", "no memory for an ACL name");
	return MUD_OK;
}

/** Render a rule set for a NAS.
 *
 * @param[in] ctx	talloc parent of *out.
 * @param[out] out	rendered lines, ACL names and hash; NULL on failure.
 * @param[in] rs	compiled rule set.
 * @param[in] fmt	output format.
 * @param[out] err	first error: MUD_ERR_ARG (bad arguments), MUD_ERR_LIMIT (a value longer
 *			than MUD_MAX_ATTR_LEN, more than MUD_MAX_ATTRS values, ACL name too long),
 *			MUD_ERR_UNSUPPORTED (rule not expressible without widening a permit),
 *			MUD_ERR_RENDER (malformed rule), MUD_ERR_NOMEM. where names the
 *			rule's origin.
 * @return MUD_OK or the error code.
 */
mud_rcode_t mud_ruleset_render(TALLOC_CTX *ctx, mud_rendered_t **out, mud_ruleset_t const *rs,
			       mud_format_t fmt, mud_error_t *err)
{
	mud_rendered_t *r;
	mud_rcode_t rc;
	size_t i;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "mud_ruleset_render", "no output pointer");
	*out = NULL;
	if (!rs) return mud_error_set(err, MUD_ERR_ARG, "mud_ruleset_render", "no rule set");
	if (rs->num_rules > 0 && !rs->rules) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_ruleset_render",
				     "rule set claims %zu rules but has none", rs->num_rules);
	}

	for (i = 0; i < MUD_ARRAY_LEN(renderers); i++) {
		if (renderers[i].format == fmt) break;
	}
	if (i == MUD_ARRAY_LEN(renderers)) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_ruleset_render",
				     "unknown output format %d", (int)fmt);
	}

	r = talloc_zero(ctx, mud_rendered_t);
	if (!r) return mud_error_set(err, MUD_ERR_NOMEM, "talloc", "no memory for rendered output");
	r->format = fmt;

	rc = renderers[i].render(r, rs, err);
	if (rc != MUD_OK) goto error;

	rc = mudp_render_hash(r->hash, r->v4, r->num_v4, r->v6, r->num_v6, err);
	if (rc != MUD_OK) goto error;

	*out = r;
	return MUD_OK;

error:
	talloc_free(r);
	return rc;
}
