// SPDX-License-Identifier: GPL-2.0
/*
 * readers_metrodroid_test.c - what Metrodroid's China/T-Union reader sends, replayed against
 * the purse in-process (lib/purse through its struct hce_app), with the answers checked
 * byte-exact where ../shared/spec/epurse.md fixes them:
 *   - SELECT PPSE / PSE, then the EP by AID (FCI layout "seen from real gates");
 *   - SELECT by FID 0004 0005 0008 0009 000A 0015 0018 0019, at top level and under 1001,
 *     with READ BINARY of what was found;
 *   - READ RECORD over SFI 1..31, records 1..255, until the first error: every unsupported
 *     SFI answers a clean error (status word only), the log answers its records exactly.
 * A reader only reads: the purse's value state must be the same afterwards.
 */
#include <string.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; non-literal formats. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "codec/tlv.h"
#include "purse_fixture.h"

static const uint16_t metrodroid_fids[] = { 0x0004, 0x0005, 0x0008, 0x0009, 0x000A,
					    0x0015, 0x0018, 0x0019 };

FIXTURE(metrodroid)
{
	struct pf f;
	struct pf_tx tx[4];
	uint8_t types[4];
	struct hce_purse_state before;
};

/* A card with history: three purchases and a load (4 log records, newest = the load). */
FIXTURE_SETUP(metrodroid)
{
	int i;

	memset(&self->f, 0, sizeof(self->f));
	pf_default_card(&self->f.card);
	pf_default_keys(&self->f.keys);
	ASSERT_EQ(0, pf_open(&self->f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->f, "00A4040008A000000632010105"));
	for (i = 0; i < 3; i++) {
		self->tx[i] = pf_tx_make(100 + 25 * i, i);
		self->types[i] = HCE_TX_PURCHASE;
		ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->f, &self->tx[i], HCE_TX_PURCHASE, 0, 0,
						 NULL));
		ASSERT_TRUE(self->tx[i].mac_ok);
	}
	self->tx[3] = pf_tx_make(5000, 3);
	self->types[3] = HCE_TX_LOAD;
	ASSERT_EQ(HCE_SW_OK, pf_load(&self->f, &self->tx[3], 0));
	hce_app_session_end(self->f.app);
	ASSERT_EQ(0, hce_purse_state(self->f.purse, &self->before));
}

FIXTURE_TEARDOWN(metrodroid)
{
	pf_close(&self->f);
}

/* Reading changes nothing. */
static int same_state(struct pf *f, const struct hce_purse_state *b)
{
	struct hce_purse_state s;

	if (hce_purse_state(f->purse, &s))
		return 0;
	return s.balance == b->balance && s.ctc == b->ctc &&
	       s.online_counter == b->online_counter && s.tx_total == b->tx_total &&
	       s.mac_failures == b->mac_failures;
}

/* Find tag in a constructed TLV tree (depth-first). */
static int tlv_deep_find(const uint8_t *v, size_t n, uint32_t tag, struct hce_tlv *out, int d)
{
	struct hce_rd r = hce_rd_init(v, n);
	struct hce_tlv t;

	while (hce_tlv_next(&r, &t) == 1) {
		if (t.tag == tag) {
			*out = t;
			return 1;
		}
		if (t.constructed && d < 6 && tlv_deep_find(t.value, t.len, tag, out, d + 1))
			return 1;
	}
	return 0;
}

/* SELECT PPSE (2PAY.SYS.DDF01): 6F { 84 name, A5 { BF0C { 61 { 4F = EP AID ... } } } }. */
TEST_F(metrodroid, select_ppse_fci_lists_ep_aid)
{
	struct pf *f = &self->f;
	struct hce_tlv t6f, t84, tbf, t61, t4f;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A404000E325041592E5359532E444446303100"));
	ASSERT_EQ(1, hce_tlv_find(f->rsp, pf_data_len(f), 0x6F, &t6f));
	EXPECT_EQ(pf_data_len(f), (size_t)(t6f.value + t6f.len - f->rsp)) TH_LOG("trailing bytes");
	ASSERT_EQ(1, hce_tlv_find(t6f.value, t6f.len, 0x84, &t84));
	ASSERT_EQ(14u, t84.len);
	EXPECT_EQ(0, memcmp(t84.value, "2PAY.SYS.DDF01", 14));
	ASSERT_EQ(1, tlv_deep_find(t6f.value, t6f.len, 0xBF0C, &tbf, 0));
	ASSERT_EQ(1, hce_tlv_find(tbf.value, tbf.len, 0x61, &t61));
	ASSERT_EQ(1, hce_tlv_find(t61.value, t61.len, 0x4F, &t4f));
	ASSERT_EQ(sizeof(pf_aid), t4f.len);
	EXPECT_EQ(0, memcmp(t4f.value, pf_aid, sizeof(pf_aid)));
	EXPECT_TRUE(same_state(f, &self->before));
}

/* SELECT PSE (1PAY.SYS.DDF01), then its directory (READ RECORD SFI 1) names the EP AID. */
TEST_F(metrodroid, select_pse_and_directory_record_list_ep_aid)
{
	struct pf *f = &self->f;
	struct hce_tlv t, t4f;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A404000E315041592E5359532E444446303100"));
	ASSERT_EQ(1, hce_tlv_find(f->rsp, pf_data_len(f), 0x6F, &t));
	ASSERT_EQ(1, tlv_deep_find(t.value, t.len, 0x84, &t4f, 0));
	EXPECT_EQ(0, memcmp(t4f.value, "1PAY.SYS.DDF01", 14));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00B2010C00"));
	ASSERT_EQ(1, hce_tlv_find(f->rsp, pf_data_len(f), 0x70, &t));
	ASSERT_EQ(1, tlv_deep_find(t.value, t.len, 0x4F, &t4f, 0));
	ASSERT_EQ(sizeof(pf_aid), t4f.len);
	EXPECT_EQ(0, memcmp(t4f.value, pf_aid, sizeof(pf_aid)));
	/* Only one directory record. */
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, pf_xfer_hex(f, "00B2020C00"));
	EXPECT_EQ(2u, f->rsp_len);
}

/* SELECT the T-Union EP AID: the FCI real gates see, byte for byte (spec "Selection"). */
TEST_F(metrodroid, select_ep_aid_fci_byte_exact)
{
	struct pf *f = &self->f;
	uint8_t want[64];
	size_t n = 0;

	want[n++] = 0x6F;
	want[n++] = 0x31;
	want[n++] = 0x84;
	want[n++] = 0x08;
	memcpy(want + n, pf_aid, 8);
	n += 8;
	want[n++] = 0xA5;
	want[n++] = 0x25;
	memcpy(want + n, "\x9F\x08\x01\x02\x9F\x0C\x1E", 7);
	n += 7;
	memcpy(want + n, f->card.ef0015, 30);
	n += 30;
	want[n++] = 0x90;
	want[n++] = 0x00;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A00000063201010500"));
	ASSERT_EQ(n, f->rsp_len);
	EXPECT_EQ(0, memcmp(want, f->rsp, n));
	/* Without Le (case 3), as Metrodroid's first try sends it: the same FCI. */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));
	ASSERT_EQ(n, f->rsp_len);
	EXPECT_EQ(0, memcmp(want, f->rsp, n));
	/* By DF 1001 (older readers): the same FCI. */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	ASSERT_EQ(n, f->rsp_len);
	EXPECT_EQ(0, memcmp(want, f->rsp, n));
}

/* Other China-card and EMV AIDs Metrodroid tries: 6A82, status word only. */
TEST_F(metrodroid, select_foreign_aids_6a82)
{
	static const char *const aids[] = {
		"00A4040009A0000000038698070100",	/* Shenzhen Tong */
		"00A4040008A00000063201010600",		/* another T-Union app */
		"00A4040007A000000003101000",		/* Visa */
		"00A4040007D410000001000100",		/* City Union */
	};
	const uint16_t sw[] = { HCE_SW_FILE_NOT_FOUND };
	struct pf *f = &self->f;
	size_t i;

	for (i = 0; i < sizeof(aids) / sizeof(aids[0]); i++) {
		pf_xfer_hex(f, aids[i]);
		EXPECT_TRUE(pf_clean_error(f, sw, 1)) TH_LOG("%s", aids[i]);
	}
	EXPECT_TRUE(same_state(f, &self->before));
}

/*
 * SELECT by FID 0004 0005 0008 0009 000A 0015 0018 0019 under DF 1001: 0015 and 0018 exist
 * (READ BINARY gives EF 0015 exactly; 0018 is a record file: 6981); the others 6A82.
 */
TEST_F(metrodroid, select_fid_sweep_under_1001)
{
	const uint16_t rb_err[] = { HCE_SW_INCOMPATIBLE_FILE };
	const uint16_t nf[] = { HCE_SW_FILE_NOT_FOUND };
	struct pf *f = &self->f;
	uint8_t sel[7] = { 0x00, 0xA4, 0x00, 0x00, 0x02 };
	size_t i;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000021001"));
	for (i = 0; i < sizeof(metrodroid_fids) / sizeof(metrodroid_fids[0]); i++) {
		uint16_t fid = metrodroid_fids[i], sw;

		hce_put_be16(sel + 5, fid);
		sw = pf_xfer(f, sel, sizeof(sel));
		if (fid == 0x0015 || fid == 0x0018) {
			ASSERT_EQ(HCE_SW_OK, sw) TH_LOG("FID %04X", fid);
			sw = pf_xfer_hex(f, "00B0000000");
			if (fid == 0x0015) {
				ASSERT_EQ(HCE_SW_OK, sw);
				ASSERT_EQ(30u, pf_data_len(f));
				EXPECT_EQ(0, memcmp(f->rsp, f->card.ef0015, 30));
			} else {
				EXPECT_TRUE(pf_clean_error(f, rb_err, 1)) TH_LOG("READ BINARY 0018");
			}
		} else {
			EXPECT_TRUE(pf_clean_error(f, nf, 1)) TH_LOG("FID %04X", fid);
		}
	}
	EXPECT_TRUE(same_state(f, &self->before));
}

/*
 * The same sweep at top level (after a fresh session: the MF) and after SELECT 3F00: the EP
 * files are not there, so every FID is 6A82 and READ BINARY has no current EF.
 */
TEST_F(metrodroid, select_fid_sweep_top_level)
{
	const uint16_t nf[] = { HCE_SW_FILE_NOT_FOUND };
	const uint16_t rb[] = { HCE_SW_NO_EF, HCE_SW_FILE_NOT_FOUND };
	struct pf *f = &self->f;
	uint8_t sel[7] = { 0x00, 0xA4, 0x00, 0x00, 0x02 };
	int pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		if (pass) {
			ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A40000023F00"));
		} else {
			hce_app_session_end(f->app);
		}
		for (i = 0; i < sizeof(metrodroid_fids) / sizeof(metrodroid_fids[0]); i++) {
			hce_put_be16(sel + 5, metrodroid_fids[i]);
			pf_xfer(f, sel, sizeof(sel));
			EXPECT_TRUE(pf_clean_error(f, nf, 1)) TH_LOG("FID %04X pass %d",
								     metrodroid_fids[i], pass);
			pf_xfer_hex(f, "00B0000000");
			EXPECT_TRUE(pf_clean_error(f, rb, 2)) TH_LOG("READ BINARY after %04X",
								     metrodroid_fids[i]);
		}
	}
	EXPECT_TRUE(same_state(f, &self->before));
}

/*
 * READ RECORD SFI 1..31 x records 1..255 until the first error, with the EP selected: SFI
 * 0x18 gives the 4 log records (newest first, layout of the spec), every other SFI a clean
 * error at record 1 (6A82 not found, 6981 transparent file, 6A83 no record).
 */
TEST_F(metrodroid, read_record_sweep_sfi_1_to_31)
{
	const uint16_t errs[] = { HCE_SW_FILE_NOT_FOUND, HCE_SW_INCOMPATIBLE_FILE,
				  HCE_SW_RECORD_NOT_FOUND };
	struct pf *f = &self->f;
	uint8_t rr[5] = { 0x00, 0xB2, 0x00, 0x00, 0x00 }, want[HCE_LOG_RECORD_LEN];
	unsigned int sfi, rec, sent = 0;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));
	for (sfi = 1; sfi <= 31; sfi++) {
		for (rec = 1; rec <= 255; rec++) {
			uint16_t sw;

			rr[2] = (uint8_t)rec;
			rr[3] = (uint8_t)(sfi << 3 | 4);
			sw = pf_xfer(f, rr, sizeof(rr));
			sent++;
			if (sw != HCE_SW_OK) {
				EXPECT_TRUE(pf_clean_error(f, errs, 3))
					TH_LOG("SFI %02X record %u: SW %04X, %zu bytes", sfi, rec,
					       sw, f->rsp_len);
				if (sfi == 0x18) {
					EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, sw);
				}
				break;
			}
			ASSERT_EQ(0x18u, sfi) TH_LOG("SFI %02X answered data", sfi);
			ASSERT_GE(4u, rec);
			ASSERT_EQ((size_t)HCE_LOG_RECORD_LEN, pf_data_len(f));
			pf_log_record(f, &self->tx[4 - rec], self->types[4 - rec], want);
			EXPECT_EQ(0, memcmp(want, f->rsp, HCE_LOG_RECORD_LEN))
				TH_LOG("log record %u", rec);
		}
		if (sfi == 0x18) {
			EXPECT_EQ(5u, rec);
		} else {
			EXPECT_EQ(1u, rec) TH_LOG("SFI %02X", sfi);
		}
	}
	EXPECT_EQ(31u + 4u, sent);
	EXPECT_TRUE(same_state(f, &self->before));
}

/* GET BALANCE after the AID, as Metrodroid reads it: 4 bytes, the stored balance. */
TEST_F(metrodroid, get_balance_after_aid)
{
	struct pf *f = &self->f;

	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "805C000204"));
	ASSERT_EQ(4u, pf_data_len(f));
	EXPECT_EQ(self->before.balance, hce_get_be32(f->rsp));
	EXPECT_EQ(10000u - 100u - 125u - 150u + 5000u, hce_get_be32(f->rsp));
}

TEST_HARNESS_MAIN
