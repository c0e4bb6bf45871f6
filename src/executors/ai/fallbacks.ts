import { StepFailure } from '../../engine/step-failure.js';
import type { StepContext } from '../executor.js';
import { type AiOutput, chat } from './chat.js';
import { aiRequest } from './request.js';

/** Failures another model may not have: its rate limit, its outage, its slowness, its network. */
const FALLS_BACK = /^(http:429|http:5\d\d|timeout|network)$/;

/**
 * The step's model, then each of `fallback:` in turn while the one before fails on a rate limit, a 5xx, a timeout
 * or the network; never on another 4xx, a refusal or an answer that breaks the schema (the next model would be
 * asked the same wrong thing). The output names the model that answered and the ones that failed before it.
 */
export async function askWithFallbacks(config: Record<string, unknown>, context: StepContext): Promise<AiOutput> {
  const chain = [config['model'], ...(Array.isArray(config['fallback']) ? config['fallback'] : [])];
  // Every model's request is made first: a fallback without its key fails the step before any call, not in place
  // of the passing failure that sent the step to it.
  const requests = chain.map((model) => aiRequest({ ...config, model }, context.env, context.models, context.previous));
  const failed: { model: string; error: string }[] = [];
  for (const [i, request] of requests.entries()) {
    try {
      const output = await chat(request, context);
      return failed.length > 0 ? { ...output, fallback_from: failed } : output;
    } catch (err) {
      const last = i === requests.length - 1;
      if (!(err instanceof StepFailure) || last || !FALLS_BACK.test(err.errorClass) || context.signal.aborted) throw err;
      failed.push({ model: request.model.name, error: `${err.errorClass}: ${err.message}` });
      context.emitOutput('stderr', `model ${request.model.name} failed (${err.errorClass}); asking ${requests[i + 1]!.model.name}\n`);
    }
  }
  throw new StepFailure('validation', 'no model to ask');
}
