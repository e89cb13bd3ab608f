/**
 * Alarm rules: CloudWatch alarms exist on aws stacks only; a production stack names the SNS topic they notify,
 * in its own region, and a topic in us-east-1 for the Route 53 health-check alarm.
 */
import { SNS_TOPIC, Values } from "../schema";
import type { Fail, RuleContext } from "./context";
import { regionOf } from "./regions";

/** The SNS topics the alarms notify: aws only, required in production, each in the region CloudWatch publishes from. */
export function alarmRules(v: Values, ctx: RuleContext, fail: Fail): void {
    const cloud = v.cloud ?? "aws";
    if (v.role === "vault") {
        return;
    }
    if (cloud !== "aws") {
        for (const key of ["alarmTopicArn", "healthCheckAlarmTopicArn"]) {
            if (ctx.raw(key) !== undefined) {
                fail(key, `CloudWatch alarms are declared on aws stacks only; ${cloud} alerting is out of this program's scope`);
            }
        }
        return;
    }
    const region = regionOf(v);
    const topic = v.alarmTopicArn;
    if (ctx.raw("alarmTopicArn") === undefined && (v.environment ?? "production") === "production") {
        fail("alarmTopicArn", `is required for production: the SNS topic (in ${region}) that the RTO/RPO alarms notify`);
    }
    const topicRegion = topic ? SNS_TOPIC.exec(topic)?.[1] : undefined;
    if (topicRegion && region && topicRegion !== region) {
        fail("alarmTopicArn", `"${topic}" is in ${topicRegion}; CloudWatch alarms notify topics in their own region (${region})`);
    }
    const healthCheckTopic = v.healthCheckAlarmTopicArn;
    if (healthCheckTopic) {
        const at = SNS_TOPIC.exec(healthCheckTopic)?.[1];
        if (at !== "us-east-1") {
            fail("healthCheckAlarmTopicArn", `"${healthCheckTopic}" must be in us-east-1, where Route 53 publishes HealthCheckStatus`);
        }
    } else if (topic && region !== "us-east-1" && ctx.raw("healthCheckAlarmTopicArn") === undefined) {
        fail("healthCheckAlarmTopicArn", `is required when the stack's region (${region}) is not us-east-1: the SNS topic in us-east-1 for the Route 53 health-check alarm`);
    }
}
