// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c: all libnl use of the APDU round-trip benchmark. See nl.h.
 */
#define _GNU_SOURCE
#include "nl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/nfc.h>
#include <linux/nfc_hce.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#define BNL_BUF_SIZE (64 * 1024)

struct bnl {
	struct nl_sock *cmd;	/* requests and their replies */
	struct nl_sock *ev;	/* "nfc" multicast events */
	int nfc_fam;
	int hce_fam;
};

struct bnl_owner {
	struct nl_sock *sk;
	int fam;
	uint32_t card;
	struct bnl_owner_stats st;
	uint8_t *rbuf;		/* R-APDU being built */
};

/* libnl reports its own error codes; map the common ones back to errno. */
static int bnl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_PERM: return -EPERM;
	case NLE_BUSY: return -EBUSY;
	case NLE_INVAL: return -EINVAL;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_NODEV: return -ENODEV;
	default:
		fprintf(stderr, "apdu-rtt: libnl: %s\n", nl_geterror(nlerr));
		return -EIO;
	}
}

static int bnl_socket(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err < 0) {
		nl_socket_free(sk);
		return bnl_errno(err);
	}
	nl_socket_set_msg_buf_size(sk, BNL_BUF_SIZE);
	nl_socket_enable_msg_peek(sk);
	*out = sk;
	return 0;
}

/* A private copy of the socket's callbacks (keeps e.g. a disabled seq check). */
static struct nl_cb *bnl_cb_clone(struct nl_sock *sk)
{
	struct nl_cb *scb = nl_socket_get_cb(sk);
	struct nl_cb *cb = nl_cb_clone(scb);

	nl_cb_put(scb);
	return cb;
}

/* ---- one request, its replies (parsed by @parse), then ACK / DONE / error. */

struct bnl_req {
	int status;		/* 1 running, 0 done, <0 errno */
	nl_recvmsg_msg_cb_t parse;
	void *arg;
};

static int bnl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct bnl_req *r = arg;

	(void)nla;
	r->status = e->error < 0 ? e->error : -EIO;
	return NL_STOP;
}

static int bnl_fin_cb(struct nl_msg *msg, void *arg)
{
	struct bnl_req *r = arg;

	(void)msg;
	r->status = 0;
	return NL_STOP;
}

static int bnl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct bnl_req *r = arg;

	return r->parse ? r->parse(msg, r->arg) : NL_OK;
}

typedef int (*bnl_put_fn)(struct nl_msg *msg, const void *arg);

static int bnl_request(struct nl_sock *sk, int fam, uint8_t cmd, int dump,
		       bnl_put_fn put, const void *putarg,
		       nl_recvmsg_msg_cb_t parse, void *parsearg)
{
	struct bnl_req r = { .status = 1, .parse = parse, .arg = parsearg };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int err;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0,
			 dump ? NLM_F_DUMP : NLM_F_ACK, cmd, 1)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	if (put && put(msg, putarg) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, bnl_err_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, bnl_fin_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, bnl_fin_cb, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, bnl_valid_cb, &r);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(cb);
		return bnl_errno(err);
	}
	while (r.status > 0) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && r.status > 0) {
			r.status = bnl_errno(err);
			break;
		}
	}
	nl_cb_put(cb);
	return r.status;
}

static int bnl_put_idx(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, *(const uint32_t *)arg);
}

static int bnl_put_hce_idx(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX,
			   *(const uint32_t *)arg);
}

int bnl_open(struct bnl **out)
{
	struct bnl *b = calloc(1, sizeof(*b));
	int grp, err;

	if (!b)
		return -ENOMEM;
	err = bnl_socket(&b->cmd);
	if (err)
		goto fail;
	err = bnl_socket(&b->ev);
	if (err)
		goto fail;
	b->nfc_fam = genl_ctrl_resolve(b->cmd, NFC_GENL_NAME);
	b->hce_fam = genl_ctrl_resolve(b->cmd, NFC_HCE_GENL_NAME);
	grp = genl_ctrl_resolve_grp(b->cmd, NFC_GENL_NAME,
				    NFC_GENL_MCAST_EVENT_NAME);
	if (b->nfc_fam < 0 || b->hce_fam < 0 || grp < 0) {
		err = -ENOENT;
		goto fail;
	}
	nl_socket_disable_seq_check(b->ev);
	err = nl_socket_add_membership(b->ev, grp);
	if (err < 0) {
		err = bnl_errno(err);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	bnl_close(b);
	return err;
}

void bnl_close(struct bnl *b)
{
	if (!b)
		return;
	if (b->ev)
		nl_socket_free(b->ev);
	if (b->cmd)
		nl_socket_free(b->cmd);
	free(b);
}

/* ---- nfc_hce */

struct bnl_pair {
	uint32_t card, reader;
	int found;
};

static int bnl_pair_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1];
	struct bnl_pair *p = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	if (p->found || !tb[NFC_HCE_ATTR_DEVICE_INDEX] ||
	    !tb[NFC_HCE_ATTR_READER_INDEX])
		return NL_OK;
	p->card = nla_get_u32(tb[NFC_HCE_ATTR_DEVICE_INDEX]);
	p->reader = nla_get_u32(tb[NFC_HCE_ATTR_READER_INDEX]);
	p->found = 1;
	return NL_OK;
}

int bnl_vpair_create(struct bnl *b, uint32_t *card, uint32_t *reader)
{
	struct bnl_pair p = { 0 };
	int err;

	err = bnl_request(b->cmd, b->hce_fam, NFC_HCE_CMD_VPAIR_CREATE, 0,
			  NULL, NULL, bnl_pair_cb, &p);
	if (err)
		return err;
	if (!p.found)
		return -EPROTO;
	*card = p.card;
	*reader = p.reader;
	return 0;
}

int bnl_vpair_destroy(struct bnl *b, uint32_t card)
{
	return bnl_request(b->cmd, b->hce_fam, NFC_HCE_CMD_VPAIR_DESTROY, 0,
			   bnl_put_hce_idx, &card, NULL, NULL);
}

int bnl_find_pair(struct bnl *b, uint32_t *card, uint32_t *reader)
{
	struct bnl_pair p = { 0 };
	int err;

	err = bnl_request(b->cmd, b->hce_fam, NFC_HCE_CMD_GET_DEVICE, 1,
			  NULL, NULL, bnl_pair_cb, &p);
	if (err)
		return err;
	if (!p.found)
		return -ENODEV;
	*card = p.card;
	*reader = p.reader;
	return 0;
}

struct bnl_fwi {
	uint32_t card;
	uint8_t fwi;
};

static int bnl_put_fwi(struct nl_msg *msg, const void *arg)
{
	const struct bnl_fwi *f = arg;

	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, f->card) < 0)
		return -1;
	return nla_put_u8(msg, NFC_HCE_ATTR_FWI, f->fwi);
}

int bnl_set_fwi(struct bnl *b, uint32_t card, uint8_t fwi)
{
	struct bnl_fwi f = { .card = card, .fwi = fwi };

	return bnl_request(b->cmd, b->hce_fam, NFC_HCE_CMD_SET_LISTEN, 0,
			   bnl_put_fwi, &f, NULL, NULL);
}

/* ---- nfc */

int bnl_dev_up(struct bnl *b, uint32_t idx)
{
	return bnl_request(b->cmd, b->nfc_fam, NFC_CMD_DEV_UP, 0,
			   bnl_put_idx, &idx, NULL, NULL);
}

int bnl_dev_down(struct bnl *b, uint32_t idx)
{
	return bnl_request(b->cmd, b->nfc_fam, NFC_CMD_DEV_DOWN, 0,
			   bnl_put_idx, &idx, NULL, NULL);
}

struct bnl_poll {
	uint32_t idx, im, tm;
};

static int bnl_put_poll(struct nl_msg *msg, const void *arg)
{
	const struct bnl_poll *p = arg;

	if (nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, p->idx) < 0)
		return -1;
	if (p->im && nla_put_u32(msg, NFC_ATTR_IM_PROTOCOLS, p->im) < 0)
		return -1;
	if (p->tm && nla_put_u32(msg, NFC_ATTR_TM_PROTOCOLS, p->tm) < 0)
		return -1;
	return 0;
}

int bnl_start_poll(struct bnl *b, uint32_t idx, uint32_t im_protocols,
		   uint32_t tm_protocols)
{
	struct bnl_poll p = { idx, im_protocols, tm_protocols };

	return bnl_request(b->cmd, b->nfc_fam, NFC_CMD_START_POLL, 0,
			   bnl_put_poll, &p, NULL, NULL);
}

struct bnl_found {
	uint32_t idx;
	int found;
};

static int bnl_found_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct bnl_found *f = arg;

	/* Only the kernel sends events. */
	if (nlmsg_get_src(msg)->nl_pid != 0)
		return NL_SKIP;
	if (g->cmd != NFC_EVENT_TARGETS_FOUND)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	if (tb[NFC_ATTR_DEVICE_INDEX] &&
	    nla_get_u32(tb[NFC_ATTR_DEVICE_INDEX]) == f->idx)
		f->found = 1;
	return NL_OK;
}

struct bnl_target {
	uint32_t idx;
	int found;
};

static int bnl_target_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	struct bnl_target *t = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	if (t->found || !tb[NFC_ATTR_TARGET_INDEX])
		return NL_OK;
	if (tb[NFC_ATTR_PROTOCOLS] &&
	    !(nla_get_u32(tb[NFC_ATTR_PROTOCOLS]) & NFC_PROTO_ISO14443_MASK))
		return NL_OK;
	t->idx = nla_get_u32(tb[NFC_ATTR_TARGET_INDEX]);
	t->found = 1;
	return NL_OK;
}

static long long bnl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int bnl_wait_target(struct bnl *b, uint32_t idx, int timeout_ms,
		    uint32_t *target_idx)
{
	struct bnl_found f = { .idx = idx };
	struct bnl_target t = { 0 };
	long long deadline = bnl_now_ms() + timeout_ms;
	struct nl_cb *cb;
	int err = 0;

	/* A clone keeps the socket's disabled sequence check (events carry 0). */
	cb = bnl_cb_clone(b->ev);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, bnl_found_cb, &f);
	while (!f.found) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(b->ev),
				      .events = POLLIN };
		long long left = deadline - bnl_now_ms();
		int n;

		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (n <= 0)
			continue;
		n = nl_recvmsgs(b->ev, cb);
		if (n < 0) {
			err = bnl_errno(n);
			break;
		}
	}
	nl_cb_put(cb);
	if (err)
		return err;
	err = bnl_request(b->cmd, b->nfc_fam, NFC_CMD_GET_TARGET, 1,
			  bnl_put_idx, &idx, bnl_target_cb, &t);
	if (err)
		return err;
	if (!t.found)
		return -ENOENT;
	*target_idx = t.idx;
	return 0;
}

/* ---- the card owner */

int bnl_owner_open(struct bnl_owner **out, uint32_t card)
{
	struct bnl_owner *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return -ENOMEM;
	o->card = card;
	o->rbuf = malloc(NFC_HCE_APDU_MAX);
	if (!o->rbuf) {
		err = -ENOMEM;
		goto fail;
	}
	err = bnl_socket(&o->sk);
	if (err)
		goto fail;
	o->fam = genl_ctrl_resolve(o->sk, NFC_HCE_GENL_NAME);
	if (o->fam < 0) {
		err = -ENOENT;
		goto fail;
	}
	err = bnl_request(o->sk, o->fam, NFC_HCE_CMD_BIND, 0,
			  bnl_put_hce_idx, &card, NULL, NULL);
	if (err)
		goto fail;
	/* Events carry sequence 0; responses are sent without ACK. */
	nl_socket_disable_seq_check(o->sk);
	*out = o;
	return 0;
fail:
	bnl_owner_close(o);
	return err;
}

static int bnl_owner_respond(struct bnl_owner *o, uint32_t session,
			     uint32_t seq, const uint8_t *capdu, size_t len)
{
	struct nl_msg *msg;
	size_t rlen = len < 2 ? 2 : len;
	int err;

	/* Echo-style R-APDU of the C-APDU's length: its first bytes, 90 00. */
	memcpy(o->rbuf, capdu, rlen - 2);
	o->rbuf[rlen - 2] = 0x90;
	o->rbuf[rlen - 1] = 0x00;
	msg = nlmsg_alloc_size(rlen + 256);
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, o->fam, 0, 0,
			 NFC_HCE_CMD_RESPONSE, 1) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, o->card) < 0 ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SESSION_ID, session) < 0 ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SEQ, seq) < 0 ||
	    nla_put(msg, NFC_HCE_ATTR_APDU, (int)rlen, o->rbuf) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = nl_send_auto(o->sk, msg);
	nlmsg_free(msg);
	return err < 0 ? bnl_errno(err) : 0;
}

static int bnl_owner_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1];
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct bnl_owner *o = arg;
	int err;

	if (nlmsg_get_src(msg)->nl_pid != 0)
		return NL_SKIP;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0)
		return NL_SKIP;
	switch (g->cmd) {
	case NFC_HCE_CMD_SESSION_START:
		o->st.sessions++;
		break;
	case NFC_HCE_CMD_SESSION_END:
		o->st.session_ends++;
		break;
	case NFC_HCE_CMD_APDU:
		if (!tb[NFC_HCE_ATTR_SESSION_ID] || !tb[NFC_HCE_ATTR_SEQ] ||
		    !tb[NFC_HCE_ATTR_APDU])
			return NL_SKIP;
		o->st.capdus++;
		err = bnl_owner_respond(o,
					nla_get_u32(tb[NFC_HCE_ATTR_SESSION_ID]),
					nla_get_u32(tb[NFC_HCE_ATTR_SEQ]),
					nla_data(tb[NFC_HCE_ATTR_APDU]),
					(size_t)nla_len(tb[NFC_HCE_ATTR_APDU]));
		if (err)
			o->st.last_error = err;
		else
			o->st.responses++;
		break;
	default:
		break;
	}
	return NL_OK;
}

static int bnl_owner_err(struct sockaddr_nl *nla, struct nlmsgerr *e,
			 void *arg)
{
	struct bnl_owner *o = arg;

	(void)nla;
	if (e->error) {
		o->st.nl_errors++;
		o->st.last_error = e->error;
	}
	return NL_SKIP;
}

int bnl_owner_run(struct bnl_owner *o, const atomic_int *stop)
{
	struct nl_cb *cb;
	int err = 0;

	cb = bnl_cb_clone(o->sk);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, bnl_owner_event, o);
	nl_cb_err(cb, NL_CB_CUSTOM, bnl_owner_err, o);
	while (!atomic_load(stop)) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(o->sk),
				      .events = POLLIN };
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (n <= 0)
			continue;
		n = nl_recvmsgs(o->sk, cb);
		if (n < 0) {
			err = bnl_errno(n);
			break;
		}
	}
	nl_cb_put(cb);
	return err;
}

void bnl_owner_stats(const struct bnl_owner *o, struct bnl_owner_stats *st)
{
	*st = o->st;
}

void bnl_owner_close(struct bnl_owner *o)
{
	if (!o)
		return;
	if (o->sk)
		nl_socket_free(o->sk);
	free(o->rbuf);
	free(o);
}
