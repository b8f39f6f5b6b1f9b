//! Checking one request or one response against its operation.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::deviations::{BodySchema, DEVIATIONS, Deviation, Rule, Side};
use crate::schema::{Walker, is_binary_schema, schema_name};
use crate::service::Service;
use crate::spec::{Lookup, Operation, Route, ServiceSpec, percent_decode};
use crate::specs::Specs;
use crate::violation::{Part, Violation, describe};

/// A body as recorded: nothing, JSON, or some other payload (only its size is kept).
#[derive(Debug, Clone, Copy)]
pub enum BodyRef<'a> {
    Empty,
    Json(&'a Value),
    /// Not JSON (multipart, octet-stream, plain text) of `len` bytes, when the recorder knew.
    Other {
        len: Option<usize>,
    },
}

fn non_json(len: Option<usize>) -> String {
    match len {
        Some(n) => format!("a non-JSON body of {n} bytes"),
        None => "a non-JSON body".to_string(),
    }
}

/// The operation an exchange was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId {
    pub service: Service,
    /// Upper case.
    pub method: String,
    /// Spec template (for undocumented operations: the deviation's template).
    pub template: String,
}

impl std::fmt::Display for OperationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.service, self.method, self.template)
    }
}

/// Everything one check found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// `None` when the method and path match no operation (see `violations`).
    pub operation: Option<OperationId>,
    pub violations: Vec<Violation>,
    /// Ids of the deviations that were needed for this exchange to pass.
    pub deviations_applied: BTreeSet<&'static str>,
}

impl Outcome {
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn into_result(self) -> Result<(), Vec<Violation>> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(self.violations)
        }
    }

    fn absorb(&mut self, walker: Walker<'_>) {
        self.violations.extend(walker.violations);
        self.deviations_applied.extend(walker.applied);
    }
}

enum Resolved<'s> {
    Spec(Operation<'s>),
    Undocumented {
        deviation: &'static Deviation,
        template: &'static str,
    },
}

fn pointer_rules(service: Service, method: &str, template: &str) -> Vec<&'static Deviation> {
    DEVIATIONS
        .iter()
        .filter(|d| matches!(d.rule, Rule::AllowType { .. } | Rule::AllowMissing { .. }))
        .filter(|d| d.covers(service, method, template))
        .collect()
}

fn is_json_media(content_type: &str) -> bool {
    let mime = media_type(content_type);
    mime == "application/json" || mime.ends_with("+json")
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(|s| s.to_ascii_lowercase())
            .collect()
    })
}

impl Specs {
    fn resolve<'s>(
        &'s self,
        service: Service,
        method: &str,
        path: &str,
        outcome: &mut Outcome,
    ) -> Option<Resolved<'s>> {
        let spec = self.spec(service);
        let relative = spec.relative_path(path);
        // Undocumented operations first: the spec may have a `{param}` template that would
        // otherwise claim the path (a guard test keeps these absent from the spec itself).
        for deviation in DEVIATIONS.iter().filter(|d| d.service == service) {
            if let (Rule::UndocumentedOperation { .. }, crate::deviations::Operations::Only(keys)) =
                (&deviation.rule, deviation.operations)
            {
                for key in keys {
                    if key.method.eq_ignore_ascii_case(method)
                        && Route::new(key.template).matches(relative).is_some()
                    {
                        outcome.operation = Some(OperationId {
                            service,
                            method: key.method.to_string(),
                            template: key.template.to_string(),
                        });
                        outcome.deviations_applied.insert(deviation.id);
                        return Some(Resolved::Undocumented {
                            deviation,
                            template: key.template,
                        });
                    }
                }
            }
        }
        let lookup = spec.operation(method, path);
        if let Lookup::Found(op) = lookup {
            outcome.operation = Some(OperationId {
                service,
                method: op.method.clone(),
                template: op.template.to_string(),
            });
            return Some(Resolved::Spec(op));
        }
        let found = match lookup {
            Lookup::NoMethod { templates } => format!(
                "{} {relative}: the spec has {} but not with {}",
                method.to_ascii_uppercase(),
                templates.join(", "),
                method.to_ascii_uppercase()
            ),
            _ => format!(
                "{} {relative}: no path template of the {service} spec matches",
                method.to_ascii_uppercase()
            ),
        };
        outcome.violations.push(Violation::new(
            Part::Operation,
            "",
            format!("an operation of the {service} spec"),
            found,
        ));
        None
    }

    /// Checks a response against the operation's documented responses (and the deviations).
    pub fn check_response(
        &self,
        service: Service,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: BodyRef<'_>,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(resolved) = self.resolve(service, method, path, &mut outcome) else {
            return outcome;
        };
        let spec = self.spec(service);
        let (template, documented): (&str, Option<Option<Value>>) = match &resolved {
            Resolved::Spec(op) => {
                let responses = op.item.get("responses");
                // `default` stands in for undocumented statuses, except that a success the
                // operation does not document is never excused by it: Prism's `default` is
                // the error envelope, which a 200 body in place of a 202 would pass silently.
                let documents_success = responses
                    .and_then(Value::as_object)
                    .is_some_and(|r| r.keys().any(|k| k.starts_with('2')));
                let default_applies = !(200..300).contains(&status) || !documents_success;
                let response = responses
                    .and_then(|r| r.get(status.to_string()))
                    .or_else(|| {
                        responses
                            .filter(|_| default_applies)
                            .and_then(|r| r.get("default"))
                    });
                let response = response.map(|r| match r.get("$ref").and_then(Value::as_str) {
                    Some(reference) => spec.resolve(reference).unwrap_or(r),
                    None => r,
                });
                (op.template, response.map(|r| r.get("schema").cloned()))
            }
            Resolved::Undocumented {
                deviation,
                template,
            } => {
                let Rule::UndocumentedOperation { responses, .. } = deviation.rule else {
                    return outcome;
                };
                let documented = responses
                    .iter()
                    .find(|(s, _)| *s == status)
                    .map(|(_, schema)| {
                        schema.and_then(|text| parse_inline(deviation, text, &mut outcome))
                    });
                (template, documented)
            }
        };

        // A non-JSON body where reality is known to send one.
        if !matches!(body, BodyRef::Json(_))
            && let Some(d) = DEVIATIONS.iter().find(|d| {
                matches!(d.rule, Rule::NonJsonBody { statuses } if statuses.contains(status))
                    && d.covers(service, method, template)
            })
        {
            outcome.deviations_applied.insert(d.id);
            return outcome;
        }

        let schema: Option<Value> = match documented {
            Some(schema) => schema,
            None => {
                let deviation = DEVIATIONS.iter().find(|d| {
                    matches!(d.rule, Rule::UndocumentedStatus { statuses, .. } if statuses.contains(status))
                        && d.covers(service, method, template)
                });
                let Some(deviation) = deviation else {
                    let listed = match &resolved {
                        Resolved::Spec(op) => op
                            .item
                            .get("responses")
                            .and_then(Value::as_object)
                            .map(|r| r.keys().cloned().collect::<Vec<_>>().join(", "))
                            .unwrap_or_default(),
                        Resolved::Undocumented { deviation, .. } => match deviation.rule {
                            Rule::UndocumentedOperation { responses, .. } => responses
                                .iter()
                                .map(|(s, _)| s.to_string())
                                .collect::<Vec<_>>()
                                .join(", "),
                            _ => String::new(),
                        },
                    };
                    outcome.violations.push(Violation::new(
                        Part::Status,
                        "",
                        format!("a documented status ({listed})"),
                        status.to_string(),
                    ));
                    return outcome;
                };
                outcome.deviations_applied.insert(deviation.id);
                match deviation.rule {
                    Rule::UndocumentedStatus {
                        body: BodySchema::PaletteErrorV1,
                        ..
                    } => Some(self.palette_error_schema().clone()),
                    Rule::UndocumentedStatus {
                        body: BodySchema::Inline(text),
                        ..
                    } => match parse_inline(deviation, text, &mut outcome) {
                        Some(schema) => Some(schema),
                        None => return outcome,
                    },
                    _ => None,
                }
            }
        };

        let Some(schema) = schema else {
            // Documented without a body (204 and friends).
            match body {
                BodyRef::Empty | BodyRef::Other { len: Some(0) } => {}
                BodyRef::Json(v) => outcome.violations.push(Violation::new(
                    Part::ResponseBody,
                    "",
                    format!("no body (the spec documents none for {status})"),
                    describe(v),
                )),
                BodyRef::Other { len } => outcome.violations.push(Violation::new(
                    Part::ResponseBody,
                    "",
                    format!("no body (the spec documents none for {status})"),
                    non_json(len),
                )),
            }
            return outcome;
        };

        let produces = match &resolved {
            Resolved::Spec(op) => strings(op.item.get("produces")),
            Resolved::Undocumented { .. } => None,
        }
        .unwrap_or_else(|| spec.global_produces().to_vec());
        let json_produced = produces.is_empty() || produces.iter().any(|p| is_json_media(p));
        // `produces` describes the success payload; error bodies of a download are JSON.
        let success = (200..300).contains(&status);
        if is_binary_schema(spec, &schema) || (success && !json_produced) {
            if let Some(ct) = content_type {
                let mime = media_type(ct);
                if !produces.is_empty() && !produces.iter().any(|p| *p == mime || p == "*/*") {
                    outcome.violations.push(Violation::new(
                        Part::ResponseContentType,
                        "",
                        format!("one of {}", produces.join(", ")),
                        ct.to_string(),
                    ));
                }
            }
            return outcome;
        }
        if let Some(ct) = content_type
            && !matches!(body, BodyRef::Empty)
            && !is_json_media(ct)
        {
            outcome.violations.push(Violation::new(
                Part::ResponseContentType,
                "",
                "application/json",
                ct.to_string(),
            ));
        }
        match body {
            BodyRef::Json(value) => {
                let mut walker = Walker::new(
                    spec,
                    Side::Response,
                    Part::ResponseBody,
                    pointer_rules(service, method, template),
                );
                walker.check(&schema, value);
                outcome.absorb(walker);
            }
            BodyRef::Empty => outcome.violations.push(Violation::new(
                Part::ResponseBody,
                "",
                format!("a JSON body ({})", schema_name(&schema)),
                "an empty body",
            )),
            BodyRef::Other { len } => outcome.violations.push(Violation::new(
                Part::ResponseBody,
                "",
                format!("a JSON body ({})", schema_name(&schema)),
                non_json(len),
            )),
        }
        outcome
    }

    /// Checks a request: path parameters, query parameters, content type and body.
    pub fn check_request(
        &self,
        service: Service,
        method: &str,
        path: &str,
        query: Option<&str>,
        content_type: Option<&str>,
        body: BodyRef<'_>,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let Some(resolved) = self.resolve(service, method, path, &mut outcome) else {
            return outcome;
        };
        let spec = self.spec(service);
        let op = match resolved {
            Resolved::Spec(op) => op,
            Resolved::Undocumented { deviation, .. } => {
                if let Rule::UndocumentedOperation {
                    request: Some(text),
                    ..
                } = deviation.rule
                    && let Some(schema) = parse_inline(deviation, text, &mut outcome)
                {
                    check_json_body(
                        spec,
                        service,
                        method,
                        "",
                        &schema,
                        body,
                        content_type,
                        true,
                        &mut outcome,
                    );
                }
                return outcome;
            }
        };
        let params = parameters(spec, &op);
        let query_pairs = parse_query(query.or_else(|| path.split_once('?').map(|(_, q)| q)));

        for param in &params {
            let name = param.get("name").and_then(Value::as_str).unwrap_or("");
            let location = param.get("in").and_then(Value::as_str).unwrap_or("");
            match location {
                "path" => {
                    if let Some((_, raw)) = op.path_params.iter().find(|(n, _)| n == name) {
                        check_parameter(
                            spec,
                            Part::PathParameter,
                            param,
                            name,
                            std::slice::from_ref(raw),
                            &mut outcome,
                        );
                    }
                }
                "query" => {
                    let values: Vec<String> = query_pairs
                        .iter()
                        .filter(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .collect();
                    if values.is_empty() {
                        if param.get("required").and_then(Value::as_bool) == Some(true) {
                            outcome.violations.push(Violation::new(
                                Part::QueryParameter,
                                format!("/{name}"),
                                format!("required query parameter `{name}`"),
                                "it missing",
                            ));
                        }
                    } else {
                        check_parameter(
                            spec,
                            Part::QueryParameter,
                            param,
                            name,
                            &values,
                            &mut outcome,
                        );
                    }
                }
                _ => {}
            }
        }

        let body_param = params
            .iter()
            .find(|p| p.get("in").and_then(Value::as_str) == Some("body"));
        let form_params: Vec<&&Value> = params
            .iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("formData"))
            .collect();
        if let Some(param) = body_param {
            let required = param.get("required").and_then(Value::as_bool) == Some(true);
            let schema = param
                .get("schema")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            check_json_body(
                spec,
                service,
                &op.method,
                op.template,
                &schema,
                body,
                content_type,
                required,
                &mut outcome,
            );
        } else if !form_params.is_empty() {
            let consumes =
                strings(op.item.get("consumes")).unwrap_or_else(|| spec.global_consumes().to_vec());
            if let Some(ct) = content_type {
                let mime = media_type(ct);
                if !consumes.is_empty() && !consumes.contains(&mime) {
                    outcome.violations.push(Violation::new(
                        Part::RequestContentType,
                        "",
                        format!("one of {}", consumes.join(", ")),
                        ct.to_string(),
                    ));
                }
            }
            let any_required = form_params
                .iter()
                .any(|p| p.get("required").and_then(Value::as_bool) == Some(true));
            match body {
                BodyRef::Json(v) => outcome.violations.push(Violation::new(
                    Part::RequestBody,
                    "",
                    format!("form data ({})", consumes.join(", ")),
                    format!("a JSON body: {}", describe(v)),
                )),
                BodyRef::Empty if any_required => outcome.violations.push(Violation::new(
                    Part::RequestBody,
                    "",
                    "form data with the required fields",
                    "no body",
                )),
                _ => {}
            }
        } else {
            match body {
                BodyRef::Empty | BodyRef::Other { len: Some(0) } => {}
                BodyRef::Json(v) => outcome.violations.push(Violation::new(
                    Part::RequestBody,
                    "",
                    "no body (the operation takes none)",
                    describe(v),
                )),
                BodyRef::Other { len } => outcome.violations.push(Violation::new(
                    Part::RequestBody,
                    "",
                    "no body (the operation takes none)",
                    non_json(len),
                )),
            }
        }
        outcome
    }

    /// Checks a JSON response body; `Err` lists every violation.
    pub fn validate_response(
        &self,
        service: Service,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<Violation>> {
        self.check_response(service, method, path, status, None, BodyRef::Json(body))
            .into_result()
    }

    /// Checks a JSON request body (and the path/query parameters in `path`).
    pub fn validate_request(
        &self,
        service: Service,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(), Vec<Violation>> {
        self.check_request(service, method, path, None, None, BodyRef::Json(body))
            .into_result()
    }
}

fn parse_inline(deviation: &Deviation, text: &str, outcome: &mut Outcome) -> Option<Value> {
    match serde_json::from_str(text) {
        Ok(v) => Some(v),
        Err(e) => {
            outcome.violations.push(Violation::new(
                Part::Deviation,
                "",
                format!("deviation {} to carry a JSON schema", deviation.id),
                format!("invalid JSON: {e}"),
            ));
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_json_body(
    spec: &ServiceSpec,
    service: Service,
    method: &str,
    template: &str,
    schema: &Value,
    body: BodyRef<'_>,
    content_type: Option<&str>,
    required: bool,
    outcome: &mut Outcome,
) {
    match body {
        BodyRef::Json(value) => {
            if let Some(ct) = content_type
                && !is_json_media(ct)
            {
                outcome.violations.push(Violation::new(
                    Part::RequestContentType,
                    "",
                    "application/json",
                    ct.to_string(),
                ));
            }
            let mut walker = Walker::new(
                spec,
                Side::Request,
                Part::RequestBody,
                pointer_rules(service, method, template),
            );
            walker.check(schema, value);
            outcome.absorb(walker);
        }
        BodyRef::Empty if required => outcome.violations.push(Violation::new(
            Part::RequestBody,
            "",
            format!("a JSON body ({})", schema_name(schema)),
            "no body",
        )),
        BodyRef::Empty => {}
        BodyRef::Other { len } => outcome.violations.push(Violation::new(
            Part::RequestBody,
            "",
            format!("a JSON body ({})", schema_name(schema)),
            non_json(len),
        )),
    }
}

/// Path-level parameters overridden by operation-level ones with the same name and `in`.
fn parameters<'s>(spec: &'s ServiceSpec, op: &Operation<'s>) -> Vec<&'s Value> {
    let deref = |p: &'s Value| -> &'s Value {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => spec.resolve(r).unwrap_or(p),
            None => p,
        }
    };
    let list = |v: Option<&'s Value>| -> Vec<&'s Value> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().map(deref).collect())
            .unwrap_or_default()
    };
    let key = |p: &Value| {
        (
            p.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            p.get("in")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )
    };
    let own = list(op.item.get("parameters"));
    let mut all: Vec<&'s Value> = list(op.path_item.get("parameters"))
        .into_iter()
        .filter(|p| !own.iter().any(|o| key(o) == key(p)))
        .collect();
    all.extend(own);
    all
}

fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// Converts raw parameter text to the JSON value its declared type implies, then checks it
/// with the parameter itself as the schema (Swagger 2.0 puts type/pattern/enum on it).
fn check_parameter(
    spec: &ServiceSpec,
    part: Part,
    param: &Value,
    name: &str,
    raw: &[String],
    outcome: &mut Outcome,
) {
    let ty = param
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let value = if ty == "array" {
        let separator = match param.get("collectionFormat").and_then(Value::as_str) {
            Some("ssv") => " ",
            Some("tsv") => "\t",
            Some("pipes") => "|",
            Some("multi") => "",
            _ => ",",
        };
        let item_ty = param
            .pointer("/items/type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        let parts: Vec<Value> = if separator.is_empty() {
            raw.iter().map(|r| coerce(item_ty, r)).collect()
        } else {
            raw.iter()
                .flat_map(|r| r.split(separator))
                .map(|r| coerce(item_ty, r))
                .collect()
        };
        Value::Array(parts)
    } else {
        match raw.first() {
            Some(first) => coerce(ty, first),
            None => return,
        }
    };
    // Only the value keywords of a parameter are a schema; `required: true` is not.
    let mut schema = serde_json::Map::new();
    for key in [
        "type",
        "format",
        "enum",
        "pattern",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "items",
        "maxItems",
        "minItems",
        "uniqueItems",
    ] {
        if let Some(v) = param.get(key) {
            schema.insert(key.to_string(), v.clone());
        }
    }
    let mut walker = Walker::new(spec, Side::Request, part, Vec::new()).at(name);
    walker.check(&Value::Object(schema), &value);
    outcome.absorb(walker);
}

fn coerce(ty: &str, raw: &str) -> Value {
    match ty {
        "integer" => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(raw.to_string())),
        "number" => raw
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(raw.to_string())),
        "boolean" => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        },
        _ => Value::String(raw.to_string()),
    }
}
