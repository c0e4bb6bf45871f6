// A custom step type for workflows/custom-step.yaml: counts the words of `text`.
export const configSchema = {
  type: 'object',
  properties: { text: { type: 'string' } },
  required: ['text'],
  additionalProperties: false,
};

export async function execute(config, context) {
  const words = config.text.split(/\s+/).filter(Boolean);
  return { words: words.length, step: context.stepId };
}
