//! The library's errors. Each one names the file it is about.

use std::path::PathBuf;

use crate::notebook::ReadError;

/// An error that stops nbhoist from handling one file: `path: what went wrong`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub(crate) struct Error {
    /// The file concerned.
    pub(crate) path: PathBuf,
    /// What went wrong.
    pub(crate) kind: ErrorKind,
}

/// What went wrong with a file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    /// The file could not be read from disk.
    #[error("cannot read the file: {0}")]
    Io(#[source] std::io::Error),
    /// The path is a folder, a FIFO or a device, not a notebook file.
    #[error("not a regular file; give a notebook file")]
    NotAFile,
    /// The file changed size while it was read.
    #[error("the file changed while nbhoist read it; try again once it is saved")]
    ChangedWhileRead,
    /// The notebook has other names, which replacing it would leave with the old text.
    #[error(
        "the file is a hard link ({0} names); nbhoist replaces a notebook with a new file, which would split them, so it is left as it is: make it a single file or a symbolic link"
    )]
    HardLink(u64),
    /// A folder could not be walked.
    #[error("cannot walk the folder: {0}")]
    Walk(String),
    /// The file is not a notebook nbhoist can work on.
    #[error(transparent)]
    Notebook(#[from] ReadError),
    /// The package cannot be created as asked.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// An `include` or `exclude` glob is not valid.
    #[error("bad {option} glob `{glob}`: {message}")]
    BadGlob {
        /// The setting.
        option: &'static str,
        /// The pattern.
        glob: String,
        /// What is wrong with it.
        message: String,
    },
    /// nbhoist itself failed on this file.
    #[error("internal error ({0}); please report it with this notebook")]
    Panic(String),
    /// The module nbhoist would write exists, and nbhoist did not write it.
    #[error(
        "{} already exists and nbhoist did not write it; nbhoist never changes such a module: rename it, or choose another package",
        .0.display()
    )]
    ModuleExists(PathBuf),
    /// The notebook runs another with `%run`, whose module its own would import from, and
    /// that notebook could not be extracted.
    #[error(
        "it runs {} with `%run` and would import from its module, but that notebook could not be extracted (see its own error)",
        .0.display()
    )]
    RunsFailed(PathBuf),
    /// The notebook is not inside the project's root, so it has no module path.
    #[error(
        "the notebook is outside the project's root {}; run nbhoist from inside that project, or pass --config with the configuration of the project that holds it",
        .0.display()
    )]
    OutsideRoot(PathBuf),
    /// Another notebook of the same run writes the same module.
    #[error("another notebook of this run also writes {}; rename one of them", .0.display())]
    ModuleClash(PathBuf),
}

/// Why a package cannot be created as asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PackageError {
    /// Not a Python identifier.
    #[error(
        "`{0}` is not a valid Python package name; use letters, digits and `_`, not starting with a digit"
    )]
    NotIdentifier(String),
    /// A keyword.
    #[error("`{0}` is a Python keyword and cannot name a package")]
    Keyword(String),
    /// A standard-library module.
    #[error(
        "`{0}` would shadow the standard-library module of that name; choose another package name"
    )]
    ShadowsStandardLibrary(String),
    /// A module the notebook imports.
    #[error(
        "the notebook imports a module named `{0}` that nbhoist did not write; choose another package name"
    )]
    ImportedByNotebook(String),
    /// A symbolic link sends the package folder outside the notebooks' folder.
    #[error(
        "a symbolic link sends the package folder to {}, outside {}; nbhoist does not write there: remove the link, or give that folder with --package-dir",
        real.display(),
        root.display()
    )]
    LinkedOutside {
        /// Where the package folder really is.
        real: PathBuf,
        /// The folder that holds the notebooks.
        root: PathBuf,
    },
    /// The manifest of what nbhoist wrote cannot be read.
    #[error(
        "its manifest `.nbhoist.json` cannot be read ({0}); restore it from version control, or delete it, and nbhoist then treats every module as written by hand"
    )]
    BadManifest(String),
    /// The package folder could not be read.
    #[error("cannot read the package folder: {0}")]
    Unreadable(#[source] std::io::Error),
}

impl Error {
    /// An error about `path`.
    pub(crate) fn new(path: impl Into<PathBuf>, kind: impl Into<ErrorKind>) -> Error {
        Error {
            path: path.into(),
            kind: kind.into(),
        }
    }

    /// True when the file is not wrong, only out of scope (a notebook in another language):
    /// reported as skipped, not as a failure.
    pub(crate) fn is_skip(&self) -> bool {
        matches!(&self.kind, ErrorKind::Notebook(source) if source.is_skip())
    }
}
