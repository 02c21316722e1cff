//! Which statements set up what imports need: install packages, write files, change where
//! Python finds modules, set what libraries read when imported; and which change the working
//! directory, after which the notebook's own folder is no longer where imports look. Only
//! code that runs counts: top-level statements and the bodies of top-level `if`, `for`,
//! `with`, `try` ...; never a function body or a comment.

use ruff_python_ast::name::Name;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall, IpyEscapeKind, Stmt};

use super::{CodeCell, NameTable};
use crate::magics::{CellMagic, automagic};
use crate::python::scope::dotted_path;

/// What a statement does to the imports that come after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setup {
    /// It may make imports work that did not: installs a package, writes a file, changes
    /// `sys.path`, the environment, or settings libraries read when imported.
    Enables,
    /// It changes the working directory, which a kernel's `sys.path` holds as `''`.
    ChangesDirectory,
}

/// The first statement of the cell that enables imports, and the first that changes the
/// working directory (indices among the cell's statements; 0 for a shell cell or an automagic
/// line).
pub(super) fn find(
    cell: &CodeCell,
    source: &str,
    names: &NameTable,
) -> (Option<usize>, Option<usize>) {
    if let Some(CellMagic::Opaque { name }) = &cell.magic {
        // `%%bash` / `%%sh` / `%%script` / `%%system` cells run shell commands.
        let shell = matches!(name.as_str(), "bash" | "sh" | "script" | "system");
        let lines = || source.lines().skip(1);
        let enables = shell && lines().any(|line| shell_sets_up(line) == Some(Setup::Enables));
        let cd = shell && lines().any(|line| line.trim_start().starts_with("cd "));
        return (enables.then_some(0), cd.then_some(0));
    }
    if let Some((magic, rest)) = automagic(source)
        && !names.sites(magic).iter().any(|site| site.cell < cell.index)
    {
        return match magic_sets_up(&format!("{magic} {rest}")) {
            Some(Setup::Enables) => (Some(0), None),
            Some(Setup::ChangesDirectory) => (None, Some(0)),
            None => (None, None),
        };
    }
    let mut enables = None;
    let mut changes_directory = None;
    for (i, stmt) in cell.notebook_statements().iter().enumerate() {
        let mut finder = SetupFinder {
            names,
            found: Vec::new(),
        };
        finder.visit_stmt(stmt);
        if finder.found.contains(&Setup::Enables) {
            enables.get_or_insert(i);
        }
        if finder.found.contains(&Setup::ChangesDirectory) {
            changes_directory.get_or_insert(i);
        }
    }
    (enables, changes_directory)
}

/// Programs whose commands only look: they write no file when their output is not
/// redirected.
const LOOKING_PROGRAMS: &[&str] = &[
    "ls",
    "ll",
    "cat",
    "head",
    "tail",
    "less",
    "more",
    "echo",
    "printf",
    "pwd",
    "nvidia-smi",
    "which",
    "whoami",
    "nproc",
    "free",
    "df",
    "du",
    "wc",
    "grep",
    "uname",
    "date",
    "env",
    "printenv",
    "tree",
    "file",
    "stat",
    "hostname",
    "id",
    "lscpu",
    "ps",
    "sleep",
    "true",
    "diff",
    "md5sum",
    "sha256sum",
    "find",
    "readlink",
    "realpath",
    "basename",
    "dirname",
    "jq",
];

/// What a shell command line does for imports: installing, or any command that may write
/// files (a download, an unzip, a copy, a redirection, a script), enables; `cd` changes
/// nothing for the kernel, whose shell is a new one each time.
fn shell_sets_up(line: &str) -> Option<Setup> {
    let writes = line.contains('>')
        || line
            .split([';', '&', '|', '\n'])
            .any(|command| !only_looks(command));
    writes.then_some(Setup::Enables)
}

/// Whether one simple shell command only looks (`ls`, `pip list`, a `for` header, a comment).
fn only_looks(command: &str) -> bool {
    let mut words = command
        .split_whitespace()
        .skip_while(|word| {
            matches!(
                *word,
                "do" | "then" | "else" | "elif" | "if" | "while" | "until" | "done" | "fi" | "!"
            )
        })
        .peekable();
    let Some(program) = words.next() else {
        return true;
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    let subcommand = words.next().unwrap_or_default();
    match program {
        "pip" | "pip3" | "conda" | "mamba" | "uv" => {
            matches!(
                subcommand,
                "list" | "show" | "freeze" | "--version" | "info" | "-V"
            )
        }
        // `for f in *`: a loop header; `cd` in a subshell; a comment.
        "for" | "cd" => true,
        _ if program.starts_with('#') => true,
        _ => LOOKING_PROGRAMS.contains(&program),
    }
}

/// What a line magic does for imports: `%pip install`, `%env X=1`, `%run` enable; `%cd`,
/// `%pushd`, `%popd` change the working directory.
fn magic_sets_up(line: &str) -> Option<Setup> {
    let line = line.trim_start_matches('%');
    let (name, args) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(name, args)| (name, args.trim()));
    match name {
        "pip" | "conda" | "mamba" | "uv" => (args.starts_with("install")
            || args.starts_with("pip install"))
        .then_some(Setup::Enables),
        "run" | "set_env" | "load" => Some(Setup::Enables),
        "cd" | "pushd" | "popd" => Some(Setup::ChangesDirectory),
        // `%env` alone lists the environment; `%env X=1` and `%env X 1` set it.
        "env" => args.contains(['=', ' ']).then_some(Setup::Enables),
        "sx" | "system" => shell_sets_up(args),
        _ => None,
    }
}

/// `%pip install x`, `!pip install x`, `x = !wget ...`, ...
fn escape_sets_up(kind: IpyEscapeKind, value: &str) -> Option<Setup> {
    match kind {
        IpyEscapeKind::Magic => magic_sets_up(value),
        IpyEscapeKind::Shell | IpyEscapeKind::ShCap => shell_sets_up(value),
        _ => None,
    }
}

/// Methods whose call unpacks, copies or moves files, whatever they are called on
/// (`ZipFile(z).extractall()`, `shutil.copytree(a, b)`): what they write may be modules.
const UNPACKING_METHODS: &[&str] = &[
    "extractall",
    "extract",
    "copytree",
    "move",
    "unpack_archive",
    "symlink_to",
    "rename",
];

/// Calls that write a file named by their argument `n` (0-based), whatever they are called
/// on: `urlretrieve(url, "helper.py")`, `shutil.copy(a, "b.py")`.
const WRITING_CALLS: &[(&str, usize)] = &[
    ("urlretrieve", 1),
    ("copy", 1),
    ("copy2", 1),
    ("copyfile", 1),
];

/// Extensions of files that cannot be imported: writing one does not make an import work.
const DATA_EXTENSIONS: &[&str] = &[
    "csv",
    "tsv",
    "json",
    "jsonl",
    "txt",
    "md",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "pdf",
    "html",
    "pkl",
    "pickle",
    "npy",
    "npz",
    "h5",
    "hdf5",
    "parquet",
    "feather",
    "tfrecords",
    "tfrecord",
    "xml",
    "yaml",
    "yml",
    "log",
    "wav",
    "mp3",
    "mp4",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "onnx",
    "joblib",
    "xlsx",
    "xls",
    "db",
    "sqlite",
    "arrow",
    "gz",
    "bz2",
    "xz",
];

/// Whether writing the file named by `expr` may make an import work: any name nbhoist cannot
/// read, or one that is not a known data file.
fn may_be_module(expr: Option<&Expr>) -> bool {
    let Some(Expr::StringLiteral(path)) = expr else {
        return true;
    };
    let path = path.value.to_str();
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    !extension.is_some_and(|ext| DATA_EXTENSIONS.contains(&ext.as_str()))
}

struct SetupFinder<'n> {
    names: &'n NameTable,
    found: Vec<Setup>,
}

impl SetupFinder<'_> {
    /// The dotted name a callee or target stands for, with the first part replaced by the
    /// module it was imported as (`mpl.use` → `matplotlib.use`).
    fn resolve(&self, expr: &Expr) -> Option<String> {
        let mut path = dotted_path(expr, Name::as_str)?;
        if let Some(module) = self.names.imported_module(path[0]) {
            path[0] = module;
        }
        Some(path.join("."))
    }

    /// An assignment or deletion target that changes the environment or `sys.path`.
    fn target_sets_up(&self, target: &Expr) -> bool {
        let target = match target {
            Expr::Subscript(subscript) => &*subscript.value,
            target => target,
        };
        self.resolve(target)
            .is_some_and(|path| matches!(path.as_str(), "os.environ" | "environ" | "sys.path"))
    }

    fn call_sets_up(&self, call: &ExprCall) -> Option<Setup> {
        // `get_ipython().run_line_magic("pip", "install x")`, `get_ipython().system(...)`.
        if let Expr::Attribute(attribute) = &*call.func
            && let Expr::Call(inner) = &*attribute.value
            && matches!(&*inner.func, Expr::Name(name) if name.id.as_str() == "get_ipython")
        {
            let strings: Vec<String> = call
                .arguments
                .args
                .iter()
                .filter_map(|arg| arg.as_string_literal_expr())
                .map(|s| s.value.to_str().to_owned())
                .collect();
            return match attribute.attr.as_str() {
                "run_line_magic" | "magic" => magic_sets_up(&strings.join(" ")),
                "system" | "getoutput" => strings.iter().find_map(|s| shell_sets_up(s)),
                _ => None,
            };
        }
        if let Expr::Attribute(attribute) = &*call.func {
            let method = attribute.attr.as_str();
            if UNPACKING_METHODS.contains(&method) {
                return Some(Setup::Enables);
            }
            // `Path("helper.py").write_text(...)`: the file is the path's first argument.
            if matches!(method, "write_text" | "write_bytes")
                && let Expr::Call(path) = &*attribute.value
                && may_be_module(path.arguments.args.first())
            {
                return Some(Setup::Enables);
            }
        }
        let path = self.resolve(&call.func)?;
        let last = path.rsplit('.').next().unwrap_or_default();
        if let Some(&(_, argument)) = WRITING_CALLS.iter().find(|(name, _)| *name == last)
            && may_be_module(call.arguments.args.get(argument))
        {
            return Some(Setup::Enables);
        }
        if path == "open"
            && self.names.class("open").is_none()
            && writes(call)
            && may_be_module(call.arguments.args.first())
        {
            return Some(Setup::Enables);
        }
        if matches!(last, "chdir" | "fchdir") {
            return Some(Setup::ChangesDirectory);
        }
        let enables = path.starts_with("sys.path.")
            || path.starts_with("findspark.")
            || matches!(last, "addsitedir" | "putenv" | "load_dotenv")
            || matches!(
                path.as_str(),
                "os.environ.update"
                    | "os.environ.setdefault"
                    | "os.environ.pop"
                    | "os.environ.clear"
                    | "environ.update"
                    | "environ.setdefault"
                    | "matplotlib.use"
                    | "warnings.filterwarnings"
                    | "warnings.simplefilter"
                    | "filterwarnings"
                    | "simplefilter"
            );
        enables.then_some(Setup::Enables)
    }

    fn found(&mut self, setup: Option<Setup>) {
        self.found.extend(setup);
    }
}

/// `open(path, "w")`, `open(path, mode="a")`: a file opened for writing.
fn writes(call: &ExprCall) -> bool {
    let mode = call.arguments.args.get(1).or_else(|| {
        call.arguments
            .keywords
            .iter()
            .find(|keyword| {
                keyword
                    .arg
                    .as_ref()
                    .is_some_and(|arg| arg.as_str() == "mode")
            })
            .map(|keyword| &keyword.value)
    });
    match mode {
        Some(Expr::StringLiteral(mode)) => mode.value.to_str().contains(['w', 'a', 'x', '+']),
        // A mode nbhoist cannot read may write.
        Some(_) => true,
        None => false,
    }
}

impl<'a> Visitor<'a> for SetupFinder<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // Bodies of definitions do not run when the cell runs; decorators and defaults
            // do, but setting up there is not a thing notebooks do.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::IpyEscapeCommand(command) => {
                self.found(escape_sets_up(command.kind, &command.value));
            }
            Stmt::Assign(assign) => {
                if assign
                    .targets
                    .iter()
                    .any(|target| self.target_sets_up(target))
                {
                    self.found(Some(Setup::Enables));
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::AugAssign(assign) => {
                if self.target_sets_up(&assign.target) {
                    self.found(Some(Setup::Enables));
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::Delete(delete) => {
                if delete
                    .targets
                    .iter()
                    .any(|target| self.target_sets_up(target))
                {
                    self.found(Some(Setup::Enables));
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::IpyEscapeCommand(command) => {
                self.found(escape_sets_up(command.kind, &command.value));
            }
            Expr::Call(call) => {
                let setup = self.call_sets_up(call);
                self.found(setup);
                visitor::walk_expr(self, expr);
            }
            // A lambda's body runs when it is called.
            Expr::Lambda(_) => {}
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::analysis::analyse;
    use crate::notebook::code_notebook;

    fn setup(source: &str) -> (bool, bool) {
        let notebook = code_notebook(&["import os, sys, shutil\nimport matplotlib as mpl", source]);
        let analysis = analyse(&notebook);
        let cell = &analysis.cells[1];
        (cell.setup.is_some(), cell.chdir.is_some())
    }

    #[test]
    fn setup_comes_from_code_that_runs() {
        for source in [
            "!pip install seaborn",
            "%pip install seaborn",
            "x = !pip3 install seaborn",
            "sys.path.append('..')",
            "sys.path.insert(0, '..')",
            "sys.path = ['..'] + sys.path",
            "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'",
            "os.environ.update(X='1')",
            "%env X=1",
            "%run helpers.py",
            "mpl.use('Agg')",
            "import findspark\nfindspark.init()",
            "if True:\n    sys.path.append('..')",
            "get_ipython().run_line_magic('pip', 'install seaborn')",
            "%%bash\npip install seaborn",
            "pip install seaborn",
            "from dotenv import load_dotenv\nload_dotenv()",
            "open('helper.py', 'w').write('x = 1')",
            "with open('helper.py', mode='w') as f:\n    f.write('x = 1')",
            "shutil.copy('a.py', 'b.py')",
            "!wget https://example.org/data.zip",
            "!curl -O https://example.org/helper.py",
            "!unzip data.zip",
            "!echo 'x = 1' > helper.py",
            "import urllib.request\nurllib.request.urlretrieve(url, 'helper.py')",
            "from pathlib import Path\nPath('helper.py').write_text('x = 1')",
            "import zipfile\nzipfile.ZipFile('code.zip').extractall()",
        ] {
            assert_eq!(setup(source), (true, false), "{source}");
        }
        for source in ["os.chdir('/data')", "%cd /data", "%pushd data"] {
            assert_eq!(setup(source), (false, true), "{source}");
        }
        for source in [
            "import os",
            "import tf_agents.environments.wrappers",
            "# create the environment\nx = 1",
            "def f():\n    os.environ['X'] = '1'",
            "print(os.environ.get('HOME'))",
            "%env",
            "!echo pip",
            "!ls -la",
            "!nvidia-smi",
            "!pip list",
            "!cd data",
            "%%bash\nfor f in *; do echo $f; done",
            "!ls | head -3 && echo done",
            "%%html\npip install x",
            "print(open('x.txt').read())",
            "open('out.csv', 'w').write('a,b')",
            "nltk.download('punkt')",
            "with writer('data.tfrecords') as f:\n    f.write(b'x')",
        ] {
            assert_eq!(setup(source), (false, false), "{source}");
        }
    }
}
