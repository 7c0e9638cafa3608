/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal generic netlink and AF_NFC helpers for the nfc_hce selftests.
 * Plain sockets, no library: every call returns 0 or a negative errno, and
 * every wait is bounded by a timeout.
 */
#ifndef HCE_NL_H
#define HCE_NL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>
#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#ifndef AF_NFC
#define AF_NFC 39
#endif

#define HNL_BUF (NFC_HCE_APDU_MAX + 4096)
#define HNL_QMAX 64
#define HNL_TIMEOUT_MS 5000

struct hnl {
	int fd;
	uint32_t portid;
	uint32_t seq;
	uint16_t nfc_fam;
	uint16_t hce_fam;
	uint32_t nfc_events_grp;
	/* messages that arrived while waiting for an ack, oldest first */
	struct nlmsghdr *q[HNL_QMAX];
	int qn;
};

struct hmsg {
	union {
		struct nlmsghdr nlh;
		char buf[HNL_BUF];
	};
};

static inline struct nlattr *hnl_attr_first(struct nlmsghdr *nlh, int *rem)
{
	*rem = (int)nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	return (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
}

static inline bool hnl_attr_ok(const struct nlattr *a, int rem)
{
	return rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= rem;
}

static inline struct nlattr *hnl_attr_next(struct nlattr *a, int *rem)
{
	int len = NLA_ALIGN(a->nla_len);

	*rem -= len;
	return (struct nlattr *)((char *)a + len);
}

static inline void *hnl_attr_data(struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static inline int hnl_attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static inline struct nlattr *hnl_find_in(struct nlattr *a, int rem, int type)
{
	for (; hnl_attr_ok(a, rem); a = hnl_attr_next(a, &rem))
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static inline struct nlattr *hnl_find(struct nlmsghdr *nlh, int type)
{
	int rem;
	struct nlattr *a = hnl_attr_first(nlh, &rem);

	return hnl_find_in(a, rem, type);
}

static inline int hnl_get_u32(struct nlmsghdr *nlh, int type, uint32_t *v)
{
	struct nlattr *a = hnl_find(nlh, type);

	if (!a || hnl_attr_len(a) < 4)
		return -ENOENT;
	memcpy(v, hnl_attr_data(a), 4);
	return 0;
}

static inline int hnl_get_u8(struct nlmsghdr *nlh, int type, uint8_t *v)
{
	struct nlattr *a = hnl_find(nlh, type);

	if (!a || hnl_attr_len(a) < 1)
		return -ENOENT;
	*v = *(uint8_t *)hnl_attr_data(a);
	return 0;
}

static inline uint8_t hnl_cmd(struct nlmsghdr *nlh)
{
	return ((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
}

static inline void hmsg_init(struct hmsg *m, uint16_t fam, uint8_t cmd,
			     uint16_t flags)
{
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_type = fam;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	g = NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = 1;
}

static inline void hmsg_put(struct hmsg *m, uint16_t type, const void *data,
			    size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + NLMSG_ALIGN(m->nlh.nlmsg_len));

	if (NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf))
		abort();
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy(hnl_attr_data(a), data, len);
	memset((char *)hnl_attr_data(a) + len, 0, NLA_ALIGN(len) - len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static inline void hmsg_u32(struct hmsg *m, uint16_t type, uint32_t v)
{
	hmsg_put(m, type, &v, 4);
}

static inline void hmsg_u8(struct hmsg *m, uint16_t type, uint8_t v)
{
	hmsg_put(m, type, &v, 1);
}

static inline long hnl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Receives one datagram into a fresh buffer. Returns its length or -errno. */
static inline int hnl_recv_raw(struct hnl *h, char **out, int timeout_ms)
{
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	char *buf = NULL;
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	buf = malloc(HNL_BUF);
	if (!buf)
		return -ENOMEM;
	n = recv(h->fd, buf, HNL_BUF, 0);
	if (n < 0) {
		rc = -errno;
		free(buf);
		return rc;
	}
	*out = buf;
	return (int)n;
}

static inline void hnl_queue(struct hnl *h, struct nlmsghdr *nlh)
{
	struct nlmsghdr *c = malloc(nlh->nlmsg_len);

	if (!c)
		abort();
	memcpy(c, nlh, nlh->nlmsg_len);
	if (h->qn == HNL_QMAX) {
		free(h->q[0]);
		memmove(h->q, h->q + 1, sizeof(h->q[0]) * (HNL_QMAX - 1));
		h->qn--;
	}
	h->q[h->qn++] = c;
}

/*
 * Sends @m and collects replies until the ack. Each reply (data message with
 * our sequence) is passed to @cb. Messages with another sequence (events) are
 * queued for hnl_wait(). Returns 0 or the kernel's -errno.
 */
static inline int hnl_transact(struct hnl *h, struct hmsg *m,
			       int (*cb)(struct nlmsghdr *, void *), void *arg)
{
	long deadline = hnl_now_ms() + HNL_TIMEOUT_MS;
	uint32_t seq = ++h->seq;
	char *buf = NULL;
	int n, rc = 0;

	m->nlh.nlmsg_seq = seq;
	m->nlh.nlmsg_pid = 0;
	if (!(m->nlh.nlmsg_flags & NLM_F_DUMP))
		m->nlh.nlmsg_flags |= NLM_F_ACK;
	if (send(h->fd, m->buf, m->nlh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *nlh;

		n = hnl_recv_raw(h, &buf, (int)(deadline - hnl_now_ms()));
		if (n < 0)
			return n;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq) {
				hnl_queue(h, nlh);
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);
				int err = e->error;

				free(buf);
				return rc ? rc : err;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				free(buf);
				return rc;
			}
			if (cb && !rc)
				rc = cb(nlh, arg);
		}
		free(buf);
	}
}

/*
 * Waits for a message of family @fam and command @cmd (0: any) whose
 * @attr u32 equals @val (@attr 0: no filter). The caller frees *out.
 */
static inline int hnl_wait(struct hnl *h, uint16_t fam, uint8_t cmd, int attr,
			   uint32_t val, struct nlmsghdr **out, int timeout_ms)
{
	long deadline = hnl_now_ms() + timeout_ms;
	int i, n;
	char *buf = NULL;

	for (;;) {
		for (i = 0; i < h->qn; i++) {
			struct nlmsghdr *nlh = h->q[i];
			uint32_t v;

			if (nlh->nlmsg_type != fam || (cmd && hnl_cmd(nlh) != cmd))
				continue;
			if (attr && (hnl_get_u32(nlh, attr, &v) || v != val))
				continue;
			memmove(h->q + i, h->q + i + 1, sizeof(h->q[0]) * (h->qn - i - 1));
			h->qn--;
			*out = nlh;
			return 0;
		}
		n = hnl_recv_raw(h, &buf, (int)(deadline - hnl_now_ms()));
		if (n < 0)
			return n;
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n))
			hnl_queue(h, nlh);
		free(buf);
	}
}

/* Forgets queued messages of family @fam and command @cmd */
static inline void hnl_forget(struct hnl *h, uint16_t fam, uint8_t cmd)
{
	int i = 0;

	while (i < h->qn) {
		if (h->q[i]->nlmsg_type == fam && hnl_cmd(h->q[i]) == cmd) {
			free(h->q[i]);
			memmove(h->q + i, h->q + i + 1, sizeof(h->q[0]) * (h->qn - i - 1));
			h->qn--;
		} else {
			i++;
		}
	}
}

static inline void hnl_drop_queue(struct hnl *h)
{
	while (h->qn)
		free(h->q[--h->qn]);
}

struct hnl_family_arg {
	const char *grp;
	uint16_t id;
	uint32_t grp_id;
};

static inline int hnl_family_cb(struct nlmsghdr *nlh, void *p)
{
	struct hnl_family_arg *fa = p;
	struct nlattr *a, *g, *ga;
	int rem, grem, arem;

	a = hnl_find(nlh, CTRL_ATTR_FAMILY_ID);
	if (a)
		memcpy(&fa->id, hnl_attr_data(a), 2);
	a = hnl_find(nlh, CTRL_ATTR_MCAST_GROUPS);
	if (!a || !fa->grp)
		return 0;
	rem = hnl_attr_len(a);
	for (g = hnl_attr_data(a); hnl_attr_ok(g, rem); g = hnl_attr_next(g, &rem)) {
		struct nlattr *name, *id;

		grem = hnl_attr_len(g);
		ga = hnl_attr_data(g);
		arem = grem;
		name = hnl_find_in(ga, arem, CTRL_ATTR_MCAST_GRP_NAME);
		id = hnl_find_in(ga, arem, CTRL_ATTR_MCAST_GRP_ID);
		if (name && id && !strcmp(hnl_attr_data(name), fa->grp))
			memcpy(&fa->grp_id, hnl_attr_data(id), 4);
	}
	return 0;
}

static inline int hnl_resolve(struct hnl *h, const char *name, const char *grp,
			      uint16_t *id, uint32_t *grp_id)
{
	struct hnl_family_arg fa = { .grp = grp };
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	hmsg_put(m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	rc = hnl_transact(h, m, hnl_family_cb, &fa);
	free(m);
	if (rc)
		return rc;
	*id = fa.id;
	if (grp_id)
		*grp_id = fa.grp_id;
	return fa.id ? 0 : -ENOENT;
}

/* Opens a generic netlink socket and resolves both families. */
static inline int hnl_open(struct hnl *h, bool nfc_events)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	int rcvbuf = 4 << 20, rc;

	memset(h, 0, sizeof(*h));
	h->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (h->fd < 0)
		return -errno;
	setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(h->fd, (struct sockaddr *)&sa, &sl)) {
		rc = -errno;
		goto out_close;
	}
	h->portid = sa.nl_pid;
	rc = hnl_resolve(h, NFC_GENL_NAME, NFC_GENL_MCAST_EVENT_NAME, &h->nfc_fam,
			 &h->nfc_events_grp);
	if (rc)
		goto out_close;
	rc = hnl_resolve(h, NFC_HCE_GENL_NAME, NULL, &h->hce_fam, NULL);
	if (rc)
		goto out_close;
	if (nfc_events &&
	    setsockopt(h->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		       &h->nfc_events_grp, sizeof(h->nfc_events_grp))) {
		rc = -errno;
		goto out_close;
	}
	return 0;

out_close:
	close(h->fd);
	h->fd = -1;
	return rc;
}

static inline void hnl_close(struct hnl *h)
{
	hnl_drop_queue(h);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* One-attribute command on family @fam */
static inline int hnl_cmd_dev(struct hnl *h, uint16_t fam, uint8_t cmd,
			      uint16_t idx_attr, uint32_t idx)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, fam, cmd, 0);
	hmsg_u32(m, idx_attr, idx);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

static inline int nfc_dev_up(struct hnl *h, uint32_t idx)
{
	return hnl_cmd_dev(h, h->nfc_fam, NFC_CMD_DEV_UP, NFC_ATTR_DEVICE_INDEX, idx);
}

static inline int nfc_dev_down(struct hnl *h, uint32_t idx)
{
	return hnl_cmd_dev(h, h->nfc_fam, NFC_CMD_DEV_DOWN, NFC_ATTR_DEVICE_INDEX, idx);
}

static inline int nfc_stop_poll(struct hnl *h, uint32_t idx)
{
	return hnl_cmd_dev(h, h->nfc_fam, NFC_CMD_STOP_POLL, NFC_ATTR_DEVICE_INDEX, idx);
}

static inline int nfc_start_poll(struct hnl *h, uint32_t idx, uint32_t im, uint32_t tm)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->nfc_fam, NFC_CMD_START_POLL, 0);
	hmsg_u32(m, NFC_ATTR_DEVICE_INDEX, idx);
	if (im)
		hmsg_u32(m, NFC_ATTR_IM_PROTOCOLS, im);
	if (tm)
		hmsg_u32(m, NFC_ATTR_TM_PROTOCOLS, tm);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

struct nfc_target_info {
	uint32_t idx;
	uint32_t protocols;
	uint16_t sens_res;
	uint8_t sel_res;
	uint8_t nfcid1[10];
	int nfcid1_len;
	int found;
};

static inline int nfc_target_cb(struct nlmsghdr *nlh, void *p)
{
	struct nfc_target_info *t = p;
	struct nlattr *a;

	if (hnl_get_u32(nlh, NFC_ATTR_TARGET_INDEX, &t->idx))
		return 0;
	hnl_get_u32(nlh, NFC_ATTR_PROTOCOLS, &t->protocols);
	a = hnl_find(nlh, NFC_ATTR_TARGET_SENS_RES);
	if (a)
		memcpy(&t->sens_res, hnl_attr_data(a), 2);
	hnl_get_u8(nlh, NFC_ATTR_TARGET_SEL_RES, &t->sel_res);
	a = hnl_find(nlh, NFC_ATTR_TARGET_NFCID1);
	if (a && hnl_attr_len(a) <= 10) {
		t->nfcid1_len = hnl_attr_len(a);
		memcpy(t->nfcid1, hnl_attr_data(a), t->nfcid1_len);
	}
	t->found++;
	return 0;
}

/* Polls NFC_CMD_GET_TARGET until the reader reports a target. */
static inline int nfc_get_target(struct hnl *h, uint32_t reader,
				 struct nfc_target_info *t, int timeout_ms)
{
	long deadline = hnl_now_ms() + timeout_ms;
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	do {
		memset(t, 0, sizeof(*t));
		hmsg_init(m, h->nfc_fam, NFC_CMD_GET_TARGET, NLM_F_DUMP);
		hmsg_u32(m, NFC_ATTR_DEVICE_INDEX, reader);
		rc = hnl_transact(h, m, nfc_target_cb, t);
		if (!rc && t->found)
			break;
		usleep(2000);
		rc = -ETIMEDOUT;
	} while (hnl_now_ms() < deadline);
	free(m);
	return rc;
}

/*
 * Starts the reader's poll and takes the target it finds. The NFC core keeps
 * the previous poll's targets until a new one is found, so this waits for
 * NFC_EVENT_TARGETS_FOUND (@h must be subscribed to the nfc events) first.
 */
static inline int nfc_poll_target(struct hnl *h, uint32_t reader,
				  struct nfc_target_info *t, int timeout_ms)
{
	struct nlmsghdr *nlh;
	int rc;

	hnl_forget(h, h->nfc_fam, NFC_EVENT_TARGETS_FOUND);
	rc = nfc_start_poll(h, reader, NFC_PROTO_ISO14443_MASK, 0);
	if (rc)
		return rc;
	rc = hnl_wait(h, h->nfc_fam, NFC_EVENT_TARGETS_FOUND, NFC_ATTR_DEVICE_INDEX,
		      reader, &nlh, timeout_ms);
	if (rc)
		return rc;
	free(nlh);
	return nfc_get_target(h, reader, t, timeout_ms);
}

/* ---- nfc_hce ---- */

static inline int hce_dev_cmd(struct hnl *h, uint8_t cmd, uint32_t card)
{
	return hnl_cmd_dev(h, h->hce_fam, cmd, NFC_HCE_ATTR_DEVICE_INDEX, card);
}

static inline int hce_bind(struct hnl *h, uint32_t card)
{
	return hce_dev_cmd(h, NFC_HCE_CMD_BIND, card);
}

static inline int hce_unbind(struct hnl *h, uint32_t card)
{
	return hce_dev_cmd(h, NFC_HCE_CMD_UNBIND, card);
}

struct hce_pair {
	uint32_t card;
	uint32_t reader;
};

static inline int hce_pair_cb(struct nlmsghdr *nlh, void *p)
{
	struct hce_pair *pr = p;

	if (hnl_get_u32(nlh, NFC_HCE_ATTR_DEVICE_INDEX, &pr->card) ||
	    hnl_get_u32(nlh, NFC_HCE_ATTR_READER_INDEX, &pr->reader))
		return -EPROTO;
	return 0;
}

static inline int hce_vpair_create(struct hnl *h, struct hce_pair *pr)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->hce_fam, NFC_HCE_CMD_VPAIR_CREATE, 0);
	rc = hnl_transact(h, m, hce_pair_cb, pr);
	free(m);
	return rc;
}

static inline int hce_vpair_destroy(struct hnl *h, uint32_t card)
{
	return hce_dev_cmd(h, NFC_HCE_CMD_VPAIR_DESTROY, card);
}

static inline int hce_vpair_set(struct hnl *h, uint32_t card, int attr, uint32_t v)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->hce_fam, NFC_HCE_CMD_VPAIR_SET, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
	if (attr == NFC_HCE_ATTR_READER_FSDI)
		hmsg_u8(m, attr, (uint8_t)v);
	else
		hmsg_u32(m, attr, v);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

struct hce_listen {
	const uint8_t *uid;
	int uid_len;
	int uid_random;		/* -1: leave */
	int fsci, fwi, sfgi, wtx_max;	/* -1: leave */
	const uint8_t *hist;
	int hist_len;		/* -1: leave */
};

#define HCE_LISTEN_KEEP { .uid_random = -1, .fsci = -1, .fwi = -1, .sfgi = -1, \
			  .wtx_max = -1, .hist_len = -1 }

static inline int hce_set_listen(struct hnl *h, uint32_t card, const struct hce_listen *l)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->hce_fam, NFC_HCE_CMD_SET_LISTEN, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
	if (l->uid)
		hmsg_put(m, NFC_HCE_ATTR_UID, l->uid, l->uid_len);
	if (l->uid_random >= 0)
		hmsg_u8(m, NFC_HCE_ATTR_UID_RANDOM, l->uid_random);
	if (l->fsci >= 0)
		hmsg_u8(m, NFC_HCE_ATTR_FSCI, l->fsci);
	if (l->fwi >= 0)
		hmsg_u8(m, NFC_HCE_ATTR_FWI, l->fwi);
	if (l->sfgi >= 0)
		hmsg_u8(m, NFC_HCE_ATTR_SFGI, l->sfgi);
	if (l->wtx_max >= 0)
		hmsg_u8(m, NFC_HCE_ATTR_WTX_MAX, l->wtx_max);
	if (l->hist_len >= 0)
		hmsg_put(m, NFC_HCE_ATTR_HIST_BYTES, l->hist, l->hist_len);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

static inline int hce_respond(struct hnl *h, uint32_t card, uint32_t session,
			      uint32_t seq, const void *apdu, size_t len)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->hce_fam, NFC_HCE_CMD_RESPONSE, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
	hmsg_u32(m, NFC_HCE_ATTR_SESSION_ID, session);
	hmsg_u32(m, NFC_HCE_ATTR_SEQ, seq);
	hmsg_put(m, NFC_HCE_ATTR_APDU, apdu, len);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

struct hce_dev_info {
	uint32_t reader;
	uint32_t session;
	uint32_t deadline_us;
	uint8_t bound, listening;
	uint64_t stats[NFC_HCE_STATS_MAX + 1];
};

static inline int hce_info_cb(struct nlmsghdr *nlh, void *p)
{
	struct hce_dev_info *d = p;
	struct nlattr *a, *s;
	int rem;

	hnl_get_u32(nlh, NFC_HCE_ATTR_READER_INDEX, &d->reader);
	hnl_get_u32(nlh, NFC_HCE_ATTR_SESSION_ID, &d->session);
	hnl_get_u32(nlh, NFC_HCE_ATTR_DEADLINE_US, &d->deadline_us);
	hnl_get_u8(nlh, NFC_HCE_ATTR_BOUND, &d->bound);
	hnl_get_u8(nlh, NFC_HCE_ATTR_LISTENING, &d->listening);
	a = hnl_find(nlh, NFC_HCE_ATTR_STATS);
	if (a) {
		rem = hnl_attr_len(a);
		for (s = hnl_attr_data(a); hnl_attr_ok(s, rem); s = hnl_attr_next(s, &rem))
			if (s->nla_type <= NFC_HCE_STATS_MAX && hnl_attr_len(s) == 8)
				memcpy(&d->stats[s->nla_type], hnl_attr_data(s), 8);
	}
	return 0;
}

/* GET_DEVICE then GET_STATS of one card device */
static inline int hce_info(struct hnl *h, uint32_t card, struct hce_dev_info *d)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	hmsg_init(m, h->hce_fam, NFC_HCE_CMD_GET_DEVICE, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
	rc = hnl_transact(h, m, hce_info_cb, d);
	if (!rc) {
		hmsg_init(m, h->hce_fam, NFC_HCE_CMD_GET_STATS, 0);
		hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
		rc = hnl_transact(h, m, hce_info_cb, d);
	}
	free(m);
	return rc;
}

/* A C-APDU event received by the owner */
struct hce_capdu {
	uint32_t session;
	uint32_t seq;
	int len;
	uint8_t data[NFC_HCE_APDU_MAX];
};

static inline int hce_wait_capdu(struct hnl *h, uint32_t card, struct hce_capdu *c,
				 int timeout_ms)
{
	struct nlmsghdr *nlh;
	struct nlattr *a;
	int rc;

	rc = hnl_wait(h, h->hce_fam, NFC_HCE_CMD_APDU, NFC_HCE_ATTR_DEVICE_INDEX,
		      card, &nlh, timeout_ms);
	if (rc)
		return rc;
	rc = -EPROTO;
	a = hnl_find(nlh, NFC_HCE_ATTR_APDU);
	if (a && !hnl_get_u32(nlh, NFC_HCE_ATTR_SESSION_ID, &c->session) &&
	    !hnl_get_u32(nlh, NFC_HCE_ATTR_SEQ, &c->seq) &&
	    hnl_attr_len(a) <= NFC_HCE_APDU_MAX) {
		c->len = hnl_attr_len(a);
		memcpy(c->data, hnl_attr_data(a), c->len);
		rc = 0;
	}
	free(nlh);
	return rc;
}

/* Waits for SESSION_START (reason ignored) or SESSION_END (reason returned) */
static inline int hce_wait_session(struct hnl *h, uint8_t cmd, uint32_t card,
				   uint32_t *session, uint32_t *reason, int timeout_ms)
{
	struct nlmsghdr *nlh;
	int rc;

	rc = hnl_wait(h, h->hce_fam, cmd, NFC_HCE_ATTR_DEVICE_INDEX, card, &nlh,
		      timeout_ms);
	if (rc)
		return rc;
	if (session)
		hnl_get_u32(nlh, NFC_HCE_ATTR_SESSION_ID, session);
	if (reason)
		hnl_get_u32(nlh, NFC_HCE_ATTR_REASON, reason);
	free(nlh);
	return 0;
}

/* ---- AF_NFC raw socket (reader side) ---- */

struct hce_sockaddr_nfc {
	sa_family_t sa_family;
	uint32_t dev_idx;
	uint32_t target_idx;
	uint32_t nfc_protocol;
};

static inline int nfc_raw_connect(uint32_t reader, uint32_t target)
{
	struct hce_sockaddr_nfc sa = {
		.sa_family = AF_NFC,
		.dev_idx = reader,
		.target_idx = target,
		.nfc_protocol = NFC_PROTO_ISO14443,
	};
	int fd, rc;

	fd = socket(AF_NFC, SOCK_SEQPACKET | SOCK_CLOEXEC, NFC_SOCKPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Receives an R-APDU (strips the raw socket's one-byte header). */
static inline int nfc_raw_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	static uint8_t tmp[NFC_HCE_APDU_MAX + 1];
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT - 10000;	/* distinct from the kernel's ETIMEDOUT */
	n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (tmp[0] != 0 || (size_t)(n - 1) > cap)
		return -EPROTO;
	memcpy(buf, tmp + 1, n - 1);
	return (int)(n - 1);
}

#endif /* HCE_NL_H */
