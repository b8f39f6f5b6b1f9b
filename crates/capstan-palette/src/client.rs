//! The Palette client core: auth, scope, requests, pagination and duplicate-safe creates.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use capstan_common::{Endpoint, Secret};
use capstan_http::{HttpClient, HttpConfig, HttpResponse, Idempotency};
use futures::Stream;
use parking_lot::Mutex;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiErrorKind, PaletteError};
use crate::model::{ListPage, TokenResponse};

/// How the client proves who it is.
#[derive(Debug, Clone)]
pub enum PaletteAuth {
    /// `ApiKey: <key>` on every request (the normal choice).
    ApiKey(Secret),
    /// A JWT obtained elsewhere, sent as `Authorization: <token>` (no `Bearer`); it is
    /// refreshed with `GET /v1/auth/refresh/{token}`.
    Token(Secret),
    /// `POST /v1/auth/authenticate` (tenant user), then the JWT.
    User {
        email: String,
        password: Secret,
        org: Option<String>,
    },
    /// `POST /v1/auth/syslogin` (system console of a self-hosted Palette), then the JWT.
    SystemAdmin { username: String, password: Secret },
}

/// Which scope requests run in (the `ProjectUid` header).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "scope", content = "uid", rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Tenant,
    Project(String),
}

#[derive(Debug, Clone)]
pub struct PaletteConfig {
    /// What the user typed, e.g. `https://api.spectrocloud.com` or `palette.example.com`.
    pub address: String,
    pub auth: PaletteAuth,
    pub scope: Scope,
    pub http: HttpConfig,
    /// Palette JWTs live 15 minutes.
    pub token_lifetime: Duration,
    /// Refresh this long before expiry.
    pub refresh_margin: Duration,
    /// Attempts for a create whose outcome was ambiguous (after checking it did not land).
    pub create_attempts: u32,
}

impl PaletteConfig {
    pub fn new(address: impl Into<String>, auth: PaletteAuth) -> Self {
        Self {
            address: address.into(),
            auth,
            scope: Scope::Tenant,
            http: HttpConfig {
                label: "palette".into(),
                ..HttpConfig::default()
            },
            token_lifetime: Duration::from_secs(15 * 60),
            refresh_margin: Duration::from_secs(2 * 60),
            create_attempts: 3,
        }
    }
}

#[derive(Debug, Default)]
struct TokenState {
    token: Option<Secret>,
    obtained: Option<Instant>,
    generation: u64,
}

#[derive(Debug)]
struct Shared {
    http: HttpClient,
    endpoint: Endpoint,
    auth: PaletteAuth,
    token: Mutex<TokenState>,
    token_lock: tokio::sync::Mutex<()>,
    token_lifetime: Duration,
    refresh_margin: Duration,
    create_attempts: u32,
}

/// Palette API client. Clones share the connection pool and the session; use
/// [`PaletteClient::with_scope`] for a project-scoped view of the same session.
#[derive(Debug, Clone)]
pub struct PaletteClient {
    shared: Arc<Shared>,
    scope: Scope,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    Json(Bytes),
    /// One multipart file part (Palette reads the form field `fileName`).
    File {
        field: &'static str,
        file_name: String,
        content: Bytes,
    },
}

impl PaletteClient {
    pub fn new(config: PaletteConfig) -> Result<Self, PaletteError> {
        let endpoint =
            Endpoint::parse(&config.address, 443).map_err(|e| PaletteError::InvalidInput {
                reason: e.to_string(),
            })?;
        let mut http_cfg = config.http.clone();
        if http_cfg.label == "endpoint" {
            http_cfg.label = format!("palette {endpoint}");
        }
        let http = HttpClient::new(http_cfg)?;
        let token = match &config.auth {
            PaletteAuth::Token(t) => TokenState {
                token: Some(t.clone()),
                obtained: Some(Instant::now()),
                generation: 1,
            },
            _ => TokenState::default(),
        };
        Ok(Self {
            shared: Arc::new(Shared {
                http,
                endpoint,
                auth: config.auth,
                token: Mutex::new(token),
                token_lock: tokio::sync::Mutex::new(()),
                token_lifetime: config.token_lifetime,
                refresh_margin: config.refresh_margin,
                create_attempts: config.create_attempts.max(1),
            }),
            scope: config.scope,
        })
    }

    /// The same session in another scope.
    pub fn with_scope(&self, scope: Scope) -> Self {
        Self {
            shared: self.shared.clone(),
            scope,
        }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.shared.endpoint
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.shared.endpoint.base_url(), path_and_query)
    }

    // ---- tokens ---------------------------------------------------------------------------

    fn uses_token(&self) -> bool {
        !matches!(self.shared.auth, PaletteAuth::ApiKey(_))
    }

    /// The current JWT, logging in or refreshing first when needed.
    async fn current_token(&self) -> Result<(Option<Secret>, u64), PaletteError> {
        if !self.uses_token() {
            return Ok((None, 0));
        }
        let fresh = |s: &TokenState| {
            s.token.is_some()
                && s.obtained.is_some_and(|t| {
                    t.elapsed() + self.shared.refresh_margin < self.shared.token_lifetime
                })
        };
        {
            let s = self.shared.token.lock();
            if fresh(&s) {
                return Ok((s.token.clone(), s.generation));
            }
        }
        let _guard = self.shared.token_lock.lock().await;
        let (existing, generation) = {
            let s = self.shared.token.lock();
            if fresh(&s) {
                return Ok((s.token.clone(), s.generation));
            }
            (s.token.clone(), s.generation)
        };
        self.renew(existing, generation).await?;
        let s = self.shared.token.lock();
        Ok((s.token.clone(), s.generation))
    }

    /// Refreshes `existing` if there is one, falling back to a fresh login when the
    /// credentials allow it. Caller holds `token_lock`.
    async fn renew(&self, existing: Option<Secret>, _generation: u64) -> Result<(), PaletteError> {
        if let Some(old) = existing {
            match self.refresh(&old).await {
                Ok(new) => {
                    self.store_token(new);
                    return Ok(());
                }
                Err(e) => {
                    tracing::debug!(
                        code = e.code(),
                        "palette token refresh failed; logging in again if possible"
                    );
                    if matches!(self.shared.auth, PaletteAuth::Token(_)) {
                        return Err(if e.code() == "unauthorized" {
                            PaletteError::SessionExpired
                        } else {
                            e
                        });
                    }
                }
            }
        }
        let token = self.login().await?;
        self.store_token(token);
        Ok(())
    }

    fn store_token(&self, token: Secret) {
        let mut s = self.shared.token.lock();
        s.token = Some(token);
        s.obtained = Some(Instant::now());
        s.generation += 1;
    }

    async fn refresh(&self, token: &Secret) -> Result<Secret, PaletteError> {
        // The token travels in the path; capstan-http redacts long path segments in logs.
        let path = format!("/v1/auth/refresh/{}", token.expose());
        let resp = self
            .send_raw(
                Method::GET,
                &path,
                &Body::None,
                Idempotency::Idempotent,
                None,
            )
            .await?;
        let t: TokenResponse = decode(&path_without_token("/v1/auth/refresh"), check(resp)?)?;
        Ok(Secret::new(t.authorization))
    }

    async fn login(&self) -> Result<Secret, PaletteError> {
        let (path, body) = match &self.shared.auth {
            PaletteAuth::User {
                email,
                password,
                org,
            } => {
                let mut body =
                    serde_json::json!({ "emailId": email, "password": password.expose() });
                if let Some(org) = org {
                    body["org"] = serde_json::Value::String(org.clone());
                }
                ("/v1/auth/authenticate", body)
            }
            PaletteAuth::SystemAdmin { username, password } => (
                "/v1/auth/syslogin",
                serde_json::json!({ "username": username, "password": password.expose() }),
            ),
            PaletteAuth::Token(_) | PaletteAuth::ApiKey(_) => {
                return Err(PaletteError::SessionExpired);
            }
        };
        let bytes =
            Bytes::from(
                serde_json::to_vec(&body).map_err(|e| PaletteError::InvalidInput {
                    reason: e.to_string(),
                })?,
            );
        // A login creates nothing, so repeating it is safe.
        let resp = self
            .send_raw(
                Method::POST,
                path,
                &Body::Json(bytes),
                Idempotency::Idempotent,
                None,
            )
            .await?;
        let t: TokenResponse = decode(path, check(resp)?)?;
        tracing::debug!(endpoint = %self.shared.endpoint, path, "palette login succeeded");
        Ok(Secret::new(t.authorization))
    }

    /// Logs in (or refreshes) now, so a bad password fails early.
    pub async fn authenticate(&self) -> Result<(), PaletteError> {
        self.current_token().await.map(|_| ())
    }

    // ---- requests -------------------------------------------------------------------------

    async fn send_raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: &Body,
        idempotency: Idempotency,
        token: Option<&Secret>,
    ) -> Result<HttpResponse, PaletteError> {
        let url = self.url(path_and_query);
        let resp = self
            .shared
            .http
            .send(idempotency, |c| {
                let mut rb = c
                    .request(method.clone(), &url)
                    .header(http::header::ACCEPT, "application/json");
                match &self.shared.auth {
                    PaletteAuth::ApiKey(key) => rb = rb.header("ApiKey", key.expose()),
                    _ => {
                        if let Some(t) = token {
                            rb = rb.header(http::header::AUTHORIZATION, t.expose());
                        }
                    }
                }
                if let Scope::Project(uid) = &self.scope {
                    rb = rb.header("ProjectUid", uid.as_str());
                }
                match body {
                    Body::None => rb,
                    Body::Json(b) => rb
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(b.clone()),
                    Body::File {
                        field,
                        file_name,
                        content,
                    } => {
                        let part =
                            reqwest::multipart::Part::stream(reqwest::Body::from(content.clone()))
                                .file_name(file_name.clone())
                                .mime_str("application/octet-stream")
                                .unwrap_or_else(|_| {
                                    reqwest::multipart::Part::bytes(content.to_vec())
                                        .file_name(file_name.clone())
                                });
                        rb.multipart(reqwest::multipart::Form::new().part(*field, part))
                    }
                }
            })
            .await?;
        Ok(resp)
    }

    /// Sends with auth; on a 401 with a JWT, renews once and retries once.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Body,
        idempotency: Idempotency,
    ) -> Result<HttpResponse, PaletteError> {
        let (token, generation) = self.current_token().await?;
        let resp = self
            .send_raw(
                method.clone(),
                path_and_query,
                &body,
                idempotency,
                token.as_ref(),
            )
            .await?;
        if resp.status == http::StatusCode::UNAUTHORIZED && token.is_some() {
            {
                let _guard = self.shared.token_lock.lock().await;
                let (existing, current_gen) = {
                    let s = self.shared.token.lock();
                    (s.token.clone(), s.generation)
                };
                // Another task may already have renewed it.
                if current_gen == generation {
                    self.renew(existing, generation).await?;
                }
            }
            let (token, _) = self.current_token().await?;
            return self
                .send_raw(method, path_and_query, &body, idempotency, token.as_ref())
                .await;
        }
        Ok(resp)
    }

    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<T, PaletteError> {
        let idempotency = idempotency_of(&method);
        let resp = self.send(method, path, body, idempotency).await?;
        decode(path, check(resp)?)
    }

    /// A call whose success has no body (204) or a body we do not need.
    pub(crate) async fn call_empty(
        &self,
        method: Method,
        path: &str,
        body: Body,
    ) -> Result<(), PaletteError> {
        let idempotency = idempotency_of(&method);
        let resp = self.send(method, path, body, idempotency).await?;
        check(resp).map(|_| ())
    }

    pub(crate) async fn call_bytes(&self, path: &str) -> Result<Bytes, PaletteError> {
        let resp = self
            .send(Method::GET, path, Body::None, Idempotency::Idempotent)
            .await?;
        check(resp).map(|r| r.body)
    }

    pub(crate) fn json<B: Serialize + ?Sized>(body: &B) -> Result<Body, PaletteError> {
        serde_json::to_vec(body)
            .map(|v| Body::Json(Bytes::from(v)))
            .map_err(|e| PaletteError::InvalidInput {
                reason: e.to_string(),
            })
    }

    /// GET any path and decode JSON (escape hatch for calls without a typed method).
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, PaletteError> {
        self.call(Method::GET, path, Body::None).await
    }

    // ---- pagination -------------------------------------------------------------------

    /// One page of a `{items, listmeta}` list. `path` may already carry a query.
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        continue_token: Option<&str>,
    ) -> Result<ListPage<T>, PaletteError> {
        let full = match continue_token {
            Some(tok) if !tok.is_empty() => {
                let sep = if path.contains('?') { '&' } else { '?' };
                format!("{path}{sep}continue={}", encode_query(tok))
            }
            _ => path.to_owned(),
        };
        self.call(Method::GET, &full, Body::None).await
    }

    /// Every item of a list, following `continue` tokens, as a stream.
    pub fn list_stream<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> impl Stream<Item = Result<T, PaletteError>> + Send + 'static {
        struct St<T> {
            client: PaletteClient,
            path: String,
            next: Option<String>,
            buffered: std::vec::IntoIter<T>,
            done: bool,
            seen_tokens: Vec<String>,
        }
        let state = St::<T> {
            client: self.clone(),
            path: path.to_owned(),
            next: None,
            buffered: Vec::new().into_iter(),
            done: false,
            seen_tokens: Vec::new(),
        };
        futures::stream::try_unfold(state, |mut st| async move {
            loop {
                if let Some(item) = st.buffered.next() {
                    return Ok(Some((item, st)));
                }
                if st.done {
                    return Ok(None);
                }
                let page: ListPage<T> = st.client.list_page(&st.path, st.next.as_deref()).await?;
                let token = page
                    .listmeta
                    .and_then(|m| m.continue_token)
                    .filter(|t| !t.is_empty());
                match token {
                    // A token seen before would loop forever: treat it as the end.
                    Some(t) if !st.seen_tokens.contains(&t) => {
                        st.seen_tokens.push(t.clone());
                        st.next = Some(t);
                    }
                    _ => st.done = true,
                }
                st.buffered = page.items.into_iter();
            }
        })
    }

    /// Every item of a list, collected.
    pub async fn list_all<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<Vec<T>, PaletteError> {
        use futures::TryStreamExt;
        self.list_stream(path).try_collect().await
    }

    // ---- duplicate-safe creates ---------------------------------------------------------

    /// Sends a create at most once per attempt and never blindly twice.
    ///
    /// When the outcome is ambiguous (the connection dropped or timed out after sending, or
    /// a 5xx came back) `find_existing` is asked whether the object exists now; only if it
    /// does not is the create sent again. A 409 on a repeated attempt means our earlier
    /// attempt landed, so it is resolved the same way.
    pub(crate) async fn create_checked<T, F, Fut>(
        &self,
        path: &str,
        body: Body,
        parse: impl Fn(&HttpResponse) -> Result<T, PaletteError>,
        find_existing: F,
    ) -> Result<T, PaletteError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, PaletteError>>,
    {
        let attempts = self.shared.create_attempts;
        let mut last_err: Option<PaletteError> = None;
        for attempt in 1..=attempts {
            let outcome = self
                .send(Method::POST, path, body.clone(), Idempotency::NonIdempotent)
                .await;
            let ambiguous = match outcome {
                Ok(resp) if resp.status.is_success() => return parse(&resp),
                Ok(resp) => {
                    let err = PaletteError::from_response(resp.status.as_u16(), &resp.body);
                    match &err {
                        PaletteError::Api {
                            kind: ApiErrorKind::Server,
                            ..
                        } => err,
                        PaletteError::Api {
                            kind: ApiErrorKind::Conflict,
                            ..
                        } if attempt > 1 => err,
                        _ => return Err(err),
                    }
                }
                Err(PaletteError::Transport(t)) if !t.request_not_sent() => {
                    PaletteError::Transport(t)
                }
                Err(e) => return Err(e),
            };
            tracing::info!(
                path,
                attempt,
                code = ambiguous.code(),
                "create outcome unknown; checking whether it was applied"
            );
            if let Some(existing) = find_existing().await? {
                tracing::info!(path, "the create had been applied; not sending it again");
                return Ok(existing);
            }
            if matches!(
                &ambiguous,
                PaletteError::Api {
                    kind: ApiErrorKind::Conflict,
                    ..
                }
            ) {
                return Err(ambiguous);
            }
            last_err = Some(ambiguous);
            if attempt < attempts {
                tokio::time::sleep(self.shared.http.config().retry.backoff(attempt)).await;
            }
        }
        Err(last_err.unwrap_or(PaletteError::InvalidResponse {
            reason: "create was not attempted".into(),
        }))
    }
}

fn idempotency_of(method: &Method) -> Idempotency {
    if method == Method::POST || method == Method::PATCH {
        Idempotency::NonIdempotent
    } else {
        Idempotency::Idempotent
    }
}

/// Turns a non-2xx response into a typed error.
pub(crate) fn check(resp: HttpResponse) -> Result<HttpResponse, PaletteError> {
    if resp.status.is_success() {
        Ok(resp)
    } else {
        Err(PaletteError::from_response(
            resp.status.as_u16(),
            &resp.body,
        ))
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    what: &str,
    resp: HttpResponse,
) -> Result<T, PaletteError> {
    serde_json::from_slice(&resp.body).map_err(|e| PaletteError::InvalidResponse {
        reason: format!("{}: {e}", what.split('?').next().unwrap_or(what)),
    })
}

fn path_without_token(p: &str) -> String {
    format!("{p}/***")
}

/// Percent-encodes a query value.
pub(crate) fn encode_query(s: &str) -> String {
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

/// Percent-encodes a path segment.
pub(crate) fn seg(s: &str) -> String {
    encode_query(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_output() {
        for auth in [
            PaletteAuth::ApiKey("k3y-value".into()),
            PaletteAuth::User {
                email: "a@b.c".into(),
                password: "k3y-value".into(),
                org: None,
            },
            PaletteAuth::SystemAdmin {
                username: "admin".into(),
                password: "k3y-value".into(),
            },
        ] {
            let c = PaletteClient::new(PaletteConfig::new("palette.example.com", auth))
                .expect("client");
            assert!(!format!("{c:?}").contains("k3y-value"));
        }
    }

    #[test]
    fn addresses_and_queries_are_normalised() {
        let c = PaletteClient::new(PaletteConfig::new(
            "https://api.spectrocloud.com/v1/",
            PaletteAuth::ApiKey("k".into()),
        ))
        .expect("client");
        assert_eq!(
            c.url("/v1/users/info"),
            "https://api.spectrocloud.com:443/v1/users/info"
        );
        assert_eq!(encode_query("a b&c=d"), "a%20b%26c%3Dd");
        let err = PaletteClient::new(PaletteConfig::new(
            "ftp://x",
            PaletteAuth::ApiKey("k".into()),
        ))
        .expect_err("scheme");
        assert_eq!(err.code(), "invalid_input");
    }
}
