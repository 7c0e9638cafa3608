// SPDX-License-Identifier: GPL-2.0
/*
 * pn532_frame.c - libFuzzer target for the PN532 frame parser (pn532/frame.h) and the command
 * handling behind it (pn532/chip.h), the bytes a libnfc client (or anything else) writes to
 * hce-pn532's terminal.
 *
 * Input: a byte stream fed to the parser one byte at a time. Checks: a complete frame holds at
 * most PN532_DATA_MAX bytes; re-encoding it and parsing that gives the same frame; each frame's
 * command, run on a chip whose RF side is an in-process card (answers of every length up to
 * PN532_APDU_MAX, chosen by the APDU), gives either the error frame or an answer whose code is
 * the command + 1 and which fits one frame (the encoder accepts it).
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "pn532/chip.h"
#include "pn532/frame.h"

static int f_list(void *ctx, int timeout_ms, struct pn532_target *t)
{
	static const uint8_t ats[] = { 0x06, 0x78, 0x80, 0x70, 0x00, 0x01 };

	t->sens_res[1] = 0x44;
	t->sel_res = 0x20;
	t->uid_len = 7;
	memcpy(t->ats, ats, sizeof(ats));
	t->ats_len = sizeof(ats);
	return 1;
}

static int f_xchg(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap, size_t *rlen)
{
	size_t n = clen >= 2 ? ((size_t)c[0] << 8 | c[1]) % (PN532_APDU_MAX + 1) : 2;

	if (clen >= 1 && c[0] == 0xee)
		return -ETIMEDOUT;
	if (n > rcap)
		return -EMSGSIZE;
	memset(r, 0x5a, n);
	*rlen = n;
	return 0;
}

static void f_release(void *ctx)
{
}

static int f_tg_init(void *ctx, const struct pn532_tg_params *p, unsigned int *fsd)
{
	FUZZ_CHECK(p->hist_len <= sizeof(p->hist));
	*fsd = 16u << (p->nfcid1t[0] & 3);
	return p->nfcid1t[1] == 0xee ? -ENODEV : 0;
}

static int f_tg_get(void *ctx, uint8_t *c, size_t cap, size_t *clen)
{
	size_t n = 300 < cap ? 300 : cap;

	memset(c, 0xa5, n);
	*clen = n;
	return 0;
}

static int f_tg_set(void *ctx, const uint8_t *r, size_t rlen)
{
	FUZZ_CHECK(rlen <= PN532_APDU_MAX);
	return rlen && r[0] == 0xee ? -ENOLINK : 0;
}

static void f_tg_release(void *ctx)
{
}

static const struct pn532_rf_ops ops = {
	f_list, f_xchg, f_release, f_tg_init, f_tg_get, f_tg_set, f_tg_release,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pn532_parser p, q;
	static struct pn532_chip chip;
	static uint8_t wire[PN532_WIRE_MAX], out[PN532_DATA_MAX];

	pn532_parser_init(&p);
	pn532_chip_init(&chip, &ops, NULL);
	for (size_t i = 0; i < size; i++) {
		enum pn532_event ev = pn532_parser_feed(&p, data[i]);
		size_t w, olen = 0;
		int rc;

		if (ev != PN532_EV_FRAME)
			continue;
		FUZZ_CHECK(p.data_len <= PN532_DATA_MAX);
		w = pn532_frame_encode(p.tfi, p.data, p.data_len, wire, sizeof(wire));
		FUZZ_CHECK(w > 0);
		pn532_parser_init(&q);
		for (size_t k = 0; k < w; k++) {
			enum pn532_event e = pn532_parser_feed(&q, wire[k]);

			FUZZ_CHECK(e != PN532_EV_FRAME || k + 2 == w);	/* at the DCS */
			if (e == PN532_EV_FRAME) {
				FUZZ_CHECK(q.tfi == p.tfi && q.data_len == p.data_len);
				FUZZ_CHECK(!memcmp(q.data, p.data, p.data_len));
			}
		}
		if (p.tfi != PN532_TFI_HOST || !p.data_len)
			continue;
		rc = pn532_chip_command(&chip, p.data, p.data_len, out, sizeof(out), &olen);
		FUZZ_CHECK(rc == 0 || rc == PN532_SYNTAX_ERROR || rc == PN532_NO_ANSWER);
		if (rc)
			continue;
		FUZZ_CHECK(olen >= 1 && olen <= sizeof(out));
		FUZZ_CHECK(out[0] == (uint8_t)(p.data[0] + 1));
		FUZZ_CHECK(pn532_frame_encode(PN532_TFI_CHIP, out, olen, wire, sizeof(wire)) > 0);
	}
	pn532_chip_reset_session(&chip);
	return 0;
}
