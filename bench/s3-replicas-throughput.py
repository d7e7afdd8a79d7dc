#!/usr/bin/env python3
"""Pull throughput of the registry on S3 with 1 and 2 replicas behind HAProxy,
with 1, 2 and 4 concurrent clients. Run by hand, as root, never in CI:

    python3 bench/s3-replicas-throughput.py [ROUNDS]        (default 3)
    LAYER_MB=8 LAYERS=4 PULLS=3 python3 bench/s3-replicas-throughput.py

Needs what the e2e_s3 tests need (test.sh installs it): docker-registry
(distribution 2.8.2), moto_server (moto[server]), haproxy, openssl,
unshare, nsenter, setpriv, and PyYAML. Everything runs in a private
loopback-only network namespace (`unshare --net`), as the e2e suite does.

One bundle with `replicas: 2` on `storage.s3` is rendered with the built
CLI (target/release/registry-gen, built if missing); moto_server serves the
bucket over TLS from a private CA the bundle names in `ca_file`. Each
registry "pod" is started from the rendered Deployment as e2e.rs plays it:
every env var (Secrets resolved), the Secret and ConfigMap volumes written
under a per-pod root, runAsUser through setpriv. HAProxy terminates TLS
with the bundle's server certificate and balances each request round robin
over 1 or 2 pods (as the e2e does). One image of LAYERS layers of LAYER_MB
random MiB is pushed once; then, per case (replicas x clients) and round,
each client pulls every layer PULLS times through HAProxy (GET of each
blob, blobs streamed from the bucket through the registry: redirect off),
each client on one kept-alive connection. The figure is the total bytes
received over the wall time of the case, MiB/s, the median of the rounds.
Cases alternate within a round so drift hits all alike.

moto_server (Python, in memory) is the S3 endpoint here: it is likely the
slowest part, so the figures are the registry-plus-moto pipeline on this
machine, not what a real MinIO or AWS bucket gives; what they show is how
the pipeline scales with replicas and clients.
"""

import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S3_IP, S3_PORT = "127.0.0.20", 9000
NODE_IP, LB_PORT = "127.0.0.2", 30500
PODS = [("replica-a", "127.0.0.11"), ("replica-b", "127.0.0.12")]
LAYERS = int(os.environ.get("LAYERS", "4"))
LAYER_MB = int(os.environ.get("LAYER_MB", "8"))
PULLS = int(os.environ.get("PULLS", "2"))
REPO = "bench/image"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def wait(what, ok, timeout=30):
    end = time.time() + timeout
    while not ok():
        if time.time() > end:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.1)


def https_ok(host, port, ca, path="/"):
    try:
        ctx = ssl.create_default_context(cafile=ca)
        c = http.client.HTTPSConnection(host, port, context=ctx, timeout=2)
        c.request("GET", path)
        c.getresponse().read()
        return True
    except Exception:
        return False


def render(work, registry_gen):
    pki = os.path.join(work, "s3-pki")
    os.makedirs(pki)
    sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"], cwd=pki)
    sh(["openssl", "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=bench S3 CA", "-days", "2",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-out", "ca.crt"], cwd=pki)
    with open(os.path.join(pki, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName=IP:{S3_IP}\nextendedKeyUsage=serverAuth\n")
    sh(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "s3.key", "-subj", f"/CN={S3_IP}", "-out", "s3.csr"], cwd=pki, capture_output=True)
    sh(["openssl", "x509", "-req", "-in", "s3.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", "s3.crt"], cwd=pki, capture_output=True)
    cfg_dir = os.path.join(work, "config")
    os.makedirs(os.path.join(cfg_dir, "s3"))
    for name, value in [("access-key", "benchaccesskey"), ("secret-key", "bench-secret-key")]:
        with open(os.path.join(cfg_dir, "s3", name), "w") as f:
            f.write(value + "\n")
    shutil.copy(os.path.join(pki, "ca.crt"), os.path.join(cfg_dir, "s3", "ca.crt"))
    with open(os.path.join(cfg_dir, "registry-gen.yaml"), "w") as f:
        f.write(f"""name: registry
namespace: registry
replicas: 2
addresses: {{node_ips: [{NODE_IP}]}}
ports: {{node: {LB_PORT}}}
storage:
  s3:
    bucket: bench-registry
    region: us-east-1
    endpoint: https://{S3_IP}:{S3_PORT}
    path_style: true
    access_key_file: s3/access-key
    secret_key_file: s3/secret-key
    ca_file: s3/ca.crt
auth: null
registry: {{log_level: warn}}
""")
    out = os.path.join(work, "bundle")
    sh([registry_gen, "render", "--quiet", "--config", os.path.join(cfg_dir, "registry-gen.yaml"), "--out", out])
    return pki, out


def load(bundle):
    docs = {}
    for f in os.listdir(os.path.join(bundle, "manifests")):
        if f.endswith(".yaml"):
            with open(os.path.join(bundle, "manifests", f)) as fh:
                d = yaml.safe_load(fh)
            if "metadata" in d:
                docs[(d["kind"], d["metadata"]["name"])] = d
    return docs


def start_pod(work, bundle, docs, name, ip, procs):
    dep = docs[("Deployment", "registry")]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    root = os.path.join(work, name)
    os.makedirs(root)
    for m in c["volumeMounts"]:
        v = next(v for v in pod["volumes"] if v["name"] == m["name"])
        at = os.path.join(root, m["mountPath"].lstrip("/"))
        os.makedirs(at)
        if "secret" in v:
            data = {k: base64.b64decode(x) for k, x in docs[("Secret", v["secret"]["secretName"])]["data"].items()}
        else:
            data = {k: x.encode() for k, x in docs[("ConfigMap", v["configMap"]["name"])]["data"].items()}
        for k, x in data.items():
            with open(os.path.join(at, k), "wb") as f:
                f.write(x)
            os.chmod(os.path.join(at, k), 0o644)
    conf = os.path.join(root, "config.yml")
    with open(conf, "w") as f:
        f.write("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n")
    env = {"PATH": os.environ["PATH"]}
    for e in c["env"]:
        if "value" in e:
            value = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            value = base64.b64decode(docs[("Secret", ref["name"])]["data"][ref["key"]]).decode()
        if value.startswith("/") and not e["name"].startswith("REGISTRY_STORAGE_S3_"):
            value = os.path.join(root, value.lstrip("/"))
        if e["name"] == "REGISTRY_HTTP_ADDR":
            value = ip + value
        env[e["name"]] = value
    uid = str(pod["securityContext"].get("runAsUser", 0))
    os.chmod(work, 0o755)
    log = open(os.path.join(work, f"{name}.log"), "w")
    procs.append(subprocess.Popen(
        ["setpriv", "--no-new-privs", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
         "docker-registry", "serve", conf], env=env, stdout=log, stderr=log))
    ca = os.path.join(bundle, "certs", "ca.crt")
    wait(name, lambda: _tls_up(ip))


def _tls_up(ip):
    try:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection(ip, 5000, context=ctx, timeout=2)
        c.request("GET", "/")
        return c.getresponse().status == 200
    except Exception:
        return False


def start_haproxy(work, bundle, pods, procs):
    pem = os.path.join(work, "haproxy.pem")
    with open(pem, "wb") as f:
        for p in ["server.crt", "server.key"]:
            f.write(open(os.path.join(bundle, "certs", p), "rb").read())
    ca = os.path.join(bundle, "certs", "ca.crt")
    cfg = os.path.join(work, f"haproxy-{len(pods)}.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
  maxconn 512
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  option http-server-close
  http-reuse never
frontend service
  bind {NODE_IP}:{LB_PORT} ssl crt {pem}
  default_backend pods
backend pods
  balance roundrobin
""")
        for name, ip in pods:
            f.write(f"  server {name} {ip}:5000 ssl verify required ca-file {ca} verifyhost registry.registry.svc\n")
    p = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait("haproxy", lambda: https_ok(NODE_IP, LB_PORT, ca))
    return p


def connect(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return http.client.HTTPSConnection(NODE_IP, LB_PORT, context=ctx, timeout=120)


def push(ca):
    c = connect(ca)
    digests = []
    for i in range(LAYERS):
        data = os.urandom(LAYER_MB << 20)
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        c.request("POST", f"/v2/{REPO}/blobs/uploads/")
        r = c.getresponse()
        body = r.read()
        assert r.status == 202, (r.status, body)
        loc = r.getheader("Location")
        sep = "&" if "?" in loc else "?"
        c.request("PUT", f"{loc}{sep}digest={d}", body=data, headers={"Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        assert r.status == 201, r.status
        digests.append(d)
    return digests


def pull(ca, digests):
    c = connect(ca)
    n = 0
    for _ in range(PULLS):
        for d in digests:
            c.request("GET", f"/v2/{REPO}/blobs/{d}")
            r = c.getresponse()
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                n += len(chunk)
            assert r.status == 200, r.status
    return n


def inner(rounds):
    sh(["ip", "link", "set", "lo", "up"])
    binary = os.environ["REGISTRY_GEN"]
    work = tempfile.mkdtemp(prefix="s3-bench-")
    procs = []
    try:
        pki, bundle = render(work, binary)
        env = dict(os.environ, MOTO_S3_CUSTOM_ENDPOINTS=f"https://{S3_IP}:{S3_PORT}")
        procs.append(subprocess.Popen(
            ["moto_server", "-H", S3_IP, "-p", str(S3_PORT), "-c", f"{pki}/s3.crt", "-k", f"{pki}/s3.key"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        s3_ca = os.path.join(pki, "ca.crt")
        wait("moto", lambda: _any_answer(s3_ca))
        import boto3

        boto3.client("s3", endpoint_url=f"https://{S3_IP}:{S3_PORT}", region_name="us-east-1",
                     aws_access_key_id="benchaccesskey", aws_secret_access_key="bench-secret-key",
                     verify=s3_ca).create_bucket(Bucket="bench-registry")
        docs = load(bundle)
        for name, ip in PODS:
            start_pod(work, bundle, docs, name, ip, procs)
        ca = os.path.join(bundle, "certs", "ca.crt")
        lb = start_haproxy(work, bundle, PODS, procs)
        digests = push(ca)
        lb.kill()
        lb.wait()
        results = {}
        for _ in range(rounds):
            for replicas in (1, 2):
                lb = start_haproxy(work, bundle, PODS[:replicas], procs)
                for clients in (1, 2, 4):
                    start = time.monotonic()
                    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
                        total = sum(ex.map(lambda _: pull(ca, digests), range(clients)))
                    secs = time.monotonic() - start
                    results.setdefault((replicas, clients), []).append(total / secs / (1 << 20))
                lb.kill()
                lb.wait()
        print(f"# {LAYERS} layers x {LAYER_MB} MiB, each client pulls them {PULLS} times; "
              f"median of {rounds} rounds; load average before: {os.getloadavg()[0]:.1f}")
        print("| replicas | 1 client | 2 clients | 4 clients |")
        print("|---|---|---|---|")
        for replicas in (1, 2):
            row = [f"{statistics.median(results[(replicas, c)]):.0f} MiB/s" for c in (1, 2, 4)]
            print(f"| {replicas} | " + " | ".join(row) + " |")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


def _any_answer(ca):
    try:
        ctx = ssl.create_default_context(cafile=ca)
        c = http.client.HTTPSConnection(S3_IP, S3_PORT, context=ctx, timeout=2)
        c.request("GET", "/")
        c.getresponse().read()
        return True
    except Exception:
        return False


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--inner" else 3
    if "--inner" in sys.argv:
        inner(int(sys.argv[-1]))
        return
    if os.getuid() != 0:
        sys.exit("s3-replicas-throughput.py: needs root (a private network namespace)")
    binary = os.environ.get("REGISTRY_GEN", os.path.join(ROOT, "target/release/registry-gen"))
    if not os.access(binary, os.X_OK):
        sh(["cargo", "build", "--release", "--quiet", "-p", "registry-gen-cli"], cwd=ROOT)
    os.environ["REGISTRY_GEN"] = binary
    sh(["unshare", "--net", "--", sys.executable, os.path.abspath(__file__), "--inner", str(rounds)])


if __name__ == "__main__":
    main()
