/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transport.h - how the terminal reaches a card: send one C-APDU, receive one R-APDU.
 *
 * Implementations (each fills a caller-owned struct hce_term_transport):
 *   app   - an in-process struct hce_app (the purse, the router): tests and benchmarks;
 *   exec  - a child process speaking hex lines (`hced --stdio`): one C-APDU per line written
 *           to its stdin, one R-APDU per line read from its stdout;
 *   pcsc  - a PC/SC reader through libpcsclite (SCardConnect/SCardTransmit), by name or the
 *           first reader that has a card.
 * The kernel AF_NFC reader (next issue) plugs in as one more ops table.
 *
 * Contract: every int-returning op returns 0 on success or a negative errno value:
 *   -EIO        the exchange failed; the card may or may not have received and executed the
 *               command (the caller must treat a value command as "outcome unknown");
 *   -ETIMEDOUT  no answer in time (same meaning as -EIO);
 *   -EMSGSIZE   the answer does not fit in cap;
 *   -ENODEV     no card / reader;
 *   other       setup errors.
 * transmit() writes the full R-APDU (data then SW1 SW2, >= 2 bytes) to rapdu.
 * reset() ends the card session and starts a new one (field off/on, card reset, or the
 * app's session_end): any pending two-step operation on the card is cancelled.
 * close() releases everything; the struct may be reused afterwards.
 */
#ifndef HCE_TERMINAL_TRANSPORT_H
#define HCE_TERMINAL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

struct hce_term_transport;

struct hce_term_transport_ops {
	const char *name;
	int (*transmit)(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			uint8_t *rapdu, size_t cap, size_t *rlen);
	int (*reset)(struct hce_term_transport *t);
	void (*close)(struct hce_term_transport *t);
};

struct hce_term_transport {
	const struct hce_term_transport_ops *ops;
	void *priv;
	char err[160];		/* last error in words, "" when none */
};

static inline int hce_term_transmit(struct hce_term_transport *t, const uint8_t *capdu,
				    size_t len, uint8_t *rapdu, size_t cap, size_t *rlen)
{
	return t->ops->transmit(t, capdu, len, rapdu, cap, rlen);
}

static inline int hce_term_reset(struct hce_term_transport *t)
{
	return t->ops->reset(t);
}

static inline void hce_term_close(struct hce_term_transport *t)
{
	if (t->ops && t->ops->close)
		t->ops->close(t);
	t->ops = NULL;
	t->priv = NULL;
}

/* In-process application; app is borrowed (must outlive t). Always 0. */
int hce_term_transport_app(struct hce_term_transport *t, struct hce_app *app);

/*
 * Child process running `/bin/sh -c cmd` (e.g. "hced --stdio --profile card.conf"), speaking
 * hex lines. timeout_ms bounds each answer (0: 10 s). reset() writes the line "!reset"
 * (hced --stdio ends the RF session, no answer line); a child that ended makes every later
 * call -EIO.
 * 0 or negative errno (fork/pipe failure).
 */
int hce_term_transport_exec(struct hce_term_transport *t, const char *cmd, int timeout_ms);

/*
 * PC/SC reader: reader is a full name, a case-sensitive substring of one, or NULL for the
 * first reader with a card present. 0, -ENODEV (no reader / no card) or -EIO; t->err says.
 */
int hce_term_transport_pcsc(struct hce_term_transport *t, const char *reader);

#endif /* HCE_TERMINAL_TRANSPORT_H */
