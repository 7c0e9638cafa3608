// SPDX-License-Identifier: GPL-2.0
/*
 * nfc_hce_vctrl: virtual controller for nfc_hce.
 *
 * Each pair couples a card device (registered with the hce core) with a
 * reader device (a plain initiator nfcM) over a modelled ISO 14443-4 type A
 * link: the reader finds one ISO14443 target (NFCID1, SENS_RES, SEL_RES with
 * the ISO-DEP bit) while the card listens, RATS/ATS (and PPS above 106
 * kbit/s) activate ISO-DEP, and APDUs cross as I-blocks chained at the
 * negotiated frame sizes (FSC from the ATS, FSD from RATS), with R(ACK) and
 * R(NAK) blocks, block numbers per ISO/IEC 14443-4 rules and CRC_A on every
 * frame. Options per pair: air time at 106..848 kbit/s, field loss at frame
 * N of an activation, loss of every Nth frame (recovered by ISO-DEP rules).
 *
 * Concurrency: NFC core and hce core callbacks only record state under
 * pair->lock and queue work. All frames are produced and consumed by work on
 * the pair's ordered workqueue, so the link state (block numbers, buffers)
 * belongs to that workqueue. No work calls into the hce core or the NFC core
 * with pair->lock held; discovery runs on system_wq because it takes the
 * reader's device lock, which activate_target holds while it waits for the
 * RATS work.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/delay.h>
#include <linux/completion.h>
#include <linux/workqueue.h>
#include <linux/skbuff.h>
#include <net/nfc/nfc.h>

#include "hce.h"

static unsigned int pairs = 1;
module_param(pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "card+reader pairs created at load (default 1)");

static unsigned int bitrate;
module_param(bitrate, uint, 0444);
MODULE_PARM_DESC(bitrate,
		 "air-time model of new pairs in kbit/s: 0 (off, default), 106, 212, 424, 848");

#define VCTRL_MAX_PAIRS		32
#define VCTRL_RETRIES		2
#define VCTRL_FRAME_MAX		256
#define VCTRL_DEFAULT_FSDI	8

#define VCTRL_RATS		0xe0
#define VCTRL_PPSS		0xd0
#define VCTRL_I_BLOCK		0x02
#define VCTRL_R_ACK		0xa2
#define VCTRL_R_NAK		0xb2
#define VCTRL_S_DESELECT	0xc2
#define VCTRL_S_WTX		0xf2
#define VCTRL_PCB_CHAIN		0x10
#define VCTRL_PCB_BLK		0x01

/* vctrl_picc_rx() result: the card sends nothing (yet) */
#define VCTRL_SILENT		1

enum vctrl_link_state {
	VCTRL_IDLE,		/* nothing found or deselected */
	VCTRL_FOUND,		/* target reported to the reader */
	VCTRL_ACTIVATING,	/* RATS in progress */
	VCTRL_ACTIVE,		/* ISO-DEP active, session open */
	VCTRL_DEAD,		/* session over; reader must deactivate */
};

struct vctrl_pair {
	struct list_head list;
	struct nfc_hce_dev *card;
	struct nfc_dev *reader;
	u32 card_idx;
	u32 reader_idx;
	struct workqueue_struct *wq;
	struct work_struct discover_work;
	struct work_struct rats_work;
	struct work_struct xfer_work;
	struct work_struct resp_work;
	struct work_struct wtx_work;
	struct work_struct deselect_work;
	struct completion rats_done;
	int rats_rc;

	/* protects the fields up to the next comment */
	struct mutex lock;
	bool ready;
	bool dying;
	bool listening;
	bool polling;
	enum vctrl_link_state link;
	u32 target_idx;
	bool target_valid;
	u32 session;
	struct nfc_hce_listen cfg;
	struct nfc_hce_link opts;
	struct sk_buff *tx;
	data_exchange_cb_t cb;
	void *cb_ctx;
	u8 *rapdu;
	size_t rapdu_len;
	int resp_err;
	unsigned int wtx_pending;
	bool deselect_active;
	u32 deselect_session;

	/* link state: only touched by work on @wq */
	u32 fsc;
	u32 fsd;
	u32 fwt_us;
	u32 sfgt_us;
	u32 kbps;
	u8 pcd_blk;
	u8 picc_blk;
	u32 frame_no;
	u32 air_debt_us;
	u64 air_count;
	u32 frames;
	u32 retrans;
	u8 picc_last[VCTRL_FRAME_MAX];
	size_t picc_last_len;
	u8 *capdu;		/* card-side reassembly */
	size_t capdu_len;
	bool capdu_done;
	const u8 *resp;		/* card-side response being sent */
	size_t resp_len;
	size_t resp_off;
	u8 *rbuf;		/* reader-side reassembly */
	size_t rbuf_len;
};

static LIST_HEAD(vctrl_pairs);
/* protects vctrl_pairs and vctrl_npairs */
static DEFINE_MUTEX(vctrl_lock);
static unsigned int vctrl_npairs;

/* CRC_A of ISO/IEC 14443-3 (CRC-16/ISO-IEC-14443-3-A, initial 0x6363) */
static u16 vctrl_crc_a(const u8 *data, size_t len)
{
	u16 crc = 0x6363;
	u8 b;

	while (len--) {
		b = *data++ ^ (u8)crc;
		b ^= b << 4;
		crc = (crc >> 8) ^ ((u16)b << 8) ^ ((u16)b << 3) ^ (b >> 4);
	}
	return crc;
}

/* Appends CRC_A to a frame of @len bytes; returns the new length */
static size_t vctrl_seal(u8 *frame, size_t len)
{
	u16 crc = vctrl_crc_a(frame, len);

	frame[len] = crc & 0xff;
	frame[len + 1] = crc >> 8;
	return len + 2;
}

static bool vctrl_crc_ok(const u8 *frame, size_t len)
{
	u16 crc;

	if (len < 3)
		return false;
	crc = vctrl_crc_a(frame, len - 2);
	return frame[len - 2] == (crc & 0xff) && frame[len - 1] == (crc >> 8);
}

static void vctrl_sleep_us(u32 us)
{
	if (us >= 10)
		usleep_range(us, us + us / 8 + 10);
	else if (us)
		udelay(us);
}

/*
 * One frame of @len bytes on air. Each byte takes 9 bit times (8 data bits
 * and parity) plus start and end of frame.
 * Return: 0 arrived, -EAGAIN lost (fault injection), -ENOLINK field gone.
 */
static int vctrl_air(struct vctrl_pair *p, size_t len, u32 kbps)
{
	u32 field_loss, drop_every;

	mutex_lock(&p->lock);
	field_loss = p->opts.field_loss_after;
	drop_every = p->opts.drop_every;
	mutex_unlock(&p->lock);

	p->frame_no++;
	if (field_loss && p->frame_no >= field_loss)
		return -ENOLINK;
	p->frames++;
	if (kbps)
		p->air_debt_us += ((u32)len * 9 + 2) * 1000 / kbps;
	if (drop_every && ++p->air_count % drop_every == 0)
		return -EAGAIN;
	return 0;
}

/*
 * Ends a burst of frames: waits for the air time they took (one sleep per
 * burst: guest timers are too coarse for one per frame) and accounts them.
 */
static void vctrl_flush_counts(struct vctrl_pair *p)
{
	u32 us = p->air_debt_us;

	p->air_debt_us = 0;
	if (us >= 20000)
		msleep(DIV_ROUND_UP(us, 1000));
	else
		vctrl_sleep_us(us);

	if (p->frames || p->retrans)
		nfc_hce_count_frames(p->card, p->frames, p->retrans);
	p->frames = 0;
	p->retrans = 0;
}

/* The PCD saw no answer: it waits for the frame waiting time */
static void vctrl_timeout(struct vctrl_pair *p)
{
	if (p->kbps)
		p->air_debt_us += p->fwt_us;
}

/* Card side: next I-block of the response into picc_last */
static void vctrl_picc_next_block(struct vctrl_pair *p)
{
	size_t n = min_t(size_t, p->resp_len - p->resp_off, p->fsd - 3);
	bool more = p->resp_off + n < p->resp_len;
	u8 *f = p->picc_last;

	f[0] = VCTRL_I_BLOCK | p->picc_blk | (more ? VCTRL_PCB_CHAIN : 0);
	memcpy(f + 1, p->resp + p->resp_off, n);
	p->resp_off += n;
	p->picc_last_len = vctrl_seal(f, 1 + n);
}

static void vctrl_picc_r_ack(struct vctrl_pair *p)
{
	p->picc_last[0] = VCTRL_R_ACK | p->picc_blk;
	p->picc_last_len = vctrl_seal(p->picc_last, 1);
}

/*
 * Card side: handle a frame from the reader. The answer is left in
 * p->picc_last. Return: 0 answer ready, VCTRL_SILENT no answer (a complete
 * C-APDU went up or a frame was unreadable), negative errno on a protocol
 * violation the card cannot recover from.
 */
static int vctrl_picc_rx(struct vctrl_pair *p, const u8 *f, size_t len)
{
	u8 pcb, blk;
	size_t inf;

	if (!vctrl_crc_ok(f, len))
		return VCTRL_SILENT;
	pcb = f[0];
	blk = pcb & VCTRL_PCB_BLK;
	inf = len - 3;

	if ((pcb & 0xe2) == VCTRL_I_BLOCK) {
		if (blk == p->picc_blk)		/* our answer was lost: resend */
			return p->picc_last_len ? 0 : VCTRL_SILENT;
		if (inf > p->fsc - 3 || p->capdu_len + inf > NFC_HCE_APDU_MAX)
			return -EMSGSIZE;
		p->picc_blk = blk;
		memcpy(p->capdu + p->capdu_len, f + 1, inf);
		p->capdu_len += inf;
		if (pcb & VCTRL_PCB_CHAIN) {
			vctrl_picc_r_ack(p);
			return 0;
		}
		p->capdu_done = true;
		p->picc_last_len = 0;
		return VCTRL_SILENT;
	}
	if ((pcb & 0xe6) == 0xa2) {			/* R-block */
		if (pcb & 0x10) {			/* R(NAK) */
			if (blk == p->picc_blk)
				return p->picc_last_len ? 0 : VCTRL_SILENT;
			vctrl_picc_r_ack(p);
			return 0;
		}
		if (blk == p->picc_blk)			/* R(ACK): resend last */
			return p->picc_last_len ? 0 : VCTRL_SILENT;
		if (!p->resp || p->resp_off >= p->resp_len)
			return -EPROTO;
		p->picc_blk ^= 1;
		vctrl_picc_next_block(p);
		return 0;
	}
	if (pcb == VCTRL_S_DESELECT) {
		p->picc_last[0] = VCTRL_S_DESELECT;
		p->picc_last_len = vctrl_seal(p->picc_last, 1);
		return 0;
	}
	if (pcb == VCTRL_S_WTX)				/* reader granted WTX */
		return VCTRL_SILENT;
	return -EPROTO;
}

/*
 * Reader side: send @frame and get the card's answer into p->picc_last, with
 * ISO-DEP recovery: a lost answer makes the reader wait FWT and send R(NAK);
 * the card then resends its last block, or answers R(ACK) if it never got
 * the reader's I-block, which the reader then retransmits.
 * Return: 0 answer in p->picc_last, VCTRL_SILENT the card took a complete
 * C-APDU and answers later, -ENOLINK field gone, -EIO retries exhausted.
 */
static int vctrl_pcd_exchange(struct vctrl_pair *p, const u8 *frame, size_t len)
{
	unsigned int losses = 0;
	const u8 *out = frame;
	size_t out_len = len;
	u8 nak[3];
	int rc;

	for (;;) {
		rc = vctrl_air(p, out_len, p->kbps);
		if (rc == -ENOLINK)
			return rc;
		if (!rc) {
			rc = vctrl_picc_rx(p, out, out_len);
			if (rc < 0 || rc == VCTRL_SILENT)
				return rc;
			rc = vctrl_air(p, p->picc_last_len, p->kbps);
			if (rc == -ENOLINK)
				return rc;
			if (!rc) {
				/* R(ACK) with the other block number: resend */
				if ((p->picc_last[0] & 0xf6) == VCTRL_R_ACK &&
				    (p->picc_last[0] & VCTRL_PCB_BLK) != p->pcd_blk &&
				    out != frame) {
					out = frame;
					out_len = len;
					p->retrans++;
					continue;
				}
				return 0;
			}
		}
		/* a frame was lost: wait FWT, then R(NAK) */
		if (++losses > VCTRL_RETRIES)
			return -EIO;
		vctrl_timeout(p);
		nak[0] = VCTRL_R_NAK | p->pcd_blk;
		out = nak;
		out_len = vctrl_seal(nak, 1);
		p->retrans++;
	}
}

/* Takes the reader's outstanding exchange and completes it */
static void vctrl_complete(struct vctrl_pair *p, struct sk_buff *resp, int err)
{
	data_exchange_cb_t cb;
	struct sk_buff *tx;
	void *ctx;

	mutex_lock(&p->lock);
	cb = p->cb;
	ctx = p->cb_ctx;
	tx = p->tx;
	p->cb = NULL;
	p->cb_ctx = NULL;
	p->tx = NULL;
	mutex_unlock(&p->lock);

	kfree_skb(tx);
	if (!cb) {
		kfree_skb(resp);
		return;
	}
	cb(ctx, err ? NULL : resp, err);
	if (err)
		kfree_skb(resp);
}

/* The link broke under an active session: fail the reader, end the session */
static void vctrl_link_lost(struct vctrl_pair *p, int err)
{
	enum nfc_hce_reason reason = err == -ENOLINK ? NFC_HCE_REASON_FIELD_LOST :
						       NFC_HCE_REASON_LINK_ERROR;
	bool was_active;
	u32 session;

	mutex_lock(&p->lock);
	was_active = p->link == VCTRL_ACTIVE;
	if (was_active)
		p->link = VCTRL_DEAD;
	session = p->session;
	mutex_unlock(&p->lock);

	vctrl_complete(p, NULL, err);
	if (was_active)
		nfc_hce_deactivated(p->card, session, reason);
}

/* ---- work ---- */

static void vctrl_discover_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, discover_work);
	struct nfc_target target = {};
	u8 uid_len;

	mutex_lock(&p->lock);
	if (!p->ready || p->dying || !p->listening || !p->polling ||
	    p->link != VCTRL_IDLE) {
		mutex_unlock(&p->lock);
		return;
	}
	uid_len = p->cfg.uid_len;
	target.supported_protocols = NFC_PROTO_ISO14443_MASK;
	/* SENS_RES: UID size in bits 8..7, bit frame anticollision */
	target.sens_res = uid_len == 4 ? 0x0004 : uid_len == 7 ? 0x0044 : 0x0084;
	target.sel_res = 0x20;			/* ISO/IEC 14443-4 compliant */
	target.nfcid1_len = uid_len;
	memcpy(target.nfcid1, p->cfg.uid, uid_len);
	p->link = VCTRL_FOUND;
	p->polling = false;
	mutex_unlock(&p->lock);

	nfc_targets_found(p->reader, &target, 1);

	mutex_lock(&p->lock);
	p->target_idx = target.idx;
	p->target_valid = true;
	mutex_unlock(&p->lock);
}

static int vctrl_rats(struct vctrl_pair *p, struct nfc_hce_listen *cfg,
		      u32 *fsd)
{
	u8 f[VCTRL_FRAME_MAX];
	size_t len;
	u8 fsdi, fsci, t0;
	int rc;

	mutex_lock(&p->lock);
	*cfg = p->cfg;
	fsdi = p->opts.reader_fsdi;
	p->kbps = p->opts.bitrate;
	mutex_unlock(&p->lock);

	p->frame_no = 0;
	p->pcd_blk = 0;
	p->picc_blk = 1;
	p->picc_last_len = 0;
	p->capdu_len = 0;
	p->capdu_done = false;
	p->resp = NULL;

	/* RATS: start byte, FSDI << 4 | CID 0 */
	f[0] = VCTRL_RATS;
	f[1] = fsdi << 4;
	len = vctrl_seal(f, 2);
	rc = vctrl_air(p, len, p->kbps ? 106 : 0);
	if (rc)
		return rc == -ENOLINK ? rc : -ETIMEDOUT;
	if (!vctrl_crc_ok(f, len))
		return -EPROTO;
	*fsd = nfc_hce_fsc_bytes(f[1] >> 4);

	/* ATS: TL T0 TA TB TC historical bytes */
	t0 = 0x70 | cfg->fsci;
	f[0] = 5 + cfg->hist_len;
	f[1] = t0;
	f[2] = p->kbps > 106 ? 0x77 : 0x80;	/* TA: bit rates, same D both ways at 106 */
	f[3] = cfg->fwi << 4 | cfg->sfgi;	/* TB */
	f[4] = 0x00;				/* TC: no CID, no NAD */
	memcpy(f + 5, cfg->hist, cfg->hist_len);
	len = vctrl_seal(f, f[0]);
	if (len > *fsd)
		return -EPROTO;			/* ATS does not fit the reader */
	rc = vctrl_air(p, len, p->kbps ? 106 : 0);
	if (rc)
		return rc == -ENOLINK ? rc : -ETIMEDOUT;

	/* the reader parses the ATS */
	if (!vctrl_crc_ok(f, len) || f[0] != len - 2 || (f[1] & 0x70) != 0x70)
		return -EPROTO;
	fsci = f[1] & 0x0f;
	p->fsc = nfc_hce_fsc_bytes(fsci);
	p->fsd = *fsd;
	p->fwt_us = nfc_hce_fwt_us(f[3] >> 4);
	p->sfgt_us = (f[3] & 0x0f) ? nfc_hce_fwt_us(f[3] & 0x0f) : 0;

	if (p->kbps > 106) {
		/* PPS: PPSS, PPS0 (PPS1 follows), PPS1 = DSI/DRI */
		u8 d = ilog2(p->kbps / 106);

		f[0] = VCTRL_PPSS;
		f[1] = 0x11;
		f[2] = d << 2 | d;
		len = vctrl_seal(f, 3);
		rc = vctrl_air(p, len, 106);
		if (!rc) {
			f[0] = VCTRL_PPSS;
			len = vctrl_seal(f, 1);
			rc = vctrl_air(p, len, 106);
		}
		if (rc)
			return rc == -ENOLINK ? rc : -ETIMEDOUT;
	}
	if (p->kbps)
		p->air_debt_us += p->sfgt_us;
	return 0;
}

static void vctrl_rats_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, rats_work);
	struct nfc_hce_listen cfg;
	u32 session = 0, fsd = 0;
	int rc;

	mutex_lock(&p->lock);
	rc = p->dying ? -ENODEV : 0;
	mutex_unlock(&p->lock);
	if (!rc)
		rc = vctrl_rats(p, &cfg, &fsd);
	vctrl_flush_counts(p);
	if (!rc)
		rc = nfc_hce_activated(p->card, cfg.uid, cfg.uid_len, fsd, &session);

	mutex_lock(&p->lock);
	if (!rc) {
		p->link = VCTRL_ACTIVE;
		p->session = session;
		p->listening = false;
	} else {
		p->link = VCTRL_IDLE;
	}
	mutex_unlock(&p->lock);

	p->rats_rc = rc;
	complete(&p->rats_done);
}

static void vctrl_xfer_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, xfer_work);
	u8 f[VCTRL_FRAME_MAX];
	const u8 *data;
	size_t len, off = 0, n;
	bool more;
	u32 session;
	int rc;

	mutex_lock(&p->lock);
	if (p->dying || !p->tx) {
		rc = -ENODEV;
	} else if (p->link != VCTRL_ACTIVE) {
		rc = -ENOLINK;
	} else {
		rc = 0;
		data = p->tx->data;
		len = p->tx->len;
	}
	session = p->session;
	mutex_unlock(&p->lock);
	if (rc) {
		vctrl_complete(p, NULL, rc);
		return;
	}

	p->capdu_len = 0;
	p->capdu_done = false;
	p->resp = NULL;
	do {
		n = min_t(size_t, len - off, p->fsc - 3);
		more = off + n < len;
		f[0] = VCTRL_I_BLOCK | p->pcd_blk | (more ? VCTRL_PCB_CHAIN : 0);
		memcpy(f + 1, data + off, n);
		rc = vctrl_pcd_exchange(p, f, vctrl_seal(f, 1 + n));
		if (rc < 0)
			goto out_lost;
		if (more) {
			/* the card must acknowledge with our block number */
			if (rc || (p->picc_last[0] & 0xf6) != VCTRL_R_ACK ||
			    (p->picc_last[0] & VCTRL_PCB_BLK) != p->pcd_blk) {
				rc = -EPROTO;
				goto out_lost;
			}
			p->pcd_blk ^= 1;
		} else if (rc != VCTRL_SILENT || !p->capdu_done) {
			rc = -EPROTO;
			goto out_lost;
		}
		off += n;
	} while (more);
	vctrl_flush_counts(p);

	rc = nfc_hce_capdu(p->card, session, p->capdu, p->capdu_len);
	if (rc)
		vctrl_complete(p, NULL, rc);
	return;

out_lost:
	vctrl_flush_counts(p);
	vctrl_link_lost(p, rc);
}

static void vctrl_resp_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, resp_work);
	struct sk_buff *skb;
	u8 *rapdu;
	size_t len;
	u8 ack[3];
	int err, rc;
	size_t inf;
	bool more;

	mutex_lock(&p->lock);
	rapdu = p->rapdu;
	len = p->rapdu_len;
	err = p->dying ? -ENODEV : p->resp_err;
	p->rapdu = NULL;
	p->resp_err = 0;
	mutex_unlock(&p->lock);
	if (err || !rapdu) {
		kvfree(rapdu);
		vctrl_complete(p, NULL, err ?: -EPROTO);
		return;
	}

	/* the card sends the first block, further ones answer R(ACK) */
	p->resp = rapdu;
	p->resp_len = len;
	p->resp_off = 0;
	p->rbuf_len = 0;
	vctrl_picc_next_block(p);
	rc = vctrl_air(p, p->picc_last_len, p->kbps);
	if (rc == -EAGAIN) {
		vctrl_timeout(p);
		ack[0] = VCTRL_R_NAK | p->pcd_blk;
		p->retrans++;
		rc = vctrl_pcd_exchange(p, ack, vctrl_seal(ack, 1));
	}
	for (;;) {
		if (rc < 0)
			goto out_lost;
		if (rc || (p->picc_last[0] & 0xe2) != VCTRL_I_BLOCK ||
		    (p->picc_last[0] & VCTRL_PCB_BLK) != p->pcd_blk ||
		    !vctrl_crc_ok(p->picc_last, p->picc_last_len)) {
			rc = -EPROTO;
			goto out_lost;
		}
		inf = p->picc_last_len - 3;
		memcpy(p->rbuf + p->rbuf_len, p->picc_last + 1, inf);
		p->rbuf_len += inf;
		more = p->picc_last[0] & VCTRL_PCB_CHAIN;
		p->pcd_blk ^= 1;
		if (!more)
			break;
		ack[0] = VCTRL_R_ACK | p->pcd_blk;
		rc = vctrl_pcd_exchange(p, ack, vctrl_seal(ack, 1));
	}
	p->resp = NULL;
	kvfree(rapdu);
	vctrl_flush_counts(p);

	skb = nfc_alloc_recv_skb(p->rbuf_len, GFP_KERNEL);
	if (!skb) {
		vctrl_complete(p, NULL, -ENOMEM);
		return;
	}
	skb_put_data(skb, p->rbuf, p->rbuf_len);
	vctrl_complete(p, skb, 0);
	return;

out_lost:
	p->resp = NULL;
	kvfree(rapdu);
	vctrl_flush_counts(p);
	vctrl_link_lost(p, rc);
}

static void vctrl_wtx_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, wtx_work);
	unsigned int n;
	u8 f[4];
	int rc = 0;

	mutex_lock(&p->lock);
	n = p->wtx_pending;
	p->wtx_pending = 0;
	if (p->dying || p->link != VCTRL_ACTIVE)
		n = 0;
	mutex_unlock(&p->lock);

	while (n-- && !rc) {
		/* S(WTX) request with WTXM 1, and the reader's S(WTX) response */
		f[0] = VCTRL_S_WTX;
		f[1] = 1;
		rc = vctrl_air(p, vctrl_seal(f, 2), p->kbps);
		if (rc != -ENOLINK)
			rc = vctrl_air(p, vctrl_seal(f, 2), p->kbps);
		if (rc == -EAGAIN)
			rc = 0;			/* the deadline keeps running */
	}
	vctrl_flush_counts(p);
	if (rc == -ENOLINK)
		vctrl_link_lost(p, rc);
}

static void vctrl_deselect_work(struct work_struct *work)
{
	struct vctrl_pair *p = container_of(work, struct vctrl_pair, deselect_work);
	bool was_active;
	u32 session;
	u8 f[3];

	mutex_lock(&p->lock);
	was_active = p->deselect_active;
	session = p->deselect_session;
	p->deselect_active = false;
	mutex_unlock(&p->lock);

	vctrl_complete(p, NULL, -ECONNRESET);
	if (was_active) {
		f[0] = VCTRL_S_DESELECT;
		vctrl_pcd_exchange(p, f, vctrl_seal(f, 1));
		vctrl_flush_counts(p);
		nfc_hce_deactivated(p->card, session, NFC_HCE_REASON_DESELECTED);
	}
	/* the card may be listening again already */
	schedule_work(&p->discover_work);
}

/* ---- reader nfc device (NFC core, reader device_lock held) ---- */

static int vctrl_reader_dev_up(struct nfc_dev *ndev)
{
	return 0;
}

static int vctrl_reader_dev_down(struct nfc_dev *ndev)
{
	return 0;
}

static int vctrl_reader_start_poll(struct nfc_dev *ndev, u32 im_protocols,
				   u32 tm_protocols)
{
	struct vctrl_pair *p = nfc_get_drvdata(ndev);
	int rc = 0;

	if (tm_protocols || !(im_protocols & NFC_PROTO_ISO14443_MASK))
		return -EOPNOTSUPP;
	mutex_lock(&p->lock);
	if (p->dying) {
		rc = -ENODEV;
	} else {
		p->polling = true;
		if (p->link == VCTRL_FOUND)
			p->link = VCTRL_IDLE;
		p->target_valid = false;
		schedule_work(&p->discover_work);
	}
	mutex_unlock(&p->lock);
	return rc;
}

static void vctrl_reader_stop_poll(struct nfc_dev *ndev)
{
	struct vctrl_pair *p = nfc_get_drvdata(ndev);

	mutex_lock(&p->lock);
	p->polling = false;
	mutex_unlock(&p->lock);
}

static int vctrl_reader_activate_target(struct nfc_dev *ndev,
					struct nfc_target *target, u32 protocol)
{
	struct vctrl_pair *p = nfc_get_drvdata(ndev);
	int rc = 0;

	if (protocol != NFC_PROTO_ISO14443)
		return -EOPNOTSUPP;
	mutex_lock(&p->lock);
	if (p->dying)
		rc = -ENODEV;
	/*
	 * a found card, or the same card listening again with the same UID
	 * (WUPA + RATS)
	 */
	else if (p->link != VCTRL_FOUND &&
		 !(p->link == VCTRL_IDLE && p->listening && p->target_valid &&
		   !p->cfg.uid_random && p->target_idx == target->idx))
		rc = -ENODEV;
	else
		p->link = VCTRL_ACTIVATING;
	mutex_unlock(&p->lock);
	if (rc)
		return rc;

	reinit_completion(&p->rats_done);
	queue_work(p->wq, &p->rats_work);
	wait_for_completion(&p->rats_done);
	return p->rats_rc;
}

static void vctrl_reader_deactivate_target(struct nfc_dev *ndev,
					   struct nfc_target *target, u8 mode)
{
	struct vctrl_pair *p = nfc_get_drvdata(ndev);

	mutex_lock(&p->lock);
	if (p->link == VCTRL_ACTIVE || p->link == VCTRL_DEAD) {
		p->deselect_active = p->link == VCTRL_ACTIVE;
		p->deselect_session = p->session;
		p->link = VCTRL_IDLE;
		queue_work(p->wq, &p->deselect_work);
	}
	mutex_unlock(&p->lock);
}

static int vctrl_reader_im_transceive(struct nfc_dev *ndev,
				      struct nfc_target *target,
				      struct sk_buff *skb,
				      data_exchange_cb_t cb, void *cb_context)
{
	struct vctrl_pair *p = nfc_get_drvdata(ndev);
	int rc = 0;

	if (!skb->len || skb->len > NFC_HCE_APDU_MAX) {
		kfree_skb(skb);
		return -EMSGSIZE;
	}
	mutex_lock(&p->lock);
	if (p->dying)
		rc = -ENODEV;
	else if (p->link != VCTRL_ACTIVE)
		rc = -ENOLINK;
	else if (p->cb)
		rc = -EBUSY;
	if (!rc) {
		p->tx = skb;
		p->cb = cb;
		p->cb_ctx = cb_context;
		queue_work(p->wq, &p->xfer_work);
	}
	mutex_unlock(&p->lock);
	if (rc)
		kfree_skb(skb);
	return rc;
}

static const struct nfc_ops vctrl_reader_ops = {
	.dev_up = vctrl_reader_dev_up,
	.dev_down = vctrl_reader_dev_down,
	.start_poll = vctrl_reader_start_poll,
	.stop_poll = vctrl_reader_stop_poll,
	.activate_target = vctrl_reader_activate_target,
	.deactivate_target = vctrl_reader_deactivate_target,
	.im_transceive = vctrl_reader_im_transceive,
};

/* ---- card side (hce core ops, hce device lock held) ---- */

static int vctrl_card_listen(struct nfc_hce_dev *hdev,
			     const struct nfc_hce_listen *cfg)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);
	int rc = 0;

	mutex_lock(&p->lock);
	if (p->dying) {
		rc = -ENODEV;
	} else {
		p->cfg = *cfg;
		p->listening = true;
		schedule_work(&p->discover_work);
	}
	mutex_unlock(&p->lock);
	return rc;
}

static void vctrl_card_stop_listen(struct nfc_hce_dev *hdev)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);

	mutex_lock(&p->lock);
	p->listening = false;
	if (p->link == VCTRL_FOUND)
		p->link = VCTRL_IDLE;
	mutex_unlock(&p->lock);
}

static int vctrl_card_respond(struct nfc_hce_dev *hdev, u32 session,
			      const u8 *rapdu, size_t len)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);
	u8 *copy;
	int rc = 0;

	copy = kvmalloc(len, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rapdu, len);
	mutex_lock(&p->lock);
	if (p->dying || p->link != VCTRL_ACTIVE || p->session != session ||
	    p->rapdu) {
		rc = -ESTALE;
	} else {
		p->rapdu = copy;
		p->rapdu_len = len;
		copy = NULL;
		queue_work(p->wq, &p->resp_work);
	}
	mutex_unlock(&p->lock);
	kvfree(copy);
	return rc;
}

static void vctrl_card_fail(struct nfc_hce_dev *hdev, u32 session, int err)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);

	mutex_lock(&p->lock);
	if (p->session == session &&
	    (p->link == VCTRL_ACTIVE || p->link == VCTRL_ACTIVATING)) {
		p->link = VCTRL_DEAD;
		p->resp_err = err;
		queue_work(p->wq, &p->resp_work);
	}
	mutex_unlock(&p->lock);
}

static void vctrl_card_wtx(struct nfc_hce_dev *hdev, u32 session)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);

	mutex_lock(&p->lock);
	if (p->session == session && p->link == VCTRL_ACTIVE) {
		p->wtx_pending++;
		queue_work(p->wq, &p->wtx_work);
	}
	mutex_unlock(&p->lock);
}

static void vctrl_card_get_link(struct nfc_hce_dev *hdev,
				struct nfc_hce_link *link)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);

	mutex_lock(&p->lock);
	*link = p->opts;
	link->reader_idx = p->reader_idx;
	mutex_unlock(&p->lock);
}

static int vctrl_card_set_link(struct nfc_hce_dev *hdev,
			       const struct nfc_hce_link *link)
{
	struct vctrl_pair *p = nfc_hce_priv(hdev);

	mutex_lock(&p->lock);
	if (link->set_mask & NFC_HCE_LINK_BITRATE)
		p->opts.bitrate = link->bitrate;
	if (link->set_mask & NFC_HCE_LINK_FIELD_LOSS)
		p->opts.field_loss_after = link->field_loss_after;
	if (link->set_mask & NFC_HCE_LINK_DROP)
		p->opts.drop_every = link->drop_every;
	if (link->set_mask & NFC_HCE_LINK_FSDI)
		p->opts.reader_fsdi = link->reader_fsdi;
	mutex_unlock(&p->lock);
	return 0;
}

static const struct nfc_hce_ops vctrl_card_ops = {
	.listen = vctrl_card_listen,
	.stop_listen = vctrl_card_stop_listen,
	.respond = vctrl_card_respond,
	.fail = vctrl_card_fail,
	.wtx = vctrl_card_wtx,
	.get_link = vctrl_card_get_link,
	.set_link = vctrl_card_set_link,
};

/* ---- pairs ---- */

static void vctrl_pair_free(struct vctrl_pair *p)
{
	kvfree(p->capdu);
	kvfree(p->rbuf);
	mutex_destroy(&p->lock);
	kfree(p);
}

static void vctrl_pair_destroy(struct vctrl_pair *p)
{
	mutex_lock(&p->lock);
	p->dying = true;
	mutex_unlock(&p->lock);

	/* after these, neither core calls our ops for this pair */
	nfc_unregister_device(p->reader);
	nfc_hce_unregister(p->card);
	destroy_workqueue(p->wq);		/* its work may queue discovery */
	cancel_work_sync(&p->discover_work);
	vctrl_complete(p, NULL, -ENODEV);
	kvfree(p->rapdu);

	nfc_hce_dev_put(p->card);
	nfc_free_device(p->reader);
	vctrl_pair_free(p);
}

static int vctrl_pair_create(u32 *card_idx, u32 *reader_idx)
{
	struct vctrl_pair *p;
	int rc;

	mutex_lock(&vctrl_lock);
	if (vctrl_npairs >= VCTRL_MAX_PAIRS) {
		mutex_unlock(&vctrl_lock);
		return -ENOSPC;
	}
	vctrl_npairs++;
	mutex_unlock(&vctrl_lock);

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		rc = -ENOMEM;
		goto out_uncount;
	}
	mutex_init(&p->lock);
	init_completion(&p->rats_done);
	INIT_WORK(&p->discover_work, vctrl_discover_work);
	INIT_WORK(&p->rats_work, vctrl_rats_work);
	INIT_WORK(&p->xfer_work, vctrl_xfer_work);
	INIT_WORK(&p->resp_work, vctrl_resp_work);
	INIT_WORK(&p->wtx_work, vctrl_wtx_work);
	INIT_WORK(&p->deselect_work, vctrl_deselect_work);
	p->opts.bitrate = (bitrate == 106 || bitrate == 212 || bitrate == 424 ||
			   bitrate == 848) ? bitrate : 0;
	p->opts.reader_fsdi = VCTRL_DEFAULT_FSDI;
	p->capdu = kvmalloc(NFC_HCE_APDU_MAX, GFP_KERNEL);
	p->rbuf = kvmalloc(NFC_HCE_APDU_MAX, GFP_KERNEL);
	if (!p->capdu || !p->rbuf) {
		rc = -ENOMEM;
		goto out_free_pair;
	}
	p->wq = alloc_ordered_workqueue("nfc_hce_vctrl", 0);
	if (!p->wq) {
		rc = -ENOMEM;
		goto out_free_pair;
	}

	/*
	 * The reader's index is known before the card becomes visible, so a
	 * GET_DEVICE racing this never reports another device as its reader.
	 */
	p->reader = nfc_allocate_device(&vctrl_reader_ops, NFC_PROTO_ISO14443_MASK,
					0, 0);
	if (!p->reader) {
		rc = -ENOMEM;
		goto out_destroy_wq;
	}
	nfc_set_drvdata(p->reader, p);
	p->reader_idx = p->reader->idx;

	p->card = nfc_hce_register(&vctrl_card_ops, p, NULL);
	if (IS_ERR(p->card)) {
		rc = PTR_ERR(p->card);
		goto out_free_reader;
	}
	p->card_idx = nfc_hce_idx(p->card);

	rc = nfc_register_device(p->reader);
	if (rc)
		goto out_unregister_card;

	mutex_lock(&p->lock);
	p->ready = true;
	mutex_unlock(&p->lock);
	mutex_lock(&vctrl_lock);
	list_add_tail(&p->list, &vctrl_pairs);
	mutex_unlock(&vctrl_lock);
	*card_idx = p->card_idx;
	*reader_idx = p->reader_idx;
	return 0;

out_unregister_card:
	mutex_lock(&p->lock);
	p->dying = true;
	mutex_unlock(&p->lock);
	nfc_hce_unregister(p->card);
	flush_workqueue(p->wq);
	cancel_work_sync(&p->discover_work);
	nfc_hce_dev_put(p->card);
out_free_reader:
	nfc_free_device(p->reader);
out_destroy_wq:
	destroy_workqueue(p->wq);
out_free_pair:
	vctrl_pair_free(p);
out_uncount:
	mutex_lock(&vctrl_lock);
	vctrl_npairs--;
	mutex_unlock(&vctrl_lock);
	return rc;
}

static int vctrl_pair_destroy_idx(u32 card_idx)
{
	struct vctrl_pair *p, *found = NULL;

	mutex_lock(&vctrl_lock);
	list_for_each_entry(p, &vctrl_pairs, list) {
		if (p->card_idx == card_idx) {
			found = p;
			list_del(&p->list);
			vctrl_npairs--;
			break;
		}
	}
	mutex_unlock(&vctrl_lock);
	if (!found)
		return -ENODEV;
	vctrl_pair_destroy(found);
	return 0;
}

static void vctrl_destroy_all(void)
{
	struct vctrl_pair *p;

	for (;;) {
		mutex_lock(&vctrl_lock);
		p = list_first_entry_or_null(&vctrl_pairs, struct vctrl_pair, list);
		if (p) {
			list_del(&p->list);
			vctrl_npairs--;
		}
		mutex_unlock(&vctrl_lock);
		if (!p)
			return;
		vctrl_pair_destroy(p);
	}
}

static const struct nfc_hce_vpair_ops vctrl_vpair_ops = {
	.create = vctrl_pair_create,
	.destroy = vctrl_pair_destroy_idx,
};

static int __init vctrl_init(void)
{
	u32 card_idx, reader_idx;
	unsigned int i;
	int rc;

	if (pairs > VCTRL_MAX_PAIRS)
		return -EINVAL;
	for (i = 0; i < pairs; i++) {
		rc = vctrl_pair_create(&card_idx, &reader_idx);
		if (rc)
			goto out_destroy_pairs;
		pr_info("pair %u: card nfc%u, reader nfc%u\n", i, card_idx,
			reader_idx);
	}
	rc = nfc_hce_register_vpair_ops(&vctrl_vpair_ops);
	if (rc)
		goto out_destroy_pairs;
	return 0;

out_destroy_pairs:
	vctrl_destroy_all();
	return rc;
}

static void __exit vctrl_exit(void)
{
	nfc_hce_unregister_vpair_ops(&vctrl_vpair_ops);
	vctrl_destroy_all();
}

module_init(vctrl_init);
module_exit(vctrl_exit);

MODULE_DESCRIPTION("NFC host card emulation virtual controller (ISO 14443-4 A pairs)");
MODULE_LICENSE("GPL");
