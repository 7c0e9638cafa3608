// SPDX-License-Identifier: GPL-2.0
/* profile_conf_test.c - the strict INI reader (lib/profile/conf.h). */
#include <string.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "profile/conf.h"

static int parse(struct hce_conf *c, const char *text)
{
	return hce_conf_parse(c, "t.conf", text, strlen(text));
}

TEST(conf_sections_keys_and_typed_values)
{
	struct hce_conf c;
	const char *text;
	uint64_t v;
	uint8_t b[8];
	size_t n;
	uint32_t idx;

	ASSERT_EQ(0, parse(&c, "# comment\n\n[card]\nname = Li  Lei \nbalance=1000\n"
				"[purchase-key   1]\nmaster = 00 11:22 33445566778899AABBCCDDEEFF\n"
				"\t; other comment\r\n"));
	ASSERT_EQ(2, hce_conf_section_count(&c));
	EXPECT_STREQ("purchase-key 1", hce_conf_section_at(&c, 1)->name);
	EXPECT_EQ(6, hce_conf_section_at(&c, 1)->line);
	ASSERT_EQ(1, hce_conf_get_text(&c, "card", "name", true, 64, &text));
	EXPECT_STREQ("Li  Lei", text);
	ASSERT_EQ(1, hce_conf_get_uint(&c, "card", "balance", true, 0, 5000, &v));
	EXPECT_EQ(1000, v);
	EXPECT_EQ(0, hce_conf_get_uint(&c, "card", "absent", false, 0, 5, &v));
	EXPECT_EQ(1000, v);
	ASSERT_EQ(1, hce_conf_section_arg(&c, hce_conf_section_at(&c, 1), "purchase-key", 255,
					  &idx));
	EXPECT_EQ(1, idx);
	EXPECT_EQ(0, hce_conf_section_arg(&c, hce_conf_section_at(&c, 1), "load-key", 255, &idx));
	EXPECT_EQ(-1, hce_conf_get_hex(&c, "purchase-key 1", "master", true, b, 1, 8, &n));
	EXPECT_NE(NULL, strstr(hce_conf_error(&c), "t.conf:7:"));
	EXPECT_EQ(0, hce_conf_check_unused(&c));
	hce_conf_free(&c);
}

TEST(conf_unknown_key_reported_with_line)
{
	struct hce_conf c;
	uint64_t v;

	ASSERT_EQ(0, parse(&c, "[a]\nx = 1\nxy = 2\n"));
	ASSERT_EQ(1, hce_conf_get_uint(&c, "a", "x", true, 0, 9, &v));
	EXPECT_EQ(-1, hce_conf_check_unused(&c));
	EXPECT_STREQ("t.conf:3: unknown key 'xy' in [a]", hce_conf_error(&c));
	hce_conf_free(&c);
}

TEST(conf_missing_required_key_names_section_line)
{
	struct hce_conf c;
	const char *t;

	ASSERT_EQ(0, parse(&c, "\n[a]\nx = 1\n"));
	EXPECT_EQ(-1, hce_conf_get_text(&c, "a", "y", true, 8, &t));
	EXPECT_STREQ("t.conf:2: [a] missing required key 'y'", hce_conf_error(&c));
	hce_conf_free(&c);
}

TEST(conf_syntax_errors_carry_line_numbers)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "[a]\nnoequals\n", "t.conf:2: expected '=' after key 'noequals'" },
		{ "[a\n", "t.conf:1: section header must end with ']'" },
		{ "[]\n", "t.conf:1: empty section name" },
		{ "[a]\n[a]\n", "t.conf:2: section [a] repeated (first at line 1)" },
		{ "[a]\nk=1\nk=2\n", "t.conf:3: key 'k' repeated in [a] (first at line 2)" },
		{ "[a]\n= 1\n", "t.conf:2: expected 'key = value', '[section]' or '# comment'" },
		{ "[a]\nk=\x01\n", "t.conf:2: control character 0x01 at column 3" },
		{ "[a]\n[b]\nk=\0x\n", "t.conf:3: control character 0x00 at column 3" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hce_conf c;
		size_t len = strlen(cases[i].text);

		if (i == 7)
			len = 12;
		EXPECT_EQ(-1, hce_conf_parse(&c, "t.conf", cases[i].text, len));
		EXPECT_STREQ(cases[i].err, hce_conf_error(&c));
		hce_conf_free(&c);
	}
}

TEST(conf_line_longer_than_limit_rejected)
{
	static char text[HCE_CONF_LINE_MAX + 16];
	struct hce_conf c;

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "[s]\nk = ", 8);
	EXPECT_EQ(-1, parse(&c, text));
	EXPECT_STREQ("t.conf:2: line longer than 1024 bytes", hce_conf_error(&c));
	hce_conf_free(&c);
}

TEST(conf_numbers_strict)
{
	struct hce_conf c;
	uint64_t v = 7;

	ASSERT_EQ(0, parse(&c, "[a]\nneg = -1\nplus = +1\nbig = 18446744073709551616\n"
				"hex = 0x10\nok = 18446744073709551615\nrange = 11\nempty =\n"));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "neg", true, 0, 10, &v));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "plus", true, 0, 10, &v));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "big", true, 0, UINT64_MAX, &v));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "hex", true, 0, 100, &v));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "empty", true, 0, 100, &v));
	EXPECT_EQ(-1, hce_conf_get_uint(&c, "a", "range", true, 0, 10, &v));
	EXPECT_STREQ("t.conf:7: [a] range: out of range 0..10", hce_conf_error(&c));
	EXPECT_EQ(7, v);
	ASSERT_EQ(1, hce_conf_get_uint(&c, "a", "ok", true, 0, UINT64_MAX, &v));
	EXPECT_EQ(UINT64_MAX, v);
	hce_conf_free(&c);
}

TEST(conf_hex_length_checks_and_wipe)
{
	struct hce_conf c;
	uint8_t b[4];
	size_t n = 99;

	ASSERT_EQ(0, parse(&c, "[k]\nshort = 0102\nodd = 012\nlong = 0102030405\nok = 0a0B0c\n"
				"bad = 01zz\n"));
	memset(b, 0xee, sizeof(b));
	EXPECT_EQ(-1, hce_conf_get_hex(&c, "k", "short", true, b, 4, 4, NULL));
	EXPECT_STREQ("t.conf:2: [k] short: 2 bytes, expected 4", hce_conf_error(&c));
	EXPECT_EQ(0, b[0]);	/* wiped, not partially written */
	EXPECT_EQ(-1, hce_conf_get_hex(&c, "k", "odd", true, b, 1, 4, &n));
	EXPECT_EQ(-1, hce_conf_get_hex(&c, "k", "long", true, b, 1, 4, &n));
	EXPECT_EQ(-1, hce_conf_get_hex(&c, "k", "bad", true, b, 1, 4, &n));
	EXPECT_EQ(99, n);
	ASSERT_EQ(1, hce_conf_get_hex(&c, "k", "ok", true, b, 1, 4, &n));
	EXPECT_EQ(3, n);
	EXPECT_EQ(0x0a, b[0]);
	EXPECT_EQ(0x0c, b[2]);
	hce_conf_free(&c);
}

TEST(conf_keys_before_first_section_and_text_limit)
{
	struct hce_conf c;
	const char *t;

	ASSERT_EQ(0, parse(&c, "top = x # not a comment\n[s]\n"));
	EXPECT_EQ(1, hce_conf_has_section(&c, ""));
	EXPECT_EQ(1, hce_conf_has_section(&c, "s"));
	EXPECT_EQ(0, hce_conf_has_section(&c, "t"));
	ASSERT_EQ(1, hce_conf_get_text(&c, "", "top", true, 64, &t));
	EXPECT_STREQ("x # not a comment", t);
	EXPECT_EQ(-1, hce_conf_get_text(&c, "", "top", true, 3, &t));
	hce_conf_free(&c);
}

TEST(conf_section_arg_malformed)
{
	struct hce_conf c;
	uint32_t n;

	ASSERT_EQ(0, parse(&c, "[purchase-key]\n[purchase-key x]\n[purchase-key 256]\n"
				"[purchase-key 0x02]\n[purchase-keys 1]\n"));
	EXPECT_EQ(-1, hce_conf_section_arg(&c, hce_conf_section_at(&c, 0), "purchase-key", 255, &n));
	EXPECT_EQ(-1, hce_conf_section_arg(&c, hce_conf_section_at(&c, 1), "purchase-key", 255, &n));
	EXPECT_EQ(-1, hce_conf_section_arg(&c, hce_conf_section_at(&c, 2), "purchase-key", 255, &n));
	EXPECT_STREQ("t.conf:3: section [purchase-key 256]: number must be 0..255",
		     hce_conf_error(&c));
	EXPECT_EQ(1, hce_conf_section_arg(&c, hce_conf_section_at(&c, 3), "purchase-key", 255, &n));
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, hce_conf_section_arg(&c, hce_conf_section_at(&c, 4), "purchase-key", 255, &n));
	hce_conf_free(&c);
}

TEST(conf_load_missing_file)
{
	struct hce_conf c;

	EXPECT_EQ(-1, hce_conf_load(&c, "/nonexistent/x.conf"));
	EXPECT_NE(NULL, strstr(hce_conf_error(&c), "/nonexistent/x.conf:0: cannot open"));
	hce_conf_free(&c);
}

TEST_HARNESS_MAIN
