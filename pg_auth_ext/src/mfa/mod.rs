//! Second factors: TOTP codes (`totp.rs`), the recovery codes given at the
//! first enrolment (`recovery.rs`), and passkeys (`passkey.rs`). The SQL API
//! (enrolment, step-up, the `aal` of sessions) is in `install_sql/mfa.sql`
//! and `install_sql/passkeys.sql`.

pub(crate) mod passkey;
pub(crate) mod recovery;
pub(crate) mod totp;
