/*
 * mud_policy.c - the pipeline: MUD URL -> fetch (HTTPS, verified) -> detached
 * signature -> parse + validate -> compile with the site context -> render.
 *
 * Each stage reports its own error code, so the caller (module, mudctl) can
 * tell a TLS failure from a bad signature from an invalid file.
 */
#include <string.h>
#include <time.h>

#include "mud_private.h"

/** Compile and render a parsed file into pol (shared by both entry points). */
static mud_rcode_t policy_finish(mud_policy_t *pol, mud_policy_opts_t const *opts, mud_error_t *err)
{
	mud_context_t const *site = opts->site;
	mud_context_t *empty = NULL;
	mud_rcode_t rc;

	if (!site) {
		empty = mud_context_alloc(pol);
		if (!empty) return mud_error_set(err, MUD_ERR_NOMEM, "context", "out of memory");
		site = empty;
	}
	rc = mud_ruleset_compile(pol, &pol->rules, pol->file, site, opts->resolve,
				 opts->resolve_uctx, err);
	if (rc != MUD_OK) return rc;

	return mud_ruleset_render(pol, &pol->rendered, pol->rules, opts->format, err);
}

/** Verify sig over file (if a trust store is configured) and record the evidence: the
 *  signer's subject as text and as DER (what a cached policy is checked against later).
 *  A device certificate that names a mud-signer needs a signature even when missing ones
 *  are tolerated (a file without one cannot be shown to come from that signer). */
static mud_rcode_t policy_verify(mud_policy_t *pol, uint8_t const *file, size_t file_len,
				 uint8_t const *sig, size_t sig_len, mud_policy_opts_t const *opts,
				 mud_error_t *err)
{
	if (sig && sig_len) mud_sha256_hex(pol->sig_sha256, sig, sig_len);
	if (!opts->trust) return MUD_OK;
	if ((!sig || !sig_len) && !opts->require_signature && !opts->signer_der) return MUD_OK;

	return mudp_sig_verify(pol, opts->trust, file, file_len, sig, sig_len, opts->at,
			       opts->signer_der, opts->signer_der_len, &pol->signer,
			       &pol->signer_der, &pol->signer_der_len, &pol->signer_chain,
			       &pol->signer_chain_len, err);
}

/** A new policy for url with opts' compile tag (NULL on allocation failure). */
static mud_policy_t *policy_new(TALLOC_CTX *ctx, char const *url, mud_policy_opts_t const *opts)
{
	mud_policy_t *pol;

	pol = talloc_zero(ctx, mud_policy_t);
	if (!pol) return NULL;
	pol->compile_tag = talloc_strdup(pol, opts->compile_tag ? opts->compile_tag : "");
	if (!pol->compile_tag) goto error;
	if (url) {
		pol->url = talloc_strdup(pol, url);
		if (!pol->url) goto error;
	}
	return pol;

error:
	talloc_free(pol);
	return NULL;
}

/** Keep a copy of bytes (len of them, NUL-terminated, not counted) under pol in *out; the
 *  caller's buffer is not kept (it may be the caller's own). False if out of memory. */
static bool policy_keep(mud_policy_t *pol, uint8_t **out, size_t *out_len, uint8_t const *bytes,
			size_t len)
{
	uint8_t *copy;

	copy = talloc_array(pol, uint8_t, len + 1);
	if (!copy) return false;
	if (len) memcpy(copy, bytes, len);
	copy[len] = '\0';
	*out = copy;
	*out_len = len;
	return true;
}

/** Run the pipeline on bytes at hand (see mud.h). */
mud_rcode_t mud_policy_from_bytes(TALLOC_CTX *ctx, mud_policy_t **out, char const *url,
				  uint8_t const *file, size_t file_len,
				  uint8_t const *sig, size_t sig_len,
				  mud_policy_opts_t const *opts, mud_error_t *err)
{
	mud_policy_t *pol;
	mud_rcode_t rc;

	if (!out || !opts || !file) return mud_error_set(err, MUD_ERR_ARG, "", "missing argument");
	*out = NULL;

	pol = policy_new(ctx, url, opts);
	if (!pol) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	mud_sha256_hex(pol->file_sha256, file, file_len);

	rc = policy_verify(pol, file, file_len, sig, sig_len, opts, err);
	if (rc != MUD_OK) goto error;

	rc = mud_file_parse(pol, &pol->file, (char const *)file, file_len, url,
			    opts->parse_flags, err);
	if (rc != MUD_OK) goto error;

	rc = policy_finish(pol, opts, err);
	if (rc != MUD_OK) goto error;

	/* What the policy was made from, for the cache to keep (mud_cache_source()). */
	if (!policy_keep(pol, &pol->file_bytes, &pol->file_len, file, file_len) ||
	    (sig && sig_len && !policy_keep(pol, &pol->sig_bytes, &pol->sig_len, sig, sig_len))) {
		rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
		goto error;
	}

	*out = pol;
	return MUD_OK;

error:
	talloc_free(pol);
	return rc;
}

/** Record what a failed fetch learned in pol (best effort): the server's address and
 *  certificate. After a URL-policy refusal they describe the refused step: the address
 *  refused (no certificate: nothing was connected), or the server that redirected to the
 *  refused URL, or nothing; refused_url is the URL refused. */
static void policy_failed(mud_policy_t *pol, mud_fetch_result_t const *failed)
{
	if (!failed) return;
	if (failed->refused_url) {
		TALLOC_FREE(pol->server_ip);
		TALLOC_FREE(pol->server_cert_pem);
	}
	if (failed->primary_ip) {
		TALLOC_FREE(pol->server_ip);
		pol->server_ip = talloc_strdup(pol, failed->primary_ip);
	}
	if (failed->server_cert_pem) {
		TALLOC_FREE(pol->server_cert_pem);
		pol->server_cert_pem = talloc_strdup(pol, failed->server_cert_pem);
	}
	if (failed->refused_url) pol->refused_url = talloc_strdup(pol, failed->refused_url);
}

/** Copy what is known so far into *evidence (best effort). */
static void policy_evidence(TALLOC_CTX *ctx, mud_policy_t **evidence, mud_policy_t *pol)
{
	if (!evidence) return;
	*evidence = talloc_steal(ctx, pol);
}

/** Run the whole pipeline for a URL (see mud.h). */
mud_rcode_t mud_policy_fetch(TALLOC_CTX *ctx, mud_policy_t **out, char const *url,
			     mud_policy_opts_t const *opts, mud_policy_t **evidence,
			     mud_error_t *err)
{
	TALLOC_CTX *tmp;
	mud_policy_t *pol;
	mud_url_t *parsed = NULL;
	mud_fetch_result_t *body = NULL;
	mud_fetch_result_t *sigres = NULL;
	mud_fetch_result_t *failed = NULL;
	mud_fetch_opts_t fopts;
	mud_file_t *probe = NULL;
	mud_error_t sigerr;
	mud_error_t perr;
	mud_rcode_t prc;
	mud_rcode_t rc;

	if (evidence) *evidence = NULL;
	if (!out || !opts || !url) return mud_error_set(err, MUD_ERR_ARG, "", "missing argument");
	*out = NULL;

	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	pol = policy_new(tmp, url, opts);
	if (!pol) {
		talloc_free(tmp);
		return mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
	}

	rc = mud_url_parse(tmp, &parsed, url, strlen(url), err);
	if (rc != MUD_OK) goto error;

	/*
	 *	1. The MUD file (the URL policy in opts->fetch.policy is applied by mud_fetch_ex()
	 *	to the URL, each redirect and each connection).
	 */
	fopts = opts->fetch;
	fopts.what = "MUD URL";
	rc = mud_fetch_ex(tmp, &body, url, &fopts, &failed, err);
	if (rc != MUD_OK) {
		policy_failed(pol, failed);
		goto error;
	}
	pol->fetched = time(NULL);
	if (body->primary_ip) pol->server_ip = talloc_strdup(pol, body->primary_ip);
	if (body->server_cert_pem) pol->server_cert_pem = talloc_strdup(pol, body->server_cert_pem);
	mud_sha256_hex(pol->file_sha256, body->body, body->len);

	/*
	 *	2. Parse once (bounded, nothing trusted yet): the signature URL comes from the
	 *	file's mud-signature. A parse error is reported only after the signature check,
	 *	so a tampered or unsigned file is reported as the signature failure.
	 */
	mud_error_clear(&perr);
	prc = mud_file_parse(tmp, &probe, (char const *)body->body, body->len, NULL,
			     opts->parse_flags, &perr);

	/*
	 *	3. The detached signature, at most MUD_MAX_SIG_SIZE bytes. Its URL comes from a
	 *	file not yet verified (mud-signature): the same URL policy applies to it.
	 */
	if (opts->trust) {
		mud_fetch_opts_t sopts = opts->fetch;

		sopts.what = "signature URL";
		if (!sopts.max_size || sopts.max_size > MUD_MAX_SIG_SIZE) {
			sopts.max_size = MUD_MAX_SIG_SIZE;
		}
		pol->sig_url = mud_url_signature(pol, url,
						 prc == MUD_OK ? probe->mud_signature : NULL);
		if (!pol->sig_url) {
			rc = mud_error_set(err, MUD_ERR_NOMEM, "", "out of memory");
			goto error;
		}

		mud_error_clear(&sigerr);
		failed = NULL;
		rc = mud_fetch_ex(tmp, &sigres, pol->sig_url, &sopts, &failed, &sigerr);
		if (rc == MUD_ERR_REFUSED) {
			policy_failed(pol, failed);	/* refused: never tolerated */
			if (err && err->code == MUD_OK) *err = sigerr;
			goto error;
		} else if (rc == MUD_ERR_HTTP && !opts->require_signature && !opts->signer_der) {
			sigres = NULL;	/* no signature published: allowed by configuration */
		} else if (rc == MUD_ERR_HTTP) {
			rc = mud_error_set(err, MUD_ERR_SIG_MISSING, pol->sig_url,
					   "signature not retrievable (%s)", sigerr.where);
			goto error;
		} else if (rc != MUD_OK) {
			if (err && err->code == MUD_OK) *err = sigerr;
			goto error;
		}
		rc = policy_verify(pol, body->body, body->len, sigres ? sigres->body : NULL,
				   sigres ? sigres->len : 0, opts, err);
		if (rc != MUD_OK) goto error;
	}

	/*
	 *	4. The parse result, validated against the URL it came from; 5. compile, render.
	 */
	if (prc != MUD_OK) {
		if (err && err->code == MUD_OK) *err = perr;
		rc = prc;
		goto error;
	}
	rc = mud_file_validate(probe, url, err);
	if (rc != MUD_OK) {
		/* evidence for a mismatch: the mud-url the file claims */
		if (rc == MUD_ERR_MISMATCH && probe->mud_url) {
			pol->file_mud_url = talloc_strdup(pol, probe->mud_url);
		}
		goto error;
	}
	pol->file = talloc_steal(pol, probe);

	rc = policy_finish(pol, opts, err);
	if (rc != MUD_OK) goto error;

	/* What the policy was made from (both NUL-terminated, bounded by the fetch's caps),
	 * moved, not copied, for the cache to keep (mud_cache_source()). */
	pol->file_bytes = talloc_steal(pol, body->body);
	pol->file_len = body->len;
	if (sigres && sigres->len) {
		pol->sig_bytes = talloc_steal(pol, sigres->body);
		pol->sig_len = sigres->len;
	}

	*out = talloc_steal(ctx, pol);
	talloc_free(tmp);
	return MUD_OK;

error:
	policy_evidence(ctx, evidence, pol);
	talloc_free(tmp);
	return rc;
}
