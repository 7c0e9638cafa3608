/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - hced's leveled log on stderr.
 *
 * Rule for every caller: never pass key material, PINs, MACs, TACs or APDU data bodies.
 * APDUs are logged at debug level as their header (CLA INS P1 P2), length and status word only.
 */
#ifndef HCED_LOG_H
#define HCED_LOG_H

enum hced_log_level {
	HCED_LOG_ERROR = 0,
	HCED_LOG_WARN = 1,
	HCED_LOG_INFO = 2,
	HCED_LOG_DEBUG = 3,
};

/* Parse "error", "warn", "info", "debug" (or 0..3). 0 on success, -1 otherwise. */
int hced_log_parse_level(const char *s, enum hced_log_level *level);
void hced_log_set_level(enum hced_log_level level);
int hced_log_enabled(enum hced_log_level level);
void hced_log(enum hced_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hced_err(...) hced_log(HCED_LOG_ERROR, __VA_ARGS__)
#define hced_warn(...) hced_log(HCED_LOG_WARN, __VA_ARGS__)
#define hced_info(...) hced_log(HCED_LOG_INFO, __VA_ARGS__)
#define hced_dbg(...) hced_log(HCED_LOG_DEBUG, __VA_ARGS__)

#endif /* HCED_LOG_H */
