//! Programs that declare more memory than there is: refused with an error naming the tensor and
//! the sizes, never an allocation abort; buffers allocated only on first use, after the caller
//! could check its inputs (issue 15).

use ane_mil::{parse, WeightFiles};
use ane_sim::{SimError, SimOptions, Simulator};

/// A fixed limit, so the tests do not depend on the machine's free memory.
fn limited(bytes: u64) -> SimOptions {
    SimOptions {
        memory_limit: Some(bytes),
        ..SimOptions::default()
    }
}

fn prepare_err(text: &str, options: SimOptions) -> SimError {
    let program = parse(text).unwrap();
    Simulator::prepare(&program, &WeightFiles::new(), options).unwrap_err()
}

#[test]
fn a_declared_terabyte_tensor_is_refused_when_preparing() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 1000000, 1, 1000000]> x) {
        tensor<fp16, [1, 1000000, 1, 1000000]> y = relu(x = x)[name = string("y")];
    } -> (y);
}"#;
    let err = prepare_err(text, limited(8 << 30));
    assert!(matches!(err, SimError::TooLarge { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "input `x`: tensor<fp16, [1, 1000000, 1, 1000000]> needs 1.8 TiB but only 8.0 GiB of \
         memory is available; declare smaller shapes"
    );
    // The default limit is the machine's available memory: still an error, not an abort.
    let err = prepare_err(text, SimOptions::default());
    assert!(
        matches!(err, SimError::TooLarge { .. }) || ane_sim::available_memory().is_none(),
        "{err}"
    );
}

#[test]
fn a_200000_square_matmul_is_refused() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [200000, 200000]> a, tensor<fp16, [200000, 200000]> b) {
        tensor<fp16, [200000, 200000]> y = matmul(x = a, y = b, transpose_x = bool(false), transpose_y = bool(false))[name = string("y")];
    } -> (y);
}"#;
    let err = prepare_err(text, limited(16 << 30));
    assert!(
        err.to_string()
            .starts_with("input `a`: tensor<fp16, [200000, 200000]> needs 74.5 GiB"),
        "{err}"
    );
}

#[test]
fn sizes_that_overflow_are_refused_whatever_the_limit() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [4294967296, 4294967296]> x) {
        tensor<fp32, [4294967296, 4294967296]> y = relu(x = x)[name = string("y")];
    } -> (y);
}"#;
    let err = prepare_err(text, limited(u64::MAX));
    assert!(
        err.to_string()
            .contains("more elements than 64-bit sizes can count"),
        "{err}"
    );
}

#[test]
fn buffers_are_allocated_on_first_use_after_inputs_can_be_checked() {
    // Each tensor is 64 MiB: every one fits a 150 MiB limit, the three together do not.
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [16777216]> x) {
        tensor<fp32, [16777216]> a = relu(x = x)[name = string("a")];
        tensor<fp32, [16777216]> y = sigmoid(x = a)[name = string("y")];
    } -> (y);
}"#;
    let program = parse(text).unwrap();
    let mut prepared =
        Simulator::prepare(&program, &WeightFiles::new(), limited(150 << 20)).unwrap();
    // Preparing allocated nothing; the declared inputs can be compared with what was given.
    assert_eq!(prepared.inputs()[0].num_elements(), 16_777_216);
    assert_eq!(prepared.memory_bytes(), Some(3 * (64 << 20)));
    let err = prepared.set_input_f32("x", &[0.0; 4]).unwrap_err();
    assert!(
        matches!(err, SimError::Input { .. }),
        "wrong input size first: {err}"
    );
    let err = prepared.allocate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the program: its buffers need 192.0 MiB but only 150.0 MiB of memory is available; \
         declare smaller shapes (a smaller batch)"
    );
    assert!(matches!(prepared.run(), Err(SimError::TooLarge { .. })));

    let mut roomy = Simulator::prepare(&program, &WeightFiles::new(), limited(1 << 30)).unwrap();
    roomy.set_input_f32("x", &vec![1.0; 16_777_216]).unwrap();
    roomy.run().unwrap();
    assert_eq!(
        roomy.output_f32("y").unwrap()[0],
        1.0 / (1.0 + (-1.0f32).exp())
    );
}
