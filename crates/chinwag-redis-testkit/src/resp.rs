//! A tiny blocking RESP client, enough to ask a server whether it is up (`PING`) and what
//! `CLUSTER INFO` says, without depending on a Redis client library.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends one command to `127.0.0.1:port` and returns its reply as text (status, integer or
/// bulk string; an error reply is an `Err`).
pub(crate) fn ask(port: u16, args: &[&str]) -> io::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    (&stream).write_all(out.as_bytes())?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end().to_owned();
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    match line.chars().next() {
        Some('+' | ':') => Ok(line[1..].to_owned()),
        Some('-') => Err(io::Error::other(line[1..].to_owned())),
        Some('$') => {
            let len: i64 = line[1..].parse().map_err(|_| bad("bad bulk length"))?;
            let Ok(len) = usize::try_from(len) else {
                return Ok(String::new());
            };
            let mut buf = vec![0; len + 2];
            io::Read::read_exact(&mut reader, &mut buf)?;
            buf.truncate(len);
            String::from_utf8(buf).map_err(|_| bad("reply is not UTF-8"))
        }
        _ => Err(bad("unexpected reply")),
    }
}
