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
    /// Its content after the change; shared, not copied, by the plan's two lists of changes
    /// (a notebook can be a gigabyte).
    pub(crate) after: std::sync::Arc<String>,
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
    /// Bytes hashed at a time: a file is hashed in pieces of this size as it is read, and
    /// bytes in memory the same way, so that both give the same hash.
    const PIECE: usize = 64 * 1024;

    /// The fingerprint of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> Fingerprint {
        let mut hasher = FingerprintHasher::default();
        for piece in bytes.chunks(Self::PIECE) {
            hasher.add(piece);
        }
        hasher.finish()
    }

    /// The fingerprint of the file at `path`, read a piece at a time.
    pub(crate) fn of_file(path: &Path) -> std::io::Result<Fingerprint> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let mut hasher = FingerprintHasher::default();
        let mut piece = vec![0; Self::PIECE];
        loop {
            // Fill the piece before hashing it: reads may return less.
            let mut filled = 0;
            while filled < piece.len() {
                match file.read(&mut piece[filled..])? {
                    0 => break,
                    n => filled += n,
                }
            }
            if filled == 0 {
                return Ok(hasher.finish());
            }
            hasher.add(&piece[..filled]);
        }
    }
}

/// A [`Fingerprint`] being computed.
#[derive(Default)]
struct FingerprintHasher {
    len: usize,
    // SipHash with fixed keys: a hash no saved edit collides with by chance.
    hasher: std::hash::DefaultHasher,
}

impl FingerprintHasher {
    fn add(&mut self, piece: &[u8]) {
        use std::hash::Hasher as _;
        self.len += piece.len();
        self.hasher.write(piece);
    }

    fn finish(&self) -> Fingerprint {
        use std::hash::Hasher as _;
        Fingerprint {
            len: self.len,
            hash: self.hasher.finish(),
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
            after: std::sync::Arc::new(after),
            read: None,
        }
    }

    fn notebook(path: PathBuf, notebook: &Notebook, edits: &[CellEdit], with_diff: bool) -> Write {
        Write {
            diff: with_diff.then(|| notebook_diff(&path.display().to_string(), notebook, edits)),
            action: Action::Modify,
            after: std::sync::Arc::new(notebook.render(edits)),
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
