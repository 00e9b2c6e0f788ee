//! HTTPS: TLS 1.3 only, with handshakes that a silent client cannot hold up.

use crate::helpers::*;
use std::net::SocketAddr;
use std::sync::Arc;

/// A self-signed certificate for `localhost`, written as PEM files: (cert path, key path, DER).
fn self_signed(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    rustls::pki_types::CertificateDer<'static>,
) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    std::fs::create_dir_all(dir).expect("dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, signing_key.serialize_pem()).expect("write key");
    (cert_path, key_path, cert.der().clone())
}

async fn tls_client(
    addr: SocketAddr,
    trusted: &rustls::pki_types::CertificateDer<'static>,
    version: &'static rustls::SupportedProtocolVersion,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(trusted.clone())
        .expect("trust the test certificate");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .expect("protocol version")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_speaks_tls_1_3_only() {
    use commlog_server::http::tls::{TlsListener, server_config};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    run(TestApp::sqlite().await, |app| async move {
        let dir =
            std::env::temp_dir().join(format!("commlog-tls-{}", uuid::Uuid::new_v4().simple()));
        let (cert, key, der) = self_signed(&dir);
        let config = server_config(&cert, &key).expect("TLS configuration");
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let listener = TlsListener::new(tcp, config).expect("listener");
        let addr = axum::serve::Listener::local_addr(&listener).expect("address");
        let service = app
            .router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server =
            tokio::spawn(async move { axum::serve(listener.with_connect_info(), service).await });

        // A client that connects and never says hello must not hold up the next one.
        let _silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let deadline = std::time::Duration::from_secs(5);
        let mut tls =
            tokio::time::timeout(deadline, tls_client(addr, &der, &rustls::version::TLS13))
                .await
                .expect("handshake in time")
                .expect("TLS 1.3 handshake");
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        tls.write_all(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut answer = Vec::new();
        // The body is all that matters; how the server closes the stream does not.
        let _ = tokio::time::timeout(deadline, tls.read_to_end(&mut answer))
            .await
            .expect("answer in time");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("alive"), "{answer}");

        let refused = tls_client(addr, &der, &rustls::version::TLS12).await;
        assert!(
            refused.is_err(),
            "a TLS 1.2 client must not get a connection"
        );

        server.abort();
        let _ = std::fs::remove_dir_all(dir);
    })
    .await;
}
