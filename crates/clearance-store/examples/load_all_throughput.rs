//! Measures start-up loading: seeds N tenants (each with E events, and a snapshot one event
//! before its end) straight into the store's tables, then times `Store::load_all` over them.
//!
//! ```text
//! cargo run --release -p clearance-store --example load_all_throughput -- \
//!     [--tenants 1000000] [--events 3] [--postgres postgres://…]
//! ```
//!
//! Seeding writes the schema-version-1 tables with one SQL statement each, because appending a
//! million tenants through the API would measure appends, not loading.

use std::time::Instant;

use clearance_store::{Store, StoreOptions};

const STATE: &str = r#"{"programs":{"maicpp":{"enrollment":"active","verification":"authorized"}},"roles":{"alice":["global_admin"]},"profiles":["payment"]}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tenants: i64 = 1_000_000;
    let mut events: i64 = 3;
    let mut postgres = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tenants" => tenants = value.parse()?,
            "--events" => events = value.parse::<i64>()?.max(1),
            "--postgres" => postgres = Some(value),
            _ => return Err(format!("unknown flag {flag}").into()),
        }
    }
    let dir = tempfile::tempdir()?;
    let schema = format!("bench_load_{}", std::process::id());
    let options = match &postgres {
        Some(url) => StoreOptions::new(url.clone()).schema(schema.clone()),
        None => StoreOptions::new(
            dir.path()
                .join("load.db")
                .to_str()
                .ok_or("temporary path is not UTF-8")?,
        ),
    };
    let seeding = Instant::now();
    Store::open_with(options.clone()).await?.close().await;
    match &postgres {
        Some(url) => seed_postgres(url, &schema, tenants, events).await?,
        None => seed_sqlite(&dir.path().join("load.db"), tenants, events).await?,
    }
    println!(
        "seeded {tenants} tenants x {events} events in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let store = Store::open_with(options).await?;
    let opened = started.elapsed().as_secs_f64();
    let mut loader = store.load_all().await?;
    let (mut loaded, mut loaded_events, mut snapshots) = (0u64, 0usize, 0u64);
    while let Some(history) = loader.next().await? {
        loaded += 1;
        loaded_events += history.events.len();
        snapshots += u64::from(history.snapshot.is_some());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "{}: open + load_all of {loaded} tenants ({snapshots} snapshots, {loaded_events} events \
         after them) in {elapsed:.2} s (open {opened:.2} s, this process's CPU {cpu:.2} s) \
         = {:.0} tenants/s",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        loaded as f64 / elapsed
    );
    store.close().await;
    if let Some(url) = &postgres {
        let admin = sqlx::PgPool::connect(url).await?;
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&admin)
            .await?;
    }
    Ok(())
}

/// User + system CPU time of this process so far (Linux), to tell work from waiting on a busy
/// machine; 0 where `/proc` is unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesized command name; utime and stime are the 12th and 13th.
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports these in USER_HZ, which is 100 on every mainstream configuration.
    (ticks(11) + ticks(12)) / 100.0
}

async fn seed_sqlite(path: &std::path::Path, tenants: i64, events: i64) -> Result<(), sqlx::Error> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await?;
    let mut transaction = connection.begin().await?;
    let statements = [
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {tenants}) \
             INSERT INTO clearance_tenants (tenant, version) \
             SELECT printf('tenant-%07d', i), {events} FROM n"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {tenants}), \
             s(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM s WHERE j < {events}) \
             INSERT INTO clearance_events (revision, tenant, seq, kind, actor, payload, recorded_at) \
             SELECT (i - 1) * {events} + j, printf('tenant-%07d', i), j, 'profile_updated', 'gen', \
                    '{{\"field\":\"payment\",\"complete\":true}}', '2026-11-24T10:00:00Z' \
             FROM n, s ORDER BY 1"
        ),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {tenants}) \
             INSERT INTO clearance_snapshots (tenant, version, state, saved_at) \
             SELECT printf('tenant-%07d', i), {}, '{STATE}', '2026-11-24T10:00:00Z' FROM n",
            events - 1
        ),
        format!("UPDATE clearance_meta SET revision = {}", tenants * events),
    ];
    for statement in &statements {
        transaction.execute(statement.as_str()).await?;
    }
    transaction.commit().await?;
    connection
        .execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .await?;
    Ok(())
}

async fn seed_postgres(
    url: &str,
    schema: &str,
    tenants: i64,
    events: i64,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    let pool = sqlx::PgPool::connect(url).await?;
    let mut transaction = pool.begin().await?;
    let statements = [
        format!("SET LOCAL search_path = \"{schema}\""),
        format!(
            "INSERT INTO clearance_tenants (tenant, version) \
             SELECT format('tenant-%s', lpad(i::text, 7, '0')), {events} \
             FROM generate_series(1, {tenants}) i"
        ),
        format!(
            "INSERT INTO clearance_events (revision, tenant, seq, kind, actor, payload, recorded_at) \
             SELECT (i - 1) * {events} + j, format('tenant-%s', lpad(i::text, 7, '0')), j, \
                    'profile_updated', 'gen', '{{\"field\":\"payment\",\"complete\":true}}', \
                    '2026-11-24T10:00:00Z' \
             FROM generate_series(1, {tenants}) i, generate_series(1, {events}) j"
        ),
        format!(
            "INSERT INTO clearance_snapshots (tenant, version, state, saved_at) \
             SELECT format('tenant-%s', lpad(i::text, 7, '0')), {}, '{STATE}', \
                    '2026-11-24T10:00:00Z' \
             FROM generate_series(1, {tenants}) i",
            events - 1
        ),
        format!("UPDATE clearance_meta SET revision = {}", tenants * events),
    ];
    for statement in &statements {
        transaction.execute(statement.as_str()).await?;
    }
    transaction.commit().await?;
    pool.execute(format!("ANALYZE \"{schema}\".clearance_events").as_str())
        .await?;
    Ok(())
}
