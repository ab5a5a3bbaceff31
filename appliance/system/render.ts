// Renders templates/<id>.ejs after checking its input against templates/<id>.schema.json (strict ejs:
// a name the schema forgot is an error, not an empty string). The box's own copy of the templates
// folder sits next to the service.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ejs from 'ejs';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const compiled = new Map<string, ValidateFunction>();

export function renderChecked(templatesDir: string, id: string, data: Record<string, unknown>): string {
  const schemaFile = join(templatesDir, `${id}.schema.json`);
  let validate = compiled.get(schemaFile);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    compiled.set(schemaFile, validate);
  }
  if (!validate(data)) throw new Error(`template ${id}: invalid input: ${ajv.errorsText(validate.errors)}`);
  return ejs.render(readFileSync(join(templatesDir, `${id}.ejs`), 'utf8'), data, { strict: true, _with: false, localsName: 'it', escape: (s: unknown) => String(s), filename: id });
}
