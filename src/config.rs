//! Configuration files: `[tool.nbhoist]` in `pyproject.toml`, or `nbhoist.toml`, found by
//! walking up from the current folder as ruff finds its own. Reading only: what wins over
//! what is decided in [`crate::settings`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file names that hold nbhoist's configuration, in the order they are looked for in
/// each folder.
const NBHOIST_TOML: &str = "nbhoist.toml";
/// The Python project file, whose `[tool.nbhoist]` table configures nbhoist.
pub(crate) const PYPROJECT_TOML: &str = "pyproject.toml";

/// The settings a configuration file can hold: `[tool.nbhoist]`, or the whole of
/// `nbhoist.toml`. Every field is optional; a key not listed here is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Options {
    /// The package's import name.
    pub(crate) package: Option<String>,
    /// The folder, relative to the configuration file's folder, that holds the package.
    pub(crate) package_dir: Option<PathBuf>,
    /// Globs (gitignore syntax, relative to the configuration file's folder) of the notebooks
    /// to take when walking folders.
    pub(crate) include: Option<Vec<String>>,
    /// Globs of files and folders to leave out when walking folders.
    pub(crate) exclude: Option<Vec<String>>,
    /// Whether the import cell loads autoreload.
    pub(crate) autoreload: Option<bool>,
}

/// The parts of `pyproject.toml` nbhoist reads; everything else in it belongs to others.
#[derive(Debug, Default, Deserialize)]
struct Pyproject {
    tool: Option<Tools>,
    project: Option<Project>,
}

#[derive(Debug, Default, Deserialize)]
struct Tools {
    nbhoist: Option<Options>,
}

#[derive(Debug, Default, Deserialize)]
struct Project {
    name: Option<toml::Value>,
}

/// A configuration file, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its settings.
    pub(crate) options: Options,
}

impl Config {
    /// The folder holding the file: the project's root.
    pub(crate) fn root(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read the configuration file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or holds a key or value nbhoist does not know.
    #[error("{}: {}", path.display(), message.trim_end())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and the key.
        message: String,
    },
}

/// Reads the configuration file `--config` names: `pyproject.toml` (its `[tool.nbhoist]`
/// table, empty when there is none) or a file in `nbhoist.toml`'s format.
pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    let options = if is_pyproject(path) {
        parse_pyproject(path, &text)?
            .tool
            .and_then(|tool| tool.nbhoist)
            .unwrap_or_default()
    } else {
        parse(path, &text)?
    };
    Ok(Config {
        path: path.to_owned(),
        options,
    })
}

/// The nearest configuration file in `dir` or a folder above it: `nbhoist.toml`, or a
/// `pyproject.toml` with a `[tool.nbhoist]` table (one without it is not nbhoist's, as
/// ruff skips a `pyproject.toml` without `[tool.ruff]`).
pub(crate) fn find(dir: &Path) -> Result<Option<Config>, ConfigError> {
    for folder in dir.ancestors() {
        let nbhoist = folder.join(NBHOIST_TOML);
        if nbhoist.is_file() {
            return load(&nbhoist).map(Some);
        }
        let pyproject = folder.join(PYPROJECT_TOML);
        if pyproject.is_file() {
            let text = read(&pyproject)?;
            if let Some(options) = parse_pyproject(&pyproject, &text)?
                .tool
                .and_then(|tool| tool.nbhoist)
            {
                return Ok(Some(Config {
                    path: pyproject,
                    options,
                }));
            }
        }
    }
    Ok(None)
}

/// The import name `[project] name` of `dir/pyproject.toml` gives, normalised as pip
/// normalises names (`Team-Lib.Utils` → `team_lib_utils`); `None` without a file, a name,
/// or when the name cannot be an import name.
pub(crate) fn project_package(dir: &Path) -> Result<Option<String>, ConfigError> {
    let path = dir.join(PYPROJECT_TOML);
    if !path.is_file() {
        return Ok(None);
    }
    let text = read(&path)?;
    let name = parse_pyproject(&path, &text)?
        .project
        .and_then(|project| project.name)
        .and_then(|name| name.as_str().map(import_name));
    Ok(name.filter(|name| {
        ruff_python_stdlib::identifiers::is_identifier(name)
            && !ruff_python_stdlib::keyword::is_keyword(name)
    }))
}

/// Whether `dir/pyproject.toml` declares a `[project]`, which `pip install -e` can install.
pub(crate) fn declares_project(dir: &Path) -> bool {
    let path = dir.join(PYPROJECT_TOML);
    read(&path)
        .and_then(|text| parse_pyproject(&path, &text))
        .is_ok_and(|pyproject| pyproject.project.is_some())
}

/// A distribution name as an import name: lower case, each run of `-`, `_` and `.` one `_`.
pub(crate) fn import_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == PYPROJECT_TOML)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn parse(path: &Path, text: &str) -> Result<Options, ConfigError> {
    toml::from_str(text).map_err(|error| invalid(path, &error))
}

fn parse_pyproject(path: &Path, text: &str) -> Result<Pyproject, ConfigError> {
    toml::from_str(text).map_err(|error| invalid(path, &error))
}

fn invalid(path: &Path, error: &toml::de::Error) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_nearest_file_with_nbhoist_settings_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "pyproject.toml",
            "[tool.nbhoist]\npackage = \"outer\"\n",
        );
        // Not nbhoist's: no `[tool.nbhoist]`.
        write(root, "a/pyproject.toml", "[project]\nname = \"inner\"\n");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let found = find(&root.join("a/b")).unwrap().unwrap();
        assert_eq!(found.path, root.join("pyproject.toml"));
        assert_eq!(found.options.package.as_deref(), Some("outer"));

        write(
            root,
            "a/nbhoist.toml",
            "package-dir = \"src\"\nautoreload = false\n",
        );
        let found = find(&root.join("a/b")).unwrap().unwrap();
        assert_eq!(found.root(), root.join("a"));
        assert_eq!(
            found.options,
            Options {
                package_dir: Some(PathBuf::from("src")),
                autoreload: Some(false),
                ..Options::default()
            }
        );
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "pyproject.toml",
            "[tool.nbhoist]\npakage = \"x\"\n",
        );
        let error = find(dir.path()).unwrap_err().to_string();
        assert!(error.contains("unknown field `pakage`"), "{error}");
        assert!(error.starts_with(&path.display().to_string()), "{error}");
        let path = write(dir.path(), "other.toml", "[tool.nbhoist]\n");
        let error = load(&path).unwrap_err().to_string();
        assert!(error.contains("unknown field `tool`"), "{error}");
    }

    #[test]
    fn the_project_name_is_normalised_to_an_import_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(project_package(dir.path()).unwrap(), None);
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"Team-Lib.utils\"\n",
        );
        assert_eq!(
            project_package(dir.path()).unwrap().as_deref(),
            Some("team_lib_utils")
        );
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"1-bad\"\n",
        );
        assert_eq!(project_package(dir.path()).unwrap(), None);
        write(
            dir.path(),
            "pyproject.toml",
            "[build-system]\nrequires = []\n",
        );
        assert_eq!(project_package(dir.path()).unwrap(), None);
    }
}
