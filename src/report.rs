//! Rendering reports for people (aligned text) and for programs (JSON).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::change::{Action, Change};
use crate::decide::MovedKind;
use crate::diff::colorize;
use crate::duplicates::Duplicates;
use crate::extract::ExtractPlan;
use crate::position::CellNumber;
use crate::scan::{NotebookReport, Status, VerdictName};
use crate::terminal::Paint;

/// Totals over a set of reports, for the closing summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Notebooks analysed.
    pub(crate) notebooks: usize,
    /// Files that could not be read.
    pub(crate) failed: usize,
    /// Files out of scope.
    pub(crate) skipped: usize,
    /// Definitions that can move.
    pub(crate) movable: usize,
    /// Definitions that stay.
    pub(crate) staying: usize,
    /// Syntax errors.
    pub(crate) syntax_errors: usize,
}

impl Totals {
    /// Adds up a set of reports.
    pub(crate) fn of(reports: &[NotebookReport]) -> Totals {
        let mut totals = Totals::default();
        for report in reports {
            match report.status {
                Status::Ok => totals.notebooks += 1,
                Status::Error => totals.failed += 1,
                Status::Skipped => totals.skipped += 1,
            }
            for definition in &report.definitions {
                match definition.verdict {
                    VerdictName::Move => totals.movable += 1,
                    VerdictName::Stay => totals.staying += 1,
                }
            }
            totals.syntax_errors += report.syntax_errors.len();
        }
        totals
    }

    /// One line: "2 notebooks: 5 definitions (3 can move, 2 stay), 1 syntax error".
    pub(crate) fn line(&self) -> String {
        let mut line = format!(
            "{}: {} ({} can move, {} {})",
            plural(self.notebooks, "notebook"),
            plural(self.movable + self.staying, "definition"),
            self.movable,
            self.staying,
            if self.staying == 1 { "stays" } else { "stay" },
        );
        if self.syntax_errors > 0 {
            write!(line, ", {}", plural(self.syntax_errors, "syntax error")).unwrap();
        }
        if self.skipped > 0 {
            write!(line, ", {} skipped", plural(self.skipped, "file")).unwrap();
        }
        if self.failed > 0 {
            let verb = if self.failed == 1 { "was" } else { "were" };
            write!(
                line,
                ", {} {verb} not readable",
                plural(self.failed, "file")
            )
            .unwrap();
        }
        line
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The text report: per notebook, one aligned line per definition and `%%writefile` cell, and
/// one per syntax error (`path:cell N:line:col: message`), then the totals. Coloured when
/// `color` is set.
pub(crate) fn scan_text(reports: &[NotebookReport], color: bool) -> String {
    let mut out = String::new();
    for report in reports {
        if report.status != Status::Ok {
            let what = if report.status == Status::Skipped {
                "skipped: "
            } else {
                ""
            };
            let message = report.message.as_deref().unwrap_or_default();
            let line = format!("{}: {what}{message}", report.path);
            let paint = if report.status == Status::Skipped {
                Paint::Dim
            } else {
                Paint::Removed
            };
            writeln!(out, "{}", paint.paint(&line, color)).unwrap();
            continue;
        }
        writeln!(out, "{}", Paint::FileHeader.paint(&report.path, color)).unwrap();
        if let Some(run_by) = &report.run_by {
            let line = format!(
                "  run with `%run` by {} (cell {}), so scanned with it",
                run_by.notebook, run_by.cell
            );
            writeln!(out, "{}", Paint::Dim.paint(&line, color)).unwrap();
        }
        if report.definitions.is_empty() && report.writefiles.is_empty() {
            writeln!(out, "  no functions or classes").unwrap();
        }
        let mut rows: Vec<Row<'_>> = report
            .definitions
            .iter()
            .map(|d| Row {
                cell: d.cell,
                name: &d.name,
                kind: d.kind.as_str(),
                verdict: d.verdict,
                reason: d.remark(),
                hint: d.hint.as_deref(),
            })
            .chain(report.writefiles.iter().map(|w| Row {
                cell: w.cell,
                name: &w.target,
                kind: "%%writefile",
                verdict: w.verdict,
                reason: w.reason.clone().unwrap_or_default(),
                hint: None,
            }))
            .collect();
        // The versions of a name defined several times go together, at the first one. The
        // first cells are collected once: the sort asks n log n times.
        let mut first_cells: std::collections::BTreeMap<&str, CellNumber> =
            std::collections::BTreeMap::new();
        for d in &report.definitions {
            let first = first_cells.entry(&d.name).or_insert(d.cell);
            *first = (*first).min(d.cell);
        }
        rows.sort_by_key(|row| {
            let group = (row.kind != "%%writefile")
                .then(|| first_cells.get(row.name).copied())
                .flatten();
            (group.unwrap_or(row.cell), row.cell)
        });
        let cell_width = rows
            .iter()
            .map(|r| r.cell.to_string().len())
            .max()
            .unwrap_or(0);
        let name_width = rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        let kind_width = rows.iter().map(|r| r.kind.len()).max().unwrap_or(0);
        for row in rows {
            let line = format!(
                "  cell {:<cell_width$}  {:<name_width$}  {:<kind_width$}  {}  {}",
                row.cell,
                row.name,
                row.kind,
                painted_verdict(row.verdict == VerdictName::Move, color),
                painted_reason(&row.reason, row.hint, color),
            );
            writeln!(out, "{}", line.trim_end()).unwrap();
        }
        drop_lines(&mut out, report, color);
        for error in &report.syntax_errors {
            writeln!(
                out,
                "{}:cell {}:{}:{}: {}",
                report.path, error.cell, error.line, error.column, error.message
            )
            .unwrap();
        }
    }
    if !reports.is_empty() {
        out.push('\n');
    }
    writeln!(out, "{}", Totals::of(reports).line()).unwrap();
    out
}

/// One line of `scan`'s text report: a definition or a `%%writefile` cell.
struct Row<'a> {
    cell: CellNumber,
    name: &'a str,
    kind: &'a str,
    verdict: VerdictName,
    reason: String,
    hint: Option<&'a str>,
}

/// `move` in green or `stay` in yellow.
fn painted_verdict(moves: bool, color: bool) -> String {
    if moves {
        Paint::Added.paint("move", color)
    } else {
        Paint::Stays.paint("stay", color)
    }
}

/// One line per import of the notebook that goes, whole or some of its names.
fn drop_lines(out: &mut String, report: &NotebookReport, color: bool) {
    for dropped in &report.dropped_imports {
        writeln!(
            out,
            "  {}  {}  cell {}  {}",
            Paint::Removed.paint("drop", color),
            dropped.import,
            dropped.cell,
            dropped.reason
        )
        .unwrap();
    }
}

/// A reason, and its hint after a colon, dimmed: the reason is what matters.
fn painted_reason(reason: &str, hint: Option<&str>, color: bool) -> String {
    match hint {
        Some(hint) => format!("{reason}: {}", Paint::Dim.paint(hint, color)),
        None => reason.to_owned(),
    }
}

/// The JSON report: `{"notebooks": [...]}`, with `"duplicates": {...}` when asked for,
/// pretty-printed.
pub(crate) fn scan_json(reports: &[NotebookReport], duplicates: Option<&Duplicates>) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        notebooks: &'a [NotebookReport],
        #[serde(skip_serializing_if = "Option::is_none")]
        duplicates: Option<&'a Duplicates>,
    }
    let document = Document {
        notebooks: reports,
        duplicates,
    };
    let mut json = serde_json::to_string_pretty(&document)
        .expect("reports are plain data and always serialise");
    json.push('\n');
    json
}

/// The duplicates section of `scan --duplicates`: each group of copies with the copy to keep
/// first, each name with several versions with the diffs from its most common version; then
/// a totals line.
pub(crate) fn duplicates_text(duplicates: &Duplicates, color: bool) -> String {
    let mut out = String::from("\n");
    if !duplicates.exact.is_empty() {
        writeln!(out, "Copies: the same code in two or more notebooks").unwrap();
    }
    for group in &duplicates.exact {
        let verdict = if group.shareable {
            "one module could serve them all"
        } else if group
            .copies
            .iter()
            .any(|c| c.place.verdict == VerdictName::Stay)
        {
            "not shared: a copy stays"
        } else {
            "not shared: what they need differs between notebooks"
        };
        writeln!(
            out,
            "{}  {}  {} copies  {verdict}",
            Paint::FileHeader.paint(&group.name, color),
            group.kind.as_str(),
            group.copies.len()
        )
        .unwrap();
        for (i, copy) in group.copies.iter().enumerate() {
            let keep = if i == 0 { "keep" } else { "    " };
            let needs = if copy.same_needs == Some(false) {
                "  its needs differ from the kept copy's"
            } else if copy.shared {
                "  shared by extract"
            } else {
                ""
            };
            writeln!(
                out,
                "  {keep}  {}  {} (cell {}){needs}",
                painted_verdict(copy.place.verdict == VerdictName::Move, color),
                copy.place.notebook,
                copy.place.cell
            )
            .unwrap();
        }
    }
    if !duplicates.near.is_empty() {
        if !duplicates.exact.is_empty() {
            out.push('\n');
        }
        writeln!(out, "Near-copies: the same name, other code").unwrap();
    }
    for group in &duplicates.near {
        writeln!(
            out,
            "{}  {} versions",
            Paint::FileHeader.paint(&group.name, color),
            group.variants.len()
        )
        .unwrap();
        for (i, variant) in group.variants.iter().enumerate() {
            let which = if i == 0 { "most common" } else { "other" };
            let places: Vec<String> = variant
                .copies
                .iter()
                .map(|c| format!("{} (cell {})", c.notebook, c.cell))
                .collect();
            writeln!(
                out,
                "  {which:<11}  {}  {}",
                variant.kind.as_str(),
                places.join(", ")
            )
            .unwrap();
            if let Some(diff) = &variant.diff {
                let diff = if color { colorize(diff) } else { diff.clone() };
                for line in diff.lines() {
                    writeln!(out, "    {line}").unwrap();
                }
            }
        }
    }
    if !duplicates.exact.is_empty() || !duplicates.near.is_empty() {
        out.push('\n');
    }
    writeln!(out, "{}", duplicates_line(duplicates)).unwrap();
    out
}

/// One line: "2 groups of copies (5 copies), 1 name with other versions".
pub(crate) fn duplicates_line(duplicates: &Duplicates) -> String {
    let copies = |n: usize| match n {
        1 => "1 copy".to_owned(),
        n => format!("{n} copies"),
    };
    let (shared_groups, shared_copies) = duplicates.shared();
    format!(
        "{} ({}; {} ({}) shared by extract), {} with other versions",
        match duplicates.exact.len() {
            1 => "1 group of copies".to_owned(),
            groups => format!("{groups} groups of copies"),
        },
        copies(duplicates.copies()),
        shared_groups,
        copies(shared_copies),
        plural(duplicates.near.len(), "name"),
    )
}

/// The notebooks that could not be extracted, one line each, for stderr.
pub(crate) fn extract_errors<C: Change>(plan: &ExtractPlan<C>, color: bool) -> String {
    let mut out = String::new();
    for notebook in &plan.notebooks {
        if let Err(error) = &notebook.outcome {
            writeln!(out, "{}", Paint::Removed.paint(&error.to_string(), color)).unwrap();
        }
    }
    out
}

/// The text report of an extraction plan: per notebook, what moves to which module and what
/// stays and why; then notes. Coloured when `color` is set.
pub(crate) fn extract_text<C: Change>(plan: &ExtractPlan<C>, color: bool) -> String {
    let mut out = String::new();
    for notebook in &plan.notebooks {
        let planned = match &notebook.outcome {
            Ok(planned) => planned,
            // Errors go to stderr: see [`extract_errors`].
            Err(_) => continue,
        };
        let path = notebook.path.display();
        if planned.notebook.is_none() {
            writeln!(out, "{path}: nothing to hoist").unwrap();
        } else if planned.plan.module_text.is_some() || !planned.shared.is_empty() {
            writeln!(out, "{path} → {}", notebook.module_path.display()).unwrap();
        } else {
            let package = notebook.module_path.parent().unwrap_or(Path::new(""));
            writeln!(out, "{path} → {}", package.display()).unwrap();
        }
        // (moves, name, cell, what, hint)
        let mut rows: Vec<(bool, &str, String, String, Option<&str>)> = Vec::new();
        for moved in &planned.moved {
            let cell = format!("cell {}", moved.cell);
            rows.push((
                true,
                &moved.name,
                cell,
                moved.kind.as_str().to_owned(),
                None,
            ));
        }
        for write in notebook.report.writefiles.iter() {
            if write.verdict == VerdictName::Move {
                let cell = format!("cell {}", write.cell);
                let what = "%%writefile module".to_owned();
                rows.push((true, &write.target, cell, what, None));
            }
        }
        for kept in &notebook.report.definitions {
            if kept.verdict == VerdictName::Stay {
                let cell = format!("cell {}", kept.cell);
                let reason = kept.reason.clone().unwrap_or_default();
                rows.push((false, &kept.name, cell, reason, kept.hint.as_deref()));
            }
        }
        for write in &notebook.report.writefiles {
            if let Some(reason) = &write.reason {
                let cell = format!("cell {}", write.cell);
                let what = format!("%%writefile: {reason}");
                rows.push((false, &write.target, cell, what, None));
            }
        }
        let name_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        let cell_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
        for (moves, name, cell, what, hint) in &rows {
            let verdict = painted_verdict(*moves, color);
            let what = if *moves {
                what.clone()
            } else {
                painted_reason(what, *hint, color)
            };
            writeln!(
                out,
                "  {verdict}  {name:<name_width$}  {cell:<cell_width$}  {what}"
            )
            .unwrap();
        }
        drop_lines(&mut out, &notebook.report, color);
    }
    for note in &plan.notes {
        writeln!(out, "note: {note}").unwrap();
    }
    out
}

/// Every change as a unified diff, in the order files would be written.
pub(crate) fn extract_diffs<C: Change>(plan: &ExtractPlan<C>, color: bool) -> String {
    let diffs: String = plan.changes.iter().filter_map(Change::diff).collect();
    if color { colorize(&diffs) } else { diffs }
}

/// The closing line of an extraction that wrote files.
pub(crate) fn written_line(written: &[PathBuf]) -> String {
    if written.is_empty() {
        return "Nothing to change.\n".to_owned();
    }
    let paths: Vec<String> = written
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!("Wrote {}.\n", paths.join(", "))
}

/// One line of totals: notebooks read, changed (or that would change, in a dry run) and
/// failed, definitions hoisted and kept.
pub(crate) fn extract_totals<C: Change>(plan: &ExtractPlan<C>, dry_run: bool) -> String {
    let mut changed = 0;
    let mut failed = 0;
    let mut hoisted = 0;
    let mut kept = 0;
    let mut modules = 0;
    for notebook in &plan.notebooks {
        match &notebook.outcome {
            Ok(planned) => {
                changed += usize::from(planned.notebook.is_some());
                hoisted += planned
                    .moved
                    .iter()
                    .filter(|m| m.kind != MovedKind::Constant)
                    .count();
                kept += notebook
                    .report
                    .definitions
                    .iter()
                    .filter(|d| d.verdict == VerdictName::Stay)
                    .count();
                modules += planned.plan.written.len();
            }
            Err(error) if error.is_skip() => {}
            Err(_) => failed += 1,
        }
    }
    let changed = if dry_run {
        format!("{changed} would change")
    } else {
        format!("{changed} changed")
    };
    let mut line = format!(
        "{}: {changed}, {failed} failed; {} hoisted, {kept} kept",
        plural(plan.notebooks.len(), "notebook"),
        plural(hoisted, "definition"),
    );
    if modules > 0 {
        write!(line, "; {} from %%writefile", plural(modules, "module")).unwrap();
    }
    line.push('\n');
    line
}

/// The JSON report of an extraction: per notebook the fields of `scan --format json` plus the
/// changes it makes (`path`, `action`, `diff`), then the changes to `__init__.py` files, which
/// notebooks share, and notes.
pub(crate) fn extract_json<C: Change>(plan: &ExtractPlan<C>) -> String {
    #[derive(Serialize)]
    struct FileChange<'a> {
        path: String,
        action: Action,
        diff: &'a str,
    }
    #[derive(Serialize)]
    struct Notebook<'a> {
        #[serde(flatten)]
        report: &'a NotebookReport,
        changes: Vec<FileChange<'a>>,
    }
    #[derive(Serialize)]
    struct Document<'a> {
        notebooks: Vec<Notebook<'a>>,
        changes: Vec<FileChange<'a>>,
        notes: Vec<String>,
    }
    fn change<C: Change>(change: &C) -> FileChange<'_> {
        FileChange {
            path: change.path().display().to_string(),
            action: change.action(),
            diff: change.diff().unwrap_or_default(),
        }
    }
    let notebooks = plan
        .notebooks
        .iter()
        .map(|notebook| Notebook {
            report: &notebook.report,
            changes: match &notebook.outcome {
                Ok(planned) => planned
                    .modules
                    .iter()
                    .chain(&planned.notebook)
                    .map(change)
                    .collect(),
                Err(_) => Vec::new(),
            },
        })
        .collect();
    let changes = plan
        .changes
        .iter()
        .filter(|c| plan.package_changes.iter().any(|p| p == c.path()))
        .map(change)
        .collect();
    let document = Document {
        notebooks,
        changes,
        notes: plan.notes.iter().map(ToString::to_string).collect(),
    };
    let mut json = serde_json::to_string_pretty(&document)
        .expect("reports are plain data and always serialise");
    json.push('\n');
    json
}
