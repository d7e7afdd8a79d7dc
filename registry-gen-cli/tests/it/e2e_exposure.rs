//! The registry on port 443 by a DNS name, end to end with real software in
//! the e2e sandbox (see e2e.rs), the registry played from the rendered
//! Deployment (Debian's distribution 2.8.2):
//!
//! - the Gateway: HAProxy on 443 routing TLS by SNI (`req.ssl_sni`) to the
//!   registry without decrypting, its routing taken from the rendered
//!   TLSRoute (`hostnames`, `backendRefs`); skopeo pushes and pulls
//!   `<hostname>/<repo>:<tag>`, and containerd pulls it, with nothing but
//!   the bundle's trust files for that name (Docker's `certs.d/<hostname>`,
//!   containerd's `hosts.toml`); a name the route does not list gets no
//!   connection;
//! - the Ingress: nginx on 443 configured from the rendered Ingress (its TLS
//!   Secret, its rule's backend) and from each of its annotations, each
//!   translated into the directive ingress-nginx writes for it (an
//!   annotation the test does not know fails it); a 300 MiB layer pushes
//!   through it without a 413 and reads back byte-exact, and with the
//!   body-size annotation left out nginx answers 413: the rendered settings
//!   are what makes it work.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::networking::v1 as net;

use crate::common::text;
use crate::e2e::{
    ctr_pull, node_port_registry, push_blob, random_blob, render, start_containerd, start_pod,
    wait_for, Bundle, Sandbox, Scenario, POD_IP,
};
use crate::e2e_gc::make_image;

const HOST: &str = "registry.e2e.test";
const GATEWAY_IP: &str = "127.0.0.30";
const INGRESS_IP: &str = "127.0.0.31";

fn config() -> String {
    format!(
        "{}exposure:
  hostname: {HOST}
  gateway: {{name: shared, namespace: gateway-system}}
  ingress: {{class_name: nginx}}
",
        node_port_registry()
    )
}

fn yaml<T: for<'de> k8s_openapi::serde::Deserialize<'de>>(b: &Bundle, file: &str) -> T {
    serde_yaml::from_str(&fs::read_to_string(b.dir.join("manifests").join(file)).unwrap()).unwrap()
}

/// HAProxy as a Gateway's TLS passthrough listener: SNI routing from the
/// rendered TLSRoute to the backend Service's pod.
fn start_gateway(sb: &mut Sandbox, b: &Bundle) {
    let route: serde_yaml::Value = yaml(b, "tlsroute.yaml");
    let hosts: Vec<&str> = route["spec"]["hostnames"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    let backend = &route["spec"]["rules"][0]["backendRefs"][0];
    assert_eq!(backend["name"], "registry");
    let port = backend["port"].as_u64().unwrap();
    let mut cfg = format!(
        "global\n  maxconn 256\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n\
         frontend gateway\n  bind {GATEWAY_IP}:443\n  tcp-request inspect-delay 5s\n  tcp-request content accept if {{ req_ssl_hello_type 1 }}\n"
    );
    for h in &hosts {
        cfg.push_str(&format!(
            "  use_backend route if {{ req.ssl_sni -i {h} }}\n"
        ));
    }
    // The Service's port leads to the pod's (the Service's targetPort).
    cfg.push_str(&format!(
        "backend route\n  server registry {POD_IP}:{port}\n"
    ));
    let file = sb.path().join("gateway.cfg");
    fs::write(&file, cfg).unwrap();
    let mut c = sb.cmd("haproxy");
    c.arg("-db").arg("-f").arg(&file);
    sb.spawn("gateway", c);
}

/// The nginx directives ingress-nginx writes for each rendered annotation
/// (its annotations reference); an unknown annotation fails the test.
fn nginx_directives(sb: &Sandbox, b: &Bundle, ing: &net::Ingress, skip: &str) -> (String, String) {
    let mut location = String::new();
    let mut scheme = "http";
    for (k, v) in ing.metadata.annotations.as_ref().unwrap() {
        let key = k.strip_prefix("nginx.ingress.kubernetes.io/").unwrap();
        if key == skip {
            continue;
        }
        let line = match key {
            "backend-protocol" => {
                assert_eq!(v, "HTTPS");
                scheme = "https";
                continue;
            }
            "proxy-body-size" => format!("client_max_body_size {v};"),
            "proxy-request-buffering" => format!("proxy_request_buffering {v};"),
            "proxy-buffering" => format!("proxy_buffering {v};"),
            "proxy-read-timeout" => format!("proxy_read_timeout {v}s;"),
            "proxy-send-timeout" => format!("proxy_send_timeout {v}s;"),
            "proxy-ssl-verify" => format!("proxy_ssl_verify {v};"),
            "proxy-ssl-name" => format!("proxy_ssl_name {v};"),
            "proxy-ssl-server-name" => format!("proxy_ssl_server_name {v};"),
            "proxy-ssl-secret" => {
                let (ns, name) = v.split_once('/').unwrap();
                assert_eq!(ns, "registry");
                let ca = sb.path().join("ingress-ca.crt");
                fs::write(&ca, b.secret_data(name, "ca.crt")).unwrap();
                format!("proxy_ssl_trusted_certificate {};", ca.display())
            }
            other => panic!("the test does not know annotation {other}: teach it what ingress-nginx does with it"),
        };
        location.push_str(&format!("      {line}\n"));
    }
    (scheme.to_owned(), location)
}

/// nginx as the Ingress controller, from the rendered Ingress; `skip`: an
/// annotation left out (`""`: none).
fn start_ingress(sb: &mut Sandbox, b: &Bundle, skip: &str, name: &str) {
    let ing: net::Ingress = yaml(b, "ingress.yaml");
    let spec = ing.spec.as_ref().unwrap();
    let tls = &spec.tls.as_ref().unwrap()[0];
    let secret = tls.secret_name.as_deref().unwrap();
    let dir = sb.path().join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("tls.crt"), b.secret_data(secret, "tls.crt")).unwrap();
    fs::write(dir.join("tls.key"), b.secret_data(secret, "tls.key")).unwrap();
    let rule = &spec.rules.as_ref().unwrap()[0];
    let backend = rule.http.as_ref().unwrap().paths[0]
        .backend
        .service
        .as_ref()
        .unwrap();
    let port = backend.port.as_ref().unwrap().number.unwrap();
    let (scheme, location) = nginx_directives(sb, b, &ing, skip);
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen {INGRESS_IP}:443 ssl;\n    server_name {host};\n    ssl_certificate {d}/tls.crt;\n    ssl_certificate_key {d}/tls.key;\n\
         location / {{\n      proxy_pass {scheme}://{POD_IP}:{port};\n      proxy_http_version 1.1;\n      proxy_set_header Host $host;\n{location}    }}\n  }}\n}}\n",
        host = rule.host.as_deref().unwrap(),
    );
    fs::write(dir.join("nginx.conf"), conf).unwrap();
    let mut c = sb.cmd("nginx");
    c.arg("-p").arg(&dir).arg("-c").arg(dir.join("nginx.conf"));
    sb.spawn(name, c);
    wait_for("nginx", Duration::from_secs(10), || {
        sb.curl(
            &[
                "--cacert",
                ca_file(b).to_str().unwrap(),
                &format!("https://{HOST}/"),
            ],
            None,
        )
        .0 == "200"
    });
}

/// The bundle's CA for clients (`trust/ca.crt`).
fn ca_file(b: &Bundle) -> PathBuf {
    b.dir.join("trust/ca.crt")
}

/// Push `blob` through `https://HOST` with the bundle's CA; the status.
fn push_through(sb: &Sandbox, b: &Bundle, blob: &Path, digest: &str) -> String {
    let ca = ca_file(b);
    let url = format!("https://{HOST}/v2/e2e/big");
    push_blob(sb, &url, &["--cacert", ca.to_str().unwrap()], blob, digest)
}

#[test]
fn the_gateway_routes_by_sni_and_clients_pull_on_443_with_the_bundle_trust() {
    let mut sb = Sandbox::new(&[(
        GATEWAY_IP,
        vec![HOST.to_owned(), "other.e2e.test".to_owned()],
    )]);
    let b = render(&sb, &Scenario::plain(config(), vec![]));
    start_pod(&mut sb, &b);
    start_gateway(&mut sb, &b);
    let certs = b.dir.join("trust/docker/certs.d").join(HOST);
    assert!(certs.join("ca.crt").exists(), "no Docker trust for {HOST}");
    wait_for("the gateway", Duration::from_secs(10), || {
        sb.curl(
            &[
                "--cacert",
                certs.join("ca.crt").to_str().unwrap(),
                &format!("https://{HOST}/"),
            ],
            None,
        )
        .0 == "200"
    });
    let image = make_image(&sb, "gw", &["through the gateway"]);
    let reference = format!("{HOST}/e2e/gateway:1");
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["copy", "--dest-cert-dir"])
            .arg(&certs)
            .arg(format!("oci:{}:latest", image.layout.display()))
            .arg(format!("docker://{reference}")),
    );
    assert!(
        o.status.success(),
        "skopeo push to {reference}: {}",
        text(&o)
    );
    let o = sb.run(
        sb.cmd("skopeo")
            .args(["inspect", "--format", "{{.Digest}}", "--cert-dir"])
            .arg(&certs)
            .arg(format!("docker://{reference}")),
    );
    assert!(o.status.success(), "skopeo pull {reference}: {}", text(&o));
    // containerd, through the bundle's hosts.toml for the name (port 443).
    let sock = start_containerd(&mut sb);
    let o = ctr_pull(
        &sb,
        &sock,
        &b.dir.join("trust/containerd/certs.d"),
        &reference,
        None,
    );
    assert!(o.status.success(), "ctr pull {reference}: {}", text(&o));
    // A name the route does not list gets no connection through.
    let (code, _) = sb.curl(
        &["--insecure", "--max-time", "3", "https://other.e2e.test/"],
        None,
    );
    assert_eq!(
        code, "000",
        "the gateway routed a name the TLSRoute does not list"
    );
}

#[test]
fn a_300_mib_layer_pushes_through_the_ingress_with_the_rendered_settings() {
    let mut sb = Sandbox::new(&[(INGRESS_IP, vec![HOST.to_owned()])]);
    let b = render(&sb, &Scenario::plain(config(), vec![]));
    start_pod(&mut sb, &b);
    let blob = sb.path().join("layer");
    let digest = random_blob(&blob, 300);

    // Without the body-size annotation: nginx's own 1m limit.
    start_ingress(&mut sb, &b, "proxy-body-size", "nginx-default");
    assert_eq!(push_through(&sb, &b, &blob, &digest), "413");
    sb.stop("nginx-default");

    start_ingress(&mut sb, &b, "", "nginx");
    assert_eq!(push_through(&sb, &b, &blob, &digest), "201");
    let pulled = sb.path().join("pulled");
    let o = sb.run(
        sb.cmd("curl")
            .args(["--silent", "--show-error", "--fail", "--cacert"])
            .arg(ca_file(&b))
            .arg("--output")
            .arg(&pulled)
            .arg(format!("https://{HOST}/v2/e2e/big/blobs/{digest}")),
    );
    assert!(o.status.success(), "pull through the ingress: {}", text(&o));
    assert!(
        fs::read(&pulled).unwrap() == fs::read(&blob).unwrap(),
        "the layer read back differs"
    );
}
