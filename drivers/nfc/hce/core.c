// SPDX-License-Identifier: GPL-2.0
/*
 * nfc_hce core: ISO-DEP card emulation on top of the Linux NFC core.
 *
 * Each card endpoint of a controller becomes an nfcN device with ISO14443
 * target-mode support. The core opens a session per ISO-DEP activation,
 * carries C-APDUs to exactly one bound owner over the "nfc_hce" generic
 * netlink family, enforces the response deadline and keeps statistics.
 *
 * Locking, outermost first:
 *   nfc_hce_vpair_lock  serialises vpair create/destroy and (un)registration
 *                       of the vpair ops
 *   device_lock(nfc)    NFC core, held around our nfc_ops
 *   nfc_hce_devs_lock   the device list
 *   hdev->lock          one card device's state machine
 * Controller ops run under hdev->lock and must not call back into the core;
 * NFC core events (nfc_tm_activated/deactivated) are raised from hdev->tm_work
 * with no lock held, in the order they were queued.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/random.h>
#include <linux/workqueue.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/nfc/nfc.h>

#include "hce.h"

static unsigned int default_fwi = 8;
module_param(default_fwi, uint, 0444);
MODULE_PARM_DESC(default_fwi, "FWI of new card devices (0..14, default 8: FWT 77 ms)");

static unsigned int default_wtx_max = 12;
module_param(default_wtx_max, uint, 0444);
MODULE_PARM_DESC(default_wtx_max,
		 "waiting-time extensions per C-APDU of new card devices (default 12)");

struct nfc_hce_stats {
	u64 activations;
	u64 capdus;
	u64 rapdus;
	u64 capdu_bytes;
	u64 rapdu_bytes;
	u64 deadline_expiries;
	u64 stale_responses;
	u64 wtx;
	u64 field_losses;
	u64 no_owner;
	u64 errors;
	u64 frames;
	u64 retransmissions;
};

/**
 * struct nfc_hce_session - one ISO-DEP activation of a card device
 * @ref: held by hdev->sess while current and by a queued deadline work
 * @hdev: card device (a reference is held)
 * @id: session id, never 0
 * @seq: sequence of the last C-APDU sent to the owner
 * @pending: a C-APDU waits for its R-APDU
 * @wtx_count: extensions used by the outstanding C-APDU
 * @fwi: FWI of the ATS this session was activated with
 * @wtx_max: extensions granted per C-APDU in this session
 * @due: jiffies at which the current FWT of the outstanding C-APDU ends
 * @deadline: fires every FWT while a C-APDU is outstanding
 *
 * All fields but @ref are protected by hdev->lock.
 */
struct nfc_hce_session {
	struct kref ref;
	struct nfc_hce_dev *hdev;
	u32 id;
	u32 seq;
	bool pending;
	unsigned int wtx_count;
	u8 fwi;
	u8 wtx_max;
	unsigned long due;
	struct delayed_work deadline;
};

struct nfc_hce_tm_event {
	struct list_head list;
	bool activated;
};

/**
 * struct nfc_hce_dev - a card device
 * @ref: held by the controller (until it calls nfc_hce_dev_put()), by the
 *	device list, by sessions and by netlink handlers while they run
 * @list: entry in nfc_hce_devs, protected by nfc_hce_devs_lock
 * @ops: controller operations
 * @priv: controller data
 * @ndev: the nfc device
 * @idx: its nfc index
 * @lock: protects every field below
 * @dead: unregistered: no more ops calls, netlink gets -ENODEV
 * @listening: the controller listens for a reader
 * @bound: an owner is bound
 * @owner_portid: netlink port of the owner
 * @owner_net: network namespace of the owner
 * @cfg: listen identity
 * @listen_cfg: the identity of the current listen period (what the reader
 *	gets in the ATS; sessions take FWI and WTX_MAX from it)
 * @sess: current session or NULL
 * @next_session: last session id handed out
 * @stats: counters
 * @tm_events: NFC core events waiting for @tm_work
 * @tm_work: raises NFC core events with no lock held
 */
struct nfc_hce_dev {
	struct kref ref;
	struct list_head list;
	const struct nfc_hce_ops *ops;
	void *priv;
	struct nfc_dev *ndev;
	u32 idx;

	struct mutex lock;	/* the state machine: fields below */
	bool dead;
	bool listening;
	bool bound;
	u32 owner_portid;
	possible_net_t owner_net;
	struct nfc_hce_listen cfg;
	struct nfc_hce_listen listen_cfg;
	struct nfc_hce_session *sess;
	u32 next_session;
	struct nfc_hce_stats stats;
	struct list_head tm_events;
	struct work_struct tm_work;
};

static LIST_HEAD(nfc_hce_devs);
/* protects nfc_hce_devs */
static DEFINE_MUTEX(nfc_hce_devs_lock);
/* protects nfc_hce_vpair and serialises its calls */
static DEFINE_MUTEX(nfc_hce_vpair_lock);
static const struct nfc_hce_vpair_ops *nfc_hce_vpair;
static struct workqueue_struct *nfc_hce_wq;
static struct genl_family nfc_hce_genl_family;

static const u16 nfc_hce_fsc_table[] = { 16, 24, 32, 40, 48, 64, 96, 128, 256 };

/**
 * nfc_hce_fsc_bytes() - frame size in bytes for a FSCI or FSDI value
 * @fsci: frame size integer; values above 8 are treated as 8 (RFU)
 *
 * Return: the frame size in bytes (16..256), CRC included.
 */
u32 nfc_hce_fsc_bytes(u8 fsci)
{
	return nfc_hce_fsc_table[min_t(u8, fsci, 8)];
}
EXPORT_SYMBOL_GPL(nfc_hce_fsc_bytes);

/**
 * nfc_hce_fwt_us() - frame waiting time in microseconds
 * @fwi: frame waiting time integer 0..14
 *
 * Return: FWT = (256 * 16 / fc) * 2^FWI with fc = 13.56 MHz, rounded up.
 */
u32 nfc_hce_fwt_us(u8 fwi)
{
	u64 ns = div_u64((4096ULL << min_t(u8, fwi, NFC_HCE_FWI_MAX)) * 1000000ULL,
			 13560);

	return DIV_ROUND_UP_ULL(ns, 1000);
}
EXPORT_SYMBOL_GPL(nfc_hce_fwt_us);

static u32 nfc_hce_deadline_us(const struct nfc_hce_listen *cfg)
{
	return nfc_hce_fwt_us(cfg->fwi) * (1 + cfg->wtx_max);
}

static void nfc_hce_dev_release(struct kref *ref)
{
	struct nfc_hce_dev *hdev = container_of(ref, struct nfc_hce_dev, ref);
	struct nfc_hce_tm_event *ev, *tmp;

	list_for_each_entry_safe(ev, tmp, &hdev->tm_events, list) {
		list_del(&ev->list);
		kfree(ev);
	}
	nfc_free_device(hdev->ndev);
	mutex_destroy(&hdev->lock);
	kfree(hdev);
}

static void nfc_hce_dev_get(struct nfc_hce_dev *hdev)
{
	kref_get(&hdev->ref);
}

/**
 * nfc_hce_dev_put() - drop a reference to a card device
 * @hdev: card device
 *
 * The controller calls this once, after nfc_hce_unregister() and after its
 * own work that might still use @hdev has finished.
 */
void nfc_hce_dev_put(struct nfc_hce_dev *hdev)
{
	kref_put(&hdev->ref, nfc_hce_dev_release);
}
EXPORT_SYMBOL_GPL(nfc_hce_dev_put);

/**
 * nfc_hce_priv() - controller data of a card device
 * @hdev: card device
 *
 * Return: the @priv pointer given to nfc_hce_register().
 */
void *nfc_hce_priv(struct nfc_hce_dev *hdev)
{
	return hdev->priv;
}
EXPORT_SYMBOL_GPL(nfc_hce_priv);

/**
 * nfc_hce_idx() - nfc device index of a card device
 * @hdev: card device
 *
 * Return: the index of the card's nfcN device.
 */
u32 nfc_hce_idx(struct nfc_hce_dev *hdev)
{
	return hdev->idx;
}
EXPORT_SYMBOL_GPL(nfc_hce_idx);

/* Looks a card device up by nfc index and takes a reference. */
static struct nfc_hce_dev *nfc_hce_dev_find(u32 idx)
{
	struct nfc_hce_dev *hdev;

	mutex_lock(&nfc_hce_devs_lock);
	list_for_each_entry(hdev, &nfc_hce_devs, list) {
		if (hdev->idx == idx) {
			nfc_hce_dev_get(hdev);
			mutex_unlock(&nfc_hce_devs_lock);
			return hdev;
		}
	}
	mutex_unlock(&nfc_hce_devs_lock);
	return NULL;
}

/* ---- NFC core events, raised in order from work with no lock held ---- */

static void nfc_hce_tm_work(struct work_struct *work)
{
	struct nfc_hce_dev *hdev = container_of(work, struct nfc_hce_dev, tm_work);
	struct nfc_hce_tm_event *ev;
	bool dead;

	for (;;) {
		mutex_lock(&hdev->lock);
		ev = list_first_entry_or_null(&hdev->tm_events,
					      struct nfc_hce_tm_event, list);
		if (ev)
			list_del(&ev->list);
		dead = hdev->dead;
		mutex_unlock(&hdev->lock);
		if (!ev)
			return;
		/* a device being unregistered raises no more events */
		if (!dead && ev->activated)
			nfc_tm_activated(hdev->ndev, NFC_PROTO_ISO14443_MASK,
					 NFC_COMM_PASSIVE, NULL, 0);
		else if (!dead)
			nfc_tm_deactivated(hdev->ndev);
		kfree(ev);
	}
}

static void nfc_hce_queue_tm_locked(struct nfc_hce_dev *hdev, bool activated)
{
	struct nfc_hce_tm_event *ev;

	lockdep_assert_held(&hdev->lock);
	ev = kzalloc(sizeof(*ev), GFP_KERNEL);
	if (!ev) {
		hdev->stats.errors++;
		return;
	}
	ev->activated = activated;
	list_add_tail(&ev->list, &hdev->tm_events);
	queue_work(nfc_hce_wq, &hdev->tm_work);
}

/* ---- events to the owner (unicast only) ---- */

static void nfc_hce_owner_send_locked(struct nfc_hce_dev *hdev,
				      struct sk_buff *msg)
{
	int rc;

	lockdep_assert_held(&hdev->lock);
	rc = genlmsg_unicast(read_pnet(&hdev->owner_net), msg,
			     hdev->owner_portid);
	if (rc)
		hdev->stats.errors++;
}

static void nfc_hce_event_session_locked(struct nfc_hce_dev *hdev, u8 cmd,
					 u32 session, u32 reason, u32 fsd,
					 const u8 *uid, u8 uid_len)
{
	struct sk_buff *msg;
	void *hdr;

	if (!hdev->bound)
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out_err;
	hdr = genlmsg_put(msg, 0, 0, &nfc_hce_genl_family, 0, cmd);
	if (!hdr)
		goto out_free;
	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, hdev->idx) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SESSION_ID, session))
		goto out_free;
	if (cmd == NFC_HCE_CMD_SESSION_END &&
	    nla_put_u32(msg, NFC_HCE_ATTR_REASON, reason))
		goto out_free;
	if (cmd == NFC_HCE_CMD_SESSION_START &&
	    (nla_put(msg, NFC_HCE_ATTR_UID, uid_len, uid) ||
	     nla_put_u32(msg, NFC_HCE_ATTR_FSD, fsd)))
		goto out_free;
	genlmsg_end(msg, hdr);
	nfc_hce_owner_send_locked(hdev, msg);
	return;

out_free:
	nlmsg_free(msg);
out_err:
	hdev->stats.errors++;
}

/* ---- sessions ---- */

static void nfc_hce_session_release(struct kref *ref)
{
	struct nfc_hce_session *sess =
		container_of(ref, struct nfc_hce_session, ref);

	nfc_hce_dev_put(sess->hdev);
	kfree(sess);
}

static void nfc_hce_session_put(struct nfc_hce_session *sess)
{
	kref_put(&sess->ref, nfc_hce_session_release);
}

/* Queues the deadline work to run @delay jiffies from now (at least 1) */
static void nfc_hce_queue_deadline_locked(struct nfc_hce_session *sess,
					  unsigned long delay)
{
	kref_get(&sess->ref);
	if (!queue_delayed_work(nfc_hce_wq, &sess->deadline, max(delay, 1UL)))
		kref_put(&sess->ref, nfc_hce_session_release);
}

/*
 * Starts one FWT for the outstanding C-APDU. A deadline work of an earlier
 * C-APDU may still be running (waiting for hdev->lock) or pending with an
 * earlier expiry: it compares jiffies with @due and only re-queues itself.
 */
static void nfc_hce_arm_deadline_locked(struct nfc_hce_session *sess)
{
	unsigned long delay = usecs_to_jiffies(nfc_hce_fwt_us(sess->fwi));

	sess->due = jiffies + max(delay, 1UL);
	nfc_hce_queue_deadline_locked(sess, delay);
}

static void nfc_hce_disarm_deadline_locked(struct nfc_hce_session *sess)
{
	if (cancel_delayed_work(&sess->deadline))
		kref_put(&sess->ref, nfc_hce_session_release);
}

/*
 * Ends the current session: the owner gets SESSION_END with @reason, the NFC
 * core TM_DEACTIVATED; when @reader_err is not 0 and a C-APDU is outstanding,
 * the controller fails the reader's exchange with it.
 */
static void nfc_hce_end_session_locked(struct nfc_hce_dev *hdev,
				       enum nfc_hce_reason reason,
				       int reader_err)
{
	struct nfc_hce_session *sess = hdev->sess;

	lockdep_assert_held(&hdev->lock);
	if (!sess)
		return;
	hdev->sess = NULL;
	if (sess->pending && reader_err && !hdev->dead)
		hdev->ops->fail(hdev, sess->id, reader_err);
	sess->pending = false;
	nfc_hce_disarm_deadline_locked(sess);
	nfc_hce_event_session_locked(hdev, NFC_HCE_CMD_SESSION_END, sess->id,
				     reason, 0, NULL, 0);
	nfc_hce_queue_tm_locked(hdev, false);
	nfc_hce_session_put(sess);
}

static void nfc_hce_deadline_work(struct work_struct *work)
{
	struct nfc_hce_session *sess =
		container_of(to_delayed_work(work), struct nfc_hce_session,
			     deadline);
	struct nfc_hce_dev *hdev = sess->hdev;

	mutex_lock(&hdev->lock);
	if (hdev->sess != sess || !sess->pending || hdev->dead)
		goto out_unlock;
	/*
	 * Armed for an earlier C-APDU (answered while this work waited for the
	 * lock) or for an earlier FWT: the current one is not over yet.
	 */
	if (time_before(jiffies, sess->due)) {
		nfc_hce_queue_deadline_locked(sess, sess->due - jiffies);
		goto out_unlock;
	}
	if (sess->wtx_count < sess->wtx_max) {
		sess->wtx_count++;
		hdev->stats.wtx++;
		hdev->ops->wtx(hdev, sess->id);
		nfc_hce_arm_deadline_locked(sess);
		goto out_unlock;
	}
	hdev->stats.deadline_expiries++;
	nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_DEADLINE, -ETIMEDOUT);
out_unlock:
	mutex_unlock(&hdev->lock);
	nfc_hce_session_put(sess);
}

/**
 * nfc_hce_activated() - the reader activated ISO-DEP (RATS answered)
 * @hdev: card device
 * @uid: UID the reader saw
 * @uid_len: its length
 * @fsd: reader frame size in bytes
 * @session: set to the new session id
 *
 * Opens a session, tells the owner and raises NFC_EVENT_TM_ACTIVATED. Call
 * in process context with no controller lock the core's ops take.
 *
 * Return: 0 or -ENODEV (device gone), -ENOMEM.
 */
int nfc_hce_activated(struct nfc_hce_dev *hdev, const u8 *uid, u8 uid_len,
		      u32 fsd, u32 *session)
{
	struct nfc_hce_session *sess;
	int rc = 0;

	sess = kzalloc(sizeof(*sess), GFP_KERNEL);
	if (!sess)
		return -ENOMEM;
	kref_init(&sess->ref);
	INIT_DELAYED_WORK(&sess->deadline, nfc_hce_deadline_work);
	nfc_hce_dev_get(hdev);
	sess->hdev = hdev;

	mutex_lock(&hdev->lock);
	if (hdev->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_DESELECTED, -ECONNRESET);
	if (++hdev->next_session == 0)
		hdev->next_session = 1;
	sess->id = hdev->next_session;
	/* SET_LISTEN takes effect at the next listen period, not in this one */
	sess->fwi = hdev->listen_cfg.fwi;
	sess->wtx_max = hdev->listen_cfg.wtx_max;
	hdev->sess = sess;
	hdev->listening = false;
	hdev->stats.activations++;
	*session = sess->id;
	nfc_hce_queue_tm_locked(hdev, true);
	nfc_hce_event_session_locked(hdev, NFC_HCE_CMD_SESSION_START, sess->id,
				     0, fsd, uid, min_t(u8, uid_len, NFC_HCE_UID_MAXSIZE));
	sess = NULL;
out_unlock:
	mutex_unlock(&hdev->lock);
	if (sess)
		nfc_hce_session_put(sess);
	return rc;
}
EXPORT_SYMBOL_GPL(nfc_hce_activated);

/**
 * nfc_hce_capdu() - a complete C-APDU arrived from the reader
 * @hdev: card device
 * @session: session the controller activated
 * @apdu: the C-APDU
 * @len: its length
 *
 * Sends the C-APDU to the owner and arms the response deadline. On success
 * the controller later gets exactly one of ops->respond or ops->fail for it.
 *
 * Return: 0, or an errno the controller reports to the reader: -ENODEV,
 * -ECONNRESET (session over), -EBUSY (one already outstanding), -EMSGSIZE,
 * -ECONNREFUSED (no owner or owner unreachable), -ENOMEM.
 */
int nfc_hce_capdu(struct nfc_hce_dev *hdev, u32 session, const u8 *apdu,
		  size_t len)
{
	struct nfc_hce_session *sess;
	struct sk_buff *msg;
	void *hdr;
	int rc;

	if (len > NFC_HCE_APDU_MAX)
		return -EMSGSIZE;
	msg = genlmsg_new(nla_total_size(len) + 3 * nla_total_size(4),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&hdev->lock);
	sess = hdev->sess;
	if (hdev->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if (!sess || sess->id != session) {
		rc = -ECONNRESET;
		goto out_unlock;
	}
	if (sess->pending) {
		rc = -EBUSY;
		goto out_unlock;
	}
	hdev->stats.capdus++;
	hdev->stats.capdu_bytes += len;
	if (!hdev->bound) {
		hdev->stats.no_owner++;
		rc = -ECONNREFUSED;
		goto out_unlock;
	}
	rc = -EMSGSIZE;
	hdr = genlmsg_put(msg, 0, 0, &nfc_hce_genl_family, 0, NFC_HCE_CMD_APDU);
	if (!hdr)
		goto out_unlock;
	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, hdev->idx) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SESSION_ID, sess->id) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SEQ, sess->seq + 1) ||
	    nla_put(msg, NFC_HCE_ATTR_APDU, len, apdu))
		goto out_unlock;
	genlmsg_end(msg, hdr);
	rc = genlmsg_unicast(read_pnet(&hdev->owner_net), msg,
			     hdev->owner_portid);
	msg = NULL;
	if (rc) {
		hdev->stats.errors++;
		rc = -ECONNREFUSED;
		goto out_unlock;
	}
	sess->seq++;
	sess->pending = true;
	sess->wtx_count = 0;
	nfc_hce_arm_deadline_locked(sess);
out_unlock:
	mutex_unlock(&hdev->lock);
	nlmsg_free(msg);
	return rc;
}
EXPORT_SYMBOL_GPL(nfc_hce_capdu);

/**
 * nfc_hce_deactivated() - the link of a session ended on the controller side
 * @hdev: card device
 * @session: the session
 * @reason: why (deselected, field lost, link error)
 *
 * The controller has already dealt with the reader side. A response the owner
 * sends later gets -ESTALE.
 */
void nfc_hce_deactivated(struct nfc_hce_dev *hdev, u32 session,
			 enum nfc_hce_reason reason)
{
	mutex_lock(&hdev->lock);
	if (hdev->sess && hdev->sess->id == session) {
		if (reason == NFC_HCE_REASON_FIELD_LOST)
			hdev->stats.field_losses++;
		else if (reason == NFC_HCE_REASON_LINK_ERROR)
			hdev->stats.errors++;
		nfc_hce_end_session_locked(hdev, reason, 0);
	}
	mutex_unlock(&hdev->lock);
}
EXPORT_SYMBOL_GPL(nfc_hce_deactivated);

/**
 * nfc_hce_count_frames() - account link frames of a card device
 * @hdev: card device
 * @frames: frames sent on air
 * @retrans: of which retransmissions
 */
void nfc_hce_count_frames(struct nfc_hce_dev *hdev, u32 frames, u32 retrans)
{
	mutex_lock(&hdev->lock);
	hdev->stats.frames += frames;
	hdev->stats.retransmissions += retrans;
	mutex_unlock(&hdev->lock);
}
EXPORT_SYMBOL_GPL(nfc_hce_count_frames);

/* ---- the card's nfc device (called with its device_lock held) ---- */

static int nfc_hce_nfc_dev_up(struct nfc_dev *ndev)
{
	return 0;
}

static void nfc_hce_stop_listen_locked(struct nfc_hce_dev *hdev)
{
	if (hdev->listening && !hdev->dead)
		hdev->ops->stop_listen(hdev);
	hdev->listening = false;
}

static int nfc_hce_nfc_dev_down(struct nfc_dev *ndev)
{
	struct nfc_hce_dev *hdev = nfc_get_drvdata(ndev);

	mutex_lock(&hdev->lock);
	nfc_hce_stop_listen_locked(hdev);
	nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_DEV_DOWN, -ECONNRESET);
	mutex_unlock(&hdev->lock);
	return 0;
}

static int nfc_hce_nfc_start_poll(struct nfc_dev *ndev, u32 im_protocols,
				  u32 tm_protocols)
{
	struct nfc_hce_dev *hdev = nfc_get_drvdata(ndev);
	int rc;

	if (im_protocols || !(tm_protocols & NFC_PROTO_ISO14443_MASK))
		return -EOPNOTSUPP;

	mutex_lock(&hdev->lock);
	if (hdev->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if (hdev->sess) {
		rc = -EBUSY;
		goto out_unlock;
	}
	if (hdev->cfg.uid_random) {
		hdev->cfg.uid_len = 4;
		hdev->cfg.uid[0] = 0x08;
		get_random_bytes(&hdev->cfg.uid[1], 3);
	}
	rc = hdev->ops->listen(hdev, &hdev->cfg);
	if (!rc) {
		hdev->listening = true;
		hdev->listen_cfg = hdev->cfg;
	}
out_unlock:
	mutex_unlock(&hdev->lock);
	return rc;
}

static void nfc_hce_nfc_stop_poll(struct nfc_dev *ndev)
{
	struct nfc_hce_dev *hdev = nfc_get_drvdata(ndev);

	mutex_lock(&hdev->lock);
	nfc_hce_stop_listen_locked(hdev);
	mutex_unlock(&hdev->lock);
}

static int nfc_hce_nfc_activate_target(struct nfc_dev *ndev,
				       struct nfc_target *target, u32 protocol)
{
	return -EOPNOTSUPP;
}

static void nfc_hce_nfc_deactivate_target(struct nfc_dev *ndev,
					  struct nfc_target *target, u8 mode)
{
}

static int nfc_hce_nfc_im_transceive(struct nfc_dev *ndev,
				     struct nfc_target *target,
				     struct sk_buff *skb, data_exchange_cb_t cb,
				     void *cb_context)
{
	kfree_skb(skb);
	return -EOPNOTSUPP;
}

static const struct nfc_ops nfc_hce_nfc_ops = {
	.dev_up = nfc_hce_nfc_dev_up,
	.dev_down = nfc_hce_nfc_dev_down,
	.start_poll = nfc_hce_nfc_start_poll,
	.stop_poll = nfc_hce_nfc_stop_poll,
	.activate_target = nfc_hce_nfc_activate_target,
	.deactivate_target = nfc_hce_nfc_deactivate_target,
	.im_transceive = nfc_hce_nfc_im_transceive,
};

/**
 * nfc_hce_register() - register a card endpoint of a controller
 * @ops: controller operations (static const)
 * @priv: controller data, see nfc_hce_priv()
 * @parent: parent device or NULL
 *
 * Creates and registers the card's nfcN device. The caller owns one
 * reference: nfc_hce_unregister() then nfc_hce_dev_put().
 *
 * Return: the card device or an ERR_PTR().
 */
struct nfc_hce_dev *nfc_hce_register(const struct nfc_hce_ops *ops,
				     void *priv, struct device *parent)
{
	struct nfc_hce_dev *hdev;
	int rc;

	hdev = kzalloc(sizeof(*hdev), GFP_KERNEL);
	if (!hdev)
		return ERR_PTR(-ENOMEM);
	kref_init(&hdev->ref);
	mutex_init(&hdev->lock);
	INIT_LIST_HEAD(&hdev->tm_events);
	INIT_WORK(&hdev->tm_work, nfc_hce_tm_work);
	hdev->ops = ops;
	hdev->priv = priv;
	hdev->cfg.uid_len = 4;
	hdev->cfg.uid[0] = 0x04;
	hdev->cfg.uid[1] = 0x48;
	hdev->cfg.uid[2] = 0x43;
	hdev->cfg.uid[3] = 0x45;
	hdev->cfg.fsci = 8;
	hdev->cfg.fwi = min_t(unsigned int, default_fwi, NFC_HCE_FWI_MAX);
	hdev->cfg.wtx_max = min_t(unsigned int, default_wtx_max, NFC_HCE_WTX_MAX);
	hdev->listen_cfg = hdev->cfg;

	hdev->ndev = nfc_allocate_device(&nfc_hce_nfc_ops, NFC_PROTO_ISO14443_MASK,
					 0, 0);
	if (!hdev->ndev) {
		rc = -ENOMEM;
		goto out_free_hdev;
	}
	hdev->idx = hdev->ndev->idx;
	nfc_set_drvdata(hdev->ndev, hdev);
	if (parent)
		nfc_set_parent_dev(hdev->ndev, parent);
	rc = nfc_register_device(hdev->ndev);
	if (rc)
		goto out_free_ndev;

	nfc_hce_dev_get(hdev);	/* for the device list */
	mutex_lock(&nfc_hce_devs_lock);
	list_add_tail(&hdev->list, &nfc_hce_devs);
	mutex_unlock(&nfc_hce_devs_lock);
	return hdev;

out_free_ndev:
	nfc_free_device(hdev->ndev);
out_free_hdev:
	mutex_destroy(&hdev->lock);
	kfree(hdev);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL_GPL(nfc_hce_register);

/**
 * nfc_hce_unregister() - unregister a card device
 * @hdev: card device
 *
 * Ends the session (the reader's outstanding exchange fails with -ENODEV),
 * unregisters the nfc device and waits until the core no longer calls the
 * controller's ops for @hdev. Netlink requests on it get -ENODEV from now on.
 */
void nfc_hce_unregister(struct nfc_hce_dev *hdev)
{
	mutex_lock(&nfc_hce_devs_lock);
	list_del(&hdev->list);
	mutex_unlock(&nfc_hce_devs_lock);

	mutex_lock(&hdev->lock);
	nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_REMOVED, -ENODEV);
	nfc_hce_stop_listen_locked(hdev);
	hdev->dead = true;
	mutex_unlock(&hdev->lock);

	cancel_work_sync(&hdev->tm_work);
	nfc_unregister_device(hdev->ndev);
	nfc_hce_dev_put(hdev);	/* the device list's reference */
}
EXPORT_SYMBOL_GPL(nfc_hce_unregister);

/**
 * nfc_hce_register_vpair_ops() - plug in run-time pair management
 * @ops: the virtual controller's pair operations
 *
 * Return: 0, or -EBUSY if another controller registered them.
 */
int nfc_hce_register_vpair_ops(const struct nfc_hce_vpair_ops *ops)
{
	int rc = 0;

	mutex_lock(&nfc_hce_vpair_lock);
	if (nfc_hce_vpair)
		rc = -EBUSY;
	else
		nfc_hce_vpair = ops;
	mutex_unlock(&nfc_hce_vpair_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(nfc_hce_register_vpair_ops);

/**
 * nfc_hce_unregister_vpair_ops() - unplug run-time pair management
 * @ops: the ops given to nfc_hce_register_vpair_ops()
 *
 * Waits for a create or destroy in flight.
 */
void nfc_hce_unregister_vpair_ops(const struct nfc_hce_vpair_ops *ops)
{
	mutex_lock(&nfc_hce_vpair_lock);
	if (nfc_hce_vpair == ops)
		nfc_hce_vpair = NULL;
	mutex_unlock(&nfc_hce_vpair_lock);
}
EXPORT_SYMBOL_GPL(nfc_hce_unregister_vpair_ops);

/* ---- generic netlink ---- */

static bool nfc_hce_is_owner_locked(struct nfc_hce_dev *hdev,
				    struct genl_info *info)
{
	return hdev->bound && hdev->owner_portid == info->snd_portid &&
	       net_eq(read_pnet(&hdev->owner_net), genl_info_net(info));
}

/* Takes the device named by NFC_HCE_ATTR_DEVICE_INDEX; NULL sets the errno */
static struct nfc_hce_dev *nfc_hce_genl_dev(struct genl_info *info, int *rc)
{
	struct nfc_hce_dev *hdev;

	if (!info->attrs[NFC_HCE_ATTR_DEVICE_INDEX]) {
		GENL_SET_ERR_MSG(info, "missing device index");
		*rc = -EINVAL;
		return NULL;
	}
	hdev = nfc_hce_dev_find(nla_get_u32(info->attrs[NFC_HCE_ATTR_DEVICE_INDEX]));
	if (!hdev) {
		GENL_SET_ERR_MSG(info, "no such card device");
		*rc = -ENODEV;
	}
	return hdev;
}

static int nfc_hce_fill_stats(struct sk_buff *msg, const struct nfc_hce_stats *s)
{
	const struct {
		int type;
		u64 val;
	} v[] = {
		{ NFC_HCE_STATS_ACTIVATIONS, s->activations },
		{ NFC_HCE_STATS_CAPDUS, s->capdus },
		{ NFC_HCE_STATS_RAPDUS, s->rapdus },
		{ NFC_HCE_STATS_CAPDU_BYTES, s->capdu_bytes },
		{ NFC_HCE_STATS_RAPDU_BYTES, s->rapdu_bytes },
		{ NFC_HCE_STATS_DEADLINE_EXPIRIES, s->deadline_expiries },
		{ NFC_HCE_STATS_STALE_RESPONSES, s->stale_responses },
		{ NFC_HCE_STATS_WTX, s->wtx },
		{ NFC_HCE_STATS_FIELD_LOSSES, s->field_losses },
		{ NFC_HCE_STATS_NO_OWNER, s->no_owner },
		{ NFC_HCE_STATS_ERRORS, s->errors },
		{ NFC_HCE_STATS_FRAMES, s->frames },
		{ NFC_HCE_STATS_RETRANSMISSIONS, s->retransmissions },
	};
	struct nlattr *nest = nla_nest_start(msg, NFC_HCE_ATTR_STATS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		if (nla_put_u64_64bit(msg, v[i].type, v[i].val, NFC_HCE_STATS_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* Fills a GET_DEVICE or GET_STATS reply for @hdev */
static int nfc_hce_fill_dev(struct sk_buff *msg, struct nfc_hce_dev *hdev,
			    u32 portid, u32 seq, int flags, u8 cmd)
{
	struct nfc_hce_link link = {};
	const struct nfc_hce_listen *cfg = &hdev->cfg;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &nfc_hce_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;

	mutex_lock(&hdev->lock);
	if (nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, hdev->idx))
		goto out_cancel;
	if (cmd == NFC_HCE_CMD_GET_STATS) {
		if (nfc_hce_fill_stats(msg, &hdev->stats))
			goto out_cancel;
		goto out_end;
	}
	if (nla_put_u8(msg, NFC_HCE_ATTR_BOUND, hdev->bound) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_LISTENING, hdev->listening) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_SESSION_ID, hdev->sess ? hdev->sess->id : 0) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_UID_RANDOM, cfg->uid_random) ||
	    (!cfg->uid_random && nla_put(msg, NFC_HCE_ATTR_UID, cfg->uid_len, cfg->uid)) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_FSCI, cfg->fsci) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_FWI, cfg->fwi) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_SFGI, cfg->sfgi) ||
	    nla_put(msg, NFC_HCE_ATTR_HIST_BYTES, cfg->hist_len, cfg->hist) ||
	    nla_put_u8(msg, NFC_HCE_ATTR_WTX_MAX, cfg->wtx_max) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_DEADLINE_US, nfc_hce_deadline_us(cfg)))
		goto out_cancel;
	if (hdev->ops->get_link && !hdev->dead) {
		hdev->ops->get_link(hdev, &link);
		if (nla_put_u32(msg, NFC_HCE_ATTR_READER_INDEX, link.reader_idx) ||
		    nla_put_u32(msg, NFC_HCE_ATTR_BITRATE, link.bitrate) ||
		    nla_put_u32(msg, NFC_HCE_ATTR_FIELD_LOSS_AFTER, link.field_loss_after) ||
		    nla_put_u32(msg, NFC_HCE_ATTR_DROP_EVERY, link.drop_every) ||
		    nla_put_u8(msg, NFC_HCE_ATTR_READER_FSDI, link.reader_fsdi))
			goto out_cancel;
	}
out_end:
	mutex_unlock(&hdev->lock);
	genlmsg_end(msg, hdr);
	return 0;

out_cancel:
	mutex_unlock(&hdev->lock);
	genlmsg_cancel(msg, hdr);
	return -EMSGSIZE;
}

static int nfc_hce_genl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nfc_hce_dev *hdev;
	struct sk_buff *msg;
	int rc;

	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;
	msg = nlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		rc = -ENOMEM;
		goto out_putdev;
	}
	rc = nfc_hce_fill_dev(msg, hdev, info->snd_portid, info->snd_seq, 0,
			      info->genlhdr->cmd);
	if (rc) {
		nlmsg_free(msg);
		goto out_putdev;
	}
	rc = genlmsg_reply(msg, info);
out_putdev:
	nfc_hce_dev_put(hdev);
	return rc;
}

static int nfc_hce_genl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nfc_hce_dev *hdev;
	long pos = 0, start = cb->args[0];
	int rc = 0;

	mutex_lock(&nfc_hce_devs_lock);
	list_for_each_entry(hdev, &nfc_hce_devs, list) {
		if (pos++ < start)
			continue;
		rc = nfc_hce_fill_dev(skb, hdev, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      info->op.cmd);
		if (rc) {
			pos--;
			break;
		}
	}
	mutex_unlock(&nfc_hce_devs_lock);
	cb->args[0] = pos;
	return rc && pos == start ? rc : skb->len;
}

static int nfc_hce_genl_bind(struct sk_buff *skb, struct genl_info *info)
{
	struct nfc_hce_dev *hdev;
	int rc = 0;

	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;
	mutex_lock(&hdev->lock);
	if (hdev->dead) {
		rc = -ENODEV;
	} else if (nfc_hce_is_owner_locked(hdev, info)) {
		rc = 0;
	} else if (hdev->bound) {
		GENL_SET_ERR_MSG(info, "card device has an owner");
		rc = -EBUSY;
	} else {
		hdev->bound = true;
		hdev->owner_portid = info->snd_portid;
		write_pnet(&hdev->owner_net, genl_info_net(info));
	}
	mutex_unlock(&hdev->lock);
	nfc_hce_dev_put(hdev);
	return rc;
}

/* @notify: the owner's socket is still there to get SESSION_END */
static void nfc_hce_unbind_locked(struct nfc_hce_dev *hdev, bool notify)
{
	if (!notify)
		hdev->bound = false;
	nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_UNBOUND, -ECONNRESET);
	hdev->bound = false;
	hdev->owner_portid = 0;
}

static int nfc_hce_genl_unbind(struct sk_buff *skb, struct genl_info *info)
{
	struct nfc_hce_dev *hdev;
	int rc = 0;

	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;
	mutex_lock(&hdev->lock);
	if (hdev->dead)
		rc = -ENODEV;
	else if (!nfc_hce_is_owner_locked(hdev, info))
		rc = -EPERM;
	else
		nfc_hce_unbind_locked(hdev, true);
	mutex_unlock(&hdev->lock);
	nfc_hce_dev_put(hdev);
	return rc;
}

static int nfc_hce_parse_listen(struct genl_info *info, struct nfc_hce_listen *cfg)
{
	struct nlattr **a = info->attrs;

	if (a[NFC_HCE_ATTR_UID] && a[NFC_HCE_ATTR_UID_RANDOM] &&
	    nla_get_u8(a[NFC_HCE_ATTR_UID_RANDOM])) {
		GENL_SET_ERR_MSG(info, "UID and UID_RANDOM exclude each other");
		return -EINVAL;
	}
	if (a[NFC_HCE_ATTR_UID_RANDOM]) {
		if (nla_get_u8(a[NFC_HCE_ATTR_UID_RANDOM]) > 1)
			return -EINVAL;
		cfg->uid_random = nla_get_u8(a[NFC_HCE_ATTR_UID_RANDOM]);
	}
	if (a[NFC_HCE_ATTR_UID]) {
		int len = nla_len(a[NFC_HCE_ATTR_UID]);
		const u8 *uid = nla_data(a[NFC_HCE_ATTR_UID]);

		/* 0x88 is the cascade tag: not a valid first UID byte */
		if ((len != 4 && len != 7 && len != 10) || uid[0] == 0x88 ||
		    (len == 10 && uid[3] == 0x88)) {
			GENL_SET_ERR_MSG(info, "UID must be 4, 7 or 10 bytes, no cascade tag");
			return -EINVAL;
		}
		memcpy(cfg->uid, uid, len);
		cfg->uid_len = len;
		cfg->uid_random = false;
	}
	if (a[NFC_HCE_ATTR_FSCI])
		cfg->fsci = nla_get_u8(a[NFC_HCE_ATTR_FSCI]);
	if (a[NFC_HCE_ATTR_FWI])
		cfg->fwi = nla_get_u8(a[NFC_HCE_ATTR_FWI]);
	if (a[NFC_HCE_ATTR_SFGI])
		cfg->sfgi = nla_get_u8(a[NFC_HCE_ATTR_SFGI]);
	if (a[NFC_HCE_ATTR_WTX_MAX])
		cfg->wtx_max = nla_get_u8(a[NFC_HCE_ATTR_WTX_MAX]);
	if (a[NFC_HCE_ATTR_HIST_BYTES]) {
		cfg->hist_len = nla_len(a[NFC_HCE_ATTR_HIST_BYTES]);
		memcpy(cfg->hist, nla_data(a[NFC_HCE_ATTR_HIST_BYTES]),
		       cfg->hist_len);
	}
	return 0;
}

static int nfc_hce_genl_set_listen(struct sk_buff *skb, struct genl_info *info)
{
	struct nfc_hce_listen cfg;
	struct nfc_hce_dev *hdev;
	int rc = 0;

	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;
	mutex_lock(&hdev->lock);
	if (hdev->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	cfg = hdev->cfg;
	rc = nfc_hce_parse_listen(info, &cfg);
	if (!rc)
		hdev->cfg = cfg;
out_unlock:
	mutex_unlock(&hdev->lock);
	nfc_hce_dev_put(hdev);
	return rc;
}

static int nfc_hce_genl_response(struct sk_buff *skb, struct genl_info *info)
{
	struct nfc_hce_session *sess;
	struct nfc_hce_dev *hdev;
	struct nlattr **a = info->attrs;
	u32 session, seq, len;
	int rc = 0;

	if (!a[NFC_HCE_ATTR_SESSION_ID] || !a[NFC_HCE_ATTR_SEQ] ||
	    !a[NFC_HCE_ATTR_APDU]) {
		GENL_SET_ERR_MSG(info, "session, seq and APDU required");
		return -EINVAL;
	}
	len = nla_len(a[NFC_HCE_ATTR_APDU]);
	if (len < 2) {
		GENL_SET_ERR_MSG(info, "R-APDU shorter than SW1 SW2");
		return -EINVAL;
	}
	session = nla_get_u32(a[NFC_HCE_ATTR_SESSION_ID]);
	seq = nla_get_u32(a[NFC_HCE_ATTR_SEQ]);
	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;

	mutex_lock(&hdev->lock);
	sess = hdev->sess;
	if (hdev->dead) {
		rc = -ENODEV;
		goto out_unlock;
	}
	if (!nfc_hce_is_owner_locked(hdev, info)) {
		rc = -EPERM;
		goto out_unlock;
	}
	if (!sess || sess->id != session || !sess->pending || sess->seq != seq) {
		hdev->stats.stale_responses++;
		GENL_SET_ERR_MSG(info, "no such outstanding C-APDU");
		rc = -ESTALE;
		goto out_unlock;
	}
	sess->pending = false;
	nfc_hce_disarm_deadline_locked(sess);
	rc = hdev->ops->respond(hdev, sess->id, nla_data(a[NFC_HCE_ATTR_APDU]),
				len);
	if (rc == -ESTALE) {
		/* the link just went down; its deactivation is on the way */
		hdev->stats.stale_responses++;
		goto out_unlock;
	}
	if (rc) {
		hdev->stats.errors++;
		nfc_hce_end_session_locked(hdev, NFC_HCE_REASON_LINK_ERROR, 0);
		goto out_unlock;
	}
	hdev->stats.rapdus++;
	hdev->stats.rapdu_bytes += len;
out_unlock:
	mutex_unlock(&hdev->lock);
	nfc_hce_dev_put(hdev);
	return rc;
}

static int nfc_hce_genl_vpair_create(struct sk_buff *skb, struct genl_info *info)
{
	u32 card_idx = 0, reader_idx = 0;
	struct sk_buff *msg;
	void *hdr;
	int rc;

	msg = nlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&nfc_hce_vpair_lock);
	rc = nfc_hce_vpair ? nfc_hce_vpair->create(&card_idx, &reader_idx) :
			     -EOPNOTSUPP;
	mutex_unlock(&nfc_hce_vpair_lock);
	if (rc)
		goto out_free;
	rc = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &nfc_hce_genl_family, 0,
				NFC_HCE_CMD_VPAIR_CREATE);
	if (!hdr ||
	    nla_put_u32(msg, NFC_HCE_ATTR_DEVICE_INDEX, card_idx) ||
	    nla_put_u32(msg, NFC_HCE_ATTR_READER_INDEX, reader_idx))
		goto out_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
	return rc;
}

static int nfc_hce_genl_vpair_destroy(struct sk_buff *skb, struct genl_info *info)
{
	int rc;

	if (!info->attrs[NFC_HCE_ATTR_DEVICE_INDEX])
		return -EINVAL;
	mutex_lock(&nfc_hce_vpair_lock);
	rc = nfc_hce_vpair ?
	     nfc_hce_vpair->destroy(nla_get_u32(info->attrs[NFC_HCE_ATTR_DEVICE_INDEX])) :
	     -EOPNOTSUPP;
	mutex_unlock(&nfc_hce_vpair_lock);
	return rc;
}

static int nfc_hce_genl_vpair_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct nfc_hce_link link = {};
	struct nfc_hce_dev *hdev;
	int rc = 0;

	if (a[NFC_HCE_ATTR_BITRATE]) {
		link.bitrate = nla_get_u32(a[NFC_HCE_ATTR_BITRATE]);
		if (link.bitrate != 0 && link.bitrate != 106 && link.bitrate != 212 &&
		    link.bitrate != 424 && link.bitrate != 848) {
			GENL_SET_ERR_MSG(info, "bit rate must be 0, 106, 212, 424 or 848");
			return -EINVAL;
		}
		link.set_mask |= NFC_HCE_LINK_BITRATE;
	}
	if (a[NFC_HCE_ATTR_FIELD_LOSS_AFTER]) {
		link.field_loss_after = nla_get_u32(a[NFC_HCE_ATTR_FIELD_LOSS_AFTER]);
		link.set_mask |= NFC_HCE_LINK_FIELD_LOSS;
	}
	if (a[NFC_HCE_ATTR_DROP_EVERY]) {
		link.drop_every = nla_get_u32(a[NFC_HCE_ATTR_DROP_EVERY]);
		link.set_mask |= NFC_HCE_LINK_DROP;
	}
	if (a[NFC_HCE_ATTR_READER_FSDI]) {
		link.reader_fsdi = nla_get_u8(a[NFC_HCE_ATTR_READER_FSDI]);
		link.set_mask |= NFC_HCE_LINK_FSDI;
	}
	hdev = nfc_hce_genl_dev(info, &rc);
	if (!hdev)
		return rc;
	mutex_lock(&hdev->lock);
	if (hdev->dead)
		rc = -ENODEV;
	else if (!hdev->ops->set_link)
		rc = -EOPNOTSUPP;
	else
		rc = hdev->ops->set_link(hdev, &link);
	mutex_unlock(&hdev->lock);
	nfc_hce_dev_put(hdev);
	return rc;
}

static const struct nla_policy nfc_hce_genl_policy[NFC_HCE_ATTR_MAX + 1] = {
	[NFC_HCE_ATTR_DEVICE_INDEX] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_READER_INDEX] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_SESSION_ID] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_SEQ] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_APDU] = { .type = NLA_BINARY, .len = NFC_HCE_APDU_MAX },
	[NFC_HCE_ATTR_REASON] = NLA_POLICY_MAX(NLA_U32, NFC_HCE_REASON_MAX),
	[NFC_HCE_ATTR_UID] = { .type = NLA_BINARY, .len = NFC_HCE_UID_MAXSIZE },
	[NFC_HCE_ATTR_UID_RANDOM] = NLA_POLICY_MAX(NLA_U8, 1),
	[NFC_HCE_ATTR_FSCI] = NLA_POLICY_MAX(NLA_U8, NFC_HCE_FSCI_MAX),
	[NFC_HCE_ATTR_FWI] = NLA_POLICY_MAX(NLA_U8, NFC_HCE_FWI_MAX),
	[NFC_HCE_ATTR_SFGI] = NLA_POLICY_MAX(NLA_U8, NFC_HCE_SFGI_MAX),
	[NFC_HCE_ATTR_HIST_BYTES] = { .type = NLA_BINARY, .len = NFC_HCE_HIST_MAXSIZE },
	[NFC_HCE_ATTR_WTX_MAX] = NLA_POLICY_MAX(NLA_U8, NFC_HCE_WTX_MAX),
	[NFC_HCE_ATTR_DEADLINE_US] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_BOUND] = NLA_POLICY_MAX(NLA_U8, 1),
	[NFC_HCE_ATTR_LISTENING] = NLA_POLICY_MAX(NLA_U8, 1),
	[NFC_HCE_ATTR_FSD] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_STATS] = { .type = NLA_REJECT },
	[NFC_HCE_ATTR_BITRATE] = NLA_POLICY_MAX(NLA_U32, 848),
	[NFC_HCE_ATTR_FIELD_LOSS_AFTER] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_DROP_EVERY] = { .type = NLA_U32 },
	[NFC_HCE_ATTR_READER_FSDI] = NLA_POLICY_MAX(NLA_U8, NFC_HCE_FSCI_MAX),
	[NFC_HCE_ATTR_PAD] = { .type = NLA_REJECT },
};

static const struct genl_small_ops nfc_hce_genl_ops[] = {
	{
		.cmd = NFC_HCE_CMD_GET_DEVICE,
		.doit = nfc_hce_genl_get,
		.dumpit = nfc_hce_genl_dump,
	},
	{
		.cmd = NFC_HCE_CMD_BIND,
		.doit = nfc_hce_genl_bind,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_UNBIND,
		.doit = nfc_hce_genl_unbind,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_SET_LISTEN,
		.doit = nfc_hce_genl_set_listen,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_RESPONSE,
		.doit = nfc_hce_genl_response,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_GET_STATS,
		.doit = nfc_hce_genl_get,
		.dumpit = nfc_hce_genl_dump,
	},
	{
		.cmd = NFC_HCE_CMD_VPAIR_CREATE,
		.doit = nfc_hce_genl_vpair_create,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_VPAIR_DESTROY,
		.doit = nfc_hce_genl_vpair_destroy,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_HCE_CMD_VPAIR_SET,
		.doit = nfc_hce_genl_vpair_set,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family nfc_hce_genl_family __ro_after_init = {
	.name = NFC_HCE_GENL_NAME,
	.version = NFC_HCE_GENL_VERSION,
	.maxattr = NFC_HCE_ATTR_MAX,
	.policy = nfc_hce_genl_policy,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.small_ops = nfc_hce_genl_ops,
	.n_small_ops = ARRAY_SIZE(nfc_hce_genl_ops),
	.resv_start_op = NFC_HCE_CMD_VPAIR_SET + 1,
};

/* The owner's socket closed: release its bindings */
static int nfc_hce_netlink_notify(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct nfc_hce_dev *hdev;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;

	mutex_lock(&nfc_hce_devs_lock);
	list_for_each_entry(hdev, &nfc_hce_devs, list) {
		mutex_lock(&hdev->lock);
		if (hdev->bound && hdev->owner_portid == n->portid &&
		    net_eq(read_pnet(&hdev->owner_net), n->net))
			nfc_hce_unbind_locked(hdev, false);
		mutex_unlock(&hdev->lock);
	}
	mutex_unlock(&nfc_hce_devs_lock);
	return NOTIFY_DONE;
}

static struct notifier_block nfc_hce_netlink_nb = {
	.notifier_call = nfc_hce_netlink_notify,
};

static int __init nfc_hce_init(void)
{
	int rc;

	nfc_hce_wq = alloc_workqueue("nfc_hce", 0, 0);
	if (!nfc_hce_wq)
		return -ENOMEM;
	rc = netlink_register_notifier(&nfc_hce_netlink_nb);
	if (rc)
		goto out_destroy_wq;
	rc = genl_register_family(&nfc_hce_genl_family);
	if (rc)
		goto out_unregister_notifier;
	pr_info("card emulation core loaded\n");
	return 0;

out_unregister_notifier:
	netlink_unregister_notifier(&nfc_hce_netlink_nb);
out_destroy_wq:
	destroy_workqueue(nfc_hce_wq);
	return rc;
}

static void __exit nfc_hce_exit(void)
{
	genl_unregister_family(&nfc_hce_genl_family);
	netlink_unregister_notifier(&nfc_hce_netlink_nb);
	destroy_workqueue(nfc_hce_wq);
}

module_init(nfc_hce_init);
module_exit(nfc_hce_exit);

MODULE_DESCRIPTION("NFC host card emulation core (ISO-DEP over netlink)");
MODULE_LICENSE("GPL");
