/* SPDX-License-Identifier: GPL-2.0 */
/*
 * psam.h - the PSAM role in software: issuer master keys, card key diversification and the
 * MAC/TAC computations of purchase, compound purchase and load (../shared/spec/epurse.md
 * "Cryptography"). No I/O except hce_psam_load() reading the key file.
 *
 * Card keys are diversified from the issuer master keys with the application serial's last
 * 8 bytes as factor (hce_diversify), one level, the algorithm named per key.
 *
 * A master key is either in the file in clear ("master = ...", test and demo keys) or a
 * CKK_DES2 object in a PKCS#11 token named by the file's [pkcs11] section ("label = ...",
 * Documentation/psam.md): the token then diversifies the card key itself (hce_hsm_diversify,
 * CKM_DES3_ECB over f || ~f, the issuer's construction) and the master key value never
 * enters this process. The token is opened on first use (or by hce_psam_open_token()) and
 * closed by hce_psam_wipe(). A PSAM with a [pkcs11] section need not have a [tac-key]: the
 * TAC master key stays with the issuer, who verifies TACs at clearing (term.c then records
 * the TAC as "ok-tac-unverified").
 *
 * Contract for int-returning functions: 0 on success, -1 on failure (bad argument, missing
 * key, crypto error); hce_psam_verify_*() return 1 when the MAC/TAC matches, 0 when it does
 * not, -1 on error. Every comparison is constant time (hce_ct_equal). Secrets that pass
 * through locals are wiped before return.
 */
#ifndef HCE_TERMINAL_PSAM_H
#define HCE_TERMINAL_PSAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "purse/keys.h"

#define HCE_TERMINAL_ID_LEN 6
#define HCE_SERIAL_LEN 10

/* Transaction types (EF 0018 and the MAC/TAC inputs). */
#define HCE_TX_LOAD 0x02
#define HCE_TX_PURCHASE 0x06
#define HCE_TX_CAPP 0x09

#define HCE_PSAM_LABEL_MAX 64	/* CKA_LABEL of a master key in the token, with its NUL */

struct hce_psam_key {
	bool present;
	bool in_token;		/* the master key is the token object 'label', mk unused */
	uint8_t index;		/* key index sent to the card */
	uint8_t version;	/* key version the card must report (0: not checked) */
	uint8_t alg;		/* enum hce_alg (always 3DES when in_token) */
	uint8_t mk[HCE_KEY_LEN];	/* issuer master key (clear key files) */
	char label[HCE_PSAM_LABEL_MAX];	/* token key label (in_token) */
};

/* The [pkcs11] section and the open token (psam.c); allocated when the file names one. */
struct hce_psam_token;

struct hce_psam {
	bool has_issuer;
	uint8_t issuer[8];		/* when set: cards of other issuers are refused */
	bool has_terminal_id;
	uint8_t terminal_id[HCE_TERMINAL_ID_LEN];	/* default terminal number */
	struct hce_psam_key purchase[HCE_KEY_SLOTS];	/* master purchase keys (MPK) */
	struct hce_psam_key load[HCE_KEY_SLOTS];	/* master load keys (MLK) */
	struct hce_psam_key tac;			/* master TAC key (MTK) */
	uint8_t purchase_index;		/* key index used for purchases (first present) */
	uint8_t load_index;		/* key index used for loads (first present) */
	struct hce_psam_token *token;	/* NULL: no [pkcs11] section */
};

/*
 * Load a PSAM key file (format in Documentation/terminal.md; parsed with profile/conf.h).
 * On failure returns -1 with a message "file:line: what" in err (never a key value).
 */
int hce_psam_load(struct hce_psam *psam, const char *path, char *err, size_t errlen);

/* Same, from text in memory (name used in messages). */
int hce_psam_parse(struct hce_psam *psam, const char *name, const char *text, size_t len,
		   char *err, size_t errlen);

/* Close the token (if open), free it and wipe every key. */
void hce_psam_wipe(struct hce_psam *psam);

/*
 * Open the [pkcs11] token now (log in with the PIN read from pin-file, wiped right after)
 * and check that every key slot with a label finds its key there. 0 when done or when the
 * file names no token; -1 with a message naming the module, token or label (never the PIN)
 * in err. hce_psam_card_keys() does the same on first use when this was not called.
 */
int hce_psam_open_token(const struct hce_psam *psam, char *err, size_t errlen);

/*
 * The [pkcs11] token's handle (opened and logged in now if not yet, WITHOUT the key check
 * of hce_psam_open_token: for the key ceremony, hce-psam), owned by psam until
 * hce_psam_wipe(). NULL with a message in err when the file names no token or it fails.
 */
struct hce_hsm;
struct hce_hsm *hce_psam_token_hsm(const struct hce_psam *psam, char *err, size_t errlen);

/* The token label of the [pkcs11] section ("" when none). */
const char *hce_psam_token_name(const struct hce_psam *psam);

/* Why the last token operation failed ("" when none). */
const char *hce_psam_error(const struct hce_psam *psam);

/* The master key slot for a key index, or NULL. */
const struct hce_psam_key *hce_psam_purchase_key(const struct hce_psam *psam, uint8_t index);
const struct hce_psam_key *hce_psam_load_key(const struct hce_psam *psam, uint8_t index);

/*
 * The card's keys (as the purse holds them) for an application serial: every present master
 * key diversified with serial[2..9] (in the token for keys with a label; the token is
 * opened here on first use). The caller wipes *out (hce_card_keys_wipe). -1 on failure,
 * for a token the reason in hce_psam_error().
 */
int hce_psam_card_keys(const struct hce_psam *psam, const uint8_t serial[HCE_SERIAL_LEN],
		       struct hce_card_keys *out);

/* A session: the key material of one transaction. Wipe with hce_psam_session_wipe(). */
struct hce_psam_session {
	uint8_t alg;
	uint8_t ses[16];	/* session key (8 bytes for alg 00, 16 for 04) */
	size_t ses_len;
	bool has_tac;		/* false: no DTK (token PSAM): the TAC is not verified here */
	uint8_t tac_alg;	/* algorithm of the TAC key (the DTK's own) */
	uint8_t tac[16];	/* TAC key */
	size_t tac_len;
};

void hce_psam_session_wipe(struct hce_psam_session *s);

/*
 * Purchase or compound purchase session from the card key slot (DPK) and the DTK slot:
 * SESPK = E_DPK(random(4) || CTC(2) || TTC[2..3]) with the DPK's algorithm; the TAC key is
 * derived from the DTK with the DTK's own algorithm (hce_tac_key). When the DTK slot is
 * absent (a PSAM without [tac-key]) the session has no TAC key (has_tac false) and the TAC
 * functions below return -1.
 */
int hce_psam_purchase_session(struct hce_psam_session *s, const struct hce_key_slot *dpk,
			      const struct hce_key_slot *dtk, const uint8_t random[4],
			      uint16_t ctc, uint32_t ttc);

/* Load session: SESLK = E_DLK(random(4) || online counter(2) || 8000). */
int hce_psam_load_session(struct hce_psam_session *s, const struct hce_key_slot *dlk,
			  const struct hce_key_slot *dtk, const uint8_t random[4],
			  uint16_t online_ctr);

/* Purchase MAC1 = MAC_SES(amount | type | terminal | date | time); type 06 or 09. */
int hce_psam_purchase_mac1(const struct hce_psam_session *s, uint32_t amount, uint8_t type,
			   const uint8_t terminal[6], const uint8_t date[4], const uint8_t time[3],
			   uint8_t mac1[4]);

/* Purchase MAC2 = MAC_SES(amount): 1 when mac2 matches. */
int hce_psam_verify_purchase_mac2(const struct hce_psam_session *s, uint32_t amount,
				  const uint8_t mac2[4]);

/* Purchase TAC = MAC_TAC(amount | type | terminal | TTC | date | time) computed into tac. */
int hce_psam_purchase_tac(const struct hce_psam_session *s, uint32_t amount, uint8_t type,
			  const uint8_t terminal[6], uint32_t ttc, const uint8_t date[4],
			  const uint8_t time[3], uint8_t tac[4]);
int hce_psam_verify_purchase_tac(const struct hce_psam_session *s, uint32_t amount,
				 uint8_t type, const uint8_t terminal[6], uint32_t ttc,
				 const uint8_t date[4], const uint8_t time[3],
				 const uint8_t tac[4]);

/* Load MAC1 (card -> terminal) = MAC_SES(old balance | amount | 02 | terminal): 1 if valid. */
int hce_psam_verify_load_mac1(const struct hce_psam_session *s, uint32_t old_balance,
			      uint32_t amount, const uint8_t terminal[6], const uint8_t mac1[4]);

/* Load MAC2 (terminal -> card) = MAC_SES(amount | 02 | terminal | date | time). */
int hce_psam_load_mac2(const struct hce_psam_session *s, uint32_t amount,
		       const uint8_t terminal[6], const uint8_t date[4], const uint8_t time[3],
		       uint8_t mac2[4]);

/*
 * Load TAC = MAC_TAC(new balance | online counter before increment | amount | 02 | terminal |
 * date | time): 1 if valid.
 */
int hce_psam_verify_load_tac(const struct hce_psam_session *s, uint32_t new_balance,
			     uint16_t online_ctr, uint32_t amount, const uint8_t terminal[6],
			     const uint8_t date[4], const uint8_t time[3], const uint8_t tac[4]);

#endif /* HCE_TERMINAL_PSAM_H */
