"""Schema-driven fuzzing of Tessera's API (issue 6) with schemathesis.

Starts the real server on a fresh database (SQLite, or TESSERA_FUZZ_DATABASE_URL), signs in as the admin, generates a PAT with
every scope, and runs schemathesis over every operation of /api/v2/openapi.json twice:
once authenticated with the PAT, once with the browser session (cookie + CSRF header).
Every check is on: no 5xx, responses conform to the documented schema, documented status
codes and content types, and so on. Exit status is schemathesis's.

Usage: python3 tests/fuzz/schemathesis_run.py <tessera-server binary> <examples per operation>
"""
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request

ADMIN_PASSWORD = "admin-password-1"


def start_server(binary, workdir):
    env = dict(os.environ, TESSERA_ADMIN_PASSWORD=ADMIN_PASSWORD, TESSERA_LOG="warn")
    env.pop("TESSERA_DEMO", None)
    server = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0",
         "--database-url", os.environ.get("TESSERA_FUZZ_DATABASE_URL") or f"sqlite://{workdir}/tessera.db",
         # The fuzzer signs in many times; the limiter is tested elsewhere.
         "--login-attempts-per-user", "100000", "--login-attempts-per-address", "100000"],
        stdout=subprocess.PIPE, stderr=sys.stderr, env=env, text=True)
    for line in server.stdout:
        match = re.match(r"Tessera listening on (http://\S+)", line)
        if match:
            # Keep reading its output: a pipe nobody drains fills up and the server then
            # blocks on its next log line (it did, once webhook attempts logged warnings).
            threading.Thread(target=lambda: sys.stderr.writelines(server.stdout), daemon=True).start()
            return server, match.group(1)
    raise SystemExit("tessera-server did not start")


def sign_in(base):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request = urllib.request.Request(
        f"{base}/api/session", method="POST",
        data=json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    body = json.load(opener.open(request))
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return opener, cookie, body["csrfToken"]


def call(opener, csrf, method, url, body):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    with opener.open(request) as response:
        return json.loads(response.read() or b"null")


def main():
    binary, examples = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as workdir:
        server, base = start_server(binary, workdir)
        try:
            opener, cookie, csrf = sign_in(base)
            settings = f"{base}/api/v2/settings/objects/" + json.load(opener.open(
                f"{base}/api/v2/settings/objects?schemaIds=builtin:tokens.token-settings&scopes=environment"
            ))["items"][0]["objectId"]
            call(opener, csrf, "PUT", settings, {"value": {"patEnabled": True}})
            token = call(opener, csrf, "POST", f"{base}/api/v2/apiTokens",
                         {"name": "schemathesis", "scopes": ALL_SCOPES})["token"]
            config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
            common = ["schemathesis", "--config-file", config, "run", f"{base}/api/v2/openapi.json",
                      "--max-examples", examples, "--workers", "2", "--seed", os.environ.get("SEED", "1"),
                      "--suppress-health-check", "all", "--warnings", "off"]
            status = 0
            for label, headers in [
                ("PAT", ["-H", f"Authorization: Api-Token {token}"]),
                ("session", ["-H", f"Cookie: {cookie}", "-H", f"X-CSRF-Token: {csrf}"]),
            ]:
                print(f"== schemathesis with a {label}", flush=True)
                status |= subprocess.call(common + headers)
            return status
        finally:
            server.terminate()
            server.wait(timeout=30)


ALL_SCOPES = [
    "apiTokens.read", "apiTokens.write", "entities.read", "entities.write", "metrics.read",
    "metrics.write", "networkZones.read", "networkZones.write", "problems.read",
    "problems.write", "releases.read", "securityProblems.read", "securityProblems.write",
    "settings.read", "settings.write", "slo.read", "slo.write",
]

if __name__ == "__main__":
    sys.exit(main())
