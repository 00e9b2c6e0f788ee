//! HTTPS: a TLS 1.3-only rustls configuration (ring provider) from PEM files, and a listener
//! for `axum::serve` whose handshakes run in their own tasks, so a slow or silent client never
//! holds up the next accept.

use anyhow::{Context, Result, bail};
use axum::serve::{Listener, ListenerExt, TapIo};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const MAX_HANDSHAKES: usize = 512;
/// Finished handshakes waiting for the server to pick them up.
const READY_QUEUE: usize = 64;

/// Loads a PEM certificate chain and private key into a TLS 1.3-only server configuration.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the certificate chain {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no PEM certificate", cert.display());
    }
    let private_key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    config_from(chain, private_key)
}

/// A TLS 1.3-only server configuration for a certificate chain and its key, offering HTTP/1.1.
pub fn config_from(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("configuring TLS 1.3")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the private key does not fit the certificate, or is not supported")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener handing `axum::serve` connections whose TLS handshake has completed.
pub struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

/// A [`TlsListener`] as `into_make_service_with_connect_info::<SocketAddr>()` accepts it.
pub type ConnectInfoTlsListener = TapIo<TlsListener, fn(&mut TlsStream<TcpStream>)>;

impl TlsListener {
    /// Binds `addr` and serves TLS with `config`.
    pub async fn bind(addr: SocketAddr, config: Arc<ServerConfig>) -> io::Result<Self> {
        Self::new(TcpListener::bind(addr).await?, config)
    }

    /// Serves TLS with `config` on an already bound listener.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        let accepting = tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), sender));
        Ok(Self {
            local_addr,
            ready,
            accepting,
        })
    }

    /// This listener in the shape that gives handlers `ConnectInfo<SocketAddr>` (axum only
    /// provides that connection info for its own listeners and for tapped ones).
    pub fn with_connect_info(self) -> ConnectInfoTlsListener {
        self.tap_io(leave_as_is)
    }
}

fn leave_as_is(_: &mut TlsStream<TcpStream>) {}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            None => {
                // The accept loop only ends when this listener is dropped.
                tracing::error!("the TLS accept loop stopped; no more connections");
                std::future::pending().await
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = ready.closed() => return,
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
            drop(slot);
        });
    }
}

// As axum's own listener does: a connection that died before it was accepted is no news; any
// other error (out of file descriptors) is logged and given a second to pass.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
