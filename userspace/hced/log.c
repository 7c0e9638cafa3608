// SPDX-License-Identifier: GPL-2.0
/* log.c - hced's leveled log; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum hced_log_level cur_level = HCED_LOG_INFO;

static const char *const names[] = { "error", "warn", "info", "debug" };

int hced_log_parse_level(const char *s, enum hced_log_level *level)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, names[i]) || (s[0] == '0' + i && !s[1])) {
			*level = (enum hced_log_level)i;
			return 0;
		}
	}
	return -1;
}

void hced_log_set_level(enum hced_log_level level)
{
	cur_level = level;
}

int hced_log_enabled(enum hced_log_level level)
{
	return level <= cur_level;
}

void hced_log(enum hced_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > cur_level)
		return;
	fprintf(stderr, "hced: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
