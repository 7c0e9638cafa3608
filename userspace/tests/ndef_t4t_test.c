// SPDX-License-Identifier: GPL-2.0
/*
 * ndef_t4t_test.c - the NFC Forum Type 4 Tag application, mapping version 2.0 (ndef/ndef.h):
 * the NDEF detection procedure as a reader runs it (T4T 2.0 section 5.4: SELECT NDEF Tag
 * Application, SELECT CC, READ BINARY CC, SELECT NDEF file, READ BINARY NLEN then message),
 * CC and NDEF file contents byte-exact, READ BINARY bounds, read-only (6982), malformed APDUs,
 * session end; then the same through the router beside the real purse.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "codec/apdu.h"
#include "codec/hex.h"
#include "ndef/ndef.h"
#include "purse_testcard.h"
#include "router/router.h"

struct rsp {
	uint8_t b[HCE_RAPDU_MIN_CAP];
	size_t len;
	char hex[2 * HCE_RAPDU_MIN_CAP + 1];
	uint16_t sw;
};

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

#define SEL_APP "00A4040007D276000085010100"
#define SEL_CC "00A4000C02E103"
#define SEL_NDEF "00A4000C02E104"

FIXTURE(tag)
{
	struct hce_app *app;
	uint8_t msg[64];
	size_t len;
	struct rsp r;
};

FIXTURE_SETUP(tag)
{
	ASSERT_EQ(0, hce_ndef_build_text("en", "linux-hce", self->msg, sizeof(self->msg),
					 &self->len));
	ASSERT_EQ(16u, self->len);
	ASSERT_EQ(0, hce_ndef_app_new(self->msg, self->len, &self->app, NULL, 0));
}

FIXTURE_TEARDOWN(tag)
{
	hce_ndef_app_free(self->app);
}

/* T4T 2.0 5.1 / table 4: CCLEN 000F, version 20, MLe, MLc, TLV 04 06 E104 size 00 FF. */
TEST_F(tag, detection_procedure_cc_and_ndef_file_byte_exact)
{
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	EXPECT_STREQ("9000", self->r.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_CC, &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, "00B000000F", &self->r));
	EXPECT_STREQ("000F" "20" "00FF" "00FF" "0406E1040012" "00" "FF" "9000", self->r.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_NDEF, &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, "00B0000002", &self->r));
	EXPECT_STREQ("00109000", self->r.hex);
	ASSERT_EQ(HCE_SW_OK, x(self->app, "00B0000210", &self->r));
	EXPECT_STREQ("D1010C5402656E6C696E75782D6863659000", self->r.hex);
	/* Le 00: everything from the offset (+ 6282, fewer than 256 bytes) */
	EXPECT_EQ(HCE_SW_WARN_EOF, x(self->app, "00B0000000", &self->r));
	EXPECT_EQ(18u + 2, self->r.len);
	/* P2 00 also accepted for the file selections */
	EXPECT_EQ(HCE_SW_OK, x(self->app, "00A4000002E103", &self->r));
	EXPECT_EQ(2u, self->r.len);
}

TEST_F(tag, read_binary_bounds)
{
	uint8_t cc[HCE_NDEF_CC_LEN];
	char c[16];
	unsigned int off;

	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	EXPECT_EQ(HCE_SW_NO_EF, x(self->app, "00B0000002", &self->r));	/* no file yet */
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_CC, &self->r));
	/* Le past the end: the rest + 6282 */
	ASSERT_EQ(HCE_SW_WARN_EOF, x(self->app, "00B0000D05", &self->r));
	EXPECT_STREQ("00FF6282", self->r.hex);
	/* offset = length: no data, 6282; offset past: 6B00 */
	EXPECT_EQ(HCE_SW_WARN_EOF, x(self->app, "00B0000F01", &self->r));
	EXPECT_EQ(2u, self->r.len);
	EXPECT_EQ(HCE_SW_WRONG_OFFSET, x(self->app, "00B0001001", &self->r));
	EXPECT_EQ(HCE_SW_WRONG_OFFSET, x(self->app, "00B07FFF01", &self->r));
	/* P1 bit 8 (SFI): not in the mapping */
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->app, "00B0810001", &self->r));
	/* with data: wrong length */
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->app, "00B000000100", &self->r));
	/* exact reads at every offset give the CC byte for byte */
	hce_ndef_cc(self->len, cc);
	for (off = 0; off < HCE_NDEF_CC_LEN; off++) {
		snprintf(c, sizeof(c), "00B0%04X01", off);
		ASSERT_EQ(HCE_SW_OK, x(self->app, c, &self->r));
		EXPECT_EQ(cc[off], self->r.b[0]);
	}
}

/* A message longer than one READ BINARY: read in MLe chunks, reassembled exactly. */
TEST(large_message_read_in_mle_chunks)
{
	uint8_t msg[1200], got[1210], c[8];
	struct hce_ndef_builder b;
	struct hce_app *app;
	struct rsp r;
	char text[1100];
	size_t len, off = 0, n;

	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	hce_ndef_builder_init(&b, msg, sizeof(msg));
	ASSERT_EQ(0, hce_ndef_add_uri(&b, "https://example.org/"));
	ASSERT_EQ(0, hce_ndef_add_text(&b, "en", text));
	ASSERT_EQ(0, hce_ndef_finish(&b, &len));
	ASSERT_EQ(0, hce_ndef_app_new(msg, len, &app, NULL, 0));
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_APP, &r));
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_CC, &r));
	ASSERT_EQ(HCE_SW_OK, x(app, "00B000000F", &r));
	EXPECT_EQ(len + 2, (size_t)hce_get_be16(r.b + 11));
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_NDEF, &r));
	while (off < len + 2) {
		n = len + 2 - off < HCE_NDEF_MLE ? len + 2 - off : HCE_NDEF_MLE;
		c[0] = 0x00;
		c[1] = 0xB0;
		hce_put_be16(c + 2, (uint16_t)off);
		c[4] = (uint8_t)n;
		r.len = hce_app_process(app, c, 5, r.b, sizeof(r.b));
		ASSERT_EQ(n + 2, r.len);
		ASSERT_EQ(0x90, r.b[n]);
		memcpy(got + off, r.b, n);
		off += n;
	}
	EXPECT_EQ(len, (size_t)hce_get_be16(got));
	EXPECT_EQ(0, memcmp(got + 2, msg, len));
	hce_ndef_app_free(app);
}

TEST_F(tag, update_binary_refused_read_only_6982)
{
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_NDEF, &self->r));
	EXPECT_EQ(HCE_NDEF_SW_SECURITY, x(self->app, "00D60000020000", &self->r));
	EXPECT_EQ(2u, self->r.len);
	ASSERT_EQ(HCE_SW_OK, x(self->app, "00B0000002", &self->r));
	EXPECT_STREQ("00109000", self->r.hex);		/* unchanged */
}

/* T4T 2.0: the files exist only once the NDEF Tag Application is selected. */
TEST_F(tag, file_select_before_application_6a82)
{
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->app, SEL_CC, &self->r));
	EXPECT_EQ(HCE_SW_NO_EF, x(self->app, "00B000000F", &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->app, "00A4000C02E105", &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_CC, &self->r));
	/* a failed selection keeps the current file */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->app, "00A4000C023F00", &self->r));
	EXPECT_EQ(HCE_SW_OK, x(self->app, "00B0000002", &self->r));
	EXPECT_STREQ("000F9000", self->r.hex);
	/* another AID (mapping 1.0's D2760000850100) */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->app, "00A4040007D276000085010000",
					   &self->r));
}

TEST_F(tag, malformed_and_unsupported_apdus)
{
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->app, "00A4", &self->r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->app, "00A4040008D2760000850101", &self->r));
	EXPECT_EQ(HCE_SW_CLA_NOT_SUPPORTED, x(self->app, "80A4040007D276000085010100",
					      &self->r));
	EXPECT_EQ(HCE_SW_INS_NOT_SUPPORTED, x(self->app, "00CA000000", &self->r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->app, "00A4041007D2760000850101", &self->r));
	EXPECT_EQ(HCE_SW_WRONG_P1P2, x(self->app, "00A4080C02E103", &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, x(self->app, "00A4000C03E10300", &self->r));
}

TEST_F(tag, session_end_forgets_application_and_file)
{
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_APP, &self->r));
	ASSERT_EQ(HCE_SW_OK, x(self->app, SEL_NDEF, &self->r));
	hce_app_session_end(self->app);
	EXPECT_EQ(HCE_SW_NO_EF, x(self->app, "00B0000002", &self->r));
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(self->app, SEL_NDEF, &self->r));
}

TEST(app_new_refuses_bad_messages)
{
	struct hce_app *app = (struct hce_app *)1;
	const uint8_t bad[] = { 0x91, 0x01, 0x00, 0x54 };	/* no ME */
	static uint8_t big[HCE_NDEF_MSG_MAX + 1];
	char err[96] = "";

	EXPECT_EQ(-EBADMSG, hce_ndef_app_new(bad, sizeof(bad), &app, err, sizeof(err)));
	EXPECT_EQ(NULL, app);
	EXPECT_NE(0, err[0]);
	EXPECT_EQ(-EBADMSG, hce_ndef_app_new(bad, 0, &app, NULL, 0));
	EXPECT_EQ(-EMSGSIZE, hce_ndef_app_new(big, sizeof(big), &app, err, sizeof(err)));
	hce_ndef_app_free(NULL);
}

/* The largest message: the CC says 7FFF bytes and the last byte is readable at 7FFE. */
TEST(largest_message_last_byte_readable)
{
	static uint8_t msg[HCE_NDEF_MSG_MAX];
	struct hce_app *app;
	struct rsp r;

	/* one normal record: header 6 bytes + type 1, payload fills the rest */
	msg[0] = 0xC5;	/* MB ME TNF 5 (unknown): no type */
	msg[1] = 0;
	hce_put_be32(msg + 2, HCE_NDEF_MSG_MAX - 6);
	msg[HCE_NDEF_MSG_MAX - 1] = 0x5A;
	ASSERT_EQ(0, hce_ndef_app_new(msg, sizeof(msg), &app, NULL, 0));
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_APP, &r));
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_CC, &r));
	ASSERT_EQ(HCE_SW_OK, x(app, "00B000000F", &r));
	EXPECT_STREQ("000F2000FF00FF0406E1047FFF00FF9000", r.hex);
	ASSERT_EQ(HCE_SW_OK, x(app, SEL_NDEF, &r));
	ASSERT_EQ(HCE_SW_OK, x(app, "00B07FFE01", &r));
	EXPECT_STREQ("5A9000", r.hex);
	EXPECT_EQ(HCE_SW_WARN_EOF, x(app, "00B07FFE02", &r));
	hce_ndef_app_free(app);
}

/* Through the router beside the real purse: an NFC phone reads the tag, then a gate reads
 * the purse in the next session, then the tag again.
 */
TEST(routed_beside_purse)
{
	struct t_card tc;
	struct hce_router *rt;
	struct hce_app *ndef, *ra;
	struct hce_aid ep, na = { HCE_NDEF_AID_LEN, false, { 0 } };
	struct hce_aid_group g_ep = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };
	struct hce_aid_group g_ndef = { HCE_AID_OTHER, NULL, 0, &na, 1 };
	uint8_t msg[64];
	size_t len;
	struct rsp r;

	memcpy(na.b, hce_ndef_aid, HCE_NDEF_AID_LEN);
	ASSERT_EQ(0, hce_aid_parse("A000000632010105", &ep));
	ASSERT_EQ(0, t_card_open(&tc, HCE_ALG_3DES));
	ASSERT_EQ(0, hce_ndef_build_uri("http://www.a.cn", msg, sizeof(msg), &len));
	ASSERT_EQ(0, hce_ndef_app_new(msg, len, &ndef, NULL, 0));
	ASSERT_EQ(0, hce_router_new(&rt));
	ra = hce_router_app(rt);
	ASSERT_EQ(0, hce_router_add(rt, tc.app, &g_ep, 1, NULL, 0));
	ASSERT_EQ(0, hce_router_add(rt, ndef, &g_ndef, 1, NULL, 0));
	ASSERT_EQ(0, hce_router_set_default(rt, tc.app));

	ASSERT_EQ(HCE_SW_OK, x(ra, SEL_APP, &r));
	ASSERT_EQ(HCE_SW_OK, x(ra, SEL_NDEF, &r));
	ASSERT_EQ(HCE_SW_WARN_EOF, x(ra, "00B0000000", &r));
	EXPECT_STREQ("0009D101055501612E636E6282", r.hex);
	hce_app_session_end(ra);
	ASSERT_EQ(HCE_SW_OK, x(ra, "00A4040008A000000632010105", &r));
	ASSERT_EQ(HCE_SW_OK, x(ra, "805C000204", &r));
	EXPECT_STREQ("000027109000", r.hex);
	/* the purse does not answer the tag's files */
	EXPECT_EQ(HCE_SW_FILE_NOT_FOUND, x(ra, SEL_NDEF, &r));
	hce_app_session_end(ra);
	ASSERT_EQ(HCE_SW_OK, x(ra, SEL_APP, &r));
	ASSERT_EQ(HCE_SW_OK, x(ra, SEL_CC, &r));
	hce_router_free(rt);
	hce_ndef_app_free(ndef);
	t_card_close(&tc);
}

TEST_HARNESS_MAIN
