"""Checks Core ML packages written by `ane-trainer export` with coremltools (Linux is enough).

Usage: python check_packages.py EXPECTATIONS.json

EXPECTATIONS.json is a list of objects written by the Rust test `export_coreml`:
  {"path": ".../Mlp.mlpackage", "spec_version": 8,
   "inputs": {"images": [1, 784]},
   "outputs": {"classLabel": null, "classLabel_probs": null, "logits": [1, 10]},
   "classes": ["0", "1", ...] or null}
Shapes are null for non-array features (the classifier's label and dictionary).

For each package this
  1. opens it with coremltools.models.MLModel(path, skip_model_load=True) (manifest, root model);
  2. checks the specification version, and the input/output names, order, types and shapes of
     the model description;
  3. converts its MIL back with coremltools.converters.mil.frontend.milproto.load, which rebuilds
     every op through coremltools' builder (type inference and validation per op, every weight
     blob read from weight.bin) and checks the main function's inputs and outputs against the
     description;
  4. for classifiers, checks predictedFeatureName / predictedProbabilitiesName and the labels
     bound to the classify op.
It prints one line per check and a closing `N passed, M failed` line; the exit code is non-zero
when anything failed.
"""

import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import coremltools as ct  # noqa: E402
from coremltools.converters.mil.frontend.milproto.load import load as milproto_load  # noqa: E402


def array_shape(feature):
    kind = feature.type.WhichOneof("Type")
    if kind == "multiArrayType":
        return [int(d) for d in feature.type.multiArrayType.shape]
    return None


def check_package(entry):
    path = entry["path"]
    model = ct.models.MLModel(path, skip_model_load=True)
    spec = model.get_spec()
    problems = []
    if spec.specificationVersion != entry["spec_version"]:
        problems.append(
            f"specificationVersion {spec.specificationVersion} != {entry['spec_version']}"
        )
    if spec.WhichOneof("Type") != "mlProgram":
        problems.append(f"model type {spec.WhichOneof('Type')} is not mlProgram")
    desc = spec.description
    for side, features, expected in (
        ("input", desc.input, entry["inputs"]),
        ("output", desc.output, entry["outputs"]),
    ):
        names = [f.name for f in features]
        if names != list(expected):
            problems.append(f"{side} names {names} != {list(expected)}")
            continue
        for f in features:
            want = expected[f.name]
            got = array_shape(f)
            if want is not None and got != want:
                problems.append(f"{side} {f.name} shape {got} != {want}")
            if want is None and got is not None:
                problems.append(f"{side} {f.name} is an array {got}, expected a label/dictionary")

    weights_dir = model.weights_dir
    prog = milproto_load(spec, spec.specificationVersion, weights_dir)
    main = prog.functions["main"]
    for name, want in entry["inputs"].items():
        var = main.inputs.get(name)
        if var is None:
            problems.append(f"MIL main has no input {name}")
        elif list(var.shape) != want:
            problems.append(f"MIL input {name} shape {list(var.shape)} != {want}")
    out_names = [v.name for v in main.outputs]
    if out_names != list(entry["outputs"]):
        problems.append(f"MIL outputs {out_names} != {list(entry['outputs'])}")
    for var in main.outputs:
        want = entry["outputs"].get(var.name)
        if want is not None and list(var.shape) != want:
            problems.append(f"MIL output {var.name} shape {list(var.shape)} != {want}")
    n_ops = len(list(main.operations))

    if entry.get("classes") is not None:
        if desc.predictedFeatureName != "classLabel":
            problems.append(f"predictedFeatureName {desc.predictedFeatureName!r}")
        if desc.predictedProbabilitiesName != "classLabel_probs":
            problems.append(f"predictedProbabilitiesName {desc.predictedProbabilitiesName!r}")
        classify = [op for op in main.operations if op.op_type == "classify"]
        if len(classify) != 1:
            problems.append(f"{len(classify)} classify ops")
        else:
            labels = [str(x) for x in classify[0].classes.val]
            if labels != entry["classes"]:
                problems.append(f"class labels {labels} != {entry['classes']}")
    return problems, n_ops


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        entries = json.load(f)
    print(f"coremltools {ct.__version__}")
    passed = failed = 0
    for entry in entries:
        name = os.path.basename(entry["path"])
        try:
            problems, n_ops = check_package(entry)
        except Exception as e:  # a load failure is a failed check, reported with its cause
            problems, n_ops = [f"{type(e).__name__}: {e}"], 0
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            passed += 1
            print(f"ok   {name}: loads, {n_ops} MIL ops convert back, I/O as declared")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
