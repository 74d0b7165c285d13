//! TOTP (RFC 6238) with the `totp-rs` crate: HMAC-SHA-1, 6 digits, 30 s
//! steps (what every authenticator app reads from an `otpauth://` URI), one
//! step of clock skew either way. RFC 6238 section 5.2 asks that a code be
//! accepted once: the caller keeps the last step used, and only a later
//! step passes. Secrets are stored sealed (`sealing.rs`), bound to their
//! factor's id.

use pgrx::prelude::*;
use qrcode::render::svg;
use qrcode::QrCode;
use totp_rs::{Builder, Totp};
use zeroize::Zeroizing;

use crate::error::{AuthError, OrRaise};
use crate::{key_file, sealing, settings, tokens};

/// 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
/// Codes longer than this are wrong without a look.
const MAX_CODE_CHARS: usize = 32;

fn associated_data(factor_id: pgrx::Uuid) -> Vec<u8> {
    format!("pg_auth_ext totp|{factor_id}").into_bytes()
}

/// `account` and the issuer may not contain `:` in an otpauth URI's label.
fn label(text: &str) -> String {
    text.replace(':', "_")
}

fn totp(secret: &[u8], account: &str) -> Result<Totp, AuthError> {
    Builder::new()
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(0)
        .with_secret(secret)
        .with_issuer(Some(label(&settings::mfa_issuer())))
        .with_account_name(label(account))
        .build()
        .map_err(|e| AuthError::Internal(format!("TOTP: {e}")))
}

/// A new TOTP secret for factor `factor_id` of `account`: the `otpauth://`
/// URI and base32 secret the user copies into an app, the URI as an SVG QR
/// code, and the secret sealed for `auth.mfa_factor`.
#[pg_extern(volatile)]
fn new_totp_secret(
    factor_id: pgrx::Uuid,
    account: &str,
) -> TableIterator<
    'static,
    (
        name!(uri, String),
        name!(secret, String),
        name!(qr_svg, String),
        name!(sealed_secret, Vec<u8>),
    ),
> {
    let made = || -> Result<_, AuthError> {
        let kek = key_file::key_encryption_key()?;
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        getrandom::fill(secret.as_mut()).map_err(|e| AuthError::Random(e.to_string()))?;
        let totp = totp(secret.as_ref(), account)?;
        let uri = totp
            .to_url()
            .map_err(|e| AuthError::Internal(format!("TOTP URI: {e}")))?;
        let qr = QrCode::new(uri.as_bytes())
            .map_err(|e| AuthError::Internal(format!("QR code: {e}")))?
            .render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build();
        let sealed = sealing::seal(&kek, &associated_data(factor_id), secret.as_ref())?;
        Ok((uri, totp.secret().to_base32(), qr, sealed))
    };
    TableIterator::once(made().or_raise())
}

/// The step of `code` for the sealed secret, when it is one of the steps
/// around now (one either way) and later than `after_step`; otherwise NULL
/// (a wrong, old, malformed or used code: said alike).
#[pg_extern(stable, parallel_restricted)]
fn totp_step(
    factor_id: pgrx::Uuid,
    sealed_secret: &[u8],
    code: &str,
    after_step: i64,
) -> Option<i64> {
    if code.len() > MAX_CODE_CHARS {
        return None;
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) {
        return None;
    }
    let kek = key_file::key_encryption_key().or_raise();
    let secret = Zeroizing::new(
        sealing::open(
            &kek,
            &associated_data(factor_id),
            sealed_secret,
            SECRET_BYTES,
        )
        .ok_or_else(|| AuthError::SealedSecret {
            what: format!("TOTP factor {factor_id}"),
        })
        .or_raise(),
    );
    let totp = totp(&secret, "").or_raise();
    let now = u64::try_from(tokens::transaction_epoch()).ok()?;
    let origin = i64::try_from(now / STEP_SECONDS).ok()?;
    (origin - 1..=origin + 1)
        .filter(|step| *step > after_step)
        .find(|step| {
            u64::try_from(*step).is_ok_and(|step| totp.check(&code, step * STEP_SECONDS).is_some())
        })
}

/// The sealed secret opened with the key-encryption key in `old_key_file`
/// and sealed again under `pg_auth.key_encryption_key_file`
/// (`auth.reseal_signing_keys`, the rotation of the key-encryption key).
#[pg_extern(volatile)]
fn reseal_totp_secret(factor_id: pgrx::Uuid, sealed: &[u8], old_key_file: &str) -> Vec<u8> {
    let resealed = || -> Result<Vec<u8>, AuthError> {
        let old = key_file::key_encryption_key_in("old_key_file", old_key_file.to_owned())?;
        let new = key_file::key_encryption_key()?;
        let aad = associated_data(factor_id);
        let secret = Zeroizing::new(sealing::open(&old, &aad, sealed, SECRET_BYTES).ok_or_else(
            || AuthError::SealedSecret {
                what: format!("TOTP factor {factor_id}"),
            },
        )?);
        sealing::seal(&new, &aad, &secret)
    };
    resealed().or_raise()
}

/// The code of a sealed secret at `unix_time`, for the tests.
#[cfg(any(test, feature = "pg_test"))]
pub(crate) fn code_at(factor_id: pgrx::Uuid, sealed: &[u8], unix_time: u64) -> String {
    let kek = key_file::key_encryption_key().or_raise();
    let secret =
        sealing::open(&kek, &associated_data(factor_id), sealed, SECRET_BYTES).unwrap_or_default();
    totp(&secret, "").or_raise().generate(unix_time).to_string()
}
