// SPDX-License-Identifier: GPL-2.0
/*
 * transport_pcsc.c - terminal transport through a PC/SC reader (libpcsclite): the card is
 * reached with SCardConnect (T=0 or T=1) and SCardTransmit; reset() is SCardReconnect with
 * SCARD_RESET_CARD (a new card session: the card cancels what was pending).
 */
#include "terminal/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

struct pcsc_priv {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	char reader[256];
};

static int pcsc_fail(struct hce_term_transport *t, const char *what, LONG rv, int err)
{
	snprintf(t->err, sizeof(t->err), "PC/SC %s: %s", what, pcsc_stringify_error(rv));
	return err;
}

static int pcsc_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			 uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct pcsc_priv *p = t->priv;
	const SCARD_IO_REQUEST *pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	DWORD n = (DWORD)cap;
	LONG rv;

	rv = SCardTransmit(p->card, pci, capdu, (DWORD)len, NULL, rapdu, &n);
	if (rv == (LONG)SCARD_E_INSUFFICIENT_BUFFER)
		return pcsc_fail(t, "transmit", rv, -EMSGSIZE);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail(t, "transmit", rv, -EIO);
	if (n < 2) {
		snprintf(t->err, sizeof(t->err), "PC/SC transmit: answer without status word");
		return -EIO;
	}
	*rlen = n;
	return 0;
}

static int pcsc_reset(struct hce_term_transport *t)
{
	struct pcsc_priv *p = t->priv;
	LONG rv;

	rv = SCardReconnect(p->card, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
			    SCARD_RESET_CARD, &p->proto);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_fail(t, "reconnect", rv, -EIO);
	return 0;
}

static void pcsc_close(struct hce_term_transport *t)
{
	struct pcsc_priv *p = t->priv;

	if (!p)
		return;
	if (p->card)
		SCardDisconnect(p->card, SCARD_LEAVE_CARD);
	SCardReleaseContext(p->ctx);
	free(p);
}

static const struct hce_term_transport_ops pcsc_ops = {
	.name = "pcsc",
	.transmit = pcsc_transmit,
	.reset = pcsc_reset,
	.close = pcsc_close,
};

int hce_term_transport_pcsc(struct hce_term_transport *t, const char *reader)
{
	struct pcsc_priv *p;
	char *names = NULL;
	DWORD len = 0;
	const char *r;
	LONG rv;
	int rc = -ENODEV;

	memset(t, 0, sizeof(*t));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
	if (rv != SCARD_S_SUCCESS) {
		free(p);
		return pcsc_fail(t, "establish context (is pcscd running?)", rv, -ENODEV);
	}
	rv = SCardListReaders(p->ctx, NULL, NULL, &len);
	if (rv == SCARD_S_SUCCESS && len > 1) {
		names = calloc(1, len + 1);
		if (!names) {
			rc = -ENOMEM;
			goto fail;
		}
		rv = SCardListReaders(p->ctx, NULL, names, &len);
	}
	if (rv != SCARD_S_SUCCESS || !names) {
		pcsc_fail(t, "list readers", rv, 0);
		goto fail;
	}
	snprintf(t->err, sizeof(t->err), reader ? "no reader matching '%s' with a card" :
		 "no reader with a card", reader ? reader : "");
	for (r = names; *r; r += strlen(r) + 1) {
		if (reader && strcmp(r, reader) && !strstr(r, reader))
			continue;
		rv = SCardConnect(p->ctx, r, SCARD_SHARE_SHARED,
				  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->card, &p->proto);
		if (rv == SCARD_S_SUCCESS) {
			snprintf(p->reader, sizeof(p->reader), "%s", r);
			t->err[0] = '\0';
			free(names);
			t->ops = &pcsc_ops;
			t->priv = p;
			return 0;
		}
		pcsc_fail(t, "connect", rv, 0);
		p->card = 0;
	}
fail:
	free(names);
	SCardReleaseContext(p->ctx);
	free(p);
	return rc;
}
