/*
 * mud_iodef.c - IODEF v2 (RFC 7970) incident documents for MUD security
 * events, with a detached CMS signature over the exact document bytes.
 *
 * The document is written by hand into a bounded buffer: every untrusted
 * string passes through xb_text() (valid UTF-8, XML 1.0 characters only, the
 * five special characters escaped) or xb_url() (URLs validated by
 * mud_url_parse() and percent-encoded to RFC 3986 characters), so the output
 * is well-formed whatever the input. The element order follows the schema in
 * RFC 7970 section 8; docs/iodef.md maps each part to RFC 3067.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/pem.h>		/* before cms.h */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#include "mud_private.h"

/** Bound of one untrusted field in the syslog line. */
#define IODEF_LOG_FIELD	128

/*
 *	Events
 */

/** What each event says in a report (docs/iodef.md, "Events"). */
typedef struct {
	char const	*name;		//!< token
	char const	*summary;	//!< first sentence of the Description
	char const	*impact;	//!< SystemImpact@type
	char const	*severity;	//!< SystemImpact@severity
	char const	*category;	//!< RSIT (ENISA Reference Security Incident Taxonomy) value
	char const	*capec;		//!< CAPEC id number or NULL
	char const	*capec_name;
	char const	*cwe;		//!< CWE id number or NULL
	char const	*cwe_name;
	char const	*cwe2;		//!< second CWE or NULL
	char const	*cwe2_name;
	char const	*rfc_section;	//!< RFC 8520 section number
	char const	*rfc_name;	//!< its title
	bool		device_source;	//!< the device is the source (else the MUD server is)
	char const	*expect;	//!< Expectation text
} iodef_event_t;

static iodef_event_t const events[MUD_EVENT_MAX] = {
	[MUD_EVENT_SIG_INVALID] = {
		"sig-invalid",
		"The MUD file's signature is malformed or does not match the file.",
		"integrity-configuration", "high",
		"information-content-security:unauthorised-modification-of-information",
		"475", "Signature Spoofing by Improper Validation",
		"347", "Improper Verification of Cryptographic Signature", NULL, NULL,
		"13", "Creating and Processing of Signed MUD Files", false,
		"Compare the MUD file and its signature with the manufacturer's; "
		"the file may have been altered in transit or on the server."
	},
	[MUD_EVENT_SIG_UNTRUSTED] = {
		"sig-untrusted",
		"The MUD file is signed by a certificate that does not chain to a trusted anchor.",
		"integrity-configuration", "high", "fraud:masquerade",
		"473", "Signature Spoof",
		"347", "Improper Verification of Cryptographic Signature",
		"295", "Improper Certificate Validation",
		"13", "Creating and Processing of Signed MUD Files", false,
		"Establish whether the signer belongs to the manufacturer; if so, add its "
		"anchor, otherwise treat the MUD server as compromised."
	},
	[MUD_EVENT_SIG_EXPIRED] = {
		"sig-expired",
		"The MUD file's signer certificate has expired or is not yet valid.",
		"integrity-configuration", "medium", "vulnerable:vulnerable-system",
		NULL, NULL,
		"298", "Improper Validation of Certificate Expiration",
		"347", "Improper Verification of Cryptographic Signature",
		"13", "Creating and Processing of Signed MUD Files", false,
		"Ask the manufacturer to re-sign the MUD file with a valid certificate."
	},
	[MUD_EVENT_SIG_MISSING] = {
		"sig-missing",
		"The MUD file has no signature although one is required.",
		"integrity-configuration", "medium", "vulnerable:vulnerable-system",
		NULL, NULL,
		"345", "Insufficient Verification of Data Authenticity", NULL, NULL,
		"13", "Creating and Processing of Signed MUD Files", false,
		"Ask the manufacturer to publish the signature; check whether it was removed."
	},
	[MUD_EVENT_SIG_SIGNER] = {
		"sig-signer",
		"The MUD file is signed by a signer other than the device certificate's "
		"mud-signer.",
		"integrity-configuration", "high", "fraud:masquerade",
		"473", "Signature Spoof",
		"347", "Improper Verification of Cryptographic Signature", NULL, NULL,
		"11", "The MUD URL X.509 Extension", false,
		"Check which party signed the file; a different signer may mean a substituted file."
	},
	[MUD_EVENT_TLS_INVALID] = {
		"tls-invalid",
		"The MUD server's TLS certificate or handshake failed verification.",
		"traffic-redirection", "high", "fraud:masquerade",
		"94", "Adversary in the Middle (AiTM)",
		"295", "Improper Certificate Validation", NULL, NULL,
		"16", "Security Considerations", false,
		"Check the MUD server's certificate and the network path to it (interception)."
	},
	[MUD_EVENT_URL_MISMATCH] = {
		"url-mismatch",
		"The MUD file's mud-url differs from the URL it was fetched from.",
		"integrity-configuration", "high", "fraud:masquerade",
		"151", "Identity Spoofing",
		"346", "Origin Validation Error", NULL, NULL,
		"16", "Security Considerations", false,
		"Check whether the MUD server serves another device's file (substitution)."
	},
	[MUD_EVENT_URL_REFUSED] = {
		"url-refused",
		"The device emitted a MUD URL that is not acceptable (not https, malformed "
		"or too long), or the URL policy refused it or a URL the fetch was led to "
		"(signature URL, redirect, an address inside the network): see error-where "
		"and error-text.",
		"policy", "low", "vulnerable:vulnerable-system",
		NULL, NULL,
		"20", "Improper Input Validation", NULL, NULL,
		"10", "The MUD URL DHCP Option", true,
		"Check the device's firmware and configuration; the URL may have been "
		"tampered with."
	},
	[MUD_EVENT_URL_CONFLICT] = {
		"url-conflict",
		"The device's MUD URL sources (LLDP, DHCP, certificate) give different URLs.",
		"integrity-configuration", "medium", "fraud:masquerade",
		"151", "Identity Spoofing",
		"346", "Origin Validation Error", NULL, NULL,
		"16", "Security Considerations", true,
		"Establish which URL the device's manufacturer issued; the other may be spoofed."
	},
	[MUD_EVENT_URL_CHANGED] = {
		"url-changed",
		"The device now emits a MUD URL different from the one it had.",
		"integrity-configuration", "medium", "fraud:masquerade",
		"151", "Identity Spoofing",
		"346", "Origin Validation Error", NULL, NULL,
		"16", "Security Considerations", true,
		"Check for a firmware update or a replaced or compromised device."
	},
	[MUD_EVENT_ACL_DENIED] = {
		"acl-denied",
		"Traffic of the device was denied by its MUD policy.",
		"policy", "low", "other:undetermined",
		NULL, NULL, NULL, NULL, NULL, NULL,
		"1", "Introduction", true,
		"Check whether the device is compromised or its MUD file is incomplete."
	},
	[MUD_EVENT_FILE_INVALID] = {
		"file-invalid",
		"The MUD file is not well-formed JSON or violates the MUD YANG model.",
		"integrity-configuration", "medium", "other:undetermined",
		NULL, NULL,
		"20", "Improper Input Validation", NULL, NULL,
		"16", "Security Considerations", false,
		"Report the defect to the manufacturer; check the file was not altered."
	},
	[MUD_EVENT_ACL_CONFLICT] = {
		"acl-conflict",
		"The MUD policy's downloadable ACL name is already bound to another policy's "
		"lines; the policy was refused and the first binding kept.",
		"integrity-configuration", "high",
		"information-content-security:unauthorised-modification-of-information",
		NULL, NULL,
		"694", "Use of Multiple Resources with Duplicate Identifier",
		"328", "Use of Weak Hash",
		"16", "Security Considerations", false,
		"Compare the two MUD files: one may have been crafted to take over the other "
		"device's dACL name."
	},
};

/** Token of an event. */
char const *mud_event_name(mud_event_t event)
{
	if ((unsigned int)event >= MUD_EVENT_MAX) return "unknown";
	return events[event].name;
}

/** Event by token, -1 if unknown. */
int mud_event_by_name(char const *name)
{
	int i;

	if (!name) return -1;
	for (i = 0; i < MUD_EVENT_MAX; i++) {
		if (strcmp(events[i].name, name) == 0) return i;
	}
	return -1;
}

/** Security event of a pipeline error (see mud.h). */
bool mud_event_from_rcode(mud_rcode_t rc, mud_event_t *event)
{
	int ev = mud_outcome(rc)->event;

	if ((unsigned int)rc >= MUD_RCODE_MAX) return false;
	if (ev < 0 || ev >= (int)MUD_EVENT_MAX) return false;
	if (event) *event = (mud_event_t)ev;
	return true;
}

/*
 *	TLP and restriction
 */

/** Configured sharing label -> IODEF restriction (RFC 7970 section 3.3.1) and TLP label. */
typedef struct {
	char const	*name;		//!< accepted config value
	char const	*restriction;	//!< restriction attribute
	char const	*ext;		//!< ext-restriction when restriction is ext-value
	char const	*label;		//!< TLP label in AdditionalData
} iodef_tlp_t;

static iodef_tlp_t const tlps[] = {
	{ "clear",		"white",	NULL,		"TLP:CLEAR" },
	{ "white",		"white",	NULL,		"TLP:CLEAR" },
	{ "green",		"green",	NULL,		"TLP:GREEN" },
	{ "amber",		"amber",	NULL,		"TLP:AMBER" },
	{ "amber+strict",	"ext-value",	"amber+strict",	"TLP:AMBER+STRICT" },
	{ "red",		"red",		NULL,		"TLP:RED" },
	{ "public",		"public",	NULL,		"TLP:CLEAR" },
	{ "partner",		"partner",	NULL,		"TLP:GREEN" },
	{ "need-to-know",	"need-to-know",	NULL,		"TLP:AMBER" },
	{ "private",		"private",	NULL,		"TLP:RED" },
	{ "default",		"default",	NULL,		"TLP:AMBER" },
};

static iodef_tlp_t const *tlp_find(char const *name)
{
	size_t i;

	if (!name) name = "amber";
	for (i = 0; i < MUD_ARRAY_LEN(tlps); i++) {
		if (mudp_strcasecmp(tlps[i].name, name) == 0) return &tlps[i];
	}
	return NULL;
}

/** Element classes a restriction can be set on (RFC 3067 4.3; RFC 7970 3.3.1: an
 *  element's restriction applies to its children). */
typedef enum {
	IODEF_CLASS_CONTACT = 0,	//!< Contact (the creator)
	IODEF_CLASS_DISCOVERY,		//!< Discovery
	IODEF_CLASS_ASSESSMENT,		//!< Assessment (impact, counter, confidence)
	IODEF_CLASS_METHOD,		//!< Method (references)
	IODEF_CLASS_EVENTDATA,		//!< EventData (flow, expectation, record)
	IODEF_CLASS_SYSTEM,		//!< each System (device, MUD server, NAS)
	IODEF_CLASS_EXPECTATION,	//!< Expectation
	IODEF_CLASS_RECORD,		//!< Record (the evidence)
	IODEF_CLASS_HISTORY,		//!< History (actions taken)
	IODEF_CLASS_ADDITIONAL,		//!< Incident-level AdditionalData
	IODEF_CLASS_MAX
} iodef_class_t;

static char const *const class_names[IODEF_CLASS_MAX] = {
	[IODEF_CLASS_CONTACT]		= "contact",
	[IODEF_CLASS_DISCOVERY]		= "discovery",
	[IODEF_CLASS_ASSESSMENT]	= "assessment",
	[IODEF_CLASS_METHOD]		= "method",
	[IODEF_CLASS_EVENTDATA]		= "eventdata",
	[IODEF_CLASS_SYSTEM]		= "system",
	[IODEF_CLASS_EXPECTATION]	= "expectation",
	[IODEF_CLASS_RECORD]		= "record",
	[IODEF_CLASS_HISTORY]		= "history",
	[IODEF_CLASS_ADDITIONAL]	= "additional-data",
};

#define IODEF_RESTR_MAX	512	//!< bytes of a restrictions setting (10 classes fit easily)

/** Parse "class=value, class=value" into per-class TLP entries. */
static mud_rcode_t restr_parse(iodef_tlp_t const *out[IODEF_CLASS_MAX], char const *spec,
			       mud_error_t *err)
{
	char buf[IODEF_RESTR_MAX];
	char esc[64];
	char *p;
	size_t i;

	for (i = 0; i < IODEF_CLASS_MAX; i++) out[i] = NULL;
	if (!spec || !*spec) return MUD_OK;
	if (strlen(spec) >= sizeof(buf)) {
		return mud_error_set(err, MUD_ERR_ARG, "config.restrictions",
				     "longer than %d bytes", IODEF_RESTR_MAX - 1);
	}
	mudp_strlcpy(buf, spec, sizeof(buf));
	p = buf;
	while (*p) {
		char *item = p;
		char *comma = strchr(p, ',');
		char *eq;
		char *name;
		char *val;
		char *end;
		iodef_tlp_t const *t;

		if (comma) {
			*comma = '\0';
			p = comma + 1;
		} else {
			p = item + strlen(item);
		}
		while (*item == ' ' || *item == '\t') item++;
		if (!*item) continue;
		eq = strchr(item, '=');
		if (!eq) {
			mudp_escape(esc, sizeof(esc), item, strlen(item));
			return mud_error_set(err, MUD_ERR_ARG, "config.restrictions",
					     "\"%s\": expected class=restriction", esc);
		}
		*eq = '\0';
		name = item;
		val = eq + 1;
		end = eq;
		while (end > name && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
		while (*val == ' ' || *val == '\t') val++;
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
		for (i = 0; i < IODEF_CLASS_MAX; i++) {
			if (mudp_strcasecmp(class_names[i], name) == 0) break;
		}
		if (i == IODEF_CLASS_MAX) {
			mudp_escape(esc, sizeof(esc), name, strlen(name));
			return mud_error_set(err, MUD_ERR_ARG, "config.restrictions",
					     "unknown element class \"%s\" (contact, discovery, "
					     "assessment, method, eventdata, system, expectation, "
					     "record, history, additional-data)", esc);
		}
		t = *val ? tlp_find(val) : NULL;
		if (!t) {
			mudp_escape(esc, sizeof(esc), val, strlen(val));
			return mud_error_set(err, MUD_ERR_ARG, "config.restrictions",
					     "%s: unknown TLP/restriction \"%s\"", class_names[i],
					     esc);
		}
		out[i] = t;
	}
	return MUD_OK;
}

/** Check a restrictions setting (see mud.h). */
mud_rcode_t mud_iodef_restrictions_check(char const *restrictions, mud_error_t *err)
{
	iodef_tlp_t const *r[IODEF_CLASS_MAX];

	return restr_parse(r, restrictions, err);
}

/** How sure the report is of what it states, per event (RFC 3067 6.10), and why. */
typedef struct {
	char const	*rating;	//!< Confidence@rating
	char const	*basis;		//!< the justification (AdditionalData confidence-basis)
} iodef_confidence_t;

static iodef_confidence_t const confidence[MUD_EVENT_MAX] = {
	[MUD_EVENT_SIG_INVALID] = { "high",
		"The CMS signature check over the exact bytes fetched failed; the check is "
		"deterministic and repeatable from the evidence hashes." },
	[MUD_EVENT_SIG_UNTRUSTED] = { "high",
		"The signer's chain was built against the configured trust anchors and did "
		"not reach one; repeatable with the same anchors." },
	[MUD_EVENT_SIG_EXPIRED] = { "medium",
		"The signer certificate's validity was compared with this server's clock; a "
		"wrong clock would give the same result." },
	[MUD_EVENT_SIG_MISSING] = { "medium",
		"The signature could not be retrieved; the server may be misconfigured rather "
		"than the signature removed." },
	[MUD_EVENT_SIG_SIGNER] = { "high",
		"The signer differs from the mud-signer named in the device certificate; both "
		"are certificate data, compared exactly." },
	[MUD_EVENT_TLS_INVALID] = { "medium",
		"TLS verification of the MUD server failed; interception, a stale trust store "
		"or a server misconfiguration give the same failure." },
	[MUD_EVENT_URL_MISMATCH] = { "high",
		"The file's own mud-url differs from the URL fetched: an exact string "
		"comparison of data in the report." },
	[MUD_EVENT_URL_REFUSED] = { "high",
		"The URL was refused by configured policy or URL syntax; the decision is "
		"deterministic." },
	[MUD_EVENT_URL_CONFLICT] = { "medium",
		"The device's MUD URL sources disagree; a firmware update in progress can "
		"cause this without an attack." },
	[MUD_EVENT_URL_CHANGED] = { "low",
		"The device's MUD URL changed; firmware updates and device replacement are "
		"the usual, benign causes." },
	[MUD_EVENT_ACL_DENIED] = { "low",
		"Denied traffic was reported by the NAS; an incomplete MUD file explains it "
		"as well as a compromised device." },
	[MUD_EVENT_FILE_INVALID] = { "high",
		"The MUD file failed the parser or the YANG model checks; the failure is "
		"repeatable from the file (hash in the evidence)." },
	[MUD_EVENT_ACL_CONFLICT] = { "medium",
		"Two policies claim one dACL name; a crafted file and an accidental "
		"collision cannot be told apart from here." },
};

/*
 *	Output buffer
 */
typedef struct {
	TALLOC_CTX	*ctx;
	char		*buf;
	size_t		len;
	size_t		cap;
	mud_rcode_t	rc;		//!< first failure (MUD_ERR_NOMEM or MUD_ERR_TOOBIG)
} xbuf_t;

static void xb_put(xbuf_t *xb, char const *s, size_t n)
{
	if (xb->rc != MUD_OK) return;
	if (xb->len + n > MUD_IODEF_MAX_DOC) {
		xb->rc = MUD_ERR_TOOBIG;
		return;
	}
	if (xb->len + n + 1 > xb->cap) {
		size_t cap = xb->cap ? xb->cap : 8192;
		char *nbuf;

		while (cap < xb->len + n + 1) cap *= 2;
		nbuf = talloc_realloc(xb->ctx, xb->buf, char, cap);
		if (!nbuf) {
			xb->rc = MUD_ERR_NOMEM;
			return;
		}
		xb->buf = nbuf;
		xb->cap = cap;
	}
	memcpy(xb->buf + xb->len, s, n);
	xb->len += n;
	xb->buf[xb->len] = '\0';
}

static void xb_raw(xbuf_t *xb, char const *s)
{
	xb_put(xb, s, strlen(s));
}

/** Decode one UTF-8 sequence at p (n > 0 bytes left). Invalid sequences (overlong,
 *  surrogates, > U+10FFFF, truncated) consume one byte and give U+FFFD.
 *
 * @return bytes consumed.
 */
static size_t utf8_next(uint8_t const *p, size_t n, uint32_t *cp)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80;
	uint8_t hi = 0xbf;
	size_t need;
	uint32_t v;
	size_t i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0) lo = 0xa0;
		if (c == 0xed) hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0) lo = 0x90;
		if (c == 0xf4) hi = 0x8f;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (n < need + 1) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		uint8_t b = p[i];

		if (i == 1 && (b < lo || b > hi)) {
			*cp = 0xfffd;
			return 1;
		}
		if ((b & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (b & 0x3f);
	}
	*cp = v;
	return need + 1;
}

/** A character XML 1.0 allows (production [2] Char). */
static bool xml_char_ok(uint32_t cp)
{
	if (cp == 0x9 || cp == 0xa || cp == 0xd) return true;
	if (cp >= 0x20 && cp <= 0xd7ff) return true;
	if (cp >= 0xe000 && cp <= 0xfffd) return true;
	return (cp >= 0x10000 && cp <= 0x10ffff);
}

static void xb_cp(xbuf_t *xb, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	xb_put(xb, u, n);
}

/** Untrusted text as XML character data or attribute value: invalid UTF-8 and
 *  characters XML 1.0 forbids become U+FFFD, specials are escaped, and input beyond
 *  max bytes is cut (at a character boundary) and marked with "...". */
static void xb_text(xbuf_t *xb, char const *s, size_t max)
{
	uint8_t const *p = (uint8_t const *)s;
	size_t n;
	size_t i = 0;

	if (!s) return;
	n = strlen(s);
	while (i < n) {
		uint32_t cp;
		size_t used;

		if (i >= max) {
			xb_raw(xb, "...");
			return;
		}
		used = utf8_next(p + i, n - i, &cp);
		i += used;
		if (!xml_char_ok(cp)) cp = 0xfffd;
		switch (cp) {
		case '&': xb_raw(xb, "&amp;"); break;
		case '<': xb_raw(xb, "&lt;"); break;
		case '>': xb_raw(xb, "&gt;"); break;
		case '"': xb_raw(xb, "&quot;"); break;
		case '\'': xb_raw(xb, "&apos;"); break;
		case '\r': xb_raw(xb, "&#13;"); break;
		case '\t': xb_raw(xb, "&#9;"); break;
		case '\n': xb_raw(xb, "&#10;"); break;
		default: xb_cp(xb, cp); break;
		}
	}
}

/** A validated https URL (mud_url_parse()) percent-encoded to RFC 3986 characters,
 *  escaped. @return false (nothing written) if the URL is not acceptable. */
static bool xb_url(xbuf_t *xb, char const *url)
{
	static char const hex[] = "0123456789ABCDEF";
	static char const keep[] = "-._~:/?@!$&'()*+,;=";
	size_t n;
	size_t i;
	size_t auth_end;

	if (!url) return false;
	n = strlen(url);
	if (mud_url_parse(NULL, NULL, url, n, NULL) != MUD_OK) return false;

	/* Brackets are kept only in the authority (IPv6 literal). */
	auth_end = 8;
	while (auth_end < n && url[auth_end] != '/' && url[auth_end] != '?') auth_end++;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		char pct[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(keep, c))) {
			char one[2] = { (char)c, '\0' };

			xb_text(xb, one, 1);
			continue;
		}
		if ((c == '[' || c == ']') && i < auth_end) {
			xb_put(xb, (char const *)&url[i], 1);
			continue;
		}
		if (c == '%' && i + 2 < n && isxdigit((unsigned char)url[i + 1]) &&
		    isxdigit((unsigned char)url[i + 2])) {
			xb_put(xb, "%", 1);
			continue;
		}
		pct[0] = '%';
		pct[1] = hex[c >> 4];
		pct[2] = hex[c & 0x0f];
		xb_put(xb, pct, 3);
	}
	return true;
}

/** <name attrs>text</name> with escaped text; nothing if text is NULL or "". */
static void xb_elem(xbuf_t *xb, char const *indent, char const *open, char const *close,
		    char const *text, size_t max)
{
	if (!text || !*text) return;
	xb_raw(xb, indent);
	xb_raw(xb, open);
	xb_text(xb, text, max);
	xb_raw(xb, close);
	xb_raw(xb, "\n");
}

/** AdditionalData / RecordItem of dtype string with a meaning. */
static void xb_ext_r(xbuf_t *xb, char const *indent, char const *tag, char const *dtype,
		     char const *meaning, char const *text, size_t max, iodef_tlp_t const *restr)
{
	if (!text || !*text) return;
	xb_raw(xb, indent);
	xb_raw(xb, "<");
	xb_raw(xb, tag);
	xb_raw(xb, " dtype=\"");
	xb_raw(xb, dtype);
	xb_raw(xb, "\" meaning=\"");
	xb_raw(xb, meaning);
	if (restr) {
		xb_raw(xb, "\" restriction=\"");
		xb_raw(xb, restr->restriction);
		if (restr->ext) {
			xb_raw(xb, "\" ext-restriction=\"");
			xb_raw(xb, restr->ext);
		}
	}
	xb_raw(xb, "\">");
	xb_text(xb, text, max);
	xb_raw(xb, "</");
	xb_raw(xb, tag);
	xb_raw(xb, ">\n");
}

static void xb_ext(xbuf_t *xb, char const *indent, char const *tag, char const *dtype,
		   char const *meaning, char const *text, size_t max)
{
	xb_ext_r(xb, indent, tag, dtype, meaning, text, max, NULL);
}

/*
 *	Field checks
 */

/** How date-times are written (config timezone, RFC 3067 6.13). */
typedef enum {
	IODEF_TZ_LOCAL = 0,	//!< the process's zone (TZ), with its offset at each instant
	IODEF_TZ_UTC,		//!< "Z"
	IODEF_TZ_FIXED		//!< a configured offset
} iodef_tz_mode_t;

typedef struct {
	iodef_tz_mode_t	mode;
	long		offset;		//!< IODEF_TZ_FIXED: seconds east of UTC
} iodef_tz_t;

#define IODEF_TZ_MAX_OFFSET	(14 * 3600)	//!< xs:dateTime offsets are -14:00..+14:00
#define IODEF_HALF_YEAR		((time_t)182 * 86400)

/** Offset of the local zone at t, seconds east of UTC (localtime_r + timegm: reentrant,
 *  no hidden static buffer). @return false if t cannot be converted. */
static bool local_offset(time_t t, struct tm *tm, long *off)
{
	struct tm copy;

	if (!localtime_r(&t, tm)) return false;
	copy = *tm;
	*off = (long)(timegm(&copy) - t);
	return true;
}

/** Is the local zone UTC (offset 0 now and half a year either side, so no DST)? */
static bool local_is_utc(time_t t)
{
	struct tm tm;
	long off;
	int i;

	for (i = -1; i <= 1; i++) {
		time_t x = t + i * IODEF_HALF_YEAR;

		if (!local_offset(x, &tm, &off) || off != 0) return false;
	}
	return true;
}

/** An xs:dateTime with its UTC offset: "YYYY-MM-DDThh:mm:ss+hh:mm" in the configured zone,
 *  "...Z" only where the zone is UTC. An offset that is not a whole number of minutes
 *  (historic local mean time) cannot be written: UTC is written instead.
 *  @return false outside 1970..9999 (UTC) or 1..9999 (local). */
static bool fmt_time(char out[32], time_t t, iodef_tz_t const *tz)
{
	struct tm utc;
	struct tm tm;
	long off = 0;
	bool z = false;
	size_t n;

	if (!gmtime_r(&t, &utc)) return false;
	if (utc.tm_year + 1900 < 1970 || utc.tm_year + 1900 > 9999) return false;
	switch (tz->mode) {
	case IODEF_TZ_UTC:
		tm = utc;
		z = true;
		break;
	case IODEF_TZ_FIXED:
		{
			time_t shifted = t + tz->offset;

			if (!gmtime_r(&shifted, &tm)) return false;
			off = tz->offset;
			z = (off == 0);
		}
		break;
	case IODEF_TZ_LOCAL:
		if (!local_offset(t, &tm, &off) || off % 60 != 0 || off > IODEF_TZ_MAX_OFFSET ||
		    off < -IODEF_TZ_MAX_OFFSET) {
			tm = utc;
			off = 0;
			z = true;
		} else {
			z = (off == 0 && local_is_utc(t));
		}
		break;
	}
	if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) return false;
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n != 19) return false;
	if (z) {
		snprintf(out + n, 32 - n, "Z");
	} else {
		int a = (int)(off < 0 ? -off : off);	/* <= IODEF_TZ_MAX_OFFSET */

		snprintf(out + n, 32 - n, "%c%02d:%02d", off < 0 ? '-' : '+', (a / 3600) % 100,
			 (a % 3600) / 60);
	}
	return true;
}

/** Parse config timezone: NULL/"local", "UTC"/"Z", "+hh:mm"/"-hh:mm". */
static bool tz_parse(iodef_tz_t *tz, char const *s)
{
	int h;
	int m;

	tz->mode = IODEF_TZ_LOCAL;
	tz->offset = 0;
	if (!s || !*s || mudp_strcasecmp(s, "local") == 0) return true;
	if (mudp_strcasecmp(s, "UTC") == 0 || strcmp(s, "Z") == 0) {
		tz->mode = IODEF_TZ_UTC;
		return true;
	}
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':' ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    !isdigit((unsigned char)s[4]) || !isdigit((unsigned char)s[5])) {
		return false;
	}
	h = (s[1] - '0') * 10 + (s[2] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	if (m > 59 || h * 3600 + m * 60 > IODEF_TZ_MAX_OFFSET) return false;
	tz->mode = IODEF_TZ_FIXED;
	tz->offset = (long)(h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
	return true;
}

/** Normalise a MAC address to "00:11:22:33:44:55"; false if it is not one. */
static bool mac_normalise(char out[18], char const *in)
{
	static char const hex[] = "0123456789abcdef";
	uint8_t b[6];
	size_t nd = 0;
	size_t i;

	for (i = 0; in[i]; i++) {
		int c = (unsigned char)in[i];
		int v;

		if (c == ':' || c == '-' || c == '.') continue;
		if (c >= '0' && c <= '9') {
			v = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			v = c - 'a' + 10;
		} else if (c >= 'A' && c <= 'F') {
			v = c - 'A' + 10;
		} else {
			return false;
		}
		if (nd >= 12) return false;
		if (nd % 2 == 0) {
			b[nd / 2] = (uint8_t)(v << 4);
		} else {
			b[nd / 2] |= (uint8_t)v;
		}
		nd++;
	}
	if (nd != 12) return false;
	for (i = 0; i < 6; i++) {
		out[3 * i] = hex[b[i] >> 4];
		out[3 * i + 1] = hex[b[i] & 0x0f];
		out[3 * i + 2] = (i == 5) ? '\0' : ':';
	}
	return true;
}

/** IODEF address category of an IP literal, NULL if it is not one. */
static char const *ip_category(char const *ip)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, ip, buf) == 1) return "ipv4-addr";
	if (inet_pton(AF_INET6, ip, buf) == 1) return "ipv6-addr";
	return NULL;
}

/** Hex SHA-256 -> base64 into out[45]; false if not 64 hex digits. */
static bool sha256_b64(char out[45], char const *hexstr)
{
	uint8_t md[32];
	size_t i;

	if (!hexstr || strlen(hexstr) != 64) return false;
	for (i = 0; i < 32; i++) {
		unsigned int v;
		char two[3] = { hexstr[2 * i], hexstr[2 * i + 1], '\0' };

		if (!isxdigit((unsigned char)two[0]) || !isxdigit((unsigned char)two[1])) {
			return false;
		}
		if (sscanf(two, "%2x", &v) != 1) return false;
		md[i] = (uint8_t)v;
	}
	return EVP_EncodeBlock((unsigned char *)out, md, 32) == 44;
}

/** RFC 5646 language tag shape: 1-8 letters, then -[alnum]{1,8} subtags. */
static bool lang_ok(char const *lang)
{
	size_t run = 0;
	bool first = true;
	size_t i;

	for (i = 0; lang[i]; i++) {
		int c = (unsigned char)lang[i];

		if (c == '-') {
			if (run == 0) return false;
			run = 0;
			first = false;
			continue;
		}
		if (first ? !isalpha(c) : !isalnum(c)) return false;
		if (++run > 8) return false;
	}
	return run > 0 && i <= 64;
}

/*
 *	IDs
 */

/** New IncidentID (see mud.h). */
mud_rcode_t mud_iodef_id(char out[MUD_IODEF_ID_SIZE], time_t t, mud_error_t *err)
{
	static char const hex[] = "0123456789abcdef";
	unsigned char rnd[16];
	struct tm tm;
	size_t n;
	size_t i;

	out[0] = '\0';
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_id",
				     "time %lld not representable", (long long)t);
	}
	ERR_clear_error();
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		return mud_error_set(err, MUD_ERR_NOMEM, "RAND_bytes", "no random bytes available");
	}
	n = strftime(out, MUD_IODEF_ID_SIZE, "%Y%m%dT%H%M%SZ-", &tm);
	if (n != 17) {
		out[0] = '\0';
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_id", "time not representable");
	}
	for (i = 0; i < sizeof(rnd); i++) {
		out[n++] = hex[rnd[i] >> 4];
		out[n++] = hex[rnd[i] & 0x0f];
	}
	out[n] = '\0';
	return MUD_OK;
}

/*
 *	Rendering
 */

/** Checked and defaulted inputs of one rendering. */
typedef struct {
	iodef_event_t const	*ev;
	iodef_tlp_t const	*tlp;
	char const		*lang;
	char			id[MUD_IODEF_ID_SIZE];
	char			t_detect[32];
	char			t_first[32];
	char			t_last[32];
	char			t_report[32];
	char			mac[18];
	char const		*ip_cat;
	char const		*nas_cat;
	char const		*srv_cat;
	mud_url_t		*srv;		//!< parsed server URL, NULL if none/unparseable
	uint64_t		count;
	char const		*ip6_cat;	//!< category of incident->ip6, NULL if none
	iodef_tz_t		tz;
	iodef_tlp_t const	*restr[IODEF_CLASS_MAX];	//!< per class, NULL: inherited
	iodef_confidence_t const *conf;
} iodef_in_t;

static mud_rcode_t iodef_check(TALLOC_CTX *tmp, iodef_in_t *in, mud_incident_t const *inc,
			       mud_iodef_config_t const *cfg, mud_error_t *err)
{
	time_t now = time(NULL);
	time_t t;
	time_t first;
	time_t last;
	time_t rep;
	char esc[64];
	size_t i;

	memset(in, 0, sizeof(*in));
	if ((unsigned int)inc->event >= MUD_EVENT_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "incident.event", "unknown event %d",
				     (int)inc->event);
	}
	in->ev = &events[inc->event];
	if (!cfg->reporter || !*cfg->reporter) {
		return mud_error_set(err, MUD_ERR_ARG, "config.reporter", "reporter name required");
	}
	if (!cfg->contact_name || !*cfg->contact_name) {
		return mud_error_set(err, MUD_ERR_ARG, "config.contact_name",
				     "contact name required");
	}
	if (!cfg->contact_email || !*cfg->contact_email) {
		return mud_error_set(err, MUD_ERR_ARG, "config.contact_email",
				     "contact e-mail required");
	}
	in->tlp = tlp_find(cfg->tlp);
	if (!in->tlp) {
		mudp_escape(esc, sizeof(esc), cfg->tlp, strlen(cfg->tlp));
		return mud_error_set(err, MUD_ERR_ARG, "config.tlp",
				     "unknown TLP/restriction \"%s\"", esc);
	}
	if (!tz_parse(&in->tz, cfg->timezone)) {
		mudp_escape(esc, sizeof(esc), cfg->timezone, strlen(cfg->timezone));
		return mud_error_set(err, MUD_ERR_ARG, "config.timezone",
				     "\"%s\": expected local, UTC or +hh:mm/-hh:mm (at most 14:00)"
				     "; "
				     "for a named zone set TZ in the server's environment", esc);
	}
	{
		mud_rcode_t rrc = restr_parse(in->restr, cfg->restrictions, err);

		if (rrc != MUD_OK) return rrc;
	}
	in->conf = confidence[inc->event].rating ? &confidence[inc->event] : NULL;
	in->lang = cfg->lang ? cfg->lang : "en";
	if (!lang_ok(in->lang)) {
		mudp_escape(esc, sizeof(esc), in->lang, strlen(in->lang));
		return mud_error_set(err, MUD_ERR_ARG, "config.lang", "invalid language tag \"%s\"",
				     esc);
	}

	t = inc->time ? inc->time : now;
	first = inc->first_seen ? inc->first_seen : t;
	last = inc->last_seen ? inc->last_seen : t;
	rep = inc->reported ? inc->reported : now;
	if (!fmt_time(in->t_detect, t, &in->tz) || !fmt_time(in->t_first, first, &in->tz) ||
	    !fmt_time(in->t_last, last, &in->tz) || !fmt_time(in->t_report, rep, &in->tz)) {
		return mud_error_set(err, MUD_ERR_ARG, "incident.time",
				     "time outside 1970..9999 (UTC)");
	}
	for (i = 0; i < inc->num_actions; i++) {
		char tmpbuf[32];

		if (inc->actions[i].at && !fmt_time(tmpbuf, inc->actions[i].at, &in->tz)) {
			return mud_error_set(err, MUD_ERR_ARG, "incident.actions",
					     "action %zu: time outside 1970..9999 (UTC)", i);
		}
	}
	if (inc->num_actions > MUD_IODEF_MAX_ACTIONS || (inc->num_actions && !inc->actions)) {
		return mud_error_set(err, MUD_ERR_LIMIT, "incident.actions",
				     "%zu actions, at most %d", inc->num_actions,
				     MUD_IODEF_MAX_ACTIONS);
	}
	in->count = inc->count ? inc->count : 1;

	if (inc->id) {
		size_t n = strlen(inc->id);

		for (i = 0; i < n; i++) {
			int c = (unsigned char)inc->id[i];

			if (!isalnum(c) && c != '-' && c != '.' && c != '_') break;
		}
		if (n == 0 || n >= sizeof(in->id) || i != n) {
			mudp_escape(esc, sizeof(esc), inc->id, n);
			return mud_error_set(err, MUD_ERR_ARG, "incident.id",
					     "invalid incident id \"%s\"", esc);
		}
		mudp_strlcpy(in->id, inc->id, sizeof(in->id));
	} else {
		mud_rcode_t rc = mud_iodef_id(in->id, rep, err);

		if (rc != MUD_OK) return rc;
	}

	/* The device: a Node needs an Address (RFC 7970 erratum 5544). */
	if (inc->mac && *inc->mac && !mac_normalise(in->mac, inc->mac)) {
		mudp_escape(esc, sizeof(esc), inc->mac, strlen(inc->mac));
		return mud_error_set(err, MUD_ERR_ARG, "incident.mac", "not a MAC address: \"%s\"",
				     esc);
	}
	if (inc->ip && *inc->ip) {
		in->ip_cat = ip_category(inc->ip);
		if (!in->ip_cat) {
			mudp_escape(esc, sizeof(esc), inc->ip, strlen(inc->ip));
			return mud_error_set(err, MUD_ERR_ARG, "incident.ip",
					     "not an IP address: \"%s\"", esc);
		}
	}
	if (inc->ip6 && *inc->ip6) {
		in->ip6_cat = ip_category(inc->ip6);
		if (!in->ip6_cat) {
			mudp_escape(esc, sizeof(esc), inc->ip6, strlen(inc->ip6));
			return mud_error_set(err, MUD_ERR_ARG, "incident.ip6",
					     "not an IP address: \"%s\"", esc);
		}
	}
	if (inc->nas_ip && *inc->nas_ip) {
		in->nas_cat = ip_category(inc->nas_ip);
		if (!in->nas_cat) {
			mudp_escape(esc, sizeof(esc), inc->nas_ip, strlen(inc->nas_ip));
			return mud_error_set(err, MUD_ERR_ARG, "incident.nas_ip",
					     "not an IP address: \"%s\"", esc);
		}
	}
	if (inc->server_ip && *inc->server_ip) {
		in->srv_cat = ip_category(inc->server_ip);
		if (!in->srv_cat) {
			mudp_escape(esc, sizeof(esc), inc->server_ip, strlen(inc->server_ip));
			return mud_error_set(err, MUD_ERR_ARG, "incident.server_ip",
					     "not an IP address: \"%s\"", esc);
		}
	}
	/* A URL that does not parse is left out; memory running out is not a reason to. */
	if (inc->server_url &&
	    mud_url_parse(tmp, &in->srv, inc->server_url, strlen(inc->server_url), NULL) ==
	    MUD_ERR_NOMEM) {
		return mud_error_set(err, MUD_ERR_NOMEM, "incident.server_url", "out of memory");
	}
	/* Something must be identified: a Node needs an Address or DomainData. */
	if (!in->mac[0] && !in->ip_cat && !in->ip6_cat && !in->srv && !in->srv_cat) {
		return mud_error_set(err, MUD_ERR_ARG, "incident",
				     "neither the device (MAC, IP) nor the MUD server is known");
	}
	return MUD_OK;
}

/** " restriction=..." of an element class, when one is configured for it. */
static void xb_restr(xbuf_t *xb, iodef_in_t const *in, iodef_class_t cls)
{
	iodef_tlp_t const *t = in->restr[cls];

	if (!t) return;
	xb_raw(xb, " restriction=\"");
	xb_raw(xb, t->restriction);
	if (t->ext) {
		xb_raw(xb, "\" ext-restriction=\"");
		xb_raw(xb, t->ext);
	}
	xb_raw(xb, "\"");
}

static void render_reference(xbuf_t *xb, char const *url, char const *desc_a, char const *desc_b)
{
	xb_raw(xb, "    <Reference>\n      <URL>");
	xb_raw(xb, url);
	xb_raw(xb, "</URL>\n      <Description>");
	xb_text(xb, desc_a, 256);
	xb_text(xb, desc_b, 256);
	xb_raw(xb, "</Description>\n    </Reference>\n");
}

static void render_method(xbuf_t *xb, iodef_in_t const *in)
{
	iodef_event_t const *ev = in->ev;
	char url[128];
	char name[64];

	xb_raw(xb, "  <Method");
	xb_restr(xb, in, IODEF_CLASS_METHOD);
	xb_raw(xb, ">\n");
	snprintf(url, sizeof(url), "https://www.rfc-editor.org/rfc/rfc8520#section-%s",
		 ev->rfc_section);
	snprintf(name, sizeof(name), "RFC 8520 section %s: ", ev->rfc_section);
	render_reference(xb, url, name, ev->rfc_name);
	if (ev->cwe) {
		snprintf(url, sizeof(url), "https://cwe.mitre.org/data/definitions/%s.html",
			 ev->cwe);
		snprintf(name, sizeof(name), "CWE-%s: ", ev->cwe);
		render_reference(xb, url, name, ev->cwe_name);
	}
	if (ev->cwe2) {
		snprintf(url, sizeof(url), "https://cwe.mitre.org/data/definitions/%s.html",
			 ev->cwe2);
		snprintf(name, sizeof(name), "CWE-%s: ", ev->cwe2);
		render_reference(xb, url, name, ev->cwe2_name);
	}
	if (ev->capec) {
		snprintf(url, sizeof(url), "https://capec.mitre.org/data/definitions/%s.html",
			 ev->capec);
		snprintf(name, sizeof(name), "CAPEC-%s: ", ev->capec);
		render_reference(xb, url, name, ev->capec_name);
	}
	xb_raw(xb, "    <Description>attack type (CAPEC): ");
	if (ev->capec) {
		xb_raw(xb, "CAPEC-");
		xb_raw(xb, ev->capec);
		xb_raw(xb, " ");
		xb_raw(xb, ev->capec_name);
	} else {
		xb_raw(xb, "none identified");
	}
	xb_raw(xb, "; incident class (RSIT): ");
	xb_raw(xb, ev->category);
	xb_raw(xb, "</Description>\n  </Method>\n");
}

static void render_contact(xbuf_t *xb, iodef_in_t const *in, mud_iodef_config_t const *cfg)
{
	xb_raw(xb, "  <Contact role=\"creator\" type=\"organization\"");
	xb_restr(xb, in, IODEF_CLASS_CONTACT);
	xb_raw(xb, ">\n");
	xb_elem(xb, "    ", "<ContactName>", "</ContactName>", cfg->contact_name, 256);
	xb_raw(xb, "    <Email>\n");
	xb_elem(xb, "      ", "<EmailTo>", "</EmailTo>", cfg->contact_email, 256);
	xb_raw(xb, "    </Email>\n");
	if (cfg->contact_phone && *cfg->contact_phone) {
		xb_raw(xb, "    <Telephone>\n");
		xb_elem(xb, "      ", "<TelephoneNumber>", "</TelephoneNumber>",
			cfg->contact_phone, 64);
		xb_raw(xb, "    </Telephone>\n");
	}
	xb_raw(xb, "  </Contact>\n");
}

static void render_device(xbuf_t *xb, iodef_in_t const *in, mud_incident_t const *inc)
{
	char *desc;

	if (!in->mac[0] && !in->ip_cat && !in->ip6_cat) return;	/* mudctl fetch: server only */

	xb_raw(xb, "      <System category=\"");
	xb_raw(xb, in->ev->device_source ? "source" : "target");
	xb_raw(xb, "\"");
	xb_restr(xb, in, IODEF_CLASS_SYSTEM);
	if (inc->nas_port && *inc->nas_port) {
		xb_raw(xb, " interface=\"");
		xb_text(xb, inc->nas_port, 256);
		xb_raw(xb, "\"");
	}
	xb_raw(xb, ">\n        <Node>\n");
	if (in->mac[0]) {
		xb_raw(xb, "          <Address category=\"mac\">");
		xb_raw(xb, in->mac);
		xb_raw(xb, "</Address>\n");
	}
	if (in->ip_cat) {
		xb_raw(xb, "          <Address category=\"");
		xb_raw(xb, in->ip_cat);
		xb_raw(xb, "\">");
		xb_text(xb, inc->ip, 64);
		xb_raw(xb, "</Address>\n");
	}
	if (in->ip6_cat) {
		xb_raw(xb, "          <Address category=\"");
		xb_raw(xb, in->ip6_cat);
		xb_raw(xb, "\">");
		xb_text(xb, inc->ip6, 64);
		xb_raw(xb, "</Address>\n");
	}
	if (inc->nas_port && *inc->nas_port) {
		/* Where the device attaches: RFC 3067 6.7's "not IP-centric" address. */
		xb_raw(xb, "          <Address category=\"ext-value\" ext-category=\"nas-port\">");
		xb_text(xb, inc->nas_port, 256);
		xb_raw(xb, "</Address>\n");
	}
	xb_raw(xb, "        </Node>\n");
	xb_raw(xb, "        <NodeRole category=\"client\"/>\n");

	desc = talloc_asprintf(xb->ctx, "MUD device%s%s%s%s%s%s%s%s",
			       inc->nas_ip ? ", NAS " : "", inc->nas_ip ? inc->nas_ip : "",
			       inc->nas_id ? ", NAS-Identifier " : "",
			       inc->nas_id ? inc->nas_id : "",
			       inc->nas_port ? ", NAS port " : "",
			       inc->nas_port ? inc->nas_port : "",
			       inc->user_name ? ", User-Name " : "",
			       inc->user_name ? inc->user_name : "");
	if (!desc) {
		if (xb->rc == MUD_OK) xb->rc = MUD_ERR_NOMEM;
		return;
	}
	xb_elem(xb, "        ", "<Description>", "</Description>", desc, 4 * 1024);
	talloc_free(desc);
	xb_ext(xb, "        ", "AdditionalData", "string", "nas-port", inc->nas_port, 256);
	xb_ext(xb, "        ", "AdditionalData", "string", "nas-identifier", inc->nas_id, 256);
	xb_ext(xb, "        ", "AdditionalData", "string", "user-name", inc->user_name, 256);
	xb_raw(xb, "      </System>\n");
}

static void render_server(xbuf_t *xb, iodef_in_t const *in, mud_incident_t const *inc)
{
	bool host_ip = in->srv && in->srv->host_is_ip;
	char port[16];

	if (!in->srv && !in->srv_cat) return;	/* a Node needs an Address or DomainData */

	xb_raw(xb, "      <System category=\"");
	xb_raw(xb, in->ev->device_source ? "target" : "source");
	xb_raw(xb, "\"");
	xb_restr(xb, in, IODEF_CLASS_SYSTEM);
	xb_raw(xb, ">\n        <Node>\n");
	if (in->srv && !host_ip) {
		xb_raw(xb, "          <DomainData>\n");
		xb_elem(xb, "            ", "<Name>", "</Name>", in->srv->host, 256);
		xb_raw(xb, "          </DomainData>\n");
	}
	if (in->srv_cat) {
		xb_raw(xb, "          <Address category=\"");
		xb_raw(xb, in->srv_cat);
		xb_raw(xb, "\">");
		xb_text(xb, inc->server_ip, 64);
		xb_raw(xb, "</Address>\n");
	}
	if (host_ip && !(inc->server_ip && strcmp(inc->server_ip, in->srv->host) == 0)) {
		xb_raw(xb, "          <Address category=\"");
		xb_raw(xb, ip_category(in->srv->host) ? ip_category(in->srv->host) : "ipv6-addr");
		xb_raw(xb, "\">");
		xb_text(xb, in->srv->host, 64);
		xb_raw(xb, "</Address>\n");
	}
	xb_raw(xb, "        </Node>\n        <NodeRole category=\"www\"/>\n");
	xb_raw(xb, "        <Service ip-protocol=\"6\">\n");
	if (in->srv) {
		xb_raw(xb, "          <ServiceName>\n            <IANAService>https</IANAService>\n"
			   "            <URL>");
		(void)xb_url(xb, inc->server_url);
		xb_raw(xb, "</URL>\n          </ServiceName>\n");
		snprintf(port, sizeof(port), "%u", (unsigned int)in->srv->port);
	} else {
		snprintf(port, sizeof(port), "443");
	}
	xb_raw(xb, "          <Port>");
	xb_raw(xb, port);
	xb_raw(xb, "</Port>\n        </Service>\n");
	xb_raw(xb, "        <Description>MUD file server</Description>\n");
	xb_raw(xb, "      </System>\n");
}

static void render_nas(xbuf_t *xb, iodef_in_t const *in, mud_incident_t const *inc)
{
	if (!in->nas_cat) return;
	xb_raw(xb, "      <System category=\"sensor\"");
	xb_restr(xb, in, IODEF_CLASS_SYSTEM);
	xb_raw(xb, ">\n        <Node>\n          <Address category=\"");
	xb_raw(xb, in->nas_cat);
	xb_raw(xb, "\">");
	xb_text(xb, inc->nas_ip, 64);
	xb_raw(xb, "</Address>\n        </Node>\n        <NodeRole category=\"infra-switch\"/>\n");
	xb_raw(xb, "        <Description>NAS (RADIUS client) that authenticated the device"
		   "</Description>\n      </System>\n");
}

static void render_file(xbuf_t *xb, char const *type, char const *url, char const *sha)
{
	char b64[45];
	bool have_hash = sha256_b64(b64, sha);
	bool have_url = url && mud_url_parse(NULL, NULL, url, strlen(url), NULL) == MUD_OK;

	if (!have_hash && !have_url) return;
	xb_raw(xb, "          <File>\n            <FileType>");
	xb_raw(xb, type);
	xb_raw(xb, "</FileType>\n");
	if (have_url) {
		xb_raw(xb, "            <URL>");
		(void)xb_url(xb, url);
		xb_raw(xb, "</URL>\n");
	}
	if (have_hash) {
		xb_raw(xb, "            <HashData scope=\"file-contents\">\n"
			   "              <Hash>\n"
			   "                <ds:DigestMethod Algorithm="
			   "\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n"
			   "                <ds:DigestValue>");
		xb_raw(xb, b64);
		xb_raw(xb, "</ds:DigestValue>\n              </Hash>\n"
			   "            </HashData>\n");
	}
	xb_raw(xb, "          </File>\n");
}

/** A URL as <URL> if acceptable, else as a string RecordItem (never lost). */
static void render_record_url(xbuf_t *xb, char const *meaning, char const *url, bool as_url)
{
	if (!url || !*url) return;
	if (as_url) {
		if (mud_url_parse(NULL, NULL, url, strlen(url), NULL) != MUD_OK) return;
		xb_raw(xb, "        <URL>");
		(void)xb_url(xb, url);
		xb_raw(xb, "</URL>\n");
		return;
	}
	xb_ext(xb, "        ", "RecordItem", "string", meaning, url, MUD_IODEF_MAX_FIELD);
}

static void render_record(xbuf_t *xb, iodef_in_t const *in, mud_incident_t const *inc)
{
	char const *urls[][2] = {
		{ "mud-url", inc->mud_url },
		{ "other-url", inc->other_url },
		{ "server-url", inc->server_url },
		{ "signature-url", inc->sig_url },
	};
	char b64a[45];
	char b64b[45];
	size_t i;

	xb_raw(xb, "    <Record");
	xb_restr(xb, in, IODEF_CLASS_RECORD);
	xb_raw(xb, ">\n      <RecordData>\n        <DateTime>");
	xb_raw(xb, in->t_detect);
	xb_raw(xb, "</DateTime>\n        <Description>Evidence recorded by the MUD manager"
		   "</Description>\n");
	xb_ext(xb, "        ", "RecordItem", "string", "mud-event", in->ev->name, 64);
	if (inc->code != MUD_OK) {
		xb_ext(xb, "        ", "RecordItem", "string", "error-code",
		       mud_rcode_name(inc->code), 64);
	}
	xb_ext(xb, "        ", "RecordItem", "string", "error-where", inc->where,
	       MUD_IODEF_MAX_FIELD);
	xb_ext(xb, "        ", "RecordItem", "string", "error-text", inc->text,
	       MUD_IODEF_MAX_FIELD);
	for (i = 0; i < MUD_ARRAY_LEN(urls); i++) {
		render_record_url(xb, urls[i][0], urls[i][1], false);
	}
	xb_ext(xb, "        ", "RecordItem", "string", "mud-server-certificate",
	       inc->server_cert_pem, MUD_IODEF_MAX_PEM);
	for (i = 0; i < 2; i++) render_record_url(xb, NULL, urls[i][1], true);
	if (sha256_b64(b64a, inc->file_sha256) || sha256_b64(b64b, inc->sig_sha256) ||
	    (inc->server_url && mud_url_parse(NULL, NULL, inc->server_url,
					      strlen(inc->server_url), NULL) == MUD_OK)) {
		xb_raw(xb, "        <FileData>\n");
		render_file(xb, "application/mud+json", inc->server_url, inc->file_sha256);
		render_file(xb, "application/pkcs7-signature", inc->sig_url, inc->sig_sha256);
		xb_raw(xb, "        </FileData>\n");
	}
	xb_raw(xb, "      </RecordData>\n    </Record>\n");
}

static void render_history(xbuf_t *xb, iodef_in_t const *in, mud_incident_t const *inc)
{
	size_t i;

	xb_raw(xb, "  <History");
	xb_restr(xb, in, IODEF_CLASS_HISTORY);
	xb_raw(xb, ">\n    <HistoryItem action=\"other\">\n      <DateTime>");
	xb_raw(xb, in->t_first);
	xb_raw(xb, "</DateTime>\n      <Description>Detected by the MUD manager: ");
	xb_raw(xb, in->ev->name);
	xb_raw(xb, "</Description>\n    </HistoryItem>\n");
	for (i = 0; i < inc->num_actions; i++) {
		mud_incident_action_t const *a = &inc->actions[i];
		char when[32];

		if (!a->at || !fmt_time(when, a->at, &in->tz)) {
			memcpy(when, in->t_detect, sizeof(when));
		}
		xb_raw(xb, "    <HistoryItem action=\"");
		xb_raw(xb, a->contained ? "block-host" : "other");
		xb_raw(xb, "\">\n      <DateTime>");
		xb_raw(xb, when);
		xb_raw(xb, "</DateTime>\n");
		xb_elem(xb, "      ", "<Description>", "</Description>",
			a->text && *a->text ? a->text : "(no description)", 1024);
		xb_raw(xb, "    </HistoryItem>\n");
	}
	if (in->count > 1) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)in->count);
		xb_raw(xb, "    <HistoryItem action=\"watch-and-report\">\n      <DateTime>");
		xb_raw(xb, in->t_last);
		xb_raw(xb, "</DateTime>\n      <Description>Repeats counted into this report: ");
		xb_raw(xb, num);
		xb_raw(xb, " occurrences, the last at this time</Description>\n"
			   "    </HistoryItem>\n");
	}
	/* This report: the step the reporter takes now. */
	xb_raw(xb, "    <HistoryItem action=\"ext-value\" ext-action=\"report-sent\">\n"
		   "      <DateTime>");
	xb_raw(xb, in->t_report);
	xb_raw(xb, "</DateTime>\n      <Description>Incident report to the CSIRT: this document, "
		   "generated and queued for sending at this time</Description>\n"
		   "    </HistoryItem>\n");
	xb_raw(xb, "  </History>\n");
}

/** Render an incident (see mud.h). */
mud_rcode_t mud_iodef_render(TALLOC_CTX *ctx, char **xml, size_t *len,
			     mud_incident_t const *incident, mud_iodef_config_t const *config,
			     mud_error_t *err)
{
	TALLOC_CTX *tmp;
	iodef_in_t in;
	xbuf_t xb;
	mud_rcode_t rc;
	char num[32];

	if (xml) *xml = NULL;
	if (len) *len = 0;
	if (!xml || !incident || !config) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_render", "NULL argument");
	}
	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_render", "out of memory");

	rc = iodef_check(tmp, &in, incident, config, err);
	if (rc != MUD_OK) goto error;

	memset(&xb, 0, sizeof(xb));
	xb.ctx = tmp;

	xb_raw(&xb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<IODEF-Document version=\"2.00\" xml:lang=\"");
	xb_raw(&xb, in.lang);
	xb_raw(&xb, "\"\n    xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"\n"
		    "    xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n"
		    "<Incident purpose=\"reporting\" status=\"new\" restriction=\"");
	xb_raw(&xb, in.tlp->restriction);
	if (in.tlp->ext) {
		xb_raw(&xb, "\" ext-restriction=\"");
		xb_raw(&xb, in.tlp->ext);
	}
	xb_raw(&xb, "\">\n  <IncidentID name=\"");
	xb_text(&xb, config->reporter, 256);
	xb_raw(&xb, "\">");
	xb_raw(&xb, in.id);
	xb_raw(&xb, "</IncidentID>\n  <DetectTime>");
	xb_raw(&xb, in.t_first);
	xb_raw(&xb, "</DetectTime>\n  <StartTime>");
	xb_raw(&xb, in.t_first);
	xb_raw(&xb, "</StartTime>\n  <ReportTime>");
	xb_raw(&xb, in.t_report);
	xb_raw(&xb, "</ReportTime>\n  <GenerationTime>");
	xb_raw(&xb, in.t_report);
	xb_raw(&xb, "</GenerationTime>\n  <Description>");
	xb_raw(&xb, in.ev->summary);
	if (incident->text && *incident->text) {
		xb_raw(&xb, " ");
		xb_text(&xb, incident->text, 1024);
	}
	xb_raw(&xb, "</Description>\n"
		    "  <Discovery source=\"ext-value\" ext-source=\"mud-manager\"");
	xb_restr(&xb, &in, IODEF_CLASS_DISCOVERY);
	xb_raw(&xb, ">\n    <Description>Detected by rlm_mud (RFC 8520 MUD manager) ");
	xb_raw(&xb, mud_version());
	xb_raw(&xb, " while admitting the device</Description>\n  </Discovery>\n");

	/* Assessment: impact, repeat count, confidence (empty form: schema quirk). */
	xb_raw(&xb, "  <Assessment occurrence=\"actual\"");
	xb_restr(&xb, &in, IODEF_CLASS_ASSESSMENT);
	xb_raw(&xb, ">\n    <IncidentCategory>");
	xb_raw(&xb, in.ev->category);
	xb_raw(&xb, "</IncidentCategory>\n    <SystemImpact severity=\"");
	xb_raw(&xb, in.ev->severity);
	xb_raw(&xb, "\" completion=\"failed\" type=\"");
	xb_raw(&xb, in.ev->impact);
	xb_raw(&xb, "\">\n      <Description>");
	xb_raw(&xb, in.ev->summary);
	xb_raw(&xb, " The MUD manager did not apply the affected policy.</Description>\n"
		    "    </SystemImpact>\n"
		    "    <Counter type=\"ext-value\" ext-type=\"count\" unit=\"event\" "
		    "meaning=\"occurrences aggregated in this report\">");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)in.count);
	xb_raw(&xb, num);
	xb_raw(&xb, "</Counter>\n    <Confidence rating=\"");
	xb_raw(&xb, in.conf ? in.conf->rating : "unknown");
	xb_raw(&xb, "\"/>\n");
	if (in.conf) {
		xb_ext(&xb, "    ", "AdditionalData", "string", "confidence-basis", in.conf->basis,
		       1024);
	}
	xb_raw(&xb, "  </Assessment>\n");

	render_method(&xb, &in);
	render_contact(&xb, &in, config);

	xb_raw(&xb, "  <EventData");
	xb_restr(&xb, &in, IODEF_CLASS_EVENTDATA);
	xb_raw(&xb, ">\n    <Description>");
	xb_raw(&xb, in.ev->summary);
	xb_raw(&xb, "</Description>\n    <DetectTime>");
	xb_raw(&xb, in.t_detect);
	xb_raw(&xb, "</DetectTime>\n    <StartTime>");
	xb_raw(&xb, in.t_first);
	xb_raw(&xb, "</StartTime>\n    <Flow>\n");
	if (in.ev->device_source) {
		render_device(&xb, &in, incident);
		render_server(&xb, &in, incident);
	} else {
		render_server(&xb, &in, incident);
		render_device(&xb, &in, incident);
	}
	render_nas(&xb, &in, incident);
	xb_raw(&xb, "    </Flow>\n    <Expectation action=\"investigate\"");
	xb_restr(&xb, &in, IODEF_CLASS_EXPECTATION);
	xb_raw(&xb, ">\n      <Description>");
	xb_raw(&xb, in.ev->expect);
	xb_raw(&xb, "</Description>\n    </Expectation>\n");
	render_record(&xb, &in, incident);
	xb_raw(&xb, "  </EventData>\n");

	render_history(&xb, &in, incident);

	/* Extension point (RFC 3067 6.19): local data. */
	{
		iodef_tlp_t const *r = in.restr[IODEF_CLASS_ADDITIONAL];

		xb_ext_r(&xb, "  ", "AdditionalData", "string", "tlp", in.tlp->label, 32, r);
		xb_ext_r(&xb, "  ", "AdditionalData", "string", "mud-event", in.ev->name, 32, r);
		xb_ext_r(&xb, "  ", "AdditionalData", "date-time", "first-seen", in.t_first, 32,
			 r);
		xb_ext_r(&xb, "  ", "AdditionalData", "date-time", "last-seen", in.t_last, 32, r);
		xb_ext_r(&xb, "  ", "AdditionalData", "integer", "count", num, 32, r);
	}
	if (incident->dropped) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)incident->dropped);
		xb_ext_r(&xb, "  ", "AdditionalData", "integer", "dropped-incidents", num, 32,
			 in.restr[IODEF_CLASS_ADDITIONAL]);
	}
	xb_raw(&xb, "</Incident>\n</IODEF-Document>\n");

	if (xb.rc != MUD_OK) {
		rc = mud_error_set(err, xb.rc, "mud_iodef_render", xb.rc == MUD_ERR_TOOBIG ?
				   "document larger than %d bytes" : "out of memory (%d)",
				   MUD_IODEF_MAX_DOC);
		goto error;
	}
	*xml = talloc_steal(ctx, xb.buf);
	if (len) *len = xb.len;
	talloc_free(tmp);
	return MUD_OK;

error:
	talloc_free(tmp);
	return rc;
}

/** One-line summary for syslog (see mud.h). */
char *mud_iodef_syslog_line(TALLOC_CTX *ctx, mud_incident_t const *incident)
{
	char id[IODEF_LOG_FIELD];
	char dev[IODEF_LOG_FIELD];
	char url[IODEF_LOG_FIELD];
	char text[IODEF_LOG_FIELD];
	char const *d;

	if (!incident) return talloc_strdup(ctx, "rlm_mud incident -: (none)");
	d = (incident->mac && *incident->mac) ? incident->mac :
	    (incident->ip && *incident->ip) ? incident->ip : "-";
	mudp_escape(id, sizeof(id), incident->id ? incident->id : "-",
		    strlen(incident->id ? incident->id : "-"));
	mudp_escape(dev, sizeof(dev), d, strlen(d));
	mudp_escape(url, sizeof(url), incident->mud_url ? incident->mud_url : "-",
		    strlen(incident->mud_url ? incident->mud_url : "-"));
	mudp_escape(text, sizeof(text), incident->text ? incident->text : "",
		    strlen(incident->text ? incident->text : ""));
	return talloc_asprintf(ctx, "rlm_mud incident %s: %s device %s url %s: %s", id,
			       mud_event_name(incident->event), dev, url,
			       text[0] ? text : (((unsigned int)incident->event < MUD_EVENT_MAX) ?
						 events[incident->event].summary : "-"));
}

/*
 *	Signatures
 */

static mud_rcode_t iodef_sign_der(TALLOC_CTX *ctx, uint8_t **sig, size_t *sig_len,
				  char const *xml, size_t len, char const *key_pem_path,
				  char const *cert_pem_path, bool attached, mud_error_t *err);

/** Detached DER CMS signature over the document (see mud.h). */
mud_rcode_t mud_iodef_sign(TALLOC_CTX *ctx, uint8_t **sig, size_t *sig_len,
			   char const *xml, size_t len, char const *key_pem_path,
			   char const *cert_pem_path, mud_error_t *err)
{
	return iodef_sign_der(ctx, sig, sig_len, xml, len, key_pem_path, cert_pem_path, false,
			      err);
}

/** DER CMS SignedData over the document: detached, or carrying it (sign, then encrypt). */
static mud_rcode_t iodef_sign_der(TALLOC_CTX *ctx, uint8_t **sig, size_t *sig_len,
				  char const *xml, size_t len, char const *key_pem_path,
				  char const *cert_pem_path, bool attached, mud_error_t *err)
{
	size_t max = attached ? (size_t)MUD_IODEF_MAX_DOC + MUD_MAX_SIG_SIZE :
		     (size_t)MUD_MAX_SIG_SIZE;

	BIO *kb = NULL;
	BIO *cb = NULL;
	BIO *content = NULL;
	BIO *out = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	CMS_ContentInfo *cms = NULL;
	BUF_MEM *mem = NULL;
	mud_rcode_t rc = MUD_OK;
	char esc[128];
	uint8_t *buf;

	if (sig) *sig = NULL;
	if (sig_len) *sig_len = 0;
	if (!sig || !sig_len || !xml || !key_pem_path || !cert_pem_path) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_sign", "NULL argument");
	}
	if (len > MUD_IODEF_MAX_DOC) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "mud_iodef_sign",
				     "document of %zu bytes exceeds %d", len, MUD_IODEF_MAX_DOC);
	}

	ERR_clear_error();
	kb = BIO_new_file(key_pem_path, "r");
	if (!kb) {
		mudp_escape(esc, sizeof(esc), key_pem_path, strlen(key_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "cannot open signing key");
		goto done;
	}
	key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	if (!key) {
		mudp_escape(esc, sizeof(esc), key_pem_path, strlen(key_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "no PEM private key");
		goto done;
	}
	cb = BIO_new_file(cert_pem_path, "r");
	if (!cb) {
		mudp_escape(esc, sizeof(esc), cert_pem_path, strlen(cert_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "cannot open signer certificate");
		goto done;
	}
	cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	if (!cert) {
		mudp_escape(esc, sizeof(esc), cert_pem_path, strlen(cert_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "no PEM certificate");
		goto done;
	}
	chain = sk_X509_new_null();
	if (!chain) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_new_null", "out of memory");
		goto done;
	}
	for (;;) {
		X509 *extra = PEM_read_bio_X509(cb, NULL, NULL, NULL);

		if (!extra) break;
		if (!sk_X509_push(chain, extra)) {
			X509_free(extra);
			rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_push", "out of memory");
			goto done;
		}
	}
	ERR_clear_error();	/* the end of the PEM file */
	if (X509_check_private_key(cert, key) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "X509_check_private_key",
				      "signing key does not match the certificate");
		goto done;
	}
	content = BIO_new_mem_buf(xml, (int)len);
	if (!content) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf", "out of memory");
		goto done;
	}
	cms = CMS_sign(cert, key, sk_X509_num(chain) > 0 ? chain : NULL, content,
		       attached ? CMS_BINARY : CMS_DETACHED | CMS_BINARY);
	if (!cms) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "CMS_sign", "signing failed");
		goto done;
	}
	out = BIO_new(BIO_s_mem());
	if (!out || i2d_CMS_bio(out, cms) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "i2d_CMS_bio", "encoding failed");
		goto done;
	}
	BIO_get_mem_ptr(out, &mem);
	if (!mem || mem->length == 0 || mem->length > max) {
		rc = mud_error_set(err, MUD_ERR_TOOBIG, "i2d_CMS_bio",
				   "signature of %zu bytes (at most %zu)", mem ? mem->length : 0,
				   max);
		goto done;
	}
	buf = talloc_memdup(ctx, mem->data, mem->length);
	if (!buf) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_sign", "out of memory");
		goto done;
	}
	*sig = buf;
	*sig_len = mem->length;

done:
	CMS_ContentInfo_free(cms);
	BIO_free(out);
	BIO_free(content);
	if (chain) sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return rc;
}

/** Verify a report's detached signature (see mud.h). */
mud_rcode_t mud_iodef_verify(char const *xml, size_t len, uint8_t const *sig, size_t sig_len,
			     mud_trust_t const *trust, mud_error_t *err)
{
	if (!xml) return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_verify", "no document");
	return mud_sig_verify(NULL, trust, (uint8_t const *)xml, len, sig, sig_len, 0, NULL, 0,
			      NULL, err);
}

/*
 *	Encryption (RFC 3067 6.16): CMS (Auth)EnvelopedData to the CSIRT's certificates.
 */

struct mud_iodef_rcpt {
	STACK_OF(X509)		*certs;		//!< read-only after mud_iodef_rcpt_load()
	EVP_CIPHER const	*cipher;
};

static int _rcpt_free(mud_iodef_rcpt_t *rcpt)
{
	if (rcpt->certs) sk_X509_pop_free(rcpt->certs, X509_free);
	rcpt->certs = NULL;
	return 0;
}

/** Load the recipients (see mud.h). */
mud_rcode_t mud_iodef_rcpt_load(TALLOC_CTX *ctx, mud_iodef_rcpt_t **out, char const *pem_path,
				char const *cipher, mud_error_t *err)
{
	mud_iodef_rcpt_t *rcpt;
	BIO *b = NULL;
	char esc[128];
	mud_rcode_t rc;
	int n;

	if (out) *out = NULL;
	if (!out || !pem_path) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_rcpt_load", "NULL argument");
	}
	mudp_escape(esc, sizeof(esc), pem_path, strlen(pem_path));
	rcpt = talloc_zero(ctx, mud_iodef_rcpt_t);
	if (!rcpt) return mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_rcpt_load", "out of memory");
	talloc_set_destructor(rcpt, _rcpt_free);
	if (!cipher || mudp_strcasecmp(cipher, "aes-256-gcm") == 0) {
		rcpt->cipher = EVP_aes_256_gcm();
	} else if (mudp_strcasecmp(cipher, "aes-256-cbc") == 0) {
		rcpt->cipher = EVP_aes_256_cbc();
	} else {
		char c[64];

		mudp_escape(c, sizeof(c), cipher, strlen(cipher));
		talloc_free(rcpt);
		return mud_error_set(err, MUD_ERR_ARG, "config.encrypt_cipher",
				     "unknown cipher \"%s\" (aes-256-gcm or aes-256-cbc)", c);
	}

	ERR_clear_error();
	rcpt->certs = sk_X509_new_null();
	if (!rcpt->certs) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_new_null", "out of memory");
		goto error;
	}
	b = BIO_new_file(pem_path, "r");
	if (!b) {
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "cannot open recipient certificate");
		goto error;
	}
	for (;;) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		EVP_PKEY *pk;

		if (!x) break;
		if (sk_X509_num(rcpt->certs) >= MUD_IODEF_MAX_RCPT) {
			X509_free(x);
			rc = mud_error_set(err, MUD_ERR_LIMIT, esc,
					   "more than %d recipient certificates",
					   MUD_IODEF_MAX_RCPT);
			goto error;
		}
		pk = X509_get0_pubkey(x);
		if (!pk || (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA &&
			    EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)) {
			X509_free(x);
			rc = mud_error_set(err, MUD_ERR_ARG, esc,
					   "recipient %d: key is neither RSA nor EC",
					   sk_X509_num(rcpt->certs) + 1);
			goto error;
		}
		if (!sk_X509_push(rcpt->certs, x)) {
			X509_free(x);
			rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_push", "out of memory");
			goto error;
		}
	}
	ERR_clear_error();	/* the end of the PEM file */
	n = sk_X509_num(rcpt->certs);
	if (n == 0) {
		rc = mud_error_set(err, MUD_ERR_IO, esc, "no PEM certificate");
		goto error;
	}
	BIO_free(b);
	*out = rcpt;
	return MUD_OK;

error:
	BIO_free(b);
	talloc_free(rcpt);
	ERR_clear_error();
	return rc;
}

/** Number of recipients. */
size_t mud_iodef_rcpt_count(mud_iodef_rcpt_t const *rcpt)
{
	if (!rcpt || !rcpt->certs) return 0;
	return (size_t)sk_X509_num(rcpt->certs);
}

/** Key transport with RSA-OAEP (SHA-256), key agreement with an X9.63 SHA-256 KDF. */
static bool rcpt_params(CMS_RecipientInfo *ri, X509 *cert)
{
	EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
	int id = EVP_PKEY_get_base_id(X509_get0_pubkey(cert));

	if (!pctx) return false;
	if (id == EVP_PKEY_RSA) {
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
	}
	return EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) > 0;
}

/** Sign, then encrypt (see mud.h). */
mud_rcode_t mud_iodef_seal(TALLOC_CTX *ctx, uint8_t **out, size_t *out_len, char const *xml,
			   size_t len, mud_iodef_config_t const *config, mud_error_t *err)
{
	mud_iodef_rcpt_t const *rcpt;
	TALLOC_CTX *tmp;
	uint8_t const *content = (uint8_t const *)xml;
	size_t clen = len;
	BIO *in = NULL;
	BIO *bout = NULL;
	CMS_ContentInfo *cms = NULL;
	BUF_MEM *mem = NULL;
	mud_rcode_t rc = MUD_OK;
	int i;

	if (out) *out = NULL;
	if (out_len) *out_len = 0;
	if (!out || !out_len || !xml || !config) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_seal", "NULL argument");
	}
	rcpt = config->encrypt;
	if (!rcpt || mud_iodef_rcpt_count(rcpt) == 0) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_seal", "no recipients");
	}
	if (len > MUD_IODEF_MAX_DOC) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "mud_iodef_seal",
				     "document of %zu bytes exceeds %d", len, MUD_IODEF_MAX_DOC);
	}
	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_seal", "out of memory");
	if (config->sign_key && config->sign_cert) {
		uint8_t *sd;

		rc = iodef_sign_der(tmp, &sd, &clen, xml, len, config->sign_key, config->sign_cert,
				    true, err);
		if (rc != MUD_OK) goto done;
		content = sd;
	}

	ERR_clear_error();
	in = BIO_new_mem_buf(content, (int)clen);
	if (!in) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf", "out of memory");
		goto done;
	}
	cms = CMS_encrypt(NULL, in, rcpt->cipher, CMS_BINARY | CMS_PARTIAL);
	if (!cms) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "CMS_encrypt", "cannot create envelope");
		goto done;
	}
	for (i = 0; i < sk_X509_num(rcpt->certs); i++) {
		X509 *x = sk_X509_value(rcpt->certs, i);
		CMS_RecipientInfo *ri = CMS_add1_recipient_cert(cms, x, CMS_KEY_PARAM);

		if (!ri || !rcpt_params(ri, x)) {
			char where[64];

			snprintf(where, sizeof(where), "CMS_add1_recipient_cert (recipient %d)",
				 i + 1);
			rc = mudp_ossl_error(err, MUD_ERR_SIG, where, "cannot add recipient");
			goto done;
		}
	}
	if (content != (uint8_t const *)xml &&
	    CMS_set1_eContentType(cms, OBJ_nid2obj(NID_pkcs7_signed)) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "CMS_set1_eContentType", "failed");
		goto done;
	}
	if (CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "CMS_final", "encryption failed");
		goto done;
	}
	bout = BIO_new(BIO_s_mem());
	if (!bout || i2d_CMS_bio(bout, cms) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "i2d_CMS_bio", "encoding failed");
		goto done;
	}
	BIO_get_mem_ptr(bout, &mem);
	if (!mem || mem->length == 0 || mem->length > MUD_IODEF_MAX_SEALED) {
		rc = mud_error_set(err, MUD_ERR_TOOBIG, "i2d_CMS_bio",
				   "sealed report of %zu bytes (at most %d)", mem ? mem->length : 0,
				   MUD_IODEF_MAX_SEALED);
		goto done;
	}
	*out = talloc_memdup(ctx, mem->data, mem->length);
	if (!*out) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_seal", "out of memory");
		goto done;
	}
	*out_len = mem->length;

done:
	CMS_ContentInfo_free(cms);
	BIO_free(bout);
	BIO_free(in);
	talloc_free(tmp);
	ERR_clear_error();
	return rc;
}

/** Decrypt a sealed report (see mud.h). */
mud_rcode_t mud_iodef_decrypt(TALLOC_CTX *ctx, uint8_t **doc, size_t *doc_len, uint8_t **sig,
			      size_t *sig_len, uint8_t const *in, size_t in_len,
			      char const *key_pem_path, char const *cert_pem_path,
			      mud_error_t *err)
{
	BIO *kb = NULL;
	BIO *cb = NULL;
	BIO *bin = NULL;
	BIO *plain = NULL;
	BIO *sout = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_ContentInfo *inner = NULL;
	BUF_MEM *mem = NULL;
	uint8_t const *body;
	size_t body_len;
	mud_rcode_t rc = MUD_OK;
	char esc[128];
	int type;

	if (doc) *doc = NULL;
	if (doc_len) *doc_len = 0;
	if (sig) *sig = NULL;
	if (sig_len) *sig_len = 0;
	if (!doc || !doc_len || !sig || !sig_len || !in || !key_pem_path || !cert_pem_path) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_iodef_decrypt", "NULL argument");
	}
	if (in_len == 0 || in_len > MUD_IODEF_MAX_SEALED) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "mud_iodef_decrypt",
				     "sealed report of %zu bytes (1..%d)", in_len,
				     MUD_IODEF_MAX_SEALED);
	}

	ERR_clear_error();
	kb = BIO_new_file(key_pem_path, "r");
	key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	if (!key) {
		mudp_escape(esc, sizeof(esc), key_pem_path, strlen(key_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "no readable PEM private key");
		goto done;
	}
	cb = BIO_new_file(cert_pem_path, "r");
	cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	if (!cert) {
		mudp_escape(esc, sizeof(esc), cert_pem_path, strlen(cert_pem_path));
		rc = mudp_ossl_error(err, MUD_ERR_IO, esc, "no readable PEM certificate");
		goto done;
	}
	if (X509_check_private_key(cert, key) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_ARG, "X509_check_private_key",
				      "key does not match the certificate");
		goto done;
	}
	bin = BIO_new_mem_buf(in, (int)in_len);
	if (!bin) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf", "out of memory");
		goto done;
	}
	cms = d2i_CMS_bio(bin, NULL);
	if (!cms) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "d2i_CMS_bio", "not a DER CMS message");
		goto done;
	}
	type = OBJ_obj2nid(CMS_get0_type(cms));
	if (type != NID_pkcs7_enveloped && type != NID_id_smime_ct_authEnvelopedData) {
		rc = mud_error_set(err, MUD_ERR_SIG, "CMS_get0_type",
				   "not an enveloped message (%s)", OBJ_nid2sn(type));
		goto done;
	}
	plain = BIO_new(BIO_s_mem());
	if (!plain) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new", "out of memory");
		goto done;
	}
	if (CMS_decrypt(cms, key, cert, NULL, plain, CMS_BINARY) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_SIG, "CMS_decrypt",
				      "not for this key, or damaged");
		goto done;
	}
	BIO_get_mem_ptr(plain, &mem);
	if (!mem || mem->length == 0 || mem->length > MUD_IODEF_MAX_SEALED) {
		rc = mud_error_set(err, MUD_ERR_TOOBIG, "CMS_decrypt", "content of %zu bytes",
				   mem ? mem->length : 0);
		goto done;
	}
	body = (uint8_t const *)mem->data;
	body_len = mem->length;

	/* Signed, then encrypted: the content is a SignedData carrying the document. */
	if (body[0] == 0x30) {
		uint8_t const *p = body;
		ASN1_OCTET_STRING **pos;

		inner = d2i_CMS_ContentInfo(NULL, &p, (long)body_len);
		if (!inner || OBJ_obj2nid(CMS_get0_type(inner)) != NID_pkcs7_signed ||
		    !(pos = CMS_get0_content(inner)) || !*pos) {
			rc = mudp_ossl_error(err, MUD_ERR_SIG, "d2i_CMS_ContentInfo",
					      "content is neither XML nor a SignedData with it");
			goto done;
		}
		if ((size_t)ASN1_STRING_length(*pos) > MUD_IODEF_MAX_DOC) {
			rc = mud_error_set(err, MUD_ERR_TOOBIG, "CMS_get0_content",
					   "document larger than %d bytes", MUD_IODEF_MAX_DOC);
			goto done;
		}
		*doc = talloc_memdup(ctx, ASN1_STRING_get0_data(*pos),
				     (size_t)ASN1_STRING_length(*pos));
		*doc_len = (size_t)ASN1_STRING_length(*pos);
		if (!*doc || CMS_set_detached(inner, 1) != 1) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_decrypt",
					   "out of memory");
			goto done;
		}
		sout = BIO_new(BIO_s_mem());
		if (!sout || i2d_CMS_bio(sout, inner) != 1) {
			rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "i2d_CMS_bio", "encoding failed");
			goto done;
		}
		BIO_get_mem_ptr(sout, &mem);
		*sig = mem ? talloc_memdup(ctx, mem->data, mem->length) : NULL;
		if (!*sig) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_decrypt",
					   "out of memory");
			goto done;
		}
		*sig_len = mem->length;
		goto done;
	}
	if (body_len > MUD_IODEF_MAX_DOC) {
		rc = mud_error_set(err, MUD_ERR_TOOBIG, "CMS_decrypt",
				   "document larger than %d bytes", MUD_IODEF_MAX_DOC);
		goto done;
	}
	*doc = talloc_memdup(ctx, body, body_len);
	if (!*doc) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "mud_iodef_decrypt", "out of memory");
		goto done;
	}
	*doc_len = body_len;

done:
	if (rc != MUD_OK) {
		TALLOC_FREE(*doc);
		TALLOC_FREE(*sig);
		*doc_len = 0;
		*sig_len = 0;
	}
	CMS_ContentInfo_free(inner);
	CMS_ContentInfo_free(cms);
	BIO_free(sout);
	BIO_free(plain);
	BIO_free(bin);
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return rc;
}
