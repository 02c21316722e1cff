//! `nbhoist extract`: plan the package and the rewritten notebooks as a list of file changes.
//!
//! Reads files but writes none; [`crate::apply`] does the writing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ruff_python_ast::Stmt;

use crate::analysis::analyse;
use crate::apply::FileChange;
use crate::emit::{INIT_MARKER, init_text};
use crate::error::{Error, ErrorKind};
use crate::plan::{ExtractOptions, NotebookPlan, check_package_name, module_name, plan_notebook};
use crate::python::parse::parse_cell;
use crate::scan::read_notebook;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct ExtractRequest {
    /// The notebooks.
    pub paths: Vec<PathBuf>,
    /// The package's import name.
    pub package: String,
    /// The package directory; by default `NAME/` next to each notebook.
    pub package_dir: Option<PathBuf>,
    /// Add autoreload magics to the import cell.
    pub autoreload: bool,
    /// Replace modules that already exist.
    pub force: bool,
}

/// The plan of one notebook, or why it could not be made.
#[derive(Debug)]
pub struct NotebookExtract {
    /// The notebook.
    pub path: PathBuf,
    /// The module it hoists into.
    pub module_path: PathBuf,
    /// What happens to it.
    pub outcome: Result<Planned, Error>,
}

/// A notebook's plan and, when something moves, the rewritten notebook.
#[derive(Debug)]
pub struct Planned {
    /// The decisions.
    pub plan: NotebookPlan,
    /// The notebook's change; `None` when nothing moves.
    pub notebook: Option<FileChange>,
    /// The package files it creates or replaces: its module, `%%writefile` modules and the
    /// `__init__.py` of their sub-packages.
    pub modules: Vec<FileChange>,
}

/// Everything `extract` would do.
#[derive(Debug, Default)]
pub struct ExtractPlan {
    /// Per notebook, in the order given.
    pub notebooks: Vec<NotebookExtract>,
    /// Files to write: modules first, then `__init__.py` files, then notebooks.
    pub changes: Vec<FileChange>,
    /// Things the user should know (names not re-exported, how to import the package, ...).
    pub notes: Vec<String>,
}

impl ExtractPlan {
    /// True when some notebook could not be planned.
    pub fn has_errors(&self) -> bool {
        self.notebooks.iter().any(|n| n.outcome.is_err())
    }
}

/// Plans the extraction of every notebook of the request. Fails only when the request itself
/// is wrong; a notebook that cannot be planned is reported in its [`NotebookExtract`].
pub fn plan_extract(request: &ExtractRequest) -> Result<ExtractPlan, Error> {
    if let Some(dir) = &request.package_dir
        && dir.file_name().and_then(|n| n.to_str()) != Some(request.package.as_str())
    {
        let message = format!(
            "the package directory must be named `{}` so that `import {}` finds it",
            request.package, request.package
        );
        return Err(Error::new(dir, ErrorKind::Package(message)));
    }
    let options = ExtractOptions {
        package: request.package.clone(),
        autoreload: request.autoreload,
    };
    let mut plan = ExtractPlan::default();
    let mut modules = Vec::new();
    let mut notebooks = Vec::new();
    let mut planned_modules: Vec<PathBuf> = Vec::new();
    // Package directory → module name → names it exports, over every notebook of the run.
    let mut packages: BTreeMap<PathBuf, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for path in &request.paths {
        let package_dir = package_dir(request, path);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("notebook");
        let module = module_name(stem);
        let module_path = package_dir.join(format!("{module}.py"));
        let mut outcome = plan_one(path, &module, &package_dir, &options, request.force);
        if let Ok(planned) = &outcome
            && let Some(taken) = planned
                .modules
                .iter()
                .find(|change| planned_modules.contains(&change.path))
        {
            // Two notebooks whose names differ only in punctuation or case, or that write
            // the same `%%writefile` module.
            outcome = Err(Error::new(
                path,
                ErrorKind::Package(format!(
                    "another notebook of this run also writes {}; rename one of them",
                    taken.path.display()
                )),
            ));
        }
        if let Ok(Planned {
            plan: notebook_plan,
            notebook: Some(notebook_change),
            modules: module_changes,
        }) = &outcome
        {
            planned_modules.extend(module_changes.iter().map(|change| change.path.clone()));
            modules.extend(module_changes.iter().cloned());
            notebooks.push(notebook_change.clone());
            packages
                .entry(package_dir.clone())
                .or_default()
                .insert(module.clone(), notebook_plan.exports.clone());
            if let Some(note) = importability_note(request, path, &package_dir)
                && !plan.notes.contains(&note)
            {
                plan.notes.push(note);
            }
        }
        plan.notebooks.push(NotebookExtract {
            path: path.clone(),
            module_path,
            outcome,
        });
    }
    let mut inits = Vec::new();
    for (package_dir, exports) in packages {
        if let Some(change) = init_change(&package_dir, exports, &mut plan.notes) {
            inits.push(change);
        }
    }
    plan.changes = modules.into_iter().chain(inits).chain(notebooks).collect();
    Ok(plan)
}

fn package_dir(request: &ExtractRequest, notebook: &Path) -> PathBuf {
    match &request.package_dir {
        Some(dir) => dir.clone(),
        None => notebook
            .parent()
            .unwrap_or(Path::new(""))
            .join(&request.package),
    }
}

fn plan_one(
    path: &Path,
    module: &str,
    package_dir: &Path,
    options: &ExtractOptions,
    force: bool,
) -> Result<Planned, Error> {
    let notebook = read_notebook(path)?;
    let analysis = analyse(&notebook);
    let package_exists = package_dir.is_dir();
    check_package_name(&options.package, &analysis, package_exists)
        .map_err(|message| Error::new(path, ErrorKind::Package(message)))?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let plan = plan_notebook(&notebook, &analysis, &file_name, module, options);
    if plan.is_empty() {
        return Ok(Planned {
            plan,
            notebook: None,
            modules: Vec::new(),
        });
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if let Some(text) = &plan.module_text {
        files.push((package_dir.join(format!("{module}.py")), text.clone()));
    }
    for written in &plan.written {
        files.push((package_dir.join(&written.path), written.content.clone()));
    }
    let mut modules = Vec::new();
    for (file, text) in files {
        let before = std::fs::read_to_string(&file).ok();
        if before.is_some() && !force {
            return Err(Error::new(path, ErrorKind::ModuleExists(file)));
        }
        modules.push(FileChange {
            path: file,
            before,
            after: text,
        });
    }
    // Sub-folders of `%%writefile` modules become sub-packages.
    for written in &plan.written {
        let mut dir = Path::new(&written.path).parent();
        while let Some(sub) = dir.filter(|d| !d.as_os_str().is_empty()) {
            let init = package_dir.join(sub).join("__init__.py");
            if !init.exists() && !modules.iter().any(|change| change.path == init) {
                modules.push(FileChange {
                    path: init,
                    before: None,
                    after: format!("{SUBPACKAGE_DOCSTRING}\n"),
                });
            }
            dir = sub.parent();
        }
    }
    let notebook = FileChange {
        path: path.to_owned(),
        before: Some(notebook.text().to_owned()),
        after: notebook.render(&plan.edits),
    };
    Ok(Planned {
        plan,
        notebook: Some(notebook),
        modules,
    })
}

/// The content of the `__init__.py` of a sub-package made for `%%writefile` modules.
const SUBPACKAGE_DOCSTRING: &str =
    "\"\"\"Modules written by notebook cells, moved here by nbhoist.\"\"\"";

/// The package's `__init__.py`: created when missing; updated only when nbhoist wrote it.
fn init_change(
    package_dir: &Path,
    mut exports: BTreeMap<String, Vec<String>>,
    notes: &mut Vec<String>,
) -> Option<FileChange> {
    let path = package_dir.join("__init__.py");
    let before = std::fs::read_to_string(&path).ok();
    if let Some(existing) = &before {
        if !existing.starts_with(INIT_MARKER) {
            return None;
        }
        for (module, names) in existing_exports(existing) {
            exports.entry(module).or_insert(names);
        }
    }
    // A name two modules export would make `from package import name` ambiguous.
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, names) in &exports {
        for name in names {
            owners.entry(name.clone()).or_default().push(module.clone());
        }
    }
    for (name, modules) in &owners {
        if modules.len() > 1 {
            notes.push(format!(
                "`{name}` is defined in modules {} of {}; it is not re-exported from the package",
                modules.join(" and "),
                package_dir.display()
            ));
            for module in modules {
                if let Some(names) = exports.get_mut(module) {
                    names.retain(|n| n != name);
                }
            }
        }
    }
    let after = init_text(&exports);
    (before.as_deref() != Some(after.as_str())).then_some(FileChange {
        path,
        before,
        after,
    })
}

/// `module → names` of the `from .module import a, b` lines of an `__init__.py` nbhoist wrote.
fn existing_exports(text: &str) -> BTreeMap<String, Vec<String>> {
    let parsed = parse_cell(text);
    let mut exports = BTreeMap::new();
    for stmt in &parsed.syntax().body {
        if let Stmt::ImportFrom(import) = stmt
            && import.level == 1
            && let Some(module) = &import.module
        {
            exports.insert(
                module.to_string(),
                import
                    .names
                    .iter()
                    .map(|alias| alias.name.to_string())
                    .collect(),
            );
        }
    }
    exports
}

/// When the package is not next to the notebook, how to make it importable.
fn importability_note(
    request: &ExtractRequest,
    notebook: &Path,
    package_dir: &Path,
) -> Option<String> {
    request.package_dir.as_ref()?;
    let notebook_dir = notebook.parent().unwrap_or(Path::new(""));
    let parent = package_dir.parent().unwrap_or(Path::new(""));
    let same = |a: &Path, b: &Path| match (absolute(a), absolute(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    };
    if same(parent, notebook_dir) {
        return None;
    }
    Some(format!(
        "{} is not next to {}, so the notebook cannot import `{}` on its own: install the project that contains it (for example `pip install -e .`), or add {} to `sys.path`",
        package_dir.display(),
        notebook.display(),
        request.package,
        parent.display()
    ))
}

fn absolute(path: &Path) -> Option<PathBuf> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).ok()
}
