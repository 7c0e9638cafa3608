// SPDX-License-Identifier: GPL-2.0
/*
 * tlv.c - libFuzzer target for the BER-TLV reader and writer (codec/tlv.h).
 *
 * Input: a TLV list. Checks, against tlv.h's contract: every TLV read lies inside the buffer
 * and matches a plain model of the tag/length rules; a malformed TLV leaves the reader
 * unchanged; hce_tlv_find() finds the first occurrence; and re-encoding the parsed tree
 * (hce_tlv_put for primitives and for constructed values that do not parse, hce_tlv_begin/
 * hce_tlv_end for constructed ones that do) gives a tree with the same leaves, which does not
 * fit in one byte less of capacity and never writes past it (exact-size buffers under ASan).
 */
#include <string.h>

#include "codec/tlv.h"
#include "fuzz.h"

#define MAX_DEPTH 8

/* Model of one TLV header: returns header length, 0 when malformed or truncated. */
static size_t model_header(const uint8_t *p, size_t n, uint32_t *tag, size_t *len)
{
	size_t i = 0, k, l = 0;

	if (n < 1)
		return 0;
	*tag = p[i++];
	if ((p[0] & 0x1f) == 0x1f) {
		for (k = 0;; k++) {
			if (k == 2 || i >= n)
				return 0;
			*tag = *tag << 8 | p[i];
			if (!(p[i++] & 0x80))
				break;
		}
	}
	if (i >= n)
		return 0;
	if (p[i] < 0x80) {
		l = p[i++];
	} else {
		k = p[i++] & 0x7f;
		if (k == 0 || k > 3 || n - i < k)
			return 0;
		while (k--)
			l = l << 8 | p[i++];
	}
	if (n - i < l)
		return 0;
	*len = l;
	return i;
}

/* Does value parse completely as a TLV list? */
static int parses(const uint8_t *v, size_t n)
{
	struct hce_rd r = hce_rd_init(v, n);
	struct hce_tlv t;
	int rc;

	while ((rc = hce_tlv_next(&r, &t)) == 1)
		;
	return rc == 0;
}

/* Walk a list, checking each TLV against the model; returns 0 at a clean end, -1 when bad. */
static int walk(const uint8_t *v, size_t n, int depth)
{
	struct hce_rd r = hce_rd_init(v, n);
	struct hce_tlv t, f;
	int rc, first = 1;
	uint32_t first_tag = 0;
	const uint8_t *first_value = NULL;

	for (;;) {
		struct hce_rd before = r;
		uint32_t mtag = 0;
		size_t mlen = 0, h = model_header(r.p, r.len, &mtag, &mlen);

		rc = hce_tlv_next(&r, &t);
		if (rc == 0) {
			FUZZ_CHECK(before.len == 0);
			break;
		}
		if (rc < 0) {
			FUZZ_CHECK(h == 0 && r.p == before.p && r.len == before.len);
			return -1;
		}
		FUZZ_CHECK(rc == 1 && h > 0);
		FUZZ_CHECK(t.tag == mtag && t.len == mlen);
		FUZZ_CHECK(t.value == before.p + h);
		FUZZ_CHECK(t.value >= v && t.value + t.len <= v + n);
		FUZZ_CHECK(r.p == before.p + h + t.len && r.len == before.len - h - t.len);
		FUZZ_CHECK(t.constructed == !!(before.p[0] & 0x20));
		if (first) {
			first = 0;
			first_tag = t.tag;
			first_value = t.value;
		}
		if (t.constructed && depth < MAX_DEPTH)
			walk(t.value, t.len, depth + 1);
	}
	if (!first) {
		FUZZ_CHECK(hce_tlv_find(v, n, first_tag, &f) == 1 && f.value == first_value);
	}
	return 0;
}

/* Re-encode a parsed list into w, nesting constructed values that parse. */
static void rebuild(struct hce_wr *w, const uint8_t *v, size_t n, int depth)
{
	struct hce_rd r = hce_rd_init(v, n);
	struct hce_tlv t;
	size_t mark;

	while (hce_tlv_next(&r, &t) == 1) {
		if (t.constructed && depth < MAX_DEPTH && parses(t.value, t.len)) {
			if (hce_tlv_begin(w, t.tag, &mark) == 0) {
				rebuild(w, t.value, t.len, depth + 1);
				hce_tlv_end(w, mark);
			}
		} else {
			hce_tlv_put(w, t.tag, t.value, t.len);
		}
	}
}

/* Compare two trees leaf by leaf (tags at every level, values of leaves). */
static void same_tree(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, int depth)
{
	struct hce_rd ra = hce_rd_init(a, an), rb = hce_rd_init(b, bn);
	struct hce_tlv ta, tb;
	int rc;

	while ((rc = hce_tlv_next(&ra, &ta)) == 1) {
		FUZZ_CHECK(hce_tlv_next(&rb, &tb) == 1);
		FUZZ_CHECK(ta.tag == tb.tag && ta.constructed == tb.constructed);
		if (ta.constructed && depth < MAX_DEPTH && parses(ta.value, ta.len)) {
			same_tree(ta.value, ta.len, tb.value, tb.len, depth + 1);
		} else {
			FUZZ_CHECK(ta.len == tb.len);
			FUZZ_CHECK(!ta.len || memcmp(ta.value, tb.value, ta.len) == 0);
		}
	}
	FUZZ_CHECK(hce_tlv_next(&rb, &tb) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), *out, *small;
	size_t cap = size + 64, len;
	struct hce_wr w;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	if (walk(buf, size, 0) != 0) {
		free(buf);
		return 0;
	}
	out = malloc(cap);
	FUZZ_CHECK(out);
	w = hce_wr_init(out, cap);
	rebuild(&w, buf, size, 0);
	/* Minimal lengths: the rebuild never grows beyond the input (it may shrink). */
	FUZZ_CHECK(hce_wr_ok(&w) && w.len <= size);
	len = w.len;
	FUZZ_CHECK(parses(out, len));
	same_tree(buf, size, out, len, 0);

	if (len) {
		small = malloc(len - 1 ? len - 1 : 1);
		FUZZ_CHECK(small);
		w = hce_wr_init(small, len - 1);
		rebuild(&w, buf, size, 0);
		FUZZ_CHECK(!hce_wr_ok(&w));
		FUZZ_CHECK(w.len <= len - 1);
		free(small);
	}
	free(out);
	free(buf);
	return 0;
}
