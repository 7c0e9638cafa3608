// SPDX-License-Identifier: GPL-2.0
/*
 * nfc_reader_test.c - the reader side of hced's kernel front end, over a virtual pair of the
 * nfc_hce module: poll the reader device (NFC_CMD_START_POLL, IM ISO14443), take the target
 * (NFC_CMD_GET_TARGET), connect an AF_NFC SOCK_SEQPACKET NFC_SOCKPROTO_RAW socket and exchange
 * APDUs. Two uses:
 *
 *   nfc_reader_test --apdu [--reader IDX] [--timeout MS] [--repeat N] [--down-card IDX [--up]]
 *                          HEX...
 *       one activation; prints each R-APDU in hex (upper case), one per line; exit 0, or 2 no
 *       target/connect failed, 3 an exchange failed (errno printed), 1 usage. --repeat N: the
 *       last C-APDU N more times in the same session, each answer equal to the first, and
 *       "repeat N in T us: U us per exchange". --down-card:
 *       after the exchanges, with the session still open, NFC_CMD_DEV_DOWN on that card
 *       device (and --up: DEV_UP again), then one more GET BALANCE must fail (the session
 *       ended on the card side). A third party cannot power down a listening device: the NFC
 *       core lets only the port that started polling stop it, and DEV_DOWN refuses while
 *       polling; during a session the device is not polling.
 *       Used by tests/vm.d/30-hced-kernel.
 *   nfc_reader_test --devices
 *       the nfc_hce GET_DEVICE dump, one line per card device:
 *       "card IDX reader IDX bound 0|1 listening 0|1 session ID".
 *   nfc_reader_test --power IDX up|down
 *       NFC_CMD_DEV_UP, or NFC_CMD_STOP_POLL (errors ignored) then NFC_CMD_DEV_DOWN.
 *   nfc_reader_test --inject PORTID DEV SESSION
 *       send, from this (non-kernel) process, a forged nfc_hce SESSION_START, APDU and
 *       SESSION_END and a forged nfc TM_DEACTIVATED to netlink port PORTID (hced's sockets):
 *       a daemon that checks the sender drops them all.
 *   nfc_reader_test (no arguments)
 *       kselftest cases against a running hced --nfc serving the sample card; they SKIP unless
 *       HCE_READER_LIVE=1 (set by 30-hced-kernel once hced listens), so the host run of
 *       10-unit skips them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "codec/hex.h"
#include "nfcnl/nfcnl.h"
#include "nfcnl/reader.h"

#define RDR_BUF 70000

struct rdr {
	struct hce_nfcnl *nl;
	uint32_t reader;
	int fd;
};

/* The reader of the first virtual pair (or the one given). */
static int rdr_find(struct hce_nfcnl *nl, long want, uint32_t *reader)
{
	struct hce_nfcnl_card cards[HCE_NFCNL_DEV_MAX];
	size_t n;
	int rc;

	if (want >= 0) {
		*reader = (uint32_t)want;
		return 0;
	}
	rc = hce_nfcnl_cards(nl, cards, HCE_NFCNL_DEV_MAX, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (cards[i].has_reader) {
			*reader = cards[i].reader;
			return 0;
		}
	}
	return -ENODEV;
}

/* Poll, take the target, connect. 0 or a negative errno. */
static int rdr_open(struct rdr *r, long want, int timeout_ms)
{
	const struct hce_nfcnl_activate act = {
		.timeout_ms = timeout_ms, .dev_up = true, .poll_busy_ok = true,
	};
	struct hce_nfcnl_target t;
	enum hce_nfcnl_step step;
	int rc;

	r->fd = -1;
	rc = hce_nfcnl_open(&r->nl);
	if (rc)
		return rc;
	rc = hce_nfcnl_hce_resolve(r->nl);
	if (!rc)
		rc = rdr_find(r->nl, want, &r->reader);
	if (rc)
		return rc;
	rc = hce_nfcnl_reader_activate(r->nl, r->reader, &act, &t, &step);
	if (rc < 0)
		return rc;
	r->fd = rc;
	return 0;
}

static void rdr_close(struct rdr *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	hce_nfcnl_close(r->nl);
	r->nl = NULL;
}

/* One exchange; returns the R-APDU length or a negative errno. */
static int rdr_xfer(struct rdr *r, const uint8_t *c, size_t clen, uint8_t *out, size_t cap)
{
	static uint8_t buf[RDR_BUF];
	ssize_t n;

	if (send(r->fd, c, clen, 0) < 0)
		return -errno;
	n = recv(r->fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (n < 1 || (size_t)n - 1 > cap)
		return -EPROTO;
	memcpy(out, buf + 1, (size_t)n - 1);	/* byte 0: the raw socket's header */
	return (int)n - 1;
}

static int tool(int argc, char **argv)
{
	static uint8_t c[RDR_BUF], out[RDR_BUF];
	static char hex[2 * RDR_BUF + 1];
	struct rdr r = { 0 };
	long want = -1, timeout = 5000, down = -1, repeat = 0;
	bool up = false;
	int i = 2, rc;

	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--up")) {
			up = true;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return 1;
		if (!strcmp(argv[i], "--repeat"))
			repeat = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--down-card"))
			down = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--reader"))
			want = strtol(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--timeout"))
			timeout = strtol(argv[i + 1], NULL, 10);
		else
			return 1;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s --apdu [--reader IDX] [--timeout MS] HEX...\n", argv[0]);
		return 1;
	}
	rc = rdr_open(&r, want, (int)timeout);
	if (rc) {
		fprintf(stderr, "reader: no card: %s\n", strerror(-rc));
		rdr_close(&r);
		return 2;
	}
	for (; i < argc; i++) {
		ssize_t n = hce_hex_decode(argv[i], c, sizeof(c));

		if (n <= 0) {
			fprintf(stderr, "reader: bad hex '%s'\n", argv[i]);
			rdr_close(&r);
			return 1;
		}
		rc = rdr_xfer(&r, c, (size_t)n, out, sizeof(out));
		if (rc < 0) {
			fprintf(stderr, "reader: exchange %d failed: %s\n", i, strerror(-rc));
			rdr_close(&r);
			return 3;
		}
		if (hce_hex_encode(out, (size_t)rc, hex, sizeof(hex)))
			return 3;
		printf("%s\n", hex);
		fflush(stdout);
		if (i == argc - 1 && repeat > 0) {
			/* --repeat N: the last C-APDU N more times, timed; answers must not change. */
			static uint8_t first[RDR_BUF];
			size_t flen = (size_t)rc;
			struct timespec t0, t1;
			long k;

			memcpy(first, out, flen);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (k = 0; k < repeat; k++) {
				rc = rdr_xfer(&r, c, (size_t)n, out, sizeof(out));
				if (rc != (int)flen || memcmp(out, first, flen)) {
					fprintf(stderr, "reader: repeat %ld: %s\n", k,
						rc < 0 ? strerror(-rc) : "different answer");
					rdr_close(&r);
					return 3;
				}
			}
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("repeat %ld in %ld us: %ld us per exchange\n", repeat,
			       (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000,
			       ((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000) /
			       repeat);
		}
	}
	if (down >= 0) {
		static const uint8_t gb[] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };

		rc = hce_nfcnl_dev_down(r.nl, (uint32_t)down);
		if (rc) {
			fprintf(stderr, "reader: DEV_DOWN of card device %ld: %s\n", down,
				strerror(-rc));
			rdr_close(&r);
			return 3;
		}
		if (up && (rc = hce_nfcnl_dev_up(r.nl, (uint32_t)down)) && rc != -EALREADY) {
			fprintf(stderr, "reader: DEV_UP: %s\n", strerror(-rc));
			rdr_close(&r);
			return 3;
		}
		rc = rdr_xfer(&r, gb, sizeof(gb), out, sizeof(out));
		if (rc >= 0) {
			fprintf(stderr, "reader: the card still answered after DEV_DOWN\n");
			rdr_close(&r);
			return 3;
		}
		printf("after DEV_DOWN: %s\n", strerror(-rc));
	}
	rdr_close(&r);
	return 0;
}

/* ---- kselftest cases (live hced --nfc with the sample card) */

FIXTURE(live) {
	struct rdr r;
	bool live;
	uint8_t out[512];
};

/* This harness runs the body after a SKIP in the setup: bodies return at once then. */
#define NEED_LIVE() do { if (!self->live) return; } while (0)

FIXTURE_SETUP(live)
{
	const char *live = getenv("HCE_READER_LIVE");
	int rc;

	self->r.fd = -1;
	if (!live || strcmp(live, "1"))
		SKIP(return, "no live hced --nfc (HCE_READER_LIVE unset)");
	rc = rdr_open(&self->r, -1, 5000);
	ASSERT_EQ(0, rc) TH_LOG("reader: %s", strerror(-rc));
	self->live = true;
}

FIXTURE_TEARDOWN(live)
{
	rdr_close(&self->r);
}

static const uint8_t select_ep[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06,
				     0x32, 0x01, 0x01, 0x05 };
static const uint8_t get_balance[] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };

TEST_F(live, select_ep_aid_gives_fci_9000)
{
	int n;

	NEED_LIVE();
	n = rdr_xfer(&self->r, select_ep, sizeof(select_ep), self->out, sizeof(self->out));

	ASSERT_GE(n, 2);
	EXPECT_EQ(0x6F, self->out[0]);
	EXPECT_EQ(0x90, self->out[n - 2]);
	EXPECT_EQ(0x00, self->out[n - 1]);
}

TEST_F(live, get_balance_after_select_gives_4_bytes_9000)
{
	int n;

	NEED_LIVE();
	n = rdr_xfer(&self->r, select_ep, sizeof(select_ep), self->out, sizeof(self->out));

	ASSERT_GE(n, 2);
	n = rdr_xfer(&self->r, get_balance, sizeof(get_balance), self->out, sizeof(self->out));
	ASSERT_EQ(6, n);
	EXPECT_EQ(0x90, self->out[4]);
	EXPECT_EQ(0x00, self->out[5]);
}

TEST_F(live, select_unknown_aid_gives_6a82)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x07, 0xF0, 0x01, 0x02, 0x03,
				       0x04, 0x05, 0x06 };
	int n;

	NEED_LIVE();
	n = rdr_xfer(&self->r, sel, sizeof(sel), self->out, sizeof(self->out));

	ASSERT_EQ(2, n);
	EXPECT_EQ(0x6A, self->out[0]);
	EXPECT_EQ(0x82, self->out[1]);
}

TEST_F(live, fifty_get_balance_in_one_session_all_9000)
{
	int n;

	NEED_LIVE();
	n = rdr_xfer(&self->r, select_ep, sizeof(select_ep), self->out, sizeof(self->out));

	ASSERT_GE(n, 2);
	for (int i = 0; i < 50; i++) {
		n = rdr_xfer(&self->r, get_balance, sizeof(get_balance), self->out,
			     sizeof(self->out));
		ASSERT_EQ(6, n);
		ASSERT_EQ(0x90, self->out[4]);
	}
}

static int devices(void)
{
	struct hce_nfcnl_card cards[HCE_NFCNL_DEV_MAX];
	struct hce_nfcnl *nl;
	size_t n;
	int rc = hce_nfcnl_open(&nl);

	if (!rc)
		rc = hce_nfcnl_hce_resolve(nl);
	if (!rc)
		rc = hce_nfcnl_cards(nl, cards, HCE_NFCNL_DEV_MAX, &n);
	if (rc) {
		fprintf(stderr, "devices: %s\n", strerror(-rc));
		if (nl)
			hce_nfcnl_close(nl);
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		printf("card %u reader %d bound %d listening %d session %u\n", cards[i].index,
		       cards[i].has_reader ? (int)cards[i].reader : -1, cards[i].bound,
		       cards[i].listening, cards[i].session);
	hce_nfcnl_close(nl);
	return 0;
}

static int power(const char *idx, const char *how)
{
	struct hce_nfcnl *nl;
	uint32_t dev = (uint32_t)strtoul(idx, NULL, 10);
	int rc = hce_nfcnl_open(&nl);

	if (rc)
		return 2;
	if (!strcmp(how, "up")) {
		rc = hce_nfcnl_dev_up(nl, dev);
	} else {
		/* A listening device refuses DEV_DOWN (-EBUSY): stop listening first. */
		for (int i = 0; i < 10; i++) {
			hce_nfcnl_stop_poll(nl, dev);
			rc = hce_nfcnl_dev_down(nl, dev);
			if (rc != -EBUSY)
				break;
			usleep(20000);
		}
	}
	hce_nfcnl_close(nl);
	if (rc)
		fprintf(stderr, "power %s: %s\n", how, strerror(-rc));
	return rc ? 3 : 0;
}

static void put_attr(uint8_t *buf, size_t *off, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(buf + *off);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	*off += NLA_HDRLEN + NLA_ALIGN(len);
}

/* One forged generic netlink message to port. */
static int forge(int fd, uint32_t port, int fam, uint8_t cmd, uint32_t dev, uint32_t session,
		 bool hce)
{
	static const uint8_t apdu[] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };
	uint8_t buf[256] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = port };
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	uint32_t one = 1, reason = 1;

	g->cmd = cmd;
	g->version = 1;
	if (hce) {
		put_attr(buf, &off, NFC_HCE_ATTR_DEVICE_INDEX, &dev, 4);
		put_attr(buf, &off, NFC_HCE_ATTR_SESSION_ID, &session, 4);
		if (cmd == NFC_HCE_CMD_APDU) {
			put_attr(buf, &off, NFC_HCE_ATTR_SEQ, &one, 4);
			put_attr(buf, &off, NFC_HCE_ATTR_APDU, apdu, sizeof(apdu));
		}
		if (cmd == NFC_HCE_CMD_SESSION_END)
			put_attr(buf, &off, NFC_HCE_ATTR_REASON, &reason, 4);
	} else {
		put_attr(buf, &off, NFC_ATTR_DEVICE_INDEX, &dev, 4);
	}
	nlh->nlmsg_len = (uint32_t)off;
	nlh->nlmsg_type = (uint16_t)fam;
	return sendto(fd, buf, off, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

static int inject(const char *port_s, const char *dev_s, const char *sess_s)
{
	uint32_t port = (uint32_t)strtoul(port_s, NULL, 0);
	uint32_t dev = (uint32_t)strtoul(dev_s, NULL, 10);
	uint32_t sess = (uint32_t)strtoul(sess_s, NULL, 10);
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct hce_nfcnl *nl;
	int nfc, hce, fd, rc;

	rc = hce_nfcnl_open(&nl);
	if (rc || hce_nfcnl_hce_resolve(nl))
		return 2;
	hce_nfcnl_family_ids(nl, &nfc, &hce);
	hce_nfcnl_close(nl);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)))
		return 2;
	rc = forge(fd, port, hce, NFC_HCE_CMD_SESSION_START, dev, sess, true);
	if (!rc)
		rc = forge(fd, port, hce, NFC_HCE_CMD_APDU, dev, sess, true);
	if (!rc)
		rc = forge(fd, port, hce, NFC_HCE_CMD_SESSION_END, dev, sess, true);
	if (!rc)
		rc = forge(fd, port, nfc, NFC_EVENT_TM_DEACTIVATED, dev, 0, false);
	close(fd);
	if (rc)
		fprintf(stderr, "inject: %s\n", strerror(-rc));
	return rc ? 3 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--apdu"))
		return tool(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "--devices"))
		return devices();
	if (argc == 4 && !strcmp(argv[1], "--power"))
		return power(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "--inject"))
		return inject(argv[2], argv[3], argv[4]);
	return test_harness_run(argc, argv);
}
