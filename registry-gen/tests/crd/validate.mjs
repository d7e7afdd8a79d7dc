// Validates Prometheus Operator objects against their CRD schemas, with the
// validators of @kubernetes-models/prometheus-operator (pinned in
// package.json; test.sh runs `npm ci` here). Reads one JSON object per
// argument file; prints `ok <kind>` or the schema errors and exits 1.
import { readFileSync } from "node:fs";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { Probe } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe";

const kinds = { PodMonitor, PrometheusRule, Probe };
let failed = false;
for (const file of process.argv.slice(2)) {
  const object = JSON.parse(readFileSync(file, "utf8"));
  const Kind = kinds[object.kind];
  if (!Kind || object.apiVersion !== "monitoring.coreos.com/v1") {
    console.log(`${file}: not a monitoring.coreos.com/v1 PodMonitor, PrometheusRule or Probe`);
    failed = true;
    continue;
  }
  try {
    new Kind(object).validate();
    console.log(`ok ${object.kind}`);
  } catch (e) {
    console.log(`${file}: ${object.kind}: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
