//! The core's modules form layers, and none imports from a layer above it:
//! vocabulary and calendar → catalog → prose → state → decision → diagnosis →
//! workflow → scenario (ARCHITECTURE.md, "Architecture Invariant").
//!
//! Every `crate::<module>` path in the production code of `src/` is checked
//! against that order; unit tests (`tests.rs` files and whatever follows a
//! `#[cfg(test)]` line) may reach anywhere.

use std::path::{Path, PathBuf};

/// The core's top-level modules, lowest layer first; modules in one inner
/// slice share a layer and may not import each other.
const LAYERS: &[&[&str]] = &[
    &["vocabulary", "calendar"],
    &["catalog"],
    &["prose"],
    &["state"],
    &["decision"],
    &["diagnosis"],
    &["workflow"],
    &["scenario", "journey"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a source file belongs to (`catalog/load.rs` →
/// `catalog`); `None` for the crate root, which only re-exports.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (module != "lib").then(|| module.to_owned())
}

/// The crate root's re-exports as (name, module): `pub use decision::{decide}`
/// gives ("decide", "decision"), so `crate::decide` counts as `decision`.
fn reexports(lib: &str) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for line in lib.lines() {
        let Some(path) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items
            .trim_end_matches(';')
            .trim_matches(|c| c == '{' || c == '}');
        for item in items.split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.push((item.to_owned(), module.to_owned()));
            }
        }
    }
    names
}

/// Every upward or sideways `crate::` path in one file's production code, as
/// "file:line: `module` imports `crate::other`".
fn violations(relative: &Path, text: &str, roots: &[(String, String)]) -> Vec<String> {
    let Some(module) = module_of(relative) else {
        return Vec::new();
    };
    if relative.file_name().is_some_and(|name| name == "tests.rs") {
        return Vec::new();
    }
    let own = layer_of(&module)
        .unwrap_or_else(|| panic!("{}: module `{module}` is not in LAYERS", relative.display()));
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let target: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let target = roots
                .iter()
                .find(|(name, _)| *name == target)
                .map_or(target, |(_, module)| module.clone());
            if target == module || target.is_empty() {
                continue;
            }
            let allowed = layer_of(&target).is_some_and(|layer| layer < own);
            if !allowed {
                found.push(format!(
                    "{}:{}: `{module}` imports `crate::{target}`, which is not in a layer below it",
                    relative.display(),
                    n + 1
                ));
            }
        }
    }
    found
}

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn no_core_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(files.len() > 10, "found only {files:?}");
    let roots = reexports(&std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs"));
    assert!(
        roots
            .iter()
            .any(|(name, module)| name == "decide" && module == "decision")
    );
    let found: Vec<String> = files
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).expect("read source");
            violations(path.strip_prefix(&src).expect("under src"), &text, &roots)
        })
        .collect();
    assert!(
        found.is_empty(),
        "layer order broken:\n{}",
        found.join("\n")
    );
}

#[test]
fn an_upward_import_is_named_with_its_file_and_line() {
    let roots = reexports("pub use diagnosis::{Diagnosis, diagnose};\n");
    let text = "//! Catalog.\nuse crate::calendar::BusinessCalendar;\nuse crate::decision::Decision;\n#[cfg(test)]\nuse crate::scenario::Scenario;\n";
    assert_eq!(
        violations(Path::new("catalog/load.rs"), text, &roots),
        [
            "catalog/load.rs:3: `catalog` imports `crate::decision`, which is not in a layer below it"
        ]
    );
    assert_eq!(
        violations(
            Path::new("calendar.rs"),
            "use crate::vocabulary::StepCode;",
            &roots
        ),
        ["calendar.rs:1: `calendar` imports `crate::vocabulary`, which is not in a layer below it"]
    );
    assert_eq!(
        violations(
            Path::new("state.rs"),
            "/// See [`crate::diagnose`].",
            &roots
        ),
        ["state.rs:1: `state` imports `crate::diagnosis`, which is not in a layer below it"]
    );
    assert!(
        violations(
            Path::new("lib.rs"),
            "pub use crate::decision::decide;",
            &roots
        )
        .is_empty()
    );
    assert!(
        violations(
            Path::new("decision/tests.rs"),
            "use crate::scenario::Scenario;",
            &roots
        )
        .is_empty()
    );
}
