//! Tests of the chip table: brand parsing, per-family values, dialect overrides.

use super::*;
use crate::program::Dialect;

#[test]
fn brand_strings_parse_to_family_and_tier() {
    let cases = [
        ("Apple M1", ChipFamily::M1, ChipTier::Base),
        ("Apple M1 Pro", ChipFamily::M1, ChipTier::Pro),
        ("Apple M2 Max", ChipFamily::M2, ChipTier::Max),
        ("Apple M3 Ultra", ChipFamily::M3, ChipTier::Ultra),
        ("Apple M4 Pro", ChipFamily::M4, ChipTier::Pro),
        ("Apple M5", ChipFamily::M5, ChipTier::Base),
        ("Apple M2 (Virtual)", ChipFamily::M2, ChipTier::Base),
        ("Apple M7 Max", ChipFamily::Newer(7), ChipTier::Max),
        (
            "Apple M4 Turbo",
            ChipFamily::M4,
            ChipTier::Other("Turbo".into()),
        ),
    ];
    for (brand, family, tier) in cases {
        assert_eq!(parse_brand_string(brand), Some((family, tier)), "{brand}");
    }
}

#[test]
fn non_m_series_brands_are_rejected() {
    for brand in [
        "",
        "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
        "Apple",
        "Apple A18 Pro",
        "Apple M",
        "Apple M0",
        "Apple Mx",
        "apple m4",
        "Apple processor",
    ] {
        assert_eq!(parse_brand_string(brand), None, "{brand:?}");
    }
}

#[test]
fn m1_to_m3_use_ios16_and_the_small_axis_cap() {
    for family in [ChipFamily::M1, ChipFamily::M2, ChipFamily::M3] {
        let caps = family.caps();
        assert_eq!(caps.dialect, Dialect::Ios16, "{family}");
        assert_eq!(caps.max_axis_size, 16_384, "{family}");
    }
}

#[test]
fn m4_and_later_use_ios18_and_the_large_axis_cap() {
    for family in [ChipFamily::M4, ChipFamily::M5, ChipFamily::Newer(6)] {
        let caps = family.caps();
        assert_eq!(caps.dialect, Dialect::Ios18, "{family}");
        assert_eq!(caps.max_axis_size, 65_536, "{family}");
        assert!(caps.supports_cast);
    }
}

#[test]
fn every_family_aligns_surfaces_to_128_bytes_and_reports_the_compile_limit() {
    for n in 1..=8 {
        let caps = ChipFamily::from_generation(n).unwrap().caps();
        assert_eq!(caps.surface_alignment, 128);
        assert_eq!(caps.compile_limit, 119);
    }
    assert_eq!(ChipFamily::from_generation(0), None);
}

#[test]
fn cast_is_marked_unsupported_on_m1_and_m2_only() {
    assert!(!ChipFamily::M1.caps().supports_cast);
    assert!(!ChipFamily::M2.caps().supports_cast);
    assert!(ChipFamily::M3.caps().supports_cast);
}

#[test]
fn shape_check_names_the_offending_axis() {
    let caps = ChipFamily::M3.caps();
    assert!(caps.check_shape(&[1, 16_384, 1, 64]).is_ok());
    let err = caps.check_shape(&[1, 32_000, 1, 64]).unwrap_err();
    assert!(err.contains("axis 1") && err.contains("16384"), "{err}");
    assert!(ChipFamily::M4
        .caps()
        .check_shape(&[1, 32_000, 1, 64])
        .is_ok());
    assert!(ChipFamily::M4
        .caps()
        .check_shape(&[1, 151_936, 1, 1])
        .is_err());
}

#[test]
fn dialect_names_parse_case_insensitively() {
    assert_eq!(parse_dialect("ios16"), Ok(Dialect::Ios16));
    assert_eq!(parse_dialect(" IOS18 "), Ok(Dialect::Ios18));
    let err = parse_dialect("ios17").unwrap_err();
    assert!(err.contains("ios16, ios18"), "{err}");
}

#[test]
fn chip_info_applies_the_dialect_override() {
    let info = ChipInfo::from_brand("Apple M4 Pro", Some("h16g".into()), None).unwrap();
    assert_eq!(info.caps.dialect, Dialect::Ios18);
    assert_eq!(info.dialect_source, DialectSource::Chip);
    assert_eq!(info.ane_subtype.as_deref(), Some("h16g"));

    let forced = ChipInfo::from_brand("Apple M4 Pro", None, Some(Dialect::Ios16)).unwrap();
    assert_eq!(forced.caps.dialect, Dialect::Ios16);
    assert_eq!(forced.dialect_source, DialectSource::Override);
    assert_eq!(forced.caps.max_axis_size, 65_536);

    let err = ChipInfo::from_brand("Intel(R) Xeon(R)", None, None).unwrap_err();
    assert!(err.contains("Apple M-series"), "{err}");
}

#[test]
fn per_op_limits_follow_the_references() {
    let m1 = ChipFamily::M1.caps();
    let m4 = ChipFamily::M4.caps();
    let m5 = ChipFamily::M5.caps();
    for caps in [m1, m4, m5] {
        assert_eq!(caps.matmul_inner_multiple, 32);
        assert_eq!(caps.max_pool_window, 13);
        assert_eq!(caps.max_pool_stride, 2);
        assert!(!caps.conv_runtime_weights);
    }
    assert_eq!(m1.max_conv_kernel_width, 13);
    assert_eq!(m5.max_conv_kernel_width, 15);
    assert_eq!(m1.max_slice_width_offset, Some(4094));
    assert_eq!(ChipFamily::M3.caps().max_slice_width_offset, None);
    assert_eq!(m4.family, ChipFamily::M4);
}

#[test]
fn matmul_inner_dims_pad_to_the_next_multiple() {
    let caps = ChipFamily::M4.caps();
    assert!(caps.check_matmul_inner(64).is_ok());
    let err = caps.check_matmul_inner(784).unwrap_err();
    assert!(err.contains("784") && err.contains("32"), "{err}");
    assert_eq!(caps.padded_matmul_inner(784), 800);
    assert_eq!(caps.padded_matmul_inner(16), 32);
    assert_eq!(caps.padded_matmul_inner(64), 64);
}

#[test]
fn every_rule_has_an_id_and_a_source() {
    let mut ids = std::collections::HashSet::new();
    for rule in Rule::ALL {
        assert!(ids.insert(rule.id()), "duplicate id {}", rule.id());
        assert!(!rule.source().is_empty());
    }
    assert_eq!(Rule::AxisSize.enforcement(), Enforcement::Reject);
    assert_eq!(
        Rule::SoftmaxNonPowerOfTwo.enforcement(),
        Enforcement::Advisory
    );
}

#[test]
fn op_support_names_the_rule_that_rejects() {
    let m1 = ChipFamily::M1.caps();
    let m4 = ChipFamily::M4.caps();
    assert_eq!(
        ane_op_support("matmul", &m1).unwrap().evidence,
        Evidence::Verified
    );
    assert_eq!(ane_op_support("cast", &m1).unwrap_err().0, Rule::Cast);
    assert!(ane_op_support("cast", &m4).is_ok());
    assert_eq!(
        ane_op_support("gather", &m4).unwrap_err().0,
        Rule::IntegerTensor
    );
    assert_eq!(
        ane_op_support("reduce_mean", &m4).unwrap_err().0,
        Rule::ReduceMean
    );
    assert_eq!(ane_op_support("lstm", &m4).unwrap_err().0, Rule::OpSet);
}
