//! What a deploy did to one AWS piece and how healthy it is: the report types shared by the JITR stack, JITP and
//! the allow-list table (here, below all three, so that none of them imports another for its types).

use serde::{Deserialize, Serialize};

/// What deploy did to one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It did not exist and was created.
    Created,
    /// It existed but differed and was updated.
    Updated,
    /// It was already as wanted.
    Unchanged,
    /// It was deleted.
    Deleted,
    /// It was not there to delete.
    Absent,
}

/// One line of a deploy or remove report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PieceChange {
    /// Which piece ("device policy", "lambda role", …).
    pub piece: String,
    /// Its AWS name.
    pub name: String,
    /// What happened.
    pub change: Change,
}

/// Health of one piece.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Health {
    /// Present and as deploy would leave it.
    Ok,
    /// Not there.
    Missing,
    /// There but different; the detail says how.
    Drifted(String),
}

/// One line of `jitr status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PieceStatus {
    /// Which piece.
    pub piece: String,
    /// Its AWS name.
    pub name: String,
    /// Its health.
    pub health: Health,
}
