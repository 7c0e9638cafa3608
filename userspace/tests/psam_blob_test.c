// SPDX-License-Identifier: GPL-2.0
/*
 * psam_blob_test.c - the PSAM key blob (hsm/blob.h): a blob as psam-export writes it parses
 * back to the same fields; every rule of the format is an error with file:line; the label's
 * number is the key index; only purchase master keys.
 */
#include <stdio.h>
#include <string.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "hsm/blob.h"

static void sample(struct hce_psam_blob *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	snprintf(b->label, sizeof(b->label), "hce-mk-dpk-1");
	b->index = 1;
	b->alg = 0x00;
	b->version = 0x01;
	b->kcv[0] = 0x98;
	b->kcv[1] = 0xE8;
	b->kcv[2] = 0x08;
	for (i = 0; i < 32; i++)
		b->transport[i] = (uint8_t)i;
	b->wrapped_len = 256;
	for (i = 0; i < b->wrapped_len; i++)
		b->wrapped[i] = (uint8_t)(i * 7 + 3);
}

TEST(format_then_parse_gives_the_same_blob)
{
	struct hce_psam_blob b, b2;
	char text[HCE_BLOB_TEXT_MAX], err[256];

	sample(&b);
	ASSERT_EQ(0, hce_psam_blob_format(&b, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "\nkcv = 98E808\n"));
	EXPECT_NE(NULL, strstr(text, "\nmechanism = rsa-pkcs-oaep-sha1\n"));
	ASSERT_EQ(0, hce_psam_blob_parse(&b2, "b", text, strlen(text), err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(0, memcmp(&b, &b2, sizeof(b)));
	/* 3072-bit transport key: 384 wrapped bytes still fit a line and the text */
	b.wrapped_len = 384;
	ASSERT_EQ(0, hce_psam_blob_format(&b, text, sizeof(text)));
	ASSERT_EQ(0, hce_psam_blob_parse(&b2, "b", text, strlen(text), err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	EXPECT_EQ(384U, b2.wrapped_len);
	/* format refuses what parse would refuse */
	b.index = 2;
	EXPECT_EQ(-1, hce_psam_blob_format(&b, text, sizeof(text)));
	sample(&b);
	snprintf(b.label, sizeof(b.label), "hce-mk-dtk");
	EXPECT_EQ(-1, hce_psam_blob_format(&b, text, sizeof(text)));
	sample(&b);
	EXPECT_EQ(-1, hce_psam_blob_format(&b, text, 100));
}

TEST(label_index)
{
	EXPECT_EQ(1, hce_psam_blob_label_index("hce-mk-dpk-1"));
	EXPECT_EQ(255, hce_psam_blob_label_index("hce-mk-dpk-255"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dpk-256"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dpk-0"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dpk-01"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dpk-"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dpk-1x"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dlk-1"));
	EXPECT_EQ(-1, hce_psam_blob_label_index("hce-mk-dtk"));
}

/* Replace the line starting with "key =" in text by repl (or drop it when repl is ""). */
static void edit(const char *text, const char *key, const char *repl, char *out, size_t cap)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\n%s = ", key);
	p = strstr(text, pat);
	if (!p) {
		snprintf(out, cap, "%s", text);
		return;
	}
	e = strchr(p + 1, '\n');
	snprintf(out, cap, "%.*s%s%s%s", (int)(p - text + 1), text, repl, repl[0] ? "\n" : "",
		 e + 1);
}

TEST(errors_name_the_line)
{
	static const struct {
		const char *key, *repl, *want;
	} cases[] = {
		{ "label", "label = hce-mk-dlk-1", "b:5: [psam-key-blob] label: only purchase" },
		{ "index", "index = 2", "b:6: [psam-key-blob] index: not the label's number" },
		{ "alg", "alg = 04", "b:7: [psam-key-blob] alg: only 00" },
		{ "kcv", "kcv = 98E8", "b:9:" },
		{ "mechanism", "mechanism = rsa-pkcs", "b:10: [psam-key-blob] mechanism: only" },
		{ "transport", "transport = 00", "b:11:" },
		{ "wrapped", "wrapped = 0011", "b:12:" },
		{ "format", "format = 2", "b:4:" },
		{ "wrapped", "", "wrapped" },
		{ "kcv", "kcv = 98E808\ncolour = red", "b:10: unknown key 'colour'" },
	};
	struct hce_psam_blob b;
	char text[HCE_BLOB_TEXT_MAX], bad[HCE_BLOB_TEXT_MAX + 64], err[256];
	size_t i;

	sample(&b);
	ASSERT_EQ(0, hce_psam_blob_format(&b, text, sizeof(text)));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		edit(text, cases[i].key, cases[i].repl, bad, sizeof(bad));
		EXPECT_EQ(-1, hce_psam_blob_parse(&b, "b", bad, strlen(bad), err, sizeof(err))) {
			TH_LOG("case %zu", i);
		}
		EXPECT_NE(NULL, strstr(err, cases[i].want)) {
			TH_LOG("case %zu: %s", i, err);
		}
		EXPECT_EQ(0, b.wrapped_len);
	}
	snprintf(bad, sizeof(bad), "%s[other]\nx = 1\n", text);
	EXPECT_EQ(-1, hce_psam_blob_parse(&b, "b", bad, strlen(bad), err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "one section"));
	EXPECT_EQ(-1, hce_psam_blob_parse(&b, "b", "[psam]\n", 7, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not a PSAM key blob"));
}

TEST_HARNESS_MAIN
