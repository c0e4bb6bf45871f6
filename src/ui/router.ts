import { signal } from '@preact/signals';

// Each page has a URL of its own (/ui/runs?status=failed, /ui/runs/ID, /ui/workflows/PATH): links move through the
// history, so Back returns to the page as it was, filters included.

export const location = signal(new URL(window.location.href));

/** A saved page (flow show --html) is one file: moving within it changes only its query. */
const onePage = (window as unknown as { __FLOW_RUN__?: unknown }).__FLOW_RUN__ !== undefined;

export function navigate(to: string, replace = false): void {
  if (onePage) to = `${window.location.pathname}${new URL(to, 'http://page').search}`;
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  location.value = new URL(window.location.href);
}

window.addEventListener('popstate', () => {
  location.value = new URL(window.location.href);
});

/** Clicks on in-app links move through the history instead of loading a page. */
export function onLinkClick(event: MouseEvent): void {
  const a = (event.target as Element).closest('a');
  if (
    !a ||
    (a.origin !== window.location.origin && !onePage) ||
    a.hasAttribute('download') ||
    event.ctrlKey ||
    event.metaKey ||
    event.shiftKey ||
    a.target
  )
    return;
  event.preventDefault();
  navigate(a.pathname + a.search);
}
