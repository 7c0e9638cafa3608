/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http.h - one signed request to hce-issuer (issuer-protocol.md "Authentication"), over
 * libcurl with OpenSSL, the issuer's certificate pinned. Shared by the wallet (lib/wallet)
 * and the terminal's batch upload and deny list (lib/terminal/upload.c).
 */
#ifndef HCE_WALLET_HTTP_H
#define HCE_WALLET_HTTP_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#define HCE_ISS_RSP_MAX (1u << 20)

struct hce_iss_http {
	const char *url;	/* https://host:port */
	const char *cacert;	/* the issuer's certificate: the only one trusted */
	const char *key;	/* X-HCE-Key: "dev:<id>", "term:<hex12>", "enrol" */
	EVP_PKEY *priv;		/* signs the request */
};

struct hce_iss_rsp {
	long status;
	char *buf;
	size_t len;
	json_t *body;		/* the JSON object answered */
};

/*
 * Send method (GET when body is NULL, else POST of body) to path with the X-HCE headers.
 * 0: HTTP 200 with a JSON object; -EACCES: HTTP 4xx (r holds the answer; its error code and
 * message in err); -EIO: transport failure or 5xx (retry with the same request id);
 * -EPROTO: not a JSON object; -ENOMEM. Free r with hce_iss_rsp_free() in every case.
 */
int hce_iss_http(const struct hce_iss_http *h, const char *method, const char *path,
		 const char *reqid, const char *body, long timeout, struct hce_iss_rsp *r,
		 char *err, size_t errlen);

void hce_iss_rsp_free(struct hce_iss_rsp *r);

/*
 * A check that GET requests (the long poll) consult about once a second while they wait:
 * when fn(arg) returns non-zero the request is abandoned and hce_iss_http() returns
 * -ECANCELED. POST requests are never abandoned half-way (their outcome would be unknown).
 * Process-wide, for single-threaded callers: `hce-wallet watch` uses it to sync right after
 * a fare instead of at the end of its long poll. fn NULL removes it.
 */
void hce_iss_http_set_cancel(int (*fn)(void *arg), void *arg);

#endif /* HCE_WALLET_HTTP_H */
