// SPDX-License-Identifier: GPL-2.0
/*
 * wallet_cap_test - the card side of the wallet without an issuer: the offline cap and token
 * validity in the store (hce_store_set_offline, hce_store_offline) as the purse enforces them
 * (INITIALIZE FOR PURCHASE 6985 beyond the cap, 6A81 past not_after for purchase and load),
 * the outbox written with each debit and its acknowledgement (hce_store_outbox_done), and a
 * card without a cap unchanged. Documentation/wallet.md.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "purse_testcard.h"

FIXTURE(cap) {
	struct t_dir dir;
	struct hce_store *st;
	struct hce_purse *p;
	struct hce_card_keys keys;
	struct hce_app *app;
};

FIXTURE_SETUP(cap)
{
	struct hce_card_data cd;

	ASSERT_EQ(0, t_mkdir(&self->dir));
	ASSERT_EQ(0, hce_store_open(self->dir.path, HCE_STORE_CREATE, &self->st, NULL));
	t_card_data(&cd, HCE_ALG_3DES);
	ASSERT_EQ(0, hce_store_personalise(self->st, &cd, 0));
	t_card_keys(&self->keys, HCE_ALG_3DES);
	ASSERT_EQ(0, hce_purse_open(self->st, &self->keys, &self->p));
	self->app = hce_purse_app(self->p);
	ASSERT_EQ(HCE_SW_OK, t_select_ep(self->app));
}

FIXTURE_TEARDOWN(cap)
{
	hce_purse_close(self->p);
	hce_store_close(self->st);
	hce_card_keys_wipe(&self->keys);
	t_rmdir(&self->dir);
}

TEST_F(cap, no_cap_set_purse_unchanged_and_outbox_stays_empty)
{
	struct hce_store_offline o;
	struct hce_store_outrec r[2];
	struct t_purchase pu;
	size_t n = 9;

	ASSERT_EQ(0, hce_store_offline(self->st, &o));
	EXPECT_FALSE(o.set);
	EXPECT_TRUE(hce_store_offline_allows(&o, 0xffffffffu));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->app, HCE_ALG_3DES, 100, 1, &pu));
	ASSERT_EQ(0, hce_store_outbox(self->st, r, 2, &n));
	EXPECT_EQ(0, n);
}

TEST_F(cap, initialize_for_purchase_beyond_count_cap_gives_6985)
{
	struct t_purchase pu;
	struct t_rsp r;
	int i;

	ASSERT_EQ(0, hce_store_set_offline(self->st, 100000, 2, 0, true));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(HCE_SW_OK, t_purchase(self->app, HCE_ALG_3DES, 100, 1 + i, &pu));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->app, 0x01, 1, 1, &r));
	/* Loads are not capped. */
	EXPECT_EQ(HCE_SW_OK, t_init(self->app, 0x00, 1, 100, &r));
}

TEST_F(cap, initialize_for_purchase_beyond_amount_cap_gives_6985_exact_fits)
{
	struct t_purchase pu;
	struct t_rsp r;

	ASSERT_EQ(0, hce_store_set_offline(self->st, 500, 10, 0, true));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->app, 0x01, 1, 501, &r));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->app, HCE_ALG_3DES, 300, 1, &pu));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->app, 0x01, 1, 201, &r));
	EXPECT_EQ(HCE_SW_OK, t_purchase(self->app, HCE_ALG_3DES, 200, 2, &pu));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_init(self->app, 0x01, 1, 1, &r));
}

TEST_F(cap, past_not_after_purchase_and_load_give_6a81)
{
	struct t_rsp r;

	ASSERT_EQ(0, hce_store_set_offline(self->st, 100000, 10, time(NULL) - 1, true));
	EXPECT_EQ(HCE_SW_FUNC_NOT_SUPPORTED, t_init(self->app, 0x01, 1, 1, &r));
	EXPECT_EQ(HCE_SW_FUNC_NOT_SUPPORTED, t_init(self->app, 0x00, 1, 1, &r));
	ASSERT_EQ(0, hce_store_set_offline(self->st, 100000, 10, time(NULL) + 3600, false));
	EXPECT_EQ(HCE_SW_OK, t_init(self->app, 0x01, 1, 1, &r));
}

TEST_F(cap, debit_writes_outbox_record_with_ttc_and_tac_acknowledged_restores_cap)
{
	struct hce_store_outrec r[4];
	struct hce_store_offline o;
	struct t_purchase pu[3];
	size_t n = 0;
	int i;

	ASSERT_EQ(0, hce_store_set_offline(self->st, 1000, 5, 0, true));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(HCE_SW_OK, t_purchase(self->app, HCE_ALG_3DES, 100 + i, 0x50 + i, &pu[i]));
	ASSERT_EQ(0, hce_store_outbox(self->st, r, 4, &n));
	ASSERT_EQ(3, n);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(HCE_TX_PURCHASE, r[i].type);
		EXPECT_EQ(i, r[i].counter);
		EXPECT_EQ(100 + i, r[i].amount);
		EXPECT_EQ(0x50 + i, r[i].ttc);
		EXPECT_EQ(0, memcmp(r[i].tac, pu[i].tac, 4));
	}
	ASSERT_EQ(0, hce_store_offline(self->st, &o));
	EXPECT_EQ(303, o.spent);
	EXPECT_EQ(3, o.count);
	/* The issuer acknowledged the first two; the third stays counted. */
	ASSERT_EQ(0, hce_store_outbox_done(self->st, r, 2, true, 2000, 7));
	ASSERT_EQ(0, hce_store_offline(self->st, &o));
	EXPECT_EQ(2000, o.cap_amount);
	EXPECT_EQ(7, o.cap_count);
	EXPECT_EQ(102, o.spent);
	EXPECT_EQ(1, o.count);
	ASSERT_EQ(0, hce_store_outbox(self->st, r, 4, &n));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0x52, r[0].ttc);
	/* Not restored: records leave, the counters stay. */
	ASSERT_EQ(0, hce_store_outbox_done(self->st, r, 1, false, 1, 1));
	ASSERT_EQ(0, hce_store_offline(self->st, &o));
	EXPECT_EQ(2000, o.cap_amount);
	EXPECT_EQ(102, o.spent);
}

TEST_F(cap, read_only_open_sees_cap_and_cannot_change_it)
{
	struct hce_store_offline o;
	struct hce_store *ro;

	ASSERT_EQ(0, hce_store_set_offline(self->st, 700, 4, 123, true));
	ASSERT_EQ(0, hce_store_open(self->dir.path, HCE_STORE_READONLY, &ro, NULL));
	ASSERT_EQ(0, hce_store_offline(ro, &o));
	EXPECT_TRUE(o.set);
	EXPECT_EQ(700, o.cap_amount);
	EXPECT_EQ(123, o.not_after);
	EXPECT_EQ(-EIO, hce_store_set_offline(ro, 1, 1, 0, true));
	hce_store_close(ro);
}

TEST_HARNESS_MAIN
