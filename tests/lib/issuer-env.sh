# tests/lib/issuer-env.sh - a real hce-issuer for a test suite, on SQLite or PostgreSQL (sourced).
#
#   . "$top/tests/lib/issuer-env.sh"
#   issuer_env_setup BACKEND || { report "$ISSUER_ENV_ERR"; tail "$ISSUER_ENV_LOG"; exit; }
#   issuer_start || ...          # hce-issuer serve in the background, waits for /v1/health
#   ISS account-create ...       # admin commands on the same config
#   trap issuer_env_cleanup EXIT
#
# issuer_env_setup BACKEND (sqlite | pg) needs $top (repository) and makes, in a new temporary
# directory $d (also ISSUER_DIR):
#   - pg: a PostgreSQL server (initdb + pg_ctl as user postgres, loopback only, a free port,
#     socket in $d), database URL postgresql://postgres@127.0.0.1:PORT/postgres;
#     sqlite: sqlite:$d/issuer.db;
#   - a SoftHSM2 token "hce-issuer" (SOFTHSM2_CONF exported, user PIN file $d/pin, SO PIN file
#     $d/so-pin);
#   - a self-signed P-256 TLS certificate for 127.0.0.1 ($d/cert.pem, $d/key.pem);
#   - $d/hce-issuer.conf, then `hce-issuer init` (schema, master keys in the token).
# Extra configuration before the call: ISSUER_CONF_ISSUER (lines added to [issuer]),
# ISSUER_CONF_ACCOUNTS (the [accounts] lines; default cap 100.00 and 20 fares).
# Sets ISSUER_BACKEND, ISSUER_DB, ISSUER_CONF, ISSUER_URL, ISSUER_CERT, ISSUER_PORT,
# ISSUER_BIN. On failure returns 1, the reason in ISSUER_ENV_ERR, details in the file
# ISSUER_ENV_LOG. Nothing here prints TAP: the suite reports.
# HCE_ISSUER_KEEP=1 keeps $d after the suite (logs, databases).

issuer_free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

_issuer_fail() {
	ISSUER_ENV_ERR=$1
	ISSUER_ENV_LOG=${2:-/dev/null}
	return 1
}

# issuer_pg_start: a PostgreSQL server in $d/pg (initdb + pg_ctl as user postgres, loopback
# only, a free port, socket in $d); ISSUER_PG_URL = its URL. Stopped by issuer_env_cleanup.
issuer_pg_start() {
	local pgport
	_issuer_pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$_issuer_pgbin" ] && id postgres >/dev/null 2>&1 ||
		_issuer_fail "PostgreSQL server installed (postgresql package, user postgres)" ||
		return 1
	chown postgres "$d"
	pgport=$(issuer_free_port) || _issuer_fail "a free port for PostgreSQL" || return 1
	runuser -u postgres -- "$_issuer_pgbin/initdb" -D "$d/pg" -A trust -U postgres \
		>"$d/initdb.log" 2>&1 || _issuer_fail "PostgreSQL initdb" "$d/initdb.log" || return 1
	runuser -u postgres -- "$_issuer_pgbin/pg_ctl" -D "$d/pg" -l "$d/pg.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $pgport -k $d -c fsync=on" start \
		>/dev/null 2>&1 ||
		_issuer_fail "PostgreSQL server started on 127.0.0.1:$pgport" "$d/pg.log" || return 1
	ISSUER_PG_URL=postgresql://postgres@127.0.0.1:$pgport/postgres
}

issuer_env_setup() {
	local backend=${1:-sqlite} port t
	ISSUER_BACKEND=$backend
	ISSUER_BIN=$top/build/userspace/release/bin/hce-issuer
	ISSUER_ENV_ERR= ISSUER_ENV_LOG=/dev/null
	_issuer_pgbin=
	for t in softhsm2-util openssl curl; do
		command -v "$t" >/dev/null || _issuer_fail "$t installed (scripts/install-deps)" || return 1
	done
	[ -f /usr/lib/softhsm/libsofthsm2.so ] ||
		_issuer_fail "libsofthsm2 installed (scripts/install-deps)" || return 1
	[ -x "$ISSUER_BIN" ] || make -s -C "$top/userspace" programs >&2
	[ -x "$ISSUER_BIN" ] || _issuer_fail "hce-issuer built" || return 1
	d=$(mktemp -d /tmp/hce-issuer-env.XXXXXX) || _issuer_fail "mktemp" || return 1
	ISSUER_DIR=$d
	case $backend in
	sqlite)
		ISSUER_DB=sqlite:$d/issuer.db
		;;
	pg)
		issuer_pg_start || return 1
		ISSUER_DB=$ISSUER_PG_URL
		;;
	*)
		_issuer_fail "unknown back end '$backend' (sqlite or pg)"
		return 1
		;;
	esac
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\n' "$d" >"$d/softhsm2.conf"
	export SOFTHSM2_CONF=$d/softhsm2.conf
	mkdir -p "$d/tokens"
	echo 246810 >"$d/pin"
	echo 13579 >"$d/so-pin"
	chmod 600 "$d/pin" "$d/so-pin"
	softhsm2-util --init-token --free --label hce-issuer --pin 246810 --so-pin 13579 \
		>"$d/softhsm.log" 2>&1 || _issuer_fail "SoftHSM2 token made" "$d/softhsm.log" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/key.pem" -out "$d/cert.pem" -days 2 -subj /CN=localhost \
		-addext subjectAltName=IP:127.0.0.1 >"$d/openssl.log" 2>&1 ||
		_issuer_fail "TLS certificate made" "$d/openssl.log" || return 1
	port=$(issuer_free_port) || _issuer_fail "a free port for the issuer" || return 1
	ISSUER_PORT=$port
	ISSUER_URL=https://127.0.0.1:$port
	ISSUER_CERT=$d/cert.pem
	ISSUER_CONF=$d/hce-issuer.conf
	cat >"$ISSUER_CONF" <<CONF
[issuer]
database = $ISSUER_DB
listen = 127.0.0.1:$port
cert = $d/cert.pem
key = $d/key.pem
max-body = 65536
long-poll-max = 30
${ISSUER_CONF_ISSUER:-}
[accounts]
${ISSUER_CONF_ACCOUNTS:-offline-cap-amount = 10000
offline-cap-count = 20}
[hsm]
pin-file = $d/pin
CONF
	ISS init >"$d/init.log" 2>&1 ||
		_issuer_fail "hce-issuer init (schema, master keys in the HSM)" "$d/init.log" || return 1
	return 0
}

# Admin commands on the suite's issuer.
ISS() { "$ISSUER_BIN" -c "$ISSUER_CONF" "$@"; }

# Serve in the background (its own session, pid in $d/issuer.pid, stderr appended to
# $d/issuer.log); 0 once /v1/health answers (within 10 s).
issuer_start() {
	setsid "$ISSUER_BIN" -c "$ISSUER_CONF" serve >/dev/null 2>>"$d/issuer.log" &
	echo $! >"$d/issuer.pid"
	disown $! 2>/dev/null
	for _ in $(seq 100); do
		curl -sf --max-time 2 --cacert "$ISSUER_CERT" "$ISSUER_URL/v1/health" >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	_issuer_fail "hce-issuer serving on $ISSUER_URL" "$d/issuer.log"
}

# 0 when the issuer answers /v1/health.
issuer_up() {
	curl -sf --max-time 2 --cacert "$ISSUER_CERT" "$ISSUER_URL/v1/health" >/dev/null 2>&1
}

# Stop the serving process (SIGTERM, then SIGKILL after 5 s); resumes it first if stopped.
issuer_stop() {
	local p
	p=$(cat "$d/issuer.pid" 2>/dev/null) || return 0
	if [ -n "$p" ]; then
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	fi
	rm -f "$d/issuer.pid"
}

issuer_env_cleanup() {
	[ -n "${d:-}" ] && [ -d "$d" ] || return 0
	issuer_stop
	if [ -n "${_issuer_pgbin:-}" ] && [ -f "$d/pg/postmaster.pid" ]; then
		runuser -u postgres -- "$_issuer_pgbin/pg_ctl" -D "$d/pg" -m immediate stop \
			>/dev/null 2>&1
	fi
	[ -n "${HCE_ISSUER_KEEP:-}" ] || rm -rf "$d"
}
