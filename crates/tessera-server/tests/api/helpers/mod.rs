//! `TestApp`: the real server binary on a free port with a fresh SQLite file, its logs
//! captured, and clients for sessions and tokens.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

mod clients;
mod clock;
mod postgres;
pub mod provider;
mod receiver;
mod relay;
pub use clients::*;
pub use postgres::{fresh_postgres_database, postgres_admin_url};
pub use receiver::{Received, Receiver};
pub use relay::Relay;

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const BIN: &str = env!("CARGO_BIN_EXE_tessera-server");

pub struct TestApp {
    pub base: String,
    pub dir: TempDir,
    pub db_url: String,
    child: Child,
    logs: Arc<Mutex<String>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn capture(
    stream: impl std::io::Read + Send + 'static,
    logs: Arc<Mutex<String>>,
    ready: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let (Some(tx), Some(addr)) = (&ready, line.strip_prefix("Tessera listening on ")) {
                let _ = tx.send(addr.to_owned());
            }
            let mut logs = logs.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
}

impl TestApp {
    /// A server with personal access tokens turned on (an admin did it through the API).
    pub async fn spawn() -> TestApp {
        let app = TestApp::spawn_with(&[]).await;
        app.admin().await.set_pat_enabled(true).await;
        app
    }

    /// A server as on first start (`patEnabled` false), with extra flags, on a fresh
    /// database of the backend under test (`backend()`).
    pub async fn spawn_with(args: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = match postgres_admin_url() {
            Some(admin) => fresh_postgres_database(&admin).await,
            None => format!("sqlite://{}", dir.path().join("tessera.db").display()),
        };
        TestApp::start(dir, db_url, args)
    }

    /// A server on the given database (a fresh temp dir for everything else).
    pub fn on_database(db_url: String, args: &[&str]) -> TestApp {
        TestApp::start(tempfile::tempdir().expect("temp dir"), db_url, args)
    }

    /// Another node on this server's database (PostgreSQL: any number of nodes).
    pub fn join(&self, args: &[&str]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        TestApp::start(dir, self.db_url.clone(), args)
    }

    /// Whether this run is on SQLite (the default) — for the few tests of the SQLite file.
    pub fn on_sqlite(&self) -> bool {
        self.db_url.starts_with("sqlite:")
    }

    fn start(dir: TempDir, db_url: String, args: &[&str]) -> TestApp {
        // Test defaults, each unless the test sets that flag itself.
        // The sign-in limits have tests of their own that set them (the per-username
        // budget is in the database, so it outlives a restart).
        let defaults = [
            ("--listen", "127.0.0.1:0"),
            ("--login-attempts-per-address", "1000"),
            ("--login-attempts-per-user", "1000"),
        ]
        .into_iter()
        .filter(|(flag, _)| !args.contains(flag))
        .flat_map(|(flag, value)| [flag, value]);
        let mut child = Command::new(BIN)
            .args(["--database-url", &db_url])
            .args(defaults)
            .args(args)
            .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TESSERA_LOG", "info")
            // The debug build's test clock (`POST /api/test/clock`, `advance_clock`).
            .env("TESSERA_TEST_CLOCK", "1")
            .env_remove("TESSERA_DEMO")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tessera-server");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        capture(child.stdout.take().unwrap(), logs.clone(), Some(tx));
        capture(child.stderr.take().unwrap(), logs.clone(), None);
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start:\n{}", logs.lock().unwrap()));
        TestApp {
            base: addr,
            dir,
            db_url,
            child,
            logs,
        }
    }

    /// Kills the server (SIGKILL) and starts it again on the same database.
    pub fn restart(self) -> TestApp {
        self.restart_with(|_| {})
    }

    /// Stops the server with SIGTERM (a clean shutdown) and starts it again.
    pub fn restart_after_sigterm(mut self) -> TestApp {
        assert!(self.terminate().success(), "{}", self.logs());
        self.restart()
    }

    /// Kills the server, runs `between` while it is down, and starts it again.
    pub fn restart_with(mut self, between: impl FnOnce(&TestApp)) -> TestApp {
        let _ = self.child.kill();
        let _ = self.child.wait();
        between(&self);
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let db_url = self.db_url.clone();
        drop(self);
        TestApp::start(dir, db_url, &[])
    }

    /// Runs `tessera-server <args> --database-url <this database>`.
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        self.run_with_input(args, None)
    }

    /// `run`, with `stdin` written to the command; returns success and what it printed.
    fn run_with_input(&self, args: &[&str], stdin: Option<&str>) -> (bool, String) {
        let mut child = Command::new(BIN)
            .args(args)
            .args(["--database-url", &self.db_url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tessera-server");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Sends SIGTERM and returns the exit status once the server has stopped.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server did not stop on SIGTERM");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Waits until the server's log has `text` (work it does in the background); panics
    /// with the log after 10 s.
    pub async fn until_logged(&self, text: &str) {
        for _ in 0..100 {
            if self.logs().contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the log never said {text:?}:\n{}", self.logs());
    }

    /// Runs `tessera-server user …` against this server's database; panics on failure.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (ok, text) = self.cli_result(args, stdin);
        assert!(ok, "user {args:?} failed: {text}");
        text
    }

    /// Runs `tessera-server user …` and returns whether it succeeded and what it printed.
    pub fn cli_result(&self, args: &[&str], stdin: Option<&str>) -> (bool, String) {
        let args: Vec<&str> = std::iter::once("user")
            .chain(args.iter().copied())
            .collect();
        self.run_with_input(&args, stdin)
    }

    /// Adds a user with a known password and the given permissions and zones.
    pub fn add_user(&self, name: &str, permissions: &[&str], zones: &[&str]) -> String {
        let password = format!("{name}-password-1");
        let perms = permissions.join(",");
        let zones = zones.join(",");
        let mut args = vec!["add", name, "--password-stdin"];
        if !perms.is_empty() {
            args.extend(["--permissions", &perms]);
        }
        if !zones.is_empty() {
            args.extend(["--zones", &zones]);
        }
        self.cli(&args, Some(&format!("{password}\n")));
        password
    }

    /// One sign-in attempt without keeping the session.
    pub async fn attempt_sign_in(&self, username: &str, password: &str) -> Response {
        reqwest::Client::new()
            .post(self.url("/api/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let response = client
            .post(self.url("/api/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "sign in as {username}");
        let body: Value = response.json().await.unwrap();
        Session {
            base: self.base.clone(),
            client,
            csrf: body["csrfToken"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.sign_in("admin", ADMIN_PASSWORD).await
    }

    /// A user with the permissions, signed in.
    pub async fn user(&self, name: &str, permissions: &[&str]) -> Session {
        // Sign-in reads the user from the database, so no wait for the re-read.
        let password = self.add_user(name, permissions, &["Production"]);
        self.sign_in(name, &password).await
    }

    pub fn token_client(&self, token: &str) -> TokenClient {
        TokenClient {
            base: self.base.clone(),
            client: reqwest::Client::new(),
            token: token.to_owned(),
        }
    }

    pub async fn check(&self, token: &str, scope: &str) -> Response {
        reqwest::Client::new()
            .get(self.url(&format!("/api/v2/auth/check?scope={scope}")))
            .header("Authorization", format!("Api-Token {token}"))
            .send()
            .await
            .unwrap()
    }

    /// Polls `check` until it answers `status` (for changes picked up asynchronously).
    pub async fn eventually_check(&self, token: &str, scope: &str, status: StatusCode) -> Response {
        for _ in 0..50 {
            let r = self.check(token, scope).await;
            if r.status() == status {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("check never answered {status}");
    }

    /// Everything the database holds: on SQLite every byte on disk (main file, WAL); on
    /// PostgreSQL every row of every table, as text.
    pub async fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        if !self.on_sqlite() {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&self.db_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                all.extend(rows.concat().into_bytes());
            }
            return all;
        }
        for suffix in ["", "-wal", "-shm"] {
            let path = self.dir.path().join(format!("tessera.db{suffix}"));
            if let Ok(bytes) = std::fs::read(path) {
                all.extend(bytes);
            }
        }
        all
    }

    pub async fn audit_events(&self) -> Vec<tessera_server::store::AuditEvent> {
        self.store().await.audit_log(10_000).await.unwrap()
    }

    /// The server's database, opened beside it (as the CLI opens it).
    pub async fn store(&self) -> std::sync::Arc<dyn tessera_server::store::Store> {
        tessera_server::store::open(&self.db_url).await.unwrap()
    }

    /// Signs in and keeps the cookie and CSRF token for hand-written requests.
    pub async fn raw_session(&self, username: &str, password: &str) -> RawSession {
        let response = self.attempt_sign_in(username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "sign in as {username}");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        RawSession {
            cookie,
            csrf: body["csrfToken"].as_str().unwrap().to_owned(),
        }
    }
}
