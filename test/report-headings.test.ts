/**
 * The "not judged" list's heading says "in this preview" only for a preview: a full plan has unknowns of its own
 * (an outside stack's output not supplied, a value the offline plan does not compute), and calling them the
 * preview's sent the reader to run without --preview, which they had done (h29 multicloud trial).
 */
import { strict as assert } from "assert";
import type { StackCheck } from "../tools/check/core";
import { formatCheck } from "../tools/check/format";
import { renderHtml } from "../tools/report/html";
import { renderMarkdown } from "../tools/report/markdown";
import type { PlanResult } from "offline-plan/model";

const check: StackCheck = {
    stack: "euw3",
    project: "idp",
    role: "primary",
    resourceCount: 1,
    violations: [],
    retention: [],
    waivers: [],
    notApplicable: [],
    lookups: [],
    exposedSecrets: [],
    notJudged: [],
    waitingOnUnknowns: [],
    notJudgedInPreview: [{ name: "idp-pg", type: "gcp:sql/databaseInstance:DatabaseInstance", inputs: "settings.edition", policies: ["cloudsql-backup-configuration"] }],
    unknownApplies: [],
};

const plan = (preview: boolean) => ({ project: "idp", stack: "euw3", organization: "organization", preview, config: {}, resources: [], outputs: {}, lookups: [] }) as unknown as PlanResult;

describe("the not-judged heading: a preview's, or a full plan's", () => {
    it("text: 'Not judged in this preview' with --preview only; a full plan says its values are unknown in this plan", () => {
        assert.match(formatCheck(check, true), /^Not judged in this preview: 1 resource with an input .*or check without --preview\):$/m);
        const full = formatCheck(check, false);
        assert.doesNotMatch(full, /in this preview|without --preview/);
        assert.match(full, /^Not judged: 1 resource with an input a policy decides on unknown in this plan, not a preview \(.*StackReference not supplied with --stack-outputs.*\): *$/m);
        assert.match(full, /^ {2}idp-pg \(DatabaseInstance\): settings\.edition unknown \[cloudsql-backup-configuration\]$/m);
    });

    it("Markdown and HTML: the same heading by the plans' preview flag", () => {
        assert.match(renderMarkdown([check], { preview: true }), /^#### Not judged in this preview \(1\)$/m);
        const markdown = renderMarkdown([check], { preview: false });
        assert.match(markdown, /^#### Not judged \(values unknown in this plan\) \(1\)$/m);
        assert.doesNotMatch(markdown, /in this preview/);
        assert.match(renderHtml([check], [plan(true)]), /<h2>Not judged in this preview<\/h2>/);
        const html = renderHtml([check], [plan(false)]);
        assert.match(html, /<h2>Not judged \(values unknown in this plan\)<\/h2>/);
        assert.doesNotMatch(html, /Not judged in this preview/);
    });
});
