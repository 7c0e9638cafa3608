/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wallet.h - the wallet side of hce-issuer's protocol (Documentation/issuer-protocol.md,
 * Documentation/wallet.md): enrolment, token install into the card store + vault, wallet
 * sync (upload the outbox, receive balance and cap), issuer-initiated loads (long poll,
 * INITIALIZE/CREDIT FOR LOAD with the issuer's MAC2, confirm), renewal.
 *
 * Transport: libcurl (OpenSSL), the issuer's certificate pinned (CURLOPT_CAINFO = that one
 * certificate, nothing else trusted). Requests are signed with the device's ECDSA P-256 key
 * (lib/issuer hce_iss_sign); the device keys are kept in the wallet directory as encrypted
 * PKCS#8 (AES-256-CBC, PBKDF2) under a passphrase derived from the vault's device secret.
 *
 * Wallet directory (mode 0700): device-sign.pem, device-seal.pem, wallet.json (device id,
 * account, token serial/validity, request sequence, a load awaiting confirmation), written
 * by rename() of an fsync()ed temporary file.
 *
 * Return contract: 0 on success, negative errno on failure, the reason in
 * hce_wallet_errmsg(): -EINVAL bad argument, -ENOENT not enrolled, -EIO transport failure
 * (the request may be retried: request ids make retries safe), -EPROTO a response that does
 * not follow the protocol, -EACCES the issuer refused (HTTP 4xx: its error code in the
 * message), -EKEYREJECTED token keys do not open or do not fit the card, store/vault errors
 * pass through.
 */
#ifndef HCE_WALLET_H
#define HCE_WALLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

#define HCE_WALLET_ERR_MAX 256
#define HCE_WALLET_MAX_UPLOAD 1000	/* records per sync (protocol limit) */

struct hce_wallet_cfg {
	const char *url;		/* https://host:port of hce-issuer */
	const char *cacert;		/* the issuer's certificate (pinned) */
	const char *dir;		/* wallet directory (created 0700) */
	const char *card;		/* the card's SQLite file (store + vault) */
	const char *profile;		/* card profile supplying AID, EF 0016/0017 (token install) */
	const char *device_secret;	/* vault device secret; NULL: HCE_VAULT_DEFAULT_SECRET */
	unsigned int log2n;		/* vault scrypt cost (0: default) */
	long timeout;			/* seconds per request (0: 30) */
	long renew_margin;		/* renew when fewer seconds than this remain (0: 4 h) */
};

struct hce_wallet;
struct hce_conf;

/*
 * Read the wallet config file (section [wallet]: url, cacert, dir, card required; profile,
 * device-secret, scrypt-log2n, timeout, renew-margin optional; unknown keys refused). The
 * strings in cfg point into c: free c (hce_conf_free) after the wallet is closed. 0 or
 * -EINVAL with the reason in err.
 */
int hce_wallet_cfg_load(const char *path, struct hce_conf *c, struct hce_wallet_cfg *cfg,
			char *err, size_t errlen);

int hce_wallet_open(const struct hce_wallet_cfg *cfg, struct hce_wallet **out, char *errbuf);
void hce_wallet_close(struct hce_wallet *w);
const char *hce_wallet_errmsg(const struct hce_wallet *w);

/*
 * Enrol: make the device key pairs (kept encrypted in the wallet directory), send the
 * enrolment code, install the token: the card is personalised from the profile with the
 * token's EF 0015, balance, max balance and overdraft (HCE_STORE_REPLACE over an existing
 * card), the keys unsealed with the device key and resealed in the vault under pin, the
 * offline cap and validity set in the store.
 */
int hce_wallet_enrol(struct hce_wallet *w, const char *code, const char *pin, size_t pin_len,
		     bool keep_pin);

struct hce_wallet_status {
	bool enrolled;
	char device_id[24], account_id[24];
	char serial[21];
	int64_t not_before, not_after;
	char state[12];			/* active | revoked | expired (last sync), "" unknown */
	int32_t card_balance;		/* signed: negative in the overdraft */
	struct {
		uint32_t cap_amount, cap_count, spent, count;
	} offline;
	size_t outbox;			/* records not yet acknowledged by the issuer */
	int64_t last_sync;		/* Unix time of the last successful sync, 0 never */
	int64_t account_balance;	/* as the issuer reported it at the last sync */
	int64_t expected_balance;	/* card balance the issuer expected at the last sync */
	char pending_load[24];		/* a load credited on the card, confirmation pending */
};

int hce_wallet_status(struct hce_wallet *w, struct hce_wallet_status *s);

struct hce_wallet_sync {
	size_t uploaded, acknowledged;	/* records sent, records accepted or duplicate */
	size_t rejected;		/* bad_tac / invalid / mismatch: kept and reported */
	bool cap_restored;
	int64_t account_balance, expected_balance;
	int32_t card_balance;		/* signed: negative in the overdraft */
	bool discrepancy;		/* card balance differs from the issuer's expectation */
	char state[12];
	size_t pending_loads;
	bool renewed;			/* a new token was installed (hce_wallet_sync_renew) */
};

/*
 * Upload the outbox with the card balance; remove the acknowledged records and, when the
 * issuer restored the cap, set it (spent/count recounted from what is still unacknowledged)
 * in one store transaction. A revoked or expired token is stopped on the card (validity set
 * to the past: value commands answer 6A81). A pending load confirmation is retried first.
 */
int hce_wallet_sync(struct hce_wallet *w, struct hce_wallet_sync *r);

/*
 * Renew the token when it is within renew_margin of not_after (or force), after a sync that
 * left the outbox empty: the new token is installed as at enrolment (needs the PIN).
 * 1 renewed, 0 not due, negative errno.
 */
int hce_wallet_renew(struct hce_wallet *w, const char *pin, size_t pin_len, bool force);

/*
 * Issuer-initiated loads: long-poll up to wait seconds (0..60); each pending load is put on
 * the card through app (the purse, keys unlocked): SELECT, INITIALIZE FOR LOAD, the issuer's
 * MAC2, CREDIT FOR LOAD, then confirmed with the card's TAC. *loaded receives the number of
 * loads applied and *amount their sum (either may be NULL).
 */
int hce_wallet_loads(struct hce_wallet *w, struct hce_app *app, unsigned int wait,
		     unsigned int *loaded, uint32_t *amount);

/* Parse a TOKEN object's public part (no keys): for the fuzzers and tests. */
struct hce_wallet_token {
	uint8_t serial[10];
	uint8_t ef0015[30];
	int64_t not_before, not_after;
	int64_t balance;		/* -overdraft..min(max_balance, 2^31 - 1) */
	uint32_t max_balance, overdraft;
	uint32_t cap_amount, cap_count;
};
int hce_wallet_token_parse(const char *json, size_t len, struct hce_wallet_token *t,
			   char *why, size_t whylen);

/* Parse a sync response (results counted by kind); for fuzzers and tests. */
struct hce_wallet_sync_rsp {
	int64_t account_balance, expected_balance;
	uint32_t cap_amount, cap_count;
	bool cap_restored;
	char state[12];
	size_t n_results;
	uint8_t result[HCE_WALLET_MAX_UPLOAD];	/* 1 ack, 2 rejected, by index; 0 missing */
	size_t pending_loads;
};
int hce_wallet_sync_rsp_parse(const char *json, size_t len, size_t n_sent,
			      struct hce_wallet_sync_rsp *r, char *why, size_t whylen);

#endif /* HCE_WALLET_H */
