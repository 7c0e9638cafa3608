// SPDX-License-Identifier: GPL-2.0
/*
 * hsm.c - PKCS#11 over a dlopen()ed module (hsm.h).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "crypto/crypto.h"
#include "hsm/hsm.h"

_Static_assert(HCE_HSM_PUBLIC_KEY == CKO_PUBLIC_KEY && HCE_HSM_PRIVATE_KEY == CKO_PRIVATE_KEY &&
	       HCE_HSM_SECRET_KEY == CKO_SECRET_KEY && HCE_HSM_ANY_CLASS == (CK_OBJECT_CLASS)-1,
	       "hsm.h class values are the PKCS#11 ones");

struct hce_hsm {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot;
	int logged_in;		/* counted in logins[]: the last such handle logs out */
	int initialized;	/* counted in inits[]: the last such handle finalizes */
	char err[HCE_HSM_ERR_MAX];
};

static void herr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Handles of this process on each module it initialised: several handles (two tokens, or a
 * Security Officer handle then a user handle) share one C_Initialize, and only the last
 * close finalizes. Open and close handles from one thread.
 */
static struct {
	CK_FUNCTION_LIST_PTR f;
	int refs;
} inits[8];

static int init_ref(CK_FUNCTION_LIST_PTR f, CK_RV rv)
{
	size_t i, free_slot = sizeof(inits) / sizeof(inits[0]);

	for (i = 0; i < sizeof(inits) / sizeof(inits[0]); i++) {
		if (inits[i].refs && inits[i].f == f) {
			inits[i].refs++;
			return 1;
		}
		if (!inits[i].refs && free_slot == sizeof(inits) / sizeof(inits[0]))
			free_slot = i;
	}
	/* ALREADY_INITIALIZED by someone else: theirs to finalize */
	if (rv != CKR_OK || free_slot == sizeof(inits) / sizeof(inits[0]))
		return 0;
	inits[free_slot].f = f;
	inits[free_slot].refs = 1;
	return 1;
}

static void init_unref(CK_FUNCTION_LIST_PTR f)
{
	size_t i;

	for (i = 0; i < sizeof(inits) / sizeof(inits[0]); i++)
		if (inits[i].refs && inits[i].f == f) {
			if (!--inits[i].refs)
				f->C_Finalize(NULL);
			return;
		}
}

/*
 * Logins of this process per token: PKCS#11 login state belongs to the application, not to
 * a session, so C_Logout on one handle's session would log every other handle on the same
 * token out (their private keys vanish from view). Each handle that logged in, or found
 * its own user already logged in, holds a reference; the last close logs out. A login made
 * outside lib/hsm (no entry here) is left alone.
 */
static struct {
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	int refs;
} logins[8];

#define NSLOTS(a) (sizeof(a) / sizeof((a)[0]))

/* rv: C_Login's answer. 1 when this handle is to log out when it is the last, else 0. */
static int login_ref(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, CK_RV rv)
{
	size_t i, free_slot = NSLOTS(logins);

	for (i = 0; i < NSLOTS(logins); i++) {
		if (logins[i].refs && logins[i].f == f && logins[i].slot == slot) {
			logins[i].refs++;
			return 1;
		}
		if (!logins[i].refs && free_slot == NSLOTS(logins))
			free_slot = i;
	}
	if (rv != CKR_OK)
		return 0;
	if (free_slot == NSLOTS(logins))
		return 1;	/* untracked: login_unref() finds no entry and logs out */
	logins[free_slot].f = f;
	logins[free_slot].slot = slot;
	logins[free_slot].refs = 1;
	return 1;
}

/* 1 when the caller's handle was the last one logged in on this token: log out. */
static int login_unref(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot)
{
	size_t i;

	for (i = 0; i < NSLOTS(logins); i++)
		if (logins[i].refs && logins[i].f == f && logins[i].slot == slot)
			return !--logins[i].refs;
	return 1;
}

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

static int open_as(const char *module, const char *token_label, CK_USER_TYPE who,
		   const char *pin, struct hce_hsm **out, char err[HCE_HSM_ERR_MAX])
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
	h->initialized = init_ref(h->f, rv);
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
	rv = h->f->C_Login(h->s, who, (CK_UTF8CHAR_PTR)(uintptr_t)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		herr(err, "token '%s': C_Login (%s): 0x%lx%s", token_label,
		     who == CKU_SO ? "Security Officer" : "user", (unsigned long)rv,
		     rv == CKR_PIN_INCORRECT ? " (wrong PIN)" :
		     rv == CKR_USER_ANOTHER_ALREADY_LOGGED_IN ? " (another user is logged in)" :
		     rv == CKR_PIN_LOCKED ? " (PIN locked)" : "");
		h->f->C_CloseSession(h->s);
		goto fail_fin;
	}
	h->slot = slots[i];
	h->logged_in = login_ref(h->f, h->slot, rv);
	*out = h;
	return 0;
fail_fin:
	if (h->initialized)
		init_unref(h->f);
fail_dl:
	dlclose(h->dl);
	free(h);
	return -1;
}

int hce_hsm_open(const char *module, const char *token_label, const char *pin,
		 struct hce_hsm **out, char err[HCE_HSM_ERR_MAX])
{
	return open_as(module, token_label, CKU_USER, pin, out, err);
}

int hce_hsm_open_so(const char *module, const char *token_label, const char *so_pin,
		    struct hce_hsm **out, char err[HCE_HSM_ERR_MAX])
{
	return open_as(module, token_label, CKU_SO, so_pin, out, err);
}

void hce_hsm_close(struct hce_hsm *h)
{
	if (!h)
		return;
	if (h->logged_in && login_unref(h->f, h->slot))
		h->f->C_Logout(h->s);
	h->f->C_CloseSession(h->s);
	if (h->initialized)
		init_unref(h->f);
	dlclose(h->dl);
	free(h);
}

/* The first object labelled label of class cls (any class when cls is (CK_ULONG)-1). */
static int find_obj(struct hce_hsm *h, const char *label, CK_OBJECT_CLASS cls,
		    CK_OBJECT_HANDLE *obj)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		{ CKA_CLASS, &cls, sizeof(cls) },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	rv = h->f->C_FindObjectsInit(h->s, t, cls == (CK_OBJECT_CLASS)-1 ? 1 : 2);
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

static int find_key(struct hce_hsm *h, const char *label, CK_OBJECT_HANDLE *obj)
{
	return find_obj(h, label, CKO_SECRET_KEY, obj);
}

int hce_hsm_has_object(struct hce_hsm *h, const char *label, unsigned long cls)
{
	CK_OBJECT_HANDLE o;

	return find_obj(h, label, (CK_OBJECT_CLASS)cls, &o);
}

int hce_hsm_has_key(struct hce_hsm *h, const char *label)
{
	CK_OBJECT_HANDLE o;

	return find_key(h, label, &o);
}

static int exportable(const char *label)
{
	return !strncmp(label, HCE_HSM_EXPORTABLE_PREFIX, strlen(HCE_HSM_EXPORTABLE_PREFIX));
}

/*
 * The attributes of a master key (hsm.h): t has room for MK_ATTRS more entries, returns how
 * many were added. yes/no are the caller's CK_TRUE/CK_FALSE. Encrypt only: every other usage
 * is set FALSE rather than left to the token's defaults (SoftHSM2 2.6 would set CKA_VERIFY
 * and CKA_UNWRAP).
 */
#define MK_ATTRS 13

static CK_ULONG mk_attrs(CK_ATTRIBUTE *t, const char *label, CK_BBOOL *yes, CK_BBOOL *no)
{
	CK_BBOOL *x = exportable(label) ? yes : no;
	CK_ATTRIBUTE a[] = {
		{ CKA_TOKEN, yes, sizeof(*yes) },
		{ CKA_PRIVATE, yes, sizeof(*yes) },
		{ CKA_SENSITIVE, yes, sizeof(*yes) },
		{ CKA_EXTRACTABLE, x, sizeof(*x) },
		{ CKA_WRAP_WITH_TRUSTED, yes, sizeof(*yes) },
		{ CKA_ENCRYPT, yes, sizeof(*yes) },
		{ CKA_DECRYPT, no, sizeof(*no) },
		{ CKA_WRAP, no, sizeof(*no) },
		{ CKA_UNWRAP, no, sizeof(*no) },
		{ CKA_SIGN, no, sizeof(*no) },
		{ CKA_VERIFY, no, sizeof(*no) },
		{ CKA_DERIVE, no, sizeof(*no) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};

	_Static_assert(sizeof(a) / sizeof(a[0]) == MK_ATTRS, "MK_ATTRS");
	memcpy(t, a, sizeof(a));
	return sizeof(a) / sizeof(a[0]);
}

int hce_hsm_generate(struct hce_hsm *h, const char *label)
{
	CK_MECHANISM m = { CKM_DES2_KEY_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[MK_ATTRS];
	CK_OBJECT_HANDLE o;
	CK_ULONG n = mk_attrs(t, label, &yes, &no);
	CK_RV rv = h->f->C_GenerateKey(h->s, &m, t, n, &o);

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
	CK_ATTRIBUTE t[3 + MK_ATTRS] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, v, sizeof(v) },
	};
	CK_OBJECT_HANDLE o;
	CK_ULONG n = 3 + mk_attrs(t + 3, label, &yes, &no);
	CK_RV rv;

	memcpy(v, key, sizeof(v));
	rv = h->f->C_CreateObject(h->s, t, n, &o);
	hce_wipe(v, sizeof(v));
	if (rv != CKR_OK) {
		herr(h->err, "C_CreateObject %s: 0x%lx", label, (unsigned long)rv);
		return -1;
	}
	return 0;
}

static int ecb(struct hce_hsm *h, const char *label, const char *what, const uint8_t *in,
	       CK_ULONG len, uint8_t *out);

int hce_hsm_diversify(struct hce_hsm *h, const char *label, const uint8_t factor[8],
		      uint8_t out[16])
{
	uint8_t in[16];
	int i, r;

	for (i = 0; i < 8; i++) {
		in[i] = factor[i];
		in[8 + i] = (uint8_t)~factor[i];
	}
	r = ecb(h, label, "master key", in, sizeof(in), out);
	hce_wipe(in, sizeof(in));
	return r;
}

/* 3DES-ECB of 16 bytes under the secret key label (diversification, KCV). */
static int ecb(struct hce_hsm *h, const char *label, const char *what, const uint8_t *in,
	       CK_ULONG len, uint8_t *out)
{
	CK_MECHANISM m = { CKM_DES3_ECB, NULL, 0 };
	CK_OBJECT_HANDLE k;
	CK_ULONG n = len;
	CK_RV rv;
	int r = find_key(h, label, &k);

	if (r <= 0) {
		if (!r)
			herr(h->err, "no %s '%s' in the HSM", what, label);
		return -1;
	}
	rv = h->f->C_EncryptInit(h->s, &m, k);
	if (rv == CKR_OK)
		rv = h->f->C_Encrypt(h->s, (CK_BYTE_PTR)(uintptr_t)in, len, out, &n);
	if (rv != CKR_OK || n != len) {
		herr(h->err, "C_Encrypt (%s): 0x%lx", label, (unsigned long)rv);
		hce_wipe(out, len);
		return -1;
	}
	return 0;
}

int hce_hsm_kcv(struct hce_hsm *h, const char *label, uint8_t kcv[3])
{
	static const uint8_t zero[8];
	uint8_t c[8];

	if (ecb(h, label, "key", zero, sizeof(zero), c))
		return -1;
	memcpy(kcv, c, 3);
	return 0;
}

int hce_hsm_transport_generate(struct hce_hsm *h, const char *label)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = HCE_HSM_RSA_BITS;
	CK_BYTE e[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
		{ CKA_WRAP, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_VERIFY, &no, sizeof(no) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_UNWRAP, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_RV rv;
	int r = hce_hsm_has_object(h, label, HCE_HSM_ANY_CLASS);

	if (r) {
		if (r > 0)
			herr(h->err, "an object labelled '%s' is already in the token", label);
		return -1;
	}
	rv = h->f->C_GenerateKeyPair(h->s, &m, pub, sizeof(pub) / sizeof(pub[0]), priv,
				     sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv);
	if (rv != CKR_OK) {
		herr(h->err, "C_GenerateKeyPair %s: 0x%lx", label, (unsigned long)rv);
		return -1;
	}
	return 0;
}

/* An RSA public key from modulus and exponent (big-endian). NULL on failure. */
static EVP_PKEY *rsa_from(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *c = NULL;
	EVP_PKEY *k = NULL;

	if (!b || !bn || !be || !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	p = OSSL_PARAM_BLD_to_param(b);
	c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!p || !c || EVP_PKEY_fromdata_init(c) <= 0 ||
	    EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p) <= 0)
		k = NULL;
out:
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	return k;
}

/* SHA-256 of the DER SubjectPublicKeyInfo. */
static int spki_fp(EVP_PKEY *k, uint8_t fp[32])
{
	unsigned char *der = NULL;
	unsigned int n = 32;
	int len = i2d_PUBKEY(k, &der);
	int ok = len > 0 && EVP_Digest(der, (size_t)len, fp, &n, EVP_sha256(), NULL);

	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int hce_hsm_public_pem(struct hce_hsm *h, const char *label, char *pem, size_t cap,
		       uint8_t fp[32])
{
	CK_OBJECT_HANDLE o;
	uint8_t n[HCE_HSM_WRAPPED_MAX], e[16];
	CK_ATTRIBUTE t[] = {
		{ CKA_MODULUS, n, sizeof(n) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
	};
	EVP_PKEY *k = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	CK_RV rv;
	int r = find_obj(h, label, CKO_PUBLIC_KEY, &o), ret = -1;

	if (r <= 0) {
		if (!r)
			herr(h->err, "no public key '%s' in the token", label);
		return -1;
	}
	rv = h->f->C_GetAttributeValue(h->s, o, t, 2);
	if (rv != CKR_OK) {
		herr(h->err, "C_GetAttributeValue (%s public key): 0x%lx", label,
		     (unsigned long)rv);
		return -1;
	}
	k = rsa_from(n, t[0].ulValueLen, e, t[1].ulValueLen);
	bio = BIO_new(BIO_s_mem());
	if (!k || !bio || !PEM_write_bio_PUBKEY(bio, k) || (fp && spki_fp(k, fp))) {
		herr(h->err, "%s: cannot encode the public key", label);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || (size_t)len >= cap) {
		herr(h->err, "%s: PEM does not fit", label);
		goto out;
	}
	memcpy(pem, data, (size_t)len);
	pem[len] = '\0';
	ret = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(k);
	return ret;
}

int hce_hsm_trust_wrap_key(struct hce_hsm *h, const char *label, const char *pem,
			   uint8_t fp[32])
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	uint8_t n[HCE_HSM_WRAPPED_MAX], e[16];
	BIGNUM *bn = NULL, *be = NULL;
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	CK_OBJECT_HANDLE o;
	CK_RV rv;
	int nlen, elen, ret = -1;

	BIO_free(bio);
	if (!k || !EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_get_bits(k) < HCE_HSM_RSA_BITS ||
	    EVP_PKEY_get_bits(k) > 8 * HCE_HSM_WRAPPED_MAX ||
	    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) ||
	    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be) ||
	    (nlen = BN_bn2bin(bn, n)) <= 0 || BN_num_bytes(be) > (int)sizeof(e) ||
	    (elen = BN_bn2bin(be, e)) <= 0 || spki_fp(k, fp)) {
		herr(h->err, "not an RSA public key of %d to %d bits (PEM SubjectPublicKeyInfo)",
		     HCE_HSM_RSA_BITS, 8 * HCE_HSM_WRAPPED_MAX);
		goto out;
	}
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_KEY_TYPE, &kt, sizeof(kt) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_WRAP, &yes, sizeof(yes) },
			{ CKA_ENCRYPT, &no, sizeof(no) },
			{ CKA_VERIFY, &no, sizeof(no) },
			{ CKA_TRUSTED, &yes, sizeof(yes) },
			{ CKA_MODULUS, n, (CK_ULONG)nlen },
			{ CKA_PUBLIC_EXPONENT, e, (CK_ULONG)elen },
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		};

		rv = h->f->C_CreateObject(h->s, t, sizeof(t) / sizeof(t[0]), &o);
		if (rv != CKR_OK) {
			herr(h->err, "C_CreateObject trusted wrapping key %s: 0x%lx%s", label,
			     (unsigned long)rv, rv == CKR_ATTRIBUTE_READ_ONLY ?
			     " (CKA_TRUSTED needs a Security Officer session)" : "");
			goto out;
		}
	}
	ret = 0;
out:
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_free(k);
	return ret;
}

static void oaep(CK_MECHANISM *m, CK_RSA_PKCS_OAEP_PARAMS *p)
{
	memset(p, 0, sizeof(*p));
	p->hash_alg = CKM_SHA_1;
	p->mgf = CKG_MGF1_SHA1;
	p->source = CKZ_DATA_SPECIFIED;
	m->mechanism = CKM_RSA_PKCS_OAEP;
	m->pParameter = p;
	m->ulParameterLen = sizeof(*p);
}

int hce_hsm_wrap(struct hce_hsm *h, const char *key_label, const char *wrap_label,
		 uint8_t out[HCE_HSM_WRAPPED_MAX], size_t *out_len)
{
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM m;
	CK_OBJECT_HANDLE k, w;
	CK_ULONG n = HCE_HSM_WRAPPED_MAX;
	CK_RV rv;
	int r;

	if (!exportable(key_label)) {
		herr(h->err, "'%s' is not a purchase master key (%s*): it never leaves the token",
		     key_label, HCE_HSM_EXPORTABLE_PREFIX);
		return -1;
	}
	r = find_key(h, key_label, &k);
	if (r <= 0) {
		if (!r)
			herr(h->err, "no master key '%s' in the token", key_label);
		return -1;
	}
	r = find_obj(h, wrap_label, CKO_PUBLIC_KEY, &w);
	if (r <= 0) {
		if (!r)
			herr(h->err, "no wrapping key '%s' in the token", wrap_label);
		return -1;
	}
	oaep(&m, &p);
	rv = h->f->C_WrapKey(h->s, &m, w, k, out, &n);
	if (rv != CKR_OK) {
		herr(h->err, "C_WrapKey %s under %s: 0x%lx%s", key_label, wrap_label,
		     (unsigned long)rv,
		     rv == CKR_KEY_NOT_WRAPPABLE ? " (key not wrappable: the wrapping key must be "
		     "trusted, or the key was made non-extractable)" :
		     rv == CKR_KEY_UNEXTRACTABLE ? " (key made non-extractable)" : "");
		return -1;
	}
	*out_len = n;
	return 0;
}

int hce_hsm_unwrap(struct hce_hsm *h, const char *unwrap_label, const uint8_t *wrapped,
		   size_t len, const char *new_label)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_DES2;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_WRAP, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_VERIFY, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_LABEL, (void *)(uintptr_t)new_label, strlen(new_label) },
	};
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM m;
	CK_OBJECT_HANDLE u, k;
	CK_RV rv;
	int r = find_key(h, new_label, &k);

	if (r) {
		if (r > 0)
			herr(h->err, "a key labelled '%s' is already in the token", new_label);
		return -1;
	}
	r = find_obj(h, unwrap_label, CKO_PRIVATE_KEY, &u);
	if (r <= 0) {
		if (!r)
			herr(h->err, "no transport key '%s' in the token", unwrap_label);
		return -1;
	}
	oaep(&m, &p);
	rv = h->f->C_UnwrapKey(h->s, &m, u, (CK_BYTE_PTR)(uintptr_t)wrapped, len, t,
			       sizeof(t) / sizeof(t[0]), &k);
	if (rv != CKR_OK) {
		herr(h->err, "C_UnwrapKey %s with %s: 0x%lx%s", new_label, unwrap_label,
		     (unsigned long)rv,
		     rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_ENCRYPTED_DATA_INVALID ||
		     rv == CKR_WRAPPED_KEY_LEN_RANGE || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
		     rv == CKR_GENERAL_ERROR /* SoftHSM2 2.6: OAEP decoding failed */ ?
		     " (not wrapped for this transport key, or damaged)" : "");
		return -1;
	}
	return 0;
}

int hce_hsm_destroy(struct hce_hsm *h, const char *label)
{
	CK_OBJECT_HANDLE o;
	int i, r;

	for (i = 0; i < 64; i++) {
		CK_RV rv;

		r = find_obj(h, label, (CK_OBJECT_CLASS)-1, &o);
		if (r <= 0)
			return r;
		rv = h->f->C_DestroyObject(h->s, o);
		if (rv != CKR_OK) {
			herr(h->err, "C_DestroyObject %s: 0x%lx", label, (unsigned long)rv);
			return -1;
		}
	}
	herr(h->err, "%s: too many objects", label);
	return -1;
}

int hce_hsm_list_keys(struct hce_hsm *h, int (*cb)(const char *label, void *arg), void *arg)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE o[256];
	CK_ULONG n = 0, i;
	CK_RV rv;

	rv = h->f->C_FindObjectsInit(h->s, &t, 1);
	if (rv != CKR_OK) {
		herr(h->err, "C_FindObjectsInit: 0x%lx", (unsigned long)rv);
		return -1;
	}
	rv = h->f->C_FindObjects(h->s, o, 256, &n);
	h->f->C_FindObjectsFinal(h->s);
	if (rv != CKR_OK) {
		herr(h->err, "C_FindObjects: 0x%lx", (unsigned long)rv);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char label[65];
		CK_ATTRIBUTE a = { CKA_LABEL, label, sizeof(label) - 1 };
		int r;

		rv = h->f->C_GetAttributeValue(h->s, o[i], &a, 1);
		if (rv != CKR_OK || a.ulValueLen >= sizeof(label))
			a.ulValueLen = 0;
		label[a.ulValueLen] = '\0';
		r = cb(label, arg);
		if (r)
			return r;
	}
	return 0;
}
