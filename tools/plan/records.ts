/**
 * What the offline plan records of a program run: each resource registration exactly as the engine would
 * receive it (type, name, URN, parent, options, serialized inputs with secrets and unknowns) and the stack
 * outputs, in Pulumi's wire format made JSON.
 */
import type * as PulumiSdk from "@pulumi/pulumi";
import { PlannedResource, SECRET_SIG, UNKNOWN } from "./model";

/** Pulumi's wire-format secret/unknown markers, turned into plain JSON that survives a process boundary. */
function toJson(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(toJson);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
    }
    return value;
}

export interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProtect?(): boolean;
    getProvider(): string;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
    getRetainondelete?(): boolean;
    getIgnorechangesList?(): string[];
    getAdditionalsecretoutputsList?(): string[];
    getDeletebeforereplace?(): boolean;
    getRemote?(): boolean;
}

export function recordOf(req: RegisterRequest, urn: string, id: string): PlannedResource {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((value, key) => {
        propertyDependencies[key] = value.getUrnsList();
    });
    const provider = req.getProvider();
    return {
        urn,
        id: id || undefined,
        type: req.getType(),
        name: req.getName(),
        parent: req.getParent() || undefined,
        custom: req.getCustom(),
        protect: req.getProtect?.() ?? false,
        retainOnDelete: req.getRetainondelete?.() ?? false,
        provider: provider ? provider.split("::")[0] + "::" + provider.split("::").slice(1).join("::") : undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
        ignoreChanges: req.getIgnorechangesList?.() ?? [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
        inputs: toJson(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
    };
}

export async function resolveExports(pulumi: typeof PulumiSdk, program: Record<string, unknown>): Promise<Record<string, unknown>> {
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) {
        if (key === "__esModule" || typeof value === "function") {
            continue;
        }
        resolved[key] = await resolveValue(pulumi, value);
    }
    return resolved;
}

async function resolveValue(pulumi: typeof PulumiSdk, value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as PulumiSdk.Output<unknown> & { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
        const [inner, known, secret] = await Promise.all([output.promise(), output.isKnown, output.isSecret]);
        if (!known) {
            // A secret stays marked when its value is unknown (`pulumi.secret(password.result)`).
            return secret ? { [SECRET_SIG.key]: SECRET_SIG.value, value: UNKNOWN } : UNKNOWN;
        }
        const plain = await resolveValue(pulumi, inner);
        return secret ? { [SECRET_SIG.key]: SECRET_SIG.value, value: plain } : plain;
    }
    if (value instanceof Promise) {
        return resolveValue(pulumi, await value);
    }
    if (pulumi.Resource.isInstance(value)) {
        return { urn: await resolveValue(pulumi, (value as PulumiSdk.Resource).urn) };
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map((v) => resolveValue(pulumi, v)));
    }
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            out[k] = await resolveValue(pulumi, v);
        }
        return out;
    }
    return value;
}
