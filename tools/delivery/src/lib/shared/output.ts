/**
 * Where an executor prints: every executor takes one through its deps (tests capture the lines);
 * `consoleOutput` is the only place the plugin writes to the console.
 */
export interface Output {
  log: (line: string) => void;
  error: (line: string) => void;
}

export const consoleOutput: Output = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
};

/** `<what> failed: <message>`, the last line of a failed executor. */
export function failureLine(what: string, error: unknown): string {
  return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
}
