// SPDX-License-Identifier: GPL-2.0
/*
 * files.c - selection and file reading of the e-purse.
 *
 * Structure: MF 3F00 (DF name "1PAY.SYS.DDF01", the PSE; its directory is record 1 of SFI 1),
 * the PPSE "2PAY.SYS.DDF01" (directory in its FCI only), and DF 1001 = the EP application
 * (selected by AID or FID) holding EF 0015 (binary, 30), 0016 (binary), 0017 (binary, 60),
 * 0018 (cyclic log, 10 x 23) and 001E (CAPP records, 8 x 48). Both directories list the EP AID.
 */
#include "purse/purse_priv.h"

#include <errno.h>
#include <string.h>

#include "codec/tlv.h"

#define FID_MF 0x3F00
#define FID_EP_DF 0x1001
#define FID_EF0015 0x0015
#define FID_EF0016 0x0016
#define FID_EF0017 0x0017
#define FID_EF0018 0x0018
#define FID_EF001E 0x001E
#define SFI_DIR 0x01

static const uint8_t pse_name[] = "1PAY.SYS.DDF01";
static const uint8_t ppse_name[] = "2PAY.SYS.DDF01";
#define DDF_NAME_LEN 14
static const uint8_t ep_label[] = "EP";

/* Directory entry 61 { 4F AID, 50 label, 87 priority } */
static void dir_entry(const struct hce_purse *p, struct hce_wr *w)
{
	size_t m;
	uint8_t prio = 1;

	hce_tlv_begin(w, 0x61, &m);
	hce_tlv_put(w, 0x4F, p->card.aid, p->card.aid_len);
	hce_tlv_put(w, 0x50, ep_label, sizeof(ep_label) - 1);
	hce_tlv_put(w, 0x87, &prio, 1);
	hce_tlv_end(w, m);
}

/* FCI of a directory: 6F { 84 name, A5 { [88 SFI], BF0C { 61 ... } } } */
static void ddf_fci(const struct hce_purse *p, struct hce_wr *w, const uint8_t *name, bool pse)
{
	size_t m6f, ma5, mbf;
	uint8_t sfi = SFI_DIR;

	hce_tlv_begin(w, 0x6F, &m6f);
	hce_tlv_put(w, 0x84, name, DDF_NAME_LEN);
	hce_tlv_begin(w, 0xA5, &ma5);
	if (pse)
		hce_tlv_put(w, 0x88, &sfi, 1);
	hce_tlv_begin(w, 0xBF0C, &mbf);
	dir_entry(p, w);
	hce_tlv_end(w, mbf);
	hce_tlv_end(w, ma5);
	hce_tlv_end(w, m6f);
}

/* FCI of the EP: 6F { 84 AID, A5 { 9F08 01 version, 9F0C 1E EF0015 } } (real gates) */
static void ep_fci(const struct hce_purse *p, struct hce_wr *w)
{
	size_t m6f, ma5;

	hce_tlv_begin(w, 0x6F, &m6f);
	hce_tlv_put(w, 0x84, p->card.aid, p->card.aid_len);
	hce_tlv_begin(w, 0xA5, &ma5);
	hce_tlv_put(w, 0x9F08, &p->card.app_version, 1);
	hce_tlv_put(w, 0x9F0C, p->card.ef0015, HCE_EF0015_LEN);
	hce_tlv_end(w, ma5);
	hce_tlv_end(w, m6f);
}

static bool is_ep_ef(uint16_t fid)
{
	return fid == FID_EF0015 || fid == FID_EF0016 || fid == FID_EF0017 ||
	       fid == FID_EF0018 || fid == FID_EF001E;
}

static uint16_t select_by_name(struct hce_purse *p, const struct hce_capdu *c,
			       struct purse_rsp *r, bool fci)
{
	if (c->nc == DDF_NAME_LEN && !memcmp(c->data, pse_name, DDF_NAME_LEN)) {
		p->sel = SEL_MF;
		p->cur_ef = 0;
		if (fci)
			ddf_fci(p, &r->w, pse_name, true);
		return HCE_SW_OK;
	}
	if (c->nc == DDF_NAME_LEN && !memcmp(c->data, ppse_name, DDF_NAME_LEN)) {
		p->sel = SEL_PPSE;
		p->cur_ef = 0;
		if (fci)
			ddf_fci(p, &r->w, ppse_name, false);
		return HCE_SW_OK;
	}
	/* The EP AID, or a right-truncated prefix of it of at least 5 bytes (ISO 7816-4). */
	if (c->nc >= HCE_STORE_AID_MIN && c->nc <= p->card.aid_len &&
	    !memcmp(c->data, p->card.aid, c->nc)) {
		p->sel = SEL_EP;
		p->cur_ef = 0;
		if (fci)
			ep_fci(p, &r->w);
		return HCE_SW_OK;
	}
	return HCE_SW_FILE_NOT_FOUND;
}

static uint16_t select_by_fid(struct hce_purse *p, const struct hce_capdu *c,
			      struct purse_rsp *r, bool fci)
{
	uint16_t fid = hce_get_be16(c->data);

	if (fid == FID_MF && c->p1 == 0x00) {
		p->sel = SEL_MF;
		p->cur_ef = 0;
		if (fci)
			ddf_fci(p, &r->w, pse_name, true);
		return HCE_SW_OK;
	}
	if (fid == FID_EP_DF && c->p1 == 0x00) {
		p->sel = SEL_EP;
		p->cur_ef = 0;
		if (fci)
			ep_fci(p, &r->w);
		return HCE_SW_OK;
	}
	if (p->sel == SEL_EP && is_ep_ef(fid)) {
		p->cur_ef = fid;
		return HCE_SW_OK;	/* no FCP for EFs */
	}
	return HCE_SW_FILE_NOT_FOUND;
}

uint16_t purse_select(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	bool fci;
	uint16_t sw;

	/* P2: 00 first occurrence with FCI, 0C first occurrence without response data. */
	if ((c->p1 != 0x00 && c->p1 != 0x02 && c->p1 != 0x04) ||
	    (c->p2 != 0x00 && c->p2 != 0x0C))
		return HCE_SW_WRONG_P1P2;
	fci = c->p2 == 0x00;
	if (c->p1 == 0x04) {
		if (c->nc < 1 || c->nc > 16)
			return HCE_SW_WRONG_LENGTH;
		sw = select_by_name(p, c, r, fci);
	} else {
		if (c->nc != 2)
			return HCE_SW_WRONG_LENGTH;
		sw = select_by_fid(p, c, r, fci);
	}
	/* Le is not checked: the FCI always fits in a short response. A failed selection
	 * keeps the current one (ISO 7816-4).
	 */
	return sw;
}

/* Binary EF by FID: sets data and len to its contents, or returns a SW. */
static uint16_t binary_ef(const struct hce_purse *p, uint16_t fid, const uint8_t **data,
			  size_t *len)
{
	if (p->sel != SEL_EP)
		return HCE_SW_FILE_NOT_FOUND;
	switch (fid) {
	case FID_EF0015:
		*data = p->card.ef0015;
		*len = HCE_EF0015_LEN;
		return HCE_SW_OK;
	case FID_EF0016:
		*data = p->card.ef0016;
		*len = p->card.ef0016_len;
		return HCE_SW_OK;
	case FID_EF0017:
		*data = p->card.ef0017;
		*len = HCE_EF0017_LEN;
		return HCE_SW_OK;
	case FID_EF0018:
	case FID_EF001E:
		return HCE_SW_INCOMPATIBLE_FILE;
	default:
		return HCE_SW_FILE_NOT_FOUND;
	}
}

uint16_t purse_read_binary(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r)
{
	const uint8_t *data = NULL;
	size_t len = 0, off, n, want;
	uint16_t fid, sw;

	if (c->nc)
		return HCE_SW_WRONG_LENGTH;
	if (c->p1 & 0x80) {
		if (c->p1 & 0x60)
			return HCE_SW_WRONG_P1P2;
		fid = c->p1 & 0x1f;
		off = c->p2;
	} else {
		if (!p->cur_ef)
			return HCE_SW_NO_EF;
		fid = p->cur_ef;
		off = ((size_t)c->p1 << 8) | c->p2;
	}
	sw = binary_ef(p, fid, &data, &len);
	if (sw != HCE_SW_OK)
		return sw;
	if (c->p1 & 0x80)
		p->cur_ef = fid;
	if (off > len)
		return HCE_SW_WRONG_OFFSET;
	n = len - off;
	want = !c->has_le || c->ne == 256 || c->ne == 65536 ? n : c->ne;
	if (want > r->max)
		want = r->max;
	if (want <= n) {
		hce_wr_bytes(&r->w, data + off, want);
		return HCE_SW_OK;
	}
	hce_wr_bytes(&r->w, data + off, n);
	return HCE_SW_WARN_EOF;
}

/* Record rec (1-based) of record file fid into buf; returns SW. */
static uint16_t get_record(struct hce_purse *p, uint16_t fid, unsigned int rec, uint8_t *buf,
			   size_t *len)
{
	int ret;

	switch (fid) {
	case FID_EF0018:
		ret = hce_store_log(p->st, rec, buf);
		*len = HCE_LOG_RECORD_LEN;
		break;
	case FID_EF001E:
		ret = hce_store_capp(p->st, rec, buf);
		*len = HCE_CAPP_RECORD_LEN;
		break;
	default:
		return HCE_SW_FILE_NOT_FOUND;
	}
	if (ret == -ENOENT)
		return HCE_SW_RECORD_NOT_FOUND;
	return ret ? HCE_SW_UNKNOWN : HCE_SW_OK;
}

/* PSE directory record 1 of SFI 1: 70 { 61 {...} } */
static uint16_t dir_record(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	size_t m;

	if (c->p1 != 1)
		return HCE_SW_RECORD_NOT_FOUND;
	hce_tlv_begin(&r->w, 0x70, &m);
	dir_entry(p, &r->w);
	hce_tlv_end(&r->w, m);
	return HCE_SW_OK;
}

uint16_t purse_read_record(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r)
{
	uint8_t sfi = c->p2 >> 3, mode = c->p2 & 0x07, buf[HCE_CAPP_RECORD_LEN];
	size_t len = 0, limit;
	unsigned int rec;
	uint16_t fid, sw;

	if (c->nc)
		return HCE_SW_WRONG_LENGTH;
	if ((mode != 4 && mode != 5) || c->p1 == 0)
		return HCE_SW_WRONG_P1P2;
	if (sfi == 0) {
		if (!p->cur_ef)
			return HCE_SW_NO_EF;
		fid = p->cur_ef;
	} else {
		fid = sfi;
	}
	if (p->sel == SEL_MF && fid == SFI_DIR && mode == 4)
		return dir_record(p, c, r);
	if (p->sel != SEL_EP)
		return HCE_SW_FILE_NOT_FOUND;
	if (fid == FID_EF0015 || fid == FID_EF0016 || fid == FID_EF0017)
		return HCE_SW_INCOMPATIBLE_FILE;
	if (fid != FID_EF0018 && fid != FID_EF001E)
		return HCE_SW_FILE_NOT_FOUND;
	if (sfi)
		p->cur_ef = fid;
	limit = !c->has_le || c->ne >= 256 ? 256 : c->ne;
	if (limit > r->max)
		limit = r->max;
	if (mode == 4) {
		sw = get_record(p, fid, c->p1, buf, &len);
		if (sw != HCE_SW_OK)
			return sw;
		if (c->has_le && c->ne < 256 && c->ne != len)
			return HCE_SW_WRONG_LE(len);
		hce_wr_bytes(&r->w, buf, len);
		return HCE_SW_OK;
	}
	/* mode 5: records P1 .. last, as many whole records as fit */
	for (rec = c->p1; ; rec++) {
		sw = get_record(p, fid, rec, buf, &len);
		if (sw == HCE_SW_RECORD_NOT_FOUND)
			break;
		if (sw != HCE_SW_OK)
			return sw;
		if (r->w.len + len > limit)
			break;
		hce_wr_bytes(&r->w, buf, len);
	}
	return r->w.len ? HCE_SW_OK : HCE_SW_RECORD_NOT_FOUND;
}
