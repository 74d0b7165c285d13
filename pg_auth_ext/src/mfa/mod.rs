//! Second factors: TOTP codes (`totp.rs`) and the recovery codes given at
//! the first enrolment (`recovery.rs`). The SQL API (enrolment, step-up,
//! the `aal` of sessions) is in `install_sql/mfa.sql`.

pub(crate) mod recovery;
pub(crate) mod totp;
