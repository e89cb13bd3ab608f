/**
 * Route 53 failover for the server's public name: the prod stack declares the PRIMARY record, the dr
 * stack the SECONDARY one, each pointing at its region's load balancer and guarded by a health check on
 * /actuator/health. When prod's check fails (3 x 10 s), Route 53 answers with the DR record: the runbook's
 * "Update DNS" step happens without anyone typing it.
 *
 * The health check probes the regional endpoint, not the failover name itself: probing the name would
 * follow the failover to the DR region, see it healthy and flip back (flapping). SNI and the Host header
 * still carry the public name so TLS and virtual hosting behave as for real clients.
 */
import * as pulumi from "@pulumi/pulumi";
import * as route53 from "@pulumi/aws/route53";

export type FailoverType = "PRIMARY" | "SECONDARY";

export interface DnsFailoverArgs {
    hostedZoneId: pulumi.Input<string>;
    domain: string;
    regionalEndpoint: string;
    failover: FailoverType;
    /** Unique per record set: the stack and region. */
    setIdentifier: string;
    healthCheckPath?: string;
    tags: Record<string, string>;
}

export const HEALTH_CHECK_PATH = "/actuator/health";

export class DnsFailover extends pulumi.ComponentResource {
    readonly healthCheckId: pulumi.Output<string>;
    readonly recordFqdn: pulumi.Output<string>;

    constructor(name: string, args: DnsFailoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oauth2-dr:dns:DnsFailover", name, {}, opts);

        const healthCheck = new route53.HealthCheck(`${name}-health`, {
            type: "HTTPS",
            fqdn: args.regionalEndpoint,
            port: 443,
            resourcePath: args.healthCheckPath ?? HEALTH_CHECK_PATH,
            enableSni: true,
            requestInterval: 10,
            failureThreshold: 3,
            measureLatency: true,
            tags: { ...args.tags, Name: `${args.domain} ${args.failover.toLowerCase()} (${args.regionalEndpoint})` },
        }, { parent: this });

        const record = new route53.Record(`${name}-${args.failover.toLowerCase()}`, {
            zoneId: args.hostedZoneId,
            name: args.domain,
            type: "CNAME",
            ttl: 60,
            records: [args.regionalEndpoint],
            setIdentifier: args.setIdentifier,
            failoverRoutingPolicies: [{ type: args.failover }],
            healthCheckId: healthCheck.id,
        }, { parent: this });

        this.healthCheckId = healthCheck.id;
        this.recordFqdn = record.fqdn;
        this.registerOutputs({ healthCheckId: this.healthCheckId, recordFqdn: this.recordFqdn });
    }
}
