/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upload.h - the terminal's side of hce-issuer (issuer-protocol.md): batch upload of its
 * purchase records (POST /v1/terminal/batch, signed by the terminal's P-256 key), the deny
 * list (GET /v1/denylist) and the token check made before a debit: the card's EF 0015
 * validity dates against the terminal's date, and its serial against the deny list.
 * hce-terminal uses them through --issuer (Documentation/terminal.md, "Issuer: deny list and
 * upload"); the records to upload and the cached deny list live in records.h.
 */
#ifndef HCE_TERMINAL_UPLOAD_H
#define HCE_TERMINAL_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "issuer/issuer.h"
#include "terminal/token.h"

struct hce_term_issuer {
	const char *url;	/* https://host:port */
	const char *cacert;	/* the issuer's certificate (pinned) */
	uint8_t id[6];		/* terminal id (term:<hex12>) */
	EVP_PKEY *key;		/* the terminal's P-256 key registered with terminal-add */
	long timeout;		/* seconds per request; 0: 60 (upload), 30 (deny list) */
};

enum hce_term_upload_result {
	HCE_TERM_UP_NONE = 0,
	HCE_TERM_UP_ACCEPTED,
	HCE_TERM_UP_DUPLICATE,
	HCE_TERM_UP_MISMATCH,		/* counted once (first report); disagreement recorded */
	HCE_TERM_UP_BAD_TAC,		/* forgery log, never counted */
	HCE_TERM_UP_INVALID,
	HCE_TERM_UP_UNKNOWN_CARD,
};

/*
 * Upload n (1..HCE_ISS_MAX_RECORDS) records in one batch with request id reqid (reuse it to
 * retry the same batch after a transport failure: the issuer answers the stored result).
 * result[i] receives each record's outcome. 0, or negative errno (-EIO: retry, -EACCES:
 * refused, -EEXIST: 409 replay_conflict, i.e. this request id was used with another body,
 * -E2BIG: 413, the body is over the issuer's size limit: it was refused unread, send the
 * records again in smaller batches; -EPROTO: malformed answer), the reason in err.
 */
int hce_term_upload(const struct hce_term_issuer *is, const struct hce_iss_record *r, size_t n,
		    const char *reqid, uint8_t *result, char *err, size_t errlen);

/*
 * The parsers of the issuer's answers (outside bytes; fuzz/terminal_issuer_rsp.c):
 * a batch answer {"results": [{"index": i, "result": "accepted"|...}, ...]} with exactly one
 * entry per record sent (n), each index once, into result[0..n-1]; a deny list
 * {"version": v >= 0, "serials": ["<20 hex>", ...]} (at most HCE_TERM_DENY_MAX), sorted
 * into dl. 0, or -EPROTO (result all zero, dl empty).
 */
int hce_term_upload_results_parse(const json_t *body, size_t n, uint8_t *result);
int hce_term_denylist_parse(const json_t *body, struct hce_term_denylist *dl);

/* The word of a result ("accepted", ..., "unknown_card"; "" for HCE_TERM_UP_NONE). */
const char *hce_term_upload_result_str(uint8_t result);

/*
 * The issuer's RECORD of a terminal record (records.h); -1 when it has no serial, counter
 * or TAC (hce_term_record_uploadable false), else 0.
 */
struct hce_term_record;
int hce_term_record_to_iss(const struct hce_term_record *r, struct hce_iss_record *out);

/* Fetch the deny list. 0 or negative errno as above. */
int hce_term_denylist_fetch(const struct hce_term_issuer *is, struct hce_term_denylist *dl,
			    char *err, size_t errlen);

#endif /* HCE_TERMINAL_UPLOAD_H */
