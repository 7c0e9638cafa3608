/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hced.h - what hced's parts share: the daemon's state (card, vault, application, front end
 * status and counters), the one APDU path every front end calls, the control socket and the
 * APDU trace. One process, one thread, one event loop (loop.c): the control socket is served
 * inside the front ends' waits, i.e. between APDUs, never during one.
 */
#ifndef HCED_HCED_H
#define HCED_HCED_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "ctl/hconf.h"

struct hce_store;
struct hce_vault;
struct hce_purse;
struct hced_ctl_client;

struct hced_state {
	struct hced_conf conf;
	struct hce_store *st;
	struct hce_vault *vault;
	struct hce_purse *purse;
	struct hce_app *app;		/* what the front end drives */
	const char *frontend;		/* front end name */
	char apps[96];			/* what is served, for logs and status */

	/* Front end status (written by the front end, read by "status"). */
	char device[64];		/* "nfc0 (index 0)", "vpcd 127.0.0.1:35963", "stdin" */
	bool bound;			/* kernel: owner of the card device */
	bool listening;			/* kernel: listen mode started; pcsc: connected */
	uint32_t session;		/* kernel: current session id, 0 none */
	bool in_session;		/* an RF session (or stdio/pcsc power-on) is open */
	uint64_t sessions, capdus, rapdus, dropped, resp_errors, recoveries;
	/* Optional: more status lines from the front end (kernel counters). */
	void (*status_extra)(struct hced_ctl_client *c);
};

extern struct hced_state hced;

/*
 * The APDU path: let the application answer capdu, count it, debug-log its header and SW,
 * trace it (redacted) when tracing is on. Returns the R-APDU length (>= 2).
 */
size_t hced_process(const char *fe, const uint8_t *capdu, size_t len, uint8_t *out, size_t cap);

/* The RF session ended: tell the application, count, trace. why: short text for logs. */
void hced_session_end(const char *why);
/* An RF session started (counters, trace). */
void hced_session_start(const char *what);

/*
 * Wait until one of fds[0..n-1] is ready (revents set) or timeout_ms passes (-1: no limit),
 * serving the control socket meanwhile. SIGTERM/SIGINT are only deliverable inside. Returns
 * the number of ready fds (> 0), 0 on timeout, -1 when a stop was requested (or poll failed).
 */
int hced_poll(struct pollfd *fds, int n, int timeout_ms);

/* ---- applications (apps.c) */

/* Set hced.app: the purse alone, or purse and NDEF tag behind the router. 0 or -errno. */
int hced_apps_open(struct hce_app *purse_app);
void hced_apps_close(void);
/* The router's current application ("none"), NULL without a router. */
const char *hced_apps_current(void);

/* ---- control socket (ctl.c) */

/* Create the listening socket at path (mode 0660, group gid when gid != -1). 0 or -errno. */
int hced_ctl_open(const char *path, long gid);
/* Close every client and the socket; unlink the socket file. */
void hced_ctl_close(void);
/* Poll set of the control socket: fill up to max entries; returns how many. */
int hced_ctl_fill(struct pollfd *p, int max);
/* Serve the entries hced_ctl_fill gave, after poll. */
void hced_ctl_service(const struct pollfd *p, int n);
/* Append one response line to client c (printf-style, newline added). */
void hced_ctl_printf(struct hced_ctl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- APDU trace (trace.c) */

/* Start tracing to path (created 0600, appended, never through a symlink). 0 or -errno. */
int hced_trace_start(const char *path);
void hced_trace_stop(void);
/* The file being traced to, NULL when off. */
const char *hced_trace_path(void);
void hced_trace_apdu(uint32_t session, uint64_t n, const uint8_t *c, size_t clen,
		     const uint8_t *r, size_t rlen, uint64_t ns);
void hced_trace_note(const char *what);

#endif /* HCED_HCED_H */
