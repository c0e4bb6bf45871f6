import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { api, type RunSummary } from '../api.js';
import { duration, when } from '../format.js';
import { reloadOnEvents } from '../live.js';
import { location, navigate } from '../router.js';

const STATUSES = ['', 'running', 'succeeded', 'failed', 'interrupted'];
type SortKey = keyof RunSummary | 'tokens' | 'cost';
const COLUMNS: [SortKey, string][] = [
  ['id', 'Run'],
  ['status', 'Status'],
  ['workflow', 'Workflow'],
  ['started_at', 'Started'],
  ['duration_ms', 'Duration'],
  ['attempt', 'Attempts'],
  ['tokens', 'AI tokens'],
  ['cost', 'AI cost'],
];

const tokensOf = (r: RunSummary) => (r.ai ? r.ai.prompt_tokens + r.ai.completion_tokens : 0);
function sortValue(r: RunSummary, key: SortKey): string | number {
  if (key === 'tokens') return tokensOf(r);
  if (key === 'cost') return r.ai?.cost_usd ?? -1;
  const v = r[key];
  return typeof v === 'number' ? v : String(v ?? '');
}

// The runs, newest first, filtered and sorted as the URL says; a run started anywhere appears on its own (the
// server's event stream says when one starts or ends).
export function RunsPage() {
  const query = location.value.searchParams;
  const status = query.get('status') ?? '';
  const text = query.get('text') ?? '';
  const sort = (query.get('sort') ?? '') as SortKey | '';
  const runs = useSignal<RunSummary[] | null>(null);
  const picked = useSignal<string[]>([]);
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
  if (sort)
    shown.sort((a, b) => {
      const x = sortValue(a, sort);
      const y = sortValue(b, sort);
      return typeof x === 'number' && typeof y === 'number' ? y - x : String(x).localeCompare(String(y), 'en', { numeric: true });
    });

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
      {picked.value.length === 2 ? (
        <p>
          <a href={`/ui/compare?a=${picked.value[0]}&b=${picked.value[1]}`}>Compare the two runs</a>
        </p>
      ) : null}
      {runs.value === null ? (
        <p>Loading…</p>
      ) : runs.value.length === 0 ? (
        <p>No runs recorded{status || text ? ' that match' : ''}.</p>
      ) : (
        <table class="runs">
          <thead>
            <tr>
              <th scope="col">Pick</th>
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
                  <input
                    type="checkbox"
                    aria-label={`Compare ${r.id}`}
                    checked={picked.value.includes(r.id)}
                    onChange={(e) => {
                      const on = (e.target as HTMLInputElement).checked;
                      picked.value = on ? [...picked.value, r.id].slice(-2) : picked.value.filter((id) => id !== r.id);
                    }}
                  />
                </td>
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
                <td>{r.ai ? tokensOf(r).toLocaleString('en-US') : ''}</td>
                <td>{r.ai ? (r.ai.cost_usd === null ? 'unknown' : `$${Number(r.ai.cost_usd.toPrecision(3))}`) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
