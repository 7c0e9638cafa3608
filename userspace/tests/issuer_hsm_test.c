// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_hsm_test - lib/hsm against a real SoftHSM2 token created here (softhsm2-util in a
 * private SOFTHSM2_CONF): login, import/generate, diversification inside the token equal to
 * the software formula (hce_diversify), wrong PIN, missing token and missing key; and the
 * PSAM key ceremony pieces between two tokens (Documentation/psam.md): RSA transport key,
 * trusted wrapping key (Security Officer), wrap / unwrap, KCV, and what the tokens refuse.
 * The "never readable" checks go to PKCS#11 directly (C_GetAttributeValue CKA_VALUE).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

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
		 " --label t1 --pin 1111 --so-pin 2222 >/dev/null && softhsm2-util --init-token"
		 " --free --label t2 --pin 3333 --so-pin 4444 >/dev/null", self->dir);
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

/*
 * Two user handles on one token (PKCS#11 login is per application and token): closing one
 * must not log the other out, nor finalize the module under it. The second open finds the
 * user already logged in; only the last handle on the token logs out.
 */
TEST_F(hsm, closing_one_of_two_handles_on_a_token_keeps_the_other_logged_in)
{
	static const uint8_t mk[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
					0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	static const uint8_t f[8] = { 0x99, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56 };
	struct hce_hsm *h2 = NULL, *h3 = NULL;
	char err[HCE_HSM_ERR_MAX];
	uint8_t a[16], b[16];

	ASSERT_EQ(0, hce_hsm_import(self->h, "mk-two", mk));
	ASSERT_EQ(0, hce_hsm_open(MODULE, "t1", "1111", &h2, err)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, hce_hsm_diversify(h2, "mk-two", f, b));
	hce_hsm_close(h2);
	/* the fixture's handle still sees its private key */
	ASSERT_EQ(0, hce_hsm_diversify(self->h, "mk-two", f, a)) {
		TH_LOG("%s", hce_hsm_error(self->h));
	}
	EXPECT_EQ(0, memcmp(a, b, 16));
	/* the other way round: the first handle closes, the later one goes on */
	ASSERT_EQ(0, hce_hsm_open(MODULE, "t1", "1111", &h3, err)) {
		TH_LOG("%s", err);
	}
	hce_hsm_close(self->h);
	self->h = NULL;
	EXPECT_EQ(1, hce_hsm_has_key(h3, "mk-two"));
	ASSERT_EQ(0, hce_hsm_diversify(h3, "mk-two", f, a)) {
		TH_LOG("%s", hce_hsm_error(h3));
	}
	EXPECT_EQ(0, memcmp(a, b, 16));
	hce_hsm_close(h3);
	/* all closed: logged out, a wrong PIN is refused again (not "already logged in") */
	EXPECT_EQ(-1, hce_hsm_open(MODULE, "t1", "9999", &h2, err));
	EXPECT_NE(NULL, strstr(err, "wrong PIN")) {
		TH_LOG("%s", err);
	}
}

/*
 * Straight PKCS#11 on token label (user pin), not through lib/hsm: the CK_RV of
 * C_GetAttributeValue(CKA_VALUE) on the secret key label, or of C_WrapKey (OAEP) of that key
 * under the public key wrap_label when wrap_label is set. (CK_RV)-1 on a setup failure.
 */
static CK_RV raw(const char *token, const char *pin, const char *label, const char *wrap_label)
{
	CK_C_GetFunctionList gfl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i, found = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY, pub = CKO_PUBLIC_KEY;
	CK_OBJECT_HANDLE k, w;
	CK_RV rv, init;
	void *dl = dlopen(MODULE, RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		return (CK_RV)-1;
	*(void **)(&gfl) = dlsym(dl, "C_GetFunctionList");
	if (!gfl || gfl(&f) != CKR_OK)
		return (CK_RV)-1;
	init = f->C_Initialize(NULL);
	rv = (CK_RV)-1;
	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		goto out;
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    !memcmp(ti.label, token, strlen(token)) && ti.label[strlen(token)] == ' ')
			break;
	}
	if (i == n || f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
					NULL, &s) != CKR_OK)
		goto out;
	rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		CK_ATTRIBUTE t[] = {
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
			{ CKA_CLASS, &sec, sizeof(sec) },
		};

		rv = (CK_RV)-1;
		if (f->C_FindObjectsInit(s, t, 2) == CKR_OK) {
			f->C_FindObjects(s, &k, 1, &found);
			f->C_FindObjectsFinal(s);
		}
		if (found && !wrap_label) {
			uint8_t v[64];
			CK_ATTRIBUTE a = { CKA_VALUE, v, sizeof(v) };

			rv = f->C_GetAttributeValue(s, k, &a, 1);
		} else if (found) {
			CK_ATTRIBUTE tw[] = {
				{ CKA_LABEL, (void *)(uintptr_t)wrap_label, strlen(wrap_label) },
				{ CKA_CLASS, &pub, sizeof(pub) },
			};
			CK_RSA_PKCS_OAEP_PARAMS p = { CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED,
						      NULL, 0 };
			CK_MECHANISM m = { CKM_RSA_PKCS_OAEP, &p, sizeof(p) };
			uint8_t out[512];
			CK_ULONG outlen = sizeof(out);

			found = 0;
			if (f->C_FindObjectsInit(s, tw, 2) == CKR_OK) {
				f->C_FindObjects(s, &w, 1, &found);
				f->C_FindObjectsFinal(s);
			}
			if (found)
				rv = f->C_WrapKey(s, &m, w, k, out, &outlen);
		}
	}
	f->C_CloseSession(s);
out:
	if (init == CKR_OK)
		f->C_Finalize(NULL);
	dlclose(dl);
	return rv;
}

/*
 * Straight PKCS#11: the CK_BBOOL attribute attr of the secret key label in token (user pin):
 * 0 or 1, or -1 on a setup failure.
 */
static int raw_flag(const char *token, const char *pin, const char *label, CK_ATTRIBUTE_TYPE attr)
{
	CK_C_GetFunctionList gfl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i, found = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
	CK_OBJECT_HANDLE k;
	CK_BBOOL v = CK_FALSE;
	CK_RV init, rv;
	int ret = -1;
	void *dl = dlopen(MODULE, RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		return -1;
	*(void **)(&gfl) = dlsym(dl, "C_GetFunctionList");
	if (!gfl || gfl(&f) != CKR_OK) {
		dlclose(dl);
		return -1;
	}
	init = f->C_Initialize(NULL);
	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		goto out;
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    !memcmp(ti.label, token, strlen(token)) && ti.label[strlen(token)] == ' ')
			break;
	}
	if (i == n || f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
					NULL, &s) != CKR_OK)
		goto out;
	rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		CK_ATTRIBUTE t[] = {
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
			{ CKA_CLASS, &sec, sizeof(sec) },
		};
		CK_ATTRIBUTE a = { attr, &v, sizeof(v) };

		if (f->C_FindObjectsInit(s, t, 2) == CKR_OK) {
			f->C_FindObjects(s, &k, 1, &found);
			f->C_FindObjectsFinal(s);
		}
		if (found && f->C_GetAttributeValue(s, k, &a, 1) == CKR_OK)
			ret = v == CK_TRUE;
	}
	f->C_CloseSession(s);
out:
	if (init == CKR_OK)
		f->C_Finalize(NULL);
	dlclose(dl);
	return ret;
}

/*
 * A master key does one thing, C_Encrypt (diversification, KCV): no unwrapping, MAC, sign or
 * derive usage left to the token's defaults (SoftHSM2 2.6 sets CKA_VERIFY and CKA_UNWRAP).
 */
TEST_F(hsm, master_keys_are_encrypt_only)
{
	static const uint8_t mk[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
					0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
	static const char *const labels[] = { "hce-mk-dpk-1", "hce-mk-dtk", "mk-imported" };
	static const CK_ATTRIBUTE_TYPE off[] = { CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN,
						 CKA_VERIFY, CKA_DERIVE };
	size_t i, j;

	ASSERT_EQ(0, hce_hsm_generate(self->h, "hce-mk-dpk-1"));
	ASSERT_EQ(0, hce_hsm_generate(self->h, "hce-mk-dtk"));
	ASSERT_EQ(0, hce_hsm_import(self->h, "mk-imported", mk));
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		EXPECT_EQ(1, raw_flag("t1", "1111", labels[i], CKA_ENCRYPT));
		for (j = 0; j < sizeof(off) / sizeof(off[0]); j++)
			EXPECT_EQ(0, raw_flag("t1", "1111", labels[i], off[j])) {
				TH_LOG("%s attribute 0x%lx", labels[i], (unsigned long)off[j]);
			}
	}
}

static int collect_label(const char *label, void *arg)
{
	char *all = arg;

	strncat(all, label, 200);
	strncat(all, ";", 2);
	return 0;
}

/*
 * The ceremony between t1 (issuer) and t2 (terminal), all through lib/hsm, and the tokens'
 * own refusals checked with straight PKCS#11.
 */
TEST_F(hsm, purchase_master_key_goes_wrapped_to_a_trusted_transport_key_only)
{
	static const uint8_t f[8] = { 0x31, 0x05, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56 };
	struct hce_hsm *t2 = NULL, *so = NULL;
	char err[HCE_HSM_ERR_MAX], pem[2048], labels[256] = "";
	uint8_t fp[32], fp2[32], wrapped[HCE_HSM_WRAPPED_MAX], kcv1[3], kcv2[3], a[16], b[16];
	size_t wlen = 0;

	ASSERT_EQ(0, hce_hsm_generate(self->h, "hce-mk-dpk-1"));
	ASSERT_EQ(0, hce_hsm_generate(self->h, "hce-mk-dlk-1"));
	ASSERT_EQ(0, hce_hsm_generate(self->h, "hce-mk-dtk"));
	/* sensitive: the value is never readable, exportable or not */
	EXPECT_EQ(CKR_ATTRIBUTE_SENSITIVE, raw("t1", "1111", "hce-mk-dpk-1", NULL));
	EXPECT_EQ(CKR_ATTRIBUTE_SENSITIVE, raw("t1", "1111", "hce-mk-dlk-1", NULL));

	/* terminal token: the transport pair, public half out as PEM */
	ASSERT_EQ(0, hce_hsm_open(MODULE, "t2", "3333", &t2, err)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, hce_hsm_transport_generate(t2, "xport"));
	EXPECT_EQ(-1, hce_hsm_transport_generate(t2, "xport"));
	ASSERT_EQ(0, hce_hsm_public_pem(t2, "xport", pem, sizeof(pem), fp));
	EXPECT_EQ(0, strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26));

	/*
	 * WRAP_WITH_TRUSTED is enforced: a user session cannot mark a wrapping key trusted, and
	 * an untrusted wrapping key (a transport pair made in t1 itself) cannot wrap the DPK.
	 */
	EXPECT_EQ(-1, hce_hsm_trust_wrap_key(self->h, "untrusted", pem, fp2));
	EXPECT_NE(NULL, strstr(hce_hsm_error(self->h), "C_CreateObject"));
	TH_LOG("user session, CKA_TRUSTED: %s", hce_hsm_error(self->h));
	ASSERT_EQ(0, hce_hsm_transport_generate(self->h, "local"));
	EXPECT_EQ(-1, hce_hsm_wrap(self->h, "hce-mk-dpk-1", "local", wrapped, &wlen));
	EXPECT_NE(NULL, strstr(hce_hsm_error(self->h), "not wrappable")) {
		TH_LOG("%s", hce_hsm_error(self->h));
	}
	EXPECT_EQ(CKR_KEY_NOT_WRAPPABLE, raw("t1", "1111", "hce-mk-dpk-1", "local"));
	TH_LOG("untrusted wrapping key: %s", hce_hsm_error(self->h));

	/* the Security Officer imports it trusted */
	hce_hsm_close(self->h);
	self->h = NULL;
	EXPECT_EQ(-1, hce_hsm_open_so(MODULE, "t1", "1111", &so, err));
	EXPECT_NE(NULL, strstr(err, "wrong PIN")) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, hce_hsm_open_so(MODULE, "t1", "2222", &so, err)) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(0, hce_hsm_trust_wrap_key(so, "trusted", pem, fp2)) {
		TH_LOG("%s", hce_hsm_error(so));
	}
	EXPECT_EQ(0, memcmp(fp, fp2, 32));
	EXPECT_EQ(-1, hce_hsm_trust_wrap_key(so, "junk", "-----BEGIN PUBLIC KEY-----\nAAAA\n"
					     "-----END PUBLIC KEY-----\n", fp2));
	hce_hsm_close(so);
	ASSERT_EQ(0, hce_hsm_open(MODULE, "t1", "1111", &self->h, err)) {
		TH_LOG("%s", err);
	}

	/* load and TAC master keys: refused by lib/hsm, and by the token itself */
	EXPECT_EQ(-1, hce_hsm_wrap(self->h, "hce-mk-dlk-1", "trusted", wrapped, &wlen));
	EXPECT_NE(NULL, strstr(hce_hsm_error(self->h), "never leaves"));
	EXPECT_EQ(-1, hce_hsm_wrap(self->h, "hce-mk-dtk", "trusted", wrapped, &wlen));
	EXPECT_EQ(CKR_KEY_UNEXTRACTABLE, raw("t1", "1111", "hce-mk-dlk-1", "trusted"));
	EXPECT_EQ(CKR_KEY_UNEXTRACTABLE, raw("t1", "1111", "hce-mk-dtk", "trusted"));

	/* the DPK wraps under the trusted key */
	ASSERT_EQ(0, hce_hsm_wrap(self->h, "hce-mk-dpk-1", "trusted", wrapped, &wlen)) {
		TH_LOG("%s", hce_hsm_error(self->h));
	}
	EXPECT_EQ(256U, wlen);
	ASSERT_EQ(0, hce_hsm_kcv(self->h, "hce-mk-dpk-1", kcv1));
	ASSERT_EQ(0, hce_hsm_destroy(self->h, "trusted"));
	EXPECT_EQ(0, hce_hsm_has_object(self->h, "trusted", CKO_PUBLIC_KEY));

	/* terminal side: damaged blob refused, the right one unwraps, same KCV, same card keys */
	wrapped[100] ^= 1;
	EXPECT_EQ(-1, hce_hsm_unwrap(t2, "xport", wrapped, wlen, "hce-mk-dpk-1"));
	EXPECT_NE(NULL, strstr(hce_hsm_error(t2), "C_UnwrapKey")) {
		TH_LOG("%s", hce_hsm_error(t2));
	}
	wrapped[100] ^= 1;
	ASSERT_EQ(0, hce_hsm_unwrap(t2, "xport", wrapped, wlen, "hce-mk-dpk-1")) {
		TH_LOG("%s", hce_hsm_error(t2));
	}
	EXPECT_EQ(-1, hce_hsm_unwrap(t2, "xport", wrapped, wlen, "hce-mk-dpk-1"));
	ASSERT_EQ(0, hce_hsm_kcv(t2, "hce-mk-dpk-1", kcv2));
	EXPECT_EQ(0, memcmp(kcv1, kcv2, 3));
	ASSERT_EQ(0, hce_hsm_diversify(self->h, "hce-mk-dpk-1", f, a));
	ASSERT_EQ(0, hce_hsm_diversify(t2, "hce-mk-dpk-1", f, b));
	EXPECT_EQ(0, memcmp(a, b, 16));
	/* in the terminal token: sensitive, and not extractable at all */
	EXPECT_EQ(CKR_ATTRIBUTE_SENSITIVE, raw("t2", "3333", "hce-mk-dpk-1", NULL));
	EXPECT_EQ(CKR_KEY_UNEXTRACTABLE, raw("t2", "3333", "hce-mk-dpk-1", "xport"));
	ASSERT_EQ(0, hce_hsm_list_keys(t2, collect_label, labels));
	EXPECT_STREQ("hce-mk-dpk-1;", labels);
	ASSERT_EQ(0, hce_hsm_destroy(t2, "xport"));
	EXPECT_EQ(0, hce_hsm_has_object(t2, "xport", CKO_PRIVATE_KEY));
	hce_hsm_close(t2);
}

TEST_HARNESS_MAIN
