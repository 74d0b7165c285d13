//! ES256 verification in one chain of doublings (crypto review, "Speed").
//!
//! p256 0.13 verifies `u1·G + u2·Q` as two separate constant-time scalar
//! multiplications (about 512 doublings and 2,000 table selects), which made
//! ES256 cost 178 µs natively and 0.8 ms in the wasm filter. Every input of
//! a verification is public (the token, the key), so variable time is safe
//! here; signing stays with p256's constant-time code.
//!
//! Each scalar is cut into [`SPLIT`] parts of 64 bits, and each point `P`
//! gets tables of odd multiples of `2^(64k)·P` (k < SPLIT): the sum of
//! eight 64-bit products then needs 65 doublings, with a few additions per
//! part, written in width-w NAF (the digits are odd and sparse). The table
//! for G is built once per process, a key's on its first verification.
//! p256's own point arithmetic (complete formulas) does every addition and
//! doubling, so the identity and equal points need no special case.

use std::ops::{AddAssign, SubAssign};
use std::sync::OnceLock;

use p256::elliptic_curve::group::Group as _;
use p256::elliptic_curve::ops::{Invert as _, Reduce};
use p256::elliptic_curve::point::AffineCoordinates as _;
use p256::elliptic_curve::{Field as _, PrimeField as _};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};

/// Parts per scalar: 64-bit parts, 65 doublings (the review measured 55 µs
/// natively and 205 µs in wasm with these sizes).
const SPLIT: usize = 8;
const PART_BITS: usize = 32;
/// Digits of a 64-bit part in NAF form (one more than its bits).
const DIGITS: usize = PART_BITS + 1;

/// Window of G's table: 64 odd multiples per part, 16 KB in all, once.
const G_WINDOW: u32 = 8;
const G_ODD: usize = 1 << (G_WINDOW - 2);
/// Window of a key's table: 32 odd multiples per part, 8 KB per key.
const Q_WINDOW: u32 = 7;
const Q_ODD: usize = 1 << (Q_WINDOW - 2);

/// Odd multiples `P, 3P, 5P, …` of `2^(PART_BITS·k)·P` for each part k,
/// affine (G's: an addition costs less, and they are built once) or
/// projective (a key's: no inversion to build, on the request path).
#[derive(Debug)]
pub(crate) struct Table<Point, const ODD: usize> {
    parts: [[Point; ODD]; SPLIT],
}

impl<Point, const ODD: usize> Table<Point, ODD>
where
    Point: Copy,
    ProjectivePoint: for<'a> AddAssign<&'a Point> + for<'a> SubAssign<&'a Point>,
{
    fn new(point: ProjectivePoint, finish: impl Fn(ProjectivePoint) -> Point) -> Self {
        let mut base = point;
        let parts = core::array::from_fn(|_| {
            let twice = base.double();
            let mut multiple = base;
            let odd: [ProjectivePoint; ODD] = core::array::from_fn(|_| {
                let this = multiple;
                multiple = multiple.add(&twice);
                this
            });
            for _ in 0..PART_BITS {
                base = base.double();
            }
            odd.map(&finish)
        });
        Table { parts }
    }

    /// Adds `digit` times this part's point to `sum` (digits are odd or 0).
    fn add(&self, part: usize, digit: i8, sum: &mut ProjectivePoint) {
        let index = usize::from(digit.unsigned_abs() / 2);
        if let Some(point) = self.parts.get(part).and_then(|odd| odd.get(index)) {
            if digit > 0 {
                *sum += point;
            } else if digit < 0 {
                *sum -= point;
            }
        }
    }
}

/// The tables of one public key, built on its first verification.
pub(crate) type KeyTable = Table<ProjectivePoint, Q_ODD>;

pub(crate) fn key_table(key: &p256::ecdsa::VerifyingKey) -> KeyTable {
    Table::new(key.as_affine().into(), |point| point)
}

fn generator_table() -> &'static Table<AffinePoint, G_ODD> {
    static TABLE: OnceLock<Table<AffinePoint, G_ODD>> = OnceLock::new();
    TABLE.get_or_init(|| Table::new(ProjectivePoint::GENERATOR, |point| point.to_affine()))
}

/// Checks a raw `r || s` ES256 signature of `message` against the key whose
/// tables these are. r and s must be in [1, n-1]; high-S is accepted, as
/// p256's verifier does.
pub(crate) fn verify(table: &KeyTable, message: &[u8], signature: &[u8]) -> bool {
    let Some((r, s)) = scalars(signature) else {
        return false;
    };
    let hash = <sha2::Sha256 as sha2::Digest>::digest(message);
    let e = <Scalar as Reduce<U256>>::reduce_bytes(&hash);
    let Some(s_inverse) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false;
    };
    let (u1, u2) = (e * s_inverse, r * s_inverse);
    let (g_digits, q_digits) = (naf_parts(&u1, G_WINDOW), naf_parts(&u2, Q_WINDOW));
    let generator = generator_table();
    let mut sum = ProjectivePoint::IDENTITY;
    for position in (0..DIGITS).rev() {
        sum = sum.double();
        for part in 0..SPLIT {
            let digit = |digits: &[[i8; DIGITS]; SPLIT]| {
                digits
                    .get(part)
                    .and_then(|d| d.get(position))
                    .copied()
                    .unwrap_or(0)
            };
            generator.add(part, digit(&g_digits), &mut sum);
            table.add(part, digit(&q_digits), &mut sum);
        }
    }
    if bool::from(sum.is_identity()) {
        return false;
    }
    // r is the x coordinate of the sum, reduced mod n.
    <Scalar as Reduce<U256>>::reduce_bytes(&sum.to_affine().x()) == r
}

/// r and s of a 64-byte signature, each in [1, n-1].
fn scalars(signature: &[u8]) -> Option<(Scalar, Scalar)> {
    let (r, s) = signature.split_at_checked(32)?;
    if s.len() != 32 {
        return None;
    }
    let scalar = |bytes: &[u8]| {
        Option::<Scalar>::from(Scalar::from_repr(*FieldBytes::from_slice(bytes)))
            .filter(|value| !bool::from(value.is_zero()))
    };
    Some((scalar(r)?, scalar(s)?))
}

/// The width-`window` NAF digits of each 64-bit part of `scalar`, least
/// significant digit first.
fn naf_parts(scalar: &Scalar, window: u32) -> [[i8; DIGITS]; SPLIT] {
    const PART_BYTES: usize = PART_BITS / 8;
    let bytes = scalar.to_bytes();
    core::array::from_fn(|part| {
        // Big-endian bytes: part 0 is the last ones.
        let end = bytes.len() - part * PART_BYTES;
        let limb = bytes.get(end - PART_BYTES..end).map_or(0, |b| {
            b.iter()
                .fold(0u64, |value, byte| value << 8 | u64::from(*byte))
        });
        naf(limb, window)
    })
}

fn naf(limb: u64, window: u32) -> [i8; DIGITS] {
    let width = 1i128 << window;
    let mut value = i128::from(limb);
    let mut digits = [0i8; DIGITS];
    for digit in digits.iter_mut() {
        if value == 0 {
            break;
        }
        if value & 1 == 1 {
            let low = value & (width - 1);
            let signed = if low >= width / 2 { low - width } else { low };
            // |signed| < 2^(window-1) <= 128: it fits.
            *digit = i8::try_from(signed).unwrap_or(0);
            value -= signed;
        }
        value >>= 1;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naf_digits_add_up_to_the_limb_and_are_odd_and_sparse() {
        let max = u64::MAX >> (64 - PART_BITS);
        for limb in [0, 1, 2, 127, 128, 255, max, max - 1, max / 2 + 2] {
            for window in [G_WINDOW, Q_WINDOW] {
                let digits = naf(limb, window);
                let sum: i128 = digits
                    .iter()
                    .enumerate()
                    .map(|(i, d)| i128::from(*d) << i)
                    .sum();
                assert_eq!(sum, i128::from(limb), "{limb:#x} w{window}");
                let nonzero: Vec<usize> = (0..DIGITS).filter(|&i| digits[i] != 0).collect();
                assert!(nonzero.iter().all(|&i| digits[i] % 2 != 0));
                assert!(nonzero.windows(2).all(|p| p[1] - p[0] >= window as usize));
            }
        }
    }

    #[test]
    fn the_chain_computes_u1_g_plus_u2_q() {
        let q = ProjectivePoint::GENERATOR * Scalar::from(7u64);
        let table = key_table(&p256::ecdsa::VerifyingKey::from_affine(q.to_affine()).unwrap());
        for (u1, u2) in [(3u64, 5u64), (u64::MAX, 1), (0, 9)] {
            let (u1, u2) = (
                Scalar::from(u1) * Scalar::from(u64::MAX) * Scalar::from(u64::MAX),
                Scalar::from(u2).invert().unwrap_or(Scalar::ZERO),
            );
            let (g, k) = (naf_parts(&u1, G_WINDOW), naf_parts(&u2, Q_WINDOW));
            let mut sum = ProjectivePoint::IDENTITY;
            for position in (0..DIGITS).rev() {
                sum = sum.double();
                for part in 0..SPLIT {
                    generator_table().add(part, g[part][position], &mut sum);
                    table.add(part, k[part][position], &mut sum);
                }
            }
            assert_eq!(sum, ProjectivePoint::GENERATOR * u1 + q * u2);
        }
    }
}
