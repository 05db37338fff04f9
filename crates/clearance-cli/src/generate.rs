//! `clearance gen`: write a synthetic population of tenants, as real events
//! and snapshots, into the configured store (for scale measurements and demos
//! at size).
//!
//! Every tenant is built through the core's workflow (`execute`, then
//! `Tenant::apply`), so the events are exactly those the service would have
//! recorded; its folded state is saved as a snapshot in the service's format,
//! so `clearance serve` loads it without replaying. The mix is deterministic:
//! tenant `i` has the state [`Kind::of`]`(i)`, whatever the run. Tenants are
//! written in batches, each batch's events and snapshots in one transaction
//! (the store's bulk import), while the next batch is built.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, bail};
use clearance_core::workflow::{self, Actor, Command, SupportRole};
use clearance_core::{Catalog, Journey, Tenant};
use clearance_store::{NewEvent, NewTenant, Store, StoreOptions};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::Outcome;
use crate::store_args::StoreArgs;
use clearance_store::redacted_location;

/// `clearance gen` flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// How many tenants to write (ids `PREFIX-0000000`, `PREFIX-0000001`, ...).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    tenants: u64,

    /// Users per tenant: the admin (primary contact), plus the others once the
    /// tenant is authorized (the workflow refuses role changes before that).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1000))]
    users_per_tenant: u32,

    #[command(flatten)]
    store: StoreArgs,

    /// Prefix of the tenant ids: 1-40 characters of a-z, 0-9 and `-`.
    #[arg(long, default_value = "gen", value_parser = parse_prefix)]
    prefix: String,

    /// The moment the population is built relative to (RFC 3339); default: now.
    /// Pending tenants are submitted 2 or 8 business days before it.
    #[arg(long, value_name = "RFC3339")]
    now: Option<Timestamp>,

    /// How many tenants each transaction writes (the next batch is built while one is written).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch: u32,

    /// Print the summary as JSON (kinds, counts, one example tenant each).
    #[arg(long)]
    json: bool,
}

/// The state a generated tenant is left in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Created, not enrolled in any program (no Partner tab data).
    NotEnrolled,
    /// Enrolled in MAICPP (pending qualification), verification not submitted.
    Enrolled,
    /// Verification pending for 2 business days: inside the SLA.
    PendingInsideSla,
    /// Verification pending for 8 business days, already marked overdue by the
    /// sweeper (which opened a support case).
    PendingOverdueSwept,
    /// Verification pending for 8 business days and not yet swept: the next
    /// SLA sweep marks it (one tenant in a thousand).
    PendingOverdueUnswept,
    /// A reviewer started the review.
    InProgress,
    /// Challenged: the action-required banner asks for documents.
    Challenged,
    /// Rejected after this many appeals (0 to 3; 3 leaves none).
    Rejected(u8),
    /// Authorized, active; no profiles or agreements (Buy is disabled).
    Authorized,
    /// Authorized with both profiles, the MPA and a capability score: Buy is open.
    AuthorizedReady,
    /// As `AuthorizedReady`, and the core membership is bought.
    Member,
}

/// The kinds that rotate over tenant indices (all but the rare unswept one).
const ROTATION: [Kind; 13] = [
    Kind::NotEnrolled,
    Kind::Enrolled,
    Kind::PendingInsideSla,
    Kind::PendingOverdueSwept,
    Kind::InProgress,
    Kind::Challenged,
    Kind::Rejected(0),
    Kind::Rejected(1),
    Kind::Rejected(2),
    Kind::Rejected(3),
    Kind::Authorized,
    Kind::AuthorizedReady,
    Kind::Member,
];

impl Kind {
    /// The kind of tenant `index`.
    pub fn of(index: u64) -> Kind {
        if index % 1000 == 7 {
            Kind::PendingOverdueUnswept
        } else {
            ROTATION[(index % ROTATION.len() as u64) as usize]
        }
    }

    /// A stable snake_case name for summaries.
    pub fn name(self) -> String {
        match self {
            Kind::NotEnrolled => "not_enrolled".into(),
            Kind::Enrolled => "enrolled".into(),
            Kind::PendingInsideSla => "pending_inside_sla".into(),
            Kind::PendingOverdueSwept => "pending_overdue_swept".into(),
            Kind::PendingOverdueUnswept => "pending_overdue_unswept".into(),
            Kind::InProgress => "in_progress".into(),
            Kind::Challenged => "challenged".into(),
            Kind::Rejected(appeals) => format!("rejected_appeals_{appeals}"),
            Kind::Authorized => "authorized".into(),
            Kind::AuthorizedReady => "authorized_ready".into(),
            Kind::Member => "member".into(),
        }
    }
}

/// Countries the population cycles through.
const COUNTRIES: [&str; 8] = ["US", "GB", "DE", "FR", "IN", "JP", "BR", "AU"];

/// Roles of the non-admin users, in rotation.
const USER_ROLES: [&[&str]; 5] = [
    &["account_admin"],
    &["user_management_admin"],
    &["referrals_admin"],
    &["incentives_admin"],
    &[],
];

/// The appeal document every generated appeal references (stored once).
const APPEAL_PDF: &[u8] = b"%PDF-1.4\n% clearance gen: business registration\n%%EOF\n";

/// The journeys (`corpus/journeys/`) the kinds replay, parsed once per run.
const JOURNEYS: [(Kind, &str, &str); 14] = [
    (
        Kind::NotEnrolled,
        "not-enrolled.toml",
        include_str!("../../../corpus/journeys/not-enrolled.toml"),
    ),
    (
        Kind::Enrolled,
        "enrolled.toml",
        include_str!("../../../corpus/journeys/enrolled.toml"),
    ),
    (
        Kind::PendingInsideSla,
        "pending-inside-sla.toml",
        include_str!("../../../corpus/journeys/pending-inside-sla.toml"),
    ),
    (
        Kind::PendingOverdueSwept,
        "pending-overdue-swept.toml",
        include_str!("../../../corpus/journeys/pending-overdue-swept.toml"),
    ),
    (
        Kind::PendingOverdueUnswept,
        "contoso.toml",
        include_str!("../../../corpus/journeys/contoso.toml"),
    ),
    (
        Kind::InProgress,
        "in-progress.toml",
        include_str!("../../../corpus/journeys/in-progress.toml"),
    ),
    (
        Kind::Challenged,
        "northwind.toml",
        include_str!("../../../corpus/journeys/northwind.toml"),
    ),
    (
        Kind::Rejected(0),
        "rejected-after-0-appeals.toml",
        include_str!("../../../corpus/journeys/rejected-after-0-appeals.toml"),
    ),
    (
        Kind::Rejected(1),
        "fabrikam.toml",
        include_str!("../../../corpus/journeys/fabrikam.toml"),
    ),
    (
        Kind::Rejected(2),
        "rejected-after-2-appeals.toml",
        include_str!("../../../corpus/journeys/rejected-after-2-appeals.toml"),
    ),
    (
        Kind::Rejected(3),
        "rejected-after-3-appeals.toml",
        include_str!("../../../corpus/journeys/rejected-after-3-appeals.toml"),
    ),
    (
        Kind::Authorized,
        "authorized.toml",
        include_str!("../../../corpus/journeys/authorized.toml"),
    ),
    (
        Kind::AuthorizedReady,
        "authorized-ready.toml",
        include_str!("../../../corpus/journeys/authorized-ready.toml"),
    ),
    (
        Kind::Member,
        "woodgrove.toml",
        include_str!("../../../corpus/journeys/woodgrove.toml"),
    ),
];

/// One kind's journey with gen's ids and resolved moments: what every tenant
/// of that kind replays, varied per tenant by [`Population::plan`].
type Plan = Vec<(Actor, Command, Timestamp)>;

/// Builds tenants: each kind's journey, with its moments counted back from the anchor.
pub struct Population<'c> {
    catalog: &'c Catalog,
    users: u32,
    plans: BTreeMap<Kind, Plan>,
    fingerprint: u64,
}

/// One built tenant: its id, kind, events and the snapshot to save.
pub struct BuiltTenant {
    /// The tenant id.
    pub id: String,
    /// What state it is in.
    pub kind: Kind,
    /// Its events, in order.
    pub events: Vec<NewEvent>,
    /// The snapshot in the service's format.
    pub snapshot: serde_json::Value,
    /// The tenant's version after its events.
    pub version: u64,
}

impl<'c> Population<'c> {
    /// A population over `catalog`, anchored at `now`: the journeys are parsed and their
    /// moments resolved here, once.
    pub fn new(catalog: &'c Catalog, users: u32, now: Timestamp) -> anyhow::Result<Self> {
        let document = sha256_hex(APPEAL_PDF);
        let mut plans = BTreeMap::new();
        for (kind, file, text) in JOURNEYS {
            let journey = Journey::from_toml(file, text)?;
            let plan = journey
                .steps
                .into_iter()
                .map(|step| {
                    let at = step.at.resolve(&catalog.calendar, now);
                    (
                        gen_actor(step.actor),
                        gen_command(step.command, &document),
                        at,
                    )
                })
                .collect();
            plans.insert(kind, plan);
        }
        Ok(Population {
            catalog,
            users,
            plans,
            fingerprint: catalog.fingerprint(),
        })
    }

    /// Builds tenant `index` under `id` through the core's workflow.
    pub fn build(&self, index: u64, id: String) -> anyhow::Result<BuiltTenant> {
        let kind = Kind::of(index);
        let mut state = Tenant::new(id.clone(), "");
        let mut events = Vec::new();
        for (actor, command, at) in self.plan(index, kind) {
            let produced = workflow::execute(self.catalog, &state, &actor, &command, at)
                .with_context(|| {
                    format!(
                        "tenant `{id}` ({}): {} was refused",
                        kind.name(),
                        command.name()
                    )
                })?;
            let actor_text = serde_json::to_string(&actor).expect("an actor serializes");
            for event in produced {
                state
                    .apply(self.catalog, &event, at)
                    .with_context(|| format!("tenant `{id}`: applying {}", event.name()))?;
                events.push(NewEvent {
                    kind: event.name().to_owned(),
                    actor: actor_text.clone(),
                    payload: serde_json::to_value(&event).expect("an event serializes"),
                    recorded_at: at,
                });
            }
        }
        let version = state.version;
        // The service's snapshot shape (`SnapshotState`): the catalog it was folded
        // under, and the tenant.
        let snapshot = serde_json::json!({ "fingerprint": self.fingerprint, "tenant": state });
        Ok(BuiltTenant {
            id,
            kind,
            events,
            snapshot,
            version,
        })
    }

    /// The commands that bring tenant `index` to `kind`, each with its actor and moment:
    /// the kind's journey with the tenant's country and capability score, and its other
    /// users added as soon as it is authorized (the workflow refuses them before).
    fn plan(&self, index: u64, kind: Kind) -> Plan {
        let journey = &self.plans[&kind];
        let mut plan = Vec::with_capacity(journey.len() + self.users as usize);
        for (actor, command, at) in journey {
            let command = match command {
                Command::CreateTenant { admin, roles, .. } => Command::CreateTenant {
                    country: COUNTRIES[(index % COUNTRIES.len() as u64) as usize].to_owned(),
                    admin: admin.clone(),
                    roles: roles.clone(),
                },
                Command::UpdateCapabilityScore { .. } => Command::UpdateCapabilityScore {
                    score: 40 + (index % 60) as u32,
                },
                other => other.clone(),
            };
            let authorized = matches!(command, Command::Authorize { .. });
            plan.push((actor.clone(), command, *at));
            if authorized {
                for user in 1..self.users {
                    let roles = USER_ROLES[(user as usize - 1) % USER_ROLES.len()];
                    plan.push((
                        admin(),
                        Command::AddUser {
                            user: format!("u{user}"),
                            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
                        },
                        *at,
                    ));
                }
            }
        }
        plan
    }
}

/// The admin every generated tenant is created with.
const ADMIN: &str = "u0";

fn admin() -> Actor {
    Actor::Partner {
        user: ADMIN.to_owned(),
    }
}

/// A journey's actor as gen names it: the one partner user is the admin `u0`; staff are
/// `gen-agent` and `gen-admin` by role.
fn gen_actor(actor: Actor) -> Actor {
    match actor {
        Actor::Partner { .. } => admin(),
        Actor::Support { role, .. } => Actor::Support {
            id: match role {
                SupportRole::SupportAgent => "gen-agent",
                SupportRole::SupportAdmin => "gen-admin",
            }
            .to_owned(),
            role,
        },
        Actor::System => Actor::System,
    }
}

/// A journey's command with gen's admin and appeal document.
fn gen_command(command: Command, document: &str) -> Command {
    match command {
        Command::CreateTenant { country, roles, .. } => Command::CreateTenant {
            country,
            admin: ADMIN.to_owned(),
            roles,
        },
        Command::Appeal {
            program,
            document_type,
            ..
        } => Command::Appeal {
            program,
            document_type,
            document: document.to_owned(),
        },
        other => other,
    }
}

/// Tenant `index`'s id under `prefix`.
pub fn tenant_id(prefix: &str, index: u64) -> String {
    format!("{prefix}-{index:07}")
}

fn parse_prefix(text: &str) -> Result<String, String> {
    let plain = !text.is_empty()
        && text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if plain {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` must be 1-40 characters of a-z, 0-9 and `-`"
        ))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    clearance_server::auth::hex_sha256(bytes)
}

/// What one kind contributed.
struct KindSummary {
    count: u64,
    example: String,
}

/// What the builder made: the summary per kind and the number of events.
#[derive(Default)]
struct Built {
    kinds: BTreeMap<Kind, KindSummary>,
    events: u64,
}

/// Writes the population and prints its summary.
///
/// Tenants are built on one thread in batches of `--batch` while the store writes the previous
/// batch, each in one transaction ([`Store::import_new_tenants`]): the build (CPU) and the
/// durable write (mostly the database) overlap.
pub fn run(catalog: &Catalog, args: &Args) -> anyhow::Result<Outcome> {
    let location = args.store.location()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let started = Instant::now();
    let store = runtime.block_on(open_store(args, &location))?;
    let population = Population::new(
        catalog,
        args.users_per_tenant,
        args.now.unwrap_or_else(Timestamp::now),
    )?;
    let progress = ProgressBar::new(args.tenants).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} tenants ({per_sec}, eta {eta})",
        )
        .expect("the template is valid"),
    );
    // One batch waits while the next is built: the builder stays at most two batches ahead.
    let (sender, batches) = mpsc::channel(1);
    let (built, written) = std::thread::scope(|scope| {
        let builder = scope.spawn(|| build_batches(&population, args, sender));
        let written = runtime.block_on(write_batches(&store, batches, &progress));
        let built = builder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (built, written)
    });
    progress.finish_and_clear();
    runtime.block_on(store.close());
    // A failed write stops the builder (its channel closes), so the write's error comes first.
    let written = written?;
    let built = built?;
    anyhow::ensure!(
        written == args.tenants,
        "wrote {written} of {} tenants",
        args.tenants
    );
    print_summary(
        args,
        &built.kinds,
        built.events,
        started.elapsed().as_secs_f64(),
        &location,
    );
    Ok(Outcome::Done)
}

/// Opens the store, refuses one that already has the population's first or last tenant, and
/// stores the appeal document the population refers to.
async fn open_store(args: &Args, location: &str) -> anyhow::Result<Store> {
    let store = Store::open_with(StoreOptions::new(location))
        .await
        .with_context(|| format!("opening the store at {}", redacted_location(location)))?;
    let first = tenant_id(&args.prefix, 0);
    let last = tenant_id(&args.prefix, args.tenants - 1);
    for id in [&first, &last] {
        if store.tenant_version(id).await? != 0 {
            store.close().await;
            bail!(
                "tenant `{id}` already exists in {}: gen writes only new tenants \
                 (choose another --prefix or an empty store)",
                redacted_location(location)
            );
        }
    }
    store
        .put_blob(
            &sha256_hex(APPEAL_PDF),
            "application/pdf",
            APPEAL_PDF.to_vec(),
        )
        .await?;
    Ok(store)
}

/// Builds the population in order, `--batch` tenants at a time, and hands each batch over.
/// Stops early (without error) when the writer has stopped listening.
fn build_batches(
    population: &Population<'_>,
    args: &Args,
    batches: mpsc::Sender<Vec<NewTenant>>,
) -> anyhow::Result<Built> {
    let mut built = Built::default();
    let size = u64::from(args.batch);
    let mut start = 0;
    while start < args.tenants {
        let end = (start + size).min(args.tenants);
        let mut batch = Vec::with_capacity((end - start) as usize);
        for index in start..end {
            let tenant = population.build(index, tenant_id(&args.prefix, index))?;
            // The import saves the snapshot at the tenant's number of events.
            anyhow::ensure!(
                tenant.version == tenant.events.len() as u64,
                "tenant `{}` folded to version {} from {} events",
                tenant.id,
                tenant.version,
                tenant.events.len()
            );
            built
                .kinds
                .entry(tenant.kind)
                .or_insert_with(|| KindSummary {
                    count: 0,
                    example: tenant.id.clone(),
                })
                .count += 1;
            built.events += tenant.events.len() as u64;
            batch.push(NewTenant::new(
                tenant.id,
                tenant.events,
                Some(tenant.snapshot),
            ));
        }
        if batches.blocking_send(batch).is_err() {
            break;
        }
        start = end;
    }
    Ok(built)
}

/// Writes each batch as it comes, one transaction each, and counts the tenants written.
async fn write_batches(
    store: &Store,
    mut batches: mpsc::Receiver<Vec<NewTenant>>,
    progress: &ProgressBar,
) -> anyhow::Result<u64> {
    let mut written = 0;
    while let Some(batch) = batches.recv().await {
        let first = batch.first().map(|tenant| tenant.tenant().to_owned());
        let imported = store.import_new_tenants(batch).await.with_context(|| {
            format!(
                "writing the batch from tenant `{}`",
                first.unwrap_or_default()
            )
        })?;
        written += imported.tenants;
        progress.inc(imported.tenants);
    }
    Ok(written)
}

fn print_summary(
    args: &Args,
    kinds: &BTreeMap<Kind, KindSummary>,
    events: u64,
    seconds: f64,
    location: &str,
) {
    if args.json {
        let kinds: Vec<_> = kinds
            .iter()
            .map(|(kind, summary)| {
                serde_json::json!({
                    "kind": kind.name(),
                    "count": summary.count,
                    "example": summary.example,
                })
            })
            .collect();
        let summary = serde_json::json!({
            "tenants": args.tenants,
            "users_per_tenant": args.users_per_tenant,
            "events": events,
            "seconds": seconds,
            "kinds": kinds,
        });
        println!("{summary}");
        return;
    }
    println!(
        "wrote {} tenants ({events} events, one snapshot each) to {} in {seconds:.1} s \
         ({:.0} tenants/s, {:.0} events/s)",
        args.tenants,
        redacted_location(location),
        args.tenants as f64 / seconds,
        events as f64 / seconds,
    );
    for (kind, summary) in kinds {
        println!(
            "  {:<24} {:>9}  e.g. {}",
            kind.name(),
            summary.count,
            summary.example
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_builds_through_the_workflow() {
        let catalog = Catalog::partner_center();
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().expect("a valid timestamp");
        let population = Population::new(catalog, 3, now).expect("the journeys parse");
        let mut seen = std::collections::BTreeSet::new();
        for index in 0..1000 {
            let tenant = population
                .build(index, tenant_id("t", index))
                .expect("every planned command is accepted");
            assert_eq!(tenant.version, tenant.events.len() as u64);
            seen.insert(tenant.kind);
        }
        let mut expected: std::collections::BTreeSet<Kind> = ROTATION.into_iter().collect();
        expected.insert(Kind::PendingOverdueUnswept);
        assert_eq!(seen, expected);
    }

    #[test]
    fn prefixes_are_plain() {
        assert_eq!(parse_prefix("load-1"), Ok("load-1".to_owned()));
        assert!(parse_prefix("").is_err());
        assert!(parse_prefix("Upper").is_err());
        assert!(parse_prefix("a/b").is_err());
    }
}
