//! Kubeconfig contexts (KUBECONFIG honoured, else `~/.kube/config`) and running
//! `kubectl apply` for the PCG's manifests. In the sandbox a simulated host cluster is
//! offered as well, so the workflow can be walked through without Kubernetes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use capstan_ipc::IpcError;
use capstan_ipc::workflow::{KubeContext, KubeContexts};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::Engine;

/// The sandbox's stand-in host cluster: "applying" to it fetches the manifests, which is
/// what makes the sandbox's PCG come up.
pub(crate) const SIMULATED_CONTEXT: &str = "capstan-sandbox-host";
/// How long one `kubectl apply` may take.
pub(crate) const KUBECTL_TIMEOUT: Duration = Duration::from_secs(120);
/// kubectl output kept for the page (the end of it: errors come last).
const MAX_OUTPUT_CHARS: usize = 4000;

/// Where kubeconfig and kubectl come from when not from the process environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct KubeOverrides {
    /// The value KUBECONFIG would have (a path list).
    pub kubeconfig: Option<OsString>,
    pub kubectl: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct KubeConfigFile {
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<NamedContext>>,
    #[serde(default)]
    clusters: Option<Vec<NamedCluster>>,
    // `users` is not read: it holds credentials.
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: Option<ContextBody>,
}

#[derive(Debug, Default, Deserialize)]
struct ContextBody {
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    user: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    #[serde(default)]
    cluster: Option<ClusterBody>,
}

#[derive(Debug, Default, Deserialize)]
struct ClusterBody {
    #[serde(default)]
    server: Option<String>,
}

fn parse(text: &str) -> Result<KubeConfigFile, String> {
    if text.trim().is_empty() {
        return Ok(KubeConfigFile::default());
    }
    serde_norway::from_str(text).map_err(|e| e.to_string())
}

/// Contexts merged over the files as kubectl does: the first file to name a context,
/// cluster or current context wins.
fn merge(files: &[KubeConfigFile]) -> Vec<KubeContext> {
    let mut servers: BTreeMap<&str, &str> = BTreeMap::new();
    for f in files {
        for c in f.clusters.iter().flatten() {
            let server = c
                .cluster
                .as_ref()
                .and_then(|b| b.server.as_deref())
                .unwrap_or("");
            servers.entry(c.name.as_str()).or_insert(server);
        }
    }
    let current = files
        .iter()
        .find_map(|f| f.current_context.as_deref().filter(|c| !c.is_empty()));
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        for c in f.contexts.iter().flatten() {
            if !seen.insert(c.name.clone()) {
                continue;
            }
            let body = c.context.as_ref();
            let cluster = body.and_then(|b| b.cluster.clone()).unwrap_or_default();
            out.push(KubeContext {
                name: c.name.clone(),
                server: servers
                    .get(cluster.as_str())
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
                cluster,
                user: body.and_then(|b| b.user.clone()).unwrap_or_default(),
                current: current == Some(c.name.as_str()),
                simulated: false,
            });
        }
    }
    out
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// `kubectl` on PATH.
fn find_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: &[&str] = if cfg!(windows) {
        &["kubectl.exe", "kubectl"]
    } else {
        &["kubectl"]
    };
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| is_executable(p))
}

fn last_chars(text: &str, n: usize) -> String {
    let count = text.chars().count();
    if count <= n {
        text.to_owned()
    } else {
        format!("…{}", text.chars().skip(count - n).collect::<String>())
    }
}

/// Pipes `manifest` to `kubectl --context <context> apply -f -`. Returns whether it worked
/// and kubectl's output (or what went wrong).
pub(crate) async fn kubectl_apply(
    kubectl: &Path,
    kubeconfig: Option<&OsString>,
    context: &str,
    manifest: String,
) -> (bool, String) {
    let mut command = tokio::process::Command::new(kubectl);
    command
        .arg("--context")
        .arg(context)
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(k) = kubeconfig {
        command.env("KUBECONFIG", k);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return (
                false,
                format!("kubectl ({}) could not be started: {e}", kubectl.display()),
            );
        }
    };
    let stdin = child.stdin.take();
    let run = async move {
        let write = async move {
            if let Some(mut stdin) = stdin {
                stdin.write_all(manifest.as_bytes()).await?;
                stdin.shutdown().await?;
            }
            Ok::<(), std::io::Error>(())
        };
        let (written, output) = tokio::join!(write, child.wait_with_output());
        (written, output)
    };
    match tokio::time::timeout(KUBECTL_TIMEOUT, run).await {
        Err(_) => (
            false,
            format!(
                "kubectl did not finish within {} s and was stopped. Check that the context's cluster is reachable \
                 (kubectl --context {context} get nodes).",
                KUBECTL_TIMEOUT.as_secs()
            ),
        ),
        Ok((_, Err(e))) => (false, format!("kubectl failed to run: {e}")),
        Ok((written, Ok(output))) => {
            let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
            if !stderr.is_empty() {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&stderr);
            }
            let mut ok = output.status.success();
            if let Err(e) = written
                && ok
            {
                ok = false;
                text.push_str(&format!(
                    "\nThe manifest could not be passed to kubectl: {e}"
                ));
            }
            if !ok && text.is_empty() {
                text = format!("kubectl exited with {}", output.status);
            }
            (
                ok,
                capstan_store::redact(&last_chars(text.trim(), MAX_OUTPUT_CHARS)),
            )
        }
    }
}

impl Engine {
    fn kube_overrides(&self) -> KubeOverrides {
        self.inner.workflow.kube.read().clone()
    }

    /// The KUBECONFIG value kubectl will see when it differs from the process's.
    pub(crate) fn kubeconfig_override(&self) -> Option<OsString> {
        self.kube_overrides().kubeconfig
    }

    /// The kubeconfig files to read: KUBECONFIG's list, else `~/.kube/config`.
    fn kubeconfig_files(&self) -> Vec<PathBuf> {
        let list = self
            .kube_overrides()
            .kubeconfig
            .or_else(|| std::env::var_os("KUBECONFIG"))
            .filter(|v| !v.is_empty());
        match list {
            Some(list) => std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None => directories::BaseDirs::new()
                .map(|d| vec![d.home_dir().join(".kube").join("config")])
                .unwrap_or_default(),
        }
    }

    /// `kubectl` to run: the configured one, else the first on PATH.
    pub(crate) fn kubectl_path(&self) -> Option<PathBuf> {
        match self.kube_overrides().kubectl {
            Some(path) => is_executable(&path).then_some(path),
            None => find_on_path(),
        }
    }

    pub async fn kube_contexts(&self) -> Result<KubeContexts, IpcError> {
        let candidates = self.kubeconfig_files();
        let mut files = Vec::new();
        let mut parsed = Vec::new();
        let mut problems = Vec::new();
        for path in &candidates {
            match tokio::fs::read_to_string(path).await {
                Ok(text) => match parse(&text) {
                    Ok(f) => {
                        files.push(path.display().to_string());
                        parsed.push(f);
                    }
                    Err(e) => {
                        problems.push(format!("{} is not a kubeconfig file ({e})", path.display()))
                    }
                },
                // kubectl skips files in KUBECONFIG that do not exist; so does this.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => problems.push(format!("{} could not be read ({e})", path.display())),
            }
        }
        let mut contexts = merge(&parsed);
        if files.is_empty() && problems.is_empty() {
            problems.push(format!(
                "No kubeconfig file was found (looked for {}). Set KUBECONFIG or create ~/.kube/config for the PCG's host cluster.",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else if contexts.is_empty() && problems.is_empty() {
            problems.push(format!(
                "{} define no contexts. Add the host cluster's context (kubectl config set-context).",
                files.join(", ")
            ));
        }
        if self.sandbox_active() {
            contexts.push(KubeContext {
                name: SIMULATED_CONTEXT.into(),
                cluster: SIMULATED_CONTEXT.into(),
                server: "simulated by the Capstan sandbox".into(),
                user: String::new(),
                current: false,
                simulated: true,
            });
        }
        Ok(KubeContexts {
            files,
            contexts,
            problem: (!problems.is_empty()).then(|| problems.join(" ")),
            kubectl_found: self.kubectl_path().is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"
apiVersion: v1
kind: Config
current-context: lab-a
clusters:
- name: lab
  cluster:
    server: https://10.0.0.10:6443
    certificate-authority-data: QUJD
contexts:
- name: lab-a
  context:
    cluster: lab
    user: admin
    namespace: kube-system
users:
- name: admin
  user:
    token: s3cret-token
"#;

    const B: &str = r#"
apiVersion: v1
kind: Config
current-context: other
clusters:
- name: lab
  cluster:
    server: https://shadowed:6443
- name: edge
  cluster:
    server: https://edge:6443
contexts:
- name: lab-a
  context:
    cluster: edge
    user: nobody
- name: edge-admin
  context:
    cluster: edge
    user: edge-admin
"#;

    #[test]
    fn files_merge_like_kubectl_first_one_wins() {
        let contexts = merge(&[parse(A).unwrap(), parse(B).unwrap()]);
        assert_eq!(contexts.len(), 2, "{contexts:?}");
        let a = &contexts[0];
        assert_eq!(
            (
                a.name.as_str(),
                a.cluster.as_str(),
                a.server.as_str(),
                a.user.as_str(),
                a.current
            ),
            ("lab-a", "lab", "https://10.0.0.10:6443", "admin", true)
        );
        let e = &contexts[1];
        assert_eq!(
            (e.name.as_str(), e.server.as_str(), e.current),
            ("edge-admin", "https://edge:6443", false)
        );
        assert!(parse("").unwrap().contexts.is_none());
        assert!(parse("contexts: [oops").is_err());
    }
}
