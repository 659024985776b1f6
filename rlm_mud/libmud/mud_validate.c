/*
 * mud_validate.c - semantic rules of a parsed MUD file (RFC 8520 / RFC 8519
 * subset) that the YANG schema alone does not express, or that yanglint
 * evaluates document-wide instead of per ACL.
 */
#include <stdio.h>
#include <string.h>

#include "mud_private.h"

#define MV_ESC_LEN	64	//!< escaped value shown in error texts
#define MV_ACLS		"/ietf-access-control-list:acls/acl"

static char const *acl_type_name(mud_acl_type_t t)
{
	switch (t) {
	case MUD_ACL_TYPE_NONE: return "(none)";
	case MUD_ACL_TYPE_IPV4: return "ipv4-acl-type";
	case MUD_ACL_TYPE_IPV6: return "ipv6-acl-type";
	case MUD_ACL_TYPE_ETH: return "eth-acl-type";
	case MUD_ACL_TYPE_MIXED_ETH_IPV4: return "mixed-eth-ipv4-acl-type";
	case MUD_ACL_TYPE_MIXED_ETH_IPV6: return "mixed-eth-ipv6-acl-type";
	case MUD_ACL_TYPE_MIXED_ALL: return "mixed-eth-ipv4-ipv6-acl-type";
	}
	return "(unknown)";
}

static bool type_has_v4(mud_acl_type_t t)
{
	return t == MUD_ACL_TYPE_IPV4 || t == MUD_ACL_TYPE_MIXED_ETH_IPV4 ||
	       t == MUD_ACL_TYPE_MIXED_ALL;
}

static bool type_has_v6(mud_acl_type_t t)
{
	return t == MUD_ACL_TYPE_IPV6 || t == MUD_ACL_TYPE_MIXED_ETH_IPV6 ||
	       t == MUD_ACL_TYPE_MIXED_ALL;
}

static bool type_has_eth(mud_acl_type_t t)
{
	return t == MUD_ACL_TYPE_ETH || t == MUD_ACL_TYPE_MIXED_ETH_IPV4 ||
		t == MUD_ACL_TYPE_MIXED_ETH_IPV6 || t == MUD_ACL_TYPE_MIXED_ALL;
}

static char const *l4_name(mud_l4_t l4)
{
	switch (l4) {
	case MUD_L4_NONE: return "(none)";
	case MUD_L4_TCP: return "tcp";
	case MUD_L4_UDP: return "udp";
	case MUD_L4_ICMP: return "icmp";
	}
	return "(unknown)";
}

/** Error at where + suffix. */
static mud_rcode_t verr(mud_error_t *err, mud_rcode_t code, char const *where, char const *suffix,
			char const *fmt, ...) __attribute__((format(printf, 5, 6)));
static mud_rcode_t verr(mud_error_t *err, mud_rcode_t code, char const *where, char const *suffix,
			char const *fmt, ...)
{
	char w[sizeof(((mud_error_t *)0)->where)];
	char text[sizeof(((mud_error_t *)0)->text)];
	va_list ap;

	snprintf(w, sizeof(w), "%s%s", where ? where : "", suffix ? suffix : "");
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return mud_error_set(err, code, w, "%s", text);
}

/** Semantic checks of one ACE (see mud_private.h). */
mud_rcode_t mudp_ace_validate(mud_acl_t const *acl, mud_ace_t const *ace,
			      unsigned int leniencies, char const *where, mud_error_t *err)
{
	char esc[MV_ESC_LEN];
	char const *l3 = ace->l3 == MUD_L3_IPV4 ? "/ipv4" : "/ipv6";
	char const *l3n = l3 + 1;
	char const *l4 = l4_name(ace->l4);

	esc[0] = '\0';
	if (acl->name) mudp_escape(esc, sizeof(esc), acl->name, strlen(acl->name));

	/*
	 *	Matches must fit the ACL's own type (yanglint evaluates the
	 *	"when" over all ACLs of the document, RFC 8519 means this one).
	 */
	if ((ace->l3 == MUD_L3_IPV4 && !type_has_v4(acl->type)) ||
	    (ace->l3 == MUD_L3_IPV6 && !type_has_v6(acl->type))) {
		return verr(err, MUD_ERR_SEMANTIC, where, l3, "%s match in ACL \"%s\" of type %s",
			    l3n, esc, acl_type_name(acl->type));
	}
	if (ace->eth && !type_has_eth(acl->type) &&
	    !((leniencies & MUD_LENIENT_ETH_IN_IP_ACL) &&
	      (acl->type == MUD_ACL_TYPE_IPV4 || acl->type == MUD_ACL_TYPE_IPV6))) {
		return verr(err, MUD_ERR_SEMANTIC, where, "/eth",
			    "eth match in ACL \"%s\" of type %s", esc, acl_type_name(acl->type));
	}

	/*
	 *	protocol and the L4 container must agree.
	 */
	if (ace->protocol >= 0 && ace->l4 != MUD_L4_NONE) {
		int want = ace->l4 == MUD_L4_TCP ? 6 : (ace->l4 == MUD_L4_UDP ? 17 :
						       (ace->l3 == MUD_L3_IPV6 ? 58 : 1));

		if (ace->protocol != want) {
			char w[16];

			snprintf(w, sizeof(w), "%s/protocol", l3);
			return verr(err, MUD_ERR_SEMANTIC, where, w,
				    "protocol %d contradicts the %s match (protocol %d)",
				    ace->protocol, l4, want);
		}
	}
	/*
	 *	Ports only with tcp/udp; direction-initiated only with tcp.
	 */
	if ((ace->src_port.op != MUD_PORT_ANY || ace->dst_port.op != MUD_PORT_ANY) &&
	    ace->l4 != MUD_L4_TCP && ace->l4 != MUD_L4_UDP) {
		return verr(err, MUD_ERR_SEMANTIC, where, NULL, "port match without tcp or udp");
	}
	if (ace->src_port.op == MUD_PORT_RANGE && ace->src_port.lo > ace->src_port.hi) {
		return verr(err, MUD_ERR_SEMANTIC, where, NULL,
			    "source lower-port %u greater than upper-port %u",
			    ace->src_port.lo, ace->src_port.hi);
	}
	if (ace->dst_port.op == MUD_PORT_RANGE && ace->dst_port.lo > ace->dst_port.hi) {
		return verr(err, MUD_ERR_SEMANTIC, where, NULL,
			    "destination lower-port %u greater than upper-port %u",
			    ace->dst_port.lo, ace->dst_port.hi);
	}
	if (ace->direction_initiated != MUD_DIRINIT_NONE && ace->l4 != MUD_L4_TCP) {
		return verr(err, MUD_ERR_SEMANTIC, where, NULL, "direction-initiated without tcp");
	}
	if ((ace->icmp_type >= 0 || ace->icmp_code >= 0) && ace->l4 != MUD_L4_ICMP) {
		return verr(err, MUD_ERR_SEMANTIC, where, NULL, "icmp type/code without icmp");
	}

	/*
	 *	A network, a DNS name and abstractions on one side may all be given: the
	 *	match containers are ANDed (RFC 8519 section 4), so the ACE matches the
	 *	intersection of their addresses (mud_compile.c).
	 */
	return MUD_OK;
}

/** Whether name is in the list. */
static bool name_in(char * const *names, size_t num, char const *name)
{
	size_t i;

	for (i = 0; i < num; i++) {
		if (names[i] && strcmp(names[i], name) == 0) return true;
	}
	return false;
}

/** Check one policy's references. */
static mud_rcode_t refs_check(mud_file_t const *file, char * const *names, size_t num,
			      char const *policy, mud_error_t *err)
{
	size_t i;

	for (i = 0; i < num; i++) {
		char where[160];
		char esc[MV_ESC_LEN];

		if (mud_file_acl(file, names[i])) continue;
		snprintf(where, sizeof(where), "/ietf-mud:mud/%s/access-lists/access-list/%zu/name",
			 policy, i);
		mudp_escape(esc, sizeof(esc), names[i], strlen(names[i]));
		return mud_error_set(
			err, MUD_ERR_SEMANTIC, where,
			"access-list \"%s\" not found in ietf-access-control-list:acls", esc);
	}
	return MUD_OK;
}

/** Add a warning unless the same one is already there (validate may run twice). */
static void warn_once(mud_file_t *file, char const *where, char const *text)
{
	size_t i;

	for (i = 0; i < file->num_warnings; i++) {
		if (strcmp(file->warnings[i].where, where) == 0 &&
		    strcmp(file->warnings[i].text, text) == 0) return;
	}
	mudp_warn(file, &file->warnings, &file->num_warnings, &file->num_warnings_dropped,
		  where, "%s", text);
}

/** Semantic validation (see mud.h). */
mud_rcode_t mud_file_validate(mud_file_t *file, char const *expected_url, mud_error_t *err)
{
	size_t i;
	size_t j;
	mud_rcode_t rc;

	if (!file) return mud_error_set(err, MUD_ERR_ARG, "", "no file");
	if (!file->mud_url) {
		return mud_error_set(err, MUD_ERR_SCHEMA, "/ietf-mud:mud",
				     "missing mandatory leaf \"mud-url\"");
	}

	if (expected_url) {
		mud_error_t uerr;
		char esc_exp[MV_ESC_LEN];

		mud_error_clear(&uerr);
		mudp_escape(esc_exp, sizeof(esc_exp), expected_url, strlen(expected_url));
		if (mud_url_parse(NULL, NULL, expected_url, strlen(expected_url), &uerr) !=
		    MUD_OK) {
			return mud_error_set(err, MUD_ERR_ARG, "expected_url",
					     "URL fetched \"%s\" is not a valid MUD URL: %s",
					     esc_exp, uerr.text);
		}
		if (strcmp(file->mud_url, expected_url) != 0) {
			char esc_file[MV_ESC_LEN];

			mudp_escape(esc_file, sizeof(esc_file), file->mud_url,
				    strlen(file->mud_url));
			return mud_error_set(err, MUD_ERR_MISMATCH, "/ietf-mud:mud/mud-url",
					     "mud-url \"%s\" differs from the URL fetched \"%s\"",
					     esc_file, esc_exp);
		}
	}

	rc = refs_check(file, file->from_device, file->num_from_device, "from-device-policy", err);
	if (rc != MUD_OK) return rc;
	rc = refs_check(file, file->to_device, file->num_to_device, "to-device-policy", err);
	if (rc != MUD_OK) return rc;

	for (i = 0; i < file->num_acls; i++) {
		mud_acl_t const *acl = &file->acls[i];

		for (j = 0; j < i; j++) {
			char where[160];
			char esc[MV_ESC_LEN];

			if (strcmp(file->acls[j].name, acl->name) != 0) continue;
			snprintf(where, sizeof(where), MV_ACLS "/%zu/name", i);
			mudp_escape(esc, sizeof(esc), acl->name, strlen(acl->name));
			return mud_error_set(err, MUD_ERR_SCHEMA, where,
					     "duplicate acl name \"%s\"", esc);
		}
		for (j = 0; j < acl->num_aces; j++) {
			char where[160];

			snprintf(where, sizeof(where), MV_ACLS "/%zu/aces/ace/%zu/matches", i, j);
			rc = mudp_ace_validate(acl, &acl->aces[j], file->leniencies, where, err);
			if (rc != MUD_OK) return rc;
		}
	}

	for (i = 0; i < file->num_acls; i++) {
		char const *name = file->acls[i].name;
		char where[160];
		char text[160];
		char esc[MV_ESC_LEN];

		if (name_in(file->from_device, file->num_from_device, name) ||
		    name_in(file->to_device, file->num_to_device, name)) continue;
		snprintf(where, sizeof(where), MV_ACLS "/%zu", i);
		mudp_escape(esc, sizeof(esc), name, strlen(name));
		snprintf(text, sizeof(text), "ACL \"%s\" is not used by any policy", esc);
		warn_once(file, where, text);
	}
	return MUD_OK;
}

/** Find an ACL by name (see mud.h). */
mud_acl_t const *mud_file_acl(mud_file_t const *file, char const *name)
{
	size_t i;

	if (!file || !name) return NULL;
	for (i = 0; i < file->num_acls; i++) {
		if (file->acls[i].name && strcmp(file->acls[i].name, name) == 0)
			return &file->acls[i];
	}
	return NULL;
}
