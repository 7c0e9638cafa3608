// SPDX-License-Identifier: GPL-2.0
/* tlv_test.c - BER-TLV reader and writer. */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "codec/tlv.h"

TEST(tlv_read_simple_and_multibyte_tag)
{
	const uint8_t b[] = { 0x84, 0x02, 0xA0, 0x00, 0x9F, 0x08, 0x01, 0x02 };
	struct hce_rd r = hce_rd_init(b, sizeof(b));
	struct hce_tlv t;

	ASSERT_EQ(1, hce_tlv_next(&r, &t));
	EXPECT_EQ(0x84, t.tag);
	EXPECT_EQ(2, t.len);
	EXPECT_FALSE(t.constructed);
	ASSERT_EQ(1, hce_tlv_next(&r, &t));
	EXPECT_EQ(0x9F08, t.tag);
	EXPECT_EQ(1, t.len);
	EXPECT_EQ(0x02, t.value[0]);
	EXPECT_EQ(0, hce_tlv_next(&r, &t));
}

TEST(tlv_long_length_forms)
{
	uint8_t b[3 + 200];
	struct hce_rd r;
	struct hce_tlv t;

	memset(b, 0, sizeof(b));
	b[0] = 0x70; b[1] = 0x81; b[2] = 200;
	r = hce_rd_init(b, sizeof(b));
	ASSERT_EQ(1, hce_tlv_next(&r, &t));
	EXPECT_EQ(200, t.len);
	EXPECT_TRUE(t.constructed);
}

TEST(tlv_malformed_leaves_reader_unchanged)
{
	const uint8_t trunc[] = { 0x84, 0x05, 0x01 };
	const uint8_t indef[] = { 0x70, 0x80, 0x00, 0x00 };
	const uint8_t l84[] = { 0x70, 0x84, 0, 0, 0, 1, 0 };
	const uint8_t tag4[] = { 0x9F, 0x81, 0x81, 0x01, 0x00 };
	const uint8_t notag[] = { 0x9F };
	const uint8_t *cases[] = { trunc, indef, l84, tag4, notag };
	const size_t lens[] = { sizeof(trunc), sizeof(indef), sizeof(l84), sizeof(tag4),
				sizeof(notag) };
	struct hce_tlv t;
	size_t i;

	for (i = 0; i < 5; i++) {
		struct hce_rd r = hce_rd_init(cases[i], lens[i]);

		EXPECT_EQ(-1, hce_tlv_next(&r, &t));
		EXPECT_EQ(lens[i], hce_rd_left(&r));
	}
}

TEST(tlv_nested_writer_fixes_lengths_short_and_long)
{
	uint8_t buf[400], big[150];
	struct hce_wr w = hce_wr_init(buf, sizeof(buf));
	struct hce_tlv t, in;
	size_t m1, m2;

	memset(big, 0xAB, sizeof(big));
	ASSERT_EQ(0, hce_tlv_begin(&w, 0x6F, &m1));
	ASSERT_EQ(0, hce_tlv_put(&w, 0x84, "\xA0\x00", 2));
	ASSERT_EQ(0, hce_tlv_begin(&w, 0xA5, &m2));
	ASSERT_EQ(0, hce_tlv_put(&w, 0x9F0C, big, sizeof(big)));
	ASSERT_EQ(0, hce_tlv_end(&w, m2));
	ASSERT_EQ(0, hce_tlv_end(&w, m1));
	ASSERT_TRUE(hce_wr_ok(&w));
	/* 6F 81 xx { 84 02 .. A5 81 yy { 9F0C 81 96 ... } } */
	EXPECT_EQ(0x6F, buf[0]);
	EXPECT_EQ(0x81, buf[1]);
	ASSERT_EQ(1, hce_tlv_find(buf, w.len, 0x6F, &t));
	EXPECT_EQ(w.len - 3, t.len);
	ASSERT_EQ(1, hce_tlv_find(t.value, t.len, 0xA5, &in));
	ASSERT_EQ(1, hce_tlv_find(in.value, in.len, 0x9F0C, &t));
	EXPECT_EQ(150, t.len);
	EXPECT_EQ(0, memcmp(t.value, big, 150));
	EXPECT_EQ(0, hce_tlv_find(in.value, in.len, 0x50, &t));
}

TEST(tlv_writer_out_of_space_fails_cleanly)
{
	uint8_t buf[10];
	struct hce_wr w = hce_wr_init(buf, sizeof(buf));
	uint8_t v[20] = { 0 };
	size_t m;

	EXPECT_EQ(-1, hce_tlv_put(&w, 0x84, v, sizeof(v)));
	EXPECT_FALSE(hce_wr_ok(&w));
	w = hce_wr_init(buf, sizeof(buf));
	ASSERT_EQ(0, hce_tlv_begin(&w, 0x70, &m));
	ASSERT_EQ(0, hce_tlv_put(&w, 0x84, v, 6));
	EXPECT_EQ(0, hce_tlv_end(&w, m));
	EXPECT_EQ(10, w.len);
}

TEST_HARNESS_MAIN
