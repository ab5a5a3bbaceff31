// Renders a file from templates/<area>/<name>.ejs after checking its input against
// templates/<area>/<name>.schema.json. ejs runs in strict mode, so a name the schema forgot is an error
// instead of an empty string.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ejs from 'ejs';
import { ImageError } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schemaFile: string): ValidateFunction {
  let v = compiled.get(schemaFile);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    compiled.set(schemaFile, v);
  }
  return v;
}

/** Renders `templates/<id>.ejs` (id like "systemd/stube.service") with `data`, or throws TEMPLATE_INPUT. */
export function renderTemplate(templatesDir: string, id: string, data: Record<string, unknown>): string {
  const schemaFile = join(templatesDir, `${id}.schema.json`);
  const validate = validatorFor(schemaFile);
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(input)'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : ''}`);
    throw new ImageError('TEMPLATE_INPUT', `template ${id}: invalid input: ${problems.join('; ')}`);
  }
  const source = readFileSync(join(templatesDir, `${id}.ejs`), 'utf8');
  return ejs.render(source, data, { strict: true, _with: false, localsName: 'it', escape: (s: unknown) => String(s), filename: id });
}
