use super::*;

fn all_kinds() -> Vec<NpyArray> {
    vec![
        NpyArray {
            shape: vec![2, 3],
            data: NpyData::F16(
                [1.0, -2.5, 65504.0, 0.0, f32::INFINITY, 1e-7]
                    .iter()
                    .map(|&v| f16::from_f32(v))
                    .collect(),
            ),
        },
        NpyArray {
            shape: vec![3],
            data: NpyData::F32(vec![1.5, -0.0, f32::NAN]),
        },
        NpyArray {
            shape: vec![],
            data: NpyData::F64(vec![std::f64::consts::PI]),
        },
        NpyArray {
            shape: vec![2, 1, 2],
            data: NpyData::I8(vec![-128, 0, 1, 127]),
        },
        NpyArray {
            shape: vec![1],
            data: NpyData::U8(vec![255]),
        },
        NpyArray {
            shape: vec![2],
            data: NpyData::I16(vec![-30000, 7]),
        },
        NpyArray {
            shape: vec![2],
            data: NpyData::U16(vec![65535, 0]),
        },
        NpyArray {
            shape: vec![0, 4],
            data: NpyData::I32(vec![]),
        },
        NpyArray {
            shape: vec![2],
            data: NpyData::I64(vec![i64::MIN, 5]),
        },
        NpyArray {
            shape: vec![3],
            data: NpyData::Bool(vec![true, false, true]),
        },
    ]
}

#[test]
fn every_type_round_trips_with_an_aligned_header() {
    for a in all_kinds() {
        let bytes = write_npy(&a);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0, "{}", a.data.descr());
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        let back = read_npy(&bytes).unwrap();
        assert_eq!(back.shape, a.shape);
        // NaN != NaN: compare the encodings.
        assert_eq!(write_npy(&back), bytes);
    }
    let text = String::from_utf8_lossy(&write_npy(&all_kinds()[0])[10..]).into_owned();
    assert!(
        text.starts_with("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }"),
        "{text}"
    );
    let scalar = String::from_utf8_lossy(&write_npy(&all_kinds()[2])[10..]).into_owned();
    assert!(scalar.contains("'shape': (), "), "{scalar}");
    let vector = String::from_utf8_lossy(&write_npy(&all_kinds()[1])[10..]).into_owned();
    assert!(vector.contains("'shape': (3,), "), "{vector}");
}

/// A file image with the given version and header text (no padding rules enforced).
fn image(major: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[major, 0]);
    if major == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn reads_versions_two_and_three_and_python_spellings() {
    let data: Vec<u8> = [1i32, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    for major in [2, 3] {
        let a = read_npy(&image(
            major,
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n",
            &data,
        ))
        .unwrap();
        assert_eq!(a.data, NpyData::I32(vec![1, 2]));
    }
    // Key order, double quotes, Python 2 long suffixes, native byte order and no trailing comma.
    let a = read_npy(&image(
        1,
        "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"=i4\"}",
        &data,
    ))
    .unwrap();
    assert_eq!(a.shape, vec![1, 2]);
    let a = read_npy(&image(
        1,
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2,)}",
        &[3, 4],
    ))
    .unwrap();
    assert_eq!(a.data, NpyData::U8(vec![3, 4]));
}

#[test]
fn malformed_files_give_clear_errors() {
    let err = |bytes: &[u8]| read_npy(bytes).unwrap_err().to_string();
    assert!(err(b"PK\x03\x04 not npy").contains("not a .npy file"));
    assert!(err(&image(4, "{}", &[])).contains("version 4.0"));
    assert!(err(&image(
        1,
        "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
        &[0; 8]
    ))
    .contains("Fortran"));
    assert!(err(&image(
        1,
        "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
        &[0; 8]
    ))
    .contains("big-endian"));
    assert!(err(&image(
        1,
        "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
        &[0; 16]
    ))
    .contains("unsupported element type"));
    assert!(err(&image(
        1,
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        &[0; 8]
    ))
    .contains("unsupported element type"));
    let short = err(&image(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
        &[0; 8],
    ));
    assert!(
        short.contains("holds 8 bytes") && short.contains("needs 12"),
        "{short}"
    );
    assert!(
        err(&image(1, "{'descr': '<f4', 'shape': (3,), }", &[0; 12])).contains("fortran_order")
    );
    assert!(err(&image(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,",
        &[]
    ))
    .contains("malformed"));
    let mut truncated = image(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
        &[],
    );
    truncated.truncate(20);
    assert!(err(&truncated).contains("ends early"));
    assert!(err(&MAGIC[..5]).contains("not a .npy"));
}

#[test]
fn conversions_to_mil_dtypes_are_exact_or_checked() {
    // Floats are never narrowed silently: f64 is refused for fp16 and fp32 (issue 15), as f32
    // is for fp16, each with the conversion to make.
    let f64s = NpyArray {
        shape: vec![3],
        data: NpyData::F64(vec![0.1, -2.0, 65504.0]),
    };
    assert_eq!(
        f64s.to_mil_bytes(DType::Fp32).unwrap_err().to_string(),
        "an array of <f8 cannot be used as fp32: floats are not narrowed silently; convert it \
         first (numpy: a.astype(numpy.float32)) and save it as <f4"
    );
    assert!(f64s
        .to_mil_bytes(DType::Fp16)
        .unwrap_err()
        .to_string()
        .contains("a.astype(numpy.float16)) and save it as <f2"));
    let f32s = NpyArray {
        shape: vec![1],
        data: NpyData::F32(vec![0.5]),
    };
    assert!(f32s.to_mil_bytes(DType::Fp16).is_err());
    assert_eq!(
        f32s.to_mil_bytes(DType::Fp32).unwrap(),
        0.5f32.to_le_bytes()
    );
    let f16s = NpyArray {
        shape: vec![1],
        data: NpyData::F16(vec![f16::from_f32(0.1)]),
    };
    assert_eq!(
        f16s.to_mil_bytes(DType::Fp32).unwrap(),
        f16::from_f32(0.1).to_f32().to_le_bytes(),
        "widening is exact"
    );
    let i64s = NpyArray {
        shape: vec![2],
        data: NpyData::I64(vec![1, -2]),
    };
    assert_eq!(
        i64s.to_mil_bytes(DType::Int32).unwrap(),
        [1i32, -2]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>()
    );
    assert_eq!(i64s.to_mil_bytes(DType::Int8).unwrap(), vec![1, 0xFE]);
    assert!(i64s
        .to_mil_bytes(DType::Uint8)
        .unwrap_err()
        .to_string()
        .contains("-2 does not fit uint8"));
    let f32s = NpyArray {
        shape: vec![1],
        data: NpyData::F32(vec![1.0]),
    };
    let err = f32s.to_mil_bytes(DType::Fp16).unwrap_err().to_string();
    assert!(
        err.contains("<f4 cannot be used as fp16") && err.contains("<f2"),
        "{err}"
    );
    assert!(f32s.to_mil_bytes(DType::Int32).is_err());
    let bools = NpyArray {
        shape: vec![2],
        data: NpyData::Bool(vec![true, false]),
    };
    assert_eq!(bools.to_mil_bytes(DType::Bool).unwrap(), vec![1, 0]);
    assert!(bools.to_mil_bytes(DType::Int32).is_err());
    let back = NpyArray::from_mil_bytes(DType::Uint16, vec![2], &[1, 0, 255, 255]).unwrap();
    assert_eq!(back.data, NpyData::U16(vec![1, 65535]));
    assert!(NpyArray::from_mil_bytes(DType::Fp16, vec![3], &[0; 4]).is_err());
}

#[test]
fn files_that_are_not_regular_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let message = read_npy_file(dir.path()).unwrap_err().to_string();
    assert!(
        message.ends_with("is a directory, not a regular file; give the path of a file"),
        "{message}"
    );
    #[cfg(unix)]
    {
        let message = read_npy_file(std::path::Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("is a character device"), "{message}");
    }
    let missing = dir.path().join("missing.npy");
    let err = read_npy_file(&missing).unwrap_err();
    assert_eq!(err.to_string().matches("os error").count(), 1, "{err}");
    assert!(std::error::Error::source(&err).is_none());
}

/// Found by the `npy` fuzz target: a descr starting with a multi-byte character was split inside
/// it, a panic.
#[test]
fn regression_fuzz_multibyte_descr_is_an_error() {
    let header = "{'descr': '\u{33c}<i3', 'fortran_order': False, 'shape': (2, 2), }";
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&[2, 0]);
    bytes.extend_from_slice(&(header.len() as u32 + 1).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&[0; 8]);
    let err = read_npy(&bytes).unwrap_err();
    assert!(matches!(err, NpyError::Dtype(_)), "{err}");
    // The fuzzer's own input.
    let crash = include_bytes!("../../tests/data/fuzz/npy-multibyte-descr.npy");
    assert!(read_npy(crash).is_err());
}
