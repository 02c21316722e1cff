//! `nbhoist init`: a minimal PEP 621 `pyproject.toml` for the package, so that
//! `pip install -e .` makes it importable from every notebook's folder, with the
//! `[tool.nbhoist]` table that lets every later run leave out `--package`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::apply::apply;
use crate::change::{Change, Write};
use crate::cli::InitArgs;
use crate::commands::ExitStatus;
use crate::config::{self, PYPROJECT_TOML};
use crate::decide::check_package_name;

/// Writes `pyproject.toml` in the current folder, or adds to the one there what it lacks: a
/// `[project]` (with a build backend) and the `[tool.nbhoist]` table.
pub(crate) fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let path = PathBuf::from(PYPROJECT_TOML);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).context(format!("cannot read {}", path.display())),
    };
    let table: toml::Table = match &existing {
        Some(text) => toml::from_str(text).with_context(|| format!("{}", path.display()))?,
        None => toml::Table::new(),
    };
    let has = |section: &str| table.contains_key(section);
    let nbhoist_toml = Path::new("nbhoist.toml");
    let configured = if nbhoist_toml.is_file() {
        Some(config::load(nbhoist_toml)?)
    } else if table
        .get("tool")
        .and_then(|tool| tool.get("nbhoist"))
        .is_some()
    {
        Some(config::load(&path)?)
    } else {
        None
    };
    let options = configured.as_ref().map(|c| &c.options);
    let name = match (&args.package, options.and_then(|o| o.package.clone())) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) => name,
        (None, None) => match config::project_package(&cwd)? {
            Some(name) => name,
            None => config::import_name(
                &cwd.file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        },
    };
    check_package_name(&name).context("choose the package's name with --package NAME")?;
    let package_dir = args
        .package_dir
        .clone()
        .or_else(|| options.and_then(|o| o.package_dir.clone()));
    let mut added = Vec::new();
    let mut after = existing.clone().unwrap_or_default();
    let mut append = |section: String, what: &'static str| {
        if !after.is_empty() {
            if !after.ends_with('\n') {
                after.push('\n');
            }
            after.push('\n');
        }
        after.push_str(&section);
        added.push(what);
    };
    if !has("project") && !has("build-system") {
        append(project(&name, package_dir.as_deref()), "[project]");
    }
    if configured.is_none() {
        append(
            nbhoist_table(&name, package_dir.as_deref()),
            "[tool.nbhoist]",
        );
    }
    if added.is_empty() {
        println!(
            "{} already has a [project] and nbhoist's configuration; nothing to do.",
            path.display()
        );
        return Ok(ExitStatus::Success);
    }
    let change = Write::file(path.clone(), existing.as_deref(), after, false);
    apply(&[change]).context("nothing was written")?;
    println!(
        "{} {}: {} for package `{name}`.",
        if existing.is_some() {
            "Added to"
        } else {
            "Wrote"
        },
        path.display(),
        added.join(" and ")
    );
    if added.contains(&"[project]") {
        println!(
            "Run `pip install -e .` here, in the environment of the notebooks' kernel, so that \
             every notebook can import `{name}`."
        );
    } else {
        println!(
            "The existing [project] of {} must make `{name}` installable for `pip install -e .` \
             to work.",
            path.display()
        );
    }
    Ok(ExitStatus::Success)
}

/// The `[tool.nbhoist]` table.
fn nbhoist_table(name: &str, package_dir: Option<&Path>) -> String {
    let mut table = format!("[tool.nbhoist]\npackage = {}\n", quoted(name));
    if let Some(dir) = package_dir {
        table.push_str(&format!(
            "package-dir = {}\n",
            quoted(&dir.to_string_lossy())
        ));
    }
    table
}

/// The tables that make the package installable: setuptools as the build backend (every
/// pip has it at hand), and packages found only under the package's name, so that the
/// notebooks' folders never make setuptools' discovery fail.
fn project(name: &str, package_dir: Option<&Path>) -> String {
    let distribution = name.replace('_', "-");
    let dir = package_dir.map_or_else(|| ".".to_owned(), |d| d.to_string_lossy().into_owned());
    format!(
        "[build-system]\n\
         requires = [\"setuptools>=64\"]\n\
         build-backend = \"setuptools.build_meta\"\n\
         \n\
         [project]\n\
         name = {}\n\
         version = \"0.1.0\"\n\
         requires-python = \">=3.8\"\n\
         \n\
         [tool.setuptools.packages.find]\n\
         where = [{}]\n\
         include = [{}]\n",
        quoted(&distribution),
        quoted(&dir),
        quoted(&format!("{name}*")),
    )
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pyproject_is_valid_and_configures_nbhoist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PYPROJECT_TOML);
        let text = format!(
            "{}\n{}",
            project("team_lib", Some(Path::new("src"))),
            nbhoist_table("team_lib", Some(Path::new("src")))
        );
        std::fs::write(&path, text).unwrap();
        let config = config::load(&path).unwrap();
        assert_eq!(config.options.package.as_deref(), Some("team_lib"));
        assert_eq!(config.options.package_dir, Some(PathBuf::from("src")));
        assert_eq!(
            config::project_package(dir.path()).unwrap().as_deref(),
            Some("team_lib")
        );
        assert_eq!(quoted("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
