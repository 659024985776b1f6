/* placeholder: being written */
#include "mudctl.h"

char const mudctl_iodef_synopsis[] = "iodef (not yet available)";
char const mudctl_iodef_help[] = "Not yet available.\n";

int mudctl_cmd_iodef(TALLOC_CTX *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return EXIT_SYS;
}
