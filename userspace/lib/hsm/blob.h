/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blob.h - the PSAM key blob: a purchase master key wrapped by the issuer's HSM for one
 * terminal's transport key (hce-issuer psam-export -> hce-psam import; Documentation/psam.md).
 *
 * Text, parsed with profile/conf.h (so: strict, line numbers in errors, unknown keys refused):
 *
 *   # linux-hce PSAM key blob (Documentation/psam.md)
 *   [psam-key-blob]
 *   format = 1
 *   label = hce-mk-dpk-1          the key's label in both tokens: "hce-mk-dpk-<index>"
 *   index = 1                     purchase key index (1..255), the label's number
 *   alg = 00                      3DES (the only token key algorithm)
 *   version = 01                  key version the cards report
 *   kcv = 1A2B3C                  first 3 bytes of 3DES_K(00 x 8)
 *   mechanism = rsa-pkcs-oaep-sha1
 *   transport = <64 hex>          SHA-256 of the terminal transport key's DER public key
 *   wrapped = <hex>               C_WrapKey output (the modulus size: 256..384 bytes)
 *
 * Nothing in it is secret (the key is wrapped under an RSA key whose private half never
 * leaves the terminal's token). Nothing in it is authenticated either, except the key
 * itself (OAEP) and its KCV: import checks the KCV, the transport fingerprint and the PSAM
 * file's slot for the label; the operators compare the KCV both sides print.
 *
 * Contract: 0 or -1 with a message "name:line: what" in err.
 */
#ifndef HCE_HSM_BLOB_H
#define HCE_HSM_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "hsm/hsm.h"

#define HCE_BLOB_LABEL_MAX 32
#define HCE_BLOB_WRAPPED_MIN 256
#define HCE_BLOB_MECHANISM "rsa-pkcs-oaep-sha1"
#define HCE_BLOB_TEXT_MAX 2048	/* what hce_psam_blob_format() writes fits here */

struct hce_psam_blob {
	char label[HCE_BLOB_LABEL_MAX];
	uint8_t index;
	uint8_t alg;
	uint8_t version;
	uint8_t kcv[3];
	uint8_t transport[32];
	uint8_t wrapped[HCE_HSM_WRAPPED_MAX];
	size_t wrapped_len;
};

/* Parse len bytes of text (name used in messages). */
int hce_psam_blob_parse(struct hce_psam_blob *b, const char *name, const char *text,
			size_t len, char *err, size_t errlen);

/* The blob as text (the format above) into out; -1 when it does not fit or b is invalid. */
int hce_psam_blob_format(const struct hce_psam_blob *b, char *out, size_t cap);

/* The purchase key index of a label "hce-mk-dpk-<1..255>" (no leading zero), or -1. */
int hce_psam_blob_label_index(const char *label);

/*
 * Write text to path atomically (a temporary file beside it, fsync, chmod mode, rename): a
 * blob or a transport public key is never left half written. 0, or -1 with "path: reason"
 * in err.
 */
int hce_psam_file_write(const char *path, const char *text, unsigned int mode, char *err,
			size_t errlen);

#endif /* HCE_HSM_BLOB_H */
