//! What every fuzz target of the workspace shares (each crate's `tests/fuzz` includes this
//! file with `#[path]`): the case count (`PROPTEST_CASES`, or a small default for the normal
//! test run), no failure files written into the repository, a runner that reports how many
//! cases passed in how long, and one current-thread runtime whose clock is paused (a held
//! connect or any timer completes at once, in virtual time).

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// The proptest settings: `PROPTEST_CASES` cases (`default_cases` without it), no
/// persistence of failures (the failing input is printed instead).
pub(crate) fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Stack of the thread a fuzz target runs on.
const STACK: usize = 64 << 20;

/// Runs `test` over inputs from the strategy `make` builds; panics with the smallest failing
/// input.
pub(crate) fn fuzz<S, F>(name: &str, default_cases: u32, make: impl FnOnce() -> S + Send, test: F)
where
    S: Strategy,
    S::Value: Debug,
    F: Fn(S::Value) -> Result<(), TestCaseError> + Send,
{
    let config = config(default_cases);
    let cases = config.cases;
    let started = Instant::now();
    // On a thread of its own with a large stack: generating deeply nested inputs takes more
    // stack than a test thread has in debug builds.
    let outcome = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name(format!("fuzz {name}"))
            .stack_size(STACK)
            .spawn_scoped(s, move || {
                let mut runner = TestRunner::new(config);
                match runner.run(&make(), test) {
                    Ok(()) => Ok(()),
                    Err(TestError::Fail(why, input)) => {
                        Err(format!("failed: {why}\nminimal failing input: {input:?}"))
                    }
                    Err(TestError::Abort(why)) => Err(format!("aborted: {why}")),
                }
            })
            .unwrap_or_else(|e| panic!("no thread for fuzz {name}: {e}"))
            .join()
            .unwrap_or_else(|_| Err("panicked outside a case".to_owned()))
    });
    match outcome {
        Ok(()) => eprintln!(
            "fuzz {name}: {cases} cases passed in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Err(why) => panic!("fuzz {name} {why}"),
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
}

/// Longest (virtual) time one request may take: far past every timer of the server, so only
/// a request that would never be answered reaches it.
const ANSWER_WITHIN: Duration = Duration::from_secs(3_600);

/// Runs `f` to completion on this thread's paused runtime, or fails the case if it is not
/// done within [`ANSWER_WITHIN`] of virtual time (an input that is never answered).
pub(crate) fn answered<F: Future>(f: F) -> Result<F::Output, TestCaseError> {
    RUNTIME
        .with(|rt| rt.block_on(async { tokio::time::timeout(ANSWER_WITHIN, f).await }))
        .map_err(|_| TestCaseError::fail("no answer within an hour (virtual time)"))
}
