//! What exists on disk before planning: the package folder, read once, so that planning is a
//! function of its inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::emit::{INIT_MARKER, MODULE_HEADER};
use crate::error::PackageError;
use crate::ownership::{MANIFEST, Manifest};

/// The package folder as it is before a run: every Python file under it, with its text.
#[derive(Clone, Debug, Default)]
pub(crate) struct PackageSnapshot {
    /// The package folder.
    dir: PathBuf,
    /// Whether the folder exists.
    exists: bool,
    /// Every `.py` file under the folder (outside `__pycache__` and hidden folders), by path
    /// (the folder joined with the relative path); `None` when it is not UTF-8 text.
    files: BTreeMap<PathBuf, Option<String>>,
    /// The names of the folder's direct entries.
    entries: BTreeSet<String>,
    /// Notebook folders that hold a package of the same name that nbhoist wrote (by an
    /// earlier run that put the package next to the notebook).
    own_packages: BTreeSet<PathBuf>,
    /// Every other file under the folder (backups, data), by path.
    other_files: BTreeSet<PathBuf>,
    /// The text of the manifest of what nbhoist wrote, when there is one.
    manifest: Option<String>,
}

impl PackageSnapshot {
    /// Reads the package folder `dir` (which may not exist), and looks for a package of the
    /// same name nbhoist wrote in each of the notebooks' `folders`.
    pub(crate) fn read<'a>(
        dir: &Path,
        folders: impl Iterator<Item = &'a Path>,
    ) -> std::io::Result<PackageSnapshot> {
        let mut snapshot = PackageSnapshot::empty(dir);
        if let Some(name) = dir.file_name() {
            for folder in folders {
                if !snapshot.own_packages.contains(folder) && written_by_nbhoist(&folder.join(name))
                {
                    snapshot.own_packages.insert(folder.to_owned());
                }
            }
        }
        match std::fs::metadata(dir) {
            Ok(metadata) if metadata.is_dir() => snapshot.exists = true,
            Ok(_) => return Ok(snapshot),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(snapshot),
            Err(error) => return Err(error),
        }
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            snapshot.entries.insert(name);
        }
        match std::fs::read(dir.join(MANIFEST)) {
            Ok(bytes) => {
                snapshot.manifest = Some(String::from_utf8(bytes).map_err(|error| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, error)
                })?);
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let mut folders = vec![dir.to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let entry = entry?;
                let path = folder.join(entry.file_name());
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if entry.file_type()?.is_dir() {
                    if name != "__pycache__" && !name.starts_with('.') {
                        folders.push(path);
                    }
                } else if name.ends_with(".py") {
                    let text = String::from_utf8(std::fs::read(&path)?).ok();
                    snapshot.files.insert(path, text);
                } else {
                    snapshot.other_files.insert(path);
                }
            }
        }
        Ok(snapshot)
    }

    /// The manifest of what nbhoist wrote in the package (empty when there is none yet).
    pub(crate) fn manifest(&self) -> Result<Manifest, PackageError> {
        match &self.manifest {
            Some(text) => Manifest::parse(text).map_err(PackageError::BadManifest),
            None => Ok(Manifest::default()),
        }
    }

    /// The manifest's path, and its text when it exists.
    pub(crate) fn manifest_file(&self) -> (PathBuf, Option<&str>) {
        (self.dir.join(MANIFEST), self.manifest.as_deref())
    }

    /// Whether any file (Python or not) exists at `path`.
    pub(crate) fn has_any_file(&self, path: &Path) -> bool {
        self.files.contains_key(path) || self.other_files.contains(path)
    }

    /// A package folder that does not exist yet.
    pub(crate) fn empty(dir: &Path) -> PackageSnapshot {
        PackageSnapshot {
            dir: dir.to_owned(),
            ..PackageSnapshot::default()
        }
    }

    /// The same snapshot with one more file, for tests.
    #[cfg(test)]
    pub(crate) fn with_file(mut self, relative: &str, text: &str) -> PackageSnapshot {
        self.exists = true;
        let path = self.dir.join(relative);
        if let Some(first) = Path::new(relative).components().next() {
            self.entries
                .insert(first.as_os_str().to_string_lossy().into_owned());
        }
        self.files.insert(path, Some(text.to_owned()));
        self
    }

    /// The package folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the package folder exists.
    pub(crate) fn exists(&self) -> bool {
        self.exists
    }

    /// Whether `folder` (a notebook's) holds a package of this name that nbhoist wrote.
    pub(crate) fn own_package_in(&self, folder: &Path) -> bool {
        self.own_packages.contains(folder)
    }

    /// Whether a Python file exists at `path` (under the package folder).
    pub(crate) fn has_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    /// The text of the Python file at `path`, when it exists and is text.
    pub(crate) fn text(&self, path: &Path) -> Option<&str> {
        self.files.get(path)?.as_deref()
    }

    /// The names of the package folder's direct entries (files and folders).
    pub(crate) fn entries(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }
}

/// Whether the package folder `dir` was written by nbhoist: its `__init__.py` starts with
/// nbhoist's marker, or one of its modules with the docstring of a module nbhoist hoisted.
fn written_by_nbhoist(dir: &Path) -> bool {
    let starts_with = |path: &Path, header: &str| {
        std::fs::read_to_string(path).is_ok_and(|text| text.starts_with(header))
    };
    if starts_with(&dir.join("__init__.py"), INIT_MARKER) {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let path = entry.path();
        path.extension().is_some_and(|ext| ext == "py") && starts_with(&path, MODULE_HEADER)
    })
}
