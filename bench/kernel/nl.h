/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h: the netlink side of the APDU round-trip benchmark (all libnl use
 * lives in nl.c): the standard "nfc" family for device control and events,
 * and the "nfc_hce" family for the virtual pair and the card owner.
 *
 * Every function returns 0 or a negative errno; nothing is printed except
 * through the caller.
 */
#ifndef BENCH_NL_H
#define BENCH_NL_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

struct bnl;

/* Opens the control socket and the "nfc" event socket; resolves both families. */
int bnl_open(struct bnl **out);
void bnl_close(struct bnl *b);

/* nfc_hce: create / destroy a virtual card+reader pair. */
int bnl_vpair_create(struct bnl *b, uint32_t *card, uint32_t *reader);
int bnl_vpair_destroy(struct bnl *b, uint32_t card);
/* nfc_hce: first existing card device with a paired reader (GET_DEVICE dump). */
int bnl_find_pair(struct bnl *b, uint32_t *card, uint32_t *reader);
/* nfc_hce: set the frame waiting time integer of a card device. */
int bnl_set_fwi(struct bnl *b, uint32_t card, uint8_t fwi);

/* nfc: power a device up / down, start polling (im/tm protocol masks). */
int bnl_dev_up(struct bnl *b, uint32_t idx);
int bnl_dev_down(struct bnl *b, uint32_t idx);
int bnl_start_poll(struct bnl *b, uint32_t idx, uint32_t im_protocols,
		   uint32_t tm_protocols);
/* nfc: wait for NFC_EVENT_TARGETS_FOUND on device @idx, then read the
 * target index with NFC_CMD_GET_TARGET. -ETIMEDOUT after @timeout_ms. */
int bnl_wait_target(struct bnl *b, uint32_t idx, int timeout_ms,
		    uint32_t *target_idx);

/*
 * The card owner: its own netlink socket bound to the card device with
 * NFC_HCE_CMD_BIND. bnl_owner_run() answers every C-APDU event with an
 * R-APDU of the same length: the first len - 2 bytes of the C-APDU, then
 * 90 00. It returns when *stop becomes non-zero (checked every 100 ms) or
 * on a socket error (negative errno).
 */
struct bnl_owner;

struct bnl_owner_stats {
	uint64_t capdus;	/* C-APDU events received */
	uint64_t responses;	/* R-APDUs sent */
	uint64_t nl_errors;	/* netlink error replies (e.g. -ESTALE) */
	uint64_t sessions;	/* SESSION_START events */
	uint64_t session_ends;	/* SESSION_END events */
	int last_error;		/* last netlink error, negative errno */
};

int bnl_owner_open(struct bnl_owner **out, uint32_t card);
int bnl_owner_run(struct bnl_owner *o, const atomic_int *stop);
void bnl_owner_stats(const struct bnl_owner *o, struct bnl_owner_stats *st);
void bnl_owner_close(struct bnl_owner *o);

#endif /* BENCH_NL_H */
