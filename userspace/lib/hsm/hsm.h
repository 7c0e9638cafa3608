/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hsm.h - the issuer's master keys in a PKCS#11 token (SoftHSM2 in tests and demos).
 *
 * The module is dlopen()ed (path from the config, e.g. /usr/lib/softhsm/libsofthsm2.so); the
 * header is p11-kit's <p11-kit/pkcs11.h>. Master keys are CKK_DES2 token objects found by
 * CKA_LABEL ("hce-mk-dpk-1", "hce-mk-dlk-1", "hce-mk-dtk"), created CKA_SENSITIVE=TRUE,
 * CKA_EXTRACTABLE=FALSE: their value never leaves the token, and neither the database nor the
 * config holds it. Their one usage is CKA_ENCRYPT (decrypt, wrap, unwrap, sign, verify and
 * derive are set FALSE, not left to the token's defaults).
 *
 * What leaves the HSM: hce_hsm_diversify() runs CKM_DES3_ECB over (f || ~f) under the master
 * key inside the token and returns the 16-byte diversified CARD key (E_MK(f) || E_MK(~f),
 * epurse.md "Cryptography"). That card key exists in process memory only while it is used
 * (sealed for a device at token issue, a session key derived from it, a TAC verified) and is
 * wiped right after; it is never stored or logged.
 *
 * Export for a PSAM (Documentation/psam.md): the purchase master keys ("hce-mk-dpk-<n>",
 * HCE_HSM_EXPORTABLE_PREFIX) are the one kind of master key a terminal may hold. They are
 * created CKA_SENSITIVE=TRUE, CKA_EXTRACTABLE=TRUE, CKA_WRAP_WITH_TRUSTED=TRUE: their value
 * can leave the token only wrapped under a key the Security Officer marked CKA_TRUSTED
 * (SoftHSM2 2.6 enforces it: C_WrapKey answers CKR_KEY_NOT_WRAPPABLE otherwise), never in
 * clear. Every other master key (load, TAC) stays non-extractable, and hce_hsm_wrap()
 * refuses any label without the prefix before asking the token.
 *
 * The key ceremony: the terminal's token makes an RSA transport key pair
 * (hce_hsm_transport_generate: private key CKA_UNWRAP only, sensitive, non-extractable); the
 * issuer's SO imports its public key as a trusted wrapping key (hce_hsm_trust_wrap_key,
 * SO session), the issuer wraps the purchase master key under it (hce_hsm_wrap,
 * CKM_RSA_PKCS_OAEP, SHA-1 / MGF1-SHA1: what SoftHSM2 wraps secret keys with); the
 * terminal's token unwraps it (hce_hsm_unwrap) as a sensitive, non-extractable,
 * encrypt-only DES2 token key and both sides compare its key check value (hce_hsm_kcv).
 *
 * Contract: int functions return 0, or -1 with a message in hce_hsm_error() (for the open
 * functions: in err). Messages name the module, token, label or PKCS#11 return value, never
 * a PIN or a key value.
 */
#ifndef HCE_HSM_H
#define HCE_HSM_H

#include <stddef.h>
#include <stdint.h>

#define HCE_HSM_ERR_MAX 256

struct hce_hsm;

/* Purchase master keys: the only master keys that can be wrapped for a PSAM. */
#define HCE_HSM_EXPORTABLE_PREFIX "hce-mk-dpk-"

/* RSA transport keys: modulus size in bits. */
#define HCE_HSM_RSA_BITS 2048
/* Largest wrapped key (OAEP output = modulus size): RSA keys of 2048..3072 bits. */
#define HCE_HSM_WRAPPED_MAX 384

/*
 * Open the token labelled token_label in module and log in as the user with pin. Several
 * handles may be open on one token (login state is per process and token in PKCS#11): they
 * share the login, and only the last one closed logs out.
 */
int hce_hsm_open(const char *module, const char *token_label, const char *pin,
		 struct hce_hsm **out, char err[HCE_HSM_ERR_MAX]);

/*
 * The same, logged in as the Security Officer (so_pin): only for hce_hsm_trust_wrap_key().
 * PKCS#11 login is per application: close every user handle on the token first, and close
 * this one before opening a user handle again.
 */
int hce_hsm_open_so(const char *module, const char *token_label, const char *so_pin,
		    struct hce_hsm **out, char err[HCE_HSM_ERR_MAX]);
void hce_hsm_close(struct hce_hsm *h);
const char *hce_hsm_error(const struct hce_hsm *h);

/* 1 when a secret key with this label exists, 0 when not, -1 on error. */
int hce_hsm_has_key(struct hce_hsm *h, const char *label);

/*
 * Generate a DES2 master key inside the token: sensitive; non-extractable, except a label
 * with HCE_HSM_EXPORTABLE_PREFIX: extractable only wrapped under a trusted key (above).
 */
int hce_hsm_generate(struct hce_hsm *h, const char *label);

/*
 * Import a known DES2 master key value (test vectors and migration only): created with the
 * same attributes as a generated one; the caller wipes its copy.
 */
int hce_hsm_import(struct hce_hsm *h, const char *label, const uint8_t key[16]);

/* Key check value of the DES2 key label: the first 3 bytes of 3DES_K(00 x 8). */
int hce_hsm_kcv(struct hce_hsm *h, const char *label, uint8_t kcv[3]);

/*
 * RSA transport key pair (HCE_HSM_RSA_BITS, e = 65537) generated inside the token, both
 * halves token objects labelled label: the private key CKA_UNWRAP only, CKA_SENSITIVE,
 * CKA_EXTRACTABLE=FALSE; the public key CKA_WRAP. Fails when an object labelled label exists.
 */
int hce_hsm_transport_generate(struct hce_hsm *h, const char *label);

/*
 * The public key labelled label as PEM (SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----")
 * into pem (NUL-terminated, at most cap bytes), and its SHA-256 fingerprint (of the DER
 * SubjectPublicKeyInfo) when fp is not NULL. 0 or -1 (no such key, too small cap).
 */
int hce_hsm_public_pem(struct hce_hsm *h, const char *label, char *pem, size_t cap,
		       uint8_t fp[32]);

/*
 * SO session (hce_hsm_open_so): import the RSA public key in pem (at least HCE_HSM_RSA_BITS)
 * as a token object labelled label with CKA_WRAP=TRUE and CKA_TRUSTED=TRUE: the only kind
 * of key an exportable master key can be wrapped under. fp receives its fingerprint.
 */
int hce_hsm_trust_wrap_key(struct hce_hsm *h, const char *label, const char *pem,
			   uint8_t fp[32]);

/*
 * Wrap the master key key_label (HCE_HSM_EXPORTABLE_PREFIX only) under the public key
 * labelled wrap_label with CKM_RSA_PKCS_OAEP (SHA-1, MGF1-SHA1, no label). out receives the
 * wrapped bytes (*out_len: the modulus size). The token refuses (CKR_KEY_NOT_WRAPPABLE /
 * CKR_KEY_UNEXTRACTABLE) unless the key is extractable and, for a WRAP_WITH_TRUSTED key, the
 * wrapping key trusted.
 */
int hce_hsm_wrap(struct hce_hsm *h, const char *key_label, const char *wrap_label,
		 uint8_t out[HCE_HSM_WRAPPED_MAX], size_t *out_len);

/*
 * Unwrap (CKM_RSA_PKCS_OAEP) wrapped under the private key labelled unwrap_label into a new
 * token key labelled new_label: CKK_DES2, CKA_SENSITIVE, CKA_EXTRACTABLE=FALSE, CKA_ENCRYPT
 * only, CKA_PRIVATE. Fails (nothing created) when a secret key labelled new_label exists.
 */
int hce_hsm_unwrap(struct hce_hsm *h, const char *unwrap_label, const uint8_t *wrapped,
		   size_t len, const char *new_label);

/* Destroy every object labelled label (any class). 0 also when there was none. */
int hce_hsm_destroy(struct hce_hsm *h, const char *label);

/*
 * Call cb for each secret key in the token (label, NUL-terminated, at most 64 bytes shown).
 * cb returning non-zero stops the walk (that value is returned). 0 or -1.
 */
int hce_hsm_list_keys(struct hce_hsm *h, int (*cb)(const char *label, void *arg), void *arg);

/* Object classes for hce_hsm_has_object() (the PKCS#11 CKO_* values; checked in hsm.c). */
#define HCE_HSM_PUBLIC_KEY 2UL
#define HCE_HSM_PRIVATE_KEY 3UL
#define HCE_HSM_SECRET_KEY 4UL
#define HCE_HSM_ANY_CLASS ((unsigned long)-1)

/*
 * 1 when an object labelled label exists whose CKA_CLASS is cls (HCE_HSM_*_KEY, or
 * HCE_HSM_ANY_CLASS), 0 when not, -1 on error.
 */
int hce_hsm_has_object(struct hce_hsm *h, const char *label, unsigned long cls);

/* Card key = 3DES_MK(f) || 3DES_MK(~f), MK = the master key labelled label. */
int hce_hsm_diversify(struct hce_hsm *h, const char *label, const uint8_t factor[8],
		      uint8_t out[16]);

#endif /* HCE_HSM_H */
