// SPDX-License-Identifier: GPL-2.0
/*
 * router_routing_test.c - the AID router (router/router.h, Documentation/router.md) with the
 * real purse (lib/purse over a test card, purse_testcard.h), the real NDEF Type 4 Tag app and
 * a recording test application ("echo": answers 9000 with the C-APDU's data, counts calls).
 * Cases are named by command and clause: ISO 7816-4 SELECT (P1 04 by name, P2 occurrence,
 * partial DF name; P1 00/02 by file id), EMV PPSE/PSE directories, the conflict rule.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "codec/hex.h"
#include "codec/tlv.h"
#include "ndef/ndef.h"
#include "purse_testcard.h"
#include "router/router.h"

/* --- a recording test application ---------------------------------------------------- */

struct echo {
	struct hce_app app;
	unsigned int calls, ends;
	uint8_t last[64];
	size_t last_len;
	uint16_t sw;		/* answer status word (9000 by default) */
	int broken;		/* answer 0 bytes: breaks app.h's contract */
};

static size_t echo_process(struct hce_app *app, const uint8_t *capdu, size_t len, uint8_t *out,
			   size_t cap)
{
	struct echo *e = app->priv;
	struct hce_capdu c;

	e->calls++;
	e->last_len = len < sizeof(e->last) ? len : sizeof(e->last);
	memcpy(e->last, capdu, e->last_len);
	if (e->broken)
		return 0;
	if (hce_capdu_parse(capdu, len, &c))
		return hce_rapdu_build(out, cap, NULL, 0, HCE_SW_WRONG_LENGTH);
	return hce_rapdu_build(out, cap, c.data, c.nc, e->sw);
}

static void echo_session_end(struct hce_app *app)
{
	struct echo *e = app->priv;

	e->ends++;
}

static const struct hce_app_ops echo_ops = { "echo", echo_process, echo_session_end };

static void echo_init(struct echo *e)
{
	memset(e, 0, sizeof(*e));
	e->app.ops = &echo_ops;
	e->app.priv = e;
	e->sw = HCE_SW_OK;
}

/* --- helpers ----------------------------------------------------------------------------- */

struct rsp {
	uint8_t b[HCE_RAPDU_MIN_CAP];
	size_t len;		/* whole R-APDU */
	char hex[2 * HCE_RAPDU_MIN_CAP + 1];
	uint16_t sw;
};

/* Send hex, keep the whole R-APDU as hex too; returns the SW (FFFF on a contract break). */
static uint16_t x(struct hce_app *app, const char *hexin, struct rsp *r)
{
	uint8_t c[300];
	ssize_t n = hce_hex_decode(hexin, c, sizeof(c));

	if (n < 0)
		abort();
	r->len = hce_app_process(app, c, (size_t)n, r->b, sizeof(r->b));
	if (r->len < 2 || r->len > sizeof(r->b)) {
		r->hex[0] = 0;
		return r->sw = 0xFFFF;
	}
	hce_hex_encode(r->b, r->len, r->hex, sizeof(r->hex));
	return r->sw = (uint16_t)(r->b[r->len - 2] << 8 | r->b[r->len - 1]);
}

static struct hce_aid aid(const char *s)
{
	struct hce_aid a;

	if (hce_aid_parse(s, &a))
		abort();
	return a;
}

#define PPSE "00A404000E325041592E5359532E444446303100"
#define PSE "00A404000E315041592E5359532E444446303100"
#define SEL_EP "00A4040008A000000632010105"
#define SEL_NDEF "00A4040007D276000085010100"
#define GET_BALANCE "805C000204"

/* The router as hced builds it: purse (payment, "EP", priority 1, FIDs 3F00/1001, default),
 * NDEF tag (other), echo (payment, "ECHO", priority 2, AID A000000632010106).
 */
FIXTURE(rt)
{
	struct t_card tc;
	struct hce_router *r;
	struct hce_app *rapp, *ndef;
	struct echo echo;
	struct rsp rsp;
	char err[160];
};

FIXTURE_SETUP(rt)
{
	uint8_t msg[64];
	size_t len;
	struct hce_aid ep = aid("A000000632010105"), ea = aid("A000000632010106");
	struct hce_aid na;
	struct hce_aid_group g_ep = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };
	struct hce_aid_group g_echo = { HCE_AID_PAYMENT, "ECHO", 2, &ea, 1 };
	struct hce_aid_group g_ndef = { HCE_AID_OTHER, "NDEF", 0, &na, 1 };
	const uint16_t fids[] = { 0x3F00, 0x1001 };

	na.len = HCE_NDEF_AID_LEN;
	na.prefix = false;
	memcpy(na.b, hce_ndef_aid, HCE_NDEF_AID_LEN);
	ASSERT_EQ(0, t_card_open(&self->tc, HCE_ALG_3DES));
	ASSERT_EQ(0, hce_ndef_build_uri("https://example.org/t", msg, sizeof(msg), &len));
	ASSERT_EQ(0, hce_ndef_app_new(msg, len, &self->ndef, NULL, 0));
	echo_init(&self->echo);
	ASSERT_EQ(0, hce_router_new(&self->r));
	self->rapp = hce_router_app(self->r);
	ASSERT_EQ(0, hce_router_add(self->r, self->tc.app, &g_ep, 1, self->err, sizeof(self->err)));
	ASSERT_EQ(0, hce_router_add_fids(self->r, self->tc.app, fids, 2, self->err,
					 sizeof(self->err)));
	ASSERT_EQ(0, hce_router_add(self->r, self->ndef, &g_ndef, 1, self->err, sizeof(self->err)));
	ASSERT_EQ(0, hce_router_add(self->r, &self->echo.app, &g_echo, 1, self->err,
				    sizeof(self->err)));
	ASSERT_EQ(0, hce_router_set_default(self->r, self->tc.app));
}

FIXTURE_TEARDOWN(rt)
{
	hce_router_free(self->r);
	hce_ndef_app_free(self->ndef);
	t_card_close(&self->tc);
}

/* --- PPSE / PSE built from the registry --------------------------------------------------- */

/* EMV Book B 3.3: 6F { 84 2PAY.SYS.DDF01, A5 { BF0C { 61 {4F, 50, 87} ... } } }, payment
 * AIDs only (NDEF is "other"), priority order.
 */
TEST_F(rt, select_ppse_lists_payment_aids_by_priority_byte_exact)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, PPSE, &self->rsp));
	EXPECT_STREQ("6F3D840E325041592E5359532E4444463031"
		     "A52BBF0C28"
		     "61114F08A00000063201010550024550870101"
		     "61134F08A00000063201010650044543484F870102"
		     "9000", self->rsp.hex);
	EXPECT_EQ(0u, self->echo.calls);	/* answered by the router, not by an app */
}

/* PSE: FCI with 88 01 (directory SFI 1) and the same entries; READ RECORD SFI 1 (P2 0C)
 * record n = 70 { entry n }; past the last 6A83.
 */
TEST_F(rt, select_pse_fci_and_read_record_sfi1_byte_exact)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, PSE, &self->rsp));
	EXPECT_STREQ("6F40840E315041592E5359532E4444463031"
		     "A52E880101BF0C28"
		     "61114F08A00000063201010550024550870101"
		     "61134F08A00000063201010650044543484F870102"
		     "9000", self->rsp.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00B2010C00", &self->rsp));
	EXPECT_STREQ("701361114F08A000000632010105500245508701019000", self->rsp.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00B2020C00", &self->rsp));
	EXPECT_STREQ("70156113" "4F08A00000063201010650044543484F870102" "9000", self->rsp.hex);
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, x(self->rapp, "00B2030C00", &self->rsp));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00B2011400", &self->rsp));	/* SFI 2 */
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->rapp, "00B2000C00", &self->rsp));
	EXPECT_EQ(HCE_SW_NO_EF, x(self->rapp, "00B2010400", &self->rsp));		/* SFI 0 */
	/* A directory is no application. */
	EXPECT_EQ(HCE_SW_CONDITIONS, x(self->rapp, GET_BALANCE, &self->rsp));
	EXPECT_EQ(0u, self->echo.calls);
}

/* With only the purse registered ("EP", priority 1) the router's PPSE, PSE and PSE record
 * are byte for byte what the purse answers on its own.
 */
TEST(ppse_pse_with_purse_alone_equal_purse_answers)
{
	struct t_card tc;
	struct hce_router *r;
	struct hce_aid ep = aid("A000000632010105");
	struct hce_aid_group g = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };
	const char *cmds[] = { PPSE, PSE, "00B2010C00", "00B2020C00" };
	struct rsp a, b;
	size_t i;

	ASSERT_EQ(0, t_card_open(&tc, HCE_ALG_3DES));
	ASSERT_EQ(0, hce_router_new(&r));
	ASSERT_EQ(0, hce_router_add(r, tc.app, &g, 1, NULL, 0));
	for (i = 0; i < 4; i++) {
		x(tc.app, cmds[i], &a);
		x(hce_router_app(r), cmds[i], &b);
		EXPECT_STREQ(a.hex, b.hex) TH_LOG("%s", cmds[i]);
		if (i == 0)
			EXPECT_STREQ("6F28840E325041592E5359532E4444463031A516BF0C13"
				     "61114F08A000000632010105500245508701019000", b.hex);
	}
	EXPECT_EQ(HCE_SW_RECORD_NOT_FOUND, a.sw);	/* the last command: record 2 */
	hce_router_free(r);
	t_card_close(&tc);
}

/* Directory entries that would not fit in a short FCI are left out, lowest priority first. */
TEST(ppse_fci_capped_at_256_bytes)
{
	struct echo e[8];
	struct hce_aid a[8];
	struct hce_aid_group g;
	struct hce_router *r;
	struct rsp rs;
	struct hce_rd rd;
	struct hce_tlv t;
	size_t i;
	char hex[40];

	ASSERT_EQ(0, hce_router_new(&r));
	for (i = 0; i < 8; i++) {
		echo_init(&e[i]);
		snprintf(hex, sizeof(hex), "A0000099%02zX0102030405060708090A0B", i);
		a[i] = aid(hex);
		g = (struct hce_aid_group){ HCE_AID_PAYMENT, "SIXTEEN CHARS AB", (uint8_t)(8 - i),
					    &a[i], 1 };
		ASSERT_EQ(0, hce_router_add(r, &e[i].app, &g, 1, NULL, 0));
	}
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), PPSE, &rs));
	EXPECT_LE(rs.len - 2, (size_t)HCE_ROUTER_FCI_MAX);
	/* 41-byte entries: 5 fit; the first listed is priority 1 (registered last). */
	rd = hce_rd_init(rs.b, rs.len - 2);
	ASSERT_EQ(1, hce_tlv_next(&rd, &t));
	ASSERT_EQ(1, hce_tlv_find(t.value, t.len, 0xA5, &t));
	ASSERT_EQ(1, hce_tlv_find(t.value, t.len, 0xBF0C, &t));
	rd = hce_rd_init(t.value, t.len);
	for (i = 0; hce_tlv_next(&rd, &t) == 1; i++) {
		ASSERT_EQ(0x61u, t.tag);
		EXPECT_EQ(0xA0, t.value[2]);
		EXPECT_EQ(7 - i, t.value[6]);	/* entry of e[7 - i] */
	}
	EXPECT_EQ(5u, i);
	hce_router_free(r);
}

/* --- SELECT by name (ISO 7816-4 P1 04) ------------------------------------------------- */

TEST_F(rt, select_aid_full_reaches_purse_then_commands_follow)
{
	struct t_purchase p;

	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_EP, &self->rsp));
	/* The purse's own FCI: 6F { 84 AID, A5 { 9F08, 9F0C } } */
	EXPECT_EQ(0x6F, self->rsp.b[0]);
	EXPECT_EQ(0, memcmp(self->rsp.b + 2, "\x84\x08\xA0\x00\x00\x06\x32\x01\x01\x05", 10));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, GET_BALANCE, &self->rsp));
	EXPECT_STREQ("000027109000", self->rsp.hex);
	/* A whole purchase through the router, MAC2 and TAC checked by the test card. */
	ASSERT_EQ(HCE_SW_OK, t_purchase(self->rapp, HCE_ALG_3DES, 150, 7, &p));
	EXPECT_EQ(T_BALANCE, p.balance);
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, GET_BALANCE, &self->rsp));
	EXPECT_STREQ("0000267A" "9000", self->rsp.hex);
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	EXPECT_EQ(0u, self->echo.calls);
}

TEST_F(rt, select_aid_unknown_gives_6a82_and_keeps_selection)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_EP, &self->rsp));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040007A00000000300FF00", &self->rsp));
	EXPECT_EQ(2u, self->rsp.len);
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040004A0000006", &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, GET_BALANCE, &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
}

/* ISO 7816-4 5.3.1.1: a right-truncated DF name selects the first AID it starts; P2 02 the
 * next occurrence, 01 the last, 03 the previous. The app gets the full registered AID.
 */
TEST_F(rt, select_partial_aid_first_next_last_previous_occurrence)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040005A00000063200", &self->rsp));
	EXPECT_EQ(0, memcmp(self->rsp.b + 2, "\x84\x08\xA0\x00\x00\x06\x32\x01\x01\x05", 10));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	/* next: the echo app, which receives a first-occurrence SELECT of its full AID */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040205A00000063200", &self->rsp));
	EXPECT_STREQ("A0000006320101069000", self->rsp.hex);
	EXPECT_EQ(0, memcmp(self->echo.last, "\x00\xA4\x04\x00\x08", 5));
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040205A00000063200", &self->rsp));
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
	/* previous: back to the purse */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040305A00000063200", &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040305A00000063200", &self->rsp));
	/* last */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040105A00000063200", &self->rsp));
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
	/* P2 0C: no response data asked; the echo app sees P2 0C */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040C08A000000632010106", &self->rsp));
	EXPECT_EQ(0x0C, self->echo.last[3]);
	/* 4 bytes is shorter than any AID (ISO 7816-5) */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040004A000000600", &self->rsp));
}

/* Prefix groups (Android's "A000...*"): any name starting with the prefix reaches the app
 * with the reader's name; a name that is a truncated prefix is a partial match (the app gets
 * the prefix).
 */
TEST(select_prefix_group_full_and_partial)
{
	struct echo e;
	struct hce_router *r;
	struct hce_aid p = aid("F0010203AABB*");
	struct hce_aid_group g = { HCE_AID_OTHER, NULL, 0, &p, 1 };
	struct rsp rs;

	echo_init(&e);
	ASSERT_EQ(0, hce_router_new(&r));
	ASSERT_EQ(0, hce_router_add(r, &e.app, &g, 1, NULL, 0));
	/* full: names starting with the prefix, up to 16 bytes, passed on as sent */
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), "00A4040008F0010203AABB0C0D00", &rs));
	EXPECT_STREQ("F0010203AABB0C0D9000", rs.hex);
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), "00A4040006F0010203AABB00", &rs));
	EXPECT_STREQ("F0010203AABB9000", rs.hex);
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), "00A4040010F0010203AABB0C0D0E0F101112131415"
			       "00", &rs));
	EXPECT_EQ(18u, rs.len);
	/* partial: a truncated prefix (>= 5 bytes); the app gets the prefix itself */
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), "00A4040005F0010203AA00", &rs));
	EXPECT_STREQ("F0010203AABB9000", rs.hex);
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(hce_router_app(r), "00A4040004F001020300", &rs));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(hce_router_app(r), "00A4040006F0010203AABC00", &rs));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(hce_router_app(r),
					 "00A4040011F0010203AABB0C0D0E0F10111213141516" "00", &rs));
	hce_router_free(r);
}

/* A SELECT the chosen app refuses is no selection: the current app stays. */
TEST_F(rt, select_refused_by_app_keeps_current)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_EP, &self->rsp));
	self->echo.sw = HCE_SW_FILE_NOT_FOUND;
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040008A00000063201010600", &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	/* a warning (62xx) completes the selection */
	self->echo.sw = 0x6283;
	EXPECT_EQ(0x6283, x(self->rapp, "00A4040008A00000063201010600", &self->rsp));
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
}

TEST_F(rt, select_by_name_bad_p2_or_length)
{
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->rapp, "00A4041008A000000632010105", &self->rsp));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->rapp, "00A40400", &self->rsp));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->rapp, "00A4040000", &self->rsp));
	/* PPSE: FCP/FMD asked 6A86; next occurrence 6A82 */
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->rapp, "00A404040E325041592E5359532E4444463031",
				       &self->rsp));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A404020E325041592E5359532E4444463031",
					   &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040C0E325041592E5359532E4444463031", &self->rsp));
	EXPECT_EQ(2u, self->rsp.len);
}

/* --- NDEF beside the purse ----------------------------------------------------------------- */

TEST_F(rt, select_ndef_aid_then_cc_and_ndef_file)
{
	uint8_t cc[HCE_NDEF_CC_LEN];
	char want[64];

	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_NDEF, &self->rsp));
	EXPECT_EQ(self->ndef, hce_router_current(self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4000C02E103", &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00B000000F", &self->rsp));
	hce_ndef_cc(18, cc);
	hce_hex_encode(cc, sizeof(cc), want, sizeof(want));
	strcat(want, "9000");
	EXPECT_STREQ(want, self->rsp.hex);
	EXPECT_STREQ("000F2000FF00FF0406E104001400FF9000", self->rsp.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4000C02E104", &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00B0000014", &self->rsp));
	/* NLEN 0012, D1 01 0E 55 04 "example.org/t" */
	EXPECT_STREQ("0012D1010E55046578616D706C652E6F72672F749000", self->rsp.hex);
	/* the purse's FIDs are not the NDEF app's; 3F00 falls back to the purse (its owner) */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A40000023F00", &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
}

/* --- FID-first readers ----------------------------------------------------------------------- */

/* Old readers: SELECT 3F00, SELECT 1001, SELECT EF 0015 (P1 02), READ BINARY, then a
 * purchase, all with no AID selection; the purse declared 3F00/1001. No default app here.
 */
TEST(fid_first_reader_reaches_purse_without_default)
{
	struct t_card tc;
	struct hce_router *r;
	struct hce_app *ra;
	struct hce_aid ep = aid("A000000632010105");
	struct hce_aid_group g = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };
	const uint16_t fids[] = { 0x3F00, 0x1001 };
	struct t_purchase p;
	struct rsp rs, direct;

	ASSERT_EQ(0, t_card_open(&tc, HCE_ALG_3DES));
	ASSERT_EQ(0, hce_router_new(&r));
	ra = hce_router_app(r);
	ASSERT_EQ(0, hce_router_add(r, tc.app, &g, 1, NULL, 0));
	/* before the FIDs are declared, nothing answers them */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(ra, "00A40000023F00", &rs));
	EXPECT_EQ(HCE_SW_CONDITIONS, x(ra, GET_BALANCE, &rs));
	ASSERT_EQ(0, hce_router_add_fids(r, tc.app, fids, 2, NULL, 0));
	ASSERT_EQ(HCE_SW_OK, x(ra, "00A40000023F00", &rs));
	x(tc.app, "00A40000023F00", &direct);
	EXPECT_STREQ(direct.hex, rs.hex);
	EXPECT_EQ(tc.app, hce_router_current(r));
	ASSERT_EQ(HCE_SW_OK, x(ra, "00A40000021001", &rs));
	ASSERT_EQ(HCE_SW_OK, x(ra, "00A40200020015", &rs));
	ASSERT_EQ(HCE_SW_OK, x(ra, "00B0000000", &rs));
	EXPECT_EQ(30u + 2, rs.len);
	ASSERT_EQ(HCE_SW_OK, t_purchase(ra, HCE_ALG_3DES, 100, 1, &p));
	ASSERT_EQ(HCE_SW_OK, x(ra, GET_BALANCE, &rs));
	EXPECT_STREQ("000026AC9000", rs.hex);
	/* a new session: straight to the DF by FID */
	hce_app_session_end(ra);
	EXPECT_EQ(NULL, hce_router_current(r));
	ASSERT_EQ(HCE_SW_OK, x(ra, "00A40000021001", &rs));
	EXPECT_EQ(HCE_SW_OK, x(ra, GET_BALANCE, &rs));
	/* an EF FID nobody declared, before any selection, with no default: 6A82 */
	hce_app_session_end(ra);
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(ra, "00A40000020015", &rs));
	hce_router_free(r);
	t_card_close(&tc);
}

TEST_F(rt, fid_select_after_ppse_reaches_owner)
{
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, PPSE, &self->rsp));
	EXPECT_EQ(NULL, hce_router_current(self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A40000021001", &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	EXPECT_EQ(HCE_SW_OK, x(self->rapp, GET_BALANCE, &self->rsp));
}

/* --- default application --------------------------------------------------------------------- */

TEST_F(rt, default_app_implicitly_selected_at_session_start)
{
	struct echo stranger;

	/* Nothing selected yet: the purse (default) answers, in its reset state (MF). */
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
	EXPECT_EQ(HCE_SW_CONDITIONS, x(self->rapp, GET_BALANCE, &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A40000021001", &self->rsp));
	EXPECT_EQ(HCE_SW_OK, x(self->rapp, GET_BALANCE, &self->rsp));
	/* the echo app as the default instead */
	ASSERT_EQ(0, hce_router_set_default(self->r, &self->echo.app));
	hce_app_session_end(self->rapp);
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "8001000002ABCD", &self->rsp));
	EXPECT_STREQ("ABCD9000", self->rsp.hex);
	EXPECT_EQ(1u, self->echo.calls);
	/* no default: a command with nothing selected is refused by the router */
	ASSERT_EQ(0, hce_router_set_default(self->r, NULL));
	hce_app_session_end(self->rapp);
	EXPECT_EQ(HCE_SW_CONDITIONS, x(self->rapp, "8001000002ABCD", &self->rsp));
	EXPECT_EQ(1u, self->echo.calls);
	echo_init(&stranger);
	EXPECT_EQ(-ENOENT, hce_router_set_default(self->r, &stranger.app));
}

/* --- session end and deselection ------------------------------------------------------------- */

TEST_F(rt, session_end_tells_every_app_that_saw_the_session_once)
{
	struct echo other;
	struct hce_aid oa = aid("F0000000010203");
	struct hce_aid_group g = { HCE_AID_OTHER, NULL, 0, &oa, 1 };

	echo_init(&other);
	ASSERT_EQ(0, hce_router_add(self->r, &other.app, &g, 1, NULL, 0));
	ASSERT_EQ(0, hce_router_set_default(self->r, &self->echo.app));
	hce_app_session_end(self->rapp);
	EXPECT_EQ(0u, self->echo.ends);	/* saw nothing */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "8001000001AA", &self->rsp));	/* echo (default) */
	hce_app_session_end(self->rapp);
	EXPECT_EQ(1u, self->echo.ends);
	EXPECT_EQ(0u, other.ends);
	/* echo, then other: echo is told when left, other at the end; each once */
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040008A00000063201010600", &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040007F000000001020300", &self->rsp));
	EXPECT_EQ(2u, self->echo.ends);
	EXPECT_EQ(0u, other.ends);
	hce_app_session_end(self->rapp);
	EXPECT_EQ(2u, self->echo.ends);
	EXPECT_EQ(1u, other.ends);
	/* selection reset to the default */
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
}

/* epurse.md: a new selection cancels the purse's pending operation: a DEBIT after another
 * application was selected in between (and the purse again) answers 6901.
 */
TEST_F(rt, leaving_purse_cancels_pending_purchase_6901)
{
	struct t_rsp tr;
	uint8_t mac1[4] = { 0 }, c[21];

	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_EP, &self->rsp));
	ASSERT_EQ(HCE_SW_OK, t_init(self->rapp, 0x01, 1, 100, &tr));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_NDEF, &self->rsp));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, SEL_EP, &self->rsp));
	t_debit_apdu(1, mac1, c);
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->rapp, c, sizeof(c), &tr));
	/* a malformed APDU goes to the current app too (and cancels, as the purse says) */
	ASSERT_EQ(HCE_SW_OK, t_init(self->rapp, 0x01, 1, 100, &tr));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->rapp, "805C", &self->rsp));
	EXPECT_EQ(HCE_SW_NOT_ALLOWED, t_xb(self->rapp, c, sizeof(c), &tr));
}

/* --- malformed APDUs and misbehaving apps ----------------------------------------------- */

TEST(malformed_apdus_with_nothing_selected)
{
	struct hce_router *r;
	struct rsp rs;
	uint8_t out[2];

	ASSERT_EQ(0, hce_router_new(&r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(hce_router_app(r), "00", &rs));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(hce_router_app(r), "00A4040005A0000006", &rs));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(hce_router_app(r), "00A4040008A000000632010105", &rs));
	EXPECT_EQ(HCE_SW_CONDITIONS, x(hce_router_app(r), "00CA9F7F00", &rs));
	EXPECT_EQ(HCE_SW_CLA_NOT_SUPPORTED, x(hce_router_app(r), "A0CA9F7F00", &rs));
	EXPECT_EQ(HCE_SW_NO_EF, x(hce_router_app(r), "00B0000010", &rs));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(hce_router_app(r), "00B0950010", &rs));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(hce_router_app(r), "00B0E50010", &rs));
	/* an empty registry still answers PPSE, with no entry */
	ASSERT_EQ(HCE_SW_OK, x(hce_router_app(r), PPSE, &rs));
	EXPECT_STREQ("6F15840E325041592E5359532E4444463031A503BF0C009000", rs.hex);
	/* capacity below a status word: nothing written */
	EXPECT_EQ(0u, hce_app_process(hce_router_app(r), (const uint8_t *)"\x00\xA4\x04\x00", 4,
				      out, 1));
	hce_router_free(r);
}

TEST_F(rt, app_breaking_contract_gives_6f00)
{
	self->echo.broken = 1;
	EXPECT_EQ(HCE_SW_UNKNOWN, x(self->rapp, "00A4040008A00000063201010600", &self->rsp));
	EXPECT_EQ(self->tc.app, hce_router_current(self->r));
}

/* --- registration and the conflict rule ------------------------------------------------------ */

TEST_F(rt, conflict_same_exact_aid_refused_with_both_names)
{
	struct echo other;
	struct hce_aid a = aid("A000000632010105");
	struct hce_aid_group g = { HCE_AID_PAYMENT, "EP2", 1, &a, 1 };

	echo_init(&other);
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, &g, 1, self->err,
					  sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "A000000632010105"));
	EXPECT_NE(NULL, strstr(self->err, "'purse'"));
	EXPECT_NE(NULL, strstr(self->err, "'echo'"));
	/* nothing registered: other is no app of the router */
	EXPECT_EQ(-ENOENT, hce_router_set_default(self->r, &other.app));
}

TEST_F(rt, conflict_prefix_overlaps_refused_all_or_nothing)
{
	struct echo other, third;
	struct hce_aid ok = aid("F0000000AA0102"), pre = aid("A00000063201*");
	struct hce_aid wide = aid("A000000632*"), p3 = aid("F0000000AA*");
	struct hce_aid own = aid("F0000000AA01*");
	struct hce_aid_group g[2] = { { HCE_AID_OTHER, NULL, 0, &ok, 1 },
				      { HCE_AID_OTHER, NULL, 0, &pre, 1 } };
	struct hce_aid_group gw = { HCE_AID_OTHER, NULL, 0, &wide, 1 };
	struct hce_aid_group g3 = { HCE_AID_OTHER, NULL, 0, &p3, 1 };
	struct hce_aid_group go = { HCE_AID_OTHER, NULL, 0, &own, 1 };
	struct rsp rs;

	echo_init(&other);
	echo_init(&third);
	/* a prefix covering the purse's exact AID: refused, and the good group of the same
	 * call is not registered either
	 */
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, g, 2, self->err,
					  sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "A00000063201*"));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->rapp, "00A4040005F0000000AA00", &rs));
	ASSERT_EQ(0, hce_router_add(self->r, &other.app, g, 1, NULL, 0));
	ASSERT_EQ(HCE_SW_OK, x(self->rapp, "00A4040005F0000000AA00", &rs));
	EXPECT_EQ(&other.app, hce_router_current(self->r));
	/* a wider prefix over two apps' AIDs; a prefix over another app's exact AID */
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, &gw, 1, NULL, 0));
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &third.app, &g3, 1, self->err,
					  sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "F0000000AA"));
	/* the same app may hold a prefix and exact AIDs under it (routing + directory) ... */
	EXPECT_EQ(0, hce_router_add(self->r, &other.app, &go, 1, NULL, 0));
	/* ... but not the same AID twice; and now overlapping prefixes across apps */
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, &go, 1, NULL, 0));
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &third.app, &go, 1, NULL, 0));
	/* partial overlap is no conflict: ...0105 and ...0106 are both selectable */
	EXPECT_EQ(HCE_SW_OK, x(self->rapp, "00A4040008A00000063201010600", &rs));
	EXPECT_EQ(&self->echo.app, hce_router_current(self->r));
}

TEST_F(rt, conflict_with_ppse_pse_names_refused)
{
	struct echo other;
	struct hce_aid a = aid("325041592E5359532E4444463031"), p = aid("315041592E*");
	struct hce_aid_group g = { HCE_AID_PAYMENT, NULL, 0, &a, 1 };

	echo_init(&other);
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, &g, 1, self->err,
					  sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "PSE/PPSE"));
	g.aids = &p;
	EXPECT_EQ(-EEXIST, hce_router_add(self->r, &other.app, &g, 1, NULL, 0));
}

TEST(register_invalid_arguments)
{
	struct hce_router *r;
	struct echo e;
	struct hce_aid a = aid("A0000000010203"), shortaid = { 4, false, { 1, 2, 3, 4 } };
	struct hce_aid_group g = { HCE_AID_PAYMENT, "OK", 1, &a, 1 };
	struct hce_app noops = { NULL, NULL };
	const uint16_t fid = 0x3F00;
	char err[128];

	echo_init(&e);
	ASSERT_EQ(0, hce_router_new(&r));
	EXPECT_EQ(-EINVAL, hce_router_add(r, &noops, &g, 1, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, hce_router_add(r, hce_router_app(r), &g, 1, err, sizeof(err)));
	g.label = "SEVENTEEN CHARS!!";
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	g.label = "";
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	g.label = "OK";
	g.priority = 16;
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	g.priority = 1;
	g.category = (enum hce_aid_category)7;
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	g.category = HCE_AID_OTHER;
	g.aids = &shortaid;
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "5..16"));
	g.aids = &a;
	g.n_aids = 0;
	EXPECT_EQ(-EINVAL, hce_router_add(r, &e.app, &g, 1, err, sizeof(err)));
	EXPECT_EQ(-ENOENT, hce_router_add_fids(r, &e.app, &fid, 1, err, sizeof(err)));
	/* an app with no group at all (FID only) */
	EXPECT_EQ(0, hce_router_add(r, &e.app, NULL, 0, err, sizeof(err)));
	EXPECT_EQ(0, hce_router_add_fids(r, &e.app, &fid, 1, err, sizeof(err)));
	EXPECT_EQ(0, hce_router_add_fids(r, &e.app, &fid, 1, err, sizeof(err)));	/* again */
	hce_router_free(r);
}

TEST_F(rt, fid_conflict_refused)
{
	const uint16_t fid = 0x1001;

	EXPECT_EQ(-EEXIST, hce_router_add_fids(self->r, &self->echo.app, &fid, 1, self->err,
					       sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "1001"));
}

TEST(register_limits_enospc)
{
	struct hce_router *r;
	struct echo e[HCE_ROUTER_MAX_APPS + 1];
	struct hce_aid a[HCE_ROUTER_MAX_AIDS + 1];
	struct hce_aid_group g = { HCE_AID_OTHER, NULL, 0, a, HCE_ROUTER_MAX_AIDS + 1 };
	uint16_t fids[HCE_ROUTER_MAX_FIDS + 1];
	size_t i;

	for (i = 0; i <= HCE_ROUTER_MAX_AIDS; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].len = 6;
		a[i].b[0] = 0xF0;
		a[i].b[5] = (uint8_t)i;
	}
	for (i = 0; i <= HCE_ROUTER_MAX_FIDS; i++)
		fids[i] = (uint16_t)(0x2000 + i);
	ASSERT_EQ(0, hce_router_new(&r));
	echo_init(&e[0]);
	EXPECT_EQ(-ENOSPC, hce_router_add(r, &e[0].app, &g, 1, NULL, 0));
	g.n_aids = HCE_ROUTER_MAX_AIDS;
	EXPECT_EQ(0, hce_router_add(r, &e[0].app, &g, 1, NULL, 0));
	EXPECT_EQ(-ENOSPC, hce_router_add_fids(r, &e[0].app, fids, HCE_ROUTER_MAX_FIDS + 1, NULL,
					       0));
	EXPECT_EQ(0, hce_router_add_fids(r, &e[0].app, fids, HCE_ROUTER_MAX_FIDS, NULL, 0));
	for (i = 1; i < HCE_ROUTER_MAX_APPS; i++) {
		echo_init(&e[i]);
		EXPECT_EQ(0, hce_router_add(r, &e[i].app, NULL, 0, NULL, 0));
	}
	echo_init(&e[i]);
	EXPECT_EQ(-ENOSPC, hce_router_add(r, &e[i].app, NULL, 0, NULL, 0));
	hce_router_free(r);
}

TEST(aid_parse_exact_prefix_and_errors)
{
	struct hce_aid a;

	ASSERT_EQ(0, hce_aid_parse("a000000632010105", &a));
	EXPECT_EQ(8, a.len);
	EXPECT_FALSE(a.prefix);
	EXPECT_EQ(0, memcmp(a.b, "\xA0\x00\x00\x06\x32\x01\x01\x05", 8));
	ASSERT_EQ(0, hce_aid_parse("A000000632*", &a));
	EXPECT_EQ(5, a.len);
	EXPECT_TRUE(a.prefix);
	EXPECT_EQ(-EINVAL, hce_aid_parse("A0000006", &a));		/* 4 bytes */
	EXPECT_EQ(-EINVAL, hce_aid_parse("A0000006320", &a));	/* odd */
	EXPECT_EQ(-EINVAL, hce_aid_parse("A0 00 00 06 32", &a));	/* spaces */
	EXPECT_EQ(-EINVAL, hce_aid_parse("A000000632010105A00000063201010501", &a)); /* 17 */
	EXPECT_EQ(-EINVAL, hce_aid_parse("*", &a));
	EXPECT_EQ(-EINVAL, hce_aid_parse("", &a));
	EXPECT_EQ(-EINVAL, hce_aid_parse(NULL, &a));
	EXPECT_EQ(-EINVAL, hce_aid_parse("A00000063G", &a));
}

TEST_HARNESS_MAIN
