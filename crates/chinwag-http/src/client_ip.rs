//! The client's address: the TCP peer, or, when the peer is one of the configured trusted
//! proxies, the nearest address in `X-Forwarded-For` that is not a trusted proxy. Without
//! trusted proxies the header is ignored, so a client cannot choose the address its limits
//! are counted against.

use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The TCP peer of the connection a request came on (inserted into every request's
/// extensions by the accept loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// Address ranges of the proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// Most `X-Forwarded-For` entries looked at (nearest first).
const MAX_HOPS: usize = 16;

impl TrustedProxies {
    /// Parses addresses and CIDR ranges (`10.0.0.0/8`, `::1`, `fd00::/8`).
    pub fn parse(list: &[String]) -> Result<Self, String> {
        let mut out = Vec::with_capacity(list.len());
        for item in list {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item.as_str(), None),
            };
            let ip: IpAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("'{item}' is not an IP address or CIDR range"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("'{item}' has a bad prefix length"))?,
            };
            out.push((ip, bits));
        }
        Ok(Self(out))
    }

    /// Whether none are configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, bits)| in_range(ip, *net, *bits))
    }

    /// The client address of a request that arrived from `peer` with these
    /// `X-Forwarded-For` header values.
    pub fn resolve<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
        let mut client = canonical(peer);
        for hop in hops.iter().rev().take(MAX_HOPS) {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.contains(ip) {
                        break;
                    }
                }
                // An unreadable entry: the last proxy we believe is as far as we can see.
                None => break,
            }
        }
        client
    }

    /// The client address of a request with `headers` from `peer`.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() {
            return canonical(peer);
        }
        self.resolve(
            peer,
            headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so one client has one form.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port, maybe bracketed.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .and_then(|(a, _)| a.parse().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        let v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        TrustedProxies::parse(&v).unwrap_or_default()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let t = TrustedProxies::default();
        assert_eq!(
            t.resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "::1"]);
        let peer = ip("10.1.1.1");
        assert_eq!(
            t.resolve(peer, ["6.6.6.6, 198.51.100.7, 10.2.2.2"].into_iter()),
            ip("198.51.100.7"),
            "a client cannot choose its address by prepending one"
        );
        assert_eq!(
            t.resolve(peer, ["198.51.100.7:5555"].into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(
            t.resolve(peer, ["[2001:db8::1]:80"].into_iter()),
            ip("2001:db8::1")
        );
        assert_eq!(t.resolve(peer, std::iter::empty()), peer);
        assert_eq!(t.resolve(peer, ["garbage"].into_iter()), peer);
        assert_eq!(
            t.resolve(ip("::1"), ["10.9.9.9"].into_iter()),
            ip("10.9.9.9"),
            "only trusted hops: the farthest one"
        );
        assert_eq!(
            t.resolve(ip("192.0.2.1"), ["10.9.9.9"].into_iter()),
            ip("192.0.2.1"),
            "an untrusted peer is the client"
        );
    }

    #[test]
    fn ranges_and_bad_entries() {
        assert!(trusted(&["192.168.0.0/16"]).contains(ip("192.168.200.1")));
        assert!(!trusted(&["192.168.0.0/16"]).contains(ip("192.169.0.1")));
        assert!(trusted(&["0.0.0.0/0"]).contains(ip("8.8.8.8")));
        assert!(trusted(&["fd00::/8"]).contains(ip("fd12::1")));
        assert!(trusted(&["127.0.0.1"]).contains(ip("::ffff:127.0.0.1")));
        for bad in ["x", "10.0.0.0/33", "::/129", "10.0.0.0/a"] {
            assert!(TrustedProxies::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
