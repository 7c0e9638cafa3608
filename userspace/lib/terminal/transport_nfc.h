/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transport_nfc.h - the terminal over a kernel NFC reader device (Linux NFC core): the "nfc"
 * generic netlink family to power the reader and poll for a card, an AF_NFC SOCK_SEQPACKET /
 * NFC_SOCKPROTO_RAW socket to exchange APDUs (both through lib/nfcnl, nfcnl/reader.h). All
 * netlink use of the terminal is in transport_nfc.c. Documentation/terminal.md ("Kernel
 * reader") has the details.
 *
 * Card session: START_POLL (IM_PROTOCOLS = ISO14443) -> NFC_EVENT_TARGETS_FOUND for the
 * reader (bounded by present_ms: "present the card") -> target index from
 * NFC_CMD_GET_TARGET -> connect the raw socket. A field loss or a failed exchange (-ETIMEDOUT,
 * -ENOLINK, -ECONNRESET, -EIO, EOF) ends the session: transmit() then fails with -EIO (or
 * -ETIMEDOUT) until reset(), which closes the socket and polls again (the card presented
 * again). The virtual pairs' link options and the pair list (nfc_hce family) are reached
 * through the same file for tests, benchmarks and the demo.
 */
#ifndef HCE_TERMINAL_TRANSPORT_NFC_H
#define HCE_TERMINAL_TRANSPORT_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "terminal/transport.h"

struct hce_term_nfc_opts {
	const char *reader;	/* "nfcN", an index, or NULL: the first virtual pair's reader,
				 * else the first nfc device that is not a card device */
	int present_ms;		/* wait for a card per poll (0: 10000) */
	int timeout_ms;		/* answer timeout per APDU (0: 5000) */
	uint32_t field_loss_once; /* fault injection on a virtual pair: field lost at frame N
				   * of the first activation only (0: none) */
};

/* 0, -ENODEV (no reader, no card presented in time), -EIO, or a setup errno; t->err says. */
int hce_term_transport_nfc(struct hce_term_transport *t, const struct hce_term_nfc_opts *o);

/* Whether the field_loss_once fault hit an exchange or an activation (so far). */
bool hce_term_nfc_fault_fired(const struct hce_term_transport *t);

/* Reader index the transport uses (after a successful open). */
uint32_t hce_term_nfc_reader_index(const struct hce_term_transport *t);

/* One virtual pair (nfc_hce GET_DEVICE + GET_STATS). */
struct hce_term_nfc_pair {
	uint32_t card;
	uint32_t reader;	/* UINT32_MAX: not a virtual pair */
	uint8_t bound;
	uint8_t listening;
	uint32_t bitrate;
	uint32_t field_loss_after;
	uint32_t drop_every;
	uint64_t activations;
	uint64_t capdus;
	uint64_t field_losses;
	uint64_t deadline_expiries;
	uint64_t frames;
	uint64_t retransmissions;
};

/* Every card device of nfc_hce (up to max) into p; count in *n. 0 or negative errno. */
int hce_term_nfc_pairs(struct hce_term_nfc_pair *p, size_t max, size_t *n, char *err,
		       size_t errlen);

/* Link options of the pair of reader (as in opts.reader); a negative value keeps one. */
struct hce_term_nfc_link {
	int64_t bitrate;
	int64_t field_loss_after;
	int64_t drop_every;
};
int hce_term_nfc_link_set(const char *reader, const struct hce_term_nfc_link *l, char *err,
			  size_t errlen);

int hce_term_nfc_pair_create(uint32_t *card, uint32_t *reader, char *err, size_t errlen);
int hce_term_nfc_pair_destroy(uint32_t card, char *err, size_t errlen);

#endif /* HCE_TERMINAL_TRANSPORT_NFC_H */
