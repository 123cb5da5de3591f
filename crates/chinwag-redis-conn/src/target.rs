//! Where to connect: [`Target`], parsed from `redis://…` (one server) or
//! `redis+cluster://[user:pass@]h1:p1[,h2:p2…]` (cluster seed nodes sharing the credentials).

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One server (`redis://`, `redis+unix://`, `unix://` URLs).
    Single(String),
    /// A cluster, from one or more seed nodes (each a `redis://` URL).
    Cluster(Vec<String>),
}

/// A URL naming no Redis this layer can use; says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("redis url: {0}")]
pub struct BadUrl(pub String);

impl Target {
    /// Parses a URL. `redis+cluster://[user:pass@]h1:p1[,h2:p2…]` names cluster seed nodes
    /// (the credentials apply to each).
    pub fn parse(url: &str) -> Result<Self, BadUrl> {
        if let Some(rest) = url.strip_prefix("redis+cluster://") {
            let (auth, hosts) = match rest.rsplit_once('@') {
                Some((a, h)) => (format!("{a}@"), h),
                None => (String::new(), rest),
            };
            let nodes: Vec<String> = hosts
                .trim_end_matches('/')
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(|h| format!("redis://{auth}{h}"))
                .collect();
            if nodes.is_empty() {
                return Err(BadUrl("redis+cluster:// names no node".into()));
            }
            return Ok(Self::Cluster(nodes));
        }
        if ["redis://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return Ok(Self::Single(url.to_owned()));
        }
        Err(BadUrl(
            "expected redis://host:port or redis+cluster://host:port[,host:port…]".into(),
        ))
    }

    /// The single-server URLs a plain connection (pub/sub) may use, in order: the server, or
    /// every seed node.
    pub fn servers(&self) -> Vec<String> {
        match self {
            Self::Single(u) => vec![u.clone()],
            Self::Cluster(nodes) => nodes.clone(),
        }
    }

    /// Whether this names a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn urls_parse() {
        assert_eq!(
            Target::parse("redis://127.0.0.1:7000").ok(),
            Some(Target::Single("redis://127.0.0.1:7000".into()))
        );
        assert!(Target::parse("redis+unix:///run/redis.sock").is_ok());
        assert!(Target::parse("unix:///run/redis.sock").is_ok());
        assert_eq!(
            Target::parse("redis+cluster://a:1, b:2,").ok(),
            Some(Target::Cluster(vec![
                "redis://a:1".into(),
                "redis://b:2".into()
            ]))
        );
        assert_eq!(
            Target::parse("redis+cluster://u:p@a:1, b:2/").ok(),
            Some(Target::Cluster(vec![
                "redis://u:p@a:1".into(),
                "redis://u:p@b:2".into()
            ]))
        );
        // The last `@` separates the credentials: a password may hold one.
        assert_eq!(
            Target::parse("redis+cluster://u:p@w@a:1,b:2").ok(),
            Some(Target::Cluster(vec![
                "redis://u:p@w@a:1".into(),
                "redis://u:p@w@b:2".into()
            ]))
        );
        assert!(Target::parse("redis+cluster://").is_err());
        assert!(Target::parse("redis+cluster://u:p@ , ").is_err());
        assert!(Target::parse("http://x").is_err());
        assert!(Target::parse("sqlite://x").is_err());
    }

    #[test]
    fn servers_are_the_server_or_every_seed() {
        let single = Target::parse("redis://a:1").ok();
        assert_eq!(
            single.map(|t| t.servers()),
            Some(vec!["redis://a:1".into()])
        );
        let cluster = Target::parse("redis+cluster://a:1,b:2").ok();
        assert_eq!(
            cluster.map(|t| t.servers()),
            Some(vec!["redis://a:1".into(), "redis://b:2".into()])
        );
    }
}
