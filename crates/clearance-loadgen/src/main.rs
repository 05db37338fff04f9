//! `clearance-loadgen`: loads one running clearance server over loopback with a
//! fixed number of keep-alive HTTP/1.1 connections for a fixed time, first on a
//! trivial endpoint (`GET /healthz`, the ceiling of this server on this machine)
//! and then on `POST /v1/check` (a mix of allowed and denied cases from the
//! demo data), and prints requests/s and latency percentiles of both side by
//! side with their ratio, and, given the server's pid (`--server-pid`), the
//! server process's own CPU time per request in each phase. With `--cerbos URL` it then loads a Cerbos server's
//! check endpoint with the same cases (the catalog translated by
//! `--write-cerbos-policy`), after checking that Cerbos gives every case the
//! answer clearance gave.
//!
//! The generator is closed-loop: each connection sends its next request when
//! the previous answer has arrived, so the figures are those of a server kept
//! busy by N clients, not of a fixed arrival rate.

mod cases;
mod cerbos;
mod cpu;
mod load;
mod report;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
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

    /// Bearer token for `/v1/check`, e.g. the support agent's (`staff sam`) that
    /// `clearance serve --demo` prints (demo tokens are random, new at every start).
    // A credential: `--help` names the variable but never prints its value.
    #[arg(long, env = "CLEARANCE_TOKEN", hide_env_values = true)]
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

    /// The server's process id: its own CPU time per request in each phase is read from
    /// `/proc/PID/stat` before and after the measured window (Linux).
    #[arg(long, env = "CLEARANCE_SERVER_PID")]
    server_pid: Option<u32>,

    /// Print the results also as Markdown table rows (for BENCHMARKS.md).
    #[arg(long)]
    markdown: bool,

    /// Also load this Cerbos server (`http://HOST:PORT`, its HTTP port) with the same cases,
    /// after checking that it answers each as clearance does; its policy is the one
    /// `--write-cerbos-policy` writes.
    #[arg(long, env = "CERBOS_URL")]
    cerbos: Option<String>,

    /// Write the default catalog as a Cerbos resource policy into this directory (a Cerbos
    /// disk store) and exit.
    #[arg(long, value_name = "DIR")]
    write_cerbos_policy: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(dir) = &args.write_cerbos_policy {
        return write_cerbos_policy(dir);
    }
    let addr = parse_url(&args.url)?;
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if args.duration.is_nan() || args.duration <= 0.0 || args.warm_up.is_nan() || args.warm_up < 0.0
    {
        bail!("--duration must be above 0 and --warm-up at least 0");
    }
    let Some(token) = args.token.clone() else {
        bail!(
            "--token (or CLEARANCE_TOKEN) is required: a support staff token, such as the one \
             `clearance serve --demo` prints for `staff sam`"
        );
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;
    runtime.block_on(run(&args, addr, &token))
}

/// The file, in a Cerbos disk store, that holds the catalog's policy.
const CERBOS_POLICY_FILE: &str = "clearance_tenant.json";

fn write_cerbos_policy(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(CERBOS_POLICY_FILE);
    let policy = cerbos::policy(clearance_core::Catalog::partner_center());
    let text = serde_json::to_string_pretty(&policy).context("the policy serializes")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

async fn run(args: &Args, addr: SocketAddr, token: &str) -> anyhow::Result<()> {
    let cases = cases::prepare(addr, token).await.context(
        "asking the server once for every demo case (is `clearance serve --demo` running?)",
    )?;
    let cerbos = match &args.cerbos {
        Some(url) => {
            let cerbos_addr = parse_url(url)?;
            let catalog = Arc::new(clearance_core::Catalog::partner_center().clone());
            let bodies = cerbos::prepare(cerbos_addr, &catalog, &cases)
                .await
                .with_context(|| format!("asking Cerbos at {url} once for every case"))?;
            println!(
                "Cerbos at {url} answered all {} cases as clearance did (effect and unmet requirement ids)",
                cases.len()
            );
            Some((cerbos_addr, bodies))
        }
        None => None,
    };
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
        connections: args.connections,
        warm_up: Duration::from_secs_f64(args.warm_up),
        measured: Duration::from_secs_f64(args.duration),
    };
    let (healthz, healthz_cpu) =
        measured(&plan, &Endpoint::get(addr, "/healthz"), args.server_pid).await?;
    let (check, check_cpu) = measured(
        &plan,
        &Endpoint::check(addr, token, &cases),
        args.server_pid,
    )
    .await?;
    let mut summaries = vec![
        Summary::new("GET /healthz", &healthz, plan.measured).with_server_cpu(healthz_cpu),
        Summary::new("POST /v1/check", &check, plan.measured).with_server_cpu(check_cpu),
    ];
    if let Some((cerbos_addr, bodies)) = &cerbos {
        let health = load::run(&plan, &Endpoint::get(*cerbos_addr, "/_cerbos/health")).await;
        let check = load::run(&plan, &Endpoint::cerbos_check(*cerbos_addr, &cases, bodies)).await;
        summaries.push(Summary::new(
            "Cerbos GET /_cerbos/health",
            &health,
            plan.measured,
        ));
        summaries.push(Summary::new(
            &format!("Cerbos POST {}", load::CERBOS_CHECK_PATH),
            &check,
            plan.measured,
        ));
    }
    println!();
    print!("{}", report::table(&summaries));
    println!("{}", report::ratio_line(&summaries[1], &summaries[0]));
    if summaries.len() == 4 {
        println!("{}", report::ratio_line(&summaries[3], &summaries[2]));
        println!("{}", report::versus_line(&summaries[1], &summaries[3]));
    }
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

/// Loads `endpoint` as `plan` says and, when the server's pid is known, reads
/// the CPU time the server used over the measured window.
async fn measured(
    plan: &LoadPlan,
    endpoint: &Endpoint,
    server_pid: Option<u32>,
) -> anyhow::Result<(load::Tally, Option<Duration>)> {
    let measure_from = std::time::Instant::now() + plan.warm_up;
    let until = measure_from + plan.measured;
    let cpu = async {
        match server_pid {
            Some(pid) => cpu::over(pid, measure_from, until).await.map(Some),
            None => Ok(None),
        }
    };
    let (tally, cpu) = tokio::join!(load::run(plan, endpoint), cpu);
    Ok((tally, cpu?))
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
