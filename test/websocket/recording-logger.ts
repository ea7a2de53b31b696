import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps errors, warnings and log-level lines for the test to inspect, and prints nothing. */
export class RecordingLogger implements LoggerService {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly logs: string[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.logs.push([message, ...rest].map(String).join(' '));
  }
  debug(): void {}
  verbose(): void {}
  error(message: unknown, ...rest: unknown[]): void {
    this.errors.push([message, ...rest].map(String).join(' '));
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.warnings.push([message, ...rest].map(String).join(' '));
  }
}
