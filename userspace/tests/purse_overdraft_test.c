// SPDX-License-Identifier: GPL-2.0
/*
 * purse_overdraft_test.c - spending the overdraft (Documentation/purse.md "Overdraft"):
 * a purchase is allowed while amount <= balance + overdraft limit, the balance then goes below
 * zero down to -limit and never further (9401); a load repays it first and is still bounded
 * by max_balance; the offline cap (6985) is checked before. Negative balances cross the wire
 * as the 4-byte two's complement: GET BALANCE (P1 00..03), the INITIALIZE answers, load MAC1
 * (old balance) and load TAC (new balance), all checked against values computed from the
 * block primitives (purse_testcard.h), not through the purse's glue. A card without overdraft
 * still stops at 0. Every case runs with algorithm 00 (3DES) and 04 (SM4).
 */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_testcard.h"
#include "terminal/psam.h"

#define OD_LIMIT 500u		/* 5.00 CNY */
#define OD_START 300		/* 3.00 CNY */

/* Re-personalise the test card with balance and limit, and reopen the purse over it. */
static int od_card(struct t_card *tc, uint8_t alg, int32_t balance, uint32_t limit)
{
	struct hce_card_data cd;

	if (t_card_open(tc, alg))
		return -1;
	hce_purse_close(tc->purse);
	tc->purse = NULL;
	t_card_data(&cd, alg);
	cd.balance = hce_balance_raw(balance);
	cd.overdraft_limit = limit;
	if (hce_store_personalise(tc->st, &cd, HCE_STORE_REPLACE))
		return -2;
	if (hce_purse_open(tc->st, &tc->keys, &tc->purse))
		return -3;
	hce_purse_set_rng(tc->purse, t_rng_fn, &tc->rng);
	tc->app = hce_purse_app(tc->purse);
	return t_select_ep(tc->app) == HCE_SW_OK ? 0 : -4;
}

static int32_t balance_of(struct t_card *tc)
{
	struct hce_purse_state s;

	if (hce_purse_state(tc->purse, &s))
		abort();
	return hce_balance_value(s.balance);
}

FIXTURE(od) {
	struct t_card tc;
};

FIXTURE_VARIANT(od) {
	uint8_t alg;
};

FIXTURE_VARIANT_ADD(od, des3) {
	.alg = HCE_ALG_3DES,
};

FIXTURE_VARIANT_ADD(od, sm4) {
	.alg = HCE_ALG_SM4,
};

FIXTURE_SETUP(od)
{
	ASSERT_EQ(0, od_card(&self->tc, variant->alg, OD_START, OD_LIMIT));
}

FIXTURE_TEARDOWN(od)
{
	t_card_close(&self->tc);
}

/* 3.00 with a 5.00 limit: fares of 2.00 take it to -5.00 exactly; the next fen is refused. */
TEST_F(od, purchases_into_the_overdraft_up_to_the_limit_then_9401)
{
	struct hce_purse_log_entry e;
	struct t_purchase pu;
	struct t_rsp r;
	int i;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 200, 10 + i, &pu))
			TH_LOG("fare %d", i + 1);
		/* INITIALIZE answered the balance before the fare, two's complement */
		EXPECT_EQ(hce_balance_raw(OD_START - 200 * i), pu.balance);
		EXPECT_EQ(OD_START - 200 * (i + 1), balance_of(&self->tc));
	}
	EXPECT_EQ(-500, balance_of(&self->tc));
	/* the fifth fare: 9401, nothing started, nothing written */
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 200, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x03, 1, 1, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_x(self->tc.app, "805401000F000000012026112521300500000000"
					  "08", &r));
	EXPECT_EQ(-500, balance_of(&self->tc));
	/* a zero fare (entry record) is still accepted at -limit */
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 0, 20, &pu));
	EXPECT_EQ(0xFFFFFE0Cu, pu.balance);
	EXPECT_EQ(-500, balance_of(&self->tc));
	/* the log records carry the limit (3 bytes) and the amount, as for any purchase */
	ASSERT_EQ(0, hce_purse_log(self->tc.purse, 2, &e));
	EXPECT_EQ(3, e.counter);
	EXPECT_EQ(OD_LIMIT, e.overdraft);
	EXPECT_EQ(200, e.amount);
	EXPECT_EQ(HCE_TX_PURCHASE, e.type);
}

/* balance + limit is the bound: 8.00 passes from 3.00, 8.01 does not. */
TEST_F(od, one_fen_beyond_balance_plus_limit_gives_9401)
{
	struct t_purchase pu;
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, OD_START + OD_LIMIT + 1, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 0x80000000u, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 0xFFFFFFFFu, &r));
	EXPECT_EQ(OD_START, balance_of(&self->tc));
	ASSERT_EQ(HCE_SW_OK,
		  t_purchase(self->tc.app, variant->alg, OD_START + OD_LIMIT, 1, &pu));
	EXPECT_EQ(-(int32_t)OD_LIMIT, balance_of(&self->tc));
}

/* GET BALANCE and the INITIALIZE answers give the two's complement; P1 01..03 the same. */
TEST_F(od, negative_balance_on_the_wire_is_twos_complement)
{
	static const char *const cmds[] = { "805C000204", "805C010204", "805C020204",
					     "805C030204", "805C000200" };
	struct t_purchase pu;
	struct t_rsp r;
	size_t i;

	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 650, 1, &pu));	/* -3.50 */
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, cmds[i], &r));
		ASSERT_EQ(4, r.len);
		EXPECT_EQ(0xFF, r.b[0]);
		EXPECT_EQ(0xFF, r.b[1]);
		EXPECT_EQ(0xFE, r.b[2]);
		EXPECT_EQ(0xA2, r.b[3]);	/* FFFFFEA2 = -350 */
	}
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
	ASSERT_EQ(15, r.len);
	EXPECT_EQ(0xFFFFFEA2u, hce_get_be32(r.b));
	EXPECT_EQ(1, hce_get_be16(r.b + 4));
	EXPECT_EQ(OD_LIMIT, (uint32_t)(r.b[6] << 16 | r.b[7] << 8 | r.b[8]));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 1, &r));
	ASSERT_EQ(16, r.len);
	EXPECT_EQ(0xFFFFFEA2u, hce_get_be32(r.b));
}

/*
 * A load at -5.00 of 10.00: INITIALIZE FOR LOAD answers FFFFFE0C and MAC1 over
 * FFFFFE0C | 000003E8 | 02 | terminal; CREDIT's TAC covers the new balance 000001F4.
 */
TEST_F(od, load_repays_the_overdraft_mac1_and_tac_known_answers)
{
	uint8_t sk[16], tk[16], d[32], mac1[4], mac2[4], tac[4];
	uint8_t c[17] = { 0x80, 0x52, 0x00, 0x00, 0x0B };
	struct hce_purse_log_entry e;
	struct t_purchase pu;
	struct t_rsp r;
	uint16_t online;

	ASSERT_EQ(HCE_SW_OK,
		  t_purchase(self->tc.app, variant->alg, OD_START + OD_LIMIT, 1, &pu));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 1000, &r));
	ASSERT_EQ(16, r.len);
	EXPECT_EQ(0xFFFFFE0Cu, hce_get_be32(r.b));
	online = hce_get_be16(r.b + 4);
	EXPECT_EQ(0, online);
	/* MAC1 from the primitives: old balance as the card holds it, two's complement */
	t_seslk(variant->alg, t_dlk1, r.b + 8, online, sk);
	d[0] = 0xFF; d[1] = 0xFF; d[2] = 0xFE; d[3] = 0x0C;
	hce_put_be32(d + 4, 1000);
	d[8] = HCE_TX_LOAD;
	memcpy(d + 9, t_terminal, 6);
	t_cbc_mac(variant->alg, sk, d, 15, mac1);
	EXPECT_EQ(0, memcmp(mac1, r.b + 12, 4));
	/*
	 * 3DES known answers, computed outside this code base with the openssl command line
	 * (des-ede ECB for SESLK = 8471DA0470EFA3E8 from random A4A5A6A7, des-cbc IV 0 with
	 * padding 80 00.. for the MACs): MAC1 over FFFFFE0C 000003E8 02 102030405060.
	 */
	if (variant->alg == HCE_ALG_3DES) {
		EXPECT_EQ(0, memcmp(r.b + 8, "\xA4\xA5\xA6\xA7", 4));
		EXPECT_EQ(0, memcmp(r.b + 12, "\x73\x8A\xAD\x01", 4));
	}
	/* MAC2 (terminal side) and CREDIT */
	hce_put_be32(d, 1000);
	d[4] = HCE_TX_LOAD;
	memcpy(d + 5, t_terminal, 6);
	memcpy(d + 11, t_date, 4);
	memcpy(d + 15, t_time, 3);
	t_cbc_mac(variant->alg, sk, d, 18, mac2);
	memcpy(c + 5, t_date, 4);
	memcpy(c + 9, t_time, 3);
	memcpy(c + 12, mac2, 4);
	c[16] = 0x04;
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	ASSERT_EQ(4, r.len);
	/* TAC: new balance 000001F4 | online counter before | amount | 02 | terminal | date | time */
	t_tac_key(variant->alg, tk);
	d[0] = 0x00; d[1] = 0x00; d[2] = 0x01; d[3] = 0xF4;
	hce_put_be16(d + 4, online);
	hce_put_be32(d + 6, 1000);
	d[10] = HCE_TX_LOAD;
	memcpy(d + 11, t_terminal, 6);
	memcpy(d + 17, t_date, 4);
	memcpy(d + 21, t_time, 3);
	t_cbc_mac(variant->alg, tk, d, 24, tac);
	EXPECT_EQ(0, memcmp(tac, r.b, 4));
	/* openssl: TAC key 8888888888888888 (DTK halves xored), des-cbc over the input above */
	if (variant->alg == HCE_ALG_3DES) {
		EXPECT_EQ(0, memcmp(mac2, "\x7F\x64\x3A\x56", 4)) TH_LOG("MAC2 %02X%02X%02X%02X",
			mac2[0], mac2[1], mac2[2], mac2[3]);
		EXPECT_EQ(0, memcmp(r.b, "\x46\x80\x2C\xED", 4));
	}
	EXPECT_EQ(500, balance_of(&self->tc));
	ASSERT_EQ(0, hce_purse_log(self->tc.purse, 1, &e));
	EXPECT_EQ(HCE_TX_LOAD, e.type);
	EXPECT_EQ(1000, e.amount);
	EXPECT_EQ(OD_LIMIT, e.overdraft);
}

/* A load smaller than the overdraft in use leaves the balance negative (new balance FFFFFF9C). */
TEST_F(od, partial_repayment_stays_negative_and_tac_covers_it)
{
	uint8_t sk[16], tk[16], d[32], mac2[4], tac[4];
	uint8_t c[17] = { 0x80, 0x52, 0x00, 0x00, 0x0B };
	struct t_purchase pu;
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK,
		  t_purchase(self->tc.app, variant->alg, OD_START + OD_LIMIT, 1, &pu));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 400, &r));
	t_seslk(variant->alg, t_dlk1, r.b + 8, hce_get_be16(r.b + 4), sk);
	hce_put_be32(d, 400);
	d[4] = HCE_TX_LOAD;
	memcpy(d + 5, t_terminal, 6);
	memcpy(d + 11, t_date, 4);
	memcpy(d + 15, t_time, 3);
	t_cbc_mac(variant->alg, sk, d, 18, mac2);
	memcpy(c + 5, t_date, 4);
	memcpy(c + 9, t_time, 3);
	memcpy(c + 12, mac2, 4);
	c[16] = 0x04;
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	t_tac_key(variant->alg, tk);
	d[0] = 0xFF; d[1] = 0xFF; d[2] = 0xFF; d[3] = 0x9C;	/* -100 */
	hce_put_be16(d + 4, 0);
	hce_put_be32(d + 6, 400);
	d[10] = HCE_TX_LOAD;
	memcpy(d + 11, t_terminal, 6);
	memcpy(d + 17, t_date, 4);
	memcpy(d + 21, t_time, 3);
	t_cbc_mac(variant->alg, tk, d, 24, tac);
	EXPECT_EQ(0, memcmp(tac, r.b, 4));
	EXPECT_EQ(-100, balance_of(&self->tc));
	/* only the repaid room is spendable again */
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 401, &r));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 400, 2, &pu));
	EXPECT_EQ(-500, balance_of(&self->tc));
}

/*
 * The terminal side as it is (lib/terminal/psam.c, unsigned arithmetic on the 4 bytes): MAC1
 * over the old balance FFFFFE0C verifies, MAC2 is accepted by the card, and the card's TAC
 * verifies against old + amount mod 2^32 = 000001F4. Purchases in the overdraft: MAC2 and TAC
 * carry no balance and verify as always.
 */
TEST_F(od, terminal_psam_verifies_negative_balance_load_and_overdraft_purchase)
{
	uint8_t c[17] = { 0x80, 0x52, 0x00, 0x00, 0x0B }, mac2[4], dc[21], mac1[4];
	struct hce_psam_session ps;
	struct t_rsp r;
	uint32_t old;
	uint16_t online, ctc;

	/* a purchase of 7.00 from 3.00 through the PSAM functions: to -4.00 */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 700, &r));
	ctc = hce_get_be16(r.b + 4);
	ASSERT_EQ(0, hce_psam_purchase_session(&ps, &self->tc.keys.dpk[0], &self->tc.keys.dtk,
					       r.b + 11, ctc, 0x42));
	ASSERT_EQ(0, hce_psam_purchase_mac1(&ps, 700, HCE_TX_PURCHASE, t_terminal, t_date, t_time,
					    mac1));
	t_debit_apdu(0x42, mac1, dc);
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, dc, sizeof(dc), &r));
	EXPECT_EQ(1, hce_psam_verify_purchase_mac2(&ps, 700, r.b + 4));
	EXPECT_EQ(1, hce_psam_verify_purchase_tac(&ps, 700, HCE_TX_PURCHASE, t_terminal, 0x42,
						  t_date, t_time, r.b));
	hce_psam_session_wipe(&ps);
	EXPECT_EQ(-400, balance_of(&self->tc));
	/* a load of 10.00 from -4.00 */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 1000, &r));
	old = hce_get_be32(r.b);
	EXPECT_EQ(0xFFFFFE70u, old);
	online = hce_get_be16(r.b + 4);
	ASSERT_EQ(0, hce_psam_load_session(&ps, &self->tc.keys.dlk[0], &self->tc.keys.dtk,
					   r.b + 8, online));
	EXPECT_EQ(1, hce_psam_verify_load_mac1(&ps, old, 1000, t_terminal, r.b + 12));
	EXPECT_EQ(0, hce_psam_verify_load_mac1(&ps, 400, 1000, t_terminal, r.b + 12));
	ASSERT_EQ(0, hce_psam_load_mac2(&ps, 1000, t_terminal, t_date, t_time, mac2));
	memcpy(c + 5, t_date, 4);
	memcpy(c + 9, t_time, 3);
	memcpy(c + 12, mac2, 4);
	c[16] = 0x04;
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(1, hce_psam_verify_load_tac(&ps, old + 1000, online, 1000, t_terminal, t_date,
					      t_time, r.b));
	EXPECT_EQ(600, old + 1000);
	hce_psam_session_wipe(&ps);
	EXPECT_EQ(600, balance_of(&self->tc));
}

/* max_balance still bounds a load that starts in the overdraft. */
TEST_F(od, load_from_negative_is_bounded_by_max_balance)
{
	struct t_purchase pu;
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK,
		  t_purchase(self->tc.app, variant->alg, OD_START + OD_LIMIT, 1, &pu));
	EXPECT_EQ(HCE_SW_INSUFFICIENT,
		  t_init(self->tc.app, 0x00, 1, T_MAX_BALANCE + OD_LIMIT + 1, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x00, 1, 0xFFFFFFFFu, &r));
	EXPECT_EQ(HCE_SW_OK, t_load(self->tc.app, variant->alg, T_MAX_BALANCE + OD_LIMIT, NULL));
	EXPECT_EQ((int32_t)T_MAX_BALANCE, balance_of(&self->tc));
}

/* The offline cap is checked first (6985), independently of the overdraft (9401). */
TEST_F(od, offline_cap_is_checked_before_the_overdraft)
{
	struct t_purchase pu;
	struct t_rsp r;

	ASSERT_EQ(0, hce_store_set_offline(self->tc.st, 600, 10, 0, true));
	/* within balance + limit, beyond the cap */
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 700, &r));
	/* beyond both: the cap answers */
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 900, &r));
	/* within the cap, into the overdraft */
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 600, 1, &pu));
	EXPECT_EQ(-300, balance_of(&self->tc));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 1, &r));
	/* a wider cap: then the overdraft bound answers */
	ASSERT_EQ(0, hce_store_set_offline(self->tc.st, 100000, 10, 0, true));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 201, &r));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 200, 2, &pu));
	EXPECT_EQ(-500, balance_of(&self->tc));
}

/* A card without overdraft stops at 0 exactly as before. */
TEST_F(od, no_overdraft_card_refuses_below_zero)
{
	struct t_purchase pu;
	struct t_rsp r;

	t_card_close(&self->tc);
	ASSERT_EQ(0, od_card(&self->tc, variant->alg, OD_START, 0));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, OD_START + 1, &r));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, OD_START, &r));
	EXPECT_EQ(0, r.b[6] | r.b[7] | r.b[8]);		/* limit 0 reported */
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, OD_START, 1, &pu));
	EXPECT_EQ(0, balance_of(&self->tc));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 1, &r));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "805C000204", &r));
	EXPECT_EQ(0, hce_get_be32(r.b));
}

/* Personalised in the overdraft (a token for an account at -2.00): spendable room is 3.00. */
TEST_F(od, card_personalised_negative_spends_only_the_rest_of_the_limit)
{
	struct t_purchase pu;
	struct t_rsp r;

	t_card_close(&self->tc);
	ASSERT_EQ(0, od_card(&self->tc, variant->alg, -200, OD_LIMIT));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "805C000204", &r));
	EXPECT_EQ(0xFFFFFF38u, hce_get_be32(r.b));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 301, &r));
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 300, 1, &pu));
	EXPECT_EQ(-500, balance_of(&self->tc));
}

TEST_HARNESS_MAIN
