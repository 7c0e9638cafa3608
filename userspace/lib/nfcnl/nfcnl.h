/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfcnl.h - all generic netlink use of the project's userspace (hced, hce-terminal's kernel
 * transport, hce-pn532, the apdu-rtt benchmark, the reader test tool), in one place, neard
 * style (the reader side on top of it: reader.h):
 *   - a command socket for requests and their replies (nothing else arrives on it);
 *   - an event socket that joins the "nfc" family's "events" multicast group;
 *   - an owner socket per bound card device: it sends NFC_HCE_CMD_BIND, so the kernel unicasts
 *     the card device's SESSION_START / APDU / SESSION_END events to it, and it sends the
 *     NFC_HCE_CMD_RESPONSE messages (the kernel accepts them from the owner's port only).
 * Families and the multicast group are resolved by name; the "nfc_hce" family is resolved
 * again whenever an owner socket opens (its id changes when the module is reloaded).
 * Received messages whose sender is not the kernel (nl_pid != 0) are dropped.
 *
 * The hot path (one C-APDU event in, one RESPONSE out) allocates nothing: the owner socket
 * receives into, and builds its responses in, buffers allocated once when it opens.
 *
 * Return contract: every int function returns 0 (or a documented positive value) or a
 * negative errno. -ENOENT from the family lookup means "module not loaded".
 */
#ifndef HCE_NFCNL_H
#define HCE_NFCNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hce_nfcnl;
struct hce_nfcnl_owner;

#define HCE_NFCNL_NAME_MAX 16
#define HCE_NFCNL_UID_MAX 10
#define HCE_NFCNL_HIST_MAX 15
#define HCE_NFCNL_DEV_MAX 32

/*
 * Connect a freshly allocated libnl socket (nl_socket_alloc()) to NETLINK_GENERIC with a
 * local port id that no earlier socket of this process had recently. Why: when a generic
 * netlink socket closes, the NFC core queues work (at NETLINK_URELEASE) that later stops any
 * poll whose requester has that port id, matching by port id only
 * (Documentation/nfc-hce.rst, netlink sockets). libnl hands a closed socket's port back to the
 * next socket (the first one of a process gets the pid), so a socket reopened after a close
 * could start a poll that the old socket's late cleanup then stops: the card or reader
 * silently stops polling. Ports here are (pid & 0x3FFFFF) | gen << 22 with gen walking down
 * from 1023 to 1 (libnl takes its generations from 0 up), wrapping only after 1023 sockets;
 * a port in use (EADDRINUSE) is skipped. Returns 0 or a negative errno (socket left unconnected).
 */
struct nl_sock;
int hce_nfcnl_connect(struct nl_sock *sk);

/* Open the command and event sockets; resolve "nfc" and its "events" group (-ENOENT: no nfc). */
int hce_nfcnl_open(struct hce_nfcnl **out);
void hce_nfcnl_close(struct hce_nfcnl *nl);

/* The event socket's descriptor (poll it for POLLIN, then call hce_nfcnl_events()). */
int hce_nfcnl_event_fd(const struct hce_nfcnl *nl);

/* One "nfc" multicast event, already filtered (kernel sender, known command). */
struct hce_nfcnl_event {
	uint8_t cmd;		/* NFC_EVENT_* */
	uint32_t dev;		/* NFC_ATTR_DEVICE_INDEX (0 when absent) */
	bool has_dev;
	char name[HCE_NFCNL_NAME_MAX];	/* NFC_EVENT_DEVICE_ADDED: device name */
};

typedef void (*hce_nfcnl_event_fn)(void *arg, const struct hce_nfcnl_event *ev);

/*
 * Receive every pending event without blocking and call fn for each. Returns the number of
 * events delivered, or -ENOBUFS when the socket overflowed (events were lost: the caller
 * should re-read the state it depends on), or another negative errno.
 */
int hce_nfcnl_events(struct hce_nfcnl *nl, hce_nfcnl_event_fn fn, void *arg);

/* ---- "nfc" family requests (command socket) */

/* Every nfc device (NFC_CMD_GET_DEVICE dump), up to max, into devs; *n = how many. */
struct hce_nfcnl_dev {
	uint32_t index;
	char name[HCE_NFCNL_NAME_MAX];
};
int hce_nfcnl_devices(struct hce_nfcnl *nl, struct hce_nfcnl_dev *devs, size_t max, size_t *n);
/* Device index of the nfc device called name ("nfc0"); -ENODEV when none. */
int hce_nfcnl_dev_index(struct hce_nfcnl *nl, const char *name, uint32_t *idx);
/* Name of device idx (buffer of HCE_NFCNL_NAME_MAX); -ENODEV when none. */
int hce_nfcnl_dev_name(struct hce_nfcnl *nl, uint32_t idx, char *name);
/* NFC_CMD_DEV_UP / DEV_DOWN (the kernel's errno, e.g. -EALREADY, passes through). */
int hce_nfcnl_dev_up(struct hce_nfcnl *nl, uint32_t idx);
int hce_nfcnl_dev_down(struct hce_nfcnl *nl, uint32_t idx);
/* NFC_CMD_START_POLL with the given masks (0: attribute not sent) / NFC_CMD_STOP_POLL. */
int hce_nfcnl_start_poll(struct hce_nfcnl *nl, uint32_t idx, uint32_t im, uint32_t tm);
int hce_nfcnl_stop_poll(struct hce_nfcnl *nl, uint32_t idx);

/* NFC_CMD_GET_TARGET dump on a reader device: the first ISO 14443 target. */
struct hce_nfcnl_target {
	uint32_t index;
	uint32_t protocols;
	uint8_t nfcid1[HCE_NFCNL_UID_MAX];
	size_t nfcid1_len;
	uint16_t sens_res;
	uint8_t sel_res;
};
int hce_nfcnl_get_target(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_target *t);

/* Waiting for a target and connecting to it: nfcnl/reader.h. */

/* ---- "nfc_hce" family requests (command socket; family resolved on each call set) */

/* (Re)resolve the "nfc_hce" family id. -ENOENT when nfc_hce is not loaded. */
int hce_nfcnl_hce_resolve(struct hce_nfcnl *nl);
/* The resolved family ids ("nfc", "nfc_hce": -1 when not resolved), for test tools. */
void hce_nfcnl_family_ids(const struct hce_nfcnl *nl, int *nfc, int *hce);

/* Listen identity; each has_* false = attribute not sent (kernel keeps its value). */
struct hce_nfcnl_listen {
	bool has_uid, uid_random;
	uint8_t uid[HCE_NFCNL_UID_MAX];
	size_t uid_len;			/* 4, 7 or 10 */
	bool has_fsci, has_fwi, has_sfgi, has_hist, has_wtx_max;
	uint8_t fsci, fwi, sfgi, wtx_max;
	uint8_t hist[HCE_NFCNL_HIST_MAX];
	size_t hist_len;
};

/* One card device as NFC_HCE_CMD_GET_DEVICE describes it. */
struct hce_nfcnl_card {
	uint32_t index;
	bool has_reader;
	uint32_t reader;
	bool bound, listening;
	uint32_t session;		/* 0: none open */
	uint32_t deadline_us;
	struct hce_nfcnl_listen id;	/* has_* set for what the kernel reported */
	uint32_t bitrate;		/* virtual pair link options (0: not reported) */
	uint32_t field_loss_after, drop_every;
};

/* Dump all card devices into cards[max]; *n = how many (at most max). */
int hce_nfcnl_cards(struct hce_nfcnl *nl, struct hce_nfcnl_card *cards, size_t max, size_t *n);
/* One card device; -ENODEV when it does not exist. */
int hce_nfcnl_card(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_card *card);
int hce_nfcnl_set_listen(struct hce_nfcnl *nl, uint32_t idx, const struct hce_nfcnl_listen *l);

/*
 * Virtual pairs (nfc_hce_vctrl): VPAIR_CREATE makes a card device and its reader device
 * (indices in *card, *reader; -EPROTO when the reply names neither); VPAIR_DESTROY removes the
 * pair of card device card.
 */
int hce_nfcnl_vpair_create(struct hce_nfcnl *nl, uint32_t *card, uint32_t *reader);
int hce_nfcnl_vpair_destroy(struct hce_nfcnl *nl, uint32_t card);
/* VPAIR_SET: the link options of the pair of card device card; a negative value keeps one. */
struct hce_nfcnl_link {
	int64_t bitrate;		/* air-time model, kbit/s (0: off) */
	int64_t field_loss_after;	/* fault: field lost at frame N of an activation (0: never) */
	int64_t drop_every;		/* fault: every Nth frame lost (0: never) */
};
int hce_nfcnl_vpair_set(struct hce_nfcnl *nl, uint32_t card, const struct hce_nfcnl_link *l);

/* Counters of NFC_HCE_CMD_GET_STATS (the ones hced reports). */
struct hce_nfcnl_stats {
	uint64_t activations, capdus, rapdus, deadline_expiries, stale_responses, wtx;
	uint64_t field_losses, no_owner, errors;
	uint64_t frames, retransmissions;	/* virtual pairs: frames on air, resent */
};
int hce_nfcnl_stats(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_stats *st);

/* ---- the owner socket of one card device */

/* Open a socket, resolve "nfc_hce", send BIND for idx (-EBUSY: another owner). */
int hce_nfcnl_owner_open(struct hce_nfcnl *nl, uint32_t idx, struct hce_nfcnl_owner **out);
/* Closing the socket unbinds (the kernel's NETLINK_URELEASE notifier). NULL-safe. */
void hce_nfcnl_owner_close(struct hce_nfcnl_owner *o);
int hce_nfcnl_owner_fd(const struct hce_nfcnl_owner *o);

/* One event of the owner socket. apdu points into the socket's receive buffer. */
struct hce_nfcnl_owner_event {
	uint8_t cmd;		/* NFC_HCE_CMD_SESSION_START, _APDU, _SESSION_END */
	uint32_t dev, session, seq, reason, fsd;
	const uint8_t *apdu;
	size_t apdu_len;
	uint8_t uid[HCE_NFCNL_UID_MAX];
	size_t uid_len;
};

typedef void (*hce_nfcnl_owner_fn)(void *arg, const struct hce_nfcnl_owner_event *ev);

/*
 * Receive every pending message without blocking: events go to fn; error replies to our
 * RESPONSE messages (-ESTALE: the session ended first) are counted in *resp_errors and the
 * last one kept in *last_error (either pointer may be NULL). Returns the number of events
 * delivered or a negative errno (-ENOBUFS: overflow, events lost).
 */
int hce_nfcnl_owner_recv(struct hce_nfcnl_owner *o, hce_nfcnl_owner_fn fn, void *arg,
			 uint64_t *resp_errors, int *last_error);

/* Send NFC_HCE_CMD_RESPONSE (no ACK asked: a failure comes back as an error reply). */
int hce_nfcnl_owner_respond(struct hce_nfcnl_owner *o, uint32_t session, uint32_t seq,
			    const uint8_t *rapdu, size_t len);

#endif /* HCE_NFCNL_H */
