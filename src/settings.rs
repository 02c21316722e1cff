//! The one place where what the user typed, the configuration file and the defaults are
//! merged. Precedence: the command line over the configuration file over the defaults.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{ConfigArgs, ExtractArgs, Inputs};
use crate::config::{self, Config};

/// Where the project is, and the notebooks to work on.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The working directory, absolute.
    pub(crate) cwd: PathBuf,
    /// The project's root, absolute: the configuration file's folder, else the repository's
    /// root (the nearest folder holding `.git`), else the working directory.
    pub(crate) root: PathBuf,
    /// The configuration file in use.
    pub(crate) config: Option<Config>,
    /// How to find notebooks.
    pub(crate) walk: Walk,
}

/// How notebooks are found.
#[derive(Debug)]
pub(crate) struct Walk {
    /// The paths to walk (the working directory when none was given).
    pub(crate) paths: Vec<PathBuf>,
    /// Which files of a walked folder are notebooks.
    pub(crate) include: Globs,
    /// Which files and folders of a walked folder to leave out.
    pub(crate) exclude: Globs,
    /// Walk folders that ignore files hide.
    pub(crate) no_ignore: bool,
}

/// Gitignore-style globs and the folder they are relative to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Globs {
    /// The folder a glob with a `/` is relative to.
    pub(crate) base: PathBuf,
    /// The globs.
    pub(crate) patterns: Vec<String>,
}

/// What `extract` needs besides the notebooks.
#[derive(Debug)]
pub(crate) struct PackageSettings {
    /// The package's import name.
    pub(crate) name: String,
    /// Whether the name came from a configuration file: imports of it are nbhoist's own.
    pub(crate) configured: bool,
    /// The package folder, absolute.
    pub(crate) dir: PathBuf,
    /// Whether the import cell loads autoreload.
    pub(crate) autoreload: bool,
}

/// The notebooks taken when walking a folder, by default.
const DEFAULT_INCLUDE: &str = "*.ipynb";

impl Settings {
    /// Resolves the project and the walk for `inputs`, run in the working directory.
    pub(crate) fn resolve(inputs: &Inputs) -> anyhow::Result<Settings> {
        let cwd = std::env::current_dir().context("cannot read the current folder")?;
        Settings::resolve_in(&cwd, inputs)
    }

    fn resolve_in(cwd: &Path, inputs: &Inputs) -> anyhow::Result<Settings> {
        let config = find_config(cwd, &inputs.config)?;
        let root = match &config {
            Some(config) => config.root().to_owned(),
            None => repository_root(cwd).unwrap_or_else(|| cwd.to_owned()),
        };
        let options = config.as_ref().map(|c| &c.options);
        let paths = if inputs.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            inputs.paths.clone()
        };
        let include = Globs {
            base: root.clone(),
            patterns: options
                .and_then(|o| o.include.clone())
                .unwrap_or_else(|| vec![DEFAULT_INCLUDE.to_owned()]),
        };
        let exclude = if inputs.exclude.is_empty() {
            Globs {
                base: root.clone(),
                patterns: options.and_then(|o| o.exclude.clone()).unwrap_or_default(),
            }
        } else {
            Globs {
                base: cwd.to_owned(),
                patterns: inputs.exclude.clone(),
            }
        };
        Ok(Settings {
            cwd: cwd.to_owned(),
            root,
            config,
            walk: Walk {
                paths,
                include,
                exclude,
                no_ignore: inputs.no_ignore,
            },
        })
    }

    /// Resolves the package `extract` writes.
    pub(crate) fn package(&self, args: &ExtractArgs) -> anyhow::Result<PackageSettings> {
        let options = self.config.as_ref().map(|c| &c.options);
        let from_config = options.and_then(|o| o.package.clone());
        let configured = args.package.is_none() && from_config.is_some();
        let name = match (&args.package, from_config) {
            (Some(name), _) => name.clone(),
            (None, Some(name)) => name,
            (None, None) => {
                let project = if args.inputs.config.isolated {
                    None
                } else {
                    config::project_package(&self.root)?
                };
                match project {
                    Some(name) => name,
                    None => bail!(
                        "no package name: pass --package NAME, or set `package` in \
                         [tool.nbhoist] of {} (`nbhoist init` writes one)",
                        self.display(&self.root.join(config::PYPROJECT_TOML))
                            .display()
                    ),
                }
            }
        };
        let dir = match (
            &args.package_dir,
            options.and_then(|o| o.package_dir.clone()),
        ) {
            (Some(dir), _) if dir.file_name().and_then(|n| n.to_str()) != Some(&name) => bail!(
                "--package-dir {}: the package directory must be named `{name}` so that \
                 `import {name}` finds it",
                dir.display()
            ),
            (Some(dir), _) => normalize(&self.cwd.join(dir)),
            (None, Some(parent)) => normalize(&self.root.join(parent).join(&name)),
            (None, None) => self.root.join(&name),
        };
        let autoreload = if args.no_autoreload {
            false
        } else if args.autoreload {
            true
        } else {
            options.and_then(|o| o.autoreload).unwrap_or(true)
        };
        Ok(PackageSettings {
            name,
            configured,
            dir,
            autoreload,
        })
    }

    /// `path` as reports show it: relative to the working directory (with `..` when it is
    /// above it), absolute when they share nothing.
    pub(crate) fn display(&self, path: &Path) -> PathBuf {
        relative_to(path, &self.cwd)
    }

    /// The notebook's path relative to the project's root, or `None` when it is outside it.
    /// A symlink is taken where it is, unless only its target is inside the root.
    pub(crate) fn in_root(&self, notebook: &Path) -> Option<PathBuf> {
        let absolute = normalize(&self.cwd.join(notebook));
        if let Ok(relative) = absolute.strip_prefix(&self.root) {
            return Some(relative.to_owned());
        }
        let real = std::fs::canonicalize(notebook).ok()?;
        let root = std::fs::canonicalize(&self.root).ok()?;
        real.strip_prefix(root).ok().map(Path::to_owned)
    }
}

fn find_config(cwd: &Path, args: &ConfigArgs) -> anyhow::Result<Option<Config>> {
    if args.isolated {
        return Ok(None);
    }
    Ok(match &args.config {
        Some(path) => Some(config::load(&normalize(&cwd.join(path)))?),
        None => config::find(cwd)?,
    })
}

/// The nearest folder at or above `dir` that holds `.git` (a folder, or a file in a
/// worktree or submodule).
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|folder| folder.join(".git").exists())
        .map(Path::to_owned)
}

/// `path` with `.` and `..` resolved without looking at the disk.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            // `..` cancels a folder name, stops at the root, and is kept at the start of a
            // relative path (`../../x` stays as it is).
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base` (both absolute), with `..` for each folder of `base` it is not
/// in; `path` itself when they share no folder but the file system's root.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path = normalize(path);
    let shared = path
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    if shared <= 1 {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in base.components().skip(shared) {
        out.push("..");
    }
    for component in path.components().skip(shared) {
        out.push(component);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn extract_args(args: &[&str]) -> ExtractArgs {
        let cli = Cli::parse_from(["nbhoist", "extract"].iter().chain(args));
        match cli.command {
            Command::Extract(args) => args,
            _ => unreachable!(),
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_command_line_wins_over_the_file_which_wins_over_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(
            &root.join("pyproject.toml"),
            "[project]\nname = \"proj\"\n[tool.nbhoist]\npackage-dir = \"src\"\nautoreload = false\nexclude = [\"old\"]\n",
        );
        let cwd = root.join("notebooks/eda");
        std::fs::create_dir_all(&cwd).unwrap();

        let args = extract_args(&[]);
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.root, root);
        assert_eq!(settings.walk.paths, [PathBuf::from(".")]);
        assert_eq!(settings.walk.exclude.patterns, ["old"]);
        assert_eq!(settings.walk.include.patterns, ["*.ipynb"]);
        let package = settings.package(&args).unwrap();
        assert_eq!(package.name, "proj");
        assert!(!package.configured);
        assert_eq!(package.dir, root.join("src/proj"));
        assert!(!package.autoreload);
        assert_eq!(settings.display(&package.dir), Path::new("../../src/proj"));

        let args = extract_args(&[
            "-p",
            "lib",
            "--package-dir",
            "../lib",
            "--autoreload",
            "--exclude",
            "x",
        ]);
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.walk.exclude.patterns, ["x"]);
        assert_eq!(settings.walk.exclude.base, cwd);
        let package = settings.package(&args).unwrap();
        assert_eq!(package.name, "lib");
        assert_eq!(package.dir, root.join("notebooks/lib"));
        assert!(package.autoreload);

        let args = extract_args(&["--isolated"]);
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert!(settings.config.is_none());
        let error = settings.package(&args).unwrap_err().to_string();
        assert!(error.contains("no package name"), "{error}");
    }

    #[test]
    fn the_root_is_the_config_folder_else_the_repository_else_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let cwd = root.join("a/b");
        std::fs::create_dir_all(&cwd).unwrap();
        let args = extract_args(&[]);
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.root, cwd);
        std::fs::create_dir(root.join(".git")).unwrap();
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.root, root);
        write(&root.join("a/nbhoist.toml"), "package = \"x\"\n");
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.root, root.join("a"));
        let package = settings.package(&args).unwrap();
        assert!(package.configured);
        // `--config` names the file, and so the root.
        write(&root.join("conf/nbhoist.toml"), "package = \"y\"\n");
        let args = extract_args(&["--config", "../../conf/nbhoist.toml"]);
        let settings = Settings::resolve_in(&cwd, &args.inputs).unwrap();
        assert_eq!(settings.root, root.join("conf"));
        assert_eq!(settings.package(&args).unwrap().name, "y");
    }

    #[test]
    fn notebooks_are_placed_relative_to_the_root_however_they_are_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        let cwd = root.join("notebooks/eda");
        std::fs::create_dir_all(&cwd).unwrap();
        let settings = Settings::resolve_in(&cwd, &extract_args(&[]).inputs).unwrap();
        let expected = Some(PathBuf::from("notebooks/eda/a.ipynb"));
        assert_eq!(settings.in_root(Path::new("a.ipynb")), expected);
        assert_eq!(settings.in_root(Path::new("./../eda/a.ipynb")), expected);
        assert_eq!(
            settings.in_root(&root.join("notebooks/eda/a.ipynb")),
            expected
        );
        assert_eq!(
            settings.in_root(Path::new("../../../elsewhere.ipynb")),
            None
        );
    }

    #[test]
    fn normalize_resolves_dots_as_written() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../../x")), PathBuf::from("../../x"));
        assert_eq!(normalize(Path::new("a/../../x")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
    }
}
