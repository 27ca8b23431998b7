//! Identifiers for values the exporter adds or renames: MIL names must match
//! `[A-Za-z_][A-Za-z0-9_@]*` (MIL.proto) and be unique within a function.

use ane_mil::Function;
use std::collections::HashSet;

/// The names in use in one function, handing out fresh ones.
#[derive(Debug, Clone, Default)]
pub struct Names {
    used: HashSet<String>,
}

impl Names {
    /// Every parameter and op output name of `function`.
    pub fn of_function(function: &Function) -> Self {
        let used = function
            .params
            .iter()
            .map(|p| p.name.clone())
            .chain(
                function
                    .body
                    .iter()
                    .flat_map(|op| op.outputs.iter().map(|o| o.name.clone())),
            )
            .collect();
        Names { used }
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }

    /// Marks `name` as taken.
    pub fn insert(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    /// A valid identifier made from `hint` (other characters become `_`), with a numeric suffix
    /// when it is taken; the result is marked as taken.
    pub fn fresh(&mut self, hint: &str) -> String {
        let base = identifier(hint);
        let mut name = base.clone();
        let mut n = 1;
        while self.used.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(name.clone());
        name
    }
}

/// `text` as a MIL identifier: characters outside `[A-Za-z0-9_]` become `_`, and a leading
/// digit (or an empty text) gets a `_` prefix.
pub fn identifier(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid_and_fresh() {
        assert_eq!(identifier("param_0.weight"), "param_0_weight");
        assert_eq!(identifier("0.bias"), "_0_bias");
        assert_eq!(identifier(""), "_");
        let mut names = Names::default();
        assert_eq!(names.fresh("a.b"), "a_b");
        assert_eq!(names.fresh("a.b"), "a_b_1");
        assert!(names.contains("a_b_1"));
        assert!(ane_mil::validate::is_valid_identifier(&identifier(
            "layers.0.w-q"
        )));
    }
}
