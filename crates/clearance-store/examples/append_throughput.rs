//! Measures durable appends per second: N concurrent appenders, each appending one event at a
//! time to its own tenant, for a fixed time. Every counted event was acknowledged, i.e.
//! committed with `synchronous = FULL` (SQLite) or a synchronous commit (PostgreSQL).
//!
//! ```text
//! cargo run --release -p clearance-store --example append_throughput -- \
//!     [--appenders 256] [--seconds 10] [--events-per-append 1] [--postgres postgres://…]
//! ```
//!
//! Without `--postgres` it measures SQLite in a temporary directory; with it, PostgreSQL in a
//! schema of its own that is dropped afterwards.

use std::time::{Duration, Instant};

use clearance_store::{NewEvent, Store, StoreOptions};
use serde_json::json;

struct Settings {
    appenders: usize,
    seconds: u64,
    events_per_append: usize,
    postgres: Option<String>,
}

fn settings() -> Result<Settings, String> {
    let mut settings = Settings {
        appenders: 256,
        seconds: 10,
        events_per_append: 1,
        postgres: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag} needs a number, got `{value}`"))
        };
        match flag.as_str() {
            "--appenders" => settings.appenders = number()?.max(1),
            "--seconds" => settings.seconds = number()? as u64,
            "--events-per-append" => settings.events_per_append = number()?.max(1),
            "--postgres" => settings.postgres = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(settings)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = settings()?;
    let dir = tempfile::tempdir()?;
    let schema = format!("bench_{}", std::process::id());
    let (backend, options) = match &settings.postgres {
        Some(url) => (
            "PostgreSQL",
            StoreOptions::new(url.clone())
                .schema(schema.clone())
                .max_connections(8),
        ),
        None => (
            "SQLite",
            StoreOptions::new(
                dir.path()
                    .join("bench.db")
                    .to_str()
                    .ok_or("temporary path is not UTF-8")?,
            ),
        ),
    };
    let store = Store::open_with(options).await?;
    let deadline = Instant::now() + Duration::from_secs(settings.seconds);
    let started = Instant::now();
    let mut appenders = Vec::new();
    for appender in 0..settings.appenders {
        let store = store.clone();
        let per_append = settings.events_per_append;
        appenders.push(tokio::spawn(async move {
            let tenant = format!("tenant-{appender:06}");
            let mut version = 0;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let events = (0..per_append)
                    .map(|n| NewEvent {
                        kind: "profile_updated".to_owned(),
                        actor: "bench".to_owned(),
                        payload: json!({"field": "payment", "complete": true, "n": n}),
                        recorded_at: jiff::Timestamp::now(),
                    })
                    .collect();
                let sent = Instant::now();
                version = store.append(&tenant, version, events, None).await?.version;
                latencies.push(sent.elapsed());
            }
            Ok::<_, clearance_store::StoreError>((version, latencies))
        }));
    }
    let mut events = 0;
    let mut latencies = Vec::new();
    for appender in appenders {
        let (version, mut measured) = appender.await??;
        events += version;
        latencies.append(&mut measured);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    };
    println!(
        "{backend}: {events} durable events in {elapsed:.2} s = {:.0} events/s \
         ({} appenders, {} event(s) per append; append latency p50 {:.2} ms, p99 {:.2} ms)",
        events as f64 / elapsed,
        settings.appenders,
        settings.events_per_append,
        percentile(0.50),
        percentile(0.99),
    );
    store.close().await;
    if let Some(url) = &settings.postgres {
        let admin = sqlx::PgPool::connect(url).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&admin)
            .await?;
    }
    Ok(())
}
