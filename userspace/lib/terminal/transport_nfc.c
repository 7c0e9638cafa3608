// SPDX-License-Identifier: GPL-2.0
/*
 * transport_nfc.c - terminal transport over a kernel NFC reader device. The only file of the
 * terminal that uses netlink. The card session (DEV_UP, the reader lock, one activation per
 * poll: START_POLL, the "events" group, GET_TARGET, the AF_NFC raw socket) and the virtual
 * pairs' VPAIR_CREATE / VPAIR_DESTROY go through lib/nfcnl (nfcnl.h, reader.h); the device
 * list, the pair list with link options and counters, and VPAIR_SET are still asked here with
 * libnl directly. See transport_nfc.h.
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

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#define NFC_PRESENT_MS_DEFAULT 10000
#define NFC_TIMEOUT_MS_DEFAULT 5000
#define NFC_REQ_TIMEOUT_S 5
#define NFC_BUSY_RETRY_MS 20
#define NFC_MAX_DEVS 64

struct nfcnl {
	struct nl_sock *cmd;	/* requests, replies, acks */
	int nfc_fam;
	int hce_fam;		/* -1: nfc_hce not loaded */
};

struct nfc_priv {
	struct nfcnl nl;	/* devices, virtual pairs, link options */
	struct hce_nfcnl *hn;	/* the card session: DEV_UP, polls, events (nfcnl/reader.h) */
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

/* ---- netlink requests ---- */

struct req {
	int err;			/* 1 while running, then 0 or -errno */
	int maxattr;
	int (*valid)(struct nlattr **tb, void *arg);
	void *arg;
	int cb_err;
};

static int req_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req *r = arg;

	(void)nla;
	r->err = e->error ? e->error : 0;
	return NL_STOP;
}

static int req_finish(struct nl_msg *m, void *arg)
{
	struct req *r = arg;

	(void)m;
	r->err = 0;
	return NL_SKIP;
}

static int req_ack(struct nl_msg *m, void *arg)
{
	struct req *r = arg;

	(void)m;
	r->err = 0;
	return NL_STOP;
}

static int req_valid(struct nl_msg *m, void *arg)
{
	struct req *r = arg;
	struct nlattr *tb[NFC_ATTR_MAX > NFC_HCE_ATTR_MAX ? NFC_ATTR_MAX + 1 : NFC_HCE_ATTR_MAX + 1];
	int rc;

	if (!r->valid || r->cb_err)
		return NL_SKIP;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, r->maxattr, NULL))
		return NL_SKIP;
	rc = r->valid(tb, r->arg);
	if (rc)
		r->cb_err = rc;
	return NL_SKIP;
}

/* Sends msg (freed here) on the command socket and runs valid per reply until the ack. */
static int tn_exec(struct nfcnl *n, struct nl_msg *msg, int maxattr,
		   int (*valid)(struct nlattr **tb, void *arg), void *arg)
{
	struct req r = { .err = 1, .maxattr = maxattr, .valid = valid, .arg = arg };
	struct nl_cb *cb;
	int rc;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, req_error, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_finish, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &r);
	rc = nl_send_auto(n->cmd, msg);
	nlmsg_free(msg);
	if (rc < 0) {
		nl_cb_put(cb);
		return -EIO;
	}
	while (r.err > 0) {
		rc = nl_recvmsgs(n->cmd, cb);
		if (rc < 0 && r.err > 0) {
			r.err = rc == -NLE_AGAIN ? -ETIMEDOUT : -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	if (r.err)
		return r.err;
	return r.cb_err;
}

static struct nl_msg *tn_new(int fam, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, flags, cmd, 1)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void tn_close(struct nfcnl *n)
{
	if (n->cmd)
		nl_socket_free(n->cmd);
	n->cmd = NULL;
}

static int tn_open(struct nfcnl *n, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = NFC_REQ_TIMEOUT_S };

	memset(n, 0, sizeof(*n));
	n->hce_fam = -1;
	/*
	 * hce_nfcnl_connect(): a port id no recently closed socket of ours had. The NFC core
	 * stops a poll from deferred work that matches the closed socket by port id only
	 * (Documentation/nfc-hce.rst); a reopened socket with the old port would have the
	 * reader's START_POLL stopped by the old socket's late cleanup.
	 */
	n->cmd = nl_socket_alloc();
	if (!n->cmd || hce_nfcnl_connect(n->cmd)) {
		snprintf(err, errlen, "netlink: cannot open a generic netlink socket");
		goto fail;
	}
	setsockopt(nl_socket_get_fd(n->cmd), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n->nfc_fam = genl_ctrl_resolve(n->cmd, NFC_GENL_NAME);
	if (n->nfc_fam < 0) {
		snprintf(err, errlen, "netlink: no \"%s\" family (is the nfc module loaded?)",
			 NFC_GENL_NAME);
		goto fail;
	}
	n->hce_fam = genl_ctrl_resolve(n->cmd, NFC_HCE_GENL_NAME);
	if (n->hce_fam < 0)
		n->hce_fam = -1;
	return 0;
fail:
	tn_close(n);
	return -ENODEV;
}

/* ---- devices ---- */

struct devlist {
	uint32_t idx[NFC_MAX_DEVS];
	char name[NFC_MAX_DEVS][32];
	size_t n;
};

static int dev_cb(struct nlattr **tb, void *arg)
{
	struct devlist *d = arg;

	if (!tb[NFC_ATTR_DEVICE_INDEX] || d->n >= NFC_MAX_DEVS)
		return 0;
	d->idx[d->n] = nla_get_u32(tb[NFC_ATTR_DEVICE_INDEX]);
	d->name[d->n][0] = '\0';
	if (tb[NFC_ATTR_DEVICE_NAME])
		snprintf(d->name[d->n], sizeof(d->name[0]), "%s",
			 (const char *)nla_data(tb[NFC_ATTR_DEVICE_NAME]));
	d->n++;
	return 0;
}

static int nfc_devices(struct nfcnl *n, struct devlist *d)
{
	struct nl_msg *msg = tn_new(n->nfc_fam, NFC_CMD_GET_DEVICE, NLM_F_DUMP);

	memset(d, 0, sizeof(*d));
	if (!msg)
		return -ENOMEM;
	return tn_exec(n, msg, NFC_ATTR_MAX, dev_cb, d);
}

struct pairlist {
	struct hce_term_nfc_pair *p;
	size_t max;
	size_t n;
};

static int pair_cb(struct nlattr **tb, void *arg)
{
	struct pairlist *l = arg;
	struct hce_term_nfc_pair *p;
	uint32_t card;
	size_t i;

	if (!tb[NFC_HCE_ATTR_DEVICE_INDEX])
		return 0;
	card = nla_get_u32(tb[NFC_HCE_ATTR_DEVICE_INDEX]);
	for (i = 0; i < l->n && l->p[i].card != card; i++)
		;
	if (i == l->n) {
		if (l->n >= l->max)
			return 0;
		p = &l->p[l->n++];
		memset(p, 0, sizeof(*p));
		p->card = card;
		p->reader = UINT32_MAX;
	} else {
		p = &l->p[i];
	}
	if (tb[NFC_HCE_ATTR_READER_INDEX])
		p->reader = nla_get_u32(tb[NFC_HCE_ATTR_READER_INDEX]);
	if (tb[NFC_HCE_ATTR_BOUND])
		p->bound = nla_get_u8(tb[NFC_HCE_ATTR_BOUND]);
	if (tb[NFC_HCE_ATTR_LISTENING])
		p->listening = nla_get_u8(tb[NFC_HCE_ATTR_LISTENING]);
	if (tb[NFC_HCE_ATTR_BITRATE])
		p->bitrate = nla_get_u32(tb[NFC_HCE_ATTR_BITRATE]);
	if (tb[NFC_HCE_ATTR_FIELD_LOSS_AFTER])
		p->field_loss_after = nla_get_u32(tb[NFC_HCE_ATTR_FIELD_LOSS_AFTER]);
	if (tb[NFC_HCE_ATTR_DROP_EVERY])
		p->drop_every = nla_get_u32(tb[NFC_HCE_ATTR_DROP_EVERY]);
	if (tb[NFC_HCE_ATTR_STATS]) {
		struct nlattr *s;
		int rem;

		nla_for_each_nested(s, tb[NFC_HCE_ATTR_STATS], rem) {
			uint64_t v;

			if (nla_len(s) != 8)
				continue;
			v = nla_get_u64(s);
			switch (nla_type(s)) {
			case NFC_HCE_STATS_ACTIVATIONS: p->activations = v; break;
			case NFC_HCE_STATS_CAPDUS: p->capdus = v; break;
			case NFC_HCE_STATS_FIELD_LOSSES: p->field_losses = v; break;
			case NFC_HCE_STATS_DEADLINE_EXPIRIES: p->deadline_expiries = v; break;
			case NFC_HCE_STATS_FRAMES: p->frames = v; break;
			case NFC_HCE_STATS_RETRANSMISSIONS: p->retransmissions = v; break;
			default: break;
			}
		}
	}
	return 0;
}

static int hce_pairs(struct nfcnl *n, struct pairlist *l)
{
	struct nl_msg *msg;
	int rc;

	if (n->hce_fam < 0)
		return -EOPNOTSUPP;
	msg = tn_new(n->hce_fam, NFC_HCE_CMD_GET_DEVICE, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	rc = tn_exec(n, msg, NFC_HCE_ATTR_MAX, pair_cb, l);
	if (rc)
		return rc;
	msg = tn_new(n->hce_fam, NFC_HCE_CMD_GET_STATS, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	return tn_exec(n, msg, NFC_HCE_ATTR_MAX, pair_cb, l);
}

/* Finds the reader device named by spec ("nfcN", an index, or NULL). */
static int find_reader(struct nfcnl *n, const char *spec, uint32_t *reader, char *err,
		       size_t errlen)
{
	struct hce_term_nfc_pair pairs[NFC_MAX_DEVS];
	struct pairlist pl = { .p = pairs, .max = NFC_MAX_DEVS };
	struct devlist d;
	size_t i, j;
	int rc;

	rc = nfc_devices(n, &d);
	if (rc) {
		snprintf(err, errlen, "nfc GET_DEVICE: %s", strerror(-rc));
		return rc;
	}
	if (spec && *spec) {
		char *end;
		unsigned long v = strtoul(spec, &end, 10);

		for (i = 0; i < d.n; i++)
			if (!strcmp(d.name[i], spec) || (!*end && end != spec && d.idx[i] == v)) {
				*reader = d.idx[i];
				return 0;
			}
		snprintf(err, errlen, "no nfc device '%s'", spec);
		return -ENODEV;
	}
	if (n->hce_fam >= 0 && !hce_pairs(n, &pl)) {
		for (i = 0; i < pl.n; i++)
			if (pairs[i].reader != UINT32_MAX) {
				*reader = pairs[i].reader;
				return 0;
			}
	}
	/* any nfc device that is not a card device */
	for (i = 0; i < d.n; i++) {
		for (j = 0; j < pl.n && pairs[j].card != d.idx[i]; j++)
			;
		if (j == pl.n) {
			*reader = d.idx[i];
			return 0;
		}
	}
	snprintf(err, errlen, "no nfc reader device found");
	return -ENODEV;
}

/* Card device of the virtual pair whose reader is reader. */
static int pair_of_reader(struct nfcnl *n, uint32_t reader, uint32_t *card)
{
	struct hce_term_nfc_pair pairs[NFC_MAX_DEVS];
	struct pairlist pl = { .p = pairs, .max = NFC_MAX_DEVS };
	size_t i;
	int rc;

	rc = hce_pairs(n, &pl);
	if (rc)
		return rc;
	for (i = 0; i < pl.n; i++)
		if (pairs[i].reader == reader) {
			*card = pairs[i].card;
			return 0;
		}
	return -ENODEV;
}

static int vpair_set(struct nfcnl *n, uint32_t card, const struct hce_term_nfc_link *l)
{
	struct nl_msg *msg;

	if (n->hce_fam < 0)
		return -EOPNOTSUPP;
	msg = tn_new(n->hce_fam, NFC_HCE_CMD_VPAIR_SET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, card) ||
	    (l->bitrate >= 0 && nla_put_u32(msg, NFC_HCE_ATTR_BITRATE, (uint32_t)l->bitrate)) ||
	    (l->field_loss_after >= 0 &&
	     nla_put_u32(msg, NFC_HCE_ATTR_FIELD_LOSS_AFTER, (uint32_t)l->field_loss_after)) ||
	    (l->drop_every >= 0 &&
	     nla_put_u32(msg, NFC_HCE_ATTR_DROP_EVERY, (uint32_t)l->drop_every))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return tn_exec(n, msg, NFC_HCE_ATTR_MAX, NULL, NULL);
}

/* ---- card session ---- */

static void fault_clear(struct nfc_priv *p)
{
	struct hce_term_nfc_link l = { .bitrate = -1, .field_loss_after = 0, .drop_every = -1 };

	if (!p->fault_frame)
		return;
	vpair_set(&p->nl, p->fault_card, &l);
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
		rc = hce_nfcnl_reader_activate(p->hn, p->reader, &act, &tg, &step);
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
				hce_nfcnl_dev_up(p->hn, p->reader);
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
	hce_nfcnl_close(p->hn);
	tn_close(&p->nl);
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
	rc = hce_nfcnl_open(&p->hn);
	if (rc) {
		snprintf(t->err, sizeof(t->err), "netlink: cannot subscribe to the nfc events");
		rc = -ENODEV;
		goto fail_nl;
	}
	rc = find_reader(&p->nl, o ? o->reader : NULL, &p->reader, t->err, sizeof(t->err));
	if (rc)
		goto fail_nl;
	rc = hce_nfcnl_dev_up(p->hn, p->reader);
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

		rc = pair_of_reader(&p->nl, p->reader, &p->fault_card);
		if (!rc)
			rc = vpair_set(&p->nl, p->fault_card, &l);
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
	hce_nfcnl_close(p->hn);
	tn_close(&p->nl);
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
	struct pairlist pl = { .p = out, .max = max };
	struct nfcnl nl;
	int rc;

	*n = 0;
	rc = tn_open(&nl, err, errlen);
	if (rc)
		return rc;
	rc = hce_pairs(&nl, &pl);
	if (rc)
		snprintf(err, errlen, "nfc_hce GET_DEVICE: %s%s", strerror(-rc),
			 rc == -EOPNOTSUPP ? " (nfc_hce not loaded)" : "");
	tn_close(&nl);
	*n = pl.n;
	return rc;
}

int hce_term_nfc_link_set(const char *reader, const struct hce_term_nfc_link *l, char *err,
			  size_t errlen)
{
	struct nfcnl nl;
	uint32_t r, card;
	int rc;

	rc = tn_open(&nl, err, errlen);
	if (rc)
		return rc;
	rc = find_reader(&nl, reader, &r, err, errlen);
	if (!rc) {
		rc = pair_of_reader(&nl, r, &card);
		if (rc)
			snprintf(err, errlen, "reader %u is not the reader of a virtual pair", r);
	}
	if (!rc) {
		rc = vpair_set(&nl, card, l);
		if (rc)
			snprintf(err, errlen, "nfc_hce VPAIR_SET: %s", strerror(-rc));
	}
	tn_close(&nl);
	return rc;
}

/*
 * A lib/nfcnl handle with the nfc_hce family resolved, for one request: -ENODEV without the
 * nfc family (err says so, as tn_open() does), -EOPNOTSUPP without nfc_hce (err untouched).
 */
static int hn_open(struct hce_nfcnl **nl, char *err, size_t errlen)
{
	if (hce_nfcnl_open(nl)) {
		snprintf(err, errlen, "netlink: no \"%s\" family (is the nfc module loaded?)",
			 NFC_GENL_NAME);
		return -ENODEV;
	}
	if (hce_nfcnl_hce_resolve(*nl))
		return -EOPNOTSUPP;
	return 0;
}

int hce_term_nfc_pair_create(uint32_t *card, uint32_t *reader, char *err, size_t errlen)
{
	struct hce_nfcnl *nl = NULL;
	int rc;

	rc = hn_open(&nl, err, errlen);
	if (rc == -ENODEV)
		return rc;
	if (!rc)
		rc = hce_nfcnl_vpair_create(nl, card, reader);
	if (rc)
		snprintf(err, errlen, "nfc_hce VPAIR_CREATE: %s", strerror(-rc));
	hce_nfcnl_close(nl);
	return rc;
}

int hce_term_nfc_pair_destroy(uint32_t card, char *err, size_t errlen)
{
	struct hce_nfcnl *nl = NULL;
	int rc;

	rc = hn_open(&nl, err, errlen);
	if (rc == -ENODEV)
		return rc;
	if (!rc)
		rc = hce_nfcnl_vpair_destroy(nl, card);
	if (rc)
		snprintf(err, errlen, "nfc_hce VPAIR_DESTROY %u: %s", card, strerror(-rc));
	hce_nfcnl_close(nl);
	return rc;
}
