/*
 * Keyline's host harness around CryptoAuthLib's own atcacert code.
 *
 * Reads emulated ATECC608A contents (configuration zone, data slots, GenKey public keys) from
 * stdin, one case at a time, and rebuilds the signer and device certificates with the compiled
 * cert_chain.c exactly as atcacert_read_cert() does: atcacert_get_device_locs() with 32-byte
 * blocks, then atcacert_cert_build_start/process/finish. Prints the rebuilt DER as hex.
 *
 * Input lines:   case | config <hex> | slot <n> <hex> | genkey <n> <hex> | root <hex64>
 *                | device_certdef <Espressif cert-def string> | signer_cert <hex> | device_cert <hex> | end
 * Output lines:  signer <hex> | device <hex> | comp_compiled <hex> | comp_helper <hex>
 *                | fw_signer <hex> | fw_device <hex> | error <what> <status>
 *
 * signer/device: rebuilt from the slots Keyline wrote (Keyline's compressed certificates), with
 * the compiled g_cert_def_1_signer / g_cert_def_2_device (what a firmware holds at run time).
 * When signer_cert/device_cert are given the firmware also compresses them itself, as
 * atcacert_write_cert() does (atcacert_get_device_locs + atcacert_get_device_data per location,
 * whole 32-byte blocks, config-zone and GenKey locations skipped), into a fresh image that keeps
 * only the configuration zone, the GenKey keys and slot 15, and the certificates are rebuilt from
 * that image (fw_signer / fw_device). comp_compiled is atcacert_get_comp_cert with the compiled
 * device definition; comp_helper (with device_certdef) the same with the definition the
 * esp_cryptoauth_utility helper builds on provide-cert-def 0: its own compiled device definition
 * (PUB_KEY_HASH, UTC issue / GEN expire, expire_years 0, no elements, GenKey slot 0, slot 10)
 * with the standard elements, TBS and template taken from the string. The helper also writes the
 * device certificate with that definition on program-dev-cert, so fw_device is then written with it.
 *
 * Builds against CryptoAuthLib 3.8.0 (PyPI 20260505) and 3.2.5 (PyPI 20201130).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cryptoauthlib.h"
#include "atca_version.h"
#include "atcacert/atcacert_def.h"
#include "cert_chain.h"

/* CryptoAuthLib before 3.7 (e.g. 3.2.5 = PyPI 20201130): no ATCADevice argument, raw key arrays. */
#if ATCA_LIBRARY_VERSION_MAJOR == 3 && ATCA_LIBRARY_VERSION_MINOR < 7
#define KEYLINE_CAL_LEGACY 1
#endif

#define LINE_MAX_LEN 8192
#define CERT_MAX 1024

typedef struct {
    uint8_t config[128];
    uint8_t slots[16][416];
    uint8_t genkey[16][64];
} device_image_t;

static device_image_t g_image;
static uint8_t g_root_key[64];
static atcacert_def_t g_device_override;
static uint8_t g_device_template[CERT_MAX];
static int g_has_override;
static uint8_t g_signer_cert[CERT_MAX + 2];
static size_t g_signer_cert_size;
static uint8_t g_device_cert[CERT_MAX + 2];
static size_t g_device_cert_size;

static size_t slot_size(uint16_t slot)
{
    return slot < 8 ? 36u : (slot == 8 ? 416u : 72u);
}

static int hex_to_bytes(const char* hex, uint8_t* out, size_t max)
{
    size_t n = strlen(hex);
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r')) { n--; }
    if (n % 2 != 0 || n / 2 > max) { return -1; }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(&hex[i * 2], "%2x", &v) != 1) { return -1; }
        out[i] = (uint8_t)v;
    }
    return (int)(n / 2);
}

static void print_hex(const char* label, const uint8_t* data, size_t size)
{
    printf("%s ", label);
    for (size_t i = 0; i < size; i++) { printf("%02x", data[i]); }
    printf("\n");
}

/* Same reads as atcacert_read_device_loc_ext() on an ATECC608, from the emulated image. */
static int read_device_loc(const atcacert_device_loc_t* loc, uint8_t* data)
{
    memset(data, 0, 416);
    if (loc->zone == DEVZONE_DATA && loc->is_genkey) {
        if (loc->slot >= 16 || loc->offset + loc->count > 64) { return -1; }
        memcpy(data, &g_image.genkey[loc->slot][loc->offset], loc->count);
        return 0;
    }
    size_t zone_size = loc->zone == DEVZONE_CONFIG ? 128u : slot_size(loc->slot);
    const uint8_t* zone = loc->zone == DEVZONE_CONFIG ? g_image.config : g_image.slots[loc->slot];
    if (loc->zone != DEVZONE_CONFIG && loc->zone != DEVZONE_DATA) { return -1; }
    if (loc->offset > zone_size) { return -1; }
    size_t count = loc->count;
    if (loc->offset + count > zone_size) { count = zone_size - loc->offset; }
    memcpy(data, zone + loc->offset, count);
    return 0;
}

static int rebuild(const char* what, const atcacert_def_t* def, const uint8_t ca_key[64], uint8_t* cert, size_t* cert_size)
{
    atcacert_device_loc_t locs[16];
    size_t locs_count = 0;
    atcacert_build_state_t state;
    uint8_t key_copy[64];
    int ret;
    memcpy(key_copy, ca_key, 64);

    *cert_size = CERT_MAX;
#ifdef KEYLINE_CAL_LEGACY
    ret = atcacert_get_device_locs(def, locs, &locs_count, 16, 32);
#else
    static int dummy_device;
    cal_buffer ca_buf = CAL_BUF_INIT(64u, key_copy);
    ATCADevice device = (ATCADevice)(void*)&dummy_device;
    ret = atcacert_get_device_locs(device, def, locs, &locs_count, 16, 32);
#endif
    if (ret != ATCACERT_E_SUCCESS) {
        printf("error %s_locs %d\n", what, ret);
        return ret;
    }
#ifdef KEYLINE_CAL_LEGACY
    ret = atcacert_cert_build_start(&state, def, cert, cert_size, key_copy);
#else
    ret = atcacert_cert_build_start(device, &state, def, cert, cert_size, &ca_buf);
#endif
    if (ret != ATCACERT_E_SUCCESS) {
        printf("error %s_start %d\n", what, ret);
        return ret;
    }
    for (size_t i = 0; i < locs_count; i++) {
        static uint8_t data[416];
        if (read_device_loc(&locs[i], data) != 0) {
            printf("error %s_read %d\n", what, -1);
            return -1;
        }
        if ((ret = atcacert_cert_build_process(&state, &locs[i], data)) != ATCACERT_E_SUCCESS) {
            printf("error %s_process %d\n", what, ret);
            return ret;
        }
    }
    if ((ret = atcacert_cert_build_finish(&state)) != ATCACERT_E_SUCCESS) {
        printf("error %s_finish %d\n", what, ret);
        return ret;
    }
    return 0;
}

/* Same parsing as the esp_cryptoauth_utility helper's get_cert_def(): 18 four-digit fields
 * (std elements, then TBS) and the template as hex, applied over the compiled definition. */
static int apply_certdef_string(const char* text)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) { n--; }
    if (n < 72 || (n - 72) % 2 != 0 || (n - 72) / 2 > CERT_MAX) { return -1; }
    uint16_t fields[18];
    for (int i = 0; i < 18; i++) {
        char digits[5] = { 0 };
        memcpy(digits, &text[i * 4], 4);
        fields[i] = (uint16_t)atoi(digits);
    }
    /* The helper's own compiled device definition (esp_cryptoauth_utility firmware
     * main/cert_def_2_device.c): everything the string does not carry comes from it. */
    g_device_override = g_cert_def_2_device;
    g_device_override.sn_source = SNSRC_PUB_KEY_HASH;
    g_device_override.issue_date_format = DATEFMT_RFC5280_UTC;
    g_device_override.expire_date_format = DATEFMT_RFC5280_GEN;
    g_device_override.expire_years = 0;
    g_device_override.public_key_dev_loc.zone = DEVZONE_DATA;
    g_device_override.public_key_dev_loc.slot = 0;
    g_device_override.public_key_dev_loc.is_genkey = 1;
    g_device_override.public_key_dev_loc.offset = 0;
    g_device_override.public_key_dev_loc.count = 64;
    g_device_override.comp_cert_dev_loc.zone = DEVZONE_DATA;
    g_device_override.comp_cert_dev_loc.slot = 10;
    g_device_override.comp_cert_dev_loc.is_genkey = 0;
    g_device_override.comp_cert_dev_loc.offset = 0;
    g_device_override.comp_cert_dev_loc.count = 72;
    g_device_override.cert_elements = NULL;
    g_device_override.cert_elements_count = 0;
    g_device_override.ca_cert_def = NULL;
    for (int i = 0; i < STDCERT_NUM_ELEMENTS; i++) {
        g_device_override.std_cert_elements[i].offset = fields[i * 2];
        g_device_override.std_cert_elements[i].count = fields[i * 2 + 1];
    }
    g_device_override.tbs_cert_loc.offset = fields[16];
    g_device_override.tbs_cert_loc.count = fields[17];
    char* hex = malloc(n - 72 + 1);
    memcpy(hex, text + 72, n - 72);
    hex[n - 72] = 0;
    int size = hex_to_bytes(hex, g_device_template, sizeof(g_device_template));
    free(hex);
    if (size <= 0) { return -1; }
    g_device_override.cert_template = g_device_template;
    g_device_override.cert_template_size = (uint16_t)size;
    g_has_override = 1;
    return 0;
}

/* What atcacert_write_cert() stores for `cert`, written into the emulated image. */
static int firmware_write(const char* what, const atcacert_def_t* def, const uint8_t* cert, size_t cert_size)
{
    atcacert_device_loc_t locs[16];
    size_t locs_count = 0;
    int ret;
#ifdef KEYLINE_CAL_LEGACY
    ret = atcacert_get_device_locs(def, locs, &locs_count, 16, 32);
#else
    static int dummy_device;
    ret = atcacert_get_device_locs((ATCADevice)(void*)&dummy_device, def, locs, &locs_count, 16, 32);
#endif
    if (ret != ATCACERT_E_SUCCESS) {
        printf("error %s_write_locs %d\n", what, ret);
        return ret;
    }
    for (size_t i = 0; i < locs_count; i++) {
        static uint8_t data[416];
        if (locs[i].zone == DEVZONE_CONFIG || (locs[i].zone == DEVZONE_DATA && locs[i].is_genkey)) {
            continue;
        }
        if (locs[i].zone != DEVZONE_DATA || locs[i].slot >= 16) {
            printf("error %s_write_zone %d\n", what, (int)locs[i].zone);
            return -1;
        }
        memset(data, 0, sizeof(data));
        if ((ret = atcacert_get_device_data(def, cert, cert_size, &locs[i], data)) != ATCACERT_E_SUCCESS) {
            printf("error %s_write_data %d\n", what, ret);
            return ret;
        }
        size_t size = slot_size(locs[i].slot);
        size_t count = locs[i].count;
        if (locs[i].offset >= size) { continue; }
        if (locs[i].offset + count > size) { count = size - locs[i].offset; }
        memcpy(&g_image.slots[locs[i].slot][locs[i].offset], data, count);
    }
    return 0;
}

static int rebuild_chain(const char* signer_label, const char* device_label, const atcacert_def_t* device_def)
{
    uint8_t signer[CERT_MAX], device[CERT_MAX];
    size_t signer_size, device_size;
    uint8_t signer_key[64];

    if (rebuild(signer_label, &g_cert_def_1_signer, g_root_key, signer, &signer_size) != 0) { return -1; }
    print_hex(signer_label, signer, signer_size);
#ifdef KEYLINE_CAL_LEGACY
    int ret = atcacert_get_subj_public_key(&g_cert_def_1_signer, signer, signer_size, signer_key);
#else
    cal_buffer signer_key_buf = CAL_BUF_INIT(64u, signer_key);
    int ret = atcacert_get_subj_public_key(&g_cert_def_1_signer, signer, signer_size, &signer_key_buf);
#endif
    if (ret != ATCACERT_E_SUCCESS) {
        printf("error %s_key %d\n", signer_label, ret);
        return -1;
    }
    if (rebuild(device_label, device_def, signer_key, device, &device_size) != 0) { return -1; }
    print_hex(device_label, device, device_size);
    return 0;
}

static void compress(const char* label, const atcacert_def_t* def)
{
    uint8_t comp[72];
    /* The helper passes the DER size + 2 (a NUL and one more byte) to atcacert_write_cert. */
    int ret = atcacert_get_comp_cert(def, g_device_cert, g_device_cert_size + 2, comp);
    if (ret != ATCACERT_E_SUCCESS) {
        printf("error %s %d\n", label, ret);
        return;
    }
    print_hex(label, comp, sizeof(comp));
}

static void run_case(void)
{
    /* 1. The slots as Keyline wrote them, rebuilt with the compiled definitions. */
    if (rebuild_chain("signer", "device", &g_cert_def_2_device) != 0) { return; }
    if (g_signer_cert_size == 0 || g_device_cert_size == 0) { return; }

    /* 2. The firmware compresses and writes the certificates itself. */
    compress("comp_compiled", &g_cert_def_2_device);
    if (g_has_override) { compress("comp_helper", &g_device_override); }
    uint8_t slot15[72];
    memcpy(slot15, g_image.slots[15], sizeof(slot15));
    memset(g_image.slots, 0, sizeof(g_image.slots));
    memcpy(g_image.slots[15], slot15, sizeof(slot15));
    if (firmware_write("fw_signer", &g_cert_def_1_signer, g_signer_cert, g_signer_cert_size + 2) != 0) { return; }
    const atcacert_def_t* writer = g_has_override ? &g_device_override : &g_cert_def_2_device;
    if (firmware_write("fw_device", writer, g_device_cert, g_device_cert_size + 2) != 0) { return; }
    (void)rebuild_chain("fw_signer", "fw_device", &g_cert_def_2_device);
}

int main(void)
{
    static char line[LINE_MAX_LEN];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        if (strncmp(line, "case", 4) == 0) {
            memset(&g_image, 0, sizeof(g_image));
            memset(g_root_key, 0, sizeof(g_root_key));
            g_has_override = 0;
            g_signer_cert_size = 0;
            g_device_cert_size = 0;
            memset(g_signer_cert, 0, sizeof(g_signer_cert));
            memset(g_device_cert, 0, sizeof(g_device_cert));
        } else if (strncmp(line, "config ", 7) == 0) {
            if (hex_to_bytes(line + 7, g_image.config, sizeof(g_image.config)) < 0) { printf("error input config\n"); }
        } else if (strncmp(line, "slot ", 5) == 0) {
            char* rest;
            long slot = strtol(line + 5, &rest, 10);
            if (slot < 0 || slot > 15 || hex_to_bytes(rest + 1, g_image.slots[slot], slot_size((uint16_t)slot)) < 0) { printf("error input slot\n"); }
        } else if (strncmp(line, "genkey ", 7) == 0) {
            char* rest;
            long slot = strtol(line + 7, &rest, 10);
            if (slot < 0 || slot > 15 || hex_to_bytes(rest + 1, g_image.genkey[slot], 64) != 64) { printf("error input genkey\n"); }
        } else if (strncmp(line, "root ", 5) == 0) {
            if (hex_to_bytes(line + 5, g_root_key, 64) != 64) { printf("error input root\n"); }
        } else if (strncmp(line, "device_certdef ", 15) == 0) {
            if (apply_certdef_string(line + 15) != 0) { printf("error input certdef\n"); }
        } else if (strncmp(line, "signer_cert ", 12) == 0) {
            int n = hex_to_bytes(line + 12, g_signer_cert, CERT_MAX);
            if (n <= 0) { printf("error input signer_cert\n"); } else { g_signer_cert_size = (size_t)n; }
        } else if (strncmp(line, "device_cert ", 12) == 0) {
            int n = hex_to_bytes(line + 12, g_device_cert, CERT_MAX);
            if (n <= 0) { printf("error input device_cert\n"); } else { g_device_cert_size = (size_t)n; }
        } else if (strncmp(line, "end", 3) == 0) {
            run_case();
            printf("done\n");
            fflush(stdout);
        }
    }
    return 0;
}
