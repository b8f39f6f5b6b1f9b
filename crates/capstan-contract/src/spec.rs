//! One parsed Swagger 2.0 document plus a route table for finding the operation a concrete
//! request path belongs to.

use std::collections::HashMap;

use parking_lot::Mutex;
use regex::Regex;
use serde_json::Value;

use crate::service::Service;

/// HTTP methods Swagger 2.0 can describe, as they appear (lower case) in a path item.
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
}

/// Decoded `{param}` values of a matched path, in template order.
type PathParams = Vec<(String, String)>;

#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) template: String,
    segments: Vec<Segment>,
}

impl Route {
    pub(crate) fn new(template: &str) -> Route {
        let segments = split_path(template)
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => Segment::Param(name.to_string()),
                    None => Segment::Literal(s.to_string()),
                },
            )
            .collect();
        Route {
            template: template.to_string(),
            segments,
        }
    }

    /// On a match, the rank (one flag per segment, `true` = literal) and the decoded values of
    /// the `{param}` segments. A higher rank is a more specific template.
    pub(crate) fn matches(&self, path: &str) -> Option<(Vec<bool>, PathParams)> {
        let parts: Vec<&str> = split_path(path).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut rank = Vec::with_capacity(parts.len());
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(literal) => {
                    if literal != part && *literal != percent_decode(part) {
                        return None;
                    }
                    rank.push(true);
                }
                Segment::Param(name) => {
                    if part.is_empty() {
                        return None;
                    }
                    rank.push(false);
                    params.push((name.clone(), percent_decode(part)));
                }
            }
        }
        Some((rank, params))
    }
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    let trimmed = path.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    // `"".split('/')` yields one empty item; the root path has no segments.
    trimmed.split('/').filter(move |_| !trimmed.is_empty())
}

/// Decodes `%XX` escapes (and keeps anything malformed as it is). Lossy on invalid UTF-8.
pub(crate) fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One operation of a spec, found for a concrete request.
#[derive(Debug, Clone)]
pub struct Operation<'s> {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template as written in the spec, e.g. `/v1/overlords/{uid}`.
    pub template: &'s str,
    /// Values of the `{param}` segments, percent-decoded.
    pub path_params: Vec<(String, String)>,
    pub(crate) item: &'s Value,
    pub(crate) path_item: &'s Value,
}

impl Operation<'_> {
    /// `operationId` from the spec, when it has one.
    pub fn operation_id(&self) -> Option<&str> {
        self.item.get("operationId").and_then(Value::as_str)
    }
}

/// Result of looking a concrete request up in a spec.
#[derive(Debug)]
pub enum Lookup<'s> {
    Found(Operation<'s>),
    /// No path template matches.
    NoPath,
    /// Templates match the path, but none of them documents this method.
    NoMethod {
        templates: Vec<&'s str>,
    },
}

/// A parsed spec.
pub struct ServiceSpec {
    service: Service,
    doc: Value,
    base_path: String,
    routes: Vec<Route>,
    produces: Vec<String>,
    consumes: Vec<String>,
    /// Compiled `pattern`s; `None` for ECMA patterns the `regex` crate cannot compile (those
    /// are not checked rather than guessed at).
    regexes: Mutex<HashMap<String, Option<Regex>>>,
}

impl std::fmt::Debug for ServiceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSpec")
            .field("service", &self.service)
            .field("base_path", &self.base_path)
            .field("paths", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl ServiceSpec {
    /// Builds the route table. Errors describe why the document is not usable Swagger 2.0.
    pub(crate) fn from_document(service: Service, doc: Value) -> Result<ServiceSpec, String> {
        match doc.get("swagger").and_then(Value::as_str) {
            Some("2.0") => {}
            other => return Err(format!("`swagger` is {other:?}, expected \"2.0\"")),
        }
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return Err("it has no `paths` object".to_string());
        };
        if !doc.get("definitions").is_some_and(Value::is_object) {
            return Err("it has no `definitions` object".to_string());
        }
        let routes = paths.keys().map(|t| Route::new(t)).collect();
        let base_path = doc
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string();
        let strings = |key: &str| -> Vec<String> {
            doc.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let produces = strings("produces");
        let consumes = strings("consumes");
        Ok(ServiceSpec {
            service,
            base_path,
            routes,
            produces,
            consumes,
            doc,
            regexes: Mutex::new(HashMap::new()),
        })
    }

    pub fn service(&self) -> Service {
        self.service
    }

    /// `basePath` without a trailing slash (`""` when the spec has none).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Number of operations (path + method pairs) in the spec.
    pub fn operation_count(&self) -> usize {
        self.path_items()
            .map(|(_, item)| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
            .sum()
    }

    fn path_items(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.doc
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
    }

    /// True when the spec has exactly this template with this method.
    pub fn has_operation(&self, method: &str, template: &str) -> bool {
        self.doc
            .get("paths")
            .and_then(|p| p.get(template))
            .and_then(|item| item.get(method.to_ascii_lowercase()))
            .is_some()
    }

    /// Removes the `basePath` prefix (and any query string) from a concrete request path.
    /// Paths given without the prefix are accepted too.
    pub fn relative_path<'p>(&self, path: &'p str) -> &'p str {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        if self.base_path.is_empty() {
            return path;
        }
        match path.strip_prefix(self.base_path.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => path,
        }
    }

    /// Finds the operation for a concrete method and path. When several templates match, the
    /// one with a literal segment where the others have a `{param}` (leftmost difference) wins.
    pub fn operation(&self, method: &str, path: &str) -> Lookup<'_> {
        let method_key = method.to_ascii_lowercase();
        let relative = self.relative_path(path);
        let mut candidates: Vec<(Vec<bool>, &Route, PathParams)> = self
            .routes
            .iter()
            .filter_map(|r| r.matches(relative).map(|(rank, params)| (rank, r, params)))
            .collect();
        if candidates.is_empty() {
            return Lookup::NoPath;
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0));
        let paths = self.doc.get("paths");
        for (_, route, params) in &candidates {
            let Some(path_item) = paths.and_then(|p| p.get(&route.template)) else {
                continue;
            };
            if let Some(item) = path_item.get(&method_key) {
                return Lookup::Found(Operation {
                    method: method.to_ascii_uppercase(),
                    template: &route.template,
                    path_params: params.clone(),
                    item,
                    path_item,
                });
            }
        }
        Lookup::NoMethod {
            templates: candidates
                .iter()
                .map(|(_, r, _)| r.template.as_str())
                .collect(),
        }
    }

    /// Resolves a local reference such as `#/definitions/v1Uid` or `#/parameters/uuid`.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// A definition by name, e.g. `v1Overlord`.
    pub fn definition(&self, name: &str) -> Option<&Value> {
        self.doc.get("definitions").and_then(|d| d.get(name))
    }

    pub(crate) fn regex(&self, pattern: &str) -> Option<Regex> {
        let mut cache = self.regexes.lock();
        cache
            .entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone()
    }

    pub(crate) fn global_produces(&self) -> &[String] {
        &self.produces
    }

    pub(crate) fn global_consumes(&self) -> &[String] {
        &self.consumes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segment_wins_over_param() {
        let doc = serde_json::json!({
            "swagger": "2.0",
            "definitions": {},
            "paths": {
                "/v1/overlords/{uid}": {"get": {"responses": {}}},
                "/v1/overlords/vsphere": {"get": {"responses": {}}},
                "/v1/clouds/cloudTypes/{cloudType}": {"delete": {"responses": {}}},
                "/v1/clouds/cloudTypes/register": {"post": {"responses": {}}}
            }
        });
        let spec = ServiceSpec::from_document(Service::Palette, doc).expect("valid doc");
        let Lookup::Found(op) = spec.operation("GET", "/v1/overlords/vsphere") else {
            panic!("expected a match");
        };
        assert_eq!(op.template, "/v1/overlords/vsphere");
        let Lookup::Found(op) = spec.operation("get", "/v1/overlords/abc123") else {
            panic!("expected a match");
        };
        assert_eq!(op.template, "/v1/overlords/{uid}");
        assert_eq!(op.path_params, vec![("uid".into(), "abc123".into())]);
        // `register` is literal but only has POST: DELETE falls back to the param template.
        let Lookup::Found(op) = spec.operation("DELETE", "/v1/clouds/cloudTypes/register") else {
            panic!("expected a match");
        };
        assert_eq!(op.template, "/v1/clouds/cloudTypes/{cloudType}");
        assert!(matches!(
            spec.operation("PUT", "/v1/overlords/x"),
            Lookup::NoMethod { .. }
        ));
        assert!(matches!(
            spec.operation("GET", "/v1/nothing"),
            Lookup::NoPath
        ));
    }

    #[test]
    fn base_path_and_query_are_stripped() {
        let doc = serde_json::json!({
            "swagger": "2.0",
            "basePath": "/api/nutanix/v3",
            "definitions": {},
            "paths": {"/vms/list": {"post": {"responses": {}}}}
        });
        let spec = ServiceSpec::from_document(Service::Prism, doc).expect("valid doc");
        assert!(matches!(
            spec.operation("POST", "/api/nutanix/v3/vms/list?x=1"),
            Lookup::Found(_)
        ));
        assert!(matches!(
            spec.operation("POST", "/vms/list"),
            Lookup::Found(_)
        ));
        assert!(matches!(
            spec.operation("POST", "/api/nutanix/v3x/vms/list"),
            Lookup::NoPath
        ));
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn rejects_non_swagger_documents() {
        let err = ServiceSpec::from_document(Service::Prism, serde_json::json!({"openapi": "3.0"}))
            .expect_err("not swagger 2");
        assert!(err.contains("swagger"), "{err}");
    }
}
