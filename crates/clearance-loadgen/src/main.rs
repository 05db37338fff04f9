//! `clearance-loadgen`: loads one running clearance server over loopback with a
//! fixed number of keep-alive HTTP/1.1 connections for a fixed time, first on a
//! trivial endpoint (`GET /healthz`, the ceiling of this server on this machine)
//! and then on `POST /v1/check` (a mix of allowed and denied cases from the
//! demo data), and prints requests/s and latency percentiles of both side by
//! side with their ratio.
//!
//! The generator is closed-loop: each connection sends its next request when
//! the previous answer has arrived, so the figures are those of a server kept
//! busy by N clients, not of a fixed arrival rate.

mod cases;
mod load;
mod report;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use crate::load::{Endpoint, LoadPlan};
use crate::report::Summary;

/// Load `POST /v1/check` and `GET /healthz` of one clearance server.
#[derive(Parser, Debug)]
#[command(name = "clearance-loadgen", version, about)]
struct Args {
    /// The server, `http://HOST:PORT` (plain HTTP).
    #[arg(long, env = "CLEARANCE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,

    /// Bearer token for `/v1/check`; default: the demo's support agent token,
    /// which `clearance serve --demo` prints.
    #[arg(long, env = "CLEARANCE_TOKEN")]
    token: Option<String>,

    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,

    /// Measured time per endpoint, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,

    /// Time per endpoint before measuring starts (requests sent, not recorded), in seconds.
    #[arg(long, default_value_t = 2.0)]
    warm_up: f64,

    /// Threads of the load generator's runtime (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,

    /// Print the results also as Markdown table rows (for BENCHMARKS.md).
    #[arg(long)]
    markdown: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let addr = parse_url(&args.url)?;
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if args.duration.is_nan() || args.duration <= 0.0 || args.warm_up.is_nan() || args.warm_up < 0.0
    {
        bail!("--duration must be above 0 and --warm-up at least 0");
    }
    let token = args.token.clone().unwrap_or_else(|| {
        clearance_server::demo::demo_token(&clearance_server::demo::support_agent())
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;
    runtime.block_on(run(&args, addr, &token))
}

async fn run(args: &Args, addr: SocketAddr, token: &str) -> anyhow::Result<()> {
    let cases = cases::prepare(addr, token).await.context(
        "asking the server once for every demo case (is `clearance serve --demo` running?)",
    )?;
    let allowed = cases.iter().filter(|case| case.allowed).count();
    println!(
        "target {}: {} connections, {:.0} s warm-up then {:.0} s measured per endpoint, {} client thread(s)",
        args.url, args.connections, args.warm_up, args.duration, args.threads
    );
    println!(
        "check cases: {} from the demo tenants ({allowed} allowed, {} denied), cycled per connection",
        cases.len(),
        cases.len() - allowed
    );
    let plan = LoadPlan {
        addr,
        connections: args.connections,
        warm_up: Duration::from_secs_f64(args.warm_up),
        measured: Duration::from_secs_f64(args.duration),
    };
    let healthz = load::run(&plan, &Endpoint::healthz()).await;
    let check = load::run(&plan, &Endpoint::check(token, &cases)).await;
    let summaries = [
        Summary::new("GET /healthz", &healthz, plan.measured),
        Summary::new("POST /v1/check", &check, plan.measured),
    ];
    println!();
    print!("{}", report::table(&summaries));
    println!("{}", report::ratio_line(&summaries[1], &summaries[0]));
    if args.markdown {
        println!();
        print!("{}", report::markdown(&summaries, args.connections));
    }
    let failed: u64 = summaries.iter().map(|summary| summary.errors).sum();
    if failed > 0 {
        bail!("{failed} requests failed or answered wrongly (see the errors column)");
    }
    Ok(())
}

/// `http://HOST:PORT` (a trailing `/` allowed) to a socket address.
fn parse_url(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--url `{url}` must start with http://"))?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        bail!("--url `{url}` must not have a path");
    }
    std::net::ToSocketAddrs::to_socket_addrs(authority)
        .with_context(|| format!("--url `{url}`: not HOST:PORT"))?
        .next()
        .with_context(|| format!("--url `{url}`: no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_socket_address() {
        assert_eq!(
            parse_url("http://127.0.0.1:8080/").expect("valid"),
            SocketAddr::from(([127, 0, 0, 1], 8080))
        );
        assert!(parse_url("https://127.0.0.1:8080").is_err());
        assert!(parse_url("http://127.0.0.1:8080/v1").is_err());
        assert!(parse_url("http://127.0.0.1").is_err());
    }
}
