// SPDX-License-Identifier: GPL-2.0
/*
 * purse_files_test.c - selection (PPSE, PSE, AID, MF/DF/EF by FID) and the files of the EP
 * (READ BINARY of EF 0015/0016/0017, READ RECORD of the EF 0018 log and EF 001E CAPP
 * records), named by spec clause. Includes the Metrodroid-style sweeps: every SFI 1..31 and
 * record 1..255 gets a clean status word.
 */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "codec/tlv.h"
#include "purse_testcard.h"

FIXTURE(card) {
	struct t_card tc;
	struct hce_card_data cd;
};

FIXTURE_SETUP(card)
{
	ASSERT_EQ(0, t_card_open(&self->tc, HCE_ALG_3DES));
	t_card_data(&self->cd, HCE_ALG_3DES);
}

FIXTURE_TEARDOWN(card)
{
	t_card_close(&self->tc);
}

/* Find the directory entry's AID under FCI 6F/A5/BF0C/61/4F. */
static int fci_dir_aid(const uint8_t *b, size_t n, struct hce_tlv *aid)
{
	struct hce_tlv t6f, ta5, tbf, t61;

	if (hce_tlv_find(b, n, 0x6F, &t6f) != 1 ||
	    hce_tlv_find(t6f.value, t6f.len, 0xA5, &ta5) != 1 ||
	    hce_tlv_find(ta5.value, ta5.len, 0xBF0C, &tbf) != 1 ||
	    hce_tlv_find(tbf.value, tbf.len, 0x61, &t61) != 1)
		return -1;
	return hce_tlv_find(t61.value, t61.len, 0x4F, aid) == 1 ? 0 : -1;
}

TEST_F(card, select_ppse_fci_lists_the_ep_aid)
{
	struct hce_tlv aid, name, t6f;
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A404000E325041592E5359532E444446303100", &r));
	ASSERT_EQ(0, fci_dir_aid(r.b, r.len, &aid));
	ASSERT_EQ(8, aid.len);
	EXPECT_EQ(0, memcmp(aid.value, t_aid, 8));
	ASSERT_EQ(1, hce_tlv_find(r.b, r.len, 0x6F, &t6f));
	ASSERT_EQ(1, hce_tlv_find(t6f.value, t6f.len, 0x84, &name));
	EXPECT_EQ(0, memcmp(name.value, "2PAY.SYS.DDF01", 14));
	/* the whole answer is one 6F TLV */
	EXPECT_EQ(r.len, (size_t)(t6f.value - r.b) + t6f.len);
}

TEST_F(card, select_pse_fci_and_directory_record_sfi_1)
{
	struct hce_tlv aid, t70, t61;
	struct t_rsp r;

	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A404000E315041592E5359532E4444463031", &r));
	ASSERT_EQ(0, fci_dir_aid(r.b, r.len, &aid));
	EXPECT_EQ(0, memcmp(aid.value, t_aid, 8));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B2010C00", &r));
	ASSERT_EQ(1, hce_tlv_find(r.b, r.len, 0x70, &t70));
	ASSERT_EQ(1, hce_tlv_find(t70.value, t70.len, 0x61, &t61));
	ASSERT_EQ(1, hce_tlv_find(t61.value, t61.len, 0x4F, &aid));
	EXPECT_EQ(0, memcmp(aid.value, t_aid, 8));
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B2020C00", &r));
}

TEST_F(card, select_ep_aid_fci_as_seen_from_real_gates)
{
	uint8_t exp[64];
	struct t_rsp r;
	size_t n = 0;

	/* 6F { 84 AID, A5 { 9F08 01 02, 9F0C 1E + EF 0015 } } */
	exp[n++] = 0x6F; exp[n++] = 0x31;
	exp[n++] = 0x84; exp[n++] = 0x08;
	memcpy(exp + n, t_aid, 8); n += 8;
	exp[n++] = 0xA5; exp[n++] = 0x25;
	exp[n++] = 0x9F; exp[n++] = 0x08; exp[n++] = 0x01; exp[n++] = 0x02;
	exp[n++] = 0x9F; exp[n++] = 0x0C; exp[n++] = 0x1E;
	memcpy(exp + n, self->cd.ef0015, 30); n += 30;
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A4040008A000000632010105", &r));
	ASSERT_EQ(n, r.len);
	EXPECT_EQ(0, memcmp(exp, r.b, n));
	/* with Le, and by FID 1001: the same FCI */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A4040008A00000063201010500", &r));
	EXPECT_EQ(0, memcmp(exp, r.b, n));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000021001", &r));
	ASSERT_EQ(n, r.len);
	EXPECT_EQ(0, memcmp(exp, r.b, n));
	/* P2 0C: no response data */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A4040C08A000000632010105", &r));
	EXPECT_EQ(0, r.len);
	/* a right-truncated AID (>= 5 bytes) selects too */
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A4040005A000000632", &r));
}

TEST_F(card, select_unknown_or_malformed_gives_6a82_6a86_6700)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A4040008A000000632010106", &r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A4040007A0000003330101", &r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A4040004A0000006", &r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A40000020005", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "00A4080008A000000632010105", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "00A4040208A000000632010105", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "00A40000033F0000", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "00A40400", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH,
		  t_x(self->tc.app, "00A4040011A000000632010105A0000006320101050102030405", &r));
}

TEST_F(card, select_ef_by_fid_only_under_df_1001)
{
	struct t_rsp r;

	/* at the MF (fresh session) the EP's EFs are not visible */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A40000020015", &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000023F00", &r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00A40000020018", &r));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000021001", &r));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000020015", &r));
	EXPECT_EQ(0, r.len);
	/* READ BINARY of the current EF (P1 bit 8 = 0: offset) */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0000000", &r));
	ASSERT_EQ(30, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0015, 30));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B000140A", &r));
	ASSERT_EQ(10, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0015 + 20, 10));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40200020017", &r));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0000000", &r));
	EXPECT_EQ(60, r.len);
}

TEST_F(card, metrodroid_fids_at_top_level_and_under_1001)
{
	static const char *const fids[] = { "0004", "0005", "0008", "0009", "000A", "0015",
					    "0018", "0019" };
	char cmd[32];
	struct t_rsp r;
	size_t i;

	for (i = 0; i < 8; i++) {
		snprintf(cmd, sizeof(cmd), "00A4000002%s", fids[i]);
		EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, cmd, &r));
	}
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00A40000021001", &r));
	for (i = 0; i < 8; i++) {
		uint16_t sw;

		snprintf(cmd, sizeof(cmd), "00A4000002%s", fids[i]);
		sw = t_x(self->tc.app, cmd, &r);
		EXPECT_EQ(!strcmp(fids[i], "0015") || !strcmp(fids[i], "0018") ?
			  HCE_SW_OK : HCE_SW_FILE_NOT_FOUND, sw);
	}
}

TEST_F(card, read_binary_sfi_0015_0016_0017)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0950000", &r));
	ASSERT_EQ(30, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0015, 30));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B095001E", &r));
	EXPECT_EQ(30, r.len);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0960000", &r));
	ASSERT_EQ(55, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0016, 55));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0970000", &r));
	ASSERT_EQ(60, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0017, 60));
	/* offset in P2, short Le, Le past the end (6282 with what there is) */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0950A04", &r));
	ASSERT_EQ(4, r.len);
	EXPECT_EQ(0, memcmp(r.b, self->cd.ef0015 + 10, 4));
	ASSERT_EQ(HCE_SW_WARN_EOF, t_x(self->tc.app, "00B0951C10", &r));
	EXPECT_EQ(2, r.len);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0951E00", &r));
	EXPECT_EQ(0, r.len);
	EXPECT_EQ(HCE_SW_WRONG_OFFSET, t_x(self->tc.app, "00B0951F00", &r));
}

TEST_F(card, read_binary_errors)
{
	struct t_rsp r;

	/* before selecting the EP: not found */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00B0950000", &r));
	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	EXPECT_EQ(HCE_SW_NO_EF, t_x(self->tc.app, "00B0000000", &r));
	EXPECT_EQ(HCE_SW_INCOMPATIBLE_FILE, t_x(self->tc.app, "00B0980000", &r));
	EXPECT_EQ(HCE_SW_INCOMPATIBLE_FILE, t_x(self->tc.app, "00B09E0000", &r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00B0850000", &r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "00B0D50000", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "00B095000100", &r));
}

static void purchases(struct __test_metadata *_metadata, struct t_card *tc, int n)
{
	struct t_purchase pu;
	int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(HCE_SW_OK, t_purchase(tc->app, tc->alg, (uint32_t)(i + 1), (uint32_t)i,
						&pu));
}

TEST_F(card, read_record_log_newest_first_6a83_past_last)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B201C400", &r));
	purchases(_metadata, &self->tc, 3);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B201C400", &r));
	ASSERT_EQ(23, r.len);
	EXPECT_EQ(2, hce_get_be16(r.b));		/* CTC of the newest purchase */
	EXPECT_EQ(3, hce_get_be32(r.b + 5));
	EXPECT_EQ(HCE_TX_PURCHASE, r.b[9]);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B203C417", &r));
	EXPECT_EQ(0, hce_get_be16(r.b));
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B204C400", &r));
	EXPECT_EQ(HCE_SW_WRONG_LE(23), t_x(self->tc.app, "00B201C410", &r));
	/* SFI 0 = current EF (selected by the SFI read above) */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B2010400", &r));
	EXPECT_EQ(2, hce_get_be16(r.b));
}

TEST_F(card, read_record_log_wraps_after_10_records)
{
	struct t_rsp r;
	char cmd[16];
	int i;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	purchases(_metadata, &self->tc, 13);
	for (i = 1; i <= 10; i++) {
		snprintf(cmd, sizeof(cmd), "00B2%02XC400", i);
		ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, cmd, &r));
		EXPECT_EQ(13 - i, hce_get_be16(r.b));
	}
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B20BC400", &r));
}

TEST_F(card, read_record_p2_mode_5_reads_from_p1_to_last)
{
	struct t_rsp r, one;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	purchases(_metadata, &self->tc, 4);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B201C500", &r));
	ASSERT_EQ(4 * 23, r.len);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B203C400", &one));
	EXPECT_EQ(0, memcmp(r.b + 2 * 23, one.b, 23));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B203C500", &r));
	EXPECT_EQ(2 * 23, r.len);
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B205C500", &r));
	/* CAPP file: 8 x 48 > 256: whole records that fit */
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B201F500", &r));
	EXPECT_EQ(2 * 48, r.len);
}

TEST_F(card, read_record_capp_file_001e)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B201F400", &r));
	ASSERT_EQ(48, r.len);
	EXPECT_EQ(0x01, r.b[0]);
	ASSERT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B202F430", &r));
	EXPECT_EQ(0x02, r.b[0]);
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B203F400", &r));
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, t_x(self->tc.app, "00B209F400", &r));
}

TEST_F(card, read_record_errors)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	EXPECT_EQ(HCE_SW_INCOMPATIBLE_FILE, t_x(self->tc.app, "00B201AC00", &r));	/* 0015 */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00B2010C00", &r));	/* SFI 1 */
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "00B201C000", &r));	/* by id */
	EXPECT_EQ(HCE_SW_WRONG_P1P2, t_x(self->tc.app, "00B200C400", &r));	/* record 0 */
	EXPECT_EQ(HCE_SW_NO_EF, t_x(self->tc.app, "00B2010400", &r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, t_x(self->tc.app, "00B201C40100", &r));
}

TEST_F(card, metrodroid_sweep_sfi_1_to_31_records_1_to_255_clean_errors)
{
	static const uint16_t ok_sws[] = { HCE_SW_OK, HCE_SW_RECORD_NOT_FOUND,
					   HCE_SW_FILE_NOT_FOUND, HCE_SW_INCOMPATIBLE_FILE };
	uint8_t c[5] = { 0x00, 0xB2, 0, 0, 0x00 };
	unsigned int sfi, rec, k, n_ok = 0;
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	purchases(_metadata, &self->tc, 2);
	for (sfi = 1; sfi <= 31; sfi++) {
		for (rec = 1; rec <= 255; rec++) {
			bool known = false;

			c[2] = (uint8_t)rec;
			c[3] = (uint8_t)(sfi << 3 | 4);
			t_xb(self->tc.app, c, sizeof(c), &r);
			for (k = 0; k < 4; k++)
				known |= r.sw == ok_sws[k];
			EXPECT_TRUE(known);
			if (r.sw == HCE_SW_OK) {
				n_ok++;
				EXPECT_TRUE((sfi == 0x18 && r.len == 23) ||
					    (sfi == 0x1E && r.len == 48));
			} else {
				EXPECT_EQ(0, r.len);
			}
		}
	}
	EXPECT_EQ(2 + 2, n_ok);	/* 2 log records, 2 CAPP records */
}

TEST_F(card, session_end_returns_to_the_mf)
{
	struct t_rsp r;

	EXPECT_EQ(HCE_SW_OK, t_select_ep(self->tc.app));
	EXPECT_EQ(HCE_SW_OK, t_x(self->tc.app, "00B0950000", &r));
	hce_app_session_end(self->tc.app);
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, t_x(self->tc.app, "00B0950000", &r));
	EXPECT_EQ(HCE_SW_CONDITIONS, t_x(self->tc.app, "805C000204", &r));
}

TEST_HARNESS_MAIN
