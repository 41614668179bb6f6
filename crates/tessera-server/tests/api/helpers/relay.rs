//! A TCP relay between a node and PostgreSQL that a test can cut: the node loses its
//! database while the cluster and every other node keep theirs.
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    pub addr: SocketAddr,
    cut: watch::Sender<bool>,
}

impl Relay {
    /// Relays every connection made to `addr` to `target` (`host:port`).
    pub async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *watching.borrow() {
                    continue; // dropped: the connection is refused from now on
                }
                let (target, mut watching) = (target.clone(), watching.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }

    /// A database URL like `url` that connects through this relay.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (credentials, after) = rest.rsplit_once('@').unwrap();
        let path = &after[after.find('/').unwrap()..];
        format!("{scheme}://{credentials}@{}{path}", self.addr)
    }

    /// The `host:port` a database URL names.
    pub fn target_of(url: &str) -> String {
        let after = url.rsplit_once('@').unwrap().1;
        after[..after.find('/').unwrap()].to_owned()
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }
}
