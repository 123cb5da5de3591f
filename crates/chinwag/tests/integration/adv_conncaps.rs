//! The per-address connection cap over real sockets: past `max_connections_per_ip` from one
//! TCP peer, connections are refused with a raw `429` and closed, while another source
//! address (127.0.0.2) still connects; the cap counts the TCP peer, never the client an
//! `X-Forwarded-For` names, and trusted proxies count only in the total.

use crate::adv_net::*;
use crate::common::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A CometD handshake, served by the long-polling front (the connection stays there).
pub(crate) fn handshake_request(extra: &str) -> Vec<u8> {
    let body = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]"#;
    let mut req = post_head("/genesys/cometd", "application/json", body.len(), extra).into_bytes();
    req.extend_from_slice(body.as_bytes());
    req
}

/// Asserts that a new connection from `src` is refused with `429` and closed.
async fn refused_429(src: &str, addr: &str) -> R {
    let mut s = connect_from(src, addr).await?;
    // What the client sends is read and dropped, never answered.
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 198.51.100.9\r\n\r\n")
        .await?;
    let (bytes, end) = read_until_end(&mut s, within(10)).await;
    let r = Response::parse(&bytes)?;
    assert_eq!((r.status, &end), (429, &End::Closed), "from {src}");
    assert_eq!(r.header("retry-after"), Some("5"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body, b"too many connections from your address\n");
    Ok(())
}

/// `n` connections from `src`, each proven accepted by a served request (half over the
/// general server, half over the CometD front) and kept open.
async fn held(src: &str, addr: &str, n: usize) -> R<Vec<TcpStream>> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut s = connect_from(src, addr).await?;
        if i % 2 == 0 {
            assert_eq!(health_on(&mut s, "").await?, 200, "{src} #{i}");
        } else {
            s.write_all(&handshake_request("")).await?;
            let r = read_response(&mut s, within(10)).await?;
            assert_eq!(r.status, 200, "{src} #{i}");
            assert_eq!(r.json()?[0]["successful"], true);
        }
        out.push(s);
    }
    Ok(out)
}

#[tokio::test]
async fn past_the_per_address_cap_a_peer_gets_429_and_other_addresses_still_connect() -> R {
    let launch = Launch {
        capture_stderr: true,
        ..Launch::default()
    };
    let server = Server::start_with("[server]\nmax_connections_per_ip = 4\n", launch).await?;
    let addr = server.addr();
    let mut mine = held("127.0.0.1", &addr, 4).await?;
    for _ in 0..20 {
        refused_429("127.0.0.1", &addr).await?;
    }
    // Another address is not affected: it connects and starts a chat.
    let mut other = held("127.0.0.2", &addr, 3).await?;
    let body = "nickname=Other";
    let mut req = post_head(
        "/genesys/2/chat/customer-support/",
        "application/x-www-form-urlencoded",
        body.len(),
        "",
    )
    .into_bytes();
    req.extend_from_slice(body.as_bytes());
    let mut s = connect_from("127.0.0.2", &addr).await?;
    s.write_all(&req).await?;
    let r = read_response(&mut s, within(10)).await?;
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert!(r.json()?["chatId"].is_string());
    // The held connections still work, and a closed one gives its place back.
    assert_eq!(health_on(&mut mine[0], "").await?, 200);
    drop(mine.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = connect_from("127.0.0.1", &addr).await?;
        if health_on(&mut s, "").await.ok() == Some(200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((mine, other.pop()));
    let lines = server.stderr_count("connection refused").await;
    assert!(
        (1..=2).contains(&lines),
        "{lines} 'connection refused' lines for 20 refusals"
    );
    Ok(())
}

#[tokio::test]
async fn connection_caps_count_the_tcp_peer_not_x_forwarded_for() -> R {
    let cfg = "[server]\nmax_connections_per_ip = 3\ntrusted_proxies = [\"127.0.0.1\"]\n";
    let server = Server::start(cfg).await?;
    let addr = server.addr();
    // A trusted proxy carries many clients: its connections count only in the total, even
    // when every request names the same client.
    let mut proxy = Vec::new();
    for i in 0..12 {
        let mut s = connect_from("127.0.0.1", &addr).await?;
        let status = health_on(&mut s, "x-forwarded-for: 203.0.113.7\r\n").await?;
        assert_eq!(status, 200, "proxied connection #{i}");
        proxy.push(s);
    }
    // An untrusted peer is capped by its own address, whatever clients it names.
    let mut direct = Vec::new();
    for i in 0..3 {
        let mut s = connect_from("127.0.0.2", &addr).await?;
        let xff = format!("x-forwarded-for: 203.0.113.{i}\r\n");
        assert_eq!(health_on(&mut s, &xff).await?, 200);
        direct.push(s);
    }
    refused_429("127.0.0.2", &addr).await?;
    // A third address still connects.
    let mut s = connect_from("127.0.0.3", &addr).await?;
    assert_eq!(health_on(&mut s, "").await?, 200);
    drop((proxy, direct));
    Ok(())
}
