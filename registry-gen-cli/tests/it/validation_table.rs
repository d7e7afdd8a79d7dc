//! Every bad input we know of, run through the real binary: each case is a
//! config file (and flags, stdin or CA files), each must fail with a plain
//! message naming the field, exit non-zero, and write nothing. The same
//! cases make the table in `docs/validation.md`, which this test keeps in
//! sync: run with `REGISTRY_GEN_BLESS=1` to rewrite it after a deliberate
//! change, then read the diff.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{bin, workspace};
use crate::support::{sh, CA_EXTENSIONS};

/// A valid base most cases change one thing of.
const BASE: &str = "addresses: {node_ips: [10.0.0.1]}\nstorage: {empty_dir: {}}\n";

struct Case {
    id: &'static str,
    /// Config file contents; `{base}` is replaced by [`BASE`].
    config: &'static str,
    flags: &'static [&'static str],
    stdin: Option<&'static str>,
    /// A CA pair to make with openssl and pass as --ca-cert/--ca-key.
    ca: Option<Ca>,
}

#[derive(Clone, Copy)]
enum Ca {
    /// `ca.crt` is missing.
    Unreadable,
    /// `ca.crt` holds no PEM.
    NotPem,
    /// A leaf certificate (CA:FALSE), not a CA.
    LeafCert,
    /// A CA whose validity ended.
    Expired,
    /// The key of another CA.
    KeyMismatch,
    /// The key file holds a certificate.
    KeyNotAKey,
}

const fn cfg(id: &'static str, config: &'static str) -> Case {
    Case {
        id,
        config,
        flags: &[],
        stdin: None,
        ca: None,
    }
}

const fn flags(id: &'static str, flags: &'static [&'static str]) -> Case {
    Case {
        id,
        config: "{base}",
        flags,
        stdin: None,
        ca: None,
    }
}

const fn ca(id: &'static str, ca: Ca) -> Case {
    Case {
        id,
        config: "{base}",
        flags: &[],
        stdin: None,
        ca: Some(ca),
    }
}

fn cases() -> Vec<Case> {
    vec![
        // The file itself.
        cfg("empty config file", ""),
        cfg("YAML syntax error", "addresses:\n  node_ips: [10.0.0.1\n"),
        cfg("unknown key", "{base}adresses: {}\n"),
        cfg("unknown nested key", "addresses: {node_ips: [10.0.0.1], dns: [a.test]}\n"),
        cfg("wrong type", "{base}ports: {container: http}\n"),
        cfg("port above 65535", "{base}ports: {container: 70000}\n"),
        cfg("YAML alias bomb (refused before any alias is expanded)", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"),
        cfg("two storage kinds", "addresses: {node_ips: [10.0.0.1]}\nstorage: {empty_dir: {}, host_path: {path: /data, node: n1}}\n"),
        // Kubernetes names and the image.
        cfg("name not a DNS-1035 label", "{base}name: Kube_Registry\n"),
        cfg("name starting with a digit", "{base}name: 1registry\n"),
        cfg("name longer than 63", "{base}name: registry-registry-registry-registry-registry-registry-registry-reg\n"),
        cfg("namespace not a DNS-1123 label", "{base}namespace: \"-ns\"\n"),
        cfg("image with a space", "{base}image: \"registry:3 latest\"\n"),
        cfg("image with a bad digest", "{base}image: registry@sha256:1234\n"),
        cfg("replicas 0", "{base}replicas: 0\n"),
        cfg("replicas 2 on emptyDir", "{base}replicas: 2\n"),
        cfg("replicas 2 on ReadWriteOnce NFS", "addresses: {node_ips: [10.0.0.1]}\nreplicas: 2\nstorage: {nfs: {server: 10.0.0.9, path: /nfs, size: 10Gi, access_modes: [ReadWriteOnce]}}\n"),
        cfg("cpu request 0", "{base}resources: {requests: {cpu: \"0\", memory: 32Mi}, limits: {cpu: 100m, memory: 100Mi}}\n"),
        cfg("memory not a quantity", "{base}resources: {requests: {cpu: 10m, memory: 100MB}, limits: {cpu: 100m, memory: 100Mi}}\n"),
        // Addresses.
        cfg("no address at all", "storage: {empty_dir: {}}\naddresses: {node_ips: []}\n"),
        cfg("not an IP", "storage: {empty_dir: {}}\naddresses: {node_ips: [192.168.99.300]}\n"),
        cfg("0.0.0.0 as a node IP", "storage: {empty_dir: {}}\naddresses: {node_ips: [0.0.0.0]}\n"),
        cfg(":: as a node IP", "storage: {empty_dir: {}}\naddresses: {node_ips: [\"::\"]}\n"),
        cfg("multicast node IP", "storage: {empty_dir: {}}\naddresses: {node_ips: [224.0.0.1, \"ff02::1\"]}\n"),
        cfg("broadcast node IP", "storage: {empty_dir: {}}\naddresses: {node_ips: [255.255.255.255]}\n"),
        cfg("the same IP twice", "storage: {empty_dir: {}}\naddresses: {node_ips: [10.0.0.1, 10.0.0.1]}\n"),
        cfg("uppercase DNS name", "storage: {empty_dir: {}}\naddresses: {dns_names: [Yuan.com]}\n"),
        cfg("underscore in a DNS name", "storage: {empty_dir: {}}\naddresses: {dns_names: [bad_name.test]}\n"),
        cfg("wildcard not leftmost", "storage: {empty_dir: {}}\naddresses: {dns_names: [\"a.*.test\"]}\n"),
        cfg("wildcard as the only name", "storage: {empty_dir: {}}\naddresses: {dns_names: [\"*.registry.test\"]}\n"),
        cfg("label longer than 63", "storage: {empty_dir: {}}\naddresses: {dns_names: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test]}\n"),
        cfg("name longer than 253", "storage: {empty_dir: {}}\naddresses: {dns_names: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test]}\n"),
        cfg("IP among the DNS names", "storage: {empty_dir: {}}\naddresses: {dns_names: [10.0.0.2]}\n"),
        cfg("the same name twice", "storage: {empty_dir: {}}\naddresses: {dns_names: [r.test, r.test]}\n"),
        cfg("bad cluster domain", "storage: {empty_dir: {}}\naddresses: {node_ips: [10.0.0.1], cluster_domain: \"cluster..local\"}\n"),
        // Ports.
        cfg("port 0", "{base}ports: {container: 0}\n"),
        cfg("NodePort outside 30000-32767", "{base}ports: {container: 8443, node: 443}\n"),
        cfg("hostPort equal to the NodePort", "{base}ports: {container: 8443, host: 30443, node: 30443}\n"),
        cfg("debug listener on the container port (the registry would crash-loop)", "{base}ports: {container: 5001}\nregistry: {debug: {port: 5001}}\n"),
        cfg("monitoring without the metrics switch", "{base}monitoring: {dashboard: true}\n"),
        cfg("monitoring: blackbox exporter given as a URL", "{base}registry: {debug: {port: 5001}}\nmonitoring: {blackbox: {address: 'http://blackbox:9115/probe'}}\n"),
        cfg("unknown log level", "{base}registry: {log_level: trace}\n"),
        cfg("port-less alias without a NodePort", "{base}ports: {container: 5000, portless_alias: true}\n"),
        cfg("port-less alias beside hostPort 443", "{base}ports: {container: 5000, host: 443, node: 30443}\n"),
        flags("NodePort flag outside the range", &["--node-port", "80"]),
        flags("port flag not a number", &["--host-port", "http"]),
        // Storage.
        cfg("NFS without a server", "addresses: {node_ips: [10.0.0.1]}\nstorage: {nfs: {server: \"\", path: /nfs, size: 10Gi}}\n"),
        cfg("NFS path not absolute", "addresses: {node_ips: [10.0.0.1]}\nstorage: {nfs: {server: 10.0.0.9, path: nfs/share, size: 10Gi}}\n"),
        cfg("NFS size not a quantity", "addresses: {node_ips: [10.0.0.1]}\nstorage: {nfs: {server: 10.0.0.9, path: /nfs, size: 23GB}}\n"),
        cfg("no access modes", "addresses: {node_ips: [10.0.0.1]}\nstorage: {nfs: {server: 10.0.0.9, path: /nfs, size: 10Gi, access_modes: []}}\n"),
        cfg("unknown access mode", "addresses: {node_ips: [10.0.0.1]}\nstorage: {pvc: {size: 10Gi, access_modes: [ReadWriteSometimes]}}\n"),
        cfg("bad StorageClass name", "addresses: {node_ips: [10.0.0.1]}\nstorage: {pvc: {size: 10Gi, storage_class_name: Fast_SSD}}\n"),
        cfg("negative claim size", "addresses: {node_ips: [10.0.0.1]}\nstorage: {pvc: {size: \"-1Gi\"}}\n"),
        cfg("hostPath /", "addresses: {node_ips: [10.0.0.1]}\nstorage: {host_path: {path: /, node: master1}}\n"),
        cfg("hostPath relative", "addresses: {node_ips: [10.0.0.1]}\nstorage: {host_path: {path: data, node: master1}}\n"),
        cfg("hostPath without a node", "addresses: {node_ips: [10.0.0.1]}\nstorage: {host_path: {path: /data, node: \"\"}}\n"),
        cfg("S3 bucket with uppercase letters", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: My_Bucket, region: us-east-1}}\n"),
        cfg("S3 bucket shaped like an IP address", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: 10.0.0.1, region: us-east-1}}\n"),
        cfg("S3 bucket read as a YAML boolean", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: \"yes\", region: us-east-1}}\n"),
        cfg("S3 region empty", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: \"\"}}\n"),
        cfg("S3 endpoint without a scheme", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, endpoint: minio.storage.svc:9000}}\n"),
        cfg("S3 endpoint with the bucket in its path", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, endpoint: \"https://minio:9000/registry\"}}\n"),
        cfg("S3 secure contradicting the endpoint", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, endpoint: \"http://minio:9000\", secure: true}}\n"),
        cfg("S3 access key without a secret key", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, access_key_file: s3/access-key}}\n"),
        cfg("S3 key file missing", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, access_key_file: /nonexistent/a, secret_key_file: /nonexistent/s}}\n"),
        cfg("S3 CA file not PEM", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, endpoint: \"https://minio:9000\", ca_file: registry-gen.yaml}}\n"),
        cfg("S3 root directory relative", "addresses: {node_ips: [10.0.0.1]}\nstorage: {s3: {bucket: registry, region: us-east-1, root_directory: registry}}\n"),
        cfg("Redis address without a port", "{base}cache: {redis: {address: redis.registry.svc}}\n"),
        cfg("Redis password file missing", "{base}cache: {redis: {address: \"redis:6379\", password_file: /nonexistent/redis}}\n"),
        flags("NFS server without a path", &["--nfs-server", "10.0.0.9"]),
        flags("storage size on hostPath", &["--host-path", "/data", "--host-path-node", "n1", "--storage-size", "10Gi"]),
        // Auth.
        cfg("empty realm", "{base}auth: {realm: \"\", users: [{name: admin}]}\n"),
        cfg(
            "realm the registry would read as a YAML map",
            "{base}auth: {realm: \"Registry: Realm\", users: [{name: admin}]}\n",
        ),
        cfg("bcrypt cost 3", "{base}auth: {bcrypt_cost: 3, users: [{name: admin}]}\n"),
        cfg("no users", "{base}auth: {users: []}\n"),
        cfg("user name with a colon", "{base}auth: {users: [{name: \"a:b\"}]}\n"),
        cfg("user name with a slash", "{base}auth: {users: [{name: ../x}]}\n"),
        cfg("the same user twice", "{base}auth: {users: [{name: ci}, {name: ci}]}\n"),
        cfg("password file missing", "{base}auth: {users: [{name: ci, password_file: /nonexistent/ci.password}]}\n"),
        Case {
            id: "empty password on stdin",
            config: "{base}",
            flags: &["--user", "alice", "--password-stdin"],
            stdin: Some("\n"),
            ca: None,
        },
        Case {
            id: "password longer than bcrypt's 72 bytes",
            config: "{base}",
            flags: &["--user", "alice", "--password-stdin"],
            stdin: Some("0123456789012345678901234567890123456789012345678901234567890123456789012345\n"),
            ca: None,
        },
        flags("--password-stdin without --user", &["--password-stdin"]),
        // TLS.
        cfg("server validity 0", "{base}tls: {server_validity_days: 0}\n"),
        cfg("CA validity negative", "{base}tls: {ca_validity_days: -1}\n"),
        cfg("server outliving its CA", "{base}tls: {ca_validity_days: 100, server_validity_days: 825}\n"),
        flags("unknown key algorithm", &["--key-algorithm", "dsa"]),
        ca("CA file unreadable", Ca::Unreadable),
        ca("CA file not PEM", Ca::NotPem),
        ca("CA certificate not a CA", Ca::LeafCert),
        ca("CA expired", Ca::Expired),
        ca("CA key of another CA", Ca::KeyMismatch),
        ca("CA key file holds a certificate", Ca::KeyNotAKey),
        flags("--ca-cert without --ca-key", &["--ca-cert", "/etc/kubernetes/pki/ca.crt"]),
        // The registry.
        cfg("data path relative", "{base}registry: {data_path: var/lib/registry}\n"),
        cfg("data path under the TLS mount", "{base}registry: {data_path: /certs/data}\n"),
        // Mirrors.
        cfg("mirror upstream as a URL", "{base}mirrors: [{upstream: \"https://registry-1.docker.io\", ports: {node: 30521}}]\n"),
        cfg("mirror upstream with a path", "{base}mirrors: [{upstream: quay.io/prometheus, ports: {node: 30521}}]\n"),
        cfg("mirror upstream index.docker.io", "{base}mirrors: [{upstream: index.docker.io, ports: {node: 30521}}]\n"),
        cfg("mirror of the registry's own address", "{base}ports: {host: 5000}\nmirrors: [{upstream: \"10.0.0.1:5000\", ports: {node: 30521}}]\n"),
        cfg("two mirrors for one upstream", "{base}mirrors: [{upstream: docker.io, ports: {node: 30521}}, {upstream: docker.io, ports: {node: 30522}}]\n"),
        cfg("mirror port clashing with the registry's", "{base}ports: {node: 30500}\nmirrors: [{upstream: docker.io, ports: {node: 30500}}]\n"),
        cfg("two mirrors on one port", "{base}mirrors: [{upstream: docker.io, ports: {host: 5001}}, {upstream: quay.io, ports: {host: 5001}}]\n"),
        cfg("mirror without a port", "{base}mirrors: [{upstream: docker.io}]\n"),
        cfg("mirror TTL not a duration", "{base}mirrors: [{upstream: docker.io, ports: {node: 30521}, ttl: 7d}]\n"),
        cfg("mirror username without a password", "{base}mirrors: [{upstream: docker.io, ports: {node: 30521}, username_file: hub/user}]\n"),
        cfg("mirror upstream login file missing", "{base}mirrors: [{upstream: docker.io, ports: {node: 30521}, username_file: /nonexistent/user, password_file: /nonexistent/token}]\n"),
        // Exposure on 443.
        cfg("exposed hostname an IP address", "{base}exposure: {hostname: 10.0.0.5, gateway: {name: shared}}\n"),
        cfg("exposed hostname also a node address name", "addresses: {node_ips: [10.0.0.1], dns_names: [registry.example.com]}\nstorage: {empty_dir: {}}\nexposure: {hostname: registry.example.com, gateway: {name: shared}}\n"),
        cfg("exposure without a gateway or an ingress", "{base}exposure: {hostname: registry.example.com}\n"),
        cfg("exposure gateway name with capitals", "{base}exposure: {hostname: registry.example.com, gateway: {name: Shared}}\n"),
        cfg("exposure TLSRoute version unknown", "{base}exposure: {hostname: registry.example.com, gateway: {name: shared, api_version: v1beta1}}\n"),
        // Output.
        flags("--new-ca without --out", &["--new-ca", "--no-out"]),
    ]
}

fn make_ca(dir: &Path, kind: Ca) -> (PathBuf, PathBuf) {
    let ca = CA_EXTENSIONS;
    let genkey = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256";
    match kind {
        Ca::Unreadable => sh(dir, &format!("{genkey} -out ca.key")),
        Ca::NotPem => sh(dir, &format!("{genkey} -out ca.key && echo 'not a certificate' > ca.crt")),
        Ca::LeafCert => sh(dir, &format!("{genkey} -out ca.key && openssl req -x509 -new -key ca.key -subj /CN=leaf -days 30 -addext basicConstraints=critical,CA:FALSE -out ca.crt")),
        // Valid for a day; the case renders on a clock in 2100.
        Ca::Expired => sh(dir, &format!("{genkey} -out ca.key && openssl req -x509 -new -key ca.key -subj /CN=old-ca -days 1 {ca} -out ca.crt")),
        Ca::KeyMismatch => sh(dir, &format!("{genkey} -out other.key && openssl req -x509 -new -key other.key -subj /CN=ca -days 30 {ca} -out ca.crt && {genkey} -out ca.key")),
        Ca::KeyNotAKey => sh(dir, &format!("{genkey} -out other.key && openssl req -x509 -new -key other.key -subj /CN=ca -days 30 {ca} -out ca.crt && cp ca.crt ca.key")),
    }
    (dir.join("ca.crt"), dir.join("ca.key"))
}

/// Run one case; returns (exit code, stderr with temp paths hidden).
fn run(case: &Case) -> (i32, String) {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("registry-gen.yaml");
    std::fs::write(&config, case.config.replace("{base}", BASE)).unwrap();
    let out = tmp.path().join("out");
    let mut c = bin();
    c.arg("render").arg("--config").arg(&config);
    let mut no_out = false;
    for f in case.flags {
        if *f == "--no-out" {
            no_out = true;
        } else {
            c.arg(f);
        }
    }
    if !no_out {
        c.arg("--out").arg(&out);
    }
    if let Some(kind) = case.ca {
        let (crt, key) = make_ca(tmp.path(), kind);
        c.arg("--ca-cert").arg(crt).arg("--ca-key").arg(key);
    }
    if matches!(case.ca, Some(Ca::Expired)) {
        c.env("SOURCE_DATE_EPOCH", "4102444800");
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = case.stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    assert!(
        !out.exists(),
        "{}: a failed render wrote {}",
        case.id,
        out.display()
    );
    let err = hide_dates(
        &String::from_utf8_lossy(&o.stderr).replace(&tmp.path().display().to_string(), "<tmp>"),
    );
    assert!(
        o.stdout.is_empty(),
        "{}: printed to stdout: {}",
        case.id,
        String::from_utf8_lossy(&o.stdout)
    );
    (o.status.code().unwrap_or(-1), err)
}

/// `2026-11-24` (a date that moves with the clock) as `YYYY-MM-DD`.
fn hide_dates(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let is_date = i + 10 <= b.len()
            && b[i..i + 10].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if is_date {
            out.push_str("YYYY-MM-DD");
            i += 10;
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.trim_end().replace('|', "\\|").replace('\n', "<br>")
}

#[test]
fn every_bad_input_fails_plainly_and_the_docs_table_says_how() {
    let mut table = String::from(
        "# Bad input: what registry-gen says\n\n\
         Generated by `registry-gen-cli/tests/it/validation_table.rs`, which runs each\n\
         case through the real binary (`registry-gen render --config FILE [FLAGS] --out DIR`)\n\
         and checks that it fails, exits non-zero, prints nothing on stdout and\n\
         writes nothing. Every problem of a config is reported at once, each naming\n\
         its field. `<base>` is a valid config (`addresses: {node_ips: [10.0.0.1]}`,\n\
         `storage: {empty_dir: {}}`) that the case changes or extends.\n\n\
         | case | input | exit | error |\n| --- | --- | --- | --- |\n",
    );
    let mut failures = Vec::new();
    for case in cases() {
        let (code, err) = run(&case);
        if code == 0 || !err.starts_with("registry-gen: error: ") && !err.starts_with("error: ") {
            failures.push(format!("{}: exit {code}: {err}", case.id));
        }
        if err.contains("panicked") {
            failures.push(format!("{}: panicked: {err}", case.id));
        }
        let mut input = case
            .config
            .replace("{base}", "<base>\n")
            .replace("\n\n", "\n")
            .trim_end()
            .to_owned();
        if !case.flags.is_empty() {
            input = format!("{input}\n{}", case.flags.join(" "));
        }
        if let Some(s) = case.stdin {
            input = format!("{input}\nstdin: {:?}", s);
        }
        if let Some(kind) = case.ca {
            let what = match kind {
                Ca::Unreadable => "--ca-cert of a missing file",
                Ca::NotPem => "--ca-cert of a text file",
                Ca::LeafCert => "--ca-cert of a leaf certificate (CA:FALSE)",
                Ca::Expired => {
                    "--ca-cert of a CA valid for one day, on a clock in 2100 (SOURCE_DATE_EPOCH)"
                }
                Ca::KeyMismatch => "--ca-key of another CA",
                Ca::KeyNotAKey => "--ca-key of a certificate",
            };
            input = format!("{input}\n{what}");
        }
        let input = if input.is_empty() {
            "(empty file)".to_owned()
        } else {
            input
        };
        let input = input
            .lines()
            .map(|l| format!("`{}`", l.replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join("<br>");
        table.push_str(&format!(
            "| {} | {input} | {code} | {} |\n",
            case.id,
            cell(&err)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let docs = workspace().join("docs/validation.md");
    if std::env::var_os("REGISTRY_GEN_BLESS").is_some() {
        std::fs::write(&docs, &table).unwrap();
    }
    let current = std::fs::read_to_string(&docs).unwrap_or_default();
    assert!(
        current == table,
        "docs/validation.md is out of date: rerun with REGISTRY_GEN_BLESS=1 and read the diff"
    );
}
