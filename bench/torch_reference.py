#!/usr/bin/env python3
"""PyTorch reference for `ane-trainer bench`: the same MLP step on the CPU.

Trains an MLP of the same widths (default 784-256-10, ReLU between layers, PyTorch's default
initialization) with Adam (lr 1e-3) and mean softmax cross-entropy in fp32 on synthetic data —
standard-normal inputs and uniform labels, made once, as `ane-trainer bench` does — and prints the
mean wall time of a training step (zero_grad, forward, loss, backward, optimizer step) after a few
untimed warm-up steps.

    /work/venv-torch/bin/python bench/torch_reference.py --batch-size 128 --steps 200
    /work/venv-torch/bin/python bench/torch_reference.py --batch-size 128 --steps 200 --json

PyTorch is only needed for this comparison; nothing in the test suite imports it.
"""

import argparse
import json
import time

import torch


def build_mlp(widths):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", default="784,256,10", help="layer widths, input first")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    widths = [int(w) for w in args.widths.split(",")]
    model = build_mlp(widths)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs = torch.randn(args.batch_size, widths[0])
    labels = torch.randint(0, widths[-1], (args.batch_size,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    elapsed = time.perf_counter() - start

    step_ms = 1e3 * elapsed / max(args.steps, 1)
    # Forward and backward matmuls: 2·B·in·out for each product; the first layer's input gradient
    # is not computed (inputs do not require grad).
    flops = 0
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        products = 3 if i > 0 else 2
        flops += products * 2 * args.batch_size * fan_in * fan_out
    report = {
        "framework": f"torch {torch.__version__}",
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "widths": widths,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "optimizer": "adam",
        "precision": "fp32",
        "step_ms": step_ms,
        "matmul_gflops": flops / (step_ms * 1e6),
        "last_loss": float(loss.detach()),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"torch {torch.__version__} cpu ({report['threads']} threads), mlp {args.widths}, "
            f"batch {args.batch_size}, adam fp32: {step_ms:.3f} ms per step "
            f"({report['matmul_gflops']:.1f} GFLOP/s in matmuls), {args.steps} timed steps"
        )


if __name__ == "__main__":
    main()
