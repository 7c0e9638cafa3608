// SPDX-License-Identifier: GPL-2.0
/* apdu.c - C-APDU parsing and R-APDU building; see apdu.h for the contract. */
#include "codec/apdu.h"

#include <string.h>

static uint16_t malformed(struct hce_capdu *out)
{
	memset(out, 0, sizeof(*out));
	return HCE_SW_WRONG_LENGTH;
}

uint16_t hce_capdu_parse(const uint8_t *buf, size_t len, struct hce_capdu *out)
{
	size_t body, lc;

	memset(out, 0, sizeof(*out));
	if (!buf || len < 4)
		return malformed(out);
	out->cla = buf[0];
	out->ins = buf[1];
	out->p1 = buf[2];
	out->p2 = buf[3];
	body = len - 4;
	buf += 4;
	if (body == 0) {
		out->icase = 1;
		return 0;
	}
	if (body == 1) {				/* case 2S */
		out->icase = 2;
		out->has_le = true;
		out->ne = buf[0] ? buf[0] : 256;
		return 0;
	}
	if (buf[0] != 0) {				/* case 3S or 4S */
		lc = buf[0];
		if (body == 1 + lc) {
			out->icase = 3;
		} else if (body == 2 + lc) {
			out->icase = 4;
			out->has_le = true;
			out->ne = buf[1 + lc] ? buf[1 + lc] : 256;
		} else {
			return malformed(out);
		}
		out->nc = lc;
		out->data = buf + 1;
		return 0;
	}
	/* buf[0] == 0: extended length (or a bare short Lc 00, which is malformed) */
	if (body < 3)
		return malformed(out);
	out->extended = true;
	if (body == 3) {				/* case 2E */
		size_t le = ((size_t)buf[1] << 8) | buf[2];

		out->icase = 2;
		out->has_le = true;
		out->ne = le ? le : 65536;
		return 0;
	}
	lc = ((size_t)buf[1] << 8) | buf[2];
	if (lc == 0)
		return malformed(out);
	if (body == 3 + lc) {
		out->icase = 3;
	} else if (body == 5 + lc) {
		size_t le = ((size_t)buf[3 + lc] << 8) | buf[4 + lc];

		out->icase = 4;
		out->has_le = true;
		out->ne = le ? le : 65536;
	} else {
		return malformed(out);
	}
	out->nc = lc;
	out->data = buf + 3;
	return 0;
}

size_t hce_rapdu_build(uint8_t *out, size_t cap, const uint8_t *data, size_t n, uint16_t sw)
{
	if (!out || n > cap || cap - n < 2)
		return 0;
	if (n)
		memcpy(out, data, n);
	out[n] = (uint8_t)(sw >> 8);
	out[n + 1] = (uint8_t)sw;
	return n + 2;
}

size_t hce_capdu_build(const struct hce_capdu *c, uint8_t *out, size_t cap)
{
	bool ext;
	size_t need, i = 0;

	if (c->nc > 65535 || c->ne > 65536 || (c->nc && !c->data))
		return 0;
	ext = c->nc > 255 || c->ne > 256;
	need = 4;
	if (c->nc)
		need += (ext ? 3 : 1) + c->nc;
	if (c->ne)
		need += ext ? (c->nc ? 2 : 3) : 1;
	if (need > cap)
		return 0;
	out[i++] = c->cla;
	out[i++] = c->ins;
	out[i++] = c->p1;
	out[i++] = c->p2;
	if (c->nc) {
		if (ext) {
			out[i++] = 0;
			out[i++] = (uint8_t)(c->nc >> 8);
		}
		out[i++] = (uint8_t)c->nc;
		memcpy(out + i, c->data, c->nc);
		i += c->nc;
	}
	if (c->ne) {
		if (ext) {
			if (!c->nc)
				out[i++] = 0;
			out[i++] = (uint8_t)((c->ne == 65536 ? 0 : c->ne) >> 8);
			out[i++] = (uint8_t)(c->ne == 65536 ? 0 : c->ne);
		} else {
			out[i++] = (uint8_t)(c->ne == 256 ? 0 : c->ne);
		}
	}
	return i;
}
