// SPDX-License-Identifier: GPL-2.0
/*
 * readers_nfcard_test.c - what NFCard (sinpolib) sends to a PBOC/T-Union e-purse, replayed
 * against the purse in-process: select, READ BINARY of EF 0015 by SFI, GET BALANCE, then the
 * transaction log by READ RECORD (P2 = SFI 18 << 3 | 4) from record 1 until 6A83. Answers
 * are checked byte-exact against the spec: EF 0015 (30 bytes), balance (4), log records
 * (23 bytes: counter | overdraft | amount | type | terminal | date | time, newest first,
 * cyclic over 10).
 */
#include <string.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; non-literal formats. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_fixture.h"

#define NTX 13	/* more than the 10 log records: the log must wrap */

FIXTURE(nfcard)
{
	struct pf f;
	struct pf_tx tx[NTX];
	uint8_t type[NTX];
};

/* 13 transactions: loads at 0, 5, 10, purchases otherwise. */
FIXTURE_SETUP(nfcard)
{
	int i;

	memset(&self->f, 0, sizeof(self->f));
	pf_default_card(&self->f.card);
	pf_default_keys(&self->f.keys);
	ASSERT_EQ(0, pf_open(&self->f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->f, "00A4040008A000000632010105"));
	for (i = 0; i < NTX; i++) {
		self->tx[i] = pf_tx_make(10 + (uint32_t)i, (unsigned int)i);
		if (i % 5 == 0) {
			self->type[i] = HCE_TX_LOAD;
			ASSERT_EQ(HCE_SW_OK, pf_load(&self->f, &self->tx[i], 0));
		} else {
			self->type[i] = HCE_TX_PURCHASE;
			ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->f, &self->tx[i], HCE_TX_PURCHASE,
							 0, 0, NULL));
		}
		ASSERT_TRUE(self->tx[i].mac_ok);
	}
	hce_app_session_end(self->f.app);
}

FIXTURE_TEARDOWN(nfcard)
{
	pf_close(&self->f);
}

/* NFCard's full sequence, as it reads a T-Union card. */
TEST_F(nfcard, pse_df1001_read_binary_sfi15_balance_and_log)
{
	struct pf *f = &self->f;
	uint8_t want[HCE_LOG_RECORD_LEN];
	uint32_t balance = 10000;
	uint16_t ctc = 0, onl = 0;
	unsigned int rec;
	int i;

	for (i = 0; i < NTX; i++) {
		/* Counters: each kind counts on its own, and the log records the value used. */
		if (self->type[i] == HCE_TX_LOAD) {
			EXPECT_EQ(onl, self->tx[i].counter);
			onl++;
			balance += self->tx[i].amount;
		} else {
			EXPECT_EQ(ctc, self->tx[i].counter);
			ctc++;
			balance -= self->tx[i].amount;
		}
	}

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A404000E315041592E5359532E444446303100"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));

	/* READ BINARY SFI 15, offset 0, Le 00: the 30 bytes of EF 0015. */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00B0950000"));
	ASSERT_EQ(30u, pf_data_len(f));
	EXPECT_EQ(0, memcmp(f->card.ef0015, f->rsp, 30));

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "805C000204"));
	ASSERT_EQ(4u, pf_data_len(f));
	EXPECT_EQ(balance, hce_get_be32(f->rsp));

	for (rec = 1; rec <= 255; rec++) {
		uint8_t rr[5] = { 0x00, 0xB2, (uint8_t)rec, 0xC4, 0x00 };
		uint16_t sw = pf_xfer(f, rr, sizeof(rr));
		struct hce_purse_log_entry e;
		const struct pf_tx *t;

		if (sw != HCE_SW_OK) {
			EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, sw);
			EXPECT_EQ(2u, f->rsp_len);
			break;
		}
		ASSERT_GE((unsigned int)HCE_LOG_RECORDS, rec);
		ASSERT_EQ((size_t)HCE_LOG_RECORD_LEN, pf_data_len(f));
		t = &self->tx[NTX - rec];
		pf_log_record(f, t, self->type[NTX - rec], want);
		EXPECT_EQ(0, memcmp(want, f->rsp, HCE_LOG_RECORD_LEN)) TH_LOG("record %u", rec);
		hce_purse_log_parse(f->rsp, &e);
		EXPECT_EQ(t->amount, e.amount);
		EXPECT_EQ(self->type[NTX - rec], e.type);
		EXPECT_EQ(t->counter, e.counter);
	}
	EXPECT_EQ(HCE_LOG_RECORDS + 1u, rec);
}

/* READ BINARY by SFI also for 0016 (holder, its personalised length) and 0017 (60 bytes). */
TEST_F(nfcard, read_binary_sfi16_sfi17_lengths)
{
	struct pf *f = &self->f;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00B0960000"));
	ASSERT_EQ(f->card.ef0016_len, pf_data_len(f));
	EXPECT_EQ(0, memcmp(f->card.ef0016, f->rsp, f->card.ef0016_len));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00B0970000"));
	ASSERT_EQ((size_t)HCE_EF0017_LEN, pf_data_len(f));
	EXPECT_EQ(0, memcmp(f->card.ef0017, f->rsp, HCE_EF0017_LEN));
	/* Offset inside the file and an exact Le. */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00B095140A"));
	ASSERT_EQ(10u, pf_data_len(f));
	EXPECT_EQ(0, memcmp(f->card.ef0015 + 20, f->rsp, 10));
}

/* NFCard reads the balance right after the DF: before any selection it must not answer one. */
TEST_F(nfcard, get_balance_without_ep_selected_is_refused)
{
	struct pf *f = &self->f;
	uint16_t sw = pf_xfer_hex(f, "805C000204");

	EXPECT_NE(HCE_SW_OK, sw);
	EXPECT_EQ(2u, f->rsp_len);
}

/*
 * A card in its overdraft as NFCard shows it. NFCard reads GET BALANCE into a Java int (a
 * signed 32-bit value) and, as we model its balance parser (Documentation/purse.md
 * "Overdraft"), treats magnitudes beyond 1,000,000 fen as flagged values (minus 0x80000000).
 * The two's complement the purse answers is shown as the true negative amount; the log
 * records keep the limit in their overdraft field and unsigned amounts.
 */
static int32_t nfcard_parse_balance(const uint8_t b[4])
{
	int32_t n = hce_balance_value(hce_get_be32(b));	/* Java: Util.toInt, signed */

	if (n > 1000000 || n < -1000000)
		n = (int32_t)(hce_get_be32(b) - 0x80000000u);
	return n;
}

TEST(nfcard_shows_a_negative_balance_signed)
{
	struct pf f;
	struct pf_tx t;

	memset(&f, 0, sizeof(f));
	pf_default_card(&f.card);
	pf_default_keys(&f.keys);
	f.card.balance = 100;
	f.card.overdraft_limit = 500;
	ASSERT_EQ(0, pf_open(&f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00A4040008A000000632010105"));
	t = pf_tx_make(450, 0);
	ASSERT_EQ(HCE_SW_OK, pf_purchase(&f, &t, HCE_TX_PURCHASE, 0, 0, NULL));
	ASSERT_TRUE(t.mac_ok);
	hce_app_session_end(f.app);
	/* NFCard: PSE, DF 1001, EF 0015, balance, log */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00A404000E315041592E5359532E4444463031"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00A40000021001"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00B0950000"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "805C000204"));
	ASSERT_EQ(4u, pf_data_len(&f));
	EXPECT_EQ(0xFFFFFEA2u, hce_get_be32(f.rsp));
	EXPECT_EQ(-350, nfcard_parse_balance(f.rsp));	/* "-3.50" */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&f, "00B201C400"));
	ASSERT_EQ(HCE_LOG_RECORD_LEN, pf_data_len(&f));
	EXPECT_EQ(500u, (uint32_t)f.rsp[2] << 16 | (uint32_t)f.rsp[3] << 8 | f.rsp[4]);
	EXPECT_EQ(450u, hce_get_be32(f.rsp + 5));
	EXPECT_EQ(HCE_TX_PURCHASE, f.rsp[9]);
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, pf_xfer_hex(&f, "00B202C400"));
	pf_close(&f);
}

TEST_HARNESS_MAIN
