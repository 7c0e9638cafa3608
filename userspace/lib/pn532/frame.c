// SPDX-License-Identifier: GPL-2.0
/*
 * frame.c - PN532 frame parser and encoder (see frame.h).
 */
#include <string.h>

#include "pn532/frame.h"

const uint8_t pn532_ack_frame[6] = { 0x00, 0x00, 0xff, 0x00, 0xff, 0x00 };
const uint8_t pn532_nack_frame[6] = { 0x00, 0x00, 0xff, 0xff, 0x00, 0x00 };
const uint8_t pn532_error_frame[8] = { 0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00 };

enum {
	S_HUNT,		/* looking for 0x00 of the start code */
	S_START,	/* saw 0x00: want 0xFF (more 0x00 keep us here) */
	S_LEN,		/* LEN (or first byte of ACK/NACK/extended marker) */
	S_LCS,		/* LCS of a normal frame, or second byte of the special codes */
	S_XLENM,	/* extended: LENM */
	S_XLENL,	/* extended: LENL */
	S_XLCS,		/* extended: LCS */
	S_BODY,		/* TFI and data */
	S_DCS,		/* data checksum */
	S_SKIP,		/* oversized frame: swallow LEN bytes and the DCS */
};

void pn532_parser_init(struct pn532_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = S_HUNT;
}

int pn532_parser_busy(const struct pn532_parser *p)
{
	return p->state != S_HUNT && p->state != S_START;
}

static enum pn532_event begin_body(struct pn532_parser *p, size_t len)
{
	p->len = len;
	p->got = 0;
	p->sum = 0;
	if (len == 0 || len > PN532_FRAME_MAX) {
		p->need = len + 1;	/* body and DCS */
		p->state = len ? S_SKIP : S_HUNT;
		return len ? PN532_EV_NONE : PN532_EV_TOO_LONG;
	}
	p->need = len;
	p->state = S_BODY;
	return PN532_EV_NONE;
}

enum pn532_event pn532_parser_feed(struct pn532_parser *p, uint8_t b)
{
	switch (p->state) {
	case S_HUNT:
		if (b == 0x00)
			p->state = S_START;
		return PN532_EV_NONE;
	case S_START:
		if (b == 0xff)
			p->state = S_LEN;
		else if (b != 0x00)
			p->state = S_HUNT;
		return PN532_EV_NONE;
	case S_LEN:
		p->len = b;
		p->state = S_LCS;
		return PN532_EV_NONE;
	case S_LCS:
		if (p->len == 0x00 && b == 0xff) {
			p->state = S_HUNT;
			return PN532_EV_ACK;
		}
		if (p->len == 0xff && b == 0x00) {
			p->state = S_HUNT;
			return PN532_EV_NACK;
		}
		if (p->len == 0xff && b == 0xff) {
			p->state = S_XLENM;
			return PN532_EV_NONE;
		}
		if ((uint8_t)(p->len + b) != 0) {
			p->state = S_HUNT;
			return PN532_EV_BAD_LCS;
		}
		return begin_body(p, p->len);
	case S_XLENM:
		p->lenm = b;
		p->state = S_XLENL;
		return PN532_EV_NONE;
	case S_XLENL:
		p->len = (size_t)p->lenm << 8 | b;
		p->state = S_XLCS;
		return PN532_EV_NONE;
	case S_XLCS:
		if ((uint8_t)(p->lenm + (p->len & 0xff) + b) != 0) {
			p->state = S_HUNT;
			return PN532_EV_BAD_LCS;
		}
		return begin_body(p, p->len);
	case S_BODY:
		p->sum = (uint8_t)(p->sum + b);
		if (p->got == 0)
			p->tfi = b;
		else
			p->data[p->got - 1] = b;
		p->got++;
		if (--p->need == 0)
			p->state = S_DCS;
		return PN532_EV_NONE;
	case S_DCS:
		p->state = S_HUNT;
		if ((uint8_t)(p->sum + b) != 0)
			return PN532_EV_BAD_DCS;
		p->data_len = p->got - 1;
		return PN532_EV_FRAME;
	case S_SKIP:
		if (--p->need == 0) {
			p->state = S_HUNT;
			return PN532_EV_TOO_LONG;
		}
		return PN532_EV_NONE;
	}
	p->state = S_HUNT;
	return PN532_EV_NONE;
}

size_t pn532_frame_encode(uint8_t tfi, const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
	size_t flen = len + 1, n = 0;
	uint8_t sum = tfi;

	if (flen > PN532_FRAME_MAX)
		return 0;
	if (cap < flen + (flen > 255 ? 10 : 7))
		return 0;
	out[n++] = 0x00;
	out[n++] = 0x00;
	out[n++] = 0xff;
	if (flen > 255) {
		out[n++] = 0xff;
		out[n++] = 0xff;
		out[n++] = (uint8_t)(flen >> 8);
		out[n++] = (uint8_t)flen;
		out[n++] = (uint8_t)(0x100 - ((flen >> 8) + (flen & 0xff)));
	} else {
		out[n++] = (uint8_t)flen;
		out[n++] = (uint8_t)(0x100 - flen);
	}
	out[n++] = tfi;
	for (size_t i = 0; i < len; i++) {
		out[n++] = data[i];
		sum = (uint8_t)(sum + data[i]);
	}
	out[n++] = (uint8_t)(0x100 - sum);
	out[n++] = 0x00;
	return n;
}
