//! Printing graphs for debugging: inputs, then one node per line with its output type, then outputs.
//!
//! ```text
//! param %1 0.weight: f32[4, 3]
//! %3 = linear(x=%0, w=%1, b=%2) : f32[2, 4]
//! output loss = %5
//! ```

use crate::graph::{Graph, InputKind};
use std::fmt;

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for input in self.inputs() {
            let kind = match input.kind {
                InputKind::Data => "input",
                InputKind::Param => "param",
            };
            let ty = self.value_type(input.value).map_err(|_| fmt::Error)?;
            writeln!(f, "{kind} {} {}: {ty}", input.value, input.name)?;
        }
        for node in self.nodes() {
            let ty = self.value_type(node.output).map_err(|_| fmt::Error)?;
            write!(f, "{} = {}(", node.output, node.op)?;
            for (i, v) in node.inputs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{}={v}", node.op.input_name(i))?;
            }
            writeln!(f, ") : {ty}")?;
        }
        for output in self.outputs() {
            writeln!(f, "output {} = {}", output.name, output.value)?;
        }
        Ok(())
    }
}
