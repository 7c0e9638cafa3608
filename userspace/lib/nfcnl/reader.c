// SPDX-License-Identifier: GPL-2.0
/*
 * reader.c - the reader side of a kernel NFC device (lock, activation, raw socket); see
 * reader.h. Netlink goes through nfcnl.c.
 */
#include "nfcnl/reader.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>

#ifndef AF_NFC
#define AF_NFC 39
#endif

int hce_nfcnl_reader_lock(uint32_t reader)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n, rc;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "hce-terminal/nfc-reader/%u",
		     reader);
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n))) {
		rc = errno == EADDRINUSE ? -EBUSY : -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int hce_nfcnl_raw_connect(uint32_t reader, uint32_t target)
{
	struct sockaddr_nfc sa;
	int fd, rc;

	fd = socket(AF_NFC, SOCK_SEQPACKET | SOCK_CLOEXEC, NFC_SOCKPROTO_RAW);
	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_NFC;
	sa.dev_idx = reader;
	sa.target_idx = target;
	sa.nfc_protocol = NFC_PROTO_ISO14443;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int poll_wait(void *arg, int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	(void)arg;
	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	return rc > 0;
}

struct watch {
	uint32_t reader;
	bool found, removed;
	bool waited;		/* the wait itself ended (timeout, o->wait): stop the poll */
};

static void on_event(void *arg, const struct hce_nfcnl_event *ev)
{
	struct watch *w = arg;

	if (!ev->has_dev || ev->dev != w->reader)
		return;
	if (ev->cmd == NFC_EVENT_TARGETS_FOUND)
		w->found = true;
	else if (ev->cmd == NFC_EVENT_DEVICE_REMOVED)
		w->removed = true;
}

/* Wait for TARGETS_FOUND on the reader (or a target when events were lost). 0 or -errno. */
static int wait_target(struct hce_nfcnl *nl, const struct hce_nfcnl_activate *o,
		       struct watch *w)
{
	hce_nfcnl_wait_fn wait = o->wait ? o->wait : poll_wait;
	struct hce_nfcnl_target tg;
	struct timespec t0, t;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!w->found) {
		int left = -1;

		if (w->removed)
			return -ENODEV;
		if (o->timeout_ms >= 0) {
			long l;

			clock_gettime(CLOCK_MONOTONIC, &t);
			l = o->timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000L +
					     (t.tv_nsec - t0.tv_nsec) / 1000000L);
			if (l <= 0) {
				w->waited = true;
				return -ETIMEDOUT;
			}
			left = (int)l;
		}
		rc = wait(o->wait_arg, hce_nfcnl_event_fd(nl), left);
		if (rc < 0) {
			w->waited = true;
			return rc;
		}
		if (rc == 0)
			continue;
		rc = hce_nfcnl_events(nl, on_event, w);
		if (rc == -ENOBUFS) {
			/* events lost: the target list says whether the card is there */
			rc = hce_nfcnl_get_target(nl, w->reader, &tg);
			if (!rc)
				w->found = true;
			else if (rc != -ENOENT)
				return rc;
		} else if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

int hce_nfcnl_reader_activate(struct hce_nfcnl *nl, uint32_t reader,
			      const struct hce_nfcnl_activate *o, struct hce_nfcnl_target *tg,
			      enum hce_nfcnl_step *step)
{
	struct watch w = { .reader = reader };
	int rc;

	hce_nfcnl_events(nl, on_event, &w);	/* what came before this poll does not count */
	w.found = w.removed = false;
	if (o->dev_up) {
		*step = HCE_NFCNL_STEP_DEV_UP;
		rc = hce_nfcnl_dev_up(nl, reader);
		if (rc && rc != -EALREADY)
			return rc;
	}
	*step = HCE_NFCNL_STEP_START_POLL;
	rc = hce_nfcnl_start_poll(nl, reader, NFC_PROTO_ISO14443_MASK, 0);
	if (rc && !(rc == -EBUSY && o->poll_busy_ok))
		return rc;
	*step = HCE_NFCNL_STEP_WAIT;
	rc = wait_target(nl, o, &w);
	if (rc) {
		if (w.waited)
			hce_nfcnl_stop_poll(nl, reader);
		else
			*step = HCE_NFCNL_STEP_EVENTS;
		return rc;
	}
	*step = HCE_NFCNL_STEP_GET_TARGET;
	rc = hce_nfcnl_get_target(nl, reader, tg);
	if (rc)
		return rc;
	*step = HCE_NFCNL_STEP_CONNECT;
	return hce_nfcnl_raw_connect(reader, tg->index);
}
