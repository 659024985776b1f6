/*
 * mud_prefix.c - IPv4/IPv6 address prefixes: parse and print.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mud_private.h"

/** Parse a decimal prefix length 0..max; -1 on error. */
static int prefix_len_parse(char const *s, int max)
{
	int v = 0;

	if (!*s || strlen(s) > 3) return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9') return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > max) return -1;
	return v;
}

/** Parse an address or prefix (see mud.h). */
mud_rcode_t mud_prefix_parse(mud_prefix_t *out, char const *str, bool allow_host_bits,
			     mud_error_t *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	int len;
	size_t i;
	size_t slen;

	if (!out || !str) return mud_error_set(err, MUD_ERR_ARG, "", "no prefix given");
	memset(out, 0, sizeof(*out));

	slen = strlen(str);
	if (slen == 0 || slen >= sizeof(buf)) {
		char esc[64];

		mudp_escape(esc, sizeof(esc), str, slen);
		return mud_error_set(err, MUD_ERR_SCHEMA, "",
				     "\"%s\" is not an IP address or prefix", esc);
	}
	memcpy(buf, str, slen + 1);

	slash = strchr(buf, '/');
	if (slash) *slash = '\0';

	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		len = slash ? prefix_len_parse(slash + 1, 32) : 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		len = slash ? prefix_len_parse(slash + 1, 128) : 128;
	} else {
		char esc[64];

		mudp_escape(esc, sizeof(esc), str, slen);
		return mud_error_set(err, MUD_ERR_SCHEMA, "",
				     "\"%s\" is not an IP address or prefix", esc);
	}
	if (len < 0) {
		char esc[64];

		mudp_escape(esc, sizeof(esc), str, slen);
		memset(out, 0, sizeof(*out));
		return mud_error_set(err, MUD_ERR_SCHEMA, "",
				     "\"%s\" has an invalid prefix length", esc);
	}
	out->len = (uint8_t)len;

	/* host bits */
	for (i = 0; i < (out->family == 4 ? 4u : 16u); i++) {
		int bits = len - (int)(i * 8);
		uint8_t mask;

		if (bits >= 8) continue;
		mask = bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		if ((out->addr[i] & (uint8_t)~mask) == 0) continue;
		if (!allow_host_bits) {
			char esc[64];

			mudp_escape(esc, sizeof(esc), str, slen);
			memset(out, 0, sizeof(*out));
			return mud_error_set(err, MUD_ERR_SCHEMA, "",
					     "\"%s\" has host bits set beyond the prefix length",
					     esc);
		}
		out->addr[i] &= mask;
	}
	return MUD_OK;
}

/** Print a prefix (see mud.h). */
void mud_prefix_print(char *buf, size_t buflen, mud_prefix_t const *p, bool always_len)
{
	char addr[INET6_ADDRSTRLEN];
	int host = (p->family == 4) ? 32 : 128;

	if (buflen == 0) return;
	if (!inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, addr, sizeof(addr))) {
		mudp_strlcpy(buf, "?", buflen);
		return;
	}
	if (!always_len && p->len == host) {
		mudp_strlcpy(buf, addr, buflen);
		return;
	}
	snprintf(buf, buflen, "%s/%u", addr, p->len);
}
