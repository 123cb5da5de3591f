//! The process's open-file limit: raised to its hard maximum at start (each connection is a
//! descriptor; the soft default is often 1,024), and read to size the connection cap so that
//! Chinwag refuses connections cleanly before the system refuses them for it.

/// Raises the soft open-file limit to the hard one; returns the limit now in force (`None`
/// when it cannot be read, e.g. on a system without `RLIMIT_NOFILE`).
pub(crate) fn raise() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let (Some(cur), Some(max)) = (limit.current, limit.maximum)
        && cur < max
    {
        let raised = Rlimit {
            current: Some(max),
            maximum: Some(max),
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return Some(max);
        }
    }
    limit.current
}
