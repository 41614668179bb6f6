#!/usr/bin/env bash
# The Debian package, tested on this machine (issue 18; root needed, as `make test` runs in
# CI): it installs with dpkg -i, systemd-analyze verify accepts its unit, the installed
# binary started as the unit starts it (its user, only its environment file's settings,
# read as systemd reads them, its umask and state directory) serves a sign-in and a token
# check with the admin password it printed; an upgrade (dpkg -i again) keeps everything;
# purge removes what it installed but keeps the database; a reinstall finds it again; purge
# with TESSERA_PURGE_DATA=yes removes it. Refuses to run where Tessera is or was installed,
# and leaves the machine as it found it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/debug/tessera-server}
[ "$(id -u)" = 0 ] || { echo "test-package: needs root (dpkg -i)"; exit 1; }
if dpkg -s tessera >/dev/null 2>&1 || [ -e /var/lib/tessera ] || getent passwd tessera >/dev/null; then
  echo "test-package: Tessera is (or was) installed on this machine; not touching it"; exit 1
fi
work=$(mktemp -d)
server=
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
cleanup() {
  stop
  TESSERA_PURGE_DATA=yes dpkg --purge tessera >/dev/null 2>&1 || true
  rm -rf "$work" /var/lib/tessera
  userdel tessera 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "test-package: FAILED: $*"; [ -f "$work/log" ] && cat "$work/log"; exit 1; }

# The unit's EnvironmentFile, as systemd reads it: KEY=VALUE lines, # comments, no shell.
unit_env() { grep -E '^[A-Za-z_][A-Za-z0-9_]*=' /etc/tessera/tessera.env || true; }

# Starts /usr/bin/tessera-server as the unit does (StateDirectory, User, UMask,
# EnvironmentFile, WorkingDirectory) on a free port; waits for it to listen.
start() {
  install -d -o tessera -g tessera -m 0750 /var/lib/tessera
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mapfile -t settings < <(unit_env)
  (cd /var/lib/tessera && umask 0077 && exec env -i PATH=/usr/bin:/bin "${settings[@]}" \
    "TESSERA_LISTEN=127.0.0.1:$port" /usr/sbin/runuser -u tessera -- /usr/bin/tessera-server) > "$work/log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do grep -q "Tessera listening" "$work/log" && return; sleep 0.1; done
  fail "the installed server did not start"
}

# Signs in as admin with $1, turns PATs on, makes a token and checks it; serves the console.
serve_check() {
  python3 - "$port" "$1" <<'PY' || fail "sign-in and token check"
import http.cookiejar, json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def call(method, path, body=None, headers={}):
    request = urllib.request.Request(base + path, method=method, headers={"content-type": "application/json", **headers},
                                     data=json.dumps(body).encode() if body is not None else None)
    with web.open(request) as response:
        return response.status, response.read()
status, body = call("POST", "/api/session", {"username": "admin", "password": sys.argv[2]})
csrf = {"x-csrf-token": json.loads(body)["csrfToken"]}
objects = json.loads(call("GET", "/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings")[1])
call("PUT", f"/api/v2/settings/objects/{objects['items'][0]['objectId']}", {"value": {"patEnabled": True}}, csrf)
token = json.loads(call("POST", "/api/v2/apiTokens", {"name": "package", "scopes": ["metrics.read"]}, csrf)[1])["token"]
check = urllib.request.Request(base + "/api/v2/auth/check?scope=metrics.read", headers={"authorization": f"Api-Token {token}"})
assert urllib.request.urlopen(check).status == 204
assert "<html" in urllib.request.urlopen(base + "/").read().decode(), "the console inside the binary"
PY
}

"$root/scripts/package.sh" "$bin" "$work/tessera.deb"
dpkg -i "$work/tessera.deb" >/dev/null
for f in /usr/bin/tessera-server /lib/systemd/system/tessera.service /etc/tessera/tessera.env; do
  [ -e "$f" ] || fail "$f not installed"
done
getent passwd tessera >/dev/null || fail "no user tessera"
[ "$(stat -c '%U:%G %a' /etc/tessera/tessera.env)" = "root:tessera 640" ] || fail "settings file mode"
[ -L /etc/systemd/system/multi-user.target.wants/tessera.service ] || fail "the unit is not enabled"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/tessera.service || fail "systemd-analyze verify"
else
  echo "test-package: systemd-analyze is not installed here; the unit was not verified"
fi

start
password=$(sed -n 's/^Created user `admin` with password: //p' "$work/log")
[ -n "$password" ] || fail "no first-start admin password in the output (the journal)"
[ "$(stat -c '%U %a' /var/lib/tessera/tessera.db)" = "tessera 600" ] || fail "database owner or mode"
serve_check "$password"
stop

# An upgrade (the same package again: postinst configure with the old version).
dpkg -i "$work/tessera.deb" >/dev/null
start; serve_check "$password"; stop

dpkg --purge tessera >/dev/null 2>"$work/purge"
for f in /usr/bin/tessera-server /lib/systemd/system/tessera.service /etc/tessera \
  /etc/systemd/system/multi-user.target.wants/tessera.service; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
[ -f /var/lib/tessera/tessera.db ] || fail "purge removed the database"
grep -q "is kept" "$work/purge" || fail "purge did not say the database is kept"

# Reinstalled, it finds the kept database: the first admin password still works.
dpkg -i "$work/tessera.deb" >/dev/null
start; serve_check "$password"; stop
TESSERA_PURGE_DATA=yes dpkg --purge tessera >/dev/null 2>&1
[ ! -e /var/lib/tessera ] && ! getent passwd tessera >/dev/null || fail "purge with TESSERA_PURGE_DATA=yes left data or the user"
echo "test-package: install, verify, serve, upgrade, purge, reinstall, purge all: ok"
