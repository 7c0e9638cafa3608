/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vault.h - card keys sealed at rest, unsealed into locked memory with the holder's PIN.
 *
 * Design and threat model: Documentation/vault.md. In short:
 *   - the keys (struct hce_card_keys) are sealed with AES-256-GCM under
 *       KEK = HKDF-SHA256(scrypt(PIN, salt, N=2^log2n, r=8, p=1) || device secret,
 *                         salt, "linux-hce vault v1 keys")
 *     the device secret being 32 random bytes in a root-only file (mode 0600, created on
 *     first seal);
 *   - the sealed record lives in its own table (hce_vault) of the card's SQLite file, written
 *     in one transaction; the record and the wrong-PIN counter are authenticated with an HMAC
 *     key derived from the device secret, so tampering is told apart from a wrong PIN;
 *   - wrong PINs are counted persistently BEFORE each attempt is evaluated (killing the process
 *     mid-attempt still counts it), with a growing delay and a hard limit
 *     (HCE_VAULT_FREE_TRIES, HCE_VAULT_MAX_FAILURES, see hce_vault_delay());
 *   - unsealed keys and every intermediate secret sit in one mlock'ed, MADV_DONTDUMP page,
 *     wiped on lock and close;
 *   - optionally (HCE_VAULT_KEEP_PIN, the holder's choice) the PIN itself is kept, sealed under
 *     the device secret only: a weaker mode (whoever can read the device secret and the card
 *     file can unlock).
 * Nothing here logs; error messages (hce_vault_errmsg) never hold key or PIN material.
 *
 * Return contract (int functions): 0 on success or a negative errno:
 *   -EINVAL        bad argument (PIN length outside HCE_VAULT_PIN_MIN..MAX, bad config)
 *   -ENOENT        no sealed keys in this card file
 *   -EEXIST        hce_vault_seal() when keys are sealed already and HCE_VAULT_REPLACE not given
 *   -EACCES        wrong PIN (the attempt was counted)
 *   -EPERM         HCE_VAULT_MAX_FAILURES wrong PINs: locked out for good (re-personalise)
 *   -ENODATA       unlock without PIN but no PIN is kept on the device
 *   -ENOKEY        the device secret file is missing (on unlock) or unreadable
 *   -EKEYREJECTED  the device secret is not the one the keys were sealed with
 *   -EBADMSG       the sealed record or its counter was modified (authentication failed)
 *   -EPROTO        unsafe device secret file (not a regular file, not owned by us, group/other
 *                  access, wrong size)
 *   -ENOMEM        out of memory, or the secret page could not be locked (mlock)
 *   -EIO           SQLite or file I/O failure
 * A vault handle is used by one thread at a time.
 */
#ifndef HCE_VAULT_H
#define HCE_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "purse/keys.h"

#define HCE_VAULT_DEFAULT_SECRET "/var/lib/hce/device-secret"
#define HCE_VAULT_SECRET_LEN 32
#define HCE_VAULT_PIN_MIN 4
#define HCE_VAULT_PIN_MAX 64
#define HCE_VAULT_LOG2N_DEFAULT 15	/* scrypt N = 32768, r = 8, p = 1: 32 MiB */
#define HCE_VAULT_LOG2N_MIN 10		/* tests only; refused below */
#define HCE_VAULT_LOG2N_MAX 20
#define HCE_VAULT_FREE_TRIES 3		/* wrong PINs without delay */
#define HCE_VAULT_MAX_FAILURES 10	/* wrong PINs before the vault refuses for good */
#define HCE_VAULT_ERR_MAX 256

struct hce_vault_cfg {
	const char *device_secret;	/* path; NULL: HCE_VAULT_DEFAULT_SECRET */
	unsigned int log2n;		/* scrypt cost for hce_vault_seal(); 0: default */
	bool create_db;			/* create the SQLite file if missing (tests) */
	/* Test hooks (NULL: real clock / nanosleep). Seconds since the epoch, wall clock. */
	int64_t (*now)(void *ctx);
	void (*sleep)(void *ctx, unsigned int seconds);
	void *hook_ctx;
};

struct hce_vault_info {
	bool sealed;		/* keys are sealed in this file */
	bool pin_kept;		/* the PIN is kept on the device (weaker mode) */
	uint32_t failures;	/* consecutive wrong PINs so far */
	unsigned int delay;	/* seconds the next attempt will wait (from now) */
	bool locked_out;	/* failures >= HCE_VAULT_MAX_FAILURES */
	unsigned int log2n;
};

struct hce_vault;

/*
 * Open the vault table in the card's SQLite file at db_path (created when missing only with
 * cfg->create_db). cfg may be NULL (defaults). The device secret is read when needed.
 * On failure *out is NULL and errbuf (HCE_VAULT_ERR_MAX bytes, may be NULL) says why.
 */
int hce_vault_open(const char *db_path, const struct hce_vault_cfg *cfg,
		   struct hce_vault **out, char *errbuf);

/* Lock (wipe keys), unlock the page, close the database, free. NULL is a no-op. */
void hce_vault_close(struct hce_vault *v);

/* The last failure, one line, never a secret ("" when none). */
const char *hce_vault_errmsg(const struct hce_vault *v);

#define HCE_VAULT_REPLACE 0x1	/* seal over existing sealed keys (resets the counter) */
#define HCE_VAULT_KEEP_PIN 0x2	/* also keep the PIN, sealed under the device secret only */

/*
 * Seal keys under pin (pin_len bytes, HCE_VAULT_PIN_MIN..MAX, any bytes) and the device secret
 * (created, mode 0600, if the file does not exist), in one transaction. The wrong-PIN counter
 * starts at 0. The vault stays locked (call hce_vault_unlock to use the keys).
 */
int hce_vault_seal(struct hce_vault *v, const struct hce_card_keys *keys, const char *pin,
		   size_t pin_len, unsigned int flags);

/*
 * Unlock with pin, or with the kept PIN when pin is NULL. Waits (cfg->sleep) the delay the
 * schedule asks for, counts the attempt persistently, then tries it; on success the counter
 * returns to 0 and hce_vault_keys() gives the keys.
 */
int hce_vault_unlock(struct hce_vault *v, const char *pin, size_t pin_len);

/* The unsealed keys (in locked memory, owned by the vault), or NULL while locked. */
const struct hce_card_keys *hce_vault_keys(const struct hce_vault *v);

/* Wipe the unsealed keys; hce_vault_keys() returns NULL afterwards. */
void hce_vault_lock(struct hce_vault *v);

/* State for status displays. 0 or negative errno (-EBADMSG when the counter was modified). */
int hce_vault_info(struct hce_vault *v, struct hce_vault_info *info);

/*
 * Delay in seconds before the next attempt after `failures` consecutive wrong PINs:
 * 0 for failures < HCE_VAULT_FREE_TRIES, then 1, 2, 4, ... 2^(failures-3) (64 s after 9);
 * at HCE_VAULT_MAX_FAILURES no attempt is allowed at all (-EPERM).
 */
unsigned int hce_vault_delay(uint32_t failures);

/*
 * Read a PIN: the first line of a file (fd >= 0: from that descriptor, else from path),
 * without its newline. pin has room for HCE_VAULT_PIN_MAX + 1 bytes. Returns the length, or a
 * negative errno (-EINVAL: empty, too short or too long; -EIO/-ENOENT...). Buffers wiped.
 */
int hce_vault_read_pin(const char *path, int fd, char *pin);

#endif /* HCE_VAULT_H */
