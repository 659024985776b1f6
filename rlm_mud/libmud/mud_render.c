/*
 * mud_render.c - renderer table and the parts every output format shares:
 * attribute length and count limits, content hash, content-addressed ACL names
 * (and their check, for names read back from the cache).
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

/*
 *	dACL names: "<prefix><label>-<hash>" (docs/rendering.md, "dACL names").
 *
 *	The hash is the first MUDP_ACL_HASH_BITS bits of a SHA-256 over a
 *	domain-separated, length-prefixed encoding of the family, the MUD URL and
 *	both families' lines as they are sent, in RFC 4648 base32 (lower case, no
 *	padding). The label is for people; it is cut to fit, the hash never is.
 */

_Static_assert(sizeof(MUDP_CISCO_ACL_AVPAIR) - 1 + MUDP_ACL_NAME_MAX <= MUD_MAX_ATTR_LEN,
	       "a dACL name must fit the ACS:CiscoSecure-Defined-ACL AV-pair");
_Static_assert(MUDP_ACL_HASH_LEN * 5 == MUDP_ACL_HASH_BITS, "base32: 5 bits per character");

/** RFC 4648 base32 alphabet, lower case (dACL names are matched exactly). */
static char const b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/** Put a 32-bit big-endian number at dst + at (if dst); returns the new length. */
static size_t put_u32(uint8_t *dst, size_t at, size_t v)
{
	if (dst) {
		dst[at] = (uint8_t)(v >> 24);
		dst[at + 1] = (uint8_t)(v >> 16);
		dst[at + 2] = (uint8_t)(v >> 8);
		dst[at + 3] = (uint8_t)v;
	}
	return at + 4;
}

/** Put a 32-bit big-endian length, then the bytes (if dst); returns the new length. */
static size_t put_field(uint8_t *dst, size_t at, void const *data, size_t len)
{
	at = put_u32(dst, at, len);
	if (dst && len) memcpy(dst + at, data, len);
	return at + len;
}

/** The hashed encoding of (family, url, v4 lines, v6 lines) into dst (if not NULL);
 *  returns its length. Every variable part carries its length and each list its count,
 *  so no two inputs share an encoding. */
static size_t name_input(uint8_t *dst, bool v6, char const *url, char * const *v4, size_t n4,
			 char * const *v6l, size_t n6)
{
	static char const domain[] = MUDP_ACL_HASH_DOMAIN;
	size_t at = 0;
	size_t i;

	at = put_field(dst, at, domain, sizeof(domain) - 1);
	at = put_field(dst, at, v6 ? "IPV6" : "IP", v6 ? 4 : 2);
	at = put_field(dst, at, url, strlen(url));
	at = put_u32(dst, at, n4);
	for (i = 0; i < n4; i++) at = put_field(dst, at, v4[i], strlen(v4[i]));
	at = put_u32(dst, at, n6);
	for (i = 0; i < n6; i++) at = put_field(dst, at, v6l[i], strlen(v6l[i]));
	return at;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

bool mudp_acl_name_hash(char out[MUDP_ACL_HASH_LEN + 1], bool v6, char const *url,
			char * const *v4, size_t n4, char * const *v6l, size_t n6)
{
	uint8_t md[(MUDP_ACL_HASH_BITS + 7) / 8];
	char hex[65];
	uint8_t *buf;
	size_t len;
	size_t i;

	out[0] = '\0';
	if (!url) url = "";
	if ((n4 && !v4) || (n6 && !v6l)) return false;
	for (i = 0; i < n4; i++) {
		if (!v4[i]) return false;
	}
	for (i = 0; i < n6; i++) {
		if (!v6l[i]) return false;
	}

	len = name_input(NULL, v6, url, v4, n4, v6l, n6);
	buf = talloc_array(NULL, uint8_t, len);
	if (!buf) return false;
	name_input(buf, v6, url, v4, n4, v6l, n6);
	mud_sha256_hex(hex, buf, len);
	talloc_free(buf);
	if (strlen(hex) != 64) return false;

	for (i = 0; i < sizeof(md); i++) {
		int hi = hex_nibble(hex[2 * i]);
		int lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) return false;
		md[i] = (uint8_t)((hi << 4) | lo);
	}
	/* Big-endian bit string, 5 bits per character. */
	for (i = 0; i < MUDP_ACL_HASH_LEN; i++) {
		size_t bit = i * 5;
		unsigned int v = (unsigned int)md[bit / 8] << 8;

		if (bit / 8 + 1 < sizeof(md)) v |= md[bit / 8 + 1];
		out[i] = b32_alphabet[(v >> (11 - bit % 8)) & 0x1f];
	}
	out[MUDP_ACL_HASH_LEN] = '\0';
	return true;
}

/** Is c allowed in a dACL label? */
static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

mud_rcode_t mudp_render_acl_name(TALLOC_CTX *ctx, char **out, bool v6, char const *label,
				 char const *url, mud_rendered_t const *r, mud_error_t *err)
{
	char hash[MUDP_ACL_HASH_LEN + 1];
	char esc[64];
	char const *p;
	size_t len;

	*out = NULL;
	if (!label || !label[0]) label = "mud";
	for (p = label; *p; p++) {
		if (label_char(*p)) continue;
		mudp_escape(esc, sizeof(esc), label, strlen(label));
		return mud_error_set(err, MUD_ERR_RENDER, "name",
				     "rule set name \"%s\" has characters not allowed in an ACL "
				     "name (only A-Z a-z 0-9 . _ -)", esc);
	}

	/* Cut the label, never the hash. */
	len = strlen(label);
	if (len > MUDP_ACL_LABEL_MAX) len = MUDP_ACL_LABEL_MAX;

	if (!mudp_acl_name_hash(hash, v6, url, r->v4, r->num_v4, r->v6, r->num_v6)) {
		return mud_error_set(err, MUD_ERR_NOMEM, "mudp_acl_name_hash",
				     "no memory to hash the ACL");
	}
	*out = talloc_asprintf(ctx, "%s%.*s-%s", v6 ? MUDP_ACL_PREFIX_V6 : MUDP_ACL_PREFIX_V4,
			       (int)len, label, hash);
	if (!*out) return mud_error_set(err, MUD_ERR_NOMEM, "talloc", "no memory for an ACL name");
	return MUD_OK;
}

mud_rcode_t mudp_acl_name_check(char const *name, bool v6, char const *url, char * const *v4,
				size_t n4, char * const *v6l, size_t n6, mud_error_t *err)
{
	char const *prefix = v6 ? MUDP_ACL_PREFIX_V6 : MUDP_ACL_PREFIX_V4;
	char hash[MUDP_ACL_HASH_LEN + 1];
	char esc[96];
	size_t plen = strlen(prefix);
	size_t len;
	size_t label;
	size_t i;

	if (!name) return mud_error_set(err, MUD_ERR_ARG, "dACL name", "no name");
	len = strlen(name);
	mudp_escape(esc, sizeof(esc), name, len);
	if (len > MUDP_ACL_NAME_MAX || len < plen + 2 + MUDP_ACL_HASH_LEN ||
	    strncmp(name, prefix, plen) != 0 || name[len - MUDP_ACL_HASH_LEN - 1] != '-') {
		return mud_error_set(err, MUD_ERR_SCHEMA, esc,
				     "not an %s dACL name of the form %s<label>-<%d base32 "
				     "characters>", v6 ? "IPv6" : "IPv4", prefix,
				     MUDP_ACL_HASH_LEN);
	}
	label = len - plen - MUDP_ACL_HASH_LEN - 1;
	if (label > MUDP_ACL_LABEL_MAX) {
		return mud_error_set(err, MUD_ERR_SCHEMA, esc, "label longer than %d characters",
				     MUDP_ACL_LABEL_MAX);
	}
	for (i = plen; i < plen + label; i++) {
		if (!label_char(name[i])) {
			return mud_error_set(err, MUD_ERR_SCHEMA, esc,
					     "label has a character not allowed (only A-Z a-z 0-9 "
					     ". _ -)");
		}
	}
	if (!mudp_acl_name_hash(hash, v6, url, v4, n4, v6l, n6)) {
		return mud_error_set(err, MUD_ERR_NOMEM, esc, "no memory to hash the ACL");
	}
	if (strcmp(name + len - MUDP_ACL_HASH_LEN, hash) != 0) {
		return mud_error_set(err, MUD_ERR_SCHEMA, esc,
				     "name does not match the URL and lines (their hash is %s)",
				     hash);
	}
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

/** Deep copy of a rendered rule set (see mud.h). */
mud_rendered_t *mud_rendered_copy(TALLOC_CTX *ctx, mud_rendered_t const *r)
{
	mud_rendered_t *c;
	bool ok = true;

	if (!r) return NULL;
	c = talloc_zero(ctx, mud_rendered_t);
	if (!c) return NULL;
	*c = *r;
	c->v4 = mudp_lines_dup(c, r->v4, r->num_v4, &ok);
	c->v6 = mudp_lines_dup(c, r->v6, r->num_v6, &ok);
	c->acl_name_v4 = r->acl_name_v4 ? talloc_strdup(c, r->acl_name_v4) : NULL;
	c->acl_name_v6 = r->acl_name_v6 ? talloc_strdup(c, r->acl_name_v6) : NULL;
	if (!ok || (r->acl_name_v4 && !c->acl_name_v4) || (r->acl_name_v6 && !c->acl_name_v6)) {
		talloc_free(c);
		return NULL;
	}
	return c;
}
