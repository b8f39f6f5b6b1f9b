//! Hand-written valid and invalid bodies for real operations of both specs. Each invalid body
//! is wrong in one known way, and the test checks the violation names that place.

use capstan_contract::{
    BodyRef, Part, Payload, RecordedExchange, Service, Violation, specs_or_skip,
};
use serde_json::json;

fn pointers(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.pointer.as_str()).collect()
}

#[test]
fn specs_load_quickly_and_completely() {
    let specs = specs_or_skip!();
    assert!(specs.spec(Service::Palette).operation_count() > 1000);
    assert!(specs.spec(Service::Prism).operation_count() > 400);
    assert_eq!(specs.spec(Service::Prism).base_path(), "/api/nutanix/v3");
    assert_eq!(specs.spec(Service::Palette).base_path(), "");
    eprintln!(
        "specs loaded from {} in {:?}",
        specs.dir().display(),
        specs.load_time()
    );
    // Both documents (~5.6 MB) parse in well under the time a test suite notices, even in a
    // debug build on a busy 2-core machine.
    assert!(
        specs.load_time().as_secs_f64() < 5.0,
        "loading took {:?}",
        specs.load_time()
    );
}

#[test]
fn palette_users_info_accepts_the_documented_shape() {
    let specs = specs_or_skip!();
    let ok = json!({"userUid": "5f1a", "tenantUid": "6a2b", "orgName": "acme"});
    specs
        .validate_response(Service::Palette, "GET", "/v1/users/info", 200, &ok)
        .expect("a valid v1UserInfo");
    let wrong = json!({"userUid": 42, "tenantUid": "6a2b"});
    let violations = specs
        .validate_response(Service::Palette, "GET", "/v1/users/info", 200, &wrong)
        .expect_err("userUid must be a string");
    assert_eq!(pointers(&violations), ["/userUid"]);
    assert_eq!(violations[0].part, Part::ResponseBody);
    assert_eq!(violations[0].expected, "string");
}

#[test]
fn palette_register_cloud_type_request_is_checked_deeply() {
    let specs = specs_or_skip!();
    let path = "/v1/clouds/cloudTypes/register";
    let ok = json!({
        "metadata": {"name": "nutanix", "annotations": {}, "labels": {}},
        "spec": {"displayName": "Nutanix", "isControlPlaneManaged": false, "cloudCategory": "datacenter"}
    });
    specs
        .validate_request(Service::Palette, "POST", path, &ok)
        .expect("a valid v1CustomCloudRequestEntity");
    let wrong = json!({
        "metadata": {"name": "nutanix", "labels": {"tier": 1}},
        "spec": {"displayName": "Nutanix", "isControlPlaneManaged": "no", "cloudCategory": "onprem"}
    });
    let violations = specs
        .validate_request(Service::Palette, "POST", path, &wrong)
        .expect_err("three mistakes");
    let mut found = pointers(&violations);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "/metadata/labels/tier",
            "/spec/cloudCategory",
            "/spec/isControlPlaneManaged"
        ]
    );
    let category = violations
        .iter()
        .find(|v| v.pointer == "/spec/cloudCategory")
        .expect("enum violation");
    assert!(category.expected.contains("\"datacenter\""), "{category}");
    // The create answers 201 {uid}; `uid` is required.
    specs
        .validate_response(Service::Palette, "POST", path, 201, &json!({"uid": "abc"}))
        .expect("v1Uid");
    let violations = specs
        .validate_response(Service::Palette, "POST", path, 201, &json!({}))
        .expect_err("uid is required");
    assert_eq!(pointers(&violations), ["/uid"]);
    assert!(violations[0].expected.contains("required"));
}

#[test]
fn palette_overlord_get_checks_nested_types_and_dates() {
    let specs = specs_or_skip!();
    let ok = json!({
        "kind": "overlord",
        "metadata": {"uid": "64f0c0de", "name": "pcg-1", "creationTimestamp": "2026-11-21T06:00:00.000Z",
                      "annotations": {"scope": "tenant"}},
        "spec": {"isSelfHosted": true, "cloudAccountUid": "", "spectroClusterUid": "", "ipPools": []},
        "status": {"state": "Running", "isActive": true, "isReady": true,
                   "kubectlCommands": ["kubectl apply -f a", "kubectl apply -f b"]}
    });
    specs
        .validate_response(Service::Palette, "GET", "/v1/overlords/64f0c0de", 200, &ok)
        .expect("a valid v1Overlord");
    let mut wrong = ok.clone();
    wrong["metadata"]["creationTimestamp"] = json!("yesterday");
    wrong["status"]["kubectlCommands"] = json!(["same", "same"]);
    wrong["status"]["isReady"] = json!(null);
    let violations = specs
        .validate_response(
            Service::Palette,
            "GET",
            "/v1/overlords/64f0c0de",
            200,
            &wrong,
        )
        .expect_err("bad date, duplicate commands, null bool");
    let mut found = pointers(&violations);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "/metadata/creationTimestamp",
            "/status/isReady",
            "/status/kubectlCommands"
        ]
    );
}

#[test]
fn palette_not_found_is_a_v1_error_thanks_to_the_documented_deviation() {
    let specs = specs_or_skip!();
    let body =
        json!({"code": "ResourceNotFound", "message": "Overlord 'x' not found", "ref": "r-1"});
    let outcome = specs.check_response(
        Service::Palette,
        "GET",
        "/v1/overlords/x",
        404,
        Some("application/json; charset=utf-8"),
        BodyRef::Json(&body),
    );
    assert!(outcome.is_ok(), "{:?}", outcome.violations);
    assert!(
        outcome
            .deviations_applied
            .contains("palette-error-responses")
    );
    let wrong = json!({"code": 404, "message": "not found"});
    let violations = specs
        .validate_response(Service::Palette, "GET", "/v1/overlords/x", 404, &wrong)
        .expect_err("V1Error.code is a string");
    assert_eq!(pointers(&violations), ["/code"]);
}

#[test]
fn undocumented_success_status_is_a_violation() {
    let specs = specs_or_skip!();
    // Create is documented as 201 only.
    let violations = specs
        .validate_response(
            Service::Palette,
            "POST",
            "/v1/cloudaccounts/cloudTypes/nutanix",
            200,
            &json!({"uid": "a"}),
        )
        .expect_err("200 is not documented");
    assert_eq!(violations[0].part, Part::Status);
    assert!(violations[0].expected.contains("201"), "{}", violations[0]);
}

#[test]
fn prism_default_response_does_not_excuse_an_undocumented_success() {
    let specs = specs_or_skip!();
    // POST /vms documents 202 (and `default`, the error envelope): a 200 is wrong even though
    // its body would satisfy the permissive envelope.
    let body = json!({"api_version": "3.1", "metadata": {"kind": "vm"}});
    let violations = specs
        .validate_response(Service::Prism, "POST", "/api/nutanix/v3/vms", 200, &body)
        .expect_err("200 is not documented");
    assert_eq!(violations[0].part, Part::Status);
    // Error statuses still fall back to `default`.
    let error = json!({"api_version": "3.1", "code": 500, "state": "ERROR",
        "message_list": [{"reason": "INTERNAL_ERROR", "message": "boom"}]});
    specs
        .validate_response(Service::Prism, "POST", "/api/nutanix/v3/vms", 500, &error)
        .expect("500 uses the default envelope");
}

#[test]
fn unknown_operations_and_methods_are_violations() {
    let specs = specs_or_skip!();
    let violations = specs
        .validate_response(Service::Palette, "GET", "/v2/users/info", 200, &json!({}))
        .expect_err("/v2/... is not in the spec");
    assert_eq!(violations[0].part, Part::Operation);
    let violations = specs
        .validate_response(
            Service::Palette,
            "PATCH",
            "/v1/overlords/x/reset",
            200,
            &json!({}),
        )
        .expect_err("no PATCH");
    assert!(
        violations[0].found.contains("not with PATCH"),
        "{}",
        violations[0]
    );
}

#[test]
fn palette_syslogin_is_checked_against_the_deviation_schema() {
    let specs = specs_or_skip!();
    let path = "/v1/auth/syslogin";
    specs
        .validate_request(
            Service::Palette,
            "POST",
            path,
            &json!({"username": "admin", "password": "x"}),
        )
        .expect("documented body");
    let violations = specs
        .validate_request(
            Service::Palette,
            "POST",
            path,
            &json!({"username": "admin"}),
        )
        .expect_err("password is required");
    assert_eq!(pointers(&violations), ["/password"]);
    specs
        .validate_response(
            Service::Palette,
            "POST",
            path,
            200,
            &json!({"Authorization": "tok", "IsPasswordReset": true}),
        )
        .expect("documented response");
    // Errors of the undocumented operation still follow the V1Error deviation.
    specs
        .validate_response(
            Service::Palette,
            "POST",
            path,
            401,
            &json!({"code": "Unauthorized", "message": "bad credentials"}),
        )
        .expect("V1Error");
}

#[test]
fn palette_binary_and_multipart_are_checked_for_content_type_only() {
    let specs = specs_or_skip!();
    let manifest = "/v1/pcg/abc/services/ally/manifest";
    let ok = specs.check_response(
        Service::Palette,
        "GET",
        manifest,
        200,
        Some("application/octet-stream"),
        BodyRef::Other { len: Some(1200) },
    );
    assert!(ok.is_ok(), "{:?}", ok.violations);
    let wrong = specs.check_response(
        Service::Palette,
        "GET",
        manifest,
        200,
        Some("application/json"),
        BodyRef::Other { len: Some(1200) },
    );
    assert_eq!(wrong.violations[0].part, Part::ResponseContentType);

    // Errors of a download are JSON V1Error bodies, whatever the success `produces` says.
    let missing = specs.check_response(
        Service::Palette,
        "GET",
        manifest,
        404,
        Some("application/json"),
        BodyRef::Json(&json!({"code": "ResourceNotFound", "message": "no such PCG"})),
    );
    assert!(missing.is_ok(), "{:?}", missing.violations);
    let upload = "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate";
    let ok = specs.check_request(
        Service::Palette,
        "PUT",
        upload,
        None,
        Some("multipart/form-data; boundary=xyz"),
        BodyRef::Other { len: Some(4096) },
    );
    assert!(ok.is_ok(), "{:?}", ok.violations);
    assert_eq!(
        ok.operation.map(|o| o.template),
        Some("/v1/clouds/cloudTypes/{cloudType}/content/templates/clusterTemplate".to_string())
    );
    let json_upload = specs.check_request(
        Service::Palette,
        "PUT",
        upload,
        None,
        Some("application/json"),
        BodyRef::Json(&json!({"yaml": "a: b"})),
    );
    let parts: Vec<Part> = json_upload.violations.iter().map(|v| v.part).collect();
    assert_eq!(parts, [Part::RequestContentType, Part::RequestBody]);
    // 204 answers have no body.
    let with_body = specs.check_response(
        Service::Palette,
        "PUT",
        upload,
        204,
        Some("application/json"),
        BodyRef::Json(&json!({"ok": true})),
    );
    assert_eq!(with_body.violations[0].part, Part::ResponseBody);
}

#[test]
fn palette_query_parameters_are_typed() {
    let specs = specs_or_skip!();
    let ok = specs.check_request(
        Service::Palette,
        "POST",
        "/v1/clusterprofiles",
        Some("publish=true"),
        Some("application/json"),
        BodyRef::Json(
            &json!({"metadata": {"name": "p"}, "spec": {"version": "1.0.0",
            "template": {"cloudType": "nutanix", "type": "cluster", "packs": []}}}),
        ),
    );
    assert!(ok.is_ok(), "{:?}", ok.violations);
    let wrong = specs.check_request(
        Service::Palette,
        "GET",
        "/v1/cloudaccounts/cloudTypes/nutanix",
        Some("limit=lots"),
        None,
        BodyRef::Empty,
    );
    assert_eq!(wrong.violations.len(), 1, "{:?}", wrong.violations);
    assert_eq!(wrong.violations[0].part, Part::QueryParameter);
    assert_eq!(wrong.violations[0].pointer, "/limit");
}

fn vm_entity(uuid: &str) -> serde_json::Value {
    json!({
        "metadata": {"kind": "vm", "uuid": uuid, "spec_version": 3,
                      "categories": {"KubernetesClusterName": "demo"},
                      "creation_time": "2026-01-01T10:00:00Z"},
        "spec": {"name": "demo-kcp-1", "resources": {"num_sockets": 2, "memory_size_mib": 4096}},
        "status": {"name": "demo-kcp-1", "state": "COMPLETE",
                    "resources": {"power_state": "ON", "num_sockets": 2, "memory_size_mib": 4096,
                                  "nic_list": [{"ip_endpoint_list": [{"ip": "10.0.0.5", "type": "ASSIGNED"}]}]}}
    })
}

#[test]
fn prism_vm_list_envelope() {
    let specs = specs_or_skip!();
    let path = "/api/nutanix/v3/vms/list";
    specs
        .validate_request(
            Service::Prism,
            "POST",
            path,
            &json!({"kind": "vm", "length": 100, "offset": 0}),
        )
        .expect("a valid vm_list_metadata");
    // Real PC omits length/offset when the request had none; the spec makes them optional.
    let ok = json!({
        "api_version": "3.1",
        "metadata": {"kind": "vm", "total_matches": 1},
        "entities": [vm_entity("2a7c1b8e-0c5d-4e9a-9d3f-0b1c2d3e4f50")]
    });
    specs
        .validate_response(Service::Prism, "POST", path, 200, &ok)
        .expect("a valid vm_list_intent_response");
    let mut wrong = ok.clone();
    wrong.as_object_mut().map(|o| o.remove("api_version"));
    wrong["metadata"]["total_matches"] = json!("1");
    wrong["entities"][0]["metadata"]["uuid"] = json!("not-a-uuid");
    let violations = specs
        .validate_response(Service::Prism, "POST", path, 200, &wrong)
        .expect_err("three mistakes");
    let mut found = pointers(&violations);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "/api_version",
            "/entities/0/metadata/uuid",
            "/metadata/total_matches"
        ]
    );
}

#[test]
fn prism_error_envelope_with_string_details_passes_only_thanks_to_the_deviation() {
    let specs = specs_or_skip!();
    let body = json!({
        "api_version": "3.1", "code": 401, "state": "ERROR",
        "message_list": [{"reason": "AUTHENTICATION_REQUIRED", "message": "Authentication required.",
                          "details": "Basic realm=\"Intent Gateway Login Required\""}]
    });
    let outcome = specs.check_response(
        Service::Prism,
        "GET",
        "/api/nutanix/v3/users/me",
        401,
        Some("application/json"),
        BodyRef::Json(&body),
    );
    assert!(outcome.is_ok(), "{:?}", outcome.violations);
    assert_eq!(
        outcome
            .deviations_applied
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        ["prism-message-details-string"]
    );
    // The deviation is for strings only: a number is still wrong.
    let mut wrong = body.clone();
    wrong["message_list"][0]["details"] = json!(7);
    let violations = specs
        .validate_response(
            Service::Prism,
            "GET",
            "/api/nutanix/v3/users/me",
            401,
            &wrong,
        )
        .expect_err("details is neither a map nor a string");
    assert_eq!(pointers(&violations), ["/message_list/0/details"]);
    // And the map the spec documents stays valid; `reason` is still required.
    let mut map = body.clone();
    map["message_list"][0]["details"] = json!({"hint": "log in"});
    map["message_list"][0]
        .as_object_mut()
        .map(|o| o.remove("reason"));
    let violations = specs
        .validate_response(Service::Prism, "GET", "/api/nutanix/v3/users/me", 401, &map)
        .expect_err("reason is required");
    assert_eq!(pointers(&violations), ["/message_list/0/reason"]);
}

#[test]
fn prism_non_json_401_is_a_documented_deviation_but_non_json_200_is_not() {
    let specs = specs_or_skip!();
    let outcome = specs.check_response(
        Service::Prism,
        "POST",
        "/api/nutanix/v3/clusters/list",
        401,
        Some("text/plain"),
        BodyRef::Other { len: Some(12) },
    );
    assert!(outcome.is_ok(), "{:?}", outcome.violations);
    assert!(outcome.deviations_applied.contains("prism-401-non-json"));
    let outcome = specs.check_response(
        Service::Prism,
        "POST",
        "/api/nutanix/v3/clusters/list",
        200,
        None,
        BodyRef::Empty,
    );
    assert_eq!(outcome.violations[0].part, Part::ResponseBody);
}

#[test]
fn prism_path_parameters_follow_the_shared_uuid_parameter() {
    let specs = specs_or_skip!();
    let ok = specs.check_request(
        Service::Prism,
        "GET",
        "/api/nutanix/v3/vms/2a7c1b8e-0c5d-4e9a-9d3f-0b1c2d3e4f50",
        None,
        None,
        BodyRef::Empty,
    );
    assert!(ok.is_ok(), "{:?}", ok.violations);
    let wrong = specs.check_request(
        Service::Prism,
        "GET",
        "/api/nutanix/v3/vms/vm-1",
        None,
        None,
        BodyRef::Empty,
    );
    assert_eq!(wrong.violations.len(), 1, "{:?}", wrong.violations);
    assert_eq!(wrong.violations[0].part, Part::PathParameter);
    assert_eq!(wrong.violations[0].pointer, "/uuid");
}

#[test]
fn prism_category_value_get() {
    let specs = specs_or_skip!();
    let path = "/api/nutanix/v3/categories/KubernetesClusterName/demo";
    let ok = json!({"name": "KubernetesClusterName", "value": "demo", "system_defined": false,
                    "api_version": "3.1"});
    specs
        .validate_response(Service::Prism, "GET", path, 200, &ok)
        .expect("a valid category_value_status");
    let not_found = json!({"api_version": "3.1", "code": 404, "kind": "category", "state": "ERROR",
        "message_list": [{"reason": "CATEGORY_NAME_VALUE_MISMATCH",
                          "message": "Specified category value x with category name y doesn't exist."}]});
    specs
        .validate_response(Service::Prism, "GET", path, 404, &not_found)
        .expect("404 falls back to the default status envelope");
}

fn exchange(
    method: &str,
    path: &str,
    status: u16,
    response: serde_json::Value,
) -> RecordedExchange {
    RecordedExchange {
        service: Service::Palette,
        method: method.to_string(),
        path: path.to_string(),
        query: None,
        status,
        request_content_type: None,
        request: Payload::Empty,
        response_content_type: Some("application/json".to_string()),
        response: Payload::Json(response),
    }
}

#[test]
fn report_groups_failures_by_operation_and_measures_coverage() {
    let specs = specs_or_skip!();
    let exchanges = [
        exchange("GET", "/v1/users/info", 200, json!({"userUid": "u"})),
        exchange("GET", "/v1/overlords/a", 200, json!({"kind": 1})),
        exchange("GET", "/v1/overlords/b", 200, json!({"kind": 2})),
        exchange(
            "GET",
            "/v1/overlords/c",
            404,
            json!({"code": "ResourceNotFound"}),
        ),
        exchange("GET", "/v1/nowhere", 200, json!({})),
    ];
    let report = specs.validate_exchanges(&exchanges);
    assert!(!report.is_clean());
    assert_eq!(report.exchanges, 5);
    assert_eq!(report.failing_exchanges(), 3);
    let operations: Vec<&str> = report.failures.keys().map(String::as_str).collect();
    assert_eq!(
        operations,
        [
            "Palette GET /v1/nowhere (unknown operation)",
            "Palette GET /v1/overlords/{uid}"
        ]
    );
    assert_eq!(report.failures["Palette GET /v1/overlords/{uid}"].len(), 2);
    assert_eq!(
        report.deviations_applied.get("palette-error-responses"),
        Some(&1)
    );
    let uncovered = report.uncovered(Service::Palette);
    assert!(!uncovered.iter().any(|k| k.template == "/v1/users/info"));
    assert!(uncovered.iter().any(|k| k.template == "/v1/pcg/selfHosted"));
    let text = report.to_string();
    assert!(text.contains("/v1/overlords/a -> 200"), "{text}");
    assert!(
        text.contains("response body /kind: expected string, found number 1"),
        "{text}"
    );
    assert!(text.contains("Palette: 2/"), "{text}");
}
