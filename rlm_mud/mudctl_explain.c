/*
 * mudctl_explain.c - `mudctl explain`: would the NAS let this flow through, and
 * which line of what it received decided each packet.
 *
 * The ACL text is evaluated by mud_eval.c, which parses the lines as the NAS
 * would and shares no code with the renderers.
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mudctl.h"

#define EXIT_EXPECT	3	//!< --expect given and the verdict differs

char const mudctl_explain_synopsis[] =
	"explain (--acl FILE | --mud FILE [--context FILE] [--lenient] [--url URL])\n"
	"           [--format FMT] --device ADDR [--device ADDR] --flow FLOW [--flow FLOW ...]\n"
	"           [--expect permit|deny]";

char const mudctl_explain_help[] =
	"Decide whether the NAS lets a flow through, from the ACL text it receives, and\n"
	"show for each packet of the flow the line that decided it.\n"
	"  --acl FILE        the lines as the NAS gets them: ip:inacl#N=..., ipv6:inacl#N=...\n"
	"                    (or bare IOS ACEs), or NAS-Filter-Rule values. Blank lines and\n"
	"                    lines starting with '#' are ignored ('mudctl compile' output works)\n"
	"  --mud FILE        compile and render a MUD file first (as 'mudctl compile' does),\n"
	"                    and name the MUD ACE (acl/ace) that produced each deciding line\n"
	"  --context FILE    site context for --mud (docs/context.md)\n"
	"  --lenient         accept legacy MUD encodings (--mud)\n"
	"  --url URL         the URL the MUD file came from: mud-url must equal it (--mud)\n"
	"  --format FMT      cisco-dacl or nas-filter-rule. Default: detected from the text\n"
	"                    for --acl, cisco-dacl for --mud\n"
	"  --device ADDR     the device's address; give it twice for IPv4 and IPv6. The one\n"
	"                    of the flow's family is used: Cisco source 'any' and NFR\n"
	"                    'assigned' stand for it\n"
	"  --flow FLOW       PROTO A->B [type T [code C]]: one side is 'device', the other an\n"
	"                    address; A initiates. May be repeated. Examples:\n"
	"                      'tcp device->192.0.2.10:443'    'tcp 192.0.2.10->device:8080'\n"
	"                      'udp device:5683->10.0.0.5:5683'\n"
	"                      'tcp device->[2001:db8::1]:443'\n"
	"                      'icmp device->2001:db8::1 type 128'\n"
	"                      '47 device->10.0.0.9'\n"
	"                    PROTO: tcp, udp, icmp (ICMPv6 for an IPv6 peer) or a number.\n"
	"                    tcp/udp need the responder's port; the initiator's is 49152\n"
	"                    unless given. icmp: type 8 (IPv4) / 128 (IPv6), code 0 by default\n"
	"  --expect VERDICT  permit or deny: exit 3 if the verdict of a flow differs\n"
	"Packets of a flow: tcp = SYN, SYN-ACK, ACK from the initiator, ACK from the\n"
	"responder; udp = request and reply; ICMP echo = request and reply; otherwise one\n"
	"packet. A flow is PERMIT only if every packet passes.\n"
	"Semantics: a cisco-dacl is applied inbound, so only packets from the device are\n"
	"filtered (packets to it show 'not filtered: inbound dACL'); first match wins, then\n"
	"the implicit deny; a family without lines has no dACL and is not filtered.\n"
	"nas-filter-rule: 'in' rules filter packets from the device, 'out' rules packets\n"
	"to it; first match wins; when none matches, RFC 6733 4.3 drops the packet if the\n"
	"last rule of that direction is a permit and passes it if it is a deny; a\n"
	"direction without rules is not filtered. 'established' matches TCP packets with\n"
	"ACK or RST.\n"
	"Output: 'acl:' (source, line count, format), then per flow 'flow:', 'verdict:\n"
	"PERMIT|DENY' and one line per packet with the deciding line and its number.\n"
	"Exit status: 0 the explanation was printed (whatever the verdict), 1 bad input\n"
	"(ACL line, MUD file, context: stderr says where), 2 usage or system error,\n"
	"3 --expect differs.\n";

/** Print an address (and port) of a packet. */
static void print_end(int family, uint8_t const *addr, bool ports, uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf))) {
		buf[0] = '?';
		buf[1] = '\0';
	}
	if (!ports) {
		printf("%s", buf);
	} else if (family == 6) {
		printf("[%s]:%u", buf, (unsigned int)port);
	} else {
		printf("%s:%u", buf, (unsigned int)port);
	}
}

/** Print the TCP flags or ICMP type of a packet. */
static void print_detail(mud_packet_t const *pkt)
{
	if (pkt->protocol == 6) {
		printf(" [%s%s%s]", (pkt->tcp_flags & MUD_TCP_SYN) ? "SYN" : "",
		       (pkt->tcp_flags & MUD_TCP_SYN) && (pkt->tcp_flags & MUD_TCP_ACK) ? "," : "",
		       (pkt->tcp_flags & MUD_TCP_ACK) ? "ACK" : "");
	} else if (pkt->protocol == 1 || pkt->protocol == 58) {
		printf(" [type %d code %d]", pkt->icmp_type, pkt->icmp_code);
	}
}

/** Name of the MUD ACE that produced rendered line idx, or NULL if it cannot be told safely.
 *
 * The renderers keep rule order (docs/rendering.md): cisco v4 lines are the from-device IPv4
 * rules in order, then the v6 lines the from-device IPv6 rules; nas-filter-rule lines are all
 * rules in order. The mapping is used only when the counts agree, and the line's action (and
 * nfr direction) must agree with the rule's.
 */
static char const *origin_of(mud_ruleset_t const *rs, mud_rendered_t const *r, size_t idx)
{
	mud_rule_t const *rule = NULL;
	char const *line;
	char const *body;
	bool permit;
	size_t i;

	if (!rs || !r) return NULL;
	if (r->format == MUD_FMT_CISCO_DACL) {
		int family = idx < r->num_v4 ? 4 : 6;
		size_t k = idx < r->num_v4 ? idx : idx - r->num_v4;
		size_t count = 0;

		if (idx >= r->num_v4 + r->num_v6) return NULL;
		line = idx < r->num_v4 ? r->v4[idx] : r->v6[k];
		for (i = 0; i < rs->num_rules; i++) {
			mud_rule_t const *ru = &rs->rules[i];

			if (ru->dir != MUD_DIR_FROM_DEVICE || ru->family != family) continue;
			if (count == k) rule = &rs->rules[i];
			count++;
		}
		if (count != (family == 4 ? r->num_v4 : r->num_v6) || !rule) return NULL;
		body = strchr(line, '=');
		body = body ? body + 1 : line;
	} else {
		if (r->num_v4 != rs->num_rules || idx >= r->num_v4) return NULL;
		rule = &rs->rules[idx];
		line = r->v4[idx];
		body = line;
		if (strstr(body,
			   rule->dir == MUD_DIR_FROM_DEVICE ? " in " : " out ") != strchr(body,
											  ' ')) {
			return NULL;
		}
	}
	permit = strncmp(body, "permit", 6) == 0;
	if (permit != (rule->action == MUD_ACTION_ACCEPT)) return NULL;
	return rule->origin;
}

/** Print the verdict of one flow. */
static void print_flow(char const *desc, mud_flow_t const *flow, mud_flow_result_t const *fr,
		       mud_ruleset_t const *rs, mud_rendered_t const *r)
{
	bool ports = flow->protocol == 6 || flow->protocol == 17;
	size_t i;

	printf("flow: %s (%s initiates)\n", desc,
	       flow->device_initiates ? "the device" : "the peer");
	printf("verdict: %s\n", fr->permit ? "PERMIT" : "DENY");
	for (i = 0; i < fr->num_steps; i++) {
		mud_flow_step_t const *s = &fr->steps[i];
		mud_eval_result_t const *res = &s->res;

		printf("  %zu. %-12s %s ", i + 1, s->what,
		       s->dir == MUD_DIR_FROM_DEVICE ? "from device" : "to device  ");
		print_end(s->pkt.family, s->pkt.src, ports, s->pkt.src_port);
		printf(" -> ");
		print_end(s->pkt.family, s->pkt.dst, ports, s->pkt.dst_port);
		print_detail(&s->pkt);
		printf(": %s", res->permit ? "PERMIT" : "DENY");
		if (res->reason == MUD_EVAL_MATCHED) {
			char const *origin = origin_of(rs, r, res->index);

			printf(", %s line %u: %s\n", res->why, res->lineno, res->line);
			if (origin) printf("       MUD ACE: %s\n", origin);
		} else {
			printf(", %s\n", res->why);
		}
	}
}

/** Render a MUD file (as mudctl compile does) and parse the output. */
static int load_from_mud(TALLOC_CTX *ctx, char const *path, char const *context, char const *url,
			 unsigned int flags, mud_format_t fmt, mud_ruleset_t **rs,
			 mud_rendered_t **r, mud_eval_acl_t **acl)
{
	mud_context_t *site;
	mud_file_t *file;
	mud_error_t err;
	mud_rcode_t rc;
	int ret;

	mud_error_clear(&err);
	ret = load_context(ctx, context, &site);
	if (ret != 0) return ret;
	ret = load_mud(ctx, path, url, flags, &file);
	if (ret != 0) return ret;
	rc = mud_ruleset_compile(ctx, rs, file, site, NULL, NULL, &err);
	if (rc != MUD_OK) return report(path, &err);
	rc = mud_ruleset_render(ctx, r, *rs, fmt, &err);
	if (rc != MUD_OK) return report(path, &err);
	rc = mud_eval_acl_from_rendered(ctx, acl, *r, &err);
	if (rc != MUD_OK) return report("rendered ACL", &err);
	return 0;
}

/** Record a --device address in the slot of its family (NULL: already given). */
static int add_device(char const *arg, mud_prefix_t *dev4, mud_prefix_t *dev6, bool *have4,
		      bool *have6)
{
	mud_prefix_t p;
	mud_error_t err;

	mud_error_clear(&err);
	if (mud_prefix_parse(&p, arg, false,
			     &err) != MUD_OK || p.len != (p.family == 4 ? 32 : 128)) {
		return usage_error("explain", "--device \"%s\": expected an IPv4 or IPv6 address",
				   arg);
	}
	if ((p.family == 4 && !dev4) || (p.family == 6 && !dev6)) {
		return usage_error("explain", "--device \"%s\": one address per family", arg);
	}
	if (p.family == 4) {
		*dev4 = p;
		*have4 = true;
	} else {
		*dev6 = p;
		*have6 = true;
	}
	return 0;
}

/** mudctl explain. */
int mudctl_cmd_explain(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "acl", required_argument, NULL, 'a' },
		{ "mud", required_argument, NULL, 'm' },
		{ "context", required_argument, NULL, 'c' },
		{ "lenient", no_argument, NULL, 'l' },
		{ "url", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "device", required_argument, NULL, 'd' },
		{ "flow", required_argument, NULL, 'F' },
		{ "expect", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	char const *acl_path = NULL;
	char const *mud_path = NULL;
	char const *context = NULL;
	char const *url = NULL;
	unsigned int flags = MUD_PARSE_STRICT;
	int fmt = -1;
	int expect = -1;
	mud_prefix_t dev4, dev6;
	bool have4 = false;
	bool have6 = false;
	char const **flows = NULL;
	size_t num_flows = 0;
	mud_eval_acl_t *acl = NULL;
	mud_ruleset_t *rs = NULL;
	mud_rendered_t *r = NULL;
	mud_error_t err;
	mud_rcode_t rc;
	bool mismatch = false;
	size_t i;
	int c;
	int ret;

	mud_error_clear(&err);
	while ((c = getopt_long(argc, argv, "a:m:c:lu:f:d:F:e:", opts, NULL)) != -1) {
		switch (c) {
		case 'a': acl_path = optarg; break;
		case 'm': mud_path = optarg; break;
		case 'c': context = optarg; break;
		case 'l': flags |= MUD_PARSE_LENIENT; break;
		case 'u': url = optarg; break;
		case 'f':
			fmt = mud_format_by_name(optarg);
			if (fmt != MUD_FMT_CISCO_DACL && fmt != MUD_FMT_NAS_FILTER_RULE) {
				return usage_error("explain",
						   "--format \"%s\": cisco-dacl or nas-filter-rule",
						   optarg);
			}
			break;
		case 'd':
			ret = add_device(optarg, have4 ? NULL : &dev4, have6 ? NULL : &dev6, &have4,
					 &have6);
			if (ret != 0) return ret;
			break;

		case 'F': {
			char const **n = talloc_realloc(ctx, flows, char const *, num_flows + 1);

			if (!n) return EXIT_SYS;
			flows = n;
			flows[num_flows++] = optarg;
			break;
		}
		case 'e':
			if (!strcmp(optarg, "permit")) {
				expect = 1;
			} else if (!strcmp(optarg, "deny")) {
				expect = 0;
			} else {
				return usage_error("explain", "--expect \"%s\": permit or deny",
						   optarg);
			}
			break;
		default: return usage_error("explain", "invalid option%s", NULL);
		}
	}
	if (optind != argc) return usage_error("explain", "unexpected argument \"%s\"",
					       argv[optind]);
	if (!acl_path == !mud_path) return usage_error("explain", "give --acl FILE or --mud FILE%s",
						       NULL);
	if (acl_path && (context || url || (flags & MUD_PARSE_LENIENT))) {
		return usage_error("explain", "--context, --url and --lenient go with --mud%s",
				   NULL);
	}
	if (!have4 && !have6) return usage_error("explain", "--device ADDR is required%s", NULL);
	if (!num_flows) return usage_error("explain", "--flow FLOW is required%s", NULL);

	/* check every flow before any output */
	for (i = 0; i < num_flows; i++) {
		mud_flow_t flow;

		mud_error_clear(&err);
		if (mud_flow_parse(&flow, flows[i], &err) != MUD_OK) {
			return usage_error("explain", "--flow: %s", err.text);
		}
		if ((flow.family == 4 && !have4) || (flow.family == 6 && !have6)) {
			return usage_error("explain",
					   "--flow \"%s\": no --device address of its family",
					   flows[i]);
		}
	}

	if (acl_path) {
		uint8_t *text;
		size_t len;

		rc = read_file(ctx, acl_path, &text, &len, MUDCTL_MAX_INPUT, &err);
		if (rc != MUD_OK) return report(acl_path, &err);
		if (fmt < 0) fmt = mud_eval_detect((char const *)text, len);
		if (fmt < 0) fmt = MUD_FMT_CISCO_DACL;
		rc = mud_eval_acl_parse(ctx, &acl, (mud_format_t)fmt, (char const *)text, len,
					&err);
		if (rc != MUD_OK) return report(acl_path, &err);
		printf("acl: %s, %zu lines, %s\n", acl_path, mud_eval_acl_count(acl),
		       mud_format_name((mud_format_t)fmt));
	} else {
		if (fmt < 0) fmt = MUD_FMT_CISCO_DACL;
		ret = load_from_mud(ctx, mud_path, context, url, flags, (mud_format_t)fmt, &rs, &r,
				    &acl);
		if (ret != 0) return ret;
		printf("acl: rendered from %s, %zu lines, %s\n", mud_path, mud_eval_acl_count(acl),
		       mud_format_name((mud_format_t)fmt));
	}

	for (i = 0; i < num_flows; i++) {
		mud_flow_t flow;
		mud_flow_result_t fr;

		mud_error_clear(&err);
		(void)mud_flow_parse(&flow, flows[i], &err);
		rc = mud_eval_flow(acl, &flow, flow.family == 4 ? &dev4 : &dev6, &fr, &err);
		if (rc != MUD_OK) return report(flows[i], &err);
		print_flow(flows[i], &flow, &fr, rs, r);
		if (expect >= 0 && fr.permit != (expect == 1)) mismatch = true;
	}
	if (mismatch) {
		fprintf(stderr, "%s explain: a verdict differs from --expect %s\n", progname,
			expect ? "permit" : "deny");
		return EXIT_EXPECT;
	}
	return 0;
}
