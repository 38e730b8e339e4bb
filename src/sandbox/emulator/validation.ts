import type { AwsError } from './aws-error';

/**
 * Reads members of a JSON request body the way the services check them: a missing required
 * member or a value out of its constraints is refused with the service's validation error.
 */
export class RequestReader {
  constructor(
    private readonly body: Record<string, unknown>,
    private readonly invalid: (message: string) => AwsError,
  ) {}

  static of(body: unknown, invalid: (message: string) => AwsError): RequestReader {
    const object = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
    return new RequestReader(object as Record<string, unknown>, invalid);
  }

  string(name: string, limits: { min?: number; max?: number } = {}): string {
    const value = this.optionalString(name, limits);
    if (value === undefined) throw this.missing(name);
    return value;
  }

  optionalString(name: string, { min = 1, max = Infinity }: { min?: number; max?: number } = {}) {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.invalid(`${name} must be a string`);
    if (value.length < min || value.length > max) {
      throw this.invalid(
        `Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`,
      );
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!allowed.includes(value as T)) {
      throw this.invalid(
        `Value '${value}' at '${lowerFirst(name)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
      );
    }
    return value as T;
  }

  optionalNumber(name: string, { min, max }: { min: number; max: number }): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.invalid(
        `Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
      );
    }
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw this.invalid(`${name} must be a boolean`);
    return value;
  }

  optionalStringList(name: string): string[] | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      throw this.invalid(`${name} must be a list of strings`);
    }
    return value as string[];
  }

  optionalStringMap(name: string): Record<string, string> | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (
      typeof value !== 'object' ||
      Array.isArray(value) ||
      Object.values(value).some((item) => typeof item !== 'string')
    ) {
      throw this.invalid(`${name} must be a map of strings`);
    }
    return value as Record<string, string>;
  }

  object(name: string): RequestReader {
    const reader = this.optionalObject(name);
    if (!reader) throw this.missing(name);
    return reader;
  }

  optionalObject(name: string): RequestReader | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw this.invalid(`${name} must be a structure`);
    }
    return new RequestReader(value as Record<string, unknown>, this.invalid);
  }

  private missing(name: string): AwsError {
    return this.invalid(
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
