import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { type AttemptView, api, type InputField, type PlanNode, type RunDetail, type RunGraph, type StepView, saved } from '../api.js';
import { formInputs, InputFields } from '../input-fields.js';
import { duration, plainText, spend, when } from '../format.js';
import { AnsiText } from '../ansi.js';
import { PlanGraph, planOfRun } from '../graph.js';
import { reloadOnEvents } from '../live.js';
import { location, navigate } from '../router.js';

// One run: its graph coloured by status, its steps, the chosen step's output and AI call, and the buttons that
// resume or cancel it, each beside the command that does the same. Kept up to date by the run's event stream.
export function RunPage({ id }: { id: string }) {
  const run = useSignal<RunDetail | null>(null);
  const failure = useSignal<string | null>(null);
  const busy = useSignal(false);
  const revision = useSignal(0);
  const plan = useSignal<PlanNode[] | null>(null);
  const declared = useSignal<InputField[]>([]);
  const rerunning = useSignal(false);
  const selected = location.value.searchParams.get('step');

  useEffect(() => {
    let stale = false;
    const load = () =>
      api<RunDetail>(`/runs/${encodeURIComponent(id)}`).then(
        (r) => {
          if (stale) return;
          run.value = r;
          revision.value++;
        },
        (err: Error) => {
          failure.value = err.message;
        },
      );
    void api<RunGraph>(`/runs/${encodeURIComponent(id)}/graph`).then(
      (g) => {
        if (stale) return;
        plan.value = g.graph?.steps ?? null;
        declared.value = g.inputs;
      },
      () => {},
    );
    const stop = reloadOnEvents(`/api/v1/runs/${encodeURIComponent(id)}/events`, load, {
      snapshot: (data) => {
        run.value = JSON.parse(data) as RunDetail;
        revision.value++;
      },
    });
    return () => {
      stale = true;
      stop();
    };
  }, [id]);

  const act = async (what: 'resume' | 'cancel', from?: string) => {
    busy.value = true;
    failure.value = null;
    try {
      await api(`/runs/${encodeURIComponent(id)}/${what}`, { method: 'POST', body: from ? { from } : {} });
    } catch (err) {
      failure.value = (err as Error).message;
    } finally {
      busy.value = false;
    }
  };

  // A new run with the inputs as the form holds them (the run's, a secret given again); what it can take over from this
  // run it does not run again.
  const rerun = async (event: Event) => {
    event.preventDefault();
    busy.value = true;
    failure.value = null;
    try {
      const inputs = formInputs(declared.value, event.target as HTMLFormElement);
      const { id: next } = await api<{ id: string }>(`/runs/${encodeURIComponent(id)}/rerun`, { method: 'POST', body: { inputs } });
      rerunning.value = false;
      navigate(`/ui/runs/${next}`);
    } catch (err) {
      failure.value = (err as Error).message;
    } finally {
      busy.value = false;
    }
  };

  const r = run.value;
  if (!r) return <p>{failure.value ?? 'Loading…'}</p>;
  const step = r.steps.find((s) => s.id === selected);
  const byId = new Map(r.steps.map((s) => [s.id, s]));
  return (
    <section>
      <h1>
        Run <code>{r.id}</code> <span class={`status ${r.status}`}>{r.status}</span>
      </h1>
      <p>
        {r.workflow} · started {when(r.started_at)} · {duration(r.duration_ms)} · attempt {r.attempt}
        {r.ai.calls > 0 ? ` · AI: ${spend(r.ai)}` : ''}
      </p>
      {r.error ? <p class="error">{`${r.error.class}: ${r.error.message}`}</p> : null}
      <div class="actions" hidden={saved !== undefined}>
        {r.status === 'failed' || r.status === 'interrupted' ? (
          <span>
            <button type="button" disabled={busy.value} onClick={() => act('resume')}>
              Resume
            </button>{' '}
            <code class="cli">flow resume {r.id}</code>
          </span>
        ) : null}
        {r.status !== 'running' ? (
          <span>
            <button type="button" aria-expanded={rerunning.value} disabled={busy.value} onClick={() => (rerunning.value = !rerunning.value)}>
              Run again
            </button>{' '}
            <code class="cli">flow run {r.path}</code>
          </span>
        ) : null}
        {r.status === 'running' ? (
          <span>
            <button type="button" disabled={busy.value} onClick={() => act('cancel')}>
              Cancel
            </button>{' '}
            <code class="cli">kill -TERM the flow process (Ctrl-C)</code>
          </span>
        ) : null}
      </div>
      {rerunning.value && r.status !== 'running' ? (
        <form class="run-form" aria-label="Run again with these inputs" onSubmit={rerun}>
          <InputFields inputs={declared.value} values={r.inputs} />
          <button type="submit" disabled={busy.value}>
            Start the new run
          </button>
          <small>Steps before the first that a changed input or step could change are taken over from this run.</small>
        </form>
      ) : null}
      {failure.value ? <p role="alert">{failure.value}</p> : null}
      <h2>Graph</h2>
      <PlanGraph nodes={plan.value ?? planOfRun(r.steps)} status={(sid) => byId.get(sid)} />
      <h2>Timeline</h2>
      <Timeline run={r} />
      <h2>Steps</h2>
      <table class="steps">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Duration</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {r.steps.map((s) => (
            <tr key={s.id} class={s.id === selected ? 'selected' : ''}>
              <td>
                <a href={`/ui/runs/${r.id}?step=${encodeURIComponent(s.id)}`}>{s.id}</a>
              </td>
              <td>
                <span class={`status ${s.status}`} data-step-status={s.id}>
                  {s.status}
                </span>
              </td>
              <td>{s.attempts}</td>
              <td>{duration(s.duration_ms)}</td>
              <td>{s.error ? `${s.error.class}: ${s.error.message}` : (s.reason ?? spend(s.ai))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {step ? (
        <StepPanel
          runId={r.id}
          step={step}
          prompt={findNode(plan.value ?? [], step.id)?.prompt ?? null}
          revision={revision.value}
          rerun={saved || r.status === 'running' ? undefined : (from) => act('resume', from)}
        />
      ) : null}
      <p hidden={saved !== undefined}>
        <a
          href="/ui/runs"
          onClick={(e) => {
            e.preventDefault();
            window.history.length > 1 ? window.history.back() : navigate('/ui/runs');
          }}
        >
          Back to the runs
        </a>
      </p>
    </section>
  );
}

// Each step's attempts as bars on the run's time axis: a gap between two bars of a step is its retry back-off.
function Timeline({ run }: { run: RunDetail }) {
  const start = Date.parse(run.started_at);
  // A for_each records its items, not attempts of its own: its lane is one bar over the span of its items.
  const attempts = run.steps.flatMap((s): (AttemptView & { step: string })[] =>
    s.attempt_history.length > 0 || !s.items
      ? s.attempt_history.map((a) => ({ step: s.id, ...a }))
      : [{ step: s.id, attempt: 0, status: s.status, started_at: s.started_at, ended_at: s.ended_at, duration_ms: s.duration_ms, error: null, delay_ms: null }],
  );
  if (attempts.length === 0) return <p>No attempts yet.</p>;
  const end = Math.max(start + 1, ...attempts.map((a) => Date.parse(a.ended_at ?? new Date().toISOString())));
  const at = (iso: string) => `${(((Date.parse(iso) - start) / (end - start)) * 100).toFixed(2)}%`;
  const steps = [...new Set(attempts.map((a) => a.step))];
  return (
    <div class="timeline" role="list" aria-label="attempts over time">
      {steps.map((id) => (
        <div class="lane" role="listitem" key={id}>
          <span class="lane-id">{id}</span>
          <span class="lane-bars">
            {attempts
              .filter((a) => a.step === id)
              .map((a) => {
                const left = at(a.started_at);
                const right = at(a.ended_at ?? new Date(end).toISOString());
                const width = `max(2px, calc(${right} - ${left}))`;
                const what = `${a.attempt === 0 ? 'items' : `attempt ${a.attempt}`}: ${a.status}, ${duration(a.duration_ms)}${a.delay_ms ? `, then ${duration(a.delay_ms)} before the next` : ''}`;
                return <span key={a.attempt} role="img" class={`bar ${a.status}`} style={{ left, width }} title={what} aria-label={what} />;
              })}
          </span>
        </div>
      ))}
    </div>
  );
}

function StepPanel({
  runId,
  step,
  prompt,
  revision,
  rerun,
}: {
  runId: string;
  step: StepView;
  prompt: string | null;
  revision: number;
  rerun: ((from: string) => void) | undefined;
}) {
  const logs = useSignal<string | null>(null);
  const find = useSignal('');
  useEffect(() => {
    void api<{ chunks: { stream: string; text: string }[] }>(`/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step.id)}/logs`).then(
      (l) => {
        logs.value = l.chunks.map((c) => c.text).join('');
      },
      () => {
        logs.value = '';
      },
    );
  }, [runId, step.id, revision]);
  const output = step.output as { model?: string; text?: string; usage?: unknown } | null;
  const lines = (logs.value ?? '').split('\n').filter((l) => !find.value || plainText(l).includes(find.value));
  return (
    <section class="panel" aria-label={`step ${step.id}`}>
      <h2>
        Step <code>{step.id}</code>
      </h2>
      {rerun ? (
        <p>
          <button type="button" onClick={() => rerun(step.id)}>
            Re-run from this step
          </button>{' '}
          <code class="cli">
            flow resume {runId} --from {step.id}
          </code>
        </p>
      ) : null}
      {step.ai ? (
        <div class="ai">
          <h3>AI call</h3>
          <p>
            model {step.ai.models.join(', ')} · {spend(step.ai)}
          </p>
          {prompt ? (
            <>
              <h4>Prompt</h4>
              <pre class="prompt">{prompt}</pre>
            </>
          ) : null}
          {output?.text ? (
            <>
              <h4>Response</h4>
              <pre class="response">{output.text}</pre>
            </>
          ) : null}
        </div>
      ) : null}
      <h3>Output</h3>
      <label>
        Find in output <input type="search" value={find.value} onInput={(e) => (find.value = (e.target as HTMLInputElement).value)} />
      </label>
      <pre class="logs">{logs.value === null ? 'Loading…' : lines.length > 0 && lines.join('') ? <AnsiText text={lines.join('\n')} /> : '(no output)'}</pre>
      <a download={`${runId}-${step.id}.log`} href={`data:text/plain;charset=utf-8,${encodeURIComponent(plainText(logs.value ?? ''))}`}>
        Download the output
      </a>
    </section>
  );
}

function findNode(nodes: readonly PlanNode[], id: string): PlanNode | undefined {
  for (const n of nodes) {
    if (n.id === id) return n;
    const inside = findNode(n.children, id);
    if (inside) return inside;
  }
  return undefined;
}
