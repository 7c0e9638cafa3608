# shellcheck shell=bash
# 4x-common.sh: sourced (not run) by the fare scenario suites tests/vm.d/4x-*: a card
# personalised from profiles/sample-card.conf, hced serving it on a card device of nfc_hce
# (kernel front end), hce-terminal paying fares over the pair's reader (AF_NFC).
# Programs are copied to the guest's /tmp first (execs from the 9p root are slow under TCG).
top=${HCE_TOP:?HCE_TOP unset: run this inside the VM (tools/vm/run)}
. "$top/tools/testing/tap.sh"
src=$top/build/userspace/release/bin
psam=$top/profiles/sample-psam.conf
W=$(mktemp -d /tmp/hce-fares.XXXXXX)
B=$W/bin
PIN=482916
export HCE_DEVICE_SECRET=$W/device-secret
declare -A HCED_PID=()
# the module's virtual pair (found by fares_setup), e.g. nfc0 and nfc1
CARD='' READER=''
mkdir -p "$B"
printf '%s\n' "$PIN" > "$W/pin"

fares_cleanup() {
	local k
	for k in "${!HCED_PID[@]}"; do
		kill "${HCED_PID[$k]}" 2>/dev/null && wait "${HCED_PID[$k]}" 2>/dev/null
	done
	if [ -n "${HCE_RESULTS:-}" ] && [ -d "$HCE_RESULTS" ]; then
		mkdir -p "$HCE_RESULTS/${0##*/}.files"
		cp "$W"/*.log "$W"/*.out "$W"/*.err "$HCE_RESULTS/${0##*/}.files/" 2>/dev/null
	fi
	rm -rf "$W"
}
trap fares_cleanup EXIT

# fares_setup: copies the programs; 1 when one is missing (the caller bails out).
fares_setup() {
	local p
	for p in hced hce-terminal hce-personalise; do
		if [ ! -x "$src/$p" ]; then
			echo "# $src/$p missing: run make -C userspace"
			return 1
		fi
		cp "$src/$p" "$B/$p" || return 1
	done
	if ! "$B/hced" --help 2>&1 | grep -q -- '--nfc'; then
		echo "# hced has no --nfc (kernel front end)"
		return 1
	fi
	find_pair
}

# find_pair: CARD and READER of the first virtual pair (nfc_hce GET_DEVICE dump).
find_pair() {
	read -r CARD READER < <("$B/hce-terminal" --nfc pairs 2>/dev/null |
		awk '$1 == "card" && $3 == "reader" { print $2, $4; exit }')
	if [ -z "$CARD" ] || [ -z "$READER" ]; then
		echo "# no nfc_hce virtual pair (nfc_hce_vctrl loaded?)"
		return 1
	fi
	echo "# virtual pair: card $CARD, reader $READER"
}

# personalise NAME [SERIAL_LAST_DIGIT]: card file $W/NAME.db from the sample profile.
personalise() {
	local name=$1 digit=${2:-}
	local prof=$top/profiles/sample-card.conf
	if [ -n "$digit" ]; then
		sed -E "s/^(serial *= *.*).\$/\\1$digit/" "$prof" > "$W/$name.conf"
		prof=$W/$name.conf
	fi
	"$B/hce-personalise" --profile "$prof" --card "$W/$name.db" --pin-file "$W/pin" \
		--scrypt-log2n 12 > "$W/$name.perso.log" 2>&1
}

# hced_start NAME DEVICE: hced --nfc DEVICE serving $W/NAME.db in the background; waits
# until the card device is bound and listening (up to 30 s). 0 when up.
hced_start() {
	local name=$1 dev=$2
	"$B/hced" --card "$W/$name.db" --pin-file "$W/pin" --nfc "$dev" --control none \
		--log-level "${HCE_HCED_LOG:-info}" 2>> "$W/hced-$name.log" &
	HCED_PID[$name]=$!
	for _ in $(seq 1 300); do
		if "$B/hce-terminal" --nfc pairs 2>/dev/null |
			grep -q "^card $dev .*bound=1 listening=1"; then
			return 0
		fi
		kill -0 "${HCED_PID[$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

hced_stop() {
	local name=$1
	[ -n "${HCED_PID[$name]:-}" ] || return 0
	kill "${HCED_PID[$name]}" 2>/dev/null
	wait "${HCED_PID[$name]}" 2>/dev/null
	unset "HCED_PID[$name]"
}

# term READER RECORDS ARGS...: hce-terminal over the kernel reader.
term() {
	local reader=$1 rec=$2
	shift 2
	"$B/hce-terminal" --nfc "$reader" --psam "$psam" --records "$W/$rec" "$@"
}

# fen READER: the card's balance in fen (empty on failure).
balance_fen() {
	local b
	b=$(term "$1" balance.db balance 2>>"$W/term.err") || return 1
	echo "$b" | awk -F. '{ printf "%d\n", $1 * 100 + $2 }'
}

# pair_stat CARDDEV FIELD: a counter of the pair (from hce-terminal pairs).
pair_stat() {
	"$B/hce-terminal" --nfc pairs | awk -v d="$1" -v f="$2" '$2 == d {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }'
}

# records_sum DB RESULT: "count sum" of the local records with that result (amounts in fen).
records_sum() {
	term "$READER" "$1" records 2>/dev/null | awk -v r="$2" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "=");
			if (kv[1] == "amount") { split(kv[2], y, "."); a = y[1] * 100 + y[2] }
			if (kv[1] == "result") res = kv[2] }
		if (res == r) { n++; s += a } } END { printf "%d %d\n", n, s }'
}

# guest_log_clean: the kernel log has no oops/BUG/WARNING so far.
guest_log_clean() {
	! dmesg | grep -E -q 'WARNING:|BUG:|Oops|Call Trace|general protection'
}
