// SPDX-License-Identifier: GPL-2.0
/*
 * purse_value_test.c - value commands of the e-purse, named by command and spec clause:
 * GET BALANCE, purchase, load, compound purchase, GET TRANSACTION PROVE, GET CHALLENGE,
 * sequencing (6901), MAC failures and lock (9302/9303), malformed APDUs. Every case runs with
 * algorithm 00 (3DES) and 04 (SM4, our construction). Expected MACs/TACs come from block
 * primitives in purse_testcard.h, not from the purse's glue.
 */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_testcard.h"

FIXTURE(card) {
	struct t_card tc;
};

FIXTURE_VARIANT(card) {
	uint8_t alg;
};

FIXTURE_VARIANT_ADD(card, des3) {
	.alg = HCE_ALG_3DES,
};

FIXTURE_VARIANT_ADD(card, sm4) {
	.alg = HCE_ALG_SM4,
};

FIXTURE_SETUP(card)
{
	ASSERT_EQ(0, t_card_open(&self->tc, variant->alg));
	ASSERT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
}

FIXTURE_TEARDOWN(card)
{
	t_card_close(&self->tc);
}

static struct hce_purse_state state_of(struct t_card *tc)
{
	struct hce_purse_state s;

	memset(&s, 0xEE, sizeof(s));
	if (hce_purse_state(tc->purse, &s))
		abort();
	return s;
}

/* A full snapshot to prove "unchanged": state + every log record + proofs. */
struct snap {
	struct hce_purse_state s;
	uint8_t log[HCE_LOG_RECORDS][HCE_LOG_RECORD_LEN];
	int log_rc[HCE_LOG_RECORDS];
	uint8_t capp[HCE_CAPP_RECORDS][HCE_CAPP_RECORD_LEN];
	int capp_rc[HCE_CAPP_RECORDS];
};

static void snap_take(struct t_card *tc, struct snap *sn)
{
	unsigned int i;

	memset(sn, 0, sizeof(*sn));
	sn->s = state_of(tc);
	for (i = 0; i < HCE_LOG_RECORDS; i++)
		sn->log_rc[i] = hce_store_log(tc->st, i + 1, sn->log[i]);
	for (i = 0; i < HCE_CAPP_RECORDS; i++)
		sn->capp_rc[i] = hce_store_capp(tc->st, i + 1, sn->capp[i]);
}

static int snap_same(struct t_card *tc, const struct snap *a)
{
	struct snap b;

	snap_take(tc, &b);
	return !memcmp(a, &b, sizeof(b));
}

/* ---- GET BALANCE ---- */

TEST_F(card, get_balance_p1_00_to_03_answer_the_same_balance)
{
	static const char *const cmds[] = { "805C000204", "805C010204", "805C020204",
					     "805C030204", "805C000200" };
	struct t_rsp r;
	size_t i;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, cmds[i], &r));
		ASSERT_EQ(4, r.len);
		EXPECT_EQ(T_BALANCE, hce_get_be32(r.b));
	}
}

TEST_F(card, get_balance_wrong_p1p2_le_and_selection)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "805C000104", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "805C040204", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "805C000202", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "805C0002020000", &r));
	hce_app_session_end(self->tc.app);
	EXPECT_EQ(HCE_SW_CONDITIONS, t_x(self->tc.app, "805C000204", &r));
}

/* ---- purchase ---- */

TEST_F(card, initialize_for_purchase_answer_layout)
{
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 150, &r));
	ASSERT_EQ(15, r.len);
	EXPECT_EQ(T_BALANCE, hce_get_be32(r.b));
	EXPECT_EQ(0, hce_get_be16(r.b + 4));			/* CTC */
	EXPECT_EQ(T_OVERDRAFT, (uint32_t)(r.b[6] << 16 | r.b[7] << 8 | r.b[8]));
	EXPECT_EQ(0x01, r.b[9]);				/* key version */
	EXPECT_EQ(variant->alg, r.b[10]);			/* algorithm id */
	EXPECT_EQ(0xA0, r.b[11]);				/* deterministic test RNG */
	EXPECT_EQ(0xA3, r.b[14]);
	/* key index 2 reports its own version */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 2, 150, &r));
	EXPECT_EQ(0x02, r.b[9]);
}

TEST_F(card, debit_for_purchase_good_mac1_debits_and_answers_tac_mac2)
{
	struct t_purchase pu;
	uint8_t sk[16], tk[16], d[32], mac2[4], tac[4];
	struct hce_purse_log_entry e;
	struct hce_purse_state s;
	uint32_t ttc = 0x00012345;

	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 150, ttc, &pu));
	/* MAC2 = MAC_SESPK(amount) */
	t_sespk(variant->alg, t_dpk1, pu.random, pu.ctc, ttc, sk);
	hce_put_be32(d, 150);
	t_cbc_mac(variant->alg, sk, d, 4, mac2);
	EXPECT_EQ(0, memcmp(mac2, pu.mac2, 4));
	/* TAC = MAC_TACKEY(amount | 06 | terminal | TTC | date | time) */
	t_tac_key(variant->alg, tk);
	t_cbc_mac(variant->alg, tk, d, t_purchase_tac_in(150, HCE_TX_PURCHASE, ttc, d), tac);
	EXPECT_EQ(0, memcmp(tac, pu.tac, 4));
	s = state_of(&self->tc);
	EXPECT_EQ(T_BALANCE - 150, s.balance);
	EXPECT_EQ(1, s.ctc);
	EXPECT_EQ(0, s.online_counter);
	ASSERT_EQ(0, hce_purse_log(self->tc.purse, 1, &e));
	EXPECT_EQ(0, e.counter);
	EXPECT_EQ(150, e.amount);
	EXPECT_EQ(HCE_TX_PURCHASE, e.type);
	EXPECT_EQ(T_OVERDRAFT, e.overdraft);
	EXPECT_EQ(0, memcmp(e.terminal, t_terminal, 6));
	EXPECT_EQ(0, memcmp(e.date, t_date, 4));
	EXPECT_EQ(0, memcmp(e.time, t_time, 3));
	/* a second purchase uses CTC 1 */
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 50, ttc + 1, &pu));
	EXPECT_EQ(1, pu.ctc);
	EXPECT_EQ(T_BALANCE - 150, pu.balance);
	EXPECT_EQ(2, state_of(&self->tc).ctc);
}

TEST_F(card, debit_for_purchase_mac1_wrong_gives_9302_and_leaves_purse)
{
	uint8_t c[21], bad[4] = { 1, 2, 3, 4 };
	struct t_rsp r;
	struct snap sn;

	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 150, &r));
	snap_take(&self->tc, &sn);
	t_debit_apdu(1, bad, c);
	EXPECT_EQ(HCE_SW_MAC_INVALID, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(0, r.len);
	sn.s.mac_failures = 1;	/* the only change: the persisted failure count */
	EXPECT_TRUE(snap_same(&self->tc, &sn));
	/* the pending operation is gone */
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, sizeof(c), &r));
}

TEST_F(card, debit_for_purchase_mac1_of_other_amount_gives_9302)
{
	uint8_t sk[16], d[32], mac1[4], c[21];
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 150, &r));
	t_sespk(variant->alg, t_dpk1, r.b + 11, 0, 7, sk);
	t_cbc_mac(variant->alg, sk, d, t_purchase_mac1_in(1, HCE_TX_PURCHASE, d), mac1);
	t_debit_apdu(7, mac1, c);
	EXPECT_EQ(HCE_SW_MAC_INVALID, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(T_BALANCE, state_of(&self->tc).balance);
}

TEST_F(card, debit_without_initialize_gives_6901)
{
	uint8_t c[21], m[4] = { 0 };
	struct t_rsp r;

	t_debit_apdu(1, m, c);
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(0, state_of(&self->tc).mac_failures);
}

TEST_F(card, debit_after_other_command_select_or_session_end_gives_6901)
{
	static const char *const between[] = { "805C000204", "00A4040008A000000632010105",
					       "0084000004", "00B0950000", NULL };
	uint8_t sk[16], d[32], mac1[4], c[21];
	struct t_rsp r;
	int i;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
		ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 10, &r));
		t_sespk(variant->alg, t_dpk1, r.b + 11, hce_get_be16(r.b + 4), 1, sk);
		t_cbc_mac(variant->alg, sk, d, t_purchase_mac1_in(10, HCE_TX_PURCHASE, d), mac1);
		t_debit_apdu(1, mac1, c);
		if (between[i])
			t_x(self->tc.app, between[i], &r);
		else
			hce_app_session_end(self->tc.app);
		if (!between[i])
			ASSERT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
		EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, sizeof(c), &r));
	}
	EXPECT_EQ(T_BALANCE, state_of(&self->tc).balance);
	EXPECT_EQ(0, state_of(&self->tc).ctc);
}

TEST_F(card, initialize_for_purchase_amount_above_balance_gives_9401)
{
	struct t_rsp r;
	struct t_purchase pu;

	/* beyond balance + overdraft limit (purse_overdraft_test.c has the overdraft itself) */
	EXPECT_EQ(HCE_SW_INSUFFICIENT,
		  t_init(self->tc.app, 0x01, 1, T_BALANCE + T_OVERDRAFT + 1, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 0xFFFFFFFF, &r));
	/* exactly balance + limit takes it to -limit, never below (no wrap) */
	ASSERT_EQ(HCE_SW_OK,
		  t_purchase(self->tc.app, variant->alg, T_BALANCE + T_OVERDRAFT, 1, &pu));
	EXPECT_EQ(-(int32_t)T_OVERDRAFT, hce_balance_value(state_of(&self->tc).balance));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x01, 1, 1, &r));
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 0, 2, &pu));
	EXPECT_EQ(-(int32_t)T_OVERDRAFT, hce_balance_value(state_of(&self->tc).balance));
}

TEST_F(card, initialize_unknown_key_index_gives_9403)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_KEY_INDEX, t_init(self->tc.app, 0x01, 3, 1, &r));
	EXPECT_EQ(HCE_SW_KEY_INDEX, t_init(self->tc.app, 0x00, 2, 1, &r));
	EXPECT_EQ(HCE_SW_KEY_INDEX, t_init(self->tc.app, 0x03, 0, 1, &r));
}

TEST_F(card, initialize_wrong_length_and_p1p2)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_WRONG_LENGTH,
		  t_x(self->tc.app, "805001020A0100000001102030405060", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH,
		  t_x(self->tc.app, "805001020B01000000011020304050600F00", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH,
		  t_x(self->tc.app, "805001020B0100000001102030405060" "08", &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "805001020B0100000001102030405060", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2,
		  t_x(self->tc.app, "805002020B01000000011020304050600F", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2,
		  t_x(self->tc.app, "805001010B01000000011020304050600F", &r));
}

TEST_F(card, initialize_before_selection_gives_6985)
{
	struct t_rsp r;

	hce_app_session_end(self->tc.app);
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000023F00", &r));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000021001", &r));
	EXPECT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
}

TEST_F(card, purchase_ctc_at_maximum_gives_9402)
{
	struct hce_card_data cd;
	struct t_rsp r;

	t_card_data(&cd, variant->alg);
	cd.ctc = 0xFFFF;
	cd.online_counter = 0xFFFF;
	ASSERT_EQ(0, hce_store_personalise(self->tc.st, &cd, HCE_STORE_REPLACE));
	EXPECT_EQ(HCE_SW_COUNTER_MAX, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_COUNTER_MAX, t_init(self->tc.app, 0x00, 1, 1, &r));
}

/* ---- load ---- */

TEST_F(card, initialize_for_load_mac1_follows_spec)
{
	uint8_t sk[16], d[16], mac1[4];
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 5000, &r));
	ASSERT_EQ(16, r.len);
	EXPECT_EQ(T_BALANCE, hce_get_be32(r.b));
	EXPECT_EQ(0, hce_get_be16(r.b + 4));
	EXPECT_EQ(0x01, r.b[6]);
	EXPECT_EQ(variant->alg, r.b[7]);
	/* MAC1 = MAC_SESLK(old balance | amount | 02 | terminal) */
	t_seslk(variant->alg, t_dlk1, r.b + 8, 0, sk);
	hce_put_be32(d, T_BALANCE);
	hce_put_be32(d + 4, 5000);
	d[8] = 0x02;
	memcpy(d + 9, t_terminal, 6);
	t_cbc_mac(variant->alg, sk, d, 15, mac1);
	EXPECT_EQ(0, memcmp(mac1, r.b + 12, 4));
}

TEST_F(card, credit_for_load_good_mac2_loads_and_answers_tac)
{
	uint8_t tac[4], tk[16], d[32], exp[4];
	struct hce_purse_log_entry e;
	struct hce_purse_state s;

	ASSERT_EQ(HCE_SW_OK, t_load(self->tc.app, variant->alg, 5000, tac));
	/* TAC = MAC(new balance | online counter before | amount | 02 | terminal | date | time) */
	hce_put_be32(d, T_BALANCE + 5000);
	hce_put_be16(d + 4, 0);
	hce_put_be32(d + 6, 5000);
	d[10] = 0x02;
	memcpy(d + 11, t_terminal, 6);
	memcpy(d + 17, t_date, 4);
	memcpy(d + 21, t_time, 3);
	t_tac_key(variant->alg, tk);
	t_cbc_mac(variant->alg, tk, d, 24, exp);
	EXPECT_EQ(0, memcmp(exp, tac, 4));
	s = state_of(&self->tc);
	EXPECT_EQ(T_BALANCE + 5000, s.balance);
	EXPECT_EQ(1, s.online_counter);
	EXPECT_EQ(0, s.ctc);
	ASSERT_EQ(0, hce_purse_log(self->tc.purse, 1, &e));
	EXPECT_EQ(HCE_TX_LOAD, e.type);
	EXPECT_EQ(0, e.counter);
	EXPECT_EQ(5000, e.amount);
}

TEST_F(card, credit_for_load_mac2_wrong_gives_9302_and_leaves_purse)
{
	struct t_rsp r;
	struct snap sn;

	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 5000, &r));
	snap_take(&self->tc, &sn);
	EXPECT_EQ(HCE_SW_MAC_INVALID,
		  t_x(self->tc.app, "805200000B2026112521300501020304" "04", &r));
	sn.s.mac_failures = 1;
	EXPECT_TRUE(snap_same(&self->tc, &sn));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED,
		  t_x(self->tc.app, "805200000B2026112521300501020304" "04", &r));
}

TEST_F(card, credit_without_initialize_for_load_gives_6901)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_NOT_ALLOWED,
		  t_x(self->tc.app, "805200000B2026112521300501020304" "04", &r));
	/* INIT FOR PURCHASE then CREDIT: wrong second half */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED,
		  t_x(self->tc.app, "805200000B2026112521300501020304" "04", &r));
}

TEST_F(card, initialize_for_load_beyond_max_balance_gives_9401)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_INSUFFICIENT,
		  t_init(self->tc.app, 0x00, 1, T_MAX_BALANCE - T_BALANCE + 1, &r));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x00, 1, 0xFFFFFFFF, &r));
	EXPECT_EQ(HCE_SW_OK, t_load(self->tc.app, variant->alg, T_MAX_BALANCE - T_BALANCE, NULL));
	EXPECT_EQ(T_MAX_BALANCE, state_of(&self->tc).balance);
	EXPECT_EQ(HCE_SW_INSUFFICIENT, t_init(self->tc.app, 0x00, 1, 1, &r));
}

/* ---- MAC-failure lock ---- */

TEST_F(card, mac_failures_lock_application_after_limit_then_9303)
{
	uint8_t c[21], bad[4] = { 0 };
	struct hce_purse *p2;
	struct t_purchase pu;
	struct t_rsp r;
	int i;

	t_debit_apdu(1, bad, c);
	/* a good MAC in between resets the count */
	for (i = 0; i < HCE_PURSE_MAC_FAIL_LIMIT - 1; i++) {
		ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
		ASSERT_EQ(HCE_SW_MAC_INVALID, t_xb(self->tc.app, c, sizeof(c), &r));
	}
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 1, 1, &pu));
	EXPECT_EQ(0, state_of(&self->tc).mac_failures);
	for (i = 0; i < HCE_PURSE_MAC_FAIL_LIMIT; i++) {
		ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
		ASSERT_EQ(HCE_SW_MAC_INVALID, t_xb(self->tc.app, c, sizeof(c), &r));
	}
	EXPECT_EQ(1, hce_purse_locked(self->tc.purse));
	EXPECT_EQ(HCE_SW_APP_LOCKED, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_APP_LOCKED, t_init(self->tc.app, 0x00, 1, 1, &r));
	EXPECT_EQ(HCE_SW_APP_LOCKED, t_init(self->tc.app, 0x03, 1, 1, &r));
	/* reads still work */
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "805C000204", &r));
	EXPECT_EQ(T_BALANCE - 1, hce_get_be32(r.b));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B201C400", &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "805A0006020000" "08", &r));
	/* the lock is persisted: a new purse over the same store is locked too */
	ASSERT_EQ(0, hce_purse_open(self->tc.st, &self->tc.keys, &p2));
	EXPECT_EQ(1, hce_purse_locked(p2));
	hce_purse_close(p2);
	/* the issuer's unlock */
	ASSERT_EQ(0, hce_store_reset_mac_failures(self->tc.st));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 1, 2, &pu));
}

TEST_F(card, load_mac2_failures_count_towards_the_lock)
{
	struct t_rsp r;
	int i;

	for (i = 0; i < HCE_PURSE_MAC_FAIL_LIMIT; i++) {
		ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x00, 1, 1, &r));
		ASSERT_EQ(HCE_SW_MAC_INVALID,
			  t_x(self->tc.app, "805200000B2026112521300501020304" "04", &r));
	}
	EXPECT_EQ(HCE_SW_APP_LOCKED, t_init(self->tc.app, 0x00, 1, 1, &r));
}

/* ---- compound (CAPP) purchase ---- */

static void capp_apdu(uint8_t p1, uint8_t p2, uint8_t fill, uint8_t *c, size_t *n)
{
	c[0] = 0x80; c[1] = 0xDC; c[2] = p1; c[3] = p2; c[4] = HCE_CAPP_RECORD_LEN;
	memset(c + 5, fill, HCE_CAPP_RECORD_LEN);
	c[5] = p2 == 0xF0 ? p1 : 0x02;
	*n = 5 + HCE_CAPP_RECORD_LEN;
}

TEST_F(card, compound_purchase_init_capp_update_debit_type_09)
{
	uint8_t c[64], rec[HCE_CAPP_RECORD_LEN], tk[16], d[32], tac[4];
	struct hce_purse_log_entry e;
	struct t_purchase pu;
	struct t_rsp r;
	size_t n;

	capp_apdu(0x02, 0xF4, 0x5A, c, &n);	/* record number 2 */
	ASSERT_EQ(HCE_SW_OK, t_purchase_capp(self->tc.app, variant->alg, 200, 9, c, n, &pu));
	t_tac_key(variant->alg, tk);
	t_cbc_mac(variant->alg, tk, d, t_purchase_tac_in(200, HCE_TX_CAPP, 9, d), tac);
	EXPECT_EQ(0, memcmp(tac, pu.tac, 4));
	EXPECT_EQ(T_BALANCE - 200, state_of(&self->tc).balance);
	ASSERT_EQ(0, hce_purse_log(self->tc.purse, 1, &e));
	EXPECT_EQ(HCE_TX_CAPP, e.type);
	ASSERT_EQ(0, hce_store_capp(self->tc.st, 2, rec));
	EXPECT_EQ(0, memcmp(rec, c + 5, HCE_CAPP_RECORD_LEN));
	/* READ RECORD of EF 001E shows it */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B202F400", &r));
	ASSERT_EQ(HCE_CAPP_RECORD_LEN, r.len);
	EXPECT_EQ(0, memcmp(r.b, c + 5, HCE_CAPP_RECORD_LEN));
	/* proof answers for type 09, not 06 */
	EXPECT_EQ(HCE_SW_NO_PROOF, t_x(self->tc.app, "805A0006020000" "08", &r));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "805A0009020000" "08", &r));
	EXPECT_EQ(0, memcmp(r.b, pu.mac2, 4));
	EXPECT_EQ(0, memcmp(r.b + 4, pu.tac, 4));
}

TEST_F(card, compound_purchase_update_by_record_id_p2_f0)
{
	uint8_t c[64], rec[HCE_CAPP_RECORD_LEN];
	struct t_purchase pu;
	struct t_rsp r;
	size_t n;

	capp_apdu(0x01, 0xF0, 0x77, c, &n);	/* record with id 01 = record 1 */
	ASSERT_EQ(HCE_SW_OK, t_purchase_capp(self->tc.app, variant->alg, 1, 9, c, n, &pu));
	ASSERT_EQ(0, hce_store_capp(self->tc.st, 1, rec));
	EXPECT_EQ(0x77, rec[1]);
	/* unknown id: 6A83; id byte not matching P1: 6A80 */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	capp_apdu(0x09, 0xF0, 0x77, c, &n);
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_xb(self->tc.app, c, n, &r));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	capp_apdu(0x01, 0xF0, 0x77, c, &n);
	c[5] = 0x02;
	EXPECT_EQ(HCE_SW_WRONG_DATA, t_xb(self->tc.app, c, n, &r));
}

TEST_F(card, compound_purchase_sequencing_gives_6901)
{
	uint8_t c[64], dc[21], m[4] = { 0 };
	struct t_rsp r;
	size_t n;

	capp_apdu(0x02, 0xF4, 0x11, c, &n);
	t_debit_apdu(1, m, dc);
	/* UPDATE without INIT CAPP */
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, n, &r));
	/* UPDATE after INIT FOR (plain) PURCHASE */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, n, &r));
	/* DEBIT directly after INIT CAPP (no UPDATE) */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, dc, sizeof(dc), &r));
	/* two UPDATEs */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, n, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, n, &r));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, dc, sizeof(dc), &r));
	/* wrong length / P2 cancel as well */
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	c[4] = 0x2F;
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_xb(self->tc.app, c, n - 1, &r));
	c[4] = HCE_CAPP_RECORD_LEN;
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, n, &r));
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	c[3] = 0xC4;
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_xb(self->tc.app, c, n, &r));
	EXPECT_EQ(T_BALANCE, state_of(&self->tc).balance);
	EXPECT_EQ(0, state_of(&self->tc).mac_failures);
}

TEST_F(card, compound_purchase_bad_mac_leaves_capp_record)
{
	uint8_t c[64], dc[21], m[4] = { 0 }, before[HCE_CAPP_RECORD_LEN], after[48];
	struct t_rsp r;
	size_t n;

	ASSERT_EQ(0, hce_store_capp(self->tc.st, 2, before));
	capp_apdu(0x02, 0xF4, 0x66, c, &n);
	t_debit_apdu(1, m, dc);
	ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x03, 1, 1, &r));
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, n, &r));
	EXPECT_EQ(HCE_SW_MAC_INVALID, t_xb(self->tc.app, dc, sizeof(dc), &r));
	ASSERT_EQ(0, hce_store_capp(self->tc.st, 2, after));
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
}

/* ---- GET TRANSACTION PROVE ---- */

TEST_F(card, get_transaction_prove_answers_mac2_tac_for_committed_ctc)
{
	struct t_purchase pu, pu2;
	uint8_t c[8] = { 0x80, 0x5A, 0x00, 0x06, 0x02, 0, 0, 0x08 };
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_NO_PROOF, t_xb(self->tc.app, c, sizeof(c), &r));
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 10, 1, &pu));
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 20, 2, &pu2));
	/* counter = the CTC INITIALIZE FOR PURCHASE returned; answer MAC2 then TAC */
	hce_put_be16(c + 5, pu.ctc);
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	ASSERT_EQ(8, r.len);
	EXPECT_EQ(0, memcmp(r.b, pu.mac2, 4));
	EXPECT_EQ(0, memcmp(r.b + 4, pu.tac, 4));
	hce_put_be16(c + 5, pu2.ctc);
	ASSERT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(0, memcmp(r.b, pu2.mac2, 4));
	/* CTC + 1 (not yet used) and a wrong type: 9406 */
	hce_put_be16(c + 5, pu2.ctc + 1);
	EXPECT_EQ(HCE_SW_NO_PROOF, t_xb(self->tc.app, c, sizeof(c), &r));
	hce_put_be16(c + 5, pu2.ctc);
	c[3] = 0x09;
	EXPECT_EQ(HCE_SW_NO_PROOF, t_xb(self->tc.app, c, sizeof(c), &r));
	c[3] = 0x02;
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "805A00060100" "08", &r));
}

TEST_F(card, get_transaction_prove_keeps_the_last_10_purchases)
{
	struct t_purchase pu;
	uint8_t c[8] = { 0x80, 0x5A, 0x00, 0x06, 0x02, 0, 0, 0x08 };
	struct t_rsp r;
	int i;

	for (i = 0; i < 12; i++)
		ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 1, (uint32_t)i, &pu));
	hce_put_be16(c + 5, 1);
	EXPECT_EQ(HCE_SW_NO_PROOF, t_xb(self->tc.app, c, sizeof(c), &r));
	hce_put_be16(c + 5, 2);
	EXPECT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	hce_put_be16(c + 5, 11);
	EXPECT_EQ(HCE_SW_OK, t_xb(self->tc.app, c, sizeof(c), &r));
	EXPECT_EQ(0, memcmp(r.b, pu.mac2, 4));
}

/* ---- GET CHALLENGE, locked vault, misc ---- */

TEST_F(card, get_challenge_4_and_8_bytes_else_6700)
{
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "0084000004", &r));
	EXPECT_EQ(4, r.len);
	EXPECT_EQ(0xA0, r.b[0]);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "0084000008", &r));
	EXPECT_EQ(8, r.len);
	EXPECT_EQ(0xA4, r.b[0]);
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "0084000005", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "00840000", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "0084010004", &r));
	self->tc.rng.fail = 1;
	EXPECT_EQ(HCE_SW_UNKNOWN, t_x(self->tc.app, "0084000004", &r));
	EXPECT_EQ(HCE_SW_UNKNOWN, t_init(self->tc.app, 0x01, 1, 1, &r));
}

TEST_F(card, without_keys_value_commands_give_6985_reads_work)
{
	struct t_rsp r;

	ASSERT_EQ(0, hce_purse_set_keys(self->tc.purse, NULL));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->tc.app, 0x00, 1, 1, &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "805C000204", &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0950000", &r));
	ASSERT_EQ(0, hce_purse_set_keys(self->tc.purse, &self->tc.keys));
	EXPECT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
}

TEST_F(card, purse_open_rejects_keys_not_matching_the_store)
{
	struct hce_card_keys k;
	struct hce_purse *p;

	t_card_keys(&k, variant->alg);
	k.dpk[1].version = 0x09;
	EXPECT_EQ(-EKEYREJECTED, hce_purse_open(self->tc.st, &k, &p));
	EXPECT_EQ(NULL, p);
	t_card_keys(&k, variant->alg);
	k.dtk.present = false;
	EXPECT_EQ(-EKEYREJECTED, hce_purse_set_keys(self->tc.purse, &k));
	hce_card_keys_wipe(&k);
}

TEST_F(card, unknown_ins_gives_6d00_unknown_cla_gives_6e00)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_INS_NOT_SUPPORTED, t_x(self->tc.app, "00CA9F7F00", &r));
	EXPECT_EQ(HCE_SW_INS_NOT_SUPPORTED, t_x(self->tc.app, "80CA9F7F00", &r));
	EXPECT_EQ(HCE_SW_CLA_NOT_SUPPORTED, t_x(self->tc.app, "905C000204", &r));
	EXPECT_EQ(HCE_SW_CLA_NOT_SUPPORTED, t_x(self->tc.app, "005C000204", &r));
	EXPECT_EQ(HCE_SW_CLA_NOT_SUPPORTED, t_x(self->tc.app, "80A4040008A000000632010105", &r));
}

TEST_F(card, malformed_apdus_get_a_status_word_and_leave_purse_untouched)
{
	static const char *const bad[] = {
		"", "80", "8050", "805001", "805001020B", "805001020B01", "805001020C0100000001",
		"80540100", "8054010010000000012026112521300500000000",
		"805200000B20261125213005010203", "805A0006", "805A00060300000008",
		"00A40400", "00A404000AA000000632010105", "00B2010C", "00B0950000FF",
		"80DC02F43000", "00A4040000000000", "0084000004000000",
	};
	struct t_rsp r;
	struct snap sn;
	size_t i;
	uint8_t c[21];
	struct t_purchase pu;

	ASSERT_EQ(HCE_SW_OK, t_purchase(self->tc.app, variant->alg, 5, 1, &pu));
	snap_take(&self->tc, &sn);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint16_t sw;

		/* each one also cancels a pending purchase */
		ASSERT_EQ(HCE_SW_OK, t_init(self->tc.app, 0x01, 1, 1, &r));
		sw = t_x(self->tc.app, bad[i], &r);
		EXPECT_NE(HCE_SW_OK, sw);
		if (sw != HCE_SW_WRONG_LENGTH && sw != HCE_SW_WRONG_P1P2 &&
		    sw != HCE_SW_NOT_ALLOWED && sw != HCE_SW_FILE_NOT_FOUND)
			TH_LOG("%s -> %04X", bad[i], sw);
		EXPECT_TRUE(sw == HCE_SW_WRONG_LENGTH || sw == HCE_SW_WRONG_P1P2 ||
			    sw == HCE_SW_NOT_ALLOWED || sw == HCE_SW_FILE_NOT_FOUND);
		EXPECT_EQ(0, r.len);
		t_debit_apdu(1, pu.mac2, c);
		EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->tc.app, c, sizeof(c), &r));
		if (!snap_same(&self->tc, &sn))
			TH_LOG("%s changed the purse", bad[i]);
		EXPECT_TRUE(snap_same(&self->tc, &sn));
		ASSERT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	}
}

TEST_F(card, tiny_response_buffer_still_gets_a_status_word)
{
	uint8_t out[2];
	const uint8_t c[] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };

	ASSERT_EQ(2, hce_app_process(self->tc.app, c, sizeof(c), out, sizeof(out)));
	EXPECT_EQ(0x6F, out[0]);
}

TEST_HARNESS_MAIN
