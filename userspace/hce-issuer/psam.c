// SPDX-License-Identifier: GPL-2.0
/*
 * psam.c - hce-issuer psam-export: the issuer side of the PSAM key ceremony
 * (Documentation/psam.md). The purchase master key leaves the issuer's HSM only wrapped
 * (CKM_RSA_PKCS_OAEP) under one terminal token's transport key, which the Security Officer
 * imports as a CKA_TRUSTED wrapping key for this export and which is deleted right after.
 * Load and TAC master keys never leave (lib/hsm refuses, and the token: non-extractable).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "codec/hex.h"
#include "crypto/crypto.h"
#include "hsm/blob.h"
#include "iss.h"

#define PEM_MAX 8192

/* SHA-256 of the DER SubjectPublicKeyInfo in pem (as hce_hsm_public_pem computes it). */
static int pem_fingerprint(const char *pem, uint8_t fp[32])
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	unsigned int md_len = 0;
	int len = k ? i2d_PUBKEY(k, &der) : -1;
	int ok = len > 0 && EVP_Digest(der, (size_t)len, fp, &md_len, EVP_sha256(), NULL) &&
		 md_len == 32;

	OPENSSL_free(der);
	EVP_PKEY_free(k);
	BIO_free(bio);
	return ok ? 0 : -1;
}

static int read_file(const char *what, const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "hce-issuer: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	if (n == cap - 1) {
		fprintf(stderr, "hce-issuer: %s %s: too large\n", what, path);
		hce_wipe(buf, cap);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

int iss_psam_export(const char *conf_path, const char *pubkey_path, const char *label,
		    const char *so_pin_file, const char *out)
{
	struct iss_conf c;
	struct hce_psam_blob b;
	struct hce_hsm *h = NULL;
	char err[HCE_HSM_ERR_MAX + 512], so_pin[256], pem[PEM_MAX], check[PEM_MAX], wrap_label[40];
	char text[HCE_BLOB_TEXT_MAX], kcv[7], fps[65], short_fp[17];
	uint8_t fp[32], want[32];
	int index = hce_psam_blob_label_index(label), ret = -1, trusted = 0, lock;

	memset(&b, 0, sizeof(b));
	if (index < 0) {
		fprintf(stderr, "hce-issuer: psam-export: '%s' is not a purchase master key "
			"(%s<1..255>): load and TAC master keys never leave the HSM\n", label,
			HCE_HSM_EXPORTABLE_PREFIX);
		return -1;
	}
	/*
	 * One ceremony at a time per issuer: an exclusive lock on its config file. SoftHSM2's
	 * file store does not stand two processes adding and deleting objects at once (the
	 * token disappears from the other's slot list), and the trusted wrapping key must not
	 * be left behind by a failed export.
	 */
	lock = open(conf_path, O_RDONLY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
		if (lock >= 0 && errno == EWOULDBLOCK) {
			fprintf(stderr, "hce-issuer: psam-export: another export is running for %s;"
				" waiting\n", conf_path);
			if (!flock(lock, LOCK_EX))
				goto locked;
		}
		fprintf(stderr, "hce-issuer: psam-export: %s: %s\n", conf_path, strerror(errno));
		if (lock >= 0)
			close(lock);
		return -1;
	}
locked:
	if (iss_conf_load(conf_path, &c, err, sizeof(err))) {
		fprintf(stderr, "hce-issuer: %s\n", err);
		close(lock);
		return -1;
	}
	if (!c.hsm_pin[0]) {
		fprintf(stderr, "hce-issuer: [hsm] pin-file is required\n");
		goto out;
	}
	if (read_file("terminal public key", pubkey_path, pem, sizeof(pem)) ||
	    read_file("SO PIN file", so_pin_file, so_pin, sizeof(so_pin)))
		goto out;
	so_pin[strcspn(so_pin, "\r\n")] = '\0';

	/* 1. The Security Officer marks the terminal's transport key trusted (this export only). */
	if (hce_hsm_open_so(c.hsm_module, c.hsm_token, so_pin, &h, err)) {
		fprintf(stderr, "hce-issuer: psam-export: %s\n", err);
		goto out;
	}
	/* so_pin stays (wiped at out) until the trusted key is gone: if the user cannot log
	 * in below, the SO removes it again */
	/*
	 * One label per transport key (its fingerprint): exports for two terminals at once never
	 * share a wrapping key, and a stale one of this terminal's interrupted export is replaced.
	 */
	if (pem_fingerprint(pem, want)) {
		fprintf(stderr, "hce-issuer: psam-export: %s: not a PEM public key\n", pubkey_path);
		goto out;
	}
	hce_hex_encode(want, 8, short_fp, sizeof(short_fp));
	snprintf(wrap_label, sizeof(wrap_label), "hce-psam-wrap-%s", short_fp);
	if (hce_hsm_destroy(h, wrap_label) || hce_hsm_trust_wrap_key(h, wrap_label, pem, fp)) {
		fprintf(stderr, "hce-issuer: psam-export: token '%s': %s\n", c.hsm_token,
			hce_hsm_error(h));
		goto out;
	}
	trusted = 1;
	if (memcmp(fp, want, sizeof(fp))) {
		fprintf(stderr, "hce-issuer: psam-export: the token's copy of the transport key "
			"differs from %s\n", pubkey_path);
		goto out;
	}
	hce_hsm_close(h);
	h = NULL;

	/* 2. The user wraps the purchase master key under it; both sides' KCV. */
	if (hce_hsm_open(c.hsm_module, c.hsm_token, c.hsm_pin, &h, err)) {
		fprintf(stderr, "hce-issuer: psam-export: %s\n", err);
		goto out;
	}
	hce_wipe(c.hsm_pin, sizeof(c.hsm_pin));
	/* wrap only under the key step 1 trusted: its fingerprint again, from the token */
	if (hce_hsm_public_pem(h, wrap_label, check, sizeof(check), fp) ||
	    memcmp(fp, want, sizeof(fp))) {
		fprintf(stderr, "hce-issuer: psam-export: token '%s': the wrapping key %s is not "
			"the one trusted for %s\n", c.hsm_token, wrap_label, pubkey_path);
		goto out;
	}
	if (hce_hsm_wrap(h, label, wrap_label, b.wrapped, &b.wrapped_len) ||
	    hce_hsm_kcv(h, label, b.kcv)) {
		fprintf(stderr, "hce-issuer: psam-export: token '%s': %s\n", c.hsm_token,
			hce_hsm_error(h));
		goto out;
	}
	snprintf(b.label, sizeof(b.label), "%s", label);
	b.index = (uint8_t)index;
	b.alg = 0x00;
	b.version = (uint8_t)index;	/* the issuer's cards: key version = key index (core.c) */
	memcpy(b.transport, fp, sizeof(fp));
	if (hce_psam_blob_format(&b, text, sizeof(text))) {
		fprintf(stderr, "hce-issuer: psam-export: cannot format the blob\n");
		goto out;
	}
	if (hce_psam_file_write(out, text, 0644, err, sizeof(err))) {
		fprintf(stderr, "hce-issuer: psam-export: %s\n", err);
		goto out;
	}
	hce_hex_encode(b.kcv, 3, kcv, sizeof(kcv));
	hce_hex_encode(fp, 32, fps, sizeof(fps));
	printf("exported %s (purchase key %d, version %02X) KCV %s for transport key %.16s... "
	       "to %s\n", label, index, b.version, kcv, fps, out);
	ret = 0;
out:
	/* 3. The trusted wrapping key does not outlive the export. */
	if (trusted && h && hce_hsm_destroy(h, wrap_label)) {
		fprintf(stderr, "hce-issuer: psam-export: token '%s': deleting %s: %s\n",
			c.hsm_token, wrap_label, hce_hsm_error(h));
		ret = -1;
	} else if (trusted && !h) {
		/* the user session never opened (wrong user PIN, token busy): the SO takes the
		 * trusted wrapping key out again */
		if (hce_hsm_open_so(c.hsm_module, c.hsm_token, so_pin, &h, err) ||
		    hce_hsm_destroy(h, wrap_label))
			fprintf(stderr, "hce-issuer: psam-export: the trusted wrapping key %s is "
				"still in token '%s': run psam-export again or delete it\n",
				wrap_label, c.hsm_token);
		else
			fprintf(stderr, "hce-issuer: psam-export: the trusted wrapping key %s was "
				"removed again\n", wrap_label);
	}
	hce_hsm_close(h);
	hce_wipe(so_pin, sizeof(so_pin));
	hce_wipe(c.hsm_pin, sizeof(c.hsm_pin));
	hce_wipe(&b, sizeof(b));
	close(lock);
	return ret;
}
