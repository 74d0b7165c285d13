//! Every Wycheproof ES256 vector (tests/vectors/wycheproof/): the fast
//! verification of es256.rs gives the expected answer, and the same answer
//! as p256's own constant-time verifier.

use p256::ecdsa::signature::Verifier as _;
use serde::Deserialize;

use super::PublicKey;

#[derive(Deserialize)]
struct File {
    #[serde(rename = "numberOfTests")]
    number_of_tests: usize,
    #[serde(rename = "testGroups")]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(rename = "publicKey")]
    key: Key,
    tests: Vec<Vector>,
}

#[derive(Deserialize)]
struct Key {
    /// 04 || x || y, in hex.
    uncompressed: String,
}

#[derive(Deserialize)]
struct Vector {
    #[serde(rename = "tcId")]
    id: u32,
    msg: String,
    sig: String,
    result: String,
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_wycheproof_es256_vector_gives_the_expected_answer() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json"
    );
    let file: File = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in &file.groups {
        let point = hex(&group.key.uncompressed);
        let key = PublicKey::es256(&point[1..33], &point[33..]).unwrap();
        let PublicKey::Es256(es256) = &key else {
            unreachable!()
        };
        for vector in &group.tests {
            let (message, signature) = (hex(&vector.msg), hex(&vector.sig));
            let ours = key.verify(&message, &signature);
            let theirs = p256::ecdsa::Signature::from_slice(&signature)
                .is_ok_and(|s| es256.key.verify(&message, &s).is_ok());
            assert_eq!(ours, theirs, "tcId {}: p256 disagrees", vector.id);
            match vector.result.as_str() {
                "valid" => {
                    assert!(ours, "tcId {} is valid", vector.id);
                    valid += 1;
                }
                "invalid" => {
                    assert!(!ours, "tcId {} is invalid", vector.id);
                    invalid += 1;
                }
                other => panic!("tcId {}: result {other}", vector.id),
            }
        }
    }
    assert_eq!(valid + invalid, file.number_of_tests);
    assert!(
        valid > 100 && invalid > 50,
        "{valid} valid, {invalid} invalid"
    );
}
