/**
 * The database on Azure: PostgreSQL Flexible Server `oauth2-postgres` (the runbook's "Azure PostgreSQL"
 * commands as declared settings). The "Database (PostgreSQL)" row of the retention table: automated backups
 * with continuous WAL for point-in-time restore, kept 30 days, geo-redundant (paired region), zone-redundant
 * high availability, storage auto-grow. The standby stack declares a cross-region read replica
 * (createMode Replica); `promote: true` promotes it to a standalone server.
 */
import * as pulumi from "@pulumi/pulumi";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import * as random from "@pulumi/random";
import { azureTags, connectionUrl, DATABASE_NAME, DatabaseOutputs, POSTGRES_PORT } from "./database-interface";

export const AZURE_ADMIN_LOGIN = "oauth2admin";

export interface AzureNetwork {
    delegatedSubnetId: string;
    privateDnsZoneId: string;
}

export interface AzureServerCommon {
    serverName: string;
    location: string;
    resourceGroupName: pulumi.Input<string>;
    /** PostgreSQL major version, e.g. "15". */
    version: string;
    skuName: string;
    skuTier: string;
    storageSizeGb: number;
    /** Days of backups and of the point-in-time window (7-35). */
    backupRetentionDays: number;
    maintenanceStart: { dayOfWeek: number; hour: number; minute: number };
    network?: AzureNetwork;
    tags: Record<string, string>;
}

export interface AzureDatabaseArgs extends AzureServerCommon {
    role: "primary";
}

export interface AzureReplicaArgs extends AzureServerCommon {
    role: "replica";
    /** Resource id of the primary server, from the prod stack. */
    sourceServerResourceId: pulumi.Input<string>;
    /** The primary's admin password (secret), for the connection URL once promoted. */
    administratorPassword: pulumi.Input<string>;
    /** Promote the replica to a standalone server (regional failover). */
    promote: boolean;
}

/** The settings every server of ours declares, whatever its role. */
export function azureServerSettings(args: AzureServerCommon, highAvailability: boolean) {
    return {
        location: args.location,
        resourceGroupName: args.resourceGroupName,
        serverName: args.serverName,
        version: args.version,
        sku: { name: args.skuName, tier: args.skuTier },
        storage: { storageSizeGB: args.storageSizeGb, autoGrow: "Enabled" },
        backup: { backupRetentionDays: args.backupRetentionDays, geoRedundantBackup: "Enabled" },
        highAvailability: { mode: highAvailability ? "ZoneRedundant" : "Disabled" },
        maintenanceWindow: {
            customWindow: "Enabled",
            dayOfWeek: args.maintenanceStart.dayOfWeek,
            startHour: args.maintenanceStart.hour,
            startMinute: args.maintenanceStart.minute,
        },
        network: args.network
            ? {
                  delegatedSubnetResourceId: args.network.delegatedSubnetId,
                  privateDnsZoneArmResourceId: args.network.privateDnsZoneId,
                  publicNetworkAccess: "Disabled",
              }
            : { publicNetworkAccess: "Disabled" },
        tags: azureTags({ ...args.tags, "oauth2-dr/data-class": "database" }),
    };
}

export class AzureDatabase extends pulumi.ComponentResource implements DatabaseOutputs {
    readonly cloud = "azure" as const;
    readonly identifier: pulumi.Output<string>;
    readonly resourceId: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
    readonly port: pulumi.Output<number>;
    readonly databaseName = DATABASE_NAME;
    readonly connectionUrl: pulumi.Output<string>;
    /** The admin password (secret); the standby stack's replica inherits it. */
    readonly administratorPassword: pulumi.Output<string>;
    readonly server: dbforpostgresql.Server;

    constructor(name: string, args: AzureDatabaseArgs | AzureReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:AzureDatabase", name, {}, opts);

        let password: pulumi.Output<string>;
        if (args.role === "primary") {
            const generated = new random.RandomPassword(`${args.serverName}-admin-password`, {
                length: 40,
                special: true,
                overrideSpecial: "!#$%^&*()-_=+[]{}<>:?",
            }, { parent: this });
            password = pulumi.secret(generated.result);
            this.server = new dbforpostgresql.Server(args.serverName, {
                ...azureServerSettings(args, true),
                createMode: "Default",
                administratorLogin: AZURE_ADMIN_LOGIN,
                administratorLoginPassword: password,
                authConfig: { passwordAuth: "Enabled", activeDirectoryAuth: "Disabled" },
            }, { parent: this, protect: true, ignoreChanges: ["administratorLoginPassword"] });
            new dbforpostgresql.Database(`${args.serverName}-${DATABASE_NAME}`, {
                resourceGroupName: args.resourceGroupName,
                serverName: this.server.name,
                databaseName: DATABASE_NAME,
                charset: "UTF8",
                collation: "en_US.utf8",
            }, { parent: this, protect: true });
        } else {
            password = pulumi.secret(pulumi.output(args.administratorPassword));
            // A replica's data, credentials and database come from the source. Zone-redundant HA is not
            // available on replicas; it is switched on together with the promotion.
            this.server = new dbforpostgresql.Server(args.serverName, {
                ...azureServerSettings(args, args.promote),
                createMode: "Replica",
                sourceServerResourceId: args.sourceServerResourceId,
                ...(args.promote ? { replica: { promoteMode: "Standalone", promoteOption: "Forced" } } : {}),
            }, { parent: this, protect: true });
        }

        this.identifier = this.server.name;
        this.resourceId = this.server.id;
        this.address = this.server.fullyQualifiedDomainName;
        this.port = pulumi.output(POSTGRES_PORT);
        this.administratorPassword = password;
        this.connectionUrl = connectionUrl(AZURE_ADMIN_LOGIN, password, this.address, POSTGRES_PORT);
        this.registerOutputs({ identifier: this.identifier, resourceId: this.resourceId, address: this.address });
    }
}
