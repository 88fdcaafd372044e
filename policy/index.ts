/**
 * Entry point of the CrossGuard policy pack. This is the only file that constructs a PolicyPack: doing so starts
 * the analyzer gRPC server and prints its port, which the Pulumi engine reads. Everything else is importable.
 *
 *   pulumi preview --policy-pack policy [--policy-pack-config policy-config.json]
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
    description:
        "Linkerd guardrails for the picluster: Jobs and Helm hook pods that never finish, hostNetwork pods, injection asked for where the injector never looks, Traefik open relays, ECK pods, the viz dashboard.",
    policies,
});
