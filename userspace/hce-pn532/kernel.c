// SPDX-License-Identifier: GPL-2.0
/*
 * kernel.c - the RF side on the kernel NFC devices of linux-hce: all netlink (through
 * lib/nfcnl, the "nfc" and "nfc_hce" families) and AF_NFC use of hce-pn532 is here.
 *
 * Initiator (reader device of a virtual pair): DEV_UP, START_POLL with IM_PROTOCOLS
 * ISO14443, NFC_EVENT_TARGETS_FOUND, GET_TARGET (SENS_RES, SEL_RES, NFCID1), then an
 * AF_NFC SOCK_SEQPACKET NFC_SOCKPROTO_RAW socket whose connect() activates ISO-DEP; each
 * InDataExchange is one send() and one recv() (header byte 0x00, then the R-APDU). The
 * kernel target carries no ATS: it is rebuilt from the card device's listen identity
 * (NFC_HCE_CMD_GET_DEVICE) exactly as the virtual controller sends it:
 * TL = 5 + k, T0 = 0x70 | FSCI, TA = 0x80, TB = FWI << 4 | SFGI, TC = 0x00, historical bytes.
 *
 * A tap holds the reader lock hce-terminal uses (the abstract unix socket name
 * "hce-terminal/nfc-reader/N", bound from the poll until the target is released), so the
 * bridge and hce-terminal --nfc can share a reader device: the NFC core would let a second
 * poller take the other's active target.
 *
 * Target (card device): bind as the nfc_hce owner, set the listen identity, DEV_UP,
 * START_POLL with TM_PROTOCOLS ISO14443; SESSION_START answers TgInitAsTarget, each APDU
 * event answers a TgGetData, each TgSetData is a RESPONSE; SESSION_END releases.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#include "bridge.h"
#include "nfcnl/nfcnl.h"
#include "nfcnl/reader.h"

struct kernel_rf {
	struct bridge *b;
	long want_reader, want_card;
	struct hce_nfcnl *nl;
	uint32_t reader;
	int sock;
	int lockfd;			/* reader lock, -1 when not held */
	/* target mode */
	struct hce_nfcnl_owner *own;
	uint32_t card;
	uint32_t session, seq;
	bool started, ended, have_apdu, outstanding;
	unsigned int fsd;
	uint8_t apdu[PN532_APDU_MAX];
	size_t apdu_len;
};

static void drop_sock(struct kernel_rf *k);

static void drop_nl(struct kernel_rf *k)
{
	hce_nfcnl_owner_close(k->own);
	k->own = NULL;
	hce_nfcnl_close(k->nl);
	k->nl = NULL;
}

static int ensure_nl(struct kernel_rf *k)
{
	int rc;

	if (k->nl)
		return 0;
	rc = hce_nfcnl_open(&k->nl);
	if (!rc)
		rc = hce_nfcnl_hce_resolve(k->nl);
	if (rc) {
		bridge_log(k->b, "nfc netlink: %s", rc == -ENOENT ?
			   "the nfc / nfc_hce modules are not loaded" : strerror(-rc));
		hce_nfcnl_close(k->nl);
		k->nl = NULL;
	}
	return rc;
}

/* The pair to use: the reader (initiator) and the card device paired with it. */
static int find_pair(struct kernel_rf *k, uint32_t *reader, struct hce_nfcnl_card *card)
{
	static struct hce_nfcnl_card cards[HCE_NFCNL_DEV_MAX];
	size_t n = 0;
	int rc = hce_nfcnl_cards(k->nl, cards, HCE_NFCNL_DEV_MAX, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (k->want_reader >= 0 && (!cards[i].has_reader ||
					    cards[i].reader != (uint32_t)k->want_reader))
			continue;
		if (k->want_card >= 0 && cards[i].index != (uint32_t)k->want_card)
			continue;
		if (!cards[i].has_reader && k->want_card < 0)
			continue;
		*reader = cards[i].has_reader ? cards[i].reader : UINT32_MAX;
		*card = cards[i];
		return 0;
	}
	if (k->want_reader >= 0) {		/* a reader that is not a virtual pair's */
		memset(card, 0, sizeof(*card));
		card->index = UINT32_MAX;
		*reader = (uint32_t)k->want_reader;
		return 0;
	}
	return -ENODEV;
}

int kernel_rf_new(struct bridge *b, long reader, long card, struct kernel_rf **out)
{
	struct kernel_rf *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->b = b;
	k->want_reader = reader;
	k->want_card = card;
	k->sock = -1;
	k->lockfd = -1;
	/* the modules may come later: a missing nfc family is not fatal here */
	ensure_nl(k);
	*out = k;
	return 0;
}

void kernel_rf_free(struct kernel_rf *k)
{
	if (!k)
		return;
	drop_sock(k);
	drop_nl(k);
	free(k);
}

static long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Take the reader lock, waiting out another tap (20 ms steps) up to timeout_ms (-1: no limit). */
static int take_lock(struct kernel_rf *k, int timeout_ms)
{
	long end = mono_ms() + timeout_ms;

	while (k->lockfd < 0) {
		int rc = hce_nfcnl_reader_lock(k->reader);

		if (rc >= 0) {
			k->lockfd = rc;
			break;
		}
		if (rc != -EBUSY)
			return rc;
		if (timeout_ms >= 0 && mono_ms() >= end)
			return -EBUSY;
		rc = bridge_wait(k->b, -1, 20);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void drop_sock(struct kernel_rf *k)
{
	if (k->sock >= 0)
		close(k->sock);		/* S(DESELECT) to the card */
	k->sock = -1;
	if (k->lockfd >= 0)
		close(k->lockfd);
	k->lockfd = -1;
}

/* hce_nfcnl_reader_activate() waits through the bridge: the serial line stays served. */
static int k_wait(void *arg, int fd, int timeout_ms)
{
	struct kernel_rf *k = arg;

	return bridge_wait(k->b, fd, timeout_ms);
}

static void build_ats(const struct hce_nfcnl_card *c, struct pn532_target *t)
{
	const struct hce_nfcnl_listen *l = &c->id;
	size_t hl = l->has_hist ? l->hist_len : 0;

	if (c->index == UINT32_MAX || 5 + hl > sizeof(t->ats))
		return;
	t->ats[0] = (uint8_t)(5 + hl);
	t->ats[1] = (uint8_t)(0x70 | (l->has_fsci ? l->fsci : 0));
	t->ats[2] = 0x80;
	t->ats[3] = (uint8_t)((l->has_fwi ? l->fwi : 0) << 4 | (l->has_sfgi ? l->sfgi : 0));
	t->ats[4] = 0x00;
	memcpy(t->ats + 5, l->hist, hl);
	t->ats_len = 5 + hl;
}

static int k_poll(struct kernel_rf *k, int timeout_ms, struct pn532_target *t,
		  struct hce_nfcnl_card *cardp);

static int k_in_list(void *ctx, int timeout_ms, struct pn532_target *t)
{
	struct kernel_rf *k = ctx;
	struct hce_nfcnl_card card;
	int rc;

	drop_sock(k);
	if (ensure_nl(k))
		return 0;
	rc = find_pair(k, &k->reader, &card);
	if (rc || k->reader == UINT32_MAX) {
		bridge_log(k->b, "no reader device: %s", strerror(rc ? -rc : ENODEV));
		if (rc && rc != -ENODEV)
			drop_nl(k);
		return 0;
	}
	rc = take_lock(k, timeout_ms);
	if (rc) {
		if (rc != -EINTR)
			bridge_log(k->b, "reader nfc%u busy (another tap): %s", k->reader, strerror(-rc));
		return rc == -EINTR ? rc : 0;
	}
	rc = k_poll(k, timeout_ms, t, &card);
	if (rc <= 0)
		drop_sock(k);
	return rc;
}

/* Poll and connect, with the reader lock held. */
static int k_poll(struct kernel_rf *k, int timeout_ms, struct pn532_target *t,
		  struct hce_nfcnl_card *cardp)
{
	const struct hce_nfcnl_activate act = {
		.timeout_ms = timeout_ms, .dev_up = true, .poll_busy_ok = true,
		.wait = k_wait, .wait_arg = k,
	};
	struct hce_nfcnl_card card = *cardp;
	struct hce_nfcnl_target tg;
	enum hce_nfcnl_step step;
	int rc;

	rc = hce_nfcnl_reader_activate(k->nl, k->reader, &act, &tg, &step);
	if (rc < 0) {
		switch (step) {
		case HCE_NFCNL_STEP_DEV_UP:
			bridge_log(k->b, "DEV_UP nfc%u: %s", k->reader, strerror(-rc));
			return 0;
		case HCE_NFCNL_STEP_START_POLL:
			bridge_log(k->b, "START_POLL nfc%u: %s", k->reader, strerror(-rc));
			return 0;
		case HCE_NFCNL_STEP_WAIT:	/* 0: nothing in the field; -EINTR: aborted */
			return rc == -ETIMEDOUT ? 0 : rc;
		case HCE_NFCNL_STEP_EVENTS:
			if (rc == -ENODEV) {
				bridge_log(k->b, "reader nfc%u went away", k->reader);
				return 0;
			}
			drop_nl(k);
			return 0;
		case HCE_NFCNL_STEP_GET_TARGET:
			bridge_log(k->b, "GET_TARGET nfc%u: %s", k->reader, strerror(-rc));
			return 0;
		case HCE_NFCNL_STEP_CONNECT:
			bridge_log(k->b, "connect to target %u: %s", tg.index, strerror(-rc));
			return 0;
		}
		return 0;
	}
	k->sock = rc;
	t->sens_res[0] = (uint8_t)(tg.sens_res >> 8);
	t->sens_res[1] = (uint8_t)tg.sens_res;
	t->sel_res = tg.sel_res;
	t->uid_len = tg.nfcid1_len > sizeof(t->uid) ? sizeof(t->uid) : tg.nfcid1_len;
	memcpy(t->uid, tg.nfcid1, t->uid_len);
	/* the listen identity as it is now (the card may have changed it since) */
	if (card.index != UINT32_MAX && hce_nfcnl_card(k->nl, card.index, &card) == 0)
		build_ats(&card, t);
	return 1;
}

static int k_in_exchange(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap,
			 size_t *rlen)
{
	struct kernel_rf *k = ctx;
	static uint8_t buf[1 + PN532_APDU_MAX + 16];
	ssize_t n;
	int rc;

	if (k->sock < 0)
		return -ENOTCONN;
	if (send(k->sock, c, clen, 0) < 0)
		return -errno;
	rc = bridge_wait(k->b, k->sock, 120000);
	if (rc <= 0) {
		/* aborted, or no answer at all: the card is deselected with the socket */
		drop_sock(k);
		return rc ? rc : -ETIMEDOUT;
	}
	n = recv(k->sock, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (n < 1)
		return -ECONNRESET;
	if ((size_t)n - 1 > rcap)
		return -EMSGSIZE;
	memcpy(r, buf + 1, (size_t)n - 1);	/* byte 0: the raw socket's header */
	*rlen = (size_t)n - 1;
	return 0;
}

static void k_in_release(void *ctx)
{
	drop_sock(ctx);
}

/* --- target mode */

static void on_owner(void *arg, const struct hce_nfcnl_owner_event *ev)
{
	struct kernel_rf *k = arg;

	switch (ev->cmd) {
	case NFC_HCE_CMD_SESSION_START:
		k->session = ev->session;
		k->started = true;
		k->ended = false;
		k->have_apdu = k->outstanding = false;
		k->fsd = ev->fsd;
		break;
	case NFC_HCE_CMD_APDU:
		if (!k->started || ev->session != k->session || ev->apdu_len > sizeof(k->apdu))
			break;
		k->seq = ev->seq;
		memcpy(k->apdu, ev->apdu, ev->apdu_len);
		k->apdu_len = ev->apdu_len;
		k->have_apdu = true;
		break;
	case NFC_HCE_CMD_SESSION_END:
		if (k->started && ev->session == k->session)
			k->ended = true;
		break;
	default:
		break;
	}
}

/* Wait for the owner socket and take its events; -EINTR when the host aborted. */
static int owner_pump(struct kernel_rf *k)
{
	int rc = bridge_wait(k->b, hce_nfcnl_owner_fd(k->own), -1);

	if (rc < 0)
		return rc;
	rc = hce_nfcnl_owner_recv(k->own, on_owner, k, NULL, NULL);
	if (rc < 0 && rc != -ENOBUFS && rc != -EAGAIN) {
		bridge_log(k->b, "owner socket: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static void k_tg_release(void *ctx)
{
	struct kernel_rf *k = ctx;

	hce_nfcnl_owner_close(k->own);	/* unbinds: an open session ends UNBOUND */
	k->own = NULL;
	k->started = k->ended = k->have_apdu = k->outstanding = false;
}

static int k_tg_init(void *ctx, const struct pn532_tg_params *p, unsigned int *fsd)
{
	struct kernel_rf *k = ctx;
	struct hce_nfcnl_listen l;
	struct hce_nfcnl_card card;
	uint32_t reader;
	int rc;

	k_tg_release(k);
	rc = ensure_nl(k);
	if (rc)
		return rc;
	rc = find_pair(k, &reader, &card);
	if (!rc && card.index == UINT32_MAX)
		rc = -ENODEV;
	if (rc) {
		bridge_log(k->b, "no card device: %s", strerror(-rc));
		return rc;
	}
	k->card = card.index;
	rc = hce_nfcnl_owner_open(k->nl, k->card, &k->own);
	if (rc) {
		bridge_log(k->b, "bind nfc%u: %s", k->card, strerror(-rc));
		k->own = NULL;
		return rc;
	}
	/* UID: 08h then NFCID1t, as the PN532 builds it; Tk: the ATS historical bytes */
	memset(&l, 0, sizeof(l));
	l.has_uid = true;
	l.uid[0] = 0x08;
	memcpy(l.uid + 1, p->nfcid1t, 3);
	l.uid_len = 4;
	l.has_hist = true;
	memcpy(l.hist, p->hist, p->hist_len);
	l.hist_len = p->hist_len;
	rc = hce_nfcnl_set_listen(k->nl, k->card, &l);
	if (!rc) {
		rc = hce_nfcnl_dev_up(k->nl, k->card);
		if (rc == -EALREADY)
			rc = 0;
	}
	if (!rc) {
		rc = hce_nfcnl_start_poll(k->nl, k->card, 0, NFC_PROTO_ISO14443_MASK);
		if (rc == -EBUSY || rc == -EALREADY)
			rc = 0;
	}
	if (rc) {
		bridge_log(k->b, "listen on nfc%u: %s", k->card, strerror(-rc));
		k_tg_release(k);
		return rc;
	}
	while (!k->started) {
		rc = owner_pump(k);
		if (rc) {
			k_tg_release(k);
			return rc;
		}
	}
	*fsd = k->fsd;
	return 0;
}

static int k_tg_get(void *ctx, uint8_t *c, size_t cap, size_t *clen)
{
	struct kernel_rf *k = ctx;
	int rc;

	if (!k->own)
		return -ENOLINK;
	while (!k->have_apdu) {
		if (k->ended)
			return -ENOLINK;
		rc = owner_pump(k);
		if (rc)
			return rc;
	}
	if (k->apdu_len > cap)
		return -EMSGSIZE;
	memcpy(c, k->apdu, k->apdu_len);
	*clen = k->apdu_len;
	k->have_apdu = false;
	k->outstanding = true;
	return 0;
}

static int k_tg_set(void *ctx, const uint8_t *r, size_t rlen)
{
	struct kernel_rf *k = ctx;
	int rc;

	if (!k->own || k->ended || !k->outstanding)
		return -ENOLINK;
	rc = hce_nfcnl_owner_respond(k->own, k->session, k->seq, r, rlen);
	k->outstanding = false;
	return rc;
}

const struct pn532_rf_ops kernel_rf_ops = {
	.in_list = k_in_list,
	.in_exchange = k_in_exchange,
	.in_release = k_in_release,
	.tg_init = k_tg_init,
	.tg_get = k_tg_get,
	.tg_set = k_tg_set,
	.tg_release = k_tg_release,
};
