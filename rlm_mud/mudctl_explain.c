/* placeholder: being written */
#include "mudctl.h"

char const mudctl_explain_synopsis[] = "explain (not yet available)";
char const mudctl_explain_help[] = "Not yet available.\n";

int mudctl_cmd_explain(TALLOC_CTX *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return EXIT_SYS;
}
