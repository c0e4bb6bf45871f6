import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, type RunDetail } from '../api.js';
import { duration } from '../format.js';

// Two runs side by side: what they were given, what they gave, whether they ran the same text, and each step's
// status and duration in both.
export function ComparePage({ a, b }: { a: string; b: string }) {
  const runs = useSignal<[RunDetail, RunDetail] | null>(null);
  const failure = useSignal<string | null>(null);
  useEffect(() => {
    Promise.all([api<RunDetail>(`/runs/${encodeURIComponent(a)}`), api<RunDetail>(`/runs/${encodeURIComponent(b)}`)]).then(
      (both) => {
        runs.value = both;
      },
      (err: Error) => {
        failure.value = err.message;
      },
    );
  }, [a, b]);
  if (!runs.value) return <p>{failure.value ?? 'Loading…'}</p>;
  const [x, y] = runs.value;
  const values = (name: string, left: Record<string, unknown> | null, right: Record<string, unknown> | null) => {
    const keys = [...new Set([...Object.keys(left ?? {}), ...Object.keys(right ?? {})])].sort();
    return (
      <>
        <h2>{name}</h2>
        {keys.length === 0 ? (
          <p>none</p>
        ) : (
          <table class="compare">
            <thead>
              <tr>
                <th scope="col">{name === 'Inputs' ? 'Input' : 'Output'}</th>
                <th scope="col">{x.id}</th>
                <th scope="col">{y.id}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => {
                const l = JSON.stringify(left?.[k] ?? null);
                const r = JSON.stringify(right?.[k] ?? null);
                return (
                  <tr key={k} class={l === r ? '' : 'differs'}>
                    <td>{k}</td>
                    <td>{l}</td>
                    <td>{r}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </>
    );
  };
  const stepIds = [...new Set([...x.steps.map((s) => s.id), ...y.steps.map((s) => s.id)])];
  const stepOf = (run: RunDetail, id: string) => run.steps.find((s) => s.id === id);
  return (
    <section>
      <h1>Compare runs</h1>
      <p>
        <a href={`/ui/runs/${x.id}`}>{x.id}</a> ({x.status}) and <a href={`/ui/runs/${y.id}`}>{y.id}</a> ({y.status}):{' '}
        {x.definition_hash === y.definition_hash ? 'the same workflow text' : 'different workflow texts'}
      </p>
      {values('Inputs', x.inputs, y.inputs)}
      {values('Outputs', x.outputs, y.outputs)}
      <h2>Steps</h2>
      <table class="compare">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">{x.id}</th>
            <th scope="col">{y.id}</th>
          </tr>
        </thead>
        <tbody>
          {stepIds.map((id) => {
            const l = stepOf(x, id);
            const r = stepOf(y, id);
            return (
              <tr key={id} data-step={id}>
                <td>{id}</td>
                <td>{l ? `${l.status}, ${duration(l.duration_ms)}` : '–'}</td>
                <td>{r ? `${r.status}, ${duration(r.duration_ms)}` : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
