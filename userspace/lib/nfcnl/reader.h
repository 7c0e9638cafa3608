/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reader.h - the reader side of a kernel NFC device, one implementation for every userspace
 * reader (hce-terminal's kernel transport, the hce-pn532 bridge, the apdu-rtt benchmark, the
 * nfc_reader test tool): the per-reader lock, one activation (power up, poll, wait for the
 * target, take its index, connect an AF_NFC raw socket) and the raw socket itself.
 *
 * The raw socket (AF_NFC, SOCK_SEQPACKET, NFC_SOCKPROTO_RAW, ISO 14443) activates ISO-DEP on
 * connect(); each exchange is one send() of the C-APDU and one recv() of a one-byte header
 * (0x00) followed by the R-APDU. Closing it deselects the card.
 *
 * Return contract as in nfcnl.h: a value >= 0 or a negative errno.
 */
#ifndef HCE_NFCNL_READER_H
#define HCE_NFCNL_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "nfcnl/nfcnl.h"

/*
 * The reader lock: gates and bridges on one machine take a reader one tap at a time (the NFC
 * core accepts a new START_POLL while another process holds the reader's target and would
 * take the card away from it). It is the abstract unix socket name
 * "hce-terminal/nfc-reader/<index>": exclusive while bound, released when the descriptor is
 * closed or its process dies. Returns the descriptor, -EBUSY (held elsewhere) or -errno.
 */
int hce_nfcnl_reader_lock(uint32_t reader);

/* An AF_NFC raw socket (close-on-exec) connected to target of reader: descriptor or -errno. */
int hce_nfcnl_raw_connect(uint32_t reader, uint32_t target);

/* The step of hce_nfcnl_reader_activate() that failed. */
enum hce_nfcnl_step {
	HCE_NFCNL_STEP_DEV_UP,
	HCE_NFCNL_STEP_START_POLL,
	HCE_NFCNL_STEP_WAIT,		/* waiting for NFC_EVENT_TARGETS_FOUND */
	HCE_NFCNL_STEP_EVENTS,		/* reading the events */
	HCE_NFCNL_STEP_GET_TARGET,
	HCE_NFCNL_STEP_CONNECT,		/* socket() or connect() of the raw socket */
};

/*
 * How to wait for the event socket fd: 1 readable, 0 timeout_ms passed (-1: no limit), a
 * negative errno to give up (returned by hce_nfcnl_reader_activate() as it is).
 */
typedef int (*hce_nfcnl_wait_fn)(void *arg, int fd, int timeout_ms);

struct hce_nfcnl_activate {
	int timeout_ms;		/* for the target to appear; < 0: no limit */
	bool dev_up;		/* NFC_CMD_DEV_UP first (-EALREADY counts as done) */
	bool poll_busy_ok;	/* START_POLL -EBUSY (a poll runs already): wait for its target */
	hce_nfcnl_wait_fn wait;	/* NULL: poll(2) */
	void *wait_arg;
};

/*
 * One activation of reader: drop the events queued so far, DEV_UP (if o->dev_up),
 * NFC_CMD_START_POLL (IM_PROTOCOLS ISO 14443), wait for NFC_EVENT_TARGETS_FOUND on reader,
 * NFC_CMD_GET_TARGET (the core's target list, not the event, is the truth), then the raw
 * socket. When events were lost (-ENOBUFS) the target list is asked instead.
 * Returns the connected raw socket with *tg filled, or a negative errno with *step naming the
 * failed step:
 *   DEV_UP, START_POLL, GET_TARGET (-ENOENT: the target vanished), CONNECT: that errno;
 *   WAIT: -ETIMEDOUT (nothing in the field by timeout_ms) or a negative value of o->wait,
 *         both after NFC_CMD_STOP_POLL;
 *   EVENTS: -ENODEV (NFC_EVENT_DEVICE_REMOVED for reader), the event socket's errno, or that
 *           of the GET_TARGET asked after lost events (the poll keeps running).
 */
int hce_nfcnl_reader_activate(struct hce_nfcnl *nl, uint32_t reader,
			      const struct hce_nfcnl_activate *o, struct hce_nfcnl_target *tg,
			      enum hce_nfcnl_step *step);

#endif /* HCE_NFCNL_READER_H */
