//! The library's errors. Each one names the file it is about.

use std::path::PathBuf;

use crate::notebook::ReadError;

/// An error that stops nbhoist from handling one file: `path: what went wrong`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct Error {
    /// The file concerned.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong with a file.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be read from disk.
    #[error("cannot read the file: {0}")]
    Io(#[source] std::io::Error),
    /// The file is not a notebook nbhoist can work on.
    #[error(transparent)]
    Notebook(#[from] ReadError),
    /// The package cannot be created as asked.
    #[error("{0}")]
    Package(String),
    /// Something given on the command line cannot be used.
    #[error("{0}")]
    Usage(String),
    /// nbhoist itself failed on this file.
    #[error("internal error ({0}); please report it with this notebook")]
    Panic(String),
    /// The module nbhoist would create already exists.
    #[error(
        "{} already exists; nbhoist does not overwrite a module it may not have written (use --force to replace it)",
        .0.display()
    )]
    ModuleExists(PathBuf),
}

impl Error {
    /// An error about `path`.
    pub fn new(path: impl Into<PathBuf>, kind: impl Into<ErrorKind>) -> Error {
        Error {
            path: path.into(),
            kind: kind.into(),
        }
    }

    /// True when the file is not wrong, only out of scope (a notebook in another language):
    /// reported as skipped, not as a failure.
    pub fn is_skip(&self) -> bool {
        matches!(&self.kind, ErrorKind::Notebook(source) if source.is_skip())
    }
}
