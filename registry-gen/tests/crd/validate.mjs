// Validates Kubernetes custom resources against their CRDs' JSON schemas,
// as the @kubernetes-models packages ship them. Reads a JSON array of
// objects on stdin; prints one line per object; exits 1 if any fails.
const packages = {
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};
const input = JSON.parse(await new Promise((resolve) => {
  let s = "";
  process.stdin.on("data", (d) => (s += d));
  process.stdin.on("end", () => resolve(s));
}));
let failed = 0;
for (const obj of input) {
  const [group, version] = obj.apiVersion.split("/");
  const what = `${obj.kind} ${obj.metadata?.name} (${obj.apiVersion})`;
  const pkg = packages[group];
  if (!pkg) {
    console.log(`FAIL ${what}: no schema package for ${group}`);
    failed++;
    continue;
  }
  const mod = await import(`${pkg}/${group}/${version}/${obj.kind}`);
  try {
    new mod[obj.kind](obj).validate();
    console.log(`ok ${what}`);
  } catch (e) {
    console.log(`FAIL ${what}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
