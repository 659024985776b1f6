/*
 * mud_sig.c - MUD file signatures (RFC 8520 section 13): detached CMS
 * SignedData over the MUD file bytes, checked against a private set of trust
 * anchors. The only libmud file that includes OpenSSL CMS/X509 headers.
 *
 * Verification is split in two so that each failure gets its own code:
 *  1. CMS_verify(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) checks the content
 *     digest and the signature value (MUD_ERR_SIG_DIGEST);
 *  2. the signer certificate is then checked with a per-call X509_STORE_CTX
 *     over the shared store, whose verification time is set on the context's
 *     own copy of the parameters (MUD_ERR_SIG_EXPIRED / _UNTRUSTED / _SIG).
 * The shared X509_STORE is never modified after mud_trust_load(), so one
 * mud_trust_t can serve every thread.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <pthread.h>

#include <openssl/bio.h>
#include <openssl/pem.h>		/* before cms.h: declares PEM_read_bio_CMS only then */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "mud_private.h"

/** Trust anchors for MUD signers (opaque in mud.h). */
struct mud_trust {
	X509_STORE	*store;		//!< anchors; read-only after load
	size_t		num_certs;	//!< certificates loaded
};

/** Bound for names and other certificate text quoted in error messages. */
#define SIG_NAME_TEXT	96

/** Release the store with its wrapper. */
static int _mud_trust_free(mud_trust_t *trust)
{
	if (trust->store) X509_STORE_free(trust->store);
	trust->store = NULL;
	return 0;
}

/** A reference to trust's anchors (see mud_private.h). */
mud_trust_t *mudp_trust_ref(TALLOC_CTX *ctx, mud_trust_t const *trust)
{
	mud_trust_t *ref;

	if (!trust || !trust->store) return NULL;
	ref = talloc_zero(ctx, mud_trust_t);
	if (!ref) return NULL;
	if (X509_STORE_up_ref(trust->store) != 1) {
		ERR_clear_error();
		talloc_free(ref);
		return NULL;
	}
	ref->store = trust->store;	/* read-only after load: shared as it is */
	ref->num_certs = trust->num_certs;
	talloc_set_destructor(ref, _mud_trust_free);
	return ref;
}

/** Drain the thread's OpenSSL error queue; the first reason goes into err (see mud_private.h). */
mud_rcode_t mudp_ossl_error(mud_error_t *err, mud_rcode_t code, char const *where, char const *what)
{
	unsigned long e = ERR_get_error();
	char const *reason = e ? ERR_reason_error_string(e) : NULL;

	while (ERR_get_error() != 0) {
		/* drain */
	}
	if (reason) return mud_error_set(err, code, where, "%s: %s", what, reason);
	return mud_error_set(err, code, where, "%s", what);
}

/** Add every certificate of a PEM file to the store; *count gets how many.
 *
 * @return MUD_OK, MUD_ERR_IO (unreadable), MUD_ERR_ARG (malformed PEM), MUD_ERR_NOMEM.
 */
static mud_rcode_t trust_load_pem(mud_trust_t *trust, char const *path, size_t *count,
				  mud_error_t *err)
{
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *bio;
	mud_rcode_t rcode = MUD_OK;
	char esc[128];
	int i;

	*count = 0;
	mudp_escape(esc, sizeof(esc), path, strlen(path));

	ERR_clear_error();
	bio = BIO_new_file(path, "r");
	if (!bio) return mudp_ossl_error(err, MUD_ERR_IO, "BIO_new_file", esc);
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!infos) return mudp_ossl_error(err, MUD_ERR_ARG, "PEM_X509_INFO_read_bio", esc);

	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (!info->x509) continue;
		/*
		 *	Fill the certificate's lazily computed extension cache
		 *	now, in the loading thread: otherwise the first
		 *	verifications write it while other threads read it.
		 */
		(void)X509_check_purpose(info->x509, -1, 0);
		if (X509_STORE_add_cert(trust->store, info->x509) != 1) {
			rcode = mudp_ossl_error(err, MUD_ERR_ARG, "X509_STORE_add_cert", esc);
			goto done;
		}
		(*count)++;
	}

done:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return rcode;
}

/** Files looked at in a trust anchor directory (a sanity bound, not a protocol one). */
#define TRUST_MAX_DIR_FILES	4096

/** Load every PEM certificate from the regular files of a directory.
 *
 * Files without a PEM certificate (README, CRLs, keys) are skipped; a file
 * with a malformed PEM block is an error. Hidden files are ignored.
 */
static mud_rcode_t trust_load_dir(mud_trust_t *trust, char const *dir, mud_error_t *err)
{
	DIR *dp;
	struct dirent *de;
	struct stat st;
	mud_rcode_t rcode = MUD_OK;
	size_t files = 0;
	size_t count;
	size_t total = 0;
	char path[4096];
	char esc[128];
	int n;

	mudp_escape(esc, sizeof(esc), dir, strlen(dir));
	dp = opendir(dir);
	if (!dp) {
		return mud_error_set(err, MUD_ERR_IO, esc,
				     "trust anchor directory does not exist or is not a directory");
	}
	for (;;) {
		de = readdir(dp);
		if (!de) break;
		if (de->d_name[0] == '.') continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
		files++;
		if (files > TRUST_MAX_DIR_FILES) {
			rcode = mud_error_set(err, MUD_ERR_ARG, esc,
					      "more than %d files in the trust anchor directory",
					      TRUST_MAX_DIR_FILES);
			goto done;
		}
		rcode = trust_load_pem(trust, path, &count, err);
		if (rcode != MUD_OK) goto done;
		total += count;
	}
	if (total == 0) {
		rcode = mud_error_set(err, MUD_ERR_ARG, esc,
				      "no PEM certificate in the trust anchor directory");
	}
	trust->num_certs += total;

done:
	closedir(dp);
	return rcode;
}

/** Load trust anchors (see mud.h).
 *
 * Every certificate is read now, from file and from the regular files of dir
 * (no hashing needed; no lazy lookups later, so the store never changes after
 * this returns and may be shared by threads). Anchors need not be self-signed
 * (X509_V_FLAG_PARTIAL_CHAIN): any configured certificate is trusted as is.
 * The system default store is never used.
 *
 * @param[in] ctx	talloc parent of the result.
 * @param[out] out	the anchors; NULL on failure.
 * @param[in] file	PEM file with one or more certificates, or NULL.
 * @param[in] dir	directory of PEM files, or NULL.
 * @param[out] err	error details, may be NULL.
 * @return MUD_OK; MUD_ERR_ARG (no source, file or dir without certificate,
 *	   malformed PEM); MUD_ERR_IO (file unreadable, dir not a directory); MUD_ERR_NOMEM.
 */
mud_rcode_t mud_trust_load(TALLOC_CTX *ctx, mud_trust_t **out, char const *file, char const *dir,
			   mud_error_t *err)
{
	mud_trust_t *trust;
	mud_rcode_t rcode;
	size_t count;
	char esc[128];

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "mud_trust_load", "no output pointer");
	*out = NULL;
	if (file && !*file) file = NULL;
	if (dir && !*dir) dir = NULL;
	if (!file && !dir) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_trust_load",
				     "neither a trust anchor file nor a directory given");
	}

	trust = talloc_zero(ctx, mud_trust_t);
	if (!trust) return mud_error_set(err, MUD_ERR_NOMEM, "mud_trust_load", "out of memory");
	talloc_set_destructor(trust, _mud_trust_free);

	ERR_clear_error();
	trust->store = X509_STORE_new();
	if (!trust->store) {
		rcode = mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_new", "out of memory");
		goto error;
	}
	if (X509_STORE_set_flags(trust->store, X509_V_FLAG_PARTIAL_CHAIN) != 1) {
		rcode = mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_set_flags",
				       "cannot set flags");
		goto error;
	}

	if (file) {
		rcode = trust_load_pem(trust, file, &count, err);
		if (rcode != MUD_OK) goto error;
		if (count == 0) {
			mudp_escape(esc, sizeof(esc), file, strlen(file));
			rcode = mud_error_set(err, MUD_ERR_ARG, esc,
					      "no PEM certificate in the trust anchor file");
			goto error;
		}
		trust->num_certs += count;
	}

	if (dir) {
		rcode = trust_load_dir(trust, dir, err);
		if (rcode != MUD_OK) goto error;
	}

	ERR_clear_error();
	*out = trust;
	return MUD_OK;

error:
	talloc_free(trust);
	ERR_clear_error();
	return rcode;
}

/** "2019-01-01T00:00:00Z" for at (0 = now). */
static void sig_time_text(char *buf, size_t len, time_t at)
{
	struct tm tm;
	time_t t = at ? at : time(NULL);

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, len, "%lld", (long long)t);
	}
}

/** RFC 2253 text of a name into a fixed buffer (bounded, printable); "" on failure. */
static void sig_name_text(char *buf, size_t len, X509_NAME const *name)
{
	BIO *bio;
	char *data = NULL;
	long n;

	buf[0] = '\0';
	if (!name) return;
	bio = BIO_new(BIO_s_mem());
	if (!bio) return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && data) mudp_escape(buf, len, data, (size_t)n);
	}
	BIO_free(bio);
}

/** RFC 2253 text of a name under ctx; NULL on allocation failure. */
static char *sig_name_talloc(TALLOC_CTX *ctx, X509_NAME const *name)
{
	BIO *bio;
	char *data = NULL;
	char *out = NULL;
	long n;

	bio = BIO_new(BIO_s_mem());
	if (!bio) return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		if (n >= 0) out = talloc_strndup(ctx, data ? data : "", (size_t)n);
	}
	BIO_free(bio);
	return out;
}

/** True if the buffer starts (after white space) with a PEM header. */
static bool sig_is_pem(uint8_t const *sig, size_t len)
{
	static char const hdr[] = "-----BEGIN ";
	size_t i = 0;

	while (i < len && (sig[i] == ' ' || sig[i] == '\t' || sig[i] == '\r' || sig[i] == '\n')) {
		i++;
	}
	return (len - i >= sizeof(hdr) - 1) && (memcmp(sig + i, hdr, sizeof(hdr) - 1) == 0);
}

/** Decode DER or PEM CMS into *out (NULL on failure). */
static mud_rcode_t sig_decode(CMS_ContentInfo **out, uint8_t const *sig, size_t sig_len,
			      mud_error_t *err)
{
	CMS_ContentInfo *cms;
	unsigned char const *p = sig;
	BIO *bio;

	*out = NULL;
	ERR_clear_error();
	if (sig_is_pem(sig, sig_len)) {
		bio = BIO_new_mem_buf(sig, (int)sig_len);
		if (!bio) {
			return mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf",
					      "out of memory");
		}
		cms = PEM_read_bio_CMS(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (!cms) {
			return mudp_ossl_error(err, MUD_ERR_SIG, "PEM_read_bio_CMS",
					      "signature is not a PEM CMS structure");
		}
		*out = cms;
		return MUD_OK;
	}

	cms = d2i_CMS_ContentInfo(NULL, &p, (long)sig_len);
	if (!cms) {
		return mudp_ossl_error(err, MUD_ERR_SIG, "d2i_CMS_ContentInfo",
				      "signature is not a DER CMS structure");
	}
	if ((size_t)(p - sig) != sig_len) {
		CMS_ContentInfo_free(cms);
		return mud_error_set(err, MUD_ERR_SIG, "d2i_CMS_ContentInfo",
				     "%zu trailing bytes after the CMS structure (offset %zu)",
				     sig_len - (size_t)(p - sig), (size_t)(p - sig));
	}
	*out = cms;
	return MUD_OK;
}

/** Check content digest and signature value (no certificate checks).
 *
 * The trust anchors are offered as extra certificates so that a signature
 * without embedded certificates can name a configured signer certificate.
 */
static mud_rcode_t sig_check_digest(CMS_ContentInfo *cms, mud_trust_t const *trust,
				    uint8_t const *content, size_t content_len, mud_error_t *err)
{
	STACK_OF(X509) *anchors;
	BIO *data;
	unsigned long e;
	unsigned long first = 0;
	bool content_mismatch = false;
	bool sig_mismatch = false;
	bool not_found = false;
	char const *reason;
	int ok;

	ERR_clear_error();
	anchors = X509_STORE_get1_all_certs(trust->store);
	if (!anchors) {
		return mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_get1_all_certs", "failed");
	}

	data = BIO_new_mem_buf(content_len ? (void const *)content : (void const *)"",
			       (int)content_len);
	if (!data) {
		sk_X509_pop_free(anchors, X509_free);
		return mudp_ossl_error(err, MUD_ERR_NOMEM, "BIO_new_mem_buf", "out of memory");
	}

	ok = CMS_verify(cms, anchors, NULL, data, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
	BIO_free(data);
	sk_X509_pop_free(anchors, X509_free);
	if (ok == 1) {
		ERR_clear_error();
		return MUD_OK;
	}

	/*
	 *	OpenSSL 3.0: a messageDigest attribute that differs from the
	 *	content hash, or a signature value that does not verify, both
	 *	raise CMS_R_VERIFICATION_FAILURE; CMS_verify then adds
	 *	CMS_R_CONTENT_VERIFY_ERROR when it was the content.
	 */
	for (;;) {
		e = ERR_get_error();
		if (e == 0) break;
		if (!first) first = e;
		if (ERR_GET_LIB(e) != ERR_LIB_CMS) continue;
		switch (ERR_GET_REASON(e)) {
		case CMS_R_CONTENT_VERIFY_ERROR:
			content_mismatch = true;
			break;
		case CMS_R_VERIFICATION_FAILURE:
			sig_mismatch = true;
			break;
		case CMS_R_SIGNER_CERTIFICATE_NOT_FOUND:
			not_found = true;
			break;
		default:
			break;
		}
	}

	if (content_mismatch) {
		return mud_error_set(err, MUD_ERR_SIG_DIGEST, "CMS_verify",
				     "content does not match the signature "
				     "(message digest mismatch)");
	}
	if (sig_mismatch) {
		return mud_error_set(err, MUD_ERR_SIG_DIGEST, "CMS_verify",
				     "content does not match the signature "
				     "(signature value does not verify with the signer's key)");
	}
	if (not_found) {
		return mud_error_set(err, MUD_ERR_SIG_UNTRUSTED, "CMS_verify",
				     "signer certificate is neither in the signature "
				     "nor a trust anchor");
	}
	reason = first ? ERR_reason_error_string(first) : NULL;
	return mud_error_set(err, MUD_ERR_SIG, "CMS_verify", "signature verification failed: %s",
			     reason ? reason : "unknown reason");
}

/** Map an X509_V_ERR_* to a result code. */
static mud_rcode_t sig_chain_rcode(int verr)
{
	switch (verr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
		return MUD_ERR_SIG_EXPIRED;

	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return MUD_ERR_SIG_UNTRUSTED;

	default:
		return MUD_ERR_SIG;
	}
}

/** Verify a signer certificate against the trust anchors, with the untrusted certificates
 *  offered as intermediates, at time at (0 = now). The one verifier of signers: the
 *  signature check (sig_check_chain) and the re-check of a recorded chain
 *  (mud_trust_check_chain) both decide by it, with the same store, flags and purpose. */
static mud_rcode_t sig_verify_signer(X509 *signer, STACK_OF(X509) *untrusted,
				     mud_trust_t const *trust, time_t at, mud_error_t *err)
{
	X509_STORE_CTX *sctx;
	X509 *bad;
	mud_rcode_t rcode;
	char subject[SIG_NAME_TEXT];
	char when[32];
	int verr;
	int ok;

	ERR_clear_error();
	sctx = X509_STORE_CTX_new();
	if (!sctx) {
		return mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_CTX_new", "out of memory");
	}
	if (X509_STORE_CTX_init(sctx, trust->store, signer, untrusted) != 1) {
		rcode = mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_CTX_init", "failed");
		goto done;
	}
	/* The context holds its own copy of the store's parameters. */
	if (at != 0) X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sctx), at);

	ok = X509_verify_cert(sctx);
	if (ok == 1) {
		rcode = MUD_OK;
		goto done;
	}

	verr = X509_STORE_CTX_get_error(sctx);
	bad = X509_STORE_CTX_get_current_cert(sctx);
	sig_name_text(subject, sizeof(subject), X509_get_subject_name(bad ? bad : signer));
	sig_time_text(when, sizeof(when), at);
	if (verr == X509_V_OK) {
		rcode = mudp_ossl_error(err, MUD_ERR_SIG, "X509_verify_cert",
				       "signer certificate verification failed");
		goto done;
	}
	rcode = mud_error_set(err, sig_chain_rcode(verr), "X509_verify_cert",
			      "certificate \"%s\" (depth %d): %s at %s", subject,
			      X509_STORE_CTX_get_error_depth(sctx),
			      X509_verify_cert_error_string(verr), when);

done:
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return rcode;
}

/** Verify the signer's certificate chain at time at (0 = now), with the certificates the
 *  signature carries as intermediates. */
static mud_rcode_t sig_check_chain(CMS_ContentInfo *cms, X509 *signer, mud_trust_t const *trust,
				   time_t at, mud_error_t *err)
{
	STACK_OF(X509) *certs;
	mud_rcode_t rcode;

	ERR_clear_error();
	certs = CMS_get1_certs(cms);	/* NULL when the signature carries none */
	rcode = sig_verify_signer(signer, certs, trust, at, err);
	if (certs) sk_X509_pop_free(certs, X509_free);
	return rcode;
}

/** Append the DER of x to the chain being built in *buf (talloc, grown under ctx).
 *  @return 1 when added; 0 when x cannot be encoded or would take the chain past
 *	    MUD_SIGNER_CHAIN_MAX bytes; -1 when out of memory. */
static int sig_chain_add(TALLOC_CTX *ctx, uint8_t **buf, size_t *len, X509 *x)
{
	unsigned char *enc = NULL;
	uint8_t *grown;
	int n;

	ERR_clear_error();
	n = i2d_X509(x, &enc);
	if (n <= 0 || !enc) {
		ERR_clear_error();
		return 0;
	}
	if ((size_t)n > MUD_SIGNER_CHAIN_MAX - *len) {
		OPENSSL_free(enc);
		return 0;
	}
	grown = talloc_realloc(ctx, *buf, uint8_t, *len + (size_t)n);
	if (!grown) {
		OPENSSL_free(enc);
		return -1;
	}
	memcpy(grown + *len, enc, (size_t)n);
	OPENSSL_free(enc);
	*buf = grown;
	*len += (size_t)n;
	return 1;
}

/** The signer's chain as recorded (see mud_policy_t.signer_chain): the signer certificate,
 *  then each other certificate the SignedData carries, as concatenated DER, under ctx.
 *  NULL with *nomem set when out of memory. A chain past MUD_SIGNER_CHAIN_MAX bytes or
 *  MUD_SIGNER_CHAIN_CERTS certificates gives NULL without *nomem: no chain is recorded,
 *  and the cache treats such a policy as one without a chain (served stale, so refetched
 *  and verified again, after a re-check of the trust anchors). */
static uint8_t *sig_chain_record(TALLOC_CTX *ctx, CMS_ContentInfo *cms, X509 *signer,
				 size_t *len, bool *nomem)
{
	STACK_OF(X509) *certs;
	uint8_t *buf = NULL;
	size_t num = 1;
	int added;
	int i;

	*len = 0;
	*nomem = false;
	added = sig_chain_add(ctx, &buf, len, signer);
	if (added != 1) goto fail;

	ERR_clear_error();
	certs = CMS_get1_certs(cms);	/* NULL when the signature carries none */
	for (i = 0; certs && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_cmp(x, signer) == 0) continue;
		if (++num > MUD_SIGNER_CHAIN_CERTS) {
			added = 0;
		} else {
			added = sig_chain_add(ctx, &buf, len, x);
		}
		if (added != 1) {
			sk_X509_pop_free(certs, X509_free);
			goto fail;
		}
	}
	if (certs) sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	talloc_set_name_const(buf, "signer chain");
	return buf;

fail:
	*nomem = added < 0;
	talloc_free(buf);
	*len = 0;
	ERR_clear_error();
	return NULL;
}

/** Re-check a recorded signer chain against the trust anchors (see mud.h). */
mud_rcode_t mud_trust_check_chain(mud_trust_t const *trust, uint8_t const *chain,
				  size_t chain_len, time_t at, mud_error_t *err)
{
	STACK_OF(X509) *rest = NULL;
	X509 *signer = NULL;
	unsigned char const *p = chain;
	unsigned char const *end = chain + chain_len;
	size_t num = 0;
	mud_rcode_t rcode;

	if (!trust || !trust->store) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_trust_check_chain", "no trust anchors");
	}
	if (!chain || chain_len == 0) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_trust_check_chain", "no chain");
	}
	if (chain_len > MUD_SIGNER_CHAIN_MAX) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_trust_check_chain",
				     "chain of %zu bytes exceeds %d", chain_len,
				     MUD_SIGNER_CHAIN_MAX);
	}

	ERR_clear_error();
	rest = sk_X509_new_null();
	if (!rest) return mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_new_null", "out of memory");
	while (p < end) {
		unsigned char const *at_cert = p;
		X509 *x;

		if (++num > MUD_SIGNER_CHAIN_CERTS) {
			rcode = mud_error_set(err, MUD_ERR_ARG, "mud_trust_check_chain",
					      "chain has more than %d certificates",
					      MUD_SIGNER_CHAIN_CERTS);
			goto done;
		}
		x = d2i_X509(NULL, &p, (long)(end - p));
		if (!x || p <= at_cert || p > end) {
			char text[64];

			if (x) X509_free(x);
			snprintf(text, sizeof(text), "certificate %zu of the chain is not DER",
				 num);
			rcode = mudp_ossl_error(err, MUD_ERR_ARG, "d2i_X509", text);
			goto done;
		}
		if (!signer) {
			signer = x;
			continue;
		}
		if (!sk_X509_push(rest, x)) {
			X509_free(x);
			rcode = mudp_ossl_error(err, MUD_ERR_NOMEM, "sk_X509_push",
						"out of memory");
			goto done;
		}
	}

	rcode = sig_verify_signer(signer, rest, trust, at, err);

done:
	if (signer) X509_free(signer);
	sk_X509_pop_free(rest, X509_free);
	ERR_clear_error();
	return rcode;
}

/** Decode a DER Name of exactly len bytes; NULL (and err, about what) if it is not one. */
static X509_NAME *sig_name_decode(uint8_t const *der, size_t len, char const *what,
				  mud_error_t *err)
{
	unsigned char const *p = der;
	X509_NAME *name;

	ERR_clear_error();
	if (len > (size_t)MUD_MAX_SIG_SIZE) {
		(void)mud_error_set(err, MUD_ERR_SIG_SIGNER, "d2i_X509_NAME",
				    "%s name of %zu bytes is too long", what, len);
		return NULL;
	}
	name = der ? d2i_X509_NAME(NULL, &p, (long)len) : NULL;
	if (!name) {
		char text[96];

		snprintf(text, sizeof(text), "%s is not a DER Name", what);
		(void)mudp_ossl_error(err, MUD_ERR_SIG_SIGNER, "d2i_X509_NAME", text);
		return NULL;
	}
	if ((size_t)(p - der) != len) {
		(void)mud_error_set(err, MUD_ERR_SIG_SIGNER, "d2i_X509_NAME",
				    "%s has %zu trailing bytes", what, len - (size_t)(p - der));
		X509_NAME_free(name);
		ERR_clear_error();
		return NULL;
	}
	return name;
}

/** The one comparison of a signer's subject with the expected signer (mud-signer): the
 *  signature check and the cache (mudp_signer_match) both decide by it. */
static mud_rcode_t sig_name_check(X509_NAME const *got, uint8_t const *signer_der,
				  size_t signer_der_len, mud_error_t *err)
{
	X509_NAME *want;
	char got_text[SIG_NAME_TEXT];
	char want_text[SIG_NAME_TEXT];
	mud_rcode_t rcode = MUD_OK;

	want = sig_name_decode(signer_der, signer_der_len, "expected signer (mud-signer)", err);
	if (!want) return MUD_ERR_SIG_SIGNER;
	if (X509_NAME_cmp(want, got) != 0) {
		sig_name_text(got_text, sizeof(got_text), got);
		sig_name_text(want_text, sizeof(want_text), want);
		rcode = mud_error_set(err, MUD_ERR_SIG_SIGNER, "mud-signer",
				      "signed by \"%s\", device requires \"%s\"",
				      got_text, want_text);
	}
	X509_NAME_free(want);
	ERR_clear_error();
	return rcode;
}

/** Does a recorded signer (the DER subject of a verified signer certificate) satisfy the
 *  expected signer? The same comparison as the signature check (see mud_private.h). */
mud_rcode_t mudp_signer_match(uint8_t const *got_der, size_t got_len, uint8_t const *want_der,
			      size_t want_len, mud_error_t *err)
{
	X509_NAME *got;
	mud_rcode_t rcode;

	got = sig_name_decode(got_der, got_len, "recorded signer", err);
	if (!got) return MUD_ERR_SIG_SIGNER;
	rcode = sig_name_check(got, want_der, want_len, err);
	X509_NAME_free(got);
	return rcode;
}

/** DER encoding of a Name under ctx; NULL on failure. */
static uint8_t *sig_name_der(TALLOC_CTX *ctx, X509_NAME const *name, size_t *len)
{
	unsigned char *enc = NULL;
	uint8_t *out;
	int n;

	ERR_clear_error();
	n = i2d_X509_NAME(name, &enc);
	if (n <= 0 || !enc) {
		ERR_clear_error();
		return NULL;
	}
	out = talloc_memdup(ctx, enc, (size_t)n);
	OPENSSL_free(enc);
	if (!out) return NULL;
	talloc_set_name_const(out, "signer DER");
	*len = (size_t)n;
	return out;
}

/** Verify a detached CMS signature (see mud.h).
 *
 * Order of checks: malformed (MUD_ERR_SIG), content digest or signature value
 * (MUD_ERR_SIG_DIGEST), signer chain at time at (MUD_ERR_SIG_EXPIRED,
 * MUD_ERR_SIG_UNTRUSTED, MUD_ERR_SIG), expected signer (MUD_ERR_SIG_SIGNER).
 * The signer certificate needs no particular extended key usage.
 *
 * @param[in] ctx		talloc parent of *signer_subject.
 * @param[in] trust		anchors from mud_trust_load().
 * @param[in] content		the MUD file bytes exactly as fetched.
 * @param[in] content_len	their length (<= MUD_MAX_FILE_SIZE).
 * @param[in] sig		DER or PEM CMS SignedData without content (NULL -> missing).
 * @param[in] sig_len		its length (0 -> missing, <= MUD_MAX_SIG_SIZE).
 * @param[in] at		evaluation time, 0 = now.
 * @param[in] signer_der	DER X.509 Name the signer's subject must equal, or NULL.
 * @param[in] signer_der_len	its length.
 * @param[out] signer_subject	if not NULL: the signer's subject (RFC 2253) on
 *				success, NULL on failure.
 * @param[out] err		error details, may be NULL.
 * @return MUD_OK or an error code listed in mud.h.
 */
mud_rcode_t mud_sig_verify(TALLOC_CTX *ctx, mud_trust_t const *trust,
			   uint8_t const *content, size_t content_len,
			   uint8_t const *sig, size_t sig_len, time_t at,
			   uint8_t const *signer_der, size_t signer_der_len,
			   char **signer_subject, mud_error_t *err)
{
	return mudp_sig_verify(ctx, trust, content, content_len, sig, sig_len, at, signer_der,
			       signer_der_len, signer_subject, NULL, NULL, NULL, NULL, err);
}

/** mud_sig_verify() that also gives the DER encoding of the signer's subject and the
 *  signer's chain (see mud_private.h). */
mud_rcode_t mudp_sig_verify(TALLOC_CTX *ctx, mud_trust_t const *trust,
			    uint8_t const *content, size_t content_len,
			    uint8_t const *sig, size_t sig_len, time_t at,
			    uint8_t const *signer_der, size_t signer_der_len,
			    char **signer_subject, uint8_t **subject_der, size_t *subject_der_len,
			    uint8_t **chain, size_t *chain_len, mud_error_t *err)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sinfos;
	X509 *signer = NULL;
	char *subject = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	uint8_t *ch = NULL;
	size_t ch_len = 0;
	mud_rcode_t rcode;
	int num;

	if (chain) *chain = NULL;
	if (chain_len) *chain_len = 0;
	if (signer_subject) *signer_subject = NULL;
	if (subject_der) *subject_der = NULL;
	if (subject_der_len) *subject_der_len = 0;
	if (!trust || !trust->store) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_sig_verify", "no trust anchors");
	}
	if (!content && content_len) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_sig_verify", "no content");
	}
	if (content_len > (size_t)MUD_MAX_FILE_SIZE) {
		return mud_error_set(err, MUD_ERR_TOOBIG, "mud_sig_verify",
				     "content of %zu bytes exceeds %d", content_len,
				     MUD_MAX_FILE_SIZE);
	}
	if (!sig || sig_len == 0) {
		return mud_error_set(err, MUD_ERR_SIG_MISSING, "mud_sig_verify", "no signature");
	}
	if (sig_len > (size_t)MUD_MAX_SIG_SIZE) {
		return mud_error_set(err, MUD_ERR_SIG, "mud_sig_verify",
				     "signature of %zu bytes exceeds %d", sig_len,
				     MUD_MAX_SIG_SIZE);
	}

	rcode = sig_decode(&cms, sig, sig_len, err);
	if (rcode != MUD_OK) return rcode;

	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		rcode = mud_error_set(err, MUD_ERR_SIG, "CMS_get0_type",
				      "signature is not a CMS SignedData");
		goto done;
	}
	if (CMS_is_detached(cms) != 1) {
		rcode = mud_error_set(err, MUD_ERR_SIG, "CMS_is_detached",
				      "signature is not detached");
		goto done;
	}
	sinfos = CMS_get0_SignerInfos(cms);
	num = sinfos ? sk_CMS_SignerInfo_num(sinfos) : 0;
	if (num != 1) {
		rcode = mud_error_set(err, MUD_ERR_SIG, "CMS_get0_SignerInfos",
				      "signature has %d signers, exactly one expected",
				      num < 0 ? 0 : num);
		goto done;
	}

	rcode = sig_check_digest(cms, trust, content, content_len, err);
	if (rcode != MUD_OK) goto done;

	/* CMS_verify has attached the signer's certificate to the SignerInfo. */
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sinfos, 0), NULL, &signer, NULL, NULL);
	if (!signer) {
		rcode = mud_error_set(err, MUD_ERR_SIG, "CMS_SignerInfo_get0_algs",
				      "signer certificate not found");
		goto done;
	}

	rcode = sig_check_chain(cms, signer, trust, at, err);
	if (rcode != MUD_OK) goto done;

	if (signer_der) {
		rcode = sig_name_check(X509_get_subject_name(signer), signer_der, signer_der_len,
				       err);
		if (rcode != MUD_OK) goto done;
	}

	if (subject_der && subject_der_len) {
		der = sig_name_der(ctx, X509_get_subject_name(signer), &der_len);
		if (!der) {
			rcode = mud_error_set(err, MUD_ERR_NOMEM, "i2d_X509_NAME",
					      "out of memory");
			goto done;
		}
	}
	if (chain && chain_len) {
		bool nomem;

		ch = sig_chain_record(ctx, cms, signer, &ch_len, &nomem);
		if (!ch && nomem) {
			talloc_free(der);
			rcode = mud_error_set(err, MUD_ERR_NOMEM, "i2d_X509", "out of memory");
			goto done;
		}
	}
	if (signer_subject) {
		subject = sig_name_talloc(ctx, X509_get_subject_name(signer));
		if (!subject) {
			talloc_free(der);
			talloc_free(ch);
			rcode = mud_error_set(err, MUD_ERR_NOMEM, "X509_NAME_print_ex",
					      "out of memory");
			goto done;
		}
		*signer_subject = subject;
	}
	if (der) {
		*subject_der = der;
		*subject_der_len = der_len;
	}
	if (ch) {
		*chain = ch;
		*chain_len = ch_len;
	}
	rcode = MUD_OK;

done:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rcode;
}

/*
 *	SHA-256 for mud_sha256_hex(): the digest is fetched from the default provider once,
 *	not on every call (EVP_sha256() is fetched again, under the provider store's lock, by
 *	every EVP_Digest(); the request path hashes each applied policy). Read-only once set.
 */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

/** SHA-256 of data as lowercase hex (see mud.h); "" if the digest fails.
 *
 * @param[out] out	65 bytes: 64 hex digits and a NUL.
 * @param[in] data	bytes to hash (may be NULL when len is 0).
 * @param[in] len	their length.
 */
void mud_sha256_hex(char out[65], void const *data, size_t len)
{
	static char const hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	out[0] = '\0';
	pthread_once(&sha256_once, sha256_fetch);
	ERR_clear_error();
	if (EVP_Digest(data ? data : "", data ? len : 0, md, &mdlen,
		       sha256_md ? sha256_md : EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		ERR_clear_error();
		return;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}
