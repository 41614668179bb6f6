//! A real nginx running the shipped `deploy/nginx/tessera-auth.conf`, in front of an
//! upstream that records what reaches it.
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use serde_json::{json, Value};
use tempfile::TempDir;

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
}

/// The protected service: answers 200 with the headers it got, and remembers them.
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let record = record.clone();
                async move {
                    let echo: serde_json::Map<String, Value> = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
                        .collect();
                    record.lock().unwrap().push(Seen {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        headers,
                    });
                    Json(Value::Object(echo))
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { addr, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// nginx on a free loopback port, configured from the shipped file.
pub struct Nginx {
    pub base: String,
    dir: TempDir,
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    let sbin = Path::new("/usr/sbin/nginx");
    if sbin.exists() {
        sbin.to_owned()
    } else {
        PathBuf::from("nginx")
    }
}

/// The shipped config with its three addresses pointed at this test's processes.
pub fn configure(shipped: &str, tessera: &str, upstream: SocketAddr, port: u16) -> String {
    let replace = |text: String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "the shipped config no longer has `{from}`"
        );
        text.replace(from, to)
    };
    let text = replace(
        shipped.to_owned(),
        "server 127.0.0.1:8080;",
        &format!("server {tessera};"),
    );
    let text = replace(
        text,
        "server 127.0.0.1:9000;",
        &format!("server {upstream};"),
    );
    replace(text, "listen 8000;", &format!("listen 127.0.0.1:{port};"))
}

fn shipped(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/nginx")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shipped cluster config with its three nodes replaced by `nodes`, its API address by
/// `api_port`, and the auth config's one-node upstream replaced by it.
pub fn configure_cluster(nodes: &[&str], upstream: SocketAddr, port: u16, api_port: u16) -> String {
    let cluster = shipped("tessera-cluster.conf");
    let servers: String = nodes
        .iter()
        .map(|n| format!("    server {n} max_fails=2 fail_timeout=5s;\n"))
        .collect();
    let start = cluster
        .find("    server 127.0.0.1:8081")
        .expect("cluster nodes");
    let end = cluster
        .find("    keepalive 32;")
        .expect("cluster keepalive");
    let cluster = format!("{}{servers}{}", &cluster[..start], &cluster[end..]);
    assert!(cluster.contains("listen 8080;"));
    let cluster = cluster.replace("listen 8080;", &format!("listen 127.0.0.1:{api_port};"));
    // The auth config, configured for one node, then without its own `upstream tessera`.
    let auth = configure(&shipped("tessera-auth.conf"), nodes[0], upstream, port);
    let start = auth.find("upstream tessera {").expect("auth upstream");
    let end = start + auth[start..].find("}\n").expect("end of upstream") + 2;
    format!("{cluster}\n{}{}", &auth[..start], &auth[end..])
}

impl Nginx {
    /// Starts nginx with the shipped config; `tessera` is Tessera's `host:port`.
    pub fn start(tessera: &str, upstream: SocketAddr) -> Nginx {
        let port = free_port();
        Nginx::start_with(
            configure(&shipped("tessera-auth.conf"), tessera, upstream, port),
            port,
        )
    }

    /// Starts nginx in front of several nodes (the shipped cluster config); returns it and
    /// the base URL of the nodes' API behind it.
    pub fn start_cluster(nodes: &[&str], upstream: SocketAddr) -> (Nginx, String) {
        let (port, api_port) = (free_port(), free_port());
        let text = configure_cluster(nodes, upstream, port, api_port);
        (
            Nginx::start_with(text, port),
            format!("http://127.0.0.1:{api_port}"),
        )
    }

    fn start_with(config: String, port: u16) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("tessera-auth.conf"), config).unwrap();
        // Everything nginx writes stays in the temp dir; one process, so no user switch.
        let main = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               include {d}/tessera-auth.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let child = Command::new(nginx_binary())
            .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nginx: install it with `make tools-test` (Debian package nginx)");
        let mut nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        };
        nginx.wait_until_listening(port);
        nginx
    }

    fn wait_until_listening(&mut self, port: u16) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("nginx exited with {status}: {err}{}", self.error_log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nginx did not listen on {port}: {}", self.error_log());
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}
