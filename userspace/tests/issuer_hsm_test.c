// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_hsm_test - lib/hsm against a real SoftHSM2 token created here (softhsm2-util in a
 * private SOFTHSM2_CONF): login, import/generate, diversification inside the token equal to
 * the software formula (hce_diversify), wrong PIN, missing token and missing key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "hsm/hsm.h"
#include "kselftest_harness.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

FIXTURE(hsm) {
	char dir[64];
	struct hce_hsm *h;
};

FIXTURE_SETUP(hsm)
{
	char cmd[512], path[128], err[HCE_HSM_ERR_MAX];
	FILE *f;
	int rc;

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-hsm-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(path, sizeof(path), "%s/softhsm2.conf", self->dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "directories.tokendir = %s/tokens\n", self->dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tokens && softhsm2-util --init-token --free"
		 " --label t1 --pin 1111 --so-pin 2222 >/dev/null", self->dir);
	rc = system(cmd);
	ASSERT_EQ(0, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
	ASSERT_EQ(0, hce_hsm_open(MODULE, "t1", "1111", &self->h, err)) {
		TH_LOG("%s", err);
	}
}

FIXTURE_TEARDOWN(hsm)
{
	char cmd[128];

	hce_hsm_close(self->h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		return;
}

TEST_F(hsm, diversify_inside_token_equals_software_formula)
{
	static const uint8_t mk[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
					0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	static const uint8_t f[8] = { 0x99, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56 };
	uint8_t a[16], b[16];

	EXPECT_EQ(0, hce_hsm_has_key(self->h, "mk-test"));
	ASSERT_EQ(0, hce_hsm_import(self->h, "mk-test", mk));
	EXPECT_EQ(1, hce_hsm_has_key(self->h, "mk-test"));
	ASSERT_EQ(0, hce_hsm_diversify(self->h, "mk-test", f, a));
	ASSERT_EQ(0, hce_diversify(HCE_ALG_3DES, mk, f, b));
	EXPECT_EQ(0, memcmp(a, b, 16));
	/* Generated keys work and differ from the imported one. */
	ASSERT_EQ(0, hce_hsm_generate(self->h, "mk-gen"));
	ASSERT_EQ(0, hce_hsm_diversify(self->h, "mk-gen", f, b));
	EXPECT_NE(0, memcmp(a, b, 16));
	EXPECT_EQ(-1, hce_hsm_diversify(self->h, "no-such-key", f, b));
	EXPECT_NE(NULL, strstr(hce_hsm_error(self->h), "no master key"));
}

TEST_F(hsm, wrong_pin_and_unknown_token_refused)
{
	struct hce_hsm *h2 = NULL;
	char err[HCE_HSM_ERR_MAX];

	/* Login state is per application: close the fixture's session first. */
	hce_hsm_close(self->h);
	self->h = NULL;
	EXPECT_EQ(-1, hce_hsm_open(MODULE, "t1", "9999", &h2, err));
	EXPECT_NE(NULL, strstr(err, "C_Login"));
	EXPECT_EQ(-1, hce_hsm_open(MODULE, "nope", "1111", &h2, err));
	EXPECT_NE(NULL, strstr(err, "no token"));
	EXPECT_EQ(-1, hce_hsm_open("/nonexistent/module.so", "t1", "1111", &h2, err));
	EXPECT_EQ(NULL, h2);
}

TEST_HARNESS_MAIN
