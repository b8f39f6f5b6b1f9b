//! The operations Capstan's workflow uses (shared/reference/palette-api.md §1–6 and
//! prism-capx.md §1.4–1.6 and §10). The report measures coverage against this list, and a test
//! checks every entry is in the spec (or is an undocumented-operation deviation).

use crate::deviations::OperationKey;
use crate::service::Service;

const fn op(method: &'static str, template: &'static str) -> OperationKey {
    OperationKey::new(method, template)
}

/// Palette operations of the five workflow steps.
pub static PALETTE_USED: &[OperationKey] = &[
    // auth and identity
    op("POST", "/v1/auth/syslogin"),
    op("POST", "/v1/auth/authenticate"),
    op("GET", "/v1/users/info"),
    op("GET", "/v1/dashboard/projects/metadata"),
    op("GET", "/v1/projects/{uid}"),
    op("GET", "/v1/system/users/me"),
    // step 1: cloud type
    op("POST", "/v1/clouds/cloudTypes/register"),
    op("GET", "/v1/clouds/cloudTypes"),
    op("PUT", "/v1/clouds/cloudTypes/{cloudType}/logo"),
    op(
        "PUT",
        "/v1/clouds/cloudTypes/{cloudType}/content/cloudProvider",
    ),
    op(
        "PUT",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/clusterTemplate",
    ),
    op(
        "PUT",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/controlPlanePoolTemplate",
    ),
    op(
        "PUT",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/workerPoolTemplate",
    ),
    op(
        "GET",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/clusterTemplate",
    ),
    op(
        "GET",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/controlPlanePoolTemplate",
    ),
    op(
        "GET",
        "/v1/clouds/cloudTypes/{cloudType}/content/templates/workerPoolTemplate",
    ),
    op("PUT", "/v1/clouds/cloudTypes/{cloudType}/cloudAccountKeys"),
    op("GET", "/v1/clouds/cloudTypes/{cloudType}/cloudAccountKeys"),
    op("DELETE", "/v1/clouds/cloudTypes/{cloudType}"),
    // step 2: PCG
    op("POST", "/v1/pcg/selfHosted"),
    op("GET", "/v1/pcg/{uid}/services/ally/manifest"),
    op("GET", "/v1/pcg/{uid}/services/jet/manifest"),
    op("GET", "/v1/overlords"),
    op("GET", "/v1/overlords/{uid}"),
    op("DELETE", "/v1/overlords/{uid}"),
    // step 3: cloud account
    op("POST", "/v1/cloudaccounts/cloudTypes/{cloudType}"),
    op("GET", "/v1/cloudaccounts/cloudTypes/{cloudType}"),
    op("GET", "/v1/cloudaccounts/cloudTypes/{cloudType}/{uid}"),
    op("PUT", "/v1/cloudaccounts/cloudTypes/{cloudType}/{uid}"),
    op("DELETE", "/v1/cloudaccounts/cloudTypes/{cloudType}/{uid}"),
    // step 4: cluster profile
    op("GET", "/v1/clusterprofiles/validate/name"),
    op("POST", "/v1/clusterprofiles"),
    op("PATCH", "/v1/clusterprofiles/{uid}/publish"),
    op("GET", "/v1/clusterprofiles/{uid}"),
    op("DELETE", "/v1/clusterprofiles/{uid}"),
    // step 5: cluster and day 2
    op("GET", "/v1/spectroclusters/validate/name"),
    op("POST", "/v1/spectroclusters/cloudTypes/{cloudType}"),
    op("GET", "/v1/spectroclusters/{uid}"),
    op("GET", "/v1/spectroclusters/{uid}/status"),
    op("GET", "/v1/dashboard/spectroclusters/{uid}/overview"),
    op("GET", "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}"),
    op(
        "GET",
        "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools/{machinePoolName}/machines",
    ),
    op(
        "PUT",
        "/v1/cloudconfigs/cloudTypes/{cloudType}/{configUid}/machinePools/{machinePoolName}",
    ),
    op("GET", "/v1/spectroclusters/{uid}/assets/kubeconfig"),
    op("GET", "/v1/spectroclusters/{uid}/assets/kubeconfigclient"),
    op("DELETE", "/v1/spectroclusters/{uid}"),
    // day-2: move to another version of the profile
    op("GET", "/v1/spectroclusters/{uid}/profiles"),
    op("PATCH", "/v1/spectroclusters/{uid}/profiles"),
];

/// Prism Central v3 operations the client, preflight and topology use.
pub static PRISM_USED: &[OperationKey] = &[
    op("GET", "/users/me"),
    op("GET", "/prism_central"),
    op("GET", "/versions"),
    op("POST", "/clusters/list"),
    op("GET", "/clusters/{uuid}"),
    op("POST", "/subnets/list"),
    op("GET", "/subnets/{uuid}"),
    op("POST", "/images/list"),
    op("GET", "/images/{uuid}"),
    op("POST", "/vms/list"),
    op("GET", "/vms/{uuid}"),
    op("POST", "/projects/list"),
    op("GET", "/projects/{uuid}"),
    op("POST", "/hosts/list"),
    op("GET", "/hosts/{uuid}"),
    op("POST", "/tasks/list"),
    op("GET", "/tasks/{uuid}"),
    op("POST", "/categories/list"),
    op("POST", "/categories/{name}/list"),
    op("GET", "/categories/{name}"),
    op("GET", "/categories/{name}/{value}"),
];

pub fn used_operations(service: Service) -> &'static [OperationKey] {
    match service {
        Service::Palette => PALETTE_USED,
        Service::Prism => PRISM_USED,
    }
}
