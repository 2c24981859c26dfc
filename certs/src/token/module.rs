//! Loading PKCS#11 modules once per process and logging in to a token by its label.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};

use super::TokenError;

/// A module loaded and initialised in this process, and the PIN digest each token was logged in with.
struct Loaded {
    context: Pkcs11,
    logged_in: HashMap<String, [u8; 32]>,
}

/// Modules stay loaded for the life of the process: PKCS#11 allows one C_Initialize per module and
/// its login state is shared by all sessions.
fn modules() -> &'static Mutex<HashMap<PathBuf, Loaded>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Loaded>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

pub(super) fn fail(operation: &'static str, error: impl std::fmt::Display) -> TokenError {
    TokenError::Pkcs11 { operation, detail: error.to_string() }
}

fn load(path: &Path) -> Result<Loaded, TokenError> {
    if !path.is_file() {
        return Err(TokenError::ModuleNotFound { path: path.to_path_buf() });
    }
    let load_error = |detail: String| TokenError::ModuleLoad { path: path.to_path_buf(), detail };
    let context = Pkcs11::new(path).map_err(|e| load_error(e.to_string()))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(error) => return Err(load_error(error.to_string())),
    }
    Ok(Loaded { context, logged_in: HashMap::new() })
}

/// A read-write session on the token labelled `token`, logged in as the user with `pin`.
///
/// A token this process is already logged in to only accepts the same PIN again (its digest is
/// kept, never the PIN), so a wrong PIN is refused even then.
pub(super) fn login(module: &Path, token: &str, pin: &str) -> Result<Session, TokenError> {
    let key = std::fs::canonicalize(module).unwrap_or_else(|_| module.to_path_buf());
    let mut modules = modules().lock().unwrap_or_else(|p| p.into_inner());
    if !modules.contains_key(&key) {
        let loaded = load(module)?;
        modules.insert(key.clone(), loaded);
    }
    let loaded = modules.get_mut(&key).expect("inserted above");
    let slots = loaded.context.get_slots_with_initialized_token().map_err(|e| fail("list its slots", e))?;
    let mut available = Vec::new();
    let mut slot = None;
    for candidate in slots {
        let info = loaded.context.get_token_info(candidate).map_err(|e| fail("read a token's information", e))?;
        let label = info.label().trim_end().to_owned();
        if label == token {
            slot = Some(candidate);
            break;
        }
        available.push(label);
    }
    let slot = slot.ok_or_else(|| TokenError::TokenNotFound { token: token.to_owned(), available })?;
    let session = loaded.context.open_rw_session(slot).map_err(|e| fail("open a session", e))?;
    let digest: [u8; 32] = Sha256::digest(pin.as_bytes()).into();
    let auth = AuthPin::from(pin);
    match session.login(UserType::User, Some(&auth)) {
        Ok(()) => {
            loaded.logged_in.insert(token.to_owned(), digest);
            Ok(session)
        }
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) if loaded.logged_in.get(token) == Some(&digest) => Ok(session),
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Err(TokenError::WrongPin { token: token.to_owned() }),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => Err(TokenError::WrongPin { token: token.to_owned() }),
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(TokenError::PinLocked { token: token.to_owned() }),
        Err(error) => Err(fail("log in", error)),
    }
}
