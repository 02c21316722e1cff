//! Planned file changes, in the two forms a run makes them: a real run's [`Write`] carries the
//! new bytes, a dry run's [`Preview`] carries the diff. Which one a plan holds is its type,
//! so a dry run's plan cannot be written.

use std::path::{Path, PathBuf};

use crate::diff::{file_diff, notebook_diff};
use crate::notebook::{CellEdit, Notebook};

/// What a change does to its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    /// The file does not exist yet.
    Create,
    /// The file exists and is replaced.
    Modify,
}

/// A file a real run writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Write {
    /// Where it is.
    pub(crate) path: PathBuf,
    /// Whether it is created or replaced.
    pub(crate) action: Action,
    /// Its content after the change.
    pub(crate) after: String,
    /// The change as a unified diff, when a report shows it (`--format json`).
    pub(crate) diff: Option<String>,
    /// For a notebook, what its file held when it was read: it is replaced only if it still
    /// holds that. `None` for package files, which a lock protects.
    pub(crate) read: Option<Fingerprint>,
}

/// What a file held, in a few bytes: its length and a hash of its content, to tell whether
/// it changed since it was read without keeping a copy of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    len: usize,
    hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Fingerprint {
        use std::hash::Hasher as _;
        // SipHash with fixed keys: a hash no saved edit collides with by chance.
        let mut hasher = std::hash::DefaultHasher::new();
        hasher.write(bytes);
        Fingerprint {
            len: bytes.len(),
            hash: hasher.finish(),
        }
    }
}

/// A file a dry run (`--diff`, `--check`) would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Preview {
    /// Where it is.
    pub(crate) path: PathBuf,
    /// Whether it would be created or replaced.
    pub(crate) action: Action,
    /// The change as a unified diff.
    pub(crate) diff: String,
}

/// A planned change of one file.
pub(crate) trait Change: Clone + Send {
    /// A plain file going from `before` (`None` when it does not exist) to `after`;
    /// `with_diff` asks a real run's change to carry its diff too.
    fn file(path: PathBuf, before: Option<&str>, after: String, with_diff: bool) -> Self;

    /// A notebook changed by `edits`.
    fn notebook(path: PathBuf, notebook: &Notebook, edits: &[CellEdit], with_diff: bool) -> Self;

    /// The file.
    fn path(&self) -> &Path;

    /// Whether it is created or replaced.
    fn action(&self) -> Action;

    /// The change as a unified diff, when there is one.
    fn diff(&self) -> Option<&str>;
}

fn action(before: Option<&str>) -> Action {
    if before.is_some() {
        Action::Modify
    } else {
        Action::Create
    }
}

impl Change for Write {
    fn file(path: PathBuf, before: Option<&str>, after: String, with_diff: bool) -> Write {
        Write {
            diff: with_diff.then(|| file_diff(&path.display().to_string(), before, &after)),
            action: action(before),
            path,
            after,
            read: None,
        }
    }

    fn notebook(path: PathBuf, notebook: &Notebook, edits: &[CellEdit], with_diff: bool) -> Write {
        Write {
            diff: with_diff.then(|| notebook_diff(&path.display().to_string(), notebook, edits)),
            action: Action::Modify,
            after: notebook.render(edits),
            read: Some(Fingerprint::of(notebook.text().as_bytes())),
            path,
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn action(&self) -> Action {
        self.action
    }

    fn diff(&self) -> Option<&str> {
        self.diff.as_deref()
    }
}

impl Change for Preview {
    fn file(path: PathBuf, before: Option<&str>, after: String, _: bool) -> Preview {
        Preview {
            diff: file_diff(&path.display().to_string(), before, &after),
            action: action(before),
            path,
        }
    }

    // A dry run keeps diffs only: rendering every rewritten notebook would cost memory.
    fn notebook(path: PathBuf, notebook: &Notebook, edits: &[CellEdit], _: bool) -> Preview {
        Preview {
            diff: notebook_diff(&path.display().to_string(), notebook, edits),
            action: Action::Modify,
            path,
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn action(&self) -> Action {
        self.action
    }

    fn diff(&self) -> Option<&str> {
        Some(&self.diff)
    }
}
