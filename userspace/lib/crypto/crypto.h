/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crypto.h - the cryptography of the e-purse, over OpenSSL 3.
 *
 * Algorithm id 00 (DES/3DES, ../shared/spec/epurse.md "Cryptography"):
 *   - card keys are 16-byte two-key 3DES keys (K1 || K2, EDE);
 *   - diversification: sub = 3DES_MK(f) || 3DES_MK(~f) for an 8-byte factor f;
 *   - session keys: 3DES-ECB of one 8-byte block under the card key;
 *   - MAC: single-DES CBC-MAC under an 8-byte key, IV zero, ISO 9797-1 padding method 2
 *     (0x80 then 0x00 to a multiple of 8, a full block when already aligned), left 4 bytes.
 *     Single DES is computed as EDE with K1 = K2 = K (identical result), so the legacy
 *     provider is not needed.
 * Algorithm id 04 (SM4), our own documented construction: session key = SM4-ECB of the
 * 8-byte diversification input padded with 8 bytes 0x00 under the 16-byte card key; MAC =
 * SM4 CBC-MAC, IV zero, padding method 2 to a multiple of 16, left 4 bytes.
 *
 * Contract for every function returning int: 0 on success, -1 on failure (OpenSSL error,
 * bad length); on failure output buffers hold no partial secret (they are wiped).
 */
#ifndef HCE_CRYPTO_H
#define HCE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define HCE_DES_BLOCK 8
#define HCE_SM4_BLOCK 16
#define HCE_KEY_LEN 16		/* card keys: 2-key 3DES or SM4 */
#define HCE_MAC_LEN 4

enum hce_alg {
	HCE_ALG_3DES = 0x00,
	HCE_ALG_SM4 = 0x04,
};

/* 3DES-EDE (two-key) ECB encryption of one block. */
int hce_des3_ecb(const uint8_t key[16], const uint8_t in[8], uint8_t out[8]);

/* Single DES ECB encryption of one block under an 8-byte key. */
int hce_des_ecb(const uint8_t key[8], const uint8_t in[8], uint8_t out[8]);

/* SM4 ECB encryption of one block. */
int hce_sm4_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/*
 * Key diversification: out = E_MK(f) || E_MK(~f). For HCE_ALG_3DES E is 3DES-EDE on 8-byte
 * f; for HCE_ALG_SM4 E is SM4 on (f || ~f) giving 16 bytes directly.
 */
int hce_diversify(enum hce_alg alg, const uint8_t mk[16], const uint8_t factor[8],
		  uint8_t out[16]);

/*
 * Session key from a card key and an 8-byte input (random||counter||...): 3DES-ECB -> 8-byte
 * key (alg 00), or SM4-ECB of (input || 00*8) -> 16-byte key (alg 04). *out_len receives 8 or 16.
 */
int hce_session_key(enum hce_alg alg, const uint8_t key[16], const uint8_t in[8],
		    uint8_t out[16], size_t *out_len);

/*
 * MAC (see header comment). alg 00: key_len must be 8 (single DES CBC-MAC) or 16 (3DES
 * retail MAC is not used by the purse and is rejected). alg 04: key_len 16.
 */
int hce_mac(enum hce_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data,
	    size_t len, uint8_t mac[HCE_MAC_LEN]);

/* TAC key for alg 00: DTK[0..7] XOR DTK[8..15] (8 bytes). For alg 04: the DTK itself. */
int hce_tac_key(enum hce_alg alg, const uint8_t dtk[16], uint8_t out[16], size_t *out_len);

/* Cryptographically secure random bytes (OpenSSL RAND_bytes). */
int hce_random(uint8_t *buf, size_t len);

/*
 * Constant-time comparison: returns 1 when the n bytes of a and b are equal, 0 otherwise.
 * Time depends only on n, never on the contents (CRYPTO_memcmp).
 */
int hce_ct_equal(const void *a, const void *b, size_t n);

/* Wipe a secret (OPENSSL_cleanse: not optimised away). */
void hce_wipe(void *p, size_t n);

#endif /* HCE_CRYPTO_H */
