import { buildWorkflowSchema } from '../../language/schema/workflow-schema.js';
import { EXIT } from '../../model/errors.js';
import type { CommandIO } from '../io.js';

// `flow schema`: the JSON Schema of the workflow language, for editors and other tools.
export function schemaCommand(io: CommandIO): number {
  io.stdout(JSON.stringify(buildWorkflowSchema(), null, 2));
  return EXIT.ok;
}
