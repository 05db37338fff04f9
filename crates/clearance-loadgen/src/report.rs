//! Turning tallies into figures: requests per second, latency percentiles, and
//! the ratio of `/v1/check` to the ceiling, as a plain table and as Markdown.

use std::fmt::Write;
use std::time::Duration;

use crate::load::Tally;

/// The figures of one endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// `POST /v1/check`.
    pub endpoint: String,
    /// Successful measured answers.
    pub requests: u64,
    /// Successful measured answers per second.
    pub per_second: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile latency, microseconds.
    pub p999_us: f64,
    /// Highest latency, microseconds.
    pub max_us: f64,
    /// Failed or wrong answers.
    pub errors: u64,
    /// The server process's own CPU time per measured answer, microseconds (when its pid
    /// was given).
    pub cpu_us: Option<f64>,
}

impl Summary {
    /// The figures of `tally` over `measured` time.
    pub fn new(endpoint: &str, tally: &Tally, measured: Duration) -> Summary {
        let latency = &tally.latency;
        let micros = |nanos: u64| nanos as f64 / 1000.0;
        let requests = latency.len();
        Summary {
            endpoint: endpoint.to_owned(),
            requests,
            per_second: requests as f64 / measured.as_secs_f64(),
            p50_us: micros(latency.value_at_quantile(0.50)),
            p99_us: micros(latency.value_at_quantile(0.99)),
            p999_us: micros(latency.value_at_quantile(0.999)),
            max_us: micros(latency.max()),
            errors: tally.errors,
            cpu_us: None,
        }
    }

    /// These figures with the server's CPU time over the measured window, per answer.
    pub fn with_server_cpu(mut self, cpu: Option<Duration>) -> Summary {
        self.cpu_us = cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / self.requests.max(1) as f64);
        self
    }
}

/// A figure, or `-` when it was not measured.
fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.decimals$}"))
}

/// A plain-text table, one row per endpoint.
pub fn table(summaries: &[Summary]) -> String {
    let mut out = format!(
        "{:<34} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>7} {:>13}\n",
        "endpoint",
        "requests",
        "req/s",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "errors",
        "server CPU µs"
    );
    for summary in summaries {
        let _ = writeln!(
            out,
            "{:<34} {:>10} {:>10.0} {:>10.0} {:>10.0} {:>11.0} {:>10.0} {:>7} {:>13}",
            summary.endpoint,
            summary.requests,
            summary.per_second,
            summary.p50_us,
            summary.p99_us,
            summary.p999_us,
            summary.max_us,
            summary.errors,
            optional(summary.cpu_us, 1)
        );
    }
    out
}

/// How `check` compares with the ceiling: its share of the ceiling's
/// throughput, how many times the ceiling's p50 and p99 it takes, and (when
/// measured) how many times the server CPU time per request.
pub fn ratio_line(check: &Summary, ceiling: &Summary) -> String {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    let mut line = format!(
        "{} vs {}: {:.0}% of the ceiling's requests/s; p50 {:.2}x, p99 {:.2}x the ceiling's",
        check.endpoint,
        ceiling.endpoint,
        100.0 * ratio(check.per_second, ceiling.per_second),
        ratio(check.p50_us, ceiling.p50_us),
        ratio(check.p99_us, ceiling.p99_us),
    );
    if let (Some(check_cpu), Some(ceiling_cpu)) = (check.cpu_us, ceiling.cpu_us) {
        let _ = write!(
            line,
            "; server CPU {check_cpu:.1} µs vs {ceiling_cpu:.1} µs per request, {:.2}x",
            ratio(check_cpu, ceiling_cpu)
        );
    }
    line
}

/// How one endpoint compares with a rival's doing the same work: how many
/// times its requests/s, and its p50 and p99 as a share of the rival's.
pub fn versus_line(ours: &Summary, rival: &Summary) -> String {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    format!(
        "{} vs {}: {:.2}x the requests/s; p50 {:.2}x, p99 {:.2}x the rival's",
        ours.endpoint,
        rival.endpoint,
        ratio(ours.per_second, rival.per_second),
        ratio(ours.p50_us, rival.p50_us),
        ratio(ours.p99_us, rival.p99_us),
    )
}

/// Markdown table rows for BENCHMARKS.md.
pub fn markdown(summaries: &[Summary], connections: usize) -> String {
    let mut out = String::from(
        "| endpoint | connections | requests/s | p50 (µs) | p99 (µs) | p99.9 (µs) | errors | server CPU (µs/request) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for summary in summaries {
        let _ = writeln!(
            out,
            "| `{}` | {connections} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
            summary.endpoint,
            summary.per_second,
            summary.p50_us,
            summary.p99_us,
            summary.p999_us,
            summary.errors,
            optional(summary.cpu_us, 1)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

    fn tally(latencies_us: &[u64], errors: u64) -> Tally {
        let mut latency = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
        for us in latencies_us {
            latency.record(us * 1000).expect("in range");
        }
        Tally { latency, errors }
    }

    #[test]
    fn summaries_count_only_successes_per_measured_second() {
        let latencies: Vec<u64> = (1..=100).collect();
        let summary = Summary::new(
            "GET /healthz",
            &tally(&latencies, 3),
            Duration::from_secs(2),
        );
        assert_eq!(summary.requests, 100);
        assert_eq!(summary.per_second, 50.0);
        assert_eq!(summary.errors, 3);
        assert!((summary.p50_us - 50.0).abs() < 0.1, "{}", summary.p50_us);
        assert!((summary.p99_us - 99.0).abs() < 0.1, "{}", summary.p99_us);
        assert!((summary.max_us - 100.0).abs() < 0.1, "{}", summary.max_us);
    }

    #[test]
    fn the_ratio_compares_check_with_the_ceiling() {
        let ceiling = Summary::new(
            "GET /healthz",
            &tally(&[100; 10], 0),
            Duration::from_secs(1),
        );
        let check = Summary::new(
            "POST /v1/check",
            &tally(&[200; 5], 0),
            Duration::from_secs(1),
        );
        assert_eq!(
            ratio_line(&check, &ceiling),
            "POST /v1/check vs GET /healthz: 50% of the ceiling's requests/s; p50 2.00x, p99 2.00x the ceiling's"
        );
    }

    #[test]
    fn the_ratio_compares_server_cpu_per_request_when_measured() {
        let ceiling = Summary::new(
            "GET /healthz",
            &tally(&[100; 10], 0),
            Duration::from_secs(1),
        )
        .with_server_cpu(Some(Duration::from_micros(100)));
        let check = Summary::new(
            "POST /v1/check",
            &tally(&[200; 5], 0),
            Duration::from_secs(1),
        )
        .with_server_cpu(Some(Duration::from_micros(75)));
        assert_eq!(check.cpu_us, Some(15.0));
        assert_eq!(
            ratio_line(&check, &ceiling),
            "POST /v1/check vs GET /healthz: 50% of the ceiling's requests/s; p50 2.00x, p99 2.00x the ceiling's; \
             server CPU 15.0 µs vs 10.0 µs per request, 1.50x"
        );
        assert!(table(&[check]).contains(" 15.0\n"));
    }

    #[test]
    fn the_versus_line_compares_with_the_rival() {
        let rival = Summary::new("Cerbos", &tally(&[400; 4], 0), Duration::from_secs(1));
        let ours = Summary::new("clearance", &tally(&[100; 16], 0), Duration::from_secs(1));
        assert_eq!(
            versus_line(&ours, &rival),
            "clearance vs Cerbos: 4.00x the requests/s; p50 0.25x, p99 0.25x the rival's"
        );
    }
}
