import { render } from 'preact';
import { saved } from './api.js';
import { ComparePage } from './pages/compare.js';
import { RunPage } from './pages/run.js';
import { RunsPage } from './pages/runs.js';
import { WorkflowPage, WorkflowsPage } from './pages/workflows.js';
import { location, navigate, onLinkClick } from './router.js';

// The dashboard of `flow ui`: pages over the API, each at a URL of its own under /ui.
function App() {
  const path = location.value.pathname;
  const page = pageFor(path);
  const current = path.startsWith('/ui/workflows') ? 'workflows' : 'runs';
  return (
    <div onClick={onLinkClick}>
      <header>
        {saved ? (
          <strong>flow: run {saved.run.id}, as saved</strong>
        ) : (
          <nav aria-label="Main">
            <strong>flow</strong>
            <a href="/ui/runs" aria-current={current === 'runs' ? 'page' : undefined}>
              Runs
            </a>
            <a href="/ui/workflows" aria-current={current === 'workflows' ? 'page' : undefined}>
              Workflows
            </a>
          </nav>
        )}
      </header>
      <main>{page}</main>
    </div>
  );
}

function pageFor(path: string) {
  if (saved) return <RunPage id={saved.run.id} />;
  if (path === '/ui/compare') {
    const q = location.value.searchParams;
    return <ComparePage a={q.get('a') ?? ''} b={q.get('b') ?? ''} />;
  }
  const run = /^\/ui\/runs\/([^/]+)$/.exec(path);
  if (run) return <RunPage id={decodeURIComponent(run[1]!)} />;
  const workflow = /^\/ui\/workflows\/(.+)$/.exec(path);
  if (workflow) return <WorkflowPage path={workflow[1]!} />;
  if (path.startsWith('/ui/workflows')) return <WorkflowsPage />;
  return <RunsPage />;
}

if (!saved && !location.value.pathname.startsWith('/ui/')) navigate('/ui/runs', true);
render(<App />, document.getElementById('app')!);
