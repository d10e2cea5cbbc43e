//! What the benchmarks need and the product does not: the benchmark's jobs, `traced` (which
//! the partition test counts per host) and their handlers (run by `workers bench`, built
//! into the worker only with its `bench` feature), the
//! timerfd sleep of the `sleep` job, and the quantile and table printer the benchmark
//! programs share. The programs themselves are this crate's binaries.

pub mod handlers;
pub mod jobs;
pub mod precise_sleep;
pub mod report;
