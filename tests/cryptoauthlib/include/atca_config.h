/* Host-only CryptoAuthLib configuration for Keyline's atcacert harness (no device, no HAL). */
#ifndef ATCA_CONFIG_H
#define ATCA_CONFIG_H
#define ATCA_ATECC608_SUPPORT
#define ATCA_CHECK_PARAMS_EN 1
#define ATCA_PREPROCESSOR_WARNING 0
#endif
