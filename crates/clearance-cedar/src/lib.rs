//! Dev and bench only: clearance's catalogs translated into general policy
//! engines, to use them as an independent oracle and as rivals.
//!
//! - [`cedar`]: any catalog as a Cedar schema, one `forbid` policy per
//!   requirement (annotated with its id) and one `permit`; a tenant and a user
//!   as Cedar entities. Cedar's decision and the ids of the policies that
//!   decided it must equal clearance's decision and its unmet list: the
//!   differential test in `tests/` checks exactly that.
//! - [`rego`]: the same catalog as data for a Rego policy (run by `regorus`)
//!   that returns the set of unmet requirement ids: the second rival of the
//!   benchmarks.
//! - [`generate`]: random valid catalogs (rendered as TOML, so the loader is
//!   exercised), tenants and users, for the differential test and the benches.
//!
//! Nothing in clearance depends on this crate: Cedar and regorus are never
//! part of the service.

pub mod cedar;
pub mod generate;
pub mod rego;

use clearance_core::Catalog;
use clearance_core::catalog::{ActionIx, OfferIx, ProfileIx, ProgramIx, RoleIx};
use clearance_core::catalog::{AgreementIx, Set};
use jiff::Timestamp;

/// Every action index of `catalog`, in catalog order.
///
/// Index types are built by the core's loader only, so they are found back
/// through the id lookups.
pub fn action_ixs(catalog: &Catalog) -> Vec<ActionIx> {
    catalog
        .actions
        .iter()
        .map(|a| {
            catalog
                .action_ix(&a.id)
                .expect("every action's id resolves")
        })
        .collect()
}

/// Every program index of `catalog`, in catalog order.
pub fn program_ixs(catalog: &Catalog) -> Vec<ProgramIx> {
    catalog
        .programs
        .iter()
        .map(|p| {
            catalog
                .program_ix(&p.id)
                .expect("every program's id resolves")
        })
        .collect()
}

/// Every offer index of `catalog`, in catalog order.
pub fn offer_ixs(catalog: &Catalog) -> Vec<OfferIx> {
    catalog
        .offers
        .iter()
        .map(|o| catalog.offer_ix(&o.id).expect("every offer's id resolves"))
        .collect()
}

/// The roles of `catalog` whose positions are set in `mask`.
pub fn role_set(catalog: &Catalog, mask: u64) -> Set<RoleIx> {
    catalog
        .roles
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| catalog.role_ix(&r.id).expect("every role's id resolves"))
        .collect()
}

/// The agreements of `catalog` whose positions are set in `mask`.
pub fn agreement_set(catalog: &Catalog, mask: u64) -> Set<AgreementIx> {
    catalog
        .agreements
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, a)| {
            catalog
                .agreement_ix(&a.id)
                .expect("every agreement's id resolves")
        })
        .collect()
}

/// The profiles of `catalog` whose positions are set in `mask`.
pub fn profile_set(catalog: &Catalog, mask: u64) -> Set<ProfileIx> {
    catalog
        .profiles
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| {
            catalog
                .profile_ix(&p.id)
                .expect("every profile's id resolves")
        })
        .collect()
}

/// A timestamp as Cedar's `datetime` text, to the millisecond.
///
/// Cedar's datetimes count milliseconds; a timestamp with a finer part would
/// compare differently, so it is refused.
pub fn cedar_datetime(at: Timestamp) -> Result<String, TranslateError> {
    if at.subsec_nanosecond() % 1_000_000 != 0 {
        return Err(TranslateError::SubMillisecond(at));
    }
    Ok(at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Why a catalog, tenant or user could not be translated.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    /// Cedar refused the generated schema.
    #[error("Cedar refused the generated schema: {0}")]
    Schema(String),
    /// Cedar refused a generated policy.
    #[error("Cedar refused the policy of requirement `{id}`: {message}")]
    Policy {
        /// The requirement (or `permit:all`).
        id: String,
        /// Cedar's message.
        message: String,
    },
    /// Cedar refused the generated entities.
    #[error("Cedar refused the tenant's entities: {0}")]
    Entities(String),
    /// Cedar refused a request.
    #[error("Cedar refused the request: {0}")]
    Request(String),
    /// A timestamp finer than Cedar's millisecond.
    #[error("timestamp {0} has a part finer than a millisecond, which Cedar cannot hold")]
    SubMillisecond(Timestamp),
    /// regorus refused the generated policy or data.
    #[error("regorus refused the generated policy or data: {0}")]
    Rego(String),
}
