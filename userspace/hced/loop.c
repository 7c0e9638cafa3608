// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - hced's one event loop and its APDU path.
 *
 * Front ends wait only through hced_poll() (or hced_wait()), which adds the control socket's
 * descriptors to the poll set and serves them when they are ready; so hcectl requests are
 * answered between APDUs, never while the application works on one, and the APDU path never
 * waits for a control client (their sockets are non-blocking, their buffers bounded).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "frontend.h"
#include "hced.h"
#include "log.h"

#define HCED_CTL_POLL_MAX 16
#define HCED_POLL_MAX 8

struct hced_state hced;
sigset_t hced_orig_mask;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int hced_poll(struct pollfd *fds, int n, int timeout_ms)
{
	struct pollfd all[HCED_POLL_MAX + HCED_CTL_POLL_MAX];
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	if (n > HCED_POLL_MAX)
		return -1;
	for (;;) {
		struct timespec ts, *tsp = NULL;
		int i, nctl, ready, got = 0;

		if (hced_stop)
			return -1;
		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left < 0)
				left = 0;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000L;
			tsp = &ts;
		}
		for (i = 0; i < n; i++) {
			all[i] = fds[i];
			all[i].revents = 0;
		}
		nctl = hced_ctl_fill(all + n, HCED_CTL_POLL_MAX);
		ready = ppoll(all, (nfds_t)(n + nctl), tsp, &hced_orig_mask);
		if (ready < 0) {
			if (errno == EINTR)
				continue;	/* hced_stop is looked at above */
			return -1;
		}
		for (i = 0; i < n; i++) {
			fds[i].revents = all[i].revents;
			if (all[i].revents)
				got++;
		}
		if (nctl)
			hced_ctl_service(all + n, nctl);
		if (got)
			return got;
		if (deadline >= 0 && now_ms() >= deadline)
			return 0;
	}
}

int hced_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return hced_poll(&pfd, fd >= 0 ? 1 : 0, timeout_ms);
}

size_t hced_process(const char *fe, const uint8_t *capdu, size_t len, uint8_t *out, size_t cap)
{
	uint64_t t0 = now_ns();
	size_t rlen;

	hced.capdus++;
	rlen = hce_app_process(hced.app, capdu, len, out, cap);
	hced.rapdus++;
	hced_log_apdu(fe, capdu, len, out, rlen);
	if (hced_trace_path())
		hced_trace_apdu(hced.session, hced.capdus, capdu, len, out, rlen, now_ns() - t0);
	return rlen;
}

void hced_session_start(const char *what)
{
	hced.sessions++;
	hced.in_session = true;
	if (hced_trace_path())
		hced_trace_note(what);
}

void hced_session_end(const char *why)
{
	hce_app_session_end(hced.app);
	hced.in_session = false;
	if (hced_trace_path()) {
		char note[96];

		snprintf(note, sizeof(note), "session end: %s", why);
		hced_trace_note(note);
	}
}
