/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hsm.h - the issuer's master keys in a PKCS#11 token (SoftHSM2 in tests and demos).
 *
 * The module is dlopen()ed (path from the config, e.g. /usr/lib/softhsm/libsofthsm2.so); the
 * header is p11-kit's <p11-kit/pkcs11.h>. Master keys are CKK_DES2 token objects found by
 * CKA_LABEL ("hce-mk-dpk-1", "hce-mk-dlk-1", "hce-mk-dtk"), created CKA_SENSITIVE=TRUE,
 * CKA_EXTRACTABLE=FALSE: their value never leaves the token, and neither the database nor the
 * config holds it.
 *
 * What leaves the HSM: hce_hsm_diversify() runs CKM_DES3_ECB over (f || ~f) under the master
 * key inside the token and returns the 16-byte diversified CARD key (E_MK(f) || E_MK(~f),
 * epurse.md "Cryptography"). That card key exists in process memory only while it is used
 * (sealed for a device at token issue, a session key derived from it, a TAC verified) and is
 * wiped right after; it is never stored or logged.
 *
 * Contract: int functions return 0, or -1 with a message in hce_hsm_error().
 */
#ifndef HCE_HSM_H
#define HCE_HSM_H

#include <stddef.h>
#include <stdint.h>

#define HCE_HSM_ERR_MAX 256

struct hce_hsm;

int hce_hsm_open(const char *module, const char *token_label, const char *pin,
		 struct hce_hsm **out, char err[HCE_HSM_ERR_MAX]);
void hce_hsm_close(struct hce_hsm *h);
const char *hce_hsm_error(const struct hce_hsm *h);

/* 1 when a secret key with this label exists, 0 when not, -1 on error. */
int hce_hsm_has_key(struct hce_hsm *h, const char *label);

/* Generate a DES2 master key inside the token (non-extractable, sensitive). */
int hce_hsm_generate(struct hce_hsm *h, const char *label);

/*
 * Import a known DES2 master key value (test vectors and migration only): created sensitive
 * and non-extractable like a generated one; the caller wipes its copy.
 */
int hce_hsm_import(struct hce_hsm *h, const char *label, const uint8_t key[16]);

/* Card key = 3DES_MK(f) || 3DES_MK(~f), MK = the master key labelled label. */
int hce_hsm_diversify(struct hce_hsm *h, const char *label, const uint8_t factor[8],
		      uint8_t out[16]);

#endif /* HCE_HSM_H */
