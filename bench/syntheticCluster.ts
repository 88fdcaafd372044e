/**
 * Synthetic clusters for the policy benchmark: `workloads` objects (Jobs, CronJobs, Deployments,
 * DaemonSets in turn) spread over 200 namespaces, a third of them meshed, with the mix of cases the
 * rules look at (opt-outs, linkerd-await wrappers, hostNetwork, explicit injection).
 */
import { Obj } from "../lib/k8s";

export function syntheticCluster(workloads: number, namespaces = 200): Obj[] {
    const objects: Obj[] = [];
    for (let n = 0; n < namespaces; n++) {
        objects.push({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: `ns-${n}`, annotations: n % 3 === 0 ? { "linkerd.io/inject": "enabled" } : {} },
        });
    }
    for (let i = 0; i < workloads; i++) {
        const namespace = `ns-${i % namespaces}`;
        const annotations: Record<string, string> = {};
        if (i % 7 === 0) annotations["linkerd.io/inject"] = "disabled";
        else if (i % 11 === 0) annotations["linkerd.io/inject"] = "enabled";
        const command = i % 5 === 0 ? ["linkerd-await", "--shutdown", "--", "/bin/task"] : ["/bin/task", "--once"];
        const podSpec = {
            hostNetwork: i % 13 === 0,
            containers: [{ name: "main", image: "busybox:1.36", command, args: ["--id", String(i)] }],
            restartPolicy: "OnFailure",
        };
        const template = { metadata: { labels: { app: `w-${i}` }, annotations }, spec: podSpec };
        const metadata = { name: `w-${i}`, namespace };
        switch (i % 4) {
            case 0:
                objects.push({ apiVersion: "batch/v1", kind: "Job", metadata, spec: { template } });
                break;
            case 1:
                objects.push({
                    apiVersion: "batch/v1",
                    kind: "CronJob",
                    metadata,
                    spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template } } },
                });
                break;
            case 2:
                objects.push({
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    metadata,
                    spec: { selector: { matchLabels: { app: `w-${i}` } }, template: { ...template, spec: { ...podSpec, restartPolicy: "Always" } } },
                });
                break;
            default:
                objects.push({
                    apiVersion: "apps/v1",
                    kind: "DaemonSet",
                    metadata,
                    spec: { selector: { matchLabels: { app: `w-${i}` } }, template: { ...template, spec: { ...podSpec, restartPolicy: "Always" } } },
                });
        }
    }
    return objects;
}

/**
 * `jobs` Jobs as multi-document YAML, one string per document, after the Namespace objects (a third of the
 * namespaces meshed): what `helm template` or `kubectl get -o yaml` of a big batch cluster gives policy:check.
 */
export function syntheticJobsYaml(jobs: number, namespaces = 200): string[] {
    const docs: string[] = [];
    for (let n = 0; n < namespaces; n++) {
        const ann = n % 3 === 0 ? "\n  annotations:\n    linkerd.io/inject: enabled" : "";
        docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${n}${ann}\n`);
    }
    for (let i = 0; i < jobs; i++) {
        const annotations = i % 7 === 0 ? "\n      annotations:\n        linkerd.io/inject: disabled" : "";
        const command = i % 5 === 0 ? "[linkerd-await, --shutdown, --, /bin/task]" : "[/bin/task, --once]";
        docs.push(
            `apiVersion: batch/v1
kind: Job
metadata:
  name: job-${i}
  namespace: ns-${i % namespaces}
  labels: &labels
    app: job-${i}
spec:
  backoffLimit: 2
  template:
    metadata:
      labels:
        <<: *labels${annotations}
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: ${command}
          args: ["--id", "${i}"]
          resources:
            requests: {cpu: 10m, memory: 16Mi}
`,
        );
    }
    return docs;
}
