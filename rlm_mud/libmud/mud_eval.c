/* placeholder: being written */
#include "mud_private.h"
