/**
 * `npm run --silent scp`: prints the organization SCP (lib/organization-scp.ts) for this program's stacks: the
 * break-glass roles are every stack file's `oauth2-dr:breakGlassRoleArn`, the alarm topics every `oauth2-dr:alarmTopicArn`.
 *
 *   npm run --silent scp > docs/organization-scp.json                      regenerate the committed artifact
 *   npm run --silent scp -- --security-principal arn:aws:iam::111111111111:role/security   another security principal (repeatable)
 *   npm run --silent scp -- --target ou-ab12-34cd56ef                      also print the commands to apply it there
 *
 * Exit 2 on a malformed ARN or target, naming it.
 */
import * as fs from "fs";
import * as path from "path";
import { checkScpTarget, DEFAULT_SECURITY_PRINCIPAL, organizationScp } from "../lib/organization-scp";

export const REPO = path.resolve(__dirname, "..");

/** Every stack file's value of the config key `key` (a line `key: value`), each once, sorted. */
function valuesOfStacks(key: string, dir: string): string[] {
    // The keys are this file's constants (letters, ':' and '-'): nothing in them is special to a RegExp.
    const line = new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, "m");
    const values = new Set<string>();
    for (const file of fs.readdirSync(dir).filter((f) => /^Pulumi\.[\w-]+\.yaml$/.test(f))) {
        const match = line.exec(fs.readFileSync(path.join(dir, file), "utf8"));
        if (match) {
            values.add(match[1]);
        }
    }
    return [...values].sort();
}

/** Every stack file's break-glass role. */
export function breakGlassRolesOfStacks(dir = REPO): string[] {
    return valuesOfStacks("oauth2-dr:breakGlassRoleArn", dir);
}

/** Every stack file's alarm topic (oauth2-dr:alarmTopicArn): the retention alarm's, guarded by the SCP. */
export function alarmTopicsOfStacks(dir = REPO): string[] {
    return valuesOfStacks("oauth2-dr:alarmTopicArn", dir);
}

export function scpText(securityPrincipalArns: string[] = [DEFAULT_SECURITY_PRINCIPAL]): string {
    return JSON.stringify(organizationScp({ breakGlassRoleArns: breakGlassRolesOfStacks(), securityPrincipalArns, alarmTopicArns: alarmTopicsOfStacks() }), null, 2) + "\n";
}

/** The commands that create the SCP in the management account and attach it to `target`. */
export function applyCommands(target: string): string {
    checkScpTarget(target);
    return [
        "# In the organization's management account (SCPs enabled: aws organizations enable-policy-type --root-id r-xxxx --policy-type SERVICE_CONTROL_POLICY):",
        "POLICY_ID=$(aws organizations create-policy --type SERVICE_CONTROL_POLICY --name oauth2-dr-guards \\",
        "  --description 'oauth2-dr: key, bucket and alarm guards and break-glass roles change only by break-glass / security' \\",
        // Whitespace counts against the SCP's 5,120 characters when the CLI saves it (Quotas for AWS Organizations): compact it.
        "  --content \"$(jq -c . docs/organization-scp.json)\" --query Policy.PolicySummary.Id --output text)",
        `aws organizations attach-policy --policy-id "$POLICY_ID" --target-id ${target}`,
        "",
    ].join("\n");
}

function main(argv: string[]): number {
    const principals: string[] = [];
    let target: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const value = inline ?? argv[++i];
        if ((flag !== "--security-principal" && flag !== "--target") || value === undefined) {
            process.stderr.write(`scp: ${value === undefined ? `${flag} needs a value` : `unknown argument ${flag}`} (--security-principal ARN, --target r-…|ou-…|account)\n`);
            return 2;
        }
        if (flag === "--target") {
            target = value;
        } else {
            principals.push(value);
        }
    }
    try {
        process.stdout.write(scpText(principals.length > 0 ? principals : undefined));
        if (target !== undefined) {
            process.stderr.write(applyCommands(target));
        }
        return 0;
    } catch (err) {
        process.stderr.write(`scp: ${(err as Error).message}\n`);
        return 2;
    }
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
