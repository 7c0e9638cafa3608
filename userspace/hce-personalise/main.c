// SPDX-License-Identifier: GPL-2.0
/*
 * hce-personalise - create a card from a profile: the card data go to the store (one
 * transaction), the card keys are sealed into the vault under the holder's PIN and the device
 * secret. Documentation/profile.md (profile), Documentation/vault.md (sealing).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "codec/hex.h"
#include "profile/profile.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hce-personalise --profile FILE --card DB [--pin-file F | --pin-fd N]\n"
		"                       [--keep-pin] [--replace] [--device-secret PATH]\n"
		"                       [--scrypt-log2n N]\n"
		"\n"
		"Creates the card described by FILE (Documentation/profile.md) in the SQLite file DB\n"
		"and seals its keys under the holder's PIN and the device secret.\n"
		"\n"
		"  --profile FILE        card profile\n"
		"  --card DB             card file (created, mode 0600, if missing)\n"
		"  --pin-file F          read the PIN (first line, %d..%d bytes) from F\n"
		"  --pin-fd N            read the PIN from file descriptor N\n"
		"  --keep-pin            also keep the PIN on this device, sealed under the device\n"
		"                        secret only, so hced can unlock without asking (WEAKER: whoever\n"
		"                        reads the device secret and DB can use the keys)\n"
		"  --replace             replace a card already in DB (its value state is reset)\n"
		"  --device-secret PATH  device secret file (default $HCE_DEVICE_SECRET or\n"
		"                        " HCE_VAULT_DEFAULT_SECRET "; created mode 0600 if missing)\n"
		"  --scrypt-log2n N      scrypt cost N=2^n for the PIN (default %d; %d..%d; low values\n"
		"                        are for tests only)\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit codes: 0 done; 1 usage; 2 profile error; 3 PIN error; 4 card file error;\n"
		"  5 a card exists (use --replace); 6 vault error.\n",
		HCE_VAULT_PIN_MIN, HCE_VAULT_PIN_MAX, HCE_VAULT_LOG2N_DEFAULT, HCE_VAULT_LOG2N_MIN,
		HCE_VAULT_LOG2N_MAX);
}

/* Secrets of this process, in one locked, non-dumpable mapping. */
struct secrets {
	struct hce_profile profile;
	char pin[HCE_VAULT_PIN_MAX + 1];
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "card", required_argument, NULL, 'c' },
		{ "pin-file", required_argument, NULL, 'f' },
		{ "pin-fd", required_argument, NULL, 'd' },
		{ "keep-pin", no_argument, NULL, 'k' },
		{ "replace", no_argument, NULL, 'r' },
		{ "device-secret", required_argument, NULL, 's' },
		{ "scrypt-log2n", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile_path = NULL, *db = NULL, *pin_file = NULL;
	const char *secret = getenv("HCE_DEVICE_SECRET");
	struct rlimit no_core = { 0, 0 };
	struct hce_vault_cfg cfg = { 0 };
	struct hce_store *st = NULL;
	struct hce_vault *v = NULL;
	struct hce_purse *purse = NULL;
	struct secrets *sec;
	char err[HCE_VAULT_ERR_MAX > HCE_STORE_ERR_MAX ? HCE_VAULT_ERR_MAX : HCE_STORE_ERR_MAX];
	char serial[2 * HCE_PROFILE_SERIAL_LEN + 1];
	bool keep_pin = false, replace = false;
	int pin_fd = -1, pin_len, c, ret, rc = 0;
	long lv;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			profile_path = optarg;
			break;
		case 'c':
			db = optarg;
			break;
		case 'f':
			pin_file = optarg;
			break;
		case 'd':
			errno = 0;
			lv = strtol(optarg, &end, 10);
			if (errno || *end || lv < 0 || lv > 1024) {
				fprintf(stderr, "hce-personalise: --pin-fd: bad descriptor\n");
				return 1;
			}
			pin_fd = (int)lv;
			break;
		case 'k':
			keep_pin = true;
			break;
		case 'r':
			replace = true;
			break;
		case 's':
			secret = optarg;
			break;
		case 'n':
			errno = 0;
			lv = strtol(optarg, &end, 10);
			if (errno || *end || lv < HCE_VAULT_LOG2N_MIN || lv > HCE_VAULT_LOG2N_MAX) {
				fprintf(stderr, "hce-personalise: --scrypt-log2n must be %d..%d\n",
					HCE_VAULT_LOG2N_MIN, HCE_VAULT_LOG2N_MAX);
				return 1;
			}
			cfg.log2n = (unsigned int)lv;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || !profile_path || !db || (!pin_file && pin_fd < 0) ||
	    (pin_file && pin_fd >= 0)) {
		fprintf(stderr, "hce-personalise: --profile, --card and one of --pin-file/--pin-fd "
			"are required\n");
		usage(stderr);
		return 1;
	}

	/* No core dumps, no ptrace by other users: this process holds card keys. */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &no_core);
	sec = mmap(NULL, sizeof(*sec), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sec == MAP_FAILED || mlock(sec, sizeof(*sec))) {
		fprintf(stderr, "hce-personalise: cannot lock memory for the keys: %s\n",
			strerror(errno));
		return 6;
	}
	madvise(sec, sizeof(*sec), MADV_DONTDUMP);

	if (hce_profile_load(&sec->profile, profile_path, err, sizeof(err))) {
		fprintf(stderr, "hce-personalise: %s\n", err);
		rc = 2;
		goto out;
	}
	pin_len = hce_vault_read_pin(pin_file, pin_fd, sec->pin);
	if (pin_len < 0) {
		fprintf(stderr, "hce-personalise: cannot read the PIN from %s: %s\n",
			pin_file ? pin_file : "--pin-fd",
			pin_len == -EINVAL ? "must be one line of 4..64 bytes" : strerror(-pin_len));
		rc = 3;
		goto out;
	}

	ret = hce_store_open(db, HCE_STORE_CREATE, &st, err);
	if (ret) {
		fprintf(stderr, "hce-personalise: %s: %s\n", db, err);
		rc = 4;
		goto out;
	}
	ret = hce_store_personalise(st, &sec->profile.card, replace ? HCE_STORE_REPLACE : 0);
	if (ret == -EEXIST) {
		fprintf(stderr, "hce-personalise: %s already holds a card (--replace to replace it)\n",
			db);
		rc = 5;
		goto out;
	}
	if (ret) {
		fprintf(stderr, "hce-personalise: %s: %s\n", db, hce_store_errmsg(st));
		rc = 4;
		goto out;
	}
	/* The purse checks the keys against the key table just written. */
	ret = hce_purse_open(st, &sec->profile.keys, &purse);
	if (ret) {
		fprintf(stderr, "hce-personalise: the purse refuses the profile's keys (%s)\n",
			strerror(-ret));
		rc = 2;
		goto out;
	}
	hce_purse_close(purse);

	cfg.device_secret = secret;
	ret = hce_vault_open(db, &cfg, &v, err);
	if (ret) {
		fprintf(stderr, "hce-personalise: vault: %s\n", err);
		rc = 6;
		goto out;
	}
	ret = hce_vault_seal(v, &sec->profile.keys, sec->pin, (size_t)pin_len,
			     (replace ? HCE_VAULT_REPLACE : 0) | (keep_pin ? HCE_VAULT_KEEP_PIN : 0));
	if (ret) {
		fprintf(stderr, "hce-personalise: vault: %s%s\n", hce_vault_errmsg(v),
			ret == -EEXIST ? " (--replace to replace them)" : "");
		rc = ret == -EEXIST ? 5 : 6;
		goto out;
	}
	hce_hex_encode(sec->profile.serial, HCE_PROFILE_SERIAL_LEN, serial, sizeof(serial));
	printf("personalised card %s in %s: balance %u, %zu keys sealed (scrypt N=2^%u%s)\n",
	       serial, db, sec->profile.card.balance, sec->profile.card.n_keys,
	       cfg.log2n ? cfg.log2n : HCE_VAULT_LOG2N_DEFAULT, keep_pin ? ", PIN kept" : "");
out:
	hce_vault_close(v);
	hce_store_close(st);
	hce_wipe(sec, sizeof(*sec));
	munlock(sec, sizeof(*sec));
	munmap(sec, sizeof(*sec));
	return rc;
}
