// file: codegen.ts
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for Accord's operations. Point `schema` at your copy of Accord's
 * schema.graphql and `documents` at your operations. */
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: {
          // ISO 8601 strings with an offset, as sent and received.
          DateTime: 'string',
          JSON: "import('../scalars').JsonValue",
          // A File or Blob in, never out (see Uploads).
          Upload: { input: 'File | Blob', output: 'never' },
          ConsentSyncEvent: { input: "import('../scalars').ConsentSyncEvent", output: 'never' },
        },
      },
    },
  },
};

export default config;
