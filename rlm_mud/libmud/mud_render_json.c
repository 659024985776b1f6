/*
 * mud_render_json.c - rule set -> JSON document (for logs, mudctl and the
 * "json" output format). Written by hand: json-c stays inside mud_parse.c.
 *
 * Layout: 2-space indent, fixed key order, one rule object per block, port
 * and warning objects on one line. Strings are escaped per RFC 8259: quote,
 * backslash and control characters; bytes >= 0x80 are copied as they are
 * (they come from a UTF-8-validated file).
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "mud_render_priv.h"

/** Growing string; oom sticks once an append fails. */
typedef struct {
	char	*s;
	bool	oom;
} jbuf_t;

static void jb_raw(jbuf_t *b, char const *p, size_t len)
{
	char *n;

	if (b->oom || len == 0) return;
	n = talloc_strndup_append_buffer(b->s, p, len);
	if (!n) {
		b->oom = true;
		return;
	}
	b->s = n;
}

static void jb_printf(jbuf_t *b, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_printf(jbuf_t *b, char const *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {	/* only fixed, short texts come here */
		b->oom = true;
		return;
	}
	jb_raw(b, tmp, (size_t)n);
}

/** A JSON string, or null for NULL. */
static void jb_str(jbuf_t *b, char const *s)
{
	char const *run;
	char const *p;

	if (!s) {
		jb_raw(b, "null", 4);
		return;
	}
	jb_raw(b, "\"", 1);
	run = s;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\') continue;
		jb_raw(b, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case '"':
			jb_raw(b, "\\\"", 2);
			break;
		case '\\':
			jb_raw(b, "\\\\", 2);
			break;
		case '\b':
			jb_raw(b, "\\b", 2);
			break;
		case '\f':
			jb_raw(b, "\\f", 2);
			break;
		case '\n':
			jb_raw(b, "\\n", 2);
			break;
		case '\r':
			jb_raw(b, "\\r", 2);
			break;
		case '\t':
			jb_raw(b, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jb_raw(b, esc, 6);
			break;
		}
	}
	jb_raw(b, run, (size_t)(p - run));
	jb_raw(b, "\"", 1);
}

/** An integer, or null when it is -1 (or 0 when zero_is_null). */
static void jb_int_or_null(jbuf_t *b, int v, bool zero_is_null)
{
	if (v == -1 || (zero_is_null && v == 0)) {
		jb_raw(b, "null", 4);
		return;
	}
	jb_printf(b, "%d", v);
}

static char const *dir_name(mud_dir_t dir)
{
	switch (dir) {
	case MUD_DIR_FROM_DEVICE: return "from-device";
	case MUD_DIR_TO_DEVICE: return "to-device";
	}
	return "unknown";
}

static char const *action_name(mud_action_t action)
{
	switch (action) {
	case MUD_ACTION_ACCEPT: return "accept";
	case MUD_ACTION_DROP: return "drop";
	case MUD_ACTION_REJECT: return "reject";
	}
	return "unknown";
}

static void jb_port(jbuf_t *b, mud_port_t const *p)
{
	switch (p->op) {
	case MUD_PORT_ANY:
		jb_printf(b, "{\"op\": \"any\"}");
		return;
	case MUD_PORT_EQ:
		jb_printf(b, "{\"op\": \"eq\", \"port\": %u}", p->lo);
		return;
	case MUD_PORT_NEQ:
		jb_printf(b, "{\"op\": \"neq\", \"port\": %u}", p->lo);
		return;
	case MUD_PORT_LTE:
		jb_printf(b, "{\"op\": \"lte\", \"port\": %u}", p->lo);
		return;
	case MUD_PORT_GTE:
		jb_printf(b, "{\"op\": \"gte\", \"port\": %u}", p->lo);
		return;
	case MUD_PORT_RANGE:
		jb_printf(b, "{\"op\": \"range\", \"lo\": %u, \"hi\": %u}", p->lo, p->hi);
		return;
	}
	jb_printf(b, "{\"op\": \"unknown\"}");
}

static void jb_rule(jbuf_t *b, mud_rule_t const *r)
{
	char peer[INET6_ADDRSTRLEN + 8];

	if (r->peer.len == 0) {
		mudp_strlcpy(peer, "any", sizeof(peer));
	} else {
		mud_prefix_print(peer, sizeof(peer), &r->peer, true);
	}

	jb_printf(b, "    {\n      \"direction\": ");
	jb_str(b, dir_name(r->dir));
	jb_printf(b, ",\n      \"family\": %d", r->family);
	jb_printf(b, ",\n      \"action\": ");
	jb_str(b, action_name(r->action));
	jb_printf(b, ",\n      \"protocol\": ");
	jb_int_or_null(b, r->protocol, false);
	jb_printf(b, ",\n      \"peer\": ");
	jb_str(b, peer);
	jb_printf(b, ",\n      \"peer-name\": ");
	jb_str(b, r->peer_name);
	jb_printf(b, ",\n      \"device-port\": ");
	jb_port(b, &r->device_port);
	jb_printf(b, ",\n      \"peer-port\": ");
	jb_port(b, &r->peer_port);
	jb_printf(b, ",\n      \"icmp-type\": ");
	jb_int_or_null(b, r->icmp_type, false);
	jb_printf(b, ",\n      \"icmp-code\": ");
	jb_int_or_null(b, r->icmp_code, false);
	jb_printf(b, ",\n      \"established\": %s", r->established ? "true" : "false");
	jb_printf(b, ",\n      \"origin\": ");
	jb_str(b, r->origin);
	jb_printf(b, "\n    }");
}

/** JSON dump of a rule set (see mud.h).
 *
 * @param[in] ctx	talloc parent of the result.
 * @param[in] rs	rule set.
 * @return the document (ending in a newline), or NULL if rs is NULL or memory ran out.
 */
char *mud_ruleset_to_json(TALLOC_CTX *ctx, mud_ruleset_t const *rs)
{
	jbuf_t b = { .s = NULL, .oom = false };
	size_t i;

	if (!rs) return NULL;
	if (rs->num_rules > 0 && !rs->rules) return NULL;
	if (rs->num_warnings > 0 && !rs->warnings) return NULL;

	b.s = talloc_strdup(ctx, "{\n  \"mud-url\": ");
	if (!b.s) return NULL;
	jb_str(&b, rs->mud_url);
	jb_printf(&b, ",\n  \"name\": ");
	jb_str(&b, rs->name);
	jb_printf(&b, ",\n  \"manufacturer\": ");
	jb_str(&b, rs->mfg_name);
	jb_printf(&b, ",\n  \"model\": ");
	jb_str(&b, rs->model_name);
	jb_printf(&b, ",\n  \"cache-validity\": %u", rs->cache_validity);
	jb_printf(&b, ",\n  \"vlan\": ");
	jb_int_or_null(&b, rs->vlan, true);

	jb_printf(&b, ",\n  \"rules\": [");
	for (i = 0; i < rs->num_rules; i++) {
		jb_printf(&b, i ? ",\n" : "\n");
		jb_rule(&b, &rs->rules[i]);
	}
	jb_printf(&b, rs->num_rules ? "\n  ]" : "]");

	jb_printf(&b, ",\n  \"warnings\": [");
	for (i = 0; i < rs->num_warnings; i++) {
		jb_printf(&b, i ? ",\n    {\"where\": " : "\n    {\"where\": ");
		jb_str(&b, rs->warnings[i].where);
		jb_printf(&b, ", \"text\": ");
		jb_str(&b, rs->warnings[i].text);
		jb_printf(&b, "}");
	}
	jb_printf(&b, rs->num_warnings ? "\n  ]\n}\n" : "]\n}\n");

	if (b.oom) {
		talloc_free(b.s);
		return NULL;
	}
	return b.s;
}

mud_rcode_t mudp_render_json(mud_rendered_t *out, mud_ruleset_t const *rs, mud_error_t *err)
{
	char **v;

	v = talloc_array(out, char *, 1);
	if (!v) goto nomem;
	v[0] = mud_ruleset_to_json(v, rs);
	if (!v[0]) {
		talloc_free(v);
		goto nomem;
	}
	out->v4 = v;
	out->num_v4 = 1;
	return MUD_OK;

nomem:
	return mud_error_set(err, MUD_ERR_NOMEM, "mud_ruleset_to_json",
			     "no memory for the JSON dump");
}
