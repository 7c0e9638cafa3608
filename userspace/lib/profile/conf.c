// SPDX-License-Identifier: GPL-2.0
/* conf.c - strict INI-style reader; see conf.h for the syntax and every contract. */
#include "profile/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/hex.h"
#include "crypto/crypto.h"

static const char no_section[] = "";

int hce_conf_fail(struct hce_conf *c, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, sizeof(c->err), "%s:%u: ", c->name, line);
	if (n < 0 || (size_t)n >= sizeof(c->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *hce_conf_error(const struct hce_conf *c)
{
	return c->err;
}

void hce_conf_free(struct hce_conf *c)
{
	if (!c)
		return;
	if (c->text) {
		hce_wipe(c->text, c->text_len + 1);
		free(c->text);
	}
	free(c->entries);
	free(c->sections);
	c->text = NULL;
	c->text_len = 0;
	c->entries = NULL;
	c->n_entries = 0;
	c->sections = NULL;
	c->n_sections = 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/* Trim blanks at both ends of [s, s+len) in place; returns the start, NUL-terminates. */
static char *trim(char *s, size_t len)
{
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	s[len] = '\0';
	return s;
}

static int add_section(struct hce_conf *c, const char *name, unsigned int line)
{
	struct hce_conf_section *ns;
	size_t i;

	for (i = 0; i < c->n_sections; i++)
		if (!strcmp(c->sections[i].name, name))
			return hce_conf_fail(c, line, "section [%s] repeated (first at line %u)",
					     name, c->sections[i].line);
	ns = realloc(c->sections, (c->n_sections + 1) * sizeof(*ns));
	if (!ns)
		return hce_conf_fail(c, line, "out of memory");
	c->sections = ns;
	ns[c->n_sections].name = name;
	ns[c->n_sections].line = line;
	c->n_sections++;
	return 0;
}

static int add_entry(struct hce_conf *c, const char *section, const char *key,
		     const char *value, unsigned int line)
{
	struct hce_conf_entry *ne;
	size_t i;

	if (c->n_entries >= HCE_CONF_ENTRIES_MAX)
		return hce_conf_fail(c, line, "more than %d keys", HCE_CONF_ENTRIES_MAX);
	for (i = 0; i < c->n_entries; i++)
		if (c->entries[i].section == section && !strcmp(c->entries[i].key, key))
			return hce_conf_fail(c, line, "key '%s' repeated in [%s] (first at line %u)",
					     key, section, c->entries[i].line);
	ne = realloc(c->entries, (c->n_entries + 1) * sizeof(*ne));
	if (!ne)
		return hce_conf_fail(c, line, "out of memory");
	c->entries = ne;
	ne[c->n_entries].section = section;
	ne[c->n_entries].key = key;
	ne[c->n_entries].value = value;
	ne[c->n_entries].line = line;
	ne[c->n_entries].used = false;
	c->n_entries++;
	return 0;
}

/* Parse one section header line (s starts at '[', NUL-terminated, trimmed). */
static int parse_header(struct hce_conf *c, char *s, unsigned int line, const char **section)
{
	size_t len = strlen(s);
	char *in, *out, *name;
	bool blank = false;

	if (len < 2 || s[len - 1] != ']')
		return hce_conf_fail(c, line, "section header must end with ']'");
	s[len - 1] = '\0';
	name = trim(s + 1, len - 2);
	if (!*name)
		return hce_conf_fail(c, line, "empty section name");
	/* Collapse inner blanks to one space; reject brackets inside. */
	for (in = out = name; *in; in++) {
		if (*in == '[' || *in == ']')
			return hce_conf_fail(c, line, "bracket inside section name");
		if (is_blank(*in)) {
			blank = true;
			continue;
		}
		if (blank)
			*out++ = ' ';
		blank = false;
		*out++ = *in;
	}
	*out = '\0';
	if (add_section(c, name, line))
		return -1;
	*section = name;
	return 0;
}

static int parse_key_line(struct hce_conf *c, char *s, unsigned int line, const char *section)
{
	char *p = s, *key, *value;

	while (is_key_char(*p))
		p++;
	if (p == s)
		return hce_conf_fail(c, line, "expected 'key = value', '[section]' or '# comment'");
	key = s;
	while (is_blank(*p))
		*p++ = '\0';
	if (*p != '=')
		return hce_conf_fail(c, line, "expected '=' after key '%.*s'",
				     (int)strcspn(key, " \t="), key);
	*p++ = '\0';
	value = trim(p, strlen(p));
	return add_entry(c, section, key, value, line);
}

int hce_conf_parse(struct hce_conf *c, const char *name, const char *text, size_t len)
{
	const char *section = no_section;
	unsigned int line = 0;
	size_t pos = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "<config>");
	if (len > HCE_CONF_TEXT_MAX)
		return hce_conf_fail(c, 0, "longer than %d bytes", HCE_CONF_TEXT_MAX);
	c->text = malloc(len + 1);
	if (!c->text)
		return hce_conf_fail(c, 0, "out of memory");
	c->text_len = len;
	memcpy(c->text, text, len);
	c->text[len] = '\0';

	while (pos < len) {
		char *s = c->text + pos;
		size_t n = 0, i;

		line++;
		while (pos + n < len && c->text[pos + n] != '\n')
			n++;
		pos += n + 1;	/* past the newline (or one past the end) */
		if (n && s[n - 1] == '\r')	/* tolerate CRLF files */
			n--;
		if (n > HCE_CONF_LINE_MAX) {
			hce_conf_fail(c, line, "line longer than %d bytes", HCE_CONF_LINE_MAX);
			goto fail;
		}
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				hce_conf_fail(c, line, "control character 0x%02x at column %zu",
					      ch, i + 1);
				goto fail;
			}
		}
		s = trim(s, n);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (parse_header(c, s, line, &section))
				goto fail;
			continue;
		}
		if (parse_key_line(c, s, line, section))
			goto fail;
	}
	return 0;
fail:
	hce_conf_free(c);
	return -1;
}

int hce_conf_load(struct hce_conf *c, const char *path)
{
	struct stat st;
	char *buf;
	ssize_t got;
	size_t len = 0;
	int fd, ret;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return hce_conf_fail(c, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return hce_conf_fail(c, 0, "not a regular file");
	}
	if (st.st_size > HCE_CONF_TEXT_MAX) {
		close(fd);
		return hce_conf_fail(c, 0, "longer than %d bytes", HCE_CONF_TEXT_MAX);
	}
	buf = malloc(HCE_CONF_TEXT_MAX + 1);
	if (!buf) {
		close(fd);
		return hce_conf_fail(c, 0, "out of memory");
	}
	for (;;) {
		got = read(fd, buf + len, HCE_CONF_TEXT_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len > HCE_CONF_TEXT_MAX)
			break;
	}
	close(fd);
	if (got < 0) {
		ret = hce_conf_fail(c, 0, "read error: %s", strerror(errno));
	} else if (len > HCE_CONF_TEXT_MAX) {
		ret = hce_conf_fail(c, 0, "longer than %d bytes", HCE_CONF_TEXT_MAX);
	} else {
		char name[HCE_CONF_NAME_MAX];

		memcpy(name, c->name, sizeof(name));
		ret = hce_conf_parse(c, name, buf, len);
	}
	hce_wipe(buf, len);
	free(buf);
	return ret;
}

size_t hce_conf_section_count(const struct hce_conf *c)
{
	return c->n_sections;
}

const struct hce_conf_section *hce_conf_section_at(const struct hce_conf *c, size_t i)
{
	return i < c->n_sections ? &c->sections[i] : NULL;
}

int hce_conf_has_section(const struct hce_conf *c, const char *section)
{
	size_t i;

	if (!*section) {
		for (i = 0; i < c->n_entries; i++)
			if (c->entries[i].section == no_section)
				return 1;
		return 0;
	}
	for (i = 0; i < c->n_sections; i++)
		if (!strcmp(c->sections[i].name, section))
			return 1;
	return 0;
}

/* Strict unsigned parse of the whole string; decimal, or hex with 0x when allow_hex. */
static int parse_u64(const char *s, bool allow_hex, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int digits = 0;

	if (allow_hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
		digits++;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

int hce_conf_section_arg(struct hce_conf *c, const struct hce_conf_section *s,
			 const char *kind, uint32_t max, uint32_t *n)
{
	size_t kl = strlen(kind);
	uint64_t v;

	if (strncmp(s->name, kind, kl) || (s->name[kl] != '\0' && s->name[kl] != ' '))
		return 0;
	if (s->name[kl] == '\0')
		return hce_conf_fail(c, s->line, "section [%s] needs a number: [%s N]",
				     s->name, kind);
	if (parse_u64(s->name + kl + 1, true, &v) || v > max)
		return hce_conf_fail(c, s->line, "section [%s]: number must be 0..%u",
				     s->name, max);
	*n = (uint32_t)v;
	return 1;
}

const struct hce_conf_entry *hce_conf_find(struct hce_conf *c, const char *section,
					   const char *key)
{
	size_t i;

	for (i = 0; i < c->n_entries; i++) {
		struct hce_conf_entry *e = &c->entries[i];

		if (!strcmp(e->section, section) && !strcmp(e->key, key)) {
			e->used = true;
			return e;
		}
	}
	return NULL;
}

static unsigned int section_line(const struct hce_conf *c, const char *section)
{
	size_t i;

	for (i = 0; i < c->n_sections; i++)
		if (!strcmp(c->sections[i].name, section))
			return c->sections[i].line;
	return 0;
}

/* Common lookup: 1 found (*e set), 0 absent and optional, -1 absent and required. */
static int lookup(struct hce_conf *c, const char *section, const char *key, bool required,
		  const struct hce_conf_entry **e)
{
	*e = hce_conf_find(c, section, key);
	if (*e)
		return 1;
	if (!required)
		return 0;
	return hce_conf_fail(c, section_line(c, section), "[%s] missing required key '%s'",
			     section, key);
}

int hce_conf_get_text(struct hce_conf *c, const char *section, const char *key, bool required,
		      size_t max_len, const char **out)
{
	const struct hce_conf_entry *e;
	int r = lookup(c, section, key, required, &e);

	if (r <= 0)
		return r;
	if (strlen(e->value) > max_len)
		return hce_conf_fail(c, e->line, "[%s] %s: longer than %zu bytes", section, key,
				     max_len);
	*out = e->value;
	return 1;
}

int hce_conf_get_uint(struct hce_conf *c, const char *section, const char *key, bool required,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	const struct hce_conf_entry *e;
	int r = lookup(c, section, key, required, &e);
	uint64_t v;

	if (r <= 0)
		return r;
	if (parse_u64(e->value, false, &v))
		return hce_conf_fail(c, e->line, "[%s] %s: not an unsigned decimal number",
				     section, key);
	if (v < min || v > max)
		return hce_conf_fail(c, e->line, "[%s] %s: out of range %llu..%llu", section, key,
				     (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 1;
}

int hce_conf_get_hex(struct hce_conf *c, const char *section, const char *key, bool required,
		     uint8_t *out, size_t min_len, size_t max_len, size_t *out_len)
{
	const struct hce_conf_entry *e;
	int r = lookup(c, section, key, required, &e);
	ssize_t n;

	if (r <= 0)
		return r;
	n = hce_hex_decode(e->value, out, max_len);
	if (n < 0) {
		hce_wipe(out, max_len);
		if (min_len == max_len)
			return hce_conf_fail(c, e->line,
					     "[%s] %s: expected %zu bytes as hex digits",
					     section, key, max_len);
		return hce_conf_fail(c, e->line,
				     "[%s] %s: expected %zu..%zu bytes as hex digits",
				     section, key, min_len, max_len);
	}
	if ((size_t)n < min_len) {
		hce_wipe(out, max_len);
		return hce_conf_fail(c, e->line, "[%s] %s: %zd bytes, expected %s%zu", section,
				     key, n, min_len == max_len ? "" : "at least ", min_len);
	}
	if (out_len)
		*out_len = (size_t)n;
	return 1;
}

int hce_conf_check_unused(struct hce_conf *c)
{
	size_t i;

	for (i = 0; i < c->n_entries; i++) {
		const struct hce_conf_entry *e = &c->entries[i];

		if (!e->used)
			return hce_conf_fail(c, e->line, "unknown key '%s' in [%s]", e->key,
					     e->section);
	}
	return 0;
}
