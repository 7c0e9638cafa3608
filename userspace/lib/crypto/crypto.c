// SPDX-License-Identifier: GPL-2.0
/* crypto.c - purse cryptography over OpenSSL 3 EVP; see crypto.h for the constructions. */
#include "crypto/crypto.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* One ECB block with no padding; cipher chosen by the caller. */
static int ecb_block(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *in,
		     uint8_t *out, int block)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0, rc = -1;

	if (!ctx)
		return -1;
	if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) != 1)
		goto out;
	if (EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		goto out;
	if (EVP_EncryptUpdate(ctx, out, &len, in, block) != 1 || len != block)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, out + len, &fin) != 1 || fin != 0)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc)
		OPENSSL_cleanse(out, (size_t)block);
	return rc;
}

int hce_des3_ecb(const uint8_t key[16], const uint8_t in[8], uint8_t out[8])
{
	return ecb_block(EVP_des_ede_ecb(), key, in, out, HCE_DES_BLOCK);
}

int hce_des_ecb(const uint8_t key[8], const uint8_t in[8], uint8_t out[8])
{
	uint8_t k2[16];
	int rc;

	/* EDE with K1 = K2 = K equals single DES under K. */
	memcpy(k2, key, 8);
	memcpy(k2 + 8, key, 8);
	rc = hce_des3_ecb(k2, in, out);
	OPENSSL_cleanse(k2, sizeof(k2));
	return rc;
}

int hce_sm4_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	return ecb_block(EVP_sm4_ecb(), key, in, out, HCE_SM4_BLOCK);
}

int hce_diversify(enum hce_alg alg, const uint8_t mk[16], const uint8_t factor[8],
		  uint8_t out[16])
{
	uint8_t inv[16];
	int i, rc;

	for (i = 0; i < 8; i++)
		inv[i] = (uint8_t)~factor[i];
	if (alg == HCE_ALG_3DES) {
		rc = hce_des3_ecb(mk, factor, out);
		if (!rc)
			rc = hce_des3_ecb(mk, inv, out + 8);
	} else if (alg == HCE_ALG_SM4) {
		memmove(inv + 8, inv, 8);
		memcpy(inv, factor, 8);
		rc = hce_sm4_ecb(mk, inv, out);
	} else {
		rc = -1;
	}
	if (rc)
		OPENSSL_cleanse(out, 16);
	return rc;
}

int hce_session_key(enum hce_alg alg, const uint8_t key[16], const uint8_t in[8],
		    uint8_t out[16], size_t *out_len)
{
	uint8_t block[16] = { 0 };

	if (alg == HCE_ALG_3DES) {
		*out_len = 8;
		return hce_des3_ecb(key, in, out);
	}
	if (alg == HCE_ALG_SM4) {
		*out_len = 16;
		memcpy(block, in, 8);
		return hce_sm4_ecb(key, block, out);
	}
	return -1;
}

int hce_mac(enum hce_alg alg, const uint8_t *key, size_t key_len, const uint8_t *data,
	    size_t len, uint8_t mac[HCE_MAC_LEN])
{
	uint8_t chain[16] = { 0 }, block[16];
	size_t bs, off = 0, i;
	int rc = -1, last = 0;

	if (alg == HCE_ALG_3DES && key_len == 8)
		bs = HCE_DES_BLOCK;
	else if (alg == HCE_ALG_SM4 && key_len == 16)
		bs = HCE_SM4_BLOCK;
	else
		return -1;
	if (!data && len)
		return -1;

	/* CBC over data || 80 || 00..: the padding always adds at least one byte. */
	while (!last) {
		size_t n = len - off < bs ? len - off : bs;

		memset(block, 0, bs);
		if (n)
			memcpy(block, data + off, n);
		off += n;
		if (n < bs) {
			block[n] = 0x80;
			last = 1;
		}
		for (i = 0; i < bs; i++)
			block[i] ^= chain[i];
		if (bs == HCE_DES_BLOCK)
			rc = hce_des_ecb(key, block, chain);
		else
			rc = hce_sm4_ecb(key, block, chain);
		if (rc)
			goto out;
	}
	memcpy(mac, chain, HCE_MAC_LEN);
out:
	OPENSSL_cleanse(chain, sizeof(chain));
	OPENSSL_cleanse(block, sizeof(block));
	return rc;
}

int hce_tac_key(enum hce_alg alg, const uint8_t dtk[16], uint8_t out[16], size_t *out_len)
{
	int i;

	if (alg == HCE_ALG_3DES) {
		for (i = 0; i < 8; i++)
			out[i] = dtk[i] ^ dtk[i + 8];
		*out_len = 8;
		return 0;
	}
	if (alg == HCE_ALG_SM4) {
		memcpy(out, dtk, 16);
		*out_len = 16;
		return 0;
	}
	return -1;
}

int hce_random(uint8_t *buf, size_t len)
{
	if (len > (size_t)0x7fffffff)
		return -1;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int hce_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void hce_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}
