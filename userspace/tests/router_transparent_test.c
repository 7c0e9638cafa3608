// SPDX-License-Identifier: GPL-2.0
/*
 * router_transparent_test.c - the router is transparent for a purse-only reader: two
 * identical test cards (purse_testcard.h, same keys, same deterministic card random), one
 * driven directly, one behind the router as hced sets it up (purse: payment group "EP"
 * priority 1, FIDs 3F00/1001, default application; the NDEF tag beside it as "other").
 * Every reader script below (what gates, Metrodroid-style sweeps, FID-first readers and
 * broken readers send, with whole purchases and loads) must get byte-identical answers.
 *
 * The only differences are the documented ones (Documentation/router.md), tested elsewhere:
 * next/last/previous occurrence (the router implements them; the purse alone answers 6A86),
 * and an unknown AID between INITIALIZE and DEBIT (the router answers 6A82 without the purse).
 */
#include <string.h>

#include "kselftest_harness.h"

#include "codec/hex.h"
#include "ndef/ndef.h"
#include "purse_testcard.h"
#include "router/router.h"

FIXTURE(two)
{
	struct t_card alone, routed;
	struct hce_router *r;
	struct hce_app *ra, *ndef;
	unsigned int compared;
};

FIXTURE_SETUP(two)
{
	struct hce_aid ep, na = { HCE_NDEF_AID_LEN, false, { 0 } };
	struct hce_aid_group g_ep = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };
	struct hce_aid_group g_nd = { HCE_AID_OTHER, NULL, 0, &na, 1 };
	const uint16_t fids[] = { 0x3F00, 0x1001 };
	uint8_t msg[32];
	size_t len;

	memcpy(na.b, hce_ndef_aid, HCE_NDEF_AID_LEN);
	ASSERT_EQ(0, hce_aid_parse("A000000632010105", &ep));
	ASSERT_EQ(0, t_card_open(&self->alone, HCE_ALG_3DES));
	ASSERT_EQ(0, t_card_open(&self->routed, HCE_ALG_3DES));
	ASSERT_EQ(0, hce_ndef_build_text("en", "x", msg, sizeof(msg), &len));
	ASSERT_EQ(0, hce_ndef_app_new(msg, len, &self->ndef, NULL, 0));
	ASSERT_EQ(0, hce_router_new(&self->r));
	self->ra = hce_router_app(self->r);
	ASSERT_EQ(0, hce_router_add(self->r, self->routed.app, &g_ep, 1, NULL, 0));
	ASSERT_EQ(0, hce_router_add_fids(self->r, self->routed.app, fids, 2, NULL, 0));
	ASSERT_EQ(0, hce_router_add(self->r, self->ndef, &g_nd, 1, NULL, 0));
	ASSERT_EQ(0, hce_router_set_default(self->r, self->routed.app));
	self->compared = 0;
}

FIXTURE_TEARDOWN(two)
{
	hce_router_free(self->r);
	hce_ndef_app_free(self->ndef);
	t_card_close(&self->alone);
	t_card_close(&self->routed);
}

/*
 * Run a script on both: hex C-APDUs; "!" ends the session; "P<amount>" a whole purchase,
 * "L<amount>" a whole load (t_purchase / t_load: MACs from the test keys).
 */
static void run(struct __test_metadata *_metadata, FIXTURE_DATA(two) *self,
		const char *const *script, size_t n)
{
	struct t_rsp a, b;
	struct t_purchase pa, pb;
	size_t i;
	uint16_t sa, sb;
	static uint32_t ttc = 1;

	for (i = 0; i < n; i++) {
		const char *s = script[i];

		if (s[0] == '!') {
			hce_app_session_end(self->alone.app);
			hce_app_session_end(self->ra);
			continue;
		}
		if (s[0] == 'P' || s[0] == 'L') {
			uint32_t amount = (uint32_t)strtoul(s + 1, NULL, 10);

			memset(&pa, 0, sizeof(pa));
			memset(&pb, 0, sizeof(pb));
			if (s[0] == 'P') {
				sa = t_purchase(self->alone.app, HCE_ALG_3DES, amount, ttc, &pa);
				sb = t_purchase(self->ra, HCE_ALG_3DES, amount, ttc, &pb);
			} else {
				sa = t_load(self->alone.app, HCE_ALG_3DES, amount, pa.tac);
				sb = t_load(self->ra, HCE_ALG_3DES, amount, pb.tac);
			}
			ttc++;
			EXPECT_EQ(HCE_SW_OK, sa) TH_LOG("step %zu: %s", i, s);
			EXPECT_EQ(sa, sb) TH_LOG("step %zu: %s", i, s);
			EXPECT_EQ(0, memcmp(&pa, &pb, sizeof(pa))) TH_LOG("step %zu: %s", i, s);
			self->compared++;
			continue;
		}
		sa = t_x(self->alone.app, s, &a);
		sb = t_x(self->ra, s, &b);
		EXPECT_EQ(sa, sb) TH_LOG("step %zu: %s: %04X vs %04X", i, s, sa, sb);
		EXPECT_EQ(a.len, b.len) TH_LOG("step %zu: %s", i, s);
		if (a.len == b.len)
			EXPECT_EQ(0, memcmp(a.b, b.b, a.len)) TH_LOG("step %zu: %s", i, s);
		self->compared++;
	}
}

#define RUN(script) run(_metadata, self, script, sizeof(script) / sizeof(script[0]))

#define PPSE "00A404000E325041592E5359532E444446303100"
#define PSE "00A404000E315041592E5359532E444446303100"
#define SEL_EP "00A4040008A00000063201010500"

/* A T-Union gate: PPSE, the EP by AID, public info, balance, a purchase, the log. */
TEST_F(two, gate_ppse_select_read_purchase_log)
{
	static const char *const s[] = {
		PPSE, SEL_EP, "00B0950000", "00B0960000", "00B0970000", "805C000204", "P150",
		"805C000204", "00B201C400", "00B202C400", "00B201C517", "00B2FFC400",
		"805A0006020000", "805A0006020001", "0084000004", "!", SEL_EP, "P1",
		"805C000204", "L5000", "805C000204", "!",
	};

	RUN(s);
	EXPECT_EQ(20u, self->compared);
}

/* The PSE path of older readers, its directory records, then partial AID selection. */
TEST_F(two, pse_records_then_partial_aid)
{
	static const char *const s[] = {
		PSE, "00B2010C00", "00B2020C00", "00B2010D00", "00B2010400", "00B2000C00",
		"00B2011400", "00B0950000", "00B0000000", "805C000204", "0084000008",
		"00CA9F7F00", "80CA000000", "90B2010C00", "00B201", "00A4040005A00000063200",
		"805C000204", "!",
	};

	RUN(s);
}

/* FID-first readers: MF, its directory, DF 1001, EFs with P1 02, records, balances. */
TEST_F(two, fid_first_mf_df_ef)
{
	static const char *const s[] = {
		"00A40000023F00", "00B2010C00", "00A40000021001", "00A40200020015",
		"00B0000000", "00B0000A04", "00A40200020018", "00B2010400", "00B2010500",
		"805C010204", "805C020204", "805C030204", "00A40200020099", "00B0001000",
		"!", "00A40000021001", "P20", "805C000204", "!", "00A40000020015",
		"00A40200020015", "!",
	};

	RUN(s);
}

/* Metrodroid's sweep: SFI 1..31 x records 1..4 after selecting the EP. */
TEST_F(two, metrodroid_sweep_sfi_1_31)
{
	static char cmds[31 * 4][16];
	const char *s[2 + 31 * 4];
	unsigned int sfi, rec, k = 0;

	s[k++] = SEL_EP;
	s[k++] = "P10";
	for (sfi = 1; sfi <= 31; sfi++) {
		for (rec = 1; rec <= 4; rec++) {
			snprintf(cmds[k - 2], sizeof(cmds[0]), "00B2%02X%02X00", rec,
				 sfi << 3 | 4);
			s[k] = cmds[k - 2];
			k++;
		}
	}
	run(_metadata, self, s, k);
	EXPECT_EQ(2u + 31 * 4, self->compared);
}

/* Broken readers: malformed APDUs, wrong P1/P2, lengths, unknown commands, in every state. */
TEST_F(two, malformed_and_unknown_commands)
{
	static const char *const s[] = {
		"00", "00A4", "00A40400", "00A4040000", "00A4041008A000000632010105",
		"00A4040011A0000006320101050000000000000000000000", "00A404040EA0",
		"00A404040E325041592E5359532E4444463031", "00A4040408A000000632010105",
		"00A4040C08A000000632010105", "00A4000003123456", "00A40800023F00",
		PPSE, "00B0", "805C000204", "0084000004", "00CA000000", "80A4000000",
		"00A40000023F00", "FFFFFFFF", SEL_EP, "00B0950000FF00", "805C000208",
		"8050010200", "8054010000", "00A4040007A000000003101000", "805C000204", "!",
	};

	RUN(s);
}

/* Sequencing across selections and sessions: a new selection or session end in between
 * cancels the pending purchase (6901), through the router as alone.
 */
TEST_F(two, pending_purchase_cancelled_by_selection_or_session_end)
{
	static const char *const s[] = {
		SEL_EP, "805001020B0100000064102030405060" "0F", PPSE, SEL_EP,
		"805401000F0000000120261125213005000000000" "8",
		SEL_EP, "805001020B0100000064102030405060" "0F", "!", SEL_EP,
		"805401000F0000000120261125213005000000000" "8",
		SEL_EP, "805001020B0100000064102030405060" "0F", "00A40000023F00",
		"805401000F0000000120261125213005000000000" "8", "805C000204", "!",
	};

	RUN(s);
}

TEST_HARNESS_MAIN
