// Prints the workflow schema assembled from the sources; the build turns it into the precompiled validator.
import { buildWorkflowSchema } from '../src/language/schema/workflow-schema.js';

process.stdout.write(`${JSON.stringify(buildWorkflowSchema(), null, 2)}\n`);
