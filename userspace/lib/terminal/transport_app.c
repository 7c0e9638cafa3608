// SPDX-License-Identifier: GPL-2.0
/* transport_app.c - terminal transport to an in-process struct hce_app (tests, benchmarks). */
#include "terminal/transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int app_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct hce_app *app = t->priv;
	size_t n;

	if (cap < HCE_RAPDU_MIN_CAP) {
		snprintf(t->err, sizeof(t->err), "response buffer too small");
		return -EMSGSIZE;
	}
	n = hce_app_process(app, capdu, len, rapdu, cap);
	if (n < 2 || n > cap) {
		snprintf(t->err, sizeof(t->err), "application returned %zu bytes", n);
		return -EIO;
	}
	*rlen = n;
	return 0;
}

static int app_reset(struct hce_term_transport *t)
{
	hce_app_session_end(t->priv);
	return 0;
}

static void app_close(struct hce_term_transport *t)
{
	hce_app_session_end(t->priv);
}

static const struct hce_term_transport_ops app_ops = {
	.name = "app",
	.transmit = app_transmit,
	.reset = app_reset,
	.close = app_close,
};

int hce_term_transport_app(struct hce_term_transport *t, struct hce_app *app)
{
	memset(t, 0, sizeof(*t));
	t->ops = &app_ops;
	t->priv = app;
	return 0;
}
