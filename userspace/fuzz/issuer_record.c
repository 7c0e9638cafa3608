// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_record.c - libFuzzer target for the issuer's record parser (issuer/issuer.h), the
 * parser of every record in POST /v1/wallet/sync and /v1/terminal/batch bodies.
 *
 * Input: arbitrary bytes read as a JSON text (jansson, duplicates rejected as the service
 * does). Either a body {"records": [...]} or one record object. Checks the documented
 * contract: an accepted record has a type of 2/6/9, valid BCD date and time, counter and
 * amounts in range; it survives a JSON round trip unchanged; the TAC check answers 0/1 for
 * purchases and -1 for loads; a rejected record leaves a reason.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "issuer/issuer.h"

static void one(const json_t *o)
{
	static const uint8_t dtk[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct hce_iss_record r, r2;
	char why[HCE_ISS_WHY_MAX] = "";
	json_t *j;
	int ok;

	if (hce_iss_record_parse(o, &r, why)) {
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	FUZZ_CHECK(r.type == HCE_ISS_TX_LOAD || r.type == HCE_ISS_TX_PURCHASE ||
		   r.type == HCE_ISS_TX_CAPP);
	FUZZ_CHECK(hce_iss_bcd_date_ok(r.date) && hce_iss_bcd_time_ok(r.time));
	FUZZ_CHECK(r.amount <= 0x7FFFFFFF);
	FUZZ_CHECK(json_object_size(o) == 9);
	j = hce_iss_record_json(&r);
	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(hce_iss_record_parse(j, &r2, why) == 0);
	FUZZ_CHECK(hce_iss_record_same(&r, &r2));
	json_decref(j);
	ok = hce_iss_record_tac_ok(&r, dtk);
	FUZZ_CHECK(r.type == HCE_ISS_TX_LOAD ? ok == -1 : (ok == 0 || ok == 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	const json_t *a;
	size_t i;

	if (!o)
		return 0;
	a = json_object_get(o, "records");
	if (json_is_array(a)) {
		for (i = 0; i < json_array_size(a) && i < HCE_ISS_MAX_RECORDS; i++)
			one(json_array_get(a, i));
	} else {
		one(o);
	}
	json_decref(o);
	return 0;
}
