// SPDX-License-Identifier: GPL-2.0
/*
 * Functional tests of nfc_hce and nfc_hce_vctrl: each test gets a fresh
 * virtual pair (NFC_HCE_CMD_VPAIR_CREATE) and drives it through the standard
 * "nfc" family, the "nfc_hce" family and an AF_NFC raw socket, as a card
 * daemon and a reader program would.
 */
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "hce_nl.h"
#include "kselftest_harness.h"

#define WAIT_MS 5000

static const uint8_t uid7[7] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
}

static uint32_t fsc_bytes(int fsci)
{
	static const uint32_t t[] = { 16, 24, 32, 40, 48, 64, 96, 128, 256 };

	return t[fsci];
}

FIXTURE(pair) {
	struct hnl ctl;		/* control, subscribed to nfc events */
	struct hnl own;		/* the card's owner */
	struct hce_pair p;
	int raw;
	struct nfc_target_info target;
	uint32_t session;
	struct hce_capdu capdu;
	uint8_t rbuf[NFC_HCE_APDU_MAX];
	uint8_t wbuf[NFC_HCE_APDU_MAX + 1];
};

FIXTURE_SETUP(pair)
{
	self->raw = -1;
	ASSERT_EQ(0, hnl_open(&self->ctl, true));
	ASSERT_EQ(0, hnl_open(&self->own, false));
	ASSERT_EQ(0, hce_vpair_create(&self->ctl, &self->p));
}

FIXTURE_TEARDOWN(pair)
{
	if (self->raw >= 0)
		close(self->raw);
	EXPECT_EQ(0, hce_vpair_destroy(&self->ctl, self->p.card));
	hnl_close(&self->own);
	hnl_close(&self->ctl);
}

static int wait_nfc_event(struct hnl *h, uint8_t cmd, uint32_t dev)
{
	struct nlmsghdr *nlh;
	int rc = hnl_wait(h, h->nfc_fam, cmd, NFC_ATTR_DEVICE_INDEX, dev, &nlh, WAIT_MS);

	if (!rc)
		free(nlh);
	return rc;
}

/* Both devices up, owner bound, card listening, reader finds the target */
static void discover(struct __test_metadata *_metadata,
		     FIXTURE_DATA(pair) *self, bool bind)
{
	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.card));
	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.reader));
	if (bind)
		ASSERT_EQ(0, hce_bind(&self->own, self->p.card));
	ASSERT_EQ(0, nfc_start_poll(&self->ctl, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_poll_target(&self->ctl, self->p.reader, &self->target, WAIT_MS));
}

/* Reader connects (RATS); the owner sees SESSION_START */
static void connect_reader(struct __test_metadata *_metadata,
			   FIXTURE_DATA(pair) *self, bool bound)
{
	self->raw = nfc_raw_connect(self->p.reader, self->target.idx);
	ASSERT_LE(0, self->raw);
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_ACTIVATED, self->p.card));
	if (bound)
		ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_START,
					      self->p.card, &self->session, NULL, WAIT_MS));
}

static void activate(struct __test_metadata *_metadata, FIXTURE_DATA(pair) *self)
{
	discover(_metadata, self, true);
	connect_reader(_metadata, self, true);
}

/* Re-listen and re-poll after a session ended, then reconnect */
static void reactivate(struct __test_metadata *_metadata, FIXTURE_DATA(pair) *self)
{
	struct hce_dev_info d;
	long deadline = hnl_now_ms() + WAIT_MS;

	if (self->raw >= 0)
		close(self->raw);
	self->raw = -1;
	/* the deselect is asynchronous: wait until the session is over */
	do {
		ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
		if (d.session)
			usleep(1000);
	} while (d.session && hnl_now_ms() < deadline);
	ASSERT_EQ(0, d.session);
	ASSERT_EQ(0, nfc_start_poll(&self->ctl, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_poll_target(&self->ctl, self->p.reader, &self->target, WAIT_MS));
	connect_reader(_metadata, self, true);
}

/* One C-APDU/R-APDU exchange, checked byte for byte on both sides */
static void roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(pair) *self,
		      size_t clen, size_t rlen, uint32_t seed)
{
	uint8_t *c = self->wbuf;
	int n;

	fill(c, clen, seed);
	ASSERT_EQ((ssize_t)clen, send(self->raw, c, clen, 0));
	ASSERT_EQ(0, hce_wait_capdu(&self->own, self->p.card, &self->capdu, WAIT_MS));
	ASSERT_EQ(self->session, self->capdu.session);
	ASSERT_EQ(clen, (size_t)self->capdu.len);
	ASSERT_EQ(0, memcmp(c, self->capdu.data, clen)) {
		TH_LOG("C-APDU of %zu bytes differs", clen);
	}
	fill(c, rlen, ~seed);
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, c, rlen));
	n = nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS);
	ASSERT_EQ((int)rlen, n);
	ASSERT_EQ(0, memcmp(c, self->rbuf, rlen)) {
		TH_LOG("R-APDU of %zu bytes differs", rlen);
	}
}

/* Sends a C-APDU and waits until the owner has it, without answering */
static void send_pending(struct __test_metadata *_metadata, FIXTURE_DATA(pair) *self,
			 size_t clen)
{
	fill(self->wbuf, clen, 7);
	ASSERT_EQ((ssize_t)clen, send(self->raw, self->wbuf, clen, 0));
	ASSERT_EQ(0, hce_wait_capdu(&self->own, self->p.card, &self->capdu, WAIT_MS));
}

struct dev_list {
	uint32_t idx[64];
	uint32_t protocols[64];
	int n;
};

static int dev_list_cb(struct nlmsghdr *nlh, void *p)
{
	struct dev_list *l = p;

	if (l->n < 64 && !hnl_get_u32(nlh, NFC_ATTR_DEVICE_INDEX, &l->idx[l->n])) {
		hnl_get_u32(nlh, NFC_ATTR_PROTOCOLS, &l->protocols[l->n]);
		l->n++;
	}
	return 0;
}

static int hce_list_cb(struct nlmsghdr *nlh, void *p)
{
	struct dev_list *l = p;
	uint32_t reader = 0;

	if (l->n < 64 && !hnl_get_u32(nlh, NFC_HCE_ATTR_DEVICE_INDEX, &l->idx[l->n])) {
		hnl_get_u32(nlh, NFC_HCE_ATTR_READER_INDEX, &reader);
		l->protocols[l->n++] = reader;
	}
	return 0;
}

TEST_F(pair, device_listing)
{
	struct dev_list l = {};
	struct hmsg *m = malloc(sizeof(*m));
	bool card = false, reader = false;
	struct hce_dev_info d;

	ASSERT_NE(NULL, m);
	hmsg_init(m, self->ctl.nfc_fam, NFC_CMD_GET_DEVICE, NLM_F_DUMP);
	ASSERT_EQ(0, hnl_transact(&self->ctl, m, dev_list_cb, &l));
	for (int i = 0; i < l.n; i++) {
		if (l.idx[i] == self->p.card) {
			card = true;
			EXPECT_TRUE(l.protocols[i] & NFC_PROTO_ISO14443_MASK);
		}
		if (l.idx[i] == self->p.reader) {
			reader = true;
			EXPECT_TRUE(l.protocols[i] & NFC_PROTO_ISO14443_MASK);
		}
	}
	EXPECT_TRUE(card);
	EXPECT_TRUE(reader);

	memset(&l, 0, sizeof(l));
	card = false;
	hmsg_init(m, self->ctl.hce_fam, NFC_HCE_CMD_GET_DEVICE, NLM_F_DUMP);
	ASSERT_EQ(0, hnl_transact(&self->ctl, m, hce_list_cb, &l));
	for (int i = 0; i < l.n; i++) {
		EXPECT_NE(self->p.reader, l.idx[i]);	/* readers are not card devices */
		if (l.idx[i] == self->p.card) {
			card = true;
			EXPECT_EQ(self->p.reader, l.protocols[i]);
		}
	}
	EXPECT_TRUE(card);
	free(m);

	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(self->p.reader, d.reader);
	EXPECT_EQ(0, d.bound);
	EXPECT_EQ(0, d.session);
	/* documented defaults: FWI 8 (FWT 4833 us * 16), 12 extensions */
	EXPECT_EQ(77329u * 13, d.deadline_us);
	EXPECT_EQ(-ENODEV, hce_info(&self->ctl, self->p.reader, &d));
}

TEST_F(pair, up_down_listen)
{
	struct hce_dev_info d;

	EXPECT_EQ(-ENODEV, nfc_start_poll(&self->ctl, self->p.card, 0,
					  NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.card));
	EXPECT_EQ(-EALREADY, nfc_dev_up(&self->ctl, self->p.card));
	/* a card device listens, it does not poll */
	EXPECT_EQ(-EOPNOTSUPP, nfc_start_poll(&self->ctl, self->p.card,
					      NFC_PROTO_ISO14443_MASK, 0));
	EXPECT_EQ(-EOPNOTSUPP, nfc_start_poll(&self->ctl, self->p.card, 0,
					      NFC_PROTO_MIFARE_MASK));
	ASSERT_EQ(0, nfc_start_poll(&self->ctl, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(1, d.listening);
	EXPECT_EQ(-EBUSY, nfc_start_poll(&self->ctl, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	EXPECT_EQ(-EBUSY, nfc_dev_down(&self->ctl, self->p.card));
	ASSERT_EQ(0, nfc_stop_poll(&self->ctl, self->p.card));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(0, d.listening);
	EXPECT_EQ(0, nfc_dev_down(&self->ctl, self->p.card));
	EXPECT_EQ(-EALREADY, nfc_dev_down(&self->ctl, self->p.card));

	/* the reader polls for ISO14443 only and does not listen */
	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.reader));
	EXPECT_EQ(-EOPNOTSUPP, nfc_start_poll(&self->ctl, self->p.reader, 0,
					      NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_start_poll(&self->ctl, self->p.reader, NFC_PROTO_ISO14443_MASK, 0));
	EXPECT_EQ(0, nfc_stop_poll(&self->ctl, self->p.reader));
}

TEST_F(pair, listen_discovery_activation)
{
	struct hce_listen l = HCE_LISTEN_KEEP;
	struct nlmsghdr *nlh;
	struct nlattr *a;
	uint32_t fsd = 0, session = 0;
	uint8_t hist[3] = { 0x80, 0x73, 0x01 };
	struct hce_dev_info d;

	l.uid = uid7;
	l.uid_len = 7;
	l.hist = hist;
	l.hist_len = 3;
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_READER_FSDI, 5));
	discover(_metadata, self, true);	/* waits for NFC_EVENT_TARGETS_FOUND */
	EXPECT_EQ(NFC_PROTO_ISO14443_MASK, self->target.protocols & NFC_PROTO_ISO14443_MASK);
	EXPECT_EQ(0x20, self->target.sel_res & 0x20);
	EXPECT_EQ(0x0044, self->target.sens_res);	/* double-size UID */
	ASSERT_EQ(7, self->target.nfcid1_len);
	EXPECT_EQ(0, memcmp(uid7, self->target.nfcid1, 7));

	self->raw = nfc_raw_connect(self->p.reader, self->target.idx);
	ASSERT_LE(0, self->raw);
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_ACTIVATED, self->p.card));
	ASSERT_EQ(0, hnl_wait(&self->own, self->own.hce_fam, NFC_HCE_CMD_SESSION_START,
			      NFC_HCE_ATTR_DEVICE_INDEX, self->p.card, &nlh, WAIT_MS));
	EXPECT_EQ(0, hnl_get_u32(nlh, NFC_HCE_ATTR_SESSION_ID, &session));
	EXPECT_NE(0, session);
	EXPECT_EQ(0, hnl_get_u32(nlh, NFC_HCE_ATTR_FSD, &fsd));
	EXPECT_EQ(64, fsd);				/* FSDI 5 */
	a = hnl_find(nlh, NFC_HCE_ATTR_UID);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(7, hnl_attr_len(a));
	EXPECT_EQ(0, memcmp(uid7, hnl_attr_data(a), 7));
	free(nlh);

	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(session, d.session);
	EXPECT_EQ(1, d.bound);
	EXPECT_EQ(0, d.listening);
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_ACTIVATIONS]);
	EXPECT_LE(2, d.stats[NFC_HCE_STATS_FRAMES]);	/* RATS and ATS */

	/* the reader releases the card: deselect ends the session */
	close(self->raw);
	self->raw = -1;
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      &session, &fsd, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_DESELECTED, fsd);
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_DEACTIVATED, self->p.card));
}

TEST_F(pair, apdu_roundtrip)
{
	static const uint8_t select[] = { 0x00, 0xa4, 0x04, 0x00, 0x07, 0xa0, 0x00, 0x00,
					  0x00, 0x03, 0x86, 0x98, 0x07, 0x00 };
	static const uint8_t ok[] = { 0x6f, 0x00, 0x90, 0x00 };
	struct hce_dev_info d;
	int n;

	activate(_metadata, self);
	ASSERT_EQ((ssize_t)sizeof(select), send(self->raw, select, sizeof(select), 0));
	ASSERT_EQ(0, hce_wait_capdu(&self->own, self->p.card, &self->capdu, WAIT_MS));
	EXPECT_EQ(1, self->capdu.seq);
	ASSERT_EQ((int)sizeof(select), self->capdu.len);
	EXPECT_EQ(0, memcmp(select, self->capdu.data, sizeof(select)));
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, ok, sizeof(ok)));
	n = nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS);
	ASSERT_EQ((int)sizeof(ok), n);
	EXPECT_EQ(0, memcmp(ok, self->rbuf, sizeof(ok)));

	for (uint32_t i = 0; i < 20; i++)
		roundtrip(_metadata, self, 5 + i * 13, 2 + i * 7, i);
	EXPECT_EQ(21, self->capdu.seq);

	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(21, d.stats[NFC_HCE_STATS_CAPDUS]);
	EXPECT_EQ(21, d.stats[NFC_HCE_STATS_RAPDUS]);
	EXPECT_EQ(sizeof(select) + 20 * 5 + 13 * 190, d.stats[NFC_HCE_STATS_CAPDU_BYTES]);
	EXPECT_EQ(sizeof(ok) + 20 * 2 + 7 * 190, d.stats[NFC_HCE_STATS_RAPDU_BYTES]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_ERRORS]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_RETRANSMISSIONS]);
}

FIXTURE(chain) {
	FIXTURE_DATA(pair) pair;
};

FIXTURE_VARIANT(chain) {
	int fsci;
	int fsdi;
};

FIXTURE_VARIANT_ADD(chain, fsc256_fsd256) { .fsci = 8, .fsdi = 8 };
FIXTURE_VARIANT_ADD(chain, fsc16_fsd16) { .fsci = 0, .fsdi = 0 };
FIXTURE_VARIANT_ADD(chain, fsc48_fsd96) { .fsci = 4, .fsdi = 6 };
FIXTURE_VARIANT_ADD(chain, fsc128_fsd24) { .fsci = 7, .fsdi = 1 };

FIXTURE_SETUP(chain)
{
	struct hce_listen l = HCE_LISTEN_KEEP;

	self->pair.raw = -1;
	ASSERT_EQ(0, hnl_open(&self->pair.ctl, true));
	ASSERT_EQ(0, hnl_open(&self->pair.own, false));
	ASSERT_EQ(0, hce_vpair_create(&self->pair.ctl, &self->pair.p));
	l.fsci = variant->fsci;
	ASSERT_EQ(0, hce_set_listen(&self->pair.ctl, self->pair.p.card, &l));
	ASSERT_EQ(0, hce_vpair_set(&self->pair.ctl, self->pair.p.card,
				   NFC_HCE_ATTR_READER_FSDI, variant->fsdi));
}

FIXTURE_TEARDOWN(chain)
{
	if (self->pair.raw >= 0)
		close(self->pair.raw);
	EXPECT_EQ(0, hce_vpair_destroy(&self->pair.ctl, self->pair.p.card));
	hnl_close(&self->pair.own);
	hnl_close(&self->pair.ctl);
}

/* Sizes 1..32 KiB around every multiple of both frame payloads up to 5 frames */
TEST_F_TIMEOUT(chain, every_boundary, 120)
{
	size_t inf_c = fsc_bytes(variant->fsci) - 3, inf_r = fsc_bytes(variant->fsdi) - 3;
	size_t sizes[128];
	int n = 0, i;
	struct hce_dev_info d;
	uint64_t expect_bytes = 0;

	for (size_t s = 1; s <= 5; s++)
		sizes[n++] = s;
	for (size_t k = 1; k <= 5; k++) {
		sizes[n++] = k * inf_c - 1;
		sizes[n++] = k * inf_c;
		sizes[n++] = k * inf_c + 1;
		sizes[n++] = k * inf_r - 1;
		sizes[n++] = k * inf_r;
		sizes[n++] = k * inf_r + 1;
	}
	sizes[n++] = 261;			/* short case 4: 5 + 255 + 1 */
	sizes[n++] = 4096 + 2;			/* 4 KiB R-APDU with status word */
	sizes[n++] = 4096 + 7;			/* extended case 3 */
	sizes[n++] = 4096 + 9;			/* extended case 4 */
	sizes[n++] = 65535 / 2 - 1;
	sizes[n++] = NFC_HCE_APDU_MAX;

	activate(_metadata, &self->pair);
	for (i = 0; i < n; i++) {
		size_t c = sizes[i], r = sizes[n - 1 - i] < 2 ? 2 : sizes[n - 1 - i];

		roundtrip(_metadata, &self->pair, c, r, (uint32_t)i);
		roundtrip(_metadata, &self->pair, r, c < 2 ? 2 : c, (uint32_t)i + 1000);
		expect_bytes += c + r;
	}
	ASSERT_EQ(0, hce_info(&self->pair.ctl, self->pair.p.card, &d));
	EXPECT_EQ(expect_bytes, d.stats[NFC_HCE_STATS_CAPDU_BYTES]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_ERRORS]);
	/* at least one frame per started INF chunk each way */
	EXPECT_LE(expect_bytes / inf_c, d.stats[NFC_HCE_STATS_FRAMES]);
}

/*
 * The NFC core stops a poll when the netlink socket that started it closes,
 * from work queued at NETLINK_URELEASE and matched by port id only. A card
 * whose listen ends that way is gone for the reader: the target the reader
 * found can no longer be activated (-ENODEV). This is what made the final
 * check of the rmmod/insmod race test fail about one run in ten: it closed
 * its control socket and opened a new one, which got the same port id (the
 * process id) and started the polls before the old socket's deferred
 * URELEASE work ran and stopped them.
 */
TEST_F(pair, poll_owner_close_stops_listen)
{
	struct hce_dev_info d;
	long deadline;
	struct hnl s;
	int raw;

	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.card));
	ASSERT_EQ(0, nfc_dev_up(&self->ctl, self->p.reader));
	ASSERT_EQ(0, hce_bind(&self->own, self->p.card));
	ASSERT_EQ(0, hnl_open(&s, false));
	ASSERT_EQ(0, nfc_start_poll(&s, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_poll_target(&self->ctl, self->p.reader, &self->target, WAIT_MS));
	hnl_close(&s);
	deadline = hnl_now_ms() + WAIT_MS;
	do {
		ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
		if (d.listening)
			usleep(2000);
	} while (d.listening && hnl_now_ms() < deadline);
	ASSERT_EQ(0, d.listening);
	raw = nfc_raw_connect(self->p.reader, self->target.idx);
	EXPECT_EQ(-ENODEV, raw);
	if (raw >= 0)
		close(raw);

	/* listening again from a socket that stays open: the reader gets in */
	ASSERT_EQ(0, nfc_start_poll(&self->ctl, self->p.card, 0, NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, nfc_poll_target(&self->ctl, self->p.reader, &self->target, WAIT_MS));
	self->session = 0;
	connect_reader(_metadata, self, true);
	roundtrip(_metadata, self, 5, 2, 9);
}

/*
 * GET_DEVICE during VPAIR_CREATE: the card device used to be listed before
 * the reader existed, with reader index 0, naming another device (nfc0).
 */
TEST_F_TIMEOUT(pair, dump_during_create_names_no_wrong_reader, 60)
{
	struct dev_list *l = malloc(sizeof(*l));
	struct hmsg *m = malloc(sizeof(*m));
	int dumps = 0, bad = 0;
	pid_t pid;
	long end;

	ASSERT_NE(NULL, l);
	ASSERT_NE(NULL, m);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hce_pair q;
		struct hnl h;

		if (hnl_open(&h, false))
			_exit(1);
		for (;;)
			if (!hce_vpair_create(&h, &q))
				hce_vpair_destroy(&h, q.card);
	}
	end = hnl_now_ms() + 3000;
	while (hnl_now_ms() < end) {
		memset(l, 0, sizeof(*l));
		hmsg_init(m, self->ctl.hce_fam, NFC_HCE_CMD_GET_DEVICE, NLM_F_DUMP);
		if (hnl_transact(&self->ctl, m, hce_list_cb, l))
			continue;
		dumps++;
		for (int i = 0; i < l->n; i++)
			for (int j = 0; j < l->n; j++)
				if (l->protocols[i] == l->idx[j]) {
					TH_LOG("card nfc%u listed with reader nfc%u, a card",
					       l->idx[i], l->protocols[i]);
					bad++;
				}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	TH_LOG("%d dumps", dumps);
	EXPECT_LT(0, dumps);
	EXPECT_EQ(0, bad);
	free(m);
	free(l);
}

TEST_F(pair, deadline_expiry)
{
	struct hce_listen l = HCE_LISTEN_KEEP;
	struct hce_dev_info d;
	uint32_t reason = 0;
	long t0, dt;
	int n;

	l.fwi = 4;			/* FWT 4.8 ms */
	l.wtx_max = 3;			/* deadline 19.3 ms */
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(4834u * 4, d.deadline_us);
	activate(_metadata, self);

	t0 = hnl_now_ms();
	send_pending(_metadata, self, 10);
	n = nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS);
	dt = hnl_now_ms() - t0;
	EXPECT_EQ(-ETIMEDOUT, n);
	EXPECT_LE(19, dt);
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      NULL, &reason, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_DEADLINE, reason);
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_DEACTIVATED, self->p.card));

	/* the late answer is refused and changes nothing */
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, self->capdu.session,
				       self->capdu.seq, "\x90\x00", 2));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_DEADLINE_EXPIRIES]);
	EXPECT_EQ(3, d.stats[NFC_HCE_STATS_WTX]);
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_STALE_RESPONSES]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_RAPDUS]);
	EXPECT_EQ(0, d.session);

	/* the raw socket is shut down for good; a new session works */
	reactivate(_metadata, self);
	roundtrip(_metadata, self, 20, 20, 3);
}

/*
 * SET_LISTEN during a session applies from the next listen period: the
 * reader negotiated FWI in the ATS, and the open session keeps that FWI and
 * its WTX_MAX. (The deadline used to read the live settings: raising FWI to
 * 14 and WTX_MAX to 60 mid-session stretched it from 19 ms to 5 minutes.)
 */
TEST_F(pair, set_listen_mid_session_keeps_deadline)
{
	struct hce_listen l = HCE_LISTEN_KEEP;
	struct hce_dev_info d;
	long t0, dt;
	int n;

	l.fwi = 4;
	l.wtx_max = 3;			/* deadline 19.3 ms */
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	activate(_metadata, self);
	l.fwi = 14;
	l.wtx_max = NFC_HCE_WTX_MAX;	/* 5 minutes, for the next listen */
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(4949032u * 61, d.deadline_us);

	t0 = hnl_now_ms();
	send_pending(_metadata, self, 10);
	n = nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS);
	dt = hnl_now_ms() - t0;
	EXPECT_EQ(-ETIMEDOUT, n);
	EXPECT_LE(19, dt);
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_DEADLINE_EXPIRIES]);
	EXPECT_EQ(3, d.stats[NFC_HCE_STATS_WTX]);
}

TEST_F(pair, wtx_keeps_session_alive)
{
	struct hce_listen l = HCE_LISTEN_KEEP;
	struct hce_dev_info d;
	int n;

	l.fwi = 5;
	l.wtx_max = 60;			/* deadline 590 ms */
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	activate(_metadata, self);
	send_pending(_metadata, self, 10);
	usleep(60 * 1000);
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, "\x90\x00", 2));
	n = nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS);
	ASSERT_EQ(2, n);
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_LE(1, d.stats[NFC_HCE_STATS_WTX]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_DEADLINE_EXPIRIES]);
}

TEST_F(pair, stale_responses)
{
	struct hce_dev_info d;
	uint32_t s, q;

	activate(_metadata, self);
	roundtrip(_metadata, self, 8, 4, 1);
	s = self->capdu.session;
	q = self->capdu.seq;
	/* answered already, nothing outstanding */
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, s, q, "\x90\x00", 2));
	send_pending(_metadata, self, 9);
	EXPECT_EQ(q + 1, self->capdu.seq);
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, s, q, "\x90\x00", 2));
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, s, q + 2, "\x90\x00", 2));
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, s + 1, q + 1, "\x90\x00", 2));
	/* none of them reached the reader: the right one still does */
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, s, q + 1, "\x6a\x82", 2));
	ASSERT_EQ(2, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	EXPECT_EQ(0, memcmp("\x6a\x82", self->rbuf, 2));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(4, d.stats[NFC_HCE_STATS_STALE_RESPONSES]);
	EXPECT_EQ(2, d.stats[NFC_HCE_STATS_RAPDUS]);
	EXPECT_EQ(s, d.session);
	roundtrip(_metadata, self, 30, 30, 2);
}

TEST_F(pair, bind_exclusive)
{
	struct hnl other;

	ASSERT_EQ(0, hnl_open(&other, false));
	ASSERT_EQ(0, hce_bind(&self->own, self->p.card));
	EXPECT_EQ(0, hce_bind(&self->own, self->p.card));	/* idempotent */
	EXPECT_EQ(-EBUSY, hce_bind(&other, self->p.card));
	EXPECT_EQ(-EPERM, hce_unbind(&other, self->p.card));

	discover(_metadata, self, false);
	connect_reader(_metadata, self, true);
	send_pending(_metadata, self, 12);
	/* only the owner may answer */
	EXPECT_EQ(-EPERM, hce_respond(&other, self->p.card, self->capdu.session,
				      self->capdu.seq, "\x90\x00", 2));
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, "\x90\x00", 2));
	ASSERT_EQ(2, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));

	/* unbinding ends the session; then the other socket can bind */
	ASSERT_EQ(0, hce_unbind(&self->own, self->p.card));
	EXPECT_EQ(-EPERM, hce_unbind(&self->own, self->p.card));
	ASSERT_EQ(0, hce_bind(&other, self->p.card));
	EXPECT_EQ(-EBUSY, hce_bind(&self->own, self->p.card));
	hnl_close(&other);
}

static int drop_all_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	return (int)syscall(SYS_capset, &h, data);
}

TEST_F(pair, eperm_without_cap_net_admin)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct hce_listen l = HCE_LISTEN_KEEP;
		struct hce_dev_info d;
		struct hce_pair p;
		struct hnl h;
		int fails = 0;

		/* the capability check uses the credentials of the socket opener */
		if (drop_all_caps() || hnl_open(&h, false))
			_exit(100);
		l.fwi = 5;
#define CHILD_EXPECT(want, expr) do { int _r = (expr); if (_r != (want)) { \
	fprintf(stderr, "%s: got %d want %d\n", #expr, _r, (want)); fails++; } } while (0)
		CHILD_EXPECT(-EPERM, hce_bind(&h, self->p.card));
		CHILD_EXPECT(-EPERM, hce_unbind(&h, self->p.card));
		CHILD_EXPECT(-EPERM, hce_set_listen(&h, self->p.card, &l));
		CHILD_EXPECT(-EPERM, hce_respond(&h, self->p.card, 1, 1, "\x90\x00", 2));
		CHILD_EXPECT(-EPERM, hce_vpair_create(&h, &p));
		CHILD_EXPECT(-EPERM, hce_vpair_destroy(&h, self->p.card));
		CHILD_EXPECT(-EPERM, hce_vpair_set(&h, self->p.card, NFC_HCE_ATTR_BITRATE, 106));
		CHILD_EXPECT(-EPERM, nfc_dev_up(&h, self->p.card));
		/* reading is allowed */
		CHILD_EXPECT(0, hce_info(&h, self->p.card, &d));
		hnl_close(&h);
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the card device is untouched */
	ASSERT_EQ(0, hce_bind(&self->own, self->p.card));
}

TEST_F(pair, owner_socket_close)
{
	struct hce_dev_info d;
	struct hnl next;

	activate(_metadata, self);
	send_pending(_metadata, self, 16);
	hnl_close(&self->own);
	/* the binding goes with the socket: the reader's exchange is reset */
	EXPECT_EQ(-ECONNRESET, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf),
					    WAIT_MS));
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_DEACTIVATED, self->p.card));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(0, d.bound);
	EXPECT_EQ(0, d.session);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_ERRORS]);	/* nobody left to notify */

	ASSERT_EQ(0, hnl_open(&next, false));
	ASSERT_EQ(0, hce_bind(&next, self->p.card));
	self->own = next;
	reactivate(_metadata, self);
	roundtrip(_metadata, self, 40, 3, 9);
}

TEST_F(pair, no_owner)
{
	struct hce_dev_info d;

	discover(_metadata, self, false);
	connect_reader(_metadata, self, false);
	ASSERT_EQ(5, send(self->raw, "\x00\xa4\x04\x00\x00", 5, 0));
	EXPECT_EQ(-ECONNREFUSED, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf),
					      WAIT_MS));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_NO_OWNER]);
}

TEST_F(pair, field_loss_while_chaining)
{
	struct hce_dev_info d;
	uint32_t reason = 0;

	/* RATS and ATS are frames 1 and 2; a 1000-byte C-APDU needs 7 */
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_FIELD_LOSS_AFTER, 5));
	activate(_metadata, self);
	fill(self->wbuf, 1000, 1);
	ASSERT_EQ(1000, send(self->raw, self->wbuf, 1000, 0));
	EXPECT_EQ(-ENOLINK, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      NULL, &reason, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_FIELD_LOST, reason);
	ASSERT_EQ(0, wait_nfc_event(&self->ctl, NFC_EVENT_TM_DEACTIVATED, self->p.card));
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(1, d.stats[NFC_HCE_STATS_FIELD_LOSSES]);
	EXPECT_EQ(0, d.stats[NFC_HCE_STATS_CAPDUS]);	/* never complete */
}

TEST_F(pair, field_loss_while_responding)
{
	uint32_t reason = 0;

	/* frame 3 is the C-APDU, frame 4 the first response block */
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_FIELD_LOSS_AFTER, 4));
	activate(_metadata, self);
	send_pending(_metadata, self, 10);
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, "\x90\x00", 2));
	EXPECT_EQ(-ENOLINK, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      NULL, &reason, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_FIELD_LOST, reason);

	/* a new activation counts frames from 1 again: off, then fine */
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_FIELD_LOSS_AFTER, 0));
	reactivate(_metadata, self);
	roundtrip(_metadata, self, 600, 600, 5);
}

TEST_F(pair, frame_drops_recovered)
{
	struct hce_dev_info d;
	uint32_t reason = 0;

	activate(_metadata, self);
	/* every 4th, then every 5th frame lost: each loss recovered by ISO-DEP */
	for (uint32_t every = 4; every <= 5; every++) {
		ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_DROP_EVERY,
					   every));
		roundtrip(_metadata, self, 1, 2, 1);
		roundtrip(_metadata, self, 300, 300, 2);
		roundtrip(_metadata, self, 4105, 4098, 3);
		roundtrip(_metadata, self, 2, 1200, 4);
	}
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_LE(8, d.stats[NFC_HCE_STATS_RETRANSMISSIONS]);
	EXPECT_EQ(8, d.stats[NFC_HCE_STATS_RAPDUS]);

	/* every frame lost: recovery gives up, the exchange fails with EIO */
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_DROP_EVERY, 1));
	ASSERT_EQ(10, send(self->raw, self->wbuf, 10, 0));
	EXPECT_EQ(-EIO, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      NULL, &reason, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_LINK_ERROR, reason);
}

TEST_F(pair, card_dev_down_ends_session)
{
	uint32_t reason = 0;

	activate(_metadata, self);
	send_pending(_metadata, self, 10);
	ASSERT_EQ(0, nfc_dev_down(&self->ctl, self->p.card));
	EXPECT_EQ(-ECONNRESET, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf),
					    WAIT_MS));
	ASSERT_EQ(0, hce_wait_session(&self->own, NFC_HCE_CMD_SESSION_END, self->p.card,
				      NULL, &reason, WAIT_MS));
	EXPECT_EQ(NFC_HCE_REASON_DEV_DOWN, reason);
	EXPECT_EQ(-ESTALE, hce_respond(&self->own, self->p.card, self->capdu.session,
				       self->capdu.seq, "\x90\x00", 2));
}

TEST_F(pair, random_uid_per_activation)
{
	struct hce_listen l = HCE_LISTEN_KEEP;
	uint8_t uids[3][4];

	l.uid_random = 1;
	ASSERT_EQ(0, hce_set_listen(&self->own, self->p.card, &l));
	activate(_metadata, self);
	for (int i = 0; i < 3; i++) {
		if (i)
			reactivate(_metadata, self);
		ASSERT_EQ(4, self->target.nfcid1_len);
		EXPECT_EQ(0x08, self->target.nfcid1[0]);
		EXPECT_EQ(0x0004, self->target.sens_res);
		memcpy(uids[i], self->target.nfcid1, 4);
		roundtrip(_metadata, self, 5, 2, i);
	}
	/* 24 random bits each time: three equal UIDs mean no randomness */
	EXPECT_FALSE(!memcmp(uids[0], uids[1], 4) && !memcmp(uids[1], uids[2], 4));
}

static long timed_roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(pair) *self,
			    size_t len)
{
	long t0 = hnl_now_ms();

	roundtrip(_metadata, self, len, len, 11);
	return hnl_now_ms() - t0;
}

TEST_F(pair, air_time_model)
{
	long slow = LONG_MAX, fast = LONG_MAX, t;

	activate(_metadata, self);
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_BITRATE, 106));
	reactivate(_metadata, self);	/* the bit rate applies from RATS on */
	for (int i = 0; i < 3; i++) {	/* the fastest of three: host load only adds */
		t = timed_roundtrip(_metadata, self, 2048);
		slow = t < slow ? t : slow;
	}
	ASSERT_EQ(0, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_BITRATE, 848));
	reactivate(_metadata, self);
	for (int i = 0; i < 3; i++) {
		t = timed_roundtrip(_metadata, self, 2048);
		fast = t < fast ? t : fast;
	}
	TH_LOG("2048+2048 bytes: %ld ms at 106 kbit/s, %ld ms at 848 kbit/s", slow, fast);
	/* 2 x 2048 bytes x 9 bits: 348 ms of air time at 106, 43 ms at 848 kbit/s */
	EXPECT_LE(348, slow);
	EXPECT_LE(43, fast);
	EXPECT_LE(250, slow - fast);
	EXPECT_EQ(-EINVAL, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_BITRATE, 300));
}

TEST_F(pair, two_pairs_at_once)
{
	FIXTURE_DATA(pair) *b = calloc(1, sizeof(*b));
	struct nlmsghdr *nlh;

	ASSERT_NE(NULL, b);
	b->raw = -1;
	ASSERT_EQ(0, hnl_open(&b->ctl, true));
	ASSERT_EQ(0, hnl_open(&b->own, false));
	ASSERT_EQ(0, hce_vpair_create(&b->ctl, &b->p));
	EXPECT_NE(self->p.card, b->p.card);
	activate(_metadata, self);
	activate(_metadata, b);
	for (uint32_t i = 0; i < 10; i++) {
		roundtrip(_metadata, self, 10 + i, 300 - i, i);
		roundtrip(_metadata, b, 300 + i, 10 + i, i + 50);
	}
	/* each owner saw only its card's traffic */
	EXPECT_EQ(-ETIMEDOUT, hnl_wait(&self->own, self->own.hce_fam, NFC_HCE_CMD_APDU, 0, 0,
				       &nlh, 100));
	EXPECT_EQ(10, self->capdu.seq);
	EXPECT_EQ(10, b->capdu.seq);
	close(b->raw);
	EXPECT_EQ(0, hce_vpair_destroy(&b->ctl, b->p.card));
	hnl_close(&b->own);
	hnl_close(&b->ctl);
	free(b);
}

static int raw_attr_cmd(struct hnl *h, uint8_t cmd, uint32_t card, uint16_t type,
			const void *data, size_t len)
{
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	hmsg_init(m, h->hce_fam, cmd, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, card);
	hmsg_put(m, type, data, len);
	rc = hnl_transact(h, m, NULL, NULL);
	free(m);
	return rc;
}

TEST_F(pair, bad_input)
{
	static const uint8_t uid5[5] = { 1, 2, 3, 4, 5 };
	static const uint8_t cascade[4] = { 0x88, 1, 2, 3 };
	static uint8_t big[NFC_HCE_APDU_MAX + 1];
	struct hce_listen l = HCE_LISTEN_KEEP;
	struct hce_dev_info d;
	uint8_t hist16[16] = {};
	uint16_t short_u32 = 1;
	struct hmsg *m = malloc(sizeof(*m));
	int rc;

	ASSERT_NE(NULL, m);
	/* unknown device indexes */
	EXPECT_EQ(-ENODEV, hce_bind(&self->own, 9999));
	EXPECT_EQ(-ENODEV, hce_vpair_destroy(&self->ctl, 9999));
	EXPECT_EQ(-ENODEV, hce_vpair_set(&self->ctl, 9999, NFC_HCE_ATTR_DROP_EVERY, 1));
	EXPECT_EQ(-ENODEV, hce_info(&self->ctl, 9999, &d));
	EXPECT_EQ(-ENODEV, hce_respond(&self->own, 9999, 1, 1, "\x90\x00", 2));
	EXPECT_EQ(-ENODEV, hce_bind(&self->own, self->p.reader));

	/* missing attributes */
	hmsg_init(m, self->own.hce_fam, NFC_HCE_CMD_BIND, 0);
	EXPECT_EQ(-EINVAL, hnl_transact(&self->own, m, NULL, NULL));
	hmsg_init(m, self->own.hce_fam, NFC_HCE_CMD_RESPONSE, 0);
	hmsg_u32(m, NFC_HCE_ATTR_DEVICE_INDEX, self->p.card);
	EXPECT_EQ(-EINVAL, hnl_transact(&self->own, m, NULL, NULL));

	/* malformed attributes: wrong size, unknown type, out of range */
	rc = raw_attr_cmd(&self->own, NFC_HCE_CMD_BIND, self->p.card, NFC_HCE_ATTR_SESSION_ID,
			  &short_u32, 2);
	EXPECT_TRUE(rc == -EINVAL || rc == -ERANGE);
	rc = raw_attr_cmd(&self->own, NFC_HCE_CMD_BIND, self->p.card, NFC_HCE_ATTR_MAX + 5,
			  "x", 1);
	EXPECT_TRUE(rc == -EINVAL || rc == -EOPNOTSUPP);
	rc = raw_attr_cmd(&self->own, NFC_HCE_CMD_SET_LISTEN, self->p.card,
			  NFC_HCE_ATTR_STATS, "", 0);
	EXPECT_TRUE(rc == -EINVAL || rc == -ERANGE);
	l.uid = uid5;
	l.uid_len = 5;
	EXPECT_EQ(-EINVAL, hce_set_listen(&self->own, self->p.card, &l));
	l.uid = cascade;
	l.uid_len = 4;
	EXPECT_EQ(-EINVAL, hce_set_listen(&self->own, self->p.card, &l));
	l = (struct hce_listen)HCE_LISTEN_KEEP;
	l.uid = uid7;
	l.uid_len = 7;
	l.uid_random = 1;
	EXPECT_EQ(-EINVAL, hce_set_listen(&self->own, self->p.card, &l));
	l = (struct hce_listen)HCE_LISTEN_KEEP;
	/* beyond the policy: -ERANGE, as include/uapi/linux/nfc_hce.h says */
	l.fwi = 15;
	EXPECT_EQ(-ERANGE, hce_set_listen(&self->own, self->p.card, &l));
	l.fwi = -1;
	l.fsci = 9;
	EXPECT_EQ(-ERANGE, hce_set_listen(&self->own, self->p.card, &l));
	l.fsci = -1;
	l.wtx_max = NFC_HCE_WTX_MAX + 1;
	EXPECT_EQ(-ERANGE, hce_set_listen(&self->own, self->p.card, &l));
	l.wtx_max = -1;
	l.hist = hist16;
	l.hist_len = 16;
	EXPECT_EQ(-ERANGE, hce_set_listen(&self->own, self->p.card, &l));
	EXPECT_EQ(-ERANGE, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_READER_FSDI, 9));
	EXPECT_EQ(-ERANGE, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_BITRATE, 849));
	/* within the policy, refused by the command: -EINVAL */
	EXPECT_EQ(-EINVAL, hce_vpair_set(&self->ctl, self->p.card, NFC_HCE_ATTR_BITRATE, 300));
	/* nothing of that changed the configuration */
	ASSERT_EQ(0, hce_info(&self->ctl, self->p.card, &d));
	EXPECT_EQ(77329u * 13, d.deadline_us);

	/* oversize and undersize APDUs */
	activate(_metadata, self);
	send_pending(_metadata, self, 4);
	rc = hce_respond(&self->own, self->p.card, self->capdu.session, self->capdu.seq,
			 big, sizeof(big));
	EXPECT_TRUE(rc == -EINVAL || rc == -ERANGE);
	EXPECT_EQ(-EINVAL, hce_respond(&self->own, self->p.card, self->capdu.session,
				       self->capdu.seq, "\x90", 1));
	/* still outstanding after the refusals */
	ASSERT_EQ(0, hce_respond(&self->own, self->p.card, self->capdu.session,
				 self->capdu.seq, "\x90\x00", 2));
	ASSERT_EQ(2, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(big), send(self->raw, big, sizeof(big), 0));
	EXPECT_EQ(-EMSGSIZE, nfc_raw_recv(self->raw, self->rbuf, sizeof(self->rbuf), WAIT_MS));
	free(m);
}

TEST_HARNESS_MAIN
