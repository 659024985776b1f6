/*
 * mudctl_avpair.c - `mudctl avpair`: the Cisco-AVPair line a switch's device
 * sensor sends for a MUD URL, written the way radclient reads it, so that a
 * MAB request can be built by hand (docs/verify.md).
 *
 * Encodings (the ones `mudctl url --lldp-avpair/--dhcp-avpair` and the module
 * decode):
 *   lldp-tlv=    2-byte TLV type 127, 2-byte length, OUI 00-00-5E, subtype 1, URL
 *   dhcp-option= 2-byte option code (161 DHCPv4, 112 DHCPv6), 2-byte length, URL
 * Bytes outside printable ASCII, '"' and '\' are written as \NNN octal escapes
 * (radclient takes \xNN literally in string attributes).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mudctl.h"

/*
 *	Cisco-AVPair is a vendor-specific attribute: 255 bytes of attribute, less the
 *	attribute header (2), vendor id (4) and vendor TLV header (2) (RFC 2865 5.26).
 */
#define AVPAIR_MAX_LEN	247

#define LLDP_MUD_TYPE	127	//!< RFC 8520 section 10: organizationally specific TLV
#define DHCP4_MUD_CODE	161	//!< RFC 8520 section 10: DHCPv4 MUD URL option
#define DHCP6_MUD_CODE	112	//!< RFC 8520 section 10: DHCPv6 MUD URL option

char const mudctl_avpair_synopsis[] =
	"avpair (--lldp URL | --dhcp URL | --dhcp6 URL) [--raw]";

char const mudctl_avpair_help[] =
	"Print the Cisco-AVPair attribute a Cisco switch's device sensor sends for a device\n"
	"announcing URL, as one line of radclient input (binary bytes as \\NNN octal escapes):\n"
	"  --lldp URL     lldp-tlv=  LLDP TLV 127, OUI 00-00-5E, subtype 1\n"
	"  --dhcp URL     dhcp-option=  DHCPv4 option 161\n"
	"  --dhcp6 URL    dhcp-option=  DHCPv6 option 112\n"
	"  --raw          print only the quoted value's contents (no 'Cisco-AVPair = \"...\"')\n"
	"The URL is validated as the module does (https, no userinfo or fragment). The value\n"
	"must fit one attribute (247 bytes): longer URLs are refused (exit 1). Example:\n"
	"  mudctl avpair --lldp https://example.com/dev.json >> mab.txt\n"
	"  radclient -f mab.txt 127.0.0.1 auth testing123\n";

/** The escaped form of buf, under ctx (radclient string syntax); NULL if out of memory. */
static char *escape(TALLOC_CTX *ctx, uint8_t const *buf, size_t len)
{
	char *out = talloc_strdup(ctx, "");
	size_t i;

	for (i = 0; out && i < len; i++) {
		uint8_t b = buf[i];

		if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
			out = talloc_asprintf_append_buffer(out, "%c", (char)b);
		} else {
			out = talloc_asprintf_append_buffer(out, "\\%03o", (unsigned int)b);
		}
	}
	return out;
}

/** Run `mudctl avpair`. */
int mudctl_cmd_avpair(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "lldp", required_argument, NULL, 'l' },
		{ "dhcp", required_argument, NULL, 'd' },
		{ "dhcp6", required_argument, NULL, '6' },
		{ "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	static char const lldp_pfx[] = "lldp-tlv=";
	static char const dhcp_pfx[] = "dhcp-option=";
	uint8_t buf[AVPAIR_MAX_LEN + 1];
	char const *arg = NULL;
	char const *pfx;
	mud_url_t *url = NULL;
	mud_url_t *back = NULL;
	mud_url_src_t src = MUD_SRC_NONE;
	mud_url_src_t want;
	mud_error_t err;
	mud_rcode_t rc;
	size_t ulen, hdr, len, n;
	unsigned int code;
	bool raw = false;
	char *text;
	int which = 0;
	int c;

	mud_error_clear(&err);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		case 'l': case 'd': case '6':
			if (which) return usage_error("avpair", "give exactly one of --lldp, "
						      "--dhcp, --dhcp6%s", NULL);
			which = c;
			arg = optarg;
			break;
		default:
			return usage_error("avpair", "invalid option%s", NULL);
		}
	}
	if (!which || optind != argc)
		return usage_error("avpair", "give exactly one of --lldp, --dhcp, --dhcp6%s", NULL);

	ulen = strlen(arg);
	rc = mud_url_parse(ctx, &url, arg, ulen, &err);
	if (rc != MUD_OK) return report("avpair", &err);

	if (which == 'l') {
		pfx = lldp_pfx;
		code = LLDP_MUD_TYPE;
		hdr = 4 + 4;		/* type, length; OUI and subtype */
		want = MUD_SRC_LLDP;
	} else {
		pfx = dhcp_pfx;
		code = (which == 'd') ? DHCP4_MUD_CODE : DHCP6_MUD_CODE;
		hdr = 4;		/* code, length */
		want = (which == 'd') ? MUD_SRC_DHCPV4 : MUD_SRC_DHCPV6;
	}
	len = strlen(pfx) + hdr + ulen;
	if (len > AVPAIR_MAX_LEN) {
		fprintf(stderr, "%s: avpair: the URL is %zu bytes; the AV-pair would be %zu bytes, "
			"more than one Cisco-AVPair holds (%d) [MUD_ERR_LIMIT]\n",
			progname, ulen, len, AVPAIR_MAX_LEN);
		return EXIT_BAD;
	}

	memcpy(buf, pfx, strlen(pfx));
	n = strlen(pfx);
	buf[n++] = (uint8_t)(code >> 8);
	buf[n++] = (uint8_t)(code & 0xff);
	if (which == 'l') {
		buf[n++] = (uint8_t)((ulen + 4) >> 8);
		buf[n++] = (uint8_t)((ulen + 4) & 0xff);
		buf[n++] = 0x00;	/* IANA OUI 00-00-5E */
		buf[n++] = 0x00;
		buf[n++] = 0x5e;
		buf[n++] = 0x01;	/* subtype 1: MUD URL */
	} else {
		buf[n++] = (uint8_t)(ulen >> 8);
		buf[n++] = (uint8_t)(ulen & 0xff);
	}
	memcpy(buf + n, arg, ulen);

	/* What the module will read back: the same URL, from the same source. */
	rc = mud_url_from_avpair(ctx, &back, &src, buf, len, &err);
	if (rc != MUD_OK) return report("avpair (decoding the result)", &err);
	if (src != want || strcmp(back->url, url->url) != 0) {
		fprintf(stderr, "%s: avpair: internal error: the AV-pair decodes to %s from %s\n",
			progname, back->url, mud_url_src_name(src));
		return EXIT_SYS;
	}

	text = escape(ctx, buf, len);
	if (!text) {
		fprintf(stderr, "%s: avpair: out of memory\n", progname);
		return EXIT_SYS;
	}
	if (raw) {
		printf("%s\n", text);
	} else {
		printf("Cisco-AVPair = \"%s\"\n", text);
	}
	return 0;
}
