// SPDX-License-Identifier: GPL-2.0
/*
 * hce-psam - the terminal side of the PSAM key ceremony (Documentation/psam.md): the
 * PKCS#11 token named by a PSAM file's [pkcs11] section receives the issuer's purchase
 * master key wrapped for it, and never gives it out.
 *
 *   init            RSA transport key pair made inside the token; its public key as PEM
 *   import BLOB     unwrap the master key of a blob (hce-issuer psam-export) into the
 *                   token, check its KCV, delete the transport key pair
 *   status          the token's keys: labels and KCVs (never values), transport key
 *
 * Exit codes: 0 done, 1 failure (message on stderr; status: a labelled slot of the PSAM file
 * has no key in the token), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/hex.h"
#include "crypto/crypto.h"
#include "hsm/blob.h"
#include "hsm/hsm.h"
#include "terminal/psam.h"

/* Label of the transport key pair (both halves) in the terminal's token. */
#define TRANSPORT_LABEL "hce-psam-transport"

#define PEM_MAX 2048

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hce-psam -c PSAMFILE COMMAND\n"
		"  init [--out PEM]     make the RSA transport key pair in the PSAM token and\n"
		"                       print its public key (PEM; also written to PEM)\n"
		"  import BLOB          unwrap the purchase master key of BLOB (hce-issuer\n"
		"                       psam-export) into the token, check its KCV, delete the\n"
		"                       transport key pair\n"
		"  status               labels and KCVs of the token's keys, transport key\n"
		"PSAMFILE: a PSAM key file with a [pkcs11] section (Documentation/psam.md).\n");
}

static void fp_short(const uint8_t fp[32], char out[17])
{
	hce_hex_encode(fp, 8, out, 17);
}

static int cmd_init(struct hce_hsm *h, const char *token, const char *out)
{
	char pem[PEM_MAX], fps[17], err[512];
	uint8_t fp[32];
	int have = hce_hsm_has_object(h, TRANSPORT_LABEL, HCE_HSM_PRIVATE_KEY);

	if (have < 0)
		goto fail;
	if (!have) {
		/* a lone public half (an interrupted init) goes first */
		if (hce_hsm_destroy(h, TRANSPORT_LABEL) || hce_hsm_transport_generate(h, TRANSPORT_LABEL))
			goto fail;
	}
	if (hce_hsm_public_pem(h, TRANSPORT_LABEL, pem, sizeof(pem), fp))
		goto fail;
	fp_short(fp, fps);
	fprintf(stderr, "hce-psam: token '%s': transport key %s (%s), fingerprint %s...\n", token,
		TRANSPORT_LABEL, have ? "already there, the same one" : "made", fps);
	if (out && hce_psam_file_write(out, pem, 0644, err, sizeof(err))) {
		fprintf(stderr, "hce-psam: %s\n", err);
		return 1;
	}
	fputs(pem, stdout);
	return 0;
fail:
	fprintf(stderr, "hce-psam: token '%s': %s\n", token, hce_hsm_error(h));
	return 1;
}

static int read_text(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "hce-psam: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	if (n == cap) {
		fprintf(stderr, "hce-psam: %s: larger than a key blob\n", path);
		return -1;
	}
	*len = n;
	return 0;
}

static int cmd_import(const struct hce_psam *psam, struct hce_hsm *h, const char *token,
		      const char *path)
{
	struct hce_psam_blob b;
	char text[4096], err[512], pem[PEM_MAX], kcvs[7], want[65], have[65];
	uint8_t fp[32], kcv[3];
	const struct hce_psam_key *slot;
	size_t len = 0;
	int r;

	if (read_text(path, text, sizeof(text), &len))
		return 1;
	if (hce_psam_blob_parse(&b, path, text, len, err, sizeof(err))) {
		fprintf(stderr, "hce-psam: %s\n", err);
		return 1;
	}
	/* the PSAM file must use it as the card key it is: same index, version, 3DES */
	slot = hce_psam_purchase_key(psam, b.index);
	if (!slot || !slot->in_token || strcmp(slot->label, b.label) ||
	    slot->version != b.version || slot->alg != b.alg) {
		fprintf(stderr, "hce-psam: the PSAM file has no slot for this key; add:\n"
			"[purchase-key %u]\nalg = %02X\nversion = %02X\nlabel = %s\n", b.index,
			b.alg, b.version, b.label);
		return 1;
	}
	r = hce_hsm_has_object(h, TRANSPORT_LABEL, HCE_HSM_PRIVATE_KEY);
	if (r <= 0) {
		fprintf(stderr, "hce-psam: token '%s': %s\n", token, r ? hce_hsm_error(h) :
			"no transport key: run 'hce-psam init' and give its public key to the "
			"issuer's psam-export first");
		return 1;
	}
	if (hce_hsm_public_pem(h, TRANSPORT_LABEL, pem, sizeof(pem), fp)) {
		fprintf(stderr, "hce-psam: token '%s': %s\n", token, hce_hsm_error(h));
		return 1;
	}
	if (memcmp(fp, b.transport, 32)) {
		hce_hex_encode(b.transport, 32, want, sizeof(want));
		hce_hex_encode(fp, 32, have, sizeof(have));
		fprintf(stderr, "hce-psam: %s was made for another transport key (%.16s...); this "
			"token's is %.16s...: nothing imported\n", path, want, have);
		return 1;
	}
	r = hce_hsm_has_key(h, b.label);
	if (r) {
		fprintf(stderr, "hce-psam: token '%s': %s\n", token, r > 0 ?
			"a key with the blob's label is already there (rotate: a new key index, "
			"Documentation/psam.md)" : hce_hsm_error(h));
		return 1;
	}
	if (hce_hsm_unwrap(h, TRANSPORT_LABEL, b.wrapped, b.wrapped_len, b.label)) {
		fprintf(stderr, "hce-psam: token '%s': %s\n", token, hce_hsm_error(h));
		return 1;
	}
	if (hce_hsm_kcv(h, b.label, kcv) || !hce_ct_equal(kcv, b.kcv, 3)) {
		char e[HCE_HSM_ERR_MAX];

		snprintf(e, sizeof(e), "%s", hce_hsm_error(h));
		if (hce_hsm_destroy(h, b.label))
			fprintf(stderr, "hce-psam: token '%s': %s: REMOVE key '%s' by hand\n", token,
				hce_hsm_error(h), b.label);
		fprintf(stderr, "hce-psam: token '%s': %s: the unwrapped key was deleted\n", token,
			e[0] ? e : "key check value does not match the blob's (damaged or "
			"tampered blob)");
		return 1;
	}
	hce_hex_encode(kcv, 3, kcvs, sizeof(kcvs));
	if (hce_hsm_destroy(h, TRANSPORT_LABEL)) {
		fprintf(stderr, "hce-psam: token '%s': key imported, but deleting the transport key "
			"failed: %s\n", token, hce_hsm_error(h));
		return 1;
	}
	printf("imported %s (purchase key %u, version %02X) into token '%s': KCV %s; transport "
	       "key deleted\n", b.label, b.index, b.version, token, kcvs);
	return 0;
}

struct status_ctx {
	struct hce_hsm *h;
	int n;
};

static int print_key(const char *label, void *arg)
{
	struct status_ctx *c = arg;
	uint8_t kcv[3];
	char kcvs[7] = "?";

	if (!hce_hsm_kcv(c->h, label, kcv))
		hce_hex_encode(kcv, 3, kcvs, sizeof(kcvs));
	printf("key       %s  KCV %s\n", label, kcvs);
	c->n++;
	return 0;
}

static int cmd_status(const struct hce_psam *psam, struct hce_hsm *h, const char *token)
{
	struct status_ctx c = { h, 0 };
	char pem[PEM_MAX], fps[17];
	uint8_t fp[32];
	int i, r, bad = 0;

	printf("token     %s\n", token);
	r = hce_hsm_has_object(h, TRANSPORT_LABEL, HCE_HSM_PRIVATE_KEY);
	if (r > 0 && !hce_hsm_public_pem(h, TRANSPORT_LABEL, pem, sizeof(pem), fp)) {
		fp_short(fp, fps);
		printf("transport %s  fingerprint %s... (waiting for an import)\n", TRANSPORT_LABEL,
		       fps);
	} else if (r < 0) {
		goto fail;
	} else {
		printf("transport none\n");
	}
	if (hce_hsm_list_keys(h, print_key, &c) < 0)
		goto fail;
	if (!c.n)
		printf("key       none\n");
	for (i = 0; i < HCE_KEY_SLOTS; i++) {
		const struct hce_psam_key *k = &psam->purchase[i];

		if (!k->present || !k->in_token)
			continue;
		r = hce_hsm_has_key(h, k->label);
		if (r < 0)
			goto fail;
		printf("slot      [purchase-key %u] version %02X label %s: %s\n", k->index,
		       k->version, k->label, r ? "in the token" : "MISSING");
		bad |= !r;
	}
	return bad;
fail:
	fprintf(stderr, "hce-psam: token '%s': %s\n", token, hce_hsm_error(h));
	return 1;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *cmd, *token;
	struct hce_psam psam;
	struct hce_hsm *h;
	char err[1024];
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 4 || strcmp(argv[1], "-c")) {
		usage(stderr);
		return 2;
	}
	file = argv[2];
	cmd = argv[3];
	argc -= 4;
	argv += 4;
	if (!((!strcmp(cmd, "init") && (argc == 0 || (argc == 2 && !strcmp(argv[0], "--out")))) ||
	      (!strcmp(cmd, "import") && argc == 1) || (!strcmp(cmd, "status") && argc == 0))) {
		usage(stderr);
		return 2;
	}
	if (hce_psam_load(&psam, file, err, sizeof(err))) {
		fprintf(stderr, "hce-psam: %s\n", err);
		return 1;
	}
	token = hce_psam_token_name(&psam);
	h = hce_psam_token_hsm(&psam, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "hce-psam: %s: %s\n", file, err);
		hce_psam_wipe(&psam);
		return 1;
	}
	if (!strcmp(cmd, "init"))
		ret = cmd_init(h, token, argc == 2 ? argv[1] : NULL);
	else if (!strcmp(cmd, "import"))
		ret = cmd_import(&psam, h, token, argv[0]);
	else
		ret = cmd_status(&psam, h, token);
	hce_psam_wipe(&psam);
	return ret;
}
