/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tlv.h - BER-TLV (ISO/IEC 7816-4 annex D, EMV book 3 annex B) reading and writing.
 *
 * Tags: 1 to 3 bytes (first byte low 5 bits all ones -> more bytes follow while bit 8 is
 * set); the tag is returned as the big-endian integer of its bytes (6F, 9F08, BF0C...).
 * Lengths: definite forms only: 00..7F, 81 xx, 82 xx xx, 83 xx xx xx. Indefinite length (80),
 * 84+ forms, a 4th tag byte and any TLV running past the buffer are errors. EMV padding bytes
 * 00 or FF between TLVs are NOT skipped (strict).
 */
#ifndef HCE_TLV_H
#define HCE_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/buf.h"

struct hce_tlv {
	uint32_t tag;
	bool constructed;	/* bit 6 of the first tag byte */
	const uint8_t *value;	/* points into the reader's buffer */
	size_t len;
};

/*
 * Read the next TLV from r. Returns 1 and fills *t, 0 at the end of the reader (nothing
 * left), -1 on a malformed TLV (the reader is left unchanged).
 */
int hce_tlv_next(struct hce_rd *r, struct hce_tlv *t);

/*
 * Find the first TLV with tag in value (one level, no recursion). Returns 1 and fills *t,
 * 0 when absent, -1 when the value is malformed before the tag is found.
 */
int hce_tlv_find(const uint8_t *value, size_t len, uint32_t tag, struct hce_tlv *t);

/* Write tag, length and n bytes of value. 0, or -1 when it does not fit (writer failed). */
int hce_tlv_put(struct hce_wr *w, uint32_t tag, const void *value, size_t n);

/*
 * Nested writing: hce_tlv_begin writes the tag and a 1-byte length placeholder and returns
 * the mark to pass to hce_tlv_end, which fixes the length (moving the value when it needs a
 * longer length form). Both return 0, or -1 when out of space (writer failed).
 */
int hce_tlv_begin(struct hce_wr *w, uint32_t tag, size_t *mark);
int hce_tlv_end(struct hce_wr *w, size_t mark);

#endif /* HCE_TLV_H */
