// SPDX-License-Identifier: GPL-2.0
/* buf.c - bounded cursors; see buf.h for the contract. */
#include "codec/buf.h"

#include <string.h>

int hce_rd_view(struct hce_rd *r, const uint8_t **out, size_t n)
{
	if (r->len < n)
		return -1;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return 0;
}

int hce_rd_bytes(struct hce_rd *r, void *out, size_t n)
{
	const uint8_t *v;

	if (hce_rd_view(r, &v, n))
		return -1;
	if (n)
		memcpy(out, v, n);
	return 0;
}

int hce_rd_u8(struct hce_rd *r, uint8_t *v)
{
	return hce_rd_bytes(r, v, 1);
}

int hce_rd_be16(struct hce_rd *r, uint16_t *v)
{
	const uint8_t *p;

	if (hce_rd_view(r, &p, 2))
		return -1;
	*v = hce_get_be16(p);
	return 0;
}

int hce_rd_be24(struct hce_rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (hce_rd_view(r, &p, 3))
		return -1;
	*v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
	return 0;
}

int hce_rd_be32(struct hce_rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (hce_rd_view(r, &p, 4))
		return -1;
	*v = hce_get_be32(p);
	return 0;
}

int hce_wr_bytes(struct hce_wr *w, const void *src, size_t n)
{
	if (w->failed || w->cap - w->len < n) {
		w->failed = true;
		return -1;
	}
	if (n)
		memcpy(w->p + w->len, src, n);
	w->len += n;
	return 0;
}

int hce_wr_u8(struct hce_wr *w, uint8_t v)
{
	return hce_wr_bytes(w, &v, 1);
}

int hce_wr_be16(struct hce_wr *w, uint16_t v)
{
	uint8_t b[2];

	hce_put_be16(b, v);
	return hce_wr_bytes(w, b, 2);
}

int hce_wr_be24(struct hce_wr *w, uint32_t v)
{
	uint8_t b[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return hce_wr_bytes(w, b, 3);
}

int hce_wr_be32(struct hce_wr *w, uint32_t v)
{
	uint8_t b[4];

	hce_put_be32(b, v);
	return hce_wr_bytes(w, b, 4);
}
