// SPDX-License-Identifier: GPL-2.0
/*
 * ndef_parse.c - libFuzzer target for the NDEF record parser and validator (ndef/ndef.h)
 * and the Type 4 Tag app built on them.
 *
 * Input: a candidate NDEF message (copied to an exact-size buffer, so ASan sees any read past
 * it). Checks:
 *   - hce_ndef_next(): every field lies inside the message; the fields and the header add up
 *     to exactly the bytes consumed; a truncated record leaves the reader unchanged;
 *   - hce_ndef_validate() agrees with a plain model of NDEF 1.0's rules written here from the
 *     specification (verdict and record count);
 *   - a valid message without chunks is rebuilt by the builder from its parsed records; when
 *     it used the short form exactly for payloads up to 255 bytes, the rebuild is
 *     byte-identical;
 *   - hce_ndef_app_new() accepts exactly the valid messages, and the tag then serves
 *     NLEN + the message byte for byte through SELECT / READ BINARY, and a CC naming its size.
 * Inputs longer than MAX_INPUT are skipped: every rule (short and 4-byte lengths, IDs,
 * chunks, several READ BINARY chunks) shows within it, and it keeps a run of the suite cheap;
 * the largest message (32765 bytes) is a unit test (ndef_t4t_test).
 */
#include <errno.h>
#include <string.h>

#include "codec/apdu.h"
#include "codec/buf.h"
#include "fuzz.h"
#include "ndef/ndef.h"

#define CAP HCE_RAPDU_MIN_CAP
#define MAX_INPUT 1024

/* The model: NDEF 1.0 section 3.2/3.3 rules, one record at a time. */
static int model_validate(const uint8_t *m, size_t n)
{
	size_t i = 0, idx = 0;
	int in_chunk = 0, ended = 0, count = 0;

	if (!n)
		return -1;
	while (i < n) {
		uint8_t h = m[i], tnf = h & 7;
		size_t tl, pl, il = 0, need;

		if (ended)
			return -1;
		if (n - i < 2)
			return -1;
		tl = m[i + 1];
		need = 2;
		if (h & 0x10) {
			if (n - i < need + 1)
				return -1;
			pl = m[i + need];
			need += 1;
		} else {
			if (n - i < need + 4)
				return -1;
			pl = (size_t)m[i + 2] << 24 | (size_t)m[i + 3] << 16 |
			     (size_t)m[i + 4] << 8 | m[i + 5];
			need += 4;
		}
		if (h & 0x08) {
			if (n - i < need + 1)
				return -1;
			il = m[i + need];
			need += 1;
		}
		if (n - i - need < tl || n - i - need - tl < il || n - i - need - tl - il < pl)
			return -1;
		if (((h & 0x80) != 0) != (idx == 0))
			return -1;
		if (tnf == 7)
			return -1;
		if (tnf == 0 && (tl || il || pl))
			return -1;
		if ((tnf == 5 || tnf == 6) && tl)
			return -1;
		if (tnf >= 1 && tnf <= 4 && !tl)
			return -1;
		if (in_chunk && (tnf != 6 || (h & 0x08)))
			return -1;
		if (!in_chunk && tnf == 6)
			return -1;
		if ((h & 0x20) && (h & 0x40))
			return -1;
		if (!in_chunk)
			count++;
		in_chunk = !!(h & 0x20);
		ended = !!(h & 0x40);
		i += need + tl + il + pl;
		idx++;
	}
	return ended ? count : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m, *rb, out[CAP], c[8];
	struct hce_rd r;
	struct hce_ndef_record rec;
	struct hce_ndef_builder b;
	struct hce_app *app;
	int rc, model, chunked = 0, canonical = 1;
	size_t before, len, off, n;
	char err[128];

	if (size > MAX_INPUT)
		return 0;
	m = malloc(size ? size : 1);
	FUZZ_CHECK(m);
	memcpy(m, data, size);

	/* parser: fields inside, consumption exact, unchanged on truncation */
	r = hce_rd_init(m, size);
	for (;;) {
		struct hce_rd keep = r;

		before = hce_rd_left(&r);
		rc = hce_ndef_next(&r, &rec);
		if (rc <= 0) {
			FUZZ_CHECK(rc == 0 ? before == 0 : (r.p == keep.p && r.len == keep.len));
			break;
		}
		FUZZ_CHECK(rec.type >= m && rec.type + rec.type_len <= m + size);
		FUZZ_CHECK(rec.id >= m && rec.id + rec.id_len <= m + size);
		FUZZ_CHECK(rec.payload >= m && rec.payload + rec.payload_len <= m + size);
		FUZZ_CHECK(before - hce_rd_left(&r) ==
			   2 + ((rec.flags & HCE_NDEF_SR) ? 1 : 4) +
			   ((rec.flags & HCE_NDEF_IL) ? 1 : 0) + rec.type_len + rec.id_len +
			   rec.payload_len);
		FUZZ_CHECK(rec.tnf <= 7 && !(rec.flags & HCE_NDEF_TNF_MASK));
		if (rec.flags & HCE_NDEF_CF)
			chunked = 1;
		if (!!(rec.flags & HCE_NDEF_SR) != (rec.payload_len <= 255))
			canonical = 0;
		if (!(rec.flags & HCE_NDEF_IL) && rec.id_len)
			canonical = 0;
		if ((rec.flags & HCE_NDEF_IL) && !rec.id_len)
			canonical = 0;
	}

	/* validator against the model */
	err[0] = 0;
	rc = hce_ndef_validate(m, size, err, sizeof(err));
	model = model_validate(m, size);
	if (model < 0) {
		FUZZ_CHECK(rc == -EBADMSG && err[0]);
	} else {
		FUZZ_CHECK(rc == model);
	}

	/* rebuild valid unchunked messages */
	if (rc > 0 && !chunked) {
		rb = malloc(size + 16);
		FUZZ_CHECK(rb);
		hce_ndef_builder_init(&b, rb, size + 16);
		r = hce_rd_init(m, size);
		while (hce_ndef_next(&r, &rec) == 1)
			FUZZ_CHECK(hce_ndef_add_record(&b, rec.tnf, rec.type, rec.type_len, rec.id,
						       rec.id_len, rec.payload,
						       rec.payload_len) == 0);
		FUZZ_CHECK(hce_ndef_finish(&b, &len) == 0);
		FUZZ_CHECK(hce_ndef_validate(rb, len, NULL, 0) == rc);
		if (canonical)
			FUZZ_CHECK(len == size && !memcmp(rb, m, size));
		free(rb);
	}

	/* the tag serves exactly the valid messages, byte for byte */
	rc = hce_ndef_app_new(m, size, &app, NULL, 0);
	if (model < 0 || size > HCE_NDEF_MSG_MAX) {
		FUZZ_CHECK(rc < 0 && app == NULL);
		free(m);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	n = hce_app_process(app, (const uint8_t *)"\x00\xA4\x04\x00\x07\xD2\x76\x00\x00\x85"
						  "\x01\x01\x00", 13, out, CAP);
	FUZZ_CHECK(n == 2 && out[0] == 0x90);
	n = hce_app_process(app, (const uint8_t *)"\x00\xA4\x00\x0C\x02\xE1\x03", 7, out, CAP);
	FUZZ_CHECK(n == 2 && out[0] == 0x90);
	n = hce_app_process(app, (const uint8_t *)"\x00\xB0\x00\x00\x0F", 5, out, CAP);
	FUZZ_CHECK(n == 17 && hce_get_be16(out + 11) == size + 2);
	n = hce_app_process(app, (const uint8_t *)"\x00\xA4\x00\x0C\x02\xE1\x04", 7, out, CAP);
	FUZZ_CHECK(n == 2 && out[0] == 0x90);
	for (off = 0; off < size + 2; off += n - 2) {
		size_t want = size + 2 - off < 0xFF ? size + 2 - off : 0xFF;

		c[0] = 0x00;
		c[1] = 0xB0;
		hce_put_be16(c + 2, (uint16_t)off);
		c[4] = (uint8_t)want;
		n = hce_app_process(app, c, 5, out, CAP);
		FUZZ_CHECK(n == want + 2 && out[want] == 0x90 && out[want + 1] == 0x00);
		if (off < 2) {
			uint8_t nlen[2];

			hce_put_be16(nlen, (uint16_t)size);
			FUZZ_CHECK(!memcmp(out, nlen + off, want < 2 - off ? want : 2 - off));
		}
		if (off + want > 2) {
			size_t s = off < 2 ? 2 - off : 0;

			FUZZ_CHECK(!memcmp(out + s, m + off + s - 2, want - s));
		}
	}
	hce_ndef_app_free(app);
	free(m);
	return 0;
}
