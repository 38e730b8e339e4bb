import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../../src/config/config.schema';

const root = join(__dirname, '..', '..');
const variables = Object.keys(configSchema.shape);

describe('the configuration is documented', () => {
  it('lists every variable of the schema in .env.example', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const documented = new Set(
      [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
    );
    expect(variables.filter((variable) => !documented.has(variable))).toEqual([]);
    expect([...documented].filter((variable) => !variables.includes(variable))).toEqual([]);
  });

  it("lists every variable of the schema in the README's configuration table", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const documented = new Set(
      [...readme.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]),
    );
    expect(variables.filter((variable) => !documented.has(variable))).toEqual([]);
    expect([...documented].filter((variable) => !variables.includes(variable))).toEqual([]);
  });
});
