//! A whole extraction on notebooks drawn from a grammar of definitions, uses, imports,
//! magics and redefinitions: no panic, and extracting the result again writes nothing.
//!
//! With `NBHOIST_FUZZ_DUMP=DIR`, each input's notebook and the Python files its extraction
//! wrote are copied to `DIR/N/` (the N-th input run), for `scripts/fuzz` to compile them
//! with Python, which would be too slow inside the loop.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// A name from a small pool, so that uses, redefinitions and clashes are frequent.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Name {
    F,
    G,
    Helper,
    Model,
    Rate,
    Os,
    Pkg,
}

impl Name {
    fn as_str(self) -> &'static str {
        match self {
            Name::F => "f",
            Name::G => "g",
            Name::Helper => "helper",
            Name::Model => "Model",
            Name::Rate => "RATE",
            Name::Os => "os",
            Name::Pkg => "pkg",
        }
    }
}

/// One statement of a cell.
#[derive(Arbitrary, Debug)]
enum Statement {
    Function { name: Name, calls: Option<Name>, reads: Option<Name> },
    Class { name: Name, base: Option<Name> },
    Constant { name: Name, value: u8 },
    Mutate { name: Name },
    Call { name: Name },
    Print { name: Name },
    Import { name: Name, from: bool },
    Delete { name: Name },
    Global { name: Name },
    LineMagic { which: u8 },
    Decorated { name: Name, decorator: Name },
    Lambda { name: Name, reads: Name },
    Raw { text: String },
}

impl Statement {
    fn text(&self) -> String {
        match self {
            Statement::Function { name, calls, reads } => {
                let mut body = String::from("    return 1");
                if let Some(callee) = calls {
                    body = format!("    return {}()", callee.as_str());
                }
                if let Some(read) = reads {
                    body = format!("    x = {}\n{body}", read.as_str());
                }
                format!("def {}():\n{body}", name.as_str())
            }
            Statement::Class { name, base } => match base {
                Some(base) => format!("class {}({}):\n    pass", name.as_str(), base.as_str()),
                None => format!("class {}:\n    size = 1", name.as_str()),
            },
            Statement::Constant { name, value } => format!("{} = {value}", name.as_str()),
            Statement::Mutate { name } => format!("{} += 1", name.as_str()),
            Statement::Call { name } => format!("{}()", name.as_str()),
            Statement::Print { name } => format!("print({})", name.as_str()),
            Statement::Import { name, from: true } => format!("from os import {}", name.as_str()),
            Statement::Import { name, from: false } => format!("import {}", name.as_str()),
            Statement::Delete { name } => format!("del {}", name.as_str()),
            Statement::Global { name } => {
                format!("def set_{0}():\n    global {0}\n    {0} = 2", name.as_str())
            }
            Statement::LineMagic { which } => match which % 4 {
                0 => "%matplotlib inline".to_owned(),
                1 => "%load_ext autoreload".to_owned(),
                2 => "%time f()".to_owned(),
                _ => "!ls".to_owned(),
            },
            Statement::Decorated { name, decorator } => format!(
                "@{}\ndef {}():\n    return 2",
                decorator.as_str(),
                name.as_str()
            ),
            Statement::Lambda { name, reads } => {
                format!("{} = lambda: {}", name.as_str(), reads.as_str())
            }
            Statement::Raw { text } => text.clone(),
        }
    }
}

/// One cell: statements, or a `%%writefile` of them.
#[derive(Arbitrary, Debug)]
struct Cell {
    writefile: Option<Name>,
    statements: Vec<Statement>,
    lines: bool,
}

fuzz_target!(|cells: Vec<Cell>| {
    let sources: Vec<String> = cells
        .iter()
        .take(16)
        .map(|cell| {
            let mut source: Vec<String> = cell.statements.iter().map(Statement::text).collect();
            if let Some(module) = cell.writefile {
                source.insert(0, format!("%%writefile {}.py", module.as_str()));
            }
            source.join("\n")
        })
        .collect();
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    // One storage for the whole notebook, as tools write them.
    let lines = cells.first().is_some_and(|cell| cell.lines);
    let notebook = nbhoist::fuzzing::code_notebook(&sources, lines);
    let dir = tempfile::tempdir_in(scratch()).unwrap();
    let path = dir.path().join("nb.ipynb");
    std::fs::write(&path, &notebook).unwrap();
    if nbhoist::fuzzing::extract_quietly(&path).is_some() {
        if let Some(dump) = dump_folder() {
            dump_written(&notebook, dir.path(), dump);
        }
        assert_eq!(
            nbhoist::fuzzing::extract_quietly(&path),
            Some(true),
            "extracting the result again changed something: {}",
            std::fs::read_to_string(&path).unwrap()
        );
    }
});

/// Memory-backed temporary files when there are some: the target writes a tree per input.
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// Where to copy what each input's extraction wrote (`NBHOIST_FUZZ_DUMP`), if anywhere.
fn dump_folder() -> Option<&'static Path> {
    static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOLDER
        .get_or_init(|| std::env::var_os("NBHOIST_FUZZ_DUMP").map(PathBuf::from))
        .as_deref()
}

/// Copies the notebook as generated, and every `.py` file under `root`, to a new folder in
/// `dump`, named by the order of the input.
fn dump_written(notebook: &str, root: &Path, dump: &Path) {
    static INPUTS: AtomicUsize = AtomicUsize::new(0);
    let to = dump.join(format!("{:04}", INPUTS.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&to).unwrap();
    std::fs::write(to.join("nb.ipynb"), notebook).unwrap();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "py") {
                let copy = to.join(path.strip_prefix(root).unwrap());
                std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
                std::fs::copy(&path, copy).unwrap();
            }
        }
    }
}
