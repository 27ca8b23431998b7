mod common;
use common::*;

#[test]
fn add_and_relu() {
    let mut p = prepared(
        "tensor<fp16, [2, 3]> x, tensor<fp16, [3]> y",
        "tensor<fp16, [2, 3]> s = add(x = x, y = y)\ntensor<fp16, [2, 3]> r = relu(x = s)",
        "r",
    );
    p.set_input_f32("x", &[1.0, -2.0, 3.0, 4.0, 5.0, -6.0])
        .unwrap();
    p.set_input_f32("y", &[0.5, 0.5, 0.5]).unwrap();
    run(&mut p);
    assert_same(&p.output_f32("r").unwrap(), &[1.5, 0.0, 3.5, 4.5, 5.5, 0.0]);
}

#[test]
fn every_mil_op_is_supported() {
    let all = ane_mil::ops::all_op_types();
    let supported = ane_sim::supported_ops();
    let missing: Vec<_> = all.iter().filter(|op| !supported.contains(op)).collect();
    assert!(missing.is_empty(), "not simulated: {missing:?}");
    println!("{} ops", supported.len());
}
