// Regenerate the committed JSON Schema from the validator (run after changing src/spec/plugin-schema.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginV3JsonSchema } from '../dist/spec/json-schema.js';

const file = join(import.meta.dirname, '../schemas/plugin-v3.schema.json');
writeFileSync(file, `${JSON.stringify(pluginV3JsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
