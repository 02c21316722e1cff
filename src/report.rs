//! Rendering reports for people (aligned text) and for programs (JSON).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::analysis::DefinitionKind;
use crate::apply::{Action, FileChange};
use crate::diff::{Paint, colorize};
use crate::extract::ExtractPlan;
use crate::plan::MovedKind;
use crate::position::CellNumber;
use crate::scan::{NotebookReport, Status, VerdictName};

/// Totals over a set of reports, for the closing summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Notebooks analysed.
    pub notebooks: usize,
    /// Files that could not be read.
    pub failed: usize,
    /// Files out of scope.
    pub skipped: usize,
    /// Definitions that can move.
    pub movable: usize,
    /// Definitions that stay.
    pub staying: usize,
    /// Syntax errors.
    pub syntax_errors: usize,
}

impl Totals {
    /// Adds up a set of reports.
    pub fn of(reports: &[NotebookReport]) -> Totals {
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
    pub fn line(&self) -> String {
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
pub fn scan_text(reports: &[NotebookReport], color: bool) -> String {
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
        if report.definitions.is_empty() && report.writefiles.is_empty() {
            writeln!(out, "  no functions or classes").unwrap();
        }
        let mut rows: Vec<(CellNumber, &str, &str, VerdictName, &str)> = report
            .definitions
            .iter()
            .map(|d| {
                let kind = match d.kind {
                    DefinitionKind::Function => "function",
                    DefinitionKind::Class => "class",
                };
                let reason = d.reason.as_deref().unwrap_or_default();
                (d.cell, d.name.as_str(), kind, d.verdict, reason)
            })
            .chain(report.writefiles.iter().map(|w| {
                let reason = w.reason.as_deref().unwrap_or_default();
                (w.cell, w.target.as_str(), "%%writefile", w.verdict, reason)
            }))
            .collect();
        rows.sort_by_key(|row| row.0);
        let cell_width = rows
            .iter()
            .map(|r| r.0.to_string().len())
            .max()
            .unwrap_or(0);
        let name_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        let kind_width = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
        for (cell, name, kind, verdict, reason) in rows {
            let line = format!(
                "  cell {cell:<cell_width$}  {name:<name_width$}  {kind:<kind_width$}  {}  {}",
                painted_verdict(verdict == VerdictName::Move, color),
                painted_reason(reason, color),
            );
            writeln!(out, "{}", line.trim_end()).unwrap();
        }
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

/// `move` in green or `stay` in yellow.
fn painted_verdict(moves: bool, color: bool) -> String {
    if moves {
        Paint::Added.paint("move", color)
    } else {
        Paint::Stays.paint("stay", color)
    }
}

/// A reason, with the hint after its colon dimmed: the reason is what matters.
fn painted_reason(reason: &str, color: bool) -> String {
    match reason.split_once(": ") {
        Some((reason, hint)) => format!("{reason}: {}", Paint::Dim.paint(hint, color)),
        None => reason.to_owned(),
    }
}

/// The JSON report: `{"notebooks": [...]}`, pretty-printed.
pub fn scan_json(reports: &[NotebookReport]) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        notebooks: &'a [NotebookReport],
    }
    let mut json = serde_json::to_string_pretty(&Document { notebooks: reports })
        .expect("reports are plain data and always serialise");
    json.push('\n');
    json
}

/// The text report of an extraction plan: per notebook, what moves to which module and what
/// stays and why; then notes. Coloured when `color` is set.
pub fn extract_text(plan: &ExtractPlan, color: bool) -> String {
    let mut out = String::new();
    for notebook in &plan.notebooks {
        let planned = match &notebook.outcome {
            Ok(planned) => planned,
            Err(error) => {
                writeln!(out, "{}", Paint::Removed.paint(&error.to_string(), color)).unwrap();
                continue;
            }
        };
        let path = notebook.path.display();
        if planned.plan.is_empty() {
            writeln!(out, "{path}: nothing to hoist").unwrap();
        } else if planned.plan.module_text.is_some() {
            writeln!(out, "{path} → {}", notebook.module_path.display()).unwrap();
        } else {
            let package = notebook.module_path.parent().unwrap_or(Path::new(""));
            writeln!(out, "{path} → {}", package.display()).unwrap();
        }
        let plan = &planned.plan;
        let mut rows: Vec<(bool, String, String, String)> = Vec::new();
        for moved in &plan.moved {
            let kind = match moved.kind {
                MovedKind::Function => "function",
                MovedKind::Class => "class",
                MovedKind::Constant => "constant",
            };
            rows.push((
                true,
                moved.name.clone(),
                format!("cell {}", moved.cell),
                kind.to_owned(),
            ));
        }
        for write in plan.writefiles.iter().filter(|w| w.stay.is_none()) {
            let cell = format!("cell {}", write.cell.number());
            rows.push((
                true,
                write.magic.target.clone(),
                cell,
                "%%writefile module".to_owned(),
            ));
        }
        for kept in &plan.kept {
            let cell = format!("cell {}", kept.cell);
            rows.push((false, kept.name.clone(), cell, kept.reason.to_string()));
        }
        for write in &plan.writefiles {
            if let Some(stay) = &write.stay {
                let cell = format!("cell {}", write.cell.number());
                rows.push((
                    false,
                    write.magic.target.clone(),
                    cell,
                    format!("%%writefile: {stay}"),
                ));
            }
        }
        let name_width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        let cell_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
        for (moves, name, cell, what) in &rows {
            let verdict = painted_verdict(*moves, color);
            let what = match what.strip_prefix("%%writefile: ") {
                Some(reason) => format!("%%writefile: {}", painted_reason(reason, color)),
                None if !*moves => painted_reason(what, color),
                None => what.clone(),
            };
            writeln!(
                out,
                "  {verdict}  {name:<name_width$}  {cell:<cell_width$}  {what}"
            )
            .unwrap();
        }
    }
    for note in &plan.notes {
        writeln!(out, "note: {note}").unwrap();
    }
    out
}

/// Every change as a unified diff, in the order files would be written.
pub fn extract_diffs(plan: &ExtractPlan, color: bool) -> String {
    let diffs: String = plan
        .changes
        .iter()
        .filter_map(|change| change.diff.as_deref())
        .collect();
    if color { colorize(&diffs) } else { diffs }
}

/// The closing line of an extraction that wrote files.
pub fn written_line(changes: &[FileChange]) -> String {
    if changes.is_empty() {
        return "Nothing to change.\n".to_owned();
    }
    let paths: Vec<String> = changes
        .iter()
        .map(|change| change.path.display().to_string())
        .collect();
    format!("Wrote {}.\n", paths.join(", "))
}

/// One line of totals: notebooks read, changed (or that would change, in a dry run) and
/// failed, definitions hoisted and kept.
pub fn extract_totals(plan: &ExtractPlan, dry_run: bool) -> String {
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
                    .plan
                    .moved
                    .iter()
                    .filter(|m| m.kind != MovedKind::Constant)
                    .count();
                kept += planned.plan.kept.len();
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
pub fn extract_json(plan: &ExtractPlan) -> String {
    #[derive(Serialize)]
    struct Change<'a> {
        path: String,
        action: Action,
        diff: &'a str,
    }
    #[derive(Serialize)]
    struct Notebook<'a> {
        #[serde(flatten)]
        report: &'a NotebookReport,
        changes: Vec<Change<'a>>,
    }
    #[derive(Serialize)]
    struct Document<'a> {
        notebooks: Vec<Notebook<'a>>,
        changes: Vec<Change<'a>>,
        notes: &'a [String],
    }
    fn change(change: &FileChange) -> Change<'_> {
        Change {
            path: change.path.display().to_string(),
            action: change.action,
            diff: change.diff.as_deref().unwrap_or_default(),
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
        .filter(|c| plan.package_changes.contains(&c.path))
        .map(change)
        .collect();
    let document = Document {
        notebooks,
        changes,
        notes: &plan.notes,
    };
    let mut json = serde_json::to_string_pretty(&document)
        .expect("reports are plain data and always serialise");
    json.push('\n');
    json
}
