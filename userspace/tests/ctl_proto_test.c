// SPDX-License-Identifier: GPL-2.0
/* ctl_proto_test.c - hced's control protocol helpers (lib/ctl/ctl.h). */
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "ctl/ctl.h"

TEST(ctl_split_words_on_single_blanks)
{
	char line[] = "trace on /tmp/x";
	char *argv[HCE_CTL_ARGS_MAX];

	ASSERT_EQ(3, hce_ctl_split(line, argv, HCE_CTL_ARGS_MAX));
	EXPECT_STREQ("trace", argv[0]);
	EXPECT_STREQ("on", argv[1]);
	EXPECT_STREQ("/tmp/x", argv[2]);
}

TEST(ctl_split_refuses_malformed_lines)
{
	static const char *const bad[] = {
		"", " status", "status ", "trace  on", "a b c d e", "sta\ttus", "st\x01", "caf\xc3\xa9",
	};
	char *argv[HCE_CTL_ARGS_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];

		strcpy(line, bad[i]);
		EXPECT_EQ(-1, hce_ctl_split(line, argv, HCE_CTL_ARGS_MAX)) TH_LOG("case %zu", i);
	}
}

TEST(ctl_classify_response_lines)
{
	EXPECT_EQ(1, hce_ctl_classify("OK"));
	EXPECT_EQ(2, hce_ctl_classify("ERR denied uid 65534"));
	EXPECT_EQ(0, hce_ctl_classify("balance 10000"));
	EXPECT_EQ(0, hce_ctl_classify("kernel-capdus 3"));
	EXPECT_EQ(0, hce_ctl_classify("count"));
	EXPECT_EQ(-1, hce_ctl_classify("OK "));
	EXPECT_EQ(-1, hce_ctl_classify("ERR"));
	EXPECT_EQ(-1, hce_ctl_classify("ERR Denied"));
	EXPECT_EQ(-1, hce_ctl_classify("Balance 1"));
	EXPECT_EQ(-1, hce_ctl_classify(""));
}

TEST(ctl_exit_codes_by_reason)
{
	EXPECT_EQ(HCE_CTL_EXIT_OK, hce_ctl_exit_code("OK"));
	EXPECT_EQ(HCE_CTL_EXIT_DENIED, hce_ctl_exit_code("ERR denied not in group"));
	EXPECT_EQ(HCE_CTL_EXIT_USAGE, hce_ctl_exit_code("ERR usage unknown"));
	EXPECT_EQ(HCE_CTL_EXIT_USAGE, hce_ctl_exit_code("ERR toolong line"));
	EXPECT_EQ(HCE_CTL_EXIT_CONNECT, hce_ctl_exit_code("ERR busy too many"));
	EXPECT_EQ(HCE_CTL_EXIT_FAILED, hce_ctl_exit_code("ERR pin wrong PIN"));
	EXPECT_EQ(HCE_CTL_EXIT_FAILED, hce_ctl_exit_code("ERR retry in 2 s"));
	EXPECT_EQ(HCE_CTL_EXIT_FAILED, hce_ctl_exit_code("ERR deniedx y"));
	EXPECT_EQ(HCE_CTL_EXIT_PROTOCOL, hce_ctl_exit_code("balance 1"));
	EXPECT_EQ(HCE_CTL_EXIT_PROTOCOL, hce_ctl_exit_code("garbage!"));
}

TEST_HARNESS_MAIN
