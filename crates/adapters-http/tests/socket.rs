//! Over a real socket on 127.0.0.1, for what the HTTP/1 codec adds to the
//! routes: chunked bodies, early refusals and HEAD.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use portal_auth_adapters_http::{HttpSettings, configure};
use support::{World, world};

async fn serve(world: &World) -> (SocketAddr, ServerHandle) {
    let configure = configure(world.auth.clone(), HttpSettings::default());
    let server = HttpServer::new(move || App::new().configure(configure.clone()))
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (address, handle)
}

/// Writes a raw request and reads the answer until the server closes. The
/// read timeout turns a server that waits for more body into a failure.
async fn exchange(address: SocketAddr, request: Vec<u8>) -> String {
    actix_web::rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(&request).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap()
}

fn head_of(path: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n"
    )
}

#[actix_web::test]
async fn a_chunked_body_is_cut_off_once_it_passes_16_kib() {
    let w = world();
    let (address, server) = serve(&w).await;
    let mut request =
        head_of("/api/v1/auth/identify", "Transfer-Encoding: chunked\r\n").into_bytes();
    for _ in 0..17 {
        request.extend(format!("400\r\n{}\r\n", "x".repeat(1024)).into_bytes());
    }
    request.extend(b"0\r\n\r\n");

    let answer = exchange(address, request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
    server.stop(false).await;
}

#[actix_web::test]
async fn a_declared_length_over_the_limit_is_answered_without_waiting_for_the_body() {
    let w = world();
    let (address, server) = serve(&w).await;
    let request = head_of("/api/v1/auth/login", "Content-Length: 1000000\r\n") + "{\"email\":";

    let answer = exchange(address, request.into_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    server.stop(false).await;
}

#[actix_web::test]
async fn head_answers_the_headers_of_get_without_a_body() {
    let w = world();
    let (address, server) = serve(&w).await;
    let request = "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

    let answer = exchange(address, request.as_bytes().to_vec()).await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        head.to_ascii_lowercase().contains("content-length: 15"),
        "{head}"
    );
    assert_eq!(body, "");
    server.stop(false).await;
}
