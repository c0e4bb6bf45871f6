import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, type RunSummary } from '../api.js';
import { duration, when } from '../format.js';
import { reloadOnEvents } from '../live.js';
import { location, navigate } from '../router.js';

const STATUSES = ['', 'running', 'succeeded', 'failed', 'interrupted'];
const COLUMNS: [keyof RunSummary, string][] = [
  ['id', 'Run'],
  ['status', 'Status'],
  ['workflow', 'Workflow'],
  ['started_at', 'Started'],
  ['duration_ms', 'Duration'],
  ['attempt', 'Attempts'],
];

// The runs, newest first, filtered and sorted as the URL says; a run started anywhere appears on its own (the
// server's event stream says when one starts or ends).
export function RunsPage() {
  const query = location.value.searchParams;
  const status = query.get('status') ?? '';
  const text = query.get('text') ?? '';
  const sort = (query.get('sort') ?? '') as keyof RunSummary | '';
  const runs = useSignal<RunSummary[] | null>(null);
  const failure = useSignal<string | null>(null);

  useEffect(() => {
    let stale = false;
    const params = new URLSearchParams({ limit: '200', ...(status ? { status } : {}), ...(text ? { text } : {}) });
    const load = () =>
      api<{ runs: RunSummary[] }>(`/runs?${params}`).then(
        (r) => {
          if (!stale) runs.value = r.runs;
        },
        (err: Error) => {
          failure.value = err.message;
        },
      );
    void load();
    const stop = reloadOnEvents('/api/v1/events', load, { matters: (type) => type === 'run-started' || type === 'run-finished' });
    return () => {
      stale = true;
      stop();
    };
  }, [status, text]);

  const setQuery = (name: string, value: string) => {
    const next = new URLSearchParams(location.value.search);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(`/ui/runs${next.size ? `?${next}` : ''}`, true);
  };
  const shown = [...(runs.value ?? [])];
  if (sort) shown.sort((a, b) => String(a[sort] ?? '').localeCompare(String(b[sort] ?? ''), 'en', { numeric: true }));

  return (
    <section>
      <h1>Runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setQuery('status', (e.target as HTMLSelectElement).value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search{' '}
          <input type="search" value={text} onInput={(e) => setQuery('text', (e.target as HTMLInputElement).value)} />
        </label>
      </form>
      {failure.value ? <p role="alert">{failure.value}</p> : null}
      {runs.value === null ? (
        <p>Loading…</p>
      ) : runs.value.length === 0 ? (
        <p>No runs recorded{status || text ? ' that match' : ''}.</p>
      ) : (
        <table class="runs">
          <thead>
            <tr>
              {COLUMNS.map(([key, title]) => (
                <th key={key} scope="col" aria-sort={sort === key ? 'ascending' : 'none'}>
                  <button type="button" class="sort" onClick={() => setQuery('sort', sort === key ? '' : key)}>
                    {title}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id} class={r.status}>
                <td>
                  <a href={`/ui/runs/${r.id}`}>{r.id}</a>
                </td>
                <td>
                  <span class={`status ${r.status}`}>{r.status}</span>
                </td>
                <td>{r.workflow}</td>
                <td>{when(r.started_at)}</td>
                <td>{duration(r.duration_ms)}</td>
                <td>{r.attempt}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
