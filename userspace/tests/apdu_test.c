// SPDX-License-Identifier: GPL-2.0
/* apdu_test.c - ISO 7816-4 C-APDU parser cases 1-4, short and extended, and builders. */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "codec/apdu.h"

static uint16_t parse(const uint8_t *b, size_t n, struct hce_capdu *c)
{
	return hce_capdu_parse(b, n, c);
}

TEST(capdu_case1_header_only)
{
	const uint8_t b[] = { 0x00, 0xA4, 0x04, 0x00 };
	struct hce_capdu c;

	ASSERT_EQ(0, parse(b, sizeof(b), &c));
	EXPECT_EQ(1, c.icase);
	EXPECT_EQ(0, c.nc);
	EXPECT_EQ(0, c.ne);
	EXPECT_FALSE(c.has_le);
	EXPECT_EQ(0xA4, c.ins);
}

TEST(capdu_short_header_gives_6700)
{
	const uint8_t b[] = { 0x00, 0xA4, 0x04 };
	struct hce_capdu c;

	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(b, 0, &c));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(b, 3, &c));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(NULL, 4, &c));
}

TEST(capdu_case2s_le00_is_256)
{
	const uint8_t b[] = { 0x00, 0xB0, 0x95, 0x00, 0x00 };
	struct hce_capdu c;

	ASSERT_EQ(0, parse(b, sizeof(b), &c));
	EXPECT_EQ(2, c.icase);
	EXPECT_EQ(256, c.ne);
	EXPECT_TRUE(c.has_le);
	EXPECT_FALSE(c.extended);
}

TEST(capdu_case3s_and_4s)
{
	const uint8_t b3[] = { 0x80, 0x5A, 0x00, 0x06, 0x02, 0x00, 0x05 };
	const uint8_t b4[] = { 0x80, 0x5A, 0x00, 0x06, 0x02, 0x00, 0x05, 0x08 };
	struct hce_capdu c;

	ASSERT_EQ(0, parse(b3, sizeof(b3), &c));
	EXPECT_EQ(3, c.icase);
	EXPECT_EQ(2, c.nc);
	EXPECT_EQ(b3 + 5, c.data);
	EXPECT_FALSE(c.has_le);
	ASSERT_EQ(0, parse(b4, sizeof(b4), &c));
	EXPECT_EQ(4, c.icase);
	EXPECT_EQ(2, c.nc);
	EXPECT_EQ(8, c.ne);
}

TEST(capdu_lc_disagrees_with_data_gives_6700)
{
	const uint8_t shortd[] = { 0x80, 0x5A, 0x00, 0x06, 0x03, 0x00, 0x05 };
	const uint8_t longd[] = { 0x80, 0x5A, 0x00, 0x06, 0x01, 0x00, 0x05, 0x08 };
	struct hce_capdu c;

	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(shortd, sizeof(shortd), &c));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(longd, sizeof(longd), &c));
	EXPECT_EQ(0, c.nc);	/* zeroed on failure */
}

TEST(capdu_case2e_le0000_is_65536)
{
	const uint8_t b[] = { 0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00 };
	const uint8_t b2[] = { 0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x02 };
	struct hce_capdu c;

	ASSERT_EQ(0, parse(b, sizeof(b), &c));
	EXPECT_EQ(2, c.icase);
	EXPECT_TRUE(c.extended);
	EXPECT_EQ(65536, c.ne);
	ASSERT_EQ(0, parse(b2, sizeof(b2), &c));
	EXPECT_EQ(258, c.ne);
}

TEST(capdu_case3e_and_4e)
{
	uint8_t b[4 + 3 + 300 + 2];
	struct hce_capdu c;

	memset(b, 0x5A, sizeof(b));
	b[0] = 0x00; b[1] = 0xD6; b[2] = 0; b[3] = 0;
	b[4] = 0x00; b[5] = 0x01; b[6] = 0x2C;	/* Lc 300 */
	ASSERT_EQ(0, parse(b, 4 + 3 + 300, &c));
	EXPECT_EQ(3, c.icase);
	EXPECT_EQ(300, c.nc);
	EXPECT_TRUE(c.extended);
	b[307] = 0x00; b[308] = 0x00;
	ASSERT_EQ(0, parse(b, sizeof(b), &c));
	EXPECT_EQ(4, c.icase);
	EXPECT_EQ(65536, c.ne);
	/* one byte too many or too few */
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(b, 4 + 3 + 301, &c));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(b, 4 + 3 + 299, &c));
}

TEST(capdu_extended_lc0000_and_bare_00_are_malformed)
{
	const uint8_t lc0[] = { 0x00, 0xD6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
	const uint8_t bare[] = { 0x00, 0xD6, 0x00, 0x00, 0x00, 0x01 };
	struct hce_capdu c;

	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(lc0, sizeof(lc0), &c));
	EXPECT_EQ(HCE_SW_WRONG_LENGTH, parse(bare, sizeof(bare), &c));
}

TEST(capdu_every_length_up_to_300_is_parsed_or_6700)
{
	uint8_t b[300];
	struct hce_capdu c;
	size_t n;
	unsigned int lc;

	/* exhaustive over short Lc and total length: never reads out of bounds (ASan) */
	for (lc = 0; lc < 256; lc++) {
		memset(b, 0x11, sizeof(b));
		b[4] = (uint8_t)lc;
		for (n = 0; n < sizeof(b); n++) {
			uint16_t sw = parse(b, n, &c);

			if (sw == 0) {
				EXPECT_LE(c.nc, n);
				if (c.nc)
					EXPECT_LE((size_t)(c.data - b) + c.nc, n);
			} else {
				EXPECT_EQ(HCE_SW_WRONG_LENGTH, sw);
			}
		}
	}
}

TEST(capdu_build_roundtrip_short_and_extended)
{
	uint8_t data[300], out[320];
	struct hce_capdu c = { .cla = 0x80, .ins = 0x50, .p1 = 0x01, .p2 = 0x02 }, d;
	size_t n;

	memset(data, 0x33, sizeof(data));
	c.data = data;
	c.nc = 11;
	c.ne = 15;
	n = hce_capdu_build(&c, out, sizeof(out));
	ASSERT_EQ(4 + 1 + 11 + 1, n);
	ASSERT_EQ(0, parse(out, n, &d));
	EXPECT_EQ(11, d.nc);
	EXPECT_EQ(15, d.ne);
	c.nc = 300;
	c.ne = 256;
	n = hce_capdu_build(&c, out, sizeof(out));
	ASSERT_EQ(4 + 3 + 300 + 2, n);
	ASSERT_EQ(0, parse(out, n, &d));
	EXPECT_EQ(300, d.nc);
	EXPECT_EQ(256, d.ne);
	EXPECT_TRUE(d.extended);
	EXPECT_EQ(0, hce_capdu_build(&c, out, 100));
}

TEST(rapdu_build_appends_sw_and_checks_capacity)
{
	uint8_t out[8];
	const uint8_t d[4] = { 1, 2, 3, 4 };

	ASSERT_EQ(6, hce_rapdu_build(out, sizeof(out), d, 4, 0x9000));
	EXPECT_EQ(0x90, out[4]);
	EXPECT_EQ(0x00, out[5]);
	EXPECT_EQ(0, hce_rapdu_build(out, 5, d, 4, 0x9000));
	EXPECT_EQ(2, hce_rapdu_build(out, 2, NULL, 0, 0x6A82));
}

TEST_HARNESS_MAIN
