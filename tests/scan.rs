//! Snapshot tests of `nbhoist scan` over the fixture notebooks: every verdict rule, every stay
//! reason, every cell-magic kind and the reading errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use nbhoist::report::{scan_json, scan_text};
use nbhoist::scan::scan_paths;

fn fixture(name: &str) -> PathBuf {
    Path::new("tests/fixtures").join(name)
}

macro_rules! scan_snapshot {
    ($test:ident, $path:expr) => {
        #[test]
        fn $test() {
            let reports = scan_paths(&[fixture($path)], None, false);
            insta::assert_snapshot!(
                concat!(stringify!($test), "_text"),
                scan_text(&reports, false)
            );
            insta::assert_snapshot!(concat!(stringify!($test), "_json"), scan_json(&reports));
        }
    };
}

scan_snapshot!(rules, "scan/rules.ipynb");
scan_snapshot!(magics, "scan/magics.ipynb");
scan_snapshot!(scoping, "scan/scoping.ipynb");
scan_snapshot!(star_import, "scan/star_import.ipynb");
scan_snapshot!(writefiles, "scan/writefiles.ipynb");

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
    insta::assert_snapshot!(scan_text(&scan_paths(&paths, None, false), false));
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
