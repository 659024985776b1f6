/*
 * mud_context.c - the site context: what the local network adds to a MUD
 * file (manufacturer networks and VLANs, controllers, local networks, static
 * DNS names, ACL naming). Format: docs/context.md.
 *
 * The parser is strict and bounded like the MUD parser: json-c tokener with a
 * small depth, UTF-8 validated, trailing data rejected, caps on string
 * lengths, map sizes and addresses per entry; unknown members are errors so
 * typos are caught at startup rather than silently ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "mud_private.h"

/** Deepest nesting in a context: root/dns/static/name/array + slack. */
#define CTX_MAX_DEPTH		8
/** Entries per map (manufacturers, controllers, models, DNS names): a site
 *  has a few dozen; 1024 keeps linear lookups cheap. */
#define CTX_MAX_ENTRIES		1024
/** Largest context file: 5 maps x 1024 entries x (1 KiB key + 16 addresses). */
#define CTX_MAX_SIZE		(8 * 1024 * 1024)
/** IEEE 802.1Q: VLAN IDs 0 and 4095 are reserved. */
#define CTX_VLAN_MAX		4094
#define CTX_DNS_SERVERS_MAX	8	//!< resolvers in dns.servers (c-ares uses them in order)
/** acl-prefix: becomes part of dACL names, which NAS limit in length. */
#define CTX_ACL_PREFIX_MAX	32
/** RFC 1035 section 2.3.4: a domain name is at most 253 characters as text. */
#define CTX_DNS_NAME_MAX	253

typedef struct {
	TALLOC_CTX	*tmp;		//!< everything is built under this
	mud_context_t	*c;
	mud_error_t	*err;
} cparse_t;

/** Append one JSON pointer token (RFC 6901: '~' -> "~0", '/' -> "~1") to base;
 *  non-printable bytes are shown as \xNN; the result is bounded by outlen. */
static void jp_key(char *out, size_t outlen, char const *base, char const *key)
{
	char tok[160];
	char esc[160];
	size_t o = 0;
	char const *k;

	for (k = key; *k && o + 3 < sizeof(tok); k++) {
		if (*k == '~') {
			tok[o++] = '~';
			tok[o++] = '0';
		} else if (*k == '/') {
			tok[o++] = '~';
			tok[o++] = '1';
		} else {
			tok[o++] = *k;
		}
	}
	tok[o] = '\0';
	mudp_escape(esc, sizeof(esc), tok, o);
	snprintf(out, outlen, "%.100s/%.58s", base, esc);
}

/** base + "/" + index. */
static void jp_idx(char *out, size_t outlen, char const *base, size_t idx)
{
	snprintf(out, outlen, "%.140s/%zu", base, idx);
}

static char const *json_type_label(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "unknown";
}

static mud_rcode_t nomem(cparse_t *p, char const *where)
{
	return mud_error_set(p->err, MUD_ERR_NOMEM, where, "out of memory");
}

static mud_rcode_t type_error(cparse_t *p, char const *where, json_object *o, char const *want)
{
	return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "expected %s, got %s", want,
			     json_type_label(o));
}

static mud_rcode_t expect_type(cparse_t *p, char const *where, json_object *o, json_type t,
			       char const *want)
{
	if (!o || !json_object_is_type(o, t)) return type_error(p, where, o, want);
	return MUD_OK;
}

/** A JSON string value: bounded, no embedded NUL. */
static mud_rcode_t get_string(cparse_t *p, char const *where, json_object *o, char const **out)
{
	char const *s;
	int slen;

	if (expect_type(p, where, o, json_type_string, "a string") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}
	s = json_object_get_string(o);
	slen = json_object_get_string_len(o);
	if (slen < 0 || (size_t)slen > MUD_MAX_STRING_LEN) {
		return mud_error_set(p->err, MUD_ERR_LIMIT, where,
				     "string of %d bytes is longer than %d", slen,
				     MUD_MAX_STRING_LEN);
	}
	if (strlen(s) != (size_t)slen) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "string contains a NUL byte");
	}
	*out = s;
	return MUD_OK;
}

/** Check a key's length (json-c keys are C strings). */
static mud_rcode_t check_key(cparse_t *p, char const *where, char const *key)
{
	size_t klen = strlen(key);

	if (klen == 0) return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "empty key");
	if (klen > MUD_MAX_STRING_LEN) {
		return mud_error_set(p->err, MUD_ERR_LIMIT, where,
				     "key of %zu bytes is longer than %d", klen,
				     MUD_MAX_STRING_LEN);
	}
	return MUD_OK;
}

/** Lowercase a host or DNS name, drop one trailing dot, and check it:
 *  letters, digits, '-', '_', '.', (':' for IPv6 literal authorities); no empty label. */
static mud_rcode_t host_normalise(cparse_t *p, char const *where, char const *key, bool authority,
				  char **out)
{
	char esc[128];
	size_t klen = strlen(key);
	size_t i;
	char *n;

	mudp_escape(esc, sizeof(esc), key, klen);
	if (klen > 0 && key[klen - 1] == '.') klen--;
	if (klen == 0 || klen > CTX_DNS_NAME_MAX) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
				     "\"%s\" is not a valid host name (length)", esc);
	}
	n = talloc_strndup(p->tmp, key, klen);
	if (!n) return nomem(p, where);
	for (i = 0; i < klen; i++) {
		unsigned char ch = (unsigned char)n[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			  ch == '_' || ch == '.' || (authority && ch == ':');

		if (ch >= 'A' && ch <= 'Z') {
			n[i] = (char)(ch - 'A' + 'a');
			continue;
		}
		if (!ok || (ch == '.' && (i == 0 || n[i - 1] == '.'))) {
			talloc_free(n);
			return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
					     "\"%s\" is not a valid host name", esc);
		}
	}
	*out = n;
	return MUD_OK;
}

/** URI keys are kept exactly; only printable ASCII without spaces. */
static mud_rcode_t uri_check(cparse_t *p, char const *where, char const *key, char **out)
{
	char const *k;

	for (k = key; *k; k++) {
		if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f) {
			char esc[128];

			mudp_escape(esc, sizeof(esc), key, strlen(key));
			return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
					     "\"%s\" is not a URI (printable ASCII without spaces)",
					     esc);
		}
	}
	*out = talloc_strdup(p->tmp, key);
	if (!*out) return nomem(p, where);
	return MUD_OK;
}

/** An array of prefixes ("a.b.c.d", "a.b.c.d/n", "x::y", "x::/n"); host bits
 *  beyond the prefix length are an error; exact duplicates are dropped. */
static mud_rcode_t parse_prefixes(cparse_t *p, char const *where, json_object *arr,
				  mud_ctx_prefixes_t *out)
{
	size_t n;
	size_t i;

	if (expect_type(p, where, arr, json_type_array, "an array of addresses or prefixes")
	    != MUD_OK) return MUD_ERR_CONTEXT;
	n = json_object_array_length(arr);
	if (n > MUD_MAX_ADDRS_PER_NAME) {
		return mud_error_set(p->err, MUD_ERR_LIMIT, where,
				     "%zu addresses, at most %d per entry", n,
				     MUD_MAX_ADDRS_PER_NAME);
	}
	out->num = 0;
	out->prefixes = NULL;
	if (n == 0) return MUD_OK;
	out->prefixes = talloc_zero_array(p->tmp, mud_prefix_t, n);
	if (!out->prefixes) return nomem(p, where);

	for (i = 0; i < n; i++) {
		char w[160];
		char const *s;
		mud_error_t perr;
		mud_prefix_t pf;
		size_t j;
		bool dup = false;
		mud_rcode_t rc;

		jp_idx(w, sizeof(w), where, i);
		rc = get_string(p, w, json_object_array_get_idx(arr, i), &s);
		if (rc != MUD_OK) return rc;
		mud_error_clear(&perr);
		if (mud_prefix_parse(&pf, s, false, &perr) != MUD_OK) {
			return mud_error_set(p->err, MUD_ERR_CONTEXT, w, "%s", perr.text);
		}
		for (j = 0; j < out->num; j++) {
			mud_prefix_t const *q = &out->prefixes[j];

			if (q->family == pf.family && q->len == pf.len &&
			    memcmp(q->addr, pf.addr, sizeof(pf.addr)) == 0) {
				dup = true;
				break;
			}
		}
		if (!dup) out->prefixes[out->num++] = pf;
	}
	return MUD_OK;
}

/** VLAN ID 1..4094. */
static mud_rcode_t parse_vlan(cparse_t *p, char const *where, json_object *o, int *vlan)
{
	int64_t v;

	if (expect_type(p, where, o, json_type_int, "an integer VLAN ID") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}
	v = json_object_get_int64(o);
	if (v < 1 || v > CTX_VLAN_MAX) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
				     "VLAN %lld out of range 1..%d", (long long)v, CTX_VLAN_MAX);
	}
	*vlan = (int)v;
	return MUD_OK;
}

/** Check an object and its size; returns its member count in *n. */
static mud_rcode_t map_begin(cparse_t *p, char const *where, json_object *o, char const *want,
			     size_t *n)
{
	int len;

	if (expect_type(p, where, o, json_type_object, want) != MUD_OK) return MUD_ERR_CONTEXT;
	len = json_object_object_length(o);
	if (len < 0 || len > CTX_MAX_ENTRIES) {
		return mud_error_set(p->err, MUD_ERR_LIMIT, where,
				     "%d entries, at most %d", len, CTX_MAX_ENTRIES);
	}
	*n = (size_t)len;
	return MUD_OK;
}

static mud_rcode_t unknown_member(cparse_t *p, char const *where, char const *key)
{
	char esc[96];

	mudp_escape(esc, sizeof(esc), key, strlen(key));
	return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "unknown member \"%s\"", esc);
}

static mud_rcode_t duplicate_key(cparse_t *p, char const *where, char const *key)
{
	char esc[96];

	mudp_escape(esc, sizeof(esc), key, strlen(key));
	return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
			     "duplicate entry \"%s\" (names are compared in lowercase)", esc);
}

/** "manufacturers": { authority: { "vlan": N, "networks": [...] } } */
static mud_rcode_t parse_manufacturers(cparse_t *p, char const *where, json_object *o)
{
	struct json_object_iterator it;
	struct json_object_iterator end;
	size_t n;
	mud_rcode_t rc;

	rc = map_begin(p, where, o, "an object (authority -> entry)", &n);
	if (rc != MUD_OK) return rc;
	if (n == 0) return MUD_OK;
	p->c->manufacturers = talloc_zero_array(p->c, mud_ctx_manufacturer_t, n);
	if (!p->c->manufacturers) return nomem(p, where);

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		char const *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		mud_ctx_manufacturer_t *m = &p->c->manufacturers[p->c->num_manufacturers];
		struct json_object_iterator mit;
		struct json_object_iterator mend;
		char w[160];
		size_t i;

		jp_key(w, sizeof(w), where, key);
		rc = check_key(p, w, key);
		if (rc != MUD_OK) return rc;
		rc = host_normalise(p, w, key, true, &m->authority);
		if (rc != MUD_OK) return rc;
		talloc_steal(p->c->manufacturers, m->authority);
		for (i = 0; i < p->c->num_manufacturers; i++) {
			if (strcmp(p->c->manufacturers[i].authority, m->authority) == 0) {
				return duplicate_key(p, w, key);
			}
		}
		if (expect_type(p, w, val, json_type_object,
				"an object with \"vlan\" and/or \"networks\"") != MUD_OK) {
			return MUD_ERR_CONTEXT;
		}

		mit = json_object_iter_begin(val);
		mend = json_object_iter_end(val);
		for (; !json_object_iter_equal(&mit, &mend); json_object_iter_next(&mit)) {
			char const *mkey = json_object_iter_peek_name(&mit);
			json_object *mval = json_object_iter_peek_value(&mit);
			char mw[160];

			jp_key(mw, sizeof(mw), w, mkey);
			if (strcmp(mkey, "vlan") == 0) {
				rc = parse_vlan(p, mw, mval, &m->vlan);
			} else if (strcmp(mkey, "networks") == 0) {
				rc = parse_prefixes(p, mw, mval, &m->nets);
				if (rc == MUD_OK) {
					talloc_steal(p->c->manufacturers, m->nets.prefixes);
				}
			} else {
				rc = unknown_member(p, mw, mkey);
			}
			if (rc != MUD_OK) return rc;
		}
		p->c->num_manufacturers++;
	}
	return MUD_OK;
}

/** { URI: [prefixes] } for controllers, my-controllers and models. */
static mud_rcode_t parse_named(cparse_t *p, char const *where, json_object *o,
			       mud_ctx_named_t **arr, size_t *num)
{
	struct json_object_iterator it;
	struct json_object_iterator end;
	size_t n;
	mud_rcode_t rc;

	rc = map_begin(p, where, o, "an object (URI -> addresses)", &n);
	if (rc != MUD_OK) return rc;
	if (n == 0) return MUD_OK;
	*arr = talloc_zero_array(p->c, mud_ctx_named_t, n);
	if (!*arr) return nomem(p, where);

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		char const *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		mud_ctx_named_t *e = &(*arr)[*num];
		char w[160];
		size_t i;

		jp_key(w, sizeof(w), where, key);
		rc = check_key(p, w, key);
		if (rc != MUD_OK) return rc;
		rc = uri_check(p, w, key, &e->key);
		if (rc != MUD_OK) return rc;
		talloc_steal(*arr, e->key);
		for (i = 0; i < *num; i++) {
			if (strcmp((*arr)[i].key, e->key) == 0) return duplicate_key(p, w, key);
		}
		rc = parse_prefixes(p, w, val, &e->nets);
		if (rc != MUD_OK) return rc;
		talloc_steal(*arr, e->nets.prefixes);
		(*num)++;
	}
	return MUD_OK;
}

/** An integer in lo..hi. */
static mud_rcode_t parse_int_range(cparse_t *p, char const *where, json_object *o, int64_t lo,
				   int64_t hi, char const *what, int64_t *out)
{
	int64_t v;

	if (expect_type(p, where, o, json_type_int, "an integer") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}
	v = json_object_get_int64(o);
	if (v < lo || v > hi) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "%s %lld out of range "
				     "%lld..%lld", what, (long long)v, (long long)lo,
				     (long long)hi);
	}
	*out = v;
	return MUD_OK;
}

/** "servers": ["192.0.2.53", "192.0.2.54:5353", "2001:db8::53", "[2001:db8::53]:53"] ->
 *  the c-ares list "ip:port,[ipv6]:port" (every entry checked here, not by the resolver). */
static mud_rcode_t parse_dns_servers(cparse_t *p, char const *where, json_object *o)
{
	char *csv;
	size_t n;
	size_t i;

	if (expect_type(p, where, o, json_type_array, "an array of resolver addresses") !=
	    MUD_OK) return MUD_ERR_CONTEXT;
	n = json_object_array_length(o);
	if (n == 0 || n > CTX_DNS_SERVERS_MAX) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where, "%zu resolvers: give 1..%d",
				     n, CTX_DNS_SERVERS_MAX);
	}
	csv = talloc_strdup(p->c, "");
	if (!csv) return nomem(p, where);
	for (i = 0; i < n; i++) {
		char w[160];
		char host[64];
		char const *s;
		char const *colon;
		long port = 53;
		uint8_t a[16];
		int fam = 0;
		size_t hl;

		jp_idx(w, sizeof(w), where, i);
		if (get_string(p, w, json_object_array_get_idx(o, i), &s) != MUD_OK) {
			return MUD_ERR_CONTEXT;
		}
		if (s[0] == '[') {
			char const *end = strchr(s, ']');

			if (!end || (end[1] != '\0' && end[1] != ':')) goto bad;
			hl = (size_t)(end - s - 1);
			if (hl >= sizeof(host)) goto bad;
			memcpy(host, s + 1, hl);
			host[hl] = '\0';
			colon = end[1] == ':' ? end + 1 : NULL;
		} else {
			colon = strchr(s, ':');
			if (colon && strchr(colon + 1, ':')) colon = NULL;	/* bare IPv6 */
			hl = colon ? (size_t)(colon - s) : strlen(s);
			if (hl >= sizeof(host)) goto bad;
			memcpy(host, s, hl);
			host[hl] = '\0';
		}
		if (inet_pton(AF_INET, host, a) == 1) {
			fam = 4;
		} else if (inet_pton(AF_INET6, host, a) == 1) {
			fam = 6;
		} else {
			goto bad;
		}
		if (colon) {
			char *end = NULL;

			if (!colon[1]) goto bad;
			port = strtol(colon + 1, &end, 10);
			if (!end || *end || port < 1 || port > 65535) goto bad;
		}
		csv = talloc_asprintf_append(csv, "%s%s%s%s:%ld", i ? "," : "",
					     fam == 6 ? "[" : "", host, fam == 6 ? "]" : "", port);
		if (!csv) return nomem(p, w);
		continue;
bad:
		return mud_error_set(p->err, MUD_ERR_CONTEXT, w,
				     "\"%s\" is not an IP address with an optional port "
				     "(a.b.c.d[:port], x::y, [x::y]:port)", s);
	}
	talloc_free(p->c->dns_servers);
	p->c->dns_servers = csv;
	return MUD_OK;
}

/** "dns": { "resolve": bool, "servers": [...], "timeout": s, "max-names": n,
 *  "static": { name: [addresses] } } */
static mud_rcode_t parse_dns(cparse_t *p, char const *where, json_object *o)
{
	struct json_object_iterator it;
	struct json_object_iterator end;
	mud_rcode_t rc;

	if (expect_type(p, where, o, json_type_object,
			"an object with \"resolve\", \"servers\", \"timeout\", \"max-names\" "
			"and/or \"static\"") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}

	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		char const *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		char w[160];

		jp_key(w, sizeof(w), where, key);
		if (strcmp(key, "resolve") == 0) {
			if (expect_type(p, w, val, json_type_boolean, "a boolean") != MUD_OK) {
				return MUD_ERR_CONTEXT;
			}
			p->c->dns_resolve = json_object_get_boolean(val) ? true : false;
		} else if (strcmp(key, "servers") == 0) {
			rc = parse_dns_servers(p, w, val);
			if (rc != MUD_OK) return rc;
		} else if (strcmp(key, "timeout") == 0) {
			int64_t v;

			rc = parse_int_range(p, w, val, 1, MUD_DNS_BUDGET_MAX_MS / 1000,
					     "timeout (seconds)", &v);
			if (rc != MUD_OK) return rc;
			p->c->dns_budget_ms = (unsigned int)v * 1000u;
		} else if (strcmp(key, "max-names") == 0) {
			int64_t v;

			rc = parse_int_range(p, w, val, 1, MUD_DNS_NAMES_MAX, "max-names", &v);
			if (rc != MUD_OK) return rc;
			p->c->dns_max_names = (unsigned int)v;
		} else if (strcmp(key, "static") == 0) {
			struct json_object_iterator sit;
			struct json_object_iterator send;
			size_t n;

			rc = map_begin(p, w, val, "an object (name -> addresses)", &n);
			if (rc != MUD_OK) return rc;
			if (n == 0) continue;
			p->c->dns = talloc_zero_array(p->c, mud_ctx_dns_t, n);
			if (!p->c->dns) return nomem(p, w);
			p->c->num_dns = 0;

			sit = json_object_iter_begin(val);
			send = json_object_iter_end(val);
			for (; !json_object_iter_equal(&sit, &send); json_object_iter_next(&sit)) {
				char const *name = json_object_iter_peek_name(&sit);
				json_object *addrs = json_object_iter_peek_value(&sit);
				mud_ctx_dns_t *d = &p->c->dns[p->c->num_dns];
				char sw[160];
				size_t i;

				jp_key(sw, sizeof(sw), w, name);
				rc = check_key(p, sw, name);
				if (rc != MUD_OK) return rc;
				rc = host_normalise(p, sw, name, false, &d->name);
				if (rc != MUD_OK) return rc;
				talloc_steal(p->c->dns, d->name);
				for (i = 0; i < p->c->num_dns; i++) {
					if (strcmp(p->c->dns[i].name, d->name) == 0) {
						return duplicate_key(p, sw, name);
					}
				}
				rc = parse_prefixes(p, sw, addrs, &d->addrs);
				if (rc != MUD_OK) return rc;
				talloc_steal(p->c->dns, d->addrs.prefixes);
				p->c->num_dns++;
			}
		} else {
			return unknown_member(p, w, key);
		}
	}
	return MUD_OK;
}

/** "services": { "dhcp": bool, "ipv6-nd": bool, "dns": [addresses], "ntp": [addresses] } */
static mud_rcode_t parse_services(cparse_t *p, char const *where, json_object *o)
{
	struct json_object_iterator it;
	struct json_object_iterator end;
	mud_rcode_t rc;

	if (expect_type(p, where, o, json_type_object,
			"an object with \"dhcp\", \"ipv6-nd\", \"dns\" and/or \"ntp\"") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		char const *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		char w[160];

		jp_key(w, sizeof(w), where, key);
		if (strcmp(key, "dhcp") == 0 || strcmp(key, "ipv6-nd") == 0) {
			if (expect_type(p, w, val, json_type_boolean, "a boolean") != MUD_OK) {
				return MUD_ERR_CONTEXT;
			}
			if (key[0] == 'd') {
				p->c->svc_dhcp = json_object_get_boolean(val) ? true : false;
			} else {
				p->c->svc_nd = json_object_get_boolean(val) ? true : false;
			}
		} else if (strcmp(key, "dns") == 0 || strcmp(key, "ntp") == 0) {
			mud_ctx_prefixes_t *pl = (key[0] == 'd') ? &p->c->svc_dns : &p->c->svc_ntp;

			rc = parse_prefixes(p, w, val, pl);
			if (rc != MUD_OK) return rc;
			talloc_steal(p->c, pl->prefixes);
		} else {
			return unknown_member(p, w, key);
		}
	}
	return MUD_OK;
}

/** acl-prefix: [A-Za-z0-9_-]{1,32} */
static mud_rcode_t parse_acl_prefix(cparse_t *p, char const *where, json_object *o)
{
	char const *s;
	char const *q;
	size_t slen;
	char esc[96];
	mud_rcode_t rc;

	rc = get_string(p, where, o, &s);
	if (rc != MUD_OK) return rc;
	slen = strlen(s);
	mudp_escape(esc, sizeof(esc), s, slen);
	if (slen == 0 || slen > CTX_ACL_PREFIX_MAX) {
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
				     "acl-prefix \"%s\" must be 1..%d characters", esc,
				     CTX_ACL_PREFIX_MAX);
	}
	for (q = s; *q; q++) {
		if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')) continue;
		if ((*q >= '0' && *q <= '9') || *q == '_' || *q == '-') continue;
		return mud_error_set(p->err, MUD_ERR_CONTEXT, where,
				     "acl-prefix \"%s\" may only hold A-Z a-z 0-9 _ -", esc);
	}
	talloc_free(p->c->acl_prefix);
	p->c->acl_prefix = talloc_strdup(p->c, s);
	if (!p->c->acl_prefix) return nomem(p, where);
	return MUD_OK;
}

static mud_rcode_t parse_root(cparse_t *p, json_object *root)
{
	struct json_object_iterator it;
	struct json_object_iterator end;
	mud_rcode_t rc;

	if (expect_type(p, "", root, json_type_object, "an object at the root") != MUD_OK) {
		return MUD_ERR_CONTEXT;
	}
	it = json_object_iter_begin(root);
	end = json_object_iter_end(root);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		char const *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);
		char w[160];

		jp_key(w, sizeof(w), "", key);
		if (strcmp(key, "manufacturers") == 0) {
			rc = parse_manufacturers(p, w, val);
		} else if (strcmp(key, "local-networks") == 0) {
			rc = parse_prefixes(p, w, val, &p->c->local_networks);
			if (rc == MUD_OK) talloc_steal(p->c, p->c->local_networks.prefixes);
		} else if (strcmp(key, "controllers") == 0) {
			rc = parse_named(p, w, val, &p->c->controllers, &p->c->num_controllers);
		} else if (strcmp(key, "my-controllers") == 0) {
			rc = parse_named(p, w, val, &p->c->my_controllers,
					 &p->c->num_my_controllers);
		} else if (strcmp(key, "models") == 0) {
			rc = parse_named(p, w, val, &p->c->models, &p->c->num_models);
		} else if (strcmp(key, "default-vlan") == 0) {
			rc = parse_vlan(p, w, val, &p->c->default_vlan);
		} else if (strcmp(key, "quarantine-vlan") == 0) {
			rc = parse_vlan(p, w, val, &p->c->quarantine_vlan);
		} else if (strcmp(key, "dns") == 0) {
			rc = parse_dns(p, w, val);
		} else if (strcmp(key, "acl-prefix") == 0) {
			rc = parse_acl_prefix(p, w, val);
		} else if (strcmp(key, "services") == 0) {
			rc = parse_services(p, w, val);
		} else {
			rc = unknown_member(p, w, key);
		}
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}

/** Is the rest of the buffer only JSON whitespace? */
static bool only_space(char const *data, size_t from, size_t len)
{
	size_t i;

	for (i = from; i < len; i++) {
		char ch = data[i];

		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') return false;
	}
	return true;
}

/** Reject what json-c 0.16 accepts even in strict mode: single-quoted strings,
 *  NaN/Infinity, raw control characters inside strings, "1." numbers. json-c
 *  still checks the grammar; this only narrows the character set to RFC 8259. */
static mud_rcode_t json_prescan(char const *data, size_t len, mud_error_t *err)
{
	bool in_str = false;
	size_t i;
	char where[64];

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (in_str) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = false;
			} else if (c < 0x20) {
				snprintf(where, sizeof(where), "offset %zu", i);
				return mud_error_set(err, MUD_ERR_JSON, where,
						     "control character 0x%02x in a string", c);
			}
			continue;
		}
		if (c == '"') {
			in_str = true;
			continue;
		}
		if (c == '.' && (i + 1 >= len || data[i + 1] < '0' || data[i + 1] > '9')) {
			snprintf(where, sizeof(where), "offset %zu", i);
			return mud_error_set(err, MUD_ERR_JSON, where, "malformed number");
		}
		if (c && strchr(" \t\r\n{}[]:,0123456789+-.eE" "truefalsn", c)) continue;
		snprintf(where, sizeof(where), "offset %zu", i);
		return mud_error_set(err, MUD_ERR_JSON, where, "unexpected character 0x%02x", c);
	}
	return MUD_OK;
}

/** Tokenise with json-c, strictly and bounded. */
static mud_rcode_t json_load(json_object **out, char const *data, size_t len, mud_error_t *err)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	size_t end;
	char where[64];

	*out = NULL;
	if (json_prescan(data, len, err) != MUD_OK) return MUD_ERR_JSON;
	tok = json_tokener_new_ex(CTX_MAX_DEPTH);
	if (!tok) return mud_error_set(err, MUD_ERR_NOMEM, "json_tokener_new_ex", "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

	root = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root && jerr == json_tokener_continue) {
		/* A bare top-level number needs a terminator; anything else is truncated. */
		root = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
		if (!root && jerr == json_tokener_continue) {
			json_tokener_free(tok);
			snprintf(where, sizeof(where), "offset %zu", len);
			return mud_error_set(err, MUD_ERR_JSON, where, "unexpected end of input");
		}
		end = len;
	}
	if (!root && jerr != json_tokener_success) {
		snprintf(where, sizeof(where), "offset %zu", end);
		json_tokener_free(tok);
		if (jerr == json_tokener_error_depth) {
			return mud_error_set(err, MUD_ERR_LIMIT, where, "nesting deeper than %d",
					     CTX_MAX_DEPTH);
		}
		return mud_error_set(err, MUD_ERR_JSON, where, "%s", json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	/* root is NULL here for a JSON null: the caller reports the type. */
	if (end < len && !only_space(data, end, len)) {
		json_object_put(root);
		snprintf(where, sizeof(where), "offset %zu", end);
		return mud_error_set(err, MUD_ERR_JSON, where, "trailing data after JSON value");
	}
	*out = root;
	return MUD_OK;
}

/** Load a context from JSON text (format in docs/context.md). */
mud_rcode_t mud_context_parse(TALLOC_CTX *ctx, mud_context_t **out, char const *data, size_t len,
			      mud_error_t *err)
{
	cparse_t p;
	json_object *root = NULL;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output pointer");
	*out = NULL;
	if (!data && len) return mud_error_set(err, MUD_ERR_ARG, "", "no data");
	if (len > CTX_MAX_SIZE) {
		return mud_error_set(err, MUD_ERR_LIMIT, "",
				     "context of %zu bytes is larger than %d", len, CTX_MAX_SIZE);
	}
	if (len == 0) return mud_error_set(err, MUD_ERR_JSON, "offset 0", "empty input");

	rc = json_load(&root, data, len, err);
	if (rc != MUD_OK) return rc;

	p.err = err;
	p.tmp = talloc_new(ctx);
	if (!p.tmp) {
		json_object_put(root);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}
	p.c = mud_context_alloc(p.tmp);
	if (!p.c) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
		goto error;
	}
	rc = parse_root(&p, root);
	if (rc != MUD_OK) goto error;
	mud_sha256_hex(p.c->digest, data, len);	/* the bytes as given (as read from the file) */

	json_object_put(root);
	*out = talloc_steal(ctx, p.c);
	talloc_free(p.tmp);
	return MUD_OK;

error:
	json_object_put(root);
	talloc_free(p.tmp);
	return rc;
}

/** Load a context from a file. */
mud_rcode_t mud_context_load(TALLOC_CTX *ctx, mud_context_t **out, char const *path,
			     mud_error_t *err)
{
	FILE *fp;
	char *buf;
	size_t n;
	size_t size;
	struct stat st;
	mud_rcode_t rc;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "", "no output pointer");
	*out = NULL;
	if (!path) return mud_error_set(err, MUD_ERR_ARG, "", "no path");

	fp = fopen(path, "rb");
	if (!fp) {
		int e = errno;

		if (e == ENOENT) return mud_error_set(err, MUD_ERR_IO, path, "no such file");
		if (e == EACCES) return mud_error_set(err, MUD_ERR_IO, path, "permission denied");
		return mud_error_set(err, MUD_ERR_IO, path, "cannot open: errno %d", e);
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return mud_error_set(err, MUD_ERR_IO, path, "not a regular file");
	}
	if (st.st_size > CTX_MAX_SIZE) {
		fclose(fp);
		return mud_error_set(err, MUD_ERR_LIMIT, path,
				     "context of %lld bytes is larger than %d",
				     (long long)st.st_size, CTX_MAX_SIZE);
	}
	size = (size_t)st.st_size;
	buf = talloc_array(ctx, char, size + 1);
	if (!buf) {
		fclose(fp);
		return mud_error_set(err, MUD_ERR_NOMEM, path, "out of memory");
	}
	n = fread(buf, 1, size + 1, fp);
	if (ferror(fp) || n != size) {
		fclose(fp);
		talloc_free(buf);
		return mud_error_set(err, MUD_ERR_IO, path, "read error or file changed");
	}
	fclose(fp);
	rc = mud_context_parse(ctx, out, buf, n, err);
	talloc_free(buf);
	return rc;
}

/** An empty context (no abstractions resolvable, DNS resolution on, acl-prefix "mud"). */
mud_context_t *mud_context_alloc(TALLOC_CTX *ctx)
{
	mud_context_t *c = talloc_zero(ctx, mud_context_t);

	if (!c) return NULL;
	c->dns_resolve = true;
	mud_sha256_hex(c->digest, "", 0);	/* no file: the digest of no bytes */
	c->acl_prefix = talloc_strdup(c, "mud");
	if (!c->acl_prefix) {
		talloc_free(c);
		return NULL;
	}
	return c;
}
