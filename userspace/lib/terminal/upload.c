// SPDX-License-Identifier: GPL-2.0
/*
 * upload.c - terminal batch upload, deny list and token check (upload.h).
 */
#include "terminal/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/crypto.h"
#include "terminal/records.h"
#include "wallet/http.h"

static const char *const result_names[] = { "", "accepted", "duplicate", "mismatch",
					    "bad_tac", "invalid", "unknown_card" };

const char *hce_term_upload_result_str(uint8_t result)
{
	return result < sizeof(result_names) / sizeof(result_names[0]) ? result_names[result] :
	       "";
}

int hce_term_record_to_iss(const struct hce_term_record *r, struct hce_iss_record *out)
{
	memset(out, 0, sizeof(*out));
	if (!hce_term_record_uploadable(r))
		return -1;
	memcpy(out->serial, r->serial, HCE_ISS_SERIAL_LEN);
	out->counter = r->counter;
	out->type = r->type;
	out->amount = r->amount;
	memcpy(out->terminal, r->terminal_id, 6);
	out->ttc = r->ttc;
	memcpy(out->date, r->date, 4);
	memcpy(out->time, r->time, 3);
	memcpy(out->tac, r->tac, 4);
	return 0;
}

static void principal(const struct hce_term_issuer *is, char out[24])
{
	char hex[13];

	hce_iss_hex(is->id, 6, hex);
	snprintf(out, 24, "term:%s", hex);
}

int hce_term_upload(const struct hce_term_issuer *is, const struct hce_iss_record *r, size_t n,
		    const char *reqid, uint8_t *result, char *err, size_t errlen)
{
	struct hce_iss_http h = { .url = is->url, .cacert = is->cacert, .priv = is->key };
	struct hce_iss_rsp rsp;
	json_t *a = json_array(), *o;
	char key[24], *body;
	size_t i;
	int ret;

	if (!n || n > HCE_ISS_MAX_RECORDS || !r || !result || !a) {
		json_decref(a);
		snprintf(err, errlen, "upload: 1..%d records", HCE_ISS_MAX_RECORDS);
		return -EINVAL;
	}
	principal(is, key);
	h.key = key;
	for (i = 0; i < n; i++)
		json_array_append_new(a, hce_iss_record_json(&r[i]));
	o = json_pack("{s:o}", "records", a);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body) {
		snprintf(err, errlen, "upload: out of memory");
		return -ENOMEM;
	}
	memset(result, 0, n);
	ret = hce_iss_http(&h, "POST", "/v1/terminal/batch", reqid, body,
			   is->timeout > 0 ? is->timeout : 60, &rsp, err, errlen);
	free(body);
	if (ret == -EACCES && rsp.status == 409) {
		const char *code = json_string_value(json_object_get(rsp.body, "error"));

		if (code && !strcmp(code, "replay_conflict"))
			ret = -EEXIST;
	} else if ((ret == -EACCES || ret == -EPROTO) && rsp.status == 413) {
		/* over the issuer's max-body (its JSON answer, or libevent's own page far
		 * beyond it): refused unread, nothing stored under the request id */
		ret = -E2BIG;
	}
	if (!ret) {
		ret = hce_term_upload_results_parse(rsp.body, n, result);
		if (ret)
			snprintf(err, errlen, "upload: malformed results");
	}
	hce_iss_rsp_free(&rsp);
	return ret;
}

int hce_term_upload_results_parse(const json_t *body, size_t n, uint8_t *result)
{
	const json_t *a = json_object_get(body, "results"), *e;
	size_t i, k;

	memset(result, 0, n);
	if (!json_is_array(a) || json_array_size(a) != n)
		return -EPROTO;
	json_array_foreach(a, i, e) {
		const json_t *ix = json_object_get(e, "index");
		const char *s = json_string_value(json_object_get(e, "result"));
		json_int_t idx = json_integer_value(ix);

		if (!json_is_integer(ix) || idx < 0 || (size_t)idx >= n || !s || result[idx])
			goto bad;
		for (k = 1; k < sizeof(result_names) / sizeof(result_names[0]); k++)
			if (!strcmp(s, result_names[k]))
				result[idx] = (uint8_t)k;
		if (!result[idx])
			goto bad;
	}
	return 0;
bad:
	memset(result, 0, n);
	return -EPROTO;
}

int hce_term_denylist_parse(const json_t *body, struct hce_term_denylist *dl)
{
	const json_t *a = json_object_get(body, "serials"), *v = json_object_get(body, "version");
	const json_t *e;
	size_t i;

	dl->n = 0;
	dl->version = 0;
	if (!json_is_array(a) || json_array_size(a) > HCE_TERM_DENY_MAX || !json_is_integer(v) ||
	    json_integer_value(v) < 0)
		return -EPROTO;
	json_array_foreach(a, i, e) {
		const char *s = json_string_value(e);

		if (!s || strlen(s) != 2 * HCE_ISS_SERIAL_LEN ||
		    hce_iss_hex_exact(s, dl->serial[dl->n], HCE_ISS_SERIAL_LEN)) {
			dl->n = 0;
			return -EPROTO;
		}
		dl->n++;
	}
	dl->version = json_integer_value(v);
	hce_term_denylist_sort(dl);
	return 0;
}

int hce_term_denylist_fetch(const struct hce_term_issuer *is, struct hce_term_denylist *dl,
			    char *err, size_t errlen)
{
	struct hce_iss_http h = { .url = is->url, .cacert = is->cacert, .priv = is->key };
	struct hce_iss_rsp rsp;
	char key[24], reqid[40];
	uint8_t rnd[12];
	int ret;

	principal(is, key);
	h.key = key;
	/* A GET changes nothing; the id only has to be fresh for the issuer's replay window. */
	if (hce_random(rnd, sizeof(rnd)))
		return -EIO;
	memcpy(reqid, "deny-", 5);
	hce_iss_hex(rnd, sizeof(rnd), reqid + 5);
	dl->n = 0;
	ret = hce_iss_http(&h, "GET", "/v1/denylist", reqid, NULL,
			   is->timeout > 0 ? is->timeout : 30, &rsp, err, errlen);
	if (!ret) {
		ret = hce_term_denylist_parse(rsp.body, dl);
		if (ret)
			snprintf(err, errlen, "denylist: malformed answer");
	}
	hce_iss_rsp_free(&rsp);
	return ret;
}
