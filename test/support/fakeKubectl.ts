/**
 * A stand-in kubectl for running the Longhorn scripts for real: an executable that appends its argv
 * (one line per call, arguments separated by \x1f) to a log file and answers from a small state
 * directory, so create/delete/idempotency can be checked without a cluster.
 *
 * State files (in `dir/state`): `unreachable` (readyz fails), `no-manager` / `no-ui` (objects absent),
 * `csi-after` (number of csidriver polls before the driver shows up; absent file = present at once,
 * "never" = never), `pod-ip` (POD_IP value), `manager-inject` / `ui-inject` (annotation values).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = String.raw`#!/usr/bin/env bash
set -u
S="$FAKE_KUBECTL_DIR/state"
(IFS=$'\x1f'; printf '%s\n' "$*") >> "$FAKE_KUBECTL_DIR/log"
# Drop the pinned flags (the test checks them in the log).
while [ $# -gt 0 ]; do
  case "$1" in
    --kubeconfig|--context) shift 2 ;;
    -n) NS="$2"; shift 2 ;;
    *) break ;;
  esac
done
no_manager() { echo 'Error from server (NotFound): daemonsets.apps "longhorn-manager" not found' >&2; exit 1; }
read_or() { if [ -f "$S/$1" ]; then cat "$S/$1"; else printf '%s' "$2"; fi; }
args="$*"
case "$args" in
  "get --raw /readyz")
    if [ -f "$S/unreachable" ]; then echo "The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?" >&2; exit 1; fi
    echo ok ;;
  "get daemonset longhorn-manager -o name"|"get daemonset longhorn-manager --ignore-not-found -o name")
    if [ -f "$S/no-manager" ]; then
      case "$args" in *ignore-not-found*) exit 0 ;; *) echo 'Error from server (NotFound): daemonsets.apps "longhorn-manager" not found' >&2; exit 1 ;; esac
    fi
    echo daemonset.apps/longhorn-manager ;;
  "get deployment longhorn-ui --ignore-not-found -o name")
    [ -f "$S/no-ui" ] || echo deployment.apps/longhorn-ui ;;
  "rollout status daemonset/longhorn-manager --timeout="*)
    echo 'daemon set "longhorn-manager" successfully rolled out' ;;
  "get csidriver driver.longhorn.io -o name")
    after=$(read_or csi-after 0)
    if [ "$after" = never ]; then echo 'Error from server (NotFound): csidrivers.storage.k8s.io "driver.longhorn.io" not found' >&2; exit 1; fi
    if [ "$after" -gt 0 ]; then echo $((after - 1)) > "$S/csi-after"; echo 'Error from server (NotFound)' >&2; exit 1; fi
    echo csidriver.storage.k8s.io/driver.longhorn.io ;;
  "get daemonset longhorn-manager -o jsonpath="*POD_IP*)
    [ -f "$S/no-manager" ] && no_manager
    read_or pod-ip "" ;;
  "set env daemonset/longhorn-manager -c longhorn-manager POD_IP=0.0.0.0")
    printf '0.0.0.0' > "$S/pod-ip"; echo "daemonset.apps/longhorn-manager env updated" ;;
  "patch daemonset longhorn-manager --type strategic -p "*)
    rm -f "$S/pod-ip"; echo "daemonset.apps/longhorn-manager patched" ;;
  "get daemonset longhorn-manager -o jsonpath="*inject*) [ -f "$S/no-manager" ] && no_manager; read_or manager-inject "" ;;
  "get deployment longhorn-ui -o jsonpath="*inject*) read_or ui-inject "" ;;
  "patch daemonset longhorn-manager --type merge -p "*) printf enabled > "$S/manager-inject"; echo patched ;;
  "patch deployment longhorn-ui --type merge -p "*) printf enabled > "$S/ui-inject"; echo patched ;;
  "patch daemonset longhorn-manager --type json -p "*) rm -f "$S/manager-inject"; echo patched ;;
  "patch deployment longhorn-ui --type json -p "*) rm -f "$S/ui-inject"; echo patched ;;
  *) echo "fake kubectl: unexpected call: $args" >&2; exit 99 ;;
esac
`;

export interface FakeKubectl {
    /** Directory holding `kubectl`, `log` and `state/`. */
    readonly dir: string;
    /** Absolute path of the fake executable (named kubectl). */
    readonly path: string;
    /** Environment for running a script with the fake first on PATH. */
    readonly env: NodeJS.ProcessEnv;
    /** Each call's argv, in order. */
    calls(): string[][];
    clearLog(): void;
    setState(name: string, value?: string): void;
    state(name: string): string | undefined;
}

export function fakeKubectl(): FakeKubectl {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kubectl-"));
    fs.mkdirSync(path.join(dir, "state"));
    const exe = path.join(dir, "kubectl");
    fs.writeFileSync(exe, SCRIPT, { mode: 0o755 });
    const log = path.join(dir, "log");
    return {
        dir,
        path: exe,
        env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`, FAKE_KUBECTL_DIR: dir },
        calls: () =>
            fs.existsSync(log)
                ? fs
                      .readFileSync(log, "utf8")
                      .split("\n")
                      .filter((l) => l.length > 0)
                      .map((l) => l.split("\x1f"))
                : [],
        clearLog: () => fs.rmSync(log, { force: true }),
        setState: (name, value = "") => fs.writeFileSync(path.join(dir, "state", name), value),
        state: (name) => (fs.existsSync(path.join(dir, "state", name)) ? fs.readFileSync(path.join(dir, "state", name), "utf8") : undefined),
    };
}
