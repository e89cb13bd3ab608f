/**
 * One source for the configuration's keys and defaults: lib/config/schema.ts. Pulumi.yaml declares the same
 * keys to the Pulumi CLI (types, defaults, descriptions); this proves the two agree, so that a default
 * changed in one place and not the other fails here rather than in a stack.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { FIELDS, Kind, parseStackConfig, SECTION_DEFAULTS } from "../lib/config";

const ROOT = path.resolve(__dirname, "..");

interface Declared {
    type?: string;
    default?: unknown;
    description?: string;
}

const declared = (parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, Declared> }).config;

/** Pulumi.yaml leaves structured keys untyped. */
function kindOf(d: Declared): Kind {
    return (d.type ?? "object") as Kind;
}

describe("configuration schema and Pulumi.yaml agree", () => {
    it("declare the same keys", () => {
        assert.deepEqual(Object.keys(declared).sort(), Object.keys(FIELDS).sort());
    });

    for (const [key, field] of Object.entries(FIELDS)) {
        it(`${key}: same type and default`, () => {
            const d = declared[key];
            assert.ok(d, `Pulumi.yaml does not declare ${key}`);
            assert.equal(kindOf(d), field.kind, `type of ${key}`);
            assert.deepEqual(d.default, "default" in field ? field.default : undefined, `default of ${key}`);
            assert.ok(d.description && d.description.length > 10, `${key} has a description`);
        });
    }

    it("the defaults inside structured keys are the ones Pulumi.yaml's descriptions name", () => {
        const text = (key: string) => declared[key].description ?? "";
        assert.ok(text("azure").includes(`default ${SECTION_DEFAULTS.azure.resourceGroup}`));
        assert.ok(text("azure").includes(`default ${SECTION_DEFAULTS.azure.skuName}`));
        assert.ok(text("gcp").includes(`default ${SECTION_DEFAULTS.gcp.tier}`));
        assert.ok(text("gcp").includes(`default ${SECTION_DEFAULTS.gcp.transactionLogRetentionDays}`));
        assert.ok(text("awsBackup").includes(`default ${SECTION_DEFAULTS.awsBackup.changeableForDays}`));
        assert.ok(text("appDatabaseSecret").includes(`default ${SECTION_DEFAULTS.appDatabaseSecret.namespace}`));
        assert.ok(text("appDatabaseSecret").includes(`default ${SECTION_DEFAULTS.appDatabaseSecret.name}`));
    });

    it("every default is pinned here: changing one is a deliberate change of this test too", () => {
        const defaults = Object.fromEntries(Object.entries(FIELDS).filter(([, f]) => "default" in f).map(([k, f]) => [k, (f as { default: unknown }).default]));
        assert.deepEqual(defaults, {
            cloud: "aws",
            environment: "production",
            backupWindow: "03:00-04:00",
            maintenanceWindow: "sun:05:00-sun:06:00",
            instanceClass: "db.r6g.large",
            engineVersion: "15",
            allocatedStorageGb: 100,
            maxAllocatedStorageGb: 500,
            tags: {},
            retention: {},
            secretRecoveryWindowDays: 30,
            primaryStack: "",
            backupJobs: {},
            promote: false,
            azure: {},
            gcp: {},
            restore: {},
            manualSnapshots: [],
            awsBackup: {},
            alarmTopicArn: "",
            healthCheckAlarmTopicArn: "",
            appDatabaseSecret: {},
            serverNamespace: "",
            awsPrimaryRegion: "",
            awsDrRegion: "",
            objectLock: {},
            breakGlassRoleArn: "",
            vaultStack: "",
            vault: {},
            backupEncryption: {},
        });
        const small = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
        const large = { requests: { cpu: "500m", memory: "256Mi" }, limits: { cpu: "2", memory: "768Mi" } };
        assert.deepEqual(SECTION_DEFAULTS, {
            backupJobs: {
                enabled: true,
                image: "ghcr.io/oauth2-dr/backup:1.0.0",
                schedules: { dbBackup: "0 5 * * *", clientConfigExport: "*/15 * * * *", secretsExport: "30 5 * * *", appConfigExport: "*/30 * * * *", restoreVerification: "0 6 1 * *" },
                resources: { dbBackup: large, clientConfigExport: small, secretsExport: small, appConfigExport: small, restoreVerification: large },
            },
            azure: { resourceGroup: "oauth2-prod-rg", createResourceGroup: true, skuName: "Standard_D4ds_v5", skuTier: "GeneralPurpose" },
            gcp: { tier: "db-perf-optimized-N-4", edition: "ENTERPRISE_PLUS", transactionLogRetentionDays: 30 },
            awsBackup: { changeableForDays: 3 },
            appDatabaseSecret: { enabled: true, namespace: "oauth2-system", name: "oauth2-database" },
            vault: { airGapped: true, changeableForDays: 3 },
            objectLock: { secretRotationDays: 90 },
        });
    });

    it("a stack that sets only the required keys gets the code's defaults, the same as Pulumi.yaml's", () => {
        const required: Record<string, string> = {
            "oauth2-dr:role": "primary",
            "oauth2-dr:primaryRegion": "us-east-1",
            "oauth2-dr:drRegion": "us-west-2",
            "oauth2-dr:domain": "auth.example.com",
            "oauth2-dr:hostedZoneId": "Z0123456789ABCDEFGHIJ",
            "oauth2-dr:regionalEndpoint": "lb-east.example.com",
            "oauth2-dr:subnetIds": '["subnet-0a1b2c3d4e5f60001","subnet-0a1b2c3d4e5f60002"]',
            "oauth2-dr:securityGroupIds": '["sg-0a1b2c3d4e5f60001"]',
            "oauth2-dr:environment": "staging",
            "aws:region": "us-east-1",
        };
        const withPulumiYamlDefaults: Record<string, string> = { ...required };
        for (const [key, d] of Object.entries(declared)) {
            if (d.default !== undefined && withPulumiYamlDefaults[`oauth2-dr:${key}`] === undefined) {
                withPulumiYamlDefaults[`oauth2-dr:${key}`] = typeof d.default === "string" ? d.default : JSON.stringify(d.default);
            }
        }
        const fromCode = parseStackConfig((k) => required[k], "prod");
        const fromYaml = parseStackConfig((k) => withPulumiYamlDefaults[k], "prod");
        assert.deepEqual(fromYaml, fromCode);
        assert.equal(fromCode.backupWindow, FIELDS.backupWindow.default);
        assert.equal(fromCode.allocatedStorageGb, FIELDS.allocatedStorageGb.default);
    });
});
