/**
 * Follows one of the server's event streams: `reload` runs 100 ms after the last of a burst of events that
 * `matters`, so a busy run is fetched a few times a second, not once per event. Returns the way to stop.
 */
export function reloadOnEvents(
  url: string,
  reload: () => void,
  options: { matters?: (type: string) => boolean; snapshot?: (data: string) => void } = {},
): () => void {
  // A saved page has no server to follow: what it holds is read once.
  if ((window as unknown as { __FLOW_RUN__?: unknown }).__FLOW_RUN__) {
    reload();
    return () => {};
  }
  let timer: number | undefined;
  const events = new EventSource(url);
  if (options.snapshot) events.addEventListener('snapshot', (m) => options.snapshot!((m as MessageEvent<string>).data));
  events.onmessage = (m) => {
    if (options.matters && !options.matters((JSON.parse(m.data) as { type: string }).type)) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(reload, 100);
  };
  return () => {
    events.close();
    window.clearTimeout(timer);
  };
}
