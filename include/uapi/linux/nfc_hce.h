/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * nfc_hce: host card emulation (ISO 14443-4 / ISO-DEP) for Linux NFC devices.
 *
 * Control of the card device (power, listen, activation events) stays on the
 * standard "nfc" generic netlink family (see <linux/nfc.h>): NFC_CMD_DEV_UP,
 * NFC_CMD_START_POLL with NFC_ATTR_TM_PROTOCOLS = NFC_PROTO_ISO14443_MASK,
 * NFC_EVENT_TM_ACTIVATED and NFC_EVENT_TM_DEACTIVATED.
 *
 * The "nfc_hce" generic netlink family defined here carries the card-emulation
 * data path (C-APDUs up to one bound owner, R-APDUs back), the listen
 * identity, statistics, and the virtual controller's pair management.
 *
 * All events are unicast to the bound owner of a card device; nothing is
 * multicast. Commands marked "admin" need CAP_NET_ADMIN.
 */

#ifndef _UAPI_LINUX_NFC_HCE_H
#define _UAPI_LINUX_NFC_HCE_H

#include <linux/types.h>

#define NFC_HCE_GENL_NAME	"nfc_hce"
#define NFC_HCE_GENL_VERSION	1

/* Largest C-APDU or R-APDU carried in NFC_HCE_ATTR_APDU, in bytes. */
#define NFC_HCE_APDU_MAX	32768
/* Bounds of the listen identity. */
#define NFC_HCE_UID_MAXSIZE	10
#define NFC_HCE_HIST_MAXSIZE	15
#define NFC_HCE_FSCI_MAX	8
#define NFC_HCE_FWI_MAX		14
#define NFC_HCE_SFGI_MAX	14
#define NFC_HCE_WTX_MAX		60

/**
 * enum nfc_hce_commands - commands and events of the "nfc_hce" family
 *
 * @NFC_HCE_CMD_UNSPEC: unused
 * @NFC_HCE_CMD_GET_DEVICE: describe one card device (requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX) or dump all of them (no attribute). Reply
 *	attributes: %NFC_HCE_ATTR_DEVICE_INDEX, %NFC_HCE_ATTR_READER_INDEX
 *	(virtual pairs only), %NFC_HCE_ATTR_BOUND, %NFC_HCE_ATTR_LISTENING,
 *	%NFC_HCE_ATTR_SESSION_ID (0 when no session is open), the listen
 *	identity (%NFC_HCE_ATTR_UID or %NFC_HCE_ATTR_UID_RANDOM,
 *	%NFC_HCE_ATTR_FSCI, %NFC_HCE_ATTR_FWI, %NFC_HCE_ATTR_SFGI,
 *	%NFC_HCE_ATTR_HIST_BYTES, %NFC_HCE_ATTR_WTX_MAX, %NFC_HCE_ATTR_DEADLINE_US)
 *	and, for virtual pairs, the link options (%NFC_HCE_ATTR_BITRATE,
 *	%NFC_HCE_ATTR_FIELD_LOSS_AFTER, %NFC_HCE_ATTR_DROP_EVERY,
 *	%NFC_HCE_ATTR_READER_FSDI).
 * @NFC_HCE_CMD_BIND: (admin) become the owner of a card device; requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX. One owner per card device: -EBUSY if
 *	another socket owns it. The binding ends with %NFC_HCE_CMD_UNBIND or
 *	when the owner's netlink socket closes.
 * @NFC_HCE_CMD_UNBIND: (admin) give up ownership; requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX; only the owner's socket may unbind (-EPERM).
 *	An open session ends with %NFC_HCE_REASON_UNBOUND.
 * @NFC_HCE_CMD_SET_LISTEN: (admin) set the listen identity; requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX; optional %NFC_HCE_ATTR_UID (4, 7 or 10
 *	bytes) or %NFC_HCE_ATTR_UID_RANDOM (1: a fresh random 4-byte UID with
 *	first byte 0x08 on every activation), %NFC_HCE_ATTR_FSCI (0..8),
 *	%NFC_HCE_ATTR_FWI (0..14), %NFC_HCE_ATTR_SFGI (0..14),
 *	%NFC_HCE_ATTR_HIST_BYTES (0..15 bytes), %NFC_HCE_ATTR_WTX_MAX (0..60).
 *	Attributes not given keep their value. Takes effect at the next
 *	listen (%NFC_CMD_START_POLL): an open session and the current listen
 *	period keep the identity, FWI and WTX_MAX they started with.
 *	Values beyond the attribute policy (FSCI above 8, FWI or SFGI above
 *	14, WTX_MAX above 60, UID_RANDOM above 1, a UID longer
 *	than 10 or more than 15 historical bytes) are refused by netlink
 *	validation with -ERANGE; a UID of another length than 4, 7 or 10,
 *	one starting with the cascade tag 0x88, or a UID together with
 *	UID_RANDOM 1 gets -EINVAL. Nothing changes on an error.
 * @NFC_HCE_CMD_APDU: event to the owner: a C-APDU. Attributes
 *	%NFC_HCE_ATTR_DEVICE_INDEX, %NFC_HCE_ATTR_SESSION_ID, %NFC_HCE_ATTR_SEQ,
 *	%NFC_HCE_ATTR_APDU.
 * @NFC_HCE_CMD_RESPONSE: (admin, owner only) the R-APDU for the outstanding
 *	C-APDU; requires %NFC_HCE_ATTR_DEVICE_INDEX, %NFC_HCE_ATTR_SESSION_ID,
 *	%NFC_HCE_ATTR_SEQ (echoed from the C-APDU event) and %NFC_HCE_ATTR_APDU
 *	(2..%NFC_HCE_APDU_MAX bytes). -ESTALE if the session has ended or the
 *	sequence does not match the outstanding C-APDU (nothing changes);
 *	-EPERM if the sender is not the owner.
 * @NFC_HCE_CMD_SESSION_START: event to the owner: ISO-DEP activation (RATS
 *	answered). Attributes %NFC_HCE_ATTR_DEVICE_INDEX,
 *	%NFC_HCE_ATTR_SESSION_ID, %NFC_HCE_ATTR_UID (the UID used),
 *	%NFC_HCE_ATTR_FSD (reader frame size in bytes).
 * @NFC_HCE_CMD_SESSION_END: event to the owner: the session ended.
 *	Attributes %NFC_HCE_ATTR_DEVICE_INDEX, %NFC_HCE_ATTR_SESSION_ID,
 *	%NFC_HCE_ATTR_REASON (enum nfc_hce_reason).
 * @NFC_HCE_CMD_GET_STATS: counters of one card device (requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX) or dump of all. Reply:
 *	%NFC_HCE_ATTR_DEVICE_INDEX and nested %NFC_HCE_ATTR_STATS
 *	(enum nfc_hce_stats_attrs).
 * @NFC_HCE_CMD_VPAIR_CREATE: (admin) create a virtual card+reader pair.
 *	No required attribute. Reply: %NFC_HCE_ATTR_DEVICE_INDEX (card nfc
 *	device) and %NFC_HCE_ATTR_READER_INDEX (reader nfc device).
 *	-EOPNOTSUPP when nfc_hce_vctrl is not loaded, -ENOSPC past the limit.
 * @NFC_HCE_CMD_VPAIR_DESTROY: (admin) destroy a virtual pair; requires
 *	%NFC_HCE_ATTR_DEVICE_INDEX (the card device of the pair).
 * @NFC_HCE_CMD_VPAIR_SET: (admin) set link options of a virtual pair;
 *	requires %NFC_HCE_ATTR_DEVICE_INDEX; optional %NFC_HCE_ATTR_BITRATE
 *	(0 = no air-time model, or 106, 212, 424, 848 kbit/s),
 *	%NFC_HCE_ATTR_FIELD_LOSS_AFTER (field lost when frame N of an
 *	activation is due, 0 = never), %NFC_HCE_ATTR_DROP_EVERY (every Nth frame
 *	on air is lost and recovered by ISO-DEP rules, 0 = never),
 *	%NFC_HCE_ATTR_READER_FSDI (0..8, FSDI the reader sends in RATS).
 *	A bit rate above 848 or an FSDI above 8 gets -ERANGE (policy), a bit
 *	rate of another value -EINVAL.
 * @__NFC_HCE_CMD_AFTER_LAST: internal use
 */
enum nfc_hce_commands {
	NFC_HCE_CMD_UNSPEC,
	NFC_HCE_CMD_GET_DEVICE,
	NFC_HCE_CMD_BIND,
	NFC_HCE_CMD_UNBIND,
	NFC_HCE_CMD_SET_LISTEN,
	NFC_HCE_CMD_APDU,
	NFC_HCE_CMD_RESPONSE,
	NFC_HCE_CMD_SESSION_START,
	NFC_HCE_CMD_SESSION_END,
	NFC_HCE_CMD_GET_STATS,
	NFC_HCE_CMD_VPAIR_CREATE,
	NFC_HCE_CMD_VPAIR_DESTROY,
	NFC_HCE_CMD_VPAIR_SET,
/* private: internal use only */
	__NFC_HCE_CMD_AFTER_LAST
};

#define NFC_HCE_CMD_MAX (__NFC_HCE_CMD_AFTER_LAST - 1)

/**
 * enum nfc_hce_attrs - attributes of the "nfc_hce" family
 *
 * @NFC_HCE_ATTR_UNSPEC: unused
 * @NFC_HCE_ATTR_DEVICE_INDEX: (__u32) nfc device index of the card device
 * @NFC_HCE_ATTR_READER_INDEX: (__u32) nfc device index of the paired reader
 * @NFC_HCE_ATTR_SESSION_ID: (__u32) session id, never 0, new per activation
 * @NFC_HCE_ATTR_SEQ: (__u32) sequence of a C-APDU within its session
 * @NFC_HCE_ATTR_APDU: (binary) a C-APDU or R-APDU, at most %NFC_HCE_APDU_MAX
 * @NFC_HCE_ATTR_REASON: (__u32) enum nfc_hce_reason
 * @NFC_HCE_ATTR_UID: (binary) NFCID1, 4, 7 or 10 bytes
 * @NFC_HCE_ATTR_UID_RANDOM: (__u8) 1 = random UID per activation, 0 = fixed
 * @NFC_HCE_ATTR_FSCI: (__u8) card frame size integer 0..8 (16..256 bytes)
 * @NFC_HCE_ATTR_FWI: (__u8) frame waiting time integer 0..14
 * @NFC_HCE_ATTR_SFGI: (__u8) start-up frame guard time integer 0..14
 * @NFC_HCE_ATTR_HIST_BYTES: (binary) ATS historical bytes, 0..15 bytes
 * @NFC_HCE_ATTR_WTX_MAX: (__u8) waiting-time extensions granted per C-APDU
 * @NFC_HCE_ATTR_DEADLINE_US: (__u32) resulting response deadline in µs:
 *	FWT(FWI) * (1 + WTX_MAX), FWT = 256 * 16 / 13.56 MHz * 2^FWI
 * @NFC_HCE_ATTR_BOUND: (__u8) 1 when the card device has an owner
 * @NFC_HCE_ATTR_LISTENING: (__u8) 1 while the card device listens
 * @NFC_HCE_ATTR_FSD: (__u32) reader frame size in bytes (from RATS)
 * @NFC_HCE_ATTR_STATS: (nested) enum nfc_hce_stats_attrs
 * @NFC_HCE_ATTR_BITRATE: (__u32) air-time model bit rate in kbit/s, 0 = off
 * @NFC_HCE_ATTR_FIELD_LOSS_AFTER: (__u32) fault: field lost at frame N
 * @NFC_HCE_ATTR_DROP_EVERY: (__u32) fault: every Nth frame lost
 * @NFC_HCE_ATTR_READER_FSDI: (__u8) FSDI the virtual reader sends in RATS
 * @NFC_HCE_ATTR_PAD: padding for 64-bit attributes
 * @__NFC_HCE_ATTR_AFTER_LAST: internal use
 */
enum nfc_hce_attrs {
	NFC_HCE_ATTR_UNSPEC,
	NFC_HCE_ATTR_DEVICE_INDEX,
	NFC_HCE_ATTR_READER_INDEX,
	NFC_HCE_ATTR_SESSION_ID,
	NFC_HCE_ATTR_SEQ,
	NFC_HCE_ATTR_APDU,
	NFC_HCE_ATTR_REASON,
	NFC_HCE_ATTR_UID,
	NFC_HCE_ATTR_UID_RANDOM,
	NFC_HCE_ATTR_FSCI,
	NFC_HCE_ATTR_FWI,
	NFC_HCE_ATTR_SFGI,
	NFC_HCE_ATTR_HIST_BYTES,
	NFC_HCE_ATTR_WTX_MAX,
	NFC_HCE_ATTR_DEADLINE_US,
	NFC_HCE_ATTR_BOUND,
	NFC_HCE_ATTR_LISTENING,
	NFC_HCE_ATTR_FSD,
	NFC_HCE_ATTR_STATS,
	NFC_HCE_ATTR_BITRATE,
	NFC_HCE_ATTR_FIELD_LOSS_AFTER,
	NFC_HCE_ATTR_DROP_EVERY,
	NFC_HCE_ATTR_READER_FSDI,
	NFC_HCE_ATTR_PAD,
/* private: internal use only */
	__NFC_HCE_ATTR_AFTER_LAST
};

#define NFC_HCE_ATTR_MAX (__NFC_HCE_ATTR_AFTER_LAST - 1)

/**
 * enum nfc_hce_reason - why a session ended (%NFC_HCE_ATTR_REASON)
 *
 * @NFC_HCE_REASON_UNSPEC: unused
 * @NFC_HCE_REASON_DESELECTED: the reader deselected or released the card
 * @NFC_HCE_REASON_FIELD_LOST: the reader's field went away
 * @NFC_HCE_REASON_DEADLINE: the owner did not answer a C-APDU in time; the
 *	reader's exchange failed with -ETIMEDOUT
 * @NFC_HCE_REASON_UNBOUND: the owner unbound or its socket closed
 * @NFC_HCE_REASON_DEV_DOWN: the card device was powered down
 * @NFC_HCE_REASON_REMOVED: the card device is being unregistered
 * @NFC_HCE_REASON_LINK_ERROR: unrecoverable transmission error on the link
 * @__NFC_HCE_REASON_AFTER_LAST: internal use
 */
enum nfc_hce_reason {
	NFC_HCE_REASON_UNSPEC,
	NFC_HCE_REASON_DESELECTED,
	NFC_HCE_REASON_FIELD_LOST,
	NFC_HCE_REASON_DEADLINE,
	NFC_HCE_REASON_UNBOUND,
	NFC_HCE_REASON_DEV_DOWN,
	NFC_HCE_REASON_REMOVED,
	NFC_HCE_REASON_LINK_ERROR,
/* private: internal use only */
	__NFC_HCE_REASON_AFTER_LAST
};

#define NFC_HCE_REASON_MAX (__NFC_HCE_REASON_AFTER_LAST - 1)

/**
 * enum nfc_hce_stats_attrs - counters nested in %NFC_HCE_ATTR_STATS
 * @NFC_HCE_STATS_UNSPEC: unused
 * @NFC_HCE_STATS_PAD: padding
 * @NFC_HCE_STATS_ACTIVATIONS: ISO-DEP activations (sessions opened)
 * @NFC_HCE_STATS_CAPDUS: C-APDUs received from the reader
 * @NFC_HCE_STATS_RAPDUS: R-APDUs sent to the reader
 * @NFC_HCE_STATS_CAPDU_BYTES: bytes of C-APDUs
 * @NFC_HCE_STATS_RAPDU_BYTES: bytes of R-APDUs
 * @NFC_HCE_STATS_DEADLINE_EXPIRIES: C-APDUs whose deadline expired
 * @NFC_HCE_STATS_STALE_RESPONSES: responses refused with -ESTALE
 * @NFC_HCE_STATS_WTX: waiting-time extensions requested
 * @NFC_HCE_STATS_FIELD_LOSSES: sessions ended by field loss
 * @NFC_HCE_STATS_NO_OWNER: C-APDUs refused because no owner was bound
 * @NFC_HCE_STATS_ERRORS: other failures (delivery to owner, link errors)
 * @NFC_HCE_STATS_FRAMES: frames on air (virtual controller)
 * @NFC_HCE_STATS_RETRANSMISSIONS: frames resent after a loss
 * @__NFC_HCE_STATS_AFTER_LAST: internal use
 *
 * All counters are __u64 and count since the card device was registered.
 */
enum nfc_hce_stats_attrs {
	NFC_HCE_STATS_UNSPEC,
	NFC_HCE_STATS_PAD,
	NFC_HCE_STATS_ACTIVATIONS,
	NFC_HCE_STATS_CAPDUS,
	NFC_HCE_STATS_RAPDUS,
	NFC_HCE_STATS_CAPDU_BYTES,
	NFC_HCE_STATS_RAPDU_BYTES,
	NFC_HCE_STATS_DEADLINE_EXPIRIES,
	NFC_HCE_STATS_STALE_RESPONSES,
	NFC_HCE_STATS_WTX,
	NFC_HCE_STATS_FIELD_LOSSES,
	NFC_HCE_STATS_NO_OWNER,
	NFC_HCE_STATS_ERRORS,
	NFC_HCE_STATS_FRAMES,
	NFC_HCE_STATS_RETRANSMISSIONS,
/* private: internal use only */
	__NFC_HCE_STATS_AFTER_LAST
};

#define NFC_HCE_STATS_MAX (__NFC_HCE_STATS_AFTER_LAST - 1)

/*
 * Errors seen by the reader (AF_NFC raw socket recv()) when an exchange
 * fails, documented in Documentation/nfc-hce.rst:
 *   -ETIMEDOUT     response deadline expired (owner too slow or absent)
 *   -ECONNREFUSED  no owner bound to the card device
 *   -ECONNRESET    the session ended on the card side (unbind, DEV_DOWN)
 *   -ENOLINK       field lost (fault injection)
 *   -EIO           frame lost beyond ISO-DEP recovery
 *   -ENODEV        the pair or the card device went away
 */

#endif /* _UAPI_LINUX_NFC_HCE_H */
