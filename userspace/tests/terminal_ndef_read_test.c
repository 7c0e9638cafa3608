// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_ndef_read_test.c - hce-terminal's Type 4 Tag reader (lib/terminal/ndef_read.c)
 * against the real T4T application of lib/ndef through the in-process transport: a URI
 * message read byte for byte, a message longer than one READ BINARY (chunked by MLe), a card
 * without the NDEF application, and a transport that fails mid-read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "ndef/ndef.h"
#include "terminal/ndef_read.h"
#include "terminal/term.h"
#include "terminal/transport.h"

static struct hce_app *tag(const uint8_t *msg, size_t len)
{
	struct hce_app *app = NULL;
	char err[128];

	if (hce_ndef_app_new(msg, len, &app, err, sizeof(err)))
		return NULL;
	return app;
}

TEST(ndef_read_uri_message_byte_for_byte)
{
	uint8_t msg[128], got[4096];
	size_t len, n = 0;
	struct hce_term_transport t;
	struct hce_app *app;
	char err[256];

	ASSERT_EQ(0, hce_ndef_build_uri("https://example.org/linux-hce", msg, sizeof(msg), &len));
	app = tag(msg, len);
	ASSERT_NE(NULL, app);
	ASSERT_EQ(0, hce_term_transport_app(&t, app));
	ASSERT_EQ(0, hce_term_ndef_read(&t, got, sizeof(got), &n, err, sizeof(err)));
	ASSERT_EQ(len, n);
	EXPECT_EQ(0, memcmp(msg, got, len));
	hce_term_close(&t);
	hce_ndef_app_free(app);
}

TEST(ndef_read_long_text_in_chunks_of_mle)
{
	static uint8_t msg[3000], got[4096];
	char text[2500];
	size_t len, n = 0;
	struct hce_term_transport t;
	struct hce_app *app;
	char err[256];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[1000] = 'y';
	ASSERT_EQ(0, hce_ndef_build_text("en", text, msg, sizeof(msg), &len));
	ASSERT_LT((size_t)255, len);
	app = tag(msg, len);
	ASSERT_NE(NULL, app);
	ASSERT_EQ(0, hce_term_transport_app(&t, app));
	ASSERT_EQ(0, hce_term_ndef_read(&t, got, sizeof(got), &n, err, sizeof(err)));
	ASSERT_EQ(len, n);
	EXPECT_EQ(0, memcmp(msg, got, len));
	hce_term_close(&t);
	hce_ndef_app_free(app);
}

TEST(ndef_read_message_beyond_buffer_is_card_error)
{
	static uint8_t msg[3000], got[100];
	char text[500];
	size_t len, n = 0;
	struct hce_term_transport t;
	struct hce_app *app;
	char err[256];

	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ASSERT_EQ(0, hce_ndef_build_text("en", text, msg, sizeof(msg), &len));
	app = tag(msg, len);
	ASSERT_NE(NULL, app);
	ASSERT_EQ(0, hce_term_transport_app(&t, app));
	EXPECT_EQ(HCE_TERM_E_CARD, hce_term_ndef_read(&t, got, sizeof(got), &n, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "NLEN"));
	hce_term_close(&t);
	hce_ndef_app_free(app);
}

/* A card that knows no application: 6A82 to everything. */
static size_t none_process(struct hce_app *app, const uint8_t *c, size_t len, uint8_t *out,
			   size_t cap)
{
	(void)app; (void)c; (void)len; (void)cap;
	out[0] = 0x6A;
	out[1] = 0x82;
	return 2;
}

static void none_end(struct hce_app *app)
{
	(void)app;
}

static const struct hce_app_ops none_ops = { "none", none_process, none_end };

TEST(ndef_read_card_without_tag_says_6a82)
{
	struct hce_app app = { &none_ops, NULL };
	struct hce_term_transport t;
	uint8_t got[64];
	size_t n;
	char err[256];

	ASSERT_EQ(0, hce_term_transport_app(&t, &app));
	EXPECT_EQ(HCE_TERM_E_CARD, hce_term_ndef_read(&t, got, sizeof(got), &n, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "6A82"));
	hce_term_close(&t);
}

/* A transport that fails at its k-th exchange. */
struct failing {
	struct hce_term_transport inner;
	int left;
};

static int fail_transmit(struct hce_term_transport *t, const uint8_t *c, size_t len,
			 uint8_t *r, size_t cap, size_t *rlen)
{
	struct failing *f = t->priv;

	if (f->left-- <= 0) {
		snprintf(t->err, sizeof(t->err), "field lost");
		return -EIO;
	}
	return hce_term_transmit(&f->inner, c, len, r, cap, rlen);
}

static int fail_reset(struct hce_term_transport *t)
{
	(void)t;
	return 0;
}

static const struct hce_term_transport_ops fail_ops = { "failing", fail_transmit, fail_reset,
							NULL };

TEST(ndef_read_transport_failure_at_each_step_is_transport_error)
{
	uint8_t msg[128], got[4096];
	size_t len, n;
	struct hce_app *app;
	char err[256];
	int k;

	ASSERT_EQ(0, hce_ndef_build_uri("https://example.org/", msg, sizeof(msg), &len));
	app = tag(msg, len);
	ASSERT_NE(NULL, app);
	/* SELECT app, SELECT CC, READ CC, SELECT file, READ NLEN, READ message: 6 exchanges */
	for (k = 0; k < 6; k++) {
		struct failing f = { .left = k };
		struct hce_term_transport t = { .ops = &fail_ops, .priv = &f };

		ASSERT_EQ(0, hce_term_transport_app(&f.inner, app));
		EXPECT_EQ(HCE_TERM_E_TRANSPORT, hce_term_ndef_read(&t, got, sizeof(got), &n, err,
								    sizeof(err)));
		EXPECT_NE(NULL, strstr(err, "field lost"));
		hce_term_close(&f.inner);
	}
	hce_ndef_app_free(app);
}

TEST_HARNESS_MAIN
