// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c - the issuer's answers as the wallet reads them (issuer-protocol.md): TOKEN and the
 * wallet sync response. jansson parses; this checks types and ranges strictly, so a hostile
 * or broken issuer answer is refused before the wallet acts on it.
 */
#include "wallet/wallet_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "issuer/issuer.h"
#include "store/store.h"

static int why_set(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (why && n) {
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int get_int(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *v,
		   char *why, size_t wn)
{
	const json_t *j = json_object_get(o, k);

	if (!json_is_integer(j))
		return why_set(why, wn, "field %s missing or not an integer", k);
	*v = json_integer_value(j);
	if (*v < lo || *v > hi)
		return why_set(why, wn, "field %s out of range", k);
	return 0;
}

static int get_u32(const json_t *o, const char *k, uint32_t *v, char *why, size_t wn)
{
	int64_t x = 0;

	if (get_int(o, k, 0, UINT32_MAX, &x, why, wn))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int get_hex(const json_t *o, const char *k, uint8_t *out, size_t n, char *why, size_t wn)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (!s || strlen(s) != 2 * n || hce_iss_hex_exact(s, out, n))
		return why_set(why, wn, "field %s missing or not the right hex length", k);
	return 0;
}

static int token_from(const json_t *o, struct hce_wallet_token *t, char *why, size_t wn)
{
	const json_t *cap = json_object_get(o, "offline_cap");

	memset(t, 0, sizeof(*t));
	if (!json_is_object(o))
		return why_set(why, wn, "%s is not an object", "token");
	if (get_hex(o, "serial", t->serial, sizeof(t->serial), why, wn) ||
	    get_hex(o, "ef0015", t->ef0015, sizeof(t->ef0015), why, wn) ||
	    get_int(o, "not_before", 0, INT64_MAX / 2, &t->not_before, why, wn) ||
	    get_int(o, "not_after", 1, INT64_MAX / 2, &t->not_after, why, wn) ||
	    get_int(o, "balance", -(int64_t)HCE_OVERDRAFT_MAX, HCE_BALANCE_MAX, &t->balance, why,
		    wn) ||
	    get_u32(o, "max_balance", &t->max_balance, why, wn) ||
	    get_u32(o, "overdraft", &t->overdraft, why, wn))
		return -1;
	if (!json_is_object(cap) || get_u32(cap, "amount", &t->cap_amount, why, wn) ||
	    get_u32(cap, "count", &t->cap_count, why, wn))
		return why_set(why, wn, "%s missing or malformed", "offline_cap");
	if (t->not_after <= t->not_before)
		return why_set(why, wn, "%s: not_after before not_before", "token");
	/* The balance is signed: down to -overdraft (an account in the overdraft), up to max. */
	if (t->overdraft > HCE_OVERDRAFT_MAX || t->balance > (int64_t)t->max_balance ||
	    t->balance < -(int64_t)t->overdraft)
		return why_set(why, wn, "%s: balance/overdraft out of range", "token");
	/* EF 0015 carries the serial at bytes 10..19. */
	if (memcmp(t->ef0015 + 10, t->serial, sizeof(t->serial)))
		return why_set(why, wn, "%s: serial differs from EF 0015", "token");
	return 0;
}

int hce_wallet_token_json(const json_t *o, struct hce_wallet_token *t, char *why, size_t wn)
{
	return token_from(o, t, why, wn);
}

int hce_wallet_token_parse(const char *json, size_t len, struct hce_wallet_token *t,
			   char *why, size_t wn)
{
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	int ret;

	if (!o)
		return why_set(why, wn, "bad JSON: %s", je.text);
	ret = token_from(o, t, why, wn);
	json_decref(o);
	return ret;
}

int hce_wallet_sync_rsp_json(const json_t *o, size_t n_sent, struct hce_wallet_sync_rsp *r,
			     char *why, size_t wn)
{
	const json_t *cap, *tok, *res, *e;
	const char *st, *rs;
	size_t i;
	int64_t idx;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o) || n_sent > HCE_WALLET_MAX_UPLOAD)
		return why_set(why, wn, "%s is not an object", "sync response");
	cap = json_object_get(o, "offline_cap");
	tok = json_object_get(o, "token");
	res = json_object_get(o, "results");
	if (get_int(o, "account_balance", INT32_MIN, INT32_MAX, &r->account_balance, why, wn) ||
	    get_int(o, "card_balance_expected", INT32_MIN, INT32_MAX, &r->expected_balance, why,
		    wn))
		return -1;
	if (!json_is_object(cap) || get_u32(cap, "amount", &r->cap_amount, why, wn) ||
	    get_u32(cap, "count", &r->cap_count, why, wn))
		return why_set(why, wn, "%s missing or malformed", "offline_cap");
	if (!json_is_boolean(json_object_get(o, "cap_restored")))
		return why_set(why, wn, "field %s missing or not a boolean", "cap_restored");
	r->cap_restored = json_is_true(json_object_get(o, "cap_restored"));
	st = json_string_value(json_object_get(tok, "state"));
	if (!st || (strcmp(st, "active") && strcmp(st, "revoked") && strcmp(st, "expired")))
		return why_set(why, wn, "field %s missing or unknown", "token.state");
	snprintf(r->state, sizeof(r->state), "%s", st);
	if (!json_is_array(res) || json_array_size(res) != n_sent)
		return why_set(why, wn, "%s: not one result per record", "results");
	json_array_foreach(res, i, e) {
		if (get_int(e, "index", 0, (int64_t)n_sent - 1, &idx, why, wn))
			return -1;
		rs = json_string_value(json_object_get(e, "result"));
		if (!rs)
			return why_set(why, wn, "field %s missing", "results[].result");
		if (r->result[idx])
			return why_set(why, wn, "%s: index given twice", "results");
		if (!strcmp(rs, "accepted") || !strcmp(rs, "duplicate"))
			r->result[idx] = 1;
		else if (!strcmp(rs, "bad_tac") || !strcmp(rs, "invalid") || !strcmp(rs, "mismatch"))
			r->result[idx] = 2;
		else
			return why_set(why, wn, "%s: unknown result", "results");
	}
	r->n_results = n_sent;
	if (!json_is_array(json_object_get(o, "pending_loads")))
		return why_set(why, wn, "field %s missing or not an array", "pending_loads");
	r->pending_loads = json_array_size(json_object_get(o, "pending_loads"));
	/* The issuer restores the cap only when every record cleared. */
	for (i = 0; r->cap_restored && i < n_sent; i++)
		if (r->result[i] != 1)
			return why_set(why, wn, "%s with a rejected record", "cap_restored");
	return 0;
}

int hce_wallet_sync_rsp_parse(const char *json, size_t len, size_t n_sent,
			      struct hce_wallet_sync_rsp *r, char *why, size_t wn)
{
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	int ret;

	if (!o)
		return why_set(why, wn, "bad JSON: %s", je.text);
	ret = hce_wallet_sync_rsp_json(o, n_sent, r, why, wn);
	json_decref(o);
	return ret;
}
