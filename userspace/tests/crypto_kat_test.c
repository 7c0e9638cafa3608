// SPDX-License-Identifier: GPL-2.0
/*
 * crypto_kat_test.c - lib/crypto against known answers (crypto_kat_vectors.h).
 *
 * The expected values come from the openssl command line (tests/host.d/12-crypto-openssl
 * recomputes them) and, for DES and SM4, from the published standard vectors. The purse
 * constructions (session keys, MAC1/MAC2/TAC of purchase and load) are assembled here from the
 * words of ../shared/spec/epurse.md "Cryptography", so a wrong byte order or a wrong input in
 * the spec reading shows up as a mismatch.
 */
#include <stdio.h>
#include <string.h>

/* The harness defines non-static helpers without prototypes and non-literal formats. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "codec/buf.h"
#include "codec/hex.h"
#include "crypto/crypto.h"

struct kat_block {
	const char *name, *key, *in, *out;
};

struct kat_div {
	const char *name, *alg, *mk, *factor, *out;
};

struct kat_mac {
	const char *name, *alg, *key, *data, *mac;
};

struct kat_purchase {
	const char *name, *alg, *type, *dpk, *dtk, *random, *ctc, *ttc, *amount, *terminal,
		*date, *time, *sespk, *mac1, *mac2, *tac;
};

struct kat_load {
	const char *name, *alg, *dlk, *dtk, *random, *online, *old_balance, *amount, *terminal,
		*date, *time, *seslk, *mac1, *mac2, *tac;
};

static const struct kat_block kat_des[] = {
#define KAT_DES(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_block kat_des3[] = {
#define KAT_DES3(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_block kat_sm4[] = {
#define KAT_SM4(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_div kat_div[] = {
#define KAT_DIVERSIFY(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_mac kat_mac[] = {
#define KAT_MAC(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_purchase kat_purchase[] = {
#define KAT_PURCHASE(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_load kat_load[] = {
#define KAT_LOAD(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Decode a vector field ("-" is empty) into out; returns its length, or -1 for bad hex. */
static ssize_t hx(const char *field, uint8_t *out, size_t cap)
{
	if (!strcmp(field, "-"))
		return 0;
	return hce_hex_decode(field, out, cap);
}

#define HEX(field, out) hx((field), (out), sizeof(out))

/* Compare bytes and name the vector and the value on mismatch. */
#define EXPECT_BYTES(want_hex, got, got_len, what, vname)                                   \
	do {                                                                                \
		char __g[2 * 64 + 1];                                                       \
		ASSERT_EQ(0, hce_hex_encode((got), (got_len), __g, sizeof(__g)));           \
		EXPECT_STREQ((want_hex), __g) TH_LOG("%s of vector %s", (what), (vname));   \
	} while (0)

TEST(des_ecb_known_answers)
{
	uint8_t key[8], in[8], out[8];
	size_t i;

	for (i = 0; i < N(kat_des); i++) {
		ASSERT_EQ(8, HEX(kat_des[i].key, key));
		ASSERT_EQ(8, HEX(kat_des[i].in, in));
		ASSERT_EQ(0, hce_des_ecb(key, in, out));
		EXPECT_BYTES(kat_des[i].out, out, 8, "DES-ECB", kat_des[i].name);
	}
}

TEST(des3_ede_ecb_known_answers)
{
	uint8_t key[16], in[8], out[8];
	size_t i;

	for (i = 0; i < N(kat_des3); i++) {
		ASSERT_EQ(16, HEX(kat_des3[i].key, key));
		ASSERT_EQ(8, HEX(kat_des3[i].in, in));
		ASSERT_EQ(0, hce_des3_ecb(key, in, out));
		EXPECT_BYTES(kat_des3[i].out, out, 8, "3DES-ECB", kat_des3[i].name);
	}
}

TEST(sm4_ecb_known_answers)
{
	uint8_t key[16], in[16], out[16];
	size_t i;

	for (i = 0; i < N(kat_sm4); i++) {
		ASSERT_EQ(16, HEX(kat_sm4[i].key, key));
		ASSERT_EQ(16, HEX(kat_sm4[i].in, in));
		ASSERT_EQ(0, hce_sm4_ecb(key, in, out));
		EXPECT_BYTES(kat_sm4[i].out, out, 16, "SM4-ECB", kat_sm4[i].name);
	}
}

TEST(diversify_mk_factor_and_complement)
{
	uint8_t alg[1], mk[16], f[8], out[16];
	size_t i;

	for (i = 0; i < N(kat_div); i++) {
		ASSERT_EQ(1, HEX(kat_div[i].alg, alg));
		ASSERT_EQ(16, HEX(kat_div[i].mk, mk));
		ASSERT_EQ(8, HEX(kat_div[i].factor, f));
		ASSERT_EQ(0, hce_diversify((enum hce_alg)alg[0], mk, f, out));
		EXPECT_BYTES(kat_div[i].out, out, 16, "card key", kat_div[i].name);
	}
}

TEST(mac_iso9797_alg1_padding_method2)
{
	uint8_t alg[1], key[16], data[64], mac[HCE_MAC_LEN];
	size_t i, kl, dl;

	for (i = 0; i < N(kat_mac); i++) {
		ASSERT_EQ(1, HEX(kat_mac[i].alg, alg));
		ASSERT_LE(0, HEX(kat_mac[i].key, key));
		ASSERT_LE(0, HEX(kat_mac[i].data, data));
		kl = (size_t)HEX(kat_mac[i].key, key);
		dl = (size_t)HEX(kat_mac[i].data, data);
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], key, kl, dl ? data : NULL, dl, mac));
		EXPECT_BYTES(kat_mac[i].mac, mac, HCE_MAC_LEN, "MAC", kat_mac[i].name);
	}
}

/* SESPK = E_DPK(random(4) || CTC(2) || TTC last 2 bytes); MAC1, MAC2, TAC per the spec. */
TEST(purchase_sespk_mac1_mac2_tac)
{
	uint8_t alg[1], type[1], dpk[16], dtk[16], rnd[4], ctc[2], ttc[4], amount[4], term[6];
	uint8_t date[4], tim[3], in[8], sk[16], tk[16], mac[4], buf[64];
	size_t i, skl, tkl;

	for (i = 0; i < N(kat_purchase); i++) {
		const struct kat_purchase *v = &kat_purchase[i];
		struct hce_wr w;

		ASSERT_EQ(1, HEX(v->alg, alg));
		ASSERT_EQ(1, HEX(v->type, type));
		ASSERT_EQ(16, HEX(v->dpk, dpk));
		ASSERT_EQ(16, HEX(v->dtk, dtk));
		ASSERT_EQ(4, HEX(v->random, rnd));
		ASSERT_EQ(2, HEX(v->ctc, ctc));
		ASSERT_EQ(4, HEX(v->ttc, ttc));
		ASSERT_EQ(4, HEX(v->amount, amount));
		ASSERT_EQ(6, HEX(v->terminal, term));
		ASSERT_EQ(4, HEX(v->date, date));
		ASSERT_EQ(3, HEX(v->time, tim));

		memcpy(in, rnd, 4);
		memcpy(in + 4, ctc, 2);
		memcpy(in + 6, ttc + 2, 2);
		ASSERT_EQ(0, hce_session_key((enum hce_alg)alg[0], dpk, in, sk, &skl));
		ASSERT_EQ(alg[0] == HCE_ALG_3DES ? 8u : 16u, skl);
		EXPECT_BYTES(v->sespk, sk, skl, "SESPK", v->name);

		w = hce_wr_init(buf, sizeof(buf));
		hce_wr_bytes(&w, amount, 4);
		hce_wr_u8(&w, type[0]);
		hce_wr_bytes(&w, term, 6);
		hce_wr_bytes(&w, date, 4);
		hce_wr_bytes(&w, tim, 3);
		ASSERT_TRUE(hce_wr_ok(&w));
		ASSERT_EQ(18u, w.len);
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], sk, skl, buf, w.len, mac));
		EXPECT_BYTES(v->mac1, mac, 4, "MAC1", v->name);

		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], sk, skl, amount, 4, mac));
		EXPECT_BYTES(v->mac2, mac, 4, "MAC2", v->name);

		w = hce_wr_init(buf, sizeof(buf));
		hce_wr_bytes(&w, amount, 4);
		hce_wr_u8(&w, type[0]);
		hce_wr_bytes(&w, term, 6);
		hce_wr_bytes(&w, ttc, 4);
		hce_wr_bytes(&w, date, 4);
		hce_wr_bytes(&w, tim, 3);
		ASSERT_TRUE(hce_wr_ok(&w));
		ASSERT_EQ(22u, w.len);
		ASSERT_EQ(0, hce_tac_key((enum hce_alg)alg[0], dtk, tk, &tkl));
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], tk, tkl, buf, w.len, mac));
		EXPECT_BYTES(v->tac, mac, 4, "TAC", v->name);
		hce_wipe(sk, sizeof(sk));
		hce_wipe(tk, sizeof(tk));
	}
}

/* SESLK = E_DLK(random(4) || online counter(2) || 8000); MAC1, MAC2, TAC per the spec. */
TEST(load_seslk_mac1_mac2_tac)
{
	uint8_t alg[1], dlk[16], dtk[16], rnd[4], onl[2], old[4], amount[4], term[6], date[4];
	uint8_t tim[3], in[8], sk[16], tk[16], mac[4], buf[64];
	size_t i, skl, tkl;

	for (i = 0; i < N(kat_load); i++) {
		const struct kat_load *v = &kat_load[i];
		struct hce_wr w;

		ASSERT_EQ(1, HEX(v->alg, alg));
		ASSERT_EQ(16, HEX(v->dlk, dlk));
		ASSERT_EQ(16, HEX(v->dtk, dtk));
		ASSERT_EQ(4, HEX(v->random, rnd));
		ASSERT_EQ(2, HEX(v->online, onl));
		ASSERT_EQ(4, HEX(v->old_balance, old));
		ASSERT_EQ(4, HEX(v->amount, amount));
		ASSERT_EQ(6, HEX(v->terminal, term));
		ASSERT_EQ(4, HEX(v->date, date));
		ASSERT_EQ(3, HEX(v->time, tim));

		memcpy(in, rnd, 4);
		memcpy(in + 4, onl, 2);
		in[6] = 0x80;
		in[7] = 0x00;
		ASSERT_EQ(0, hce_session_key((enum hce_alg)alg[0], dlk, in, sk, &skl));
		EXPECT_BYTES(v->seslk, sk, skl, "SESLK", v->name);

		w = hce_wr_init(buf, sizeof(buf));
		hce_wr_bytes(&w, old, 4);
		hce_wr_bytes(&w, amount, 4);
		hce_wr_u8(&w, 0x02);
		hce_wr_bytes(&w, term, 6);
		ASSERT_TRUE(hce_wr_ok(&w));
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], sk, skl, buf, w.len, mac));
		EXPECT_BYTES(v->mac1, mac, 4, "MAC1", v->name);

		w = hce_wr_init(buf, sizeof(buf));
		hce_wr_bytes(&w, amount, 4);
		hce_wr_u8(&w, 0x02);
		hce_wr_bytes(&w, term, 6);
		hce_wr_bytes(&w, date, 4);
		hce_wr_bytes(&w, tim, 3);
		ASSERT_TRUE(hce_wr_ok(&w));
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], sk, skl, buf, w.len, mac));
		EXPECT_BYTES(v->mac2, mac, 4, "MAC2", v->name);

		w = hce_wr_init(buf, sizeof(buf));
		hce_wr_be32(&w, hce_get_be32(old) + hce_get_be32(amount));
		hce_wr_bytes(&w, onl, 2);
		hce_wr_bytes(&w, amount, 4);
		hce_wr_u8(&w, 0x02);
		hce_wr_bytes(&w, term, 6);
		hce_wr_bytes(&w, date, 4);
		hce_wr_bytes(&w, tim, 3);
		ASSERT_TRUE(hce_wr_ok(&w));
		ASSERT_EQ(24u, w.len);
		ASSERT_EQ(0, hce_tac_key((enum hce_alg)alg[0], dtk, tk, &tkl));
		ASSERT_EQ(0, hce_mac((enum hce_alg)alg[0], tk, tkl, buf, w.len, mac));
		EXPECT_BYTES(v->tac, mac, 4, "TAC", v->name);
		hce_wipe(sk, sizeof(sk));
		hce_wipe(tk, sizeof(tk));
	}
}

/* The TAC key of alg 00 is DTK left half XOR right half, 8 bytes; alg 04 uses the DTK. */
TEST(tac_key_dtk_halves_xor)
{
	const uint8_t dtk[16] = { 0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78,
				  0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0 };
	uint8_t out[16];
	size_t n = 0;

	ASSERT_EQ(0, hce_tac_key(HCE_ALG_3DES, dtk, out, &n));
	ASSERT_EQ(8u, n);
	EXPECT_BYTES("8888888888888888", out, n, "TAC key", "halves");
	ASSERT_EQ(0, hce_tac_key(HCE_ALG_SM4, dtk, out, &n));
	ASSERT_EQ(16u, n);
	EXPECT_EQ(0, memcmp(out, dtk, 16));
	EXPECT_EQ(-1, hce_tac_key((enum hce_alg)0x01, dtk, out, &n));
}

/* Single DES must equal 3DES-EDE with K1 = K2 for every key (the identity crypto.c relies on). */
TEST(des_equals_ede_with_equal_halves)
{
	uint8_t k[16], in[8], a[8], b[8];
	int i;

	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, hce_random(k, 8));
		ASSERT_EQ(0, hce_random(in, 8));
		memcpy(k + 8, k, 8);
		ASSERT_EQ(0, hce_des_ecb(k, in, a));
		ASSERT_EQ(0, hce_des3_ecb(k, in, b));
		ASSERT_EQ(0, memcmp(a, b, 8));
	}
}

/* MAC: unsupported (alg, key length) pairs are refused, not computed with another cipher. */
TEST(mac_rejects_wrong_key_length_and_alg)
{
	uint8_t key[16] = { 0 }, data[8] = { 0 }, mac[4];

	EXPECT_EQ(-1, hce_mac(HCE_ALG_3DES, key, 16, data, 8, mac));
	EXPECT_EQ(-1, hce_mac(HCE_ALG_3DES, key, 7, data, 8, mac));
	EXPECT_EQ(-1, hce_mac(HCE_ALG_SM4, key, 8, data, 8, mac));
	EXPECT_EQ(-1, hce_mac((enum hce_alg)0x02, key, 8, data, 8, mac));
	EXPECT_EQ(-1, hce_mac(HCE_ALG_3DES, key, 8, NULL, 8, mac));
}

/* Unknown algorithm ids fail and leave no partial key behind. */
TEST(diversify_and_session_key_reject_unknown_alg)
{
	uint8_t mk[16] = { 1 }, f[8] = { 2 }, out[16];
	size_t n;
	int i;

	memset(out, 0xAA, sizeof(out));
	EXPECT_EQ(-1, hce_diversify((enum hce_alg)0x05, mk, f, out));
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0, out[i]);
	EXPECT_EQ(-1, hce_session_key((enum hce_alg)0x05, mk, f, out, &n));
}

/* A MAC over data changes when any single bit of data changes (the whole input is covered). */
TEST(purchase_mac1_covers_every_input_bit)
{
	uint8_t key[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	uint8_t data[18], ref[4], mac[4];
	size_t bit;

	memset(data, 0x5A, sizeof(data));
	ASSERT_EQ(0, hce_mac(HCE_ALG_3DES, key, 8, data, sizeof(data), ref));
	for (bit = 0; bit < 8 * sizeof(data); bit++) {
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ASSERT_EQ(0, hce_mac(HCE_ALG_3DES, key, 8, data, sizeof(data), mac));
		EXPECT_NE(0, memcmp(ref, mac, 4)) TH_LOG("bit %zu not covered", bit);
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

TEST(ct_equal_contract)
{
	uint8_t a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	EXPECT_EQ(1, hce_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	EXPECT_EQ(0, hce_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	b[0] ^= 0x80;
	EXPECT_EQ(0, hce_ct_equal(a, b, sizeof(a)));
	EXPECT_EQ(1, hce_ct_equal(a, b, 0));
}

TEST_HARNESS_MAIN
