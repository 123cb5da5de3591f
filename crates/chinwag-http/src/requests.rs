//! Counting answered requests for `/metrics`: `chinwag_http_requests_total`, labelled by the
//! adapter that answered (a fixed name) and the status class (`2xx`...), never by path or
//! client, so the number of series stays fixed. A no-op until the binary installs a
//! recorder.

/// The class label of an HTTP status: `1xx` to `5xx` (`other` for anything else).
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

/// Counts one request answered by `adapter` with `status`.
pub fn count_request(adapter: &'static str, status: u16) {
    metrics::counter!(
        "chinwag_http_requests_total",
        "adapter" => adapter,
        "status" => status_class(status)
    )
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let got: Vec<_> = [101, 200, 204, 302, 404, 429, 503, 600, 42]
            .map(status_class)
            .into();
        assert_eq!(
            got,
            [
                "1xx", "2xx", "2xx", "3xx", "4xx", "4xx", "5xx", "other", "other"
            ]
        );
    }
}
