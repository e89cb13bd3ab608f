/**
 * The authorization server's namespace is one value (serverNamespace, else appDatabaseSecret.namespace, else
 * oauth2-system): the DATABASE_URL Secret is declared there, and the exports that read the server's secret
 * (secrets-export) and ConfigMaps (app-config-export) read THAT namespace, through RBAC Roles and RoleBindings
 * declared there and bound to the jobs' ServiceAccounts, which stay with the CronJobs in oauth2-system.
 * Before, a server in another namespace got its DATABASE_URL there while the exports still read oauth2-system:
 * an empty or foreign export, reported as a success.
 */
import { strict as assert } from "assert";
import type { PlannedResource, PlanResult } from "offline-plan/model";
import { planWith } from "./support/dr-plans";
import { props, resource, resourcesOfType } from "./support/plans";
import { configProblems, parseWith } from "./support/stack-config";

const CRONJOB = "kubernetes:batch/v1:CronJob";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const SA = "kubernetes:core/v1:ServiceAccount";
const SECRET = "kubernetes:core/v1:Secret";

function envOf(plan: PlanResult, job: string): Record<string, string> {
    const container = props(resource(plan, CRONJOB, `backup-jobs-${job}`)).spec.jobTemplate.spec.template.spec.containers[0];
    return Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
}

const namespaceOf = (r: PlannedResource): string => props(r).metadata.namespace;

describe("the server's namespace (serverNamespace / appDatabaseSecret.namespace)", function () {
    this.timeout(120_000);

    describe("configuration", function () {
        it("defaults to oauth2-system; serverNamespace, or appDatabaseSecret.namespace alone (older configurations), names it", () => {
            assert.equal(parseWith("prod").serverNamespace, "oauth2-system");
            assert.equal(parseWith("prod").appDatabaseSecret.namespace, "oauth2-system");
            const byKey = parseWith("prod", { "oauth2-dr:serverNamespace": "identity" });
            assert.equal(byKey.serverNamespace, "identity");
            assert.equal(byKey.appDatabaseSecret.namespace, "identity", "the DATABASE_URL Secret follows the server");
            const legacy = parseWith("prod", { "oauth2-dr:appDatabaseSecret": JSON.stringify({ namespace: "identity" }) });
            assert.equal(legacy.serverNamespace, "identity", "the exports follow appDatabaseSecret.namespace");
            const both = parseWith("prod", { "oauth2-dr:serverNamespace": "identity", "oauth2-dr:appDatabaseSecret": JSON.stringify({ namespace: "identity" }) });
            assert.equal(both.serverNamespace, "identity");
        });

        it("refuses a name that is not a Kubernetes name, naming the key", () => {
            assert.deepEqual(configProblems("prod", { "oauth2-dr:serverNamespace": "Identity_NS" }), [
                `oauth2-dr:serverNamespace: "Identity_NS" is not a Kubernetes name (lowercase, digits, '-', at most 63)`,
            ]);
            assert.deepEqual(configProblems("prod", { "oauth2-dr:serverNamespace": "a".repeat(64) }).length, 1);
            assert.deepEqual(configProblems("prod", { "oauth2-dr:appDatabaseSecret": JSON.stringify({ namespace: "-identity" }) }), [
                `oauth2-dr:appDatabaseSecret.namespace: "-identity" is not a Kubernetes name (lowercase, digits, '-', at most 63)`,
            ]);
        });

        it("refuses serverNamespace and appDatabaseSecret.namespace that differ", () => {
            const problems = configProblems("prod", { "oauth2-dr:serverNamespace": "identity", "oauth2-dr:appDatabaseSecret": JSON.stringify({ namespace: "oauth2-system" }) });
            assert.equal(problems.length, 1);
            assert.match(problems[0], /^oauth2-dr:appDatabaseSecret\.namespace: "oauth2-system" differs from serverNamespace "identity"/);
        });
    });

    describe("plan of prod with the server in `identity`", function () {
        let plan: PlanResult;
        let legacy: PlanResult;
        before(async function () {
            plan = await planWith("prod", { "oauth2-dr:serverNamespace": "identity" });
            // The trial's configuration: the Secret's namespace set alone, as before serverNamespace existed.
            legacy = await planWith("prod", { "oauth2-dr:appDatabaseSecret": JSON.stringify({ namespace: "identity" }) });
        });

        for (const which of ["serverNamespace", "appDatabaseSecret.namespace"] as const) {
            const get = () => (which === "serverNamespace" ? plan : legacy);

            it(`${which}: the exports read identity; the CronJobs, ServiceAccounts and scripts stay in oauth2-system`, () => {
                const p = get();
                assert.equal(envOf(p, "secrets-export").NAMESPACE, "identity");
                assert.equal(envOf(p, "secrets-export").K8S_SECRET_NAME, "oauth2-server-secrets");
                assert.equal(envOf(p, "secrets-export").JWKS_URL, "http://oauth2-server.identity.svc:9000/oauth2/jwks", "the server's Service, not a same-named one in oauth2-system");
                assert.equal(envOf(p, "app-config-export").NAMESPACE, "identity");
                for (const job of resourcesOfType(p, CRONJOB)) {
                    assert.equal(namespaceOf(job), "oauth2-system", job.name);
                }
                for (const sa of resourcesOfType(p, SA)) {
                    assert.equal(namespaceOf(sa), "oauth2-system", sa.name);
                }
                assert.equal(namespaceOf(resource(p, "kubernetes:core/v1:ConfigMap", "backup-jobs-scripts")), "oauth2-system");
                assert.equal(namespaceOf(resource(p, SECRET, "app-database")), "identity");
            });

            it(`${which}: RBAC Roles and RoleBindings in identity, bound to the jobs' ServiceAccounts of oauth2-system`, () => {
                const p = get();
                const roles = resourcesOfType(p, ROLE).filter((r) => r.name.startsWith("backup-jobs-"));
                assert.deepEqual(roles.map((r) => r.name).sort(), ["backup-jobs-app-config-export-rbac", "backup-jobs-secrets-export-rbac"]);
                for (const role of roles) {
                    assert.equal(namespaceOf(role), "identity", role.name);
                }
                assert.deepEqual(props(resource(p, ROLE, "backup-jobs-secrets-export-rbac")).rules,
                    [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["oauth2-server-secrets"], verbs: ["get"] }]);
                for (const job of ["secrets-export", "app-config-export"]) {
                    const binding = props(resource(p, BINDING, `backup-jobs-${job}-rbac`));
                    assert.equal(binding.metadata.namespace, "identity");
                    assert.equal(binding.roleRef.name, `oauth2-dr-${job}`);
                    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: `oauth2-dr-${job}`, namespace: "oauth2-system" }]);
                }
            });
        }

        it("the default: Roles and RoleBindings in oauth2-system, the short JWKS URL", async () => {
            const prod = await planWith("prod");
            assert.equal(envOf(prod, "secrets-export").NAMESPACE, "oauth2-system");
            assert.equal(envOf(prod, "app-config-export").NAMESPACE, "oauth2-system");
            assert.equal(envOf(prod, "secrets-export").JWKS_URL, "http://oauth2-server:9000/oauth2/jwks");
            for (const r of [...resourcesOfType(prod, ROLE), ...resourcesOfType(prod, BINDING)].filter((x) => x.name.startsWith("backup-jobs-"))) {
                assert.equal(namespaceOf(r), "oauth2-system", r.name);
            }
        });
    });
});
