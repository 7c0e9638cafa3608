// SPDX-License-Identifier: GPL-2.0
/*
 * t4t.c - the NFC Forum Type 4 Tag application, mapping version 2.0, read-only (ndef.h).
 *
 * Files: CC E103 (15 bytes) and the NDEF file E104 = NLEN (2 bytes, big-endian) + message.
 * Both are reachable only after the NDEF Tag Application is selected (T4T 2.0 procedure).
 */
#include "ndef/ndef.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/apdu.h"

struct t4t {
	struct hce_app app;
	bool selected;		/* the NDEF Tag Application */
	uint16_t cur;		/* current file: 0, E103 or E104 */
	uint8_t cc[HCE_NDEF_CC_LEN];
	size_t flen;		/* NDEF file length: 2 + message */
	uint8_t file[];		/* NLEN + message */
};

void hce_ndef_cc(size_t msg_len, uint8_t cc[HCE_NDEF_CC_LEN])
{
	size_t fmax = msg_len + 2;

	hce_put_be16(cc, HCE_NDEF_CC_LEN);
	cc[2] = HCE_NDEF_MAPPING_VERSION;
	hce_put_be16(cc + 3, HCE_NDEF_MLE);
	hce_put_be16(cc + 5, HCE_NDEF_MLC);
	cc[7] = 0x04;	/* NDEF File Control TLV */
	cc[8] = 0x06;
	hce_put_be16(cc + 9, HCE_NDEF_FILE_FID);
	hce_put_be16(cc + 11, (uint16_t)(fmax > 0xFFFE ? 0xFFFE : fmax));
	cc[13] = 0x00;	/* read access: granted */
	cc[14] = 0xFF;	/* write access: none (read-only) */
}

static size_t sw_only(uint8_t *out, size_t cap, uint16_t sw)
{
	return hce_rapdu_build(out, cap, NULL, 0, sw);
}

static uint16_t t4t_select(struct t4t *t, const struct hce_capdu *c)
{
	uint16_t fid;

	if (c->p1 == 0x04) {
		if (c->p2 != 0x00 && c->p2 != 0x0C)
			return HCE_SW_WRONG_P1P2;
		if (c->nc < 1 || c->nc > 16)
			return HCE_SW_WRONG_LENGTH;
		if (c->nc != HCE_NDEF_AID_LEN || memcmp(c->data, hce_ndef_aid, HCE_NDEF_AID_LEN))
			return HCE_SW_FILE_NOT_FOUND;
		t->selected = true;
		t->cur = 0;
		return HCE_SW_OK;
	}
	if ((c->p1 != 0x00 && c->p1 != 0x02) || (c->p2 != 0x0C && c->p2 != 0x00))
		return HCE_SW_WRONG_P1P2;
	if (c->nc != 2)
		return HCE_SW_WRONG_LENGTH;
	fid = hce_get_be16(c->data);
	if (!t->selected || (fid != HCE_NDEF_CC_FID && fid != HCE_NDEF_FILE_FID))
		return HCE_SW_FILE_NOT_FOUND;	/* a failed selection keeps the current file */
	t->cur = fid;
	return HCE_SW_OK;
}

static size_t t4t_read(struct t4t *t, const struct hce_capdu *c, uint8_t *out, size_t cap)
{
	const uint8_t *data;
	size_t len, off, n, want, max = cap - 2;

	if (c->nc)
		return sw_only(out, cap, HCE_SW_WRONG_LENGTH);
	if (c->p1 & 0x80)	/* short EF identifiers: not in the T4T 2.0 mapping */
		return sw_only(out, cap, HCE_SW_WRONG_P1P2);
	if (!t->cur)
		return sw_only(out, cap, HCE_SW_NO_EF);
	if (t->cur == HCE_NDEF_CC_FID) {
		data = t->cc;
		len = sizeof(t->cc);
	} else {
		data = t->file;
		len = t->flen;
	}
	off = (size_t)c->p1 << 8 | c->p2;
	if (off > len)
		return sw_only(out, cap, HCE_SW_WRONG_OFFSET);
	n = len - off;
	/* Le absent or 00: up to 256 bytes (what a short R-APDU carries). */
	want = !c->has_le || c->ne > 256 ? 256 : c->ne;
	if (want > max)
		want = max;
	if (want <= n)
		return hce_rapdu_build(out, cap, data + off, want, HCE_SW_OK);
	return hce_rapdu_build(out, cap, data + off, n, HCE_SW_WARN_EOF);
}

static size_t t4t_process(struct hce_app *app, const uint8_t *capdu, size_t len,
			  uint8_t *out, size_t cap)
{
	struct t4t *t = app->priv;
	struct hce_capdu c;
	uint16_t sw;

	if (cap < 2)
		return 0;
	sw = hce_capdu_parse(capdu, len, &c);
	if (sw)
		return sw_only(out, cap, sw);
	if (c.cla != 0x00)
		return sw_only(out, cap, HCE_SW_CLA_NOT_SUPPORTED);
	switch (c.ins) {
	case 0xA4:
		return sw_only(out, cap, t4t_select(t, &c));
	case 0xB0:
		return t4t_read(t, &c, out, cap);
	case 0xD6:	/* UPDATE BINARY */
	case 0xD7:
		return sw_only(out, cap, HCE_NDEF_SW_SECURITY);
	default:
		return sw_only(out, cap, HCE_SW_INS_NOT_SUPPORTED);
	}
}

static void t4t_session_end(struct hce_app *app)
{
	struct t4t *t = app->priv;

	t->selected = false;
	t->cur = 0;
}

static const struct hce_app_ops t4t_ops = {
	.name = "ndef",
	.process = t4t_process,
	.session_end = t4t_session_end,
};

int hce_ndef_app_new(const uint8_t *msg, size_t len, struct hce_app **out, char *err,
		     size_t errlen)
{
	struct t4t *t;
	int rc;

	*out = NULL;
	if (len > HCE_NDEF_MSG_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "NDEF message of %zu bytes (most %d)", len,
				 HCE_NDEF_MSG_MAX);
		return -EMSGSIZE;
	}
	rc = hce_ndef_validate(msg, len, err, errlen);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t) + len + 2);
	if (!t)
		return -ENOMEM;
	t->app.ops = &t4t_ops;
	t->app.priv = t;
	hce_ndef_cc(len, t->cc);
	hce_put_be16(t->file, (uint16_t)len);
	memcpy(t->file + 2, msg, len);
	t->flen = len + 2;
	*out = &t->app;
	return 0;
}

void hce_ndef_app_free(struct hce_app *app)
{
	if (app)
		free(app->priv);
}
