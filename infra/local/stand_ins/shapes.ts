/**
 * Request validation for the stand-ins, as the services validate: a shape per
 * request (required members, types, lengths, ranges, allowed values, taken
 * from the SDK's model and the service's API reference), and the first
 * violation as the service words it ("1 validation error detected: ...").
 *
 * @example
 * ```ts
 * import { check, string, structure } from "./shapes.ts";
 * check({ name: "" }, structure({ name: [string({ min: 1 }), true] })); // "Value '' at 'name' ..."
 * ```
 */

/** A value's expected form. */
export type Shape =
  | { kind: "string"; min?: number; max?: number; values?: readonly string[]; pattern?: RegExp }
  | { kind: "integer"; min?: number; max?: number; values?: readonly number[] }
  | { kind: "boolean" }
  | { kind: "list"; member: Shape; min?: number }
  | { kind: "map"; value: Shape }
  | { kind: "structure"; members: Record<string, [Shape, boolean]> };

export const string = (
  rules: { min?: number; max?: number; values?: readonly string[]; pattern?: RegExp } = {},
): Shape => ({ kind: "string", ...rules });
export const integer = (
  rules: { min?: number; max?: number; values?: readonly number[] } = {},
): Shape => ({ kind: "integer", ...rules });
export const boolean = (): Shape => ({ kind: "boolean" });
export const list = (member: Shape, min?: number): Shape => ({ kind: "list", member, min });
export const map = (value: Shape): Shape => ({ kind: "map", value });
/** A structure: each member is `[shape, required]`. */
export const structure = (members: Record<string, [Shape, boolean]>): Shape => ({
  kind: "structure",
  members,
});

/** The first violation of `shape` by `value`, or undefined when it conforms. */
export function check(value: unknown, shape: Shape, at = ""): string | undefined {
  const where = at || "request";
  const shown = JSON.stringify(value)?.slice(0, 80) ?? "null";
  const fail = (constraint: string) =>
    `Value ${shown} at '${where}' failed to satisfy constraint: ${constraint}`;
  switch (shape.kind) {
    case "string": {
      if (typeof value !== "string") return fail("Member must be a string");
      if (shape.min !== undefined && value.length < shape.min) {
        return fail(`Member must have length greater than or equal to ${shape.min}`);
      }
      if (shape.max !== undefined && value.length > shape.max) {
        return fail(`Member must have length less than or equal to ${shape.max}`);
      }
      if (shape.values && !shape.values.includes(value)) {
        return fail(`Member must satisfy enum value set: [${shape.values.join(", ")}]`);
      }
      if (shape.pattern && !shape.pattern.test(value)) {
        return fail(`Member must satisfy regular expression pattern: ${shape.pattern.source}`);
      }
      return undefined;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return fail("Member must be an integer");
      }
      if (shape.min !== undefined && value < shape.min) {
        return fail(`Member must have value greater than or equal to ${shape.min}`);
      }
      if (shape.max !== undefined && value > shape.max) {
        return fail(`Member must have value less than or equal to ${shape.max}`);
      }
      if (shape.values && !shape.values.includes(value)) {
        return fail(`Member must be one of [${shape.values.join(", ")}]`);
      }
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : fail("Member must be a boolean");
    case "list": {
      if (!Array.isArray(value)) return fail("Member must be a list");
      if (shape.min !== undefined && value.length < shape.min) {
        return fail(`Member must have length greater than or equal to ${shape.min}`);
      }
      for (const [index, item] of value.entries()) {
        const problem = check(item, shape.member, `${at}[${index}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    case "map": {
      if (!isObject(value)) return fail("Member must be a map");
      for (const [key, item] of Object.entries(value)) {
        const problem = check(item, shape.value, at ? `${at}.${key}` : key);
        if (problem) return problem;
      }
      return undefined;
    }
    case "structure": {
      if (!isObject(value)) return fail("Member must be a structure");
      for (const [name, [member, required]] of Object.entries(shape.members)) {
        const path = at ? `${at}.${name}` : name;
        if (value[name] === undefined || value[name] === null) {
          if (required) {
            return `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
          }
          continue;
        }
        const problem = check(value[name], member, path);
        if (problem) return problem;
      }
      // Members the model does not name are ignored, as the services ignore them.
      return undefined;
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
