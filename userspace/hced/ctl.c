// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - hced's control socket (protocol: lib/ctl/ctl.h, Documentation/hced.md).
 *
 * A non-blocking Unix stream socket served from the event loop (loop.c) between APDUs.
 * Peer credentials are checked once, at accept: uid 0, or the configured group as the peer's
 * primary or supplementary group (SO_PEERCRED, SO_PEERGROUPS: the groups the peer had when it
 * connected, no NSS lookup in the daemon). Each client has a bounded request buffer and a
 * bounded output buffer; a client that sends an overlong line, does not read its answers or
 * stays idle for HCED_CTL_IDLE_MS is dropped. Request buffers are wiped after each request
 * (an unlock line holds a PIN) and PINs are never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "ctl/ctl.h"
#include "hced.h"
#include "log.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"

#define HCED_CTL_CLIENTS 8
#define HCED_CTL_OUT_MAX 8192
#define HCED_CTL_IDLE_MS 30000
#define HCED_CTL_GROUPS_MAX 256

struct hced_ctl_client {
	int fd;
	uid_t uid;
	pid_t pid;
	bool closing;		/* close once the output is flushed */
	bool overflow;
	size_t in_len;
	char in[HCE_CTL_REQ_MAX + 1];
	size_t out_len, out_off;
	char out[HCED_CTL_OUT_MAX];
	long long last;
};

static int listen_fd = -1;
static char sock_path[108];
static long allowed_gid = -1;
static struct hced_ctl_client clients[HCED_CTL_CLIENTS];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int hced_ctl_open(const char *path, long gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stb;
	mode_t old;
	int fd, rc;

	for (int i = 0; i < HCED_CTL_CLIENTS; i++)
		clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A stale socket of an earlier run is replaced; anything else is left alone. */
	if (!lstat(path, &stb)) {
		if (!S_ISSOCK(stb.st_mode))
			return -EEXIST;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (!rc)
			return -EADDRINUSE;	/* a live daemon answers there */
		unlink(path);
	}
	{
		/* /run/hced comes from systemd (RuntimeDirectory); by hand, make the last level. */
		char dir[sizeof(sa.sun_path)];
		char *slash;

		strcpy(dir, path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) && errno != EEXIST)
				return -errno;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117);	/* the socket is created 0660 */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || listen(fd, 8)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if ((gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid)) || chmod(path, 0660)) {
		rc = -errno;
		close(fd);
		unlink(path);
		return rc;
	}
	listen_fd = fd;
	allowed_gid = gid;
	strcpy(sock_path, path);
	return 0;
}

static void drop(struct hced_ctl_client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	hce_wipe(c->in, sizeof(c->in));
	c->fd = -1;
}

void hced_ctl_close(void)
{
	for (int i = 0; i < HCED_CTL_CLIENTS; i++)
		drop(&clients[i]);
	if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
		unlink(sock_path);
	}
}

void hced_ctl_printf(struct hced_ctl_client *c, const char *fmt, ...)
{
	size_t room = sizeof(c->out) - c->out_len;
	va_list ap;
	int n;

	if (c->overflow || room < 2) {
		c->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, room - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room - 1) {
		c->overflow = true;
		return;
	}
	c->out_len += (size_t)n;
	c->out[c->out_len++] = '\n';
}

/* Send what can be sent now; drop the client on error. */
static void flush(struct hced_ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			drop(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if (c->closing)
		drop(c);
}

static bool peer_allowed(int fd, struct ucred *cr)
{
	gid_t groups[HCED_CTL_GROUPS_MAX];
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len))
		return false;
	if (cr->uid == 0)
		return true;
	if (allowed_gid < 0)
		return false;
	if (cr->gid == (gid_t)allowed_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == (gid_t)allowed_gid)
			return true;
	return false;
}

static void accept_one(void)
{
	struct ucred cr;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	if (!peer_allowed(fd, &cr)) {
		char msg[160];
		int n = snprintf(msg, sizeof(msg), "ERR " HCE_CTL_ERR_DENIED
				 " uid %u is neither root nor in the control group%s\n",
				 (unsigned int)cr.uid, allowed_gid < 0 ? " (none configured)" : "");

		hced_warn("ctl: refused a client (pid %d, uid %u): not root or in the control group",
			  (int)cr.pid, (unsigned int)cr.uid);
		if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			hced_dbg("ctl: could not tell the refused client: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < HCED_CTL_CLIENTS; i++)
		if (clients[i].fd < 0)
			break;
	if (i == HCED_CTL_CLIENTS) {
		static const char busy[] = "ERR " HCE_CTL_ERR_BUSY " too many control clients\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			hced_dbg("ctl: could not tell a client we are busy");
		close(fd);
		return;
	}
	memset(&clients[i], 0, sizeof(clients[i]));
	clients[i].fd = fd;
	clients[i].uid = cr.uid;
	clients[i].pid = cr.pid;
	clients[i].last = now_ms();
	hced_dbg("ctl: client pid %d uid %u connected", (int)cr.pid, (unsigned int)cr.uid);
}

/* ---- commands */

static void ok(struct hced_ctl_client *c)
{
	hced_ctl_printf(c, "OK");
}

static void err(struct hced_ctl_client *c, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(struct hced_ctl_client *c, const char *reason, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	hced_ctl_printf(c, "ERR %s %s", reason, text);
}

static void hex(char *dst, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02X", b[i]);
	dst[2 * n] = '\0';
}

static void bcd_date(char *dst, const uint8_t *d)
{
	sprintf(dst, "%02X%02X-%02X-%02X", d[0], d[1], d[2], d[3]);
}

static void cmd_status(struct hced_ctl_client *c)
{
	struct hce_vault_info vi;
	struct hce_purse_state ps;

	hced_ctl_printf(c, "frontend %s", hced.frontend ? hced.frontend : "-");
	hced_ctl_printf(c, "device %s", hced.device[0] ? hced.device : "-");
	if (hced.conf.frontend == HCED_FE_NFC) {
		hced_ctl_printf(c, "bound %s", hced.bound ? "yes" : "no");
		hced_ctl_printf(c, "listening %s", hced.listening ? "yes" : "no");
		hced_ctl_printf(c, "session %u", hced.session);
	} else {
		hced_ctl_printf(c, "connected %s", hced.listening ? "yes" : "no");
	}
	hced_ctl_printf(c, "apps %s", hced.apps);
	if (hced_apps_current())
		hced_ctl_printf(c, "current-app %s", hced_apps_current());
	hced_ctl_printf(c, "in-session %s", hced.in_session ? "yes" : "no");
	hced_ctl_printf(c, "sessions %llu", (unsigned long long)hced.sessions);
	hced_ctl_printf(c, "capdus %llu", (unsigned long long)hced.capdus);
	hced_ctl_printf(c, "rapdus %llu", (unsigned long long)hced.rapdus);
	hced_ctl_printf(c, "dropped %llu", (unsigned long long)hced.dropped);
	hced_ctl_printf(c, "response-errors %llu", (unsigned long long)hced.resp_errors);
	hced_ctl_printf(c, "recoveries %llu", (unsigned long long)hced.recoveries);
	hced_ctl_printf(c, "keys %s", hce_vault_keys(hced.vault) ? "unlocked" : "locked");
	if (!hce_vault_info(hced.vault, &vi))
		hced_ctl_printf(c, "wrong-pins %u", vi.failures);
	if (!hce_store_state(hced.st, &ps)) {
		hced_ctl_printf(c, "mac-failures %u", ps.mac_failures);
		hced_ctl_printf(c, "transactions %llu", (unsigned long long)ps.tx_total);
	}
	hced_ctl_printf(c, "purse %s", hce_purse_locked(hced.purse) == 1 ? "locked" : "usable");
	hced_ctl_printf(c, "trace %s", hced_trace_path() ? hced_trace_path() : "off");
	if (hced.status_extra)
		hced.status_extra(c);
	ok(c);
}

static void cmd_card(struct hced_ctl_client *c)
{
	struct hce_card_data cd;
	char b[2 * HCE_STORE_AID_MAX + 1];
	int rc = hce_store_card(hced.st, &cd);

	if (rc) {
		err(c, HCE_CTL_ERR_FAILED, "cannot read the card: %s", strerror(-rc));
		return;
	}
	/* EF 0015: issuer 8, type 1, version 1, serial 10, start 4, expiry 4, reserved 2. */
	hex(b, cd.aid, cd.aid_len);
	hced_ctl_printf(c, "aid %s", b);
	hex(b, cd.ef0015, 8);
	hced_ctl_printf(c, "issuer %s", b);
	hced_ctl_printf(c, "app-type %02X", cd.ef0015[8]);
	hced_ctl_printf(c, "app-version %02X", cd.ef0015[9]);
	hex(b, cd.ef0015 + 10, 10);
	hced_ctl_printf(c, "serial %s", b);
	bcd_date(b, cd.ef0015 + 20);
	hced_ctl_printf(c, "start-date %s", b);
	bcd_date(b, cd.ef0015 + 24);
	hced_ctl_printf(c, "expiry-date %s", b);
	hced_ctl_printf(c, "max-balance %u", cd.max_balance);
	hced_ctl_printf(c, "overdraft-limit %u", cd.overdraft_limit);
	hced_ctl_printf(c, "keys %zu", cd.n_keys);
	hce_wipe(&cd, sizeof(cd));
	ok(c);
}

static void cmd_balance(struct hced_ctl_client *c)
{
	uint32_t bal;
	int rc = hce_purse_balance(hced.purse, &bal);

	if (rc) {
		err(c, HCE_CTL_ERR_FAILED, "cannot read the balance: %s", strerror(-rc));
		return;
	}
	/* signed: negative in the overdraft (purse.md "Overdraft") */
	{
		int32_t v = hce_balance_value(bal);
		uint32_t mag = v < 0 ? (uint32_t)-(int64_t)v : (uint32_t)v;

		hced_ctl_printf(c, "balance %d", v);
		hced_ctl_printf(c, "balance-yuan %s%u.%02u", v < 0 ? "-" : "", mag / 100,
				mag % 100);
	}
	ok(c);
}

static const char *tx_name(uint8_t t)
{
	switch (t) {
	case HCE_TX_LOAD: return "load";
	case HCE_TX_PURCHASE: return "purchase";
	case HCE_TX_CAPP: return "capp-purchase";
	default: return "other";
	}
}

static void cmd_log(struct hced_ctl_client *c)
{
	struct hce_purse_log_entry e;
	unsigned int n;
	int rc = 0;

	for (n = 1; n <= HCE_LOG_RECORDS; n++) {
		char term[13];

		rc = hce_purse_log(hced.purse, n, &e);
		if (rc)
			break;
		hex(term, e.terminal, 6);
		hced_ctl_printf(c, "tx %u %s amount %u counter %u terminal %s date %02X%02X-%02X-%02X "
				"time %02X:%02X:%02X", n, tx_name(e.type), e.amount, e.counter, term,
				e.date[0], e.date[1], e.date[2], e.date[3], e.time[0], e.time[1],
				e.time[2]);
	}
	if (rc && rc != -ENOENT) {
		err(c, HCE_CTL_ERR_FAILED, "cannot read the log: %s", strerror(-rc));
		return;
	}
	hced_ctl_printf(c, "count %u", n - 1);
	ok(c);
}

static void cmd_lock(struct hced_ctl_client *c)
{
	hce_purse_set_keys(hced.purse, NULL);
	hce_vault_lock(hced.vault);
	hced_info("ctl: keys locked (wiped) at the request of uid %u", (unsigned int)c->uid);
	hced_ctl_printf(c, "keys locked");
	ok(c);
}

static void cmd_unlock(struct hced_ctl_client *c, char *pin)
{
	struct hce_vault_info vi;
	size_t len = strlen(pin);
	int rc;

	if (hce_vault_keys(hced.vault)) {
		hced_ctl_printf(c, "keys unlocked");
		ok(c);
		return;
	}
	rc = hce_vault_info(hced.vault, &vi);
	if (rc) {
		err(c, HCE_CTL_ERR_FAILED, "vault: %s", strerror(-rc));
		return;
	}
	if (vi.locked_out) {
		err(c, HCE_CTL_ERR_LOCKED, "locked out after %u wrong PINs", vi.failures);
		return;
	}
	if (vi.delay) {
		/* Waiting here would stall the APDU path: the client retries later. */
		err(c, HCE_CTL_ERR_RETRY, "wrong-PIN delay: retry in %u s", vi.delay);
		return;
	}
	if (len < HCE_VAULT_PIN_MIN || len > HCE_VAULT_PIN_MAX) {
		err(c, HCE_CTL_ERR_USAGE, "a PIN is %d..%d bytes", HCE_VAULT_PIN_MIN,
		    HCE_VAULT_PIN_MAX);
		return;
	}
	rc = hce_vault_unlock(hced.vault, pin, len);
	if (rc) {
		hced_warn("ctl: unlock refused (uid %u): %s", (unsigned int)c->uid,
			  hce_vault_errmsg(hced.vault));
		err(c, rc == -EACCES ? HCE_CTL_ERR_PIN : rc == -EPERM ? HCE_CTL_ERR_LOCKED :
		    HCE_CTL_ERR_FAILED, "%s", hce_vault_errmsg(hced.vault));
		return;
	}
	rc = hce_purse_set_keys(hced.purse, hce_vault_keys(hced.vault));
	if (rc) {
		hce_vault_lock(hced.vault);
		err(c, HCE_CTL_ERR_FAILED, "keys do not match the card: %s", strerror(-rc));
		return;
	}
	hced_info("ctl: keys unlocked at the request of uid %u", (unsigned int)c->uid);
	hced_ctl_printf(c, "keys unlocked");
	ok(c);
}

static void cmd_trace(struct hced_ctl_client *c, int argc, char **argv)
{
	const char *path;
	int rc;

	if (argc == 1) {
		hced_ctl_printf(c, "trace %s", hced_trace_path() ? hced_trace_path() : "off");
		ok(c);
		return;
	}
	if (!strcmp(argv[1], "off") && argc == 2) {
		hced_trace_stop();
		hced_ctl_printf(c, "trace off");
		ok(c);
		return;
	}
	if (strcmp(argv[1], "on") || argc > 3) {
		err(c, HCE_CTL_ERR_USAGE, "trace [on [FILE] | off]");
		return;
	}
	if (argc == 3) {
		/* The daemon writes as itself: only root names the file. */
		if (c->uid != 0) {
			err(c, HCE_CTL_ERR_DENIED, "only root may name a trace file; "
			    "others get the configured one");
			return;
		}
		if (argv[2][0] != '/') {
			err(c, HCE_CTL_ERR_USAGE, "the trace file must be an absolute path");
			return;
		}
		path = argv[2];
	} else {
		path = hced.conf.trace_file;
		if (!path[0]) {
			err(c, HCE_CTL_ERR_USAGE, "no [log] trace-file configured: give a FILE");
			return;
		}
	}
	rc = hced_trace_start(path);
	if (rc) {
		err(c, HCE_CTL_ERR_FAILED, "cannot open the trace file: %s", strerror(-rc));
		return;
	}
	hced_ctl_printf(c, "trace %s", path);
	ok(c);
}

static void cmd_help(struct hced_ctl_client *c)
{
	static const char *const lines[] = {
		"command status  front end, device, session and counters",
		"command card  card identity (AID, issuer, serial, dates)",
		"command balance  purse balance",
		"command log  the card's transaction log, newest first",
		"command lock  wipe the keys (value commands answer 6985)",
		"command unlock PIN  unseal the keys",
		"command trace [on [FILE] | off]  APDU trace, secrets redacted",
		"command ping  liveness check",
		"command help  this list",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		hced_ctl_printf(c, "%s", lines[i]);
	ok(c);
}

static void handle(struct hced_ctl_client *c, char *line)
{
	char *argv[HCE_CTL_ARGS_MAX];
	int argc = hce_ctl_split(line, argv, HCE_CTL_ARGS_MAX);

	if (argc < 1) {
		err(c, HCE_CTL_ERR_USAGE, "malformed request (COMMAND [ARG...], single blanks)");
		return;
	}
	/* Never log the arguments: unlock's is a PIN. */
	hced_dbg("ctl: uid %u: %s", (unsigned int)c->uid, argv[0]);
	if (!strcmp(argv[0], "status") && argc == 1)
		cmd_status(c);
	else if (!strcmp(argv[0], "card") && argc == 1)
		cmd_card(c);
	else if (!strcmp(argv[0], "balance") && argc == 1)
		cmd_balance(c);
	else if (!strcmp(argv[0], "log") && argc == 1)
		cmd_log(c);
	else if (!strcmp(argv[0], "lock") && argc == 1)
		cmd_lock(c);
	else if (!strcmp(argv[0], "unlock") && argc == 2)
		cmd_unlock(c, argv[1]);
	else if (!strcmp(argv[0], "trace"))
		cmd_trace(c, argc, argv);
	else if (!strcmp(argv[0], "ping") && argc == 1) {
		hced_ctl_printf(c, "pong");
		ok(c);
	} else if (!strcmp(argv[0], "help") && argc == 1)
		cmd_help(c);
	else
		err(c, HCE_CTL_ERR_USAGE, "unknown command or wrong arguments (try help)");
	if (c->overflow) {
		/* Bounded output: say so in a final line that always fits. */
		c->out_len = c->out_len > sizeof(c->out) - 64 ? sizeof(c->out) - 64 : c->out_len;
		c->overflow = false;
		err(c, HCE_CTL_ERR_FAILED, "response too long");
	}
}

static void readable(struct hced_ctl_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, HCE_CTL_REQ_MAX - c->in_len,
				 MSG_DONTWAIT);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->closing = true;	/* EOF: flush what is left, then close */
			if (c->out_off >= c->out_len)
				drop(c);
			return;
		}
		c->in_len += (size_t)n;
		c->last = now_ms();
		while ((nl = memchr(c->in, '\n', c->in_len))) {
			size_t used = (size_t)(nl - c->in) + 1;

			*nl = '\0';
			if (nl > c->in && nl[-1] == '\r')
				nl[-1] = '\0';
			handle(c, c->in);
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			hce_wipe(c->in + c->in_len, sizeof(c->in) - c->in_len);
		}
		if (c->in_len == HCE_CTL_REQ_MAX) {
			hce_wipe(c->in, sizeof(c->in));
			c->in_len = 0;
			err(c, HCE_CTL_ERR_TOOLONG, "request longer than %d bytes", HCE_CTL_REQ_MAX);
			c->closing = true;
			return;
		}
	}
}

int hced_ctl_fill(struct pollfd *p, int max)
{
	int n = 0;

	if (listen_fd < 0 || max < 1)
		return 0;
	p[n++] = (struct pollfd){ listen_fd, POLLIN, 0 };
	for (int i = 0; i < HCED_CTL_CLIENTS && n < max; i++) {
		struct hced_ctl_client *c = &clients[i];

		if (c->fd < 0)
			continue;
		p[n++] = (struct pollfd){ c->fd,
			(short)((c->closing ? 0 : POLLIN) | (c->out_len > c->out_off ? POLLOUT : 0)),
			0 };
	}
	return n;
}

void hced_ctl_service(const struct pollfd *p, int n)
{
	long long now = now_ms();

	for (int k = 1; k < n; k++) {
		for (int i = 0; i < HCED_CTL_CLIENTS; i++) {
			struct hced_ctl_client *c = &clients[i];

			if (c->fd != p[k].fd || !p[k].revents)
				continue;
			if (p[k].revents & (POLLERR | POLLNVAL)) {
				drop(c);
				break;
			}
			if (p[k].revents & (POLLIN | POLLHUP))
				readable(c);
			if (c->fd >= 0)
				flush(c);
			break;
		}
	}
	for (int i = 0; i < HCED_CTL_CLIENTS; i++)
		if (clients[i].fd >= 0 && now - clients[i].last > HCED_CTL_IDLE_MS)
			drop(&clients[i]);
	if (n > 0 && p[0].fd == listen_fd && (p[0].revents & POLLIN))
		accept_one();
}
