/**
 * The stacks this stack reads through a StackReference (the standby's primary, `primaryStack`; the vault,
 * `vaultStack`), and the outputs it reads from each: one list per reference, which every read goes through
 * and which index.ts checks before any resource is declared.
 *
 * Why before: a `requireOutput` of an output the referenced stack lacks (a primary not yet deployed, one
 * deployed by an older release of this program, a key pointing at the wrong stack) fails only when its value
 * resolves, after the stack's other resources have been registered (in `pulumi up`, created), and it names the
 * first missing output only, not the configuration key that chose the stack. The check names the key, the stack
 * and every output missing, and what to do, before anything is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../lib/config";

/** The primary's outputs about its buckets that a standby replicates from (compose-storage.ts replicateFromPrimary). */
export const PRIMARY_BUCKET_OUTPUTS = ["backupBucket", "auditBucket"] as const;
export type PrimaryBucketOutput = (typeof PRIMARY_BUCKET_OUTPUTS)[number];

/** The primary's outputs a standby of each cloud reads, besides its buckets'. */
const PRIMARY_DATABASE_OUTPUTS: Record<StackConfig["cloud"], readonly string[]> = {
    aws: ["dbInstanceArn", "secretArns", "secretsDrKmsKeyArn", "smokeTestClientSecretArn"],
    azure: ["dbServerId", "dbAdminPassword"],
    gcp: ["dbInstanceName", "dbAdminPassword"],
};

/** A referenced stack's outputs this stack reads: those it cannot do without, and those it reads knowing they may be absent. */
export interface ReadOutputs {
    required: string[];
    optional: string[];
}

/** What a standby reads from its primary. */
export function primaryOutputsRead(config: StackConfig): ReadOutputs {
    const buckets = PRIMARY_BUCKET_OUTPUTS.flatMap((output) => [`${output}Name`, `${output}Arn`, `${output}KmsKeyArn`]);
    return { required: [...PRIMARY_DATABASE_OUTPUTS[config.cloud], ...buckets], optional: [] };
}

/**
 * What a stack reads from the vault stack, by what this stack declares (the conditions are those of the reads:
 * stacks/aws.ts and compose-storage.ts). The optional ones are checked where they are read, with their own message
 * (the vault's trusted writers and verification roles: outputs a vault deployed before it published them lacks).
 */
export function vaultOutputsRead(config: StackConfig): ReadOutputs {
    const required = new Set<string>();
    const optional = new Set<string>(["replicationRoleArns", "privateKeysReplicaRegion", "verificationKeysRoleArn", "verificationRoleArns"]);
    if (config.cloud === "aws" && config.role === "primary") {
        // The instance's key lets the vault account copy its recovery points (aws.ts vaultAccountCopies).
        required.add("vaultAccountId");
        if (config.awsBackup.enabled) {
            ["backupVaultArn", "backupVaultName"].forEach((name) => required.add(name));
        }
    }
    if (config.role === "standby") {
        // Replication into the vault's bucket (compose-storage.ts vaultDestination).
        ["vaultBucketArn", "vaultBucketKmsKeyArn", "region", "vaultAccountId"].forEach((name) => required.add(name));
    }
    const encryption = config.backupEncryption;
    if (config.cloud === "aws" && config.backupJobs.enabled && encryption.mode === "public-key") {
        ["region", "privateKeysSecretArn"].forEach((name) => required.add(name));
        if (encryption.allFromVault || encryption.recipients.some((r) => r.armor === undefined)) {
            required.add("backupPublicKeys");
        }
    }
    return { required: [...required], optional: [...optional].filter((name) => !required.has(name)) };
}

/** A stack read through one StackReference, by the configuration key that names it. */
export class ReferencedStack {
    readonly reference: pulumi.StackReference;

    constructor(
        /** The configuration key that names the stack (`oauth2-dr:primaryStack`). */
        readonly configKey: string,
        /** The stack's fully qualified name (organization/project/stack). */
        readonly stackName: string,
        readonly reads: ReadOutputs,
    ) {
        this.reference = new pulumi.StackReference(stackName);
    }

    /** An output this stack cannot do without: listed in `reads.required` (checkReferencedStacks checked it is there). */
    require<T = string>(name: string): pulumi.Output<T> {
        this.listed(name, this.reads.required);
        return this.reference.requireOutput(name) as pulumi.Output<T>;
    }

    /** An output that may be absent (undefined then): listed in `reads.optional`. */
    get<T = string>(name: string): pulumi.Output<T | undefined> {
        this.listed(name, this.reads.optional);
        return this.reference.getOutput(name) as pulumi.Output<T | undefined>;
    }

    /** A read the lists above do not hold is this program's mistake: the check before the declarations would not have covered it. */
    private listed(name: string, list: readonly string[]): void {
        if (!list.includes(name)) {
            throw new Error(`stacks/references.ts: ${this.configKey}'s output ${name} is read but not listed among the ${list === this.reads.required ? "required" : "optional"} outputs of this stack's configuration`);
        }
    }

    /**
     * The required outputs the stack does not have; undefined when its outputs are unknown (the offline plan's
     * first preview without them: nothing to check, and the reads stay unknown too). The names only: no value is
     * read, so no secret output is unwrapped.
     */
    async missingOutputs(): Promise<string[] | undefined> {
        const names = await outputNamesOf(this.reference);
        return names === undefined ? undefined : this.reads.required.filter((name) => !names.includes(name));
    }
}

/**
 * The names of a reference's outputs, once the engine has read the stack; undefined when they are unknown. The
 * SDK has no public way to wait for an output that may be unknown (`apply` never runs then): its Output carries
 * `isKnown`, which the SDK's own `getOutput` forwards, read here. An SDK without it stops the program, naming it.
 */
async function outputNamesOf(reference: pulumi.StackReference): Promise<string[] | undefined> {
    const outputs = reference.outputs as unknown as { isKnown?: Promise<boolean> };
    if (!(outputs.isKnown instanceof Promise)) {
        throw new Error("@pulumi/pulumi's Output has no isKnown promise: stacks/references.ts cannot check a StackReference's outputs before the declarations (a supported SDK has it)");
    }
    if (!(await outputs.isKnown)) {
        return undefined;
    }
    return new Promise((resolve) => reference.outputs.apply((values) => resolve(Object.keys(values ?? {}))));
}

let primary: ReferencedStack | undefined;
let vault: ReferencedStack | undefined;

/** The standby's primary (`primaryStack`), read through one StackReference. */
export function primaryStack(config: StackConfig): ReferencedStack {
    if (!config.primaryStack) {
        // The configuration rules require primaryStack for a standby.
        throw new Error(`${config.project}:primaryStack: a standby stack reads its primary; name it (organization/project/stack)`);
    }
    primary ??= new ReferencedStack(`${config.project}:primaryStack`, config.primaryStack, primaryOutputsRead(config));
    return primary;
}

/** The vault stack (`vaultStack`), read through one StackReference; undefined when the stack names none. */
export function vaultStack(config: StackConfig): ReferencedStack | undefined {
    if (!config.vaultStack) {
        return undefined;
    }
    vault ??= new ReferencedStack(`${config.project}:vaultStack`, config.vaultStack, vaultOutputsRead(config));
    return vault;
}

/** The stacks this one reads outputs from (a vault stack named but not read, as by an Azure primary, is not referenced). */
export function referencedStacks(config: StackConfig): ReferencedStack[] {
    const vaultRead = config.vaultStack !== undefined && vaultOutputsRead(config).required.length > 0;
    return [config.role === "standby" ? primaryStack(config) : undefined, vaultRead ? vaultStack(config) : undefined].filter((s): s is ReferencedStack => s !== undefined);
}

/**
 * Stops the program, before any resource is declared, when a referenced stack lacks outputs this stack reads:
 * one error naming, for each such stack, the configuration key, the stack and every missing output.
 */
export async function checkReferencedStacks(config: StackConfig): Promise<void> {
    const problems: string[] = [];
    for (const stack of referencedStacks(config)) {
        const missing = await stack.missingOutputs();
        if (missing && missing.length > 0) {
            problems.push(
                `${stack.configKey}: the stack ${stack.stackName} has no output${missing.length === 1 ? "" : "s"} ${missing.join(", ")}, which this stack reads: ` +
                    `run \`pulumi up\` on ${stack.stackName} first (this program's release there publishes them), or point ${stack.configKey} at the right stack`,
            );
        }
    }
    if (problems.length > 0) {
        throw new Error(problems.join("\n"));
    }
}
