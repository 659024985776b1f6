/*
 * fuzz_url.c - fuzz target for MUD URL validation and extraction.
 *
 * The first byte selects the parser, the rest is its input. Besides the
 * sanitizers, the target checks the library's contracts: on failure *out is
 * NULL and nothing is left under the talloc root; on success the URL is a
 * child of the root and re-validates; the OpenSSL error queue is left empty.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <talloc.h>
#include <openssl/err.h>

#include "mud.h"

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);

/** A broken contract is a bug: crash so the fuzzer (or replay) reports it. */
#define CHECK(_x) do { if (!(_x)) __builtin_trap(); } while (0)

enum {
	F_PARSE = 0,
	F_LLDP,
	F_CISCO_LLDP,
	F_DHCPV4,
	F_DHCPV6,
	F_CISCO_DHCP,
	F_AVPAIR,
	F_X509_EXT,
	F_SIGNER_EXT,
	F_MAX
};

static void check_url(TALLOC_CTX *root, mud_url_t *u, mud_rcode_t rc, mud_error_t const *err)
{
	if (rc != MUD_OK) {
		CHECK(u == NULL);
		CHECK(err->code == rc);
		CHECK(memchr(err->where, '\0', sizeof(err->where)) != NULL);
		CHECK(memchr(err->text, '\0', sizeof(err->text)) != NULL);
		CHECK(talloc_total_blocks(root) == 1);
		return;
	}
	CHECK(u != NULL);
	CHECK(talloc_parent(u) == root);
	CHECK(u->url && u->host && u->authority && u->path);
	CHECK(strlen(u->url) >= 1 && strlen(u->url) <= MUD_MAX_URL_LEN);
	CHECK(u->port != 0);
	CHECK(mud_url_parse(NULL, NULL, u->url, strlen(u->url), NULL) == MUD_OK);
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	TALLOC_CTX *root;
	mud_url_t *u = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	mud_error_t err;
	mud_rcode_t rc;
	uint8_t const *in;
	size_t len;

	if (size < 1) return 0;
	in = data + 1;
	len = size - 1;
	root = talloc_new(NULL);
	if (!root) return 0;
	mud_error_clear(&err);

	switch (data[0] % F_MAX) {
	case F_PARSE:
		rc = mud_url_parse(root, &u, (char const *)in, len, &err);
		check_url(root, u, rc, &err);
		if (rc == MUD_OK) {
			char *sig;

			CHECK(strlen(u->url) == len && memcmp(u->url, in, len) == 0);
			sig = mud_url_signature(root, u->url, NULL);
			CHECK(sig != NULL);
			CHECK(mud_url_parse(NULL, NULL, sig, strlen(sig), NULL) == MUD_OK ||
			      strlen(sig) > MUD_MAX_URL_LEN);
		}
		break;

	case F_LLDP:
		rc = mud_url_from_lldp(root, &u, in, len, &err);
		check_url(root, u, rc, &err);
		break;

	case F_CISCO_LLDP:
		rc = mud_url_from_cisco_lldp(root, &u, in, len, &err);
		check_url(root, u, rc, &err);
		break;

	case F_DHCPV4:
		rc = mud_url_from_dhcpv4(root, &u, in, len, &err);
		check_url(root, u, rc, &err);
		break;

	case F_DHCPV6:
		rc = mud_url_from_dhcpv6(root, &u, in, len, &err);
		check_url(root, u, rc, &err);
		break;

	case F_CISCO_DHCP:
		rc = mud_url_from_cisco_dhcp(root, &u, &src, in, len, &err);
		check_url(root, u, rc, &err);
		CHECK(rc == MUD_OK ? (src == MUD_SRC_DHCPV4 || src == MUD_SRC_DHCPV6)
				   : src == MUD_SRC_NONE);
		break;

	case F_AVPAIR:
		rc = mud_url_from_avpair(root, &u, &src, in, len, &err);
		check_url(root, u, rc, &err);
		CHECK(rc == MUD_OK ? src != MUD_SRC_NONE : src == MUD_SRC_NONE);
		break;

	case F_X509_EXT:
		rc = mud_url_from_x509_ext(root, &u, in, len, &err);
		check_url(root, u, rc, &err);
		break;

	case F_SIGNER_EXT:
	{
		uint8_t *der = NULL;
		size_t der_len = 0;

		rc = mud_signer_from_x509_ext(root, &der, &der_len, in, len, &err);
		if (rc == MUD_OK) {
			uint8_t *again = NULL;
			size_t again_len = 0;

			CHECK(der != NULL && der_len > 0);
			CHECK(talloc_parent(der) == root);
			(void)mud_signer_to_text(root, der, der_len);
			/* the canonical re-encoding is a fixed point */
			CHECK(mud_signer_from_x509_ext(root, &again, &again_len, der, der_len,
						       NULL) == MUD_OK);
			CHECK(again_len == der_len && memcmp(again, der, der_len) == 0);
		} else {
			CHECK(der == NULL && der_len == 0);
			CHECK(talloc_total_blocks(root) == 1);
		}
		(void)mud_signer_to_text(root, in, len);
		break;
	}

	default:
		break;
	}

	CHECK(ERR_peek_error() == 0);
	talloc_free(root);
	return 0;
}
