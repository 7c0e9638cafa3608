/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gate.h - hce-terminal's side of hce-issuer: the --issuer file, the deny list (fetched into
 * the records database, checked before every purchase) and the upload of the terminal's
 * records in batches. Documentation/terminal.md, "Issuer: deny list and upload".
 *
 * Functions returning int return an hce-terminal exit code (enum hce_term_status): 0 done,
 * and they print what happened (results on stdout, problems on stderr).
 */
#ifndef HCE_TERMINAL_GATE_H
#define HCE_TERMINAL_GATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/upload.h"

#define GATE_MAX_AGE_DEFAULT 86400

struct gate {
	struct hce_term_issuer is;	/* url, cacert, id, key, timeout */
	char url[512];
	char cacert[PATH_MAX];
	char deny_db[PATH_MAX];		/* [denylist] cache; "" = the records database */
	uint64_t max_age;		/* seconds a fetched deny list stays fresh */
};

/*
 * Read the --issuer file (lib/profile/conf.h syntax): [issuer] url, cacert, timeout;
 * [terminal] id, key (PEM P-256 private key, mode 0600 or stricter); [denylist] cache,
 * max-age. 0, or -1 with the reason in err. gate_free() in every case.
 */
int gate_load(struct gate *g, const char *path, char *err, size_t errlen);
void gate_free(struct gate *g);

/* denylist-update: fetch GET /v1/denylist and store it unless the cached one is newer. */
int gate_denylist_update(struct gate *g, struct hce_term_db *db);

/*
 * The cached deny list into dl for the checks before purchases; warns on stderr when none is
 * cached or it is older than max-age (the gate still works offline with what it has).
 * 0, or HCE_TERM_E_RECORDS.
 */
int gate_denylist_load(struct gate *g, struct hce_term_db *db, time_t now,
		       struct hce_term_denylist *dl);


/*
 * upload: every record waiting (oldest first) in batches of at most batch records; a batch
 * left pending by an earlier run is sent again first, with its request id (unless the issuer
 * finds it over its size limit, 413: then its records go again in halved batches). Prints the
 * counts per result. 0; HCE_TERM_E_PROOF when the issuer rejected records (bad_tac,
 * invalid); HCE_TERM_E_TRANSPORT when it could not be reached (the pending batch is kept);
 * HCE_TERM_E_KEY when it refused the request; HCE_TERM_E_CARD for a malformed answer;
 * HCE_TERM_E_RECORDS.
 */
int gate_upload(struct gate *g, struct hce_term_db *db, size_t batch);

#endif /* HCE_TERMINAL_GATE_H */
