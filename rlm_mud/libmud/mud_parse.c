/*
 * mud_parse.c - MUD file (RFC 8520, RFC 8519, ietf-acldns) JSON -> mud_file_t.
 *
 * The only file of libmud that includes <json-c/json.h>. The document is
 * parsed with a bounded, strict tokener; the tree is then walked member by
 * member against the YANG models (RFC 7951 JSON encoding). Every error names
 * the JSON pointer of the offending node, with member names exactly as they
 * appear in the file. The json-c tree is released on every path; strings are
 * copied into the talloc tree of the result.
 *
 * Member names of unknown modules ("nist-mud:...") are ignored with a warning
 * (RFC 8520 section 3.9); unknown members of known modules are schema errors.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mud_private.h"

#define MP_PTR_MAX	512	//!< JSON pointer buffer (mud_error_t.where keeps 160 bytes of it)
#define MP_ESC_LEN	64	//!< escaped value shown in error texts
#define MP_SEG_LEN	48	//!< escaped member name in a pointer segment

#define ACL_MOD		"ietf-access-control-list"
#define ACL_PREFIX	ACL_MOD ":"

/** Parser state. */
typedef struct {
	mud_file_t	*file;		//!< result, parent of all allocations
	TALLOC_CTX	*tmp;		//!< scratch (member lists), freed when the parse ends
	mud_ace_t	*matches_ace;	//!< ACE whose "matches" are being read, else NULL
	unsigned int	flags;		//!< MUD_PARSE_*
	mud_error_t	*err;		//!< caller's error (may be NULL)
	char		ptr[MP_PTR_MAX];	//!< current JSON pointer
	size_t		plen;		//!< its length
} mp_t;

/*
 *	Modules whose members we know: a member qualified with one of these
 *	that is not in our tables is a schema error, not an extension.
 */
static char const *const known_modules[] = {
	"ietf-mud", ACL_MOD, "ietf-packet-fields", "ietf-acldns", "ietf-ethertypes",
	"ietf-inet-types", "ietf-yang-types", "ietf-interfaces",
};

/** ietf-ethertypes enumeration names (the union's second member type). */
static struct {
	char const	*name;
	int		value;
} const ethertype_names[] = {
	{ "ipv4", 0x0800 }, { "arp", 0x0806 }, { "wlan", 0x0842 }, { "trill", 0x22f3 },
	{ "srp", 0x22ea }, { "decnet", 0x6003 }, { "rarp", 0x8035 }, { "appletalk", 0x809b },
	{ "aarp", 0x80f3 }, { "vlan", 0x8100 }, { "ipx", 0x8137 }, { "qnx", 0x8204 },
	{ "ipv6", 0x86dd }, { "efc", 0x8808 }, { "esp", 0x8809 }, { "cobranet", 0x8819 },
	{ "mpls-unicast", 0x8847 }, { "mpls-multicast", 0x8848 }, { "pppoe-discovery", 0x8863 },
	{ "pppoe-session", 0x8864 }, { "intel-ans", 0x886d }, { "jumbo-frames", 0x8870 },
	{ "homeplug", 0x887b }, { "eap", 0x888e }, { "profinet", 0x8892 },
	{ "hyperscsi", 0x889a }, { "aoe", 0x88a2 }, { "ethercat", 0x88a4 },
	{ "provider-bridging", 0x88a8 }, { "ethernet-powerlink", 0x88ab }, { "goose", 0x88b8 },
	{ "gse", 0x88b9 }, { "sv", 0x88ba }, { "lldp", 0x88cc }, { "sercos", 0x88cd },
	{ "wsmp", 0x88dc }, { "homeplug-av-mme", 0x88e1 }, { "mrp", 0x88e3 },
	{ "macsec", 0x88e5 }, { "pbb", 0x88e7 }, { "cfm", 0x8902 }, { "fcoe", 0x8906 },
	{ "fcoe-ip", 0x8914 }, { "roce", 0x8915 }, { "tte", 0x891d }, { "hsr", 0x892f },
};

/* ====================================================================
 *	JSON pointer, errors, warnings
 * ==================================================================== */

/** Append "/seg" (RFC 6901 escaping, non-printable bytes as \xNN); returns the old length. */
static size_t ptr_push(mp_t *p, char const *seg)
{
	size_t old = p->plen;
	char esc[MP_SEG_LEN];
	char buf[2 * MP_SEG_LEN + 2];
	size_t o = 0;
	size_t i;
	size_t n;

	mudp_escape(esc, sizeof(esc), seg, strlen(seg));
	buf[o++] = '/';
	for (i = 0; esc[i]; i++) {
		if (esc[i] == '~') {
			buf[o++] = '~';
			buf[o++] = '0';
		} else if (esc[i] == '/') {
			buf[o++] = '~';
			buf[o++] = '1';
		} else {
			buf[o++] = esc[i];
		}
	}
	buf[o] = '\0';
	n = o;
	if (p->plen + n >= sizeof(p->ptr)) return old;	/* deeper than any real MUD file */
	memcpy(p->ptr + p->plen, buf, n + 1);
	p->plen += n;
	return old;
}

static size_t ptr_push_idx(mp_t *p, size_t idx)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%zu", idx);
	return ptr_push(p, buf);
}

static void ptr_pop(mp_t *p, size_t old)
{
	p->plen = old;
	p->ptr[old] = '\0';
}

/** Record an error at the current pointer. */
static mud_rcode_t perr(mp_t *p, mud_rcode_t code, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static mud_rcode_t perr(mp_t *p, mud_rcode_t code, char const *fmt, ...)
{
	char text[sizeof(((mud_error_t *)0)->text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return mud_error_set(p->err, code, p->ptr, "%s", text);
}

/** Record an error at the current pointer + "/child". */
static mud_rcode_t perr_at(mp_t *p, char const *child, mud_rcode_t code, char const *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static mud_rcode_t perr_at(mp_t *p, char const *child, mud_rcode_t code, char const *fmt, ...)
{
	char text[sizeof(((mud_error_t *)0)->text)];
	va_list ap;
	size_t old;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	old = ptr_push(p, child);
	mud_error_set(p->err, code, p->ptr, "%s", text);
	ptr_pop(p, old);
	return code;
}

static mud_rcode_t nomem(mp_t *p)
{
	return perr(p, MUD_ERR_NOMEM, "out of memory");
}

/** Warning at the current pointer. */
static void pwarn(mp_t *p, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pwarn(mp_t *p, char const *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mudp_warn(p->file, &p->file->warnings, &p->file->num_warnings,
		  &p->file->num_warnings_dropped, p->ptr, "%s", text);
}

/** Whether lenient mode is on. */
static bool lenient_on(mp_t const *p)
{
	return (p->flags & MUD_PARSE_LENIENT) != 0;
}

/** Note an applied leniency (bit + warning "lenient: ..."). */
static void lenient_note(mp_t *p, unsigned int bit, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lenient_note(mp_t *p, unsigned int bit, char const *fmt, ...)
{
	char text[224];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	p->file->leniencies |= bit;
	pwarn(p, "lenient: %s", text);
}

/** Escaped, bounded copy of a value's text for messages. */
static void esc_str(char out[MP_ESC_LEN], char const *s, size_t len)
{
	mudp_escape(out, MP_ESC_LEN, s, len);
}

/** "string \"x\"", "number 5", "object"... for "expected X, got Y" texts. */
static void describe(char *out, size_t outlen, json_object *o)
{
	char esc[MP_ESC_LEN];
	char const *s;

	switch (json_object_get_type(o)) {
	case json_type_null:
		mudp_strlcpy(out, "null", outlen);
		return;
	case json_type_boolean:
		snprintf(out, outlen, "boolean %s", json_object_get_boolean(o) ? "true" : "false");
		return;
	case json_type_double:
	case json_type_int:
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		if (!s) s = "?";
		esc_str(esc, s, strlen(s));
		snprintf(out, outlen, "number %s", esc);
		return;
	case json_type_string:
		esc_str(esc, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		snprintf(out, outlen, "string \"%s\"", esc);
		return;
	case json_type_object:
		mudp_strlcpy(out, "object", outlen);
		return;
	case json_type_array:
		mudp_strlcpy(out, "array", outlen);
		return;
	}
	mudp_strlcpy(out, "unknown", outlen);
}

static mud_rcode_t type_err(mp_t *p, char const *expected, json_object *o)
{
	char got[96];

	describe(got, sizeof(got), o);
	return perr(p, MUD_ERR_SCHEMA, "expected %s, got %s", expected, got);
}

/* ====================================================================
 *	Unknown members
 * ==================================================================== */

static bool module_known(char const *name, size_t len)
{
	size_t i;

	for (i = 0; i < MUD_ARRAY_LEN(known_modules); i++) {
		if (strlen(known_modules[i]) == len && memcmp(known_modules[i], name, len) == 0) {
			return true;
		}
	}
	return false;
}

static bool extension_listed(mp_t const *p, char const *name, size_t len)
{
	size_t i;

	for (i = 0; i < p->file->num_extensions; i++) {
		if (strlen(p->file->extensions[i]) == len &&
		    memcmp(p->file->extensions[i], name, len) == 0) return true;
	}
	return false;
}

static mud_rcode_t unknown_match(mp_t *p, mud_ace_t *ace, char const *what);

/** A member not in our tables: warning if its module is unknown, else a schema error.
 *  Inside an ACE's matches, a node of an unknown module makes the ACE unenforceable.
 *  The pointer already ends with the member. */
static mud_rcode_t unknown_member(mp_t *p, char const *key, char const *parent, char const *hint)
{
	char const *colon = strchr(key, ':');
	char esc[MP_ESC_LEN];
	char mod[MP_ESC_LEN];
	size_t mlen;

	esc_str(esc, key, strlen(key));
	if (!colon || module_known(key, (size_t)(colon - key))) {
		return perr(p, MUD_ERR_SCHEMA, "unknown node \"%s\" in %s%s", esc, parent,
			    hint ? hint : "");
	}
	mlen = (size_t)(colon - key);
	esc_str(mod, key, mlen);
	if (p->matches_ace) {
		char what[2 * MP_ESC_LEN + 48];

		snprintf(what, sizeof(what), "match node \"%s\" of unknown module \"%s\"", esc,
			 mod);
		return unknown_match(p, p->matches_ace, what);
	}
	if (extension_listed(p, colon + 1, strlen(colon + 1)) || extension_listed(p, key, mlen)) {
		pwarn(p, "node \"%s\" of unknown module \"%s\" ignored", esc, mod);
	} else {
		pwarn(p, "node \"%s\" of unknown module \"%s\" ignored (not listed in extensions)",
		      esc, mod);
	}
	return MUD_OK;
}

/* ====================================================================
 *	Typed leaves
 * ==================================================================== */

/** Expect a JSON object. */
static mud_rcode_t want_object(mp_t *p, json_object *o)
{
	if (json_object_get_type(o) != json_type_object) return type_err(p, "object", o);
	return MUD_OK;
}

/** Expect a JSON array. */
static mud_rcode_t want_array(mp_t *p, json_object *o)
{
	if (json_object_get_type(o) != json_type_array) return type_err(p, "array", o);
	return MUD_OK;
}

/** Parse a string of decimal digits (lenient numbers); false if not one. */
static bool digits_value(char const *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 12) return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/** An unsigned integer leaf (uint8/uint16/uint32 are JSON numbers in RFC 7951). */
static mud_rcode_t get_uint(mp_t *p, json_object *o, char const *name, int64_t lo, int64_t hi,
			    int64_t *out)
{
	int64_t v = 0;

	if (json_object_get_type(o) == json_type_int) {
		v = json_object_get_int64(o);
	} else if (json_object_get_type(o) == json_type_string &&
		   digits_value(json_object_get_string(o), (size_t)json_object_get_string_len(o),
				&v)) {
		if (!lenient_on(p)) return type_err(p, "number", o);
		lenient_note(p, MUD_LENIENT_NUMBER_STRING, "number given as string \"%s\"",
			     json_object_get_string(o));
	} else if (json_object_get_type(o) == json_type_double) {
		return type_err(p, "integer", o);
	} else {
		return type_err(p, "number", o);
	}
	if (v == INT64_MAX || v == INT64_MIN) {	/* json-c saturates larger numbers */
		return perr(p, MUD_ERR_SCHEMA, "%s number too large, out of range %lld..%lld", name,
			    (long long)lo, (long long)hi);
	}
	if (v < lo || v > hi) {
		return perr(p, MUD_ERR_SCHEMA, "%s %lld out of range %lld..%lld", name,
			    (long long)v, (long long)lo, (long long)hi);
	}
	*out = v;
	return MUD_OK;
}

/** A boolean leaf. */
static mud_rcode_t get_bool(mp_t *p, json_object *o, bool *out)
{
	char const *s;

	if (json_object_get_type(o) == json_type_boolean) {
		*out = json_object_get_boolean(o) != 0;
		return MUD_OK;
	}
	if (json_object_get_type(o) == json_type_string && lenient_on(p)) {
		s = json_object_get_string(o);
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
			*out = (s[0] == 't');
			lenient_note(p, MUD_LENIENT_BOOL_STRING, "boolean given as string \"%s\"",
				     s);
			return MUD_OK;
		}
	}
	return type_err(p, "boolean", o);
}

/** A YANG "empty" leaf: [null]. */
static mud_rcode_t get_empty(mp_t *p, json_object *o)
{
	if (json_object_get_type(o) == json_type_array && json_object_array_length(o) == 1 &&
	    json_object_get_type(json_object_array_get_idx(o, 0)) == json_type_null) return MUD_OK;

	if (lenient_on(p)) {
		if (json_object_get_type(o) == json_type_boolean && json_object_get_boolean(o)) {
			lenient_note(p, MUD_LENIENT_EMPTY_AS_TRUE, "empty leaf given as true");
			return MUD_OK;
		}
		if (json_object_get_type(o) == json_type_string &&
		    json_object_get_string_len(o) == 0) {
			lenient_note(p, MUD_LENIENT_EMPTY_AS_TRUE, "empty leaf given as \"\"");
			return MUD_OK;
		}
	}
	return type_err(p, "[null] (YANG empty)", o);
}

/** A string leaf: length bounds (YANG length, MUD_MAX_STRING_LEN), no NUL. */
static mud_rcode_t get_str(mp_t *p, json_object *o, char const *name, size_t minlen, size_t maxlen,
			   char **out)
{
	char const *s;
	size_t len;
	char esc[MP_ESC_LEN];

	if (json_object_get_type(o) != json_type_string) return type_err(p, "string", o);
	s = json_object_get_string(o);
	len = (size_t)json_object_get_string_len(o);
	if (len > MUD_MAX_STRING_LEN) {
		esc_str(esc, s, len);
		return perr(p, MUD_ERR_LIMIT,
			    "%s is %zu bytes, longer than the limit of %d: \"%s\"", name, len,
			    MUD_MAX_STRING_LEN, esc);
	}
	if (memchr(s, '\0', len)) {
		esc_str(esc, s, len);
		return perr(p, MUD_ERR_SCHEMA, "%s contains a NUL character: \"%s\"", name, esc);
	}
	if (len < minlen || len > maxlen) {
		esc_str(esc, s, len);
		return perr(p, MUD_ERR_SCHEMA, "%s \"%s\" length %zu out of range %zu..%zu", name,
			    esc, len, minlen, maxlen);
	}
	if (!out) return MUD_OK;
	*out = talloc_strndup(p->file, s, len);
	if (!*out) return nomem(p);
	return MUD_OK;
}

/** An identityref value: "name" or "module:name" of the given module. NULL if neither. */
static char const *identity_local(char const *s, char const *module)
{
	size_t mlen = strlen(module);

	if (strncmp(s, module, mlen) == 0 && s[mlen] == ':') return s + mlen + 1;
	if (strchr(s, ':')) return NULL;
	return s;
}

/* ====================================================================
 *	Value syntax: date-and-time, URI, host, MAC
 * ==================================================================== */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/** Two digits at s, value in lo..hi. */
static bool two_digits(char const *s, int lo, int hi)
{
	int v;

	if (!is_digit(s[0]) || !is_digit(s[1])) return false;
	v = (s[0] - '0') * 10 + (s[1] - '0');
	return v >= lo && v <= hi;
}

/** yang:date-and-time. Returns 0 ok, 1 ok except the missing offset, -1 bad. */
static int date_check(char const *s)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!is_digit(s[i])) return -1;
	}
	if (s[4] != '-' || !two_digits(s + 5, 1, 12) || s[7] != '-' || !two_digits(s + 8, 1, 31) ||
	    s[10] != 'T' || !two_digits(s + 11, 0, 23) || s[13] != ':' ||
	    !two_digits(s + 14, 0, 59) || s[16] != ':' || !two_digits(s + 17, 0, 60)) return -1;
	s += 19;
	if (*s == '.') {
		s++;
		if (!is_digit(*s)) return -1;
		while (is_digit(*s)) s++;
	}
	if (*s == '\0') return 1;
	if (s[0] == 'Z' && s[1] == '\0') return 0;
	if ((s[0] == '+' || s[0] == '-') && two_digits(s + 1, 0, 23) && s[3] == ':' &&
	    two_digits(s + 4, 0, 59) && s[6] == '\0') return 0;
	return -1;
}

/** inet:uri, loosely (RFC 3986): scheme ":" then printable ASCII without spaces. */
static bool uri_ok(char const *s)
{
	size_t i;

	if (!is_alpha(s[0])) return false;
	for (i = 1; s[i] && s[i] != ':'; i++) {
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '+' && s[i] != '-' &&
		    s[i] != '.') {
			return false;
		}
	}
	if (s[i] != ':' || s[i + 1] == '\0') return false;
	for (i++; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}') return false;
	}
	return true;
}

/** inet:domain-name (RFC 6991 pattern, without the lone "."). */
static bool domain_ok(char const *s)
{
	size_t len = strlen(s);
	size_t label = 0;
	size_t i;

	if (len > 0 && s[len - 1] == '.') len--;
	if (len == 0 || len > 253) return false;
	for (i = 0; i <= len; i++) {
		char c = (i < len) ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > 63) return false;
			if (!is_alpha(s[i - 1]) && !is_digit(s[i - 1])) return false;
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '_' && !(c == '-' && label > 0))
			return false;
		label++;
	}
	return true;
}

/** inet:host: IP address or domain name. */
static bool host_ok(char const *s)
{
	uint8_t addr[16];
	char buf[64];
	char const *pct;

	if (inet_pton(AF_INET, s, addr) == 1) return true;
	pct = strchr(s, '%');	/* ipv6-address allows a zone */
	if (pct && (size_t)(pct - s) < sizeof(buf)) {
		memcpy(buf, s, (size_t)(pct - s));
		buf[pct - s] = '\0';
		if (pct[1] && inet_pton(AF_INET6, buf, addr) == 1) return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) return true;
	return domain_ok(s);
}

/** yang:mac-address. */
static bool mac_ok(char const *s)
{
	size_t i;

	if (strlen(s) != 17) return false;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':') return false;
		} else if (!is_xdigit(s[i])) {
			return false;
		}
	}
	return true;
}

/** A string leaf checked by a syntax predicate. */
static mud_rcode_t get_typed_str(mp_t *p, json_object *o, char const *name, char const *what,
				 bool (*ok)(char const *), char **out)
{
	char *s = NULL;
	mud_rcode_t rc;

	rc = get_str(p, o, name, 1, MUD_MAX_STRING_LEN, &s);
	if (rc != MUD_OK) return rc;
	if (!ok(s)) {
		char esc[MP_ESC_LEN];

		esc_str(esc, s, strlen(s));
		talloc_free(s);
		return perr(p, MUD_ERR_SCHEMA, "%s \"%s\" is not a valid %s", name, esc, what);
	}
	if (out) {
		*out = s;
	} else {
		talloc_free(s);
	}
	return MUD_OK;
}

/** An https URL leaf (mud-url, mud-signature), checked by mud_url_parse(). */
static mud_rcode_t get_https(mp_t *p, json_object *o, char const *name, char **out)
{
	mud_error_t uerr;
	char *s = NULL;
	mud_rcode_t rc;

	rc = get_str(p, o, name, 1, MUD_MAX_URL_LEN, &s);
	if (rc != MUD_OK) return rc;
	mud_error_clear(&uerr);
	if (mud_url_parse(NULL, NULL, s, strlen(s), &uerr) != MUD_OK) {
		char esc[MP_ESC_LEN];

		esc_str(esc, s, strlen(s));
		talloc_free(s);
		return perr(p, MUD_ERR_SCHEMA, "%s \"%s\" is not a valid MUD URL: %s", name, esc,
			    uerr.text);
	}
	*out = s;
	return MUD_OK;
}

/* ====================================================================
 *	ietf-mud:mud
 * ==================================================================== */

/*
 *	Members are visited in a canonical order (byte order of their names), never
 *	in document order: JSON objects are unordered (RFC 8259 section 4), so any
 *	permutation of a document's members gives the same verdict, the same first
 *	error, the same warnings and the same compiled output. Checks that relate
 *	members of one object to each other run after the whole object is read.
 */
typedef struct {
	char const	*name;
	json_object	*val;
} mp_member_t;

typedef struct {
	mp_member_t	*m;	//!< sorted members (under mp_t.tmp)
	size_t		num;
	size_t		i;
} mp_iter_t;

static int member_cmp(void const *a, void const *b)
{
	return strcmp(((mp_member_t const *)a)->name, ((mp_member_t const *)b)->name);
}

/** Start iterating the members of object o in canonical order. */
static mud_rcode_t iter_init(mp_t *p, mp_iter_t *i, json_object *o)
{
	struct json_object_iterator it = json_object_iter_begin(o);
	struct json_object_iterator end = json_object_iter_end(o);
	size_t n = (size_t)json_object_object_length(o);

	i->m = NULL;
	i->num = 0;
	i->i = 0;
	if (n == 0) return MUD_OK;
	i->m = talloc_array(p->tmp, mp_member_t, n);
	if (!i->m) return nomem(p);
	while (!json_object_iter_equal(&it, &end) && i->num < n) {
		i->m[i->num].name = json_object_iter_peek_name(&it);
		i->m[i->num].val = json_object_iter_peek_value(&it);
		i->num++;
		json_object_iter_next(&it);
	}
	qsort(i->m, i->num, sizeof(i->m[0]), member_cmp);
	return MUD_OK;
}

static bool iter_more(mp_iter_t *i, char const **name, json_object **val)
{
	if (i->i >= i->num) return false;
	*name = i->m[i->i].name;
	*val = i->m[i->i].val;
	i->i++;
	return true;
}

/** from-device-policy / to-device-policy: { access-lists { access-list [ {name} ] } }. */
static mud_rcode_t parse_policy(mp_t *p, json_object *o, char ***names, size_t *num)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		mp_iter_t it2;
		char const *key2;
		json_object *val2;
		size_t old = ptr_push(p, key);
		if (strcmp(key, "access-lists") != 0) {
			rc = unknown_member(p, key, "policy", NULL);
			ptr_pop(p, old);
			if (rc != MUD_OK) return rc;
			continue;
		}
		rc = want_object(p, val);
		if (rc != MUD_OK) return rc;
		rc = iter_init(p, &it2, val);
		if (rc != MUD_OK) return rc;
		while (iter_more(&it2, &key2, &val2)) {
			size_t old2 = ptr_push(p, key2);
			size_t n;
			size_t i;

			if (strcmp(key2, "access-list") != 0) {
				rc = unknown_member(p, key2, "access-lists", NULL);
				ptr_pop(p, old2);
				if (rc != MUD_OK) return rc;
				continue;
			}
			rc = want_array(p, val2);
			if (rc != MUD_OK) return rc;
			n = json_object_array_length(val2);
			if (n > MUD_MAX_POLICY_REFS) {
				return perr(p, MUD_ERR_LIMIT,
					    "%zu access-list entries, more than the limit of %d",
					    n, MUD_MAX_POLICY_REFS);
			}
			talloc_free(*names);
			*names = talloc_zero_array(p->file, char *, n ? n : 1);
			*num = 0;
			if (!*names) return nomem(p);
			for (i = 0; i < n; i++) {
				json_object *e = json_object_array_get_idx(val2, i);
				size_t old3 = ptr_push_idx(p, i);
				mp_iter_t it3;
				char const *key3;
				json_object *val3;
				char *name = NULL;
				size_t j;

				rc = want_object(p, e);
				if (rc != MUD_OK) return rc;
				rc = iter_init(p, &it3, e);
				if (rc != MUD_OK) return rc;
				while (iter_more(&it3, &key3, &val3)) {
					size_t old4 = ptr_push(p, key3);

					if (strcmp(key3, "name") == 0) {
						rc = get_str(p, val3, "name", 1, 64, &name);
					} else {
						rc = unknown_member(p, key3, "access-list", NULL);
					}
					if (rc != MUD_OK) return rc;
					ptr_pop(p, old4);
				}
				if (!name) {
					return perr(p, MUD_ERR_SCHEMA,
						    "missing mandatory leaf \"name\"");
				}
				for (j = 0; j < *num; j++) {
					char esc[MP_ESC_LEN];

					if (strcmp((*names)[j], name) != 0) continue;
					esc_str(esc, name, strlen(name));
					return perr_at(p, "name", MUD_ERR_SCHEMA,
						       "duplicate access-list \"%s\"", esc);
				}
				(*names)[(*num)++] = name;
				ptr_pop(p, old3);
			}
			ptr_pop(p, old2);
		}
		ptr_pop(p, old);
	}
	return MUD_OK;
}

/** "extensions" leaf-list. */
static mud_rcode_t parse_extensions(mp_t *p, json_object *o)
{
	mud_file_t *f = p->file;
	size_t n;
	size_t i;
	mud_rcode_t rc;

	rc = want_array(p, o);
	if (rc != MUD_OK) return rc;
	n = json_object_array_length(o);
	if (n > MUD_MAX_EXTENSIONS) {
		return perr(p, MUD_ERR_LIMIT, "%zu extensions, more than the limit of %d", n,
			    MUD_MAX_EXTENSIONS);
	}
	f->extensions = talloc_zero_array(f, char *, n ? n : 1);
	if (!f->extensions) return nomem(p);
	for (i = 0; i < n; i++) {
		size_t old = ptr_push_idx(p, i);
		char *s = NULL;
		size_t j;
		char esc[MP_ESC_LEN];

		rc = get_str(p, json_object_array_get_idx(o, i), "extension", 1, 40, &s);
		if (rc != MUD_OK) return rc;
		esc_str(esc, s, strlen(s));
		for (j = 0; j < f->num_extensions; j++) {
			if (strcmp(f->extensions[j], s) == 0) {
				return perr(p, MUD_ERR_SCHEMA, "duplicate extension \"%s\"", esc);
			}
		}
		f->extensions[f->num_extensions++] = s;
		/* libmud implements no MUD extension yet. */
		pwarn(p, "extension \"%s\" not supported; ignored", esc);
		ptr_pop(p, old);
	}
	return MUD_OK;
}

static mud_rcode_t parse_mud(mp_t *p, json_object *o)
{
	mud_file_t *f = p->file;
	json_object *ext;
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	bool have_version = false;
	bool have_supported = false;
	int64_t v = 0;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;

	/* extensions first: unknown-module warnings refer to them */
	if (json_object_object_get_ex(o, "extensions", &ext)) {
		size_t old = ptr_push(p, "extensions");

		rc = parse_extensions(p, ext);
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}

	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "extensions") == 0) {
			rc = MUD_OK;
		} else if (strcmp(key, "mud-version") == 0) {
			rc = get_uint(p, val, "mud-version", 0, 255, &v);
			if (rc == MUD_OK && v != 1) {
				rc = perr(p, MUD_ERR_UNSUPPORTED,
					  "mud-version %lld not supported (only 1)", (long long)v);
			}
			f->mud_version = (int)v;
			have_version = true;
		} else if (strcmp(key, "mud-url") == 0) {
			rc = get_https(p, val, "mud-url", &f->mud_url);
		} else if (strcmp(key, "last-update") == 0) {
			rc = get_str(p, val, "last-update", 1, 64, &f->last_update);
			if (rc == MUD_OK) {
				int d = date_check(f->last_update);
				char esc[MP_ESC_LEN];

				esc_str(esc, f->last_update, strlen(f->last_update));
				if (d < 0 || (d == 1 && !lenient_on(p))) {
					rc = perr(p, MUD_ERR_SCHEMA,
						  "last-update \"%s\" is not a date-and-time "
						  "(YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm))",
						  esc);
				} else if (d == 1) {
					lenient_note(p, MUD_LENIENT_DATE_NO_OFFSET,
						     "last-update \"%s\" without a UTC offset",
						     esc);
				}
			}
		} else if (strcmp(key, "mud-signature") == 0) {
			rc = get_https(p, val, "mud-signature", &f->mud_signature);
		} else if (strcmp(key, "cache-validity") == 0) {
			rc = get_uint(p, val, "cache-validity", MUD_CACHE_VALIDITY_MIN,
				      MUD_CACHE_VALIDITY_MAX, &v);
			f->cache_validity = (unsigned int)v;
			f->cache_validity_set = true;
		} else if (strcmp(key, "is-supported") == 0) {
			rc = get_bool(p, val, &f->is_supported);
			have_supported = true;
		} else if (strcmp(key, "systeminfo") == 0) {
			rc = get_str(p, val, "systeminfo", 0, MUD_MAX_STRING_LEN, &f->systeminfo);
		} else if (strcmp(key, "mfg-name") == 0) {
			rc = get_str(p, val, "mfg-name", 0, MUD_MAX_STRING_LEN, &f->mfg_name);
		} else if (strcmp(key, "model-name") == 0) {
			rc = get_str(p, val, "model-name", 0, MUD_MAX_STRING_LEN, &f->model_name);
		} else if (strcmp(key, "firmware-rev") == 0) {
			rc = get_str(p, val, "firmware-rev", 0, MUD_MAX_STRING_LEN,
				     &f->firmware_rev);
		} else if (strcmp(key, "software-rev") == 0) {
			rc = get_str(p, val, "software-rev", 0, MUD_MAX_STRING_LEN,
				     &f->software_rev);
		} else if (strcmp(key, "documentation") == 0) {
			rc = get_typed_str(p, val, "documentation", "URI", uri_ok,
					   &f->documentation);
		} else if (strcmp(key, "from-device-policy") == 0) {
			rc = parse_policy(p, val, &f->from_device, &f->num_from_device);
		} else if (strcmp(key, "to-device-policy") == 0) {
			rc = parse_policy(p, val, &f->to_device, &f->num_to_device);
		} else if (!strchr(key, ':') && lenient_on(p)) {
			char esc[MP_ESC_LEN];

			esc_str(esc, key, strlen(key));
			lenient_note(p, MUD_LENIENT_UNKNOWN_NODE,
				     "unknown node \"%s\" in ietf-mud:mud ignored", esc);
			rc = MUD_OK;
		} else {
			rc = unknown_member(p, key, "ietf-mud:mud", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}

	if (!have_version) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"mud-version\"");
	if (!f->mud_url) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"mud-url\"");
	if (!f->last_update)
		return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"last-update\"");
	if (!have_supported)
		return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"is-supported\"");
	return MUD_OK;
}

/* ====================================================================
 *	ACEs
 * ==================================================================== */

/** Leaves we type-check but cannot enforce: matching on them is refused
 *  (ignoring them would make a rule broader than the file says). */
static mud_rcode_t unenforceable(mp_t *p, char const *name)
{
	return perr(p, MUD_ERR_UNSUPPORTED,
		    "match on \"%s\" not supported (ignoring it would widen the rule)", name);
}

/** port-range-or-operator container. */
static mud_rcode_t parse_port(mp_t *p, json_object *o, mud_port_t *port)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	int64_t lower = -1;
	int64_t upper = -1;
	int64_t pnum = -1;
	mud_port_op_t op = MUD_PORT_EQ;
	bool have_op = false;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "lower-port") == 0) {
			rc = get_uint(p, val, "lower-port", 0, 65535, &lower);
		} else if (strcmp(key, "upper-port") == 0) {
			rc = get_uint(p, val, "upper-port", 0, 65535, &upper);
		} else if (strcmp(key, "port") == 0) {
			rc = get_uint(p, val, "port", 0, 65535, &pnum);
		} else if (strcmp(key, "operator") == 0) {
			char const *s;
			char esc[MP_ESC_LEN];

			if (json_object_get_type(val) != json_type_string)
				return type_err(p, "string", val);
			s = json_object_get_string(val);
			have_op = true;
			if (strcmp(s, "eq") == 0) {
				op = MUD_PORT_EQ;
			} else if (strcmp(s, "neq") == 0) {
				op = MUD_PORT_NEQ;
			} else if (strcmp(s, "lte") == 0) {
				op = MUD_PORT_LTE;
			} else if (strcmp(s, "gte") == 0) {
				op = MUD_PORT_GTE;
			} else {
				esc_str(esc, s, (size_t)json_object_get_string_len(val));
				rc = perr(p, MUD_ERR_SCHEMA,
					  "operator \"%s\" is not one of eq, neq, lte, gte", esc);
			}
		} else {
			rc = unknown_member(p, key, "port match", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}

	if ((lower >= 0 || upper >= 0) && (pnum >= 0 || have_op)) {
		return perr(p, MUD_ERR_SCHEMA,
			    "lower-port/upper-port and operator/port are alternatives (choice "
			    "port-range-or-operator)");
	}
	if (lower >= 0 || upper >= 0) {
		if (lower < 0)
			return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"lower-port\"");
		if (upper < 0)
			return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"upper-port\"");
		if (lower > upper) {
			return perr(p, MUD_ERR_SEMANTIC,
				    "lower-port %lld greater than upper-port %lld",
				    (long long)lower, (long long)upper);
		}
		port->op = MUD_PORT_RANGE;
		port->lo = (uint16_t)lower;
		port->hi = (uint16_t)upper;
		return MUD_OK;
	}
	if (have_op && pnum < 0) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"port\"");
	if (pnum < 0) {
		port->op = MUD_PORT_ANY;	/* empty container: no match on this port */
		return MUD_OK;
	}
	port->op = op;
	port->lo = (uint16_t)pnum;
	port->hi = 0;
	return MUD_OK;
}

/** ipv4 / ipv6 match container (also the legacy "ipv4-acl"/"ipv6-acl"). */
static mud_rcode_t parse_l3(mp_t *p, json_object *o, mud_ace_t *ace, int family, bool legacy,
			    bool *legacy_ports)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	int64_t v = 0;
	char const *cname = family == 4 ? "ipv4" : "ipv6";
	char const *dst_net = family == 4 ? "destination-ipv4-network" : "destination-ipv6-network";
	char const *src_net = family == 4 ? "source-ipv4-network" : "source-ipv6-network";

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	ace->l3 = family == 4 ? MUD_L3_IPV4 : MUD_L3_IPV6;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "protocol") == 0) {
			rc = get_uint(p, val, "protocol", 0, 255, &v);
			ace->protocol = (int)v;
		} else if (strcmp(key, "dscp") == 0) {
			rc = get_uint(p, val, "dscp", 0, 63, &v);
			ace->dscp = (int)v;
		} else if (strcmp(key, "ecn") == 0) {
			rc = get_uint(p, val, "ecn", 0, 3, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (strcmp(key, "length") == 0) {
			rc = get_uint(p, val, "length", 0, 65535, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (strcmp(key, "ttl") == 0) {
			rc = get_uint(p, val, "ttl", 0, 255, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (family == 4 && strcmp(key, "ihl") == 0) {
			rc = get_uint(p, val, "ihl", 5, 60, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (family == 4 && strcmp(key, "flags") == 0) {
			rc = get_str(p, val, "flags", 0, 64, NULL);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (family == 4 && strcmp(key, "offset") == 0) {
			rc = get_uint(p, val, "offset", 20, 65535, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (family == 4 && strcmp(key, "identification") == 0) {
			rc = get_uint(p, val, "identification", 0, 65535, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (family == 6 && strcmp(key, "flow-label") == 0) {
			rc = get_uint(p, val, "flow-label", 0, 1048575, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (strcmp(key, dst_net) == 0 || strcmp(key, src_net) == 0) {
			char *s = NULL;
			mud_prefix_t pfx;
			mud_error_t perr_local;
			char esc[MP_ESC_LEN];

			rc = get_str(p, val, key, 1, 64, &s);
			if (rc != MUD_OK) return rc;
			esc_str(esc, s, strlen(s));
			mud_error_clear(&perr_local);
			if (!strchr(s, '/') ||
			    mud_prefix_parse(&pfx, s, false, &perr_local) != MUD_OK ||
			    pfx.family != family) {
				return perr(p, MUD_ERR_SCHEMA, "%s \"%s\" is not an %s prefix%s%s",
					    key, esc, family == 4 ? "IPv4" : "IPv6",
					    perr_local.code ? ": " : "", perr_local.text);
			}
			if (key[0] == 'd') {
				ace->dst_network = s;
			} else {
				ace->src_network = s;
			}
		} else if (strcmp(key, "ietf-acldns:src-dnsname") == 0) {
			rc = get_typed_str(p, val, "src-dnsname", "host name", host_ok,
					   &ace->src_dnsname);
		} else if (strcmp(key, "ietf-acldns:dst-dnsname") == 0) {
			rc = get_typed_str(p, val, "dst-dnsname", "host name", host_ok,
					   &ace->dst_dnsname);
		} else if (legacy && (strcmp(key, "source-port-range-or-operator") == 0 ||
				      strcmp(key, "destination-port-range-or-operator") == 0)) {
			/* lenient only: legacy containers are refused otherwise */
			lenient_note(p, MUD_LENIENT_PORT_OPER,
				     "draft port match \"%s\" in \"%s-acl\"", key, cname);
			rc = parse_port(p, val, key[0] == 's' ? &ace->src_port : &ace->dst_port);
			*legacy_ports = true;
		} else {
			rc = unknown_member(p, key, cname, NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	return MUD_OK;
}

/** tcp / udp / icmp match container. */
static mud_rcode_t parse_l4(mp_t *p, json_object *o, mud_ace_t *ace, mud_l4_t l4)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	int64_t v = 0;
	char const *cname = l4 == MUD_L4_TCP ? "tcp" : (l4 == MUD_L4_UDP ? "udp" : "icmp");

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	ace->l4 = l4;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (l4 != MUD_L4_ICMP && strcmp(key, "source-port") == 0) {
			rc = parse_port(p, val, &ace->src_port);
		} else if (l4 != MUD_L4_ICMP && strcmp(key, "destination-port") == 0) {
			rc = parse_port(p, val, &ace->dst_port);
		} else if (l4 == MUD_L4_TCP && strcmp(key, "ietf-mud:direction-initiated") == 0) {
			char const *s;
			char esc[MP_ESC_LEN];

			if (json_object_get_type(val) != json_type_string)
				return type_err(p, "string", val);
			s = json_object_get_string(val);
			if (strcmp(s, "to-device") == 0) {
				ace->direction_initiated = MUD_DIRINIT_TO_DEVICE;
			} else if (strcmp(s, "from-device") == 0) {
				ace->direction_initiated = MUD_DIRINIT_FROM_DEVICE;
			} else {
				esc_str(esc, s, (size_t)json_object_get_string_len(val));
				rc = perr(p, MUD_ERR_SCHEMA,
					  "direction-initiated \"%s\" is not to-device or "
					  "from-device",
					  esc);
			}
		} else if (l4 == MUD_L4_TCP && (strcmp(key, "sequence-number") == 0 ||
						strcmp(key, "acknowledgement-number") == 0)) {
			rc = get_uint(p, val, key, 0, 4294967295LL, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_TCP && strcmp(key, "data-offset") == 0) {
			rc = get_uint(p, val, key, 5, 15, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_TCP && strcmp(key, "reserved") == 0) {
			rc = get_uint(p, val, key, 0, 255, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_TCP && (strcmp(key, "window-size") == 0 ||
						strcmp(key, "urgent-pointer") == 0)) {
			rc = get_uint(p, val, key, 0, 65535, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_TCP && (strcmp(key, "flags") == 0 ||
						strcmp(key, "options") == 0)) {
			rc = get_str(p, val, key, 0, MUD_MAX_STRING_LEN, NULL);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_UDP && strcmp(key, "length") == 0) {
			rc = get_uint(p, val, key, 0, 65535, &v);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (l4 == MUD_L4_ICMP && strcmp(key, "type") == 0) {
			rc = get_uint(p, val, "type", 0, 255, &v);
			ace->icmp_type = (int)v;
		} else if (l4 == MUD_L4_ICMP && strcmp(key, "code") == 0) {
			rc = get_uint(p, val, "code", 0, 255, &v);
			ace->icmp_code = (int)v;
		} else if (l4 == MUD_L4_ICMP && strcmp(key, "rest-of-header") == 0) {
			rc = get_str(p, val, key, 0, MUD_MAX_STRING_LEN, NULL);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else {
			rc = unknown_member(p, key, cname, NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	return MUD_OK;
}

/** eth match container. */
static mud_rcode_t parse_eth(mp_t *p, json_object *o, mud_ace_t *ace)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	int64_t v = 0;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	ace->eth = true;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "destination-mac-address") == 0) {
			rc = get_typed_str(p, val, key, "MAC address", mac_ok, &ace->dst_mac);
		} else if (strcmp(key, "source-mac-address") == 0) {
			rc = get_typed_str(p, val, key, "MAC address", mac_ok, &ace->src_mac);
		} else if (strcmp(key, "destination-mac-address-mask") == 0 ||
			   strcmp(key, "source-mac-address-mask") == 0) {
			rc = get_typed_str(p, val, key, "MAC address", mac_ok, NULL);
			if (rc == MUD_OK) rc = unenforceable(p, key);
		} else if (strcmp(key, "ethertype") == 0) {
			if (json_object_get_type(val) == json_type_string) {
				char const *s = json_object_get_string(val);
				size_t len = (size_t)json_object_get_string_len(val);
				char esc[MP_ESC_LEN];
				size_t i;

				esc_str(esc, s, len);
				ace->ethertype = -1;
				for (i = 0; i < MUD_ARRAY_LEN(ethertype_names); i++) {
					if (strcmp(ethertype_names[i].name, s) == 0) {
						ace->ethertype = ethertype_names[i].value;
					}
				}
				if (ace->ethertype < 0 && lenient_on(p) && len >= 3 && len <= 6 &&
				    s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
					char *end = NULL;
					unsigned long hv = strtoul(s + 2, &end, 16);

					if (end && *end == '\0' && is_xdigit(s[2])) {
						ace->ethertype = (int)hv;
						lenient_note(p, MUD_LENIENT_ETHERTYPE_HEX,
							     "ethertype given as hex string \"%s\"",
							     esc);
					}
				}
				if (ace->ethertype < 0) {
					rc = perr(p, MUD_ERR_SCHEMA,
						  "ethertype \"%s\" is neither a "
						  "number nor an ietf-ethertypes name",
						  esc);
				}
			} else {
				rc = get_uint(p, val, "ethertype", 0, 65535, &v);
				ace->ethertype = (int)v;
			}
		} else {
			rc = unknown_member(p, key, "eth", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	return MUD_OK;
}

static int abs_cmp(void const *a, void const *b)
{
	return (int)((mud_ace_abs_t const *)a)->kind - (int)((mud_ace_abs_t const *)b)->kind;
}

/** A controller value: inet:uri, or in lenient mode a bare class name ("bacnet"). */
static mud_rcode_t get_controller(mp_t *p, json_object *o, char **out)
{
	char esc[MP_ESC_LEN];
	mud_rcode_t rc;
	char *s = NULL;

	rc = get_str(p, o, "controller", 1, MUD_MAX_STRING_LEN, &s);
	if (rc != MUD_OK) return rc;
	esc_str(esc, s, strlen(s));
	if (!uri_ok(s)) {
		if (!lenient_on(p) || !domain_ok(s)) {
			talloc_free(s);
			return perr(p, MUD_ERR_SCHEMA, "controller \"%s\" is not a valid URI%s",
				    esc, lenient_on(p) ? " nor a class name" :
				    " (lenient mode accepts a class name)");
		}
		lenient_note(p, MUD_LENIENT_CONTROLLER_NAME,
			     "controller \"%s\" is not a URI: a site-defined controller class "
			     "(map it in the context's \"controllers\")", esc);
	}
	*out = s;
	return MUD_OK;
}

/** A match node the compiler cannot enforce: remembered on the ACE (first one wins). */
static mud_rcode_t unknown_match(mp_t *p, mud_ace_t *ace, char const *what)
{
	char const *rel = strstr(p->ptr, "/matches");

	pwarn(p, "%s: the ACE cannot be enforced exactly (an accept is skipped, a drop is "
	      "enforced on its other matches)", what);
	if (ace->unknown_match) return MUD_OK;
	ace->unknown_match = talloc_strdup(p->file, rel ? rel + 1 : p->ptr);
	if (!ace->unknown_match) return nomem(p);
	return MUD_OK;
}

/** ietf-mud:mud match container (abstractions). Several abstractions all apply (AND). */
static mud_rcode_t parse_abs(mp_t *p, json_object *o, mud_ace_t *ace)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);
		mud_abs_t a = MUD_ABS_NONE;
		char *value = NULL;

		if (strcmp(key, "manufacturer") == 0) {
			a = MUD_ABS_MANUFACTURER;
			rc = get_typed_str(p, val, key, "host name", host_ok, &value);
		} else if (strcmp(key, "same-manufacturer") == 0) {
			a = MUD_ABS_SAME_MANUFACTURER;
			rc = get_empty(p, val);
		} else if (strcmp(key, "model") == 0) {
			a = MUD_ABS_MODEL;
			rc = get_typed_str(p, val, key, "URI", uri_ok, &value);
		} else if (strcmp(key, "local-networks") == 0) {
			a = MUD_ABS_LOCAL_NETWORKS;
			rc = get_empty(p, val);
		} else if (strcmp(key, "controller") == 0) {
			a = MUD_ABS_CONTROLLER;
			rc = get_controller(p, val, &value);
		} else if (strcmp(key, "my-controller") == 0) {
			a = MUD_ABS_MY_CONTROLLER;
			rc = get_empty(p, val);
		} else if (!strchr(key, ':') && lenient_on(p)) {
			char esc[MP_ESC_LEN];

			esc_str(esc, key, strlen(key));
			lenient_note(p, MUD_LENIENT_UNKNOWN_NODE,
				     "unknown abstraction \"%s\" in ietf-mud:mud match", esc);
			rc = unknown_match(p, ace, "unknown abstraction");
		} else {
			rc = unknown_member(p, key, "ietf-mud:mud match", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
		if (a == MUD_ABS_NONE) continue;
		/* member names are unique, so this cannot happen */
		if (ace->num_abs >= MUD_MAX_ABS_PER_ACE) {
			return perr(p, MUD_ERR_LIMIT, "more than %d abstractions",
				    MUD_MAX_ABS_PER_ACE);
		}
		ace->abs[ace->num_abs].kind = a;
		ace->abs[ace->num_abs].value = value;
		ace->num_abs++;
	}
	qsort(ace->abs, ace->num_abs, sizeof(ace->abs[0]), abs_cmp);
	return MUD_OK;
}

/** Names of containers in "matches": canonical, then legacy (lenient). */
static mud_rcode_t parse_matches(mp_t *p, json_object *o, mud_ace_t *ace)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	bool legacy_ports = false;
	char const *l3name = NULL;
	char const *l4name = NULL;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	p->matches_ace = ace;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);
		bool legacy = false;
		char const *base = key;

		if (strcmp(key, "ipv4-acl") == 0 || strcmp(key, "ipv6-acl") == 0 ||
		    strcmp(key, "tcp-acl") == 0 || strcmp(key, "udp-acl") == 0) {
			base = key[0] == 'i' ? (key[3] == '4' ? "ipv4" : "ipv6") :
				(key[0] == 't' ? "tcp" : "udp");
			if (!lenient_on(p)) {
				return perr(p, MUD_ERR_SCHEMA,
					    "unknown node \"%s\" in matches (draft name of \"%s\"; "
					    "accepted in lenient mode)", key, base);
			}
			lenient_note(p, MUD_LENIENT_LEGACY_ACE, "draft match container \"%s\"",
				     key);
			legacy = true;
		}

		if (strcmp(base, "ipv4") == 0 || strcmp(base, "ipv6") == 0) {
			if (l3name) {
				return perr(p, MUD_ERR_SCHEMA,
					    "\"%s\" and \"%s\" in one ACE (choice l3 "
					    "allows one)",
					    l3name, key);
			}
			l3name = key;
			rc = parse_l3(p, val, ace, base[3] == '4' ? 4 : 6, legacy, &legacy_ports);
		} else if (strcmp(base, "tcp") == 0 || strcmp(base, "udp") == 0 ||
			   strcmp(base, "icmp") == 0) {
			if (l4name) {
				return perr(p, MUD_ERR_SCHEMA,
					    "\"%s\" and \"%s\" in one ACE (choice l4 "
					    "allows one)",
					    l4name, key);
			}
			l4name = key;
			rc = parse_l4(p, val, ace, base[0] == 't' ? MUD_L4_TCP :
				      (base[0] == 'u' ? MUD_L4_UDP : MUD_L4_ICMP));
		} else if (strcmp(key, "eth") == 0) {
			rc = parse_eth(p, val, ace);
		} else if (strcmp(key, "ietf-mud:mud") == 0) {
			rc = parse_abs(p, val, ace);
		} else if (strcmp(key, "egress-interface") == 0 ||
			   strcmp(key, "ingress-interface") == 0) {
			rc = perr(p, MUD_ERR_UNSUPPORTED,
				  "match on \"%s\" not supported in a MUD file", key);
		} else {
			rc = unknown_member(p, key, "matches", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	p->matches_ace = NULL;

	/* draft ports sat in the L3 container: the L4 protocol comes from "protocol" */
	if (legacy_ports && ace->l4 == MUD_L4_NONE) {
		if (ace->protocol == 6) {
			ace->l4 = MUD_L4_TCP;
		} else if (ace->protocol == 17) {
			ace->l4 = MUD_L4_UDP;
		} else {
			return perr(p, MUD_ERR_SEMANTIC, "port match without tcp or udp");
		}
	}
	return MUD_OK;
}

/** actions container. */
static mud_rcode_t parse_actions(mp_t *p, json_object *o, mud_ace_t *ace)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	bool have_fwd = false;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "forwarding") == 0 || strcmp(key, "logging") == 0) {
			char const *s;
			char const *local;
			char esc[MP_ESC_LEN];

			if (json_object_get_type(val) != json_type_string)
				return type_err(p, "string", val);
			s = json_object_get_string(val);
			esc_str(esc, s, (size_t)json_object_get_string_len(val));
			local = identity_local(s, ACL_MOD);
			if (key[0] == 'f') {
				have_fwd = true;
				if (local && strcmp(local, "accept") == 0) {
					ace->action = MUD_ACTION_ACCEPT;
				} else if (local && strcmp(local, "drop") == 0) {
					ace->action = MUD_ACTION_DROP;
				} else if (local && strcmp(local, "reject") == 0) {
					ace->action = MUD_ACTION_REJECT;
				} else {
					return perr(p, MUD_ERR_SCHEMA,
						    "forwarding \"%s\" is not accept, "
						    "drop or reject",
						    esc);
				}
			} else if (!local || (strcmp(local, "log-none") != 0 &&
					      strcmp(local, "log-syslog") != 0)) {
				return perr(p, MUD_ERR_SCHEMA, "logging \"%s\" is not log-none or "
					    "log-syslog", esc);
			}
		} else {
			rc = unknown_member(p, key, "actions", NULL);
			if (rc != MUD_OK) return rc;
		}
		ptr_pop(p, old);
	}
	if (!have_fwd) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"forwarding\"");
	return MUD_OK;
}

static mud_rcode_t parse_ace(mp_t *p, json_object *o, mud_acl_t *acl, mud_ace_t *ace)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	bool have_actions = false;
	size_t i;

	ace->protocol = -1;
	ace->dscp = -1;
	ace->icmp_type = -1;
	ace->icmp_code = -1;
	ace->ethertype = -1;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "name") == 0 || strcmp(key, "rule-name") == 0) {
			if (key[0] == 'r') {
				if (!lenient_on(p)) {
					return perr(p, MUD_ERR_SCHEMA,
						    "unknown node \"rule-name\" in ace "
						    "(draft name of \"name\"; accepted in lenient "
						    "mode)");
				}
				lenient_note(p, MUD_LENIENT_LEGACY_ACE,
					     "draft ACE key \"rule-name\"");
			}
			if (ace->name) return perr(p, MUD_ERR_SCHEMA, "ACE name given twice");
			rc = get_str(p, val, "ACE name", 1, 64, &ace->name);
		} else if (strcmp(key, "matches") == 0) {
			rc = parse_matches(p, val, ace);
		} else if (strcmp(key, "actions") == 0) {
			have_actions = true;
			rc = parse_actions(p, val, ace);
		} else {
			rc = unknown_member(p, key, "ace", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	if (!ace->name) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"name\"");
	if (!have_actions) {
		return perr(p, MUD_ERR_SCHEMA,
			    "missing mandatory leaf \"forwarding\" (no \"actions\")");
	}
	for (i = 0; i < acl->num_aces; i++) {
		char esc[MP_ESC_LEN];

		if (strcmp(acl->aces[i].name, ace->name) != 0) continue;
		esc_str(esc, ace->name, strlen(ace->name));
		return perr_at(p, "name", MUD_ERR_SCHEMA, "duplicate ACE name \"%s\" in ACL", esc);
	}
	return MUD_OK;
}

/* ====================================================================
 *	ACLs
 * ==================================================================== */

static mud_rcode_t parse_acl_type(mp_t *p, json_object *o, mud_acl_t *acl)
{
	static struct {
		char const	*name;
		mud_acl_type_t	type;
		bool		legacy;
	} const types[] = {
		{ "ipv4-acl-type", MUD_ACL_TYPE_IPV4, false },
		{ "ipv6-acl-type", MUD_ACL_TYPE_IPV6, false },
		{ "eth-acl-type", MUD_ACL_TYPE_ETH, false },
		{ "mixed-eth-ipv4-acl-type", MUD_ACL_TYPE_MIXED_ETH_IPV4, false },
		{ "mixed-eth-ipv6-acl-type", MUD_ACL_TYPE_MIXED_ETH_IPV6, false },
		{ "mixed-eth-ipv4-ipv6-acl-type", MUD_ACL_TYPE_MIXED_ALL, false },
		{ "ipv4-acl", MUD_ACL_TYPE_IPV4, true },
		{ "ipv6-acl", MUD_ACL_TYPE_IPV6, true },
		{ "ethernet-acl-type", MUD_ACL_TYPE_ETH, true },
	};
	char const *s;
	char const *local;
	char esc[MP_ESC_LEN];
	size_t i;

	if (json_object_get_type(o) != json_type_string) return type_err(p, "string", o);
	s = json_object_get_string(o);
	esc_str(esc, s, (size_t)json_object_get_string_len(o));
	local = identity_local(s, ACL_MOD);
	for (i = 0; local && i < MUD_ARRAY_LEN(types); i++) {
		if (strcmp(types[i].name, local) != 0) continue;
		if (types[i].legacy) {
			if (!lenient_on(p)) {
				return perr(p, MUD_ERR_SCHEMA,
					    "acl type \"%s\" is a draft name (lenient "
					    "mode accepts it)",
					    esc);
			}
			lenient_note(p, MUD_LENIENT_ACL_TYPE_NAME, "draft acl type \"%s\"", esc);
		}
		acl->type = types[i].type;
		return MUD_OK;
	}
	return perr(p, MUD_ERR_SCHEMA,
		    "acl type \"%s\" is not an ietf-access-control-list acl-type", esc);
}

static mud_rcode_t parse_aces(mp_t *p, json_object *o, mud_acl_t *acl)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);
		size_t n;
		size_t i;

		if (strcmp(key, "ace") != 0) {
			rc = unknown_member(p, key, "aces", NULL);
			if (rc != MUD_OK) return rc;
			ptr_pop(p, old);
			continue;
		}
		rc = want_array(p, val);
		if (rc != MUD_OK) return rc;
		n = json_object_array_length(val);
		if (n > MUD_MAX_ACES) {
			return perr(p, MUD_ERR_LIMIT, "%zu ACEs, more than the limit of %d", n,
				    MUD_MAX_ACES);
		}
		talloc_free(acl->aces);
		acl->num_aces = 0;
		acl->aces = talloc_zero_array(p->file, mud_ace_t, n ? n : 1);
		if (!acl->aces) return nomem(p);
		for (i = 0; i < n; i++) {
			size_t old2 = ptr_push_idx(p, i);

			rc = parse_ace(p, json_object_array_get_idx(val, i), acl, &acl->aces[i]);
			if (rc != MUD_OK) return rc;
			acl->aces[i].path = talloc_strdup(p->file, p->ptr);
			if (!acl->aces[i].path) return nomem(p);
			acl->num_aces++;
			ptr_pop(p, old2);
		}
		ptr_pop(p, old);
	}
	return MUD_OK;
}

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd

/** Family (4, 6) an ACE's matches imply, 0 if none: its L3 container, else its ethertype. */
static int ace_family(mud_ace_t const *ace)
{
	if (ace->l3 == MUD_L3_IPV4) return 4;
	if (ace->l3 == MUD_L3_IPV6) return 6;
	if (ace->eth && ace->ethertype == ETHERTYPE_IPV4) return 4;
	if (ace->eth && ace->ethertype == ETHERTYPE_IPV6) return 6;
	return 0;
}

/** "type" is optional (RFC 8519): infer it from the matches; refuse when they disagree. */
static mud_rcode_t acl_infer_type(mp_t *p, mud_acl_t *acl, char const *aces_key)
{
	size_t first[7] = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
	bool eth = false;
	char const *name;
	size_t i;

	for (i = 0; i < acl->num_aces; i++) {
		int f = ace_family(&acl->aces[i]);

		if (f && first[f] == SIZE_MAX) first[f] = i;
		if (acl->aces[i].eth) eth = true;
	}
	if (first[4] != SIZE_MAX && first[6] != SIZE_MAX) {
		size_t old = ptr_push(p, aces_key);

		ptr_push(p, "ace");
		ptr_push_idx(p, first[4] > first[6] ? first[4] : first[6]);
		ptr_push(p, "matches");
		perr(p, MUD_ERR_SEMANTIC, "acl has no \"type\" and its matches contradict each "
		     "other: IPv4 in ace %zu, IPv6 in ace %zu", first[4], first[6]);
		ptr_pop(p, old);
		return MUD_ERR_SEMANTIC;
	}
	if (first[4] != SIZE_MAX) {
		acl->type = eth ? MUD_ACL_TYPE_MIXED_ETH_IPV4 : MUD_ACL_TYPE_IPV4;
		name = eth ? "mixed-eth-ipv4-acl-type" : "ipv4-acl-type";
	} else if (first[6] != SIZE_MAX) {
		acl->type = eth ? MUD_ACL_TYPE_MIXED_ETH_IPV6 : MUD_ACL_TYPE_IPV6;
		name = eth ? "mixed-eth-ipv6-acl-type" : "ipv6-acl-type";
	} else if (eth) {
		acl->type = MUD_ACL_TYPE_ETH;
		name = "eth-acl-type";
	} else {
		return MUD_OK;	/* no family named: the entries apply to IPv4 and IPv6 */
	}
	acl->type_inferred = true;
	pwarn(p, "acl has no \"type\": %s inferred from its matches", name);
	return MUD_OK;
}

/** Lenient: an "eth" match inside an ipv4/ipv6-acl-type ACL (mudgee writes the ethertype
 *  of the ACL's own family there). The pointer is the ACE's "matches". */
static mud_rcode_t ace_eth_lenient(mp_t *p, mud_acl_t const *acl, mud_ace_t const *ace)
{
	int fam = acl->type == MUD_ACL_TYPE_IPV4 ? 4 : (acl->type == MUD_ACL_TYPE_IPV6 ? 6 : 0);
	size_t old;

	if (!ace->eth || !fam || !lenient_on(p)) return MUD_OK;
	old = ptr_push(p, "eth");
	if (ace->ethertype < 0 && !ace->src_mac && !ace->dst_mac) {
		lenient_note(p, MUD_LENIENT_ETH_IN_IP_ACL,
			     "empty eth match in an ipv%d-acl-type ACL: no restriction", fam);
	} else if (ace->ethertype >= 0 &&
		   ace->ethertype != (fam == 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6)) {
		lenient_note(p, MUD_LENIENT_ETH_IN_IP_ACL,
			     "eth match with ethertype 0x%04x in an ipv%d-acl-type ACL: the ACE "
			     "never matches", (unsigned int)ace->ethertype, fam);
	} else if (ace->src_mac || ace->dst_mac) {
		lenient_note(p, MUD_LENIENT_ETH_IN_IP_ACL,
			     "eth match with a MAC address in an ipv%d-acl-type ACL", fam);
	} else {
		lenient_note(p, MUD_LENIENT_ETH_IN_IP_ACL,
			     "eth match with ethertype 0x%04x in an ipv%d-acl-type ACL: redundant",
			     (unsigned int)ace->ethertype, fam);
	}
	ptr_pop(p, old);
	return MUD_OK;
}

static mud_rcode_t parse_acl(mp_t *p, json_object *o, mud_acl_t *acl)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	char const *aces_key = NULL;
	bool have_type = false;
	size_t i;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);

		if (strcmp(key, "name") == 0) {
			rc = get_str(p, val, "acl name", 1, 64, &acl->name);
		} else if (strcmp(key, "type") == 0 || strcmp(key, "acl-type") == 0) {
			if (key[0] == 'a') {
				if (!lenient_on(p)) {
					return perr(p, MUD_ERR_SCHEMA,
						    "unknown node \"acl-type\" in acl "
						    "(draft name of \"type\"; accepted in lenient "
						    "mode)");
				}
				lenient_note(p, MUD_LENIENT_ACL_TYPE_NAME,
					     "draft member \"acl-type\"");
			}
			if (have_type) {
				return perr(p, MUD_ERR_SCHEMA,
					    "both \"type\" and the draft \"acl-type\" in acl");
			}
			have_type = true;
			rc = parse_acl_type(p, val, acl);
		} else if (strcmp(key, "aces") == 0 || strcmp(key, "access-list-entries") == 0) {
			if (key[1] == 'c' && key[2] == 'c') {
				if (!lenient_on(p)) {
					return perr(p, MUD_ERR_SCHEMA, "unknown node "
						    "\"access-list-entries\" in acl (draft name of "
						    "\"aces\"; accepted in lenient mode)");
				}
				lenient_note(p, MUD_LENIENT_LEGACY_ACE,
					     "draft member \"access-list-entries\"");
			}
			if (aces_key) {
				return perr(p, MUD_ERR_SCHEMA, "both \"%s\" and \"%s\" in acl",
					    aces_key, key);
			}
			aces_key = key;
			rc = parse_aces(p, val, acl);
		} else {
			rc = unknown_member(p, key, "acl", NULL);
		}
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	if (!acl->name) return perr(p, MUD_ERR_SCHEMA, "missing mandatory leaf \"name\"");
	for (i = 0; &p->file->acls[i] != acl; i++) {
		char esc[MP_ESC_LEN];

		if (strcmp(p->file->acls[i].name, acl->name) != 0) continue;
		esc_str(esc, acl->name, strlen(acl->name));
		return perr_at(p, "name", MUD_ERR_SCHEMA, "duplicate acl name \"%s\"", esc);
	}

	/* Checks that relate the ACL's type to its entries, whatever the member order. */
	if (acl->type == MUD_ACL_TYPE_NONE) {
		rc = acl_infer_type(p, acl, aces_key);
		if (rc != MUD_OK) return rc;
	}
	for (i = 0; i < acl->num_aces; i++) {
		size_t old = ptr_push(p, aces_key);

		ptr_push(p, "ace");
		ptr_push_idx(p, i);
		ptr_push(p, "matches");
		rc = ace_eth_lenient(p, acl, &acl->aces[i]);
		if (rc == MUD_OK) {
			rc = mudp_ace_validate(acl, &acl->aces[i], p->file->leniencies, p->ptr,
					       p->err);
		}
		ptr_pop(p, old);
		if (rc != MUD_OK) return rc;
	}
	return MUD_OK;
}

/** ietf-access-control-list:acls (or the draft access-lists root). */
static mud_rcode_t parse_acls(mp_t *p, json_object *o)
{
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;

	rc = want_object(p, o);
	if (rc != MUD_OK) return rc;
	rc = iter_init(p, &it, o);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		size_t old = ptr_push(p, key);
		size_t n;
		size_t i;

		if (strcmp(key, "attachment-points") == 0) {
			return perr(p, MUD_ERR_UNSUPPORTED,
				    "attachment-points not supported in a MUD file");
		}
		if (strcmp(key, "acl") != 0) {
			rc = unknown_member(p, key, "acls", NULL);
			if (rc != MUD_OK) return rc;
			ptr_pop(p, old);
			continue;
		}
		rc = want_array(p, val);
		if (rc != MUD_OK) return rc;
		n = json_object_array_length(val);
		if (n > MUD_MAX_ACLS) {
			return perr(p, MUD_ERR_LIMIT, "%zu ACLs, more than the limit of %d", n,
				    MUD_MAX_ACLS);
		}
		p->file->acls = talloc_zero_array(p->file, mud_acl_t, n ? n : 1);
		if (!p->file->acls) return nomem(p);
		for (i = 0; i < n; i++) {
			size_t old2 = ptr_push_idx(p, i);

			rc = parse_acl(p, json_object_array_get_idx(val, i), &p->file->acls[i]);
			if (rc != MUD_OK) return rc;
			p->file->num_acls++;
			ptr_pop(p, old2);
		}
		ptr_pop(p, old);
	}
	return MUD_OK;
}

/* ====================================================================
 *	Top level
 * ==================================================================== */

static mud_rcode_t parse_top(mp_t *p, json_object *root)
{
	json_object *mud;
	json_object *acls = NULL;
	json_object *legacy = NULL;
	mp_iter_t it;
	char const *key;
	json_object *val;
	mud_rcode_t rc;
	size_t old;

	if (!json_object_object_get_ex(root, "ietf-mud:mud", &mud)) {
		return perr(p, MUD_ERR_SCHEMA, "missing ietf-mud:mud container");
	}
	json_object_object_get_ex(root, ACL_PREFIX "acls", &acls);
	json_object_object_get_ex(root, ACL_PREFIX "access-lists", &legacy);

	/*
	 *	ietf-mud:mud first (its extensions name what unknown nodes may be),
	 *	then the ACLs, then the rest in document order.
	 */
	old = ptr_push(p, "ietf-mud:mud");
	rc = parse_mud(p, mud);
	if (rc != MUD_OK) return rc;
	ptr_pop(p, old);

	if (legacy) {
		old = ptr_push(p, ACL_PREFIX "access-lists");
		if (!lenient_on(p)) {
			return perr(p, MUD_ERR_SCHEMA,
				    "unknown node \"" ACL_PREFIX "access-lists\" "
				    "(draft name of \"" ACL_PREFIX
				    "acls\"; accepted in lenient mode)");
		}
		if (acls) {
			return perr(p, MUD_ERR_SCHEMA,
				    "both \"" ACL_PREFIX "acls\" and the draft \"" ACL_PREFIX
				    "access-lists\"");
		}
		lenient_note(p, MUD_LENIENT_ACCESS_LISTS_ROOT, "draft root \"" ACL_PREFIX
			     "access-lists\"");
		rc = parse_acls(p, legacy);
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	if (acls) {
		old = ptr_push(p, ACL_PREFIX "acls");
		rc = parse_acls(p, acls);
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}

	rc = iter_init(p, &it, root);
	if (rc != MUD_OK) return rc;
	while (iter_more(&it, &key, &val)) {
		if (strcmp(key, "ietf-mud:mud") == 0 || strcmp(key, ACL_PREFIX "acls") == 0 ||
		    strcmp(key, ACL_PREFIX "access-lists") == 0) continue;
		old = ptr_push(p, key);
		if (!strchr(key, ':')) {
			char esc[MP_ESC_LEN];

			esc_str(esc, key, strlen(key));
			return perr(p, MUD_ERR_SCHEMA, "top-level member \"%s\" is not "
				    "module-qualified (RFC 7951)", esc);
		}
		rc = unknown_member(p, key, "the document", NULL);
		if (rc != MUD_OK) return rc;
		ptr_pop(p, old);
	}
	return MUD_OK;
}

/* ====================================================================
 *	Duplicate member names (json-c keeps the last one silently)
 * ==================================================================== */

typedef struct {
	char const	*s;	//!< raw key bytes (between the quotes, escapes not decoded)
	size_t		len;
	size_t		off;	//!< byte offset of the key
} dup_key_t;

typedef struct {
	char const	*buf;
	size_t		len;
	size_t		pos;
	mp_t		*p;
	TALLOC_CTX	*tmp;
	size_t		nkeys;	//!< member names seen in the text
} dup_scan_t;

static void dup_ws(dup_scan_t *d)
{
	while (d->pos < d->len && (d->buf[d->pos] == ' ' || d->buf[d->pos] == '\t' ||
				   d->buf[d->pos] == '\n' || d->buf[d->pos] == '\r')) d->pos++;
}

/** Skip a string starting at the quote; returns the content start/len. */
static void dup_string(dup_scan_t *d, size_t *start, size_t *slen)
{
	d->pos++;
	*start = d->pos;
	while (d->pos < d->len && d->buf[d->pos] != '"') {
		if (d->buf[d->pos] == '\\') d->pos++;
		d->pos++;
	}
	*slen = d->pos - *start;
	d->pos++;
}

static int dup_cmp(void const *a, void const *b)
{
	dup_key_t const *ka = a;
	dup_key_t const *kb = b;
	size_t n = ka->len < kb->len ? ka->len : kb->len;
	int c = memcmp(ka->s, kb->s, n);

	if (c) return c;
	if (ka->len != kb->len) return ka->len < kb->len ? -1 : 1;
	return ka->off < kb->off ? -1 : (ka->off > kb->off);
}

static void line_col(char const *buf, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/** Walk one value of already well-formed JSON, checking each object's keys. */
static mud_rcode_t dup_value(dup_scan_t *d)
{
	mud_rcode_t rc;

	dup_ws(d);
	if (d->pos >= d->len) return MUD_OK;
	if (d->buf[d->pos] == '{') {
		dup_key_t *keys = NULL;
		size_t num = 0;

		d->pos++;
		dup_ws(d);
		while (d->pos < d->len && d->buf[d->pos] == '"') {
			size_t start;
			size_t slen;
			size_t old;
			char name[MP_SEG_LEN + 1];

			if ((num % 16) == 0) {
				dup_key_t *n = talloc_realloc(d->tmp, keys, dup_key_t, num + 16);

				if (!n) return nomem(d->p);
				keys = n;
			}
			keys[num].off = d->pos;
			dup_string(d, &start, &slen);
			keys[num].s = d->buf + start;
			keys[num].len = slen;
			num++;
			d->nkeys++;
			mudp_strlcpy(name, "", sizeof(name));
			memcpy(name, d->buf + start, slen < MP_SEG_LEN ? slen : MP_SEG_LEN);
			name[slen < MP_SEG_LEN ? slen : MP_SEG_LEN] = '\0';
			dup_ws(d);
			d->pos++;	/* ':' */
			old = ptr_push(d->p, name);
			rc = dup_value(d);
			if (rc != MUD_OK) return rc;
			ptr_pop(d->p, old);
			dup_ws(d);
			if (d->pos < d->len && d->buf[d->pos] == ',') {
				d->pos++;
				dup_ws(d);
			}
		}
		d->pos++;	/* '}' */
		if (num > 1) {
			size_t i;

			qsort(keys, num, sizeof(keys[0]), dup_cmp);
			for (i = 1; i < num; i++) {
				char esc[MP_ESC_LEN];
				char name[MP_SEG_LEN + 1];
				size_t line;
				size_t col;
				size_t n;

				if (keys[i].len != keys[i - 1].len ||
				    memcmp(keys[i].s, keys[i - 1].s, keys[i].len) != 0) continue;
				n = keys[i].len < MP_SEG_LEN ? keys[i].len : MP_SEG_LEN;
				memcpy(name, keys[i].s, n);
				name[n] = '\0';
				esc_str(esc, keys[i].s, keys[i].len);
				line_col(d->buf, keys[i].off, &line, &col);
				talloc_free(keys);
				return perr_at(d->p, name, MUD_ERR_JSON, "duplicate member \"%s\" "
					       "(line %zu, column %zu)", esc, line, col);
			}
		}
		talloc_free(keys);
		return MUD_OK;
	}
	if (d->buf[d->pos] == '[') {
		size_t idx = 0;

		d->pos++;
		dup_ws(d);
		while (d->pos < d->len && d->buf[d->pos] != ']') {
			size_t old = ptr_push_idx(d->p, idx++);

			rc = dup_value(d);
			if (rc != MUD_OK) return rc;
			ptr_pop(d->p, old);
			dup_ws(d);
			if (d->pos < d->len && d->buf[d->pos] == ',') d->pos++;
			dup_ws(d);
		}
		d->pos++;
		return MUD_OK;
	}
	if (d->buf[d->pos] == '"') {
		size_t start;
		size_t slen;

		dup_string(d, &start, &slen);
		return MUD_OK;
	}
	while (d->pos < d->len && d->buf[d->pos] != ',' && d->buf[d->pos] != '}' &&
	       d->buf[d->pos] != ']' && d->buf[d->pos] != ' ' && d->buf[d->pos] != '\n' &&
	       d->buf[d->pos] != '\t' && d->buf[d->pos] != '\r') d->pos++;
	return MUD_OK;
}

/** Members in the json-c tree (duplicates merged); depth is bounded by the tokener. */
static size_t tree_keys(json_object *o)
{
	size_t n = 0;
	size_t i;

	if (json_object_get_type(o) == json_type_object) {
		struct json_object_iterator it = json_object_iter_begin(o);
		struct json_object_iterator end = json_object_iter_end(o);

		while (!json_object_iter_equal(&it, &end)) {
			n += 1 + tree_keys(json_object_iter_peek_value(&it));
			json_object_iter_next(&it);
		}
	} else if (json_object_get_type(o) == json_type_array) {
		for (i = 0; i < json_object_array_length(o); i++) {
			n += tree_keys(json_object_array_get_idx(o, i));
		}
	}
	return n;
}

/* ====================================================================
 *	Entry points
 * ==================================================================== */

static mud_rcode_t json_err(mud_error_t *err, char const *data, size_t off, char const *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static mud_rcode_t json_err(mud_error_t *err, char const *data, size_t off, char const *fmt, ...)
{
	char text[sizeof(((mud_error_t *)0)->text)];
	char where[64];
	size_t line;
	size_t col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	line_col(data, off, &line, &col);
	snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
	return mud_error_set(err, MUD_ERR_JSON, where, "%s", text);
}

/** Offset just after the first complete top-level object or array (by bracket
 *  balance, strings skipped); 0 if there is none. json-c's strict mode reports
 *  bytes after the top value as "unexpected character": this tells them apart. */
static size_t top_value_end(char const *data, size_t len)
{
	size_t i;
	size_t depth = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (in_str) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_str = false;
			}
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0) return 0;
			depth--;
			if (depth == 0) return i + 1;
		}
	}
	return 0;
}

/** Parse the bytes into a json-c tree (strict, bounded, whole input). */
static mud_rcode_t json_load(json_object **out, char const *data, size_t len, mud_error_t *err)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error jerr;
	char const *nul;
	size_t end;

	*out = NULL;
	nul = memchr(data, '\0', len);
	if (nul) return json_err(err, data, (size_t)(nul - data), "NUL byte in input");

	tok = json_tokener_new_ex(MUD_MAX_JSON_DEPTH);
	if (!tok) return mud_error_set(err, MUD_ERR_NOMEM, "json_tokener_new_ex", "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (jerr == json_tokener_continue) {
		json_object_put(root);
		return json_err(err, data, len, "unexpected end of input");
	}
	if (jerr != json_tokener_success || !root) {
		size_t top = top_value_end(data, len);

		json_object_put(root);
		if (top > 0 && top <= end) {
			while (top < len && (data[top] == ' ' || data[top] == '\t' ||
					     data[top] == '\n' || data[top] == '\r')) top++;
			if (top <= end) end = top;
			return json_err(err, data, end, "trailing data after the JSON object");
		}
		return json_err(err, data, end, "%s", json_tokener_error_desc(jerr));
	}
	while (end < len && (data[end] == ' ' || data[end] == '\t' || data[end] == '\n' ||
			     data[end] == '\r')) end++;
	if (end < len) {
		char esc[MP_ESC_LEN];

		esc_str(esc, data + end, len - end < 16 ? len - end : 16);
		json_object_put(root);
		return json_err(err, data, end, "trailing data after the JSON object: \"%s\"", esc);
	}
	if (json_object_get_type(root) != json_type_object) {
		char got[96];

		describe(got, sizeof(got), root);
		json_object_put(root);
		return mud_error_set(err, MUD_ERR_JSON, "line 1, column 1",
				     "top level is not a JSON object but %s", got);
	}
	*out = root;
	return MUD_OK;
}

/** Parse and validate a MUD file (see mud.h). */
mud_rcode_t mud_file_parse(TALLOC_CTX *ctx, mud_file_t **out, char const *data, size_t len,
			   char const *expected_url, unsigned int flags, mud_error_t *err)
{
	json_object *root = NULL;
	mud_rcode_t rc;
	mp_t p;
	dup_scan_t d;

	if (out) *out = NULL;
	if (!out || (!data && len > 0))
		return mud_error_set(err, MUD_ERR_ARG, "", "no output or data");
	if (len > MUD_MAX_FILE_SIZE) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "", "MUD file is %zu bytes, more than %d",
				     len, MUD_MAX_FILE_SIZE);
	}
	if (len == 0) return mud_error_set(err, MUD_ERR_JSON, "line 1, column 1", "empty input");

	rc = json_load(&root, data, len, err);
	if (rc != MUD_OK) return rc;

	memset(&p, 0, sizeof(p));
	p.flags = flags;
	p.err = err;
	p.file = talloc_zero(ctx, mud_file_t);
	if (!p.file) {
		json_object_put(root);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}
	p.file->cache_validity = MUD_CACHE_VALIDITY_DEFAULT;
	p.tmp = talloc_new(NULL);
	if (!p.tmp) {
		json_object_put(root);
		talloc_free(p.file);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}

	memset(&d, 0, sizeof(d));
	d.buf = data;
	d.len = len;
	d.p = &p;
	d.tmp = p.file;
	rc = dup_value(&d);
	if (rc != MUD_OK) goto error;
	ptr_pop(&p, 0);
	if (d.nkeys != tree_keys(root)) {
		/* same name spelt with different escapes ("a" and "\u0061") */
		rc = mud_error_set(err, MUD_ERR_JSON, "", "duplicate member names (written with "
				   "different escapes)");
		goto error;
	}

	rc = parse_top(&p, root);
	if (rc != MUD_OK) goto error;
	json_object_put(root);
	root = NULL;
	TALLOC_FREE(p.tmp);

	mud_sha256_hex(p.file->sha256, data, len);

	rc = mud_file_validate(p.file, expected_url, err);
	if (rc != MUD_OK) goto error;

	*out = p.file;
	return MUD_OK;

error:
	json_object_put(root);
	talloc_free(p.tmp);
	talloc_free(p.file);
	return rc;
}

/** Name of one leniency bit. */
char const *mud_lenient_name(unsigned int bit)
{
	switch (bit) {
	case MUD_LENIENT_ACCESS_LISTS_ROOT: return "access-lists-root";
	case MUD_LENIENT_ACL_TYPE_NAME: return "acl-type-name";
	case MUD_LENIENT_ETHERTYPE_HEX: return "ethertype-hex";
	case MUD_LENIENT_BOOL_STRING: return "bool-string";
	case MUD_LENIENT_DATE_NO_OFFSET: return "date-no-offset";
	case MUD_LENIENT_NUMBER_STRING: return "number-string";
	case MUD_LENIENT_PORT_OPER: return "port-oper";
	case MUD_LENIENT_LEGACY_ACE: return "legacy-ace";
	case MUD_LENIENT_EMPTY_AS_TRUE: return "empty-as-true";
	default: break;
	}
	return "unknown";
}
