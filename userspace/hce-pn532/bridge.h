/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bridge.h - hce-pn532's pieces: the serial side (pseudo-terminal, frames) in main.c, the RF
 * sides in kernel.c (kernel NFC devices: all netlink and AF_NFC use of the bridge) and
 * pipe.c (a card program on a pipe, hced --stdio style).
 */
#ifndef HCE_PN532_BRIDGE_H
#define HCE_PN532_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "pn532/chip.h"
#include "pn532/frame.h"

struct bridge {
	int pty;			/* master side */
	struct pn532_parser parser;
	bool queued;			/* a frame came while an op waited: run it next */
	uint8_t queued_tfi;
	uint8_t queued_data[PN532_DATA_MAX];
	size_t queued_len;
	bool hangup;			/* the client closed the terminal */
	int verbose;
};

/*
 * Wait until fd (may be -1) is readable or timeout_ms passes (-1: no limit), reading the
 * serial line meanwhile. Returns 1 when fd is readable, 0 on timeout, -EINTR when the host
 * aborted (ACK frame, a new command, hang-up), or a negative errno.
 */
int bridge_wait(struct bridge *b, int fd, int timeout_ms);

void bridge_log(const struct bridge *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Kernel RF side. reader/card: nfc device index, or -1 for the first virtual pair's. */
struct kernel_rf;
int kernel_rf_new(struct bridge *b, long reader, long card, struct kernel_rf **out);
void kernel_rf_free(struct kernel_rf *k);
extern const struct pn532_rf_ops kernel_rf_ops;

/* A card program on a pipe: one hex C-APDU line out, one hex R-APDU line back. */
struct pipe_rf;
struct pipe_rf_id {
	uint8_t uid[10];
	size_t uid_len;
	uint8_t sens_res[2], sel_res;
	uint8_t ats[20];
	size_t ats_len;
};
int pipe_rf_new(struct bridge *b, const char *cmd, const struct pipe_rf_id *id,
		struct pipe_rf **out);
void pipe_rf_free(struct pipe_rf *p);
extern const struct pn532_rf_ops pipe_rf_ops;

#endif /* HCE_PN532_BRIDGE_H */
