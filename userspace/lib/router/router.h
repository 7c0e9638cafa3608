/* SPDX-License-Identifier: GPL-2.0 */
/*
 * router.h - the AID router: one struct hce_app (app/app.h) that holds the card's
 * applications and sends every C-APDU to the right one. I/O-free, like the apps it holds.
 *
 * Registration (before the first APDU; the router borrows the apps, which must outlive it):
 *   hce_router_new(&r);
 *   hce_router_add(r, purse_app, purse_groups, 1, err, sizeof(err));   AID groups
 *   hce_router_add_fids(r, purse_app, (uint16_t[]){ 0x3F00, 0x1001 }, 2, err, sizeof(err));
 *   hce_router_add(r, ndef_app, ndef_groups, 1, err, sizeof(err));
 *   hce_router_set_default(r, purse_app);
 *   front end drives hce_router_app(r).
 *
 * Routing (full rules, with the comparison to Android, in Documentation/router.md):
 *   - SELECT by name (00 A4 04 P2): the router decides. "2PAY.SYS.DDF01" (PPSE) and
 *     "1PAY.SYS.DDF01" (PSE) are answered by the router from the registry (directory entries
 *     61 { 4F AID, 50 label, 87 priority } of the payment-category exact AIDs). Any other name
 *     of 5..16 bytes selects a registered AID: full match (equal to an exact AID, or starting
 *     with a prefix AID) first, then partial matches (the name is a right-truncated prefix of
 *     a registered AID, ISO 7816-4 partial DF name selection), in registration order; P2
 *     b2b1 = first / last / next / previous occurrence in that order. The chosen app gets the
 *     SELECT with P2 = first occurrence (P2 & 0C) and, for a partial match, the registered
 *     AID as data. No match: 6A82. A failed selection keeps the current one.
 *   - SELECT by file id (00 A4, P1 != 04): goes to the current application; when there is
 *     none, or it answers 6A82 to a P1=00 SELECT of a 2-byte FID that another app declared
 *     (hce_router_add_fids), the declaring app gets it (FID-first readers reach the purse).
 *   - Any other APDU goes to the current application. With a directory (or nothing)
 *     selected, the router answers READ RECORD of the PSE directory and malformed APDUs,
 *     and passes the rest to the default application (6985 and the like without one).
 *   - Switching applications tells the one left (session_end, like Android's
 *     onDeactivated(DESELECTED)); session_end resets the selection to the default
 *     application (implicitly selected at the start of a session) and tells every
 *     application that received an APDU since it was last told.
 *   - Conflict rule: no AID may be fully matched by two applications. An AID group that
 *     would (same exact AID, an exact AID under another's prefix, overlapping prefixes, or a
 *     PSE/PPSE name) is refused at registration with -EEXIST and a message naming both
 *     holders; nothing of that call is registered. Whoever configures the router (hced's
 *     config) chooses, as the Android user chooses the default payment app.
 *
 * Return contract for int functions: 0 or a negative errno value; err (when not NULL, of
 * errlen bytes) then holds a one-line reason.
 */
#ifndef HCE_ROUTER_H
#define HCE_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"

/* ISO/IEC 7816-5 application identifier lengths. */
#define HCE_AID_MIN 5
#define HCE_AID_MAX 16
/* Directory label (tag 50, EMV: 1..16 characters). */
#define HCE_AID_LABEL_MAX 16
/* Limits of one router. */
#define HCE_ROUTER_MAX_APPS 16
#define HCE_ROUTER_MAX_AIDS 64
#define HCE_ROUTER_MAX_FIDS 32
/* Directory FCI answered to PPSE/PSE: at most a short response. */
#define HCE_ROUTER_FCI_MAX 256

/* Like Android's CardEmulation categories. */
enum hce_aid_category {
	HCE_AID_PAYMENT,	/* listed in the PPSE and PSE directories */
	HCE_AID_OTHER,		/* routed, never listed */
};

/* One AID: exact (the name must be equal) or a prefix (the name must start with it). */
struct hce_aid {
	uint8_t len;		/* HCE_AID_MIN..HCE_AID_MAX */
	bool prefix;
	uint8_t b[HCE_AID_MAX];
};

struct hce_aid_group {
	enum hce_aid_category category;
	const char *label;	/* directory label 50 (1..16 chars), NULL: none */
	uint8_t priority;	/* directory priority 87 (1 highest..15), 0: tag left out */
	const struct hce_aid *aids;
	size_t n_aids;		/* >= 1 */
};

struct hce_router;

/* A new empty router (-ENOMEM). */
int hce_router_new(struct hce_router **out);

/* Free the router (NULL is a no-op). The apps it held are not touched. */
void hce_router_free(struct hce_router *r);

/* The application interface front ends drive. Valid until hce_router_free(). */
struct hce_app *hce_router_app(struct hce_router *r);

/*
 * Register app (borrowed; ops with process and session_end) with n AID groups (n may be 0:
 * an app reached only by file id or as the default). Calling again for the same app adds
 * groups. All or nothing: on error nothing of this call is registered.
 * Errors: -EINVAL (app without ops, AID length outside 5..16, label longer than 16, priority
 * above 15, unknown category, group with no AID, the router itself), -EEXIST (conflict, see
 * above), -ENOSPC (HCE_ROUTER_MAX_APPS / HCE_ROUTER_MAX_AIDS reached).
 */
int hce_router_add(struct hce_router *r, struct hce_app *app,
		   const struct hce_aid_group *groups, size_t n, char *err, size_t errlen);

/*
 * Declare that app (already added: -ENOENT otherwise) owns file ids fids[0..n-1] for readers
 * that select by FID before any AID (3F00 MF, 1001 EP DF...). A FID declared by another app:
 * -EEXIST (nothing registered); -ENOSPC past HCE_ROUTER_MAX_FIDS.
 */
int hce_router_add_fids(struct hce_router *r, struct hce_app *app, const uint16_t *fids,
			size_t n, char *err, size_t errlen);

/*
 * The default application (already added: -ENOENT otherwise; NULL: none): implicitly
 * selected at the start of every session, so a reader that sends commands without any
 * SELECT reaches it.
 */
int hce_router_set_default(struct hce_router *r, struct hce_app *app);

/*
 * Parse an AID written in hex ("A000000632010105"), with a trailing '*' for a prefix
 * ("A000000632*"). -EINVAL when not 5..16 bytes of hex.
 */
int hce_aid_parse(const char *s, struct hce_aid *out);

/* The application a SELECT made current, NULL when none (or a directory). For status. */
const struct hce_app *hce_router_current(const struct hce_router *r);

#endif /* HCE_ROUTER_H */
