// SPDX-License-Identifier: GPL-2.0
/*
 * purse.c - the e-purse application: lifetime, command dispatch, session state, read-only
 * accessors. See purse.h for the contract and purse_priv.h for the file split.
 */
#include "purse/purse_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

void purse_cancel(struct hce_purse *p)
{
	hce_wipe(&p->op, sizeof(p->op));
	p->op.kind = PEND_NONE;
	p->op.key = NULL;
}

int purse_random(struct hce_purse *p, uint8_t *buf, size_t len)
{
	if (p->rng)
		return p->rng(p->rng_ctx, buf, len) ? -1 : 0;
	return hce_random(buf, len);
}

bool purse_le_ok(const struct hce_capdu *c, size_t n)
{
	return !c->has_le || c->ne == n || c->ne == 256 || c->ne == 65536;
}

/* Command table: class, instruction, handler. */
struct purse_cmd {
	uint8_t cla;
	uint8_t ins;
	uint16_t (*fn)(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);
};

static const struct purse_cmd purse_cmds[] = {
	{ 0x00, 0xA4, purse_select },
	{ 0x00, 0xB0, purse_read_binary },
	{ 0x00, 0xB2, purse_read_record },
	{ 0x00, 0x84, purse_challenge },
	{ 0x80, 0x5C, purse_get_balance },
	{ 0x80, 0x50, purse_initialize },
	{ 0x80, 0x54, purse_debit },
	{ 0x80, 0x52, purse_credit },
	{ 0x80, 0xDC, purse_update_capp },
	{ 0x80, 0x5A, purse_prove },
};

/* Commands that may directly follow a pending first half without cancelling it. */
static bool continues(const struct hce_purse *p, const struct hce_capdu *c)
{
	switch (p->op.kind) {
	case PEND_PURCHASE:
	case PEND_CAPP_CACHED:
		return c->cla == 0x80 && c->ins == 0x54;
	case PEND_CAPP:
		return c->cla == 0x80 && c->ins == 0xDC;
	case PEND_LOAD:
		return c->cla == 0x80 && c->ins == 0x52;
	default:
		return false;
	}
}

static uint16_t dispatch(struct hce_purse *p, const uint8_t *capdu, size_t len,
			 struct purse_rsp *r)
{
	struct hce_capdu c;
	bool cla_known = false;
	uint16_t sw;
	size_t i;

	sw = hce_capdu_parse(capdu, len, &c);
	if (sw) {
		purse_cancel(p);
		return sw;
	}
	/* Anything but the expected second half cancels the pending operation. */
	if (!continues(p, &c))
		purse_cancel(p);
	if (c.cla != 0x00 && c.cla != 0x80)
		return HCE_SW_CLA_NOT_SUPPORTED;
	for (i = 0; i < sizeof(purse_cmds) / sizeof(purse_cmds[0]); i++) {
		if (purse_cmds[i].ins != c.ins)
			continue;
		if (purse_cmds[i].cla == c.cla)
			return purse_cmds[i].fn(p, &c, r);
		cla_known = true;
	}
	return cla_known ? HCE_SW_CLA_NOT_SUPPORTED : HCE_SW_INS_NOT_SUPPORTED;
}

static size_t purse_process(struct hce_app *app, const uint8_t *capdu, size_t len,
			    uint8_t *out, size_t cap)
{
	struct hce_purse *p = app->priv;
	uint8_t data[256];
	struct purse_rsp r;
	uint16_t sw;
	size_t n;

	if (cap < 2)
		return 0;
	r.w = hce_wr_init(data, sizeof(data));
	r.max = cap - 2 < sizeof(data) ? cap - 2 : sizeof(data);
	sw = dispatch(p, capdu, len, &r);
	n = (sw == HCE_SW_OK || sw == HCE_SW_WARN_EOF) && hce_wr_ok(&r.w) ? r.w.len : 0;
	if (!hce_wr_ok(&r.w))
		sw = HCE_SW_UNKNOWN;
	if (n > r.max) {
		n = 0;
		sw = HCE_SW_UNKNOWN;
	}
	n = hce_rapdu_build(out, cap, data, n, sw);
	hce_wipe(data, sizeof(data));
	return n;
}

static void purse_session_end(struct hce_app *app)
{
	struct hce_purse *p = app->priv;

	purse_cancel(p);
	p->sel = SEL_MF;
	p->cur_ef = 0;
}

static const struct hce_app_ops purse_ops = {
	.name = "purse",
	.process = purse_process,
	.session_end = purse_session_end,
};

static const struct hce_key_slot *find_slot(const struct hce_card_keys *k, uint8_t kind,
					    uint8_t index)
{
	const struct hce_key_slot *s = kind == HCE_KEY_DPK ? k->dpk : k->dlk;
	int i;

	if (kind == HCE_KEY_DTK)
		return k->dtk.present ? &k->dtk : NULL;
	for (i = 0; i < HCE_KEY_SLOTS; i++) {
		if (s[i].present && s[i].index == index)
			return &s[i];
	}
	return NULL;
}

/* Every key the store names must be in keys with the same version and algorithm. */
static int check_keys(const struct hce_card_data *card, const struct hce_card_keys *keys)
{
	size_t i;

	if (!keys)
		return 0;
	for (i = 0; i < card->n_keys; i++) {
		const struct hce_key_info *ki = &card->keys[i];
		const struct hce_key_slot *s = find_slot(keys, ki->kind, ki->index);

		if (!s || s->version != ki->version || s->alg != ki->alg)
			return -EKEYREJECTED;
	}
	return 0;
}

int hce_purse_open(struct hce_store *st, const struct hce_card_keys *keys,
		   struct hce_purse **out)
{
	struct hce_purse *p;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!st)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ret = hce_store_card(st, &p->card);
	if (!ret)
		ret = check_keys(&p->card, keys);
	if (ret) {
		free(p);
		return ret;
	}
	p->st = st;
	p->keys = keys;
	p->app.ops = &purse_ops;
	p->app.priv = p;
	p->sel = SEL_MF;
	purse_cancel(p);
	*out = p;
	return 0;
}

struct hce_app *hce_purse_app(struct hce_purse *p)
{
	return &p->app;
}

void hce_purse_close(struct hce_purse *p)
{
	if (!p)
		return;
	hce_wipe(p, sizeof(*p));
	free(p);
}

int hce_purse_set_keys(struct hce_purse *p, const struct hce_card_keys *keys)
{
	int ret = check_keys(&p->card, keys);

	purse_cancel(p);
	if (ret)
		return ret;
	p->keys = keys;
	return 0;
}

void hce_purse_set_rng(struct hce_purse *p, hce_purse_rng_fn fn, void *ctx)
{
	p->rng = fn;
	p->rng_ctx = fn ? ctx : NULL;
}

int hce_purse_balance(struct hce_purse *p, uint32_t *balance)
{
	struct hce_purse_state s;
	int ret = hce_store_state(p->st, &s);

	if (!ret)
		*balance = s.balance;
	return ret;
}

int hce_purse_state(struct hce_purse *p, struct hce_purse_state *state)
{
	return hce_store_state(p->st, state);
}

void hce_purse_log_parse(const uint8_t rec[HCE_LOG_RECORD_LEN], struct hce_purse_log_entry *e)
{
	e->counter = hce_get_be16(rec);
	e->overdraft = ((uint32_t)rec[2] << 16) | ((uint32_t)rec[3] << 8) | rec[4];
	e->amount = hce_get_be32(rec + 5);
	e->type = rec[9];
	memcpy(e->terminal, rec + 10, 6);
	memcpy(e->date, rec + 16, 4);
	memcpy(e->time, rec + 20, 3);
}

int hce_purse_log(struct hce_purse *p, unsigned int n, struct hce_purse_log_entry *e)
{
	uint8_t rec[HCE_LOG_RECORD_LEN];
	int ret = hce_store_log(p->st, n, rec);

	if (!ret)
		hce_purse_log_parse(rec, e);
	return ret;
}

int hce_purse_locked(struct hce_purse *p)
{
	struct hce_purse_state s;
	int ret = hce_store_state(p->st, &s);

	if (ret)
		return ret;
	return s.mac_failures >= HCE_PURSE_MAC_FAIL_LIMIT;
}
