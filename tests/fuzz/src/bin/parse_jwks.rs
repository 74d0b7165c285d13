//! Any string as a JWK Set: parsing returns a value and never panics, and a
//! set it accepts survives its own serialisation unchanged.
#![no_main]

use jwt_core::Jwks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = Jwks::parse(&text) {
        let again = Jwks::parse(&set.to_json().to_string()).unwrap();
        assert_eq!(again, set);
    }
});
