/** The check CLI's output formats (a module of its own: the CLI parses --format before it loads the reports). */
export type ReportFormat = "text" | "json" | "markdown" | "html";
export const REPORT_FORMATS: readonly ReportFormat[] = ["text", "json", "markdown", "html"];
