/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buf.h - bounded cursors for parsing and building byte strings.
 *
 * A reader (struct hce_rd) walks a const byte range and can never read past its end: every get
 * returns 0 on success and -1 when fewer bytes remain than asked, leaving the cursor unchanged.
 * A writer (struct hce_wr) fills a caller buffer of fixed capacity; a put that does not fit
 * returns -1, writes nothing, and marks the writer failed (hce_wr_ok() then stays false), so a
 * sequence of puts can be checked once at the end.
 */
#ifndef HCE_BUF_H
#define HCE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hce_rd {
	const uint8_t *p;
	size_t len;	/* bytes left */
};

struct hce_wr {
	uint8_t *p;
	size_t cap;
	size_t len;	/* bytes written */
	bool failed;
};

static inline struct hce_rd hce_rd_init(const void *p, size_t len)
{
	struct hce_rd r = { (const uint8_t *)p, len };
	return r;
}

static inline size_t hce_rd_left(const struct hce_rd *r)
{
	return r->len;
}

int hce_rd_u8(struct hce_rd *r, uint8_t *v);
int hce_rd_be16(struct hce_rd *r, uint16_t *v);
int hce_rd_be24(struct hce_rd *r, uint32_t *v);
int hce_rd_be32(struct hce_rd *r, uint32_t *v);
/* Copy n bytes out. */
int hce_rd_bytes(struct hce_rd *r, void *out, size_t n);
/* Point *out at the next n bytes (no copy) and advance. */
int hce_rd_view(struct hce_rd *r, const uint8_t **out, size_t n);

static inline struct hce_wr hce_wr_init(void *p, size_t cap)
{
	struct hce_wr w = { (uint8_t *)p, cap, 0, false };
	return w;
}

static inline bool hce_wr_ok(const struct hce_wr *w)
{
	return !w->failed;
}

int hce_wr_u8(struct hce_wr *w, uint8_t v);
int hce_wr_be16(struct hce_wr *w, uint16_t v);
int hce_wr_be24(struct hce_wr *w, uint32_t v);
int hce_wr_be32(struct hce_wr *w, uint32_t v);
int hce_wr_bytes(struct hce_wr *w, const void *src, size_t n);

/* Big-endian helpers on plain arrays. */
static inline uint16_t hce_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t hce_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void hce_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void hce_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif /* HCE_BUF_H */
