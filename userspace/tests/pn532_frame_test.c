// SPDX-License-Identifier: GPL-2.0
/* pn532_frame_test.c - PN532 HSU frames (UM0701-02 6.2): parser and encoder. */
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "pn532/frame.h"

/* Feed bytes; return the last non-NONE event (and how many there were in *count). */
static enum pn532_event feed(struct pn532_parser *p, const uint8_t *b, size_t n, int *count)
{
	enum pn532_event last = PN532_EV_NONE, ev;

	*count = 0;
	for (size_t i = 0; i < n; i++) {
		ev = pn532_parser_feed(p, b[i]);
		if (ev != PN532_EV_NONE) {
			last = ev;
			(*count)++;
		}
	}
	return last;
}

/* What libnfc's pn532_uart sends for InRelease(0), taken from its debug log. */
TEST(frame_normal_inrelease_as_libnfc_sends_it)
{
	const uint8_t f[] = { 0x00, 0x00, 0xff, 0x03, 0xfd, 0xd4, 0x52, 0x00, 0xda, 0x00 };
	struct pn532_parser p;
	int n;

	pn532_parser_init(&p);
	ASSERT_EQ(PN532_EV_FRAME, feed(&p, f, sizeof(f), &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0xd4, p.tfi);
	ASSERT_EQ(2, p.data_len);
	EXPECT_EQ(0x52, p.data[0]);
	EXPECT_EQ(0x00, p.data[1]);
	EXPECT_FALSE(pn532_parser_busy(&p));
}

/* 6.2.2: the HSU wake-up: 0x55 0x55 and zeros before the first frame are skipped. */
TEST(frame_wakeup_preamble_then_samconfiguration)
{
	uint8_t f[32] = { 0x55, 0x55 };
	const uint8_t sam[] = { 0x00, 0x00, 0xff, 0x03, 0xfd, 0xd4, 0x14, 0x01, 0x17, 0x00 };
	struct pn532_parser p;
	int n;

	memcpy(f + 16, sam, sizeof(sam));
	pn532_parser_init(&p);
	ASSERT_EQ(PN532_EV_FRAME, feed(&p, f, 16 + sizeof(sam), &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0x14, p.data[0]);
	EXPECT_EQ(0x01, p.data[1]);
}

TEST(frame_ack_and_nack_from_host)
{
	struct pn532_parser p;
	int n;

	pn532_parser_init(&p);
	EXPECT_EQ(PN532_EV_ACK, feed(&p, pn532_ack_frame, sizeof(pn532_ack_frame), &n));
	EXPECT_EQ(1, n);
	EXPECT_EQ(PN532_EV_NACK, feed(&p, pn532_nack_frame, sizeof(pn532_nack_frame), &n));
	EXPECT_EQ(1, n);
}

TEST(frame_bad_lcs_dropped_and_next_frame_parsed)
{
	const uint8_t bad[] = { 0x00, 0x00, 0xff, 0x03, 0xfc, 0xd4, 0x52, 0x00, 0xda, 0x00 };
	const uint8_t good[] = { 0x00, 0x00, 0xff, 0x02, 0xfe, 0xd4, 0x02, 0x2a, 0x00 };
	struct pn532_parser p;
	int n;

	pn532_parser_init(&p);
	EXPECT_EQ(PN532_EV_BAD_LCS, feed(&p, bad, 5, &n));
	feed(&p, bad + 5, sizeof(bad) - 5, &n);
	EXPECT_EQ(0, n);	/* the body of a dropped frame is noise */
	ASSERT_EQ(PN532_EV_FRAME, feed(&p, good, sizeof(good), &n));
	EXPECT_EQ(0x02, p.data[0]);
}

TEST(frame_bad_dcs_reported_after_whole_frame)
{
	const uint8_t bad[] = { 0x00, 0x00, 0xff, 0x03, 0xfd, 0xd4, 0x52, 0x00, 0xdb, 0x00 };
	struct pn532_parser p;
	int n;

	pn532_parser_init(&p);
	EXPECT_EQ(PN532_EV_BAD_DCS, feed(&p, bad, sizeof(bad), &n));
	EXPECT_EQ(1, n);
	EXPECT_FALSE(pn532_parser_busy(&p));
}

TEST(frame_zero_length_is_dropped)
{
	/* LEN 0 with LCS 0 would be an ACK only with LCS FF: 00 FF 00 00 is no frame */
	const uint8_t f[] = { 0x00, 0x00, 0xff, 0x00, 0x00 };
	struct pn532_parser p;
	int n;

	pn532_parser_init(&p);
	EXPECT_EQ(PN532_EV_TOO_LONG, feed(&p, f, sizeof(f), &n));
}

/* 6.2.1.3: extended information frame, both ways. */
TEST(frame_extended_round_trip_300_bytes)
{
	uint8_t data[263], wire[PN532_WIRE_MAX];
	struct pn532_parser p;
	size_t len;
	int n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	len = pn532_frame_encode(0xd4, data, sizeof(data), wire, sizeof(wire));
	ASSERT_EQ(sizeof(data) + 1 + 10, len);
	EXPECT_EQ(0xff, wire[3]);
	EXPECT_EQ(0xff, wire[4]);
	EXPECT_EQ(0x01, wire[5]);	/* LENM: 264 = 0x0108 */
	EXPECT_EQ(0x08, wire[6]);
	EXPECT_EQ(0, (uint8_t)(wire[5] + wire[6] + wire[7]));
	pn532_parser_init(&p);
	ASSERT_EQ(PN532_EV_FRAME, feed(&p, wire, len, &n));
	ASSERT_EQ(sizeof(data), p.data_len);
	EXPECT_EQ(0, memcmp(data, p.data, sizeof(data)));
}

TEST(frame_extended_beyond_buffer_consumed_then_dropped)
{
	/* LEN 0x0200 > 265: the chip cannot take it; the 512 + DCS bytes are swallowed */
	uint8_t f[8 + 512 + 2] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0x02, 0x00, 0xfe };
	const uint8_t good[] = { 0x00, 0x00, 0xff, 0x02, 0xfe, 0xd4, 0x02, 0x2a, 0x00 };
	struct pn532_parser p;
	int n;

	memset(f + 8, 0x00, 512 + 2);
	pn532_parser_init(&p);
	EXPECT_EQ(PN532_EV_TOO_LONG, feed(&p, f, 8 + 512 + 1, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(PN532_EV_FRAME, feed(&p, good, sizeof(good), &n));
}

TEST(frame_encode_firmware_version_answer)
{
	const uint8_t data[] = { 0x03, 0x32, 0x01, 0x06, 0x07 };
	const uint8_t want[] = { 0x00, 0x00, 0xff, 0x06, 0xfa, 0xd5, 0x03, 0x32, 0x01, 0x06, 0x07,
				 0xe8, 0x00 };
	uint8_t wire[PN532_WIRE_MAX];

	ASSERT_EQ(sizeof(want), pn532_frame_encode(0xd5, data, sizeof(data), wire, sizeof(wire)));
	EXPECT_EQ(0, memcmp(want, wire, sizeof(want)));
}

TEST(frame_encode_refuses_too_long_or_small_buffer)
{
	static uint8_t data[PN532_DATA_MAX + 1], wire[PN532_WIRE_MAX + 8];

	EXPECT_EQ(0, pn532_frame_encode(0xd5, data, PN532_DATA_MAX + 1, wire, sizeof(wire)));
	EXPECT_EQ(0, pn532_frame_encode(0xd5, data, 10, wire, 17));
	EXPECT_EQ(18, pn532_frame_encode(0xd5, data, 10, wire, 18));
}

TEST(frame_error_frame_checksums)
{
	/* 00 00 FF 01 FF 7F 81 00: LEN + LCS = 0, TFI + DCS = 0 */
	EXPECT_EQ(0, (uint8_t)(pn532_error_frame[3] + pn532_error_frame[4]));
	EXPECT_EQ(0, (uint8_t)(pn532_error_frame[5] + pn532_error_frame[6]));
}

/* Every length both frame kinds carry, random data: what is encoded parses back. */
TEST(frame_round_trip_every_length)
{
	uint8_t data[PN532_DATA_MAX], wire[PN532_WIRE_MAX];
	struct pn532_parser p;
	unsigned int seed = 6;

	pn532_parser_init(&p);
	for (size_t len = 0; len <= PN532_DATA_MAX; len++) {
		size_t w;
		int n;

		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)rand_r(&seed);
		w = pn532_frame_encode(0xd4, data, len, wire, sizeof(wire));
		ASSERT_NE(0, w);
		ASSERT_EQ(PN532_EV_FRAME, feed(&p, wire, w, &n));
		ASSERT_EQ(1, n);
		ASSERT_EQ(len, p.data_len);
		ASSERT_EQ(0, memcmp(data, p.data, len));
	}
}

TEST_HARNESS_MAIN
