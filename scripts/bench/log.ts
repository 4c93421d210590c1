/** Progress lines go to stderr; the report (and its JSON line) to stdout. */
export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
