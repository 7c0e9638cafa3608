// SPDX-License-Identifier: GPL-2.0
/*
 * transport_nfc.c - terminal transport over a kernel NFC reader device. The only file of the
 * terminal that uses netlink, all of it through lib/nfcnl: the "nfc" family (GET_DEVICE,
 * DEV_UP, and per poll one hce_nfcnl_reader_activate(): the reader lock, START_POLL, the
 * "events" group, GET_TARGET, the AF_NFC raw socket) and the "nfc_hce" family (virtual pairs:
 * list with counters, link options, create, destroy). See transport_nfc.h.
 */
#include "terminal/transport_nfc.h"
#include "nfcnl/nfcnl.h"
#include "nfcnl/reader.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#define NFC_PRESENT_MS_DEFAULT 10000
#define NFC_TIMEOUT_MS_DEFAULT 5000
#define NFC_BUSY_RETRY_MS 20
#define NFC_MAX_DEVS 64

struct nfc_priv {
	struct hce_nfcnl *nl;	/* lib/nfcnl: devices, pairs, DEV_UP, polls, events */
	uint32_t reader;
	int fd;			/* raw socket, -1 when none */
	int lockfd;		/* reader lock (hce_nfcnl_reader_lock), -1 when not held */
	bool dead;		/* session ended: reset() needed */
	int present_ms;
	int timeout_ms;
	uint32_t fault_frame;	/* field_loss_once still armed on the pair */
	uint32_t fault_card;
	bool fault_fired;	/* an exchange or activation failed while the fault was armed */
	uint8_t rbuf[NFC_HCE_APDU_MAX + 1];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- netlink (lib/nfcnl) ---- */

/* A lib/nfcnl handle; -ENODEV (err says why) without the nfc family. nfc_hce may be absent. */
static int tn_open(struct hce_nfcnl **nl, char *err, size_t errlen)
{
	int rc = hce_nfcnl_open(nl);

	if (rc == -ENOENT) {
		snprintf(err, errlen, "netlink: no \"%s\" family (is the nfc module loaded?)",
			 NFC_GENL_NAME);
		return -ENODEV;
	}
	if (rc) {
		snprintf(err, errlen, "netlink: cannot open the nfc netlink sockets: %s",
			 strerror(-rc));
		return -ENODEV;
	}
	hce_nfcnl_hce_resolve(*nl);	/* absent: the pair requests fail with -EOPNOTSUPP */
	return 0;
}

static bool have_hce(const struct hce_nfcnl *nl)
{
	int nfc, hce;

	hce_nfcnl_family_ids(nl, &nfc, &hce);
	return hce >= 0;
}

/* ---- devices ---- */

/* Every card device of nfc_hce (GET_DEVICE) with its counters (GET_STATS), up to max. */
static int hce_pairs(struct hce_nfcnl *nl, struct hce_term_nfc_pair *p, size_t max, size_t *n)
{
	struct hce_nfcnl_card cards[NFC_MAX_DEVS];
	size_t nc, i;
	int rc;

	*n = 0;
	if (!have_hce(nl))
		return -EOPNOTSUPP;
	rc = hce_nfcnl_cards(nl, cards, max < NFC_MAX_DEVS ? max : NFC_MAX_DEVS, &nc);
	if (rc)
		return rc;
	for (i = 0; i < nc; i++) {
		const struct hce_nfcnl_card *c = &cards[i];
		struct hce_nfcnl_stats st;

		rc = hce_nfcnl_stats(nl, c->index, &st);
		if (rc)
			return rc;
		p[i] = (struct hce_term_nfc_pair){
			.card = c->index, .reader = c->has_reader ? c->reader : UINT32_MAX,
			.bound = c->bound, .listening = c->listening, .bitrate = c->bitrate,
			.field_loss_after = c->field_loss_after, .drop_every = c->drop_every,
			.activations = st.activations, .capdus = st.capdus,
			.field_losses = st.field_losses, .deadline_expiries = st.deadline_expiries,
			.frames = st.frames, .retransmissions = st.retransmissions,
		};
	}
	*n = nc;
	return 0;
}

/* Finds the reader device named by spec ("nfcN", an index, or NULL). */
static int find_reader(struct hce_nfcnl *nl, const char *spec, uint32_t *reader, char *err,
		       size_t errlen)
{
	struct hce_term_nfc_pair pairs[NFC_MAX_DEVS];
	struct hce_nfcnl_dev d[NFC_MAX_DEVS];
	size_t nd, np = 0, i, j;
	int rc;

	rc = hce_nfcnl_devices(nl, d, NFC_MAX_DEVS, &nd);
	if (rc) {
		snprintf(err, errlen, "nfc GET_DEVICE: %s", strerror(-rc));
		return rc;
	}
	if (spec && *spec) {
		char *end;
		unsigned long v = strtoul(spec, &end, 10);

		for (i = 0; i < nd; i++)
			if (!strcmp(d[i].name, spec) || (!*end && end != spec && d[i].index == v)) {
				*reader = d[i].index;
				return 0;
			}
		snprintf(err, errlen, "no nfc device '%s'", spec);
		return -ENODEV;
	}
	if (!hce_pairs(nl, pairs, NFC_MAX_DEVS, &np)) {
		for (i = 0; i < np; i++)
			if (pairs[i].reader != UINT32_MAX) {
				*reader = pairs[i].reader;
				return 0;
			}
	}
	/* any nfc device that is not a card device */
	for (i = 0; i < nd; i++) {
		for (j = 0; j < np && pairs[j].card != d[i].index; j++)
			;
		if (j == np) {
			*reader = d[i].index;
			return 0;
		}
	}
	snprintf(err, errlen, "no nfc reader device found");
	return -ENODEV;
}

/* Card device of the virtual pair whose reader is reader. */
static int pair_of_reader(struct hce_nfcnl *nl, uint32_t reader, uint32_t *card)
{
	struct hce_term_nfc_pair pairs[NFC_MAX_DEVS];
	size_t n, i;
	int rc;

	rc = hce_pairs(nl, pairs, NFC_MAX_DEVS, &n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (pairs[i].reader == reader) {
			*card = pairs[i].card;
			return 0;
		}
	return -ENODEV;
}

static int vpair_set(struct hce_nfcnl *nl, uint32_t card, const struct hce_term_nfc_link *l)
{
	const struct hce_nfcnl_link link = { l->bitrate, l->field_loss_after, l->drop_every };

	if (!have_hce(nl))
		return -EOPNOTSUPP;
	return hce_nfcnl_vpair_set(nl, card, &link);
}

/* ---- card session ---- */

static void fault_clear(struct nfc_priv *p)
{
	struct hce_term_nfc_link l = { .bitrate = -1, .field_loss_after = 0, .drop_every = -1 };

	if (!p->fault_frame)
		return;
	vpair_set(p->nl, p->fault_card, &l);
	p->fault_frame = 0;
}

/*
 * Polls the reader until a card is found and connects the raw socket (one
 * hce_nfcnl_reader_activate() per try); bounded by present_ms. The reader may be busy
 * (another process polls it or holds its target): that is retried until the deadline.
 */
static int card_connect(struct hce_term_transport *t)
{
	struct nfc_priv *p = t->priv;
	long long deadline = now_ms() + p->present_ms;
	const char *why = "no card presented";
	bool powered = false;	/* DEV_UP sent after START_POLL found the reader down */
	int rc;

	for (;;) {
		struct hce_nfcnl_activate act = { 0 };
		struct hce_nfcnl_target tg;
		enum hce_nfcnl_step step;
		long long left = deadline - now_ms();

		if (left <= 0)
			break;
		if (p->lockfd < 0) {
			rc = hce_nfcnl_reader_lock(p->reader);
			if (rc == -EBUSY) {
				why = "reader in use by another gate";
				sleep_ms(NFC_BUSY_RETRY_MS);
				continue;
			}
			if (rc < 0) {
				snprintf(t->err, sizeof(t->err), "reader lock: %s", strerror(-rc));
				return rc;
			}
			p->lockfd = rc;
		}
		act.timeout_ms = (int)left;
		rc = hce_nfcnl_reader_activate(p->nl, p->reader, &act, &tg, &step);
		if (rc >= 0) {
			p->fd = rc;
			p->dead = false;
			return 0;
		}
		if (step != HCE_NFCNL_STEP_START_POLL)
			powered = false;
		switch (step) {
		case HCE_NFCNL_STEP_START_POLL:
			if (rc == -EBUSY) {
				why = "reader busy";
				sleep_ms(NFC_BUSY_RETRY_MS);
				continue;
			}
			if ((rc == -ENODEV || rc == -ENETDOWN) && !powered) {
				/* powered down meanwhile: power it again */
				hce_nfcnl_dev_up(p->nl, p->reader);
				powered = true;
				continue;
			}
			snprintf(t->err, sizeof(t->err), "nfc START_POLL on reader %u: %s",
				 p->reader, strerror(-rc));
			return rc == -ENODEV ? -ENODEV : -EIO;
		case HCE_NFCNL_STEP_WAIT:	/* no card by the deadline (poll stopped) */
			break;
		case HCE_NFCNL_STEP_EVENTS:
			if (rc == -ENODEV) {
				snprintf(t->err, sizeof(t->err), "reader %u went away", p->reader);
				return -ENODEV;
			}
			snprintf(t->err, sizeof(t->err), "nfc events: %s", strerror(-rc));
			return -EIO;
		case HCE_NFCNL_STEP_GET_TARGET:
			/* the event's index may be stale: the core's target list is the truth */
			why = "target vanished before connect";
			continue;
		case HCE_NFCNL_STEP_CONNECT:
			why = "connect failed";
			if (p->fault_frame)
				p->fault_fired = true;
			fault_clear(p);	/* the activation itself was the faulty one */
			snprintf(t->err, sizeof(t->err), "AF_NFC connect to reader %u target %u: %s",
				 p->reader, tg.index, strerror(-rc));
			sleep_ms(NFC_BUSY_RETRY_MS);
			continue;
		case HCE_NFCNL_STEP_DEV_UP:	/* not asked for */
			snprintf(t->err, sizeof(t->err), "nfc DEV_UP of reader %u: %s", p->reader,
				 strerror(-rc));
			return -EIO;
		}
		break;
	}
	snprintf(t->err, sizeof(t->err), "%s on reader %u within %d ms", why, p->reader,
		 p->present_ms);
	return -ENODEV;
}

static void card_disconnect(struct nfc_priv *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->lockfd >= 0)
		close(p->lockfd);
	p->lockfd = -1;
	p->dead = true;
}

static int nfc_fail(struct hce_term_transport *t, int err, const char *what)
{
	struct nfc_priv *p = t->priv;

	snprintf(t->err, sizeof(t->err), "%s: %s", what, strerror(err));
	if (p->fault_frame)
		p->fault_fired = true;
	card_disconnect(p);
	return err == ETIMEDOUT ? -ETIMEDOUT : err == ENODEV ? -ENODEV : -EIO;
}

static int nfc_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct nfc_priv *p = t->priv;
	struct pollfd pfd;
	ssize_t n;
	int rc;

	if (p->dead || p->fd < 0) {
		snprintf(t->err, sizeof(t->err), "card session ended (field lost or exchange "
			 "failed): present the card again");
		return -EIO;
	}
	if (len > NFC_HCE_APDU_MAX) {
		snprintf(t->err, sizeof(t->err), "C-APDU of %zu bytes too long", len);
		return -EMSGSIZE;
	}
	n = send(p->fd, capdu, len, MSG_NOSIGNAL);
	if (n < 0)
		return nfc_fail(t, errno, "AF_NFC send");
	if ((size_t)n != len)
		return nfc_fail(t, EIO, "AF_NFC send (short)");
	pfd.fd = p->fd;
	pfd.events = POLLIN;
	do {
		rc = poll(&pfd, 1, p->timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return nfc_fail(t, errno, "poll");
	if (rc == 0)
		return nfc_fail(t, ETIMEDOUT, "no answer from the card");
	n = recv(p->fd, p->rbuf, sizeof(p->rbuf), MSG_DONTWAIT);
	if (n < 0)
		return nfc_fail(t, errno, "AF_NFC exchange");
	if (n == 0)
		return nfc_fail(t, EIO, "AF_NFC exchange (connection closed)");
	/* the raw socket puts a one-byte header (0x00) in front of every frame */
	if (p->rbuf[0] != 0x00 || n < 3)
		return nfc_fail(t, EIO, "AF_NFC exchange (malformed frame)");
	if ((size_t)(n - 1) > cap) {
		snprintf(t->err, sizeof(t->err), "R-APDU of %zd bytes does not fit", n - 1);
		return -EMSGSIZE;
	}
	memcpy(rapdu, p->rbuf + 1, (size_t)(n - 1));
	*rlen = (size_t)(n - 1);
	return 0;
}

static int nfc_reset(struct hce_term_transport *t)
{
	struct nfc_priv *p = t->priv;

	card_disconnect(p);
	fault_clear(p);		/* the card presented again: a fresh field */
	t->err[0] = '\0';
	return card_connect(t);
}

static void nfc_close(struct hce_term_transport *t)
{
	struct nfc_priv *p = t->priv;

	if (!p)
		return;
	card_disconnect(p);
	fault_clear(p);
	hce_nfcnl_close(p->nl);
	free(p);
}

static const struct hce_term_transport_ops nfc_ops = {
	.name = "nfc",
	.transmit = nfc_transmit,
	.reset = nfc_reset,
	.close = nfc_close,
};

int hce_term_transport_nfc(struct hce_term_transport *t, const struct hce_term_nfc_opts *o)
{
	struct nfc_priv *p;
	int rc;

	memset(t, 0, sizeof(*t));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->lockfd = -1;
	p->dead = true;
	p->present_ms = o && o->present_ms > 0 ? o->present_ms : NFC_PRESENT_MS_DEFAULT;
	p->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : NFC_TIMEOUT_MS_DEFAULT;
	rc = tn_open(&p->nl, t->err, sizeof(t->err));
	if (rc)
		goto fail;
	rc = find_reader(p->nl, o ? o->reader : NULL, &p->reader, t->err, sizeof(t->err));
	if (rc)
		goto fail_nl;
	rc = hce_nfcnl_dev_up(p->nl, p->reader);
	if (rc && rc != -EALREADY && rc != -EBUSY) {
		snprintf(t->err, sizeof(t->err), "nfc DEV_UP of reader %u: %s", p->reader,
			 strerror(-rc));
		rc = -ENODEV;
		goto fail_nl;
	}
	t->priv = p;
	t->ops = &nfc_ops;
	if (o && o->field_loss_once) {
		struct hce_term_nfc_link l = { .bitrate = -1, .drop_every = -1,
					       .field_loss_after = o->field_loss_once };

		rc = pair_of_reader(p->nl, p->reader, &p->fault_card);
		if (!rc)
			rc = vpair_set(p->nl, p->fault_card, &l);
		if (rc) {
			snprintf(t->err, sizeof(t->err), "field loss fault on reader %u: %s",
				 p->reader, strerror(-rc));
			goto fail_open;
		}
		p->fault_frame = o->field_loss_once;
	}
	rc = card_connect(t);
	if (rc)
		goto fail_open;
	return 0;

fail_open:
	card_disconnect(p);
	fault_clear(p);
	t->ops = NULL;
	t->priv = NULL;
fail_nl:
	hce_nfcnl_close(p->nl);
fail:
	free(p);
	return rc;
}

bool hce_term_nfc_fault_fired(const struct hce_term_transport *t)
{
	const struct nfc_priv *p = t->priv;

	return p && p->fault_fired;
}

uint32_t hce_term_nfc_reader_index(const struct hce_term_transport *t)
{
	const struct nfc_priv *p = t->priv;

	return p ? p->reader : UINT32_MAX;
}

/* ---- virtual pairs ---- */

int hce_term_nfc_pairs(struct hce_term_nfc_pair *out, size_t max, size_t *n, char *err,
		       size_t errlen)
{
	struct hce_nfcnl *nl;
	int rc;

	*n = 0;
	rc = tn_open(&nl, err, errlen);
	if (rc)
		return rc;
	rc = hce_pairs(nl, out, max, n);
	if (rc)
		snprintf(err, errlen, "nfc_hce GET_DEVICE: %s%s", strerror(-rc),
			 rc == -EOPNOTSUPP ? " (nfc_hce not loaded)" : "");
	hce_nfcnl_close(nl);
	return rc;
}

int hce_term_nfc_link_set(const char *reader, const struct hce_term_nfc_link *l, char *err,
			  size_t errlen)
{
	struct hce_nfcnl *nl;
	uint32_t r, card;
	int rc;

	rc = tn_open(&nl, err, errlen);
	if (rc)
		return rc;
	rc = find_reader(nl, reader, &r, err, errlen);
	if (!rc) {
		rc = pair_of_reader(nl, r, &card);
		if (rc)
			snprintf(err, errlen, "reader %u is not the reader of a virtual pair", r);
	}
	if (!rc) {
		rc = vpair_set(nl, card, l);
		if (rc)
			snprintf(err, errlen, "nfc_hce VPAIR_SET: %s", strerror(-rc));
	}
	hce_nfcnl_close(nl);
	return rc;
}

/* VPAIR_CREATE (card and reader out) or VPAIR_DESTROY of *card. */
static int vpair(bool create, uint32_t *card, uint32_t *reader, char *err, size_t errlen)
{
	struct hce_nfcnl *nl;
	int rc;

	rc = tn_open(&nl, err, errlen);
	if (rc)
		return rc;
	if (!have_hce(nl))
		rc = -EOPNOTSUPP;
	else
		rc = create ? hce_nfcnl_vpair_create(nl, card, reader) :
			      hce_nfcnl_vpair_destroy(nl, *card);
	if (rc && create)
		snprintf(err, errlen, "nfc_hce VPAIR_CREATE: %s", strerror(-rc));
	else if (rc)
		snprintf(err, errlen, "nfc_hce VPAIR_DESTROY %u: %s", *card, strerror(-rc));
	hce_nfcnl_close(nl);
	return rc;
}

int hce_term_nfc_pair_create(uint32_t *card, uint32_t *reader, char *err, size_t errlen)
{
	return vpair(true, card, reader, err, errlen);
}

int hce_term_nfc_pair_destroy(uint32_t card, char *err, size_t errlen)
{
	return vpair(false, &card, NULL, err, errlen);
}
