//! Passkeys (WebAuthn) with kanidm's `webauthn-rs`, the audited server-side
//! library: it parses the browser's credentials, checks the challenge, the
//! origin and relying party, user verification (required: a passkey is
//! `aal2` on its own) and the signature counter. Here only the translation:
//! settings in, JSON out; the challenges and credentials live in
//! `auth.webauthn_challenge` and `auth.passkey` (`install_sql/passkeys.sql`),
//! where each challenge is used once.
//!
//! A verification that fails returns its reason in `problem`, not an error:
//! the RPC must commit the challenge's removal and the audit row.

use pgrx::prelude::*;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::error::{AuthError, OrRaise};
use crate::settings;

/// Larger credentials are refused before parsing (a passkey's attestation is
/// at most a few KB).
const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;
/// A passkey used without its user's PIN or biometric (no user
/// verification): refused, for a sign-in and a second factor alike.
const NOT_VERIFIED: &str = "the authenticator did not verify the user";

fn webauthn() -> Result<Webauthn, AuthError> {
    let rp_id = settings::webauthn_rp_id().ok_or(AuthError::PasskeysOff)?;
    let origins = settings::webauthn_origins();
    let mut parsed = origins.iter().map(|origin| {
        Url::parse(origin).map_err(|e| AuthError::Passkeys(format!("origin {origin:?}: {e}")))
    });
    let first = match parsed.next() {
        Some(origin) => origin?,
        None => Url::parse(&format!("https://{rp_id}"))
            .map_err(|e| AuthError::Passkeys(format!("relying party id {rp_id:?}: {e}")))?,
    };
    let issuer = settings::mfa_issuer();
    let mut builder = WebauthnBuilder::new(&rp_id, &first)
        .map_err(|e| AuthError::Passkeys(format!("relying party id {rp_id:?}: {e}")))?
        .rp_name(&issuer);
    for origin in parsed {
        builder = builder.append_allowed_origin(&origin?);
    }
    builder
        .build()
        .map_err(|e| AuthError::Passkeys(e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> pgrx::JsonB {
    pgrx::JsonB(
        serde_json::to_value(value)
            .map_err(|e| AuthError::Internal(format!("serialising WebAuthn state: {e}")))
            .or_raise(),
    )
}

/// The browser's credential, or why it is none.
fn credential<T: serde::de::DeserializeOwned>(json: &pgrx::JsonB) -> Result<T, String> {
    if json.0.to_string().len() > MAX_CREDENTIAL_BYTES {
        return Err(format!("credential over {MAX_CREDENTIAL_BYTES} bytes"));
    }
    serde_json::from_value(json.0.clone()).map_err(|e| format!("malformed credential: {e}"))
}

/// Our own stored state (a challenge's, a passkey's): failing to read it is
/// an internal error, not the client's.
fn stored<T: serde::de::DeserializeOwned>(json: &pgrx::JsonB, what: &str) -> T {
    serde_json::from_value(json.0.clone())
        .map_err(|e| AuthError::Internal(format!("stored {what}: {e}")))
        .or_raise()
}

/// The options for `navigator.credentials.create()` and the state to keep:
/// a new passkey for `username` (WebAuthn user handle `user_handle`), not
/// on an authenticator that holds one of `existing` (the account's passkeys). Discoverable (resident) credentials are asked for,
/// so that the passkey signs in without a username.
#[pg_extern(volatile)]
fn passkey_registration_options(
    user_handle: pgrx::Uuid,
    username: &str,
    existing: Vec<pgrx::JsonB>,
) -> TableIterator<'static, (name!(options, pgrx::JsonB), name!(state, pgrx::JsonB))> {
    let webauthn = webauthn().or_raise();
    let exclude: Vec<CredentialID> = existing
        .iter()
        .map(|p| stored::<Passkey>(p, "passkey").cred_id().clone())
        .collect();
    let (options, state) = webauthn
        .start_passkey_registration(
            Uuid::from_bytes(*user_handle.as_bytes()),
            username,
            username,
            Some(exclude),
        )
        .map_err(|e| AuthError::Passkeys(e.to_string()))
        .or_raise();
    let mut options = to_json(&options);
    if let Some(selection) = options
        .0
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    TableIterator::once((options, to_json(&state)))
}

/// A registration's outcome: the new passkey and its credential id, or the
/// problem.
// pgrx reads the result's column names from this signature: no alias.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn passkey_registered(
    credential_json: pgrx::JsonB,
    state: pgrx::JsonB,
) -> TableIterator<
    'static,
    (
        name!(credential_id, Option<Vec<u8>>),
        name!(passkey, Option<pgrx::JsonB>),
        name!(problem, Option<String>),
    ),
> {
    let webauthn = webauthn().or_raise();
    let state: PasskeyRegistration = stored(&state, "registration");
    let outcome = credential::<RegisterPublicKeyCredential>(&credential_json).and_then(|reg| {
        webauthn
            .finish_passkey_registration(&reg, &state)
            .map_err(|e| e.to_string())
    });
    TableIterator::once(passkey_row(outcome.as_ref().map_err(String::clone)))
}

/// The options for `navigator.credentials.get()` without a username (the
/// authenticator offers its passkeys for this site), and the state to keep.
#[pg_extern(volatile)]
fn passkey_login_options(
) -> TableIterator<'static, (name!(options, pgrx::JsonB), name!(state, pgrx::JsonB))> {
    let webauthn = webauthn().or_raise();
    let (options, state) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| AuthError::Passkeys(e.to_string()))
        .or_raise();
    let mut options = to_json(&options);
    // webauthn-rs asks for conditional mediation (autofill); the page asks
    // on a button instead.
    if let Some(object) = options.0.as_object_mut() {
        object.remove("mediation");
    }
    TableIterator::once((options, to_json(&state)))
}

/// Who a sign-in credential says it is: its user handle and credential id
/// (no row when it is not a credential).
#[pg_extern(immutable, parallel_safe)]
fn passkey_identify(
    credential_json: pgrx::JsonB,
) -> TableIterator<
    'static,
    (
        name!(user_handle, pgrx::Uuid),
        name!(credential_id, Vec<u8>),
    ),
> {
    let identified = credential::<PublicKeyCredential>(&credential_json)
        .ok()
        .and_then(|credential| {
            let handle = credential
                .get_user_unique_id()
                .and_then(|handle| Uuid::from_slice(handle).ok())?;
            Some((
                pgrx::Uuid::from_bytes(*handle.as_bytes()),
                credential.get_credential_id().to_vec(),
            ))
        });
    TableIterator::new(identified)
}

/// A sign-in without a password: the passkey with its new counter, or the
/// problem (a wrong signature, origin or challenge, no user verification, a
/// counter that went back).
#[pg_extern(volatile)]
fn passkey_login_checked(
    credential_json: pgrx::JsonB,
    state: pgrx::JsonB,
    passkey: pgrx::JsonB,
) -> TableIterator<
    'static,
    (
        name!(passkey, Option<pgrx::JsonB>),
        name!(problem, Option<String>),
    ),
> {
    let webauthn = webauthn().or_raise();
    let state: DiscoverableAuthentication = stored(&state, "sign-in challenge");
    let mut passkey: Passkey = stored(&passkey, "passkey");
    let outcome = credential::<PublicKeyCredential>(&credential_json).and_then(|credential| {
        webauthn
            .finish_discoverable_authentication_v2(&credential, state, &passkey)
            .map_err(|e| e.to_string())
    });
    TableIterator::once(match outcome {
        Ok(result) if result.user_verified() => {
            passkey.update_credential(&result);
            (Some(to_json(&passkey)), None)
        }
        Ok(_) => (None, Some(NOT_VERIFIED.into())),
        Err(problem) => (None, Some(problem)),
    })
}

/// The options and state of a second factor: one of `passkeys` (the
/// account's) after a password.
#[pg_extern(volatile)]
fn passkey_challenge_options(
    passkeys: Vec<pgrx::JsonB>,
) -> TableIterator<'static, (name!(options, pgrx::JsonB), name!(state, pgrx::JsonB))> {
    let webauthn = webauthn().or_raise();
    let passkeys: Vec<Passkey> = passkeys.iter().map(|p| stored(p, "passkey")).collect();
    let (options, state) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| AuthError::Passkeys(e.to_string()))
        .or_raise();
    TableIterator::once((to_json(&options), to_json(&state)))
}

/// A second factor's outcome: which passkey, with its new counter, or the
/// problem.
// pgrx reads the result's column names from this signature: no alias.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile)]
fn passkey_challenge_checked(
    credential_json: pgrx::JsonB,
    state: pgrx::JsonB,
    passkeys: Vec<pgrx::JsonB>,
) -> TableIterator<
    'static,
    (
        name!(credential_id, Option<Vec<u8>>),
        name!(passkey, Option<pgrx::JsonB>),
        name!(problem, Option<String>),
    ),
> {
    let webauthn = webauthn().or_raise();
    let state: PasskeyAuthentication = stored(&state, "second-factor challenge");
    let mut passkeys: Vec<Passkey> = passkeys.iter().map(|p| stored(p, "passkey")).collect();
    let outcome = credential::<PublicKeyCredential>(&credential_json).and_then(|credential| {
        webauthn
            .finish_passkey_authentication(&credential, &state)
            .map_err(|e| e.to_string())
    });
    let checked = match outcome {
        Ok(result) if result.user_verified() => passkeys
            .iter_mut()
            .find(|p| p.cred_id() == result.cred_id())
            .map(|passkey| {
                passkey.update_credential(&result);
                &*passkey
            })
            .ok_or_else(|| "not one of this account's passkeys".to_owned()),
        Ok(_) => Err(NOT_VERIFIED.to_owned()),
        Err(problem) => Err(problem),
    };
    TableIterator::once(passkey_row(checked))
}

/// The row of a ceremony that ends with a passkey: its credential id and
/// the passkey to store, or the problem.
fn passkey_row(
    outcome: Result<&Passkey, String>,
) -> (Option<Vec<u8>>, Option<pgrx::JsonB>, Option<String>) {
    match outcome {
        Ok(passkey) => (
            Some(passkey.cred_id().to_vec()),
            Some(to_json(passkey)),
            None,
        ),
        Err(problem) => (None, None, Some(problem)),
    }
}
