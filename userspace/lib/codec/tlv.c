// SPDX-License-Identifier: GPL-2.0
/* tlv.c - BER-TLV reading and writing; see tlv.h for the contract. */
#include "codec/tlv.h"

#include <string.h>

int hce_tlv_next(struct hce_rd *r, struct hce_tlv *t)
{
	struct hce_rd c = *r;
	uint8_t b, first;
	uint32_t tag;
	size_t len = 0;
	int i;

	if (hce_rd_left(&c) == 0)
		return 0;
	if (hce_rd_u8(&c, &first))
		return -1;
	tag = first;
	if ((first & 0x1f) == 0x1f) {
		for (i = 0; ; i++) {
			if (i == 2 || hce_rd_u8(&c, &b))
				return -1;	/* more than 3 tag bytes, or truncated */
			tag = (tag << 8) | b;
			if (!(b & 0x80))
				break;
		}
	}
	if (hce_rd_u8(&c, &b))
		return -1;
	if (b < 0x80) {
		len = b;
	} else {
		int n = b & 0x7f;

		if (n == 0 || n > 3)
			return -1;
		while (n--) {
			if (hce_rd_u8(&c, &b))
				return -1;
			len = (len << 8) | b;
		}
	}
	if (hce_rd_view(&c, &t->value, len))
		return -1;
	t->tag = tag;
	t->constructed = (first & 0x20) != 0;
	t->len = len;
	*r = c;
	return 1;
}

int hce_tlv_find(const uint8_t *value, size_t len, uint32_t tag, struct hce_tlv *t)
{
	struct hce_rd r = hce_rd_init(value, len);
	int rc;

	while ((rc = hce_tlv_next(&r, t)) == 1) {
		if (t->tag == tag)
			return 1;
	}
	return rc;
}

static int put_tag(struct hce_wr *w, uint32_t tag)
{
	if (tag > 0xffff)
		hce_wr_u8(w, (uint8_t)(tag >> 16));
	if (tag > 0xff)
		hce_wr_u8(w, (uint8_t)(tag >> 8));
	hce_wr_u8(w, (uint8_t)tag);
	return hce_wr_ok(w) ? 0 : -1;
}

static size_t len_size(size_t n)
{
	return n < 0x80 ? 1 : n <= 0xff ? 2 : n <= 0xffff ? 3 : 4;
}

static void put_len_at(uint8_t *p, size_t n)
{
	size_t sz = len_size(n), i;

	if (sz == 1) {
		p[0] = (uint8_t)n;
		return;
	}
	p[0] = (uint8_t)(0x80 | (sz - 1));
	for (i = 1; i < sz; i++)
		p[i] = (uint8_t)(n >> (8 * (sz - 1 - i)));
}

int hce_tlv_put(struct hce_wr *w, uint32_t tag, const void *value, size_t n)
{
	uint8_t l[4];

	if (n > 0xffffff) {
		w->failed = true;
		return -1;
	}
	put_len_at(l, n);
	if (put_tag(w, tag) || hce_wr_bytes(w, l, len_size(n)) || hce_wr_bytes(w, value, n))
		return -1;
	return 0;
}

int hce_tlv_begin(struct hce_wr *w, uint32_t tag, size_t *mark)
{
	if (put_tag(w, tag) || hce_wr_u8(w, 0))
		return -1;
	*mark = w->len;
	return 0;
}

int hce_tlv_end(struct hce_wr *w, size_t mark)
{
	size_t n, extra;

	if (!hce_wr_ok(w) || mark > w->len || mark == 0)
		goto fail;
	n = w->len - mark;
	if (n > 0xffffff)
		goto fail;
	extra = len_size(n) - 1;
	if (extra) {
		if (w->cap - w->len < extra)
			goto fail;
		memmove(w->p + mark + extra, w->p + mark, n);
		w->len += extra;
	}
	put_len_at(w->p + mark - 1, n);
	return 0;
fail:
	w->failed = true;
	return -1;
}
