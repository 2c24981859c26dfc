/* The device-layer symbols atcacert_def.c needs, for a host with no device: an ATECC608. */
#include <stdlib.h>
#include "cryptoauthlib.h"
#include "atca_version.h"

#if !(ATCA_LIBRARY_VERSION_MAJOR == 3 && ATCA_LIBRARY_VERSION_MINOR < 7)

ATCADeviceType atcab_get_device_type_ext(ATCADevice device) { (void)device; return ATECC608; }
ATCADeviceType atcab_get_device_type(void) { return ATECC608; }
bool atcab_is_ta_device(ATCADeviceType dev_type) { (void)dev_type; return false; }
bool atcab_is_ca2_device(ATCADeviceType dev_type) { (void)dev_type; return false; }
void* hal_malloc(size_t size) { return malloc(size); }
void hal_free(void* ptr) { free(ptr); }
#endif
