//! Why a definition stays, and what to do about it: typed, so that reports render them and
//! never parse them back out of text.

use std::fmt;

use crate::analysis::{RunPlace, Unfollowed};
use crate::position::CellNumber;

/// Why a definition stays in the notebook. Each reason reads as a clause about the definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StayReason {
    /// The name is bound by several definitions whose code differs.
    Redefined {
        /// The definition's name.
        name: String,
        /// Every cell that defines it.
        cells: Vec<CellNumber>,
    },
    /// An earlier version of a name whose last definition, with other code, moves: it stays,
    /// so that what runs before the last version still sees it.
    EarlierVersion {
        /// The definition's name.
        name: String,
        /// The cell of the last version.
        last: CellNumber,
    },
    /// Hoisted, it would see the last version of a name defined several times, but it runs
    /// (or is defined) before that version, where the notebook sees an earlier one.
    SeesEarlierVersion {
        /// The name defined several times.
        name: String,
        /// The cell where it runs, or is defined, before the last version.
        cell: CellNumber,
        /// The cell of the last version.
        last: CellNumber,
    },
    /// The name is also bound by something other than a definition.
    Rebound {
        /// The definition's name.
        name: String,
        /// The first cell that binds it otherwise.
        cell: CellNumber,
        /// How it is bound there.
        how: Rebinding,
        /// That cell has a syntax error.
        broken: bool,
    },
    /// The definition writes a notebook variable through `global`.
    Global {
        /// The variable.
        name: String,
    },
    /// The definition's cell has a syntax error.
    SyntaxError {
        /// The cell.
        cell: CellNumber,
    },
    /// The definition's cell only runs after IPython removes its indentation or prompts.
    Reformatted {
        /// The cell.
        cell: CellNumber,
    },
    /// The definition is in papermill's `parameters` cell.
    ParametersCell,
    /// The definition sits in a cell whose first line is a cell magic.
    MagicCell {
        /// The magic's name.
        magic: String,
    },
    /// The definition contains IPython syntax a plain Python module cannot hold.
    IpythonSyntax,
    /// The definition inspects its namespace dynamically.
    Dynamic {
        /// `eval`, `exec`, `globals`, `locals` or `vars`.
        call: String,
    },
    /// Defining it prints, displays or asks for input; in a module that would happen on
    /// import instead.
    DefinitionTimeEffect {
        /// `print`, `display`, ...
        name: String,
    },
    /// What runs while the definition is being defined reads state that would differ when it
    /// runs at the import cell: the clock, the environment, files, a random generator.
    DefinitionTimeState {
        /// The call, dotted (`random.gauss`, `open`).
        call: String,
        /// The notebook function the call is made in, when not the definition itself.
        via: Option<String>,
    },
    /// What runs while the definition is being defined reads an object that notebook code
    /// changes before the definition's cell.
    ChangedBefore {
        /// The object read.
        name: String,
        /// The first cell that changes it.
        changed: CellNumber,
    },
    /// What runs while the definition is being defined changes an object that notebook code
    /// reads before the definition's cell: at the import cell the change would come first.
    ChangesWhileDefined {
        /// The object.
        name: String,
        /// The first cell that reads it.
        used: CellNumber,
    },
    /// The definition reads, while being defined, a name bound only after it: in the notebook
    /// that raised `NameError`, so the definition never existed.
    DefinedTooEarly {
        /// The name.
        name: String,
        /// The cell that binds it.
        bound: CellNumber,
    },
    /// The definition reads a name IPython provides differently from a module (`exit`).
    IpythonName {
        /// The name.
        name: String,
    },
    /// The definition comes after an import that failed in its cell when the notebook last
    /// ran: the cell stopped there, so the definition never existed.
    AfterFailedImport {
        /// The cell.
        cell: CellNumber,
    },
    /// The definition comes after a statement of its cell that reads a name nothing binds
    /// before it: the cell stopped there with `NameError`, so the definition never existed.
    AfterNameError {
        /// The cell.
        cell: CellNumber,
        /// The name.
        name: String,
        /// Whether the statement surely raised, or only may have: an import block may leave
        /// the name unbound.
        surely: bool,
    },
    /// It reads a constant, or an import, that its cell may never reach: a statement before
    /// it raises `NameError`, or the saved outputs show the cell raised.
    NeverBound {
        /// The constant.
        name: String,
        /// Its cell.
        cell: CellNumber,
    },
    /// The package must be imported before cell `chdir` changes the working directory, and
    /// cell `history` at or after it reads numbered history: no import cell can go anywhere.
    HistoryAfterChdir {
        /// The cell reading numbered history.
        history: CellNumber,
        /// The cell changing the working directory.
        chdir: CellNumber,
    },
    /// It needs a name imported from a module whose attributes the notebook changes
    /// (`math.pi = 3.0`): the package imports it at the import cell, which may be on the other
    /// side of the change than the notebook's import.
    ImportChanged {
        /// The module.
        module: String,
        /// The cell that changes it.
        changed: CellNumber,
    },
    /// It comes after `from MODULE import name` in its cell, where the standard-library
    /// `MODULE` has no `name`: the import raises `ImportError`, so it never existed.
    AfterMissingImport {
        /// The cell.
        cell: CellNumber,
        /// The module.
        module: String,
        /// The name it does not have.
        name: String,
    },
    /// Defining it reads a name that may be unbound then (an import block that may not bind
    /// it, like `if TYPE_CHECKING:`, or a read in the body of a function it calls): defining it
    /// may have raised `NameError`, and in the module it would stop the package from importing.
    MaybeUnbound {
        /// The name.
        name: String,
    },
    /// The definition's cell shows an error in its saved outputs: the definition may be what
    /// raised, or come after it.
    ErrorInCell {
        /// The cell.
        cell: CellNumber,
    },
    /// The name is defined more than once with the same code, and each definition makes a
    /// new object whose state or identity the notebook may notice.
    DefinedAgain {
        /// The definition's name.
        name: String,
        /// Every cell that defines it.
        cells: Vec<CellNumber>,
    },
    /// What runs while the definition is being defined calls a constant that is not a
    /// function, which raises `TypeError`.
    CallsConstant {
        /// The constant.
        name: String,
    },
    /// The definition reads a variable the notebook computes.
    ReadsVariable {
        /// The variable.
        name: String,
        /// The first cell that binds it.
        cell: CellNumber,
    },
    /// The definition reads a name bound by a relative import (`from .utils import f`), which
    /// would mean something else inside the package.
    RelativeImport {
        /// The name.
        name: String,
        /// The cell of the import.
        cell: CellNumber,
    },
    /// The definition reads a name whose import failed when the notebook last ran.
    FailedImport {
        /// The name.
        name: String,
        /// The cell of the import.
        cell: CellNumber,
    },
    /// The definition reads a builtin that a star import may replace.
    StarShadowsBuiltin {
        /// The builtin.
        name: String,
        /// The cell of the first star import.
        cell: CellNumber,
    },
    /// The definition reads a name that only a star import of a module outside the standard
    /// library may bind (or that more than one star import may bind): which names such a
    /// module binds is not known.
    FromStarImport {
        /// The name.
        name: String,
        /// The cell of the star import.
        cell: CellNumber,
    },
    /// The definition reads, while being defined, a builtin that a star import rebinds only
    /// after it: the module would import the rebound one.
    StarRebindsLater {
        /// The builtin.
        name: String,
        /// The cell of the star import.
        cell: CellNumber,
    },
    /// The definition reads a name that both a star import and an import block that may not
    /// run bind: which one it gets depends on how the block runs.
    StarOrBlock {
        /// The name.
        name: String,
        /// The cell of the star import.
        star: CellNumber,
        /// The cell of the import block.
        block: CellNumber,
    },
    /// The definition reads an imported name that a later star import may bind again.
    StarRebindsImport {
        /// The name.
        name: String,
        /// The cell of the star import.
        cell: CellNumber,
    },
    /// The definition reads a name nothing defines.
    Undefined {
        /// The name.
        name: String,
    },
    /// The definition reads IPython's input/output history.
    History {
        /// `In`, `Out`, `_`, `_i3`, ...
        name: String,
    },
    /// The definition reads a module attribute that differs between notebook and module.
    Dunder {
        /// `__name__`, `__file__`, ...
        name: String,
    },
    /// A cell after the definition makes the package's imports work (installs a package,
    /// writes a file, changes `sys.path` or the working directory), so the package cannot be
    /// imported before the definition's cell.
    SetupComesLater {
        /// That cell.
        cell: CellNumber,
    },
    /// The definition's own cell makes the package's imports work, so the package cannot be
    /// imported before it.
    InSetupCell {
        /// The definition's cell.
        cell: CellNumber,
    },
    /// The definition needs a constant that comes before a cell that makes the package's
    /// imports work: in the package it would be bound only at the import cell, after that.
    ConstantBeforeSetup {
        /// The constant.
        constant: String,
        /// Its cell.
        constant_cell: CellNumber,
        /// The setup cell.
        setup: CellNumber,
    },
    /// The definition comes before a cell that reads IPython's numbered history, which
    /// inserting or removing cells before it would renumber.
    BeforeHistory {
        /// That cell.
        cell: CellNumber,
    },
    /// The definition needs an import that works only after the working directory changes,
    /// when the package (found through the notebook's folder) can no longer be imported.
    ImportAfterChdir {
        /// The name the import binds (`*` for a star import).
        name: String,
        /// The cell that changes the working directory.
        cell: CellNumber,
    },
    /// An earlier version of the name stays, so this one would be imported from the package
    /// where it stands, after the working directory changes, when the package may no longer
    /// be found.
    InPlaceAfterChdir {
        /// The cell that changes the working directory.
        cell: CellNumber,
    },
    /// Cutting the definition out of its cell would leave one line there that IPython reads as
    /// a line magic.
    LeavesMagicLine {
        /// The cell.
        cell: CellNumber,
        /// The line that would be left.
        line: String,
    },
    /// The definition needs a module a `%%writefile` cell writes, which runs code when
    /// imported: the package would import it earlier than the notebook does.
    ImportRunsCode {
        /// The module.
        module: String,
        /// The `%%writefile` cell.
        cell: CellNumber,
    },
    /// The definition needs a module of the package (not the notebook's own), which may run
    /// code when imported: the package would import it earlier than the notebook does.
    ImportsPackageModule {
        /// The name the notebook imports from it.
        name: String,
    },
    /// The definition has annotations Python evaluates, but a module holding definitions from
    /// after `from __future__ import annotations` would postpone them.
    EagerAnnotations {
        /// The cell of the `__future__` import.
        cell: CellNumber,
    },
    /// Notebook code uses the definition before something it needs is bound.
    UsedTooEarly {
        /// What is bound too late.
        late: LateBinding,
        /// The first cell that uses the definition.
        used: CellNumber,
        /// The cell that binds it.
        bound: CellNumber,
    },
    /// A constant the definition needs is read by notebook code before it is bound.
    ConstantUsedEarly {
        /// The constant.
        constant: String,
        /// The cell that reads it first.
        used: CellNumber,
        /// The cell that binds it.
        bound: CellNumber,
    },
    /// A constant the definition needs is computed from an object that notebook code changes
    /// before the constant's cell.
    ConstantChanged {
        /// The constant.
        constant: String,
        /// What its value reads.
        name: String,
        /// The first cell that changes it.
        changed: CellNumber,
    },
    /// Notebook code lists the notebook's names before the definition is bound: it would see
    /// the name early.
    ListedEarly {
        /// How it lists them (`globals()`, `%who`).
        listing: String,
        /// The cell that does.
        cell: CellNumber,
    },
    /// A star import after the import cell may bind the same name, which code in the package
    /// would not see.
    StarMayRebind {
        /// The cell of the star import.
        cell: CellNumber,
    },
    /// Code after the import cell may bind the same name in ways nbhoist cannot read (`exec`,
    /// `globals()`), which code in the package would not see.
    DynamicMayRebind {
        /// The cell of that code.
        cell: CellNumber,
    },
    /// A `%run` line after the import cell may bind the same name, and nbhoist cannot tell
    /// which names it binds.
    RunMayRebind {
        /// The cell of the `%run` line.
        cell: CellNumber,
        /// Why nbhoist cannot tell.
        why: Unfollowed,
    },
    /// It reads a name that a file run with `%run` computes: state of the notebook.
    RunVariable {
        /// The name.
        name: String,
        /// The file.
        file: String,
        /// Where the file binds it.
        place: RunPlace,
    },
    /// It reads a name that a `%run` line may bind (or bind again), though nbhoist cannot
    /// tell.
    RunUnknown {
        /// The name.
        name: String,
        /// The cell of the `%run` line.
        cell: CellNumber,
        /// Why nbhoist cannot tell what it binds.
        why: Unfollowed,
    },
    /// A notebook that runs this one with `%run` binds, in the namespace they share, a name
    /// this definition needs (or its own name), which code in the package would not see.
    BoundByRunner {
        /// The name.
        name: String,
        /// The name is the definition's own.
        own: bool,
        /// The notebook that runs this one.
        notebook: String,
        /// The cell of that notebook that binds it.
        cell: CellNumber,
    },
    /// Another notebook runs this one with `%run`, which stops at the first cell with an
    /// error; the definition comes at or after it.
    RunStops {
        /// The first cell with an error.
        cell: CellNumber,
        /// The notebook that runs this one.
        notebook: String,
    },
    /// The module already has this name, changed by hand since nbhoist wrote it (or written
    /// by hand), and the notebook's version differs: a conflict, left for a person.
    Conflict {
        /// The module, dotted.
        module: String,
        /// The module's version, as it is.
        theirs: String,
    },
    /// Other code in the module uses the module's version of this name; replacing it with
    /// the notebook's would change what that code does.
    UsedInModule {
        /// The module, dotted.
        module: String,
        /// The module's statements that use it, by the first name each binds.
        users: Vec<String>,
    },
    /// A new version of a name the notebook imports from its module: cells between that
    /// import and this version use the module's, and would see this one once it replaces it.
    UsedBeforeUpdate {
        /// The cells that use the name in between.
        cells: Vec<CellNumber>,
        /// The cell that imports it.
        import: CellNumber,
    },
    /// The module binds a name it reads to something else than the notebook does.
    BoundInModule {
        /// The name.
        name: String,
        /// The module, dotted.
        module: String,
    },
    /// Written where the module has it, it would read while being defined a name this run
    /// adds at the end of the module.
    ReadsAddedLater {
        /// The name.
        name: String,
        /// The module, dotted.
        module: String,
    },
    /// The module postpones annotations (`from __future__ import annotations`) and the
    /// notebook evaluates this definition's, or the other way round.
    ModuleAnnotations {
        /// The module, dotted.
        module: String,
        /// Whether the module postpones them.
        postponed: bool,
    },
    /// It needs a name the notebook imports from its module, which the module no longer
    /// binds (deleted by hand).
    NotInModule {
        /// The name.
        name: String,
        /// The module, dotted.
        module: String,
    },
    /// The cell that imports the notebook's module (an earlier run wrote the import) stops
    /// with an error before that import: what joined it would never be bound.
    ImportCellStops {
        /// The cell that imports the module.
        cell: CellNumber,
    },
    /// It comes before the cell that imports the notebook's module, which an earlier run
    /// wrote: moved, it would be bound only after it was used.
    BeforeImportCell {
        /// The cell that imports the module.
        cell: CellNumber,
    },
    /// What it needs is set up in a cell after the one that imports the notebook's module,
    /// which an earlier run wrote: the module would import it too early.
    SetupAfterImportCell {
        /// The setup cell.
        setup: CellNumber,
        /// The cell that imports the module.
        cell: CellNumber,
    },
    /// The definition uses another definition that stays.
    DependsOn {
        /// The other definition.
        name: String,
        /// Why that one stays.
        because: Box<StayReason>,
    },
}

/// How a definition's name is bound other than by a definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rebinding {
    /// An import.
    Imported,
    /// A `def` or `class` in a cell that cannot be cut.
    Defined,
    /// `del`.
    Deleted,
    /// A `for` loop target.
    LoopVariable,
    /// Running a file with `%run`.
    Run,
    /// An assignment, or anything else.
    Assigned,
}

impl fmt::Display for Rebinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rebinding::Imported => "imported",
            Rebinding::Defined => "defined",
            Rebinding::Deleted => "deleted",
            Rebinding::LoopVariable => "a loop variable",
            Rebinding::Run => "bound by `%run`",
            Rebinding::Assigned => "assigned",
        })
    }
}

/// What a definition used too early needs that is bound too late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LateBinding {
    /// A name: the definition itself, an import, a constant, another definition.
    Name(String),
    /// The star import its names come from.
    StarImport,
}

/// What the user can do about a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hint {
    /// For a function reading notebook state.
    PassAsParameter,
    /// For a name defined twice.
    KeepOneVersion,
    /// For `global`.
    ReturnNewValue,
    /// For a cell with a syntax error.
    FixSyntaxError,
    /// For a cell IPython rewrites.
    TidyCell,
    /// For a conflict between the notebook's version and the module's.
    ResolveConflict,
    /// For a name other module code uses.
    EditModule,
    /// For a name deleted from the module.
    RestoreInModule,
    /// For a definition above the import cell.
    MoveBelowImport,
    /// For a new version of a hoisted name that earlier cells use.
    UpdateByHand,
    /// For a definition used before what it needs is bound.
    Reorder,
    /// For a definition in a magic cell.
    OwnCell,
    /// For setup that comes after definitions.
    MoveSetupUp,
    /// For an undefined name.
    DefineOrImport,
    /// For a star import that may replace builtins.
    ImportByName,
    /// For an import that failed.
    InstallAndRerun,
    /// For a definition in a cell that raised.
    RunWithoutErrors,
    /// For a name that may be unbound when it is read.
    BindFirst,
    /// For an earlier version of a name whose last version moves.
    DeleteEarlierVersion {
        /// The cell of the last version.
        last: CellNumber,
    },
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hint::DeleteEarlierVersion { last } => {
                return write!(f, "delete it once nothing before cell {last} needs it");
            }
            Hint::PassAsParameter => "pass it as a parameter to hoist this function",
            Hint::KeepOneVersion => "keep one version, or rename the other",
            Hint::ReturnNewValue => "return the new value instead",
            Hint::FixSyntaxError => "fix the syntax error first",
            Hint::TidyCell => "tidy that cell to hoist it",
            Hint::ResolveConflict => {
                "keep one version: delete this one, or copy it into the module by hand; `--force` takes the notebook's and keeps a backup of the module"
            }
            Hint::EditModule => "change it in the module, where the code that uses it lives",
            Hint::RestoreInModule => "restore it in the module, or stop importing it",
            Hint::MoveBelowImport => "move it below the cell that imports the module",
            Hint::UpdateByHand => {
                "move it above those cells to update the module, or change the module by hand"
            }
            Hint::Reorder => {
                "run the notebook top to bottom once, and reorder its cells where it fails"
            }
            Hint::OwnCell => "move it to a cell of its own to hoist it",
            Hint::MoveSetupUp => "move that setup to the top of the notebook",
            Hint::DefineOrImport => "define or import it in the notebook",
            Hint::ImportByName => "import what you need by name",
            Hint::InstallAndRerun => "install what it needs, then run the notebook again",
            Hint::RunWithoutErrors => "fix the error, run the notebook top to bottom and save it",
            Hint::BindFirst => {
                "bind it unconditionally before this definition, or put the annotation in quotes"
            }
        })
    }
}

impl StayReason {
    /// A short, stable identifier of the kind of reason, for programs (`reads-variable`).
    pub(crate) fn code(&self) -> &'static str {
        match self {
            StayReason::Redefined { .. } => "redefined",
            StayReason::EarlierVersion { .. } => "earlier-version",
            StayReason::SeesEarlierVersion { .. } => "sees-earlier-version",
            StayReason::Rebound { .. } => "rebound",
            StayReason::Global { .. } => "global",
            StayReason::SyntaxError { .. } => "syntax-error",
            StayReason::Reformatted { .. } => "reformatted-cell",
            StayReason::ParametersCell => "parameters-cell",
            StayReason::MagicCell { .. } => "magic-cell",
            StayReason::IpythonSyntax => "ipython-syntax",
            StayReason::Dynamic { .. } => "dynamic",
            StayReason::DefinitionTimeEffect { .. } => "definition-time-effect",
            StayReason::ReadsVariable { .. } => "reads-variable",
            StayReason::DefinitionTimeState { .. } => "definition-time-state",
            StayReason::AfterFailedImport { .. } => "after-failed-import",
            StayReason::AfterNameError { .. } => "after-name-error",
            StayReason::MaybeUnbound { .. } => "maybe-unbound",
            StayReason::ImportChanged { .. } => "import-changed",
            StayReason::HistoryAfterChdir { .. } => "history-after-chdir",
            StayReason::AfterMissingImport { .. } => "after-missing-import",
            StayReason::NeverBound { .. } => "never-bound",
            StayReason::ErrorInCell { .. } => "error-in-cell",
            StayReason::DefinedAgain { .. } => "defined-again",
            StayReason::CallsConstant { .. } => "calls-constant",
            StayReason::ChangedBefore { .. } => "changed-before",
            StayReason::ChangesWhileDefined { .. } => "changes-while-defined",
            StayReason::DefinedTooEarly { .. } => "defined-too-early",
            StayReason::IpythonName { .. } => "ipython-name",
            StayReason::ConstantUsedEarly { .. } => "constant-used-early",
            StayReason::ConstantChanged { .. } => "constant-changed",
            StayReason::ListedEarly { .. } => "listed-early",
            StayReason::StarMayRebind { .. } => "star-may-rebind",
            StayReason::DynamicMayRebind { .. } => "dynamic-may-rebind",
            StayReason::RunMayRebind { .. } => "run-may-rebind",
            StayReason::RunStops { .. } => "run-stops",
            StayReason::RunVariable { .. } => "run-variable",
            StayReason::RunUnknown { .. } => "run-unknown",
            StayReason::BoundByRunner { .. } => "bound-by-runner",
            StayReason::RelativeImport { .. } => "relative-import",
            StayReason::FailedImport { .. } => "failed-import",
            StayReason::StarShadowsBuiltin { .. } => "star-shadows-builtin",
            StayReason::FromStarImport { .. } => "from-star-import",
            StayReason::StarRebindsLater { .. } => "star-rebinds-later",
            StayReason::StarOrBlock { .. } => "star-or-block",
            StayReason::StarRebindsImport { .. } => "star-rebinds-import",
            StayReason::Undefined { .. } => "undefined",
            StayReason::History { .. } => "history",
            StayReason::Dunder { .. } => "dunder",
            StayReason::SetupComesLater { .. } => "setup-comes-later",
            StayReason::InSetupCell { .. } => "in-setup-cell",
            StayReason::ConstantBeforeSetup { .. } => "constant-before-setup",
            StayReason::BeforeHistory { .. } => "before-history",
            StayReason::LeavesMagicLine { .. } => "leaves-magic-line",
            StayReason::ImportRunsCode { .. } => "import-runs-code",
            StayReason::ImportsPackageModule { .. } => "imports-package-module",
            StayReason::ImportAfterChdir { .. } => "import-after-chdir",
            StayReason::InPlaceAfterChdir { .. } => "in-place-after-chdir",
            StayReason::EagerAnnotations { .. } => "eager-annotations",
            StayReason::UsedTooEarly { .. } => "used-too-early",
            StayReason::Conflict { .. } => "conflict",
            StayReason::UsedInModule { .. } => "used-in-module",
            StayReason::NotInModule { .. } => "not-in-module",
            StayReason::UsedBeforeUpdate { .. } => "used-before-update",
            StayReason::BoundInModule { .. } => "bound-in-module",
            StayReason::ReadsAddedLater { .. } => "reads-added-later",
            StayReason::ModuleAnnotations { .. } => "module-annotations",
            StayReason::ImportCellStops { .. } => "import-cell-stops",
            StayReason::BeforeImportCell { .. } => "before-import-cell",
            StayReason::SetupAfterImportCell { .. } => "setup-after-import-cell",
            StayReason::DependsOn { .. } => "depends-on",
        }
    }

    /// What the user can do about it, when there is something simple to say.
    pub(crate) fn hint(&self) -> Option<Hint> {
        Some(match self {
            StayReason::ReadsVariable { .. } | StayReason::RunVariable { .. } => {
                Hint::PassAsParameter
            }
            StayReason::Redefined { .. } | StayReason::DefinedAgain { .. } => Hint::KeepOneVersion,
            StayReason::ErrorInCell { .. }
            | StayReason::RunStops { .. }
            | StayReason::AfterNameError { .. }
            | StayReason::NeverBound { .. }
            | StayReason::AfterMissingImport { .. }
            | StayReason::ImportCellStops { .. } => Hint::RunWithoutErrors,
            StayReason::Global { .. } => Hint::ReturnNewValue,
            StayReason::EarlierVersion { last, .. } => Hint::DeleteEarlierVersion { last: *last },
            StayReason::MaybeUnbound { .. } => Hint::BindFirst,
            StayReason::SyntaxError { .. } => Hint::FixSyntaxError,
            StayReason::Reformatted { .. } => Hint::TidyCell,
            StayReason::Conflict { .. } => Hint::ResolveConflict,
            StayReason::UsedInModule { .. } => Hint::EditModule,
            StayReason::NotInModule { .. } => Hint::RestoreInModule,
            StayReason::UsedBeforeUpdate { .. } => Hint::UpdateByHand,
            StayReason::BoundInModule { .. } => Hint::EditModule,
            StayReason::BeforeImportCell { .. } => Hint::MoveBelowImport,
            StayReason::SetupAfterImportCell { .. } => Hint::MoveSetupUp,
            StayReason::UsedTooEarly { .. }
            | StayReason::DefinedTooEarly { .. }
            | StayReason::ConstantUsedEarly { .. } => Hint::Reorder,
            StayReason::StarMayRebind { .. } => Hint::ImportByName,
            StayReason::MagicCell { .. } => Hint::OwnCell,
            StayReason::SetupComesLater { .. }
            | StayReason::InSetupCell { .. }
            | StayReason::ConstantBeforeSetup { .. } => Hint::MoveSetupUp,
            StayReason::Undefined { .. } => Hint::DefineOrImport,
            StayReason::StarShadowsBuiltin { .. }
            | StayReason::FromStarImport { .. }
            | StayReason::StarRebindsLater { .. }
            | StayReason::StarOrBlock { .. }
            | StayReason::StarRebindsImport { .. } => Hint::ImportByName,
            StayReason::FailedImport { .. } | StayReason::AfterFailedImport { .. } => {
                Hint::InstallAndRerun
            }
            _ => return None,
        })
    }

    /// The reason as a clause whose subject is the definition ("reads notebook variable ...").
    fn clause(&self) -> String {
        match self {
            StayReason::Redefined { cells, .. } => match cells.as_slice() {
                [cell] => format!("is defined more than once in cell {cell} with different code"),
                _ => format!("is defined in cells {} with different code", and_list(cells)),
            },
            StayReason::EarlierVersion { name, last } => {
                format!("is an earlier version of `{name}` (cell {last}), which moves")
            }
            StayReason::SeesEarlierVersion { name, cell, last } => format!(
                "would see the last version of `{name}` (cell {last}) in the package, but runs in cell {cell}, before that, where the notebook has an earlier one"
            ),
            StayReason::Rebound {
                cell,
                how,
                broken: false,
                ..
            } => format!("is also {how} in cell {cell}"),
            StayReason::Rebound {
                cell,
                how,
                broken: true,
                ..
            } => format!("is also {how} in cell {cell}, which has a syntax error"),
            StayReason::Global { name } => {
                format!("changes the notebook variable `{name}` through `global`")
            }
            StayReason::SyntaxError { cell } => {
                format!("is in cell {cell}, which has a syntax error")
            }
            StayReason::MagicCell { magic } => format!("is inside a `%%{magic}` cell"),
            StayReason::ParametersCell => {
                "is in the cell tagged `parameters`, whose values papermill replaces".to_owned()
            }
            StayReason::Reformatted { cell } => format!(
                "is in cell {cell}, which only runs after IPython removes its indentation or `>>>` prompts"
            ),
            StayReason::IpythonSyntax => {
                "uses IPython syntax (`%magic`, `!command` or `?`), which a Python module cannot contain"
                    .to_owned()
            }
            StayReason::Dynamic { call } => match call.as_str() {
                "eval" | "exec" => {
                    format!("calls `{call}`, which can reach any notebook variable")
                }
                _ => format!("calls `{call}()`, which sees other variables in a module"),
            },
            StayReason::DefinitionTimeEffect { name } => format!(
                "calls `{name}` while it is being defined, which would then happen when the package is imported"
            ),
            StayReason::ReadsVariable { name, cell } => {
                format!("reads notebook variable `{name}` (cell {cell})")
            }
            StayReason::DefinitionTimeState { call, via: None } => format!(
                "calls `{call}` while it is being defined, which at the package's import would give another result"
            ),
            StayReason::DefinitionTimeState {
                call,
                via: Some(via),
            } => format!(
                "calls `{via}` while it is being defined, which calls `{call}`, which at the package's import would give another result"
            ),
            StayReason::ChangedBefore { name, changed } => format!(
                "reads `{name}` while it is being defined, but cell {changed} changes `{name}` before that, which the package would not see"
            ),
            StayReason::ChangesWhileDefined { name, used } => format!(
                "changes `{name}` while it is being defined, and cell {used} reads `{name}` before that"
            ),
            StayReason::DefinedTooEarly { name, bound } => format!(
                "reads `{name}` while it is being defined, before cell {bound} binds it, so the notebook raises `NameError` there"
            ),
            StayReason::AfterFailedImport { cell } => format!(
                "comes after an import that failed in cell {cell} when the notebook last ran, so it never existed"
            ),
            StayReason::AfterNameError {
                cell,
                name,
                surely: true,
            } => format!(
                "comes after a statement of cell {cell} that reads `{name}`, which nothing binds before it, so the cell stops there and it never existed"
            ),
            StayReason::AfterNameError {
                cell,
                name,
                surely: false,
            } => format!(
                "comes after a statement of cell {cell} that reads `{name}`, which may be unbound there, so the cell may stop there and it may never have existed"
            ),
            StayReason::HistoryAfterChdir { history, chdir } => format!(
                "needs the package imported before cell {chdir} changes the working directory, but cell {history} reads IPython's numbered history, which a cell inserted before it would renumber"
            ),
            StayReason::ImportChanged { module, changed } => format!(
                "needs a name imported from `{module}`, which cell {changed} changes; the package imports it at the import cell, which may be on the other side of that change"
            ),
            StayReason::AfterMissingImport { cell, module, name } => format!(
                "comes after `from {module} import {name}` in cell {cell}, which raises `ImportError` because `{module}` has no `{name}`, so it never existed"
            ),
            StayReason::NeverBound { name, cell } => format!(
                "reads `{name}`, which cell {cell} binds where the cell stops with an error (or may), so `{name}` may never have existed"
            ),
            StayReason::MaybeUnbound { name } => format!(
                "reads `{name}` when it is defined, directly or in a function it calls, and `{name}` may be unbound then (an `if TYPE_CHECKING:` import, a `try` that ignores a failed import); in a module that would stop the package from importing"
            ),
            StayReason::ErrorInCell { cell } => format!(
                "is in cell {cell}, which raised an error when the notebook last ran, so it may never have existed"
            ),
            StayReason::DefinedAgain { cells, .. } => format!(
                "is defined in cells {} with the same code, and each definition makes a new object, whose state or identity the notebook may notice",
                and_list(cells)
            ),
            StayReason::CallsConstant { name } => format!(
                "calls the constant `{name}` while it is being defined, which raises `TypeError`"
            ),
            StayReason::IpythonName { name } => {
                format!("reads `{name}`, which IPython defines differently from a module")
            }
            StayReason::ConstantUsedEarly {
                constant,
                used,
                bound,
            } => format!(
                "needs the constant `{constant}`, which cell {used} reads before cell {bound} binds it"
            ),
            StayReason::ConstantChanged {
                constant,
                name,
                changed,
            } => format!(
                "needs the constant `{constant}`, computed from `{name}`, which cell {changed} changes before that"
            ),
            StayReason::ListedEarly { listing, cell } => format!(
                "would appear early in what cell {cell} lists of the notebook's names (`{listing}`)"
            ),
            StayReason::DynamicMayRebind { cell } => format!(
                "may be bound again by the `exec` or `globals()` of cell {cell}, which code in the package would not see"
            ),
            StayReason::RunMayRebind { cell, why } => format!(
                "may be bound again by the `%run` of cell {cell}, which code in the package would not see; nbhoist cannot tell what it binds: {why}"
            ),
            StayReason::RunStops { cell, notebook } => format!(
                "comes at or after cell {cell}, which has an error; {notebook} runs this notebook with `%run`, which stops there, so for it this never exists"
            ),
            StayReason::RunVariable {
                name,
                file,
                place: place @ RunPlace::Cell(_),
            } => format!("reads `{name}`, computed in {file} {place}"),
            StayReason::RunVariable {
                name,
                file,
                place: place @ RunPlace::Line(_),
            } => format!(
                "reads `{name}`, bound by {file} ({place}), which runs with `%run` and which no module of the package can import from"
            ),
            StayReason::RunUnknown { name, cell, why } => format!(
                "reads `{name}`, which the `%run` of cell {cell} may bind, though nbhoist cannot tell: {why}"
            ),
            StayReason::BoundByRunner {
                name,
                own,
                notebook,
                cell,
            } => format!(
                "{}, which {notebook} (cell {cell}) binds again after running this notebook with `%run`; they share their names, so the notebook's code sees the new `{name}`, and the package's would not",
                if *own {
                    format!("has a name, `{name}`")
                } else {
                    format!("needs `{name}`")
                }
            ),
            StayReason::StarMayRebind { cell } => format!(
                "may be replaced by the star import of cell {cell}, which code in the package would not see"
            ),
            StayReason::RelativeImport { name, cell } => format!(
                "reads `{name}`, which a relative import binds (cell {cell}) and which would mean something else in the package"
            ),
            StayReason::FailedImport { name, cell } => format!(
                "reads `{name}`, whose import failed when the notebook last ran (cell {cell})"
            ),
            StayReason::StarShadowsBuiltin { name, cell } => format!(
                "reads `{name}`, a builtin that the star import of cell {cell} may replace"
            ),
            StayReason::FromStarImport { name, cell } => format!(
                "reads `{name}`, which the star import of cell {cell} may bind: what a star import of a module outside the standard library binds is not known"
            ),
            StayReason::StarRebindsLater { name, cell } => format!(
                "reads `{name}` while it is being defined, a builtin that the star import of cell {cell} replaces only later"
            ),
            StayReason::StarOrBlock { name, star, block } => format!(
                "reads `{name}`, which the star import of cell {star} binds, or the import block of cell {block}, depending on how that block runs"
            ),
            StayReason::StarRebindsImport { name, cell } => format!(
                "reads `{name}`, which the star import of cell {cell} may bind again after its import"
            ),
            StayReason::Undefined { name } => format!("reads `{name}`, which no cell defines"),
            StayReason::History { name } => {
                format!("reads `{name}`, IPython's history, which only exists in the notebook")
            }
            StayReason::Dunder { name } => {
                format!("reads `{name}`, which has another value in a module than in the notebook")
            }
            StayReason::SetupComesLater { cell } => format!(
                "comes before cell {cell}, which installs or sets up what the package's imports need"
            ),
            StayReason::InSetupCell { cell } => format!(
                "is in cell {cell}, which also installs or sets up what the package's imports need"
            ),
            StayReason::ConstantBeforeSetup {
                constant,
                constant_cell,
                setup,
            } => format!(
                "needs the constant `{constant}` of cell {constant_cell}, which comes before cell {setup}, which installs or sets up what the package's imports need"
            ),
            StayReason::BeforeHistory { cell } => format!(
                "comes before cell {cell}, which reads IPython's numbered history (`Out[3]`, `_i3`), which moving cells before it would renumber"
            ),
            StayReason::ImportAfterChdir { name, cell } if name == "*" => format!(
                "needs a star import that comes after cell {cell} changes the working directory, after which the package cannot be found"
            ),
            StayReason::ImportAfterChdir { name, cell } => format!(
                "needs `{name}`, imported after cell {cell} changes the working directory, after which the package cannot be found"
            ),
            StayReason::InPlaceAfterChdir { cell } => format!(
                "would be imported from the package where it stands (an earlier version stays), after cell {cell} changes the working directory, after which the package cannot be found"
            ),
            StayReason::LeavesMagicLine { cell, line } => {
                let magic = line.split(|c: char| !c.is_alphanumeric() && c != '_').next();
                format!(
                    "would leave `{line}` alone in cell {cell}, which IPython would then run as the `%{}` magic",
                    magic.unwrap_or_default()
                )
            }
            StayReason::ImportRunsCode { module, cell } => format!(
                "needs `{module}` (written by cell {cell}), which runs code when imported, and the package would import it earlier than the notebook does"
            ),
            StayReason::ImportsPackageModule { name } => format!(
                "needs `{name}`, from another module of the package, which may run code when imported, and the package would import it earlier than the notebook does"
            ),
            StayReason::EagerAnnotations { cell } => format!(
                "has annotations that run now, but would be postponed by the `from __future__ import annotations` of cell {cell} in the module"
            ),
            StayReason::UsedTooEarly {
                late: LateBinding::StarImport,
                used,
                bound,
            } => format!(
                "is used in cell {used}, before the star import of cell {bound}, which it needs"
            ),
            StayReason::UsedTooEarly {
                late: LateBinding::Name(name),
                used,
                bound,
            } => format!(
                "is used in cell {used}, before cell {bound} binds `{name}`, which it needs"
            ),
            StayReason::Conflict { module, .. } => format!(
                "differs from the version in `{module}`, which was changed by hand"
            ),
            StayReason::UsedInModule { module, users } => format!(
                "is used by {} in `{module}`, which would change with it",
                code_list(users)
            ),
            StayReason::NotInModule { name, module } => format!(
                "needs `{name}`, which the notebook imports from `{module}`, but the module no longer defines"
            ),
            StayReason::UsedBeforeUpdate { cells, import } => format!(
                "is a new version of what cell {import} imports from the module, which cell{} {} use{} before it; hoisted, it would replace that version for them too",
                if cells.len() == 1 { "" } else { "s" },
                and_list(cells),
                if cells.len() == 1 { "s" } else { "" },
            ),
            StayReason::ReadsAddedLater { name, module } => format!(
                "would stay where `{module}` has it, and read `{name}` while being defined, which this run adds after it"
            ),
            StayReason::BoundInModule { name, module } => {
                format!("reads `{name}`, which `{module}` binds to something else")
            }
            StayReason::ModuleAnnotations {
                module,
                postponed: true,
            } => format!(
                "has annotations the notebook evaluates, and `{module}` postpones them (`from __future__ import annotations`)"
            ),
            StayReason::ModuleAnnotations {
                module,
                postponed: false,
            } => format!(
                "has postponed annotations (`from __future__ import annotations`), and `{module}` evaluates them"
            ),
            StayReason::ImportCellStops { cell } => format!(
                "would join the import of the notebook's module in cell {cell}, but that cell stops with an error before the import (or may)"
            ),
            StayReason::BeforeImportCell { cell } => {
                format!("comes before cell {cell}, which imports the notebook's module")
            }
            StayReason::SetupAfterImportCell { setup, cell } => format!(
                "needs setup in cell {setup}, after cell {cell}, which imports the notebook's module"
            ),
            StayReason::DependsOn { name, because } => match because.root() {
                (root, Some(last)) => format!(
                    "uses `{name}`, which depends on `{last}`, which {}",
                    root.clause()
                ),
                (root, None) => {
                    format!("uses `{name}`, which stays because it {}", root.clause())
                }
            },
        }
    }

    /// The reason at the end of a chain of [`StayReason::DependsOn`], and the name of the last
    /// definition in the chain when it is longer than one step.
    pub(crate) fn root(&self) -> (&StayReason, Option<&str>) {
        let mut reason = self;
        let mut last = None;
        while let StayReason::DependsOn { name, because } = reason {
            last = Some(name.as_str());
            reason = because;
        }
        (reason, last)
    }
}

/// The reason as a sentence about the definition, without the hint.
impl fmt::Display for StayReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // These read better with the name as subject.
            StayReason::Redefined { name, .. }
            | StayReason::Rebound { name, .. }
            | StayReason::DefinedAgain { name, .. } => write!(f, "`{name}` {}", self.clause()),
            _ => f.write_str(&self.clause()),
        }
    }
}

/// "`a`", "`a` and `b`": names as code.
fn code_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    and_list(&quoted)
}

/// "2", "2 and 5", "2, 5 and 9".
pub(crate) fn and_list<T: fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_hints_are_separate() {
        let reason = StayReason::ReadsVariable {
            name: "df".into(),
            cell: CellNumber(4),
        };
        assert_eq!(reason.to_string(), "reads notebook variable `df` (cell 4)");
        assert_eq!(
            reason.hint().map(|hint| hint.to_string()).as_deref(),
            Some("pass it as a parameter to hoist this function")
        );
        assert_eq!(reason.code(), "reads-variable");
    }

    #[test]
    fn chains_name_their_root() {
        let root = StayReason::ReadsVariable {
            name: "df".into(),
            cell: CellNumber(4),
        };
        let one = StayReason::DependsOn {
            name: "z".into(),
            because: Box::new(root),
        };
        assert_eq!(
            one.to_string(),
            "uses `z`, which stays because it reads notebook variable `df` (cell 4)"
        );
        let two = StayReason::DependsOn {
            name: "a".into(),
            because: Box::new(one),
        };
        assert_eq!(
            two.to_string(),
            "uses `a`, which depends on `z`, which reads notebook variable `df` (cell 4)"
        );
        assert_eq!(two.hint(), None);
    }

    #[test]
    fn lists_of_cells() {
        let cells = |numbers: &[usize]| -> Vec<CellNumber> {
            numbers.iter().copied().map(CellNumber).collect()
        };
        assert_eq!(and_list(&cells(&[2])), "2");
        assert_eq!(and_list(&cells(&[2, 5])), "2 and 5");
        assert_eq!(and_list(&cells(&[2, 5, 9])), "2, 5 and 9");
    }
}
