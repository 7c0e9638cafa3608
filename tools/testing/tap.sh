# Small TAP helpers for shell test suites (sourced). Each suite prints TAP to stdout:
#   tap_plan N; tap_ok "name"; tap_fail "name" "why"; tap_skip "name" "why"; tap_check "name" cmd...
# Numbering is automatic.
_tap_n=0
tap_plan() { echo "1..$1"; }
tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n $1"; }
tap_fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n $1"; [ -n "${2:-}" ] && echo "# $2"; return 0; }
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n $1 # SKIP ${2:-}"; }
# tap_check NAME CMD...: runs CMD, ok when it exits 0; its output goes to the TAP stream as comments.
tap_check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "exit $rc"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	fi
}
