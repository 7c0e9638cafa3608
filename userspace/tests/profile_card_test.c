// SPDX-License-Identifier: GPL-2.0
/* profile_card_test.c - card profiles (lib/profile/profile.h, Documentation/profile.md). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "codec/hex.h"
#include "profile/profile.h"

/* The repository root: $HCE_TOP, else four levels above build/userspace/<variant>/tests/x. */
static void top_dir(char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n;
	int i;

	if (getenv("HCE_TOP")) {
		snprintf(out, cap, "%s", getenv("HCE_TOP"));
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	for (i = 0; i < 5; i++)
		dirname(exe);
	snprintf(out, cap, "%s", exe);
}

static const char good[] =
	"[card]\naid = A000000632010105\nissuer-id = 9999000000000001\napp-type = 02\n"
	"app-version = 03\nserial = 0310990000000000000A\nstart-date = 20240229\n"
	"expiry-date = 20341231\nholder = 0102\nmanagement = "
	"000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000\n"
	"[purse]\nbalance = 500\n"
	"[purchase-key 1]\nalg = 00\nversion = 07\nkey = 00112233445566778899AABBCCDDEEFF\n"
	"[load-key 3]\nalg = 00\nversion = 01\nmaster = 0123456789ABCDEFFEDCBA9876543210\n"
	"[tac-key]\nalg = 04\nversion = 02\nkey = FFEEDDCCBBAA99887766554433221100\n";

static int parse_with(const char *extra_before, const char *extra_after, struct hce_profile *p,
		      char *err)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s%s", extra_before, good, extra_after);
	return hce_profile_parse(p, "p.conf", text, strlen(text), err, 256);
}

TEST(profile_fields_build_ef0015_and_key_table)
{
	static const uint8_t ef15[30] = {
		0x99, 0x99, 0, 0, 0, 0, 0, 1, 0x02, 0x03,
		0x03, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0x0a,
		0x20, 0x24, 0x02, 0x29, 0x20, 0x34, 0x12, 0x31, 0, 0 };
	struct hce_profile p;
	char err[256];

	ASSERT_EQ(0, parse_with("", "", &p, err)) TH_LOG("%s", err);
	EXPECT_EQ(0, memcmp(p.card.ef0015, ef15, 30));
	EXPECT_EQ(8, p.card.aid_len);
	EXPECT_EQ(3, p.card.app_version);
	EXPECT_EQ(2, p.card.ef0016_len);
	EXPECT_EQ(500, p.card.balance);
	EXPECT_EQ(UINT32_MAX, p.card.max_balance);
	EXPECT_EQ(0, p.card.overdraft_limit);
	ASSERT_EQ(3, p.card.n_keys);
	EXPECT_EQ(HCE_KEY_DPK, p.card.keys[0].kind);
	EXPECT_EQ(1, p.card.keys[0].index);
	EXPECT_EQ(7, p.card.keys[0].version);
	EXPECT_EQ(HCE_KEY_DLK, p.card.keys[1].kind);
	EXPECT_EQ(3, p.card.keys[1].index);
	EXPECT_EQ(HCE_KEY_DTK, p.card.keys[2].kind);
	EXPECT_EQ(4, p.card.keys[2].alg);
	EXPECT_TRUE(p.keys.dpk[0].present);
	EXPECT_EQ(0x00, p.keys.dpk[0].key[0]);
	EXPECT_EQ(0xFF, p.keys.dpk[0].key[15]);
	EXPECT_TRUE(p.keys.dlk[0].present);
	EXPECT_EQ(3, p.keys.dlk[0].index);
	EXPECT_FALSE(p.keys.dpk[1].present);
	hce_profile_wipe(&p);
}

/* The DLK comes from the master by hce_diversify with serial[2..9] as factor. */
TEST(profile_master_key_diversified_by_serial_last_8_bytes)
{
	static const uint8_t mk[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
					0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10 };
	static const uint8_t f[8] = { 0x99, 0, 0, 0, 0, 0, 0, 0x0a };
	uint8_t want[16];
	struct hce_profile p;
	char err[256];

	ASSERT_EQ(0, hce_diversify(HCE_ALG_3DES, mk, f, want));
	ASSERT_EQ(0, parse_with("", "", &p, err)) TH_LOG("%s", err);
	EXPECT_EQ(0, memcmp(want, p.keys.dlk[0].key, 16));
	EXPECT_NE(0, memcmp(mk, p.keys.dlk[0].key, 16));
	hce_profile_wipe(&p);
}

TEST(profile_errors_name_line_and_never_the_key)
{
	static const struct {
		const char *before, *after, *err;
	} cases[] = {
		{ "", "[purse-key 1]\n", "p.conf:25: unknown section [purse-key 1]" },
		{ "", "[capp-record 1]\ndata = 00\n", "p.conf:26: [capp-record 1] data: 1 bytes, expected 48" },
		{ "", "[load-key 0x03]\nalg = 00\nversion = 01\nkey = 00000000000000000000000000000000\n",
		  "p.conf:25: [load-key 0x03]: key index 3 given twice" },
		{ "", "[purchase-key 2]\nalg = 01\nversion = 01\nkey = 00\n",
		  "p.conf:26: [purchase-key 2] alg: expected 00 (DES/3DES) or 04 (SM4)" },
		{ "", "[purchase-key 2]\nalg = 00\nversion = 01\n",
		  "p.conf:25: [purchase-key 2] needs exactly one of 'key' and 'master'" },
		{ "", "[purchase-key 2]\nalg = 00\nversion = 01\nkey = 00112233\n",
		  "p.conf:28: [purchase-key 2] key: 4 bytes, expected 16" },
		{ "", "[purse]\n", "p.conf:25: section [purse] repeated (first at line 11)" },
		{ "", "[card]\n", "p.conf:25: section [card] repeated (first at line 1)" },
		{ "# x\n", "[tac-key 1]\n", "p.conf:26: unknown section [tac-key 1]" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hce_profile p;
		char err[256];

		EXPECT_EQ(-1, parse_with(cases[i].before, cases[i].after, &p, err));
		EXPECT_STREQ(cases[i].err, err);
		EXPECT_EQ(NULL, strstr(err, "00112233"));
		EXPECT_FALSE(p.keys.dpk[0].present);	/* wiped on failure */
	}
}

TEST(profile_dates_validated)
{
	uint8_t b[4];

	EXPECT_EQ(0, hce_profile_parse_date("20240229", b));
	EXPECT_EQ(0x29, b[3]);
	EXPECT_EQ(-1, hce_profile_parse_date("20230229", b));
	EXPECT_EQ(-1, hce_profile_parse_date("21000101", b));
	EXPECT_EQ(-1, hce_profile_parse_date("20241301", b));
	EXPECT_EQ(-1, hce_profile_parse_date("20240100", b));
	EXPECT_EQ(-1, hce_profile_parse_date("2024010", b));
	EXPECT_EQ(-1, hce_profile_parse_date("202401011", b));
	EXPECT_EQ(-1, hce_profile_parse_date("2024-101", b));
}

TEST(profile_expiry_before_start_rejected)
{
	char text[4096], *at;
	struct hce_profile p;
	char err[256];

	snprintf(text, sizeof(text), "%s", good);
	at = strstr(text, "20341231");
	memcpy(at, "20231231", 8);
	EXPECT_EQ(-1, hce_profile_parse(&p, "p.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_STREQ("p.conf:8: [card] expiry-date precedes start-date", err);
}

TEST(profile_sample_card_matches_psam_masters)
{
	char top[PATH_MAX], path[PATH_MAX + 64];
	struct hce_profile p;
	char err[256];

	top_dir(top, sizeof(top));
	snprintf(path, sizeof(path), "%s/profiles/sample-card.conf", top);
	ASSERT_EQ(0, hce_profile_load(&p, path, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(10000, p.card.balance);
	EXPECT_EQ(4, p.card.n_keys);
	EXPECT_TRUE(p.keys.dpk[0].present);
	EXPECT_TRUE(p.keys.dpk[1].present);
	EXPECT_EQ(HCE_ALG_SM4, p.keys.dpk[1].alg);
	EXPECT_TRUE(p.keys.dtk.present);
	EXPECT_EQ(55, p.card.ef0016_len);
	hce_profile_wipe(&p);
}

TEST_HARNESS_MAIN
