//! Snapshot tests of `nbhoist scan` over the fixture notebooks: every verdict rule, every stay
//! reason, every cell-magic kind and the reading errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

/// What `nbhoist scan ARGS...` prints on stdout.
fn scan(args: &[&str]) -> String {
    let output = Command::cargo_bin("nbhoist")
        .unwrap()
        .arg("scan")
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// Every fixture of `tests/fixtures/scan/`, in text and in JSON.
#[test]
fn fixtures() {
    insta::glob!("fixtures/scan/*.ipynb", |path| {
        // Relative, so that the reports do not name this machine's folders.
        let path = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let path = path.to_str().unwrap();
        insta::assert_snapshot!("text", scan(&["--color", "never", path]));
        insta::assert_snapshot!("json", scan(&["--format", "json", path]));
    });
}

#[test]
fn reading_errors() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture("notebooks"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("error_")
        })
        .collect();
    paths.sort();
    paths.push(fixture("notebooks/does-not-exist.ipynb"));
    let mut args = vec!["--color", "never"];
    args.extend(paths.iter().map(|path| path.to_str().unwrap()));
    insta::assert_snapshot!(scan(&args));
}

#[test]
fn exit_code_is_zero_when_every_file_is_read() {
    Command::cargo_bin("nbhoist")
        .unwrap()
        .args(["scan", "tests/fixtures/scan/rules.ipynb"])
        .assert()
        .code(0);
}

#[test]
fn exit_code_is_two_when_a_file_cannot_be_read_and_the_others_are_still_scanned() {
    let output = Command::cargo_bin("nbhoist")
        .unwrap()
        .args([
            "scan",
            "--format",
            "json",
            "tests/fixtures/notebooks/missing.ipynb",
            "tests/fixtures/scan/magics.ipynb",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let notebooks = json["notebooks"].as_array().unwrap();
    assert_eq!(notebooks[0]["status"], "error");
    assert!(
        notebooks[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read")
    );
    assert_eq!(notebooks[1]["status"], "ok");
    assert_eq!(notebooks[1]["definitions"].as_array().unwrap().len(), 6);
}

/// Every case of `tests/fixtures/duplicates/`, a folder of notebooks, with `--duplicates`, in
/// text and in JSON.
#[test]
fn duplicates() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixture("duplicates"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in cases {
        let name = case.file_name().unwrap().to_str().unwrap().to_owned();
        let path = case.to_str().unwrap();
        let text = scan(&["--duplicates", "--color", "never", path]);
        insta::assert_snapshot!(format!("duplicates_text@{name}"), text);
        let json = scan(&["--duplicates", "--format", "json", path]);
        insta::assert_snapshot!(format!("duplicates_json@{name}"), json);
    }
}

#[test]
fn without_duplicates_the_json_report_has_no_duplicates() {
    let json: serde_json::Value = serde_json::from_str(&scan(&[
        "--format",
        "json",
        "tests/fixtures/duplicates/copies",
    ]))
    .unwrap();
    assert!(json.get("duplicates").is_none());
}
