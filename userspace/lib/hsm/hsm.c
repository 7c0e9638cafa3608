// SPDX-License-Identifier: GPL-2.0
/*
 * hsm.c - PKCS#11 over a dlopen()ed module (hsm.h).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "crypto/crypto.h"
#include "hsm/hsm.h"

struct hce_hsm {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s;
	int logged_in;
	int initialized;	/* this handle's C_Initialize did it: it finalizes */
	char err[HCE_HSM_ERR_MAX];
};

static void herr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void herr(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, HCE_HSM_ERR_MAX, fmt, ap);
	va_end(ap);
}

const char *hce_hsm_error(const struct hce_hsm *h)
{
	return h->err;
}

static int label_match(const CK_UTF8CHAR *lab, size_t cap, const char *want)
{
	size_t n = strlen(want), i;

	if (n > cap || memcmp(lab, want, n))
		return 0;
	for (i = n; i < cap; i++)
		if (lab[i] != ' ')
			return 0;
	return 1;
}

int hce_hsm_open(const char *module, const char *token_label, const char *pin,
		 struct hce_hsm **out, char err[HCE_HSM_ERR_MAX])
{
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;
	CK_RV rv;
	struct hce_hsm *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h) {
		herr(err, "out of memory");
		return -1;
	}
	h->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!h->dl) {
		herr(err, "pkcs11 module %s: %s", module, dlerror());
		free(h);
		return -1;
	}
	*(void **)(&gfl) = dlsym(h->dl, "C_GetFunctionList");
	if (!gfl || gfl(&h->f) != CKR_OK) {
		herr(err, "pkcs11 module %s: no C_GetFunctionList", module);
		goto fail_dl;
	}
	rv = h->f->C_Initialize(NULL);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		herr(err, "C_Initialize: 0x%lx", (unsigned long)rv);
		goto fail_dl;
	}
	h->initialized = rv == CKR_OK;
	rv = h->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		herr(err, "C_GetSlotList: 0x%lx", (unsigned long)rv);
		goto fail_fin;
	}
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (h->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    label_match(ti.label, sizeof(ti.label), token_label))
			break;
	}
	if (i == n) {
		herr(err, "pkcs11: no token labelled '%s'", token_label);
		goto fail_fin;
	}
	rv = h->f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h->s);
	if (rv != CKR_OK) {
		herr(err, "C_OpenSession: 0x%lx", (unsigned long)rv);
		goto fail_fin;
	}
	rv = h->f->C_Login(h->s, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		herr(err, "C_Login: 0x%lx%s", (unsigned long)rv,
		     rv == CKR_PIN_INCORRECT ? " (wrong PIN)" : "");
		h->f->C_CloseSession(h->s);
		goto fail_fin;
	}
	h->logged_in = 1;
	*out = h;
	return 0;
fail_fin:
	if (h->initialized)
		h->f->C_Finalize(NULL);
fail_dl:
	dlclose(h->dl);
	free(h);
	return -1;
}

void hce_hsm_close(struct hce_hsm *h)
{
	if (!h)
		return;
	if (h->logged_in)
		h->f->C_Logout(h->s);
	h->f->C_CloseSession(h->s);
	if (h->initialized)
		h->f->C_Finalize(NULL);
	dlclose(h->dl);
	free(h);
}

static int find_key(struct hce_hsm *h, const char *label, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	rv = h->f->C_FindObjectsInit(h->s, t, 2);
	if (rv != CKR_OK) {
		herr(h->err, "C_FindObjectsInit: 0x%lx", (unsigned long)rv);
		return -1;
	}
	rv = h->f->C_FindObjects(h->s, obj, 1, &n);
	h->f->C_FindObjectsFinal(h->s);
	if (rv != CKR_OK) {
		herr(h->err, "C_FindObjects: 0x%lx", (unsigned long)rv);
		return -1;
	}
	return n ? 1 : 0;
}

int hce_hsm_has_key(struct hce_hsm *h, const char *label)
{
	CK_OBJECT_HANDLE o;

	return find_key(h, label, &o);
}

int hce_hsm_generate(struct hce_hsm *h, const char *label)
{
	CK_MECHANISM m = { CKM_DES2_KEY_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_OBJECT_HANDLE o;
	CK_RV rv = h->f->C_GenerateKey(h->s, &m, t, sizeof(t) / sizeof(t[0]), &o);

	if (rv != CKR_OK) {
		herr(h->err, "C_GenerateKey %s: 0x%lx", label, (unsigned long)rv);
		return -1;
	}
	return 0;
}

int hce_hsm_import(struct hce_hsm *h, const char *label, const uint8_t key[16])
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_DES2;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	uint8_t v[16];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		{ CKA_VALUE, v, sizeof(v) },
	};
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	memcpy(v, key, sizeof(v));
	rv = h->f->C_CreateObject(h->s, t, sizeof(t) / sizeof(t[0]), &o);
	hce_wipe(v, sizeof(v));
	if (rv != CKR_OK) {
		herr(h->err, "C_CreateObject %s: 0x%lx", label, (unsigned long)rv);
		return -1;
	}
	return 0;
}

int hce_hsm_diversify(struct hce_hsm *h, const char *label, const uint8_t factor[8],
		      uint8_t out[16])
{
	CK_MECHANISM m = { CKM_DES3_ECB, NULL, 0 };
	CK_OBJECT_HANDLE mk;
	uint8_t in[16];
	CK_ULONG n = 16;
	CK_RV rv;
	int i, r = find_key(h, label, &mk);

	if (r <= 0) {
		if (!r)
			herr(h->err, "no master key '%s' in the HSM", label);
		return -1;
	}
	for (i = 0; i < 8; i++) {
		in[i] = factor[i];
		in[8 + i] = (uint8_t)~factor[i];
	}
	rv = h->f->C_EncryptInit(h->s, &m, mk);
	if (rv == CKR_OK)
		rv = h->f->C_Encrypt(h->s, in, 16, out, &n);
	if (rv != CKR_OK || n != 16) {
		herr(h->err, "C_Encrypt (%s): 0x%lx", label, (unsigned long)rv);
		hce_wipe(out, 16);
		return -1;
	}
	return 0;
}
