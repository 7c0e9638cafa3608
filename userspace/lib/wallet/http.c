// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - signed requests to hce-issuer over libcurl (http.h).
 */
#include "wallet/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "issuer/issuer.h"

static int fail(char *err, size_t n, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int (*cancel_fn)(void *arg);
static void *cancel_arg;

void hce_iss_http_set_cancel(int (*fn)(void *arg), void *arg)
{
	cancel_fn = fn;
	cancel_arg = arg;
}

/* CURLOPT_XFERINFOFUNCTION of GET requests: ask cancel_fn at most once a second. */
static int progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		    curl_off_t ulnow)
{
	struct timespec now;
	int64_t *last = arg, ms;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (!cancel_fn)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (ms - *last < 1000)
		return 0;
	*last = ms;
	return cancel_fn(cancel_arg) ? 1 : 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *arg)
{
	struct hce_iss_rsp *r = arg;
	size_t add = sz * n;
	char *nb;

	if (r->len + add + 1 > HCE_ISS_RSP_MAX)
		return 0;
	nb = realloc(r->buf, r->len + add + 1);
	if (!nb)
		return 0;
	r->buf = nb;
	memcpy(r->buf + r->len, p, add);
	r->len += add;
	r->buf[r->len] = '\0';
	return add;
}

void hce_iss_rsp_free(struct hce_iss_rsp *r)
{
	free(r->buf);
	json_decref(r->body);
	memset(r, 0, sizeof(*r));
}

static int header(struct curl_slist **hd, const char *name, const char *val)
{
	char line[700];
	struct curl_slist *n;

	snprintf(line, sizeof(line), "%s: %s", name, val);
	n = curl_slist_append(*hd, line);
	if (!n)
		return -1;
	*hd = n;
	return 0;
}

int hce_iss_http(const struct hce_iss_http *h, const char *method, const char *path,
		 const char *reqid, const char *body, long timeout, struct hce_iss_rsp *r,
		 char *err, size_t errlen)
{
	size_t bl = body ? strlen(body) : 0;
	struct curl_slist *hd = NULL;
	char url[700], tm[24], *ss = NULL, *sig = NULL;
	int64_t polled = 0;
	json_error_t je;
	CURLcode rc;
	CURL *c;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (!h || !h->url || !h->url[0] || !h->cacert || !h->cacert[0] || !h->priv)
		return fail(err, errlen, -EINVAL, "issuer url, certificate and key required");
	c = curl_easy_init();
	if (!c)
		return fail(err, errlen, -ENOMEM, "curl: out of memory");
	snprintf(url, sizeof(url), "%s%s", h->url, path);
	snprintf(tm, sizeof(tm), "%lld", (long long)time(NULL));
	ss = hce_iss_sign_string(method, path, h->key, reqid, tm, (const uint8_t *)body, bl);
	sig = ss ? hce_iss_sign(h->priv, ss) : NULL;
	if (!sig || header(&hd, "X-HCE-Key", h->key) || header(&hd, "X-HCE-Request-Id", reqid) ||
	    header(&hd, "X-HCE-Time", tm) || header(&hd, "X-HCE-Signature", sig) ||
	    header(&hd, "Content-Type", "application/json") || header(&hd, "Expect", "")) {
		ret = fail(err, errlen, -ENOMEM, "request: cannot sign or build headers");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout > 0 ? timeout : 30L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)bl);
	} else if (cancel_fn) {
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		polled = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000;
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &polled);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		ret = fail(err, errlen, -ECANCELED, "%s %s: abandoned (work waits)", method, path);
		goto out;
	}
	if (rc != CURLE_OK) {
		ret = fail(err, errlen, -EIO, "%s %s: %s", method, path, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = r->buf ? json_loadb(r->buf, r->len, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (r->status >= 500) {
		ret = fail(err, errlen, -EIO, "%s %s: HTTP %ld", method, path, r->status);
	} else if (!json_is_object(r->body)) {
		ret = fail(err, errlen, -EPROTO, "%s %s: HTTP %ld without a JSON object", method,
			   path, r->status);
	} else if (r->status != 200) {
		const char *code = json_string_value(json_object_get(r->body, "error"));
		const char *msg = json_string_value(json_object_get(r->body, "message"));

		ret = fail(err, errlen, -EACCES, "%s %s: HTTP %ld %s: %s", method, path,
			   r->status, code ? code : "?", msg ? msg : "");
	}
out:
	free(ss);
	free(sig);
	curl_slist_free_all(hd);
	curl_easy_cleanup(c);
	return ret;
}
