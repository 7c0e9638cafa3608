// SPDX-License-Identifier: GPL-2.0
/*
 * nfcnl.c - all generic netlink use of the userspace programs; see nfcnl.h.
 *
 * Requests go through libnl (nl_send_auto + nl_recvmsgs with per-request callbacks, replies
 * matched by sequence). The two receive paths that see traffic (the "nfc" event socket and the
 * owner socket) read with recvmsg() into a buffer allocated once and parse with libnl's
 * attribute helpers; responses are built in a preallocated buffer. No allocation per APDU.
 */
#include "nfcnl/nfcnl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nfc.h>
#include <linux/nfc_hce.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#define NFCNL_EV_BUF 16384
#define NFCNL_OWNER_BUF (NFC_HCE_APDU_MAX + 4096)
#define NFCNL_RCVBUF (1 << 20)

struct hce_nfcnl {
	struct nl_sock *cmd;	/* requests and their replies only */
	struct nl_sock *ev;	/* "nfc" "events" multicast */
	int nfc_fam;
	int hce_fam;		/* < 0 until resolved */
	uint8_t *evbuf;
};

struct hce_nfcnl_owner {
	struct nl_sock *sk;
	int fam;
	uint32_t dev;
	uint32_t seq;
	uint8_t *rbuf;		/* receive buffer */
	uint8_t *sbuf;		/* RESPONSE being built */
};

/* libnl error codes back to errno (the kernel's own errno arrives through the err callback). */
static int nfcnl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_PERM: return -EPERM;
	case NLE_BUSY: return -EBUSY;
	case NLE_INVAL: return -EINVAL;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_NODEV: return -ENODEV;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_BAD_SOCK: return -EBADF;
	case NLE_DUMP_INTR: return -EINTR;
	case NLE_NOACCESS: return -EACCES;
	default: return -EIO;
	}
}

/* See nfcnl.h: a port id that the NFC core's deferred release of an old socket cannot hit. */
#define NFCNL_PORT_GENS 1024u
#define NFCNL_PORT_TRIES 64

int hce_nfcnl_connect(struct nl_sock *sk)
{
	static unsigned int next;	/* sockets handed out so far (atomically) */
	uint32_t pid = (uint32_t)getpid() & 0x3FFFFFu;
	int err = -NLE_EXIST, i;

	for (i = 0; i < NFCNL_PORT_TRIES; i++) {
		unsigned int n = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
		uint32_t gen = NFCNL_PORT_GENS - 1 - n % (NFCNL_PORT_GENS - 1);	/* 1023..1 */

		nl_socket_set_local_port(sk, pid | gen << 22);
		err = genl_connect(sk);
		if (err >= 0)
			return 0;
		if (err != -NLE_EXIST)	/* EADDRINUSE */
			break;
	}
	return nfcnl_errno(err);
}

static int nfcnl_socket(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = hce_nfcnl_connect(sk);
	if (err < 0) {
		nl_socket_free(sk);
		return err;
	}
	nl_socket_set_buffer_size(sk, NFCNL_RCVBUF, 0);
	nl_socket_set_msg_buf_size(sk, NFCNL_OWNER_BUF);
	*out = sk;
	return 0;
}

/* ---- one request, its replies, then ACK / DONE / error */

struct nfcnl_req {
	int status;		/* 1 running, 0 done, < 0 errno */
	uint32_t seq;		/* our request's sequence number */
	nl_recvmsg_msg_cb_t parse;
	void *arg;
};

/*
 * Anything that is not an answer to our request (an old reply left behind, a message from
 * another sender) is skipped instead of failing the request with a sequence mismatch: one
 * stray message must not poison every later request on the socket.
 */
static int nfcnl_seq_cb(struct nl_msg *msg, void *arg)
{
	struct nfcnl_req *r = arg;

	if (nlmsg_get_src(msg)->nl_pid != 0 || nlmsg_hdr(msg)->nlmsg_seq != r->seq)
		return NL_SKIP;
	return NL_OK;
}

static int nfcnl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nfcnl_req *r = arg;

	if (nla->nl_pid != 0 || e->msg.nlmsg_seq != r->seq)
		return NL_SKIP;
	r->status = e->error < 0 ? e->error : (e->error ? -EIO : 0);
	return NL_STOP;
}

static int nfcnl_fin_cb(struct nl_msg *msg, void *arg)
{
	struct nfcnl_req *r = arg;

	(void)msg;
	r->status = 0;
	return NL_STOP;
}

static int nfcnl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nfcnl_req *r = arg;

	return r->parse ? r->parse(msg, r->arg) : NL_OK;
}

typedef int (*nfcnl_put_fn)(struct nl_msg *msg, const void *arg);

static int nfcnl_request(struct nl_sock *sk, int fam, uint8_t cmd, bool dump, nfcnl_put_fn put,
			 const void *putarg, nl_recvmsg_msg_cb_t parse, void *parsearg)
{
	struct nfcnl_req r = { .status = 1, .parse = parse, .arg = parsearg };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int err;

	if (fam < 0)
		return -ENOENT;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, dump ? NLM_F_DUMP : NLM_F_ACK,
			 cmd, 1) ||
	    (put && put(msg, putarg) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, nfcnl_err_cb, &r);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, nfcnl_seq_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nfcnl_fin_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nfcnl_fin_cb, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nfcnl_valid_cb, &r);
	err = nl_send_auto(sk, msg);
	r.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(cb);
		return nfcnl_errno(err);
	}
	while (r.status > 0) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && r.status > 0)
			r.status = nfcnl_errno(err);
	}
	nl_cb_put(cb);
	return r.status;
}

/*
 * A dump that the device list changed under (NLM_F_DUMP_INTR, -EINTR here) is asked again;
 * what it left in the socket is skipped by the next request's sequence check.
 */
static int nfcnl_dump(struct nl_sock *sk, int fam, uint8_t cmd, nfcnl_put_fn put,
		      const void *putarg, nl_recvmsg_msg_cb_t parse, void *parsearg,
		      void (*reset)(void *parsearg))
{
	int rc = -EINTR;

	for (int i = 0; i < 3 && rc == -EINTR; i++) {
		if (reset)
			reset(parsearg);
		rc = nfcnl_request(sk, fam, cmd, true, put, putarg, parse, parsearg);
	}
	return rc;
}

/* ---- family lookup (CTRL_CMD_GETFAMILY through the same request path) */

struct nfcnl_family {
	const char *grp;
	int id;
	int grp_id;
};

static int put_family_name(struct nl_msg *msg, const void *arg)
{
	return nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, arg);
}

static int family_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *g;
	struct nfcnl_family *f = arg;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, NULL) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_ID])
		return NL_OK;
	f->id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (!f->grp || !tb[CTRL_ATTR_MCAST_GROUPS])
		return NL_OK;
	nla_for_each_nested(g, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
		struct nlattr *gb[CTRL_ATTR_MCAST_GRP_MAX + 1];

		if (nla_parse_nested(gb, CTRL_ATTR_MCAST_GRP_MAX, g, NULL) < 0 ||
		    !gb[CTRL_ATTR_MCAST_GRP_NAME] || !gb[CTRL_ATTR_MCAST_GRP_ID])
			continue;
		if (!strcmp(nla_get_string(gb[CTRL_ATTR_MCAST_GRP_NAME]), f->grp))
			f->grp_id = (int)nla_get_u32(gb[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return NL_OK;
}

/* Family id (and multicast group id when grp is not NULL) by name; -ENOENT when absent. */
static int nfcnl_family(struct nl_sock *sk, const char *name, const char *grp, int *id,
			int *grp_id)
{
	struct nfcnl_family f = { grp, -1, -1 };
	int rc = nfcnl_request(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, false, put_family_name, name,
			       family_cb, &f);

	if (rc)
		return rc == -EINVAL ? -ENOENT : rc;
	if (f.id < 0 || (grp && f.grp_id < 0))
		return -ENOENT;
	*id = f.id;
	if (grp_id)
		*grp_id = f.grp_id;
	return 0;
}

static int put_nfc_idx(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, *(const uint32_t *)arg);
}

static int put_hce_idx(struct nl_msg *msg, const void *arg)
{
	return nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, *(const uint32_t *)arg);
}

/* ---- open / close */

int hce_nfcnl_open(struct hce_nfcnl **out)
{
	struct hce_nfcnl *nl = calloc(1, sizeof(*nl));
	int grp, err;

	if (!nl)
		return -ENOMEM;
	nl->hce_fam = -1;
	nl->evbuf = malloc(NFCNL_EV_BUF);
	if (!nl->evbuf) {
		err = -ENOMEM;
		goto fail;
	}
	err = nfcnl_socket(&nl->cmd);
	if (err)
		goto fail;
	err = nfcnl_socket(&nl->ev);
	if (err)
		goto fail;
	err = nfcnl_family(nl->cmd, NFC_GENL_NAME, NFC_GENL_MCAST_EVENT_NAME, &nl->nfc_fam, &grp);
	if (err)
		goto fail;
	err = nl_socket_add_membership(nl->ev, grp);
	if (err < 0) {
		err = nfcnl_errno(err);
		goto fail;
	}
	hce_nfcnl_hce_resolve(nl);	/* may be absent for now */
	*out = nl;
	return 0;
fail:
	hce_nfcnl_close(nl);
	return err;
}

void hce_nfcnl_close(struct hce_nfcnl *nl)
{
	if (!nl)
		return;
	if (nl->ev)
		nl_socket_free(nl->ev);
	if (nl->cmd)
		nl_socket_free(nl->cmd);
	free(nl->evbuf);
	free(nl);
}

int hce_nfcnl_event_fd(const struct hce_nfcnl *nl)
{
	return nl_socket_get_fd(nl->ev);
}

void hce_nfcnl_family_ids(const struct hce_nfcnl *nl, int *nfc, int *hce)
{
	*nfc = nl->nfc_fam;
	*hce = nl->hce_fam < 0 ? -1 : nl->hce_fam;
}

int hce_nfcnl_hce_resolve(struct hce_nfcnl *nl)
{
	int rc = nfcnl_family(nl->cmd, NFC_HCE_GENL_NAME, NULL, &nl->hce_fam, NULL);

	if (rc)
		nl->hce_fam = -1;
	return rc;
}

/*
 * Receive one datagram without blocking from the kernel into buf. Returns its length, 0 when
 * nothing is pending, or a negative errno. Datagrams from other senders are skipped.
 */
static ssize_t nfcnl_recv_kernel(int fd, uint8_t *buf, size_t cap)
{
	for (;;) {
		struct sockaddr_nl sa;
		struct iovec iov = { buf, cap };
		struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			continue;	/* cannot be ours: our buffers fit the largest message */
		if (mh.msg_namelen < sizeof(sa) || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
			continue;	/* not from the kernel: dropped */
		if (n == 0)
			continue;
		return n;
	}
}

/* ---- "nfc" events */

int hce_nfcnl_events(struct hce_nfcnl *nl, hce_nfcnl_event_fn fn, void *arg)
{
	int delivered = 0;

	for (;;) {
		ssize_t n = nfcnl_recv_kernel(nl_socket_get_fd(nl->ev), nl->evbuf, NFCNL_EV_BUF);
		struct nlmsghdr *nlh;
		int rem;

		if (n < 0)
			return (int)n;
		if (n == 0)
			return delivered;
		rem = (int)n;
		for (nlh = (struct nlmsghdr *)nl->evbuf; nlmsg_ok(nlh, rem);
		     nlh = nlmsg_next(nlh, &rem)) {
			struct nlattr *tb[NFC_ATTR_MAX + 1];
			struct hce_nfcnl_event ev;

			if (nlh->nlmsg_type != nl->nfc_fam ||
			    genlmsg_parse(nlh, 0, tb, NFC_ATTR_MAX, NULL) < 0)
				continue;
			memset(&ev, 0, sizeof(ev));
			ev.cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
			if (tb[NFC_ATTR_DEVICE_INDEX] && nla_len(tb[NFC_ATTR_DEVICE_INDEX]) >= 4) {
				ev.dev = nla_get_u32(tb[NFC_ATTR_DEVICE_INDEX]);
				ev.has_dev = true;
			}
			if (tb[NFC_ATTR_DEVICE_NAME])
				nla_strlcpy(ev.name, tb[NFC_ATTR_DEVICE_NAME], sizeof(ev.name));
			fn(arg, &ev);
			delivered++;
		}
	}
}

/* ---- "nfc" requests */

struct nfcnl_devs {
	struct hce_nfcnl_dev *devs;
	size_t max, n;
};

static int devs_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	struct nfcnl_devs *d = arg;
	struct hce_nfcnl_dev *dev;

	if (d->n >= d->max || genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_ATTR_DEVICE_INDEX])
		return NL_OK;
	dev = &d->devs[d->n++];
	dev->index = nla_get_u32(tb[NFC_ATTR_DEVICE_INDEX]);
	dev->name[0] = '\0';
	if (tb[NFC_ATTR_DEVICE_NAME])
		nla_strlcpy(dev->name, tb[NFC_ATTR_DEVICE_NAME], sizeof(dev->name));
	return NL_OK;
}

static void devs_reset(void *arg)
{
	((struct nfcnl_devs *)arg)->n = 0;
}

int hce_nfcnl_devices(struct hce_nfcnl *nl, struct hce_nfcnl_dev *devs, size_t max, size_t *n)
{
	struct nfcnl_devs d = { devs, max, 0 };
	int err = nfcnl_dump(nl->cmd, nl->nfc_fam, NFC_CMD_GET_DEVICE, NULL, NULL, devs_cb, &d,
			     devs_reset);

	if (err)
		return err;
	*n = d.n;
	return 0;
}

#define NFCNL_DEVS_SCAN 64

/* The device called name (when not NULL) or with index idx; -ENODEV when none. */
static int dev_find(struct hce_nfcnl *nl, const char *name, uint32_t idx,
		    struct hce_nfcnl_dev *out)
{
	struct hce_nfcnl_dev devs[NFCNL_DEVS_SCAN];
	size_t n;
	int err = hce_nfcnl_devices(nl, devs, NFCNL_DEVS_SCAN, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (name ? !strcmp(devs[i].name, name) : devs[i].index == idx) {
			*out = devs[i];
			return 0;
		}
	}
	return -ENODEV;
}

int hce_nfcnl_dev_index(struct hce_nfcnl *nl, const char *name, uint32_t *idx)
{
	struct hce_nfcnl_dev d;
	int err = dev_find(nl, name, 0, &d);

	if (!err)
		*idx = d.index;
	return err;
}

int hce_nfcnl_dev_name(struct hce_nfcnl *nl, uint32_t idx, char *name)
{
	struct hce_nfcnl_dev d;
	int err = dev_find(nl, NULL, idx, &d);

	if (!err)
		memcpy(name, d.name, HCE_NFCNL_NAME_MAX);
	return err;
}

int hce_nfcnl_dev_up(struct hce_nfcnl *nl, uint32_t idx)
{
	return nfcnl_request(nl->cmd, nl->nfc_fam, NFC_CMD_DEV_UP, false, put_nfc_idx, &idx,
			     NULL, NULL);
}

int hce_nfcnl_dev_down(struct hce_nfcnl *nl, uint32_t idx)
{
	return nfcnl_request(nl->cmd, nl->nfc_fam, NFC_CMD_DEV_DOWN, false, put_nfc_idx, &idx,
			     NULL, NULL);
}

struct nfcnl_poll {
	uint32_t idx, im, tm;
};

static int put_poll(struct nl_msg *msg, const void *arg)
{
	const struct nfcnl_poll *p = arg;

	if (nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, p->idx) < 0 ||
	    (p->im && nla_put_u32(msg, NFC_ATTR_IM_PROTOCOLS, p->im) < 0) ||
	    (p->tm && nla_put_u32(msg, NFC_ATTR_TM_PROTOCOLS, p->tm) < 0))
		return -1;
	return 0;
}

int hce_nfcnl_start_poll(struct hce_nfcnl *nl, uint32_t idx, uint32_t im, uint32_t tm)
{
	struct nfcnl_poll p = { idx, im, tm };

	return nfcnl_request(nl->cmd, nl->nfc_fam, NFC_CMD_START_POLL, false, put_poll, &p,
			     NULL, NULL);
}

int hce_nfcnl_stop_poll(struct hce_nfcnl *nl, uint32_t idx)
{
	return nfcnl_request(nl->cmd, nl->nfc_fam, NFC_CMD_STOP_POLL, false, put_nfc_idx, &idx,
			     NULL, NULL);
}

struct nfcnl_target {
	struct hce_nfcnl_target *t;
	bool found;
};

static int target_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	struct nfcnl_target *nt = arg;
	struct hce_nfcnl_target *t = nt->t;

	if (nt->found || genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_ATTR_TARGET_INDEX])
		return NL_OK;
	memset(t, 0, sizeof(*t));
	if (tb[NFC_ATTR_PROTOCOLS])
		t->protocols = nla_get_u32(tb[NFC_ATTR_PROTOCOLS]);
	if (t->protocols && !(t->protocols & NFC_PROTO_ISO14443_MASK))
		return NL_OK;
	t->index = nla_get_u32(tb[NFC_ATTR_TARGET_INDEX]);
	if (tb[NFC_ATTR_TARGET_NFCID1]) {
		int len = nla_len(tb[NFC_ATTR_TARGET_NFCID1]);

		t->nfcid1_len = len > HCE_NFCNL_UID_MAX ? HCE_NFCNL_UID_MAX : (size_t)len;
		memcpy(t->nfcid1, nla_data(tb[NFC_ATTR_TARGET_NFCID1]), t->nfcid1_len);
	}
	if (tb[NFC_ATTR_TARGET_SENS_RES])
		t->sens_res = nla_get_u16(tb[NFC_ATTR_TARGET_SENS_RES]);
	if (tb[NFC_ATTR_TARGET_SEL_RES])
		t->sel_res = nla_get_u8(tb[NFC_ATTR_TARGET_SEL_RES]);
	nt->found = true;
	return NL_OK;
}

int hce_nfcnl_get_target(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_target *t)
{
	struct nfcnl_target nt = { .t = t };
	int err = nfcnl_request(nl->cmd, nl->nfc_fam, NFC_CMD_GET_TARGET, true, put_nfc_idx, &idx,
				target_cb, &nt);

	if (err)
		return err;
	return nt.found ? 0 : -ENOENT;
}

/* ---- "nfc_hce" requests */

static void parse_listen(struct nlattr **tb, struct hce_nfcnl_listen *l)
{
	memset(l, 0, sizeof(*l));
	if (tb[NFC_HCE_ATTR_UID_RANDOM] && nla_get_u8(tb[NFC_HCE_ATTR_UID_RANDOM])) {
		l->has_uid = true;
		l->uid_random = true;
	}
	if (tb[NFC_HCE_ATTR_UID] && nla_len(tb[NFC_HCE_ATTR_UID]) <= HCE_NFCNL_UID_MAX) {
		l->has_uid = true;
		l->uid_len = (size_t)nla_len(tb[NFC_HCE_ATTR_UID]);
		memcpy(l->uid, nla_data(tb[NFC_HCE_ATTR_UID]), l->uid_len);
	}
#define GET_U8(attr, has, field) \
	do { if (tb[attr]) { l->has = true; l->field = nla_get_u8(tb[attr]); } } while (0)
	GET_U8(NFC_HCE_ATTR_FSCI, has_fsci, fsci);
	GET_U8(NFC_HCE_ATTR_FWI, has_fwi, fwi);
	GET_U8(NFC_HCE_ATTR_SFGI, has_sfgi, sfgi);
	GET_U8(NFC_HCE_ATTR_WTX_MAX, has_wtx_max, wtx_max);
#undef GET_U8
	if (tb[NFC_HCE_ATTR_HIST_BYTES] && nla_len(tb[NFC_HCE_ATTR_HIST_BYTES]) <= HCE_NFCNL_HIST_MAX) {
		l->has_hist = true;
		l->hist_len = (size_t)nla_len(tb[NFC_HCE_ATTR_HIST_BYTES]);
		memcpy(l->hist, nla_data(tb[NFC_HCE_ATTR_HIST_BYTES]), l->hist_len);
	}
}

static uint32_t u32_or_0(const struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

struct nfcnl_cards {
	struct hce_nfcnl_card *cards;
	size_t max, n;
};

static int cards_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1];
	struct nfcnl_cards *c = arg;
	struct hce_nfcnl_card *d;

	if (c->n >= c->max ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_HCE_ATTR_DEVICE_INDEX])
		return NL_OK;
	d = &c->cards[c->n++];
	memset(d, 0, sizeof(*d));
	d->index = nla_get_u32(tb[NFC_HCE_ATTR_DEVICE_INDEX]);
	if (tb[NFC_HCE_ATTR_READER_INDEX]) {
		d->has_reader = true;
		d->reader = nla_get_u32(tb[NFC_HCE_ATTR_READER_INDEX]);
	}
	d->bound = tb[NFC_HCE_ATTR_BOUND] && nla_get_u8(tb[NFC_HCE_ATTR_BOUND]);
	d->listening = tb[NFC_HCE_ATTR_LISTENING] && nla_get_u8(tb[NFC_HCE_ATTR_LISTENING]);
	d->session = u32_or_0(tb[NFC_HCE_ATTR_SESSION_ID]);
	d->deadline_us = u32_or_0(tb[NFC_HCE_ATTR_DEADLINE_US]);
	parse_listen(tb, &d->id);
	d->bitrate = u32_or_0(tb[NFC_HCE_ATTR_BITRATE]);
	d->field_loss_after = u32_or_0(tb[NFC_HCE_ATTR_FIELD_LOSS_AFTER]);
	d->drop_every = u32_or_0(tb[NFC_HCE_ATTR_DROP_EVERY]);
	return NL_OK;
}

static void cards_reset(void *arg)
{
	((struct nfcnl_cards *)arg)->n = 0;
}

int hce_nfcnl_cards(struct hce_nfcnl *nl, struct hce_nfcnl_card *cards, size_t max, size_t *n)
{
	struct nfcnl_cards c = { cards, max, 0 };
	int err = nfcnl_dump(nl->cmd, nl->hce_fam, NFC_HCE_CMD_GET_DEVICE, NULL, NULL, cards_cb,
			     &c, cards_reset);

	if (err)
		return err;
	*n = c.n;
	return 0;
}

int hce_nfcnl_card(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_card *card)
{
	struct nfcnl_cards c = { card, 1, 0 };
	int err = nfcnl_request(nl->cmd, nl->hce_fam, NFC_HCE_CMD_GET_DEVICE, false, put_hce_idx,
				&idx, cards_cb, &c);

	if (err)
		return err;
	return c.n ? 0 : -ENODEV;
}

/* A request on one nfc_hce device: its NFC_HCE_ATTR_DEVICE_INDEX, then what put adds. */
struct nfcnl_dev_put {
	uint32_t idx;
	nfcnl_put_fn put;
	const void *arg;
};

static int put_dev_then(struct nl_msg *msg, const void *arg)
{
	const struct nfcnl_dev_put *d = arg;

	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, d->idx) < 0)
		return -1;
	return d->put(msg, d->arg);
}

static int hce_dev_request(struct hce_nfcnl *nl, uint8_t cmd, uint32_t idx, nfcnl_put_fn put,
			   const void *arg)
{
	struct nfcnl_dev_put d = { idx, put, arg };

	return nfcnl_request(nl->cmd, nl->hce_fam, cmd, false, put_dev_then, &d, NULL, NULL);
}

static int put_listen(struct nl_msg *msg, const void *arg)
{
	const struct hce_nfcnl_listen *l = arg;

	if (l->has_uid && l->uid_random) {
		if (nla_put_u8(msg, NFC_HCE_ATTR_UID_RANDOM, 1) < 0)
			return -1;
	} else if (l->has_uid) {
		if (nla_put(msg, NFC_HCE_ATTR_UID, (int)l->uid_len, l->uid) < 0 ||
		    nla_put_u8(msg, NFC_HCE_ATTR_UID_RANDOM, 0) < 0)
			return -1;
	}
	if ((l->has_fsci && nla_put_u8(msg, NFC_HCE_ATTR_FSCI, l->fsci) < 0) ||
	    (l->has_fwi && nla_put_u8(msg, NFC_HCE_ATTR_FWI, l->fwi) < 0) ||
	    (l->has_sfgi && nla_put_u8(msg, NFC_HCE_ATTR_SFGI, l->sfgi) < 0) ||
	    (l->has_wtx_max && nla_put_u8(msg, NFC_HCE_ATTR_WTX_MAX, l->wtx_max) < 0) ||
	    (l->has_hist && nla_put(msg, NFC_HCE_ATTR_HIST_BYTES, (int)l->hist_len, l->hist) < 0))
		return -1;
	return 0;
}

int hce_nfcnl_set_listen(struct hce_nfcnl *nl, uint32_t idx, const struct hce_nfcnl_listen *l)
{
	return hce_dev_request(nl, NFC_HCE_CMD_SET_LISTEN, idx, put_listen, l);
}

struct nfcnl_vpair {
	uint32_t card, reader;
	bool found;
};

static int vpair_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1];
	struct nfcnl_vpair *v = arg;

	if (v->found || genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_HCE_ATTR_DEVICE_INDEX] || !tb[NFC_HCE_ATTR_READER_INDEX])
		return NL_OK;
	v->card = nla_get_u32(tb[NFC_HCE_ATTR_DEVICE_INDEX]);
	v->reader = nla_get_u32(tb[NFC_HCE_ATTR_READER_INDEX]);
	v->found = true;
	return NL_OK;
}

int hce_nfcnl_vpair_create(struct hce_nfcnl *nl, uint32_t *card, uint32_t *reader)
{
	struct nfcnl_vpair v = { 0 };
	int err = nfcnl_request(nl->cmd, nl->hce_fam, NFC_HCE_CMD_VPAIR_CREATE, false, NULL, NULL,
				vpair_cb, &v);

	if (err)
		return err;
	if (!v.found)
		return -EPROTO;
	*card = v.card;
	*reader = v.reader;
	return 0;
}

int hce_nfcnl_vpair_destroy(struct hce_nfcnl *nl, uint32_t card)
{
	return nfcnl_request(nl->cmd, nl->hce_fam, NFC_HCE_CMD_VPAIR_DESTROY, false, put_hce_idx,
			     &card, NULL, NULL);
}

static int put_link(struct nl_msg *msg, const void *arg)
{
	const struct hce_nfcnl_link *l = arg;

	if ((l->bitrate >= 0 && nla_put_u32(msg, NFC_HCE_ATTR_BITRATE, (uint32_t)l->bitrate) < 0) ||
	    (l->field_loss_after >= 0 && nla_put_u32(msg, NFC_HCE_ATTR_FIELD_LOSS_AFTER,
						     (uint32_t)l->field_loss_after) < 0) ||
	    (l->drop_every >= 0 &&
	     nla_put_u32(msg, NFC_HCE_ATTR_DROP_EVERY, (uint32_t)l->drop_every) < 0))
		return -1;
	return 0;
}

int hce_nfcnl_vpair_set(struct hce_nfcnl *nl, uint32_t card, const struct hce_nfcnl_link *l)
{
	return hce_dev_request(nl, NFC_HCE_CMD_VPAIR_SET, card, put_link, l);
}

struct nfcnl_stats {
	struct hce_nfcnl_stats *st;
	bool found;
};

static int stats_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1], *sb[NFC_HCE_STATS_MAX + 1];
	struct nfcnl_stats *s = arg;
	struct hce_nfcnl_stats *st = s->st;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_HCE_ATTR_STATS] ||
	    nla_parse_nested(sb, NFC_HCE_STATS_MAX, tb[NFC_HCE_ATTR_STATS], NULL) < 0)
		return NL_OK;
#define S(a, f) do { if (sb[a] && nla_len(sb[a]) >= 8) st->f = nla_get_u64(sb[a]); } while (0)
	S(NFC_HCE_STATS_ACTIVATIONS, activations);
	S(NFC_HCE_STATS_CAPDUS, capdus);
	S(NFC_HCE_STATS_RAPDUS, rapdus);
	S(NFC_HCE_STATS_DEADLINE_EXPIRIES, deadline_expiries);
	S(NFC_HCE_STATS_STALE_RESPONSES, stale_responses);
	S(NFC_HCE_STATS_WTX, wtx);
	S(NFC_HCE_STATS_FIELD_LOSSES, field_losses);
	S(NFC_HCE_STATS_NO_OWNER, no_owner);
	S(NFC_HCE_STATS_ERRORS, errors);
	S(NFC_HCE_STATS_FRAMES, frames);
	S(NFC_HCE_STATS_RETRANSMISSIONS, retransmissions);
#undef S
	s->found = true;
	return NL_OK;
}

int hce_nfcnl_stats(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_stats *st)
{
	struct nfcnl_stats s = { st, false };
	int err;

	memset(st, 0, sizeof(*st));
	err = nfcnl_request(nl->cmd, nl->hce_fam, NFC_HCE_CMD_GET_STATS, false, put_hce_idx, &idx,
			    stats_cb, &s);
	if (err)
		return err;
	return s.found ? 0 : -ENODATA;
}

/* ---- the owner socket */

int hce_nfcnl_owner_open(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_owner **out)
{
	struct hce_nfcnl_owner *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return -ENOMEM;
	o->dev = idx;
	o->rbuf = malloc(NFCNL_OWNER_BUF);
	o->sbuf = malloc(NFCNL_OWNER_BUF);
	if (!o->rbuf || !o->sbuf) {
		err = -ENOMEM;
		goto fail;
	}
	err = nfcnl_socket(&o->sk);
	if (err)
		goto fail;
	err = hce_nfcnl_hce_resolve(nl);
	if (err)
		goto fail;
	o->fam = nl->hce_fam;
	err = nfcnl_request(o->sk, o->fam, NFC_HCE_CMD_BIND, false, put_hce_idx, &idx, NULL, NULL);
	if (err)
		goto fail;
	*out = o;
	return 0;
fail:
	hce_nfcnl_owner_close(o);
	return err;
}

void hce_nfcnl_owner_close(struct hce_nfcnl_owner *o)
{
	if (!o)
		return;
	if (o->sk)
		nl_socket_free(o->sk);
	if (o->rbuf)
		memset(o->rbuf, 0, NFCNL_OWNER_BUF);	/* APDU data: not secret keys, still */
	free(o->rbuf);
	free(o->sbuf);
	free(o);
}

int hce_nfcnl_owner_fd(const struct hce_nfcnl_owner *o)
{
	return nl_socket_get_fd(o->sk);
}

static void owner_event(struct hce_nfcnl_owner *o, struct nlmsghdr *nlh,
			hce_nfcnl_owner_fn fn, void *arg)
{
	struct nlattr *tb[NFC_HCE_ATTR_MAX + 1];
	struct hce_nfcnl_owner_event ev;

	if (genlmsg_parse(nlh, 0, tb, NFC_HCE_ATTR_MAX, NULL) < 0 ||
	    !tb[NFC_HCE_ATTR_DEVICE_INDEX] || !tb[NFC_HCE_ATTR_SESSION_ID])
		return;
	memset(&ev, 0, sizeof(ev));
	ev.cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	ev.dev = nla_get_u32(tb[NFC_HCE_ATTR_DEVICE_INDEX]);
	ev.session = nla_get_u32(tb[NFC_HCE_ATTR_SESSION_ID]);
	switch (ev.cmd) {
	case NFC_HCE_CMD_APDU:
		if (!tb[NFC_HCE_ATTR_SEQ] || !tb[NFC_HCE_ATTR_APDU])
			return;
		ev.seq = nla_get_u32(tb[NFC_HCE_ATTR_SEQ]);
		ev.apdu = nla_data(tb[NFC_HCE_ATTR_APDU]);
		ev.apdu_len = (size_t)nla_len(tb[NFC_HCE_ATTR_APDU]);
		break;
	case NFC_HCE_CMD_SESSION_START:
		if (tb[NFC_HCE_ATTR_FSD])
			ev.fsd = nla_get_u32(tb[NFC_HCE_ATTR_FSD]);
		if (tb[NFC_HCE_ATTR_UID] && nla_len(tb[NFC_HCE_ATTR_UID]) <= HCE_NFCNL_UID_MAX) {
			ev.uid_len = (size_t)nla_len(tb[NFC_HCE_ATTR_UID]);
			memcpy(ev.uid, nla_data(tb[NFC_HCE_ATTR_UID]), ev.uid_len);
		}
		break;
	case NFC_HCE_CMD_SESSION_END:
		if (tb[NFC_HCE_ATTR_REASON])
			ev.reason = nla_get_u32(tb[NFC_HCE_ATTR_REASON]);
		break;
	default:
		return;
	}
	fn(arg, &ev);
}

int hce_nfcnl_owner_recv(struct hce_nfcnl_owner *o, hce_nfcnl_owner_fn fn, void *arg,
			 uint64_t *resp_errors, int *last_error)
{
	int delivered = 0;

	for (;;) {
		ssize_t n = nfcnl_recv_kernel(nl_socket_get_fd(o->sk), o->rbuf, NFCNL_OWNER_BUF);
		struct nlmsghdr *nlh;
		int rem;

		if (n < 0)
			return (int)n;
		if (n == 0)
			return delivered;
		rem = (int)n;
		for (nlh = (struct nlmsghdr *)o->rbuf; nlmsg_ok(nlh, rem);
		     nlh = nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(nlh);

				if (nlh->nlmsg_len >= (uint32_t)nlmsg_size(sizeof(*e)) && e->error) {
					if (resp_errors)
						(*resp_errors)++;
					if (last_error)
						*last_error = e->error;
				}
				continue;
			}
			if (nlh->nlmsg_type != o->fam)
				continue;
			owner_event(o, nlh, fn, arg);
			delivered++;
		}
	}
}

static void sb_put(uint8_t *buf, size_t *off, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(buf + *off);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	*off += NLA_HDRLEN + NLA_ALIGN(len);
}

int hce_nfcnl_owner_respond(struct hce_nfcnl_owner *o, uint32_t session, uint32_t seq,
			    const uint8_t *rapdu, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)o->sbuf;
	struct genlmsghdr *g;
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	ssize_t n;

	if (len < 2 || len > NFC_HCE_APDU_MAX)
		return -EMSGSIZE;
	g = (struct genlmsghdr *)(o->sbuf + NLMSG_HDRLEN);
	g->cmd = NFC_HCE_CMD_RESPONSE;
	g->version = 1;
	g->reserved = 0;
	sb_put(o->sbuf, &off, NFC_HCE_ATTR_DEVICE_INDEX, &o->dev, 4);
	sb_put(o->sbuf, &off, NFC_HCE_ATTR_SESSION_ID, &session, 4);
	sb_put(o->sbuf, &off, NFC_HCE_ATTR_SEQ, &seq, 4);
	sb_put(o->sbuf, &off, NFC_HCE_ATTR_APDU, rapdu, len);
	nlh->nlmsg_len = (uint32_t)off;
	nlh->nlmsg_type = (uint16_t)o->fam;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++o->seq;
	nlh->nlmsg_pid = 0;
	do {
		n = send(nl_socket_get_fd(o->sk), o->sbuf, off, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == off ? 0 : -EIO;
}
