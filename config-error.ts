/** A configuration value that stops start-up: one line naming the variable, the problem and a good example. */
export class ConfigError extends Error {
  readonly code = 'STADTFUNK_ERR_CONFIG';
  constructor(variable: string, problem: string, example: string) {
    super(`${variable}: ${problem} (example: ${variable}=${example})`);
    this.name = 'ConfigError';
  }
}
