//! `ane-compiler`: turns a model graph into a Plan for one training step: graph IR → autodiff →
//! placement → partitioning → kernel ABI → MIL lowering. It knows no device.
