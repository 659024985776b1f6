/*
 * mud_fetch.c - HTTPS GET of MUD files and signatures with libcurl.
 *
 * The only file of libmud that includes <curl/curl.h>. Each call uses its own
 * easy handle (wrapped in a talloc object whose destructor cleans it up), so
 * calls from different threads never share curl state. TLS verification of
 * the peer and of the host name is always on, against the caller's anchors:
 * never the system store. Only https is allowed, for the first request and for
 * every redirect. The body is bounded (MAXFILESIZE for announced lengths, the
 * write callback for the rest).
 *
 * The anchors are either a mud_ca_t (opts->ca: loaded once by mud_ca_load(),
 * shared read-only by every fetch and thread) or, without it, a CA file and/or
 * directory that libcurl reads at each connection (mudctl). A mud_ca_t reaches
 * OpenSSL in the CURLOPT_SSL_CTX_FUNCTION callback, which libcurl calls for
 * every new TLS connection (a redirect to another server, the tunnel through a
 * proxy): SSL_CTX_set1_verify_cert_store() takes a reference to its X509_STORE.
 * OpenSSL checks the server's chain against the verify store when one is set,
 * never against the SSL_CTX's cert store, and the verify store is the one that
 * libcurl never touches: libcurl 7.88 fills, flags and caches
 * (CURLOPT_CA_CACHE_TIMEOUT) the cert store after this callback, 8.3 and later
 * before it. CURLOPT_CAINFO/CAPATH are NULL then, so libcurl reads no file and
 * its cert store stays empty.
 *
 * The URL policy (mud_urlpolicy.c, opts->policy) is enforced here, where the
 * connections are made:
 *  - redirects are followed by this file, not by libcurl (FOLLOWLOCATION off):
 *    each Location is parsed with libcurl's own URL parser (so the host checked
 *    is the host libcurl connects to), must be https, and its normalised
 *    authority passes the allow/deny lists before it is requested; at most
 *    opts->max_redirs hops, all within one total timeout;
 *  - every socket is opened by fetch_opensocket() (CURLOPT_OPENSOCKETFUNCTION),
 *    which checks the address libcurl is about to connect to and refuses a
 *    special-purpose one before the socket exists. libcurl resolves a name
 *    once per connection and connects to what it resolved, so the address
 *    checked is the address used: a DNS answer that changes between two
 *    lookups (rebinding) cannot bypass it;
 *  - proxies from the environment are never used (CURLOPT_PROXY "" and CURLOPT_NOPROXY
 *    ""). A proxy is used only when configured (opts->proxy, docs/operations.md
 *    "HTTP proxy"): the socket then goes to the proxy, whose address the operator chose
 *    and is not checked; the MUD server's address is what the proxy connects to, so
 *    with address checks on (allow_private_urls = no) this file resolves the host
 *    itself, checks every address and pins the CONNECT to the first one accepted
 *    (CURLOPT_CONNECT_TO: the proxy is asked for that IP literal, never the name, so a
 *    rebinding DNS answer at the proxy changes nothing; TLS still verifies the name).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mud_private.h"

#define FETCH_CONNECT_TIMEOUT_MS	5000	//!< default connect timeout (mud.h: 0 -> 5000).
#define FETCH_TIMEOUT_MS		15000	//!< default total timeout (mud.h: 0 -> 15000).
#define FETCH_REDIRS_DEFAULT		3	//!< redirects followed when opts->max_redirs < 0.
#define FETCH_REDIRS_MAX		10	//!< hard cap: MUD servers need one or two.
#define FETCH_BODY_INITIAL		(16 * 1024)	//!< first allocation (real files fit).
#define FETCH_HEADER_MAX		256	//!< longest Accept / User-Agent value accepted.
#define FETCH_WHY			200	//!< bytes of a refusal reason.
#define FETCH_ACCEPT_DEFAULT		"application/mud+json"
#define FETCH_USER_AGENT_DEFAULT	"rlm_mud/" PACKAGE_VERSION

/** An easy handle and its header list, freed together by the destructor. */
typedef struct {
	CURL			*curl;
	struct curl_slist	*headers;
	struct curl_slist	*connect_to;	//!< the pinned address of a proxied hop
	X509_STORE		*ca_store;	//!< the fetch's own reference to opts->ca's store
} fetch_handle_t;

/** Body being received; the buffer lives under the call's tmp context. */
typedef struct {
	TALLOC_CTX	*ctx;		//!< parent of buf.
	uint8_t		*buf;		//!< talloc array, alloc bytes.
	size_t		len;		//!< bytes received.
	size_t		alloc;		//!< bytes allocated (always > len, room for the NUL).
	size_t		max;		//!< cap on len.
	bool		toobig;		//!< aborted because len would exceed max.
	bool		nomem;		//!< aborted because an allocation failed.
} fetch_body_t;

/** What the open-socket callback saw: the policy it applies and the first refusal. */
typedef struct {
	mud_urlpolicy_t const	*policy;	//!< NULL: every address accepted
	bool			refused;	//!< an address was refused
	char			addr[INET6_ADDRSTRLEN];	//!< the first address refused
	char			why[FETCH_WHY];		//!< and the reason
	bool			via_proxy;	//!< this hop goes through the configured proxy
	uint16_t		proxy_port;	//!< the only port then connected to
} fetch_guard_t;

/** The certificate the server presented, captured during verification so that it is
 *  known also when verification fails (curl has no CERTINFO then). */
#define FETCH_PEER_PEM_MAX	16384	//!< a leaf certificate in PEM is ~1-3 KiB

/** What the SSL_CTX callback installs, and what the verify callback captures. */
typedef struct {
	X509_STORE	*store;		//!< opts->ca's anchors (the handle's reference), or NULL
	char		pem[FETCH_PEER_PEM_MAX];
	size_t		len;		//!< 0: none captured
} fetch_peer_t;

static int fetch_peer_idx = -1;		//!< SSL_CTX ex_data slot, set by mud_fetch_global_init()
static bool fetch_openssl;		//!< libcurl's TLS library is OpenSSL (its SSL_CTX is
					//!< ours to configure), set by mud_fetch_global_init()

/** OpenSSL verify callback: records the end-entity certificate, never changes the verdict. */
static int fetch_verify_cb(int preverify_ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	fetch_peer_t *peer;
	X509 *leaf;
	BIO *bio;
	char *data = NULL;
	long n;

	if (!ssl || fetch_peer_idx < 0) return preverify_ok;
	peer = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), fetch_peer_idx);
	if (!peer || peer->len) return preverify_ok;
	leaf = X509_STORE_CTX_get0_cert(x);
	if (!leaf) return preverify_ok;

	bio = BIO_new(BIO_s_mem());
	if (!bio) return preverify_ok;
	if (PEM_write_bio_X509(bio, leaf) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && data && (size_t)n < sizeof(peer->pem)) {
			memcpy(peer->pem, data, (size_t)n);
			peer->pem[n] = '\0';
			peer->len = (size_t)n;
		}
	}
	BIO_free(bio);
	return preverify_ok;
}

/** CURLOPT_SSL_CTX_FUNCTION, once per new TLS connection: install the mud_ca_t anchors
 *  (if any) as the verify store, attach the capture; the verify mode curl chose is kept. */
static CURLcode fetch_ssl_ctx(CURL *curl, void *sslctx, void *parm)
{
	SSL_CTX *c = sslctx;
	fetch_peer_t *peer = parm;

	(void)curl;
	if (peer->store && SSL_CTX_set1_verify_cert_store(c, peer->store) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CACERT_BADFILE;	/* fails the connection: MUD_ERR_TLS */
	}
	if (fetch_peer_idx < 0 ||
	    SSL_CTX_set_ex_data(c, fetch_peer_idx, peer) != 1) return CURLE_OK;
	SSL_CTX_set_verify(c, SSL_CTX_get_verify_mode(c), fetch_verify_cb);
	return CURLE_OK;
}

/*
 *	Trust anchors for MUD servers (mud_ca_t)
 */

/** Trust anchors for MUD servers (opaque in mud.h). */
struct mud_ca {
	X509_STORE	*store;		//!< anchors; never modified after mud_ca_load()
	size_t		num_certs;	//!< certificates added
};

static int _mud_ca_free(mud_ca_t *ca)
{
	if (ca->store) X509_STORE_free(ca->store);
	ca->store = NULL;
	return 0;
}

/** PEM password callback: no password, never a prompt (an encrypted key is not read). */
static int ca_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/** Add every certificate of one PEM file to ca's store, reading at most *budget bytes (which
 *  shrinks by the file's size). what names the file in messages ("CA file"); in_dir: the
 *  budget is the directory's, dir its name for the message when it runs out.
 *  @return MUD_OK, MUD_ERR_IO, MUD_ERR_TOOBIG, MUD_ERR_ARG (malformed PEM, no certificate),
 *	    MUD_ERR_LIMIT, MUD_ERR_NOMEM. */
static mud_rcode_t ca_add_file(mud_ca_t *ca, char const *path, char const *what,
			       char const *dir, size_t *budget, mud_error_t *err)
{
	STACK_OF(X509_INFO) *infos = NULL;
	mud_error_t rerr;
	mud_rcode_t rc;
	uint8_t *buf = NULL;
	size_t len = 0;
	size_t count = 0;
	char esc[sizeof(((mud_error_t *)NULL)->where)];
	BIO *bio;
	int i;

	mudp_escape(esc, sizeof(esc), path, strlen(path));
	mud_error_clear(&rerr);
	rc = mud_safe_read(ca, &buf, &len, path, *budget, MUD_SAFE_FOLLOW, &rerr);
	if (rc == MUD_ERR_TOOBIG && dir) {
		char desc[sizeof(esc)];

		mudp_escape(desc, sizeof(desc), dir, strlen(dir));
		return mud_error_set(err, rc, desc, "CA directory: certificate files larger than "
				     "%d bytes together", MUD_CA_MAX_BYTES);
	}
	if (rc != MUD_OK) return mud_error_set(err, rc, esc, "%s: %s", what, rerr.text);
	*budget -= len;

	ERR_clear_error();
	bio = BIO_new_mem_buf(buf, (int)len);	/* len <= MUD_CA_MAX_BYTES */
	if (!bio) {
		talloc_free(buf);
		return mudp_ossl_error(err, MUD_ERR_NOMEM, esc, "BIO_new_mem_buf failed");
	}
	infos = PEM_X509_INFO_read_bio(bio, NULL, ca_no_password, NULL);
	BIO_free(bio);
	talloc_free(buf);
	if (!infos) {
		char text[64];

		snprintf(text, sizeof(text), "%s: malformed PEM", what);
		return mudp_ossl_error(err, MUD_ERR_ARG, esc, text);
	}

	rc = MUD_OK;
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (!info->x509) continue;	/* a key, a CRL: not an anchor */
		if (ca->num_certs >= MUD_CA_MAX_CERTS) {
			rc = mud_error_set(err, MUD_ERR_LIMIT, esc, "more than %d CA certificates",
					   MUD_CA_MAX_CERTS);
			goto done;
		}
		/*
		 *	Fill the certificate's lazily computed extension cache now, in
		 *	the loading thread: otherwise the first verifications write it
		 *	while other threads read it (as mud_trust_load() does).
		 */
		(void)X509_check_purpose(info->x509, -1, 0);
		if (X509_STORE_add_cert(ca->store, info->x509) != 1) {
			rc = mudp_ossl_error(err, MUD_ERR_NOMEM, esc, "X509_STORE_add_cert failed");
			goto done;
		}
		ca->num_certs++;
		count++;
	}
	if (count == 0) rc = mud_error_set(err, MUD_ERR_ARG, esc, "no certificate in the %s", what);

done:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return rc;
}

/** Is name what OpenSSL looks a certificate up by in a hashed directory: 8 lowercase hex
 *  digits, a dot, a decimal sequence number ("9d66eef0.0")? ("<hash>.r<n>" is a CRL.) */
static bool ca_hash_name(char const *name)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) {
			return false;
		}
	}
	if (name[8] != '.' || !name[9]) return false;
	for (i = 9; name[i]; i++) {
		if (name[i] < '0' || name[i] > '9' || i > 12) return false;
	}
	return true;
}

/** Read every <hash>.<n> file of a hashed CA directory now (OpenSSL would read them one by
 *  one at verification time, from whatever the directory holds then). */
static mud_rcode_t ca_add_dir(mud_ca_t *ca, char const *dir, mud_error_t *err)
{
	DIR *dp;
	struct dirent *de;
	mud_rcode_t rc = MUD_OK;
	size_t budget = MUD_CA_MAX_BYTES;
	size_t files = 0;
	char path[4096];
	char esc[sizeof(((mud_error_t *)NULL)->where)];
	char ebuf[128];
	int n;

	mudp_escape(esc, sizeof(esc), dir, strlen(dir));
	dp = opendir(dir);
	if (!dp) {
		int e = errno;

		return mud_error_set(err, MUD_ERR_IO, esc, "CA directory: opendir: %s",
				     strerror_r(e, ebuf, sizeof(ebuf)));
	}
	for (;;) {
		errno = 0;
		de = readdir(dp);
		if (!de) {
			if (errno != 0) {
				int e = errno;

				rc = mud_error_set(err, MUD_ERR_IO, esc,
						   "CA directory: readdir: %s",
						   strerror_r(e, ebuf, sizeof(ebuf)));
			}
			break;
		}
		if (!ca_hash_name(de->d_name)) continue;
		if (++files > MUD_CA_MAX_DIR_FILES) {
			rc = mud_error_set(err, MUD_ERR_LIMIT, esc, "CA directory: more than %d "
					   "certificate files", MUD_CA_MAX_DIR_FILES);
			break;
		}
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = mud_error_set(err, MUD_ERR_IO, esc, "CA directory: path too long");
			break;
		}
		rc = ca_add_file(ca, path, "CA directory file", dir, &budget, err);
		if (rc != MUD_OK) break;
	}
	closedir(dp);
	if (rc == MUD_OK && files == 0) {
		rc = mud_error_set(err, MUD_ERR_ARG, esc, "no certificate in the CA directory (no "
				   "<hash>.0 file: run openssl rehash on it)");
	}
	return rc;
}

/** Load the trust anchors for MUD servers (see mud.h). */
mud_rcode_t mud_ca_load(TALLOC_CTX *ctx, mud_ca_t **out, char const *ca_file,
			char const *ca_path, mud_error_t *err)
{
	mud_ca_t *ca;
	mud_rcode_t rc;
	size_t budget = MUD_CA_MAX_BYTES;

	if (!out) return mud_error_set(err, MUD_ERR_ARG, "mud_ca_load", "no output pointer");
	*out = NULL;
	if (ca_file && !*ca_file) ca_file = NULL;
	if (ca_path && !*ca_path) ca_path = NULL;
	if (!ca_file && !ca_path) {
		return mud_error_set(err, MUD_ERR_ARG, "mud_ca_load",
				     "neither a CA file nor a CA directory given");
	}

	ca = talloc_zero(ctx, mud_ca_t);
	if (!ca) return mud_error_set(err, MUD_ERR_NOMEM, "mud_ca_load", "out of memory");
	talloc_set_destructor(ca, _mud_ca_free);

	ERR_clear_error();
	ca->store = X509_STORE_new();
	if (!ca->store) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_new", "out of memory");
		goto error;
	}
	/* as libcurl sets on the store it fills from CURLOPT_CAINFO (no CRL file) */
	if (X509_STORE_set_flags(ca->store, X509_V_FLAG_TRUSTED_FIRST |
				 X509_V_FLAG_PARTIAL_CHAIN) != 1) {
		rc = mudp_ossl_error(err, MUD_ERR_NOMEM, "X509_STORE_set_flags", "failed");
		goto error;
	}

	if (ca_file) {
		rc = ca_add_file(ca, ca_file, "CA file", NULL, &budget, err);
		if (rc != MUD_OK) goto error;
	}
	if (ca_path) {
		rc = ca_add_dir(ca, ca_path, err);
		if (rc != MUD_OK) goto error;
	}

	ERR_clear_error();
	*out = ca;
	return MUD_OK;

error:
	talloc_free(ca);
	ERR_clear_error();
	return rc;
}

/** Certificates loaded (see mud.h). */
size_t mud_ca_count(mud_ca_t const *ca)
{
	return ca ? ca->num_certs : 0;
}

/** The system's CA bundle (see mud.h). */
char const *mud_ca_system_file(void)
{
	return X509_get_default_cert_file();
}

/** CURLOPT_OPENSOCKETFUNCTION: the URL policy on the address libcurl is about to connect
 *  to, before the socket exists. A refused address makes libcurl try the next one (if
 *  any); the first refusal is kept for the error. */
static curl_socket_t fetch_opensocket(void *uctx, curlsocktype purpose,
				      struct curl_sockaddr *csa)
{
	fetch_guard_t *g = uctx;
	struct sockaddr_storage ss;
	uint8_t const *addr = NULL;
	int family = 0;
	uint16_t port = 0;
	char why[FETCH_WHY];
	bool ok;

	memset(&ss, 0, sizeof(ss));
	if (csa->addrlen <= sizeof(ss)) memcpy(&ss, &csa->addr, csa->addrlen);
	if (ss.ss_family == AF_INET && csa->addrlen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in const *sin = (struct sockaddr_in const *)&ss;

		family = 4;
		addr = (uint8_t const *)&sin->sin_addr;
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6 && csa->addrlen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 const *sin6 = (struct sockaddr_in6 const *)&ss;

		family = 6;
		addr = sin6->sin6_addr.s6_addr;
		port = ntohs(sin6->sin6_port);
	}

	why[0] = '\0';
	if (purpose != CURLSOCKTYPE_IPCXN) {
		ok = false;
		mudp_strlcpy(why, "not an outgoing connection", sizeof(why));
	} else if (g->via_proxy) {
		/* the configured proxy: the operator's choice; the MUD server's address was
		 * checked and pinned before (fetch_hop_route) */
		ok = addr && port == g->proxy_port;
		mudp_strlcpy(why, "not the configured proxy", sizeof(why));
	} else if (!addr) {
		ok = (g->policy == NULL);
		mudp_strlcpy(why, "not an IPv4 or IPv6 address", sizeof(why));
	} else {
		ok = mud_urlpolicy_check_addr(g->policy, family, addr, port, why,
					      sizeof(why)) == MUD_OK;
	}
	if (!ok) {
		if (!g->refused) {
			char text[INET6_ADDRSTRLEN] = "";

			g->refused = true;
			if (addr) {
				(void)inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, text,
						sizeof(text));
			}
			mudp_strlcpy(g->addr, text, sizeof(g->addr));
			mudp_strlcpy(g->why, why, sizeof(g->why));
		}
		return CURL_SOCKET_BAD;
	}
	return socket(csa->family, csa->socktype | SOCK_CLOEXEC, csa->protocol);
}

#define FETCH_PROXY_PORT_DEFAULT	3128	//!< the port of "http://proxy" without one
#define FETCH_NO_PROXY_MAX		1024	//!< bytes of a no_proxy list

/** Parse a proxy setting into host and port (see mud_fetch_proxy_check()). */
static bool proxy_parse(char const *proxy, uint16_t *port, char *why, size_t whylen)
{
	CURLU *cu;
	char *scheme = NULL;
	char *host = NULL;
	char *p = NULL;
	char *user = NULL;
	char *path = NULL;
	bool ok = false;
	long n;

	*port = 0;
	if (strlen(proxy) > MUD_MAX_URL_LEN) {
		snprintf(why, whylen, "longer than %d bytes", MUD_MAX_URL_LEN);
		return false;
	}
	cu = curl_url();
	if (!cu) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	if (curl_url_set(cu, CURLUPART_URL, proxy, 0) != CURLUE_OK) {
		snprintf(why, whylen, "not a URL (expected http://host:port)");
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme ||
	    mudp_strcasecmp(scheme, "http") != 0) {
		snprintf(why, whylen, "only http:// proxies (CONNECT) are supported");
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_USER, &user, 0) == CURLUE_OK && user) {
		snprintf(why, whylen, "credentials in the proxy URL are not supported");
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		snprintf(why, whylen, "no host");
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_PATH, &path, 0) == CURLUE_OK && path &&
	    strcmp(path, "/") != 0 && *path) {
		snprintf(why, whylen, "a path is not allowed");
		goto done;
	}
	n = FETCH_PROXY_PORT_DEFAULT;
	if (curl_url_get(cu, CURLUPART_PORT, &p, 0) == CURLUE_OK && p) n = strtol(p, NULL, 10);
	if (n < 1 || n > 65535) {
		snprintf(why, whylen, "bad port");
		goto done;
	}
	*port = (uint16_t)n;
	ok = true;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(p);
	curl_free(user);
	curl_free(path);
	curl_url_cleanup(cu);
	return ok;
}

/** Check a proxy setting (see mud.h). */
mud_rcode_t mud_fetch_proxy_check(char const *proxy, mud_error_t *err)
{
	uint16_t port;
	char why[FETCH_WHY];
	char esc[96];

	if (!proxy || !*proxy) return MUD_OK;
	if (proxy_parse(proxy, &port, why, sizeof(why))) return MUD_OK;
	mudp_escape(esc, sizeof(esc), proxy, strlen(proxy));
	return mud_error_set(err, MUD_ERR_ARG, "proxy", "%s: %s", esc, why);
}

/** Is host (lower case, no brackets) in the no_proxy list? */
static bool no_proxy_match(char const *list, char const *host)
{
	char const *p = list;
	size_t hl = strlen(host);

	if (!list || strnlen(list, FETCH_NO_PROXY_MAX + 1) > FETCH_NO_PROXY_MAX) return false;
	while (*p) {
		size_t n;
		char const *e;

		while (*p == ' ' || *p == ',' || *p == '\t') p++;
		n = strcspn(p, " ,\t");
		if (n == 0) break;
		e = p;
		if (n == 1 && *e == '*') return true;
		if (*e == '.') {	/* ".example.com": the domain and its subdomains */
			e++;
			n--;
		}
		if (n == hl && strncasecmp(e, host, n) == 0) return true;
		if (hl > n && host[hl - n - 1] == '.' && strncasecmp(host + hl - n, e, n) == 0) {
			return true;
		}
		p += (e - p) + n;
	}
	return false;
}

/** The route of one hop: direct (environment proxies off), or through opts->proxy with the
 *  MUD server's address resolved, checked and pinned here when the policy checks
 *  addresses. Sets *connect_to (freed by the caller) and the guard. MUD_ERR_URL with why
 *  when no address of the host may be connected to. */
static mud_rcode_t fetch_hop_route(CURL *curl, char const *url, mud_fetch_opts_t const *opts,
				   fetch_guard_t *g, struct curl_slist **connect_to, char *why,
				   size_t whylen)
{
	CURLU *cu = NULL;
	char *host = NULL;
	char *port = NULL;
	char h[MUD_AUTHORITY_MAX + 8];
	char line[2 * MUD_AUTHORITY_MAX + 80];
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	uint16_t pport = 0;
	long pn;
	size_t hl;
	mud_rcode_t rc = MUD_ERR_URL;
	bool pinned = false;

	why[0] = '\0';
	curl_slist_free_all(*connect_to);
	*connect_to = NULL;
	g->via_proxy = false;
	if (curl_easy_setopt(curl, CURLOPT_CONNECT_TO, NULL) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOPROXY, "") != CURLE_OK) {
		snprintf(why, whylen, "curl_easy_setopt failed");
		return MUD_ERR_FETCH;
	}
	if (!opts->proxy || !*opts->proxy) {
		return curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK ? MUD_OK :
		       MUD_ERR_FETCH;
	}

	cu = curl_url();
	if (!cu) return MUD_ERR_NOMEM;
	if (curl_url_set(cu, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(cu, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host ||
	    curl_url_get(cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK || !port) {
		snprintf(why, whylen, "malformed URL");
		goto done;
	}
	hl = strlen(host);
	if (hl >= sizeof(h)) {
		snprintf(why, whylen, "host too long");
		goto done;
	}
	if (host[0] == '[' && hl > 2) {		/* IPv6 literal */
		memcpy(h, host + 1, hl - 2);
		h[hl - 2] = '\0';
	} else {
		memcpy(h, host, hl + 1);
	}

	if (no_proxy_match(opts->no_proxy, h)) {
		rc = curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK ? MUD_OK :
		     MUD_ERR_FETCH;
		goto done;
	}
	if (!proxy_parse(opts->proxy, &pport, why, whylen)) {
		rc = MUD_ERR_ARG;
		goto done;
	}
	if (curl_easy_setopt(curl, CURLOPT_PROXY, opts->proxy) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROXYTYPE, (long)CURLPROXY_HTTP) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_HTTPPROXYTUNNEL, 1L) != CURLE_OK) {
		snprintf(why, whylen, "curl_easy_setopt failed");
		rc = MUD_ERR_FETCH;
		goto done;
	}
	g->via_proxy = true;
	g->proxy_port = pport;

	if (!mud_urlpolicy_checks_addresses(opts->policy)) {
		rc = MUD_OK;		/* every address is allowed: the proxy resolves the name */
		goto done;
	}

	/* The proxy must connect to an address this policy accepts: resolve here, check,
	 * and name the checked address in the CONNECT (an IP literal host was checked by
	 * the URL policy already, and the proxy has nothing to resolve). */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(h, port, &hints, &res) != 0 || !res) {
		snprintf(why, whylen, "cannot resolve the host for the proxy");
		rc = MUD_ERR_FETCH;
		goto done;
	}
	pn = strtol(port, NULL, 10);
	for (ai = res; ai && !pinned; ai = ai->ai_next) {
		uint8_t const *a = NULL;
		int fam = 0;
		char text[INET6_ADDRSTRLEN];
		char awhy[FETCH_WHY];

		if (ai->ai_family == AF_INET) {
			fam = 4;
			a = (uint8_t const *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		} else if (ai->ai_family == AF_INET6) {
			fam = 6;
			a = ((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr.s6_addr;
		} else {
			continue;
		}
		if (mud_urlpolicy_check_addr(opts->policy, fam, a, (uint16_t)pn, awhy,
					     sizeof(awhy)) != MUD_OK) {
			if (!g->refused) {
				g->refused = true;
				(void)inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, g->addr,
						sizeof(g->addr));
				mudp_strlcpy(g->why, awhy, sizeof(g->why));
			}
			continue;
		}
		(void)inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, text, sizeof(text));
		snprintf(line, sizeof(line), "%s:%s:%s%s%s:%s", host, port, fam == 6 ? "[" : "",
			 text, fam == 6 ? "]" : "", port);
		*connect_to = curl_slist_append(NULL, line);
		if (!*connect_to) {
			rc = MUD_ERR_NOMEM;
			goto done;
		}
		pinned = true;
	}
	if (!pinned) {
		mudp_strlcpy(why, g->refused ? g->why : "no usable address", whylen);
		rc = MUD_ERR_URL;
		goto done;
	}
	g->refused = false;	/* a refused address was skipped, one was accepted */
	if (curl_easy_setopt(curl, CURLOPT_CONNECT_TO, *connect_to) != CURLE_OK) {
		snprintf(why, whylen, "curl_easy_setopt failed");
		rc = MUD_ERR_FETCH;
		goto done;
	}
	rc = MUD_OK;
done:
	if (res) freeaddrinfo(res);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(cu);
	return rc;
}

static int _fetch_handle_free(fetch_handle_t *h)
{
	if (h->curl) curl_easy_cleanup(h->curl);
	if (h->headers) curl_slist_free_all(h->headers);
	if (h->connect_to) curl_slist_free_all(h->connect_to);
	if (h->ca_store) X509_STORE_free(h->ca_store);
	return 0;
}

/** curl write callback: append to the body, aborting the transfer past the cap. */
/** CURLOPT_XFERINFOFUNCTION: give up when the caller's abort flag rises (service stop). */
static int fetch_progress(void *uctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			  curl_off_t ulnow)
{
	int const volatile *abort_flag = uctx;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return abort_flag && __atomic_load_n(abort_flag, __ATOMIC_ACQUIRE) ? 1 : 0;
}

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *uctx)
{
	fetch_body_t *body = uctx;
	size_t n;

	if ((size != 0) && (nmemb > SIZE_MAX / size)) {
		body->toobig = true;
		return 0;
	}
	n = size * nmemb;
	if ((n > body->max) || (body->len > body->max - n)) {
		body->toobig = true;
		return 0;	/* anything but n aborts with CURLE_WRITE_ERROR */
	}

	/*
	 *	Grow geometrically, but never beyond max + 1 (the NUL).
	 */
	if (body->len + n >= body->alloc) {
		size_t want;
		uint8_t *nbuf;

		want = body->alloc ? body->alloc : FETCH_BODY_INITIAL;
		while ((want <= body->len + n) && (want <= body->max)) {
			want *= 2;
		}
		if (want > body->max + 1) want = body->max + 1;
		if (want <= body->len + n) want = body->len + n + 1;

		nbuf = talloc_realloc(body->ctx, body->buf, uint8_t, want);
		if (!nbuf) {
			body->nomem = true;
			return 0;
		}
		body->buf = nbuf;
		body->alloc = want;
	}
	if (n > 0) memcpy(body->buf + body->len, data, n);
	body->len += n;
	return n;
}

/** Is a header value safe to send (printable, no CR/LF, bounded)? */
static bool fetch_header_ok(char const *value)
{
	size_t i;

	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (i >= FETCH_HEADER_MAX) return false;
		if ((c < 0x20) || (c == 0x7f)) return false;
	}
	return true;
}

/** Check the URL before any network I/O: https, bounded, printable, parseable. */
static mud_rcode_t fetch_check_url(char const *url, mud_error_t *err)
{
	char esc[128];
	size_t len;
	size_t i;
	CURLU *cu;
	CURLUcode uc;
	char *scheme = NULL;
	char *host = NULL;
	mud_rcode_t rcode = MUD_OK;

	len = strnlen(url, MUD_MAX_URL_LEN + 1);
	mudp_escape(esc, sizeof(esc), url, len);
	if (len == 0) return mud_error_set(err, MUD_ERR_URL, "", "empty URL");
	if (len > MUD_MAX_URL_LEN) {
		return mud_error_set(err, MUD_ERR_URL, esc, "URL longer than %d bytes",
				     MUD_MAX_URL_LEN);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if ((c <= 0x20) || (c >= 0x7f)) {
			return mud_error_set(err, MUD_ERR_URL, esc,
					     "URL contains a space, control or non-ASCII byte "
					     "at offset %zu", i);
		}
	}
	if ((len < 8) || (strncasecmp(url, "https://", 8) != 0)) {
		return mud_error_set(err, MUD_ERR_URL, esc,
				     "only https URLs are fetched, not \"%s\"", esc);
	}

	if ((url[8] == '/') || (url[8] == '?') || (url[8] == '#') || (url[8] == '\0')) {
		return mud_error_set(err, MUD_ERR_URL, esc, "URL has no host");
	}

	cu = curl_url();
	if (!cu) return mud_error_set(err, MUD_ERR_NOMEM, "curl_url", "out of memory");
	uc = curl_url_set(cu, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		rcode = mud_error_set(err, MUD_ERR_URL, esc, "malformed URL: %s",
				      curl_url_strerror(uc));
		goto done;
	}
	uc = curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0);
	if ((uc != CURLUE_OK) || !scheme || (mudp_strcasecmp(scheme, "https") != 0)) {
		rcode = mud_error_set(err, MUD_ERR_URL, esc, "only https URLs are fetched");
		goto done;
	}
	uc = curl_url_get(cu, CURLUPART_HOST, &host, 0);
	if ((uc != CURLUE_OK) || !host || !host[0]) {
		rcode = mud_error_set(err, MUD_ERR_URL, esc, "URL has no host");
		goto done;
	}

done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(cu);
	return rcode;
}

/** "url-policy: <what> [redirect N ]<url>" into where. */
static void fetch_where(char *where, size_t len, char const *what, unsigned int hop,
			char const *url)
{
	char esc[112];

	mudp_escape(esc, sizeof(esc), url, strlen(url));
	if (hop) {
		snprintf(where, len, MUD_WHERE_URL_POLICY ": %s redirect %u %s", what, hop, esc);
	} else {
		snprintf(where, len, MUD_WHERE_URL_POLICY ": %s %s", what, esc);
	}
}

/** The URL policy on one URL (the first, or a redirect hop), parsed by libcurl's own URL
 *  parser, so that the host checked is the host libcurl connects to (it decodes %XX,
 *  rewrites numeric IPv4 forms, ...). why gets the reason of a refusal.
 *  @return MUD_OK, MUD_ERR_URL (refused), MUD_ERR_NOMEM. */
static mud_rcode_t fetch_hop_policy(char const *url, mud_urlpolicy_t const *policy, char *why,
				    size_t whylen)
{
	CURLU *cu;
	CURLUcode uc;
	char *scheme = NULL;
	char *host = NULL;
	char *port = NULL;
	char *part = NULL;
	char hp[MUD_AUTHORITY_MAX + 8];
	mud_authority_t a;
	mud_error_t aerr;
	size_t len;
	size_t i;
	mud_rcode_t rc = MUD_ERR_URL;

	why[0] = '\0';
	len = strnlen(url, MUD_MAX_URL_LEN + 1);
	if (len > MUD_MAX_URL_LEN) {
		snprintf(why, whylen, "URL longer than %d bytes", MUD_MAX_URL_LEN);
		return MUD_ERR_URL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if ((c <= 0x20) || (c >= 0x7f)) {
			snprintf(why, whylen, "URL contains a space, control or non-ASCII byte "
				 "at offset %zu", i);
			return MUD_ERR_URL;
		}
	}

	cu = curl_url();
	if (!cu) return MUD_ERR_NOMEM;
	uc = curl_url_set(cu, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		snprintf(why, whylen, "malformed URL: %s", curl_url_strerror(uc));
		goto done;
	}
	uc = curl_url_get(cu, CURLUPART_SCHEME, &scheme, 0);
	if ((uc != CURLUE_OK) || !scheme || (mudp_strcasecmp(scheme, "https") != 0)) {
		char esc[32];

		mudp_escape(esc, sizeof(esc), scheme ? scheme : "", scheme ? strlen(scheme) : 0);
		snprintf(why, whylen, "scheme \"%s\" is not https", esc);
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_USER, &part, 0) == CURLUE_OK && part) {
		snprintf(why, whylen, "userinfo (credentials) in the URL");
		goto done;
	}
	if (curl_url_get(cu, CURLUPART_ZONEID, &part, 0) == CURLUE_OK && part) {
		snprintf(why, whylen, "IPv6 zone identifier in the URL");
		goto done;
	}
	uc = curl_url_get(cu, CURLUPART_HOST, &host, 0);
	if ((uc != CURLUE_OK) || !host || !host[0]) {
		snprintf(why, whylen, "URL has no host");
		goto done;
	}
	uc = curl_url_get(cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	if ((uc != CURLUE_OK) || !port) {
		snprintf(why, whylen, "URL has no port");
		goto done;
	}
	if ((size_t)snprintf(hp, sizeof(hp), "%s:%s", host, port) >= sizeof(hp)) {
		snprintf(why, whylen, "host longer than %d bytes", MUD_HOST_MAX - 1);
		goto done;
	}
	mud_error_clear(&aerr);
	if (mud_authority_parse(&a, hp, strlen(hp), 0, &aerr) != MUD_OK) {
		mudp_strlcpy(why, aerr.text, whylen);
		goto done;
	}
	rc = mud_urlpolicy_check_authority(policy, &a, why, whylen);

done:
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(cu);
	return rc;
}

/** Map a failed transfer to a code, with where/text. */
static mud_rcode_t fetch_error(CURLcode cc, fetch_body_t const *body, char const *url,
			       char const *ebuf, mud_error_t *err)
{
	char esc[128];
	char const *text = ebuf[0] ? ebuf : curl_easy_strerror(cc);

	mudp_escape(esc, sizeof(esc), url, strlen(url));

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return mud_error_set(err, MUD_ERR_TIMEOUT, esc, "%s", text);

	case CURLE_ABORTED_BY_CALLBACK:
		return mud_error_set(err, MUD_ERR_FETCH, esc, "cancelled (the fetch service "
				     "stopped)");

	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return mud_error_set(err, MUD_ERR_TLS, esc, "%s", text);

	case CURLE_UNSUPPORTED_PROTOCOL:
		/* every URL handed to curl was checked to be https: not expected */
		return mud_error_set(err, MUD_ERR_FETCH, esc, "%s", text);

	case CURLE_FILESIZE_EXCEEDED:
		return mud_error_set(err, MUD_ERR_TOOBIG, esc, "body larger than %zu bytes",
				     body->max);

	case CURLE_WRITE_ERROR:
		if (body->toobig) {
			return mud_error_set(err, MUD_ERR_TOOBIG, esc, "body larger than %zu bytes",
					     body->max);
		}
		if (body->nomem) return mud_error_set(err, MUD_ERR_NOMEM, esc, "out of memory");
		return mud_error_set(err, MUD_ERR_FETCH, esc, "%s", text);

	case CURLE_OUT_OF_MEMORY:
		return mud_error_set(err, MUD_ERR_NOMEM, esc, "%s", text);

	case CURLE_URL_MALFORMAT:
		return mud_error_set(err, MUD_ERR_URL, esc, "%s", text);

	default:
		return mud_error_set(err, MUD_ERR_FETCH, esc, "%s", text);
	}
}

/** The leaf certificate's PEM from CURLINFO_CERTINFO, NULL if not available. */
static char *fetch_leaf_pem(TALLOC_CTX *ctx, CURL *curl)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *s;

	if (curl_easy_getinfo(curl, CURLINFO_CERTINFO, &ci) != CURLE_OK) return NULL;
	if (!ci || (ci->num_of_certs < 1) || !ci->certinfo) return NULL;

	for (s = ci->certinfo[0]; s; s = s->next) {
		if (s->data && (strncmp(s->data, "Cert:", 5) == 0)) {
			return talloc_strdup(ctx, s->data + 5);
		}
	}
	return NULL;
}

/** talloc copy of a curl info string; *out stays NULL if curl has none. */
static bool fetch_info_str(TALLOC_CTX *ctx, char **out, CURL *curl, CURLINFO info)
{
	char *value = NULL;

	*out = NULL;
	if ((curl_easy_getinfo(curl, info, &value) != CURLE_OK) || !value) return true;
	*out = talloc_strdup(ctx, value);
	return *out != NULL;
}

/** Initialise libcurl once, before any thread calls mud_fetch().
 *
 * Also checks that libcurl can speak https.
 *
 * @param[out] err	error details, may be NULL.
 * @return MUD_OK, MUD_ERR_FETCH if curl_global_init fails, MUD_ERR_UNSUPPORTED
 *	   if libcurl lacks TLS.
 */
mud_rcode_t mud_fetch_global_init(mud_error_t *err)
{
	CURLcode cc;
	curl_version_info_data const *vi;
	bool https = false;

	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		return mud_error_set(err, MUD_ERR_FETCH, "curl_global_init", "%s",
				     curl_easy_strerror(cc));
	}

	/* once, before threads: the slot the verify callback finds its capture in */
	if (fetch_peer_idx < 0)
		fetch_peer_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);

	vi = curl_version_info(CURLVERSION_NOW);
	/* the SSL_CTX callback hands over an OpenSSL SSL_CTX only with OpenSSL */
	fetch_openssl = vi && vi->ssl_version && strncmp(vi->ssl_version, "OpenSSL/", 8) == 0;
	if (vi && vi->protocols) {
		char const * const *p;

		for (p = vi->protocols; *p; p++) {
			if (strcmp(*p, "https") == 0) https = true;
		}
	}
	if (!vi || !(vi->features & CURL_VERSION_SSL) || !https) {
		curl_global_cleanup();
		return mud_error_set(err, MUD_ERR_UNSUPPORTED, "curl_version_info",
				     "libcurl %s has no https support",
				     (vi && vi->version) ? vi->version : "?");
	}
	return MUD_OK;
}

/** Release what mud_fetch_global_init() set up (after all threads are done). */
void mud_fetch_global_free(void)
{
	curl_global_cleanup();
}

/*
 *	Set one option; on failure remember which and bail out.
 */
#define FETCH_SETOPT(_opt, _val) \
do { \
	cc = curl_easy_setopt(h->curl, _opt, _val); \
	if (cc != CURLE_OK) { \
		optname = #_opt; \
		goto setopt_error; \
	} \
} while (0)

/** GET an https URL with TLS verification always on.
 *
 * @param[in] ctx	talloc parent of the result.
 * @param[out] out	the result (body, status, content type, effective URL,
 *			primary IP, leaf certificate PEM); NULL on failure.
 * @param[in] url	https URL (at most MUD_MAX_URL_LEN bytes).
 * @param[in] opts	anchors: ca, or CA file/dir (at least one, else MUD_ERR_ARG), timeouts,
 *			size cap, redirects, Accept and User-Agent.
 * @param[out] err	first error, may be NULL. where is the URL (escaped),
 *			or "HTTP <status>" for MUD_ERR_HTTP.
 * @return MUD_OK, MUD_ERR_ARG, MUD_ERR_NOMEM, MUD_ERR_URL, MUD_ERR_TLS,
 *	   MUD_ERR_TIMEOUT, MUD_ERR_FETCH, MUD_ERR_HTTP, MUD_ERR_TOOBIG.
 */
mud_rcode_t mud_fetch(TALLOC_CTX *ctx, mud_fetch_result_t **out, char const *url,
		      mud_fetch_opts_t const *opts, mud_error_t *err)
{
	return mud_fetch_ex(ctx, out, url, opts, NULL, err);
}

/** What is known of a failed transfer (see mud_fetch_ex()); NULL if nothing.
 *  refused_url / refused_addr: a URL-policy refusal (the URL, the address if the
 *  refusal was at connect time, else NULL). */
static mud_fetch_result_t *fetch_failed_info(TALLOC_CTX *ctx, CURL *curl, fetch_peer_t const *peer,
					     char const *refused_url, char const *refused_addr)
{
	mud_fetch_result_t *f = talloc_zero(ctx, mud_fetch_result_t);

	if (!f) return NULL;
	if (curl) {
		(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &f->status);
		(void)fetch_info_str(f, &f->primary_ip, curl, CURLINFO_PRIMARY_IP);
		(void)fetch_info_str(f, &f->effective_url, curl, CURLINFO_EFFECTIVE_URL);
		if (f->primary_ip && !f->primary_ip[0]) {
			talloc_free(f->primary_ip);
			f->primary_ip = NULL;
		}
		f->server_cert_pem = fetch_leaf_pem(f, curl);
	}
	if (!f->server_cert_pem && peer && peer->len) {
		f->server_cert_pem = talloc_strndup(f, peer->pem, peer->len);
	}
	if (refused_url) {
		f->refused_url = talloc_strdup(f, refused_url);
		TALLOC_FREE(f->effective_url);
		f->effective_url = talloc_strdup(f, refused_url);
	}
	if (refused_addr && refused_addr[0]) {
		TALLOC_FREE(f->primary_ip);
		TALLOC_FREE(f->server_cert_pem);	/* no connection: nothing presented */
		f->primary_ip = talloc_strdup(f, refused_addr);
	}
	if (!f->primary_ip && !f->server_cert_pem && !f->effective_url && !f->refused_url) {
		talloc_free(f);
		return NULL;
	}
	return f;
}

/** Milliseconds left until deadline (CLOCK_MONOTONIC); <= 0 when passed. */
static long fetch_ms_left(struct timespec const *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/** Is status a redirect that is followed (RFC 9110 section 15.4)? 300, 304 and 305 are not. */
static bool fetch_is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/** GET with failure evidence (see mud.h). */
mud_rcode_t mud_fetch_ex(TALLOC_CTX *ctx, mud_fetch_result_t **out, char const *url,
			 mud_fetch_opts_t const *opts, mud_fetch_result_t **failed,
			 mud_error_t *err)
{
	fetch_peer_t *peer = NULL;
	fetch_guard_t guard;
	TALLOC_CTX *tmp = NULL;
	fetch_handle_t *h = NULL;
	fetch_body_t body;
	mud_fetch_result_t *res;
	struct curl_slist *nh;
	struct timespec deadline;
	char ebuf[CURL_ERROR_SIZE];
	char esc[128];
	char why[FETCH_WHY];
	char where[sizeof(((mud_error_t *)NULL)->where)];
	char *hdr;
	char const *accept;
	char const *agent;
	char const *what;
	char const *optname = "";
	char const *hop_url = url;	/* the URL being requested */
	char const *refused_url = NULL;
	char const *refused_addr = NULL;
	unsigned int hop = 0;
	CURLcode cc;
	long connect_ms;
	long total_ms;
	long left;
	long redirs;
	long status = 0;
	size_t max;
	mud_rcode_t rcode;

	if (failed) *failed = NULL;
	if (!out) return mud_error_set(err, MUD_ERR_ARG, "mud_fetch", "out is NULL");
	*out = NULL;
	if (!url) return mud_error_set(err, MUD_ERR_ARG, "mud_fetch", "url is NULL");

	rcode = fetch_check_url(url, err);
	if (rcode != MUD_OK) return rcode;

	mudp_escape(esc, sizeof(esc), url, strlen(url));
	if (!opts || (!opts->ca && !opts->ca_file && !opts->ca_path)) {
		return mud_error_set(err, MUD_ERR_ARG, esc, "no CA configured for MUD servers");
	}
	if (opts->ca && !fetch_openssl) {
		return mud_error_set(err, MUD_ERR_UNSUPPORTED, esc, "a loaded CA store needs "
				     "libcurl with OpenSSL and mud_fetch_global_init()");
	}
	what = opts->what ? opts->what : "URL";

	accept = opts->accept ? opts->accept : FETCH_ACCEPT_DEFAULT;
	agent = opts->user_agent ? opts->user_agent : FETCH_USER_AGENT_DEFAULT;
	if (!fetch_header_ok(accept)) {
		return mud_error_set(err, MUD_ERR_ARG, "accept",
				     "Accept value has control characters or is too long");
	}
	if (!fetch_header_ok(agent)) {
		return mud_error_set(err, MUD_ERR_ARG, "user_agent",
				     "User-Agent value has control characters or is too long");
	}

	connect_ms = (opts->connect_timeout_ms > 0) ? opts->connect_timeout_ms :
		     FETCH_CONNECT_TIMEOUT_MS;
	total_ms = (opts->timeout_ms > 0) ? opts->timeout_ms : FETCH_TIMEOUT_MS;
	redirs = (opts->max_redirs < 0) ? FETCH_REDIRS_DEFAULT : opts->max_redirs;
	if (redirs > FETCH_REDIRS_MAX) redirs = FETCH_REDIRS_MAX;
	max = opts->max_size ? opts->max_size : MUD_MAX_FILE_SIZE;
	if (max > MUD_MAX_FILE_SIZE) max = MUD_MAX_FILE_SIZE;

	tmp = talloc_new(ctx);
	if (!tmp) return mud_error_set(err, MUD_ERR_NOMEM, esc, "out of memory");

	/*
	 *	The URL policy on the first URL, before anything is resolved.
	 */
	rcode = fetch_hop_policy(url, opts->policy, why, sizeof(why));
	if (rcode == MUD_ERR_NOMEM) goto nomem;
	if (rcode != MUD_OK) {
		fetch_where(where, sizeof(where), what, 0, url);
		rcode = mud_error_set(err, MUD_ERR_REFUSED, where, "%s", why);
		refused_url = url;
		goto error;
	}

	h = talloc_zero(tmp, fetch_handle_t);
	if (!h) goto nomem;
	talloc_set_destructor(h, _fetch_handle_free);

	h->curl = curl_easy_init();
	if (!h->curl) {
		rcode = mud_error_set(err, MUD_ERR_FETCH, "curl_easy_init",
				      "cannot create a handle");
		goto error;
	}

	memset(&body, 0, sizeof(body));
	body.ctx = tmp;
	body.max = max;
	memset(&guard, 0, sizeof(guard));
	guard.policy = opts->policy;
	ebuf[0] = '\0';

	hdr = talloc_asprintf(tmp, "Accept: %s", accept);
	if (!hdr) goto nomem;
	nh = curl_slist_append(h->headers, hdr);
	if (!nh) goto nomem;
	h->headers = nh;

	FETCH_SETOPT(CURLOPT_ERRORBUFFER, ebuf);
	FETCH_SETOPT(CURLOPT_NOSIGNAL, 1L);
	FETCH_SETOPT(CURLOPT_HTTPGET, 1L);
	FETCH_SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	FETCH_SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	FETCH_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);	/* followed below, each hop checked */
	FETCH_SETOPT(CURLOPT_PROXY, "");		/* never a proxy from the environment */
	FETCH_SETOPT(CURLOPT_NOPROXY, "");		/* nor the environment's no_proxy */
	FETCH_SETOPT(CURLOPT_OPENSOCKETFUNCTION, fetch_opensocket);
	FETCH_SETOPT(CURLOPT_OPENSOCKETDATA, &guard);
	FETCH_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	FETCH_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	FETCH_SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/*
	 *	NULL disables the compiled-in bundle / directory, so only
	 *	what the caller configured is trusted. With opts->ca both are
	 *	NULL: libcurl reads no file, the anchors are installed by
	 *	fetch_ssl_ctx() into every connection's SSL_CTX.
	 */
	FETCH_SETOPT(CURLOPT_CAINFO, opts->ca ? NULL : opts->ca_file);
	FETCH_SETOPT(CURLOPT_CAPATH, opts->ca ? NULL : opts->ca_path);
	FETCH_SETOPT(CURLOPT_CERTINFO, 1L);
	FETCH_SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	FETCH_SETOPT(CURLOPT_WRITEFUNCTION, fetch_write);
	FETCH_SETOPT(CURLOPT_WRITEDATA, &body);
	FETCH_SETOPT(CURLOPT_HTTPHEADER, h->headers);
	FETCH_SETOPT(CURLOPT_USERAGENT, agent);
	if (opts->abort) {
		FETCH_SETOPT(CURLOPT_XFERINFOFUNCTION, fetch_progress);
		FETCH_SETOPT(CURLOPT_XFERINFODATA, (void *)(uintptr_t)opts->abort);
		FETCH_SETOPT(CURLOPT_NOPROGRESS, 0L);
	}

	/* the anchors of opts->ca (a reference of our own, held until the handle is
	 * freed), and the server's certificate, for reports, also when it fails verification */
	peer = talloc_zero(tmp, fetch_peer_t);
	if (!peer) goto nomem;
	if (opts->ca) {
		if (X509_STORE_up_ref(opts->ca->store) != 1) goto nomem;
		h->ca_store = opts->ca->store;
		peer->store = h->ca_store;
	}
	if (!fetch_openssl ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_CTX_DATA, peer) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_SSL_CTX_FUNCTION, fetch_ssl_ctx) != CURLE_OK) {
		if (opts->ca) {
			rcode = mud_error_set(err, MUD_ERR_UNSUPPORTED, "curl_easy_setopt",
					      "CURLOPT_SSL_CTX_FUNCTION unsupported: the loaded "
					      "CA store cannot be used");
			goto error;
		}
		peer = NULL;	/* TLS backend without SSL_CTX access: no capture */
	}

	/*
	 *	One request per hop, all within total_ms.
	 */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += total_ms / 1000;
	deadline.tv_nsec += (total_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		char *loc = NULL;

		left = fetch_ms_left(&deadline);
		if (left <= 0) {
			rcode = mud_error_set(err, MUD_ERR_TIMEOUT, esc,
					      "timed out after %ld ms and %u redirects", total_ms,
					      hop);
			goto error;
		}
		FETCH_SETOPT(CURLOPT_URL, hop_url);
		FETCH_SETOPT(CURLOPT_TIMEOUT_MS, left);
		FETCH_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms < left ? connect_ms : left);
		body.len = 0;
		body.toobig = false;
		body.nomem = false;
		guard.refused = false;
		rcode = fetch_hop_route(h->curl, hop_url, opts, &guard, &h->connect_to, why,
					sizeof(why));
		if (rcode == MUD_ERR_NOMEM) goto nomem;
		if (rcode == MUD_ERR_URL) {	/* no address of the host may be connected to */
			fetch_where(where, sizeof(where), what, hop, hop_url);
			rcode = mud_error_set(err, MUD_ERR_REFUSED, where, "%s", why);
			refused_url = hop_url;
			refused_addr = guard.addr;
			goto error;
		}
		if (rcode != MUD_OK) {
			char hesc[128];

			mudp_escape(hesc, sizeof(hesc), hop_url, strlen(hop_url));
			rcode = mud_error_set(err, rcode == MUD_ERR_ARG ? MUD_ERR_ARG :
					      MUD_ERR_FETCH, hesc, "proxy: %s", why);
			goto error;
		}
		if (peer) peer->len = 0;
		ebuf[0] = '\0';

		cc = curl_easy_perform(h->curl);
		if (cc != CURLE_OK && guard.refused) {
			fetch_where(where, sizeof(where), what, hop, hop_url);
			rcode = mud_error_set(err, MUD_ERR_REFUSED, where, "%s", guard.why);
			refused_url = hop_url;
			refused_addr = guard.addr;
			goto error;
		}
		if (cc != CURLE_OK && opts->abort &&
		    __atomic_load_n(opts->abort, __ATOMIC_ACQUIRE)) {
			/* libcurl reports an abort inside the TLS handshake as a timeout */
			cc = CURLE_ABORTED_BY_CALLBACK;
		}
		if (cc != CURLE_OK) {
			rcode = fetch_error(cc, &body, hop_url, ebuf, err);
			goto error;
		}

		cc = curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK) {
			rcode = mud_error_set(err, MUD_ERR_FETCH, "curl_easy_getinfo", "%s",
					      curl_easy_strerror(cc));
			goto error;
		}
		if (!fetch_is_redirect(status)) break;
		if (curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK ||
		    !loc) {
			break;	/* no Location: reported as the HTTP status below */
		}
		if (hop >= (unsigned int)redirs) {
			char lesc[96];

			mudp_escape(lesc, sizeof(lesc), loc, strlen(loc));
			rcode = mud_error_set(err, MUD_ERR_FETCH, esc,
					      "more than %ld redirects (the next to %s)", redirs,
					      lesc);
			goto error;
		}
		hop++;
		hop_url = talloc_strdup(tmp, loc);
		if (!hop_url) goto nomem;

		/* the URL policy on the hop, before it is resolved or connected to */
		rcode = fetch_hop_policy(hop_url, opts->policy, why, sizeof(why));
		if (rcode == MUD_ERR_NOMEM) goto nomem;
		if (rcode != MUD_OK) {
			fetch_where(where, sizeof(where), what, hop, hop_url);
			rcode = mud_error_set(err, MUD_ERR_REFUSED, where, "%s", why);
			refused_url = hop_url;
			goto error;
		}
	}

	if (status != 200) {
		char where_http[32];
		char hesc[128];

		mudp_escape(hesc, sizeof(hesc), hop_url, strlen(hop_url));
		snprintf(where_http, sizeof(where_http), "HTTP %ld", status);
		rcode = mud_error_set(err, MUD_ERR_HTTP, where_http, "GET %s returned HTTP %ld",
				      hesc, status);
		goto error;
	}

	res = talloc_zero(tmp, mud_fetch_result_t);
	if (!res) goto nomem;
	res->status = status;

	/*
	 *	Body: NUL-terminated, exactly len bytes before it.
	 */
	if (!body.buf) {
		body.buf = talloc_array(tmp, uint8_t, 1);
		if (!body.buf) goto nomem;
		body.alloc = 1;
	}
	body.buf[body.len] = '\0';
	res->body = talloc_steal(res, body.buf);
	res->len = body.len;

	if (!fetch_info_str(res, &res->content_type, h->curl, CURLINFO_CONTENT_TYPE)) goto nomem;
	if (!fetch_info_str(res, &res->effective_url, h->curl, CURLINFO_EFFECTIVE_URL)) goto nomem;
	if (!fetch_info_str(res, &res->primary_ip, h->curl, CURLINFO_PRIMARY_IP)) goto nomem;
	if (!res->effective_url) {
		res->effective_url = talloc_strdup(res, hop_url);
		if (!res->effective_url) goto nomem;
	}
	res->server_cert_pem = fetch_leaf_pem(res, h->curl);
	if (!res->server_cert_pem && peer && peer->len) {
		res->server_cert_pem = talloc_strndup(res, peer->pem, peer->len);
	}

	*out = talloc_steal(ctx, res);
	talloc_free(tmp);	/* runs the handle destructor */
	ERR_clear_error();	/* what libcurl left on this thread's OpenSSL queue */
	return MUD_OK;

setopt_error:
	rcode = mud_error_set(err, MUD_ERR_FETCH, "curl_easy_setopt", "%s: %s", optname,
			      curl_easy_strerror(cc));
	goto error;

nomem:
	rcode = mud_error_set(err, MUD_ERR_NOMEM, esc, "out of memory");

error:
	if (failed && rcode != MUD_ERR_NOMEM) {
		*failed = fetch_failed_info(ctx, h ? h->curl : NULL, peer, refused_url,
					    refused_addr);
	}
	talloc_free(tmp);
	/* libcurl 7.88 leaves "shutdown while in init" on this thread's OpenSSL queue when a
	 * handshake failed (SSL_shutdown at cleanup): never leave it to the thread's next
	 * OpenSSL user (another module, in the server) */
	ERR_clear_error();
	return rcode;
}
