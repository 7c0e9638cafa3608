/* SPDX-License-Identifier: GPL-2.0 */
/*
 * issuer.h - the I/O-free parts of hce-issuer (Documentation/issuer-protocol.md):
 * transaction records (JSON <-> struct, validation), clearing arithmetic (purchase TAC, load
 * MAC1/MAC2/TAC over lib/crypto), card-key sealing for a device (ECDH P-256 + HKDF-SHA256 +
 * AES-256-GCM), request signatures (ECDSA P-256 SHA-256) and small validators.
 *
 * Contract: int functions return 0 on success and -1 on failure (a reason in why[] where the
 * function takes one), unless documented otherwise. Secrets are wiped before returning.
 */
#ifndef HCE_ISSUER_H
#define HCE_ISSUER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "purse/keys.h"

#define HCE_ISS_SERIAL_LEN 10
#define HCE_ISS_WHY_MAX 128
#define HCE_ISS_MAX_RECORDS 1000
#define HCE_ISS_REQID_MAX 64
#define HCE_ISS_SEAL_ENTRY 20	/* kind, index, version, alg, key[16] */

enum hce_iss_tx_type {
	HCE_ISS_TX_LOAD = 0x02,
	HCE_ISS_TX_PURCHASE = 0x06,
	HCE_ISS_TX_CAPP = 0x09,
};

struct hce_iss_record {
	uint8_t serial[HCE_ISS_SERIAL_LEN];
	uint16_t counter;
	uint8_t type;
	uint32_t amount;
	uint8_t terminal[6];
	uint32_t ttc;
	uint8_t date[4];
	uint8_t time[3];
	uint8_t tac[4];
};

/* Parse and validate one RECORD object (strict: exactly the documented fields). */
int hce_iss_record_parse(const json_t *o, struct hce_iss_record *r, char why[HCE_ISS_WHY_MAX]);
/* A new JSON object for r (NULL when out of memory). */
json_t *hce_iss_record_json(const struct hce_iss_record *r);
/* 1 when a and b are the same transaction in every field, 0 otherwise. */
int hce_iss_record_same(const struct hce_iss_record *a, const struct hce_iss_record *b);

/* Diversification factor of a serial: its last 8 bytes (epurse.md). */
void hce_iss_factor(const uint8_t serial[HCE_ISS_SERIAL_LEN], uint8_t f[8]);

/* Purchase TAC (types 06/09): MAC under DTK[0..7]^DTK[8..15] of amount|type|terminal|TTC|date|time. */
int hce_iss_purchase_tac(const struct hce_iss_record *r, const uint8_t dtk[16], uint8_t tac[4]);
/* 1 when r's TAC is right for dtk, 0 when not (constant-time compare), -1 on error. */
int hce_iss_record_tac_ok(const struct hce_iss_record *r, const uint8_t dtk[16]);

/* The 16-byte answer of INITIALIZE FOR LOAD. */
struct hce_iss_load_init {
	uint32_t balance;
	uint16_t online_counter;
	uint8_t key_version, alg;
	uint8_t random[4];
	uint8_t mac1[4];
};
int hce_iss_load_init_parse(const uint8_t *d, size_t n, struct hce_iss_load_init *li);

/*
 * Load: check the card's MAC1 (old balance|amount|02|terminal) under SESLK =
 * 3DES_DLK(random|online counter|8000) and compute MAC2 (amount|02|terminal|date|time).
 * Returns 0 with mac2 filled, 1 when MAC1 is wrong (mac2 untouched), -1 on error.
 */
int hce_iss_load_mac2(const uint8_t dlk[16], const struct hce_iss_load_init *li,
		      uint32_t amount, const uint8_t terminal[6], const uint8_t date[4],
		      const uint8_t time[3], uint8_t mac2[4]);
/* Load TAC: new balance|online counter before increment|amount|02|terminal|date|time. */
int hce_iss_load_tac(const uint8_t dtk[16], uint32_t new_balance, uint16_t online_counter,
		     uint32_t amount, const uint8_t terminal[6], const uint8_t date[4],
		     const uint8_t time[3], uint8_t tac[4]);

/* Card keys <-> the sealed plaintext (20 bytes per key: kind 1 DPK/2 DLK/3 DTK, ...). */
int hce_iss_keys_encode(const struct hce_card_keys *k, uint8_t *out, size_t cap, size_t *len);
int hce_iss_keys_decode(const uint8_t *in, size_t len, struct hce_card_keys *k);

/*
 * Seal pt for the device whose P-256 public key is seal_pub (DER SubjectPublicKeyInfo):
 * returns a new SEALED JSON object (issuer-protocol.md), NULL on failure.
 */
json_t *hce_iss_seal(const uint8_t *seal_pub, size_t pub_len,
		     const uint8_t serial[HCE_ISS_SERIAL_LEN], const uint8_t *pt, size_t pt_len);
/* Open a SEALED object with the device's private key; *pt_len receives the length. */
int hce_iss_unseal(EVP_PKEY *priv, const uint8_t serial[HCE_ISS_SERIAL_LEN], const json_t *sealed,
		   uint8_t *pt, size_t cap, size_t *pt_len);

/* A P-256 public key from DER SPKI (NULL when it is not one). */
EVP_PKEY *hce_iss_pub_from_der(const uint8_t *der, size_t len);

/*
 * The signed string: "HCE1\n" method "\n" path "\n" key "\n" reqid "\n" time "\n"
 * hex(sha256(body)). Returns a malloc()ed NUL-terminated string or NULL.
 */
char *hce_iss_sign_string(const char *method, const char *path, const char *key,
			  const char *reqid, const char *time, const uint8_t *body, size_t len);
/* 1 valid, 0 invalid, -1 error. sig_b64 is standard base64. */
int hce_iss_verify(EVP_PKEY *pub, const char *str, const char *sig_b64);
/* Sign str with priv; returns a malloc()ed base64 signature or NULL (client side, tests). */
char *hce_iss_sign(EVP_PKEY *priv, const char *str);

/* 1 when s is a valid request id (1..64 of [A-Za-z0-9._-]). */
int hce_iss_reqid_ok(const char *s);
/* Decode exactly n bytes of lower/upper-case hex (no blanks). 0 or -1. */
int hce_iss_hex_exact(const char *s, uint8_t *out, size_t n);
/* Lower-case hex of n bytes into out (2n+1). */
void hce_iss_hex(const uint8_t *in, size_t n, char *out);
/* 1 when d is a valid BCD date YYYYMMDD / t a valid BCD hhmmss. */
int hce_iss_bcd_date_ok(const uint8_t d[4]);
int hce_iss_bcd_time_ok(const uint8_t t[3]);
/* BCD date/time of the Unix time t in UTC. */
void hce_iss_bcd_now(int64_t t, uint8_t date[4], uint8_t time[3]);

#endif /* HCE_ISSUER_H */
