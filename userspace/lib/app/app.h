/* SPDX-License-Identifier: GPL-2.0 */
/*
 * app.h - what a front end (kernel, PC/SC, stdio) sees of the card: something that answers
 * one C-APDU with one R-APDU and learns when the RF session ends.
 *
 * The purse implements it; the AID router will implement it too, dispatching to the
 * applications it holds. Front ends own the I/O; applications do none.
 */
#ifndef HCE_APP_H
#define HCE_APP_H

#include <stddef.h>
#include <stdint.h>

/* Largest C-APDU: extended case 4 (4 header + 3 Lc + 65535 data + 2 Le). */
#define HCE_CAPDU_MAX (4 + 3 + 65535 + 2)
/* Largest R-APDU an application writes: 65536 data + SW1 SW2. */
#define HCE_RAPDU_MAX (65536 + 2)
/* Smallest response buffer a front end may pass: a short R-APDU. */
#define HCE_RAPDU_MIN_CAP (256 + 2)

struct hce_app;

struct hce_app_ops {
	/* Short name for logs ("purse", "ndef", "router"). */
	const char *name;
	/*
	 * Answer one C-APDU of len bytes. Writes the R-APDU (response data then SW1 SW2) to
	 * out (capacity cap >= HCE_RAPDU_MIN_CAP) and returns its length, always >= 2: every
	 * input, however malformed, gets a status word. Never keeps pointers into capdu/out.
	 */
	size_t (*process)(struct hce_app *app, const uint8_t *capdu, size_t len,
			  uint8_t *out, size_t cap);
	/*
	 * The RF session ended (field lost, reader deselected, reset, front end closed):
	 * cancel any pending two-step operation and forget the current selection.
	 */
	void (*session_end)(struct hce_app *app);
};

struct hce_app {
	const struct hce_app_ops *ops;
	void *priv;
};

static inline size_t hce_app_process(struct hce_app *app, const uint8_t *capdu, size_t len,
				     uint8_t *out, size_t cap)
{
	return app->ops->process(app, capdu, len, out, cap);
}

static inline void hce_app_session_end(struct hce_app *app)
{
	app->ops->session_end(app);
}

#endif /* HCE_APP_H */
