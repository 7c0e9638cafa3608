// SPDX-License-Identifier: GPL-2.0
/* ctl.c - hced's control protocol helpers; see ctl.h. */
#include "ctl/ctl.h"

#include <string.h>

int hce_ctl_split(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;

	if (!*line)
		return -1;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return -1;
	p = line;
	for (;;) {
		char *sp = strchr(p, ' ');

		if (sp == p || !*p || n == max)
			return -1;	/* leading/double/trailing blank, or too many words */
		argv[n++] = p;
		if (!sp)
			return n;
		*sp = '\0';
		p = sp + 1;
	}
}

int hce_ctl_classify(const char *line)
{
	const char *p;

	if (!strcmp(line, "OK"))
		return 1;
	if (!strncmp(line, "ERR ", 4))
		return line[4] >= 'a' && line[4] <= 'z' ? 2 : -1;
	if (!(*line >= 'a' && *line <= 'z') && !(*line >= '0' && *line <= '9'))
		return -1;
	for (p = line; *p && *p != ' '; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '-')
			return -1;
	return 0;
}

static int reason_is(const char *line, const char *reason)
{
	size_t n = strlen(reason);

	return !strncmp(line + 4, reason, n) && (line[4 + n] == ' ' || !line[4 + n]);
}

int hce_ctl_exit_code(const char *final_line)
{
	switch (hce_ctl_classify(final_line)) {
	case 1:
		return HCE_CTL_EXIT_OK;
	case 2:
		if (reason_is(final_line, HCE_CTL_ERR_DENIED))
			return HCE_CTL_EXIT_DENIED;
		if (reason_is(final_line, HCE_CTL_ERR_USAGE) ||
		    reason_is(final_line, HCE_CTL_ERR_TOOLONG))
			return HCE_CTL_EXIT_USAGE;
		if (reason_is(final_line, HCE_CTL_ERR_BUSY))
			return HCE_CTL_EXIT_CONNECT;
		return HCE_CTL_EXIT_FAILED;
	default:
		return HCE_CTL_EXIT_PROTOCOL;
	}
}
