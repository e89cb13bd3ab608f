/**
 * Manual snapshots as configuration: the runbook's `aws rds create-db-snapshot` and
 * `az postgres flexible-server backup create` become entries of `manualSnapshots`. Each is a protected
 * resource, so removing an id from the list never deletes a snapshot by accident (Pulumi refuses until it
 * is deliberately unprotected). Cloud SQL on-demand backups have no resource; the loader says so.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";

export type ManualSnapshotsArgs =
    | { cloud: "aws"; ids: string[]; dbInstanceIdentifier: pulumi.Input<string>; tags: Record<string, string> }
    | { cloud: "azure"; ids: string[]; serverName: pulumi.Input<string>; resourceGroupName: pulumi.Input<string> };

export class ManualSnapshots extends pulumi.ComponentResource {
    /** Snapshot ARNs (aws) or backup resource ids (azure), by configured id. */
    readonly ids: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: ManualSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:database:ManualSnapshots", name, {}, opts);
        for (const id of args.ids) {
            if (args.cloud === "aws") {
                const snapshot = new rds.Snapshot(id, {
                    dbInstanceIdentifier: args.dbInstanceIdentifier,
                    dbSnapshotIdentifier: id,
                    tags: { ...args.tags, "oauth2-dr/data-class": "database", "oauth2-dr/snapshot": "manual" },
                }, { parent: this, protect: true });
                this.ids[id] = snapshot.dbSnapshotArn;
            } else {
                const backup = new dbforpostgresql.BackupsAutomaticAndOnDemand(id, {
                    backupName: id,
                    serverName: args.serverName,
                    resourceGroupName: args.resourceGroupName,
                }, { parent: this, protect: true });
                this.ids[id] = backup.id;
            }
        }
        this.registerOutputs({ ids: this.ids });
    }
}
