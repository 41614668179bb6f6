#!/usr/bin/env bash
# The Debian package, tested on this machine (issue 18; root needed, as `make test` runs in
# CI): it installs with dpkg -i, systemd-analyze verify accepts its unit, the installed
# binary started as the unit starts it (its user, its environment file, its state
# directory) serves a sign-in and a token check with the admin password it printed, and
# purge removes what it installed but keeps the database. Leaves the machine as it was.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/debug/tessera-server}
[ "$(id -u)" = 0 ] || { echo "test-package: needs root (dpkg -i)"; exit 1; }
if dpkg -s tessera >/dev/null 2>&1; then echo "test-package: tessera is already installed here"; exit 1; fi
work=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  TESSERA_PURGE_DATA=yes dpkg --purge tessera >/dev/null 2>&1 || true
  rm -rf "$work" /var/lib/tessera
  userdel tessera 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "test-package: FAILED: $*"; [ -f "$work/log" ] && cat "$work/log"; exit 1; }

"$root/scripts/package.sh" "$bin" "$work/tessera.deb"
dpkg -i "$work/tessera.deb" >/dev/null
for f in /usr/bin/tessera-server /lib/systemd/system/tessera.service /etc/tessera/tessera.env; do
  [ -e "$f" ] || fail "$f not installed"
done
getent passwd tessera >/dev/null || fail "no user tessera"
[ "$(stat -c '%U:%G %a' /etc/tessera/tessera.env)" = "root:tessera 640" ] || fail "settings file mode"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/tessera.service || fail "systemd-analyze verify"
fi

# As the unit starts it: StateDirectory, then its user with its environment file.
install -d -o tessera -g tessera -m 0750 /var/lib/tessera
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd /var/lib/tessera && set -a && . /etc/tessera/tessera.env && set +a && \
  TESSERA_LISTEN=127.0.0.1:$port exec runuser -u tessera -- /usr/bin/tessera-server) > "$work/log" 2>&1 &
server=$!
for _ in $(seq 1 300); do grep -q "Tessera listening" "$work/log" && break; sleep 0.1; done
grep -q "Tessera listening" "$work/log" || fail "the installed server did not start"
password=$(sed -n 's/^Created user `admin` with password: //p' "$work/log")
[ -n "$password" ] || fail "no first-start admin password in the output (the journal)"
[ "$(stat -c %U /var/lib/tessera/tessera.db)" = tessera ] || fail "database not owned by tessera"

python3 - "$port" "$password" <<'PY' || fail "sign-in and token check"
import http.cookiejar, json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
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
page = urllib.request.urlopen(base + "/").read().decode()
assert "<html" in page, "the console inside the binary"
print("test-package: sign-in, token and check on the installed server: ok")
PY
kill "$server"; wait "$server" 2>/dev/null || true; server=

dpkg --purge tessera >/dev/null 2>"$work/purge"
for f in /usr/bin/tessera-server /lib/systemd/system/tessera.service /etc/tessera; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
[ -f /var/lib/tessera/tessera.db ] || fail "purge removed the database"
grep -q "is kept" "$work/purge" || fail "purge did not say the database is kept"
echo "test-package: install, verify, serve and purge: ok"
