/** What the offline mocks say a provider computes (packages/offline-plan/src/resource-mocks.ts), on resources other teams declare. */
import { strict as assert } from "assert";
import { UNKNOWN } from "../src/model";
import { computedState, modelledComponentOutputs, physicalId } from "../src/resource-mocks";

describe("offline provider results (packages/offline-plan/src/resource-mocks.ts computedState)", () => {
    it("auto-names AWS and Google Cloud resources the program does not name, and keeps a given name", () => {
        assert.equal(computedState("aws:iam/role:Role", "worker", {}, "us-east-1").name, "worker");
        assert.equal(computedState("aws:iam/role:Role", "worker", { name: "orders-worker-role" }, "us-east-1").name, "orders-worker-role");
        assert.equal(computedState("gcp:storage/bucket:Bucket", "assets", { location: "EU" }, "us-east-1").name, "assets");
        assert.equal(computedState("gcp:sql/databaseInstance:DatabaseInstance", "db", { name: "orders-db" }, "us-east-1").name, "orders-db");
    });

    it("an EventBridge rule (in the cloudwatch module) has an events rule ARN, a log group a logs ARN", () => {
        assert.equal(computedState("aws:cloudwatch/eventRule:EventRule", "r", { name: "on-call" }, "us-west-2").arn, "arn:aws:events:us-west-2:123456789012:rule/on-call");
        assert.equal(computedState("aws:cloudwatch/logGroup:LogGroup", "g", { name: "/app" }, "us-west-2").arn, "arn:aws:logs:us-west-2:123456789012:log-group:/app");
    });

    it("an SNS topic's and an SQS queue's ARN end in their name, a Lambda function's in function:NAME", () => {
        assert.equal(computedState("aws:sns/topic:Topic", "alerts", {}, "eu-west-1").arn, "arn:aws:sns:eu-west-1:123456789012:alerts");
        assert.equal(computedState("aws:sns/topic:Topic", "t", { name: "orders.fifo" }, "eu-west-1").arn, "arn:aws:sns:eu-west-1:123456789012:orders.fifo");
        assert.equal(computedState("aws:sqs/queue:Queue", "jobs", {}, "us-east-1").arn, "arn:aws:sqs:us-east-1:123456789012:jobs");
        assert.equal(computedState("aws:lambda/function:Function", "f", { name: "resize" }, "us-east-1").arn, "arn:aws:lambda:us-east-1:123456789012:function:resize");
    });

    it("gives a Kubernetes object without metadata.name its logical name, keeping the rest of its metadata", () => {
        const state = computedState("kubernetes:apps/v1:Deployment", "frontend", { metadata: { namespace: "shop", labels: { app: "frontend" } } }, "us-east-1");
        assert.deepEqual(state.metadata, { namespace: "shop", labels: { app: "frontend" }, name: "frontend" });
        const named = computedState("kubernetes:core/v1:Service", "svc", { metadata: { name: "redis-leader" } }, "us-east-1");
        assert.equal((named.metadata as { name: string }).name, "redis-leader");
    });

    it("a bucket has its global and its regional domain names, as S3 forms them (h40 trial: kubernetes-ts-s3-rollout's apply over bucketDomainName did not run)", () => {
        const bucket = computedState("aws:s3/bucket:Bucket", "configs", { bucket: "acme-nginx-configs" }, "eu-west-1");
        assert.equal(bucket.bucketDomainName, "acme-nginx-configs.s3.amazonaws.com");
        assert.equal(bucket.bucketRegionalDomainName, "acme-nginx-configs.s3.eu-west-1.amazonaws.com");
    });

    it("MySQL gets MySQL's port, PostgreSQL its own", () => {
        assert.equal(computedState("aws:rds/instance:Instance", "crm", { engine: "mysql" }, "eu-west-1").port, 3306);
        assert.match(String(computedState("aws:rds/instance:Instance", "crm", { engine: "mariadb" }, "eu-west-1").endpoint), /:3306$/);
        assert.equal(computedState("aws:rds/instance:Instance", "idp", { engine: "postgres" }, "eu-west-1").port, 5432);
    });

    it("an RDS instance has the database the program names, none when it names none, and a replica its source's (unknown)", () => {
        assert.equal(computedState("aws:rds/instance:Instance", "orders", { engine: "postgres", dbName: "orders" }, "eu-west-1").dbName, "orders");
        assert.equal(computedState("aws:rds/instance:Instance", "orders", { engine: "postgres" }, "eu-west-1").dbName, "", "no database name given: the provider creates none");
        assert.ok(!("dbName" in computedState("aws:rds/instance:Instance", "orders-replica", { replicateSourceDb: "orders" }, "eu-west-1")), "left to unmodelledOutputs: unknown");
    });

    it("an Azure Flexible Server's id names its resource group, and is unknown while the group is (a lookup not answered offline), never resourceGroups/undefined", () => {
        const SERVER = "azure-native:dbforpostgresql:Server";
        const known = computedState(SERVER, "idp-pg", { serverName: "idp-pg-weu", resourceGroupName: "rg-identity" }, "westeurope");
        assert.equal(known.id, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-identity/providers/Microsoft.DBforPostgreSQL/flexibleServers/idp-pg-weu");
        assert.equal(physicalId(SERVER, "idp-pg", known), known.id);
        // An unknown input arrives in the mocks as undefined.
        const fromLookup = computedState(SERVER, "idp-pg", { serverName: "idp-pg-weu" }, "westeurope");
        assert.equal(fromLookup.id, undefined);
        assert.equal(physicalId(SERVER, "idp-pg", fromLookup), undefined);
        assert.equal(fromLookup.name, "idp-pg-weu");
    });

    it("an awsx.ec2.Vpc has as many subnets of each type as its zones and subnetSpecs ask, unknown when they are", () => {
        const ids = (state: Record<string, unknown>) => ["publicSubnetIds", "privateSubnetIds", "isolatedSubnetIds"].map((k) => (Array.isArray(state[k]) ? (state[k] as unknown[]).length : state[k]));
        assert.deepEqual(ids(computedState("awsx:ec2:Vpc", "main", {}, "eu-west-1")), [3, 3, 0]);
        assert.deepEqual(ids(computedState("awsx:ec2:Vpc", "main", { numberOfAvailabilityZones: 2 }, "eu-west-1")), [2, 2, 0]);
        const specs = [{ type: "Private" }, { type: "Isolated", name: "db" }, { type: "Isolated", name: "cache" }];
        assert.deepEqual(ids(computedState("awsx:ec2:Vpc", "main", { availabilityZoneNames: ["eu-west-1a", "eu-west-1b"], subnetSpecs: specs }, "eu-west-1")), [0, 2, 4]);
        assert.deepEqual(ids(computedState("awsx:ec2:Vpc", "main", { numberOfAvailabilityZones: UNKNOWN }, "eu-west-1")), [UNKNOWN, UNKNOWN, UNKNOWN]);
        const state = computedState("awsx:ec2:Vpc", "main", { numberOfAvailabilityZones: 2 }, "eu-west-1");
        assert.equal(new Set([...(state.publicSubnetIds as string[]), ...(state.privateSubnetIds as string[])]).size, 4);
    });

    it("lists the awsx outputs it stands in for, and none for a component it does not know", () => {
        assert.deepEqual(modelledComponentOutputs("awsx:ecr:Repository"), ["url"]);
        assert.deepEqual(modelledComponentOutputs("awsx:ecr:Image"), []);
    });
});
