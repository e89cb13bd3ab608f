/**
 * The SDK contract (src/sdk-contract.ts): the real SDK meets it; a made-up shape with one thing changed, or a
 * version outside the range, is refused with the version and what was expected.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkSdkContract, contractProblems, inRange, loadSdkShape, SdkContractError, SdkShape, supportedRange } from "../src/sdk-contract";
import { policyContractProblems } from "../src/policy-harness";

const SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));

/** The real shape with `change` applied to a copy of the part it names. */
function changed(part: keyof SdkShape, change: (copy: Record<string, unknown>) => void): SdkShape {
    const real = loadSdkShape(SDK_DIR);
    const copy = Object.assign(Object.create(Object.getPrototypeOf(real[part] as object) as object) as Record<string, unknown>, real[part] as object);
    change(copy);
    return { ...real, [part]: copy };
}

describe("offline-plan: the SDK contract, checked at start-up", () => {
    it("states the supported range in package.json and reads versions against it", () => {
        assert.match(supportedRange(), /^>=3\.\d+\.\d+ <4$/);
        assert.ok(inRange("3.270.0", ">=3.270.0 <4"));
        assert.ok(inRange("3.999.1", ">=3.270.0 <4"));
        assert.ok(!inRange("3.269.9", ">=3.270.0 <4"));
        assert.ok(!inRange("4.0.0", ">=3.270.0 <4"));
        assert.ok(!inRange("4.0.0-alpha.1", ">=3.270.0 <4"));
    });

    it("the installed SDK and this Node meet every expectation", () => {
        assert.deepEqual(contractProblems(loadSdkShape(SDK_DIR)), []);
        checkSdkContract(SDK_DIR);
    });

    it("refuses a version outside the range, naming it and the range", () => {
        const problems = contractProblems({ ...loadSdkShape(SDK_DIR), version: "3.100.0" }, ">=3.270.0 <4");
        assert.deepEqual(problems, ["@pulumi/pulumi 3.100.0 is outside the supported range >=3.270.0 <4"]);
    });

    it("refuses registerResource with its arguments in other positions", () => {
        const shape = changed("resourceRuntime", (copy) => {
            copy.registerResource = function registerResource(res: unknown, t: unknown, name: unknown, parent: unknown) {
                return [res, t, name, parent];
            };
        });
        const [problem, ...rest] = contractProblems(shape);
        assert.deepEqual(rest, []);
        assert.match(problem, /^expected runtime\/resource\.js exports registerResource\(res, parent, t, name, custom, remote, newDependency, props, \.\.\.\) \(for .*argument position/);
    });

    it("refuses a debuggable.js without leakedPromises, a Resource without stackTrace, a Node without Module._load", () => {
        assert.match(contractProblems(changed("debuggable", (copy) => delete copy.leakedPromises)).join("\n"), /expected runtime\/debuggable\.js exports leakedPromises\(\)/);
        const sdk = changed("sdk", (copy) => {
            copy.Resource = class {};
        });
        assert.match(contractProblems(sdk).join("\n"), /expected Resource\.stackTrace\(skip\) is a static function/);
        const node = changed("nodeModule", (copy) => {
            copy._load = undefined;
        });
        assert.match(contractProblems(node).join("\n"), /expected Node's Module\._load is a function/);
        const noLookupPaths = changed("nodeModule", (copy) => {
            copy._resolveLookupPaths = undefined;
        });
        assert.match(contractProblems(noLookupPaths).join("\n"), /expected Node's Module\._resolveLookupPaths is a function, Module\._cache an object/);
        assert.match(contractProblems(changed("rpc", (copy) => (copy.unknownValue = "x"))).join("\n"), /unknownValue is "04da6b54/);
        const noIsKnown = changed("sdk", (copy) => {
            copy.output = (value: unknown) => ({ value });
        });
        assert.match(contractProblems(noIsKnown).join("\n"), /expected an Output carries isKnown, a Promise of a boolean/);
    });

    it("fails loudly with every problem, the version and where the SDK is", () => {
        const shape = { ...loadSdkShape(SDK_DIR), version: "2.0.0", debuggable: {} };
        const error = new SdkContractError(shape, contractProblems(shape));
        assert.match(error.message, /^the offline planner cannot run with @pulumi\/pulumi 2\.0\.0 \(.*node_modules\/@pulumi\/pulumi\) on Node v\d+/);
        assert.match(error.message, /outside the supported range/);
        assert.match(error.message, /debuggablePromise\(p, ctx\)/);
    });
});

describe("offline-plan: @pulumi/policy's contract, checked when the policy harness loads", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installed = require("@pulumi/policy") as Record<string, unknown>;
    const range = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { peerDependencies: Record<string, string> }).peerDependencies["@pulumi/policy"];

    it("states a range the contract reads, which the installed @pulumi/policy meets", () => {
        assert.match(range, /^>=1\.\d+\.\d+ <2$/);
        const { version } = JSON.parse(fs.readFileSync(require.resolve("@pulumi/policy/package.json"), "utf8")) as { version: string };
        assert.deepEqual(policyContractProblems(version, installed, range), []);
    });

    it("refuses a version outside the range and a @pulumi/policy without the engine's proxy, naming them", () => {
        assert.deepEqual(policyContractProblems("v1.20.0", installed, ">=1.21.0 <2"), ["@pulumi/policy 1.20.0 is outside the supported range >=1.21.0 <2"]);
        assert.deepEqual(policyContractProblems("2.0.0", installed, ">=1.21.0 <2"), ["@pulumi/policy 2.0.0 is outside the supported range >=1.21.0 <2"]);
        const withoutProxy = { ...installed, unknownCheckingProxy: undefined };
        assert.deepEqual(policyContractProblems("1.21.0", withoutProxy, ">=1.21.0 <2"), ["@pulumi/policy has no unknownCheckingProxy (the engine's proxy of a resource's properties and its error)"]);
    });
});
