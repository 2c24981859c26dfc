//! Practice mode finds ministack only where Keyline is installed or configured: a `.venv` in the working directory
//! (a folder the app happens to be started from) is never used. Its own process, since it changes the working directory.

use keyline_app_lib::practice::emulator::{project_dir, PROJECT_DIR_ENV};

#[test]
fn a_venv_in_the_working_directory_does_not_choose_the_emulator() {
    let planted = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(planted.path().join(".venv/bin")).unwrap();
    std::fs::write(planted.path().join(".venv/bin/ministack"), "#!/bin/sh\necho planted\n").unwrap();
    let exe = std::env::current_exe().unwrap();
    assert!(!exe.starts_with(planted.path()));
    // This binary has one test, so no other thread reads the environment or the working directory.
    std::env::remove_var(PROJECT_DIR_ENV);
    std::env::set_current_dir(planted.path()).unwrap();
    let found = project_dir();
    assert_ne!(found.as_deref(), Some(planted.path()), "the working directory's .venv was chosen");
    assert_eq!(found, exe.ancestors().find(|dir| dir.join(".venv").is_dir()).map(|d| d.to_path_buf()), "only the install location counts");

    let configured = tempfile::tempdir().unwrap();
    std::env::set_var(PROJECT_DIR_ENV, configured.path());
    assert_eq!(project_dir().as_deref(), Some(configured.path()), "a configured path wins");
}
