//! Who may log in: the htpasswd users, the realm and the bcrypt cost, the
//! Secret the registry reads them from, the pull Secret that pods (and
//! k3s's registries.yaml and verify.sh) log in with, and the HTTP secret
//! that signs the registry's upload state.

use std::path::PathBuf;

use crate::config::Config;

/// Where the htpasswd Secret is mounted in the pod.
pub(crate) const AUTH_MOUNT: &str = "/auth";

/// See [`super::CHECKSUM_TLS`]: the same for the `REGISTRY_HTTP_SECRET` Secret.
pub(crate) const CHECKSUM_HTTP_SECRET: &str = "registry-gen/checksum-http-secret";

/// A Secret key referenced from the pod (env or volume).
#[derive(Debug, Clone)]
pub(crate) struct SecretKeyRef {
    pub secret: String,
    pub key: &'static str,
}

/// The `REGISTRY_HTTP_SECRET` of the registry `name`: one value for every
/// replica, so an upload begun on one pod finishes on another.
pub(super) fn http_secret(name: &str) -> SecretKeyRef {
    SecretKeyRef {
        secret: format!("{name}-http"),
        key: "http-secret",
    }
}

/// htpasswd authentication and the pull Secret that goes with it.
#[derive(Debug)]
pub(crate) struct AuthPlan {
    pub realm: String,
    pub users: Vec<UserPlan>,
    /// The user whose credentials the pull Secret, k3s's registries.yaml
    /// and verify.sh use: the first one.
    pub pull_user: String,
    pub bcrypt_cost: u32,
    pub secret: String,
    pub key: &'static str,
    pub volume: &'static str,
    pub mount_path: &'static str,
    /// The kubernetes.io/dockerconfigjson Secret for pods that pull.
    pub pull_secret: String,
}

/// One htpasswd user.
#[derive(Debug)]
pub(crate) struct UserPlan {
    pub name: String,
    /// Where the password comes from; `None`: generated (or given on stdin).
    pub password_file: Option<PathBuf>,
}

impl AuthPlan {
    /// `None` without `auth`, and in a mirror-only bundle (the mirrors
    /// serve without a login).
    pub(super) fn new(config: &Config, private: bool) -> Option<AuthPlan> {
        let name = &config.name;
        config.auth.as_ref().filter(|_| private).map(|a| AuthPlan {
            realm: a.realm.clone(),
            users: a
                .users
                .iter()
                .map(|u| UserPlan {
                    name: u.name.clone(),
                    password_file: u.password_file.clone(),
                })
                .collect(),
            pull_user: a.users.first().map(|u| u.name.clone()).unwrap_or_default(),
            bcrypt_cost: a.bcrypt_cost,
            secret: format!("{name}-htpasswd"),
            key: "htpasswd",
            volume: "auth",
            mount_path: AUTH_MOUNT,
            pull_secret: format!("{name}-pull"),
        })
    }
}
