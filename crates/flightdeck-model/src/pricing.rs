//! The pricing table: what an LLM call costs, from its model and token usage.
//!
//! A default table ships inside the binary (`pricing.toml`); a deployment can override or
//! extend it. Lookups match the exact model name first, then the longest known prefix.

use crate::message::Usage;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Price of one model, in US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
}

/// Model name to price.
#[derive(Clone, Debug, Default)]
pub struct Pricing {
    models: BTreeMap<String, ModelPrice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingFile {
    models: BTreeMap<String, ModelPrice>,
}

const BUILT_IN: &str = include_str!("pricing.toml");

impl Pricing {
    /// The table shipped with the binary.
    pub fn built_in() -> Self {
        let file: PricingFile = toml::from_str(BUILT_IN).expect("built-in pricing.toml parses");
        Pricing {
            models: file.models,
        }
    }

    /// Adds or replaces prices (from the configuration file).
    pub fn extend(&mut self, prices: impl IntoIterator<Item = (String, ModelPrice)>) {
        self.models.extend(prices);
    }

    /// The price of `model`, by exact name or longest matching prefix.
    pub fn price(&self, model: &str) -> Option<ModelPrice> {
        let name = model.rsplit('/').next().unwrap_or(model);
        if let Some(p) = self.models.get(name) {
            return Some(*p);
        }
        // The longest key that `name` starts with, followed by a separator.
        self.models
            .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Included(name)))
            .rev()
            .take_while(|(k, _)| name.as_bytes().first() == k.as_bytes().first())
            .find(|(k, _)| {
                name.starts_with(k.as_str())
                    && matches!(
                        name.as_bytes().get(k.len()),
                        Some(b'-' | b'@' | b':' | b'.')
                    )
            })
            .map(|(_, p)| *p)
    }

    /// The cost in US dollars of `usage` on `model`, when the model is known.
    pub fn cost(&self, model: &str, usage: &Usage) -> Option<f64> {
        self.price(model).map(|p| {
            (usage.input_tokens as f64 * p.input + usage.output_tokens as f64 * p.output) / 1e6
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_longest_prefix() {
        let p = Pricing::built_in();
        assert_eq!(p.price("gpt-4o").unwrap().input, 2.5);
        assert_eq!(p.price("gpt-4o-mini").unwrap().input, 0.15);
        assert_eq!(p.price("gpt-4o-2024-08-06").unwrap().input, 2.5);
        assert_eq!(p.price("gpt-4o-mini-2024-07-18").unwrap().input, 0.15);
        assert_eq!(p.price("openai/gpt-4.1-mini").unwrap().output, 1.6);
        assert_eq!(p.price("claude-sonnet-4-5-20250929").unwrap().output, 15.0);
        assert!(p.price("gpt-4").is_none());
        assert!(p.price("my-local-llama").is_none());
    }

    #[test]
    fn cost_is_per_million_tokens() {
        let p = Pricing::built_in();
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
        };
        assert!((p.cost("gpt-4o", &usage).unwrap() - 7.5).abs() < 1e-9);
    }
}
