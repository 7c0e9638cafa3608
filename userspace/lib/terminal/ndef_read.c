// SPDX-License-Identifier: GPL-2.0
/*
 * ndef_read.c - read the NDEF message of a Type 4 Tag (NFC Forum T4T 1.0/2.0 mapping):
 * SELECT NDEF Tag Application, SELECT CC, READ BINARY CC, SELECT NDEF file, READ BINARY.
 */
#include "terminal/ndef_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "terminal/term.h"

__attribute__((format(printf, 4, 5)))
static int xfail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* One exchange; the status word in *sw, data (without SW) in resp, its length in *n. */
static int ex(struct hce_term_transport *tp, const uint8_t *c, size_t clen, uint8_t *resp,
	      size_t cap, size_t *n, uint16_t *sw, char *err, size_t errlen)
{
	uint8_t r[258];
	size_t rl;

	if (hce_term_transmit(tp, c, clen, r, sizeof(r), &rl))
		return xfail(err, errlen, HCE_TERM_E_TRANSPORT, "%s", tp->err);
	*sw = (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);
	rl -= 2;
	if (rl > cap)
		return xfail(err, errlen, HCE_TERM_E_CARD, "answer of %zu bytes too long", rl);
	if (resp)
		memcpy(resp, r, rl);
	*n = rl;
	return 0;
}

static int select_fid(struct hce_term_transport *tp, uint16_t fid, char *err, size_t errlen)
{
	uint8_t c[7] = { 0x00, 0xA4, 0x00, 0x0C, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid };
	size_t n;
	uint16_t sw;
	int rc;

	rc = ex(tp, c, sizeof(c), NULL, 0, &n, &sw, err, errlen);
	if (rc)
		return rc;
	if (sw != 0x9000)
		return xfail(err, errlen, HCE_TERM_E_CARD, "SELECT file %04X: %04X", fid, sw);
	return 0;
}

static int read_bin(struct hce_term_transport *tp, size_t off, size_t le, uint8_t *out,
		    char *err, size_t errlen)
{
	uint8_t c[5] = { 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off, (uint8_t)le };
	size_t n;
	uint16_t sw;
	int rc;

	rc = ex(tp, c, sizeof(c), out, le, &n, &sw, err, errlen);
	if (rc)
		return rc;
	if (sw != 0x9000 || n != le)
		return xfail(err, errlen, HCE_TERM_E_CARD, "READ BINARY at %zu (%zu bytes): %04X, "
			     "%zu bytes", off, le, sw, n);
	return 0;
}

int hce_term_ndef_read(struct hce_term_transport *tp, uint8_t *msg, size_t cap, size_t *len,
		       char *err, size_t errlen)
{
	static const uint8_t sel_app[] = { 0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00,
					   0x85, 0x01, 0x01, 0x00 };
	uint8_t cc[15], nlen[2];
	size_t n, mle, got, total, fmax;
	uint16_t sw, fid;
	int rc;

	rc = ex(tp, sel_app, sizeof(sel_app), NULL, 0, &n, &sw, err, errlen);
	if (rc)
		return rc;
	if (sw != 0x9000)
		return xfail(err, errlen, HCE_TERM_E_CARD, "no NDEF application on this card "
			     "(SELECT D2760000850101: %04X)", sw);
	rc = select_fid(tp, 0xE103, err, errlen);
	if (!rc)
		rc = read_bin(tp, 0, sizeof(cc), cc, err, errlen);
	if (rc)
		return rc;
	/* CCLEN(2) version(1) MLe(2) MLc(2) then the NDEF File Control TLV 04 06 FID(2)
	 * max size(2) read access(1) write access(1) */
	if ((cc[2] >> 4) != 2 && (cc[2] >> 4) != 3)
		return xfail(err, errlen, HCE_TERM_E_CARD, "CC mapping version %02X unsupported",
			     cc[2]);
	mle = (size_t)(cc[3] << 8 | cc[4]);
	if (cc[7] != 0x04 || cc[8] != 0x06 || mle < 0x0F)
		return xfail(err, errlen, HCE_TERM_E_CARD, "CC without an NDEF File Control TLV");
	if (cc[13] != 0x00)
		return xfail(err, errlen, HCE_TERM_E_CARD, "NDEF file not readable (access %02X)",
			     cc[13]);
	fid = (uint16_t)(cc[9] << 8 | cc[10]);
	fmax = (size_t)(cc[11] << 8 | cc[12]);
	if (mle > 255)
		mle = 255;
	rc = select_fid(tp, fid, err, errlen);
	if (!rc)
		rc = read_bin(tp, 0, 2, nlen, err, errlen);
	if (rc)
		return rc;
	total = (size_t)(nlen[0] << 8 | nlen[1]);
	if (total == 0)
		return xfail(err, errlen, HCE_TERM_E_CARD, "NDEF file empty (NLEN 0)");
	if (total + 2 > fmax || total > cap)
		return xfail(err, errlen, HCE_TERM_E_CARD, "NLEN %zu beyond the file (%zu) or "
			     "our buffer", total, fmax);
	for (got = 0; got < total; got += n) {
		n = total - got < mle ? total - got : mle;
		rc = read_bin(tp, 2 + got, n, msg + got, err, errlen);
		if (rc)
			return rc;
	}
	*len = total;
	return 0;
}
