//! `nbhoist init`: a minimal PEP 621 `pyproject.toml` for the package, so that
//! `pip install -e .` makes it importable from every notebook's folder, with the
//! `[tool.nbhoist]` table that lets every later run leave out `--package`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::apply::apply;
use crate::change::{Change, Write};
use crate::cli::InitArgs;
use crate::commands::ExitStatus;
use crate::config::{self, PYPROJECT_TOML};
use crate::decide::check_package_name;

/// Writes `pyproject.toml` in the current folder, or adds `[tool.nbhoist]` to the one there.
pub(crate) fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let path = PathBuf::from(PYPROJECT_TOML);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).context(format!("cannot read {}", path.display())),
    };
    if Path::new("nbhoist.toml").exists() {
        bail!("nbhoist.toml already configures nbhoist here; nothing to do");
    }
    let name = match &args.package {
        Some(name) => name.clone(),
        None => match config::project_package(&cwd)? {
            Some(name) => name,
            None => config::import_name(
                &cwd.file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        },
    };
    check_package_name(&name).context("choose the package's name with --package NAME")?;
    let package_dir = args.package_dir.as_deref();
    let after = match &existing {
        None => pyproject(&name, package_dir),
        Some(text) => {
            if config::load(&path)?.options != config::Options::default()
                || text.contains("[tool.nbhoist]")
            {
                bail!(
                    "{} already has a [tool.nbhoist] table; edit it instead",
                    path.display()
                );
            }
            let mut text = text.clone();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
            text.push_str(&nbhoist_table(&name, package_dir));
            text
        }
    };
    let change = Write::file(path.clone(), existing.as_deref(), after, false);
    apply(&[change]).context("nothing was written")?;
    if existing.is_some() {
        println!(
            "Added [tool.nbhoist] to {}; its [project] and [build-system] are left as they \
             were, and must make `{name}` installable for `pip install -e .` to work.",
            path.display()
        );
    } else {
        println!(
            "Wrote {}: package `{name}`. Run `pip install -e .` in the environment of the \
             notebooks' kernel, so that every notebook can import `{name}`.",
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

/// A whole `pyproject.toml`: setuptools as the build backend (every pip has it at hand),
/// packages found only under the package's name, so that the notebooks' folders never
/// make setuptools' discovery fail.
fn pyproject(name: &str, package_dir: Option<&Path>) -> String {
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
         include = [{}]\n\
         \n\
         {}",
        quoted(&distribution),
        quoted(&dir),
        quoted(&format!("{name}*")),
        nbhoist_table(name, package_dir)
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
        std::fs::write(&path, pyproject("team_lib", Some(Path::new("src")))).unwrap();
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
