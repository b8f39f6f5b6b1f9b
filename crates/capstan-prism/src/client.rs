//! The Prism Central v3 client.

use std::sync::Arc;

use capstan_common::{Endpoint, Secret};
use capstan_http::{HttpClient, HttpConfig, HttpResponse, Idempotency};
use futures::StreamExt;
use parking_lot::Mutex;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::PrismError;
use crate::fiql::{Fiql, NameMatch, exact_name_matches};
use crate::model::*;

pub const DEFAULT_PORT: u16 = 9440;
pub const BASE_PATH: &str = "/api/nutanix/v3";
/// The most a v3 list returns per request.
pub const MAX_PAGE_SIZE: u32 = 500;

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum PrismAuth {
    /// Basic auth once on `GET /users/me`, then the session cookie only.
    Basic { username: String, password: Secret },
    /// `X-ntnx-api-key` on every request (PC service accounts).
    ApiKey(Secret),
}

#[derive(Debug, Clone)]
pub struct PrismConfig {
    /// What the user typed: `pc.example.com`, `https://10.0.0.5:9440/`, ...
    pub address: String,
    pub auth: PrismAuth,
    pub http: HttpConfig,
    /// Entities requested per list page (Prism caps at 500).
    pub page_size: u32,
    /// Page requests in flight at once after the first page (Prism copes badly with bursts).
    pub concurrency: usize,
}

impl PrismConfig {
    pub fn new(address: impl Into<String>, auth: PrismAuth) -> Self {
        Self {
            address: address.into(),
            auth,
            http: HttpConfig {
                label: "prism-central".into(),
                ..HttpConfig::default()
            },
            page_size: MAX_PAGE_SIZE,
            concurrency: 4,
        }
    }
}

#[derive(Debug, Default)]
struct Session {
    /// The `Cookie` header value built from the login's `Set-Cookie`s.
    cookie: Option<String>,
    /// Bumped on every login, so concurrent 401s trigger one re-login, not N.
    generation: u64,
    /// The server set no cookie on login: fall back to Basic on every request.
    basic_every_time: bool,
    env_header: Option<String>,
    product_header: Option<String>,
}

/// Prism Central v3 client. Cheap to clone; clones share the session.
#[derive(Debug, Clone)]
pub struct PrismClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: HttpClient,
    endpoint: Endpoint,
    base: String,
    auth: PrismAuth,
    session: Mutex<Session>,
    login_lock: tokio::sync::Mutex<()>,
    page_size: u32,
    concurrency: usize,
}

/// Whether the address is Prism Central or a Prism Element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    PrismCentral,
    PrismElement,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProductInfo {
    pub kind: ProductKind,
    /// From `GET /prism_central` (`pc.2024.1.0.1`), when PC.
    pub version: Option<String>,
    /// `X-Ntnx-Env` (`pc` / `pe`), when the server sent it.
    pub env_header: Option<String>,
    /// `X-Ntnx-Product` (`pc.2024.1.0.1`), when the server sent it.
    pub product_header: Option<String>,
}

impl PrismClient {
    pub fn new(config: PrismConfig) -> Result<Self, PrismError> {
        let endpoint = Endpoint::parse(&config.address, DEFAULT_PORT).map_err(|e| {
            PrismError::Transport(capstan_http::TransportError::InvalidUrl {
                url: config.address.clone(),
                reason: e.to_string(),
            })
        })?;
        let mut http_cfg = config.http.clone();
        if http_cfg.label == "endpoint" {
            http_cfg.label = format!("prism-central {endpoint}");
        }
        let http = HttpClient::new(http_cfg)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: format!("{}{BASE_PATH}", endpoint.base_url()),
                endpoint,
                auth: config.auth,
                session: Mutex::new(Session::default()),
                login_lock: tokio::sync::Mutex::new(()),
                page_size: config.page_size.clamp(1, MAX_PAGE_SIZE),
                concurrency: config.concurrency.max(1),
            }),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Forgets the session cookie (the next call logs in again).
    pub fn clear_session(&self) {
        self.inner.session.lock().cookie = None;
    }

    /// Whether a session cookie is held.
    pub fn has_session(&self) -> bool {
        self.inner.session.lock().cookie.is_some()
    }

    // ---- low level ----------------------------------------------------------------------

    async fn login(&self) -> Result<(), PrismError> {
        let PrismAuth::Basic { username, password } = &self.inner.auth else {
            return Ok(());
        };
        let url = format!("{}/users/me", self.inner.base);
        let resp = self
            .inner
            .http
            .send(Idempotency::Idempotent, |c| {
                c.get(&url)
                    .header(http::header::ACCEPT, "application/json")
                    .basic_auth(username, Some(password.expose()))
            })
            .await?;
        self.observe_headers(&resp);
        if !resp.status.is_success() {
            return Err(PrismError::from_response(resp.status.as_u16(), &resp.body));
        }
        let cookies: Vec<String> = resp
            .headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(|kv| kv.trim().to_owned())
            .filter(|kv| kv.contains('='))
            .collect();
        let mut s = self.inner.session.lock();
        s.generation += 1;
        if cookies.is_empty() {
            s.cookie = None;
            s.basic_every_time = true;
        } else {
            s.cookie = Some(cookies.join("; "));
            s.basic_every_time = false;
        }
        tracing::debug!(endpoint = %self.inner.endpoint, cookies = cookies.len(), "prism session established");
        Ok(())
    }

    fn observe_headers(&self, resp: &HttpResponse) {
        let env = resp.header("x-ntnx-env").map(str::to_owned);
        let product = resp.header("x-ntnx-product").map(str::to_owned);
        if env.is_some() || product.is_some() {
            let mut s = self.inner.session.lock();
            if env.is_some() {
                s.env_header = env;
            }
            if product.is_some() {
                s.product_header = product;
            }
        }
    }

    /// Returns (cookie, generation), logging in first when needed.
    async fn session(&self) -> Result<(Option<String>, u64), PrismError> {
        if matches!(self.inner.auth, PrismAuth::ApiKey(_)) {
            return Ok((None, 0));
        }
        {
            let s = self.inner.session.lock();
            if s.cookie.is_some() || s.basic_every_time {
                return Ok((s.cookie.clone(), s.generation));
            }
        }
        let _guard = self.inner.login_lock.lock().await;
        {
            let s = self.inner.session.lock();
            if s.cookie.is_some() || s.basic_every_time {
                return Ok((s.cookie.clone(), s.generation));
            }
        }
        self.login().await?;
        let s = self.inner.session.lock();
        Ok((s.cookie.clone(), s.generation))
    }

    /// Drops the cookie and logs in again, unless another task already did since `seen`.
    async fn relogin(&self, seen: u64) -> Result<(), PrismError> {
        let _guard = self.inner.login_lock.lock().await;
        {
            let mut s = self.inner.session.lock();
            if s.generation != seen {
                return Ok(());
            }
            s.cookie = None;
        }
        self.login().await
    }

    /// Sends one request with auth; a 401 on a session cookie re-logs in and retries once.
    /// Returns any HTTP status.
    pub async fn request_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<HttpResponse, PrismError> {
        let url = format!("{}/{}", self.inner.base, path.trim_start_matches('/'));
        let body = match body {
            Some(v) => Some(bytes::Bytes::from(serde_json::to_vec(v).map_err(|e| {
                PrismError::InvalidResponse {
                    reason: e.to_string(),
                }
            })?)),
            None => None,
        };
        // v3 lists are POSTs but read-only; creates/updates/deletes are not retried blindly.
        let idempotency = if method == Method::GET || path.ends_with("/list") {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        };
        let mut relogged = false;
        loop {
            let (cookie, generation) = self.session().await?;
            let resp = self
                .inner
                .http
                .send(idempotency, |c| {
                    let mut rb = c
                        .request(method.clone(), &url)
                        .header(http::header::ACCEPT, "application/json");
                    if let Some(b) = &body {
                        rb = rb
                            .header(http::header::CONTENT_TYPE, "application/json")
                            .body(b.clone());
                    }
                    match (&self.inner.auth, &cookie) {
                        (PrismAuth::ApiKey(key), _) => rb.header("X-ntnx-api-key", key.expose()),
                        (PrismAuth::Basic { .. }, Some(cookie)) => {
                            rb.header(http::header::COOKIE, cookie)
                        }
                        (PrismAuth::Basic { username, password }, None) => {
                            rb.basic_auth(username, Some(password.expose()))
                        }
                    }
                })
                .await?;
            self.observe_headers(&resp);
            if resp.status == http::StatusCode::UNAUTHORIZED && cookie.is_some() && !relogged {
                tracing::debug!(path, "prism session rejected; logging in again");
                relogged = true;
                self.relogin(generation).await?;
                continue;
            }
            return Ok(resp);
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, PrismError> {
        let resp = self.request_raw(method, path, body).await?;
        if !resp.status.is_success() {
            return Err(PrismError::from_response(resp.status.as_u16(), &resp.body));
        }
        serde_json::from_slice(&resp.body).map_err(|e| PrismError::InvalidResponse {
            reason: format!("{path}: {e}"),
        })
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, PrismError> {
        self.call(Method::GET, path, None).await
    }

    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, PrismError> {
        self.call(Method::POST, path, Some(body)).await
    }

    // ---- identity and product ---------------------------------------------------------

    /// `GET /users/me`: the credential check.
    pub async fn users_me(&self) -> Result<CurrentUser, PrismError> {
        self.get_json("users/me").await
    }

    /// `GET /prism_central`.
    pub async fn prism_central(&self) -> Result<PrismCentralInfo, PrismError> {
        self.get_json("prism_central").await
    }

    /// `GET /versions`: the API versions this Prism Central serves (kept as JSON: the shape
    /// differs between releases and the app only displays it).
    pub async fn versions(&self) -> Result<serde_json::Value, PrismError> {
        self.get_json("versions").await
    }

    /// Tells Prism Central from a Prism Element: the `X-Ntnx-Env` header when present,
    /// then `GET /prism_central` (404 on PE).
    pub async fn detect_product(&self) -> Result<ProductInfo, PrismError> {
        self.users_me().await?;
        let (env, product) = {
            let s = self.inner.session.lock();
            (s.env_header.clone(), s.product_header.clone())
        };
        if env.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("pe")) {
            return Ok(ProductInfo {
                kind: ProductKind::PrismElement,
                version: None,
                env_header: env,
                product_header: product,
            });
        }
        match self.prism_central().await {
            Ok(info) => Ok(ProductInfo {
                kind: ProductKind::PrismCentral,
                version: info.resources.version,
                env_header: env,
                product_header: product,
            }),
            Err(PrismError::NotFound { .. }) => Ok(ProductInfo {
                kind: ProductKind::PrismElement,
                version: None,
                env_header: env,
                product_header: product,
            }),
            Err(e) => Err(e),
        }
    }

    /// [`Self::detect_product`], failing with `not_prism_central` on a Prism Element.
    pub async fn ensure_prism_central(&self) -> Result<ProductInfo, PrismError> {
        let info = self.detect_product().await?;
        if info.kind == ProductKind::PrismElement {
            return Err(PrismError::NotPrismCentral {
                address: self.inner.endpoint.to_string(),
            });
        }
        Ok(info)
    }

    // ---- lists ------------------------------------------------------------------------

    async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        kind: &str,
        filter: Option<&Fiql>,
        offset: usize,
        length: u32,
    ) -> Result<ListResponse<T>, PrismError> {
        let mut body = json!({ "kind": kind, "offset": offset, "length": length });
        if let Some(f) = filter {
            body["filter"] = Value::String(f.as_str().to_owned());
        }
        self.post_json(path, &body).await
    }

    /// Every entity of a v3 list, however many pages it takes.
    ///
    /// The first page gives `total_matches` and the server's real page size (it may return
    /// fewer than asked, e.g. when it caps at 500); the remaining pages are then fetched with
    /// at most `concurrency` in flight, offsets advancing by what the server actually
    /// returns. A page that comes back short is topped up sequentially; an empty page stops
    /// the walk, so a server that returns 0 entities cannot loop us forever.
    pub async fn list_all<T: DeserializeOwned + Send>(
        &self,
        path: &str,
        kind: &str,
        filter: Option<&Fiql>,
    ) -> Result<Vec<T>, PrismError> {
        let want = self.inner.page_size;
        let first: ListResponse<T> = self.list_page(path, kind, filter, 0, want).await?;
        let step = first.entities.len();
        let total = first.metadata.total_matches.map(|t| t as usize);
        let mut out = first.entities;
        if step == 0 {
            return Ok(out);
        }
        let Some(total) = total else {
            // No total: walk sequentially until a short or empty page.
            loop {
                let page: ListResponse<T> =
                    self.list_page(path, kind, filter, out.len(), want).await?;
                let n = page.entities.len();
                out.extend(page.entities);
                if n < step {
                    return Ok(out);
                }
            }
        };
        if out.len() >= total {
            return Ok(out);
        }
        out.reserve(total.saturating_sub(out.len()));
        let offsets: Vec<usize> = (step..total).step_by(step).collect();
        let mut pages = futures::stream::iter(offsets.into_iter().map(|offset| async move {
            let page = self.list_page::<T>(path, kind, filter, offset, want).await;
            (offset, page)
        }))
        .buffered(self.inner.concurrency);
        while let Some((offset, page)) = pages.next().await {
            let page = page?;
            let expected = step.min(total - offset);
            let mut got = page.entities.len();
            out.extend(page.entities);
            // Top up a short page (entities deleted meanwhile, or a smaller server cap).
            while got > 0 && got < expected {
                let more: ListResponse<T> = self
                    .list_page(path, kind, filter, offset + got, want)
                    .await?;
                let n = more.entities.len().min(expected - got);
                if n == 0 {
                    break;
                }
                out.extend(more.entities.into_iter().take(n));
                got += n;
            }
        }
        Ok(out)
    }

    pub async fn list_clusters(&self, filter: Option<&Fiql>) -> Result<Vec<Cluster>, PrismError> {
        self.list_all("clusters/list", "cluster", filter).await
    }

    /// Only the Prism Element clusters (service_list has AOS); the PC entity is dropped.
    pub async fn list_prism_elements(&self) -> Result<Vec<Cluster>, PrismError> {
        Ok(self
            .list_clusters(None)
            .await?
            .into_iter()
            .filter(Cluster::is_prism_element)
            .collect())
    }

    pub async fn list_subnets(&self, filter: Option<&Fiql>) -> Result<Vec<Subnet>, PrismError> {
        self.list_all("subnets/list", "subnet", filter).await
    }

    pub async fn list_images(&self, filter: Option<&Fiql>) -> Result<Vec<Image>, PrismError> {
        self.list_all("images/list", "image", filter).await
    }

    pub async fn list_vms(&self, filter: Option<&Fiql>) -> Result<Vec<Vm>, PrismError> {
        self.list_all("vms/list", "vm", filter).await
    }

    pub async fn list_hosts(&self, filter: Option<&Fiql>) -> Result<Vec<Host>, PrismError> {
        self.list_all("hosts/list", "host", filter).await
    }

    pub async fn list_projects(&self, filter: Option<&Fiql>) -> Result<Vec<Project>, PrismError> {
        self.list_all("projects/list", "project", filter).await
    }

    pub async fn list_tasks(&self, filter: Option<&Fiql>) -> Result<Vec<Task>, PrismError> {
        self.list_all("tasks/list", "task", filter).await
    }

    pub async fn list_category_keys(&self) -> Result<Vec<CategoryKey>, PrismError> {
        self.list_all("categories/list", "category", None).await
    }

    pub async fn list_category_values(&self, key: &str) -> Result<Vec<CategoryValue>, PrismError> {
        self.list_all(
            &format!("categories/{}/list", path_segment(key)),
            "category",
            None,
        )
        .await
    }

    // ---- gets -------------------------------------------------------------------------

    pub async fn get_cluster(&self, uuid: &str) -> Result<Cluster, PrismError> {
        self.get_json(&format!("clusters/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_subnet(&self, uuid: &str) -> Result<Subnet, PrismError> {
        self.get_json(&format!("subnets/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_image(&self, uuid: &str) -> Result<Image, PrismError> {
        self.get_json(&format!("images/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_vm(&self, uuid: &str) -> Result<Vm, PrismError> {
        self.get_json(&format!("vms/{}", path_segment(uuid))).await
    }
    pub async fn get_host(&self, uuid: &str) -> Result<Host, PrismError> {
        self.get_json(&format!("hosts/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_project(&self, uuid: &str) -> Result<Project, PrismError> {
        self.get_json(&format!("projects/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_task(&self, uuid: &str) -> Result<Task, PrismError> {
        self.get_json(&format!("tasks/{}", path_segment(uuid)))
            .await
    }
    pub async fn get_category_key(&self, key: &str) -> Result<CategoryKey, PrismError> {
        self.get_json(&format!("categories/{}", path_segment(key)))
            .await
    }
    pub async fn get_category_value(
        &self,
        key: &str,
        value: &str,
    ) -> Result<CategoryValue, PrismError> {
        self.get_json(&format!(
            "categories/{}/{}",
            path_segment(key),
            path_segment(value)
        ))
        .await
    }

    // ---- lookups by name (CAPX semantics) -----------------------------------------------

    async fn find_unique<R>(
        &self,
        target: Lookup,
        name: &str,
        rule: NameMatch,
        keep: impl Fn(&Entity<R>) -> bool,
    ) -> Result<Entity<R>, PrismError>
    where
        R: DeserializeOwned + Send + Clone,
    {
        // Server-side filter only for plain, case-sensitive names; anything else is matched
        // locally over the full list (the server's matching is regex-like and case-exact).
        let Lookup {
            label,
            path,
            kind,
            name_attr,
        } = target;
        let filter = (rule == NameMatch::CaseSensitive && Fiql::is_plain_value(name))
            .then(|| Fiql::eq(name_attr, name));
        let items: Vec<Entity<R>> = self.list_all(path, kind, filter.as_ref()).await?;
        let items: Vec<Entity<R>> = items.into_iter().filter(|e| keep(e)).collect();
        let matches = exact_name_matches(&items, name, rule, |e| e.name());
        match matches.len() {
            0 => Err(PrismError::NameNotFound {
                kind: label.to_owned(),
                name: name.to_owned(),
            }),
            1 => Ok(matches[0].clone()),
            n => Err(PrismError::Ambiguous {
                kind: label.to_owned(),
                name: name.to_owned(),
                count: n,
            }),
        }
    }

    /// A Prism Element by exact name (the PC entity is never returned).
    pub async fn find_prism_element(
        &self,
        name: &str,
        rule: NameMatch,
    ) -> Result<Cluster, PrismError> {
        self.find_unique(
            Lookup {
                label: "Prism Element cluster",
                path: "clusters/list",
                kind: "cluster",
                name_attr: "name",
            },
            name,
            rule,
            Cluster::is_prism_element,
        )
        .await
    }

    pub async fn find_subnet(&self, name: &str, rule: NameMatch) -> Result<Subnet, PrismError> {
        self.find_unique(
            Lookup {
                label: "subnet",
                path: "subnets/list",
                kind: "subnet",
                name_attr: "name",
            },
            name,
            rule,
            |_| true,
        )
        .await
    }

    /// A subnet usable from the given PE: OVERLAY, or VLAN owned by that PE (CAPX v3 rule).
    pub async fn find_subnet_for_cluster(
        &self,
        name: &str,
        pe_uuid: &str,
        rule: NameMatch,
    ) -> Result<Subnet, PrismError> {
        let pe = pe_uuid.to_owned();
        self.find_unique(
            Lookup {
                label: "subnet",
                path: "subnets/list",
                kind: "subnet",
                name_attr: "name",
            },
            name,
            rule,
            move |s: &Subnet| {
                let overlay = s
                    .resources()
                    .and_then(|r| r.subnet_type.as_deref())
                    .is_some_and(|t| t.eq_ignore_ascii_case("OVERLAY"));
                overlay
                    || s.cluster_reference().and_then(|c| c.uuid.as_deref()) == Some(pe.as_str())
            },
        )
        .await
    }

    pub async fn find_image(&self, name: &str, rule: NameMatch) -> Result<Image, PrismError> {
        self.find_unique(
            Lookup {
                label: "image",
                path: "images/list",
                kind: "image",
                name_attr: "name",
            },
            name,
            rule,
            |_| true,
        )
        .await
    }

    pub async fn find_vm(&self, name: &str, rule: NameMatch) -> Result<Vm, PrismError> {
        self.find_unique(
            Lookup {
                label: "VM",
                path: "vms/list",
                kind: "vm",
                name_attr: "vm_name",
            },
            name,
            rule,
            |_| true,
        )
        .await
    }

    /// Projects are always matched case-insensitively over the full list, as CAPX does.
    pub async fn find_project(&self, name: &str) -> Result<Project, PrismError> {
        self.find_unique(
            Lookup {
                label: "project",
                path: "projects/list",
                kind: "project",
                name_attr: "name",
            },
            name,
            NameMatch::CaseInsensitive,
            |_| true,
        )
        .await
    }
}

/// Which list a by-name lookup walks, and how the UI names the entity.
#[derive(Debug, Clone, Copy)]
struct Lookup {
    label: &'static str,
    path: &'static str,
    kind: &'static str,
    name_attr: &'static str,
}

/// Percent-encodes a path segment (UUIDs pass unchanged; category keys may hold spaces).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> PrismAuth {
        PrismAuth::Basic {
            username: "admin".into(),
            password: "pw".into(),
        }
    }

    #[test]
    fn pasted_addresses_become_a_clean_base_url() {
        for input in [
            "https://pc.example.com:9440/",
            "pc.example.com",
            "https://pc.example.com:9440/api/nutanix/v3/",
        ] {
            let c = PrismClient::new(PrismConfig::new(input, auth())).expect("client");
            assert_eq!(
                c.inner.base, "https://pc.example.com:9440/api/nutanix/v3",
                "{input}"
            );
        }
        let err = PrismClient::new(PrismConfig::new("  ", auth())).expect_err("empty");
        assert_eq!(err.code(), "invalid_url");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let cfg = PrismConfig::new(
            "pc",
            PrismAuth::Basic {
                username: "admin".into(),
                password: "hunter2".into(),
            },
        );
        assert!(!format!("{cfg:?}").contains("hunter2"));
        let c = PrismClient::new(cfg).expect("client");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(
            path_segment("Kubernetes Cluster/x"),
            "Kubernetes%20Cluster%2Fx"
        );
        assert_eq!(path_segment("0005-abc_1.2"), "0005-abc_1.2");
    }
}
