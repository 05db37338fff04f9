//! Reading the CLI's input files: the catalog (embedded or `--catalog FILE`)
//! and scenario files.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clearance_core::{Catalog, Scenario};

/// The catalog in use: the embedded default or one loaded from a file.
pub enum CatalogSource {
    /// The embedded Partner Center catalog.
    Embedded,
    /// A catalog read from a file.
    File {
        /// Where it was read from.
        path: PathBuf,
        /// The loaded catalog.
        catalog: Box<Catalog>,
    },
}

impl CatalogSource {
    /// Loads `--catalog FILE`, or picks the embedded catalog when none is given.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(CatalogSource::Embedded),
            Some(path) => Ok(CatalogSource::File {
                path: path.to_path_buf(),
                catalog: Box::new(read_catalog(path)?),
            }),
        }
    }

    /// The catalog.
    pub fn get(&self) -> &Catalog {
        match self {
            CatalogSource::Embedded => Catalog::partner_center(),
            CatalogSource::File { catalog, .. } => catalog,
        }
    }

    /// How to name it to a person.
    pub fn name(&self) -> String {
        match self {
            CatalogSource::Embedded => "embedded catalog/partner-center.toml".to_string(),
            CatalogSource::File { path, .. } => path.display().to_string(),
        }
    }
}

/// Reads and validates a catalog file.
pub fn read_catalog(path: &Path) -> anyhow::Result<Catalog> {
    let text = read(path, "catalog")?;
    Ok(Catalog::from_toml(&path.display().to_string(), &text)?)
}

/// Reads a scenario file and resolves it against `catalog`.
pub fn read_scenario(catalog: &Catalog, path: &Path) -> anyhow::Result<Scenario> {
    let text = read(path, "scenario")?;
    Ok(Scenario::from_toml(
        catalog,
        &path.display().to_string(),
        &text,
    )?)
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))
}
