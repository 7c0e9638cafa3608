// SPDX-License-Identifier: GPL-2.0
/*
 * router_apdu.c - libFuzzer target: the AID router (router/router.h) driven by random APDU
 * sequences, holding three applications behind recording proxies: "pa" (payment, exact AID
 * A000000632010105, "EP", priority 1, FIDs 3F00/1001), "pb" (payment, exact A000000632010106
 * priority 2 and prefix F00000000101*), and the real NDEF Type 4 Tag app (other). The first
 * input byte picks the default application (none, pa, ndef).
 *
 * The input is a program: each op byte picks a raw APDU, a SELECT by name (registered,
 * truncated, prefix-extended, PPSE, PSE or random names, fuzzed P2), a SELECT by file id, a
 * command for the selected app, a directory read, or the end of the session. Checked after
 * every op, against router.h's contract:
 *   - every R-APDU is 2..cap bytes;
 *   - a command other than SELECT reaches exactly the current application; with none (a
 *     directory selected), the default application, except READ RECORD and malformed
 *     APDUs, which the router answers; it never changes the selection;
 *   - a SELECT by name reaches at most one application; 9000/62xx/63xx from it makes it
 *     current; a name matching no registered AID (fully or truncated) and no directory
 *     answers 6A82/6A86/6700 from the router and keeps the selection; a registered exact AID
 *     with P2 00 reaches its owner; PPSE/PSE with P2 00 answer the FCI computed at start-up
 *     and leave no application current;
 *   - a SELECT by file id reaches the current app, then possibly (after its 6A82) the FID
 *     owner; with nothing current, at most one app;
 *   - the application left when the selection moves has been told (session_end) of
 *     everything it saw; session_end tells every app that saw anything, once, and resets the
 *     selection to the default; no app is ever told twice without an APDU in between;
 *   - the NDEF app, when reached, answers the CC byte-exact after its selection.
 */
#include <errno.h>
#include <string.h>

#include "app/app.h"
#include "codec/apdu.h"
#include "codec/buf.h"
#include "fuzz.h"
#include "ndef/ndef.h"
#include "router/router.h"

#define CAP HCE_RAPDU_MIN_CAP
#define MAX_OPS 40
#define N_APPS 3

/* A recording proxy in front of an application behaviour. */
struct proxy {
	struct hce_app app;
	struct hce_app *inner;	/* NULL: the simple behaviour below */
	const uint8_t (*aids)[16];
	const uint8_t *aid_lens;
	size_t n_aids;
	const uint16_t *fids;
	size_t n_fids;
	unsigned long hits;	/* APDUs received */
	int seen;		/* received one since last told */
	unsigned long ends;
};

static size_t simple_process(struct proxy *p, const uint8_t *capdu, size_t len, uint8_t *out,
			     size_t cap)
{
	struct hce_capdu c;
	size_t i;

	if (hce_capdu_parse(capdu, len, &c))
		return hce_rapdu_build(out, cap, NULL, 0, HCE_SW_WRONG_LENGTH);
	if (c.cla == 0x00 && c.ins == 0xA4 && c.p1 == 0x04) {
		for (i = 0; i < p->n_aids; i++)
			if (c.nc >= p->aid_lens[i] && !memcmp(c.data, p->aids[i], p->aid_lens[i]))
				return hce_rapdu_build(out, cap, c.data, c.nc, HCE_SW_OK);
		return hce_rapdu_build(out, cap, NULL, 0, HCE_SW_FILE_NOT_FOUND);
	}
	if (c.cla == 0x00 && c.ins == 0xA4) {
		for (i = 0; c.nc == 2 && i < p->n_fids; i++)
			if (hce_get_be16(c.data) == p->fids[i])
				return hce_rapdu_build(out, cap, NULL, 0, HCE_SW_OK);
		return hce_rapdu_build(out, cap, NULL, 0, HCE_SW_FILE_NOT_FOUND);
	}
	return hce_rapdu_build(out, cap, &c.ins, 1, c.ins == 0xEE ? 0x6283 : HCE_SW_OK);
}

static size_t proxy_process(struct hce_app *app, const uint8_t *capdu, size_t len,
			    uint8_t *out, size_t cap)
{
	struct proxy *p = app->priv;
	size_t n;

	p->hits++;
	p->seen = 1;
	if (p->inner)
		n = hce_app_process(p->inner, capdu, len, out, cap);
	else
		n = simple_process(p, capdu, len, out, cap);
	FUZZ_CHECK(n >= 2 && n <= cap);
	return n;
}

static void proxy_session_end(struct hce_app *app)
{
	struct proxy *p = app->priv;

	FUZZ_CHECK(p->seen);	/* told only after it saw something, once */
	p->seen = 0;
	p->ends++;
	if (p->inner)
		hce_app_session_end(p->inner);
}

static const struct hce_app_ops proxy_ops = { "proxy", proxy_process, proxy_session_end };

static const uint8_t pa_aids[1][16] = { { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 } };
static const uint8_t pa_lens[1] = { 8 };
static const uint16_t pa_fids[2] = { 0x3F00, 0x1001 };
static const uint8_t pb_aids[2][16] = { { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x06 },
					{ 0xF0, 0x00, 0x00, 0x00, 0x01, 0x01 } };
static const uint8_t pb_lens[2] = { 8, 6 };

static struct proxy px[N_APPS];
static int def_app;	/* index of the default app, -1 when none */
static struct hce_app *ndef;
static uint8_t ppse_fci[CAP], pse_fci[CAP];
static size_t ppse_len, pse_len;
static const uint8_t ndef_msg[] = { 0xD1, 0x01, 0x05, 0x55, 0x01, 'a', '.', 'c', 'n' };

/* Names a reader might send. */
static const struct {
	uint8_t len;
	uint8_t b[16];
} names[] = {
	{ 8, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 } },
	{ 8, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x06 } },
	{ 5, { 0xA0, 0x00, 0x00, 0x06, 0x32 } },
	{ 7, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01 } },
	{ 9, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05, 0x00 } },
	{ 6, { 0xF0, 0x00, 0x00, 0x00, 0x01, 0x01 } },
	{ 10, { 0xF0, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05 } },
	{ 5, { 0xF0, 0x00, 0x00, 0x00, 0x01 } },
	{ 7, { 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01 } },
	{ 14, "2PAY.SYS.DDF01" },
	{ 14, "1PAY.SYS.DDF01" },
	{ 4, { 0xA0, 0x00, 0x00, 0x06 } },
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

struct prog {
	const uint8_t *p;
	size_t n;
};

static uint8_t next8(struct prog *g)
{
	if (!g->n)
		return 0;
	g->n--;
	return *g->p++;
}

static int proxy_index(const struct hce_app *a)
{
	int i;

	for (i = 0; i < N_APPS; i++)
		if (a == &px[i].app)
			return i;
	FUZZ_CHECK(a == NULL);
	return -1;
}

static struct hce_router *setup(int def)
{
	static const struct hce_aid a_pa = { 8, false, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01,
							   0x01, 0x05 } };
	static const struct hce_aid a_pb[2] = {
		{ 8, false, { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x06 } },
		{ 6, true, { 0xF0, 0x00, 0x00, 0x00, 0x01, 0x01 } } };
	static const struct hce_aid a_nd = { 7, false, { 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01,
							   0x01 } };
	const struct hce_aid_group g_pa = { HCE_AID_PAYMENT, "EP", 1, &a_pa, 1 };
	const struct hce_aid_group g_pb = { HCE_AID_PAYMENT, "B", 2, a_pb, 2 };
	const struct hce_aid_group g_nd = { HCE_AID_OTHER, NULL, 0, &a_nd, 1 };
	struct hce_router *r;
	int i;

	memset(px, 0, sizeof(px));
	for (i = 0; i < N_APPS; i++) {
		px[i].app.ops = &proxy_ops;
		px[i].app.priv = &px[i];
	}
	px[0].aids = pa_aids;
	px[0].aid_lens = pa_lens;
	px[0].n_aids = 1;
	px[0].fids = pa_fids;
	px[0].n_fids = 2;
	px[1].aids = pb_aids;
	px[1].aid_lens = pb_lens;
	px[1].n_aids = 2;
	px[2].inner = ndef;
	FUZZ_CHECK(hce_router_new(&r) == 0);
	FUZZ_CHECK(hce_router_add(r, &px[0].app, &g_pa, 1, NULL, 0) == 0);
	FUZZ_CHECK(hce_router_add_fids(r, &px[0].app, pa_fids, 2, NULL, 0) == 0);
	FUZZ_CHECK(hce_router_add(r, &px[1].app, &g_pb, 1, NULL, 0) == 0);
	FUZZ_CHECK(hce_router_add(r, &px[2].app, &g_nd, 1, NULL, 0) == 0);
	/* conflicts are refused whatever the input */
	FUZZ_CHECK(hce_router_add(r, &px[2].app, &g_pa, 1, NULL, 0) == -EEXIST);
	FUZZ_CHECK(hce_router_set_default(r, def < 0 ? NULL : &px[def].app) == 0);
	return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The directory answers expected whatever the input, written out byte by byte: pa's
	 * entry 61 11 { 4F 08 AID, 50 02 "EP", 87 01 01 }, then pb's 61 10 { 4F 08 AID,
	 * 50 01 "B", 87 01 02 }; pb's prefix AID and the NDEF AID (other) are not listed.
	 */
	static const uint8_t entries[] = {
		0x61, 0x11, 0x4F, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05,
		0x50, 0x02, 'E', 'P', 0x87, 0x01, 0x01,
		0x61, 0x10, 0x4F, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x06,
		0x50, 0x01, 'B', 0x87, 0x01, 0x02 };
	struct hce_wr w;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(sizeof(entries) == 0x25);
	FUZZ_CHECK(hce_ndef_app_new(ndef_msg, sizeof(ndef_msg), &ndef, NULL, 0) == 0);
	w = hce_wr_init(ppse_fci, sizeof(ppse_fci));
	hce_wr_bytes(&w, "\x6F\x3A\x84\x0E" "2PAY.SYS.DDF01" "\xA5\x28\xBF\x0C\x25", 23);
	hce_wr_bytes(&w, entries, sizeof(entries));
	hce_wr_be16(&w, HCE_SW_OK);
	ppse_len = w.len;
	w = hce_wr_init(pse_fci, sizeof(pse_fci));
	hce_wr_bytes(&w, "\x6F\x3D\x84\x0E" "1PAY.SYS.DDF01" "\xA5\x2B\x88\x01\x01"
		     "\xBF\x0C\x25", 26);
	hce_wr_bytes(&w, entries, sizeof(entries));
	hce_wr_be16(&w, HCE_SW_OK);
	pse_len = w.len;
	FUZZ_CHECK(hce_wr_ok(&w));
	return 0;
}

static bool sw_selects(uint16_t sw)
{
	return sw == HCE_SW_OK || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/* SELECT by name: at most one app; routing by registration (see the header). */
static void check_name(const struct hce_capdu *pc, const uint8_t *out, size_t n, uint16_t sw,
		       int cur, int now, int got, int first)
{
	bool ddf = pc->nc == 14 && (!memcmp(pc->data, "2PAY.SYS.DDF01", 14) ||
				    !memcmp(pc->data, "1PAY.SYS.DDF01", 14));
	bool first_occ = pc->p2 == 0x00;

	FUZZ_CHECK(got <= 1);
	if (got && sw_selects(sw))
		FUZZ_CHECK(now == first);
	if (!got)
		FUZZ_CHECK(now == cur || (ddf && sw == HCE_SW_OK && now < 0));
	if (ddf && first_occ) {
		FUZZ_CHECK(!got && now < 0);
		if (pc->data[0] == '2')
			FUZZ_CHECK(n == ppse_len && !memcmp(out, ppse_fci, n));
		else
			FUZZ_CHECK(n == pse_len && !memcmp(out, pse_fci, n));
	}
	/* a registered exact AID, first occurrence: its owner */
	if (first_occ && pc->nc == 8 && !memcmp(pc->data, pa_aids[0], 8))
		FUZZ_CHECK(got == 1 && first == 0 && now == 0);
	if (first_occ && pc->nc == 8 && !memcmp(pc->data, pb_aids[0], 8))
		FUZZ_CHECK(got == 1 && first == 1 && now == 1);
	if (first_occ && pc->nc == 7 && !memcmp(pc->data, hce_ndef_aid, 7))
		FUZZ_CHECK(got == 1 && first == 2 && now == 2 && sw == HCE_SW_OK);
	/* no AID is shorter than 5 or longer than 16 bytes */
	if (pc->nc < 5 || pc->nc > 16)
		FUZZ_CHECK(!got && now == cur && sw != HCE_SW_OK);
	if (!got && !ddf)
		FUZZ_CHECK(sw == HCE_SW_FILE_NOT_FOUND || sw == HCE_SW_WRONG_P1P2 ||
			   sw == HCE_SW_WRONG_LENGTH);
}

/* Who received one C-APDU, and what the selection became, against router.h's rules. */
static void check_step(const uint8_t *c, size_t cl, const uint8_t *out, size_t n, int cur,
		       int now, const unsigned long before[N_APPS])
{
	uint16_t sw = (uint16_t)(out[n - 2] << 8 | out[n - 1]);
	struct hce_capdu pc;
	int i, got = 0, first = -1, want;
	bool sel, wf;

	for (i = 0; i < N_APPS; i++) {
		FUZZ_CHECK(px[i].hits - before[i] <= 1);
		if (px[i].hits != before[i]) {
			got++;
			if (first < 0 || i == cur)
				first = i;
		}
	}
	/* the app left when the selection moves has been told */
	if (cur >= 0 && now != cur)
		FUZZ_CHECK(!px[cur].seen);
	wf = hce_capdu_parse(c, cl, &pc) == 0;
	sel = wf && pc.cla == 0x00 && pc.ins == 0xA4;
	if (!sel) {
		/* anything else: exactly the current app; with a directory selected, the
		 * default app (READ RECORD and malformed APDUs: the router); no selection change
		 */
		want = cur;
		if (cur < 0 && wf && !(pc.cla == 0x00 && pc.ins == 0xB2))
			want = def_app;
		FUZZ_CHECK(now == cur);
		FUZZ_CHECK(got == (want >= 0));
		if (want >= 0)
			FUZZ_CHECK(px[want].hits == before[want] + 1);
	} else if (pc.p1 == 0x04) {
		check_name(&pc, out, n, sw, cur, now, got, first);
	} else {
		/* by file id: the current app, then maybe the FID owner */
		FUZZ_CHECK(got <= 2);
		if (cur >= 0)
			FUZZ_CHECK(px[cur].hits == before[cur] + 1);
		if (got == 2)
			FUZZ_CHECK(pc.p1 == 0x00 && pc.nc == 2);
		if (now != cur)
			FUZZ_CHECK(now >= 0 && px[now].hits == before[now] + 1 && sw_selects(sw));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = { data, size };
	struct hce_router *r;
	struct hce_app *ra;
	uint8_t c[300], out[CAP];
	unsigned long before[N_APPS];
	int def, cur, now, i, ops;
	size_t n, cl, k;
	uint8_t op, ndef_sel = 0;

	def = (int)(next8(&g) % 3) - 1;	/* -1 none, 0 pa, 1 pb */
	if (def == 1)
		def = 2;			/* ndef */
	def_app = def;
	r = setup(def);
	ra = hce_router_app(r);
	FUZZ_CHECK(proxy_index(hce_router_current(r)) == def);

	for (ops = 0; ops < MAX_OPS && g.n; ops++) {
		op = next8(&g) % 6;
		cl = 0;
		if (op == 5) {
			hce_app_session_end(ra);
			for (i = 0; i < N_APPS; i++)
				FUZZ_CHECK(!px[i].seen);
			FUZZ_CHECK(proxy_index(hce_router_current(r)) == def);
			ndef_sel = 0;
			continue;
		}
		switch (op) {
		case 0:	/* raw bytes */
			cl = next8(&g) % 24;
			for (k = 0; k < cl; k++)
				c[k] = next8(&g);
			break;
		case 1: {	/* SELECT by name */
			uint8_t ni = next8(&g) % (N_NAMES + 1), p2 = next8(&g);

			p2 = p2 & 0x80 ? p2 : (uint8_t)(p2 & 0x0F);
			if (p2 & 0x40)
				p2 = 0;
			memcpy(c, "\x00\xA4\x04", 3);
			c[3] = p2;
			if (ni < N_NAMES) {
				c[4] = names[ni].len;
				memcpy(c + 5, names[ni].b, names[ni].len);
			} else {
				c[4] = (uint8_t)(next8(&g) % 18);
				for (k = 0; k < c[4]; k++)
					c[5 + k] = next8(&g);
			}
			cl = 5u + c[4];
			if (next8(&g) & 1)
				c[cl++] = 0x00;
			if (c[4] == 0)
				cl = 4;
			break;
		}
		case 2: {	/* SELECT by file id */
			static const uint16_t fids[] = { 0x3F00, 0x1001, 0xE103, 0xE104, 0x0015 };
			uint8_t fi = next8(&g), p1 = next8(&g);
			uint16_t fid = fids[fi % 5];

			if (fi >= 0xF0)
				fid = (uint16_t)(next8(&g) << 8 | next8(&g));
			c[0] = 0x00;
			c[1] = 0xA4;
			c[2] = p1 & 0x80 ? p1 : (uint8_t)(p1 & 0x02);
			c[3] = next8(&g) & 1 ? 0x0C : 0x00;
			c[4] = 2;
			hce_put_be16(c + 5, fid);
			cl = 7;
			break;
		}
		case 3:	/* a command for the selected app */
			c[0] = next8(&g) & 1 ? 0x80 : 0x00;
			c[1] = next8(&g);
			if (c[1] == 0xA4)
				c[1] = 0xB0;
			c[2] = next8(&g);
			c[3] = next8(&g);
			c[4] = next8(&g) % 4;
			for (k = 0; k < c[4]; k++)
				c[5 + k] = next8(&g);
			cl = 5u + c[4];
			if (c[4] == 0)
				cl = 5;	/* case 2: Le */
			break;
		default:	/* directory / file reads */
			c[0] = 0x00;
			c[1] = next8(&g) & 1 ? 0xB2 : 0xB0;
			c[2] = next8(&g) % 4;
			c[3] = next8(&g);
			c[4] = 0x00;
			cl = 5;
			break;
		}

		cur = proxy_index(hce_router_current(r));
		for (i = 0; i < N_APPS; i++)
			before[i] = px[i].hits;
		n = hce_app_process(ra, c, cl, out, CAP);
		FUZZ_CHECK(n >= 2 && n <= CAP);
		now = proxy_index(hce_router_current(r));
		check_step(c, cl, out, n, cur, now, before);
		if (now == 2 && n == 2 && out[0] == 0x90 && cl >= 12 && c[2] == 0x04 &&
		    c[3] == 0x00 && c[4] == 7 && !memcmp(c + 5, hce_ndef_aid, 7))
			ndef_sel = 1;
		if (now != 2)
			ndef_sel = 0;
		/* the NDEF app, once selected by AID, still serves its CC */
		if (ndef_sel && now == 2 && (data[0] & 0x10) && ops % 8 == 7) {
			uint8_t cc[HCE_NDEF_CC_LEN];

			n = hce_app_process(ra, (const uint8_t *)"\x00\xA4\x00\x0C\x02\xE1\x03", 7,
					    out, CAP);
			FUZZ_CHECK(n == 2 && out[0] == 0x90);
			n = hce_app_process(ra, (const uint8_t *)"\x00\xB0\x00\x00\x0F", 5, out,
					    CAP);
			hce_ndef_cc(sizeof(ndef_msg), cc);
			FUZZ_CHECK(n == 17 && !memcmp(out, cc, 15));
		}
	}
	hce_app_session_end(ra);
	for (i = 0; i < N_APPS; i++)
		FUZZ_CHECK(!px[i].seen);
	hce_router_free(r);
	return 0;
}
