// SPDX-License-Identifier: GPL-2.0
/*
 * readers_cardbal_test.c - what CardBal and the Shanghai/T-Union balance apps send, replayed
 * against the purse in-process: selection by file id (MF 3F00, then DF 1001, no AID), GET
 * BALANCE with P1 00..03 (P1 01..03 are asked by some readers: the spec asks for consistent
 * answers), and the log read with P2 = SFI 18 << 3 | 5 (all records from P1) before falling
 * back to | 4. Answers are checked byte-exact against the spec's layouts.
 */
#include <string.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; non-literal formats. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_fixture.h"

#define NTX 4

FIXTURE(cardbal)
{
	struct pf f;
	struct pf_tx tx[NTX];
	uint8_t log[NTX][HCE_LOG_RECORD_LEN];	/* log[0] = newest */
	uint32_t balance;
};

FIXTURE_SETUP(cardbal)
{
	int i;

	memset(&self->f, 0, sizeof(self->f));
	pf_default_card(&self->f.card);
	pf_default_keys(&self->f.keys);
	ASSERT_EQ(0, pf_open(&self->f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->f, "00A40000021001"));
	self->balance = self->f.card.balance;
	for (i = 0; i < NTX; i++) {
		self->tx[i] = pf_tx_make(200 + (uint32_t)i, (unsigned int)i);
		ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->f, &self->tx[i], HCE_TX_PURCHASE, 0, 0,
						 NULL));
		ASSERT_TRUE(self->tx[i].mac_ok);
		self->balance -= self->tx[i].amount;
		pf_log_record(&self->f, &self->tx[i], HCE_TX_PURCHASE, self->log[NTX - 1 - i]);
	}
	hce_app_session_end(self->f.app);
}

FIXTURE_TEARDOWN(cardbal)
{
	pf_close(&self->f);
}

/* SELECT 3F00 answers the MF (the PSE DDF), then 1001 the EP with its FCI (6F, 84 = AID). */
TEST_F(cardbal, select_mf_then_df1001_by_fid)
{
	struct pf *f = &self->f;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000023F00"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	ASSERT_LE(12u, pf_data_len(f));
	EXPECT_EQ(0x6F, f->rsp[0]);
	EXPECT_EQ(0x84, f->rsp[2]);
	EXPECT_EQ(0x08, f->rsp[3]);
	EXPECT_EQ(0, memcmp(f->rsp + 4, pf_aid, 8));
	/* P2 0C: selection without response data. */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4000C021001"));
	EXPECT_EQ(2u, f->rsp_len);
}

/* GET BALANCE P1 00..03, P2 02, Le 04: the same 4-byte EP balance each time; P1 04: 6A86. */
TEST_F(cardbal, get_balance_p1_variants_answer_consistently)
{
	struct pf *f = &self->f;
	uint8_t gb[5] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };
	int p1, round;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	for (round = 0; round < 2; round++) {
		for (p1 = 0; p1 <= 3; p1++) {
			gb[2] = (uint8_t)p1;
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, gb, sizeof(gb))) TH_LOG("P1 %02X", p1);
			ASSERT_EQ(4u, pf_data_len(f));
			EXPECT_EQ(self->balance, hce_get_be32(f->rsp)) TH_LOG("P1 %02X", p1);
		}
	}
	gb[2] = 0x04;
	EXPECT_EQ(HCE_SW_WRONG_P1P2, pf_xfer(f, gb, sizeof(gb)));
	EXPECT_EQ(2u, f->rsp_len);
}

/* READ RECORD P2 = C5 (SFI 18, "all records from P1"): records P1..last, concatenated. */
TEST_F(cardbal, read_record_p2_sfi18_mode5_all_records_from_p1)
{
	struct pf *f = &self->f;
	uint8_t rr[5] = { 0x00, 0xB2, 0x01, 0xC5, 0x00 };
	unsigned int from;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	for (from = 1; from <= NTX; from++) {
		rr[2] = (uint8_t)from;
		ASSERT_EQ(HCE_SW_OK, pf_xfer(f, rr, sizeof(rr))) TH_LOG("from %u", from);
		ASSERT_EQ((NTX - from + 1) * (size_t)HCE_LOG_RECORD_LEN, pf_data_len(f));
		EXPECT_EQ(0, memcmp(self->log[from - 1], f->rsp, pf_data_len(f)));
	}
	rr[2] = NTX + 1;
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, pf_xfer(f, rr, sizeof(rr)));
	EXPECT_EQ(2u, f->rsp_len);
}

/* The fallback P2 = C4 record by record, with Le 00 and with the exact Le 17 (23). */
TEST_F(cardbal, read_record_p2_sfi18_mode4_exact_le)
{
	struct pf *f = &self->f;
	uint8_t rr[5] = { 0x00, 0xB2, 0x01, 0xC4, 0x17 };
	unsigned int rec;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	for (rec = 1; rec <= NTX; rec++) {
		rr[2] = (uint8_t)rec;
		ASSERT_EQ(HCE_SW_OK, pf_xfer(f, rr, sizeof(rr)));
		ASSERT_EQ((size_t)HCE_LOG_RECORD_LEN, pf_data_len(f));
		EXPECT_EQ(0, memcmp(self->log[rec - 1], f->rsp, HCE_LOG_RECORD_LEN));
	}
	rr[2] = NTX + 1;
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, pf_xfer(f, rr, sizeof(rr)));
	/* A wrong Le gets 6C17 (ISO 7816-4: "exact length is 23"), status word only. */
	rr[2] = 1;
	rr[4] = 0x10;
	EXPECT_EQ(0x6C17, pf_xfer(f, rr, sizeof(rr)));
	EXPECT_EQ(2u, f->rsp_len);
}

/* A reader session reads only: balance, counters and log are the same afterwards. */
TEST_F(cardbal, whole_script_changes_nothing)
{
	struct pf *f = &self->f;
	struct hce_purse_state a, b;
	uint8_t rec[HCE_LOG_RECORD_LEN];

	ASSERT_EQ(0, hce_purse_state(f->purse, &a));
	pf_xfer_hex(f, "00A40000023F00");
	pf_xfer_hex(f, "00A40000021001");
	pf_xfer_hex(f, "805C000204");
	pf_xfer_hex(f, "805C010204");
	pf_xfer_hex(f, "00B201C500");
	pf_xfer_hex(f, "00B201C400");
	pf_xfer_hex(f, "00B0950000");
	ASSERT_EQ(0, hce_purse_state(f->purse, &b));
	EXPECT_EQ(a.balance, b.balance);
	EXPECT_EQ(a.ctc, b.ctc);
	EXPECT_EQ(a.online_counter, b.online_counter);
	EXPECT_EQ(a.tx_total, b.tx_total);
	EXPECT_EQ(a.mac_failures, b.mac_failures);
	ASSERT_EQ(0, hce_store_log(f->st, 1, rec));
	EXPECT_EQ(0, memcmp(self->log[0], rec, HCE_LOG_RECORD_LEN));
}

/* In the overdraft: P1 00..03 all give the same signed balance (two's complement). */
TEST(cardbal_get_balance_p1_variants_in_the_overdraft)
{
	uint8_t gb[5] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };
	struct pf f;
	struct pf_tx t;
	int p1;

	memset(&f, 0, sizeof(f));
	pf_default_card(&f.card);
	pf_default_keys(&f.keys);
	f.card.balance = 0;
	f.card.overdraft_limit = 1;
	ASSERT_EQ(0, pf_open(&f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00A40000021001"));
	t = pf_tx_make(2, 0);
	EXPECT_EQ(HCE_SW_INSUFFICIENT, pf_purchase(&f, &t, HCE_TX_PURCHASE, 0, 0, NULL));
	t = pf_tx_make(1, 0);
	ASSERT_EQ(HCE_SW_OK, pf_purchase(&f, &t, HCE_TX_PURCHASE, 0, 0, NULL));
	for (p1 = 0; p1 <= 3; p1++) {
		gb[2] = (uint8_t)p1;
		ASSERT_EQ(HCE_SW_OK, pf_xfer(&f, gb, sizeof(gb))) TH_LOG("P1 %02X", p1);
		ASSERT_EQ(4u, pf_data_len(&f));
		EXPECT_EQ(0xFFFFFFFFu, hce_get_be32(f.rsp)) TH_LOG("P1 %02X", p1);	/* -0.01 */
	}
	pf_close(&f);
}

TEST_HARNESS_MAIN
