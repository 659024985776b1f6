/*
 * fuzz_x509.c - fuzz target for certificates (PEM or DER): the MUD URL and
 * mud-signer extensions. Checks the same contracts as fuzz_url.c.
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

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	TALLOC_CTX *root = talloc_new(NULL);
	mud_url_t *u = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	mud_error_t err;
	mud_rcode_t rc;

	if (!root) return 0;

	mud_error_clear(&err);
	rc = mud_url_from_cert(root, &u, data, size, &err);
	if (rc == MUD_OK) {
		CHECK(u != NULL && talloc_parent(u) == root);
		CHECK(mud_url_parse(NULL, NULL, u->url, strlen(u->url), NULL) == MUD_OK);
		talloc_free(u);
	} else {
		CHECK(u == NULL && err.code == rc);
	}
	CHECK(talloc_total_blocks(root) == 1);
	CHECK(ERR_peek_error() == 0);

	mud_error_clear(&err);
	rc = mud_signer_from_cert(root, &der, &der_len, data, size, &err);
	if (rc == MUD_OK) {
		char *text;

		CHECK(der != NULL && der_len > 0 && talloc_parent(der) == root);
		text = mud_signer_to_text(root, der, der_len);
		CHECK(text != NULL);
	} else {
		CHECK(der == NULL && der_len == 0 && err.code == rc);
		CHECK(talloc_total_blocks(root) == 1);
	}
	CHECK(ERR_peek_error() == 0);

	talloc_free(root);
	return 0;
}
