// SPDX-License-Identifier: GPL-2.0
/*
 * router.c - the AID router (router.h; rules and rationale in Documentation/router.md).
 *
 * State of one RF session: what is selected (an application, the PSE or PPSE directory the
 * router answers itself, or nothing), the registry entry a SELECT by name chose (for next /
 * previous occurrence), and per application whether it received an APDU since it was last
 * told the session (or its selection) ended.
 */
#include "router/router.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/apdu.h"
#include "codec/buf.h"
#include "codec/hex.h"
#include "codec/tlv.h"

#define DDF_NAME_LEN 14
static const uint8_t pse_name[DDF_NAME_LEN] = "1PAY.SYS.DDF01";
static const uint8_t ppse_name[DDF_NAME_LEN] = "2PAY.SYS.DDF01";
#define SFI_DIR 0x01

/* P2 of SELECT: b2b1 occurrence, b4b3 response. */
#define OCC_FIRST 0
#define OCC_LAST 1
#define OCC_NEXT 2
#define OCC_PREV 3

enum r_sel {
	SEL_NONE,	/* nothing (no default application) */
	SEL_APP,	/* apps[cur] */
	SEL_PSE,	/* the router's PSE directory */
	SEL_PPSE,	/* the router's PPSE directory */
};

struct r_app {
	struct hce_app *app;
	bool seen;	/* received an APDU since it was last told (session_end) */
};

struct r_entry {
	struct hce_aid aid;
	unsigned int app;
	enum hce_aid_category cat;
	uint8_t prio;
	uint8_t label_len;	/* 0: no label */
	char label[HCE_AID_LABEL_MAX];
};

struct r_fid {
	uint16_t fid;
	unsigned int app;
};

struct hce_router {
	struct hce_app self;
	struct r_app apps[HCE_ROUTER_MAX_APPS];
	size_t n_apps;
	struct r_entry e[HCE_ROUTER_MAX_AIDS];
	size_t n_e;
	struct r_fid f[HCE_ROUTER_MAX_FIDS];
	size_t n_f;
	int def;		/* default app index, -1 when none */
	enum r_sel sel;
	unsigned int cur;	/* with SEL_APP */
	int cur_entry;		/* registry entry chosen by the last SELECT by name, -1 */
};

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

static const char *app_name(const struct hce_app *app)
{
	return app->ops->name ? app->ops->name : "?";
}

/* "A000000632010105" or "A000000632*" into buf (>= 2 * 16 + 2). */
static void aid_str(const struct hce_aid *a, char *buf, size_t cap)
{
	if (hce_hex_encode(a->b, a->len, buf, cap) == 0 && a->prefix)
		strncat(buf, "*", cap - strlen(buf) - 1);
}

/* --- responses ---------------------------------------------------------------------- */

static size_t sw_only(uint8_t *out, size_t cap, uint16_t sw)
{
	return hce_rapdu_build(out, cap, NULL, 0, sw);
}

static uint16_t rsp_sw(const uint8_t *out, size_t n)
{
	return (uint16_t)(out[n - 2] << 8 | out[n - 1]);
}

/* 9000 and warnings (62xx, 63xx) complete a selection (ISO 7816-4 5.6). */
static bool sw_selects(uint16_t sw)
{
	return sw == HCE_SW_OK || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/* Tell app i its session (or selection) ended, if it saw anything since last told. */
static void tell(struct hce_router *r, unsigned int i)
{
	if (!r->apps[i].seen)
		return;
	r->apps[i].seen = false;
	hce_app_session_end(r->apps[i].app);
}

/* Hand one C-APDU to app i; every answer that breaks app.h's contract becomes 6F00. */
static size_t fwd(struct hce_router *r, unsigned int i, const uint8_t *capdu, size_t len,
		  uint8_t *out, size_t cap)
{
	size_t n;

	r->apps[i].seen = true;
	n = hce_app_process(r->apps[i].app, capdu, len, out, cap);
	if (n < 2 || n > cap)
		return sw_only(out, cap, HCE_SW_UNKNOWN);
	return n;
}

/* Make the selection sel (app i when SEL_APP), telling the application left. */
static void select_state(struct hce_router *r, enum r_sel sel, unsigned int i, int entry)
{
	if (r->sel == SEL_APP && (sel != SEL_APP || r->cur != i))
		tell(r, r->cur);
	r->sel = sel;
	r->cur = sel == SEL_APP ? i : 0;
	r->cur_entry = entry;
}

/* --- directories (PPSE, PSE) -------------------------------------------------------- */

/* Listed entries (payment, exact) in directory order: priority 1..15, then none; then
 * registration order. Returns the count.
 */
static size_t dir_order(const struct hce_router *r, unsigned int idx[HCE_ROUTER_MAX_AIDS])
{
	size_t n = 0, i, j;

	for (i = 0; i < r->n_e; i++)
		if (r->e[i].cat == HCE_AID_PAYMENT && !r->e[i].aid.prefix)
			idx[n++] = (unsigned int)i;
	/* insertion sort: stable */
	for (i = 1; i < n; i++) {
		unsigned int v = idx[i];
		unsigned int pv = r->e[v].prio ? r->e[v].prio : 16;

		for (j = i; j > 0; j--) {
			unsigned int u = idx[j - 1];
			unsigned int pu = r->e[u].prio ? r->e[u].prio : 16;

			if (pu <= pv)
				break;
			idx[j] = u;
		}
		idx[j] = v;
	}
	return n;
}

/* 61 { 4F AID, [50 label], [87 priority] } */
static void dir_entry(const struct r_entry *e, struct hce_wr *w)
{
	size_t m;

	hce_tlv_begin(w, 0x61, &m);
	hce_tlv_put(w, 0x4F, e->aid.b, e->aid.len);
	if (e->label_len)
		hce_tlv_put(w, 0x50, e->label, e->label_len);
	if (e->prio)
		hce_tlv_put(w, 0x87, &e->prio, 1);
	hce_tlv_end(w, m);
}

/* 6F { 84 name, A5 { [88 01], BF0C { 61 ... } } } with the first k listed entries. */
static void dir_fci(const struct hce_router *r, const unsigned int *idx, size_t k, bool pse,
		    struct hce_wr *w)
{
	size_t m6f, ma5, mbf, i;
	uint8_t sfi = SFI_DIR;

	hce_tlv_begin(w, 0x6F, &m6f);
	hce_tlv_put(w, 0x84, pse ? pse_name : ppse_name, DDF_NAME_LEN);
	hce_tlv_begin(w, 0xA5, &ma5);
	if (pse)
		hce_tlv_put(w, 0x88, &sfi, 1);
	hce_tlv_begin(w, 0xBF0C, &mbf);
	for (i = 0; i < k; i++)
		dir_entry(&r->e[idx[i]], w);
	hce_tlv_end(w, mbf);
	hce_tlv_end(w, ma5);
	hce_tlv_end(w, m6f);
}

/* The directory FCI: as many entries (in order) as fit in HCE_ROUTER_FCI_MAX bytes. */
static size_t dir_fci_build(const struct hce_router *r, bool pse, uint8_t *buf)
{
	unsigned int idx[HCE_ROUTER_MAX_AIDS];
	size_t k = dir_order(r, idx);
	struct hce_wr w;

	for (;; k--) {
		w = hce_wr_init(buf, HCE_ROUTER_FCI_MAX);
		dir_fci(r, idx, k, pse, &w);
		if (hce_wr_ok(&w) || k == 0)
			break;
	}
	return hce_wr_ok(&w) ? w.len : 0;
}

static size_t select_ddf(struct hce_router *r, const struct hce_capdu *c, bool pse,
			 uint8_t *out, size_t cap)
{
	uint8_t buf[HCE_ROUTER_FCI_MAX];
	uint8_t occ = c->p2 & 0x03, resp = c->p2 & 0x0C;
	size_t n = 0;

	if (resp != 0x00 && resp != 0x0C)
		return sw_only(out, cap, HCE_SW_WRONG_P1P2);
	/* One occurrence of each name. */
	if (occ == OCC_NEXT || occ == OCC_PREV)
		return sw_only(out, cap, HCE_SW_FILE_NOT_FOUND);
	if (resp == 0x00) {
		n = dir_fci_build(r, pse, buf);
		if (!n)
			return sw_only(out, cap, HCE_SW_UNKNOWN);
	}
	select_state(r, pse ? SEL_PSE : SEL_PPSE, 0, -1);
	n = hce_rapdu_build(out, cap, buf, n, HCE_SW_OK);
	return n ? n : sw_only(out, cap, HCE_SW_UNKNOWN);
}

/*
 * A command with a directory (or nothing) selected. READ RECORD is the router's: PSE directory
 * records of SFI 1, record n = 70 { entry n } (the purse's rules). Anything else goes to the
 * default application, which was told the selection left it (so it is at its root, like a
 * card after reset); without one the router answers.
 */
static size_t dir_cmd(struct hce_router *r, const struct hce_capdu *c, const uint8_t *capdu,
		      size_t len, uint8_t *out, size_t cap)
{
	unsigned int idx[HCE_ROUTER_MAX_AIDS];
	uint8_t buf[HCE_ROUTER_FCI_MAX];
	struct hce_wr w;
	size_t n, m;
	uint8_t sfi = c->p2 >> 3, mode = c->p2 & 0x07;

	if (c->cla == 0x00 && c->ins == 0xB2) {
		if (c->nc)
			return sw_only(out, cap, HCE_SW_WRONG_LENGTH);
		if ((mode != 4 && mode != 5) || c->p1 == 0)
			return sw_only(out, cap, HCE_SW_WRONG_P1P2);
		if (sfi == 0)
			return sw_only(out, cap, HCE_SW_NO_EF);
		if (r->sel != SEL_PSE || sfi != SFI_DIR || mode != 4)
			return sw_only(out, cap, HCE_SW_FILE_NOT_FOUND);
		n = dir_order(r, idx);
		if (c->p1 > n)
			return sw_only(out, cap, HCE_SW_RECORD_NOT_FOUND);
		w = hce_wr_init(buf, sizeof(buf));
		hce_tlv_begin(&w, 0x70, &m);
		dir_entry(&r->e[idx[c->p1 - 1]], &w);
		hce_tlv_end(&w, m);
		if (!hce_wr_ok(&w))
			return sw_only(out, cap, HCE_SW_UNKNOWN);
		n = hce_rapdu_build(out, cap, buf, w.len, HCE_SW_OK);
		return n ? n : sw_only(out, cap, HCE_SW_UNKNOWN);
	}
	if (r->def >= 0)
		return fwd(r, (unsigned int)r->def, capdu, len, out, cap);
	if (c->cla != 0x00 && c->cla != 0x80)
		return sw_only(out, cap, HCE_SW_CLA_NOT_SUPPORTED);
	if (c->cla == 0x00 && c->ins == 0xB0) {
		if (c->nc)
			return sw_only(out, cap, HCE_SW_WRONG_LENGTH);
		if (!(c->p1 & 0x80))
			return sw_only(out, cap, HCE_SW_NO_EF);
		return sw_only(out, cap, c->p1 & 0x60 ? HCE_SW_WRONG_P1P2 : HCE_SW_FILE_NOT_FOUND);
	}
	/* No application selected. */
	return sw_only(out, cap, HCE_SW_CONDITIONS);
}

/* --- selection by name -------------------------------------------------------------- */

/* The name selects entry e fully (equal to an exact AID, or starting with a prefix). */
static bool full_match(const struct r_entry *e, const uint8_t *name, size_t n)
{
	if (e->aid.prefix)
		return n >= e->aid.len && !memcmp(name, e->aid.b, e->aid.len);
	return n == e->aid.len && !memcmp(name, e->aid.b, n);
}

/* The name is a right-truncated AID of entry e (ISO 7816-4 partial DF name selection). */
static bool partial_match(const struct r_entry *e, const uint8_t *name, size_t n)
{
	return n >= HCE_AID_MIN && n < e->aid.len && !memcmp(name, e->aid.b, n);
}

/* Occurrence order: full matches, then partial ones, each in registration order. */
static size_t candidates(const struct hce_router *r, const uint8_t *name, size_t n,
			 unsigned int idx[HCE_ROUTER_MAX_AIDS])
{
	size_t k = 0, i;

	for (i = 0; i < r->n_e; i++)
		if (full_match(&r->e[i], name, n))
			idx[k++] = (unsigned int)i;
	for (i = 0; i < r->n_e; i++)
		if (partial_match(&r->e[i], name, n))
			idx[k++] = (unsigned int)i;
	return k;
}

static size_t select_name(struct hce_router *r, const struct hce_capdu *c, uint8_t *out,
			  size_t cap)
{
	unsigned int idx[HCE_ROUTER_MAX_AIDS];
	uint8_t occ = c->p2 & 0x03, capdu[4 + 3 + HCE_AID_MAX + 3];
	struct hce_capdu fc;
	long pos = -1, k, i;
	const struct r_entry *e;
	size_t n, len;

	if (c->p2 & 0xF0)
		return sw_only(out, cap, HCE_SW_WRONG_P1P2);
	if (c->nc < 1 || c->nc > HCE_AID_MAX)
		return sw_only(out, cap, HCE_SW_WRONG_LENGTH);
	if (c->nc == DDF_NAME_LEN && !memcmp(c->data, ppse_name, DDF_NAME_LEN))
		return select_ddf(r, c, false, out, cap);
	if (c->nc == DDF_NAME_LEN && !memcmp(c->data, pse_name, DDF_NAME_LEN))
		return select_ddf(r, c, true, out, cap);
	n = candidates(r, c->data, c->nc, idx);
	if (!n)
		return sw_only(out, cap, HCE_SW_FILE_NOT_FOUND);
	for (i = 0; r->sel == SEL_APP && r->cur_entry >= 0 && i < (long)n; i++)
		if (idx[i] == (unsigned int)r->cur_entry)
			pos = i;
	switch (occ) {
	case OCC_FIRST:
		k = 0;
		break;
	case OCC_LAST:
		k = (long)n - 1;
		break;
	case OCC_NEXT:
		k = pos + 1;
		break;
	default:
		k = pos < 0 ? (long)n - 1 : pos - 1;
		break;
	}
	if (k < 0 || k >= (long)n)
		return sw_only(out, cap, HCE_SW_FILE_NOT_FOUND);
	e = &r->e[idx[k]];

	/* The app sees a first-occurrence SELECT of the name it registered (partial match) or
	 * of the reader's name (full match).
	 */
	memset(&fc, 0, sizeof(fc));
	fc.cla = 0x00;
	fc.ins = 0xA4;
	fc.p1 = 0x04;
	fc.p2 = c->p2 & 0x0C;
	if (full_match(e, c->data, c->nc)) {
		fc.data = c->data;
		fc.nc = c->nc;
	} else {
		fc.data = e->aid.b;
		fc.nc = e->aid.len;
	}
	fc.ne = c->has_le ? c->ne : 0;
	if (fc.ne > 256)
		fc.ne = 256;
	len = hce_capdu_build(&fc, capdu, sizeof(capdu));
	if (!len)
		return sw_only(out, cap, HCE_SW_UNKNOWN);
	n = fwd(r, e->app, capdu, len, out, cap);
	if (sw_selects(rsp_sw(out, n)))
		select_state(r, SEL_APP, e->app, (int)idx[k]);
	return n;
}

/* --- selection by file id ----------------------------------------------------------- */

static int fid_owner(const struct hce_router *r, const struct hce_capdu *c)
{
	uint16_t fid;
	size_t i;

	if (c->nc != 2 || (c->p1 != 0x00 && c->p1 != 0x02))
		return -1;
	fid = hce_get_be16(c->data);
	for (i = 0; i < r->n_f; i++)
		if (r->f[i].fid == fid)
			return (int)r->f[i].app;
	return -1;
}

static size_t select_fid(struct hce_router *r, const struct hce_capdu *c,
			 const uint8_t *capdu, size_t len, uint8_t *out, size_t cap)
{
	int owner = fid_owner(r, c);
	unsigned int target;
	size_t n;

	if (r->sel == SEL_APP) {
		n = fwd(r, r->cur, capdu, len, out, cap);
		if (rsp_sw(out, n) != HCE_SW_FILE_NOT_FOUND || c->p1 != 0x00 || owner < 0 ||
		    (unsigned int)owner == r->cur)
			return n;
		target = (unsigned int)owner;
	} else if (owner >= 0) {
		target = (unsigned int)owner;
	} else if (r->def >= 0) {
		target = (unsigned int)r->def;
	} else {
		return sw_only(out, cap, HCE_SW_FILE_NOT_FOUND);
	}
	n = fwd(r, target, capdu, len, out, cap);
	if (sw_selects(rsp_sw(out, n)))
		select_state(r, SEL_APP, target, -1);
	return n;
}

/* --- the application interface ------------------------------------------------------ */

static size_t router_process(struct hce_app *app, const uint8_t *capdu, size_t len,
			     uint8_t *out, size_t cap)
{
	struct hce_router *r = app->priv;
	struct hce_capdu c;

	if (cap < 2)
		return 0;
	if (hce_capdu_parse(capdu, len, &c)) {
		/* Malformed: the current application answers it (and may cancel what it had
		 * pending, as the purse does); otherwise the router.
		 */
		if (r->sel == SEL_APP)
			return fwd(r, r->cur, capdu, len, out, cap);
		return sw_only(out, cap, HCE_SW_WRONG_LENGTH);
	}
	if (c.cla == 0x00 && c.ins == 0xA4) {
		if (c.p1 == 0x04)
			return select_name(r, &c, out, cap);
		return select_fid(r, &c, capdu, len, out, cap);
	}
	if (r->sel == SEL_APP)
		return fwd(r, r->cur, capdu, len, out, cap);
	return dir_cmd(r, &c, capdu, len, out, cap);
}

static void initial_state(struct hce_router *r)
{
	r->sel = r->def >= 0 ? SEL_APP : SEL_NONE;
	r->cur = r->def >= 0 ? (unsigned int)r->def : 0;
	r->cur_entry = -1;
}

static void router_session_end(struct hce_app *app)
{
	struct hce_router *r = app->priv;
	size_t i;

	for (i = 0; i < r->n_apps; i++)
		tell(r, (unsigned int)i);
	initial_state(r);
}

static const struct hce_app_ops router_ops = {
	.name = "router",
	.process = router_process,
	.session_end = router_session_end,
};

/* --- registration ------------------------------------------------------------------- */

int hce_router_new(struct hce_router **out)
{
	struct hce_router *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->self.ops = &router_ops;
	r->self.priv = r;
	r->def = -1;
	initial_state(r);
	*out = r;
	return 0;
}

void hce_router_free(struct hce_router *r)
{
	free(r);
}

struct hce_app *hce_router_app(struct hce_router *r)
{
	return &r->self;
}

const struct hce_app *hce_router_current(const struct hce_router *r)
{
	return r->sel == SEL_APP ? r->apps[r->cur].app : NULL;
}

static int find_app(const struct hce_router *r, const struct hce_app *app)
{
	size_t i;

	for (i = 0; i < r->n_apps; i++)
		if (r->apps[i].app == app)
			return (int)i;
	return -1;
}

/* Some name of at most 16 bytes selects both fully (see router.h's conflict rule). */
static bool aids_overlap(const struct hce_aid *a, const struct hce_aid *b)
{
	size_t m = a->len < b->len ? a->len : b->len;

	if (!a->prefix && !b->prefix)
		return a->len == b->len && !memcmp(a->b, b->b, a->len);
	if (a->prefix && !b->prefix)
		return b->len >= a->len && !memcmp(a->b, b->b, a->len);
	if (!a->prefix && b->prefix)
		return a->len >= b->len && !memcmp(a->b, b->b, b->len);
	return !memcmp(a->b, b->b, m);
}

static bool aids_same(const struct hce_aid *a, const struct hce_aid *b)
{
	return a->len == b->len && a->prefix == b->prefix && !memcmp(a->b, b->b, a->len);
}

static const char *cat_name(enum hce_aid_category c)
{
	return c == HCE_AID_PAYMENT ? "payment" : "other";
}

static void conflict_err(char *err, size_t errlen, const char *s1, const struct r_entry *e,
			 const struct hce_app *app, const char *s2, const struct r_entry *o,
			 const struct hce_app *holder)
{
	set_err(err, errlen, "AID %s (%s) of '%s' conflicts with %s (%s) held by '%s'", s1,
		cat_name(e->cat), app_name(app), s2, cat_name(o->cat), app_name(holder));
}

static int check_group(const struct hce_aid_group *g, size_t gi, char *err, size_t errlen)
{
	size_t ll, i;

	if (g->category != HCE_AID_PAYMENT && g->category != HCE_AID_OTHER) {
		set_err(err, errlen, "group %zu: unknown category %d", gi, (int)g->category);
		return -EINVAL;
	}
	if (g->priority > 15) {
		set_err(err, errlen, "group %zu: priority %u above 15", gi, g->priority);
		return -EINVAL;
	}
	if (g->label) {
		ll = strlen(g->label);
		if (ll < 1 || ll > HCE_AID_LABEL_MAX) {
			set_err(err, errlen, "group %zu: label of %zu characters (1..16)", gi, ll);
			return -EINVAL;
		}
		for (i = 0; i < ll; i++) {
			if (g->label[i] < 0x20 || g->label[i] > 0x7E) {
				set_err(err, errlen, "group %zu: label not printable ASCII", gi);
				return -EINVAL;
			}
		}
	}
	if (!g->aids || g->n_aids < 1) {
		set_err(err, errlen, "group %zu: no AID", gi);
		return -EINVAL;
	}
	for (i = 0; i < g->n_aids; i++) {
		if (g->aids[i].len < HCE_AID_MIN || g->aids[i].len > HCE_AID_MAX) {
			set_err(err, errlen, "group %zu: AID %zu of %u bytes (5..16)", gi, i,
				g->aids[i].len);
			return -EINVAL;
		}
	}
	return 0;
}

/* Reserved names: the directories the router answers. */
static bool aid_reserved(const struct hce_aid *a)
{
	struct hce_aid d = { DDF_NAME_LEN, false, { 0 } };

	memcpy(d.b, pse_name, DDF_NAME_LEN);
	if (aids_overlap(a, &d))
		return true;
	memcpy(d.b, ppse_name, DDF_NAME_LEN);
	return aids_overlap(a, &d);
}

int hce_router_add(struct hce_router *r, struct hce_app *app,
		   const struct hce_aid_group *groups, size_t n, char *err, size_t errlen)
{
	struct r_entry ne[HCE_ROUTER_MAX_AIDS];
	char s1[2 * HCE_AID_MAX + 2], s2[2 * HCE_AID_MAX + 2];
	size_t k = 0, gi, i, j, total;
	int ai, ret;

	if (!app || app == &r->self || !app->ops || !app->ops->process ||
	    !app->ops->session_end || (n && !groups)) {
		set_err(err, errlen, "not an application");
		return -EINVAL;
	}
	ai = find_app(r, app);
	if (ai < 0 && r->n_apps >= HCE_ROUTER_MAX_APPS) {
		set_err(err, errlen, "more than %d applications", HCE_ROUTER_MAX_APPS);
		return -ENOSPC;
	}
	for (gi = 0; gi < n; gi++) {
		ret = check_group(&groups[gi], gi, err, errlen);
		if (ret)
			return ret;
	}
	total = 0;
	for (gi = 0; gi < n; gi++)
		total += groups[gi].n_aids;
	if (total > HCE_ROUTER_MAX_AIDS - r->n_e) {
		set_err(err, errlen, "more than %d AIDs", HCE_ROUTER_MAX_AIDS);
		return -ENOSPC;
	}
	for (gi = 0; gi < n; gi++) {
		const struct hce_aid_group *g = &groups[gi];

		for (i = 0; i < g->n_aids; i++, k++) {
			struct r_entry *e = &ne[k];

			memset(e, 0, sizeof(*e));
			e->aid = g->aids[i];
			e->app = ai >= 0 ? (unsigned int)ai : (unsigned int)r->n_apps;
			e->cat = g->category;
			e->prio = g->priority;
			if (g->label) {
				e->label_len = (uint8_t)strlen(g->label);
				memcpy(e->label, g->label, e->label_len);
			}
			aid_str(&e->aid, s1, sizeof(s1));
			if (aid_reserved(&e->aid)) {
				set_err(err, errlen, "AID %s of '%s' covers PSE/PPSE names", s1,
					app_name(app));
				return -EEXIST;
			}
			for (j = 0; j < r->n_e + k; j++) {
				const struct r_entry *o = j < r->n_e ? &r->e[j] : &ne[j - r->n_e];
				bool same_app = o->app == e->app;

				if (same_app ? !aids_same(&o->aid, &e->aid)
					     : !aids_overlap(&o->aid, &e->aid))
					continue;
				aid_str(&o->aid, s2, sizeof(s2));
				conflict_err(err, errlen, s1, e, app, s2, o,
					     r->apps[o->app].app ? r->apps[o->app].app : app);
				return -EEXIST;
			}
		}
	}
	if (ai < 0) {
		r->apps[r->n_apps].app = app;
		r->apps[r->n_apps].seen = false;
		r->n_apps++;
	}
	memcpy(&r->e[r->n_e], ne, k * sizeof(ne[0]));
	r->n_e += k;
	return 0;
}

int hce_router_add_fids(struct hce_router *r, struct hce_app *app, const uint16_t *fids,
			size_t n, char *err, size_t errlen)
{
	int ai = app ? find_app(r, app) : -1;
	size_t i, j;

	if (ai < 0) {
		set_err(err, errlen, "application not added to the router");
		return -ENOENT;
	}
	if (n && !fids)
		return -EINVAL;
	if (n > HCE_ROUTER_MAX_FIDS - r->n_f) {
		set_err(err, errlen, "more than %d file ids", HCE_ROUTER_MAX_FIDS);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < r->n_f; j++) {
			if (r->f[j].fid != fids[i])
				continue;
			if (r->f[j].app == (unsigned int)ai)
				break;
			set_err(err, errlen, "file id %04X of '%s' already held by '%s'", fids[i],
				app_name(app), app_name(r->apps[r->f[j].app].app));
			return -EEXIST;
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < r->n_f; j++)
			if (r->f[j].fid == fids[i])
				break;
		if (j < r->n_f)
			continue;	/* already declared by this app (or earlier in fids) */
		r->f[r->n_f].fid = fids[i];
		r->f[r->n_f].app = (unsigned int)ai;
		r->n_f++;
	}
	return 0;
}

int hce_router_set_default(struct hce_router *r, struct hce_app *app)
{
	bool implicit;
	int ai = -1;

	if (app) {
		ai = find_app(r, app);
		if (ai < 0)
			return -ENOENT;
	}
	/* Nothing selected, or only the old default implicitly: the new one takes over. */
	implicit = r->sel == SEL_NONE ||
		   (r->sel == SEL_APP && r->def >= 0 && r->cur == (unsigned int)r->def &&
		    r->cur_entry < 0);
	r->def = ai;
	if (implicit)
		initial_state(r);
	return 0;
}

int hce_aid_parse(const char *s, struct hce_aid *out)
{
	char buf[2 * HCE_AID_MAX + 2];
	size_t n = s ? strlen(s) : 0;
	ssize_t len;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (n && s[n - 1] == '*') {
		out->prefix = true;
		n--;
	}
	if (n < 2 * HCE_AID_MIN || n > 2 * HCE_AID_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') ||
		      (ch >= 'a' && ch <= 'f')))
			return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	len = hce_hex_decode(buf, out->b, sizeof(out->b));
	if (len < HCE_AID_MIN || len > HCE_AID_MAX) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	return 0;
}
