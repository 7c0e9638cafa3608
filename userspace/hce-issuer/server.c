// SPDX-License-Identifier: GPL-2.0
/*
 * server.c - the HTTPS service of hce-issuer: libevent evhttp over bufferevent_openssl,
 * signed requests, idempotent POSTs, long-polled pending loads (issuer-protocol.md).
 */
#include <inttypes.h>
#include <signal.h>
#include <sys/queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "crypto/crypto.h"
#include "iss.h"
#include "server.h"

struct waiter {
	struct waiter *next;
	struct evhttp_request *req;
	struct evhttp_connection *con;
	int64_t device;
	char serial[21];
	int64_t deadline;
};

struct srv {
	struct iss *iss;
	struct event_base *base;
	SSL_CTX *ctx;
	struct waiter *waiters;
};

static void send_json(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	static const char *const reasons[] = { [200] = "OK", [400] = "Bad Request",
		[401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
		[405] = "Method Not Allowed", [409] = "Conflict", [413] = "Payload Too Large",
		[415] = "Unsupported Media Type", [422] = "Unprocessable Entity",
		[500] = "Internal Server Error" };
	const char *reason = status > 0 && status <= 500 && reasons[status] ? reasons[status] : "";

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	if (b) {
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_send_reply(req, status, reason, b);
	if (b)
		evbuffer_free(b);
}

static void send_resp(struct evhttp_request *req, struct iss_resp *r)
{
	char *t = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	send_json(req, t ? r->status : 500,
		  t ? t : "{\"error\":\"internal\",\"message\":\"out of memory\"}");
	free(t);
	json_decref(r->body);
	r->body = NULL;
}

static void send_err(struct evhttp_request *req, int status, const char *code, const char *msg)
{
	struct iss_resp r = { 0, NULL };

	iss_error(&r, status, code, "%s", msg);
	send_resp(req, &r);
}

static const char *hdr(struct evhttp_request *req, const char *k)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req), k);
}

/* Run a POST operation in one transaction with its idempotency record. */
static void run_post(struct srv *sv, struct evhttp_request *req, const char *principal,
		     const char *reqid, const uint8_t *body, size_t blen, const json_t *j,
		     const char *path, int64_t device)
{
	struct iss *s = sv->iss;
	struct iss_resp r = { 0, NULL };
	struct isdb_rows rows;
	uint8_t h[32];
	char bh[65], st[8], now[24], *text = NULL;
	int rc;

	EVP_Digest(body, blen, h, NULL, EVP_sha256(), NULL);
	hce_iss_hex(h, sizeof(h), bh);
	if (isdb_begin(s->db))
		goto dbfail;
	if (isdb_exec(s->db, "SELECT body_hash, status, response FROM requests WHERE principal = $1"
		      " AND request_id = $2", 2, (const char *const[]){ principal, reqid }, &rows))
		goto dbfail_rb;
	if (rows.n_rows == 1) {
		int same = !strcmp(isdb_val(&rows, 0, 0), bh);

		isdb_rollback(s->db);
		if (same)
			send_json(req, (int)strtol(isdb_val(&rows, 0, 1), NULL, 10),
				  isdb_val(&rows, 0, 2));
		else
			send_err(req, 409, "replay_conflict",
				 "request id already used with a different body");
		isdb_rows_free(&rows);
		return;
	}
	isdb_rows_free(&rows);
	if (!strcmp(path, "/v1/enrol"))
		rc = iss_enrol(s, j, &r);
	else if (!strcmp(path, "/v1/token/renew"))
		rc = iss_renew(s, device, j, &r);
	else if (!strcmp(path, "/v1/wallet/sync"))
		rc = iss_wallet_sync(s, device, j, &r);
	else if (!strcmp(path, "/v1/wallet/load/mac2"))
		rc = iss_load_mac2(s, device, j, &r);
	else if (!strcmp(path, "/v1/wallet/load/confirm"))
		rc = iss_load_confirm(s, device, j, &r);
	else
		rc = iss_terminal_batch(s, principal + 5, j, &r);
	if (rc || r.status >= 300) {
		isdb_rollback(s->db);
		send_resp(req, &r);
		return;
	}
	text = json_dumps(r.body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(r.body);
	r.body = NULL;
	if (!text)
		goto dbfail_rb;
	snprintf(st, sizeof(st), "%d", r.status);
	snprintf(now, sizeof(now), "%" PRId64, iss_now());
	if (isdb_exec(s->db, "INSERT INTO requests (principal, request_id, body_hash, status,"
		      " response, created) VALUES ($1, $2, $3, $4, $5, $6)", 6,
		      (const char *const[]){ principal, reqid, bh, st, text, now }, NULL) ||
	    isdb_commit(s->db))
		goto dbfail_rb;
	send_json(req, r.status, text);
	free(text);
	return;
dbfail_rb:
	fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
	isdb_rollback(s->db);
	free(text);
	send_err(req, 500, "internal", "database error");
	return;
dbfail:
	fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
	send_err(req, 500, "internal", "database error");
}

static void waiter_closed(struct evhttp_connection *con, void *arg)
{
	struct srv *sv = arg;
	struct waiter **pp;

	for (pp = &sv->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->con == con) {
			struct waiter *w = *pp;

			*pp = w->next;
			free(w);
			return;
		}
	}
}

static void loads_get(struct srv *sv, struct evhttp_request *req, int64_t device)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *q = evhttp_uri_get_query(u), *serial, *wait;
	struct evkeyvalq kv;
	struct iss_resp r = { 0, NULL };
	size_t count = 0;
	long w = 0;

	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(q ? q : "", &kv)) {
		send_err(req, 400, "bad_field", "query string malformed");
		return;
	}
	serial = evhttp_find_header(&kv, "serial");
	wait = evhttp_find_header(&kv, "wait");
	if (wait) {
		char *end;

		w = strtol(wait, &end, 10);
		if (end == wait || *end || w < 0 || w > (long)sv->iss->conf.long_poll_max) {
			evhttp_clear_headers(&kv);
			send_err(req, 400, "bad_field", "query 'wait': seconds 0..long-poll-max");
			return;
		}
	}
	if (iss_pending_loads(sv->iss, device, serial, &r, &count) || count || !w) {
		evhttp_clear_headers(&kv);
		send_resp(req, &r);
		return;
	}
	json_decref(r.body);
	struct waiter *wt = calloc(1, sizeof(*wt));

	if (!wt) {
		evhttp_clear_headers(&kv);
		send_err(req, 500, "internal", "out of memory");
		return;
	}
	wt->req = req;
	wt->con = evhttp_request_get_connection(req);
	wt->device = device;
	snprintf(wt->serial, sizeof(wt->serial), "%s", serial);
	wt->deadline = iss_now() + w;
	wt->next = sv->waiters;
	sv->waiters = wt;
	evhttp_connection_set_closecb(wt->con, waiter_closed, sv);
	evhttp_clear_headers(&kv);
}

static void tick(evutil_socket_t fd, short ev, void *arg)
{
	struct srv *sv = arg;
	struct waiter **pp = &sv->waiters;
	int64_t now = iss_now();

	while (*pp) {
		struct waiter *w = *pp;
		struct iss_resp r = { 0, NULL };
		size_t count = 0;

		if (iss_pending_loads(sv->iss, w->device, w->serial, &r, &count) || count ||
		    now >= w->deadline) {
			*pp = w->next;
			evhttp_connection_set_closecb(w->con, NULL, NULL);
			send_resp(w->req, &r);
			free(w);
			continue;
		}
		json_decref(r.body);
		pp = &w->next;
	}
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct srv *sv = arg;
	struct iss *s = sv->iss;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(u);
	const char *key, *reqid, *tm, *sig, *ctype;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t blen = evbuffer_get_length(in);
	char principal[96], *sstr = NULL;
	uint8_t *body = NULL;
	EVP_PKEY *pub = NULL;
	json_t *j = NULL;
	int64_t device = 0, t;
	int is_post = cmd == EVHTTP_REQ_POST, v;

	if (!path)
		path = "";
	if (blen > s->conf.max_body) {
		send_err(req, 413, "too_large", "request body over the size limit");
		return;
	}
	if (!strcmp(path, "/v1/health")) {
		send_json(req, 200, "{\"ok\":true}");
		return;
	}
	if (strcmp(path, "/v1/enrol") && strcmp(path, "/v1/token/renew") &&
	    strcmp(path, "/v1/wallet/sync") && strcmp(path, "/v1/wallet/loads") &&
	    strcmp(path, "/v1/wallet/load/mac2") && strcmp(path, "/v1/wallet/load/confirm") &&
	    strcmp(path, "/v1/terminal/batch") && strcmp(path, "/v1/denylist")) {
		send_err(req, 404, "not_found", "no such endpoint");
		return;
	}
	if ((!strcmp(path, "/v1/wallet/loads") || !strcmp(path, "/v1/denylist")) ?
	    cmd != EVHTTP_REQ_GET : !is_post) {
		send_err(req, 405, "method", "method not allowed for this endpoint");
		return;
	}
	key = hdr(req, "X-HCE-Key");
	reqid = hdr(req, "X-HCE-Request-Id");
	tm = hdr(req, "X-HCE-Time");
	sig = hdr(req, "X-HCE-Signature");
	if (!key || !reqid || !tm || !sig || strlen(key) > 64) {
		send_err(req, 401, "unauthenticated",
			 "X-HCE-Key, X-HCE-Request-Id, X-HCE-Time and X-HCE-Signature required");
		return;
	}
	if (!hce_iss_reqid_ok(reqid)) {
		send_err(req, 400, "bad_request_id", "X-HCE-Request-Id: 1..64 of [A-Za-z0-9._-]");
		return;
	}
	{
		char *end;

		t = strtoll(tm, &end, 10);
		if (end == tm || *end || t < iss_now() - 300 || t > iss_now() + 300) {
			send_err(req, 401, "stale", "X-HCE-Time is not within 300 s of the issuer clock");
			return;
		}
	}
	body = malloc(blen + 1);
	if (!body) {
		send_err(req, 500, "internal", "out of memory");
		return;
	}
	evbuffer_copyout(in, body, blen);
	body[blen] = '\0';
	if (is_post) {
		json_error_t je;

		ctype = hdr(req, "Content-Type");
		if (!ctype || strncmp(ctype, "application/json", 16)) {
			send_err(req, 415, "bad_content_type", "Content-Type: application/json required");
			goto out;
		}
		j = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(j)) {
			char m[200];

			snprintf(m, sizeof(m), "body: a JSON object required (%s)",
				 j ? "not an object" : je.text);
			send_err(req, 400, "bad_json", m);
			goto out;
		}
	}
	sstr = hce_iss_sign_string(is_post ? "POST" : "GET", uri, key, reqid, tm, body, blen);
	if (!sstr) {
		send_err(req, 500, "internal", "out of memory");
		goto out;
	}
	if (!strcmp(key, "enrol")) {
		const char *sp = json_string_value(json_object_get(json_object_get(j, "device"),
								   "sign_pub"));
		uint8_t der[256], h[32];
		size_t n = sp ? strlen(sp) / 2 : 0;
		char hh[65];

		if (strcmp(path, "/v1/enrol")) {
			send_err(req, 401, "unauthenticated", "X-HCE-Key 'enrol' is for /v1/enrol only");
			goto out;
		}
		if (!n || n > sizeof(der) || hce_iss_hex_exact(sp, der, n) ||
		    !(pub = hce_iss_pub_from_der(der, n))) {
			send_err(req, 400, "bad_field",
				 "field 'device.sign_pub': hex DER P-256 public key required");
			goto out;
		}
		EVP_Digest(der, n, h, NULL, EVP_sha256(), NULL);
		hce_iss_hex(h, 16, hh);
		snprintf(principal, sizeof(principal), "enrol:%s", hh);
	} else {
		pub = iss_principal_key(s, key, &device);
		if (!pub) {
			send_err(req, 401, "unauthenticated", "unknown X-HCE-Key");
			goto out;
		}
		snprintf(principal, sizeof(principal), "%s", key);
	}
	v = hce_iss_verify(pub, sstr, sig);
	if (v != 1) {
		send_err(req, 401, "bad_signature", "X-HCE-Signature does not verify");
		goto out;
	}
	if (!strcmp(path, "/v1/denylist")) {
		struct iss_resp r = { 0, NULL };

		iss_denylist(s, &r);
		send_resp(req, &r);
		goto out;
	}
	if (!strcmp(path, "/v1/terminal/batch") ? strncmp(key, "term:", 5)
						 : (strcmp(path, "/v1/enrol") && !device)) {
		send_err(req, 403, "forbidden", "this endpoint is not for this kind of principal");
		goto out;
	}
	if (!strcmp(path, "/v1/wallet/loads"))
		loads_get(sv, req, device);
	else
		run_post(sv, req, principal, reqid, body, blen, j, path, device);
out:
	EVP_PKEY_free(pub);
	free(sstr);
	json_decref(j);
	free(body);
}

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	struct srv *sv = arg;
	SSL *ssl = SSL_new(sv->ctx);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static void on_signal(evutil_socket_t sig, short ev, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int iss_serve(struct iss *s)
{
	struct srv sv = { .iss = s };
	struct evhttp *http = NULL;
	struct event *tk = NULL, *sterm = NULL, *sint = NULL;
	struct timeval tv = { 0, 200000 };
	char host[128], *colon;
	long port;
	int ret = -1;

	snprintf(host, sizeof(host), "%s", s->conf.listen);
	colon = strrchr(host, ':');
	if (!colon || (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535) {
		fprintf(stderr, "hce-issuer: listen: host:port required\n");
		return -1;
	}
	*colon = '\0';
	if (!s->conf.cert[0] || !s->conf.key[0]) {
		fprintf(stderr, "hce-issuer: [issuer] cert and key are required to serve\n");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	sv.ctx = SSL_CTX_new(TLS_server_method());
	if (!sv.ctx || !SSL_CTX_set_min_proto_version(sv.ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate_chain_file(sv.ctx, s->conf.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(sv.ctx, s->conf.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(sv.ctx) != 1) {
		fprintf(stderr, "hce-issuer: TLS: cannot load %s / %s: %s\n", s->conf.cert,
			s->conf.key, ERR_reason_error_string(ERR_get_error()));
		goto out;
	}
	sv.base = event_base_new();
	http = sv.base ? evhttp_new(sv.base) : NULL;
	if (!http)
		goto out;
	evhttp_set_bevcb(http, bevcb, &sv);
	/* Bodies up to 4 x max-body reach the handler, which answers a JSON 413 past max-body;
	 * beyond that libevent itself refuses (with its own 413 page) without buffering more. */
	evhttp_set_max_body_size(http, (ev_ssize_t)(4 * s->conf.max_body));
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, (int)s->conf.long_poll_max + 30);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, handle, &sv);
	if (!evhttp_bind_socket_with_handle(http, host, (uint16_t)port)) {
		fprintf(stderr, "hce-issuer: cannot listen on %s\n", s->conf.listen);
		goto out;
	}
	tk = event_new(sv.base, -1, EV_PERSIST, tick, &sv);
	sterm = evsignal_new(sv.base, SIGTERM, on_signal, sv.base);
	sint = evsignal_new(sv.base, SIGINT, on_signal, sv.base);
	if (!tk || !sterm || !sint || event_add(tk, &tv) || event_add(sterm, NULL) ||
	    event_add(sint, NULL))
		goto out;
	fprintf(stderr, "hce-issuer: listening on https://%s\n", s->conf.listen);
	ret = event_base_dispatch(sv.base) < 0 ? -1 : 0;
	fprintf(stderr, "hce-issuer: stopped\n");
out:
	while (sv.waiters) {
		struct waiter *w = sv.waiters;

		sv.waiters = w->next;
		free(w);
	}
	if (tk)
		event_free(tk);
	if (sterm)
		event_free(sterm);
	if (sint)
		event_free(sint);
	if (http)
		evhttp_free(http);
	if (sv.base)
		event_base_free(sv.base);
	SSL_CTX_free(sv.ctx);
	return ret;
}
