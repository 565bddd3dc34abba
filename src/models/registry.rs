//! The one registry of model kinds: `[model] kind = "..."` resolves here.

use super::kind::ModelKind;
use crate::SpinflipError;
use std::sync::{Arc, OnceLock, RwLock};

/// The kinds spinflip ships. A new family adds its line here.
pub fn builtins() -> Vec<Arc<dyn ModelKind>> {
    vec![
        Arc::new(crate::emulator::kind::GlobalEmulatorKind),
        Arc::new(crate::global::kind::GlobalSimulatorKind),
        Arc::new(crate::maps::MAPS_CNN),
        Arc::new(crate::maps::MAPS_PS),
        Arc::new(crate::maps::MAPS_PS_COMPRESSED),
        Arc::new(crate::maps::MAPS_JOINT),
        Arc::new(crate::maps::MAPS_JOINT_COMPRESSED),
    ]
}

fn kinds() -> &'static RwLock<Vec<Arc<dyn ModelKind>>> {
    static KINDS: OnceLock<RwLock<Vec<Arc<dyn ModelKind>>>> = OnceLock::new();
    KINDS.get_or_init(|| RwLock::new(builtins()))
}

/// Make `kind` available to configs by its name. A name already taken is an error.
pub fn register(kind: Arc<dyn ModelKind>) -> Result<(), SpinflipError> {
    let mut k = kinds().write().unwrap_or_else(|e| e.into_inner());
    if k.iter().any(|x| x.name() == kind.name()) {
        return Err(SpinflipError::config(
            "model.kind",
            format!("a model kind named '{}' is already registered", kind.name()),
        ));
    }
    k.push(kind);
    Ok(())
}

/// The names of every registered kind.
pub fn known_kinds() -> Vec<String> {
    let k = kinds().read().unwrap_or_else(|e| e.into_inner());
    k.iter().map(|x| x.name().to_string()).collect()
}

/// The kind called `name`; an unknown name is an error that lists the known ones.
pub fn lookup(name: &str) -> Result<Arc<dyn ModelKind>, SpinflipError> {
    let k = kinds().read().unwrap_or_else(|e| e.into_inner());
    k.iter().find(|x| x.name() == name).cloned().ok_or_else(|| {
        let list: Vec<String> = k
            .iter()
            .map(|x| format!("'{}' ({})", x.name(), x.describe()))
            .collect();
        SpinflipError::config(
            "model.kind",
            format!(
                "unknown model kind '{name}'; known kinds: {}",
                list.join(", ")
            ),
        )
    })
}
