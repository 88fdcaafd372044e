/** ownersOfPods (cli/dayTwo.ts): the workloads to roll for meshed pods, from one read per namespace. */
import { Kubectl } from "../cli/check";
import { ownersOfPods } from "../cli/dayTwo";

const owned = (kind: string, name: string) => ({ ownerReferences: [{ kind, name, controller: true }] });
const LIVE: Record<string, unknown[]> = {
    apps: [
        { kind: "Pod", metadata: { name: "web-7d9-abc", ...owned("ReplicaSet", "web-7d9") } },
        { kind: "Pod", metadata: { name: "web-7d9-def", ...owned("ReplicaSet", "web-7d9") } },
        { kind: "Pod", metadata: { name: "agent-x1", ...owned("DaemonSet", "agent") } },
        { kind: "Pod", metadata: { name: "bare" } },
        { kind: "ReplicaSet", metadata: { name: "web-7d9", ...owned("Deployment", "web") } },
    ],
    data: [{ kind: "Pod", metadata: { name: "db-0", ...owned("StatefulSet", "db") } }],
};

class FakeKubectl extends Kubectl {
    readonly reads: string[][] = [];
    constructor() {
        super("kubectl", "/dev/null", "test");
    }
    override read(args: string[]): string {
        this.reads.push(args);
        return JSON.stringify({ items: LIVE[args[1]] ?? [] });
    }
}

test("each owner once, sorted; a bare pod is reported, a pod gone since is skipped; one read per namespace", () => {
    const k = new FakeKubectl();
    const errors: string[] = [];
    const pods = ["apps/web-7d9-abc", "apps/web-7d9-def", "apps/agent-x1", "apps/bare", "apps/gone", "data/db-0"];
    const owners = ownersOfPods(k, pods, () => "runs stable-2.14.10", { out: () => undefined, err: (s) => errors.push(s) });
    expect(owners).toEqual(["apps/daemonset/agent", "apps/deployment/web", "data/statefulset/db"]);
    expect(errors).toEqual(["  apps/bare runs stable-2.14.10 and has no Deployment, DaemonSet or StatefulSet to roll: delete it to re-create it"]);
    expect(k.reads).toEqual([
        ["-n", "apps", "get", "pods,replicasets.apps", "-o", "json"],
        ["-n", "data", "get", "pods,replicasets.apps", "-o", "json"],
    ]);
});
