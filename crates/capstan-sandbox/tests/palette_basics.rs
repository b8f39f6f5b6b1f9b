//! Palette auth, scope, errors, cloud-type registration and how it changes later calls,
//! packs, profiles and list pagination.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

fn assert_v1_error(v: &Value, code: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(v["ref"].is_string(), "{v}");
    assert!(v["details"].is_object(), "{v}");
}

#[tokio::test]
async fn auth_mechanisms_and_errors() {
    let sb = start(10, 1.0).await;

    let (s, v) = palette(&sb, Method::GET, "/v1/users/info", Auth::None, None).await;
    assert_eq!(s, 401);
    assert_v1_error(&v, "Unauthorized");

    // Header names are case-insensitive.
    let r = client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("apikey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.unwrap();
    assert!(
        info["tenantUid"].is_string() && info["userUid"].is_string() && info["orgName"].is_string()
    );
    let r = client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("ApiKey", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // authenticate -> token in header or cookie; refresh swaps it.
    let (s, v) = palette(
        &sb,
        Method::POST,
        "/v1/auth/authenticate",
        Auth::None,
        Some(json!({"emailId": sb.palette_email(), "org": "capstan-sandbox", "password": sb.palette_password().expose()})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["isMfa"], false);
    let token = v["Authorization"].as_str().unwrap().to_owned();
    let (s, _) = palette(
        &sb,
        Method::GET,
        "/v1/users/info",
        Auth::Token(&token),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let r = client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("Cookie", format!("Authorization={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, v) = palette(
        &sb,
        Method::GET,
        &format!("/v1/auth/refresh/{token}"),
        Auth::None,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let fresh = v["Authorization"].as_str().unwrap().to_owned();
    assert_ne!(fresh, token);
    let (s, _) = palette(
        &sb,
        Method::GET,
        "/v1/users/info",
        Auth::Token(&token),
        None,
    )
    .await;
    assert_eq!(s, 401, "the refreshed-away token is gone");

    // Tokens last 15 demo minutes.
    sb.advance(901.0);
    let (s, v) = palette(
        &sb,
        Method::GET,
        "/v1/users/info",
        Auth::Token(&fresh),
        None,
    )
    .await;
    assert_eq!(s, 401);
    assert_v1_error(&v, "Unauthorized");
    let (s, _) = palette(
        &sb,
        Method::GET,
        &format!("/v1/auth/refresh/{fresh}"),
        Auth::None,
        None,
    )
    .await;
    assert_eq!(s, 401);

    let (s, _) = palette(
        &sb,
        Method::POST,
        "/v1/auth/authenticate",
        Auth::None,
        Some(json!({"emailId": sb.palette_email(), "password": "wrong"})),
    )
    .await;
    assert_eq!(s, 401);

    // The system console.
    let sys = syslogin(&sb).await;
    let (s, v) = palette(
        &sb,
        Method::GET,
        "/v1/system/users/me",
        Auth::Token(&sys),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["spec"]["emailId"], sb.palette_email());
    let (s, _) = pget(&sb, "/v1/system/users/me").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn projects_and_scope() {
    let sb = start(10, 1.0).await;
    let (s, v) = pget(&sb, "/v1/dashboard/projects/metadata").await;
    assert_eq!(s, 200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let uid = items[0]["metadata"]["uid"].as_str().unwrap().to_owned();
    let (s, p) = pget(&sb, &format!("/v1/projects/{uid}")).await;
    assert_eq!(s, 200);
    assert_eq!(p["metadata"]["uid"], uid.as_str());
    let (_, v) = pget(&sb, "/v1/dashboard/projects/metadata?name=Production").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let (s, v) = pget(&sb, "/v1/users").await;
    assert_eq!(s, 200);
    assert_eq!(v["items"][0]["spec"]["emailId"], sb.palette_email());
    assert_eq!(v["listmeta"]["count"], 1);
    let (s, v) = pget(&sb, "/v1/projects/nope").await;
    assert_eq!(s, 404);
    assert_v1_error(&v, "ResourceNotFound");

    let r = client()
        .get(format!("{}/v1/users/info", sb.palette_url()))
        .header("ApiKey", sb.palette_api_key().expose())
        .header("ProjectUid", "not-a-project")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn registering_a_cloud_type_changes_later_calls() {
    let sb = start(10, 1.0).await;

    // Before registration every cloudType-scoped path is 404 ResourceNotFound.
    for (m, path) in [
        (Method::GET, "/v1/cloudaccounts/cloudTypes/nutanix"),
        (Method::POST, "/v1/spectroclusters/cloudTypes/nutanix"),
        (Method::GET, "/v1/cloudconfigs/cloudTypes/nutanix/abc"),
        (
            Method::GET,
            "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate",
        ),
        (
            Method::GET,
            "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys",
        ),
        (Method::GET, "/v1/clouds/cloudTypes/nutanix/meta"),
    ] {
        let body = (m == Method::POST).then(|| json!({}));
        let (s, v) = palette(&sb, m.clone(), path, Auth::ApiKey, body).await;
        assert_eq!(s, 404, "{m} {path}: {v}");
        assert_v1_error(&v, "ResourceNotFound");
    }
    let (_, v) = pget(&sb, "/v1/clouds/cloudTypes").await;
    assert!(
        !v["cloudTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "nutanix")
    );
    // nutanix-csi is not offered yet.
    let (_, v) = ppost(
        &sb,
        "/v1/packs/search",
        json!({"filter": {"layer": ["csi"], "environment": ["nutanix"]}}),
    )
    .await;
    assert!(v["items"].as_array().unwrap().is_empty(), "{v}");

    // Registration needs a system-console token.
    let body = json!({"metadata": {"name": "nutanix"}, "spec": {"displayName": "Nutanix", "cloudCategory": "datacenter"}});
    let (s, v) = ppost(&sb, "/v1/clouds/cloudTypes/register", body.clone()).await;
    assert_eq!(s, 403);
    assert_v1_error(&v, "Forbidden");
    let sys = syslogin(&sb).await;
    let r = client()
        .post(format!(
            "{}/v1/clouds/cloudTypes/register",
            sb.palette_url()
        ))
        .header("Authorization", &sys)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("audituid"));
    let (s, v) = palette(
        &sb,
        Method::POST,
        "/v1/clouds/cloudTypes/register",
        Auth::Token(&sys),
        Some(body),
    )
    .await;
    assert_eq!(s, 409, "duplicate registration");
    assert_v1_error(&v, "AlreadyExists");

    let (_, v) = pget(&sb, "/v1/clouds/cloudTypes").await;
    let ct = v["cloudTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "nutanix")
        .cloned()
        .unwrap();
    assert_eq!(ct["isCustom"], true);
    assert_eq!(ct["cloudCategory"], "datacenter");
    let (s, v) = pget(&sb, "/v1/cloudaccounts/cloudTypes/nutanix").await;
    assert_eq!(s, 200);
    assert_eq!(v["items"], json!([]));
    assert_eq!(v["listmeta"]["count"], 0);
    let (_, v) = pget(&sb, "/v1/clouds/cloudTypes/nutanix/meta").await;
    assert_eq!(v["spec"]["displayName"], "Nutanix");

    // Content and templates: multipart field fileName, read back as {yaml}.
    let s = upload(
        &sb,
        &sys,
        "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate",
        CLUSTER_TEMPLATE.into(),
        "c.yaml",
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = pget(
        &sb,
        "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate",
    )
    .await;
    assert_eq!(v["yaml"], CLUSTER_TEMPLATE);
    let s = upload(
        &sb,
        &sys,
        "/v1/clouds/cloudTypes/nutanix/content/cloudProvider",
        b"kind: List\nitems: []\n".to_vec(),
        "i.yaml",
    )
    .await;
    assert_eq!(s, 204);
    let s = upload(
        &sb,
        &sys,
        "/v1/clouds/cloudTypes/nutanix/content/cloudProvider",
        b"a: [".to_vec(),
        "bad.yaml",
    )
    .await;
    assert_eq!(s, 400, "invalid YAML is refused");
    let (s, _) = palette(
        &sb,
        Method::DELETE,
        "/v1/clouds/cloudTypes/nutanix/content/cloudProvider",
        Auth::Token(&sys),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = pget(&sb, "/v1/clouds/cloudTypes/nutanix/content/cloudProvider").await;
    assert_eq!(s, 404);

    // Logo: at most 100 KB.
    let s = upload(
        &sb,
        &sys,
        "/v1/clouds/cloudTypes/nutanix/logo",
        vec![7u8; 4096],
        "logo.png",
    )
    .await;
    assert_eq!(s, 204);
    let r = client()
        .get(format!(
            "{}/v1/clouds/cloudTypes/nutanix/logo",
            sb.palette_url()
        ))
        .header("ApiKey", sb.palette_api_key().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.bytes().await.unwrap().len(), 4096);
    let s = upload(
        &sb,
        &sys,
        "/v1/clouds/cloudTypes/nutanix/logo",
        vec![7u8; 100 * 1024 + 1],
        "big.png",
    )
    .await;
    assert_eq!(s, 400);

    // Account keys drive the account form.
    let (s, _) = palette(
        &sb,
        Method::PUT,
        "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys",
        Auth::Token(&sys),
        Some(json!({"keys": ["NUTANIX_USER", "NUTANIX_PASSWORD"]})),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = pget(&sb, "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys").await;
    assert_eq!(v["keys"], json!(["NUTANIX_USER", "NUTANIX_PASSWORD"]));

    // Now nutanix-csi is offered for nutanix (and only for it).
    let (_, v) = ppost(
        &sb,
        "/v1/packs/search",
        json!({"filter": {"layer": ["csi"], "environment": ["nutanix"]}}),
    )
    .await;
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["spec"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["nutanix-csi"]);
    let (_, v) = ppost(
        &sb,
        "/v1/packs/search",
        json!({"filter": {"layer": ["csi"], "environment": ["aws"]}}),
    )
    .await;
    assert!(v["items"].as_array().unwrap().is_empty());

    // Unregistering brings the 404s back.
    let (s, _) = palette(
        &sb,
        Method::DELETE,
        "/v1/clouds/cloudTypes/nutanix",
        Auth::Token(&sys),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = pget(&sb, "/v1/cloudaccounts/cloudTypes/nutanix").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn packs_registries_and_list_paging() {
    let sb = start(10, 1.0).await;
    let (_, regs) = pget(&sb, "/v1/registries/metadata").await;
    let regs = regs["items"].as_array().unwrap().clone();
    assert_eq!(regs.len(), 2);
    let public = regs.iter().find(|r| r["isDefault"] == true).unwrap();
    let public_uid = public["uid"].as_str().unwrap();

    let (s, v) = pget(
        &sb,
        &format!("/v1/packs/kubernetes/registries/{public_uid}?cloudType=nutanix&layer=k8s"),
    )
    .await;
    assert_eq!(s, 200);
    let tags: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["version"].as_str().unwrap())
        .collect();
    assert_eq!(tags, vec!["1.29.10", "1.30.6", "1.31.4"]);
    assert_eq!(v["packValues"].as_array().unwrap().len(), 3);
    let (s, _) = pget(
        &sb,
        &format!("/v1/packs/nutanix-csi/registries/{public_uid}"),
    )
    .await;
    assert_eq!(s, 404, "not offered before the nutanix cloud type exists");

    let (_, v) = pget(
        &sb,
        "/v1/packs?filters=spec.name=kubernetesANDspec.version=1.30.6",
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["spec"]["layer"], "k8s");
    let (s, _) = pget(&sb, "/v1/packs?filters=spec.colour=blue").await;
    assert_eq!(s, 400);

    // Paging with opaque continue tokens; limit is capped at 50.
    let (_, all) = pget(&sb, "/v1/packs?limit=100").await;
    assert_eq!(all["listmeta"]["limit"], 50);
    let total = all["listmeta"]["count"].as_u64().unwrap() as usize;
    assert!(total > 5);
    let mut seen = Vec::new();
    let mut path = "/v1/packs?limit=4".to_owned();
    loop {
        let (s, page) = pget(&sb, &path).await;
        assert_eq!(s, 200);
        assert!(page["items"].as_array().unwrap().len() <= 4);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["metadata"]["uid"].as_str().unwrap().to_owned()),
        );
        let cont = page["listmeta"]["continue"].as_str().unwrap();
        if cont.is_empty() {
            break;
        }
        path = format!("/v1/packs?limit=4&continue={cont}");
    }
    assert_eq!(seen.len(), total);
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), total, "no page repeats an item");
    let (s, v) = pget(&sb, "/v1/packs?continue=garbage").await;
    assert_eq!(s, 400);
    assert_v1_error(&v, "BadRequest");
}

#[tokio::test]
async fn cluster_profiles() {
    let sb = start(10, 1.0).await;
    register_nutanix(&sb).await;
    let (s, _) = pget(
        &sb,
        "/v1/clusterprofiles/validate/name?name=infra&version=1.0.0",
    )
    .await;
    assert_eq!(s, 204);
    let uid = profile(&sb, "infra").await;
    let (s, v) = pget(
        &sb,
        "/v1/clusterprofiles/validate/name?name=infra&version=1.0.0",
    )
    .await;
    assert_eq!(s, 409);
    assert_v1_error(&v, "AlreadyExists");

    let (s, v) = pget(&sb, &format!("/v1/clusterprofiles/{uid}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"]["isPublished"], true);
    let packs = v["spec"]["published"]["packs"].as_array().unwrap();
    assert_eq!(packs.len(), 4);
    assert!(
        packs
            .iter()
            .all(|p| p["packUid"].is_string() && p["layer"].is_string())
    );
    assert_eq!(v["spec"]["published"]["cloudType"], "nutanix");

    // Draft, then PATCH publish.
    let (s, v) = ppost(&sb, "/v1/clusterprofiles", json!({"metadata": {"name": "addons"}, "spec": {"version": "0.1.0", "template": {"cloudType": "nutanix", "type": "add-on", "packs": [{"name": "nginx", "tag": "1.11.2"}]}}})).await;
    assert_eq!(s, 201, "{v}");
    let draft = v["uid"].as_str().unwrap().to_owned();
    let (_, v) = pget(&sb, &format!("/v1/clusterprofiles/{draft}")).await;
    assert_eq!(v["status"]["isPublished"], false);
    assert!(v["spec"]["draft"].is_object());
    let (s, _) = palette(
        &sb,
        Method::PATCH,
        &format!("/v1/clusterprofiles/{draft}/publish"),
        Auth::ApiKey,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = pget(&sb, &format!("/v1/clusterprofiles/{draft}")).await;
    assert_eq!(v["status"]["isPublished"], true);

    // Pack sub-resources and variables.
    let (_, v) = pget(&sb, &format!("/v1/clusterprofiles/{uid}/packs")).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 4);
    let (s, v) = pget(&sb, &format!("/v1/clusterprofiles/{uid}/packs/kubernetes")).await;
    assert_eq!(s, 200);
    assert_eq!(v["spec"]["pack"]["version"], "1.30.6");
    let (s, _) = pput(
        &sb,
        &format!("/v1/clusterprofiles/{uid}/packs/kubernetes"),
        json!({"pack": {"name": "kubernetes", "tag": "1.31.4", "values": "custom: true\n"}}),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = pget(&sb, &format!("/v1/clusterprofiles/{uid}/packs/kubernetes")).await;
    assert_eq!(v["spec"]["pack"]["version"], "1.31.4");
    assert_eq!(v["spec"]["pack"]["values"], "custom: true\n");
    let (s, _) = pput(
        &sb,
        &format!("/v1/clusterprofiles/{uid}/variables"),
        json!({"variables": [{"name": "vip", "format": "ipv4", "required": true}]}),
    )
    .await;
    assert_eq!(s, 204);
    let (_, v) = pget(&sb, &format!("/v1/clusterprofiles/{uid}/variables")).await;
    assert_eq!(v["variables"][0]["name"], "vip");

    // Validation: unknown packs, packs for another cloud, unregistered cloud types.
    let (s, v) = ppost(&sb, "/v1/clusterprofiles", json!({"metadata": {"name": "x"}, "spec": {"template": {"cloudType": "nutanix", "packs": [{"name": "no-such-pack", "tag": "1"}]}}})).await;
    assert_eq!(s, 400);
    assert_v1_error(&v, "BadRequest");
    let (s, _) = ppost(&sb, "/v1/clusterprofiles", json!({"metadata": {"name": "y"}, "spec": {"template": {"cloudType": "aws", "packs": [{"name": "nutanix-csi", "tag": "3.2.0"}]}}})).await;
    assert_eq!(s, 400);
    let (s, _) = ppost(&sb, "/v1/clusterprofiles", json!({"metadata": {"name": "z"}, "spec": {"template": {"cloudType": "nope", "packs": []}}})).await;
    assert_eq!(s, 400);

    let (s, _) = pdelete(&sb, &format!("/v1/clusterprofiles/{draft}")).await;
    assert_eq!(s, 204);
    let (s, _) = pget(&sb, &format!("/v1/clusterprofiles/{draft}")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn project_scope_separates_profiles_but_shares_tenant_accounts() {
    let sb = start(10, 0.001).await;
    register_nutanix(&sb).await;
    let pcg = running_pcg(&sb, "pcg-scope").await;
    let tenant_account = account(&sb, &pcg, "tenant-acc").await;
    let (_, p) = pget(&sb, "/v1/dashboard/projects/metadata?name=Production").await;
    let project = p["items"][0]["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_project = |method: reqwest::Method, path: &str| {
        client()
            .request(method, format!("{}{path}", sb.palette_url()))
            .header("ApiKey", sb.palette_api_key().expose())
            .header("ProjectUid", &project)
    };

    // A profile created in the project is invisible at tenant scope, and vice versa.
    let r = in_project(reqwest::Method::POST, "/v1/clusterprofiles")
        .json(&json!({"metadata": {"name": "proj-profile"}, "spec": {"version": "1.0.0", "template": {"cloudType": "nutanix", "packs": [{"name": "kubernetes", "tag": "1.30.6"}]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let uid = r.json::<Value>().await.unwrap()["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = pget(&sb, &format!("/v1/clusterprofiles/{uid}")).await;
    assert_eq!(s, 404);
    let r = in_project(reqwest::Method::GET, &format!("/v1/clusterprofiles/{uid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The same name is free at tenant scope.
    let (s, _) = pget(
        &sb,
        "/v1/clusterprofiles/validate/name?name=proj-profile&version=1.0.0",
    )
    .await;
    assert_eq!(s, 204);

    // A tenant account is visible from the project; a project account gets scope=project.
    let r = in_project(
        reqwest::Method::GET,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{tenant_account}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = in_project(reqwest::Method::POST, "/v1/cloudaccounts/cloudTypes/nutanix")
        .json(&json!({"metadata": {"name": "proj-acc", "annotations": {"overlordUid": pcg}}, "spec": {"credentials": {"NUTANIX_USER": "u", "NUTANIX_PASSWORD": "p", "NUTANIX_ENDPOINT": "e", "NUTANIX_PORT": "9440", "NUTANIX_INSECURE": "false"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let proj_acc = r.json::<Value>().await.unwrap()["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = in_project(
        reqwest::Method::GET,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{proj_acc}"),
    )
    .send()
    .await
    .unwrap();
    let acc: Value = r.json().await.unwrap();
    assert_eq!(acc["metadata"]["annotations"]["scope"], "project");
    let (s, _) = pget(
        &sb,
        &format!("/v1/cloudaccounts/cloudTypes/nutanix/{proj_acc}"),
    )
    .await;
    assert_eq!(s, 404, "project accounts are not visible at tenant scope");
    let (_, list) = pget(&sb, "/v1/cloudaccounts/cloudTypes/nutanix").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
