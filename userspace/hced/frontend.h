/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frontend.h - how hced carries APDUs between a reader and the card application.
 *
 * One file per front end (fe_stdio.c, fe_pcsc.c, fe_kernel.c), each exporting one ops table.
 * main.c picks one, calls run() with the application and returns when run() does. A front end
 * owns its I/O only: it calls hced_process() (hced.h) for each C-APDU and hced_session_end()
 * whenever the RF session ends (EOF, power off, reset, reader gone, deactivation), waits only
 * through hced_poll()/hced_wait() (so the control socket is served), and never logs APDU
 * bodies.
 */
#ifndef HCED_FRONTEND_H
#define HCED_FRONTEND_H

#include <signal.h>

#include "app/app.h"

/* Set by SIGTERM/SIGINT; run() must return soon after it becomes non-zero. */
extern volatile sig_atomic_t hced_stop;

/* The original signal mask (SIGTERM/SIGINT deliverable), used only inside the wait; main.c. */
extern sigset_t hced_orig_mask;

/*
 * SIGTERM and SIGINT stay blocked except inside this wait (ppoll with the original mask), so
 * a signal can never slip in between a check of hced_stop and a blocking call. Wait until fd
 * is readable (fd < 0: just wait) for at most timeout_ms (-1: no limit), serving the control
 * socket meanwhile. Returns 1 readable, 0 timeout, -1 stop requested (hced_stop set) or poll
 * error. (hced_poll in hced.h waits for several descriptors.)
 */
int hced_wait(int fd, int timeout_ms);

struct hced_frontend_opts {
	const char *vpcd;	/* --pcsc: "HOST:PORT" of vpcd (default HCED_VPCD_DEFAULT) */
};

struct hced_frontend_ops {
	const char *name;
	/*
	 * Serve app until the end of input (stdio), or until hced_stop is set. Returns 0 on a
	 * clean end, a negative errno on a fatal error (logged).
	 */
	int (*run)(struct hce_app *app, const struct hced_frontend_opts *opts);
};

extern const struct hced_frontend_ops hced_fe_stdio;
extern const struct hced_frontend_ops hced_fe_pcsc;
extern const struct hced_frontend_ops hced_fe_kernel;

/* Debug-log one exchange: header, lengths and SW only (never data). */
void hced_log_apdu(const char *fe, const uint8_t *capdu, size_t len, const uint8_t *rapdu,
		   size_t rlen);

#endif /* HCED_FRONTEND_H */
