/**
 * The "Audit logs" row of the retention table (continuous, 1 year): CloudWatch log groups for the
 * server's audit log and for the database's exported logs, KMS-encrypted and kept 365 days or more.
 * RDS would create its export groups itself with infinite retention and no key; declaring them first
 * (the database depends on them) gives them the table's retention and our key.
 */
import * as pulumi from "@pulumi/pulumi";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import { customerManagedKey } from "./kms";
import { AuditArchive } from "./audit-archive";

export interface AuditLogsArgs {
    region: string;
    retentionDays: number;
    /** RDS instance identifiers whose log exports land here. */
    databaseIdentifiers: string[];
    logExports: string[];
    accountId: pulumi.Input<string>;
    /** The key's deletion guard (components/kms.ts): only this role may schedule its deletion or disable it. */
    breakGlassRoleArn?: string;
    /** Archive the server's audit log continuously into this bucket's `audit/` prefix. */
    archive?: { bucketArn: pulumi.Input<string>; bucketKmsKeyArn: pulumi.Input<string>; prefix: string };
    tags: Record<string, string>;
}

export const SERVER_AUDIT_LOG_GROUP = "/oauth2/authorization-server/audit";

export class AuditLogs extends pulumi.ComponentResource {
    readonly logGroups: cloudwatch.LogGroup[];
    readonly auditLogGroupName: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string>;

    constructor(name: string, args: AuditLogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:logging:AuditLogs", name, {}, opts);
        const tags = { ...args.tags, "oauth2-dr/data-class": "audit" };

        const key = customerManagedKey("oauth2-audit-logs", {
            description: "CloudWatch Logs audit trail of the OAuth2 server and its database",
            servicePrincipals: [`logs.${args.region}.amazonaws.com`],
            accountId: args.accountId,
            breakGlassRoleArn: args.breakGlassRoleArn,
            tags,
        }, this);

        const group = (logGroupName: string) =>
            new cloudwatch.LogGroup(logGroupName, {
                name: logGroupName,
                retentionInDays: args.retentionDays,
                kmsKeyId: key.arn,
                tags,
            }, { parent: this, protect: true });

        const audit = group(SERVER_AUDIT_LOG_GROUP);
        const rdsGroups = args.databaseIdentifiers.flatMap((id) => args.logExports.map((log) => group(`/aws/rds/instance/${id}/${log}`)));

        if (args.archive) {
            new AuditArchive("audit-archive", {
                logGroupName: audit.name,
                logGroup: audit,
                region: args.region,
                bucketArn: args.archive.bucketArn,
                bucketKmsKeyArn: args.archive.bucketKmsKeyArn,
                prefix: args.archive.prefix,
                tags,
            }, { parent: this });
        }

        this.logGroups = [audit, ...rdsGroups];
        this.auditLogGroupName = audit.name;
        this.kmsKeyArn = key.arn;
        this.registerOutputs({ auditLogGroupName: this.auditLogGroupName, kmsKeyArn: this.kmsKeyArn });
    }
}
