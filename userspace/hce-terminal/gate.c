// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - hce-terminal and hce-issuer: --issuer file, deny list, batch upload (gate.h).
 */
#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "codec/hex.h"
#include "profile/conf.h"

static int get_path(struct hce_conf *c, const char *sec, const char *key, bool required,
		    char *out, size_t cap)
{
	const char *v;
	int rc = hce_conf_get_text(c, sec, key, required, cap - 1, &v);

	if (rc == 1)
		snprintf(out, cap, "%s", v);
	return rc < 0 ? -1 : 0;
}

/* The terminal's private key: a regular file nobody else may read, PEM, EC P-256. */
static int load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	char group[32] = "";
	struct stat st;
	EVP_PKEY *k;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %04o: the terminal key must not be readable by"
			 " group or others (chmod 600)", path, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || !EVP_PKEY_is_a(k, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) || strcmp(group, "prime256v1")) {
		snprintf(err, errlen, "%s: not an unencrypted PEM P-256 private key", path);
		EVP_PKEY_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int gate_load(struct gate *g, const char *path, char *err, size_t errlen)
{
	char keypath[PATH_MAX] = "";
	struct hce_conf c;
	uint64_t timeout = 0, age = GATE_MAX_AGE_DEFAULT;
	int ret = -1;

	memset(g, 0, sizeof(*g));
	if (hce_conf_load(&c, path)) {
		snprintf(err, errlen, "%s", hce_conf_error(&c));
		hce_conf_free(&c);
		return -1;
	}
	if (get_path(&c, "issuer", "url", true, g->url, sizeof(g->url)) ||
	    get_path(&c, "issuer", "cacert", true, g->cacert, sizeof(g->cacert)) ||
	    hce_conf_get_uint(&c, "issuer", "timeout", false, 1, 600, &timeout) < 0 ||
	    hce_conf_get_hex(&c, "terminal", "id", true, g->is.id, 6, 6, NULL) < 0 ||
	    get_path(&c, "terminal", "key", true, keypath, sizeof(keypath)) ||
	    get_path(&c, "denylist", "cache", false, g->deny_db, sizeof(g->deny_db)) ||
	    hce_conf_get_uint(&c, "denylist", "max-age", false, 60, 366 * 86400ULL, &age) < 0 ||
	    hce_conf_check_unused(&c)) {
		snprintf(err, errlen, "%s", hce_conf_error(&c));
		goto out;
	}
	if (strncmp(g->url, "https://", 8)) {
		snprintf(err, errlen, "%s: [issuer] url: https:// required", path);
		goto out;
	}
	if (access(g->cacert, R_OK)) {
		snprintf(err, errlen, "%s: [issuer] cacert: %s: %s", path, g->cacert,
			 strerror(errno));
		goto out;
	}
	if (load_key(keypath, &g->is.key, err, errlen))
		goto out;
	g->is.url = g->url;
	g->is.cacert = g->cacert;
	g->is.timeout = (long)timeout;
	g->max_age = age;
	ret = 0;
out:
	hce_conf_free(&c);
	return ret;
}

void gate_free(struct gate *g)
{
	EVP_PKEY_free(g->is.key);
	g->is.key = NULL;
}

/* Exit code of an issuer request that failed. */
static int issuer_status(int rc)
{
	switch (rc) {
	case -EIO:
		return HCE_TERM_E_TRANSPORT;
	case -EACCES:
	case -EEXIST:
	case -E2BIG:
		return HCE_TERM_E_KEY;
	case -ENOMEM:
		return HCE_TERM_E_RECORDS;
	default:
		return HCE_TERM_E_CARD;
	}
}

int gate_denylist_update(struct gate *g, struct hce_term_db *db)
{
	struct hce_term_denylist *dl = malloc(sizeof(*dl));
	struct hce_term_deny_info cur;
	char err[512] = "";
	bool stored;
	int rc;

	if (!dl) {
		fprintf(stderr, "hce-terminal: out of memory\n");
		return HCE_TERM_E_RECORDS;
	}
	rc = hce_term_denylist_fetch(&g->is, dl, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hce-terminal: denylist-update: %s\n",
			err[0] ? err : strerror(-rc));
		free(dl);
		return issuer_status(rc);
	}
	if (hce_term_db_deny_store(db, dl->version, (int64_t)time(NULL), &dl->serial[0][0], dl->n,
				   &stored) ||
	    hce_term_db_deny_get(db, &cur, NULL, 0)) {
		fprintf(stderr, "hce-terminal: deny list: %s\n", hce_term_db_error(db));
		free(dl);
		return HCE_TERM_E_RECORDS;
	}
	if (stored)
		printf("deny list v%lld: %zu serials stored\n", (long long)dl->version, dl->n);
	else
		printf("deny list v%lld kept: the issuer answered v%lld (older)\n",
		       (long long)cur.version, (long long)dl->version);
	free(dl);
	return 0;
}

int gate_denylist_load(struct gate *g, struct hce_term_db *db, time_t now,
		       struct hce_term_denylist *dl)
{
	struct hce_term_deny_info info;

	if (hce_term_db_deny_get(db, &info, &dl->serial[0][0], HCE_TERM_DENY_MAX)) {
		fprintf(stderr, "hce-terminal: deny list: %s\n", hce_term_db_error(db));
		return HCE_TERM_E_RECORDS;
	}
	dl->version = info.version;
	dl->n = info.version < 0 ? 0 : info.n;
	if (info.version < 0)
		fprintf(stderr, "hce-terminal: warning: no deny list cached (run denylist-update);"
			" only the card's dates are checked\n");
	else if (now - info.fetched > (int64_t)g->max_age)
		fprintf(stderr, "hce-terminal: warning: deny list v%lld fetched %lld s ago"
			" (max-age %llu s): run denylist-update; using it meanwhile\n",
			(long long)info.version, (long long)(now - info.fetched),
			(unsigned long long)g->max_age);
	return 0;
}

/* A request id of our own: tb-<terminal>-<64 random bits>, unique without a counter. */
static int new_reqid(const struct gate *g, char out[HCE_TERM_REQID_MAX])
{
	uint8_t rnd[8];
	char tid[13], hex[17];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	hce_hex_encode(g->is.id, 6, tid, sizeof(tid));
	hce_hex_encode(rnd, sizeof(rnd), hex, sizeof(hex));
	snprintf(out, HCE_TERM_REQID_MAX, "tb-%s-%s", tid, hex);
	return 0;
}

int gate_upload(struct gate *g, struct hce_term_db *db, size_t batch)
{
	size_t total[HCE_TERM_UP_UNKNOWN_CARD + 1] = { 0 }, sent = 0, batches = 0, i, n;
	struct hce_term_record *recs = calloc(HCE_TERM_BATCH_MAX, sizeof(*recs));
	struct hce_iss_record *iss = calloc(HCE_TERM_BATCH_MAX, sizeof(*iss));
	int64_t *ids = calloc(HCE_TERM_BATCH_MAX, sizeof(*ids));
	const char **words = calloc(HCE_TERM_BATCH_MAX, sizeof(*words));
	uint8_t *res = calloc(HCE_TERM_BATCH_MAX, 1);
	char reqid[HCE_TERM_REQID_MAX], fresh[HCE_TERM_REQID_MAX], err[512];
	size_t cur = batch;	/* halved while the issuer finds a batch too large */
	int ret = 0, rc;
	bool resumed;

	if (!recs || !iss || !ids || !words || !res) {
		fprintf(stderr, "hce-terminal: out of memory\n");
		ret = HCE_TERM_E_RECORDS;
		goto out;
	}
	for (;;) {
		size_t cnt[HCE_TERM_UP_UNKNOWN_CARD + 1] = { 0 };

		if (new_reqid(g, fresh)) {
			fprintf(stderr, "hce-terminal: no random bytes for a request id\n");
			ret = HCE_TERM_E_RECORDS;
			break;
		}
		if (hce_term_db_batch_next(db, g->is.id, cur, fresh, reqid, recs, &n, &resumed)) {
			fprintf(stderr, "hce-terminal: upload: %s\n", hce_term_db_error(db));
			ret = HCE_TERM_E_RECORDS;
			break;
		}
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			if (hce_term_record_to_iss(&recs[i], &iss[i])) {
				fprintf(stderr, "hce-terminal: upload: record %lld cannot be"
					" sent\n", (long long)recs[i].id);
				ret = HCE_TERM_E_RECORDS;
				goto out;
			}
			ids[i] = recs[i].id;
		}
		err[0] = '\0';
		rc = hce_term_upload(&g->is, iss, n, reqid, res, err, sizeof(err));
		if (rc == -EEXIST) {
			/* the issuer holds this request id with another body: the records
			 * changed since it was first sent. They go out again in a new batch
			 * (the issuer counts a transaction once, whatever the request). */
			fprintf(stderr, "hce-terminal: warning: batch %s: %s; its %zu records go"
				" again with a new request id\n", reqid, err, n);
			if (hce_term_db_batch_drop(db, reqid)) {
				fprintf(stderr, "hce-terminal: upload: %s\n",
					hce_term_db_error(db));
				ret = HCE_TERM_E_RECORDS;
				break;
			}
			continue;
		}
		if (rc == -E2BIG && n > 1) {
			/* over the issuer's max-body: refused before it was read (no request id
			 * stored), so the records go again in smaller batches under new ids. A
			 * pending batch would otherwise be resent unchanged forever. */
			cur = n / 2;
			fprintf(stderr, "hce-terminal: warning: batch %s: %s; its %zu records go"
				" again in batches of at most %zu\n", reqid, err, n, cur);
			if (hce_term_db_batch_drop(db, reqid)) {
				fprintf(stderr, "hce-terminal: upload: %s\n",
					hce_term_db_error(db));
				ret = HCE_TERM_E_RECORDS;
				break;
			}
			continue;
		}
		if (rc) {
			fprintf(stderr, "hce-terminal: upload: batch %s (%zu records) not answered:"
				" %s; it stays pending and goes again with the same request id\n",
				reqid, n, err[0] ? err : strerror(-rc));
			ret = issuer_status(rc);
			break;
		}
		for (i = 0; i < n; i++) {
			words[i] = hce_term_upload_result_str(res[i]);
			cnt[res[i]]++;
			total[res[i]]++;
		}
		if (hce_term_db_batch_done(db, reqid, ids, words, n)) {
			fprintf(stderr, "hce-terminal: upload: batch %s answered but not"
				" recorded: %s\n", reqid, hce_term_db_error(db));
			ret = HCE_TERM_E_RECORDS;
			break;
		}
		batches++;
		sent += n;
		printf("batch %s: %zu records%s: accepted %zu, duplicate %zu, mismatch %zu,"
		       " bad_tac %zu, invalid %zu, unknown_card %zu\n", reqid, n,
		       resumed ? " (sent again)" : "", cnt[HCE_TERM_UP_ACCEPTED],
		       cnt[HCE_TERM_UP_DUPLICATE], cnt[HCE_TERM_UP_MISMATCH],
		       cnt[HCE_TERM_UP_BAD_TAC], cnt[HCE_TERM_UP_INVALID],
		       cnt[HCE_TERM_UP_UNKNOWN_CARD]);
		for (i = 0; i < n; i++)
			if (res[i] == HCE_TERM_UP_BAD_TAC || res[i] == HCE_TERM_UP_INVALID)
				fprintf(stderr, "hce-terminal: record %lld (ttc %u, card"
					" counter %u): %s\n", (long long)ids[i], recs[i].ttc,
					recs[i].counter, words[i]);
	}
	if (!sent && !ret)
		printf("nothing to upload\n");
	else if (sent)
		printf("uploaded %zu records in %zu batches: accepted %zu, duplicate %zu,"
		       " mismatch %zu, bad_tac %zu, invalid %zu, unknown_card %zu\n", sent,
		       batches, total[HCE_TERM_UP_ACCEPTED], total[HCE_TERM_UP_DUPLICATE],
		       total[HCE_TERM_UP_MISMATCH], total[HCE_TERM_UP_BAD_TAC],
		       total[HCE_TERM_UP_INVALID], total[HCE_TERM_UP_UNKNOWN_CARD]);
	if (!ret && (total[HCE_TERM_UP_BAD_TAC] || total[HCE_TERM_UP_INVALID]))
		ret = HCE_TERM_E_PROOF;
out:
	free(recs);
	free(iss);
	free(ids);
	free(words);
	free(res);
	return ret;
}
