/* placeholder */
#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size);
int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size) { (void)data; (void)size; return 0; }
