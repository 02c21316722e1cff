//! What nbhoist promises about the user's files (docs/guarantees.md), from the command line:
//! concurrent runs take turns, odd and hostile input is refused with one clear line and
//! nothing written, and nothing is written outside the package folder and the notebooks.
//!
//! Unix only: the tests make FIFOs, hard and symbolic links, and lock folders.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A Python notebook whose cells have these sources, as nbformat writes it.
fn notebook_json(sources: &[&str]) -> String {
    let cells: Vec<String> = sources
        .iter()
        .map(|source| {
            format!(
                r#"{{"cell_type": "code", "execution_count": null, "metadata": {{}}, "outputs": [], "source": {}}}"#,
                serde_json::to_string(source).unwrap()
            )
        })
        .collect();
    format!(
        r#"{{"cells": [{}], "metadata": {{"kernelspec": {{"language": "python", "name": "python3"}}}}, "nbformat": 4, "nbformat_minor": 4}}
"#,
        cells.join(", ")
    )
}

const HOISTABLE: &[&str] = &["def double(x):\n    return 2 * x", "print(double(2))"];

fn nbhoist(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nbhoist"));
    command.current_dir(dir).env("NO_COLOR", "1");
    command
}

/// Runs `nbhoist extract ARGS` in `dir`: exit code, stdout, stderr.
fn extract(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = nbhoist(dir).arg("extract").args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every entry under `dir` (symbolic links not followed): its content, or what it is.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut entries = BTreeMap::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let content = if kind.is_symlink() {
                format!("-> {}", std::fs::read_link(&path).unwrap().display()).into_bytes()
            } else if kind.is_dir() {
                folders.push(path.clone());
                b"folder".to_vec()
            } else if kind.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                b"special".to_vec()
            };
            entries.insert(path.strip_prefix(dir).unwrap().to_owned(), content);
        }
    }
    entries
}

#[test]
fn a_second_run_fails_clearly_with_no_wait_or_waits_for_the_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nb.ipynb"), notebook_json(HOISTABLE)).unwrap();
    // Another run holds the lock on the folder that holds the package.
    let other = std::fs::File::open(dir.path()).unwrap();
    other.lock().unwrap();
    let before = tree(dir.path());

    let (code, _, stderr) = extract(dir.path(), &["nb.ipynb", "-p", "mylib", "--no-wait"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("another nbhoist run is writing this package"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(tree(dir.path()), before);

    let mut waiting = nbhoist(dir.path())
        .args(["extract", "nb.ipynb", "-p", "mylib"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(waiting.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("waiting for another nbhoist run"), "{line}");
    // It writes nothing while it waits.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(tree(dir.path()), before);
    other.unlock().unwrap();
    assert!(waiting.wait().unwrap().success());
    assert!(dir.path().join("mylib/nb.py").exists());
}

/// Runs extract on `target` in a repository of one good notebook; the run must fail with one
/// line about `target` that says `expected`, and leave everything as it was.
fn refused(dir: &Path, target: &str, expected: &str) {
    refused_naming(dir, target, target, expected);
}

/// As [`refused`], the line naming `named`.
fn refused_naming(dir: &Path, target: &str, named: &str, expected: &str) {
    std::fs::write(dir.join("good.ipynb"), notebook_json(HOISTABLE)).unwrap();
    let before = tree(dir);
    let (code, stdout, stderr) = extract(dir, &[target, "-p", "mylib"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|line| line.contains(expected))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}{stderr}");
    assert!(lines[0].contains(named), "{}", lines[0]);
    assert_eq!(tree(dir), before, "{stdout}{stderr}");
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("mkfifo")
        .arg(dir.path().join("pipe.ipynb"))
        .status()
        .unwrap();
    assert!(status.success());
    refused(dir.path(), "pipe.ipynb", "not a regular file");
}

#[test]
fn a_hard_linked_notebook_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nb.ipynb"), notebook_json(HOISTABLE)).unwrap();
    std::fs::hard_link(dir.path().join("nb.ipynb"), dir.path().join("copy.ipynb")).unwrap();
    refused(dir.path(), "nb.ipynb", "is a hard link (2 names)");
}

#[test]
fn a_folder_named_like_a_notebook_is_searched_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder.ipynb")).unwrap();
    std::fs::write(dir.path().join("nb.ipynb"), notebook_json(HOISTABLE)).unwrap();
    let (code, stdout, stderr) = extract(dir.path(), &[".", "-p", "mylib"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 notebook: 1 changed"), "{stdout}");
    assert!(!stdout.contains("folder.ipynb"), "{stdout}");
}

/// The notebook with a byte that is never UTF-8 in a cell's source.
fn invalid_utf8(good: &str) -> Vec<u8> {
    let mut bytes = good.as_bytes().to_vec();
    bytes[good.find("print(double").unwrap()] = 0xff;
    bytes
}

#[test]
fn odd_json_is_refused_with_one_line_and_nothing_written() {
    let good = notebook_json(HOISTABLE);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("invalid UTF-8 in a string", invalid_utf8(&good), "UTF-8"),
        (
            "a source holding numbers",
            good.replacen(
                "\"source\": \"print(double(2))\"",
                "\"source\": [\"print(\", 2, \")\"]",
                1,
            )
            .into_bytes(),
            "source",
        ),
        (
            "nbformat 5",
            good.replace("\"nbformat\": 4", "\"nbformat\": 5")
                .into_bytes(),
            "nbformat",
        ),
    ];
    for (case, bytes, expected) in cases {
        assert_ne!(bytes, good.as_bytes(), "{case}: the case changes nothing");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("odd.ipynb"), bytes).unwrap();
        refused(dir.path(), "odd.ipynb", expected);
    }
}

/// Runs `nbhoist scan` on `target` alone: it must fail with `path: message`, on one line.
fn scan_refuses(dir: &Path, target: &str, message: &str) {
    let output = nbhoist(dir).args(["scan", target]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let line = format!("{target}: {message}");
    assert_eq!(
        stdout.lines().filter(|l| *l == line).count(),
        1,
        "{line}\n{stdout}"
    );
}

/// Each case, written to `odd.ipynb`, is refused by `scan` and `extract` with this message
/// and nothing is written.
fn refused_as_read_errors(cases: &[(&str, String, String)]) {
    let good = notebook_json(HOISTABLE);
    for (case, text, message) in cases {
        assert_ne!(text, &good, "{case}: the case changes nothing");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("odd.ipynb"), text).unwrap();
        scan_refuses(dir.path(), "odd.ipynb", message);
        refused(dir.path(), "odd.ipynb", &format!("odd.ipynb: {message}"));
    }
}

/// What nbhoist says of a key that one object holds twice.
fn duplicate(key: &str) -> String {
    format!(
        "duplicate key \"{key}\" in one JSON object (Jupyter reads only the last); delete the others, or run \"jupyter nbconvert --to notebook --inplace\" on the notebook, which keeps the last"
    )
}

/// Python's `json`, which Jupyter uses, keeps the last of a repeated key; a reader that kept
/// the first would see other code, so which one counts is not guessed.
#[test]
fn duplicate_keys_are_refused_wherever_they_are() {
    let good = notebook_json(HOISTABLE);
    let with = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        good.replacen(from, to, 1)
    };
    let output =
        r#"[{"name": "stdout", "output_type": "stream", "name": "stderr", "text": ["4\n"]}]"#;
    refused_as_read_errors(&[
        (
            "at the top level",
            with(r#""nbformat": 4,"#, r#""nbformat": 4, "nbformat": 4,"#),
            duplicate("nbformat"),
        ),
        (
            "in the notebook's metadata",
            with(r#""name": "python3""#, r#""name": "python3", "name": "R""#),
            duplicate("name"),
        ),
        (
            "in a cell",
            // The first `source` is what a reader keeping the first key would see.
            with(
                r#""source": "def double"#,
                r#""source": "def first(): pass", "source": "def double"#,
            ),
            format!("cell 1: {}", duplicate("source")),
        ),
        (
            "in a cell's metadata",
            with(
                r#""metadata": {}, "outputs": [], "source": "print"#,
                r#""metadata": {"tags": [], "tags": ["parameters"]}, "outputs": [], "source": "print"#,
            ),
            format!("cell 2: {}", duplicate("tags")),
        ),
        (
            "in an output",
            with(
                r#""outputs": [], "source": "print"#,
                &format!(r#""outputs": {output}, "source": "print"#),
            ),
            format!("cell 2: {}", duplicate("name")),
        ),
    ]);
}

/// nbformat 4 requires `metadata` in every cell; Jupyter cannot open a notebook without it.
#[test]
fn a_cell_without_metadata_is_refused() {
    let good = notebook_json(HOISTABLE);
    let at = good.rfind(r#""metadata": {}, "#).unwrap();
    let without = format!(
        "{}{}",
        &good[..at],
        &good[at + r#""metadata": {}, "#.len()..]
    );
    refused_as_read_errors(&[(
        "the second cell",
        without,
        r#"cell 2: missing "metadata", which nbformat 4 requires (Jupyter cannot open the notebook either); add "metadata": {} to the cell"#.to_owned(),
    )]);
}

#[test]
fn a_package_folder_linked_outside_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("mylib")).unwrap();
    refused_naming(
        dir.path(),
        "good.ipynb",
        "mylib",
        "a symbolic link sends the package folder",
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn writefile_paths_outside_the_notebook_folder_are_never_written() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("repo/nbs");
    std::fs::create_dir_all(&dir).unwrap();
    let absolute = top.path().join("absolute.py");
    let absolute_cell = format!("%%writefile {}\ndef g():\n    return 2", absolute.display());
    std::fs::write(
        dir.join("nb.ipynb"),
        notebook_json(&[
            "%%writefile ../../escape.py\ndef f():\n    return 1",
            &absolute_cell,
            "def double(x):\n    return 2 * x",
            "print(double(2))",
        ]),
    )
    .unwrap();
    let before = tree(top.path());
    let (code, stdout, stderr) = extract(&dir, &["nb.ipynb", "-p", "mylib"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("writes outside the notebook's folder"),
        "{stdout}"
    );
    let after = tree(top.path());
    let changed: Vec<&PathBuf> = after
        .keys()
        .chain(before.keys())
        .filter(|path| before.get(*path) != after.get(*path))
        .collect();
    let allowed =
        |path: &Path| path.starts_with("repo/nbs/mylib") || path == Path::new("repo/nbs/nb.ipynb");
    assert!(changed.iter().all(|path| allowed(path)), "{changed:?}");
    assert!(!top.path().join("escape.py").exists());
    assert!(!absolute.exists());
}

/// Python keywords in some versions only (soft keywords) are names like any other.
#[test]
fn soft_keywords_are_hoisted_as_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nb.ipynb"),
        notebook_json(&[
            "def match(x):\n    return x",
            "def type(x):\n    return x",
            "class case:\n    pass",
            "print(match(1), type(2), case)",
        ]),
    )
    .unwrap();
    let (code, stdout, stderr) = extract(dir.path(), &["nb.ipynb", "-p", "mylib"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("3 definitions hoisted"), "{stdout}");
    let notebook = std::fs::read_to_string(dir.path().join("nb.ipynb")).unwrap();
    assert!(
        notebook.contains("from mylib.nb import case, match, type"),
        "{notebook}"
    );
}

/// Runs a real extraction of a notebook of `sources`, which must hoist `hoisted` definitions
/// within `seconds` (ten times what it takes on a slow machine: a quadratic step takes
/// minutes).
fn extracts_in_time(sources: &[String], hoisted: usize, seconds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    std::fs::write(dir.path().join("big.ipynb"), notebook_json(&sources)).unwrap();
    let start = std::time::Instant::now();
    let (code, stdout, stderr) = extract(dir.path(), &["big.ipynb", "-p", "mylib"]);
    let elapsed = start.elapsed();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!("{hoisted} definitions hoisted")),
        "{}",
        stdout.lines().last().unwrap_or_default()
    );
    assert!(elapsed.as_secs() < seconds, "took {elapsed:?}");
}

#[test]
fn ten_thousand_cells() {
    let sources: Vec<String> = (0..10_000)
        .map(|i| match i % 2 {
            0 => format!("def f{i}(x):\n    return x + {i}"),
            _ => format!("print(f{}(1))", i - 1),
        })
        .collect();
    extracts_in_time(&sources, 5_000, 120);
}

#[test]
fn a_hundred_thousand_definitions() {
    let definitions: Vec<String> = (0..100_000)
        .map(|i| format!("def f{i}(x):\n    return x + {i}\n"))
        .collect();
    let sources = vec![definitions.join("\n"), "print(f99999(1))".to_owned()];
    extracts_in_time(&sources, 100_000, 120);
}
