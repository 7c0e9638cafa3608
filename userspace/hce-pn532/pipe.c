// SPDX-License-Identifier: GPL-2.0
/*
 * pipe.c - the RF side as a card program on a pipe (hced --stdio's protocol: one hex C-APDU
 * per line in, one hex R-APDU per line out, "!reset" ends the RF session). No kernel needed:
 * host tests run libnfc's tools against hced this way. The card's identity (UID, ATQA, SAK,
 * ATS) comes from the command line. Target mode is not available on a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bridge.h"
#include "codec/hex.h"

#define LINE_MAX_BYTES	(2 * PN532_APDU_MAX + 16)

struct pipe_rf {
	struct bridge *b;
	const char *cmd;
	struct pipe_rf_id id;
	pid_t pid;
	int to, from;		/* the card's stdin, stdout */
	char line[LINE_MAX_BYTES];
	size_t line_len;
	bool selected;
};

static void pipe_stop(struct pipe_rf *p)
{
	if (p->to >= 0)
		close(p->to);
	if (p->from >= 0)
		close(p->from);
	p->to = p->from = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = -1;
}

static int pipe_start(struct pipe_rf *p)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	p->pid = fork();
	if (p->pid < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -errno;
	}
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/bin/sh", "sh", "-c", p->cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->to = in[1];
	p->from = out[0];
	fcntl(p->from, F_SETFL, fcntl(p->from, F_GETFL) | O_NONBLOCK);
	p->line_len = 0;
	return 0;
}

int pipe_rf_new(struct bridge *b, const char *cmd, const struct pipe_rf_id *id,
		struct pipe_rf **out)
{
	struct pipe_rf *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->b = b;
	p->cmd = cmd;
	p->id = *id;
	p->to = p->from = -1;
	p->pid = -1;
	rc = pipe_start(p);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void pipe_rf_free(struct pipe_rf *p)
{
	if (!p)
		return;
	pipe_stop(p);
	free(p);
}

static int pipe_send(struct pipe_rf *p, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(p->to, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one line (without '\n') from the card, watching the serial side. */
static int pipe_line(struct pipe_rf *p, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(p->line, '\n', p->line_len);
		ssize_t n;
		int rc;

		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (p->line_len >= sizeof(p->line) - 1)
			return -EMSGSIZE;
		n = read(p->from, p->line + p->line_len, sizeof(p->line) - 1 - p->line_len);
		if (n > 0) {
			p->line_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = bridge_wait(p->b, p->from, timeout_ms);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -ETIMEDOUT;
	}
}

static void pipe_consume_line(struct pipe_rf *p)
{
	size_t used = strlen(p->line) + 1;

	memmove(p->line, p->line + used, p->line_len - used);
	p->line_len -= used;
}

static int pipe_in_list(void *ctx, int timeout_ms, struct pn532_target *t)
{
	struct pipe_rf *p = ctx;

	if (p->pid < 0 && pipe_start(p))
		return 0;
	memcpy(t->sens_res, p->id.sens_res, 2);
	t->sel_res = p->id.sel_res;
	memcpy(t->uid, p->id.uid, p->id.uid_len);
	t->uid_len = p->id.uid_len;
	memcpy(t->ats, p->id.ats, p->id.ats_len);
	t->ats_len = p->id.ats_len;
	p->selected = true;
	return 1;
}

static int pipe_in_exchange(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap,
			    size_t *rlen)
{
	struct pipe_rf *p = ctx;
	static char hex[2 * PN532_APDU_MAX + 2];
	ssize_t n;
	int rc;

	if (p->pid < 0 || hce_hex_encode(c, clen, hex, sizeof(hex) - 1))
		return -EPIPE;
	strcat(hex, "\n");
	rc = pipe_send(p, hex);
	if (!rc)
		rc = pipe_line(p, 30000);
	if (rc) {
		pipe_stop(p);	/* the card died or hangs: the next InListPassiveTarget restarts it */
		return rc;
	}
	n = hce_hex_decode(p->line, r, rcap);
	pipe_consume_line(p);
	if (n < 0)
		return -EPROTO;
	*rlen = (size_t)n;
	return 0;
}

static void pipe_in_release(void *ctx)
{
	struct pipe_rf *p = ctx;

	if (p->selected && p->pid > 0)
		pipe_send(p, "!reset\n");
	p->selected = false;
}

static int pipe_tg_init(void *ctx, const struct pn532_tg_params *prm, unsigned int *fsd)
{
	return -EOPNOTSUPP;
}

static int pipe_tg_get(void *ctx, uint8_t *c, size_t cap, size_t *clen)
{
	return -EOPNOTSUPP;
}

static int pipe_tg_set(void *ctx, const uint8_t *r, size_t rlen)
{
	return -EOPNOTSUPP;
}

static void pipe_tg_release(void *ctx)
{
}

const struct pn532_rf_ops pipe_rf_ops = {
	.in_list = pipe_in_list,
	.in_exchange = pipe_in_exchange,
	.in_release = pipe_in_release,
	.tg_init = pipe_tg_init,
	.tg_get = pipe_tg_get,
	.tg_set = pipe_tg_set,
	.tg_release = pipe_tg_release,
};
