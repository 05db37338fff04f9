//! Where `serve`, `gen`, `backup`, `export`, `import` and `verify` find the store: the flags
//! they all take.

use std::path::PathBuf;

use anyhow::Context;

/// The store's location: an embedded SQLite file in a directory, or a PostgreSQL URL.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store (the file `clearance.db` inside; created if missing).
    #[arg(
        long,
        env = "CLEARANCE_DATA_DIR",
        default_value = "./data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (`postgres://user@host/db`); overrides --data-dir. Several servers may share one.
    // It may carry a password: `--help` names the variable but never prints its value.
    #[arg(
        long,
        env = "CLEARANCE_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,
}

impl StoreArgs {
    /// The location `clearance_store::Store::open` takes.
    pub fn location(&self) -> anyhow::Result<String> {
        match &self.database {
            Some(url) => Ok(url.clone()),
            None => Ok(self
                .data_dir
                .join("clearance.db")
                .to_str()
                .context("--data-dir must be valid UTF-8")?
                .to_owned()),
        }
    }
}
