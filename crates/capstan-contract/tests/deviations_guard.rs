//! Keeps the deviation list honest: every entry refers to the spec as it is, is mirrored in
//! DEVIATIONS.md, and is really needed by a realistic body (so stale entries get noticed).

use std::collections::BTreeSet;

use capstan_contract::deviations::{BodySchema, Operations, Rule};
use capstan_contract::{BodyRef, DEVIATIONS, Service, specs_or_skip, used_operations};
use serde_json::{Value, json};

#[test]
fn deviation_ids_are_unique_and_described() {
    let mut seen = BTreeSet::new();
    for d in DEVIATIONS {
        assert!(seen.insert(d.id), "duplicate deviation id {}", d.id);
        assert!(
            d.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "id {} should be kebab-case",
            d.id
        );
        assert!(
            d.source.len() > 10 && d.reason.len() > 20,
            "{} needs a source and a reason",
            d.id
        );
    }
}

#[test]
fn every_deviation_is_mirrored_in_deviations_md() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/DEVIATIONS.md");
    let text = std::fs::read_to_string(path).expect("DEVIATIONS.md beside Cargo.toml");
    let headings: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| h.trim().trim_matches('`'))
        .collect();
    let ids: BTreeSet<&str> = DEVIATIONS.iter().map(|d| d.id).collect();
    assert_eq!(
        headings, ids,
        "DEVIATIONS.md headings (### `id`) must list exactly the entries of deviations.rs"
    );
}

#[test]
fn inline_schemas_and_pointers_are_well_formed() {
    for d in DEVIATIONS {
        let mut texts: Vec<&str> = Vec::new();
        let mut pointers: Vec<&str> = Vec::new();
        match d.rule {
            Rule::UndocumentedOperation { request, responses } => {
                texts.extend(request);
                texts.extend(responses.iter().filter_map(|(_, s)| *s));
                assert!(
                    matches!(d.operations, Operations::Only(ops) if ops.len() == 1),
                    "{}: an undocumented operation names exactly one operation",
                    d.id
                );
            }
            Rule::UndocumentedStatus {
                body: BodySchema::Inline(text),
                ..
            } => texts.push(text),
            Rule::AllowType { pointer, .. } => pointers.push(pointer),
            Rule::AllowMissing { pointers: list, .. } => pointers.extend(list),
            _ => {}
        }
        for pointer in pointers {
            assert!(
                pointer.starts_with('/') && !pointer.ends_with('/'),
                "{}: pointer {pointer} must be a JSON pointer",
                d.id
            );
        }
        for text in texts {
            let schema: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}: inline schema is not JSON: {e}", d.id));
            assert!(schema.is_object(), "{}: schema must be an object", d.id);
        }
    }
}

#[test]
fn every_deviation_refers_to_the_spec_as_it_is() {
    let specs = specs_or_skip!();
    for d in DEVIATIONS {
        let Operations::Only(ops) = d.operations else {
            continue;
        };
        let spec = specs.spec(d.service);
        for op in ops {
            let present = spec.has_operation(op.method, op.template);
            if matches!(d.rule, Rule::UndocumentedOperation { .. }) {
                assert!(
                    !present,
                    "{}: {op} is in the {} spec now; drop the deviation",
                    d.id, d.service
                );
            } else {
                assert!(
                    present,
                    "{}: {op} is not an operation of the {} spec",
                    d.id, d.service
                );
            }
        }
    }
}

#[test]
fn every_used_operation_is_in_the_spec_or_a_documented_deviation() {
    let specs = specs_or_skip!();
    for service in Service::ALL {
        for op in used_operations(service) {
            let in_spec = specs.spec(service).has_operation(op.method, op.template);
            let undocumented = DEVIATIONS.iter().any(|d| {
                matches!(d.rule, Rule::UndocumentedOperation { .. })
                    && d.covers(service, op.method, op.template)
            });
            assert!(
                in_spec || undocumented,
                "{service} {op} is neither in the spec nor a deviation"
            );
        }
    }
}

/// Realistic exchanges, one per deviation, each of which fails without its deviation. The
/// test fails when an entry is no longer needed (or a new one has no example here).
#[test]
fn every_deviation_is_needed_by_a_realistic_exchange() {
    let specs = specs_or_skip!();
    let mut applied = BTreeSet::new();
    let mut record = |outcome: capstan_contract::Outcome| {
        assert!(outcome.is_ok(), "{:?}", outcome.violations);
        applied.extend(outcome.deviations_applied);
    };
    let syslogin = json!({"username": "admin", "password": "secret"});
    record(specs.check_request(
        Service::Palette,
        "POST",
        "/v1/auth/syslogin",
        None,
        Some("application/json"),
        BodyRef::Json(&syslogin),
    ));
    let not_found: Value =
        json!({"code": "ResourceNotFound", "message": "cluster 'x' not found", "ref": "abc"});
    record(specs.check_response(
        Service::Palette,
        "GET",
        "/v1/spectroclusters/x",
        404,
        Some("application/json"),
        BodyRef::Json(&not_found),
    ));
    let denied = json!({"api_version": "3.1", "code": 401, "state": "ERROR",
        "message_list": [{"reason": "AUTHENTICATION_REQUIRED", "message": "Authentication required.",
                          "details": "Invalid Credentials"}]});
    record(specs.check_response(
        Service::Prism,
        "POST",
        "/api/nutanix/v3/subnets/list",
        401,
        Some("application/json"),
        BodyRef::Json(&denied),
    ));
    record(specs.check_response(
        Service::Prism,
        "GET",
        "/api/nutanix/v3/users/me",
        401,
        None,
        BodyRef::Empty,
    ));
    // Recorded PC answers (prism-go-client v3/mocks), trimmed.
    let created = json!({"api_version": "3.1",
        "metadata": {"kind": "vm", "spec_version": 0, "uuid": "bdbbad7a-a401-4f9a-a789-2b8406905b56"},
        "spec": {"name": "test-vm", "resources": {"num_sockets": 1, "memory_size_mib": 1024}},
        "status": {"state": "PENDING",
                   "execution_context": {"task_uuid": "e074cb94-1123-4dca-82b0-b842f019a825"}}});
    record(specs.check_response(
        Service::Prism,
        "POST",
        "/api/nutanix/v3/vms",
        202,
        Some("application/json"),
        BodyRef::Json(&created),
    ));
    let deleted = json!({"api_version": "3.1", "metadata": {"kind": "vm"}, "spec": "",
        "status": {"state": "DELETE_PENDING",
                   "execution_context": {"task_uuid": "617c0c6f-8c0d-4785-8ea6-fe8689ad5c6a"}}});
    record(specs.check_response(
        Service::Prism,
        "DELETE",
        "/api/nutanix/v3/vms/bdbbad7a-a401-4f9a-a789-2b8406905b56",
        202,
        Some("application/json"),
        BodyRef::Json(&deleted),
    ));
    let all: BTreeSet<&str> = DEVIATIONS.iter().map(|d| d.id).collect();
    assert_eq!(applied, all, "deviations exercised vs listed");
}
