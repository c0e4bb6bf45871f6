import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, type CheckedWorkflow } from '../api.js';
import { formInputs, InputFields } from '../input-fields.js';
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
    const inputs = formInputs(w.inputs, event.target as HTMLFormElement);
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
          <InputFields inputs={w.inputs} />
          <button type="submit">Run</button>
          <code class="cli">flow run {w.path}</code>
        </form>
      ) : null}
      {failure.value ? <p role="alert">{failure.value}</p> : null}
    </section>
  );
}
