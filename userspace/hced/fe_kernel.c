// SPDX-License-Identifier: GPL-2.0
/*
 * fe_kernel.c - hced's kernel front end (--nfc): the card device of the nfc_hce module
 * (Documentation/nfc-hce.rst), driven through lib/nfcnl (all netlink use).
 *
 * Setup: resolve "nfc_hce"; pick the card device (the configured one by index or name, else
 * the first unbound one of a GET_DEVICE dump); power it (DEV_UP, -EALREADY is fine); bind it
 * from our owner socket (BIND); set the listen identity (SET_LISTEN) from the configuration;
 * start listen mode (START_POLL, TM_PROTOCOLS = ISO14443).
 *
 * Running: SESSION_START / APDU / SESSION_END arrive on the owner socket, TM_ACTIVATED /
 * TM_DEACTIVATED / DEVICE_ADDED / DEVICE_REMOVED on the "nfc" event socket (both read by
 * lib/nfcnl, which drops anything not sent by the kernel). Each C-APDU of the current session
 * is answered through the application with one RESPONSE echoing device, session and sequence;
 * a C-APDU of another session is dropped (debug log). Every session end (either event, or a
 * newer session superseding it) calls the application's session_end once. After each
 * deactivation listen mode is started again (activation clears the NFC core's polling flag).
 *
 * Recovery: the device removed (module unloaded, pair destroyed), our binding lost, the family
 * gone: the owner socket is closed and setup is retried with a bounded backoff (0.1 s doubling
 * to 5 s), at once when a DEVICE_ADDED event comes. Between sessions a health check (1 s)
 * reads GET_DEVICE: not listening without a session (e.g. someone ran DEV_DOWN and DEV_UP),
 * not bound (binding lost) or gone are repaired the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#include "crypto/crypto.h"
#include "frontend.h"
#include "hced.h"
#include "log.h"
#include "nfcnl/nfcnl.h"

#define KFE_BACKOFF_MIN_MS 100
#define KFE_BACKOFF_MAX_MS 5000
#define KFE_HEALTH_MS 1000
#define KFE_REPOLL_MS 50

struct kfe {
	struct hce_nfcnl *nl;
	struct hce_nfcnl_owner *own;
	uint32_t dev;
	char name[HCE_NFCNL_NAME_MAX];
	uint32_t session;		/* current session id, 0 none */
	int backoff_ms;
	long long retry_at;		/* setup when no owner socket */
	long long poll_at;		/* START_POLL due (-1: not needed) */
	long long check_at;		/* next health check */
	int last_setup_err;
	const char *step;		/* setup step that failed last */
	const char *last_step;
	const char *lost;		/* set by an owner event: tear down after the batch */
	uint8_t *rbuf;
};

static struct kfe *kfe_status;	/* for the status hook */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const char *reason_name(uint32_t r)
{
	static const char *const names[] = {
		[NFC_HCE_REASON_DESELECTED] = "deselected",
		[NFC_HCE_REASON_FIELD_LOST] = "field lost",
		[NFC_HCE_REASON_DEADLINE] = "response deadline expired",
		[NFC_HCE_REASON_UNBOUND] = "unbound",
		[NFC_HCE_REASON_DEV_DOWN] = "device powered down",
		[NFC_HCE_REASON_REMOVED] = "device removed",
		[NFC_HCE_REASON_LINK_ERROR] = "link error",
	};

	return r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown reason";
}

static void end_session(struct kfe *k, const char *why)
{
	if (!k->session)
		return;
	hced_dbg("nfc: session %u ended (%s)", k->session, why);
	k->session = 0;
	hced.session = 0;
	hced_session_end(why);
}

static void teardown(struct kfe *k, const char *why)
{
	end_session(k, why);
	if (k->own) {
		hced_warn("nfc: lost %s (index %u): %s; looking for a card device again", k->name,
			  k->dev, why);
		hce_nfcnl_owner_close(k->own);
		k->own = NULL;
		hced.recoveries++;
	}
	hced.bound = false;
	hced.listening = false;
	k->poll_at = -1;
	k->backoff_ms = KFE_BACKOFF_MIN_MS;
	k->retry_at = now_ms() + k->backoff_ms;
}

/* Start listen mode; schedules a retry when the device is not ready for it yet. */
static void start_listen(struct kfe *k)
{
	struct hce_nfcnl_card cd;
	int rc = hce_nfcnl_start_poll(k->nl, k->dev, 0, NFC_PROTO_ISO14443_MASK);

	if (rc == -ENODEV || rc == -ENETDOWN) {
		/* Powered down under us (DEV_DOWN): power it again, then listen. */
		int up = hce_nfcnl_dev_up(k->nl, k->dev);

		if (up && up != -EALREADY) {
			teardown(k, "cannot power the card device");
			return;
		}
		hced_info("nfc: %s was powered down; powered up again", k->name);
		hced.recoveries++;
		rc = hce_nfcnl_start_poll(k->nl, k->dev, 0, NFC_PROTO_ISO14443_MASK);
	}
	if (!rc) {
		hced.listening = true;
		k->poll_at = -1;
		hced_dbg("nfc: %s listening", k->name);
		return;
	}
	if (rc == -EBUSY && !hce_nfcnl_card(k->nl, k->dev, &cd) && (cd.listening || cd.session)) {
		/* Already listening (a deactivation raced our START_POLL), or a session opened. */
		hced.listening = cd.listening;
		k->poll_at = -1;
		return;
	}
	hced_dbg("nfc: START_POLL on %s: %s; retrying", k->name, strerror(-rc));
	k->poll_at = now_ms() + KFE_REPOLL_MS;
}

/* Pick the card device: the configured one, else the first unbound one. */
static int choose(struct kfe *k, const char *want)
{
	struct hce_nfcnl_card cards[HCE_NFCNL_DEV_MAX];
	unsigned int idx;
	size_t n, i;
	int rc, kind = hced_conf_device(want, &idx);

	if (kind == 1) {
		k->dev = idx;
		return hce_nfcnl_card(k->nl, idx, &cards[0]);
	}
	if (kind == 2) {
		rc = hce_nfcnl_dev_index(k->nl, want, &k->dev);
		if (rc)
			return rc;
		return hce_nfcnl_card(k->nl, k->dev, &cards[0]);
	}
	rc = hce_nfcnl_cards(k->nl, cards, HCE_NFCNL_DEV_MAX, &n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		if (!cards[i].bound) {
			k->dev = cards[i].index;
			return 0;
		}
	}
	return n ? -EBUSY : -ENODEV;
}

static int setup(struct kfe *k)
{
	const struct hce_nfcnl_listen *l = &hced.conf.listen;
	int rc;

	k->step = "family lookup";
	rc = hce_nfcnl_hce_resolve(k->nl);
	if (rc)
		return rc;
	k->step = "device lookup";
	rc = choose(k, hced.conf.nfc_device);
	if (rc)
		return rc;
	if (hce_nfcnl_dev_name(k->nl, k->dev, k->name))
		snprintf(k->name, sizeof(k->name), "nfc%u", k->dev);
	k->step = "DEV_UP";
	rc = hce_nfcnl_dev_up(k->nl, k->dev);
	if (rc && rc != -EALREADY)
		return rc;
	k->step = "BIND";
	rc = hce_nfcnl_owner_open(k->nl, k->dev, &k->own);
	if (rc)
		return rc;
	if (l->has_uid || l->has_fsci || l->has_fwi || l->has_sfgi || l->has_hist ||
	    l->has_wtx_max) {
		k->step = "SET_LISTEN";
		rc = hce_nfcnl_set_listen(k->nl, k->dev, l);
		if (rc) {
			hce_nfcnl_owner_close(k->own);
			k->own = NULL;
			return rc;
		}
	}
	snprintf(hced.device, sizeof(hced.device), "%s (index %u)", k->name, k->dev);
	hced.bound = true;
	k->session = 0;
	k->backoff_ms = KFE_BACKOFF_MIN_MS;
	k->last_setup_err = 0;
	k->last_step = NULL;
	k->check_at = now_ms() + KFE_HEALTH_MS;
	hced_info("nfc: bound to %s (index %u)", k->name, k->dev);
	start_listen(k);
	if (hced.listening)
		hced_info("nfc: %s listening (ISO 14443-4 card emulation)", k->name);
	return 0;
}

static void try_setup(struct kfe *k)
{
	int rc = setup(k);

	if (!rc)
		return;
	if (rc != k->last_setup_err || k->step != k->last_step) {
		const char *what = rc == -ENOENT && !strcmp(k->step, "family lookup") ?
				   "the nfc_hce module is not loaded" :
				   rc == -ENODEV ? "no card device" :
				   rc == -EBUSY ? "the card device has another owner" :
				   rc == -EPERM ? "not permitted (CAP_NET_ADMIN needed)" :
				   strerror(-rc);

		hced_warn("nfc: cannot serve a card device yet (%s): %s; retrying", k->step, what);
		k->last_setup_err = rc;
		k->last_step = k->step;
	}
	k->retry_at = now_ms() + k->backoff_ms;
	k->backoff_ms = k->backoff_ms * 2 > KFE_BACKOFF_MAX_MS ? KFE_BACKOFF_MAX_MS :
			k->backoff_ms * 2;
}

static void health(struct kfe *k)
{
	struct hce_nfcnl_card cd;
	int rc;

	k->check_at = now_ms() + KFE_HEALTH_MS;
	if (!k->own || k->session)
		return;
	rc = hce_nfcnl_card(k->nl, k->dev, &cd);
	if (rc == -ENODEV || rc == -ENOENT) {
		teardown(k, "card device gone");
		return;
	}
	if (rc)
		return;
	if (!cd.bound) {
		teardown(k, "binding lost");
		return;
	}
	hced.listening = cd.listening;
	if (!cd.listening && !cd.session && k->poll_at < 0) {
		hced_info("nfc: %s is not listening; starting listen mode again", k->name);
		hced.recoveries++;
		start_listen(k);
	}
}

static void on_nfc_event(void *arg, const struct hce_nfcnl_event *ev)
{
	struct kfe *k = arg;

	switch (ev->cmd) {
	case NFC_EVENT_DEVICE_ADDED:
		hced_dbg("nfc: device %s added", ev->name);
		if (!k->own)
			k->retry_at = now_ms();	/* try now */
		break;
	case NFC_EVENT_DEVICE_REMOVED:
		if (k->own && ev->has_dev && ev->dev == k->dev)
			teardown(k, "card device removed");
		break;
	case NFC_EVENT_TM_ACTIVATED:
		if (k->own && ev->has_dev && ev->dev == k->dev) {
			hced.listening = false;
			hced_dbg("nfc: %s activated", k->name);
		}
		break;
	case NFC_EVENT_TM_DEACTIVATED:
		if (k->own && ev->has_dev && ev->dev == k->dev) {
			/*
			 * The session itself ends with nfc_hce SESSION_END, which names it. The
			 * "nfc" event socket and the owner socket are not ordered: this event can
			 * arrive after the NEXT session's SESSION_START, so it must not end
			 * k->session. It only says listen mode is over; when a session is open,
			 * SESSION_END will schedule the next START_POLL.
			 */
			hced_dbg("nfc: %s deactivated", k->name);
			if (!k->session) {
				hced.listening = false;
				if (k->poll_at < 0)
					k->poll_at = now_ms();
			}
		}
		break;
	default:
		break;
	}
}

static void on_owner_event(void *arg, const struct hce_nfcnl_owner_event *ev)
{
	static const uint8_t sw_6f00[2] = { 0x6F, 0x00 };
	struct kfe *k = arg;
	size_t rlen;
	int rc;

	if (ev->dev != k->dev)
		return;
	switch (ev->cmd) {
	case NFC_HCE_CMD_SESSION_START:
		if (k->session && k->session != ev->session)
			end_session(k, "superseded by a new activation");
		k->session = ev->session;
		hced.session = ev->session;
		hced.listening = false;
		hced_dbg("nfc: session %u started (FSD %u)", ev->session, ev->fsd);
		hced_session_start("session start");
		break;
	case NFC_HCE_CMD_APDU:
		if (!k->session || ev->session != k->session) {
			hced.dropped++;
			hced_dbg("nfc: C-APDU #%u of session %u dropped: current session is %u",
				 ev->seq, ev->session, k->session);
			return;
		}
		rlen = hced_process("nfc", ev->apdu, ev->apdu_len, k->rbuf, HCE_RAPDU_MAX);
		if (rlen > NFC_HCE_APDU_MAX) {
			hced_warn("nfc: R-APDU of %zu bytes exceeds the kernel's %d; answered 6F00",
				  rlen, NFC_HCE_APDU_MAX);
			rc = hce_nfcnl_owner_respond(k->own, ev->session, ev->seq, sw_6f00, 2);
		} else {
			rc = hce_nfcnl_owner_respond(k->own, ev->session, ev->seq, k->rbuf, rlen);
		}
		hce_wipe(k->rbuf, rlen < HCE_RAPDU_MAX ? rlen : HCE_RAPDU_MAX);
		if (rc) {
			hced.resp_errors++;
			hced_warn("nfc: cannot send the R-APDU: %s", strerror(-rc));
		}
		break;
	case NFC_HCE_CMD_SESSION_END:
		if (ev->session == k->session)
			end_session(k, reason_name(ev->reason));
		if (ev->reason == NFC_HCE_REASON_DEADLINE)
			hced_warn("nfc: a response missed the reader's deadline");
		/* Not torn down here: the owner socket's buffer is being walked. */
		if (ev->reason == NFC_HCE_REASON_REMOVED)
			k->lost = "card device removed";
		else if (ev->reason == NFC_HCE_REASON_UNBOUND)
			k->lost = "binding lost";
		else if (k->poll_at < 0)
			k->poll_at = now_ms();
		break;
	default:
		break;
	}
}

static void status_extra(struct hced_ctl_client *c)
{
	struct kfe *k = kfe_status;
	struct hce_nfcnl_stats st;
	struct hce_nfcnl_card cd;

	if (!k || !k->own)
		return;
	if (!hce_nfcnl_card(k->nl, k->dev, &cd)) {
		hced_ctl_printf(c, "kernel-listening %s", cd.listening ? "yes" : "no");
		hced_ctl_printf(c, "deadline-us %u", cd.deadline_us);
		if (cd.id.uid_random)
			hced_ctl_printf(c, "uid random");
		else if (cd.id.has_uid) {
			char u[2 * HCE_NFCNL_UID_MAX + 1];

			for (size_t i = 0; i < cd.id.uid_len; i++)
				sprintf(u + 2 * i, "%02X", cd.id.uid[i]);
			u[2 * cd.id.uid_len] = '\0';
			hced_ctl_printf(c, "uid %s", u);
		}
	}
	if (!hce_nfcnl_stats(k->nl, k->dev, &st)) {
		hced_ctl_printf(c, "kernel-activations %llu", (unsigned long long)st.activations);
		hced_ctl_printf(c, "kernel-capdus %llu", (unsigned long long)st.capdus);
		hced_ctl_printf(c, "kernel-rapdus %llu", (unsigned long long)st.rapdus);
		hced_ctl_printf(c, "kernel-deadline-expiries %llu",
				(unsigned long long)st.deadline_expiries);
		hced_ctl_printf(c, "kernel-stale-responses %llu",
				(unsigned long long)st.stale_responses);
		hced_ctl_printf(c, "kernel-field-losses %llu", (unsigned long long)st.field_losses);
	}
}

static int kernel_run(struct hce_app *app, const struct hced_frontend_opts *opts)
{
	struct kfe k = { 0 };
	int rc, ret = 0, last_err = 0;

	(void)app;
	(void)opts;
	k.rbuf = malloc(HCE_RAPDU_MAX);
	if (!k.rbuf) {
		hced_err("nfc: out of memory");
		return -ENOMEM;
	}
	rc = hce_nfcnl_open(&k.nl);
	if (rc) {
		hced_err("nfc: cannot open generic netlink (nfc family): %s",
			 rc == -ENOENT ? "the nfc module is not loaded" : strerror(-rc));
		free(k.rbuf);
		return rc;
	}
	kfe_status = &k;
	hced.status_extra = status_extra;
	snprintf(hced.device, sizeof(hced.device), "%s", "(searching)");
	k.poll_at = -1;
	k.backoff_ms = KFE_BACKOFF_MIN_MS;
	k.retry_at = now_ms();
	while (!hced_stop) {
		struct pollfd pfd[2];
		long long now = now_ms(), due;
		int n = 0, timeout;

		if (!k.own && now >= k.retry_at)
			try_setup(&k);
		if (k.own && k.poll_at >= 0 && now >= k.poll_at)
			start_listen(&k);
		if (k.own && now >= k.check_at)
			health(&k);
		now = now_ms();
		due = k.own ? k.check_at : k.retry_at;
		if (k.own && k.poll_at >= 0 && k.poll_at < due)
			due = k.poll_at;
		timeout = due <= now ? 0 : (int)(due - now);
		pfd[n++] = (struct pollfd){ hce_nfcnl_event_fd(k.nl), POLLIN, 0 };
		if (k.own)
			pfd[n++] = (struct pollfd){ hce_nfcnl_owner_fd(k.own), POLLIN, 0 };
		rc = hced_poll(pfd, n, timeout);
		if (rc < 0)
			break;
		if (rc == 0)
			continue;
		if (k.own && n == 2 && pfd[1].revents) {
			rc = hce_nfcnl_owner_recv(k.own, on_owner_event, &k, &hced.resp_errors,
						  &last_err);
			if (rc == -ENOBUFS) {
				hced_warn("nfc: owner socket overflowed; events lost");
				end_session(&k, "events lost");
				k.check_at = now_ms();
			} else if (rc < 0) {
				teardown(&k, "owner socket error");
			}
			if (last_err) {
				hced_dbg("nfc: a RESPONSE was refused: %s", strerror(-last_err));
				last_err = 0;
			}
			if (k.lost) {
				teardown(&k, k.lost);
				k.lost = NULL;
			}
		}
		if (pfd[0].revents) {
			rc = hce_nfcnl_events(k.nl, on_nfc_event, &k);
			if (rc == -ENOBUFS) {
				hced_warn("nfc: event socket overflowed; checking the device");
				k.check_at = now_ms();
				if (!k.own)
					k.retry_at = now_ms();
			} else if (rc < 0) {
				hced_err("nfc: event socket: %s", strerror(-rc));
				ret = rc;
				break;
			}
		}
	}
	end_session(&k, "hced stopping");
	if (k.own) {
		/* No owner, no listening: a reader then finds no card rather than a mute one. */
		rc = hce_nfcnl_stop_poll(k.nl, k.dev);
		if (rc && rc != -EINVAL)
			hced_dbg("nfc: STOP_POLL: %s", strerror(-rc));
		hce_nfcnl_owner_close(k.own);
		hced_info("nfc: released %s", k.name);
	}
	hced.status_extra = NULL;
	kfe_status = NULL;
	hced.bound = hced.listening = false;
	hce_nfcnl_close(k.nl);
	hce_wipe(k.rbuf, HCE_RAPDU_MAX);
	free(k.rbuf);
	return ret;
}

const struct hced_frontend_ops hced_fe_kernel = {
	.name = "nfc",
	.run = kernel_run,
};
