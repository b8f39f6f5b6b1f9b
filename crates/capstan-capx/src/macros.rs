//! `${VAR}` macros as clusterctl/envsubst and Palette's "Configuration Macros" panel see them.
//!
//! Forms understood: `${VAR}`, `${VAR=default}`, `${VAR:=default}`, `${VAR-default}`,
//! `${VAR:-default}` and `${VAR#prefix}`. Plain shell variables (`$FOO` without braces, as in
//! the kubeadm scripts upstream embeds) are not macros and are left alone.

use serde::Serialize;

/// The operator part of a macro expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "arg", rename_all = "snake_case")]
pub enum MacroOp {
    /// `${VAR}`
    Plain,
    /// `${VAR=default}` / `${VAR-default}`: default when unset.
    Default(String),
    /// `${VAR:=default}` / `${VAR:-default}`: default when unset or empty.
    DefaultIfEmpty(String),
    /// `${VAR#prefix}`: the value with a leading prefix removed.
    StripPrefix(String),
}

/// One occurrence of a macro in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroExpr {
    /// The exact text, `${...}` included.
    pub raw: String,
    pub name: String,
    pub op: MacroOp,
    /// Byte range of `raw` in the scanned text.
    pub start: usize,
    pub end: usize,
}

impl MacroExpr {
    /// The default written in the expression, exactly as written (`""` stays `""`).
    pub fn default_text(&self) -> Option<&str> {
        match &self.op {
            MacroOp::Default(d) | MacroOp::DefaultIfEmpty(d) => Some(d),
            _ => None,
        }
    }
}

/// Who fills a macro in Palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MacroSource {
    /// Filled server-side from the Nutanix cloud account (`cloudAccountKeys`); read-only in the UI.
    CloudAccount,
    /// `${CLUSTER_NAME}`: filled server-side from the Palette cluster name.
    ClusterName,
    /// `${NAMESPACE}`: Palette supplies its own namespace; must not appear in a Palette template.
    Namespace,
    /// Entered on the Cluster Config step (trust bundle, control-plane endpoint).
    ClusterStep,
    /// Entered per node pool.
    PoolStep,
}

impl MacroSource {
    /// True when Palette fills the macro itself, so Capstan must leave it in the YAML.
    pub fn is_server_side(self) -> bool {
        matches!(self, Self::CloudAccount | Self::ClusterName)
    }
}

/// The cloud-account keys Capstan registers (`PUT .../cloudAccountKeys`).
pub const CLOUD_ACCOUNT_KEYS: [&str; 5] = [
    "NUTANIX_USER",
    "NUTANIX_PASSWORD",
    "NUTANIX_ENDPOINT",
    "NUTANIX_PORT",
    "NUTANIX_INSECURE",
];

/// Classify a macro name by who fills it in Palette.
pub fn source_of(name: &str) -> MacroSource {
    match name {
        n if CLOUD_ACCOUNT_KEYS.contains(&n) => MacroSource::CloudAccount,
        "CLUSTER_NAME" => MacroSource::ClusterName,
        "NAMESPACE" => MacroSource::Namespace,
        "NUTANIX_ADDITIONAL_TRUST_BUNDLE"
        | "CONTROL_PLANE_ENDPOINT_IP"
        | "CONTROL_PLANE_ENDPOINT_PORT" => MacroSource::ClusterStep,
        _ => MacroSource::PoolStep,
    }
}

/// Every macro expression in `text`, in order.
pub fn scan(text: &str) -> Vec<MacroExpr> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$'
            && bytes[i + 1] == b'{'
            && let Some(expr) = parse_at(text, i)
        {
            i = expr.end;
            out.push(expr);
            continue;
        }
        i += 1;
    }
    out
}

fn parse_at(text: &str, start: usize) -> Option<MacroExpr> {
    let body_start = start + 2;
    let rest = &text[body_start..];
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if name_len == 0 || rest.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let name = &rest[..name_len];
    // The argument runs to the matching `}` (braces inside defaults are balanced).
    let mut depth = 0usize;
    let mut close = None;
    for (off, ch) in rest[name_len..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => {
                close = Some(name_len + off);
                break;
            }
            '}' => depth -= 1,
            '\n' => return None,
            _ => {}
        }
    }
    let close = close?;
    let tail = &rest[name_len..close];
    let op = if tail.is_empty() {
        MacroOp::Plain
    } else if let Some(d) = tail.strip_prefix(":=").or_else(|| tail.strip_prefix(":-")) {
        MacroOp::DefaultIfEmpty(d.to_owned())
    } else if let Some(d) = tail.strip_prefix('=').or_else(|| tail.strip_prefix('-')) {
        MacroOp::Default(d.to_owned())
    } else if let Some(p) = tail.strip_prefix('#') {
        MacroOp::StripPrefix(p.to_owned())
    } else {
        return None;
    };
    let end = body_start + close + 1;
    Some(MacroExpr {
        raw: text[start..end].to_owned(),
        name: name.to_owned(),
        op,
        start,
        end,
    })
}

/// One variable as the macros panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MacroInfo {
    pub name: String,
    /// The first default written for it (exactly as written), if any form has one.
    pub default: Option<String>,
    /// Every distinct expression used for it, e.g. `${KUBERNETES_VERSION}` and `${KUBERNETES_VERSION#v}`.
    pub forms: Vec<String>,
    pub occurrences: usize,
    pub source: MacroSource,
}

/// Every variable used in `text`, in order of first appearance.
pub fn list_macros(text: &str) -> Vec<MacroInfo> {
    let mut out: Vec<MacroInfo> = Vec::new();
    for expr in scan(text) {
        let entry = match out.iter_mut().position(|m| m.name == expr.name) {
            Some(i) => &mut out[i],
            None => {
                out.push(MacroInfo {
                    name: expr.name.clone(),
                    default: None,
                    forms: Vec::new(),
                    occurrences: 0,
                    source: source_of(&expr.name),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        entry.occurrences += 1;
        if entry.default.is_none() {
            entry.default = expr.default_text().map(str::to_owned);
        }
        if !entry.forms.contains(&expr.raw) {
            entry.forms.push(expr.raw.clone());
        }
    }
    out
}

/// Evaluate one expression given the variable's value (`None` = unset).
/// Returns `None` when the expression stays unresolved (unset and no default).
pub fn evaluate(expr: &MacroExpr, value: Option<&str>) -> Option<String> {
    match (&expr.op, value) {
        (MacroOp::Plain, v) => v.map(str::to_owned),
        (MacroOp::StripPrefix(p), v) => {
            v.map(|v| v.strip_prefix(p.as_str()).unwrap_or(v).to_owned())
        }
        (MacroOp::Default(_), Some(v)) => Some(v.to_owned()),
        (MacroOp::DefaultIfEmpty(_), Some(v)) if !v.is_empty() => Some(v.to_owned()),
        (MacroOp::Default(d) | MacroOp::DefaultIfEmpty(d), _) => Some(unquote(d).to_owned()),
    }
}

/// `""` and `''` defaults mean the empty string (upstream writes `${NUTANIX_ADDITIONAL_TRUST_BUNDLE=""}`).
fn unquote(d: &str) -> &str {
    if d.len() >= 2
        && ((d.starts_with('"') && d.ends_with('"')) || (d.starts_with('\'') && d.ends_with('\'')))
    {
        &d[1..d.len() - 1]
    } else {
        d
    }
}

/// Substitute macros in `text`. `lookup` gives the value of a variable, or `None` to leave
/// that expression exactly as written (used for Palette's server-side macros).
/// `apply_defaults` decides whether unset variables with a default take it.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    apply_defaults: &dyn Fn(&str) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for expr in scan(text) {
        out.push_str(&text[last..expr.start]);
        let value = lookup(&expr.name);
        let resolved = match value {
            Some(v) => evaluate(&expr, Some(&v)),
            None if apply_defaults(&expr.name) && expr.default_text().is_some() => {
                evaluate(&expr, None)
            }
            None => None,
        };
        out.push_str(resolved.as_deref().unwrap_or(&expr.raw));
        last = expr.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_all_forms() {
        let t = "a ${A} b ${B=2} c ${C:=x-y} d ${D#v} e $SHELL f ${E:-} g ${F-z}";
        let names: Vec<_> = scan(t).into_iter().map(|e| (e.name, e.op)).collect();
        assert_eq!(
            names,
            vec![
                ("A".into(), MacroOp::Plain),
                ("B".into(), MacroOp::Default("2".into())),
                ("C".into(), MacroOp::DefaultIfEmpty("x-y".into())),
                ("D".into(), MacroOp::StripPrefix("v".into())),
                ("E".into(), MacroOp::DefaultIfEmpty(String::new())),
                ("F".into(), MacroOp::Default("z".into())),
            ]
        );
    }

    #[test]
    fn ignores_unclosed_and_invalid() {
        assert!(scan("${A").is_empty());
        assert!(scan("${1A}").is_empty());
        assert!(scan("${A?x}").is_empty());
        assert!(scan("$(printf x)").is_empty());
    }

    #[test]
    fn substitutes_and_keeps_unknown() {
        let t = "v=${K#v} p=${P=6443} u=${NUTANIX_USER} e=${E:=dflt} q=${Q=\"\"}";
        let out = substitute(
            t,
            &|n| match n {
                "K" => Some("v1.30.2".into()),
                "E" => Some(String::new()),
                _ => None,
            },
            &|n| n != "NUTANIX_USER",
        );
        assert_eq!(out, "v=1.30.2 p=6443 u=${NUTANIX_USER} e=dflt q=");
    }

    #[test]
    fn lists_with_defaults_and_forms() {
        let t = "${K} ${K#v} ${M=4Gi} ${M=4Gi} ${NUTANIX_USER}";
        let list = list_macros(t);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].forms, vec!["${K}", "${K#v}"]);
        assert_eq!(list[1].default.as_deref(), Some("4Gi"));
        assert_eq!(list[1].occurrences, 2);
        assert_eq!(list[2].source, MacroSource::CloudAccount);
    }
}
