// Writes the client guide's operations and code samples where codegen and tsc read them:
// every ```graphql block of docs/clients.md to src/operations/<OperationName>.graphql and
// every ```ts block that starts with `// file: NAME.ts` to src/NAME.ts (codegen.ts, which
// lives beside this script, excepted), also from the docs the guide builds on
// (docs/apollo-cache.md: the cache its apollo.ts imports). src/ is generated: edit the
// docs, not src/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const docs = join(here, '..', '..', 'docs');
const guide = readFileSync(join(docs, 'clients.md'), 'utf8');
const samplesOnly = ['apollo-cache.md'].map((name) => readFileSync(join(docs, name), 'utf8'));
const src = join(here, 'src');
rmSync(src, { recursive: true, force: true });
mkdirSync(join(src, 'operations'), { recursive: true });

const fence = /^```(\w+)\n([\s\S]*?)^```$/gm;
const files = new Set();
function writeSample(body) {
  const file = body.match(/^\/\/ file: ([\w-]+\.ts)\n/)?.[1];
  if (!file || file === 'codegen.ts') return;
  if (files.has(file)) throw new Error(`two code samples are named ${file}`);
  files.add(file);
  writeFileSync(join(src, file), body);
}

const names = new Set();
let operations = 0;
for (const [, language, body] of guide.matchAll(fence)) {
  if (language === 'graphql') {
    const name = body.match(/^\s*(?:query|mutation|subscription)\s+(\w+)/)?.[1];
    if (!name) throw new Error(`an operation in the guide has no name:\n${body}`);
    if (names.has(name)) throw new Error(`two operations in the guide are named ${name}`);
    names.add(name);
    writeFileSync(join(src, 'operations', `${name}.graphql`), body);
    operations += 1;
  } else if (language === 'ts') {
    writeSample(body);
  }
}
for (const text of samplesOnly) {
  for (const [, language, body] of text.matchAll(fence)) {
    if (language === 'ts') writeSample(body);
  }
}
if (operations === 0) throw new Error('no ```graphql block found in docs/clients.md');
console.log(`${operations} operations from docs/clients.md written to src/operations/`);
