// SPDX-License-Identifier: GPL-2.0
/* blob.c - the PSAM key blob, text in and out (blob.h). */
#include "hsm/blob.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/hex.h"
#include "profile/conf.h"

#define SEC "psam-key-blob"

int hce_psam_blob_label_index(const char *label)
{
	size_t p = strlen(HCE_HSM_EXPORTABLE_PREFIX), i;
	int v = 0;

	if (strncmp(label, HCE_HSM_EXPORTABLE_PREFIX, p) || !label[p] || label[p] == '0')
		return -1;
	for (i = p; label[i]; i++) {
		if (label[i] < '0' || label[i] > '9' || i - p >= 3)
			return -1;
		v = v * 10 + (label[i] - '0');
	}
	return v >= 1 && v <= 255 ? v : -1;
}

static unsigned int line_of(struct hce_conf *c, const char *key)
{
	const struct hce_conf_entry *e = hce_conf_find(c, SEC, key);

	return e ? e->line : 0;
}

static int parse(struct hce_psam_blob *b, struct hce_conf *c)
{
	const char *label, *mech;
	uint64_t format, index;
	size_t n;

	if (!hce_conf_has_section(c, SEC))
		return hce_conf_fail(c, 0, "not a PSAM key blob (no [" SEC "] section)");
	if (hce_conf_section_count(c) != 1)
		return hce_conf_fail(c, 0, "a PSAM key blob has one section, [" SEC "]");
	if (hce_conf_get_uint(c, SEC, "format", true, 1, 1, &format) < 0 ||
	    hce_conf_get_text(c, SEC, "label", true, HCE_BLOB_LABEL_MAX - 1, &label) < 0 ||
	    hce_conf_get_uint(c, SEC, "index", true, 1, 255, &index) < 0 ||
	    hce_conf_get_hex(c, SEC, "alg", true, &b->alg, 1, 1, NULL) < 0 ||
	    hce_conf_get_hex(c, SEC, "version", true, &b->version, 1, 1, NULL) < 0 ||
	    hce_conf_get_hex(c, SEC, "kcv", true, b->kcv, 3, 3, NULL) < 0 ||
	    hce_conf_get_text(c, SEC, "mechanism", true, 64, &mech) < 0 ||
	    hce_conf_get_hex(c, SEC, "transport", true, b->transport, 32, 32, NULL) < 0 ||
	    hce_conf_get_hex(c, SEC, "wrapped", true, b->wrapped, HCE_BLOB_WRAPPED_MIN,
			     sizeof(b->wrapped), &n) < 0)
		return -1;
	if (hce_psam_blob_label_index(label) < 0)
		return hce_conf_fail(c, line_of(c, "label"), "[" SEC "] label: only purchase master "
				     "keys (" HCE_HSM_EXPORTABLE_PREFIX "<1..255>) go to a PSAM");
	if (hce_psam_blob_label_index(label) != (int)index)
		return hce_conf_fail(c, line_of(c, "index"), "[" SEC "] index: not the label's "
				     "number");
	if (b->alg != 0x00)
		return hce_conf_fail(c, line_of(c, "alg"), "[" SEC "] alg: only 00 (3DES)");
	if (strcmp(mech, HCE_BLOB_MECHANISM))
		return hce_conf_fail(c, line_of(c, "mechanism"), "[" SEC "] mechanism: only "
				     HCE_BLOB_MECHANISM);
	snprintf(b->label, sizeof(b->label), "%s", label);
	b->index = (uint8_t)index;
	b->wrapped_len = n;
	return hce_conf_check_unused(c);
}

int hce_psam_blob_parse(struct hce_psam_blob *b, const char *name, const char *text,
			size_t len, char *err, size_t errlen)
{
	struct hce_conf c;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = hce_conf_parse(&c, name, text, len);
	if (!rc)
		rc = parse(b, &c);
	if (rc) {
		snprintf(err, errlen, "%s", hce_conf_error(&c));
		memset(b, 0, sizeof(*b));
	}
	hce_conf_free(&c);
	return rc ? -1 : 0;
}

int hce_psam_blob_format(const struct hce_psam_blob *b, char *out, size_t cap)
{
	char kcv[7], tr[65], wr[2 * HCE_HSM_WRAPPED_MAX + 1];
	int n;

	if (hce_psam_blob_label_index(b->label) != b->index || b->alg ||
	    b->wrapped_len < HCE_BLOB_WRAPPED_MIN || b->wrapped_len > sizeof(b->wrapped) ||
	    hce_hex_encode(b->kcv, 3, kcv, sizeof(kcv)) ||
	    hce_hex_encode(b->transport, 32, tr, sizeof(tr)) ||
	    hce_hex_encode(b->wrapped, b->wrapped_len, wr, sizeof(wr)))
		return -1;
	n = snprintf(out, cap,
		     "# linux-hce PSAM key blob (Documentation/psam.md): a purchase master key\n"
		     "# wrapped for one terminal's transport key. Not secret. Check the KCV.\n"
		     "[" SEC "]\n"
		     "format = 1\n"
		     "label = %s\n"
		     "index = %u\n"
		     "alg = %02X\n"
		     "version = %02X\n"
		     "kcv = %s\n"
		     "mechanism = " HCE_BLOB_MECHANISM "\n"
		     "transport = %s\n"
		     "wrapped = %s\n",
		     b->label, b->index, b->alg, b->version, kcv, tr, wr);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int hce_psam_file_write(const char *path, const char *text, unsigned int mode, char *err,
			size_t errlen)
{
	char tmp[4096];
	FILE *f;
	int ok;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	ok = fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok && chmod(tmp, (mode_t)mode) == 0 && rename(tmp, path) == 0;
	if (!ok) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
