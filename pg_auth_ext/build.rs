//! Writes the SQL that is generated, not written (`upgrades/generate.py`):
//! `sql/bootstrap.sql`, the tables as every version's migration left them,
//! which `lib.rs` includes, and the upgrade scripts `cargo pgrx install`
//! copies beside the library. Before compiling, so that no build can take a
//! stale schema.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    // sql/ too: a missing or edited output is written again.
    for input in [
        "upgrades",
        "src/install_sql",
        "src/lib.rs",
        "Cargo.toml",
        "sql",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }
    let ran = Command::new("python3").arg("upgrades/generate.py").status();
    match ran {
        Ok(status) if status.success() => return ExitCode::SUCCESS,
        Ok(status) => eprintln!("upgrades/generate.py failed ({status}): see its message above"),
        Err(error) => eprintln!("pg_auth_ext's build runs python3 upgrades/generate.py: {error}"),
    }
    ExitCode::FAILURE
}
