//! Float literals of MIL text: printing fp16/fp32 values as C99 hexadecimal floats in the style of
//! Apple's compiler (`0x1.5p-17`, `-0x1.388p+13`, `0x0p+0`, `inf`, `nan`) and parsing decimal and
//! hexadecimal literals into fp16/fp32 with correct round-to-nearest-even.
//!
//! Rounding is done here, on exact integers, rather than through `half`'s conversions: a decimal
//! literal parsed to f64 and then rounded to fp16 can round twice (a decimal just above an fp16
//! midpoint can land exactly on the midpoint in f64, and ties-to-even then goes the wrong way). The
//! parser detects that case and settles it by comparing the decimal digits with the midpoint exactly.

use half::f16;
use std::cmp::Ordering;
use std::fmt::Write;

/// An IEEE binary interchange format, described by its field widths.
#[derive(Debug, Clone, Copy)]
struct Format {
    frac_bits: u32,
    exp_bits: u32,
}

const FP16: Format = Format {
    frac_bits: 10,
    exp_bits: 5,
};
const FP32: Format = Format {
    frac_bits: 23,
    exp_bits: 8,
};

impl Format {
    fn bias(self) -> i64 {
        (1 << (self.exp_bits - 1)) - 1
    }
    /// Exponent of the smallest normal number.
    fn emin(self) -> i64 {
        1 - self.bias()
    }
    /// Exponent of the largest finite number.
    fn emax(self) -> i64 {
        self.bias()
    }
    fn exp_mask(self) -> u64 {
        (1 << self.exp_bits) - 1
    }
    fn frac_mask(self) -> u64 {
        (1 << self.frac_bits) - 1
    }
    fn sign_bit(self) -> u64 {
        1 << (self.exp_bits + self.frac_bits)
    }
    fn inf_bits(self) -> u64 {
        self.exp_mask() << self.frac_bits
    }
    /// The canonical quiet NaN (what `nan` parses to).
    fn nan_bits(self) -> u64 {
        self.inf_bits() | (1 << (self.frac_bits - 1))
    }
}

/// Prints an fp16 value the way Apple's compiler does (C99 `%a` of the exact value).
#[cfg(test)]
pub fn format_f16(v: f16) -> String {
    let mut s = String::new();
    write_f16(&mut s, v);
    s
}

/// Prints an fp32 value the way Apple's compiler does (C99 `%a` of the exact value).
#[cfg(test)]
pub fn format_f32(v: f32) -> String {
    let mut s = String::new();
    write_f32(&mut s, v);
    s
}

/// Appends an fp16 value to `out` as a C99 hex float (`0x1.5p-17`), `inf`, `-inf` or `nan`.
pub fn write_f16(out: &mut String, v: f16) {
    write_bits(out, u64::from(v.to_bits()), FP16);
}

/// Appends an fp32 value to `out` as a C99 hex float, `inf`, `-inf` or `nan`.
pub fn write_f32(out: &mut String, v: f32) {
    write_bits(out, u64::from(v.to_bits()), FP32);
}

fn write_bits(out: &mut String, bits: u64, fmt: Format) {
    let exp_field = (bits >> fmt.frac_bits) & fmt.exp_mask();
    let frac = bits & fmt.frac_mask();
    if exp_field == fmt.exp_mask() && frac != 0 {
        out.push_str("nan");
        return;
    }
    if bits & fmt.sign_bit() != 0 {
        out.push('-');
    }
    if exp_field == fmt.exp_mask() {
        out.push_str("inf");
        return;
    }
    if exp_field == 0 && frac == 0 {
        out.push_str("0x0p+0");
        return;
    }
    // value = m · 2^e with m an integer; subnormals are printed normalized, like %a of a double.
    let (m, e) = if exp_field == 0 {
        (frac, fmt.emin() - i64::from(fmt.frac_bits))
    } else {
        (
            frac | (1 << fmt.frac_bits),
            exp_field as i64 - fmt.bias() - i64::from(fmt.frac_bits),
        )
    };
    let top = 63 - m.leading_zeros(); // index of the leading one
    let exponent = e + i64::from(top);
    let mut rest = m ^ (1 << top); // the bits after the leading one, `top` of them
    let mut digits = top.div_ceil(4);
    rest <<= digits * 4 - top;
    while digits > 0 && rest & 0xF == 0 {
        rest >>= 4;
        digits -= 1;
    }
    // Writing to a String cannot fail.
    let _ = if digits == 0 {
        write!(out, "0x1p{exponent:+}")
    } else {
        write!(
            out,
            "0x1.{rest:0width$x}p{exponent:+}",
            width = digits as usize
        )
    };
}

/// Parses a float literal into fp16. `text` is one number token without its sign (`0.125`,
/// `1e-05`, `.5`, `0x1.5p-17`, `inf`, `nan`); `negative` says whether a `-` preceded it.
pub fn parse_f16(text: &str, negative: bool) -> Result<f16, String> {
    let bits = parse_bits(text, negative, FP16)?;
    Ok(f16::from_bits(bits as u16))
}

/// Parses a float literal into fp32; see [`parse_f16`].
pub fn parse_f32(text: &str, negative: bool) -> Result<f32, String> {
    let bits = parse_bits(text, negative, FP32)?;
    Ok(f32::from_bits(bits as u32))
}

fn parse_bits(text: &str, negative: bool, fmt: Format) -> Result<u64, String> {
    let sign = if negative { fmt.sign_bit() } else { 0 };
    let magnitude = match text {
        "inf" => fmt.inf_bits(),
        // NaN has one spelling, so its sign and payload are not kept.
        "nan" => return Ok(fmt.nan_bits()),
        _ => {
            if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                let h = parse_hex(hex).ok_or_else(|| bad_float(text))?;
                round_magnitude(fmt, h.mantissa, h.exp2, h.residual).bits
            } else {
                let d = parse_decimal(text).ok_or_else(|| bad_float(text))?;
                round_decimal(fmt, text, &d)
            }
        }
    };
    Ok(sign | magnitude)
}

fn bad_float(text: &str) -> String {
    format!(
        "invalid float literal '{text}' (expected a decimal such as 0.125 or 1e-05, a C99 hex float such as 0x1.5p-17, inf or nan)"
    )
}

/// A hex float's value: `mantissa · 2^exp2`, plus whether nonzero digits were dropped.
struct HexParts {
    mantissa: u64,
    exp2: i64,
    residual: Ordering,
}

/// Exponents beyond this are far outside every format; clamping keeps the arithmetic in range.
const EXP_CLAMP: i64 = 1 << 40;

/// Parses `HHH[.HHH][p[+-]DDD]` (the part after `0x`); `p` is optional, as with C's `strtod`.
fn parse_hex(s: &str) -> Option<HexParts> {
    let (digits, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match digits.find('.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut exp2: i64 = 0;
    let mut residual = Ordering::Equal;
    for (i, c) in int_part.chars().chain(frac_part.chars()).enumerate() {
        let d = u64::from(c.to_digit(16)?);
        let in_fraction = i >= int_part.len();
        if mantissa >> 60 == 0 {
            mantissa = mantissa * 16 + d;
            if in_fraction {
                exp2 -= 4;
            }
        } else {
            // Out of room: later digits only make the value slightly larger (sticky), and
            // integer digits still scale it.
            if d != 0 {
                residual = Ordering::Greater;
            }
            if !in_fraction {
                exp2 = exp2.saturating_add(4);
            }
        }
    }
    if let Some(e) = exp {
        exp2 = exp2.saturating_add(parse_exponent(e)?);
    }
    Some(HexParts {
        mantissa,
        exp2: exp2.clamp(-EXP_CLAMP, EXP_CLAMP),
        residual,
    })
}

/// Parses `[+-]DDD` into a saturated exponent.
fn parse_exponent(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = (v * 10 + i64::from(b - b'0')).min(EXP_CLAMP);
    }
    Some(if neg { -v } else { v })
}

/// A decimal literal as `digits · 10^exp10` (digits without leading zeros; empty means zero).
struct DecimalParts {
    digits: String,
    exp10: i64,
}

/// Parses `DDD[.DDD][e[+-]DDD]`, `.DDD` or `DDD.` (at least one digit).
fn parse_decimal(s: &str) -> Option<DecimalParts> {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return None;
    }
    let exp = match exp {
        Some(e) => parse_exponent(e)?,
        None => 0,
    };
    let digits: String = int_part.chars().chain(frac_part.chars()).collect();
    Some(DecimalParts {
        digits: digits.trim_start_matches('0').to_string(),
        exp10: exp - frac_part.len() as i64,
    })
}

/// Correctly rounds a decimal literal into `fmt`.
fn round_decimal(fmt: Format, text: &str, d: &DecimalParts) -> u64 {
    if fmt.frac_bits == FP32.frac_bits {
        // The standard library's parser rounds correctly, directly to f32.
        return text
            .parse::<f32>()
            .map_or(fmt.nan_bits(), |v| u64::from(v.to_bits()));
    }
    // Round to f64 first (correct), then to fp16. The only case where that differs from rounding
    // once is when the f64 lands exactly on an fp16 midpoint: fp16 midpoints are f64 values, so
    // otherwise the decimal and its f64 lie on the same side of every midpoint.
    let x = text.parse::<f64>().unwrap_or(f64::NAN);
    if !x.is_finite() {
        return fmt.inf_bits();
    }
    let (mantissa, exp2) = f64_parts(x);
    let first = round_magnitude(fmt, mantissa, exp2, Ordering::Equal);
    if !first.tie {
        return first.bits;
    }
    match exact_decimal(mantissa, exp2) {
        Some((mid_digits, mid_exp)) => {
            let side = compare_decimal(&d.digits, d.exp10, &mid_digits, mid_exp);
            round_magnitude(fmt, mantissa, exp2, side).bits
        }
        // Not reachable for fp16 midpoints (they need at most 12 bits and 5^25); keep the
        // ties-to-even result rather than fail.
        None => first.bits,
    }
}

/// `x = mantissa · 2^exp2` for a finite, non-negative f64.
fn f64_parts(x: f64) -> (u64, i64) {
    let bits = x.to_bits();
    let exp_field = ((bits >> 52) & 0x7FF) as i64;
    let frac = bits & ((1 << 52) - 1);
    if exp_field == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp_field - 1075)
    }
}

/// The exact decimal expansion of `mantissa · 2^exp2` as `(digits, exp10)`, if it fits in u128.
fn exact_decimal(mantissa: u64, exp2: i64) -> Option<(String, i64)> {
    let tz = mantissa.trailing_zeros();
    let m = u128::from(mantissa >> tz);
    let e = exp2 + i64::from(tz);
    if e >= 0 {
        let shift = u32::try_from(e).ok()?;
        let n = m.checked_mul(1u128.checked_shl(shift)?)?;
        Some((n.to_string(), 0))
    } else {
        let five = 5u128.checked_pow(u32::try_from(-e).ok()?)?;
        Some((m.checked_mul(five)?.to_string(), e))
    }
}

/// Compares `a_digits · 10^a_exp` with `b_digits · 10^b_exp` (non-negative decimals).
fn compare_decimal(a_digits: &str, a_exp: i64, b_digits: &str, b_exp: i64) -> Ordering {
    let a = a_digits.trim_start_matches('0');
    let b = b_digits.trim_start_matches('0');
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    // Order of magnitude first, then the significant digits (a shorter prefix is smaller).
    let a_mag = a.len() as i64 + a_exp;
    let b_mag = b.len() as i64 + b_exp;
    a_mag
        .cmp(&b_mag)
        .then_with(|| a.trim_end_matches('0').cmp(b.trim_end_matches('0')))
}

/// The result of rounding a magnitude into a format.
struct Rounded {
    /// The encoded magnitude (no sign bit).
    bits: u64,
    /// True when the dropped bits were exactly half an ulp, so `residual` decided the result.
    tie: bool,
}

/// Rounds `mantissa · 2^exp2` (nudged by `residual`, an infinitesimal below/above) to the nearest
/// value of `fmt`, ties to even; overflow gives infinity, underflow zero or a subnormal.
fn round_magnitude(fmt: Format, mantissa: u64, exp2: i64, residual: Ordering) -> Rounded {
    if mantissa == 0 {
        return Rounded {
            bits: 0,
            tie: false,
        };
    }
    let fb = i64::from(fmt.frac_bits);
    let top_exp = exp2 + 63 - i64::from(mantissa.leading_zeros());
    if top_exp > fmt.emax() {
        return Rounded {
            bits: fmt.inf_bits(),
            tie: false,
        };
    }
    // The exponent of the last kept bit: p bits for normals, fixed for subnormals.
    let mut quantum = top_exp.max(fmt.emin()) - fb;
    let shift = quantum - exp2;
    let (mut kept, dropped_vs_half) = if shift <= 0 {
        // Exact (at most frac_bits + 1 bits after the shift).
        (mantissa << (-shift), None)
    } else if shift > 64 {
        (0, Some(Ordering::Less))
    } else if shift == 64 {
        (0, Some(mantissa.cmp(&(1 << 63))))
    } else {
        let dropped = mantissa & ((1u64 << shift) - 1);
        (mantissa >> shift, Some(dropped.cmp(&(1u64 << (shift - 1)))))
    };
    let tie = dropped_vs_half == Some(Ordering::Equal);
    let round_up = match dropped_vs_half {
        None | Some(Ordering::Less) => false,
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => match residual {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => kept & 1 == 1,
        },
    };
    if round_up {
        kept += 1;
        if kept == 1 << (fb + 1) {
            kept >>= 1;
            quantum += 1;
        }
    }
    let bits = if kept < 1 << fb {
        kept // subnormal or zero: biased exponent 0
    } else {
        let exponent = quantum + fb;
        if exponent > fmt.emax() {
            fmt.inf_bits()
        } else {
            (((exponent + fmt.bias()) as u64) << fmt.frac_bits) | (kept & fmt.frac_mask())
        }
    };
    Rounded { bits, tie }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(bits: u16) -> f16 {
        f16::from_bits(bits)
    }

    #[test]
    fn formats_like_apple() {
        assert_eq!(format_f16(h(0x00A8)), "0x1.5p-17");
        assert_eq!(format_f16(f16::ONE), "0x1p+0");
        assert_eq!(format_f16(f16::from_f32(-5000.0)), "-0x1.388p+12");
        assert_eq!(format_f16(f16::from_f32(-10000.0)), "-0x1.388p+13");
        assert_eq!(format_f16(f16::ZERO), "0x0p+0");
        assert_eq!(format_f16(f16::NEG_ZERO), "-0x0p+0");
        assert_eq!(format_f16(h(0x0001)), "0x1p-24");
        assert_eq!(format_f16(f16::MAX), "0x1.ffcp+15");
        assert_eq!(format_f16(f16::INFINITY), "inf");
        assert_eq!(format_f16(f16::NEG_INFINITY), "-inf");
        assert_eq!(format_f16(f16::NAN), "nan");
        assert_eq!(format_f32(f32::from_bits(1)), "0x1p-149");
        assert_eq!(format_f32(1.0e-8), "0x1.5798eep-27");
        assert_eq!(format_f32(0.1), "0x1.99999ap-4");
        assert_eq!(format_f32(-2.5), "-0x1.4p+1");
    }

    #[test]
    fn parses_decimal_hex_and_specials() {
        assert_eq!(parse_f16("0.125", false).unwrap(), f16::from_f32(0.125));
        assert_eq!(parse_f16("1", true).unwrap(), f16::from_f32(-1.0));
        assert_eq!(parse_f16("1e-05", false).unwrap().to_bits(), 0x00A8);
        assert_eq!(parse_f16(".5", false).unwrap(), f16::from_f32(0.5));
        assert_eq!(parse_f16("2.", false).unwrap(), f16::from_f32(2.0));
        assert_eq!(parse_f16("0x1p-3", false).unwrap(), f16::from_f32(0.125));
        assert_eq!(parse_f16("0x10", false).unwrap(), f16::from_f32(16.0));
        assert_eq!(parse_f16("0x.8p1", false).unwrap(), f16::ONE);
        assert_eq!(parse_f16("inf", true).unwrap(), f16::NEG_INFINITY);
        assert!(parse_f16("nan", true).unwrap().is_nan());
        assert_eq!(parse_f16("0", true).unwrap().to_bits(), 0x8000);
        assert_eq!(parse_f16("65504", false).unwrap(), f16::MAX);
        assert_eq!(parse_f16("65519.99", false).unwrap(), f16::MAX);
        assert_eq!(parse_f16("65520", false).unwrap(), f16::INFINITY);
        assert_eq!(
            parse_f16("1e999999999999999999", false).unwrap(),
            f16::INFINITY
        );
        assert_eq!(
            parse_f16("1e-999999999999999999", false).unwrap(),
            f16::ZERO
        );
        assert_eq!(parse_f32("0x1.5798eep-27", false).unwrap(), 1.0e-8);
        assert_eq!(parse_f32("0x1p-150", false).unwrap(), 0.0); // tie to even
        assert_eq!(
            parse_f32("0x1.0000000001p-150", false).unwrap(),
            f32::from_bits(1)
        );
        assert_eq!(parse_f32("0x1.000001p+0", false).unwrap(), 1.0); // tie to even
        assert_eq!(
            parse_f32("0x1.0000010000000000000000001p+0", false).unwrap(),
            1.0 + f32::EPSILON
        );
        assert_eq!(parse_f32("0x1ffffff", false).unwrap(), 33554432.0);
        assert_eq!(parse_f32("0x1p+128", false).unwrap(), f32::INFINITY);
    }

    #[test]
    fn rejects_bad_literals() {
        for bad in [
            "", ".", "0x", "0x.", "0x1.g", "0x1p", "0x1p+", "1e", "1e+", "1.2.3", "1x", "0x1q3",
            "--1", "1_0", "infinity", "0x1p1.5",
        ] {
            assert!(parse_f16(bad, false).is_err(), "{bad:?} should be rejected");
            assert!(parse_f32(bad, false).is_err(), "{bad:?} should be rejected");
        }
    }

    /// The exact decimal expansion of an f64, from the standard library's exact formatter.
    fn exact(x: f64) -> String {
        let s = format!("{x:.80}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }

    /// Decimal text just above `s`, an exact decimal.
    fn just_above(s: &str) -> String {
        let dot = if s.contains('.') { "" } else { "." };
        format!("{s}{dot}00000000000000000000001")
    }

    /// Decimal text just below `s`, an exact decimal without trailing zeros after its point.
    fn just_below(s: &str) -> String {
        if !s.contains('.') {
            let n: u64 = s.parse().unwrap();
            return format!("{}.99999999999999999999999", n - 1);
        }
        let mut b = s.as_bytes().to_vec();
        let last = b.len() - 1;
        b[last] -= 1;
        format!("{}99999999999999999999999", String::from_utf8(b).unwrap())
    }

    #[test]
    fn decimal_to_fp16_is_correctly_rounded_at_every_midpoint() {
        // Every midpoint between adjacent non-negative fp16 values, plus the overflow threshold.
        for lo in 0u16..0x7C00 {
            let a = h(lo).to_f64();
            let b = if lo == 0x7BFF {
                65536.0
            } else {
                h(lo + 1).to_f64()
            };
            let mid = (a + b) / 2.0;
            let text = exact(mid);
            let above = just_above(&text);
            let below = just_below(&text);
            let even = if lo & 1 == 0 { lo } else { lo + 1 };
            let up = lo + 1; // 0x7C00 is +inf
            assert_eq!(parse_f16(&text, false).unwrap().to_bits(), even, "{text}");
            assert_eq!(parse_f16(&above, false).unwrap().to_bits(), up, "{above}");
            assert_eq!(parse_f16(&below, false).unwrap().to_bits(), lo, "{below}");
            assert_eq!(parse_f16(&above, true).unwrap().to_bits(), up | 0x8000);
        }
    }
}
