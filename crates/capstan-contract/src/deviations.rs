//! THE list of documented real-world deviations from the official specs. Nothing else in
//! this crate relaxes a check. `DEVIATIONS.md` beside `Cargo.toml` is the human-readable
//! mirror of this table; a test keeps the two in step and checks every entry still refers to
//! the spec as it is (so the list cannot rot).
//!
//! Every entry says which service and operations it relaxes, what exactly it relaxes, why,
//! and where the fact comes from.

use crate::service::Service;
use crate::violation::JsonType;

/// A method and a path template as written in the spec (`/vms/list`, not
/// `/api/nutanix/v3/vms/list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationKey {
    /// Upper case.
    pub method: &'static str,
    pub template: &'static str,
}

impl OperationKey {
    pub const fn new(method: &'static str, template: &'static str) -> OperationKey {
        OperationKey { method, template }
    }
}

impl std::fmt::Display for OperationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

/// Which operations of the service a deviation covers.
#[derive(Debug, Clone, Copy)]
pub enum Operations {
    All,
    Only(&'static [OperationKey]),
}

/// Request or response side of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// An inclusive range of HTTP status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub from: u16,
    pub to: u16,
}

impl StatusRange {
    pub const fn one(status: u16) -> StatusRange {
        StatusRange {
            from: status,
            to: status,
        }
    }

    pub fn contains(self, status: u16) -> bool {
        (self.from..=self.to).contains(&status)
    }
}

/// The schema an undocumented status is checked against.
#[derive(Debug, Clone, Copy)]
pub enum BodySchema {
    /// `V1Error` from the official `palette/error_v1.json`.
    PaletteErrorV1,
    /// A Swagger schema written here (JSON text; may `$ref` the service's definitions).
    Inline(&'static str),
}

/// What a deviation relaxes.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// The operation is real but absent from the spec. `operations` must be `Only([it])`.
    /// Request and documented responses are checked against the schemas given here
    /// (`None` = no body check); other statuses go through the other deviations.
    UndocumentedOperation {
        request: Option<&'static str>,
        responses: &'static [(u16, Option<&'static str>)],
    },
    /// Statuses the spec does not document for the covered operations, and what their body is.
    UndocumentedStatus {
        statuses: StatusRange,
        body: BodySchema,
    },
    /// The response body for these statuses may be empty or not JSON.
    NonJsonBody { statuses: StatusRange },
    /// At `pointer` (JSON pointer, `*` = any one segment), values of `types` are accepted
    /// instead of the documented schema.
    AllowType {
        side: Side,
        pointer: &'static str,
        types: &'static [JsonType],
    },
    /// The required properties at these pointers may be missing.
    AllowMissing {
        side: Side,
        pointers: &'static [&'static str],
    },
}

/// One documented deviation.
#[derive(Debug)]
pub struct Deviation {
    /// Stable id, also the heading in `DEVIATIONS.md`.
    pub id: &'static str,
    pub service: Service,
    pub operations: Operations,
    pub rule: Rule,
    /// Where the real-world fact comes from.
    pub source: &'static str,
    /// Why the deviation exists, in one or two sentences.
    pub reason: &'static str,
}

impl Deviation {
    /// True when this deviation covers `method` + `template` of `service`.
    pub fn covers(&self, service: Service, method: &str, template: &str) -> bool {
        self.service == service
            && match self.operations {
                Operations::All => true,
                Operations::Only(keys) => keys
                    .iter()
                    .any(|k| k.method.eq_ignore_ascii_case(method) && k.template == template),
            }
    }
}

/// Finds a deviation by id.
pub fn deviation(id: &str) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.id == id)
}

const SYSLOGIN: &[OperationKey] = &[OperationKey::new("POST", "/v1/auth/syslogin")];
/// Prism's asynchronous VM operations (202 + task).
const PRISM_VM_ASYNC: &[OperationKey] = &[
    OperationKey::new("POST", "/vms"),
    OperationKey::new("PUT", "/vms/{uuid}"),
    OperationKey::new("DELETE", "/vms/{uuid}"),
];
const PRISM_VM_DELETE: &[OperationKey] = &[OperationKey::new("DELETE", "/vms/{uuid}")];

/// Every documented deviation. Keep `DEVIATIONS.md` in step (a test checks it).
pub static DEVIATIONS: &[Deviation] = &[
    // ---------------------------------------------------------------- Palette
    Deviation {
        id: "palette-syslogin-undocumented",
        service: Service::Palette,
        operations: Operations::Only(SYSLOGIN),
        rule: Rule::UndocumentedOperation {
            request: Some(
                r#"{"type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}"#,
            ),
            responses: &[(
                200,
                Some(
                    r#"{"type": "object", "required": ["Authorization"],
                        "properties": {"Authorization": {"type": "string"},
                                       "IsPasswordReset": {"type": "boolean"}}}"#,
                ),
            )],
        },
        source: "shared/reference/palette-api.md §1.2 and §10 item 1 (librarium \
                 user-management/authentication/authorization-token.md)",
        reason: "The system-console login exists on self-hosted Palette and VerteX but the public \
                 4.8 docs-spec omits it; its body shapes come from the docs.",
    },
    Deviation {
        id: "palette-error-responses",
        service: Service::Palette,
        operations: Operations::All,
        rule: Rule::UndocumentedStatus {
            statuses: StatusRange { from: 400, to: 599 },
            body: BodySchema::PaletteErrorV1,
        },
        source: "shared/reference/palette-api.md §1.4; shared/specs/palette/error_v1.json \
                 (V1Error, the SDK's error mixin)",
        reason: "The spec documents almost no error statuses, yet every operation can fail with \
                 400/401/403/404/409/429/500 and a V1Error body {code, message, ref, details}.",
    },
    // ---------------------------------------------------------------- Prism Central
    Deviation {
        id: "prism-message-details-string",
        service: Service::Prism,
        operations: Operations::All,
        rule: Rule::AllowType {
            side: Side::Response,
            pointer: "/message_list/*/details",
            types: &[JsonType::String],
        },
        source: "shared/reference/prism-capx.md §1.2, §1.7 and §1.9 (recorded PC responses in \
                 prism-go-client v3/mocks)",
        reason: "message_resource.details is a map<string,string> in the spec, but real Prism \
                 Central sends a plain string (e.g. \"Invalid Credentials\").",
    },
    Deviation {
        id: "prism-async-status-partial",
        service: Service::Prism,
        operations: Operations::Only(PRISM_VM_ASYNC),
        rule: Rule::AllowMissing {
            side: Side::Response,
            pointers: &["/status/name", "/status/resources"],
        },
        source: "prism-go-client v3/mocks/TestOperations_CreateVM.yaml @ 341f17c (recorded \
                 pc.2024.3.0.1) and TestOperations_DeleteRecoveryPlan.yaml @ c168089 (pc.2024.1)",
        reason: "A 202 answer to an asynchronous create/update/delete carries only \
                 status {state: PENDING | DELETE_PENDING, execution_context: {task_uuid}}, \
                 while vm_def_status requires name and resources.",
    },
    Deviation {
        id: "prism-delete-spec-empty-string",
        service: Service::Prism,
        operations: Operations::Only(PRISM_VM_DELETE),
        rule: Rule::AllowType {
            side: Side::Response,
            pointer: "/spec",
            types: &[JsonType::String],
        },
        source: "prism-go-client v3/mocks/TestOperations_DeleteRecoveryPlan.yaml @ c168089 \
                 (recorded pc.2024.1: \"spec\": \"\")",
        reason: "The 202 answer to a v3 DELETE sends \"spec\": \"\" (an empty string) where the \
                 spec documents the entity's spec object.",
    },
    Deviation {
        id: "prism-401-non-json",
        service: Service::Prism,
        operations: Operations::All,
        rule: Rule::NonJsonBody {
            statuses: StatusRange::one(401),
        },
        source: "shared/reference/prism-capx.md §1.2 and §1.9 (prism-go-client special-cases 401 \
                 because the body is sometimes not JSON)",
        reason: "On bad credentials real Prism Central sometimes answers 401 with an empty or \
                 plain-text body instead of the status envelope.",
    },
];
