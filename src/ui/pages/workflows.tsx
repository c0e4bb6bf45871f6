import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, type CheckedWorkflow, type InputField } from '../api.js';
import { PlanGraph } from '../graph.js';
import { navigate } from '../router.js';

interface WorkflowFile {
  path: string;
  name: string | null;
  valid: boolean;
  errors: number;
  warnings: number;
}

export function WorkflowsPage() {
  const files = useSignal<WorkflowFile[] | null>(null);
  useEffect(() => {
    void api<{ workflows: WorkflowFile[] }>('/workflows').then((w) => {
      files.value = w.workflows;
    });
  }, []);
  return (
    <section>
      <h1>Workflows</h1>
      {files.value === null ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Name</th>
              <th scope="col">Problems</th>
            </tr>
          </thead>
          <tbody>
            {files.value.map((f) => (
              <tr key={f.path}>
                <td>
                  <a href={`/ui/workflows/${f.path}`}>{f.path}</a>
                </td>
                <td>{f.name ?? '–'}</td>
                <td class={f.valid ? 'valid' : 'invalid'}>{f.valid ? (f.warnings ? `${f.warnings} warnings` : 'valid') : `${f.errors} errors`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

// One file: its problems at line and column, its plan, and a form built from its inputs that starts a run.
export function WorkflowPage({ path }: { path: string }) {
  const checked = useSignal<CheckedWorkflow | null>(null);
  const failure = useSignal<string | null>(null);
  useEffect(() => {
    void api<CheckedWorkflow>(`/workflows/${path}`).then(
      (w) => {
        checked.value = w;
      },
      (err: Error) => {
        failure.value = err.message;
      },
    );
  }, [path]);
  const w = checked.value;
  if (!w) return <p>{failure.value ?? 'Loading…'}</p>;
  const start = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const inputs: Record<string, unknown> = {};
    for (const input of w.inputs) {
      const value = valueOf(input, form.get(input.name));
      if (value !== undefined) inputs[input.name] = value;
    }
    try {
      const { id } = await api<{ id: string }>('/runs', { method: 'POST', body: { workflow: w.path, inputs } });
      navigate(`/ui/runs/${id}`);
    } catch (err) {
      failure.value = (err as Error).message;
    }
  };
  return (
    <section>
      <h1>
        Workflow <code>{w.path}</code>
      </h1>
      {w.diagnostics.length > 0 ? (
        <ul class="diagnostics">
          {w.diagnostics.map((d) => (
            <li key={`${d.line}:${d.column}:${d.code}`} class={d.severity}>
              {`${w.path}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`}
              {d.hint ? <small> ({d.hint})</small> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {w.graph ? <PlanGraph nodes={w.graph.steps} /> : null}
      {w.valid ? (
        <form class="run-form" onSubmit={start}>
          {w.inputs.map((input) => (
            <InputControl key={input.name} input={input} />
          ))}
          <button type="submit">Run</button>
          <code class="cli">flow run {w.path}</code>
        </form>
      ) : null}
      {failure.value ? <p role="alert">{failure.value}</p> : null}
    </section>
  );
}

function InputControl({ input }: { input: InputField }) {
  const id = `input-${input.name}`;
  const initial = input.default === null || input.default === undefined ? '' : String(input.default);
  const control = input.enum ? (
    <select id={id} name={input.name} required={input.required}>
      {input.enum.map((v) => (
        <option key={String(v)} value={String(v)} selected={String(v) === initial}>
          {String(v)}
        </option>
      ))}
    </select>
  ) : input.type === 'boolean' ? (
    <input id={id} name={input.name} type="checkbox" checked={input.default === true} />
  ) : input.secret ? (
    <input id={id} name={input.name} type="password" required={input.required} value={initial} />
  ) : input.type === 'number' || input.type === 'integer' ? (
    <input id={id} name={input.name} type="number" step={input.type === 'number' ? 'any' : '1'} required={input.required} value={initial} />
  ) : (
    <input id={id} name={input.name} type="text" required={input.required} value={initial} />
  );
  return (
    <div class="field">
      <label for={id}>{input.name}</label> {control}
      {input.description ? <small>{input.description}</small> : null}
    </div>
  );
}

function valueOf(input: InputField, raw: FormDataEntryValue | null): unknown {
  if (input.type === 'boolean') return raw !== null;
  if (raw === null || raw === '') return undefined;
  const text = String(raw);
  if (input.type === 'number' || input.type === 'integer') return Number(text);
  if (input.type === 'object' || input.type === 'array') {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
