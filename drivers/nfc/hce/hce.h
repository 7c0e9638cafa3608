/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfc_hce: interface between the hce core and card-emulation controllers.
 *
 * A controller (the virtual controller nfc_hce_vctrl, later a hardware
 * driver) registers each card endpoint with nfc_hce_register() and passes a
 * static const struct nfc_hce_ops. The core owns the nfc device of the card,
 * the sessions, the response deadline and the "nfc_hce" netlink family.
 */

#ifndef __NFC_HCE_H
#define __NFC_HCE_H

#include <linux/types.h>
#include <linux/module.h>
#include <linux/nfc_hce.h>

struct nfc_hce_dev;

/**
 * struct nfc_hce_listen - listen identity of a card device
 * @uid: NFCID1 used for this listen period (random ones are drawn already)
 * @uid_len: 4, 7 or 10
 * @uid_random: a new random UID is drawn for each listen period
 * @fsci: frame size integer of the card (ATS T0)
 * @fwi: frame waiting time integer (ATS TB)
 * @sfgi: start-up frame guard time integer (ATS TB)
 * @hist: historical bytes of the ATS
 * @hist_len: number of historical bytes
 * @wtx_max: waiting-time extensions granted per C-APDU
 */
struct nfc_hce_listen {
	u8 uid[NFC_HCE_UID_MAXSIZE];
	u8 uid_len;
	bool uid_random;
	u8 fsci;
	u8 fwi;
	u8 sfgi;
	u8 hist[NFC_HCE_HIST_MAXSIZE];
	u8 hist_len;
	u8 wtx_max;
};

/**
 * struct nfc_hce_link - link options of a controller (virtual pairs)
 * @reader_idx: nfc index of the paired reader device
 * @bitrate: air-time model in kbit/s, 0 = off
 * @field_loss_after: field lost at frame N of an activation, 0 = never
 * @drop_every: every Nth frame is lost, 0 = never
 * @reader_fsdi: FSDI the reader sends in RATS
 * @set_mask: which fields nfc_hce_ops.set_link() must apply (NFC_HCE_LINK_*)
 */
struct nfc_hce_link {
	u32 reader_idx;
	u32 bitrate;
	u32 field_loss_after;
	u32 drop_every;
	u8 reader_fsdi;
	u32 set_mask;
};

#define NFC_HCE_LINK_BITRATE	BIT(0)
#define NFC_HCE_LINK_FIELD_LOSS	BIT(1)
#define NFC_HCE_LINK_DROP	BIT(2)
#define NFC_HCE_LINK_FSDI	BIT(3)

/**
 * struct nfc_hce_ops - what a controller does for the core
 * @listen: start listening with identity @cfg (card answers the reader's poll)
 * @stop_listen: stop listening (no effect on an active session)
 * @respond: send the R-APDU of the outstanding C-APDU of session @session
 * @fail: complete the outstanding exchange of session @session with error
 *	@err on the reader side and drop the link (the session is over)
 * @wtx: send a waiting-time extension request for session @session
 * @get_link: report link options (optional)
 * @set_link: apply link options selected by @link->set_mask (optional)
 *
 * All ops are called in process context with the core's device lock held:
 * they must not sleep for long, must not call back into the core, and must
 * not wait for work that calls into the core. They are never called after
 * nfc_hce_unregister() returned.
 */
struct nfc_hce_ops {
	int (*listen)(struct nfc_hce_dev *hdev, const struct nfc_hce_listen *cfg);
	void (*stop_listen)(struct nfc_hce_dev *hdev);
	int (*respond)(struct nfc_hce_dev *hdev, u32 session, const u8 *rapdu,
		       size_t len);
	void (*fail)(struct nfc_hce_dev *hdev, u32 session, int err);
	void (*wtx)(struct nfc_hce_dev *hdev, u32 session);
	void (*get_link)(struct nfc_hce_dev *hdev, struct nfc_hce_link *link);
	int (*set_link)(struct nfc_hce_dev *hdev, const struct nfc_hce_link *link);
};

/**
 * struct nfc_hce_vpair_ops - run-time pair management of a virtual controller
 * @create: create a pair, return the nfc indexes of its card and reader
 * @destroy: destroy the pair whose card device has index @card_idx
 *
 * Called with the core's vpair mutex held; nfc_hce_unregister_vpair_ops()
 * takes the same mutex, so no call is in flight once it returns.
 */
struct nfc_hce_vpair_ops {
	int (*create)(u32 *card_idx, u32 *reader_idx);
	int (*destroy)(u32 card_idx);
};

struct nfc_hce_dev *nfc_hce_register(const struct nfc_hce_ops *ops,
				     void *priv, struct device *parent);
void nfc_hce_unregister(struct nfc_hce_dev *hdev);
void nfc_hce_dev_put(struct nfc_hce_dev *hdev);
void *nfc_hce_priv(struct nfc_hce_dev *hdev);
u32 nfc_hce_idx(struct nfc_hce_dev *hdev);

int nfc_hce_activated(struct nfc_hce_dev *hdev, const u8 *uid, u8 uid_len,
		      u32 fsd, u32 *session);
int nfc_hce_capdu(struct nfc_hce_dev *hdev, u32 session, const u8 *apdu,
		  size_t len);
void nfc_hce_deactivated(struct nfc_hce_dev *hdev, u32 session,
			 enum nfc_hce_reason reason);
void nfc_hce_count_frames(struct nfc_hce_dev *hdev, u32 frames, u32 retrans);

int nfc_hce_register_vpair_ops(const struct nfc_hce_vpair_ops *ops);
void nfc_hce_unregister_vpair_ops(const struct nfc_hce_vpair_ops *ops);

/* ISO 14443-4 helpers shared by core and controllers */
u32 nfc_hce_fsc_bytes(u8 fsci);
u32 nfc_hce_fwt_us(u8 fwi);

#endif /* __NFC_HCE_H */
