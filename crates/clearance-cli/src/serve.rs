//! `clearance serve`: run the HTTP service (and, with `--demo`, seed the demo
//! tenants and print their tokens) until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use clearance_core::Catalog;
use clearance_server::server::{RunningServer, ServeConfig};

use crate::Outcome;
use crate::store_args::StoreArgs;

/// `clearance serve` flags; each also reads a `CLEARANCE_*` environment variable.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "CLEARANCE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    #[command(flatten)]
    store: StoreArgs,

    /// Seed the demo tenants once (kept across restarts) and print the URL and new
    /// random demo tokens and sign-ins. Refused unless `--listen` is a loopback
    /// address (see `--demo-on-public-address`). Serving the same data without
    /// `--demo` revokes every demo token and sign-in.
    #[arg(long, env = "CLEARANCE_DEMO")]
    demo: bool,

    /// Allow `--demo` on an address other machines can reach: anyone who reads the
    /// printed tokens and passwords acts as support staff or a tenant admin.
    #[arg(long, env = "CLEARANCE_DEMO_ON_PUBLIC_ADDRESS", requires = "demo")]
    demo_on_public_address: bool,

    /// How often the SLA sweeper marks overdue verifications, e.g. `60s`, `5m`; `0` disables it.
    #[arg(long, env = "CLEARANCE_SWEEP_INTERVAL", default_value = "60s", value_parser = parse_interval)]
    sweep_interval: Duration,

    /// The URL people reach the portal at (e.g. `https://clearance.example`); an
    /// `https://` URL marks the portal's cookies `Secure` and adds
    /// `Strict-Transport-Security` to every answer. Default: the listen address.
    #[arg(long, env = "CLEARANCE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,

    /// How long a client may take to send a request's line and headers before
    /// its connection is closed, e.g. `10s`.
    #[arg(long, env = "CLEARANCE_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_positive_interval)]
    header_read_timeout: Duration,

    /// How long a request may take, body upload included, before it is
    /// answered 503 `request_timeout`, e.g. `60s`.
    #[arg(long, env = "CLEARANCE_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_positive_interval)]
    request_timeout: Duration,

    /// How many client connections are open at once at most; more wait to be accepted.
    #[arg(long, env = "CLEARANCE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,

    /// Single sign-on: a TOML file naming the OpenID Connect issuers people sign
    /// in through and how their claims map to tenants and users (README,
    /// "Single sign-on"). Client secrets belong in the environment variables it names.
    #[arg(long, env = "CLEARANCE_OIDC_CONFIG", value_name = "FILE")]
    oidc_config: Option<std::path::PathBuf>,

    /// Turn password sign-ins off: people sign in only through `--oidc-config`'s issuers.
    #[arg(long, env = "CLEARANCE_NO_LOCAL_ACCOUNTS", requires = "oidc_config")]
    no_local_accounts: bool,

    /// Log format on stderr; the level comes from RUST_LOG (default `info`).
    #[arg(long, env = "CLEARANCE_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Runs the server until a shutdown signal.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    if args.demo && !args.demo_on_public_address && !args.listen.ip().is_loopback() {
        anyhow::bail!(
            "--demo is refused on --listen {}: it is not a loopback address, and the demo's \
             tokens and passwords act as support staff and tenant admins. Listen on 127.0.0.1 \
             (or ::1), or add --demo-on-public-address if other machines must reach the demo",
            args.listen
        );
    }
    init_logs(args.log_format);
    let store = args.store.location()?;
    let mut config = ServeConfig::new(args.listen, store, Arc::new(catalog.clone()));
    config.demo = args.demo;
    config.sweep_interval = (!args.sweep_interval.is_zero()).then_some(args.sweep_interval);
    config.http = clearance_server::server::HttpLimits {
        header_read_timeout: args.header_read_timeout,
        request_timeout: args.request_timeout,
        max_connections: args.max_connections as usize,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut portal = clearance_portal::PortalOptions::for_public_url(
        args.public_url.as_deref().unwrap_or_default(),
    );
    portal.local_accounts = !args.no_local_accounts;
    if let Some(file) = &args.oidc_config {
        portal.sso = Some(sso_options(catalog, file, args)?);
    }
    config.hsts = portal.secure_cookies;
    let public_url = args.public_url.clone();
    let demo = args.demo;
    runtime.block_on(async move {
        let extra = move |service| clearance_portal::router_with(service, portal);
        let mut server = clearance_server::server::start(config, extra).await?;
        // The portal's demo sign-ins get fresh passwords each start (printed below).
        let logins = if demo {
            clearance_portal::seed_demo_logins(&server.service).await?
        } else {
            Vec::new()
        };
        print_banner(&server, public_url.as_deref(), &logins);
        tokio::select! {
            () = clearance_server::server::shutdown_signal() => {
                tracing::info!("shutting down: finishing in-flight requests and queued writes");
            }
            () = server.wait_stopped() => {}
        }
        server.shutdown().await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    Ok(Outcome::Done)
}

/// The single sign-on issuers of `file`, calling back to `--public-url` (or
/// the listen address).
fn sso_options(
    catalog: &Catalog,
    file: &std::path::Path,
    args: &Args,
) -> anyhow::Result<clearance_portal::oidc::SsoOptions> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading --oidc-config {}", file.display()))?;
    let config = clearance_portal::oidc::OidcConfig::from_toml(
        &file.display().to_string(),
        &text,
        catalog,
        |name| std::env::var(name).ok(),
    )?;
    let base = match &args.public_url {
        Some(url) => url.clone(),
        None if args.listen.port() == 0 => anyhow::bail!(
            "--oidc-config needs --public-url when --listen has port 0: the issuers must know \
             the callback URL in advance"
        ),
        None => format!("http://{}", args.listen),
    };
    let options =
        clearance_portal::oidc::SsoOptions::new(config, &base).map_err(anyhow::Error::msg)?;
    for (issuer, uri) in options.redirect_uris() {
        tracing::info!(%issuer, redirect_uri = %uri, "single sign-on issuer configured");
    }
    Ok(options)
}

fn print_banner(
    server: &RunningServer,
    public_url: Option<&str>,
    logins: &[clearance_portal::DemoLogin],
) {
    println!("clearance is serving at {}", server.url());
    println!(
        "  portal: {}/login",
        public_url.map_or_else(|| server.url(), |url| url.trim_end_matches('/').to_owned())
    );
    println!(
        "  API: {0}/v1   OpenAPI: {0}/openapi.json   metrics: {0}/metrics",
        server.url()
    );
    if let Some(tokens) = &server.demo {
        println!("\nDemo tokens (Authorization: Bearer <token>; for local demos only):");
        for demo in [&tokens.support_agent, &tokens.support_admin]
            .into_iter()
            .chain(&tokens.partners)
        {
            let who = match &demo.principal {
                clearance_server::Principal::Staff { id, .. } => format!("staff {id}"),
                clearance_server::Principal::Partner { tenant, user } => format!("{tenant}/{user}"),
            };
            println!("  {who:<16} {}  ({})", demo.token, demo.about);
        }
        println!("\nDemo portal sign-ins (new passwords at every start; for local demos only):");
        for login in logins {
            println!(
                "  {:<24} {}  ({})",
                login.login, login.password, login.description
            );
        }
        println!(
            "\nTry: curl -s -H 'Authorization: Bearer {}' '{}/v1/tenants/contoso/diagnosis'",
            tokens.partners[0].token,
            server.url()
        );
    }
    println!("\nPress Ctrl-C to stop.");
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (only in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// `90`, `90s`, `5m`, `1h`, `250ms`.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| text.split_at(at));
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 60s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        "h" => Ok(Duration::from_secs(value * 3600)),
        other => Err(format!("unknown unit `{other}` (use ms, s, m or h)")),
    }
}

/// A duration as [`parse_interval`] reads it, but not zero.
fn parse_positive_interval(text: &str) -> Result<Duration, String> {
    let duration = parse_interval(text)?;
    if duration.is_zero() {
        return Err("must be more than zero".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units() {
        assert_eq!(parse_interval("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("0"), Ok(Duration::ZERO));
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("5d").is_err());
        assert_eq!(parse_positive_interval("10s"), Ok(Duration::from_secs(10)));
        assert!(parse_positive_interval("0").is_err());
    }
}
