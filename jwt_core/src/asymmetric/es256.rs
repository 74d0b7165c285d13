//! ES256 verification in one chain of doublings (crypto review, "Speed").
//!
//! p256 0.13 verifies `u1·G + u2·Q` as two separate constant-time scalar
//! multiplications (about 512 doublings and 2,000 table selects), which made
//! ES256 cost 178 µs natively and 0.8 ms in the wasm filter. Every input of
//! a verification is public (the token, the key), so variable time is safe
//! here; signing stays with p256's constant-time code.
//!
//! Each scalar is cut into [`SPLIT`] parts of [`PART_BITS`] bits, and each
//! point `P` gets a table of odd multiples of `2^(32k)·P` for each part k:
//! the sum of the eight products then needs 33 doublings, with a few
//! additions per part, written in width-w NAF (the digits are odd and
//! sparse). The tables are built once (G's per process, a key's on its
//! first verification) and made affine with one inversion per part. The
//! arithmetic is Jacobian coordinates on p256's field elements, with the usual shortcuts (a = -3 doubling,
//! mixed addition) and their exceptions handled explicitly: the identity,
//! and an addition of a point to itself or to its negation. It ends without
//! an inversion: r is compared with X/Z² as r·Z² = X.

use std::sync::OnceLock;

use p256::elliptic_curve::bigint::CheckedAdd as _;
use p256::elliptic_curve::ops::{Invert as _, Reduce};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::elliptic_curve::{Curve as _, Field as _, PrimeField as _};
use p256::{AffinePoint, FieldBytes, FieldElement, NistP256, Scalar, U256};

/// Parts per scalar, and their bits: 33 doublings (the review measured
/// 48.7 µs natively and 171 µs in wasm with these sizes).
const SPLIT: usize = 8;
const PART_BITS: usize = 32;
/// Digits of a part in NAF form (one more than its bits).
const DIGITS: usize = PART_BITS + 1;

/// Window of G's table: 64 odd multiples per part, 32 KB in all, once.
const G_WINDOW: u32 = 8;
const G_ODD: usize = 1 << (G_WINDOW - 2);
/// Window of a key's table: 32 odd multiples per part, 16 KB per key.
const Q_WINDOW: u32 = 7;
const Q_ODD: usize = 1 << (Q_WINDOW - 2);

/// A point `(x, y)` of a table (never the identity: the multiples of a
/// point of prime order below the order are not).
#[derive(Clone, Copy, Debug)]
struct Affine {
    x: FieldElement,
    y: FieldElement,
}

/// `(X/Z², Y/Z³)`; the identity when Z = 0.
#[derive(Clone, Copy, Debug)]
struct Jacobian {
    x: FieldElement,
    y: FieldElement,
    z: FieldElement,
}

impl Jacobian {
    const IDENTITY: Jacobian = Jacobian {
        x: FieldElement::ONE,
        y: FieldElement::ONE,
        z: FieldElement::ZERO,
    };

    fn is_identity(&self) -> bool {
        bool::from(self.z.is_zero())
    }

    /// dbl-2001-b (a = -3). The identity doubles to itself (Z stays 0), and
    /// P-256 has no point of order 2.
    fn double(&self) -> Jacobian {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t.double() + t;
        let beta4 = beta.double().double();
        let x = alpha.square() - beta4.double();
        let z = (self.y + self.z).square() - gamma - delta;
        let y = alpha * (beta4 - x) - gamma.square().double().double().double();
        Jacobian { x, y, z }
    }

    /// madd-2007-bl: this point plus `(x, y)`, or minus it when `negate`.
    fn add(&self, point: &Affine, negate: bool) -> Jacobian {
        let y2 = if negate { -point.y } else { point.y };
        if self.is_identity() {
            return Jacobian {
                x: point.x,
                y: y2,
                z: FieldElement::ONE,
            };
        }
        let z1z1 = self.z.square();
        let h = point.x * z1z1 - self.x;
        let r = (y2 * self.z * z1z1 - self.y).double();
        if bool::from(h.is_zero()) {
            // The same x: the same point (double it) or its negation.
            return if bool::from(r.is_zero()) {
                self.double()
            } else {
                Self::IDENTITY
            };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let v = self.x * i;
        let x = r.square() - j - v.double();
        let y = r * (v - x) - (self.y * j).double();
        let z = (self.z + h).square() - z1z1 - hh;
        Jacobian { x, y, z }
    }
}

/// Odd multiples `P, 3P, 5P, …` of `2^(PART_BITS·k)·P` for each part k.
#[derive(Debug)]
pub(crate) struct Table<const ODD: usize> {
    parts: [[Affine; ODD]; SPLIT],
}

impl<const ODD: usize> Table<ODD> {
    fn new(point: &AffinePoint) -> Self {
        let mut base = Jacobian::from(coordinates(point));
        let parts = core::array::from_fn(|_| {
            let twice = normalize(&[base.double()]);
            let mut multiple = base;
            let odd: [Jacobian; ODD] = core::array::from_fn(|_| {
                let this = multiple;
                if let Some(twice) = twice.first() {
                    multiple = multiple.add(twice, false);
                }
                this
            });
            for _ in 0..PART_BITS {
                base = base.double();
            }
            normalize(&odd)
        });
        Table { parts }
    }

    /// Adds `digit` times this part's point to `sum` (digits are odd or 0).
    fn add(&self, part: usize, digit: i8, sum: &mut Jacobian) {
        let index = usize::from(digit.unsigned_abs() / 2);
        if digit != 0 {
            if let Some(point) = self.parts.get(part).and_then(|odd| odd.get(index)) {
                *sum = sum.add(point, digit < 0);
            }
        }
    }
}

impl From<Affine> for Jacobian {
    fn from(point: Affine) -> Jacobian {
        Jacobian {
            x: point.x,
            y: point.y,
            z: FieldElement::ONE,
        }
    }
}

/// The affine form of each point (none the identity), with one inversion
/// for all of them (Montgomery's trick).
fn normalize<const N: usize>(points: &[Jacobian; N]) -> [Affine; N] {
    let mut product = FieldElement::ONE;
    let before: [FieldElement; N] = core::array::from_fn(|i| {
        let this = product;
        product *= points.get(i).map_or(FieldElement::ONE, |p| p.z);
        this
    });
    let mut inverse = Option::<FieldElement>::from(product.invert()).unwrap_or(FieldElement::ZERO);
    let mut affine = [Affine {
        x: FieldElement::ZERO,
        y: FieldElement::ZERO,
    }; N];
    for ((point, before), out) in points.iter().zip(before).zip(affine.iter_mut()).rev() {
        let z_inverse = inverse * before;
        inverse *= point.z;
        let z2 = z_inverse.square();
        *out = Affine {
            x: point.x * z2,
            y: point.y * z2 * z_inverse,
        };
    }
    affine
}

fn coordinates(point: &AffinePoint) -> Affine {
    let encoded = point.to_encoded_point(false);
    let field = |bytes: Option<&FieldBytes>| {
        bytes
            .and_then(|b| Option::<FieldElement>::from(FieldElement::from_bytes(b)))
            .unwrap_or(FieldElement::ZERO)
    };
    Affine {
        x: field(encoded.x()),
        y: field(encoded.y()),
    }
}

/// The tables of one public key, built on its first verification.
pub(crate) type KeyTable = Table<Q_ODD>;

pub(crate) fn key_table(key: &p256::ecdsa::VerifyingKey) -> KeyTable {
    Table::new(key.as_affine())
}

fn generator_table() -> &'static Table<G_ODD> {
    static TABLE: OnceLock<Table<G_ODD>> = OnceLock::new();
    TABLE.get_or_init(|| Table::new(&AffinePoint::GENERATOR))
}

/// `u1·G + u2·Q` for the key whose tables these are.
fn linear_combination(table: &KeyTable, u1: &Scalar, u2: &Scalar) -> Jacobian {
    let (g_digits, q_digits) = (naf_parts(u1, G_WINDOW), naf_parts(u2, Q_WINDOW));
    let generator = generator_table();
    let mut sum = Jacobian::IDENTITY;
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
    sum
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
    let sum = linear_combination(table, &(e * s_inverse), &(r * s_inverse));
    if sum.is_identity() {
        return false;
    }
    // x = X/Z² (in [0, p)) reduced mod n must be r: x is r, or r + n when
    // that is below p.
    let z2 = sum.z.square();
    let r_bytes = r.to_bytes();
    let candidates = [
        Option::<FieldElement>::from(FieldElement::from_bytes(&r_bytes)),
        Option::<U256>::from(U256::from_be_slice(&r_bytes).checked_add(&NistP256::ORDER))
            .and_then(|r_plus_n| Option::<FieldElement>::from(FieldElement::from_uint(r_plus_n))),
    ];
    candidates.into_iter().flatten().any(|x| x * z2 == sum.x)
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
    use p256::ProjectivePoint;

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
    fn adding_a_point_to_itself_doubles_it_and_to_its_negation_gives_the_identity() {
        let g = coordinates(&AffinePoint::GENERATOR);
        let two_g = coordinates(&(ProjectivePoint::GENERATOR * Scalar::from(2u64)).to_affine());
        // 2G as a sum, with Z not 1: G + G.
        let sum = Jacobian::from(g).add(&g, false);
        assert!(!sum.is_identity());
        let z = sum.z.invert().unwrap();
        assert_eq!(sum.x * z.square(), two_g.x);
        assert_eq!(sum.y * z.square() * z, two_g.y);
        // (G + G) + 2G is 4G, through the doubling branch; minus 2G is the identity.
        let four_g = coordinates(&(ProjectivePoint::GENERATOR * Scalar::from(4u64)).to_affine());
        let doubled = sum.add(&two_g, false);
        let z = doubled.z.invert().unwrap();
        assert_eq!(doubled.x * z.square(), four_g.x);
        assert!(sum.add(&two_g, true).is_identity());
        assert!(Jacobian::IDENTITY.double().is_identity());
        let from_identity = Jacobian::IDENTITY.add(&g, true);
        assert_eq!(from_identity.y, -g.y);
    }

    #[test]
    fn the_chain_computes_u1_g_plus_u2_q() {
        let q = ProjectivePoint::GENERATOR * Scalar::from(7u64);
        let table = key_table(&p256::ecdsa::VerifyingKey::from_affine(q.to_affine()).unwrap());
        let big = Scalar::from(u64::MAX) * Scalar::from(u64::MAX);
        let seven = Scalar::from(7u64);
        // Sums that meet the exceptions: u1·G = u2·Q (a doubling) and
        // u1·G = -u2·Q (the identity on the way or at the end).
        for (u1, u2) in [
            (
                Scalar::from(3u64) * big,
                Scalar::from(5u64).invert().unwrap(),
            ),
            (Scalar::from(u64::MAX) * big, Scalar::ONE),
            (Scalar::ZERO, Scalar::from(9u64)),
            (seven, Scalar::ONE),
            (seven, -Scalar::ONE),
            (big * seven, big),
            (-(big * seven), big),
        ] {
            let expected = (ProjectivePoint::GENERATOR * u1 + q * u2).to_affine();
            let sum = linear_combination(&table, &u1, &u2);
            if bool::from(expected.is_identity()) {
                assert!(sum.is_identity());
                continue;
            }
            let z = sum.z.invert().unwrap();
            let point = coordinates(&expected);
            assert_eq!(sum.x * z.square(), point.x);
            assert_eq!(sum.y * z.square() * z, point.y);
        }
    }
}
