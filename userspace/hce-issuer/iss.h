/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iss.h - hce-issuer internals: configuration, the operations (core.c) shared by the HTTPS
 * service (server.c) and the admin subcommands (main.c).
 */
#ifndef HCE_ISSUER_ISS_H
#define HCE_ISSUER_ISS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hsm/hsm.h"
#include "isdb/isdb.h"
#include "issuer/issuer.h"

/* Purchase master keys: "hce-mk-dpk-<index>", index = key version ([hsm] purchase-key). */
#define ISS_MK_DPK_FMT "hce-mk-dpk-%u"
#define ISS_MK_DLK "hce-mk-dlk-1"
#define ISS_MK_DTK "hce-mk-dtk"

struct iss_conf {
	char database[512];
	char listen[128];
	char cert[256], key[256];
	uint64_t token_validity;	/* seconds */
	uint64_t max_body;
	uint64_t long_poll_max;		/* seconds */
	uint8_t issuer_id[8];
	uint8_t serial_prefix[2];
	uint8_t load_terminal[6];
	uint64_t cap_amount, cap_count, max_balance;
	char hsm_module[256], hsm_token[64], hsm_pin[128];
	uint64_t purchase_key;		/* key index (= version) of new tokens' DPK, 1..255 */
};

struct iss {
	struct iss_conf conf;
	struct isdb *db;
	struct hce_hsm *hsm;
};

/* A response: HTTP status and a JSON body (owned). */
struct iss_resp {
	int status;
	json_t *body;
};

int iss_conf_load(const char *path, struct iss_conf *c, char *err, size_t errlen);
int iss_open(struct iss *s, const char *conf_path, int with_hsm);
void iss_close(struct iss *s);

/* Set r to an error response (always returns -1 for convenience). */
int iss_error(struct iss_resp *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

int64_t iss_now(void);
int64_t iss_new_id(void);

/*
 * Operations run inside a database transaction opened by the caller; a 4xx/5xx result means
 * the caller rolls back. principal: "dev:<id>", "term:<hex>".
 */
int iss_enrol(struct iss *s, const json_t *body, struct iss_resp *r);
int iss_renew(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r);
int iss_wallet_sync(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r);
int iss_load_mac2(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r);
int iss_load_confirm(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r);
int iss_terminal_batch(struct iss *s, const char *terminal, const json_t *body,
		       struct iss_resp *r);
/* Read-only. */
int iss_pending_loads(struct iss *s, int64_t device, const char *serial, struct iss_resp *r,
		      size_t *count);
int iss_denylist(struct iss *s, struct iss_resp *r);

/* Admin operations (each its own transaction); print results on stdout. 0 or -1. */
int iss_admin_init(struct iss *s);
int iss_admin_account_create(struct iss *s, const char *name, int64_t cap_amount,
			     int64_t cap_count, int64_t overdraft, int64_t max_balance);
int iss_admin_enrol_code(struct iss *s, int64_t account);
int iss_admin_topup(struct iss *s, int64_t account, int64_t amount, const char *request_id);
int iss_admin_revoke(struct iss *s, const char *serial, const char *reason);
int iss_admin_show(struct iss *s, int64_t account);
int iss_admin_terminal_add(struct iss *s, const char *id, const char *pem_path,
			   const char *name);
int iss_admin_discrepancies(struct iss *s);
int iss_admin_reconcile(struct iss *s);

/*
 * psam-export (psam.c, Documentation/psam.md): wrap the purchase master key label under the
 * terminal token's RSA public key (PEM file), imported as a trusted wrapping key by the
 * Security Officer (PIN in so_pin_file) and deleted afterwards; write the blob to out.
 * Reads the config itself (no database). 0 or -1 (message on stderr).
 */
int iss_psam_export(const char *conf_path, const char *pubkey_path, const char *label,
		    const char *so_pin_file, const char *out);

/* Resolve a principal's public key (DER hex in the DB). NULL when unknown. */
EVP_PKEY *iss_principal_key(struct iss *s, const char *principal, int64_t *device);

#endif /* HCE_ISSUER_ISS_H */
