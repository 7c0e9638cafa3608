// SPDX-License-Identifier: GPL-2.0
/*
 * ndef.c - NDEF record parser, validator and builder (NFC Forum NDEF 1.0, RTD-URI 1.0,
 * RTD-Text 1.0). The Type 4 Tag application is in t4t.c.
 */
#include "ndef/ndef.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const uint8_t hce_ndef_aid[HCE_NDEF_AID_LEN] = { 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01 };

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int hce_ndef_next(struct hce_rd *r, struct hce_ndef_record *rec)
{
	struct hce_rd t = *r;
	uint8_t hdr, tl, il = 0, pl8;
	uint32_t pl;

	if (!hce_rd_left(r))
		return 0;
	memset(rec, 0, sizeof(*rec));
	if (hce_rd_u8(&t, &hdr) || hce_rd_u8(&t, &tl))
		return -1;
	if (hdr & HCE_NDEF_SR) {
		if (hce_rd_u8(&t, &pl8))
			return -1;
		pl = pl8;
	} else if (hce_rd_be32(&t, &pl)) {
		return -1;
	}
	if ((hdr & HCE_NDEF_IL) && hce_rd_u8(&t, &il))
		return -1;
	if (hce_rd_view(&t, &rec->type, tl) || hce_rd_view(&t, &rec->id, il) ||
	    hce_rd_left(&t) < pl || hce_rd_view(&t, &rec->payload, pl))
		return -1;
	rec->flags = hdr & (uint8_t)~HCE_NDEF_TNF_MASK;
	rec->tnf = hdr & HCE_NDEF_TNF_MASK;
	rec->type_len = tl;
	rec->id_len = il;
	rec->payload_len = pl;
	*r = t;
	return 1;
}

/* The first NDEF 1.0 rule record rec (number i) breaks, NULL when none. */
static const char *record_rule(const struct hce_ndef_record *rec, size_t i, bool in_chunk)
{
	uint8_t tnf = rec->tnf;

	if (!!(rec->flags & HCE_NDEF_MB) != (i == 0))
		return i ? "MB set on a later record" : "MB not set on the first record";
	if (tnf == HCE_TNF_RESERVED)
		return "reserved TNF 7";
	if (tnf == HCE_TNF_EMPTY && (rec->type_len || rec->id_len || rec->payload_len))
		return "empty TNF with lengths";
	if ((tnf == HCE_TNF_UNKNOWN || tnf == HCE_TNF_UNCHANGED) && rec->type_len)
		return "TNF 5/6 with a type";
	if (tnf >= HCE_TNF_WELL_KNOWN && tnf <= HCE_TNF_EXTERNAL && !rec->type_len)
		return "TNF 1..4 without a type";
	/* middle and terminating chunks: TNF 6, no ID */
	if (in_chunk && (tnf != HCE_TNF_UNCHANGED || (rec->flags & HCE_NDEF_IL)))
		return "chunk not TNF 6 or with an ID";
	if (!in_chunk && tnf == HCE_TNF_UNCHANGED)
		return "TNF 6 outside a chunked record";
	if ((rec->flags & HCE_NDEF_CF) && (rec->flags & HCE_NDEF_ME))
		return "ME on a chunk with CF";
	return NULL;
}

int hce_ndef_validate(const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	struct hce_rd r = hce_rd_init(msg, len);
	struct hce_ndef_record rec;
	bool in_chunk = false, ended = false;
	const char *why;
	size_t i, off;
	int records = 0, rc;

	if (!msg || !len) {
		set_err(err, errlen, "empty message");
		return -EBADMSG;
	}
	for (i = 0;; i++) {
		off = len - hce_rd_left(&r);
		rc = hce_ndef_next(&r, &rec);
		if (rc == 0)
			break;
		if (rc < 0)
			why = "truncated";
		else if (ended)
			why = "after the ME record";
		else
			why = record_rule(&rec, i, in_chunk);
		if (why) {
			set_err(err, errlen, "record %zu at byte %zu: %s", i, off, why);
			return -EBADMSG;
		}
		if (!in_chunk)
			records++;
		in_chunk = rec.flags & HCE_NDEF_CF;
		ended = rec.flags & HCE_NDEF_ME;
	}
	if (!ended) {
		set_err(err, errlen, "no record with ME");
		return -EBADMSG;
	}
	return records;
}

/* --- URI identifier codes (RTD-URI 1.0, table 3) ------------------------------------ */

static const char *const uri_codes[] = {
	NULL, "http://www.", "https://www.", "http://", "https://", "tel:", "mailto:",
	"ftp://anonymous:anonymous@", "ftp://ftp.", "ftps://", "sftp://", "smb://", "nfs://",
	"ftp://", "dav://", "news:", "telnet://", "imap:", "rtsp://", "urn:", "pop:", "sip:",
	"sips:", "tftp:", "btspp://", "btl2cap://", "btgoep://", "tcpobex://", "irdaobex://",
	"file://", "urn:epc:id:", "urn:epc:tag:", "urn:epc:pat:", "urn:epc:raw:", "urn:epc:",
	"urn:nfc:",
};

#define URI_CODES (sizeof(uri_codes) / sizeof(uri_codes[0]))

const char *hce_ndef_uri_prefix(uint8_t code)
{
	return code < URI_CODES ? uri_codes[code] : NULL;
}

uint8_t hce_ndef_uri_code(const char *uri, size_t *prefix_len)
{
	size_t best = 0, i, l;
	uint8_t code = 0;

	for (i = 1; i < URI_CODES; i++) {
		l = strlen(uri_codes[i]);
		if (l > best && !strncmp(uri, uri_codes[i], l)) {
			best = l;
			code = (uint8_t)i;
		}
	}
	*prefix_len = best;
	return code;
}

/* --- builder ------------------------------------------------------------------------ */

void hce_ndef_builder_init(struct hce_ndef_builder *b, uint8_t *buf, size_t cap)
{
	b->w = hce_wr_init(buf, cap);
	b->last = 0;
	b->n = 0;
	b->err = 0;
}

/* Append the record's payload in two parts (a head byte string and a tail). */
static int add2(struct hce_ndef_builder *b, uint8_t tnf, const void *type, size_t type_len,
		const void *id, size_t id_len, const void *p1, size_t n1, const void *p2,
		size_t n2)
{
	size_t pl = n1 + n2, start = b->w.len;
	uint8_t hdr = tnf;

	if (b->err)
		return b->err;
	if (tnf >= HCE_TNF_UNCHANGED || type_len > 255 || id_len > 255 || pl > UINT32_MAX ||
	    (type_len && !type) || (id_len && !id) || (n1 && !p1) || (n2 && !p2) ||
	    (tnf == HCE_TNF_EMPTY && (type_len || id_len || pl)) ||
	    (tnf == HCE_TNF_UNKNOWN && type_len) ||
	    (tnf >= HCE_TNF_WELL_KNOWN && tnf <= HCE_TNF_EXTERNAL && !type_len)) {
		b->err = -EINVAL;
		return b->err;
	}
	if (!b->n)
		hdr |= HCE_NDEF_MB;
	if (pl <= 255)
		hdr |= HCE_NDEF_SR;
	if (id_len)
		hdr |= HCE_NDEF_IL;
	hce_wr_u8(&b->w, hdr);
	hce_wr_u8(&b->w, (uint8_t)type_len);
	if (pl <= 255)
		hce_wr_u8(&b->w, (uint8_t)pl);
	else
		hce_wr_be32(&b->w, (uint32_t)pl);
	if (id_len)
		hce_wr_u8(&b->w, (uint8_t)id_len);
	hce_wr_bytes(&b->w, type, type_len);
	hce_wr_bytes(&b->w, id, id_len);
	hce_wr_bytes(&b->w, p1, n1);
	hce_wr_bytes(&b->w, p2, n2);
	if (!hce_wr_ok(&b->w)) {
		b->err = -ENOSPC;
		return b->err;
	}
	b->last = start;
	b->n++;
	return 0;
}

int hce_ndef_add_record(struct hce_ndef_builder *b, uint8_t tnf, const void *type,
			size_t type_len, const void *id, size_t id_len, const void *payload,
			size_t payload_len)
{
	return add2(b, tnf, type, type_len, id, id_len, payload, payload_len, NULL, 0);
}

int hce_ndef_add_uri(struct hce_ndef_builder *b, const char *uri)
{
	size_t pre;
	uint8_t code;

	if (!uri || !*uri) {
		if (!b->err)
			b->err = -EINVAL;
		return -EINVAL;
	}
	code = hce_ndef_uri_code(uri, &pre);
	return add2(b, HCE_TNF_WELL_KNOWN, "U", 1, NULL, 0, &code, 1, uri + pre,
		    strlen(uri + pre));
}

int hce_ndef_add_text(struct hce_ndef_builder *b, const char *lang, const char *text)
{
	uint8_t head[1 + 63];
	size_t ll, i;

	ll = lang ? strlen(lang) : 0;
	if (ll < 1 || ll > 63 || !text) {
		if (!b->err)
			b->err = -EINVAL;
		return -EINVAL;
	}
	for (i = 0; i < ll; i++) {
		if (lang[i] <= 0x20 || lang[i] > 0x7E) {
			if (!b->err)
				b->err = -EINVAL;
			return -EINVAL;
		}
	}
	head[0] = (uint8_t)ll;	/* bit 7 = 0: UTF-8 */
	memcpy(head + 1, lang, ll);
	return add2(b, HCE_TNF_WELL_KNOWN, "T", 1, NULL, 0, head, 1 + ll, text, strlen(text));
}

int hce_ndef_finish(struct hce_ndef_builder *b, size_t *len)
{
	if (b->err)
		return b->err;
	if (!b->n)
		return -EINVAL;
	b->w.p[b->last] |= HCE_NDEF_ME;
	*len = b->w.len;
	return 0;
}

int hce_ndef_build_uri(const char *uri, uint8_t *out, size_t cap, size_t *len)
{
	struct hce_ndef_builder b;

	hce_ndef_builder_init(&b, out, cap);
	hce_ndef_add_uri(&b, uri);
	return hce_ndef_finish(&b, len);
}

int hce_ndef_build_text(const char *lang, const char *text, uint8_t *out, size_t cap,
			size_t *len)
{
	struct hce_ndef_builder b;

	hce_ndef_builder_init(&b, out, cap);
	hce_ndef_add_text(&b, lang, text);
	return hce_ndef_finish(&b, len);
}
