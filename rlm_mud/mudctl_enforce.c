/*
 * mudctl_enforce.c - `mudctl enforce show|apply|flush`: the nftables rules rlm_mud installs on
 * a Linux gateway (docs/enforce.md). The state is the kernel's table: what the module
 * installed is what `show` lists, and `apply`/`flush` change it the way the module does.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mudctl.h"

char const mudctl_enforce_synopsis[] =
	"enforce show|apply|flush [--table NAME] [--bridge IF] ...";

char const mudctl_enforce_help[] =
	"Manage the per-device nftables rules of a Linux gateway (needs CAP_NET_ADMIN).\n"
	"  enforce show [--rules]              devices, their addresses and rule counts;\n"
	"                                      --rules: the nftables listing as well\n"
	"  enforce apply MAC FILE [--context F] [--url URL] [--lenient]\n"
	"                                      compile FILE and install (or atomically\n"
	"                                      replace) the rules of the device MAC\n"
	"  enforce apply MAC --quarantine [--context F]\n"
	"                                      install the quarantine rule set for MAC\n"
	"  enforce flush [MAC] [--all]         remove one device or every device;\n"
	"                                      --all also deletes the tables\n"
	"  --table NAME      nftables table (default rlm_mud, as the module's enforce_table)\n"
	"  --bridge IF       bridge the devices sit on (addresses and FDB port)\n"
	"Exit status: 0 done, 1 bad input (stderr says what and where), 2 usage or system\n"
	"error (no CAP_NET_ADMIN, no nftables support).\n";

typedef struct {
	char const	*table;
	char const	*bridge;
	char const	*context;
	char const	*url;
	unsigned int	flags;
	bool		quarantine;
	bool		rules;
	bool		all;
} enf_args_t;

static int enf_open(TALLOC_CTX *ctx, enf_args_t const *a, bool readonly, mud_enforce_t **e)
{
	mud_enforce_opts_t o;
	mud_error_t err;

	memset(&o, 0, sizeof(o));
	o.table = a->table;
	o.bridge = a->bridge;
	o.keep = true;
	o.readonly = readonly;
	mud_error_clear(&err);
	if (mud_enforce_open(ctx, e, &o, &err) != MUD_OK) {
		report("enforce", &err);
		return err.code == MUD_ERR_ARG && readonly ? EXIT_BAD : EXIT_SYS;
	}
	return 0;
}

static int enf_show(TALLOC_CTX *ctx, enf_args_t const *a)
{
	mud_enforce_t *e;
	mud_enforce_dev_t *d;
	size_t n;
	size_t i;
	size_t j;
	int ret = enf_open(ctx, a, true, &e);

	if (ret != 0) return ret;
	n = mud_enforce_devices(e, ctx, &d);
	printf("table: inet %s, bridge %s\n", a->table ? a->table : "rlm_mud",
	       a->table ? a->table : "rlm_mud");
	printf("devices: %zu\n", n);
	for (i = 0; i < n; i++) {
		printf("%s", d[i].mac);
		for (j = 0; j < d[i].num_addrs; j++) {
			char buf[64];

			mud_prefix_print(buf, sizeof(buf), &d[i].addrs[j], false);
			printf(" %s", buf);
		}
		printf("\n");
	}
	if (a->rules) {
		char *l = mud_enforce_listing(e, ctx);

		if (l) fputs(l, stdout);
	}
	return 0;
}

static int enf_apply(TALLOC_CTX *ctx, enf_args_t const *a, char const *mac, char const *file)
{
	mud_enforce_t *e;
	mud_context_t *site;
	mud_ruleset_t *rs;
	mud_error_t err;
	int ret;

	mud_error_clear(&err);
	ret = load_context(ctx, a->context, &site);
	if (ret != 0) return ret;
	if (a->quarantine) {
		if (mud_ruleset_quarantine(ctx, &rs, site, &err) != MUD_OK) {
			return report("quarantine", &err);
		}
	} else {
		mud_file_t *f;

		ret = load_mud(ctx, file, a->url, a->flags, &f);
		if (ret != 0) return ret;
		if (mud_ruleset_compile(ctx, &rs, f, site, NULL, NULL, &err) != MUD_OK) {
			return report(file, &err);
		}
	}
	ret = enf_open(ctx, a, false, &e);
	if (ret != 0) return ret;
	if (mud_enforce_apply(e, mac, rs, a->quarantine ? NULL : rs->mud_url, 0, &err) != MUD_OK) {
		return report(mac, &err);
	}
	printf("%s: %zu rules installed\n", mac, rs->num_rules);
	return 0;
}

static int enf_flush(TALLOC_CTX *ctx, enf_args_t const *a, char const *mac)
{
	mud_enforce_t *e;
	mud_error_t err;
	int ret = enf_open(ctx, a, false, &e);

	if (ret != 0) return ret;
	mud_error_clear(&err);
	if (mac) {
		bool found;

		if (mud_enforce_remove(e, mac, &found, &err) != MUD_OK) return report(mac, &err);
		if (!found) {
			fprintf(stderr, "%s: enforce: %s: no rules installed\n", progname, mac);
			return EXIT_BAD;
		}
		return 0;
	}
	if (mud_enforce_flush(e, &err) != MUD_OK) return report("flush", &err);
	if (a->all) {
		mud_enforce_opts_t o;

		/* a state that is not "keep" deletes the tables when freed */
		talloc_free(e);
		memset(&o, 0, sizeof(o));
		o.table = a->table;
		if (mud_enforce_open(ctx, &e, &o, &err) != MUD_OK) return report("flush", &err);
		talloc_free(e);
	}
	return 0;
}

int mudctl_cmd_enforce(TALLOC_CTX *ctx, int argc, char **argv)
{
	static struct option const opts[] = {
		{ "table", required_argument, NULL, 't' },
		{ "bridge", required_argument, NULL, 'b' },
		{ "context", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "lenient", no_argument, NULL, 'l' },
		{ "quarantine", no_argument, NULL, 'q' },
		{ "rules", no_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	enf_args_t a;
	char const *verb;
	int c;
	int nargs;

	memset(&a, 0, sizeof(a));
	a.flags = MUD_PARSE_STRICT;
	if (argc < 2) return usage_error("enforce", "expected show, apply or flush%s", "");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "t:b:c:u:lqra", opts, NULL)) != -1) {
		switch (c) {
		case 't': a.table = optarg; break;
		case 'b': a.bridge = optarg; break;
		case 'c': a.context = optarg; break;
		case 'u': a.url = optarg; break;
		case 'l': a.flags |= MUD_PARSE_LENIENT; break;
		case 'q': a.quarantine = true; break;
		case 'r': a.rules = true; break;
		case 'a': a.all = true; break;
		default: return usage_error("enforce", "invalid option%s", "");
		}
	}
	nargs = argc - optind;
	if (strcmp(verb, "show") == 0) {
		if (nargs != 0) return usage_error("enforce", "show takes no argument%s", "");
		return enf_show(ctx, &a);
	}
	if (strcmp(verb, "apply") == 0) {
		if (nargs != (a.quarantine ? 1 : 2)) {
			return usage_error("enforce", "apply needs MAC and a MUD file (or "
					   "--quarantine)%s", "");
		}
		return enf_apply(ctx, &a, argv[optind], a.quarantine ? NULL : argv[optind + 1]);
	}
	if (strcmp(verb, "flush") == 0) {
		if (nargs > 1) return usage_error("enforce", "flush takes at most a MAC%s", "");
		return enf_flush(ctx, &a, nargs == 1 ? argv[optind] : NULL);
	}
	return usage_error("enforce", "unknown action \"%s\" (show, apply, flush)", verb);
}
