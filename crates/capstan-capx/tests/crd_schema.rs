//! Rendered objects checked against the real CAPX CRD schemas (openAPIV3Schema of
//! v1beta1) from the fixtures directory, after Palette's own server-side macros are filled.
//! A small structural checker: types, required, enum, minimum, min/maxLength, unknown
//! fields, int-or-string quantities, plus CAPX's identifier CEL rules written out by hand.

mod common;

use capstan_capx::macros::substitute;
use capstan_capx::render::{render_all, render_pool};
use capstan_capx::sizes::Quantity;
use capstan_capx::templates::CapxLine;
use capstan_capx::yaml::{self, get, kind_of};
use serde_norway::Value;

fn crd_schema(dir: &std::path::Path, plural: &str) -> Value {
    let path = dir.join(format!(
        "crds/infrastructure.cluster.x-k8s.io_{plural}.yaml"
    ));
    let text = std::fs::read_to_string(&path).expect("crd");
    let crd: Value = serde_norway::from_str(&text).expect("crd parses");
    get(&crd, &["spec", "versions"])
        .and_then(Value::as_sequence)
        .and_then(|versions| {
            versions
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some("v1beta1"))
        })
        .and_then(|v| get(v, &["schema", "openAPIV3Schema"]))
        .cloned()
        .expect("v1beta1 schema")
}

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if int_or_string {
        match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => {}
            Value::String(s) => {
                if schema.get("pattern").is_some() && Quantity::parse(s).is_err() {
                    errors.push(format!("{path}: {s:?} is not a quantity"));
                }
            }
            other => errors.push(format!("{path}: {other:?} is neither int nor string")),
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let ok = match (ty, value) {
        (Some("object"), Value::Mapping(_))
        | (Some("array"), Value::Sequence(_))
        | (Some("string"), Value::String(_))
        | (Some("boolean"), Value::Bool(_))
        | (None, _) => true,
        (Some("integer"), Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Some("number"), Value::Number(_)) => true,
        _ => false,
    };
    if !ok {
        errors.push(format!("{path}: expected {ty:?}, got {value:?}"));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_sequence)
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value:?} not in {allowed:?}"));
    }
    if let (Some(min), Value::Number(n)) = (schema.get("minimum").and_then(Value::as_i64), value)
        && n.as_i64().is_some_and(|n| n < min)
    {
        errors.push(format!("{path}: {n} < minimum {min}"));
    }
    if let Value::String(s) = value {
        let len = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            errors.push(format!("{path}: shorter than {min}"));
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            errors.push(format!("{path}: longer than {max}"));
        }
    }
    match value {
        Value::Mapping(map) => {
            let props = schema.get("properties").and_then(Value::as_mapping);
            for req in schema
                .get("required")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                if !map.contains_key(req) {
                    errors.push(format!("{path}: required {req:?} missing"));
                }
            }
            // NutanixResourceIdentifier CEL rules (name iff type=name, uuid iff type=uuid).
            if let Some(t) = map.get("type").and_then(Value::as_str)
                && props.is_some_and(|p| p.contains_key("uuid") && p.contains_key("name"))
            {
                let has = |k: &str| map.contains_key(k);
                if (t == "name") != has("name") || (t == "uuid") != has("uuid") {
                    errors.push(format!("{path}: identifier CEL rule violated"));
                }
            }
            for (k, v) in map {
                let key = yaml::scalar_text(k).unwrap_or_default();
                match props.and_then(|p| p.get(&key)) {
                    Some(sub) => check(sub, v, &format!("{path}.{key}"), errors),
                    None if props.is_some() => {
                        errors.push(format!("{path}: unknown field {key:?}"));
                    }
                    None => {}
                }
            }
        }
        Value::Sequence(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

/// Errors of `doc` against the CRD schema; `status` and `metadata` are left to the API server.
fn errors_for(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if let (Some(spec_schema), Some(spec)) = (get(schema, &["properties", "spec"]), doc.get("spec"))
    {
        check(spec_schema, spec, "spec", &mut errors);
    } else {
        errors.push("no spec".into());
    }
    errors
}

/// What Palette does server-side: fill the account keys and the cluster name (text
/// substitution, as envsubst would).
fn fill_server_macros(text: &str) -> String {
    substitute(
        text,
        &|name| {
            Some(
                match name {
                    "CLUSTER_NAME" => "ntx-dev-1",
                    "NUTANIX_ENDPOINT" => "pc.example.internal",
                    "NUTANIX_PORT" => "9440",
                    "NUTANIX_INSECURE" => "false",
                    "NUTANIX_USER" => "admin",
                    "NUTANIX_PASSWORD" => "pw",
                    _ => return None,
                }
                .to_owned(),
            )
        },
        &|_| false,
    )
}

#[test]
fn rendered_objects_conform_to_the_capx_crds() {
    let Some(dir) = common::capx_specs("rendered_objects_conform_to_the_capx_crds") else {
        return;
    };
    let nmt_schema = crd_schema(&dir, "nutanixmachinetemplates");
    let nc_schema = crd_schema(&dir, "nutanixclusters");
    for line in CapxLine::ALL {
        let r = render_all(
            &line.templates(),
            &common::cluster_choices(),
            &common::control_plane_choices(),
            &common::worker_choices(),
        )
        .expect("render");
        for pool in [&r.control_plane_pool.yaml, &r.worker_pool.yaml] {
            let docs = yaml::parse_documents("pool", &fill_server_macros(pool)).expect("parse");
            let nmt = docs
                .iter()
                .find(|d| kind_of(d) == Some("NutanixMachineTemplate"))
                .expect("nmt");
            let errors = errors_for(&nmt_schema, nmt);
            assert!(errors.is_empty(), "{line:?}: {errors:#?}");
        }
        let docs =
            yaml::parse_documents("cluster", &fill_server_macros(&r.cluster.yaml)).expect("parse");
        let nc = docs
            .iter()
            .find(|d| kind_of(d) == Some("NutanixCluster"))
            .expect("nc");
        let errors = errors_for(&nc_schema, nc);
        assert!(errors.is_empty(), "{line:?}: {errors:#?}");
    }
}

#[test]
fn the_checker_catches_what_the_api_server_would_refuse() {
    let Some(dir) = common::capx_specs("the_checker_catches_what_the_api_server_would_refuse")
    else {
        return;
    };
    let nmt_schema = crd_schema(&dir, "nutanixmachinetemplates");
    // The unrendered template: sizes are still macro strings, so integers fail.
    let raw = CapxLine::V1_5.templates().worker_pool;
    let docs = yaml::parse_documents("pool", &raw).expect("parse");
    let nmt = docs
        .iter()
        .find(|d| kind_of(d) == Some("NutanixMachineTemplate"))
        .expect("nmt");
    let errors = errors_for(&nmt_schema, nmt);
    assert!(
        errors.iter().any(|e| e.contains("vcpuSockets")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.contains("bootType")), "{errors:#?}");

    // A rendered pool with a hand-broken identifier and a zero socket count.
    let r =
        render_pool(&raw, &common::cluster_choices(), &common::worker_choices()).expect("render");
    let broken = r
        .yaml
        .replace(
            "type: uuid\n        uuid: 0005f1c2",
            "type: name\n        uuid: 0005f1c2",
        )
        .replace("vcpuSockets: 4", "vcpuSockets: 0");
    assert_ne!(broken, r.yaml);
    let docs = yaml::parse_documents("pool", &fill_server_macros(&broken)).expect("parse");
    let nmt = docs
        .iter()
        .find(|d| kind_of(d) == Some("NutanixMachineTemplate"))
        .expect("nmt");
    let errors = errors_for(&nmt_schema, nmt);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}
