/**
 * Builds a small value that satisfies a JSON schema: what the emulated model "answers" for tool
 * arguments and structured output. Handles the subset tool schemas use in practice: type (or a type
 * list), properties/required, items/minItems, enum/const/default/examples, anyOf/oneOf/allOf, local
 * $ref into $defs/definitions, string formats and length, number bounds.
 */
type Schema = Record<string, unknown>;

const FORMAT_EXAMPLES: Record<string, string> = {
  date: '2025-01-01',
  'date-time': '2025-01-01T00:00:00Z',
  time: '12:00:00',
  email: 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
};

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isSchema(node)) return undefined;
    node = node[key];
  }
  return isSchema(node) ? node : undefined;
}

export function exampleForSchema(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isSchema(schema) || depth > 8) return null;
  const rootSchema = isSchema(root) ? root : {};
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, rootSchema);
    return target ? exampleForSchema(target, rootSchema, depth + 1) : null;
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema && schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const nonNull = options.find((o) => !(isSchema(o) && o.type === 'null')) ?? options[0];
      return exampleForSchema(nonNull, rootSchema, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged: Schema = {};
    const properties: Schema = {};
    const required: string[] = [];
    for (const part of schema.allOf) {
      const resolved = isSchema(part) && typeof part.$ref === 'string' ? resolveRef(part.$ref, rootSchema) : part;
      if (!isSchema(resolved)) continue;
      Object.assign(merged, resolved);
      if (isSchema(resolved.properties)) Object.assign(properties, resolved.properties);
      if (Array.isArray(resolved.required)) required.push(...(resolved.required as string[]));
    }
    delete merged.allOf;
    if (Object.keys(properties).length > 0) {
      merged.properties = properties;
      merged.type ??= 'object';
    }
    if (required.length > 0) merged.required = required;
    return exampleForSchema(merged, rootSchema, depth + 1);
  }

  let type = schema.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? type[0];
  if (type === undefined) {
    if (isSchema(schema.properties)) type = 'object';
    else if (schema.items !== undefined) type = 'array';
  }
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = isSchema(schema.properties) ? schema.properties : {};
      for (const [name, sub] of Object.entries(properties)) out[name] = exampleForSchema(sub, rootSchema, depth + 1);
      if (Array.isArray(schema.required)) {
        for (const name of schema.required as string[]) if (!(name in out)) out[name] = 'example';
      }
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
      const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 1);
      const count = Math.min(Math.max(min, 1), max);
      const items: unknown[] = [];
      for (let i = 0; i < count; i++) items.push(exampleForSchema(schema.items ?? { type: 'string' }, rootSchema, depth + 1));
      return items;
    }
    case 'integer':
    case 'number': {
      let value = typeof schema.minimum === 'number' ? schema.minimum : 1;
      if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) value = schema.exclusiveMinimum + 1;
      if (typeof schema.maximum === 'number' && value > schema.maximum) value = schema.maximum;
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string': {
      let value = (typeof schema.format === 'string' && FORMAT_EXAMPLES[schema.format]) || 'example';
      const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
      while (value.length < minLength) value += 'x';
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) value = value.slice(0, schema.maxLength);
      return value;
    }
    default:
      return {};
  }
}
