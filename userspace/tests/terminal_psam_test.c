// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_psam_test.c - the PSAM role's cryptography against known answers.
 *
 * Vectors for the sample key file (profiles/sample-psam.conf) and the sample card serial
 * 03 10 99 00 00 00 00 00 00 01, computed independently of this code (Python
 * "cryptography" TripleDES, CBC-MAC written out by hand; the first diversified half checked
 * with `openssl enc -des-ede-ecb -nopad`). Inputs: purchase random 11223344, CTC 5,
 * TTC 00010203, amount 150 fen, terminal 112233445566, 2026-11-25 12:34:56; load random
 * A1B2C3D4, online counter 7, old balance 10000, amount 5000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "codec/hex.h"
#include "terminal/psam.h"

static const uint8_t serial[10] = { 0x03, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t tid[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
static const uint8_t date[4] = { 0x20, 0x26, 0x11, 0x25 };
static const uint8_t tm[3] = { 0x12, 0x34, 0x56 };
static const uint8_t rnd[4] = { 0x11, 0x22, 0x33, 0x44 };
static const uint8_t rndl[4] = { 0xA1, 0xB2, 0xC3, 0xD4 };

static const char psam_text[] =
	"[issuer]\nid = 99 99 00 00 00 00 00 01\n"
	"[terminal]\nid = 11 22 33 44 55 66\n"
	"[purchase-key 1]\nalg = 00\nversion = 01\n"
	"master = 01 23 45 67 89 AB CD EF FE DC BA 98 76 54 32 10\n"
	"[load-key 1]\nalg = 00\nversion = 01\n"
	"master = 10 32 54 76 98 BA DC FE EF CD AB 89 67 45 23 01\n"
	"[tac-key]\nalg = 00\nversion = 01\n"
	"master = 89 AB CD EF 01 23 45 67 76 54 32 10 FE DC BA 98\n";

static void hexeq(struct __test_metadata *_metadata, const uint8_t *got, size_t n,
		  const char *want)
{
	char text[65];

	ASSERT_EQ(0, hce_hex_encode(got, n, text, sizeof(text)));
	EXPECT_STREQ(want, text);
}

FIXTURE(psam) {
	struct hce_psam psam;
	struct hce_card_keys ck;
	struct hce_psam_session s;
};

FIXTURE_SETUP(psam)
{
	char err[256];

	ASSERT_EQ(0, hce_psam_parse(&self->psam, "test.conf", psam_text, strlen(psam_text), err,
				    sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, hce_psam_card_keys(&self->psam, serial, &self->ck));
}

FIXTURE_TEARDOWN(psam)
{
	hce_psam_session_wipe(&self->s);
	hce_card_keys_wipe(&self->ck);
	hce_psam_wipe(&self->psam);
}

TEST_F(psam, key_file_sample_parses_issuer_terminal_and_indexes)
{
	EXPECT_TRUE(self->psam.has_issuer);
	EXPECT_TRUE(self->psam.has_terminal_id);
	EXPECT_EQ(0, memcmp(self->psam.terminal_id, tid, 6));
	EXPECT_EQ(1, self->psam.purchase_index);
	EXPECT_EQ(1, self->psam.load_index);
	ASSERT_NE(NULL, hce_psam_purchase_key(&self->psam, 1));
	EXPECT_EQ(NULL, hce_psam_purchase_key(&self->psam, 2));
}

TEST_F(psam, diversify_card_keys_from_serial_last_8_bytes)
{
	ASSERT_TRUE(self->ck.dpk[0].present);
	EXPECT_EQ(1, self->ck.dpk[0].index);
	hexeq(_metadata, self->ck.dpk[0].key, 16, "965728C416A14760308B5441D1BB7FAD");
	hexeq(_metadata, self->ck.dlk[0].key, 16, "D11216083B66CF0B45659A69A3A8CAEA");
	hexeq(_metadata, self->ck.dtk.key, 16, "3A333EEE29FCBE5FD7833E4FE6264D40");
	EXPECT_FALSE(self->ck.dpk[1].present);
}

TEST_F(psam, purchase_session_key_mac1_mac2_tac_known_answers)
{
	uint8_t mac[4];

	ASSERT_EQ(0, hce_psam_purchase_session(&self->s, &self->ck.dpk[0], &self->ck.dtk, rnd, 5,
					       0x00010203));
	ASSERT_EQ((size_t)8, self->s.ses_len);
	hexeq(_metadata, self->s.ses, 8, "43E6D3099FDA500C");
	ASSERT_EQ(0, hce_psam_purchase_mac1(&self->s, 150, HCE_TX_PURCHASE, tid, date, tm, mac));
	hexeq(_metadata, mac, 4, "B985D64B");
	ASSERT_EQ(0, hce_psam_purchase_mac1(&self->s, 150, HCE_TX_CAPP, tid, date, tm, mac));
	hexeq(_metadata, mac, 4, "78692AFF");
	ASSERT_EQ(0, hce_psam_purchase_tac(&self->s, 150, HCE_TX_PURCHASE, tid, 0x00010203, date,
					   tm, mac));
	hexeq(_metadata, mac, 4, "9C456843");
}

TEST_F(psam, debit_mac2_and_tac_verify_and_reject_one_bit_flips)
{
	uint8_t mac2[4] = { 0x43, 0x96, 0x17, 0xA1 }, tac[4] = { 0x9C, 0x45, 0x68, 0x43 };
	int i;

	ASSERT_EQ(0, hce_psam_purchase_session(&self->s, &self->ck.dpk[0], &self->ck.dtk, rnd, 5,
					       0x00010203));
	EXPECT_EQ(1, hce_psam_verify_purchase_mac2(&self->s, 150, mac2));
	EXPECT_EQ(0, hce_psam_verify_purchase_mac2(&self->s, 151, mac2));
	EXPECT_EQ(1, hce_psam_verify_purchase_tac(&self->s, 150, HCE_TX_PURCHASE, tid, 0x00010203,
						  date, tm, tac));
	/* TAC binds the TTC and type */
	EXPECT_EQ(0, hce_psam_verify_purchase_tac(&self->s, 150, HCE_TX_PURCHASE, tid, 0x00010204,
						  date, tm, tac));
	EXPECT_EQ(0, hce_psam_verify_purchase_tac(&self->s, 150, HCE_TX_CAPP, tid, 0x00010203,
						  date, tm, tac));
	for (i = 0; i < 32; i++) {
		mac2[i / 8] ^= (uint8_t)(1 << (i % 8));
		EXPECT_EQ(0, hce_psam_verify_purchase_mac2(&self->s, 150, mac2));
		mac2[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
}

TEST_F(psam, load_session_mac1_mac2_tac_known_answers)
{
	uint8_t mac1[4] = { 0xBF, 0x88, 0x5B, 0xC4 }, tac[4] = { 0x5A, 0xAB, 0x03, 0x29 };
	uint8_t mac2[4];

	ASSERT_EQ(0, hce_psam_load_session(&self->s, &self->ck.dlk[0], &self->ck.dtk, rndl, 7));
	hexeq(_metadata, self->s.ses, 8, "3A6C455578065981");
	EXPECT_EQ(1, hce_psam_verify_load_mac1(&self->s, 10000, 5000, tid, mac1));
	EXPECT_EQ(0, hce_psam_verify_load_mac1(&self->s, 10001, 5000, tid, mac1));
	ASSERT_EQ(0, hce_psam_load_mac2(&self->s, 5000, tid, date, tm, mac2));
	hexeq(_metadata, mac2, 4, "76236A22");
	EXPECT_EQ(1, hce_psam_verify_load_tac(&self->s, 15000, 7, 5000, tid, date, tm, tac));
	EXPECT_EQ(0, hce_psam_verify_load_tac(&self->s, 15000, 8, 5000, tid, date, tm, tac));
}

TEST(key_file_errors_name_line_and_never_the_value)
{
	static const char *bad[] = {
		"[purchase-key 1]\nalg = 00\nversion = 01\nmaster = 0011\n[tac-key]\nalg = 00\n"
		"version = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n",
		"[purchase-key 1]\nalg = 07\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n"
		"[tac-key]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n",
		"[purchase-key 1]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n",
		"[purchase-key 1]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n"
		"colour = red\n[tac-key]\nalg = 00\nversion = 01\n"
		"master = 00112233445566778899AABBCCDDEEFF\n",
		"[refund-key 1]\nalg = 00\n",
		"[purchase-key 0]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n"
		"[tac-key]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n",
	};
	struct hce_psam psam;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, hce_psam_parse(&psam, "k.conf", bad[i], strlen(bad[i]), err,
					     sizeof(err))) TH_LOG("case %zu", i);
		EXPECT_EQ(0, strncmp(err, "k.conf:", 7)) TH_LOG("case %zu: %s", i, err);
		EXPECT_EQ(NULL, strstr(err, "00112233")) TH_LOG("case %zu: %s", i, err);
		EXPECT_FALSE(psam.purchase[0].present);
	}
}

TEST(key_file_profiles_sample_psam_loads)
{
	struct hce_psam psam;
	char err[256], path[512];
	const char *top = getenv("HCE_TOP");

	snprintf(path, sizeof(path), "%s/profiles/sample-psam.conf", top ? top : "../..");
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "profiles/sample-psam.conf");
	ASSERT_EQ(0, hce_psam_load(&psam, path, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(psam.tac.present);
	EXPECT_EQ(4, hce_psam_purchase_key(&psam, 2)->alg);
	hce_psam_wipe(&psam);
}

TEST_HARNESS_MAIN
